//! A process-wide cache of `f32` buffers, so that a training or
//! activation-maximisation loop reuses the memory of the previous step.
//!
//! Every step of a loop builds the same tensors again: activations, gradients,
//! im2col scratch. Freeing them returns large blocks to the operating system,
//! and allocating them again maps fresh pages, each of which costs a page
//! fault on its first write (about 2 µs per 4 KiB page on a virtual machine:
//! for R-VGG at batch 40, tens of milliseconds per step). A [`Tensor`] hands its
//! buffer to this pool when it is dropped, and the ops take their output and
//! scratch buffers from it, so after the first step a loop runs on memory it
//! has already touched.
//!
//! The pool keeps only buffers of at least [`MIN_POOLED`] elements (smaller
//! ones are cheap for the allocator), serves a request from the smallest
//! cached buffer that holds it and is at most twice its size, and holds at most
//! [`limit`] bytes in all ([`set_limit`] changes it; 0 turns the pool off).
//! What it returns is always initialised memory: [`zeros`] writes zeros,
//! [`with_capacity`] is empty, and [`overwritten`] keeps whatever values the
//! buffer last held, for outputs that a kernel writes in full (the
//! convolution kernels overwrite their outputs, so zeroing them first would be
//! a wasted pass over memory).
//!
//! [`Tensor`]: crate::Tensor

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Buffers with fewer elements than this (64 KiB of `f32`) are not cached.
pub const MIN_POOLED: usize = 1 << 14;
/// The default bound on the bytes held by the pool (1 GiB).
pub const DEFAULT_LIMIT: usize = 1 << 30;

struct Pool<T> {
    /// Cached buffers (holding their last values), in the order they were returned.
    free: Vec<Vec<T>>,
    /// Bytes held by `free`.
    bytes: usize,
}

static POOL: Mutex<Pool<f32>> = Mutex::new(Pool { free: Vec::new(), bytes: 0 });
/// `u32` buffers (max-pool switches), under the same bound as the `f32` ones
/// but counted apart.
static POOL_U32: Mutex<Pool<u32>> = Mutex::new(Pool { free: Vec::new(), bytes: 0 });
static LIMIT: AtomicUsize = AtomicUsize::new(DEFAULT_LIMIT);

fn bytes_of<T>(v: &Vec<T>) -> usize {
    v.capacity() * std::mem::size_of::<T>()
}

fn lock() -> std::sync::MutexGuard<'static, Pool<f32>> {
    lock_of(&POOL)
}

fn lock_of<T>(pool: &'static Mutex<Pool<T>>) -> std::sync::MutexGuard<'static, Pool<T>> {
    // A panic while the lock was held cannot leave the list inconsistent
    // (every update is a single push or swap_remove), so a poisoned lock is
    // still usable.
    pool.lock().unwrap_or_else(|e| e.into_inner())
}

/// An empty buffer that can hold `n` elements without reallocating, reusing a
/// cached one where possible.
pub fn with_capacity(n: usize) -> Vec<f32> {
    let mut v = cached(n);
    v.clear();
    v
}

/// `n` elements whose values are unspecified (those a reused buffer last
/// held, zeros beyond them): for an output the caller overwrites in full.
pub fn overwritten(n: usize) -> Vec<f32> {
    let mut v = cached(n);
    if v.len() >= n {
        v.truncate(n);
    } else {
        v.resize(n, 0.0);
    }
    v
}

/// `n` `u32`s whose values are unspecified, in a reused buffer where
/// possible (max-pool switches, which the kernel writes in full).
pub fn overwritten_u32(n: usize) -> Vec<u32> {
    let mut v = cached_in(&POOL_U32, n);
    if v.len() >= n {
        v.truncate(n);
    } else {
        v.resize(n, 0);
    }
    v
}

/// Hands a `u32` buffer back for reuse (as [`give`]).
pub fn give_u32(v: Vec<u32>) {
    give_to(&POOL_U32, v);
}

/// A cached buffer with capacity for `n` (any length), or a new empty one.
fn cached(n: usize) -> Vec<f32> {
    cached_in(&POOL, n)
}

fn cached_in<T>(pool: &'static Mutex<Pool<T>>, n: usize) -> Vec<T> {
    if n >= MIN_POOLED {
        let mut p = lock_of(pool);
        let best = p
            .free
            .iter()
            .enumerate()
            .filter(|(_, v)| v.capacity() >= n && v.capacity() <= 2 * n)
            .min_by_key(|(_, v)| v.capacity())
            .map(|(i, _)| i);
        if let Some(i) = best {
            let v = p.free.swap_remove(i);
            p.bytes -= bytes_of(&v);
            return v;
        }
    }
    Vec::with_capacity(n)
}

/// `n` zeros in a reused buffer where possible.
pub fn zeros(n: usize) -> Vec<f32> {
    let mut v = with_capacity(n);
    v.resize(n, 0.0);
    v
}

/// Collects `n` values into a reused buffer where possible.
pub fn collect(n: usize, values: impl Iterator<Item = f32>) -> Vec<f32> {
    let mut v = with_capacity(n);
    v.extend(values);
    v
}

/// Hands a buffer back for reuse (dropped instead when it is small or the
/// pool is full: the oldest buffers go first).
pub fn give(v: Vec<f32>) {
    give_to(&POOL, v);
}

fn give_to<T>(pool: &'static Mutex<Pool<T>>, v: Vec<T>) {
    let limit = LIMIT.load(Ordering::Relaxed);
    let size = bytes_of(&v);
    if v.capacity() < MIN_POOLED || size > limit {
        return;
    }
    let mut p = lock_of(pool);
    while p.bytes + size > limit && !p.free.is_empty() {
        let old = p.free.remove(0);
        p.bytes -= bytes_of(&old);
    }
    p.bytes += size;
    p.free.push(v);
}

/// The bound on the bytes the pool holds.
pub fn limit() -> usize {
    LIMIT.load(Ordering::Relaxed)
}

/// Sets the bound on the bytes the pool holds (0 turns caching off) and
/// releases what exceeds it.
pub fn set_limit(bytes: usize) {
    LIMIT.store(bytes, Ordering::Relaxed);
    trim(&POOL, bytes);
    trim(&POOL_U32, bytes);
}

fn trim<T>(pool: &'static Mutex<Pool<T>>, bytes: usize) {
    let mut p = lock_of(pool);
    while p.bytes > bytes && !p.free.is_empty() {
        let old = p.free.remove(0);
        p.bytes -= bytes_of(&old);
    }
}

/// Releases every cached buffer to the allocator.
pub fn clear() {
    trim(&POOL, 0);
    trim(&POOL_U32, 0);
}

/// Bytes currently cached.
pub fn cached_bytes() -> usize {
    lock().bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pool is process-wide and tests run in parallel, so each test only
    /// checks what no other test can change: what a buffer it was handed holds.
    #[test]
    fn zeros_are_zero_even_in_a_reused_buffer() {
        let n = MIN_POOLED * 3 + 5;
        let mut v = zeros(n);
        v.iter_mut().for_each(|x| *x = f32::NAN);
        give(v);
        let w = zeros(n);
        assert_eq!(w.len(), n);
        assert!(w.iter().all(|&x| x == 0.0));
    }

    #[test]
    fn with_capacity_is_empty_and_large_enough() {
        let n = MIN_POOLED * 2 + 1;
        give(vec![7.0; n + 10]);
        let v = with_capacity(n);
        assert!(v.is_empty());
        assert!(v.capacity() >= n);
        let c = collect(n, (0..n).map(|i| i as f32));
        assert_eq!(c.len(), n);
        assert_eq!(c[n - 1], (n - 1) as f32);
    }

    #[test]
    fn a_returned_buffer_is_reused_for_a_request_it_fits() {
        // A size no other test uses, so the match is this test's own buffer.
        let n = MIN_POOLED * 7 + 3;
        let v = zeros(n);
        let ptr = v.as_ptr();
        give(v);
        let w = zeros(n - 100);
        assert_eq!(w.as_ptr(), ptr, "the cached buffer was not reused");
        // Far too large for the request: not handed out for it.
        give(w);
        let small = with_capacity(n / 3);
        assert_ne!(small.as_ptr(), ptr);
    }

    #[test]
    fn overwritten_has_the_requested_length_in_a_new_or_reused_buffer() {
        let n = MIN_POOLED * 5 + 11;
        let fresh = overwritten(n);
        assert_eq!(fresh.len(), n);
        give(fresh);
        // Reused for a shorter request: truncated, never longer than asked.
        let again = overwritten(n - 10);
        assert_eq!(again.len(), n - 10);
        // And a longer one than the buffer held grows with zeros.
        give(again);
        let longer = overwritten(n + 10);
        assert_eq!(longer.len(), n + 10);
        assert!(longer[n - 10..].iter().all(|&v| v == 0.0));
    }

    #[test]
    fn a_returned_u32_buffer_is_reused_and_has_the_requested_length() {
        let n = MIN_POOLED * 9 + 7;
        let v = overwritten_u32(n);
        assert_eq!(v.len(), n);
        let ptr = v.as_ptr();
        give_u32(v);
        let w = overwritten_u32(n - 3);
        assert_eq!((w.as_ptr(), w.len()), (ptr, n - 3), "the cached u32 buffer was not reused");
    }

    #[test]
    fn small_buffers_are_not_cached() {
        let before = cached_bytes();
        give(vec![1.0; 100]);
        // Another test may add or take its own buffers meanwhile, but never
        // one of 100 elements.
        assert!(lock().free.iter().all(|v| v.capacity() >= MIN_POOLED), "cached {before}");
    }
}

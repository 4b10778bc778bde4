//! Every use of rayon in the kernels, in one place.
//!
//! The kernels split work into a fixed number of contiguous chunks (never
//! more than [`threads`]) and hand each chunk, together with its own slice of
//! the caller's scratch, to one task. Chunk boundaries depend only on the
//! sizes and the thread count, never on scheduling, so results that reduce
//! over chunks are deterministic for a given thread count.
//!
//! matrixmultiply's own threading is compiled out (the workspace dependency
//! has `default-features = false`), so thread pools never stack: the only
//! pool is rayon's, and the pool the caller runs in (`ThreadPool::install`)
//! decides how many threads the kernels use.

use rayon::prelude::*;

/// Threads the kernels split their work over when called from here: those of
/// the rayon pool the caller is running in (outside any `install`, the global
/// pool: one per core unless `RAYON_NUM_THREADS` says otherwise).
pub fn threads() -> usize {
    rayon::current_num_threads().max(1)
}

/// Calls `f(i, a_i, b_i)` on the `i`-th `a_chunk`-sized chunk of `a` zipped
/// with the `i`-th `b_chunk`-sized chunk of `b`, in parallel. Stops at the
/// shorter of the two chunk sequences. One chunk runs inline.
pub(crate) fn zip_chunks_mut<A, B, F>(a: &mut [A], a_chunk: usize, b: &mut [B], b_chunk: usize, f: F)
where
    A: Send,
    B: Send,
    F: Fn(usize, &mut [A], &mut [B]) + Sync + Send,
{
    assert!(a_chunk > 0 && b_chunk > 0, "par::zip_chunks_mut: zero chunk size");
    if a.len() <= a_chunk {
        let b_len = b.len().min(b_chunk);
        f(0, a, &mut b[..b_len]);
        return;
    }
    a.par_chunks_mut(a_chunk)
        .zip(b.par_chunks_mut(b_chunk))
        .enumerate()
        .for_each(|(i, (ai, bi))| f(i, ai, bi));
}

/// Calls `f(i, a_i)` on the `i`-th `chunk`-sized chunk of `a`, in parallel.
/// One chunk runs inline.
pub(crate) fn chunks_mut<A, F>(a: &mut [A], chunk: usize, f: F)
where
    A: Send,
    F: Fn(usize, &mut [A]) + Sync + Send,
{
    assert!(chunk > 0, "par::chunks_mut: zero chunk size");
    if a.len() <= chunk {
        f(0, a);
        return;
    }
    a.par_chunks_mut(chunk).enumerate().for_each(|(i, ai)| f(i, ai));
}

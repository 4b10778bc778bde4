//! Tiled im2col: the column matrix built a few output rows at a time, each
//! tile consumed by the product while it is still in cache. Serves every
//! forward the padded read does not (strides above 1, groups, the portable
//! kernel set) and every weight gradient.
//!
//! A tile holds [`Conv2dGeom::tile_rows`] output rows (512 KiB of column
//! matrix, so im2col's output is still in L2 when the product reads it):
//! `c_in * k_h * k_w` rows of `tn = rows * w_out` columns. `y`/`gy` are then
//! strided views, row stride `h_out * w_out`, starting at column
//! `j0 = oh0 * w_out`.
//!
//! - forward: `y_g[:, tile] = W_g cols_g` onto `y` pre-filled with the bias
//!   (`beta = 1`), [`KernelSet::gemm_nn`];
//! - backward-weight: `gw_g += gy_g[:, tile] cols_g^T` ([`KernelSet::gemm_nt`]),
//!   or, where the policy says so ([`KernelSet::weight_grad_transposed`]),
//!   `gw^T += cols gy[:, tile]^T` with the tile's `gy` transposed into the
//!   scratch ([`KernelSet::gemm_nn`]); `gb += row sums of gy`.

use super::{
    batch_workers, groups_of_rows, input_row, relu_of, rows_per_task, split_inside_samples, valid_range,
    Dims, Tile,
};
use crate::kernels::geom::Conv2dGeom;
use crate::kernels::par;
use crate::kernels::products::KernelSet;

/// im2col of the output rows of `t` for the channels held in `x` (whole
/// `h x w` planes) into `cols` (`kk` rows of `t.tn` per channel). Every
/// element of `cols` is written.
fn im2col(g: &Conv2dGeom, d: &Dims, t: Tile, x: &[f32], cols: &mut [f32]) {
    let w_out = g.w_out();
    for (plane, rows) in x.chunks_exact(d.hw).zip(cols.chunks_exact_mut(d.kk * t.tn)) {
        for kh in 0..g.k_h {
            for kw in 0..g.k_w {
                let row = &mut rows[(kh * g.k_w + kw) * t.tn..][..t.tn];
                let (lo, hi) = valid_range(kw, g.stride_w, g.pad_w, g.w, w_out);
                for (oh, out) in (t.oh0..t.oh1).zip(row.chunks_exact_mut(w_out)) {
                    let Some(ih) = input_row(g, oh, kh) else {
                        out.fill(0.0);
                        continue;
                    };
                    let src = &plane[ih * g.w..][..g.w];
                    out[..lo].fill(0.0);
                    out[hi..].fill(0.0);
                    if lo < hi {
                        // Input column of output column lo; columns lo..hi are all inside.
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

/// im2col of tile `t` of one sample, split over input channels.
fn im2col_par(g: &Conv2dGeom, d: &Dims, t: Tile, x_s: &[f32], cols: &mut [f32]) {
    let cpt = rows_per_task(g.c_in);
    par::chunks_mut(cols, cpt * d.kk * t.tn, |i, chunk| im2col(g, d, t, &x_s[i * cpt * d.hw..], chunk));
}

/// ReLU in place on columns `j0..j0 + tn` of every row (of length `row`) of `y`.
fn relu_tile(y: &mut [f32], row: usize, j0: usize, tn: usize) {
    for r in y.chunks_exact_mut(row) {
        for v in &mut r[j0..j0 + tn] {
            *v = relu_of(*v);
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

/// Forward, tile `t`, output channels `[r0, r0 + rows)`: `y_rows` holds those
/// whole rows of one sample's `y`, `cols` the tile's column matrix.
fn forward_rows(
    ks: KernelSet,
    d: &Dims,
    t: Tile,
    w: &[f32],
    b: Option<&[f32]>,
    cols: &[f32],
    r0: usize,
    y_rows: &mut [f32],
) {
    let r1 = r0 + y_rows.len() / d.hw_out;
    let beta = match b {
        Some(b) => {
            for (row, &bv) in y_rows.chunks_exact_mut(d.hw_out).zip(&b[r0..r1]) {
                row[t.j0..t.j0 + t.tn].fill(bv);
            }
            1.0
        }
        None => 0.0,
    };
    for (grp, a0, a1) in groups_of_rows(r0, r1, d.cog) {
        ks.gemm_nn(
            a1 - a0,
            d.kg,
            t.tn,
            &w[a0 * d.kg..],
            d.kg,
            &cols[grp * d.kg * t.tn..],
            t.tn,
            beta,
            &mut y_rows[(a0 - r0) * d.hw_out + t.j0..],
            d.hw_out,
        );
    }
}

/// Forward convolution by tiled im2col: `y = conv(x, w) + b` (then the ReLU
/// when `relu`), overwriting `y`. Buffers are checked by the caller;
/// `scratch` holds at least [`Conv2dGeom::cols_tile_len`] `f32`s.
pub(super) fn forward(
    ks: KernelSet,
    g: &Conv2dGeom,
    x: &[f32],
    w: &[f32],
    b: Option<&[f32]>,
    y: &mut [f32],
    scratch: &mut [f32],
    relu: bool,
) {
    let d = Dims::new(g);
    let need = g.cols_tile_len();
    if split_inside_samples(g) {
        let cols = &mut scratch[..need];
        let rpt = rows_per_task(g.c_out);
        for (x_s, y_s) in x.chunks_exact(d.x_ps).zip(y.chunks_exact_mut(d.y_ps)) {
            for t in d.tiles(g).map(|r| Tile::new(g, r)) {
                let cols = &mut cols[..g.c_in * d.kk * t.tn];
                im2col_par(g, &d, t, x_s, cols);
                let cols = &*cols;
                par::chunks_mut(y_s, rpt * d.hw_out, |i, y_rows| {
                    forward_rows(ks, &d, t, w, b, cols, i * rpt, y_rows);
                    if relu {
                        relu_tile(y_rows, d.hw_out, t.j0, t.tn);
                    }
                });
            }
        }
        return;
    }
    let spw = g.n.div_ceil(batch_workers(g, scratch.len(), need));
    par::zip_chunks_mut(y, spw * d.y_ps, scratch, need, |blk, y_blk, cols| {
        for (i, y_s) in y_blk.chunks_exact_mut(d.y_ps).enumerate() {
            let x_s = &x[(blk * spw + i) * d.x_ps..][..d.x_ps];
            for t in d.tiles(g).map(|r| Tile::new(g, r)) {
                let cols = &mut cols[..g.c_in * d.kk * t.tn];
                im2col(g, &d, t, x_s, cols);
                forward_rows(ks, &d, t, w, b, cols, 0, y_s);
                if relu {
                    relu_tile(y_s, d.hw_out, t.j0, t.tn);
                }
            }
        }
    });
}

/// Backward-weight, tile `t`, output channels `[r0, r0 + rows)`:
/// `gw_rows = gy_rows[:, tile] cols_g^T + beta * gw_rows`.
fn backward_weight_rows(
    ks: KernelSet,
    d: &Dims,
    t: Tile,
    gy: &[f32],
    cols: &[f32],
    r0: usize,
    gw_rows: &mut [f32],
    beta: f32,
) {
    let r1 = r0 + gw_rows.len() / d.kg;
    for (grp, a0, a1) in groups_of_rows(r0, r1, d.cog) {
        ks.gemm_nt(
            a1 - a0,
            t.tn,
            d.kg,
            &gy[a0 * d.hw_out + t.j0..],
            d.hw_out,
            &cols[grp * d.kg * t.tn..],
            t.tn,
            beta,
            &mut gw_rows[(a0 - r0) * d.kg..],
            d.kg,
        );
    }
}

/// Weight (and bias) gradient by tiled im2col, overwriting `gw` and `gb`.
/// Buffers are checked by the caller; `scratch` holds at least
/// [`Conv2dGeom::scratch_per_worker`] `f32`s.
///
/// With fewer samples than threads the tile's products are split over
/// output channels and accumulate straight into `gw`. Otherwise each worker
/// accumulates its block of samples into a private `gw`/`gb` at the end of
/// its scratch (transposed, `[kg, c_out]`, where
/// [`KernelSet::weight_grad_transposed`] says so), and the workers' sums are
/// added in worker order.
pub(super) fn backward_weight(
    ks: KernelSet,
    g: &Conv2dGeom,
    x: &[f32],
    gy: &[f32],
    gw: &mut [f32],
    gb: Option<&mut [f32]>,
    scratch: &mut [f32],
) {
    let d = Dims::new(g);
    let tile_len = g.cols_tile_len();
    if split_inside_samples(g) {
        let cols = &mut scratch[..tile_len];
        let rpt = rows_per_task(g.c_out);
        let mut first = true;
        for (x_s, gy_s) in x.chunks_exact(d.x_ps).zip(gy.chunks_exact(d.y_ps)) {
            for t in d.tiles(g).map(|r| Tile::new(g, r)) {
                let cols = &mut cols[..g.c_in * d.kk * t.tn];
                im2col_par(g, &d, t, x_s, cols);
                let cols = &*cols;
                let beta = if first { 0.0 } else { 1.0 };
                par::chunks_mut(gw, rpt * d.kg, |i, gw_rows| {
                    backward_weight_rows(ks, &d, t, gy_s, cols, i * rpt, gw_rows, beta);
                });
                first = false;
            }
        }
        if let Some(gb) = gb {
            for (co, gb_c) in gb.iter_mut().enumerate() {
                *gb_c = (0..g.n).map(|s| sum8(&gy[s * d.y_ps + co * d.hw_out..][..d.hw_out])).sum();
            }
        }
        return;
    }
    let per = g.scratch_per_worker();
    let spw = g.n.div_ceil(batch_workers(g, scratch.len(), per));
    let used = g.n.div_ceil(spw);
    let (w_len, c_out) = (g.w_len(), g.c_out);
    let transposed = ks.weight_grad_transposed(g);
    par::chunks_mut(&mut scratch[..used * per], per, |blk, mine| {
        let (cols, acc) = mine.split_at_mut(per - w_len - c_out);
        let (acc_w, acc_b) = acc.split_at_mut(w_len);
        acc_b.fill(0.0);
        let first = blk * spw;
        for s in first..(first + spw).min(g.n) {
            let (x_s, gy_s) = (&x[s * d.x_ps..][..d.x_ps], &gy[s * d.y_ps..][..d.y_ps]);
            for t in d.tiles(g).map(|r| Tile::new(g, r)) {
                let (cols, gyt) = cols.split_at_mut(g.c_in * d.kk * t.tn);
                im2col(g, &d, t, x_s, cols);
                let beta = if s == first && t.oh0 == 0 { 0.0 } else { 1.0 };
                if transposed {
                    let gyt = &mut gyt[..t.tn * c_out];
                    for (co, row) in gy_s.chunks_exact(d.hw_out).enumerate() {
                        for (j, &v) in row[t.j0..t.j0 + t.tn].iter().enumerate() {
                            gyt[j * c_out + co] = v;
                        }
                    }
                    ks.gemm_nn(d.kg, t.tn, c_out, cols, t.tn, gyt, c_out, beta, acc_w, c_out);
                } else {
                    backward_weight_rows(ks, &d, t, gy_s, cols, 0, acc_w, beta);
                }
            }
            for (b, row) in acc_b.iter_mut().zip(gy_s.chunks_exact(d.hw_out)) {
                *b += sum8(row);
            }
        }
    });
    // Fixed-order reduction over the workers' accumulators.
    let acc = |blk: usize| &scratch[(blk + 1) * per - w_len - c_out..][..w_len + c_out];
    if transposed {
        let kg = d.kg;
        for (co, row) in gw.chunks_exact_mut(kg).enumerate() {
            for (p, o) in row.iter_mut().enumerate() {
                *o = (0..used).fold(0.0, |sum, blk| {
                    if blk == 0 {
                        acc(0)[p * c_out + co]
                    } else {
                        sum + acc(blk)[p * c_out + co]
                    }
                });
            }
        }
    } else {
        gw.copy_from_slice(&acc(0)[..w_len]);
        for blk in 1..used {
            for (o, a) in gw.iter_mut().zip(&acc(blk)[..w_len]) {
                *o += *a;
            }
        }
    }
    if let Some(gb) = gb {
        gb.copy_from_slice(&acc(0)[w_len..]);
        for blk in 1..used {
            for (o, a) in gb.iter_mut().zip(&acc(blk)[w_len..]) {
                *o += *a;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{backward_weight, forward};
    use crate::kernels::geom::Conv2dGeom;
    use crate::kernels::testing::{conv3x3, max_rel_err, pool, relu, same_bits, sets, ConvData, REL_TOL};
    use crate::kernels::{reference, KernelSet};

    /// Strides, groups, kernels wider than the padding, several tiles of
    /// output rows (the last ragged), and 32+ output channels in one group
    /// (the transposed weight gradient on AVX-512).
    fn cases() -> Vec<Conv2dGeom> {
        let base = conv3x3(3, 4, 6, 7, 11);
        vec![
            base,
            Conv2dGeom { stride_h: 2, stride_w: 3, ..base },
            Conv2dGeom { groups: 2, c_out: 4, k_h: 1, k_w: 5, pad_h: 0, pad_w: 2, ..base },
            Conv2dGeom { n: 1, c_in: 3, c_out: 3, groups: 3, stride_h: 1, stride_w: 2, ..base },
            Conv2dGeom { k_h: 4, k_w: 2, pad_h: 2, pad_w: 0, stride_h: 3, ..base },
            Conv2dGeom { n: 2, c_in: 8, h: 13, w: 200, c_out: 6, ..base },
            conv3x3(4, 16, 32, 6, 40),
            conv3x3(2, 8, 40, 5, 9),
        ]
    }

    /// `f` on a pool of 1, 2 and 3 threads, with a full and a one-worker scratch.
    fn each_pool(g: &Conv2dGeom, mut f: impl FnMut(usize, &mut [f32]) + Send) {
        for threads in [1, 2, 3] {
            for minimal in [false, true] {
                let p = pool(threads);
                let len = if minimal { g.scratch_per_worker() } else { p.install(|| g.scratch_len()) };
                let mut scratch = vec![f32::NAN; len];
                p.install(|| f(threads, &mut scratch));
            }
        }
    }

    #[test]
    fn tiled_forward_matches_reference_on_every_kernel_set() {
        for ks in sets("tiled_forward_matches_reference_on_every_kernel_set") {
            for (i, g) in cases().iter().enumerate() {
                let d = ConvData::new(g, i as u64);
                for bias in [true, false] {
                    let b = bias.then_some(&d.b[..]);
                    let mut want = vec![0.0; g.y_len()];
                    reference::conv2d_forward(g, &d.x, &d.w, b, &mut want);
                    each_pool(g, |threads, scratch| {
                        let mut y = vec![f32::NAN; g.y_len()];
                        forward(ks, g, &d.x, &d.w, b, &mut y, scratch, false);
                        let e = max_rel_err(&y, &want);
                        assert!(e <= REL_TOL, "{ks:?} case {i}, {threads} thread(s): rel. error {e:e}");
                        let mut y_relu = vec![f32::NAN; g.y_len()];
                        forward(ks, g, &d.x, &d.w, b, &mut y_relu, scratch, true);
                        let r: Vec<f32> = y.iter().map(|&v| relu(v)).collect();
                        assert!(same_bits(&y_relu, &r), "{ks:?} case {i}, {threads} thread(s): fused ReLU");
                    });
                }
            }
        }
    }

    #[test]
    fn tiled_weight_gradient_matches_reference_on_every_kernel_set() {
        let avx512 = KernelSet::avx512();
        let forms =
            cases().iter().map(|g| avx512.is_some_and(|ks| ks.weight_grad_transposed(g))).collect::<Vec<_>>();
        if avx512.is_some() {
            assert!(forms.contains(&true) && forms.contains(&false), "both forms of the weight gradient");
        }
        for ks in sets("tiled_weight_gradient_matches_reference_on_every_kernel_set") {
            for (i, g) in cases().iter().enumerate() {
                let d = ConvData::new(g, 50 + i as u64);
                let (mut gw_ref, mut gb_ref) = (vec![0.0; g.w_len()], vec![0.0; g.c_out]);
                reference::conv2d_backward_weight(g, &d.x, &d.gy, &mut gw_ref, Some(&mut gb_ref));
                let mut first: Option<Vec<f32>> = None;
                each_pool(g, |threads, scratch| {
                    let (mut gw, mut gb) = (vec![f32::NAN; g.w_len()], vec![f32::NAN; g.c_out]);
                    backward_weight(ks, g, &d.x, &d.gy, &mut gw, Some(&mut gb), scratch);
                    let e = max_rel_err(&gw, &gw_ref);
                    assert!(e <= REL_TOL, "{ks:?} case {i}, {threads} thread(s): gw rel. error {e:e}");
                    let e = max_rel_err(&gb, &gb_ref);
                    assert!(e <= REL_TOL, "{ks:?} case {i}, {threads} thread(s): gb rel. error {e:e}");
                    // One thread, whatever the scratch: the same sums in the same order.
                    if threads == 1 {
                        match &first {
                            None => first = Some(gw),
                            Some(f) => assert!(same_bits(f, &gw), "{ks:?} case {i}: scratch size changed gw"),
                        }
                    }
                });
            }
        }
    }
}

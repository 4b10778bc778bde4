//! col2im: the input gradient where it is not a forward convolution (strides
//! above 1, padding at least the kernel size, or fewer than 8 input channels
//! per group; see [`Conv2dGeom::backward_input_as_conv`]).
//!
//! Per sample and tile of output rows (the tiles of `tiled.rs`), the column
//! matrix's gradient `cols_g = W_g^T gy_g[:, tile]` ([`KernelSet::gemm_tn`]),
//! then every entry of it is added back onto the input pixel it was read
//! from, into the zeroed `gx`. With fewer samples than threads a tile is
//! split over input channels: each task computes its channels' rows of
//! `cols` and folds them straight into its own planes of `gx`.

use super::{
    batch_workers, groups_of_rows, input_row, rows_per_task, split_inside_samples, valid_range, Dims, Tile,
};
use crate::kernels::geom::Conv2dGeom;
use crate::kernels::par;
use crate::kernels::products::KernelSet;

/// col2im: adds every entry of the tile `cols` onto the input pixel it came
/// from, for the channels held in `gx`.
fn col2im(g: &Conv2dGeom, d: &Dims, t: Tile, cols: &[f32], gx: &mut [f32]) {
    let w_out = g.w_out();
    for (plane, rows) in gx.chunks_exact_mut(d.hw).zip(cols.chunks_exact(d.kk * t.tn)) {
        for kh in 0..g.k_h {
            for kw in 0..g.k_w {
                let row = &rows[(kh * g.k_w + kw) * t.tn..][..t.tn];
                let (lo, hi) = valid_range(kw, g.stride_w, g.pad_w, g.w, w_out);
                if lo >= hi {
                    continue;
                }
                let iw0 = lo * g.stride_w + kw - g.pad_w;
                for (oh, src) in (t.oh0..t.oh1).zip(row.chunks_exact(w_out)) {
                    let Some(ih) = input_row(g, oh, kh) else { continue };
                    let dst = &mut plane[ih * g.w..][..g.w];
                    for (o, s) in dst[iw0..].iter_mut().step_by(g.stride_w).zip(&src[lo..hi]) {
                        *o += *s;
                    }
                }
            }
        }
    }
}

/// Tile `t`, column-matrix rows `[r0, r0 + rows)`:
/// `cols_rows = W_g^T gy_g[:, tile]` restricted to those rows.
fn cols_rows(ks: KernelSet, d: &Dims, t: Tile, w: &[f32], gy: &[f32], r0: usize, cols_rows: &mut [f32]) {
    let r1 = r0 + cols_rows.len() / t.tn;
    for (grp, a0, a1) in groups_of_rows(r0, r1, d.kg) {
        // W_g is cog x kg, row-major, from element (grp * cog) * kg; row i of
        // W_g^T is its column i, so W_g^T's rows a0..a1 start at column a0 - grp * kg.
        ks.gemm_tn(
            a1 - a0,
            d.cog,
            t.tn,
            &w[grp * d.cog * d.kg + (a0 - grp * d.kg)..],
            d.kg,
            &gy[grp * d.cog * d.hw_out + t.j0..],
            d.hw_out,
            0.0,
            &mut cols_rows[(a0 - r0) * t.tn..],
            t.tn,
        );
    }
}

/// Input gradient by col2im: `gx = d/dx` given `gy`, overwriting `gx`.
/// Buffers are checked by the caller; `scratch` holds at least
/// [`Conv2dGeom::cols_tile_len`] `f32`s.
pub(super) fn backward_input(
    ks: KernelSet,
    g: &Conv2dGeom,
    gy: &[f32],
    w: &[f32],
    gx: &mut [f32],
    scratch: &mut [f32],
) {
    let d = Dims::new(g);
    let need = g.cols_tile_len();
    if split_inside_samples(g) {
        let cols = &mut scratch[..need];
        // Split over input channels: a task computes its channels' rows of
        // the tile and folds them straight back into its planes of gx.
        let cpt = rows_per_task(g.c_in);
        for (gy_s, gx_s) in gy.chunks_exact(d.y_ps).zip(gx.chunks_exact_mut(d.x_ps)) {
            gx_s.fill(0.0);
            for t in d.tiles(g).map(|r| Tile::new(g, r)) {
                let cols = &mut cols[..g.c_in * d.kk * t.tn];
                par::zip_chunks_mut(gx_s, cpt * d.hw, cols, cpt * d.kk * t.tn, |i, gx_c, cols_c| {
                    cols_rows(ks, &d, t, w, gy_s, i * cpt * d.kk, cols_c);
                    col2im(g, &d, t, cols_c, gx_c);
                });
            }
        }
        return;
    }
    let spw = g.n.div_ceil(batch_workers(g, scratch.len(), need));
    par::zip_chunks_mut(gx, spw * d.x_ps, scratch, need, |blk, gx_blk, cols| {
        for (i, gx_s) in gx_blk.chunks_exact_mut(d.x_ps).enumerate() {
            let gy_s = &gy[(blk * spw + i) * d.y_ps..][..d.y_ps];
            gx_s.fill(0.0);
            for t in d.tiles(g).map(|r| Tile::new(g, r)) {
                let cols = &mut cols[..g.c_in * d.kk * t.tn];
                cols_rows(ks, &d, t, w, gy_s, 0, cols);
                col2im(g, &d, t, cols, gx_s);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::backward_input;
    use crate::kernels::geom::Conv2dGeom;
    use crate::kernels::reference;
    use crate::kernels::testing::{conv3x3, max_rel_err, pool, same_bits, sets, ConvData, REL_TOL};

    /// Strides above 1, groups, padding as large as the kernel, one input
    /// channel (R-VGG's first layer), several tiles of output rows; and
    /// stride-1 geometries the entry point would run as a convolution, which
    /// col2im computes just as well.
    fn cases() -> Vec<Conv2dGeom> {
        let base = conv3x3(3, 4, 6, 7, 11);
        vec![
            Conv2dGeom { stride_h: 2, stride_w: 3, ..base },
            Conv2dGeom { groups: 2, c_out: 4, k_h: 1, k_w: 5, pad_h: 1, pad_w: 2, stride_w: 2, ..base },
            Conv2dGeom { k_h: 2, k_w: 2, pad_h: 2, pad_w: 2, ..base },
            Conv2dGeom {
                n: 3,
                c_in: 8,
                h: 17,
                w: 600,
                k_h: 4,
                k_w: 2,
                stride_h: 3,
                pad_h: 2,
                pad_w: 0,
                groups: 2,
                ..base
            },
            conv3x3(2, 1, 16, 6, 40),
            base,
            conv3x3(1, 8, 5, 9, 13),
        ]
    }

    #[test]
    fn col2im_input_gradient_matches_reference_on_every_kernel_set() {
        let sets = sets("col2im_input_gradient_matches_reference_on_every_kernel_set");
        for (i, g) in cases().iter().enumerate() {
            let d = ConvData::new(g, i as u64);
            let mut want = vec![0.0; g.x_len()];
            reference::conv2d_backward_input(g, &d.gy, &d.w, &mut want);
            let mut by_set = Vec::new();
            for &ks in &sets {
                for threads in [1, 2, 3] {
                    let gx = pool(threads).install(|| {
                        let mut gx = vec![f32::NAN; g.x_len()];
                        let mut scratch = vec![f32::NAN; g.scratch_len()];
                        backward_input(ks, g, &d.gy, &d.w, &mut gx, &mut scratch);
                        gx
                    });
                    let e = max_rel_err(&gx, &want);
                    assert!(e <= REL_TOL, "{ks:?} case {i}, {threads} thread(s): rel. error {e:e} for {g:?}");
                    if threads == 1 {
                        by_set.push(gx);
                    }
                }
            }
            // `W^T gy` is a packed sgemm in every set: the sets agree bit for bit.
            assert!(by_set.windows(2).all(|p| same_bits(&p[0], &p[1])), "case {i}: kernel sets differ");
        }
    }

    #[test]
    fn col2im_cases_span_several_tiles() {
        let g = cases()[3];
        assert!(g.tile_rows() < g.h_out(), "{g:?} must span several im2col tiles");
    }
}

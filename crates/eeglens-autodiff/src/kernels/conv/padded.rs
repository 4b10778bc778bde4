//! The padded in-place read: a stride-1, one-group forward convolution (and
//! so the stride-1 input gradient) with no column matrix at all.
//!
//! Each sample is copied once into a zero-padded buffer `xp` (`c_in` planes
//! of `hp x wp`, plus `k_w` slack elements), and row `(c, kh, kw)` of the
//! column matrix for output rows `oh0..` is the slice of `xp` starting at
//! `c * hp * wp + (oh0 + kh) * wp + kw`. Output rows are `wp` wide in this
//! layout (the last `wp - w_out` columns of each are discarded), so a tile of
//! several output rows is one contiguous run per column-matrix row, and the
//! product reads those runs through a table of row starts ([`RowTable`]).
//! For R-VGG's 3x3 layers that replaces the nine copies of the input an
//! im2col makes by one.
//!
//! Tiles hold [`Conv2dGeom::padded_tile_rows`] output rows (an output tile of
//! about 128 KiB); the product writes a tile `ct` (`[c_out, rows * wp]`) and
//! [`Padded::unpad`] copies it into `y`, adding the bias and the fused ReLU.
//! Runs only when the policy hands it a [`RowTable`] (the AVX-512 set), or,
//! for bf16 inference ([`super::bf16`]), a [`Bf16Rows`]: the same loop
//! ([`drive`]) over a layout of channel pairs ([`Padded::pairs`]).

use super::{batch_workers, relu_of, rows_per_task, split_inside_samples, Dims};
use crate::kernels::geom::Conv2dGeom;
use crate::kernels::par;
use crate::kernels::products::{Bf16Rows, RowTable};

/// The padded layout of one geometry (stride 1, one group): one plane per
/// input channel (fp32), or per pair of input channels (bf16 pairs, see
/// [`Padded::pairs`]).
pub(super) struct Padded {
    /// padded width and height
    wp: usize,
    hp: usize,
    /// elements of `xp`
    xp_len: usize,
    /// output rows per tile
    tile_rows: usize,
    /// start of each column-matrix row in `xp`, relative to the tile's first row
    offs: Vec<usize>,
}

impl Padded {
    /// The fp32 layout for `g` (stride 1, one group): a plane per input channel.
    fn new(g: &Conv2dGeom) -> Self {
        Self::with_planes(g, g.c_in)
    }

    /// The bf16 layout for `g`: a plane per pair of input channels `(2p, 2p + 1)`,
    /// each element the two channels' values as one bf16 pair (the last pair's
    /// high half zero when `c_in` is odd). Row `(p, kh, kw)` of the column
    /// matrix of pairs is again one run of `xp`, so the product reads it in
    /// place as the fp32 layout's; the weights pair the same channels
    /// ([`super::bf16::ConvWeightsBf16`]). No larger than the fp32 layout, so
    /// [`Conv2dGeom::padded_scratch`] holds it.
    pub(super) fn pairs(g: &Conv2dGeom) -> Self {
        Self::with_planes(g, g.c_in.div_ceil(2))
    }

    fn with_planes(g: &Conv2dGeom, planes: usize) -> Self {
        debug_assert!(g.stride_h == 1 && g.stride_w == 1 && g.groups == 1, "padded layout for {g:?}");
        let (wp, hp) = g.padded_dims();
        let plane = hp * wp;
        let mut offs = Vec::with_capacity(planes * g.k_h * g.k_w);
        for c in 0..planes {
            for kh in 0..g.k_h {
                for kw in 0..g.k_w {
                    offs.push(c * plane + kh * wp + kw);
                }
            }
        }
        Self { wp, hp, xp_len: planes * plane + g.k_w, tile_rows: g.padded_tile_rows(), offs }
    }

    /// Copies sample `x_s` (`[c_in, h, w]`) into `xp` with its zero border.
    fn pad(&self, g: &Conv2dGeom, x_s: &[f32], xp: &mut [f32]) {
        let xp = &mut xp[..self.xp_len];
        xp.fill(0.0);
        for (c, plane) in x_s.chunks_exact(g.h * g.w).enumerate() {
            for (ih, row) in plane.chunks_exact(g.w).enumerate() {
                let at = c * self.hp * self.wp + (ih + g.pad_h) * self.wp + g.pad_w;
                xp[at..at + g.w].copy_from_slice(row);
            }
        }
    }

    /// Converts sample `x_s` (`[c_in, h, w]`) into bf16 pairs of channels in
    /// `xp` (bit patterns in `f32` slots; the zero border is zero bits, two
    /// bf16 zeros), in the layout of [`Padded::pairs`].
    pub(super) fn pad_pairs(&self, leaf: Bf16Rows, g: &Conv2dGeom, x_s: &[f32], xp: &mut [f32]) {
        let xp = &mut xp[..self.xp_len];
        xp.fill(0.0);
        let hw = g.h * g.w;
        for p in 0..g.c_in.div_ceil(2) {
            for ih in 0..g.h {
                let lo = &x_s[2 * p * hw + ih * g.w..][..g.w];
                let hi = (2 * p + 1 < g.c_in).then(|| &x_s[(2 * p + 1) * hw + ih * g.w..][..g.w]);
                let at = p * self.hp * self.wp + (ih + g.pad_h) * self.wp + g.pad_w;
                leaf.pack_pairs(lo, hi, &mut xp[at..at + g.w]);
            }
        }
    }

    /// The start of each column-matrix row in `xp`, relative to a tile's first row.
    pub(super) fn offs(&self) -> &[usize] {
        &self.offs
    }

    /// Padded width: output rows are this wide in a tile.
    pub(super) fn wp(&self) -> usize {
        self.wp
    }

    /// The tiles of output rows, `(oh0, rows)`.
    fn tiles(&self, g: &Conv2dGeom) -> impl Iterator<Item = (usize, usize)> {
        let (h_out, step) = (g.h_out(), self.tile_rows);
        (0..h_out).step_by(step).map(move |oh0| (oh0, step.min(h_out - oh0)))
    }

    /// Copies a tile of `ct` (`[c_out, rows * wp]`) into `y_s`, dropping the
    /// extra columns and adding the bias.
    fn unpad(
        &self,
        g: &Conv2dGeom,
        ct: &[f32],
        (oh0, rows): (usize, usize),
        b: Option<&[f32]>,
        y_s: &mut [f32],
        relu: bool,
    ) {
        let (w_out, hw_out) = (g.w_out(), g.h_out() * g.w_out());
        for (co, (src, dst)) in ct.chunks_exact(rows * self.wp).zip(y_s.chunks_exact_mut(hw_out)).enumerate()
        {
            let bias = b.map_or(0.0, |b| b[co]);
            for r in 0..rows {
                let (s, d) = (&src[r * self.wp..][..w_out], &mut dst[(oh0 + r) * w_out..][..w_out]);
                if relu {
                    for (d, s) in d.iter_mut().zip(s) {
                        *d = relu_of(s + bias);
                    }
                } else {
                    for (d, s) in d.iter_mut().zip(s) {
                        *d = s + bias;
                    }
                }
            }
        }
    }
}

/// Forward convolution in the padded layout: `y = conv(x, w) + b` (then the
/// ReLU when `relu`), overwriting `y`. Buffers are checked by the caller;
/// `scratch` holds at least [`Conv2dGeom::padded_scratch`] `f32`s.
pub(super) fn forward(
    rows: RowTable,
    g: &Conv2dGeom,
    x: &[f32],
    w: &[f32],
    b: Option<&[f32]>,
    y: &mut [f32],
    scratch: &mut [f32],
    relu: bool,
) {
    let pd = Padded::new(g);
    let kg = Dims::new(g).kg;
    let pad = |x_s: &[f32], xp: &mut [f32]| pd.pad(g, x_s, xp);
    let tile = |xp: &[f32], ct: &mut [f32], (oh0, n_rows): (usize, usize), r0: usize| {
        let n = n_rows * pd.wp;
        let m = ct.len() / n;
        rows.gemm_nn_rows(m, kg, n, &w[r0 * kg..], kg, &xp[oh0 * pd.wp..], &pd.offs, 0.0, ct, n);
    };
    drive(g, &pd, x, b, y, scratch, relu, pad, tile);
}

/// The loop of a padded forward, whatever the arithmetic: each sample is
/// padded into a worker's scratch by `pad`, then each tile of output rows is
/// computed by `tile(xp, ct, (oh0, rows), r0)` (output channels from `r0`,
/// as many as `ct` holds rows of `rows * wp`) and copied into `y` with the
/// bias and the fused ReLU. Samples go to workers in blocks; with fewer
/// samples than threads, each tile is split over output channels instead.
pub(super) fn drive(
    g: &Conv2dGeom,
    pd: &Padded,
    x: &[f32],
    b: Option<&[f32]>,
    y: &mut [f32],
    scratch: &mut [f32],
    relu: bool,
    pad: impl Fn(&[f32], &mut [f32]) + Sync,
    tile: impl Fn(&[f32], &mut [f32], (usize, usize), usize) + Sync,
) {
    let d = Dims::new(g);
    if split_inside_samples(g) {
        let (xp, ct) = scratch.split_at_mut(pd.xp_len);
        let rpt = rows_per_task(g.c_out);
        for (x_s, y_s) in x.chunks_exact(d.x_ps).zip(y.chunks_exact_mut(d.y_ps)) {
            pad(x_s, xp);
            let xp = &*xp;
            for t in pd.tiles(g) {
                let n = t.1 * pd.wp;
                let ct = &mut ct[..g.c_out * n];
                par::chunks_mut(ct, rpt * n, |i, ct_rows| tile(xp, ct_rows, t, i * rpt));
                pd.unpad(g, ct, t, b, y_s, relu);
            }
        }
        return;
    }
    let per = g.padded_scratch();
    let spw = g.n.div_ceil(batch_workers(g, scratch.len(), per));
    par::zip_chunks_mut(y, spw * d.y_ps, scratch, per, |blk, y_blk, mine| {
        let (xp, ct) = mine.split_at_mut(pd.xp_len);
        for (i, y_s) in y_blk.chunks_exact_mut(d.y_ps).enumerate() {
            pad(&x[(blk * spw + i) * d.x_ps..][..d.x_ps], xp);
            for t in pd.tiles(g) {
                let ct = &mut ct[..g.c_out * t.1 * pd.wp];
                tile(xp, ct, t, 0);
                pd.unpad(g, ct, t, b, y_s, relu);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::forward;
    use crate::kernels::geom::Conv2dGeom;
    use crate::kernels::testing::{
        avx512_set, conv3x3, max_rel_err, pool, relu, same_bits, ConvData, REL_TOL,
    };
    use crate::kernels::{reference, KernelSet};

    /// Stride-1, one-group geometries: R-VGG's 3x3 layers, a tile of one
    /// output row (several tiles, the last ragged), kernels wider than the
    /// padding (output narrower than the input) and no padding at all.
    fn cases() -> Vec<Conv2dGeom> {
        let base = conv3x3(3, 4, 5, 7, 11);
        vec![
            base,
            conv3x3(2, 1, 16, 6, 40),
            conv3x3(1, 16, 32, 5, 30),
            conv3x3(5, 3, 70, 9, 300),
            Conv2dGeom { k_h: 2, k_w: 5, pad_h: 0, pad_w: 1, ..base },
            Conv2dGeom { k_h: 1, k_w: 1, pad_h: 0, pad_w: 0, ..base },
            Conv2dGeom { k_h: 4, k_w: 3, pad_h: 2, pad_w: 2, n: 1, ..base },
        ]
    }

    /// `forward` with the AVX-512 set's row table, on a pool of `threads`.
    fn run(ks: KernelSet, g: &Conv2dGeom, d: &ConvData, bias: bool, relu: bool, threads: usize) -> Vec<f32> {
        let rows = ks.padded_conv(g).expect("the AVX-512 set reads stride-1 convolutions in place");
        pool(threads).install(|| {
            let mut y = vec![f32::NAN; g.y_len()];
            let mut scratch = vec![f32::NAN; g.scratch_len()];
            forward(rows, g, &d.x, &d.w, bias.then_some(&d.b[..]), &mut y, &mut scratch, relu);
            y
        })
    }

    #[test]
    fn padded_forward_matches_reference() {
        let Some(ks) = avx512_set("padded_forward_matches_reference") else { return };
        for (i, g) in cases().iter().enumerate() {
            let d = ConvData::new(g, i as u64);
            let mut want = vec![0.0; g.y_len()];
            reference::conv2d_forward(g, &d.x, &d.w, Some(&d.b), &mut want);
            for threads in [1, 2, 3] {
                let y = run(ks, g, &d, true, false, threads);
                let e = max_rel_err(&y, &want);
                assert!(e <= REL_TOL, "case {i}, {threads} thread(s): rel. error {e:e} for {g:?}");
                let y_relu = run(ks, g, &d, true, true, threads);
                let r: Vec<f32> = y.iter().map(|&v| relu(v)).collect();
                assert!(same_bits(&y_relu, &r), "case {i}, {threads} thread(s): fused ReLU for {g:?}");
            }
        }
    }

    #[test]
    fn padded_forward_spans_several_tiles() {
        let g = conv3x3(5, 3, 70, 9, 300);
        assert!(g.padded_tile_rows() < g.h_out(), "{g:?} must span several padded tiles");
    }

    /// The in-place read sums the same products in the same order as an
    /// im2col tile would be summed by the same kernel, and adds the bias once
    /// at the end, exactly as the tiled path's `beta = 1` does: the two
    /// strategies agree bit for bit.
    #[test]
    fn padded_forward_equals_the_tiled_forward_bit_for_bit() {
        let Some(ks) = avx512_set("padded_forward_equals_the_tiled_forward_bit_for_bit") else { return };
        for (i, g) in cases().iter().enumerate() {
            let d = ConvData::new(g, 100 + i as u64);
            for threads in [1, 3] {
                let padded = run(ks, g, &d, true, false, threads);
                let tiled = pool(threads).install(|| {
                    let mut y = vec![f32::NAN; g.y_len()];
                    let mut scratch = vec![f32::NAN; g.scratch_len()];
                    super::super::tiled::forward(ks, g, &d.x, &d.w, Some(&d.b), &mut y, &mut scratch, false);
                    y
                });
                assert!(same_bits(&padded, &tiled), "case {i}, {threads} thread(s): {g:?}");
            }
        }
    }
}

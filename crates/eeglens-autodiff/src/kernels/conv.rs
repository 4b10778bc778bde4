//! 2-D convolution by im2col + GEMM, forward and both backward passes.
//!
//! # Algorithm and memory layout
//! For one sample, im2col unrolls the input `[c_in, h, w]` into a column
//! matrix of `c_in * k_h * k_w` rows: row `(c * k_h + kh) * k_w + kw`, column
//! `oh * w_out + ow` holds `x[c, oh * stride_h + kh - pad_h, ow * stride_w + kw - pad_w]`
//! (zero in the padding). Rows are ordered by input channel, so the rows of
//! group `g` are one contiguous block of `kg = (c_in / groups) * k_h * k_w`
//! rows, and the weight `[c_out, c_in / groups, k_h, k_w]` read row-major is,
//! per group, a `(c_out / groups) x kg` matrix `W_g`. Then, per sample and group:
//! - forward: `y_g = W_g cols_g` (+ bias: `y` is pre-filled with `b`, `beta = 1`);
//! - backward-input, stride 1: a forward convolution of `gy` with the kernel
//!   flipped in space and transposed in channels, padding `k - 1 - pad`
//!   ([`Conv2dGeom::transposed`]); this keeps the GEMM's inner dimension at
//!   `c_out * k_h * k_w` instead of `c_out`. Other strides: `cols_g = W_g^T gy_g`,
//!   then col2im adds every column entry back onto the pixel it came from;
//! - backward-weight: `gw_g += gy_g cols_g^T`, `gb += row sums of gy`.
//!
//! With AVX-512, a stride-1, one-group forward convolution (and so the
//! stride-1 input gradient) builds no column matrix at all: each sample is
//! copied once into a zero-padded buffer, and every row of the column matrix
//! is read in place from it (`Padded`, [`super::direct::gemm_nn_rows`]); for
//! R-VGG's 3x3 layers that replaces nine copies of the input by one.
//!
//! Otherwise the column matrix is never built whole: it is made in tiles of a few
//! output rows ([`Conv2dGeom::tile_rows`], 512 KiB each) and each tile is
//! consumed by sgemm while it is still in cache (`y`/`gy` are then strided
//! views with row stride `h_out * w_out`).
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
//! Every product is single-threaded: the forward (and the stride-1 input
//! gradient, itself a forward convolution) and the weight gradient run on
//! the unpacked AVX-512 kernels of [`super::direct`], which read the im2col
//! tile where it lies; the other products, and every product on CPUs without
//! AVX-512, are matrixmultiply sgemms. Nothing here allocates (matrixmultiply
//! allocates its own packing buffers inside each call).

use super::direct::{gemm_nn, gemm_nn_rows, gemm_nt, use_avx512};
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

/// The im2col-free layout of a stride-1, one-group convolution on the AVX-512
/// kernels: each sample is copied once into a zero-padded buffer `xp`
/// (`c_in` planes of `hp x wp`, plus `k_w` slack elements), and row
/// `(c, kh, kw)` of the column matrix for output rows `oh0..` is the slice of
/// `xp` starting at `c * hp * wp + (oh0 + kh) * wp + kw`. Output rows are `wp`
/// wide in this layout (the last `wp - w_out` columns of each are discarded),
/// so a tile of several output rows is one contiguous run per column-matrix row.
struct Padded {
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
    /// The layout for `g`, when the geometry and the CPU allow it.
    fn new(g: &Conv2dGeom) -> Option<Self> {
        if g.stride_h != 1 || g.stride_w != 1 || g.groups != 1 || !use_avx512() {
            return None;
        }
        let (wp, hp) = g.padded_dims();
        let plane = hp * wp;
        let mut offs = Vec::with_capacity(g.c_in * g.k_h * g.k_w);
        for c in 0..g.c_in {
            for kh in 0..g.k_h {
                for kw in 0..g.k_w {
                    offs.push(c * plane + kh * wp + kw);
                }
            }
        }
        Some(Self { wp, hp, xp_len: g.c_in * plane + g.k_w, tile_rows: g.padded_tile_rows(), offs })
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

/// `max(v, 0)` as the ReLU op computes it (NaN passes through).
#[inline]
fn relu_of(v: f32) -> f32 {
    if v <= 0.0 {
        0.0
    } else {
        v
    }
}

/// ReLU in place on columns `j0..j0 + tn` of every row (of length `row`) of `y`.
fn relu_tile(y: &mut [f32], row: usize, j0: usize, tn: usize) {
    for r in y.chunks_exact_mut(row) {
        for v in &mut r[j0..j0 + tn] {
            *v = relu_of(*v);
        }
    }
}

/// Forward convolution in the [`Padded`] layout.
fn forward_padded(
    g: &Conv2dGeom,
    pd: &Padded,
    x: &[f32],
    w: &[f32],
    b: Option<&[f32]>,
    y: &mut [f32],
    scratch: &mut [f32],
    relu: bool,
) {
    let d = Dims::new(g);
    let tile = |xp: &[f32], ct: &mut [f32], (oh0, rows): (usize, usize), r0: usize| {
        let n = rows * pd.wp;
        let m = ct.len() / n;
        let done = gemm_nn_rows(m, d.kg, n, &w[r0 * d.kg..], d.kg, &xp[oh0 * pd.wp..], &pd.offs, 0.0, ct, n);
        assert!(done, "conv2d_forward: the padded layout is used only with AVX-512");
    };
    if split_inside_samples(g) {
        let (xp, ct) = scratch.split_at_mut(pd.xp_len);
        let rpt = rows_per_task(g.c_out);
        for (x_s, y_s) in x.chunks_exact(d.x_ps).zip(y.chunks_exact_mut(d.y_ps)) {
            pd.pad(g, x_s, xp);
            let xp = &*xp;
            for t in pd.tiles(g) {
                let n = t.1 * pd.wp;
                let ct = &mut ct[..g.c_out * n];
                par::chunks_mut(ct, rpt * n, |i, rows| tile(xp, rows, t, i * rpt));
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
            pd.pad(g, &x[(blk * spw + i) * d.x_ps..][..d.x_ps], xp);
            for t in pd.tiles(g) {
                let ct = &mut ct[..g.c_out * t.1 * pd.wp];
                tile(xp, ct, t, 0);
                pd.unpad(g, ct, t, b, y_s, relu);
            }
        }
    });
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

/// Forward, tile `t`, output channels `[r0, r0 + rows)`: `y_rows` holds those
/// whole rows of one sample's `y`, `cols` the tile's column matrix.
fn forward_rows(
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
        gemm_nn(
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

/// col2im backward-input, tile `t`, column-matrix rows `[r0, r0 + rows)`:
/// `cols_rows = W_g^T gy_g[:, tile]` restricted to those rows.
fn backward_input_rows(d: &Dims, t: Tile, w: &[f32], gy: &[f32], r0: usize, cols_rows: &mut [f32]) {
    let r1 = r0 + cols_rows.len() / t.tn;
    for (grp, a0, a1) in groups_of_rows(r0, r1, d.kg) {
        // Row i of W_g^T is column i of W_g (cog x kg, row-major): start at
        // element (grp * cog) * kg + i, step 1 along i and kg along the output channel.
        gemm_strided(
            a1 - a0,
            d.cog,
            t.tn,
            1.0,
            &w[grp * d.cog * d.kg + (a0 - grp * d.kg)..],
            (1, d.kg),
            &gy[grp * d.cog * d.hw_out + t.j0..],
            (d.hw_out, 1),
            0.0,
            &mut cols_rows[(a0 - r0) * t.tn..],
            (t.tn, 1),
        );
    }
}

/// Backward-weight, tile `t`, output channels `[r0, r0 + rows)`:
/// `gw_rows = gy_rows[:, tile] cols_g^T + beta * gw_rows`.
fn backward_weight_rows(
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
        gemm_nt(
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

/// Rows per task when `total` rows are split over the current threads.
fn rows_per_task(total: usize) -> usize {
    total.div_ceil(par::threads()).max(1)
}

/// im2col of tile `t` of one sample, split over input channels.
fn im2col_par(g: &Conv2dGeom, d: &Dims, t: Tile, x_s: &[f32], cols: &mut [f32]) {
    let cpt = rows_per_task(g.c_in);
    par::chunks_mut(cols, cpt * d.kk * t.tn, |i, chunk| im2col(g, d, t, &x_s[i * cpt * d.hw..], chunk));
}

/// The forward pass without argument checks (shared with backward-input).
fn forward_impl(
    g: &Conv2dGeom,
    x: &[f32],
    w: &[f32],
    b: Option<&[f32]>,
    y: &mut [f32],
    scratch: &mut [f32],
    relu: bool,
) {
    if let Some(pd) = Padded::new(g) {
        forward_padded(g, &pd, x, w, b, y, scratch, relu);
        return;
    }
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
                    forward_rows(&d, t, w, b, cols, i * rpt, y_rows);
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
                forward_rows(&d, t, w, b, cols, 0, y_s);
                if relu {
                    relu_tile(y_s, d.hw_out, t.j0, t.tn);
                }
            }
        }
    });
}

/// Convolution forward: `y = conv(x, w) + b`, overwriting `y`.
///
/// Shapes: `x` `[n, c_in, h, w]`, `w` `[c_out, c_in / groups, k_h, k_w]`,
/// `b` `[c_out]`, `y` `[n, c_out, h_out, w_out]`, all row-major. `scratch`
/// holds at least [`Conv2dGeom::scratch_per_worker`] `f32`s (pass
/// [`Conv2dGeom::scratch_len`] to use every thread); its contents are ignored.
///
/// Algorithm: per sample and im2col tile, one sgemm per group
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
    forward_impl(g, x, w, b, y, scratch, relu);
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
    let d = Dims::new(g);
    if g.backward_input_as_conv() {
        // w_t[g * cig + ci][co][kh][kw] = w[g * cog + co][ci][k_h - 1 - kh][k_w - 1 - kw].
        let (w_t, rest) = scratch.split_at_mut(g.w_len());
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
        forward_impl(&g.transposed(), gy, w_t, None, gx, rest, false);
        return;
    }
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
                    backward_input_rows(&d, t, w, gy_s, i * cpt * d.kk, cols_c);
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
                backward_input_rows(&d, t, w, gy_s, 0, cols);
                col2im(g, &d, t, cols, gx_s);
            }
        }
    });
}

/// Convolution backward with respect to the weight and bias: `gw = d/dw`
/// (and `gb = d/db` when given) from `x` and `gy`, overwriting both.
///
/// Shapes: `x` `[n, c_in, h, w]`, `gy` `[n, c_out, h_out, w_out]`,
/// `gw` `[c_out, c_in / groups, k_h, k_w]`, `gb` `[c_out]`. Scratch as for
/// [`conv2d_forward`] (each worker also keeps a private `gw`/`gb` there).
///
/// Algorithm: per sample and im2col tile, `gw_g += gy_g cols_g^T` (one sgemm
/// per group) and `gb += row sums of gy`, accumulated per worker over its
/// block of samples; the workers' sums are then added in worker order, so
/// the result is deterministic for a given thread count. See the module header.
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
                    backward_weight_rows(&d, t, gy_s, cols, i * rpt, gw_rows, beta);
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
    // With AVX-512, one group and at least 32 output channels (a full
    // 32-column register block), each worker accumulates the transposed
    // gradient `gw^T = cols gy^T` ([kg, c_out]) with the unpacked A B kernel:
    // the tile's output gradient is transposed (c_out x tn, small), so the
    // long inner dimension streams through register blocks instead of
    // ending in one horizontal sum per weight (measured 1.2-1.6x on R-VGG's
    // 32- and 64-channel layers, 0.7x on its 16-channel ones).
    let transposed = g.groups == 1 && g.c_out >= 32 && use_avx512();
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
                    gemm_nn(d.kg, t.tn, c_out, cols, t.tn, gyt, c_out, beta, acc_w, c_out);
                } else {
                    backward_weight_rows(&d, t, gy_s, cols, 0, acc_w, beta);
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

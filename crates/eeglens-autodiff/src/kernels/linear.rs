//! The linear layer's inference forward in bf16: `y = x W^T + b` with bf16
//! operands and fp32 sums, on AMX tiles (`tdpbf16ps`) where the CPU and OS
//! allow them, else on AVX512_BF16 (`vdpbf16ps`).
//!
//! The weights are converted once ([`LinearWeightsBf16::pack`]) into panels
//! of 32 output columns: panel `p` holds, for each pair of input features
//! `(2q, 2q + 1)`, the 32 outputs' weight pairs side by side, so that one
//! panel (for R-VGG's first classifier layer, 3072 pairs x 32 columns, 384 KiB)
//! streams from memory once per worker and then stays in L2 while the
//! worker's rows of `x` pass. Each row of `x` is converted to pairs of
//! consecutive features when the call starts. Bias and outputs are fp32.
//!
//! Accuracy as the convolution's (`conv/bf16.rs`), with `K = d_in`:
//! `|y_bf16 - y| <= (2^-7 (1 + 2^-9) + K 2^-24 (1 + 2^-6)) sum |w| |x| + 2^-24 |b|`.
//!
//! Where the kernel set has no AVX512_BF16 leaf, [`linear_forward_bf16`] is
//! the fp32 linear layer (`ops::linear`'s product, bit for bit) and says so.

use super::par;
use super::products::{gemm, KernelSet, Precision};

/// Output columns per weight panel (the bf16 product's register block width).
const PANEL: usize = 32;

/// A linear layer's weight `[d_out, d_in]` converted once to bf16 pairs in
/// 32-column panels (see the module header).
#[derive(Clone, Debug)]
pub struct LinearWeightsBf16 {
    d_out: usize,
    d_in: usize,
    /// pairs of input features, `ceil(d_in / 2)`
    kq: usize,
    /// `kq` rounded up to a multiple of 16 (an AMX tile's pairs)
    kqp: usize,
    /// `[ceil(d_out / 32)][kqp][32]` bf16 pairs (bit patterns in `f32` slots;
    /// the last panel's missing columns and the rows past `kq` are zero)
    panels: Vec<f32>,
}

impl LinearWeightsBf16 {
    /// Converts `w` (`[d_out, d_in]`, row-major fp32) to bf16 pairs, each
    /// value rounded to nearest (ties to even).
    ///
    /// # Panics
    /// When `w.len() != d_out * d_in`.
    pub fn pack(d_out: usize, d_in: usize, w: &[f32]) -> Self {
        assert_eq!(w.len(), d_out * d_in, "LinearWeightsBf16::pack: weight [{d_out}, {d_in}]");
        let kq = d_in.div_ceil(2);
        let kqp = kq.next_multiple_of(16);
        let n_panels = d_out.div_ceil(PANEL);
        let mut panels = vec![0.0f32; n_panels * kqp * PANEL];
        for (p, panel) in panels.chunks_exact_mut(kqp * PANEL).enumerate() {
            for (q, row) in panel.chunks_exact_mut(PANEL).take(kq).enumerate() {
                for (c, slot) in row.iter_mut().enumerate().take(d_out.saturating_sub(p * PANEL)) {
                    let wr = &w[(p * PANEL + c) * d_in..][..d_in];
                    let hi = if 2 * q + 1 < d_in { wr[2 * q + 1] } else { 0.0 };
                    *slot = f32::from_bits(super::conv::bf16_pair(wr[2 * q], hi));
                }
            }
        }
        Self { d_out, d_in, kq, kqp, panels }
    }

    /// `(d_out, d_in)` of the weight these pairs were made from.
    pub fn shape(&self) -> (usize, usize) {
        (self.d_out, self.d_in)
    }

    /// `f32`s of scratch [`linear_forward_bf16`] needs for `n` rows: their
    /// pairs, each row padded to a multiple of 16 pairs.
    pub fn scratch_len(&self, n: usize) -> usize {
        n * self.kqp
    }
}

/// Linear layer forward in bf16 for inference: `y = x W^T + b`, overwriting
/// `y`, with `wb` the bf16 pairs of `w` ([`LinearWeightsBf16::pack`]).
/// Returns the precision that ran: bf16 where the calling thread's kernel
/// set has AVX512_BF16; otherwise fp32 from `w`, bit for bit the product of
/// `ops::linear` (`y` filled with the bias, then [`gemm`]).
///
/// Shapes: `x` `[n, d_in]`, `w` `[d_out, d_in]`, `b` `[d_out]`, `y`
/// `[n, d_out]`; `scratch` at least [`LinearWeightsBf16::scratch_len`]`(n)`
/// `f32`s (contents ignored). Rows are split over the threads of the
/// current rayon pool.
///
/// # Panics
/// When a length does not fit the shapes, or `wb` was packed from another shape.
pub fn linear_forward_bf16(
    n: usize,
    x: &[f32],
    w: &[f32],
    wb: &LinearWeightsBf16,
    b: Option<&[f32]>,
    y: &mut [f32],
    scratch: &mut [f32],
) -> Precision {
    let (d_out, d_in) = (wb.d_out, wb.d_in);
    assert!(
        x.len() == n * d_in
            && w.len() == d_out * d_in
            && y.len() == n * d_out
            && b.is_none_or(|b| b.len() == d_out),
        "linear_forward_bf16: x {}, w {}, y {}, b {:?} for n = {n} and bf16 weights [{d_out}, {d_in}]",
        x.len(),
        w.len(),
        y.len(),
        b.map(<[f32]>::len)
    );
    let ks = KernelSet::current();
    let Some(leaf) = ks.bf16_linear() else {
        let beta = match b {
            Some(b) => {
                for row in y.chunks_exact_mut(d_out) {
                    row.copy_from_slice(b);
                }
                1.0
            }
            None => 0.0,
        };
        gemm(n, d_in, d_out, 1.0, x, false, w, true, beta, y);
        return Precision::Fp32;
    };
    if n == 0 || d_out == 0 {
        return Precision::Bf16;
    }
    let (kq, kqp) = (wb.kq, wb.kqp);
    assert!(
        scratch.len() >= n * kqp,
        "linear_forward_bf16: scratch has {} elements, needs {}",
        scratch.len(),
        n * kqp
    );
    let xp = &mut scratch[..n * kqp];
    let rpt = n.div_ceil(par::threads()).max(1);
    par::zip_chunks_mut(xp, rpt * kqp, y, rpt * d_out, |t, xp_rows, y_rows| {
        let rows = y_rows.len() / d_out;
        let x_rows = &x[t * rpt * d_in..][..rows * d_in];
        for (xr, pr) in x_rows.chunks_exact(d_in).zip(xp_rows.chunks_exact_mut(kqp)) {
            let (pairs, pad) = pr.split_at_mut(kq);
            leaf.pack_runs(xr, pairs);
            pad.fill(0.0);
        }
        leaf.gemm_panels(rows, (kq, kqp), xp_rows, &wb.panels, d_out, y_rows, d_out);
        if let Some(b) = b {
            for row in y_rows.chunks_exact_mut(d_out) {
                for (v, bv) in row.iter_mut().zip(b) {
                    *v += bv;
                }
            }
        }
    });
    Precision::Bf16
}

#[cfg(test)]
mod tests {
    use super::{linear_forward_bf16, LinearWeightsBf16};
    use crate::kernels::products::{with_kernel_set, KernelSet, Precision};
    use crate::kernels::reference;
    use crate::kernels::testing::{pool, same_bits, uniform};

    fn run(
        set: KernelSet,
        n: usize,
        d_in: usize,
        d_out: usize,
        seed: u64,
        threads: usize,
    ) -> (Vec<f32>, Precision) {
        let (x, w, b) = (uniform(seed, n * d_in), uniform(seed ^ 1, d_out * d_in), uniform(seed ^ 2, d_out));
        let wb = LinearWeightsBf16::pack(d_out, d_in, &w);
        pool(threads).install(|| {
            with_kernel_set(set, || {
                let mut y = vec![f32::NAN; n * d_out];
                let mut scratch = vec![f32::NAN; wb.scratch_len(n)];
                let p = linear_forward_bf16(n, &x, &w, &wb, Some(&b), &mut y, &mut scratch);
                (y, p)
            })
        })
    }

    const SHAPES: [(usize, usize, usize); 5] =
        [(1, 7, 3), (5, 64, 33), (9, 301, 70), (17, 96, 32), (3, 6144, 40)];

    /// Every output within the bf16 bound against the f64 reference; not the
    /// fp32 bits; the same bits on 1, 2 and 3 threads.
    #[test]
    fn bf16_linear_is_within_the_bf16_rounding_bound_and_not_fp32() {
        let Some(set) = KernelSet::avx512().filter(|s| s.has_bf16()) else {
            eprintln!("bf16_linear_is_within_the_bf16_rounding_bound_and_not_fp32: skipped, this CPU has no AVX512_BF16");
            return;
        };
        if !set.has_amx() {
            eprintln!(
                "bf16_linear_is_within_the_bf16_rounding_bound_and_not_fp32: AMX part skipped, no AMX here"
            );
        }
        for set in std::iter::once(set).chain(set.has_amx().then(|| set.without_amx())) {
            for (i, &(n, d_in, d_out)) in SHAPES.iter().enumerate() {
                let seed = 10 + i as u64;
                let (x, w, b) =
                    (uniform(seed, n * d_in), uniform(seed ^ 1, d_out * d_in), uniform(seed ^ 2, d_out));
                let mut want = vec![0.0; n * d_out];
                reference::gemm(n, d_in, d_out, 1.0, &x, false, &w, true, 0.0, &mut want);
                let abs = |v: &[f32]| v.iter().map(|x| x.abs()).collect::<Vec<_>>();
                let mut scale = vec![0.0; n * d_out];
                reference::gemm(n, d_in, d_out, 1.0, &abs(&x), false, &abs(&w), true, 0.0, &mut scale);
                let k = d_in as f32;
                let rel = 2f32.powi(-7) * (1.0 + 2f32.powi(-9)) + k * 2f32.powi(-24) * (1.0 + 2f32.powi(-6));
                let (one, ran) = run(set, n, d_in, d_out, seed, 1);
                assert_eq!(ran, Precision::Bf16);
                for (j, &got) in one.iter().enumerate() {
                    let exact = want[j] + b[j % d_out];
                    let bound = rel * scale[j] + 2f32.powi(-24) * (b[j % d_out].abs() + exact.abs());
                    assert!(
                        (got - exact).abs() <= bound,
                        "{n}x{d_in}x{d_out}, output {j}: {got} vs {exact}, bound {bound}"
                    );
                }
                let fp32 = run(KernelSet::portable(), n, d_in, d_out, seed, 1).0;
                assert!(!same_bits(&one, &fp32), "{n}x{d_in}x{d_out}: bf16 gave the fp32 bits");
                for threads in [2, 3] {
                    assert!(same_bits(&run(set, n, d_in, d_out, seed, threads).0, &one), "{threads} threads");
                }
            }
        }
    }

    /// Without AVX512_BF16, the fp32 linear product, bit for bit.
    #[test]
    fn without_bf16_the_linear_forward_is_the_fp32_product_bit_for_bit() {
        let mut sets = vec![KernelSet::portable()];
        sets.extend(KernelSet::avx512().map(KernelSet::without_bf16));
        for set in sets {
            for (i, &(n, d_in, d_out)) in SHAPES.iter().enumerate() {
                let seed = 30 + i as u64;
                let (x, w, b) =
                    (uniform(seed, n * d_in), uniform(seed ^ 1, d_out * d_in), uniform(seed ^ 2, d_out));
                let (got, ran) = run(set, n, d_in, d_out, seed, 2);
                assert_eq!(ran, Precision::Fp32, "{set:?}");
                let want = pool(2).install(|| {
                    let mut y: Vec<f32> = b.iter().copied().cycle().take(n * d_out).collect();
                    with_kernel_set(set, || {
                        crate::kernels::gemm(n, d_in, d_out, 1.0, &x, false, &w, true, 1.0, &mut y)
                    });
                    y
                });
                assert!(same_bits(&got, &want), "{set:?} {n}x{d_in}x{d_out}: not the fp32 bits");
            }
        }
    }
}

//! bf16 inference: the forward convolution with bf16 operands and fp32
//! accumulation, on AMX tiles (`tdpbf16ps`) where the CPU and OS allow them,
//! else on AVX512_BF16 (`vdpbf16ps`), for stride-1, one-group convolutions
//! (every convolution of R-VGG).
//!
//! The weights are converted once ([`ConvWeightsBf16::pack`]); each sample is
//! converted when it is padded, into planes of channel pairs
//! ([`super::padded::Padded::pairs`]), and the product reads the column matrix
//! of pairs in place, as the fp32 padded read does. Sums, bias and ReLU are
//! fp32; the output is fp32.
//!
//! # Accuracy
//! Rounding an operand to bf16 (8 significant bits, to nearest) changes it
//! by a relative `u = 2^-8` at most (half an ulp), so each product `w x` is
//! off by at most `(2u + u^2) |w x| = 2^-7 (1 + 2^-9) |w x|`; the products
//! themselves are exact in fp32 and the `K`-term fp32 sum adds at most about
//! `K 2^-24` of the sum of the (rounded) products' magnitudes (the bound of
//! any recursive summation; `(1 + 2^-6)` covers both second-order terms).
//! One output of a convolution with `K = c_in k_h k_w` terms therefore satisfies
//! `|y_bf16 - y| <= (2^-7 (1 + 2^-9) + K 2^-24 (1 + 2^-6)) sum |w| |x|`
//! (`+ 2^-24 |b|` for the bias), which the tests check output by output
//! against the f64 reference, on both products. Inputs below 2^-126 (fp32
//! subnormals) count as zero in `vdpbf16ps` and `tdpbf16ps`.
//!
//! # Fallback
//! Where the kernel set has no AVX512_BF16 leaf (another CPU, the portable
//! set, `EEGLENS_NO_AVX512`), or the geometry is not stride 1 with one group,
//! [`conv2d_forward_bf16`] runs the fp32 forward with the fp32 weights: the
//! result is then bit for bit that of [`super::conv2d_forward`], and the
//! returned [`Precision`] says so.

use super::padded::{drive, Padded};
use super::{check, forward_impl};
use crate::kernels::geom::Conv2dGeom;
use crate::kernels::products::{KernelSet, Precision};

/// A convolution's weights converted once to bf16, in the layout the bf16
/// product reads: per output channel, the taps of each pair of input
/// channels `(2p, 2p + 1)` as bf16 pairs (channel `2p` in the low half; zero
/// for the missing partner of an odd channel count).
///
/// ```
/// use eeglens_autodiff::kernels::{conv2d_forward_bf16, Conv2dGeom, ConvWeightsBf16, Precision};
///
/// let g = Conv2dGeom { n: 1, c_in: 2, h: 4, w: 4, c_out: 3, k_h: 3, k_w: 3,
///                      stride_h: 1, stride_w: 1, pad_h: 1, pad_w: 1, groups: 1 };
/// let (x, w) = (vec![0.5f32; g.x_len()], vec![0.25f32; g.w_len()]);
/// let wb = ConvWeightsBf16::pack([3, 2, 3, 3], &w);
/// let (mut y, mut scratch) = (vec![0.0; g.y_len()], vec![0.0; g.scratch_len()]);
/// let ran = conv2d_forward_bf16(&g, &x, &w, &wb, None, &mut y, &mut scratch, false);
/// // 0.5 and 0.25 are exact in bf16: both precisions give 2 x 4 x 0.125 at a corner.
/// assert_eq!(y[0], 1.0, "{ran:?}");
/// ```
#[derive(Clone, Debug)]
pub struct ConvWeightsBf16 {
    /// `[c_out, c_in, k_h, k_w]`
    shape: [usize; 4],
    /// pairs per output channel, `ceil(c_in / 2) k_h k_w`
    kq: usize,
    /// `[c_out, kq]` bf16 pairs (bit patterns in `f32` slots, as the product reads them)
    pairs: Vec<f32>,
}

impl ConvWeightsBf16 {
    /// Converts a one-group convolution's weight `w` of `shape`
    /// `[c_out, c_in, k_h, k_w]` (row-major fp32) to bf16 pairs, each value
    /// rounded to nearest (ties to even).
    ///
    /// # Panics
    /// When `w.len()` is not the product of `shape`.
    pub fn pack(shape: [usize; 4], w: &[f32]) -> Self {
        let [c_out, c_in, k_h, k_w] = shape;
        let kk = k_h * k_w;
        assert_eq!(w.len(), c_out * c_in * kk, "ConvWeightsBf16::pack: weight of shape {shape:?}");
        let kq = c_in.div_ceil(2) * kk;
        let mut pairs = Vec::with_capacity(c_out * kq);
        for co in 0..c_out {
            for p in 0..c_in.div_ceil(2) {
                for t in 0..kk {
                    let lo = w[(co * c_in + 2 * p) * kk + t];
                    let hi = if 2 * p + 1 < c_in { w[(co * c_in + 2 * p + 1) * kk + t] } else { 0.0 };
                    pairs.push(f32::from_bits(bf16_pair(lo, hi)));
                }
            }
        }
        Self { shape, kq, pairs }
    }

    /// The weight shape these pairs were made from, `[c_out, c_in, k_h, k_w]`.
    pub fn shape(&self) -> [usize; 4] {
        self.shape
    }
}

/// The bits of `x` rounded to bf16: nearest, ties to even (what
/// `vcvtneps2bf16` does to normal numbers); NaN stays a quiet NaN.
pub(crate) fn bf16_bits(x: f32) -> u16 {
    let b = x.to_bits();
    if x.is_nan() {
        return ((b >> 16) | 0x0040) as u16;
    }
    ((b + 0x7fff + ((b >> 16) & 1)) >> 16) as u16
}

/// One bf16 pair: `lo` in the low half, `hi` in the high half.
pub(crate) fn bf16_pair(lo: f32, hi: f32) -> u32 {
    u32::from(bf16_bits(lo)) | (u32::from(bf16_bits(hi)) << 16)
}

/// Convolution forward in bf16 for inference: `y = conv(x, w) + b` (then a
/// ReLU when `relu`), overwriting `y`, with `wb` the bf16 pairs of `w`
/// ([`ConvWeightsBf16::pack`]). Returns the precision that ran: bf16 where
/// the calling thread's kernel set has AVX512_BF16 and the convolution has
/// stride 1 and one group; otherwise fp32 from `w`, bit for bit
/// [`super::conv2d_forward`] (or its fused ReLU). See the module header for
/// the error bound.
///
/// Shapes and scratch as [`super::conv2d_forward`].
///
/// # Panics
/// When the geometry is invalid, a buffer length does not match it, the
/// scratch is too short, or `wb` was packed from another shape.
pub fn conv2d_forward_bf16(
    g: &Conv2dGeom,
    x: &[f32],
    w: &[f32],
    wb: &ConvWeightsBf16,
    b: Option<&[f32]>,
    y: &mut [f32],
    scratch: &mut [f32],
    relu: bool,
) -> Precision {
    const K: &str = "conv2d_forward_bf16";
    let bufs = [("x", x.len(), g.x_len()), ("w", w.len(), g.w_len()), ("y", y.len(), g.y_len())];
    check(K, g, &bufs, scratch.len());
    if let Some(b) = b {
        check(K, g, &[("b", b.len(), g.c_out)], scratch.len());
    }
    let want = [g.c_out, g.c_in / g.groups, g.k_h, g.k_w];
    assert!(wb.shape == want, "{K}: bf16 weights of shape {:?}, the geometry {g:?} needs {want:?}", wb.shape);
    let ks = KernelSet::current();
    let Some(leaf) = ks.bf16_conv(g) else {
        forward_impl(ks, g, x, w, b, y, scratch, relu);
        return Precision::Fp32;
    };
    let pd = Padded::pairs(g);
    let kq = wb.kq;
    let pad = |x_s: &[f32], xp: &mut [f32]| pd.pad_pairs(leaf, g, x_s, xp);
    let (wp, hp) = g.padded_dims();
    let planes = (g.k_h * g.k_w, hp * wp);
    let tile = |xp: &[f32], ct: &mut [f32], (oh0, rows): (usize, usize), r0: usize| {
        let n = rows * pd.wp();
        let a = &wb.pairs[r0 * kq..];
        leaf.gemm_nn_planes(ct.len() / n, kq, n, a, kq, &xp[oh0 * pd.wp()..], pd.offs(), ct, n, planes);
    };
    drive(g, &pd, x, b, y, scratch, relu, pad, tile);
    Precision::Bf16
}

#[cfg(test)]
mod tests {
    use super::{conv2d_forward_bf16, ConvWeightsBf16};
    use crate::kernels::geom::Conv2dGeom;
    use crate::kernels::products::{with_kernel_set, KernelSet, Precision};
    use crate::kernels::testing::{conv3x3, pool, relu, same_bits, ConvData};
    use crate::kernels::{conv2d_forward, conv2d_forward_relu, reference};

    /// The bf16 sets: AMX tiles (where the CPU has them) and `vdpbf16ps`;
    /// none after saying that test `what` is skipped.
    fn bf16_sets(what: &str) -> Vec<KernelSet> {
        let Some(set) = KernelSet::avx512().filter(|s| s.has_bf16()) else {
            eprintln!("{what}: skipped, this CPU has no AVX512_BF16");
            return Vec::new();
        };
        if !set.has_amx() {
            eprintln!("{what}: AMX part skipped, no AMX here");
            return vec![set];
        }
        vec![set, set.without_amx()]
    }

    /// R-VGG's layer shapes (small batch and width), an odd channel count
    /// (a lone last channel), several tiles, a kernel wider than the
    /// padding and none at all.
    fn cases() -> Vec<Conv2dGeom> {
        let base = conv3x3(3, 5, 9, 7, 11);
        vec![
            conv3x3(2, 1, 16, 6, 40),
            conv3x3(2, 16, 16, 6, 40),
            conv3x3(3, 16, 32, 5, 30),
            conv3x3(2, 64, 64, 3, 16),
            base,
            conv3x3(2, 3, 70, 9, 300),
            Conv2dGeom { k_h: 2, k_w: 5, pad_h: 0, pad_w: 1, ..base },
            Conv2dGeom { k_h: 1, k_w: 1, pad_h: 0, pad_w: 0, ..base },
            // 20 channel pairs: not whole AMX tiles of 16, the packed product.
            conv3x3(2, 40, 17, 4, 21),
        ]
    }

    /// `conv2d_forward_bf16` on `set` and a pool of `threads`: the output and the precision that ran.
    fn run(
        set: KernelSet,
        g: &Conv2dGeom,
        d: &ConvData,
        relu: bool,
        threads: usize,
    ) -> (Vec<f32>, Precision) {
        let wb = ConvWeightsBf16::pack([g.c_out, g.c_in / g.groups, g.k_h, g.k_w], &d.w);
        pool(threads).install(|| {
            with_kernel_set(set, || {
                let mut y = vec![f32::NAN; g.y_len()];
                let mut scratch = vec![f32::NAN; g.scratch_len()];
                let p = conv2d_forward_bf16(g, &d.x, &d.w, &wb, Some(&d.b), &mut y, &mut scratch, relu);
                (y, p)
            })
        })
    }

    /// Every output within the bound of the module header, against the f64
    /// reference: `(2^-7 (1 + 2^-9) + K 2^-24 (1 + 2^-6)) sum |w| |x| + 2^-24 |b|`.
    #[test]
    fn bf16_forward_is_within_the_bf16_rounding_bound_of_the_reference() {
        for set in bf16_sets("bf16_forward_is_within_the_bf16_rounding_bound_of_the_reference") {
            for (i, g) in cases().iter().enumerate() {
                let d = ConvData::new(g, 40 + i as u64);
                let mut want = vec![0.0; g.y_len()];
                reference::conv2d_forward(g, &d.x, &d.w, Some(&d.b), &mut want);
                let abs = |v: &[f32]| v.iter().map(|x| x.abs()).collect::<Vec<_>>();
                let mut scale = vec![0.0; g.y_len()];
                reference::conv2d_forward(g, &abs(&d.x), &abs(&d.w), None, &mut scale);
                let k = (g.c_in * g.k_h * g.k_w) as f32;
                let rel = 2f32.powi(-7) * (1.0 + 2f32.powi(-9)) + k * 2f32.powi(-24) * (1.0 + 2f32.powi(-6));
                let hw = g.h_out() * g.w_out();
                let mut worst = 0.0f32;
                for threads in [1, 2, 3] {
                    let (y, ran) = run(set, g, &d, false, threads);
                    assert_eq!(ran, Precision::Bf16, "case {i}: {g:?}");
                    for (j, ((&got, &exact), &s)) in y.iter().zip(&want).zip(&scale).enumerate() {
                        let bias = d.b[(j / hw) % g.c_out].abs();
                        let bound = rel * s + 2f32.powi(-24) * bias;
                        assert!(
                        (got - exact).abs() <= bound,
                        "case {i}, {threads} thread(s), output {j}: {got} vs {exact}, bound {bound} for {g:?}"
                    );
                        worst = worst.max((got - exact).abs() / s.max(f32::MIN_POSITIVE));
                    }
                    let (y_relu, _) = run(set, g, &d, true, threads);
                    let r: Vec<f32> = y.iter().map(|&v| relu(v)).collect();
                    assert!(same_bits(&y_relu, &r), "case {i}, {threads} thread(s): fused ReLU for {g:?}");
                }
                // The bound is not vacuous: errors come within a factor of it.
                assert!(worst > rel / 256.0, "case {i}: worst error {worst:e} of sum |w x|, bound {rel:e}");
            }
        }
    }

    /// The bf16 path really ran: on random data its output differs from the
    /// fp32 path's somewhere, and the results do not depend on the thread count.
    #[test]
    fn bf16_forward_is_not_the_fp32_forward_and_does_not_depend_on_threads() {
        for set in bf16_sets("bf16_forward_is_not_the_fp32_forward_and_does_not_depend_on_threads") {
            for (i, g) in cases().iter().enumerate() {
                let d = ConvData::new(g, 80 + i as u64);
                let fp32 = with_kernel_set(set, || {
                    let mut y = vec![f32::NAN; g.y_len()];
                    let mut scratch = vec![f32::NAN; g.scratch_len()];
                    conv2d_forward(g, &d.x, &d.w, Some(&d.b), &mut y, &mut scratch);
                    y
                });
                let (one, _) = run(set, g, &d, false, 1);
                assert!(!same_bits(&one, &fp32), "case {i}: bf16 gave the fp32 bits for {g:?}");
                for threads in [2, 3] {
                    assert!(
                        same_bits(&run(set, g, &d, false, threads).0, &one),
                        "case {i}, {threads} threads"
                    );
                }
            }
        }
    }

    /// Without AVX512_BF16 (the portable set, the AVX-512 set without its bf16
    /// leaf) or for a geometry the bf16 path does not take (stride 2, groups),
    /// the result is the fp32 forward's, bit for bit, and says fp32.
    #[test]
    fn without_bf16_the_forward_is_the_fp32_forward_bit_for_bit() {
        let mut sets = vec![KernelSet::portable()];
        sets.extend(KernelSet::avx512().map(KernelSet::without_bf16));
        sets.extend(KernelSet::avx512().filter(|s| s.has_bf16()));
        sets.extend(KernelSet::avx512().filter(|s| s.has_amx()).map(KernelSet::without_amx));
        let base = conv3x3(2, 4, 6, 7, 11);
        let geoms = [
            (base, false),
            (conv3x3(3, 1, 16, 6, 40), false),
            (Conv2dGeom { stride_w: 2, ..base }, true),
            (Conv2dGeom { groups: 2, ..base }, true),
        ];
        for set in sets {
            for (i, &(g, never_bf16)) in geoms.iter().enumerate() {
                let d = ConvData::new(&g, 120 + i as u64);
                for relu_on in [false, true] {
                    let want = with_kernel_set(set, || {
                        let mut y = vec![f32::NAN; g.y_len()];
                        let mut scratch = vec![f32::NAN; g.scratch_len()];
                        let f = if relu_on { conv2d_forward_relu } else { conv2d_forward };
                        f(&g, &d.x, &d.w, Some(&d.b), &mut y, &mut scratch);
                        y
                    });
                    let (got, ran) = run(set, &g, &d, relu_on, 2);
                    if set.has_bf16() && !never_bf16 {
                        assert_eq!(ran, Precision::Bf16);
                        continue;
                    }
                    assert_eq!(ran, Precision::Fp32, "{set:?}, case {i}");
                    assert!(same_bits(&got, &want), "{set:?}, case {i}, relu {relu_on}: not the fp32 bits");
                }
            }
        }
    }

    #[test]
    fn packing_pairs_channels_and_zero_fills_an_odd_last_channel() {
        // c_out 1, c_in 3, 1x2 taps: pairs (ch0, ch1) per tap, then (ch2, 0).
        let w = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let wb = ConvWeightsBf16::pack([1, 3, 1, 2], &w);
        let bits = |lo: f32, hi: f32| (lo.to_bits() >> 16) | (hi.to_bits() & 0xffff_0000);
        let got: Vec<u32> = wb.pairs.iter().map(|p| p.to_bits()).collect();
        assert_eq!(got, vec![bits(1.0, 3.0), bits(2.0, 4.0), bits(5.0, 0.0), bits(6.0, 0.0)]);
        assert_eq!((wb.kq, wb.shape()), (4, [1, 3, 1, 2]));
    }

    #[test]
    fn weights_of_another_shape_are_a_panic_naming_the_kernel() {
        let g = conv3x3(1, 2, 3, 4, 4);
        let wb = ConvWeightsBf16::pack([3, 1, 3, 3], &[0.0; 27]);
        let err = std::panic::catch_unwind(|| {
            let (x, w) = (vec![0.0; g.x_len()], vec![0.0; g.w_len()]);
            let (mut y, mut s) = (vec![0.0; g.y_len()], vec![0.0; g.scratch_len()]);
            conv2d_forward_bf16(&g, &x, &w, &wb, None, &mut y, &mut s, false);
        })
        .expect_err("the weights do not fit");
        let msg = err.downcast_ref::<String>().map_or("", String::as_str);
        assert!(msg.starts_with("conv2d_forward_bf16: bf16 weights of shape [3, 1, 3, 3]"), "{msg}");
    }
}

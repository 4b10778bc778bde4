//! The AVX512_BF16 leaf: the one product of the bf16 inference path, and the
//! conversion that packs activations for it.
//!
//! `vdpbf16ps` (`_mm512_dpbf16_ps`) multiplies sixteen *pairs* of bf16 values
//! and adds each pair's two products to one fp32 lane: twice the
//! multiply-adds of an fp32 FMA per instruction. Its operands therefore hold
//! the inner dimension two at a time: a 32-bit lane is a pair of bf16 values
//! (the first in the low half) for two consecutive inner indices. Both
//! operands of [`Avx512Bf16::gemm_nn_rows`] come in that layout:
//!
//! - `A` (the weights), `m` rows of `kq` pairs, converted once by the caller;
//! - `B` (the activations), `kq` rows of `n` pairs found through a table of
//!   row starts, as in the fp32 padded read; [`Avx512Bf16::pack_pairs`]
//!   converts two fp32 rows into one row of pairs (round to nearest even).
//!
//! Accumulation is in fp32 (`vdpbf16ps` adds each product to the fp32 lane),
//! and so is the output. Activation pairs are stored as raw bit patterns in
//! `f32` slots, so that they can live in the engine's `f32` scratch: nothing
//! computes on those slots as numbers.
//!
//! A leaf like [`super::avx512`]: it imports no other kernel module, its
//! functions only compute, and they are methods of a token that exists only
//! on a CPU with AVX-512F and AVX512_BF16 ([`Avx512Bf16::detect`]). Whether
//! they run is decided in [`super::products`].

use super::avx512::rows_operands;

/// Proof that this CPU has AVX-512F and AVX512_BF16. Made only by [`Avx512Bf16::detect`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
// Never made off x86-64, where the kernels are stubs that cannot be reached.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub(crate) struct Avx512Bf16 {
    _detected: (),
}

impl Avx512Bf16 {
    /// The token, when the CPU has AVX-512F and AVX512_BF16 (read from the
    /// CPU every call; the kernel set is chosen once, in [`super::products`]).
    pub(crate) fn detect() -> Option<Self> {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("avx512bf16")
        {
            return Some(Self { _detected: () });
        }
        None
    }

    /// `C[m x n] = A B`, overwriting `C` (row stride `ldc`): `A` is `m` rows of
    /// `kq` bf16 pairs with row stride `lda`; row `q` of `B` is the `n` pairs
    /// at `b[offs[q]..]` (both operands bit patterns in `f32` slots). Each
    /// output is an fp32 sum of `2 kq` products of bf16 values.
    ///
    /// # Panics
    /// When `offs.len() != kq` or an operand does not fit its slice.
    pub(crate) fn gemm_nn_rows(
        self,
        m: usize,
        kq: usize,
        n: usize,
        a: &[f32],
        lda: usize,
        b: &[f32],
        offs: &[usize],
        c: &mut [f32],
        ldc: usize,
    ) {
        if !rows_operands("gemm_nn_rows_bf16", m, kq, n, a, lda, b, offs, c, ldc) {
            return;
        }
        #[cfg(target_arch = "x86_64")]
        #[allow(unsafe_code)]
        // SAFETY: `self` proves the CPU has AVX-512F and AVX512_BF16; the
        // checks prove that A[i * lda + q], B[offs[q] + j] and C[i * ldc + j]
        // for i < m, q < kq, j < n lie inside their slices, and that the table
        // has kq entries. `u32` and `f32` have the same size and alignment, so
        // `a` and `b` read as `u32`s stay inside their slices.
        unsafe {
            imp::gemm_nn_rows(
                m,
                kq,
                n,
                a.as_ptr().cast::<u32>(),
                lda,
                b.as_ptr().cast::<u32>(),
                offs.as_ptr(),
                c.as_mut_ptr(),
                ldc,
            );
        }
        #[cfg(not(target_arch = "x86_64"))]
        unreachable!("an Avx512Bf16 token exists only on x86-64");
    }

    /// `out[q] = pair(x[2q], x[2q + 1])` for `q < out.len() = ceil(x.len() / 2)`
    /// (the partner of an odd length's last value is zero): a row whose
    /// consecutive values are the inner dimension (a linear layer's input),
    /// rounded to bf16 as [`Self::pack_pairs`] rounds.
    ///
    /// # Panics
    /// When `out.len() != ceil(x.len() / 2)`.
    pub(crate) fn pack_runs(self, x: &[f32], out: &mut [f32]) {
        assert_eq!(out.len(), x.len().div_ceil(2), "pack_runs: {} values into {} pairs", x.len(), out.len());
        #[cfg(target_arch = "x86_64")]
        #[allow(unsafe_code)]
        // SAFETY: `self` proves AVX-512F and AVX512_BF16; `x` has `x.len()`
        // elements and `out` ceil(x.len() / 2) (checked above), a unique borrow.
        unsafe {
            imp::pack_runs(x.len(), x.as_ptr(), out.as_mut_ptr().cast::<u32>());
        }
        #[cfg(not(target_arch = "x86_64"))]
        unreachable!("an Avx512Bf16 token exists only on x86-64");
    }

    /// `out[j] = pair(lo[j], hi[j])`: both rounded to bf16 (nearest, ties to
    /// even), `lo` in the low half of the 32-bit pattern, stored as the bits
    /// of an `f32` slot. Without `hi` the high half is zero (an odd channel
    /// count's last pair).
    ///
    /// # Panics
    /// When the three lengths differ.
    pub(crate) fn pack_pairs(self, lo: &[f32], hi: Option<&[f32]>, out: &mut [f32]) {
        assert!(
            lo.len() == out.len() && hi.is_none_or(|h| h.len() == lo.len()),
            "pack_pairs: rows of {}, {:?} and {} values",
            lo.len(),
            hi.map(<[f32]>::len),
            out.len()
        );
        #[cfg(target_arch = "x86_64")]
        #[allow(unsafe_code)]
        // SAFETY: `self` proves AVX-512F and AVX512_BF16; the three slices
        // have `lo.len()` elements (checked above) and `out` is a unique borrow.
        unsafe {
            let hi = hi.map_or(std::ptr::null(), <[f32]>::as_ptr);
            imp::pack_pairs(lo.len(), lo.as_ptr(), hi, out.as_mut_ptr().cast::<u32>());
        }
        #[cfg(not(target_arch = "x86_64"))]
        unreachable!("an Avx512Bf16 token exists only on x86-64");
    }
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod imp {
    //! The AVX512_BF16 intrinsics. Every function here is `unsafe`: the caller
    //! guarantees AVX-512F and AVX512_BF16 and that every index named in its
    //! docs is in bounds.

    use std::arch::x86_64::*;

    /// Rows of the register block.
    const MR: usize = 8;
    /// Columns of the register block (two vectors of sixteen fp32 lanes).
    const NR: usize = 32;
    /// Lanes of a vector.
    const L: usize = 16;

    /// Lanes `0..min(n, 16)` set.
    #[inline]
    fn mask(n: usize) -> __mmask16 {
        if n >= L {
            0xffff
        } else {
            ((1u32 << n) - 1) as __mmask16
        }
    }

    /// # Safety
    /// AVX-512F and AVX512_BF16; `A[i * lda + q]`, `B[offs[q] + j]`,
    /// `C[i * ldc + j]` in bounds for `i < m`, `q < kq`, `j < n`; `offs` has `kq` entries.
    #[target_feature(enable = "avx512f,avx512bf16")]
    pub(super) unsafe fn gemm_nn_rows(
        m: usize,
        kq: usize,
        n: usize,
        a: *const u32,
        lda: usize,
        b: *const u32,
        offs: *const usize,
        c: *mut f32,
        ldc: usize,
    ) {
        let mut j = 0;
        while j < n {
            let w = (n - j).min(NR);
            let (m0, m1) = (mask(w), mask(w.saturating_sub(L)));
            let mut i = 0;
            while i < m {
                let rows = (m - i).min(MR);
                // SAFETY: rows i..i + rows and columns j..j + w are inside the
                // operands (caller's contract).
                unsafe {
                    let (ab, bj, cb) = (a.add(i * lda), b.add(j), c.add(i * ldc + j));
                    match rows {
                        8 => block::<8>(kq, ab, lda, bj, offs, cb, ldc, m0, m1),
                        7 => block::<7>(kq, ab, lda, bj, offs, cb, ldc, m0, m1),
                        6 => block::<6>(kq, ab, lda, bj, offs, cb, ldc, m0, m1),
                        5 => block::<5>(kq, ab, lda, bj, offs, cb, ldc, m0, m1),
                        4 => block::<4>(kq, ab, lda, bj, offs, cb, ldc, m0, m1),
                        3 => block::<3>(kq, ab, lda, bj, offs, cb, ldc, m0, m1),
                        2 => block::<2>(kq, ab, lda, bj, offs, cb, ldc, m0, m1),
                        _ => block::<1>(kq, ab, lda, bj, offs, cb, ldc, m0, m1),
                    }
                }
                i += rows;
            }
            j += w;
        }
    }

    /// One `R x 32` block of `C` (columns masked by `m0`, `m1`): per pair
    /// row `q`, two vector loads of `B`, `R` broadcasts of a weight pair and
    /// `2 R` dot-product instructions of 32 multiply-adds each.
    ///
    /// # Safety
    /// As [`gemm_nn_rows`], for `R` rows and the masked columns.
    #[target_feature(enable = "avx512f,avx512bf16")]
    #[inline]
    unsafe fn block<const R: usize>(
        kq: usize,
        a: *const u32,
        lda: usize,
        b: *const u32,
        offs: *const usize,
        c: *mut f32,
        ldc: usize,
        m0: __mmask16,
        m1: __mmask16,
    ) {
        let mut acc0 = [_mm512_setzero_ps(); R];
        let mut acc1 = [_mm512_setzero_ps(); R];
        for q in 0..kq {
            // SAFETY: row q of B, masked to the block's columns; A[r, q] for r < R.
            // The transmutes reinterpret 512 bits as 32 bf16 values.
            unsafe {
                let bp = b.add(*offs.add(q));
                let b0: __m512bh = std::mem::transmute(_mm512_maskz_loadu_epi32(m0, bp.cast::<i32>()));
                // The second vector may start past the end when the block is
                // narrow: its lanes are all masked off, and masked lanes never fault.
                let b1: __m512bh =
                    std::mem::transmute(_mm512_maskz_loadu_epi32(m1, bp.wrapping_add(L).cast::<i32>()));
                for r in 0..R {
                    let av: __m512bh = std::mem::transmute(_mm512_set1_epi32(*a.add(r * lda + q) as i32));
                    acc0[r] = _mm512_dpbf16_ps(acc0[r], av, b0);
                    acc1[r] = _mm512_dpbf16_ps(acc1[r], av, b1);
                }
            }
        }
        for r in 0..R {
            // SAFETY: row r of the block of C, masked to its columns.
            unsafe {
                let cr = c.add(r * ldc);
                _mm512_mask_storeu_ps(cr, m0, acc0[r]);
                _mm512_mask_storeu_ps(cr.wrapping_add(L), m1, acc1[r]);
            }
        }
    }

    /// # Safety
    /// AVX-512F and AVX512_BF16; `x[i]` for `i < len` and `out[q]` for
    /// `q < ceil(len / 2)` in bounds.
    #[target_feature(enable = "avx512f,avx512bf16")]
    pub(super) unsafe fn pack_runs(len: usize, x: *const f32, out: *mut u32) {
        let mut i = 0;
        while i < len {
            let rest = len - i;
            // SAFETY: elements i..i + 32 of x masked to len, pairs i / 2.. of
            // out masked to ceil(len / 2); masked lanes never fault.
            unsafe {
                let v0 = _mm512_maskz_loadu_ps(mask(rest), x.add(i));
                let v1 = _mm512_maskz_loadu_ps(mask(rest.saturating_sub(L)), x.wrapping_add(i + L));
                // Values i..i + 16 in the low half, then i + 16..i + 32: in
                // memory order, so consecutive values pair up.
                let pairs: __m512i = std::mem::transmute(_mm512_cvtne2ps_pbh(v1, v0));
                _mm512_mask_storeu_epi32(out.add(i / 2).cast::<i32>(), mask(rest.div_ceil(2)), pairs);
            }
            i += 2 * L;
        }
    }

    /// # Safety
    /// AVX-512F and AVX512_BF16; `lo[j]`, `out[j]` and (unless `hi` is null)
    /// `hi[j]` in bounds for `j < len`.
    #[target_feature(enable = "avx512f,avx512bf16")]
    pub(super) unsafe fn pack_pairs(len: usize, lo: *const f32, hi: *const f32, out: *mut u32) {
        let mut j = 0;
        while j < len {
            let mk = mask(len - j);
            // SAFETY: elements j..j + 16, masked to len (caller's contract).
            unsafe {
                let l: __m256i =
                    std::mem::transmute(_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(mk, lo.add(j))));
                let mut pair = _mm512_cvtepu16_epi32(l);
                if !hi.is_null() {
                    let h: __m256i =
                        std::mem::transmute(_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(mk, hi.add(j))));
                    pair = _mm512_or_si512(pair, _mm512_slli_epi32::<16>(_mm512_cvtepu16_epi32(h)));
                }
                _mm512_mask_storeu_epi32(out.add(j).cast::<i32>(), mk, pair);
            }
            j += L;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Avx512Bf16;
    use crate::kernels::reference;
    use crate::kernels::testing::{bf16_pair, to_bf16};

    /// The token, or `None` after saying that test `what` is skipped.
    fn token(what: &str) -> Option<Avx512Bf16> {
        let t = Avx512Bf16::detect();
        if t.is_none() {
            eprintln!("{what}: skipped, this CPU has no AVX512_BF16");
        }
        t
    }

    /// Values with at most 8 significant bits (exact in bf16) whose products
    /// and sums of a few hundred terms are exact in fp32: the bf16 product must
    /// then equal the reference exactly, which tests every index of the
    /// register block and its remainders, not only the rounding.
    fn exact(seed: u64, len: usize) -> Vec<f32> {
        (0..len as u64).map(|i| (((i * 37 + seed * 11) % 31) as f32 - 15.0) / 8.0).collect()
    }

    #[test]
    fn the_product_is_exact_on_bf16_values_for_every_remainder() {
        let Some(t) = token("the_product_is_exact_on_bf16_values_for_every_remainder") else { return };
        for m in [1, 3, 7, 8, 9, 17] {
            for kq in [0, 1, 2, 5, 20] {
                for n in [1, 15, 16, 17, 31, 32, 33, 70] {
                    let k = 2 * kq;
                    let (a, bm) = (exact(1, m * k), exact(2, k * n));
                    // A as pairs along k; B's pair rows interleave rows 2q and 2q + 1,
                    // placed with a gap of 3 slots between rows to exercise the table.
                    let a_pairs: Vec<f32> =
                        (0..m * kq).map(|i| f32::from_bits(bf16_pair(a[2 * i], a[2 * i + 1]))).collect();
                    let ld = n + 3;
                    let mut b = vec![f32::NAN; kq * ld];
                    for q in 0..kq {
                        for j in 0..n {
                            b[q * ld + j] =
                                f32::from_bits(bf16_pair(bm[2 * q * n + j], bm[(2 * q + 1) * n + j]));
                        }
                    }
                    let offs: Vec<usize> = (0..kq).map(|q| q * ld).collect();
                    let ldc = n + 1;
                    let mut c = vec![f32::NAN; m * ldc];
                    t.gemm_nn_rows(m, kq, n, &a_pairs, kq, &b, &offs, &mut c, ldc);
                    let mut want = vec![0.0; m * n];
                    reference::gemm(m, k, n, 1.0, &a, false, &bm, false, 0.0, &mut want);
                    for i in 0..m {
                        for j in 0..n {
                            assert_eq!(c[i * ldc + j], want[i * n + j], "{m}x{k}x{n} at ({i}, {j})");
                        }
                        assert!(c[i * ldc + n].is_nan(), "{m}x{k}x{n}: wrote between rows of C");
                    }
                }
            }
        }
    }

    /// The hardware conversion rounds as the portable one in `testing`
    /// (nearest, ties to even) on normal numbers, ties and carries included.
    #[test]
    fn packing_rounds_to_nearest_even_and_pairs_low_then_high() {
        let Some(t) = token("packing_rounds_to_nearest_even_and_pairs_low_then_high") else { return };
        let mut lo: Vec<f32> = crate::kernels::testing::uniform(5, 37).iter().map(|v| v * 300.0).collect();
        // Ties: 1 + 2^-8 rounds down to 1 (even), 1 + 3 * 2^-8 up to 1 + 2^-6; a carry into the exponent.
        lo[..4].copy_from_slice(&[1.0 + 1.0 / 256.0, 1.0 + 3.0 / 256.0, f32::from_bits(0x3fff_ffff), -0.0]);
        let hi: Vec<f32> = crate::kernels::testing::uniform(6, 37);
        let mut out = vec![f32::NAN; 37];
        t.pack_pairs(&lo, Some(&hi), &mut out);
        for j in 0..37 {
            assert_eq!(out[j].to_bits(), bf16_pair(lo[j], hi[j]), "element {j}: {} {}", lo[j], hi[j]);
        }
        assert_eq!(to_bf16(1.0 + 1.0 / 256.0), 1.0);
        assert_eq!(to_bf16(1.0 + 3.0 / 256.0), 1.0 + 4.0 / 256.0);
        assert_eq!(to_bf16(f32::from_bits(0x3fff_ffff)), 2.0);
        t.pack_pairs(&lo, None, &mut out);
        assert!(out.iter().zip(&lo).all(|(o, &l)| o.to_bits() == bf16_pair(l, 0.0)));
        // Consecutive values pair up, an odd length's last with zero; every length around 32.
        for len in [1usize, 2, 15, 16, 17, 31, 32, 33, 37] {
            let mut runs = vec![f32::NAN; len.div_ceil(2) + 1];
            t.pack_runs(&lo[..len], &mut runs[..len.div_ceil(2)]);
            for q in 0..len.div_ceil(2) {
                let hi = if 2 * q + 1 < len { lo[2 * q + 1] } else { 0.0 };
                assert_eq!(runs[q].to_bits(), bf16_pair(lo[2 * q], hi), "length {len}, pair {q}");
            }
            assert!(runs[len.div_ceil(2)].is_nan(), "length {len}: wrote past the pairs");
        }
    }
}

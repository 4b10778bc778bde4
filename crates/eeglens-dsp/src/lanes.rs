//! Channels in SIMD lanes: the one runtime detection point of the crate's hand-written SIMD,
//! and the vector types the multi-channel kernels are written over.
//!
//! An IIR cascade is serial in time but independent across channels, and a polyphase
//! resampler applies the same taps to every channel, so the multi-channel kernels
//! ([`crate::Sos::filtfilt_channels`], [`crate::Resampler::process_channels`]) put one channel
//! in each lane of a vector: 8 `f64` lanes with AVX-512, 4 with AVX2. Data is turned
//! time-major (`[time][lane]`) in tiles, so one vector holds one time step of every channel of
//! a block.
//!
//! Each lane does exactly the arithmetic of the per-channel scalar code, operation for
//! operation (separate multiplies and adds, never fused, in the same order), so results are
//! bit-for-bit those of the scalar path whatever the path, the block size or the number of
//! threads. The kernels are generic over [`F64s`] and compiled once per instruction set inside
//! a `#[target_feature]` entry point.
//!
//! The path is chosen once per process ([`Lanes::process_default`]): AVX-512F if the CPU has it,
//! else AVX2, else the scalar per-channel code. Setting `EEGLENS_NO_AVX512` (as for the
//! autodiff kernels) turns the hand-written SIMD off and runs the scalar path.
#![allow(unsafe_code)]

use std::sync::OnceLock;

/// Environment variable that turns the SIMD kernels off (the scalar path runs).
pub const NO_AVX512_VAR: &str = "EEGLENS_NO_AVX512";

/// Which implementation the multi-channel DSP kernels use.
///
/// The SIMD variants exist only once the CPU has been seen to support them
/// ([`Lanes::available`]), so holding one is the proof their `unsafe` entry points need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lanes {
    /// The per-channel scalar code (the reference).
    Scalar,
    /// 4 channels per `__m256d` (AVX2).
    Avx2(Detected),
    /// 8 channels per `__m512d` (AVX-512F).
    Avx512(Detected),
}

/// Proof of a runtime detection; only [`Lanes::available`] makes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Detected {
    _private: (),
}

impl Lanes {
    /// Every path this CPU can run, scalar first, widest last.
    pub(crate) fn available() -> Vec<Lanes> {
        #[allow(unused_mut)]
        let mut out = vec![Lanes::Scalar];
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                out.push(Lanes::Avx2(Detected { _private: () }));
            }
            if std::arch::is_x86_feature_detected!("avx512f") {
                out.push(Lanes::Avx512(Detected { _private: () }));
            }
        }
        out
    }

    /// The path of this process: the widest available, or scalar when `EEGLENS_NO_AVX512`
    /// is set. Read once.
    pub(crate) fn process_default() -> Lanes {
        static CHOICE: OnceLock<Lanes> = OnceLock::new();
        *CHOICE.get_or_init(|| {
            if std::env::var_os(NO_AVX512_VAR).is_some() {
                Lanes::Scalar
            } else {
                *Lanes::available().last().expect("the scalar path is always available")
            }
        })
    }

    /// Channels per vector (1 for the scalar path).
    pub(crate) fn width(self) -> usize {
        match self {
            Lanes::Scalar => 1,
            Lanes::Avx2(_) => 4,
            Lanes::Avx512(_) => 8,
        }
    }

    /// A short name for reports: `avx512 (8 channels per vector)`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Lanes::Scalar => "scalar",
            Lanes::Avx2(_) => "avx2",
            Lanes::Avx512(_) => "avx512",
        }
    }
}

/// The multi-channel DSP path this process uses: `"avx512"` (8 channels per vector),
/// `"avx2"` (4) or `"scalar"` (one channel at a time; also when `EEGLENS_NO_AVX512` is set).
/// All paths give bit-identical results.
pub fn simd_path() -> &'static str {
    Lanes::process_default().name()
}

/// A vector of `LANES` `f64`s, one channel per lane, with the few operations the kernels need.
///
/// # Safety
/// Every method may only be called on a CPU with the instruction set of the implementing type
/// (the kernels are entered through a [`Lanes`] value, which proves it).
pub(crate) trait F64s: Copy {
    /// Lanes per vector.
    const LANES: usize;
    /// All lanes `v`.
    unsafe fn splat(v: f64) -> Self;
    /// Loads `LANES` values from the start of `s`.
    unsafe fn load(s: &[f64]) -> Self;
    /// Stores the lanes to the start of `s`.
    unsafe fn store(self, s: &mut [f64]);
    /// Lane-wise `self + o`, rounded once.
    unsafe fn add(self, o: Self) -> Self;
    /// Lane-wise `self - o`, rounded once.
    unsafe fn sub(self, o: Self) -> Self;
    /// Lane-wise `self * o`, rounded once (never fused with a following add).
    unsafe fn mul(self, o: Self) -> Self;
    /// Transposes a `LANES x LANES` square: row `i` is `src[i * src_stride..][..LANES]`, and
    /// column `j` goes to `dst[j * dst_stride..][..LANES]`.
    unsafe fn transpose(src: &[f64], src_stride: usize, dst: &mut [f64], dst_stride: usize);
}

/// One lane: the plain `f64` arithmetic (the multi-channel drivers at width 1).
#[derive(Clone, Copy)]
pub(crate) struct V1(f64);

impl F64s for V1 {
    const LANES: usize = 1;
    #[inline(always)]
    unsafe fn splat(v: f64) -> Self {
        V1(v)
    }
    #[inline(always)]
    unsafe fn load(s: &[f64]) -> Self {
        V1(s[0])
    }
    #[inline(always)]
    unsafe fn store(self, s: &mut [f64]) {
        s[0] = self.0;
    }
    #[inline(always)]
    unsafe fn add(self, o: Self) -> Self {
        V1(self.0 + o.0)
    }
    #[inline(always)]
    unsafe fn sub(self, o: Self) -> Self {
        V1(self.0 - o.0)
    }
    #[inline(always)]
    unsafe fn mul(self, o: Self) -> Self {
        V1(self.0 * o.0)
    }
    #[inline(always)]
    unsafe fn transpose(src: &[f64], _: usize, dst: &mut [f64], _: usize) {
        dst[0] = src[0];
    }
}

/// Copies `len` time steps of `V::LANES` rows (row `j` at `rows[j * stride..]`) into the
/// time-major `tm` (`tm[t * LANES + j]`): squares of `LANES x LANES` through registers, the
/// remainder one value at a time.
///
/// # Safety
/// The CPU must support `V`'s instruction set.
#[inline(always)]
pub(crate) unsafe fn rows_to_time_major<V: F64s>(rows: &[f64], stride: usize, len: usize, tm: &mut [f64]) {
    let w = V::LANES;
    assert!(rows.len() >= (w - 1) * stride + len && tm.len() >= len * w && len <= stride);
    let full = len / w * w;
    for t in (0..full).step_by(w) {
        unsafe { V::transpose(&rows[t..], stride, &mut tm[t * w..], w) };
    }
    for t in full..len {
        for j in 0..w {
            tm[t * w + j] = rows[j * stride + t];
        }
    }
}

/// The inverse of [`rows_to_time_major`].
///
/// # Safety
/// The CPU must support `V`'s instruction set.
#[inline(always)]
pub(crate) unsafe fn time_major_to_rows<V: F64s>(tm: &[f64], len: usize, rows: &mut [f64], stride: usize) {
    let w = V::LANES;
    assert!(rows.len() >= (w - 1) * stride + len && tm.len() >= len * w && len <= stride);
    let full = len / w * w;
    for t in (0..full).step_by(w) {
        unsafe { V::transpose(&tm[t * w..], w, &mut rows[t..], stride) };
    }
    for t in full..len {
        for j in 0..w {
            rows[j * stride + t] = tm[t * w + j];
        }
    }
}

#[cfg(target_arch = "x86_64")]
pub(crate) use x86::{V256, V512};

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::F64s;
    use std::arch::x86_64::*;

    /// Four `f64` lanes (AVX2 / AVX).
    #[derive(Clone, Copy)]
    pub(crate) struct V256(__m256d);

    /// Eight `f64` lanes (AVX-512F).
    #[derive(Clone, Copy)]
    pub(crate) struct V512(__m512d);

    impl F64s for V256 {
        const LANES: usize = 4;
        #[inline(always)]
        unsafe fn splat(v: f64) -> Self {
            V256(unsafe { _mm256_set1_pd(v) })
        }
        #[inline(always)]
        unsafe fn load(s: &[f64]) -> Self {
            debug_assert!(s.len() >= 4);
            V256(unsafe { _mm256_loadu_pd(s.as_ptr()) })
        }
        #[inline(always)]
        unsafe fn store(self, s: &mut [f64]) {
            debug_assert!(s.len() >= 4);
            unsafe { _mm256_storeu_pd(s.as_mut_ptr(), self.0) }
        }
        #[inline(always)]
        unsafe fn add(self, o: Self) -> Self {
            V256(unsafe { _mm256_add_pd(self.0, o.0) })
        }
        #[inline(always)]
        unsafe fn sub(self, o: Self) -> Self {
            V256(unsafe { _mm256_sub_pd(self.0, o.0) })
        }
        #[inline(always)]
        unsafe fn mul(self, o: Self) -> Self {
            V256(unsafe { _mm256_mul_pd(self.0, o.0) })
        }
        #[inline(always)]
        unsafe fn transpose(src: &[f64], src_stride: usize, dst: &mut [f64], dst_stride: usize) {
            assert!(src.len() >= 3 * src_stride + 4 && dst.len() >= 3 * dst_stride + 4);
            unsafe {
                let mut r = [_mm256_setzero_pd(); 4];
                for (i, v) in r.iter_mut().enumerate() {
                    *v = _mm256_loadu_pd(src.as_ptr().add(i * src_stride));
                }
                // r0[0] r1[0] r0[2] r1[2] | r0[1] r1[1] r0[3] r1[3], and rows 2, 3 alike.
                let t0 = _mm256_unpacklo_pd(r[0], r[1]);
                let t1 = _mm256_unpackhi_pd(r[0], r[1]);
                let t2 = _mm256_unpacklo_pd(r[2], r[3]);
                let t3 = _mm256_unpackhi_pd(r[2], r[3]);
                let c = [
                    _mm256_permute2f128_pd(t0, t2, 0x20),
                    _mm256_permute2f128_pd(t1, t3, 0x20),
                    _mm256_permute2f128_pd(t0, t2, 0x31),
                    _mm256_permute2f128_pd(t1, t3, 0x31),
                ];
                for (j, v) in c.iter().enumerate() {
                    _mm256_storeu_pd(dst.as_mut_ptr().add(j * dst_stride), *v);
                }
            }
        }
    }

    impl F64s for V512 {
        const LANES: usize = 8;
        #[inline(always)]
        unsafe fn splat(v: f64) -> Self {
            V512(unsafe { _mm512_set1_pd(v) })
        }
        #[inline(always)]
        unsafe fn load(s: &[f64]) -> Self {
            debug_assert!(s.len() >= 8);
            V512(unsafe { _mm512_loadu_pd(s.as_ptr()) })
        }
        #[inline(always)]
        unsafe fn store(self, s: &mut [f64]) {
            debug_assert!(s.len() >= 8);
            unsafe { _mm512_storeu_pd(s.as_mut_ptr(), self.0) }
        }
        #[inline(always)]
        unsafe fn add(self, o: Self) -> Self {
            V512(unsafe { _mm512_add_pd(self.0, o.0) })
        }
        #[inline(always)]
        unsafe fn sub(self, o: Self) -> Self {
            V512(unsafe { _mm512_sub_pd(self.0, o.0) })
        }
        #[inline(always)]
        unsafe fn mul(self, o: Self) -> Self {
            V512(unsafe { _mm512_mul_pd(self.0, o.0) })
        }
        #[inline(always)]
        unsafe fn transpose(src: &[f64], src_stride: usize, dst: &mut [f64], dst_stride: usize) {
            assert!(src.len() >= 7 * src_stride + 8 && dst.len() >= 7 * dst_stride + 8);
            unsafe {
                let mut r = [_mm512_setzero_pd(); 8];
                for (i, v) in r.iter_mut().enumerate() {
                    *v = _mm512_loadu_pd(src.as_ptr().add(i * src_stride));
                }
                // Pairs of rows interleaved: t[2k] = r[2k][0] r[2k+1][0] r[2k][2] r[2k+1][2] ...,
                // t[2k+1] the odd elements.
                let mut t = [_mm512_setzero_pd(); 8];
                for k in 0..4 {
                    t[2 * k] = _mm512_unpacklo_pd(r[2 * k], r[2 * k + 1]);
                    t[2 * k + 1] = _mm512_unpackhi_pd(r[2 * k], r[2 * k + 1]);
                }
                // 128-bit lanes of two pairs: u[0] = columns 0 and 4 of rows 0-3, u[1] = 2 and 6,
                // u[2] = 1 and 5, u[3] = 3 and 7; u[4..8] the same for rows 4-7.
                let mut u = [_mm512_setzero_pd(); 8];
                for h in 0..2 {
                    let (a, b, c, d) = (t[4 * h], t[4 * h + 1], t[4 * h + 2], t[4 * h + 3]);
                    u[4 * h] = _mm512_shuffle_f64x2::<0x88>(a, c);
                    u[4 * h + 1] = _mm512_shuffle_f64x2::<0xdd>(a, c);
                    u[4 * h + 2] = _mm512_shuffle_f64x2::<0x88>(b, d);
                    u[4 * h + 3] = _mm512_shuffle_f64x2::<0xdd>(b, d);
                }
                let c = [
                    _mm512_shuffle_f64x2::<0x88>(u[0], u[4]),
                    _mm512_shuffle_f64x2::<0x88>(u[2], u[6]),
                    _mm512_shuffle_f64x2::<0x88>(u[1], u[5]),
                    _mm512_shuffle_f64x2::<0x88>(u[3], u[7]),
                    _mm512_shuffle_f64x2::<0xdd>(u[0], u[4]),
                    _mm512_shuffle_f64x2::<0xdd>(u[2], u[6]),
                    _mm512_shuffle_f64x2::<0xdd>(u[1], u[5]),
                    _mm512_shuffle_f64x2::<0xdd>(u[3], u[7]),
                ];
                for (j, v) in c.iter().enumerate() {
                    _mm512_storeu_pd(dst.as_mut_ptr().add(j * dst_stride), *v);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_process_default_follows_the_cpu_and_the_environment() {
        let available = Lanes::available();
        assert_eq!(available[0], Lanes::Scalar);
        let want = if std::env::var_os(NO_AVX512_VAR).is_some() {
            Lanes::Scalar
        } else {
            *available.last().expect("scalar at least")
        };
        assert_eq!(Lanes::process_default(), want);
        assert_eq!(simd_path(), want.name());
        eprintln!("DSP lanes of this process: {} ({} channels per vector)", want.name(), want.width());
    }

    /// Every path's square transpose against the index arithmetic, both ways.
    #[test]
    fn transposes_move_every_value_to_its_place() {
        fn check<V: F64s>(name: &str) {
            let w = V::LANES;
            for (len, stride) in [(w, w), (3 * w + 1, 4 * w + 3), (1, 5)] {
                let rows: Vec<f64> = (0..w * stride).map(|i| i as f64).collect();
                let mut tm = vec![f64::NAN; len * w];
                // SAFETY: only called for the paths `Lanes::available` found.
                unsafe { rows_to_time_major::<V>(&rows, stride, len, &mut tm) };
                for t in 0..len {
                    for j in 0..w {
                        assert_eq!(
                            tm[t * w + j].to_bits(),
                            rows[j * stride + t].to_bits(),
                            "{name} {len} {stride}"
                        );
                    }
                }
                let mut back = vec![-1.0; w * stride];
                // SAFETY: as above.
                unsafe { time_major_to_rows::<V>(&tm, len, &mut back, stride) };
                for j in 0..w {
                    for t in 0..len {
                        assert_eq!(back[j * stride + t].to_bits(), rows[j * stride + t].to_bits(), "{name}");
                    }
                }
            }
        }
        check::<V1>("scalar");
        for lanes in Lanes::available() {
            match lanes {
                #[cfg(target_arch = "x86_64")]
                Lanes::Avx2(_) => check::<V256>("avx2"),
                #[cfg(target_arch = "x86_64")]
                Lanes::Avx512(_) => check::<V512>("avx512"),
                _ => {}
            }
        }
    }
}

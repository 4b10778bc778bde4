//! The sample types the crate accepts (`f32` and `f64`) and input validation.

use crate::error::{DspError, Result};

/// A sample type: `f32` (how recordings and epochs are stored) or `f64`.
///
/// All arithmetic happens in `f64`; `f32` input is widened on the way in and
/// rounded once on the way out.
pub trait Sample: Copy + Send + Sync + 'static {
    /// Widens to `f64`.
    fn to_f64(self) -> f64;
    /// Rounds from `f64`.
    fn from_f64(v: f64) -> Self;
}

impl Sample for f32 {
    #[inline]
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    #[inline]
    fn from_f64(v: f64) -> Self {
        v as f32
    }
}

impl Sample for f64 {
    #[inline]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline]
    fn from_f64(v: f64) -> Self {
        v
    }
}

/// Fails with [`DspError::NonFinite`] at the first NaN or infinite sample.
pub fn check_finite<T: Sample>(x: &[T]) -> Result<()> {
    // Blocks without an early exit inside (the compiler vectorises the OR), then the first
    // bad block searched sample by sample: ~10x faster than `position` on clean data.
    const BLOCK: usize = 256;
    let bad_block =
        x.chunks(BLOCK).position(|b| b.iter().fold(false, |bad, v| bad | !v.to_f64().is_finite()));
    let Some(block) = bad_block else { return Ok(()) };
    let start = block * BLOCK;
    let index = start + x[start..].iter().position(|v| !v.to_f64().is_finite()).expect("the block holds one");
    Err(DspError::NonFinite { index, value: x[index].to_f64() })
}

/// Widens a channel to `f64`, failing on the first non-finite sample.
pub(crate) fn to_f64_checked<T: Sample>(x: &[T]) -> Result<Vec<f64>> {
    check_finite(x)?;
    Ok(x.iter().map(|v| v.to_f64()).collect())
}

/// Fails with [`DspError::SamplingRate`] unless `fs` is finite and positive.
pub(crate) fn check_fs(fs: f64) -> Result<()> {
    if fs.is_finite() && fs > 0.0 {
        Ok(())
    } else {
        Err(DspError::SamplingRate { fs })
    }
}

/// Fails with [`DspError::Cutoff`] unless `0 < freq < fs / 2`.
pub(crate) fn check_cutoff(what: &'static str, freq: f64, fs: f64) -> Result<()> {
    let nyquist = fs / 2.0;
    if freq.is_finite() && freq > 0.0 && freq < nyquist {
        Ok(())
    } else {
        Err(DspError::Cutoff { what, freq, nyquist })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_finite_names_the_first_bad_sample_in_any_block() {
        for n in [1usize, 255, 256, 257, 1000] {
            let clean = vec![1.5f32; n];
            assert!(check_finite(&clean).is_ok());
            for bad_at in [0, n / 2, n - 1] {
                for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
                    let mut x = clean.clone();
                    x[bad_at] = bad;
                    if bad_at + 300 < n {
                        x[bad_at + 300] = f32::NAN; // a later one is not reported
                    }
                    match check_finite(&x) {
                        Err(DspError::NonFinite { index, .. }) => assert_eq!(index, bad_at, "n {n}"),
                        other => panic!("n {n}, bad at {bad_at}: {other:?}"),
                    }
                }
            }
        }
        assert!(check_finite::<f64>(&[]).is_ok());
        assert!(matches!(check_finite(&[0.0f64, f64::NAN]), Err(DspError::NonFinite { index: 1, .. })));
    }
}

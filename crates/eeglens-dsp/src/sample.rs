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
    match x.iter().position(|v| !v.to_f64().is_finite()) {
        None => Ok(()),
        Some(index) => Err(DspError::NonFinite { index, value: x[index].to_f64() }),
    }
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

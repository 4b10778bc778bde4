//! Second-order IIR notch for line noise (50/60 Hz), like `scipy.signal.iirnotch`.

use std::f64::consts::PI;

use crate::error::{DspError, Result};
use crate::sample::{check_cutoff, check_fs};
use crate::sos::Sos;

/// Quality factor commonly used for mains notches (-3 dB width = f0 / Q, ~1.7 Hz at 50 Hz).
pub const DEFAULT_NOTCH_Q: f64 = 30.0;

/// A notch at `f0` Hz with quality factor `q` (-3 dB bandwidth `f0 / q`), as one section.
///
/// Same coefficients as `scipy.signal.iirnotch(f0, q, fs)`. Apply it with
/// [`Sos::filtfilt`] for a zero-phase notch (whose -3 dB band is then a little narrower).
///
/// # Errors
/// [`DspError::SamplingRate`]; [`DspError::Cutoff`] unless `0 < f0 < fs / 2`;
/// [`DspError::Parameter`] unless `q` is finite and positive.
pub fn notch(f0: f64, q: f64, fs: f64) -> Result<Sos> {
    check_fs(fs)?;
    check_cutoff("notch frequency", f0, fs)?;
    if !(q.is_finite() && q > 0.0) {
        return Err(DspError::Parameter {
            name: "notch quality factor Q",
            value: q.to_string(),
            expected: "finite and > 0",
        });
    }
    let w0 = 2.0 * f0 / fs;
    let bw = w0 / q * PI;
    let w0 = w0 * PI;
    let beta = (bw / 2.0).tan();
    let gain = 1.0 / (1.0 + beta);
    let c = w0.cos();
    Ok(Sos::from_sections_unchecked(vec![[
        gain,
        gain * -2.0 * c,
        gain,
        1.0,
        -2.0 * gain * c,
        2.0 * gain - 1.0,
    ]]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    const GAIN_TOL: f64 = 1e-9;

    #[test]
    fn notch_zeroes_f0_and_passes_dc_and_nyquist() {
        let sos = notch(50.0, DEFAULT_NOTCH_Q, 500.0).expect("valid");
        assert_abs_diff_eq!(sos.gain(50.0, 500.0), 0.0, epsilon = GAIN_TOL);
        assert_abs_diff_eq!(sos.gain(0.0, 500.0), 1.0, epsilon = GAIN_TOL);
        assert_abs_diff_eq!(sos.gain(250.0, 500.0), 1.0, epsilon = GAIN_TOL);
        assert!(sos.gain(45.0, 500.0) > 0.9);
    }

    #[test]
    fn bad_notches_are_errors() {
        assert!(matches!(notch(60.0, 30.0, 100.0), Err(DspError::Cutoff { .. })));
        assert!(matches!(notch(50.0, 0.0, 500.0), Err(DspError::Parameter { .. })));
        assert!(matches!(notch(50.0, 30.0, -1.0), Err(DspError::SamplingRate { .. })));
    }
}

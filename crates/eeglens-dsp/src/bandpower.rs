//! Band power from a PSD: absolute (the PSD integrated over the band) and relative (divided by
//! the power over a total range), for named EEG bands.
//!
//! The PSD is treated as piecewise linear between bins and integrated exactly over `[lo, hi]`
//! (the trapezoid rule with the band edges interpolated), so powers of adjacent bands add up
//! to the power of their union whatever the frequency resolution.

use crate::error::{DspError, Result};
use crate::welch::Psd;

/// A named frequency band `[lo, hi]` in Hz.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    /// Display name, e.g. "theta".
    pub name: String,
    /// Lower edge (Hz).
    pub lo: f64,
    /// Upper edge (Hz).
    pub hi: f64,
}

impl Band {
    /// A band; `0 <= lo < hi`, both finite.
    ///
    /// # Errors
    /// [`DspError::BandEdges`] otherwise.
    pub fn new(name: impl Into<String>, lo: f64, hi: f64) -> Result<Self> {
        let name = name.into();
        if !(lo.is_finite() && hi.is_finite() && lo >= 0.0 && lo < hi) {
            return Err(DspError::BandEdges { name, lo, hi });
        }
        Ok(Band { name, lo, hi })
    }
}

/// The classic EEG bands: delta 1–4, theta 4–8, alpha 8–13, beta 13–30 Hz.
pub fn eeg_bands() -> Vec<Band> {
    [("delta", 1.0, 4.0), ("theta", 4.0, 8.0), ("alpha", 8.0, 13.0), ("beta", 13.0, 30.0)]
        .into_iter()
        .map(|(name, lo, hi)| Band { name: name.to_string(), lo, hi })
        .collect()
}

/// The range the classic bands cover together, 1–30 Hz: a natural "total" for relative power.
pub const EEG_TOTAL_RANGE: (f64, f64) = (1.0, 30.0);

/// Power of one band.
#[derive(Debug, Clone, PartialEq)]
pub struct BandPower {
    /// The band's name.
    pub name: String,
    /// Integrated PSD over the band, (input unit)² (µV² for EEG in µV).
    pub absolute: f64,
    /// `absolute` divided by the power over the total range.
    pub relative: f64,
}

/// Integrates a one-sided PSD over `[lo, hi]` Hz (piecewise-linear PSD, exact integral).
///
/// # Errors
/// [`DspError::BandEdges`] unless `0 <= lo < hi <= highest bin frequency`;
/// [`DspError::Parameter`] if the PSD has fewer than two bins or mismatched lengths.
pub fn integrate_band(psd: &Psd, lo: f64, hi: f64) -> Result<f64> {
    let f = &psd.freqs;
    let p = &psd.density;
    if f.len() < 2 || f.len() != p.len() {
        return Err(DspError::Parameter {
            name: "PSD bins",
            value: format!("{} freqs, {} densities", f.len(), p.len()),
            expected: "at least two bins, as many densities as frequencies",
        });
    }
    let f_max = f[f.len() - 1];
    if !(lo.is_finite() && hi.is_finite() && lo >= f[0] && lo < hi && hi <= f_max) {
        return Err(DspError::BandEdges {
            name: format!("integration range (PSD spans {}..{f_max} Hz)", f[0]),
            lo,
            hi,
        });
    }
    let mut area = 0.0;
    for k in 0..f.len() - 1 {
        let (f0, f1) = (f[k], f[k + 1]);
        if f1 <= lo || f0 >= hi {
            continue;
        }
        let a = lo.max(f0);
        let b = hi.min(f1);
        let slope = (p[k + 1] - p[k]) / (f1 - f0);
        let pa = p[k] + slope * (a - f0);
        let pb = p[k] + slope * (b - f0);
        area += 0.5 * (pa + pb) * (b - a);
    }
    Ok(area)
}

/// Absolute and relative power of each band; relative power divides by the power over
/// `total = (lo, hi)` (e.g. [`EEG_TOTAL_RANGE`]).
///
/// # Errors
/// As [`integrate_band`], for any band or the total range; [`DspError::Parameter`] when
/// the total power is zero.
pub fn band_powers(psd: &Psd, bands: &[Band], total: (f64, f64)) -> Result<Vec<BandPower>> {
    let total_power = integrate_band(psd, total.0, total.1)?;
    if total_power <= 0.0 {
        return Err(DspError::Parameter {
            name: "total power",
            value: total_power.to_string(),
            expected: "a positive power over the total range for relative band power",
        });
    }
    bands
        .iter()
        .map(|b| {
            let absolute = integrate_band(psd, b.lo, b.hi).map_err(|_| DspError::BandEdges {
                name: b.name.clone(),
                lo: b.lo,
                hi: b.hi,
            })?;
            Ok(BandPower { name: b.name.clone(), absolute, relative: absolute / total_power })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    const SUM_TOL: f64 = 1e-12;

    fn ramp_psd() -> Psd {
        let freqs: Vec<f64> = (0..=64).map(|k| k as f64 * 0.5).collect();
        let density = freqs.iter().map(|f| 1.0 + f).collect();
        Psd { freqs, density }
    }

    #[test]
    fn a_linear_psd_integrates_exactly_even_between_bins() {
        let psd = ramp_psd();
        // integral of (1 + f) from 1.2 to 7.7 = [f + f²/2]
        let exact = (7.7 + 7.7 * 7.7 / 2.0) - (1.2 + 1.2 * 1.2 / 2.0);
        assert_relative_eq!(integrate_band(&psd, 1.2, 7.7).expect("in range"), exact, max_relative = SUM_TOL);
    }

    #[test]
    fn adjacent_bands_add_up_and_relative_powers_sum_to_one() {
        let psd = ramp_psd();
        let powers = band_powers(&psd, &eeg_bands(), EEG_TOTAL_RANGE).expect("in range");
        let abs_sum: f64 = powers.iter().map(|p| p.absolute).sum();
        let rel_sum: f64 = powers.iter().map(|p| p.relative).sum();
        let total = integrate_band(&psd, 1.0, 30.0).expect("in range");
        assert_relative_eq!(abs_sum, total, max_relative = SUM_TOL);
        assert_relative_eq!(rel_sum, 1.0, max_relative = SUM_TOL);
        assert_eq!(powers[1].name, "theta");
    }

    #[test]
    fn out_of_range_bands_are_errors() {
        let psd = ramp_psd();
        assert!(integrate_band(&psd, 10.0, 40.0).is_err());
        assert!(integrate_band(&psd, 5.0, 5.0).is_err());
        assert!(Band::new("bad", 8.0, 4.0).is_err());
        let wide = Band::new("gamma", 30.0, 45.0).expect("valid band");
        assert!(matches!(
            band_powers(&psd, &[wide], EEG_TOTAL_RANGE),
            Err(DspError::BandEdges { ref name, .. }) if name == "gamma"
        ));
    }
}

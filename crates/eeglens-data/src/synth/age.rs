//! An optional age effect (`synth --age-effect`): a numeric target for regressions, planted as
//! the developing brain shows it in resting-state EEG.
//!
//! The individual alpha frequency rises through childhood and adolescence, from about 8 Hz at
//! 6 years to about 10 Hz by 18 (Chiang, Rennie, Robinson, van Albada & Kerr, "Age trends and
//! sex differences of alpha rhythms including split alpha peaks", Clinical Neurophysiology
//! 122(8):1505–1517, 2011; reviewed in Klimesch, "EEG alpha and theta oscillations reflect
//! cognitive and memory performance", Brain Research Reviews 29:169–195, 1999), while absolute
//! alpha power falls with age over the same years (Whitford et al., "Brain maturation in
//! adolescence: concurrent changes in neuroanatomy and neurophysiology", Human Brain Mapping
//! 28:228–237, 2007). Here the peak follows the straight line through those two points, 8 Hz at
//! 6 years and 10 Hz at 18 (extended to the generator's 5–21 years), plus the subject's own
//! deviation, narrowed to a SD of [`RESIDUAL_SD_HZ`]; with [`AgeEffect::AlphaPeakPower`] the
//! alpha amplitude also falls by [`AMPLITUDE_PER_YEAR`] of its value per year after 12.
//!
//! The effect reuses the subject's drawn traits and draws nothing itself, so every other
//! random draw of the generator is the same with and without it.

/// Which age effect the generator plants.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AgeEffect {
    /// none: the alpha peak does not depend on age (the default)
    #[default]
    None,
    /// the alpha peak frequency rises with age
    AlphaPeak,
    /// the alpha peak frequency rises and the alpha amplitude falls with age
    AlphaPeakPower,
}

impl AgeEffect {
    /// Parses `none`, `alpha-peak` or `alpha-peak-power`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" => Some(AgeEffect::None),
            "alpha-peak" => Some(AgeEffect::AlphaPeak),
            "alpha-peak-power" => Some(AgeEffect::AlphaPeakPower),
            _ => None,
        }
    }

    /// The name `--age-effect` takes.
    pub fn name(self) -> &'static str {
        match self {
            AgeEffect::None => "none",
            AgeEffect::AlphaPeak => "alpha-peak",
            AgeEffect::AlphaPeakPower => "alpha-peak-power",
        }
    }
}

/// The alpha peak (Hz) at 6 years of age.
pub const PEAK_AT_6_HZ: f64 = 8.0;
/// The alpha peak (Hz) at 18 years of age.
pub const PEAK_AT_18_HZ: f64 = 10.0;
/// The SD of a subject's alpha peak around its age's line, Hz.
pub const RESIDUAL_SD_HZ: f64 = 0.4;
/// The relative fall of the alpha amplitude per year of age (around 12 years).
pub const AMPLITUDE_PER_YEAR: f64 = 0.04;

/// The SD of the peak the generator draws without an age effect (`Traits::draw`).
const DRAWN_PEAK_MEAN_HZ: f64 = 9.5;
const DRAWN_PEAK_SD_HZ: f64 = 0.8;

/// The alpha peak on the age line.
pub fn peak_at(age: f64) -> f64 {
    PEAK_AT_6_HZ + (PEAK_AT_18_HZ - PEAK_AT_6_HZ) * (age - 6.0) / 12.0
}

/// The alpha peak frequency and amplitude of a subject of `age` years whose drawn (age-free)
/// traits are `alpha_f` and `alpha_amp`.
pub fn apply(effect: AgeEffect, age: f64, alpha_f: f64, alpha_amp: f64) -> (f64, f64) {
    if effect == AgeEffect::None {
        return (alpha_f, alpha_amp);
    }
    // The drawn deviation in SD units, rescaled to the residual SD around the age line.
    let z = (alpha_f - DRAWN_PEAK_MEAN_HZ) / DRAWN_PEAK_SD_HZ;
    let f = peak_at(age) + RESIDUAL_SD_HZ * z;
    let amp = match effect {
        AgeEffect::AlphaPeakPower => alpha_amp * (1.0 - AMPLITUDE_PER_YEAR * (age - 12.0)).max(0.2),
        _ => alpha_amp,
    };
    (f, amp)
}

/// What the ground truth file records of the effect.
pub fn truth(effect: AgeEffect) -> serde_json::Value {
    serde_json::json!({
        "kind": effect.name(),
        "alpha_peak_hz": {"at_6_years": PEAK_AT_6_HZ, "at_18_years": PEAK_AT_18_HZ, "residual_sd": RESIDUAL_SD_HZ},
        "alpha_amplitude_per_year": if effect == AgeEffect::AlphaPeakPower { AMPLITUDE_PER_YEAR } else { 0.0 },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    #[test]
    fn the_peak_rises_from_8_hz_at_6_to_10_hz_at_18() {
        assert_abs_diff_eq!(peak_at(6.0), 8.0, epsilon = 1e-12);
        assert_abs_diff_eq!(peak_at(18.0), 10.0, epsilon = 1e-12);
        // A subject at the drawn mean sits on the line; one drawn 1 SD above sits RESIDUAL_SD above it.
        assert_eq!(apply(AgeEffect::AlphaPeak, 12.0, 9.5, 14.0), (9.0, 14.0));
        let (f, a) = apply(AgeEffect::AlphaPeak, 12.0, 10.3, 14.0);
        assert_abs_diff_eq!(f, 9.0 + RESIDUAL_SD_HZ, epsilon = 1e-12);
        assert_eq!(a, 14.0);
        assert_eq!(apply(AgeEffect::None, 18.0, 8.7, 11.0), (8.7, 11.0));
        let (_, young) = apply(AgeEffect::AlphaPeakPower, 7.0, 9.5, 14.0);
        let (_, old) = apply(AgeEffect::AlphaPeakPower, 17.0, 9.5, 14.0);
        assert!(young > 14.0 && old < 14.0, "{young} {old}");
        assert_eq!(AgeEffect::parse("Alpha-Peak"), Some(AgeEffect::AlphaPeak));
        assert_eq!(AgeEffect::parse("alpha"), None);
    }
}

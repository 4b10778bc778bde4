//! Agreement across seeds: networks trained from different seeds on the same
//! data can read differently. This module puts the readings of several
//! seeds side by side, per method: how often each band was named, the mean
//! and SD over seeds of each channel's contrast in each band, and a top band
//! only when a strict majority of *all* seeds names it (seeds whose network
//! learned nothing count as naming nothing).
//!
//! A channel's contrast in a band is `|r_cb - m_c|`, the per-channel
//! log ratio less that channel's median over the bands: the quantity whose
//! strongest quarter's mean is the band's `contrast` ([`Reading::channel_contrasts`]).

use serde::{Deserialize, Serialize};

use crate::ordered::Ordered;
use crate::result::Report;
use crate::spectral::Reading;

/// The format tag of [`AGREEMENT_FILE`].
pub const AGREEMENT_FORMAT: &str = "eeglens-agreement/1";
/// The agreement across seeds, inside a parent directory of seed runs.
pub const AGREEMENT_FILE: &str = "agreement.json";

/// One method's agreement over seeds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MethodAgreement {
    /// seeds read
    pub n_seeds: usize,
    /// per seed, the band it named (`null`: none significant, not learned, or not run)
    pub top_bands: Vec<Option<String>>,
    /// per band (and `none`), the fraction of seeds naming it
    pub band_fraction: Ordered<f64>,
    /// per band, per channel, the mean over seeds of the channel's contrast
    /// (over the seeds where the method produced a reading)
    pub channel_mean: Ordered<Ordered<f64>>,
    /// as `channel_mean`, the standard deviation over seeds (0 with one reading)
    pub channel_sd: Ordered<Ordered<f64>>,
    /// the band a strict majority of all seeds names; `null` when none does
    pub top_band: Option<String>,
    /// the largest fraction of seeds naming one band
    pub agreement: f64,
}

/// `agreement.json`: every method's agreement over the seeds of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Agreement {
    /// [`AGREEMENT_FORMAT`]
    pub format: String,
    /// the seeds, in the order read
    pub seeds: Vec<u64>,
    /// per seed, whether its network learned (above chance on the split)
    pub learned: Vec<bool>,
    /// per method (`optimal`, `actmax`, `deconv`), when at least one seed ran it
    pub methods: Ordered<MethodAgreement>,
}

impl Agreement {
    /// One line per method for the terminal.
    pub fn describe(&self) -> Vec<String> {
        let learned = self.learned.iter().filter(|&&l| l).count();
        let mut out =
            vec![format!("seeds {:?}: the network learned in {learned} of {}", self.seeds, self.seeds.len())];
        for (name, m) in &self.methods.0 {
            let fractions: Vec<String> = m
                .band_fraction
                .0
                .iter()
                .filter(|(_, f)| *f > 0.0)
                .map(|(b, f)| format!("{b} {:.0}%", 100.0 * f))
                .collect();
            out.push(format!(
                "{name:<11} top band {:<6} | seeds naming: {}",
                m.top_band.as_deref().unwrap_or("none"),
                fractions.join(", ")
            ));
        }
        out
    }
}

/// The agreement of the reports of `seeds` (one report per seed, same order).
///
/// # Panics
/// When `seeds` and `reports` differ in length.
pub fn agreement(seeds: &[u64], reports: &[Report]) -> Agreement {
    assert_eq!(seeds.len(), reports.len(), "one report per seed");
    let n = reports.len();
    let mut methods = Vec::new();
    for name in ["optimal", "actmax", "deconv"] {
        let readings: Vec<Option<&Reading>> = reports
            .iter()
            .map(|r| match name {
                "optimal" => r.methods.optimal.as_ref().map(|m| &m.reading),
                "actmax" => r.methods.actmax.as_ref().map(|m| &m.reading),
                _ => r.methods.deconv.as_ref().map(|m| &m.reading),
            })
            .collect();
        let present: Vec<&Reading> = readings.iter().flatten().copied().collect();
        // A method no seed read is left out; a seed whose network learned
        // nothing (and so was not read) counts as naming nothing.
        if present.is_empty() {
            continue;
        }
        let top_bands: Vec<Option<String>> =
            readings.iter().map(|r| r.and_then(|r| r.top_band.clone())).collect();
        let band_names: Vec<String> = present[0].bands.iter().map(|b| b.name.clone()).collect();
        let mut fraction: Vec<(String, f64)> = band_names
            .iter()
            .map(|b| {
                (b.clone(), top_bands.iter().filter(|t| t.as_deref() == Some(b)).count() as f64 / n as f64)
            })
            .collect();
        fraction.push(("none".into(), top_bands.iter().filter(|t| t.is_none()).count() as f64 / n as f64));
        let (best, best_fraction) = fraction
            .iter()
            .filter(|(b, _)| b != "none")
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map_or((None, 0.0), |(b, f)| (Some(b.clone()), *f));
        let top_band = best.filter(|_| best_fraction > 0.5);
        let contrasts: Vec<Ordered<Ordered<f64>>> = present.iter().map(|r| r.channel_contrasts()).collect();
        let (mean, sd) = mean_sd(&contrasts);
        let agreement = fraction.iter().map(|f| f.1).fold(0.0, f64::max);
        methods.push((
            name.to_string(),
            MethodAgreement {
                n_seeds: n,
                top_bands,
                band_fraction: Ordered(fraction),
                channel_mean: mean,
                channel_sd: sd,
                top_band,
                agreement,
            },
        ));
    }
    Agreement {
        format: AGREEMENT_FORMAT.into(),
        seeds: seeds.to_vec(),
        learned: reports.iter().map(|r| r.model.discrimination.learned).collect(),
        methods: Ordered(methods),
    }
}

/// Element-wise mean and SD (n - 1) of tables with the same keys.
fn mean_sd(tables: &[Ordered<Ordered<f64>>]) -> (Ordered<Ordered<f64>>, Ordered<Ordered<f64>>) {
    let Some(first) = tables.first() else { return (Ordered::default(), Ordered::default()) };
    let mut mean = Vec::new();
    let mut sd = Vec::new();
    for (band, row) in &first.0 {
        let mut m_row = Vec::new();
        let mut s_row = Vec::new();
        for (ch, _) in &row.0 {
            let vals: Vec<f64> = tables
                .iter()
                .filter_map(|t| t.get(band).and_then(|r| r.get(ch)).copied())
                .filter(|v| v.is_finite())
                .collect();
            let k = vals.len() as f64;
            let m = if vals.is_empty() { f64::NAN } else { vals.iter().sum::<f64>() / k };
            let s = if vals.len() < 2 {
                0.0
            } else {
                (vals.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (k - 1.0)).sqrt()
            };
            m_row.push((ch.clone(), m));
            s_row.push((ch.clone(), s));
        }
        mean.push((band.clone(), Ordered(m_row)));
        sd.push((band.clone(), Ordered(s_row)));
    }
    (Ordered(mean), Ordered(sd))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::{ModelSummary, OptimalReport};
    use crate::spectral::{BandContrast, Discrimination};
    use approx::assert_relative_eq;

    fn reading(top: Option<&str>, theta_at_c0: f64) -> Reading {
        let bands = ["delta", "theta", "alpha"];
        let chans = |v: [f64; 2]| Ordered(vec![("C0".to_string(), v[0]), ("C1".to_string(), v[1])]);
        Reading {
            freqs: vec![],
            psd: Ordered::default(),
            bands: bands
                .iter()
                .map(|b| BandContrast {
                    name: b.to_string(),
                    lo: 0.0,
                    hi: 1.0,
                    log_ratio: 0.0,
                    contrast: 0.0,
                    p: 1.0,
                    p_contrast: 1.0,
                    z: 0.0,
                })
                .collect(),
            channels: Ordered(vec![
                ("delta".into(), chans([0.1, 0.0])),
                ("theta".into(), chans([theta_at_c0, 0.0])),
                ("alpha".into(), chans([0.2, 0.0])),
            ]),
            top_band: top.map(String::from),
            rank: crate::spectral::Rank::Contrast,
            by_subject: false,
            n: Ordered::default(),
        }
    }

    fn report(top: Option<&str>, theta: f64, learned: bool) -> Report {
        Report {
            classes: vec!["F".into(), "M".into()],
            channels: vec!["C0".into(), "C1".into()],
            fs: 128.0,
            split: "test".into(),
            alpha: 0.05,
            permutations: 99,
            precision: "fp32".into(),
            build: None,
            model: ModelSummary {
                name: "m".into(),
                split: "test".into(),
                discrimination: Discrimination {
                    n_windows: 10,
                    n_subjects: 4,
                    accuracy: 0.9,
                    statistic: 0.5,
                    p: 0.01,
                    subject_accuracy: 1.0,
                    p_binomial: 0.01,
                    p_subjects: 0.01,
                    p_subjects_floor: 0.001,
                    learned,
                },
                regression: None,
            },
            methods: crate::result::Methods {
                optimal: learned
                    .then(|| OptimalReport { reading: reading(top, theta), samples: Ordered::default() }),
                actmax: None,
                deconv: None,
            },
            unit: None,
            folds: None,
            subjects_read: None,
            fold_subjects: None,
            numeric: None,
        }
    }

    #[test]
    fn a_majority_names_the_band_and_contrasts_average() {
        let reports = vec![
            report(Some("theta"), 1.2, true),
            report(Some("theta"), 0.8, true),
            report(Some("alpha"), 0.1, true),
            report(None, 0.0, false),
        ];
        let a = agreement(&[0, 1, 2, 3], &reports);
        assert_eq!(a.learned, vec![true, true, true, false]);
        let m = a.methods.get("optimal").expect("optimal read");
        assert_eq!(m.top_bands, vec![Some("theta".into()), Some("theta".into()), Some("alpha".into()), None]);
        // 2 of 4 is not a strict majority.
        assert_eq!(m.top_band, None);
        assert_relative_eq!(*m.band_fraction.get("theta").expect("theta"), 0.5);
        assert_relative_eq!(*m.band_fraction.get("none").expect("none"), 0.25);
        // C0's theta contrast: |1.2 - 0.2|, |0.8 - 0.2|, |0.1 - 0.1| -> mean 0.5333
        let mean = m.channel_mean.get("theta").and_then(|r| r.get("C0")).copied().expect("C0");
        assert_relative_eq!(mean, (1.0 + 0.6 + 0.0) / 3.0, epsilon = 1e-12);
        assert!(a.methods.get("actmax").is_none(), "a method no seed ran is left out");

        let three = agreement(&[0, 1, 2], &reports[..3]);
        assert_eq!(three.methods.get("optimal").expect("read").top_band.as_deref(), Some("theta"));
    }
}

//! A tiny epoch set with a planted class effect, for examples, tests and
//! benchmarks that need a store in milliseconds rather than a prepared data set.
//!
//! Every window is white noise (unit variance, times a per-subject gain). In
//! the windows of class 1 the first half of the channels also carry a sine
//! of period 8 samples, random phase per window, amplitude `effect`. Each
//! subject can carry its own fixed signature (a sine of a subject-specific
//! period on the last channel, amplitude `signature`): a model that could see
//! a test subject's windows during training would learn the subject's label
//! from it, so with `effect = 0` any test accuracy above chance would reveal
//! leakage. Subjects alternate between the classes, and each subject's windows
//! are in one split.
//!
//! Unlike [`synth`](crate::synth), which imitates resting-state EEG, this set
//! is deliberately crude: it exists to make a trainable store quickly.

use eeglens_autodiff::Rng;

use crate::store::{EpochMeta, EpochSet, Split};

/// The shape of the toy set.
#[derive(Clone, Debug, PartialEq)]
pub struct ToyConfig {
    /// subjects in the train, val and test splits
    pub subjects: [usize; 3],
    /// windows per subject
    pub windows: usize,
    /// channels per window (R-VGG needs at least 8)
    pub n_channels: usize,
    /// samples per window (R-VGG needs at least 8)
    pub n_samples: usize,
    /// amplitude of the planted sine in class 1 (0: a null set)
    pub effect: f32,
    /// amplitude of each subject's own signature
    pub signature: f32,
    /// seed
    pub seed: u64,
}

impl Default for ToyConfig {
    fn default() -> Self {
        Self {
            subjects: [12, 4, 8],
            windows: 8,
            n_channels: 8,
            n_samples: 32,
            effect: 1.0,
            signature: 0.0,
            seed: 0,
        }
    }
}

/// Names the channels of a toy set `names` (one per channel, e.g. 10-20
/// electrodes so that a report can draw scalp maps), keeping the planted
/// truth's channel names in step.
///
/// # Panics
/// When `names` does not have one name per channel.
pub fn name_channels(set: &mut EpochSet, names: &[&str]) {
    let c = set.meta.channels.len();
    assert_eq!(names.len(), c, "name_channels: {} names for {c} channels", names.len());
    set.meta.channels = names.iter().map(|s| s.to_string()).collect();
    if let Some(p) = set.meta.settings.get_mut("planted") {
        p["channels"] = serde_json::json!(names[..c / 2]);
    }
}

/// The toy's sampling rate, Hz.
const FS: f64 = 128.0;
/// The period of the planted sine, samples.
const PERIOD: f32 = 8.0;

/// Generates the set (deterministic in `cfg.seed`).
pub fn toy_set(cfg: &ToyConfig) -> EpochSet {
    let (c, t) = (cfg.n_channels, cfg.n_samples);
    let mut rng = Rng::new(cfg.seed);
    let n_subjects: usize = cfg.subjects.iter().sum();
    let (mut x, mut y, mut subject, mut split) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let splits = Split::ALL.iter().zip(cfg.subjects).flat_map(|(&s, n)| std::iter::repeat_n(s, n));
    for (s, sp) in splits.enumerate() {
        let class = (s % 2) as u32;
        let gain = rng.uniform_range(0.8, 1.2) as f32;
        let sig_period = 3.0 + (s % 7) as f32;
        let sig_phase = rng.uniform_range(0.0, std::f64::consts::TAU) as f32;
        for _ in 0..cfg.windows {
            let phase = rng.uniform_range(0.0, std::f64::consts::TAU) as f32;
            for ch in 0..c {
                for i in 0..t {
                    let mut v = gain * rng.normal() as f32;
                    if class == 1 && ch < c / 2 {
                        v += cfg.effect * (std::f32::consts::TAU * i as f32 / PERIOD + phase).sin();
                    }
                    if ch == c - 1 {
                        v +=
                            cfg.signature * (std::f32::consts::TAU * i as f32 / sig_period + sig_phase).sin();
                    }
                    x.push(v);
                }
            }
            y.push(class);
            subject.push(s as u32);
            split.push(sp);
        }
    }
    EpochSet {
        x,
        n_samples: t,
        y,
        subject,
        split,
        meta: EpochMeta {
            channels: (0..c).map(|i| format!("E{}", i + 1)).collect(),
            fs: FS,
            classes: vec!["F".into(), "M".into()],
            label_column: "sex".into(),
            subjects: (0..n_subjects).map(|i| format!("sub-{:03}", i + 1)).collect(),
            settings: serde_json::json!({
                "toy": { "effect": cfg.effect, "seed": cfg.seed },
                // The truth as a synthetic store records it: the sine's frequency, the
                // channels that carry it and the class that does.
                "planted": {
                    "band": [FS / PERIOD as f64, FS / PERIOD as f64],
                    "channels": (0..c / 2).map(|i| format!("E{}", i + 1)).collect::<Vec<_>>(),
                    "size": cfg.effect,
                    "class": "M",
                },
            }),
            // Standard normal noise and a sine of amplitude `effect`: no physical unit.
            unit: None,
        },
        sources: None,
        target: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_set_is_shaped_by_its_config_and_fixed_by_its_seed() {
        let cfg = ToyConfig { subjects: [2, 1, 1], windows: 3, ..ToyConfig::default() };
        let set = toy_set(&cfg);
        assert_eq!(set.x.len(), 4 * 3 * cfg.n_channels * cfg.n_samples);
        assert_eq!(set.y, [0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1]);
        assert_eq!(set.split[..6], [Split::Train; 6]);
        assert_eq!(
            set.split[6..],
            [Split::Val, Split::Val, Split::Val, Split::Test, Split::Test, Split::Test]
        );
        assert_eq!(toy_set(&cfg), set);
        assert_ne!(toy_set(&ToyConfig { seed: 1, ..cfg }).x, set.x);
    }

    #[test]
    fn the_planted_truth_names_the_channels_that_carry_the_sine() {
        let mut set = toy_set(&ToyConfig { n_channels: 4, ..ToyConfig::default() });
        let planted = |s: &EpochSet| s.meta.settings["planted"].clone();
        assert_eq!(planted(&set)["channels"], serde_json::json!(["E1", "E2"]));
        assert_eq!(planted(&set)["band"], serde_json::json!([16.0, 16.0]), "period 8 at 128 Hz");
        name_channels(&mut set, &["Fz", "Cz", "Pz", "Oz"]);
        assert_eq!(set.meta.channels, ["Fz", "Cz", "Pz", "Oz"]);
        assert_eq!(planted(&set)["channels"], serde_json::json!(["Fz", "Cz"]));
    }
}

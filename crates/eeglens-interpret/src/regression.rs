//! A network that predicts a number (a regression on a numeric target, such
//! as age) read with the same three methods: the two groups the spectral
//! reading contrasts are **low** and **high** instead of two classes.
//!
//! - Optimal samples: the `k` windows of the split with the highest
//!   predicted value (`high`) and the `k` with the lowest (`low`, never a
//!   window already high), under the rules of the classification path: at
//!   most `ceil(k / s)` windows of one subject (`s` the subjects of the
//!   split) unless [`crate::InterpretConfig::spread_subjects`] is off.
//! - Activation maximisation: the single output maximised (`high`) and
//!   minimised (`low`), the same restarts and windows for both, so the
//!   patterns come in pairs as the classes' do.
//! - Deconvnet: each optimal sample projected back from the output, the
//!   high windows with seed `+1` (what raises the prediction) and the low
//!   ones with `-1` (what lowers it); with [`crate::DeconvSeed::Shared`]
//!   both from `+1`.
//! - The network's own test ([`regression_discrimination`]): the Pearson r
//!   between each subject's mean prediction and its value, one-sided, its p
//!   from permutations of the values over the subjects (the subject is the
//!   unit: its windows share its value). `learned` = `p <`
//!   [`eeglens_dsp::stats::CHANCE_ALPHA`] and `r > 0`; its `p` floors every
//!   band's p as the classification's discrimination p does.

use std::collections::BTreeMap;

use eeglens_autodiff::Rng;
use eeglens_data::store::EpochStore;
use eeglens_nn::Predictor;
use serde::{Deserialize, Serialize};

use crate::error::InterpretError;
use crate::optimal::{top_k, top_k_capped};
use crate::spectral::Discrimination;
use crate::walk::map_batches;

/// The names of the two groups of a regression's reading, in contrast
/// order: the contrast is `high` over `low`.
pub const GROUPS: [&str; 2] = ["low", "high"];

/// How a regression's output maps to its target's unit:
/// `value = mean + sd * output` (the training split's standardisation).
/// The identity when the caller does not know it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutputScale {
    /// the target's mean over the training windows
    pub mean: f64,
    /// its standard deviation (positive)
    pub sd: f64,
}

impl Default for OutputScale {
    fn default() -> Self {
        Self { mean: 0.0, sd: 1.0 }
    }
}

impl OutputScale {
    /// An output in the target's unit.
    pub fn value(&self, output: f64) -> f64 {
        self.mean + self.sd * output
    }
}

/// What `interpret.json` says about a regression's target and its groups
/// (flattened into the document: `target`, `column`, `target_unit`,
/// `output_scale`, `items`; not `unit`, which names a unit of the network).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NumericReport {
    /// `numeric`
    pub target: String,
    /// the participants.tsv column (`age`)
    pub column: String,
    /// the column's unit (`year`), when the store records one
    pub target_unit: Option<String>,
    /// the standardisation the predictions are given back with (scores of
    /// the optimal samples, activation maximisation's objective)
    pub output_scale: OutputScale,
    /// what the items of each group are (`low`, `high`)
    pub items: BTreeMap<String, String>,
}

impl NumericReport {
    /// The description of a regression on `column`.
    pub fn new(column: &str, unit: Option<&str>, output_scale: OutputScale) -> Self {
        let items = [
            (
                "high",
                "optimal samples and deconvnet: the k windows of the split with the highest predicted \
                 value (at most ceil(k / subjects) of one subject); activation maximisation: the \
                 patterns that maximise the output",
            ),
            (
                "low",
                "optimal samples and deconvnet: the k windows with the lowest predicted value, none of \
                 them high; activation maximisation: the patterns that minimise the output",
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        Self {
            target: "numeric".into(),
            column: column.into(),
            target_unit: unit.map(str::to_string),
            output_scale,
            items,
        }
    }
}

/// The network's own test on a regression, as written to `interpret.json`
/// under `model.regression`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegressionDiscrimination {
    /// what was tested, in words
    pub test: String,
    /// windows scored
    pub n_windows: usize,
    /// subjects (the permuted units)
    pub n_subjects: usize,
    /// Pearson r between the subjects' mean predictions and their values
    pub r: f64,
    /// one-sided permutation p of `r` (values permuted over the subjects)
    pub p: f64,
    /// Pearson r between the windows' predictions and their values (for reference)
    pub window_r: f64,
    /// the level of the verdict
    pub alpha: f64,
    /// `p < alpha` and `r > 0`
    pub learned: bool,
}

impl RegressionDiscrimination {
    /// The fields of the classification's [`Discrimination`] that every
    /// reader of `model` uses (`p`, the floor of the readings; `learned`;
    /// `statistic` = `r`; the counts); `accuracy` and `subject_accuracy`
    /// do not apply to a number and are 0, `p_binomial` and `p_subjects` are `p` (`p_subjects_floor` 0: not used).
    pub fn as_discrimination(&self) -> Discrimination {
        Discrimination {
            n_windows: self.n_windows,
            n_subjects: self.n_subjects,
            accuracy: 0.0,
            statistic: self.r,
            p: self.p,
            subject_accuracy: 0.0,
            p_binomial: self.p,
            p_subjects: self.p,
            p_subjects_floor: 0.0,
            learned: self.learned,
        }
    }
}

/// Pearson r of two equally long series; 0 when either is constant.
pub fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    if n < 2 {
        return 0.0;
    }
    let (ma, mb) = (a[..n].iter().sum::<f64>() / n as f64, b[..n].iter().sum::<f64>() / n as f64);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a[..n].iter().zip(&b[..n]) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    if saa > 0.0 && sbb > 0.0 {
        sab / (saa * sbb).sqrt()
    } else {
        0.0
    }
}

/// Tests whether a regression's predictions follow the target over
/// subjects: each subject's mean prediction against its (mean) value,
/// Pearson r, one-sided p from `permutations` permutations of the values
/// over the subjects. Fewer than three subjects, or a constant target,
/// give `p = 1`.
///
/// `predicted[i]` and `values[i]` are window `i`'s prediction and value,
/// `subjects[i]` its subject.
///
/// # Panics
/// When the slices differ in length.
pub fn regression_discrimination(
    predicted: &[f64],
    values: &[f64],
    subjects: &[u32],
    permutations: usize,
    seed: u64,
) -> RegressionDiscrimination {
    assert!(
        predicted.len() == values.len() && values.len() == subjects.len(),
        "regression_discrimination: one prediction, value and subject per window"
    );
    let mut units: BTreeMap<u32, (f64, f64, usize)> = BTreeMap::new();
    for ((&p, &v), &s) in predicted.iter().zip(values).zip(subjects) {
        let e = units.entry(s).or_insert((0.0, 0.0, 0));
        e.0 += p;
        e.1 += v;
        e.2 += 1;
    }
    let pred: Vec<f64> = units.values().map(|(p, _, n)| p / *n as f64).collect();
    let mut val: Vec<f64> = units.values().map(|(_, v, n)| v / *n as f64).collect();
    let r = pearson(&pred, &val);
    let constant = val.iter().all(|v| *v == val[0]);
    let p = if pred.len() < 3 || constant {
        1.0
    } else {
        let mut rng = Rng::new(seed).fork(0x2E6);
        let mut exceed = 0usize;
        for _ in 0..permutations {
            rng.shuffle(&mut val);
            if pearson(&pred, &val) >= r - 1e-12 {
                exceed += 1;
            }
        }
        (1 + exceed) as f64 / (1 + permutations) as f64
    };
    let alpha = eeglens_dsp::stats::CHANCE_ALPHA;
    RegressionDiscrimination {
        test: "one-sided permutation test of the Pearson r between the subjects' mean predictions and \
               their values (r > 0; the values permuted over the subjects)"
            .into(),
        n_windows: predicted.len(),
        n_subjects: pred.len(),
        r,
        p,
        window_r: pearson(predicted, values),
        alpha,
        learned: p < alpha && r > 0.0,
    }
}

/// The network's single output for every window `indices` of `store` (eval
/// mode), in the predictor's precision ([`Predictor::precision`]).
///
/// # Errors
/// [`InterpretError::Nn`] when the model does not take the store's windows.
pub fn score_outputs(
    predictor: &Predictor<'_>,
    store: &EpochStore,
    indices: &[usize],
    batch: usize,
) -> Result<Vec<f64>, InterpretError> {
    map_batches(store, indices, batch, |x| {
        let out = predictor.predict(&x)?;
        Ok(out.data().iter().map(|&v| f64::from(v)).collect())
    })
}

/// The optimal samples of a regression, as positions into `outputs`:
/// `[low, high]`, each at most `k`, best first (the highest predictions
/// first among `high`, the lowest first among `low`); `low` never holds a
/// window of `high`. With `cap`, at most that many windows of one subject
/// (`subjects[p]`) in each group.
pub fn extremes(outputs: &[f64], k: usize, subjects: &[u32], cap: Option<usize>) -> [Vec<usize>; 2] {
    let pick = |scores: &[f64], keep: &dyn Fn(usize) -> bool| match cap {
        Some(c) => top_k_capped(scores, k, keep, subjects, c),
        None => top_k(scores, k, keep),
    };
    let high = pick(outputs, &|_| true);
    let neg: Vec<f64> = outputs.iter().map(|v| -v).collect();
    let low = pick(&neg, &|p| !high.contains(&p));
    [low, high]
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn pearson_matches_a_hand_computed_value() {
        // x = 1..5, y = (2, 4, 5, 4, 5): r = 6 / sqrt(10 * 6) = 0.7746.
        let r = pearson(&[1.0, 2.0, 3.0, 4.0, 5.0], &[2.0, 4.0, 5.0, 4.0, 5.0]);
        assert_relative_eq!(r, 6.0 / 60f64.sqrt(), max_relative = 1e-12);
        assert_eq!(pearson(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]), 0.0);
    }

    #[test]
    fn the_test_works_on_subjects_and_is_one_sided() {
        // 10 subjects of 4 windows; the value is the subject's number.
        let subjects: Vec<u32> = (0..40).map(|i| i / 4).collect();
        let values: Vec<f64> = subjects.iter().map(|&s| s as f64).collect();
        // Predictions follow the value plus window noise that cancels within each subject.
        let good: Vec<f64> =
            values.iter().enumerate().map(|(i, v)| v + if i % 2 == 0 { 3.0 } else { -3.0 }).collect();
        let d = regression_discrimination(&good, &values, &subjects, 999, 1);
        assert_eq!((d.n_windows, d.n_subjects), (40, 10));
        assert_relative_eq!(d.r, 1.0, max_relative = 1e-12);
        // Only the observed order reaches r = 1: p = 1 / 1000 up to the ties of the draws.
        assert!(d.p < 0.005 && d.learned, "{d:?}");
        assert!(d.window_r < d.r, "the window noise lowers the window r: {d:?}");
        // Reversed predictions: r = -1, one-sided p near 1, nothing learned.
        let bad: Vec<f64> = values.iter().map(|v| -v).collect();
        let d = regression_discrimination(&bad, &values, &subjects, 999, 1);
        assert!(d.r < -0.99 && d.p > 0.9 && !d.learned, "{d:?}");
        // Predictions unrelated to the value: not learned.
        let flat: Vec<f64> = subjects.iter().map(|&s| ((s * 7) % 10) as f64).collect();
        let d = regression_discrimination(&flat, &values, &subjects, 999, 1);
        assert!(d.p > 0.05 && !d.learned, "{d:?}");
        // The classification fields readers use.
        let c = d.as_discrimination();
        assert_eq!((c.p, c.learned, c.statistic, c.n_subjects), (d.p, false, d.r, 10));
    }

    #[test]
    fn extremes_are_the_highest_and_lowest_outputs_with_the_subject_cap() {
        let out = [2.0, 1.9, -1.0, 1.5, -3.0, -2.9, 0.2, -2.5];
        let subj = [0, 0, 1, 1, 2, 2, 3, 3];
        let [low, high] = extremes(&out, 3, &subj, None);
        assert_eq!(high, vec![0, 1, 3]);
        assert_eq!(low, vec![4, 5, 7]);
        // One window per subject at most.
        let [low, high] = extremes(&out, 3, &subj, Some(1));
        assert_eq!(high, vec![0, 3, 6]);
        assert_eq!(low, vec![4, 7, 2]);
        // More asked than there are: low never repeats a high window.
        let [low, high] = extremes(&out, 6, &subj, None);
        assert_eq!(high.len(), 6);
        assert_eq!(low.len(), 2);
        assert!(low.iter().all(|p| !high.contains(p)));
    }
}

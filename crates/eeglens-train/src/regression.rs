//! Regression on a numeric target (a store prepared with `--target numeric`, such as age):
//! the target's standardisation, the figures of a set of predictions (MAE, RMSE, R², Pearson
//! r), and the evaluation of a model on a split, per window and per subject.
//!
//! - The network has one output and learns the target standardised with the training
//!   split's mean and SD ([`TargetScale`], recorded in the run's `config.json`); predictions
//!   are given back in the target's unit.
//! - R² is `1 - SSE / SST`, SST taken around the evaluated windows' (or subjects') own mean
//!   (scikit-learn's `r2_score`): below 0 when predicting that mean would do better.
//! - A subject's prediction is the mean of its windows' predictions.
//! - The verdict `learned` replaces the classification's chance test: the Pearson r between
//!   the subjects' mean predictions and their values is above 0 by the one-sided t-test of r
//!   (`t = r sqrt((n - 2) / (1 - r^2))`, `n - 2` degrees of freedom) at
//!   [`eeglens_dsp::stats::CHANCE_ALPHA`]. Subjects, not windows: the windows of one subject
//!   share its value and are not independent.

use std::path::PathBuf;

use eeglens_data::store::{EpochStore, Split};
use eeglens_nn::Sequential;
use serde::{Deserialize, Serialize};

use crate::error::TrainError;
use crate::eval::predict_windows;
use crate::run_dir::RunDir;

/// The `schema` of a regression's evaluation (`eval-<split>.json`, `eeglens eval --json`).
pub const REGRESSION_EVAL_FORMAT: &str = "eeglens-eval-regression/1";

/// How a run standardises its numeric target: the training split's mean and SD.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetScale {
    /// the participants.tsv column (`age`)
    pub column: String,
    /// its unit, when the store records one
    pub unit: Option<String>,
    /// mean over the training windows
    pub mean: f64,
    /// standard deviation over the training windows (population; 1 when they are all equal)
    pub sd: f64,
}

impl TargetScale {
    /// The scale of `store`'s target over its training windows; `None` for a class store.
    pub fn of_store(store: &EpochStore) -> Option<Self> {
        let t = store.target()?;
        let v: Vec<f64> = store.indices(Split::Train).iter().map(|&i| t.values[i] as f64).collect();
        let n = v.len().max(1) as f64;
        let mean = v.iter().sum::<f64>() / n;
        let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
        Some(Self {
            column: t.column.clone(),
            unit: t.unit.clone(),
            mean,
            sd: if sd > 0.0 && sd.is_finite() { sd } else { 1.0 },
        })
    }

    /// A value in the target's unit, standardised.
    pub fn standardise(&self, v: f64) -> f64 {
        (v - self.mean) / self.sd
    }

    /// A standardised value back in the target's unit.
    pub fn unstandardise(&self, z: f64) -> f64 {
        z * self.sd + self.mean
    }
}

/// The figures of predictions against true values (both in the target's unit).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegressionFigures {
    /// pairs
    pub n: usize,
    /// mean absolute error
    pub mae: f64,
    /// root mean squared error
    pub rmse: f64,
    /// coefficient of determination, `1 - SSE / SST` (SST around the true values' mean)
    pub r2: f64,
    /// Pearson correlation of predictions and true values (0 when either is constant)
    pub r: f64,
}

impl RegressionFigures {
    /// The figures of `predicted` against `truth` (equal lengths).
    pub fn of(predicted: &[f64], truth: &[f64]) -> Self {
        let n = predicted.len().min(truth.len());
        if n == 0 {
            return Self { n, mae: f64::NAN, rmse: f64::NAN, r2: f64::NAN, r: f64::NAN };
        }
        let nf = n as f64;
        let (p, t) = (&predicted[..n], &truth[..n]);
        let mae = p.iter().zip(t).map(|(a, b)| (a - b).abs()).sum::<f64>() / nf;
        let sse = p.iter().zip(t).map(|(a, b)| (a - b).powi(2)).sum::<f64>();
        let (mp, mt) = (p.iter().sum::<f64>() / nf, t.iter().sum::<f64>() / nf);
        let sst = t.iter().map(|b| (b - mt).powi(2)).sum::<f64>();
        let spp = p.iter().map(|a| (a - mp).powi(2)).sum::<f64>();
        let spt = p.iter().zip(t).map(|(a, b)| (a - mp) * (b - mt)).sum::<f64>();
        let r = if spp > 0.0 && sst > 0.0 { spt / (spp * sst).sqrt() } else { 0.0 };
        let r2 = if sst > 0.0 { 1.0 - sse / sst } else { f64::NAN };
        Self { n, mae, rmse: (sse / nf).sqrt(), r2, r }
    }
}

/// The test that the model learned the target: Pearson r of the subjects' mean predictions
/// against their values, one-sided t-test of r > 0.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Significance {
    /// what was tested, in words
    pub test: String,
    /// subjects (pairs)
    pub n_subjects: usize,
    /// Pearson r over subjects
    pub r: f64,
    /// `r sqrt(df / (1 - r^2))`
    pub t: f64,
    /// `n_subjects - 2`
    pub df: f64,
    /// one-sided p (`null` below three subjects)
    pub p: Option<f64>,
    /// the level
    pub alpha: f64,
    /// `p < alpha`
    pub learned: bool,
}

impl Significance {
    /// The test of the subject figures `subject`.
    pub fn of(subject: &RegressionFigures) -> Self {
        let (t, df, p) = eeglens_dsp::stats::pearson_r_test(subject.r, subject.n);
        let alpha = eeglens_dsp::stats::CHANCE_ALPHA;
        Self {
            test: "one-sided t-test of the Pearson r between the subjects' mean predictions and their \
                   values (r > 0), t = r sqrt((n - 2) / (1 - r^2)) with n - 2 degrees of freedom"
                .into(),
            n_subjects: subject.n,
            r: subject.r,
            t: if t.is_finite() { t } else { 0.0 },
            df,
            p: p.is_finite().then_some(p),
            alpha,
            learned: p.is_finite() && p < alpha,
        }
    }
}

/// One subject of a regression's evaluation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SubjectPrediction {
    /// identifier (`sub-001`)
    pub subject: String,
    /// windows evaluated
    pub n_windows: usize,
    /// the subject's value
    pub target: f64,
    /// the mean of its windows' predictions
    pub predicted: f64,
}

/// The evaluation of a regression on one split: what `eeglens eval` prints and
/// `eval-<split>.json` holds for a run on a numeric target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegressionReport {
    /// [`REGRESSION_EVAL_FORMAT`]
    pub schema: String,
    /// `train`, `val` or `test`
    pub split: String,
    /// windows evaluated
    pub n_windows: usize,
    /// subjects among them
    pub n_subjects: usize,
    /// the target and its standardisation (the training split's)
    pub target: TargetScale,
    /// mean squared error per window of the standardised target (the training loss)
    pub loss: f64,
    /// per-window figures, in the target's unit
    pub window: RegressionFigures,
    /// per-subject figures (mean prediction over a subject's windows against its value)
    pub subject: RegressionFigures,
    /// the test of the subjects' r and the verdict `learned`
    pub significance: Significance,
    /// zoo name of the model
    pub model: String,
    /// the checkpoint evaluated, when it came from a file
    pub checkpoint: Option<PathBuf>,
    /// per-subject details
    pub subjects: Vec<SubjectPrediction>,
    /// store indices of the windows, in evaluation order
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub windows: Vec<usize>,
    /// each window's prediction, in the target's unit
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub predictions: Vec<f32>,
    /// each window's true value
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<f32>,
}

impl RegressionReport {
    /// The report without per-window predictions (what `eeglens eval --json` prints).
    pub fn without_windows(&self) -> Self {
        Self { windows: Vec::new(), predictions: Vec::new(), values: Vec::new(), ..self.clone() }
    }
}

/// Each window's prediction in the target's unit (the network's standardised output undone).
///
/// # Errors
/// As [`predict_windows`].
pub fn predict_values(
    model: &Sequential,
    store: &EpochStore,
    indices: &[usize],
    batch: usize,
    scale: &TargetScale,
) -> Result<Vec<f64>, TrainError> {
    let out = predict_windows(model, store, indices, batch)?;
    Ok(out.iter().map(|&z| scale.unstandardise(z as f64)).collect())
}

/// The `f64` of the shortest decimal that reads back as `v`: a target
/// stored as `f32` (an age of 7.8 in `participants.tsv`) is reported as 7.8,
/// not 7.800000190734863.
pub fn decimal(v: f32) -> f64 {
    if v.is_finite() {
        v.to_string().parse().unwrap_or(v as f64)
    } else {
        v as f64
    }
}

/// The figures of the windows `indices` of `store` predicted as `predicted`: per window, and
/// per subject from the mean prediction of its windows; the loss is the MSE of the
/// standardised target. Returns `(loss, window, subject, subjects)`.
pub fn figures_of(
    store: &EpochStore,
    indices: &[usize],
    predicted: &[f64],
    scale: &TargetScale,
) -> (f64, RegressionFigures, RegressionFigures, Vec<SubjectPrediction>) {
    let values = store.target().map(|t| &t.values[..]).unwrap_or(&[]);
    let truth: Vec<f64> =
        indices.iter().map(|&i| decimal(values.get(i).copied().unwrap_or(f32::NAN))).collect();
    let loss = predicted
        .iter()
        .zip(&truth)
        .map(|(p, t)| (scale.standardise(*p) - scale.standardise(*t)).powi(2))
        .sum::<f64>()
        / predicted.len().max(1) as f64;
    let window = RegressionFigures::of(predicted, &truth);
    // Subjects in store order of their index.
    let mut by_subject: std::collections::BTreeMap<u32, (usize, f64, f64)> = Default::default();
    for ((&i, p), t) in indices.iter().zip(predicted).zip(&truth) {
        let e = by_subject.entry(store.subjects()[i]).or_insert((0, 0.0, *t));
        e.0 += 1;
        e.1 += p;
    }
    let subjects: Vec<SubjectPrediction> = by_subject
        .into_iter()
        .map(|(s, (n, sum, t))| SubjectPrediction {
            subject: store.meta().subjects[s as usize].clone(),
            n_windows: n,
            target: t,
            predicted: sum / n as f64,
        })
        .collect();
    let sp: Vec<f64> = subjects.iter().map(|s| s.predicted).collect();
    let st: Vec<f64> = subjects.iter().map(|s| s.target).collect();
    (loss, window, RegressionFigures::of(&sp, &st), subjects)
}

/// Evaluates the regression `model` on the `split` windows of `store`.
///
/// # Errors
/// [`TrainError::EmptySplit`]; [`TrainError::Config`] when the store has no numeric target;
/// [`TrainError::Nn`] when the windows do not fit the model.
pub fn evaluate_regression(
    model: &Sequential,
    store: &EpochStore,
    split: Split,
    batch: usize,
    scale: &TargetScale,
) -> Result<RegressionReport, TrainError> {
    if store.target().is_none() {
        return Err(TrainError::Config {
            field: "data",
            msg: format!("{} holds classes, not a numeric target", store.path().display()),
        });
    }
    let indices = store.indices(split);
    if indices.is_empty() {
        return Err(TrainError::EmptySplit { data: store.path().to_path_buf(), split: split.name() });
    }
    let predicted = predict_values(model, store, &indices, batch, scale)?;
    let (loss, window, subject, subjects) = figures_of(store, &indices, &predicted, scale);
    let values = store.target().map_or(Vec::new(), |t| indices.iter().map(|&i| t.values[i]).collect());
    Ok(RegressionReport {
        schema: REGRESSION_EVAL_FORMAT.into(),
        split: split.name().into(),
        n_windows: indices.len(),
        n_subjects: subjects.len(),
        target: scale.clone(),
        loss,
        window,
        significance: Significance::of(&subject),
        subject,
        model: model.name().into(),
        checkpoint: None,
        subjects,
        windows: indices,
        predictions: predicted.iter().map(|&p| p as f32).collect(),
        values,
    })
}

/// Evaluates a regression run's best model (see [`RunDir::load_model`]) on the `split`
/// windows of `store`, with the run's standardisation.
///
/// # Errors
/// [`TrainError::RunFile`] when the run is a classification or the store's windows or target
/// differ from the run's; as [`RunDir::load_model`] and [`evaluate_regression`].
pub fn evaluate_run_regression(
    run: &RunDir,
    store: &EpochStore,
    split: Split,
) -> Result<RegressionReport, TrainError> {
    let d = &run.config().data;
    let Some(scale) = &d.target else {
        return Err(TrainError::RunFile {
            path: run.path().join(crate::run_dir::CONFIG_FILE),
            msg: "is a classification run, not a regression on a numeric target".into(),
        });
    };
    let same_target = store.target().is_some_and(|t| t.column == scale.column);
    if (store.n_channels(), store.n_samples()) != (d.n_channels, d.n_samples) || !same_target {
        return Err(TrainError::RunFile {
            path: store.path().to_path_buf(),
            msg: format!(
                "windows of {} channels x {} samples with target {:?} do not match the regression run in {} ({} x {}, target `{}`)",
                store.n_channels(),
                store.n_samples(),
                store.target().map(|t| t.column.as_str()),
                run.path().display(),
                d.n_channels,
                d.n_samples,
                scale.column
            ),
        });
    }
    let (model, _) = run.load_model()?;
    let mut r = evaluate_regression(&model, store, split, run.config().train.eval_batch, scale)?;
    let best = run.best_checkpoint_path();
    r.checkpoint = Some(if best.exists() { best } else { run.last_checkpoint_path() });
    Ok(r)
}

/// The `schema` of a regression's evaluation over the folds of a cross-validation.
pub const REGRESSION_FOLDS_FORMAT: &str = "eeglens-eval-folds-regression/1";

/// One fold of a regression's cross-validation, on its test subjects.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegressionFold {
    /// fold number, from 0
    pub fold: usize,
    /// its run directory
    pub run: PathBuf,
    /// the subjects it tested
    pub subjects_tested: Vec<String>,
    /// windows tested
    pub n_windows: usize,
    /// per-window figures
    pub window: RegressionFigures,
    /// per-subject figures
    pub subject: RegressionFigures,
    /// the fold's verdict (t-test of the subjects' r)
    pub learned: bool,
}

/// A regression's cross-validation: per fold, mean and SD over folds, and the pooled
/// out-of-fold figures (every subject tested once, by the fold that held it out).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegressionFoldsEval {
    /// [`REGRESSION_FOLDS_FORMAT`]
    pub schema: String,
    /// the target (the first fold's standardisation; each fold has its own)
    pub target: TargetScale,
    /// the folds
    pub folds: Vec<RegressionFold>,
    /// mean over folds: `window_mae`, `window_rmse`, `window_r2`, `window_r`, `subject_*`
    pub mean: std::collections::BTreeMap<String, f64>,
    /// sample SD over folds (0 for one fold), same keys
    pub sd: std::collections::BTreeMap<String, f64>,
    /// pooled out-of-fold figures per window
    pub pooled_window: RegressionFigures,
    /// pooled out-of-fold figures per subject
    pub pooled_subject: RegressionFigures,
    /// the test of the pooled subjects' r
    pub pooled_significance: Significance,
    /// folds whose own test says `learned`
    pub learned: usize,
}

/// Summarises the test-split reports of a regression's folds (with their windows' predictions
/// and values, for the pooled figures).
///
/// # Panics
/// When `reports` is empty.
pub fn summarise_folds(reports: &[(usize, PathBuf, RegressionReport)]) -> RegressionFoldsEval {
    assert!(!reports.is_empty(), "summarise_folds: no fold");
    let folds: Vec<RegressionFold> = reports
        .iter()
        .map(|(fold, run, r)| RegressionFold {
            fold: *fold,
            run: run.clone(),
            subjects_tested: r.subjects.iter().map(|s| s.subject.clone()).collect(),
            n_windows: r.n_windows,
            window: r.window,
            subject: r.subject,
            learned: r.significance.learned,
        })
        .collect();
    let mut mean = std::collections::BTreeMap::new();
    let mut sd = std::collections::BTreeMap::new();
    type Pick = fn(&RegressionFigures) -> f64;
    let picks: [(&str, Pick); 4] =
        [("mae", |f| f.mae), ("rmse", |f| f.rmse), ("r2", |f| f.r2), ("r", |f| f.r)];
    type Level = fn(&RegressionFold) -> RegressionFigures;
    let levels: [(&str, Level); 2] = [("window", |f| f.window), ("subject", |f| f.subject)];
    for (level, of) in levels {
        for (name, pick) in picks {
            let v: Vec<f64> = folds.iter().map(|f| pick(&of(f))).collect();
            let n = v.len() as f64;
            let m = v.iter().sum::<f64>() / n;
            let s = if v.len() < 2 {
                0.0
            } else {
                (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
            };
            mean.insert(format!("{level}_{name}"), m);
            sd.insert(format!("{level}_{name}"), s);
        }
    }
    let wp: Vec<f64> = reports.iter().flat_map(|r| r.2.predictions.iter().map(|&p| p as f64)).collect();
    let wt: Vec<f64> = reports.iter().flat_map(|r| r.2.values.iter().map(|&v| v as f64)).collect();
    let sp: Vec<f64> = reports.iter().flat_map(|r| r.2.subjects.iter().map(|s| s.predicted)).collect();
    let st: Vec<f64> = reports.iter().flat_map(|r| r.2.subjects.iter().map(|s| s.target)).collect();
    let pooled_subject = RegressionFigures::of(&sp, &st);
    RegressionFoldsEval {
        schema: REGRESSION_FOLDS_FORMAT.into(),
        target: reports[0].2.target.clone(),
        learned: folds.iter().filter(|f| f.learned).count(),
        folds,
        mean,
        sd,
        pooled_window: RegressionFigures::of(&wp, &wt),
        pooled_significance: Significance::of(&pooled_subject),
        pooled_subject,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    #[test]
    fn stored_targets_read_back_as_their_decimals() {
        assert_eq!(7.8f32 as f64, 7.800000190734863);
        assert_eq!(decimal(7.8), 7.8);
        assert_eq!(decimal(12.25), 12.25);
        assert_eq!(decimal(-0.1), -0.1);
        assert!(decimal(f32::NAN).is_nan());
        // Every f32 maps to a decimal that rounds back to it.
        for v in [1.0e-7f32, 3.3333333, 1.0e9, 123.456, f32::MAX] {
            assert_eq!(decimal(v) as f32, v);
        }
    }

    #[test]
    fn figures_match_their_definitions() {
        let truth = [6.0, 8.0, 10.0, 12.0];
        let perfect = RegressionFigures::of(&truth, &truth);
        assert_eq!((perfect.mae, perfect.rmse, perfect.r2, perfect.r), (0.0, 0.0, 1.0, 1.0));
        // Predicting the mean: R² 0, r 0 (constant predictions).
        let mean = RegressionFigures::of(&[9.0; 4], &truth);
        assert_abs_diff_eq!(mean.r2, 0.0, epsilon = 1e-12);
        assert_eq!(mean.r, 0.0);
        assert_abs_diff_eq!(mean.mae, 2.0, epsilon = 1e-12);
        assert_abs_diff_eq!(mean.rmse, 5f64.sqrt(), epsilon = 1e-12);
        // A shifted, halved copy: r 1, R² from SSE / SST by hand.
        let p = [8.0, 9.0, 10.0, 11.0];
        let f = RegressionFigures::of(&p, &truth);
        assert_abs_diff_eq!(f.r, 1.0, epsilon = 1e-12);
        let sse: f64 = p.iter().zip(&truth).map(|(a, b)| (a - b) * (a - b)).sum();
        assert_abs_diff_eq!(f.r2, 1.0 - sse / 20.0, epsilon = 1e-12);
        // Reversed: r -1, R² below 0.
        let rev = RegressionFigures::of(&[12.0, 10.0, 8.0, 6.0], &truth);
        assert_abs_diff_eq!(rev.r, -1.0, epsilon = 1e-12);
        assert!(rev.r2 < 0.0);
    }

    #[test]
    fn the_verdict_follows_the_subjects_r() {
        let truth: Vec<f64> = (0..10).map(|i| 6.0 + i as f64).collect();
        let good: Vec<f64> =
            truth.iter().enumerate().map(|(i, t)| t + if i % 2 == 0 { 1.5 } else { -1.5 }).collect();
        let s = Significance::of(&RegressionFigures::of(&good, &truth));
        assert!(s.learned && s.p.expect("ten subjects") < 0.05, "{s:?}");
        let flat: Vec<f64> = truth.iter().map(|t| 10.0 + 0.01 * ((t * 7.0) % 3.0)).collect();
        let s = Significance::of(&RegressionFigures::of(&flat, &truth));
        assert!(!s.learned, "{s:?}");
        let s = Significance::of(&RegressionFigures::of(&[1.0, 2.0], &[1.0, 2.0]));
        assert!(!s.learned && s.p.is_none());
    }

    #[test]
    fn the_scale_round_trips() {
        let s = TargetScale { column: "age".into(), unit: Some("year".into()), mean: 12.0, sd: 4.0 };
        assert_eq!(s.standardise(16.0), 1.0);
        assert_eq!(s.unstandardise(-0.5), 10.0);
    }
}

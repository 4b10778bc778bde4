//! Evaluation of a model on one split of an epoch store, per window and per
//! subject: what `eeglens eval` prints and `eval-<split>.json` holds.

use std::path::PathBuf;

use eeglens_data::store::{EpochStore, Split};
use eeglens_nn::{Precision, Predictor, Sequential};
use serde::{Deserialize, Serialize};

use crate::chance::ChanceReport;
use crate::error::TrainError;
use crate::metrics::{
    accuracy, auc, balanced_accuracy, confusion, per_subject, probabilities, ClassMetrics, SubjectResult,
};
use crate::run_dir::RunDir;

/// The `schema` of an [`EvalReport`] as a document (`eval --json`, `eval-<split>.json`;
/// docs/json.md).
pub const EVAL_FORMAT: &str = "eeglens-eval/1";

/// The evaluation of a model on one split.
///
/// Window figures come from every window of the split; subject figures from
/// each subject's mean window probabilities (`subject_accuracy`, as the seed
/// paper's group reports) or from the majority vote of its windows
/// (`subject_accuracy_vote`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// `train`, `val` or `test`
    pub split: String,
    /// windows evaluated
    pub n_windows: usize,
    /// subjects among them
    pub n_subjects: usize,
    /// mean cross-entropy per window
    pub loss: f64,
    /// accuracy per window
    pub accuracy: f64,
    /// balanced accuracy per window
    pub balanced_accuracy: f64,
    /// ROC AUC per window (`null` when a class is absent)
    pub auc: Option<f64>,
    /// accuracy per subject, from mean window probabilities
    pub subject_accuracy: f64,
    /// accuracy per subject, from the majority vote of windows
    pub subject_accuracy_vote: f64,
    /// balanced accuracy per subject (mean probabilities)
    pub subject_balanced_accuracy: f64,
    /// ROC AUC per subject (mean probabilities)
    pub subject_auc: Option<f64>,
    /// `confusion[true][predicted]` per window
    pub confusion: Vec<Vec<u64>>,
    /// `confusion[true][predicted]` per subject (mean probabilities)
    pub subject_confusion: Vec<Vec<u64>>,
    /// class names in logit order
    pub classes: Vec<String>,
    /// zoo name of the model
    pub model: String,
    /// the checkpoint evaluated, when it came from a file
    pub checkpoint: Option<PathBuf>,
    /// per-subject details
    pub subjects: Vec<SubjectResult>,
    /// store indices of the windows, in evaluation order
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub windows: Vec<usize>,
    /// class probabilities of each window, `[n_windows][classes]`
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub probabilities: Vec<Vec<f32>>,
    /// whether the accuracy is above chance (binomial tests per window and
    /// per subject) and the verdict `learned`
    #[serde(default)]
    pub chance: Option<ChanceReport>,
}

impl EvalReport {
    /// The report without per-window probabilities (what `eeglens eval --json` prints).
    pub fn without_windows(&self) -> Self {
        Self { windows: Vec::new(), probabilities: Vec::new(), ..self.clone() }
    }
}

/// Eval-mode logits `[indices.len(), k]` of the windows `indices`, in batches
/// of `batch` windows.
///
/// # Errors
/// [`eeglens_nn::NnError::InputShape`] (as [`TrainError::Nn`]) when the
/// store's windows do not fit the model.
pub fn predict_windows(
    model: &Sequential,
    store: &EpochStore,
    indices: &[usize],
    batch: usize,
) -> Result<Vec<f32>, TrainError> {
    predict_windows_with(&Predictor::new(model, Precision::Fp32), store, indices, batch)
}

/// [`predict_windows`] with a [`Predictor`] (its model's weights prepared
/// once for its precision).
///
/// # Errors
/// As [`predict_windows`].
pub fn predict_windows_with(
    predictor: &Predictor,
    store: &EpochStore,
    indices: &[usize],
    batch: usize,
) -> Result<Vec<f32>, TrainError> {
    let mut logits = Vec::with_capacity(indices.len() * 2);
    for chunk in indices.chunks(batch.max(1)) {
        logits.extend_from_slice(predictor.predict(&store.batch(chunk))?.data());
    }
    Ok(logits)
}

/// Evaluates `model` on the `split` windows of `store`.
///
/// # Errors
/// [`TrainError::EmptySplit`]; [`TrainError::Nn`] when the windows do not fit the model.
pub fn evaluate_model(
    model: &Sequential,
    store: &EpochStore,
    split: Split,
    batch: usize,
) -> Result<EvalReport, TrainError> {
    evaluate_model_at(model, store, split, batch, Precision::Fp32)
}

/// [`evaluate_model`] with the forward passes in `precision` (falling back
/// to fp32 where the CPU cannot run it; [`eeglens_nn::Predictor`]).
///
/// # Errors
/// As [`evaluate_model`].
pub fn evaluate_model_at(
    model: &Sequential,
    store: &EpochStore,
    split: Split,
    batch: usize,
    precision: Precision,
) -> Result<EvalReport, TrainError> {
    let indices = store.indices(split);
    if indices.is_empty() {
        return Err(TrainError::EmptySplit { data: store.path().to_path_buf(), split: split.name() });
    }
    let k: usize = model.output_shape().iter().product();
    let logits = predict_windows_with(&Predictor::new(model, precision), store, &indices, batch)?;
    let labels: Vec<usize> = indices.iter().map(|&i| store.labels()[i] as usize).collect();
    let window = ClassMetrics::from_logits(&logits, &labels, k);
    let probs = probabilities(&logits, k);
    Ok(report_from_probs(store, split, indices, &probs, k, window.loss, model.name()))
}

/// The [`EvalReport`] of class probabilities `probs` (`[indices.len(), k]`)
/// of the windows `indices` of `store`, whatever model made them (a network,
/// or the band-power baseline).
pub fn report_from_probs(
    store: &EpochStore,
    split: Split,
    indices: Vec<usize>,
    probs: &[f32],
    k: usize,
    loss: f64,
    model: &str,
) -> EvalReport {
    let labels: Vec<usize> = indices.iter().map(|&i| store.labels()[i] as usize).collect();
    let subjects: Vec<usize> = indices.iter().map(|&i| store.subjects()[i] as usize).collect();
    let window = ClassMetrics::from_probs(probs, &labels, k, loss);
    let subj = per_subject(probs, &labels, &subjects, k, &store.meta().subjects);
    let s_labels: Vec<usize> = subj.iter().map(|s| s.label).collect();
    let s_conf = confusion(&s_labels, &subj.iter().map(|s| s.predicted).collect::<Vec<_>>(), k);
    let s_vote = confusion(&s_labels, &subj.iter().map(|s| s.predicted_vote).collect::<Vec<_>>(), k);
    let s_probs: Vec<f32> = subj.iter().flat_map(|s| s.mean_prob.iter().map(|&p| p as f32)).collect();
    let mut classes = store.meta().classes.clone();
    classes.resize_with(k, || "?".into());
    let mut report = EvalReport {
        split: split.name().into(),
        n_windows: indices.len(),
        n_subjects: subj.len(),
        loss: window.loss,
        accuracy: window.accuracy,
        balanced_accuracy: window.balanced_accuracy,
        auc: window.auc,
        subject_accuracy: accuracy(&s_conf),
        subject_accuracy_vote: accuracy(&s_vote),
        subject_balanced_accuracy: balanced_accuracy(&s_conf),
        subject_auc: auc(&s_probs, &s_labels, k),
        confusion: window.confusion,
        subject_confusion: s_conf,
        classes,
        model: model.into(),
        checkpoint: None,
        subjects: subj,
        windows: indices,
        probabilities: probs.chunks_exact(k).map(|r| r.to_vec()).collect(),
        chance: None,
    };
    report.chance = Some(ChanceReport::of(&report));
    report
}

/// Evaluates a run's best model (see [`RunDir::load_model`]) on the `split`
/// windows of `store`.
///
/// # Errors
/// [`TrainError::RunFile`] when the store's window shape or classes differ
/// from the run's; as [`RunDir::load_model`] and [`evaluate_model`].
pub fn evaluate_split(run: &RunDir, store: &EpochStore, split: Split) -> Result<EvalReport, TrainError> {
    evaluate_split_at(run, store, split, Precision::Fp32)
}

/// [`evaluate_split`] with the forward passes in `precision` (falling back
/// to fp32 where the CPU cannot run it; [`eeglens_nn::Predictor`]).
///
/// # Errors
/// As [`evaluate_split`].
pub fn evaluate_split_at(
    run: &RunDir,
    store: &EpochStore,
    split: Split,
    precision: Precision,
) -> Result<EvalReport, TrainError> {
    let d = &run.config().data;
    if let Some(t) = &d.target {
        return Err(TrainError::RunFile {
            path: run.path().join(crate::run_dir::CONFIG_FILE),
            msg: format!(
                "is a regression on `{}`, not a classification: evaluate it with \
                 eeglens_train::regression::evaluate_run_regression",
                t.column
            ),
        });
    }
    if (store.n_channels(), store.n_samples()) != (d.n_channels, d.n_samples)
        || store.meta().classes != d.classes
    {
        return Err(TrainError::RunFile {
            path: store.path().to_path_buf(),
            msg: format!(
                "windows of {} channels x {} samples with classes {:?} do not match the run in {} ({} x {}, {:?})",
                store.n_channels(),
                store.n_samples(),
                store.meta().classes,
                run.path().display(),
                d.n_channels,
                d.n_samples,
                d.classes
            ),
        });
    }
    let (model, _) = run.load_model()?;
    let mut r = evaluate_model_at(&model, store, split, run.config().train.eval_batch, precision)?;
    let best = run.best_checkpoint_path();
    r.checkpoint = Some(if best.exists() { best } else { run.last_checkpoint_path() });
    Ok(r)
}

//! What a report shows, as plain data: [`ReportInput`] and its parts, with
//! constructors from the results of eeglens-train and eeglens-interpret.

use std::path::{Path, PathBuf};

use eeglens_data::store::{EpochStore, Split};
use eeglens_interpret::result::{ActmaxReport, OptimalReport};
use eeglens_interpret::{Agreement, InterpretResult, Report};
use eeglens_nn::{IntTensor, Sequential, TensorFile};
use eeglens_train::{BaselineReport, EpochRecord, EvalReport, RunConfig};

use crate::error::ReportError;

/// Everything the report shows. Build it from a run directory with
/// [`crate::load_run`], or piece by piece from results in memory.
#[derive(Clone, Debug)]
pub struct ReportInput {
    /// the page's heading
    pub title: String,
    /// the run directory, when the report is of one
    pub run_dir: Option<PathBuf>,
    /// the data set
    pub dataset: DatasetSummary,
    /// the network
    pub model: ModelSummary,
    /// one record per training epoch (may be empty)
    pub epochs: Vec<EpochRecord>,
    /// the test evaluation, when there is one (a classification's)
    pub eval: Option<EvalReport>,
    /// a regression's test evaluation (a run on a numeric target: MAE, R², r per window and per
    /// subject); then `eval` is `None` and the interpretation's groups are `low` and `high`
    pub regression: Option<eeglens_train::RegressionReport>,
    /// the interpretation, when there is one
    pub interpretation: Option<Interpretation>,
    /// the band-power baseline recorded with the run (`baseline.json`), when there is one
    pub baseline: Option<BaselineReport>,
    /// the seeds around the run, when the report is of a parent directory of seed runs
    pub seeds: Option<Seeds>,
    /// the folds of a cross-validation, when the report is of their parent directory: then
    /// `eval`, `baseline`, `data_spectra`, `window_labels` and `interpretation` are over every
    /// subject, out of fold, and `epochs` and `model` are the shown fold's
    pub folds: Option<Folds>,
    /// the parts of the page that could not be drawn, each with its file and why
    pub missing: Vec<MissingPart>,
    /// the steps that made the run, in order: the store's preparation, then
    /// the run directory's `provenance.jsonl` (empty when none recorded it)
    pub provenance: Vec<eeglens_train::provenance::Step>,
    /// the class spectra of the test windows per channel group, from the
    /// epoch store (`None` without it)
    pub data_spectra: Option<crate::spectra::DataSpectra>,
    /// the true class of each test window, by its index in the epoch store
    /// (empty without the store): what the per-window ROC curves rank
    pub window_labels: std::collections::BTreeMap<usize, usize>,
}

/// A part of the page that could not be drawn because a file of the run is
/// missing or unreadable. The page shows a notice in the section where the
/// part would be, and `eeglens report` prints one line per part.
#[derive(Clone, Debug, PartialEq)]
pub struct MissingPart {
    /// the page section it belongs to (its `id`: `data-spectra`, `baseline`, `data`, `model`,
    /// `training`, `interpretation`, `provenance`)
    pub section: &'static str,
    /// the file that would supply it
    pub file: PathBuf,
    /// what the page lacks without it
    pub lacks: String,
    /// why it is missing, and what writes it
    pub why: String,
}

impl MissingPart {
    /// One line: the file, what the page lacks, and why.
    pub fn describe(&self) -> String {
        format!("{}: {}; the page lacks {}", self.file.display(), self.why, self.lacks)
    }
}

/// A parent directory of runs that differ only in their seed (`seed-<n>/`),
/// and their agreement (`agreement.json`).
#[derive(Clone, Debug)]
pub struct Seeds {
    /// the parent directory
    pub parent: PathBuf,
    /// `agreement.json`, when the parent has one
    pub agreement: Option<Agreement>,
    /// the seed runs found, `(seed, run directory)` in seed order
    pub runs: Vec<(u64, PathBuf)>,
    /// the seed whose run the rest of the report shows
    pub shown: u64,
}

/// A parent directory of the folds of a cross-validation (`fold-<i>/`,
/// `eeglens train --folds K`) and their evaluation.
#[derive(Clone, Debug)]
pub struct Folds {
    /// the parent directory
    pub parent: PathBuf,
    /// each fold's test figures, their mean, SD and 95 % interval, and the pooled figures
    pub eval: eeglens_train::folds::FoldsEval,
    /// the fold whose learning curves and layers the report shows
    pub shown: usize,
}

impl ReportInput {
    /// A regression's target, `(column, unit)`, from its test evaluation or its
    /// interpretation; `None` for classes.
    pub fn numeric(&self) -> Option<(String, Option<String>)> {
        if let Some(r) = &self.regression {
            return Some((r.target.column.clone(), r.target.unit.clone()));
        }
        let n = self.interpretation.as_ref()?.report.numeric.as_ref()?;
        Some((n.column.clone(), n.target_unit.clone()))
    }
}

/// Windows and subjects of one split.
#[derive(Clone, Debug, PartialEq)]
pub struct SplitSummary {
    /// `train`, `val` or `test`
    pub name: String,
    /// windows
    pub windows: usize,
    /// distinct subjects (when the epoch store was read)
    pub subjects: Option<usize>,
    /// windows per class, in class order (when the epoch store was read)
    pub per_class: Option<Vec<usize>>,
}

/// The data set a run was trained on.
#[derive(Clone, Debug, PartialEq)]
pub struct DatasetSummary {
    /// the epoch store
    pub path: PathBuf,
    /// channel names
    pub channels: Vec<String>,
    /// sampling rate, Hz
    pub fs: f64,
    /// samples per window
    pub n_samples: usize,
    /// class names
    pub classes: Vec<String>,
    /// the participants.tsv column of the labels
    pub label_column: String,
    /// train, validation and test
    pub splits: Vec<SplitSummary>,
    /// the preparation settings recorded in the store (channels, rate, band, ...)
    pub settings: Option<serde_json::Value>,
}

impl DatasetSummary {
    /// What a run's `config.json` says about its data (window counts per split only).
    pub fn from_config(cfg: &RunConfig) -> Self {
        let d = &cfg.data;
        let splits = ["train", "val", "test"]
            .iter()
            .zip(d.n_split)
            .map(|(name, windows)| SplitSummary {
                name: name.to_string(),
                windows,
                subjects: None,
                per_class: None,
            })
            .collect();
        Self {
            path: d.path.clone(),
            channels: d.channels.clone(),
            fs: d.fs,
            n_samples: d.n_samples,
            classes: d.classes.clone(),
            label_column: d.label_column.clone(),
            splits,
            settings: None,
        }
    }

    /// The unit of the windows: `µV`, or `SD` (standard deviations of the
    /// recording or segment) when preparation normalised them.
    pub fn unit(&self) -> &'static str {
        let normalised = self
            .settings
            .as_ref()
            .and_then(|s| s.get("normalise"))
            .and_then(|v| v.as_str())
            .is_some_and(|v| v != "none");
        if normalised {
            "SD"
        } else {
            "µV"
        }
    }

    /// Everything from the epoch store itself: subjects and class balance per split, settings.
    pub fn from_store(store: &EpochStore) -> Self {
        let meta = store.meta();
        let k = meta.classes.len();
        let splits = [Split::Train, Split::Val, Split::Test]
            .into_iter()
            .map(|split| {
                let idx = store.indices(split);
                let mut per_class = vec![0usize; k];
                let mut subjects: Vec<u32> = Vec::with_capacity(idx.len());
                for &i in &idx {
                    if let Some(n) = per_class.get_mut(store.labels()[i] as usize) {
                        *n += 1;
                    }
                    subjects.push(store.subjects()[i]);
                }
                subjects.sort_unstable();
                subjects.dedup();
                SplitSummary {
                    name: split.name().to_string(),
                    windows: idx.len(),
                    subjects: Some(subjects.len()),
                    per_class: Some(per_class),
                }
            })
            .collect();
        Self {
            path: store.path().to_path_buf(),
            channels: meta.channels.clone(),
            fs: meta.fs,
            n_samples: store.n_samples(),
            classes: meta.classes.clone(),
            label_column: meta.label_column.clone(),
            splits,
            settings: Some(meta.settings.clone()).filter(|s| !s.is_null()),
        }
    }
}

/// One layer of the network.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerSummary {
    /// the layer's name (`features.0`)
    pub name: String,
    /// its kind (`Conv2d`, `ReLU`, ...)
    pub kind: String,
    /// per-sample output shape
    pub output_shape: Vec<usize>,
    /// learnable scalars
    pub params: usize,
}

/// The network: name, shapes and parameters, layer by layer when known.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelSummary {
    /// zoo name
    pub name: String,
    /// per-sample input shape
    pub input_shape: Vec<usize>,
    /// learnable scalars
    pub n_params: usize,
    /// the layers (empty when only the totals are known)
    pub layers: Vec<LayerSummary>,
    /// how the model was chosen, when the run selected it among candidates
    /// on validation (`selection.json`)
    pub selection: Option<eeglens_train::Selection>,
}

impl ModelSummary {
    /// The summary of a built model, layer by layer.
    pub fn from_model(model: &Sequential) -> Self {
        let layers = model
            .layers()
            .iter()
            .zip(model.layer_shapes())
            .map(|((name, layer), shape)| LayerSummary {
                name: name.clone(),
                kind: layer.kind().to_string(),
                output_shape: shape.clone(),
                params: layer.params().iter().map(|(_, t)| t.data().len()).sum(),
            })
            .collect();
        Self {
            name: model.name().to_string(),
            input_shape: model.input_shape().to_vec(),
            n_params: model.num_params(),
            layers,
            selection: None,
        }
    }

    /// What a run's `config.json` says (totals only).
    pub fn from_config(cfg: &RunConfig) -> Self {
        Self {
            name: cfg.model.name.clone(),
            input_shape: cfg.model.input_shape.clone(),
            n_params: cfg.model.n_params,
            layers: Vec::new(),
            selection: None,
        }
    }
}

/// One `[channels][time]` matrix shown as figures (a window, a pattern, a map).
#[derive(Clone, Debug, PartialEq)]
pub struct Example {
    /// the class it belongs to
    pub class: String,
    /// where it comes from, in words (`window 1234 of subject 017, p(M) = 0.97`)
    pub note: String,
    /// `[channels][time]`, row-major
    pub data: Vec<f32>,
}

/// The interpretation: `interpret.json` and one example per class and method.
#[derive(Clone, Debug)]
pub struct Interpretation {
    /// the document (`interpret.json`)
    pub report: Report,
    /// per class, its best optimal sample (needs the epoch store)
    pub optimal: Vec<Example>,
    /// per class, one activation-maximisation pattern (the first restart)
    pub actmax: Vec<Example>,
    /// per class, the deconvnet map of its best optimal sample
    pub deconv: Vec<Example>,
}

/// The tensors of an interpretation, wherever they come from.
trait Tensors {
    fn f32(&self, name: &str) -> Option<(&[usize], &[f32])>;
    fn int(&self, name: &str) -> Option<&IntTensor>;
}

impl Tensors for TensorFile {
    fn f32(&self, name: &str) -> Option<(&[usize], &[f32])> {
        self.f32s.get(name).map(|t| (t.shape(), t.data()))
    }
    fn int(&self, name: &str) -> Option<&IntTensor> {
        self.ints.get(name)
    }
}

impl Tensors for InterpretResult {
    fn f32(&self, name: &str) -> Option<(&[usize], &[f32])> {
        self.tensor(name).map(|t| (t.shape(), t.data()))
    }
    fn int(&self, name: &str) -> Option<&IntTensor> {
        self.tensors.iter().find_map(|(n, t)| match t {
            eeglens_interpret::Saved::I64(t) if n == name => Some(t),
            _ => None,
        })
    }
}

impl Interpretation {
    /// From an interpretation in memory (what [`eeglens_interpret::run`] returned);
    /// `store` supplies the optimal samples' windows.
    pub fn from_result(result: &InterpretResult, store: Option<&EpochStore>) -> Self {
        // In memory the tensors' shapes are the crate's own: no shape can be wrong.
        Self::build(result.report.clone(), result, store, Path::new("interpret.safetensors"))
            .unwrap_or_else(|_| Self::bare(result.report.clone()))
    }

    /// The document alone, without examples.
    pub fn bare(report: Report) -> Self {
        Self { report, optimal: Vec::new(), actmax: Vec::new(), deconv: Vec::new() }
    }

    /// From `interpret.json` and the tensors of `interpret.safetensors` read from `path`.
    ///
    /// # Errors
    /// [`ReportError::Tensor`] when a tensor's shape does not fit the document.
    pub fn from_file(
        report: Report,
        file: &TensorFile,
        store: Option<&EpochStore>,
    ) -> Result<Self, ReportError> {
        Self::build(report, file, store, &file.path)
    }

    fn build(
        report: Report,
        t: &dyn Tensors,
        store: Option<&EpochStore>,
        path: &Path,
    ) -> Result<Self, ReportError> {
        let mut out = Self::bare(report);
        let (classes, n_ch) = (&out.report.classes, out.report.channels.len());
        // A regression's deconvnet: the low windows projected from the negated output unless shared.
        let numeric = out
            .report
            .numeric
            .as_ref()
            .map(|_| !out.report.methods.deconv.as_ref().is_some_and(|d| d.rule.contains("shared")));
        let m = &out.report.methods;
        // Items grouped by class: over folds, fold by fold, so the examples are fold 0's.
        let counts = |n: &ClassCounts| -> Option<Vec<usize>> {
            match &out.report.fold_subjects {
                None => Some(classes.iter().map(|c| n.get(c).copied().unwrap_or(0)).collect()),
                Some(folds) => fold0_counts(classes, m.optimal.as_ref(), folds.first()?),
            }
        };
        let optimal = match (&m.optimal, t.int("optimal.indices"), store) {
            (Some(opt), Some(idx), Some(store)) => match counts(&opt.reading.n) {
                Some(c) => optimal_examples(classes, opt, &c, idx, store, path)?,
                None => Vec::new(),
            },
            _ => Vec::new(),
        };
        let actmax = match (&m.actmax, t.f32("actmax.patterns")) {
            (Some(am), Some((shape, data))) => {
                // Over folds the patterns have a leading fold axis: fold 0's are shown.
                let (shape, data) = match (out.report.folds, shape) {
                    (Some(_), [_, rest @ ..]) if rest.len() == 4 => {
                        (rest, &data[..rest.iter().product::<usize>().min(data.len())])
                    }
                    _ => (shape, data),
                };
                actmax_examples(classes, n_ch, am, (shape, data), path)?
            }
            _ => Vec::new(),
        };
        let deconv = match (&m.deconv, t.f32("deconv.maps")) {
            (Some(dec), Some(maps)) => match counts(&dec.reading.n) {
                Some(c) => deconv_examples(classes, numeric, n_ch, &c, maps, t.int("deconv.indices"), path)?,
                None => Vec::new(),
            },
            _ => Vec::new(),
        };
        out.optimal = optimal;
        out.actmax = actmax;
        out.deconv = deconv;
        Ok(out)
    }
}

/// Items per class of each method's reading.
pub(crate) type ClassCounts = eeglens_interpret::Ordered<usize>;

/// Over folds, the items of fold 0 per class (its block comes first in the tensors): its test
/// subjects' optimal samples, which the deconvnet's maps follow; `None` without optimal samples.
fn fold0_counts(classes: &[String], opt: Option<&OptimalReport>, fold0: &[String]) -> Option<Vec<usize>> {
    let opt = opt?;
    Some(
        classes
            .iter()
            .map(|c| {
                opt.samples.get(c).map_or(0, |s| s.iter().filter(|x| fold0.contains(&x.subject)).count())
            })
            .collect(),
    )
}

/// A tensor of the interpretation file at `path` that does not fit its document.
fn tensor_error(path: &Path, name: &str, msg: String) -> ReportError {
    ReportError::Tensor { path: path.to_path_buf(), name: name.into(), msg }
}

/// Optimal samples: the first chosen window of each class, read from the store.
fn optimal_examples(
    classes: &[String],
    opt: &OptimalReport,
    counts: &[usize],
    idx: &IntTensor,
    store: &EpochStore,
    path: &Path,
) -> Result<Vec<Example>, ReportError> {
    // A regression's windows: their value and prediction.
    let opt_numeric = store.target().map(|t| t.column.clone());
    let bad = |msg: String| tensor_error(path, "optimal.indices", msg);
    let mut out = Vec::new();
    let mut start = 0usize;
    for (class, &n) in classes.iter().zip(counts) {
        if n > 0 {
            let i = *idx
                .data
                .get(start)
                .ok_or_else(|| bad(format!("{} indices, class {class} starts at {start}", idx.data.len())))?;
            let i = usize::try_from(i).ok().filter(|&i| i < store.len()).ok_or_else(|| {
                bad(format!("index {i} is outside the epoch store of {} windows", store.len()))
            })?;
            let mut data = vec![0.0f32; store.n_channels() * store.n_samples()];
            store.copy_window(i, &mut data);
            let sample = opt.samples.get(class).and_then(|s| s.first());
            let note = match (sample, &opt_numeric) {
                (Some(s), Some(column)) => format!(
                    "window {} of subject {} ({column} {}), predicted {}",
                    s.index,
                    s.subject,
                    s.value.map_or_else(|| "unknown".into(), |v| crate::svg::label(v, 3)),
                    crate::svg::label(s.score, 3)
                ),
                (Some(s), None) => format!(
                    "window {} of subject {} (true class {}), p({class}) = {:.3}",
                    s.index, s.subject, s.label, s.score
                ),
                (None, _) => format!("window {i}"),
            };
            out.push(Example { class: class.clone(), note, data });
        }
        start += n;
    }
    Ok(out)
}

/// Activation maximisation: `[classes, restarts, C, T]`, the first restart of each class.
fn actmax_examples(
    classes: &[String],
    n_ch: usize,
    am: &ActmaxReport,
    (shape, data): (&[usize], &[f32]),
    path: &Path,
) -> Result<Vec<Example>, ReportError> {
    if shape.len() != 4 || shape[0] != classes.len() || shape[2] != n_ch || shape[1] == 0 {
        return Err(tensor_error(
            path,
            "actmax.patterns",
            format!("shape {shape:?}, expected [{}, restarts, {n_ch}, T]", classes.len()),
        ));
    }
    let per = shape[2] * shape[3];
    Ok(classes
        .iter()
        .enumerate()
        .map(|(c, class)| {
            let off = c * shape[1] * per;
            Example {
                class: class.clone(),
                note: if am.parameterisation == "gains" {
                    format!("a window with the {class} gains (1 of {})", shape[1])
                } else {
                    format!("restart 1 of {}", shape[1])
                },
                data: data[off..off + per].to_vec(),
            }
        })
        .collect())
}

/// Deconvnet: `[items, C, T]`, items grouped by class; the first of each class.
fn deconv_examples(
    classes: &[String],
    numeric: Option<bool>,
    n_ch: usize,
    counts: &[usize],
    (shape, data): (&[usize], &[f32]),
    idx: Option<&IntTensor>,
    path: &Path,
) -> Result<Vec<Example>, ReportError> {
    if shape.len() != 3 || shape[1] != n_ch {
        return Err(tensor_error(
            path,
            "deconv.maps",
            format!("shape {shape:?}, expected [items, {n_ch}, T]"),
        ));
    }
    let per = shape[1] * shape[2];
    let mut out = Vec::new();
    let mut start = 0usize;
    for (class, &n) in classes.iter().zip(counts) {
        if n > 0 && start < shape[0] {
            let window =
                idx.and_then(|i| i.data.get(start)).map(|w| format!(" of window {w}")).unwrap_or_default();
            let from = match (numeric, class.as_str()) {
                (Some(true), "low") => "the output, negated (what lowers the prediction)".to_string(),
                (Some(_), _) => "the output (what raises the prediction)".to_string(),
                (None, _) => format!("the {class} output"),
            };
            out.push(Example {
                class: class.clone(),
                note: format!("projection{window} from {from}"),
                data: data[start * per..(start + 1) * per].to_vec(),
            });
        }
        start += n;
    }
    Ok(out)
}

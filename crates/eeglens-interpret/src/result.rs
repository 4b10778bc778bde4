//! What [`crate::run`](fn@crate::run) returns: the `interpret.json` document ([`Report`])
//! and the tensors saved next to it, and [`write_outputs`].
//!
//! `interpret.json` (stable; scripts rely on it):
//! ```json
//! {"classes": ["F", "M"], "channels": [..], "fs": 128.0, "split": "test", "alpha": 0.05,
//!  "permutations": 2000, "precision": "fp32",
//!  "model": {"name": "rvgg", "accuracy": .., "p": .., ..},
//!  "methods": {"optimal": M, "actmax": M, "deconv": M},
//!  "unit": {..}}
//! ```
//! where each `M` is a [`Reading`] (`freqs`, `psd`, `bands`, `channels`,
//! `top_band`, `n`) plus the method's own fields. `interpret.safetensors`
//! holds the tensors listed in [`InterpretResult::tensors`], named
//! `<method>.<what>` (e.g. `actmax.patterns` `[classes, restarts, C, T]`).
//!
//! Read over the folds of a cross-validation ([`crate::run_folds`]), the
//! document has the same shape, with `model.split` and `split`
//! `out-of-fold`, plus `folds` (K), `subjects_read` and `fold_subjects`.

use std::collections::BTreeMap;
use std::path::Path;

use eeglens_autodiff::Tensor;
use eeglens_nn::IntTensor;
use serde::{Deserialize, Serialize};

use crate::error::InterpretError;
use crate::optimal::Sample;
use crate::ordered::Ordered;
use crate::regression::{NumericReport, RegressionDiscrimination};
use crate::spectral::{Discrimination, Reading};

/// The format tag written to the safetensors metadata.
pub const FORMAT: &str = "eeglens-interpret/1";
/// Where `eeglens interpret` writes by default, inside the run directory.
pub const INTERPRET_DIR: &str = "interpret";
/// The JSON document [`write_outputs`] writes.
pub const INTERPRET_JSON: &str = "interpret.json";
/// The tensors [`write_outputs`] writes beside it.
pub const INTERPRET_TENSORS: &str = "interpret.safetensors";

/// The network and how well it separates the classes: the verdict behind
/// every reading, judged on the split that chose nothing (test).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelSummary {
    /// the model's name
    pub name: String,
    /// the split the verdict is on: the read split without the validation
    /// windows read besides it (`test` when test and validation are read)
    #[serde(default = "test_split")]
    pub split: String,
    /// discrimination on that split (accuracy, permutation p); for a
    /// regression, `p`, `learned`, `statistic` (r) and the counts of
    /// `regression` (`accuracy` and `subject_accuracy` 0: they do not apply)
    #[serde(flatten)]
    pub discrimination: Discrimination,
    /// a regression's own test: the subjects' mean predictions against their values
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regression: Option<RegressionDiscrimination>,
}

fn fp32() -> String {
    eeglens_nn::Precision::Fp32.name().into()
}

fn test_split() -> String {
    "test".into()
}

/// Optimal samples: the reading of the selected windows and the windows themselves.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptimalReport {
    /// spectral reading of the selected windows
    #[serde(flatten)]
    pub reading: Reading,
    /// per class, the selected windows, best first
    pub samples: Ordered<Vec<Sample>>,
}

/// Activation maximisation: the reading of the patterns and how the ascent went.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActmaxReport {
    /// spectral reading of the patterns (restarts are the items)
    #[serde(flatten)]
    pub reading: Reading,
    /// `logit` or `logit_difference`
    pub objective: String,
    /// per class, the objective at the first and the last step, mean over restarts
    pub objective_start: Ordered<f64>,
    /// see `objective_start`
    pub objective_end: Ordered<f64>,
    /// steps taken
    pub steps: usize,
    /// restarts per class
    pub restarts: usize,
    /// `gains` (real windows scaled per channel and band), `samples` or `spectral`
    #[serde(default)]
    pub parameterisation: String,
    /// under `gains`, the windows each restart's gains are applied to; the
    /// saved patterns are `[classes, restarts * windows_per_restart, C, T]`
    #[serde(default = "one")]
    pub windows_per_restart: usize,
}

fn one() -> usize {
    1
}

/// Reverse convolution: the reading of the projected maps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeconvReport {
    /// spectral reading of the maps (one per optimal sample of each class)
    #[serde(flatten)]
    pub reading: Reading,
    /// `deconvnet`, `guided` or `saliency`
    pub rule: String,
    /// where the projection starts (`output`: each class's logit difference)
    pub from: String,
}

/// The three methods' readings (absent when a method was not run).
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct Methods {
    /// optimal samples
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optimal: Option<OptimalReport>,
    /// activation maximisation
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actmax: Option<ActmaxReport>,
    /// reverse convolution
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deconv: Option<DeconvReport>,
}

/// Band power per band and channel of a set of items (mean over items).
pub type BandTable = Ordered<Ordered<f64>>;

/// The reading of one unit on its own.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UnitReport {
    /// the layer's name
    pub layer: String,
    /// the unit
    pub unit: usize,
    /// units in the layer
    pub n_units: usize,
    /// the windows that activate it most (mean activation), best first
    pub samples: Vec<Sample>,
    /// the contrast of its top windows (`top`) over its bottom windows
    /// (`bottom`): what the unit responds to
    pub optimal: Reading,
    /// band power per band and channel of its activation-maximisation patterns
    pub actmax: Option<BandTable>,
    /// band power per band and channel of its top windows' deconvnet maps
    pub deconv: Option<BandTable>,
}

/// `interpret.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// class names (the contrast is the second over the first)
    pub classes: Vec<String>,
    /// channel names
    pub channels: Vec<String>,
    /// sampling rate, Hz
    pub fs: f64,
    /// the split read
    pub split: String,
    /// significance level of `top_band`
    pub alpha: f64,
    /// permutations per test
    pub permutations: usize,
    /// the arithmetic the windows were scored in (`fp32` or `bf16`,
    /// [`crate::InterpretConfig::precision`] as it ran on this CPU);
    /// activation maximisation and the deconvnet are always fp32. Files
    /// written before the field existed were scored in fp32.
    #[serde(default = "fp32")]
    pub precision: String,
    /// the build of eeglens that read the network
    /// ([`eeglens_io::build::build_id`]): a new build may read the same
    /// network differently (CHANGELOG.md and VALIDATION.md say how). Absent
    /// in files written before the field existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build: Option<String>,
    /// the network
    pub model: ModelSummary,
    /// the readings
    pub methods: Methods,
    /// the unit read on its own, when one was asked for
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<UnitReport>,
    /// a reading over the folds of a cross-validation: the number of folds
    /// (each fold's model read its own test subjects)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folds: Option<usize>,
    /// over folds, the subjects read (every subject of the store, each once)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subjects_read: Option<usize>,
    /// over folds, per fold (in order) the subjects its model read, sorted
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fold_subjects: Option<Vec<Vec<String>>>,
    /// a regression on a numeric target: `"target": "numeric"`, its `column`,
    /// `target_unit`, `output_scale` and `items` (what `low` and `high` are); then
    /// `classes` is `["low", "high"]`
    #[serde(flatten)]
    pub numeric: Option<NumericReport>,
}

/// A tensor saved next to the report.
#[derive(Clone, Debug, PartialEq)]
pub enum Saved {
    /// float values
    F32(Tensor),
    /// indices
    I64(IntTensor),
}

/// Everything [`crate::run`](fn@crate::run) produced.
#[derive(Clone, Debug, PartialEq)]
pub struct InterpretResult {
    /// the JSON document
    pub report: Report,
    /// named tensors for `interpret.safetensors`, e.g. `actmax.patterns`
    pub tensors: Vec<(String, Saved)>,
}

impl InterpretResult {
    /// The float tensor `name`, if saved.
    pub fn tensor(&self, name: &str) -> Option<&Tensor> {
        self.tensors.iter().find_map(|(n, t)| match t {
            Saved::F32(t) if n == name => Some(t),
            _ => None,
        })
    }
}

/// Writes [`INTERPRET_JSON`] (pretty-printed) and [`INTERPRET_TENSORS`] into
/// `dir` (created when missing), together ([`eeglens_io::atomic::write_files`]):
/// both are written in full before either replaces an older one, so a failure
/// (a full disk) leaves the old pair, never a new document beside old or torn
/// tensors.
///
/// # Errors
/// [`InterpretError::Io`] naming the file; [`InterpretError::Nn`] when the
/// safetensors writer refuses a tensor.
pub fn write_outputs(result: &InterpretResult, dir: &Path) -> Result<(), InterpretError> {
    std::fs::create_dir_all(dir).map_err(|cause| InterpretError::Io { path: dir.to_path_buf(), cause })?;
    let json_path = dir.join(INTERPRET_JSON);
    let tensors_path = dir.join(INTERPRET_TENSORS);
    // `schema` (docs/json.md) beside the report's own fields: the same tag as the tensors' `format`.
    let mut doc = serde_json::to_value(&result.report).expect("the report serialises");
    if let Some(o) = doc.as_object_mut() {
        o.insert("schema".to_string(), FORMAT.into());
    }
    let json = serde_json::to_string_pretty(&doc).expect("the report serialises") + "\n";
    let mut f32s = Vec::new();
    let mut ints = Vec::new();
    for (name, t) in &result.tensors {
        match t {
            Saved::F32(t) => f32s.push((name.clone(), t)),
            Saved::I64(t) => ints.push((name.clone(), t.clone())),
        }
    }
    let r = &result.report;
    let mut meta = BTreeMap::new();
    meta.insert("format".to_string(), FORMAT.to_string());
    meta.insert("classes".to_string(), serde_json::to_string(&r.classes).expect("strings serialise"));
    meta.insert("channels".to_string(), serde_json::to_string(&r.channels).expect("strings serialise"));
    meta.insert("fs".to_string(), r.fs.to_string());
    meta.insert("split".to_string(), r.split.clone());
    let tensors = eeglens_nn::tensor_file::tensor_file_bytes(&tensors_path, &f32s, &ints, &meta)?;
    // The tensors first: of the two, the document is what readers open first.
    eeglens_io::atomic::write_files(&[(&tensors_path, &tensors), (&json_path, json.as_bytes())])
        .map_err(|cause| InterpretError::Io { path: dir.to_path_buf(), cause })
}

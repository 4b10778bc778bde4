//! Checkpoints: a model's weights under PyTorch state-dict names and layouts,
//! its description in `__metadata__`, and optionally an optimiser's state,
//! in one safetensors file.
//!
//! Metadata keys: `format` (`eeglens-checkpoint-1`), `model` (zoo name),
//! `input_shape` (JSON, per sample, e.g. `[1,24,256]`), `class_names` (JSON
//! list), and when an optimiser is saved `optim.config` (JSON) and
//! `optim.step`; callers may add their own keys (`extra`). Optimiser buffers
//! are stored as `optim.state.<param>.<slot>`, so a PyTorch user drops the keys
//! starting with `optim.` before `load_state_dict`.
//!
//! ## From eeglens to PyTorch
//! An R-VGG checkpoint loads into the equivalent `torch.nn` model (torchvision
//! VGG naming) as it is; its logits are those of `eeglens forward`:
//!
//! ```python
//! import torch
//! from torch import nn
//! from safetensors.torch import load_file
//!
//! class RVGG(nn.Module):
//!     def __init__(self, n_channels=24, n_samples=256, n_classes=2):
//!         super().__init__()
//!         layers, c = [], 1
//!         for v in [16, 16, "M", 32, 32, "M", 64, 64, 64, "M"]:
//!             if v == "M":
//!                 layers.append(nn.MaxPool2d(2))
//!             else:
//!                 layers += [nn.Conv2d(c, v, 3, padding=1), nn.ReLU()]
//!                 c = v
//!         self.features = nn.Sequential(*layers)
//!         flat = 64 * (n_channels // 8) * (n_samples // 8)
//!         self.classifier = nn.Sequential(
//!             nn.Linear(flat, 1024), nn.ReLU(), nn.Dropout(0.5),
//!             nn.Linear(1024, 1024), nn.ReLU(), nn.Dropout(0.5),
//!             nn.Linear(1024, n_classes))
//!
//!     def forward(self, x):  # x: [N, 1, channels, samples]
//!         return self.classifier(torch.flatten(self.features(x), 1))
//!
//! ckpt = load_file("run/checkpoint-best.safetensors")
//! model = RVGG().eval()
//! model.load_state_dict({k: v for k, v in ckpt.items() if not k.startswith("optim.")})
//! logits = model(load_file("x.safetensors")["input"])
//! ```
//!
//! `tools/golden/checkpoint_snippet.py RUN_DIR` runs this snippet as written
//! here and compares its logits with `eeglens forward` (on the demo's run,
//! torch 2.15: largest relative difference 1.7e-7).
//!
//! The other direction (PyTorch weights into eeglens) is what the golden
//! tests do: [`load_weights`] takes PyTorch names, or the short names
//! `conv1..conv7`, `fc1..fc3` of `fixtures/golden/pytorch`.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use eeglens_autodiff::{Rng, Tensor};

use crate::error::NnError;
use crate::layers::Layer;
use crate::models::{build, ModelSpec};
use crate::optim::{Optimizer, OptimizerConfig};
use crate::sequential::Sequential;
use crate::tensor_file::{read_tensor_file, write_tensor_file, IntTensor, TensorFile};

/// What a checkpoint says about its model.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CheckpointMeta {
    /// zoo name, e.g. `rvgg`
    pub model: String,
    /// per-sample input shape, e.g. `[1, 24, 256]`
    pub input_shape: Vec<usize>,
    /// class names, in logit order
    pub class_names: Vec<String>,
    /// further `__metadata__` entries
    pub extra: BTreeMap<String, String>,
}

/// The format tag written to a checkpoint's metadata (one scheme with the
/// other files: `eeglens-<kind>/<version>`).
pub const CHECKPOINT_FORMAT: &str = "eeglens-checkpoint/1";

/// Writes `model` (parameters, batch-norm statistics and counters), `meta`
/// and, when given, the optimiser state to `path`.
///
/// # Errors
/// [`NnError::Io`], [`NnError::Format`].
pub fn save_checkpoint(
    path: &Path,
    model: &Sequential,
    meta: &CheckpointMeta,
    optim: Option<&Optimizer>,
) -> Result<(), NnError> {
    let mut f32s: Vec<(String, &Tensor)> = model.named_params();
    f32s.extend(model.named_buffers());
    let ints: Vec<(String, IntTensor)> = model
        .named_counters()
        .into_iter()
        .map(|(n, v)| (n, IntTensor { shape: vec![], data: vec![v] }))
        .collect();
    let mut md = meta.extra.clone();
    md.insert("format".into(), CHECKPOINT_FORMAT.into());
    md.insert("model".into(), meta.model.clone());
    md.insert("input_shape".into(), json(&meta.input_shape));
    md.insert("class_names".into(), json(&meta.class_names));
    let state;
    if let Some(o) = optim {
        let names: Vec<String> = model.named_params().into_iter().map(|(n, _)| n).collect();
        state = o.state_tensors(&names);
        f32s.extend(state.iter().map(|(n, t)| (n.clone(), t)));
        md.insert("optim.config".into(), json(o.config()));
        md.insert("optim.step".into(), o.steps().to_string());
    }
    write_tensor_file(path, &f32s, &ints, &md)
}

fn json<T: serde::Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).expect("plain data serialises to JSON")
}

fn meta_value<T: serde::de::DeserializeOwned>(file: &TensorFile, key: &str) -> Result<T, NnError> {
    let err = |msg: String| NnError::Metadata { path: file.path.clone(), key: key.into(), msg };
    let raw = file.metadata.get(key).ok_or_else(|| err("missing".into()))?;
    serde_json::from_str(raw).map_err(|e| err(format!("{raw:?}: {e}")))
}

/// The model description in a checkpoint's metadata.
///
/// # Errors
/// [`NnError::Metadata`] naming the missing or malformed key.
pub fn read_meta(file: &TensorFile) -> Result<CheckpointMeta, NnError> {
    let model = file.metadata.get("model").cloned().ok_or_else(|| NnError::Metadata {
        path: file.path.clone(),
        key: "model".into(),
        msg: "missing".into(),
    })?;
    let input_shape: Vec<usize> = meta_value(file, "input_shape")?;
    let class_names: Vec<String> = meta_value(file, "class_names")?;
    let known = ["format", "model", "input_shape", "class_names", "optim.config", "optim.step"];
    let extra = file
        .metadata
        .iter()
        .filter(|(k, _)| !known.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok(CheckpointMeta { model, input_shape, class_names, extra })
}

/// The short names some files use for a layer: the k-th convolution is
/// `conv{k}`, the k-th linear layer `fc{k}` (from 1), as in the golden files.
fn short_names(model: &Sequential) -> HashMap<String, String> {
    let (mut conv, mut fc) = (0, 0);
    let mut out = HashMap::new();
    for (name, layer) in model.layers() {
        match layer {
            Layer::Conv2d(_) => {
                conv += 1;
                out.insert(name.clone(), format!("conv{conv}"));
            }
            Layer::Linear(_) => {
                fc += 1;
                out.insert(name.clone(), format!("fc{fc}"));
            }
            _ => {}
        }
    }
    out
}

/// The name under which `file` stores the model tensor `name`: the PyTorch
/// name, or else the short alias (`features.0.weight` -> `conv1.weight`).
fn resolve(file: &TensorFile, aliases: &HashMap<String, String>, name: &str) -> String {
    if file.contains(name) {
        return name.to_string();
    }
    if let Some((layer, leaf)) = name.rsplit_once('.') {
        if let Some(short) = aliases.get(layer) {
            let alt = format!("{short}.{leaf}");
            if file.contains(&alt) {
                return alt;
            }
        }
    }
    name.to_string()
}

/// Copies the weights in `file` into `model`, checking every name, shape and
/// dtype first (the model is untouched on error). Accepts PyTorch names and
/// the short names `conv1..`, `fc1..`. Batch-norm counters default to 0 when absent.
///
/// # Errors
/// [`NnError::MissingTensor`], [`NnError::TensorShape`], [`NnError::TensorDtype`].
pub fn load_weights(model: &mut Sequential, file: &TensorFile) -> Result<(), NnError> {
    let aliases = short_names(model);
    let mut found: Vec<(usize, &Tensor)> = Vec::new(); // (index in `wanted`, source)
    let wanted: Vec<(String, Vec<usize>)> = model
        .named_params()
        .into_iter()
        .chain(model.named_buffers())
        .map(|(n, t)| (n, t.shape().to_vec()))
        .collect();
    for (i, (name, shape)) in wanted.iter().enumerate() {
        let key = resolve(file, &aliases, name);
        let t = file.f32(&key)?;
        if t.shape() != shape.as_slice() {
            return Err(NnError::TensorShape {
                path: file.path.clone(),
                name: key,
                expected: shape.clone(),
                got: t.shape().to_vec(),
            });
        }
        found.push((i, t));
    }
    let mut counters = Vec::new();
    for (name, _) in model.named_counters() {
        let v = match file.ints.get(&name) {
            Some(t) if t.data.len() == 1 => t.data[0],
            Some(t) => {
                return Err(NnError::TensorShape {
                    path: file.path.clone(),
                    name,
                    expected: vec![],
                    got: t.shape.clone(),
                })
            }
            None if file.contains(&name) => return Err(file.int(&name).expect_err("present but not an int")),
            None => 0,
        };
        counters.push((name, v));
    }
    let n = model.named_params().len();
    for (dst, (_, src)) in model.params_mut().into_iter().zip(&found[..n]) {
        dst.data_mut().copy_from_slice(src.data());
    }
    for ((_, dst), (_, src)) in model.named_buffers_mut().into_iter().zip(&found[n..]) {
        dst.data_mut().copy_from_slice(src.data());
    }
    for (name, v) in counters {
        model.set_counter(&name, v);
    }
    Ok(())
}

/// The optimiser saved in a checkpoint, if any, bound to `model`'s parameters.
///
/// # Errors
/// [`NnError::Metadata`] for an unreadable `optim.config`/`optim.step`;
/// [`NnError::OptimizerState`] for buffers of the wrong shape.
pub fn load_optimizer(file: &TensorFile, model: &Sequential) -> Result<Option<Optimizer>, NnError> {
    if !file.metadata.contains_key("optim.config") {
        return Ok(None);
    }
    let cfg: OptimizerConfig = meta_value(file, "optim.config")?;
    let step: u64 = meta_value(file, "optim.step")?;
    let state: HashMap<String, Tensor> = file
        .f32s
        .iter()
        .filter(|(k, _)| k.starts_with("optim.state."))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Optimizer::from_state(cfg, step, &model.named_params(), &state).map(Some)
}

/// Reads a checkpoint and rebuilds its model from the zoo (sized from the
/// stored input shape and class count) with the stored weights.
///
/// # Errors
/// As [`read_tensor_file`], [`read_meta`], [`load_weights`]; [`NnError::UnknownModel`];
/// [`NnError::Metadata`] when `input_shape` is not `[1, channels, samples]`, or implies a
/// model with far more weights than the file holds (refused before the model is allocated).
pub fn load_checkpoint(path: &Path) -> Result<(Sequential, CheckpointMeta, TensorFile), NnError> {
    let file = read_tensor_file(path)?;
    let meta = read_meta(&file)?;
    let [1, n_channels, n_samples] = meta.input_shape[..] else {
        return Err(NnError::Metadata {
            path: path.to_path_buf(),
            key: "input_shape".into(),
            msg: format!("expected [1, channels, samples], got {:?}", meta.input_shape),
        });
    };
    let spec = ModelSpec { n_channels, n_samples, n_classes: meta.class_names.len().max(1) };
    let mut model = build_from_file(&meta.model, &spec, &file).map_err(|e| match e {
        NnError::Format { msg, .. } => {
            NnError::Metadata { path: path.to_path_buf(), key: "input_shape".into(), msg }
        }
        e => e,
    })?;
    load_weights(&mut model, &file)?;
    Ok((model, meta, file))
}

/// Builds the zoo model `name` for `spec`, allowing its layers no more weight
/// values than `file` could justify: the shape comes from the file's metadata
/// (or the input's), and a model much larger than the weights could not load
/// them anyway, so it is refused before anything is allocated. The bound has
/// room ([`BUDGET_FACTOR`] times the file's values, plus [`BUDGET_SLACK`]) so
/// that a file missing a tensor or two still builds and [`load_weights`] names
/// what is missing.
fn build_from_file(name: &str, spec: &ModelSpec, file: &TensorFile) -> Result<Sequential, NnError> {
    // A window that could not be held in memory is no input; a model whose weights do
    // not grow with the window (LogPowerNet) would otherwise build for it.
    if spec.n_channels.checked_mul(spec.n_samples).is_none_or(|n| n > isize::MAX as usize / 4) {
        return Err(NnError::Format {
            path: file.path.clone(),
            msg: format!(
                "a window of {} x {} samples cannot be held in memory",
                spec.n_channels, spec.n_samples
            ),
        });
    }
    let values = file.f32s.values().fold(0usize, |a, t| a.saturating_add(t.data().len()));
    let budget = values.saturating_mul(BUDGET_FACTOR).saturating_add(BUDGET_SLACK);
    crate::init::with_param_budget(budget, || build(name, spec, &mut Rng::new(0))).map_err(|e| match e {
        NnError::Config { .. } => NnError::Format {
            path: file.path.clone(),
            msg: format!(
                "a `{name}` model for input [1, {}, {}] and {} classes needs far more weights than the file \
                 holds ({values} values): {e}",
                spec.n_channels, spec.n_samples, spec.n_classes
            ),
        },
        e => e,
    })
}

/// See [`build_from_file`]: a model may have this many times the file's weight values...
const BUDGET_FACTOR: usize = 16;
/// ...plus this many (16 Mi values, 64 MiB).
const BUDGET_SLACK: usize = 1 << 24;

/// Builds the zoo model `name` for `[1, n_channels, n_samples]` inputs with the
/// weights in `file`, taking the class count from the file (its `class_names`
/// metadata, else the rows of the last layer's weight).
///
/// # Errors
/// [`NnError::UnknownModel`], [`NnError::LayerShape`], and as [`load_weights`];
/// [`NnError::Format`] when the input shape implies a model with far more
/// weights than the file holds (refused before the model is allocated);
/// [`NnError::InputMismatch`] when the file stores an `input_shape` other than
/// `[1, n_channels, n_samples]`; [`NnError::InputDoesNotFitWeights`] when it
/// stores none and a tensor whose shape follows from the input does not fit.
pub fn model_for_weights(
    name: &str,
    n_channels: usize,
    n_samples: usize,
    file: &TensorFile,
) -> Result<Sequential, NnError> {
    let got = vec![1, n_channels, n_samples];
    // The shape the weights were trained on, when stored with them, is the one the model takes.
    let stored =
        file.metadata.get("input_shape").and_then(|raw| serde_json::from_str::<Vec<usize>>(raw).ok());
    if let Some(expected) = stored.filter(|s| s.len() == 3 && *s != got) {
        return Err(NnError::InputMismatch { got, expected });
    }
    let spec = ModelSpec { n_channels, n_samples, n_classes: 2 };
    let mut model = build_from_file(name, &spec, file)?;
    let n_classes = match read_meta(file) {
        Ok(meta) if !meta.class_names.is_empty() => meta.class_names.len(),
        _ => {
            let last = model.named_params().last().map(|(n, _)| n.clone()).unwrap_or_default();
            let key = resolve(file, &short_names(&model), &last);
            file.f32s.get(&key).and_then(|t| t.shape().first().copied()).unwrap_or(2)
        }
    };
    let spec = ModelSpec { n_classes, ..spec };
    if n_classes != 2 {
        model = build_from_file(name, &spec, file)?;
    }
    match load_weights(&mut model, file) {
        Err(NnError::TensorShape { path, name: tensor, expected, got: holds }) => {
            if shape_follows_input(name, &spec, &model, file, &tensor) {
                Err(NnError::InputDoesNotFitWeights { got, tensor, needs: expected, holds })
            } else {
                Err(NnError::TensorShape { path, name: tensor, expected, got: holds })
            }
        }
        Err(e) => Err(e),
        Ok(()) => Ok(model),
    }
}

/// Whether the shape of the file's tensor `key` in `model` (built for `spec`)
/// changes with the input shape: then a mismatch is the input's, not the file's.
fn shape_follows_input(
    name: &str,
    spec: &ModelSpec,
    model: &Sequential,
    file: &TensorFile,
    key: &str,
) -> bool {
    let other = ModelSpec { n_channels: spec.n_channels * 2, n_samples: spec.n_samples * 2, ..*spec };
    let Ok(bigger) = build_from_file(name, &other, file) else { return false };
    let aliases = short_names(model);
    let shapes = |m: &Sequential| -> Vec<(String, Vec<usize>)> {
        m.named_params().into_iter().map(|(n, t)| (n, t.shape().to_vec())).collect()
    };
    shapes(model)
        .into_iter()
        .zip(shapes(&bigger))
        .any(|((n, a), (_, b))| a != b && resolve(file, &aliases, &n) == key)
}

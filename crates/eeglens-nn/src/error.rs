//! Errors of eeglens-nn: every variant names the layer, tensor, file or byte
//! offset it is about.

use std::path::PathBuf;

use thiserror::Error;

/// What went wrong when building a model, loading weights or configuring an optimiser.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum NnError {
    /// A layer cannot take the shape the previous layer produces.
    #[error("layer {index} `{layer}` ({kind}): cannot take input of shape {input:?}: {msg}")]
    LayerShape {
        /// position of the layer in its `Sequential`
        index: usize,
        /// the layer's name (its state-dict prefix)
        layer: String,
        /// the layer kind, e.g. `Conv2d`
        kind: &'static str,
        /// per-sample input shape (without the batch dimension)
        input: Vec<usize>,
        /// what does not fit
        msg: String,
    },
    /// A layer configuration is invalid on its own (zero sizes, bad groups, ...).
    #[error("invalid {kind} configuration: {msg}")]
    Config {
        /// the layer kind
        kind: &'static str,
        /// what is wrong
        msg: String,
    },
    /// Two layers of one `Sequential` share a name.
    #[error("two layers are named `{0}`")]
    DuplicateName(String),
    /// The batch given to `forward` does not match the shape the model was built for.
    #[error("model `{model}` expects input [N, {expected:?}], got {got:?}")]
    InputShape {
        /// the model's name
        model: String,
        /// per-sample shape the model was built for
        expected: Vec<usize>,
        /// the shape given
        got: Vec<usize>,
    },
    /// The input's per-sample shape differs from the one stored with the
    /// weights (the shape the model was trained on).
    #[error(
        "the input is {got:?} per sample ({} channels x {} samples), but the model expects {expected:?} \
         (the input shape stored with its weights); give windows of that shape",
        got.get(1).copied().unwrap_or(0), got.get(2).copied().unwrap_or(0)
    )]
    InputMismatch {
        /// per-sample shape of the input, `[1, channels, samples]`
        got: Vec<usize>,
        /// per-sample shape the weights were made for
        expected: Vec<usize>,
    },
    /// The input's shape does not fit weights that store no input shape: a
    /// tensor whose shape follows from the input has another shape in the file.
    #[error(
        "the input is {got:?} per sample ({} channels x {} samples), which does not fit the model these weights \
         were made for: with this input `{tensor}` would be {needs:?}, but it is {holds:?}, so the weights \
         expect another input shape",
        got.get(1).copied().unwrap_or(0), got.get(2).copied().unwrap_or(0)
    )]
    InputDoesNotFitWeights {
        /// per-sample shape of the input, `[1, channels, samples]`
        got: Vec<usize>,
        /// the tensor whose shape depends on the input
        tensor: String,
        /// its shape for this input
        needs: Vec<usize>,
        /// its shape in the weights
        holds: Vec<usize>,
    },
    /// Unknown model name.
    #[error("unknown model `{0}` (known: {known})", known = crate::models::MODEL_NAMES.join(", "))]
    UnknownModel(String),
    /// Reading or writing a file failed.
    #[error("{path}: {cause}")]
    Io {
        /// the file
        path: PathBuf,
        /// the I/O error (shown in the message, so not chained as a source: printing the chain
        /// would repeat it)
        cause: std::io::Error,
    },
    /// The file ends before the header or the data it declares.
    #[error("{path}: truncated: {what} needs {needed} bytes, the file has {len}")]
    Truncated {
        /// the file
        path: PathBuf,
        /// what was being read (the header or a tensor's data)
        what: String,
        /// bytes needed (the offset the file must reach)
        needed: u64,
        /// bytes present
        len: u64,
    },
    /// The safetensors header or layout is malformed.
    #[error("{path}: not a valid safetensors file: {msg}")]
    Format {
        /// the file
        path: PathBuf,
        /// what is wrong
        msg: String,
    },
    /// A tensor the model needs is absent.
    #[error("{path}: tensor `{name}` is missing")]
    MissingTensor {
        /// the file
        path: PathBuf,
        /// the state-dict name
        name: String,
    },
    /// A tensor has the wrong shape.
    #[error("{path}: tensor `{name}` has shape {got:?}, expected {expected:?}")]
    TensorShape {
        /// the file
        path: PathBuf,
        /// the state-dict name
        name: String,
        /// shape the model needs
        expected: Vec<usize>,
        /// shape in the file
        got: Vec<usize>,
    },
    /// A tensor has the wrong element type.
    #[error("{path}: tensor `{name}` has dtype {got}, expected {expected}")]
    TensorDtype {
        /// the file
        path: PathBuf,
        /// the state-dict name
        name: String,
        /// dtype required
        expected: &'static str,
        /// dtype in the file
        got: String,
    },
    /// A metadata entry is missing or unreadable.
    #[error("{path}: metadata `{key}`: {msg}")]
    Metadata {
        /// the file
        path: PathBuf,
        /// the `__metadata__` key
        key: String,
        /// what is wrong
        msg: String,
    },
    /// Labels do not fit the batch or the model's classes.
    #[error("labels: {0}")]
    Labels(String),
    /// Optimiser state does not fit the model's parameters.
    #[error("optimiser state: {0}")]
    OptimizerState(String),
}

//! Errors of eeglens-interpret: every variant names the layer, unit, split,
//! band or file it is about, and what would have been valid.

use std::path::PathBuf;

use thiserror::Error;

/// What went wrong when interpreting a model.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum InterpretError {
    /// The requested layer is not in the model.
    #[error("model `{model}` has no layer `{layer}` (layers: {valid})")]
    UnknownLayer {
        /// the model's name
        model: String,
        /// the name asked for
        layer: String,
        /// the valid names, comma-separated
        valid: String,
    },
    /// The requested unit (channel or feature) is not in the layer.
    #[error("layer `{layer}` has {n_units} units (0..{n_units}), not unit {unit}")]
    UnknownUnit {
        /// the layer's name
        layer: String,
        /// the unit asked for
        unit: usize,
        /// how many units the layer has
        n_units: usize,
    },
    /// The model and the epoch store disagree on the window shape or classes.
    #[error("model `{model}` takes {expected:?} windows with {n_outputs} outputs, the store holds {got:?} windows of {n_classes} classes")]
    ModelData {
        /// the model's name
        model: String,
        /// per-sample input shape of the model
        expected: Vec<usize>,
        /// `[1, n_channels, n_samples]` of the store
        got: Vec<usize>,
        /// model outputs per window
        n_outputs: usize,
        /// classes in the store
        n_classes: usize,
    },
    /// Too few windows to interpret (per split, or per class).
    #[error("split `{split}` has {got} windows of class `{class}`, at least {needed} are needed")]
    TooFewWindows {
        /// the split's name
        split: String,
        /// the class's name (or `any`)
        class: String,
        /// windows available
        got: usize,
        /// windows needed
        needed: usize,
    },
    /// A configuration value is out of range.
    #[error("invalid setting `{field}` = {value}: {expected}")]
    Config {
        /// the field's name
        field: &'static str,
        /// the value given
        value: String,
        /// what is expected
        expected: String,
    },
    /// A band cannot be measured on these windows.
    #[error("band `{band}` ({lo}-{hi} Hz) is outside the spectrum of these windows (0-{nyquist} Hz)")]
    Band {
        /// the band's name
        band: String,
        /// lower edge, Hz
        lo: f64,
        /// upper edge, Hz
        hi: f64,
        /// highest frequency of the spectrum, Hz
        nyquist: f64,
    },
    /// The spectral estimate failed.
    #[error("spectral estimate of {what}: {cause}")]
    Dsp {
        /// what was being estimated
        what: String,
        /// the underlying error (shown in the message, so not chained as a source)
        cause: eeglens_dsp::DspError,
    },
    /// The model refused its input.
    #[error(transparent)]
    Nn(#[from] eeglens_nn::NnError),
    /// Writing an output failed.
    #[error("{path}: {cause}")]
    Io {
        /// the file
        path: PathBuf,
        /// the I/O error (shown in the message, so not chained as a source: printing the chain
        /// would repeat it)
        cause: std::io::Error,
    },
}

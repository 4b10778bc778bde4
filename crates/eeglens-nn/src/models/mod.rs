//! The model zoo: each model is a [`Sequential`] sized from the data's channel
//! and sample counts, chosen by name with [`build`].

mod eegnet;
mod logpower;
mod rvgg;
mod shallow;
mod vanputten;

use eeglens_autodiff::Rng;

pub use eegnet::eegnet;
pub use logpower::{logpower, LOGPOWER_FILTERS, LOGPOWER_TAPS};
pub use rvgg::{rvgg, rvgg_bn, RVGG_SHORT_NAMES};
pub use shallow::shallow;
pub use vanputten::vanputten;

use crate::error::NnError;
use crate::sequential::Sequential;

/// Names accepted by [`build`] (and `--model`).
pub const MODEL_NAMES: [&str; 6] = ["rvgg", "rvgg-bn", "vanputten", "shallow", "eegnet", "logpower"];

/// What a model is sized from: input `[1, n_channels, n_samples]`, `n_classes` logits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModelSpec {
    /// EEG channels (the input's height)
    pub n_channels: usize,
    /// samples per window (the input's width)
    pub n_samples: usize,
    /// output classes
    pub n_classes: usize,
}

impl ModelSpec {
    /// The seed paper's setting: 24 channels, 256 samples (2 s at 128 Hz), 2 classes.
    pub fn paper() -> Self {
        Self { n_channels: 24, n_samples: 256, n_classes: 2 }
    }
}

/// Builds the model called `name`, with parameters drawn from `rng`.
///
/// # Errors
/// [`NnError::UnknownModel`]; [`NnError::LayerShape`] when the input is too
/// small for the model (e.g. fewer than 8 channels for R-VGG's three pools).
pub fn build(name: &str, spec: &ModelSpec, rng: &mut Rng) -> Result<Sequential, NnError> {
    match name {
        "rvgg" => rvgg(spec, rng),
        "rvgg-bn" => rvgg_bn(spec, rng),
        "vanputten" => vanputten(spec, rng),
        "shallow" => shallow(spec, rng),
        "eegnet" => eegnet(spec, rng),
        "logpower" => logpower(spec, rng),
        other => Err(NnError::UnknownModel(other.to_string())),
    }
}

/// The product of `factors`, a layer size that follows the input shape of
/// `spec`, or an error naming `model` and the input when it overflows.
pub(crate) fn layer_size(model: &'static str, spec: &ModelSpec, factors: &[usize]) -> Result<usize, NnError> {
    factors.iter().try_fold(1usize, |a, &f| a.checked_mul(f)).ok_or_else(|| NnError::Config {
        kind: model,
        msg: format!(
            "input [1, {}, {}] is too large: a layer's size overflows",
            spec.n_channels, spec.n_samples
        ),
    })
}

/// Accumulates `(name, layer)` pairs.
pub(crate) struct Stack(pub(crate) Vec<(String, crate::layers::Layer)>);

impl Stack {
    pub(crate) fn push(&mut self, name: impl Into<String>, layer: crate::layers::Layer) {
        self.0.push((name.into(), layer));
    }
}

//! The deep CNN of van Putten, Olbrich & Arns (2018), as re-implemented by the
//! R-VGG authors for comparison.
//!
//! What this file builds (3x3 kernels, zero padding 1, ReLU after every conv):
//!
//! | names | layer |
//! | --- | --- |
//! | `features.0`, `.2` | conv 1 -> 100, conv 100 -> 100 |
//! | `features.4`, `.5` | max-pool 2x2, dropout 0.25 |
//! | `features.6`, `.8` | conv 100 -> 300, conv 300 -> 300 |
//! | `features.10`, `.11` | max-pool 2x2, dropout 0.25 |
//! | `features.12`, `.14` | conv 300 -> 100, conv 100 -> 100 |
//! | `features.16`, `.17` | max-pool 2x2, dropout 0.25 |
//! | `classifier.0` | linear `100 x (C/8) x (T/8)` -> classes |
//!
//! For 24 x 256 inputs: 1,551,102 parameters.

use eeglens_autodiff::Rng;

use super::{ModelSpec, Stack};
use crate::error::NnError;
use crate::layers::{
    Conv2d, Conv2dConfig, Dropout, DropoutConfig, Flatten, Layer, Linear, LinearConfig, MaxPool2d,
    MaxPool2dConfig, Relu,
};
use crate::sequential::Sequential;

/// Builds the van Putten CNN for `spec`.
///
/// # Errors
/// [`NnError::LayerShape`] when the input is smaller than 8 x 8.
pub fn vanputten(spec: &ModelSpec, rng: &mut Rng) -> Result<Sequential, NnError> {
    let mut s = Stack(Vec::new());
    let mut i = 0;
    let mut c_in = 1;
    for block in [[100, 100], [300, 300], [100, 100]] {
        for c_out in block {
            let cfg = Conv2dConfig::new(c_in, c_out, (3, 3)).padding(1, 1);
            s.push(format!("features.{i}"), Layer::Conv2d(Conv2d::new(&cfg, rng)?));
            s.push(format!("features.{}", i + 1), Layer::Relu(Relu));
            i += 2;
            c_in = c_out;
        }
        s.push(format!("features.{i}"), Layer::MaxPool2d(MaxPool2d::new(&MaxPool2dConfig::new((2, 2)))?));
        s.push(format!("features.{}", i + 1), Layer::Dropout(Dropout::new(&DropoutConfig { p: 0.25 })?));
        i += 2;
    }
    let flat = super::layer_size("vanputten", spec, &[100, spec.n_channels / 8, spec.n_samples / 8])?;
    s.push("flatten", Layer::Flatten(Flatten));
    s.push("classifier.0", Layer::Linear(Linear::new(&LinearConfig::new(flat.max(1), spec.n_classes), rng)?));
    Sequential::new("vanputten", &[1, spec.n_channels, spec.n_samples], s.0)
}

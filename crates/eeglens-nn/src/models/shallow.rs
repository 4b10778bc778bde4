//! ShallowConvNet (Schirrmeister et al. 2017), braindecode's `ShallowFBCSPNet`
//! layout on `[1, C, T]` inputs.
//!
//! | name | layer |
//! | --- | --- |
//! | `conv_time` | conv 1 -> 40, kernel (1, 25), bias |
//! | `conv_spat` | conv 40 -> 40, kernel (C, 1), no bias |
//! | `bnorm` | batch norm 40 (eps 1e-5, momentum 0.1) |
//! | `conv_nonlin` | square |
//! | `pool` | average pool (1, 75), stride (1, 15) |
//! | `pool_nonlin` | safe log (clamp 1e-6) |
//! | `drop` | dropout 0.5 |
//! | `classifier` | linear `40 x W` -> classes |
//!
//! braindecode ends with a convolution spanning the whole remaining time axis;
//! a linear layer on the flattened features is the same map with the same
//! parameter count (its weight is that conv's `[classes, 40, W, 1]` weight
//! laid out as `[classes, 40 * W]`). For 24 x 256: W = 11, 40,402 parameters.

use eeglens_autodiff::Rng;

use super::{ModelSpec, Stack};
use crate::error::NnError;
use crate::layers::{
    AvgPool2d, AvgPool2dConfig, BatchNorm, BatchNormConfig, Conv2d, Conv2dConfig, Dropout, DropoutConfig,
    Flatten, Layer, Linear, LinearConfig, Log, LogConfig, Square,
};
use crate::sequential::Sequential;

/// Builds ShallowConvNet for `spec`.
///
/// # Errors
/// [`NnError::LayerShape`] when the window is shorter than 99 samples.
pub fn shallow(spec: &ModelSpec, rng: &mut Rng) -> Result<Sequential, NnError> {
    let mut s = Stack(Vec::new());
    let f = 40;
    s.push("conv_time", Layer::Conv2d(Conv2d::new(&Conv2dConfig::new(1, f, (1, 25)), rng)?));
    let spat = Conv2dConfig::new(f, f, (spec.n_channels, 1)).bias(false);
    s.push("conv_spat", Layer::Conv2d(Conv2d::new(&spat, rng)?));
    s.push("bnorm", Layer::BatchNorm2d(BatchNorm::new(&BatchNormConfig::new(f))?));
    s.push("conv_nonlin", Layer::Square(Square));
    let pool = AvgPool2dConfig { kernel: (1, 75), stride: (1, 15) };
    s.push("pool", Layer::AvgPool2d(AvgPool2d::new(&pool)?));
    s.push("pool_nonlin", Layer::Log(Log::new(&LogConfig::default())));
    s.push("drop", Layer::Dropout(Dropout::new(&DropoutConfig { p: 0.5 })?));
    s.push("flatten", Layer::Flatten(Flatten));
    let w = (spec.n_samples.saturating_sub(24 + 75)) / 15 + 1;
    let flat = super::layer_size("shallow", spec, &[f, w])?;
    s.push("classifier", Layer::Linear(Linear::new(&LinearConfig::new(flat, spec.n_classes), rng)?));
    Sequential::new("shallow", &[1, spec.n_channels, spec.n_samples], s.0)
}

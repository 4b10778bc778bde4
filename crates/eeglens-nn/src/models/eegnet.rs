//! EEGNet-v4 (Lawhern et al. 2018), braindecode's `EEGNetv4` layout with
//! F1 = 8, D = 2, F2 = 16, kernel length 64, dropout 0.25, on `[1, C, T]` inputs.
//!
//! | name | layer |
//! | --- | --- |
//! | `conv_temporal` | conv 1 -> 8, kernel (1, 64), pad (0, 32), no bias |
//! | `bnorm_temporal` | batch norm 8 (eps 1e-3, momentum 0.01) |
//! | `conv_spatial` | depthwise conv 8 -> 16, kernel (C, 1), groups 8, no bias |
//! | `bnorm_1`, `elu_1` | batch norm 16, ELU |
//! | `pool_1`, `drop_1` | average pool (1, 4), dropout 0.25 |
//! | `conv_separable_depth` | conv 16 -> 16, kernel (1, 16), pad (0, 8), groups 16, no bias |
//! | `conv_separable_point` | conv 16 -> 16, kernel (1, 1), no bias |
//! | `bnorm_2`, `elu_2` | batch norm 16, ELU |
//! | `pool_2`, `drop_2` | average pool (1, 8), dropout 0.25 |
//! | `classifier` | linear `16 x W` -> classes |
//!
//! braindecode ends with a convolution spanning the remaining time axis; the
//! linear layer is the same map with the same parameter count. braindecode's
//! max-norm weight constraints are a training-time rule, not part of the
//! model. For 24 x 256: W = 8, 1,746 parameters.

use eeglens_autodiff::Rng;

use super::{ModelSpec, Stack};
use crate::error::NnError;
use crate::layers::{
    AvgPool2d, AvgPool2dConfig, BatchNorm, BatchNormConfig, Conv2d, Conv2dConfig, Dropout, DropoutConfig,
    Elu, EluConfig, Flatten, Layer, Linear, LinearConfig,
};
use crate::sequential::Sequential;

/// Builds EEGNet-v4 for `spec`.
///
/// # Errors
/// [`NnError::LayerShape`] when the window is too short for the two pools.
pub fn eegnet(spec: &ModelSpec, rng: &mut Rng) -> Result<Sequential, NnError> {
    let (f1, d, f2) = (8, 2, 16);
    let bn = |c| BatchNormConfig { c, eps: 1e-3, momentum: 0.01 };
    let drop = DropoutConfig { p: 0.25 };
    let mut s = Stack(Vec::new());
    let temporal = Conv2dConfig::new(1, f1, (1, 64)).padding(0, 32).bias(false);
    s.push("conv_temporal", Layer::Conv2d(Conv2d::new(&temporal, rng)?));
    s.push("bnorm_temporal", Layer::BatchNorm2d(BatchNorm::new(&bn(f1))?));
    let spatial = Conv2dConfig::new(f1, f1 * d, (spec.n_channels, 1)).groups(f1).bias(false);
    s.push("conv_spatial", Layer::Conv2d(Conv2d::new(&spatial, rng)?));
    s.push("bnorm_1", Layer::BatchNorm2d(BatchNorm::new(&bn(f1 * d))?));
    s.push("elu_1", Layer::Elu(Elu::new(&EluConfig::default())));
    s.push("pool_1", Layer::AvgPool2d(AvgPool2d::new(&AvgPool2dConfig::new((1, 4)))?));
    s.push("drop_1", Layer::Dropout(Dropout::new(&drop)?));
    let depth = Conv2dConfig::new(f1 * d, f1 * d, (1, 16)).padding(0, 8).groups(f1 * d).bias(false);
    s.push("conv_separable_depth", Layer::Conv2d(Conv2d::new(&depth, rng)?));
    let point = Conv2dConfig::new(f1 * d, f2, (1, 1)).bias(false);
    s.push("conv_separable_point", Layer::Conv2d(Conv2d::new(&point, rng)?));
    s.push("bnorm_2", Layer::BatchNorm2d(BatchNorm::new(&bn(f2))?));
    s.push("elu_2", Layer::Elu(Elu::new(&EluConfig::default())));
    s.push("pool_2", Layer::AvgPool2d(AvgPool2d::new(&AvgPool2dConfig::new((1, 8)))?));
    s.push("drop_2", Layer::Dropout(Dropout::new(&drop)?));
    s.push("flatten", Layer::Flatten(Flatten));
    let w1 = spec.n_samples.saturating_add(1) / 4; // conv_temporal gives T + 1 samples
    let w = (w1 + 1) / 8; // conv_separable_depth gives w1 + 1
    s.push(
        "classifier",
        Layer::Linear(Linear::new(
            &LinearConfig::new(super::layer_size("eegnet", spec, &[f2, w])?.max(1), spec.n_classes),
            rng,
        )?),
    );
    Sequential::new("eegnet", &[1, spec.n_channels, spec.n_samples], s.0)
}

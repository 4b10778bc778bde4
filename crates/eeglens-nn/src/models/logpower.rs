//! LogPowerNet: a bank of temporal filters shared by every electrode, each
//! filtered signal's log power over the whole window, and a linear classifier
//! on those `filters x channels` log powers. It is the band-power baseline's
//! model (log band power per channel and band, logistic regression) with the
//! filters learned from the raw signal instead of fixed.
//!
//! | name | layer |
//! | --- | --- |
//! | `conv_time` | conv 1 -> 8, kernel (1, 33), no bias |
//! | `conv_nonlin` | square |
//! | `pool` | average pool over the whole filtered window, (1, T - 32) |
//! | `pool_nonlin` | safe log (clamp 1e-6) |
//! | `flatten` | `[8, C, 1]` -> `8 C` |
//! | `bnorm` | batch norm over the `8 C` log powers (eps 1e-5, momentum 0.1) |
//! | `drop` | dropout 0.5 |
//! | `classifier` | linear `8 C` -> classes |
//!
//! Why it is in the zoo: on the validation grid's cells where the baseline
//! gets 9 of 10 test subjects right but ShallowConvNet and R-VGG-BN stay
//! near chance (beta above all, VALIDATION.md), those networks fit the
//! few training subjects' traits through their spatial filters; this one has
//! no spatial mixing and about a thousand parameters (1,034 for 24 x 256), so what it
//! can fit is a per-electrode spectral difference. 33 taps at 128 Hz
//! resolve about 4 Hz, the width of the narrowest conventional band.

use eeglens_autodiff::Rng;

use super::{ModelSpec, Stack};
use crate::error::NnError;
use crate::layers::{
    AvgPool2d, AvgPool2dConfig, BatchNorm, BatchNormConfig, Conv2d, Conv2dConfig, Dropout, DropoutConfig,
    Flatten, Layer, Linear, LinearConfig, Log, LogConfig, Square,
};
use crate::sequential::Sequential;

/// Temporal filters of [`logpower`].
pub const LOGPOWER_FILTERS: usize = 8;
/// Taps of each temporal filter of [`logpower`].
pub const LOGPOWER_TAPS: usize = 33;

/// Builds LogPowerNet for `spec`.
///
/// # Errors
/// [`NnError::LayerShape`] when the window is shorter than the filters (33 samples).
pub fn logpower(spec: &ModelSpec, rng: &mut Rng) -> Result<Sequential, NnError> {
    let mut s = Stack(Vec::new());
    let f = LOGPOWER_FILTERS;
    let conv = Conv2dConfig::new(1, f, (1, LOGPOWER_TAPS)).bias(false);
    s.push("conv_time", Layer::Conv2d(Conv2d::new(&conv, rng)?));
    s.push("conv_nonlin", Layer::Square(Square));
    // The whole filtered window; a window shorter than the filters is refused by
    // the convolution's shape check, so the pool's width is then irrelevant.
    let width = spec.n_samples.saturating_sub(LOGPOWER_TAPS - 1).max(1);
    let pool = AvgPool2dConfig { kernel: (1, width), stride: (1, 1) };
    s.push("pool", Layer::AvgPool2d(AvgPool2d::new(&pool)?));
    s.push("pool_nonlin", Layer::Log(Log::new(&LogConfig::default())));
    s.push("flatten", Layer::Flatten(Flatten));
    let flat = super::layer_size("logpower", spec, &[f, spec.n_channels])?;
    s.push("bnorm", Layer::BatchNorm1d(BatchNorm::new(&BatchNormConfig::new(flat))?));
    s.push("drop", Layer::Dropout(Dropout::new(&DropoutConfig { p: 0.5 })?));
    s.push("classifier", Layer::Linear(Linear::new(&LinearConfig::new(flat, spec.n_classes), rng)?));
    Sequential::new("logpower", &[1, spec.n_channels, spec.n_samples], s.0)
}

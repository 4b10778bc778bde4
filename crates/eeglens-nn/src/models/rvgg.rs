//! R-VGG (Truong, Makeig & Delorme 2021): a small VGG on raw EEG windows.
//!
//! Input `[1, 24, 256]`: conv3x3 (pad 1) 16, 16, max-pool 2; 32, 32, pool;
//! 64, 64, 64, pool (each conv followed by ReLU); flatten `64 x 3 x 32 = 6144`
//! (C, H, W order); linear 1024, ReLU, dropout 0.5; linear 1024, ReLU, dropout
//! 0.5; linear 2. 7,452,850 parameters. Names follow torchvision's VGG:
//! `features.{0,2,5,7,10,12,14}` are the convolutions (pools at 4, 9, 16),
//! `classifier.{0,3,6}` the linear layers.

use eeglens_autodiff::Rng;

use super::{ModelSpec, Stack};
use crate::error::NnError;
use crate::layers::{
    BatchNorm, BatchNormConfig, Conv2d, Conv2dConfig, Dropout, DropoutConfig, Flatten, Layer, Linear,
    LinearConfig, MaxPool2d, MaxPool2dConfig, Relu,
};
use crate::sequential::Sequential;

/// The short names of the golden files (`conv1..conv7`, `fc1..fc3`) and the
/// torchvision names they stand for.
pub const RVGG_SHORT_NAMES: [(&str, &str); 10] = [
    ("conv1", "features.0"),
    ("conv2", "features.2"),
    ("conv3", "features.5"),
    ("conv4", "features.7"),
    ("conv5", "features.10"),
    ("conv6", "features.12"),
    ("conv7", "features.14"),
    ("fc1", "classifier.0"),
    ("fc2", "classifier.3"),
    ("fc3", "classifier.6"),
];

/// Builds R-VGG for `spec` (the flattened size follows the input: `64 x (C/8) x (T/8)`).
///
/// # Errors
/// [`NnError::LayerShape`] when the input is smaller than 8 x 8.
pub fn rvgg(spec: &ModelSpec, rng: &mut Rng) -> Result<Sequential, NnError> {
    let mut s = Stack(Vec::new());
    let mut i = 0;
    let mut c_in = 1;
    for block in [&[16, 16][..], &[32, 32], &[64, 64, 64]] {
        for &c_out in block {
            let cfg = Conv2dConfig::new(c_in, c_out, (3, 3)).padding(1, 1);
            s.push(format!("features.{i}"), Layer::Conv2d(Conv2d::new(&cfg, rng)?));
            s.push(format!("features.{}", i + 1), Layer::Relu(Relu));
            i += 2;
            c_in = c_out;
        }
        s.push(format!("features.{i}"), Layer::MaxPool2d(MaxPool2d::new(&MaxPool2dConfig::new((2, 2)))?));
        i += 1;
    }
    classifier(&mut s, spec, rng)?;
    Sequential::new("rvgg", &[1, spec.n_channels, spec.n_samples], s.0)
}

/// R-VGG with batch normalisation: every convolution is followed by a
/// `BatchNorm2d` before its ReLU (torchvision's `vgg*_bn` layout and names:
/// `features.{0,3,7,10,14,17,20}` are the convolutions, `features.{1,4,..}`
/// their normalisations, pools at 6, 13, 23); the classifier is R-VGG's.
///
/// Why it exists: at R-VGG's initialisation the across-window spread of the
/// activations collapses layer by layer (from 0.31 after the first
/// convolution to 1e-4 after the second linear layer) and the output ignores
/// the input, so an effect that carries a few per cent of the input variance
/// never reaches the loss and training stays at chance. Normalising each
/// convolution's output per channel keeps that spread. The paper's network
/// stays exactly as published under [`rvgg`].
///
/// # Errors
/// [`NnError::LayerShape`] when the input is smaller than 8 x 8.
pub fn rvgg_bn(spec: &ModelSpec, rng: &mut Rng) -> Result<Sequential, NnError> {
    let mut s = Stack(Vec::new());
    let mut i = 0;
    let mut c_in = 1;
    for block in [&[16, 16][..], &[32, 32], &[64, 64, 64]] {
        for &c_out in block {
            let cfg = Conv2dConfig::new(c_in, c_out, (3, 3)).padding(1, 1);
            s.push(format!("features.{i}"), Layer::Conv2d(Conv2d::new(&cfg, rng)?));
            s.push(
                format!("features.{}", i + 1),
                Layer::BatchNorm2d(BatchNorm::new(&BatchNormConfig::new(c_out))?),
            );
            s.push(format!("features.{}", i + 2), Layer::Relu(Relu));
            i += 3;
            c_in = c_out;
        }
        s.push(format!("features.{i}"), Layer::MaxPool2d(MaxPool2d::new(&MaxPool2dConfig::new((2, 2)))?));
        i += 1;
    }
    classifier(&mut s, spec, rng)?;
    Sequential::new("rvgg-bn", &[1, spec.n_channels, spec.n_samples], s.0)
}

/// R-VGG's classifier after the last pool: flatten `64 x (C/8) x (T/8)`;
/// linear 1024, ReLU, dropout 0.5; linear 1024, ReLU, dropout 0.5; linear to the classes.
fn classifier(s: &mut Stack, spec: &ModelSpec, rng: &mut Rng) -> Result<(), NnError> {
    let flat = super::layer_size("R-VGG", spec, &[64, spec.n_channels / 8, spec.n_samples / 8])?;
    s.push("flatten", Layer::Flatten(Flatten));
    let drop = DropoutConfig { p: 0.5 };
    s.push("classifier.0", Layer::Linear(Linear::new(&LinearConfig::new(flat.max(1), 1024), rng)?));
    s.push("classifier.1", Layer::Relu(Relu));
    s.push("classifier.2", Layer::Dropout(Dropout::new(&drop)?));
    s.push("classifier.3", Layer::Linear(Linear::new(&LinearConfig::new(1024, 1024), rng)?));
    s.push("classifier.4", Layer::Relu(Relu));
    s.push("classifier.5", Layer::Dropout(Dropout::new(&drop)?));
    s.push("classifier.6", Layer::Linear(Linear::new(&LinearConfig::new(1024, spec.n_classes), rng)?));
    Ok(())
}

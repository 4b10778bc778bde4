//! Layers, one per file, and the [`Layer`] enum that a [`crate::Sequential`] holds.
//!
//! Every layer is a config struct plus a layer struct built with
//! `new(&cfg, ...)` (those with parameters also take the seeded `&mut Rng`).
//! The enum is how code walks a model: `match` on it to get a convolution's
//! weights and geometry or a pool's window (the deconvnet does).

mod avg_pool2d;
mod batch_norm;
mod conv2d;
mod dropout;
mod elu;
mod flatten;
mod linear;
mod log;
mod max_pool2d;
mod relu;
mod square;

use std::sync::Arc;

use eeglens_autodiff::ops::BatchStats;
use eeglens_autodiff::{Rng, Tape, Tensor, Var};

pub use avg_pool2d::{AvgPool2d, AvgPool2dConfig};
pub use batch_norm::{BatchNorm, BatchNormConfig};
pub use conv2d::{Conv2d, Conv2dConfig};
pub use dropout::{Dropout, DropoutConfig};
pub use elu::{Elu, EluConfig};
pub use flatten::Flatten;
pub use linear::{Linear, LinearConfig};
pub use log::{Log, LogConfig};
pub use max_pool2d::{MaxPool2d, MaxPool2dConfig};
pub use relu::Relu;
pub use square::Square;

/// Training or evaluation: dropout is active and batch norm uses (and
/// returns) batch statistics only in [`Mode::Train`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// training
    Train,
    /// inference
    Eval,
}

/// One layer of a [`crate::Sequential`].
#[derive(Clone, Debug, PartialEq)]
pub enum Layer {
    /// 2-D convolution
    Conv2d(Conv2d),
    /// fully connected
    Linear(Linear),
    /// max-pooling (records switches)
    MaxPool2d(MaxPool2d),
    /// average pooling
    AvgPool2d(AvgPool2d),
    /// dropout
    Dropout(Dropout),
    /// batch norm over `[n, c, h, w]`
    BatchNorm2d(BatchNorm),
    /// batch norm over `[n, c]`
    BatchNorm1d(BatchNorm),
    /// rectifier
    Relu(Relu),
    /// exponential linear unit
    Elu(Elu),
    /// flatten to `[n, features]`
    Flatten(Flatten),
    /// element-wise square
    Square(Square),
    /// element-wise safe log
    Log(Log),
}

/// What one layer's forward produced.
#[derive(Debug)]
pub struct LayerOutput {
    /// the output
    pub y: Var,
    /// max-pool switches, when asked for and the layer is a max-pool
    pub switches: Option<Arc<Vec<u32>>>,
    /// batch statistics, for a batch-norm layer in training
    pub stats: Option<BatchStats>,
}

impl Layer {
    /// The layer kind as PyTorch names its module, e.g. `"Conv2d"`.
    pub fn kind(&self) -> &'static str {
        match self {
            Layer::Conv2d(_) => "Conv2d",
            Layer::Linear(_) => "Linear",
            Layer::MaxPool2d(_) => "MaxPool2d",
            Layer::AvgPool2d(_) => "AvgPool2d",
            Layer::Dropout(_) => "Dropout",
            Layer::BatchNorm2d(_) => "BatchNorm2d",
            Layer::BatchNorm1d(_) => "BatchNorm1d",
            Layer::Relu(_) => "ReLU",
            Layer::Elu(_) => "ELU",
            Layer::Flatten(_) => "Flatten",
            Layer::Square(_) => "Square",
            Layer::Log(_) => "Log",
        }
    }

    /// Per-sample output shape for a per-sample input shape (no batch dimension).
    ///
    /// # Errors
    /// A message saying what shape the layer expects.
    pub fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, String> {
        match self {
            Layer::Conv2d(l) => l.output_shape(input),
            Layer::Linear(l) => l.output_shape(input),
            Layer::MaxPool2d(l) => l.output_shape(input),
            Layer::AvgPool2d(l) => l.output_shape(input),
            Layer::BatchNorm2d(l) => l.output_shape(input, true),
            Layer::BatchNorm1d(l) => l.output_shape(input, false),
            Layer::Flatten(l) => Ok(l.output_shape(input)),
            Layer::Dropout(_) | Layer::Relu(_) | Layer::Elu(_) | Layer::Square(_) | Layer::Log(_) => {
                Ok(input.to_vec())
            }
        }
    }

    /// Learnable parameters with their short (in-layer) names, PyTorch order.
    pub fn params(&self) -> Vec<(&'static str, &Tensor)> {
        match self {
            Layer::Conv2d(l) => l.params(),
            Layer::Linear(l) => l.params(),
            Layer::BatchNorm2d(l) | Layer::BatchNorm1d(l) => l.params(),
            _ => Vec::new(),
        }
    }

    /// Learnable parameters, mutable, same order as [`Layer::params`].
    pub fn params_mut(&mut self) -> Vec<(&'static str, &mut Tensor)> {
        match self {
            Layer::Conv2d(l) => l.params_mut(),
            Layer::Linear(l) => l.params_mut(),
            Layer::BatchNorm2d(l) | Layer::BatchNorm1d(l) => l.params_mut(),
            _ => Vec::new(),
        }
    }

    /// Float buffers (batch-norm running statistics), state-dict order.
    pub fn buffers(&self) -> Vec<(&'static str, &Tensor)> {
        match self {
            Layer::BatchNorm2d(l) | Layer::BatchNorm1d(l) => l.buffers(),
            _ => Vec::new(),
        }
    }

    /// Float buffers, mutable.
    pub fn buffers_mut(&mut self) -> Vec<(&'static str, &mut Tensor)> {
        match self {
            Layer::BatchNorm2d(l) | Layer::BatchNorm1d(l) => l.buffers_mut(),
            _ => Vec::new(),
        }
    }

    /// Records the layer on `tape`. `p` are the vars of [`Layer::params`] (in
    /// that order); `switches` asks max-pools to return their switches.
    pub fn forward(
        &self,
        tape: &mut Tape<'_>,
        x: Var,
        p: &[Var],
        mode: Mode,
        rng: &mut Rng,
        switches: bool,
    ) -> LayerOutput {
        let train = mode == Mode::Train;
        let plain = |y| LayerOutput { y, switches: None, stats: None };
        match self {
            Layer::Conv2d(l) => plain(l.forward(tape, x, p)),
            Layer::Linear(l) => plain(l.forward(tape, x, p)),
            Layer::MaxPool2d(l) => {
                let (y, s) = l.forward(tape, x, switches);
                LayerOutput { y, switches: s, stats: None }
            }
            Layer::AvgPool2d(l) => plain(l.forward(tape, x)),
            Layer::Dropout(l) => plain(l.forward(tape, x, train, rng)),
            Layer::BatchNorm2d(l) => {
                let (y, stats) = l.forward(tape, x, p, train);
                LayerOutput { y, switches: None, stats }
            }
            Layer::BatchNorm1d(l) => {
                let (y, stats) = l.forward(tape, x, p, train);
                LayerOutput { y, switches: None, stats }
            }
            Layer::Relu(l) => plain(l.forward(tape, x)),
            Layer::Elu(l) => plain(l.forward(tape, x)),
            Layer::Flatten(l) => plain(l.forward(tape, x)),
            Layer::Square(l) => plain(l.forward(tape, x)),
            Layer::Log(l) => plain(l.forward(tape, x)),
        }
    }
}

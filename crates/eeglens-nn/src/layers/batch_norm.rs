//! `BatchNorm2d` (over `[n, c, h, w]`) and `BatchNorm1d` (over `[n, c]`).
//!
//! Training normalises with the batch statistics and returns them; the caller
//! folds them into the running statistics with [`BatchNorm::update_running`]
//! once the tape is gone (PyTorch's update: `r = (1 - momentum) r + momentum s`,
//! the variance unbiased). Eval mode normalises with the running statistics.

use eeglens_autodiff::ops::{self, BatchNormMode, BatchStats};
use eeglens_autodiff::{Tape, Tensor, Var};
use serde::{Deserialize, Serialize};

use crate::error::NnError;

/// Configuration of a [`BatchNorm`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct BatchNormConfig {
    /// channels (features for `BatchNorm1d`)
    pub c: usize,
    /// added to the variance
    pub eps: f32,
    /// weight of the new batch in the running statistics
    pub momentum: f32,
}

impl BatchNormConfig {
    /// PyTorch's defaults: `eps = 1e-5`, `momentum = 0.1`.
    pub fn new(c: usize) -> Self {
        Self { c, eps: 1e-5, momentum: 0.1 }
    }
}

/// Batch normalisation with learnable `weight` (gamma) and `bias` (beta) and
/// running statistics; state-dict names as PyTorch's: `weight`, `bias`,
/// `running_mean`, `running_var`, `num_batches_tracked`.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchNorm {
    /// the configuration it was built from
    pub cfg: BatchNormConfig,
    /// gamma, `[c]`, initialised to ones
    pub weight: Tensor,
    /// beta, `[c]`, initialised to zeros
    pub bias: Tensor,
    /// running mean, `[c]`
    pub running_mean: Tensor,
    /// running (unbiased) variance, `[c]`
    pub running_var: Tensor,
    /// number of training batches folded into the running statistics
    pub num_batches_tracked: i64,
}

impl BatchNorm {
    /// A batch-norm layer: gamma ones, beta zeros, running mean 0, variance 1.
    ///
    /// # Errors
    /// [`NnError::Config`] for zero channels, non-positive `eps` or momentum outside `[0, 1]`.
    pub fn new(cfg: &BatchNormConfig) -> Result<Self, NnError> {
        if cfg.c == 0 || cfg.eps <= 0.0 || !(0.0..=1.0).contains(&cfg.momentum) {
            return Err(NnError::Config { kind: "BatchNorm", msg: format!("{cfg:?}") });
        }
        // weight, bias, running mean and variance
        crate::init::reserve("BatchNorm", &[4, cfg.c])?;
        Ok(Self {
            cfg: *cfg,
            weight: Tensor::full(&[cfg.c], 1.0),
            bias: Tensor::zeros(&[cfg.c]),
            running_mean: Tensor::zeros(&[cfg.c]),
            running_var: Tensor::full(&[cfg.c], 1.0),
            num_batches_tracked: 0,
        })
    }

    /// Per-sample output shape (= input shape) for `[c, h, w]` (2-D) or `[c]` (1-D).
    pub fn output_shape(&self, input: &[usize], two_d: bool) -> Result<Vec<usize>, String> {
        let ok = if two_d { input.len() == 3 } else { input.len() == 1 };
        if !ok || input[0] != self.cfg.c {
            let want = if two_d { format!("[{}, h, w]", self.cfg.c) } else { format!("[{}]", self.cfg.c) };
            return Err(format!("expects {want}"));
        }
        Ok(input.to_vec())
    }

    /// Learnable parameters in state-dict order.
    pub fn params(&self) -> Vec<(&'static str, &Tensor)> {
        vec![("weight", &self.weight), ("bias", &self.bias)]
    }

    /// Learnable parameters in state-dict order, mutable.
    pub fn params_mut(&mut self) -> Vec<(&'static str, &mut Tensor)> {
        vec![("weight", &mut self.weight), ("bias", &mut self.bias)]
    }

    /// Running statistics (float buffers) in state-dict order.
    pub fn buffers(&self) -> Vec<(&'static str, &Tensor)> {
        vec![("running_mean", &self.running_mean), ("running_var", &self.running_var)]
    }

    /// Running statistics, mutable.
    pub fn buffers_mut(&mut self) -> Vec<(&'static str, &mut Tensor)> {
        vec![("running_mean", &mut self.running_mean), ("running_var", &mut self.running_var)]
    }

    /// Folds one training batch's statistics into the running ones.
    pub fn update_running(&mut self, stats: &BatchStats) {
        stats.fold_into(self.running_mean.data_mut(), self.running_var.data_mut(), self.cfg.momentum);
        self.num_batches_tracked += 1;
    }

    /// Records the normalisation (input `[n, c, h, w]` or `[n, c]`); `p` are
    /// the vars of [`BatchNorm::params`].
    pub fn forward(&self, tape: &mut Tape<'_>, x: Var, p: &[Var], train: bool) -> (Var, Option<BatchStats>) {
        let mode = if train {
            BatchNormMode::Train { momentum: self.cfg.momentum }
        } else {
            BatchNormMode::Eval {
                running_mean: self.running_mean.data(),
                running_var: self.running_var.data(),
            }
        };
        ops::batch_norm(tape, x, p[0], p[1], mode, self.cfg.eps)
    }
}

//! Optimisers (SGD, Adam, AdamW, Adamax) with weight decay, gradient-norm
//! clipping and learning-rate schedules, following `torch.optim`'s arithmetic.
//!
//! An [`Optimizer`] updates a model's parameters in place from the gradients of
//! one step. Its whole state (step count and per-parameter buffers) goes into
//! checkpoints ([`Optimizer::state_tensors`], [`Optimizer::from_state`]), so a
//! resumed run continues exactly.

mod adam;
mod adamax;
mod clip;
mod schedule;
mod sgd;

use std::collections::HashMap;

use eeglens_autodiff::Tensor;
use serde::{Deserialize, Serialize};

pub use clip::{clip_factor, grad_norm};
pub use schedule::Schedule;

use crate::error::NnError;
use adam::{adam_update, adam_update_with_norm, AdamStep};
use adamax::{adamax_update, AdamaxStep};
use sgd::{sgd_update, SgdStep};

/// Which update rule, with its own hyper-parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OptimizerKind {
    /// stochastic gradient descent
    Sgd {
        /// momentum factor (0: none)
        momentum: f32,
        /// dampening of the momentum
        dampening: f32,
        /// Nesterov momentum
        nesterov: bool,
    },
    /// Adam with L2 weight decay (added to the gradient)
    Adam {
        /// first-moment decay
        beta1: f32,
        /// second-moment decay
        beta2: f32,
        /// denominator guard
        eps: f32,
    },
    /// Adam with decoupled weight decay
    AdamW {
        /// first-moment decay
        beta1: f32,
        /// second-moment decay
        beta2: f32,
        /// denominator guard
        eps: f32,
    },
    /// Adam with the infinity norm
    Adamax {
        /// first-moment decay
        beta1: f32,
        /// infinity-norm decay
        beta2: f32,
        /// denominator guard
        eps: f32,
    },
}

impl OptimizerKind {
    /// The per-parameter buffers, with PyTorch's state names.
    pub fn slot_names(&self) -> &'static [&'static str] {
        match self {
            OptimizerKind::Sgd { momentum, .. } if *momentum == 0.0 => &[],
            OptimizerKind::Sgd { .. } => &["momentum_buffer"],
            OptimizerKind::Adam { .. } | OptimizerKind::AdamW { .. } => &["exp_avg", "exp_avg_sq"],
            OptimizerKind::Adamax { .. } => &["exp_avg", "exp_inf"],
        }
    }
}

/// Everything that defines an optimiser.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptimizerConfig {
    /// update rule
    pub kind: OptimizerKind,
    /// base learning rate
    pub lr: f64,
    /// weight decay (L2 for SGD/Adam/Adamax, decoupled for AdamW)
    pub weight_decay: f32,
    /// clip the global gradient norm to this value before the update
    pub clip_grad_norm: Option<f64>,
    /// learning-rate schedule over steps
    pub schedule: Schedule,
}

impl OptimizerConfig {
    fn with(kind: OptimizerKind, lr: f64, weight_decay: f32) -> Self {
        Self { kind, lr, weight_decay, clip_grad_norm: None, schedule: Schedule::Constant }
    }

    /// SGD.
    pub fn sgd(lr: f64, momentum: f32, nesterov: bool) -> Self {
        Self::with(OptimizerKind::Sgd { momentum, dampening: 0.0, nesterov }, lr, 0.0)
    }

    /// Adam with PyTorch's defaults (betas 0.9, 0.999; eps 1e-8).
    pub fn adam(lr: f64) -> Self {
        Self::with(OptimizerKind::Adam { beta1: 0.9, beta2: 0.999, eps: 1e-8 }, lr, 0.0)
    }

    /// AdamW with PyTorch's defaults and weight decay `wd`.
    pub fn adamw(lr: f64, wd: f32) -> Self {
        Self::with(OptimizerKind::AdamW { beta1: 0.9, beta2: 0.999, eps: 1e-8 }, lr, wd)
    }

    /// Adamax with PyTorch's defaults; the R-VGG authors' setting is `adamax(0.002, 0.001)`.
    pub fn adamax(lr: f64, wd: f32) -> Self {
        Self::with(OptimizerKind::Adamax { beta1: 0.9, beta2: 0.999, eps: 1e-8 }, lr, wd)
    }

    /// Sets the weight decay.
    pub fn weight_decay(mut self, wd: f32) -> Self {
        self.weight_decay = wd;
        self
    }

    /// Sets gradient-norm clipping.
    pub fn clip_grad_norm(mut self, max_norm: f64) -> Self {
        self.clip_grad_norm = Some(max_norm);
        self
    }

    /// Sets the schedule.
    pub fn schedule(mut self, schedule: Schedule) -> Self {
        self.schedule = schedule;
        self
    }
}

/// What one [`Optimizer::step`] did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepInfo {
    /// learning rate used
    pub lr: f64,
    /// global gradient norm before clipping
    pub grad_norm: f64,
}

/// An optimiser and its state.
#[derive(Clone, Debug, PartialEq)]
pub struct Optimizer {
    cfg: OptimizerConfig,
    step: u64,
    /// `slots[param][k]` is buffer `k` of `cfg.kind.slot_names()`, created lazily
    slots: Vec<Vec<Option<Tensor>>>,
}

impl Optimizer {
    /// A fresh optimiser (step 0, no buffers).
    pub fn new(cfg: OptimizerConfig) -> Self {
        Self { cfg, step: 0, slots: Vec::new() }
    }

    /// The configuration.
    pub fn config(&self) -> &OptimizerConfig {
        &self.cfg
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.step
    }

    /// The learning rate the next step will use.
    pub fn lr(&self) -> f64 {
        self.cfg.schedule.lr(self.cfg.lr, self.step)
    }

    /// Updates `params` in place from `grads` (same order and shapes). A
    /// parameter whose gradient is `None` is left alone (as PyTorch skips
    /// parameters without `.grad`).
    ///
    /// # Panics
    /// When `params` and `grads` differ in length or shapes, or when the
    /// number of parameters changes between steps (a caller bug).
    pub fn step(&mut self, params: &mut [&mut Tensor], grads: &[Option<&Tensor>]) -> StepInfo {
        assert_eq!(params.len(), grads.len(), "optimizer: {} params, {} grads", params.len(), grads.len());
        let n_slots = self.cfg.kind.slot_names().len();
        if self.slots.is_empty() {
            self.slots = vec![vec![None; n_slots]; params.len()];
        }
        assert_eq!(self.slots.len(), params.len(), "optimizer: the parameter list changed between steps");
        // Without clipping the update does not depend on the norm: Adam then
        // sums each gradient's squares in its own pass (bit for bit
        // `grad_norm`), and the gradients are read once.
        let fused_norm = self.cfg.clip_grad_norm.is_none()
            && matches!(self.cfg.kind, OptimizerKind::Adam { .. } | OptimizerKind::AdamW { .. });
        let mut norm = if fused_norm { 0.0 } else { grad_norm(grads) };
        let gscale = self.cfg.clip_grad_norm.map_or(1.0, |max| clip_factor(norm, max)) as f32;
        let lr = self.lr();
        self.step += 1;
        let t = self.step;
        let wd = self.cfg.weight_decay;
        for ((p, g), slots) in params.iter_mut().zip(grads).zip(&mut self.slots) {
            let Some(g) = g else { continue };
            assert_eq!(p.shape(), g.shape(), "optimizer: parameter and gradient shapes differ");
            match self.cfg.kind {
                OptimizerKind::Sgd { momentum, dampening, nesterov } => {
                    let h =
                        SgdStep { lr: lr as f32, momentum, dampening, nesterov, weight_decay: wd, gscale };
                    let mut empty = None;
                    let buf = slots.first_mut().unwrap_or(&mut empty);
                    sgd_update(p, g, buf, h);
                }
                OptimizerKind::Adam { beta1, beta2, eps } | OptimizerKind::AdamW { beta1, beta2, eps } => {
                    let decoupled = matches!(self.cfg.kind, OptimizerKind::AdamW { .. });
                    let h = AdamStep { lr, beta1, beta2, eps, weight_decay: wd, decoupled, t, gscale };
                    let (m, v) = two_slots(slots, g.shape());
                    if fused_norm {
                        norm += adam_update_with_norm(p, g, m, v, h);
                    } else {
                        adam_update(p, g, m, v, h);
                    }
                }
                OptimizerKind::Adamax { beta1, beta2, eps } => {
                    let h = AdamaxStep { lr, beta1, beta2, eps, weight_decay: wd, t, gscale };
                    let (m, u) = two_slots(slots, g.shape());
                    adamax_update(p, g, m, u, h);
                }
            }
        }
        if fused_norm {
            norm = norm.sqrt();
        }
        StepInfo { lr, grad_norm: norm }
    }

    /// The state as named tensors: `optim.state.<param>.<slot>` for every
    /// buffer that exists. `names` are the parameters' names in step order.
    pub fn state_tensors(&self, names: &[String]) -> Vec<(String, Tensor)> {
        let slot_names = self.cfg.kind.slot_names();
        let mut out = Vec::new();
        for (name, slots) in names.iter().zip(&self.slots) {
            for (slot, t) in slot_names.iter().zip(slots) {
                if let Some(t) = t {
                    out.push((format!("optim.state.{name}.{slot}"), t.clone()));
                }
            }
        }
        out
    }

    /// Rebuilds an optimiser from its config, step count and the tensors of
    /// [`Optimizer::state_tensors`] (looked up by name; missing buffers stay
    /// unset, as for parameters that never had a gradient).
    ///
    /// # Errors
    /// [`NnError::OptimizerState`] when a buffer's shape differs from its parameter's.
    pub fn from_state(
        cfg: OptimizerConfig,
        step: u64,
        params: &[(String, &Tensor)],
        tensors: &HashMap<String, Tensor>,
    ) -> Result<Self, NnError> {
        let slot_names = cfg.kind.slot_names();
        let mut slots = Vec::with_capacity(params.len());
        for (name, p) in params {
            let mut s = Vec::with_capacity(slot_names.len());
            for slot in slot_names {
                let key = format!("optim.state.{name}.{slot}");
                match tensors.get(&key) {
                    Some(t) if t.shape() != p.shape() => {
                        return Err(NnError::OptimizerState(format!(
                            "`{key}` has shape {:?}, its parameter {:?}",
                            t.shape(),
                            p.shape()
                        )))
                    }
                    t => s.push(t.cloned()),
                }
            }
            slots.push(s);
        }
        if step == 0 {
            slots.clear();
        }
        Ok(Self { cfg, step, slots })
    }
}

fn two_slots<'s>(slots: &'s mut [Option<Tensor>], shape: &[usize]) -> (&'s mut Tensor, &'s mut Tensor) {
    let [a, b] = slots else { unreachable!("Adam-family optimisers have two slots") };
    (a.get_or_insert_with(|| Tensor::zeros(shape)), b.get_or_insert_with(|| Tensor::zeros(shape)))
}

//! `Linear`: `y = x W^T + b`.

use eeglens_autodiff::ops;
use eeglens_autodiff::{Rng, Tape, Tensor, Var};
use serde::{Deserialize, Serialize};

use crate::error::NnError;
use crate::init::Init;

/// Configuration of a [`Linear`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinearConfig {
    /// input features
    pub d_in: usize,
    /// output features
    pub d_out: usize,
    /// whether the layer has a bias
    pub bias: bool,
    /// how the parameters are drawn
    pub init: Init,
}

impl LinearConfig {
    /// A linear layer with bias and PyTorch's init.
    pub fn new(d_in: usize, d_out: usize) -> Self {
        Self { d_in, d_out, bias: true, init: Init::default() }
    }

    /// Sets the init scheme.
    pub fn init(mut self, init: Init) -> Self {
        self.init = init;
        self
    }
}

/// A fully connected layer: weight `[d_out, d_in]`, bias `[d_out]` (PyTorch's layout).
#[derive(Clone, Debug, PartialEq)]
pub struct Linear {
    /// the configuration it was built from
    pub cfg: LinearConfig,
    /// `[d_out, d_in]`
    pub weight: Tensor,
    /// `[d_out]`, when the layer has a bias
    pub bias: Option<Tensor>,
}

impl Linear {
    /// A linear layer with freshly drawn parameters.
    ///
    /// # Errors
    /// [`NnError::Config`] for a zero size.
    pub fn new(cfg: &LinearConfig, rng: &mut Rng) -> Result<Self, NnError> {
        if cfg.d_in == 0 || cfg.d_out == 0 {
            return Err(NnError::Config { kind: "Linear", msg: format!("zero size in {cfg:?}") });
        }
        crate::init::reserve("Linear", &[cfg.d_out, cfg.d_in])?;
        crate::init::reserve("Linear", &[if cfg.bias { cfg.d_out } else { 0 }])?;
        let weight = cfg.init.weight(&[cfg.d_out, cfg.d_in], rng);
        let bias = cfg.bias.then(|| cfg.init.bias(cfg.d_out, cfg.d_in, rng));
        Ok(Self { cfg: cfg.clone(), weight, bias })
    }

    /// Per-sample output shape `[d_out]` for input `[d_in]`.
    pub fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, String> {
        if input != [self.cfg.d_in] {
            return Err(format!("expects [{}] (flatten first?)", self.cfg.d_in));
        }
        Ok(vec![self.cfg.d_out])
    }

    /// Learnable parameters in state-dict order.
    pub fn params(&self) -> Vec<(&'static str, &Tensor)> {
        let mut p = vec![("weight", &self.weight)];
        if let Some(b) = &self.bias {
            p.push(("bias", b));
        }
        p
    }

    /// Learnable parameters in state-dict order, mutable.
    pub fn params_mut(&mut self) -> Vec<(&'static str, &mut Tensor)> {
        let mut p = vec![("weight", &mut self.weight)];
        if let Some(b) = &mut self.bias {
            p.push(("bias", b));
        }
        p
    }

    /// Records the layer; `p` are the vars of [`Linear::params`].
    pub fn forward(&self, tape: &mut Tape<'_>, x: Var, p: &[Var]) -> Var {
        ops::linear(tape, x, p[0], p.get(1).copied())
    }
}

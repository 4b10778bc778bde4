//! `Elu`: `x` for `x > 0`, `alpha (e^x - 1)` otherwise.

use eeglens_autodiff::ops;
use eeglens_autodiff::{Tape, Var};
use serde::{Deserialize, Serialize};

/// Configuration of an [`Elu`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct EluConfig {
    /// saturation value for large negative inputs (PyTorch's default 1.0)
    pub alpha: f32,
}

impl Default for EluConfig {
    fn default() -> Self {
        Self { alpha: 1.0 }
    }
}

/// The exponential linear unit; no parameters, any shape.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Elu {
    /// the configuration it was built from
    pub cfg: EluConfig,
}

impl Elu {
    /// An ELU.
    pub fn new(cfg: &EluConfig) -> Self {
        Self { cfg: *cfg }
    }

    /// Records the ELU.
    pub fn forward(&self, tape: &mut Tape<'_>, x: Var) -> Var {
        ops::elu(tape, x, self.cfg.alpha)
    }
}

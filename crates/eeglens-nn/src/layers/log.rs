//! `Log`: a safe logarithm, ShallowConvNet's log of the band power.

use eeglens_autodiff::ops;
use eeglens_autodiff::{Tape, Var};
use serde::{Deserialize, Serialize};

/// Configuration of a [`Log`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogConfig {
    /// keeps the argument away from zero (braindecode's `safe_log` uses 1e-6)
    pub eps: f32,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self { eps: 1e-6 }
    }
}

/// Element-wise safe logarithm; no parameters, any shape.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Log {
    /// the configuration it was built from
    pub cfg: LogConfig,
}

impl Log {
    /// A safe log.
    pub fn new(cfg: &LogConfig) -> Self {
        Self { cfg: *cfg }
    }

    /// Records the log.
    pub fn forward(&self, tape: &mut Tape<'_>, x: Var) -> Var {
        ops::log(tape, x, self.cfg.eps)
    }
}

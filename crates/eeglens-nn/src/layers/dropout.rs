//! `Dropout`: zeroes elements with probability `p` in training, scales the rest by `1/(1-p)`.

use eeglens_autodiff::ops;
use eeglens_autodiff::{Rng, Tape, Var};
use serde::{Deserialize, Serialize};

use crate::error::NnError;

/// Configuration of a [`Dropout`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct DropoutConfig {
    /// probability of zeroing an element, in `[0, 1)`
    pub p: f32,
}

/// Inverted dropout; the identity in eval mode. The mask comes from the RNG
/// passed to `forward`, never from a global.
#[derive(Clone, Debug, PartialEq)]
pub struct Dropout {
    /// the configuration it was built from
    pub cfg: DropoutConfig,
}

impl Dropout {
    /// A dropout layer.
    ///
    /// # Errors
    /// [`NnError::Config`] when `p` is not in `[0, 1)`.
    pub fn new(cfg: &DropoutConfig) -> Result<Self, NnError> {
        if !(0.0..1.0).contains(&cfg.p) {
            return Err(NnError::Config {
                kind: "Dropout",
                msg: format!("p must be in [0, 1), got {}", cfg.p),
            });
        }
        Ok(Self { cfg: *cfg })
    }

    /// Records dropout in training; returns `x` unchanged in eval mode.
    pub fn forward(&self, tape: &mut Tape<'_>, x: Var, train: bool, rng: &mut Rng) -> Var {
        if !train || self.cfg.p == 0.0 {
            return x;
        }
        ops::dropout(tape, x, self.cfg.p, true, rng)
    }
}

//! `Square`: `x^2`, ShallowConvNet's power nonlinearity.

use eeglens_autodiff::ops;
use eeglens_autodiff::{Tape, Var};

/// Element-wise square; no parameters, any shape.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Square;

impl Square {
    /// Records `x^2`.
    pub fn forward(&self, tape: &mut Tape<'_>, x: Var) -> Var {
        ops::square(tape, x)
    }
}

//! `Relu`: `max(x, 0)` (gradient 0 at 0, as PyTorch).

use eeglens_autodiff::ops;
use eeglens_autodiff::{Tape, Var};

/// The rectifier; no parameters, any shape.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Relu;

impl Relu {
    /// Records `max(x, 0)`.
    pub fn forward(&self, tape: &mut Tape<'_>, x: Var) -> Var {
        ops::relu(tape, x)
    }
}

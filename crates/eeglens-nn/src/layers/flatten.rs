//! `Flatten`: `[n, ...]` to `[n, prod(...)]`, in C order (PyTorch's `flatten(1)`).

use eeglens_autodiff::ops;
use eeglens_autodiff::{Tape, Var};

/// Flattens everything but the batch dimension.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flatten;

impl Flatten {
    /// Per-sample output shape `[prod(input)]`.
    pub fn output_shape(&self, input: &[usize]) -> Vec<usize> {
        vec![input.iter().product()]
    }

    /// Records the flatten.
    pub fn forward(&self, tape: &mut Tape<'_>, x: Var) -> Var {
        ops::flatten(tape, x)
    }
}

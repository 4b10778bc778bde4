//! `square(x) = x * x`.

use super::{map, map_grad};
use crate::tape::{Backward, Tape, Var};
use crate::tensor::Tensor;

/// Element-wise square (the power step of a log-variance or band-power feature).
///
/// # Shapes
/// Any; the output has the input's shape.
pub fn square(tape: &mut Tape<'_>, x: Var) -> Var {
    let y = map(tape.value(x), |v| v * v);
    tape.push_op(y, &[x], Box::new(SquareBackward))
}

/// Needs only its input: `d/dx x^2 = 2x`.
struct SquareBackward;

impl Backward for SquareBackward {
    fn name(&self) -> &'static str {
        "square"
    }

    fn backward(&self, inputs: &[&Tensor], _: &Tensor, g: &Tensor, _: &[bool]) -> Vec<Option<Tensor>> {
        vec![Some(map_grad(inputs[0], g, |v| 2.0 * v))]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::randn;
    use crate::ops::test_util::{check, t};
    use crate::Rng;

    #[test]
    fn forward_values() {
        let mut tape = Tape::new();
        let x = tape.constant(t(&[3], &[-2.0, 0.5, 3.0]));
        let y = square(&mut tape, x);
        assert_eq!(tape.value(y).data(), &[4.0, 0.25, 9.0]);
    }

    #[test]
    fn gradcheck_square() {
        check(|t, v| square(t, v[0]), &[randn(&[2, 3, 2], &mut Rng::new(4))]);
    }
}

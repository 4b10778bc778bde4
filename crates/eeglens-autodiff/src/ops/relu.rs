//! `relu(x) = max(x, 0)`; the gradient at `x == 0` (either sign) is 0, as in PyTorch.

use super::{map, map_grad};
use crate::tape::{Backward, Tape, Var};
use crate::tensor::Tensor;

/// Rectified linear unit, element-wise.
///
/// # Shapes
/// Any; the output has the input's shape.
pub fn relu(tape: &mut Tape<'_>, x: Var) -> Var {
    // `<=` rather than `>`: NaN fails the test and passes through, as in PyTorch.
    let y = map(tape.value(x), |v| if v <= 0.0 { 0.0 } else { v });
    tape.push_op(y, &[x], Box::new(ReluBackward))
}

/// Needs nothing but its input: the gradient passes where `x > 0`.
struct ReluBackward;

impl Backward for ReluBackward {
    fn name(&self) -> &'static str {
        "relu"
    }

    fn backward(&self, inputs: &[&Tensor], _: &Tensor, g: &Tensor, _: &[bool]) -> Vec<Option<Tensor>> {
        vec![Some(map_grad(inputs[0], g, |v| if v > 0.0 { 1.0 } else { 0.0 }))]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::away_from_zero;
    use crate::ops::test_util::{check, t};
    use crate::Rng;

    #[test]
    fn forward_and_zero_gradient_at_zero() {
        let mut tape = Tape::new();
        let x = tape.input_with_grad(t(&[5], &[-1.0, -0.0, 0.0, 1e-30, 2.0]));
        let y = relu(&mut tape, x);
        assert_eq!(tape.value(y).data(), &[0.0, 0.0, 0.0, 1e-30, 2.0]);
        let g = tape.backward(y);
        assert_eq!(g.get(x).unwrap().data(), &[0.0, 0.0, 0.0, 1.0, 1.0]);
    }

    #[test]
    fn nan_passes_through() {
        let mut tape = Tape::new();
        let x = tape.constant(t(&[2], &[f32::NAN, -1.0]));
        let y = relu(&mut tape, x);
        assert!(tape.value(y).data()[0].is_nan());
        assert_eq!(tape.value(y).data()[1], 0.0);
    }

    #[test]
    fn gradcheck_relu() {
        check(|t, v| relu(t, v[0]), &[away_from_zero(&[3, 4], 0.05, &mut Rng::new(1))]);
    }
}

//! `leaky_relu(x) = x` for `x > 0`, `slope * x` otherwise.

use super::{map, map_grad};
use crate::tape::{Backward, Tape, Var};
use crate::tensor::Tensor;

/// Leaky ReLU, element-wise (PyTorch `F.leaky_relu`; the gradient at 0 is `slope`).
///
/// # Shapes
/// Any; the output has the input's shape.
pub fn leaky_relu(tape: &mut Tape<'_>, x: Var, slope: f32) -> Var {
    let y = map(tape.value(x), |v| if v > 0.0 { v } else { slope * v });
    tape.push_op(y, &[x], Box::new(LeakyReluBackward { slope }))
}

/// The negative slope.
struct LeakyReluBackward {
    slope: f32,
}

impl Backward for LeakyReluBackward {
    fn name(&self) -> &'static str {
        "leaky_relu"
    }

    fn backward(&self, inputs: &[&Tensor], _: &Tensor, g: &Tensor, _: &[bool]) -> Vec<Option<Tensor>> {
        let s = self.slope;
        vec![Some(map_grad(inputs[0], g, |v| if v > 0.0 { 1.0 } else { s }))]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::away_from_zero;
    use crate::ops::test_util::{check, t};
    use crate::Rng;

    #[test]
    fn forward_values() {
        let mut tape = Tape::new();
        let x = tape.constant(t(&[3], &[-2.0, 0.0, 3.0]));
        let y = leaky_relu(&mut tape, x, 0.25);
        assert_eq!(tape.value(y).data(), &[-0.5, 0.0, 3.0]);
    }

    #[test]
    fn gradcheck_leaky_relu() {
        check(|t, v| leaky_relu(t, v[0], 0.1), &[away_from_zero(&[3, 4], 0.05, &mut Rng::new(3))]);
    }
}

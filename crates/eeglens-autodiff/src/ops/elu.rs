//! `elu(x) = x` for `x > 0`, `alpha * (exp(x) - 1)` otherwise.

use super::{map, map_grad};
use crate::tape::{Backward, Tape, Var};
use crate::tensor::Tensor;

/// Exponential linear unit, element-wise (PyTorch `F.elu`).
///
/// # Shapes
/// Any; the output has the input's shape.
pub fn elu(tape: &mut Tape<'_>, x: Var, alpha: f32) -> Var {
    let y = map(tape.value(x), |v| if v > 0.0 { v } else { alpha * v.exp_m1() });
    tape.push_op(y, &[x], Box::new(EluBackward { alpha }))
}

/// The slope scale; the gradient is `1` for `x > 0`, `alpha * exp(x)` otherwise.
struct EluBackward {
    alpha: f32,
}

impl Backward for EluBackward {
    fn name(&self) -> &'static str {
        "elu"
    }

    fn backward(&self, inputs: &[&Tensor], _: &Tensor, g: &Tensor, _: &[bool]) -> Vec<Option<Tensor>> {
        let a = self.alpha;
        vec![Some(map_grad(inputs[0], g, |v| if v > 0.0 { 1.0 } else { a * v.exp() }))]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::away_from_zero;
    use crate::ops::test_util::{check, t};
    use crate::Rng;
    use approx::assert_relative_eq;

    const TOL: f32 = 1e-6;

    #[test]
    fn forward_values() {
        let mut tape = Tape::new();
        let x = tape.constant(t(&[3], &[-1.0, 0.0, 2.0]));
        let y = elu(&mut tape, x, 0.5);
        let y = tape.value(y).data();
        assert_relative_eq!(y[0], 0.5 * ((-1.0f32).exp() - 1.0), max_relative = TOL);
        assert_relative_eq!(y[1], 0.0);
        assert_relative_eq!(y[2], 2.0);
    }

    #[test]
    fn gradcheck_elu() {
        check(|t, v| elu(t, v[0], 1.3), &[away_from_zero(&[3, 4], 0.05, &mut Rng::new(2))]);
    }
}

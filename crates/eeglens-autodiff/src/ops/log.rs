//! `log(x, eps) = ln(max(x, eps))`, with gradient 0 where the clamp is active.

use super::{map, map_grad};
use crate::tape::{Backward, Tape, Var};
use crate::tensor::Tensor;

/// Natural logarithm of `max(x, eps)`, element-wise; the clamp keeps a
/// log-power feature finite when a power is 0. The gradient is `1/x` where
/// `x >= eps` and 0 where the clamp is active (PyTorch's `clamp_min` then `log`).
///
/// # Shapes
/// Any; the output has the input's shape.
pub fn log(tape: &mut Tape<'_>, x: Var, eps: f32) -> Var {
    let y = map(tape.value(x), |v| v.max(eps).ln());
    tape.push_op(y, &[x], Box::new(LogBackward { eps }))
}

/// The clamp floor.
struct LogBackward {
    eps: f32,
}

impl Backward for LogBackward {
    fn name(&self) -> &'static str {
        "log"
    }

    fn backward(&self, inputs: &[&Tensor], _: &Tensor, g: &Tensor, _: &[bool]) -> Vec<Option<Tensor>> {
        let eps = self.eps;
        vec![Some(map_grad(inputs[0], g, |v| if v >= eps { 1.0 / v } else { 0.0 }))]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::uniform;
    use crate::ops::test_util::{check, t};
    use crate::Rng;
    use approx::assert_relative_eq;

    #[test]
    fn clamps_and_stops_the_gradient_below_eps() {
        let mut tape = Tape::new();
        let x = tape.input_with_grad(t(&[3], &[0.0, -1.0, 2.0]));
        let y = log(&mut tape, x, 1e-6);
        let v = tape.value(y).data();
        assert_relative_eq!(v[0], (1e-6f32).ln(), max_relative = 1e-6);
        assert_relative_eq!(v[1], (1e-6f32).ln(), max_relative = 1e-6);
        assert_relative_eq!(v[2], 2.0f32.ln(), max_relative = 1e-6);
        let g = tape.backward(y);
        assert_eq!(g.get(x).unwrap().data(), &[0.0, 0.0, 0.5]);
    }

    #[test]
    fn gradcheck_log() {
        check(|t, v| log(t, v[0], 1e-6), &[uniform(&[3, 4], 0.5, 3.0, &mut Rng::new(5))]);
    }
}

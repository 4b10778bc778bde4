//! `scale(x, c) = c * x`.

use super::map;
use crate::tape::{Backward, Tape, Var};
use crate::tensor::Tensor;

/// Multiplies every element by the constant `c`.
///
/// # Shapes
/// Any; the output has the input's shape.
pub fn scale(tape: &mut Tape<'_>, x: Var, c: f32) -> Var {
    let y = map(tape.value(x), |v| c * v);
    tape.push_op(y, &[x], Box::new(ScaleBackward { c }))
}

/// The constant factor.
struct ScaleBackward {
    c: f32,
}

impl Backward for ScaleBackward {
    fn name(&self) -> &'static str {
        "scale"
    }

    fn backward(&self, _: &[&Tensor], _: &Tensor, g: &Tensor, _: &[bool]) -> Vec<Option<Tensor>> {
        let c = self.c;
        vec![Some(map(g, |v| c * v))]
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
        let x = tape.constant(t(&[2], &[-2.0, 0.5]));
        let y = scale(&mut tape, x, -3.0);
        assert_eq!(tape.value(y).data(), &[6.0, -1.5]);
    }

    #[test]
    fn gradcheck_scale() {
        check(|t, v| scale(t, v[0], -0.7), &[randn(&[2, 5], &mut Rng::new(6))]);
    }
}

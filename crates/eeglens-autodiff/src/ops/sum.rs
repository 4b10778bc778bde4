//! `sum(x)`: all elements to one value.

use crate::tape::{Backward, Tape, Var};
use crate::tensor::Tensor;

/// The sum of all elements, accumulated in `f64`.
///
/// # Shapes
/// Any input; the output is `[1]`.
pub fn sum(tape: &mut Tape<'_>, x: Var) -> Var {
    let s: f64 = tape.value(x).data().iter().map(|&v| v as f64).sum();
    tape.push_op(Tensor::scalar(s as f32), &[x], Box::new(SumBackward))
}

/// Needs only the input's shape: every element gets the output gradient.
struct SumBackward;

impl Backward for SumBackward {
    fn name(&self) -> &'static str {
        "sum"
    }

    fn backward(&self, inputs: &[&Tensor], _: &Tensor, g: &Tensor, _: &[bool]) -> Vec<Option<Tensor>> {
        vec![Some(Tensor::full(inputs[0].shape(), g.item()))]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::randn;
    use crate::ops::test_util::{check, t};
    use crate::Rng;

    #[test]
    fn forward_value() {
        let mut tape = Tape::new();
        let x = tape.constant(t(&[2, 2], &[1.0, 2.0, 3.0, -4.5]));
        let y = sum(&mut tape, x);
        assert_eq!(tape.value(y).shape(), &[1]);
        assert_eq!(tape.value(y).item(), 1.5);
    }

    #[test]
    fn gradcheck_sum() {
        check(|t, v| sum(t, v[0]), &[randn(&[2, 3, 2], &mut Rng::new(11))]);
    }
}

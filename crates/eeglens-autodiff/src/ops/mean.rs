//! `mean(x)`: the average of all elements.

use crate::tape::{Backward, Tape, Var};
use crate::tensor::Tensor;

/// The mean of all elements, accumulated in `f64`.
///
/// # Shapes
/// Any non-empty input; the output is `[1]`.
///
/// # Panics
/// When `x` has no element.
pub fn mean(tape: &mut Tape<'_>, x: Var) -> Var {
    let v = tape.value(x);
    assert!(!v.is_empty(), "mean: empty input of shape {:?}", v.shape());
    let s: f64 = v.data().iter().map(|&v| v as f64).sum();
    let m = s / v.len() as f64;
    tape.push_op(Tensor::scalar(m as f32), &[x], Box::new(MeanBackward))
}

/// Needs only the input's shape: every element gets `g / len`.
struct MeanBackward;

impl Backward for MeanBackward {
    fn name(&self) -> &'static str {
        "mean"
    }

    fn backward(&self, inputs: &[&Tensor], _: &Tensor, g: &Tensor, _: &[bool]) -> Vec<Option<Tensor>> {
        let x = inputs[0];
        vec![Some(Tensor::full(x.shape(), g.item() / x.len() as f32))]
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
        let x = tape.constant(t(&[4], &[1.0, 2.0, 3.0, -4.0]));
        let y = mean(&mut tape, x);
        assert_eq!(tape.value(y).item(), 0.5);
    }

    #[test]
    fn gradcheck_mean() {
        check(|t, v| mean(t, v[0]), &[randn(&[3, 5], &mut Rng::new(12))]);
    }
}

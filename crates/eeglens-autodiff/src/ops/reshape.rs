//! `reshape` and `flatten`: the same elements under another shape.

use crate::tape::{Backward, Tape, Var};
use crate::tensor::Tensor;

/// The same elements in the same (row-major) order with shape `shape`.
///
/// # Panics
/// When the element counts differ (the message names `reshape` and both shapes).
pub fn reshape(tape: &mut Tape<'_>, x: Var, shape: &[usize]) -> Var {
    let v = tape.value(x);
    let y = v
        .clone()
        .reshape(shape)
        .unwrap_or_else(|_| panic!("reshape: cannot reshape {:?} into {shape:?}", v.shape()));
    tape.push_op(y, &[x], Box::new(ReshapeBackward))
}

/// `[n, d1, d2, ...]` to `[n, d1 * d2 * ...]`, keeping the row-major order
/// (C, H, W for an NCHW batch, as PyTorch's `flatten(1)`).
///
/// # Panics
/// When `x` has no dimension.
pub fn flatten(tape: &mut Tape<'_>, x: Var) -> Var {
    let s = tape.shape(x);
    assert!(!s.is_empty(), "flatten: input of shape {s:?} has no batch dimension");
    let shape = [s[0], s[1..].iter().product()];
    reshape(tape, x, &shape)
}

/// Needs only the input's shape.
struct ReshapeBackward;

impl Backward for ReshapeBackward {
    fn name(&self) -> &'static str {
        "reshape"
    }

    fn backward(&self, inputs: &[&Tensor], _: &Tensor, g: &Tensor, _: &[bool]) -> Vec<Option<Tensor>> {
        vec![Some(g.clone().reshape(inputs[0].shape()).expect("reshape preserves the element count"))]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::randn;
    use crate::ops::test_util::check;
    use crate::Rng;

    #[test]
    fn flatten_keeps_order() {
        let mut tape = Tape::new();
        let x = randn(&[2, 3, 2, 2], &mut Rng::new(13));
        let data = x.data().to_vec();
        let v = tape.constant(x);
        let y = flatten(&mut tape, v);
        assert_eq!(tape.shape(y), &[2, 12]);
        assert_eq!(tape.value(y).data(), &data[..]);
    }

    #[test]
    fn gradcheck_reshape_and_flatten() {
        let mut r = Rng::new(14);
        check(|t, v| reshape(t, v[0], &[3, 4]), &[randn(&[2, 6], &mut r)]);
        check(|t, v| flatten(t, v[0]), &[randn(&[2, 2, 3], &mut r)]);
    }
}

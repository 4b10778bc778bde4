//! `transpose_last2`: swap the last two dimensions.

use super::tensor;
use crate::tape::{Backward, Tape, Var};
use crate::tensor::Tensor;

/// `[..., a, b]` to `[..., b, a]`, materialised (tensors are always contiguous).
fn swap_last2(x: &Tensor) -> Tensor {
    let s = x.shape();
    let nd = s.len();
    let (a, b) = (s[nd - 2], s[nd - 1]);
    let mut shape = s.to_vec();
    shape.swap(nd - 2, nd - 1);
    let mut y = crate::pool::zeros(x.len());
    for (src, dst) in x.data().chunks_exact(a * b).zip(y.chunks_exact_mut(a * b)) {
        for i in 0..a {
            for j in 0..b {
                dst[j * a + i] = src[i * b + j];
            }
        }
    }
    tensor(&shape, y)
}

/// Swaps the last two dimensions (a matrix transpose per leading index).
///
/// # Panics
/// When `x` has fewer than two dimensions.
pub fn transpose_last2(tape: &mut Tape<'_>, x: Var) -> Var {
    let v = tape.value(x);
    assert!(v.ndim() >= 2, "transpose_last2: input of shape {:?} has fewer than 2 dimensions", v.shape());
    let y = swap_last2(v);
    tape.push_op(y, &[x], Box::new(TransposeBackward))
}

/// Needs nothing: the gradient is transposed back.
struct TransposeBackward;

impl Backward for TransposeBackward {
    fn name(&self) -> &'static str {
        "transpose_last2"
    }

    fn backward(&self, _: &[&Tensor], _: &Tensor, g: &Tensor, _: &[bool]) -> Vec<Option<Tensor>> {
        vec![Some(swap_last2(g))]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::randn;
    use crate::ops::test_util::{check, t};
    use crate::Rng;

    #[test]
    fn transposes_each_matrix() {
        let mut tape = Tape::new();
        let x = tape.constant(t(&[1, 2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]));
        let y = transpose_last2(&mut tape, x);
        assert_eq!(tape.shape(y), &[1, 3, 2]);
        assert_eq!(tape.value(y).data(), &[1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    }

    #[test]
    fn gradcheck_transpose() {
        check(|t, v| transpose_last2(t, v[0]), &[randn(&[2, 3, 4], &mut Rng::new(15))]);
    }
}

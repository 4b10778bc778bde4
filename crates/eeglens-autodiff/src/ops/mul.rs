//! `mul(a, b) = a * b` element-wise with NumPy broadcasting.

use super::broadcast::{broadcast_shape, broadcast_strides, for_each_index};
use super::tensor;
use crate::tape::{Backward, Tape, Var};
use crate::tensor::Tensor;

/// Element-wise product with NumPy broadcasting (a per-channel scale, a mask, ...).
///
/// # Shapes
/// `a` and `b` broadcast to the output shape; each gradient is summed over
/// the dimensions its input was broadcast along.
///
/// # Panics
/// When the shapes do not broadcast (the message names `mul` and both shapes).
pub fn mul(tape: &mut Tape<'_>, a: Var, b: Var) -> Var {
    let (va, vb) = (tape.value(a), tape.value(b));
    let out = broadcast_shape("mul", va.shape(), vb.shape());
    let y = if va.shape() == vb.shape() {
        tensor(&out, crate::pool::collect(va.len(), va.data().iter().zip(vb.data()).map(|(x, y)| x * y)))
    } else {
        let (sa, sb) = (broadcast_strides(va.shape(), &out), broadcast_strides(vb.shape(), &out));
        let (da, db) = (va.data(), vb.data());
        let mut y = vec![0.0; out.iter().product()];
        for_each_index(&out, &sa, &sb, |o, i, j| y[o] = da[i] * db[j]);
        tensor(&out, y)
    };
    tape.push_op(y, &[a, b], Box::new(MulBackward))
}

/// Needs both inputs (taken from the tape's input values).
struct MulBackward;

impl Backward for MulBackward {
    fn name(&self) -> &'static str {
        "mul"
    }

    fn backward(&self, inputs: &[&Tensor], _: &Tensor, g: &Tensor, needs: &[bool]) -> Vec<Option<Tensor>> {
        let (a, b) = (inputs[0], inputs[1]);
        let out = g.shape();
        let (sa, sb) = (broadcast_strides(a.shape(), out), broadcast_strides(b.shape(), out));
        let (da, db, gd) = (a.data(), b.data(), g.data());
        let ga = needs[0].then(|| {
            let mut acc = vec![0.0f32; a.len()];
            for_each_index(out, &sa, &sb, |o, i, j| acc[i] += gd[o] * db[j]);
            tensor(a.shape(), acc)
        });
        let gb = needs[1].then(|| {
            let mut acc = vec![0.0f32; b.len()];
            for_each_index(out, &sa, &sb, |o, i, j| acc[j] += gd[o] * da[i]);
            tensor(b.shape(), acc)
        });
        vec![ga, gb]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::randn;
    use crate::ops::test_util::{check, t};
    use crate::Rng;

    #[test]
    fn broadcasts_a_column() {
        let mut tape = Tape::new();
        let a = tape.input_with_grad(t(&[2, 2], &[1.0, 2.0, 3.0, 4.0]));
        let b = tape.input_with_grad(t(&[2, 1], &[10.0, -1.0]));
        let y = mul(&mut tape, a, b);
        assert_eq!(tape.value(y).data(), &[10.0, 20.0, -3.0, -4.0]);
        let g = tape.backward(y);
        assert_eq!(g.get(a).unwrap().data(), &[10.0, 10.0, -1.0, -1.0]);
        assert_eq!(g.get(b).unwrap().data(), &[3.0, 7.0]);
    }

    #[test]
    fn gradcheck_mul_same_shape_and_same_var() {
        let mut r = Rng::new(9);
        check(|t, v| mul(t, v[0], v[1]), &[randn(&[2, 3], &mut r), randn(&[2, 3], &mut r)]);
        // Both parents the same leaf: the gradients must accumulate (2x).
        check(|t, v| mul(t, v[0], v[0]), &[randn(&[4], &mut r)]);
    }

    #[test]
    fn gradcheck_mul_broadcast() {
        let mut r = Rng::new(10);
        check(|t, v| mul(t, v[0], v[1]), &[randn(&[2, 1, 4], &mut r), randn(&[3, 1], &mut r)]);
        check(|t, v| mul(t, v[0], v[1]), &[randn(&[2, 3, 2, 2], &mut r), randn(&[1, 3, 1, 1], &mut r)]);
    }
}

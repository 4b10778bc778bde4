//! `add(a, b) = a + b` with NumPy broadcasting.

use super::broadcast::{broadcast_shape, broadcast_strides, for_each_index};
use super::tensor;
use crate::tape::{Backward, Tape, Var};
use crate::tensor::Tensor;

/// Element-wise sum with NumPy broadcasting (a bias `[1, c, 1, 1]` onto
/// `[n, c, h, w]`, a row onto a matrix, ...).
///
/// # Shapes
/// `a` and `b` broadcast to the output shape; each gradient is the output
/// gradient summed over the dimensions its input was broadcast along.
///
/// # Panics
/// When the shapes do not broadcast (the message names `add` and both shapes).
pub fn add(tape: &mut Tape<'_>, a: Var, b: Var) -> Var {
    let (va, vb) = (tape.value(a), tape.value(b));
    let out = broadcast_shape("add", va.shape(), vb.shape());
    let y = if va.shape() == vb.shape() {
        tensor(&out, crate::pool::collect(va.len(), va.data().iter().zip(vb.data()).map(|(x, y)| x + y)))
    } else {
        let (sa, sb) = (broadcast_strides(va.shape(), &out), broadcast_strides(vb.shape(), &out));
        let (da, db) = (va.data(), vb.data());
        let mut y = vec![0.0; out.iter().product()];
        for_each_index(&out, &sa, &sb, |o, i, j| y[o] = da[i] + db[j]);
        tensor(&out, y)
    };
    tape.push_op(y, &[a, b], Box::new(AddBackward))
}

/// Sums `g` (shaped `out`) down to `shape`.
pub(crate) fn reduce_to(g: &Tensor, shape: &[usize]) -> Tensor {
    if g.shape() == shape {
        return g.clone();
    }
    let out = g.shape();
    let s = broadcast_strides(shape, out);
    let mut acc = vec![0.0f32; shape.iter().product()];
    let gd = g.data();
    for_each_index(out, &s, &s, |o, i, _| acc[i] += gd[o]);
    tensor(shape, acc)
}

/// Needs only the input shapes (taken from the input values).
struct AddBackward;

impl Backward for AddBackward {
    fn name(&self) -> &'static str {
        "add"
    }

    fn backward(&self, inputs: &[&Tensor], _: &Tensor, g: &Tensor, needs: &[bool]) -> Vec<Option<Tensor>> {
        inputs.iter().zip(needs).map(|(x, &n)| n.then(|| reduce_to(g, x.shape()))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::randn;
    use crate::ops::test_util::{check, t};
    use crate::Rng;

    #[test]
    fn broadcasts_a_row_and_reduces_its_gradient() {
        let mut tape = Tape::new();
        let a = tape.input_with_grad(t(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]));
        let b = tape.input_with_grad(t(&[3], &[10.0, 20.0, 30.0]));
        let y = add(&mut tape, a, b);
        assert_eq!(tape.value(y).data(), &[11.0, 22.0, 33.0, 14.0, 25.0, 36.0]);
        let g = tape.backward(y);
        assert_eq!(g.get(a).unwrap().data(), &[1.0; 6]);
        assert_eq!(g.get(b).unwrap().data(), &[2.0, 2.0, 2.0]);
    }

    #[test]
    fn gradcheck_add_same_shape() {
        let mut r = Rng::new(7);
        check(|t, v| add(t, v[0], v[1]), &[randn(&[2, 3], &mut r), randn(&[2, 3], &mut r)]);
    }

    #[test]
    fn gradcheck_add_broadcast_both_sides() {
        let mut r = Rng::new(8);
        check(|t, v| add(t, v[0], v[1]), &[randn(&[2, 1, 4], &mut r), randn(&[3, 1], &mut r)]);
        check(|t, v| add(t, v[0], v[1]), &[randn(&[1, 3, 1, 1], &mut r), randn(&[2, 3, 2, 2], &mut r)]);
    }
}

//! Fully connected layer `y = x w^T + b` (PyTorch's `F.linear`).

use super::tensor;
use crate::kernels;
use crate::tape::{Backward, Tape, Var};
use crate::tensor::Tensor;

/// `y = x w^T + b` by one GEMM.
///
/// # Shapes
/// `x` `[n, in]`, `w` `[out, in]`, `b` `[out]`; output `[n, out]`.
///
/// # Panics
/// When the shapes do not fit (the message names `linear` and the shapes).
pub fn linear(tape: &mut Tape<'_>, x: Var, w: Var, b: Option<Var>) -> Var {
    let (vx, vw) = (tape.value(x), tape.value(w));
    let (xs, ws) = (vx.shape(), vw.shape());
    assert!(
        xs.len() == 2 && ws.len() == 2 && xs[1] == ws[1],
        "linear: input {xs:?} does not fit weight {ws:?} (expected [n, in] and [out, in])"
    );
    let (n, k, m) = (xs[0], xs[1], ws[0]);
    let mut y = crate::pool::overwritten(n * m);
    let beta = match b {
        Some(b) => {
            let vb = tape.value(b);
            assert!(vb.shape() == [m], "linear: bias {:?} does not fit weight {ws:?}", vb.shape());
            for row in y.chunks_exact_mut(m) {
                row.copy_from_slice(vb.data());
            }
            1.0
        }
        None => 0.0,
    };
    kernels::gemm(n, k, m, 1.0, vx.data(), false, vw.data(), true, beta, &mut y);
    let y = tensor(&[n, m], y);
    let parents: Vec<Var> = [x, w].into_iter().chain(b).collect();
    tape.push_op(y, &parents, Box::new(LinearBackward))
}

/// Needs `x` and `w`, both read from the tape's input values.
struct LinearBackward;

impl Backward for LinearBackward {
    fn name(&self) -> &'static str {
        "linear"
    }

    fn backward(&self, inputs: &[&Tensor], _: &Tensor, gy: &Tensor, needs: &[bool]) -> Vec<Option<Tensor>> {
        let (x, w) = (inputs[0], inputs[1]);
        let (n, k, m) = (x.shape()[0], x.shape()[1], w.shape()[0]);
        // gx = gy w, gw = gy^T x, gb = column sums of gy.
        let gx = needs[0].then(|| {
            let mut gx = crate::pool::overwritten(n * k);
            kernels::gemm(n, m, k, 1.0, gy.data(), false, w.data(), false, 0.0, &mut gx);
            tensor(x.shape(), gx)
        });
        let gw = needs[1].then(|| {
            let mut gw = crate::pool::overwritten(m * k);
            kernels::gemm(m, n, k, 1.0, gy.data(), true, x.data(), false, 0.0, &mut gw);
            tensor(w.shape(), gw)
        });
        let mut out = vec![gx, gw];
        if inputs.len() == 3 {
            out.push(needs[2].then(|| {
                let mut gb = vec![0.0f64; m];
                for row in gy.data().chunks_exact(m) {
                    for (a, &v) in gb.iter_mut().zip(row) {
                        *a += v as f64;
                    }
                }
                tensor(&[m], gb.into_iter().map(|v| v as f32).collect())
            }));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::randn;
    use crate::ops::test_util::{check, t};
    use crate::Rng;

    #[test]
    fn forward_by_hand() {
        let mut tape = Tape::new();
        let x = tape.constant(t(&[2, 2], &[1.0, 2.0, 3.0, 4.0]));
        let w = tape.constant(t(&[3, 2], &[1.0, 0.0, 0.0, 1.0, 1.0, 1.0]));
        let b = tape.constant(t(&[3], &[0.5, -0.5, 0.0]));
        let y = linear(&mut tape, x, w, Some(b));
        assert_eq!(tape.value(y).data(), &[1.5, 1.5, 3.0, 3.5, 3.5, 7.0]);
    }

    #[test]
    fn gradcheck_linear_with_and_without_bias() {
        let mut r = Rng::new(71);
        let (x, w, b) = (randn(&[3, 5], &mut r), randn(&[4, 5], &mut r), randn(&[4], &mut r));
        check(|t, v| linear(t, v[0], v[1], Some(v[2])), &[x.clone(), w.clone(), b]);
        check(|t, v| linear(t, v[0], v[1], None), &[x, w]);
    }
}

//! Mean squared error against fixed targets: the loss of a regression.

use super::tensor;
use crate::tape::{Backward, Tape, Var};
use crate::tensor::Tensor;

/// Mean squared error `sum_i (x_i - t_i)^2 / n` of `n` predictions against the targets,
/// accumulated in `f64`.
///
/// The backward is `dL/dx_i = 2 (x_i - t_i) / n`.
///
/// # Shapes
/// `predictions` `[n, 1]` or `[n]` (a one-output network's output), `targets.len() == n`,
/// `n > 0`; output `[1]`.
///
/// # Panics
/// When the shapes disagree (the message names `mse` and the shapes).
pub fn mse(tape: &mut Tape<'_>, predictions: Var, targets: &[f32]) -> Var {
    let v = tape.value(predictions);
    let s = v.shape();
    let n = targets.len();
    assert!(
        n > 0 && v.len() == n && (s.len() == 1 || (s.len() == 2 && s[1] == 1)),
        "mse: predictions {s:?} do not fit {n} targets (expected [n, 1] or [n] with n = targets > 0)"
    );
    let diff: Vec<f64> = v.data().iter().zip(targets).map(|(&x, &t)| x as f64 - t as f64).collect();
    let loss = diff.iter().map(|d| d * d).sum::<f64>() / n as f64;
    let coef: Vec<f32> = diff.iter().map(|d| (2.0 * d / n as f64) as f32).collect();
    tape.push_op(Tensor::scalar(loss as f32), &[predictions], Box::new(MseBackward { coef }))
}

/// `2 (x_i - t_i) / n` per prediction.
struct MseBackward {
    coef: Vec<f32>,
}

impl Backward for MseBackward {
    fn name(&self) -> &'static str {
        "mse"
    }

    fn backward(&self, inputs: &[&Tensor], _: &Tensor, g: &Tensor, _: &[bool]) -> Vec<Option<Tensor>> {
        let g = g.item();
        vec![Some(tensor(inputs[0].shape(), self.coef.iter().map(|c| c * g).collect()))]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::randn;
    use crate::ops::test_util::{check, t};
    use crate::Rng;
    use approx::assert_relative_eq;

    const TOL: f32 = 1e-6;

    #[test]
    fn mse_matches_the_definition() {
        let mut tape = Tape::new();
        let x = tape.input_with_grad(t(&[3, 1], &[1.0, -2.0, 0.5]));
        let l = mse(&mut tape, x, &[0.0, 1.0, 0.5]);
        // (1 + 9 + 0) / 3
        assert_relative_eq!(tape.value(l).item(), 10.0 / 3.0, max_relative = TOL);
        let g = tape.backward(l);
        assert_eq!(g.get(x).expect("gradient").data(), &[2.0 / 3.0, -2.0, 0.0]);
    }

    #[test]
    fn gradcheck_mse_column_and_vector() {
        let mut r = Rng::new(41);
        let targets = [0.3, -1.2, 2.0, 0.0, 0.7];
        check(|t, v| mse(t, v[0], &targets), &[randn(&[5, 1], &mut r)]);
        check(|t, v| mse(t, v[0], &targets), &[randn(&[5], &mut r)]);
    }

    #[test]
    #[should_panic(expected = "mse: predictions [2, 2] do not fit 4 targets")]
    fn two_outputs_per_window_panic() {
        let mut tape = Tape::new();
        let x = tape.constant(Tensor::zeros(&[2, 2]));
        mse(&mut tape, x, &[0.0; 4]);
    }
}

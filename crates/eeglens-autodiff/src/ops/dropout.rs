//! Inverted dropout: in training each element is zeroed with probability `p`
//! and the survivors are scaled by `1 / (1 - p)`; in evaluation it is the identity.

use super::tensor;
use crate::rng::Rng;
use crate::tape::{Backward, Tape, Var};
use crate::tensor::Tensor;

/// Inverted dropout with drop probability `p`.
///
/// With `train == false` (or `p == 0`) this returns `x` itself and draws
/// nothing from `rng`, so evaluation never perturbs a training stream. In
/// training it draws one uniform number per element from `rng`, in row-major
/// order: element `i` survives when its draw is `>= p`. The same seed gives the
/// same mask. With `p == 1` every element is dropped (the output is zero).
///
/// # Panics
/// When `p` is not in `[0, 1]`.
pub fn dropout(tape: &mut Tape<'_>, x: Var, p: f32, train: bool, rng: &mut Rng) -> Var {
    assert!((0.0..=1.0).contains(&p), "dropout: probability {p} is not in [0, 1]");
    if !train || p == 0.0 {
        return x;
    }
    let keep_scale = if p < 1.0 { 1.0 / (1.0 - p) } else { 0.0 };
    let v = tape.value(x);
    let mask: Vec<f32> =
        (0..v.len()).map(|_| if rng.uniform_f32() >= p { keep_scale } else { 0.0 }).collect();
    let y = tensor(v.shape(), crate::pool::collect(v.len(), v.data().iter().zip(&mask).map(|(a, m)| a * m)));
    tape.push_op(y, &[x], Box::new(DropoutBackward { mask }))
}

/// The mask, already scaled: 0 for dropped elements, `1 / (1 - p)` for kept ones.
struct DropoutBackward {
    mask: Vec<f32>,
}

impl Backward for DropoutBackward {
    fn name(&self) -> &'static str {
        "dropout"
    }

    fn backward(&self, inputs: &[&Tensor], _: &Tensor, g: &Tensor, _: &[bool]) -> Vec<Option<Tensor>> {
        vec![Some(tensor(
            inputs[0].shape(),
            crate::pool::collect(g.len(), g.data().iter().zip(&self.mask).map(|(g, m)| g * m)),
        ))]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::randn;
    use crate::ops::test_util::check;
    use approx::assert_relative_eq;

    const MEAN_TOL: f64 = 0.02;

    #[test]
    fn eval_is_the_identity_and_draws_nothing() {
        let mut tape = Tape::new();
        let x = tape.constant(randn(&[3, 4], &mut Rng::new(1)));
        let mut rng = Rng::new(5);
        let y = dropout(&mut tape, x, 0.5, false, &mut rng);
        assert_eq!(y, x);
        assert_eq!(rng, Rng::new(5));
    }

    #[test]
    fn train_drops_about_p_and_preserves_the_mean() {
        let mut tape = Tape::new();
        let n = 20_000;
        let x = tape.constant(Tensor::full(&[n], 1.0));
        let y = dropout(&mut tape, x, 0.3, true, &mut Rng::new(2));
        let v = tape.value(y).data();
        let zeros = v.iter().filter(|&&a| a == 0.0).count() as f64 / n as f64;
        let mean = v.iter().map(|&a| a as f64).sum::<f64>() / n as f64;
        assert_relative_eq!(zeros, 0.3, epsilon = MEAN_TOL);
        assert_relative_eq!(mean, 1.0, epsilon = 2.0 * MEAN_TOL);
        assert!(v.iter().all(|&a| a == 0.0 || (a - 1.0 / 0.7).abs() < 1e-6));
    }

    #[test]
    fn p_one_drops_everything() {
        let mut tape = Tape::new();
        let x = tape.constant(Tensor::full(&[10], 2.0));
        let y = dropout(&mut tape, x, 1.0, true, &mut Rng::new(3));
        assert!(tape.value(y).data().iter().all(|&a| a == 0.0));
    }

    #[test]
    fn gradcheck_dropout_train_with_a_fixed_mask() {
        // The generator is re-seeded on every call, so each evaluation draws the same mask.
        check(|t, v| dropout(t, v[0], 0.4, true, &mut Rng::new(9)), &[randn(&[4, 5], &mut Rng::new(4))]);
    }

    #[test]
    #[should_panic(expected = "dropout: probability 1.5 is not in [0, 1]")]
    fn rejects_a_bad_probability() {
        let mut tape = Tape::new();
        let x = tape.constant(Tensor::zeros(&[2]));
        dropout(&mut tape, x, 1.5, true, &mut Rng::new(0));
    }
}

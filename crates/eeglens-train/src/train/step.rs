//! One optimiser step on one batch.

use eeglens_autodiff::{ops, Rng, Tape, Tensor};
use eeglens_nn::{Mode, Optimizer, Sequential};

use crate::error::TrainError;

/// What one [`train_step`] did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepOutcome {
    /// the batch's mean cross-entropy, before the update
    pub loss: f64,
    /// windows of the batch whose largest logit was their label, before the update
    pub correct: u64,
    /// the global L2 norm of the gradient ([`eeglens_nn::optim::StepInfo`]);
    /// 0 when the loss is not finite (the update is then skipped)
    pub grad_norm: f64,
}

/// One optimiser step on the batch `x`, `y`: the step [`train_with`](super::train_with) runs for
/// every batch, and the one `eeglens bench` and this crate's bench time.
///
/// A train-mode forward (dropout masks drawn from `rng`; the loop passes a
/// fork of the run's dropout stream per step), cross-entropy over `k`
/// classes, the backward pass, then the optimiser update of every parameter
/// and the batch-norm running statistics. When the loss is not finite
/// nothing is updated and the outcome says so (the loop then stops with
/// [`TrainError::Diverged`]); a non-finite gradient norm is reported too.
///
/// # Shapes
/// `x` is `[n, 1, n_channels, n_samples]` (what [`EpochStore::batch`](eeglens_data::store::EpochStore::batch) gives),
/// `y` holds `n` labels below `k`, and `k` is the model's number of outputs.
///
/// # Errors
/// [`TrainError::Nn`] when the model refuses the batch's shape.
pub fn train_step(
    model: &mut Sequential,
    opt: &mut Optimizer,
    x: &Tensor,
    y: &[usize],
    k: usize,
    rng: &mut Rng,
) -> Result<StepOutcome, TrainError> {
    let (loss, correct, grads, stats) = {
        let mut tape = Tape::new();
        let params = model.bind(&mut tape, true);
        let xv = tape.constant(x.clone());
        let out = model.forward(&mut tape, &params, xv, Mode::Train, rng)?;
        let logits = tape.value(out.output).data();
        let correct = logits
            .chunks_exact(k)
            .zip(y)
            .filter(|(row, &label)| crate::metrics::argmax(row) == label)
            .count() as u64;
        let loss = ops::cross_entropy(&mut tape, out.output, y, None);
        let mut g = tape.backward(loss);
        let grads: Vec<Option<Tensor>> = params.vars().iter().map(|v| g.take(*v)).collect();
        (tape.value(loss).item() as f64, correct, grads, out.batch_stats)
    };
    if !loss.is_finite() {
        return Ok(StepOutcome { loss, correct, grad_norm: 0.0 });
    }
    let grads: Vec<Option<&Tensor>> = grads.iter().map(|g| g.as_ref()).collect();
    let info = opt.step(&mut model.params_mut(), &grads);
    model.apply_batch_stats(&stats);
    Ok(StepOutcome { loss, correct, grad_norm: info.grad_norm })
}

/// One optimiser step of a regression on the batch `x` with standardised targets `targets`:
/// as [`train_step`], with the mean squared error of the model's single output as the loss
/// (`correct` is 0).
///
/// # Shapes
/// `x` is `[n, 1, n_channels, n_samples]`, `targets` holds `n` values, and the model has one output.
///
/// # Errors
/// [`TrainError::Nn`] when the model refuses the batch's shape.
pub fn train_step_regression(
    model: &mut Sequential,
    opt: &mut Optimizer,
    x: &Tensor,
    targets: &[f32],
    rng: &mut Rng,
) -> Result<StepOutcome, TrainError> {
    let (loss, grads, stats) = {
        let mut tape = Tape::new();
        let params = model.bind(&mut tape, true);
        let xv = tape.constant(x.clone());
        let out = model.forward(&mut tape, &params, xv, Mode::Train, rng)?;
        let loss = ops::mse(&mut tape, out.output, targets);
        let mut g = tape.backward(loss);
        let grads: Vec<Option<Tensor>> = params.vars().iter().map(|v| g.take(*v)).collect();
        (tape.value(loss).item() as f64, grads, out.batch_stats)
    };
    if !loss.is_finite() {
        return Ok(StepOutcome { loss, correct: 0, grad_norm: 0.0 });
    }
    let grads: Vec<Option<&Tensor>> = grads.iter().map(|g| g.as_ref()).collect();
    let info = opt.step(&mut model.params_mut(), &grads);
    model.apply_batch_stats(&stats);
    Ok(StepOutcome { loss, correct: 0, grad_norm: info.grad_norm })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TrainConfig;
    use eeglens_nn::models::{build, ModelSpec};

    #[test]
    fn train_step_learns_a_batch_and_skips_a_non_finite_one() {
        let spec = ModelSpec { n_channels: 8, n_samples: 32, n_classes: 2 };
        let mut model = build("rvgg", &spec, &mut Rng::new(1)).expect("builds");
        let mut opt = Optimizer::new(TrainConfig { lr: 2e-3, ..TrainConfig::default() }.optimizer_config());
        let mut noise = Rng::new(2);
        let x = Tensor::from_vec(&[6, 1, 8, 32], (0..6 * 8 * 32).map(|_| noise.normal() as f32).collect())
            .expect("sized");
        let y = [0, 1, 0, 1, 1, 0];
        // Eval-mode loss: the step's own is taken in train mode, under dropout.
        let eval_loss = |m: &Sequential| {
            let ev = eeglens_nn::evaluate(m, &x, Some(&y), false).expect("evaluate");
            ev.loss.expect("labels given").item()
        };
        let before = eval_loss(&model);
        for step in 0..15 {
            let out = train_step(&mut model, &mut opt, &x, &y, 2, &mut Rng::new(step)).expect("step");
            assert!(out.loss.is_finite() && out.correct <= 6);
            assert!(out.grad_norm.is_finite() && out.grad_norm > 0.0);
        }
        let after = eval_loss(&model);
        assert!(after < before, "loss {before} -> {after}");
        assert_eq!(opt.steps(), 15);

        let before = model.clone();
        let mut bad = x.clone();
        bad.data_mut()[0] = f32::NAN;
        let out = train_step(&mut model, &mut opt, &bad, &y, 2, &mut Rng::new(4)).expect("step");
        assert!(!out.loss.is_finite() && out.grad_norm == 0.0);
        assert_eq!(opt.steps(), 15, "no update after a non-finite loss");
        let same = model
            .named_params()
            .iter()
            .zip(before.named_params())
            .all(|((_, a), (_, b))| a.data() == b.data());
        assert!(same, "the weights are untouched");
        let wrong = Tensor::zeros(&[2, 1, 8, 16]);
        assert!(matches!(
            train_step_regression(&mut model, &mut opt, &wrong, &[0.0, 1.0], &mut Rng::new(5)),
            Err(TrainError::Nn(_))
        ));
        assert!(matches!(
            train_step(&mut model, &mut opt, &wrong, &y[..2], 2, &mut Rng::new(5)),
            Err(TrainError::Nn(_))
        ));
    }

    #[test]
    fn a_regression_step_lowers_the_squared_error() {
        let spec = ModelSpec { n_channels: 8, n_samples: 32, n_classes: 1 };
        let mut model = build("rvgg", &spec, &mut Rng::new(1)).expect("builds");
        let mut opt = Optimizer::new(TrainConfig { lr: 2e-3, ..TrainConfig::default() }.optimizer_config());
        let mut noise = Rng::new(2);
        let x = Tensor::from_vec(&[6, 1, 8, 32], (0..6 * 8 * 32).map(|_| noise.normal() as f32).collect())
            .expect("sized");
        let t = [1.0f32, -1.0, 0.5, -0.5, 1.5, -1.5];
        let eval_mse = |m: &Sequential| {
            let out = m.predict(&x).expect("predict");
            out.data().iter().zip(&t).map(|(p, t)| (p - t).powi(2)).sum::<f32>() / 6.0
        };
        let before = eval_mse(&model);
        for step in 0..20 {
            let out = train_step_regression(&mut model, &mut opt, &x, &t, &mut Rng::new(step)).expect("step");
            assert!(out.loss.is_finite() && out.grad_norm > 0.0 && out.correct == 0);
        }
        let after = eval_mse(&model);
        assert!(after < before, "squared error {before} -> {after}");
    }
}

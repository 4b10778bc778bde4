//! Batch normalisation over the batch (and spatial) dimensions, per channel.
//!
//! `y = gamma * (x - mean) / sqrt(var + eps) + beta`, with `mean` and the
//! biased `var` of the current batch in training and the running statistics in
//! evaluation (PyTorch `F.batch_norm`).

use super::tensor;
use crate::kernels;
use crate::tape::{Backward, Tape, Var};
use crate::tensor::Tensor;

/// Where the statistics come from.
#[derive(Clone, Copy, Debug)]
pub enum BatchNormMode<'r> {
    /// Normalise with the batch's own statistics and return them
    /// ([`BatchStats`]) for the layer to fold into its running averages as
    /// `running = (1 - momentum) * running + momentum * stat` (PyTorch's convention).
    Train {
        /// Weight of the new batch in the running averages, in `[0, 1]`.
        momentum: f32,
    },
    /// Normalise with fixed running statistics (one value per channel).
    Eval {
        /// Running mean per channel.
        running_mean: &'r [f32],
        /// Running (unbiased) variance per channel.
        running_var: &'r [f32],
    },
}

/// The batch statistics of a training step, per channel.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchStats {
    /// Mean over the batch and spatial positions.
    pub mean: Vec<f32>,
    /// Unbiased variance (divided by `count - 1`), as PyTorch folds into `running_var`.
    pub var_unbiased: Vec<f32>,
}

impl BatchStats {
    /// Folds these statistics into running averages with `momentum`
    /// (`running = (1 - momentum) * running + momentum * stat`).
    ///
    /// # Panics
    /// When the slices' lengths differ from the number of channels.
    pub fn fold_into(&self, running_mean: &mut [f32], running_var: &mut [f32], momentum: f32) {
        assert_eq!(running_mean.len(), self.mean.len(), "BatchStats::fold_into: running_mean length");
        assert_eq!(running_var.len(), self.var_unbiased.len(), "BatchStats::fold_into: running_var length");
        for (r, s) in running_mean.iter_mut().zip(&self.mean) {
            *r = (1.0 - momentum) * *r + momentum * s;
        }
        for (r, s) in running_var.iter_mut().zip(&self.var_unbiased) {
            *r = (1.0 - momentum) * *r + momentum * s;
        }
    }
}

/// Batch normalisation of `x` (`[n, c]` or `[n, c, h, w]`) with per-channel
/// scale `gamma` and shift `beta` (both `[c]`).
///
/// Returns the output (shaped like `x`) and, in training, the batch statistics
/// for the running averages (the op itself keeps no state; `momentum` is
/// checked and left to the layer, see [`BatchStats::fold_into`]).
///
/// # Panics
/// When `x` is not 2-D or 4-D, `gamma`, `beta` or the running statistics are
/// not `[c]`, `momentum` is outside `[0, 1]`, or a training batch has a single
/// value per channel (its variance is undefined). Messages name `batch_norm`
/// and the shapes.
pub fn batch_norm(
    tape: &mut Tape<'_>,
    x: Var,
    gamma: Var,
    beta: Var,
    mode: BatchNormMode<'_>,
    eps: f32,
) -> (Var, Option<BatchStats>) {
    let (vx, vg, vb) = (tape.value(x), tape.value(gamma), tape.value(beta));
    let s = vx.shape();
    assert!(s.len() == 2 || s.len() == 4, "batch_norm: input shape {s:?} is neither [n, c] nor [n, c, h, w]");
    let (n, c) = (s[0], s[1]);
    let hw: usize = s[2..].iter().product();
    assert!(
        vg.shape() == [c] && vb.shape() == [c],
        "batch_norm: gamma {:?} and beta {:?} must be [{c}] for input {s:?}",
        vg.shape(),
        vb.shape()
    );
    let count = n * hw;
    let xd = vx.data();
    // Per channel: (mean, invstd) used to normalise, and the stats to return.
    let (mean, invstd, stats) = match mode {
        BatchNormMode::Train { momentum } => {
            assert!((0.0..=1.0).contains(&momentum), "batch_norm: momentum {momentum} is not in [0, 1]");
            assert!(count > 1, "batch_norm: training needs more than one value per channel, input {s:?}");
            // Two passes in f64: the mean, then the squares about it (each a sum per plane,
            // the planes of a channel added in order).
            let mut plane = vec![0.0f64; n * c];
            kernels::batch_norm_plane_sums(xd, hw, c, None, &mut plane);
            let mean64: Vec<f64> = (0..c).map(|ch| channel_sum(&plane, c, ch) / count as f64).collect();
            kernels::batch_norm_plane_sums(xd, hw, c, Some(&mean64), &mut plane);
            let mut mean = vec![0.0f32; c];
            let mut invstd = vec![0.0f32; c];
            let mut var_unbiased = vec![0.0f32; c];
            for ch in 0..c {
                let ss = channel_sum(&plane, c, ch);
                let var = ss / count as f64;
                mean[ch] = mean64[ch] as f32;
                invstd[ch] = (1.0 / (var + eps as f64).sqrt()) as f32;
                var_unbiased[ch] = (ss / (count - 1) as f64) as f32;
            }
            let stats = BatchStats { mean: mean.clone(), var_unbiased };
            (mean, invstd, Some(stats))
        }
        BatchNormMode::Eval { running_mean, running_var } => {
            assert!(
                running_mean.len() == c && running_var.len() == c,
                "batch_norm: running mean ({}) and var ({}) must have {c} channels for input {s:?}",
                running_mean.len(),
                running_var.len()
            );
            let invstd = running_var.iter().map(|&v| (1.0 / (v as f64 + eps as f64).sqrt()) as f32).collect();
            (running_mean.to_vec(), invstd, None)
        }
    };
    let scale: Vec<f32> = vg.data().iter().zip(&invstd).map(|(&ga, &is)| ga * is).collect();
    // Every element is written by the kernel.
    let mut y = crate::pool::overwritten(xd.len());
    kernels::batch_norm_apply(xd, hw, c, &mean, &scale, vb.data(), &mut y);
    let y = tensor(s, y);
    let train = stats.is_some();
    let var = tape.push_op(y, &[x, gamma, beta], Box::new(BatchNormBackward { mean, invstd, train }));
    (var, stats)
}

/// Channel `ch`'s sum of the per-plane sums `plane` (`[n, c]`), in plane order.
fn channel_sum(plane: &[f64], c: usize, ch: usize) -> f64 {
    plane.iter().skip(ch).step_by(c).sum()
}

/// The per-channel mean and `1 / sqrt(var + eps)` used in the forward pass,
/// and whether they were the batch's own (then they depend on `x` too).
struct BatchNormBackward {
    mean: Vec<f32>,
    invstd: Vec<f32>,
    train: bool,
}

impl Backward for BatchNormBackward {
    fn name(&self) -> &'static str {
        "batch_norm"
    }

    fn backward(&self, inputs: &[&Tensor], _: &Tensor, g: &Tensor, needs: &[bool]) -> Vec<Option<Tensor>> {
        let (x, gamma) = (inputs[0], inputs[1]);
        let s = x.shape();
        let (n, c) = (s[0], s[1]);
        let hw: usize = s[2..].iter().product();
        let count = (n * hw) as f64;
        let (xd, gd) = (x.data(), g.data());
        // Per channel: sum(g) and sum(g * xhat), in f64.
        let mut plane = vec![(0.0f64, 0.0f64); n * c];
        kernels::batch_norm_grad_sums(xd, gd, hw, c, &self.mean, &self.invstd, &mut plane);
        let mut sum_g = vec![0.0f64; c];
        let mut sum_gx = vec![0.0f64; c];
        for (p, &(sg, sgx)) in plane.iter().enumerate() {
            sum_g[p % c] += sg;
            sum_gx[p % c] += sgx;
        }
        let gx = needs[0].then(|| {
            let k1: Vec<f32> = gamma.data().iter().zip(&self.invstd).map(|(&ga, &is)| ga * is).collect();
            // d/dx of gamma * xhat with batch statistics:
            // gamma * invstd * (g - mean(g) - xhat * mean(g * xhat)).
            let centre: Option<(Vec<f32>, Vec<f32>)> = self.train.then(|| {
                let mean_g = sum_g.iter().map(|&v| (v / count) as f32).collect();
                let k2 = sum_gx.iter().zip(&self.invstd).map(|(&v, &is)| is * (v / count) as f32).collect();
                (mean_g, k2)
            });
            let mut out = crate::pool::overwritten(xd.len());
            let centre = centre.as_ref().map(|(a, b)| (&a[..], &b[..]));
            kernels::batch_norm_backward_input(xd, gd, hw, c, &self.mean, &k1, centre, &mut out);
            tensor(s, out)
        });
        let ggamma = needs[1].then(|| tensor(&[c], sum_gx.iter().map(|&v| v as f32).collect()));
        let gbeta = needs[2].then(|| tensor(&[c], sum_g.iter().map(|&v| v as f32).collect()));
        vec![gx, ggamma, gbeta]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{randn, uniform};
    use crate::ops::test_util::{check, t};
    use crate::Rng;
    use approx::assert_relative_eq;

    const TOL: f32 = 1e-5;

    #[test]
    fn train_normalises_and_returns_unbiased_stats() {
        let mut tape = Tape::new();
        // Two channels, batch of 2, 1x2 images: channel 0 holds 1,2,3,4.
        let x = tape.constant(t(&[2, 2, 1, 2], &[1.0, 2.0, 10.0, 10.0, 3.0, 4.0, 20.0, 20.0]));
        let gamma = tape.constant(t(&[2], &[2.0, 1.0]));
        let beta = tape.constant(t(&[2], &[0.5, 0.0]));
        let (y, stats) = batch_norm(&mut tape, x, gamma, beta, BatchNormMode::Train { momentum: 0.1 }, 0.0);
        let stats = stats.unwrap();
        assert_relative_eq!(stats.mean[0], 2.5, max_relative = TOL);
        assert_relative_eq!(stats.mean[1], 15.0, max_relative = TOL);
        assert_relative_eq!(stats.var_unbiased[0], 5.0 / 3.0, max_relative = TOL);
        assert_relative_eq!(stats.var_unbiased[1], 100.0 / 3.0, max_relative = TOL);
        let y = tape.value(y).data();
        let sd0 = 1.25f32.sqrt();
        assert_relative_eq!(y[0], 2.0 * (1.0 - 2.5) / sd0 + 0.5, max_relative = TOL);
        assert_relative_eq!(y[2], -1.0, max_relative = TOL);
        assert_relative_eq!(y[7], 1.0, max_relative = TOL);
    }

    #[test]
    fn fold_into_uses_momentum() {
        let s = BatchStats { mean: vec![1.0], var_unbiased: vec![3.0] };
        let (mut m, mut v) = ([0.0], [1.0]);
        s.fold_into(&mut m, &mut v, 0.1);
        assert_relative_eq!(m[0], 0.1, max_relative = TOL);
        assert_relative_eq!(v[0], 1.2, max_relative = TOL);
    }

    #[test]
    fn gradcheck_batch_norm_train_2d_and_4d() {
        let mut r = Rng::new(21);
        let train = BatchNormMode::Train { momentum: 0.1 };
        let f = |t: &mut Tape<'_>, v: &[Var]| batch_norm(t, v[0], v[1], v[2], train, 1e-5).0;
        check(f, &[randn(&[5, 3], &mut r), uniform(&[3], 0.5, 1.5, &mut r), randn(&[3], &mut r)]);
        check(f, &[randn(&[2, 3, 2, 3], &mut r), uniform(&[3], 0.5, 1.5, &mut r), randn(&[3], &mut r)]);
    }

    #[test]
    fn gradcheck_batch_norm_eval_2d_and_4d() {
        let mut r = Rng::new(22);
        let (rm, rv) = (vec![0.3, -0.2, 0.1], vec![0.5, 2.0, 1.0]);
        let f = |t: &mut Tape<'_>, v: &[Var]| {
            let mode = BatchNormMode::Eval { running_mean: &rm, running_var: &rv };
            batch_norm(t, v[0], v[1], v[2], mode, 1e-5).0
        };
        check(f, &[randn(&[4, 3], &mut r), uniform(&[3], 0.5, 1.5, &mut r), randn(&[3], &mut r)]);
        check(f, &[randn(&[2, 3, 3, 2], &mut r), uniform(&[3], 0.5, 1.5, &mut r), randn(&[3], &mut r)]);
    }

    #[test]
    #[should_panic(expected = "batch_norm: gamma [2] and beta [3] must be [3] for input [4, 3]")]
    fn wrong_gamma_shape_panics() {
        let mut tape = Tape::new();
        let x = tape.constant(Tensor::zeros(&[4, 3]));
        let g = tape.constant(Tensor::zeros(&[2]));
        let b = tape.constant(Tensor::zeros(&[3]));
        batch_norm(&mut tape, x, g, b, BatchNormMode::Train { momentum: 0.1 }, 1e-5);
    }
}

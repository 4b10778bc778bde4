//! End-to-end throughput of a zoo model: a training step (forward, backward,
//! Adam update), inference, and an activation-maximisation step (gradient with
//! respect to the input, weights frozen). What `eeglens bench` reports and the
//! root criterion bench times; the step functions are public so both share them.

use std::time::Instant;

use eeglens_autodiff::{ops, Rng, Tape, Tensor};
use serde::Serialize;

use crate::error::NnError;
use crate::layers::Mode;
use crate::models::{build, ModelSpec};
use crate::optim::{Optimizer, OptimizerConfig};
use crate::sequential::Sequential;

/// What to measure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BenchConfig {
    /// zoo model name
    pub model: String,
    /// input size
    pub n_channels: usize,
    /// input size
    pub n_samples: usize,
    /// training batch (the paper's 40)
    pub train_batch: usize,
    /// inference batch
    pub infer_batch: usize,
    /// timed repetitions of each measurement (the median is reported)
    pub reps: usize,
    /// untimed repetitions first
    pub warmup: usize,
    /// rayon threads (`None`: rayon's default, one per core)
    pub threads: Option<usize>,
    /// activation-maximisation restarts batched into one step
    pub actmax_restarts: usize,
}

impl Default for BenchConfig {
    fn default() -> Self {
        Self {
            model: "rvgg".into(),
            n_channels: 24,
            n_samples: 256,
            train_batch: 40,
            infer_batch: 256,
            reps: 7,
            warmup: 2,
            threads: None,
            actmax_restarts: 16,
        }
    }
}

/// Medians over the timed repetitions.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BenchReport {
    /// model name
    pub model: String,
    /// training samples per second (forward + backward + Adam step)
    pub train_samples_per_s: f64,
    /// inference samples per second (eval mode)
    pub infer_samples_per_s: f64,
    /// activation-maximisation steps per second (batch 1)
    pub actmax_steps_per_s: f64,
    /// activation-maximisation restart-steps per second with `actmax_restarts`
    /// restarts batched into one forward/backward
    pub actmax_restart_steps_per_s: f64,
    /// restarts per batched activation-maximisation step
    pub actmax_restarts: usize,
    /// training batch
    pub train_batch: usize,
    /// inference batch
    pub infer_batch: usize,
    /// rayon threads used
    pub threads: usize,
    /// the CPU, from `/proc/cpuinfo` where available
    pub cpu_model: String,
    /// timed repetitions per measurement
    pub reps: usize,
    /// the 1-minute load average before and after the run (`/proc/loadavg`),
    /// to tell a busy machine's numbers from an idle one's
    pub load_average: Option<(f64, f64)>,
}

/// A batch of standard-normal noise `[n, 1, n_channels, n_samples]` and alternating labels.
pub fn noise_batch(n: usize, n_channels: usize, n_samples: usize, seed: u64) -> (Tensor, Vec<usize>) {
    let mut rng = Rng::new(seed);
    let len = n * n_channels * n_samples;
    let data = (0..len).map(|_| rng.normal() as f32).collect();
    let x =
        Tensor::from_vec(&[n, 1, n_channels, n_samples], data).expect("length is the product of the shape");
    (x, (0..n).map(|i| i % 2).collect())
}

/// One training step: train-mode forward, cross-entropy, backward, optimiser
/// update (and batch-norm statistics). Returns the loss.
///
/// # Errors
/// [`NnError::InputShape`].
pub fn train_step(
    model: &mut Sequential,
    opt: &mut Optimizer,
    x: &Tensor,
    labels: &[usize],
    rng: &mut Rng,
) -> Result<f32, NnError> {
    let (loss, grads, stats) = {
        let mut tape = Tape::new();
        let params = model.bind(&mut tape, true);
        let xv = tape.constant(x.clone());
        let out = model.forward(&mut tape, &params, xv, Mode::Train, rng)?;
        let loss = ops::cross_entropy(&mut tape, out.output, labels, None);
        let mut g = tape.backward(loss);
        let grads: Vec<Option<Tensor>> = params.vars().iter().map(|v| g.take(*v)).collect();
        (tape.value(loss).item(), grads, out.batch_stats)
    };
    let grads: Vec<Option<&Tensor>> = grads.iter().map(|g| g.as_ref()).collect();
    opt.step(&mut model.params_mut(), &grads);
    model.apply_batch_stats(&stats);
    Ok(loss)
}

/// One activation-maximisation step: the gradient of logit `class` with
/// respect to `x` (weights frozen, eval mode), then `x += lr * grad`.
///
/// # Errors
/// [`NnError::InputShape`].
pub fn actmax_step(model: &Sequential, x: &mut Tensor, class: usize, lr: f32) -> Result<f32, NnError> {
    let (value, grad) = {
        let mut tape = Tape::new();
        let params = model.bind(&mut tape, false);
        let xv = tape.input_with_grad(x.clone());
        let out = model.forward(&mut tape, &params, xv, Mode::Eval, &mut Rng::new(0))?;
        let shape = tape.shape(out.output).to_vec();
        let mut onehot = Tensor::zeros(&shape);
        let n_classes = shape[1];
        for row in 0..shape[0] {
            onehot.data_mut()[row * n_classes + class] = 1.0;
        }
        let mask = tape.constant(onehot);
        let picked = ops::mul(&mut tape, out.output, mask);
        let target = ops::sum(&mut tape, picked);
        let mut g = tape.backward(target);
        (tape.value(target).item(), g.take(xv))
    };
    if let Some(g) = grad {
        for (v, d) in x.data_mut().iter_mut().zip(g.data()) {
            *v += lr * d;
        }
    }
    Ok(value)
}

fn median_secs(
    reps: usize,
    warmup: usize,
    mut f: impl FnMut() -> Result<(), NnError>,
) -> Result<f64, NnError> {
    for _ in 0..warmup {
        f()?;
    }
    let mut t = Vec::with_capacity(reps.max(1));
    for _ in 0..reps.max(1) {
        let start = Instant::now();
        f()?;
        t.push(start.elapsed().as_secs_f64());
    }
    t.sort_by(f64::total_cmp);
    Ok(t[t.len() / 2])
}

/// The CPU's model name (`/proc/cpuinfo`), or `"unknown"`.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// The 1-minute load average, where `/proc/loadavg` exists.
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg").ok()?.split_whitespace().next()?.parse().ok()
}

/// Measures the three throughputs of `cfg.model`.
///
/// # Errors
/// [`NnError::UnknownModel`], [`NnError::LayerShape`]; [`NnError::Config`]
/// when the thread pool cannot be built.
pub fn run(cfg: &BenchConfig) -> Result<BenchReport, NnError> {
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(n) = cfg.threads {
        builder = builder.num_threads(n);
    }
    let pool = builder.build().map_err(|e| NnError::Config { kind: "thread pool", msg: e.to_string() })?;
    let threads = pool.current_num_threads();
    let load_before = load_average();
    pool.install(|| {
        let spec = ModelSpec { n_channels: cfg.n_channels, n_samples: cfg.n_samples, n_classes: 2 };
        let mut rng = Rng::new(0);
        let mut model = build(&cfg.model, &spec, &mut rng)?;
        let mut opt = Optimizer::new(OptimizerConfig::adam(5e-4));
        let (xt, yt) = noise_batch(cfg.train_batch, cfg.n_channels, cfg.n_samples, 1);
        let train = median_secs(cfg.reps, cfg.warmup, || {
            train_step(&mut model, &mut opt, &xt, &yt, &mut rng).map(drop)
        })?;
        let (xi, _) = noise_batch(cfg.infer_batch, cfg.n_channels, cfg.n_samples, 2);
        let infer = median_secs(cfg.reps, cfg.warmup, || model.predict(&xi).map(drop))?;
        let (mut xa, _) = noise_batch(1, cfg.n_channels, cfg.n_samples, 3);
        let actmax_reps = cfg.reps * 5;
        let act =
            median_secs(actmax_reps, cfg.warmup * 5, || actmax_step(&model, &mut xa, 0, 0.1).map(drop))?;
        let restarts = cfg.actmax_restarts.max(1);
        let (mut xr, _) = noise_batch(restarts, cfg.n_channels, cfg.n_samples, 4);
        let act_batched =
            median_secs(actmax_reps, cfg.warmup * 5, || actmax_step(&model, &mut xr, 0, 0.1).map(drop))?;
        Ok(BenchReport {
            model: cfg.model.clone(),
            train_samples_per_s: cfg.train_batch as f64 / train,
            infer_samples_per_s: cfg.infer_batch as f64 / infer,
            actmax_steps_per_s: 1.0 / act,
            actmax_restart_steps_per_s: restarts as f64 / act_batched,
            actmax_restarts: restarts,
            train_batch: cfg.train_batch,
            infer_batch: cfg.infer_batch,
            threads,
            cpu_model: cpu_model(),
            reps: cfg.reps,
            load_average: load_before.zip(load_average()),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiny_bench_runs_and_steps_learn() {
        let cfg = BenchConfig {
            n_channels: 8,
            n_samples: 16,
            train_batch: 4,
            infer_batch: 4,
            reps: 1,
            warmup: 0,
            threads: Some(1),
            ..BenchConfig::default()
        };
        let r = run(&cfg).expect("bench runs");
        assert!(r.train_samples_per_s > 0.0 && r.infer_samples_per_s > 0.0 && r.actmax_steps_per_s > 0.0);
        assert!(r.actmax_restart_steps_per_s > 0.0 && r.actmax_restarts == 16);
        assert_eq!(r.threads, 1);
        // Activation maximisation raises the chosen logit.
        let model =
            build("rvgg", &ModelSpec { n_channels: 8, n_samples: 16, n_classes: 2 }, &mut Rng::new(0))
                .expect("model");
        let (mut x, _) = noise_batch(1, 8, 16, 9);
        let first = actmax_step(&model, &mut x, 1, 0.5).expect("step");
        let mut last = first;
        for _ in 0..5 {
            last = actmax_step(&model, &mut x, 1, 0.5).expect("step");
        }
        assert!(last > first, "logit did not rise: {first} -> {last}");
    }
}

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

/// Forward and backward wall time of one layer in a training step.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerTime {
    /// the layer's name (`features.0`, `classifier.6`, ...)
    pub layer: String,
    /// the ops recorded for it, in order (`conv2d`, `relu`, ...)
    pub ops: Vec<String>,
    /// its output shape, batch first
    pub shape: Vec<usize>,
    /// forward, milliseconds per step (mean over the timed steps)
    pub forward_ms: f64,
    /// backward, milliseconds per step
    pub backward_ms: f64,
}

/// One convolution kernel timed alone on a layer's own data.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KernelTime {
    /// the layer's name
    pub layer: String,
    /// `forward`, `backward_input` or `backward_weight`
    pub kernel: String,
    /// milliseconds per call (median)
    pub ms: f64,
    /// multiply-adds x 2 per second, in units of 10^9
    pub gflop_per_s: f64,
}

/// Where a training step's time goes: per layer from the tape's own clock
/// ([`Tape::profile`], [`eeglens_autodiff::Gradients::backward_time`]), the
/// optimiser, the leaves (binding the parameters, copying the batch in), the
/// loss, and each convolution's three kernels timed alone.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StepProfile {
    /// model name
    pub model: String,
    /// training batch
    pub batch: usize,
    /// rayon threads
    pub threads: usize,
    /// timed steps (after the warm-up ones)
    pub reps: usize,
    /// a whole step, milliseconds (mean)
    pub step_ms: f64,
    /// recording the leaves: parameters bound, the batch copied onto the tape
    pub leaves_ms: f64,
    /// one row per layer, in order
    pub layers: Vec<LayerTime>,
    /// cross-entropy forward
    pub loss_forward_ms: f64,
    /// cross-entropy backward
    pub loss_backward_ms: f64,
    /// the optimiser update (Adam), all parameters
    pub optimizer_ms: f64,
    /// what the clocks above do not cover (tape set-up and teardown, taking the
    /// gradients out, freeing memory)
    pub other_ms: f64,
    /// minor page faults per step (first touches of fresh memory), from
    /// `/proc/self/stat`; `None` where that file does not exist
    pub page_faults_per_step: Option<f64>,
    /// each convolution's kernels timed alone on the layer's data
    pub kernels: Vec<KernelTime>,
}

/// Minor page faults of this process so far (`/proc/self/stat`, field 10).
pub fn minor_faults() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may hold spaces; the fields after its ')' start at field 3.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(7)?.parse().ok()
}

/// Profiles training steps of `cfg.model` at batch `cfg.train_batch`
/// (`cfg.warmup` untimed steps, then `cfg.reps` timed ones).
///
/// # Errors
/// As [`run`].
pub fn profile(cfg: &BenchConfig) -> Result<StepProfile, NnError> {
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(n) = cfg.threads {
        builder = builder.num_threads(n);
    }
    let pool = builder.build().map_err(|e| NnError::Config { kind: "thread pool", msg: e.to_string() })?;
    let threads = pool.current_num_threads();
    pool.install(|| {
        let spec = ModelSpec { n_channels: cfg.n_channels, n_samples: cfg.n_samples, n_classes: 2 };
        let mut rng = Rng::new(0);
        let mut model = build(&cfg.model, &spec, &mut rng)?;
        let mut opt = Optimizer::new(OptimizerConfig::adam(5e-4));
        let (x, labels) = noise_batch(cfg.train_batch, cfg.n_channels, cfg.n_samples, 1);
        for _ in 0..cfg.warmup {
            train_step(&mut model, &mut opt, &x, &labels, &mut rng)?;
        }
        let n_layers = model.layers().len();
        let (mut fwd, mut bwd) = (vec![0.0f64; n_layers], vec![0.0f64; n_layers]);
        let mut ops: Vec<Vec<String>> = vec![Vec::new(); n_layers];
        let mut shapes: Vec<Vec<usize>> = vec![Vec::new(); n_layers];
        let (mut leaves, mut loss_f, mut loss_b, mut optim, mut total) = (0.0, 0.0, 0.0, 0.0, 0.0);
        let mut conv_inputs: Vec<Option<Tensor>> = vec![None; n_layers];
        let reps = cfg.reps.max(1);
        let faults_before = minor_faults();
        for rep in 0..reps {
            let start = Instant::now();
            let (grads, stats) = {
                let mut tape = Tape::new();
                let params = model.bind(&mut tape, true);
                let xv = tape.constant(x.clone());
                let trace = model.forward_traced(&mut tape, &params, xv, Mode::Train, &mut rng)?;
                let loss = ops::cross_entropy(&mut tape, trace.output, &labels, None);
                let mut g = tape.backward(loss);
                // Which layer each node belongs to: layer i recorded the nodes
                // after layer i - 1's output, up to its own.
                let mut layer_of = vec![None; tape.len()];
                let mut lo = xv.index() + 1;
                for (i, out) in trace.outputs.iter().enumerate() {
                    for slot in &mut layer_of[lo..=out.index()] {
                        *slot = Some(i);
                    }
                    lo = out.index() + 1;
                }
                for node in tape.profile() {
                    let (f, b) =
                        (node.forward.as_secs_f64() * 1e3, g.backward_time(node.var).as_secs_f64() * 1e3);
                    match (node.op, layer_of[node.var.index()]) {
                        (None, _) => leaves += f,
                        (Some(op), Some(i)) => {
                            fwd[i] += f;
                            bwd[i] += b;
                            if rep == 0 {
                                ops[i].push(op.to_string());
                                shapes[i].clone_from(&node.shape);
                            }
                        }
                        (Some(_), None) => {
                            loss_f += f;
                            loss_b += b;
                        }
                    }
                }
                if rep == 0 {
                    for (i, (_, layer)) in model.layers().iter().enumerate() {
                        if matches!(layer, crate::layers::Layer::Conv2d(_)) {
                            let input = if i == 0 { xv } else { trace.outputs[i - 1] };
                            conv_inputs[i] = Some(tape.value(input).clone());
                        }
                    }
                }
                let grads: Vec<Option<Tensor>> = params.vars().iter().map(|v| g.take(*v)).collect();
                (grads, trace.batch_stats)
            };
            let t_opt = Instant::now();
            let grads: Vec<Option<&Tensor>> = grads.iter().map(|g| g.as_ref()).collect();
            opt.step(&mut model.params_mut(), &grads);
            model.apply_batch_stats(&stats);
            optim += t_opt.elapsed().as_secs_f64() * 1e3;
            total += start.elapsed().as_secs_f64() * 1e3;
        }
        let faults = faults_before.zip(minor_faults()).map(|(a, b)| (b - a) as f64 / reps as f64);
        let r = reps as f64;
        let layers: Vec<LayerTime> = model
            .layers()
            .iter()
            .enumerate()
            .map(|(i, (name, _))| LayerTime {
                layer: name.clone(),
                ops: ops[i].clone(),
                shape: shapes[i].clone(),
                forward_ms: fwd[i] / r,
                backward_ms: bwd[i] / r,
            })
            .collect();
        let covered = leaves + loss_f + loss_b + optim + fwd.iter().sum::<f64>() + bwd.iter().sum::<f64>();
        let kernels = conv_kernel_times(&model, &conv_inputs, cfg.reps.max(3));
        Ok(StepProfile {
            model: cfg.model.clone(),
            batch: cfg.train_batch,
            threads,
            reps,
            step_ms: total / r,
            leaves_ms: leaves / r,
            layers,
            loss_forward_ms: loss_f / r,
            loss_backward_ms: loss_b / r,
            optimizer_ms: optim / r,
            other_ms: (total - covered) / r,
            page_faults_per_step: faults,
            kernels,
        })
    })
}

/// Times each convolution's forward, backward-input and backward-weight
/// kernels alone on the layer's recorded input (median of `reps` calls).
fn conv_kernel_times(model: &Sequential, inputs: &[Option<Tensor>], reps: usize) -> Vec<KernelTime> {
    use eeglens_autodiff::kernels::{self, Conv2dGeom};
    let mut out = Vec::new();
    for ((name, layer), x) in model.layers().iter().zip(inputs) {
        let (crate::layers::Layer::Conv2d(conv), Some(x)) = (layer, x) else { continue };
        let (c, xs) = (&conv.cfg, x.shape());
        let g = Conv2dGeom {
            n: xs[0],
            c_in: xs[1],
            h: xs[2],
            w: xs[3],
            c_out: c.c_out,
            k_h: c.kernel.0,
            k_w: c.kernel.1,
            stride_h: c.stride.0,
            stride_w: c.stride.1,
            pad_h: c.padding.0,
            pad_w: c.padding.1,
            groups: c.groups,
        };
        let flop = 2.0 * (g.y_len() * g.k_h * g.k_w * g.c_in / g.groups) as f64;
        let mut scratch = vec![0.0f32; g.scratch_len()];
        let mut y = vec![0.0f32; g.y_len()];
        let mut gx = vec![0.0f32; g.x_len()];
        let mut gw = vec![0.0f32; g.w_len()];
        let mut gb = vec![0.0f32; g.c_out];
        let (w, b) = (conv.weight.data(), conv.bias.as_ref().map(|b| b.data()));
        let mut time = |kernel: &str, f: &mut dyn FnMut()| {
            f();
            let mut t: Vec<f64> = (0..reps)
                .map(|_| {
                    let s = Instant::now();
                    f();
                    s.elapsed().as_secs_f64()
                })
                .collect();
            t.sort_by(f64::total_cmp);
            let secs = t[t.len() / 2];
            out.push(KernelTime {
                layer: name.clone(),
                kernel: kernel.into(),
                ms: secs * 1e3,
                gflop_per_s: flop / secs / 1e9,
            });
        };
        time("forward", &mut || kernels::conv2d_forward(&g, x.data(), w, b, &mut y, &mut scratch));
        let gy = y.clone();
        time("backward_input", &mut || kernels::conv2d_backward_input(&g, &gy, w, &mut gx, &mut scratch));
        time("backward_weight", &mut || {
            kernels::conv2d_backward_weight(&g, x.data(), &gy, &mut gw, Some(&mut gb), &mut scratch)
        });
    }
    out
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
        // A step takes milliseconds: many more repetitions for a stable median.
        let actmax_reps = cfg.reps * 20;
        let act =
            median_secs(actmax_reps, cfg.warmup * 10, || actmax_step(&model, &mut xa, 0, 0.1).map(drop))?;
        let restarts = cfg.actmax_restarts.max(1);
        let (mut xr, _) = noise_batch(restarts, cfg.n_channels, cfg.n_samples, 4);
        let act_batched =
            median_secs(actmax_reps, cfg.warmup * 10, || actmax_step(&model, &mut xr, 0, 0.1).map(drop))?;
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

    #[test]
    fn the_profile_accounts_for_every_layer_and_its_convolutions() {
        let cfg = BenchConfig {
            n_channels: 8,
            n_samples: 16,
            train_batch: 4,
            reps: 2,
            warmup: 1,
            threads: Some(1),
            ..BenchConfig::default()
        };
        let p = profile(&cfg).expect("profile runs");
        let model =
            build("rvgg", &ModelSpec { n_channels: 8, n_samples: 16, n_classes: 2 }, &mut Rng::new(0))
                .expect("model");
        let names: Vec<&str> = model.layers().iter().map(|(n, _)| n.as_str()).collect();
        let got: Vec<&str> = p.layers.iter().map(|l| l.layer.as_str()).collect();
        assert_eq!(got, names);
        assert_eq!(p.layers[0].ops, ["conv2d"]);
        assert_eq!(p.layers[0].shape, [4, 16, 8, 16]);
        assert_eq!(p.layers[1].ops, ["relu"]);
        // Seven convolutions, three kernels each.
        assert_eq!(p.kernels.len(), 21);
        assert!(p.kernels.iter().all(|k| k.ms > 0.0 && k.gflop_per_s > 0.0));
        let parts = p.leaves_ms
            + p.loss_forward_ms
            + p.loss_backward_ms
            + p.optimizer_ms
            + p.other_ms
            + p.layers.iter().map(|l| l.forward_ms + l.backward_ms).sum::<f64>();
        assert!((parts - p.step_ms).abs() < 1e-6 * p.step_ms.max(1.0), "{parts} vs {}", p.step_ms);
        assert!(p.layers.iter().all(|l| l.forward_ms >= 0.0 && l.backward_ms >= 0.0));
    }
}

//! Measurements of a zoo model that need nothing above this crate: inference
//! throughput, and a training step broken down per layer (the profile behind
//! `eeglens bench --profile`), with each convolution's kernels timed alone.
//!
//! The throughputs of a whole training step and of an activation-maximisation
//! step are measured where those steps live: `eeglens bench` and the
//! criterion benches time `eeglens_train::train::train_step` and
//! `eeglens_interpret::actmax::maximise` themselves, the code `eeglens train`
//! and `eeglens interpret` run. This crate sits below both and cannot call
//! them. Nothing here reads the machine (CPU model, load, page-fault
//! counters): the caller passes in what it wants recorded.

use std::time::Instant;

use eeglens_autodiff::{ops, Rng, Tape, Tensor};
use serde::Serialize;

use crate::error::NnError;
use crate::layers::Mode;
use crate::models::{build, ModelSpec};
use crate::optim::{Optimizer, OptimizerConfig};
use crate::predictor::Predictor;
use crate::sequential::Sequential;
use eeglens_autodiff::kernels::Precision;

/// What [`profile`] measures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileConfig {
    /// zoo model name
    pub model: String,
    /// input size
    pub n_channels: usize,
    /// input size
    pub n_samples: usize,
    /// training batch (the paper's 40)
    pub batch: usize,
    /// timed steps (their mean is reported)
    pub reps: usize,
    /// untimed steps first
    pub warmup: usize,
    /// rayon threads (`None`: rayon's default, one per core)
    pub threads: Option<usize>,
}

impl Default for ProfileConfig {
    fn default() -> Self {
        Self {
            model: "rvgg".into(),
            n_channels: 24,
            n_samples: 256,
            batch: 40,
            reps: 7,
            warmup: 2,
            threads: None,
        }
    }
}

/// A rayon pool of `threads` threads (`None`: one per core), for measuring
/// at a chosen thread count.
///
/// # Errors
/// [`NnError::Config`] when the pool cannot be built.
pub fn thread_pool(threads: Option<usize>) -> Result<rayon::ThreadPool, NnError> {
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        builder = builder.num_threads(n);
    }
    builder.build().map_err(|e| NnError::Config { kind: "thread pool", msg: e.to_string() })
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

/// The median wall time of `f`, in seconds, over `reps` timed calls (at
/// least one) after `warmup` untimed ones.
///
/// # Errors
/// The first error of `f`.
pub fn median_secs<E>(reps: usize, warmup: usize, mut f: impl FnMut() -> Result<(), E>) -> Result<f64, E> {
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

/// Inference samples per second: [`Sequential::predict`] (eval mode, one
/// layer per tape) on `batch` windows of standard-normal noise, the median
/// of `reps` calls after `warmup`. Runs on the calling thread's rayon pool.
///
/// # Errors
/// [`NnError::InputShape`] for `batch` 0.
pub fn infer_samples_per_s(
    model: &Sequential,
    batch: usize,
    reps: usize,
    warmup: usize,
) -> Result<f64, NnError> {
    Ok(infer_samples_per_s_at(model, &[Precision::Fp32], batch, reps, warmup)?[0])
}

/// Inference samples per second in each of `precisions`, measured in one
/// run: a [`Predictor`] per precision (weights prepared before timing), the
/// same `batch` windows of standard-normal noise, and the repetitions
/// interleaved (`warmup` untimed rounds, then `reps` rounds of one call per
/// precision, in order), so that a change in the machine's load falls on
/// every precision alike; the median of each precision's calls. A precision
/// the CPU cannot run is measured as the fallback it runs
/// ([`Predictor::precision`]).
///
/// # Errors
/// [`NnError::InputShape`] for `batch` 0.
pub fn infer_samples_per_s_at(
    model: &Sequential,
    precisions: &[Precision],
    batch: usize,
    reps: usize,
    warmup: usize,
) -> Result<Vec<f64>, NnError> {
    let mut shape = vec![batch];
    shape.extend_from_slice(model.input_shape());
    let mut rng = Rng::new(2);
    let data = (0..shape.iter().product()).map(|_| rng.normal() as f32).collect();
    let x = Tensor::from_vec(&shape, data).expect("length is the product of the shape");
    let predictors: Vec<Predictor> = precisions.iter().map(|&p| Predictor::new(model, p)).collect();
    let mut secs = vec![Vec::with_capacity(reps); predictors.len()];
    for round in 0..warmup + reps.max(1) {
        for (p, t) in predictors.iter().zip(&mut secs) {
            let start = Instant::now();
            p.predict(&x)?;
            if round >= warmup {
                t.push(start.elapsed().as_secs_f64());
            }
        }
    }
    Ok(secs
        .into_iter()
        .map(|mut t| {
            t.sort_by(f64::total_cmp);
            batch as f64 / t[t.len() / 2]
        })
        .collect())
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
    /// minor page faults per step (first touches of fresh memory), from the
    /// caller's counter; `None` where it has none
    pub page_faults_per_step: Option<f64>,
    /// each convolution's kernels timed alone on the layer's data
    pub kernels: Vec<KernelTime>,
}

/// Profiles training steps of `cfg.model` at batch `cfg.batch`
/// (`cfg.warmup` untimed steps, then `cfg.reps` timed ones) on noise.
///
/// The step is the training step of `eeglens_train::train::train_step`
/// (train-mode forward, cross-entropy, backward, Adam update, batch-norm
/// statistics) taken apart so that every node of the tape can be charged to
/// its layer: it runs [`Sequential::forward_traced`], which keeps each
/// layer's output, so a convolution and its ReLU are two ops here where the
/// real step fuses them, and max-pools record their switches. Its total is
/// therefore a little above the real step's; `eeglens bench` without
/// `--profile` times the real one.
///
/// `minor_faults` counts the process's minor page faults so far (`None`
/// where the platform has no such counter); it is read before and after the
/// timed steps.
///
/// # Errors
/// [`NnError::UnknownModel`], [`NnError::LayerShape`]; [`NnError::Config`]
/// when the thread pool cannot be built.
pub fn profile(
    cfg: &ProfileConfig,
    minor_faults: &(dyn Fn() -> Option<u64> + Sync),
) -> Result<StepProfile, NnError> {
    let pool = thread_pool(cfg.threads)?;
    let threads = pool.current_num_threads();
    pool.install(|| {
        let spec = ModelSpec { n_channels: cfg.n_channels, n_samples: cfg.n_samples, n_classes: 2 };
        let mut rng = Rng::new(0);
        let mut model = build(&cfg.model, &spec, &mut rng)?;
        let mut opt = Optimizer::new(OptimizerConfig::adam(5e-4));
        let (x, labels) = noise_batch(cfg.batch, cfg.n_channels, cfg.n_samples, 1);
        for _ in 0..cfg.warmup {
            profiled_step(&mut model, &mut opt, &x, &labels, &mut rng)?;
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
            batch: cfg.batch,
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

/// The untimed warm-up step of [`profile`]: the same operations as its timed steps.
fn profiled_step(
    model: &mut Sequential,
    opt: &mut Optimizer,
    x: &Tensor,
    labels: &[usize],
    rng: &mut Rng,
) -> Result<(), NnError> {
    let (grads, stats) = {
        let mut tape = Tape::new();
        let params = model.bind(&mut tape, true);
        let xv = tape.constant(x.clone());
        let trace = model.forward_traced(&mut tape, &params, xv, Mode::Train, rng)?;
        let loss = ops::cross_entropy(&mut tape, trace.output, labels, None);
        let mut g = tape.backward(loss);
        let grads: Vec<Option<Tensor>> = params.vars().iter().map(|v| g.take(*v)).collect();
        (grads, trace.batch_stats)
    };
    let grads: Vec<Option<&Tensor>> = grads.iter().map(|g| g.as_ref()).collect();
    opt.step(&mut model.params_mut(), &grads);
    model.apply_batch_stats(&stats);
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inference_and_the_median_are_timed() {
        let spec = ModelSpec { n_channels: 8, n_samples: 16, n_classes: 2 };
        let model = build("rvgg", &spec, &mut Rng::new(0)).expect("model");
        let pool = thread_pool(Some(1)).expect("pool");
        assert_eq!(pool.current_num_threads(), 1);
        let r = pool.install(|| infer_samples_per_s(&model, 4, 1, 0)).expect("inference runs");
        assert!(r.is_finite() && r > 0.0, "{r}");
        let mut calls = 0;
        let m = median_secs::<NnError>(3, 2, || {
            calls += 1;
            Ok(())
        })
        .expect("no error");
        assert!(m >= 0.0 && calls == 5);
    }

    #[test]
    fn the_profile_accounts_for_every_layer_and_its_convolutions() {
        let cfg = ProfileConfig {
            n_channels: 8,
            n_samples: 16,
            batch: 4,
            reps: 2,
            warmup: 1,
            threads: Some(1),
            ..ProfileConfig::default()
        };
        let counter = std::sync::atomic::AtomicU64::new(10);
        let p = profile(&cfg, &|| Some(counter.fetch_add(6, std::sync::atomic::Ordering::SeqCst)))
            .expect("profile runs");
        // Read once before and once after the two timed steps.
        assert_eq!(p.page_faults_per_step, Some(3.0));
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
        assert!(profile(&cfg, &|| None).expect("profile runs").page_faults_per_step.is_none());
    }
}

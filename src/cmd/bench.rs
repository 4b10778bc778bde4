//! `eeglens bench [--json] [--model rvgg] [--batch 40] [--threads N] [--precision fp32|bf16]`:
//! training, inference and activation-maximisation throughput; with `--precision
//! bf16`, inference in bf16 beside fp32, measured in the same run.
//!
//! Each figure times the code the other subcommands run: a training step is
//! `eeglens_train::train::train_step` with `eeglens train`'s default
//! optimiser, inference is `Sequential::predict` (through
//! `eeglens_nn::bench`), and an activation-maximisation step is one step of
//! `eeglens_interpret::actmax::maximise`, timed between its per-step
//! callbacks so that its set-up is left out. What the machine was (CPU, load,
//! page faults) is read here, in [`machine`], not by the libraries.

mod machine;

use std::time::Instant;

use anyhow::Context;
use eeglens_autodiff::Rng;
use eeglens_interpret::actmax::{maximise, ActmaxProblem, DataStats, Target};
use eeglens_interpret::{ActmaxConfig, InterpretConfig, Parameterisation};
use eeglens_nn::bench::{
    infer_samples_per_s_at, noise_batch, profile, thread_pool, ProfileConfig, StepProfile,
};
use eeglens_nn::models::{build, ModelSpec};
use eeglens_nn::{Optimizer, Precision, Sequential};
use eeglens_train::train::train_step;
use eeglens_train::TrainConfig;
use serde::Serialize;

/// Window size of the measurements: the paper's 24 channels x 2 s at 128 Hz.
const SPEC: ModelSpec = ModelSpec { n_channels: 24, n_samples: 256, n_classes: 2 };
/// Sampling rate of the windows, Hz (the spectral parameterisations need one).
const FS: f64 = 128.0;
/// Untimed repetitions before each measurement.
const WARMUP: usize = 2;

/// Flags of `eeglens bench`.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
    /// Zoo model.
    #[arg(long, value_parser = super::choice::zoo_model(), default_value = "rvgg")]
    pub model: String,
    /// Training batch size.
    #[arg(long, default_value_t = 40)]
    pub batch: usize,
    /// Inference batch size.
    #[arg(long, default_value_t = 256)]
    pub infer_batch: usize,
    /// Worker threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Timed repetitions per measurement (the median is reported).
    #[arg(long, default_value_t = 7)]
    pub reps: usize,
    /// Instead of the throughputs, profile a training step: time per layer
    /// (forward, backward), optimiser, page faults, and each convolution's
    /// kernels timed alone.
    #[arg(long)]
    pub profile: bool,
    /// Activation-maximisation restarts batched into one step.
    #[arg(long, default_value_t = 16)]
    pub restarts: usize,
    /// bf16: also time inference in bf16, interleaved with the fp32 inference
    /// in the same run (where the CPU has AVX512_BF16; otherwise said once on
    /// stderr and only fp32 is timed).
    #[arg(long, value_enum, ignore_case = true, default_value = "fp32")]
    pub precision: super::choice::PrecisionArg,
}

/// What `eeglens bench --json` prints: medians over the timed repetitions.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BenchReport {
    /// model name
    pub model: String,
    /// training samples per second (`train_step`: forward, backward, Adam)
    pub train_samples_per_s: f64,
    /// inference samples per second (eval mode, fp32)
    pub infer_samples_per_s: f64,
    /// inference samples per second in bf16, timed interleaved with the fp32
    /// figure (`--precision bf16` on a CPU with AVX512_BF16; else `null`)
    pub infer_bf16_samples_per_s: Option<f64>,
    /// activation-maximisation steps per second, one free pattern (batch 1)
    pub actmax_steps_per_s: f64,
    /// activation-maximisation restart-steps per second with `actmax_restarts`
    /// free patterns of one class in one batch
    pub actmax_restart_steps_per_s: f64,
    /// restarts per batched activation-maximisation step
    pub actmax_restarts: usize,
    /// steps per second of `eeglens interpret`'s default activation
    /// maximisation: band gains on real-sized windows, every class's restarts
    /// in one batch
    pub actmax_gains_steps_per_s: f64,
    /// windows per step of that default (classes x restarts x windows per restart)
    pub actmax_gains_windows: usize,
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

/// Runs `eeglens bench`.
pub fn run(a: Args, _g: &super::Global) -> anyhow::Result<()> {
    if a.batch == 0 || a.infer_batch == 0 || a.threads == Some(0) || a.restarts == 0 {
        anyhow::bail!("--batch, --infer-batch, --threads and --restarts must be positive");
    }
    if a.profile {
        let cfg = ProfileConfig {
            model: a.model.clone(),
            n_channels: SPEC.n_channels,
            n_samples: SPEC.n_samples,
            batch: a.batch,
            reps: a.reps,
            warmup: WARMUP,
            threads: a.threads,
        };
        let p = profile(&cfg, &machine::minor_faults)?;
        if a.json {
            super::print_document(super::schema::BENCH_PROFILE, &p)?;
        } else {
            print_profile(&p);
        }
        return Ok(());
    }
    let precision = a.precision.resolve();
    let load_before = machine::load_average();
    let pool = thread_pool(a.threads)?;
    let threads = pool.current_num_threads();
    let mut r = pool.install(|| measure(&a, threads, precision))?;
    r.load_average = load_before.zip(machine::load_average());
    if a.json {
        super::print_document(super::schema::BENCH, &r)?;
    } else {
        println!("model      {} ({} threads, {})", r.model, r.threads, r.cpu_model);
        println!(
            "train      {:.1} samples/s (batch {}, forward + backward + Adam)",
            r.train_samples_per_s, r.train_batch
        );
        println!("inference  {:.1} samples/s (batch {}, eval)", r.infer_samples_per_s, r.infer_batch);
        if let Some(bf16) = r.infer_bf16_samples_per_s {
            println!(
                "           {bf16:.1} samples/s in bf16 ({:.2}x fp32, timed interleaved with it)",
                bf16 / r.infer_samples_per_s
            );
        }
        println!("actmax     {:.1} steps/s (batch 1, one free pattern)", r.actmax_steps_per_s);
        println!(
            "           {:.1} restart-steps/s ({} restarts batched)",
            r.actmax_restart_steps_per_s, r.actmax_restarts
        );
        println!(
            "           {:.2} steps/s (`eeglens interpret`'s default: band gains, {} windows a step)",
            r.actmax_gains_steps_per_s, r.actmax_gains_windows
        );
        if let Some((before, after)) = r.load_average {
            println!("load       {before:.2} before, {after:.2} after (1-minute average)");
        }
    }
    Ok(())
}

/// The throughputs, on the calling thread's pool of `threads` threads (the
/// load average is the caller's to read).
fn measure(a: &Args, threads: usize, precision: Precision) -> anyhow::Result<BenchReport> {
    let mut model = build(&a.model, &SPEC, &mut Rng::new(0))?;
    let train = TrainConfig { model: a.model.clone(), batch: a.batch, ..TrainConfig::default() };
    let mut opt = Optimizer::new(train.optimizer_config());
    let (x, y) = noise_batch(a.batch, SPEC.n_channels, SPEC.n_samples, 1);
    // As the training loop: a fork of one dropout stream per step.
    let dropout = Rng::new(0);
    let mut step = 0u64;
    let train_s = eeglens_nn::bench::median_secs(a.reps, WARMUP, || {
        step += 1;
        train_step(&mut model, &mut opt, &x, &y, SPEC.n_classes, &mut dropout.fork(step)).map(drop)
    })?;
    let precisions: &[Precision] = match precision {
        Precision::Fp32 => &[Precision::Fp32],
        Precision::Bf16 => &[Precision::Fp32, Precision::Bf16],
    };
    let infer = infer_samples_per_s_at(&model, precisions, a.infer_batch, a.reps, WARMUP)?;

    // Free patterns of one class, as `eeglens interpret --actmax-param samples` (L2 1).
    // A batch-1 step takes milliseconds: many more repetitions for a stable median.
    let free = |restarts: usize| ActmaxConfig {
        restarts,
        steps: 10 * WARMUP + 20 * a.reps.max(1),
        param: Parameterisation::Samples,
        l2: 1.0,
        ..ActmaxConfig::default()
    };
    let one = actmax_step_secs(&model, &free(1), &[Target::Class(0)], &[], 10 * WARMUP)?;
    let batched = actmax_step_secs(&model, &free(a.restarts), &[Target::Class(0)], &[], 10 * WARMUP)?;

    // `eeglens interpret`'s default: band gains on windows of every class.
    let mut gains = InterpretConfig::default().actmax;
    gains.steps = WARMUP + a.reps.max(1);
    let n_windows = gains.restarts * gains.windows_per_restart.max(1);
    let (starts, _) = noise_batch(n_windows, SPEC.n_channels, SPEC.n_samples, 3);
    let targets: Vec<Target> = (0..SPEC.n_classes).map(Target::Class).collect();
    let gains_s = actmax_step_secs(&model, &gains, &targets, starts.data(), WARMUP)?;

    Ok(BenchReport {
        model: a.model.clone(),
        train_samples_per_s: a.batch as f64 / train_s,
        infer_samples_per_s: infer[0],
        infer_bf16_samples_per_s: infer.get(1).copied(),
        actmax_steps_per_s: 1.0 / one,
        actmax_restart_steps_per_s: a.restarts as f64 / batched,
        actmax_restarts: a.restarts,
        actmax_gains_steps_per_s: 1.0 / gains_s,
        actmax_gains_windows: targets.len() * n_windows,
        train_batch: a.batch,
        infer_batch: a.infer_batch,
        threads,
        cpu_model: machine::cpu_model(),
        reps: a.reps,
        load_average: None,
    })
}

/// The median seconds of one step of [`maximise`] with `cfg` (its `steps`
/// at least `warmup + 1`): the time between successive per-step callbacks,
/// after the first `warmup` steps (the first one carries the set-up).
/// `starts` are the windows the gains parameterisation applies its gains to
/// (standard-normal noise here, so the data statistics are the starts' own).
fn actmax_step_secs(
    model: &Sequential,
    cfg: &ActmaxConfig,
    targets: &[Target],
    starts: &[f32],
    warmup: usize,
) -> anyhow::Result<f64> {
    let (n_ch, t) = (SPEC.n_channels, SPEC.n_samples);
    let stats = if starts.is_empty() {
        DataStats::of(noise_batch(16, n_ch, t, 4).0.data(), n_ch, t)
    } else {
        DataStats::of(starts, n_ch, t)
    };
    let bands = InterpretConfig::default().bands;
    let problem =
        ActmaxProblem { model, targets, fs: FS, stats: &stats, cfg, seed: 0, starts, bands: &bands };
    let mut marks = Vec::with_capacity(cfg.steps + 1);
    marks.push(Instant::now());
    maximise(&problem, &mut |_| marks.push(Instant::now())).context("activation maximisation")?;
    let mut secs: Vec<f64> =
        marks.windows(2).skip(warmup.max(1)).map(|w| (w[1] - w[0]).as_secs_f64()).collect();
    anyhow::ensure!(
        !secs.is_empty(),
        "activation maximisation ran {} steps, fewer than {warmup} + 1",
        cfg.steps
    );
    secs.sort_by(f64::total_cmp);
    Ok(secs[secs.len() / 2])
}

/// The profile as a table, milliseconds per step.
fn print_profile(p: &StepProfile) {
    println!(
        "{} training step, batch {}, {} threads: {:.1} ms (mean of {} steps)",
        p.model, p.batch, p.threads, p.step_ms, p.reps
    );
    let pct = |ms: f64| 100.0 * ms / p.step_ms;
    println!("{:<14} {:<10} {:>20} {:>10} {:>10} {:>6}", "layer", "ops", "output", "fwd ms", "bwd ms", "%");
    for l in &p.layers {
        println!(
            "{:<14} {:<10} {:>20} {:>10.2} {:>10.2} {:>5.1}%",
            l.layer,
            l.ops.join("+"),
            format!("{:?}", l.shape),
            l.forward_ms,
            l.backward_ms,
            pct(l.forward_ms + l.backward_ms)
        );
    }
    let fwd: f64 = p.layers.iter().map(|l| l.forward_ms).sum();
    let bwd: f64 = p.layers.iter().map(|l| l.backward_ms).sum();
    println!("{:<14} {:<10} {:>20} {:>10.2} {:>10.2} {:>5.1}%", "layers", "", "", fwd, bwd, pct(fwd + bwd));
    let rows = [
        ("loss", p.loss_forward_ms + p.loss_backward_ms),
        ("leaves", p.leaves_ms),
        ("optimizer", p.optimizer_ms),
        ("other", p.other_ms),
    ];
    for (name, ms) in rows {
        println!("{name:<14} {:<10} {:>20} {ms:>21.2} {:>5.1}%", "", "", pct(ms));
    }
    if let Some(f) = p.page_faults_per_step {
        println!("page faults    {f:.0} per step");
    }
    println!("\nconvolution kernels alone (median ms, GFLOP/s):");
    for k in &p.kernels {
        println!("{:<14} {:<16} {:>8.2} ms {:>7.1} GFLOP/s", k.layer, k.kernel, k.ms, k.gflop_per_s);
    }
}

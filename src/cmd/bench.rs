//! `eeglens bench [--json] [--model rvgg] [--batch 40] [--threads N]`: training,
//! inference and activation-maximisation throughput.

use eeglens_nn::bench::{profile, run as run_bench, BenchConfig, StepProfile};

/// Flags of `eeglens bench`.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
    /// Zoo model: rvgg, vanputten, shallow, eegnet.
    #[arg(long, default_value = "rvgg")]
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
}

/// Runs `eeglens bench`.
pub fn run(a: Args, _g: &super::Global) -> anyhow::Result<()> {
    if a.batch == 0 || a.infer_batch == 0 || a.threads == Some(0) || a.restarts == 0 {
        anyhow::bail!("--batch, --infer-batch, --threads and --restarts must be positive");
    }
    let cfg = BenchConfig {
        model: a.model,
        train_batch: a.batch,
        infer_batch: a.infer_batch,
        threads: a.threads,
        reps: a.reps,
        actmax_restarts: a.restarts,
        ..BenchConfig::default()
    };
    if a.profile {
        let p = profile(&cfg)?;
        if a.json {
            println!("{}", serde_json::to_string(&p)?);
        } else {
            print_profile(&p);
        }
        return Ok(());
    }
    let r = run_bench(&cfg)?;
    if a.json {
        println!("{}", serde_json::to_string(&r)?);
    } else {
        println!("model      {} ({} threads, {})", r.model, r.threads, r.cpu_model);
        println!(
            "train      {:.1} samples/s (batch {}, forward + backward + Adam)",
            r.train_samples_per_s, r.train_batch
        );
        println!("inference  {:.1} samples/s (batch {}, eval)", r.infer_samples_per_s, r.infer_batch);
        println!("actmax     {:.1} steps/s (batch 1, input gradient)", r.actmax_steps_per_s);
        println!(
            "           {:.1} restart-steps/s ({} restarts batched)",
            r.actmax_restart_steps_per_s, r.actmax_restarts
        );
        if let Some((before, after)) = r.load_average {
            println!("load       {before:.2} before, {after:.2} after (1-minute average)");
        }
    }
    Ok(())
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

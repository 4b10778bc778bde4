//! `eeglens bench [--json] [--model rvgg] [--batch 40] [--threads N]`: training,
//! inference and activation-maximisation throughput.

use eeglens_nn::bench::{run as run_bench, BenchConfig};

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

//! `eeglens demo [--out DIR]`: synth -> prepare -> train -> interpret -> report
//! on the embedded synthetic data set, each step exactly as its own
//! subcommand runs it: the demo fills in each step's flags (its `Args`, the
//! rest at their defaults) and calls the step's `run`.

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::{interpret, prepare, report, synth, train, Global};

/// Flags of `eeglens demo`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Directory for everything the demo writes (dataset, epochs, run, report); what an earlier
    /// demo wrote there is replaced, and a directory holding anything else is refused.
    #[arg(long, default_value = "eeglens-demo")]
    pub out: PathBuf,
    /// Synthetic subjects.
    #[arg(long, default_value_t = 60)]
    pub subjects: usize,
    /// Training epochs (early stopping may end sooner).
    #[arg(long, default_value_t = 12)]
    pub epochs: usize,
    /// Model to train: shallow (one network, quick), auto (as `train` does by default: shallow, rvgg-bn and
    /// logpower, the best on validation kept; about 3.5 times as long), logpower, or rvgg for the paper's R-VGG.
    #[arg(long, value_parser = super::choice::zoo_model_or_auto(),
          default_value = eeglens_train::DEFAULT_MODEL)]
    pub model: String,
    /// Seed of data, training and interpretation.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Worker threads [default: one per core].
    #[arg(long)]
    pub threads: Option<usize>,
    /// Planted effect: band LO-HI in Hz.
    #[arg(long, default_value = "4-8")]
    pub effect_band: String,
    /// Planted effect: channels.
    #[arg(long, default_value = "Fz,FCz,Cz,FC3,FC4")]
    pub effect_channels: String,
    /// Planted effect: size (0 for a null data set).
    #[arg(long, default_value_t = eeglens_data::synth::DEFAULT_EFFECT_SIZE)]
    pub effect_size: f64,
    /// Print one JSON document on stdout at the end (`eeglens-demo/1`, docs/json.md: every
    /// step's outputs and the readings); what the steps print goes to stderr.
    #[arg(long)]
    pub json: bool,
}

/// Runs `f` with the process's standard output sent to standard error, so that with `--json`
/// the steps' own lines (each step prints as its subcommand does) stay off the one JSON
/// document. On systems without file descriptors the steps print on stdout as usual.
#[cfg(unix)]
#[allow(unsafe_code)]
fn stdout_to_stderr<T>(f: impl FnOnce() -> T) -> anyhow::Result<T> {
    use std::io::Write;
    std::io::stdout().flush()?;
    // SAFETY: dup(2) and dup2(2) on the process's own descriptors 1 and 2, which stay open;
    // the saved descriptor is restored over 1 and closed below. Rust's stdout is flushed
    // before each switch, so no line lands on the wrong side.
    let saved = unsafe { libc::dup(1) };
    if saved < 0 || unsafe { libc::dup2(2, 1) } < 0 {
        anyhow::bail!("cannot send the steps' output to stderr: {}", std::io::Error::last_os_error());
    }
    let out = f();
    let _ = std::io::stdout().flush();
    // SAFETY: as above; `saved` is a descriptor this function opened.
    unsafe {
        libc::dup2(saved, 1);
        libc::close(saved);
    }
    Ok(out)
}

#[cfg(not(unix))]
fn stdout_to_stderr<T>(f: impl FnOnce() -> T) -> anyhow::Result<T> {
    Ok(f())
}

/// A model's name for people: `shallow` is ShallowConvNet, `rvgg` the paper's R-VGG.
fn model_title(model: &str) -> String {
    match model {
        "shallow" => "ShallowConvNet (one network, quick; `train` selects among three by default)".into(),
        "rvgg" => "R-VGG (the paper's network)".into(),
        "rvgg-bn" => "R-VGG with batch normalisation".into(),
        "logpower" => "LogPowerNet (learned filters, log power per electrode, linear)".into(),
        other => other.to_string(),
    }
}

fn step(n: usize, what: &str) {
    eprintln!("\n[{n}/5] {what}");
}

/// Runs `eeglens demo`.
pub fn run(a: Args, g: &Global) -> anyhow::Result<()> {
    if a.json {
        let t0 = std::time::Instant::now();
        let paths = stdout_to_stderr(|| steps(&a, g))??;
        let doc = demo_document(&a, &paths, t0.elapsed().as_secs_f64())?;
        return super::print_document(super::schema::DEMO, &doc);
    }
    let t0 = std::time::Instant::now();
    let paths = steps(&a, g)?;
    summary(&a, &paths, t0)
}

/// What the demo wrote.
struct Paths {
    bids: PathBuf,
    epochs: PathBuf,
    run_dir: PathBuf,
    report: PathBuf,
}

/// The five steps, each as its subcommand runs it.
fn steps(a: &Args, g: &Global) -> anyhow::Result<Paths> {
    std::fs::create_dir_all(&a.out)
        .with_context(|| format!("{}: cannot create the demo directory", a.out.display()))?;
    let bids = a.out.join("bids");
    let epochs = a.out.join("epochs.safetensors");
    let run_dir = a.out.join("run");
    let report = a.out.join("report.html");
    // The demo replaces what an earlier demo wrote in --out, and nothing else.
    let own = ["bids", "epochs.safetensors", "run", "report.html"];
    let entries = std::fs::read_dir(&a.out).with_context(|| format!("{}: cannot list", a.out.display()))?;
    for e in entries {
        let name = e.with_context(|| format!("{}: cannot list", a.out.display()))?.file_name();
        if !(own.iter().any(|o| name == *o) || eeglens_io::atomic::is_temporary(&name)) {
            anyhow::bail!(
                "{}: holds `{}`, which `eeglens demo` did not write; choose another --out",
                a.out.display(),
                name.to_string_lossy()
            );
        }
    }
    if bids.exists() {
        // Replace only a dataset an earlier demo wrote (it carries the generator's
        // ground truth); never delete a folder of the user's.
        if !bids.join("eeglens_synth.json").is_file() {
            anyhow::bail!(
                "{}: exists and is not a synthetic dataset from `eeglens demo`; choose another --out",
                bids.display()
            );
        }
        std::fs::remove_dir_all(&bids)
            .with_context(|| format!("{}: cannot replace the old dataset", bids.display()))?;
    }

    step(1, "synthetic BIDS dataset with a planted effect");
    synth::run(
        synth::Args {
            out: bids.clone(),
            subjects: a.subjects,
            seed: a.seed,
            effect_band: a.effect_band.clone(),
            effect_channels: a.effect_channels.clone(),
            effect_size: a.effect_size,
            ..Default::default()
        },
        g,
    )?;

    step(2, "prepare: 24 channels, 128 Hz, 0.25-25 Hz, eyes-closed 2-s windows");
    prepare::run(
        prepare::Args {
            bids_dir: bids.clone(),
            label: "sex".into(),
            out: epochs.clone(),
            force: true,
            ..Default::default()
        },
        g,
    )?;

    step(3, &format!("train {}", model_title(&a.model)));
    train::run(
        train::Args {
            model: Some(a.model.clone()),
            data: Some(epochs.clone()),
            out: run_dir.clone(),
            epochs: Some(a.epochs),
            seed: Some(a.seed),
            threads: a.threads,
            force: true,
            ..Default::default()
        },
        g,
    )?;

    step(4, "interpret: optimal samples, activation maximisation, deconvnet");
    interpret::run(
        interpret::Args { run: run_dir.clone(), seed: a.seed, force: true, ..Default::default() },
        g,
    )?;

    step(5, "report");
    report::run(
        report::Args { run: run_dir.clone(), out: Some(report.clone()), force: true, ..Default::default() },
        g,
    )?;
    Ok(Paths { bids, epochs, run_dir, report })
}

/// The `eeglens-demo/1` document (docs/json.md), without `schema`: every step's outputs and
/// the readings, from the documents the steps wrote.
fn demo_document(a: &Args, p: &Paths, seconds: f64) -> anyhow::Result<serde_json::Value> {
    let run = eeglens_train::RunDir::open(&p.run_dir)?;
    let eval: eeglens_train::EvalReport = read_json(&run.eval_path("test"))?;
    let interpret_dir = p.run_dir.join(eeglens_interpret::result::INTERPRET_DIR);
    let interp: eeglens_interpret::Report =
        read_json(&interpret_dir.join(eeglens_interpret::result::INTERPRET_JSON))?;
    let top = |r: Option<&eeglens_interpret::Reading>| r.map(|r| r.top_band.clone());
    let m = &interp.methods;
    let baseline = run.baseline()?;
    let (lo, hi) = super::parse_range(&a.effect_band).map_err(anyhow::Error::msg)?;
    Ok(serde_json::json!({
        "out": a.out,
        "bids": p.bids,
        "epochs": p.epochs,
        "run": p.run_dir,
        "interpret": interpret_dir,
        "report": p.report,
        "model": run.config().train.model,
        "planted": {
            "band": [lo, hi],
            "channels": a.effect_channels.split(',').map(str::trim).collect::<Vec<_>>(),
            "size": a.effect_size,
        },
        "test": {
            "accuracy": eval.accuracy,
            "subject_accuracy": eval.subject_accuracy,
            "n_subjects": eval.n_subjects,
            "learned": interp.model.discrimination.learned,
        },
        "baseline": baseline.map(|b| serde_json::json!({
            "accuracy": b.test.accuracy,
            "subject_accuracy": b.test.subject_accuracy,
            "top_band": b.top_band,
        })),
        "top_band": {
            "optimal": top(m.optimal.as_ref().map(|x| &x.reading)),
            "actmax": top(m.actmax.as_ref().map(|x| &x.reading)),
            "deconv": top(m.deconv.as_ref().map(|x| &x.reading)),
        },
        "seconds": seconds,
    }))
}

/// The demo's closing lines on the terminal, from the typed documents the steps wrote.
fn summary(a: &Args, p: &Paths, t0: std::time::Instant) -> anyhow::Result<()> {
    let (run_dir, report) = (&p.run_dir, &p.report);
    let run = eeglens_train::RunDir::open(run_dir)?;
    let eval: eeglens_train::EvalReport = read_json(&run.eval_path("test"))?;
    let interp: eeglens_interpret::Report = read_json(
        &run_dir
            .join(eeglens_interpret::result::INTERPRET_DIR)
            .join(eeglens_interpret::result::INTERPRET_JSON),
    )?;
    let pct = |x: f64| format!("{:.1}%", 100.0 * x);
    let top = |r: Option<&eeglens_interpret::Reading>| match r {
        Some(r) => r.top_band.clone().unwrap_or_else(|| "none significant".into()),
        None => "not read".into(),
    };
    println!();
    println!("report: {}", report.display());
    println!(
        "test accuracy: {} per window, {} per subject ({} subjects)",
        pct(eval.accuracy),
        pct(eval.subject_accuracy),
        eval.n_subjects
    );
    if let Some(b) = run.baseline()? {
        println!(
            "baseline (band power + logistic regression): {} per window, {} per subject; strongest difference in {}",
            pct(b.test.accuracy),
            pct(b.test.subject_accuracy),
            b.top_band
        );
    }
    if !interp.model.discrimination.learned {
        println!(
            "NOTHING LEARNED: the network is not above chance on the test split; no reading is possible"
        );
    }
    let m = &interp.methods;
    println!(
        "top band: optimal samples {}, activation maximisation {}, deconvnet {} (planted: {} Hz, size {})",
        top(m.optimal.as_ref().map(|x| &x.reading)),
        top(m.actmax.as_ref().map(|x| &x.reading)),
        top(m.deconv.as_ref().map(|x| &x.reading)),
        a.effect_band,
        a.effect_size
    );
    println!("done in {:.0} s", t0.elapsed().as_secs_f64());
    Ok(())
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<T> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))
}

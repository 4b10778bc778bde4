//! One module per subcommand.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

pub mod baseline;
pub mod bench;
pub mod choice;
pub mod demo;
pub mod eval;
pub mod forward;
pub mod inspect;
pub mod interpret;
pub mod merge;
pub mod prepare;
pub mod report;
pub mod synth;
pub mod train;
pub mod validate;

/// Flags every subcommand accepts.
#[derive(clap::Args, Debug, Clone)]
pub struct Global {
    /// Suppress progress bars (they are also off when stderr is not a terminal).
    #[arg(long, global = true)]
    pub quiet: bool,
}

impl Global {
    /// Whether long-running work should draw a progress bar on stderr.
    pub fn progress(&self) -> bool {
        !self.quiet && std::io::stderr().is_terminal()
    }
}

/// A progress bar on stderr for `len` steps, hidden when [`Global::progress`] is false.
pub fn bar(g: &Global, len: u64, what: &str) -> indicatif::ProgressBar {
    if !g.progress() {
        return indicatif::ProgressBar::hidden();
    }
    let pb = indicatif::ProgressBar::new(len);
    let style = indicatif::ProgressStyle::with_template(
        "{msg:>12} [{bar:30}] {pos}/{len} {elapsed_precise} eta {eta}",
    )
    .expect("the template is valid")
    .progress_chars("=> ");
    pb.set_style(style);
    pb.set_message(what.to_string());
    pb
}

/// The rule for every file a subcommand writes: an input is never written
/// over (not even with `--force`), and an existing file is replaced only with
/// `--force`. `flag` names the option that chose `out` (e.g. `--out`).
pub fn claim_output(out: &Path, flag: &str, force: bool, inputs: &[(&str, &Path)]) -> anyhow::Result<()> {
    if let Some((what, input)) = inputs.iter().find(|(_, input)| same_file(out, input)) {
        anyhow::bail!(
            "{}: is {what} ({}); {flag} must name another file, so the input is not destroyed",
            out.display(),
            input.display()
        );
    }
    if out.exists() && !force {
        anyhow::bail!("{}: exists; choose another {flag} or pass --force to replace it", out.display());
    }
    Ok(())
}

/// Whether `a` and `b` are the same existing file (through links and
/// different spellings of the path too).
pub fn same_file(a: &Path, b: &Path) -> bool {
    let (Ok(ma), Ok(mb)) = (std::fs::metadata(a), std::fs::metadata(b)) else { return false };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        ma.dev() == mb.dev() && ma.ino() == mb.ino()
    }
    #[cfg(not(unix))]
    {
        let _ = (ma, mb);
        matches!((std::fs::canonicalize(a), std::fs::canonicalize(b)), (Ok(x), Ok(y)) if x == y)
    }
}

/// The `schema` of every JSON document the command line prints (`--json`) or writes, when no
/// library owns it. docs/json.md describes each; a new field keeps the version, a field
/// removed or renamed (or its meaning changed) takes the next one.
pub mod schema {
    /// `inspect FILE --json` on a recording
    pub const INSPECT: &str = "eeglens-inspect/1";
    /// `inspect DIR --json` on a BIDS dataset
    pub const INSPECT_BIDS: &str = "eeglens-inspect-bids/1";
    /// `inspect STORE --json` on an epoch store
    pub const INSPECT_STORE: &str = "eeglens-inspect-store/1";
    /// `synth --json`
    pub const SYNTH: &str = "eeglens-synth/1";
    /// `prepare --json` and `merge --json`
    pub const PREPARE: &str = "eeglens-prepare/1";
    /// `prepare --shard i/N --json`
    pub const PREPARE_SHARD: &str = "eeglens-prepare-shard/1";
    /// `train --json` on one run
    pub const TRAIN: &str = "eeglens-train/1";
    /// `train --seeds ... --json` and `train --folds K --json`
    pub const TRAIN_RUNS: &str = "eeglens-train-runs/1";
    /// `eval --json` over a parent of seed runs
    pub const EVAL_SEEDS: &str = "eeglens-eval-seeds/1";
    /// `validate --cell i/N --json`
    pub const VALIDATE_CELLS: &str = "eeglens-validate-cells/1";
    /// `bench --json`
    pub const BENCH: &str = "eeglens-bench/1";
    /// `bench --profile --json`
    pub const BENCH_PROFILE: &str = "eeglens-bench-profile/1";
    /// `report --json`
    pub const REPORT: &str = "eeglens-report/1";
    /// `demo --json`
    pub const DEMO: &str = "eeglens-demo/1";
}

/// `value` as one JSON document (an object) with `schema` as its `schema` field.
pub fn document<T: serde::Serialize>(schema: &str, value: &T) -> anyhow::Result<serde_json::Value> {
    let mut v = serde_json::to_value(value)?;
    let Some(o) = v.as_object_mut() else { anyhow::bail!("a {schema} document is not a JSON object") };
    o.insert("schema".into(), schema.into());
    Ok(v)
}

/// Prints `value` on stdout as one line of JSON, with `schema` as its `schema` field.
pub fn print_document<T: serde::Serialize>(schema: &str, value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string(&document(schema, value)?)?);
    Ok(())
}

/// Writes `bytes` to `path` atomically and durably (`eeglens_io::atomic`).
pub fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    eeglens_io::atomic::write_file(path, bytes)
        .map_err(|e| anyhow::anyhow!("{}: cannot write: {e}", path.display()))
}

/// Refuses a parent of regression runs (folds, seeds): `interpret` and `report` read a
/// regression (on a numeric target) on one run only.
pub fn refuse_regression(run: &Path, command: &str) -> anyhow::Result<()> {
    let folds: Vec<PathBuf> = eeglens_train::folds::fold_runs(run)?.into_iter().map(|(_, d)| d).collect();
    let seeds: Vec<PathBuf> = eeglens_train::run_dir::seed_runs(run)?.into_iter().map(|(_, d)| d).collect();
    let (kind, dirs) = if folds.is_empty() { ("seed", seeds) } else { ("fold", folds) };
    for d in &dirs {
        if let Some(t) = eeglens_train::RunDir::open(d).ok().and_then(|r| r.config().data.target.clone()) {
            anyhow::bail!(
                "{}: holds {kind} runs of a regression on `{}`: {command} reads a regression on one run only \
                 (e.g. --run {}); `eeglens eval --run {}` gives the figures over them",
                run.display(),
                t.column,
                d.display(),
                run.display()
            );
        }
    }
    Ok(())
}

/// Parses a range written `LO-HI` (e.g. `4-8`, `0.25-25`).
pub fn parse_range(s: &str) -> Result<(f64, f64), String> {
    let (a, b) = s.split_once('-').ok_or_else(|| format!("`{s}` is not a range LO-HI (e.g. 4-8)"))?;
    let lo: f64 = a.trim().parse().map_err(|_| format!("`{a}` in `{s}` is not a number"))?;
    let hi: f64 = b.trim().parse().map_err(|_| format!("`{b}` in `{s}` is not a number"))?;
    if !(lo.is_finite() && hi.is_finite() && lo < hi) {
        return Err(format!("range `{s}` must have LO < HI"));
    }
    Ok((lo, hi))
}

/// This process's record for `provenance.jsonl` (and a store's settings): the
/// subcommand, the version, the command line, now, the threads and kernels.
pub fn provenance_step(step: &str) -> eeglens_train::provenance::Step {
    use eeglens_autodiff::kernels;
    use eeglens_train::provenance::{now, shell_line, Step};
    let args: Vec<String> = std::env::args_os().map(|a| a.to_string_lossy().into_owned()).collect();
    Step {
        step: step.to_string(),
        eeglens: env!("CARGO_PKG_VERSION").to_string(),
        command: shell_line(&args),
        date: now(),
        threads: kernels::threads(),
        kernels: kernels::KernelConfig::of_process().to_string(),
    }
}

/// Appends this process's step to the provenance of run directory `dir`
/// (after removing an earlier run's when `fresh`: a training started anew);
/// a failure is a warning (the command's own outputs are written).
pub fn record_step(step: &str, dir: &std::path::Path, fresh: bool) {
    let file = dir.join(eeglens_train::provenance::PROVENANCE_FILE);
    if fresh {
        if let Err(e) = std::fs::remove_file(&file) {
            if e.kind() != std::io::ErrorKind::NotFound {
                eprintln!(
                    "warning: {}: the earlier run's provenance could not be removed: {e}",
                    file.display()
                );
            }
        }
    }
    if let Err(e) = eeglens_train::provenance::append(dir, &provenance_step(step)) {
        eprintln!("warning: the provenance of this step was not recorded: {e}");
    }
}

/// `eeglens version`: the version, then the kernels' configuration: which
/// set runs the products (AVX-512 or portable, and why), which path
/// `--precision bf16` takes (AMX, AVX512_BF16, or fp32, and why), and how
/// many threads they use when no `--threads` is given.
pub fn version(_g: &Global) -> anyhow::Result<()> {
    use eeglens_autodiff::kernels;
    println!("eeglens {}", env!("CARGO_PKG_VERSION"));
    let config = kernels::KernelConfig::of_process();
    println!("kernels: {config}");
    println!("bf16: {}", bf16_path(&config));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = kernels::threads();
    let why = if std::env::var_os("RAYON_NUM_THREADS").is_some() {
        format!("RAYON_NUM_THREADS; {cores} cores")
    } else if threads == cores {
        "one per core".to_string()
    } else {
        format!("{cores} cores")
    };
    println!("threads: {threads} ({why}; --threads overrides it per command)");
    Ok(())
}

/// The path `--precision bf16` takes in a process with kernels `config`:
/// `amx (...)`, `avx512bf16 (...)` or `fp32 (...)`, with the reason.
fn bf16_path(config: &eeglens_autodiff::kernels::KernelConfig) -> String {
    let engine = config.set.bf16_engine();
    match (engine, config.bf16_missing(), config.amx_missing()) {
        (Some("amx"), ..) => "amx (--precision bf16 products on AMX tiles, tdpbf16ps)".to_string(),
        (Some(e), _, Some(why)) => {
            format!("{e} (--precision bf16 products on AVX512_BF16, vdpbf16ps; not AMX: {why})")
        }
        (Some(e), ..) => {
            format!("{e} (--precision bf16 products on AVX512_BF16, vdpbf16ps; the CPU has no AMX)")
        }
        (None, why, _) => format!(
            "fp32 (--precision bf16 runs in fp32: {})",
            why.unwrap_or_else(|| "bf16 is not in this kernel set".to_string())
        ),
    }
}

/// Parses a subcommand's flags as the command line would (for tests).
#[cfg(test)]
pub fn parse<T: clap::Args>(args: &[&str]) -> T {
    use clap::Parser;
    #[derive(Parser)]
    #[command(no_binary_name = true)]
    struct Sub<T: clap::Args> {
        #[command(flatten)]
        args: T,
    }
    Sub::<T>::try_parse_from(args).expect("the flags parse").args
}

#[cfg(test)]
mod tests {
    /// `eeglens demo` builds its steps' flags in code from these `Default`s;
    /// they must be what the command line gives when the flags are left out.
    #[test]
    fn the_flags_built_in_code_default_as_on_the_command_line() {
        use std::path::PathBuf;
        let synth: super::synth::Args = super::parse(&["--out", "d"]);
        assert_eq!(synth, super::synth::Args { out: "d".into(), ..Default::default() });
        let prepare: super::prepare::Args = super::parse(&["d", "--label", "sex", "--out", "e"]);
        let want = super::prepare::Args {
            bids_dir: "d".into(),
            label: "sex".into(),
            out: "e".into(),
            ..Default::default()
        };
        assert_eq!(prepare, want);
        let train: super::train::Args = super::parse(&["--out", "r"]);
        assert_eq!(train, super::train::Args { out: "r".into(), ..Default::default() });
        let interpret: super::interpret::Args = super::parse(&["--run", "r"]);
        assert_eq!(interpret, super::interpret::Args { run: "r".into(), ..Default::default() });
        let report: super::report::Args = super::parse(&["--run", "r"]);
        assert_eq!(report, super::report::Args { run: PathBuf::from("r"), ..Default::default() });
    }
}

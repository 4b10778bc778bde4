//! `eeglens train --data FILE --out RUN_DIR [--model] [--epochs] [--batch] [--lr]
//! [--optimizer] [--seed] [--threads] [--patience] [--resume]`: train a zoo model on
//! an epoch store into a run directory; with `--seeds`, one run per seed, with
//! `--folds K [--fold i]` one run per fold of a subject-wise cross-validation.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use eeglens_data::store::EpochStore;
use eeglens_train::{
    select, train_selected, train_with, Progress, RunDir, RunOptions, StopReason, TrainConfig,
};

use super::choice::{InitArg, MonitorArg, OptimizerArg};

/// Flags of `eeglens train`. Unset flags take the defaults, or with `--resume`
/// the run's stored settings (so `Default` is every flag unset).
#[derive(clap::Args, Debug, Clone, Default, PartialEq)]
pub struct Args {
    /// Epoch store (from `eeglens prepare`); with --resume, defaults to the run's.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Run directory to create (or, with --resume, to continue).
    #[arg(long)]
    pub out: PathBuf,
    /// auto (train shallow, rvgg-bn and logpower, keep the best on validation; OUT/candidates/ holds all three), or
    /// one zoo model: shallow, rvgg (the paper's R-VGG), rvgg-bn, vanputten, eegnet, logpower [default: auto, see
    /// VALIDATION.md].
    #[arg(long, value_parser = super::choice::zoo_model_or_auto())]
    pub model: Option<String>,
    /// Passes over the training windows [default: 20].
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Windows per mini-batch [default: 40].
    #[arg(long)]
    pub batch: Option<usize>,
    /// Learning rate [default: the model's: 5e-4, 2e-3 for logpower; under auto each candidate its own].
    #[arg(long)]
    pub lr: Option<f64>,
    /// Optimiser [default: adam].
    #[arg(long, value_enum, ignore_case = true)]
    pub optimizer: Option<OptimizerArg>,
    /// Weight decay [default: 0].
    #[arg(long)]
    pub weight_decay: Option<f32>,
    /// Probability that a training window is mixed with a same-class window of another subject,
    /// sqrt(l) x_i + sqrt(1-l) x_j with l ~ U(0,1), against learning the training subjects
    /// [default: 0, off].
    #[arg(long)]
    pub mix: Option<f64>,
    /// Seed of initialisation, shuffling and dropout [default: 0].
    #[arg(long, conflicts_with = "seeds")]
    pub seed: Option<u64>,
    /// Train one network per seed into OUT/seed-<n>/ (e.g. 0-4 or 0,3,7); a seed whose run is
    /// complete is skipped, an interrupted one resumed. Each is also `--seed n --out OUT/seed-n`.
    #[arg(long)]
    pub seeds: Option<String>,
    /// Subject-wise K-fold cross-validation: one run per fold into OUT/fold-<i>/ (fold i tests its
    /// subjects; validation subjects come from the other folds, the store's share of them); a finished
    /// fold is skipped. Not with --seeds.
    #[arg(long, conflicts_with = "seeds")]
    pub folds: Option<usize>,
    /// With --folds: train only fold i (0 to K-1) into OUT/fold-<i>/, e.g. as one task of a job array;
    /// the same weights as that fold of a --folds run.
    #[arg(long, requires = "folds")]
    pub fold: Option<usize>,
    /// With --folds: seed of the partition of subjects into folds [default: 0].
    #[arg(long, requires = "folds")]
    pub fold_seed: Option<u64>,
    /// Re-draw conv and linear weights.
    #[arg(long, value_enum, ignore_case = true)]
    pub init: Option<InitArg>,
    /// Worker threads [default: one per core; at most 4 per core]; 1 makes runs bit-for-bit reproducible.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Stop after this many epochs without improvement; 0 never stops early [default: 8].
    #[arg(long)]
    pub patience: Option<usize>,
    /// Figure for early stopping and the best checkpoint [default: val_loss].
    #[arg(long, value_enum, ignore_case = true)]
    pub monitor: Option<MonitorArg>,
    /// Show every class equally often per epoch (repeating the smaller classes' windows).
    #[arg(long)]
    pub balanced: bool,
    /// Re-initialise a network still at chance after this many epochs; 0 never checks [default: 5].
    #[arg(long)]
    pub stuck_epochs: Option<usize>,
    /// At most this many re-initialisations of a stuck network [default: 2].
    #[arg(long)]
    pub restarts: Option<usize>,
    /// Skip the band-power baseline that is otherwise fitted first (baseline.json).
    #[arg(long)]
    pub no_baseline: bool,
    /// Continue the run in --out from its last checkpoint; with --epochs N, N may extend the run
    /// or end it sooner (said, and recorded in config.json), never below the epochs done.
    #[arg(long, conflicts_with = "force")]
    pub resume: bool,
    /// Overwrite a run already in --out, or train into an existing directory that holds other files.
    #[arg(long)]
    pub force: bool,
    /// Print one JSON document on stdout when training ends (`eeglens-train/1`, with --seeds or
    /// --folds `eeglens-train-runs/1`; docs/json.md); what is otherwise printed goes to stderr.
    #[arg(long)]
    pub json: bool,
}

/// Prints a line of the human summary: on stdout, or on stderr when stdout holds the JSON
/// document (`--json`).
fn say_out(json: bool, line: &str) {
    if json {
        eprintln!("{line}");
    } else {
        println!("{line}");
    }
}

fn settings(a: &Args, mut cfg: TrainConfig) -> anyhow::Result<TrainConfig> {
    if let Some(m) = &a.model {
        cfg.model = m.clone();
    }
    if let Some(v) = a.epochs {
        cfg.epochs = v;
    }
    if let Some(v) = a.batch {
        cfg.batch = v;
    }
    if let Some(v) = a.lr {
        cfg.lr = v;
        cfg.lr_by_model = false;
    }
    if let Some(o) = a.optimizer {
        cfg.optimizer = o.into();
    }
    if let Some(v) = a.weight_decay {
        cfg.weight_decay = v;
    }
    if let Some(v) = a.mix {
        cfg.mix = v;
    }
    if let Some(v) = a.seed {
        cfg.seed = v;
    }
    if let Some(v) = a.threads {
        let cap = eeglens_train::config::max_threads();
        if v > cap {
            eprintln!(
                "eeglens: --threads {v} is more than {} per core; using {cap}",
                eeglens_train::config::MAX_THREADS_PER_CORE
            );
        }
        cfg.threads = Some(v.min(cap));
    }
    if let Some(i) = a.init {
        cfg.init = Some(i.into());
    }
    if let Some(v) = a.patience {
        cfg.patience = (v > 0).then_some(v);
    }
    if let Some(m) = a.monitor {
        cfg.monitor = m.into();
    }
    if a.balanced {
        cfg.balanced = true;
    }
    if let Some(v) = a.stuck_epochs {
        cfg.stuck_epochs = (v > 0).then_some(v);
    }
    if let Some(v) = a.restarts {
        cfg.restarts = v;
    }
    if a.no_baseline {
        cfg.baseline = false;
    }
    Ok(cfg)
}

/// Parses `0-4` (inclusive) or `0,3,7`.
pub fn parse_seeds(s: &str) -> anyhow::Result<Vec<u64>> {
    let bad = || anyhow::anyhow!("--seeds {s}: expected a range like 0-4 or a list like 0,3,7");
    let mut out = Vec::new();
    for part in s.split(',') {
        let part = part.trim();
        if let Some((lo, hi)) = part.split_once('-') {
            let (lo, hi): (u64, u64) =
                (lo.trim().parse().map_err(|_| bad())?, hi.trim().parse().map_err(|_| bad())?);
            if lo > hi || hi - lo >= 10_000 {
                return Err(bad());
            }
            out.extend(lo..=hi);
        } else {
            out.push(part.parse().map_err(|_| bad())?);
        }
    }
    let mut sorted = out.clone();
    sorted.sort_unstable();
    sorted.dedup();
    if sorted.len() != out.len() || out.is_empty() {
        return Err(bad());
    }
    Ok(out)
}

/// Runs `eeglens train`.
pub fn run(a: Args, g: &super::Global) -> anyhow::Result<()> {
    if let Some(k) = a.folds {
        return run_folds(a, k, g);
    }
    let Some(spec) = a.seeds.clone() else {
        let json = a.json;
        let doc = run_one(a, g, None)?;
        if json {
            super::print_document(super::schema::TRAIN, &doc)?;
        }
        return Ok(());
    };
    let seeds = parse_seeds(&spec)?;
    if a.resume {
        bail!("--seeds resumes interrupted seeds by itself; drop --resume");
    }
    if a.out.join(eeglens_train::run_dir::CONFIG_FILE).exists() {
        bail!("{}: holds a single run (config.json); choose another --out for --seeds", a.out.display());
    }
    std::fs::create_dir_all(&a.out).with_context(|| format!("{}: cannot create", a.out.display()))?;
    let mut runs = Vec::new();
    for seed in seeds {
        let dir = a.out.join(eeglens_train::run_dir::seed_dir_name(seed));
        let done = dir.join("eval-test.json").exists();
        // A model selection interrupted before its choice has candidates and no config.json yet.
        let started = dir.join(eeglens_train::run_dir::CONFIG_FILE).exists()
            || dir.join(select::CANDIDATES_DIR).is_dir();
        if done && !a.force {
            say_out(
                a.json,
                &format!("seed {seed}: complete in {} (skipped; --force retrains)", dir.display()),
            );
            runs.push(serde_json::json!({"seed": seed, "dir": dir, "skipped": true, "run": null}));
            continue;
        }
        say_out(a.json, &format!("seed {seed}: {}", dir.display()));
        let one = Args {
            seeds: None,
            seed: Some(seed),
            out: dir.clone(),
            resume: started && !a.force,
            ..a.clone()
        };
        let doc = run_one(one, g, None)?;
        runs.push(serde_json::json!({"seed": seed, "dir": dir, "skipped": false, "run": doc}));
    }
    say_out(
        a.json,
        &format!(
            "seeds: {} (interpret them together with `eeglens interpret --run {}`)",
            a.out.display(),
            a.out.display()
        ),
    );
    if a.json {
        let doc = serde_json::json!({"parent": a.out, "kind": "seeds", "runs": runs});
        super::print_document(super::schema::TRAIN_RUNS, &doc)?;
    }
    Ok(())
}

/// `--folds K [--fold i]`: each fold (or fold i) as its own run in
/// `OUT/fold-<i>/`, the store re-split as the fold. A finished fold is
/// skipped, an interrupted one continued with `--resume`.
fn run_folds(a: Args, k: usize, g: &super::Global) -> anyhow::Result<()> {
    use eeglens_train::folds;
    if k < 2 {
        bail!("--folds {k}: a cross-validation needs at least 2 folds");
    }
    if let Some(i) = a.fold.filter(|&i| i >= k) {
        bail!("--fold {i}: folds are numbered 0 to {} with --folds {k}", k - 1);
    }
    if a.out.join(eeglens_train::run_dir::CONFIG_FILE).exists() {
        bail!("{}: holds a single run (config.json); choose another --out for --folds", a.out.display());
    }
    if !eeglens_train::run_dir::seed_runs(&a.out)?.is_empty() {
        bail!("{}: holds seed runs (seed-<n>/); choose another --out for --folds", a.out.display());
    }
    let existing = folds::fold_runs(&a.out)?;
    let data = match (&a.data, existing.first()) {
        (Some(d), _) => d.clone(),
        (None, Some((_, dir))) if a.resume => RunDir::open(dir)?.data_path().to_path_buf(),
        _ => bail!("--data FILE is required (an epoch store from `eeglens prepare`)"),
    };
    let store = EpochStore::open(&data)?;
    let seed = a.fold_seed.unwrap_or(0);
    let plan = folds::plan(&store, k, seed, None).with_context(|| format!("--folds {k}"))?;
    drop(store);
    std::fs::create_dir_all(&a.out).with_context(|| format!("{}: cannot create", a.out.display()))?;
    let chosen: Vec<usize> = a.fold.map_or_else(|| (0..k).collect(), |i| vec![i]);
    let mut runs = Vec::new();
    for i in chosen {
        let fold = &plan[i];
        let dir = a.out.join(folds::fold_dir_name(i));
        let config = dir.join(eeglens_train::run_dir::CONFIG_FILE);
        if config.is_file() && !a.force {
            let recorded = RunDir::open(&dir)?.config().train.fold.clone();
            if recorded.as_ref() != Some(fold) {
                bail!(
                    "{}: is not fold {i} of this cross-validation ({k} folds, partition seed {seed}, {}); choose another --out, or --force to train it again",
                    dir.display(),
                    recorded.map_or("no fold".to_string(), |f| format!(
                        "it has fold {} of {}, partition seed {}, other subjects",
                        f.fold, f.folds, f.partition_seed
                    ))
                );
            }
        }
        let done = dir.join("eval-test.json").exists();
        // A model selection interrupted before its choice has candidates and no config.json yet.
        let started = config.exists() || dir.join(select::CANDIDATES_DIR).is_dir();
        if done && !a.force {
            say_out(a.json, &format!("fold {i}: complete in {} (skipped; --force retrains)", dir.display()));
            runs.push(serde_json::json!({"fold": i, "dir": dir, "skipped": true, "run": null}));
            continue;
        }
        if started && !a.resume && !a.force {
            bail!(
                "{}: fold {i} was interrupted; continue it with --resume, or start it again with --force",
                dir.display()
            );
        }
        say_out(
            a.json,
            &format!(
                "fold {i} of {k}: {} (tests {} subjects, validates on {}, trains on {})",
                dir.display(),
                fold.test.len(),
                fold.val.len(),
                fold.train.len()
            ),
        );
        let resume = started && !a.force;
        let one = Args {
            folds: None,
            fold: None,
            fold_seed: None,
            out: dir.clone(),
            resume,
            data: Some(data.clone()),
            ..a.clone()
        };
        let doc = run_one(one, g, Some(fold.clone()))?;
        runs.push(serde_json::json!({"fold": i, "dir": dir, "skipped": false, "run": doc}));
    }
    say_out(
        a.json,
        &format!(
            "folds: {} (evaluate them together with `eeglens eval --run {}`)",
            a.out.display(),
            a.out.display()
        ),
    );
    if a.json {
        let doc = serde_json::json!({"parent": a.out, "kind": "folds", "folds": k, "runs": runs});
        super::print_document(super::schema::TRAIN_RUNS, &doc)?;
    }
    Ok(())
}

/// The process's stop flag, raised by Ctrl-C, SIGTERM (what `kill` and batch
/// schedulers send at a time limit) and SIGHUP (installed once: `--seeds`
/// trains several runs).
fn stop_flag() -> anyhow::Result<Arc<AtomicBool>> {
    static STOP: std::sync::OnceLock<Arc<AtomicBool>> = std::sync::OnceLock::new();
    if let Some(s) = STOP.get() {
        return Ok(s.clone());
    }
    let stop = Arc::new(AtomicBool::new(false));
    let handler_flag = stop.clone();
    // First signal: finish the batch, write checkpoint-last, exit. Second: exit now.
    ctrlc::set_handler(move || {
        if handler_flag.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
    })
    .context("cannot install the Ctrl-C and SIGTERM handler")?;
    Ok(STOP.get_or_init(|| stop).clone())
}

/// Trains (or resumes) the run in `a.out`; `fold` is the cross-validation
/// fold a new run is (a resumed run keeps the fold it recorded). Returns the run's
/// `eeglens-train/1` document (without `schema`), which `--json` prints.
fn run_one(
    a: Args,
    g: &super::Global,
    fold: Option<eeglens_train::folds::Fold>,
) -> anyhow::Result<serde_json::Value> {
    let candidates_dir = a.out.join(select::CANDIDATES_DIR);
    let (cfg, data) = if a.resume && candidates_dir.is_dir() {
        // A selection run: its settings are stored with its candidates, which share them.
        if a.model.as_deref().is_some_and(|m| m != select::AUTO) {
            bail!("{}: is a model selection run (auto); resume it without --model", a.out.display());
        }
        let first = select::AUTO_CANDIDATES
            .iter()
            .map(|m| candidates_dir.join(m))
            .find(|d| d.join(eeglens_train::run_dir::CONFIG_FILE).is_file())
            .with_context(|| {
                format!(
                    "{}: nothing to resume: no candidate has started (start again with --force)",
                    a.out.display()
                )
            })?;
        let run = RunDir::open(&first)?;
        let data = a.data.clone().unwrap_or_else(|| run.data_path().to_path_buf());
        let mut cfg = settings(&a, run.config().train.clone())?;
        cfg.model = select::AUTO.into();
        (cfg, data)
    } else if a.resume {
        let run = RunDir::open(&a.out).with_context(|| "--resume needs an existing run".to_string())?;
        let data = a.data.clone().unwrap_or_else(|| run.data_path().to_path_buf());
        (settings(&a, run.config().train.clone())?, data)
    } else {
        let Some(data) = a.data.clone() else {
            bail!("--data FILE is required (an epoch store from `eeglens prepare`)")
        };
        (
            settings(
                &a,
                TrainConfig {
                    model: select::COMMAND_DEFAULT.into(),
                    fold,
                    lr_by_model: true,
                    ..TrainConfig::default()
                },
            )?,
            data,
        )
    };
    let mut store = EpochStore::open(&data)?;
    if let Some(f) = &cfg.fold {
        f.apply(&mut store);
    }
    // A numeric target trains one model: selection ranks by a classification figure.
    let mut cfg = cfg;
    if store.target().is_some() && cfg.model == select::AUTO {
        if a.model.is_some() || candidates_dir.is_dir() {
            bail!("{}: {}", data.display(), select::AUTO_ON_NUMERIC);
        }
        cfg.model = eeglens_train::DEFAULT_MODEL.into();
    }
    let stop = stop_flag()?;
    let opts = RunOptions { resume: a.resume, force: a.force, stop: Some(stop) };
    let bar = if g.progress() { indicatif::ProgressBar::new(0) } else { indicatif::ProgressBar::hidden() };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} {msg}")
            .expect("the template is valid")
            .progress_chars("=> "),
    );
    // Lines that matter in a log (start, resume, one per epoch) still go to
    // stderr when the bar is hidden because stderr is not a terminal.
    let quiet = g.quiet;
    let log = |m: String| {
        if !bar.is_hidden() {
            bar.println(m);
        } else if !quiet {
            eprintln!("{m}");
        }
    };
    // What changes the run (a setting, a taken-over lock) is said even with --quiet.
    let say = |m: String| {
        if bar.is_hidden() {
            eprintln!("{m}");
        } else {
            bar.println(m);
        }
    };
    let mut epochs = 0;
    let mut baseline_shown = false;
    let mut on_progress = |p: &Progress| match p {
        Progress::Start { epochs: e, epochs_done, batches_done, batches, n_train, n_val, threads } => {
            epochs = *e;
            bar.set_length(*batches as u64);
            bar.set_position(*batches_done as u64);
            bar.set_prefix(format!("epoch {}/{e}", epochs_done + 1));
            if *epochs_done > 0 || *batches_done > 0 {
                log(format!("resuming at epoch {}, batch {batches_done}", epochs_done + 1));
            }
            log(format!(
                "{n_train} training and {n_val} validation windows, {batches} batches per epoch, {threads} threads"
            ));
        }
        Progress::Batch { epoch, batch, loss, accuracy, samples_per_s, eta_s, .. } => {
            bar.set_prefix(format!("epoch {epoch}/{epochs}"));
            bar.set_position(*batch as u64);
            bar.set_message(format!(
                "loss {loss:.4} acc {accuracy:.3} {samples_per_s:.0} samples/s ETA {}",
                indicatif::HumanDuration(Duration::from_secs_f64(*eta_s))
            ));
        }
        Progress::Validating { .. } => bar.set_message("validating"),
        Progress::Epoch(r) if r.train_regression.is_some() => {
            let fig = |f: &Option<Box<eeglens_train::RegressionFigures>>| {
                f.as_ref().map_or("-".into(), |f| format!("MAE {:.3} R² {:.3} r {:.3}", f.mae, f.r2, f.r))
            };
            log(format!(
                "epoch {:>3}  train loss {:.4} {}  val loss {} {}  subj {}{}",
                r.epoch,
                r.train_loss,
                fig(&r.train_regression),
                opt(r.val_loss, 4),
                fig(&r.val_regression),
                fig(&r.val_subject_regression),
                if r.best { "  *" } else { "" }
            ));
            bar.set_position(0);
        }
        Progress::Epoch(r) => {
            log(format!(
                "epoch {:>3}  train loss {:.4} acc {:.3}  val loss {} acc {} subj {}  {:.0} samples/s{}",
                r.epoch,
                r.train_loss,
                r.train_accuracy,
                opt(r.val_loss, 4),
                opt(r.val_accuracy, 3),
                opt(r.val_subject_accuracy, 3),
                r.samples_per_s,
                if r.best { "  *" } else { "" }
            ));
            bar.set_position(0);
        }
        Progress::Testing => bar.set_message("testing the best model"),
        Progress::Baseline(b) => {
            // Model selection fits it once per candidate; the figures are the same.
            if !baseline_shown {
                for line in b.describe().lines() {
                    log(line.to_string());
                }
            }
            baseline_shown = true;
        }
        Progress::BaselineSkipped(why) => log(format!("baseline: not fitted: {why}")),
        Progress::SettingChanged(c) => say(format!("resume: {} (recorded in config.json)", c.describe())),
        Progress::LockTakenOver(h) => say(format!(
            "{}: taking over the lock of {}, which is no longer running",
            a.out.join(eeglens_train::lock::LOCK_FILE).display(),
            h.describe()
        )),
        Progress::Restart { attempt, reason } => {
            log(format!("restart: the network learned nothing ({reason}); attempt {attempt} from a new initialisation"));
        }
        Progress::Candidate { model, index, of, dir } => {
            log(format!("candidate {}/{of}: {model} in {}", index + 1, dir.display()));
        }
        // Said once training has ended, below.
        Progress::Selected(_) => {}
    };
    let (summary, selection) = if cfg.model == select::AUTO {
        let s = train_selected(&cfg, &select::AUTO_CANDIDATES, &store, &a.out, &opts, &mut on_progress)?;
        let seconds = s.seconds;
        (eeglens_train::TrainSummary { seconds, ..s.summary }, s.selection)
    } else {
        (train_with(&cfg, &store, &a.out, &opts, &mut on_progress)?, None)
    };
    bar.finish_and_clear();
    if let StopReason::Interrupted { epoch, batch } = summary.stop {
        eprintln!(
            "eeglens: interrupted at epoch {epoch} after batch {batch}; {} written; continue with `eeglens train --out {} --resume`",
            a.out.join(eeglens_train::run_dir::LAST_CHECKPOINT).display(),
            a.out.display()
        );
        std::process::exit(130);
    }
    let how = match summary.stop {
        StopReason::EarlyStopped => "stopped early",
        _ => "done",
    };
    let out = |line: String| say_out(a.json, &line);
    if let Some(sel) = &selection {
        out(sel.describe());
        out(format!(
            "{how}: {} epochs of {} (the chosen model); all candidates in {:.1} s; best epoch {}",
            summary.epochs_done,
            sel.chosen,
            summary.seconds,
            summary.best_epoch.map_or("-".into(), |e| e.to_string())
        ));
    } else {
        out(format!(
            "{how}: {} epochs in {:.1} s; best epoch {}",
            summary.epochs_done,
            summary.seconds,
            summary.best_epoch.map_or("-".into(), |e| e.to_string())
        ));
    }
    if let Some(t) = &summary.test_regression {
        for line in super::eval::describe_regression(t).lines() {
            println!("{line}");
        }
    }
    if let Some(t) = &summary.test {
        out(format!(
            "test: {:.3} per window (balanced {:.3}, AUC {}), {:.3} per subject over {} subjects",
            t.accuracy,
            t.balanced_accuracy,
            opt(t.auc, 3),
            t.subject_accuracy,
            t.n_subjects
        ));
        if let Some(c) = &t.chance {
            if c.learned {
                out(format!("chance: {}", c.describe()));
            } else {
                out(format!("WARNING: {}", c.describe()));
            }
        }
    }
    let run = RunDir::open(&a.out)?;
    let baseline = run.baseline().ok().flatten();
    let net_learned = summary.test.as_ref().and_then(|t| t.chance.as_ref()).is_some_and(|c| c.learned);
    let mut missed = None;
    if let Some(b) = &baseline {
        out(format!(
            "baseline: {:.3} per window, {:.3} per subject (band power + logistic regression; baseline.json)",
            b.test.accuracy, b.test.subject_accuracy
        ));
        let base_learned = b.test.chance.as_ref().is_some_and(|c| c.learned);
        if base_learned && !net_learned {
            let hint = missed_effect_hint(&cfg.model);
            out(hint.clone());
            missed = Some(hint);
        }
    }
    out(format!("run: {}", a.out.display()));
    Ok(train_document(&a, &summary, selection.as_ref(), run.config(), baseline.as_ref(), missed))
}

/// The `eeglens-train/1` document of a finished run (docs/json.md), without `schema`.
fn train_document(
    a: &Args,
    summary: &eeglens_train::TrainSummary,
    selection: Option<&select::Selection>,
    config: &eeglens_train::run_dir::RunConfig,
    baseline: Option<&eeglens_train::baseline::BaselineReport>,
    missed: Option<String>,
) -> serde_json::Value {
    let best = summary.best_epoch.and_then(|e| summary.records.iter().rev().find(|r| r.epoch == e));
    let val = best.map(|r| {
        serde_json::json!({
            "epoch": r.epoch,
            "loss": r.val_loss,
            "accuracy": r.val_accuracy,
            "balanced_accuracy": r.val_balanced_accuracy,
            "auc": r.val_auc,
            "subject_accuracy": r.val_subject_accuracy,
        })
    });
    let test = summary.test.as_ref().map(eeglens_train::EvalReport::without_windows);
    let attempts: Vec<serde_json::Value> = config
        .attempts
        .iter()
        .map(|t| serde_json::json!({"attempt": t.attempt, "reason": t.reason, "epochs": t.records.len()}))
        .collect();
    serde_json::json!({
        "run": a.out,
        "data": config.data.path,
        "model": config.train.model,
        "selection": selection,
        "stop": match summary.stop {
            StopReason::EarlyStopped => "early_stopped",
            _ => "completed",
        },
        "epochs_done": summary.epochs_done,
        "best_epoch": summary.best_epoch,
        "monitor": config.train.monitor,
        "best_value": summary.best_value,
        "seconds": summary.seconds,
        "threads": summary.threads,
        "val": val,
        "test": test,
        "learned": summary.test.as_ref().and_then(|t| t.chance.as_ref()).map(|c| c.learned),
        "baseline": baseline.map(|b| serde_json::json!({
            "accuracy": b.test.accuracy,
            "subject_accuracy": b.test.subject_accuracy,
            "learned": b.test.chance.as_ref().map(|c| c.learned),
            "top_band": b.top_band,
        })),
        "missed": missed,
        "attempts": attempts,
    })
}

/// What to do when the baseline decodes the data and the network does not:
/// the effect is there and this network missed it. The advice follows the
/// validation grid (VALIDATION.md), where no one model learned every
/// detectable effect, `logpower` learned the most (beta above all) and
/// `shallow` learned cells it missed.
fn missed_effect_hint(model: &str) -> String {
    if model == select::AUTO {
        return format!(
            "MISSED: the band-power baseline decodes this data but none of the candidate networks ({}) learned it, so an effect is there that these networks did not learn; \
             train more seeds (--seeds 0-4) and see VALIDATION.md for what each model learns",
            select::AUTO_CANDIDATES.join(", ")
        );
    }
    let other = if model == "logpower" { "shallow" } else { "logpower" };
    format!(
        "MISSED: the band-power baseline decodes this data but the network ({model}) is at chance, so an effect is there that this network did not learn; \
         train another model on it (--model {other}; see VALIDATION.md for what each model learns) and more seeds (--seeds 0-4)"
    )
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or("-".into(), |v| format!("{v:.digits$}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missed_effect_names_another_model_than_the_one_trained() {
        for model in ["shallow", "rvgg", "rvgg-bn", "eegnet", "logpower"] {
            let hint = missed_effect_hint(model);
            assert!(hint.starts_with("MISSED:"), "{hint}");
            assert!(hint.contains(&format!("network ({model})")), "{hint}");
            let suggested =
                hint.split("--model ").nth(1).and_then(|s| s.split(';').next()).expect("a model is named");
            assert_ne!(suggested, model, "{hint}");
            assert!(eeglens_nn::models::MODEL_NAMES.contains(&suggested), "{suggested} is a zoo model");
        }
    }

    #[test]
    fn a_missed_effect_under_selection_names_both_candidates_and_suggests_seeds() {
        let hint = missed_effect_hint(select::AUTO);
        assert!(hint.starts_with("MISSED:"), "{hint}");
        for m in select::AUTO_CANDIDATES {
            assert!(hint.contains(m), "{hint}");
        }
        assert!(hint.contains("--seeds"), "{hint}");
    }

    #[test]
    fn the_command_line_selects_among_zoo_models_unless_told_otherwise() {
        assert_eq!(select::COMMAND_DEFAULT, select::AUTO);
        let spec = eeglens_nn::models::ModelSpec::paper();
        for m in select::AUTO_CANDIDATES {
            let net = eeglens_nn::models::build(m, &spec, &mut eeglens_autodiff::Rng::new(0))
                .expect("every candidate builds for 24 x 256");
            assert_eq!(net.input_shape(), [1, 24, 256], "{m}");
        }
    }

    #[test]
    fn the_default_model_is_a_zoo_model_that_takes_the_papers_windows() {
        let spec = eeglens_nn::models::ModelSpec::paper();
        let m = eeglens_nn::models::build(
            eeglens_train::DEFAULT_MODEL,
            &spec,
            &mut eeglens_autodiff::Rng::new(0),
        )
        .expect("the default model builds for 24 x 256");
        assert_eq!(m.input_shape(), [1, 24, 256]);
        assert_eq!(TrainConfig::default().model, eeglens_train::DEFAULT_MODEL);
    }
}

//! Where a session starts: a new run directory, or the run in it resumed
//! from `checkpoint-last` with its history checked.

use std::path::{Path, PathBuf};

use eeglens_data::store::{EpochStore, Split};
use eeglens_nn::{load_checkpoint, load_optimizer, Optimizer, Sequential};

use super::checkpoint::{LoopState, STATE_KEY};
use super::model::build_model;
use super::{RunOptions, SettingChange};
use crate::config::TrainConfig;
use crate::error::TrainError;
use crate::run_dir::{
    read_config, read_metrics, write_json, write_metrics, Attempt, DataInfo, EpochRecord, ModelInfo,
    RunConfig, Versions, BASELINE_FILE, BEST_CHECKPOINT, CONFIG_FILE, LAST_CHECKPOINT, METRICS_FILE,
    RUN_FORMAT,
};

/// The model, optimiser, position and records a session starts from.
pub(super) struct Setup {
    pub(super) config: RunConfig,
    pub(super) model: Sequential,
    pub(super) opt: Optimizer,
    pub(super) state: LoopState,
    pub(super) records: Vec<EpochRecord>,
    /// stored settings a resumed session changes
    pub(super) changes: Vec<SettingChange>,
}

/// Files a run writes (removed by `force`).
pub(crate) fn run_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = [
        CONFIG_FILE,
        METRICS_FILE,
        BEST_CHECKPOINT,
        LAST_CHECKPOINT,
        BASELINE_FILE,
        crate::select::SELECTION_FILE,
    ]
    .iter()
    .map(|f| dir.join(f))
    .collect();
    v.extend(Split::ALL.iter().map(|s| dir.join(format!("eval-{}.json", s.name()))));
    v
}

/// Whether `a` and `b` are the same existing file.
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// An entry of the existing directory `dir` that no run wrote (the run
/// lock and write temporaries do not count); `None` for a missing or empty one.
pub(crate) fn foreign_entry(dir: &Path) -> Result<Option<String>, TrainError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        // Not a directory, or unreadable: creating the run says so.
        Err(_) => return Ok(None),
    };
    for e in entries {
        let name = e.map_err(|e| TrainError::io(dir, e))?.file_name();
        if !(name == crate::lock::LOCK_FILE || eeglens_io::atomic::is_temporary(&name)) {
            return Ok(Some(name.to_string_lossy().into_owned()));
        }
    }
    Ok(None)
}

pub(super) fn new_run(
    cfg: &TrainConfig,
    store: &EpochStore,
    dir: &Path,
    opts: &RunOptions,
) -> Result<Setup, TrainError> {
    let model = build_model(cfg, store)?;
    if run_files(dir).iter().any(|f| same_file(f, store.path())) {
        return Err(TrainError::StoreInRunFiles { data: store.path().to_path_buf() });
    }
    if !opts.force {
        if dir.join(CONFIG_FILE).exists() {
            return Err(TrainError::RunExists { path: dir.to_path_buf() });
        }
        if let Some(entry) = foreign_entry(dir)? {
            return Err(TrainError::NotARun { path: dir.to_path_buf(), entry });
        }
    }
    for f in run_files(dir) {
        match std::fs::remove_file(&f) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(TrainError::io(&f, e)),
            _ => {}
        }
    }
    // A model selection's candidates belong to the run being replaced: left
    // behind, `--resume` would take this run for a selection.
    let candidates = dir.join(crate::select::CANDIDATES_DIR);
    if candidates.is_dir() {
        std::fs::remove_dir_all(&candidates).map_err(|e| TrainError::io(&candidates, e))?;
    }
    std::fs::create_dir_all(dir).map_err(|e| TrainError::io(dir, e))?;
    let threads = cfg.threads.unwrap_or_else(rayon::current_num_threads);
    let config = RunConfig {
        format: RUN_FORMAT.into(),
        train: cfg.clone(),
        data: DataInfo::of_store(store)?,
        model: ModelInfo {
            name: cfg.model.clone(),
            input_shape: model.input_shape().to_vec(),
            n_params: model.num_params(),
        },
        threads,
        versions: Versions::current(),
        created_unix_s: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        attempts: Vec::new(),
    };
    write_json(&dir.join(CONFIG_FILE), RUN_FORMAT, &config)?;
    write_metrics(&dir.join(METRICS_FILE), &[])?;
    let opt = Optimizer::new(cfg.optimizer_config());
    Ok(Setup { config, model, opt, state: LoopState::default(), records: Vec::new(), changes: Vec::new() })
}

pub(super) fn resume_run(cfg: &TrainConfig, store: &EpochStore, dir: &Path) -> Result<Setup, TrainError> {
    let nothing =
        |reason: &str| TrainError::NothingToResume { path: dir.to_path_buf(), reason: reason.into() };
    if !dir.join(CONFIG_FILE).exists() {
        return Err(nothing("no config.json (start a new run without --resume)"));
    }
    let mut config = read_config(dir)?;
    let last = dir.join(LAST_CHECKPOINT);
    if !last.exists() {
        return Err(nothing("no checkpoint-last.safetensors yet (start again with --force)"));
    }
    check_same_run(cfg, store, dir, &config)?;
    let (model, meta, file) = load_checkpoint(&last)?;
    if meta.model != config.train.model {
        return Err(TrainError::RunFile { path: last, msg: format!("holds model `{}`", meta.model) });
    }
    let opt =
        load_optimizer(&file, &model)?.unwrap_or_else(|| Optimizer::new(config.train.optimizer_config()));
    let state: LoopState = meta
        .extra
        .get(STATE_KEY)
        .ok_or_else(|| TrainError::RunFile { path: last.clone(), msg: format!("no `{STATE_KEY}` metadata") })
        .and_then(|s| {
            serde_json::from_str(s)
                .map_err(|e| TrainError::RunFile { path: last.clone(), msg: format!("`{STATE_KEY}`: {e}") })
        })?;
    // A restart interrupted after its checkpoint but before config.json:
    // the checkpoint's attempt is the truth; the abandoned attempt's epochs are lost.
    while config.attempts.len() < state.attempt {
        config.attempts.push(Attempt {
            attempt: config.attempts.len(),
            reason: "abandoned by stuck detection; its epochs were lost in an interruption".into(),
            records: Vec::new(),
        });
    }
    if cfg.epochs < state.epochs_done {
        return Err(TrainError::ResumeEpochs {
            path: dir.to_path_buf(),
            asked: cfg.epochs,
            done: state.epochs_done,
            stored: config.train.epochs,
        });
    }
    // The settings a session may change, announced and recorded, never silently.
    let changes = setting_changes(&config.train, cfg);
    config.train.epochs = cfg.epochs;
    config.train.patience = cfg.patience;
    config.train.threads = cfg.threads;
    let metrics = dir.join(METRICS_FILE);
    let records = resumed_records(read_metrics(&metrics)?, &state, &metrics, &last)?;
    write_metrics(&metrics, &records)?;
    write_json(&dir.join(CONFIG_FILE), RUN_FORMAT, &config)?;
    Ok(Setup { config, model, opt, state, records, changes })
}

/// Refuses to resume the run in `dir` (its `config`) with another store or with settings a
/// session may not change.
fn check_same_run(
    cfg: &TrainConfig,
    store: &EpochStore,
    dir: &Path,
    config: &RunConfig,
) -> Result<(), TrainError> {
    let mismatch = |field, stored: String, given: String| TrainError::ResumeMismatch {
        path: dir.to_path_buf(),
        field,
        stored,
        given,
    };
    if let Some((then, now)) = crate::data_check::differs(&config.data, store)? {
        return Err(mismatch(
            "data file",
            format!("{} ({then})", config.data.path.display()),
            format!("{} ({now})", store.path().display()),
        ));
    }
    let s = &config.train;
    let same_lr = (s.lr - cfg.lr).abs() <= 1e-12 * s.lr.abs().max(cfg.lr.abs());
    let checks: [(&'static str, bool, String, String); 7] = [
        ("model", s.model == cfg.model, s.model.clone(), cfg.model.clone()),
        ("batch", s.batch == cfg.batch, s.batch.to_string(), cfg.batch.to_string()),
        ("seed", s.seed == cfg.seed, s.seed.to_string(), cfg.seed.to_string()),
        ("lr", same_lr, s.lr.to_string(), cfg.lr.to_string()),
        ("optimizer", s.optimizer == cfg.optimizer, s.optimizer.name().into(), cfg.optimizer.name().into()),
        ("balanced sampling", s.balanced == cfg.balanced, s.balanced.to_string(), cfg.balanced.to_string()),
        ("mix", s.mix == cfg.mix, s.mix.to_string(), cfg.mix.to_string()),
    ];
    if let Some((field, _, stored, given)) = checks.into_iter().find(|c| !c.1) {
        return Err(mismatch(field, stored, given));
    }
    if s.fold != cfg.fold {
        let describe = |f: &Option<crate::folds::Fold>| {
            f.as_ref().map_or("no fold (the store's split)".to_string(), |f| {
                format!("fold {} of {} (partition seed {})", f.fold, f.folds, f.partition_seed)
            })
        };
        return Err(mismatch("fold", describe(&s.fold), describe(&cfg.fold)));
    }
    Ok(())
}

/// The settings a session may change (`epochs`, `patience`, `threads`) whose value in `cfg`
/// differs from the stored one.
fn setting_changes(stored: &TrainConfig, cfg: &TrainConfig) -> Vec<SettingChange> {
    let opt_str = |v: Option<usize>, none: &str| v.map_or_else(|| none.to_string(), |v| v.to_string());
    [
        ("epochs", stored.epochs.to_string(), cfg.epochs.to_string()),
        ("patience", opt_str(stored.patience, "none"), opt_str(cfg.patience, "none")),
        ("threads", opt_str(stored.threads, "one per core"), opt_str(cfg.threads, "one per core")),
    ]
    .into_iter()
    .filter(|(_, stored, now)| stored != now)
    .map(|(field, stored, now)| SettingChange { field, stored, now })
    .collect()
}

/// The lines of `metrics.jsonl` a resumed run keeps: epochs 1 to the
/// checkpoint's, each once, of the checkpoint's attempt. Later lines (an
/// epoch written just before an interruption, whose checkpoint was not) are
/// dropped; a missing, repeated or foreign line below is an inconsistent
/// history, refused rather than continued.
fn resumed_records(
    all: Vec<EpochRecord>,
    state: &LoopState,
    metrics: &Path,
    checkpoint: &Path,
) -> Result<Vec<EpochRecord>, TrainError> {
    let done = state.epochs_done;
    let kept: Vec<EpochRecord> = all.into_iter().filter(|r| r.epoch <= done).collect();
    let epochs: Vec<usize> = kept.iter().map(|r| r.epoch).collect();
    let problem = if let Some(missing) = (1..=done).find(|e| !epochs.contains(e)) {
        Some(format!("lacks epoch {missing}"))
    } else if epochs.len() != done || epochs.windows(2).any(|w| w[0] >= w[1]) {
        Some("holds epochs repeated or out of order".to_string())
    } else {
        kept.iter().find(|r| r.attempt != state.attempt).map(|r| {
            format!(
                "holds epoch {} of attempt {}, not of the checkpoint's attempt {}",
                r.epoch, r.attempt, state.attempt
            )
        })
    };
    match problem {
        None => Ok(kept),
        Some(p) => Err(TrainError::RunFile {
            path: metrics.to_path_buf(),
            msg: format!(
                "{p} (it holds epochs {}) while {} is after epoch {done}; the run's history cannot be continued: restore the file, or train again with --force",
                epoch_ranges(&epochs),
                checkpoint.display()
            ),
        }),
    }
}

/// `1-4, 6-13`; `none` for no epoch.
fn epoch_ranges(epochs: &[usize]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < epochs.len() {
        let mut j = i;
        while j + 1 < epochs.len() && epochs[j + 1] == epochs[j] + 1 {
            j += 1;
        }
        parts.push(if i == j { epochs[i].to_string() } else { format!("{}-{}", epochs[i], epochs[j]) });
        i = j + 1;
    }
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(", ")
    }
}

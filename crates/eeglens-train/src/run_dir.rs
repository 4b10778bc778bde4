//! Run directories: everything a training run leaves behind.
//!
//! | file | written | content |
//! | --- | --- | --- |
//! | `config.json` | at the start | [`RunConfig`]: settings, data file, its SHA-256 and content hash, each subject's split, model, threads, versions |
//! | `metrics.jsonl` | after every epoch | one [`EpochRecord`] per line |
//! | `checkpoint-last.safetensors` | after every epoch and on interruption | weights, optimiser state and the loop's position (`train.state`) |
//! | `checkpoint-best.safetensors` | when the monitored figure improves | weights of the best epoch |
//! | `eval-<split>.json` | at the end (`test`), or by `eeglens eval` | [`EvalReport`](crate::EvalReport) |
//!
//! Every file is written to a temporary name and renamed into place, so a
//! crash never leaves a torn checkpoint or a half-written JSON document.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use eeglens_data::store::{EpochStore, Split};
use eeglens_nn::{load_checkpoint, CheckpointMeta, Sequential};
use serde::{Deserialize, Serialize};

use crate::config::TrainConfig;
use crate::error::TrainError;

/// The prefix of a seed run's folder name inside its parent (`seed-3`).
pub const SEED_PREFIX: &str = "seed-";

/// The folder name of seed `seed`'s run inside a parent run directory
/// (`train --seeds`): `seed-<n>`.
pub fn seed_dir_name(seed: u64) -> String {
    format!("{SEED_PREFIX}{seed}")
}

/// The seed runs of a parent directory: every `seed-<n>/` holding a
/// `config.json`, sorted by seed. Empty when `dir` is a run itself, is not a
/// directory, or holds none.
///
/// # Errors
/// [`TrainError::Io`] when the directory cannot be listed.
pub fn seed_runs(dir: &Path) -> Result<Vec<(u64, PathBuf)>, TrainError> {
    numbered_runs(dir, SEED_PREFIX)
}

/// The runs of a parent directory named `<prefix><n>/` and holding a
/// `config.json`, sorted by `n`: what [`seed_runs`] and
/// [`crate::folds::fold_runs`] list. Empty when `dir` is a run itself, is not
/// a directory, or holds none.
pub(crate) fn numbered_runs(dir: &Path, prefix: &str) -> Result<Vec<(u64, PathBuf)>, TrainError> {
    if dir.join(CONFIG_FILE).exists() || !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| TrainError::io(dir, e))? {
        let entry = entry.map_err(|e| TrainError::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(n) = name.strip_prefix(prefix).and_then(|n| n.parse::<u64>().ok()) else { continue };
        if entry.path().join(CONFIG_FILE).is_file() {
            out.push((n, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// The format tag of `config.json`.
pub const RUN_FORMAT: &str = "eeglens-run/1";
/// Name of the run's configuration file.
pub const CONFIG_FILE: &str = "config.json";
/// Name of the per-epoch metrics file.
pub const METRICS_FILE: &str = "metrics.jsonl";
/// Name of the best checkpoint.
pub const BEST_CHECKPOINT: &str = "checkpoint-best.safetensors";
/// Name of the last checkpoint.
pub const LAST_CHECKPOINT: &str = "checkpoint-last.safetensors";
/// Name of the band-power baseline's result.
pub const BASELINE_FILE: &str = "baseline.json";

/// The data a run was trained on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DataInfo {
    /// the epoch store, as an absolute path when it could be resolved
    pub path: PathBuf,
    /// SHA-256 of the file, lower-case hex
    pub sha256: String,
    /// file size in bytes
    pub bytes: u64,
    /// windows in the store
    pub n_windows: usize,
    /// windows per split: train, val, test
    pub n_split: [usize; 3],
    /// channels per window
    pub n_channels: usize,
    /// samples per window
    pub n_samples: usize,
    /// sampling rate, Hz
    pub fs: f64,
    /// channel names
    pub channels: Vec<String>,
    /// class names
    pub classes: Vec<String>,
    /// the participants.tsv column of the labels
    pub label_column: String,
    /// the content hash the store's writer recorded (`None` for stores
    /// written before it existed, and in older runs)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_sha256: Option<String>,
    /// each subject's split ([`crate::data_check::subject_splits`]); `None` in
    /// runs made before it was recorded
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_splits: Option<BTreeMap<String, String>>,
    /// a numeric target's standardisation (the training split's mean and SD): the run is a
    /// regression; `None` for a classification
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<crate::regression::TargetScale>,
}

impl DataInfo {
    /// What a run records about `store` (reads the whole file for its SHA-256).
    ///
    /// # Errors
    /// [`TrainError::Io`] when the file cannot be read.
    pub fn of_store(store: &EpochStore) -> Result<Self, TrainError> {
        let path = store.path().canonicalize().unwrap_or_else(|_| store.path().to_path_buf());
        let (sha256, bytes) = file_sha256(store.path())?;
        let m = store.meta();
        Ok(DataInfo {
            path,
            sha256,
            bytes,
            n_windows: store.len(),
            n_split: Split::ALL.map(|s| store.indices(s).len()),
            n_channels: store.n_channels(),
            n_samples: store.n_samples(),
            fs: m.fs,
            channels: m.channels.clone(),
            classes: m.classes.clone(),
            label_column: m.label_column.clone(),
            content_sha256: store.recorded_content_sha256().map(String::from),
            subject_splits: Some(crate::data_check::subject_splits(store)),
            target: crate::regression::TargetScale::of_store(store),
        })
    }
}

/// The model a run trains.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// zoo name
    pub name: String,
    /// per-sample input shape `[1, channels, samples]`
    pub input_shape: Vec<usize>,
    /// learnable scalars
    pub n_params: usize,
}

/// Everything needed to reproduce a run: `config.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    /// [`RUN_FORMAT`]
    pub format: String,
    /// the training settings
    pub train: TrainConfig,
    /// the data file
    pub data: DataInfo,
    /// the model
    pub model: ModelInfo,
    /// worker threads actually used
    pub threads: usize,
    /// versions of eeglens-train and the engine, and the platform
    pub versions: Versions,
    /// seconds since the Unix epoch when the run was created
    pub created_unix_s: u64,
    /// earlier attempts abandoned because the network learned nothing
    /// (stuck detection); the current attempt is number `attempts.len()`
    #[serde(default)]
    pub attempts: Vec<Attempt>,
}

/// An attempt abandoned by stuck detection: its seed stream and its epochs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    /// attempt number, from 0
    pub attempt: usize,
    /// why it was abandoned
    pub reason: String,
    /// its epochs, as they were in `metrics.jsonl`
    pub records: Vec<EpochRecord>,
}

/// Versions and platform recorded with a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Versions {
    /// version of eeglens-train (the workspace version)
    pub eeglens: String,
    /// target architecture, e.g. `x86_64`
    pub arch: String,
    /// target operating system, e.g. `linux`
    pub os: String,
}

impl Versions {
    /// This build's versions.
    pub fn current() -> Self {
        Self {
            eeglens: env!("CARGO_PKG_VERSION").into(),
            arch: std::env::consts::ARCH.into(),
            os: std::env::consts::OS.into(),
        }
    }
}

/// One line of `metrics.jsonl`: what an epoch did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// epoch number, from 1
    pub epoch: usize,
    /// optimiser steps taken by the end of the epoch
    pub step: u64,
    /// learning rate of the epoch's last step
    pub lr: f64,
    /// mean training loss over the epoch's windows (dropout on)
    pub train_loss: f64,
    /// training accuracy over the epoch's windows (dropout on)
    pub train_accuracy: f64,
    /// mean validation cross-entropy (`None` without validation windows)
    pub val_loss: Option<f64>,
    /// validation accuracy per window
    pub val_accuracy: Option<f64>,
    /// validation balanced accuracy per window
    pub val_balanced_accuracy: Option<f64>,
    /// validation ROC AUC per window
    pub val_auc: Option<f64>,
    /// validation accuracy per subject (mean window probabilities)
    pub val_subject_accuracy: Option<f64>,
    /// the monitored figure improved in this epoch (checkpoint-best written)
    pub best: bool,
    /// wall-clock seconds of the epoch (training and validation)
    pub seconds: f64,
    /// training windows per second (data loading included)
    pub samples_per_s: f64,
    /// seconds spent copying windows out of the store
    pub load_seconds: f64,
    /// `load_seconds` over the training part of the epoch
    pub load_fraction: f64,
    /// the attempt this epoch belongs to (0 unless stuck detection re-initialised the network)
    #[serde(default)]
    pub attempt: usize,
    /// a regression's training figures (eval mode, after the epoch), in the target's unit
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_regression: Option<Box<crate::regression::RegressionFigures>>,
    /// a regression's validation figures per window, in the target's unit
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_regression: Option<Box<crate::regression::RegressionFigures>>,
    /// a regression's validation figures per subject (mean predictions)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_subject_regression: Option<Box<crate::regression::RegressionFigures>>,
}

impl EpochRecord {
    /// The record with its timing fields zeroed (what two identical runs share).
    pub fn without_timing(&self) -> Self {
        Self { seconds: 0.0, samples_per_s: 0.0, load_seconds: 0.0, load_fraction: 0.0, ..self.clone() }
    }
}

/// An existing run directory.
#[derive(Clone, Debug)]
pub struct RunDir {
    path: PathBuf,
    config: RunConfig,
}

impl RunDir {
    /// Opens the run in `path` (reads its `config.json`).
    ///
    /// # Errors
    /// [`TrainError::Io`] when `config.json` cannot be read (for example when
    /// `path` is not a run directory); [`TrainError::RunFile`] when it is malformed.
    pub fn open(path: &Path) -> Result<Self, TrainError> {
        let config = read_config(path)?;
        Ok(Self { path: path.to_path_buf(), config })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The run's `config.json`.
    pub fn config(&self) -> &RunConfig {
        &self.config
    }

    /// The epoch store the run was trained on.
    pub fn data_path(&self) -> &Path {
        &self.config.data.path
    }

    /// Opens the epoch store to evaluate or read this run: the run's own
    /// (`data` is `None`), which must be unchanged since training, or the one
    /// `data` names, which must be the run's or keep its subjects' splits
    /// (see [`crate::data_check`]). A fold run's store is re-split as the
    /// fold ([`crate::folds::Fold::apply`]).
    ///
    /// # Errors
    /// As [`EpochStore::open`] (as [`TrainError::Data`]);
    /// [`TrainError::StoreMismatch`] saying what differs and what to do.
    pub fn open_store(&self, data: Option<&Path>) -> Result<EpochStore, TrainError> {
        let mut store = EpochStore::open(data.unwrap_or_else(|| self.data_path()))?;
        // A fold of a cross-validation: its subjects' splits are the fold's, not the file's.
        if let Some(f) = &self.config.train.fold {
            f.apply(&mut store);
        }
        self.check_store(&store, data.is_some())?;
        Ok(store)
    }

    /// Checks an open store as [`RunDir::open_store`] does; `explicit` when
    /// the user named it rather than taking the run's.
    ///
    /// # Errors
    /// As [`crate::data_check::check_store_for_run`].
    pub fn check_store(&self, store: &EpochStore, explicit: bool) -> Result<(), TrainError> {
        crate::data_check::check_store_for_run(&self.config.data, &self.path, store, explicit)
    }

    /// `checkpoint-best.safetensors`.
    pub fn best_checkpoint_path(&self) -> PathBuf {
        self.path.join(BEST_CHECKPOINT)
    }

    /// `checkpoint-last.safetensors`.
    pub fn last_checkpoint_path(&self) -> PathBuf {
        self.path.join(LAST_CHECKPOINT)
    }

    /// `eval-<split>.json`.
    pub fn eval_path(&self, split: &str) -> PathBuf {
        self.path.join(format!("eval-{split}.json"))
    }

    /// The band-power baseline recorded with the run (`None` when the run has
    /// no `baseline.json`, e.g. trained with the baseline off).
    ///
    /// # Errors
    /// [`TrainError::RunFile`] when the file is not a baseline report.
    pub fn baseline(&self) -> Result<Option<crate::BaselineReport>, TrainError> {
        let path = self.path.join(BASELINE_FILE);
        if !path.exists() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path).map_err(|e| TrainError::io(&path, e))?;
        serde_json::from_str(&text).map(Some).map_err(|e| TrainError::RunFile { path, msg: e.to_string() })
    }

    /// The per-epoch records of `metrics.jsonl` (empty before the first epoch ends).
    ///
    /// # Errors
    /// [`TrainError::RunFile`] naming the malformed line.
    pub fn metrics(&self) -> Result<Vec<EpochRecord>, TrainError> {
        read_metrics(&self.path.join(METRICS_FILE))
    }

    /// The best model (from `checkpoint-best`, or `checkpoint-last` when no
    /// best was written yet) and its checkpoint metadata.
    ///
    /// # Errors
    /// [`TrainError::RunFile`] when neither checkpoint exists; as [`load_checkpoint`].
    pub fn load_model(&self) -> Result<(Sequential, CheckpointMeta), TrainError> {
        let path = [self.best_checkpoint_path(), self.last_checkpoint_path()]
            .into_iter()
            .find(|p| p.exists())
            .ok_or_else(|| TrainError::RunFile {
                path: self.path.clone(),
                msg: "no checkpoint yet: training has not finished an epoch".into(),
            })?;
        let (model, meta, _) = load_checkpoint(&path)?;
        Ok((model, meta))
    }
}

pub(crate) fn read_config(dir: &Path) -> Result<RunConfig, TrainError> {
    let p = dir.join(CONFIG_FILE);
    let text = std::fs::read_to_string(&p).map_err(|e| TrainError::io(&p, e))?;
    let cfg: RunConfig = serde_json::from_str(&text)
        .map_err(|e| TrainError::RunFile { path: p.clone(), msg: format!("not a run configuration: {e}") })?;
    if cfg.format != RUN_FORMAT {
        return Err(TrainError::RunFile {
            path: p,
            msg: format!("format {:?}, expected {RUN_FORMAT:?}", cfg.format),
        });
    }
    Ok(cfg)
}

pub(crate) fn read_metrics(path: &Path) -> Result<Vec<EpochRecord>, TrainError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(TrainError::io(path, e)),
    };
    parse_json_lines(path, &text)
}

/// The records of `text`, the JSON-lines content of `path` (blank lines
/// skipped); an unreadable line is a [`TrainError::RunFile`] naming it.
pub(crate) fn parse_json_lines<T: serde::de::DeserializeOwned>(
    path: &Path,
    text: &str,
) -> Result<Vec<T>, TrainError> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| TrainError::RunFile {
                path: path.to_path_buf(),
                msg: format!("line {}: {e}", i + 1),
            })
        })
        .collect()
}

/// Writes `bytes` to `path` atomically and durably ([`eeglens_io::atomic`]).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), TrainError> {
    eeglens_io::atomic::write_file(path, bytes).map_err(|e| TrainError::io(path, e))
}

/// Writes `value` as pretty JSON to `path`, atomically, with `schema` (its tag in
/// docs/json.md) as its `schema` field.
pub(crate) fn write_json<T: Serialize>(path: &Path, schema: &str, value: &T) -> Result<(), TrainError> {
    let mut doc = serde_json::to_value(value).expect("plain data serialises to JSON");
    if let Some(o) = doc.as_object_mut() {
        o.insert("schema".into(), schema.into());
    }
    let mut s = serde_json::to_string_pretty(&doc).expect("plain data serialises to JSON");
    s.push('\n');
    write_atomic(path, s.as_bytes())
}

/// Writes the records as `metrics.jsonl`, atomically (one JSON object per line).
pub(crate) fn write_metrics(path: &Path, records: &[EpochRecord]) -> Result<(), TrainError> {
    let mut s = String::new();
    for r in records {
        s.push_str(&serde_json::to_string(r).expect("plain data serialises to JSON"));
        s.push('\n');
    }
    write_atomic(path, s.as_bytes())
}

/// SHA-256 of a file (lower-case hex) and its size.
///
/// # Errors
/// [`TrainError::Io`].
pub fn file_sha256(path: &Path) -> Result<(String, u64), TrainError> {
    eeglens_io::build::sha256_file(path).map_err(|e| TrainError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_a_known_string() {
        let d = std::env::temp_dir().join(format!("eeglens-train-sha-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("dir");
        let _scratch = crate::scratch::Scratch(d.clone());
        let p = d.join("abc.txt");
        std::fs::write(&p, b"abc").expect("write");
        let (hex, n) = file_sha256(&p).expect("hash");
        // FIPS 180-2 test vector for "abc".
        assert_eq!(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(n, 3);
        write_atomic(&p, b"new").expect("atomic write");
        assert_eq!(std::fs::read(&p).expect("read"), b"new");
    }
}

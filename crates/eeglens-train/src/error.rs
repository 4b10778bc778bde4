//! Errors of training, evaluation and run directories: every variant names the
//! file, the setting or the epoch and batch it is about.

use std::path::PathBuf;

use thiserror::Error;

/// What went wrong while training, evaluating or reading a run directory.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TrainError {
    /// An operating-system error on a file or directory of the run.
    #[error("{}: {cause}", path.display())]
    Io {
        /// the file or directory
        path: PathBuf,
        /// the underlying error (shown in the message, so not chained as a source: printing the
        /// chain would repeat it)
        cause: std::io::Error,
    },
    /// A setting that cannot work (zero batch, unknown optimiser, ...).
    #[error("invalid setting `{field}`: {msg}")]
    Config {
        /// the setting, as spelled on the command line
        field: &'static str,
        /// what is wrong with it
        msg: String,
    },
    /// The model cannot be built for the data's window shape.
    #[error("model `{model}` does not fit windows of {n_channels} channels x {n_samples} samples in {}: {cause}", data.display())]
    ModelShape {
        /// zoo name
        model: String,
        /// the epoch store
        data: PathBuf,
        /// channels per window
        n_channels: usize,
        /// samples per window
        n_samples: usize,
        /// the layer that cannot take its input (shown in the message, so not chained as a
        /// source)
        cause: Box<eeglens_nn::NnError>,
    },
    /// A split the work needs holds no window.
    #[error("{}: the {split} split holds no window", data.display())]
    EmptySplit {
        /// the epoch store
        data: PathBuf,
        /// `train`, `val` or `test`
        split: &'static str,
    },
    /// The run directory already holds a run and neither resuming nor overwriting was asked for.
    #[error("{}: already holds a run (config.json); continue it with --resume or overwrite it with --force", path.display())]
    RunExists {
        /// the run directory
        path: PathBuf,
    },
    /// The directory holds a model selection that stopped before its choice
    /// (`candidates/`, no `config.json`) and neither resuming nor overwriting was asked for.
    #[error("{}: holds a model selection that has not chosen yet (candidates/); continue it with --resume or start again with --force", path.display())]
    SelectionStarted {
        /// the run directory
        path: PathBuf,
    },
    /// The run directory exists, holds files and no run, and overwriting was not asked for.
    #[error("{}: exists and holds `{entry}` but no run (no config.json); choose another --out or pass --force to train into it", path.display())]
    NotARun {
        /// the directory
        path: PathBuf,
        /// one of the entries it holds
        entry: String,
    },
    /// The run would replace its own epoch store (named like one of the run's files).
    #[error("{}: is the epoch store being trained on; a run directory cannot hold its store under the name of a run file", data.display())]
    StoreInRunFiles {
        /// the epoch store
        data: PathBuf,
    },
    /// Another process trains in the run directory (see [`crate::lock`]).
    #[error("{}: the run is locked by {by}; wait for that run to end", path.display())]
    Locked {
        /// the lock file
        path: PathBuf,
        /// who holds it
        by: String,
    },
    /// `--resume --epochs N` with fewer epochs than the run has done.
    #[error("{}: cannot resume with --epochs {asked}: the run has done {done} epochs already (it was set to {stored}); give at least {done}, or leave --epochs out", path.display())]
    ResumeEpochs {
        /// the run directory
        path: PathBuf,
        /// epochs asked for
        asked: usize,
        /// epochs done (of the current attempt)
        done: usize,
        /// epochs in config.json
        stored: usize,
    },
    /// `--resume` on a directory that holds no resumable run.
    #[error("{}: nothing to resume: {reason}", path.display())]
    NothingToResume {
        /// the run directory
        path: PathBuf,
        /// what is missing
        reason: String,
    },
    /// `--resume` with settings or data that differ from the stored run's.
    #[error("{}: cannot resume with a different {field}: the run has {stored}, now {given}", path.display())]
    ResumeMismatch {
        /// the run directory
        path: PathBuf,
        /// which setting differs
        field: &'static str,
        /// the stored value
        stored: String,
        /// the value given now
        given: String,
    },
    /// An epoch store that is not the run's, or whose subjects changed split
    /// (see [`crate::data_check`]).
    #[error("{}: {msg}", data.display())]
    StoreMismatch {
        /// the epoch store
        data: PathBuf,
        /// what differs and what to do
        msg: String,
    },
    /// A store whose train split holds one class (or a store of one class).
    #[error("{}: {msg}", data.display())]
    OneClass {
        /// the epoch store
        data: PathBuf,
        /// which class, and what to do
        msg: String,
    },
    /// A file of the run directory is malformed.
    #[error("{}: {msg}", path.display())]
    RunFile {
        /// the file
        path: PathBuf,
        /// what is wrong (the line or key)
        msg: String,
    },
    /// The loss or the gradients stopped being finite; the last good checkpoint is kept.
    #[error("training diverged at epoch {epoch}, batch {batch}: {what} is not finite ({value}); {kept}")]
    Diverged {
        /// epoch (from 1)
        epoch: usize,
        /// batch within the epoch (from 1)
        batch: usize,
        /// `loss`, `gradient norm` or `validation loss`
        what: &'static str,
        /// the offending value
        value: f64,
        /// which checkpoint holds the last good state
        kept: String,
    },
    /// An error of the network layer (checkpoints, shapes).
    #[error(transparent)]
    Nn(#[from] eeglens_nn::NnError),
    /// An error of the data layer (epoch stores).
    #[error(transparent)]
    Data(#[from] eeglens_data::DataError),
}

impl TrainError {
    pub(crate) fn io(path: impl Into<PathBuf>, cause: std::io::Error) -> Self {
        Self::Io { path: path.into(), cause }
    }
}

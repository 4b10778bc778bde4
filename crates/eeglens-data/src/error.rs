//! Errors of dataset preparation, epoch stores and the synthetic generator.

use std::path::PathBuf;

use thiserror::Error;

/// What went wrong, naming the file and the problem.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DataError {
    /// An operating-system error on a file.
    #[error("{}: {cause}", path.display())]
    Io {
        /// the file
        path: PathBuf,
        /// the underlying error (shown in the message, so not chained as a source: printing the
        /// chain would repeat it)
        cause: std::io::Error,
    },
    /// A file that is not an eeglens epoch store, or a damaged one.
    #[error("{}: not an eeglens epoch store: {reason}", path.display())]
    NotAnEpochStore {
        /// the file
        path: PathBuf,
        /// what is missing or wrong
        reason: String,
    },
    /// A stored window holds NaN or an infinity (a store written by other software, or damaged).
    #[error(
        "{}: window {window} (subject {subject}, {split} split) holds a non-finite value ({value}) at channel {channel}, sample {sample}; \
         training or evaluating on it gives meaningless results: remove that window or prepare the store again (eeglens prepare never writes one)",
        path.display()
    )]
    NonFinite {
        /// the epoch store
        path: PathBuf,
        /// window index in the store
        window: usize,
        /// its subject's identifier
        subject: String,
        /// its split (`train`, `val` or `test`)
        split: &'static str,
        /// the channel's name
        channel: String,
        /// sample index within the window
        sample: usize,
        /// the value (NaN, inf or -inf)
        value: f32,
    },
    /// Epochs or labels that do not fit together (lengths, shapes, classes).
    #[error("invalid epochs: {0}")]
    Invalid(String),
    /// A configuration that cannot work (for example a split with no subjects).
    #[error("{0}")]
    Config(String),
    /// Preparation stopped after the recordings were read: `partial` says what
    /// happened to each recording (the reasons each was skipped) and which
    /// participants have none, so a caller can show them.
    #[error("{message}")]
    Prepare {
        /// the one-line reason
        message: String,
        /// every recording's outcome so far (no windows, classes or splits)
        partial: Box<crate::prepare::PrepareSummary>,
    },
    /// A reading or writing error from the recording layer.
    #[error(transparent)]
    Recording(#[from] eeglens_io::IoError),
}

impl DataError {
    pub(crate) fn io(path: impl Into<PathBuf>, cause: std::io::Error) -> Self {
        Self::Io { path: path.into(), cause }
    }
}

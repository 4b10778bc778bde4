//! [`ValidateError`]: what can go wrong building, running or merging a grid.
//! Every variant names the file, directory or cell it is about.

use std::path::PathBuf;

use thiserror::Error;

/// Errors of the validation grid.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ValidateError {
    /// The grid's settings are not usable (an unknown band or channel, no cells, ...).
    #[error("{0}")]
    Grid(String),
    /// A file or directory could not be read or written.
    #[error("{}: {cause}", path.display())]
    Io {
        /// the file or directory
        path: PathBuf,
        /// what the OS said (shown in the message, so not chained as a source: printing the chain
        /// would repeat it)
        cause: std::io::Error,
    },
    /// A JSON file is malformed or not what it should be.
    #[error("{}: {msg}", path.display())]
    Json {
        /// the file
        path: PathBuf,
        /// what is wrong with it
        msg: String,
    },
    /// The output directory holds something this run must not touch.
    #[error("{}: {msg}", path.display())]
    Out {
        /// the output directory
        path: PathBuf,
        /// why it is refused, and what to do
        msg: String,
    },
    /// One stage of one cell failed.
    #[error("cell {cell}: {stage}: {msg}")]
    Stage {
        /// the cell's name
        cell: String,
        /// synth, prepare, baseline, train or interpret
        stage: &'static str,
        /// the library's error
        msg: String,
    },
    /// Cell outputs that cannot be merged into one grid.
    #[error("{0}")]
    Merge(String),
}

/// Wraps an I/O error with its path.
pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> ValidateError {
    let path = path.into();
    move |cause| ValidateError::Io { path, cause }
}

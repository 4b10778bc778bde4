//! Errors of building a report: each names the run, file or tensor it is about.

use std::path::PathBuf;

use thiserror::Error;

/// What went wrong while reading a run for its report or writing the report.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ReportError {
    /// The run directory could not be read (no `config.json`, malformed metrics, ...).
    #[error("run {}: {cause}", run.display())]
    Run {
        /// the run directory
        run: PathBuf,
        /// what eeglens-train said (shown in the message, so not chained as a source)
        cause: Box<eeglens_train::TrainError>,
    },
    /// The run has not been interpreted yet.
    #[error(
        "run {} has no interpretation yet (looked for {}): run `eeglens interpret --run {}` first",
        run.display(),
        looked.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
        run.display()
    )]
    NoInterpretation {
        /// the run directory
        run: PathBuf,
        /// the places searched for `interpret.json`
        looked: Vec<PathBuf>,
    },
    /// A JSON file of the run or its interpretation is malformed.
    #[error("{}: {msg}", path.display())]
    Json {
        /// the file
        path: PathBuf,
        /// what is wrong with it
        msg: String,
    },
    /// A tensor of `interpret.safetensors` has an unexpected shape or is missing.
    #[error("{}: tensor `{name}`: {msg}", path.display())]
    Tensor {
        /// the safetensors file
        path: PathBuf,
        /// the tensor's name
        name: String,
        /// what is wrong with it
        msg: String,
    },
    /// An operating-system error on a file.
    #[error("{}: {cause}", path.display())]
    Io {
        /// the file
        path: PathBuf,
        /// the underlying error (shown in the message, so not chained as a source: printing the
        /// chain would repeat it)
        cause: std::io::Error,
    },
}

/// Why a scalp map could not be drawn (the page says it in one line instead of the map).
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum MapError {
    /// Too few electrodes with a usable position and a finite value.
    #[error("{usable} electrode(s) with a position and a finite value; a scalp map needs {needed}")]
    TooFewElectrodes {
        /// electrodes that could be used
        usable: usize,
        /// the least a map is drawn from
        needed: usize,
    },
    /// The spherical spline could not be fitted to the electrodes' positions.
    #[error("no spherical spline through these electrode positions: {cause}")]
    Spline {
        /// what eeglens-dsp said
        cause: String,
    },
    /// The values do not fit the layout: not one per electrode, or not finite.
    #[error("values for a scalp map: {what}")]
    Values {
        /// what is wrong with them
        what: String,
    },
}

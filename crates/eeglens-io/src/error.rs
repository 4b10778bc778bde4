//! The one error type of the crate.

use std::path::PathBuf;

/// Everything that can go wrong reading or writing a recording or a dataset.
///
/// Every variant names the file; header problems also name the field and its
/// byte offset, so a user can open the file in a hex editor and see the fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IoError {
    /// The operating system refused to read or write the file.
    #[error("{path}: {cause}")]
    Os {
        /// The file.
        path: PathBuf,
        /// The underlying error (shown in the message, so not chained as a source).
        cause: std::io::Error,
    },
    /// The file ends before a structure it declares.
    #[error("{path}: truncated: {what} needs {needed} bytes at offset {offset}, the file has {len}")]
    Truncated {
        /// The file.
        path: PathBuf,
        /// What was being read.
        what: String,
        /// Byte offset where it starts.
        offset: u64,
        /// Bytes it needs.
        needed: u64,
        /// Length of the file.
        len: u64,
    },
    /// A header field holds a value that does not parse or is out of range.
    #[error("{path}: header field `{field}` at byte {offset}: {reason} (found {value:?})")]
    Field {
        /// The file.
        path: PathBuf,
        /// Field name as the specification calls it (e.g. `samples per record`, `signal 3 physical minimum`).
        field: String,
        /// Byte offset of the field (for text formats, the line number).
        offset: u64,
        /// The raw value, trimmed.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The header and the amount of data in the file disagree.
    #[error("{path}: {what}: header declares {expected} bytes of data, the file holds {actual}")]
    SizeMismatch {
        /// The file.
        path: PathBuf,
        /// Which declaration (e.g. `number of data records 120`).
        what: String,
        /// Bytes the header implies.
        expected: u64,
        /// Bytes present.
        actual: u64,
    },
    /// A file referenced by another one does not exist.
    #[error("{path}: missing data file {missing} (referenced by {referenced_by})")]
    MissingFile {
        /// The file that refers to the missing one.
        path: PathBuf,
        /// The missing file.
        missing: PathBuf,
        /// How it was referenced (field name).
        referenced_by: String,
    },
    /// A syntactically valid file that uses a feature this crate does not read.
    #[error("{path}: unsupported: {what}")]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// What is not supported, and what to do instead.
        what: String,
    },
    /// A structural error in a MAT-file (EEGLAB `.set`).
    #[error("{path}: MAT-file element at byte {offset}: {what}")]
    Mat {
        /// The file.
        path: PathBuf,
        /// Byte offset of the element (in the decompressed stream for compressed variables).
        offset: u64,
        /// What is wrong.
        what: String,
    },
    /// A structural error in a text file (TSV, BrainVision header, marker file).
    #[error("{path}: line {line}: {what}")]
    Text {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        what: String,
    },
    /// The file extension does not name a format this crate reads.
    #[error("{path}: unknown file format (expected .edf, .bdf, .vhdr, .set or a BIDS directory)")]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// The recording handed to a writer cannot be written in that format.
    #[error("{path}: cannot write: {what}")]
    InvalidRecording {
        /// The destination file.
        path: PathBuf,
        /// What is wrong with the recording (names the channel).
        what: String,
    },
    /// A channel or time range asked for in [`crate::ReadOptions`] is not in the file.
    #[error("{path}: {what}")]
    Selection {
        /// The file.
        path: PathBuf,
        /// What was asked for and not found.
        what: String,
    },
}

impl IoError {
    /// Wraps an `std::io::Error` with the file it came from.
    pub fn os(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        IoError::Os { path: path.into(), cause: source }
    }
}

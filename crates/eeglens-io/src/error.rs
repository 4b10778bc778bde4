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
    #[error("{path}: header field `{field}` at byte {offset}: {reason} (found {})", quote(.value))]
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
    /// The path names something other than a regular file: a directory, a FIFO, a socket or a
    /// device. Readers refuse it before opening it, since opening a FIFO for reading waits for a
    /// writer and a device can stream without end.
    #[error("{path}: not a regular file ({kind}); recordings are read from regular files only")]
    NotAFile {
        /// The path.
        path: PathBuf,
        /// What it is instead (`a directory`, `a FIFO`, ...).
        kind: &'static str,
    },
    /// A companion file (BrainVision `DataFile`/`MarkerFile`, EEGLAB `.fdt`) whose name lies in
    /// the folder of the file that names it, but which is a symbolic link, or lies in a linked
    /// folder, that leads out of that folder. Companion files are read from that folder only,
    /// whichever way a name leads out of it (`..`, an absolute path or a link).
    #[error(
        "{path}: companion file {companion} leads outside the header's folder through a symbolic \
         link (to {target}); companion files are read from that folder only"
    )]
    OutsideFolder {
        /// The file that names the companion (the `.vhdr` or `.set`).
        path: PathBuf,
        /// The companion's path inside the folder, as named.
        companion: PathBuf,
        /// Where it leads, links resolved.
        target: PathBuf,
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

/// Longest stretch of file content quoted in a message, in characters.
const QUOTE_CHARS: usize = 60;

/// Quotes text taken from a file for an error message: at most 60 characters, in double quotes,
/// with control characters, quotes and backslashes escaped (`\n`, `\u{1b}`, ...), and the number
/// of characters left out when it was longer. A binary file read as text therefore cannot fill a
/// terminal or break the message's single line.
pub(crate) fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(4 * QUOTE_CHARS) + 2);
    out.push('"');
    let mut shown = 0;
    for c in text.chars() {
        if shown == QUOTE_CHARS {
            break;
        }
        // `escape_debug` escapes control and other non-printable characters, `"` and `\`.
        out.extend(c.escape_debug());
        shown += 1;
    }
    out.push('"');
    let total = text.chars().count();
    if total > shown {
        out.push_str(&format!(" ... ({} more characters)", total - shown));
    }
    out
}

impl IoError {
    /// Wraps an `std::io::Error` with the file it came from.
    pub fn os(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        IoError::Os { path: path.into(), cause: source }
    }
}

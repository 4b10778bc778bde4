//! How the readers reach files: only regular files are opened, and a file named inside another
//! one (a BrainVision `DataFile`, an EEGLAB `.fdt`) is looked for in that file's folder only,
//! and read only when symbolic links do not lead out of it.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::error::quote;
use crate::IoError;

/// What a non-regular file is, for messages.
fn kind_of(t: std::fs::FileType) -> &'static str {
    if t.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    "neither a file nor a directory"
}

/// Checks, without opening it, that `path` is a regular file (symbolic links followed).
///
/// Opening a FIFO for reading waits until some process opens it for writing, and a device such as
/// `/dev/zero` never ends, so both are refused here rather than discovered by a read that hangs.
///
/// # Errors
/// [`IoError::Os`] when the path cannot be examined (it does not exist, permission denied),
/// [`IoError::NotAFile`] when it is not a regular file.
pub(crate) fn check_regular(path: &Path) -> Result<(), IoError> {
    let meta = std::fs::metadata(path).map_err(|e| IoError::os(path, e))?;
    if meta.is_file() {
        Ok(())
    } else {
        Err(IoError::NotAFile { path: path.to_path_buf(), kind: kind_of(meta.file_type()) })
    }
}

/// Opens a regular file for reading (see [`check_regular`]).
///
/// # Errors
/// As [`check_regular`], and [`IoError::Os`] when opening fails.
pub(crate) fn open_regular(path: &Path) -> Result<File, IoError> {
    check_regular(path)?;
    File::open(path).map_err(|e| IoError::os(path, e))
}

/// Reads a whole regular file (see [`check_regular`]).
///
/// # Errors
/// As [`open_regular`].
pub(crate) fn read_regular(path: &Path) -> Result<Vec<u8>, IoError> {
    check_regular(path)?;
    std::fs::read(path).map_err(|e| IoError::os(path, e))
}

/// Checks that `companion`, a path inside `dir` (the folder of `header`, which names it), still
/// lies inside `dir` once symbolic links are followed: a link in the folder, or a linked
/// sub-folder, must not lead a reader out of it. Both paths are compared canonicalized, so links
/// that stay inside the folder are followed. Nothing is opened, so a link to a FIFO is not waited
/// on. A companion that does not exist passes: opening it reports it missing.
///
/// # Errors
/// [`IoError::OutsideFolder`] when links lead out of `dir`, [`IoError::Os`] when the folder or
/// the links cannot be resolved (a loop of links, no permission).
pub(crate) fn check_within(header: &Path, dir: &Path, companion: &Path) -> Result<(), IoError> {
    let target = match std::fs::canonicalize(companion) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(IoError::os(companion, e)),
    };
    let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    let folder = std::fs::canonicalize(dir).map_err(|e| IoError::os(dir, e))?;
    if target.starts_with(&folder) {
        Ok(())
    } else {
        Err(IoError::OutsideFolder { path: header.to_path_buf(), companion: companion.to_path_buf(), target })
    }
}

/// Longest file name (one path component) file systems allow, in bytes.
pub(crate) const MAX_NAME_BYTES: usize = 255;

/// Why a companion file name cannot be used, or its path inside `dir`.
///
/// `name` is split at `/` and at `\` (files written on Windows name sub-folders that way); it must
/// be relative and must not climb out with `..`, so the result always lies inside `dir`.
pub(crate) fn inside(dir: &Path, name: &str) -> Result<PathBuf, String> {
    let is_drive = name.len() >= 2 && name.as_bytes()[1] == b':' && name.as_bytes()[0].is_ascii_alphabetic();
    if name.starts_with(['/', '\\']) || is_drive {
        return Err(format!(
            "{} is an absolute path; companion files are read from the header's folder only",
            quote(name)
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(format!("{} holds control characters, which no file name should", quote(name)));
    }
    let mut out = dir.to_path_buf();
    let mut any = false;
    for part in name.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                return Err(format!(
                    "{} climbs out of the header's folder with `..`; companion files are read from \
                     that folder only",
                    quote(name)
                ))
            }
            p if p.len() > MAX_NAME_BYTES => {
                return Err(format!("{} has a name longer than {MAX_NAME_BYTES} bytes", quote(name)))
            }
            p => {
                out.push(p);
                any = true;
            }
        }
    }
    if !any {
        return Err(format!("{} names no file", quote(name)));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn companion_names_stay_inside_the_folder() {
        let d = Path::new("/data/sub-01");
        assert_eq!(inside(d, "x.eeg").expect("plain"), d.join("x.eeg"));
        assert_eq!(inside(d, "raw/x.eeg").expect("sub-folder"), d.join("raw").join("x.eeg"));
        assert_eq!(inside(d, "raw\\x.eeg").expect("Windows sub-folder"), d.join("raw").join("x.eeg"));
        assert_eq!(inside(d, "./x.eeg").expect("dot"), d.join("x.eeg"));
        for bad in [
            "../x.eeg",
            "raw/../../x.eeg",
            "..",
            "..\\x.eeg",
            "/etc/passwd",
            "/dev/zero",
            "\\\\server\\share\\x.eeg",
            "C:\\data\\x.eeg",
            "c:x.eeg",
            "",
            ".",
            "./",
            "x\u{1b}[2J.eeg",
            "x\n.eeg",
        ] {
            assert!(inside(d, bad).is_err(), "{bad:?} must be refused");
        }
        for bad in [&"x".repeat(600), &format!("raw/{}.eeg", "\u{fffd}".repeat(100))] {
            assert!(inside(d, bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn a_directory_is_not_a_file() {
        let e = check_regular(Path::new(env!("CARGO_MANIFEST_DIR"))).expect_err("a directory");
        assert!(matches!(e, IoError::NotAFile { kind: "a directory", .. }), "{e}");
    }
}

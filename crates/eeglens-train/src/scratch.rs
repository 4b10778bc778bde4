//! Temporary directories of the unit tests, removed when the test ends.

use std::path::{Path, PathBuf};

/// A temporary directory removed when dropped, passed or failed (unless
/// `EEGLENS_KEEP_TEST_FILES` is set); reads as the `Path` it holds.
pub(crate) struct Scratch(pub(crate) PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::env::var_os("EEGLENS_KEEP_TEST_FILES").is_none() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

//! Temporary paths of tests, removed when the test ends: the one guard every
//! crate's tests use (`features = ["test-support"]` in their dev-dependencies).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// A temporary directory or file removed when dropped, passed or failed, unless
/// `EEGLENS_KEEP_TEST_FILES` is set (to look at a test's files); reads as the
/// `Path` it holds.
pub struct Scratch(pub PathBuf);

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

impl AsRef<OsStr> for Scratch {
    fn as_ref(&self) -> &OsStr {
        self.0.as_os_str()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::env::var_os("EEGLENS_KEEP_TEST_FILES").is_none() {
            let _ = if self.0.is_dir() {
                std::fs::remove_dir_all(&self.0)
            } else {
                std::fs::remove_file(&self.0)
            };
        }
    }
}

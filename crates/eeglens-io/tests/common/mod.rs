//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// `fixtures/<sub>/<name>` at the workspace root. Panics, naming the folder, when the
/// workspace's `fixtures/<sub>` is missing (the tests that read it run from the repository).
pub fn fixture(sub: &str, name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures").join(sub);
    assert!(
        dir.is_dir(),
        "fixture folder {} is missing: this test reads the workspace's fixtures/ and runs from \
         the repository checkout",
        dir.display()
    );
    dir.join(name)
}

/// A fresh per-process temporary directory, removed when the guard drops.
pub fn tmp_dir(tag: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("eeglens-io-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    Scratch { root: dir.clone(), path: dir }
}

/// A file `name` directly in the temporary directory, removed when the guard drops.
pub fn tmp_file(name: &str) -> Scratch {
    let path = std::env::temp_dir().join(name);
    Scratch { root: path.clone(), path }
}

/// A path inside a temporary directory; the directory is removed when dropped,
/// passed or failed (unless `EEGLENS_KEEP_TEST_FILES` is set). Reads as the path.
pub struct Scratch {
    root: PathBuf,
    path: PathBuf,
}

impl Scratch {
    /// `name` inside this directory, which the returned guard now removes.
    pub fn file(mut self, name: &str) -> Scratch {
        let root = std::mem::take(&mut self.root);
        let path = self.path.join(name);
        Scratch { root, path }
    }
}

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.path
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if self.root.as_os_str().is_empty() || std::env::var_os("EEGLENS_KEEP_TEST_FILES").is_some() {
            return;
        }
        let _ = if self.root.is_dir() {
            std::fs::remove_dir_all(&self.root)
        } else {
            std::fs::remove_file(&self.root)
        };
    }
}

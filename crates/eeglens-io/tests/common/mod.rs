//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

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

/// A fresh per-process temporary directory.
pub fn tmp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("eeglens-io-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

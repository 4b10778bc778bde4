//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// `fixtures/<sub>/<name>` at the workspace root.
pub fn fixture(sub: &str, name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures").join(sub).join(name)
}

/// A fresh per-process temporary directory.
pub fn tmp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("eeglens-io-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

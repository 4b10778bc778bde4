//! Helpers shared by the training tests: toy stores in fresh temporary directories.
#![allow(dead_code)] // each test binary uses a different subset

use std::collections::HashMap;
use std::path::Path;

use eeglens_autodiff::Tensor;
use eeglens_data::store::EpochStore;
use eeglens_nn::read_tensor_file;
use eeglens_train::toy::{toy_set, ToyConfig};

/// A fresh, empty temporary directory for test `name`, removed when dropped
/// (at the end of the test, passed or failed).
pub fn tmpdir(name: &str) -> Scratch {
    let d = std::env::temp_dir().join(format!("eeglens-train-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("create temp dir");
    Scratch(d)
}

pub use eeglens_io::scratch::Scratch;

/// Writes the toy set `cfg` into `dir` and opens it.
pub fn toy_store(dir: &Path, cfg: &ToyConfig) -> EpochStore {
    let p = dir.join("toy.safetensors");
    toy_set(cfg).write(&p).expect("write toy store");
    EpochStore::open(&p).expect("open toy store")
}

/// The model tensors (no optimiser state) of a checkpoint.
pub fn weights(path: &Path) -> HashMap<String, Tensor> {
    let f = read_tensor_file(path).expect("read checkpoint");
    f.f32s.into_iter().filter(|(k, _)| !k.starts_with("optim.")).collect()
}

/// Every tensor of a checkpoint, optimiser state included.
pub fn all_tensors(path: &Path) -> HashMap<String, Tensor> {
    read_tensor_file(path).expect("read checkpoint").f32s
}

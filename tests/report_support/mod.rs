//! Shared by the report tests: a small, real run directory — a toy epoch
//! store on the hbn24 electrodes, a few epochs of R-VGG, its test evaluation
//! and all three interpretation methods in `RUN/interpret`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use eeglens_data::store::EpochStore;
use eeglens_dsp::Band;
use eeglens_interpret::{write_outputs, InterpretConfig, Silent};
use eeglens_io::montage::HBN24;
use eeglens_train::toy::{toy_set, ToyConfig};
use eeglens_train::{train, RunDir, TrainConfig};

/// A scratch directory removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Self {
        let d = std::env::temp_dir().join(format!("eeglens-report-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("scratch dir");
        Self(d)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Trains a small run in `dir/run` (no interpretation yet); returns the run directory.
pub fn trained_run(dir: &Path) -> PathBuf {
    let mut set = toy_set(&ToyConfig {
        subjects: [8, 2, 6],
        windows: 6,
        n_channels: 24,
        n_samples: 256,
        effect: 0.8,
        signature: 0.0,
        seed: 3,
    });
    set.meta.channels = HBN24.iter().map(|s| s.to_string()).collect();
    set.meta.settings =
        serde_json::json!({"channels": "hbn24", "rate": 128.0, "band": [0.25, 25.0], "segment_s": 2.0});
    let data = dir.join("epochs.safetensors");
    set.write(&data).expect("write the store");
    let store = EpochStore::open(&data).expect("open the store");
    let cfg = TrainConfig { epochs: 3, threads: Some(1), batch: 16, ..TrainConfig::default() };
    let run = dir.join("run");
    train(&cfg, &store, &run, &mut |_| {}).expect("training runs");
    run
}

/// Interprets the run into `run/interpret` with a small configuration; returns the result.
pub fn interpret(run_dir: &Path) -> eeglens_interpret::InterpretResult {
    let run = RunDir::open(run_dir).expect("a run");
    let store = EpochStore::open(run.data_path()).expect("the run's store");
    let (model, _) = run.load_model().expect("a checkpoint");
    let bands = [("delta", 1.0, 4.0), ("theta", 4.0, 8.0), ("alpha", 8.0, 13.0), ("beta", 13.0, 25.0)];
    let mut cfg = InterpretConfig {
        k: 6,
        permutations: 199,
        bands: bands.iter().map(|&(n, lo, hi)| Band::new(n, lo, hi).expect("a valid band")).collect(),
        ..InterpretConfig::default()
    };
    cfg.actmax.steps = 15;
    cfg.actmax.restarts = 2;
    let result = eeglens_interpret::run(&model, &store, &cfg, &mut Silent).expect("interpretation runs");
    write_outputs(&result, &run_dir.join("interpret")).expect("write the interpretation");
    result
}

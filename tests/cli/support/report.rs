//! Shared by the report tests: a small, real run directory — a toy epoch
//! store on the hbn24 electrodes (8 test subjects: with 3 + 3 the
//! subject-level chance test cannot go below p = 1/20), a few epochs of a
//! network, its baseline and test evaluation, and the interpretation in `RUN/interpret` (all three
//! methods when the network learned, none when it is at chance).

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use eeglens_data::store::EpochStore;
use eeglens_dsp::Band;
use eeglens_interpret::{write_outputs, InterpretConfig, Silent};
use eeglens_io::montage::HBN24;
use eeglens_train::toy::{name_channels, toy_set, ToyConfig};
use eeglens_train::{train, RunDir, TrainConfig};

/// The toy store and the training of a run.
#[derive(Clone, Copy, Debug)]
pub struct RunSpec {
    /// zoo name of the network
    pub model: &'static str,
    /// amplitude of the planted class effect (0: a null store)
    pub effect: f32,
    /// training epochs
    pub epochs: usize,
    /// learning rate
    pub lr: f64,
}

impl RunSpec {
    /// R-VGG on a clear effect: above chance on test after a few epochs.
    pub const LEARNS: Self = Self { model: "rvgg", effect: 1.5, epochs: 6, lr: 2e-3 };
    /// The shallow network on a clear effect: above chance within seconds.
    pub const QUICK: Self = Self { model: "shallow", effect: 1.5, epochs: 3, lr: 1e-3 };
    /// A null store: nothing to learn, so the network stays at chance.
    pub const NULL: Self = Self { model: "shallow", effect: 0.0, epochs: 1, lr: 1e-3 };
}

/// Trains [`RunSpec::LEARNS`] in `dir/run` (no interpretation yet); returns the run directory.
pub fn trained_run(dir: &Path) -> PathBuf {
    trained_run_with(dir, RunSpec::LEARNS)
}

/// Trains `spec` on a toy store in `dir` into `dir/run`; returns the run directory.
pub fn trained_run_with(dir: &Path, spec: RunSpec) -> PathBuf {
    let mut set = toy_set(&ToyConfig {
        subjects: [8, 2, 8],
        windows: 6,
        n_channels: 24,
        n_samples: 256,
        effect: spec.effect,
        signature: 0.0,
        seed: 3,
    });
    name_channels(&mut set, &HBN24);
    let planted = set.meta.settings["planted"].clone();
    set.meta.settings = serde_json::json!({
        "channels": "hbn24", "rate": 128.0, "band": [0.25, 25.0], "segment_s": 2.0, "planted": planted
    });
    let data = dir.join("epochs.safetensors");
    set.write(&data).expect("write the store");
    let store = EpochStore::open(&data).expect("open the store");
    let cfg = TrainConfig {
        model: spec.model.into(),
        epochs: spec.epochs,
        lr: spec.lr,
        threads: Some(1),
        batch: 16,
        stuck_epochs: None,
        ..TrainConfig::default()
    };
    let run = dir.join("run");
    train(&cfg, &store, &run, &mut |_| {}).expect("training runs");
    run
}

/// Copies the directory `from` to `to`, recursively.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the copy");
    for e in std::fs::read_dir(from).expect("read the directory") {
        let e = e.expect("a directory entry");
        let target = to.join(e.file_name());
        if e.file_type().expect("a file type").is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).expect("copy a file");
        }
    }
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

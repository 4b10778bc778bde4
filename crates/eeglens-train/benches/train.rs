//! Criterion benchmark of one real training step: `eeglens_train::train::train_step`,
//! the function the training loop (`eeglens train`) runs for every batch and
//! `eeglens bench` times, with `eeglens train`'s default optimiser (Adam,
//! 5e-4) and a fork of one dropout stream per step as the loop draws them.
//!
//! - `train_step/<model>_b40`: a batch of 40 windows of 24 x 256 taken out of
//!   an epoch store with `EpochStore::batch` (the loop's own path; a toy
//!   store at the paper's size in a temporary directory), train-mode forward,
//!   cross-entropy, backward, optimiser update, batch-norm statistics.
//!   Throughput counts windows. Every zoo model is measured but `vanputten`,
//!   whose step takes about five seconds at this size (100 and 300 feature
//!   maps at full and half resolution: some 30 times R-VGG's arithmetic);
//!   ten of them would make this bench a minute longer.
//!
//! Run: `cargo bench -p eeglens-train --bench train` (about a minute);
//! `cargo bench -p eeglens-train --bench train -- train_step/rvgg_b40` for R-VGG alone.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput};
use eeglens_autodiff::Rng;
use eeglens_data::store::{EpochStore, Split};
use eeglens_data::toy::{toy_set, ToyConfig};
use eeglens_nn::models::{build, ModelSpec, MODEL_NAMES};
use eeglens_nn::Optimizer;
use eeglens_train::train::train_step;
use eeglens_train::TrainConfig;

/// The paper's training batch.
const BATCH: usize = 40;

/// A toy store at the paper's window size (24 x 256), written to a fresh
/// temporary directory (removed by `main`).
fn store(dir: &std::path::Path) -> EpochStore {
    let set = toy_set(&ToyConfig { windows: 10, n_channels: 24, n_samples: 256, ..ToyConfig::default() });
    let path = dir.join("epochs.safetensors");
    set.write(&path).expect("the toy store is written");
    EpochStore::open(&path).expect("the toy store opens")
}

fn bench_train_step(c: &mut Criterion, store: &EpochStore) {
    let train = store.indices(Split::Train);
    let idx = &train[..BATCH];
    let x = store.batch(idx);
    let y: Vec<usize> = idx.iter().map(|&i| store.labels()[i] as usize).collect();
    let k = store.meta().classes.len();
    let spec = ModelSpec { n_channels: store.n_channels(), n_samples: store.n_samples(), n_classes: k };
    let mut g = c.benchmark_group("train_step");
    g.throughput(Throughput::Elements(BATCH as u64));
    // A step takes up to half a second: as many iterations in every sample.
    g.sampling_mode(SamplingMode::Flat);
    for name in MODEL_NAMES.into_iter().filter(|&n| n != "vanputten") {
        let cfg = TrainConfig { model: name.to_string(), ..TrainConfig::default() };
        let mut model = build(name, &spec, &mut Rng::new(0)).expect("the zoo model fits 24 x 256");
        let mut opt = Optimizer::new(cfg.optimizer_config());
        let dropout = Rng::new(1);
        let mut step = 0;
        g.bench_function(format!("{name}_b{BATCH}"), |b| {
            b.iter(|| {
                step += 1;
                let out = train_step(&mut model, &mut opt, &x, &y, k, &mut dropout.fork(step));
                black_box(out.expect("the step runs"))
            })
        });
    }
    g.finish();
}

fn main() {
    let dir: PathBuf = std::env::temp_dir().join(format!("eeglens-train-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let store = store(&dir);
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(6))
        .configure_from_args();
    bench_train_step(&mut c, &store);
    c.final_summary();
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}

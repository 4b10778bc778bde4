//! Criterion benchmarks of the data layer: preparing recordings into an
//! epoch store, and reading batches back out of a store.
//!
//! Inputs are made once, untimed, in a temporary directory (removed at the end):
//!
//! - `prepare/bids_16x2min_edf`: `prepare::prepare` with `eeglens prepare`'s
//!   defaults (24 HBN channels, 128 Hz, 0.25–25 Hz, average reference,
//!   eyes-closed 2-s windows, normalisation, subject-wise split, the store
//!   written) on a synthetic BIDS dataset from `synth::write_bids`: 16
//!   subjects, one EDF+ recording each of 24 channels x 2 min at 256 Hz, the
//!   `eeglens synth` protocol. Throughput counts recordings, so criterion's
//!   `elem/s` reads recordings prepared per second.
//! - `store_batch/b40_shuffled`: `EpochStore::batch` of 40 windows in a
//!   shuffled order, as the training loop asks for them; `b256_in_order`:
//!   256 consecutive windows, as evaluation does. The store is a toy store
//!   at the paper's size (960 windows of 24 x 256, 24 MB, memory-mapped and
//!   in the page cache). Throughput counts bytes of windows copied out.
//!
//! Run: `cargo bench -p eeglens-data --bench data` (about half a minute);
//! `cargo bench -p eeglens-data --bench data -- prepare` for preparation alone.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput};
use eeglens_autodiff::Rng;
use eeglens_data::prepare::{prepare, PrepareConfig};
use eeglens_data::store::EpochStore;
use eeglens_data::synth::{write_bids, SynthConfig, SynthFormat};
use eeglens_data::toy::{toy_set, ToyConfig};

/// Subjects (one recording each) of the synthetic dataset.
const SUBJECTS: usize = 16;

fn bench_prepare(c: &mut Criterion, dir: &Path) {
    let bids = dir.join("bids");
    let synth = SynthConfig { n_subjects: SUBJECTS, ..SynthConfig::hbn24() };
    let written =
        write_bids(&synth, &bids, SynthFormat::Edf, &|| {}).expect("the synthetic dataset is written");
    let recordings = written.files.len();
    let out = dir.join("prepared.safetensors");
    let cfg = PrepareConfig::new("sex");
    let mut g = c.benchmark_group("prepare");
    g.throughput(Throughput::Elements(recordings as u64));
    // A call takes a few hundred milliseconds: as many iterations in every sample.
    g.sampling_mode(SamplingMode::Flat);
    g.measurement_time(Duration::from_secs(5));
    g.bench_function(format!("bids_{SUBJECTS}x2min_edf"), |b| {
        b.iter(|| black_box(prepare(&bids, &cfg, &out, &|_| {}).expect("the dataset prepares")))
    });
    g.finish();
}

fn bench_store_batch(c: &mut Criterion, dir: &Path) {
    let path = dir.join("toy.safetensors");
    let set = toy_set(&ToyConfig { windows: 40, n_channels: 24, n_samples: 256, ..ToyConfig::default() });
    set.write(&path).expect("the toy store is written");
    let store = EpochStore::open(&path).expect("the toy store opens");
    let window_bytes = (store.n_channels() * store.n_samples() * 4) as u64;
    let mut shuffled: Vec<usize> = (0..store.len()).collect();
    Rng::new(0).shuffle(&mut shuffled);
    let in_order: Vec<usize> = (0..256).collect();
    let mut g = c.benchmark_group("store_batch");
    for (name, idx) in [("b40_shuffled", &shuffled[..40]), ("b256_in_order", &in_order[..])] {
        g.throughput(Throughput::Bytes(idx.len() as u64 * window_bytes));
        g.bench_function(name, |b| b.iter(|| black_box(store.batch(idx))));
    }
    g.finish();
}

fn main() {
    let dir = std::env::temp_dir().join(format!("eeglens-data-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    bench_prepare(&mut c, &dir);
    bench_store_batch(&mut c, &dir);
    c.final_summary();
    let _ = std::fs::remove_dir_all(&dir);
}

//! Determinism and resumption: same seed and one thread give bit-identical
//! runs; a run stopped (between epochs or mid-epoch) and resumed ends exactly
//! where the uninterrupted run ends; two threads agree with one within tolerance.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use common::{all_tensors, tmpdir, toy_store, weights};
use eeglens_train::run_dir::{BEST_CHECKPOINT, LAST_CHECKPOINT};
use eeglens_train::toy::ToyConfig;
use eeglens_train::{train, train_with, EpochRecord, Progress, RunDir, RunOptions, StopReason, TrainConfig};

/// Largest weight difference between one and two threads after two epochs,
/// relative to each tensor's largest value (the summation order of the
/// batch-parallel weight gradients differs; measured 1.4e-5).
const THREADS_REL_TOL: f32 = 1e-3;

fn cfg(epochs: usize, threads: usize) -> TrainConfig {
    TrainConfig {
        model: "rvgg".into(),
        epochs,
        lr: 1e-3,
        seed: 7,
        threads: Some(threads),
        patience: None,
        ..TrainConfig::default()
    }
}

fn small() -> ToyConfig {
    ToyConfig { subjects: [8, 4, 4], windows: 10, ..ToyConfig::default() }
}

fn timeless(r: &[EpochRecord]) -> Vec<EpochRecord> {
    r.iter().map(EpochRecord::without_timing).collect()
}

#[test]
fn same_seed_with_one_thread_is_bit_identical() {
    let d = tmpdir("det");
    let store = toy_store(&d, &small());
    let a = train(&cfg(2, 1), &store, &d.join("a"), &mut |_| {}).expect("run a");
    let b = train(&cfg(2, 1), &store, &d.join("b"), &mut |_| {}).expect("run b");
    assert_eq!(timeless(&a.records), timeless(&b.records));
    assert_eq!(
        all_tensors(&d.join("a").join(LAST_CHECKPOINT)),
        all_tensors(&d.join("b").join(LAST_CHECKPOINT))
    );
    assert_eq!(a.test.expect("test").probabilities, b.test.expect("test").probabilities);
    // A different seed gives different weights.
    let c = TrainConfig { seed: 8, ..cfg(1, 1) };
    train(&c, &store, &d.join("c"), &mut |_| {}).expect("run c");
    assert_ne!(weights(&d.join("a").join(LAST_CHECKPOINT)), weights(&d.join("c").join(LAST_CHECKPOINT)));
}

#[test]
fn resumed_runs_end_where_the_straight_run_ends() {
    let d = tmpdir("resume");
    let store = toy_store(&d, &small());
    // 80 train windows: 2 batches per epoch.
    let straight = train(&cfg(4, 1), &store, &d.join("straight"), &mut |_| {}).expect("straight");

    // 2 epochs, then --resume to 4.
    let two = d.join("two-plus-two");
    let first = train(&cfg(2, 1), &store, &two, &mut |_| {}).expect("first half");
    assert_eq!(first.epochs_done, 2);
    let opts = RunOptions { resume: true, ..RunOptions::default() };
    let mut start = None;
    let second = train_with(&cfg(4, 1), &store, &two, &opts, &mut |p| {
        if let Progress::Start { epochs_done, batches_done, .. } = p {
            start = Some((*epochs_done, *batches_done));
        }
    })
    .expect("second half");
    assert_eq!(start, Some((2, 0)));

    // Interrupted after the first batch of epoch 3 (as Ctrl-C does), then resumed.
    let mid = d.join("interrupted");
    let stop = Arc::new(AtomicBool::new(false));
    let opts = RunOptions { stop: Some(stop.clone()), ..RunOptions::default() };
    let cut = train_with(&cfg(4, 1), &store, &mid, &opts, &mut |p| {
        if let Progress::Batch { epoch: 3, batch: 1, .. } = p {
            stop.store(true, Ordering::SeqCst);
        }
    })
    .expect("interrupted run");
    assert_eq!(cut.stop, StopReason::Interrupted { epoch: 3, batch: 1 });
    assert!(cut.test.is_none());
    assert_eq!(RunDir::open(&mid).expect("run").metrics().expect("metrics").len(), 2);
    let opts = RunOptions { resume: true, ..RunOptions::default() };
    let mut resumed_batches = Vec::new();
    let rest = train_with(&cfg(4, 1), &store, &mid, &opts, &mut |p| {
        if let Progress::Batch { epoch, batch, .. } = p {
            resumed_batches.push((*epoch, *batch));
        }
    })
    .expect("resumed run");
    assert_eq!(resumed_batches, vec![(3, 2), (4, 1), (4, 2)]);

    for (name, run) in [("2 + resume 2", &second), ("interrupted + resume", &rest)] {
        assert_eq!(run.stop, StopReason::Completed, "{name}");
        assert_eq!(timeless(&run.records), timeless(&straight.records), "{name}: metrics differ");
        let dir = &run.run_dir;
        for f in [LAST_CHECKPOINT, BEST_CHECKPOINT] {
            assert_eq!(
                all_tensors(&dir.join(f)),
                all_tensors(&d.join("straight").join(f)),
                "{name}: {f} differs from the straight run's"
            );
        }
        assert_eq!(
            run.test.as_ref().expect("test").probabilities,
            straight.test.as_ref().expect("test").probabilities
        );
    }
}

#[test]
fn two_threads_agree_with_one_within_tolerance() {
    let d = tmpdir("threads");
    let store = toy_store(&d, &small());
    train(&cfg(2, 1), &store, &d.join("one"), &mut |_| {}).expect("one thread");
    let two = train(&cfg(2, 2), &store, &d.join("two"), &mut |_| {}).expect("two threads");
    assert_eq!(two.threads, 2);
    let w1 = weights(&d.join("one").join(LAST_CHECKPOINT));
    let w2 = weights(&d.join("two").join(LAST_CHECKPOINT));
    let mut worst = 0.0f32;
    for (name, a) in &w1 {
        let b = &w2[name];
        let scale = a.data().iter().fold(0.0f32, |m, v| m.max(v.abs())).max(1e-6);
        let diff = a.data().iter().zip(b.data()).fold(0.0f32, |m, (x, y)| m.max((x - y).abs()));
        worst = worst.max(diff / scale);
    }
    eprintln!("largest relative weight difference, 1 vs 2 threads: {worst:e}");
    assert!(worst <= THREADS_REL_TOL, "largest relative weight difference {worst}");
}

#[test]
fn mixing_changes_the_run_and_resumes_exactly() {
    let d = tmpdir("mix");
    let store = toy_store(&d, &small());
    let mixed = |epochs| TrainConfig { mix: 0.5, ..cfg(epochs, 1) };
    let straight = train(&mixed(2), &store, &d.join("straight"), &mut |_| {}).expect("straight");
    let plain = train(&cfg(2, 1), &store, &d.join("plain"), &mut |_| {}).expect("plain");
    assert_ne!(
        weights(&d.join("straight").join(LAST_CHECKPOINT)),
        weights(&d.join("plain").join(LAST_CHECKPOINT)),
        "mixing changed nothing"
    );
    assert_ne!(timeless(&straight.records), timeless(&plain.records));
    // the setting is recorded with the run, and a run without it records nothing
    let cfg_text = |run: &str| std::fs::read_to_string(d.join(run).join("config.json")).expect("config");
    assert!(cfg_text("straight").contains("\"mix\": 0.5"), "{}", cfg_text("straight"));
    assert!(!cfg_text("plain").contains("\"mix\""));

    // interrupted after the first batch of epoch 2, then resumed: the same mixes
    let mid = d.join("interrupted");
    let stop = Arc::new(AtomicBool::new(false));
    let opts = RunOptions { stop: Some(stop.clone()), ..RunOptions::default() };
    train_with(&mixed(2), &store, &mid, &opts, &mut |p| {
        if let Progress::Batch { epoch: 2, batch: 1, .. } = p {
            stop.store(true, Ordering::SeqCst);
        }
    })
    .expect("interrupted run");
    let opts = RunOptions { resume: true, ..RunOptions::default() };
    // resumed with another mixing, it is refused: the rest would not be the same run
    let other = TrainConfig { mix: 0.2, ..mixed(2) };
    let e = train_with(&other, &store, &mid, &opts, &mut |_| {}).expect_err("another mix");
    assert!(e.to_string().contains("mix"), "{e}");
    let rest = train_with(&mixed(2), &store, &mid, &opts, &mut |_| {}).expect("resumed run");
    assert_eq!(timeless(&rest.records), timeless(&straight.records));
    assert_eq!(
        all_tensors(&mid.join(LAST_CHECKPOINT)),
        all_tensors(&d.join("straight").join(LAST_CHECKPOINT))
    );
}

//! Bad input gives one-line errors naming the file and the problem; a
//! diverging run stops and keeps its last good checkpoint.

mod common;

use common::{tmpdir, toy_store, weights};
use eeglens_nn::{read_tensor_file, Schedule};
use eeglens_train::run_dir::LAST_CHECKPOINT;
use eeglens_train::toy::ToyConfig;
use eeglens_train::{train, train_with, RunDir, RunOptions, TrainConfig, TrainError};

fn one_epoch() -> TrainConfig {
    TrainConfig { model: "rvgg".into(), epochs: 1, threads: Some(1), ..TrainConfig::default() }
}

/// The error and every `source()` below it, joined with ": " as a program printing the whole
/// chain does.
fn full_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        parts.push(s.to_string());
        cur = s.source();
    }
    parts.join(": ")
}

fn one_line(e: &TrainError) -> String {
    let s = e.to_string();
    assert!(!s.contains('\n'), "not one line: {s}");
    s
}

fn tiny() -> ToyConfig {
    ToyConfig { subjects: [4, 2, 2], windows: 4, ..ToyConfig::default() }
}

#[test]
fn a_model_that_does_not_fit_the_windows_is_refused_before_anything_is_written() {
    let d = tmpdir("shape");
    let store = toy_store(&d, &ToyConfig { n_channels: 4, ..tiny() });
    let run = d.join("run");
    let e = train(&one_epoch(), &store, &run, &mut |_| {}).unwrap_err();
    let msg = one_line(&e);
    assert!(matches!(e, TrainError::ModelShape { .. }), "{msg}");
    assert!(msg.contains("model `rvgg` does not fit windows of 4 channels x 32 samples"), "{msg}");
    assert!(msg.contains("toy.safetensors"), "{msg}");
    // The layer's error is in the message, so it is not chained again.
    let TrainError::ModelShape { cause, .. } = &e else { unreachable!("matched above") };
    assert_eq!(full_chain(&e).matches(&cause.to_string()).count(), 1, "{}", full_chain(&e));
    assert!(std::error::Error::source(&e).is_none(), "{e:?}");
    assert!(!run.exists());
}

#[test]
fn run_directories_are_never_overwritten_by_accident() {
    let d = tmpdir("exists");
    let store = toy_store(&d, &tiny());
    let run = d.join("run");
    train(&one_epoch(), &store, &run, &mut |_| {}).expect("first run");
    let before = std::fs::read(run.join("config.json")).expect("config");
    let e = train(&one_epoch(), &store, &run, &mut |_| {}).unwrap_err();
    let msg = one_line(&e);
    assert!(matches!(e, TrainError::RunExists { .. }), "{msg}");
    assert!(msg.contains("--resume") && msg.contains("--force"), "{msg}");
    assert_eq!(std::fs::read(run.join("config.json")).expect("config"), before);

    // --force starts over.
    let forced = TrainConfig { seed: 3, ..one_epoch() };
    let opts = RunOptions { force: true, ..RunOptions::default() };
    train_with(&forced, &store, &run, &opts, &mut |_| {}).expect("forced run");
    assert_eq!(RunDir::open(&run).expect("run").config().train.seed, 3);
    assert_eq!(RunDir::open(&run).expect("run").metrics().expect("metrics").len(), 1);

    // --resume with a different seed or model is refused, naming the setting.
    let resume = RunOptions { resume: true, ..RunOptions::default() };
    let e = train_with(&TrainConfig { epochs: 2, ..one_epoch() }, &store, &run, &resume, &mut |_| {})
        .unwrap_err();
    let msg = one_line(&e);
    assert!(msg.contains("cannot resume with a different seed: the run has 3, now 0"), "{msg}");
    let other = TrainConfig { model: "shallow".into(), seed: 3, ..one_epoch() };
    let e = train_with(&other, &store, &run, &resume, &mut |_| {}).unwrap_err();
    assert!(one_line(&e).contains("different model"), "{e}");

    // --resume on other data is refused.
    let other_store = toy_store(&tmpdir("exists-other"), &ToyConfig { seed: 9, ..tiny() });
    let e = train_with(&forced, &other_store, &run, &resume, &mut |_| {}).unwrap_err();
    assert!(one_line(&e).contains("different data file"), "{e}");

    // --resume where there is no run.
    let e = train_with(&one_epoch(), &store, &d.join("empty"), &resume, &mut |_| {}).unwrap_err();
    let msg = one_line(&e);
    assert!(msg.contains("nothing to resume"), "{msg}");
}

#[test]
fn an_unwritable_run_directory_is_an_error_naming_it() {
    let d = tmpdir("unwritable");
    let store = toy_store(&d, &tiny());
    // A directory below a regular file cannot be created, even as root.
    std::fs::write(d.join("plain-file"), b"x").expect("write");
    let run = d.join("plain-file").join("run");
    let e = train(&one_epoch(), &store, &run, &mut |_| {}).unwrap_err();
    let msg = one_line(&e);
    assert!(matches!(e, TrainError::Io { .. }), "{msg}");
    assert!(msg.contains("plain-file/run"), "{msg}");
}

#[test]
fn a_store_without_training_windows_is_refused() {
    let d = tmpdir("empty-train");
    let store = toy_store(&d, &ToyConfig { subjects: [0, 2, 2], ..tiny() });
    let e = train(&one_epoch(), &store, &d.join("run"), &mut |_| {}).unwrap_err();
    assert!(one_line(&e).contains("the train split holds no window"), "{e}");
}

#[test]
fn divergence_stops_with_a_message_and_keeps_the_last_good_checkpoint() {
    let d = tmpdir("diverge");
    let store = toy_store(&d, &tiny());
    // 16 train windows: 1 batch per epoch. The rate jumps by 1e30 after the
    // first step, so the second epoch's weights blow up.
    let cfg = TrainConfig {
        model: "rvgg".into(),
        epochs: 3,
        schedule: Schedule::Step { every: 1, gamma: 1e30 },
        threads: Some(1),
        ..TrainConfig::default()
    };
    let run = d.join("run");
    let e = train(&cfg, &store, &run, &mut |_| {}).unwrap_err();
    let msg = one_line(&e);
    assert!(matches!(e, TrainError::Diverged { epoch: 2 | 3, .. }), "{msg}");
    assert!(msg.contains("is not finite") && msg.contains("checkpoint-last.safetensors"), "{msg}");
    let last = run.join(LAST_CHECKPOINT);
    let f = read_tensor_file(&last).expect("last checkpoint");
    let done: usize = f.metadata["train.epochs_done"].parse().expect("epochs_done");
    assert!(done >= 1, "checkpoint-last holds {done} epochs");
    assert!(weights(&last).values().all(|t| t.data().iter().all(|v| v.is_finite())));
    let records = RunDir::open(&run).expect("run").metrics().expect("metrics");
    assert_eq!(records.len(), done);
}

/// The OS message is in the error's own text and not chained again as its `source()`.
#[test]
fn a_missing_run_names_the_file_and_the_os_message_once() {
    let run = std::path::Path::new("/nonexistent-eeglens/run");
    let os = std::fs::metadata(run).expect_err("absent").to_string();
    let e = RunDir::open(run).expect_err("absent");
    assert!(matches!(e, TrainError::Io { .. }), "{e:?}");
    let chain = full_chain(&e);
    assert_eq!(chain.matches(&os).count(), 1, "{chain}");
    assert_eq!(chain.matches("config.json").count(), 1, "{chain}");
    assert!(std::error::Error::source(&e).is_none(), "{e:?}");
}

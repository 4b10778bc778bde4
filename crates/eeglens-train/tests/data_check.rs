//! Runs check their data: evaluating or reading a run on a store that is not
//! its own is refused unless the store keeps the run's subjects in their
//! splits; a store whose train split holds one class cannot be trained on.

mod common;

use std::path::Path;

use common::tmpdir;
use eeglens_data::store::{EpochSet, EpochStore, Split};
use eeglens_train::toy::{toy_set, ToyConfig};
use eeglens_train::{evaluate_split, train, RunDir, TrainConfig, TrainError};

fn one_epoch() -> TrainConfig {
    TrainConfig {
        model: "rvgg".into(),
        epochs: 1,
        threads: Some(1),
        baseline: false,
        ..TrainConfig::default()
    }
}

fn tiny() -> ToyConfig {
    ToyConfig { subjects: [4, 2, 2], windows: 4, ..ToyConfig::default() }
}

/// The toy set with subjects 0 (train) and 6 (test) trading splits: what
/// `prepare --split-seed 2` does to a store.
fn resplit(set: &EpochSet) -> EpochSet {
    let mut out = set.clone();
    for (sp, &s) in out.split.iter_mut().zip(&set.subject) {
        match s {
            0 => *sp = Split::Test,
            6 => *sp = Split::Train,
            _ => {}
        }
    }
    out
}

fn trained(dir: &Path, set: &EpochSet) -> RunDir {
    let data = dir.join("epochs.safetensors");
    set.write(&data).expect("write");
    let store = EpochStore::open(&data).expect("open");
    train(&one_epoch(), &store, &dir.join("run"), &mut |_| {}).expect("train");
    RunDir::open(&dir.join("run")).expect("run")
}

fn mismatch(e: TrainError) -> String {
    let msg = e.to_string();
    assert!(matches!(e, TrainError::StoreMismatch { .. }), "{msg}");
    assert!(!msg.contains('\n'), "one line: {msg}");
    msg
}

#[test]
fn a_run_records_its_store_hash_and_subject_splits() {
    let d = tmpdir("dc-record");
    let run = trained(&d, &toy_set(&tiny()));
    let info = &run.config().data;
    let store = EpochStore::open(&d.join("epochs.safetensors")).expect("open");
    assert_eq!(info.content_sha256.as_deref(), store.recorded_content_sha256());
    let splits = info.subject_splits.as_ref().expect("recorded");
    assert_eq!(splits.len(), 8);
    assert_eq!(splits["sub-001"], "train");
    assert_eq!(splits["sub-005"], "val");
    assert_eq!(splits["sub-008"], "test");
    // The run's own store, unchanged, is accepted.
    run.open_store(None).expect("its own store");
}

/// `prepare --split-seed 2` over the run's store put a training subject in
/// the test split, and `eval` scored it without a word.
#[test]
fn a_store_prepared_again_with_other_splits_is_refused() {
    let d = tmpdir("dc-resplit");
    let set = toy_set(&tiny());
    let run = trained(&d, &set);
    let data = d.join("epochs.safetensors");
    let original = d.join("original.safetensors");
    std::fs::copy(&data, &original).expect("copy");
    resplit(&set).write(&data).expect("write over the run's store");

    let msg = mismatch(run.open_store(None).unwrap_err());
    assert!(msg.starts_with(&run.data_path().display().to_string()), "{msg}");
    assert!(msg.contains("not the epoch store the run in") && msg.contains("--data"), "{msg}");
    // Named explicitly, it is still refused: two subjects changed split.
    let msg = mismatch(run.open_store(Some(&data)).unwrap_err());
    assert!(msg.contains("2 subject(s) are in another split"), "{msg}");
    assert!(msg.contains("sub-001 train in the run, test here"), "{msg}");
    // The library's evaluation refuses it too, once checked.
    let store = EpochStore::open(&data).expect("open");
    assert!(run.check_store(&store, false).is_err());
    // The store as it was, under another name: accepted, and it evaluates.
    let store = run.open_store(Some(&original)).expect("the same content");
    evaluate_split(&run, &store, Split::Test).expect("evaluates");
}

#[test]
fn another_store_is_accepted_when_its_subjects_keep_their_splits() {
    let d = tmpdir("dc-other");
    let run = trained(&d, &toy_set(&tiny()));
    // Other windows of the same subjects in the same splits (a new seed of the noise).
    let other = d.join("other.safetensors");
    toy_set(&ToyConfig { seed: 7, ..tiny() }).write(&other).expect("write");
    run.open_store(Some(&other)).expect("same splits");
    // A store with other classes or another window shape is not the run's data.
    let mut set = toy_set(&ToyConfig { seed: 7, ..tiny() });
    set.meta.classes = vec!["M".into(), "F".into()];
    set.write(&other).expect("write");
    let msg = mismatch(run.open_store(Some(&other)).unwrap_err());
    assert!(msg.contains("do not match the run"), "{msg}");
}

/// Runs made before the subjects' splits were recorded accept their own
/// store (checked by the file's SHA-256) and refuse any other.
#[test]
fn older_runs_fall_back_to_the_file_hash() {
    let d = tmpdir("dc-old");
    let run = trained(&d, &toy_set(&tiny()));
    let config = run.path().join("config.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&config).expect("read")).expect("json");
    let data = v["data"].as_object_mut().expect("data");
    assert!(data.remove("subject_splits").is_some() && data.remove("content_sha256").is_some());
    std::fs::write(&config, v.to_string()).expect("write");
    let run = RunDir::open(run.path()).expect("an older run opens");
    run.open_store(None).expect("its own store, by the file hash");
    let other = d.join("other.safetensors");
    toy_set(&ToyConfig { seed: 7, ..tiny() }).write(&other).expect("write");
    let msg = mismatch(run.open_store(Some(&other)).unwrap_err());
    assert!(msg.contains("predates recorded subject splits") && msg.contains("sha256"), "{msg}");
}

/// A store of one class trained to "test: 1.000".
#[test]
fn a_train_split_of_one_class_is_refused() {
    let d = tmpdir("dc-oneclass");
    let data = d.join("one.safetensors");
    let mut set = toy_set(&tiny());
    set.y.iter_mut().for_each(|y| *y = 0);
    set.write(&data).expect("write");
    let store = EpochStore::open(&data).expect("open");
    let e = train(&one_epoch(), &store, &d.join("run"), &mut |_| {}).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, TrainError::OneClass { .. }), "{msg}");
    assert!(msg.contains("one.safetensors") && msg.contains("only class `F` (of F, M)"), "{msg}");
    assert!(!d.join("run").exists(), "refused before anything is written");
    // A store that knows one class only.
    set.meta.classes = vec!["F".into()];
    set.write(&data).expect("write");
    let store = EpochStore::open(&data).expect("open");
    let msg = train(&one_epoch(), &store, &d.join("run"), &mut |_| {}).unwrap_err().to_string();
    assert!(msg.contains("the store has one class (F)"), "{msg}");
    // Both classes in the train split: trains.
    toy_set(&tiny()).write(&data).expect("write");
    let store = EpochStore::open(&data).expect("open");
    train(&one_epoch(), &store, &d.join("run"), &mut |_| {}).expect("two classes train");
}

/// Finite but enormous validation windows (unscaled data) overflow the network's outputs: the
/// run used to end with exit 0, `val_loss: null` and no best checkpoint.
#[test]
fn a_validation_loss_that_is_not_finite_stops_training() {
    let d = tmpdir("dc-valnan");
    let data = d.join("loud.safetensors");
    let mut set = toy_set(&tiny());
    let w = set.meta.channels.len() * set.n_samples;
    for (i, sp) in set.split.clone().iter().enumerate() {
        if *sp == Split::Val {
            set.x[i * w..(i + 1) * w].iter_mut().for_each(|v| *v = f32::MAX * v.signum());
        }
    }
    set.write(&data).expect("finite values are written");
    let store = EpochStore::open(&data).expect("and open");
    let e = train(&one_epoch(), &store, &d.join("run"), &mut |_| {}).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, TrainError::Diverged { epoch: 1, what: "validation loss", .. }), "{msg}");
    assert!(!msg.contains('\n'), "{msg}");
}

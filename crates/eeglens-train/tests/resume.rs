//! Resume bookkeeping and the run directory's ownership: `metrics.jsonl` is
//! kept by epoch number and refused when it disagrees with the checkpoint;
//! `epochs` is extended explicitly or refused below what is done, never
//! silently rewritten; a directory that is not a run is not trained into
//! without `force`; one process at a time trains a run.

mod common;

use common::{tmpdir, toy_store};
use eeglens_train::lock::RunLock;
use eeglens_train::run_dir::{CONFIG_FILE, METRICS_FILE};
use eeglens_train::toy::ToyConfig;
use eeglens_train::{train, train_with, Progress, RunDir, RunOptions, TrainConfig, TrainError};

fn tiny() -> ToyConfig {
    ToyConfig { subjects: [4, 2, 2], windows: 4, ..ToyConfig::default() }
}

fn epochs(n: usize) -> TrainConfig {
    // No early stopping and no stuck detection: every asked epoch runs.
    TrainConfig {
        model: "rvgg".into(),
        epochs: n,
        threads: Some(1),
        patience: None,
        stuck_epochs: None,
        ..TrainConfig::default()
    }
}

fn resume() -> RunOptions {
    RunOptions { resume: true, ..RunOptions::default() }
}

fn metric_epochs(run: &std::path::Path) -> Vec<usize> {
    RunDir::open(run).expect("run").metrics().expect("metrics").iter().map(|r| r.epoch).collect()
}

#[test]
fn a_metrics_file_missing_an_epoch_is_refused_not_continued() {
    let d = tmpdir("resume-gap");
    let store = toy_store(&d, &tiny());
    let run = d.join("run");
    train(&epochs(3), &store, &run, &mut |_| {}).expect("three epochs");
    let path = run.join(METRICS_FILE);
    let text = std::fs::read_to_string(&path).expect("metrics");
    let without_2: Vec<&str> = text.lines().enumerate().filter(|(i, _)| *i != 1).map(|(_, l)| l).collect();
    std::fs::write(&path, without_2.join("\n") + "\n").expect("write");
    let (metrics_before, config_before) =
        (std::fs::read(&path).expect("read"), std::fs::read(run.join(CONFIG_FILE)).expect("read"));
    let e = train_with(&epochs(5), &store, &run, &resume(), &mut |_| {}).expect_err("a gap in the history");
    let msg = e.to_string();
    assert!(matches!(e, TrainError::RunFile { .. }), "{msg}");
    assert!(msg.contains("metrics.jsonl") && msg.contains("lacks epoch 2"), "{msg}");
    assert!(msg.contains("holds epochs 1, 3") && msg.contains("after epoch 3"), "{msg}");
    assert!(!msg.contains('\n'), "{msg}");
    assert_eq!(std::fs::read(&path).expect("read"), metrics_before, "metrics.jsonl untouched");
    assert_eq!(std::fs::read(run.join(CONFIG_FILE)).expect("read"), config_before, "config.json untouched");

    // A repeated epoch is refused too.
    let lines: Vec<&str> = text.lines().collect();
    std::fs::write(&path, [lines[0], lines[1], lines[1], lines[2]].join("\n") + "\n").expect("write");
    let msg = train_with(&epochs(5), &store, &run, &resume(), &mut |_| {}).expect_err("repeated").to_string();
    assert!(msg.contains("repeated or out of order"), "{msg}");

    // A line after the checkpoint's epoch (written just before an interruption) is dropped.
    let mut extra: serde_json::Value = serde_json::from_str(lines[2]).expect("JSON");
    extra["epoch"] = 4.into();
    std::fs::write(&path, format!("{}\n{extra}\n", lines.join("\n"))).expect("write");
    train_with(&epochs(5), &store, &run, &resume(), &mut |_| {}).expect("resumes");
    assert_eq!(metric_epochs(&run), [1, 2, 3, 4, 5]);
}

#[test]
fn resuming_with_other_epochs_extends_explicitly_or_is_refused() {
    let d = tmpdir("resume-epochs");
    let store = toy_store(&d, &tiny());
    let run = d.join("run");
    train(&epochs(3), &store, &run, &mut |_| {}).expect("three epochs");
    let config_before = std::fs::read(run.join(CONFIG_FILE)).expect("read");

    // Fewer epochs than done: refused, and config.json keeps 3.
    let e = train_with(&epochs(2), &store, &run, &resume(), &mut |_| {}).expect_err("below done");
    let msg = e.to_string();
    assert!(matches!(e, TrainError::ResumeEpochs { asked: 2, done: 3, stored: 3, .. }), "{msg}");
    assert!(
        msg.contains("--epochs 2") && msg.contains("done 3 epochs") && msg.contains("at least 3"),
        "{msg}"
    );
    assert_eq!(std::fs::read(run.join(CONFIG_FILE)).expect("read"), config_before);

    // More epochs: said, recorded, and the history goes on from epoch 4.
    let mut said = Vec::new();
    train_with(&epochs(5), &store, &run, &resume(), &mut |p| {
        if let Progress::SettingChanged(c) = p {
            said.push(c.describe());
        }
    })
    .expect("extended");
    assert_eq!(said, ["extending the run from 3 to 5 epochs"]);
    assert_eq!(RunDir::open(&run).expect("run").config().train.epochs, 5);
    assert_eq!(metric_epochs(&run), [1, 2, 3, 4, 5]);

    // The same number: nothing to say.
    let mut events = 0;
    train_with(&epochs(5), &store, &run, &resume(), &mut |p| {
        events += usize::from(matches!(p, Progress::SettingChanged(_)));
    })
    .expect("nothing left to do");
    assert_eq!(events, 0);
}

#[test]
fn a_directory_that_holds_no_run_is_trained_into_only_with_force() {
    let d = tmpdir("resume-foreign");
    let store = toy_store(&d, &tiny());
    let mine = d.join("mine");
    std::fs::create_dir_all(&mine).expect("dir");
    std::fs::write(mine.join("notes.txt"), "mine").expect("write");
    let e = train(&epochs(1), &store, &mine, &mut |_| {}).expect_err("not a run");
    let msg = e.to_string();
    assert!(matches!(e, TrainError::NotARun { .. }), "{msg}");
    assert!(msg.contains("notes.txt") && msg.contains("--force"), "{msg}");
    assert_eq!(std::fs::read_dir(&mine).expect("dir").count(), 1, "nothing written, no lock left");
    let force = RunOptions { force: true, ..RunOptions::default() };
    train_with(&epochs(1), &store, &mine, &force, &mut |_| {}).expect("forced");
    assert_eq!(std::fs::read_to_string(mine.join("notes.txt")).expect("kept"), "mine");
    // An empty directory is fine without force.
    let empty = d.join("empty");
    std::fs::create_dir_all(&empty).expect("dir");
    train(&epochs(1), &store, &empty, &mut |_| {}).expect("empty dir");
}

#[test]
fn a_locked_run_is_refused_naming_the_holder() {
    let d = tmpdir("resume-locked");
    let store = toy_store(&d, &tiny());
    let run = d.join("run");
    train(&epochs(1), &store, &run, &mut |_| {}).expect("one epoch");
    assert!(!run.join(eeglens_train::lock::LOCK_FILE).exists(), "released at the end");
    let (held, _) = RunLock::acquire(&run).expect("free");
    let e = train_with(&epochs(2), &store, &run, &resume(), &mut |_| {}).expect_err("locked");
    let msg = e.to_string();
    assert!(matches!(e, TrainError::Locked { .. }), "{msg}");
    assert!(msg.contains("train.lock") && msg.contains(&format!("pid {}", std::process::id())), "{msg}");
    assert_eq!(metric_epochs(&run), [1], "nothing changed");
    drop(held);
    train_with(&epochs(2), &store, &run, &resume(), &mut |_| {}).expect("free again");
}

#[test]
fn far_more_threads_than_cores_are_capped() {
    let d = tmpdir("resume-threads");
    let store = toy_store(&d, &tiny());
    let mut used = 0;
    let cfg = TrainConfig { threads: Some(100_000), ..epochs(1) };
    train(&cfg, &store, &d.join("run"), &mut |p| {
        if let Progress::Start { threads, .. } = p {
            used = *threads;
        }
    })
    .expect("trains");
    assert_eq!(used, eeglens_train::config::max_threads());
}

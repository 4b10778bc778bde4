//! Stuck detection: a network at chance after `stuck_epochs` epochs is
//! re-initialised from the next attempt's stream, at most `restarts` times,
//! and every attempt is recorded; the verdict on the test split says when
//! nothing was learned; the baseline is fitted first.

mod common;

use common::{tmpdir, toy_store};
use eeglens_train::toy::ToyConfig;
use eeglens_train::train::is_stuck;
use eeglens_train::{train, train_with, Progress, RunDir, RunOptions, TrainConfig};

fn null_cfg() -> TrainConfig {
    TrainConfig {
        model: "rvgg".into(),
        epochs: 3,
        lr: 1e-3,
        threads: Some(1),
        patience: None,
        stuck_epochs: Some(1),
        restarts: 2,
        ..TrainConfig::default()
    }
}

#[test]
fn a_network_at_chance_is_restarted_and_every_attempt_is_logged() {
    let d = tmpdir("stuck");
    let store = toy_store(&d, &ToyConfig { windows: 8, effect: 0.0, ..ToyConfig::default() });
    let run = d.join("run");
    let mut restarts = Vec::new();
    let s = train(&null_cfg(), &store, &run, &mut |p| {
        if let Progress::Restart { attempt, reason } = p {
            restarts.push((*attempt, reason.clone()));
        }
    })
    .expect("training runs");
    // A null set stays at chance: both restarts are used, no more.
    assert_eq!(restarts.iter().map(|r| r.0).collect::<Vec<_>>(), vec![1, 2], "{restarts:?}");
    assert!(restarts[0].1.contains("stuck after 1 epochs"), "{}", restarts[0].1);
    let rd = RunDir::open(&run).expect("open");
    let attempts = &rd.config().attempts;
    assert_eq!(attempts.len(), 2);
    assert!(attempts.iter().all(|a| a.records.len() == 1 && a.records[0].attempt == a.attempt));
    // The last attempt ran its full epochs; metrics.jsonl holds them, tagged.
    assert_eq!(s.records.len(), 3);
    assert!(rd.metrics().expect("metrics").iter().all(|r| r.attempt == 2));
    // The test verdict: nothing learned on a null set.
    let chance = s.test.expect("test").chance.expect("chance tests");
    assert!(!chance.learned, "{chance:?}");
    // The baseline was fitted first and recorded, with the test windows' probabilities (for a
    // report's ROC per window) and not the validation windows'.
    let b = rd.baseline().expect("readable").expect("baseline.json");
    assert_eq!(b.format, eeglens_train::baseline::BASELINE_FORMAT);
    assert_eq!(b.test.windows.len(), b.test.n_windows);
    assert_eq!(b.test.probabilities.len(), b.test.n_windows);
    assert!(b.val.windows.is_empty() && b.val.probabilities.is_empty());
}

#[test]
fn a_learning_network_is_not_restarted_and_resume_keeps_the_attempt() {
    let d = tmpdir("learning");
    let store = toy_store(&d, &ToyConfig { windows: 16, effect: 1.5, ..ToyConfig::default() });
    let run = d.join("run");
    let cfg = TrainConfig { stuck_epochs: Some(5), epochs: 6, ..null_cfg() };
    let mut restarted = false;
    let s = train(&cfg, &store, &run, &mut |p| restarted |= matches!(p, Progress::Restart { .. }))
        .expect("training runs");
    assert!(!restarted);
    assert!(RunDir::open(&run).expect("open").config().attempts.is_empty());
    assert!(s.test.expect("test").chance.expect("chance").learned);

    // A restarted run resumes in its current attempt, bit for bit.
    let d2 = tmpdir("stuck-resume");
    let null = toy_store(&d2, &ToyConfig { windows: 8, effect: 0.0, ..ToyConfig::default() });
    let full = train(&TrainConfig { restarts: 1, ..null_cfg() }, &null, &d2.join("a"), &mut |_| {})
        .expect("uninterrupted");
    let short = TrainConfig { restarts: 1, epochs: 2, ..null_cfg() };
    train(&short, &null, &d2.join("b"), &mut |_| {}).expect("first part");
    let resumed = train_with(
        &TrainConfig { restarts: 1, ..null_cfg() },
        &null,
        &d2.join("b"),
        &RunOptions { resume: true, ..RunOptions::default() },
        &mut |_| {},
    )
    .expect("resumed");
    let strip = |r: &[eeglens_train::EpochRecord]| r.iter().map(|e| e.without_timing()).collect::<Vec<_>>();
    assert_eq!(strip(&full.records), strip(&resumed.records));
    assert_eq!(RunDir::open(&d2.join("b")).expect("open").config().attempts.len(), 1);
}

#[test]
fn stuck_means_chance_loss_and_chance_validation() {
    let rec = |train_loss: f64, val: Option<f64>| eeglens_train::EpochRecord {
        epoch: 1,
        step: 1,
        lr: 1e-3,
        train_loss,
        train_accuracy: 0.5,
        val_loss: None,
        val_accuracy: None,
        val_balanced_accuracy: val,
        val_auc: None,
        val_subject_accuracy: None,
        best: false,
        seconds: 0.0,
        samples_per_s: 0.0,
        load_seconds: 0.0,
        load_fraction: 0.0,
        attempt: 0,
        train_regression: None,
        val_regression: None,
        val_subject_regression: None,
    };
    let ln2 = std::f64::consts::LN_2;
    assert!(is_stuck(&rec(0.6935, Some(0.5)), ln2));
    assert!(!is_stuck(&rec(0.60, Some(0.5)), ln2), "training loss left chance");
    assert!(!is_stuck(&rec(0.6935, Some(0.7)), ln2), "validation above chance");
    assert!(is_stuck(&rec(0.6935, None), ln2));
}

#[test]
fn a_restart_interrupted_before_its_config_is_repaired_on_resume() {
    let d = tmpdir("stuck-torn");
    let store = toy_store(&d, &ToyConfig { windows: 8, effect: 0.0, ..ToyConfig::default() });
    let run = d.join("run");
    let cfg = TrainConfig { restarts: 1, epochs: 2, ..null_cfg() };
    train(&cfg, &store, &run, &mut |_| {}).expect("training");
    // As if the process died after the new attempt's checkpoint, before config.json.
    let path = run.join("config.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("JSON");
    assert_eq!(v["attempts"].as_array().expect("attempts").len(), 1);
    v["attempts"] = serde_json::json!([]);
    std::fs::write(&path, v.to_string()).expect("write");
    let resumed = train_with(
        &TrainConfig { epochs: 3, ..cfg },
        &store,
        &run,
        &RunOptions { resume: true, ..RunOptions::default() },
        &mut |_| {},
    )
    .expect("resumed");
    let rd = RunDir::open(&run).expect("open");
    assert_eq!(rd.config().attempts.len(), 1, "the attempt is restored from the checkpoint");
    assert!(rd.config().attempts[0].reason.contains("lost in an interruption"));
    assert!(resumed.records.iter().all(|r| r.attempt == 1));
}

//! The training loop on toy stores: it learns a planted effect, finds nothing
//! in a null set, writes a complete run directory, and is deterministic.

mod common;

use common::{tmpdir, toy_store, weights};
use eeglens_data::store::Split;
use eeglens_train::run_dir::{BEST_CHECKPOINT, LAST_CHECKPOINT};
use eeglens_train::toy::ToyConfig;
use eeglens_train::{evaluate_split, train, Progress, RunDir, StopReason, TrainConfig};

/// A learning rate that learns the toy effect in a few epochs.
fn quick(epochs: usize) -> TrainConfig {
    TrainConfig {
        model: "rvgg".into(),
        epochs,
        lr: 1e-3,
        threads: Some(1),
        patience: None,
        ..TrainConfig::default()
    }
}

#[test]
fn learns_the_planted_effect_and_writes_the_run_directory() {
    let d = tmpdir("learn");
    let store = toy_store(&d, &ToyConfig { windows: 16, effect: 1.5, ..ToyConfig::default() });
    let run = d.join("run");
    let mut batches = 0;
    let mut epochs_seen = Vec::new();
    let s = train(&quick(6), &store, &run, &mut |p| match p {
        Progress::Batch { .. } => batches += 1,
        Progress::Epoch(r) => epochs_seen.push(r.epoch),
        _ => {}
    })
    .expect("training runs");
    assert_eq!(s.stop, StopReason::Completed);
    assert_eq!(epochs_seen, vec![1, 2, 3, 4, 5, 6]);
    // 12 train subjects x 16 windows = 192 windows: 5 batches of up to 40.
    assert_eq!(batches, 6 * 5);
    let test = s.test.as_ref().expect("the toy store has test windows");
    assert!(test.accuracy >= 0.85, "window accuracy {}", test.accuracy);
    assert!(test.subject_accuracy >= 0.85, "subject accuracy {}", test.subject_accuracy);
    assert_eq!((test.n_windows, test.n_subjects), (8 * 16, 8));
    assert!(s.records.last().expect("records").val_accuracy.expect("val") >= 0.85);

    // The run directory holds everything, and reads back.
    for f in ["config.json", "metrics.jsonl", BEST_CHECKPOINT, LAST_CHECKPOINT, "eval-test.json"] {
        assert!(run.join(f).is_file(), "{f} missing");
    }
    let rd = RunDir::open(&run).expect("open run");
    assert_eq!(rd.metrics().expect("metrics"), s.records);
    assert_eq!(rd.config().data.n_split, [12 * 16, 4 * 16, 8 * 16]);
    assert_eq!(rd.config().data.sha256.len(), 64);
    assert_eq!(rd.config().model.name, "rvgg");
    assert_eq!(rd.data_path(), store.path().canonicalize().expect("path"));
    let best = s.best_epoch.expect("a best epoch");
    assert!(s.records[best - 1].best);
    // eval-test.json is the report of the best checkpoint; evaluating again gives the same figures.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("eval-test.json")).expect("read"))
            .expect("eval-test.json is JSON");
    for key in
        ["split", "n_windows", "n_subjects", "accuracy", "balanced_accuracy", "auc", "subject_accuracy"]
    {
        assert!(json.get(key).is_some(), "eval-test.json lacks {key}");
    }
    assert_eq!(json["classes"], serde_json::json!(["F", "M"]));
    let again = evaluate_split(&rd, &store, Split::Test).expect("evaluate");
    assert_eq!(again.confusion, test.confusion);
    assert_eq!(again.subjects, test.subjects);
    let conf_total: u64 = again.confusion.iter().flatten().sum();
    assert_eq!(conf_total as usize, again.n_windows);
}

#[test]
fn null_set_with_subject_signatures_stays_near_chance() {
    // No class effect, but every subject has its own signature: a model that
    // saw test subjects during training could learn their labels from it.
    let d = tmpdir("null");
    let cfg =
        ToyConfig { subjects: [12, 4, 12], windows: 16, effect: 0.0, signature: 2.0, ..ToyConfig::default() };
    let store = toy_store(&d, &cfg);
    let s = train(&quick(6), &store, &d.join("run"), &mut |_| {}).expect("training runs");
    let test = s.test.expect("test report");
    assert!((0.3..=0.7).contains(&test.accuracy), "window accuracy {} on a null set", test.accuracy);
    assert!(test.subject_accuracy <= 0.75, "subject accuracy {} on a null set", test.subject_accuracy);
    let auc = test.auc.expect("both classes present");
    assert!((0.25..=0.75).contains(&auc), "AUC {auc} on a null set");
}

#[test]
fn class_balanced_sampling_repeats_the_smaller_class() {
    // Drop class 1 from half of the train subjects' windows: 3:1 imbalance.
    let d = tmpdir("balanced");
    let base = ToyConfig { windows: 8, ..ToyConfig::default() };
    let mut set = eeglens_train::toy::toy_set(&base);
    let keep: Vec<usize> = (0..set.len())
        .filter(|&i| !(set.split[i] == Split::Train && set.y[i] == 1 && set.subject[i] % 4 != 1))
        .collect();
    let w = set.meta.channels.len() * set.n_samples;
    set.x = keep.iter().flat_map(|&i| set.x[i * w..(i + 1) * w].to_vec()).collect();
    set.y = keep.iter().map(|&i| set.y[i]).collect();
    set.subject = keep.iter().map(|&i| set.subject[i]).collect();
    set.split = keep.iter().map(|&i| set.split[i]).collect();
    let p = d.join("imbalanced.safetensors");
    set.write(&p).expect("write");
    let store = eeglens_data::store::EpochStore::open(&p).expect("open");
    let train_idx = store.indices(Split::Train);
    let counts = |order: &[usize]| {
        let ones = order.iter().filter(|&&i| store.labels()[i] == 1).count();
        (order.len() - ones, ones)
    };
    assert_eq!(counts(&train_idx), (48, 24));
    let base_rng = eeglens_autodiff::Rng::new(3);
    let plain = eeglens_train::train::epoch_order(&train_idx, store.labels(), 2, &base_rng, 0, false);
    let balanced = eeglens_train::train::epoch_order(&train_idx, store.labels(), 2, &base_rng, 0, true);
    assert_eq!(counts(&plain), (48, 24));
    assert_eq!(counts(&balanced), (48, 48));
    // Every window of the smaller class appears exactly twice.
    for &i in train_idx.iter().filter(|&&i| store.labels()[i] == 1) {
        assert_eq!(balanced.iter().filter(|&&j| j == i).count(), 2);
    }
    // Epochs differ in order, the same epoch is the same.
    let again = eeglens_train::train::epoch_order(&train_idx, store.labels(), 2, &base_rng, 0, true);
    let next = eeglens_train::train::epoch_order(&train_idx, store.labels(), 2, &base_rng, 1, true);
    assert_eq!(balanced, again);
    assert_ne!(balanced, next);
    // And the loop runs with it: 96 windows per epoch = 3 batches.
    let mut batches = 0;
    let cfg = TrainConfig { balanced: true, ..quick(1) };
    train(&cfg, &store, &d.join("run"), &mut |p| {
        if let Progress::Start { n_train, batches: b, .. } = p {
            assert_eq!((*n_train, *b), (96, 3));
        }
        if matches!(p, Progress::Batch { .. }) {
            batches += 1;
        }
    })
    .expect("train");
    assert_eq!(batches, 3);
    let w1 = weights(&d.join("run").join(LAST_CHECKPOINT));
    assert!(w1.values().all(|t| t.data().iter().all(|v| v.is_finite())));
}

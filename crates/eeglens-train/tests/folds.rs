//! A fold of a cross-validation is a run on the store re-split as the fold:
//! training refuses a store that was not, the run records the fold's
//! splits, reopening the run re-splits its store, and a run is resumed only
//! as the fold it is.

mod common;

use common::{tmpdir, toy_store};
use eeglens_data::store::Split;
use eeglens_train::folds::plan;
use eeglens_train::toy::ToyConfig;
use eeglens_train::{train, train_with, RunDir, RunOptions, TrainConfig, TrainError};

fn one_epoch() -> TrainConfig {
    TrainConfig {
        model: "rvgg".into(),
        epochs: 1,
        threads: Some(1),
        baseline: false,
        ..TrainConfig::default()
    }
}

#[test]
fn a_fold_run_trains_on_the_folds_split_and_keeps_it() {
    let d = tmpdir("folds");
    // 12 subjects, 6 per class; the store's own split: 8 train, 2 val, 2 test.
    let mut store = toy_store(&d, &ToyConfig { subjects: [8, 2, 2], windows: 2, ..ToyConfig::default() });
    let folds = plan(&store, 3, 0, None).expect("plan");
    assert_eq!(folds.len(), 3);
    for f in &folds {
        // The store's share of validation among non-test subjects: 2 of 10.
        assert!((f.val_share - 0.2).abs() < 1e-12);
        assert_eq!((f.test.len(), f.val.len(), f.train.len()), (4, 2, 6), "fold {}", f.fold);
    }
    let cfg = TrainConfig { fold: Some(folds[1].clone()), ..one_epoch() };
    let run = d.join("run");
    // Not re-split yet: refused, saying how.
    let e = train(&cfg, &store, &run, &mut |_| {}).unwrap_err();
    assert!(matches!(e, TrainError::StoreMismatch { .. }) && e.to_string().contains("Fold::apply"), "{e}");
    folds[1].apply(&mut store);
    train(&cfg, &store, &run, &mut |_| {}).expect("train");
    let r = RunDir::open(&run).expect("run");
    let recorded = r.config().data.subject_splits.as_ref().expect("splits");
    for s in &folds[1].test {
        assert_eq!(recorded[s], "test", "{s}");
    }
    assert_eq!(r.config().data.n_split[Split::Test as usize], 4 * 2);
    // Reopened, the run's store is the fold's again, not the file's.
    let reopened = r.open_store(None).expect("its store");
    folds[1].check(&reopened).expect("the fold's split");
    assert_eq!(reopened.indices(Split::Test).len(), 8);
    // Resumed as another fold: refused by name.
    let other = TrainConfig { fold: Some(folds[2].clone()), epochs: 2, ..one_epoch() };
    folds[2].apply(&mut store);
    let opts = RunOptions { resume: true, ..RunOptions::default() };
    let e = train_with(&other, &store, &run, &opts, &mut |_| {}).unwrap_err();
    assert!(e.to_string().contains("different fold") && e.to_string().contains("fold 1 of 3"), "{e}");
}

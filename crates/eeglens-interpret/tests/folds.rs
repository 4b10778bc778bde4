//! Reading over folds: every fold's model reads its own test subjects, and
//! the pooled items are the concatenation of what each fold alone yields.

mod scratch;

use std::collections::BTreeSet;

use eeglens_autodiff::{Rng, Tensor};
use eeglens_data::store::{EpochMeta, EpochSet, EpochStore, Split};
use eeglens_dsp::Band;
use eeglens_interpret::{
    run, run_folds, FoldModel, InterpretConfig, InterpretError, InterpretResult, Saved, Silent,
};
use eeglens_nn::layers::{Flatten, Linear, LinearConfig};
use eeglens_nn::{Layer, Sequential};

const N_SUBJECTS: usize = 9;
const WINDOWS: usize = 4;
const C: usize = 2;
const T: usize = 32;

/// 9 subjects (alternating classes), 4 windows each, 2 channels x 32 samples at 32 Hz.
fn open_store(tag: &str) -> (scratch::Scratch, EpochStore) {
    let mut rng = Rng::new(7);
    let n = N_SUBJECTS * WINDOWS;
    let set = EpochSet {
        x: (0..n * C * T).map(|_| rng.normal() as f32).collect(),
        n_samples: T,
        y: (0..n).map(|i| ((i / WINDOWS) % 2) as u32).collect(),
        subject: (0..n).map(|i| (i / WINDOWS) as u32).collect(),
        split: vec![Split::Train; n],
        meta: EpochMeta {
            channels: vec!["A".into(), "B".into()],
            fs: 32.0,
            classes: vec!["F".into(), "M".into()],
            label_column: "sex".into(),
            subjects: (0..N_SUBJECTS).map(|i| format!("sub-{i:03}")).collect(),
            settings: serde_json::json!({}),
            unit: None,
        },
        sources: None,
        target: None,
    };
    let dir = std::env::temp_dir().join(format!("eeglens-interpret-folds-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("x.safetensors");
    set.write(&path).expect("write");
    (scratch::Scratch(dir), EpochStore::open(&path).expect("open"))
}

/// The store split as fold `f` of 3: subjects `s` with `s % 3 == f` test,
/// the next fold's validate, the rest train.
fn fold_store(tag: &str, f: usize) -> (scratch::Scratch, EpochStore) {
    let (dir, mut store) = open_store(&format!("{tag}-{f}"));
    store.assign_splits(|name| {
        let s: usize = name.trim_start_matches("sub-").parse().expect("a number");
        Some(if s % 3 == f {
            Split::Test
        } else if s % 3 == (f + 1) % 3 {
            Split::Val
        } else {
            Split::Train
        })
    });
    (dir, store)
}

/// A linear model with weights of its own per fold.
fn model(seed: u64) -> Sequential {
    let lin = Linear::new(&LinearConfig::new(C * T, 2), &mut Rng::new(seed)).expect("linear");
    let layers = vec![("flatten".into(), Layer::Flatten(Flatten)), ("fc".into(), Layer::Linear(lin))];
    Sequential::new("lin", &[1, C, T], layers).expect("model")
}

fn cfg() -> InterpretConfig {
    let mut cfg = InterpretConfig {
        k: 3,
        permutations: 99,
        read_anyway: true,
        bands: vec![
            Band::new("delta", 1.0, 4.0).expect("band"),
            Band::new("theta", 4.0, 8.0).expect("band"),
            Band::new("alpha", 8.0, 13.0).expect("band"),
        ],
        ..InterpretConfig::default()
    };
    cfg.actmax.steps = 3;
    cfg.actmax.restarts = 2;
    cfg.actmax.windows_per_restart = 2;
    cfg
}

fn f32s<'a>(r: &'a InterpretResult, name: &str) -> &'a Tensor {
    r.tensor(name).unwrap_or_else(|| panic!("{name} saved"))
}

fn ints(r: &InterpretResult, name: &str) -> Vec<i64> {
    r.tensors
        .iter()
        .find_map(|(n, t)| match t {
            Saved::I64(t) if n == name => Some(t.data.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{name} saved"))
}

#[test]
fn pooled_items_are_the_folds_items_concatenated_and_every_subject_is_read_once() {
    let stores: Vec<_> = (0..3).map(|f| fold_store("pool", f)).collect();
    let models: Vec<Sequential> = (0..3).map(|f| model(10 + f)).collect();
    let cfg = cfg();
    let folds: Vec<FoldModel<'_>> =
        models.iter().zip(&stores).map(|(model, (_, store))| FoldModel { model, store }).collect();
    let pooled = run_folds(&folds, &cfg, &mut Silent).expect("read over folds");
    let alone: Vec<InterpretResult> =
        folds.iter().map(|f| run(f.model, f.store, &cfg, &mut Silent).expect("one fold")).collect();

    let r = &pooled.report;
    assert_eq!(r.folds, Some(3));
    assert_eq!(r.subjects_read, Some(N_SUBJECTS));
    assert_eq!((r.split.as_str(), r.model.split.as_str()), ("out-of-fold", "out-of-fold"));
    // Each fold read its own test subjects and no other; together, every subject once.
    let fold_subjects = r.fold_subjects.as_ref().expect("per fold");
    let mut every = BTreeSet::new();
    for (f, subjects) in fold_subjects.iter().enumerate() {
        let test: Vec<String> =
            (0..N_SUBJECTS).filter(|s| s % 3 == f).map(|s| format!("sub-{s:03}")).collect();
        assert_eq!(subjects, &test, "fold {f}");
        assert!(subjects.iter().all(|s| every.insert(s.clone())), "a subject read twice");
    }
    assert_eq!(every.len(), N_SUBJECTS);
    // The verdict is on the pooled out-of-fold predictions: all subjects, all windows.
    assert_eq!(r.model.discrimination.n_subjects, N_SUBJECTS);
    assert_eq!(r.model.discrimination.n_windows, N_SUBJECTS * WINDOWS);
    let read_windows: BTreeSet<i64> = ints(&pooled, "optimal.indices").into_iter().collect();
    for i in &read_windows {
        let s = *i as usize / WINDOWS;
        let f = s % 3;
        assert_eq!(stores[f].1.splits()[*i as usize], Split::Test, "window {i} read by fold {f}");
    }

    // Items: the concatenation of what each fold yields alone.
    let cat = |name: &str| alone.iter().flat_map(|a| ints(a, name)).collect::<Vec<i64>>();
    assert_eq!(ints(&pooled, "optimal.indices"), cat("optimal.indices"));
    assert_eq!(ints(&pooled, "deconv.indices"), cat("deconv.indices"));
    let maps: Vec<f32> = alone.iter().flat_map(|a| f32s(a, "deconv.maps").data().to_vec()).collect();
    assert_eq!(f32s(&pooled, "deconv.maps").data(), maps.as_slice());
    let pats: Vec<f32> = alone.iter().flat_map(|a| f32s(a, "actmax.patterns").data().to_vec()).collect();
    let pooled_pats = f32s(&pooled, "actmax.patterns");
    assert_eq!(pooled_pats.shape()[0], 3);
    assert_eq!(&pooled_pats.shape()[1..], f32s(&alone[0], "actmax.patterns").shape());
    assert_eq!(pooled_pats.data(), pats.as_slice());
    let methods = &r.methods;
    for (name, n) in [
        ("optimal", &methods.optimal.as_ref().expect("optimal").reading.n),
        ("actmax", &methods.actmax.as_ref().expect("actmax").reading.n),
        ("deconv", &methods.deconv.as_ref().expect("deconv").reading.n),
    ] {
        for (c, (class, got)) in n.0.iter().enumerate() {
            let sum: usize = alone
                .iter()
                .map(|a| {
                    let m = &a.report.methods;
                    let n = match name {
                        "optimal" => &m.optimal.as_ref().expect("read").reading.n,
                        "actmax" => &m.actmax.as_ref().expect("read").reading.n,
                        _ => &m.deconv.as_ref().expect("read").reading.n,
                    };
                    n.0[c].1
                })
                .sum();
            assert_eq!(*got, sum, "{name}, class {class}");
        }
    }
    let samples = &methods.optimal.as_ref().expect("optimal").samples;
    let in_report: usize = samples.0.iter().map(|(_, v)| v.len()).sum();
    assert_eq!(in_report, read_windows.len());
    for (dir, _) in stores {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn a_subject_tested_by_two_folds_and_reading_validation_are_refused() {
    let a = fold_store("refuse", 0);
    // Fold 0 twice: its test subjects would be read twice.
    let b = fold_store("refuse-b", 0);
    let (m0, m1) = (model(1), model(2));
    let folds = [FoldModel { model: &m0, store: &a.1 }, FoldModel { model: &m1, store: &b.1 }];
    let err = run_folds(&folds, &cfg(), &mut Silent).expect_err("a subject read twice");
    assert!(matches!(err, InterpretError::Config { field: "folds", .. }), "{err}");
    assert!(err.to_string().contains("sub-000"), "{err}");

    let c = fold_store("refuse-c", 1);
    let folds = [FoldModel { model: &m0, store: &a.1 }, FoldModel { model: &m1, store: &c.1 }];
    let also = InterpretConfig { also: Some(Split::Val), ..cfg() };
    let err = run_folds(&folds, &also, &mut Silent).expect_err("validation read");
    assert!(matches!(err, InterpretError::Config { field: "split", .. }), "{err}");
    assert!(run_folds(&[], &cfg(), &mut Silent).is_err());
    for (dir, _) in [a, b, c] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

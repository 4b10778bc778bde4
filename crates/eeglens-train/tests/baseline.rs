//! The band-power baseline on toy stores: it decodes and locates a planted
//! 16 Hz sine, and stays at chance on a null set.

mod common;

use common::{tmpdir, toy_store};
use eeglens_train::baseline::baseline;
use eeglens_train::toy::ToyConfig;

#[test]
fn decodes_and_locates_a_planted_sine() {
    let d = tmpdir("baseline-effect");
    // The sine has a period of 8 samples at 128 Hz (16 Hz: low beta) on channels 0-3.
    let store = toy_store(&d, &ToyConfig { windows: 16, effect: 1.0, ..ToyConfig::default() });
    let b = baseline(&store).expect("baseline");
    assert!(b.test.accuracy >= 0.9, "window accuracy {}", b.test.accuracy);
    assert!(b.chance.learned, "{:?}", b.chance);
    assert_eq!(b.top_band, "low beta", "{:?}", b.effect);
    let planted: Vec<String> = (0..4).map(|i| store.meta().channels[i].clone()).collect();
    for ch in &b.top_channels[..4] {
        assert!(planted.contains(ch), "{ch} ranks among the top 4: {:?}", b.top_channels);
    }
    // The penalty was chosen on validation from the whole grid.
    assert_eq!(b.c_path.len(), eeglens_train::baseline::C_GRID.len());
    assert!(b.c_path.iter().any(|&[c, _]| c == b.c));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_null_set_is_not_decoded() {
    let d = tmpdir("baseline-null");
    let cfg =
        ToyConfig { subjects: [12, 6, 12], windows: 16, effect: 0.0, signature: 2.0, ..ToyConfig::default() };
    let store = toy_store(&d, &cfg);
    let b = baseline(&store).expect("baseline");
    assert!(b.test.subject_accuracy <= 0.75, "subject accuracy {} on a null set", b.test.subject_accuracy);
    assert_eq!(b.where_text().contains("at chance"), !b.chance.learned, "{}", b.where_text());
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn folds_pool_into_one_out_of_fold_baseline() {
    use eeglens_train::baseline::pool_folds;
    use eeglens_train::folds::plan;
    let d = tmpdir("baseline-folds");
    let mut store =
        toy_store(&d, &ToyConfig { subjects: [8, 2, 2], windows: 8, effect: 1.0, ..ToyConfig::default() });
    let folds = plan(&store, 3, 0, None).expect("plan");
    let mut reports = Vec::new();
    for f in &folds {
        f.apply(&mut store);
        reports.push(baseline(&store).expect("baseline").for_run());
    }
    let pooled = pool_folds(&reports, &store).expect("pool");
    // Every subject and window tested once, and the pooled accuracy is the folds' correct windows
    // over all windows.
    assert_eq!(pooled.test.n_subjects, 12);
    assert_eq!(pooled.test.n_windows, store.len());
    let correct: f64 = reports.iter().map(|r| r.test.accuracy * r.test.n_windows as f64).sum();
    assert!((pooled.test.accuracy - correct / store.len() as f64).abs() < 1e-9);
    assert!(pooled.chance.learned, "{:?}", pooled.chance);
    // The coefficients and effects are the folds' means.
    let mean = reports.iter().map(|r| r.coefficients[0][2][1]).sum::<f64>() / 3.0;
    assert!((pooled.coefficients[0][2][1] - mean).abs() < 1e-12);
    let mean = reports.iter().map(|r| r.effect[3][0]).sum::<f64>() / 3.0;
    assert!((pooled.effect[3][0] - mean).abs() < 1e-12);
    assert_eq!(pooled.top_band, "low beta");
    // A window tested by two folds, or no fold at all, is refused.
    let twice = [reports[0].clone(), reports[0].clone()];
    assert!(pool_folds(&twice, &store).unwrap_err().to_string().contains("two folds"));
    assert!(pool_folds(&[], &store).is_err());
    let _ = std::fs::remove_dir_all(&d);
}

//! A regression (one output, a store with a numeric target) read by the three methods: the
//! optimal samples are the windows of the extreme predictions, activation maximisation moves
//! the prediction both ways, the verdict is the subjects' r, and what does not fit is refused.

mod scratch;

use eeglens_autodiff::{Rng, Tensor};
use eeglens_data::store::{EpochMeta, EpochSet, EpochStore, NumericTarget, Split};
use eeglens_dsp::Band;
use eeglens_interpret::{run, InterpretConfig, InterpretError, OutputScale, Silent};
use eeglens_nn::layers::{Flatten, Linear, LinearConfig};
use eeglens_nn::{Layer, Sequential};

const N_SUBJECTS: usize = 12;
const WINDOWS: usize = 3;
const C: usize = 2;
const T: usize = 64;

/// 12 subjects of 3 windows (2 channels x 64 samples at 32 Hz), all test; subject `s` is
/// `5 + s` years old, and channel A carries a 6 Hz rhythm whose amplitude grows with age.
fn open_store(tag: &str) -> (scratch::Scratch, EpochStore) {
    let mut rng = Rng::new(3);
    let n = N_SUBJECTS * WINDOWS;
    let age = |i: usize| 5.0 + (i / WINDOWS) as f32;
    let mut x = Vec::with_capacity(n * C * T);
    for i in 0..n {
        for c in 0..C {
            for t in 0..T {
                let rhythm = if c == 0 {
                    0.2 * age(i) * (2.0 * std::f32::consts::PI * 6.0 * t as f32 / 32.0).sin()
                } else {
                    0.0
                };
                x.push(rhythm + rng.normal() as f32);
            }
        }
    }
    let set = EpochSet {
        x,
        n_samples: T,
        y: (0..n).map(|i| u32::from(i / WINDOWS >= N_SUBJECTS / 2)).collect(),
        subject: (0..n).map(|i| (i / WINDOWS) as u32).collect(),
        split: vec![Split::Test; n],
        meta: EpochMeta {
            channels: vec!["A".into(), "B".into()],
            fs: 32.0,
            classes: vec!["age < 11".into(), "age >= 11".into()],
            label_column: "age".into(),
            subjects: (0..N_SUBJECTS).map(|i| format!("sub-{i:03}")).collect(),
            settings: serde_json::json!({}),
            unit: None,
        },
        sources: None,
        target: Some(NumericTarget {
            column: "age".into(),
            unit: Some("year".into()),
            values: (0..n).map(age).collect(),
        }),
    };
    let dir = std::env::temp_dir().join(format!("eeglens-interpret-regression-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("x.safetensors");
    set.write(&path).expect("write");
    (scratch::Scratch(dir), EpochStore::open(&path).expect("open"))
}

/// A linear model with `outputs` outputs whose first output is `w . x`: a known prediction.
fn model(outputs: usize, w: &[f32]) -> Sequential {
    let mut lin = Linear::new(&LinearConfig::new(C * T, outputs), &mut Rng::new(1)).expect("linear");
    let mut weight = vec![0.0f32; outputs * C * T];
    weight[..C * T].copy_from_slice(w);
    lin.weight = Tensor::from_vec(&[outputs, C * T], weight).expect("weights");
    lin.bias = Some(Tensor::zeros(&[outputs]));
    let layers = vec![("flatten".into(), Layer::Flatten(Flatten)), ("fc".into(), Layer::Linear(lin))];
    Sequential::new("lin", &[1, C, T], layers).expect("model")
}

/// The weights of a matched filter for channel A's 6 Hz rhythm: the prediction grows with age.
fn matched() -> Vec<f32> {
    (0..C * T)
        .map(
            |j| {
                if j < T {
                    (2.0 * std::f32::consts::PI * 6.0 * j as f32 / 32.0).sin() / T as f32
                } else {
                    0.0
                }
            },
        )
        .collect()
}

fn cfg() -> InterpretConfig {
    let mut cfg = InterpretConfig {
        k: 4,
        permutations: 199,
        bands: vec![
            Band::new("delta", 1.0, 4.0).expect("band"),
            Band::new("theta", 4.0, 8.0).expect("band"),
            Band::new("alpha", 8.0, 13.0).expect("band"),
        ],
        output_scale: Some(OutputScale { mean: 10.0, sd: 2.0 }),
        ..InterpretConfig::default()
    };
    cfg.actmax.steps = 5;
    cfg.actmax.restarts = 2;
    cfg.actmax.windows_per_restart = 2;
    // No circular shifts: the first and last steps' objectives are then comparable.
    cfg.actmax.jitter = 0;
    cfg
}

#[test]
fn the_optimal_samples_are_the_extreme_predictions_and_the_reading_is_high_over_low() {
    let (dir, store) = open_store("read");
    let w = matched();
    let m = model(1, &w);
    let cfg = cfg();
    let result = run(&m, &store, &cfg, &mut Silent).expect("read");
    let r = &result.report;
    assert_eq!(r.classes, ["low", "high"]);
    let numeric = r.numeric.as_ref().expect("a regression");
    assert_eq!((numeric.target.as_str(), numeric.column.as_str()), ("numeric", "age"));
    let reg = r.model.regression.as_ref().expect("the regression's test");
    assert!(reg.learned && reg.r > 0.8 && reg.n_subjects == N_SUBJECTS, "{reg:?}");
    assert_eq!((r.model.discrimination.p, r.model.discrimination.learned), (reg.p, true));

    // The known predictions, in the target's unit: 10 + 2 w.x.
    let idx = store.indices(Split::Test);
    let mut win = vec![0.0f32; C * T];
    let pred: Vec<f64> = idx
        .iter()
        .map(|&i| {
            store.copy_window(i, &mut win);
            10.0 + 2.0 * win.iter().zip(&w).map(|(a, b)| f64::from(a * b)).sum::<f64>()
        })
        .collect();
    // k = 4 of 12 subjects: at most one window of a subject per group.
    let by = |desc: bool| {
        let mut o: Vec<usize> = (0..idx.len()).collect();
        o.sort_by(|&a, &b| if desc { pred[b].total_cmp(&pred[a]) } else { pred[a].total_cmp(&pred[b]) });
        let mut seen = std::collections::BTreeSet::new();
        o.into_iter().filter(|&p| seen.insert(store.subjects()[idx[p]])).take(4).collect::<Vec<_>>()
    };
    let opt = r.methods.optimal.as_ref().expect("optimal samples");
    for (group, want) in [("high", by(true)), ("low", by(false))] {
        let got: Vec<usize> = opt.samples.get(group).expect("group").iter().map(|s| s.index).collect();
        assert_eq!(got, want.iter().map(|&p| idx[p]).collect::<Vec<_>>(), "{group}");
        for (s, &p) in opt.samples.get(group).expect("group").iter().zip(&want) {
            assert!((s.score - pred[p]).abs() < 1e-4, "{s:?} {}", pred[p]);
            assert_eq!(s.value, Some(f64::from(store.target().expect("target").values[idx[p]])));
        }
    }
    // The high windows carry more 6 Hz power on channel A: theta, high over low.
    let theta = &opt.reading.bands[1];
    assert!(theta.log_ratio > 0.5, "{theta:?}");
    assert_eq!(opt.reading.top_band.as_deref(), Some("theta"), "{:?}", opt.reading.bands);

    // Activation maximisation raised the prediction for high and lowered it for low (in years).
    let am = r.methods.actmax.as_ref().expect("actmax");
    assert_eq!(am.objective, "output");
    let (start, end) = (&am.objective_start, &am.objective_end);
    let at = |o: &eeglens_interpret::Ordered<f64>, g: &str| *o.get(g).expect("group");
    assert!(at(end, "high") > at(start, "high") && at(end, "low") < at(start, "low"), "{start:?} {end:?}");
    // The deconvnet of a linear model is its weights, signed by the group: the low maps are the
    // negated weights, so both groups' maps have the same spectrum.
    let maps = result.tensor("deconv.maps").expect("maps");
    let per = C * T;
    let n_low = r.methods.deconv.as_ref().expect("deconv").reading.n.get("low").copied().expect("low");
    for (j, (lo, hi)) in maps.data()[..per].iter().zip(&maps.data()[n_low * per..][..per]).enumerate() {
        assert!((lo + w[j]).abs() < 1e-6 && (hi - w[j]).abs() < 1e-6, "sample {j}: {lo} {hi}");
    }
    // interpret.json reads back as it was written: the target's fields beside the rest.
    let text = serde_json::to_string(r).expect("serialises");
    let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!((json["target"].as_str(), json["target_unit"].as_str()), (Some("numeric"), Some("year")));
    assert!(json.get("unit").is_none(), "`unit` names a network's unit, not the target's");
    let back: eeglens_interpret::Report = serde_json::from_str(&text).expect("reads back");
    // (Floats may differ in their last digit through serde_json's parser.)
    assert_eq!((&back.numeric, &back.classes, back.unit.is_none()), (&r.numeric, &r.classes, true));
    let g = back.model.regression.as_ref().expect("the regression's test read back");
    assert_eq!((g.learned, g.n_subjects), (reg.learned, reg.n_subjects));
    let values = |o: &eeglens_interpret::result::OptimalReport| -> Vec<Option<f64>> {
        o.samples.0.iter().flat_map(|(_, s)| s.iter().map(|x| x.value)).collect()
    };
    assert_eq!(back.methods.optimal.as_ref().map(values), r.methods.optimal.as_ref().map(values));
    std::fs::remove_dir_all(dir).expect("clean");
}

#[test]
fn a_model_that_does_not_follow_the_target_is_not_read_and_misfits_are_refused() {
    let (dir, store) = open_store("null");
    // Channel B is noise: its predictions do not follow age.
    let noise: Vec<f32> =
        (0..C * T).map(|j| if j >= T { ((j * 7919) % 13) as f32 - 6.0 } else { 0.0 }).collect();
    let result = run(&model(1, &noise), &store, &cfg(), &mut Silent).expect("scored");
    let reg = result.report.model.regression.as_ref().expect("the regression's test");
    assert!(!reg.learned && !result.report.model.discrimination.learned, "{reg:?}");
    assert!(result.report.methods.optimal.is_none() && result.report.methods.actmax.is_none());

    // Two outputs for a numeric target, and correct-only windows, are refused with their reason.
    let e = run(&model(2, &matched()), &store, &cfg(), &mut Silent).expect_err("two outputs");
    assert!(matches!(e, InterpretError::Config { field: "model", .. }), "{e}");
    assert!(e.to_string().contains("one output") && e.to_string().contains("`age`"), "{e}");
    let e = run(&model(1, &matched()), &store, &InterpretConfig { correct_only: true, ..cfg() }, &mut Silent)
        .expect_err("correct-only");
    assert!(e.to_string().contains("correct_only"), "{e}");
    std::fs::remove_dir_all(dir).expect("clean");
}

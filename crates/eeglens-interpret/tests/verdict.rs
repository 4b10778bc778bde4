//! Reading validation with test: the methods read both, the verdict (whether
//! the model learned, the floor of every p-value) stays on test.

mod scratch;

use eeglens_autodiff::{Rng, Tensor};
use eeglens_data::store::{EpochMeta, EpochSet, EpochStore, Split};
use eeglens_dsp::Band;
use eeglens_interpret::{run, InterpretConfig, Method, Silent};
use eeglens_nn::layers::{Flatten, Linear, LinearConfig};
use eeglens_nn::{Layer, Sequential};

/// 40 test windows whose labels have nothing to do with the model's score and
/// 40 validation windows the model separates perfectly; one subject per 4 windows.
fn store(tag: &str) -> (scratch::Scratch, EpochStore) {
    let mut rng = Rng::new(5);
    let n = 80;
    let x: Vec<f32> = (0..n * 8).map(|_| rng.normal() as f32).collect();
    // The model's score: the sum of channel A's 4 samples.
    let score = |i: usize| x[i * 8..i * 8 + 4].iter().sum::<f32>();
    let y: Vec<u32> =
        (0..n).map(|i| if i < 40 { (i as u32 / 4) % 2 } else { u32::from(score(i) > 0.0) }).collect();
    let set = EpochSet {
        x: x.clone(),
        n_samples: 4,
        y,
        subject: (0..n as u32).map(|i| i / 4).collect(),
        split: (0..n).map(|i| if i < 40 { Split::Test } else { Split::Val }).collect(),
        meta: EpochMeta {
            channels: vec!["A".into(), "B".into()],
            fs: 4.0,
            classes: vec!["F".into(), "M".into()],
            label_column: "sex".into(),
            subjects: (0..n / 4).map(|i| format!("sub-{i:03}")).collect(),
            settings: serde_json::json!({}),
            unit: None,
        },
        sources: None,
        target: None,
    };
    let dir = std::env::temp_dir().join(format!("eeglens-interpret-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("x.safetensors");
    set.write(&path).expect("write");
    (scratch::Scratch(dir), EpochStore::open(&path).expect("open"))
}

#[test]
fn validation_windows_are_read_but_the_verdict_is_on_test_alone() {
    let (dir, store) = store("verdict");
    let mut lin = Linear::new(&LinearConfig::new(8, 2), &mut Rng::new(0)).expect("linear");
    let w: Vec<f32> = [[0.0; 8], [4.0, 4.0, 4.0, 4.0, 0.0, 0.0, 0.0, 0.0]].concat();
    lin.weight = Tensor::from_vec(&[2, 8], w).expect("weights");
    lin.bias = Some(Tensor::zeros(&[2]));
    let layers = vec![("flatten".into(), Layer::Flatten(Flatten)), ("fc".into(), Layer::Linear(lin))];
    let model = Sequential::new("known", &[1, 2, 4], layers).expect("model");
    let cfg = InterpretConfig {
        methods: vec![Method::Optimal],
        split: Split::Test,
        also: Some(Split::Val),
        k: 6,
        permutations: 199,
        read_anyway: true,
        // Windows of 4 samples at 4 Hz: bands below 2 Hz.
        bands: vec![Band::new("slow", 0.0, 1.0).expect("band"), Band::new("fast", 1.0, 2.0).expect("band")],
        ..InterpretConfig::default()
    };
    let r = run(&model, &store, &cfg, &mut Silent).expect("runs").report;
    assert_eq!(r.split, "test+val");
    assert_eq!(r.model.split, "test");
    let d = &r.model.discrimination;
    assert_eq!((d.n_windows, d.n_subjects), (40, 10), "{d:?}");
    // On val the model is perfect; on test it is not, and over test alone it learned nothing.
    assert!(d.accuracy < 0.8 && !d.learned, "{d:?}");
    // The optimal samples came from both splits' windows: the most sure ones are validation windows.
    let optimal = r.methods.optimal.expect("read anyway");
    let chosen: Vec<usize> = optimal.samples.0.iter().flat_map(|(_, s)| s.iter().map(|x| x.index)).collect();
    assert!(chosen.iter().any(|&i| i >= 40), "{chosen:?}");
    // Read on test alone, the verdict is the same.
    let test_only = InterpretConfig { also: None, ..cfg };
    let t = run(&model, &store, &test_only, &mut Silent).expect("runs").report;
    assert_eq!(t.model.discrimination, r.model.discrimination);
    drop(store);
    let _ = std::fs::remove_dir_all(dir);
}

/// Optimal samples and the deconvnet each pick their top band by their own ranking
/// (`optimal_rank`, `deconv_rank`; both z by default), and each reading records it.
#[test]
fn optimal_samples_and_the_deconvnet_each_rank_by_their_own_setting() {
    use eeglens_interpret::spectral::Rank;
    let (dir, store) = store("rank");
    let lin = Linear::new(&LinearConfig::new(8, 2), &mut Rng::new(0)).expect("linear");
    let layers = vec![("flatten".into(), Layer::Flatten(Flatten)), ("fc".into(), Layer::Linear(lin))];
    let model = Sequential::new("random", &[1, 2, 4], layers).expect("model");
    let base = InterpretConfig {
        methods: vec![Method::Optimal, Method::Deconv],
        k: 6,
        permutations: 19,
        read_anyway: true,
        bands: vec![Band::new("slow", 0.0, 1.0).expect("band"), Band::new("fast", 1.0, 2.0).expect("band")],
        ..InterpretConfig::default()
    };
    let ranks = |cfg: &InterpretConfig| {
        let m = run(&model, &store, cfg, &mut Silent).expect("runs").report.methods;
        (m.optimal.expect("read anyway").reading.rank, m.deconv.expect("read anyway").reading.rank)
    };
    assert_eq!(ranks(&base), (Rank::Z, Rank::Z), "the defaults");
    let cfg = InterpretConfig { deconv_rank: Rank::Contrast, ..base.clone() };
    assert_eq!(ranks(&cfg), (Rank::Z, Rank::Contrast));
    let cfg = InterpretConfig { optimal_rank: Rank::Contrast, ..base.clone() };
    assert_eq!(ranks(&cfg), (Rank::Contrast, Rank::Z));
    // Optimal samples tested on their subjects: recorded on their reading alone.
    let by_subject = |cfg: &InterpretConfig| {
        let m = run(&model, &store, cfg, &mut Silent).expect("runs").report.methods;
        (
            m.optimal.expect("read anyway").reading.by_subject,
            m.deconv.expect("read anyway").reading.by_subject,
        )
    };
    assert_eq!(by_subject(&base), (false, false), "the default permutes windows");
    assert_eq!(by_subject(&InterpretConfig { optimal_by_subject: true, ..base.clone() }), (true, false));
    drop(store);
    let _ = std::fs::remove_dir_all(dir);
}

//! Scoring in bf16 (`InterpretConfig::precision`): on windows the network
//! separates clearly, the same class decisions, optimal samples, verdict and
//! a regression's extremes as fp32, and scores within a stated tolerance, on
//! every kernel set this CPU runs. The sets without AVX512_BF16 (portable,
//! AVX-512 without it) fall back to fp32, bit for bit, and the report says so.

mod scratch;

use eeglens_autodiff::kernels::{with_kernel_set, KernelSet};
use eeglens_autodiff::{Rng, Tensor};
use eeglens_data::store::{EpochMeta, EpochSet, EpochStore, Split};
use eeglens_dsp::Band;
use eeglens_interpret::optimal::{score_classes, ClassScores};
use eeglens_interpret::regression::{extremes, score_outputs};
use eeglens_interpret::{run, InterpretConfig, Method, Report, Silent};
use eeglens_nn::layers::{Conv2d, Conv2dConfig, Flatten, Linear, LinearConfig, Relu};
use eeglens_nn::{Layer, Precision, Predictor, Sequential};

const SUBJECTS: usize = 12;
const WINDOWS: usize = 3;
const C: usize = 2;
const T: usize = 16;
/// The convolution's width: channel A's oscillation has this period and sums to zero over it.
const K_W: usize = 4;

/// Window `i`'s offset on channel A: `±(0.3 + 0.1 i)`, positive for class 1.
fn offset(i: usize) -> f32 {
    let d = 0.3 + 0.1 * i as f32;
    if (i / WINDOWS) % 2 == 1 {
        d
    } else {
        -d
    }
}

/// 12 subjects of alternating classes, 3 test windows each, 2 channels x 16 samples at 16 Hz.
/// Channel A is the window's offset plus an oscillation of period 4 that sums to zero over a
/// period (so a width-4 moving average of it is the offset exactly); channel B is noise.
fn store(tag: &str) -> (scratch::Scratch, EpochStore) {
    let mut rng = Rng::new(11);
    let n = SUBJECTS * WINDOWS;
    let mut x = Vec::with_capacity(n * C * T);
    for i in 0..n {
        let a = 0.5 + rng.uniform_f32();
        let wave = [a, -a, 0.5 * a, -0.5 * a];
        x.extend((0..T).map(|t| offset(i) + wave[t % K_W]));
        x.extend((0..T).map(|_| rng.normal() as f32));
    }
    let set = EpochSet {
        x,
        n_samples: T,
        y: (0..n).map(|i| ((i / WINDOWS) % 2) as u32).collect(),
        subject: (0..n).map(|i| (i / WINDOWS) as u32).collect(),
        split: vec![Split::Test; n],
        meta: EpochMeta {
            channels: vec!["A".into(), "B".into()],
            fs: 16.0,
            classes: vec!["F".into(), "M".into()],
            label_column: "sex".into(),
            subjects: (0..SUBJECTS).map(|i| format!("sub-{i:03}")).collect(),
            settings: serde_json::json!({}),
            unit: None,
        },
        sources: None,
        target: None,
    };
    let dir = std::env::temp_dir().join(format!("eeglens-interpret-precision-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("x.safetensors");
    set.write(&path).expect("write");
    (scratch::Scratch(dir), EpochStore::open(&path).expect("open"))
}

/// A convolution (a width-4 moving average of each channel and its negative), a ReLU and a
/// linear layer whose `n_out` outputs are `(-1)^(o+1)` times the mean of channel A's moving
/// average: with one output the window's offset, with two the logits `(-offset, offset)`.
/// Every layer with products has a bf16 kernel (stride-1, one-group convolution; linear).
fn model(n_out: usize) -> Sequential {
    let mut conv = Conv2d::new(&Conv2dConfig::new(1, 2, (1, K_W)), &mut Rng::new(0)).expect("conv");
    let w: Vec<f32> = [[0.25f32; K_W], [-0.25; K_W]].concat();
    conv.weight = Tensor::from_vec(&[2, 1, 1, K_W], w).expect("weights");
    conv.bias = Some(Tensor::zeros(&[2]));
    let w_out = T - K_W + 1;
    let d_in = 2 * C * w_out;
    let mut lin = Linear::new(&LinearConfig::new(d_in, n_out), &mut Rng::new(0)).expect("linear");
    let mut w = vec![0.0f32; n_out * d_in];
    for o in 0..n_out {
        let sign = if (n_out - o) % 2 == 1 { 1.0 } else { -1.0 };
        for p in 0..w_out {
            // [filter, channel, position]: relu(avg) - relu(-avg) of channel A is avg.
            w[o * d_in + p] = sign / w_out as f32;
            w[o * d_in + C * w_out + p] = -sign / w_out as f32;
        }
    }
    lin.weight = Tensor::from_vec(&[n_out, d_in], w).expect("weights");
    lin.bias = Some(Tensor::zeros(&[n_out]));
    let layers = vec![
        ("conv".into(), Layer::Conv2d(conv)),
        ("relu".into(), Layer::Relu(Relu)),
        ("flatten".into(), Layer::Flatten(Flatten)),
        ("fc".into(), Layer::Linear(lin)),
    ];
    Sequential::new("known", &[1, C, T], layers).expect("model")
}

/// Every kernel set this CPU runs, each with the precision bf16 scoring runs in on it.
fn sets() -> Vec<(KernelSet, Precision)> {
    let mut sets = vec![(KernelSet::portable(), Precision::Fp32)];
    match KernelSet::avx512() {
        None => eprintln!("precision: AVX-512 sets skipped, this CPU has no AVX-512F"),
        Some(s) => {
            sets.push((s.without_bf16(), Precision::Fp32));
            if s.has_bf16() {
                sets.push((s.without_amx(), Precision::Bf16));
            } else {
                eprintln!("precision: the bf16 sets skipped, this CPU has no AVX512_BF16");
            }
            if s.has_amx() {
                sets.push((s, Precision::Bf16));
            } else {
                eprintln!("precision: the AMX set skipped, no AMX here");
            }
        }
    }
    sets
}

fn scores(model: &Sequential, store: &EpochStore, precision: Precision) -> (Precision, ClassScores) {
    let p = Predictor::new(model, precision);
    let idx = store.indices(Split::Test);
    (p.precision(), score_classes(&p, store, &idx, 7).expect("scores"))
}

/// Stated tolerance: every class probability within 0.01 of fp32's. The
/// logits are `±offset` (0.3 to 3.8); bf16 keeps 8 significant bits of each
/// operand, so a logit moves by about 2^-8 of itself (at most 0.015 here),
/// and a probability by a quarter of that (measured: 1.2e-3 on AVX512_BF16
/// and on AMX); the offsets are 0.1 apart, so no decision and no ranking can change.
const PROB_TOLERANCE: f64 = 0.01;

#[test]
fn bf16_scores_make_the_fp32_decisions_within_tolerance_on_every_kernel_set() {
    let (dir, store) = store("scores");
    let model = model(2);
    let n = SUBJECTS * WINDOWS;
    for (set, runs) in sets() {
        with_kernel_set(set, || {
            let (p32, fp32) = scores(&model, &store, Precision::Fp32);
            assert_eq!(p32, Precision::Fp32);
            // The model is what it says: class 1 exactly where the offset is positive.
            let want: Vec<usize> = (0..n).map(|i| usize::from(offset(i) > 0.0)).collect();
            assert_eq!(fp32.pred, want, "{set:?}");
            let (ran, bf16) = scores(&model, &store, Precision::Bf16);
            assert_eq!(ran, runs, "{set:?}");
            assert_eq!(bf16.pred, fp32.pred, "{set:?}: a class decision changed");
            let worst = bf16.probs.iter().zip(&fp32.probs).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
            eprintln!("precision: {set:?}: max |probability difference| bf16 vs fp32 {worst:e}");
            assert!(worst <= PROB_TOLERANCE, "{set:?}: {worst:e} over {PROB_TOLERANCE}");
            if runs == Precision::Fp32 {
                assert_eq!(bf16, fp32, "{set:?}: the fallback is fp32 bit for bit");
            } else {
                assert!(worst > 0.0, "{set:?}: bf16 gave the fp32 scores bit for bit: it did not run");
            }
            for c in 0..2 {
                let order = |s: &ClassScores| {
                    let col = s.column(c);
                    eeglens_interpret::optimal::top_k(&col, n, |_| true)
                };
                assert_eq!(order(&bf16), order(&fp32), "{set:?}: class {c}'s ranking changed");
            }
        });
    }
    drop(store);
    let _ = std::fs::remove_dir_all(dir);
}

/// The whole run with optimal samples: the same verdict, accuracy and optimal samples in
/// both precisions, and `precision` records the one that ran.
#[test]
fn a_bf16_run_has_the_fp32_verdict_and_optimal_samples_and_says_which_precision_ran() {
    let (dir, store) = store("run");
    let model = model(2);
    let cfg = InterpretConfig {
        methods: vec![Method::Optimal],
        k: 4,
        permutations: 199,
        bands: vec![Band::new("low", 1.0, 3.0).expect("band"), Band::new("high", 3.0, 8.0).expect("band")],
        ..InterpretConfig::default()
    };
    assert_eq!(cfg.precision, Precision::Fp32, "fp32 is the default");
    let chosen = |r: &Report| -> Vec<Vec<usize>> {
        let m = r.methods.optimal.as_ref().expect("optimal samples ran");
        m.samples.0.iter().map(|(_, s)| s.iter().map(|x| x.index).collect()).collect()
    };
    for (set, runs) in sets() {
        let (fp32, bf16) = with_kernel_set(set, || {
            let fp32 = run(&model, &store, &cfg, &mut Silent).expect("fp32").report;
            let cfg = InterpretConfig { precision: Precision::Bf16, ..cfg.clone() };
            (fp32, run(&model, &store, &cfg, &mut Silent).expect("bf16").report)
        });
        assert_eq!(fp32.precision, "fp32");
        assert_eq!(bf16.precision, runs.name(), "{set:?}");
        let (d32, d16) = (&fp32.model.discrimination, &bf16.model.discrimination);
        assert!(d32.learned && (d32.accuracy - 1.0).abs() < 1e-12, "{set:?}: {d32:?}");
        assert!(d16.learned && (d16.accuracy - 1.0).abs() < 1e-12, "{set:?}: {d16:?}");
        assert_eq!((d16.n_windows, d16.n_subjects), (d32.n_windows, SUBJECTS), "{set:?}");
        assert_eq!(chosen(&bf16), chosen(&fp32), "{set:?}");
        // The best window of class M is the one with the largest offset.
        assert_eq!(chosen(&fp32)[1][0], SUBJECTS * WINDOWS - 1, "{set:?}");
        let top = |r: &Report| r.methods.optimal.as_ref().map(|m| m.reading.top_band.clone());
        assert_eq!(top(&bf16), top(&fp32), "{set:?}");
    }
    drop(store);
    let _ = std::fs::remove_dir_all(dir);
}

/// A regression's predictions in bf16 pick the same lowest and highest windows, each
/// prediction within 2^-6 of its magnitude plus 0.01 (bf16
/// rounds each input sample, up to 5 here, by up to 2^-9 of itself; the outputs are 0.1 apart).
#[test]
fn bf16_regression_outputs_pick_the_fp32_extremes() {
    let (dir, store) = store("regression");
    let model = model(1);
    let idx = store.indices(Split::Test);
    let subjects: Vec<u32> = idx.iter().map(|&i| store.subjects()[i]).collect();
    for (set, runs) in sets() {
        with_kernel_set(set, || {
            let outputs = |precision| {
                let p = Predictor::new(&model, precision);
                assert_eq!(p.precision(), if precision == Precision::Fp32 { Precision::Fp32 } else { runs });
                score_outputs(&p, &store, &idx, 5).expect("outputs")
            };
            let (fp32, bf16) = (outputs(Precision::Fp32), outputs(Precision::Bf16));
            for (i, (a, b)) in fp32.iter().zip(&bf16).enumerate() {
                assert!((a - f64::from(offset(idx[i]))).abs() < 1e-5, "{set:?}: the model is the offset");
                assert!((a - b).abs() <= a.abs() / 64.0 + 0.01, "{set:?}: window {i}: {a} against {b}");
            }
            assert_eq!(extremes(&bf16, 4, &subjects, Some(1)), extremes(&fp32, 4, &subjects, Some(1)));
        });
    }
    drop(store);
    let _ = std::fs::remove_dir_all(dir);
}

//! Shared by the interpretation end-to-end tests: a small synthetic data set
//! with a planted effect (the project's own generator, 24 channels at 128 Hz,
//! band-passed and cut into 2-s windows) and a small CNN trained on it.

#![allow(dead_code)]

use std::path::PathBuf;

use eeglens_autodiff::{ops, Rng, Tape, Tensor};
use eeglens_data::store::{EpochMeta, EpochSet, EpochStore, Split};
use eeglens_data::synth::{generate_subject, subjects, Effect, Eyes, SynthConfig};
use eeglens_dsp::{butter, FilterKind};
use eeglens_io::montage::{position, HBN24};
use eeglens_nn::layers::{
    AvgPool2d, AvgPool2dConfig, Conv2d, Conv2dConfig, Flatten, Linear, LinearConfig, MaxPool2d,
    MaxPool2dConfig, Relu,
};
use eeglens_nn::{Layer, Mode, Optimizer, OptimizerConfig, Sequential};

pub const FS: f64 = 128.0;
pub const WINDOW: usize = 256;

/// A planted effect: band and electrodes.
#[derive(Clone, Debug)]
pub struct Plant {
    pub band: (f64, f64),
    pub channels: Vec<&'static str>,
    pub size: f64,
}

/// Everything a test needs: the store on disk and what was planted.
pub struct Synthetic {
    pub dir: PathBuf,
    pub store: EpochStore,
    pub planted: Vec<usize>,
}

impl Drop for Synthetic {
    fn drop(&mut self) {
        if crate::util::keep_test_files() {
            return;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Writes a store of `n_subjects` synthetic subjects (`seconds` of eyes-closed
/// rest each), half of each class for training, half for testing.
pub fn synthetic(name: &str, plant: &Plant, n_subjects: usize, seconds: f64, seed: u64) -> Synthetic {
    synthetic_split(name, plant, n_subjects, seconds, seed, &[Split::Train, Split::Test])
}

/// [`synthetic`] with the subjects of each class dealt to `splits` in turn.
pub fn synthetic_split(
    name: &str,
    plant: &Plant,
    n_subjects: usize,
    seconds: f64,
    seed: u64,
    splits: &[Split],
) -> Synthetic {
    let channels: Vec<String> = HBN24.iter().map(|s| s.to_string()).collect();
    let positions = HBN24.iter().map(|c| position(c).expect("hbn24 electrodes have positions").xyz).collect();
    let mut cfg = SynthConfig::new(channels.clone(), positions);
    cfg.n_subjects = n_subjects;
    cfg.seed = seed;
    cfg.fs = FS;
    cfg.blocks = vec![(Eyes::Closed, seconds)];
    cfg.blinks = false;
    cfg.line_freq = 0.0;
    cfg.effect = Effect {
        band: plant.band,
        channels: plant.channels.iter().map(|s| s.to_string()).collect(),
        size: plant.size,
        class: "M".into(),
    };
    let metas = subjects(&cfg);
    let band_pass = butter(4, FilterKind::BandPass(1.0, 30.0), FS).expect("a valid band-pass");
    let (mut x, mut y, mut subject, mut split) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut seen = [0usize; 2];
    for (i, meta) in metas.iter().enumerate() {
        let class = usize::from(meta.sex == "M");
        // Deal within each class: the subject of rank r goes to splits[r % len].
        let sp = splits[seen[class] % splits.len()];
        seen[class] += 1;
        let subj = generate_subject(&cfg, meta, i);
        let filtered: Vec<Vec<f32>> =
            subj.data.iter().map(|ch| band_pass.filtfilt(ch).expect("long enough to filter")).collect();
        let n_win = filtered[0].len() / WINDOW;
        for w in 0..n_win {
            for ch in &filtered {
                x.extend_from_slice(&ch[w * WINDOW..(w + 1) * WINDOW]);
            }
            y.push(class as u32);
            subject.push(i as u32);
            split.push(sp);
        }
    }
    // Unit variance overall, as a prepared store in z-units would be.
    let sd = (x.iter().map(|v| (*v as f64).powi(2)).sum::<f64>() / x.len() as f64).sqrt() as f32;
    x.iter_mut().for_each(|v| *v /= sd);
    let set = EpochSet {
        x,
        n_samples: WINDOW,
        y,
        subject,
        split,
        meta: EpochMeta {
            channels: channels.clone(),
            fs: FS,
            classes: vec!["F".into(), "M".into()],
            label_column: "sex".into(),
            subjects: metas.iter().map(|m| m.label.clone()).collect(),
            settings: serde_json::json!({"synthetic": true}),
            unit: None,
        },
        sources: None,
        target: None,
    };
    let dir = std::env::temp_dir().join(format!("eeglens-interpret-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("epochs.safetensors");
    set.write(&path).expect("store written");
    let store = EpochStore::open(&path).expect("store opens");
    let planted = plant
        .channels
        .iter()
        .map(|p| channels.iter().position(|c| c == p).expect("planted channel"))
        .collect();
    Synthetic { dir, store, planted }
}

/// A small CNN for `[1, 24, 256]` windows that keeps channels apart until
/// its last layer: temporal convolution, ReLU, max-pooling, a second
/// temporal convolution, then log-power over time (square, average, log) and
/// one linear layer. (R-VGG's 3x3 kernels also mix rows that are neighbours
/// only in the channel list; the full-size test uses R-VGG itself.)
pub fn small_cnn(rng: &mut Rng) -> Sequential {
    const F: usize = 4;
    let conv = |cfg: Conv2dConfig, rng: &mut Rng| Layer::Conv2d(Conv2d::new(&cfg, rng).expect("valid conv"));
    let pool = Layer::MaxPool2d(MaxPool2d::new(&MaxPool2dConfig::new((1, 2))).expect("valid pool"));
    let avg = Layer::AvgPool2d(AvgPool2d::new(&AvgPool2dConfig::new((1, 128))).expect("valid pool"));
    let linear = Linear::new(&LinearConfig::new(F * 24, 2), rng).expect("valid linear");
    let layers = vec![
        ("features.0".to_string(), conv(Conv2dConfig::new(1, F, (1, 25)).padding(0, 12), rng)),
        ("features.1".to_string(), Layer::Relu(Relu)),
        ("features.2".to_string(), pool),
        ("features.3".to_string(), conv(Conv2dConfig::new(F, F, (1, 9)).padding(0, 4), rng)),
        ("features.4".to_string(), Layer::Relu(Relu)),
        ("features.5".to_string(), avg),
        ("flatten".to_string(), Layer::Flatten(Flatten)),
        ("classifier.0".to_string(), Layer::Linear(linear)),
    ];
    Sequential::new("small", &[1, 24, WINDOW], layers).expect("shapes fit")
}

/// Trains `model` on the train split with Adam (step `lr`) for `epochs` passes.
pub fn train(model: &mut Sequential, store: &EpochStore, epochs: usize, lr: f64, seed: u64) {
    let mut rng = Rng::new(seed);
    let mut train = store.indices(Split::Train);
    let mut opt = Optimizer::new(OptimizerConfig::adam(lr).weight_decay(1e-3));
    let batch = 32;
    let (c, t) = (store.n_channels(), store.n_samples());
    for _ in 0..epochs {
        rng.shuffle(&mut train);
        for chunk in train.chunks(batch) {
            let mut buf = vec![0.0f32; chunk.len() * c * t];
            store.fill_batch(chunk, &mut buf);
            let labels: Vec<usize> = chunk.iter().map(|&i| store.labels()[i] as usize).collect();
            let x = Tensor::from_vec(&[chunk.len(), 1, c, t], buf).expect("sized");
            let grads: Vec<Option<Tensor>> = {
                let mut tape = Tape::new();
                let params = model.bind(&mut tape, true);
                let xv = tape.constant(x);
                let out = model.forward(&mut tape, &params, xv, Mode::Train, &mut rng).expect("forward");
                let loss = ops::cross_entropy(&mut tape, out.output, &labels, None);
                let g = tape.backward(loss);
                params.grads(&g).into_iter().map(|g| g.cloned()).collect()
            };
            let grads: Vec<Option<&Tensor>> = grads.iter().map(|g| g.as_ref()).collect();
            opt.step(&mut model.params_mut(), &grads);
        }
    }
}

/// Test accuracy of `model` (windows).
pub fn accuracy(model: &Sequential, store: &EpochStore, split: Split) -> f64 {
    let idx = store.indices(split);
    let (c, t) = (store.n_channels(), store.n_samples());
    let mut buf = vec![0.0f32; idx.len() * c * t];
    store.fill_batch(&idx, &mut buf);
    let x = Tensor::from_vec(&[idx.len(), 1, c, t], buf).expect("sized");
    let logits = model.predict(&x).expect("predict");
    let correct = logits
        .data()
        .chunks_exact(2)
        .zip(&idx)
        .filter(|(l, &i)| usize::from(l[1] > l[0]) == store.labels()[i] as usize)
        .count();
    correct as f64 / idx.len() as f64
}

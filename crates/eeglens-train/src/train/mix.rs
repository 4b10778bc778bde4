//! Within-class mixing of training windows across subjects, a data
//! augmentation against learning the training subjects instead of the classes.
//!
//! With a few dozen subjects a network can tell every training subject apart
//! and reach perfect training accuracy while the validation subjects stay at
//! chance. Mixing hands it windows that no single subject produced: with
//! probability `p` a training window `x_i` is replaced by
//! `sqrt(l) * x_i + sqrt(1 - l) * x_j`, where `x_j` is a training window of the
//! same class from another subject and `l ~ U(0, 1)`. For independent signals
//! the power spectrum of the mix is `l * P_i + (1 - l) * P_j`, a point between
//! the two windows' spectra, so the mix keeps the class's spectral signature
//! and its overall scale while no subject's own fingerprint comes through whole.
//! The label is the shared class's.

use eeglens_autodiff::Rng;
use eeglens_data::store::EpochStore;

/// Attempts at drawing a partner from another subject before a window is left unmixed.
const PARTNER_TRIES: usize = 32;

/// The training windows of each class, to draw mixing partners from.
pub(super) struct Mixer {
    by_class: Vec<Vec<usize>>,
    p: f64,
}

impl Mixer {
    /// The mixer of the training windows `train_idx`; `None` when `p` is 0.
    pub(super) fn new(store: &EpochStore, train_idx: &[usize], k: usize, p: f64) -> Option<Self> {
        if p <= 0.0 {
            return None;
        }
        let labels = store.labels();
        let mut by_class = vec![Vec::new(); k.max(1)];
        for &i in train_idx {
            if let Some(c) = by_class.get_mut(labels[i] as usize) {
                c.push(i);
            }
        }
        Some(Mixer { by_class, p })
    }

    /// Mixes the windows `idx` of the batch `x` (`idx.len()` windows back to back) in place,
    /// each with probability `p`; returns how many were mixed. A window whose class has no
    /// other subject among the training windows is left as it is.
    pub(super) fn apply(&self, store: &EpochStore, idx: &[usize], x: &mut [f32], rng: &mut Rng) -> usize {
        let w = store.n_channels() * store.n_samples();
        let (labels, subjects) = (store.labels(), store.subjects());
        let mut partner = vec![0f32; w];
        let mut mixed = 0;
        for (chunk, &i) in x.chunks_exact_mut(w).zip(idx) {
            if rng.uniform_f64() >= self.p {
                continue;
            }
            let pool = &self.by_class[labels[i] as usize];
            let Some(j) = (0..PARTNER_TRIES)
                .map(|_| pool[rng.below(pool.len() as u64) as usize])
                .find(|&j| subjects[j] != subjects[i])
            else {
                continue;
            };
            let l = rng.uniform_f64();
            let (a, b) = (l.sqrt() as f32, (1.0 - l).sqrt() as f32);
            store.copy_window(j, &mut partner);
            for (v, &q) in chunk.iter_mut().zip(&partner) {
                *v = a * *v + b * q;
            }
            mixed += 1;
        }
        mixed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use eeglens_data::store::{EpochMeta, EpochSet, Split};

    /// 4 subjects (0, 1 class 0; 2, 3 class 1), 3 windows each, one channel of 16 samples:
    /// window `i` is 1 at sample `i` and 0 elsewhere, so a mix shows both of its windows.
    fn one_hot_store(dir: &std::path::Path) -> EpochStore {
        let (n, t) = (12, 16);
        let mut x = vec![0f32; n * t];
        for i in 0..n {
            x[i * t + i] = 1.0;
        }
        let subject: Vec<u32> = (0..n as u32).map(|i| i / 3).collect();
        let set = EpochSet {
            x,
            n_samples: t,
            y: subject.iter().map(|&s| s / 2).collect(),
            subject,
            split: vec![Split::Train; n],
            meta: EpochMeta {
                channels: vec!["Cz".into()],
                fs: 8.0,
                classes: vec!["F".into(), "M".into()],
                label_column: "sex".into(),
                subjects: (1..=4).map(|s| format!("sub-{s:02}")).collect(),
                settings: serde_json::json!({}),
                unit: None,
            },
            sources: None,
            target: None,
        };
        let p = dir.join("onehot.safetensors");
        set.write(&p).expect("write");
        EpochStore::open(&p).expect("open")
    }

    fn scratch(name: &str) -> crate::scratch::Scratch {
        let d = std::env::temp_dir().join(format!("eeglens-mix-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("dir");
        crate::scratch::Scratch(d)
    }

    #[test]
    fn a_mix_blends_a_window_with_one_of_its_class_from_another_subject() {
        let d = scratch("blend");
        let store = one_hot_store(&d);
        let idx: Vec<usize> = (0..12).collect();
        let m = Mixer::new(&store, &idx, 2, 1.0).expect("on");
        let mut x = store.batch(&idx);
        let mut rng = Rng::new(7);
        assert_eq!(m.apply(&store, &idx, x.data_mut(), &mut rng), 12);
        let (labels, subjects) = (store.labels(), store.subjects());
        for (i, w) in x.data().chunks_exact(16).enumerate() {
            let j = (0..12).find(|&j| j != i && w[j] != 0.0).expect("a partner");
            assert_eq!(w.iter().filter(|v| **v != 0.0).count(), 2, "window {i}: {w:?}");
            assert_eq!(labels[j], labels[i], "window {i} mixed with {j} of another class");
            assert_ne!(subjects[j], subjects[i], "window {i} mixed with its own subject's {j}");
            // sqrt(l), sqrt(1 - l): the weights' squares sum to one
            let (a, b) = (w[i] as f64, w[j] as f64);
            assert!(a > 0.0 && b > 0.0 && ((a * a + b * b) - 1.0).abs() < 1e-6, "weights {a}, {b}");
        }
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn off_below_one_and_without_another_subject() {
        let d = scratch("off");
        let store = one_hot_store(&d);
        let idx: Vec<usize> = (0..12).collect();
        assert!(Mixer::new(&store, &idx, 2, 0.0).is_none());
        // p = 0.5 mixes about half the windows, the rest stay as they were
        let m = Mixer::new(&store, &idx, 2, 0.5).expect("on");
        let (mut total, rounds) = (0, 200);
        for r in 0..rounds {
            let mut x = store.batch(&idx);
            let mixed = m.apply(&store, &idx, x.data_mut(), &mut Rng::new(r));
            let changed = x.data().chunks_exact(16).enumerate().filter(|(i, w)| w[*i] != 1.0).count();
            assert_eq!(mixed, changed);
            total += mixed;
        }
        let share = total as f64 / (12 * rounds) as f64;
        assert!((share - 0.5).abs() < 0.03, "mixed share {share}");
        // only subject 0's windows for training: no partner from another subject, no mix
        let alone: Vec<usize> = (0..3).collect();
        let m = Mixer::new(&store, &alone, 2, 1.0).expect("on");
        let mut x = store.batch(&alone);
        assert_eq!(m.apply(&store, &alone, x.data_mut(), &mut Rng::new(1)), 0);
        assert_eq!(x.data(), store.batch(&alone).data());
        let _ = std::fs::remove_dir_all(&d);
    }
}

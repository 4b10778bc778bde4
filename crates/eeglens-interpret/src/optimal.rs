//! Optimal samples: the windows a network assigns a class with the highest
//! probability, and the windows that activate a unit most.

use eeglens_data::store::EpochStore;
use eeglens_nn::{softmax_rows, Predictor};
use serde::{Deserialize, Serialize};

use crate::error::InterpretError;
use crate::walk::{map_batches, unit_means};

/// One selected window, as written to `interpret.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// the window's index in the epoch store
    pub index: usize,
    /// the subject's identifier
    pub subject: String,
    /// the window's true class
    pub label: String,
    /// the score it was selected by (a class probability, a unit's mean
    /// activation, or a regression's prediction in the target's unit)
    pub score: f64,
    /// the window's true value, when the store has a numeric target
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
}

/// The network's view of a split: logits, probabilities and arg-max class per window.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassScores {
    /// classes
    pub n_classes: usize,
    /// `[n, n_classes]` probabilities
    pub probs: Vec<f64>,
    /// arg-max class per window
    pub pred: Vec<usize>,
}

impl ClassScores {
    /// Probability of class `c` for every window.
    pub fn column(&self, c: usize) -> Vec<f64> {
        self.probs.chunks_exact(self.n_classes).map(|r| r[c]).collect()
    }
}

/// Scores the windows `indices` of `store` in batches (eval mode), in the
/// predictor's precision ([`Predictor::precision`]).
///
/// # Errors
/// [`InterpretError::Nn`] when the model does not take the store's windows.
pub fn score_classes(
    predictor: &Predictor<'_>,
    store: &EpochStore,
    indices: &[usize],
    batch: usize,
) -> Result<ClassScores, InterpretError> {
    let n_classes = predictor.model().output_shape().iter().product();
    let probs = map_batches(store, indices, batch, |x| {
        let logits = predictor.predict(&x)?;
        Ok(softmax_rows(logits.data(), logits.shape()[1]))
    })?;
    let pred = probs
        .chunks_exact(n_classes)
        .map(|r| r.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |(i, _)| i))
        .collect();
    Ok(ClassScores { n_classes, probs, pred })
}

/// Mean activation of unit `unit` of layer `layer` (an index) for every
/// window `indices`, in the predictor's precision (a convolution's output
/// before the ReLU after it, as [`crate::walk::forward_prefix`]).
///
/// # Errors
/// [`InterpretError::Nn`] when the model does not take the store's windows.
pub fn score_unit(
    predictor: &Predictor<'_>,
    store: &EpochStore,
    indices: &[usize],
    batch: usize,
    layer: usize,
    unit: usize,
) -> Result<Vec<f64>, InterpretError> {
    map_batches(store, indices, batch, |x| {
        let act = predictor.predict_upto(&x, layer)?;
        Ok(unit_means(&act, unit).into_iter().map(f64::from).collect())
    })
}

/// Positions of the `k` largest `scores` among those `keep` accepts, best
/// first (ties: the lower position first). Fewer when fewer are kept.
pub fn top_k(scores: &[f64], k: usize, keep: impl Fn(usize) -> bool) -> Vec<usize> {
    let mut pos: Vec<usize> = (0..scores.len()).filter(|&i| keep(i) && scores[i].is_finite()).collect();
    pos.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    pos.truncate(k);
    pos
}

/// [`top_k`] with at most `cap` positions of any one group (`group[p]`, e.g.
/// the subject of window `p`), best first.
pub fn top_k_capped(
    scores: &[f64],
    k: usize,
    keep: impl Fn(usize) -> bool,
    group: &[u32],
    cap: usize,
) -> Vec<usize> {
    let all = top_k(scores, scores.len(), keep);
    let mut taken: std::collections::HashMap<u32, usize> = Default::default();
    let mut out = Vec::with_capacity(k);
    for p in all {
        let n = taken.entry(group[p]).or_insert(0);
        if *n < cap {
            *n += 1;
            out.push(p);
            if out.len() == k {
                break;
            }
        }
    }
    out
}

/// The [`Sample`] records of the windows at `positions` of `indices`.
pub fn samples(store: &EpochStore, indices: &[usize], positions: &[usize], scores: &[f64]) -> Vec<Sample> {
    let meta = store.meta();
    positions
        .iter()
        .map(|&p| {
            let i = indices[p];
            let subject = store.subjects()[i] as usize;
            let label = store.labels()[i] as usize;
            Sample {
                index: i,
                subject: meta.subjects.get(subject).cloned().unwrap_or_else(|| subject.to_string()),
                label: meta.classes.get(label).cloned().unwrap_or_else(|| label.to_string()),
                score: scores[p],
                value: store.target().and_then(|t| t.values.get(i)).map(|&v| f64::from(v)),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use eeglens_autodiff::{Rng, Tensor};
    use eeglens_data::store::{EpochMeta, EpochSet, Split};
    use eeglens_nn::layers::{Flatten, Linear, LinearConfig};
    use eeglens_nn::{Layer, Precision, Sequential};

    /// A store of `n` random windows `[2, 4]`, each its own subject.
    fn store(n: usize, name: &str) -> (crate::scratch::Scratch, EpochStore) {
        let mut rng = Rng::new(9);
        let set = EpochSet {
            x: (0..n * 8).map(|_| rng.normal() as f32).collect(),
            n_samples: 4,
            y: (0..n as u32).map(|i| i % 2).collect(),
            subject: (0..n as u32).collect(),
            split: vec![Split::Test; n],
            meta: EpochMeta {
                channels: vec!["A".into(), "B".into()],
                fs: 4.0,
                classes: vec!["F".into(), "M".into()],
                label_column: "sex".into(),
                subjects: (0..n).map(|i| format!("s{i}")).collect(),
                settings: serde_json::json!({}),
                unit: None,
            },
            sources: None,
            target: None,
        };
        let dir =
            std::env::temp_dir().join(format!("eeglens-interpret-optimal-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.safetensors");
        set.write(&path).unwrap();
        (crate::scratch::Scratch(dir), EpochStore::open(&path).unwrap())
    }

    #[test]
    fn optimal_samples_of_a_known_score_are_its_top_k() {
        let (_dir, store) = store(30, "known");
        // Logit 1 - logit 0 = 2 * (sum of channel A) - (sample 0 of channel B): a known score,
        // and p(class 1) = sigmoid(score) is monotone in it.
        let mut lin = Linear::new(&LinearConfig::new(8, 2), &mut Rng::new(0)).unwrap();
        let w: Vec<f32> = [[0.0; 8], [2.0, 2.0, 2.0, 2.0, -1.0, 0.0, 0.0, 0.0]].concat();
        lin.weight = Tensor::from_vec(&[2, 8], w).unwrap();
        lin.bias = Some(Tensor::zeros(&[2]));
        let layers = vec![("flatten".into(), Layer::Flatten(Flatten)), ("fc".into(), Layer::Linear(lin))];
        let model = Sequential::new("known", &[1, 2, 4], layers).unwrap();
        let idx = store.indices(Split::Test);
        let scores = score_classes(&Predictor::new(&model, Precision::Fp32), &store, &idx, 7).unwrap();
        let mut win = vec![0.0f32; 8];
        let known: Vec<f64> = idx
            .iter()
            .map(|&i| {
                store.copy_window(i, &mut win);
                (2.0 * win[..4].iter().sum::<f32>() - win[4]) as f64
            })
            .collect();
        let mut want: Vec<usize> = (0..idx.len()).collect();
        want.sort_by(|&a, &b| known[b].total_cmp(&known[a]));
        assert_eq!(top_k(&scores.column(1), 5, |_| true), want[..5].to_vec());
        want.reverse();
        assert_eq!(top_k(&scores.column(0), 5, |_| true), want[..5].to_vec());
        let recs = samples(&store, &idx, &want[..2], &known);
        assert_eq!(recs[0].subject, format!("s{}", idx[want[0]]));
    }

    #[test]
    fn top_k_capped_takes_at_most_cap_of_a_group() {
        let s = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4];
        let g = [0, 0, 0, 1, 1, 2];
        assert_eq!(top_k_capped(&s, 4, |_| true, &g, 2), vec![0, 1, 3, 4]);
        assert_eq!(top_k_capped(&s, 3, |_| true, &g, 1), vec![0, 3, 5]);
        assert_eq!(top_k_capped(&s, 5, |i| i != 0, &g, 1), vec![1, 3, 5]);
    }

    #[test]
    fn top_k_is_the_k_best_kept_scores_best_first() {
        let s = [0.1, 0.9, 0.5, 0.9, f64::NAN, 0.7];
        assert_eq!(top_k(&s, 3, |_| true), vec![1, 3, 5]);
        assert_eq!(top_k(&s, 3, |i| i != 1), vec![3, 5, 2]);
        assert_eq!(top_k(&s, 10, |i| i % 2 == 0), vec![2, 0]);
    }
}

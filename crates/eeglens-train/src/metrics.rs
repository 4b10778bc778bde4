//! Classification metrics per window and per subject.
//!
//! Probabilities are row-major `[n, k]` (`k` classes, rows summing to 1).
//! Per-subject figures follow the seed paper's group: a subject's class is the
//! argmax of the mean of its windows' probabilities (and, as a second reading,
//! the majority vote of its windows' predicted classes).

use eeglens_nn::softmax_rows;
use serde::{Deserialize, Serialize};

/// Class probabilities `[n, k]` of logits `[n, k]` as the metrics take them:
/// [`eeglens_nn::softmax_rows`] (computed in `f64`), each value cast to `f32`.
///
/// # Panics
/// When `k == 0` or `logits.len()` is not a multiple of `k`.
pub fn probabilities(logits: &[f32], k: usize) -> Vec<f32> {
    softmax_rows(logits, k).into_iter().map(|p| p as f32).collect()
}

/// Sum over rows of the cross-entropy `-log softmax(logits)[label]`, in `f64`
/// (divide by the row count for the mean).
///
/// # Panics
/// When the sizes disagree or a label is not below `k`.
pub fn cross_entropy_sum(logits: &[f32], labels: &[usize], k: usize) -> f64 {
    assert_eq!(logits.len(), labels.len() * k, "cross_entropy_sum: logits do not fit the labels");
    logits
        .chunks_exact(k)
        .zip(labels)
        .map(|(row, &y)| {
            let max = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v as f64));
            let lse = max + row.iter().map(|&v| (v as f64 - max).exp()).sum::<f64>().ln();
            lse - row[y] as f64
        })
        .sum()
}

/// Index of the largest value (the first on ties).
pub fn argmax<T: PartialOrd + Copy>(row: &[T]) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    best
}

/// Predicted class of every row of `probs` (`[n, k]`).
pub fn predictions(probs: &[f32], k: usize) -> Vec<usize> {
    probs.chunks_exact(k).map(argmax).collect()
}

/// `confusion[true][predicted]` counts.
///
/// # Panics
/// When a label or prediction is not below `k`, or the lengths differ.
pub fn confusion(labels: &[usize], preds: &[usize], k: usize) -> Vec<Vec<u64>> {
    assert_eq!(labels.len(), preds.len(), "confusion: labels and predictions differ in length");
    let mut m = vec![vec![0u64; k]; k];
    for (&y, &p) in labels.iter().zip(preds) {
        m[y][p] += 1;
    }
    m
}

/// Fraction of correct predictions (diagonal over total; 0 for an empty matrix).
pub fn accuracy(confusion: &[Vec<u64>]) -> f64 {
    let total: u64 = confusion.iter().flatten().sum();
    let correct: u64 = confusion.iter().enumerate().map(|(i, r)| r[i]).sum();
    if total == 0 {
        0.0
    } else {
        correct as f64 / total as f64
    }
}

/// Mean recall over the classes that occur (sklearn's `balanced_accuracy_score`).
pub fn balanced_accuracy(confusion: &[Vec<u64>]) -> f64 {
    let recalls: Vec<f64> = confusion
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            let support: u64 = r.iter().sum();
            (support > 0).then(|| r[i] as f64 / support as f64)
        })
        .collect();
    if recalls.is_empty() {
        0.0
    } else {
        recalls.iter().sum::<f64>() / recalls.len() as f64
    }
}

/// Area under the ROC curve of `scores` for `positive` labels: the
/// Mann-Whitney statistic with tied scores counted as one half. `None` when
/// either class is absent.
pub fn roc_auc(scores: &[f64], positive: &[bool]) -> Option<f64> {
    assert_eq!(scores.len(), positive.len(), "roc_auc: scores and labels differ in length");
    let n_pos = positive.iter().filter(|&&p| p).count();
    let n_neg = positive.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // Average ranks (from 1) over runs of tied scores.
    let mut rank_sum_pos = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i + 1;
        while j < order.len() && scores[order[j]] == scores[order[i]] {
            j += 1;
        }
        let avg_rank = (i + 1 + j) as f64 / 2.0;
        rank_sum_pos += order[i..j].iter().filter(|&&o| positive[o]).count() as f64 * avg_rank;
        i = j;
    }
    let u = rank_sum_pos - (n_pos * (n_pos + 1)) as f64 / 2.0;
    Some(u / (n_pos as f64 * n_neg as f64))
}

/// ROC AUC of class probabilities: for two classes the AUC of the second
/// class's probability; for more, the unweighted mean of one-vs-rest AUCs over
/// the classes that occur with both signs. `None` when undefined.
pub fn auc(probs: &[f32], labels: &[usize], k: usize) -> Option<f64> {
    let class_auc = |c: usize| {
        let scores: Vec<f64> = probs.chunks_exact(k).map(|r| r[c] as f64).collect();
        let pos: Vec<bool> = labels.iter().map(|&y| y == c).collect();
        roc_auc(&scores, &pos)
    };
    if k == 2 {
        return class_auc(1);
    }
    let aucs: Vec<f64> = (0..k).filter_map(class_auc).collect();
    (!aucs.is_empty()).then(|| aucs.iter().sum::<f64>() / aucs.len() as f64)
}

/// Loss, accuracy, balanced accuracy, AUC and confusion of a set of windows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    /// number of windows
    pub n: usize,
    /// mean cross-entropy
    pub loss: f64,
    /// fraction correct
    pub accuracy: f64,
    /// mean per-class recall
    pub balanced_accuracy: f64,
    /// ROC AUC (`None` when a class is absent)
    pub auc: Option<f64>,
    /// `confusion[true][predicted]`
    pub confusion: Vec<Vec<u64>>,
}

impl ClassMetrics {
    /// Metrics of logits `[n, k]` against `labels`.
    pub fn from_logits(logits: &[f32], labels: &[usize], k: usize) -> Self {
        let probs = probabilities(logits, k);
        let n = labels.len();
        let loss = if n == 0 { 0.0 } else { cross_entropy_sum(logits, labels, k) / n as f64 };
        Self::from_probs(&probs, labels, k, loss)
    }

    /// Metrics of probabilities `[n, k]` against `labels`, with a loss computed elsewhere.
    pub fn from_probs(probs: &[f32], labels: &[usize], k: usize, loss: f64) -> Self {
        let conf = confusion(labels, &predictions(probs, k), k);
        Self {
            n: labels.len(),
            loss,
            accuracy: accuracy(&conf),
            balanced_accuracy: balanced_accuracy(&conf),
            auc: auc(probs, labels, k),
            confusion: conf,
        }
    }
}

/// One subject's windows, summarised.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SubjectResult {
    /// subject identifier (from the store)
    pub subject: String,
    /// true class index (the majority of its windows' labels)
    pub label: usize,
    /// windows of this subject in the set
    pub n_windows: usize,
    /// mean of its windows' class probabilities
    pub mean_prob: Vec<f64>,
    /// argmax of `mean_prob`
    pub predicted: usize,
    /// majority vote of its windows' predictions (ties go to the higher mean probability)
    pub predicted_vote: usize,
    /// fraction of its windows classified correctly
    pub window_accuracy: f64,
    /// how many of its windows were predicted as each class (empty in
    /// reports written before it was recorded)
    #[serde(default)]
    pub window_votes: Vec<u64>,
}

/// Groups windows by subject (in order of first appearance of each subject
/// index) and summarises each: mean probabilities, both subject-level
/// predictions, and window accuracy. `names[s]` names subject index `s`.
pub fn per_subject(
    probs: &[f32],
    labels: &[usize],
    subjects: &[usize],
    k: usize,
    names: &[String],
) -> Vec<SubjectResult> {
    assert_eq!(labels.len(), subjects.len(), "per_subject: labels and subjects differ in length");
    let mut order: Vec<usize> = Vec::new();
    let mut slot = std::collections::HashMap::new();
    // Per subject: probability sums, label counts, vote counts, windows.
    type Acc = (Vec<f64>, Vec<u64>, Vec<u64>, usize);
    let mut acc: Vec<Acc> = Vec::new();
    for (i, (&y, &s)) in labels.iter().zip(subjects).enumerate() {
        let j = *slot.entry(s).or_insert_with(|| {
            order.push(s);
            acc.push((vec![0.0; k], vec![0; k], vec![0; k], 0));
            acc.len() - 1
        });
        let row = &probs[i * k..(i + 1) * k];
        let a = &mut acc[j];
        for (sum, &p) in a.0.iter_mut().zip(row) {
            *sum += p as f64;
        }
        a.1[y] += 1;
        a.2[argmax(row)] += 1;
        a.3 += 1;
    }
    order
        .iter()
        .zip(acc)
        .map(|(&s, (sums, label_counts, votes, n))| {
            let mean_prob: Vec<f64> = sums.iter().map(|v| v / n as f64).collect();
            let predicted = argmax(&mean_prob);
            let top = votes.iter().copied().max().unwrap_or(0);
            let predicted_vote = (0..k)
                .filter(|&c| votes[c] == top)
                .max_by(|&a, &b| mean_prob[a].total_cmp(&mean_prob[b]).then(b.cmp(&a)))
                .unwrap_or(predicted);
            let label = argmax(&label_counts);
            SubjectResult {
                subject: names.get(s).cloned().unwrap_or_else(|| format!("#{s}")),
                label,
                n_windows: n,
                mean_prob,
                predicted,
                predicted_vote,
                window_accuracy: votes[label] as f64 / n as f64,
                window_votes: votes,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;
    use proptest::prelude::*;

    const TOL: f64 = 1e-12;

    #[test]
    fn auc_matches_hand_computed_cases() {
        // sklearn.metrics.roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75
        let a = roc_auc(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]).expect("both classes");
        assert_relative_eq!(a, 0.75, epsilon = TOL);
        // All tied: one half.
        let a = roc_auc(&[0.5; 4], &[false, true, false, true]).expect("both classes");
        assert_relative_eq!(a, 0.5, epsilon = TOL);
        // Six (positive, negative) pairs, two of them tied: (0.5 + 0 + 1 + 0.5 + 1 + 0) / 6.
        let a = roc_auc(&[0.2, 0.2, 0.9, 0.9, 0.5], &[false, true, true, false, true]).expect("both");
        assert_relative_eq!(a, 3.0 / 6.0, epsilon = TOL);
        assert_eq!(roc_auc(&[0.1, 0.2], &[true, true]), None);
    }

    #[test]
    fn balanced_accuracy_averages_recalls() {
        // 3 of class 0 (2 right), 1 of class 1 (right): accuracy 3/4, balanced (2/3 + 1) / 2.
        let c = confusion(&[0, 0, 0, 1], &[0, 1, 0, 1], 2);
        assert_eq!(c, vec![vec![2, 1], vec![0, 1]]);
        assert_relative_eq!(accuracy(&c), 0.75, epsilon = TOL);
        assert_relative_eq!(balanced_accuracy(&c), (2.0 / 3.0 + 1.0) / 2.0, epsilon = TOL);
    }

    #[test]
    fn cross_entropy_and_softmax_agree_with_closed_forms() {
        // logits [0, ln 3]: softmax [1/4, 3/4]; CE for label 1 = ln(4/3).
        let logits = [0.0f32, 3f32.ln()];
        let p = probabilities(&logits, 2);
        assert_relative_eq!(p[1] as f64, 0.75, epsilon = 1e-7);
        assert_relative_eq!(cross_entropy_sum(&logits, &[1], 2), (4.0f64 / 3.0).ln(), epsilon = 1e-7);
    }

    #[test]
    fn subjects_average_probabilities_and_vote() {
        // Subject 7: windows say 0 (0.6), 0 (0.55), 1 (0.99): vote 0, mean prob says 1.
        let probs = [0.6, 0.4, 0.55, 0.45, 0.01, 0.99, 0.2, 0.8f32];
        let names: Vec<String> = (0..8).map(|i| format!("sub-{i}")).collect();
        let r = per_subject(&probs, &[1, 1, 1, 0], &[7, 7, 7, 2], 2, &names);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].subject, "sub-7");
        assert_eq!((r[0].predicted, r[0].predicted_vote, r[0].label, r[0].n_windows), (1, 0, 1, 3));
        assert_relative_eq!(r[0].mean_prob[1], (0.4 + 0.45 + 0.99) / 3.0, epsilon = 1e-6);
        assert_relative_eq!(r[0].window_accuracy, 1.0 / 3.0, epsilon = TOL);
        assert_eq!((r[1].subject.as_str(), r[1].predicted, r[1].label), ("sub-2", 1, 0));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        /// AUC equals the fraction of (positive, negative) pairs ranked right, ties one half.
        #[test]
        fn auc_equals_pair_count(scores in proptest::collection::vec(0u8..6, 2..30), seed in 0u64..1000) {
            let pos: Vec<bool> = (0..scores.len()).map(|i| (i as u64 * 7 + seed) % 3 == 0).collect();
            let s: Vec<f64> = scores.iter().map(|&v| v as f64).collect();
            let (mut num, mut den) = (0.0, 0.0);
            for i in 0..s.len() {
                for j in 0..s.len() {
                    if pos[i] && !pos[j] {
                        den += 1.0;
                        num += if s[i] > s[j] { 1.0 } else if s[i] == s[j] { 0.5 } else { 0.0 };
                    }
                }
            }
            match roc_auc(&s, &pos) {
                Some(a) => prop_assert!((a - num / den).abs() < 1e-12, "{a} vs {}", num / den),
                None => prop_assert!(den == 0.0),
            }
        }
    }
}

//! Which windows an epoch trains on, in which order and batches, and the loss of
//! a model that learned nothing from them.

use eeglens_autodiff::Rng;

/// The order of the training windows in epoch `epoch` (from 0): a shuffle
/// drawn from the epoch's own stream; with `balanced`, every class is
/// repeated (in fresh shuffles) up to the size of the largest class first.
pub fn epoch_order(
    train: &[usize],
    labels: &[u32],
    k: usize,
    base: &Rng,
    epoch: u64,
    balanced: bool,
) -> Vec<usize> {
    let mut rng = base.fork(epoch);
    let mut order = if balanced {
        let mut per_class: Vec<Vec<usize>> = vec![Vec::new(); k];
        for &i in train {
            per_class[labels[i] as usize].push(i);
        }
        let target = per_class.iter().map(Vec::len).max().unwrap_or(0);
        let mut out = Vec::with_capacity(target * k);
        for members in per_class.iter().filter(|m| !m.is_empty()) {
            let mut taken = 0;
            while taken < target {
                let mut copy = members.clone();
                rng.shuffle(&mut copy);
                let n = copy.len().min(target - taken);
                out.extend_from_slice(&copy[..n]);
                taken += n;
            }
        }
        out
    } else {
        train.to_vec()
    };
    rng.shuffle(&mut order);
    order
}

/// The cross-entropy of a model that ignores its input: the entropy of the
/// class shares the loop trains on (`ln k` with balanced sampling).
pub(super) fn class_entropy(train_idx: &[usize], labels: &[u32], k: usize, balanced: bool) -> f64 {
    if balanced {
        return (k as f64).ln();
    }
    let mut counts = vec![0usize; k];
    for &i in train_idx {
        counts[(labels[i] as usize).min(k - 1)] += 1;
    }
    let n = train_idx.len().max(1) as f64;
    counts.iter().filter(|&&c| c > 0).map(|&c| -(c as f64 / n) * (c as f64 / n).ln()).sum()
}

/// The batches `(start, end)` of an epoch of `n` windows, `batch` at a time. A last batch of
/// one window is dropped: batch norm cannot train on it.
pub(super) fn batches(n: usize, batch: usize) -> Vec<(usize, usize)> {
    let mut b: Vec<(usize, usize)> = (0..n).step_by(batch).map(|s| (s, (s + batch).min(n))).collect();
    if b.len() > 1 && b.last().is_some_and(|&(s, e)| e - s < 2) {
        b.pop();
    }
    b
}

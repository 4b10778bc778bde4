//! Fused log-softmax + negative log-likelihood, averaged over the batch.

use super::tensor;
use crate::tape::{Backward, Tape, Var};
use crate::tensor::Tensor;

/// Row-wise log-softmax of `[n, k]` logits: `x - max - ln(sum(exp(x - max)))`,
/// accumulated in `f64` so that large logits (±1000) neither overflow nor lose
/// the small ones.
///
/// # Panics
/// When `logits` is not 2-D.
pub fn log_softmax(logits: &Tensor) -> Tensor {
    let s = logits.shape();
    assert_eq!(s.len(), 2, "log_softmax: logits of shape {s:?} are not [n, k]");
    let k = s[1];
    let mut out = vec![0.0f32; logits.len()];
    if k > 0 {
        for (row, o) in logits.data().chunks_exact(k).zip(out.chunks_exact_mut(k)) {
            let lse = log_sum_exp(row);
            for (o, &v) in o.iter_mut().zip(row) {
                *o = (v as f64 - lse) as f32;
            }
        }
    }
    tensor(s, out)
}

fn log_sum_exp(row: &[f32]) -> f64 {
    let m = row.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b)) as f64;
    m + row.iter().map(|&v| (v as f64 - m).exp()).sum::<f64>().ln()
}

/// Softmax cross-entropy of `[n, k]` logits against integer labels, averaged
/// over the batch; with `class_weights` (`[k]`) it is PyTorch's weighted mean
/// `sum_i w[y_i] * nll_i / sum_i w[y_i]`.
///
/// The backward is fused: `dL/dlogits = (softmax - onehot) * w[y_i] / sum(w)`.
///
/// # Shapes
/// `logits` `[n, k]`, `labels.len() == n`, each label `< k`; output `[1]`.
///
/// # Panics
/// When the shapes disagree or a label is out of range (messages name
/// `cross_entropy` and the shapes).
pub fn cross_entropy(
    tape: &mut Tape<'_>,
    logits: Var,
    labels: &[usize],
    class_weights: Option<&[f32]>,
) -> Var {
    let v = tape.value(logits);
    let s = v.shape();
    assert!(
        s.len() == 2 && s[0] == labels.len() && s[0] > 0,
        "cross_entropy: logits {s:?} do not fit {} labels (expected [n, k] with n = labels)",
        labels.len()
    );
    let k = s[1];
    if let Some(w) = class_weights {
        assert_eq!(w.len(), k, "cross_entropy: {} class weights for logits {s:?}", w.len());
    }
    if let Some((i, &l)) = labels.iter().enumerate().find(|(_, &l)| l >= k) {
        panic!("cross_entropy: label {l} of sample {i} is out of range for logits {s:?}");
    }
    let row_w: Vec<f64> = labels.iter().map(|&l| class_weights.map_or(1.0, |w| w[l] as f64)).collect();
    let total_w: f64 = row_w.iter().sum();
    let mut loss = 0.0f64;
    let mut probs = vec![0.0f32; v.len()];
    for (i, (row, p)) in v.data().chunks_exact(k).zip(probs.chunks_exact_mut(k)).enumerate() {
        let lse = log_sum_exp(row);
        loss -= row_w[i] * (row[labels[i]] as f64 - lse);
        for (p, &x) in p.iter_mut().zip(row) {
            *p = (x as f64 - lse).exp() as f32;
        }
    }
    let coef = row_w.iter().map(|&w| (w / total_w) as f32).collect();
    let out = Tensor::scalar((loss / total_w) as f32);
    tape.push_op(out, &[logits], Box::new(CrossEntropyBackward { probs, labels: labels.to_vec(), coef }))
}

/// Softmax probabilities `[n, k]`, the labels and each row's weight `w[y_i] / sum(w)`.
struct CrossEntropyBackward {
    probs: Vec<f32>,
    labels: Vec<usize>,
    coef: Vec<f32>,
}

impl Backward for CrossEntropyBackward {
    fn name(&self) -> &'static str {
        "cross_entropy"
    }

    fn backward(&self, inputs: &[&Tensor], _: &Tensor, g: &Tensor, _: &[bool]) -> Vec<Option<Tensor>> {
        let s = inputs[0].shape();
        let k = s[1];
        let g = g.item();
        let mut out = self.probs.clone();
        for (i, row) in out.chunks_exact_mut(k).enumerate() {
            row[self.labels[i]] -= 1.0;
            let c = g * self.coef[i];
            for v in row.iter_mut() {
                *v *= c;
            }
        }
        vec![Some(tensor(s, out))]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::randn;
    use crate::ops::test_util::{check, t};
    use crate::Rng;
    use approx::assert_relative_eq;

    const TOL: f32 = 1e-6;

    #[test]
    fn uniform_logits_give_ln_k() {
        let mut tape = Tape::new();
        let x = tape.constant(Tensor::zeros(&[3, 4]));
        let l = cross_entropy(&mut tape, x, &[0, 1, 3], None);
        assert_relative_eq!(tape.value(l).item(), 4.0f32.ln(), max_relative = TOL);
    }

    #[test]
    fn log_softmax_survives_huge_logits() {
        let y = log_softmax(&t(&[1, 3], &[1000.0, 0.0, -1000.0]));
        assert_relative_eq!(y.data()[0], 0.0, epsilon = TOL);
        assert_relative_eq!(y.data()[1], -1000.0, max_relative = TOL);
        assert!(y.data()[2].is_finite());
    }

    #[test]
    fn weighted_mean_matches_the_definition() {
        let mut tape = Tape::new();
        let logits = t(&[2, 2], &[0.5, -0.5, 1.0, 2.0]);
        let lp = log_softmax(&logits);
        let x = tape.constant(logits);
        let l = cross_entropy(&mut tape, x, &[0, 1], Some(&[3.0, 1.0]));
        let want = -(3.0 * lp.data()[0] + 1.0 * lp.data()[3]) / 4.0;
        assert_relative_eq!(tape.value(l).item(), want, max_relative = TOL);
    }

    #[test]
    fn gradcheck_cross_entropy_plain_and_weighted() {
        let mut r = Rng::new(31);
        let labels = [2, 0, 1, 2, 1];
        check(|t, v| cross_entropy(t, v[0], &labels, None), &[randn(&[5, 3], &mut r)]);
        let w = [0.2, 1.5, 3.0];
        check(|t, v| cross_entropy(t, v[0], &labels, Some(&w)), &[randn(&[5, 3], &mut r)]);
    }

    #[test]
    #[should_panic(expected = "cross_entropy: label 3 of sample 1 is out of range for logits [2, 3]")]
    fn label_out_of_range_panics() {
        let mut tape = Tape::new();
        let x = tape.constant(Tensor::zeros(&[2, 3]));
        cross_entropy(&mut tape, x, &[0, 3], None);
    }
}

//! One eval-mode pass of a model over a batch: logits, and with labels the mean
//! cross-entropy and optionally its gradient with respect to the input (what
//! `eeglens forward` writes, and what saliency and activation maximisation use);
//! and the class probabilities of logits ([`softmax_rows`]), which training's
//! metrics and the interpretation's sample selection both read.

use eeglens_autodiff::{ops, Rng, Tape, Tensor};

use crate::error::NnError;
use crate::layers::Mode;
use crate::sequential::Sequential;

/// What [`evaluate`] computed.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// `[n, classes]`
    pub logits: Tensor,
    /// mean cross-entropy `[1]`, when labels were given
    pub loss: Option<Tensor>,
    /// `d loss / d input`, shaped like the input, when asked for (needs labels)
    pub grad_input: Option<Tensor>,
}

/// Checks labels against a batch of `n` and a model with `n_classes` outputs
/// and converts them to indices.
///
/// # Errors
/// [`NnError::Labels`] naming the count or the first bad label and its position.
pub fn check_labels(labels: &[i64], n: usize, n_classes: usize) -> Result<Vec<usize>, NnError> {
    if labels.len() != n {
        return Err(NnError::Labels(format!("{} labels for a batch of {n}", labels.len())));
    }
    labels
        .iter()
        .enumerate()
        .map(|(i, &l)| {
            usize::try_from(l).ok().filter(|&l| l < n_classes).ok_or_else(|| {
                NnError::Labels(format!("label {l} at position {i} is not a class index in 0..{n_classes}"))
            })
        })
        .collect()
}

/// Runs `model` in eval mode on `input` (`[n, ...input_shape]`) with frozen
/// weights. With `labels`, also the mean cross-entropy; with `grad_input` too,
/// its gradient with respect to the input.
///
/// # Errors
/// [`NnError::InputShape`]; [`NnError::Labels`] when labels are out of range or
/// miscounted, or when `grad_input` is asked for without labels.
pub fn evaluate(
    model: &Sequential,
    input: &Tensor,
    labels: Option<&[usize]>,
    grad_input: bool,
) -> Result<Evaluation, NnError> {
    model.check_input(input.shape())?;
    if grad_input && labels.is_none() {
        return Err(NnError::Labels("the input gradient is of the loss, which needs labels".into()));
    }
    let n_classes = model.output_shape().iter().product();
    if let Some(l) = labels {
        let as_i64: Vec<i64> = l.iter().map(|&v| v as i64).collect();
        check_labels(&as_i64, input.shape()[0], n_classes)?;
    }
    let mut tape = Tape::new();
    let params = model.bind(&mut tape, false);
    let x = if grad_input { tape.input_with_grad(input.clone()) } else { tape.constant(input.clone()) };
    let out = model.forward(&mut tape, &params, x, Mode::Eval, &mut Rng::new(0))?;
    let logits = tape.value(out.output).clone();
    let Some(labels) = labels else {
        return Ok(Evaluation { logits, loss: None, grad_input: None });
    };
    let loss = ops::cross_entropy(&mut tape, out.output, labels, None);
    let grad = if grad_input {
        let mut g = tape.backward(loss);
        Some(g.take(x).unwrap_or_else(|| Tensor::zeros(input.shape())))
    } else {
        None
    };
    Ok(Evaluation { logits, loss: Some(tape.value(loss).clone()), grad_input: grad })
}

/// Softmax of each row of `logits` (`[n, k]`, row-major), computed in `f64`:
/// the class probabilities of a batch's logits.
///
/// Each row is shifted by its maximum before `exp`, so large logits do not
/// overflow. Callers that keep `f32` probabilities cast each value.
///
/// # Panics
/// When `k == 0` or `logits.len()` is not a multiple of `k`.
pub fn softmax_rows(logits: &[f32], k: usize) -> Vec<f64> {
    assert!(k > 0 && logits.len() % k == 0, "softmax_rows: {} logits for {k} classes", logits.len());
    let mut out = Vec::with_capacity(logits.len());
    for row in logits.chunks_exact(k) {
        let max = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v as f64));
        let start = out.len();
        out.extend(row.iter().map(|&v| (v as f64 - max).exp()));
        let sum: f64 = out[start..].iter().sum();
        for p in &mut out[start..] {
            *p /= sum;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn softmax_rows_match_the_closed_form_and_survive_large_logits() {
        // logits [0, ln 3]: softmax [1/4, 3/4].
        let p = softmax_rows(&[0.0, 3f32.ln(), 1000.0, 1000.0], 2);
        assert_eq!(p.len(), 4);
        assert_relative_eq!(p[0], 0.25, epsilon = 1e-7);
        assert_relative_eq!(p[1], 0.75, epsilon = 1e-7);
        assert_relative_eq!(p[2], 0.5, epsilon = 1e-12);
        assert_relative_eq!(p[3], 0.5, epsilon = 1e-12);
        assert!(softmax_rows(&[], 3).is_empty());
    }

    #[test]
    #[should_panic(expected = "softmax_rows: 5 logits for 2 classes")]
    fn softmax_rows_refuse_a_ragged_batch() {
        softmax_rows(&[0.0; 5], 2);
    }
}

//! Gradient-norm clipping (`torch.nn.utils.clip_grad_norm_`).

use eeglens_autodiff::Tensor;
use rayon::prelude::*;

/// The global L2 norm of all gradients (accumulated in f64).
///
/// Each tensor is summed in fixed chunks (over the threads), each chunk with
/// four running sums, and the partial sums are added in order: the result
/// depends only on the gradients, not on the thread count.
pub fn grad_norm(grads: &[Option<&Tensor>]) -> f64 {
    let mut total = 0.0f64;
    for g in grads.iter().flatten() {
        let partial: Vec<f64> = g.data().par_chunks(NORM_CHUNK).map(chunk_sum).collect();
        total += partial.iter().sum::<f64>();
    }
    total.sqrt()
}

/// Elements per partial sum of [`grad_norm`]: a tensor's squared norm is the
/// in-order sum of its chunks' [`chunk_sum`]s.
pub(crate) const NORM_CHUNK: usize = 1 << 14;

/// The squared norm of one chunk, in f64, with four running sums.
pub(crate) fn chunk_sum(c: &[f32]) -> f64 {
    let mut acc = [0.0f64; 4];
    let quads = c.chunks_exact(4);
    let tail: f64 = quads.remainder().iter().map(|&x| (x as f64) * (x as f64)).sum();
    for q in quads {
        for (a, &x) in acc.iter_mut().zip(q) {
            *a += (x as f64) * (x as f64);
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// The factor PyTorch scales gradients by so their global norm is at most
/// `max_norm`: `min(1, max_norm / (norm + 1e-6))`.
pub fn clip_factor(norm: f64, max_norm: f64) -> f64 {
    (max_norm / (norm + 1e-6)).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn norm_and_factor() {
        let a = Tensor::from_vec(&[2], vec![3.0, 0.0]).expect("1-d");
        let b = Tensor::from_vec(&[1], vec![4.0]).expect("1-d");
        let n = grad_norm(&[Some(&a), None, Some(&b)]);
        assert_relative_eq!(n, 5.0, max_relative = 1e-12);
        assert_relative_eq!(clip_factor(n, 1.0), 1.0 / (5.0 + 1e-6), max_relative = 1e-12);
        assert_relative_eq!(clip_factor(n, 10.0), 1.0, max_relative = 1e-12);
    }
}

//! Gradient-norm clipping (`torch.nn.utils.clip_grad_norm_`).

use eeglens_autodiff::Tensor;

/// The global L2 norm of all gradients (accumulated in f64).
pub fn grad_norm(grads: &[Option<&Tensor>]) -> f64 {
    grads.iter().flatten().flat_map(|g| g.data()).map(|x| (*x as f64) * (*x as f64)).sum::<f64>().sqrt()
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

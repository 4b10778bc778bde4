//! Adam (L2 weight decay, `torch.optim.Adam`) and AdamW (decoupled weight decay,
//! `torch.optim.AdamW`).

use eeglens_autodiff::Tensor;
use rayon::prelude::*;

use super::clip::{chunk_sum, NORM_CHUNK};

/// Hyper-parameters of one Adam/AdamW step.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AdamStep {
    pub lr: f64,
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
    pub weight_decay: f32,
    /// AdamW: `p *= 1 - lr wd` instead of adding `wd p` to the gradient
    pub decoupled: bool,
    /// step number, from 1
    pub t: u64,
    /// multiplies the gradient (gradient-norm clipping)
    pub gscale: f32,
}

/// One update; `m`, `v` are the first and second moments (`exp_avg`, `exp_avg_sq`).
///
/// PyTorch's arithmetic: `m += (1 - b1)(g - m)`, `v = b2 v + (1 - b2) g^2`,
/// `p -= (lr / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps)`.
pub(crate) fn adam_update(p: &mut Tensor, g: &Tensor, m: &mut Tensor, v: &mut Tensor, h: AdamStep) {
    adam_pass(p, g, m, v, h, false);
}

/// [`adam_update`] that also returns the squared norm of `g`, bit for bit
/// the tensor's share of [`grad_norm`](super::grad_norm) (the same chunks,
/// summed in the same order), read in the same pass over memory as the
/// update. For steps whose gradient scale does not depend on the norm (no
/// clipping).
pub(crate) fn adam_update_with_norm(
    p: &mut Tensor,
    g: &Tensor,
    m: &mut Tensor,
    v: &mut Tensor,
    h: AdamStep,
) -> f64 {
    adam_pass(p, g, m, v, h, true)
}

/// The update over chunks of [`NORM_CHUNK`] elements on the threads, each
/// chunk's squared gradient norm (when `norm`) summed in chunk order.
fn adam_pass(p: &mut Tensor, g: &Tensor, m: &mut Tensor, v: &mut Tensor, h: AdamStep, norm: bool) -> f64 {
    let bc1 = 1.0 - (h.beta1 as f64).powi(h.t as i32);
    let bc2_sqrt = (1.0 - (h.beta2 as f64).powi(h.t as i32)).sqrt() as f32;
    let step_size = (h.lr / bc1) as f32;
    let decay = (1.0 - h.lr * h.weight_decay as f64) as f32;
    let (l2, decoupled) = if h.decoupled { (0.0, true) } else { (h.weight_decay, false) };
    let update = |p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]| {
        for (((p, g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
            if decoupled {
                *p *= decay;
            }
            let g = g * h.gscale + l2 * *p;
            *m += (1.0 - h.beta1) * (g - *m);
            *v = h.beta2 * *v + (1.0 - h.beta2) * g * g;
            let denom = v.sqrt() / bc2_sqrt + h.eps;
            *p -= step_size * *m / denom;
        }
    };
    // The update is element-wise, so splitting over threads changes no
    // result; the norm's partial sums are those of `grad_norm`'s chunks, in
    // order. Each chunk's gradient is summed while it is in cache for the
    // update that follows.
    let chunk = |p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]| {
        let s = if norm { chunk_sum(g) } else { 0.0 };
        update(p, g, m, v);
        s
    };
    if p.len() <= NORM_CHUNK {
        return chunk(p.data_mut(), g.data(), m.data_mut(), v.data_mut());
    }
    let partial: Vec<f64> = p
        .data_mut()
        .par_chunks_mut(NORM_CHUNK)
        .zip(g.data().par_chunks(NORM_CHUNK))
        .zip(m.data_mut().par_chunks_mut(NORM_CHUNK))
        .zip(v.data_mut().par_chunks_mut(NORM_CHUNK))
        .map(|(((p, g), m), v)| chunk(p, g, m, v))
        .collect();
    partial.iter().sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    const TOL: f64 = 1e-6;

    #[test]
    fn adamw_decays_before_the_adam_step() {
        let (lr, b1, b2, eps, wd) = (0.01f64, 0.9f64, 0.999f64, 1e-8f64, 0.1f64);
        let h = AdamStep {
            lr,
            beta1: b1 as f32,
            beta2: b2 as f32,
            eps: eps as f32,
            weight_decay: wd as f32,
            decoupled: true,
            t: 0,
            gscale: 1.0,
        };
        let mut p = Tensor::from_vec(&[2], vec![1.0, -0.5]).expect("1-d");
        let (mut m, mut v) = (Tensor::zeros(&[2]), Tensor::zeros(&[2]));
        let mut pe = [1.0f64, -0.5];
        let (mut me, mut ve) = ([0.0f64; 2], [0.0f64; 2]);
        for t in 1..=3u64 {
            let g = [0.3f64 * t as f64, -0.2];
            let gt = Tensor::from_vec(&[2], g.iter().map(|x| *x as f32).collect()).expect("1-d");
            adam_update(&mut p, &gt, &mut m, &mut v, AdamStep { t, ..h });
            for i in 0..2 {
                pe[i] *= 1.0 - lr * wd;
                me[i] = b1 * me[i] + (1.0 - b1) * g[i];
                ve[i] = b2 * ve[i] + (1.0 - b2) * g[i] * g[i];
                let mh = me[i] / (1.0 - b1.powi(t as i32));
                let vh = ve[i] / (1.0 - b2.powi(t as i32));
                pe[i] -= lr * mh / (vh.sqrt() + eps);
                assert_relative_eq!(p.data()[i] as f64, pe[i], max_relative = TOL);
            }
        }
    }
}

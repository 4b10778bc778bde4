//! Adamax (`torch.optim.Adamax`): Adam with the infinity norm; what the R-VGG
//! authors trained with (lr 0.002, weight decay 0.001).

use eeglens_autodiff::Tensor;

/// Hyper-parameters of one Adamax step.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AdamaxStep {
    pub lr: f64,
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
    pub weight_decay: f32,
    /// step number, from 1
    pub t: u64,
    /// multiplies the gradient (gradient-norm clipping)
    pub gscale: f32,
}

/// One update; `m` is `exp_avg`, `u` is `exp_inf`.
///
/// `g += wd p`; `m += (1 - b1)(g - m)`; `u = max(b2 u, |g| + eps)`;
/// `p -= (lr / (1 - b1^t)) m / u`.
pub(crate) fn adamax_update(p: &mut Tensor, g: &Tensor, m: &mut Tensor, u: &mut Tensor, h: AdamaxStep) {
    let clr = (h.lr / (1.0 - (h.beta1 as f64).powi(h.t as i32))) as f32;
    for (((p, g), m), u) in p.data_mut().iter_mut().zip(g.data()).zip(m.data_mut()).zip(u.data_mut()) {
        let g = g * h.gscale + h.weight_decay * *p;
        *m += (1.0 - h.beta1) * (g - *m);
        *u = (h.beta2 * *u).max(g.abs() + h.eps);
        *p -= clr * *m / *u;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    const TOL: f64 = 1e-6;

    #[test]
    fn adamax_follows_its_formula() {
        let (lr, b1, b2, eps, wd) = (0.002f64, 0.9f64, 0.999f64, 1e-8f64, 0.001f64);
        let h = AdamaxStep {
            lr,
            beta1: b1 as f32,
            beta2: b2 as f32,
            eps: eps as f32,
            weight_decay: wd as f32,
            t: 0,
            gscale: 1.0,
        };
        let mut p = Tensor::from_vec(&[3], vec![0.4, -1.0, 2.0]).expect("1-d");
        let (mut m, mut u) = (Tensor::zeros(&[3]), Tensor::zeros(&[3]));
        let mut pe = [0.4f64, -1.0, 2.0];
        let (mut me, mut ue) = ([0.0f64; 3], [0.0f64; 3]);
        let gs = [[0.5f64, -0.1, 0.0], [-0.2, 0.3, 1.5], [0.05, 0.05, -0.4]];
        for (k, g) in gs.iter().enumerate() {
            let t = k as u64 + 1;
            let gt = Tensor::from_vec(&[3], g.iter().map(|x| *x as f32).collect()).expect("1-d");
            adamax_update(&mut p, &gt, &mut m, &mut u, AdamaxStep { t, ..h });
            for i in 0..3 {
                let gi = g[i] + wd * pe[i];
                me[i] = b1 * me[i] + (1.0 - b1) * gi;
                ue[i] = (b2 * ue[i]).max(gi.abs() + eps);
                pe[i] -= lr / (1.0 - b1.powi(t as i32)) * me[i] / ue[i];
                assert_relative_eq!(p.data()[i] as f64, pe[i], max_relative = TOL);
            }
        }
    }
}

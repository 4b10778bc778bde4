//! SGD with momentum, dampening and Nesterov, as `torch.optim.SGD` does it.

use eeglens_autodiff::Tensor;

/// Hyper-parameters of one SGD step.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SgdStep {
    pub lr: f32,
    pub momentum: f32,
    pub dampening: f32,
    pub nesterov: bool,
    pub weight_decay: f32,
    /// multiplies the gradient (gradient-norm clipping)
    pub gscale: f32,
}

/// One update of `p` with gradient `g`; `buf` is the momentum buffer
/// (created from the first gradient, PyTorch's rule).
///
/// `d = g + wd p`; `buf = d` (first step) or `momentum buf + (1 - dampening) d`;
/// `d = d + momentum buf` (Nesterov) or `buf`; `p -= lr d`.
pub(crate) fn sgd_update(p: &mut Tensor, g: &Tensor, buf: &mut Option<Tensor>, h: SgdStep) {
    let pd = p.data_mut();
    let gd = g.data();
    if h.momentum == 0.0 {
        for (p, g) in pd.iter_mut().zip(gd) {
            let d = g * h.gscale + h.weight_decay * *p;
            *p -= h.lr * d;
        }
        return;
    }
    let first = buf.is_none();
    let b = buf.get_or_insert_with(|| Tensor::zeros(g.shape()));
    for ((p, g), b) in pd.iter_mut().zip(gd).zip(b.data_mut()) {
        let d = g * h.gscale + h.weight_decay * *p;
        *b = if first { d } else { h.momentum * *b + (1.0 - h.dampening) * d };
        let step = if h.nesterov { d + h.momentum * *b } else { *b };
        *p -= h.lr * step;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    const TOL: f32 = 1e-6;

    fn t(v: &[f32]) -> Tensor {
        Tensor::from_vec(&[v.len()], v.to_vec()).expect("1-d")
    }

    #[test]
    fn plain_sgd_with_weight_decay() {
        let mut p = t(&[1.0, -2.0]);
        let mut buf = None;
        let h = SgdStep {
            lr: 0.1,
            momentum: 0.0,
            dampening: 0.0,
            nesterov: false,
            weight_decay: 0.5,
            gscale: 1.0,
        };
        sgd_update(&mut p, &t(&[0.2, 0.4]), &mut buf, h);
        // p - lr (g + wd p)
        assert_relative_eq!(p.data()[0], 1.0 - 0.1 * (0.2 + 0.5), max_relative = TOL);
        assert_relative_eq!(p.data()[1], -2.0 - 0.1 * (0.4 - 1.0), max_relative = TOL);
        assert!(buf.is_none());
    }

    #[test]
    fn momentum_and_nesterov_follow_the_formulas() {
        for nesterov in [false, true] {
            let (lr, mu, damp) = (0.05f32, 0.9f32, 0.1f32);
            let h = SgdStep { lr, momentum: mu, dampening: damp, nesterov, weight_decay: 0.0, gscale: 1.0 };
            let mut p = t(&[0.5]);
            let mut buf = None;
            let gs = [0.3f32, -0.7, 0.2];
            let (mut pe, mut be) = (0.5f32, 0.0f32);
            for (k, g) in gs.iter().enumerate() {
                sgd_update(&mut p, &t(&[*g]), &mut buf, h);
                be = if k == 0 { *g } else { mu * be + (1.0 - damp) * g };
                let d = if nesterov { g + mu * be } else { be };
                pe -= lr * d;
                assert_relative_eq!(p.data()[0], pe, max_relative = TOL);
            }
        }
    }
}

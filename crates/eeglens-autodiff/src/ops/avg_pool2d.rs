//! Average pooling.

use super::max_pool2d::{pool_geometry, Pool2dOpts};
use super::tensor;
use crate::kernels::{self, Pool2dGeom};
use crate::tape::{Backward, Tape, Var};
use crate::tensor::Tensor;

/// Average pooling: each output is the mean of its `k_h x k_w` window
/// (no padding, floor mode, as PyTorch's `avg_pool2d` with its defaults).
///
/// # Shapes
/// `x` `[n, c, h, w]`; output `[n, c, (h - k_h) / stride_h + 1, (w - k_w) / stride_w + 1]`.
///
/// # Panics
/// When `x` is not 4-D or the window is larger than the input (the message
/// names `avg_pool2d` and the shapes).
pub fn avg_pool2d(tape: &mut Tape<'_>, x: Var, opts: Pool2dOpts) -> Var {
    let vx = tape.value(x);
    let g = pool_geometry("avg_pool2d", vx.shape(), &opts);
    let mut y = crate::pool::zeros(g.y_len());
    kernels::avg_pool2d_forward(&g, vx.data(), &mut y);
    let y = tensor(&[g.n, g.c, g.h_out(), g.w_out()], y);
    tape.push_op(y, &[x], Box::new(AvgPool2dBackward { g }))
}

/// The geometry.
struct AvgPool2dBackward {
    g: Pool2dGeom,
}

impl Backward for AvgPool2dBackward {
    fn name(&self) -> &'static str {
        "avg_pool2d"
    }

    fn backward(&self, inputs: &[&Tensor], _: &Tensor, gy: &Tensor, _: &[bool]) -> Vec<Option<Tensor>> {
        let mut gx = crate::pool::zeros(self.g.x_len());
        kernels::avg_pool2d_backward(&self.g, gy.data(), &mut gx);
        vec![Some(tensor(inputs[0].shape(), gx))]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::randn;
    use crate::ops::test_util::{check, t};
    use crate::Rng;

    #[test]
    fn forward_by_hand() {
        let mut tape = Tape::new();
        let x = tape.constant(t(&[1, 1, 2, 4], &[1.0, 5.0, 0.0, 2.0, 3.0, 0.0, 7.0, 3.0]));
        let y = avg_pool2d(&mut tape, x, Pool2dOpts::square(2));
        assert_eq!(tape.value(y).data(), &[2.25, 3.0]);
    }

    #[test]
    fn gradcheck_avg_pool2d_square_and_overlapping() {
        let mut r = Rng::new(61);
        check(|t, v| avg_pool2d(t, v[0], Pool2dOpts::square(2)), &[randn(&[2, 2, 4, 5], &mut r)]);
        let opts = Pool2dOpts { kernel: (2, 3), stride: (1, 2) };
        check(|t, v| avg_pool2d(t, v[0], opts), &[randn(&[1, 2, 4, 7], &mut r)]);
    }
}

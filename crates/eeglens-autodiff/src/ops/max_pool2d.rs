//! Max pooling that records its argmax switches (for the backward and for the
//! deconvnet's unpooling).

use std::sync::Arc;

use super::tensor;
use crate::kernels::{self, Pool2dGeom};
use crate::tape::{Backward, Tape, Var};
use crate::tensor::Tensor;

/// Window and stride of a 2-D pooling (no padding; windows that do not fit are
/// dropped, PyTorch's floor mode).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Pool2dOpts {
    /// `(height, width)` of the window.
    pub kernel: (usize, usize),
    /// `(vertical, horizontal)` stride; may differ from the window.
    pub stride: (usize, usize),
}

impl Pool2dOpts {
    /// A `k x k` window moved by `k` (PyTorch's default stride).
    pub fn square(k: usize) -> Self {
        Self { kernel: (k, k), stride: (k, k) }
    }
}

/// The pooling geometry of `x` under `opts`.
///
/// # Panics
/// When `x` is not 4-D or the window does not fit (message naming `op`).
pub(crate) fn pool_geometry(op: &str, x: &[usize], opts: &Pool2dOpts) -> Pool2dGeom {
    assert_eq!(x.len(), 4, "{op}: input {x:?} must be [n, c, h, w]");
    let g = Pool2dGeom {
        n: x[0],
        c: x[1],
        h: x[2],
        w: x[3],
        k_h: opts.kernel.0,
        k_w: opts.kernel.1,
        stride_h: opts.stride.0,
        stride_w: opts.stride.1,
    };
    if let Err(e) = g.validate() {
        panic!("{op}: input {x:?}, {opts:?}: {e}");
    }
    g
}

/// Max pooling; see [`max_pool2d_with_switches`].
///
/// # Shapes
/// `x` `[n, c, h, w]`; output `[n, c, (h - k_h) / stride_h + 1, (w - k_w) / stride_w + 1]`.
///
/// # Panics
/// When `x` is not 4-D or the window is larger than the input (the message
/// names `max_pool2d` and the shapes).
pub fn max_pool2d(tape: &mut Tape<'_>, x: Var, opts: Pool2dOpts) -> Var {
    max_pool2d_with_switches(tape, x, opts).0
}

/// Max pooling that also returns its switches: for each output element
/// (`[n, c, h_out, w_out]` order), the position `row * w + col` of its maximum
/// within its own `(n, c)` input plane. Ties go to the first maximum in
/// row-major window order (as PyTorch). The backward routes each gradient to
/// its switch, accumulating where windows overlap (kernel > stride).
///
/// # Panics
/// As [`max_pool2d`].
pub fn max_pool2d_with_switches(tape: &mut Tape<'_>, x: Var, opts: Pool2dOpts) -> (Var, Arc<Vec<u32>>) {
    let vx = tape.value(x);
    let g = pool_geometry("max_pool2d", vx.shape(), &opts);
    // The kernel writes every output and every switch.
    let mut y = crate::pool::overwritten(g.y_len());
    let mut switches = crate::pool::overwritten_u32(g.y_len());
    kernels::max_pool2d_forward(&g, vx.data(), &mut y, &mut switches);
    let switches = Arc::new(switches);
    let y = tensor(&[g.n, g.c, g.h_out(), g.w_out()], y);
    let v = tape.push_op(y, &[x], Box::new(MaxPool2dBackward { g, switches: Arc::clone(&switches) }));
    (v, switches)
}

/// The geometry and the argmax switches (shared with the caller).
struct MaxPool2dBackward {
    g: Pool2dGeom,
    switches: Arc<Vec<u32>>,
}

impl Drop for MaxPool2dBackward {
    /// The switches go back to the buffer pool when no caller holds them.
    fn drop(&mut self) {
        if let Ok(switches) = Arc::try_unwrap(std::mem::take(&mut self.switches)) {
            crate::pool::give_u32(switches);
        }
    }
}

impl Backward for MaxPool2dBackward {
    fn name(&self) -> &'static str {
        "max_pool2d"
    }

    fn backward(&self, inputs: &[&Tensor], _: &Tensor, gy: &Tensor, _: &[bool]) -> Vec<Option<Tensor>> {
        // The kernel zeroes each plane before routing the gradients into it.
        let mut gx = crate::pool::overwritten(self.g.x_len());
        kernels::max_pool2d_backward(&self.g, gy.data(), &self.switches, &mut gx);
        vec![Some(tensor(inputs[0].shape(), gx))]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::distinct_values;
    use crate::ops::test_util::{check, t};
    use crate::Rng;

    #[test]
    fn switches_point_at_the_maxima() {
        let mut tape = Tape::new();
        let x = tape.constant(t(&[1, 1, 2, 4], &[1.0, 5.0, 0.0, 2.0, 3.0, 0.0, 7.0, 2.0]));
        let (y, sw) = max_pool2d_with_switches(&mut tape, x, Pool2dOpts::square(2));
        assert_eq!(tape.value(y).data(), &[5.0, 7.0]);
        assert_eq!(&sw[..], &[1, 6]);
    }

    #[test]
    fn gradcheck_max_pool2d_square() {
        let x = distinct_values(&[2, 2, 4, 6], 0.05, &mut Rng::new(51));
        check(|t, v| max_pool2d(t, v[0], Pool2dOpts::square(2)), &[x]);
    }

    #[test]
    fn gradcheck_max_pool2d_kernel_larger_than_stride() {
        let x = distinct_values(&[2, 2, 5, 7], 0.05, &mut Rng::new(52));
        let opts = Pool2dOpts { kernel: (3, 2), stride: (2, 1) };
        check(|t, v| max_pool2d(t, v[0], opts), &[x]);
    }

    #[test]
    fn gradcheck_max_pool2d_kernel_smaller_than_stride() {
        let x = distinct_values(&[1, 3, 7, 8], 0.05, &mut Rng::new(53));
        let opts = Pool2dOpts { kernel: (1, 2), stride: (2, 3) };
        check(|t, v| max_pool2d(t, v[0], opts), &[x]);
    }
}

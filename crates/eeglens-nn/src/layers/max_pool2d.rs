//! `MaxPool2d`: max over windows, no padding, floor mode; records argmax switches.

use std::sync::Arc;

use eeglens_autodiff::kernels::Pool2dGeom;
use eeglens_autodiff::ops::{self, Pool2dOpts};
use eeglens_autodiff::{Tape, Var};
use serde::{Deserialize, Serialize};

use crate::error::NnError;

/// Configuration of a [`MaxPool2d`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaxPool2dConfig {
    /// window `(k_h, k_w)`
    pub kernel: (usize, usize),
    /// stride `(stride_h, stride_w)` (PyTorch's default is the window)
    pub stride: (usize, usize),
}

impl MaxPool2dConfig {
    /// Window `kernel` with stride equal to the window (PyTorch's default).
    pub fn new(kernel: (usize, usize)) -> Self {
        Self { kernel, stride: kernel }
    }
}

/// Max-pooling. The switches (argmax of each window, `row * w + col` within its
/// `(n, c)` input plane) are what the deconvnet unpools with.
#[derive(Clone, Debug, PartialEq)]
pub struct MaxPool2d {
    /// the configuration it was built from
    pub cfg: MaxPool2dConfig,
}

impl MaxPool2d {
    /// A max-pooling layer.
    ///
    /// # Errors
    /// [`NnError::Config`] for a zero window or stride.
    pub fn new(cfg: &MaxPool2dConfig) -> Result<Self, NnError> {
        if cfg.kernel.0 == 0 || cfg.kernel.1 == 0 || cfg.stride.0 == 0 || cfg.stride.1 == 0 {
            return Err(NnError::Config {
                kind: "MaxPool2d",
                msg: format!("zero window or stride in {cfg:?}"),
            });
        }
        Ok(Self { cfg: *cfg })
    }

    /// The kernel geometry for input `[n, c, h, w]`.
    pub fn geom(&self, n: usize, c: usize, h: usize, w: usize) -> Pool2dGeom {
        pool_geom(self.cfg.kernel, self.cfg.stride, n, c, h, w)
    }

    /// Per-sample output shape for input `[c, h, w]`.
    pub fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, String> {
        pool_output_shape(self.cfg.kernel, self.cfg.stride, input)
    }

    /// Records the pooling; with `switches`, also returns the argmax switches.
    pub fn forward(&self, tape: &mut Tape<'_>, x: Var, switches: bool) -> (Var, Option<Arc<Vec<u32>>>) {
        let opts = Pool2dOpts { kernel: self.cfg.kernel, stride: self.cfg.stride };
        if switches {
            let (y, s) = ops::max_pool2d_with_switches(tape, x, opts);
            (y, Some(s))
        } else {
            (ops::max_pool2d(tape, x, opts), None)
        }
    }
}

pub(crate) fn pool_geom(
    kernel: (usize, usize),
    stride: (usize, usize),
    n: usize,
    c: usize,
    h: usize,
    w: usize,
) -> Pool2dGeom {
    Pool2dGeom { n, c, h, w, k_h: kernel.0, k_w: kernel.1, stride_h: stride.0, stride_w: stride.1 }
}

pub(crate) fn pool_output_shape(
    kernel: (usize, usize),
    stride: (usize, usize),
    input: &[usize],
) -> Result<Vec<usize>, String> {
    let [c, h, w] = input else {
        return Err("expects [c, h, w]".into());
    };
    let g = pool_geom(kernel, stride, 1, *c, *h, *w);
    g.validate()?;
    Ok(vec![*c, g.h_out(), g.w_out()])
}

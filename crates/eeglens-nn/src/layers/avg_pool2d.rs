//! `AvgPool2d`: mean over windows, no padding, floor mode.

use eeglens_autodiff::kernels::Pool2dGeom;
use eeglens_autodiff::ops::{self, Pool2dOpts};
use eeglens_autodiff::{Tape, Var};
use serde::{Deserialize, Serialize};

use super::max_pool2d::{pool_geom, pool_output_shape};
use crate::error::NnError;

/// Configuration of an [`AvgPool2d`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvgPool2dConfig {
    /// window `(k_h, k_w)`
    pub kernel: (usize, usize),
    /// stride `(stride_h, stride_w)`
    pub stride: (usize, usize),
}

impl AvgPool2dConfig {
    /// Window `kernel` with stride equal to the window (PyTorch's default).
    pub fn new(kernel: (usize, usize)) -> Self {
        Self { kernel, stride: kernel }
    }
}

/// Average pooling.
#[derive(Clone, Debug, PartialEq)]
pub struct AvgPool2d {
    /// the configuration it was built from
    pub cfg: AvgPool2dConfig,
}

impl AvgPool2d {
    /// An average-pooling layer.
    ///
    /// # Errors
    /// [`NnError::Config`] for a zero window or stride.
    pub fn new(cfg: &AvgPool2dConfig) -> Result<Self, NnError> {
        if cfg.kernel.0 == 0 || cfg.kernel.1 == 0 || cfg.stride.0 == 0 || cfg.stride.1 == 0 {
            return Err(NnError::Config {
                kind: "AvgPool2d",
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

    /// Records the pooling.
    pub fn forward(&self, tape: &mut Tape<'_>, x: Var) -> Var {
        ops::avg_pool2d(tape, x, Pool2dOpts { kernel: self.cfg.kernel, stride: self.cfg.stride })
    }
}

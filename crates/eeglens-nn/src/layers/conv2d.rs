//! `Conv2d`: 2-D convolution with zero padding, stride and channel groups.

use eeglens_autodiff::kernels::Conv2dGeom;
use eeglens_autodiff::ops::{self, Conv2dOpts};
use eeglens_autodiff::{Rng, Tape, Tensor, Var};
use serde::{Deserialize, Serialize};

use crate::error::NnError;
use crate::init::{fans, Init};

/// Configuration of a [`Conv2d`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Conv2dConfig {
    /// input channels
    pub c_in: usize,
    /// output channels
    pub c_out: usize,
    /// kernel `(k_h, k_w)`
    pub kernel: (usize, usize),
    /// stride `(stride_h, stride_w)`
    pub stride: (usize, usize),
    /// zero padding `(pad_h, pad_w)`
    pub padding: (usize, usize),
    /// channel groups (1: dense; `c_in`: depthwise)
    pub groups: usize,
    /// whether the layer has a bias
    pub bias: bool,
    /// how the parameters are drawn
    pub init: Init,
}

impl Conv2dConfig {
    /// A dense convolution, stride 1, no padding, with bias, PyTorch's init.
    pub fn new(c_in: usize, c_out: usize, kernel: (usize, usize)) -> Self {
        Self {
            c_in,
            c_out,
            kernel,
            stride: (1, 1),
            padding: (0, 0),
            groups: 1,
            bias: true,
            init: Init::default(),
        }
    }

    /// Sets the zero padding.
    pub fn padding(mut self, pad_h: usize, pad_w: usize) -> Self {
        self.padding = (pad_h, pad_w);
        self
    }

    /// Sets the stride.
    pub fn stride(mut self, stride_h: usize, stride_w: usize) -> Self {
        self.stride = (stride_h, stride_w);
        self
    }

    /// Sets the number of channel groups.
    pub fn groups(mut self, groups: usize) -> Self {
        self.groups = groups;
        self
    }

    /// Sets whether the layer has a bias.
    pub fn bias(mut self, bias: bool) -> Self {
        self.bias = bias;
        self
    }

    /// Sets the init scheme.
    pub fn init(mut self, init: Init) -> Self {
        self.init = init;
        self
    }
}

/// A 2-D convolution: weight `[c_out, c_in / groups, k_h, k_w]`, bias `[c_out]`
/// (PyTorch's `nn.Conv2d` layout, state-dict names `weight` and `bias`).
#[derive(Clone, Debug, PartialEq)]
pub struct Conv2d {
    /// the configuration it was built from
    pub cfg: Conv2dConfig,
    /// `[c_out, c_in / groups, k_h, k_w]`
    pub weight: Tensor,
    /// `[c_out]`, when the layer has a bias
    pub bias: Option<Tensor>,
}

impl Conv2d {
    /// A convolution with freshly drawn parameters.
    ///
    /// # Errors
    /// [`NnError::Config`] for zero sizes or groups that do not divide the channels.
    pub fn new(cfg: &Conv2dConfig, rng: &mut Rng) -> Result<Self, NnError> {
        let bad = |msg: String| Err(NnError::Config { kind: "Conv2d", msg });
        if cfg.c_in == 0 || cfg.c_out == 0 || cfg.kernel.0 == 0 || cfg.kernel.1 == 0 {
            return bad(format!("zero size in {cfg:?}"));
        }
        if cfg.stride.0 == 0 || cfg.stride.1 == 0 {
            return bad(format!("stride must be positive, got {:?}", cfg.stride));
        }
        if cfg.groups == 0 || cfg.c_in % cfg.groups != 0 || cfg.c_out % cfg.groups != 0 {
            return bad(format!(
                "groups {} must divide c_in {} and c_out {}",
                cfg.groups, cfg.c_in, cfg.c_out
            ));
        }
        let shape = [cfg.c_out, cfg.c_in / cfg.groups, cfg.kernel.0, cfg.kernel.1];
        crate::init::reserve("Conv2d", &shape)?;
        crate::init::reserve("Conv2d", &[if cfg.bias { cfg.c_out } else { 0 }])?;
        let weight = cfg.init.weight(&shape, rng);
        let bias = cfg.bias.then(|| cfg.init.bias(cfg.c_out, fans(&shape).0, rng));
        Ok(Self { cfg: cfg.clone(), weight, bias })
    }

    /// The kernel geometry for a batch of `n` inputs of `h x w`.
    pub fn geom(&self, n: usize, h: usize, w: usize) -> Conv2dGeom {
        let c = &self.cfg;
        Conv2dGeom {
            n,
            c_in: c.c_in,
            h,
            w,
            c_out: c.c_out,
            k_h: c.kernel.0,
            k_w: c.kernel.1,
            stride_h: c.stride.0,
            stride_w: c.stride.1,
            pad_h: c.padding.0,
            pad_w: c.padding.1,
            groups: c.groups,
        }
    }

    /// Per-sample output shape `[c_out, h_out, w_out]` for input `[c_in, h, w]`.
    pub fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, String> {
        let [c, h, w] = input else {
            return Err(format!("expects [c_in, h, w] = [{}, h, w]", self.cfg.c_in));
        };
        if *c != self.cfg.c_in {
            return Err(format!("expects {} input channels, got {c}", self.cfg.c_in));
        }
        let g = self.geom(1, *h, *w);
        g.validate()?;
        Ok(vec![g.c_out, g.h_out(), g.w_out()])
    }

    /// Learnable parameters in state-dict order.
    pub fn params(&self) -> Vec<(&'static str, &Tensor)> {
        let mut p = vec![("weight", &self.weight)];
        if let Some(b) = &self.bias {
            p.push(("bias", b));
        }
        p
    }

    /// Learnable parameters in state-dict order, mutable.
    pub fn params_mut(&mut self) -> Vec<(&'static str, &mut Tensor)> {
        let mut p = vec![("weight", &mut self.weight)];
        if let Some(b) = &mut self.bias {
            p.push(("bias", b));
        }
        p
    }

    /// Records the convolution; `p` are the vars of [`Conv2d::params`].
    pub fn forward(&self, tape: &mut Tape<'_>, x: Var, p: &[Var]) -> Var {
        let c = &self.cfg;
        let opts = Conv2dOpts { stride: c.stride, padding: c.padding, groups: c.groups };
        ops::conv2d(tape, x, p[0], p.get(1).copied(), opts)
    }

    /// This layer followed by a ReLU, as one op ([`ops::conv2d_relu`]:
    /// bit-identical, one pass over the output fewer).
    pub fn forward_relu(&self, tape: &mut Tape<'_>, x: Var, p: &[Var]) -> Var {
        let c = &self.cfg;
        let opts = Conv2dOpts { stride: c.stride, padding: c.padding, groups: c.groups };
        ops::conv2d_relu(tape, x, p[0], p.get(1).copied(), opts)
    }
}

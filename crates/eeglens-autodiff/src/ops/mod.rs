//! Ops: one file each, forward and backward side by side.
//!
//! Every op is a plain function taking the [`Tape`](crate::Tape) and its input
//! [`Var`](crate::Var)s: it computes the output value, records a node holding
//! exactly what its backward needs (a struct implementing
//! [`Backward`](crate::Backward)) and returns the output's `Var`.
//!
//! Shapes are checked when a model is built; inside the tape a shape mismatch
//! is a bug, so the ops panic with a message naming the op and the shapes.

mod add;
mod avg_pool2d;
mod batch_norm;
mod broadcast;
mod conv2d;
mod cross_entropy;
mod dropout;
mod elu;
mod leaky_relu;
mod linear;
mod log;
mod max_pool2d;
mod mean;
mod mse;
mod mul;
mod relu;
mod reshape;
mod scale;
mod square;
mod sum;
mod transpose;

pub use add::add;
pub use avg_pool2d::avg_pool2d;
pub use batch_norm::{batch_norm, BatchNormMode, BatchStats};
pub use conv2d::{conv2d, conv2d_relu, Conv2dOpts};
pub use cross_entropy::{cross_entropy, log_softmax};
pub use dropout::dropout;
pub use elu::elu;
pub use leaky_relu::leaky_relu;
pub use linear::linear;
pub use log::log;
pub use max_pool2d::{max_pool2d, max_pool2d_with_switches, Pool2dOpts};
pub use mean::mean;
pub use mse::mse;
pub use mul::mul;
pub use relu::relu;
pub use reshape::{flatten, reshape};
pub use scale::scale;
pub use square::square;
pub use sum::sum;
pub use transpose::transpose_last2;

use crate::tensor::Tensor;

/// Wraps an op's freshly computed buffer; the op sized it from `shape`.
fn tensor(shape: &[usize], data: Vec<f32>) -> Tensor {
    Tensor::from_vec(shape, data).expect("an op sizes its output buffer from the output shape")
}

/// `y = f(x)` element-wise, the output shaped like `x`.
fn map(x: &Tensor, f: impl Fn(f32) -> f32 + Sync) -> Tensor {
    let mut y = crate::pool::overwritten(x.len());
    crate::kernels::elementwise::map(x.data(), &mut y, f);
    tensor(x.shape(), y)
}

/// `gx = g * d(x)` element-wise, for the backward of unary ops.
fn map_grad(x: &Tensor, g: &Tensor, d: impl Fn(f32) -> f32 + Sync) -> Tensor {
    let mut gx = crate::pool::overwritten(x.len());
    crate::kernels::elementwise::map2(x.data(), g.data(), &mut gx, |v, gv| gv * d(v));
    tensor(x.shape(), gx)
}

#[cfg(test)]
pub(crate) mod test_util {
    //! Helpers shared by the ops' unit tests.
    use crate::gradcheck::{gradcheck, GradcheckOpts};
    use crate::tape::{Tape, Var};
    use crate::tensor::Tensor;

    /// Runs [`gradcheck`] with the default options and fails with its message.
    pub fn check(f: impl Fn(&mut Tape<'_>, &[Var]) -> Var, inputs: &[Tensor]) {
        if let Err(e) = gradcheck(f, inputs, &GradcheckOpts::default()) {
            panic!("{e}");
        }
    }

    /// A tensor from literal values.
    pub fn t(shape: &[usize], data: &[f32]) -> Tensor {
        Tensor::from_vec(shape, data.to_vec()).expect("test literal matches its shape")
    }
}

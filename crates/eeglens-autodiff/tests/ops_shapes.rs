//! Wrong shapes through the public API: each op panics with a message naming
//! itself and the shapes (inside the tape a mismatch is a bug; models check
//! shapes once, when they are built).

use eeglens_autodiff::ops::{self, BatchNormMode, Conv2dOpts, Pool2dOpts};
use eeglens_autodiff::{Tape, Tensor};

fn leaf(tape: &mut Tape<'_>, shape: &[usize]) -> eeglens_autodiff::Var {
    tape.constant(Tensor::zeros(shape))
}

#[test]
#[should_panic(expected = "conv2d: weight [4, 2, 3, 3] does not fit input [1, 3, 8, 8] with groups = 1")]
fn conv2d_channel_mismatch() {
    let mut t = Tape::new();
    let (x, w) = (leaf(&mut t, &[1, 3, 8, 8]), leaf(&mut t, &[4, 2, 3, 3]));
    ops::conv2d(&mut t, x, w, None, Conv2dOpts::default());
}

#[test]
#[should_panic(expected = "conv2d: bias [3] does not fit weight [4, 3, 3, 3]")]
fn conv2d_bias_mismatch() {
    let mut t = Tape::new();
    let (x, w, b) = (leaf(&mut t, &[1, 3, 8, 8]), leaf(&mut t, &[4, 3, 3, 3]), leaf(&mut t, &[3]));
    ops::conv2d(&mut t, x, w, Some(b), Conv2dOpts::default());
}

#[test]
#[should_panic(expected = "conv2d: input [1, 1, 2, 8], weight [1, 1, 3, 3]")]
fn conv2d_kernel_larger_than_input() {
    let mut t = Tape::new();
    let (x, w) = (leaf(&mut t, &[1, 1, 2, 8]), leaf(&mut t, &[1, 1, 3, 3]));
    ops::conv2d(&mut t, x, w, None, Conv2dOpts::default());
}

#[test]
#[should_panic(expected = "conv2d: input [3, 8, 8] must be [n, c_in, h, w]")]
fn conv2d_input_not_4d() {
    let mut t = Tape::new();
    let (x, w) = (leaf(&mut t, &[3, 8, 8]), leaf(&mut t, &[4, 3, 3, 3]));
    ops::conv2d(&mut t, x, w, None, Conv2dOpts::default());
}

#[test]
#[should_panic(expected = "linear: input [2, 5] does not fit weight [3, 4]")]
fn linear_mismatch() {
    let mut t = Tape::new();
    let (x, w) = (leaf(&mut t, &[2, 5]), leaf(&mut t, &[3, 4]));
    ops::linear(&mut t, x, w, None);
}

#[test]
#[should_panic(expected = "linear: bias [4] does not fit weight [3, 5]")]
fn linear_bias_mismatch() {
    let mut t = Tape::new();
    let (x, w, b) = (leaf(&mut t, &[2, 5]), leaf(&mut t, &[3, 5]), leaf(&mut t, &[4]));
    ops::linear(&mut t, x, w, Some(b));
}

#[test]
#[should_panic(expected = "add: shapes [2, 3] and [2] do not broadcast")]
fn add_does_not_broadcast() {
    let mut t = Tape::new();
    let (a, b) = (leaf(&mut t, &[2, 3]), leaf(&mut t, &[2]));
    ops::add(&mut t, a, b);
}

#[test]
#[should_panic(expected = "mul: shapes [4, 1, 3] and [2, 2] do not broadcast")]
fn mul_does_not_broadcast() {
    let mut t = Tape::new();
    let (a, b) = (leaf(&mut t, &[4, 1, 3]), leaf(&mut t, &[2, 2]));
    ops::mul(&mut t, a, b);
}

#[test]
#[should_panic(expected = "max_pool2d: input [1, 1, 1, 8]")]
fn max_pool_window_larger_than_input() {
    let mut t = Tape::new();
    let x = leaf(&mut t, &[1, 1, 1, 8]);
    ops::max_pool2d(&mut t, x, Pool2dOpts::square(2));
}

#[test]
#[should_panic(expected = "avg_pool2d: input [4, 8] must be [n, c, h, w]")]
fn avg_pool_input_not_4d() {
    let mut t = Tape::new();
    let x = leaf(&mut t, &[4, 8]);
    ops::avg_pool2d(&mut t, x, Pool2dOpts::square(2));
}

#[test]
#[should_panic(expected = "reshape: cannot reshape [2, 3] into [4, 2]")]
fn reshape_count_mismatch() {
    let mut t = Tape::new();
    let x = leaf(&mut t, &[2, 3]);
    ops::reshape(&mut t, x, &[4, 2]);
}

#[test]
#[should_panic(expected = "transpose_last2: input of shape [5] has fewer than 2 dimensions")]
fn transpose_needs_two_dims() {
    let mut t = Tape::new();
    let x = leaf(&mut t, &[5]);
    ops::transpose_last2(&mut t, x);
}

#[test]
#[should_panic(expected = "cross_entropy: logits [4, 3] do not fit 3 labels")]
fn cross_entropy_label_count() {
    let mut t = Tape::new();
    let x = leaf(&mut t, &[4, 3]);
    ops::cross_entropy(&mut t, x, &[0, 1, 2], None);
}

#[test]
#[should_panic(expected = "cross_entropy: 2 class weights for logits [4, 3]")]
fn cross_entropy_weight_count() {
    let mut t = Tape::new();
    let x = leaf(&mut t, &[4, 3]);
    ops::cross_entropy(&mut t, x, &[0, 1, 2, 0], Some(&[1.0, 2.0]));
}

#[test]
#[should_panic(expected = "batch_norm: input shape [2, 3, 4] is neither [n, c] nor [n, c, h, w]")]
fn batch_norm_3d_input() {
    let mut t = Tape::new();
    let (x, g, b) = (leaf(&mut t, &[2, 3, 4]), leaf(&mut t, &[3]), leaf(&mut t, &[3]));
    ops::batch_norm(&mut t, x, g, b, BatchNormMode::Train { momentum: 0.1 }, 1e-5);
}

#[test]
#[should_panic(expected = "batch_norm: running mean (2) and var (3) must have 3 channels for input [2, 3]")]
fn batch_norm_running_stats_length() {
    let mut t = Tape::new();
    let (x, g, b) = (leaf(&mut t, &[2, 3]), leaf(&mut t, &[3]), leaf(&mut t, &[3]));
    let mode = BatchNormMode::Eval { running_mean: &[0.0; 2], running_var: &[1.0; 3] };
    ops::batch_norm(&mut t, x, g, b, mode, 1e-5);
}

#[test]
#[should_panic(expected = "batch_norm: training needs more than one value per channel, input [1, 3]")]
fn batch_norm_train_single_value() {
    let mut t = Tape::new();
    let (x, g, b) = (leaf(&mut t, &[1, 3]), leaf(&mut t, &[3]), leaf(&mut t, &[3]));
    ops::batch_norm(&mut t, x, g, b, BatchNormMode::Train { momentum: 0.1 }, 1e-5);
}

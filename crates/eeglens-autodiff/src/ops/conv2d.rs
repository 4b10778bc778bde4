//! 2-D convolution (cross-correlation, as PyTorch's `conv2d`) over NCHW batches.
//!
//! Forward and both backward passes run the im2col + GEMM kernels of
//! [`crate::kernels`]; this file builds their geometry, checks shapes and
//! owns the scratch buffers.

use super::tensor;
use crate::kernels::{self, Conv2dGeom};
use crate::tape::{Backward, Tape, Var};
use crate::tensor::Tensor;

/// Stride, zero padding and channel groups of a convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Conv2dOpts {
    /// `(vertical, horizontal)` stride.
    pub stride: (usize, usize),
    /// Zero rows above and below, zero columns left and right.
    pub padding: (usize, usize),
    /// Channel groups: 1 is a dense convolution, `c_in` a depthwise one.
    pub groups: usize,
}

impl Default for Conv2dOpts {
    /// Stride 1, no padding, one group.
    fn default() -> Self {
        Self { stride: (1, 1), padding: (0, 0), groups: 1 }
    }
}

/// The kernel geometry of `x` and `w` under `opts`.
///
/// # Panics
/// When the shapes do not fit (message naming `conv2d` and the shapes).
fn geometry(x: &[usize], w: &[usize], b: Option<&[usize]>, opts: &Conv2dOpts) -> Conv2dGeom {
    assert!(
        x.len() == 4 && w.len() == 4,
        "conv2d: input {x:?} must be [n, c_in, h, w] and weight {w:?} [c_out, c_in/groups, k_h, k_w]"
    );
    let groups = opts.groups;
    assert!(
        groups > 0 && w[1] * groups == x[1] && w[0] % groups == 0,
        "conv2d: weight {w:?} does not fit input {x:?} with groups = {groups}"
    );
    if let Some(b) = b {
        assert!(b == [w[0]], "conv2d: bias {b:?} does not fit weight {w:?}");
    }
    let g = Conv2dGeom {
        n: x[0],
        c_in: x[1],
        h: x[2],
        w: x[3],
        c_out: w[0],
        k_h: w[2],
        k_w: w[3],
        stride_h: opts.stride.0,
        stride_w: opts.stride.1,
        pad_h: opts.padding.0,
        pad_w: opts.padding.1,
        groups,
    };
    if let Err(e) = g.validate() {
        panic!("conv2d: input {x:?}, weight {w:?}, {opts:?}: {e}");
    }
    g
}

/// Convolution of `x` with `w`, plus `b` per output channel.
///
/// # Shapes
/// `x` `[n, c_in, h, w]`, `w` `[c_out, c_in / groups, k_h, k_w]`, `b` `[c_out]`;
/// output `[n, c_out, h_out, w_out]` with `h_out = (h + 2 pad_h - k_h) / stride_h + 1`
/// (floor), likewise `w_out`.
///
/// # Panics
/// When the shapes do not fit each other or `opts` (the message names `conv2d`
/// and the shapes).
pub fn conv2d(tape: &mut Tape<'_>, x: Var, w: Var, b: Option<Var>, opts: Conv2dOpts) -> Var {
    conv2d_act(tape, x, w, b, opts, false)
}

/// `relu(conv2d(x, w, b))` as one op: the ReLU is applied while the kernel
/// writes its output, and the backward masks the gradient with the output
/// before the convolution's own backward. Values and gradients are
/// bit-identical to [`conv2d`] followed by [`super::relu`](fn@super::relu); one tensor and one
/// pass over memory fewer.
///
/// # Panics
/// As [`conv2d`].
pub fn conv2d_relu(tape: &mut Tape<'_>, x: Var, w: Var, b: Option<Var>, opts: Conv2dOpts) -> Var {
    conv2d_act(tape, x, w, b, opts, true)
}

fn conv2d_act(tape: &mut Tape<'_>, x: Var, w: Var, b: Option<Var>, opts: Conv2dOpts, relu: bool) -> Var {
    let (vx, vw) = (tape.value(x), tape.value(w));
    let vb = b.map(|b| tape.value(b));
    let g = geometry(vx.shape(), vw.shape(), vb.map(|b| b.shape()), &opts);
    // The kernels overwrite their outputs and never read stale scratch.
    let mut y = crate::pool::overwritten(g.y_len());
    // Scratch from the buffer pool, reused across steps.
    let mut scratch = crate::pool::overwritten(g.scratch_len());
    let forward = if relu { kernels::conv2d_forward_relu } else { kernels::conv2d_forward };
    forward(&g, vx.data(), vw.data(), vb.map(|b| b.data()), &mut y, &mut scratch);
    let y = tensor(&[g.n, g.c_out, g.h_out(), g.w_out()], y);
    let parents: Vec<Var> = [x, w].into_iter().chain(b).collect();
    tape.push_op(y, &parents, Box::new(Conv2dBackward { g, relu }))
}

/// The geometry; the backward reads `x` and `w` from the tape's input values.
struct Conv2dBackward {
    g: Conv2dGeom,
    /// the output went through a ReLU (see [`conv2d_relu`])
    relu: bool,
}

impl Backward for Conv2dBackward {
    fn name(&self) -> &'static str {
        if self.relu {
            "conv2d_relu"
        } else {
            "conv2d"
        }
    }

    fn backward(&self, inputs: &[&Tensor], y: &Tensor, gy: &Tensor, needs: &[bool]) -> Vec<Option<Tensor>> {
        // Through the ReLU first: the same arithmetic as the relu op's backward.
        let masked = self.relu.then(|| {
            let mut m = crate::pool::overwritten(gy.len());
            kernels::elementwise::map2(y.data(), gy.data(), &mut m, |v, gv| {
                gv * if v > 0.0 { 1.0 } else { 0.0 }
            });
            tensor(gy.shape(), m)
        });
        let gy = masked.as_ref().unwrap_or(gy);
        let g = &self.g;
        let (x, w) = (inputs[0], inputs[1]);
        let has_bias = inputs.len() == 3;
        let need_b = has_bias && needs[2];
        // Scratch for both backward kernels, from the buffer pool.
        let mut scratch =
            crate::pool::overwritten(if needs[0] || needs[1] || need_b { g.scratch_len() } else { 0 });
        let gx = needs[0].then(|| {
            let mut gx = crate::pool::overwritten(g.x_len());
            kernels::conv2d_backward_input(g, gy.data(), w.data(), &mut gx, &mut scratch);
            tensor(x.shape(), gx)
        });
        let mut gb = need_b.then(|| vec![0.0f32; g.c_out]);
        let gw = if needs[1] || need_b {
            let mut gw = crate::pool::overwritten(g.w_len());
            kernels::conv2d_backward_weight(g, x.data(), gy.data(), &mut gw, gb.as_deref_mut(), &mut scratch);
            needs[1].then(|| tensor(w.shape(), gw))
        } else {
            None
        };
        let mut out = vec![gx, gw];
        if has_bias {
            out.push(gb.map(|gb| tensor(&[g.c_out], gb)));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::randn;
    use crate::ops::test_util::{check, t};
    use crate::Rng;

    fn conv_check(x: &[usize], w: &[usize], bias: bool, opts: Conv2dOpts, seed: u64) {
        let mut r = Rng::new(seed);
        let mut inputs = vec![randn(x, &mut r), randn(w, &mut r)];
        if bias {
            inputs.push(randn(&[w[0]], &mut r));
        }
        check(move |t, v| conv2d(t, v[0], v[1], v.get(2).copied(), opts), &inputs);
    }

    #[test]
    fn forward_by_hand() {
        // One 3x3 input, a 2x2 kernel of ones, stride 1: sums of 2x2 windows, plus bias.
        let mut tape = Tape::new();
        let x = tape.constant(t(&[1, 1, 3, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]));
        let w = tape.constant(Tensor::full(&[1, 1, 2, 2], 1.0));
        let b = tape.constant(t(&[1], &[0.5]));
        let y = conv2d(&mut tape, x, w, Some(b), Conv2dOpts::default());
        assert_eq!(tape.shape(y), &[1, 1, 2, 2]);
        assert_eq!(tape.value(y).data(), &[12.5, 16.5, 24.5, 28.5]);
    }

    #[test]
    fn gradcheck_conv2d_plain_with_bias() {
        conv_check(&[2, 3, 5, 4], &[4, 3, 3, 3], true, Conv2dOpts::default(), 41);
    }

    #[test]
    fn gradcheck_conv2d_stride_and_padding() {
        let opts = Conv2dOpts { stride: (2, 3), padding: (1, 2), groups: 1 };
        conv_check(&[2, 2, 6, 7], &[3, 2, 3, 2], true, opts, 42);
    }

    #[test]
    fn gradcheck_conv2d_one_by_k_and_k_by_one_kernels() {
        let opts = Conv2dOpts { stride: (1, 2), padding: (0, 2), groups: 1 };
        conv_check(&[2, 1, 3, 9], &[2, 1, 1, 5], false, opts, 43);
        let opts = Conv2dOpts { stride: (1, 1), padding: (1, 0), groups: 1 };
        conv_check(&[1, 3, 5, 2], &[2, 3, 4, 1], true, opts, 44);
    }

    #[test]
    fn gradcheck_conv2d_groups_and_depthwise() {
        let opts = Conv2dOpts { stride: (1, 1), padding: (1, 1), groups: 2 };
        conv_check(&[2, 4, 4, 4], &[6, 2, 3, 3], true, opts, 45);
        let depthwise = Conv2dOpts { stride: (1, 1), padding: (0, 1), groups: 3 };
        conv_check(&[2, 3, 4, 5], &[3, 1, 1, 3], false, depthwise, 46);
    }

    /// The fused op against its two gradchecked parts (a central-difference
    /// check of the fused op itself would straddle the ReLU's kink at the many
    /// pre-activations near zero).
    #[test]
    fn conv2d_relu_is_bit_identical_to_conv2d_then_relu() {
        let mut r = Rng::new(49);
        for opts in [
            Conv2dOpts { stride: (1, 1), padding: (1, 1), groups: 1 },
            Conv2dOpts { stride: (2, 1), padding: (0, 1), groups: 1 },
        ] {
            let (xv, wv, bv) =
                (randn(&[3, 4, 9, 17], &mut r), randn(&[5, 4, 3, 3], &mut r), randn(&[5], &mut r));
            let run = |fused: bool| {
                let mut tape = Tape::new();
                let x = tape.input_with_grad(xv.clone());
                let w = tape.input_with_grad(wv.clone());
                let b = tape.input_with_grad(bv.clone());
                let y = if fused {
                    conv2d_relu(&mut tape, x, w, Some(b), opts)
                } else {
                    let c = conv2d(&mut tape, x, w, Some(b), opts);
                    crate::ops::relu(&mut tape, c)
                };
                let sq = crate::ops::square(&mut tape, y);
                let loss = crate::ops::sum(&mut tape, sq);
                let g = tape.backward(loss);
                let grads: Vec<Vec<f32>> =
                    [x, w, b].iter().map(|v| g.get(*v).expect("grad").data().to_vec()).collect();
                (tape.value(y).data().to_vec(), grads)
            };
            let (fused, plain) = (run(true), run(false));
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&fused.0), bits(&plain.0), "{opts:?}: values differ");
            for (a, b) in fused.1.iter().zip(&plain.1) {
                assert_eq!(bits(a), bits(b), "{opts:?}: gradients differ");
            }
        }
    }

    #[test]
    fn bias_only_gradient() {
        // Only the bias asks for a gradient: it is the sum of gy per channel.
        let mut r = Rng::new(47);
        let (xv, wv) = (randn(&[2, 1, 3, 3], &mut r), randn(&[2, 1, 2, 2], &mut r));
        let bv = t(&[2], &[0.0, 0.0]);
        let mut tape = Tape::new();
        let x = tape.constant(xv);
        let w = tape.constant(wv);
        let b = tape.input_with_grad(bv);
        let y = conv2d(&mut tape, x, w, Some(b), Conv2dOpts::default());
        let g = tape.backward(y);
        assert_eq!(g.get(b).unwrap().data(), &[8.0, 8.0]);
    }
}

//! Build a graph and take gradients.
//!
//! A tiny convolutional classifier on a fake EEG window, written with the raw
//! ops: conv -> ELU -> max-pool -> flatten -> linear -> cross-entropy. One
//! backward pass gives the gradient of every parameter (what training uses)
//! and of the input window itself (what saliency and activation maximisation
//! use). A central-difference gradcheck then confirms the input gradient.
//!
//! Run with `cargo run -p eeglens-autodiff --example 03_graph_gradients`.

use eeglens_autodiff::gradcheck::{gradcheck, randn, uniform, GradcheckOpts};
use eeglens_autodiff::ops::{self, Conv2dOpts, Pool2dOpts};
use eeglens_autodiff::{Rng, Tape, Tensor, Var};

/// 4 EEG channels x 32 samples, two windows in the batch.
const N: usize = 2;
const N_CHANNELS: usize = 4;
const N_SAMPLES: usize = 32;
const LABELS: [usize; N] = [1, 0];

/// A temporal (1 x 5) conv over each channel, 3 filters, then pooling in time.
fn forward(tape: &mut Tape<'_>, x: Var, conv_w: Var, conv_b: Var, fc_w: Var, fc_b: Var) -> (Var, Var) {
    let opts = Conv2dOpts { padding: (0, 2), ..Default::default() };
    let h = ops::conv2d(tape, x, conv_w, Some(conv_b), opts);
    let h = ops::elu(tape, h, 1.0);
    let h = ops::max_pool2d(tape, h, Pool2dOpts { kernel: (1, 4), stride: (1, 4) });
    let h = ops::flatten(tape, h);
    let logits = ops::linear(tape, h, fc_w, Some(fc_b));
    let loss = ops::cross_entropy(tape, logits, &LABELS, None);
    (logits, loss)
}

fn main() {
    let mut rng = Rng::new(7);
    let window = randn(&[N, 1, N_CHANNELS, N_SAMPLES], &mut rng);
    // PyTorch's default init range, U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    let bound = |fan_in: usize| 1.0 / (fan_in as f32).sqrt();
    let conv_w = uniform(&[3, 1, 1, 5], -bound(5), bound(5), &mut rng);
    let conv_b = Tensor::zeros(&[3]);
    let features = 3 * N_CHANNELS * (N_SAMPLES / 4);
    let fc_w = uniform(&[2, features], -bound(features), bound(features), &mut rng);
    let fc_b = Tensor::zeros(&[2]);

    // Parameters are borrowed by the tape; the input is owned and asks for its gradient.
    let mut tape = Tape::new();
    let x = tape.input_with_grad(window.clone());
    let params = [tape.param(&conv_w), tape.param(&conv_b), tape.param(&fc_w), tape.param(&fc_b)];
    let (logits, loss) = forward(&mut tape, x, params[0], params[1], params[2], params[3]);
    println!("logits {:?} = {:?}", tape.shape(logits), tape.value(logits).data());
    println!("loss = {:.5}", tape.value(loss).item());

    let grads = tape.backward(loss);
    for (name, &p) in ["conv.weight", "conv.bias", "fc.weight", "fc.bias"].iter().zip(&params) {
        let g = grads.get(p).expect("every parameter asked for its gradient");
        let norm = g.data().iter().map(|v| v * v).sum::<f32>().sqrt();
        println!("d loss / d {name:<11} shape {:?}, L2 norm {norm:.4e}", g.shape());
    }
    let gx = grads.get(x).expect("the input asked for its gradient");
    // Saliency: which EEG channel moves the loss most?
    let per_channel: Vec<f32> = (0..N_CHANNELS)
        .map(|c| {
            (0..N)
                .flat_map(|n| {
                    let start = (n * N_CHANNELS + c) * N_SAMPLES;
                    gx.data()[start..start + N_SAMPLES].iter()
                })
                .map(|v| v.abs())
                .sum()
        })
        .collect();
    println!("sum |d loss / d input| per channel: {per_channel:?}");

    // The same input gradient, checked numerically (parameters held constant).
    let report = gradcheck(
        |t, v| {
            let p = [
                t.constant(conv_w.clone()),
                t.constant(conv_b.clone()),
                t.constant(fc_w.clone()),
                t.constant(fc_b.clone()),
            ];
            forward(t, v[0], p[0], p[1], p[2], p[3]).1
        },
        &[window],
        &GradcheckOpts { step: 1e-3, atol: 1e-5, rtol: 2e-2, ..Default::default() },
    );
    match report {
        Ok(r) => print!("gradcheck of the input gradient passed:\n{r}"),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}

//! Train a tiny CNN with nothing but the tape.
//!
//! Fake EEG windows (8 channels x 64 samples of noise); in class 1 the first
//! four channels also carry a rhythm of period 8 samples with a random phase.
//! A temporal convolution (4 filters of 1 x 9) -> ReLU -> max-pool (1 x 8) ->
//! linear -> cross-entropy learns to tell the classes apart. Each step builds
//! a fresh tape that borrows the weights, takes the gradients, drops the tape
//! and applies an SGD-with-momentum update by hand: what `eeglens-nn`'s
//! optimisers and `eeglens-train`'s loop do for real.
//!
//! Run with `cargo run -p eeglens-autodiff --example 04_train_on_tape`.

use eeglens_autodiff::gradcheck::uniform;
use eeglens_autodiff::ops::{self, Conv2dOpts, Pool2dOpts};
use eeglens_autodiff::{Rng, Tape, Tensor, Var};

const N_CHANNELS: usize = 8;
const N_SAMPLES: usize = 64;
const FILTERS: usize = 4;
const KERNEL: usize = 9;
const POOL: usize = 8;
const BATCH: usize = 16;

/// `n` windows `[n, 1, C, T]` and their labels (alternating classes).
fn windows(n: usize, rng: &mut Rng) -> (Tensor, Vec<usize>) {
    let labels: Vec<usize> = (0..n).map(|i| i % 2).collect();
    let mut x = Vec::with_capacity(n * N_CHANNELS * N_SAMPLES);
    for &label in &labels {
        let phase = rng.uniform_range(0.0, std::f64::consts::TAU) as f32;
        for c in 0..N_CHANNELS {
            for t in 0..N_SAMPLES {
                let rhythm = std::f32::consts::TAU * t as f32 / 8.0 + phase;
                let carries = label == 1 && c < N_CHANNELS / 2;
                x.push(rng.normal() as f32 + if carries { 0.8 * rhythm.sin() } else { 0.0 });
            }
        }
    }
    (Tensor::from_vec(&[n, 1, N_CHANNELS, N_SAMPLES], x).expect("sized from the shape"), labels)
}

/// The weights: conv `[F, 1, 1, K]` and bias, linear `[2, F * C * T / POOL]` and bias.
struct Net {
    params: Vec<Tensor>,
}

const NAMES: [&str; 4] = ["conv.weight", "conv.bias", "fc.weight", "fc.bias"];

impl Net {
    fn new(rng: &mut Rng) -> Self {
        // PyTorch's default range, U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
        let bound = |fan_in: usize| 1.0 / (fan_in as f32).sqrt();
        let features = FILTERS * N_CHANNELS * (N_SAMPLES / POOL);
        let params = vec![
            uniform(&[FILTERS, 1, 1, KERNEL], -bound(KERNEL), bound(KERNEL), rng),
            uniform(&[FILTERS], -bound(KERNEL), bound(KERNEL), rng),
            uniform(&[2, features], -bound(features), bound(features), rng),
            uniform(&[2], -bound(features), bound(features), rng),
        ];
        Net { params }
    }

    /// Records the forward pass of `x` on `tape`; returns the logits.
    fn forward<'a>(&'a self, tape: &mut Tape<'a>, x: Tensor) -> (Vec<Var>, Var) {
        let p: Vec<_> = self.params.iter().map(|t| tape.param(t)).collect();
        let x = tape.constant(x);
        let opts = Conv2dOpts { padding: (0, KERNEL / 2), ..Default::default() };
        let h = ops::conv2d(tape, x, p[0], Some(p[1]), opts);
        let h = ops::relu(tape, h);
        let h = ops::max_pool2d(tape, h, Pool2dOpts { kernel: (1, POOL), stride: (1, POOL) });
        let h = ops::flatten(tape, h);
        let logits = ops::linear(tape, h, p[2], Some(p[3]));
        (p, logits)
    }

    /// Fraction of windows whose larger logit is their label.
    fn accuracy(&self, x: &Tensor, labels: &[usize]) -> f64 {
        let mut tape = Tape::new();
        let (_, logits) = self.forward(&mut tape, x.clone());
        let right =
            tape.value(logits).data().chunks(2).zip(labels).filter(|(l, &y)| usize::from(l[1] > l[0]) == y);
        right.count() as f64 / labels.len() as f64
    }
}

fn main() {
    let mut rng = Rng::new(3);
    let (train_x, train_y) = windows(128, &mut rng);
    let (test_x, test_y) = windows(64, &mut rng);
    let mut net = Net::new(&mut rng);
    let mut velocity: Vec<Tensor> = net.params.iter().map(|p| Tensor::zeros(p.shape())).collect();
    let (lr, momentum) = (0.05f32, 0.9f32);
    let window = N_CHANNELS * N_SAMPLES;

    println!("before training: test accuracy {:.3}", net.accuracy(&test_x, &test_y));
    for epoch in 1..=8 {
        let mut order: Vec<usize> = (0..train_y.len()).collect();
        rng.shuffle(&mut order);
        let mut loss_sum = 0.0;
        for batch in order.chunks(BATCH) {
            let mut x = Vec::with_capacity(batch.len() * window);
            for &i in batch {
                x.extend_from_slice(&train_x.data()[i * window..(i + 1) * window]);
            }
            let x =
                Tensor::from_vec(&[batch.len(), 1, N_CHANNELS, N_SAMPLES], x).expect("sized from the shape");
            let labels: Vec<usize> = batch.iter().map(|&i| train_y[i]).collect();
            // The tape borrows the weights, so it lives in this block only.
            let (loss, grads) = {
                let mut tape = Tape::new();
                let (params, logits) = net.forward(&mut tape, x);
                let loss = ops::cross_entropy(&mut tape, logits, &labels, None);
                let mut grads = tape.backward(loss);
                let grads: Vec<Tensor> = params
                    .iter()
                    .map(|&p| grads.take(p).expect("every parameter asked for its gradient"))
                    .collect();
                (tape.value(loss).item(), grads)
            };
            loss_sum += loss * batch.len() as f32;
            for ((w, v), g) in net.params.iter_mut().zip(&mut velocity).zip(&grads) {
                for ((w, v), g) in w.data_mut().iter_mut().zip(v.data_mut()).zip(g.data()) {
                    *v = momentum * *v + g;
                    *w -= lr * *v;
                }
            }
        }
        println!(
            "epoch {epoch}: train loss {:.4}, test accuracy {:.3}",
            loss_sum / train_y.len() as f32,
            net.accuracy(&test_x, &test_y)
        );
    }
    for (name, p) in NAMES.iter().zip(&net.params) {
        let norm = p.data().iter().map(|v| v * v).sum::<f32>().sqrt();
        println!("{name:<11} shape {:?}, L2 norm {norm:.3}", p.shape());
    }
    let accuracy = net.accuracy(&test_x, &test_y);
    assert!(accuracy > 0.8, "the rhythm is easy to find; test accuracy {accuracy}");
}

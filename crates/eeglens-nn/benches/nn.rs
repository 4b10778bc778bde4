//! Criterion benchmarks of the network layer on R-VGG at the paper's size
//! (input 1 x 24 x 256, training batch 40): each layer's forward and
//! backward as a training step records them, and an optimiser step over all
//! 7.45 M parameters.
//!
//! - `layer_forward/<layer>`: the layer recorded on a fresh tape, its
//!   parameters bound trainable and its input a leaf asking for a gradient
//!   (a constant for the first layer, whose input needs none), train mode.
//! - `layer_backward/<layer>`: the backward pass of that tape alone, from
//!   the sum of the layer's output (so the backward also fills one gradient
//!   of ones of the output's size); the forward is run, untimed, first.
//! - `optimizer_step/<kind>`: one update of every R-VGG parameter from a
//!   fixed gradient (Adam, and SGD with momentum 0.9); throughput counts
//!   parameters.
//!
//! Layer names are the PyTorch ones (`features.0` is the first convolution,
//! see `eeglens_nn::models::rvgg`); throughput counts windows of the batch.
//! Convolutions are run unfused here: the untraced training forward fuses a
//! convolution with the ReLU after it (`ops::conv2d_relu`), and
//! `cargo bench -p eeglens-autodiff` times the kernels alone.
//!
//! Run: `cargo bench -p eeglens-nn --bench nn` (all of it, about a minute);
//! `cargo bench -p eeglens-nn -- layer_forward/features.0` for one.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use eeglens_autodiff::{ops, Rng, Tape, Tensor, Var};
use eeglens_nn::{models, Layer, Mode, ModelSpec, Optimizer, OptimizerConfig, Sequential};

/// Training batch of the paper's R-VGG.
const BATCH: usize = 40;

/// The layers benchmarked: every convolution, and the first of each other kind.
const LAYERS: [&str; 11] = [
    "features.0",
    "features.1",
    "features.2",
    "features.4",
    "features.5",
    "features.7",
    "features.10",
    "features.12",
    "features.14",
    "classifier.0",
    "classifier.2",
];

fn noise(shape: &[usize], seed: u64) -> Tensor {
    let mut rng = Rng::new(seed);
    let data = (0..shape.iter().product()).map(|_| rng.normal() as f32).collect();
    Tensor::from_vec(shape, data).expect("length is the product of the shape")
}

/// Layer `i`'s input shape, batch first.
fn input_shape(model: &Sequential, i: usize) -> Vec<usize> {
    let per_sample = if i == 0 { model.input_shape() } else { &model.layer_shapes()[i - 1] };
    std::iter::once(BATCH).chain(per_sample.iter().copied()).collect()
}

/// Records layer `i` on `tape` with input `x`; returns the sum of its output.
fn record<'a>(tape: &mut Tape<'a>, layer: &'a Layer, i: usize, x: &Tensor, rng: &mut Rng) -> Var {
    let params: Vec<_> = layer.params().into_iter().map(|(_, t)| tape.param(t)).collect();
    let xv = if i == 0 { tape.constant(x.clone()) } else { tape.input_with_grad(x.clone()) };
    let y = layer.forward(tape, xv, &params, Mode::Train, rng, false).y;
    ops::sum(tape, y)
}

fn bench_layers(c: &mut Criterion) {
    let model = models::build("rvgg", &ModelSpec::paper(), &mut Rng::new(0)).expect("R-VGG builds");
    let mut rng = Rng::new(1);
    let inputs: Vec<(usize, &Layer, Tensor)> = LAYERS
        .iter()
        .map(|name| {
            let i = model.layer_index(name).expect("an R-VGG layer");
            (i, &model.layers()[i].1, noise(&input_shape(&model, i), i as u64))
        })
        .collect();

    let mut g = c.benchmark_group("layer_forward");
    g.throughput(Throughput::Elements(BATCH as u64));
    for (name, (i, layer, x)) in LAYERS.iter().zip(&inputs) {
        let id = format!("{name}_{}", layer.kind());
        g.bench_function(id, |b| {
            b.iter(|| {
                let mut tape = Tape::new();
                black_box(record(&mut tape, layer, *i, x, &mut rng));
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("layer_backward");
    g.throughput(Throughput::Elements(BATCH as u64));
    for (name, (i, layer, x)) in LAYERS.iter().zip(&inputs) {
        let id = format!("{name}_{}", layer.kind());
        g.bench_function(id, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let mut tape = Tape::new();
                    let loss = record(&mut tape, layer, *i, x, &mut rng);
                    let start = Instant::now();
                    let grads = tape.backward(loss);
                    total += start.elapsed();
                    black_box(grads);
                }
                total
            })
        });
    }
    g.finish();
}

fn bench_optimizer(c: &mut Criterion) {
    let mut model = models::build("rvgg", &ModelSpec::paper(), &mut Rng::new(0)).expect("R-VGG builds");
    let grads: Vec<Tensor> =
        model.named_params().iter().enumerate().map(|(k, (_, t))| noise(t.shape(), 100 + k as u64)).collect();
    let grads: Vec<Option<&Tensor>> = grads.iter().map(Some).collect();
    let mut g = c.benchmark_group("optimizer_step");
    g.throughput(Throughput::Elements(model.num_params() as u64));
    // Tiny steps: the weights stay where they are over thousands of iterations.
    let kinds =
        [("adam", OptimizerConfig::adam(1e-9)), ("sgd_momentum", OptimizerConfig::sgd(1e-9, 0.9, false))];
    for (name, cfg) in kinds {
        let mut opt = Optimizer::new(cfg);
        g.bench_function(format!("rvgg_{name}"), |b| {
            b.iter(|| black_box(opt.step(&mut model.params_mut(), &grads)))
        });
    }
    g.finish();
}

fn main() {
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .configure_from_args();
    bench_layers(&mut c);
    bench_optimizer(&mut c);
    c.final_summary();
}

//! End-to-end R-VGG throughput at the paper's input (1 x 24 x 256): a training
//! step at batch 40 (forward, backward, Adam), inference at batch 256, and an
//! activation-maximisation step at batch 1 (input gradient, weights frozen) and
//! with 16 restarts batched. `eeglens bench --json` measures the same with the
//! same functions.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use eeglens_autodiff::Rng;
use eeglens_nn::bench::{actmax_step, noise_batch, train_step};
use eeglens_nn::{models, ModelSpec, Optimizer, OptimizerConfig};

fn rvgg_end_to_end(c: &mut Criterion) {
    let spec = ModelSpec::paper();
    let mut rng = Rng::new(0);
    let mut model = models::build("rvgg", &spec, &mut rng).expect("R-VGG builds");
    let mut g = c.benchmark_group("rvgg");
    g.sample_size(10);

    let (x, y) = noise_batch(40, spec.n_channels, spec.n_samples, 1);
    let mut opt = Optimizer::new(OptimizerConfig::adam(5e-4));
    g.throughput(Throughput::Elements(40));
    g.bench_function("train_step_b40", |b| {
        b.iter(|| black_box(train_step(&mut model, &mut opt, &x, &y, &mut rng).expect("step")))
    });

    let (xi, _) = noise_batch(256, spec.n_channels, spec.n_samples, 2);
    g.throughput(Throughput::Elements(256));
    g.bench_function("infer_b256", |b| b.iter(|| black_box(model.predict(&xi).expect("predict"))));

    let (mut xa, _) = noise_batch(1, spec.n_channels, spec.n_samples, 3);
    g.throughput(Throughput::Elements(1));
    g.bench_function("actmax_step_b1", |b| {
        b.iter(|| black_box(actmax_step(&model, &mut xa, 0, 0.1).expect("step")))
    });

    let (mut xr, _) = noise_batch(16, spec.n_channels, spec.n_samples, 4);
    g.throughput(Throughput::Elements(16));
    g.bench_function("actmax_step_16_restarts", |b| {
        b.iter(|| black_box(actmax_step(&model, &mut xr, 0, 0.1).expect("step")))
    });
    g.finish();
}

criterion_group!(benches, rvgg_end_to_end);
criterion_main!(benches);

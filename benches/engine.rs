//! End-to-end R-VGG throughput at the paper's input (1 x 24 x 256): a training
//! step at batch 40 (`eeglens_train::train::train_step`: forward, backward,
//! Adam), inference at batch 256, and an activation-maximisation step
//! (`eeglens_interpret::actmax::maximise`, one free pattern and 16 restarts
//! batched), the code `eeglens train` and `eeglens interpret` run.
//! `eeglens bench --json` measures the same with the same functions.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use eeglens_autodiff::Rng;
use eeglens_interpret::actmax::{maximise, ActmaxProblem, DataStats, Target};
use eeglens_interpret::{ActmaxConfig, Parameterisation};
use eeglens_nn::bench::noise_batch;
use eeglens_nn::{models, ModelSpec, Optimizer, Sequential};
use eeglens_train::train::train_step;
use eeglens_train::TrainConfig;

/// Total time of `iters` steps of `maximise` with `restarts` free patterns of
/// class 0, from the first step's end to the last's (the set-up and the first
/// step are left out).
fn actmax_steps(model: &Sequential, stats: &DataStats, restarts: usize, iters: u64) -> Duration {
    let cfg = ActmaxConfig {
        restarts,
        steps: iters as usize + 1,
        param: Parameterisation::Samples,
        l2: 1.0,
        ..ActmaxConfig::default()
    };
    let problem = ActmaxProblem {
        model,
        targets: &[Target::Class(0)],
        fs: 128.0,
        stats,
        cfg: &cfg,
        seed: 0,
        starts: &[],
        bands: &[],
    };
    let (mut first, mut last) = (None, Instant::now());
    maximise(&problem, &mut |_| {
        last = Instant::now();
        first.get_or_insert(last);
    })
    .expect("actmax runs");
    last - first.expect("at least one step")
}

fn rvgg_end_to_end(c: &mut Criterion) {
    let spec = ModelSpec::paper();
    let mut model = models::build("rvgg", &spec, &mut Rng::new(0)).expect("R-VGG builds");
    let mut g = c.benchmark_group("rvgg");
    g.sample_size(10);

    let (x, y) = noise_batch(40, spec.n_channels, spec.n_samples, 1);
    let mut opt = Optimizer::new(TrainConfig::default().optimizer_config());
    let dropout = Rng::new(0);
    let mut step = 0;
    g.throughput(Throughput::Elements(40));
    g.bench_function("train_step_b40", |b| {
        b.iter(|| {
            step += 1;
            black_box(train_step(&mut model, &mut opt, &x, &y, 2, &mut dropout.fork(step)).expect("step"))
        })
    });

    let (xi, _) = noise_batch(256, spec.n_channels, spec.n_samples, 2);
    g.throughput(Throughput::Elements(256));
    g.bench_function("infer_b256", |b| b.iter(|| black_box(model.predict(&xi).expect("predict"))));

    let (noise, _) = noise_batch(16, spec.n_channels, spec.n_samples, 3);
    let stats = DataStats::of(noise.data(), spec.n_channels, spec.n_samples);
    g.throughput(Throughput::Elements(1));
    g.bench_function("actmax_step_b1", |b| b.iter_custom(|iters| actmax_steps(&model, &stats, 1, iters)));
    g.throughput(Throughput::Elements(16));
    g.bench_function("actmax_step_16_restarts", |b| {
        b.iter_custom(|iters| actmax_steps(&model, &stats, 16, iters))
    });
    g.finish();
}

criterion_group!(benches, rvgg_end_to_end);
criterion_main!(benches);

//! Interpretation throughput on R-VGG at the paper's size (24 x 256 windows):
//! activation-maximisation steps with batched restarts, and deconvnet
//! projections from the output back to the input.
//!
//! `cargo bench -p eeglens-interpret` (add `-- --quick` for a short run).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use eeglens_autodiff::{Rng, Tensor};
use eeglens_interpret::actmax::{maximise, ActmaxProblem, DataStats, Target};
use eeglens_interpret::deconv::{class_seed, project, record};
use eeglens_interpret::{ActmaxConfig, BackRule, Parameterisation};
use eeglens_nn::{models, ModelSpec, Sequential};

fn rvgg() -> Sequential {
    models::build("rvgg", &ModelSpec::paper(), &mut Rng::new(0)).expect("R-VGG builds at the paper's size")
}

fn bench_actmax(c: &mut Criterion) {
    let model = rvgg();
    let (n_ch, t) = (24, 256);
    let stats = DataStats { scale: 1.0, mean: vec![0.0; n_ch * t], range: vec![(-10.0, 10.0); n_ch] };
    let mut group = c.benchmark_group("actmax");
    group.sample_size(10);
    for restarts in [1usize, 8, 16] {
        // Two classes x restarts patterns per step; throughput counts pattern-steps.
        let cfg = ActmaxConfig {
            restarts,
            steps: 1,
            param: Parameterisation::Samples,
            l2: 1.0,
            ..ActmaxConfig::default()
        };
        let targets = [Target::Class(0), Target::Class(1)];
        let problem = ActmaxProblem {
            model: &model,
            targets: &targets,
            fs: 128.0,
            stats: &stats,
            cfg: &cfg,
            seed: 0,
            starts: &[],
            bands: &[],
        };
        group.throughput(Throughput::Elements(2 * restarts as u64));
        group.bench_function(format!("rvgg_step_2x{restarts}_restarts"), |b| {
            b.iter(|| maximise(&problem, &mut |_| {}).expect("actmax step"))
        });
    }
    // The default: band gains shared by 8 real windows per restart, 8 restarts per class.
    let cfg = ActmaxConfig { steps: 1, ..ActmaxConfig::default() };
    let mut rng = Rng::new(2);
    let n = cfg.restarts * cfg.windows_per_restart;
    let starts: Vec<f32> = (0..n * n_ch * t).map(|_| rng.normal() as f32).collect();
    let bands = eeglens_dsp::eeg_bands();
    let targets = [Target::Class(0), Target::Class(1)];
    let problem = ActmaxProblem {
        model: &model,
        targets: &targets,
        fs: 128.0,
        stats: &stats,
        cfg: &cfg,
        seed: 0,
        starts: &starts,
        bands: &bands,
    };
    group.throughput(Throughput::Elements(2 * n as u64));
    group.bench_function(format!("rvgg_gains_step_2x{}x{}", cfg.restarts, cfg.windows_per_restart), |b| {
        b.iter(|| maximise(&problem, &mut |_| {}).expect("actmax step"))
    });
    group.finish();
}

fn bench_deconv(c: &mut Criterion) {
    let model = rvgg();
    let last = model.layers().len() - 1;
    let mut group = c.benchmark_group("deconv");
    group.sample_size(10);
    for n in [1usize, 20] {
        let mut rng = Rng::new(1);
        let x = Tensor::from_vec(&[n, 1, 24, 256], (0..n * 24 * 256).map(|_| rng.normal() as f32).collect())
            .expect("sized");
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(format!("rvgg_project_{n}"), |b| {
            b.iter(|| {
                let rec = record(&model, &x, last).expect("forward");
                project(&model, &rec, last, class_seed(n, 2, 1), BackRule::Deconvnet)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_actmax, bench_deconv);
criterion_main!(benches);

//! Optimisers: clipping, the learning-rate schedule, and exact resumption from
//! a checkpoint (Adam against PyTorch is in `golden_adam.rs`).

use approx::assert_relative_eq;
use eeglens_autodiff::{Rng, Tensor};
use eeglens_nn::{
    load_checkpoint, load_optimizer, models, save_checkpoint, CheckpointMeta, ModelSpec, Optimizer,
    OptimizerConfig, Schedule,
};

#[test]
fn clipping_scales_the_gradient_to_the_max_norm() {
    // With plain SGD, lr 1, clipping to norm 1 moves the parameter by the unit gradient.
    let mut p = Tensor::zeros(&[2]);
    let g = Tensor::from_vec(&[2], vec![3.0, 4.0]).expect("1-d");
    let mut opt = Optimizer::new(OptimizerConfig::sgd(1.0, 0.0, false).clip_grad_norm(1.0));
    let info = opt.step(&mut [&mut p], &[Some(&g)]);
    assert_relative_eq!(info.grad_norm, 5.0, max_relative = 1e-12);
    assert_relative_eq!(p.data()[0], -0.6, max_relative = 1e-5);
    assert_relative_eq!(p.data()[1], -0.8, max_relative = 1e-5);
}

#[test]
fn schedule_drives_the_step_lr() {
    let mut p = Tensor::zeros(&[1]);
    let g = Tensor::full(&[1], 1.0);
    let sched = Schedule::Step { every: 1, gamma: 0.5 };
    let mut opt = Optimizer::new(OptimizerConfig::sgd(1.0, 0.0, false).schedule(sched));
    let lrs: Vec<f64> = (0..3).map(|_| opt.step(&mut [&mut p], &[Some(&g)]).lr).collect();
    assert_eq!(lrs, vec![1.0, 0.5, 0.25]);
    assert_relative_eq!(p.data()[0], -1.75, max_relative = 1e-6);
}

fn fake_grads(model: &eeglens_nn::Sequential, step: u64) -> Vec<Tensor> {
    let mut rng = Rng::new(100 + step);
    model
        .named_params()
        .iter()
        .map(|(_, t)| {
            let d = (0..t.len()).map(|_| rng.normal() as f32 * 0.01).collect();
            Tensor::from_vec(t.shape(), d).expect("shape")
        })
        .collect()
}

fn run_steps(model: &mut eeglens_nn::Sequential, opt: &mut Optimizer, steps: std::ops::Range<u64>) {
    for s in steps {
        let g = fake_grads(model, s);
        let g: Vec<Option<&Tensor>> = g.iter().map(Some).collect();
        opt.step(&mut model.params_mut(), &g);
    }
}

#[test]
fn every_optimizer_resumes_exactly_from_a_checkpoint() {
    let dir = std::env::temp_dir().join(format!("eeglens-nn-optim-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let _scratch = Scratch(dir.clone());
    let spec = ModelSpec { n_channels: 4, n_samples: 128, n_classes: 3 };
    let configs = [
        OptimizerConfig::sgd(0.1, 0.9, true).weight_decay(1e-3),
        OptimizerConfig::adam(1e-3),
        OptimizerConfig::adamw(1e-3, 0.01),
        OptimizerConfig::adamax(0.002, 0.001).clip_grad_norm(0.5).schedule(Schedule::Cosine {
            warmup: 1,
            total: 5,
            min_lr: 0.0,
        }),
    ];
    for (k, cfg) in configs.into_iter().enumerate() {
        let mut a = models::build("shallow", &spec, &mut Rng::new(k as u64)).expect("model");
        let mut opt_a = Optimizer::new(cfg);
        run_steps(&mut a, &mut opt_a, 0..2);
        let path = dir.join(format!("ckpt{k}.safetensors"));
        let meta = CheckpointMeta {
            model: "shallow".into(),
            input_shape: vec![1, 4, 128],
            class_names: vec!["a".into(), "b".into(), "c".into()],
            ..CheckpointMeta::default()
        };
        save_checkpoint(&path, &a, &meta, Some(&opt_a)).expect("save");
        let (mut b, meta_b, file) = load_checkpoint(&path).expect("load");
        assert_eq!(meta_b, meta);
        let mut opt_b = load_optimizer(&file, &b).expect("optimizer state").expect("saved");
        assert_eq!(opt_b, opt_a, "optimizer {k} state round-trips");
        run_steps(&mut a, &mut opt_a, 2..4);
        run_steps(&mut b, &mut opt_b, 2..4);
        assert_eq!(a, b, "optimizer {k}: resumed run diverged");
    }
}

/// Adam without clipping sums the gradient norm in its own pass over each
/// gradient: the same parameters and the same norm, bit for bit, as the
/// separate norm pass (which runs when clipping is on; a bound of 1e30 never
/// scales the gradient), on tensors of one chunk and of many, with a
/// parameter that has no gradient, on 1 and 2 threads.
#[test]
fn adam_sums_the_norm_in_its_own_pass_bit_for_bit() {
    let shapes: [&[usize]; 4] = [&[3], &[70_001], &[40, 1024], &[5]];
    let mut rng = Rng::new(9);
    let mut randn = |s: &[usize]| {
        Tensor::from_vec(s, (0..s.iter().product()).map(|_| rng.normal() as f32).collect()).expect("shape")
    };
    let init: Vec<Tensor> = shapes.iter().map(|s| randn(s)).collect();
    let grads: Vec<Vec<Tensor>> = (0..3).map(|_| shapes.iter().map(|s| randn(s)).collect()).collect();
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool");
        for cfg in [OptimizerConfig::adam(1e-3).weight_decay(1e-4), OptimizerConfig::adamw(1e-3, 0.01)] {
            let run = |cfg: OptimizerConfig| {
                let mut params = init.clone();
                let mut opt = Optimizer::new(cfg);
                let norms: Vec<u64> = grads
                    .iter()
                    .map(|g| {
                        // The third parameter has no gradient.
                        let g: Vec<Option<&Tensor>> =
                            g.iter().enumerate().map(|(i, t)| (i != 2).then_some(t)).collect();
                        let mut p: Vec<&mut Tensor> = params.iter_mut().collect();
                        pool.install(|| opt.step(&mut p, &g)).grad_norm.to_bits()
                    })
                    .collect();
                (params, norms)
            };
            let (fused, fused_norms) = run(cfg.clone());
            let (separate, separate_norms) = run(cfg.clip_grad_norm(1e30));
            assert_eq!(fused_norms, separate_norms, "{threads} threads: the norms differ");
            for (a, b) in fused.iter().zip(&separate) {
                let bits = |t: &Tensor| t.data().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(a), bits(b), "{threads} threads: the parameters differ");
            }
            assert_ne!(fused[0], init[0], "the step moved nothing");
        }
    }
}

/// A temporary directory removed when dropped, passed or failed (unless
/// `EEGLENS_KEEP_TEST_FILES` is set).
struct Scratch(std::path::PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::env::var_os("EEGLENS_KEEP_TEST_FILES").is_none() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

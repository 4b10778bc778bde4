//! The model zoo: parameter counts against the published / PyTorch counts,
//! shape checks that name the layer, train/eval behaviour.

use eeglens_autodiff::{ops, Rng, Tape, Tensor};
use eeglens_nn::layers::{Conv2d, Conv2dConfig, Flatten, Layer, Linear, LinearConfig};
use eeglens_nn::{models, Mode, ModelSpec, NnError, Sequential};

fn count(name: &str) -> usize {
    models::build(name, &ModelSpec::paper(), &mut Rng::new(0)).expect("builds").num_params()
}

#[test]
fn rvgg_has_the_published_parameter_count() {
    // Truong et al. 2021: 7,452,850 trainable parameters for 1x24x256 inputs.
    assert_eq!(count("rvgg"), 7_452_850);
}

#[test]
fn other_models_match_pytorch_counts() {
    // torch.nn equivalents of the documented layer tables, 24 x 256, 2 classes:
    // van Putten: convs 1000 + 90100 + 270300 + 810300 + 270100 + 90100, linear 9600*2+2.
    assert_eq!(count("vanputten"), 1_551_102);
    // braindecode ShallowFBCSPNet(24, 2, input_window_samples=256, final_conv_length="auto").
    assert_eq!(count("shallow"), 40_402);
    // braindecode EEGNetv4(24, 2, input_window_samples=256).
    assert_eq!(count("eegnet"), 1_746);
    // torch.nn: Conv2d(1, 8, (1, 33), bias=False), BatchNorm1d(192), Linear(192, 2).
    assert_eq!(count("logpower"), 8 * 33 + 2 * 192 + 192 * 2 + 2);
}

#[test]
fn logpower_is_log_filter_power_per_electrode_then_linear() {
    // A slow reference of LogPowerNet's forward pass in eval mode, loop by loop:
    // each filter's output on each electrode, its mean square over the window,
    // log, batch norm with its running statistics, linear.
    let spec = ModelSpec { n_channels: 3, n_samples: 40, n_classes: 2 };
    let mut m = models::build("logpower", &spec, &mut Rng::new(4)).expect("builds");
    // Non-trivial running statistics and affine parameters, so the test sees them used.
    let flat = models::LOGPOWER_FILTERS * 3;
    for (name, t) in m.named_buffers_mut() {
        let fill: Vec<f32> = (0..flat)
            .map(
                |i| if name.ends_with("running_mean") { 0.1 * i as f32 - 1.0 } else { 0.5 + 0.05 * i as f32 },
            )
            .collect();
        if name.ends_with("running_mean") || name.ends_with("running_var") {
            *t = Tensor::from_vec(&[flat], fill).expect("shape");
        }
    }
    let x = noise(&[2, 1, 3, 40], 9);
    let got = m.predict(&x).expect("predict");
    let named: std::collections::HashMap<String, Tensor> =
        m.named_params().into_iter().chain(m.named_buffers()).map(|(n, t)| (n, t.clone())).collect();
    let w = named["conv_time.weight"].data();
    let (g, b) = (named["bnorm.weight"].data(), named["bnorm.bias"].data());
    let (rm, rv) = (named["bnorm.running_mean"].data(), named["bnorm.running_var"].data());
    let (lw, lb) = (named["classifier.weight"].data(), named["classifier.bias"].data());
    let taps = models::LOGPOWER_TAPS;
    let width = 40 - taps + 1;
    for n in 0..2 {
        let xs = &x.data()[n * 120..][..120];
        let mut feats = vec![0.0f64; flat];
        for f in 0..models::LOGPOWER_FILTERS {
            for c in 0..3 {
                let mut acc = 0.0f64;
                for t in 0..width {
                    let y: f64 = (0..taps).map(|k| w[f * taps + k] as f64 * xs[c * 40 + t + k] as f64).sum();
                    acc += y * y;
                }
                let i = f * 3 + c;
                let l = (acc / width as f64).max(1e-6).ln();
                feats[i] = (l - rm[i] as f64) / (rv[i] as f64 + 1e-5).sqrt() * g[i] as f64 + b[i] as f64;
            }
        }
        for k in 0..2 {
            let want = lb[k] as f64 + (0..flat).map(|i| lw[k * flat + i] as f64 * feats[i]).sum::<f64>();
            approx::assert_relative_eq!(
                got.data()[n * 2 + k] as f64,
                want,
                epsilon = 1e-4,
                max_relative = 1e-4
            );
        }
    }
}

#[test]
fn models_size_from_the_data() {
    let spec = ModelSpec { n_channels: 16, n_samples: 128, n_classes: 3 };
    for name in models::MODEL_NAMES {
        let m = models::build(name, &spec, &mut Rng::new(0)).expect(name);
        assert_eq!(m.input_shape(), [1, 16, 128], "{name}");
        assert_eq!(m.output_shape(), [3], "{name}");
    }
    let err = models::build("resnet", &spec, &mut Rng::new(0)).unwrap_err();
    assert!(matches!(err, NnError::UnknownModel(_)));
    let msg = err.to_string();
    for name in models::MODEL_NAMES {
        assert!(msg.contains(name), "the message lists every zoo model: {msg}");
    }
}

#[test]
fn too_small_input_names_the_layer_and_shape() {
    let spec = ModelSpec { n_channels: 4, n_samples: 64, n_classes: 2 };
    let err = models::build("rvgg", &spec, &mut Rng::new(0)).unwrap_err();
    match &err {
        NnError::LayerShape { layer, kind, input, .. } => {
            assert_eq!(layer, "features.16");
            assert_eq!(*kind, "MaxPool2d");
            assert_eq!(input, &[64, 1, 16]);
        }
        other => panic!("wrong error: {other}"),
    }
}

#[test]
fn sequential_rejects_mismatched_layers() {
    let mut rng = Rng::new(0);
    let conv = Layer::Conv2d(Conv2d::new(&Conv2dConfig::new(3, 4, (3, 3)), &mut rng).expect("conv"));
    let lin = Layer::Linear(Linear::new(&LinearConfig::new(10, 2), &mut rng).expect("linear"));
    let layers = vec![
        ("conv".to_string(), conv.clone()),
        ("flat".into(), Layer::Flatten(Flatten)),
        ("fc".into(), lin),
    ];
    let err = Sequential::new("m", &[3, 6, 6], layers).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("`fc`") && msg.contains("[64]") && msg.contains("[10]"), "{msg}");
    let err = Sequential::new("m", &[2, 6, 6], vec![("conv".into(), conv)]).unwrap_err();
    assert!(err.to_string().contains("3 input channels"), "{err}");
}

#[test]
fn forward_rejects_the_wrong_input_shape() {
    let m = models::build("eegnet", &ModelSpec::paper(), &mut Rng::new(0)).expect("builds");
    let err = m.predict(&Tensor::zeros(&[2, 1, 23, 256])).unwrap_err();
    assert!(matches!(err, NnError::InputShape { .. }), "{err}");
}

fn noise(shape: &[usize], seed: u64) -> Tensor {
    let mut r = Rng::new(seed);
    let n = shape.iter().product();
    Tensor::from_vec(shape, (0..n).map(|_| r.normal() as f32).collect()).expect("shape")
}

#[test]
fn dropout_is_seeded_and_off_in_eval() {
    let spec = ModelSpec { n_channels: 8, n_samples: 32, n_classes: 2 };
    let m = models::build("rvgg", &spec, &mut Rng::new(0)).expect("builds");
    let x = noise(&[3, 1, 8, 32], 1);
    let run = |mode, seed| {
        let mut tape = Tape::new();
        let p = m.bind(&mut tape, false);
        let xv = tape.constant(x.clone());
        let out = m.forward(&mut tape, &p, xv, mode, &mut Rng::new(seed)).expect("forward");
        tape.value(out.output).clone()
    };
    assert_eq!(run(Mode::Train, 7), run(Mode::Train, 7));
    assert_ne!(run(Mode::Train, 7), run(Mode::Train, 8));
    assert_eq!(run(Mode::Eval, 7), run(Mode::Eval, 8));
    assert_eq!(run(Mode::Eval, 7), m.predict(&x).expect("predict"));
}

#[test]
fn batch_norm_statistics_are_returned_and_folded_in() {
    let spec = ModelSpec { n_channels: 8, n_samples: 128, n_classes: 2 };
    let mut m = models::build("eegnet", &spec, &mut Rng::new(0)).expect("builds");
    let x = noise(&[4, 1, 8, 128], 2);
    let stats = {
        let mut tape = Tape::new();
        let p = m.bind(&mut tape, true);
        let xv = tape.constant(x);
        let out = m.forward(&mut tape, &p, xv, Mode::Train, &mut Rng::new(0)).expect("forward");
        let loss = ops::cross_entropy(&mut tape, out.output, &[0, 1, 0, 1], None);
        let g = tape.backward(loss);
        assert!(p.grads(&g).iter().all(|g| g.is_some()), "every parameter gets a gradient");
        out.batch_stats
    };
    assert_eq!(stats.iter().map(|(i, _)| *i).collect::<Vec<_>>(), vec![1, 3, 9]);
    let before = m.named_buffers().into_iter().map(|(n, t)| (n, t.clone())).collect::<Vec<_>>();
    m.apply_batch_stats(&stats);
    let (i, s) = &stats[0];
    let Layer::BatchNorm2d(bn) = &m.layers()[*i].1 else { panic!("layer {i} is a batch norm") };
    let mom = bn.cfg.momentum;
    for c in 0..s.mean.len() {
        approx::assert_relative_eq!(bn.running_mean.data()[c], mom * s.mean[c], max_relative = 1e-6);
        approx::assert_relative_eq!(
            bn.running_var.data()[c],
            (1.0 - mom) + mom * s.var_unbiased[c],
            max_relative = 1e-6
        );
    }
    assert_eq!(bn.num_batches_tracked, 1);
    assert_ne!(before, m.named_buffers().into_iter().map(|(n, t)| (n, t.clone())).collect::<Vec<_>>());
}

#[test]
fn traced_forward_exposes_layers_and_switches() {
    let spec = ModelSpec { n_channels: 8, n_samples: 16, n_classes: 2 };
    let m = models::build("rvgg", &spec, &mut Rng::new(0)).expect("builds");
    let mut tape = Tape::new();
    let p = m.bind(&mut tape, false);
    let xv = tape.input_with_grad(noise(&[2, 1, 8, 16], 3));
    let tr = m.forward_traced(&mut tape, &p, xv, Mode::Eval, &mut Rng::new(0)).expect("forward");
    assert_eq!(tr.outputs.len(), m.layers().len());
    for (i, shape) in m.layer_shapes().iter().enumerate() {
        assert_eq!(&tape.shape(tr.outputs[i])[1..], shape.as_slice(), "layer {i}");
    }
    let pool = m.layer_index("features.4").expect("first pool");
    let sw = tr.switches[pool].as_ref().expect("pool switches");
    assert_eq!(sw.len(), 2 * 16 * 4 * 8);
    assert!(sw.iter().all(|&s| (s as usize) < 8 * 16));
    // Frozen weights: only the input gets a gradient.
    let s = ops::sum(&mut tape, tr.output);
    let g = tape.backward(s);
    assert!(g.get(xv).is_some());
    assert!(p.vars().iter().all(|v| g.get(*v).is_none()));
}

/// One optimiser step: train-mode forward, cross-entropy, backward, update.
fn train_step(m: &mut Sequential, opt: &mut eeglens_nn::Optimizer, x: &Tensor, y: &[usize], rng: &mut Rng) {
    let (grads, stats) = {
        let mut tape = Tape::new();
        let params = m.bind(&mut tape, true);
        let xv = tape.constant(x.clone());
        let out = m.forward(&mut tape, &params, xv, Mode::Train, rng).expect("forward");
        let loss = ops::cross_entropy(&mut tape, out.output, y, None);
        let mut g = tape.backward(loss);
        let grads: Vec<Option<Tensor>> = params.vars().iter().map(|v| g.take(*v)).collect();
        (grads, out.batch_stats)
    };
    let grads: Vec<Option<&Tensor>> = grads.iter().map(|g| g.as_ref()).collect();
    opt.step(&mut m.params_mut(), &grads);
    m.apply_batch_stats(&stats);
}

#[test]
fn every_model_fits_a_fixed_batch() {
    // A few optimiser steps on one batch must lower its loss: layers, gradients,
    // optimiser and batch-norm bookkeeping working together.
    let labels = [0, 1, 0, 1, 1, 0];
    for name in models::MODEL_NAMES {
        // The VGG-style models are heavy per sample; the others need >= 99 samples.
        let n_samples = match name {
            "rvgg" => 32,
            "vanputten" => 16,
            _ => 128,
        };
        let steps = if name == "vanputten" { 3 } else { 15 };
        let spec = ModelSpec { n_channels: 8, n_samples, n_classes: 2 };
        let x = noise(&[6, 1, 8, n_samples], 11);
        let mut rng = Rng::new(1);
        let mut m = models::build(name, &spec, &mut rng).expect("builds");
        let mut opt = eeglens_nn::Optimizer::new(eeglens_nn::OptimizerConfig::adam(2e-3));
        let eval_loss = |m: &Sequential| {
            let ev = eeglens_nn::evaluate(m, &x, Some(&labels), false).expect("evaluate");
            ev.loss.expect("labels given").item()
        };
        let before = eval_loss(&m);
        for _ in 0..steps {
            train_step(&mut m, &mut opt, &x, &labels, &mut rng);
        }
        let after = eval_loss(&m);
        assert!(after < before, "{name}: loss {before} -> {after}");
    }
}

#[test]
fn batch_norm_1d_after_a_linear_layer() {
    use eeglens_nn::layers::{BatchNorm, BatchNormConfig};
    let mut rng = Rng::new(0);
    let layers = vec![
        ("fc".to_string(), Layer::Linear(Linear::new(&LinearConfig::new(6, 4), &mut rng).expect("linear"))),
        ("bn".to_string(), Layer::BatchNorm1d(BatchNorm::new(&BatchNormConfig::new(4)).expect("bn"))),
    ];
    let m = Sequential::new("mlp", &[6], layers).expect("shapes fit");
    assert_eq!(m.output_shape(), [4]);
    assert_eq!(
        m.named_buffers().iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        ["bn.running_mean", "bn.running_var"]
    );
    let x = noise(&[5, 6], 4);
    let mut tape = Tape::new();
    let p = m.bind(&mut tape, true);
    let xv = tape.constant(x);
    let out = m.forward(&mut tape, &p, xv, Mode::Train, &mut rng).expect("forward");
    // Training output is normalised per feature: mean ~0 over the batch.
    let y = tape.value(out.output);
    for c in 0..4 {
        let mean: f32 = (0..5).map(|r| y.data()[r * 4 + c]).sum::<f32>() / 5.0;
        assert!(mean.abs() < 1e-5, "feature {c} mean {mean}");
    }
    assert_eq!(out.batch_stats.len(), 1);
    let err = Sequential::new(
        "bad",
        &[6],
        vec![("bn".into(), Layer::BatchNorm1d(BatchNorm::new(&BatchNormConfig::new(4)).expect("bn")))],
    )
    .unwrap_err();
    assert!(err.to_string().contains("expects [4]"), "{err}");
}

#[test]
fn summary_lists_layers_shapes_and_counts() {
    let m = models::build("rvgg", &ModelSpec::paper(), &mut Rng::new(0)).expect("builds");
    let s = m.summary();
    assert_eq!(s.lines().count(), m.layers().len() + 2, "{s}");
    assert!(s.contains("features.16") && s.contains("[64, 3, 32]"), "{s}");
    assert!(s.contains("6292480"), "classifier.0 count: {s}");
    assert!(s.trim_end().ends_with("total parameters: 7452850"), "{s}");
}

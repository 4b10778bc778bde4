//! Reverse convolution (deconvnet, Zeiler & Fergus 2014) and its two
//! variants, guided backpropagation and plain gradient saliency.
//!
//! A batch runs forward to the chosen layer in eval mode, recording every
//! layer's input and every max-pool's switches. A seed shaped like that
//! layer's output (a unit's activation, or a class's logit difference) then
//! goes back layer by layer with the engine's own kernels:
//!
//! | layer | going back |
//! | --- | --- |
//! | `Conv2d` | transposed convolution: `kernels::conv2d_backward_input` with the layer's filters |
//! | `MaxPool2d` | unpooling: `kernels::max_pool2d_backward` puts each value at its recorded switch |
//! | `AvgPool2d` | `kernels::avg_pool2d_backward` |
//! | `Linear` | the transposed weights (`kernels::gemm`) |
//! | `ReLU`, `ELU` | the [`BackRule`]: deconvnet `max(g, 0)`; guided `g` where input and `g` are positive; saliency the local gradient |
//! | `BatchNorm` (eval) | the per-channel scale `gamma / sqrt(var + eps)` |
//! | `Dropout`, `Flatten` | identity, reshape |
//! | `Square` | the local gradient `2 x g`: the filtered signal, like a max-pool's switches, says what went through |
//! | `Log` | deconvnet: the signal unchanged; guided and saliency: the local gradient `g / x` |
//!
//! There is no second convolution here: with [`BackRule::Saliency`] the
//! result is exactly the gradient the tape computes (tested).
//!
//! # `Log` under the deconvnet
//! Zeiler and Fergus never met a logarithm; their rule at a nonlinearity
//! ignores the forward pass (`max(g, 0)` at a ReLU, whatever its input).
//! The local gradient of `log P`, `1 / P`, divides each window's map by its
//! own pooled power: in ShallowConvNet (square, average pool, log) a window
//! with twice the amplitude in a filter's band then gets half the amplitude
//! in its map, so the maps lose (and reverse) the very power difference a
//! class effect is. Passed through unchanged, as a monotone function
//! without a gate, the map of ShallowConvNet grows with its window's
//! amplitude (tested) and is the window filtered by what the network
//! weighs. On the validation grid's 38 learned ShallowConvNet runs, read
//! alone and ranked by z, it named the planted band in 24 against 10 for the
//! local gradient read times the window (ranked either way); ranked by
//! contrast it named 17 (VALIDATION.md, "The deconvnet through
//! ShallowConvNet's logarithm"). `--rule saliency` keeps the local gradient.

use std::sync::Arc;

use eeglens_autodiff::kernels::{self, Conv2dGeom};
use eeglens_autodiff::{Rng, Tape, Tensor};
use eeglens_nn::{Layer, Mode, Sequential};

use crate::config::{BackRule, Keep};
use crate::error::InterpretError;

/// What a forward pass to a layer keeps for the way back.
#[derive(Debug)]
pub struct Recorded {
    /// `inputs[i]` is the input of layer `i` (`inputs[0]` the batch)
    pub inputs: Vec<Tensor>,
    /// the output of the last layer run
    pub output: Tensor,
    /// max-pool switches by layer
    pub switches: Vec<Option<Arc<Vec<u32>>>>,
}

/// Runs `x` through layers `0..=upto` in eval mode, keeping each layer's input and the switches.
///
/// # Errors
/// [`InterpretError::Nn`] when `x` does not have the model's input shape.
pub fn record(model: &Sequential, x: &Tensor, upto: usize) -> Result<Recorded, InterpretError> {
    model.check_input(x.shape())?;
    let mut tape = Tape::new();
    let params = model.bind(&mut tape, false);
    let mut y = tape.constant(x.clone());
    let mut rng = Rng::new(0);
    let mut vars = vec![y];
    let mut switches = Vec::new();
    for (i, (_, layer)) in model.layers().iter().enumerate().take(upto + 1) {
        let out = layer.forward(&mut tape, y, params.layer(i), Mode::Eval, &mut rng, true);
        y = out.y;
        vars.push(y);
        switches.push(out.switches);
    }
    let output = tape.value(y).clone();
    vars.pop();
    let inputs = vars.iter().map(|&v| tape.value(v).clone()).collect();
    Ok(Recorded { inputs, output, switches })
}

/// Projects `seed` (shaped like the output of layer `from`) back to the input
/// through layers `from, from - 1, ..., 0` with `rule`. Returns a map shaped
/// like the batch, `[n, 1, n_channels, n_samples]`.
///
/// # Panics
/// When `seed` does not have the shape of layer `from`'s output for this batch.
pub fn project(model: &Sequential, rec: &Recorded, from: usize, seed: Tensor, rule: BackRule) -> Tensor {
    assert_eq!(
        seed.shape(),
        rec.output.shape(),
        "project: the seed must be shaped like layer {from}'s output"
    );
    let mut g = seed;
    for i in (0..=from).rev() {
        let (_, layer) = &model.layers()[i];
        let x = &rec.inputs[i];
        g = back_one(layer, x, g, rec.switches[i].as_deref(), rule);
    }
    g
}

/// One layer back: `g` is shaped like the layer's output, the result like `x`.
fn back_one(layer: &Layer, x: &Tensor, g: Tensor, switches: Option<&Vec<u32>>, rule: BackRule) -> Tensor {
    let xs = x.shape();
    let mut gx = vec![0.0f32; x.len()];
    match layer {
        Layer::Conv2d(conv) => {
            let geom: Conv2dGeom = conv.geom(xs[0], xs[2], xs[3]);
            let mut scratch = vec![0.0f32; geom.scratch_len()];
            kernels::conv2d_backward_input(&geom, g.data(), conv.weight.data(), &mut gx, &mut scratch);
        }
        Layer::MaxPool2d(pool) => {
            let geom = pool.geom(xs[0], xs[1], xs[2], xs[3]);
            let sw = switches.expect("record() asks every max-pool for its switches");
            kernels::max_pool2d_backward(&geom, g.data(), sw, &mut gx);
        }
        Layer::AvgPool2d(pool) => {
            let geom = pool.geom(xs[0], xs[1], xs[2], xs[3]);
            kernels::avg_pool2d_backward(&geom, g.data(), &mut gx);
        }
        Layer::Linear(lin) => {
            let (n, d_in, d_out) = (xs[0], lin.cfg.d_in, lin.cfg.d_out);
            kernels::gemm(n, d_out, d_in, 1.0, g.data(), false, lin.weight.data(), false, 0.0, &mut gx);
        }
        Layer::Relu(_) | Layer::Elu(_) => {
            let alpha = if let Layer::Elu(e) = layer { e.cfg.alpha } else { 0.0 };
            let local = |v: f32| if v > 0.0 { 1.0 } else { alpha * v.exp() };
            for ((o, &v), &gv) in gx.iter_mut().zip(x.data()).zip(g.data()) {
                *o = match rule {
                    BackRule::Deconvnet => gv.max(0.0),
                    BackRule::Guided => {
                        if gv > 0.0 {
                            gv * local(v)
                        } else {
                            0.0
                        }
                    }
                    BackRule::Saliency => gv * local(v),
                };
            }
        }
        Layer::BatchNorm2d(bn) | Layer::BatchNorm1d(bn) => {
            let c = xs[1];
            let per = x.len() / (xs[0] * c);
            let scale: Vec<f32> = bn
                .weight
                .data()
                .iter()
                .zip(bn.running_var.data())
                .map(|(w, v)| w / (v + bn.cfg.eps).sqrt())
                .collect();
            for (j, (o, gv)) in gx.iter_mut().zip(g.data()).enumerate() {
                *o = gv * scale[(j / per) % c];
            }
        }
        Layer::Dropout(_) | Layer::Flatten(_) => gx.copy_from_slice(g.data()),
        Layer::Square(_) => {
            for ((o, &v), &gv) in gx.iter_mut().zip(x.data()).zip(g.data()) {
                *o = 2.0 * v * gv;
            }
        }
        Layer::Log(_) if rule == BackRule::Deconvnet => gx.copy_from_slice(g.data()),
        Layer::Log(l) => {
            for ((o, &v), &gv) in gx.iter_mut().zip(x.data()).zip(g.data()) {
                *o = if v >= l.cfg.eps { gv / v } else { 0.0 };
            }
        }
    }
    Tensor::from_vec(xs, gx).expect("sized from the layer's input")
}

/// The seed of a unit: zeros except unit `u`'s activation — only at its
/// strongest location per sample ([`Keep::Strongest`]) or its whole map
/// ([`Keep::Map`]).
pub fn unit_seed(act: &Tensor, u: usize, keep: Keep) -> Tensor {
    let n = act.shape()[0];
    let units = act.shape().get(1).copied().unwrap_or(1);
    let per = act.len() / (n * units).max(1);
    let mut seed = vec![0.0f32; act.len()];
    for s in 0..n {
        let off = (s * units + u) * per;
        let src = &act.data()[off..][..per];
        let dst = &mut seed[off..][..per];
        match keep {
            Keep::Map => dst.copy_from_slice(src),
            Keep::Strongest => {
                let (j, &v) = src
                    .iter()
                    .enumerate()
                    .max_by(|a, b| a.1.total_cmp(b.1))
                    .expect("a unit's map has at least one position");
                dst[j] = v;
            }
        }
    }
    Tensor::from_vec(act.shape(), seed).expect("shaped like the activation")
}

/// The seed of a class at the output `[n, k]`: +1 on class `c`, `-1/(k-1)`
/// on the others (the gradient of the logit difference), for every sample.
pub fn class_seed(n: usize, k: usize, c: usize) -> Tensor {
    let other = if k > 1 { -1.0 / (k - 1) as f32 } else { 0.0 };
    let data = (0..n * k).map(|j| if j % k == c { 1.0 } else { other }).collect();
    Tensor::from_vec(&[n, k], data).expect("n * k values")
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;
    use eeglens_autodiff::kernels::reference;
    use eeglens_autodiff::ops;
    use eeglens_nn::layers::{Conv2d, Conv2dConfig, MaxPool2d, MaxPool2dConfig};
    use eeglens_nn::{models, ModelSpec};

    const TOL: f32 = 1e-4;

    fn noise(shape: &[usize], rng: &mut Rng) -> Tensor {
        let n = shape.iter().product();
        Tensor::from_vec(shape, (0..n).map(|_| rng.normal() as f32).collect()).unwrap()
    }

    #[test]
    fn deconvnet_through_one_conv_is_the_transposed_convolution_of_the_map() {
        let mut rng = Rng::new(7);
        let cfg = Conv2dConfig::new(1, 3, (3, 5)).padding(1, 2).stride(1, 2);
        let conv = Conv2d::new(&cfg, &mut rng).unwrap();
        let model =
            Sequential::new("one", &[1, 6, 20], vec![("c".into(), Layer::Conv2d(conv.clone()))]).unwrap();
        let x = noise(&[2, 1, 6, 20], &mut rng);
        let rec = record(&model, &x, 0).unwrap();
        let map = noise(rec.output.shape(), &mut rng);
        let got = project(&model, &rec, 0, map.clone(), BackRule::Deconvnet);
        let mut want = vec![0.0f32; x.len()];
        reference::conv2d_backward_input(&conv.geom(2, 6, 20), map.data(), conv.weight.data(), &mut want);
        assert_eq!(got.shape(), x.shape());
        for (a, b) in got.data().iter().zip(&want) {
            assert_relative_eq!(*a, *b, epsilon = TOL, max_relative = TOL);
        }
    }

    #[test]
    fn unpooling_puts_values_exactly_at_the_switches() {
        let pool = MaxPool2d::new(&MaxPool2dConfig { kernel: (2, 3), stride: (2, 2) }).unwrap();
        let model = Sequential::new("pool", &[2, 4, 9], vec![("p".into(), Layer::MaxPool2d(pool))]).unwrap();
        let x = noise(&[1, 2, 4, 9], &mut Rng::new(2));
        let rec = record(&model, &x, 0).unwrap();
        let out_shape = rec.output.shape().to_vec();
        let vals: Vec<f32> = (0..rec.output.len()).map(|j| 10.0 + j as f32).collect();
        let got = project(
            &model,
            &rec,
            0,
            Tensor::from_vec(&out_shape, vals.clone()).unwrap(),
            BackRule::Deconvnet,
        );
        // Expected: each value at the argmax of its window, found here by brute force.
        let (h_out, w_out) = (out_shape[2], out_shape[3]);
        let mut want = vec![0.0f32; x.len()];
        for c in 0..2 {
            for oh in 0..h_out {
                for ow in 0..w_out {
                    let mut best = (f32::NEG_INFINITY, 0);
                    for r in oh * 2..oh * 2 + 2 {
                        for q in ow * 2..ow * 2 + 3 {
                            let j = c * 36 + r * 9 + q;
                            if x.data()[j] > best.0 {
                                best = (x.data()[j], j);
                            }
                        }
                    }
                    want[best.1] += vals[(c * h_out + oh) * w_out + ow];
                }
            }
        }
        assert_eq!(got.data(), &want[..]);
    }

    #[test]
    fn the_deconvnet_rectifies_the_signal_going_back() {
        let model =
            Sequential::new("relu", &[1, 2, 3], vec![("r".into(), Layer::Relu(eeglens_nn::layers::Relu))])
                .unwrap();
        let x = Tensor::from_vec(&[1, 1, 2, 3], vec![1.0, -1.0, 2.0, -2.0, 0.5, 3.0]).unwrap();
        let g = Tensor::from_vec(&[1, 1, 2, 3], vec![-1.0, 2.0, 3.0, 4.0, -5.0, 6.0]).unwrap();
        let rec = record(&model, &x, 0).unwrap();
        let deconv = project(&model, &rec, 0, g.clone(), BackRule::Deconvnet);
        assert_eq!(deconv.data(), &[0.0, 2.0, 3.0, 4.0, 0.0, 6.0]);
        let guided = project(&model, &rec, 0, g.clone(), BackRule::Guided);
        assert_eq!(guided.data(), &[0.0, 0.0, 3.0, 0.0, 0.0, 6.0]);
        let sal = project(&model, &rec, 0, g, BackRule::Saliency);
        assert_eq!(sal.data(), &[-1.0, 0.0, 3.0, 0.0, -5.0, 6.0]);
    }

    #[test]
    fn saliency_through_rvgg_is_the_tape_gradient() {
        let spec = ModelSpec { n_channels: 8, n_samples: 32, n_classes: 2 };
        let mut rng = Rng::new(11);
        let model = models::build("rvgg", &spec, &mut rng).unwrap();
        let x = noise(&[3, 1, 8, 32], &mut rng);
        let last = model.layers().len() - 1;
        let rec = record(&model, &x, last).unwrap();
        let seed = class_seed(3, 2, 1);
        let sal = project(&model, &rec, last, seed.clone(), BackRule::Saliency);

        let mut tape = Tape::new();
        let params = model.bind(&mut tape, false);
        let xv = tape.input_with_grad(x.clone());
        let out = model.forward(&mut tape, &params, xv, Mode::Eval, &mut rng).unwrap();
        let w = tape.constant(seed);
        let prod = ops::mul(&mut tape, out.output, w);
        let loss = ops::sum(&mut tape, prod);
        let grads = tape.backward(loss);
        let want = grads.get(xv).unwrap();
        let scale = want.data().iter().fold(0.0f32, |a, b| a.max(b.abs()));
        for (a, b) in sal.data().iter().zip(want.data()) {
            assert_relative_eq!(*a, *b, epsilon = TOL * scale);
        }
    }

    #[test]
    fn the_deconvnet_passes_a_logarithm_and_the_gradients_divide_by_its_input() {
        let model = Sequential::new(
            "log",
            &[1, 1, 3],
            vec![(
                "l".into(),
                Layer::Log(eeglens_nn::layers::Log::new(&eeglens_nn::layers::LogConfig::default())),
            )],
        )
        .unwrap();
        let x = Tensor::from_vec(&[1, 1, 1, 3], vec![2.0, 4.0, 0.5]).unwrap();
        let g = Tensor::from_vec(&[1, 1, 1, 3], vec![1.0, -2.0, 3.0]).unwrap();
        let rec = record(&model, &x, 0).unwrap();
        assert_eq!(project(&model, &rec, 0, g.clone(), BackRule::Deconvnet).data(), g.data());
        for rule in [BackRule::Guided, BackRule::Saliency] {
            assert_eq!(project(&model, &rec, 0, g.clone(), rule).data(), &[0.5, -0.5, 6.0], "{rule:?}");
        }
    }

    /// ShallowConvNet's deconvnet map scales with its window (linear filters, a square, a
    /// passed-through logarithm); its gradient scales inversely (the logarithm's `1 / P`).
    #[test]
    fn shallow_deconvnet_maps_grow_with_the_window_and_its_gradient_shrinks() {
        let spec = ModelSpec { n_channels: 4, n_samples: 128, n_classes: 2 };
        let mut rng = Rng::new(5);
        let model = models::build("shallow", &spec, &mut rng).unwrap();
        let x = noise(&[2, 1, 4, 128], &mut rng);
        let x3 = Tensor::from_vec(x.shape(), x.data().iter().map(|v| 3.0 * v).collect()).unwrap();
        let last = model.layers().len() - 1;
        let rms =
            |t: &Tensor| (t.data().iter().map(|v| (*v as f64).powi(2)).sum::<f64>() / t.len() as f64).sqrt();
        let mut ratios = Vec::new();
        for rule in [BackRule::Deconvnet, BackRule::Saliency] {
            let a = project(&model, &record(&model, &x, last).unwrap(), last, class_seed(2, 2, 1), rule);
            let b = project(&model, &record(&model, &x3, last).unwrap(), last, class_seed(2, 2, 1), rule);
            ratios.push(rms(&b) / rms(&a));
        }
        // Batch normalisation's shift keeps the ratios off exactly 3 and 1/3.
        assert!(ratios[0] > 2.0, "deconvnet {ratios:?}");
        assert!(ratios[1] < 0.7, "saliency {ratios:?}");
    }

    /// LogPowerNet filters each electrode on its own: the deconvnet map of a window whose
    /// only content is a 10 Hz rhythm on one electrode stays on that electrode, at 10 Hz.
    #[test]
    fn logpower_deconvnet_maps_stay_on_the_electrode_and_the_rhythm() {
        let spec = ModelSpec { n_channels: 4, n_samples: 128, n_classes: 2 };
        let mut rng = Rng::new(6);
        let model = models::build("logpower", &spec, &mut rng).unwrap();
        let mut x = vec![0.0f32; 4 * 128];
        for t in 0..128 {
            x[2 * 128 + t] = (2.0 * std::f64::consts::PI * 10.0 * t as f64 / 128.0).sin() as f32;
        }
        let x = Tensor::from_vec(&[1, 1, 4, 128], x).unwrap();
        let last = model.layers().len() - 1;
        let map = project(
            &model,
            &record(&model, &x, last).unwrap(),
            last,
            class_seed(1, 2, 1),
            BackRule::Deconvnet,
        );
        let energy = |c: usize| map.data()[c * 128..][..128].iter().map(|v| (*v as f64).powi(2)).sum::<f64>();
        let total: f64 = (0..4).map(energy).sum();
        assert!(total > 0.0);
        assert!(energy(2) / total > 0.999_999, "{:?}", (0..4).map(energy).collect::<Vec<_>>());
        // The map's strongest frequency (1 Hz bins of the 1-s window): 10 Hz.
        let row = &map.data()[2 * 128..][..128];
        let power = |k: usize| {
            let w = 2.0 * std::f64::consts::PI * k as f64 / 128.0;
            let (re, im) = row.iter().enumerate().fold((0.0, 0.0), |(a, b), (t, v)| {
                (a + *v as f64 * (w * t as f64).cos(), b + *v as f64 * (w * t as f64).sin())
            });
            re * re + im * im
        };
        let peak = (1..64).max_by(|&a, &b| power(a).total_cmp(&power(b))).unwrap();
        assert_eq!(peak, 10);
    }

    #[test]
    fn unit_seeds_keep_the_strongest_location_or_the_map() {
        let act = Tensor::from_vec(&[1, 2, 1, 3], vec![1.0, 5.0, 2.0, 7.0, 3.0, 9.0]).unwrap();
        assert_eq!(unit_seed(&act, 1, Keep::Strongest).data(), &[0.0, 0.0, 0.0, 0.0, 0.0, 9.0]);
        assert_eq!(unit_seed(&act, 0, Keep::Map).data(), &[1.0, 5.0, 2.0, 0.0, 0.0, 0.0]);
    }
}

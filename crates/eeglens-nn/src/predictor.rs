//! [`Predictor`]: eval-mode inference of a model in a chosen [`Precision`],
//! with the weights prepared once for it.
//!
//! In [`Precision::Fp32`] (the default and the reference) a predictor runs
//! exactly [`Sequential::predict`]. In [`Precision::Bf16`] every stride-1,
//! one-group convolution (all of R-VGG's, 90 % of its inference FLOPs) and
//! every linear layer has its weights converted once, when the predictor is
//! made, to the bf16 pairs the bf16 products read
//! ([`ConvWeightsBf16`], [`LinearWeightsBf16`]), and runs
//! [`kernels::conv2d_forward_bf16`] or [`kernels::linear_forward_bf16`]:
//! activations rounded to bf16 as they are packed, fp32 sums, fp32 outputs.
//! The products run on AMX tiles (`tdpbf16ps`) where the CPU has AMX-BF16
//! and the OS grants the tile state (not with `EEGLENS_NO_AMX`), else on
//! AVX512_BF16 (`vdpbf16ps`).
//! Every other layer (pooling, batch norm, activations) stays fp32. Where the CPU has no AVX512_BF16,
//! or the process runs the portable kernels (`EEGLENS_NO_AVX512`), a bf16
//! predictor is an fp32 one and [`Predictor::precision`] says so; nothing
//! else changes. Inference only: nothing here records a tape for gradients.

use eeglens_autodiff::kernels::{self, ConvWeightsBf16, KernelSet, LinearWeightsBf16, Precision};
use eeglens_autodiff::{pool, Rng, Tape, Tensor, Var};

use crate::error::NnError;
use crate::layers::{Conv2d, Layer, Linear, Mode};
use crate::sequential::Sequential;

/// A model ready for inference in one precision (see the module header).
///
/// ```
/// use eeglens_nn::models::{build, ModelSpec};
/// use eeglens_nn::{Precision, Predictor, Rng};
/// use eeglens_autodiff::Tensor;
///
/// let spec = ModelSpec { n_channels: 8, n_samples: 16, n_classes: 2 };
/// let model = build("rvgg", &spec, &mut Rng::new(0))?;
/// let p = Predictor::new(&model, Precision::Bf16);
/// // bf16 where the CPU has AVX512_BF16, fp32 elsewhere.
/// println!("running in {}", p.precision());
/// let logits = p.predict(&Tensor::zeros(&[3, 1, 8, 16]))?;
/// assert_eq!(logits.shape(), &[3, 2]);
/// # Ok::<(), eeglens_nn::NnError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Predictor<'m> {
    model: &'m Sequential,
    precision: Precision,
    /// per layer: the bf16 weights of a layer that runs in bf16
    bf16: Vec<Option<Bf16Weights>>,
}

/// A layer's weights converted to bf16 pairs.
#[derive(Clone, Debug)]
enum Bf16Weights {
    Conv(ConvWeightsBf16),
    Linear(LinearWeightsBf16),
}

impl<'m> Predictor<'m> {
    /// Prepares `model` for inference in `wanted`, as far as the calling
    /// thread's kernel set allows ([`KernelSet::inference_precision`]):
    /// converts the weights of the layers that will run in bf16, once.
    pub fn new(model: &'m Sequential, wanted: Precision) -> Self {
        let precision = KernelSet::current().inference_precision(wanted);
        let bf16 = model
            .layers()
            .iter()
            .map(|(_, layer)| match (precision, layer) {
                (Precision::Bf16, Layer::Conv2d(c)) if runs_in_bf16(c) => {
                    let s = c.weight.shape();
                    Some(Bf16Weights::Conv(ConvWeightsBf16::pack([s[0], s[1], s[2], s[3]], c.weight.data())))
                }
                (Precision::Bf16, Layer::Linear(l)) => {
                    let (d_out, d_in) = (l.cfg.d_out, l.cfg.d_in);
                    Some(Bf16Weights::Linear(LinearWeightsBf16::pack(d_out, d_in, l.weight.data())))
                }
                _ => None,
            })
            .collect();
        Self { model, precision, bf16 }
    }

    /// The precision the predictions are made in: the one asked for, or
    /// [`Precision::Fp32`] where bf16 is not available.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// The model.
    pub fn model(&self) -> &'m Sequential {
        self.model
    }

    /// Eval-mode logits of `x` (`[n, ...input_shape]`), weights frozen, one
    /// layer at a time so that only one layer's input and output are held
    /// (see [`Sequential::predict`]). A convolution and the ReLU after it run
    /// as one kernel.
    ///
    /// # Errors
    /// [`NnError::InputShape`].
    pub fn predict(&self, x: &Tensor) -> Result<Tensor, NnError> {
        self.forward_to(x, self.model.layers().len())
    }

    /// The eval-mode output of layer `upto` (an index into
    /// [`Sequential::layers`], inclusive) for `x`, computed as
    /// [`Predictor::predict`] computes it on the way to the logits, in this
    /// predictor's precision: a convolution that is layer `upto` gives its
    /// output before the ReLU after it. `upto` past the last layer is the
    /// last layer (the logits).
    ///
    /// # Errors
    /// [`NnError::InputShape`].
    pub fn predict_upto(&self, x: &Tensor, upto: usize) -> Result<Tensor, NnError> {
        self.forward_to(x, upto.saturating_add(1))
    }

    /// The output of the first `end` layers (at most all of them).
    fn forward_to(&self, x: &Tensor, end: usize) -> Result<Tensor, NnError> {
        let model = self.model;
        model.check_input(x.shape())?;
        let layers = model.layers();
        let end = end.min(layers.len());
        let mut h = x.clone();
        let mut rng = Rng::new(0);
        let mut i = 0;
        while i < end {
            let layer = &layers[i].1;
            let relu_next = i + 1 < end && matches!(layers.get(i + 1), Some((_, Layer::Relu(_))));
            match (layer, &self.bf16[i]) {
                (Layer::Conv2d(conv), Some(Bf16Weights::Conv(wb))) => {
                    h = conv_bf16(conv, wb, &h, relu_next);
                    i += 1 + usize::from(relu_next);
                    continue;
                }
                (Layer::Linear(lin), Some(Bf16Weights::Linear(wb))) => {
                    h = linear_bf16(lin, wb, &h);
                    i += 1;
                    continue;
                }
                _ => {}
            }
            let mut tape = Tape::new();
            let params: Vec<Var> = layer.params().into_iter().map(|(_, t)| tape.constant_ref(t)).collect();
            let hv = tape.constant(h);
            // A convolution and the ReLU after it run as one op (bit-identical).
            if let (Layer::Conv2d(conv), true) = (layer, relu_next) {
                let y = conv.forward_relu(&mut tape, hv, &params);
                h = tape.into_value(y);
                i += 2;
                continue;
            }
            let out = layer.forward(&mut tape, hv, &params, Mode::Eval, &mut rng, false);
            h = tape.into_value(out.y);
            i += 1;
        }
        Ok(h)
    }
}

/// Whether a convolution has a bf16 kernel (stride 1, one group).
fn runs_in_bf16(c: &Conv2d) -> bool {
    c.cfg.groups == 1 && c.cfg.stride == (1, 1)
}

/// `conv(x)` (then a ReLU when `relu`) with the bf16 kernel.
fn conv_bf16(conv: &Conv2d, wb: &ConvWeightsBf16, x: &Tensor, relu: bool) -> Tensor {
    let s = x.shape();
    let g = conv.geom(s[0], s[2], s[3]);
    let mut y = pool::overwritten(g.y_len());
    let mut scratch = pool::overwritten(g.scratch_len());
    let b = conv.bias.as_ref().map(Tensor::data);
    kernels::conv2d_forward_bf16(&g, x.data(), conv.weight.data(), wb, b, &mut y, &mut scratch, relu);
    pool::give(scratch);
    Tensor::from_vec(&[g.n, g.c_out, g.h_out(), g.w_out()], y).expect("the geometry's output length")
}

/// `x W^T + b` with the bf16 kernel (`x` is `[n, d_in]`: a flatten comes first).
fn linear_bf16(lin: &Linear, wb: &LinearWeightsBf16, x: &Tensor) -> Tensor {
    let n = x.shape()[0];
    let mut y = pool::overwritten(n * lin.cfg.d_out);
    let mut scratch = pool::overwritten(wb.scratch_len(n));
    let b = lin.bias.as_ref().map(Tensor::data);
    kernels::linear_forward_bf16(n, x.data(), lin.weight.data(), wb, b, &mut y, &mut scratch);
    pool::give(scratch);
    Tensor::from_vec(&[n, lin.cfg.d_out], y).expect("the layer's output length")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{build, ModelSpec};
    use eeglens_autodiff::kernels::with_kernel_set;

    /// R-VGG with the zoo's init on a small batch of standard-normal windows.
    fn rvgg_and_batch() -> (Sequential, Tensor) {
        let spec = ModelSpec { n_channels: 24, n_samples: 64, n_classes: 2 };
        let model = build("rvgg", &spec, &mut Rng::new(3)).expect("model");
        let mut rng = Rng::new(4);
        let x: Vec<f32> = (0..6 * 24 * 64).map(|_| rng.normal() as f32).collect();
        (model, Tensor::from_vec(&[6, 1, 24, 64], x).expect("shape"))
    }

    /// The fp32 predictor is `Sequential::predict`, bit for bit, and a bf16
    /// predictor on a kernel set without AVX512_BF16 is the fp32 one.
    #[test]
    fn fp32_and_the_fallback_are_the_fp32_prediction_bit_for_bit() {
        let (model, x) = rvgg_and_batch();
        let want = model.predict(&x).expect("predict");
        let fp32 = Predictor::new(&model, Precision::Fp32);
        assert_eq!(fp32.precision(), Precision::Fp32);
        assert_eq!(fp32.predict(&x).expect("predict"), want);
        let mut sets = vec![KernelSet::portable()];
        sets.extend(KernelSet::avx512().map(KernelSet::without_bf16));
        for set in sets {
            with_kernel_set(set, || {
                let want = model.predict(&x).expect("predict");
                let p = Predictor::new(&model, Precision::Bf16);
                assert_eq!(p.precision(), Precision::Fp32, "{set:?}");
                assert!(p.bf16.iter().all(Option::is_none), "{set:?} packed bf16 weights");
                let got = p.predict(&x).expect("predict");
                assert!(
                    got.data().iter().zip(want.data()).all(|(a, b)| a.to_bits() == b.to_bits()),
                    "{set:?}"
                );
            });
        }
    }

    /// A prefix of the model in fp32 is the layer-by-layer forward pass bit
    /// for bit, a convolution's output before its ReLU included; in bf16 it
    /// is within the kernels' rounding of it, and the whole prefix is the prediction.
    #[test]
    fn a_prefix_is_the_layer_outputs_before_the_relu_after_a_convolution() {
        let (model, x) = rvgg_and_batch();
        let layers = model.layers();
        let conv =
            layers.iter().position(|(_, l)| matches!(l, Layer::Conv2d(_))).expect("R-VGG has convolutions");
        assert!(matches!(layers[conv + 1].1, Layer::Relu(_)), "a ReLU follows R-VGG's first convolution");
        let want = |upto: usize| {
            let mut tape = Tape::new();
            let params = model.bind(&mut tape, false);
            let mut y = tape.constant(x.clone());
            let mut rng = Rng::new(0);
            for (i, (_, layer)) in layers.iter().enumerate().take(upto + 1) {
                y = layer.forward(&mut tape, y, params.layer(i), Mode::Eval, &mut rng, false).y;
            }
            tape.value(y).clone()
        };
        let fp32 = Predictor::new(&model, Precision::Fp32);
        for upto in [conv, conv + 1, layers.len() - 1] {
            assert_eq!(fp32.predict_upto(&x, upto).expect("prefix"), want(upto), "layer {upto}");
        }
        let conv_out = fp32.predict_upto(&x, conv).expect("prefix");
        assert!(conv_out.data().iter().any(|&v| v < 0.0), "a convolution's own output keeps its negatives");
        assert_eq!(fp32.predict_upto(&x, usize::MAX).expect("all"), fp32.predict(&x).expect("predict"));
        for set in KernelSet::available() {
            with_kernel_set(set, || {
                let p = Predictor::new(&model, Precision::Bf16);
                let got = p.predict_upto(&x, conv).expect("prefix");
                let scale = conv_out.data().iter().fold(0.0f32, |m, v| m.max(v.abs()));
                let worst =
                    got.data().iter().zip(conv_out.data()).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
                // bf16 keeps 8 significant bits of each operand: a few 2^-8 of the largest output.
                assert!(worst <= 0.05 * scale, "{set:?}: {worst:e} against outputs up to {scale:e}");
                assert!(got.data().iter().any(|&v| v < 0.0), "{set:?}: the ReLU ran");
            });
        }
    }

    /// R-VGG's logits in bf16 against fp32, on random inputs with the zoo's
    /// init. Each layer's outputs are within about 2^-7 of `sum |w x|` of
    /// fp32 (the kernels' own tests hold them to that bound); at this init
    /// the input-dependent part of R-VGG's activations shrinks layer by layer
    /// (ARCHITECTURE.md, `rvgg_bn`), so the logits are nearly constant and
    /// the rounding of the constant part is what shows. Stated tolerance:
    /// every logit within 5 % of the spread of the fp32 logits over the batch
    /// (measured: 1.5 %, 3.9e-5 against a spread of 2.6e-3), and every
    /// window's predicted class kept where its fp32 margin is above 10 % of
    /// that spread. The bf16 logits also differ from the fp32 bits: bf16 ran.
    #[test]
    fn rvgg_logits_in_bf16_are_within_tolerance_of_fp32() {
        let Some(set) = KernelSet::avx512().filter(|s| s.has_bf16()) else {
            eprintln!(
                "rvgg_logits_in_bf16_are_within_tolerance_of_fp32: skipped, this CPU has no AVX512_BF16"
            );
            return;
        };
        if !set.has_amx() {
            eprintln!("rvgg_logits_in_bf16_are_within_tolerance_of_fp32: AMX part skipped, no AMX here");
        }
        // AMX tiles where the CPU has them, and `vdpbf16ps`.
        for set in std::iter::once(set).chain(set.has_amx().then(|| set.without_amx())) {
            rvgg_logits_within_tolerance(set);
        }
    }

    /// The checks of [`rvgg_logits_in_bf16_are_within_tolerance_of_fp32`] on one bf16 kernel set.
    fn rvgg_logits_within_tolerance(set: KernelSet) {
        let (model, x) = rvgg_and_batch();
        let (fp32, bf16) = with_kernel_set(set, || {
            let p = Predictor::new(&model, Precision::Bf16);
            assert_eq!(p.precision(), Precision::Bf16);
            (model.predict(&x).expect("fp32"), p.predict(&x).expect("bf16"))
        });
        let (f, b) = (fp32.data(), bf16.data());
        let lo = f.iter().copied().fold(f32::INFINITY, f32::min);
        let hi = f.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let spread = hi - lo;
        assert!(spread > 0.0, "the fp32 logits do not depend on the input");
        let worst = f.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
        eprintln!("R-VGG bf16 ({set:?}) vs fp32: max |logit difference| {worst:e}, logit spread {spread:e}");
        assert!(worst <= 0.05 * spread, "max |logit difference| {worst:e} over 5 % of the spread {spread:e}");
        assert!(worst > 0.0, "bf16 gave the fp32 logits bit for bit: it did not run");
        for (rf, rb) in f.chunks_exact(2).zip(b.chunks_exact(2)) {
            if (rf[0] - rf[1]).abs() > 0.1 * spread {
                assert_eq!(rf[0] > rf[1], rb[0] > rb[1], "class flipped: fp32 {rf:?}, bf16 {rb:?}");
            }
        }
    }
}

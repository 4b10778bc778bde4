//! [`Sequential`]: named layers in order, shapes checked once at construction,
//! run whole ([`Sequential::forward`]) or traced layer by layer
//! ([`Sequential::forward_traced`]).

use std::sync::Arc;

use eeglens_autodiff::kernels::Precision;
use eeglens_autodiff::ops::BatchStats;
use eeglens_autodiff::{Gradients, Rng, Tape, Tensor, Var};

use crate::error::NnError;
use crate::init::golden_values;
use crate::layers::{Layer, Mode};

/// A chain of named layers. Each layer's name is its state-dict prefix
/// (`features.0` gives `features.0.weight`), as in PyTorch's `nn.Sequential`.
#[derive(Clone, Debug, PartialEq)]
pub struct Sequential {
    name: String,
    input_shape: Vec<usize>,
    layers: Vec<(String, Layer)>,
    shapes: Vec<Vec<usize>>,
}

/// The tape variables of a model's parameters, from [`Sequential::bind`].
#[derive(Clone, Debug)]
pub struct Params {
    vars: Vec<Var>,
    offsets: Vec<usize>,
}

impl Params {
    /// All parameter vars, in [`Sequential::named_params`] order.
    pub fn vars(&self) -> &[Var] {
        &self.vars
    }

    /// The vars of layer `i`, in [`Layer::params`] order.
    pub fn layer(&self, i: usize) -> &[Var] {
        &self.vars[self.offsets[i]..self.offsets[i + 1]]
    }

    /// The gradient of every parameter (in order), `None` where the loss does
    /// not depend on it or the parameters were bound frozen.
    pub fn grads<'g>(&self, grads: &'g Gradients) -> Vec<Option<&'g Tensor>> {
        self.vars.iter().map(|v| grads.get(*v)).collect()
    }
}

/// The result of [`Sequential::forward`].
#[derive(Debug)]
pub struct Forward {
    /// the model's output (logits)
    pub output: Var,
    /// `(layer index, statistics)` of every batch-norm layer run in training;
    /// fold them in with [`Sequential::apply_batch_stats`]
    pub batch_stats: Vec<(usize, BatchStats)>,
}

/// The result of [`Sequential::forward_traced`]: every layer's output and
/// every max-pool's switches.
#[derive(Debug)]
pub struct Trace {
    /// the model's output (the last layer's output)
    pub output: Var,
    /// `outputs[i]` is the output of layer `i`
    pub outputs: Vec<Var>,
    /// `switches[i]` holds layer `i`'s argmax switches when it is a max-pool
    /// (`row * w + col` within its `(n, c)` input plane)
    pub switches: Vec<Option<Arc<Vec<u32>>>>,
    /// as in [`Forward::batch_stats`]
    pub batch_stats: Vec<(usize, BatchStats)>,
}

impl Sequential {
    /// Builds a model named `name` taking per-sample inputs of `input_shape`
    /// (e.g. `[1, 24, 256]`), checking every layer's shape once.
    ///
    /// # Errors
    /// [`NnError::LayerShape`] naming the first layer that cannot take its
    /// input, with the shape it got; [`NnError::DuplicateName`].
    pub fn new(name: &str, input_shape: &[usize], layers: Vec<(String, Layer)>) -> Result<Self, NnError> {
        let mut shapes = Vec::with_capacity(layers.len());
        let mut shape = input_shape.to_vec();
        let mut seen = std::collections::HashSet::new();
        for (index, (lname, layer)) in layers.iter().enumerate() {
            if !seen.insert(lname.as_str()) {
                return Err(NnError::DuplicateName(lname.clone()));
            }
            shape = layer.output_shape(&shape).map_err(|msg| NnError::LayerShape {
                index,
                layer: lname.clone(),
                kind: layer.kind(),
                input: shape.clone(),
                msg,
            })?;
            shapes.push(shape.clone());
        }
        Ok(Self { name: name.to_string(), input_shape: input_shape.to_vec(), layers, shapes })
    }

    /// The model's name (e.g. `rvgg`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Per-sample input shape, e.g. `[1, 24, 256]`.
    pub fn input_shape(&self) -> &[usize] {
        &self.input_shape
    }

    /// Per-sample output shape, e.g. `[2]`.
    pub fn output_shape(&self) -> &[usize] {
        self.shapes.last().map_or(&self.input_shape, |s| s)
    }

    /// The layers with their names, in order.
    pub fn layers(&self) -> &[(String, Layer)] {
        &self.layers
    }

    /// Per-sample output shape of each layer.
    pub fn layer_shapes(&self) -> &[Vec<usize>] {
        &self.shapes
    }

    /// Index of the layer named `name`.
    pub fn layer_index(&self, name: &str) -> Option<usize> {
        self.layers.iter().position(|(n, _)| n == name)
    }

    /// Learnable parameters with their state-dict names, in order.
    pub fn named_params(&self) -> Vec<(String, &Tensor)> {
        self.layers
            .iter()
            .flat_map(|(ln, l)| l.params().into_iter().map(move |(pn, t)| (format!("{ln}.{pn}"), t)))
            .collect()
    }

    /// Learnable parameters, mutable, same order as [`Sequential::named_params`].
    pub fn params_mut(&mut self) -> Vec<&mut Tensor> {
        self.layers.iter_mut().flat_map(|(_, l)| l.params_mut().into_iter().map(|(_, t)| t)).collect()
    }

    /// Learnable parameters with names, mutable.
    pub fn named_params_mut(&mut self) -> Vec<(String, &mut Tensor)> {
        self.layers
            .iter_mut()
            .flat_map(|(ln, l)| {
                let ln = ln.clone();
                l.params_mut().into_iter().map(move |(pn, t)| (format!("{ln}.{pn}"), t))
            })
            .collect()
    }

    /// Float buffers (batch-norm running statistics) with state-dict names.
    pub fn named_buffers(&self) -> Vec<(String, &Tensor)> {
        self.layers
            .iter()
            .flat_map(|(ln, l)| l.buffers().into_iter().map(move |(pn, t)| (format!("{ln}.{pn}"), t)))
            .collect()
    }

    /// Float buffers with names, mutable.
    pub fn named_buffers_mut(&mut self) -> Vec<(String, &mut Tensor)> {
        self.layers
            .iter_mut()
            .flat_map(|(ln, l)| {
                let ln = ln.clone();
                l.buffers_mut().into_iter().map(move |(pn, t)| (format!("{ln}.{pn}"), t))
            })
            .collect()
    }

    /// `num_batches_tracked` counters of the batch-norm layers, with names.
    pub fn named_counters(&self) -> Vec<(String, i64)> {
        self.layers
            .iter()
            .filter_map(|(ln, l)| match l {
                Layer::BatchNorm1d(b) | Layer::BatchNorm2d(b) => {
                    Some((format!("{ln}.num_batches_tracked"), b.num_batches_tracked))
                }
                _ => None,
            })
            .collect()
    }

    /// Sets a batch-norm counter by its state-dict name; false when no such counter.
    pub fn set_counter(&mut self, name: &str, value: i64) -> bool {
        for (ln, l) in &mut self.layers {
            if let Layer::BatchNorm1d(b) | Layer::BatchNorm2d(b) = l {
                if name == format!("{ln}.num_batches_tracked") {
                    b.num_batches_tracked = value;
                    return true;
                }
            }
        }
        false
    }

    /// A plain-text table of the layers: name, kind, per-sample output shape
    /// and parameter count, then the total (like Keras' `summary()`).
    pub fn summary(&self) -> String {
        let mut out = format!("{} (input {:?})\n", self.name, self.input_shape);
        for ((name, layer), shape) in self.layers.iter().zip(&self.shapes) {
            let n: usize = layer.params().iter().map(|(_, t)| t.len()).sum();
            out.push_str(&format!(
                "  {name:<24} {:<12} {:<18} {n:>10}\n",
                layer.kind(),
                format!("{shape:?}")
            ));
        }
        out.push_str(&format!("  total parameters: {}\n", self.num_params()));
        out
    }

    /// Number of learnable scalars (what PyTorch's `sum(p.numel() for p in m.parameters())` counts).
    pub fn num_params(&self) -> usize {
        self.named_params().iter().map(|(_, t)| t.len()).sum()
    }

    /// Puts the parameters on `tape`: as gradient-seeking leaves when
    /// `trainable`, as constants otherwise (weights frozen, e.g. for activation
    /// maximisation, so no weight gradient is computed).
    pub fn bind<'a>(&'a self, tape: &mut Tape<'a>, trainable: bool) -> Params {
        let mut vars = Vec::new();
        let mut offsets = vec![0];
        for (_, layer) in &self.layers {
            for (_, t) in layer.params() {
                vars.push(if trainable { tape.param(t) } else { tape.constant_ref(t) });
            }
            offsets.push(vars.len());
        }
        Params { vars, offsets }
    }

    /// Checks a batch shape `[n, ...input_shape]`.
    ///
    /// # Errors
    /// [`NnError::InputShape`].
    pub fn check_input(&self, shape: &[usize]) -> Result<(), NnError> {
        if shape.len() != self.input_shape.len() + 1 || shape[1..] != self.input_shape[..] || shape[0] == 0 {
            return Err(NnError::InputShape {
                model: self.name.clone(),
                expected: self.input_shape.clone(),
                got: shape.to_vec(),
            });
        }
        Ok(())
    }

    /// Runs the model on the batch `x` (`[n, ...input_shape]`).
    ///
    /// `mode` switches dropout and batch norm; `rng` draws the dropout masks
    /// (untouched in eval mode). `params` come from [`Sequential::bind`] on the
    /// same tape: bound trainable, the backward yields weight gradients; bound
    /// frozen, only the input's (when `x` asked for one).
    ///
    /// # Shapes
    /// `x`: `[n, ...input_shape]` (e.g. `[n, 1, 24, 256]`); output `[n, ...output_shape]`.
    ///
    /// # Errors
    /// [`NnError::InputShape`] when `x` does not have the model's input shape.
    pub fn forward(
        &self,
        tape: &mut Tape<'_>,
        params: &Params,
        x: Var,
        mode: Mode,
        rng: &mut Rng,
    ) -> Result<Forward, NnError> {
        let t = self.run(tape, params, x, mode, rng, false)?;
        Ok(Forward { output: t.output, batch_stats: t.batch_stats })
    }

    /// As [`Sequential::forward`], keeping every layer's output and every
    /// max-pool's switches (what the interpretation methods walk).
    ///
    /// # Shapes
    /// `outputs[i]` is `[n, ...layer_shapes()[i]]`; a max-pool's switches hold
    /// one `u32` per output element, in the output's NCHW order.
    ///
    /// # Errors
    /// [`NnError::InputShape`] when `x` does not have the model's input shape.
    pub fn forward_traced(
        &self,
        tape: &mut Tape<'_>,
        params: &Params,
        x: Var,
        mode: Mode,
        rng: &mut Rng,
    ) -> Result<Trace, NnError> {
        self.run(tape, params, x, mode, rng, true)
    }

    /// The one layer loop behind [`Sequential::forward`] and
    /// [`Sequential::forward_traced`]; `trace` asks max-pools for their switches.
    fn run(
        &self,
        tape: &mut Tape<'_>,
        params: &Params,
        x: Var,
        mode: Mode,
        rng: &mut Rng,
        trace: bool,
    ) -> Result<Trace, NnError> {
        self.check_input(tape.shape(x))?;
        let mut y = x;
        let mut outputs = Vec::with_capacity(self.layers.len());
        let mut switches = Vec::with_capacity(self.layers.len());
        let mut batch_stats = Vec::new();
        let mut i = 0;
        while i < self.layers.len() {
            let layer = &self.layers[i].1;
            // Untraced, a convolution and the ReLU after it run as one op
            // (bit-identical); traced, every layer keeps its own output.
            if let (false, Layer::Conv2d(conv), Some((_, Layer::Relu(_)))) =
                (trace, layer, self.layers.get(i + 1))
            {
                y = conv.forward_relu(tape, y, params.layer(i));
                outputs.extend([y, y]);
                switches.extend([None, None]);
                i += 2;
                continue;
            }
            let out = layer.forward(tape, y, params.layer(i), mode, rng, trace);
            if let Some(s) = out.stats {
                batch_stats.push((i, s));
            }
            y = out.y;
            outputs.push(y);
            switches.push(out.switches);
            i += 1;
        }
        Ok(Trace { output: y, outputs, switches, batch_stats })
    }

    /// Folds training batch statistics into the batch-norm running statistics.
    pub fn apply_batch_stats(&mut self, stats: &[(usize, BatchStats)]) {
        for (i, s) in stats {
            if let Some((_, Layer::BatchNorm1d(b) | Layer::BatchNorm2d(b))) = self.layers.get_mut(*i) {
                b.update_running(s);
            }
        }
    }

    /// Convenience for inference: eval-mode logits of `x`, weights frozen, in
    /// fp32 (a [`crate::Predictor`] runs it in another precision).
    ///
    /// The layers run one at a time, each on a tape of its own, so a layer's
    /// input is released (to the engine's buffer pool) as soon as its output
    /// exists: the memory held at any moment is one layer's input and output,
    /// not every activation of the network.
    ///
    /// # Errors
    /// [`NnError::InputShape`].
    pub fn predict(&self, x: &Tensor) -> Result<Tensor, NnError> {
        crate::predictor::Predictor::new(self, Precision::Fp32).predict(x)
    }

    /// Overwrites every convolution and linear parameter with the counter-based
    /// generator of the PyTorch golden files ([`golden_values`]): tensor ids
    /// count the weights and biases of those layers in order from 0, `fan_in`
    /// is the layer's. Batch-norm parameters are left as they are.
    pub fn init_golden(&mut self, seed: u64) {
        let mut id = 0u64;
        for (_, layer) in &mut self.layers {
            if let Layer::Conv2d(_) | Layer::Linear(_) = layer {
                let mut ps = layer.params_mut();
                let fan_in = crate::init::fans(ps[0].1.shape()).0;
                for (_, t) in ps.iter_mut() {
                    let v = golden_values(seed, id, t.len(), fan_in);
                    t.data_mut().copy_from_slice(&v);
                    id += 1;
                }
            }
        }
    }
}

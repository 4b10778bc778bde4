//! # eeglens-nn
//!
//! The network layer of eeglens, on top of `eeglens-autodiff`: layers, the
//! [`Sequential`] model, the model zoo (R-VGG, van Putten, ShallowConvNet,
//! EEGNet), initialisation, optimisers and safetensors checkpoints whose
//! tensor names and layouts follow PyTorch, so weights move both ways.
//!
//! ## Where to start
//! - [`models::build`] with a [`ModelSpec`] for a zoo model, [`Sequential::predict`] for
//!   eval-mode logits ([`Predictor`] for them in bf16 on CPUs with AVX512_BF16),
//!   [`evaluate()`] for the loss and the input gradient too, and the
//!   example at the bottom of this page for a training step with an [`Optimizer`].
//! - [`save_checkpoint`] / [`load_checkpoint`]: weights, model description and optimiser
//!   state in one safetensors file ([`checkpoint`] shows the PyTorch side).
//! - `examples/05_rvgg_checkpoint.rs`
//!   (`cargo run -p eeglens-nn --example 05_rvgg_checkpoint`): R-VGG's layer table, a
//!   forward pass, one Adam step and a checkpoint saved and restored.
//! - The crate's README (what it does and does not do, features, MSRV) has a shorter
//!   forward-and-checkpoint example; it is compiled and run as a doctest.
//!
//! ## Conventions
//! - Inputs are NCHW `f32`: an EEG batch is `[n, 1, n_channels, n_samples]`.
//!   Shapes without the batch dimension are "per-sample" shapes.
//! - Layers live one per file in [`layers`]: a config struct, then
//!   `new(&cfg, &mut rng)` (layers without parameters take no RNG). All
//!   randomness comes from an explicit, seeded [`Rng`].
//! - A [`Sequential`] checks every layer's shape once, when it is built;
//!   errors name the layer and the shapes.
//! - Train and eval mode ([`Mode`]) and the dropout RNG are arguments of
//!   every forward, never hidden state. Batch-norm statistics of a training
//!   forward are returned and folded in with [`Sequential::apply_batch_stats`].
//! - Parameter names are PyTorch state-dict names (`features.0.weight`); the
//!   layouts are PyTorch's (`[out, in, k_h, k_w]`, `[out, in]`).
//!
//! ## Walking a model
//! [`Sequential::layers`] gives `(name, Layer)` pairs; [`Layer`] is an enum,
//! so interpretation code matches on it to get a convolution's weights and
//! geometry ([`layers::Conv2d::geom`]) or a pool's window
//! ([`layers::MaxPool2d::geom`]). [`Sequential::forward_traced`] returns every
//! layer's output and every max-pool's switches.
//!
//! ## Example
//! ```
//! use eeglens_autodiff::{ops, Rng, Tape, Tensor};
//! use eeglens_nn::{models, Mode, ModelSpec, Optimizer, OptimizerConfig};
//!
//! let spec = ModelSpec { n_channels: 8, n_samples: 16, n_classes: 2 };
//! let mut rng = Rng::new(0);
//! let mut model = models::build("rvgg", &spec, &mut rng).unwrap();
//! let mut opt = Optimizer::new(OptimizerConfig::adam(5e-4));
//! let x = Tensor::zeros(&[2, 1, 8, 16]);
//! let grads = {
//!     let mut tape = Tape::new();
//!     let params = model.bind(&mut tape, true);
//!     let xv = tape.constant(x);
//!     let out = model.forward(&mut tape, &params, xv, Mode::Train, &mut rng).unwrap();
//!     let loss = ops::cross_entropy(&mut tape, out.output, &[0, 1], None);
//!     let g = tape.backward(loss);
//!     params.grads(&g).into_iter().map(|g| g.cloned()).collect::<Vec<_>>()
//! };
//! let grads: Vec<Option<&Tensor>> = grads.iter().map(|g| g.as_ref()).collect();
//! opt.step(&mut model.params_mut(), &grads);
//! assert_eq!(opt.steps(), 1);
//! ```
#![cfg_attr(doctest, doc = include_str!("../README.md"))]
#![warn(missing_docs)]

pub mod bench;
pub mod checkpoint;
pub mod error;
pub mod evaluate;
pub mod init;
pub mod layers;
pub mod models;
pub mod optim;
pub mod predictor;
pub mod sequential;
pub mod tensor_file;

pub use checkpoint::{
    load_checkpoint, load_optimizer, load_weights, model_for_weights, read_meta, save_checkpoint,
    CheckpointMeta,
};
pub use eeglens_autodiff::kernels::Precision;
pub use eeglens_autodiff::Rng;
pub use error::NnError;
pub use evaluate::{evaluate, softmax_rows, Evaluation};
pub use init::Init;
pub use layers::{Layer, Mode};
pub use models::ModelSpec;
pub use optim::{Optimizer, OptimizerConfig, OptimizerKind, Schedule};
pub use predictor::Predictor;
pub use sequential::{Forward, Params, Sequential, Trace};
pub use tensor_file::{read_tensor_file, write_tensor_file, IntTensor, TensorFile};

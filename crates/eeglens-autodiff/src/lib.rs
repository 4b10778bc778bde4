//! # eeglens-autodiff
//!
//! A small define-by-run, reverse-mode automatic differentiation engine for
//! convolutional networks on the CPU.
//!
//! Conventions:
//! - [`Tensor`]s are contiguous `f32`, row-major; images are NCHW.
//! - A [`Tape`] records ops as they run; a [`Var`] is a `Copy` index into it.
//! - [`Tape::backward`] returns the gradient of every leaf that asked for one:
//!   parameters ([`Tape::param`]) and inputs ([`Tape::input_with_grad`]).
//! - Each op lives in one file of [`ops`], forward and backward side by side.
//! - The hot loops are plain functions over slices in [`kernels`], with no
//!   autodiff types, so they can be benchmarked alone and reused.
//! - Randomness (dropout) comes from an explicit, seeded [`Rng`].
//! - [`gradcheck`] checks any op's backward against central differences.
//! - Large buffers are recycled through [`pool`], so a loop that builds the
//!   same tensors every step does not map fresh memory every step.
//!
//! This crate is on the ground floor of the workspace: it imports no other
//! eeglens crate.
//!
//! ## Where to start
//! - Make a [`Tape`], put weights on it with [`Tape::param`] and data with
//!   [`Tape::constant`] (or [`Tape::input_with_grad`] to get the input's
//!   gradient too), call functions of [`ops`], then [`Tape::backward`] on the
//!   loss and read [`Gradients::get`].
//! - `examples/03_graph_gradients.rs`
//!   (`cargo run -p eeglens-autodiff --example 03_graph_gradients`): a small
//!   convolutional graph, every parameter's gradient and the input's, checked
//!   with [`gradcheck`].
//! - `examples/04_train_on_tape.rs`
//!   (`cargo run -p eeglens-autodiff --example 04_train_on_tape`): a tiny CNN
//!   trained on fake EEG windows with the tape and a hand-written SGD step.
//! - The crate's README (what it does and does not do, features, MSRV) has a
//!   two-layer network learning XOR; it is compiled and run as a doctest.
#![cfg_attr(doctest, doc = include_str!("../README.md"))]
#![warn(missing_docs)]

pub mod error;
pub mod gradcheck;
pub mod kernels;
pub mod ops;
pub mod pool;
pub mod rng;
pub mod tape;
pub mod tensor;

pub use error::AutodiffError;
pub use rng::Rng;
pub use tape::{Backward, Gradients, NodeTime, Tape, Var};
pub use tensor::Tensor;

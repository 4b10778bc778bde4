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

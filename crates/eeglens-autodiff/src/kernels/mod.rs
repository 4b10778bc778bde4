//! Hot loops as plain functions over slices: im2col + GEMM convolution,
//! pooling with argmax switches, the one GEMM wrapper around matrixmultiply,
//! and unpacked AVX-512 products for im2col tiles and few-row products
//! ([`direct`], with matrixmultiply as its fallback). No autodiff types
//! here, and nothing imported from the rest of the crate, so every kernel can
//! be benchmarked alone and reused (the deconvnet runs them backwards).
//!
//! Conventions shared by every kernel:
//! - Images are NCHW, row-major, contiguous `f32`; conv weights are
//!   `[c_out, c_in / groups, k_h, k_w]`; sizes come from a small `Copy`
//!   geometry ([`Conv2dGeom`], [`Pool2dGeom`]).
//! - Outputs are overwritten, never accumulated into.
//! - Buffer lengths are asserted against the geometry: a wrong size panics
//!   with the kernel's name and the lengths.
//! - The conv kernels take a caller-provided scratch buffer of at least
//!   [`Conv2dGeom::scratch_len`] `f32`s, so the hot path never allocates.
//! - Threads come from the rayon pool the caller runs in (all rayon use is in
//!   `par.rs`); results are deterministic for a given thread count.
//! - [`reference`](mod@reference) holds slow, obviously-correct versions of every kernel,
//!   which the tests compare against.

mod conv;
pub mod direct;
pub mod elementwise;
mod gemm;
mod geom;
mod par;
mod pool;
pub mod reference;

pub use conv::{conv2d_backward_input, conv2d_backward_weight, conv2d_forward, conv2d_forward_relu};
pub use gemm::gemm;
pub use geom::{Conv2dGeom, Pool2dGeom};
pub use pool::{avg_pool2d_backward, avg_pool2d_forward, max_pool2d_backward, max_pool2d_forward};

//! Hot loops as plain functions over slices: convolution (padded in-place
//! read, tiled im2col, col2im), pooling with argmax switches, and the matrix
//! products under them. No autodiff types here, and nothing imported from
//! the rest of the crate, so every kernel can be benchmarked alone and reused
//! (the deconvnet runs them backwards).
//!
//! The products form a one-way graph: two leaves that compute and decide
//! nothing, `sgemm.rs` (the one wrapper around matrixmultiply's packed
//! sgemm) and `avx512.rs` (unpacked AVX-512 kernels, no fallback inside),
//! under one policy layer, `products.rs`, which alone decides which leaf runs
//! for which product, and owns the [`KernelSet`] chosen once per process.
//! The convolutions and [`gemm`] call only the policy layer. A third leaf,
//! `avx512bf16.rs`, holds the bf16 product of inference in
//! [`Precision::Bf16`] ([`conv2d_forward_bf16`]); the policy hands it out
//! only where the CPU has AVX512_BF16, and fp32 runs everywhere else. A
//! fourth, `amx.rs`, runs the same bf16 product on Intel's AMX tiles
//! (`tdpbf16ps`, in inline assembly); the policy prefers it where the CPU
//! has AMX-BF16 and the OS grants the tile state, unless `EEGLENS_NO_AMX`
//! (or `EEGLENS_NO_AVX512`) is set.
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
//!   `par.rs`); results are deterministic for a given thread count and
//!   [`KernelSet`].
//! - [`reference`](mod@reference) holds slow, obviously-correct versions of every kernel,
//!   which the tests compare against, on every kernel set the CPU has
//!   ([`with_kernel_set`]).

mod amx;
mod avx512;
mod avx512bf16;
mod batch_norm;
mod conv;
pub mod elementwise;
mod geom;
mod linear;
mod par;
mod pool;
mod products;
pub mod reference;
mod sgemm;
#[cfg(test)]
mod testing;

pub use batch_norm::{
    batch_norm_apply, batch_norm_backward_input, batch_norm_grad_sums, batch_norm_plane_sums,
};
pub use conv::{
    conv2d_backward_input, conv2d_backward_weight, conv2d_forward, conv2d_forward_bf16, conv2d_forward_relu,
    ConvWeightsBf16,
};
pub use geom::{Conv2dGeom, Pool2dGeom};
pub use linear::{linear_forward_bf16, LinearWeightsBf16};
pub use par::threads;
pub use pool::{avg_pool2d_backward, avg_pool2d_forward, max_pool2d_backward, max_pool2d_forward};
pub use products::{gemm, with_kernel_set, KernelConfig, KernelSet, Precision, NO_AMX_VAR, NO_AVX512_VAR};

//! Hot loops as plain functions over slices: im2col + GEMM convolution,
//! pooling with argmax switches. No autodiff types here.

mod geom;

pub use geom::{Conv2dGeom, Pool2dGeom};

//! Errors of the engine's public API.

use thiserror::Error;

/// What went wrong when building a tensor or an op through the public API.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum AutodiffError {
    /// Data length does not match the shape.
    #[error("tensor of shape {shape:?} needs {} elements, got {len}", shape.iter().product::<usize>())]
    DataLength {
        /// requested shape
        shape: Vec<usize>,
        /// number of elements given
        len: usize,
    },
    /// A reshape between shapes with different element counts.
    #[error("cannot reshape {from:?} into {to:?}: element counts differ")]
    Reshape {
        /// original shape
        from: Vec<usize>,
        /// requested shape
        to: Vec<usize>,
    },
    /// An op was given inputs whose shapes do not fit together.
    #[error("{op}: {msg}")]
    Shape {
        /// the op's name
        op: &'static str,
        /// what does not fit, naming the shapes
        msg: String,
    },
}

//! # eeglens-interpret
//!
//! Reading a trained network: optimal samples per class, activation
//! maximisation, reverse convolution (deconvnet), and the spectral reading
//! (band power contrasts per channel) shared by all three.
#![warn(missing_docs)]

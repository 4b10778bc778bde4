//! # eeglens-nn
//!
//! Layers, `Sequential` models and the model zoo (R-VGG, van Putten, ShallowConvNet,
//! EEGNet) on top of `eeglens-autodiff`, with optimisers and safetensors
//! checkpoints whose tensor names follow PyTorch.
#![warn(missing_docs)]

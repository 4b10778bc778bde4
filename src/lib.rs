//! # eeglens
//!
//! Train convolutional networks on raw EEG and find out what they learned.
//!
//! This facade re-exports the workspace crates under short names so that a
//! program can depend on `eeglens` alone:
//!
//! | module | crate | what it holds |
//! | --- | --- | --- |
//! | [`io`] | `eeglens-io` | recordings, EDF/BDF/BrainVision/EEGLAB, BIDS |
//! | [`dsp`] | `eeglens-dsp` | filters, resampling, Welch PSD |
//! | [`autodiff`] | `eeglens-autodiff` | tensors, the tape, ops and kernels |
//! | [`nn`] | `eeglens-nn` | layers, models, optimisers, checkpoints |
//! | [`data`] | `eeglens-data` | epochs, splits, synthetic EEG |
//! | [`train`] | `eeglens-train` | training loop and metrics |
//! | [`interpret`] | `eeglens-interpret` | optimal samples, activation maximisation, deconvnet |
//! | [`report`] | `eeglens-report` | figures and the HTML report |
#![warn(missing_docs)]

pub use eeglens_autodiff as autodiff;
pub use eeglens_data as data;
pub use eeglens_dsp as dsp;
pub use eeglens_interpret as interpret;
pub use eeglens_io as io;
pub use eeglens_nn as nn;
pub use eeglens_report as report;
pub use eeglens_train as train;

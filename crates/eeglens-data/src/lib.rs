//! # eeglens-data
//!
//! From recordings to labelled epochs: channel selection, filtering, resampling
//! and segmentation of BIDS recordings into 2-second windows, subject-wise
//! splits, the safetensors epoch store, batching, and a synthetic EEG
//! generator with planted, known class effects.
#![warn(missing_docs)]

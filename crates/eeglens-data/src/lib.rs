//! # eeglens-data
//!
//! From recordings to labelled epochs, and synthetic EEG to test it all.
//!
//! - [`store`]: the epoch store, one safetensors file of windows `x [N,C,T]`,
//!   labels, subject ids and splits, memory-mapped when read.
//! - [`split`]: subject-wise, class-stratified train/validation/test splits.
//! - [`synth`]: a realistic synthetic resting-state EEG generator with a
//!   planted class effect of known band, channels and size.
//! - [`toy`]: a tiny store with a planted effect (and optional per-subject
//!   signatures), built in milliseconds, for examples and tests that cannot
//!   wait for `prepare`.
//! - [`prepare`](mod@prepare): from a BIDS dataset to an epoch store, the
//!   preparation of the seed paper's group.
//!
//! ## Where to start
//! - [`prepare::prepare`] with [`prepare::PrepareConfig::new`] (the defaults
//!   of `eeglens prepare`), then [`store::EpochStore::open`] and
//!   [`store::EpochStore::batch`], as below.
//! - [`synth::SynthConfig::hbn24`] and [`synth::write_bids`] for a BIDS
//!   dataset with a known effect; [`toy::toy_set`] for a store in
//!   milliseconds.
//! - `examples/06_synthetic_bids.rs`
//!   (`cargo run -p eeglens-data --example 06_synthetic_bids`): write a
//!   synthetic BIDS folder, prepare it, and read the planted theta back from
//!   the windows channel by channel.
//! - The crate's README (what it does and does not do, features, MSRV) has a
//!   synthesise-and-prepare example; it is compiled and run as a doctest.
//!
//! ```no_run
//! use eeglens_data::store::{EpochStore, Split};
//! let store = EpochStore::open(std::path::Path::new("epochs.safetensors"))?;
//! let train = store.indices(Split::Train);
//! let x = store.batch(&train[..40]); // [40, 1, C, T], the networks' input
//! assert_eq!(x.shape(), &[40, 1, store.n_channels(), store.n_samples()]);
//! # Ok::<(), eeglens_data::DataError>(())
//! ```
#![cfg_attr(doctest, doc = include_str!("../README.md"))]
#![warn(missing_docs)]

pub mod error;
pub mod prepare;
#[cfg(test)]
use eeglens_io::scratch;
pub mod split;
pub mod store;
pub mod synth;
pub mod toy;

pub use error::DataError;

//! # eeglens-interpret
//!
//! Reading a trained network: optimal samples per class, activation
//! maximisation, reverse convolution (deconvnet), and the spectral reading
//! (band power contrasts per channel) shared by all three — the methods of
//! Truong, Makeig & Delorme (2021), one file each:
//!
//! - [`optimal`]: the windows the network assigns each class with the
//!   highest probability (spread over the class's subjects, optionally only
//!   correctly classified ones), and the windows that activate a unit most;
//! - [`actmax`]: gradient ascent on the input (weights frozen, eval mode)
//!   with L2 decay and random circular time shifts; by default the input is
//!   real windows scaled by a gain per channel and band (what is optimised),
//!   or else the samples themselves (optionally 1/f-scaled Fourier
//!   coefficients, smoothing, clipping to the data's range); all restarts of
//!   all classes in one batch;
//! - [`deconv`]: projection of an activation back to the input through the
//!   recorded max-pool switches, rectifiers and transposed filters, reusing
//!   the engine's kernels; guided backpropagation and gradient saliency as
//!   variants;
//! - [`spectral`]: Welch PSD per channel, band power, the class contrast
//!   per band and channel, and its permutation test;
//! - [`folds`]: one reading over the folds of a cross-validation, each
//!   fold's model on its own test subjects, the items pooled;
//! - [`regression`]: a network with one output on a store with a numeric
//!   target (age) read by the same methods, `low` and `high` predictions in
//!   place of two classes, and its own test (the subjects' Pearson r).
//!
//! ## Where to start
//! - [`run`](fn@run) with [`InterpretConfig::default`] (the defaults of `eeglens
//!   interpret`) on a model and an epoch store, then [`write_outputs`]; the
//!   example at the bottom of this page does it on an untrained network,
//!   which is not read.
//! - [`run_folds`] over the folds of a cross-validation (one model and the
//!   store split as its fold, per fold): every subject read once, out of fold.
//! - [`spectral::read`] alone for two groups of windows of your own.
//! - `examples/08_interpret_model.rs`
//!   (`cargo run -p eeglens-interpret --example 08_interpret_model`): a small
//!   R-VGG trained on a toy store with a planted rhythm, and what each of the
//!   three methods reads from it.
//! - The crate's README (what it does and does not do, features, MSRV) has
//!   an example of the spectral reading; it is compiled and run as a doctest.
//!
//! ## Conventions
//! - The model is an [`eeglens_nn::Sequential`] taking `[n, 1, C, T]`
//!   windows and returning one logit per class (or, on a store with a
//!   numeric target, one output: a regression, read as `low` and `high`, see
//!   [`regression`]); the data an [`eeglens_data::store::EpochStore`]. Reading a run directory is the
//!   caller's business (this crate does not know about training).
//! - The contrast is always class 1 over class 0 (`log_ratio > 0`: more
//!   power for the second class). A band's `contrast` is the mean, over
//!   the quarter of the channels where it is largest, of the per-channel
//!   `|log ratio|` beyond that channel's median over the bands (the
//!   band-specific part); a band is significant when
//!   the p-value of its contrast — family-wise over the bands, and no
//!   smaller than the p-value of the network's own discrimination of the
//!   classes — is below `alpha`, and `top_band` is the significant band of
//!   largest contrast; see [`spectral`] for why.
//! - Everything random (restarts, jitter, permutations) comes from
//!   [`InterpretConfig::seed`].
//!
//! ## Example
//! ```
//! use eeglens_autodiff::Rng;
//! use eeglens_data::store::{EpochMeta, EpochSet, EpochStore, Split};
//! use eeglens_dsp::Band;
//! use eeglens_interpret::{run, write_outputs, InterpretConfig, Silent};
//! use eeglens_nn::{models, ModelSpec};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // A small store: 16 windows of 8 channels x 64 samples at 32 Hz, two classes.
//! let (n, c, t) = (16, 8, 64);
//! let mut rng = Rng::new(0);
//! let set = EpochSet {
//!     x: (0..n * c * t).map(|_| rng.normal() as f32).collect(),
//!     n_samples: t,
//!     y: (0..n as u32).map(|i| i % 2).collect(),
//!     subject: (0..n as u32).map(|i| i / 2).collect(),
//!     split: vec![Split::Test; n],
//!     meta: EpochMeta {
//!         channels: (0..c).map(|i| format!("E{i}")).collect(),
//!         fs: 32.0,
//!         classes: vec!["F".into(), "M".into()],
//!         label_column: "sex".into(),
//!         subjects: (0..n / 2).map(|i| format!("{i:03}")).collect(),
//!         settings: serde_json::json!({}),
//!         unit: None,
//!     },
//!     sources: None,
//!     target: None,
//! };
//! let dir = std::env::temp_dir().join(format!("eeglens-interpret-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! # struct Rm(std::path::PathBuf);
//! # impl Drop for Rm {
//! #     fn drop(&mut self) {
//! #         if std::env::var_os("EEGLENS_KEEP_TEST_FILES").is_none() {
//! #             let _ = std::fs::remove_dir_all(&self.0);
//! #         }
//! #     }
//! # }
//! # let _rm = Rm(dir.clone());
//! set.write(&dir.join("epochs.safetensors"))?;
//! let store = EpochStore::open(&dir.join("epochs.safetensors"))?;
//!
//! // An (untrained) R-VGG sized for the windows.
//! let spec = ModelSpec { n_channels: c, n_samples: t, n_classes: 2 };
//! let model = models::build("rvgg", &spec, &mut Rng::new(1))?;
//!
//! let mut cfg = InterpretConfig::default();
//! cfg.k = 4;
//! cfg.actmax.steps = 5;
//! cfg.actmax.restarts = 3;
//! cfg.permutations = 99;
//! cfg.bands = vec![Band::new("delta", 1.0, 4.0)?, Band::new("theta", 4.0, 8.0)?];
//! // An untrained network separates nothing: it learned nothing, and no method reads it.
//! let result = run(&model, &store, &cfg, &mut Silent)?;
//! let json = serde_json::to_value(&result.report)?;
//! assert_eq!(json["classes"], serde_json::json!(["F", "M"]));
//! assert_eq!(json["model"]["learned"], serde_json::json!(false));
//! assert!(json["methods"]["optimal"].is_null());
//! // Read anyway, no band may be claimed.
//! cfg.read_anyway = true;
//! let result = run(&model, &store, &cfg, &mut Silent)?;
//! let json = serde_json::to_value(&result.report)?;
//! assert!(json["methods"]["deconv"]["bands"][1]["p"].is_number());
//! assert!(json["methods"]["optimal"]["top_band"].is_null());
//! write_outputs(&result, &dir.join("out"))?;
//! assert!(dir.join("out/interpret.safetensors").exists());
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok(())
//! # }
//! ```
#![cfg_attr(doctest, doc = include_str!("../README.md"))]
#![warn(missing_docs)]

pub mod actmax;
pub mod agreement;
pub mod config;
pub mod deconv;
pub mod error;
pub mod folds;
pub mod optimal;
pub mod ordered;
pub mod regression;
pub mod result;
mod run;
#[cfg(test)]
use eeglens_io::scratch;
pub mod spectral;
pub mod walk;

pub use agreement::{agreement, Agreement};
pub use config::{
    ActmaxConfig, BackRule, ClassObjective, DeconvConfig, DeconvSeed, InterpretConfig, Keep, Method,
    Parameterisation, UnitRef,
};
pub use error::InterpretError;
pub use folds::{run_folds, FoldModel};
pub use ordered::Ordered;
pub use regression::{NumericReport, OutputScale, RegressionDiscrimination};
pub use result::{write_outputs, InterpretResult, Report, Saved};
pub use run::{run, Progress, Silent};
pub use spectral::{BandContrast, Items, Reading};

//! # eeglens-train
//!
//! Trains any zoo model of `eeglens-nn` on an epoch store of `eeglens-data`
//! and evaluates it the way the seed paper's group reports results: per
//! 2-second window and per subject.
//!
//! - [`train()`] / [`train_with`]: seeded shuffling, mini-batches, optional
//!   class-balanced sampling, the optimisers and schedules of eeglens-nn,
//!   validation after every epoch, early stopping on a validation figure,
//!   best and last checkpoints, a guard against non-finite losses, a stop
//!   flag (Ctrl-C) and exact resumption ([`RunOptions::resume`]).
//! - [`metrics`]: loss, accuracy, balanced accuracy, ROC AUC, confusion, and
//!   per-subject figures from averaged window probabilities and majority vote.
//! - [`RunDir`]: the run directory (`config.json`, `metrics.jsonl`,
//!   `checkpoint-best.safetensors`, `checkpoint-last.safetensors`,
//!   `eval-test.json`); see [`run_dir`] for the files.
//! - [`evaluate_split`]: a run's best model on a split, as an [`EvalReport`]
//!   (the JSON of `eeglens eval`, with per-subject details and per-window
//!   probabilities).
//! - [`regression`]: a numeric target (`prepare --target numeric`): one
//!   output, the MSE of the target standardised with the training split's
//!   mean and SD, MAE/RMSE/R²/Pearson r per window and per subject, and the
//!   t-test of the subjects' r that replaces the chance verdict.
//! - [`select`]: model selection on the validation split ([`train_selected`],
//!   the `auto` model of the command line): several zoo models trained on
//!   the same store, the one with the best validation figure kept.
//! - [`folds`]: subject-wise k-fold cross-validation: each fold a run that
//!   records its subjects' roles ([`folds::Fold`], re-splitting the store),
//!   and the summary over folds (mean, SD, 95% t-interval, pooled).
//! - [`toy`]: a tiny store with a planted effect (and optional per-subject
//!   signatures), for examples and tests that cannot wait for `prepare`;
//!   it lives in `eeglens-data` ([`eeglens_data::toy`]) and is re-exported here.
//!
//! ## Where to start
//! - [`TrainConfig::default`] (the command line's recipe), then [`train()`]
//!   into a run directory, as in the example below; [`RunDir::open`] reads a
//!   run back and [`evaluate_split`] scores its best model on any split.
//! - [`baseline()`] and [`chance`] for what the network is measured against.
//! - `examples/07_train_run.rs`
//!   (`cargo run -p eeglens-train --example 07_train_run`): R-VGG on a toy
//!   store, each epoch, the baseline, the test figures, the chance verdict
//!   and the files of the run directory.
//! - The crate's README (what it does and does not do, features, MSRV) has a
//!   shorter example; it is compiled and run as a doctest.
//!
//! ## Conventions
//! - A store's windows `[N, C, T]` enter the network as `[batch, 1, C, T]`.
//! - [`TrainConfig::default`] is the command line's defaults: ShallowConvNet ([`DEFAULT_MODEL`], chosen by the validation grid), batch
//!   40, Adam with lr 5e-4 and betas 0.9/0.99 (the seed group's MATLAB demo);
//!   `optimizer: Adamax, lr: 0.002, weight_decay: 0.001` is their PyTorch setting.
//!   `init` re-draws the convolution and linear weights (e.g. He-normal)
//!   instead of the zoo's PyTorch default.
//! - Determinism: with one thread, the same seed gives bit-identical weights
//!   and metrics, also across an interruption and `--resume`; with more
//!   threads, runs with the same thread count are identical and different
//!   counts agree within rounding (see [`mod@train`]).
//! - Progress is reported through a callback; drawing it is the caller's business.
//!
//! ## Example
//! ```
//! use eeglens_data::store::{EpochStore, Split};
//! use eeglens_train::toy::{toy_set, ToyConfig};
//! use eeglens_train::{evaluate_split, train, Progress, RunDir, TrainConfig};
//!
//! let dir = std::env::temp_dir().join(format!("eeglens-train-doc-{}", std::process::id()));
//! let _ = std::fs::remove_dir_all(&dir);
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
//! let data = dir.join("epochs.safetensors");
//! toy_set(&ToyConfig { subjects: [4, 2, 2], windows: 4, ..ToyConfig::default() }).write(&data)?;
//! let store = EpochStore::open(&data)?;
//!
//! let cfg = TrainConfig { model: "rvgg".into(), epochs: 1, threads: Some(1), ..TrainConfig::default() };
//! let summary = train(&cfg, &store, &dir.join("run"), &mut |p| {
//!     if let Progress::Epoch(r) = p {
//!         println!("epoch {}: train loss {:.3}, val accuracy {:?}", r.epoch, r.train_loss, r.val_accuracy);
//!     }
//! })?;
//! assert_eq!(summary.records.len(), 1);
//!
//! let run = RunDir::open(&dir.join("run"))?;
//! let report = evaluate_split(&run, &store, Split::Test)?;
//! assert_eq!((report.n_windows, report.n_subjects), (8, 2));
//! println!("test: {:.2} per window, {:.2} per subject", report.accuracy, report.subject_accuracy);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![cfg_attr(doctest, doc = include_str!("../README.md"))]
#![warn(missing_docs)]

pub mod baseline;
pub mod chance;
pub mod config;
pub mod data_check;
pub mod error;
pub mod eval;
pub mod folds;
pub mod lock;
pub mod metrics;
pub mod provenance;
pub mod regression;
pub mod run_dir;
#[cfg(test)]
use eeglens_io::scratch;
pub mod select;
pub mod train;

pub use eeglens_data::toy;

pub use baseline::{baseline, BaselineReport};
pub use chance::{BinomialTest, ChanceReport};
pub use config::{model_lr, Monitor, OptimizerName, TrainConfig, DEFAULT_MODEL};
pub use error::TrainError;
pub use eval::{
    evaluate_model, evaluate_model_at, evaluate_split, evaluate_split_at, predict_windows,
    predict_windows_with, report_from_probs, EvalReport,
};
pub use metrics::{ClassMetrics, SubjectResult};
pub use regression::{evaluate_regression, RegressionFigures, RegressionReport, TargetScale};
pub use run_dir::{EpochRecord, RunConfig, RunDir};
pub use select::{train_selected, SelectedSummary, Selection};
pub use train::{train, train_with, Progress, RunOptions, SettingChange, StopReason, TrainSummary};

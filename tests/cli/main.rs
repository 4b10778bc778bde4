//! The whole system through the `eeglens` binary (and, where a test needs a
//! run to read, the libraries it is made of), as one test binary: one link
//! for every end-to-end test instead of one each.
//!
//! [`util`] runs the binary and owns scratch directories; [`support`] builds
//! synthetic data sets and trained runs. Each other module is one area; run
//! one with a filter, e.g. `cargo test --test cli train_pipeline::`.

mod support;
mod util;

mod cli_data;
mod folds_cli;
mod hbn_cli;
mod interpret_cli;
mod interpret_folds_cli;
mod interpret_synthetic;
mod json_cli;
mod nn_bench;
mod nn_forward;
mod outputs_cli;
mod regression_cli;
mod regression_interpret_cli;
mod report_browser;
mod report_cli;
mod run_data_cli;
mod shard_cli;
mod train_cli;
mod train_pipeline;
mod usage_cli;
mod validate_cli;
mod version_cli;

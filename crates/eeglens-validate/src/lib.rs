//! # eeglens-validate
//!
//! The planted-ground-truth grid behind `eeglens validate`: does the whole
//! system — training with its default recipe, then the three interpretation
//! methods and their spectral reading — find an effect where it was
//! planted, and stay silent where nothing was?
//!
//! Each *cell* of a [`GridSpec`] plants one effect (a band, a set of
//! electrodes, a size) in one synthetic data set, or none (a *null* cell),
//! and runs synth -> prepare -> baseline -> train -> interpret in its own
//! directory ([`run_cell`]), recording the baseline's and the network's test
//! accuracy, whether the network `learned` (above chance), and for each
//! method its top band, whether that hits the planted band and where the
//! planted channels rank ([`score()`]). [`summarise`] turns the cells into
//! rates against targets; [`assemble`] checks that cells are one complete
//! grid and builds `validate.json`; [`write_doc`] writes it with
//! `validate.html`.
//!
//! - [`grid`]: the spec, its hash, the cells, the `i/N` partition;
//! - [`cell`]: one cell, its files and `cell.json`;
//! - [`score`](mod@score): band hit and channel ranks of one reading;
//! - [`summary`]: detectability, accuracy, recovery and null-silence rates;
//! - [`merge`]: the output directory, collecting and joining cells;
//! - [`html`]: the page.
//!
//! ## Where to start
//! - [`GridSpec::quick`] or [`GridSpec::full`] (the presets of `eeglens
//!   validate`), then [`run_cell`] for each of [`GridSpec::cells`], then
//!   [`collect`], [`assemble`] and [`write_doc`].
//! - `examples/10_validate_grid.rs`
//!   (`cargo run -p eeglens-validate --example 10_validate_grid`): a two-cell
//!   grid in miniature (one effect, one null) run end to end, each cell's
//!   scores and the merged summary.
//! - The crate's README (what it does and does not do, features, MSRV) has
//!   an example of a grid and its cells; it is compiled and run as a doctest.
//!
//! ## Conventions
//! - Cells are independent: one process per cell (a job array) or all in
//!   one; a cell writes only `OUT/cells/<name>/`, and `cell.json` last, so
//!   a finished cell is never run twice and an interrupted one is redone.
//!   A finished cell counts only for the build that computed it
//!   ([`cell::build_id`]): a rerun with another build refuses it until
//!   `--force` recomputes it, and `--merge` refuses cells of two builds, so
//!   one build's defaults and verdict judge a whole grid.
//! - The network is trained with `TrainConfig::default()` except the
//!   model, the epochs and the seed, so the grid measures the default recipe
//!   as it is when the grid runs (`cell.json` records it).
//! - Interpretation uses fewer activation-maximisation restarts and steps
//!   than `eeglens interpret` to fit the time budget; the settings are part
//!   of the grid and noted in `validate.json`.
//!
//! ## Example
//! ```
//! use eeglens_validate::{grid::partition, GridSpec};
//!
//! let grid = GridSpec::quick("rvgg");
//! grid.validate()?;
//! let cells = grid.cells();
//! assert_eq!(cells.len(), 5); // 3 bands at central electrodes, size 3, and 2 nulls
//! assert_eq!(cells[0].name, "000-theta-central-s3-seed0");
//! assert!(cells[4].is_null());
//! // Task 1 of 2 in a job array runs cells 1 and 3.
//! assert_eq!(partition(cells.len(), 1, 2)?, vec![1, 3]);
//! // Cells merge only with cells of a grid with the same hash.
//! assert_eq!(grid.hash(), GridSpec::quick("rvgg").hash());
//! # Ok::<(), eeglens_validate::ValidateError>(())
//! ```
#![cfg_attr(doctest, doc = include_str!("../README.md"))]
#![warn(missing_docs)]

pub mod cell;
pub mod error;
pub mod grid;
pub mod html;
pub mod merge;
pub mod score;
#[cfg(test)]
use eeglens_io::scratch;
pub mod summary;

pub use cell::{run_cell, CellEvent, CellFile, CellOptions, CellResult, CellRun};
pub use error::ValidateError;
pub use grid::{CellSpec, GridSpec, InterpretSettings, Place, PlantedBand, Recording};
pub use merge::{assemble, claim_out, collect, write_doc, ValidateDoc};
pub use score::{score, MethodScore};
pub use summary::{summarise, Summary};

//! # eeglens-report
//!
//! SVG figures and one self-contained HTML report of a training run and its
//! interpretation: what an EEG researcher looks at — training curves,
//! confusion matrices, EEG traces, channel x time maps, class spectra, band
//! contrasts and scalp maps.
//!
//! What the page says first: a table of contents (every figure is
//! numbered); when the network is not above chance, a box at the top says it
//! learned nothing (with the chance tests) and no method is read; before any
//! network, the data's own class spectra per channel group (mean ± SEM over
//! subjects); the band-power baseline stands beside the network (its ROC
//! curves beside the network's); a parent directory of seed runs gets the
//! agreement across seeds at the top.
//!
//! - [`figures`]: one function per kind of figure, from plain data (slices,
//!   `[channels][time]` matrices, named per-channel values) to an SVG string.
//!   Hand-written SVG: no fonts, no network, deterministic output.
//! - [`ReportInput`] and its parts: what a report shows, built from the
//!   result types of eeglens-train and eeglens-interpret.
//! - [`spectra`]: the data's own class difference before any network, the
//!   test windows' class spectra per channel group (mean ± SEM over subjects).
//! - [`wording`]: what the page says in words (the plain reading, the chance
//!   verdict, the floor under the p-values, the baseline, the seeds), apart
//!   from the markup.
//! - [`render_html`]: the page; [`load_run`] / [`report_for_run`]: from a run
//!   directory (or a parent of seed runs) to `report.html`.
//!
//! ## Where to start
//! - [`report_for_run`] on a run directory that `eeglens train` and
//!   `eeglens interpret` (or [`eeglens_train::train()`] and
//!   [`eeglens_interpret::write_outputs`]) have filled, as in the second
//!   example below.
//! - The functions of [`figures`] for single figures in your own pages, as in
//!   the first example.
//! - `examples/09_report.rs` (`cargo run -p eeglens-report --example
//!   09_report`): train, interpret and report a small model on a toy store;
//!   pass a directory to keep `report.html`.
//! - The crate's README (what it does and does not do, features, MSRV) has an
//!   example with two figures; it is compiled and run as a doctest.
//!
//! ## Conventions
//! - Every figure has a fixed `viewBox`; data are mapped into its plot area
//!   and clamped there, non-finite values are left out (never written).
//! - Contrasts are class 1 over class 0, as in eeglens-interpret: red means
//!   more power (or a larger value) for class 1, blue for class 0.
//! - Scalp maps use the 2D electrode projection of [`eeglens_io::montage`]
//!   (Cz at the centre, the Fpz–T7–Oz–T8 ring at radius 1, nose up) and
//!   interpolate on the sphere by spherical splines ([`figures::ScalpLayout`]).
//!   Names never cover a map's extremes: the channels of largest |value| are
//!   named outside the head, every electrode's name and value show on hover.
//! - The page makes no external request: inline CSS and SVG, and an inline
//!   script that only records each figure's rendered size (for browser tests).
//!
//! ## Example
//! ```
//! use eeglens_report::figures::{scalp_map, TopoPoint};
//! use eeglens_io::montage::position;
//!
//! let points: Vec<TopoPoint> = [("Fz", 0.4), ("Cz", 0.3), ("Pz", -0.1), ("Oz", -0.2)]
//!     .iter()
//!     .map(|&(name, value)| {
//!         let [x, y] = position(name).expect("a standard electrode").xy();
//!         TopoPoint { name: name.into(), x, y, value }
//!     })
//!     .collect();
//! let svg = scalp_map("theta contrast", &points, "ln ratio");
//! assert!(svg.starts_with("<svg") && svg.contains(">Fz</text>"));
//! ```
//! A whole report of a run directory (after `eeglens train` and `eeglens interpret`):
//! ```no_run
//! let path = eeglens_report::report_for_run(std::path::Path::new("runs/demo"), None)?;
//! println!("{}", path.display());
//! # Ok::<(), eeglens_report::ReportError>(())
//! ```
#![cfg_attr(doctest, doc = include_str!("../README.md"))]
#![warn(missing_docs)]

pub mod error;
pub mod figures;
pub mod html;
pub mod input;
pub mod run;
pub mod spectra;
pub mod svg;
pub mod wording;

pub use error::{MapError, ReportError};
pub use html::{render, render_html, Rendered};
pub use input::{
    DatasetSummary, Example, Folds, Interpretation, LayerSummary, MissingPart, ModelSummary, ReportInput,
    Seeds, SplitSummary,
};
pub use run::{load_run, report_for_run, report_for_run_with, AGREEMENT_FILE, INTERPRET_DIR, REPORT_FILE};
pub use wording::plain_reading;

//! # eeglens-report
//!
//! SVG figures and a single self-contained HTML report of a training run and
//! its interpretation.
#![warn(missing_docs)]

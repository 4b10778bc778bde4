//! # eeglens-train
//!
//! The training loop (seeded shuffling, mini-batches, validation, early
//! stopping, resumable run directories) and classification metrics per window
//! and per subject.
#![warn(missing_docs)]

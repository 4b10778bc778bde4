//! # eeglens-io
//!
//! The door through which EEG enters eeglens: the [`Recording`] type (channels,
//! sampling rates, data in microvolts, annotations), readers and writers for
//! EDF/EDF+ and BDF/BDF+, readers for BrainVision and EEGLAB `.set`/`.fdt`,
//! a BIDS dataset scanner and standard montages.
//!
//! This crate is on the ground floor of the workspace: it imports no other
//! eeglens crate.
#![warn(missing_docs)]

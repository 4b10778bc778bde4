//! # eeglens-dsp
//!
//! Signal processing for EEG on plain arrays: zero-phase Butterworth and FIR
//! filters, notch filters, rational resampling, re-referencing, detrending,
//! Welch power spectral density and band power.
//!
//! This crate is on the ground floor of the workspace: plain slices and
//! `ndarray` arrays in, plain arrays out; it imports no other eeglens crate.
#![warn(missing_docs)]

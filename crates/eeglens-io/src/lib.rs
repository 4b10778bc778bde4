//! # eeglens-io
//!
//! The door through which EEG enters eeglens: the [`Recording`] type (channels,
//! sampling rates, data in microvolts, annotations), readers and writers for
//! EDF/EDF+ and BDF/BDF+, readers for BrainVision and EEGLAB `.set`/`.fdt`, a writer for EEGLAB
//! `.set`/`.fdt` ([`write_eeglab`], on the MAT-file v5 writer [`mat5_write`]),
//! a BIDS dataset scanner and montages (standard 10-20, EGI HydroCel-129).
//! Everything is written from the format specifications; no EEG library is
//! involved.
//!
//! This crate is on the ground floor of the workspace: it imports no other
//! eeglens crate.
//!
//! ## Conventions
//! - [`Recording::data`] is `Vec<Vec<f32>>`, one row per channel, because channels of one file
//!   may have different sampling rates ([`Channel::fs`]). Voltage channels are in µV (their
//!   [`Channel::unit`] reads `uV`); other channels keep their file's physical unit.
//! - Annotation onsets are seconds from the first sample; [`Recording::start`] is the wall-clock
//!   time of that sample, including its sub-second part (EDF+ keeps it in the first data record's
//!   time-keeping annotation).
//! - Annotation signals are never channels.
//! - Problems that do not prevent reading (a malformed annotation, a `-1` record count inferred
//!   from the file size, duplicate channel labels, EDF+C records whose time-keeping annotations do
//!   not follow on) are collected in [`Recording::warnings`]; everything else is an [`IoError`]
//!   naming the file, the field or byte offset, and what was wrong, in one line that quotes at most
//!   60 characters of the file's content, escaped. An error shows its cause in its own message and
//!   has no [`std::error::Error::source`], so printing a chain never repeats it.
//! - Readers open regular files only (a FIFO or device is refused before it is opened), and look
//!   for the files a header names (BrainVision `DataFile`/`MarkerFile`, EEGLAB `.fdt`) in the
//!   header's folder only: `..`, absolute paths and symbolic links that lead out of the folder are
//!   refused.
//!
//! ## Example
//! ```
//! use eeglens_io::{read, write_edf, Channel, ChannelType, EdfWriteOptions, Recording, Format};
//! # fn main() -> Result<(), eeglens_io::IoError> {
//! let mut rec = Recording::new(Format::EdfPlusC);
//! let samples: Vec<f32> = (0..256).map(|i| (i as f32 * 0.1).sin() * 50.0).collect();
//! rec.push_channel(Channel::new("Fp1", ChannelType::Eeg, 128.0), samples.clone());
//! let path = std::env::temp_dir().join(format!("eeglens-io-doc-{}.edf", std::process::id()));
//! write_edf(&path, &rec, &EdfWriteOptions::default())?;
//! let back = read(&path)?;
//! assert_eq!(back.channels[0].name, "Fp1");
//! assert!((back.data[0][10] - samples[10]).abs() < 0.01);
//! # std::fs::remove_file(&path).ok();
//! # Ok(())
//! # }
//! ```
//!
//! ## `eeglens inspect --json`
//! The command line's `inspect` prints one JSON document; docs/json.md in the repository
//! describes every field (schemas `eeglens-inspect/1`, `eeglens-inspect-bids/1`). For a
//! recording:
//! ```text
//! {"schema": "eeglens-inspect/1",
//!  "format": "EDF+C",                    // EDF, EDF+C, EDF+D, BDF, BDF+C, BDF+D, BrainVision, EEGLAB
//!  "start": "2020-01-24T04:05:56.394531", // ISO 8601, sub-second part when known; null when unknown
//!  "duration_s": 698.0,
//!  "subject": {"id": "..", "sex": "F" | null, "birthdate": ".." | null},
//!  "recording_id": "..",
//!  "segments": [{"onset_s": 0.0, "data_offset_s": 0.0, "duration_s": 698.0}],
//!  "channels": [{"name": "Fp1", "type": "EEG", "unit": "uV", "fs": 128.0, "n_samples": 89344,
//!                "bad": false, "first": [..first N samples (--samples N)..], "last": 0.0}],
//!  "annotations": [{"onset_s": 1.9511719, "duration_s": null, "description": "XLSpike"}],
//!  "warnings": ["..."]}
//! ```
//! `type` is one of `EEG`, `EOG`, `ECG`, `EMG`, `STIM`, `MISC`; samples are µV for voltage
//! channels and the channel's own unit otherwise; `onset_s` is seconds from the first sample; an
//! absent duration is `null`; annotation signals are not channels; `last` is the channel's last
//! sample. For a BIDS root (subjects spelt `sub-<label>`, as stores and `eval` spell them):
//! ```text
//! {"schema": "eeglens-inspect-bids/1", "format": "BIDS", "root": "..", "subjects": ["sub-01", ..],
//!  "participants_columns": ["participant_id", ..], "n_participants": 2,
//!  "recordings": [{"path": "sub-01/eeg/..._eeg.edf", "subject": "sub-01", "session": null,
//!                  "task": "RestingState", "run": null, "participant": {"sex": "F", ..}}]}
//! ```
//!
//! ## Where to start
//! - [`read`] / [`read_with`]: any supported file, by extension (`.edf`, `.bdf`, `.vhdr`, `.set`).
//! - [`write_edf`] / [`write_bdf`] with [`EdfWriteOptions`].
//! - [`bids::scan`] for a dataset root, [`bids::BidsRecording::read`] to read one recording with
//!   its sidecars applied.
//! - [`montage`]: the `hbn24` channel set, EGI HydroCel-129 mapping, 10-20 and
//!   HydroCel-129 positions.
//! - [`atomic`]: how every eeglens crate writes a file (temporary, `fsync`, rename, `fsync` of
//!   the directory), so that no failure leaves a torn file under the final name.
//! - `examples/01_read_edf.rs` (`cargo run -p eeglens-io --example 01_read_edf`): write a small
//!   EDF+ file, read it back, print each channel's statistics and the annotations.
//!
//! The crate's README (what it does and does not do, features, MSRV) has a second example; it is
//! compiled and run as a doctest.
#![cfg_attr(doctest, doc = include_str!("../README.md"))]
#![warn(missing_docs)]

pub mod atomic;
pub mod bids;
pub mod brainvision;
pub mod build;
pub mod edf;
pub mod eeglab;
pub mod eeglab_write;
mod error;
mod files;
pub mod mat5;
pub mod mat5_write;
pub mod montage;
mod recording;
#[cfg(any(test, feature = "test-support"))]
pub mod scratch;
pub mod tsv;

use std::path::Path;

pub use brainvision::{read_brainvision, read_brainvision_with};
pub use edf::{read_edf, read_edf_from, read_edf_with, write_bdf, write_edf, EdfWriteOptions};
pub use eeglab::{read_eeglab, read_eeglab_with};
pub use eeglab_write::{write_eeglab, EeglabFiles};
pub use error::IoError;
pub use recording::{
    days_in_month, voltage_scale, Annotation, Channel, ChannelType, DateTime, Format, ReadOptions, Recording,
    Segment, Subject,
};

/// Reads a whole recording, choosing the reader by the file extension (case-insensitive):
/// `.edf`/`.rec` and `.bdf` (EDF family, told apart by the header), `.vhdr` (BrainVision),
/// `.set` (EEGLAB).
///
/// # Errors
/// [`IoError::UnknownFormat`] for other extensions; otherwise the reader's errors.
pub fn read(path: &Path) -> Result<Recording, IoError> {
    read_with(path, &ReadOptions::default())
}

/// Reads the part of a recording that `opts` selects (channels, time range); see [`ReadOptions`].
/// Readers seek to the data they need rather than loading the whole file.
///
/// # Errors
/// As [`read`], plus [`IoError::Selection`] for a channel or time range not in the file.
pub fn read_with(path: &Path, opts: &ReadOptions) -> Result<Recording, IoError> {
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).unwrap_or_default();
    match ext.as_str() {
        "edf" | "bdf" | "rec" => read_edf_with(path, opts),
        "vhdr" => read_brainvision_with(path, opts),
        "set" => read_eeglab_with(path, opts),
        _ => Err(IoError::UnknownFormat { path: path.to_path_buf() }),
    }
}

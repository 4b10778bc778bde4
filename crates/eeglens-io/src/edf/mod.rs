//! EDF, EDF+, BDF and BDF+: read and write.
//!
//! Written from the EDF (1992), EDF+ (2003) and BioSemi BDF specifications. The two families share
//! one fixed-width ASCII header layout; BDF stores 24-bit little-endian samples where EDF stores 16-bit.
//! Annotation signals (`EDF Annotations`, `BDF Annotations`) are decoded into
//! [`crate::Annotation`]s and never appear as channels, also in files whose reserved field does not
//! say EDF+.

pub(crate) mod header;
mod read;
pub(crate) mod tal;
mod write;

pub use read::{read_edf, read_edf_from, read_edf_with};
pub use write::{write_bdf, write_edf, EdfWriteOptions};

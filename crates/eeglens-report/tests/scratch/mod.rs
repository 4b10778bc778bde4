//! Temporary directories of the integration tests, removed when the test ends.
#![allow(unused_imports)] // each test binary uses a different subset

pub use eeglens_io::scratch::Scratch;

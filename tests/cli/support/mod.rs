//! Data sets and runs the tests build with the libraries directly.

pub mod interpret;
pub mod report;

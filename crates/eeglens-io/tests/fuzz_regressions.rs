//! Inputs the fuzz targets (fuzz/) found, kept as regression tests: each must give a result or an
//! error quickly, without a panic or an outsized allocation.

mod common;

use std::path::Path;

use common::fixture;
use eeglens_io::mat5::parse_mat;
use eeglens_io::IoError;

/// A char array whose dimensions claim 3.6e9 rows for a few bytes of data: the row split
/// allocated one String per claimed row.
#[test]
fn mat5_char_rows_oom() {
    let data = std::fs::read(fixture("broken/fuzz", "mat5_char_rows_oom.bin")).expect("fixture");
    let r = parse_mat(Path::new("mat5_char_rows_oom.bin"), &data);
    assert!(matches!(r, Err(IoError::Mat { .. })), "{r:?}");
}

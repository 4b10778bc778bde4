//! Inputs the fuzz targets (fuzz/) found, kept as regression tests: each must give a result or an
//! error quickly, without a panic or an outsized allocation. The inputs are in `fuzz_inputs/`
//! beside this file (small, so these tests also run from the package).

use std::path::Path;

use eeglens_io::mat5::parse_mat;
use eeglens_io::IoError;

/// A char array whose dimensions claim 3.6e9 rows for a few bytes of data: the row split
/// allocated one String per claimed row.
#[test]
fn mat5_char_rows_oom() {
    let data = include_bytes!("fuzz_inputs/mat5_char_rows_oom.bin");
    let r = parse_mat(Path::new("mat5_char_rows_oom.bin"), data);
    assert!(matches!(r, Err(IoError::Mat { .. })), "{r:?}");
}

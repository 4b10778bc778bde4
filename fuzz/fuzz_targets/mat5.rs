//! MAT-file v5 parser (EEGLAB `.set`) on arbitrary bytes, with a valid header prepended half of
//! the time so the element parser is reached.
#![no_main]

use std::path::Path;

use eeglens_io::mat5::parse_mat;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_mat(Path::new("fuzz.set"), data);
    let mut with_header = vec![b' '; 128];
    with_header[124] = 0;
    with_header[125] = 1;
    with_header[126] = b'I';
    with_header[127] = b'M';
    with_header.extend_from_slice(data);
    let _ = parse_mat(Path::new("fuzz.set"), &with_header);
});

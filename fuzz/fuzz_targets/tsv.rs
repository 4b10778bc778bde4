//! BIDS TSV tables on arbitrary bytes.
#![no_main]

use std::path::Path;

use eeglens_io::tsv::Table;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(t) = Table::parse(Path::new("fuzz.tsv"), data) {
        for r in 0..t.rows.len() {
            let _ = t.get(r, "onset");
        }
    }
});

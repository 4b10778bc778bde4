//! EDF/EDF+/BDF/BDF+ reader on arbitrary bytes: whole reads and a subset read must return a
//! recording or an error, never panic.
#![no_main]

use std::io::Cursor;
use std::path::Path;

use eeglens_io::{read_edf_from, ReadOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.edf");
    let _ = read_edf_from(&mut Cursor::new(data), data.len() as u64, path, &ReadOptions::default());
    let subset = ReadOptions { channels: None, start_s: 0.5, duration_s: Some(1.0), header_only: false };
    let _ = read_edf_from(&mut Cursor::new(data), data.len() as u64, path, &subset);
});

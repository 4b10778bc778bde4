//! Broken input: one file in fixtures/broken/ per fault, each with the error it must produce.

mod common;

use common::fixture;
use eeglens_io::{read, IoError};

fn err(name: &str) -> (IoError, String) {
    let e = read(&fixture("broken", name)).expect_err("must fail");
    let msg = e.to_string();
    assert!(msg.contains(name), "message names the file: {msg}");
    (e, msg)
}

fn field_err(name: &str, field: &str, offset: u64) -> String {
    match err(name) {
        (IoError::Field { field: f, offset: o, .. }, msg) => {
            assert_eq!(f, field, "{msg}");
            assert_eq!(o, offset, "{msg}");
            msg
        }
        (e, _) => panic!("{name}: expected a field error, got {e:?}"),
    }
}

#[test]
fn truncated_header() {
    assert!(matches!(err("truncated_header.edf").0, IoError::Truncated { len: 100, .. }));
}

#[test]
fn truncated_signal_header() {
    assert!(matches!(err("truncated_signal_header.edf").0, IoError::Truncated { needed: 512, .. }));
}

#[test]
fn truncated_record() {
    match err("truncated_record.edf").0 {
        IoError::SizeMismatch { expected, actual, .. } => assert_eq!(expected - actual, 5),
        e => panic!("{e:?}"),
    }
}

#[test]
fn record_count_exceeds_file() {
    match err("record_count_exceeds_file.edf").0 {
        IoError::SizeMismatch { expected, actual, what, .. } => {
            assert_eq!((expected, actual), (7 * 16, 3 * 16));
            assert!(what.contains("7"));
        }
        e => panic!("{e:?}"),
    }
}

/// 2048 signals of 2^26 samples per record and 2^26 records: 2^64 bytes of data, which wrapped to
/// 0 and passed the size check; the reader then asked for petabytes and the process aborted.
#[test]
fn record_size_overflow() {
    let msg = field_err("record_size_overflow.edf", "number of data records", 236);
    assert!(msg.contains("67108864") && msg.contains("more bytes than any file holds"), "{msg}");
}

#[test]
fn minus1_records_partial() {
    let msg = field_err("minus1_records_partial.edf", "number of data records", 236);
    assert!(msg.contains("-1"), "{msg}");
}

#[test]
fn samples_per_record_not_a_number() {
    let msg = field_err(
        "samples_per_record_not_a_number.edf",
        "signal 1 number of samples in each data record",
        256 + 16 + 80 + 8 * 5 + 80,
    );
    assert!(msg.contains("12a"), "{msg}");
}

#[test]
fn zero_samples_per_record() {
    field_err(
        "zero_samples_per_record.edf",
        "signal 1 number of samples in each data record",
        256 + 16 + 80 + 8 * 5 + 80,
    );
}

#[test]
fn negative_record_duration() {
    field_err("negative_record_duration.edf", "duration of a data record", 244);
}

#[test]
fn zero_record_duration() {
    field_err("zero_record_duration.edf", "duration of a data record", 244);
}

#[test]
fn impossible_date() {
    let msg = field_err("impossible_date.edf", "start date/time", 168);
    assert!(msg.contains("31.02.20"), "{msg}");
}

#[test]
fn impossible_time() {
    field_err("impossible_time.edf", "start date/time", 168);
}

#[test]
fn header_bytes_wrong() {
    field_err("header_bytes_wrong.edf", "number of bytes in header", 184);
}

#[test]
fn digital_max_below_min() {
    field_err("digital_max_below_min.edf", "signal 1 digital maximum", 256 + 16 + 80 + 8 * 4);
}

#[test]
fn bad_version() {
    field_err("bad_version.edf", "version", 0);
}

#[test]
fn malformed_tal_is_reported_and_skipped_data_still_read() {
    let rec = read(&fixture("broken", "malformed_tal.edf")).expect("data are still read");
    assert_eq!(rec.data[0].len(), 16);
    assert_eq!(rec.annotations.len(), 1);
    assert_eq!(rec.annotations[0].description, "good");
    assert_eq!(rec.warnings.len(), 2, "{:?}", rec.warnings);
    assert!(rec.warnings[0].contains("data record 0"), "{:?}", rec.warnings);
    assert!(rec.warnings[1].contains("duration"), "{:?}", rec.warnings);
}

#[test]
fn every_broken_fixture_has_a_test() {
    // Keep this list in step with the directory: a new fixture without a test fails here.
    let tested = [
        "truncated_header.edf",
        "truncated_signal_header.edf",
        "truncated_record.edf",
        "record_count_exceeds_file.edf",
        "record_size_overflow.edf",
        "minus1_records_partial.edf",
        "samples_per_record_not_a_number.edf",
        "zero_samples_per_record.edf",
        "negative_record_duration.edf",
        "zero_record_duration.edf",
        "impossible_date.edf",
        "impossible_time.edf",
        "header_bytes_wrong.edf",
        "digital_max_below_min.edf",
        "bad_version.edf",
        "malformed_tal.edf",
        // Tested in implausible.rs.
        "record_duration_tiny.edf",
        "record_duration_huge.edf",
        "record_duration_tiny.bdf",
        "sampling_rate_too_high.edf",
        "edfplus_c_tal_backwards.edf",
        "edfplus_c_tal_jump.edf",
        "edfplus_d_tal_overlap.edf",
        "edfplus_tal_onset_huge.edf",
        "duplicate_labels.edf",
    ];
    let dir = fixture("broken", "");
    for entry in std::fs::read_dir(&dir).expect("fixtures/broken") {
        let name = entry.expect("entry").file_name().to_string_lossy().into_owned();
        if name.ends_with(".edf") || name.ends_with(".bdf") {
            // BrainVision and EEGLAB broken files are tested in other_formats.rs.
            assert!(tested.contains(&name.as_str()), "{name} has no test");
        }
    }
}

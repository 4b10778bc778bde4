//! Error messages: each piece (path, OS message) once, 1-based line numbers, and file content quoted
//! short and escaped.

mod common;

use std::error::Error;
use std::path::Path;

use common::fixture;
use eeglens_io::{read, tsv::Table, IoError};

/// The error and every `source()` below it, joined with ": " as a program printing the whole
/// chain does.
fn full_chain(e: &dyn Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        parts.push(s.to_string());
        cur = s.source();
    }
    parts.join(": ")
}

#[test]
fn a_missing_file_names_the_path_and_the_os_message_once() {
    let os = std::fs::metadata("/nonexistent-eeglens/x").expect_err("absent").to_string();
    assert!(!os.is_empty());
    for name in ["x.edf", "x.bdf", "x.vhdr", "x.set"] {
        let path = Path::new("/nonexistent-eeglens").join(name);
        let e = read(&path).expect_err("absent");
        let chain = full_chain(&e);
        assert_eq!(chain.matches(&os).count(), 1, "{chain}");
        assert_eq!(chain.matches(&path.display().to_string()).count(), 1, "{chain}");
    }
    let e = Table::read(Path::new("/nonexistent-eeglens/participants.tsv")).expect_err("absent");
    assert_eq!(full_chain(&e).matches(&os).count(), 1, "{}", full_chain(&e));
}

#[test]
fn no_error_of_the_crate_repeats_its_source() {
    // An error shows its cause in its own message, so it has no `source()` to print again.
    let e = read(Path::new("/nonexistent-eeglens/x.edf")).expect_err("absent");
    assert!(matches!(e, IoError::Os { .. }), "{e:?}");
    assert!(e.source().is_none(), "{e:?}");
    let e = read(&fixture("broken", "bv_missing_eeg.vhdr")).expect_err("missing .eeg");
    assert!(e.source().is_none(), "{e:?}");
}

#[test]
fn binary_read_as_a_brainvision_header_is_quoted_short_and_escaped() {
    let e = read(&fixture("broken", "bv_binary_garbage.vhdr")).expect_err("not a header");
    let msg = e.to_string();
    assert!(matches!(e, IoError::Text { line: 1, .. }), "{msg}");
    assert!(msg.contains("bv_binary_garbage.vhdr") && msg.contains("not a BrainVision header"), "{msg}");
    assert!(msg.chars().all(|c| !c.is_control()), "{msg:?}");
    let quoted = msg.split_once("first line ").map_or("", |(_, q)| q);
    assert!(quoted.contains("more characters"), "{msg}");
    // 60 characters, each escaped to at most 10 (`\u{10ffff}`), plus the quotes and the count.
    assert!(quoted.len() < 60 * 10 + 40, "{} bytes: {msg}", quoted.len());
}

/// Every broken fixture that fails does so in one line, without control characters, without a
/// `line 0`, and without quoting more than a short piece of the file.
#[test]
fn every_broken_file_fails_in_one_short_readable_line() {
    for sub in ["broken", "broken/escape"] {
        for entry in std::fs::read_dir(fixture(sub, "")).expect("fixtures") {
            let path = entry.expect("entry").path();
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            if !["edf", "bdf", "vhdr", "set"].contains(&ext) {
                continue;
            }
            let Err(e) = read(&path) else { continue };
            let msg = e.to_string();
            assert!(msg.chars().all(|c| !c.is_control()), "{msg:?}");
            assert!(!msg.contains("line 0:"), "{msg}");
            let without_paths = msg.replace(&path.display().to_string(), "");
            assert!(without_paths.len() < 700, "{} bytes: {msg}", without_paths.len());
        }
    }
}

#[test]
fn missing_brainvision_entries_point_at_their_section() {
    for (name, line, what) in [
        ("bv_no_sampling_interval.vhdr", 3, "[Common Infos] has no SamplingInterval"),
        ("bv_no_channel_line.vhdr", 14, "[Channel Infos] has no Ch2"),
    ] {
        let e = read(&fixture("broken", name)).expect_err(name);
        let msg = e.to_string();
        assert!(matches!(e, IoError::Text { line: l, .. } if l == line), "{msg}");
        assert!(msg.contains(what) && msg.contains(&format!("line {line}:")), "{msg}");
    }
}

#[test]
fn brainvision_line_numbers_are_one_based_and_count_every_line() {
    let dir = common::tmp_dir("bv-lines");
    let path = dir.join("lines.vhdr");
    // Line 1 the identification, 2 a comment, 3 blank, 4 the section, 5 a bad orientation.
    std::fs::write(
        &path,
        "Brain Vision Data Exchange Header File Version 1.0\r\n; comment\r\n\r\n[Common Infos]\r\n\
         DataOrientation=DIAGONAL\r\nDataFile=lines.eeg\r\n",
    )
    .expect("write");
    let e = read(&path).expect_err("bad orientation");
    assert!(matches!(e, IoError::Text { line: 5, .. }), "{e}");
    // A header without the section at all: the last line, where it would have to be added.
    std::fs::write(&path, "Brain Vision Data Exchange Header File Version 1.0\n\n[Other]\nx=1\n")
        .expect("write");
    let e = read(&path).expect_err("no [Common Infos]");
    assert!(matches!(e, IoError::Text { line: 4, .. }), "{e}");
    assert!(e.to_string().contains("no [Common Infos] section"), "{e}");
}

#[test]
fn a_header_field_of_binary_is_escaped() {
    // An EDF header whose version field holds control bytes: quoted escaped, on one line.
    let mut bytes = std::fs::read(fixture("broken", "bad_version.edf")).expect("fixture");
    bytes[..8].copy_from_slice(b"\x1b[2J\n\r\x07\x01");
    let dir = common::tmp_dir("edf-binary-field");
    let path = dir.join("binary_version.edf");
    std::fs::write(&path, &bytes).expect("write");
    let msg = read(&path).expect_err("bad version").to_string();
    assert!(msg.chars().all(|c| !c.is_control()), "{msg:?}");
    assert!(msg.contains("\\u{1b}[2J"), "{msg}");
}

#[test]
fn a_companion_file_name_of_binary_is_refused_and_quoted_short() {
    let dir = common::tmp_dir("bv-binary-name");
    let path = dir.join("binary_name.vhdr");
    let vhdr = std::fs::read(fixture("broken", "bv_duplicate_labels.vhdr")).expect("fixture");
    let text = String::from_utf8(vhdr).expect("UTF-8");
    for name in ["\u{1b}[2J\u{7}x.eeg".to_string(), "x".repeat(600), "y\u{fffd}".repeat(200)] {
        std::fs::write(&path, text.replace("DataFile=bv_duplicate_labels.eeg", &format!("DataFile={name}")))
            .expect("write");
        let e = read(&path).expect_err("no such data file name");
        let msg = e.to_string();
        assert!(matches!(e, IoError::Text { line: 5, .. }), "{msg}");
        assert!(msg.chars().all(|c| !c.is_control()) && msg.len() < 400, "{msg:?}");
    }
}

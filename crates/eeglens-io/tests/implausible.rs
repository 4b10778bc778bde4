//! Well-formed files that say impossible things: absurd record durations and sampling rates are
//! errors naming the file and the field; time-keeping annotations that contradict an EDF+ header and
//! duplicate channel labels are warnings that name what is wrong.

mod common;

use common::fixture;
use eeglens_io::{read, IoError};

/// The one-line message of a file that must fail, after checking that it names the file and does
/// not print an absurd number in full.
fn message(name: &str) -> (IoError, String) {
    let e = read(&fixture("broken", name)).expect_err("must fail");
    let msg = e.to_string();
    assert!(msg.contains(name), "message names the file: {msg}");
    assert!(!msg.contains('\n'), "one line: {msg}");
    assert!(!msg.contains("00000000000000000000"), "no number printed digit by digit: {msg}");
    (e, msg)
}

#[test]
fn record_durations_of_1e_minus_300_and_1e300_s_are_refused() {
    for name in ["record_duration_tiny.edf", "record_duration_huge.edf", "record_duration_tiny.bdf"] {
        match message(name) {
            (IoError::Field { field, offset, .. }, msg) => {
                assert_eq!((field.as_str(), offset), ("duration of a data record", 244), "{msg}");
                assert!(msg.contains("implausible"), "{msg}");
            }
            (e, _) => panic!("{name}: expected a field error, got {e:?}"),
        }
    }
}

#[test]
fn a_sampling_rate_above_1_mhz_is_refused() {
    match message("sampling_rate_too_high.edf") {
        (IoError::Field { field, .. }, msg) => {
            assert_eq!(field, "signal 1 number of samples in each data record", "{msg}");
            assert!(msg.contains("1e7 Hz") && msg.contains("1e6 Hz"), "{msg}");
        }
        (e, _) => panic!("expected a field error, got {e:?}"),
    }
}

#[test]
fn brainvision_sampling_intervals_of_1e_minus_300_and_1e300_us_are_refused() {
    for name in ["bv_sampling_interval_tiny.vhdr", "bv_sampling_interval_huge.vhdr"] {
        match message(name) {
            (IoError::Text { line, .. }, msg) => {
                assert_eq!(line, 9, "{msg}");
                assert!(msg.contains("SamplingInterval") && msg.contains("sampling rate"), "{msg}");
            }
            (e, _) => panic!("{name}: expected a text error, got {e:?}"),
        }
    }
}

#[test]
fn eeglab_srate_1e300_is_refused() {
    match message("set_srate_huge.set") {
        (IoError::Field { field, .. }, msg) => {
            assert_eq!(field, "EEG.srate", "{msg}");
            assert!(msg.contains("1e300"), "{msg}");
        }
        (e, _) => panic!("expected a field error, got {e:?}"),
    }
}

fn warnings(name: &str) -> Vec<String> {
    read(&fixture("broken", name)).expect("data are still read").warnings
}

#[test]
fn edf_plus_c_records_whose_onsets_run_backwards_or_jump_are_warned_about() {
    for (name, got, expected) in [
        ("edfplus_c_tal_backwards.edf", "starts at 0.5 s", "expected 2 s"),
        ("edfplus_c_tal_jump.edf", "starts at 7 s", "expected 2 s"),
    ] {
        let w = warnings(name);
        let hit: Vec<&String> = w.iter().filter(|w| w.contains("continuous")).collect();
        assert_eq!(hit.len(), 1, "{name}: {w:?}");
        assert!(hit[0].contains("EDF+C") && hit[0].contains("data record 2"), "{}", hit[0]);
        assert!(hit[0].contains(got) && hit[0].contains(expected), "{}", hit[0]);
    }
}

#[test]
fn edf_plus_d_records_that_overlap_are_warned_about() {
    let w = warnings("edfplus_d_tal_overlap.edf");
    assert!(
        w.iter().any(|w| w.contains("EDF+D") && w.contains("overlap") && w.contains("starts at 1.5 s")),
        "{w:?}"
    );
}

#[test]
fn valid_files_get_no_continuity_or_duplicate_warning() {
    let mut seen = 0;
    for sub in ["io", "io/external", "io/brainvision", "io/eeglab"] {
        let Ok(dir) = std::fs::read_dir(fixture(sub, "")) else { continue };
        for entry in dir {
            let path = entry.expect("entry").path();
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
            if !["edf", "bdf", "vhdr", "set"].contains(&ext.as_str()) {
                continue;
            }
            let Ok(rec) = read(&path) else { continue };
            seen += 1;
            assert!(
                rec.warnings.iter().all(|w| !w.contains("continuous")
                    && !w.contains("overlap")
                    && !w.contains("duplicate channel label")),
                "{}: {:?}",
                path.display(),
                rec.warnings
            );
        }
    }
    assert!(seen >= 5, "only {seen} valid fixtures read");
}

#[test]
fn a_first_onset_of_1e300_s_leaves_the_start_unknown() {
    let rec = read(&fixture("broken", "edfplus_tal_onset_huge.edf")).expect("data are still read");
    assert_eq!(rec.start, None);
    assert!(rec.warnings.iter().any(|w| w.contains("1e300 s")), "{:?}", rec.warnings);
    assert!(rec.warnings.iter().all(|w| w.len() < 400), "{:?}", rec.warnings);
}

fn one_duplicate_warning(name: &str, label: &str, numbers: &str) {
    let w = warnings(name);
    let dup: Vec<&String> = w.iter().filter(|w| w.contains("duplicate channel label")).collect();
    assert!(!dup.is_empty(), "{name}: {w:?}");
    assert!(
        dup.iter().any(|w| w.contains(&format!("\"{label}\"")) && w.contains(numbers)),
        "{name}: {dup:?}"
    );
}

#[test]
fn duplicate_channel_labels_are_warned_about_in_every_reader() {
    one_duplicate_warning("duplicate_labels.edf", "Fz", "signals 1 and 3");
    one_duplicate_warning("duplicate_labels.edf", "Cz", "signals 2 and 4");
    one_duplicate_warning("bv_duplicate_labels.vhdr", "Fz", "channels 1 and 3");
    one_duplicate_warning("set_duplicate_labels.set", "Fz", "channels 1 and 3");
}

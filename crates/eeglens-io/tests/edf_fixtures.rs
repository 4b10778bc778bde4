//! EDF/BDF fixtures written independently of our writer (tools/golden/io_make_edf_fixtures.py), read
//! and compared with the values MNE-Python reads from the same files.

mod common;

use approx::assert_relative_eq;
use common::fixture;
use eeglens_io::{read, read_with, ChannelType, Format, ReadOptions};

/// f32 output against f64 reference: relative to the value, plus an absolute floor in µV.
const REL_TOL: f64 = 2e-7;
const ABS_TOL_UV: f64 = 1e-3;

fn golden() -> serde_json::Value {
    let text = std::fs::read_to_string(fixture("io", "edf_golden_mne.json")).expect("golden json");
    serde_json::from_str(&text).expect("valid json")
}

fn compare_with_mne(name: &str) {
    let g = golden();
    let g = &g["files"][name];
    let rec = read(&fixture("io", name)).expect("read");
    let chans = g["channels"].as_object().expect("channels");
    assert!(!chans.is_empty());
    for (label, values) in chans {
        let i = rec.channel_index(label).unwrap_or_else(|| panic!("{label} missing"));
        let values = values.as_array().expect("array");
        assert_eq!(rec.data[i].len(), values.len(), "{label}");
        for (k, (ours, theirs)) in rec.data[i].iter().zip(values).enumerate() {
            let theirs = theirs.as_f64().expect("number");
            assert_relative_eq!(*ours as f64, theirs, epsilon = ABS_TOL_UV, max_relative = REL_TOL);
            let _ = k;
        }
    }
    let anns = g["annotations"].as_array().expect("annotations");
    assert_eq!(rec.annotations.len(), anns.len());
    for (a, b) in rec.annotations.iter().zip(anns) {
        assert_relative_eq!(a.onset_s, b[0].as_f64().expect("onset"), epsilon = 1e-9);
        assert_eq!(a.description, b[2].as_str().expect("text"));
        // MNE reports an absent duration as 0; the file (and we) say absent.
        assert_relative_eq!(a.duration_s.unwrap_or(0.0), b[1].as_f64().expect("duration"), epsilon = 1e-9);
    }
}

#[test]
fn edfplus_mixed_rates_matches_mne() {
    compare_with_mne("edfplus_mixed_rates.edf");
}

#[test]
fn bdfplus_status_matches_mne() {
    compare_with_mne("bdfplus_status.bdf");
}

#[test]
fn plain_edf_with_annotation_signal_matches_mne() {
    compare_with_mne("edf_plain_with_annotation_signal.edf");
}

#[test]
fn edfplus_mixed_rates_details() {
    let rec = read(&fixture("io", "edfplus_mixed_rates.edf")).expect("read");
    assert_eq!(rec.format, Format::EdfPlusC);
    let names: Vec<&str> = rec.channels.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["EEG Fp1", "EEG Cz", "ECG"]);
    assert_eq!(rec.channels[0].fs, 64.0);
    assert_eq!(rec.channels[2].fs, 32.0);
    assert_eq!(rec.channels[2].kind, ChannelType::Ecg);
    assert_eq!(rec.channels[2].unit, "uV", "mV converts to µV");
    // ECG: digital -2048 maps to -5 mV = -5000 µV (first sample of the pattern is the minimum).
    assert_relative_eq!(rec.data[2][0] as f64, -5000.0, epsilon = 1e-3);
    assert_relative_eq!(rec.data[2][1] as f64, 5000.0, epsilon = 1e-3);
    // Inverted gain on Cz: digital minimum is the physical maximum.
    assert_relative_eq!(rec.data[1][0] as f64, 3200.0, epsilon = 1e-3);
    assert_relative_eq!(rec.duration_s(), 2.0);
    assert_eq!(rec.subject.id, "MCH-0234567");
    assert_eq!(rec.subject.sex.as_deref(), Some("F"));
    assert_eq!(rec.subject.name.as_deref(), Some("Haagse_Harry"));
    assert_eq!(rec.annotations[2].description, "µV check");
    assert_eq!(rec.annotations[0].duration_s, None);
    assert_eq!(rec.annotations[3].duration_s, Some(0.0));
}

#[test]
fn start_includes_subsecond_offset_of_first_record_unlike_mne() {
    // The EDF+ spec: the first record's time-keeping TAL (+0.25 here) is the offset of the first
    // sample from the header's start time. MNE 1.13 reports 04:05:56 and drops it.
    let rec = read(&fixture("io", "edfplus_mixed_rates.edf")).expect("read");
    assert_eq!(rec.start.expect("start").to_iso8601(), "2020-01-24T04:05:56.25");
    assert_eq!(golden()["files"]["edfplus_mixed_rates.edf"]["meas_date"], "2020-01-24T04:05:56+00:00");
}

#[test]
fn bdf_status_is_stim_and_values_sign_extended() {
    let rec = read(&fixture("io", "bdfplus_status.bdf")).expect("read");
    assert_eq!(rec.format, Format::BdfPlusC);
    assert_eq!(rec.channels[2].kind, ChannelType::Stim);
    assert_eq!(rec.channels[2].unit, "Boolean");
    assert_eq!(rec.data[2][8], 256.0);
    let gain = (262143.0 + 262144.0) / 16777215.0;
    assert_relative_eq!(rec.data[0][0] as f64, -262144.0, epsilon = 1e-2);
    assert_relative_eq!(rec.data[0][1] as f64, 262143.0, epsilon = 1e-2);
    assert!(gain > 0.0);
}

#[test]
fn plain_edf_annotation_signal_is_not_a_channel() {
    let rec = read(&fixture("io", "edf_plain_with_annotation_signal.edf")).expect("read");
    assert_eq!(rec.format, Format::Edf);
    assert_eq!(rec.channels.len(), 1);
    assert_eq!(rec.annotations.len(), 1);
    assert_eq!(rec.annotations[0].description, "blink");
    assert_eq!(rec.start.expect("start").to_iso8601(), "1999-12-31T23:59:59");
}

#[test]
fn edfplus_discontinuous_segments() {
    let rec = read(&fixture("io", "edfplus_discontinuous.edf")).expect("read");
    assert_eq!(rec.format, Format::EdfPlusD);
    assert_eq!(rec.segments.len(), 2);
    assert_relative_eq!(rec.segments[1].onset_s, 5.0);
    assert_relative_eq!(rec.segments[1].data_offset_s, 2.0);
    assert_relative_eq!(rec.segments[1].duration_s, 2.0);
    assert_eq!(rec.data[0].len(), 16);
    assert_relative_eq!(rec.annotations[0].onset_s, 5.5);
}

#[test]
fn minus_one_record_count_inferred_with_warning() {
    let rec = read(&fixture("io", "edf_minus1_records.edf")).expect("read");
    assert_eq!(rec.data[0].len(), 24);
    assert!(rec.warnings.iter().any(|w| w.contains("-1")), "{:?}", rec.warnings);
}

#[test]
fn header_only_reads_no_samples_but_annotations() {
    let opts = ReadOptions { header_only: true, ..ReadOptions::default() };
    let rec = read_with(&fixture("io", "edfplus_mixed_rates.edf"), &opts).expect("read");
    assert!(rec.data.iter().all(Vec::is_empty));
    assert_eq!(rec.annotations.len(), 4);
}

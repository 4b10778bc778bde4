//! BrainVision and EEGLAB files written by other software (pybv, eeglabio, scipy.io.savemat) or
//! by hand (tools/golden/io_make_other_fixtures.py), compared with what MNE-Python reads.

mod common;

use approx::assert_relative_eq;
use common::fixture;
use eeglens_io::{read, read_with, ChannelType, Format, IoError, ReadOptions};

/// f32 output against f64 reference.
const REL_TOL: f64 = 1e-6;
const ABS_TOL_UV: f64 = 1e-4;

fn golden(name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(fixture("io", "other_golden_mne.json")).expect("golden json");
    let v: serde_json::Value = serde_json::from_str(&text).expect("valid json");
    v["files"][name].clone()
}

/// Compares samples and annotation onsets/descriptions; durations are compared by the caller.
fn compare_samples(sub: &str, name: &str) -> eeglens_io::Recording {
    let g = golden(name);
    let rec = read(&fixture(sub, name)).expect("read");
    let chans = g["channels"].as_object().expect("channels");
    assert_eq!(rec.channels.len(), chans.len());
    for (label, values) in chans {
        let i =
            rec.channels.iter().position(|c| &c.name == label).unwrap_or_else(|| panic!("{label} missing"));
        let values = values.as_array().expect("array");
        assert_eq!(rec.data[i].len(), values.len(), "{label}");
        for (ours, theirs) in rec.data[i].iter().zip(values) {
            assert_relative_eq!(
                *ours as f64,
                theirs.as_f64().expect("number"),
                epsilon = ABS_TOL_UV,
                max_relative = REL_TOL
            );
        }
    }
    assert_eq!(rec.channels[0].fs, g["sfreq"].as_f64().expect("sfreq"));
    rec
}

fn compare_annotations(rec: &eeglens_io::Recording, name: &str) {
    let g = golden(name);
    let anns = g["annotations"].as_array().expect("annotations");
    assert_eq!(rec.annotations.len(), anns.len(), "{:?}", rec.annotations);
    for (a, b) in rec.annotations.iter().zip(anns) {
        assert_relative_eq!(a.onset_s, b[0].as_f64().expect("onset"), epsilon = 1e-9);
    }
}

#[test]
fn pybv_float32_matches_mne() {
    let rec = compare_samples("io/brainvision", "pybv_float32.vhdr");
    compare_annotations(&rec, "pybv_float32.vhdr");
    assert_eq!(rec.format, Format::BrainVision);
    assert_eq!(rec.annotations[0].description, "Stimulus/S  1");
    assert_eq!(rec.start.expect("start").to_iso8601(), "2021-03-04T05:06:07.123456");
}

#[test]
fn point_markers_have_no_duration_unlike_mne() {
    // A BrainVision marker one data point long is an instant; MNE reports 1/fs.
    let rec = read(&fixture("io/brainvision", "pybv_int16.vhdr")).expect("read");
    assert_eq!(golden("pybv_int16.vhdr")["annotations"][0][1], 0.01);
    assert_eq!(rec.annotations[0].duration_s, None);
}

#[test]
fn pybv_int16_with_resolution_matches_mne() {
    let rec = compare_samples("io/brainvision", "pybv_int16.vhdr");
    compare_annotations(&rec, "pybv_int16.vhdr");
}

#[test]
fn vectorized_int32_per_channel_resolution_and_units() {
    let rec = compare_samples("io/brainvision", "vectorized_int32.vhdr");
    compare_annotations(&rec, "vectorized_int32.vhdr");
    assert_eq!(rec.channels[1].name, "EMG,chin", "\\1 is a comma");
    assert_eq!(rec.channels[1].kind, ChannelType::Emg);
    assert_eq!(rec.channels[0].unit, "uV", "Latin-1 µV");
    assert_eq!(rec.channels[2].unit, "C");
    assert_eq!(rec.channels[2].kind, ChannelType::Misc);
    assert_eq!(rec.start.expect("start").to_iso8601(), "2020-01-24T04:05:56.394531");
    assert_eq!(rec.annotations[1].description, "Comment/eyes,closed");
    assert_relative_eq!(rec.annotations[1].duration_s.expect("5 points"), 0.01);
}

#[test]
fn brainvision_subset_reads_the_asked_range() {
    let full = read(&fixture("io/brainvision", "vectorized_int32.vhdr")).expect("read");
    let opts = ReadOptions {
        channels: Some(vec!["Temp".into(), "C3".into()]),
        start_s: 0.01,
        duration_s: Some(0.02),
        header_only: false,
    };
    let part = read_with(&fixture("io/brainvision", "vectorized_int32.vhdr"), &opts).expect("read");
    assert_eq!(part.data[1], full.data[0][5..15].to_vec());
    assert_eq!(part.data[0], full.data[2][5..15].to_vec());
    let part = read_with(&fixture("io/brainvision", "pybv_float32.vhdr"), &opts_for("O2")).expect("read");
    let full = read(&fixture("io/brainvision", "pybv_float32.vhdr")).expect("read");
    assert_eq!(part.data[0], full.data[2][100..150].to_vec());
}

fn opts_for(ch: &str) -> ReadOptions {
    ReadOptions { channels: Some(vec![ch.into()]), start_s: 1.0, duration_s: Some(0.5), header_only: false }
}

#[test]
fn eeglabio_raw_embedded_matches_mne() {
    let rec = compare_samples("io/eeglab", "eeglabio_raw.set");
    compare_annotations(&rec, "eeglabio_raw.set");
    assert_eq!(rec.format, Format::Eeglab);
    assert_eq!(rec.annotations[1].description, "blink");
    assert_eq!(rec.annotations[1].duration_s, Some(0.5));
    assert_eq!(rec.annotations[0].duration_s, None, "zero-length event");
}

#[test]
fn eeglab_struct_compressed_fdt_with_wrong_name_falls_back_to_stem() {
    let rec = compare_samples("io/eeglab", "struct_fdt.set");
    compare_annotations(&rec, "struct_fdt.set");
    assert_eq!(rec.channels[3].kind, ChannelType::Eog);
    assert_eq!(rec.subject.id, "NDARAA075AMK");
    assert_eq!(rec.start.expect("etc.T0").to_iso8601(), "2019-07-01T13:14:15.5");
    assert_relative_eq!(rec.annotations[1].duration_s.expect("10 samples"), 0.1);
}

#[test]
fn numeric_event_type_reads_as_matlab_prints_it_unlike_mne() {
    // EEG.event(2).type is the double 7: MATLAB's num2str gives "7"; MNE gives Python's "7.0".
    let rec = read(&fixture("io/eeglab", "struct_fdt.set")).expect("read");
    assert_eq!(golden("struct_fdt.set")["annotations"][1][2], "7.0");
    assert_eq!(rec.annotations[1].description, "7");
}

#[test]
fn eeglab_epochs_laid_end_to_end() {
    let g = golden("eeglabio_epochs.set");
    let rec = compare_samples("io/eeglab", "eeglabio_epochs.set");
    assert_eq!(rec.segments.len(), g["n_epochs"].as_u64().expect("n") as usize);
    assert_relative_eq!(rec.segments[1].data_offset_s, 0.5);
}

#[test]
fn eeglab_fdt_subset() {
    let full = read(&fixture("io/eeglab", "struct_fdt.set")).expect("read");
    let part = read_with(&fixture("io/eeglab", "struct_fdt.set"), &opts_for("Cz")).expect("read");
    assert_eq!(part.data[0], full.data[2][100..150].to_vec());
}

#[test]
fn broken_bv_missing_eeg() {
    match read(&fixture("broken", "bv_missing_eeg.vhdr")) {
        Err(IoError::MissingFile { missing, .. }) => assert!(missing.ends_with("bv_missing_eeg.eeg")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn broken_bv_size_mismatch() {
    let e = read(&fixture("broken", "bv_size_mismatch.vhdr")).expect_err("30 bytes are not 7 x int16 frames");
    assert!(matches!(e, IoError::SizeMismatch { actual: 30, .. }), "{e}");
    assert!(e.to_string().contains("Int16"), "{e}");
}

#[test]
fn broken_bv_bad_marker_skipped_with_warning() {
    let rec = read(&fixture("broken", "bv_bad_marker.vhdr")).expect("data still read");
    assert_eq!(rec.data[0].len(), 40);
    assert_eq!(rec.annotations.len(), 2);
    assert!(rec.warnings.iter().any(|w| w.contains("Mk4")), "{:?}", rec.warnings);
}

#[test]
fn broken_set_missing_fdt() {
    match read(&fixture("broken", "set_missing_fdt.set")) {
        Err(IoError::MissingFile { missing, referenced_by, .. }) => {
            assert!(missing.ends_with("renamed_elsewhere.fdt"));
            assert!(referenced_by.contains("set_missing_fdt.fdt"), "{referenced_by}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn broken_set_v73_names_version_and_fix() {
    let e = read(&fixture("broken", "set_v73_hdf5.set")).expect_err("HDF5");
    let msg = e.to_string();
    assert!(msg.contains("v7.3") && msg.contains("re-save"), "{msg}");
}

#[test]
fn broken_set_truncated() {
    let e = read(&fixture("broken", "set_truncated.set")).expect_err("truncated");
    assert!(matches!(e, IoError::Mat { .. }), "{e}");
}

#[test]
fn broken_bv_zero_sampling_interval() {
    let e = read(&fixture("broken", "bv_zero_sampling_interval.vhdr")).expect_err("zero interval");
    assert!(matches!(e, IoError::Text { line: 9, .. }), "{e}");
    assert!(e.to_string().contains("SamplingInterval"), "{e}");
}

#[test]
fn broken_set_zero_srate() {
    match read(&fixture("broken", "set_zero_srate.set")) {
        Err(IoError::Field { field, .. }) => assert_eq!(field, "EEG.srate"),
        other => panic!("{other:?}"),
    }
}

/// NumberOfChannels 2^62 with one channel line: the count sized an allocation (a panic), and
/// 2^62 channels of 4 bytes wrap to 0 bytes a frame.
#[test]
fn broken_bv_channel_count_overflow() {
    let e = read(&fixture("broken", "bv_channel_count_overflow.vhdr")).expect_err("2^62 channels");
    assert!(matches!(e, IoError::Text { line: 7, .. }), "{e}");
    assert!(e.to_string().contains("NumberOfChannels 4611686018427387904"), "{e}");
}

/// nbchan 2^20 x pnts 2^39 x trials 8 float32 values are 2^64 bytes, which wrapped to the empty
/// .fdt's 0; the reader then reserved 2^42 samples a channel.
#[test]
fn broken_set_size_overflow() {
    let e = read(&fixture("broken", "set_size_overflow.set")).expect_err("2^62 values");
    assert!(matches!(e, IoError::Field { .. }), "{e}");
    let msg = e.to_string();
    assert!(msg.contains("set_size_overflow.set") && msg.contains("overflows"), "{msg}");
}

//! Files written by other software (fixtures/io/external, see its README), checked against the
//! values their package's tests document and against MNE-Python.

mod common;

use approx::assert_relative_eq;
use common::fixture;
use eeglens_io::{read, Format};

/// f32 output against MNE's f64.
const REL_TOL: f64 = 1e-6;
const ABS_TOL_UV: f64 = 1e-4;

fn golden(name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(fixture("io/external", "external_golden_mne.json")).expect("golden");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    v["files"][name].clone()
}

fn compare(name: &str, channel: &str) -> eeglens_io::Recording {
    let g = golden(name);
    let rec = read(&fixture("io/external", name)).expect("read");
    let i = rec.channel_index(channel).expect("channel");
    let values = g["first64_and_last"][channel].as_array().expect("values");
    assert_eq!(rec.data[i].len() as u64, g["n_times"].as_u64().expect("n"));
    for (k, v) in values[..64].iter().enumerate() {
        assert_relative_eq!(
            rec.data[i][k] as f64,
            v.as_f64().expect("num"),
            epsilon = ABS_TOL_UV,
            max_relative = REL_TOL
        );
    }
    let last = *rec.data[i].last().expect("samples") as f64;
    assert_relative_eq!(
        last,
        values[64].as_f64().expect("num"),
        epsilon = ABS_TOL_UV,
        max_relative = REL_TOL
    );
    rec
}

#[test]
fn pyedflib_subsecond_matches_mne_samples_and_onsets() {
    let rec = compare("test_subsecond.edf", "Fp1");
    assert_eq!(rec.format, Format::EdfPlusC);
    assert_relative_eq!(rec.duration_s(), 698.0);
    assert_eq!(rec.channels[0].fs, 128.0);
    let g = golden("test_subsecond.edf");
    let anns = g["annotations"].as_array().expect("annotations");
    assert_eq!(rec.annotations.len(), anns.len());
    for (a, b) in rec.annotations.iter().zip(anns) {
        // MNE rounds onsets to microseconds.
        assert_relative_eq!(a.onset_s, b[0].as_f64().expect("onset"), epsilon = 1e-6);
        assert_eq!(a.description, b[2].as_str().expect("text"));
        assert_eq!(a.duration_s, None);
    }
    // The TAL holds +2.3457031 and the first record starts at +0.3945312.
    assert_relative_eq!(rec.annotations[0].onset_s, 1.9511719, epsilon = 1e-12);
}

#[test]
fn pyedflib_subsecond_start_per_spec_unlike_mne_and_pyedflib() {
    // MNE drops the record offset; pyedflib's test expects 39453 µs. The file says +0.3945312 s.
    let rec = read(&fixture("io/external", "test_subsecond.edf")).expect("read");
    let start = rec.start.expect("start");
    assert_eq!(start.nanos, 394_531_200);
    assert_eq!(start.to_iso8601(), "2020-01-24T04:05:56.394531");
    assert_eq!(golden("test_subsecond.edf")["meas_date"], "2020-01-24T04:05:56+00:00");
}

#[test]
fn pyedflib_utf8_annotation() {
    let rec = compare("test_utf8.edf", "Fp1");
    // pyedflib's test_read_annotations_utf8: the third annotation.
    assert_eq!(rec.annotations[2].description, "中文测试八个字");
}

#[test]
fn pyedflib_bdf_two_second_records_native_rates() {
    // pyedflib's test_EdfReader_BDF_datarec_2 rates; MNE resamples all channels to 500 Hz,
    // so only the 500-Hz channel is compared sample by sample.
    let rec = compare("test_generator_datarec_generator_2.bdf", "sine 2.5Hz");
    assert_eq!(rec.format, Format::BdfPlusC);
    let rates: Vec<f64> = rec.channels.iter().map(|c| c.fs).collect();
    assert_eq!(rates, [500.0, 400.0, 250.0, 487.5, 499.5]);
    for (c, d) in rec.channels.iter().zip(&rec.data) {
        assert_eq!(d.len(), (c.fs * 30.0) as usize, "{}", c.name);
    }
}

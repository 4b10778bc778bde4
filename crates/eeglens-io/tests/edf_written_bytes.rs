//! The EDF/BDF writer's exact bytes: fixed recordings written with each variant of the format must
//! give the same file, byte for byte, as the writer gave when these digests were recorded. A
//! round trip only checks values within one quantisation step; this catches any change in the
//! header text, the physical ranges, the padding or the annotation layout. The writer's refusals
//! are checked here too, message for message.

mod common;

use std::path::Path;

use eeglens_io::{
    write_edf, Annotation, Channel, ChannelType, DateTime, EdfWriteOptions, Format, IoError, Recording,
    Segment, Subject,
};

fn tmp(name: &str) -> common::Scratch {
    common::tmp_file(&format!("eeglens-io-bytes-{}-{name}", std::process::id()))
}

/// 64-bit FNV-1a: enough to tell two files apart, and no dependency.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

/// A deterministic recording: `fs` per channel, `n` samples each (not always whole records).
fn recording(fs: &[f64], n: &[usize], seed: u64) -> Recording {
    let mut rec = Recording::new(Format::EdfPlusC);
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    for (c, (&f, &len)) in fs.iter().zip(n).enumerate() {
        let data: Vec<f32> = (0..len)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((state >> 33) as f32 / (1u64 << 31) as f32 - 0.5) * 300.0
            })
            .collect();
        rec.push_channel(Channel::new(format!("EEG Ch{c}"), ChannelType::Eeg, f), data);
    }
    rec.start = Some(DateTime { nanos: 394_531_000, ..DateTime::new(2020, 1, 24, 4, 5, 56).expect("valid") });
    rec
}

/// Each case: a name, the recording, the options.
fn cases() -> Vec<(&'static str, Recording, EdfWriteOptions)> {
    let mut out = Vec::new();

    // EDF+C, mixed rates, a padded last record, annotations, a structured subject.
    let mut rec = recording(&[256.0, 128.0, 64.0], &[1000, 500, 250], 1);
    rec.subject = Subject {
        id: "sub-01".into(),
        sex: Some("F".into()),
        birthdate: Some("02-MAR-1951".into()),
        name: Some("Jane Doe".into()),
        raw: String::new(),
    };
    rec.recording_id = "Startdate 24-JAN-2020 EEG-1 tech Nihon Kohden".into();
    rec.annotations = vec![
        Annotation { onset_s: 0.5, duration_s: None, description: "start".into() },
        Annotation {
            onset_s: 1.951_171_9,
            duration_s: Some(0.25),
            description: "eyes closed \u{3bc}".into(),
        },
        Annotation { onset_s: 3.0, duration_s: Some(1.0), description: "late".into() },
    ];
    rec.channels[1].transducer = "AgAgCl electrode".into();
    rec.channels[1].prefilter = "HP:0.1Hz LP:75Hz".into();
    out.push(("edf_plus_mixed", rec.clone(), EdfWriteOptions::edf_plus()));
    out.push(("bdf_plus_mixed", rec.clone(), EdfWriteOptions::bdf_plus()));

    // Plain EDF and BDF: raw patient field, no annotation signal, no start time.
    let mut plain = rec.clone();
    plain.subject.raw = "raw patient field".into();
    plain.start = None;
    plain.recording_id = "plain recording id".into();
    out.push((
        "edf_plain",
        plain.clone(),
        EdfWriteOptions { bdf: false, plus: false, record_duration_s: None },
    ));
    out.push(("bdf_plain", plain, EdfWriteOptions { bdf: true, plus: false, record_duration_s: None }));

    // Kept physical ranges (an inverted one), a non-voltage unit, a constant and an empty channel.
    let mut ranges = recording(&[100.0, 100.0, 100.0, 100.0, 100.0], &[300, 300, 300, 300, 0], 3);
    ranges.channels[0].physical_range = Some((-3276.8, 3276.7));
    ranges.channels[1].physical_range = Some((500.0, -500.0));
    ranges.channels[2].unit = "degC".into();
    ranges.channels[2].physical_range = Some((-1000.0, 1000.0));
    ranges.data[3] = vec![12.5; 300];
    ranges.channels[4].unit = "mV".into();
    ranges.start = None;
    out.push(("edf_plus_ranges", ranges.clone(), EdfWriteOptions::edf_plus()));
    out.push((
        "bdf_plain_ranges_2s",
        ranges,
        EdfWriteOptions { bdf: true, plus: false, record_duration_s: Some(2.0) },
    ));

    // EDF+D and BDF+D: two segments with a gap, an annotation after it.
    let mut disc = recording(&[10.0, 10.0], &[60, 60], 9);
    disc.segments = vec![
        Segment { data_offset_s: 0.0, onset_s: 0.0, duration_s: 2.0 },
        Segment { data_offset_s: 2.0, onset_s: 10.0, duration_s: 4.0 },
    ];
    disc.annotations = vec![Annotation { onset_s: 11.5, duration_s: None, description: "after gap".into() }];
    for (name, bdf) in [("edf_plus_d", false), ("bdf_plus_d", true)] {
        out.push((name, disc.clone(), EdfWriteOptions { bdf, plus: true, record_duration_s: Some(1.0) }));
    }

    // Slow rates: 2.5 and 0.5 Hz hold whole samples first in 2-s records.
    let slow = recording(&[2.5, 0.5], &[25, 5], 4);
    out.push(("edf_plus_slow", slow, EdfWriteOptions::edf_plus()));
    out
}

/// (name, length, FNV-1a) as written before the writer was split into steps.
const EXPECTED: &[(&str, usize, u64)] = &[
    ("edf_plus_mixed", 5040, 0x78ea_440d_5fe5_df71),
    ("bdf_plus_mixed", 6836, 0xe1a9_d9be_f043_bde9),
    ("edf_plain", 4608, 0xb1d6_fbb8_66ad_c50b),
    ("bdf_plain", 6400, 0xf9a6_75e2_b81f_ee06),
    ("edf_plus_ranges", 4810, 0x064e_e9f1_7b1b_a47f),
    ("bdf_plain_ranges_2s", 7536, 0x5140_dbfd_63ab_bb2b),
    ("edf_plus_d", 1480, 0xaf65_5302_5c8e_0a1f),
    ("bdf_plus_d", 1600, 0x4118_30ec_63cb_1bcd),
    ("edf_plus_slow", 1144, 0x5f61_644f_384d_e679),
];

fn written(name: &str, rec: &Recording, opts: &EdfWriteOptions) -> Vec<u8> {
    let p = tmp(&format!("{name}.{}", if opts.bdf { "bdf" } else { "edf" }));
    write_edf(&p, rec, opts).unwrap_or_else(|e| panic!("{name}: {e}"));
    std::fs::read(&p).expect("read back")
}

#[test]
fn written_bytes_are_unchanged() {
    let got: Vec<(&str, usize, u64)> = cases()
        .iter()
        .map(|(name, rec, opts)| {
            let b = written(name, rec, opts);
            (*name, b.len(), fnv1a(&b))
        })
        .collect();
    for g in &got {
        println!("(\"{}\", {}, 0x{:016x}),", g.0, g.1, g.2);
    }
    assert_eq!(got, EXPECTED);
}

fn refusal(rec: &Recording, opts: &EdfWriteOptions, what: &str) -> String {
    let p: &Path = &tmp("refused.edf");
    match write_edf(p, rec, opts) {
        Err(e @ IoError::InvalidRecording { .. }) => e.to_string(),
        other => panic!("expected InvalidRecording ({what}), got {other:?}"),
    }
}

#[test]
fn refusals_keep_their_messages() {
    let base = recording(&[100.0, 100.0], &[200, 200], 5);
    let opts = EdfWriteOptions::default();
    let p = tmp("refused.edf").display().to_string();
    let check = |rec: &Recording, opts: &EdfWriteOptions, what: &str| {
        let msg = refusal(rec, opts, what);
        assert!(msg.contains(&p) && msg.ends_with(what), "{msg}\nexpected to end with: {what}");
    };

    check(&Recording::new(Format::Edf), &opts, "no channels");
    let mut r = base.clone();
    r.data.pop();
    check(&r, &opts, "2 channels but 1 data rows");
    let mut r = base.clone();
    r.channels[1].fs = 0.0;
    check(&r, &opts, "channel \"EEG Ch1\" has sampling rate 0");
    let mut r = base.clone();
    r.channels[0].name = "a label of 17 byt".into();
    check(&r, &opts, "channel label \"a label of 17 byt\" is longer than 16 bytes");
    check(
        &base,
        &EdfWriteOptions { record_duration_s: Some(0.003), ..opts.clone() },
        "record duration 0.003 s does not hold whole samples of every channel",
    );
    let mut r = base.clone();
    r.channels[1].fs = 1.0 / 3.0;
    check(&r, &opts, "no record duration gives every channel a whole number of samples");
    check(
        &base,
        &EdfWriteOptions { record_duration_s: Some(1.23456789), ..opts.clone() },
        "record duration 1.23456789 s does not hold whole samples of every channel",
    );
    let mut r = recording(&[1.0], &[2], 5);
    r.channels[0].fs = 1.0 / 1.2345678;
    check(
        &r,
        &EdfWriteOptions { record_duration_s: Some(1.2345678), ..opts.clone() },
        "record duration 1.2345678 s does not fit the 8-character field",
    );
    let mut r = base.clone();
    r.data[0][7] = f32::NAN;
    check(&r, &opts, "channel \"EEG Ch0\" holds a non-finite sample");
    let mut r = base.clone();
    r.data[1][3] = 2e8;
    check(&r, &opts, "channel \"EEG Ch1\": maximum 200000000 too large");
    let mut r = base.clone();
    r.data[1][3] = -2e8;
    check(&r, &opts, "channel \"EEG Ch1\": minimum -200000000 too large");
    let mut r = base.clone();
    r.segments = vec![
        Segment { data_offset_s: 0.0, onset_s: 0.0, duration_s: 0.5 },
        Segment { data_offset_s: 0.5, onset_s: 10.0, duration_s: 1.5 },
    ];
    check(&r, &opts, "segment at 0.5 s of data does not start on a 1-s record boundary");
    let mut r = base.clone();
    r.start = Some(DateTime::new(2090, 1, 1, 0, 0, 0).expect("valid"));
    check(&r, &opts, "start year 2090 is outside 1985-2084");
    let mut r = base.clone();
    r.channels[0].unit = "a long unit".into();
    r.channels[0].physical_range = Some((-500.0, 500.0));
    // Units are cut to their field, so a long unit is written, not refused.
    write_edf(&tmp("long-unit.edf"), &r, &opts).expect("long unit");
}

//! Write-then-read round trips for EDF, EDF+, BDF and BDF+.

mod common;

use approx::assert_abs_diff_eq;
use eeglens_io::{
    read, read_with, write_edf, Annotation, Channel, ChannelType, DateTime, EdfWriteOptions, Format,
    ReadOptions, Recording,
};
use proptest::prelude::*;

fn tmp(name: &str) -> common::Scratch {
    common::tmp_file(&format!("eeglens-io-tests-{}-{name}", std::process::id()))
}

fn sample_recording(n_channels: usize, fs: &[f64], seconds: usize, seed: u64) -> Recording {
    let mut rec = Recording::new(Format::EdfPlusC);
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    for c in 0..n_channels {
        let f = fs[c % fs.len()];
        let n = (f * seconds as f64).round() as usize;
        let data: Vec<f32> = (0..n)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((state >> 33) as f32 / (1u64 << 31) as f32 - 0.5) * 200.0
            })
            .collect();
        rec.push_channel(Channel::new(format!("Ch{c}"), ChannelType::Eeg, f), data);
    }
    rec.start = Some(DateTime { nanos: 394_531_000, ..DateTime::new(2020, 1, 24, 4, 5, 56).expect("valid") });
    rec
}

/// One quantisation step of the channel as written: (pmax - pmin) / (dmax - dmin).
fn step(rec: &Recording, c: usize, bdf: bool) -> f64 {
    let (a, b) = rec.channels[c].physical_range.expect("EDF stores a physical range");
    (b - a).abs() / if bdf { 16_777_215.0 } else { 65_535.0 }
}

#[test]
fn edf_plus_keeps_start_subsecond_and_annotations() {
    let mut rec = sample_recording(3, &[128.0], 4, 1);
    rec.annotations = vec![
        Annotation { onset_s: 1.951_171_9, duration_s: None, description: "XLSpike".into() },
        Annotation { onset_s: 2.5, duration_s: Some(0.25), description: "eyes closed \u{3bc}".into() },
    ];
    let p = tmp("plus.edf");
    write_edf(&p, &rec, &EdfWriteOptions::default()).expect("write");
    let back = read(&p).expect("read");
    assert_eq!(back.format, Format::EdfPlusC);
    assert_eq!(back.start.expect("start").to_iso8601(), "2020-01-24T04:05:56.394531");
    assert_eq!(back.annotations.len(), 2);
    assert_abs_diff_eq!(back.annotations[0].onset_s, 1.951_171_9, epsilon = 1e-9);
    assert_eq!(back.annotations[0].duration_s, None);
    assert_eq!(back.annotations[1].duration_s, Some(0.25));
    assert_eq!(back.annotations[1].description, "eyes closed \u{3bc}");
    assert_eq!(back.channels.len(), 3, "the annotation signal is not a channel");
    assert!(back.warnings.is_empty(), "{:?}", back.warnings);
}

#[test]
fn plain_edf_and_bdf_have_no_annotation_signal() {
    for bdf in [false, true] {
        let rec = sample_recording(2, &[100.0], 3, 2);
        let p = tmp(if bdf { "plain.bdf" } else { "plain.edf" });
        write_edf(&p, &rec, &EdfWriteOptions { bdf, plus: false, record_duration_s: None }).expect("write");
        let back = read(&p).expect("read");
        assert_eq!(back.format, if bdf { Format::Bdf } else { Format::Edf });
        assert_eq!(back.start.expect("start").to_iso8601(), "2020-01-24T04:05:56");
        for c in 0..2 {
            let tol = step(&back, c, bdf);
            for (x, y) in rec.data[c].iter().zip(&back.data[c]) {
                assert_abs_diff_eq!(*x as f64, *y as f64, epsilon = tol);
            }
        }
    }
}

#[test]
fn subset_reads_only_the_asked_channels_and_range() {
    let rec = sample_recording(4, &[256.0, 128.0], 10, 3);
    let p = tmp("subset.bdf");
    write_edf(&p, &rec, &EdfWriteOptions::bdf_plus()).expect("write");
    let opts = ReadOptions {
        channels: Some(vec!["Ch3".into(), "Ch0".into()]),
        start_s: 2.5,
        duration_s: Some(3.0),
        header_only: false,
    };
    let part = read_with(&p, &opts).expect("read");
    assert_eq!(part.channels.len(), 2);
    assert_eq!(part.channels[0].name, "Ch3");
    assert_eq!(part.data[0].len(), 3 * 128);
    assert_eq!(part.data[1].len(), 3 * 256);
    let full = read(&p).expect("read");
    assert_eq!(&part.data[0][..], &full.data[3][320..320 + 384]);
    assert_eq!(&part.data[1][..], &full.data[0][640..640 + 768]);
}

#[test]
fn inverted_physical_range_is_honoured() {
    let mut rec = sample_recording(1, &[64.0], 2, 4);
    rec.channels[0].physical_range = Some((500.0, -500.0));
    let p = tmp("inverted.edf");
    write_edf(&p, &rec, &EdfWriteOptions::default()).expect("write");
    let back = read(&p).expect("read");
    assert_eq!(back.channels[0].physical_range, Some((500.0, -500.0)));
    let bytes = std::fs::read(&p).expect("bytes");
    // First sample's digital value: with an inverted gain, positive µV become negative digits.
    let d0 = i16::from_le_bytes([bytes[768], bytes[769]]) as f64;
    let expect = -(rec.data[0][0] as f64) / (1000.0 / 65_535.0) - 0.5;
    assert_abs_diff_eq!(d0, expect, epsilon = 1.0);
    for (x, y) in rec.data[0].iter().zip(&back.data[0]) {
        assert_abs_diff_eq!(*x as f64, *y as f64, epsilon = 1000.0 / 65_535.0);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn roundtrip_within_one_step(
        n_channels in 1usize..6,
        rates in prop::sample::subsequence(vec![1.0f64, 2.0, 10.0, 64.0, 100.0, 128.0, 256.0], 1..3),
        seconds in 1usize..6,
        record_duration in prop::sample::select(vec![None, Some(1.0), Some(2.0)]),
        bdf in any::<bool>(),
        plus in any::<bool>(),
        seed in any::<u64>(),
        anns in prop::collection::vec((0.0f64..5.0, prop::option::of(0.0f64..3.0), "[a-zA-Z0-9 ]{0,12}"), 0..6),
    ) {
        let mut rec = sample_recording(n_channels, &rates, seconds, seed);
        if let Some(d) = record_duration {
            prop_assume!(seconds % (d as usize) == 0);
        }
        let total = seconds as f64;
        rec.annotations = anns
            .iter()
            .filter(|a| a.0 < total)
            .map(|(o, d, t)| Annotation {
                onset_s: (o * 1e4).round() / 1e4,
                duration_s: d.map(|d| (d * 1e3).round() / 1e3),
                description: t.clone(),
            })
            .collect();
        let p = tmp(&format!("prop-{seed}-{n_channels}.{}", if bdf { "bdf" } else { "edf" }));
        write_edf(&p, &rec, &EdfWriteOptions { bdf, plus, record_duration_s: record_duration }).expect("write");
        let back = read(&p).expect("read");
        std::fs::remove_file(&p).ok();
        prop_assert_eq!(back.channels.len(), n_channels);
        for c in 0..n_channels {
            prop_assert_eq!(back.channels[c].fs, rec.channels[c].fs);
            prop_assert_eq!(back.data[c].len(), rec.data[c].len());
            let tol = step(&back, c, bdf) * 1.0001 + 1e-6;
            for (x, y) in rec.data[c].iter().zip(&back.data[c]) {
                prop_assert!((*x as f64 - *y as f64).abs() <= tol, "{} vs {} (step {})", x, y, tol);
            }
        }
        if plus {
            prop_assert_eq!(back.annotations.len(), rec.annotations.len());
            let mut got = back.annotations.clone();
            let mut want = rec.annotations.clone();
            got.sort_by(|a, b| a.onset_s.total_cmp(&b.onset_s).then(a.description.cmp(&b.description)));
            want.sort_by(|a, b| a.onset_s.total_cmp(&b.onset_s).then(a.description.cmp(&b.description)));
            for (g, w) in got.iter().zip(&want) {
                prop_assert!((g.onset_s - w.onset_s).abs() < 1e-6);
                prop_assert_eq!(g.duration_s, w.duration_s);
                prop_assert_eq!(&g.description, &w.description);
            }
        } else {
            prop_assert!(back.annotations.is_empty());
        }
    }
}

#[test]
fn discontinuous_roundtrip_edf_plus_d_and_bdf_plus_d() {
    for bdf in [false, true] {
        let mut rec = sample_recording(2, &[10.0], 6, 9);
        rec.segments = vec![
            eeglens_io::Segment { data_offset_s: 0.0, onset_s: 0.0, duration_s: 2.0 },
            eeglens_io::Segment { data_offset_s: 2.0, onset_s: 10.0, duration_s: 4.0 },
        ];
        rec.annotations =
            vec![Annotation { onset_s: 11.5, duration_s: None, description: "after gap".into() }];
        let p = tmp(if bdf { "disc.bdf" } else { "disc.edf" });
        write_edf(&p, &rec, &EdfWriteOptions { bdf, plus: true, record_duration_s: Some(1.0) })
            .expect("write");
        let back = read(&p).expect("read");
        assert_eq!(back.format, if bdf { Format::BdfPlusD } else { Format::EdfPlusD });
        assert_eq!(back.segments, rec.segments);
        assert_eq!(back.annotations, rec.annotations);
        assert_eq!(back.data[0].len(), 60);
    }
}

#[test]
fn large_file_decoded_on_all_cores_matches() {
    // Over 256 KiB of records per read chunk: the channel-parallel decoder runs.
    let rec = sample_recording(4, &[1000.0, 500.0], 50, 11);
    for bdf in [false, true] {
        let p = tmp(if bdf { "large.bdf" } else { "large.edf" });
        write_edf(&p, &rec, &EdfWriteOptions { bdf, ..EdfWriteOptions::default() }).expect("write");
        assert!(std::fs::metadata(&p).expect("file").len() > 256 << 10);
        let back = read(&p).expect("read");
        std::fs::remove_file(&p).ok();
        for c in 0..4 {
            let tol = step(&back, c, bdf) * 1.0001;
            assert_eq!(back.data[c].len(), rec.data[c].len());
            for (x, y) in rec.data[c].iter().zip(&back.data[c]) {
                assert!((*x as f64 - *y as f64).abs() <= tol, "{x} vs {y}");
            }
        }
    }
}

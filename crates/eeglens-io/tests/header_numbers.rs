//! Random header numbers, per reader: every file built here must give a recording or an error,
//! never a panic, an abort or an allocation the file does not back. Sizes from header fields
//! that overflowed 64 bits used to wrap, pass the size checks and abort the process.
//!
//! The numbers are drawn from small values, the field's largest values and powers of two (the
//! products of powers of two are the ones that wrap to zero).

mod common;

use std::io::Cursor;
use std::path::{Path, PathBuf};

use common::tmp_dir;
use eeglens_io::mat5::parse_mat;
use eeglens_io::{read, read_edf_from, ReadOptions};
use proptest::prelude::*;

/// A number for a header field: small, a power of two, or near the largest the field holds.
fn number(max: u64) -> impl Strategy<Value = u64> {
    let bits = 64 - max.leading_zeros();
    prop_oneof![
        0..16u64,
        (0..bits).prop_map(|b| 1u64 << b),
        (0..bits).prop_map(|b| (1u64 << b).saturating_sub(1)),
        Just(max),
        0..=max,
    ]
}

fn field(s: &str, w: usize) -> Vec<u8> {
    let mut b = s.as_bytes().to_vec();
    b.truncate(w);
    b.resize(w, b' ');
    b
}

/// An EDF (or BDF) file: `ns` signals of `spr` samples per record, `records` records declared,
/// and `data` bytes after the header.
fn edf_bytes(
    bdf: bool,
    ns: u64,
    spr: u64,
    records: i64,
    duration: &str,
    annotation: bool,
    data: usize,
    header_bytes: Option<u64>,
) -> Vec<u8> {
    let mut h = if bdf { b"\xffBIOSEMI".to_vec() } else { field("0", 8) };
    h.extend(field("X X X X", 80));
    h.extend(field("Startdate X X X X", 80));
    h.extend(field("01.01.20", 8));
    h.extend(field("00.00.00", 8));
    h.extend(field(&header_bytes.unwrap_or(256 * (ns + 1)).to_string(), 8));
    h.extend(field(if annotation { "EDF+C" } else { "" }, 44));
    h.extend(field(&records.to_string(), 8));
    h.extend(field(duration, 8));
    h.extend(field(&ns.to_string(), 4));
    let (dmin, dmax) = if bdf { ("-8388608", "8388607") } else { ("-32768", "32767") };
    let label = |i: u64| {
        if annotation && i + 1 == ns {
            if bdf { "BDF Annotations" } else { "EDF Annotations" }.to_string()
        } else {
            format!("S{i}")
        }
    };
    let columns: [(&dyn Fn(u64) -> String, usize); 10] = [
        (&label, 16),
        (&|_| String::new(), 80),
        (&|_| "uV".into(), 8),
        (&|_| "-100".into(), 8),
        (&|_| "100".into(), 8),
        (&|_| dmin.into(), 8),
        (&|_| dmax.into(), 8),
        (&|_| String::new(), 80),
        (&|_| spr.to_string(), 8),
        (&|_| String::new(), 32),
    ];
    for (value, w) in columns {
        for i in 0..ns {
            h.extend(field(&value(i), w));
        }
    }
    h.resize(h.len() + data, 0);
    h
}

/// Reads `bytes` as an EDF file held in memory.
fn read_edf_bytes(bytes: &[u8]) -> Result<eeglens_io::Recording, eeglens_io::IoError> {
    read_edf_from(
        &mut Cursor::new(bytes),
        bytes.len() as u64,
        Path::new("random.edf"),
        &ReadOptions::default(),
    )
}

/// A recording read from `data_bytes` of data holds at most that many samples.
fn assert_backed(rec: &eeglens_io::Recording, data_bytes: usize, bytes_per_sample: usize) {
    let samples: usize = rec.data.iter().map(Vec::len).sum();
    assert!(samples * bytes_per_sample <= data_bytes, "{samples} samples from {data_bytes} bytes");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn edf_header_numbers_give_a_recording_or_an_error(
        bdf in any::<bool>(),
        ns in prop_oneof![1..2100u64, (0..12u32).prop_map(|b| 1u64 << b)],
        spr in number(99_999_999),
        records in prop_oneof![number(99_999_999).prop_map(|r| r as i64), Just(-1i64), -5..0i64],
        duration in prop::sample::select(vec!["1", "0", "0.5", "1e-300", "4e-320", "99999999", "-1"]),
        annotation in any::<bool>(),
        data in prop_oneof![0..64usize, number(4096).prop_map(|d| d as usize)],
        wrong_header_bytes in prop::option::weighted(0.1, number(99_999_999)),
    ) {
        let bytes = edf_bytes(bdf, ns, spr, records, duration, annotation, data, wrong_header_bytes);
        if let Ok(rec) = read_edf_bytes(&bytes) {
            assert_backed(&rec, data, if bdf { 3 } else { 2 });
        }
    }

    /// The fixed header's counts alone, with the rest of the file random.
    #[test]
    fn edf_truncated_or_padded_headers(
        ns in number(9999),
        records in number(99_999_999),
        cut in 0..4096usize,
    ) {
        let mut bytes = edf_bytes(false, ns.min(64), 1, records as i64, "1", false, 0, None);
        bytes[252..256].copy_from_slice(&field(&ns.to_string(), 4));
        let _ = read_edf_bytes(&bytes[..cut.min(bytes.len())]);
    }
}

/// A BrainVision header (and its binary file of `eeg_bytes` bytes) in `dir`.
fn write_brainvision(
    dir: &Path,
    n_declared: u64,
    n_lines: usize,
    format: &str,
    interval: &str,
    eeg_bytes: usize,
) -> PathBuf {
    let vhdr = dir.join("r.vhdr");
    let mut text = String::from(
        "Brain Vision Data Exchange Header File Version 1.0\n[Common Infos]\nDataFile=r.eeg\n\
         DataOrientation=MULTIPLEXED\n",
    );
    text += &format!("NumberOfChannels={n_declared}\nSamplingInterval={interval}\n");
    text += &format!("[Binary Infos]\nBinaryFormat={format}\n[Channel Infos]\n");
    for c in 1..=n_lines {
        text += &format!("Ch{c}=C{c},,0.5,uV\n");
    }
    std::fs::write(&vhdr, text).expect("write vhdr");
    std::fs::write(dir.join("r.eeg"), vec![0u8; eeg_bytes]).expect("write eeg");
    vhdr
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn brainvision_header_numbers_give_a_recording_or_an_error(
        n_declared in number(u64::MAX),
        n_lines in 0..5usize,
        format in prop::sample::select(vec!["INT_16", "UINT_16", "INT_32", "IEEE_FLOAT_32"]),
        interval in prop::sample::select(vec!["4000", "1", "1e-300", "1e300", "0.0001"]),
        eeg_bytes in prop_oneof![0..64usize, number(4096).prop_map(|d| d as usize)],
        duration_s in prop::option::of(prop_oneof![Just(f64::MAX), Just(1e300), 0.0..10.0]),
    ) {
        let dir = tmp_dir("bv-numbers");
        let vhdr = write_brainvision(&dir, n_declared, n_lines, format, interval, eeg_bytes);
        let opts = ReadOptions { duration_s, ..ReadOptions::default() };
        if let Ok(rec) = eeglens_io::read_with(&vhdr, &opts) {
            assert_backed(&rec, eeg_bytes, 2);
        }
    }
}

/// MAT-file v5 element helpers (little-endian).
fn mat_element(ty: u32, data: &[u8]) -> Vec<u8> {
    let mut v = ty.to_le_bytes().to_vec();
    v.extend((data.len() as u32).to_le_bytes());
    v.extend(data);
    v.resize(v.len().div_ceil(8) * 8, 0);
    v
}

fn mat_matrix(name: &str, class: u8, dims: &[i32], content: &[u8]) -> Vec<u8> {
    let mut body = mat_element(6, &[class, 0, 0, 0, 0, 0, 0, 0]);
    body.extend(mat_element(5, &dims.iter().flat_map(|d| d.to_le_bytes()).collect::<Vec<_>>()));
    body.extend(mat_element(1, name.as_bytes()));
    body.extend(content);
    mat_element(14, &body)
}

fn mat_double(name: &str, v: f64) -> Vec<u8> {
    mat_matrix(name, 6, &[1, 1], &mat_element(9, &v.to_le_bytes()))
}

fn mat_file(vars: &[Vec<u8>]) -> Vec<u8> {
    let mut f = vec![b' '; 116];
    f.extend([0u8; 8]);
    f.extend([0, 1, b'I', b'M']);
    for v in vars {
        f.extend(v);
    }
    f
}

/// No channels and many points, with an empty `.fdt` or no embedded values: the header's
/// point count is bounded by nothing in the file, so it is refused before anything is
/// allocated from it (an empty `.fdt` once passed the size check and the reader asked for
/// 1.6e17 floats).
#[test]
fn eeglab_without_channels_but_with_points_is_refused_in_one_line() {
    for fdt in [true, false] {
        let dir = tmp_dir("set-no-channels");
        let mut vars = vec![
            mat_double("srate", 128.0),
            mat_double("nbchan", 0.0),
            mat_double("pnts", 1e12),
            mat_double("trials", 159_741.0),
        ];
        if fdt {
            let name: Vec<u8> = "r.fdt".encode_utf16().flat_map(|c| c.to_le_bytes()).collect();
            vars.push(mat_matrix("data", 4, &[1, 5], &mat_element(4, &name)));
            std::fs::write(dir.join("r.fdt"), b"").expect("write fdt");
        } else {
            vars.push(mat_matrix("data", 7, &[0, 1], &mat_element(7, &[])));
        }
        let set = dir.join("r.set");
        std::fs::write(&set, mat_file(&vars)).expect("write set");
        let msg = read(&set).expect_err("no channels for 1.6e17 points").to_string();
        assert!(msg.contains("r.set") && msg.contains("EEG.nbchan") && !msg.contains('\n'), "{msg}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn eeglab_header_numbers_give_a_recording_or_an_error(
        nbchan in number(1 << 40),
        pnts in number(1 << 40),
        trials in number(1 << 40),
        fdt in any::<bool>(),
        data_values in prop_oneof![0..64usize, number(1024).prop_map(|d| d as usize)],
    ) {
        let dir = tmp_dir("set-numbers");
        let mut vars = vec![
            mat_double("srate", 128.0),
            mat_double("nbchan", nbchan as f64),
            mat_double("pnts", pnts as f64),
            mat_double("trials", trials as f64),
        ];
        if fdt {
            let name: Vec<u8> = "r.fdt".encode_utf16().flat_map(|c| c.to_le_bytes()).collect();
            vars.push(mat_matrix("data", 4, &[1, 5], &mat_element(4, &name)));
            std::fs::write(dir.join("r.fdt"), vec![0u8; 4 * data_values]).expect("write fdt");
        } else {
            let values: Vec<u8> = (0..data_values).flat_map(|i| (i as f32).to_le_bytes()).collect();
            let dims = [data_values.min(i32::MAX as usize) as i32, 1];
            vars.push(mat_matrix("data", 7, &dims, &mat_element(7, &values)));
        }
        let set = dir.join("r.set");
        std::fs::write(&set, mat_file(&vars)).expect("write set");
        if let Ok(rec) = read(&set) {
            assert_backed(&rec, 4 * data_values, 4);
        }
    }

    /// Any dimensions for a matrix of a few values: the MAT-file parser itself.
    #[test]
    fn mat5_dimensions_give_a_value_or_an_error(
        dims in prop::collection::vec(prop_oneof![number(i32::MAX as u64).prop_map(|d| d as i32), any::<i32>()], 0..5),
        class in prop::sample::select(vec![1u8, 2, 4, 6, 7, 9]),
        n_values in 0..16usize,
    ) {
        let values: Vec<u8> = (0..n_values).flat_map(|i| (i as f64).to_le_bytes()).collect();
        let file = mat_file(&[mat_matrix("x", class, &dims, &mat_element(9, &values))]);
        let _ = parse_mat(Path::new("random.mat"), &file);
    }
}

//! MAT-files as MATLAB writes them, not only as SciPy does: character arrays in UTF-16,
//! whole-number doubles stored in small integer types, compressed variables, small data
//! elements, cell and struct arrays, and EEGLAB datasets built from them (the Healthy Brain
//! Network's `.set` files are saved by MATLAB). MATLAB is not needed: the files are written byte
//! by byte below, following MathWorks' "MAT-File Format" (level 5) document. Malformed files
//! must give a one-line error naming the file, never a panic.

mod common;

use std::path::Path;

use eeglens_io::mat5::{parse_mat, MatValue};
use eeglens_io::{read_eeglab, IoError};

/// The level 5 MAT-file writer of the library (MATLAB's choices: small data elements, UTF-16
/// text, whole numbers in small integer types), with the other text encodings MATLAB and other
/// writers use, for the reader's tests.
mod mat {
    pub use eeglens_io::mat5_write::*;

    /// A 1-row char array as MATLAB's `save -v6` writes it: UTF-16 code units as `miUINT16`.
    pub fn char_u16(name: &str, s: &str) -> Vec<u8> {
        let units: Vec<u16> = s.encode_utf16().collect();
        let b: Vec<u8> = units.iter().flat_map(|u| u.to_le_bytes()).collect();
        matrix(name, MX_CHAR, &[usize::from(!units.is_empty()), units.len()], &el(MI_UINT16, &b))
    }

    /// A 1-row char array in UTF-8 (`miUTF8`), dimensions counting characters.
    pub fn char_utf8(name: &str, s: &str) -> Vec<u8> {
        matrix(name, MX_CHAR, &[1, s.chars().count()], &el(MI_UTF8, s.as_bytes()))
    }

    /// A 1-row char array in UTF-32 (`miUTF32`).
    pub fn char_utf32(name: &str, s: &str) -> Vec<u8> {
        let b: Vec<u8> = s.chars().flat_map(|c| (c as u32).to_le_bytes()).collect();
        matrix(name, MX_CHAR, &[1, s.chars().count()], &el(MI_UTF32, &b))
    }
}

use mat::*;

fn parse(bytes: &[u8]) -> Vec<(String, MatValue)> {
    parse_mat(Path::new("matlab.mat"), bytes).unwrap_or_else(|e| panic!("parses: {e}"))
}

fn one(bytes: &[u8]) -> MatValue {
    parse(bytes).remove(0).1
}

/// The error of a malformed file: it names the file and fits on one line.
fn malformed(bytes: &[u8]) -> String {
    let e = parse_mat(Path::new("broken.mat"), bytes).expect_err("malformed");
    let msg = e.to_string();
    assert!(msg.starts_with("broken.mat: ") && !msg.contains('\n'), "{msg}");
    msg
}

#[test]
fn utf16_char_arrays_decode_every_plane() {
    // µ is outside ASCII, the emoji needs a surrogate pair.
    let s = "µV E129 \u{1F9E0}";
    assert_eq!(one(&file(&[char_utf16("s", s)])), MatValue::Char(s.into()));
    assert_eq!(one(&file(&[char_u16("s", s)])), MatValue::Char(s.into()));
    assert_eq!(one(&file(&[char_utf8("s", s)])), MatValue::Char(s.into()));
    assert_eq!(one(&file(&[char_utf32("s", s)])), MatValue::Char(s.into()));
    // Short strings land in small data elements.
    assert_eq!(one(&file(&[char_utf16("s", "Cz")])), MatValue::Char("Cz".into()));
    assert_eq!(one(&file(&[char_utf16("s", "")])), MatValue::Char(String::new()));
}

#[test]
fn whole_number_doubles_stored_as_small_integers_read_as_their_values() {
    let cases: [(u32, &[f64]); 7] = [
        (MI_UINT8, &[0.0, 1.0, 255.0]),
        (MI_INT8, &[-128.0, -1.0, 127.0]),
        (MI_UINT16, &[500.0, 65535.0, 3.0]),
        (MI_INT16, &[-32768.0, 129.0, 32767.0]),
        (MI_INT32, &[-2_147_483_648.0, 0.0, 2_147_483_647.0]),
        (MI_UINT32, &[4_294_967_295.0, 1.0, 2.0]),
        (MI_SINGLE, &[0.5, -1.25, 3.0]),
    ];
    for (ty, values) in cases {
        let v = one(&file(&[double_as("x", &[1, 3], values, ty)]));
        assert_eq!(v, MatValue::Numeric { dims: vec![1, 3], data: values.to_vec() }, "storage type {ty}");
    }
    // A scalar small enough for a small data element.
    assert_eq!(one(&file(&[scalar("srate", 500.0)])).as_f64(), Some(500.0));
    // Single-precision data of whole numbers may be stored as integers too: values kept.
    let v = one(&file(&[matrix("d", MX_SINGLE, &[1, 2], &stored(MI_INT16, &[-3.0, 7.0]))]));
    assert_eq!(v, MatValue::Numeric { dims: vec![1, 2], data: vec![-3.0, 7.0] });
}

#[test]
fn compressed_variables_inflate_and_mix_with_plain_ones() {
    let f = file(&[
        compressed(&scalar("nbchan", 129.0)),
        char_utf16("setname", "RestingState"),
        compressed(&structure(
            "etc",
            &[1, 1],
            &["T0"],
            &[vec![double_as("", &[1, 6], &[2017.0, 3.0, 4.0, 10.0, 5.0, 6.5], MI_DOUBLE)]],
        )),
    ]);
    let vars = parse(&f);
    let names: Vec<&str> = vars.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["nbchan", "setname", "etc"]);
    assert_eq!(vars[0].1.as_f64(), Some(129.0));
    assert_eq!(vars[2].1.field(0, "T0").and_then(MatValue::as_f64), Some(2017.0));
}

#[test]
fn event_types_as_char_number_or_cell_read_as_text() {
    let ev = structure(
        "event",
        &[1, 4],
        &["type", "latency"],
        &[
            vec![char_utf16("", "instructed_toCloseEyes"), scalar("", 1001.0)],
            vec![scalar("", 30.0), scalar("", 2001.0)],
            vec![cell("", &[1, 1], &[char_u16("", "break cnt")]), scalar("", 3001.0)],
            vec![char_utf16("", "9999"), double_as("", &[1, 1], &[4000.5], MI_DOUBLE)],
        ],
    );
    let v = one(&file(&[ev]));
    let types: Vec<String> =
        (0..4).map(|i| v.field(i, "type").and_then(MatValue::as_string).expect("type")).collect();
    assert_eq!(types, ["instructed_toCloseEyes", "30", "break cnt", "9999"]);
    let lat: Vec<f64> =
        (0..4).map(|i| v.field(i, "latency").and_then(MatValue::as_f64).expect("latency")).collect();
    assert_eq!(lat, [1001.0, 2001.0, 3001.0, 4000.5]);
}

#[test]
fn struct_arrays_in_either_orientation_and_empty_fields() {
    for dims in [[1, 3], [3, 1]] {
        let items: Vec<Vec<Vec<u8>>> =
            ["E1", "E2", "Cz"].iter().map(|l| vec![char_utf16("", l), empty()]).collect();
        let v = one(&file(&[structure("chanlocs", &dims, &["labels", "X"], &items)]));
        assert_eq!(v.len(), 3);
        assert_eq!(v.field(2, "labels").and_then(MatValue::as_string).as_deref(), Some("Cz"));
        assert!(v.field(1, "X").is_some_and(MatValue::is_empty));
    }
    // A cell array of event types (an EEGLAB `{EEG.event.type}`), column-major.
    let c = one(&file(&[cell(
        "types",
        &[2, 2],
        &[scalar("", 30.0), char_utf16("", "a"), scalar("", 20.0), char_utf16("", "b")],
    )]));
    let MatValue::Cell { dims, items } = c else { panic!("a cell") };
    assert_eq!(dims, [2, 2]);
    assert_eq!(items[2].as_string().as_deref(), Some("20"));
    assert_eq!(items[3].as_string().as_deref(), Some("b"));
}

/// EEGLAB's fields of a small HBN-like dataset as top-level variables (see [`hbn_values`]).
fn hbn_fields(n_ch: usize, pnts: usize) -> Vec<(&'static str, Vec<u8>)> {
    hbn_values(n_ch, pnts, true)
}

/// EEGLAB's fields of a small HBN-like dataset: `n_ch` channels E1.. with the last one `Cz` (all
/// zeros, the reference), 500 Hz, `pnts` points of single data in the set, HBN's events. The
/// elements carry their field's name when `named` (top-level variables), none otherwise (the
/// values of an `EEG` struct).
fn hbn_values(n_ch: usize, pnts: usize, named: bool) -> Vec<(&'static str, Vec<u8>)> {
    let nm = |n: &'static str| if named { n } else { "" };
    let mut data = vec![0f32; n_ch * pnts];
    for t in 0..pnts {
        for c in 0..n_ch - 1 {
            data[t * n_ch + c] = (c + 1) as f32 * 10.0 + (t % 7) as f32;
        }
    }
    let labels: Vec<Vec<Vec<u8>>> = (0..n_ch)
        .map(|c| {
            let l = if c + 1 == n_ch { "Cz".to_string() } else { format!("E{}", c + 1) };
            vec![char_utf16("", &l), char_utf16("", "EEG")]
        })
        .collect();
    let events: Vec<Vec<Vec<u8>>> =
        [("resting_start", 1.0), ("instructed_toCloseEyes", 501.0), ("break cnt", 801.0)]
            .iter()
            .map(|&(t, lat)| vec![char_utf16("", t), scalar("", lat), empty()])
            .collect();
    vec![
        ("setname", char_utf16(nm("setname"), "RestingState")),
        ("nbchan", scalar(nm("nbchan"), n_ch as f64)),
        ("trials", scalar(nm("trials"), 1.0)),
        ("pnts", scalar(nm("pnts"), pnts as f64)),
        ("srate", scalar(nm("srate"), 500.0)),
        ("xmin", scalar(nm("xmin"), 0.0)),
        ("data", single(nm("data"), &[n_ch, pnts], &data)),
        ("chanlocs", structure(nm("chanlocs"), &[1, n_ch], &["labels", "type"], &labels)),
        ("event", structure(nm("event"), &[1, 3], &["type", "latency", "duration"], &events)),
    ]
}

fn check_hbn_recording(rec: &eeglens_io::Recording, n_ch: usize, pnts: usize) {
    assert_eq!(rec.channels.len(), n_ch);
    assert_eq!(rec.channels[0].name, "E1");
    assert_eq!(rec.channels[n_ch - 1].name, "Cz");
    assert_eq!(rec.channels[0].fs, 500.0);
    assert_eq!(rec.data[1][3], 23.0);
    assert!(rec.data[n_ch - 1].iter().all(|&x| x == 0.0));
    assert_eq!(rec.data[0].len(), pnts);
    let ev: Vec<(&str, f64)> = rec.annotations.iter().map(|a| (a.description.as_str(), a.onset_s)).collect();
    assert_eq!(ev, [("resting_start", 0.0), ("instructed_toCloseEyes", 1.0), ("break cnt", 1.6)]);
}

fn write_tmp(tag: &str, bytes: &[u8]) -> common::Scratch {
    let p = common::tmp_dir(tag).file("sub-1_task-RestingState_eeg.set");
    std::fs::write(&p, bytes).expect("write");
    p
}

#[test]
fn eeglab_set_as_matlab_saves_it_top_level_variables_compressed() {
    let (n_ch, pnts) = (5, 1000);
    let vars: Vec<Vec<u8>> = hbn_fields(n_ch, pnts).into_iter().map(|(_, e)| compressed(&e)).collect();
    let p = write_tmp("matlab-top", &file(&vars));
    let rec = read_eeglab(&p).expect("reads");
    check_hbn_recording(&rec, n_ch, pnts);
    std::fs::remove_dir_all(p.parent().expect("dir")).ok();
}

#[test]
fn eeglab_set_as_matlab_saves_it_one_eeg_struct() {
    let (n_ch, pnts) = (4, 600);
    let fields = hbn_fields(n_ch, pnts);
    let names: Vec<&str> = fields.iter().map(|(n, _)| *n).collect();
    // Inside a struct the values carry no names.
    let values: Vec<Vec<u8>> = hbn_values(n_ch, pnts, false).into_iter().map(|(_, e)| e).collect();
    let p = write_tmp("matlab-struct", &file(&[compressed(&structure("EEG", &[1, 1], &names, &[values]))]));
    let rec = read_eeglab(&p).expect("reads");
    check_hbn_recording(&rec, n_ch, pnts);
    std::fs::remove_dir_all(p.parent().expect("dir")).ok();
}

#[test]
fn v73_files_are_refused_with_how_to_resave() {
    let mut f =
        b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Sun Dec  6 12:00:00 2026 HDF5 schema 1.00 ."
            .to_vec();
    f.resize(512, 0);
    f.extend_from_slice(b"\x89HDF\r\n\x1a\n");
    let e = parse_mat(Path::new("hbn.set"), &f).expect_err("v7.3");
    let msg = e.to_string();
    assert!(matches!(e, IoError::Unsupported { .. }), "{msg}");
    assert!(msg.starts_with("hbn.set: ") && msg.contains("v7.3") && msg.contains("pop_saveset"), "{msg}");
    assert!(!msg.contains('\n'));
}

#[test]
fn malformed_elements_are_one_line_errors() {
    let good = char_utf16("s", "instructed_toCloseEyes");
    // A compressed variable whose stream is not zlib.
    let mut bad_z = MI_COMPRESSED.to_le_bytes().to_vec();
    bad_z.extend_from_slice(&16u32.to_le_bytes());
    bad_z.extend_from_slice(b"not a zlib strea");
    assert!(malformed(&file(&[bad_z])).contains("inflate"));
    // A compressed variable cut short.
    let z = compressed(&good);
    let mut cut = z[..z.len() - 6].to_vec();
    cut[4..8].copy_from_slice(&((z.len() - 14) as u32).to_le_bytes());
    malformed(&file(&[cut]));
    // A compressed stream holding a truncated element.
    let inner = compressed(&good[..good.len() - 16]);
    malformed(&file(&[inner]));
    // An element that claims more bytes than the file holds.
    let mut long = good.clone();
    long[4..8].copy_from_slice(&10_000u32.to_le_bytes());
    assert!(malformed(&file(&[long])).contains("runs past the end"));
    // UTF-16 text whose dimensions claim more characters than it holds.
    let units: Vec<u8> = "abc".encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
    malformed(&file(&[matrix("s", MX_CHAR, &[1, 5], &el(MI_UTF16, &units))]));
    // A cell element that is not an miMATRIX.
    malformed(&file(&[matrix("c", MX_CELL, &[1, 1], &el(MI_DOUBLE, &1.0f64.to_le_bytes()))]));
    // A struct field that is not an miMATRIX.
    let mut content = el(MI_INT32, &8i32.to_le_bytes());
    content.extend(el(MI_INT8, b"type\0\0\0\0"));
    content.extend(el(MI_DOUBLE, &1.0f64.to_le_bytes()));
    malformed(&file(&[matrix("event", MX_STRUCT, &[1, 1], &content)]));
    // Numbers of a type that is not numeric.
    malformed(&file(&[matrix("x", MX_DOUBLE, &[1, 1], &el(MI_MATRIX, &[0; 8]))]));
    // A small element claiming more than 4 bytes.
    let mut small = scalar("x", 3.0);
    small[8 + 16 + 8 + 8 + 2] = 9;
    malformed(&file(&[small]));
}

/// Every prefix of a valid MATLAB-style dataset, and every byte of it changed, reads or fails
/// with a one-line error: never a panic.
#[test]
fn cut_or_corrupted_files_never_panic() {
    let vars: Vec<Vec<u8>> = hbn_fields(3, 20)
        .into_iter()
        .enumerate()
        .map(|(i, (_, e))| if i % 2 == 0 { compressed(&e) } else { e })
        .collect();
    let f = file(&vars);
    let path = Path::new("cut.set");
    for n in 0..f.len() {
        if let Err(e) = parse_mat(path, &f[..n]) {
            assert!(!e.to_string().contains('\n'));
        }
    }
    for i in 128..f.len() {
        for flip in [0x01u8, 0x80, 0xFF] {
            let mut g = f.clone();
            g[i] ^= flip;
            if let Err(e) = parse_mat(path, &g) {
                let msg = e.to_string();
                assert!(msg.starts_with("cut.set: ") && !msg.contains('\n'), "{msg}");
            }
        }
    }
}

/// A recording without events: MATLAB saves `EEG.event` as `[]` (0x0 double) or as a 1x0 struct
/// with its fields; both read as no annotation. A logical array reads as 0 and 1.
#[test]
fn empty_event_lists_and_logical_arrays() {
    let (n_ch, pnts) = (3, 50);
    for event in
        [double_as("event", &[0, 0], &[], MI_DOUBLE), structure("event", &[1, 0], &["type", "latency"], &[])]
    {
        let vars: Vec<Vec<u8>> = hbn_fields(n_ch, pnts)
            .into_iter()
            .map(|(n, e)| if n == "event" { compressed(&event) } else { compressed(&e) })
            .collect();
        let p = write_tmp("matlab-no-events", &file(&vars));
        let rec = read_eeglab(&p).expect("reads");
        assert!(rec.annotations.is_empty(), "{:?}", rec.annotations);
        assert!(rec.warnings.is_empty(), "{:?}", rec.warnings);
        std::fs::remove_dir_all(p.parent().expect("dir")).ok();
    }
    // mxUINT8_CLASS with the logical flag (0x0200), stored as miUINT8.
    let mut body =
        el(MI_UINT32, &[9u32 | 0x0200, 0].iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<_>>());
    body.extend(el(MI_INT32, &[1i32, 3].iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<_>>()));
    body.extend(el(MI_INT8, b"ok"));
    body.extend(el(MI_UINT8, &[1, 0, 1]));
    let v = one(&file(&[el(MI_MATRIX, &body)]));
    assert_eq!(v, MatValue::Numeric { dims: vec![1, 3], data: vec![1.0, 0.0, 1.0] });
}

/// `write_eeglab` writes what `read_eeglab` reads: labels, rate, samples (float32 exactly),
/// events with their onsets and durations, the start time; the `.set` is MATLAB-style (every
/// variable compressed, text in UTF-16) and the `.fdt` holds `nbchan * pnts` float32 values.
#[test]
fn written_eeglab_datasets_read_back() {
    use eeglens_io::{write_eeglab, Annotation, Channel, ChannelType, DateTime, Format, Recording};
    let (n_ch, pnts, fs) = (5, 777, 500.0);
    let mut rec = Recording::new(Format::Eeglab);
    for c in 0..n_ch {
        let name = if c + 1 == n_ch { "Cz".to_string() } else { format!("E{}", c + 1) };
        let data: Vec<f32> = (0..pnts).map(|t| ((c * 1000 + t) as f32 * 0.37).sin() * 40.0).collect();
        rec.push_channel(Channel::new(name, ChannelType::Eeg, fs), data);
    }
    rec.subject.id = "NDARAA000".into();
    rec.recording_id = "RestingState".into();
    rec.start = DateTime::new(2017, 3, 4, 10, 5, 6);
    rec.annotations = vec![
        Annotation { onset_s: 0.0, duration_s: None, description: "90".into() },
        Annotation { onset_s: 0.25, duration_s: Some(0.5), description: "instructed_toCloseEyes".into() },
        Annotation { onset_s: 1.5, duration_s: None, description: "break cnt".into() },
    ];
    let dir = common::tmp_dir("eeglab-write");
    let set = dir.join("sub-1_task-RestingState_eeg.set");
    let out = write_eeglab(&set, &rec, "Cz").expect("writes");
    assert_eq!(std::fs::metadata(&out.fdt).expect("fdt").len(), (n_ch * pnts * 4) as u64);
    let back = read_eeglab(&set).expect("reads back");
    assert_eq!(
        back.channels.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["E1", "E2", "E3", "E4", "Cz"]
    );
    assert_eq!(back.channels[0].fs, fs);
    assert_eq!(back.data, rec.data);
    assert_eq!(back.subject.id, "NDARAA000");
    assert_eq!(back.start, rec.start);
    let ev: Vec<(&str, f64, Option<f64>)> =
        back.annotations.iter().map(|a| (a.description.as_str(), a.onset_s, a.duration_s)).collect();
    assert_eq!(
        ev,
        [("90", 0.0, None), ("instructed_toCloseEyes", 0.25, Some(0.5)), ("break cnt", 1.5, None)]
    );
    // MATLAB's encodings: every variable compressed, and srate stored as a small integer.
    let bytes = std::fs::read(&set).expect("set");
    assert_eq!(&bytes[126..128], b"IM");
    let vars = parse(&bytes);
    let srate = vars.iter().find(|(n, _)| n == "srate").expect("srate").1.clone();
    assert_eq!(srate.as_f64(), Some(500.0));
    let labels = vars.iter().find(|(n, _)| n == "chanlocs").expect("chanlocs").1.clone();
    // E1's position from the HydroCel-129 montage, in EEGLAB's axes (X = eeglens y).
    let e1 = eeglens_io::montage::Montage::EgiHydroCel129.position("E1").expect("E1");
    let x = labels.field(0, "X").and_then(MatValue::as_f64).expect("X");
    assert!((x - e1.xyz[1]).abs() < 1e-12, "{x} vs {}", e1.xyz[1]);
}

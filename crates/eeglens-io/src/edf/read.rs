//! Reading EDF, EDF+, BDF and BDF+ files, whole or in part.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use rayon::prelude::*;

use super::header::{self, Header};
use super::tal;
use crate::recording::{
    duplicate_label_warnings, voltage_scale, Annotation, Channel, ChannelType, Format, ReadOptions,
    Recording, Segment,
};
use crate::IoError;

/// Reads a whole EDF/EDF+/BDF/BDF+ file.
///
/// # Errors
/// See [`read_edf_with`].
pub fn read_edf(path: &Path) -> Result<Recording, IoError> {
    read_edf_with(path, &ReadOptions::default())
}

/// Reads part of an EDF/EDF+/BDF/BDF+ file: only the data records that overlap the requested time
/// range are read, and only the requested channels are decoded. Annotations are always read in
/// full (only the annotation signal's bytes of the records outside the range are touched).
///
/// Samples are converted with the specification's linear map
/// `physical = (digital - dmin) * (pmax - pmin) / (dmax - dmin) + pmin` (an inverted gain when
/// `pmin > pmax` is honoured), then voltage units are scaled to µV.
///
/// # Errors
/// [`IoError::Truncated`], [`IoError::Field`] (naming the header field and its offset) and
/// [`IoError::SizeMismatch`] for broken headers, among them a record duration or sampling rate no
/// recording has (a rate outside 1e-6 Hz to 1 MHz); [`IoError::Selection`] for channels not in the
/// file; [`IoError::NotAFile`] for a FIFO, device or directory, refused before it is opened.
/// Malformed annotations are not errors: they are skipped and reported in
/// [`Recording::warnings`], as are duplicate channel labels and time-keeping annotations that
/// contradict the header (EDF+C records that do not follow on, EDF+D records that overlap).
pub fn read_edf_with(path: &Path, opts: &ReadOptions) -> Result<Recording, IoError> {
    let mut file = crate::files::open_regular(path)?;
    let file_len = file.metadata().map_err(|e| IoError::os(path, e))?.len();
    read_edf_from(&mut file, file_len, path, opts)
}

/// Reads an EDF-family recording from any seekable source of `len` bytes (a file, or a
/// `std::io::Cursor` over bytes in memory); `path` names it in errors.
///
/// # Errors
/// As [`read_edf_with`].
pub fn read_edf_from<R: Read + Seek>(
    source: &mut R,
    len: u64,
    path: &Path,
    opts: &ReadOptions,
) -> Result<Recording, IoError> {
    let mut head = vec![0u8; 256.min(len as usize)];
    source.read_exact(&mut head).map_err(|e| IoError::os(path, e))?;
    let ns_guess = header::text(head.get(252..256).unwrap_or(&[])).parse::<usize>().unwrap_or(0);
    let full_len = (256 * (ns_guess.min(100_000) + 1)).min(len as usize);
    if full_len > head.len() {
        let mut rest = vec![0u8; full_len - head.len()];
        source.read_exact(&mut rest).map_err(|e| IoError::os(path, e))?;
        head.extend_from_slice(&rest);
    }
    let h = header::parse(path, &head, len)?;
    read_body(source, h, opts)
}

/// How to decode one selected signal.
struct Decode {
    offset_in_record: usize,
    spr: usize,
    gain: f64,
    offset: f64,
}

fn read_body<R: Read + Seek>(file: &mut R, h: Header, opts: &ReadOptions) -> Result<Recording, IoError> {
    let format = format_of(&h);
    let mut rec = Recording::new(format);
    rec.warnings = h.warnings.clone();
    rec.subject = h.subject();
    rec.recording_id = h.recording.clone();

    // Channels (annotation signals are not channels, whatever the reserved field says).
    let data_signals: Vec<usize> = (0..h.signals.len()).filter(|&i| !h.signals[i].is_annotation).collect();
    let selected = select_signals(&h, &data_signals, opts)?;
    rec.warnings.extend(duplicate_label_warnings(
        data_signals.iter().map(|&i| (i + 1, h.signals[i].label.as_str())),
        "signals",
    ));
    let decoders = push_channels(&h, &selected, &mut rec);

    let span = Span::of(&h, opts)?;
    let Records { mut data, ann_bytes } = read_records(file, &h, &decoders, &span)?;
    // Trim to the exact sample range.
    if !span.records.is_empty() {
        let t0 = span.records.start as f64 * h.record_duration;
        for (c, out) in rec.channels.iter().zip(data.iter_mut()) {
            let a = (((opts.start_s - t0) * c.fs).round().max(0.0) as usize).min(out.len());
            let b = (((span.end_s - t0) * c.fs).round().max(0.0) as usize).clamp(a, out.len());
            out.truncate(b);
            out.drain(..a);
        }
    }
    rec.data = data;

    let (record_onsets, anns) = time_keeping(&h, &ann_bytes, &mut rec.warnings);
    check_record_onsets(&h, format, &record_onsets, &mut rec.warnings);
    let first_onset = record_onsets.first().copied().unwrap_or(0.0);
    rec.start = if first_onset.abs() <= MAX_START_OFFSET_S {
        h.start.map(|s| s.add_seconds(first_onset))
    } else {
        rec.warnings.push(format!(
            "data record 0: time-keeping onset {} s is more than 31 years from the header's start \
             time; start time unknown",
            seconds(first_onset)
        ));
        None
    };
    rec.annotations = anns
        .into_iter()
        .map(|(onset, duration_s, description)| Annotation {
            // Rounded to the nanosecond: the subtraction of two decimal onsets leaves binary noise.
            onset_s: ((onset - first_onset) * 1e9).round() / 1e9,
            duration_s,
            description,
        })
        .collect();
    rec.segments = segments(&record_onsets, first_onset, h.record_duration);
    Ok(rec)
}

fn format_of(h: &Header) -> Format {
    match (h.variant.bdf, h.variant.plus) {
        (false, None) => Format::Edf,
        (false, Some(false)) => Format::EdfPlusC,
        (false, Some(true)) => Format::EdfPlusD,
        (true, None) => Format::Bdf,
        (true, Some(false)) => Format::BdfPlusC,
        (true, Some(true)) => Format::BdfPlusD,
    }
}

/// The signals `opts` asks for among `data_signals`: an exact label first, then a short name
/// (without type prefix or `-REF`) equal ignoring case.
fn select_signals(h: &Header, data_signals: &[usize], opts: &ReadOptions) -> Result<Vec<usize>, IoError> {
    let Some(names) = &opts.channels else {
        return Ok(data_signals.to_vec());
    };
    let mut out = Vec::with_capacity(names.len());
    for n in names {
        let found = data_signals
            .iter()
            .copied()
            .find(|&i| h.signals[i].label == *n)
            .or_else(|| {
                data_signals.iter().copied().find(|&i| {
                    let c = Channel::new(h.signals[i].label.clone(), ChannelType::Eeg, 0.0);
                    c.short_name().eq_ignore_ascii_case(n.trim())
                })
            })
            .ok_or_else(|| IoError::Selection {
                path: h.path.clone(),
                what: format!("channel {n:?} is not in the file"),
            })?;
        out.push(found);
    }
    Ok(out)
}

/// Adds the `selected` signals to `rec` as channels; returns how to decode each.
fn push_channels(h: &Header, selected: &[usize], rec: &mut Recording) -> Vec<Decode> {
    let mut decoders = Vec::with_capacity(selected.len());
    for &i in selected {
        let s = &h.signals[i];
        let scale = voltage_scale(&s.unit);
        let kind = ChannelType::infer(&s.label, &s.unit);
        let gain = (s.physical_max - s.physical_min) / (s.digital_max as f64 - s.digital_min as f64);
        let offset = s.physical_min - gain * s.digital_min as f64;
        let k = scale.unwrap_or(1.0);
        let (unit, range) = match scale {
            Some(_) => ("uV".to_string(), (s.physical_min * k, s.physical_max * k)),
            None => (s.unit.clone(), (s.physical_min, s.physical_max)),
        };
        rec.channels.push(Channel {
            name: s.label.clone(),
            kind,
            unit,
            fs: s.samples_per_record as f64 / h.record_duration,
            transducer: s.transducer.clone(),
            prefilter: s.prefilter.clone(),
            bad: false,
            physical_range: Some(range),
        });
        decoders.push(Decode {
            offset_in_record: h.signal_offset(i),
            spr: s.samples_per_record,
            gain: gain * k,
            offset: offset * k,
        });
    }
    decoders
}

/// The part of the data `ReadOptions` asks for.
struct Span {
    /// The records that hold it (none for a header-only read).
    records: std::ops::Range<usize>,
    /// Its end in stored-data seconds.
    end_s: f64,
}

impl Span {
    /// Which records hold the requested time range (in stored-data seconds).
    fn of(h: &Header, opts: &ReadOptions) -> Result<Span, IoError> {
        let path = h.path.clone();
        let n_records = h.n_records;
        let dur = h.record_duration;
        if opts.start_s < 0.0 || !opts.start_s.is_finite() {
            return Err(IoError::Selection {
                path,
                what: format!("start {} s is not a valid time", opts.start_s),
            });
        }
        let total_s = n_records as f64 * dur;
        let end_s = match opts.duration_s {
            Some(d) if d < 0.0 || !d.is_finite() => {
                return Err(IoError::Selection { path, what: format!("duration {d} s is not valid") })
            }
            Some(d) => (opts.start_s + d).min(total_s),
            None => total_s,
        };
        if opts.start_s > total_s {
            return Err(IoError::Selection {
                path,
                what: format!("start {} s is after the end of the data ({total_s} s)", opts.start_s),
            });
        }
        let records = if opts.header_only || dur == 0.0 || end_s <= opts.start_s {
            0..0
        } else {
            let a = ((opts.start_s / dur).floor() as usize).min(n_records);
            let b = ((end_s / dur).ceil() as usize).min(n_records);
            a..b
        };
        Ok(Span { records, end_s })
    }
}

/// What [`read_records`] read.
struct Records {
    /// The samples, one row per decoder.
    data: Vec<Vec<f32>>,
    /// Each record's annotation bytes: each annotation signal's bytes followed by a NUL (empty
    /// without annotation signals).
    ann_bytes: Vec<Vec<u8>>,
}

/// Reads the records of `span` and decodes the selected signals; reads the annotation signals'
/// bytes of every record.
fn read_records<R: Read + Seek>(
    file: &mut R,
    h: &Header,
    decoders: &[Decode],
    span: &Span,
) -> Result<Records, IoError> {
    let io = |e| IoError::os(&h.path, e);
    let (first_rec, last_rec) = (span.records.start, span.records.end);
    let record_bytes = h.record_bytes();
    let bps = h.bytes_per_sample();
    let n_read = last_rec - first_rec;
    let mut data: Vec<Vec<f32>> = decoders.iter().map(|d| Vec::with_capacity(d.spr * n_read)).collect();

    // Annotation bytes per record (first annotation signal first).
    let ann_ranges: Vec<(usize, usize)> = (0..h.signals.len())
        .filter(|&i| h.signals[i].is_annotation)
        .map(|i| (h.signal_offset(i), h.signals[i].samples_per_record * bps))
        .collect();
    let mut ann_bytes: Vec<Vec<u8>> =
        if ann_ranges.is_empty() { Vec::new() } else { vec![Vec::new(); h.n_records] };

    // Records inside the range: big sequential reads, decoded in place.
    // A chunk small enough to stay in cache between the read and the decode, and to cost few page
    // faults; large enough to amortise the system call.
    let chunk_records = (1 << 20) / record_bytes.max(1);
    let chunk_records = chunk_records.clamp(1, n_read.max(1));
    // Only records the file holds are read (the header check compared their count with the file
    // size), so the buffer is allocated only when there is one to read: a file of zero records may
    // declare records of any size.
    let mut buf = if n_read > 0 { vec![0u8; chunk_records * record_bytes] } else { Vec::new() };
    let mut r = first_rec;
    if n_read > 0 {
        file.seek(SeekFrom::Start(h.header_bytes + (first_rec * record_bytes) as u64)).map_err(io)?;
    }
    while r < last_rec {
        let n = chunk_records.min(last_rec - r);
        let b = &mut buf[..n * record_bytes];
        file.read_exact(b).map_err(io)?;
        let b: &[u8] = b;
        decode_chunk(b, n, record_bytes, bps, decoders, &mut data);
        if !ann_bytes.is_empty() {
            for k in 0..n {
                let rec_bytes = &b[k * record_bytes..(k + 1) * record_bytes];
                let v = &mut ann_bytes[r + k];
                for &(o, len) in &ann_ranges {
                    v.extend_from_slice(&rec_bytes[o..o + len]);
                    v.push(0);
                }
            }
        }
        r += n;
    }
    // Records outside the range: only their annotation bytes.
    if !ann_bytes.is_empty() {
        for rr in (0..first_rec).chain(last_rec..h.n_records) {
            for &(o, len) in &ann_ranges {
                let pos = h.header_bytes + (rr * record_bytes + o) as u64;
                file.seek(SeekFrom::Start(pos)).map_err(io)?;
                let start = ann_bytes[rr].len();
                ann_bytes[rr].resize(start + len, 0);
                file.read_exact(&mut ann_bytes[rr][start..]).map_err(io)?;
                ann_bytes[rr].push(0);
            }
        }
    }
    Ok(Records { data, ann_bytes })
}

/// Decodes `n` records held in `b`, appending each decoder's samples to its row of `data`.
fn decode_chunk(
    b: &[u8],
    n: usize,
    record_bytes: usize,
    bps: usize,
    decoders: &[Decode],
    data: &mut [Vec<f32>],
) {
    // Each channel gathers its slice of every record in the chunk; channels are independent,
    // so they are decoded on all cores when the chunk is worth splitting.
    let decode_channel = |(d, out): (&Decode, &mut Vec<f32>)| {
        for k in 0..n {
            let at = k * record_bytes + d.offset_in_record;
            decode(&b[at..at + d.spr * bps], bps, d.gain, d.offset, out);
        }
    };
    if decoders.len() > 1 && b.len() >= 256 << 10 {
        decoders.par_iter().zip(data.par_iter_mut()).for_each(decode_channel);
    } else {
        decoders.iter().zip(data.iter_mut()).for_each(decode_channel);
    }
}

/// Annotations as the file stores them: `(onset, duration, text)`, onsets in file time.
type Annotations = Vec<(f64, Option<f64>, String)>;

/// Each record's onset from its time-keeping annotation (or its place in the data), and the
/// annotations of every record. Malformed TALs are warnings.
fn time_keeping(h: &Header, ann_bytes: &[Vec<u8>], warnings: &mut Vec<String>) -> (Vec<f64>, Annotations) {
    let mut record_onsets: Vec<f64> = (0..h.n_records).map(|i| i as f64 * h.record_duration).collect();
    let mut anns = Vec::new();
    for (i, bytes) in ann_bytes.iter().enumerate() {
        // The first annotation signal's bytes come first; its first TAL keeps the time.
        let (tals, problems) = tal::parse(bytes);
        for p in problems {
            warnings.push(format!("data record {i}: {p}"));
        }
        let mut first = true;
        for t in tals {
            let mut texts = t.texts.as_slice();
            // Any file with an annotation signal keeps time this way, also one not marked EDF+.
            if first && texts.first().is_some_and(String::is_empty) {
                record_onsets[i] = t.onset;
                texts = &texts[1..];
            } else if first && h.variant.plus.is_some() {
                warnings.push(format!("data record {i}: no time-keeping annotation; onset assumed"));
            }
            first = false;
            for text in texts {
                anns.push((t.onset, t.duration, text.clone()));
            }
        }
    }
    (record_onsets, anns)
}

/// Segments: runs of records (of `dur` s) whose onsets follow on, relative to `first_onset`.
fn segments(record_onsets: &[f64], first_onset: f64, dur: f64) -> Vec<Segment> {
    let mut segments: Vec<Segment> = Vec::new();
    for (i, &on) in record_onsets.iter().enumerate() {
        let on = on - first_onset;
        let data_offset = i as f64 * dur;
        match segments.last_mut() {
            Some(s) if ((s.onset_s + s.duration_s) - on).abs() < 1e-6 * dur.max(1.0) => s.duration_s += dur,
            _ => segments.push(Segment { data_offset_s: data_offset, onset_s: on, duration_s: dur }),
        }
    }
    segments
}

/// Farthest the first record's time-keeping onset may lie from the header's start time (about 31.7
/// years) for the start time to be moved by it: an onset beyond that is a broken annotation.
const MAX_START_OFFSET_S: f64 = 1e9;

/// A number of seconds for a message: plain decimals, except an exponent for huge or tiny values
/// (a broken onset of 1e300 s would otherwise print 300 digits).
fn seconds(s: f64) -> String {
    if s != 0.0 && !(1e-6..1e9).contains(&s.abs()) {
        format!("{s:e}")
    } else {
        format!("{s}")
    }
}

/// Warns when the records' time-keeping onsets contradict the header: in EDF+C/BDF+C (and plain
/// EDF/BDF, continuous by definition) each record must start where the one before ends; in
/// EDF+D/BDF+D records may leave gaps but must not start before the one before ends. The segments
/// follow the onsets either way; the warning says that the file is not what it declares.
fn check_record_onsets(h: &Header, format: Format, onsets: &[f64], warnings: &mut Vec<String>) {
    let dur = h.record_duration;
    if dur == 0.0 {
        // Annotation-only files: records take no time, and their onsets may be anything.
        return;
    }
    let continuous = h.variant.plus != Some(true);
    // The tolerance the segments use to join records.
    let tol = 1e-6 * dur.max(1.0);
    let mut bad = 0usize;
    let mut first = None;
    for (i, w) in onsets.windows(2).enumerate() {
        let expected = w[0] + dur;
        // Written so that a NaN onset (an overflowing decimal) counts as wrong.
        let fits = if continuous { (w[1] - expected).abs() < tol } else { w[1] > expected - tol };
        let wrong = !fits;
        if wrong {
            bad += 1;
            first.get_or_insert((i + 1, w[1], expected));
        }
    }
    let Some((i, got, expected)) = first else { return };
    let records = if bad == 1 { "1 data record".to_string() } else { format!("{bad} data records") };
    let (got, expected) = (seconds(got), seconds(expected));
    warnings.push(if continuous {
        format!(
            "{format} declares a continuous recording, but the time-keeping annotations of {records} \
             do not follow on from the record before (first: data record {i} starts at {got} s, \
             expected {expected} s); the data are split into segments there"
        )
    } else {
        format!(
            "{format} data records must not overlap, but {records} start before the record before \
             ends (first: data record {i} starts at {got} s, the record before ends at {expected} s)"
        )
    });
}

/// Decodes little-endian 16- or 24-bit two's-complement samples and applies `gain * d + offset`
/// (in f64, rounded once to f32).
#[inline]
fn decode(raw: &[u8], bps: usize, gain: f64, offset: f64, out: &mut Vec<f32>) {
    // Fixed-size blocks through a stack array let the compiler unroll and vectorise the conversion.
    const BLOCK: usize = 8;
    let mut tmp = [0f32; BLOCK];
    if bps == 2 {
        let mut blocks = raw.chunks_exact(2 * BLOCK);
        for blk in &mut blocks {
            for (k, t) in tmp.iter_mut().enumerate() {
                let d = i16::from_le_bytes([blk[2 * k], blk[2 * k + 1]]);
                *t = (gain * d as f64 + offset) as f32;
            }
            out.extend_from_slice(&tmp);
        }
        let rest = blocks.remainder().chunks_exact(2);
        out.extend(rest.map(|b| (gain * i16::from_le_bytes([b[0], b[1]]) as f64 + offset) as f32));
    } else {
        // Place the 24 bits in the top of an i32, then shift back arithmetically to sign-extend.
        let mut blocks = raw.chunks_exact(3 * BLOCK);
        for blk in &mut blocks {
            for (k, t) in tmp.iter_mut().enumerate() {
                let d = i32::from_le_bytes([0, blk[3 * k], blk[3 * k + 1], blk[3 * k + 2]]) >> 8;
                *t = (gain * d as f64 + offset) as f32;
            }
            out.extend_from_slice(&tmp);
        }
        let rest = blocks.remainder().chunks_exact(3);
        out.extend(
            rest.map(|b| (gain * (i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8) as f64 + offset) as f32),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bdf_sign_extension() {
        let mut out = Vec::new();
        decode(&[0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x80, 0xFF, 0xFF, 0x7F, 0x01, 0, 0], 3, 1.0, 0.0, &mut out);
        assert_eq!(out, vec![-1.0, -8388608.0, 8388607.0, 1.0]);
        // Longer than one block: the blocked path and the remainder agree with the scalar formula.
        let raw: Vec<u8> = (0..3 * 21).map(|i| (i * 37 % 256) as u8).collect();
        let mut out = Vec::new();
        decode(&raw, 3, 0.5, -2.0, &mut out);
        for (k, b) in raw.chunks_exact(3).enumerate() {
            let v = i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8;
            assert_eq!(out[k], (0.5 * v as f64 - 2.0) as f32);
        }
        let mut out = Vec::new();
        decode(&raw[..42], 2, 0.25, 1.0, &mut out);
        for (k, b) in raw[..42].chunks_exact(2).enumerate() {
            assert_eq!(out[k], (0.25 * i16::from_le_bytes([b[0], b[1]]) as f64 + 1.0) as f32);
        }
    }
}

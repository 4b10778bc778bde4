//! Writing EDF, EDF+, BDF and BDF+ files.

use std::io::Write;
use std::path::Path;

use super::header::month_abbrev;
use super::tal;
use crate::recording::{voltage_scale, Channel, Recording};
use crate::IoError;

/// How to write an EDF-family file.
#[derive(Debug, Clone, PartialEq)]
pub struct EdfWriteOptions {
    /// Write BDF (24-bit samples) instead of EDF (16-bit).
    pub bdf: bool,
    /// Write EDF+/BDF+ with an annotation signal, structured patient and recording fields and the
    /// sub-second start time; discontinuous (EDF+D/BDF+D) when [`Recording::segments`] have gaps. Plain EDF/BDF cannot hold annotations or the
    /// sub-second part; they are dropped.
    pub plus: bool,
    /// Data record duration in seconds; `None` picks the shortest of 1, 2, 4, 5, 10, 20, 50, 100 s,
    /// 0.5, 0.25, 0.2, 0.1 s for which every channel has a whole number of samples per record.
    pub record_duration_s: Option<f64>,
}

impl Default for EdfWriteOptions {
    fn default() -> Self {
        EdfWriteOptions { bdf: false, plus: true, record_duration_s: None }
    }
}

impl EdfWriteOptions {
    /// EDF+ (16-bit, with annotations): the default.
    pub fn edf_plus() -> Self {
        Self::default()
    }

    /// BDF+ (24-bit, with annotations).
    pub fn bdf_plus() -> Self {
        EdfWriteOptions { bdf: true, ..Self::default() }
    }
}

/// Writes `rec` as BDF/BDF+ (shorthand for [`write_edf`] with `bdf: true`).
///
/// # Errors
/// As [`write_edf`].
pub fn write_bdf(path: &Path, rec: &Recording, opts: &EdfWriteOptions) -> Result<(), IoError> {
    write_edf(path, rec, &EdfWriteOptions { bdf: true, ..opts.clone() })
}

/// Writes `rec` as EDF/EDF+ (or BDF/BDF+ when `opts.bdf`).
///
/// Each channel gets the physical range it already has ([`crate::Channel::physical_range`]) when its
/// data fit in it, otherwise its data's own minimum and maximum; the digital range is the full 16-
/// or 24-bit range. Values come back within one quantisation step
/// `(pmax - pmin) / (dmax - dmin)`. Voltage channels are written in `uV`. When a channel's length
/// is not a whole number of data records the last record is padded with the sample nearest to zero
/// in its range; [`crate::read`] then returns the padded length.
///
/// # Errors
/// [`IoError::InvalidRecording`] for a recording without channels, a non-positive sampling rate,
/// rates without a common record duration, a label longer than 16 bytes, non-finite samples or a
/// date outside 1985-2084; [`IoError::Os`] when the file cannot be written.
pub fn write_edf(path: &Path, rec: &Recording, opts: &EdfWriteOptions) -> Result<(), IoError> {
    let plan = FilePlan::new(path, rec, opts)?;
    let header = plan.header()?;
    // Through a temporary: a failure (a full disk) never leaves a torn file under `path`.
    crate::atomic::write_file_with(path, |w| {
        w.write_all(&header)?;
        plan.write_records(w)
    })
    .map_err(|e| IoError::os(path, e))
}

fn invalid(path: &Path, what: String) -> IoError {
    IoError::InvalidRecording { path: path.to_path_buf(), what }
}

/// Everything the writer decides before it writes a byte: the record duration, each channel's
/// range and the annotation lists of each record.
struct FilePlan<'a> {
    path: &'a Path,
    rec: &'a Recording,
    opts: &'a EdfWriteOptions,
    /// Record duration as written in its 8-character field.
    dur_s: String,
    /// Digital range and bytes per sample of the format.
    dmin: i32,
    dmax: i32,
    bps: usize,
    plans: Vec<Plan>,
    n_records: usize,
    /// EDF+D/BDF+D: the recording's segments leave gaps.
    discontinuous: bool,
    /// One TAL list per record (EDF+/BDF+ only).
    ann_per_record: Vec<Vec<u8>>,
    /// Samples per record of the annotation signal.
    ann_spr: usize,
}

impl<'a> FilePlan<'a> {
    fn new(path: &'a Path, rec: &'a Recording, opts: &'a EdfWriteOptions) -> Result<Self, IoError> {
        check_channels(path, rec)?;
        let dur = record_duration(path, rec, opts)?;
        let dur_s = tal::format_seconds(dur);
        if dur_s.len() > 8 {
            return Err(invalid(path, format!("record duration {dur} s does not fit the 8-character field")));
        }
        let (dmin, dmax): (i32, i32) = if opts.bdf { (-8_388_608, 8_388_607) } else { (-32_768, 32_767) };
        let bps = if opts.bdf { 3 } else { 2 };
        let mut n_records = 0usize;
        let mut plans = Vec::with_capacity(rec.channels.len());
        for (c, d) in rec.channels.iter().zip(&rec.data) {
            let p = Plan::new(path, c, d, dur, (dmin, dmax))?;
            n_records = n_records.max(d.len().div_ceil(p.spr));
            plans.push(p);
        }
        if n_records > 99_999_999 {
            return Err(invalid(path, format!("{n_records} data records do not fit the 8-character field")));
        }
        let discontinuous =
            opts.plus && rec.segments.iter().any(|s| (s.onset_s - s.data_offset_s).abs() > 1e-9);
        let record_onsets = record_onsets(rec, n_records, dur, discontinuous);
        if discontinuous {
            check_segment_boundaries(path, rec, dur)?;
        }
        let mut ann_per_record: Vec<Vec<u8>> = Vec::new();
        if opts.plus {
            ann_per_record = annotation_lists(rec, &record_onsets);
            n_records = n_records.max(1);
        }
        let ann_spr = ann_per_record.iter().map(|v| v.len().div_ceil(bps)).max().unwrap_or(0);
        Ok(FilePlan {
            path,
            rec,
            opts,
            dur_s,
            dmin,
            dmax,
            bps,
            plans,
            n_records,
            discontinuous,
            ann_per_record,
            ann_spr,
        })
    }

    /// Number of signals: the channels, and the annotation signal of EDF+/BDF+.
    fn ns(&self) -> usize {
        self.rec.channels.len() + usize::from(self.opts.plus)
    }

    /// The header: `256 * (ns + 1)` bytes.
    fn header(&self) -> Result<Vec<u8>, IoError> {
        let ns = self.ns();
        let mut h = HeaderBytes { path: self.path, bytes: Vec::with_capacity(256 * (ns + 1)) };
        self.fixed_header(&mut h)?;
        self.signal_headers(&mut h)?;
        debug_assert_eq!(h.bytes.len(), 256 * (ns + 1));
        Ok(h.bytes)
    }

    /// The first 256 bytes: version, patient, recording, start, sizes.
    fn fixed_header(&self, h: &mut HeaderBytes<'_>) -> Result<(), IoError> {
        let (rec, opts) = (self.rec, self.opts);
        if opts.bdf {
            h.bytes.push(0xFF);
            h.field("BIOSEMI", 7)?;
        } else {
            h.field("0", 8)?;
        }
        if let Some(s) = rec.start {
            if !(1985..=2084).contains(&s.year) {
                return Err(invalid(self.path, format!("start year {} is outside 1985-2084", s.year)));
            }
        }
        h.field(&truncate(&patient_field(rec, opts.plus), 80), 80)?;
        h.field(&truncate(&recording_field(rec, opts.plus), 80), 80)?;
        let s = rec.start.unwrap_or(crate::DateTime {
            year: 1985,
            month: 1,
            day: 1,
            hour: 0,
            minute: 0,
            second: 0,
            nanos: 0,
        });
        h.field(&format!("{:02}.{:02}.{:02}", s.day, s.month, s.year % 100), 8)?;
        h.field(&format!("{:02}.{:02}.{:02}", s.hour, s.minute, s.second), 8)?;
        h.field(&(256 * (self.ns() + 1)).to_string(), 8)?;
        let reserved = match (opts.plus, opts.bdf) {
            (true, false) if self.discontinuous => "EDF+D",
            (true, true) if self.discontinuous => "BDF+D",
            (true, false) => "EDF+C",
            (true, true) => "BDF+C",
            (false, true) => "24BIT",
            (false, false) => "",
        };
        h.field(reserved, 44)?;
        h.field(&self.n_records.to_string(), 8)?;
        h.field(&self.dur_s, 8)?;
        h.field(&self.ns().to_string(), 4)
    }

    /// Each signal header field for all signals in turn; the annotation signal last.
    fn signal_headers(&self, h: &mut HeaderBytes<'_>) -> Result<(), IoError> {
        let rec = self.rec;
        let ns = self.ns();
        let ann_label = if self.opts.bdf { "BDF Annotations" } else { "EDF Annotations" };
        let sig = |i: usize| (i < rec.channels.len()).then(|| (&rec.channels[i], &self.plans[i]));
        for i in 0..ns {
            h.field(sig(i).map_or(ann_label, |(c, _)| c.name.as_str()), 16)?;
        }
        for i in 0..ns {
            h.field(&truncate(sig(i).map_or("", |(c, _)| c.transducer.as_str()), 80), 80)?;
        }
        for i in 0..ns {
            h.field(&truncate(sig(i).map_or("", |(_, p)| p.unit.as_str()), 8), 8)?;
        }
        for i in 0..ns {
            h.field(sig(i).map_or("-1", |(_, p)| p.pmin_s.as_str()), 8)?;
        }
        for i in 0..ns {
            h.field(sig(i).map_or("1", |(_, p)| p.pmax_s.as_str()), 8)?;
        }
        for _ in 0..ns {
            h.field(&self.dmin.to_string(), 8)?;
        }
        for _ in 0..ns {
            h.field(&self.dmax.to_string(), 8)?;
        }
        for i in 0..ns {
            h.field(&truncate(sig(i).map_or("", |(c, _)| c.prefilter.as_str()), 80), 80)?;
        }
        for i in 0..ns {
            h.field(&sig(i).map_or(self.ann_spr, |(_, p)| p.spr).to_string(), 8)?;
        }
        for _ in 0..ns {
            h.field("", 32)?;
        }
        Ok(())
    }

    /// The data records: each channel's samples quantised, padded past its end, then the record's
    /// annotation list padded with zeros.
    fn write_records(&self, w: &mut dyn Write) -> std::io::Result<()> {
        let (dmin, dmax, bps) = (self.dmin as f64, self.dmax as f64, self.bps);
        let mut buf: Vec<u8> = Vec::new();
        for r in 0..self.n_records {
            buf.clear();
            for (p, d) in self.plans.iter().zip(&self.rec.data) {
                let pad = (0.0f64).clamp(p.pmin.min(p.pmax), p.pmin.max(p.pmax));
                for k in 0..p.spr {
                    let x = d.get(r * p.spr + k).map_or(pad, |&v| v as f64);
                    let q = ((x - p.offset) / p.gain).round().clamp(dmin, dmax) as i32;
                    buf.extend_from_slice(&q.to_le_bytes()[..bps]);
                }
            }
            if self.opts.plus {
                let a = &self.ann_per_record[r];
                buf.extend_from_slice(a);
                buf.extend(std::iter::repeat_n(0u8, self.ann_spr * bps - a.len()));
            }
            w.write_all(&buf)?;
        }
        Ok(())
    }
}

/// The header being written: fixed-width ASCII fields, space-padded.
struct HeaderBytes<'a> {
    path: &'a Path,
    bytes: Vec<u8>,
}

impl HeaderBytes<'_> {
    fn field(&mut self, s: &str, w: usize) -> Result<(), IoError> {
        if s.len() > w {
            return Err(invalid(self.path, format!("header value {s:?} is longer than its {w}-byte field")));
        }
        self.bytes.extend_from_slice(s.as_bytes());
        self.bytes.extend(std::iter::repeat_n(b' ', w - s.len()));
        Ok(())
    }
}

/// A writable recording: channels, one data row each, positive rates and labels that fit.
fn check_channels(path: &Path, rec: &Recording) -> Result<(), IoError> {
    if rec.channels.is_empty() {
        return Err(invalid(path, "no channels".into()));
    }
    if rec.data.len() != rec.channels.len() {
        return Err(invalid(
            path,
            format!("{} channels but {} data rows", rec.channels.len(), rec.data.len()),
        ));
    }
    for c in &rec.channels {
        if !(c.fs > 0.0 && c.fs.is_finite()) {
            return Err(invalid(path, format!("channel {:?} has sampling rate {}", c.name, c.fs)));
        }
        if c.name.len() > 16 {
            return Err(invalid(path, format!("channel label {:?} is longer than 16 bytes", c.name)));
        }
    }
    Ok(())
}

/// The record duration asked for, or the first of the usual ones that holds whole samples of
/// every channel.
fn record_duration(path: &Path, rec: &Recording, opts: &EdfWriteOptions) -> Result<f64, IoError> {
    let whole = |x: f64| (x - x.round()).abs() < 1e-9 * x.max(1.0);
    match opts.record_duration_s {
        Some(d) => {
            if d.is_nan() || d <= 0.0 || !rec.channels.iter().all(|c| whole(c.fs * d)) {
                return Err(invalid(
                    path,
                    format!("record duration {d} s does not hold whole samples of every channel"),
                ));
            }
            Ok(d)
        }
        None => [1.0, 2.0, 4.0, 5.0, 10.0, 20.0, 50.0, 100.0, 0.5, 0.25, 0.2, 0.1]
            .into_iter()
            .find(|&d| rec.channels.iter().all(|c| whole(c.fs * d)))
            .ok_or_else(|| {
                invalid(path, "no record duration gives every channel a whole number of samples".into())
            }),
    }
}

/// How one channel is written.
struct Plan {
    spr: usize,
    pmin: f64,
    pmax: f64,
    pmin_s: String,
    pmax_s: String,
    gain: f64,
    offset: f64,
    unit: String,
}

impl Plan {
    /// The channel's samples per record, unit and physical range (as written in 8 characters)
    /// for the digital range `(dmin, dmax)`.
    fn new(path: &Path, c: &Channel, d: &[f32], dur: f64, (dmin, dmax): (i32, i32)) -> Result<Plan, IoError> {
        let spr = (c.fs * dur).round() as usize;
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for &x in d {
            if !x.is_finite() {
                return Err(invalid(path, format!("channel {:?} holds a non-finite sample", c.name)));
            }
            lo = lo.min(x as f64);
            hi = hi.max(x as f64);
        }
        if d.is_empty() {
            lo = 0.0;
            hi = 0.0;
        }
        let unit = if voltage_scale(&c.unit).is_some() { "uV".to_string() } else { c.unit.clone() };
        let (pmin, pmax) = physical_range(c, lo, hi);
        // The file stores 8 characters; round outwards so the data stay inside the written range.
        let (pmin_s, pmax_s) = if pmin <= pmax {
            (fmt8(pmin, false), fmt8(pmax, true))
        } else {
            (fmt8(pmin, true), fmt8(pmax, false))
        };
        let pmin_s =
            pmin_s.ok_or_else(|| invalid(path, format!("channel {:?}: minimum {pmin} too large", c.name)))?;
        let pmax_s =
            pmax_s.ok_or_else(|| invalid(path, format!("channel {:?}: maximum {pmax} too large", c.name)))?;
        let pmin: f64 = pmin_s.parse().expect("fmt8 writes a number");
        let pmax: f64 = pmax_s.parse().expect("fmt8 writes a number");
        let gain = (pmax - pmin) / (dmax as f64 - dmin as f64);
        let offset = pmin - gain * dmin as f64;
        Ok(Plan { spr, pmin, pmax, pmin_s, pmax_s, gain, offset, unit })
    }
}

/// The channel's own physical range when its data `lo..=hi` fit in it (and it is in µV or in a
/// unit that is not a voltage), else the data's range, widened when it is flat.
fn physical_range(c: &Channel, lo: f64, hi: f64) -> (f64, f64) {
    match c.physical_range {
        Some((a, b)) if a != b && a.min(b) <= lo && a.max(b) >= hi && voltage_scale(&c.unit) == Some(1.0) => {
            (a, b)
        }
        Some((a, b)) if a != b && a.min(b) <= lo && a.max(b) >= hi && voltage_scale(&c.unit).is_none() => {
            (a, b)
        }
        _ => {
            if hi - lo < 1e-6 * hi.abs().max(lo.abs()).max(1.0) {
                (lo - 1.0, hi + 1.0)
            } else {
                (lo, hi)
            }
        }
    }
}

/// Record onsets (seconds from the first sample): contiguous, or following the recording's
/// segments when they have gaps (then the file is EDF+D / BDF+D).
fn record_onsets(rec: &Recording, n_records: usize, dur: f64, discontinuous: bool) -> Vec<f64> {
    (0..n_records.max(1))
        .map(|i| {
            let t = i as f64 * dur;
            match rec.segments.iter().rev().find(|s| s.data_offset_s <= t + 1e-9) {
                Some(s) if discontinuous => s.onset_s + (t - s.data_offset_s),
                _ => t,
            }
        })
        .collect()
}

/// Each segment of a discontinuous recording must start on a record boundary.
fn check_segment_boundaries(path: &Path, rec: &Recording, dur: f64) -> Result<(), IoError> {
    for s in &rec.segments {
        let k = s.data_offset_s / dur;
        if (k - k.round()).abs() > 1e-6 {
            return Err(invalid(
                path,
                format!(
                    "segment at {} s of data does not start on a {dur}-s record boundary",
                    s.data_offset_s
                ),
            ));
        }
    }
    Ok(())
}

/// Annotations, one TAL list per record (placed in the record that holds their onset), each
/// starting with the record's time-keeping annotation.
fn annotation_lists(rec: &Recording, record_onsets: &[f64]) -> Vec<Vec<u8>> {
    let first_onset = rec.start.map_or(0.0, |s| s.nanos as f64 * 1e-9);
    let mut lists: Vec<Vec<u8>> =
        record_onsets.iter().map(|&o| tal::encode(first_onset + o, None, &[""])).collect();
    for a in &rec.annotations {
        let idx = record_onsets.iter().rposition(|&o| o <= a.onset_s + 1e-9).unwrap_or(0);
        lists[idx].extend(tal::encode(first_onset + a.onset_s, a.duration_s, &[&a.description]));
    }
    lists
}

/// The patient field: EDF+'s `code sex birthdate name` (`X` for unknown), or the raw field.
fn patient_field(rec: &Recording, plus: bool) -> String {
    let x = |s: &str| if s.is_empty() { "X".to_string() } else { s.replace(' ', "_") };
    if plus {
        let sub = &rec.subject;
        format!(
            "{} {} {} {}",
            x(&sub.id),
            x(sub.sex.as_deref().unwrap_or("")),
            x(sub.birthdate.as_deref().unwrap_or("")),
            x(sub.name.as_deref().unwrap_or(""))
        )
    } else if rec.subject.raw.is_empty() {
        rec.subject.id.clone()
    } else {
        rec.subject.raw.clone()
    }
}

/// The recording field: EDF+'s `Startdate dd-MMM-yyyy ...` (the rest kept from the recording), or
/// the recording's own.
fn recording_field(rec: &Recording, plus: bool) -> String {
    if !plus {
        return rec.recording_id.clone();
    }
    let date = match rec.start {
        Some(s) => format!("{:02}-{}-{:04}", s.day, month_abbrev(s.month), s.year),
        None => "X".into(),
    };
    let rest = rec
        .recording_id
        .strip_prefix("Startdate ")
        .map_or(rec.recording_id.as_str(), |r| r.split_once(' ').map_or("", |(_, tail)| tail));
    let rest = if rest.trim().is_empty() { "X X X" } else { rest.trim() };
    format!("Startdate {date} {rest}")
}

fn truncate(s: &str, w: usize) -> String {
    // Keep whole UTF-8 characters and printable ASCII only where it matters (header is ASCII).
    let mut out = String::new();
    for ch in s.chars() {
        if out.len() + ch.len_utf8() > w {
            break;
        }
        out.push(ch);
    }
    out
}

/// Formats `v` in at most 8 characters, rounding up (`up`) or down so that the written value
/// bounds `v` on that side. `None` when the magnitude cannot be written in 8 characters.
fn fmt8(v: f64, up: bool) -> Option<String> {
    if v.abs() >= 1e8 - 1.0 {
        return None;
    }
    for decimals in (0..=7).rev() {
        let scale = 10f64.powi(decimals);
        let r = if up { (v * scale).ceil() / scale } else { (v * scale).floor() / scale };
        let s = format!("{r:.*}", decimals as usize);
        let s = if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s };
        let s = if s == "-0" { "0".to_string() } else { s };
        if s.len() <= 8 {
            return Some(s);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fmt8_rounds_outwards() {
        assert_eq!(fmt8(-3276.8, false).as_deref(), Some("-3276.8"));
        assert_eq!(fmt8(123.456789123, true).as_deref(), Some("123.4568"));
        assert_eq!(fmt8(-123.456789123, false).as_deref(), Some("-123.457"));
        assert_eq!(fmt8(1e9, true), None);
    }
}

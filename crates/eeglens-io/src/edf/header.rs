//! The fixed-width ASCII header shared by EDF, EDF+, BDF and BDF+.
//!
//! Layout (bytes): version 8, patient 80, recording 80, start date 8 (`dd.mm.yy`), start time 8
//! (`hh.mm.ss`), header bytes 8, reserved 44 (`EDF+C`, `EDF+D`, `24BIT`, `BDF+C`, `BDF+D`), number of
//! data records 8 (`-1` while recording), record duration 8 (s), number of signals 4. Then, for
//! `ns` signals, each field for all signals in turn: label 16, transducer 80, physical dimension 8,
//! physical min 8, physical max 8, digital min 8, digital max 8, prefiltering 80, samples per
//! record 8, reserved 32.

use std::path::{Path, PathBuf};

use crate::recording::{implausible_fs, DateTime, Subject, MAX_FS, MIN_FS};
use crate::IoError;

/// Which family and variant the header declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Variant {
    /// 24-bit BioSemi BDF rather than 16-bit EDF.
    pub bdf: bool,
    /// `None` for plain EDF/BDF, `Some(false)` for +C, `Some(true)` for +D.
    pub plus: Option<bool>,
}

/// One signal's header.
#[derive(Debug, Clone)]
pub(crate) struct SignalHeader {
    pub label: String,
    pub transducer: String,
    pub unit: String,
    pub physical_min: f64,
    pub physical_max: f64,
    pub digital_min: i32,
    pub digital_max: i32,
    pub prefilter: String,
    pub samples_per_record: usize,
    /// `EDF Annotations` / `BDF Annotations`.
    pub is_annotation: bool,
}

/// The parsed header.
#[derive(Debug, Clone)]
pub(crate) struct Header {
    pub path: PathBuf,
    pub variant: Variant,
    pub patient: String,
    pub recording: String,
    /// Start date-time from the header (whole seconds), `None` for EDF+ `Startdate X`.
    pub start: Option<DateTime>,
    pub header_bytes: u64,
    /// Number of records the file actually holds (after checking against its size).
    pub n_records: usize,
    pub record_duration: f64,
    pub signals: Vec<SignalHeader>,
    pub warnings: Vec<String>,
}

impl Header {
    /// Bytes per sample: 2 (EDF) or 3 (BDF).
    pub fn bytes_per_sample(&self) -> usize {
        if self.variant.bdf {
            3
        } else {
            2
        }
    }

    /// Bytes in one data record.
    pub fn record_bytes(&self) -> usize {
        self.signals.iter().map(|s| s.samples_per_record).sum::<usize>() * self.bytes_per_sample()
    }

    /// Byte offset of signal `i` inside a record.
    pub fn signal_offset(&self, i: usize) -> usize {
        self.signals[..i].iter().map(|s| s.samples_per_record).sum::<usize>() * self.bytes_per_sample()
    }

    /// The subject as EDF+ structures the patient field (`code sex birthdate name`), or the raw field.
    pub fn subject(&self) -> Subject {
        let mut s = Subject { raw: self.patient.clone(), ..Subject::default() };
        let parts: Vec<&str> = self.patient.split_whitespace().collect();
        if self.variant.plus.is_some() && parts.len() >= 4 {
            let opt = |x: &str| (x != "X").then(|| x.to_string());
            s.id = if parts[0] == "X" { String::new() } else { parts[0].to_string() };
            s.sex = opt(parts[1]);
            s.birthdate = opt(parts[2]);
            s.name = opt(parts[3]);
        } else {
            s.id = self.patient.clone();
        }
        s
    }
}

/// Decodes a header text field: UTF-8 when valid, Latin-1 otherwise; trailing/leading spaces removed.
pub(crate) fn text(bytes: &[u8]) -> String {
    let s = match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => bytes.iter().map(|&b| b as char).collect(),
    };
    s.trim_matches(|c: char| c == ' ' || c == '\0').to_string()
}

struct Fields<'a> {
    path: &'a Path,
    bytes: &'a [u8],
}

impl Fields<'_> {
    fn err(&self, field: &str, offset: usize, value: &str, reason: &str) -> IoError {
        IoError::Field {
            path: self.path.to_path_buf(),
            field: field.to_string(),
            offset: offset as u64,
            value: value.to_string(),
            reason: reason.to_string(),
        }
    }

    fn text(&self, offset: usize, len: usize) -> String {
        text(&self.bytes[offset..offset + len])
    }

    fn number(&self, field: &str, offset: usize, len: usize) -> Result<f64, IoError> {
        let raw = self.text(offset, len);
        // Some writers use a decimal comma; the number is otherwise unambiguous.
        let v: f64 =
            raw.replace(',', ".").parse().map_err(|_| self.err(field, offset, &raw, "not a number"))?;
        if !v.is_finite() {
            return Err(self.err(field, offset, &raw, "not a finite number"));
        }
        Ok(v)
    }

    fn integer(&self, field: &str, offset: usize, len: usize) -> Result<i64, IoError> {
        let raw = self.text(offset, len);
        raw.parse::<i64>().or_else(|_| {
            // `256.` or `1.0` happen in the wild; accept integral decimals only.
            let v: f64 = raw.parse().map_err(|_| self.err(field, offset, &raw, "not an integer"))?;
            if v.fract() == 0.0 && v.abs() < 1e15 {
                Ok(v as i64)
            } else {
                Err(self.err(field, offset, &raw, "not an integer"))
            }
        })
    }
}

const MONTHS: [&str; 12] =
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];

/// Month abbreviation as EDF+ writes it (`JAN`..`DEC`), 1-based.
pub(crate) fn month_abbrev(m: u8) -> &'static str {
    MONTHS[(m.clamp(1, 12) - 1) as usize]
}

/// Parses the fixed header (first `256 * (ns + 1)` bytes). `file_len` is used to check the record count.
pub(crate) fn parse(path: &Path, bytes: &[u8], file_len: u64) -> Result<Header, IoError> {
    let truncated = |what: &str, offset: u64, needed: u64| IoError::Truncated {
        path: path.to_path_buf(),
        what: what.to_string(),
        offset,
        needed,
        len: file_len,
    };
    if bytes.len() < 256 {
        return Err(truncated("the fixed 256-byte header", 0, 256));
    }
    let f = Fields { path, bytes };
    let variant = variant(&f)?;
    let patient = f.text(8, 80);
    let recording = f.text(88, 80);
    let ns = signal_count(&f)?;
    let expected_header = 256 * (ns as u64 + 1);
    if (bytes.len() as u64) < expected_header {
        return Err(truncated(&format!("the header of {ns} signals"), 0, expected_header));
    }
    let record_duration = record_duration(&f)?;
    let mut warnings = Vec::new();
    let signals = signal_headers(&f, ns, variant.bdf, record_duration, &mut warnings)?;
    if record_duration == 0.0 && signals.iter().any(|s| !s.is_annotation) {
        return Err(f.err(
            "duration of a data record",
            244,
            &f.text(244, 8),
            "zero while the file has ordinary signals: their sampling rate would be infinite",
        ));
    }

    let mut header = Header {
        path: path.to_path_buf(),
        variant,
        patient,
        recording,
        start: None,
        header_bytes: expected_header,
        n_records: 0,
        record_duration,
        signals,
        warnings,
    };
    header.n_records = record_count(&f, &mut header, file_len)?;
    header.start = parse_start(&f, &header)?;
    Ok(header)
}

/// The version field (`0`, or byte 0xFF and `BIOSEMI`) and the reserved field's `+C`/`+D`.
fn variant(f: &Fields<'_>) -> Result<Variant, IoError> {
    let bdf = f.bytes[0] == 0xFF;
    let version = if bdf { text(&f.bytes[1..8]) } else { f.text(0, 8) };
    if bdf && version != "BIOSEMI" {
        return Err(f.err("version", 0, &version, "a 0xFF version byte must be followed by BIOSEMI"));
    }
    if !bdf && version != "0" {
        return Err(f.err("version", 0, &version, "EDF version must be 0 (BDF starts with byte 0xFF)"));
    }
    let reserved = f.text(192, 44);
    let plus = if reserved.starts_with("EDF+C") || reserved.starts_with("BDF+C") {
        Some(false)
    } else if reserved.starts_with("EDF+D") || reserved.starts_with("BDF+D") {
        Some(true)
    } else {
        None
    };
    Ok(Variant { bdf, plus })
}

/// The number of signals, checked against the header size the file declares.
fn signal_count(f: &Fields<'_>) -> Result<usize, IoError> {
    let header_bytes = f.integer("number of bytes in header", 184, 8)?;
    let ns = f.integer("number of signals", 252, 4)?;
    if ns < 1 {
        return Err(f.err("number of signals", 252, &ns.to_string(), "must be at least 1"));
    }
    let ns = ns as usize;
    let expected_header = 256 * (ns as u64 + 1);
    if header_bytes as u64 != expected_header {
        return Err(f.err(
            "number of bytes in header",
            184,
            &header_bytes.to_string(),
            &format!("must be 256 * (1 + {ns} signals) = {expected_header}"),
        ));
    }
    Ok(ns)
}

/// The duration of a data record in seconds: zero, or one a recording can have.
fn record_duration(f: &Fields<'_>) -> Result<f64, IoError> {
    let record_duration = f.number("duration of a data record", 244, 8)?;
    if record_duration < 0.0 {
        return Err(f.err("duration of a data record", 244, &f.text(244, 8), "must not be negative"));
    }
    // Zero is allowed for files of annotations only (checked by `parse`). Otherwise every record
    // holds at least one sample of each signal, so a record shorter than one sample at MAX_FS, or
    // longer than one sample at MIN_FS, makes a rate no recording has: such numbers are a broken
    // header. Writers use records of a fraction of a second to a minute.
    let (min_s, max_s) = (1.0 / MAX_FS, 1.0 / MIN_FS);
    if record_duration != 0.0 && !(min_s..=max_s).contains(&record_duration) {
        return Err(f.err(
            "duration of a data record",
            244,
            &f.text(244, 8),
            &format!("implausible: a record must last between {min_s:e} s and {max_s:e} s"),
        ));
    }
    Ok(record_duration)
}

/// Where each signal's fields are: each field for all `ns` signals in turn.
struct SignalLayout {
    starts: [usize; 10],
}

impl SignalLayout {
    const WIDTHS: [usize; 10] = [16, 80, 8, 8, 8, 8, 8, 80, 8, 32];

    fn new(ns: usize) -> Self {
        let mut starts = [0usize; 10];
        let mut acc = 256;
        for (k, w) in Self::WIDTHS.iter().enumerate() {
            starts[k] = acc;
            acc += w * ns;
        }
        SignalLayout { starts }
    }

    /// Offset of field `k` (0 = label ... 9 = reserved) of signal `i`.
    fn at(&self, k: usize, i: usize) -> usize {
        self.starts[k] + i * Self::WIDTHS[k]
    }
}

/// The `ns` signal headers; a physical range of zero width is a warning.
fn signal_headers(
    f: &Fields<'_>,
    ns: usize,
    bdf: bool,
    record_duration: f64,
    warnings: &mut Vec<String>,
) -> Result<Vec<SignalHeader>, IoError> {
    let layout = SignalLayout::new(ns);
    let mut signals = Vec::with_capacity(ns);
    for i in 0..ns {
        let s = signal_header(f, &layout, i, bdf, record_duration)?;
        if !s.is_annotation && s.physical_max == s.physical_min {
            warnings.push(format!(
                "signal {} ({}): physical minimum equals physical maximum ({}); \
                 all its samples read as that value",
                i + 1,
                crate::error::quote(&s.label),
                s.physical_min
            ));
        }
        signals.push(s);
    }
    Ok(signals)
}

/// Signal `i`'s header, its numbers checked.
fn signal_header(
    f: &Fields<'_>,
    layout: &SignalLayout,
    i: usize,
    bdf: bool,
    record_duration: f64,
) -> Result<SignalHeader, IoError> {
    let at = |k: usize| layout.at(k, i);
    let label = f.text(at(0), 16);
    let is_annotation = label == "EDF Annotations" || label == "BDF Annotations";
    let n = i + 1;
    let physical_min = f.number(&format!("signal {n} physical minimum"), at(3), 8)?;
    let physical_max = f.number(&format!("signal {n} physical maximum"), at(4), 8)?;
    let digital_min = f.integer(&format!("signal {n} digital minimum"), at(5), 8)?;
    let digital_max = f.integer(&format!("signal {n} digital maximum"), at(6), 8)?;
    let spr_field = format!("signal {n} number of samples in each data record");
    let spr = f.integer(&spr_field, at(8), 8)?;
    let limit: i64 = if bdf { 1 << 23 } else { 1 << 15 };
    for (name, k, v) in [("digital minimum", 5, digital_min), ("digital maximum", 6, digital_max)] {
        if v < -limit || v >= limit {
            return Err(f.err(
                &format!("signal {n} {name}"),
                at(k),
                &v.to_string(),
                &format!("outside the {}-bit range", if bdf { 24 } else { 16 }),
            ));
        }
    }
    if !is_annotation && digital_max <= digital_min {
        return Err(f.err(
            &format!("signal {n} digital maximum"),
            at(6),
            &digital_max.to_string(),
            &format!("must exceed the digital minimum {digital_min}"),
        ));
    }
    if spr <= 0 {
        return Err(f.err(
            &spr_field,
            at(8),
            &spr.to_string(),
            "zero or negative: the sampling rate would not be positive",
        ));
    }
    if spr > 1 << 28 {
        return Err(f.err(&spr_field, at(8), &spr.to_string(), "implausibly large"));
    }
    if !is_annotation && record_duration > 0.0 {
        if let Some(why) = implausible_fs(spr as f64 / record_duration) {
            return Err(f.err(
                &spr_field,
                at(8),
                &spr.to_string(),
                &format!("with data records of {record_duration} s, {why}"),
            ));
        }
    }
    Ok(SignalHeader {
        label,
        transducer: f.text(at(1), 80),
        unit: f.text(at(2), 8),
        physical_min,
        physical_max,
        digital_min: digital_min as i32,
        digital_max: digital_max as i32,
        prefilter: f.text(at(7), 80),
        samples_per_record: spr as usize,
        is_annotation,
    })
}

/// The number of data records the file holds: the declared count checked against the file size,
/// or inferred from it when the count is `-1`. Extra bytes and an inferred count are warnings.
fn record_count(f: &Fields<'_>, header: &mut Header, file_len: u64) -> Result<usize, IoError> {
    let ns = header.signals.len();
    // Every size below comes from header fields, so it is computed with checked arithmetic: a
    // product that wrapped would pass the comparison with the file size and let the reader
    // allocate what the file does not hold.
    let record_bytes = header
        .signals
        .iter()
        .try_fold(0u64, |acc, s| acc.checked_add(s.samples_per_record as u64))
        .and_then(|n| n.checked_mul(header.bytes_per_sample() as u64))
        .filter(|&n| usize::try_from(n).is_ok())
        .ok_or_else(|| {
            f.err(
                "number of signals",
                252,
                &ns.to_string(),
                "the samples per record of all signals add up to more bytes than a record can hold",
            )
        })?;
    let data_bytes = file_len.saturating_sub(header.header_bytes);
    let declared = f.integer("number of data records", 236, 8)?;
    if declared == -1 {
        if data_bytes % record_bytes != 0 {
            return Err(f.err(
                "number of data records",
                236,
                "-1",
                &format!(
                    "unknown (-1) and the {data_bytes} data bytes are not a whole number of \
                     {record_bytes}-byte records"
                ),
            ));
        }
        let n_records = (data_bytes / record_bytes) as usize;
        header.warnings.push(format!(
            "number of data records is -1 (recording not closed); inferred {n_records} from the file size"
        ));
        return Ok(n_records);
    }
    if declared < 0 {
        return Err(f.err("number of data records", 236, &declared.to_string(), "negative"));
    }
    let Some(expected) = (declared as u64).checked_mul(record_bytes) else {
        return Err(f.err(
            "number of data records",
            236,
            &declared.to_string(),
            &format!(
                "{declared} records of {record_bytes} bytes are more bytes than any file holds; \
                 the file holds {data_bytes} bytes of data"
            ),
        ));
    };
    if data_bytes < expected {
        return Err(IoError::SizeMismatch {
            path: header.path.clone(),
            what: format!("number of data records {declared} of {record_bytes} bytes"),
            expected,
            actual: data_bytes,
        });
    }
    if data_bytes > expected {
        header.warnings.push(format!(
            "{} bytes after the {declared} declared data records are ignored",
            data_bytes - expected
        ));
    }
    Ok(declared as usize)
}

fn parse_start(f: &Fields<'_>, h: &Header) -> Result<Option<DateTime>, IoError> {
    let date = f.text(168, 8);
    let time = f.text(176, 8);
    let nums = |s: &str, offset: usize, field: &str| -> Result<[u32; 3], IoError> {
        let parts: Vec<&str> = s.split('.').collect();
        let bad = || f.err(field, offset, s, "expected three dot-separated two-digit numbers");
        if parts.len() != 3 {
            return Err(bad());
        }
        let mut out = [0u32; 3];
        for (o, p) in out.iter_mut().zip(&parts) {
            if p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            *o = p.parse().map_err(|_| bad())?;
        }
        Ok(out)
    };
    let [hh, mi, ss] = nums(&time, 176, "start time")?;

    // EDF+: the recording field may carry the full date ("Startdate 02-MAR-2002 ...").
    let mut full_date: Option<(i32, u8, u8)> = None;
    let mut unknown_plus = false;
    if h.variant.plus.is_some() {
        let mut it = h.recording.split_whitespace();
        if it.next() == Some("Startdate") {
            match it.next() {
                Some("X") => unknown_plus = true,
                Some(d) => {
                    let p: Vec<&str> = d.split('-').collect();
                    if p.len() == 3 {
                        let m = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(p[1]));
                        if let (Ok(day), Some(m), Ok(y)) = (p[0].parse::<u8>(), m, p[2].parse::<i32>()) {
                            full_date = Some((y, m as u8 + 1, day));
                        }
                    }
                }
                None => {}
            }
        }
    }
    let (year, month, day) = if date.eq_ignore_ascii_case("dd.mm.yy") || date.ends_with(".yy") {
        match full_date {
            Some(d) => d,
            None => {
                return Err(f.err(
                    "start date",
                    168,
                    &date,
                    "year `yy` but no Startdate in the recording field",
                ))
            }
        }
    } else {
        let [dd, mm, yy] = nums(&date, 168, "start date")?;
        let year = if yy >= 85 { 1900 + yy as i32 } else { 2000 + yy as i32 };
        match full_date {
            // The recording field is authoritative for the century (EDF+ spec, "clipping date").
            Some((fy, fm, fd)) if fy % 100 == year % 100 && fm as u32 == mm && fd as u32 == dd => {
                (fy, fm, fd)
            }
            _ => (year, mm as u8, dd as u8),
        }
    };
    let dt = DateTime { year, month, day, hour: hh as u8, minute: mi as u8, second: ss as u8, nanos: 0 };
    if !dt.is_valid() {
        return Err(f.err(
            "start date/time",
            168,
            &format!("{date} {time}"),
            "impossible date or time of day",
        ));
    }
    Ok(if unknown_plus { None } else { Some(dt) })
}

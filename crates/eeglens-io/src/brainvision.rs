//! BrainVision Core Data Format 1.0 (`.vhdr` header, `.vmrk` markers, `.eeg` binary data).
//!
//! The header is an INI-like text file. Read here: `[Common Infos]` `DataFile`, `MarkerFile`,
//! `DataFormat` (only `BINARY`), `DataOrientation` (`MULTIPLEXED` or `VECTORIZED`),
//! `NumberOfChannels`, `SamplingInterval` (µs), `Codepage`; `[Binary Infos]` `BinaryFormat`
//! (`INT_16`, `UINT_16`, `INT_32`, `IEEE_FLOAT_32`); `[Channel Infos]`
//! `Ch<n>=<name>,<reference>,<resolution>,<unit>` (`\1` in a name stands for a comma, the
//! resolution defaults to 1 and the unit to µV). Values are `raw * resolution` in the channel's unit.
//!
//! Markers `Mk<n>=<type>,<description>,<position>,<points>,<channel>[,<date>]` become annotations
//! described as `type/description` (the convention of MNE-Python), at `(position - 1) / fs`; a
//! marker one point long or shorter has no duration. The first `New Segment` marker's date
//! (`YYYYMMDDhhmmssuuuuuu`) is the start time; a `New Segment` at the first sample is not an
//! annotation.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::error::quote;
use crate::files;
use crate::recording::{
    duplicate_label_warnings, implausible_fs, sample_range, select_by_label, voltage_scale, Annotation,
    Channel, ChannelType, DateTime, Format, ReadOptions, Recording, Segment,
};
use crate::IoError;

/// Sample encodings of the binary file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BinaryFormat {
    Int16,
    UInt16,
    Int32,
    Float32,
}

impl BinaryFormat {
    fn bytes(self) -> usize {
        match self {
            BinaryFormat::Int16 | BinaryFormat::UInt16 => 2,
            BinaryFormat::Int32 | BinaryFormat::Float32 => 4,
        }
    }
}

/// The parsed `.vhdr`.
#[derive(Debug, Clone)]
struct Header {
    data_file: PathBuf,
    marker_file: Option<PathBuf>,
    vectorized: bool,
    format: BinaryFormat,
    fs: f64,
    channels: Vec<(String, f64, String)>,
    /// Line of `NumberOfChannels`, for errors about the channel count.
    n_channels_line: usize,
}

fn decode_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        // Version 1.0 files are ANSI (Windows-1252 / Latin-1); µ is 0xB5 in both.
        Err(_) => bytes.iter().map(|&b| b as char).collect(),
    }
}

/// The lines of a text file, ended by `\r\n`, `\n` or a lone `\r` (files from classic Mac OS),
/// so that line numbers count what an editor shows.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let t = rest?;
        match t.find(['\r', '\n']) {
            None => {
                rest = None;
                // A final line ending does not start another line.
                (!t.is_empty()).then_some(t)
            }
            Some(i) => {
                let skip = if t[i..].starts_with("\r\n") { 2 } else { 1 };
                rest = Some(&t[i + skip..]);
                Some(&t[..i])
            }
        }
    })
}

/// Iterates `(line number, section, key, value)` over an INI-like BrainVision text file.
fn ini(text: &str) -> Vec<(usize, String, String, String)> {
    let mut section = String::new();
    let mut out = Vec::new();
    for (i, raw) in lines(text).enumerate() {
        let line = raw.trim_start_matches('\u{feff}').trim();
        if line.is_empty() || line.starts_with(';') {
            continue;
        }
        if line.starts_with('[') && line.ends_with(']') {
            section = line[1..line.len() - 1].trim().to_string();
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            out.push((i + 1, section.clone(), k.trim().to_string(), v.trim().to_string()));
        }
    }
    out
}

/// 1-based number of the line that opens `[section]`.
fn section_line(text: &str, section: &str) -> Option<usize> {
    lines(text)
        .position(|raw| {
            let line = raw.trim_start_matches('\u{feff}').trim();
            line.len() >= 2
                && line.starts_with('[')
                && line.ends_with(']')
                && line[1..line.len() - 1].trim().eq_ignore_ascii_case(section)
        })
        .map(|i| i + 1)
}

/// The `.vhdr` text and its entries, with the lookups and errors the header's steps share.
struct HeaderText<'a> {
    path: &'a Path,
    text: String,
    entries: Vec<(usize, String, String, String)>,
}

impl<'a> HeaderText<'a> {
    /// Decodes the header and checks its first line.
    fn new(path: &'a Path, bytes: &[u8]) -> Result<Self, IoError> {
        let text = decode_text(bytes);
        let first = lines(&text).next().unwrap_or("").trim_start_matches('\u{feff}').trim();
        if !(first.starts_with("Brain Vision Data Exchange Header File")
            || first.starts_with("BrainVision Data Exchange Header File"))
        {
            let what = format!("not a BrainVision header (first line {})", quote(first));
            return Err(IoError::Text { path: path.to_path_buf(), line: 1, what });
        }
        let entries = ini(&text);
        Ok(HeaderText { path, text, entries })
    }

    fn err(&self, line: usize, what: String) -> IoError {
        IoError::Text { path: self.path.to_path_buf(), line, what }
    }

    /// `(line, value)` of `key` in `[sec]`, both matched ignoring case.
    fn get(&self, sec: &str, key: &str) -> Option<(usize, String)> {
        self.entries
            .iter()
            .find(|(_, s, k, _)| s.eq_ignore_ascii_case(sec) && k.eq_ignore_ascii_case(key))
            .map(|(l, _, _, v)| (*l, v.clone()))
    }

    /// A missing entry is reported at the line of its section, or at the last line when the
    /// section is missing too.
    fn missing(&self, sec: &str, key: &str) -> IoError {
        match section_line(&self.text, sec) {
            Some(l) => self.err(l, format!("[{sec}] has no {key}")),
            None => self.err(lines(&self.text).count().max(1), format!("no [{sec}] section, so no {key}")),
        }
    }

    /// As [`HeaderText::get`], an error when the entry is missing.
    fn require(&self, sec: &str, key: &str) -> Result<(usize, String), IoError> {
        self.get(sec, key).ok_or_else(|| self.missing(sec, key))
    }

    /// `DataFormat`: only `BINARY` (the default) is read.
    fn check_data_format(&self) -> Result<(), IoError> {
        if let Some((l, v)) = self.get("Common Infos", "DataFormat") {
            if !v.eq_ignore_ascii_case("BINARY") {
                return Err(IoError::Unsupported {
                    path: self.path.to_path_buf(),
                    what: format!("DataFormat={} (line {l}); only BINARY is read", quote(&v)),
                });
            }
        }
        Ok(())
    }

    /// `DataOrientation`: whether each channel's samples are stored together.
    fn vectorized(&self) -> Result<bool, IoError> {
        match self.get("Common Infos", "DataOrientation") {
            None => Ok(false),
            Some((_, v)) if v.eq_ignore_ascii_case("MULTIPLEXED") => Ok(false),
            Some((_, v)) if v.eq_ignore_ascii_case("VECTORIZED") => Ok(true),
            Some((l, v)) => {
                Err(self
                    .err(l, format!("DataOrientation {} is neither MULTIPLEXED nor VECTORIZED", quote(&v))))
            }
        }
    }

    /// `NumberOfChannels` and its line.
    fn channel_count(&self) -> Result<(usize, usize), IoError> {
        let (l, n) = self.require("Common Infos", "NumberOfChannels")?;
        let n_channels: usize = n.parse().ok().filter(|&n| n > 0).ok_or_else(|| {
            self.err(l, format!("NumberOfChannels {} is not a positive integer", quote(&n)))
        })?;
        // Each channel needs its own `Ch<n>=` line: a larger count is wrong, and must not size an
        // allocation.
        if n_channels > self.entries.len() {
            return Err(self.err(
                l,
                format!(
                    "NumberOfChannels {n_channels} but the header has only {} entries",
                    self.entries.len()
                ),
            ));
        }
        Ok((l, n_channels))
    }

    /// The sampling rate in Hz, from `SamplingInterval` (µs).
    fn sampling_rate(&self) -> Result<f64, IoError> {
        let (l, si) = self.require("Common Infos", "SamplingInterval")?;
        let interval_us: f64 =
            si.parse().ok().filter(|&x: &f64| x > 0.0 && x.is_finite()).ok_or_else(|| {
                self.err(l, format!("SamplingInterval {} is not a positive number of µs", quote(&si)))
            })?;
        let fs = 1e6 / interval_us;
        if let Some(why) = implausible_fs(fs) {
            return Err(self.err(l, format!("SamplingInterval {} µs: {why}", quote(&si))));
        }
        Ok(fs)
    }

    /// `[Binary Infos]` `BinaryFormat`, `INT_16` by default.
    fn binary_format(&self) -> Result<BinaryFormat, IoError> {
        let Some((l, v)) = self.get("Binary Infos", "BinaryFormat") else {
            return Ok(BinaryFormat::Int16);
        };
        match v.to_ascii_uppercase().as_str() {
            "INT_16" => Ok(BinaryFormat::Int16),
            "UINT_16" => Ok(BinaryFormat::UInt16),
            "INT_32" => Ok(BinaryFormat::Int32),
            "IEEE_FLOAT_32" => Ok(BinaryFormat::Float32),
            _ => Err(self.err(
                l,
                format!("BinaryFormat {} is not INT_16, UINT_16, INT_32 or IEEE_FLOAT_32", quote(&v)),
            )),
        }
    }

    /// `Ch1=` to `Ch<n_channels>=`: name, resolution and unit of each channel.
    fn channels(&self, n_channels: usize) -> Result<Vec<(String, f64, String)>, IoError> {
        let mut channels = Vec::with_capacity(n_channels);
        for c in 1..=n_channels {
            let (l, v) = self.get("Channel Infos", &format!("Ch{c}")).ok_or_else(|| {
                self.missing("Channel Infos", &format!("Ch{c} (NumberOfChannels={n_channels})"))
            })?;
            let parts: Vec<&str> = v.split(',').collect();
            let name = parts[0].replace("\\1", ",");
            let resolution =
                match parts.get(2).map(|s| s.trim()) {
                    None | Some("") => 1.0,
                    Some(r) => r.parse::<f64>().ok().filter(|x| x.is_finite()).ok_or_else(|| {
                        self.err(l, format!("Ch{c} resolution {} is not a number", quote(r)))
                    })?,
                };
            let unit = match parts.get(3).map(|s| s.trim()) {
                None | Some("") => "µV".to_string(),
                Some(u) => u.to_string(),
            };
            channels.push((name, resolution, unit));
        }
        Ok(channels)
    }

    /// The path of a companion file named at `line` by `key`, inside the header's folder.
    fn companion(&self, line: usize, key: &str, name: &str) -> Result<PathBuf, IoError> {
        let dir = folder_of(self.path);
        // Version 2.0 allows `$b` for the header's own base name.
        let stem = self.path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        files::inside(dir, &name.replace("$b", &stem)).map_err(|why| self.err(line, format!("{key} {why}")))
    }
}

/// The header's folder, where its companion files are.
fn folder_of(path: &Path) -> &Path {
    path.parent().unwrap_or(Path::new("."))
}

fn parse_header(path: &Path) -> Result<Header, IoError> {
    let bytes = files::read_regular(path)?;
    let t = HeaderText::new(path, &bytes)?;
    let (data_line, data_file) = t.require("Common Infos", "DataFile")?;
    let marker_file = t.get("Common Infos", "MarkerFile");
    t.check_data_format()?;
    let vectorized = t.vectorized()?;
    let (n_channels_line, n_channels) = t.channel_count()?;
    let fs = t.sampling_rate()?;
    let format = t.binary_format()?;
    let channels = t.channels(n_channels)?;
    Ok(Header {
        data_file: t.companion(data_line, "DataFile", &data_file)?,
        marker_file: marker_file.map(|(l, m)| t.companion(l, "MarkerFile", &m)).transpose()?,
        vectorized,
        format,
        fs,
        channels,
        n_channels_line,
    })
}

/// Reads a whole BrainVision recording from its `.vhdr`.
///
/// # Errors
/// See [`read_brainvision_with`].
pub fn read_brainvision(path: &Path) -> Result<Recording, IoError> {
    read_brainvision_with(path, &ReadOptions::default())
}

/// Reads part of a BrainVision recording: only the requested channels and time range are read
/// from the binary file.
///
/// # Errors
/// [`IoError::Text`] for a malformed header or marker line, [`IoError::MissingFile`] when the
/// `.eeg` file does not exist, [`IoError::SizeMismatch`] when its size is not a whole number of
/// samples of the declared format and channel count, [`IoError::Selection`] for channels not in the
/// file. A `DataFile` or `MarkerFile` that is absolute or climbs out of the header's folder with
/// `..` is an [`IoError::Text`] naming its line; one that is, or lies in, a symbolic link leading
/// out of the header's folder is [`IoError::OutsideFolder`]; a header, data or marker file that is not a
/// regular file (a FIFO, a device, a directory) is [`IoError::NotAFile`], refused before it is
/// opened. A sampling interval whose rate is not between 1e-6 Hz and 1 MHz is an [`IoError::Text`].
/// Duplicate channel labels are [`Recording::warnings`].
pub fn read_brainvision_with(path: &Path, opts: &ReadOptions) -> Result<Recording, IoError> {
    let h = parse_header(path)?;
    let (mut file, len) = open_data(path, &h)?;
    let n_samples = sample_count(path, &h, len)?;

    let mut rec = Recording::new(Format::BrainVision);
    let names: Vec<&str> = h.channels.iter().map(|c| c.0.as_str()).collect();
    rec.warnings
        .extend(duplicate_label_warnings(names.iter().enumerate().map(|(i, n)| (i + 1, *n)), "channels"));
    let selected = select_by_label(path, &names, opts)?;
    let (first, last) = sample_range(opts, h.fs, n_samples);
    let scales = push_channels(&mut rec, &h, &selected);
    rec.data = read_samples(&mut file, &h, &selected, &scales, n_samples, first..last)?;
    rec.segments = vec![Segment { data_offset_s: 0.0, onset_s: 0.0, duration_s: n_samples as f64 / h.fs }];
    if let Some(m) = &h.marker_file {
        files::check_within(path, folder_of(path), m)?;
        match files::check_regular(m) {
            Ok(()) => read_markers(m, h.fs, &mut rec)?,
            Err(IoError::Os { cause, .. }) if cause.kind() == std::io::ErrorKind::NotFound => {
                rec.warnings.push(format!("marker file {} does not exist; no annotations", m.display()));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(rec)
}

/// Opens the binary data file, returning it with its length.
fn open_data(path: &Path, h: &Header) -> Result<(File, u64), IoError> {
    files::check_within(path, folder_of(path), &h.data_file)?;
    let file = match files::open_regular(&h.data_file) {
        Ok(f) => f,
        Err(IoError::Os { cause, .. }) if cause.kind() == std::io::ErrorKind::NotFound => {
            return Err(IoError::MissingFile {
                path: path.to_path_buf(),
                missing: h.data_file.clone(),
                referenced_by: "DataFile".into(),
            })
        }
        Err(e) => return Err(e),
    };
    let len = file.metadata().map_err(|e| IoError::os(&h.data_file, e))?.len();
    Ok((file, len))
}

/// Samples per channel in a data file of `len` bytes, which must be a whole number of frames.
fn sample_count(path: &Path, h: &Header, len: u64) -> Result<usize, IoError> {
    let bps = h.format.bytes() as u64;
    let nc = h.channels.len() as u64;
    // The channel count is bounded by the header's lines, so the frame size cannot overflow; it is
    // checked anyway, as every size made from header fields is.
    let frame_bytes = bps.checked_mul(nc).filter(|&f| f > 0).ok_or_else(|| IoError::Text {
        path: path.to_path_buf(),
        line: h.n_channels_line,
        what: format!("{nc} channels of {bps} bytes do not make a frame size"),
    })?;
    if len % frame_bytes != 0 {
        return Err(IoError::SizeMismatch {
            path: h.data_file.clone(),
            what: format!(
                "{nc} channels of {:?} ({bps} bytes a sample) declared in {}",
                h.format,
                path.display()
            ),
            expected: (len / frame_bytes).saturating_add(1).saturating_mul(frame_bytes),
            actual: len,
        });
    }
    usize::try_from(len / frame_bytes).map_err(|_| IoError::SizeMismatch {
        path: h.data_file.clone(),
        what: "more samples than this machine can address".into(),
        expected: len,
        actual: len,
    })
}

/// Adds the `selected` channels to `rec`; returns each one's factor from raw values to its unit.
fn push_channels(rec: &mut Recording, h: &Header, selected: &[usize]) -> Vec<f64> {
    let mut scales = Vec::with_capacity(selected.len());
    for &c in selected {
        let (name, res, unit) = &h.channels[c];
        let k = voltage_scale(unit);
        rec.channels.push(Channel {
            name: name.clone(),
            kind: ChannelType::infer(name, unit),
            unit: if k.is_some() { "uV".into() } else { unit.clone() },
            fs: h.fs,
            transducer: String::new(),
            prefilter: String::new(),
            bad: false,
            physical_range: None,
        });
        scales.push(res * k.unwrap_or(1.0));
    }
    scales
}

/// Reads samples `range` of the `selected` channels (of `n_samples` each) and scales them.
fn read_samples(
    file: &mut File,
    h: &Header,
    selected: &[usize],
    scales: &[f64],
    n_samples: usize,
    range: std::ops::Range<usize>,
) -> Result<Vec<Vec<f32>>, IoError> {
    let (first, count) = (range.start, range.len());
    let bps = h.format.bytes();
    let mut data: Vec<Vec<f32>> = vec![Vec::with_capacity(count); selected.len()];
    let io = |e| IoError::os(&h.data_file, e);
    if count == 0 {
        return Ok(data);
    }
    if h.vectorized {
        let mut buf = vec![0u8; count * bps];
        for (k, &c) in selected.iter().enumerate() {
            file.seek(SeekFrom::Start((c * n_samples + first) as u64 * bps as u64)).map_err(io)?;
            file.read_exact(&mut buf).map_err(io)?;
            for s in buf.chunks_exact(bps) {
                data[k].push((sample(s, h.format) * scales[k]) as f32);
            }
        }
        return Ok(data);
    }
    let frame = h.channels.len() * bps;
    let chunk = ((4 << 20) / frame).max(1);
    let mut buf = vec![0u8; chunk * frame];
    file.seek(SeekFrom::Start(first as u64 * frame as u64)).map_err(io)?;
    let mut done = 0;
    while done < count {
        let n = chunk.min(count - done);
        let b = &mut buf[..n * frame];
        file.read_exact(b).map_err(io)?;
        for f in b.chunks_exact(frame) {
            for (k, &c) in selected.iter().enumerate() {
                data[k].push((sample(&f[c * bps..(c + 1) * bps], h.format) * scales[k]) as f32);
            }
        }
        done += n;
    }
    Ok(data)
}

#[inline]
fn sample(s: &[u8], f: BinaryFormat) -> f64 {
    match f {
        BinaryFormat::Int16 => i16::from_le_bytes([s[0], s[1]]) as f64,
        BinaryFormat::UInt16 => u16::from_le_bytes([s[0], s[1]]) as f64,
        BinaryFormat::Int32 => i32::from_le_bytes([s[0], s[1], s[2], s[3]]) as f64,
        BinaryFormat::Float32 => f32::from_le_bytes([s[0], s[1], s[2], s[3]]) as f64,
    }
}

fn read_markers(path: &Path, fs: f64, rec: &mut Recording) -> Result<(), IoError> {
    let bytes = files::read_regular(path)?;
    let text = decode_text(&bytes);
    for (line, section, key, value) in ini(&text) {
        if !section.eq_ignore_ascii_case("Marker Infos") || !key.starts_with("Mk") {
            continue;
        }
        let parts: Vec<&str> = value.split(',').collect();
        let bad =
            |what: &str| format!("{}: line {line}: marker {} skipped: {what}", path.display(), quote(&key));
        if parts.len() < 4 {
            rec.warnings.push(bad("fewer than 4 fields"));
            continue;
        }
        let Ok(pos) = parts[2].trim().parse::<i64>() else {
            rec.warnings.push(bad("position is not an integer"));
            continue;
        };
        let size = parts[3].trim().parse::<i64>().unwrap_or(1);
        let kind = parts[0].trim();
        let desc = parts[1].replace("\\1", ",");
        if kind.eq_ignore_ascii_case("New Segment") {
            if let Some(d) = parts.get(5).and_then(|d| parse_marker_date(d.trim())) {
                if rec.start.is_none() {
                    rec.start = Some(d);
                }
            }
            if pos <= 1 {
                // The segment that starts the recording is its start time, not an event.
                continue;
            }
        }
        rec.annotations.push(Annotation {
            onset_s: (pos - 1) as f64 / fs,
            duration_s: (size > 1).then(|| size as f64 / fs),
            description: if desc.is_empty() { kind.to_string() } else { format!("{kind}/{desc}") },
        });
    }
    Ok(())
}

/// `YYYYMMDDhhmmssuuuuuu` (microseconds) as written in `New Segment` markers.
fn parse_marker_date(s: &str) -> Option<DateTime> {
    if s.len() != 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |a: usize, b: usize| s[a..b].parse::<u32>().ok();
    let mut d = DateTime::new(
        n(0, 4)? as i32,
        n(4, 6)? as u8,
        n(6, 8)? as u8,
        n(8, 10)? as u8,
        n(10, 12)? as u8,
        n(12, 14)? as u8,
    )?;
    d.nanos = n(14, 20)? * 1000;
    Some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_end_at_crlf_lf_or_a_lone_cr() {
        let all: Vec<&str> = lines("a\r\nb\nc\rd\r\n\r\ne").collect();
        assert_eq!(all, ["a", "b", "c", "d", "", "e"]);
        assert_eq!(lines("a\n").count(), 1);
        assert_eq!(lines("").count(), 0);
        let entries = ini("Brain Vision\r[S]\r; c\rk=v\r");
        assert_eq!(entries, [(4, "S".to_string(), "k".to_string(), "v".to_string())]);
    }

    #[test]
    fn marker_date() {
        let d = parse_marker_date("20200124040556394531").expect("valid");
        assert_eq!(d.to_iso8601(), "2020-01-24T04:05:56.394531");
        assert!(parse_marker_date("20201324040556394531").is_none());
        assert!(parse_marker_date("00000000000000000000").is_none());
    }
}

//! The [`Recording`] type every reader returns and every writer takes.

use std::fmt;
use std::path::Path;

use crate::IoError;

/// What a channel measures. Readers infer it from the label, the unit and
/// (for BIDS) `channels.tsv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChannelType {
    /// Electroencephalogram.
    Eeg,
    /// Electrooculogram.
    Eog,
    /// Electrocardiogram.
    Ecg,
    /// Electromyogram.
    Emg,
    /// Trigger / status / stimulus channel.
    Stim,
    /// Anything else (respiration, temperature, ...).
    Misc,
}

impl ChannelType {
    /// The upper-case BIDS name (`EEG`, `EOG`, `ECG`, `EMG`, `TRIG`, `MISC`); `Stim` prints as `STIM`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelType::Eeg => "EEG",
            ChannelType::Eog => "EOG",
            ChannelType::Ecg => "ECG",
            ChannelType::Emg => "EMG",
            ChannelType::Stim => "STIM",
            ChannelType::Misc => "MISC",
        }
    }

    /// Parses a BIDS `channels.tsv` type (case-insensitive; `TRIG` and `STIM` are stimulus channels,
    /// `EKG` is ECG). Unknown names are `Misc`.
    pub fn from_bids(s: &str) -> ChannelType {
        match s.trim().to_ascii_uppercase().as_str() {
            "EEG" => ChannelType::Eeg,
            "EOG" | "VEOG" | "HEOG" => ChannelType::Eog,
            "ECG" | "EKG" => ChannelType::Ecg,
            "EMG" => ChannelType::Emg,
            "TRIG" | "STIM" | "TRIGGER" => ChannelType::Stim,
            _ => ChannelType::Misc,
        }
    }

    /// Infers the type from an EDF-style label (`EEG Fp1`, `ECG`, `Status`, ...) and its unit.
    ///
    /// EDF+ labels start with the signal type followed by a space; BioSemi writes the trigger
    /// channel as `Status`. A label without a type prefix in a voltage unit is taken as EEG.
    pub fn infer(label: &str, unit: &str) -> ChannelType {
        let l = label.trim().to_ascii_uppercase();
        let first = l.split([' ', '-', '_', ',']).next().unwrap_or("");
        match first {
            "EEG" => return ChannelType::Eeg,
            "EOG" | "VEOG" | "HEOG" => return ChannelType::Eog,
            "ECG" | "EKG" => return ChannelType::Ecg,
            "EMG" => return ChannelType::Emg,
            "STATUS" | "TRIGGER" | "STI" | "STIM" | "TRIG" | "EVENT" | "EVENTS" => return ChannelType::Stim,
            _ => {}
        }
        if l.starts_with("STI ") || l.starts_with("STI0") || l.starts_with("STI1") {
            return ChannelType::Stim;
        }
        if voltage_scale(unit).is_some() {
            ChannelType::Eeg
        } else {
            ChannelType::Misc
        }
    }
}

impl fmt::Display for ChannelType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The factor that turns a value in `unit` into microvolts, or `None` when `unit` is not a voltage.
///
/// Accepts `V`, `mV`, `uV`, `µV` (U+00B5 or U+03BC), `nV`, case-sensitively for the prefix as the
/// EDF and BrainVision specifications write them, plus the common spelling `UV`.
pub fn voltage_scale(unit: &str) -> Option<f64> {
    match unit.trim() {
        "V" => Some(1e6),
        "mV" => Some(1e3),
        "uV" | "µV" | "μV" | "UV" | "microV" => Some(1.0),
        "nV" => Some(1e-3),
        _ => None,
    }
}

/// One channel's description. Its samples are in [`Recording::data`] at the same index.
#[derive(Debug, Clone, PartialEq)]
pub struct Channel {
    /// Label as stored in the file, trimmed (e.g. `EEG Fp1`, `Fp1`, `E22`).
    pub name: String,
    /// What the channel measures.
    pub kind: ChannelType,
    /// Unit of the values in [`Recording::data`]: `uV` for every voltage channel (readers convert),
    /// otherwise the file's own physical unit (possibly empty).
    pub unit: String,
    /// Sampling rate in Hz.
    pub fs: f64,
    /// Transducer description (EDF), empty when unknown.
    pub transducer: String,
    /// Prefiltering description (EDF), empty when unknown.
    pub prefilter: String,
    /// Marked bad (BIDS `channels.tsv` status `bad`).
    pub bad: bool,
    /// The file's physical range (in `unit`) when the format stores one (EDF/BDF); writers reuse it
    /// when the data fit, so a read-write cycle keeps the original quantisation.
    pub physical_range: Option<(f64, f64)>,
}

impl Channel {
    /// A channel with the given label, type and rate, in µV, no metadata.
    pub fn new(name: impl Into<String>, kind: ChannelType, fs: f64) -> Self {
        Channel {
            name: name.into(),
            kind,
            unit: "uV".into(),
            fs,
            transducer: String::new(),
            prefilter: String::new(),
            bad: false,
            physical_range: None,
        }
    }

    /// The label without an EDF+ type prefix (`EEG Fp1` -> `Fp1`) or a reference suffix
    /// (`Fp1-REF`, `Fp1-Ref`, `Fp1-LE`, `Fp1-A1` are left alone except `-REF`/`-Ref`/`-ref`).
    pub fn short_name(&self) -> &str {
        let mut s = self.name.trim();
        for p in ["EEG ", "EOG ", "ECG ", "EKG ", "EMG "] {
            if s.len() > p.len() && s[..p.len()].eq_ignore_ascii_case(p) {
                s = s[p.len()..].trim_start();
                break;
            }
        }
        for suf in ["-REF", "-Ref", "-ref"] {
            if let Some(t) = s.strip_suffix(suf) {
                s = t;
                break;
            }
        }
        s
    }
}

/// An annotation or event: onset in seconds from the first sample, optional duration, text.
#[derive(Debug, Clone, PartialEq)]
pub struct Annotation {
    /// Seconds from the first sample of the recording (may be negative for events before it).
    pub onset_s: f64,
    /// Duration in seconds; `None` when the file gives none.
    pub duration_s: Option<f64>,
    /// Description (UTF-8).
    pub description: String,
}

/// A calendar date and time of day with a sub-second part, as stored (no time zone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime {
    /// Full year, e.g. 2020.
    pub year: i32,
    /// 1..=12.
    pub month: u8,
    /// 1..=31 (checked against the month).
    pub day: u8,
    /// 0..=23.
    pub hour: u8,
    /// 0..=59.
    pub minute: u8,
    /// 0..=59 (60 accepted for a leap second).
    pub second: u8,
    /// Sub-second part in nanoseconds, 0..1e9.
    pub nanos: u32,
}

impl DateTime {
    /// Builds a date-time, checking every field (including days per month and leap years).
    pub fn new(year: i32, month: u8, day: u8, hour: u8, minute: u8, second: u8) -> Option<DateTime> {
        let dt = DateTime { year, month, day, hour, minute, second, nanos: 0 };
        dt.is_valid().then_some(dt)
    }

    /// Whether every field is in range.
    pub fn is_valid(&self) -> bool {
        (1..=12).contains(&self.month)
            && self.day >= 1
            && self.day <= days_in_month(self.year, self.month)
            && self.hour < 24
            && self.minute < 60
            && self.second <= 60
            && self.nanos < 1_000_000_000
    }

    /// Adds a (non-negative or negative) number of seconds, carrying into minutes, hours and days.
    pub fn add_seconds(&self, s: f64) -> DateTime {
        let total_ns = (self.seconds_of_day_ns() as i128) + (s * 1e9).round() as i128;
        let day_ns: i128 = 86_400 * 1_000_000_000;
        let days = total_ns.div_euclid(day_ns);
        let rem = total_ns.rem_euclid(day_ns) as u64;
        let mut d = *self;
        let mut days_left = days as i64;
        while days_left > 0 {
            d.day += 1;
            if d.day > days_in_month(d.year, d.month) {
                d.day = 1;
                d.month += 1;
                if d.month > 12 {
                    d.month = 1;
                    d.year += 1;
                }
            }
            days_left -= 1;
        }
        while days_left < 0 {
            if d.day > 1 {
                d.day -= 1;
            } else {
                if d.month > 1 {
                    d.month -= 1;
                } else {
                    d.month = 12;
                    d.year -= 1;
                }
                d.day = days_in_month(d.year, d.month);
            }
            days_left += 1;
        }
        let secs = rem / 1_000_000_000;
        d.nanos = (rem % 1_000_000_000) as u32;
        d.hour = (secs / 3600) as u8;
        d.minute = ((secs / 60) % 60) as u8;
        d.second = (secs % 60) as u8;
        d
    }

    fn seconds_of_day_ns(&self) -> u64 {
        (self.hour as u64 * 3600 + self.minute as u64 * 60 + self.second as u64) * 1_000_000_000
            + self.nanos as u64
    }

    /// ISO 8601 without a time zone: `2020-01-24T04:05:56`, plus `.ffffff` (microseconds, truncated,
    /// trailing zeros removed) when there is a sub-second part — the precision of Python's
    /// `datetime`, so scripts can parse it with `datetime.fromisoformat`.
    pub fn to_iso8601(&self) -> String {
        let mut s = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        );
        let micros = self.nanos / 1000;
        if micros != 0 {
            let frac = format!("{micros:06}");
            s.push('.');
            s.push_str(frac.trim_end_matches('0'));
        }
        s
    }
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_iso8601())
    }
}

/// Days in a month of the proleptic Gregorian calendar.
pub fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

/// Who was recorded and when. Fields a format does not store are empty / `None`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Subject {
    /// Subject code (EDF+ patient code, BIDS `sub-` label).
    pub id: String,
    /// Sex as written in the file (`M`, `F`, `X` or a participants.tsv value).
    pub sex: Option<String>,
    /// Birth date as written (`02-MAR-1951` in EDF+).
    pub birthdate: Option<String>,
    /// Name as written (EDF+ writes it with underscores for spaces).
    pub name: Option<String>,
    /// The raw patient identification field (EDF) or equivalent.
    pub raw: String,
}

/// A stretch of contiguous data. Continuous files have one; EDF+D may have several.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    /// Where the segment starts in the stored data, in seconds from the first sample
    /// (sample `round(data_offset_s * fs)` of every channel).
    pub data_offset_s: f64,
    /// When it was recorded, in seconds from the first sample (`>= data_offset_s`; larger when a gap
    /// precedes it).
    pub onset_s: f64,
    /// Its length in seconds.
    pub duration_s: f64,
}

/// The file format a recording came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Plain EDF (1992).
    Edf,
    /// EDF+ continuous.
    EdfPlusC,
    /// EDF+ discontinuous.
    EdfPlusD,
    /// BioSemi BDF (24-bit).
    Bdf,
    /// BDF+ continuous.
    BdfPlusC,
    /// BDF+ discontinuous.
    BdfPlusD,
    /// BrainVision Core Data Format.
    BrainVision,
    /// EEGLAB `.set` (MAT-file v5) with `.fdt` or embedded data.
    Eeglab,
}

impl Format {
    /// Short display name: `EDF`, `EDF+C`, `EDF+D`, `BDF`, `BDF+C`, `BDF+D`, `BrainVision`, `EEGLAB`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Edf => "EDF",
            Format::EdfPlusC => "EDF+C",
            Format::EdfPlusD => "EDF+D",
            Format::Bdf => "BDF",
            Format::BdfPlusC => "BDF+C",
            Format::BdfPlusD => "BDF+D",
            Format::BrainVision => "BrainVision",
            Format::Eeglab => "EEGLAB",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One EEG recording in memory.
///
/// # Shapes
/// `data[c]` holds channel `c`'s samples (`channels[c]` describes it). Channels may have different
/// sampling rates, so rows may have different lengths: `data[c].len()` is about
/// `duration_s * channels[c].fs`. Values are microvolts for voltage channels and the channel's own
/// physical unit otherwise (see [`Channel::unit`]). When every channel has the same rate the rows have
/// equal length and [`Recording::to_matrix`] gives a `[channels * samples]` row-major copy.
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    /// Where it came from.
    pub format: Format,
    /// Channel descriptions; annotation signals are never channels.
    pub channels: Vec<Channel>,
    /// Samples, one row per channel (see # Shapes).
    pub data: Vec<Vec<f32>>,
    /// Annotations and events, onsets in seconds from the first sample.
    pub annotations: Vec<Annotation>,
    /// Start of the first sample, with its sub-second part; `None` when unknown.
    pub start: Option<DateTime>,
    /// Subject metadata.
    pub subject: Subject,
    /// Free-text recording identification (EDF recording field, BIDS entities).
    pub recording_id: String,
    /// Contiguous stretches of data (one for continuous files).
    pub segments: Vec<Segment>,
    /// Problems that did not stop reading (a malformed annotation skipped, a record count
    /// inferred from the file size ...), one sentence each.
    pub warnings: Vec<String>,
}

impl Recording {
    /// An empty recording of the given format.
    pub fn new(format: Format) -> Self {
        Recording {
            format,
            channels: Vec::new(),
            data: Vec::new(),
            annotations: Vec::new(),
            start: None,
            subject: Subject::default(),
            recording_id: String::new(),
            segments: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Adds a channel with its samples.
    pub fn push_channel(&mut self, channel: Channel, samples: Vec<f32>) {
        self.channels.push(channel);
        self.data.push(samples);
    }

    /// Number of channels.
    pub fn n_channels(&self) -> usize {
        self.channels.len()
    }

    /// Duration in seconds of the longest channel (samples / rate).
    pub fn duration_s(&self) -> f64 {
        self.channels
            .iter()
            .zip(&self.data)
            .map(|(c, d)| if c.fs > 0.0 { d.len() as f64 / c.fs } else { 0.0 })
            .fold(0.0, f64::max)
    }

    /// The common sampling rate, or `None` when channels differ (or there are none).
    pub fn fs(&self) -> Option<f64> {
        let first = self.channels.first()?.fs;
        self.channels.iter().all(|c| c.fs == first).then_some(first)
    }

    /// Index of the channel called `name`: exact label first, then [`Channel::short_name`]
    /// case-insensitively.
    pub fn channel_index(&self, name: &str) -> Option<usize> {
        self.channels
            .iter()
            .position(|c| c.name == name)
            .or_else(|| self.channels.iter().position(|c| c.short_name().eq_ignore_ascii_case(name.trim())))
    }

    /// The data as one row-major `[n_channels * n_samples]` buffer, when every channel has the same
    /// number of samples; returns `(buffer, n_samples)`.
    pub fn to_matrix(&self) -> Option<(Vec<f32>, usize)> {
        let n = self.data.first().map_or(0, Vec::len);
        if self.data.iter().any(|d| d.len() != n) {
            return None;
        }
        let mut out = Vec::with_capacity(n * self.data.len());
        for row in &self.data {
            out.extend_from_slice(row);
        }
        Some((out, n))
    }
}

/// Highest sampling rate a reader accepts, in Hz. EEG amplifiers sample at up to a few tens of
/// kHz (intracranial and brainstem-response systems reach 20 to 100 kHz); 1 MHz is ten times the
/// fastest of them, so a rate above it comes from broken header numbers (a record duration of
/// 1e-300 s), never from a real recording.
pub(crate) const MAX_FS: f64 = 1e6;

/// Lowest sampling rate a reader accepts, in Hz: one sample every 11.6 days. The slowest real
/// channels (temperature, SpO2 in long sleep or ICU recordings) take one sample a minute or so.
pub(crate) const MIN_FS: f64 = 1e-6;

/// Why `fs` (Hz) is not a sampling rate a recording can have, if it is not one.
pub(crate) fn implausible_fs(fs: f64) -> Option<String> {
    if !fs.is_finite() || fs <= 0.0 {
        Some(format!("the sampling rate would be {fs} Hz, not a positive finite number"))
    } else if fs > MAX_FS {
        Some(format!("the sampling rate would be {fs:e} Hz, above the {MAX_FS:e} Hz any EEG system reaches"))
    } else if fs < MIN_FS {
        Some(format!("the sampling rate would be {fs:e} Hz, below {MIN_FS:e} Hz (one sample in 11.6 days)"))
    } else {
        None
    }
}

/// One warning per channel label used more than once, naming the label and the channels (by the
/// 1-based `numbers` given with each label, of the kind `what`, e.g. `signals`). Labels are
/// compared without case and surrounding spaces, as channel selection and BIDS `channels.tsv`
/// match them, so either of two such channels may be taken for the other.
pub(crate) fn duplicate_label_warnings<'a>(
    labels: impl IntoIterator<Item = (usize, &'a str)>,
    what: &str,
) -> Vec<String> {
    let mut groups: Vec<(String, Vec<(usize, &'a str)>)> = Vec::new();
    let mut index = std::collections::HashMap::new();
    for (n, label) in labels {
        let key = label.trim().to_lowercase();
        let g = *index.entry(key.clone()).or_insert_with(|| {
            groups.push((key, Vec::new()));
            groups.len() - 1
        });
        groups[g].1.push((n, label));
    }
    let mut out = Vec::new();
    for (_, members) in groups.iter().filter(|(_, m)| m.len() > 1) {
        let numbers: Vec<String> = members.iter().map(|(n, _)| n.to_string()).collect();
        let (last, rest) = numbers.split_last().expect("a group of two or more");
        let first = members[0].1;
        let mut spellings: Vec<&str> = Vec::new();
        for &(_, l) in &members[1..] {
            if l != first && !spellings.contains(&l) {
                spellings.push(l);
            }
        }
        let also = if spellings.is_empty() {
            String::new()
        } else {
            let q: Vec<String> = spellings.iter().map(|s| crate::error::quote(s)).collect();
            format!(" (also written {})", q.join(", "))
        };
        out.push(format!(
            "duplicate channel label {}{also}: {what} {} and {last} share it; selecting a channel by \
             that name takes the first",
            crate::error::quote(first),
            rest.join(", ")
        ));
    }
    out
}

/// Indices, among `names`, of the channels `opts` asks for, in its order: a label equal to the
/// one asked for, else one equal ignoring case. All of them when `opts` names none.
///
/// # Errors
/// [`IoError::Selection`] naming `path` and the first label not found.
pub(crate) fn select_by_label<S: AsRef<str>>(
    path: &Path,
    names: &[S],
    opts: &ReadOptions,
) -> Result<Vec<usize>, IoError> {
    let Some(want) = &opts.channels else {
        return Ok((0..names.len()).collect());
    };
    want.iter()
        .map(|w| {
            names
                .iter()
                .position(|n| n.as_ref() == w)
                .or_else(|| names.iter().position(|n| n.as_ref().eq_ignore_ascii_case(w)))
                .ok_or_else(|| IoError::Selection {
                    path: path.to_path_buf(),
                    what: format!("channel {w:?} is not in the file"),
                })
        })
        .collect()
}

/// The samples `opts` asks for, `first..last`, of `n_samples` at `fs` Hz (none with
/// [`ReadOptions::header_only`]).
pub(crate) fn sample_range(opts: &ReadOptions, fs: f64, n_samples: usize) -> (usize, usize) {
    if opts.header_only {
        return (0, 0);
    }
    let first = ((opts.start_s * fs).round().max(0.0) as usize).min(n_samples);
    let last = match opts.duration_s {
        Some(d) => first.saturating_add((d * fs).round().max(0.0) as usize).min(n_samples),
        None => n_samples,
    };
    (first, last)
}

/// What part of a file to read. The default reads everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadOptions {
    /// Channel labels to keep, in this order (matched like [`Recording::channel_index`]);
    /// `None` keeps all.
    pub channels: Option<Vec<String>>,
    /// First second of data to read (seconds into the stored data, from the first sample).
    pub start_s: f64,
    /// How many seconds to read from `start_s`; `None` reads to the end.
    pub duration_s: Option<f64>,
    /// Skip the samples: read the header, channels and annotations only.
    pub header_only: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetime_add_carries_across_days_and_years() {
        let d = DateTime::new(1999, 12, 31, 23, 59, 59).expect("valid");
        let e = d.add_seconds(1.5);
        assert_eq!(e.to_iso8601(), "2000-01-01T00:00:00.5");
        let f = e.add_seconds(-1.5);
        assert_eq!(f, d);
    }

    #[test]
    fn duplicate_labels_are_named_once_each() {
        let w = duplicate_label_warnings(
            [(1, "Fz"), (2, "Cz"), (3, "FZ "), (4, "Pz"), (5, "Cz"), (6, "fz")],
            "channels",
        );
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].contains("\"Fz\"") && w[0].contains("channels 1, 3 and 6"), "{}", w[0]);
        assert!(w[0].contains("also written \"FZ \", \"fz\""), "{}", w[0]);
        assert!(w[1].contains("\"Cz\"") && w[1].contains("channels 2 and 5"), "{}", w[1]);
        assert!(duplicate_label_warnings([(1, "A"), (2, "B")], "channels").is_empty());
    }

    #[test]
    fn sampling_rate_bounds() {
        assert!(implausible_fs(128.0).is_none());
        assert!(implausible_fs(MAX_FS).is_none());
        assert!(implausible_fs(1.0 / 60.0).is_none());
        for fs in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e300, 1e-300, MAX_FS * 1.01] {
            assert!(implausible_fs(fs).is_some(), "{fs}");
        }
    }

    #[test]
    fn impossible_dates_are_invalid() {
        assert!(DateTime::new(2021, 2, 29, 0, 0, 0).is_none());
        assert!(DateTime::new(2020, 2, 29, 0, 0, 0).is_some());
        assert!(DateTime::new(2020, 13, 1, 0, 0, 0).is_none());
        assert!(DateTime::new(2020, 1, 1, 24, 0, 0).is_none());
    }

    #[test]
    fn types_from_labels() {
        assert_eq!(ChannelType::infer("EEG Fp1", "uV"), ChannelType::Eeg);
        assert_eq!(ChannelType::infer("ECG", "mV"), ChannelType::Ecg);
        assert_eq!(ChannelType::infer("Status", "Boolean"), ChannelType::Stim);
        assert_eq!(ChannelType::infer("Fp1", "uV"), ChannelType::Eeg);
        assert_eq!(ChannelType::infer("Resp", "Ohm"), ChannelType::Misc);
        let c = Channel::new("EEG Fp1-REF", ChannelType::Eeg, 256.0);
        assert_eq!(c.short_name(), "Fp1");
    }
}

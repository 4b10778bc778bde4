//! From a BIDS dataset to an epoch store: the preparation of the seed paper's
//! group, one recording at a time.
//!
//! Per recording:
//! 1. pick the channels (`hbn24` by default: the 24 channels of Truong et
//!    al., found under their 10-20 names, their aliases or their EGI
//!    HydroCel-129 labels; or `all` EEG channels; or a list);
//! 2. resample to `rate` (default 128 Hz; polyphase with anti-aliasing); a
//!    recording sampled below twice the band's upper edge is skipped (it cannot
//!    hold the band), and upsampling is a warning;
//! 3. band-pass (default 0.25–25 Hz; 4th-order Butterworth, zero phase);
//! 4. re-reference (default: common average);
//! 5. keep the eyes-closed periods when events mark them (else the whole
//!    recording: a warning when others were marked, or skipped with
//!    `skip_unmarked`) and cut non-overlapping windows of `segment_s` seconds;
//! 6. reject windows whose absolute amplitude exceeds `reject_uv` µV;
//! 7. normalise (default: per recording, see [`Normalise`]).
//!
//! Labels come from any `participants.tsv` column; subjects are split into
//! train/validation/test by subject ([`crate::split`]). The column is checked
//! before any recording is read: one class spelt two ways (`M`, `m`), a
//! participant listed twice with different values, and a column of numbers
//! (`age`: bin it into a categorical column) are refused; `n/a`, `NA`,
//! `unknown` and the like count as no value. A class that cannot appear in
//! every split (validation and test when their fractions are not zero) is
//! refused; a class of fewer than five subjects is a warning. Recordings are
//! processed in parallel. Nothing disappears silently: every recording's
//! outcome — windows kept, windows rejected and why, or the reason it was
//! skipped — is in the returned [`PrepareSummary`], with what its reader warned
//! about (a duplicate channel label, ...). A recording that cannot be read (a
//! damaged header included) or holds a non-finite sample (NaN or an infinity,
//! before or after filtering) is skipped whole, with the reason: the filters
//! spread one NaN over the whole channel, so no window of it could be trusted.
//! No non-finite value is ever written into a store.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use eeglens_dsp::{butter, rereference, FilterKind, Reference, Resampler};
use eeglens_io::bids::{self, BidsRecording};
use eeglens_io::{montage, Annotation, ChannelType, ReadOptions};
use rayon::prelude::*;

mod labels;

use crate::error::DataError;
use crate::split::{split_subjects, SplitConfig};
use crate::store::{EpochMeta, EpochSet, Split};

/// Which channels to keep.
#[derive(Clone, Debug, PartialEq)]
pub enum ChannelSet {
    /// The 24 channels of the seed paper's group ([`montage::HBN24`]).
    Hbn24,
    /// Every channel of type EEG, in file order (recordings must agree).
    All,
    /// These channels, in this order (10-20 names, aliases or EGI labels).
    List(Vec<String>),
}

impl ChannelSet {
    /// Parses `hbn24`, `all` or a comma-separated list.
    pub fn parse(s: &str) -> Self {
        match s.trim().to_ascii_lowercase().as_str() {
            "hbn24" => ChannelSet::Hbn24,
            "all" => ChannelSet::All,
            _ => ChannelSet::List(
                s.split(',').map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect(),
            ),
        }
    }
}

/// How windows are scaled.
///
/// The default is [`Normalise::Recording`]: each channel is centred on its
/// mean over the kept data and the whole recording is divided by one standard
/// deviation shared by all its channels. This removes a subject's overall gain
/// (skull thickness, electrode impedance, amplifier: identity, not class) while
/// keeping the spectral shape and the topography within the recording — the
/// differences the interpretation methods look for. [`Normalise::Segment`] does
/// the same per window, which also removes slow changes of absolute power
/// between windows; [`Normalise::None`] keeps µV.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Normalise {
    /// keep µV
    None,
    /// per recording: channel means removed, one shared scale (the default)
    Recording,
    /// per window: channel means removed, one shared scale
    Segment,
}

impl Normalise {
    /// Parses `none`, `recording` or `segment`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "none" => Some(Normalise::None),
            "recording" | "per-recording" => Some(Normalise::Recording),
            "segment" | "per-segment" => Some(Normalise::Segment),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Normalise::None => "none",
            Normalise::Recording => "recording",
            Normalise::Segment => "segment",
        }
    }
}

/// Everything `eeglens prepare` can be told.
#[derive(Clone, Debug, PartialEq)]
pub struct PrepareConfig {
    /// the participants.tsv column holding the labels
    pub label: String,
    /// which channels
    pub channels: ChannelSet,
    /// output sampling rate, Hz
    pub rate: f64,
    /// band-pass edges in Hz, `None` for no filter
    pub band: Option<(f64, f64)>,
    /// window length, seconds
    pub segment_s: f64,
    /// re-reference to the common average
    pub average_reference: bool,
    /// only recordings of this task (case-insensitive), `None` for all
    pub task: Option<String>,
    /// keep only eyes-closed periods when the events mark them
    pub eyes_closed: bool,
    /// with `eyes_closed`, skip recordings whose events mark no eyes state
    /// (instead of using them whole beside eyes-closed data of the others)
    pub skip_unmarked: bool,
    /// reject windows whose absolute amplitude exceeds this many µV
    pub reject_uv: Option<f64>,
    /// scaling of the windows
    pub normalise: Normalise,
    /// subject-wise split
    pub split: SplitConfig,
    /// skip subjects without a label (reported) instead of failing
    pub skip_unlabelled: bool,
    /// fail when any recording is skipped (unreadable, no label, no window left, ...) instead of
    /// going on without it; subjects left out by class balancing (asked for) do not count
    pub strict: bool,
}

impl PrepareConfig {
    /// The defaults of `eeglens prepare` for a label column.
    pub fn new(label: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            channels: ChannelSet::Hbn24,
            rate: 128.0,
            band: Some((0.25, 25.0)),
            segment_s: 2.0,
            average_reference: true,
            task: None,
            eyes_closed: true,
            skip_unmarked: false,
            reject_uv: Some(250.0),
            normalise: Normalise::Recording,
            split: SplitConfig::default(),
            skip_unlabelled: false,
            strict: false,
        }
    }

    fn settings_json(&self) -> serde_json::Value {
        serde_json::json!({
            "channels": match &self.channels {
                ChannelSet::Hbn24 => serde_json::json!("hbn24"),
                ChannelSet::All => serde_json::json!("all"),
                ChannelSet::List(l) => serde_json::json!(l),
            },
            "rate": self.rate,
            "band": self.band.map(|(a, b)| vec![a, b]),
            "filter": "butterworth order 4, zero phase",
            "segment_s": self.segment_s,
            "reference": if self.average_reference { "average" } else { "as recorded" },
            "task": self.task,
            "eyes_closed": self.eyes_closed,
            "skip_unmarked": self.skip_unmarked,
            "reject_uv": self.reject_uv,
            "normalise": self.normalise.name(),
            "split": {"test": self.split.test, "val": self.split.val, "seed": self.split.seed, "balance": self.split.balance},
        })
    }

    fn validate(&self) -> Result<(), DataError> {
        let bad = |m: String| Err(DataError::Config(m));
        if !(self.rate.is_finite() && self.rate > 0.0 && self.rate.fract() == 0.0) {
            return bad(format!("--rate {} must be a positive whole number of Hz", self.rate));
        }
        if !(self.segment_s.is_finite() && self.segment_s > 0.0) {
            return bad(format!("--segment-s {} must be positive", self.segment_s));
        }
        if let Some((lo, hi)) = self.band {
            if !(lo >= 0.0 && hi > lo && hi < self.rate / 2.0) {
                return bad(format!(
                    "--band {lo}-{hi} must satisfy 0 <= lo < hi < {} Hz (half of --rate)",
                    self.rate / 2.0
                ));
            }
        }
        if let Some(r) = self.reject_uv {
            if r.is_nan() || r <= 0.0 {
                return bad(format!("amplitude threshold {r} µV must be positive"));
            }
        }
        if let ChannelSet::List(l) = &self.channels {
            if l.is_empty() {
                return bad("--channels lists no channel".into());
            }
        }
        Ok(())
    }
}

/// What happened to one recording: used (with at least one window in the
/// store) or skipped (with the reason). A recording that yields no window —
/// shorter than one window, or every window over the amplitude threshold — is
/// skipped, never counted as used.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// used: windows were cut from it and written (at least one)
    Kept {
        /// windows kept
        windows: usize,
        /// windows rejected for amplitude
        rejected: usize,
        /// seconds of data that windows were cut from (eyes-closed periods or the whole recording)
        seconds_used: f64,
        /// whether eyes-closed events selected the data
        eyes_closed_events: bool,
    },
    /// not used, with the reason
    Skipped(String),
}

/// One recording's line in the summary.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordingReport {
    /// the data file
    pub path: PathBuf,
    /// subject label (without `sub-`)
    pub subject: String,
    /// its label value, when it has one
    pub label: Option<String>,
    /// what happened
    pub outcome: Outcome,
    /// what the file's reader warned about while reading it (a duplicate channel label, EDF+
    /// time-keeping records that are not consecutive, ...), one sentence each; empty for a
    /// recording that was not read
    pub warnings: Vec<String>,
}

/// What `prepare` did.
#[derive(Clone, Debug, PartialEq)]
pub struct PrepareSummary {
    /// the written store
    pub out: PathBuf,
    /// class names (sorted label values)
    pub classes: Vec<String>,
    /// one line per recording considered
    pub recordings: Vec<RecordingReport>,
    /// windows per class
    pub windows_per_class: Vec<usize>,
    /// `(split, subjects, windows)` per split
    pub per_split: Vec<(Split, usize, usize)>,
    /// subjects used
    pub n_subjects: usize,
    /// bytes of raw EEG read (selected channels, before resampling)
    pub raw_bytes: u64,
    /// participants listed in participants.tsv (as `sub-<label>`) with no
    /// recording in the dataset (of the chosen task, when one is given)
    pub participants_without_recording: Vec<String>,
    /// what the user should know about the data (also written to the store)
    pub warnings: Vec<String>,
    /// recordings used whole because their events mark no eyes state, while
    /// eyes-closed periods were kept from others (empty unless that mix happened)
    pub unmarked: Vec<PathBuf>,
    /// used recordings sampled below the output rate, with their rate in Hz:
    /// upsampled, which adds no information above half their rate
    pub upsampled: Vec<(PathBuf, f64)>,
}

impl PrepareSummary {
    /// Total windows written.
    pub fn n_windows(&self) -> usize {
        self.windows_per_class.iter().sum()
    }

    /// Recordings used (at least one window written).
    pub fn n_used(&self) -> usize {
        self.recordings.iter().filter(|r| matches!(r.outcome, Outcome::Kept { .. })).count()
    }

    /// Recordings skipped, each with its reason.
    pub fn skipped(&self) -> impl Iterator<Item = (&RecordingReport, &str)> {
        self.recordings.iter().filter_map(|r| match &r.outcome {
            Outcome::Skipped(why) => Some((r, why.as_str())),
            Outcome::Kept { .. } => None,
        })
    }

    /// What happened to every recording and participant, as JSON: the
    /// `outcome` object of the store's `settings` and of `prepare --json`.
    pub fn outcome_json(&self) -> serde_json::Value {
        let mut o = outcome_json(&self.recordings, &self.participants_without_recording, &self.warnings);
        o["used_whole_without_eyes_markers"] = serde_json::json!(self.unmarked.len());
        o["upsampled"] = serde_json::json!(self
            .upsampled
            .iter()
            .map(|(p, fs)| serde_json::json!({"path": p, "fs": fs}))
            .collect::<Vec<_>>());
        o
    }
}

fn outcome_json(
    recordings: &[RecordingReport],
    participants_without_recording: &[String],
    warnings: &[String],
) -> serde_json::Value {
    let recs: Vec<serde_json::Value> = recordings
        .iter()
        .map(|r| match &r.outcome {
            Outcome::Kept { windows, rejected, seconds_used, eyes_closed_events } => serde_json::json!({
                "path": r.path, "subject": r.subject, "label": r.label, "status": "used",
                "windows": windows, "rejected_amplitude": rejected, "seconds_used": seconds_used,
                "eyes_closed_events": eyes_closed_events, "warnings": r.warnings,
            }),
            Outcome::Skipped(why) => serde_json::json!({
                "path": r.path, "subject": r.subject, "label": r.label, "status": "skipped", "reason": why,
                "warnings": r.warnings,
            }),
        })
        .collect();
    let used = recordings.iter().filter(|r| matches!(r.outcome, Outcome::Kept { .. })).count();
    serde_json::json!({
        "used": used,
        "skipped": recordings.len() - used,
        "recordings": recs,
        "participants_without_recording": participants_without_recording,
        "warnings": warnings,
    })
}

struct Processed {
    /// the recording's own sampling rate, Hz
    fs: f64,
    windows: Vec<f32>,
    n_windows: usize,
    rejected: usize,
    seconds_used: f64,
    eyes_closed_events: bool,
    raw_bytes: u64,
    channels: Vec<String>,
}

/// Prepares the BIDS dataset at `root` into an epoch store at `out`.
///
/// `progress` is called once per recording processed, with its subject label.
///
/// # Errors
/// - [`DataError::Config`]: invalid settings; a dataset without
///   participants.tsv or without the label column (the message lists the
///   columns that exist); subjects without a label (unless
///   `skip_unlabelled`).
/// - [`DataError::Io`]: `out` cannot be written (checked before any work).
/// - [`DataError::Prepare`], carrying every recording's outcome: no recording
///   could be used (the message gives the first reasons); with `strict`, any
///   skipped recording; fewer than two classes among the usable recordings; a
///   split that cannot be made.
pub fn prepare(
    root: &Path,
    cfg: &PrepareConfig,
    out: &Path,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<PrepareSummary, DataError> {
    cfg.validate()?;
    check_writable(out)?;
    if !root.is_dir() {
        return Err(DataError::Config(format!(
            "{}: not a directory (expected a BIDS dataset root)",
            root.display()
        )));
    }
    let ds = bids::scan(root)?;
    let participants = ds.participants.as_ref().ok_or_else(|| {
        DataError::Config(format!("{}: no participants.tsv, so there are no labels", root.display()))
    })?;
    if participants.column(&cfg.label).is_none() {
        return Err(DataError::Config(format!(
            "{}: no column `{}`; the columns are: {}",
            participants.path.display(),
            cfg.label,
            participants.columns.join(", ")
        )));
    }
    let mut warnings = labels::check_column(participants, &cfg.label).map_err(DataError::Config)?;
    let recs: Vec<&BidsRecording> = match &cfg.task {
        Some(t) => ds.with_task(t),
        None => ds.recordings.iter().collect(),
    };
    if recs.is_empty() {
        let what = cfg.task.as_ref().map(|t| format!(" of task {t}")).unwrap_or_default();
        return Err(DataError::Config(format!("{}: no EEG recording{what} found", root.display())));
    }

    let participants_without_recording = participants_without_recording(participants, &recs);

    // Labels first: a missing label is a configuration problem, found before any work.
    let mut reports: Vec<RecordingReport> = Vec::new();
    let mut todo: Vec<(&BidsRecording, String)> = Vec::new();
    let mut unlabelled = Vec::new();
    // The column as participants.tsv spells it (`--label` matches it regardless of case).
    let column = participants
        .column(&cfg.label)
        .map(|i| participants.columns[i].clone())
        .expect("the column was found above");
    for r in recs {
        let raw = r.participant.get(&column).map(|s| s.trim().to_string());
        match raw.clone().filter(|s| !labels::is_missing(s)) {
            Some(l) => todo.push((r, l)),
            None => {
                unlabelled.push(r.subject.clone());
                let why = match raw {
                    _ if r.participant.is_empty() => "not listed in participants.tsv".to_string(),
                    Some(v) if !v.is_empty() => format!("`{v}` in column `{column}` counts as no value"),
                    _ => format!("no value in column `{column}`"),
                };
                reports.push(RecordingReport {
                    path: r.path.clone(),
                    subject: r.subject.clone(),
                    label: None,
                    outcome: Outcome::Skipped(why),
                    warnings: Vec::new(),
                });
            }
        }
    }
    if !unlabelled.is_empty() && !cfg.skip_unlabelled {
        unlabelled.dedup();
        let shown: Vec<String> = unlabelled.iter().take(5).map(|s| format!("sub-{s}")).collect();
        return Err(DataError::Config(format!(
            "{} subject(s) have no `{}` in participants.tsv ({}{}); pass --skip-unlabelled to leave them out",
            unlabelled.len(),
            cfg.label,
            shown.join(", "),
            if unlabelled.len() > 5 { ", ..." } else { "" }
        )));
    }

    // Classes and splits of the labelled subjects, before any work: the usable ones are among them.
    {
        let subject_label: BTreeMap<&str, &str> =
            todo.iter().map(|(r, l)| (r.subject.as_str(), l.as_str())).collect();
        let names: Vec<String> =
            subject_label.values().map(|l| l.to_string()).collect::<BTreeSet<_>>().into_iter().collect();
        if names.len() >= 2 {
            let subjects: Vec<String> = subject_label.keys().map(|s| s.to_string()).collect();
            let classes: Vec<usize> = subject_label
                .values()
                .map(|l| names.iter().position(|n| n == l).expect("names built from these labels"))
                .collect();
            let assignment = split_subjects(&classes, names.len(), &cfg.split)?;
            labels::check_split(&subjects, &classes, &names, &assignment, &cfg.split, &cfg.label)
                .map_err(|e| DataError::Config(format!("{}: {e}", participants.path.display())))?;
        }
    }

    let results: Vec<(Result<Processed, String>, Vec<String>)> = todo
        .par_iter()
        .map(|(r, _)| {
            let mut reader_warnings = Vec::new();
            let res = process_recording(r, cfg, &mut reader_warnings);
            progress(&r.subject);
            (res, reader_warnings)
        })
        .collect();

    let mut channel_names: Option<Vec<String>> = None;
    let mut kept: Vec<(String, String, Processed)> = Vec::new();
    let mut raw_bytes = 0;
    let mut upsampled: Vec<(PathBuf, f64)> = Vec::new();
    for ((r, label), (res, reader_warnings)) in todo.iter().zip(results) {
        let outcome = match res {
            Ok(p) => {
                raw_bytes += p.raw_bytes;
                match &channel_names {
                    Some(names) if *names != p.channels => Outcome::Skipped(format!(
                        "its channels ({}) differ from the other recordings' ({})",
                        p.channels.join(","),
                        names.join(",")
                    )),
                    _ => {
                        channel_names.get_or_insert_with(|| p.channels.clone());
                        let o = Outcome::Kept {
                            windows: p.n_windows,
                            rejected: p.rejected,
                            seconds_used: p.seconds_used,
                            eyes_closed_events: p.eyes_closed_events,
                        };
                        if p.fs < cfg.rate {
                            upsampled.push((r.path.clone(), p.fs));
                        }
                        kept.push((r.subject.clone(), label.clone(), p));
                        o
                    }
                }
            }
            Err(reason) => Outcome::Skipped(reason),
        };
        reports.push(RecordingReport {
            path: r.path.clone(),
            subject: r.subject.clone(),
            label: Some(label.clone()),
            outcome,
            warnings: reader_warnings,
        });
    }
    reports.sort_by(|a, b| a.path.cmp(&b.path));
    // Eyes-closed data from some recordings, whole recordings from others: a mix of conditions.
    let marked = |want: bool| -> Vec<PathBuf> {
        reports
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Kept { eyes_closed_events, .. } if eyes_closed_events == want))
            .map(|r| r.path.clone())
            .collect()
    };
    let unmarked = if cfg.eyes_closed && !marked(true).is_empty() { marked(false) } else { Vec::new() };
    upsampled.sort_by(|a, b| a.0.cmp(&b.0));
    if !upsampled.is_empty() {
        let rates: BTreeSet<String> = upsampled.iter().map(|(_, fs)| format!("{fs} Hz")).collect();
        let shown: Vec<String> =
            upsampled.iter().take(5).map(|(p, fs)| format!("{} ({fs} Hz)", p.display())).collect();
        warnings.push(format!(
            "{} recording(s) sampled below --rate {} Hz were upsampled (from {}): upsampling adds nothing above half \
             their rate; {}{}",
            upsampled.len(),
            cfg.rate,
            rates.into_iter().collect::<Vec<_>>().join(", "),
            shown.join(", "),
            if upsampled.len() > 5 { ", ..." } else { "" }
        ));
    }
    if !unmarked.is_empty() {
        let names: Vec<String> = reports
            .iter()
            .filter(|r| unmarked.contains(&r.path))
            .take(5)
            .map(|r| format!("sub-{}", r.subject))
            .collect();
        warnings.push(format!(
            "{} of {} used recordings have no eyes-closed markers and were used whole ({}{}), while the others \
             give eyes-closed data only: the classes may mix conditions; --skip-unmarked leaves them out",
            unmarked.len(),
            marked(true).len() + unmarked.len(),
            names.join(", "),
            if unmarked.len() > 5 { ", ..." } else { "" }
        ));
    }

    // Every failure from here on carries what happened to each recording.
    let partial = |message: String, warnings: &[String]| DataError::Prepare {
        message,
        partial: Box::new(PrepareSummary {
            out: out.to_path_buf(),
            classes: Vec::new(),
            recordings: reports.clone(),
            windows_per_class: Vec::new(),
            per_split: Vec::new(),
            n_subjects: 0,
            raw_bytes,
            participants_without_recording: participants_without_recording.clone(),
            warnings: warnings.to_vec(),
            unmarked: unmarked.clone(),
            upsampled: upsampled.clone(),
        }),
    };
    let skipped: Vec<&RecordingReport> =
        reports.iter().filter(|r| matches!(r.outcome, Outcome::Skipped(_))).collect();
    let reason = |r: &RecordingReport| match &r.outcome {
        Outcome::Skipped(why) => why.clone(),
        Outcome::Kept { .. } => String::new(),
    };
    let Some(channels) = channel_names else {
        let shown: Vec<String> =
            skipped.iter().take(3).map(|r| format!("sub-{}: {}", r.subject, reason(r))).collect();
        return Err(partial(
            format!(
                "{}: no recording could be prepared, all {} were skipped: {}{}",
                root.display(),
                reports.len(),
                shown.join("; "),
                if skipped.len() > 3 { format!("; and {} more", skipped.len() - 3) } else { String::new() }
            ),
            &warnings,
        ));
    };
    if cfg.strict {
        if let Some(first) = skipped.first() {
            return Err(partial(
                format!(
                    "{}: skipped: {} (--strict refuses any skipped recording; {} of {} were skipped)",
                    first.path.display(),
                    reason(first),
                    skipped.len(),
                    reports.len()
                ),
                &warnings,
            ));
        }
    }
    let classes: Vec<String> =
        kept.iter().map(|k| k.1.clone()).collect::<BTreeSet<_>>().into_iter().collect();
    if classes.len() < 2 {
        return Err(partial(
            format!(
                "column `{}` has {} class(es) among the usable recordings ({}); at least two are needed",
                cfg.label,
                classes.len(),
                classes.join(", ")
            ),
            &warnings,
        ));
    }
    // Subjects, with one class each.
    let mut subject_class: BTreeMap<String, usize> = BTreeMap::new();
    for (s, l, _) in &kept {
        let c = classes.iter().position(|x| x == l).expect("class list built from these labels");
        if let Some(prev) = subject_class.insert(s.clone(), c) {
            if prev != c {
                return Err(DataError::Config(format!("subject sub-{s} has two different labels")));
            }
        }
    }
    let subjects: Vec<String> = subject_class.keys().cloned().collect();
    let subj_classes: Vec<usize> = subject_class.values().copied().collect();
    let assignment = split_subjects(&subj_classes, classes.len(), &cfg.split)
        .map_err(|e| partial(e.to_string(), &warnings))?;
    match labels::check_split(&subjects, &subj_classes, &classes, &assignment, &cfg.split, &cfg.label) {
        Ok(w) => warnings.extend(w),
        Err(e) => return Err(partial(format!("{}: {e}", participants.path.display()), &warnings)),
    }

    let seg = (cfg.segment_s * cfg.rate).round() as usize;
    let mut set = EpochSet {
        x: Vec::new(),
        n_samples: seg,
        y: Vec::new(),
        subject: Vec::new(),
        split: Vec::new(),
        meta: EpochMeta {
            channels: channels.clone(),
            fs: cfg.rate,
            classes: classes.clone(),
            label_column: cfg.label.clone(),
            subjects: subjects.iter().map(|s| format!("sub-{s}")).collect(),
            settings: serde_json::Value::Null,
        },
    };
    // Subjects that class balancing left out: their recordings end as skipped, with the reason.
    for (si, a) in assignment.iter().enumerate() {
        if a.is_none() {
            for r in summary_reports_of(&mut reports, &subjects[si]) {
                r.outcome = Outcome::Skipped(format!(
                    "left out by --balance: class `{}` has more subjects than the smallest class",
                    classes[subj_classes[si]]
                ));
            }
        }
    }
    let mut windows_per_class = vec![0; classes.len()];
    let mut per_split: Vec<(Split, BTreeSet<usize>, usize)> =
        Split::ALL.iter().map(|&s| (s, BTreeSet::new(), 0)).collect();
    for (s, _, p) in kept {
        let si = subjects.binary_search(&s).expect("subject list built from these");
        let Some(split) = assignment[si] else { continue };
        let c = subj_classes[si];
        set.x.extend_from_slice(&p.windows);
        for _ in 0..p.n_windows {
            set.y.push(c as u32);
            set.subject.push(si as u32);
            set.split.push(split);
        }
        windows_per_class[c] += p.n_windows;
        let e = &mut per_split[split as usize];
        e.1.insert(si);
        e.2 += p.n_windows;
    }
    let n_subjects = per_split.iter().map(|e| e.1.len()).sum();
    let summary = PrepareSummary {
        out: out.to_path_buf(),
        classes,
        recordings: reports,
        windows_per_class,
        per_split: per_split.into_iter().map(|(s, subj, w)| (s, subj.len(), w)).collect(),
        n_subjects,
        raw_bytes,
        participants_without_recording,
        warnings,
        unmarked,
        upsampled,
    };
    let mut settings = cfg.settings_json();
    settings["outcome"] = summary.outcome_json();
    set.meta.settings = settings;
    set.write(out)?;
    Ok(summary)
}

/// The used recordings of subject `subject`.
fn summary_reports_of<'r>(
    reports: &'r mut [RecordingReport],
    subject: &'r str,
) -> impl Iterator<Item = &'r mut RecordingReport> + 'r {
    reports.iter_mut().filter(move |r| r.subject == subject && matches!(r.outcome, Outcome::Kept { .. }))
}

/// Participants of participants.tsv (as `sub-<label>`) that none of `recs` belongs to.
fn participants_without_recording(
    participants: &eeglens_io::tsv::Table,
    recs: &[&BidsRecording],
) -> Vec<String> {
    let Some(idcol) = participants.column("participant_id") else { return Vec::new() };
    let with: BTreeSet<&str> = recs.iter().map(|r| r.subject.as_str()).collect();
    let mut out: Vec<String> = participants
        .rows
        .iter()
        .map(|row| row[idcol].trim())
        .filter(|id| !id.is_empty())
        .map(|id| id.strip_prefix("sub-").unwrap_or(id))
        .filter(|id| !with.contains(id))
        .map(|id| format!("sub-{id}"))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Fails early, before any work, when `out` cannot be created.
fn check_writable(out: &Path) -> Result<(), DataError> {
    if out.is_dir() {
        return Err(DataError::Config(format!(
            "{}: is a directory; give a file name for the epoch store",
            out.display()
        )));
    }
    let probe = {
        let mut name = out.file_name().map(|s| s.to_os_string()).unwrap_or_default();
        name.push(".probe");
        out.with_file_name(name)
    };
    std::fs::write(&probe, b"").map_err(|e| DataError::io(out, e))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Events that mark eyes-closed and eyes-open periods, by label.
fn eyes_state(desc: &str) -> Option<bool> {
    let d: String = desc.to_ascii_lowercase().chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    const CLOSED: [&str; 6] =
        ["eyesclosed", "ec", "closed", "instructedtocloseeyes", "closeeyes", "eyesclose"];
    const OPEN: [&str; 6] = ["eyesopen", "eo", "open", "instructedtoopeneyes", "openeyes", "eyesopened"];
    if CLOSED.contains(&d.as_str()) {
        Some(true)
    } else if OPEN.contains(&d.as_str()) {
        Some(false)
    } else {
        None
    }
}

/// Eyes-closed intervals `[start, end)` in seconds, or `None` when no event
/// marks the eyes. An event with a duration covers `[onset, onset + duration)`;
/// one without lasts until the next eyes marker (or the end).
fn eyes_closed_intervals(events: &[Annotation], duration_s: f64) -> Option<Vec<(f64, f64)>> {
    let mut marks: Vec<(f64, Option<f64>, bool)> = events
        .iter()
        .filter_map(|a| eyes_state(&a.description).map(|c| (a.onset_s, a.duration_s.filter(|d| *d > 0.0), c)))
        .collect();
    if marks.is_empty() {
        return None;
    }
    marks.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out = Vec::new();
    for (k, &(onset, dur, closed)) in marks.iter().enumerate() {
        if !closed {
            continue;
        }
        let end = match dur {
            Some(d) => onset + d,
            None => marks.get(k + 1).map_or(duration_s, |m| m.0),
        };
        let (a, b) = (onset.max(0.0), end.min(duration_s));
        if b > a {
            out.push((a, b));
        }
    }
    Some(out)
}

/// Adds the reader's `new` warnings to `warnings`, each once: the header and the data are read
/// separately and both reads repeat what the header says.
fn add_reader_warnings(warnings: &mut Vec<String>, new: &[String]) {
    for w in new {
        if !warnings.contains(w) {
            warnings.push(w.clone());
        }
    }
}

/// Prepares one recording. The reader's warnings go to `reader_warnings`, also when the
/// recording is skipped after it was read.
fn process_recording(
    r: &BidsRecording,
    cfg: &PrepareConfig,
    reader_warnings: &mut Vec<String>,
) -> Result<Processed, String> {
    let header = eeglens_io::read_with(&r.path, &ReadOptions { header_only: true, ..Default::default() })
        .map_err(|e| e.to_string())?;
    add_reader_warnings(reader_warnings, &header.warnings);
    let labels: Vec<&str> = header.channels.iter().map(|c| c.name.as_str()).collect();
    let (indices, names): (Vec<usize>, Vec<String>) = match &cfg.channels {
        ChannelSet::Hbn24 => {
            let idx = montage::resolve(&labels, &montage::HBN24)
                .map_err(|missing| format!("channels not found: {}", missing.join(", ")))?;
            (idx, montage::HBN24.iter().map(|s| s.to_string()).collect())
        }
        ChannelSet::List(l) => {
            let wanted: Vec<&str> = l.iter().map(String::as_str).collect();
            let idx = montage::resolve(&labels, &wanted)
                .map_err(|missing| format!("channels not found: {}", missing.join(", ")))?;
            (idx, l.clone())
        }
        ChannelSet::All => {
            let idx: Vec<usize> =
                (0..header.channels.len()).filter(|&i| header.channels[i].kind == ChannelType::Eeg).collect();
            if idx.is_empty() {
                return Err("no EEG channel".into());
            }
            let names = idx.iter().map(|&i| header.channels[i].short_name().to_string()).collect();
            (idx, names)
        }
    };
    let fs = header.channels[indices[0]].fs;
    if let Some(&i) = indices.iter().find(|&&i| header.channels[i].fs != fs) {
        return Err(format!(
            "channel {} is sampled at {} Hz, channel {} at {fs} Hz; mixed rates are not supported",
            header.channels[i].name, header.channels[i].fs, header.channels[indices[0]].name
        ));
    }
    if !(fs > 0.0 && fs.fract() == 0.0) {
        return Err(format!(
            "sampling rate {fs} Hz is not a whole number; cannot resample to {} Hz",
            cfg.rate
        ));
    }
    // A rate whose Nyquist frequency is below the band's upper edge recorded nothing of the band's top:
    // resampling cannot put it back, so the windows would not hold what the settings say.
    if let Some((lo, hi)) = cfg.band {
        if fs < 2.0 * hi {
            return Err(format!(
                "sampling rate {fs} Hz cannot hold the band {lo}-{hi} Hz: it records frequencies up to {} Hz only \
                 (half its rate), below the band's upper edge {hi} Hz",
                fs / 2.0
            ));
        }
    }
    let wanted: Vec<String> = indices.iter().map(|&i| header.channels[i].name.clone()).collect();
    let rec = eeglens_io::read_with(&r.path, &ReadOptions { channels: Some(wanted), ..Default::default() })
        .map_err(|e| e.to_string())?;
    add_reader_warnings(reader_warnings, &rec.warnings);
    let raw_bytes = rec.data.iter().map(|c| c.len() as u64 * 4).sum();
    let mut data: Vec<Vec<f32>> = rec.data;
    for (k, ch) in data.iter().enumerate() {
        if let Some(t) = ch.iter().position(|v| !v.is_finite()) {
            return Err(format!("channel {} has a non-finite sample at {:.3} s", names[k], t as f64 / fs));
        }
    }
    // Events: the BIDS events.tsv wins over the file's own annotations.
    let events = match &r.events_tsv {
        Some(p) => bids::read_events_tsv(p).map_err(|e| e.to_string())?,
        None => rec.annotations.clone(),
    };

    // Resample, filter, re-reference.
    let rate = cfg.rate;
    if fs != rate {
        let rs = Resampler::from_rates(fs as usize, rate as usize).map_err(|e| e.to_string())?;
        data = eeglens_dsp::map_channels(&data, |c| rs.process(c)).map_err(|e| e.to_string())?;
    }
    if let Some((lo, hi)) = cfg.band {
        let kind = if lo > 0.0 { FilterKind::BandPass(lo, hi) } else { FilterKind::LowPass(hi) };
        let sos = butter(4, kind, rate).map_err(|e| e.to_string())?;
        eeglens_dsp::for_each_channel(&mut data, |c| sos.filtfilt_in_place(c)).map_err(|e| e.to_string())?;
    }
    if cfg.average_reference && data.len() > 1 {
        rereference(&mut data, &Reference::Average).map_err(|e| e.to_string())?;
    }

    let n = data.first().map_or(0, Vec::len);
    let duration = n as f64 / rate;
    let closed = if cfg.eyes_closed { eyes_closed_intervals(&events, duration) } else { None };
    let eyes_closed_events = closed.is_some();
    if cfg.eyes_closed && cfg.skip_unmarked && !eyes_closed_events {
        return Err("no event marks eyes closed or open, so it would be used whole (--skip-unmarked)".into());
    }
    let intervals = closed.unwrap_or_else(|| vec![(0.0, duration)]);
    let seg = (cfg.segment_s * rate).round() as usize;
    let mut starts = Vec::new();
    let mut seconds_used = 0.0;
    for (a, b) in intervals {
        seconds_used += b - a;
        let (mut s, e) = ((a * rate).ceil() as usize, ((b * rate).floor() as usize).min(n));
        while s + seg <= e {
            starts.push(s);
            s += seg;
        }
    }
    let c = data.len();
    // Amplitude rejection on the referenced, filtered µV.
    let mut rejected = 0;
    let mut keep = Vec::with_capacity(starts.len());
    for &s in &starts {
        let over = cfg
            .reject_uv
            .is_some_and(|thr| data.iter().any(|ch| ch[s..s + seg].iter().any(|v| (v.abs() as f64) > thr)));
        if over {
            rejected += 1;
        } else {
            keep.push(s);
        }
    }
    if keep.is_empty() {
        let what = if eyes_closed_events { "eyes-closed data" } else { "data" };
        return Err(if rejected > 0 {
            format!(
                "no window left: all {rejected} windows exceed the amplitude threshold of {} µV",
                cfg.reject_uv.unwrap_or(f64::INFINITY)
            )
        } else {
            format!("no window: {seconds_used:.2} s of {what}, shorter than one {} s window", cfg.segment_s)
        });
    }
    let mut windows = Vec::with_capacity(keep.len() * c * seg);
    for &s in &keep {
        for ch in &data {
            windows.extend_from_slice(&ch[s..s + seg]);
        }
    }
    normalise(&mut windows, keep.len(), c, seg, cfg.normalise);
    // Finite samples can still leave the f32 range in the filters or the reference (amplitudes
    // near f32::MAX): such a recording is skipped with the reason, never written into the store.
    if let Some(i) = windows.iter().position(|v| !v.is_finite()) {
        let (w, ch) = (i / (c * seg), i / seg % c);
        return Err(format!(
            "channel {} becomes non-finite after resampling, filtering and re-referencing (window at {:.3} s): \
             its amplitudes exceed what the preparation can represent",
            names[ch],
            keep[w] as f64 / rate
        ));
    }
    Ok(Processed {
        fs,
        windows,
        n_windows: keep.len(),
        rejected,
        seconds_used,
        eyes_closed_events,
        raw_bytes,
        channels: names,
    })
}

/// Scales windows `[n, c, t]` in place (see [`Normalise`]).
fn normalise(x: &mut [f32], n: usize, c: usize, t: usize, how: Normalise) {
    let centre_and_scale = |block: &mut [f32], n_blocks: usize| {
        // Channel means over all given windows, then one shared standard deviation.
        let mut means = vec![0.0f64; c];
        for w in 0..n_blocks {
            for ch in 0..c {
                let row = &block[(w * c + ch) * t..(w * c + ch + 1) * t];
                means[ch] += row.iter().map(|&v| v as f64).sum::<f64>();
            }
        }
        let count = (n_blocks * t).max(1) as f64;
        means.iter_mut().for_each(|m| *m /= count);
        let mut ss = 0.0f64;
        for w in 0..n_blocks {
            for ch in 0..c {
                let row = &mut block[(w * c + ch) * t..(w * c + ch + 1) * t];
                for v in row.iter_mut() {
                    let d = *v as f64 - means[ch];
                    ss += d * d;
                    *v = d as f32;
                }
            }
        }
        let sd = (ss / (count * c as f64)).sqrt();
        if sd > 0.0 {
            block.iter_mut().for_each(|v| *v = (*v as f64 / sd) as f32);
        }
    };
    match how {
        Normalise::None => {}
        Normalise::Recording if n > 0 => centre_and_scale(x, n),
        Normalise::Recording => {}
        Normalise::Segment => {
            for w in x.chunks_exact_mut(c * t) {
                centre_and_scale(w, 1);
            }
        }
    }
}

#[cfg(test)]
mod tests;

//! What `prepare` reports: each recording's outcome and the dataset's totals.

use std::path::PathBuf;

use crate::store::Split;

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
    /// time-keeping records that are not consecutive, ...) and the eyes-closed blocks its events
    /// cut short or left out, one sentence each; empty for a recording that was not read
    pub warnings: Vec<String>,
    /// with `--clean`, the channels flagged by each criterion and interpolated (`None` without
    /// `--clean` or for a recording not cleaned)
    pub clean: Option<super::clean::CleanReport>,
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
    /// the signal steps in the order they ran ([`super::PrepareConfig::steps`])
    pub steps: Vec<String>,
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
        o["steps"] = serde_json::json!(self.steps);
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
                "path": r.path, "subject": format!("sub-{}", r.subject), "label": r.label, "status": "used",
                "windows": windows, "rejected_amplitude": rejected, "seconds_used": seconds_used,
                "eyes_closed_events": eyes_closed_events, "warnings": r.warnings,
            }),
            Outcome::Skipped(why) => serde_json::json!({
                "path": r.path, "subject": format!("sub-{}", r.subject), "label": r.label, "status": "skipped", "reason": why,
                "warnings": r.warnings,
            }),
        })
        .collect();
    let recs: Vec<serde_json::Value> = recs
        .into_iter()
        .zip(recordings)
        .map(|(mut j, r)| {
            if let Some(c) = &r.clean {
                j["clean"] = c.json();
            }
            j
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

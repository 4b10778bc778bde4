//! BIDS-EEG datasets: find the recordings under a dataset root and their sidecar tables.
//!
//! Recognised layout (BIDS 1.x): `participants.tsv` at the root, data files
//! `sub-<label>/[ses-<label>/]eeg/sub-<label>[_ses-<label>]_task-<label>[_acq-..][_run-<index>]_eeg.<ext>`
//! with `<ext>` one of `edf`, `bdf`, `set`, `vhdr`, and beside each the `_channels.tsv` and
//! `_events.tsv` with the same entities.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::recording::{Annotation, ChannelType, ReadOptions, Recording};
use crate::tsv::Table;
use crate::IoError;

/// One EEG recording in a BIDS dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct BidsRecording {
    /// The data file (`.edf`, `.bdf`, `.set` or `.vhdr`).
    pub path: PathBuf,
    /// Subject label without `sub-`.
    pub subject: String,
    /// Session label without `ses-`.
    pub session: Option<String>,
    /// Task label without `task-` (e.g. `RestingState`).
    pub task: Option<String>,
    /// Run index without `run-`.
    pub run: Option<String>,
    /// Acquisition label without `acq-`.
    pub acquisition: Option<String>,
    /// The matching `_channels.tsv`, if present.
    pub channels_tsv: Option<PathBuf>,
    /// The matching `_events.tsv`, if present.
    pub events_tsv: Option<PathBuf>,
    /// This subject's row of `participants.tsv` (column -> value), empty when absent.
    pub participant: BTreeMap<String, String>,
}

/// A scanned dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct BidsDataset {
    /// Dataset root.
    pub root: PathBuf,
    /// `participants.tsv`, if present.
    pub participants: Option<Table>,
    /// Every EEG recording found, sorted by path.
    pub recordings: Vec<BidsRecording>,
}

impl BidsDataset {
    /// Subject labels (without `sub-`) that have at least one recording, sorted.
    pub fn subjects(&self) -> Vec<String> {
        let mut s: Vec<String> = self.recordings.iter().map(|r| r.subject.clone()).collect();
        s.sort();
        s.dedup();
        s
    }

    /// Recordings of one task (case-insensitive, e.g. `RestingState`).
    pub fn with_task(&self, task: &str) -> Vec<&BidsRecording> {
        self.recordings
            .iter()
            .filter(|r| r.task.as_deref().is_some_and(|t| t.eq_ignore_ascii_case(task)))
            .collect()
    }
}

/// Whether `path` looks like a BIDS dataset root (a directory with `participants.tsv`,
/// `dataset_description.json` or `sub-*` folders).
pub fn is_bids_root(path: &Path) -> bool {
    path.is_dir()
        && (path.join("participants.tsv").is_file()
            || path.join("dataset_description.json").is_file()
            || std::fs::read_dir(path).is_ok_and(|rd| {
                rd.flatten().any(|e| e.file_name().to_string_lossy().starts_with("sub-") && e.path().is_dir())
            }))
}

/// Scans a dataset root.
///
/// # Errors
/// [`IoError::Os`] when the root cannot be listed, and the TSV errors of a malformed
/// `participants.tsv`.
pub fn scan(root: &Path) -> Result<BidsDataset, IoError> {
    let participants_path = root.join("participants.tsv");
    let participants =
        if participants_path.is_file() { Some(Table::read(&participants_path)?) } else { None };
    let mut recordings = Vec::new();
    for sub in sorted_dirs(root, "sub-")? {
        let mut eeg_dirs = vec![sub.join("eeg")];
        for ses in sorted_dirs(&sub, "ses-")? {
            eeg_dirs.push(ses.join("eeg"));
        }
        for dir in eeg_dirs.into_iter().filter(|d| d.is_dir()) {
            let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
                .map_err(|e| IoError::os(&dir, e))?
                .flatten()
                .map(|e| e.path())
                .collect();
            files.sort();
            for f in files {
                if let Some(r) = recording_from(&f, participants.as_ref()) {
                    recordings.push(r);
                }
            }
        }
    }
    Ok(BidsDataset { root: root.to_path_buf(), participants, recordings })
}

fn sorted_dirs(dir: &Path, prefix: &str) -> Result<Vec<PathBuf>, IoError> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| IoError::os(dir, e))?
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(prefix) && e.path().is_dir())
        .map(|e| e.path())
        .collect();
    v.sort();
    Ok(v)
}

fn recording_from(path: &Path, participants: Option<&Table>) -> Option<BidsRecording> {
    let name = path.file_name()?.to_str()?;
    let (stem, ext) = name.rsplit_once('.')?;
    if !["edf", "bdf", "set", "vhdr"].contains(&ext.to_ascii_lowercase().as_str()) {
        return None;
    }
    let base = stem.strip_suffix("_eeg")?;
    let mut entities = BTreeMap::new();
    for part in base.split('_') {
        if let Some((k, v)) = part.split_once('-') {
            entities.insert(k.to_string(), v.to_string());
        }
    }
    let subject = entities.get("sub")?.clone();
    let sidecar = |suffix: &str| {
        let p = path.with_file_name(format!("{base}_{suffix}.tsv"));
        p.is_file().then_some(p)
    };
    let mut participant = BTreeMap::new();
    if let Some(t) = participants {
        if let Some(idcol) = t.column("participant_id") {
            let row = t.rows.iter().find(|r| {
                let id = r[idcol].as_str();
                id == format!("sub-{subject}") || id == subject
            });
            if let Some(row) = row {
                for (c, v) in t.columns.iter().zip(row) {
                    participant.insert(c.clone(), v.clone());
                }
            }
        }
    }
    Some(BidsRecording {
        path: path.to_path_buf(),
        subject,
        session: entities.get("ses").cloned(),
        task: entities.get("task").cloned(),
        run: entities.get("run").cloned(),
        acquisition: entities.get("acq").cloned(),
        channels_tsv: sidecar("channels"),
        events_tsv: sidecar("events"),
        participant,
    })
}

impl BidsRecording {
    /// Reads the data file and applies the sidecars: channel types and `status` bad from
    /// `_channels.tsv`, events from `_events.tsv` (they replace the file's own annotations when
    /// present), and the subject's id and sex from `participants.tsv`.
    ///
    /// # Errors
    /// The data file's reader errors and the TSV errors of malformed sidecars.
    pub fn read(&self) -> Result<Recording, IoError> {
        self.read_with(&ReadOptions::default())
    }

    /// As [`BidsRecording::read`], reading only what `opts` selects (channels, time range).
    ///
    /// # Errors
    /// As [`BidsRecording::read`], plus [`IoError::Selection`].
    pub fn read_with(&self, opts: &ReadOptions) -> Result<Recording, IoError> {
        let mut rec = crate::read_with(&self.path, opts)?;
        if let Some(p) = &self.channels_tsv {
            apply_channels_tsv(&mut rec, &Table::read(p)?);
        }
        if let Some(p) = &self.events_tsv {
            let events = read_events_tsv(p)?;
            if !events.is_empty() {
                rec.annotations = events;
            }
        }
        rec.subject.id = self.subject.clone();
        if let Some(sex) = self.participant.get("sex").filter(|s| s.as_str() != "n/a") {
            rec.subject.sex = Some(sex.clone());
        }
        Ok(rec)
    }
}

/// Applies a `_channels.tsv` (columns `name`, `type`, optional `status`) to matching channels.
pub fn apply_channels_tsv(rec: &mut Recording, table: &Table) {
    for row in 0..table.rows.len() {
        let Some(name) = table.get(row, "name") else { continue };
        let Some(i) = rec.channels.iter().position(|c| c.name == name || c.short_name() == name) else {
            continue;
        };
        if let Some(t) = table.get(row, "type") {
            rec.channels[i].kind = ChannelType::from_bids(t);
        }
        if let Some(s) = table.get(row, "status") {
            rec.channels[i].bad = s.eq_ignore_ascii_case("bad");
        }
    }
}

/// Reads a `_events.tsv`: `onset` and `duration` in seconds (`n/a` duration is absent), the
/// description from `trial_type`, else `value`, else `event_type`.
///
/// # Errors
/// [`IoError::Text`] for a missing `onset` column or an onset/duration that is not a number.
pub fn read_events_tsv(path: &Path) -> Result<Vec<Annotation>, IoError> {
    let t = Table::read(path)?;
    if t.column("onset").is_none() {
        return Err(IoError::Text { path: path.to_path_buf(), line: 1, what: "no `onset` column".into() });
    }
    let num = |row: usize, col: &str| -> Result<Option<f64>, IoError> {
        match t.get(row, col) {
            None => Ok(None),
            Some(v) => v.parse::<f64>().map(Some).map_err(|_| IoError::Text {
                path: path.to_path_buf(),
                line: t.row_lines[row],
                what: format!("{col} {} is not a number", crate::error::quote(v)),
            }),
        }
    };
    let mut out = Vec::with_capacity(t.rows.len());
    for row in 0..t.rows.len() {
        let Some(onset_s) = num(row, "onset")? else { continue };
        let description = ["trial_type", "value", "event_type"]
            .iter()
            .find_map(|c| t.get(row, c))
            .unwrap_or("")
            .to_string();
        out.push(Annotation { onset_s, duration_s: num(row, "duration")?, description });
    }
    Ok(out)
}

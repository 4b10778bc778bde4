//! Writing a synthetic data set as a BIDS-EEG dataset, so the real-data path
//! (BIDS scan, file readers, preparation) is the one exercised.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use eeglens_io::{Annotation, Channel, ChannelType, DateTime, EdfWriteOptions, Format, Recording};
use rayon::prelude::*;

use super::{generate_subject, subjects, SubjectMeta, SynthConfig};
use crate::error::DataError;

/// The file format of the written recordings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SynthFormat {
    /// EDF+ (16-bit)
    Edf,
    /// BDF+ (24-bit)
    Bdf,
    /// EEGLAB `.set` + `.fdt` (float32), HBN-shaped: HBN's event codes and participants.tsv
    /// columns (see [`write_bids`])
    Set,
}

impl SynthFormat {
    /// Parses `edf`, `bdf` or `set`; other formats have no writer and are refused by name.
    ///
    /// # Errors
    /// A message naming the formats that can be written.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "edf" => Ok(SynthFormat::Edf),
            "bdf" => Ok(SynthFormat::Bdf),
            "set" => Ok(SynthFormat::Set),
            "vhdr" => Err(format!(
                "format `{s}`: eeglens reads BrainVision files but has no writer for them; use edf, bdf or set"
            )),
            _ => Err(format!("unknown format `{s}` (expected edf, bdf or set)")),
        }
    }

    fn ext(self) -> &'static str {
        match self {
            SynthFormat::Edf => "edf",
            SynthFormat::Bdf => "bdf",
            SynthFormat::Set => "set",
        }
    }
}

/// The name of the task written into every file name.
pub const TASK: &str = "RestingState";

/// What was written.
#[derive(Clone, Debug, PartialEq)]
pub struct SynthSummary {
    /// dataset root
    pub root: PathBuf,
    /// the subjects, in order
    pub subjects: Vec<SubjectMeta>,
    /// the recordings' paths
    pub files: Vec<PathBuf>,
    /// bytes of EEG data files written
    pub bytes: u64,
}

fn os(path: &Path) -> impl FnOnce(std::io::Error) -> DataError + '_ {
    move |e| DataError::io(path, e)
}

/// The file of a synthetic dataset that holds the generator's settings and the planted effect.
pub const TRUTH_FILE: &str = "eeglens_synth.json";

/// The planted effect of the synthetic dataset at `root` (the `effect` of its
/// [`TRUTH_FILE`]: `band`, `channels`, `size`, `class`); `None` when `root`
/// is not a synthetic dataset or its truth file cannot be read.
pub fn planted(root: &Path) -> Option<serde_json::Value> {
    let text = std::fs::read_to_string(root.join(TRUTH_FILE)).ok()?;
    let truth: serde_json::Value = serde_json::from_str(&text).ok()?;
    truth.get("effect").filter(|e| e.is_object()).cloned()
}

/// Generates every subject of `cfg` and writes the dataset under `root`:
/// `dataset_description.json`, `participants.tsv` (`participant_id`, `sex`,
/// `age`; for [`SynthFormat::Set`] the columns of the Healthy Brain Network's BIDS release:
/// `participant_id`, `release_number`, `Sex` as `M`/`F`, `Age`, `commercial_use`, `full_pheno`)
/// and `.json`, `eeglens_synth.json` (the generator's settings and the
/// planted effect: the ground truth), and per subject
/// `sub-<label>/eeg/sub-<label>_task-RestingState_eeg.<edf|bdf>` with its
/// `_channels.tsv`, `_events.tsv` (eyes open / closed blocks) and `_eeg.json`.
///
/// A [`SynthFormat::Set`] recording is an EEGLAB `.set` + `.fdt` written as HBN's are: its
/// `EEG.event` holds HBN's codes (`break cnt` and `90`, the resting-state start, at 0 s, then
/// `20` at each eyes-open and `30` at each eyes-closed block's start), its events.tsv the names of
/// HBN's BIDS release in a `value` column (`resting_start`, `instructed_toOpenEyes`,
/// `instructed_toCloseEyes`), and `EEG.ref` the vertex `Cz` when the montage is EGI's (Cz then all
/// zeros, see [`super::head`]).
///
/// Subjects are generated in parallel; `progress` is called once per subject written.
///
/// # Errors
/// [`DataError::Config`] for an invalid configuration; [`DataError::Io`] or
/// [`DataError::Recording`] naming the file that could not be written.
pub fn write_bids(
    cfg: &SynthConfig,
    root: &Path,
    format: SynthFormat,
    progress: &(dyn Fn() + Sync),
) -> Result<SynthSummary, DataError> {
    cfg.validate().map_err(DataError::Config)?;
    std::fs::create_dir_all(root).map_err(os(root))?;
    let metas = subjects(cfg);

    let desc = serde_json::json!({
        "Name": "eeglens synthetic resting-state EEG",
        "BIDSVersion": "1.9.0",
        "DatasetType": "raw",
        "GeneratedBy": [{"Name": "eeglens synth", "Version": env!("CARGO_PKG_VERSION")}],
    });
    write_text(&root.join("dataset_description.json"), &pretty(&desc))?;
    let mut participants = String::new();
    let pj = if format == SynthFormat::Set {
        participants.push_str("participant_id\trelease_number\tSex\tAge\tcommercial_use\tfull_pheno\n");
        for m in &metas {
            let _ = writeln!(participants, "sub-{}\tR0\t{}\t{:.1}\tYes\tYes", m.label, m.sex, m.age);
        }
        serde_json::json!({
            "release_number": {"Description": "HBN data release (R0: synthetic)"},
            "Sex": {"Description": "sex of the participant", "Levels": {"F": "female", "M": "male"}},
            "Age": {"Description": "age of the participant", "Units": "year"},
            "commercial_use": {"Description": "whether the data may be used commercially"},
            "full_pheno": {"Description": "whether the full phenotype is available"},
        })
    } else {
        participants.push_str("participant_id\tsex\tage\n");
        for m in &metas {
            let _ = writeln!(participants, "sub-{}\t{}\t{:.1}", m.label, m.sex, m.age);
        }
        serde_json::json!({
            "sex": {"Description": "sex of the participant", "Levels": {"F": "female", "M": "male"}},
            "age": {"Description": "age of the participant", "Units": "year"},
        })
    };
    write_text(&root.join("participants.tsv"), &participants)?;
    write_text(&root.join("participants.json"), &pretty(&pj))?;
    let mut truth = serde_json::json!({
        "seed": cfg.seed,
        "n_subjects": cfg.n_subjects,
        "fs": cfg.fs,
        "duration_s": cfg.duration_s(),
        "channels": cfg.channels,
        "effect": {
            "band": [cfg.effect.band.0, cfg.effect.band.1],
            "channels": cfg.effect.channels,
            "size": cfg.effect.size,
            "class": cfg.effect.class,
        },
        "blinks": cfg.blinks,
        "line_freq": cfg.line_freq,
    });
    if cfg.head_model != super::HeadModel::Kernel {
        truth["head_model"] = serde_json::json!(cfg.head_model.name());
    }
    if cfg.age_effect != super::age::AgeEffect::None {
        truth["age_effect"] = super::age::truth(cfg.age_effect);
    }
    write_text(&root.join(TRUTH_FILE), &pretty(&truth))?;

    let results: Vec<Result<(PathBuf, u64), DataError>> = metas
        .par_iter()
        .enumerate()
        .map(|(i, meta)| {
            let r = write_subject(cfg, root, format, meta, i);
            progress();
            r
        })
        .collect();
    let mut files = Vec::with_capacity(results.len());
    let mut bytes = 0;
    for r in results {
        let (p, b) = r?;
        files.push(p);
        bytes += b;
    }
    Ok(SynthSummary { root: root.to_path_buf(), subjects: metas, files, bytes })
}

fn write_subject(
    cfg: &SynthConfig,
    root: &Path,
    format: SynthFormat,
    meta: &SubjectMeta,
    index: usize,
) -> Result<(PathBuf, u64), DataError> {
    let s = generate_subject(cfg, meta, index);
    let dir = root.join(format!("sub-{}", meta.label)).join("eeg");
    std::fs::create_dir_all(&dir).map_err(os(&dir))?;
    let base = format!("sub-{}_task-{TASK}", meta.label);
    if format == SynthFormat::Set {
        return write_subject_set(cfg, &dir, &base, meta, s);
    }

    let mut rec = Recording::new(match format {
        SynthFormat::Bdf => Format::BdfPlusC,
        _ => Format::EdfPlusC,
    });
    for (name, samples) in cfg.channels.iter().zip(s.data) {
        rec.push_channel(Channel::new(name.clone(), ChannelType::Eeg, cfg.fs), samples);
    }
    rec.start = DateTime::new(2020, 1, 1, 9, 0, 0);
    rec.subject.id = format!("sub-{}", meta.label);
    rec.subject.sex = Some(meta.sex.clone());
    rec.recording_id = format!("task-{TASK}");
    rec.annotations = s
        .blocks
        .iter()
        .map(|b| Annotation {
            onset_s: b.onset_s,
            duration_s: Some(b.duration_s),
            description: b.eyes.label().to_string(),
        })
        .collect();
    let path = dir.join(format!("{base}_eeg.{}", format.ext()));
    let opts = match format {
        SynthFormat::Bdf => EdfWriteOptions::bdf_plus(),
        _ => EdfWriteOptions::edf_plus(),
    };
    eeglens_io::write_edf(&path, &rec, &opts)?;
    let bytes = std::fs::metadata(&path).map_err(os(&path))?.len();

    let mut ch = String::from("name\ttype\tunits\tsampling_frequency\tstatus\n");
    for name in &cfg.channels {
        let _ = writeln!(ch, "{name}\tEEG\tuV\t{}\tgood", cfg.fs);
    }
    write_text(&dir.join(format!("{base}_channels.tsv")), &ch)?;
    let mut ev = String::from("onset\tduration\ttrial_type\n");
    for b in &s.blocks {
        let _ = writeln!(ev, "{:.3}\t{:.3}\t{}", b.onset_s, b.duration_s, b.eyes.label());
    }
    write_text(&dir.join(format!("{base}_events.tsv")), &ev)?;
    let sidecar = serde_json::json!({
        "TaskName": TASK,
        "SamplingFrequency": cfg.fs,
        "EEGReference": "common average (synthetic)",
        "PowerLineFrequency": if cfg.line_freq > 0.0 { serde_json::json!(cfg.line_freq) } else { serde_json::json!("n/a") },
        "SoftwareFilters": "n/a",
        "EEGChannelCount": cfg.channels.len(),
        "RecordingDuration": cfg.duration_s(),
        "RecordingType": "continuous",
    });
    write_text(&dir.join(format!("{base}_eeg.json")), &pretty(&sidecar))?;
    Ok((path, bytes))
}

/// HBN's event codes in `EEG.event` and names in events.tsv: (onset s, code, name).
fn hbn_events(blocks: &[super::Block]) -> Vec<(f64, &'static str, &'static str)> {
    let mut ev = vec![(0.0, "break cnt", "break cnt"), (0.0, "90", "resting_start")];
    for b in blocks {
        ev.push(match b.eyes {
            super::Eyes::Open => (b.onset_s, "20", "instructed_toOpenEyes"),
            super::Eyes::Closed => (b.onset_s, "30", "instructed_toCloseEyes"),
        });
    }
    ev
}

/// One subject as HBN ships it: EEGLAB `.set` + `.fdt`, HBN's event codes and names.
fn write_subject_set(
    cfg: &SynthConfig,
    dir: &Path,
    base: &str,
    meta: &SubjectMeta,
    s: super::SynthSubject,
) -> Result<(PathBuf, u64), DataError> {
    let reference = if super::head::vertex_reference(cfg).is_some() { "Cz" } else { "average" };
    let mut rec = Recording::new(Format::Eeglab);
    for (name, samples) in cfg.channels.iter().zip(s.data) {
        rec.push_channel(Channel::new(name.clone(), ChannelType::Eeg, cfg.fs), samples);
    }
    rec.start = DateTime::new(2020, 1, 1, 9, 0, 0);
    rec.subject.id = format!("sub-{}", meta.label);
    rec.recording_id = format!("task-{TASK}");
    let events = hbn_events(&s.blocks);
    rec.annotations = events
        .iter()
        .map(|&(onset_s, code, _)| Annotation { onset_s, duration_s: None, description: code.to_string() })
        .collect();
    let path = dir.join(format!("{base}_eeg.set"));
    let written = eeglens_io::write_eeglab(&path, &rec, reference)?;

    let mut ch = String::from("name\ttype\tunits\tsampling_frequency\tstatus\n");
    for name in &cfg.channels {
        let _ = writeln!(ch, "{name}\tEEG\tuV\t{}\tgood", cfg.fs);
    }
    write_text(&dir.join(format!("{base}_channels.tsv")), &ch)?;
    let mut ev = String::from("onset\tduration\tvalue\tsample\n");
    for &(onset, _, name) in &events {
        let _ = writeln!(ev, "{onset:.3}\tn/a\t{name}\t{}", (onset * cfg.fs).round() as u64);
    }
    write_text(&dir.join(format!("{base}_events.tsv")), &ev)?;
    let sidecar = serde_json::json!({
        "TaskName": TASK,
        "SamplingFrequency": cfg.fs,
        "EEGReference": reference,
        "PowerLineFrequency": if cfg.line_freq > 0.0 { serde_json::json!(cfg.line_freq) } else { serde_json::json!("n/a") },
        "SoftwareFilters": "n/a",
        "CapManufacturer": "synthetic (eeglens synth)",
        "EEGChannelCount": cfg.channels.len(),
        "RecordingDuration": cfg.duration_s(),
        "RecordingType": "continuous",
    });
    write_text(&dir.join(format!("{base}_eeg.json")), &pretty(&sidecar))?;
    Ok((path, written.bytes))
}

fn pretty(v: &serde_json::Value) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("JSON values serialise");
    s.push('\n');
    s
}

fn write_text(path: &Path, text: &str) -> Result<(), DataError> {
    eeglens_io::atomic::write_file(path, text.as_bytes()).map_err(os(path))
}

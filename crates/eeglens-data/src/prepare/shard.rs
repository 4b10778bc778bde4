//! `prepare --shard i/N`: one task of a job array prepares a deterministic subset of the
//! recordings into a part; [`merge`](super::merge()) joins the parts into the store a single
//! `prepare` writes.
//!
//! # Which recordings a shard takes
//! Every shard makes the same plan as a single `prepare`, from the whole dataset: the labelled
//! recordings of the task, in the dataset's order (sorted by path). Their subjects are dealt
//! round-robin in order of first appearance: subject `k` goes to shard `k mod N`, with all its
//! recordings ([`shard_of_each`]). So each recording is in exactly one shard, a subject is never
//! in two, and the shards differ by at most one subject.
//!
//! # What a part holds
//! A safetensors file whose `__metadata__["format"]` is [`PART_FORMAT`](super::PART_FORMAT), so
//! no command takes it for an epoch store:
//! - tensor `windows` (F32, one dimension): the windows of each of its recordings that could be
//!   processed, back to back in the plan's order (a recording's windows are `[n, C, T]`);
//! - `shard` (`i/N`), `settings` (as a store's, with this task's `provenance`), `finish` (what
//!   the merge needs besides: label column, rate, window length, eyes-closed, strict, split),
//!   `plan` (the whole dataset's labelled recordings, the unlabelled ones' reasons, the
//!   label column's warnings, the participants without a recording, the planted effect),
//!   `recordings` (each of its recordings' result and reader warnings), and `content_sha256`.
//!
//! Decisions that need every recording (the channels all stores share, the classes, the
//! subject split, class balancing, `--strict`) are made by the merge, by the same code as a
//! single `prepare`, so the merged store equals the single one.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::tensor::Dtype;

use super::recording::Processed;
use super::spill::{copy_places, Place, Source, Spill};
use super::summary::{Outcome, RecordingReport};
use super::{check_writable, process_all, scan, Done, Plan, PrepareConfig, Todo};
use crate::error::DataError;
use crate::split::SplitConfig;
use crate::store::{write_streamed, StreamedTensor};

/// One task of `N`: `index` in `0..count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// this task, from 0
    pub index: usize,
    /// how many tasks
    pub count: usize,
}

impl Shard {
    /// Parses `i/N` with `0 <= i < N`.
    ///
    /// # Errors
    /// A one-line message when it is not two whole numbers with `i < N`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = || format!("--shard `{s}`: expected i/N with 0 <= i < N (e.g. 0/8)");
        let (a, b) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = a.trim().parse().map_err(|_| bad())?;
        let count: usize = b.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Self { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The shard of each recording, given each recording's subject in the plan's order: subjects
/// are numbered in order of first appearance and subject `k` goes to shard `k mod count`.
///
/// # Panics
/// When `count` is 0.
pub fn shard_of_each<S: AsRef<str>>(subjects: &[S], count: usize) -> Vec<usize> {
    assert!(count > 0, "shard_of_each: no shard");
    let mut number: HashMap<&str, usize> = HashMap::new();
    subjects
        .iter()
        .map(|s| {
            let next = number.len();
            *number.entry(s.as_ref()).or_insert(next) % count
        })
        .collect()
}

/// What one shard did.
#[derive(Clone, Debug, PartialEq)]
pub struct ShardSummary {
    /// the part written
    pub out: PathBuf,
    /// which shard
    pub shard: Shard,
    /// the shard's recordings: `Kept` for those processed (the merge decides whether they are
    /// used), `Skipped` with the reason for the others
    pub recordings: Vec<RecordingReport>,
    /// subjects of the shard
    pub n_subjects: usize,
    /// windows in the part
    pub n_windows: usize,
}

/// Prepares shard `shard` of the BIDS dataset at `root` into a part at `out` (see the module
/// page); `progress` is called once per recording of the shard.
///
/// # Errors
/// Those of [`prepare`](super::prepare()) found before any work (settings, labels, the split
/// checked from the whole participants list, `out` not writable); [`DataError::Io`] when the
/// part cannot be written.
pub fn prepare_shard(
    root: &Path,
    cfg: &PrepareConfig,
    shard: Shard,
    out: &Path,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<ShardSummary, DataError> {
    cfg.validate()?;
    if shard.count == 0 || shard.index >= shard.count {
        return Err(DataError::Config(format!("--shard {shard}: need 0 <= i < N")));
    }
    check_writable(out)?;
    let ds = scan(root)?;
    let plan = Plan::new(root, &ds, cfg)?;
    let subjects: Vec<&str> = plan.todo.iter().map(|(r, _)| r.subject.as_str()).collect();
    let mine: Vec<usize> = shard_of_each(&subjects, shard.count)
        .into_iter()
        .enumerate()
        .filter(|&(_, s)| s == shard.index)
        .map(|(i, _)| i)
        .collect();
    let todo: Vec<Todo> = mine.iter().map(|&i| plan.todo[i].clone()).collect();
    let spill = Spill::create(out)?;
    let (done, places) = process_all(&todo, cfg, progress, Some(&spill))?;
    let spill = spill.into_reader()?;
    let planted = crate::synth::planted(root);
    write_part(out, shard, cfg, &plan, &mine, &done, planted, &places, spill.source())?;
    let mut n_windows = 0;
    let recordings = todo
        .iter()
        .zip(done)
        .map(|((r, label), done)| recording_report(r, label, done, &mut n_windows))
        .collect();
    let n_subjects =
        todo.iter().map(|(r, _)| r.subject.as_str()).collect::<std::collections::BTreeSet<_>>().len();
    Ok(ShardSummary { out: out.to_path_buf(), shard, recordings, n_subjects, n_windows })
}

/// Whether `out` already holds shard `shard` of this preparation, finished: a part of the same
/// shard, settings and plan (the dataset's labelled recordings and their labels), whose
/// contents still match its recorded hash. Then its summary, read back from the part; a rerun of
/// a finished array task is a no-op. `None` when `out` does not exist or holds anything else
/// (which the caller refuses to overwrite without `--force`).
///
/// A killed task leaves no part (parts are written atomically), so its rerun prepares it.
///
/// # Errors
/// Those of [`prepare_shard`] found before any work (settings, labels, the split).
pub fn finished_shard(
    root: &Path,
    cfg: &PrepareConfig,
    shard: Shard,
    out: &Path,
) -> Result<Option<ShardSummary>, DataError> {
    if !out.is_file() {
        return Ok(None);
    }
    let Ok(part) = super::merge::Part::open(out) else { return Ok(None) };
    cfg.validate()?;
    let ds = scan(root)?;
    let plan = Plan::new(root, &ds, cfg)?;
    // Both sides through the same JSON text, so numbers compare as the part recorded them.
    let reparse = |v: serde_json::Value| serde_json::from_str::<serde_json::Value>(&v.to_string()).ok();
    let mut settings = cfg.settings_json();
    if let Some(o) = settings.as_object_mut() {
        o.remove("provenance");
    }
    let same = part.shard == shard
        && reparse(settings) == Some(part.settings.clone())
        && reparse(finish_json(cfg)) == Some(part.finish.clone())
        && part.raw("plan") == Some(plan_json(&plan, crate::synth::planted(root)).to_string().as_str())
        && part.verify().is_ok();
    if !same {
        return Ok(None);
    }
    let mut recordings = Vec::with_capacity(part.records.len());
    let mut n_windows = 0;
    let mut subjects = std::collections::BTreeSet::new();
    for r in &part.records {
        let Some(((rec, label), (res, warnings))) =
            r["index"].as_u64().and_then(|i| plan.todo.get(i as usize)).zip(done_of_record(r))
        else {
            return Ok(None);
        };
        subjects.insert(rec.subject.clone());
        recordings.push(recording_report(rec, label, (res, warnings), &mut n_windows));
    }
    Ok(Some(ShardSummary {
        out: out.to_path_buf(),
        shard,
        recordings,
        n_subjects: subjects.len(),
        n_windows,
    }))
}

/// What the merge needs of the settings besides the store's `settings`.
pub(super) fn finish_json(cfg: &PrepareConfig) -> serde_json::Value {
    serde_json::json!({
        "label": cfg.label,
        "rate": cfg.rate,
        "segment_s": cfg.segment_s,
        "eyes_closed": cfg.eyes_closed,
        "strict": cfg.strict,
        "skip_unlabelled": cfg.skip_unlabelled,
        "steps": cfg.steps(),
        "split": {"test": cfg.split.test, "val": cfg.split.val, "seed": cfg.split.seed, "balance": cfg.split.balance},
    })
}

/// The settings `finish_json` recorded, on top of the defaults (the merge uses no other field).
pub(super) fn config_of_finish(v: &serde_json::Value) -> Option<PrepareConfig> {
    let mut c = PrepareConfig::new(v["label"].as_str()?);
    c.rate = v["rate"].as_f64()?;
    c.segment_s = v["segment_s"].as_f64()?;
    c.eyes_closed = v["eyes_closed"].as_bool()?;
    c.strict = v["strict"].as_bool()?;
    c.skip_unlabelled = v["skip_unlabelled"].as_bool()?;
    let s = &v["split"];
    c.split = SplitConfig {
        test: s["test"].as_f64()?,
        val: s["val"].as_f64()?,
        seed: s["seed"].as_u64()?,
        balance: s["balance"].as_bool()?,
    };
    Some(c)
}

/// The plan as JSON: identical in every part of one preparation.
fn plan_json(plan: &Plan, planted: Option<serde_json::Value>) -> serde_json::Value {
    let unlabelled: Vec<serde_json::Value> = plan
        .reports
        .iter()
        .map(|r| {
            let why = match &r.outcome {
                Outcome::Skipped(why) => why.clone(),
                Outcome::Kept { .. } => String::new(),
            };
            serde_json::json!([r.path, r.subject, why])
        })
        .collect();
    serde_json::json!({
        "participants": plan.participants,
        "todo": plan.todo.iter().map(|(r, l)| serde_json::json!([r.path, r.subject, l])).collect::<Vec<_>>(),
        "unlabelled": unlabelled,
        "warnings": plan.warnings,
        "participants_without_recording": plan.participants_without_recording,
        "planted": planted,
    })
}

/// One recording's result as the part records it.
fn record_json(index: usize, res: &Result<Processed, String>, warnings: &[String]) -> serde_json::Value {
    match res {
        Ok(p) => serde_json::json!({
            "index": index, "windows": p.n_windows, "starts": p.starts, "rejected": p.rejected, "seconds_used": p.seconds_used,
            "eyes_closed_events": p.eyes_closed_events, "fs": p.fs, "raw_bytes": p.raw_bytes,
            "channels": p.channels, "warnings": warnings,
            "clean": p.clean.as_ref().map(|c| c.json()),
        }),
        Err(why) => serde_json::json!({"index": index, "skipped": why, "warnings": warnings}),
    }
}

/// The summary's line of one recording of a shard, its windows added to `n_windows`.
fn recording_report(
    rec: &eeglens_io::bids::BidsRecording,
    label: &str,
    (res, warnings): Done,
    n_windows: &mut usize,
) -> RecordingReport {
    RecordingReport {
        clean: res.as_ref().ok().and_then(|p| p.clean.clone()),
        path: rec.path.clone(),
        subject: rec.subject.clone(),
        label: Some(label.to_string()),
        outcome: match res {
            Ok(p) => {
                *n_windows += p.n_windows;
                Outcome::Kept {
                    windows: p.n_windows,
                    rejected: p.rejected,
                    seconds_used: p.seconds_used,
                    eyes_closed_events: p.eyes_closed_events,
                }
            }
            Err(why) => Outcome::Skipped(why),
        },
        warnings,
    }
}

/// A recorded result back as `prepare` has it, without the windows.
pub(super) fn done_of_record(r: &serde_json::Value) -> Option<Done> {
    let warnings: Vec<String> = serde_json::from_value(r["warnings"].clone()).ok()?;
    if let Some(why) = r["skipped"].as_str() {
        return Some((Err(why.to_string()), warnings));
    }
    let channels: Vec<String> = serde_json::from_value(r["channels"].clone()).ok()?;
    let clean = match &r["clean"] {
        serde_json::Value::Null => None,
        c => Some(super::clean::CleanReport::from_json(c)?),
    };
    let p = Processed {
        clean,
        fs: r["fs"].as_f64()?,
        windows: Vec::new(),
        n_windows: r["windows"].as_u64()? as usize,
        starts: serde_json::from_value(r["starts"].clone()).ok()?,
        rejected: r["rejected"].as_u64()? as usize,
        seconds_used: r["seconds_used"].as_f64()?,
        eyes_closed_events: r["eyes_closed_events"].as_bool()?,
        raw_bytes: r["raw_bytes"].as_u64()?,
        channels,
    };
    Some((Ok(p), warnings))
}

/// Writes the part's file at `out`: the windows of the shard's recordings `done` (processed in
/// `mine`'s order, their windows in `source` at `places`) and the metadata of the module page.
#[allow(clippy::too_many_arguments)]
fn write_part(
    out: &Path,
    shard: Shard,
    cfg: &PrepareConfig,
    plan: &Plan,
    mine: &[usize],
    done: &[Done],
    planted: Option<serde_json::Value>,
    places: &[Option<Place>],
    source: Source<'_>,
) -> Result<(), DataError> {
    debug_assert_eq!(mine.len(), done.len());
    let records: Vec<serde_json::Value> =
        mine.iter().zip(done).map(|(&i, (res, w))| record_json(i, res, w)).collect();
    let mut info: HashMap<String, String> = HashMap::new();
    info.insert("format".into(), super::PART_FORMAT.into());
    info.insert("shard".into(), shard.to_string());
    info.insert("settings".into(), cfg.settings_json().to_string());
    info.insert("finish".into(), finish_json(cfg).to_string());
    info.insert("plan".into(), plan_json(plan, planted).to_string());
    info.insert("recordings".into(), serde_json::Value::Array(records).to_string());
    // The windows of each processed recording, back to back in the plan's order.
    let chosen: Vec<Place> = places.iter().flatten().cloned().collect();
    let bytes: u64 = chosen.iter().map(|(_, r)| r.end - r.start).sum();
    let windows = StreamedTensor {
        name: PART_WINDOWS,
        dtype: Dtype::F32,
        shape: vec![(bytes / 4) as usize],
        finite_per: None,
    };
    write_streamed(out, windows, Vec::new(), info, |w| copy_places(&[source], chosen, w))
}

/// The name of a part's one tensor.
pub(super) const PART_WINDOWS: &str = "windows";

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn shards_parse_as_i_of_n() {
        assert_eq!(Shard::parse("2/8"), Ok(Shard { index: 2, count: 8 }));
        for bad in ["8/8", "0/0", "x/3", "3", "-1/3"] {
            assert!(Shard::parse(bad).unwrap_err().contains("expected i/N"), "{bad}");
        }
    }

    #[test]
    fn subjects_are_dealt_round_robin_in_order_of_first_appearance() {
        let s = ["b", "b", "a", "c", "a", "d"];
        assert_eq!(shard_of_each(&s, 2), vec![0, 0, 1, 0, 1, 1]);
        assert_eq!(shard_of_each(&s, 1), vec![0; 6]);
    }

    proptest! {
        /// Every recording is in exactly one shard, a subject in one shard only, and the shards'
        /// subject counts differ by at most one.
        #[test]
        fn every_recording_in_exactly_one_shard(
            subjects in proptest::collection::vec(0u8..20, 0..60),
            count in 1usize..9,
        ) {
            let names: Vec<String> = subjects.iter().map(|s| format!("{s:02}")).collect();
            let of = shard_of_each(&names, count);
            prop_assert_eq!(of.len(), names.len());
            let mut taken = vec![0usize; names.len()];
            let mut per_shard: Vec<std::collections::BTreeSet<&str>> = vec![Default::default(); count];
            for shard in 0..count {
                for (i, _) in of.iter().enumerate().filter(|&(_, &s)| s == shard) {
                    taken[i] += 1;
                    per_shard[shard].insert(names[i].as_str());
                }
            }
            prop_assert!(taken.iter().all(|&t| t == 1));
            let mut seen = std::collections::BTreeSet::new();
            for set in &per_shard {
                for s in set {
                    prop_assert!(seen.insert(*s), "subject {} in two shards", s);
                }
            }
            let sizes: Vec<usize> = per_shard.iter().map(|s| s.len()).collect();
            let (lo, hi) = (sizes.iter().min().copied().unwrap_or(0), sizes.iter().max().copied().unwrap_or(0));
            prop_assert!(hi - lo <= 1, "{:?}", sizes);
        }
    }
}

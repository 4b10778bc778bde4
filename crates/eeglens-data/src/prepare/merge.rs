//! `eeglens merge`: the parts of `prepare --shard i/N` joined into the store a single
//! `prepare` writes.
//!
//! The parts must be all `N` shards of one preparation: the same settings, the same plan (the
//! dataset's labelled recordings and their labels), each shard once, no subject in two parts.
//! The merge then makes every decision that needs all recordings with the code a single
//! `prepare` runs (the channels shared, classes, the subject split, class balancing,
//! `--strict`), so the merged store holds the same windows in the same order, with the same
//! labels, subjects, splits and metadata; its `settings` differ only in `provenance` (the
//! merge's own step) and in `shards`: `N` and, per part, its shard, file name, content hash and
//! provenance.
//!
//! Each part is hashed again first: one whose windows or metadata changed after
//! `prepare --shard` wrote it (a disk error, a file edited or copied over) is refused, naming it.
//!
//! Memory: the windows are never held. Each part is hashed again by reading it a chunk at a
//! time, and the store is written as `prepare` writes one: each used recording's windows copied
//! from its part into the file in the plan's order, a chunk at a time, the content hash
//! computed on the way. The peak stays the same whatever the size of the parts.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use eeglens_io::bids::BidsRecording;
use safetensors::tensor::Dtype;
use safetensors::SafeTensors;
use sha2::{Digest, Sha256};

use super::shard::{config_of_finish, done_of_record, Shard, PART_WINDOWS};
use super::spill::{read_range, Place, Source};
use super::summary::Outcome;
use super::{check_writable, write_used, Done, Plan, PrepareSummary, RecordingReport, Todo};
use crate::error::DataError;
use crate::store::{finish_hash, hash_tensor_prefix};

/// The format tag of a part written by `prepare --shard i/N`.
pub const PART_FORMAT: &str = "eeglens-prepare-part/1";

/// One part, opened.
pub(super) struct Part {
    pub(super) path: PathBuf,
    /// the file, read a chunk at a time (a map's pages would count in the resident set)
    file: std::fs::File,
    pub(super) shard: Shard,
    /// the settings without `provenance`
    pub(super) settings: serde_json::Value,
    provenance: serde_json::Value,
    pub(super) finish: serde_json::Value,
    plan: serde_json::Value,
    pub(super) records: Vec<serde_json::Value>,
    /// byte range of `windows` in the file
    windows: std::ops::Range<u64>,
    /// the recorded content hash
    hash: String,
    /// the metadata as written (for the hash)
    info: HashMap<String, String>,
}

/// The refusal of `path` as a part, with the reason.
fn not_a_part(path: &Path, reason: impl std::fmt::Display) -> DataError {
    DataError::Config(format!("{}: not a part of `prepare --shard`: {reason}", path.display()))
}

impl Part {
    /// Opens the part at `path`, refusing a file that is not one. Only its header is read.
    pub(super) fn open(path: &Path) -> Result<Self, DataError> {
        // The header is parsed from a map, which reads only the header's pages; the map is
        // dropped once the header is read.
        let mmap = crate::store::map_file(path)?;
        let st = SafeTensors::deserialize(&mmap)
            .map_err(|e| not_a_part(path, format!("not a safetensors file ({e})")))?;
        let (_, header) = SafeTensors::read_metadata(&mmap).map_err(|e| not_a_part(path, e))?;
        let info = header.metadata().clone().unwrap_or_default();
        match info.get("format").map(String::as_str) {
            Some(PART_FORMAT) => {}
            Some(crate::store::FORMAT) => {
                return Err(not_a_part(
                    path,
                    format!(
                        "it is an epoch store ({}); merge joins the parts that `prepare --shard i/N` writes",
                        crate::store::FORMAT
                    ),
                ))
            }
            Some(f) => return Err(not_a_part(path, format!("format {f:?}, expected {PART_FORMAT:?}"))),
            None => return Err(not_a_part(path, "no `format` in the metadata")),
        }
        let json = |key: &str| -> Result<serde_json::Value, DataError> {
            let s = info.get(key).ok_or_else(|| not_a_part(path, format!("no `{key}` in the metadata")))?;
            serde_json::from_str(s)
                .map_err(|e| not_a_part(path, format!("metadata `{key}` is not JSON ({e})")))
        };
        let shard = info
            .get("shard")
            .ok_or_else(|| not_a_part(path, "no `shard` in the metadata"))
            .and_then(|s| Shard::parse(s).map_err(|e| not_a_part(path, e)))?;
        let mut settings = json("settings")?;
        let provenance = settings.get_mut("provenance").map(serde_json::Value::take).unwrap_or_default();
        if let Some(o) = settings.as_object_mut() {
            o.remove("provenance");
        }
        let records = match json("recordings")? {
            serde_json::Value::Array(a) => a,
            _ => return Err(not_a_part(path, "metadata `recordings` is not a list")),
        };
        let w = st.tensor("windows").map_err(|_| not_a_part(path, "missing tensor `windows`"))?;
        if w.dtype() != Dtype::F32 || w.shape().len() != 1 {
            return Err(not_a_part(path, format!("tensor `windows` is {:?} {:?}", w.dtype(), w.shape())));
        }
        let start = (w.data().as_ptr() as usize - mmap.as_ptr() as usize) as u64;
        let windows = start..start + w.data().len() as u64;
        let file = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
        Ok(Self {
            file,
            path: path.to_path_buf(),
            shard,
            settings,
            provenance,
            finish: json("finish")?,
            plan: json("plan")?,
            records,
            windows,
            hash: info.get(crate::store::CONTENT_KEY).cloned().unwrap_or_default(),
            info,
        })
    }

    /// The part's file, to copy windows from.
    fn source(&self) -> Source<'_> {
        (&self.file, self.path.as_path())
    }

    /// The metadata entry `key` exactly as written.
    pub(super) fn raw(&self, key: &str) -> Option<&str> {
        self.info.get(key).map(String::as_str)
    }

    /// Hashes the part again and refuses it when the contents no longer match the hash
    /// `prepare --shard` recorded: its windows or metadata changed after it was written.
    pub(super) fn verify(&self) -> Result<(), DataError> {
        if self.hash.is_empty() {
            return Err(not_a_part(
                &self.path,
                format!("no `{}` in the metadata", crate::store::CONTENT_KEY),
            ));
        }
        let mut h = Sha256::new();
        hash_tensor_prefix(&mut h, PART_WINDOWS, (self.windows.end - self.windows.start) as usize);
        read_range(self.source(), self.windows.clone(), |b| h.update(b))
            .map_err(|e| DataError::io(&self.path, e))?;
        if finish_hash(h, &self.info) != self.hash {
            return Err(DataError::Config(format!(
                "{}: changed after `prepare --shard {}` wrote it (its contents no longer match its {}); \
                 prepare shard {} again",
                self.path.display(),
                self.shard,
                crate::store::CONTENT_KEY,
                self.shard
            )));
        }
        Ok(())
    }
}

/// The first top-level key whose value differs between two JSON objects.
fn first_difference(a: &serde_json::Value, b: &serde_json::Value) -> Option<String> {
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return (a != b).then(String::new);
    };
    let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    keys.into_iter().find(|k| a.get(*k) != b.get(*k)).map(|k| {
        let show = |v: Option<&serde_json::Value>| v.map_or("none".to_string(), |v| v.to_string());
        format!("`{k}` {} there, {} here", show(a.get(k)), show(b.get(k)))
    })
}

/// Checks that `parts` are the `N` shards of one preparation, each once.
fn check_parts(parts: &[Part]) -> Result<(), DataError> {
    let first = &parts[0];
    let n = first.shard.count;
    for p in &parts[1..] {
        let refuse = |what: String| {
            Err(DataError::Config(format!("{}: {what} than {}", p.path.display(), first.path.display())))
        };
        if p.shard.count != n {
            return Err(DataError::Config(format!(
                "{}: is shard {}, but {} is shard {}: parts of a different --shard N cannot be joined",
                p.path.display(),
                p.shard,
                first.path.display(),
                first.shard
            )));
        }
        if let Some(d) = first_difference(&first.settings, &p.settings) {
            return refuse(format!("prepared with other settings ({d})"));
        }
        if let Some(d) = first_difference(&first.finish, &p.finish) {
            return refuse(format!("prepared with other settings ({d})"));
        }
        if p.plan != first.plan {
            let d = first_difference(&first.plan, &p.plan).unwrap_or_default();
            return refuse(format!("prepared from other recordings or labels ({d})"));
        }
    }
    // No subject in two parts (so no shard given twice).
    let mut owner: HashMap<String, usize> = HashMap::new();
    let mut by_shard: BTreeMap<usize, usize> = BTreeMap::new();
    let todo = first.plan["todo"].as_array().map_or(&[][..], Vec::as_slice);
    for (k, p) in parts.iter().enumerate() {
        for r in &p.records {
            let Some(subject) =
                r["index"].as_u64().and_then(|i| todo.get(i as usize)).and_then(|t| t[1].as_str())
            else {
                return Err(not_a_part(&p.path, "a recording outside the plan"));
            };
            if let Some(&o) = owner.get(subject).filter(|&&o| o != k) {
                return Err(DataError::Config(format!(
                    "{}: subject sub-{subject} is also in {} (shards {} and {}): each shard must be given once",
                    p.path.display(),
                    parts[o].path.display(),
                    p.shard,
                    parts[o].shard
                )));
            }
            owner.insert(subject.to_string(), k);
        }
        if let Some(&o) = by_shard.get(&p.shard.index) {
            return Err(DataError::Config(format!(
                "{}: shard {} again (also {}): each shard must be given once",
                p.path.display(),
                p.shard,
                parts[o].path.display()
            )));
        }
        by_shard.insert(p.shard.index, k);
    }
    if let Some(missing) = (0..n).find(|i| !by_shard.contains_key(i)) {
        let given: Vec<String> =
            parts.iter().map(|p| format!("{} ({})", p.path.display(), p.shard)).collect();
        return Err(DataError::Config(format!(
            "shard {missing}/{n} is missing: {} of {n} parts given: {}",
            parts.len(),
            given.join(", ")
        )));
    }
    Ok(())
}

/// Joins the parts of `prepare --shard i/N` into an epoch store at `out` (see the module page).
/// `provenance` (the merge's step) becomes the store's `provenance`.
///
/// # Errors
/// [`DataError::Config`], naming the file: no part; a file that is not a part (an epoch
/// store included); a part whose contents no longer match its recorded hash; a part of
/// another `N`, with other settings or of another plan; a subject in two parts or a shard
/// given twice; a missing shard (naming it and the parts given).
/// [`DataError::Prepare`] for what a single `prepare` refuses after reading the recordings
/// (no usable recording, fewer than two classes, a split that cannot be made, `--strict`).
/// [`DataError::Io`] when `out` cannot be written.
pub fn merge(
    parts: &[PathBuf],
    out: &Path,
    provenance: Option<serde_json::Value>,
) -> Result<PrepareSummary, DataError> {
    if parts.is_empty() {
        return Err(DataError::Config("no part to merge".into()));
    }
    check_writable(out)?;
    let parts: Vec<Part> = parts.iter().map(|p| Part::open(p)).collect::<Result<_, _>>()?;
    for p in &parts {
        p.verify()?;
    }
    check_parts(&parts)?;
    let first = &parts[0];
    let cfg = config_of_finish(&first.finish)
        .ok_or_else(|| not_a_part(&first.path, "metadata `finish` is incomplete"))?;
    let plan_json = &first.plan;
    let bad_plan = || not_a_part(&first.path, "metadata `plan` is incomplete");

    // The plan, as a single prepare made it.
    let todo_json = plan_json["todo"].as_array().ok_or_else(bad_plan)?;
    let recordings: Vec<(BidsRecording, String)> = todo_json
        .iter()
        .map(|t| {
            let path = t[0].as_str()?;
            let subject = t[1].as_str()?;
            let label = t[2].as_str()?;
            Some((recording(path, subject), label.to_string()))
        })
        .collect::<Option<_>>()
        .ok_or_else(bad_plan)?;
    let todo: Vec<Todo> = recordings.iter().map(|(r, l)| (r, l.clone())).collect();
    let reports: Vec<RecordingReport> = plan_json["unlabelled"]
        .as_array()
        .ok_or_else(bad_plan)?
        .iter()
        .map(|u| {
            Some(RecordingReport {
                path: PathBuf::from(u[0].as_str()?),
                subject: u[1].as_str()?.to_string(),
                label: None,
                outcome: Outcome::Skipped(u[2].as_str()?.to_string()),
                warnings: Vec::new(),
                clean: None,
            })
        })
        .collect::<Option<_>>()
        .ok_or_else(bad_plan)?;
    let strings =
        |key: &str| serde_json::from_value::<Vec<String>>(plan_json[key].clone()).map_err(|_| bad_plan());
    let plan = Plan {
        participants: PathBuf::from(plan_json["participants"].as_str().ok_or_else(bad_plan)?),
        todo,
        reports,
        warnings: strings("warnings")?,
        participants_without_recording: strings("participants_without_recording")?,
    };

    // Every recording's result, and where its windows lie: (part, byte range).
    let seg = (cfg.segment_s * cfg.rate).round() as usize;
    let mut done: Vec<Option<(Done, Option<Place>)>> = (0..plan.todo.len()).map(|_| None).collect();
    for (k, p) in parts.iter().enumerate() {
        let mut at = p.windows.start;
        for r in &p.records {
            let i = r["index"].as_u64().expect("checked by check_parts") as usize;
            let d = done_of_record(r)
                .ok_or_else(|| not_a_part(&p.path, format!("recording {i}'s record is incomplete")))?;
            let place = match &d.0 {
                Ok(proc) => {
                    let bytes = (proc.n_windows * proc.channels.len() * seg * 4) as u64;
                    let range = at..at + bytes;
                    if range.end > p.windows.end {
                        return Err(not_a_part(&p.path, "tensor `windows` is shorter than its recordings"));
                    }
                    at += bytes;
                    Some((k, range))
                }
                Err(_) => None,
            };
            done[i] = Some((d, place));
        }
        if at != p.windows.end {
            return Err(not_a_part(&p.path, "tensor `windows` is longer than its recordings"));
        }
    }
    let mut places = Vec::with_capacity(done.len());
    let mut results = Vec::with_capacity(done.len());
    for (i, d) in done.into_iter().enumerate() {
        let (d, place) = d.ok_or_else(|| {
            DataError::Config(format!("no part holds recording {}", plan.todo[i].0.path.display()))
        })?;
        results.push(d);
        places.push(place);
    }
    let paths: Vec<PathBuf> = plan.todo.iter().map(|(r, _)| r.path.clone()).collect();

    let mut settings = first.settings.clone();
    settings["provenance"] = provenance.unwrap_or_default();
    let planted = Some(plan_json["planted"].clone()).filter(|p| !p.is_null());
    let steps: Vec<String> = serde_json::from_value(first.finish["steps"].clone())
        .map_err(|_| not_a_part(&first.path, "metadata `finish` has no `steps`"))?;
    let (summary, mut set) = plan.finish(results, &cfg, steps, settings, planted, out)?;

    let mut shards: Vec<&Part> = parts.iter().collect();
    shards.sort_by_key(|p| p.shard.index);
    set.meta.settings["shards"] = serde_json::json!({
        "n": first.shard.count,
        "parts": shards.iter().map(|p| serde_json::json!({
            "shard": p.shard.index,
            "file": p.path.file_name().map(|f| f.to_string_lossy().into_owned()),
            "content_sha256": p.hash,
            "provenance": p.provenance,
        })).collect::<Vec<_>>(),
    });
    // The windows of the used recordings, in the plan's order: the order `prepare` writes them.
    let sources: Vec<Source<'_>> = parts.iter().map(Part::source).collect();
    write_used(&set, &summary, &paths, &places, &sources, out)?;
    Ok(summary)
}

/// The plan's recording: its file and subject are all that finishing reads.
fn recording(path: &str, subject: &str) -> BidsRecording {
    BidsRecording {
        path: PathBuf::from(path),
        subject: subject.to_string(),
        session: None,
        task: None,
        run: None,
        acquisition: None,
        channels_tsv: None,
        events_tsv: None,
        participant: BTreeMap::new(),
    }
}

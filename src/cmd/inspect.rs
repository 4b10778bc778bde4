//! `eeglens inspect FILE [--json] [--samples N]`: what a recording, a BIDS dataset or an epoch
//! store holds.
//!
//! The JSON documents (`eeglens-inspect/1`, `eeglens-inspect-bids/1`,
//! `eeglens-inspect-store/1`) are described in docs/json.md.

use std::path::PathBuf;

use anyhow::Context;
use eeglens_data::store::{EpochStore, Split};
use eeglens_io::bids;
use eeglens_io::Recording;
use serde_json::{json, Value};

/// Flags of `eeglens inspect`.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// An EDF/BDF/BrainVision (.vhdr)/EEGLAB (.set) file, a BIDS dataset root, or an epoch store
    /// (.safetensors, from `eeglens prepare`).
    pub file: PathBuf,
    /// Print one JSON document on stdout instead of text.
    #[arg(long)]
    pub json: bool,
    /// Include the first N samples of every channel (µV for voltage channels).
    #[arg(long, default_value_t = 0)]
    pub samples: usize,
}

/// Runs `eeglens inspect`.
pub fn run(a: Args, _g: &super::Global) -> anyhow::Result<()> {
    if a.file.is_dir() {
        return inspect_bids(&a);
    }
    if a.file.extension().is_some_and(|e| e.eq_ignore_ascii_case("safetensors")) {
        return inspect_store(&a);
    }
    let rec = eeglens_io::read(&a.file).with_context(|| "cannot inspect".to_string())?;
    for w in &rec.warnings {
        eprintln!("eeglens: warning: {}: {w}", a.file.display());
    }
    let doc = recording_json(&rec, a.samples);
    if a.json {
        super::print_document(super::schema::INSPECT, &doc)?;
    } else {
        print_recording(&a, &rec);
    }
    Ok(())
}

fn num(x: f64) -> Value {
    serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
}

/// A sample as the shortest decimal that reads back as the same f32 (`255.9121`, not `255.912109375`).
fn sample(x: f32) -> Value {
    num(format!("{x}").parse::<f64>().unwrap_or(f64::NAN))
}

fn recording_json(rec: &Recording, samples: usize) -> Value {
    let channels: Vec<Value> = rec
        .channels
        .iter()
        .zip(&rec.data)
        .map(|(c, d)| {
            json!({
                "name": c.name,
                "type": c.kind.as_str(),
                "unit": c.unit,
                "fs": c.fs,
                "n_samples": d.len(),
                "bad": c.bad,
                "first": d.iter().take(samples).map(|&x| sample(x)).collect::<Vec<_>>(),
                "last": d.last().map_or(Value::Null, |&x| sample(x)),
            })
        })
        .collect();
    let annotations: Vec<Value> = rec
        .annotations
        .iter()
        .map(|a| {
            json!({
                "onset_s": a.onset_s,
                "duration_s": a.duration_s.map_or(Value::Null, num),
                "description": a.description,
            })
        })
        .collect();
    json!({
        "format": rec.format.as_str(),
        "start": rec.start.map(|s| s.to_iso8601()),
        "duration_s": rec.duration_s(),
        "subject": {
            "id": rec.subject.id,
            "sex": rec.subject.sex,
            "birthdate": rec.subject.birthdate,
        },
        "recording_id": rec.recording_id,
        "segments": rec.segments.iter().map(|s| json!({
            "onset_s": s.onset_s, "data_offset_s": s.data_offset_s, "duration_s": s.duration_s
        })).collect::<Vec<_>>(),
        "channels": channels,
        "annotations": annotations,
        "warnings": rec.warnings,
    })
}

fn print_recording(a: &Args, rec: &Recording) {
    println!("file:        {}", a.file.display());
    println!("format:      {}", rec.format);
    println!("start:       {}", rec.start.map_or("unknown".to_string(), |s| s.to_iso8601()));
    println!("duration:    {:.3} s", rec.duration_s());
    if !rec.subject.id.is_empty() {
        println!("subject:     {}", rec.subject.id);
    }
    if rec.segments.len() > 1 {
        println!("segments:    {} (discontinuous)", rec.segments.len());
    }
    println!("channels:    {}", rec.channels.len());
    for (c, d) in rec.channels.iter().zip(&rec.data) {
        let first: Vec<String> = d.iter().take(a.samples).map(|x| format!("{x:.3}")).collect();
        println!(
            "  {:<16} {:<5} {:<8} {:>9} Hz {:>10} samples{}{}",
            c.name,
            c.kind.as_str(),
            c.unit,
            c.fs,
            d.len(),
            if c.bad { "  bad" } else { "" },
            if first.is_empty() { String::new() } else { format!("  [{}]", first.join(", ")) }
        );
    }
    println!("annotations: {}", rec.annotations.len());
    for an in rec.annotations.iter().take(50) {
        let dur = an.duration_s.map_or(String::new(), |d| format!(" ({d} s)"));
        println!("  {:>12.6} s{dur}  {}", an.onset_s, an.description);
    }
    if rec.annotations.len() > 50 {
        println!("  ... {} more (use --json for all)", rec.annotations.len() - 50);
    }
}

fn bids_json(ds: &bids::BidsDataset) -> Value {
    let columns = ds.participants.as_ref().map(|t| t.columns.clone()).unwrap_or_default();
    let recs: Vec<Value> = ds
        .recordings
        .iter()
        .map(|r| {
            json!({
                "path": r.path.strip_prefix(&ds.root).unwrap_or(&r.path).display().to_string(),
                "subject": format!("sub-{}", r.subject),
                "session": r.session,
                "task": r.task,
                "run": r.run,
                "participant": r.participant,
            })
        })
        .collect();
    json!({
        "format": "BIDS",
        "root": ds.root.display().to_string(),
        "subjects": ds.subjects().iter().map(|s| format!("sub-{s}")).collect::<Vec<_>>(),
        "participants_columns": columns,
        "n_participants": ds.participants.as_ref().map_or(0, |t| t.rows.len()),
        "recordings": recs,
    })
}

fn inspect_bids(a: &Args) -> anyhow::Result<()> {
    if !bids::is_bids_root(&a.file) {
        anyhow::bail!("{}: a directory that is not a BIDS dataset (no participants.tsv, dataset_description.json or sub-*)", a.file.display());
    }
    let ds = bids::scan(&a.file).context("cannot scan the BIDS dataset")?;
    let columns = ds.participants.as_ref().map(|t| t.columns.clone()).unwrap_or_default();
    if a.json {
        super::print_document(super::schema::INSPECT_BIDS, &bids_json(&ds))?;
        return Ok(());
    }
    println!("BIDS dataset: {}", ds.root.display());
    println!("participants columns: {}", columns.join(", "));
    println!("subjects: {}", ds.subjects().len());
    println!("recordings: {}", ds.recordings.len());
    for r in &ds.recordings {
        println!(
            "  sub-{}{}  task-{}{}  {}",
            r.subject,
            r.session.as_ref().map_or(String::new(), |s| format!(" ses-{s}")),
            r.task.as_deref().unwrap_or("?"),
            r.run.as_ref().map_or(String::new(), |s| format!(" run-{s}")),
            r.path.strip_prefix(&ds.root).unwrap_or(&r.path).display()
        );
    }
    Ok(())
}

/// How many recordings `inspect` lists one by one (the JSON and the text): the rest are counted.
const RECORDINGS_SHOWN: usize = 20;

/// An epoch store summarised: its shape, names, unit, split codes, windows per split, and
/// where its windows came from (recordings, each with its windows and onset range).
fn store_json(store: &EpochStore) -> Value {
    let m = store.meta();
    let per_split: Vec<Value> = Split::ALL
        .iter()
        .map(|&sp| {
            let idx = store.indices(sp);
            let subjects: std::collections::BTreeSet<u32> =
                idx.iter().map(|&i| store.subjects()[i]).collect();
            json!({"split": sp.name(), "code": sp as u8, "windows": idx.len(), "subjects": subjects.len()})
        })
        .collect();
    let sources = store.sources().map(|src| {
        let mut per: Vec<(usize, f64, f64)> = vec![(0, f64::INFINITY, f64::NEG_INFINITY); src.recordings.len()];
        for (&r, &t) in src.recording.iter().zip(&src.onset_s) {
            let e = &mut per[r as usize];
            e.0 += 1;
            e.1 = e.1.min(t);
            e.2 = e.2.max(t);
        }
        let listed: Vec<Value> = src
            .recordings
            .iter()
            .zip(&per)
            .take(RECORDINGS_SHOWN)
            .map(|(path, &(n, lo, hi))| json!({"path": path, "windows": n, "first_onset_s": num(lo), "last_onset_s": num(hi)}))
            .collect();
        json!({
            "n_recordings": src.recordings.len(),
            "recordings": listed,
            "onset_relative_to": "the recording's first sample",
        })
    });
    json!({
        "format": eeglens_data::store::FORMAT,
        "path": store.path().display().to_string(),
        "n_windows": store.len(),
        "n_channels": store.n_channels(),
        "n_samples": store.n_samples(),
        "fs": m.fs,
        "unit": m.unit,
        "channels": m.channels,
        "label_column": m.label_column,
        "classes": m.classes,
        "n_subjects": m.subjects.len(),
        "split_codes": Split::ALL.iter().map(|&sp| ((sp as u8).to_string(), sp.name())).collect::<std::collections::BTreeMap<_, _>>(),
        "splits": per_split,
        "sources": sources,
        "content_sha256": store.recorded_content_sha256(),
    })
}

fn inspect_store(a: &Args) -> anyhow::Result<()> {
    let store = EpochStore::open(&a.file)?;
    let doc = store_json(&store);
    if a.json {
        return super::print_document(super::schema::INSPECT_STORE, &doc);
    }
    let m = store.meta();
    println!("epoch store: {}", a.file.display());
    println!(
        "windows:     {} x {} channels x {} samples at {} Hz",
        store.len(),
        store.n_channels(),
        store.n_samples(),
        m.fs
    );
    println!("unit:        {}", m.unit.as_deref().unwrap_or("not recorded"));
    println!("label:       {} ({})", m.label_column, m.classes.join(", "));
    println!("subjects:    {}", m.subjects.len());
    for sp in doc["splits"].as_array().into_iter().flatten() {
        println!(
            "  split {} ({}): {} windows, {} subjects",
            sp["code"],
            sp["split"].as_str().unwrap_or(""),
            sp["windows"],
            sp["subjects"]
        );
    }
    match store.sources() {
        None => println!("sources:     not recorded (a store of an earlier version, or not made by prepare)"),
        Some(src) => {
            println!(
                "recordings:  {} (onsets in s from each recording's first sample)",
                src.recordings.len()
            );
            for r in doc["sources"]["recordings"].as_array().into_iter().flatten() {
                println!(
                    "  {}  {} windows, onsets {}-{} s",
                    r["path"].as_str().unwrap_or(""),
                    r["windows"],
                    r["first_onset_s"],
                    r["last_onset_s"]
                );
            }
            if src.recordings.len() > RECORDINGS_SHOWN {
                println!("  ... {} more", src.recordings.len() - RECORDINGS_SHOWN);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/io").join(name)
    }

    #[test]
    fn json_shape_scripts_rely_on() {
        let rec = eeglens_io::read(&fixture("edfplus_mixed_rates.edf")).expect("fixture reads");
        let doc = recording_json(&rec, 2);
        assert_eq!(doc["format"], "EDF+C");
        assert_eq!(doc["start"], "2020-01-24T04:05:56.25");
        assert_eq!(doc["duration_s"], 2.0);
        let ch = &doc["channels"][2];
        assert_eq!(ch["name"], "ECG");
        assert_eq!(ch["type"], "ECG");
        assert_eq!(ch["unit"], "uV");
        assert_eq!(ch["fs"], 32.0);
        assert_eq!(ch["n_samples"], 64);
        assert_eq!(ch["first"], json!([-5000.0, 5000.0]));
        assert!(ch["last"].is_number());
        let a = &doc["annotations"][0];
        assert_eq!(a["onset_s"], 0.3);
        assert_eq!(a["duration_s"], Value::Null);
        assert_eq!(a["description"], "Lights off");
        assert_eq!(doc["channels"].as_array().map(Vec::len), Some(3), "no annotation channel");
    }

    #[test]
    fn bids_json_lists_subjects_recordings_and_columns() {
        let ds = bids::scan(&fixture("bids_tiny")).expect("fixture scans");
        let doc = bids_json(&ds);
        assert_eq!(doc["format"], "BIDS");
        assert_eq!(doc["subjects"], json!(["sub-01", "sub-02"]));
        assert_eq!(doc["participants_columns"], json!(["participant_id", "sex", "age", "EHQ_Total"]));
        assert_eq!(doc["recordings"][2]["session"], "01");
        assert_eq!(doc["recordings"][1]["task"], "SAIIT");
        assert_eq!(doc["recordings"][0]["participant"]["sex"], "F");
        assert_eq!(
            doc["recordings"][0]["subject"], "sub-01",
            "one spelling of subject ids, as stores and eval"
        );
    }
}

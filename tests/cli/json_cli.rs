//! Every `--json` prints one JSON document that names a schema of docs/json.md and has only
//! fields that page documents; the epoch store traces each window back to its recording and
//! onset; subject ids are spelt `sub-<label>` throughout.

use std::collections::BTreeSet;
use std::path::Path;

use eeglens_data::store::{EpochStore, Split};

use crate::util::{documented_schemas, eeglens, json_document, s, tmpdir};

fn json(args: &[&str]) -> serde_json::Value {
    json_document(&eeglens(args))
}

/// The pipeline with `--json` at every step: synth, inspect (dataset, recording, store),
/// prepare, the shards and their merge, baseline, train, eval, interpret, report.
#[test]
fn every_step_prints_one_documented_json_document() {
    let d = tmpdir("json-steps");
    let root = d.0.join("bids");
    let mut seen = BTreeSet::new();
    let mut check = |doc: serde_json::Value| {
        seen.insert(doc["schema"].as_str().expect("a schema").to_string());
        doc
    };
    let synth = check(json(&["synth", "--out", s(&root), "--subjects", "8", "--minutes", "0.5", "--json"]));
    assert_eq!(synth["subjects"], 8);
    let bids = check(json(&["inspect", s(&root), "--json"]));
    let first = bids["recordings"][0]["path"].as_str().expect("a recording").to_string();
    check(json(&["inspect", s(&root.join(&first)), "--json", "--samples", "2"]));

    let store = d.0.join("epochs.safetensors");
    let prepared = check(json(&["prepare", s(&root), "--label", "sex", "--out", s(&store), "--json"]));
    assert!(prepared["n_windows"].as_u64().is_some_and(|n| n > 0), "{prepared}");
    let inspected = check(json(&["inspect", s(&store), "--json"]));
    assert_eq!(inspected["n_windows"], prepared["n_windows"]);
    assert_eq!(inspected["unit"], "z-score");
    assert_eq!(inspected["split_codes"], serde_json::json!({"0": "train", "1": "val", "2": "test"}));
    assert_eq!(inspected["sources"]["n_recordings"], 8);
    let parts: Vec<_> = (0..2).map(|i| d.0.join(format!("part-{i}.safetensors"))).collect();
    for (i, p) in parts.iter().enumerate() {
        let shard = &format!("{i}/2");
        check(json(&["prepare", s(&root), "--label", "sex", "--out", s(p), "--shard", shard, "--json"]));
    }
    let merged = d.0.join("merged.safetensors");
    check(json(&["merge", s(&parts[0]), s(&parts[1]), "--out", s(&merged), "--json"]));
    check(json(&["baseline", "--data", s(&store), "--json"]));

    let run = d.0.join("run");
    let trained = check(json(&[
        "train",
        "--data",
        s(&store),
        "--out",
        s(&run),
        "--model",
        "shallow",
        "--epochs",
        "1",
        "--threads",
        "1",
        "--json",
    ]));
    assert_eq!(trained["run"], s(&run));
    assert_eq!(trained["epochs_done"], 1);
    assert_eq!(trained["test"]["split"], "test");
    assert!(trained["test"].get("schema").is_none(), "a nested document has no schema of its own");
    let eval = check(json(&["eval", "--run", s(&run), "--json"]));
    assert_eq!(eval["accuracy"], trained["test"]["accuracy"]);
    assert_eq!(eval["precision"], "fp32");
    // bf16 where the CPU has AVX512_BF16 (fp32 elsewhere), and the document says which.
    let bf16 = check(json(&["eval", "--run", s(&run), "--json", "--precision", "bf16"]));
    let has_bf16 = eeglens_autodiff::kernels::KernelConfig::of_process().bf16_missing().is_none();
    assert_eq!(bf16["precision"], if has_bf16 { "bf16" } else { "fp32" });
    assert_eq!(bf16["n_windows"], eval["n_windows"]);
    for file in ["config.json", "eval-test.json", "baseline.json"] {
        let text = std::fs::read_to_string(run.join(file)).expect("a run file");
        let doc: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        crate::util::assert_documented(&doc);
        check(doc);
    }
    let interp = check(json(&[
        "interpret",
        "--run",
        s(&run),
        "--read-anyway",
        "--k",
        "2",
        "--restarts",
        "2",
        "--steps",
        "2",
        "--actmax-windows",
        "1",
        "--permutations",
        "19",
        "--json",
        "--quiet",
    ]));
    assert!(interp["methods"].is_object(), "{interp}");
    let report = check(json(&["report", "--run", s(&run), "--json"]));
    assert_eq!(report["written"][0], s(&run.join("report.html")));
    assert!(run.join("report.html").is_file());

    let documented: BTreeSet<String> = documented_schemas().into_keys().collect();
    assert!(seen.is_subset(&documented), "{seen:?}");
    assert!(seen.len() >= 12, "{seen:?}");
}

/// `--json` on `train --seeds` and `train --folds`: one document listing every run; the human
/// lines go to stderr.
#[test]
fn seeds_and_folds_print_one_document_of_their_runs() {
    let d = tmpdir("json-runs");
    let cfg = eeglens_train::toy::ToyConfig { subjects: [8, 2, 2], windows: 2, ..Default::default() };
    let store = d.0.join("toy.safetensors");
    eeglens_train::toy::toy_set(&cfg).write(&store).expect("write");
    let common = ["--model", "rvgg", "--epochs", "1", "--threads", "1", "--no-baseline", "--json"];
    let seeds = d.0.join("seeds");
    let mut args = vec!["train", "--data", s(&store), "--out", s(&seeds), "--seeds", "0-1"];
    args.extend(common);
    let o = eeglens(&args);
    let doc = json_document(&o);
    assert_eq!(doc["schema"], "eeglens-train-runs/1");
    assert_eq!(doc["kind"], "seeds");
    let runs = doc["runs"].as_array().expect("runs");
    assert_eq!(runs.iter().map(|r| r["seed"].clone()).collect::<Vec<_>>(), [0, 1]);
    assert!(runs.iter().all(|r| r["run"]["epochs_done"] == 1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("seed 1:"), "the progress lines are on stderr");
    // Again: both complete, so skipped, and said so.
    let again = json_document(&eeglens(&args));
    assert!(again["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .all(|r| r["skipped"] == true && r["run"].is_null()));

    let folds = d.0.join("folds");
    let mut args = vec!["train", "--data", s(&store), "--out", s(&folds), "--folds", "3", "--fold", "1"];
    args.extend(common);
    let doc = json_document(&eeglens(&args));
    assert_eq!((doc["kind"].as_str(), doc["folds"].as_u64()), (Some("folds"), Some(3)));
    assert_eq!(doc["runs"][0]["fold"], 1);
    assert_eq!(doc["runs"][0]["run"]["run"], s(&folds.join("fold-1")));
}

/// Each window of a prepared store traces back to its file: the recording's samples at the
/// stated onset are the window (prepared without filtering, re-referencing, resampling or
/// normalisation, so they must be equal bit for bit), and every onset lies inside the
/// recording's eyes-closed periods, on the recording's own time axis.
#[test]
fn every_window_is_its_recording_at_its_onset() {
    let d = tmpdir("json-trace");
    let root = d.0.join("bids");
    crate::util::ok(&eeglens(&["synth", "--out", s(&root), "--subjects", "8", "--minutes", "1", "--quiet"]));
    let store_path = d.0.join("raw.safetensors");
    let o = eeglens(&[
        "prepare",
        s(&root),
        "--label",
        "sex",
        "--out",
        s(&store_path),
        "--rate",
        "256",
        "--band",
        "none",
        "--reference",
        "none",
        "--normalise",
        "none",
        "--reject-uv",
        "0",
        "--quiet",
    ]);
    crate::util::ok(&o);
    let store = EpochStore::open(&store_path).expect("open");
    assert_eq!(store.meta().unit.as_deref(), Some("µV"));
    let src = store.sources().expect("a prepared store records its windows' sources");
    assert_eq!(src.recordings.len(), 8);
    let (c, t, fs) = (store.n_channels(), store.n_samples(), store.meta().fs);
    let mut window = vec![0.0f32; c * t];
    let mut late_start = false;
    for (r, rel) in src.recordings.iter().enumerate() {
        assert!(!Path::new(rel).is_absolute() && rel.ends_with("_eeg.edf"), "{rel}");
        let path = root.join(rel);
        let opts =
            eeglens_io::ReadOptions { channels: Some(store.meta().channels.clone()), ..Default::default() };
        let rec = eeglens_io::read_with(&path, &opts).expect("the recording reads");
        let events = path.to_string_lossy().replace("_eeg.edf", "_events.tsv");
        let events = eeglens_io::bids::read_events_tsv(Path::new(&events)).expect("events.tsv");
        // The synthetic protocol's blocks follow each other: a block lasts its duration.
        let closed: Vec<(f64, f64)> = events
            .iter()
            .filter(|e| e.description == "eyes_closed")
            .map(|e| (e.onset_s, e.onset_s + e.duration_s.unwrap_or(f64::INFINITY)))
            .collect();
        assert!(!closed.is_empty(), "{rel}: the synthetic protocol marks eyes closed");
        let mine: Vec<usize> = (0..store.len()).filter(|&i| src.recording[i] as usize == r).collect();
        assert!(!mine.is_empty());
        let mut last = f64::NEG_INFINITY;
        for &i in &mine {
            let onset = src.onset_s[i];
            assert!(
                onset >= last + store.n_samples() as f64 / fs - 1e-9,
                "{rel}: windows overlap at {onset} s"
            );
            last = onset;
            assert!(
                closed.iter().any(|&(a, b)| onset >= a - 1e-9 && onset + t as f64 / fs <= b + 1e-9),
                "{rel}: a window at {onset} s outside the eyes-closed periods {closed:?}"
            );
            late_start |= onset > 0.0;
            let start = (onset * fs).round() as usize;
            assert!(((start as f64) / fs - onset).abs() < 1e-9, "an onset on the sample grid");
            store.copy_window(i, &mut window);
            for ch in 0..c {
                let want = &rec.data[ch][start..start + t];
                let got = &window[ch * t..(ch + 1) * t];
                assert!(
                    want.iter().zip(got).all(|(a, b)| a.to_bits() == b.to_bits()),
                    "{rel}: window {i} is not the recording at {onset} s (channel {})",
                    store.meta().channels[ch]
                );
            }
        }
    }
    assert!(late_start, "some window starts after 0 s, so an onset relative to the period would differ");
}

/// `sub-<label>` is the one spelling of a subject: `inspect` on the dataset, `prepare`, the
/// store and `eval` agree.
#[test]
fn subject_ids_are_spelt_alike_from_the_dataset_to_the_evaluation() {
    let d = tmpdir("json-subjects");
    let root = d.0.join("bids");
    crate::util::ok(&eeglens(&[
        "synth",
        "--out",
        s(&root),
        "--subjects",
        "8",
        "--minutes",
        "0.5",
        "--quiet",
    ]));
    let bids = json(&["inspect", s(&root), "--json"]);
    let from_dataset: BTreeSet<String> = bids["subjects"]
        .as_array()
        .expect("subjects")
        .iter()
        .map(|v| v.as_str().expect("id").into())
        .collect();
    assert!(from_dataset.iter().all(|s| s.starts_with("sub-")), "{from_dataset:?}");
    let store_path = d.0.join("e.safetensors");
    let prepared = json(&["prepare", s(&root), "--label", "sex", "--out", s(&store_path), "--json"]);
    let from_prepare: BTreeSet<String> = prepared["recordings"]
        .as_array()
        .expect("recordings")
        .iter()
        .map(|r| r["subject"].as_str().expect("id").into())
        .collect();
    assert_eq!(from_prepare, from_dataset);
    let store = EpochStore::open(&store_path).expect("open");
    let in_store: BTreeSet<String> = store.meta().subjects.iter().cloned().collect();
    assert_eq!(in_store, from_dataset);
    let run = d.0.join("run");
    crate::util::ok(&eeglens(&[
        "train",
        "--data",
        s(&store_path),
        "--out",
        s(&run),
        "--model",
        "shallow",
        "--epochs",
        "1",
        "--threads",
        "1",
        "--no-baseline",
        "--quiet",
    ]));
    let eval = json(&["eval", "--run", s(&run), "--json"]);
    let tested: BTreeSet<String> = store
        .indices(Split::Test)
        .iter()
        .map(|&i| store.meta().subjects[store.subjects()[i] as usize].clone())
        .collect();
    let in_eval: BTreeSet<String> = eval["subjects"]
        .as_array()
        .expect("subjects")
        .iter()
        .map(|r| r["subject"].as_str().expect("id").into())
        .collect();
    assert_eq!(in_eval, tested);
}

/// `demo --json`: the steps' own lines on stderr, one document on stdout naming every output.
/// A small null data set keeps it quick (a network at chance is not read).
#[test]
fn the_demo_prints_one_document_of_its_outputs() {
    let d = tmpdir("json-demo");
    let out = d.0.join("demo");
    let o = eeglens(&[
        "demo",
        "--out",
        s(&out),
        "--subjects",
        "8",
        "--epochs",
        "1",
        "--effect-size",
        "0",
        "--threads",
        "1",
        "--json",
        "--quiet",
    ]);
    let doc = json_document(&o);
    assert_eq!(doc["schema"], "eeglens-demo/1");
    for key in ["bids", "epochs", "run", "interpret", "report"] {
        let p = doc[key].as_str().unwrap_or_else(|| panic!("{key} in {doc}"));
        assert!(Path::new(p).exists(), "{key}: {p} was written");
    }
    assert_eq!(doc["planted"]["size"], 0.0);
    assert!(doc["test"]["accuracy"].as_f64().is_some_and(|a| (0.0..=1.0).contains(&a)), "{doc}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("[5/5] report"), "the steps are told on stderr");
}

//! `eeglens interpret --run PARENT` over the folds of a cross-validation:
//! every subject of the store read once, each by the fold whose model never
//! saw it, and one reading whose floor is set by all the subjects.

use std::collections::BTreeSet;
use std::path::Path;

use eeglens_train::toy::{toy_set, ToyConfig};

use crate::util::{assert_one_line_error, eeglens, ok, s, tmpdir};

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("JSON")
}

fn names(v: &serde_json::Value) -> BTreeSet<String> {
    v.as_array().expect("a list").iter().map(|s| s.as_str().expect("a name").to_string()).collect()
}

/// Small interpretation settings.
const SMALL: [&str; 9] =
    ["--k", "2", "--restarts", "2", "--steps", "2", "--actmax-windows", "2", "--read-anyway"];

#[test]
fn interpret_over_folds_reads_every_subject_once_out_of_fold() {
    let d = tmpdir("ifolds");
    // 12 subjects, 6 of each class: 3 folds test 4 subjects each.
    let data = d.0.join("toy.safetensors");
    toy_set(&ToyConfig { subjects: [8, 2, 2], windows: 4, effect: 3.0, ..ToyConfig::default() })
        .write(&data)
        .expect("write toy store");
    let parent = d.0.join("cv");
    let mut args = vec!["train", "--data", s(&data), "--out", s(&parent), "--model", "rvgg", "--folds", "3"];
    args.extend(["--epochs", "10", "--threads", "1", "--no-baseline", "--quiet", "--stuck-epochs", "0"]);
    ok(&eeglens(&args));

    let mut args = vec!["interpret", "--run", s(&parent), "--permutations", "999", "--json"];
    args.extend(SMALL);
    let r: serde_json::Value = serde_json::from_str(&ok(&eeglens(&args))).expect("one JSON document");
    assert_eq!(r, json(&parent.join("interpret").join("interpret.json")), "printed as written");
    assert_eq!(r["folds"], 3);
    assert_eq!(r["subjects_read"], 12);
    assert_eq!(
        (r["split"].as_str(), r["model"]["split"].as_str()),
        (Some("out-of-fold"), Some("out-of-fold"))
    );
    assert_eq!((r["model"]["n_subjects"].as_u64(), r["model"]["n_windows"].as_u64()), (Some(12), Some(48)));

    // Each fold read exactly its own test subjects: together every subject of the store, once.
    let read = r["fold_subjects"].as_array().expect("per fold");
    assert_eq!(read.len(), 3);
    let store = eeglens_data::store::EpochStore::open(&data).expect("store");
    let all: BTreeSet<String> = store.meta().subjects.iter().cloned().collect();
    let mut seen = BTreeSet::new();
    let mut fold_p = Vec::new();
    for (i, subjects) in read.iter().enumerate() {
        let fold = parent.join(format!("fold-{i}"));
        let f = &json(&fold.join("config.json"))["train"]["fold"];
        let (test, not_test) =
            (names(&f["test"]), names(&f["val"]).union(&names(&f["train"])).cloned().collect());
        assert_eq!(names(subjects), test, "fold {i} read its test subjects");
        assert!(names(subjects).is_disjoint(&not_test), "fold {i} read a subject it trained or validated on");
        assert!(seen.is_disjoint(&test), "a subject read twice");
        seen.extend(test);
        // The fold alone: 4 subjects, whose labelings floor its p at 1 / C(4, 2) = 1/6.
        let one_out = d.0.join(format!("one-{i}"));
        let mut one = vec!["interpret", "--run", s(&fold), "--permutations", "999", "--json"];
        one.extend(["--out", s(&one_out)]);
        one.extend(SMALL);
        let o: serde_json::Value = serde_json::from_str(&ok(&eeglens(&one))).expect("JSON");
        assert_eq!(o["model"]["n_subjects"], 4);
        assert!(o.get("folds").is_none(), "a single run has no `folds`");
        fold_p.push(o["model"]["p"].as_f64().expect("p"));
    }
    assert_eq!(seen, all, "every subject of the store was read");
    // Every optimal sample is a window of a test subject of the fold that
    // chose it (each class: `--k` 2 per fold, folds in order).
    for (class, samples) in r["methods"]["optimal"]["samples"].as_object().expect("per class") {
        let samples = samples.as_array().expect("samples");
        assert_eq!(samples.len(), 6, "{class}");
        for (j, smp) in samples.iter().enumerate() {
            let subject = smp["subject"].as_str().expect("subject");
            assert!(names(&read[j / 2]).contains(subject), "{class}: {subject} read by fold {}", j / 2);
        }
    }
    // The pooled floor is below what any one fold's 4 subjects allow.
    let p = r["model"]["p"].as_f64().expect("p");
    let fold_min = fold_p.iter().copied().fold(f64::INFINITY, f64::min);
    assert!(p < 1.0 / 6.0 && p < fold_min, "pooled p {p}, folds {fold_p:?}");
    for m in ["optimal", "actmax", "deconv"] {
        for b in r["methods"][m]["bands"].as_array().expect("bands") {
            assert!(b["p"].as_f64().expect("p") >= p, "{m}: a band below the floor: {b}");
        }
    }

    let text = ok(&eeglens(&[&["interpret", "--run", s(&parent), "--force"][..], &SMALL[..]].concat()));
    assert!(text.contains("read 12 subjects out of fold"), "{text}");
    // Over folds, validation is not read, nor one network's unit.
    let o = eeglens(&["interpret", "--run", s(&parent), "--split", "val+test", "--force"]);
    assert_one_line_error(&o, &["--split val+test", "over folds"]);
    let o = eeglens(&["interpret", "--run", s(&parent), "--layer", "features.0", "--unit", "0", "--force"]);
    assert_one_line_error(&o, &["--layer/--unit", "fold-0"]);
}

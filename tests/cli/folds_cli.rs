//! `eeglens train --folds K [--fold i]` and `eeglens eval` over the folds'
//! parent: the folds partition the store's subjects, one fold trained alone
//! equals the same fold of the whole cross-validation, the summary is the
//! folds' mean, and bad values are one-line errors.

use std::collections::BTreeSet;
use std::path::Path;

use eeglens_train::toy::{toy_set, ToyConfig};

use crate::util::{assert_one_line_error, assert_usage_error, eeglens, ok, s, tmpdir};

/// 12 subjects, 6 of each class (store split: 8 train, 2 val, 2 test; a fold of 3 tests 4).
fn store(dir: &Path) -> std::path::PathBuf {
    let p = dir.join("toy.safetensors");
    toy_set(&ToyConfig { subjects: [8, 2, 2], windows: 4, effect: 1.5, ..ToyConfig::default() })
        .write(&p)
        .expect("write toy store");
    p
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("JSON")
}

fn names(v: &serde_json::Value) -> BTreeSet<String> {
    v.as_array().expect("a list").iter().map(|s| s.as_str().expect("a name").to_string()).collect()
}

/// Every parameter and buffer of a checkpoint, bit for bit (the file also
/// holds the loop's timings, which differ between two runs).
fn weights(path: &Path) -> Vec<(String, Vec<u32>)> {
    let (m, _, _) = eeglens_nn::load_checkpoint(path).expect("checkpoint");
    m.named_params()
        .into_iter()
        .chain(m.named_buffers())
        .map(|(n, t)| (n, t.data().iter().map(|v| v.to_bits()).collect()))
        .collect()
}

/// `train` of rvgg on one thread, one epoch unless `more` says otherwise.
fn train(data: &Path, out: &Path, more: &[&str]) -> std::process::Output {
    let mut args = vec!["train", "--data", s(data), "--out", s(out), "--model", "rvgg", "--threads", "1"];
    args.extend(["--no-baseline", "--quiet", "--stuck-epochs", "0"]);
    if !more.contains(&"--epochs") {
        args.extend(["--epochs", "1"]);
    }
    args.extend(more);
    eeglens(&args)
}

#[test]
fn three_folds_partition_the_subjects_and_eval_reports_their_mean() {
    let d = tmpdir("folds");
    let data = store(&d.0);
    let parent = d.0.join("cv");
    let out = ok(&train(&data, &parent, &["--folds", "3"]));
    assert!(out.contains("eval --run"), "{out}");

    let all: BTreeSet<String> = (0..12).map(|i| format!("sub-{i:03}")).collect();
    let st = eeglens_data::store::EpochStore::open(&data).expect("store");
    let store_subjects: BTreeSet<String> = st.meta().subjects.iter().cloned().collect();
    assert_eq!(store_subjects.len(), all.len());
    let mut tested = BTreeSet::new();
    let mut tests = Vec::new();
    for i in 0..3 {
        let dir = parent.join(format!("fold-{i}"));
        assert!(dir.join("eval-test.json").is_file(), "fold {i} not trained");
        let c = json(&dir.join("config.json"));
        let f = &c["train"]["fold"];
        assert_eq!(
            (f["fold"].as_u64(), f["folds"].as_u64(), f["partition_seed"].as_u64()),
            (Some(i), Some(3), Some(0))
        );
        let (test, val, train) = (names(&f["test"]), names(&f["val"]), names(&f["train"]));
        assert_eq!(test.len(), 4, "fold {i}: 2 subjects of each class tested");
        assert!(test.is_disjoint(&val) && test.is_disjoint(&train) && val.is_disjoint(&train), "fold {i}");
        let every: BTreeSet<String> = test.iter().chain(&val).chain(&train).cloned().collect();
        assert_eq!(every, store_subjects, "fold {i} gives every subject a role");
        assert!(tested.is_disjoint(&test), "a subject tested twice");
        tested.extend(test.iter().cloned());
        // The run's recorded splits are the fold's, and its test report is of the fold's subjects.
        assert_eq!(c["data"]["subject_splits"][test.iter().next().expect("one")], "test");
        let e = json(&dir.join("eval-test.json"));
        let in_eval: BTreeSet<String> = e["subjects"]
            .as_array()
            .expect("subjects")
            .iter()
            .map(|s| s["subject"].as_str().expect("id").into())
            .collect();
        assert_eq!(in_eval, test, "fold {i} evaluated its own test subjects");
        tests.push(test);
    }
    assert_eq!(tested, store_subjects, "the test folds partition the subjects");

    // Again: every fold is complete, nothing is trained.
    let again = ok(&train(&data, &parent, &["--folds", "3"]));
    assert_eq!(again.matches("skipped").count(), 3, "{again}");

    let o = eeglens(&["eval", "--run", s(&parent), "--json"]);
    let v: serde_json::Value = serde_json::from_str(&ok(&o)).expect("one JSON document");
    assert_eq!(crate::util::assert_documented(&v), "eeglens-eval-folds/1");
    assert_eq!(v["schema"], "eeglens-eval-folds/1");
    let folds = v["folds"].as_array().expect("folds");
    assert_eq!(folds.len(), 3);
    for (i, f) in folds.iter().enumerate() {
        assert_eq!(f["fold"], i);
        assert_eq!(names(&f["subjects_tested"]), tests[i]);
    }
    for key in ["accuracy", "subject_accuracy", "balanced_accuracy"] {
        let vals: Vec<f64> = folds.iter().map(|f| f[key].as_f64().expect("number")).collect();
        let mean = vals.iter().sum::<f64>() / 3.0;
        let got = v["mean"][key].as_f64().expect("mean");
        assert!((got - mean).abs() < 1e-12, "{key}: mean {got}, folds {vals:?}");
        let sd = (vals.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 2.0).sqrt();
        assert!((v["sd"][key].as_f64().expect("sd") - sd).abs() < 1e-12, "{key}");
        let ci = v["ci95"][key].as_array().expect("interval");
        let half = 4.3027 * sd / 3f64.sqrt();
        assert!((ci[0].as_f64().expect("low") - (mean - half)).abs() < 1e-9, "{key}: {ci:?}");
        assert!((ci[1].as_f64().expect("high") - (mean + half)).abs() < 1e-9, "{key}: {ci:?}");
    }
    assert_eq!(v["pooled"]["n_subjects"], 12);
    // Pooled out of fold: the windows of all folds counted together.
    let right: f64 = folds
        .iter()
        .map(|f| f["accuracy"].as_f64().expect("acc") * f["n_windows"].as_f64().expect("n"))
        .sum();
    let total: f64 = folds.iter().map(|f| f["n_windows"].as_f64().expect("n")).sum();
    assert_eq!(v["pooled"]["n_windows"].as_f64(), Some(total));
    assert!((v["pooled"]["accuracy"].as_f64().expect("pooled") - right / total).abs() < 1e-12);
    // The pooled chance tests count every subject once: 12 in the subject test.
    let chance = &v["pooled"]["chance"];
    assert_eq!(chance["subject_test"]["n"], 12, "{chance}");
    assert_eq!(chance["window"]["n"].as_f64(), Some(total));
    let text = ok(&eeglens(&["eval", "--run", s(&parent)]));
    assert!(text.contains("over 3 folds") && text.contains("pooled out of fold (12 subjects"), "{text}");
    assert!(
        text.contains("pooled out of fold, test: ") && text.contains("subject permutation p = "),
        "{text}"
    );

    // One fold is an ordinary run for eval and interpret, on the fold's own test subjects.
    let fold2 = parent.join("fold-2");
    let one: serde_json::Value =
        serde_json::from_str(&ok(&eeglens(&["eval", "--run", s(&fold2), "--json"]))).expect("JSON");
    let in_one: BTreeSet<String> = one["subjects"]
        .as_array()
        .expect("subjects")
        .iter()
        .map(|s| s["subject"].as_str().expect("id").into())
        .collect();
    assert_eq!(in_one, tests[2]);
    assert_eq!(one["accuracy"], folds[2]["accuracy"]);
    let small =
        ["--k", "2", "--restarts", "2", "--steps", "2", "--permutations", "19", "--read-anyway", "--json"];
    let mut args = vec!["interpret", "--run", s(&fold2)];
    args.extend(small);
    let r: serde_json::Value = serde_json::from_str(&ok(&eeglens(&args))).expect("JSON");
    assert_eq!(
        (r["model"]["n_subjects"].as_u64(), r["model"]["n_windows"].as_u64()),
        (Some(4), Some(16)),
        "{}",
        r["model"]
    );

    // The report of the parent needs the reading over the folds first, and names where it looked.
    let o = eeglens(&["report", "--run", s(&parent)]);
    assert_one_line_error(&o, &["interpret"]);
    let mut args = vec!["interpret", "--run", s(&parent)];
    args.extend(small);
    ok(&eeglens(&args));
    let text = ok(&eeglens(&["report", "--run", s(&parent)]));
    assert!(text.contains("folds       3 folds, 12 subjects each tested once out of fold"), "{text}");
    let html = std::fs::read_to_string(parent.join("report.html")).expect("report.html");
    assert!(html.contains("<h2 id=\"folds\">Cross-validation</h2>"), "a cross-validation section");
    // The cards and the ROC are over every tested window of the folds, not one fold's.
    let card = format!("out-of-fold accuracy per window ({} windows)", total as u64);
    assert!(html.contains(&card), "{card}");
    assert!(html.contains("3 folds (out of fold)"), "the title says the page is over the folds");
    for i in 0..3 {
        assert!(html.contains(&format!("<tr><td>{i}</td><td>4</td>")), "fold {i}'s row: 4 subjects tested");
    }
    // The example windows are fold 0's (its items come first), one per class.
    let shown: Vec<&str> =
        html.split("of subject ").skip(1).map(|rest| rest.split([' ', '<']).next().unwrap_or("")).collect();
    assert_eq!(shown.len(), 2, "one optimal sample per class: {shown:?}");
    assert!(shown.iter().all(|s| tests[0].contains(*s)), "{shown:?} not all of fold 0's {:?}", tests[0]);

    // Fold 1 alone, as one task of a job array: the weights of the whole run's fold 1.
    let alone = d.0.join("alone");
    ok(&train(&data, &alone, &["--folds", "3", "--fold", "1"]));
    assert!(!alone.join("fold-0").exists() && !alone.join("fold-2").exists());
    for f in ["checkpoint-best.safetensors", "checkpoint-last.safetensors"] {
        let a = weights(&parent.join("fold-1").join(f));
        assert!(
            a == weights(&alone.join("fold-1").join(f)),
            "{f} differs between --folds 3 and --fold 1 --folds 3"
        );
        // The comparison can fail: another fold's data gives other weights.
        assert!(a != weights(&parent.join("fold-0").join(f)), "{f}: folds 0 and 1 trained alike");
    }
    // A fold of another partition is not mixed into the parent.
    let o = train(&data, &alone, &["--folds", "3", "--fold", "1", "--fold-seed", "5"]);
    assert_one_line_error(&o, &["fold-1", "not fold 1 of this cross-validation", "partition seed 5"]);
    // Eval over a parent whose folds are not all trained says which are missing.
    let o = eeglens(&["eval", "--run", s(&alone)]);
    assert_one_line_error(&o, &["fold(s) 0, 2 of 3 not trained yet", "--fold"]);
}

#[test]
fn an_interrupted_fold_resumes_only_when_asked() {
    let d = tmpdir("folds-resume");
    let data = store(&d.0);
    let parent = d.0.join("cv");
    ok(&train(&data, &parent, &["--folds", "2", "--fold", "0"]));
    let fold = parent.join("fold-0");
    // A fold that has not reached its test (as after an interruption).
    std::fs::remove_file(fold.join("eval-test.json")).expect("remove");
    let o = train(&data, &parent, &["--folds", "2", "--fold", "0"]);
    assert_one_line_error(&o, &["fold-0", "interrupted", "--resume", "--force"]);
    ok(&train(&data, &parent, &["--folds", "2", "--fold", "0", "--resume", "--epochs", "2"]));
    let lines = std::fs::read_to_string(fold.join("metrics.jsonl")).expect("metrics");
    assert_eq!(lines.lines().count(), 2, "resumed from epoch 1 to 2");
    assert!(fold.join("eval-test.json").is_file());
    let c = json(&fold.join("config.json"));
    assert_eq!(c["train"]["fold"]["fold"], 0);
}

#[test]
fn bad_fold_values_are_one_line_errors() {
    let d = tmpdir("folds-bad");
    let data = store(&d.0);
    let out = d.0.join("cv");
    assert_one_line_error(&train(&data, &out, &["--folds", "3", "--fold", "3"]), &["--fold 3", "0 to 2"]);
    assert_one_line_error(&train(&data, &out, &["--folds", "1"]), &["--folds 1", "at least 2 folds"]);
    assert_one_line_error(
        &train(&data, &out, &["--folds", "7"]),
        &["--folds 7", "toy.safetensors", "7 folds need at least 7 subjects of every class", "has 6"],
    );
    assert_usage_error(&train(&data, &out, &["--fold", "0"]), &["--folds"]);
    assert_usage_error(&train(&data, &out, &["--folds", "2", "--seeds", "0-1"]), &["--seeds"]);
    assert_usage_error(&train(&data, &out, &["--folds", "two"]), &["--folds"]);
    assert!(!out.join("fold-0").exists(), "nothing trained");
}

#[test]
fn model_selection_runs_within_each_fold() {
    let d = tmpdir("folds-auto");
    // ShallowConvNet needs windows of at least 99 samples.
    let data = d.0.join("toy.safetensors");
    toy_set(&ToyConfig { subjects: [8, 2, 2], windows: 2, n_samples: 128, ..ToyConfig::default() })
        .write(&data)
        .expect("write toy store");
    let parent = d.0.join("cv");
    let mut args = vec!["train", "--data", s(&data), "--out", s(&parent), "--model", "auto", "--folds", "2"];
    args.extend(["--epochs", "1", "--threads", "1", "--no-baseline", "--quiet", "--stuck-epochs", "0"]);
    ok(&eeglens(&args));
    for i in 0..2 {
        let dir = parent.join(format!("fold-{i}"));
        let chosen = json(&dir.join("config.json"));
        assert_eq!(chosen["train"]["fold"]["fold"], i);
        assert!(dir.join("selection.json").is_file(), "fold {i} chose a model");
        for m in ["shallow", "rvgg-bn"] {
            let c = json(&dir.join("candidates").join(m).join("config.json"));
            assert_eq!(
                c["train"]["fold"], chosen["train"]["fold"],
                "fold {i}: candidate {m} on the fold's split"
            );
        }
    }
    let v: serde_json::Value =
        serde_json::from_str(&ok(&eeglens(&["eval", "--run", s(&parent), "--json"]))).expect("JSON");
    assert_eq!(v["folds"].as_array().map(Vec::len), Some(2));
}

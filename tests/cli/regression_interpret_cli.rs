//! Interpreting and reporting a regression (a run on a numeric target), on the runs
//! `regression_cli` trains (so the set is synthesised and trained once): the optimal samples
//! are exactly the windows of the extreme predictions `eval` gives on the test split, the
//! document names the target and its groups, a model whose predictions do not follow the
//! target is not read, and the report renders the regression's figures.

use std::path::Path;

use eeglens_data::store::EpochStore;

use crate::util::{eeglens, ok, s};

/// Windows per group, and the quick settings of every method (seconds in a debug build).
const K: usize = 10;

fn interpret(run: &Path, more: &[&str]) -> std::process::Output {
    let k = K.to_string();
    let mut args = vec![
        "interpret",
        "--run",
        s(run),
        "--k",
        &k,
        "--steps",
        "20",
        "--restarts",
        "2",
        "--actmax-windows",
        "2",
        "--permutations",
        "199",
    ];
    args.extend(more);
    eeglens(&args)
}

/// The positions of the `k` largest `scores` (ties: lower position first), at most `cap` of
/// one subject, excluding `not`: the rule of the classes' optimal samples, written again.
fn extremes_of(scores: &[f64], subjects: &[u32], k: usize, cap: usize, not: &[usize]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).filter(|p| !not.contains(p)).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    let mut taken = std::collections::HashMap::new();
    let mut out = Vec::new();
    for p in order {
        let n = taken.entry(subjects[p]).or_insert(0);
        if *n < cap && out.len() < k {
            *n += 1;
            out.push(p);
        }
    }
    out
}

fn indices(samples: &serde_json::Value) -> Vec<usize> {
    samples
        .as_array()
        .expect("samples")
        .iter()
        .map(|x| x["index"].as_u64().expect("index") as usize)
        .collect()
}

/// A regression that learned its target (`run`, trained on `data`): read, with the optimal
/// samples checked against `eval`'s own predictions, and reported.
pub fn check_learned(run: &Path, data: &Path) {
    let v: serde_json::Value =
        serde_json::from_str(&ok(&interpret(run, &["--json"]))).expect("one JSON document");
    assert_eq!(crate::util::assert_documented(&v), "eeglens-interpret/1");
    assert_eq!(
        (v["target"].as_str(), v["column"].as_str(), v["target_unit"].as_str()),
        (Some("numeric"), Some("age"), Some("year"))
    );
    assert_eq!(v["classes"], serde_json::json!(["low", "high"]));
    for g in ["low", "high"] {
        assert!(v["items"][g].as_str().is_some_and(|t| t.contains("predict")), "{}", v["items"]);
    }
    let reg = &v["model"]["regression"];
    assert_eq!(reg["learned"], true, "{reg}");
    assert_eq!(v["model"]["learned"], true);
    assert_eq!(v["model"]["p"], reg["p"], "the readings' floor is the regression's p");
    assert!(reg["r"].as_f64().is_some_and(|r| r > 0.3) && reg["n_subjects"] == 12, "{reg}");
    assert_eq!(v["methods"]["actmax"]["objective"], "output");
    // Activation maximisation moved the prediction: the high patterns above the low ones.
    let end = &v["methods"]["actmax"]["objective_end"];
    assert!(end["high"].as_f64() > end["low"].as_f64(), "{end}");
    for m in ["optimal", "actmax", "deconv"] {
        assert!(v["methods"][m]["bands"].as_array().is_some_and(|b| b.len() == 4), "{m}");
    }

    // Against eval's predictions of the test windows (in the target's unit), by window index.
    let e: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("eval-test.json")).expect("eval-test.json"))
            .expect("JSON");
    let windows: Vec<usize> = e["windows"]
        .as_array()
        .expect("windows")
        .iter()
        .map(|x| x.as_u64().expect("index") as usize)
        .collect();
    let predicted: Vec<f64> = e["predictions"]
        .as_array()
        .expect("predictions")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect();
    let store = EpochStore::open(data).expect("store");
    let subjects: Vec<u32> = windows.iter().map(|&i| store.subjects()[i]).collect();
    let mut distinct = subjects.clone();
    distinct.sort_unstable();
    distinct.dedup();
    let cap = K.div_ceil(distinct.len());
    let high = extremes_of(&predicted, &subjects, K, cap, &[]);
    let negated: Vec<f64> = predicted.iter().map(|p| -p).collect();
    let low = extremes_of(&negated, &subjects, K, cap, &high);
    let samples = &v["methods"]["optimal"]["samples"];
    let as_windows = |pos: &[usize]| pos.iter().map(|&p| windows[p]).collect::<Vec<_>>();
    assert_eq!(indices(&samples["high"]), as_windows(&high), "high: the highest predictions, best first");
    assert_eq!(indices(&samples["low"]), as_windows(&low), "low: the lowest predictions, lowest first");
    assert!(predicted[high[K - 1]] > predicted[low[K - 1]], "every high window above every low one");
    // Each sample's score is its prediction, and its value the window's age.
    for (g, pos) in [("high", &high), ("low", &low)] {
        for (x, &p) in samples[g].as_array().expect("samples").iter().zip(pos.iter()) {
            let score = x["score"].as_f64().expect("score");
            assert!(
                (score - predicted[p]).abs() <= 1e-3 * predicted[p].abs().max(1.0),
                "{x} vs {}",
                predicted[p]
            );
            let age = store.target().expect("target").values[windows[p]] as f64;
            assert!((x["value"].as_f64().expect("value") - age).abs() < 1e-6, "{x}");
        }
    }

    // The text output names the target and the test.
    let text = ok(&interpret(run, &["--force"]));
    assert!(text.contains("predicting `age`") && text.contains("subjects' r ="), "{text}");
    assert!(text.contains("mean ln(high/low)") && !text.contains("NOTHING LEARNED"), "{text}");

    // The report: the regression's figures and the readings worded high and low.
    let r: serde_json::Value = serde_json::from_str(&ok(&eeglens(&["report", "--run", s(run), "--json"])))
        .expect("one JSON document");
    assert_eq!(crate::util::assert_documented(&r), "eeglens-report/1");
    assert_eq!((r["test"]["target"].as_str(), r["test"]["learned"].as_bool()), (Some("age"), Some(true)));
    assert_eq!(r["missing"], serde_json::json!([]), "a regression lacks nothing: {r}");
    let out = ok(&eeglens(&["report", "--run", s(run), "--force"]));
    assert!(out.contains("per subject MAE") && out.contains("top band    optimal:"), "{out}");
    let html = std::fs::read_to_string(run.join("report.html")).expect("report.html");
    for needle in [
        "predicting <b>age</b>",
        "data-figure=\"regression-subjects\"",
        "Predicted against true, per subject",
        "test R² per subject",
        "high over low",
        "id=\"method-optimal\"",
        "id=\"method-actmax\"",
        "id=\"method-deconv\"",
    ] {
        assert!(html.contains(needle), "report.html lacks {needle:?}");
    }
    assert!(!html.contains("id=\"nothing-learned\""), "a learned regression is no null");
    let points = html.matches("class=\"point\"").count();
    assert_eq!(points, 12, "one point per test subject");
}

/// A regression whose predictions do not follow the target (`run`): the one-line verdict,
/// nothing read, and a report that says so.
pub fn check_not_learned(run: &Path) {
    let v: serde_json::Value =
        serde_json::from_str(&ok(&interpret(run, &["--json"]))).expect("one JSON document");
    assert_eq!(v["target"], "numeric");
    assert_eq!(v["model"]["regression"]["learned"], false, "{}", v["model"]);
    assert_eq!(v["model"]["learned"], false);
    assert_eq!(v["methods"], serde_json::json!({}), "nothing read");
    let text = ok(&interpret(run, &["--force"]));
    let verdict: Vec<&str> = text.lines().filter(|l| l.starts_with("NOTHING LEARNED")).collect();
    assert_eq!(verdict.len(), 1, "{text}");
    assert!(verdict[0].contains("do not follow `age`"), "{text}");
    assert!(!text.contains("top band"), "{text}");
    ok(&eeglens(&["report", "--run", s(run)]));
    let html = std::fs::read_to_string(run.join("report.html")).expect("report.html");
    assert!(html.contains("id=\"nothing-learned\"") && html.contains("do not follow the target"));
}

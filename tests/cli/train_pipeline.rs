//! `eeglens synth` -> `eeglens prepare` -> `eeglens train` -> `eeglens eval`.
//!
//! The small configuration runs in CI and checks the plumbing on real
//! prepared windows. The acceptance runs (R-VGG with the defaults on the
//! default synthetic data set: at least 80% per window and 85% per subject on
//! held-out subjects in under 5 minutes; and near chance on a null data set)
//! take minutes on two cores and are `#[ignore]`d:
//! `cargo test --release --test train_pipeline -- --ignored --nocapture`.
//! Extra training flags for them can be given in `EEGLENS_TRAIN_ARGS`.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Instant;

use crate::util::{ok, s, tmpdir};

/// Runs `eeglens ARGS`, which must succeed.
fn eeglens(args: &[&str]) -> Output {
    let o = crate::util::eeglens(args);
    ok(&o);
    o
}

/// Writes a synthetic BIDS dataset with `synth_args` and prepares it with the defaults.
fn prepared(dir: &Path, synth_args: &[&str]) -> PathBuf {
    let bids = dir.join("bids");
    let mut a = vec!["synth", "--out", s(&bids), "--quiet"];
    a.extend_from_slice(synth_args);
    eeglens(&a);
    let data = dir.join("epochs.safetensors");
    eeglens(&["prepare", s(&bids), "--label", "sex", "--out", s(&data), "--quiet"]);
    data
}

fn eval_json(run: &Path) -> serde_json::Value {
    let o = eeglens(&["eval", "--run", s(run), "--json"]);
    serde_json::from_slice(&o.stdout).expect("eval prints one JSON document")
}

#[test]
fn small_synthetic_dataset_goes_through_train_and_eval() {
    let d = tmpdir("small");
    let data = prepared(&d, &["--subjects", "8", "--minutes", "1", "--seed", "3"]);
    let run = d.join("run");
    eeglens(&[
        "train",
        "--model",
        "rvgg",
        "--data",
        s(&data),
        "--out",
        s(&run),
        "--epochs",
        "1",
        "--threads",
        "1",
        "--quiet",
    ]);
    let v = eval_json(&run);
    assert_eq!(v["split"], "test");
    assert_eq!(v["classes"], serde_json::json!(["F", "M"]));
    let n_subjects = v["n_subjects"].as_u64().expect("n_subjects");
    assert!(n_subjects >= 1, "{v}");
    let per_subject = v["subjects"].as_array().expect("subjects");
    assert_eq!(per_subject.len() as u64, n_subjects);
    let windows: u64 = per_subject.iter().map(|s| s["n_windows"].as_u64().expect("n_windows")).sum();
    assert_eq!(windows, v["n_windows"].as_u64().expect("n_windows"));
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("config.json")).expect("config.json"))
            .expect("JSON");
    assert_eq!(config["data"]["n_channels"], 24);
    assert_eq!(config["data"]["n_samples"], 256);
    assert_eq!(config["model"]["n_params"], 7_452_850);
}

/// Trains with the defaults (plus `EEGLENS_TRAIN_ARGS`) and returns the eval
/// JSON and the wall-clock seconds of training.
fn train_defaults(d: &Path, data: &Path) -> (serde_json::Value, f64) {
    let run = d.join("run");
    let extra = std::env::var("EEGLENS_TRAIN_ARGS").unwrap_or_default();
    let mut a = vec!["train", "--model", "rvgg", "--data", s(data), "--out", s(&run), "--quiet"];
    a.extend(extra.split_whitespace());
    let start = Instant::now();
    let o = eeglens(&a);
    let secs = start.elapsed().as_secs_f64();
    println!("{}", String::from_utf8_lossy(&o.stdout));
    (eval_json(&run), secs)
}

#[test]
#[ignore = "minutes on two cores: the acceptance run, recorded in BENCHMARKS.md"]
fn rvgg_learns_the_default_synthetic_dataset_in_under_five_minutes() {
    let d = tmpdir("accept");
    let data = prepared(&d, &[]);
    let (v, secs) = train_defaults(&d, &data);
    let (acc, subj) =
        (v["accuracy"].as_f64().expect("accuracy"), v["subject_accuracy"].as_f64().expect("subject"));
    println!("test: {acc:.3} per window, {subj:.3} per subject, training {secs:.0} s");
    assert!(acc >= 0.80, "window accuracy {acc}");
    assert!(subj >= 0.85, "subject accuracy {subj}");
    assert!(secs < 300.0, "training took {secs:.0} s");
}

#[test]
#[ignore = "minutes on two cores: the null acceptance run"]
fn rvgg_finds_nothing_in_a_null_synthetic_dataset() {
    let d = tmpdir("null");
    let data = prepared(&d, &["--effect-size", "0"]);
    let (v, _) = train_defaults(&d, &data);
    let acc = v["accuracy"].as_f64().expect("accuracy");
    let subj = v["subject_accuracy"].as_f64().expect("subject");
    println!("null: {acc:.3} per window, {subj:.3} per subject");
    assert!((0.35..=0.65).contains(&acc), "window accuracy {acc} on a null data set");
    assert!(subj <= 0.75, "subject accuracy {subj} on a null data set");
}

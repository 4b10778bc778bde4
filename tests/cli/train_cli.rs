//! `eeglens train` and `eeglens eval` end to end on small stores: the run
//! directory, the eval JSON, resuming (also after Ctrl-C), and one-line errors
//! for bad input.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use eeglens_train::toy::{toy_set, ToyConfig};

use crate::util::{assert_one_line_error, assert_usage_error, bin, eeglens, text, tmpdir};

fn toy(dir: &Path, cfg: &ToyConfig) -> PathBuf {
    let p = dir.join("toy.safetensors");
    toy_set(cfg).write(&p).expect("write toy store");
    p
}

#[test]
fn train_then_eval_writes_the_run_and_reports_per_window_and_subject() {
    let d = tmpdir("basic");
    let data = toy(&d, &ToyConfig { windows: 6, ..ToyConfig::default() });
    let out = d.join("run");
    let o = eeglens(&[
        "train",
        "--model",
        "rvgg",
        "--data",
        data.to_str().expect("utf-8"),
        "--out",
        out.to_str().expect("utf-8"),
        "--epochs",
        "2",
        "--threads",
        "1",
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("test: "), "{}", text(&o.stdout));
    // stderr is not a terminal here: no progress bar, no output at all.
    assert_eq!(text(&o.stderr), "");
    for f in ["config.json", "metrics.jsonl", "checkpoint-best.safetensors", "checkpoint-last.safetensors"] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let lines = std::fs::read_to_string(out.join("metrics.jsonl")).expect("metrics");
    assert_eq!(lines.lines().count(), 2);
    for l in lines.lines() {
        let v: serde_json::Value = serde_json::from_str(l).expect("metrics line is JSON");
        for key in ["train_loss", "val_loss", "val_accuracy", "lr", "seconds", "samples_per_s"] {
            assert!(v.get(key).is_some(), "metrics line lacks {key}");
        }
    }

    let o = eeglens(&["eval", "--run", out.to_str().expect("utf-8"), "--json"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_str(&text(&o.stdout)).expect("one JSON document");
    assert_eq!(v["split"], "test");
    assert_eq!(v["n_windows"], 8 * 6);
    assert_eq!(v["n_subjects"], 8);
    assert_eq!(v["classes"], serde_json::json!(["F", "M"]));
    let conf: u64 = v["confusion"]
        .as_array()
        .expect("confusion")
        .iter()
        .flat_map(|r| r.as_array().expect("row").iter().map(|c| c.as_u64().expect("count")))
        .sum();
    assert_eq!(conf, 48);
    for key in ["accuracy", "balanced_accuracy", "auc", "subject_accuracy"] {
        let x = v[key].as_f64().unwrap_or_else(|| panic!("{key} is not a number"));
        assert!((0.0..=1.0).contains(&x), "{key} = {x}");
    }
    assert!(v.get("probabilities").is_none(), "per-window probabilities only with --windows");
    // eval-test.json written by training agrees with `eeglens eval`.
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("eval-test.json")).expect("eval-test.json"))
            .expect("JSON");
    assert_eq!(file["confusion"], v["confusion"]);
    assert_eq!(file["subject_accuracy"], v["subject_accuracy"]);

    let o =
        eeglens(&["eval", "--run", out.to_str().expect("utf-8"), "--split", "val", "--json", "--windows"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_str(&text(&o.stdout)).expect("JSON");
    assert_eq!(v["split"], "val");
    assert_eq!(v["probabilities"].as_array().expect("probabilities").len(), 4 * 6);
    let o = eeglens(&["eval", "--run", out.to_str().expect("utf-8")]);
    assert!(text(&o.stdout).contains("per subject"), "{}", text(&o.stdout));
    let o = eeglens(&["eval", "--run", out.to_str().expect("utf-8"), "--split", "holdout"]);
    assert_usage_error(&o, &["'holdout'", "--split", "test, val, train"]);

    // Provenance: one line per completed command on the run, in order (the failed one is not there).
    let steps = eeglens_train::provenance::read(&out).expect("provenance.jsonl");
    let names: Vec<&str> = steps.iter().map(|s| s.step.as_str()).collect();
    assert_eq!(names, ["train", "eval", "eval", "eval"]);
    assert!(steps[0].command.contains("train --model rvgg") && steps[0].command.contains("--epochs 2"));
    assert!(steps[2].command.ends_with("--split val --json --windows"), "{}", steps[2].command);
    assert_eq!(steps[0].eeglens, env!("CARGO_PKG_VERSION"));
    assert!(steps[0].date.len() == 20 && steps[0].date.ends_with('Z') && !steps[0].kernels.is_empty());
    // Training anew over the run starts its provenance anew.
    let o = eeglens(
        &["train", "--model", "rvgg", "--data", data.to_str().expect("utf-8")]
            .into_iter()
            .chain([
                "--out",
                out.to_str().expect("utf-8"),
                "--epochs",
                "1",
                "--threads",
                "1",
                "--quiet",
                "--force",
            ])
            .collect::<Vec<_>>(),
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let steps = eeglens_train::provenance::read(&out).expect("provenance.jsonl");
    assert_eq!(steps.len(), 1, "{steps:?}");
    assert!(steps[0].command.contains("--force"));
}

#[test]
fn bad_input_gives_one_line_errors() {
    let d = tmpdir("bad");
    let data = toy(&d, &ToyConfig { subjects: [4, 2, 2], windows: 4, ..ToyConfig::default() });
    let ds = data.to_str().expect("utf-8");

    // Not an epoch store.
    let junk = d.join("junk.safetensors");
    std::fs::write(&junk, b"not a safetensors file").expect("write");
    let o = eeglens(&[
        "train",
        "--model",
        "rvgg",
        "--data",
        junk.to_str().expect("utf-8"),
        "--out",
        d.join("r1").to_str().expect("utf-8"),
    ]);
    assert_one_line_error(&o, &["junk.safetensors", "not an eeglens epoch store"]);

    // A model whose input shape does not fit the data (R-VGG needs 8 channels).
    let narrow = d.join("narrow");
    std::fs::create_dir_all(&narrow).expect("dir");
    let four =
        toy(&narrow, &ToyConfig { n_channels: 4, subjects: [4, 2, 2], windows: 4, ..ToyConfig::default() });
    let o = eeglens(&[
        "train",
        "--model",
        "rvgg",
        "--data",
        four.to_str().expect("utf-8"),
        "--out",
        d.join("r2").to_str().expect("utf-8"),
    ]);
    assert_one_line_error(&o, &["model `rvgg` does not fit windows of 4 channels x 32 samples"]);

    // An unwritable run directory (below a regular file).
    let file = d.join("plain-file");
    std::fs::write(&file, b"x").expect("write");
    let o = eeglens(&[
        "train",
        "--model",
        "rvgg",
        "--data",
        ds,
        "--out",
        file.join("run").to_str().expect("utf-8"),
        "--epochs",
        "1",
    ]);
    assert_one_line_error(&o, &["plain-file/run"]);

    // A run directory that already holds a run.
    let r3 = d.join("r3");
    let r3s = r3.to_str().expect("utf-8");
    let o =
        eeglens(&["train", "--model", "rvgg", "--data", ds, "--out", r3s, "--epochs", "1", "--threads", "1"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = eeglens(&["train", "--model", "rvgg", "--data", ds, "--out", r3s, "--epochs", "1"]);
    assert_one_line_error(&o, &["already holds a run", "--resume", "--force"]);
    let o = eeglens(&[
        "train",
        "--model",
        "rvgg",
        "--data",
        ds,
        "--out",
        r3s,
        "--epochs",
        "1",
        "--threads",
        "1",
        "--force",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));

    // Bad flags.
    let o = eeglens(&[
        "train",
        "--model",
        "rvgg",
        "--data",
        ds,
        "--out",
        d.join("r4").to_str().expect("utf-8"),
        "--optimizer",
        "lbfgs",
    ]);
    assert_usage_error(&o, &["'lbfgs'", "--optimizer", "adam, adamw, adamax, sgd"]);
    let o = eeglens(&[
        "train",
        "--model",
        "rvgg",
        "--data",
        ds,
        "--out",
        d.join("r5").to_str().expect("utf-8"),
        "--batch",
        "0",
    ]);
    assert_one_line_error(&o, &["`batch`"]);
    for bad in ["1.5", "-0.1", "NaN"] {
        let mix = format!("--mix={bad}");
        let o = eeglens(&[
            "train",
            "--model",
            "rvgg",
            "--data",
            ds,
            "--out",
            d.join("r6").to_str().expect("utf-8"),
            &mix,
        ]);
        assert_one_line_error(&o, &["`mix`", "must be a probability"]);
    }
    let o = eeglens(&["eval", "--run", d.join("nowhere").to_str().expect("utf-8")]);
    assert_one_line_error(&o, &["nowhere/config.json"]);
}

#[test]
fn resume_continues_a_run_and_ctrl_c_leaves_a_resumable_one() {
    let d = tmpdir("resume");
    let data = toy(&d, &ToyConfig { subjects: [12, 2, 2], windows: 8, ..ToyConfig::default() });
    let ds = data.to_str().expect("utf-8");
    let out = d.join("run");
    let outs = out.to_str().expect("utf-8");
    let o = eeglens(&[
        "train",
        "--model",
        "rvgg",
        "--data",
        ds,
        "--out",
        outs,
        "--epochs",
        "1",
        "--threads",
        "1",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    // --resume takes the data path from the run.
    let o = eeglens(&["train", "--out", outs, "--resume", "--epochs", "2"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let metrics = || std::fs::read_to_string(out.join("metrics.jsonl")).expect("metrics").lines().count();
    assert_eq!(metrics(), 2);
    let o = eeglens(&["train", "--out", outs, "--resume", "--seed", "5"]);
    assert_one_line_error(&o, &["cannot resume with a different seed"]);

    // Ctrl-C: a long run, interrupted once its first epoch is written.
    let long = d.join("long");
    let child = bin()
        .args([
            "train",
            "--model",
            "rvgg",
            "--data",
            ds,
            "--out",
            long.to_str().expect("utf-8"),
            "--epochs",
            "400",
            "--threads",
            "1",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let start = Instant::now();
    while !long.join("checkpoint-last.safetensors").exists() {
        assert!(start.elapsed() < Duration::from_secs(120), "no checkpoint after 2 minutes");
        std::thread::sleep(Duration::from_millis(50));
    }
    let kill = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill runs");
    assert!(kill.success());
    let o = child.wait_with_output().expect("wait");
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted at epoch") && err.contains("--resume"), "{err}");
    let done = std::fs::read_to_string(long.join("metrics.jsonl")).expect("metrics").lines().count();
    assert!(done < 400);
    // Finish the interrupted epoch and one more.
    let target = (done + 2).to_string();
    let o = eeglens(&[
        "train",
        "--out",
        long.to_str().expect("utf-8"),
        "--resume",
        "--epochs",
        &target,
        "--threads",
        "1",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let lines = std::fs::read_to_string(long.join("metrics.jsonl")).expect("metrics");
    assert_eq!(lines.lines().count(), done + 2);
    assert!(long.join("eval-test.json").is_file());
}

#[test]
fn seeds_train_into_a_parent_that_eval_and_interpret_read_together() {
    let d = tmpdir("seeds");
    let data = toy(&d, &ToyConfig { windows: 6, effect: 1.5, ..ToyConfig::default() });
    let parent = d.join("runs");
    let (data_s, parent_s) = (data.to_str().expect("utf-8"), parent.to_str().expect("utf-8"));
    let args = [
        "train",
        "--model",
        "rvgg",
        "--data",
        data_s,
        "--out",
        parent_s,
        "--seeds",
        "0-1",
        "--epochs",
        "1",
        "--threads",
        "1",
    ];
    let o = eeglens(&args);
    assert!(o.status.success(), "{}", text(&o.stderr));
    for s in ["seed-0", "seed-1"] {
        assert!(parent.join(s).join("eval-test.json").is_file(), "{s} not trained");
        assert!(parent.join(s).join("baseline.json").is_file(), "{s} has no baseline");
    }
    let seed1: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(parent.join("seed-1/config.json")).expect("read"))
            .expect("JSON");
    assert_eq!(seed1["train"]["seed"], 1);
    // A second call skips the finished seeds.
    let again = eeglens(&args);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert_eq!(text(&again.stdout).matches("skipped").count(), 2, "{}", text(&again.stdout));

    let o = eeglens(&["eval", "--run", parent_s, "--json"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON document");
    assert_eq!(crate::util::assert_documented(&v), "eeglens-eval-seeds/1");
    assert_eq!(v["seeds"].as_array().expect("seeds").len(), 2);
    assert!(v["mean"]["accuracy"].is_number() && v["sd"]["accuracy"].is_number());

    let small = ["--k", "3", "--restarts", "2", "--steps", "2", "--permutations", "19", "--read-anyway"];
    let o = bin().args(["interpret", "--run", parent_s]).args(small).output().expect("runs");
    assert!(o.status.success(), "{}", text(&o.stderr));
    let a: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(parent.join("agreement.json")).expect("written"))
            .expect("JSON");
    assert_eq!(a["seeds"], serde_json::json!([0, 1]));
    for m in ["optimal", "actmax", "deconv"] {
        let fractions = a["methods"][m]["band_fraction"].as_object().expect("fractions");
        let total: f64 = fractions.values().map(|f| f.as_f64().expect("number")).sum();
        assert!((total - 1.0).abs() < 1e-9, "{m}: fractions sum to {total}");
    }
    // --seeds and --seed together are refused.
    let o = eeglens(&[
        "train", "--model", "rvgg", "--data", data_s, "--out", parent_s, "--seeds", "0-1", "--seed", "3",
    ]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "clap refuses the pair: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "a usage error is one line: {err}");
    assert!(
        err.starts_with("eeglens: error: ") && err.contains("--seed") && err.contains("usage: eeglens train"),
        "{err}"
    );
    // An unknown flag too; --help still prints the whole help and succeeds.
    let o = eeglens(&["train", "--modle", "rvgg"]);
    let err = text(&o.stderr);
    assert_eq!((o.status.code(), err.trim_end().lines().count()), (Some(2), 1), "{err}");
    assert!(err.contains("--modle"), "{err}");
    let o = eeglens(&["train", "--help"]);
    assert!(o.status.success() && text(&o.stdout).contains("--model"), "{}", text(&o.stderr));
}

#[test]
fn a_store_truncated_under_a_running_training_is_explained_not_a_bus_error() {
    let d = tmpdir("sigbus");
    let data = toy(&d, &ToyConfig { subjects: [12, 2, 2], windows: 8, ..ToyConfig::default() });
    let out = d.join("run");
    let child = bin()
        .args(["train", "--model", "rvgg", "--data", data.to_str().expect("utf-8")])
        .args(["--out", out.to_str().expect("utf-8"), "--epochs", "400", "--threads", "1"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let start = Instant::now();
    while !out.join("checkpoint-last.safetensors").exists() {
        assert!(start.elapsed() < Duration::from_secs(120), "no checkpoint after 2 minutes");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Truncated in place (as `cp` over it would): the mapped pages lose their data.
    std::fs::OpenOptions::new().write(true).open(&data).expect("open").set_len(0).expect("truncate");
    let o = child.wait_with_output().expect("wait");
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("truncated or rewritten in place") && err.contains("SIGBUS"), "{err}");
}

#[test]
fn one_process_trains_a_run_at_a_time_and_sigterm_stops_it_like_ctrl_c() {
    let d = tmpdir("lock");
    let data = toy(&d, &ToyConfig { subjects: [12, 2, 2], windows: 8, ..ToyConfig::default() });
    let ds = data.to_str().expect("utf-8");
    let out = d.join("run");
    let outs = out.to_str().expect("utf-8");
    let lock = out.join("train.lock");
    let spawn = |args: &[&str]| {
        bin()
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn")
    };
    let wait_for = |what: &str, cond: &dyn Fn() -> bool| {
        let start = Instant::now();
        while !cond() {
            assert!(start.elapsed() < Duration::from_secs(120), "no {what} after 2 minutes");
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    let child = spawn(&[
        "train",
        "--model",
        "rvgg",
        "--data",
        ds,
        "--out",
        outs,
        "--epochs",
        "400",
        "--threads",
        "1",
    ]);
    wait_for("checkpoint", &|| out.join("checkpoint-last.safetensors").exists());

    // A second process on the same run is refused, naming the one that holds it.
    let o = eeglens(&["train", "--out", outs, "--resume", "--threads", "1"]);
    assert_one_line_error(&o, &["train.lock: the run is locked by", &format!("pid {}", child.id())]);

    // SIGTERM (what `kill` and batch schedulers send) stops it as Ctrl-C does.
    let kill = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill runs");
    assert!(kill.success());
    let o = child.wait_with_output().expect("wait");
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted at epoch") && err.contains("--resume"), "{err}");
    assert!(!lock.exists(), "the lock is released");

    // A process killed outright leaves its lock: the next one takes it over and says so.
    let child = spawn(&["train", "--out", outs, "--resume", "--threads", "1"]);
    let pid = child.id();
    let held_by_child =
        || std::fs::read_to_string(&lock).is_ok_and(|t| t.contains(&format!("\"pid\":{pid},")));
    wait_for("lock of the resumed run", &held_by_child);
    let mut child = child;
    child.kill().expect("SIGKILL");
    child.wait().expect("wait");
    assert!(lock.exists(), "a killed process leaves its lock");
    let lines = std::fs::read_to_string(out.join("metrics.jsonl")).expect("metrics").lines().count();
    let target = (lines + 1).to_string();
    let o = eeglens(&["train", "--out", outs, "--resume", "--epochs", &target, "--threads", "1", "--quiet"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(err.contains(&format!("taking over the lock of pid {pid}")), "{err}");
    assert!(err.contains(&format!("ending the run after {target} epochs instead of 400")), "{err}");
    assert!(!lock.exists());

    // Fewer epochs than done: refused, config.json unchanged.
    let config = std::fs::read(out.join("config.json")).expect("config");
    let o = eeglens(&["train", "--out", outs, "--resume", "--epochs", "1"]);
    assert_one_line_error(
        &o,
        &["cannot resume with --epochs 1", &format!("done {target} epochs"), "at least"],
    );
    assert_eq!(std::fs::read(out.join("config.json")).expect("config"), config);
}

#[test]
fn far_more_threads_than_cores_are_capped_with_a_message() {
    let d = tmpdir("threads");
    let data = toy(&d, &ToyConfig { subjects: [4, 2, 2], windows: 4, ..ToyConfig::default() });
    let out = d.join("run");
    let o = eeglens(&[
        "train",
        "--model",
        "rvgg",
        "--data",
        data.to_str().expect("utf-8"),
        "--out",
        out.to_str().expect("utf-8"),
        "--epochs",
        "1",
        "--threads",
        "100000",
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let cap = eeglens_train::config::max_threads();
    let err = text(&o.stderr);
    assert!(err.contains(&format!("--threads 100000 is more than 4 per core; using {cap}")), "{err}");
}

#[test]
fn auto_trains_both_candidates_keeps_the_better_on_validation_and_resumes() {
    let d = tmpdir("auto");
    // ShallowConvNet needs at least 99 samples per window.
    let data =
        toy(&d, &ToyConfig { windows: 4, n_samples: 128, subjects: [8, 4, 4], ..ToyConfig::default() });
    let out = d.join("run");
    let args = |extra: &[&str]| {
        let mut v = vec!["train", "--model", "auto", "--data", data.to_str().expect("utf-8")];
        v.extend(["--out", out.to_str().expect("utf-8"), "--epochs", "2", "--threads", "1"]);
        v.extend_from_slice(extra);
        v.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let o = bin().args(args(&[])).output().expect("eeglens runs");
    let (so, se) = (text(&o.stdout), text(&o.stderr));
    assert!(o.status.success(), "{so}\n{se}");
    for m in eeglens_train::select::AUTO_CANDIDATES {
        assert!(se.contains(&format!(": {m} in ")), "candidate {m} is announced: {se}");
        assert!(out.join("candidates").join(m).join("eval-test.json").is_file(), "{m} trained");
    }
    let sel = eeglens_train::Selection::read(&out).expect("readable").expect("selection.json");
    assert!(so.contains(&format!("model selection: {}", sel.chosen)), "{so}");
    assert!(so.contains("the test split was not looked at"), "{so}");
    assert_eq!(se.matches("baseline (band power").count(), 1, "the baseline is said once: {se}");
    // OUT is a run of the chosen model: eval reads it.
    let e = eeglens(&["eval", "--run", out.to_str().expect("utf-8"), "--json"]);
    assert!(e.status.success(), "{}", text(&e.stderr));
    let run_cfg = eeglens_train::RunDir::open(&out).expect("a run");
    assert_eq!(run_cfg.config().train.model, sel.chosen);

    // Again without --resume or --force: refused in one line.
    let again = bin().args(args(&[])).output().expect("eeglens runs");
    assert_one_line_error(&again, &["already holds a run"]);
    // --resume on the finished selection re-scores and keeps the choice.
    let r = bin().args(args(&["--resume"])).output().expect("eeglens runs");
    assert!(r.status.success(), "{}", text(&r.stderr));
    let sel2 = eeglens_train::Selection::read(&out).expect("readable").expect("selection.json");
    assert_eq!(sel2, sel);

    // A seed of `--seeds` whose selection stopped before its choice (candidates, no run files yet)
    // is resumed, not refused.
    let parent = d.join("seeds");
    let seed0 = parent.join("seed-0");
    std::fs::create_dir_all(&parent).expect("parent");
    std::fs::rename(&out, &seed0).expect("move the selection under the parent");
    for f in std::fs::read_dir(&seed0).expect("readable") {
        let f = f.expect("entry").path();
        if f.is_file() {
            std::fs::remove_file(&f).expect("remove a run file");
        }
    }
    let mut v = vec!["train", "--model", "auto", "--data", data.to_str().expect("utf-8")];
    v.extend(["--out", parent.to_str().expect("utf-8"), "--seeds", "0", "--epochs", "2", "--threads", "1"]);
    let o = eeglens(&v);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let sel3 = eeglens_train::Selection::read(&seed0).expect("readable").expect("selection.json");
    assert_eq!(sel3, sel, "the resumed seed makes the same choice");
}

//! `eeglens synth` and `eeglens prepare` through the binary, as a user runs them.

use std::path::{Path, PathBuf};
use std::process::Command;

fn eeglens(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_eeglens")).args(args).output().expect("the binary runs")
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("eeglens-cli-data-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

#[test]
fn synth_then_prepare_with_defaults() {
    let d = tmp("defaults");
    let root = d.join("bids");
    let out = eeglens(&["synth", "--out", s(&root), "--subjects", "6", "--minutes", "0.5", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(v["subjects"], 6);
    assert_eq!(v["effect"]["band"], serde_json::json!([4.0, 8.0]));
    assert!(root.join("participants.tsv").is_file());

    let store = d.join("e.safetensors");
    let out = eeglens(&["prepare", s(&root), "--label", "sex", "--out", s(&store), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(v["classes"], serde_json::json!(["F", "M"]));
    assert_eq!(v["n_subjects"], 6);
    // 0.5 minutes: two eyes-closed blocks of 10 s each -> 10 windows per subject at most.
    let n = v["n_windows"].as_u64().expect("count");
    assert!(n > 40 && n <= 60, "{n} windows");
    let st = eeglens_data::store::EpochStore::open(&store).expect("open");
    assert_eq!(st.len() as u64, n);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn user_errors_are_one_line_with_exit_code_1() {
    let d = tmp("errors");
    let root = d.join("bids");
    assert!(eeglens(&["synth", "--out", s(&root), "--subjects", "2", "--minutes", "0.2"]).status.success());
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                "prepare".into(),
                s(&root).into(),
                "--label".into(),
                "gender".into(),
                "--out".into(),
                s(&d.join("e.safetensors")).into(),
            ],
            "no column `gender`; the columns are: participant_id, sex, age",
        ),
        (
            vec![
                "prepare".into(),
                s(&d.join("missing")).into(),
                "--label".into(),
                "sex".into(),
                "--out".into(),
                s(&d.join("e.safetensors")).into(),
            ],
            "not a directory",
        ),
        (
            vec![
                "synth".into(),
                "--out".into(),
                s(&d.join("x")).into(),
                "--effect-band".into(),
                "8-4".into(),
            ],
            "--effect-band",
        ),
        (
            vec![
                "synth".into(),
                "--out".into(),
                s(&d.join("x")).into(),
                "--effect-channels".into(),
                "Qq".into(),
            ],
            "Qq is not in the montage",
        ),
        (
            vec!["synth".into(), "--out".into(), s(&d.join("x")).into(), "--format".into(), "set".into()],
            "no writer",
        ),
    ];
    for (args, needle) in cases {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = eeglens(&a);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{a:?}: {err}");
        assert!(err.contains(needle), "{a:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{a:?}: more than one line: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn demo_never_deletes_a_folder_it_did_not_write() {
    let d = tmp("demo-guard");
    let mine = d.join("bids");
    std::fs::create_dir_all(&mine).expect("dir");
    std::fs::write(mine.join("participants.tsv"), "participant_id\tsex\n").expect("write");
    let out = eeglens(&["demo", "--out", s(&d)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("is not a synthetic dataset from `eeglens demo`"), "{err}");
    assert!(mine.join("participants.tsv").is_file(), "the user's file was deleted");
    let _ = std::fs::remove_dir_all(&d);
}

//! `eeglens bench --json` prints one JSON object with the contract's fields.

use std::process::Command;

#[test]
fn bench_json_has_the_contract_fields() {
    let o = Command::new(env!("CARGO_BIN_EXE_eeglens"))
        .args([
            "bench",
            "--json",
            "--model",
            "eegnet",
            "--batch",
            "4",
            "--infer-batch",
            "4",
            "--threads",
            "1",
        ])
        .args(["--reps", "1"])
        .output()
        .expect("eeglens runs");
    assert!(o.status.success(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8(o.stdout).expect("utf-8");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON document");
    for key in
        ["train_samples_per_s", "infer_samples_per_s", "actmax_steps_per_s", "actmax_restart_steps_per_s"]
    {
        let x = v[key].as_f64().unwrap_or_else(|| panic!("{key} missing in {stdout}"));
        assert!(x.is_finite() && x > 0.0, "{key} = {x}");
    }
    assert_eq!(v["threads"], 1);
    assert_eq!(v["model"], "eegnet");
    assert!(v["cpu_model"].as_str().is_some_and(|s| !s.is_empty()));
}

#[test]
fn bench_rejects_an_unknown_model_in_one_line() {
    let o = Command::new(env!("CARGO_BIN_EXE_eeglens"))
        .args(["bench", "--json", "--model", "alexnet", "--reps", "1"])
        .output()
        .expect("eeglens runs");
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("alexnet") && err.trim_end().lines().count() == 1, "{err}");
}

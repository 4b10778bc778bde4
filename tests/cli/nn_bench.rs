//! `eeglens bench --json` prints one JSON object with the contract's fields;
//! `--profile` accounts for every layer.

use crate::util::bin;

#[test]
fn bench_json_has_the_contract_fields() {
    let o = bin()
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
    assert_eq!(crate::util::assert_documented(&v), "eeglens-bench/1");
    for key in [
        "train_samples_per_s",
        "infer_samples_per_s",
        "actmax_steps_per_s",
        "actmax_restart_steps_per_s",
        "actmax_gains_steps_per_s",
    ] {
        let x = v[key].as_f64().unwrap_or_else(|| panic!("{key} missing in {stdout}"));
        assert!(x.is_finite() && x > 0.0, "{key} = {x}");
    }
    assert_eq!(v["threads"], 1);
    assert_eq!((v["train_batch"].as_u64(), v["infer_batch"].as_u64()), (Some(4), Some(4)));
    assert_eq!(v["actmax_restarts"], 16);
    // `eeglens interpret`'s default: 2 classes x 8 restarts x 8 windows.
    assert_eq!(v["actmax_gains_windows"], 128);
    assert_eq!(v["model"], "eegnet");
    assert!(v["cpu_model"].as_str().is_some_and(|s| !s.is_empty()));
}

#[test]
fn bench_rejects_an_unknown_model_in_one_line() {
    let o =
        bin().args(["bench", "--json", "--model", "alexnet", "--reps", "1"]).output().expect("eeglens runs");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("alexnet") && err.trim_end().lines().count() == 1, "{err}");
    assert!(err.contains("rvgg, rvgg-bn, vanputten, shallow, eegnet"), "the zoo's names: {err}");
}

#[test]
fn bench_profile_lists_every_layer_and_counts_page_faults() {
    let o = bin()
        .args(["bench", "--profile", "--json", "--model", "eegnet", "--batch", "4", "--threads", "1"])
        .args(["--reps", "1"])
        .output()
        .expect("eeglens runs");
    assert!(o.status.success(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&o.stdout).trim()).expect("one JSON document");
    assert_eq!(crate::util::assert_documented(&v), "eeglens-bench-profile/1");
    assert_eq!(v["model"], "eegnet");
    assert_eq!(v["batch"], 4);
    let layers = v["layers"].as_array().expect("layers");
    assert!(!layers.is_empty() && layers.iter().all(|l| l["forward_ms"].as_f64().is_some()));
    assert!(v["step_ms"].as_f64().is_some_and(|ms| ms > 0.0));
    if std::path::Path::new("/proc/self/stat").exists() {
        assert!(v["page_faults_per_step"].as_f64().is_some_and(|f| f >= 0.0));
    }
}

/// `--precision bf16` times bf16 inference beside fp32 where the CPU has
/// AVX512_BF16; without it (or with `EEGLENS_NO_AVX512`) it says so in one
/// line on stderr and reports `null`, never failing.
#[test]
fn bench_precision_bf16_times_bf16_beside_fp32_or_says_why_not() {
    let has_bf16 = eeglens_autodiff::kernels::KernelSet::avx512().is_some_and(|s| s.has_bf16());
    for forced_off in [false, true] {
        let mut cmd = bin();
        cmd.args(["bench", "--json", "--model", "eegnet", "--batch", "2", "--infer-batch", "4"]).args([
            "--threads",
            "1",
            "--reps",
            "1",
            "--restarts",
            "1",
            "--precision",
            "bf16",
        ]);
        cmd.env_remove(eeglens_autodiff::kernels::NO_AMX_VAR);
        if forced_off {
            cmd.env(eeglens_autodiff::kernels::NO_AVX512_VAR, "1");
        }
        let o = cmd.output().expect("eeglens runs");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "stderr: {err}");
        let v: serde_json::Value =
            serde_json::from_str(String::from_utf8_lossy(&o.stdout).trim()).expect("one JSON document");
        assert_eq!(crate::util::assert_documented(&v), "eeglens-bench/1");
        let bf16 = v["infer_bf16_samples_per_s"].as_f64();
        if has_bf16 && !forced_off {
            assert!(bf16.is_some_and(|x| x.is_finite() && x > 0.0), "{v}");
            assert!(!err.contains("--precision"), "{err}");
        } else {
            assert!(v["infer_bf16_samples_per_s"].is_null(), "{v}");
            let lines: Vec<&str> = err.lines().filter(|l| l.contains("--precision bf16")).collect();
            assert_eq!(lines.len(), 1, "one line says bf16 falls back: {err}");
            assert!(lines[0].contains("runs in fp32"), "{err}");
        }
    }
}

/// With `EEGLENS_NO_AMX` on a CPU with AMX, bf16 still runs (on
/// AVX512_BF16's `vdpbf16ps`) and one line on stderr says AMX is off.
#[test]
fn bench_precision_bf16_without_amx_runs_bf16_and_says_so_once() {
    if !eeglens_autodiff::kernels::KernelSet::avx512().is_some_and(|s| s.has_amx()) {
        eprintln!("bench_precision_bf16_without_amx_runs_bf16_and_says_so_once: skipped, no AMX here");
        return;
    }
    let mut cmd = bin();
    cmd.args(["bench", "--json", "--model", "eegnet", "--batch", "2", "--infer-batch", "4"])
        .args(["--threads", "1", "--reps", "1", "--restarts", "1", "--precision", "bf16"])
        .env_remove(eeglens_autodiff::kernels::NO_AVX512_VAR)
        .env(eeglens_autodiff::kernels::NO_AMX_VAR, "1");
    let o = cmd.output().expect("eeglens runs");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "stderr: {err}");
    let v: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&o.stdout).trim()).expect("one JSON document");
    assert!(v["infer_bf16_samples_per_s"].as_f64().is_some_and(|x| x.is_finite() && x > 0.0), "{v}");
    let lines: Vec<&str> = err.lines().filter(|l| l.contains("--precision bf16")).collect();
    assert_eq!(
        lines,
        ["eeglens: --precision bf16 runs on AVX512_BF16, not AMX: EEGLENS_NO_AMX is set"],
        "{err}"
    );
}

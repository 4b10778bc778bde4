//! `eeglens interpret` end to end on a tiny trained run: the JSON contract
//! scripts rely on, the files written next to it, and one-line errors for a
//! run without a checkpoint and for a layer or unit that does not exist.

use std::path::{Path, PathBuf};
use std::process::Output;

use eeglens_data::store::EpochStore;
use eeglens_train::toy::{toy_set, ToyConfig};
use eeglens_train::{train, TrainConfig};

use crate::util::{assert_one_line_error, assert_usage_error, bin, tmpdir};

/// A toy store and an R-VGG run trained on it for two epochs.
fn trained_run(dir: &Path) -> PathBuf {
    trained_model_run(dir, "rvgg")
}

/// A toy store and a run of `model` trained on it for two epochs.
fn trained_model_run(dir: &Path, model: &str) -> PathBuf {
    let data = dir.join("toy.safetensors");
    toy_set(&ToyConfig { windows: 6, ..ToyConfig::default() }).write(&data).expect("write toy store");
    let store = EpochStore::open(&data).expect("open toy store");
    let run = dir.join("run");
    let cfg = TrainConfig { model: model.into(), epochs: 2, ..TrainConfig::default() };
    train(&cfg, &store, &run, &mut |_| {}).expect("toy training");
    run
}

#[test]
fn the_deconvnet_reads_rvgg_bn_from_the_shared_seed_and_other_models_as_the_paper() {
    let d = tmpdir("deconv-seed");
    let rule = |run: &Path, extra: &[&str]| {
        let mut args = vec!["--json", "--read-anyway", "--method", "deconv", "--force"];
        args.extend_from_slice(extra);
        let o = interpret(run, &args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON document");
        v["methods"]["deconv"]["rule"].as_str().expect("the deconvnet's rule").to_string()
    };
    for (model, want) in [("rvgg", "deconvnet"), ("rvgg-bn", "deconvnet/shared")] {
        let dir = d.join(model);
        std::fs::create_dir_all(&dir).expect("model dir");
        let run = trained_model_run(&dir, model);
        assert_eq!(rule(&run, &[]), want, "{model}: the default reading");
        let other = if want == "deconvnet" { "shared" } else { "class" };
        assert_ne!(
            rule(&run, &["--deconv-seed", other]),
            want,
            "{model}: --deconv-seed {other} overrides it"
        );
    }
}

fn interpret(run: &Path, extra: &[&str]) -> Output {
    let small = ["--k", "3", "--restarts", "2", "--steps", "3", "--permutations", "99", "--quiet"];
    bin()
        .args(["interpret", "--run", run.to_str().expect("utf-8")])
        .args(small)
        .args(extra)
        .output()
        .expect("eeglens runs")
}

#[test]
fn interpret_json_has_the_contracted_shape_and_files_are_written() {
    let d = tmpdir("json");
    let run = trained_run(&d);
    let out_dir = d.join("out");
    let o = interpret(
        &run,
        &[
            "--json",
            "--read-anyway",
            "--out",
            out_dir.to_str().expect("utf-8"),
            "--layer",
            "features.0",
            "--unit",
            "3",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is one JSON document");
    assert_eq!(v["classes"], serde_json::json!(["F", "M"]));
    let build = v["build"].as_str().expect("the build that read the network");
    assert!(build.starts_with(concat!(env!("CARGO_PKG_VERSION"), "+")) && build.len() > 6, "{build}");
    for name in ["optimal", "actmax", "deconv"] {
        let m = &v["methods"][name];
        let n_freqs = m["freqs"].as_array().expect("freqs").len();
        assert!(n_freqs > 2);
        for c in ["F", "M"] {
            assert_eq!(m["psd"][c].as_array().expect("psd per class").len(), n_freqs);
        }
        let bands = m["bands"].as_array().expect("bands");
        let names: Vec<&str> = bands.iter().map(|b| b["name"].as_str().expect("band name")).collect();
        assert_eq!(names, ["delta", "theta", "alpha", "beta"]);
        for b in bands {
            for key in ["lo", "hi", "log_ratio", "p", "z"] {
                assert!(b[key].is_number(), "{key} in {b}");
            }
        }
        assert_eq!(m["channels"]["theta"].as_object().expect("channels per band").len(), 8);
        assert!(m["top_band"].is_null() || m["top_band"].is_string());
        // Optimal samples and the deconvnet rank the significant bands by z, activation
        // maximisation by contrast; the top band is the largest of its ranking among the bands
        // below alpha = 0.05.
        let by = if name == "actmax" { "contrast" } else { "z" };
        assert_eq!(m["rank"], by, "{}", m["rank"]);
        let best = bands
            .iter()
            .filter(|b| b["p"].as_f64().unwrap() < 0.05)
            .max_by(|a, b| a[by].as_f64().unwrap().total_cmp(&b[by].as_f64().unwrap()))
            .map(|b| b["name"].clone());
        assert_eq!(m["top_band"], best.unwrap_or(serde_json::Value::Null), "{by}");
    }
    assert_eq!(v["unit"]["layer"], "features.0");
    assert!(out_dir.join("interpret.json").exists());
    // --optimal-rank contrast: the earlier ranking, recorded as such.
    let out2 = d.join("out-contrast");
    let o2 = interpret(
        &run,
        &[
            "--json",
            "--read-anyway",
            "--method",
            "optimal",
            "--optimal-rank",
            "contrast",
            "--out",
            out2.to_str().unwrap(),
        ],
    );
    assert!(o2.status.success(), "{}", String::from_utf8_lossy(&o2.stderr));
    let v2: serde_json::Value = serde_json::from_slice(&o2.stdout).expect("one JSON document");
    assert_eq!(v2["methods"]["optimal"]["rank"], "contrast");
    assert!(v2["methods"]["optimal"].get("by_subject").is_none(), "windows permuted by default");
    // --optimal-permute subjects: recorded on the reading and said on the terminal.
    let out5 = d.join("out-subjects");
    let args5 = ["--read-anyway", "--method", "optimal", "--optimal-permute", "subjects", "--out"];
    let o5 = interpret(&run, &[&args5[..], &[out5.to_str().unwrap()]].concat());
    assert!(o5.status.success(), "{}", String::from_utf8_lossy(&o5.stderr));
    let text = String::from_utf8_lossy(&o5.stdout).to_string();
    let line = text.lines().find(|l| l.starts_with("optimal")).unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains("subjects permuted"), "{line}");
    let v5: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out5.join("interpret.json")).expect("written"))
            .expect("JSON");
    assert_eq!(v5["methods"]["optimal"]["by_subject"], true);
    // On the terminal, a reading ranked by z shows each band's z and says the top band is by z;
    // one ranked by contrast does neither.
    let text_out = d.join("out-text");
    let args = ["--read-anyway", "--method", "deconv", "--out", text_out.to_str().unwrap()];
    let o3 = interpret(&run, &args);
    assert!(o3.status.success(), "{}", String::from_utf8_lossy(&o3.stderr));
    let text = String::from_utf8_lossy(&o3.stdout).to_string();
    let line = text.lines().find(|l| l.starts_with("deconv")).unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains("(z ") && line.contains("top band none") != line.contains("(by z)"), "{line}");
    let o4 = interpret(&run, &[&args[..], &["--deconv-rank", "contrast", "--force"]].concat());
    assert!(o4.status.success(), "{}", String::from_utf8_lossy(&o4.stderr));
    let text = String::from_utf8_lossy(&o4.stdout).to_string();
    let line = text.lines().find(|l| l.starts_with("deconv")).unwrap_or_else(|| panic!("{text}"));
    assert!(!line.contains("(z ") && !line.contains("(by z)"), "{line}");
    let file =
        eeglens_nn::read_tensor_file(&out_dir.join("interpret.safetensors")).expect("tensors readable");
    // The default: gains per channel and band on 8 windows per restart.
    assert_eq!(v["methods"]["actmax"]["parameterisation"], "gains");
    assert_eq!(v["methods"]["actmax"]["windows_per_restart"], 8);
    assert_eq!(file.f32("actmax.patterns").expect("patterns").shape(), [2, 2 * 8, 8, 32]);
    assert_eq!(file.f32("actmax.gains").expect("gains").shape(), [2, 2, 8, 4]);
    assert_eq!(file.f32("unit.actmax.gains").expect("unit gains").shape(), [1, 2, 8, 4]);
    assert_eq!(file.f32("deconv.maps").expect("maps").shape(), [6, 8, 32]);
}

#[test]
fn a_model_at_chance_is_not_read_and_says_so() {
    let d = tmpdir("chance");
    let data = d.join("toy.safetensors");
    toy_set(&ToyConfig { windows: 6, effect: 0.0, ..ToyConfig::default() }).write(&data).expect("write");
    let store = EpochStore::open(&data).expect("open");
    let run = d.join("run");
    let cfg = TrainConfig {
        model: "rvgg".into(),
        epochs: 1,
        lr: 1e-7,
        stuck_epochs: None,
        ..TrainConfig::default()
    };
    train(&cfg, &store, &run, &mut |_| {}).expect("training");
    let o = interpret(&run, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("NOTHING LEARNED"), "{text}");
    assert!(!text.contains("top band"), "a method was read: {text}");
    let v: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(run.join("interpret/interpret.json")).expect("written"),
    )
    .expect("JSON");
    assert_eq!(v["model"]["learned"], serde_json::json!(false));
    assert!(v["methods"].as_object().expect("methods object").is_empty(), "{}", v["methods"]);
}

#[test]
fn bad_input_is_one_clear_line() {
    let d = tmpdir("errors");
    let run = trained_run(&d);
    let o = interpret(&run, &["--layer", "features.99", "--unit", "0"]);
    assert_one_line_error(&o, &["features.99", "features.0 (Conv2d)", "classifier.6 (Linear)"]);
    let o = interpret(&run, &["--layer", "features.0", "--unit", "99"]);
    assert_one_line_error(&o, &["features.0", "16 units", "99"]);
    let o = interpret(&run, &["--method", "saliency"]);
    assert_usage_error(&o, &["'saliency'", "--method", "all, optimal, actmax, deconv"]);
    let o = interpret(&run, &["--actmax-param", "pixels"]);
    assert_usage_error(&o, &["'pixels'", "--actmax-param", "gains, samples, spectral"]);
    // The same run without its checkpoints.
    for f in std::fs::read_dir(&run).expect("run dir") {
        let p = f.expect("entry").path();
        if p.extension().is_some_and(|e| e == "safetensors") {
            std::fs::remove_file(p).expect("remove checkpoint");
        }
    }
    let o = interpret(&run, &[]);
    assert_one_line_error(&o, &["no checkpoint", "train it first"]);
    // A cause the message already names is not repeated.
    let o = interpret(&d.join("no-such-run"), &[]);
    assert_one_line_error(&o, &["no-such-run", "config.json"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.matches("os error 2").count(), 1, "{err}");
}

/// `--precision bf16` scores the windows in bf16 where the CPU has AVX512_BF16 (fp32
/// elsewhere, said once on stderr), records which ran in interpret.json, and reaches the
/// fp32 verdict; with the AVX-512 kernels off it is fp32 and says why.
#[test]
fn precision_bf16_is_recorded_and_keeps_the_fp32_verdict() {
    use eeglens_autodiff::kernels::{KernelConfig, NO_AVX512_VAR};
    let d = tmpdir("precision");
    let run = trained_run(&d);
    let read = |precision: &str, out: &str, env: Option<&str>| {
        let out = d.join(out);
        let mut cmd = bin();
        cmd.args(["interpret", "--run", run.to_str().expect("utf-8"), "--method", "optimal", "--k", "3"])
            .args(["--permutations", "99", "--quiet", "--json", "--precision", precision])
            .args(["--out", out.to_str().expect("utf-8")])
            .env_remove(NO_AVX512_VAR);
        if let Some(var) = env {
            cmd.env(var, "1");
        }
        let o = cmd.output().expect("eeglens runs");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let printed: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON document");
        let text = std::fs::read_to_string(out.join("interpret.json")).expect("interpret.json written");
        let written: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(printed["precision"], written["precision"]);
        (written, String::from_utf8_lossy(&o.stderr).into_owned())
    };
    let (fp32, _) = read("fp32", "fp32", None);
    assert_eq!(fp32["precision"], "fp32");
    let (bf16, err) = read("bf16", "bf16", None);
    let config = KernelConfig::of_process();
    match config.bf16_missing() {
        None => assert_eq!(bf16["precision"], "bf16"),
        Some(why) => {
            assert_eq!(bf16["precision"], "fp32");
            assert!(err.contains(&format!("--precision bf16 runs in fp32: {why}")), "{err}");
        }
    }
    assert!(fp32["model"]["learned"].is_boolean(), "{}", fp32["model"]);
    assert_eq!(bf16["model"]["learned"], fp32["model"]["learned"], "{}\n{}", bf16["model"], fp32["model"]);
    assert_eq!(bf16["model"]["n_windows"], fp32["model"]["n_windows"]);
    // The portable kernels have no bf16: fp32, said once.
    let (portable, err) = read("bf16", "portable", Some(NO_AVX512_VAR));
    assert_eq!(portable["precision"], "fp32");
    let said: Vec<&str> = err.lines().filter(|l| l.contains("--precision bf16")).collect();
    assert_eq!(said.len(), 1, "{err}");
    assert!(said[0].ends_with("runs in fp32: EEGLENS_NO_AVX512 is set") || !config.cpu_has_avx512, "{err}");
}

//! A regression on a numeric target, end to end: `synth --age-effect alpha-peak` (the alpha
//! peak rises with age) → `prepare --label age --target numeric` → `train` → `eval`; the same
//! on a set without the effect must not pass the test of the subjects' r (so the test can
//! fail); the interpretation and report of both (`regression_interpret_cli`); a
//! cross-validation of the regression; and the refusals (numeric `--label` without a choice,
//! `--model auto`, `interpret` and `report` over the folds of a regression).

use std::path::{Path, PathBuf};

use eeglens_data::store::NumericTarget;
use eeglens_train::toy::{toy_set, ToyConfig};

use crate::util::{assert_one_line_error, eeglens, ok, s, tmpdir};

/// 40 subjects of one minute (20 windows each), no sex effect; with `age_effect` the alpha
/// peak follows age. Split 0.3 test (12 subjects), 0.2 validation.
fn numeric_store(dir: &Path, name: &str, age_effect: &str) -> PathBuf {
    let root = dir.join(name);
    ok(&eeglens(&[
        "synth",
        "--out",
        s(&root),
        "--subjects",
        "40",
        "--minutes",
        "1",
        "--seed",
        "1",
        "--effect-size",
        "0",
        "--age-effect",
        age_effect,
        "--quiet",
    ]));
    let store = dir.join(format!("{name}.safetensors"));
    let out = ok(&eeglens(&[
        "prepare",
        s(&root),
        "--label",
        "age",
        "--target",
        "numeric",
        "--test",
        "0.3",
        "--val",
        "0.2",
        "--out",
        s(&store),
    ]));
    assert!(out.contains("kept as a number per window"), "{out}");
    store
}

/// ShallowConvNet, 5 epochs, then `eval --json` of the test split.
fn train_and_eval(data: &Path, run: &Path) -> serde_json::Value {
    let out = ok(&eeglens(&[
        "train",
        "--data",
        s(data),
        "--out",
        s(run),
        "--model",
        "shallow",
        "--epochs",
        "5",
        "--quiet",
    ]));
    assert!(out.contains("per subject MAE"), "{out}");
    let v: serde_json::Value =
        serde_json::from_str(&ok(&eeglens(&["eval", "--run", s(run), "--json"]))).expect("one JSON document");
    assert_eq!(v["schema"], "eeglens-eval-regression/1");
    v
}

#[test]
fn an_age_regression_learns_the_alpha_peak_and_a_set_without_it_does_not() {
    let d = tmpdir("regression");
    let data = numeric_store(&d.0, "age", "alpha-peak");
    let st = eeglens_data::store::EpochStore::open(&data).expect("store");
    let t = st.target().expect("a numeric store");
    assert_eq!((t.column.as_str(), t.unit.as_deref()), ("age", Some("year")));
    assert!(t.values.iter().all(|v| (5.0..=21.0).contains(v)), "ages in 5-21 years");

    let v = train_and_eval(&data, &d.0.join("run"));
    let (subject, sig) = (&v["subject"], &v["significance"]);
    assert_eq!((v["n_subjects"].as_u64(), subject["n"].as_u64()), (Some(12), Some(12)));
    // Measured on this set (seed 1): per subject R² 0.563, r 0.796, p 0.001; per window R² 0.324.
    let r2 = subject["r2"].as_f64().expect("R²");
    assert!(r2 > 0.3, "per-subject R² {r2}");
    assert!(v["window"]["r2"].as_f64().expect("R²") > 0.1, "{v}");
    assert_eq!(sig["learned"], true, "{sig}");
    assert_eq!(v["target"]["unit"], "year");
    // The training split's scale is recorded in the run, and metrics.jsonl has the figures.
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.0.join("run/config.json")).expect("config"))
            .expect("JSON");
    assert!(config["data"]["target"]["sd"].as_f64().is_some_and(|sd| sd > 1.0), "{config}");
    let metrics = std::fs::read_to_string(d.0.join("run/metrics.jsonl")).expect("metrics");
    let last: serde_json::Value =
        serde_json::from_str(metrics.lines().last().expect("epochs")).expect("JSON");
    for key in ["train_regression", "val_regression", "val_subject_regression"] {
        for f in ["mae", "r2", "r"] {
            assert!(last[key][f].is_number(), "{key}.{f}: {last}");
        }
    }

    // The interpretation reads the lowest against the highest predictions, and the report shows it.
    crate::regression_interpret_cli::check_learned(&d.0.join("run"), &data);
    assert_one_line_error(&eeglens(&["baseline", "--data", s(&data)]), &["numeric target `age`", "baseline"]);
    // Model selection ranks by a classification figure.
    assert_one_line_error(
        &eeglens(&["train", "--data", s(&data), "--out", s(&d.0.join("auto")), "--model", "auto"]),
        &["--model auto", "--model shallow"],
    );

    // The control: no age effect, the same pipeline. Measured: per subject R² -0.032, r -0.025, p 0.53.
    let null = numeric_store(&d.0, "null", "none");
    let v = train_and_eval(&null, &d.0.join("null-run"));
    assert_eq!(v["significance"]["learned"], false, "{v}");
    assert!(v["subject"]["r2"].as_f64().expect("R²") < 0.2, "{v}");
    // Its predictions do not follow the age: nothing is read.
    crate::regression_interpret_cli::check_not_learned(&d.0.join("null-run"));

    // A 3-fold cross-validation of a regression (a small toy store whose target is its class
    // plus noise): each subject tested once, pooled out of fold.
    let toy = d.0.join("toy.safetensors");
    let mut set =
        toy_set(&ToyConfig { subjects: [8, 2, 2], windows: 4, effect: 1.5, ..ToyConfig::default() });
    let values =
        set.y.iter().zip(&set.subject).map(|(&y, &s)| 8.0 + 4.0 * y as f32 + (s % 3) as f32).collect();
    set.target = Some(NumericTarget { column: "age".into(), unit: None, values });
    set.write(&toy).expect("write toy store");
    let cv = d.0.join("cv");
    ok(&eeglens(&[
        "train",
        "--data",
        s(&toy),
        "--out",
        s(&cv),
        "--folds",
        "3",
        "--model",
        "rvgg",
        "--epochs",
        "1",
        "--quiet",
    ]));
    let e: serde_json::Value =
        serde_json::from_str(&ok(&eeglens(&["eval", "--run", s(&cv), "--json"]))).expect("one JSON document");
    assert_eq!(e["schema"], "eeglens-eval-folds-regression/1");
    let folds = e["folds"].as_array().expect("folds");
    assert_eq!(folds.len(), 3);
    let tested: usize = folds.iter().map(|f| f["subjects_tested"].as_array().expect("ids").len()).sum();
    assert_eq!(e["pooled_subject"]["n"].as_u64(), Some(tested as u64));
    assert_eq!(tested, 12, "every subject tested once");
    let mean_mae: f64 = folds.iter().map(|f| f["subject"]["mae"].as_f64().expect("MAE")).sum::<f64>() / 3.0;
    let mean = e["mean"]["subject_mae"].as_f64().expect("mean");
    assert!((mean - mean_mae).abs() < 1e-9, "{mean} {mean_mae}");
    let text = ok(&eeglens(&["eval", "--run", s(&cv)]));
    assert!(text.contains("pooled out of fold, per subject") && text.contains("over 3 folds"), "{text}");
    // A regression is read on one run, not over folds.
    for cmd in ["interpret", "report"] {
        assert_one_line_error(
            &eeglens(&[cmd, "--run", s(&cv)]),
            &["holds fold runs of a regression on `age`", "one run only"],
        );
    }
}

#[test]
fn a_numeric_label_needs_a_choice_and_the_choices_exclude_each_other() {
    let d = tmpdir("regression-refusals");
    let root = d.0.join("bids");
    ok(&eeglens(&["synth", "--out", s(&root), "--subjects", "8", "--minutes", "0.2", "--quiet"]));
    let store = d.0.join("e.safetensors");
    let prepare = |more: &[&str]| {
        let mut args = vec!["prepare", s(&root), "--label", "age", "--out", s(&store)];
        args.extend(more);
        eeglens(&args)
    };
    assert_one_line_error(
        &prepare(&[]),
        &["holds numbers", "--bins", "--target numeric", "categorical column"],
    );
    assert_one_line_error(
        &prepare(&["--bins", "2", "--target", "numeric"]),
        &["--bins and --target numeric"],
    );
    // A column of words is no numeric target.
    let sex = eeglens(&["prepare", s(&root), "--label", "sex", "--target", "numeric", "--out", s(&store)]);
    assert_one_line_error(&sex, &["participants.tsv", "not a number", "--target numeric"]);
    assert_one_line_error(
        &prepare(&["--target", "numeric", "--shard", "0/2"]),
        &["--shard", "--target numeric"],
    );
    assert!(!store.exists());
    let bad = eeglens(&["synth", "--out", s(&d.0.join("x")), "--age-effect", "alpha"]);
    assert_one_line_error(&bad, &["--age-effect", "alpha-peak"]);
}

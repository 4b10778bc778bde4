//! `eeglens validate` end to end on a tiny grid (8 subjects, 1 epoch, one
//! effect cell and one null): the schema of validate.json, a rerun that does
//! nothing, the refusal of an output directory of another grid, and a job
//! array's cells merged (and a missing cell named).

use std::path::Path;
use std::process::Output;

use crate::util::{assert_one_line_error, bin, fresh_path, ok};

/// The tiny grid: cell 0 plants theta at the central channels, cell 1 is a null.
const TINY: [&str; 20] = [
    "--subjects",
    "8",
    "--minutes",
    "1",
    "--epochs",
    "1",
    "--bands",
    "theta",
    "--places",
    "central",
    "--sizes",
    "0,3",
    "--seeds",
    "0",
    "--nulls",
    "1",
    "--restarts",
    "2",
    "--steps",
    "2",
];

fn validate(out: &Path, extra: &[&str]) -> Output {
    bin()
        .arg("validate")
        .args(TINY)
        .args(["--permutations", "99", "--quiet", "--out"])
        .arg(out)
        .args(extra)
        .output()
        .expect("the binary runs")
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn tiny_grid_schema_rerun_refusal_and_merge() {
    let out = fresh_path("grid");
    let stdout = ok(&validate(&out, &["--json"]));
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("--json prints one JSON document");
    crate::util::assert_documented(&doc);
    assert_eq!(doc, json(&out.join("validate.json")));
    assert_eq!(doc["schema"], "eeglens-validate/1");
    assert_eq!(doc["grid_hash"].as_str().unwrap().len(), 16);
    assert_eq!(doc["grid"]["subjects"], 8);
    let cells = doc["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 2);
    let effect = &cells[0];
    assert_eq!(effect["band"], serde_json::json!([4.0, 8.0]));
    assert_eq!(effect["channels"], serde_json::json!(["FC3", "FCz", "FC4", "C3", "C4"]));
    assert_eq!(effect["size"], 3.0);
    assert_eq!(effect["seed"], 0);
    for key in ["accuracy", "subject_accuracy"] {
        assert!(effect["baseline"][key].is_number() && effect["model"][key].is_number(), "{key}");
    }
    assert!(effect["model"]["learned"].is_boolean());
    // The default model is selection on validation: the choice and both candidates are recorded.
    let sel = &effect["model"]["selection"];
    assert!(sel["chosen"].is_string(), "{sel}");
    assert_eq!(
        sel["candidates"].as_array().map(Vec::len),
        Some(eeglens_train::select::AUTO_CANDIDATES.len()),
        "{sel}"
    );
    for m in ["optimal", "actmax", "deconv"] {
        let s = &effect["methods"][m];
        assert!(s["top_band"].is_null() || s["top_band"].is_string(), "{m}");
        assert!(s["band_hit"].is_boolean(), "{m}");
        // A network at chance is not read (one epoch on 8 subjects usually is): no claim, no ranks.
        let ranks = s["channel_ranks"].as_array().unwrap();
        if s["read"].as_bool().unwrap() {
            assert_eq!(ranks.len(), 5, "{m}: one rank per planted channel");
            assert!(ranks.iter().all(|r| (1..=24).contains(&r["rank"].as_u64().unwrap())), "{m}");
        } else {
            assert!(ranks.is_empty() && s["top_band"].is_null() && !s["band_hit"].as_bool().unwrap(), "{m}");
        }
    }
    // Optimal samples tested over subjects ride along as a variant wherever optimal samples were read.
    let by_subject = &effect["variants"]["optimal-by-subject"];
    assert_eq!(
        by_subject.is_object(),
        effect["methods"]["optimal"]["read"] == true,
        "{}",
        effect["variants"]
    );
    let null = &cells[1];
    assert!(null["band"].is_null() && null["size"] == 0.0);
    assert!(null["methods"]["actmax"]["channel_ranks"].as_array().unwrap().is_empty());
    for stage in ["synth", "prepare", "baseline", "train", "interpret", "total"] {
        assert!(effect["seconds"][stage].as_f64().unwrap() >= 0.0, "{stage}");
    }
    let s = &doc["summary"];
    assert_eq!((s["effect_cells"].as_u64(), s["null_cells"].as_u64()), (Some(1), Some(1)));
    assert!(s["checks"].as_array().unwrap().iter().any(|c| c["key"] == "actmax.null_claims"));
    let html = std::fs::read_to_string(out.join("validate.html")).unwrap();
    assert!(
        html.starts_with("<!DOCTYPE html>") && html.contains("Null data sets") && !html.contains("<script")
    );

    // A rerun finds both cells done and recomputes nothing.
    let cell_json = out.join("cells").join(effect["name"].as_str().unwrap()).join("cell.json");
    let before = std::fs::read(&cell_json).unwrap();
    let o =
        bin().arg("validate").args(TINY).args(["--permutations", "99", "--out"]).arg(&out).output().unwrap();
    let text = ok(&o);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.matches("done before, skipped").count(), 2, "{err}");
    assert!(text.contains("validate.json"), "{text}");
    assert_eq!(std::fs::read(&cell_json).unwrap(), before);

    // A cell computed by another build of eeglens is refused, not reused: its defaults and verdict may differ.
    let mut edited: serde_json::Value = serde_json::from_slice(&before).unwrap();
    assert!(
        edited["build"].as_str().is_some_and(|b| b.starts_with(env!("CARGO_PKG_VERSION"))),
        "{}",
        edited["build"]
    );
    edited["build"] = "0.0.0+0123456789ab".into();
    let edited = serde_json::to_vec_pretty(&edited).unwrap();
    std::fs::write(&cell_json, &edited).unwrap();
    let o =
        bin().arg("validate").args(TINY).args(["--permutations", "99", "--out"]).arg(&out).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("another build") && err.contains("--force"), "{err}");
    assert_eq!(std::fs::read(&cell_json).unwrap(), edited, "the old cell is left as it was");
    std::fs::write(&cell_json, &before).unwrap();

    // Another grid in the same directory is refused without --force.
    let mut other: Vec<&str> = TINY.to_vec();
    other[11] = "0,2";
    let o = bin().arg("validate").args(&other).arg("--out").arg(&out).output().unwrap();
    let err = assert_one_line_error(&o, &[]);
    assert!(err.contains("another grid") && err.contains("--force"), "{err}");
    assert_eq!(std::fs::read(&cell_json).unwrap(), before, "nothing was touched");

    // A job array: task 0 of 2 runs cell 0 only; merging names the missing cell 1.
    let array = fresh_path("array");
    let text = ok(&validate(&array, &["--cell", "0/2"]));
    assert!(text.contains("--merge"), "{text}");
    assert!(array.join("cells").join(cells[0]["name"].as_str().unwrap()).join("cell.json").is_file());
    assert!(!array.join("validate.json").exists());
    let o = bin().args(["validate", "--merge"]).arg(&array).output().unwrap();
    let err = assert_one_line_error(&o, &[]);
    assert!(err.contains("1 of 2 cells missing") && err.contains("001-null0-s0-seed0"), "{err}");
    // Task 1 of 2 elsewhere (its cell copied from the full run, which computed the same cell);
    // merging both gives the whole grid.
    let array2 = fresh_path("array2");
    let name1 = cells[1]["name"].as_str().unwrap();
    std::fs::create_dir_all(array2.join("cells").join(name1)).unwrap();
    std::fs::copy(
        out.join("cells").join(name1).join("cell.json"),
        array2.join("cells").join(name1).join("cell.json"),
    )
    .unwrap();
    let merged = fresh_path("merged");
    let o = bin()
        .args(["validate", "--json", "--merge"])
        .arg(&array)
        .arg(&array2)
        .arg("--out")
        .arg(&merged)
        .output()
        .unwrap();
    let doc2: serde_json::Value = serde_json::from_str(&ok(&o)).unwrap();
    assert_eq!(doc2["grid_hash"], doc["grid_hash"]);
    assert_eq!(doc2["cells"].as_array().unwrap().len(), 2);
    assert!(merged.join("validate.html").is_file());
    // --check: a grid this small misses targets, which is exit code 3 (not 1, not a usage error's 2).
    let o = bin()
        .args(["validate", "--check", "--force", "--merge"])
        .arg(&array)
        .arg(&array2)
        .arg("--out")
        .arg(&merged)
        .output()
        .unwrap();
    let s = &doc2["summary"];
    let fails = s["checks"].as_array().unwrap().iter().any(|c| c["status"] == "fail");
    assert!(fails || s["nothing_learned"] == true, "the tiny grid passes every target: {s}");
    assert_eq!(o.status.code(), Some(3), "{}", String::from_utf8_lossy(&o.stderr));
    // Merging a directory twice duplicates every cell.
    let o = bin().args(["validate", "--merge"]).arg(&array).arg(&array).output().unwrap();
    assert!(assert_one_line_error(&o, &[]).contains("twice"));

    // A folder of the user's is never used.
    let user = fresh_path("user");
    std::fs::create_dir_all(&user).unwrap();
    std::fs::write(user.join("notes.txt"), "mine").unwrap();
    let err = assert_one_line_error(&validate(&user, &["--force"]), &[]);
    assert!(err.contains("not an `eeglens validate` output"), "{err}");

    for d in [out, array, array2, merged, user] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn bad_flags_are_one_line_errors() {
    let out = fresh_path("flags");
    for (flags, needle) in [
        (vec!["--bands", "gamma"], "gamma"),
        (vec!["--places", "x:Fz+Oz"], "Oz"),
        (vec!["--cell", "2/2"], "--cell"),
        (vec!["--sizes", "3,3"], "twice"),
        (vec!["--folds", "1"], "folds 1"),
        (vec!["--threads", "0"], "threads 0"),
        (vec!["--threads", "100000"], "--threads 100000"),
        (vec!["--montage", "biosemi64"], "montage `biosemi64`"),
        (vec!["--hbn", "--format", "vhdr"], "format"),
        (vec!["--head-model", "bem"], "head model"),
    ] {
        let o = bin().arg("validate").args(&flags).arg("--out").arg(&out).output().unwrap();
        let err = assert_one_line_error(&o, &[]);
        assert!(err.contains(needle), "{flags:?}: {err}");
    }
    assert!(!out.exists(), "nothing is written for bad flags");
    let o = bin().args(["validate", "--quick", "--list"]).output().unwrap();
    assert_eq!(ok(&o).lines().count(), 5);
}

/// `--folds K`: each cell is a K-fold cross-validation whose figures and reading cover every
/// subject once, each tested by the fold that never saw it.
#[test]
fn folds_grid_reads_every_subject_out_of_fold() {
    let out = fresh_path("grid-folds");
    let stdout = ok(&validate(&out, &["--json", "--model", "shallow", "--folds", "2"]));
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("--json prints one JSON document");
    assert_eq!(doc["grid"]["folds"], 2);
    assert!(
        doc["interpret_note"].as_str().unwrap().contains("2-fold cross-validation"),
        "{}",
        doc["interpret_note"]
    );
    for cell in doc["cells"].as_array().unwrap() {
        let model = &cell["model"];
        // All 8 subjects are tested, not the store's test split (2 of them).
        assert_eq!(model["n_subjects"], 8, "{model}");
        assert_eq!(model["fold_models"], serde_json::json!(["shallow", "shallow"]), "{model}");
        assert!(model["best_epoch"].is_null(), "{model}");
        let run = out.join("cells").join(cell["name"].as_str().unwrap()).join("run");
        for f in ["fold-0", "fold-1"] {
            assert!(run.join(f).join("config.json").is_file(), "{f}");
            assert!(!run.join(f).join("checkpoint-last.safetensors").exists(), "{f}: used files are removed");
        }
        let read = json(&run.join("interpret").join("interpret.json"));
        assert_eq!(read["model"]["split"], "out-of-fold", "{read}");
        assert_eq!(read["folds"], 2, "{}", read["folds"]);
    }
    // A grid with folds is another grid: its hash differs from the same grid without them.
    let o = bin().arg("validate").args(TINY).args(["--model", "shallow", "--list"]).output().unwrap();
    let o2 = bin()
        .arg("validate")
        .args(TINY)
        .args(["--model", "shallow", "--folds", "2", "--list"])
        .output()
        .unwrap();
    let hash = |o: &Output| String::from_utf8_lossy(&o.stderr).trim().rsplit(' ').next().unwrap().to_string();
    assert_ne!(hash(&o), hash(&o2));
}

/// `--hbn`: every cell is recorded on EGI's 129-electrode net in EEGLAB files with HBN's event
/// codes, and prepared from them like a Healthy Brain Network data set.
#[test]
fn hbn_grid_records_on_the_129_electrode_net_in_eeglab_files() {
    let out = fresh_path("grid-hbn");
    // The tiny grid's effect cell alone.
    let mut tiny = TINY;
    let at = tiny.iter().position(|&a| a == "--sizes").unwrap() + 1;
    tiny[at] = "3";
    let o = bin()
        .arg("validate")
        .args(tiny)
        .args(["--model", "shallow", "--hbn", "--keep-data", "--permutations", "99", "--json"])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_str(&ok(&o)).expect("--json prints one JSON document");
    crate::util::assert_documented(&doc);
    let rec = &doc["grid"]["recording"];
    assert_eq!(
        (rec["montage"].as_str(), rec["format"].as_str(), rec["head_model"].as_str()),
        (Some("hydrocel129"), Some("set"), Some("sphere")),
        "{rec}"
    );
    let cells = doc["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 1);
    let dir = out.join("cells").join(cells[0]["name"].as_str().unwrap());
    let eeg = dir.join("bids").join("sub-001").join("eeg");
    assert!(eeg.join("sub-001_task-RestingState_eeg.set").is_file());
    assert!(eeg.join("sub-001_task-RestingState_eeg.fdt").is_file());
    assert!(cells[0]["baseline"]["accuracy"].as_f64().is_some(), "{}", cells[0]);
    let html = std::fs::read_to_string(out.join("validate.html")).unwrap();
    assert!(html.contains("hydrocel129 electrodes in set files"));
    // Another recording is another grid.
    let list = |extra: &[&str]| {
        let o = bin().arg("validate").args(TINY).args(extra).arg("--list").output().unwrap();
        String::from_utf8_lossy(&o.stderr).trim().rsplit(' ').next().unwrap().to_string()
    };
    assert_ne!(list(&[]), list(&["--hbn"]));
    assert_eq!(
        list(&["--hbn"]),
        list(&["--montage", "hydrocel129", "--format", "set", "--head-model", "sphere"])
    );
    let _ = std::fs::remove_dir_all(out);
}

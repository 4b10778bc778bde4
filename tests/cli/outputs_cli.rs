//! What every subcommand does with the files it writes: an existing output is
//! replaced only with `--force`, an input is never written over (not even
//! with `--force`), and a write that fails (here: a full disk, simulated by a
//! file-size limit) leaves the old file whole and no temporary behind.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use eeglens_autodiff::{Rng, Tensor};
use eeglens_nn::models::rvgg;
use eeglens_nn::{write_tensor_file, ModelSpec};
use eeglens_train::toy::{toy_set, ToyConfig};

use crate::util::{assert_one_line_error, eeglens, ok, s, tmpdir, BIN};

/// Runs eeglens with files limited to `kib` KiB, as on a disk that fills up:
/// a write past the limit fails with "File too large" (SIGXFSZ is ignored).
fn run_on_full_disk<S: AsRef<std::ffi::OsStr>>(kib: u64, args: &[S]) -> Output {
    Command::new("bash")
        .arg("-c")
        .arg(format!("ulimit -f {kib}; trap '' XFSZ; exec \"$0\" \"$@\""))
        .arg(BIN)
        .args(args)
        .output()
        .expect("bash runs")
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Names of write temporaries left in `dir`.
fn temporaries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".tmp-") || n.ends_with(".tmp"))
        .collect()
}

fn toy(dir: &Path) -> PathBuf {
    let p = dir.join("toy.safetensors");
    toy_set(&ToyConfig { windows: 6, ..ToyConfig::default() }).write(&p).expect("write toy store");
    p
}

#[test]
fn prepare_replaces_a_store_only_with_force_and_never_a_file_of_the_dataset() {
    let d = tmpdir("prepare");
    let bids = d.join("bids");
    ok(&eeglens(&["synth", "--out", s(&bids), "--subjects", "6", "--minutes", "0.3", "--quiet"]));
    let store = d.join("e.safetensors");
    let prepare = |extra: &[&str]| -> Vec<String> {
        let args = ["prepare", s(&bids), "--label", "sex", "--out"];
        args.iter().chain(extra).map(|a| a.to_string()).collect()
    };
    ok(&eeglens(&prepare(&[s(&store)])));
    let first = read(&store);
    assert_one_line_error(&eeglens(&prepare(&[s(&store)])), &["e.safetensors: exists", "--force"]);
    assert_eq!(read(&store), first);
    ok(&eeglens(&prepare(&[s(&store), "--split-seed", "1", "--force"])));
    let second = read(&store);

    // The dataset's own files: refused even with --force.
    let recording = std::fs::read_dir(bids.join("sub-001/eeg"))
        .expect("subject folder")
        .map(|e| e.expect("entry").path())
        .find(|p| p.extension().is_some_and(|x| x == "edf"))
        .expect("a recording");
    let before = read(&recording);
    let o = eeglens(&prepare(&[s(&recording), "--force"]));
    assert_one_line_error(&o, &["is a recording of the dataset"]);
    assert_eq!(read(&recording), before);
    let participants = bids.join("participants.tsv");
    let o = eeglens(&prepare(&[s(&participants), "--force"]));
    assert_one_line_error(&o, &["participants.tsv", "participants table"]);
    let sidecar = bids.join("sub-001/eeg/sub-001_task-RestingState_eeg.json");
    let o = eeglens(&prepare(&[s(&sidecar), "--force"]));
    assert_one_line_error(&o, &["beside the recording"]);

    // A full disk: the store written before stays whole.
    let o = run_on_full_disk(4, &prepare(&[s(&store), "--split-seed", "2", "--force"]));
    assert_one_line_error(&o, &["e.safetensors"]);
    assert_eq!(read(&store), second);
    assert_eq!(temporaries(&d), Vec::<String>::new());

    // synth into a directory that holds files.
    let o = eeglens(&["synth", "--out", s(&bids), "--subjects", "2", "--minutes", "0.2"]);
    assert_one_line_error(&o, &["bids: exists and is not empty", "--force"]);
    ok(&eeglens(&["synth", "--out", s(&bids), "--subjects", "2", "--minutes", "0.2", "--force", "--quiet"]));

    // demo into a directory of the user's: refused before anything is written.
    let mine = d.join("mine");
    std::fs::create_dir_all(&mine).expect("dir");
    std::fs::write(mine.join("epochs.safetensors"), "mine").expect("write");
    std::fs::write(mine.join("notes.txt"), "mine").expect("write");
    let o = eeglens(&["demo", "--out", s(&mine)]);
    assert_one_line_error(&o, &["holds `notes.txt`, which `eeglens demo` did not write"]);
    assert_eq!(std::fs::read_dir(&mine).expect("dir").count(), 2);
    assert_eq!(read(&mine.join("epochs.safetensors")), b"mine");
}

#[test]
fn forward_never_writes_over_its_input() {
    let d = tmpdir("forward");
    let spec = ModelSpec { n_channels: 8, n_samples: 32, n_classes: 2 };
    let model = rvgg(&spec, &mut Rng::new(0)).expect("R-VGG builds");
    let weights = d.join("w.safetensors");
    write_tensor_file(&weights, &model.named_params(), &[], &BTreeMap::new()).expect("weights");
    let input = d.join("x.safetensors");
    let x = Tensor::from_vec(&[2, 1, 8, 32], (0..512).map(|i| (i as f32 * 0.1).sin()).collect()).expect("x");
    write_tensor_file(&input, &[("input".to_string(), &x)], &[], &BTreeMap::new()).expect("input");
    let (w0, x0) = (read(&weights), read(&input));
    let forward = |out: &Path, force: bool| {
        let mut args = vec!["forward", "--weights", s(&weights), "--input", s(&input), "--out", s(out)];
        if force {
            args.push("--force");
        }
        eeglens(&args)
    };
    assert_one_line_error(&forward(&input, true), &["x.safetensors: is the --input"]);
    // Another spelling of the same file is the same file.
    assert_one_line_error(&forward(&d.join(".").join("x.safetensors"), true), &["is the --input"]);
    assert_one_line_error(&forward(&weights, true), &["w.safetensors: is the --weights"]);
    assert_eq!((read(&weights), read(&input)), (w0, x0));
    let out = d.join("y.safetensors");
    ok(&forward(&out, false));
    assert_one_line_error(&forward(&out, false), &["y.safetensors: exists", "--force"]);
    ok(&forward(&out, true));
    assert_eq!(temporaries(&d), Vec::<String>::new());
}

#[test]
fn train_interpret_report_and_baseline_keep_what_exists_and_what_they_read() {
    let d = tmpdir("run");
    let data = toy(&d);
    let run_dir = d.join("run");

    // train into a directory of the user's.
    let mine = d.join("mine");
    std::fs::create_dir_all(&mine).expect("dir");
    std::fs::write(mine.join("notes.txt"), "mine").expect("write");
    let o = eeglens(&[
        "train",
        "--model",
        "rvgg",
        "--data",
        s(&data),
        "--out",
        s(&mine),
        "--epochs",
        "1",
        "--threads",
        "1",
    ]);
    assert_one_line_error(&o, &["mine: exists and holds `notes.txt` but no run", "--force"]);
    assert_eq!(std::fs::read_dir(&mine).expect("dir").count(), 1);

    let o = eeglens(&[
        "train",
        "--model",
        "rvgg",
        "--data",
        s(&data),
        "--out",
        s(&run_dir),
        "--epochs",
        "2",
        "--threads",
        "1",
        "--quiet",
    ]);
    ok(&o);

    // interpret: an earlier interpretation is replaced only with --force.
    let small = ["--k", "3", "--restarts", "2", "--steps", "2", "--permutations", "19", "--read-anyway"];
    let interpret = |extra: &[&str]| -> Vec<String> {
        let args = ["interpret", "--run", s(&run_dir)];
        args.iter().chain(&small).chain(extra).map(|a| a.to_string()).collect()
    };
    ok(&eeglens(&interpret(&[])));
    let dir = run_dir.join("interpret");
    let (json, tensors) = (dir.join("interpret.json"), dir.join("interpret.safetensors"));
    let (j0, t0) = (read(&json), read(&tensors));
    assert_one_line_error(&eeglens(&interpret(&["--seed", "1"])), &["interpret.json: exists", "--force"]);
    assert_eq!((read(&json), read(&tensors)), (j0.clone(), t0.clone()));
    // A full disk that fits the document but not the tensors: neither is replaced.
    let (jn, tn) = (j0.len() as u64, t0.len() as u64);
    let kib = if jn + 2048 < tn { jn / 1024 + 1 } else { 1 };
    let o = run_on_full_disk(kib, &interpret(&["--seed", "1", "--force"]));
    assert_one_line_error(&o, &["interpret"]);
    assert_eq!(read(&json), j0, "interpret.json kept");
    assert_eq!(read(&tensors), t0, "interpret.safetensors kept");
    assert_eq!(temporaries(&dir), Vec::<String>::new());
    ok(&eeglens(&interpret(&["--seed", "1", "--force"])));
    assert_ne!(read(&json), j0, "replaced with --force");

    // report: an existing page only with --force; never a file of the run or its store.
    ok(&eeglens(&["report", "--run", s(&run_dir)]));
    let page = run_dir.join("report.html");
    let p0 = read(&page);
    assert_one_line_error(&eeglens(&["report", "--run", s(&run_dir)]), &["report.html: exists", "--force"]);
    let o = run_on_full_disk(1, &["report", "--run", s(&run_dir), "--force"]);
    assert_one_line_error(&o, &["report.html"]);
    assert_eq!(read(&page), p0, "report.html kept");
    assert_eq!(temporaries(&run_dir), Vec::<String>::new());
    let config = run_dir.join("config.json");
    let c0 = read(&config);
    let o = eeglens(&["report", "--run", s(&run_dir), "--out", s(&config), "--force"]);
    assert_one_line_error(&o, &["config.json: is a file of the run"]);
    assert_eq!(read(&config), c0);
    let o = eeglens(&["report", "--run", s(&run_dir), "--out", s(&data), "--force"]);
    assert_one_line_error(&o, &["toy.safetensors: is the run's epoch store"]);
    ok(&eeglens(&["report", "--run", s(&run_dir), "--force"]));

    // baseline --out: never its own store.
    let d0 = read(&data);
    let o = eeglens(&["baseline", "--data", s(&data), "--out", s(&data), "--force"]);
    assert_one_line_error(&o, &["toy.safetensors: is the --data store"]);
    assert_eq!(read(&data), d0);
    let b = d.join("baseline.json");
    ok(&eeglens(&["baseline", "--data", s(&data), "--out", s(&b)]));
    assert_one_line_error(
        &eeglens(&["baseline", "--data", s(&data), "--out", s(&b)]),
        &["exists", "--force"],
    );
}

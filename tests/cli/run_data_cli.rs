//! Runs check their data, end to end: `eval`, `interpret` and `report` refuse
//! a store prepared again over the run's (its test split may hold training
//! subjects) with one line saying what to do; `--data` names another store
//! only when its subjects keep the run's splits; `train` refuses a store with
//! a non-finite value (naming window, subject and split) or a train split of
//! one class.

use eeglens_data::store::{EpochSet, Split};

use crate::support::report::{interpret, trained_run_with, RunSpec};
use crate::util::{assert_one_line_error, eeglens, s, tmpdir};

/// The store's first train subject and first test subject trade splits: what
/// `prepare --split-seed 2` over the same path does.
fn resplit(set: &mut EpochSet) {
    let first = |sp: Split| set.subject[set.split.iter().position(|&x| x == sp).expect("a window")];
    let (a, b) = (first(Split::Train), first(Split::Test));
    for (sp, &subj) in set.split.iter_mut().zip(&set.subject) {
        if subj == a {
            *sp = Split::Test;
        } else if subj == b {
            *sp = Split::Train;
        }
    }
}

#[test]
fn a_store_prepared_again_over_the_runs_is_refused_by_eval_interpret_and_report() {
    let dir = tmpdir("run-data");
    let run = trained_run_with(&dir.0, RunSpec::NULL);
    interpret(&run);
    let data = dir.0.join("epochs.safetensors");
    let original = dir.0.join("original.safetensors");
    std::fs::copy(&data, &original).expect("copy the store");
    let mut set = eeglens_data::store::EpochStore::open(&data).expect("open").to_set();
    resplit(&mut set);
    set.write(&data).expect("prepare again over the store");

    let refused = ["epochs.safetensors", "not the epoch store the run in", "--data"];
    assert_one_line_error(&eeglens(&["eval", "--run", s(&run)]), &refused);
    assert_one_line_error(&eeglens(&["interpret", "--run", s(&run), "--quiet"]), &refused);
    assert_one_line_error(&eeglens(&["report", "--run", s(&run)]), &refused);
    // Named explicitly, the re-split store is still refused, naming the subjects.
    let o = eeglens(&["eval", "--run", s(&run), "--data", s(&data)]);
    assert_one_line_error(&o, &["2 subject(s) are in another split", "train in the run, test here"]);
    // The store the run was trained on, wherever it is, is accepted.
    let o = eeglens(&["eval", "--run", s(&run), "--data", s(&original), "--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::copy(&original, &data).expect("put the store back");
    let o = eeglens(&["report", "--run", s(&run), "--out", s(&dir.0.join("r.html"))]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn train_refuses_non_finite_windows_and_a_single_class() {
    let dir = tmpdir("run-data-train");
    let toy = eeglens_train::toy::ToyConfig { subjects: [4, 2, 2], windows: 4, ..Default::default() };
    let mut set = eeglens_train::toy::toy_set(&toy);
    // One NaN in a validation window (window 17: subject sub-005, val).
    let w = set.meta.channels.len() * set.n_samples;
    let path = dir.0.join("nan.safetensors");
    set.write(&path).expect("write");
    let mut bytes = std::fs::read(&path).expect("read");
    // Window 17's first values (random noise: found once in the file).
    let needle: Vec<u8> = set.x[17 * w..17 * w + 8].iter().flat_map(|v| v.to_le_bytes()).collect();
    let x_at = bytes.windows(needle.len()).position(|b| b == needle.as_slice()).expect("window 17");
    bytes[x_at + 4 * 3..x_at + 4 * 4].copy_from_slice(&f32::NAN.to_le_bytes());
    std::fs::write(&path, bytes).expect("write");
    let o = eeglens(&[
        "train",
        "--model",
        "rvgg",
        "--data",
        s(&path),
        "--out",
        s(&dir.0.join("run-nan")),
        "--epochs",
        "1",
    ]);
    assert_one_line_error(&o, &["nan.safetensors", "window 17 (subject sub-005, val split)", "NaN"]);
    assert!(!dir.0.join("run-nan").exists());

    // Every window of one class.
    set.y.iter_mut().for_each(|y| *y = 1);
    let one = dir.0.join("one.safetensors");
    set.write(&one).expect("write");
    let o = eeglens(&[
        "train",
        "--model",
        "rvgg",
        "--data",
        s(&one),
        "--out",
        s(&dir.0.join("run-one")),
        "--epochs",
        "1",
    ]);
    assert_one_line_error(&o, &["one.safetensors", "only class `M`"]);
}

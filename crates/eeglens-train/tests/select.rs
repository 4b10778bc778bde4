//! Model selection on validation: every candidate is trained into its own
//! run, the one with the best validation figure is kept (recomputed here
//! from the candidates' own `metrics.jsonl`), its files become the run, and
//! an interrupted selection resumes to the same choice.

mod common;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use common::{tmpdir, toy_store};
use eeglens_train::run_dir::{BEST_CHECKPOINT, CONFIG_FILE, METRICS_FILE};
use eeglens_train::select::{choose, CandidateScore, Selection, CANDIDATES_DIR, SELECTION_FILE};
use eeglens_train::toy::ToyConfig;
use eeglens_train::{train_selected, Progress, RunDir, RunOptions, StopReason, TrainConfig, TrainError};

/// Two models that fit the toy store's 8 x 32 windows.
const CANDIDATES: [&str; 2] = ["rvgg", "rvgg-bn"];

fn cfg() -> TrainConfig {
    TrainConfig {
        epochs: 2,
        lr: 1e-3,
        threads: Some(1),
        patience: None,
        stuck_epochs: None,
        ..TrainConfig::default()
    }
}

/// The candidate's figures at its best epoch, read back from its run directory.
fn score_from_disk(out: &std::path::Path, model: &str) -> CandidateScore {
    let dir = out.join(CANDIDATES_DIR).join(model);
    let run = RunDir::open(&dir).expect("the candidate is a run");
    let records = run.metrics().expect("metrics.jsonl");
    let best = records.iter().rfind(|r| r.best).expect("a best epoch");
    CandidateScore {
        model: model.into(),
        dir: dir.clone(),
        best_epoch: Some(best.epoch),
        val_balanced_accuracy: best.val_balanced_accuracy,
        val_loss: best.val_loss,
        val_subject_accuracy: best.val_subject_accuracy,
        restarts: 0,
    }
}

#[test]
fn the_candidate_best_on_validation_becomes_the_run() {
    let d = tmpdir("select");
    let store = toy_store(&d, &ToyConfig { windows: 8, ..ToyConfig::default() });
    let out = d.join("run");
    let mut seen = Vec::new();
    let s = train_selected(&cfg(), &CANDIDATES, &store, &out, &RunOptions::default(), &mut |p| {
        if let Progress::Candidate { model, index, of, .. } = p {
            seen.push((model.clone(), *index, *of));
        }
    })
    .expect("selection runs");
    assert_eq!(seen, vec![("rvgg".into(), 0, 2), ("rvgg-bn".into(), 1, 2)]);
    let sel = s.selection.expect("a choice was made");

    // The choice, recomputed from what each candidate wrote.
    let scores: Vec<CandidateScore> = CANDIDATES.iter().map(|m| score_from_disk(&out, m)).collect();
    let k = choose(&scores).expect("two candidates");
    assert_eq!(sel.chosen, CANDIDATES[k]);
    for (got, want) in sel.candidates.iter().zip(&scores) {
        assert_eq!(
            (got.best_epoch, got.val_balanced_accuracy, got.val_loss),
            (want.best_epoch, want.val_balanced_accuracy, want.val_loss)
        );
    }
    assert_eq!(Selection::read(&out).expect("readable"), Some(sel.clone()));

    // OUT is an ordinary run of the chosen model, with its candidate's files.
    let run = RunDir::open(&out).expect("OUT is a run");
    assert_eq!(run.config().train.model, sel.chosen);
    let (model, _) = run.load_model().expect("the best checkpoint loads");
    assert!(model.num_params() > 0);
    let chosen_dir = out.join(CANDIDATES_DIR).join(&sel.chosen);
    for f in [CONFIG_FILE, METRICS_FILE, BEST_CHECKPOINT, "eval-test.json"] {
        assert_eq!(
            std::fs::read(out.join(f)).expect("copied"),
            std::fs::read(chosen_dir.join(f)).expect("written"),
            "{f} is the chosen candidate's"
        );
    }
    assert!(out.join(SELECTION_FILE).is_file());

    // A second selection into the same directory needs --resume or --force.
    let again = train_selected(&cfg(), &CANDIDATES, &store, &out, &RunOptions::default(), &mut |_| {});
    assert!(matches!(again, Err(TrainError::RunExists { .. })), "{again:?}");
}

#[test]
fn an_interrupted_selection_resumes_to_the_same_choice() {
    let d = tmpdir("select-resume");
    let store = toy_store(&d, &ToyConfig { windows: 8, ..ToyConfig::default() });

    let whole = d.join("whole");
    let w = train_selected(&cfg(), &CANDIDATES, &store, &whole, &RunOptions::default(), &mut |_| {})
        .expect("selection runs");

    // Stop during the second candidate's first epoch.
    let parts = d.join("parts");
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let opts = RunOptions { stop: Some(stop), ..RunOptions::default() };
    let mut current = String::new();
    let first = train_selected(&cfg(), &CANDIDATES, &store, &parts, &opts, &mut |p| match p {
        Progress::Candidate { model, .. } => current = model.clone(),
        Progress::Batch { batch: 1, epoch: 1, .. } if current == "rvgg-bn" => {
            flag.store(true, std::sync::atomic::Ordering::SeqCst)
        }
        _ => {}
    })
    .expect("an interruption is not an error");
    assert!(matches!(first.summary.stop, StopReason::Interrupted { .. }), "{:?}", first.summary.stop);
    // Started again without --resume: refused, naming what is there.
    let again = train_selected(&cfg(), &CANDIDATES, &store, &parts, &RunOptions::default(), &mut |_| {});
    let err = again.expect_err("refused");
    assert!(matches!(err, TrainError::SelectionStarted { .. }), "{err:?}");
    assert!(err.to_string().contains("--resume"), "{err}");
    assert!(first.selection.is_none(), "nothing is chosen before every candidate has trained");
    assert!(!parts.join(CONFIG_FILE).exists(), "OUT is not a run yet");

    let resumed = train_selected(
        &cfg(),
        &CANDIDATES,
        &store,
        &parts,
        &RunOptions { resume: true, ..RunOptions::default() },
        &mut |_| {},
    )
    .expect("the selection resumes");
    let (a, b) = (w.selection.expect("chosen"), resumed.selection.expect("chosen"));
    assert_eq!(a.chosen, b.chosen);
    for (x, y) in a.candidates.iter().zip(&b.candidates) {
        assert_eq!(
            (x.val_balanced_accuracy, x.val_loss),
            (y.val_balanced_accuracy, y.val_loss),
            "{}",
            x.model
        );
    }
    let (ww, wp) =
        (common::weights(&whole.join(BEST_CHECKPOINT)), common::weights(&parts.join(BEST_CHECKPOINT)));
    assert_eq!(ww.len(), wp.len());
    for (name, t) in &ww {
        assert!(
            t.data() == wp[name].data(),
            "{name}: the resumed selection keeps bit-identical weights ({})",
            b.chosen
        );
    }
}

#[test]
fn bad_candidate_lists_and_nothing_to_resume_are_refused() {
    let d = tmpdir("select-bad");
    let store = toy_store(&d, &ToyConfig { windows: 4, ..ToyConfig::default() });
    let out = d.join("run");
    for bad in [&[][..], &["rvgg", "rvgg"][..], &["auto", "rvgg"][..]] {
        let r = train_selected(&cfg(), bad, &store, &out, &RunOptions::default(), &mut |_| {});
        assert!(matches!(r, Err(TrainError::Config { field: "model", .. })), "{bad:?}: {r:?}");
    }
    let r = train_selected(
        &cfg(),
        &CANDIDATES,
        &store,
        &out,
        &RunOptions { resume: true, ..RunOptions::default() },
        &mut |_| {},
    );
    assert!(matches!(r, Err(TrainError::NothingToResume { .. })), "{r:?}");
    assert!(!out.exists(), "a refused call writes nothing");
}

#[test]
fn a_single_model_forced_over_a_selection_leaves_no_trace_of_it() {
    let d = tmpdir("select-force");
    let store = toy_store(&d, &ToyConfig { windows: 4, ..ToyConfig::default() });
    let out = d.join("run");
    let one = TrainConfig { epochs: 1, ..cfg() };
    train_selected(&one, &CANDIDATES, &store, &out, &RunOptions::default(), &mut |_| {})
        .expect("selection runs");
    assert!(out.join(SELECTION_FILE).is_file() && out.join(CANDIDATES_DIR).is_dir());
    let single = TrainConfig { model: "rvgg".into(), ..one };
    eeglens_train::train_with(
        &single,
        &store,
        &out,
        &RunOptions { force: true, ..RunOptions::default() },
        &mut |_| {},
    )
    .expect("--force replaces the run");
    assert!(!out.join(SELECTION_FILE).exists(), "no selection.json describes the new run");
    assert!(!out.join(CANDIDATES_DIR).exists(), "no candidates make --resume take it for a selection");
    assert_eq!(Selection::read(&out).expect("readable"), None);
}

#[test]
fn each_candidate_trains_at_its_own_rate_unless_one_is_given() {
    let d = tmpdir("select-lr");
    // LogPowerNet's filters need more than 32 samples.
    let store = toy_store(&d, &ToyConfig { windows: 4, n_samples: 64, ..ToyConfig::default() });
    let pair = ["rvgg-bn", "logpower"];
    let lr_of = |out: &std::path::Path, m: &str| {
        RunDir::open(&out.join(CANDIDATES_DIR).join(m)).expect("a candidate run").config().train.lr
    };
    // By model: each its own rate, recorded in its config; a resume keeps them.
    let out = d.join("by-model");
    let by_model = TrainConfig { lr_by_model: true, ..cfg() };
    train_selected(&by_model, &pair, &store, &out, &RunOptions::default(), &mut |_| {}).expect("runs");
    for m in pair {
        assert_eq!(lr_of(&out, m), eeglens_train::model_lr(m), "{m}");
    }
    assert_ne!(eeglens_train::model_lr("rvgg-bn"), eeglens_train::model_lr("logpower"));
    let resumed = train_selected(
        &by_model,
        &pair,
        &store,
        &out,
        &RunOptions { resume: true, ..RunOptions::default() },
        &mut |_| {},
    );
    assert!(resumed.is_ok(), "{:?}", resumed.map(|_| ()));
    // A rate given: every candidate takes it.
    let out = d.join("given");
    train_selected(&cfg(), &pair, &store, &out, &RunOptions::default(), &mut |_| {}).expect("runs");
    for m in pair {
        assert_eq!(lr_of(&out, m), cfg().lr, "{m}");
    }
}

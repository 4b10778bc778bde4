//! Bad input to `load_run`: every error names the run or file and what to do.

mod scratch;

use eeglens_report::{load_run, ReportError};

#[test]
fn a_directory_that_is_not_a_run_is_named() {
    let d = std::env::temp_dir().join(format!("eeglens-report-notarun-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let _scratch = scratch::Scratch(d.clone());
    let e = load_run(&d, None).unwrap_err();
    assert!(matches!(e, ReportError::Run { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains(&d.display().to_string()) && msg.contains("config.json"), "{msg}");
}

#[test]
fn no_interpretation_names_the_command_and_the_places_searched() {
    let run = std::path::Path::new("runs/x");
    let e = ReportError::NoInterpretation {
        run: run.into(),
        looked: eeglens_report::run::interpret_candidates(run, None),
    };
    let msg = e.to_string();
    assert!(msg.contains("run `eeglens interpret --run runs/x` first"), "{msg}");
    assert!(msg.contains("runs/x/interpret/interpret.json, runs/x/interpret.json"), "{msg}");
}

#[test]
fn a_malformed_agreement_names_its_file_in_one_line() {
    let parent = std::env::temp_dir().join(format!("eeglens-report-badagreement-{}", std::process::id()));
    let _scratch = scratch::Scratch(parent.clone());
    std::fs::create_dir_all(parent.join("seed-1")).unwrap();
    std::fs::write(parent.join("seed-1/config.json"), "{}").unwrap();
    let path = parent.join(eeglens_report::AGREEMENT_FILE);
    std::fs::write(&path, "{\"format\": \"eeglens-agreement/1\", \"seeds\": [1,").unwrap();
    let e = load_run(&parent, None).unwrap_err();
    assert!(matches!(e, ReportError::Json { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(msg.starts_with(&path.display().to_string()) && msg.lines().count() == 1, "{msg}");
    // Well-formed JSON of another kind: named too.
    std::fs::write(&path, r#"{"format": "eeglens-run/1", "seeds": [], "learned": [], "methods": {}}"#)
        .unwrap();
    let msg = load_run(&parent, None).unwrap_err().to_string();
    assert!(msg.contains("agreement.json") && msg.contains("expected `eeglens-agreement/1`"), "{msg}");
}

#[test]
fn a_parent_without_seed_runs_is_not_a_run() {
    let parent = std::env::temp_dir().join(format!("eeglens-report-noseeds-{}", std::process::id()));
    let _scratch = scratch::Scratch(parent.clone());
    std::fs::create_dir_all(parent.join("seed-x")).unwrap();
    std::fs::write(parent.join(eeglens_report::AGREEMENT_FILE), "{}").unwrap();
    let e = load_run(&parent, None).unwrap_err();
    assert!(matches!(e, ReportError::Run { .. }), "seed-x is no seed run: {e:?}");
}

/// The error and every `source()` below it, joined with ": " as a program printing the whole
/// chain does.
fn full_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        parts.push(s.to_string());
        cur = s.source();
    }
    parts.join(": ")
}

/// The OS message (from eeglens-train's error inside) is shown once: each error shows what it
/// wraps in its own text and does not chain it again.
#[test]
fn a_missing_run_shows_the_os_message_once_in_the_whole_chain() {
    let run = std::path::Path::new("/nonexistent-eeglens/run");
    let os = std::fs::metadata(run).expect_err("absent").to_string();
    let e = load_run(run, None).expect_err("absent");
    assert!(matches!(e, ReportError::Run { .. }), "{e:?}");
    let chain = full_chain(&e);
    assert_eq!(chain.matches(&os).count(), 1, "{chain}");
    assert_eq!(chain.matches("config.json").count(), 1, "{chain}");
    assert!(std::error::Error::source(&e).is_none(), "{e:?}");
}

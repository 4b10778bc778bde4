//! Bad input to `load_run`: every error names the run and what to do.

use eeglens_report::{load_run, ReportError};

#[test]
fn a_directory_that_is_not_a_run_is_named() {
    let d = std::env::temp_dir().join(format!("eeglens-report-notarun-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let e = load_run(&d, None).unwrap_err();
    assert!(matches!(e, ReportError::Run { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains(&d.display().to_string()) && msg.contains("config.json"), "{msg}");
    std::fs::remove_dir_all(&d).unwrap();
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

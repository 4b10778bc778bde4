//! `eeglens report` on real small runs: the page of a run that learned holds
//! every figure and no external reference; on a run without interpretation
//! it names the command to run first; a run at chance says so at the top and
//! shows no reading; a parent of seed runs shows their agreement.

use crate::support::report::{copy_dir, interpret, trained_run, trained_run_with, RunSpec};
use crate::util::{eeglens, tmpdir};

#[test]
fn report_of_a_run_has_every_figure_and_no_external_request() {
    let dir = tmpdir("cli");
    let run = trained_run(&dir.0);
    let run_s = run.to_str().expect("utf-8 path");

    // Before interpretation: a one-line error naming the command.
    let o = eeglens(&["report", "--run", run_s]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(&format!("eeglens interpret --run {run_s}")), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    let result = interpret(&run);
    let out = dir.0.join("page/report.html");
    let o = eeglens(&["report", "--run", run_s, "--out", out.to_str().expect("utf-8")]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("top band") && stdout.contains("report.html"), "{stdout}");

    let html = std::fs::read_to_string(&out).expect("the report");
    let input = eeglens_report::load_run(&run, None).expect("the run reads");
    let rendered = eeglens_report::render(&input);
    assert_eq!(rendered.html, html, "the CLI writes the library's page");
    let figures = rendered.figures;
    // The same examples from the result in memory as from the files on disk.
    let store = eeglens_data::store::EpochStore::open(&dir.0.join("epochs.safetensors")).expect("the store");
    let mem = eeglens_report::Interpretation::from_result(&result, Some(&store));
    let disk = input.interpretation.as_ref().expect("an interpretation");
    assert_eq!((mem.optimal.len(), mem.actmax.len(), mem.deconv.len()), (2, 2, 2));
    assert_eq!(mem.optimal, disk.optimal);
    assert_eq!(mem.actmax, disk.actmax);
    assert_eq!(mem.deconv, disk.deconv);
    drop(store);
    for method in ["optimal", "actmax", "deconv"] {
        for kind in ["psd", "bands", "topo", "traces-0", "traces-1"] {
            let id = format!("{method}-{kind}");
            assert!(figures.contains(&id), "{id} in {figures:?}");
        }
    }
    for id in [
        "training-curves",
        "confusion-windows",
        "confusion-subjects",
        "actmax-heatmap-1",
        "deconv-heatmap-0",
        "data-spectra",
        "roc-subjects",
        "roc-windows",
    ] {
        assert!(figures.contains(&id.to_string()), "{id}");
    }
    for id in &figures {
        assert!(html.contains(&format!("data-figure=\"{id}\"")));
    }
    assert_eq!(html.matches("<svg").count(), figures.len());
    // Self-contained: no fetched resource of any kind.
    for bad in ["<script src", "<link", "@import", "url(http", "src=\"http", "href=\"http", "<img"] {
        assert!(!html.contains(bad), "`{bad}` in the report");
    }
    // Data set, model and the plain-language readings.
    for want in ["Data set", "Model", "features.0", "Conv2d", "Training and test", "per subject", "Fz"] {
        assert!(html.contains(want), "`{want}` missing");
    }
    assert!(!html.contains("nothing-learned"), "the network learned");
    assert!(html.contains("id=\"baseline\"") && figures.contains(&"baseline-effect".to_string()));
    assert_eq!(html.matches("class=\"reading\"").count(), 3);
    // The toy's planted sine (16 Hz) beside every reading.
    assert_eq!(html.matches("Planted truth (synthetic data): 16 Hz in M at Fp1, Fp2").count(), 3, "{html}");
    assert!(!html.contains("NaN"));

    // Without the epoch store and the test evaluation the page still renders,
    // from config.json alone, and says what is missing.
    std::fs::remove_file(dir.0.join("epochs.safetensors")).expect("remove the store");
    std::fs::remove_file(run.join("eval-test.json")).expect("remove the evaluation");
    let o = eeglens(&["report", "--run", run_s]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(run.join("report.html")).expect("the default report path");
    assert!(html.contains("data-figure=\"actmax-heatmap-0\""), "patterns need no store");
    assert!(!html.contains("data-figure=\"optimal-traces-0\""), "optimal windows need the store");
    assert!(html.contains("data-figure=\"optimal-topo\""));
    assert!(!html.contains("data-figure=\"data-spectra\""), "the class spectra need the store");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_missing(
        &html,
        &stdout,
        &[
            ("epochs.safetensors", "data-spectra"),
            ("epochs.safetensors", "data"),
            ("eval-test.json", "training"),
            ("epochs.safetensors", "interpretation"),
        ],
    );

    // Without interpret.safetensors and metrics.jsonl too: no figure of a method, no curves, and
    // the page says so where they would be, naming each file.
    let tensors = [run.join("interpret/interpret.safetensors"), run.join("interpret.safetensors")]
        .into_iter()
        .find(|p| p.is_file())
        .expect("interpret.safetensors");
    std::fs::remove_file(&tensors).expect("remove the tensors");
    std::fs::remove_file(run.join("metrics.jsonl")).expect("remove the metrics");
    let o = eeglens(&["report", "--run", run_s, "--force"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(run.join("report.html")).expect("the report");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(!html.contains("data-figure=\"actmax-heatmap-0\"") && !html.contains("training-curves"));
    assert_missing(
        &html,
        &stdout,
        &[
            ("epochs.safetensors", "data-spectra"),
            ("epochs.safetensors", "data"),
            ("eval-test.json", "training"),
            ("metrics.jsonl", "training"),
            ("interpret.safetensors", "interpretation"),
        ],
    );
}

/// Each missing file: one `missing` line on stdout naming it, a line in the page's list at the
/// top, and a notice inside its section (after the section's heading, before the next one).
fn assert_missing(html: &str, stdout: &str, parts: &[(&str, &str)]) {
    let lines: Vec<&str> = stdout.lines().filter(|l| l.starts_with("missing ")).collect();
    assert_eq!(lines.len(), parts.len(), "{stdout}");
    assert!(html.contains("This report is incomplete"), "no list at the top");
    for (file, section) in parts {
        assert!(lines.iter().any(|l| l.contains(file) && l.contains("the page lacks")), "{file}: {stdout}");
        let start = html.find(&format!("<h2 id=\"{section}\"")).expect("the section");
        let end = html[start + 4..].find("<h2").map_or(html.len(), |i| start + 4 + i);
        let here = &html[start..end];
        assert!(here.contains(&format!("data-missing=\"{file}\"")), "{file}: no notice in section {section}");
    }
}

#[test]
fn a_run_at_chance_says_so_and_shows_no_reading() {
    let dir = tmpdir("null");
    let run = trained_run_with(&dir.0, RunSpec::NULL);
    let run_s = run.to_str().expect("utf-8 path");
    let result = interpret(&run);
    assert!(!result.report.model.discrimination.learned, "a null store teaches nothing");

    let o = eeglens(&["report", "--run", run_s]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("not read (the model is at chance)"), "{stdout}");
    let html = std::fs::read_to_string(run.join("report.html")).expect("the report");
    let at = |s: &str| html.find(s).unwrap_or_else(|| panic!("`{s}` missing"));
    assert!(at("id=\"nothing-learned\"") < at("id=\"data\""), "the verdict comes first");
    assert!(html.contains("The model learned nothing on the test split."));
    assert!(html.contains("Windows: ") && html.contains("Subjects: "), "the tests are spelled out");
    assert_eq!(html.matches("Not read: the model is at chance.").count(), 3);
    for method in ["optimal", "actmax", "deconv"] {
        assert!(!html.contains(&format!("data-figure=\"{method}-")), "a {method} figure");
    }
    // Training fits the band-power baseline: the page sets it beside the network.
    assert!(run.join("baseline.json").is_file());
    assert!(html.contains("id=\"baseline\"") && html.contains("data-figure=\"baseline-effect\""));

    std::fs::remove_file(run.join("baseline.json")).expect("remove the baseline");
    let o = eeglens(&["report", "--run", run_s, "--force"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(run.join("report.html")).expect("the report");
    assert!(!html.contains("baseline-effect"));
    assert_missing(&html, &String::from_utf8_lossy(&o.stdout), &[("baseline.json", "baseline")]);
}

#[test]
fn a_parent_of_seed_runs_shows_the_agreement_across_seeds() {
    let dir = tmpdir("seeds");
    let run = trained_run_with(&dir.0, RunSpec::QUICK);
    let first = interpret(&run).report;
    assert!(first.model.discrimination.learned, "the quick run learns");
    let parent = dir.0.join("seeds");
    copy_dir(&run, &parent.join("seed-1"));
    copy_dir(&run, &parent.join("seed-2"));
    // The second seed names no band with activation maximisation.
    let mut second = first.clone();
    second.methods.actmax.as_mut().expect("actmax ran").reading.top_band = None;
    let agreement = eeglens_interpret::agreement(&[1, 2], &[first, second]);
    let json = serde_json::to_string_pretty(&agreement).expect("serialise");
    let agreement_path = parent.join(eeglens_report::AGREEMENT_FILE);
    std::fs::write(&agreement_path, json).expect("write agreement.json");

    let parent_s = parent.to_str().expect("utf-8 path");
    let o = eeglens(&["report", "--run", parent_s]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("the page shows seed 1") && stdout.contains("agreement"), "{stdout}");
    let html = std::fs::read_to_string(parent.join("report.html")).expect("the report of the parent");
    let at = |s: &str| html.find(s).unwrap_or_else(|| panic!("`{s}` missing"));
    assert!(at("id=\"agreement\"") < at("id=\"data\""), "the agreement comes first");
    for method in ["optimal", "actmax", "deconv"] {
        for kind in ["fractions", "channels"] {
            assert!(html.contains(&format!("data-figure=\"agreement-{method}-{kind}\"")), "{method} {kind}");
        }
        assert!(html.contains(&format!("data-figure=\"{method}-bands\"")), "seed 1's own {method} reading");
    }
    assert!(html.contains("2 seeds (1, 2)") && html.contains("1 (shown below)"));

    // A malformed agreement.json: one line naming the file.
    std::fs::write(&agreement_path, "{\"format\": ").expect("break agreement.json");
    let o = eeglens(&["report", "--run", parent_s]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(&agreement_path.display().to_string()), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

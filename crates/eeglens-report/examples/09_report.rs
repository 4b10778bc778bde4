//! The HTML report of a small run: train, interpret, report.
//!
//! A toy epoch store (24 subjects, 8 channels x 32 samples at 128 Hz) gets
//! standard 10-20 channel names so that the report can draw scalp maps: in
//! class `M` the fronto-central channels (Fz, FC3, FC4, Cz) carry a 16 Hz
//! rhythm. `eeglens-train` fits the baseline and trains R-VGG into a run
//! directory, `eeglens-interpret` reads the best model into `run/interpret/`,
//! and `report_for_run` turns the directory into one self-contained HTML page
//! (inline SVG, no external request). The example prints the page's sections
//! and figure count.
//!
//! Run with `cargo run -p eeglens-report --example 09_report`; pass a directory
//! to keep the run and its `report.html` there (then open it in a browser).

use std::path::PathBuf;

use eeglens_data::store::EpochStore;
use eeglens_data::toy::{name_channels, toy_set, ToyConfig};
use eeglens_interpret::{run as interpret, write_outputs, InterpretConfig, Silent};
use eeglens_report::{report_for_run, INTERPRET_DIR};
use eeglens_train::{train, RunDir, TrainConfig};

/// The toy's first four channels carry the effect; these names put them fronto-centrally.
const CHANNELS: [&str; 8] = ["Fz", "FC3", "FC4", "Cz", "P3", "Pz", "P4", "Oz"];

/// The text of every `<h2>` of the page, in order.
fn headings(html: &str) -> Vec<String> {
    html.split("<h2")
        .skip(1)
        .filter_map(|s| Some(s.split_once('>')?.1.split_once("</h2>")?.0))
        .map(strip_tags)
        .collect()
}

fn strip_tags(s: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for ch in s.chars() {
        match ch {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (dir, keep) = match std::env::args_os().nth(1) {
        Some(d) => (PathBuf::from(d), true),
        None => (std::env::temp_dir().join(format!("eeglens-report-example-{}", std::process::id())), false),
    };
    std::fs::create_dir_all(&dir)?;

    let data = dir.join("epochs.safetensors");
    let mut set = toy_set(&ToyConfig { windows: 16, effect: 1.5, ..ToyConfig::default() });
    name_channels(&mut set, &CHANNELS);
    set.write(&data)?;
    let store = EpochStore::open(&data)?;

    // Train (the command line's recipe, a larger learning rate so that six epochs are enough).
    let run_dir = dir.join("run");
    let cfg = TrainConfig { model: "rvgg".into(), epochs: 6, lr: 1e-3, ..TrainConfig::default() };
    let summary = train(&cfg, &store, &run_dir, &mut |_| {})?;
    let test = summary.test.as_ref().expect("the toy store has a test split");
    println!(
        "trained {} for {} epochs: test accuracy {:.3} per window, {:.3} per subject",
        cfg.model, summary.epochs_done, test.accuracy, test.subject_accuracy
    );

    // Interpret the best model, where the report looks for it (run/interpret/).
    let (model, _) = RunDir::open(&run_dir)?.load_model()?;
    let mut icfg = InterpretConfig { k: 16, permutations: 999, ..InterpretConfig::default() };
    icfg.actmax.steps = 50;
    let result = interpret(&model, &store, &icfg, &mut Silent)?;
    write_outputs(&result, &run_dir.join(INTERPRET_DIR))?;
    let methods = &result.report.methods;
    let top = |r: Option<&eeglens_interpret::Reading>| {
        r.and_then(|r| r.top_band.clone()).unwrap_or_else(|| "-".into())
    };
    println!(
        "top band: optimal samples {}, activation maximisation {}, deconvnet {} (planted: 16 Hz, in beta 13-30 Hz)",
        top(methods.optimal.as_ref().map(|m| &m.reading)),
        top(methods.actmax.as_ref().map(|m| &m.reading)),
        top(methods.deconv.as_ref().map(|m| &m.reading)),
    );

    // The report.
    let page = report_for_run(&run_dir, None)?;
    let html = std::fs::read_to_string(&page)?;
    println!(
        "\n{} ({:.0} kB, {} inline SVG figures)",
        page.display(),
        html.len() as f64 / 1e3,
        html.matches("<svg").count()
    );
    for h in headings(&html) {
        println!("  section: {h}");
    }
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http"),
        "the page makes no external request"
    );

    if keep {
        println!("\nkept {}", dir.display());
    } else {
        std::fs::remove_dir_all(&dir)?;
    }
    Ok(())
}

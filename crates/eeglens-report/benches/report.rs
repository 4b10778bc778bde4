//! Criterion benchmarks of the report of a small run, the page `eeglens
//! report` (and the last step of `eeglens demo`) writes.
//!
//! Set-up, untimed, as `examples/09_report.rs`: a toy epoch store (24
//! subjects, 8 channels x 32 samples at 128 Hz, 10-20 channel names so that
//! the scalp maps are drawn), R-VGG trained for six epochs with
//! `eeglens-train`, the three interpretation methods of `eeglens-interpret`
//! written to `run/interpret/`, all in a temporary directory. Then:
//!
//! - `report/load_run`: reading the run directory and the interpretation
//!   into a `ReportInput` (JSON, safetensors, the epoch store);
//! - `report/render_html`: the page from a loaded input, in memory (every
//!   SVG figure, the wording, the HTML);
//! - `report/report_for_run`: both, and writing `report.html` as `eeglens
//!   report` does (durably: a temporary file, `fsync`, rename, `fsync` of
//!   the directory, so the disk's flush latency is part of it).
//!
//! Throughput counts bytes of the page written.
//!
//! Run: `cargo bench -p eeglens-report --bench report` (about half a minute);
//! `cargo bench -p eeglens-report --bench report -- report/render_html` for one.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Criterion, Throughput};
use eeglens_data::store::EpochStore;
use eeglens_data::toy::{name_channels, toy_set, ToyConfig};
use eeglens_interpret::{run as interpret, write_outputs, InterpretConfig, Silent};
use eeglens_report::{load_run, render_html, report_for_run, INTERPRET_DIR};
use eeglens_train::{train, RunDir, TrainConfig};

/// The toy's first four channels carry the effect; these names put them fronto-centrally.
const CHANNELS: [&str; 8] = ["Fz", "FC3", "FC4", "Cz", "P3", "Pz", "P4", "Oz"];

/// Trains and interprets a toy run under `dir`; returns the run directory.
fn small_run(dir: &Path) -> PathBuf {
    let data = dir.join("epochs.safetensors");
    let mut set = toy_set(&ToyConfig { windows: 16, effect: 1.5, ..ToyConfig::default() });
    name_channels(&mut set, &CHANNELS);
    set.write(&data).expect("the toy store is written");
    let store = EpochStore::open(&data).expect("the toy store opens");
    let run_dir = dir.join("run");
    let cfg = TrainConfig { model: "rvgg".into(), epochs: 6, lr: 1e-3, ..TrainConfig::default() };
    train(&cfg, &store, &run_dir, &mut |_| {}).expect("the toy run trains");
    let (model, _) = RunDir::open(&run_dir).and_then(|r| r.load_model()).expect("the run has a model");
    // Every method is run (and so every figure drawn) even if this network learned little.
    let mut icfg =
        InterpretConfig { k: 16, permutations: 999, read_anyway: true, ..InterpretConfig::default() };
    icfg.actmax.steps = 50;
    let result = interpret(&model, &store, &icfg, &mut Silent).expect("the run is interpreted");
    write_outputs(&result, &run_dir.join(INTERPRET_DIR)).expect("the interpretation is written");
    run_dir
}

fn bench_report(c: &mut Criterion, run_dir: &Path) {
    let out = run_dir.join("bench-report.html");
    let input = load_run(run_dir, None).expect("the run loads");
    let page = render_html(&input);
    let bytes = page.len() as u64;
    println!("the page: {:.0} kB, {} inline SVG figures", bytes as f64 / 1e3, page.matches("<svg").count());
    let mut g = c.benchmark_group("report");
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function("load_run", |b| b.iter(|| black_box(load_run(run_dir, None).expect("the run loads"))));
    g.bench_function("render_html", |b| b.iter(|| black_box(render_html(&input))));
    g.bench_function("report_for_run", |b| {
        b.iter(|| black_box(report_for_run(run_dir, Some(&out)).expect("the report is written")))
    });
    g.finish();
}

fn main() {
    let dir = std::env::temp_dir().join(format!("eeglens-report-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let run_dir = small_run(&dir);
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    bench_report(&mut c, &run_dir);
    c.final_summary();
    let _ = std::fs::remove_dir_all(&dir);
}

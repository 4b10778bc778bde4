//! `eeglens validate [--quick] [--cell i/N] [--merge DIR..] [--out DIR] [--json]`:
//! the planted-ground-truth grid (eeglens-validate): synthetic effects by
//! band, place and size, and null data sets, each trained and interpreted,
//! scored against what was planted.
//!
//! A run without `--cell` runs every cell, then writes `OUT/validate.json`
//! and `OUT/validate.html`. `--cell i/N` (0-based `i`) runs cells `i, i+N,
//! ...` only, as one task of a job array (`sbatch --array=0-{N-1}` with
//! `--cell $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT`); `--merge OUT..`
//! then joins the cells. Finished cells are never run twice.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context};
use eeglens_validate::grid::{parse_task, partition};
use eeglens_validate::summary::Status;
use eeglens_validate::{
    assemble, claim_out, collect, run_cell, write_doc, CellEvent, CellOptions, CellRun, GridSpec, Place,
    PlantedBand, Recording, ValidateDoc,
};

use super::Global;

/// Flags of `eeglens validate`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The small grid (5 cells, about 10 minutes on 2 cores with the default, auto; 3 with --model shallow)
    /// instead of the full one (48 cells, about 100 minutes with auto, 30 with shallow; use --cell to spread it).
    #[arg(long)]
    pub quick: bool,
    /// Run only task i of N (0-based: cells i, i+N, i+2N, ...), e.g. --cell $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT.
    #[arg(long, value_name = "i/N")]
    pub cell: Option<String>,
    /// Join the cells under these output directories into validate.json and validate.html (in --out, default the first).
    #[arg(long, value_name = "DIR", num_args = 1.., conflicts_with_all = ["quick", "cell", "list"])]
    pub merge: Vec<PathBuf>,
    /// Output directory: grid.json, cells/, validate.json, validate.html [default: eeglens-validate].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print validate.json (with --cell: the cells' results) on stdout instead of the summary.
    #[arg(long)]
    pub json: bool,
    /// Model trained in every cell: auto (selection on validation) or a zoo model [default: auto, as `train`].
    #[arg(long, value_parser = super::choice::zoo_model_or_auto())]
    pub model: Option<String>,
    /// Synthetic subjects per data set [default: 40].
    #[arg(long)]
    pub subjects: Option<usize>,
    /// Minutes of recording per subject [default: 2].
    #[arg(long)]
    pub minutes: Option<f64>,
    /// Training epochs per cell [default: 12].
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Planted bands: delta, theta, alpha, low-beta, high-beta or NAME:LO-HI, comma-separated
    /// [default: all five; quick theta,alpha,high-beta].
    #[arg(long, value_delimiter = ',')]
    pub bands: Option<Vec<String>>,
    /// Planted places: frontal, central, temporal, parieto-occipital (po) or NAME:CH+CH+..., comma-separated
    /// [default: all four; quick central].
    #[arg(long, value_delimiter = ',')]
    pub places: Option<Vec<String>>,
    /// Effect sizes, comma-separated; 0 adds null data sets [default: 0,1.5,3; quick 0,3].
    #[arg(long, value_delimiter = ',')]
    pub sizes: Option<Vec<f64>>,
    /// Seeds, comma-separated: every cell runs once per seed [default: 0].
    #[arg(long, value_delimiter = ',')]
    pub seeds: Option<Vec<u64>>,
    /// Null data sets per seed when the sizes include 0 [default: 8; quick 2].
    #[arg(long)]
    pub nulls: Option<usize>,
    /// Activation-maximisation restarts per class in each cell; below 6 it can never claim a band [default: 8].
    #[arg(long)]
    pub restarts: Option<usize>,
    /// Windows one set of activation-maximisation gains is applied to [default: 4].
    #[arg(long)]
    pub actmax_windows: Option<usize>,
    /// Activation-maximisation steps in each cell [default: 50].
    #[arg(long)]
    pub steps: Option<usize>,
    /// Permutations of each test of the spectral reading [default: 1000].
    #[arg(long)]
    pub permutations: Option<usize>,
    /// Read every subject, out of fold: each cell trains a K-fold cross-validation (`train --folds K`,
    /// K times the training) and reads it over its folds (`interpret --run PARENT`).
    #[arg(long, value_name = "K")]
    pub folds: Option<usize>,
    /// Worker threads of each cell's training [default: one per core]. Training reproduces bit
    /// for bit for a given thread count, not across counts: fix it when the cells of one grid run
    /// on different machines (a job array); it is part of the grid, recorded in grid.json.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Electrodes of every cell's recordings: hbn24 (the paper's 24) or hydrocel129 (EGI's 129-electrode
    /// net, as HBN records it; preparation picks the 24 by position) [default: hbn24].
    #[arg(long)]
    pub montage: Option<String>,
    /// File format of every cell's recordings: edf, bdf or set (EEGLAB, HBN's event codes and columns)
    /// [default: edf].
    #[arg(long)]
    pub format: Option<String>,
    /// How sources reach the electrodes: kernel or sphere (dipoles in a homogeneous sphere) [default: kernel].
    #[arg(long)]
    pub head_model: Option<String>,
    /// Record every cell as the Healthy Brain Network does: --montage hydrocel129 --format set
    /// --head-model sphere (each of those flags still overrides its part).
    #[arg(long)]
    pub hbn: bool,
    /// Recompute finished cells, and replace another grid's results in --out.
    #[arg(long)]
    pub force: bool,
    /// Keep each cell's synthetic recordings and last checkpoint (large).
    #[arg(long)]
    pub keep_data: bool,
    /// Print the grid's cells and exit.
    #[arg(long)]
    pub list: bool,
    /// Exit with code 3 when a target is missed or nothing was learned.
    #[arg(long)]
    pub check: bool,
}

/// Builds the grid from the preset and the flags.
fn grid(a: &Args) -> anyhow::Result<GridSpec> {
    let model = a.model.clone().unwrap_or_else(|| eeglens_train::select::COMMAND_DEFAULT.into());
    let mut g = if a.quick { GridSpec::quick(&model) } else { GridSpec::full(&model) };
    if let Some(v) = a.subjects {
        g.subjects = v;
    }
    if let Some(v) = a.minutes {
        g.minutes = v;
    }
    if let Some(v) = a.epochs {
        g.epochs = v;
    }
    if let Some(v) = &a.bands {
        g.bands = v.iter().map(|s| PlantedBand::parse(s)).collect::<Result<_, _>>().context("--bands")?;
    }
    if let Some(v) = &a.places {
        g.places = v.iter().map(|s| Place::parse(s)).collect::<Result<_, _>>().context("--places")?;
    }
    if let Some(v) = &a.sizes {
        g.sizes = v.clone();
    }
    if let Some(v) = &a.seeds {
        g.seeds = v.clone();
    }
    if let Some(v) = a.nulls {
        g.nulls = v;
    }
    if let Some(v) = a.restarts {
        g.interpret.restarts = v;
    }
    if let Some(v) = a.actmax_windows {
        g.interpret.windows_per_restart = v;
    }
    if let Some(v) = a.steps {
        g.interpret.steps = v;
    }
    if let Some(v) = a.permutations {
        g.interpret.permutations = v;
    }
    g.folds = a.folds;
    if a.hbn {
        g.recording = Recording::hbn();
    }
    if let Some(v) = &a.montage {
        g.recording.montage = v.to_ascii_lowercase();
    }
    if let Some(v) = &a.format {
        g.recording.format = v.to_ascii_lowercase();
    }
    if let Some(v) = &a.head_model {
        g.recording.head_model = v.to_ascii_lowercase();
    }
    if let Some(v) = a.threads {
        let cap = eeglens_train::config::max_threads();
        if v > cap {
            anyhow::bail!("--threads {v}: at most {cap} (4 per core)");
        }
        g.threads = Some(v);
    }
    g.validate()?;
    Ok(g)
}

/// Runs `eeglens validate`.
pub fn run(a: Args, g: &Global) -> anyhow::Result<()> {
    if !a.merge.is_empty() {
        return merge(&a, g);
    }
    let grid = grid(&a)?;
    let cells = grid.cells();
    if a.list {
        for c in &cells {
            println!("{}", c.name);
        }
        eprintln!("{} cells, grid {}", cells.len(), grid.hash());
        return Ok(());
    }
    let out = a.out.clone().unwrap_or_else(|| PathBuf::from("eeglens-validate"));
    let task = a.cell.as_deref().map(parse_task).transpose()?;
    // A task of a job array never removes what other tasks wrote: --force only recomputes its own cells.
    claim_out(&out, &grid, a.force && task.is_none())?;
    let chosen: Vec<usize> = match task {
        Some((i, n)) => partition(cells.len(), i, n)?,
        None => (0..cells.len()).collect(),
    };
    let log = |m: String| {
        if !g.quiet {
            eprintln!("{m}");
        }
    };
    log(format!(
        "grid {}: {} cells{}, {} subjects x {} min, {} for {} epochs; {} -> {}",
        grid.hash(),
        cells.len(),
        task.map_or(String::new(), |(i, n)| format!(" (task {i}/{n}: {} of them)", chosen.len())),
        grid.subjects,
        grid.minutes,
        grid.model,
        grid.epochs,
        eeglens_validate::merge::interpret_note(&grid),
        out.display()
    ));
    if !grid.recording.is_default() {
        log(format!("recorded as {}", grid.recording.describe()));
    }
    for w in grid.warnings() {
        eprintln!("eeglens: warning: {w}");
    }
    let opts = CellOptions { force: a.force, keep_data: a.keep_data };
    let t0 = Instant::now();
    let mut failed: Vec<String> = Vec::new();
    let mut results = Vec::new();
    for (k, &i) in chosen.iter().enumerate() {
        let cell = &cells[i];
        let spinner = spinner(g);
        let label = format!("[{}/{}] {}", k + 1, chosen.len(), cell.name);
        spinner.set_message(label.clone());
        let mut on_event = |e: &CellEvent| match e {
            CellEvent::Stage(s) => spinner.set_message(format!("{label}: {s}")),
            CellEvent::Epoch { epoch, epochs, val_accuracy } => spinner.set_message(format!(
                "{label}: train epoch {epoch}/{epochs}, val accuracy {}",
                val_accuracy.map_or("-".into(), |v| format!("{v:.3}"))
            )),
        };
        let r = run_cell(&grid, cell, &out, &opts, &mut on_event);
        spinner.finish_and_clear();
        match r {
            Ok(run) => {
                log(format!("{label}  {}", cell_line(&run)));
                results.push(run.file().result.clone());
            }
            Err(e) => {
                log(format!("{label}  FAILED: {e}"));
                failed.push(format!("{e}"));
            }
        }
    }
    if !failed.is_empty() {
        bail!(
            "{} of {} cells failed (first: {}); rerun to retry them, finished cells are kept",
            failed.len(),
            chosen.len(),
            failed[0]
        );
    }
    if let Some((i, n)) = task {
        if a.json {
            let doc = serde_json::json!({ "schema": super::schema::VALIDATE_CELLS, "task": [i, n], "cells": results });
            println!("{}", serde_json::to_string(&doc)?);
        } else {
            println!(
                "task {i}/{n}: {} cells done in {:.0} s under {}; once every task is done: eeglens validate --merge {}",
                results.len(),
                t0.elapsed().as_secs_f64(),
                out.join("cells").display(),
                out.display()
            );
        }
        return Ok(());
    }
    let doc = assemble(collect(std::slice::from_ref(&out))?)?;
    finish(&doc, &out, &a, t0.elapsed().as_secs_f64())
}

/// `--merge DIR..`.
fn merge(a: &Args, _g: &Global) -> anyhow::Result<()> {
    let t0 = Instant::now();
    let doc = assemble(collect(&a.merge)?)?;
    let out = a.out.clone().unwrap_or_else(|| a.merge[0].clone());
    claim_out(&out, &doc.grid, a.force)?;
    finish(&doc, &out, a, t0.elapsed().as_secs_f64())
}

fn finish(doc: &ValidateDoc, out: &std::path::Path, a: &Args, secs: f64) -> anyhow::Result<()> {
    let (json, html) = write_doc(doc, out)?;
    if a.json {
        println!("{}", serde_json::to_string(doc)?);
    } else {
        print_summary(doc, secs);
        println!("written     {}, {}", json.display(), html.display());
    }
    if a.check && !doc.summary.all_pass() {
        std::process::exit(3);
    }
    Ok(())
}

fn spinner(g: &Global) -> indicatif::ProgressBar {
    if !g.progress() {
        return indicatif::ProgressBar::hidden();
    }
    let pb = indicatif::ProgressBar::new_spinner();
    pb.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}")
            .expect("the template is valid"),
    );
    pb.enable_steady_tick(std::time::Duration::from_millis(200));
    pb
}

/// One line per finished cell: baseline, network, and each method's top band against the truth.
fn cell_line(run: &CellRun) -> String {
    let r = &run.file().result;
    let methods: Vec<String> = r
        .methods
        .iter()
        .iter()
        .map(|(name, m)| {
            let top = m.top_band.as_deref().unwrap_or(if m.read { "none" } else { "unread" });
            let mark = if r.is_null() {
                if m.top_band.is_some() {
                    " (false claim)"
                } else {
                    ""
                }
            } else if m.band_hit {
                " hit"
            } else {
                " miss"
            };
            format!("{name} {top}{mark}")
        })
        .collect();
    let how = match run {
        CellRun::Ran(_) => format!("{:.0} s{}", r.seconds.total, cpu(r.seconds.cpu)),
        CellRun::Skipped(_) => "done before, skipped".into(),
    };
    format!(
        "baseline {:.2}/subject, network {:.2}/window {}; {}; {how}",
        r.baseline.subject_accuracy,
        r.model.accuracy,
        if r.model.learned { "learned" } else { "NOT learned" },
        methods.join(", ")
    )
}

fn print_summary(doc: &ValidateDoc, secs: f64) {
    let s = &doc.summary;
    let loud = "NOTHING LEARNED: no network beat chance on any cell with a planted effect; recovery rates are undefined";
    if s.nothing_learned {
        println!("{loud}");
    }
    println!(
        "validate    grid {}: {} cells ({} effect, {} null), {:.0} s of cells{} ({:.0} s this run)",
        doc.grid_hash,
        doc.cells.len(),
        s.effect_cells,
        s.null_cells,
        doc.seconds.total,
        cpu(doc.seconds.cpu),
        secs
    );
    let t = &doc.seconds;
    println!(
        "stages      synth {:.0} s, prepare {:.0} s, baseline {:.0} s, train {:.0} s, interpret {:.0} s",
        t.synth, t.prepare, t.baseline, t.train, t.interpret
    );
    println!(
        "detectable  {} of the effect cells (baseline >= {:.0}% per subject); network learned on {} of all effect cells",
        s.detectable.describe(),
        100.0 * s.thresholds.detectable_subject_accuracy,
        s.learned.describe()
    );
    for b in &s.by_size {
        println!(
            "size {:<6} detectable {}, learned {}, band hit optimal {} actmax {} deconv {}",
            b.size,
            b.detectable.describe(),
            b.learned.describe(),
            b.band_hit.optimal.describe(),
            b.band_hit.actmax.describe(),
            b.band_hit.deconv.describe()
        );
    }
    for (what, groups) in [("band", &s.by_band), ("place", &s.by_place)] {
        for b in groups.iter() {
            println!(
                "{what:<5} {:<18} learned {}, band hit optimal {} actmax {} deconv {}",
                b.name,
                b.learned.describe(),
                b.band_hit.optimal.describe(),
                b.band_hit.actmax.describe(),
                b.band_hit.deconv.describe()
            );
        }
    }
    if let Some(r) = &s.replicates {
        println!(
            "replicates  {} seeds of {} effect cells: learned in every seed {}, in some {}, in none {}",
            r.seeds, r.cells, r.learned_all, r.learned_some, r.learned_none
        );
        for ((name, same), (_, planted)) in
            r.same_top_band.iter().into_iter().zip(r.planted_every_seed.iter())
        {
            println!(
                "replicates  {name}: the same top band in every seed {}, the planted band in every seed {}",
                same.describe(),
                planted.describe()
            );
        }
    }
    for c in &s.checks {
        println!("{}", c.describe());
    }
    for (name, m) in s.methods.iter() {
        println!(
            "claims      {name}: of the bands it claimed where the network learned, the planted one {}",
            m.claims_right.describe()
        );
    }
    for (name, v) in &s.variants {
        println!(
            "variant     {name}: band hit {}, channels hit {}, null claims {}, claims right {}",
            v.band_hit.describe(),
            v.channels_hit.describe(),
            v.null_claims.describe(),
            v.claims_right.describe()
        );
    }
    if !s.chosen.is_empty() {
        let counts: Vec<String> = s.chosen.iter().map(|(m, n)| format!("{m} {n}")).collect();
        println!("selection   chosen on validation, cells: {}", counts.join(", "));
    }
    let fails = s.checks.iter().filter(|c| c.status == Status::Fail).count();
    let nodata = s.checks.iter().filter(|c| c.status == Status::NoData).count();
    if s.nothing_learned {
        println!("{loud}");
    } else {
        println!(
            "verdict     {}",
            if fails == 0 && nodata == 0 {
                "every target met".to_string()
            } else {
                format!("{fails} target(s) missed, {nodata} without data")
            }
        );
    }
    println!("note        {}", doc.interpret_note);
}

/// `, 412 CPU s` when the platform reports CPU time.
fn cpu(c: Option<f64>) -> String {
    c.map_or(String::new(), |c| format!(", {c:.0} CPU s"))
}

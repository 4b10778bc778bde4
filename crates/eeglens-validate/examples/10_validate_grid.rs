//! A planted-ground-truth grid in miniature: two cells, scored and merged.
//!
//! `eeglens validate` asks whether the whole system finds an effect where it
//! was planted and stays silent where nothing was. This example runs the
//! smallest grid that shows the machinery: one *effect cell* (theta planted
//! at the central electrodes, size 3) and one *null cell* (no effect), each
//! 8 synthetic subjects of one minute, one epoch of R-VGG and a cut-down
//! interpretation. Every cell runs synth -> prepare -> baseline -> train ->
//! interpret in its own directory and is scored against the truth; the cells
//! are then collected, merged into `validate.json` and `validate.html`, and
//! the summary's checks are printed.
//!
//! A grid this small cannot claim anything (the example prints why): it is a
//! tour of the API, not a validation. `GridSpec::quick` and `GridSpec::full`
//! are the real grids.
//!
//! Run with `cargo run -p eeglens-validate --example 10_validate_grid`.

use std::time::Instant;

use eeglens_validate::{
    assemble, collect, run_cell, write_doc, CellEvent, CellOptions, GridSpec, Place, PlantedBand,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::temp_dir().join(format!("eeglens-validate-example-{}", std::process::id()));

    let mut grid = GridSpec::quick("rvgg");
    grid.subjects = 8;
    grid.minutes = 1.0;
    grid.epochs = 1;
    grid.bands = vec![PlantedBand::parse("theta")?];
    grid.places = vec![Place::parse("central")?];
    grid.sizes = vec![0.0, 3.0];
    grid.nulls = 1;
    grid.interpret.restarts = 2;
    grid.interpret.steps = 2;
    grid.interpret.permutations = 99;
    grid.validate()?;
    println!("grid {} ({} cells):", grid.hash(), grid.cells().len());
    for w in grid.warnings() {
        println!("  warning: {w}");
    }

    for cell in grid.cells() {
        let t = Instant::now();
        let mut stages = Vec::new();
        let ran = run_cell(&grid, &cell, &out, &CellOptions::default(), &mut |e| {
            if let CellEvent::Stage(s) = e {
                stages.push(*s);
            }
        })?;
        let r = &ran.file().result;
        println!("\ncell {} ({}; {:.1} s)", r.name, stages.join(" -> "), t.elapsed().as_secs_f64());
        match (&r.band_name, &r.place) {
            (Some(b), Some(p)) => {
                println!("  planted: {b} at {p} ({}), size {}", r.channels.join(", "), r.size)
            }
            _ => println!("  planted: nothing (a null cell)"),
        }
        println!(
            "  baseline: test accuracy {:.3}, learned {}, strongest band {}",
            r.baseline.accuracy, r.baseline.learned, r.baseline.top_band
        );
        println!(
            "  network:  test accuracy {:.3} after {} epoch(s), learned {}",
            r.model.accuracy, r.model.epochs_done, r.model.learned
        );
        for (method, score) in r.methods.iter() {
            println!(
                "  {method:<8} read {}, top band {}, band hit {}",
                score.read,
                score.top_band.as_deref().unwrap_or("none"),
                score.band_hit
            );
        }
    }

    // Cells may come from many processes (a job array); merging checks they form one grid.
    let files = collect(std::slice::from_ref(&out))?;
    let doc = assemble(files)?;
    let (json, html) = write_doc(&doc, &out)?;
    println!(
        "\nmerged {} cells into {} and {}",
        doc.cells.len(),
        json.file_name().unwrap_or_default().to_string_lossy(),
        html.file_name().unwrap_or_default().to_string_lossy()
    );
    let s = &doc.summary;
    println!("{} effect cell(s), {} null cell(s); checks:", s.effect_cells, s.null_cells);
    for c in &s.checks {
        println!("  {:<8} {:<24} {}", c.status.label(), c.key, c.rate.describe());
    }
    std::fs::remove_dir_all(&out)?;
    Ok(())
}

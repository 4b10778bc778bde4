//! Train R-VGG on a small store and evaluate it per window and per subject.
//!
//! A toy epoch store (24 subjects split 12/4/8 into train, validation and
//! test, 16 windows each of 8 channels x 32 samples; class 1 carries a rhythm
//! on half the channels) is written in milliseconds, then `train` runs the
//! command line's recipe (R-VGG, Adam, batch 40; learning rate 1e-3 instead
//! of 5e-4, so that six epochs are enough): it
//! fits the band-power baseline first, validates after every epoch, keeps
//! the best and last checkpoints and evaluates the best model on the test
//! split. The example prints each epoch, the test figures, the chance
//! verdict and the files of the run directory.
//!
//! Run with `cargo run -p eeglens-train --example 07_train_run`.

use eeglens_data::store::EpochStore;
use eeglens_data::toy::{toy_set, ToyConfig};
use eeglens_train::{train, Progress, TrainConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("eeglens-train-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let data = dir.join("epochs.safetensors");
    toy_set(&ToyConfig { windows: 16, effect: 1.5, ..ToyConfig::default() }).write(&data)?;
    let store = EpochStore::open(&data)?;
    println!(
        "store: {} windows of {} x {}, classes {:?}",
        store.len(),
        store.n_channels(),
        store.n_samples(),
        store.meta().classes
    );

    // The command line's recipe with a larger learning rate, so six epochs are enough.
    let cfg = TrainConfig { model: "rvgg".into(), epochs: 6, lr: 1e-3, ..TrainConfig::default() };
    let run = dir.join("run");
    let summary = train(&cfg, &store, &run, &mut |p| match p {
        Progress::Start { n_train, n_val, batches, threads, .. } => {
            println!("training {} on {n_train} windows ({batches} batches, {threads} threads), validating on {n_val}", cfg.model)
        }
        Progress::Baseline(b) => println!(
            "baseline (log band power + logistic regression): test accuracy {:.3}, strongest in {}",
            b.test.accuracy, b.top_band
        ),
        Progress::Epoch(r) => println!(
            "  epoch {}: train loss {:.3}, accuracy {:.3} | val accuracy {:.3}, per subject {:.3}{}",
            r.epoch,
            r.train_loss,
            r.train_accuracy,
            r.val_accuracy.unwrap_or(f64::NAN),
            r.val_subject_accuracy.unwrap_or(f64::NAN),
            if r.best { "  (best so far)" } else { "" }
        ),
        Progress::Restart { attempt, reason } => println!("  restart, attempt {attempt}: {reason}"),
        _ => {}
    })?;
    println!(
        "stopped: {:?} after {} epochs in {:.1} s; best epoch {:?}",
        summary.stop, summary.epochs_done, summary.seconds, summary.best_epoch
    );

    let test = summary.test.as_ref().expect("the store has a test split");
    println!(
        "\ntest ({} windows, {} subjects): accuracy {:.3} per window, {:.3} per subject, balanced {:.3}",
        test.n_windows, test.n_subjects, test.accuracy, test.subject_accuracy, test.balanced_accuracy
    );
    println!("  confusion (rows: true {:?}, columns: predicted): {:?}", test.classes, test.confusion);
    if let Some(chance) = &test.chance {
        println!(
            "  against chance {:.2}: windows {}/{} right, p = {:.2e}; subjects {}/{} right -> {}",
            chance.window.chance,
            chance.window.correct,
            chance.window.n,
            chance.window.p,
            chance.subject.correct,
            chance.subject.n,
            if chance.learned { "learned" } else { "NOT above chance" }
        );
    }

    let mut files: Vec<String> = std::fs::read_dir(&run)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    println!("\nrun directory: {}", files.join(", "));
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

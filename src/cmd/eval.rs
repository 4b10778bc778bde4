//! `eeglens eval --run RUN_DIR [--split test|val|train] [--json]`: the run's best
//! model on one split, per window and per subject.

use std::path::PathBuf;

use eeglens_data::store::Split;
use eeglens_train::{evaluate_split, RunDir};

use super::choice::SplitArg;

/// Flags of `eeglens eval`.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// Run directory (from `eeglens train`).
    #[arg(long)]
    pub run: PathBuf,
    /// Which windows.
    #[arg(long, value_enum, ignore_case = true, default_value = "test")]
    pub split: SplitArg,
    /// Another epoch store (the run's moved, or was prepared again): accepted when it is the
    /// run's or its subjects keep the run's splits [default: the run's, which must be unchanged].
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
    /// With --json, include every window's class probabilities.
    #[arg(long)]
    pub windows: bool,
}

/// Runs `eeglens eval`: one run, or every seed of a parent directory (`train --seeds`).
pub fn run(a: Args, g: &super::Global) -> anyhow::Result<()> {
    let seeds = eeglens_train::run_dir::seed_runs(&a.run)?;
    if seeds.is_empty() {
        return run_one(a, g);
    }
    let split = Split::from(a.split);
    let mut rows = Vec::new();
    for (seed, dir) in &seeds {
        let run = RunDir::open(dir)?;
        let store = run.open_store(a.data.as_deref())?;
        rows.push((*seed, evaluate_split(&run, &store, split)?.without_windows()));
    }
    let stat = |f: &dyn Fn(&eeglens_train::EvalReport) -> f64| {
        let v: Vec<f64> = rows.iter().map(|(_, r)| f(r)).collect();
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let sd = if v.len() < 2 {
            0.0
        } else {
            (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
        };
        (mean, sd)
    };
    let acc = stat(&|r| r.accuracy);
    let subj = stat(&|r| r.subject_accuracy);
    let learned = rows.iter().filter(|(_, r)| r.chance.as_ref().is_some_and(|c| c.learned)).count();
    if a.json {
        let doc = serde_json::json!({
            "split": split.name(),
            "seeds": rows.iter().map(|(s, r)| serde_json::json!({"seed": s, "report": r})).collect::<Vec<_>>(),
            "mean": {"accuracy": acc.0, "subject_accuracy": subj.0},
            "sd": {"accuracy": acc.1, "subject_accuracy": subj.1},
            "learned": learned,
        });
        println!("{doc}");
        return Ok(());
    }
    println!("seed   accuracy  subject  learned");
    for (seed, r) in &rows {
        let l = r.chance.as_ref().is_some_and(|c| c.learned);
        println!(
            "{seed:>4}   {:.3}     {:.3}    {}",
            r.accuracy,
            r.subject_accuracy,
            if l { "yes" } else { "NO" }
        );
    }
    println!(
        "mean   {:.3} ± {:.3} per window, {:.3} ± {:.3} per subject (SD over {} seeds); above chance in {learned} of {}",
        acc.0,
        acc.1,
        subj.0,
        subj.1,
        rows.len(),
        rows.len()
    );
    Ok(())
}

fn run_one(a: Args, _g: &super::Global) -> anyhow::Result<()> {
    let split = Split::from(a.split);
    let run = RunDir::open(&a.run)?;
    let store = run.open_store(a.data.as_deref())?;
    let report = evaluate_split(&run, &store, split)?;
    if a.json {
        let r = if a.windows { report } else { report.without_windows() };
        println!("{}", serde_json::to_string(&r)?);
        return Ok(());
    }
    let fmt = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.3}"));
    println!("split       {} ({} windows, {} subjects)", report.split, report.n_windows, report.n_subjects);
    println!(
        "per window  accuracy {:.3}  balanced {:.3}  AUC {}  loss {:.4}",
        report.accuracy,
        report.balanced_accuracy,
        fmt(report.auc),
        report.loss
    );
    println!(
        "per subject accuracy {:.3} (mean probabilities), {:.3} (majority vote)  balanced {:.3}  AUC {}",
        report.subject_accuracy,
        report.subject_accuracy_vote,
        report.subject_balanced_accuracy,
        fmt(report.subject_auc)
    );
    if let Some(c) = &report.chance {
        if c.learned {
            println!("chance      {}", c.describe());
        } else {
            println!("WARNING     {}", c.describe());
        }
    }
    if let Ok(Some(b)) = run.baseline() {
        let r = if report.split == "val" { &b.val } else { &b.test };
        if r.split == report.split {
            println!(
                "baseline    band power + logistic regression: accuracy {:.3} per window, {:.3} per subject ({})",
                r.accuracy, r.subject_accuracy, r.split
            );
        }
    }
    println!("confusion   rows true, columns predicted: {}", report.classes.join(", "));
    for (name, row) in report.classes.iter().zip(&report.confusion) {
        let cells: Vec<String> = row.iter().map(|v| format!("{v:>7}")).collect();
        println!("  {name:>8} {}", cells.join(""));
    }
    Ok(())
}

//! `eeglens eval --run RUN_DIR [--split test|val|train] [--precision fp32|bf16] [--json]`:
//! the run's best model on one split, per window and per subject; over a parent
//! directory, every seed (`train --seeds`) or every fold of a cross-validation
//! (`train --folds`).

use std::path::PathBuf;

use eeglens_data::store::Split;
use eeglens_nn::Precision;
use eeglens_train::regression::{
    evaluate_run_regression, summarise_folds, RegressionFigures, RegressionReport,
};
use eeglens_train::{evaluate_split_at, RunDir};

use super::choice::{PrecisionArg, SplitArg};

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
    /// Arithmetic of the forward passes: fp32 (the reference), or bf16 (the
    /// products of the convolutions and linear layers in bf16 with fp32 sums, on CPUs with AVX512_BF16;
    /// elsewhere fp32, said once on stderr). Classification runs only.
    #[arg(long, value_enum, ignore_case = true, default_value = "fp32")]
    pub precision: PrecisionArg,
}

/// `value` as a JSON object with a `precision` field.
fn with_precision<T: serde::Serialize>(value: &T, precision: Precision) -> anyhow::Result<serde_json::Value> {
    let mut v = serde_json::to_value(value)?;
    if let Some(o) = v.as_object_mut() {
        o.insert("precision".into(), precision.name().into());
    }
    Ok(v)
}

/// Runs `eeglens eval`: one run, or every seed of a parent directory (`train --seeds`),
/// or every fold of one (`train --folds`).
pub fn run(a: Args, g: &super::Global) -> anyhow::Result<()> {
    let fold_runs = eeglens_train::folds::fold_runs(&a.run)?;
    let seeds = eeglens_train::run_dir::seed_runs(&a.run)?;
    let regression = match fold_runs.first() {
        Some((_, first)) => is_regression(first),
        None if seeds.is_empty() => is_regression(&a.run),
        None => seeds.iter().any(|(_, d)| is_regression(d)),
    };
    if regression && a.precision != PrecisionArg::Fp32 {
        anyhow::bail!(
            "{}: --precision bf16 evaluates classification runs; evaluate a regression run in fp32",
            a.run.display()
        );
    }
    let precision = a.precision.resolve();
    if let Some((_, first)) = fold_runs.first() {
        if is_regression(first) {
            return run_folds_regression(&a);
        }
        return run_folds(&a, precision);
    }
    if seeds.is_empty() {
        if is_regression(&a.run) {
            return run_one_regression(&a);
        }
        return run_one(a, g, precision);
    }
    if seeds.iter().any(|(_, d)| is_regression(d)) {
        anyhow::bail!(
            "{}: seeds of a regression are not summarised yet; evaluate each with --run {}",
            a.run.display(),
            seeds[0].1.display()
        );
    }
    let split = Split::from(a.split);
    let mut rows = Vec::new();
    for (seed, dir) in &seeds {
        let run = RunDir::open(dir)?;
        let store = run.open_store(a.data.as_deref())?;
        rows.push((*seed, evaluate_split_at(&run, &store, split, precision)?.without_windows()));
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
            "schema": super::schema::EVAL_SEEDS,
            "split": split.name(),
            "seeds": rows.iter().map(|(s, r)| serde_json::json!({"seed": s, "report": r})).collect::<Vec<_>>(),
            "mean": {"accuracy": acc.0, "subject_accuracy": subj.0},
            "sd": {"accuracy": acc.1, "subject_accuracy": subj.1},
            "learned": learned,
            "precision": precision.name(),
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

/// Every fold of a cross-validation on its test subjects: a row per fold,
/// mean ± SD and the 95% t-interval over folds, and the pooled out-of-fold figures.
fn run_folds(a: &Args, precision: Precision) -> anyhow::Result<()> {
    use eeglens_train::folds;
    let split = Split::from(a.split);
    if split != Split::Test {
        anyhow::bail!(
            "--split {}: a cross-validation is evaluated on each fold's test subjects; evaluate one fold's {} split with --run {}",
            split.name(),
            split.name(),
            a.run.join(folds::fold_dir_name(0)).display()
        );
    }
    let runs = folds::open_folds(&a.run)?;
    let mut reports = Vec::new();
    for (fold, run) in &runs {
        let store = run.open_store(a.data.as_deref())?;
        reports.push((
            *fold,
            run.path().to_path_buf(),
            evaluate_split_at(run, &store, split, precision)?.without_windows(),
        ));
    }
    let seed = runs[0].1.config().train.fold.as_ref().map_or(0, |f| f.partition_seed);
    let e = folds::summarise(&reports, seed);
    if a.json {
        println!("{}", serde_json::to_string(&with_precision(&e, precision)?)?);
        return Ok(());
    }
    let f3 = |v: Option<f64>| v.map_or("    -".to_string(), |v| format!("{v:.3}"));
    println!("fold  subjects  windows  accuracy  balanced  AUC    subject  subj-bal  subj-AUC  learned");
    for f in &e.folds {
        println!(
            "{:>4}  {:>8}  {:>7}  {:.3}     {:.3}     {}  {:.3}    {:.3}     {}     {}",
            f.fold,
            f.subjects_tested.len(),
            f.n_windows,
            f.accuracy,
            f.balanced_accuracy,
            f3(f.auc),
            f.subject_accuracy,
            f.subject_balanced_accuracy,
            f3(f.subject_auc),
            if f.learned { "yes" } else { "NO" }
        );
    }
    let pm = |name: &str| match (e.mean.get(name), e.sd.get(name), e.ci95.get(name)) {
        (Some(m), Some(s), Some([lo, hi])) => format!("{m:.3} ± {s:.3} (95% CI {lo:.3} to {hi:.3})"),
        _ => "- (a fold lacks it)".to_string(),
    };
    println!("over {} folds (mean ± SD; t-interval of the mean):", e.n_folds);
    for (name, what) in [
        ("accuracy", "per window  accuracy "),
        ("balanced_accuracy", "per window  balanced "),
        ("auc", "per window  AUC      "),
        ("subject_accuracy", "per subject accuracy "),
        ("subject_balanced_accuracy", "per subject balanced "),
        ("subject_auc", "per subject AUC      "),
    ] {
        println!("  {what} {}", pm(name));
    }
    let p = &e.pooled;
    println!(
        "pooled out of fold ({} subjects, each tested once; {} windows): {:.3} per window (balanced {:.3}), {:.3} per subject (balanced {:.3})",
        p.n_subjects, p.n_windows, p.accuracy, p.balanced_accuracy, p.subject_accuracy, p.subject_balanced_accuracy
    );
    println!("above chance in {} of {} folds", e.learned, e.n_folds);
    if let Some(c) = &p.chance {
        println!("pooled out of fold, {}", c.describe());
    }
    Ok(())
}

/// Whether the run in `dir` is a regression on a numeric target (an unreadable run is not:
/// opening it again reports why).
fn is_regression(dir: &std::path::Path) -> bool {
    RunDir::open(dir).is_ok_and(|r| r.config().data.target.is_some())
}

/// `MAE 1.234 years  RMSE ..  R² ..  r ..`.
fn figures_line(f: &RegressionFigures, unit: &str) -> String {
    format!("MAE {:.3}{unit}  RMSE {:.3}{unit}  R² {:.3}  r {:.3}", f.mae, f.rmse, f.r2, f.r)
}

/// The text of a regression's evaluation, as `eval` and `train` print it.
pub fn describe_regression(r: &RegressionReport) -> String {
    let unit = r.target.unit.as_deref().map_or(String::new(), |u| format!(" {u}"));
    let s = &r.significance;
    let verdict = format!(
        "subjects' r {:.3} over {} subjects, one-sided t-test of r > 0: t = {:.2}, df {}, p = {}",
        s.r,
        s.n_subjects,
        s.t,
        s.df,
        s.p.map_or("n/a (fewer than 3 subjects)".into(), |p| format!("{p:.3}"))
    );
    [
        format!(
            "split       {} ({} windows, {} subjects); target `{}` (training mean {:.3}{unit}, SD {:.3})",
            r.split, r.n_windows, r.n_subjects, r.target.column, r.target.mean, r.target.sd
        ),
        format!("per window  {}  loss {:.4} (standardised MSE)", figures_line(&r.window, &unit), r.loss),
        format!("per subject {} (mean prediction of its windows)", figures_line(&r.subject, &unit)),
        if s.learned {
            format!("learned     {verdict}")
        } else {
            format!("WARNING     not learned: {verdict}")
        },
    ]
    .join("\n")
}

/// `eval` of one regression run.
fn run_one_regression(a: &Args) -> anyhow::Result<()> {
    let run = RunDir::open(&a.run)?;
    let store = run.open_store(a.data.as_deref())?;
    let report = evaluate_run_regression(&run, &store, Split::from(a.split))?;
    if a.json {
        let r = if a.windows { report } else { report.without_windows() };
        println!("{}", serde_json::to_string(&r)?);
    } else {
        println!("{}", describe_regression(&report));
    }
    Ok(())
}

/// `eval` over the folds of a regression's cross-validation: a row per fold, mean ± SD over
/// folds, and the pooled out-of-fold figures.
fn run_folds_regression(a: &Args) -> anyhow::Result<()> {
    use eeglens_train::folds;
    if Split::from(a.split) != Split::Test {
        anyhow::bail!("--split: a cross-validation is evaluated on each fold's test subjects");
    }
    let mut reports = Vec::new();
    for (fold, run) in folds::open_folds(&a.run)? {
        let store = run.open_store(a.data.as_deref())?;
        reports.push((fold, run.path().to_path_buf(), evaluate_run_regression(&run, &store, Split::Test)?));
    }
    let e = summarise_folds(&reports);
    if a.json {
        println!("{}", serde_json::to_string(&e)?);
        return Ok(());
    }
    let unit = e.target.unit.as_deref().map_or(String::new(), |u| format!(" {u}"));
    println!("fold  subjects  window MAE  R²      r       subject MAE  R²      r       learned");
    for f in &e.folds {
        println!(
            "{:>4}  {:>8}  {:>10.3}  {:>6.3}  {:>6.3}  {:>11.3}  {:>6.3}  {:>6.3}  {}",
            f.fold,
            f.subjects_tested.len(),
            f.window.mae,
            f.window.r2,
            f.window.r,
            f.subject.mae,
            f.subject.r2,
            f.subject.r,
            if f.learned { "yes" } else { "NO" }
        );
    }
    println!("over {} folds (mean ± SD):", e.folds.len());
    for level in ["window", "subject"] {
        let pm = |k: &str| {
            format!("{:.3} ± {:.3}", e.mean[&format!("{level}_{k}")], e.sd[&format!("{level}_{k}")])
        };
        println!(
            "  per {level:<8} MAE {}{unit}  RMSE {}{unit}  R² {}  r {}",
            pm("mae"),
            pm("rmse"),
            pm("r2"),
            pm("r")
        );
    }
    println!("pooled out of fold, per window:  {}", figures_line(&e.pooled_window, &unit));
    println!("pooled out of fold, per subject: {}", figures_line(&e.pooled_subject, &unit));
    println!(
        "learned in {} of {} folds; pooled subjects' r {:.3}, one-sided t-test p = {}",
        e.learned,
        e.folds.len(),
        e.pooled_significance.r,
        e.pooled_significance.p.map_or("n/a".into(), |p| format!("{p:.3}"))
    );
    Ok(())
}

fn run_one(a: Args, _g: &super::Global, precision: Precision) -> anyhow::Result<()> {
    let split = Split::from(a.split);
    let run = RunDir::open(&a.run)?;
    let store = run.open_store(a.data.as_deref())?;
    let report = evaluate_split_at(&run, &store, split, precision)?;
    if a.json {
        let r = if a.windows { report } else { report.without_windows() };
        super::print_document(eeglens_train::eval::EVAL_FORMAT, &with_precision(&r, precision)?)?;
        return Ok(());
    }
    if precision != Precision::Fp32 {
        println!("precision   {precision} (products in bf16 with fp32 sums; fp32 is the reference)");
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

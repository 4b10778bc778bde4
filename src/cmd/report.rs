//! `eeglens report --run RUN_DIR [--out FILE.html]`: one self-contained HTML
//! page of a run and its interpretation, or of a parent directory of seed
//! runs with their agreement.

use std::path::{Path, PathBuf};

use anyhow::bail;
use eeglens_report::wording::chance_verdict;
use eeglens_report::{load_run, render_html, ReportInput};
use eeglens_train::RunDir;

/// Flags of `eeglens report`.
#[derive(clap::Args, Debug, Clone, Default, PartialEq)]
pub struct Args {
    /// Run directory (from `eeglens train`, interpreted by `eeglens interpret`), or a parent
    /// directory of seed runs (`seed-<n>/`) with their `agreement.json`.
    #[arg(long)]
    pub run: PathBuf,
    /// The HTML file to write [default: RUN_DIR/report.html].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Where `eeglens interpret` wrote its outputs [default: RUN_DIR/interpret; for a parent
    /// directory, that of the seed shown].
    #[arg(long)]
    pub interpret: Option<PathBuf>,
    /// Replace the HTML file when it exists.
    #[arg(long)]
    pub force: bool,
    /// Print one JSON document on stdout (`eeglens-report/1`, docs/json.md: the files written and
    /// what the page lacks) instead of the summary.
    #[arg(long)]
    pub json: bool,
}

/// Refuses an `out` that would replace a file the report is made from (a file
/// of the run or of the interpretation other than a report, or the run's
/// store), and an existing report without `--force`.
fn claim(a: &Args, out: &Path) -> anyhow::Result<()> {
    let inside = |dir: &Path| match (std::fs::canonicalize(out), std::fs::canonicalize(dir)) {
        (Ok(o), Ok(d)) => o.starts_with(d),
        _ => false,
    };
    let is_report = out.file_name().is_some_and(|n| n == eeglens_report::REPORT_FILE);
    let of_run = inside(&a.run) || a.interpret.as_deref().is_some_and(inside);
    if out.is_file() && of_run && !is_report {
        bail!(
            "{}: is a file of the run {}; --out must name another file, so the run is not destroyed",
            out.display(),
            a.run.display()
        );
    }
    let data = RunDir::open(&a.run).ok().map(|r| r.data_path().to_path_buf());
    let inputs: Vec<(&str, &Path)> = data.iter().map(|d| ("the run's epoch store", d.as_path())).collect();
    super::claim_output(out, "--out", a.force, &inputs)
}

/// Runs `eeglens report`.
pub fn run(a: Args, _g: &super::Global) -> anyhow::Result<()> {
    super::refuse_regression(&a.run, "report")?;
    let out = a.out.clone().unwrap_or_else(|| a.run.join(eeglens_report::REPORT_FILE));
    let input = load_run(&a.run, a.interpret.as_deref())?;
    claim(&a, &out)?;
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| anyhow::anyhow!("{}: {e}", parent.display()))?;
    }
    super::write_file(&out, render_html(&input).as_bytes())?;
    if a.json {
        let doc = serde_json::json!({
            "run": a.run,
            "out": out,
            "written": [&out],
            "seeds": input.seeds.as_ref().map(|s| serde_json::json!({"runs": s.runs.len(), "shown": s.shown})),
            "test": input.eval.as_ref().map(|e| serde_json::json!({
                "accuracy": e.accuracy,
                "subject_accuracy": e.subject_accuracy,
                "learned": e.chance.as_ref().map(|c| c.learned),
            })).or_else(|| input.regression.as_ref().map(|r| serde_json::json!({
                "target": r.target.column,
                "window": r.window,
                "subject": r.subject,
                "learned": r.significance.learned,
            }))),
            "interpreted": input.interpretation.is_some(),
            "missing": input.missing.iter().map(|m| m.describe()).collect::<Vec<_>>(),
        });
        return super::print_document(super::schema::REPORT, &doc);
    }
    print_summary(&input);
    for m in &input.missing {
        println!("missing     {}", m.describe());
    }
    println!("written     {}", out.display());
    Ok(())
}

/// What the page says first, on the terminal.
fn print_summary(input: &ReportInput) {
    if let Some(f) = &input.folds {
        println!(
            "folds       {} folds, {} subjects each tested once out of fold; {} of {} folds above chance; curves and layers of fold {}",
            f.eval.n_folds, f.eval.pooled.n_subjects, f.eval.learned, f.eval.n_folds, f.shown
        );
    }
    if let Some(s) = &input.seeds {
        println!("seeds       {} runs; the page shows seed {}", s.runs.len(), s.shown);
        for line in s.agreement.iter().flat_map(|a| a.describe()) {
            println!("agreement   {line}");
        }
    }
    if let Some(e) = &input.eval {
        println!("test        {:.3} per window, {:.3} per subject", e.accuracy, e.subject_accuracy);
        if let Some(c) = &e.chance {
            println!("chance      {}", c.describe());
        }
    }
    if let Some(r) = &input.regression {
        let (w, s) = (&r.window, &r.subject);
        println!(
            "test        `{}` per subject MAE {:.3}, R² {:.3}, r {:.3}; per window MAE {:.3}, R² {:.3}, r {:.3}",
            r.target.column, s.mae, s.r2, s.r, w.mae, w.r2, w.r
        );
    }
    if let Some(b) = &input.baseline {
        println!(
            "baseline    {:.3} per window, {:.3} per subject (band power; {})",
            b.test.accuracy,
            b.test.subject_accuracy,
            if b.chance.learned { "above chance" } else { "not above chance" }
        );
    }
    let Some(i) = &input.interpretation else { return };
    let verdict = chance_verdict(input.eval.as_ref(), Some(&i.report));
    let not_run =
        if verdict.is_some_and(|v| !v.learned) { "not read (the model is at chance)" } else { "not run" };
    let m = &i.report.methods;
    let top = |t: Option<&Option<String>>| match t {
        Some(Some(b)) => b.clone(),
        Some(None) => "none significant".into(),
        None => not_run.into(),
    };
    println!(
        "top band    optimal: {}, actmax: {}, deconv: {}",
        top(m.optimal.as_ref().map(|r| &r.reading.top_band)),
        top(m.actmax.as_ref().map(|r| &r.reading.top_band)),
        top(m.deconv.as_ref().map(|r| &r.reading.top_band))
    );
}

//! `eeglens baseline --data STORE [--json] [--out FILE]`: log band power per
//! channel and band with an L2 logistic regression — is the class difference
//! decodable at all, and where does the simplest model look.

use std::path::PathBuf;

use eeglens_data::store::EpochStore;
use eeglens_train::baseline::{baseline, BASELINE_FORMAT};

/// Flags of `eeglens baseline`.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// Epoch store (from `eeglens prepare`).
    #[arg(long)]
    pub data: PathBuf,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
    /// Also write the JSON to this file.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Overwrite --out when it exists.
    #[arg(long)]
    pub force: bool,
}

/// Runs `eeglens baseline`.
pub fn run(a: Args, _g: &super::Global) -> anyhow::Result<()> {
    if let Some(out) = &a.out {
        super::claim_output(out, "--out", a.force, &[("the --data store", &a.data)])?;
    }
    let store = EpochStore::open(&a.data)?;
    let report = baseline(&store)?;
    let text = serde_json::to_string(&super::document(BASELINE_FORMAT, &report.without_windows())?)?;
    if let Some(out) = &a.out {
        super::write_file(out, text.as_bytes())?;
    }
    if a.json {
        println!("{text}");
        return Ok(());
    }
    let fmt = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.3}"));
    let t = &report.test;
    println!(
        "baseline    log band power ({}) x {} channels, logistic regression, C = {} (on validation)",
        report.bands.join(", "),
        report.channels.len(),
        report.c
    );
    println!(
        "validation  accuracy {:.3} per window, {:.3} per subject",
        report.val.accuracy, report.val.subject_accuracy
    );
    println!(
        "test        accuracy {:.3}  balanced {:.3}  AUC {} per window; {:.3} per subject ({} subjects)",
        t.accuracy,
        t.balanced_accuracy,
        fmt(t.auc),
        t.subject_accuracy,
        t.n_subjects
    );
    println!("chance      {}", report.chance.describe());
    println!("where       {}", report.where_text());
    Ok(())
}

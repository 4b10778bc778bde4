//! `eeglens merge PART.safetensors... --out FILE.safetensors`: joins the parts of
//! `prepare --shard i/N` into the store a single `prepare` writes.

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::Global;

/// Flags of `eeglens merge`.
#[derive(clap::Args, Debug, PartialEq)]
pub struct Args {
    /// The parts written by `prepare --shard i/N`, all N of them, in any order.
    #[arg(required = true, value_name = "PART")]
    pub parts: Vec<PathBuf>,
    /// Epoch store to write (.safetensors).
    #[arg(long)]
    pub out: PathBuf,
    /// Print a JSON summary on stdout.
    #[arg(long)]
    pub json: bool,
    /// Replace --out when it exists.
    #[arg(long)]
    pub force: bool,
}

/// Runs `eeglens merge`.
pub fn run(a: Args, _g: &Global) -> anyhow::Result<()> {
    let inputs: Vec<(&str, &Path)> = a.parts.iter().map(|p| ("a part to merge", p.as_path())).collect();
    super::claim_output(&a.out, "--out", a.force, &inputs)?;
    let provenance = serde_json::to_value(super::provenance_step("merge")).ok();
    let t0 = std::time::Instant::now();
    let s = eeglens_data::prepare::merge(&a.parts, &a.out, provenance)
        .with_context(|| format!("merging into {}", a.out.display()))?;
    let secs = t0.elapsed().as_secs_f64();
    if a.json {
        println!("{}", super::prepare::summary_json(&s, secs));
    } else {
        super::prepare::print_summary(&s, secs, None);
    }
    super::prepare::print_reader_warnings(&s);
    for w in &s.warnings {
        eprintln!("eeglens: warning: {w}");
    }
    Ok(())
}

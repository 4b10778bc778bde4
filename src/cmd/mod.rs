//! One module per subcommand.

use std::io::IsTerminal;

pub mod baseline;
pub mod bench;
pub mod demo;
pub mod eval;
pub mod forward;
pub mod inspect;
pub mod interpret;
pub mod prepare;
pub mod report;
pub mod synth;
pub mod train;
pub mod validate;

/// Flags every subcommand accepts.
#[derive(clap::Args, Debug, Clone)]
pub struct Global {
    /// Suppress progress bars (they are also off when stderr is not a terminal).
    #[arg(long, global = true)]
    pub quiet: bool,
}

impl Global {
    /// Whether long-running work should draw a progress bar on stderr.
    pub fn progress(&self) -> bool {
        !self.quiet && std::io::stderr().is_terminal()
    }
}

/// A progress bar on stderr for `len` steps, hidden when [`Global::progress`] is false.
pub fn bar(g: &Global, len: u64, what: &str) -> indicatif::ProgressBar {
    if !g.progress() {
        return indicatif::ProgressBar::hidden();
    }
    let pb = indicatif::ProgressBar::new(len);
    let style = indicatif::ProgressStyle::with_template(
        "{msg:>12} [{bar:30}] {pos}/{len} {elapsed_precise} eta {eta}",
    )
    .expect("the template is valid")
    .progress_chars("=> ");
    pb.set_style(style);
    pb.set_message(what.to_string());
    pb
}

/// Parses a range written `LO-HI` (e.g. `4-8`, `0.25-25`).
pub fn parse_range(s: &str) -> Result<(f64, f64), String> {
    let (a, b) = s.split_once('-').ok_or_else(|| format!("`{s}` is not a range LO-HI (e.g. 4-8)"))?;
    let lo: f64 = a.trim().parse().map_err(|_| format!("`{a}` in `{s}` is not a number"))?;
    let hi: f64 = b.trim().parse().map_err(|_| format!("`{b}` in `{s}` is not a number"))?;
    if !(lo.is_finite() && hi.is_finite() && lo < hi) {
        return Err(format!("range `{s}` must have LO < HI"));
    }
    Ok((lo, hi))
}

/// `eeglens version`.
pub fn version(_g: &Global) -> anyhow::Result<()> {
    println!("eeglens {}", env!("CARGO_PKG_VERSION"));
    println!("threads: {}", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    Ok(())
}

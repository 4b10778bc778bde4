//! One module per subcommand.

use std::io::IsTerminal;

pub mod bench;
pub mod forward;
pub mod inspect;

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

/// `eeglens version`.
pub fn version(_g: &Global) -> anyhow::Result<()> {
    println!("eeglens {}", env!("CARGO_PKG_VERSION"));
    println!("threads: {}", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    Ok(())
}

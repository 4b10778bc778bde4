//! The `eeglens` command line: parse flags, call the libraries, print.
//! No science lives here; every subcommand is one module.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Train convolutional networks on raw EEG and find out what they learned.
#[derive(Parser)]
#[command(name = "eeglens", version, about, long_about = None)]
struct Cli {
    /// Suppress progress bars.
    #[arg(long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = cli.quiet;
    match cli.command {}
}

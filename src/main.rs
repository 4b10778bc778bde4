//! The `eeglens` command line: parse flags, call the libraries, print.
//!
//! No science lives here. Each subcommand is one module in `cmd/` with an
//! `Args` struct (clap) and `run(args, &Global) -> anyhow::Result<()>`.
//! Errors print as one line, `eeglens: error: ...`. Exit codes: 0 success;
//! 1 the command failed (bad input, a refused output, ...); 2 the command line
//! cannot be parsed; 3 `validate --check` found a target missed; 130
//! interrupted (`train` after Ctrl-C or SIGTERM, resumable).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

/// Train convolutional networks on raw EEG and find out what they learned.
#[derive(Parser)]
#[command(name = "eeglens", version, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    global: cmd::Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the engine's version and the kernels' configuration.
    Version,
    /// Logits of a batch with given weights; with labels also the loss and d loss / d input.
    Forward(cmd::forward::Args),
    /// Training, inference and activation-maximisation throughput.
    Bench(cmd::bench::Args),
    /// Header, channels, rate, duration and annotations of a recording, or a BIDS dataset's contents.
    Inspect(cmd::inspect::Args),
    /// Write a synthetic BIDS dataset with a planted, known class effect.
    Synth(cmd::synth::Args),
    /// Turn a BIDS dataset into labelled 2-second windows (an epoch store).
    Prepare(cmd::prepare::Args),
    /// Join the parts of `prepare --shard i/N` into the store a single prepare writes.
    Merge(cmd::merge::Args),
    /// Train a zoo model on an epoch store into a run directory (resumable).
    Train(cmd::train::Args),
    /// Band power + logistic regression on an epoch store: what is decodable at all, and where.
    Baseline(cmd::baseline::Args),
    /// Evaluate a run's best model on a split, per window and per subject.
    Eval(cmd::eval::Args),
    /// Optimal samples, activation maximisation and deconvnet on a run, with their spectral reading.
    Interpret(cmd::interpret::Args),
    /// One self-contained HTML page of a run and its interpretation, with figures.
    Report(cmd::report::Args),
    /// The whole system on synthetic data: synth -> prepare -> train -> interpret -> report.
    Demo(cmd::demo::Args),
    /// Planted-effect grid: is an effect found where it was planted, and nothing on null data?
    Validate(cmd::validate::Args),
}

/// Restores the default action of SIGPIPE, so `eeglens inspect f.edf | head`
/// ends quietly when `head` closes the pipe instead of failing to print.
#[cfg(unix)]
#[allow(unsafe_code)]
fn default_sigpipe() {
    // SAFETY: called once at the start of `main`, before any thread exists;
    // setting a signal's disposition to SIG_DFL has no other precondition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(not(unix))]
fn default_sigpipe() {}

/// What SIGBUS means here: epoch stores and checkpoints are memory-mapped, and
/// a mapped file that is truncated or rewritten in place (`cp` over it, an
/// editor, another program's `prepare` writing without a rename) leaves pages
/// with nothing behind them; touching one raises SIGBUS. eeglens itself
/// replaces files by renaming, which a mapping survives.
const SIGBUS_MESSAGE: &[u8] =
    b"eeglens: error: a file eeglens was reading (an epoch store or a checkpoint, memory-mapped) \
was truncated or rewritten in place while in use, so its data vanished under the reader (SIGBUS); \
replace such files by renaming a new one over them, or stop eeglens first, then run the command again \
(train: with --resume)\n";

/// Prints [`SIGBUS_MESSAGE`] and exits with 1 instead of dying with "Bus error".
#[cfg(unix)]
#[allow(unsafe_code)]
fn explain_sigbus() {
    extern "C" fn on_sigbus(_: libc::c_int) {
        // SAFETY: write(2) and _exit(2) are async-signal-safe; the message is a
        // static byte string.
        unsafe {
            libc::write(2, SIGBUS_MESSAGE.as_ptr().cast(), SIGBUS_MESSAGE.len());
            libc::_exit(1);
        }
    }
    // SAFETY: called once at the start of `main`, before any thread exists; the
    // handler only calls async-signal-safe functions.
    unsafe {
        libc::signal(libc::SIGBUS, on_sigbus as extern "C" fn(libc::c_int) as libc::sighandler_t);
    }
}

#[cfg(not(unix))]
fn explain_sigbus() {}

/// One line: the context chain joined with ": ", leaving out a cause whose
/// text the message already holds. The libraries' errors show what they wrap
/// in their own message and do not chain it again as a `source()`, so each
/// piece is printed once; the check keeps it so for a context or a foreign
/// error that quotes its cause.
fn one_line(e: &anyhow::Error) -> String {
    let mut msg = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !msg.contains(&c) {
            msg.push_str(": ");
            msg.push_str(&c);
        }
    }
    msg.replace('\n', " ")
}

/// Exit code of a command line that cannot be parsed (an unknown flag, a
/// missing or malformed value, flags that exclude each other).
const EXIT_USAGE: u8 = 2;

/// `--help` and `--version` print as clap writes them and succeed; any
/// other parse failure is one line, `eeglens: error: ...`, naming the
/// command's usage, and exits with [`EXIT_USAGE`].
fn usage_error(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        let _ = e.print();
        return ExitCode::from(EXIT_USAGE);
    }
    eprintln!("eeglens: error: {}", usage_line(&e.render().to_string()));
    ExitCode::from(EXIT_USAGE)
}

/// clap's multi-line message as one line: the error, the valid values and
/// clap's suggestion when it has them, then the usage.
fn usage_line(rendered: &str) -> String {
    let lines: Vec<&str> = rendered.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let mut error = lines.first().map_or("", |l| l.strip_prefix("error: ").unwrap_or(l)).to_string();
    for l in lines.iter().skip(1).take_while(|l| !l.starts_with("Usage: ") && !l.starts_with("For more")) {
        if let Some(values) = l.strip_prefix("[possible values: ").and_then(|v| v.strip_suffix(']')) {
            error.push_str(&format!("; possible values: {values}"));
        } else if let Some(tip) = l.strip_prefix("tip: ") {
            error.push_str(&format!("; {tip}"));
        }
    }
    match lines.iter().find_map(|l| l.strip_prefix("Usage: ")) {
        Some(usage) => format!("{error} (usage: {usage}; see --help)"),
        None => format!("{error} (see --help)"),
    }
}

fn main() -> ExitCode {
    default_sigpipe();
    explain_sigbus();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    let result = match cli.command {
        Command::Version => cmd::version(&cli.global),
        Command::Forward(a) => cmd::forward::run(a, &cli.global),
        Command::Bench(a) => cmd::bench::run(a, &cli.global),
        Command::Inspect(a) => cmd::inspect::run(a, &cli.global),
        Command::Synth(a) => cmd::synth::run(a, &cli.global),
        Command::Prepare(a) => cmd::prepare::run(a, &cli.global),
        Command::Merge(a) => cmd::merge::run(a, &cli.global),
        Command::Train(a) => {
            let (out, fresh) = (a.out.clone(), !a.resume);
            cmd::train::run(a, &cli.global).inspect(|()| cmd::record_step("train", &out, fresh))
        }
        Command::Baseline(a) => cmd::baseline::run(a, &cli.global),
        Command::Eval(a) => {
            let run = a.run.clone();
            cmd::eval::run(a, &cli.global).inspect(|()| cmd::record_step("eval", &run, false))
        }
        Command::Interpret(a) => {
            let run = a.run.clone();
            cmd::interpret::run(a, &cli.global).inspect(|()| cmd::record_step("interpret", &run, false))
        }
        Command::Report(a) => cmd::report::run(a, &cli.global),
        Command::Demo(a) => cmd::demo::run(a, &cli.global),
        Command::Validate(a) => cmd::validate::run(a, &cli.global),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("eeglens: error: {}", one_line(&e));
            ExitCode::from(1)
        }
    }
}

//! Provenance: what made a run, step by step. Every command that writes into
//! a run directory (`train`, `eval`, `interpret`, `report`) appends one line
//! to its `provenance.jsonl`; `prepare` keeps its own in the epoch store's
//! settings. The report shows them, so a reader of a result can see which
//! version ran which command, when, on how many threads and which kernels.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::TrainError;

/// Name of a run directory's provenance file: one JSON [`Step`] per line.
pub const PROVENANCE_FILE: &str = "provenance.jsonl";

/// One command's record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// the subcommand (`prepare`, `train`, ...)
    pub step: String,
    /// the eeglens version that ran it
    pub eeglens: String,
    /// the whole command line, shell-quoted
    pub command: String,
    /// when it ended, UTC (`YYYY-MM-DDTHH:MM:SSZ`)
    pub date: String,
    /// worker threads
    pub threads: usize,
    /// the kernel set the engine chose (and why)
    pub kernels: String,
}

/// Appends `step` to `dir`'s provenance file (the file is rewritten whole,
/// atomically, so a crash leaves the old one).
///
/// # Errors
/// [`TrainError::Io`] when the file cannot be read or written;
/// [`TrainError::RunFile`] when the existing file is not provenance.
pub fn append(dir: &Path, step: &Step) -> Result<(), TrainError> {
    let path = dir.join(PROVENANCE_FILE);
    let mut text = if path.exists() {
        std::fs::read_to_string(&path).map_err(|e| TrainError::io(&path, e))?
    } else {
        String::new()
    };
    parse(&path, &text)?;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&serde_json::to_string(step).expect("a step serialises"));
    text.push('\n');
    eeglens_io::atomic::write_file(&path, text.as_bytes()).map_err(|e| TrainError::io(&path, e))
}

/// The steps recorded in `dir` (empty when it has no provenance file).
///
/// # Errors
/// [`TrainError::Io`]; [`TrainError::RunFile`] naming the line that is not a step.
pub fn read(dir: &Path) -> Result<Vec<Step>, TrainError> {
    let path = dir.join(PROVENANCE_FILE);
    if !path.exists() {
        return Ok(Vec::new());
    }
    let text = std::fs::read_to_string(&path).map_err(|e| TrainError::io(&path, e))?;
    parse(&path, &text)
}

/// The steps of `text`, the content of `path`.
fn parse(path: &Path, text: &str) -> Result<Vec<Step>, TrainError> {
    crate::run_dir::parse_json_lines(path, text)
}

/// `args` as one shell line: each argument quoted when it holds anything but
/// letters, digits and `-_./=:,+@%`.
pub fn shell_line<S: AsRef<str>>(args: &[S]) -> String {
    args.iter()
        .map(|a| {
            let a = a.as_ref();
            let plain =
                !a.is_empty() && a.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
            if plain {
                a.to_string()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Seconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian, UTC).
pub fn utc_date(secs: u64) -> String {
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3_600, rem % 3_600 / 60, rem % 60)
}

/// Now, as [`utc_date`].
pub fn now() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    utc_date(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_match_known_instants() {
        assert_eq!(utc_date(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc_date(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc_date(1_796_579_199), "2026-12-06T17:46:39Z");
        assert_eq!(utc_date(4_107_542_400), "2100-03-01T00:00:00Z");
    }

    #[test]
    fn command_lines_quote_what_a_shell_would_split() {
        assert_eq!(
            shell_line(&["eeglens", "train", "--out", "run 1", "--lr=5e-4"]),
            "eeglens train --out 'run 1' --lr=5e-4"
        );
        assert_eq!(shell_line(&["a'b", ""]), "'a'\\''b' ''");
    }

    #[test]
    fn steps_append_and_read_back_and_a_bad_line_is_named() {
        let dir = std::env::temp_dir().join(format!("eeglens-train-provenance-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let _scratch = crate::scratch::Scratch(dir.clone());
        let step = |s: &str| Step {
            step: s.into(),
            eeglens: "0.1.0".into(),
            command: format!("eeglens {s}"),
            date: utc_date(0),
            threads: 2,
            kernels: "portable".into(),
        };
        assert!(read(&dir).unwrap().is_empty());
        append(&dir, &step("train")).unwrap();
        append(&dir, &step("interpret")).unwrap();
        assert_eq!(read(&dir).unwrap(), vec![step("train"), step("interpret")]);
        std::fs::write(dir.join(PROVENANCE_FILE), "{\"step\": 1}\n").unwrap();
        let e = read(&dir).unwrap_err().to_string();
        assert!(e.contains("provenance.jsonl") && e.contains("line 1"), "{e}");
        assert!(append(&dir, &step("eval")).is_err(), "a foreign file is not appended to");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

//! Read an EDF file and print channel statistics.
//!
//! So that it runs anywhere, the example first writes a small EDF+ file with
//! the crate's own writer into a temporary directory: 10 s of four channels at
//! 256 Hz (an occipital alpha rhythm, a frontal channel with a blink, a noisy
//! central channel) and two annotations. It then reads the file back with
//! `read` (the reader is chosen by the extension), prints the header, a line of
//! statistics per channel and the annotations, and reads a part of the file
//! (two channels, seconds 2 to 4) with `read_with`.
//!
//! Run with `cargo run -p eeglens-io --example 01_read_edf`, or pass a path to
//! read your own file instead: `cargo run -p eeglens-io --example 01_read_edf -- rec.edf`
//! (`.edf`, `.bdf`, `.vhdr` or `.set`).

use std::f32::consts::TAU;
use std::path::{Path, PathBuf};

use eeglens_io::{
    read, read_with, write_edf, Annotation, Channel, ChannelType, DateTime, EdfWriteOptions, Format, IoError,
    ReadOptions, Recording,
};

const FS: f64 = 256.0;
const SECONDS: usize = 10;

/// A channel's value at time `t` (s) given a noise sample `e`.
type Signal = fn(f32, f32) -> f32;

/// A small deterministic noise source (no dependency needed for an example).
fn noise(state: &mut u64) -> f32 {
    *state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    ((*state >> 40) as f32 / (1u64 << 24) as f32) - 0.5
}

/// Writes the demonstration recording to `path`.
fn write_demo(path: &Path) -> Result<(), IoError> {
    let n = SECONDS * FS as usize;
    let mut state = 7;
    let mut rec = Recording::new(Format::EdfPlusC);
    rec.start = DateTime::new(2024, 3, 1, 9, 30, 0);
    rec.recording_id = "eeglens example".into();
    let signals: [(&str, Signal); 4] = [
        ("O1", |t, e| 25.0 * (TAU * 10.0 * t).sin() + 5.0 * e),
        ("O2", |t, e| 20.0 * (TAU * 10.0 * t + 0.3).sin() + 5.0 * e),
        // A blink: a 150 µV bump around t = 3 s.
        ("Fp1", |t, e| 150.0 * (-((t - 3.0) / 0.1).powi(2)).exp() + 8.0 * e),
        ("Cz", |_, e| 30.0 * e),
    ];
    for (name, f) in signals {
        let x = (0..n).map(|i| f(i as f32 / FS as f32, noise(&mut state))).collect();
        rec.push_channel(Channel::new(name, ChannelType::Eeg, FS), x);
    }
    rec.annotations.push(Annotation {
        onset_s: 1.0,
        duration_s: Some(5.0),
        description: "eyes_closed".into(),
    });
    rec.annotations.push(Annotation { onset_s: 3.0, duration_s: None, description: "blink".into() });
    write_edf(path, &rec, &EdfWriteOptions::default())
}

/// Minimum, maximum, mean, standard deviation and RMS of a channel.
fn stats(x: &[f32]) -> [f64; 5] {
    let n = x.len().max(1) as f64;
    let mean = x.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let var = x.iter().map(|&v| (f64::from(v) - mean).powi(2)).sum::<f64>() / n;
    let rms = (x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / n).sqrt();
    let min = x.iter().copied().fold(f32::INFINITY, f32::min);
    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    [f64::from(min), f64::from(max), mean, var.sqrt(), rms]
}

fn print_recording(path: &Path, rec: &Recording) {
    println!("{}", path.display());
    let start = rec.start.map_or_else(|| "unknown".to_string(), |s| s.to_iso8601());
    println!(
        "  format {}, {} channels, {:.2} s, starts {start}, {} annotation(s)",
        rec.format,
        rec.n_channels(),
        rec.duration_s(),
        rec.annotations.len()
    );
    println!(
        "  {:<8} {:>6} {:>8} {:>9} {:>9} {:>8} {:>8} {:>8}",
        "channel", "fs", "samples", "min", "max", "mean", "sd", "rms"
    );
    for (ch, x) in rec.channels.iter().zip(&rec.data) {
        let [min, max, mean, sd, rms] = stats(x);
        println!(
            "  {:<8} {:>6} {:>8} {min:>9.2} {max:>9.2} {mean:>8.2} {sd:>8.2} {rms:>8.2}  {}",
            ch.name,
            ch.fs,
            x.len(),
            ch.unit
        );
    }
    for a in &rec.annotations {
        let duration = a.duration_s.map_or_else(|| "-".to_string(), |d| format!("{d} s"));
        println!("  annotation at {:>6.2} s, duration {duration:>5}: {}", a.onset_s, a.description);
    }
    for w in &rec.warnings {
        println!("  warning: {w}");
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (path, written): (PathBuf, bool) = match std::env::args_os().nth(1) {
        Some(p) => (PathBuf::from(p), false),
        None => {
            let dir = std::env::temp_dir().join(format!("eeglens-io-example-{}", std::process::id()));
            std::fs::create_dir_all(&dir)?;
            let path = dir.join("demo.edf");
            write_demo(&path)?;
            (path, true)
        }
    };

    let rec = read(&path)?;
    print_recording(&path, &rec);

    if written {
        // Only what is needed: two channels, seconds 2 to 4. EDF stores 16-bit integers, so the
        // values come back quantised to the physical range / 65535 (here well below 0.01 µV).
        let opts = ReadOptions {
            channels: Some(vec!["Fp1".into(), "O1".into()]),
            start_s: 2.0,
            duration_s: Some(2.0),
            ..ReadOptions::default()
        };
        let part = read_with(&path, &opts)?;
        let fp1 = &part.data[0];
        let peak = fp1.iter().enumerate().fold((0, f32::MIN), |m, (i, &v)| if v > m.1 { (i, v) } else { m });
        println!(
            "read_with: {:?}, {} samples each; Fp1 peaks at {:.1} µV, {:.2} s into the file (the blink)",
            part.channels.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
            fp1.len(),
            peak.1,
            opts.start_s + peak.0 as f64 / part.channels[0].fs
        );
        std::fs::remove_dir_all(path.parent().expect("a file in the temporary directory"))?;
    }
    Ok(())
}

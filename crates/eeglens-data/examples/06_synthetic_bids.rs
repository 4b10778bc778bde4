//! Prepare a small synthetic BIDS folder into an epoch store.
//!
//! Writes a synthetic resting-state dataset (12 subjects, 1 minute each, the
//! 24 HBN channels at 256 Hz, extra theta planted at five fronto-central
//! channels in class `M`) as BIDS-EEG with EDF+ files, scans it as any BIDS
//! dataset, and prepares it the way the seed paper's group did (24 channels,
//! 128 Hz, 0.25–25 Hz, average reference, 2-s eyes-closed windows, split by
//! subject). Finally it reads the planted effect back from the windows: the
//! theta power of class `M` over class `F`, per channel.
//!
//! Run with `cargo run -p eeglens-data --example 06_synthetic_bids`; pass a
//! directory to keep the output there instead of a temporary one.

use std::path::PathBuf;

use eeglens_data::prepare::{prepare, Outcome, PrepareConfig};
use eeglens_data::store::EpochStore;
use eeglens_data::synth::{write_bids, Eyes, SynthConfig, SynthFormat};
use eeglens_dsp::{integrate_band, Welch, WelchConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (dir, keep) = match std::env::args_os().nth(1) {
        Some(d) => (PathBuf::from(d), true),
        None => (std::env::temp_dir().join(format!("eeglens-data-example-{}", std::process::id())), false),
    };
    let bids = dir.join("bids");

    // 1. The synthetic dataset: the defaults of `eeglens synth`, smaller.
    let mut synth = SynthConfig::hbn24();
    synth.n_subjects = 12;
    synth.blocks = vec![(Eyes::Open, 10.0), (Eyes::Closed, 20.0), (Eyes::Open, 10.0), (Eyes::Closed, 20.0)];
    let written = write_bids(&synth, &bids, SynthFormat::Edf, &|| {})?;
    println!(
        "wrote {} recordings ({:.1} MB of EDF+) under {}",
        written.files.len(),
        written.bytes as f64 / 1e6,
        bids.display()
    );
    println!(
        "planted: {}-{} Hz at {} in class {}, size {}",
        synth.effect.band.0,
        synth.effect.band.1,
        synth.effect.channels.join(", "),
        synth.effect.class,
        synth.effect.size
    );

    // 2. It is a BIDS dataset like any other.
    let dataset = eeglens_io::bids::scan(&bids)?;
    let first = &dataset.recordings[0];
    let rec = first.read()?;
    println!(
        "\nBIDS scan: {} subjects; sub-{} ({}), task {}: {} channels at {} Hz, {:.0} s, events {:?}",
        dataset.subjects().len(),
        first.subject,
        first.participant.get("sex").map_or("?", String::as_str),
        first.task.as_deref().unwrap_or("-"),
        rec.n_channels(),
        rec.fs().unwrap_or(f64::NAN),
        rec.duration_s(),
        rec.annotations.iter().map(|a| a.description.as_str()).collect::<Vec<_>>()
    );

    // 3. Preparation, with the command line's defaults.
    let out = dir.join("epochs.safetensors");
    let summary = prepare(&bids, &PrepareConfig::new("sex"), &out, &|_| {})?;
    let kept = summary.recordings.iter().filter(|r| matches!(r.outcome, Outcome::Kept { .. })).count();
    println!(
        "\nprepared {} windows from {kept} of {} recordings; classes {:?}, windows per class {:?}",
        summary.n_windows(),
        summary.recordings.len(),
        summary.classes,
        summary.windows_per_class
    );
    for (split, subjects, windows) in &summary.per_split {
        println!("  {:<5} {subjects:>2} subjects {windows:>4} windows", split.name());
    }

    // 4. The planted effect, read back: mean theta power per channel and class.
    let store = EpochStore::open(&out)?;
    let meta = store.meta();
    let (c, t) = (store.n_channels(), store.n_samples());
    let welch = Welch::new(meta.fs, WelchConfig { nperseg: t, ..WelchConfig::default() })?;
    let mut power = vec![vec![0.0f64; c]; meta.classes.len()];
    let mut count = vec![0usize; meta.classes.len()];
    let mut window = vec![0.0f32; c * t];
    for (i, &y) in store.labels().iter().enumerate() {
        store.copy_window(i, &mut window);
        for (ch, x) in window.chunks(t).enumerate() {
            let psd = welch.psd(x)?;
            power[y as usize][ch] += integrate_band(&psd, 4.0, 8.0)?;
        }
        count[y as usize] += 1;
    }
    let mut ratios: Vec<(f64, &str)> = (0..c)
        .map(|ch| {
            let mean = |k: usize| power[k][ch] / count[k] as f64;
            (mean(1) / mean(0), meta.channels[ch].as_str())
        })
        .collect();
    ratios.sort_by(|a, b| b.0.total_cmp(&a.0));
    let planted = |name: &str| synth.effect.channels.iter().any(|p| p.eq_ignore_ascii_case(name));
    println!(
        "\ntheta power {} / {} per channel (normalised windows), largest first; * = planted:",
        meta.classes[1], meta.classes[0]
    );
    for row in ratios.chunks(6) {
        let cells: Vec<String> = row
            .iter()
            .map(|(r, n)| format!("{:>5}{} {r:5.2}", n, if planted(n) { "*" } else { " " }))
            .collect();
        println!("  {}", cells.join("   "));
    }
    let found = ratios.iter().take(synth.effect.channels.len()).filter(|r| planted(r.1)).count();
    println!(
        "{found} of the {} planted channels are among the {} largest ratios",
        synth.effect.channels.len(),
        synth.effect.channels.len()
    );

    if keep {
        println!("\nkept {}", dir.display());
    } else {
        std::fs::remove_dir_all(&dir)?;
    }
    Ok(())
}

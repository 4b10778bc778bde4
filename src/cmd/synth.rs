//! `eeglens synth`: write a synthetic BIDS dataset.

use std::path::PathBuf;

use anyhow::{anyhow, bail, Context};
use eeglens_data::synth::age::AgeEffect;
use eeglens_data::synth::{write_bids, HeadModel, SynthConfig, SynthFormat};

use super::choice::SynthFormatArg;
use super::{bar, parse_range, Global};

/// Flags of `eeglens synth`.
#[derive(clap::Args, Debug, PartialEq)]
pub struct Args {
    /// Dataset root to write (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Number of subjects, balanced by sex.
    #[arg(long, default_value_t = 60)]
    pub subjects: usize,
    /// Seed of everything random.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// File format of the recordings.
    #[arg(long, value_enum, ignore_case = true, default_value = "edf")]
    pub format: SynthFormatArg,
    /// Band of the planted effect, LO-HI in Hz.
    #[arg(long, default_value = "4-8")]
    pub effect_band: String,
    /// Channels of the planted effect, comma-separated.
    #[arg(long, default_value = "Fz,FCz,Cz,FC3,FC4")]
    pub effect_channels: String,
    /// Added band power relative to the band power present; 0 makes a null data set.
    #[arg(long, default_value_t = eeglens_data::synth::DEFAULT_EFFECT_SIZE)]
    pub effect_size: f64,
    /// The class (sex) that carries the effect: F or M.
    #[arg(long, default_value = "M")]
    pub effect_class: String,
    /// Sampling rate of the written files, Hz (preparation resamples to 128 Hz).
    #[arg(long, default_value_t = 256.0)]
    pub rate: f64,
    /// Minutes of recording per subject (eyes open 1/3, closed 2/3, in two cycles).
    #[arg(long, default_value_t = 2.0)]
    pub minutes: f64,
    /// Leave out the eye blinks.
    #[arg(long)]
    pub no_blinks: bool,
    /// How sources reach the electrodes: kernel (the default mixing) or sphere (dipoles in a
    /// homogeneous sphere, projected by its lead field: the spatial structure of scalp EEG).
    #[arg(long, default_value = "kernel")]
    pub head_model: String,
    /// Electrodes: hbn24 (the paper's 24, standard positions) or hydrocel129 (EGI's 129-electrode
    /// net, E1..E128 and Cz, as HBN records it).
    #[arg(long, default_value = "hbn24")]
    pub montage: String,
    /// Plant an age effect (a numeric target for `prepare --label age --target numeric`):
    /// none, alpha-peak (the alpha peak rises from 8 Hz at 6 years to 10 Hz at 18), or
    /// alpha-peak-power (and alpha power falls with age).
    #[arg(long, default_value = "none")]
    pub age_effect: String,
    /// Print a JSON summary on stdout.
    #[arg(long)]
    pub json: bool,
    /// Write into --out even when it holds files (those of the same names are replaced).
    #[arg(long)]
    pub force: bool,
}

impl Default for Args {
    /// The flags' defaults, with an empty --out: for callers that build the
    /// flags in code (`eeglens demo`). A test holds them to clap's.
    fn default() -> Self {
        Self {
            out: PathBuf::new(),
            subjects: 60,
            seed: 0,
            format: SynthFormatArg::Edf,
            effect_band: "4-8".into(),
            effect_channels: "Fz,FCz,Cz,FC3,FC4".into(),
            effect_size: eeglens_data::synth::DEFAULT_EFFECT_SIZE,
            effect_class: "M".into(),
            rate: 256.0,
            minutes: 2.0,
            no_blinks: false,
            head_model: "kernel".into(),
            montage: "hbn24".into(),
            age_effect: "none".into(),
            json: false,
            force: false,
        }
    }
}

/// Builds the generator's configuration from the flags.
pub fn config(a: &Args) -> anyhow::Result<SynthConfig> {
    let mut c = match a.montage.to_ascii_lowercase().as_str() {
        "hbn24" => SynthConfig::hbn24(),
        "hydrocel129" | "gsn-hydrocel-129" | "egi129" => SynthConfig::hydrocel129(),
        other => bail!("--montage {other}: unknown montage (expected hbn24 or hydrocel129)"),
    };
    c.head_model = HeadModel::parse(&a.head_model).map_err(|e| anyhow!("--head-model: {e}"))?;
    c.n_subjects = a.subjects;
    c.seed = a.seed;
    c.fs = a.rate;
    c.effect.band = parse_range(&a.effect_band).map_err(|e| anyhow!("--effect-band: {e}"))?;
    c.effect.channels =
        a.effect_channels.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
    c.effect.size = a.effect_size;
    c.effect.class = a.effect_class.clone();
    c.blinks = !a.no_blinks;
    c.age_effect = AgeEffect::parse(&a.age_effect).ok_or_else(|| {
        anyhow!("--age-effect: expected none, alpha-peak or alpha-peak-power, got `{}`", a.age_effect)
    })?;
    if !(a.minutes.is_finite() && a.minutes > 0.0) {
        return Err(anyhow!("--minutes {} must be positive", a.minutes));
    }
    let cycle = a.minutes * 60.0 / 2.0;
    c.blocks = vec![
        (eeglens_data::synth::Eyes::Open, cycle / 3.0),
        (eeglens_data::synth::Eyes::Closed, 2.0 * cycle / 3.0),
        (eeglens_data::synth::Eyes::Open, cycle / 3.0),
        (eeglens_data::synth::Eyes::Closed, 2.0 * cycle / 3.0),
    ];
    c.validate().map_err(|e| anyhow!(e))?;
    Ok(c)
}

/// Runs `eeglens synth`.
pub fn run(a: Args, g: &Global) -> anyhow::Result<()> {
    let cfg = config(&a)?;
    let format = SynthFormat::parse(a.format.name()).map_err(|e| anyhow!("--format: {e}"))?;
    if a.out.is_file() {
        bail!("{}: is a file; --out names the dataset's directory", a.out.display());
    }
    let holds_files = std::fs::read_dir(&a.out).is_ok_and(|mut d| d.next().is_some());
    if holds_files && !a.force {
        bail!(
            "{}: exists and is not empty; choose another --out or pass --force to write the dataset into it",
            a.out.display()
        );
    }
    let pb = bar(g, cfg.n_subjects as u64, "synth");
    let summary = write_bids(&cfg, &a.out, format, &|| pb.inc(1))
        .with_context(|| format!("writing {}", a.out.display()))?;
    pb.finish_and_clear();
    let n_effect = summary.subjects.iter().filter(|s| s.sex == cfg.effect.class).count();
    if a.json {
        let v = serde_json::json!({
            "schema": super::schema::SYNTH,
            "root": summary.root,
            "subjects": summary.subjects.len(),
            "files": summary.files,
            "bytes": summary.bytes,
            "effect": {
                "band": [cfg.effect.band.0, cfg.effect.band.1],
                "channels": cfg.effect.channels,
                "size": cfg.effect.size,
                "class": cfg.effect.class,
            },
        });
        println!("{v}");
    } else {
        println!(
            "wrote {} subjects ({} {}, {} other) to {} ({:.1} MB of {})",
            summary.subjects.len(),
            n_effect,
            cfg.effect.class,
            summary.subjects.len() - n_effect,
            summary.root.display(),
            summary.bytes as f64 / 1e6,
            a.format.name().to_uppercase()
        );
        println!(
            "planted effect: {}-{} Hz at {} in class {}, size {} (ground truth in eeglens_synth.json){}",
            cfg.effect.band.0,
            cfg.effect.band.1,
            cfg.effect.channels.join(","),
            cfg.effect.class,
            cfg.effect.size,
            if cfg.head_model == HeadModel::Sphere { "; sphere head model" } else { "" }
        );
    }
    Ok(())
}

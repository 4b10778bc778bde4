//! `eeglens prepare`: a BIDS dataset into an epoch store.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use eeglens_data::prepare::{
    finished_shard, prepare, prepare_shard, Bins, ChannelSet, Outcome, PrepareConfig, PrepareSummary, Shard,
    ShardSummary,
};
use eeglens_data::prepare::{BandFilter, CleanReport, MASTOIDS_HYDROCEL};
use eeglens_data::DataError;

use super::choice::{NormaliseArg, ReferenceArg};
use super::{bar, parse_range, Global};

/// `prepare --filter`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterArg {
    /// Butterworth order 4, zero phase, after resampling
    Butterworth,
    /// EEGLAB pop_eegfiltnew's default FIR, zero phase, before resampling
    EeglabFir,
}

/// `prepare --preset`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PresetArg {
    /// the seed paper's HBN pipeline: --filter eeglab-fir --band 0.25-25 --rate 128
    /// --reference mastoids --eyes-closed-window 3-37 --clean --channels hbn24
    Paper,
}

/// `prepare --target`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetArg {
    /// each value of --label is a class (the default)
    Classes,
    /// --label is a numeric column (age) kept as a number per window: a regression target
    Numeric,
}

/// Flags of `eeglens prepare`.
#[derive(clap::Args, Debug, PartialEq)]
pub struct Args {
    /// BIDS dataset root.
    pub bids_dir: PathBuf,
    /// participants.tsv column holding the labels (e.g. sex).
    #[arg(long)]
    pub label: String,
    /// Cut a numeric --label column (age, a score) into ranges, each a class: a number of
    /// ranges cut at the quantiles (2: at the median), or cut values with a comma or a decimal
    /// point (9.5,12 or 10.0). Classes are named `<label><i><bound>`: age1<9.5, age2>=9.5.
    #[arg(long)]
    pub bins: Option<String>,
    /// What --label becomes: classes, or numeric (a numeric column such as age kept as a number
    /// per window, for a regression; subjects are split by its halves at the median).
    #[arg(long, value_enum, default_value = "classes")]
    pub target: TargetArg,
    /// Epoch store to write (.safetensors).
    #[arg(long)]
    pub out: PathBuf,
    /// Channels: hbn24, all, or a comma-separated list.
    #[arg(long, default_value = "hbn24")]
    pub channels: String,
    /// Output sampling rate, Hz.
    #[arg(long, default_value_t = 128.0)]
    pub rate: f64,
    /// Band-pass LO-HI in Hz, or `none`.
    #[arg(long, default_value = "0.25-25")]
    pub band: String,
    /// Window length, seconds.
    #[arg(long, default_value_t = 2.0)]
    pub segment_s: f64,
    /// Re-reference: average (of the channels kept), none (as recorded), mastoids (E57,E100 of
    /// an EGI HydroCel-129 net), or a comma-separated channel list. With mastoids or a list, the
    /// reference is computed on every EEG channel of the file before the channels are selected,
    /// with the recording reference Cz (E129) restored as a zero channel when the file omits it.
    #[arg(long, default_value = "average")]
    pub reference: String,
    /// Only recordings of this BIDS task (e.g. RestingState).
    #[arg(long)]
    pub task: Option<String>,
    /// Use the whole recording even when events mark eyes-closed periods.
    #[arg(long)]
    pub all_periods: bool,
    /// Keep FROM-TO seconds after each eyes-closed event (the paper: 3-37, blocks
    /// concatenated) instead of the periods from marker to marker. A block that the next eyes
    /// marker, an end of the resting state or the end of the data cuts short is used as far as
    /// it goes, and reported.
    #[arg(long, value_name = "FROM-TO", conflicts_with = "all_periods")]
    pub eyes_closed_window: Option<String>,
    /// Skip recordings whose events mark no eyes state (otherwise used whole, beside the
    /// eyes-closed periods of the others).
    #[arg(long)]
    pub skip_unmarked: bool,
    /// Reject windows whose absolute amplitude exceeds this many µV (0 keeps all).
    #[arg(long, default_value_t = 250.0)]
    pub reject_uv: f64,
    /// Normalisation.
    #[arg(long, value_enum, ignore_case = true, default_value = "recording")]
    pub normalise: NormaliseArg,
    /// Fraction of subjects held out for testing.
    #[arg(long, default_value_t = 0.125)]
    pub test: f64,
    /// Fraction of subjects for validation.
    #[arg(long, default_value_t = 0.3125)]
    pub val: f64,
    /// Seed of the subject split.
    #[arg(long, default_value_t = 0)]
    pub split_seed: u64,
    /// Balance classes by dropping subjects of the larger class.
    #[arg(long)]
    pub balance: bool,
    /// Leave out subjects without a label (reported) instead of failing.
    #[arg(long)]
    pub skip_unlabelled: bool,
    /// Fail when any recording is skipped (unreadable, no window left, ...), naming it and why.
    #[arg(long)]
    pub strict: bool,
    /// Band-pass filter: butterworth (order 4, zero phase, after resampling) or eeglab-fir
    /// (EEGLAB pop_eegfiltnew's default FIR, zero phase, at the file's rate before resampling).
    #[arg(long, value_enum, ignore_case = true, default_value = "butterworth")]
    pub filter: FilterArg,
    /// Find bad channels of the full montage (flat 5 s, line noise z > 4, correlation with
    /// the spline prediction from the others < 0.8 in > 40 % of 5-s windows), after filtering,
    /// resampling and re-referencing and before --channels selects, and interpolate them by
    /// spherical splines; a recording with more than 25 % bad channels, or a bad channel
    /// without a montage position, is skipped with the reason.
    #[arg(long)]
    pub clean: bool,
    /// Named settings: paper (--filter eeglab-fir --band 0.25-25 --rate 128 --reference
    /// mastoids --eyes-closed-window 3-37 --clean --channels hbn24). Giving any of those flags
    /// (except --clean) or --all-periods with it is an error.
    #[arg(
        long,
        value_enum,
        ignore_case = true,
        conflicts_with_all = ["filter", "band", "rate", "reference", "eyes_closed_window", "channels", "all_periods"]
    )]
    pub preset: Option<PresetArg>,
    /// Print a JSON summary on stdout.
    #[arg(long)]
    pub json: bool,
    /// Replace --out when it exists.
    #[arg(long)]
    pub force: bool,
    /// Prepare only task i of N (0-based; subjects dealt round-robin) into a part for
    /// `eeglens merge`, e.g. --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT.
    #[arg(long, value_name = "i/N")]
    pub shard: Option<String>,
}

impl Default for Args {
    /// The flags' defaults, with empty positional and required values: for
    /// callers that build the flags in code (`eeglens demo`). A test holds
    /// them to clap's.
    fn default() -> Self {
        Self {
            bids_dir: PathBuf::new(),
            label: String::new(),
            bins: None,
            target: TargetArg::Classes,
            out: PathBuf::new(),
            channels: "hbn24".into(),
            rate: 128.0,
            band: "0.25-25".into(),
            segment_s: 2.0,
            reference: "average".into(),
            task: None,
            all_periods: false,
            eyes_closed_window: None,
            skip_unmarked: false,
            reject_uv: 250.0,
            normalise: NormaliseArg::Recording,
            test: 0.125,
            val: 0.3125,
            split_seed: 0,
            balance: false,
            skip_unlabelled: false,
            strict: false,
            json: false,
            force: false,
            shard: None,
            filter: FilterArg::Butterworth,
            clean: false,
            preset: None,
        }
    }
}

/// Builds the preparation settings from the flags.
pub fn config(a: &Args) -> anyhow::Result<PrepareConfig> {
    let mut c = PrepareConfig::new(&a.label);
    c.bins = a.bins.as_deref().map(Bins::parse).transpose().map_err(|e| anyhow!("--bins: {e}"))?;
    c.numeric_target = a.target == TargetArg::Numeric;
    c.channels = ChannelSet::parse(&a.channels);
    c.rate = a.rate;
    c.band = if a.band.eq_ignore_ascii_case("none") {
        None
    } else {
        Some(parse_range(&a.band).map_err(|e| anyhow!("--band: {e}"))?)
    };
    c.segment_s = a.segment_s;
    match <ReferenceArg as clap::ValueEnum>::from_str(a.reference.trim(), true) {
        Ok(r) => c.average_reference = r == ReferenceArg::Average,
        Err(_) if a.reference.trim().eq_ignore_ascii_case("mastoids") => {
            c.reference_channels = Some(MASTOIDS_HYDROCEL.iter().map(|s| s.to_string()).collect());
        }
        Err(_) => {
            let list: Vec<String> =
                a.reference.split(',').map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect();
            if list.is_empty() {
                bail!(
                    "--reference: expected average, none, mastoids or a channel list, got `{}`",
                    a.reference
                );
            }
            c.reference_channels = Some(list);
        }
    }
    c.filter = match a.filter {
        FilterArg::Butterworth => BandFilter::Butterworth,
        FilterArg::EeglabFir => BandFilter::EeglabFir,
    };
    c.task = a.task.clone();
    c.eyes_closed = !a.all_periods;
    c.eyes_closed_window = a
        .eyes_closed_window
        .as_deref()
        .map(parse_range)
        .transpose()
        .map_err(|e| anyhow!("--eyes-closed-window: {e}"))?;
    c.skip_unmarked = a.skip_unmarked;
    c.reject_uv = (a.reject_uv > 0.0).then_some(a.reject_uv);
    c.normalise = a.normalise.into();
    c.split.test = a.test;
    c.split.val = a.val;
    c.split.seed = a.split_seed;
    c.split.balance = a.balance;
    c.skip_unlabelled = a.skip_unlabelled;
    c.strict = a.strict;
    c.clean = a.clean;
    if a.preset == Some(PresetArg::Paper) {
        paper_preset(&mut c);
    }
    Ok(c)
}

/// `--preset paper`: the seed paper's HBN preprocessing (docs/paper-pipeline.md).
fn paper_preset(c: &mut PrepareConfig) {
    c.preset = Some("paper".into());
    c.filter = BandFilter::EeglabFir;
    c.band = Some((0.25, 25.0));
    c.rate = 128.0;
    c.reference_channels = Some(MASTOIDS_HYDROCEL.iter().map(|s| s.to_string()).collect());
    c.average_reference = false;
    c.eyes_closed = true;
    c.eyes_closed_window = Some((3.0, 37.0));
    c.clean = true;
    c.channels = ChannelSet::Hbn24;
}

/// Runs `eeglens prepare`.
pub fn run(a: Args, g: &Global) -> anyhow::Result<()> {
    let mut cfg = config(&a)?;
    cfg.provenance = serde_json::to_value(super::provenance_step("prepare")).ok();
    if let (Some(shard), false) = (a.shard.as_deref(), a.force) {
        let shard = Shard::parse(shard).map_err(|e| anyhow!(e))?;
        let done = finished_shard(&a.bids_dir, &cfg, shard, &a.out)
            .with_context(|| format!("preparing {} (shard {shard})", a.bids_dir.display()))?;
        if let Some(s) = done {
            // A rerun of a finished array task: a no-op, as `train --fold` is.
            let line = format!(
                "shard {shard}: complete in {} ({} windows from {} subjects; skipped, as it is already done; --force prepares it again)",
                a.out.display(),
                s.n_windows,
                s.n_subjects
            );
            if a.json {
                eprintln!("eeglens: {line}");
                println!("{}", shard_json(&s, 0.0));
            } else {
                println!("{line}");
            }
            return Ok(());
        }
    }
    let dataset = eeglens_io::bids::scan(&a.bids_dir).ok();
    if let Some(ds) = &dataset {
        claim(&a, ds)?;
    } else {
        super::claim_output(&a.out, "--out", a.force, &[])?;
    }
    let n = dataset.map_or(0, |d| d.recordings.len());
    if let Some(shard) = a.shard.as_deref() {
        let shard = Shard::parse(shard).map_err(|e| anyhow!(e))?;
        if cfg.numeric_target {
            bail!("--shard cannot prepare a --target numeric store yet: prepare it in one process");
        }
        return run_shard(&a, &cfg, shard, g, n);
    }
    let pb = bar(g, n as u64, "prepare");
    let t0 = std::time::Instant::now();
    let res = prepare(&a.bids_dir, &cfg, &a.out, &|_| pb.inc(1));
    pb.finish_and_clear();
    let secs = t0.elapsed().as_secs_f64();
    let s = match res {
        Ok(s) => s,
        Err(e) => {
            // After the recordings were read, a failure still shows what happened to each.
            if let DataError::Prepare { message, partial } = &e {
                if a.json {
                    let mut doc = summary_json(partial, secs);
                    doc["error"] = serde_json::json!(message);
                    println!("{doc}");
                } else {
                    print_outcomes(partial, a.task.as_deref());
                }
                print_reader_warnings(partial);
            }
            return Err(e).with_context(|| format!("preparing {}", a.bids_dir.display()));
        }
    };
    if a.json {
        println!("{}", summary_json(&s, secs));
    } else {
        print_summary(&s, secs, a.task.as_deref());
        if cfg.numeric_target {
            println!(
                "target   `{}` kept as a number per window (regression); the classes above are the strata of the split",
                a.label
            );
        }
    }
    print_reader_warnings(&s);
    for w in &s.warnings {
        eprintln!("eeglens: warning: {w}");
    }
    Ok(())
}

/// Refuses an --out among the dataset's files (a recording, its sidecars, a file
/// beside a recording such as an EEGLAB `.fdt`, `participants.tsv`), and an
/// existing store without --force.
fn claim(a: &Args, ds: &eeglens_io::bids::BidsDataset) -> anyhow::Result<()> {
    let mut inputs: Vec<(&str, &Path)> = Vec::new();
    if let Some(p) = &ds.participants {
        inputs.push(("the dataset's participants table", &p.path));
    }
    for r in &ds.recordings {
        inputs.push(("a recording of the dataset", &r.path));
        inputs.extend(r.channels_tsv.iter().map(|p| ("a sidecar of the dataset", p.as_path())));
        inputs.extend(r.events_tsv.iter().map(|p| ("a sidecar of the dataset", p.as_path())));
    }
    // The named inputs first (with `force` set, only they are checked), then their neighbours.
    super::claim_output(&a.out, "--out", true, &inputs)?;
    let beside = ds.recordings.iter().find(|r| {
        a.out.is_file()
            && r.path.parent().is_some_and(|dir| a.out.parent().is_some_and(|o| super::same_file(o, dir)))
    });
    if let Some(r) = beside {
        bail!(
            "{}: is beside the recording {} (the dataset's own files); --out must name a file outside sub-*/ folders",
            a.out.display(),
            r.path.display()
        );
    }
    super::claim_output(&a.out, "--out", a.force, &inputs)
}

/// `prepare --shard i/N`: the shard's recordings into a part for `eeglens merge`.
fn run_shard(a: &Args, cfg: &PrepareConfig, shard: Shard, g: &Global, n: usize) -> anyhow::Result<()> {
    let pb = bar(g, n.div_ceil(shard.count) as u64, "prepare");
    let t0 = std::time::Instant::now();
    let res = prepare_shard(&a.bids_dir, cfg, shard, &a.out, &|_| pb.inc(1));
    pb.finish_and_clear();
    let s = res.with_context(|| format!("preparing {} (shard {shard})", a.bids_dir.display()))?;
    let secs = t0.elapsed().as_secs_f64();
    if a.json {
        println!("{}", shard_json(&s, secs));
    } else {
        let skipped = s.recordings.iter().filter(|r| matches!(r.outcome, Outcome::Skipped(_))).count();
        println!(
            "shard {}: {} windows from {} subjects ({} recordings, {skipped} skipped) in {secs:.1} s -> {}",
            s.shard,
            s.n_windows,
            s.n_subjects,
            s.recordings.len(),
            s.out.display()
        );
        for r in &s.recordings {
            if let Outcome::Skipped(why) = &r.outcome {
                println!("skipped  sub-{}: {why} ({})", r.subject, r.path.display());
            }
        }
    }
    for r in &s.recordings {
        for w in &r.warnings {
            eprintln!("eeglens: warning: {}: {w}", r.path.display());
        }
    }
    Ok(())
}

fn shard_json(s: &ShardSummary, secs: f64) -> serde_json::Value {
    serde_json::json!({
        "schema": super::schema::PREPARE_SHARD,
        "out": s.out,
        "shard": s.shard.to_string(),
        "n_windows": s.n_windows,
        "n_subjects": s.n_subjects,
        "recordings": s.recordings.iter().map(|r| match &r.outcome {
            Outcome::Kept { windows, .. } => serde_json::json!({"path": r.path, "subject": format!("sub-{}", r.subject), "status": "processed", "windows": windows}),
            Outcome::Skipped(why) => serde_json::json!({"path": r.path, "subject": format!("sub-{}", r.subject), "status": "skipped", "reason": why}),
        }).collect::<Vec<_>>(),
        "seconds": secs,
    })
}

pub(super) fn summary_json(s: &PrepareSummary, secs: f64) -> serde_json::Value {
    let outcome = s.outcome_json();
    serde_json::json!({
        "schema": super::schema::PREPARE,
        "out": s.out,
        "classes": s.classes,
        "windows_per_class": s.windows_per_class,
        "n_windows": s.n_windows(),
        "n_subjects": s.n_subjects,
        "splits": s.per_split.iter().map(|(sp, subj, w)| serde_json::json!({"split": sp.name(), "subjects": subj, "windows": w})).collect::<Vec<_>>(),
        "used": outcome["used"],
        "skipped": outcome["skipped"],
        "used_whole_without_eyes_markers": outcome["used_whole_without_eyes_markers"],
        "upsampled": outcome["upsampled"],
        "steps": outcome["steps"],
        "recordings": outcome["recordings"],
        "participants_without_recording": outcome["participants_without_recording"],
        "warnings": outcome["warnings"],
        "seconds": secs,
        "raw_mb": s.raw_bytes as f64 / 1e6,
    })
}

pub(super) fn print_summary(s: &PrepareSummary, secs: f64, task: Option<&str>) {
    let rejected: usize = s
        .recordings
        .iter()
        .map(|r| match r.outcome {
            Outcome::Kept { rejected, .. } => rejected,
            _ => 0,
        })
        .sum();
    println!(
        "{} windows from {} subjects ({} recordings used, {} skipped, of {}) in {:.1} s -> {}",
        s.n_windows(),
        s.n_subjects,
        s.n_used(),
        s.recordings.len() - s.n_used(),
        s.recordings.len(),
        secs,
        s.out.display()
    );
    let per_class: Vec<String> =
        s.classes.iter().zip(&s.windows_per_class).map(|(c, n)| format!("{c}: {n}")).collect();
    println!("classes  {}", per_class.join(", "));
    println!("steps    {}", s.steps.join("; "));
    for (sp, subj, w) in &s.per_split {
        println!("{:<8} {subj} subjects, {w} windows", sp.name());
    }
    if rejected > 0 {
        println!("rejected {rejected} windows over the amplitude threshold");
    }
    if !s.upsampled.is_empty() {
        println!("upsampled {} recordings sampled below the output rate", s.upsampled.len());
    }
    if !s.unmarked.is_empty() {
        println!(
            "unmarked {} recordings without eyes-closed markers used whole (the others: eyes-closed only)",
            s.unmarked.len()
        );
    }
    print_outcomes(s, task);
}

/// What the readers warned about, one line each on stderr, naming the file.
pub(super) fn print_reader_warnings(s: &PrepareSummary) {
    for r in &s.recordings {
        for w in &r.warnings {
            eprintln!("eeglens: warning: {}: {w}", r.path.display());
        }
    }
}

/// One line per recording (used with its windows, or skipped with the reason), then the
/// participants without a recording.
fn print_outcomes(s: &PrepareSummary, task: Option<&str>) {
    let of_task = task.map(|t| format!(" of task {t}")).unwrap_or_default();
    for r in &s.recordings {
        match &r.outcome {
            Outcome::Kept { windows, rejected, seconds_used, eyes_closed_events } => {
                let rej = if *rejected > 0 { format!(", {rejected} rejected") } else { String::new() };
                let whole = if s.unmarked.contains(&r.path) { ", whole: no eyes-closed markers" } else { "" };
                let closed = if *eyes_closed_events {
                    format!(", {seconds_used:.1} s eyes closed")
                } else {
                    String::new()
                };
                println!(
                    "used     sub-{}: {windows} windows{rej}{closed}{whole} ({})",
                    r.subject,
                    r.path.display()
                );
                if let Some(c) = &r.clean {
                    println!("cleaned  sub-{}: {}", r.subject, clean_line(c));
                }
            }
            Outcome::Skipped(why) => println!("skipped  sub-{}: {why} ({})", r.subject, r.path.display()),
        }
    }
    for p in &s.participants_without_recording {
        println!("missing  {p}: listed in participants.tsv, no recording{of_task} found");
    }
}

/// `--clean`'s outcome for one recording in a line: the channels interpolated and why.
fn clean_line(c: &CleanReport) -> String {
    let skipped = c.line_noise_skipped.as_ref().map(|why| format!(" (line-noise criterion skipped: {why})"));
    let skipped = skipped.unwrap_or_default();
    if c.interpolated.is_empty() {
        return format!("no bad channel of {}{skipped}", c.n_channels);
    }
    let by: Vec<String> =
        [("flat", &c.flat), ("line noise", &c.line_noise), ("low correlation", &c.low_correlation)]
            .iter()
            .filter(|(_, l)| !l.is_empty())
            .map(|(what, l)| format!("{what}: {}", l.join(",")))
            .collect();
    format!(
        "interpolated {} of {} channels ({}){skipped}",
        c.interpolated.join(","),
        c.n_channels,
        by.join("; ")
    )
}

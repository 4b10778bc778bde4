//! From a BIDS dataset to an epoch store: the preparation of the seed paper's
//! group, one recording at a time.
//!
//! Per recording:
//! 1. pick the channels (`hbn24` by default: the 24 channels of Truong et
//!    al., found under their 10-20 names, their aliases or their EGI
//!    HydroCel-129 labels; or `all` EEG channels; or a list);
//! 2. resample to `rate` (default 128 Hz; polyphase with anti-aliasing); a
//!    recording sampled below twice the band's upper edge is skipped (it cannot
//!    hold the band), and upsampling is a warning;
//! 3. band-pass (default 0.25–25 Hz; 4th-order Butterworth, zero phase);
//! 4. re-reference (default: common average);
//! 5. keep the eyes-closed periods when events mark them: from marker to
//!    marker or, with `eyes_closed_window`, the seconds after each
//!    eyes-closed cue (`events.rs` says which events end or split a period).
//!    Without eyes markers the whole recording is used (a warning when
//!    others were marked) or skipped with `skip_unmarked`. Cut
//!    non-overlapping windows of `segment_s` seconds inside the periods;
//! 6. reject windows whose absolute amplitude exceeds `reject_uv` µV;
//! 7. normalise (default: per recording, see [`Normalise`]).
//!
//! Labels come from any `participants.tsv` column; subjects are split into
//! train/validation/test by subject ([`crate::split`]). The column is checked
//! before any recording is read: one class spelt two ways (`M`, `m`), a
//! participant listed twice with different values, and a column of numbers
//! (`age`: cut it into ranges with `bins`, or keep it as a regression target
//! with `numeric_target`) are refused; `n/a`, `NA`,
//! `unknown` and the like count as no value. A class that cannot appear in
//! every split (validation and test when their fractions are not zero) is
//! refused; a class of fewer than five subjects is a warning. Recordings are
//! processed in parallel, and each one's windows go to a temporary file beside
//! the output as soon as it is done (`spill.rs`), so the memory held does not
//! grow with the number of recordings: once every recording is processed and
//! the split decided, the store is written by copying the windows from that
//! file in the dataset's order, the content hash computed on the way. Nothing
//! disappears silently: every recording's
//! outcome — windows kept, windows rejected and why, or the reason it was
//! skipped — is in the returned [`PrepareSummary`], with what its reader warned
//! about (a duplicate channel label, ...). A recording that cannot be read (a
//! damaged header included) or holds a non-finite sample (NaN or an infinity,
//! before or after filtering) is skipped whole, with the reason: the filters
//! spread one NaN over the whole channel, so no window of it could be trusted.
//! No non-finite value is ever written into a store.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use eeglens_io::bids::{self, BidsDataset, BidsRecording};
use eeglens_io::tsv::Table;
use rayon::prelude::*;

mod bins;
mod clean;
mod config;
mod events;
mod labels;
mod merge;
mod recording;
mod shard;
mod spill;
mod summary;
mod target;

pub use bins::{Bins, MAX_BINS};
pub use clean::{
    clean_channels, CleanReport, CLEAN_FLAT_S, CLEAN_LINE_NOISE_Z, CLEAN_MAX_BAD_FRACTION, CLEAN_MAX_BROKEN,
    CLEAN_MIN_CORR, CLEAN_WINDOW_S,
};
pub use config::{BandFilter, ChannelSet, Normalise, PrepareConfig, MASTOIDS_HYDROCEL, RESTORED_REFERENCE};
pub use merge::{merge, PART_FORMAT};
pub use shard::{finished_shard, prepare_shard, shard_of_each, Shard, ShardSummary};
pub use summary::{Outcome, PrepareSummary, RecordingReport};

use crate::error::DataError;
use crate::split::split_subjects;
use crate::store::{EpochMeta, EpochSet, Split, WindowSources};
use recording::{process_recording, Processed};
use spill::{copy_places, Place, Source, Spill};

/// A labelled recording waiting to be processed, with its label value.
type Todo<'d> = (&'d BidsRecording, String);

/// One recording's processing result, with what its reader warned about.
type Done = (Result<Processed, String>, Vec<String>);

/// Prepares the BIDS dataset at `root` into an epoch store at `out`.
///
/// `progress` is called once per recording processed, with its subject label.
///
/// # Errors
/// - [`DataError::Config`]: invalid settings; a dataset without
///   participants.tsv or without the label column (the message lists the
///   columns that exist); subjects without a label (unless
///   `skip_unlabelled`).
/// - [`DataError::Io`]: `out` cannot be written (checked before any work).
/// - [`DataError::Prepare`], carrying every recording's outcome: no recording
///   could be used (the message gives the first reasons); with `strict`, any
///   skipped recording; fewer than two classes among the usable recordings; a
///   split that cannot be made.
pub fn prepare(
    root: &Path,
    cfg: &PrepareConfig,
    out: &Path,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<PrepareSummary, DataError> {
    cfg.validate()?;
    check_writable(out)?;
    let ds = scan(root)?;
    let plan = Plan::new(root, &ds, cfg)?;
    // Each recording's windows wait in the spill file, not in memory, until the store is written.
    let spill = Spill::create(out)?;
    let (done, places) = process_all(&plan.todo, cfg, progress, Some(&spill))?;
    let spill = spill.into_reader()?;
    let paths: Vec<PathBuf> = plan.todo.iter().map(|(r, _)| r.path.clone()).collect();
    let (summary, mut set) =
        plan.finish(done, cfg, cfg.steps(), cfg.settings_json(), crate::synth::planted(root), out)?;
    if cfg.numeric_target {
        let participants = participants_with_label(root, &ds, &cfg.label)?;
        target::attach(&mut set, participants, &cfg.label)?;
    }
    write_used(&set, &summary, &paths, &places, &[spill.source()], out)?;
    Ok(summary)
}

/// Writes the store `set`, whose windows are not in memory, at `out`: the windows of the
/// recordings that `summary` says were used, copied from `sources` at their `places` (one per
/// recording of the plan, `None` for those without windows) in the plan's order, the order in
/// which [`Plan::finish`] gave the windows their labels.
fn write_used(
    set: &EpochSet,
    summary: &PrepareSummary,
    paths: &[PathBuf],
    places: &[Option<Place>],
    sources: &[Source<'_>],
    out: &Path,
) -> Result<(), DataError> {
    let used: std::collections::HashSet<&Path> = summary
        .recordings
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Kept { .. }))
        .map(|r| r.path.as_path())
        .collect();
    let chosen: Vec<Place> = paths
        .iter()
        .zip(places)
        .filter(|(path, _)| used.contains(path.as_path()))
        .filter_map(|(_, place)| place.clone())
        .collect();
    let window = (set.meta.channels.len() * set.n_samples * 4) as u64;
    let bytes: u64 = chosen.iter().map(|(_, r)| r.end - r.start).sum();
    if bytes != set.len() as u64 * window {
        return Err(DataError::Invalid(format!(
            "the used recordings hold {bytes} bytes of windows for {} windows of {window} bytes",
            set.len()
        )));
    }
    set.write_windows_from(out, |w| copy_places(sources, chosen, w))
}

/// What is known before any recording is read: the labelled recordings in the dataset's
/// order, the reports of the unlabelled ones, and the label column's warnings. A single
/// `prepare` and every `prepare --shard` make the same plan from the whole dataset.
struct Plan<'d> {
    /// the participants table (for messages)
    participants: PathBuf,
    /// the labelled recordings, in the dataset's order
    todo: Vec<Todo<'d>>,
    /// the reports of the recordings without a label
    reports: Vec<RecordingReport>,
    warnings: Vec<String>,
    participants_without_recording: Vec<String>,
}

impl<'d> Plan<'d> {
    /// Labels, bins and the split checked from the whole participants list, before any work.
    fn new(root: &Path, ds: &'d BidsDataset, cfg: &PrepareConfig) -> Result<Self, DataError> {
        let participants = participants_with_label(root, ds, &cfg.label)?;
        if cfg.numeric_target {
            target::values_of(participants, &cfg.label).map_err(DataError::Config)?;
        }
        let binned;
        // A numeric target's subjects are split by its halves at the median.
        let bins = if cfg.numeric_target { Some(&target::STRATA) } else { cfg.bins.as_ref() };
        let (participants, edges) = match bins {
            None => (participants, None),
            Some(b) => {
                let (table, edges) =
                    bins::bin_column(participants, &cfg.label, b).map_err(DataError::Config)?;
                binned = table;
                (&binned, Some(edges))
            }
        };
        let warnings = labels::check_column(participants, &cfg.label).map_err(DataError::Config)?;
        let recs = recordings_of_task(root, ds, cfg.task.as_deref())?;
        let participants_without_recording = participants_without_recording(participants, &recs);

        // Labels first: a missing label is a configuration problem, found before any work.
        let (todo, reports) = label_recordings(participants, recs, cfg, edges.as_deref())?;
        check_labelled_split(participants, &todo, cfg)?;
        Ok(Plan {
            participants: participants.path.clone(),
            todo,
            reports,
            warnings,
            participants_without_recording,
        })
    }

    /// From every labelled recording's result (in `todo`'s order) to the store's contents and the
    /// summary: channels, classes, the subject split, class balancing, the windows in order.
    /// `settings` become the store's, with the outcome and the planted effect added; `steps` are
    /// the signal steps the recordings went through (`PrepareConfig::steps`).
    fn finish(
        self,
        done: Vec<Done>,
        cfg: &PrepareConfig,
        steps: Vec<String>,
        mut settings: serde_json::Value,
        planted: Option<serde_json::Value>,
        out: &Path,
    ) -> Result<(PrepareSummary, EpochSet), DataError> {
        let Plan { participants, todo, reports, mut warnings, participants_without_recording } = self;
        let gathered = gather(&todo, done, cfg, reports);
        let unmarked = used_whole_beside_marked(cfg, &gathered.reports);
        warnings.extend(upsampled_warning(cfg, &gathered.upsampled));
        warnings.extend(unmarked_warning(&gathered.reports, &unmarked));

        // Every failure from here on carries what happened to each recording: the summary so far.
        let mut summary = PrepareSummary {
            out: out.to_path_buf(),
            classes: Vec::new(),
            recordings: gathered.reports,
            windows_per_class: Vec::new(),
            per_split: Vec::new(),
            n_subjects: 0,
            raw_bytes: gathered.raw_bytes,
            participants_without_recording,
            warnings,
            unmarked,
            upsampled: gathered.upsampled,
            steps,
        };
        let kept = gathered.kept;
        let root = participants.parent().unwrap_or(Path::new("."));
        let channels = check_usable(root, cfg, &summary, gathered.channels)?;
        let classes = classes_of(&kept, cfg, &summary)?;
        let (subjects, subj_classes) = subject_classes(&kept, &classes)?;
        let assignment = split_checked(&participants, cfg, &subjects, &subj_classes, &classes, &mut summary)?;
        leave_out_balanced(&mut summary.recordings, &subjects, &subj_classes, &classes, &assignment);
        summary.classes = classes;
        let mut set =
            assemble(cfg, root, channels, &subjects, &subj_classes, &assignment, kept, &mut summary);
        settings["outcome"] = summary.outcome_json();
        // A synthetic dataset's planted effect travels with its windows, so a report can show the truth.
        if let Some(planted) = planted {
            settings["planted"] = planted;
        }
        set.meta.settings = settings;
        Ok((summary, set))
    }
}

/// Scans the BIDS dataset at `root`, which must be a directory.
fn scan(root: &Path) -> Result<BidsDataset, DataError> {
    if !root.is_dir() {
        return Err(DataError::Config(format!(
            "{}: not a directory (expected a BIDS dataset root)",
            root.display()
        )));
    }
    Ok(bids::scan(root)?)
}

/// The dataset's participants.tsv, which must hold the label column.
fn participants_with_label<'d>(
    root: &Path,
    ds: &'d BidsDataset,
    label: &str,
) -> Result<&'d Table, DataError> {
    let participants = ds.participants.as_ref().ok_or_else(|| {
        DataError::Config(format!("{}: no participants.tsv, so there are no labels", root.display()))
    })?;
    if participants.column(label).is_none() {
        return Err(DataError::Config(format!(
            "{}: no column `{}`; the columns are: {}",
            participants.path.display(),
            label,
            participants.columns.join(", ")
        )));
    }
    Ok(participants)
}

/// The recordings of `task` (all when `None`); none at all is an error.
fn recordings_of_task<'d>(
    root: &Path,
    ds: &'d BidsDataset,
    task: Option<&str>,
) -> Result<Vec<&'d BidsRecording>, DataError> {
    let recs: Vec<&BidsRecording> = match task {
        Some(t) => ds.with_task(t),
        None => ds.recordings.iter().collect(),
    };
    if recs.is_empty() {
        let what = task.map(|t| format!(" of task {t}")).unwrap_or_default();
        return Err(DataError::Config(format!("{}: no EEG recording{what} found", root.display())));
    }
    Ok(recs)
}

/// The recordings whose subject has a label, with it, and the reports of those without one.
/// Subjects without a label are refused unless `skip_unlabelled`.
fn label_recordings<'d>(
    participants: &Table,
    recs: Vec<&'d BidsRecording>,
    cfg: &PrepareConfig,
    bin_edges: Option<&[f64]>,
) -> Result<(Vec<Todo<'d>>, Vec<RecordingReport>), DataError> {
    let mut reports: Vec<RecordingReport> = Vec::new();
    let mut todo: Vec<Todo<'d>> = Vec::new();
    let mut unlabelled = Vec::new();
    // The column as participants.tsv spells it (`--label` matches it regardless of case).
    let column = participants
        .column(&cfg.label)
        .map(|i| participants.columns[i].clone())
        .expect("the column was found above");
    for r in recs {
        let raw = r.participant.get(&column).map(|s| s.trim().to_string());
        match raw.clone().filter(|s| !labels::is_missing(s)) {
            // A number of a binned column was checked when the column was cut.
            Some(l) => match bin_edges {
                Some(edges) => todo.push((r, bins::class_of(&cfg.label, edges, &l).unwrap_or(l))),
                None => todo.push((r, l)),
            },
            None => {
                unlabelled.push(r.subject.clone());
                let why = match raw {
                    _ if r.participant.is_empty() => "not listed in participants.tsv".to_string(),
                    Some(v) if !v.is_empty() => format!("`{v}` in column `{column}` counts as no value"),
                    _ => format!("no value in column `{column}`"),
                };
                reports.push(RecordingReport {
                    path: r.path.clone(),
                    subject: r.subject.clone(),
                    label: None,
                    outcome: Outcome::Skipped(why),
                    warnings: Vec::new(),
                    clean: None,
                });
            }
        }
    }
    if !unlabelled.is_empty() && !cfg.skip_unlabelled {
        unlabelled.dedup();
        let shown: Vec<String> = unlabelled.iter().take(5).map(|s| format!("sub-{s}")).collect();
        return Err(DataError::Config(format!(
            "{} subject(s) have no `{}` in participants.tsv ({}{}); pass --skip-unlabelled to leave them out",
            unlabelled.len(),
            cfg.label,
            shown.join(", "),
            if unlabelled.len() > 5 { ", ..." } else { "" }
        )));
    }
    Ok((todo, reports))
}

/// Classes and splits of the labelled subjects, checked before any work: the usable ones are
/// among them.
fn check_labelled_split(participants: &Table, todo: &[Todo], cfg: &PrepareConfig) -> Result<(), DataError> {
    let subject_label: BTreeMap<&str, &str> =
        todo.iter().map(|(r, l)| (r.subject.as_str(), l.as_str())).collect();
    let names: Vec<String> =
        subject_label.values().map(|l| l.to_string()).collect::<BTreeSet<_>>().into_iter().collect();
    if names.len() >= 2 {
        let subjects: Vec<String> = subject_label.keys().map(|s| s.to_string()).collect();
        let classes: Vec<usize> = subject_label
            .values()
            .map(|l| names.iter().position(|n| n == l).expect("names built from these labels"))
            .collect();
        let assignment = split_subjects(&classes, names.len(), &cfg.split)?;
        labels::check_split(&subjects, &classes, &names, &assignment, &cfg.split, &cfg.label)
            .map_err(|e| DataError::Config(format!("{}: {e}", participants.path.display())))?;
    }
    Ok(())
}

/// Processes the labelled recordings in parallel, in `todo`'s order. With `spill`, each
/// recording's windows go to it as soon as the recording is done and leave its result empty;
/// then where they lie is returned beside each result (`None` for a recording without windows,
/// and for every recording without `spill`).
///
/// # Errors
/// [`DataError::Io`] when the spill file cannot be written.
fn process_all(
    todo: &[Todo],
    cfg: &PrepareConfig,
    progress: &(dyn Fn(&str) + Sync),
    spill: Option<&Spill>,
) -> Result<(Vec<Done>, Vec<Option<Place>>), DataError> {
    let results: Vec<(Done, Option<std::io::Result<std::ops::Range<u64>>>)> = todo
        .par_iter()
        .map(|(r, _)| {
            let mut reader_warnings = Vec::new();
            let mut res = process_recording(r, cfg, &mut reader_warnings);
            let place = match (spill, &mut res) {
                (Some(spill), Ok(p)) => {
                    let range = spill.push(&p.windows);
                    p.windows = Vec::new();
                    Some(range)
                }
                _ => None,
            };
            progress(&r.subject);
            ((res, reader_warnings), place)
        })
        .collect();
    let mut done = Vec::with_capacity(results.len());
    let mut places = Vec::with_capacity(results.len());
    for (d, place) in results {
        done.push(d);
        places.push(match place {
            Some(Ok(range)) => Some((0, range)),
            Some(Err(e)) => {
                return Err(DataError::io(spill.expect("a place only with a spill file").path(), e))
            }
            None => None,
        });
    }
    Ok((done, places))
}

/// A kept recording: its subject, its label, its windows and its path.
type Kept = (String, String, Processed, PathBuf);

/// The processed recordings sorted into kept and skipped.
struct Gathered {
    /// every recording's report, sorted by path
    reports: Vec<RecordingReport>,
    /// `(subject, label, windows)` of each kept recording, in `todo`'s order
    kept: Vec<Kept>,
    /// the channel names all kept recordings share; `None` when none was kept
    channels: Option<Vec<String>>,
    raw_bytes: u64,
    /// kept recordings sampled below the output rate, sorted by path
    upsampled: Vec<(PathBuf, f64)>,
}

/// Keeps each processed recording whose channels match the first kept one's and reports every
/// outcome (after the reports already in `reports`).
fn gather(
    todo: &[Todo],
    done: Vec<Done>,
    cfg: &PrepareConfig,
    mut reports: Vec<RecordingReport>,
) -> Gathered {
    let mut channel_names: Option<Vec<String>> = None;
    let mut kept: Vec<Kept> = Vec::new();
    let mut raw_bytes = 0;
    let mut upsampled: Vec<(PathBuf, f64)> = Vec::new();
    for ((r, label), (res, reader_warnings)) in todo.iter().zip(done) {
        let clean = res.as_ref().ok().and_then(|p| p.clean.clone());
        let outcome = match res {
            Ok(p) => {
                raw_bytes += p.raw_bytes;
                match &channel_names {
                    Some(names) if *names != p.channels => Outcome::Skipped(format!(
                        "its channels ({}) differ from the other recordings' ({})",
                        p.channels.join(","),
                        names.join(",")
                    )),
                    _ => {
                        channel_names.get_or_insert_with(|| p.channels.clone());
                        let o = Outcome::Kept {
                            windows: p.n_windows,
                            rejected: p.rejected,
                            seconds_used: p.seconds_used,
                            eyes_closed_events: p.eyes_closed_events,
                        };
                        if p.fs < cfg.rate {
                            upsampled.push((r.path.clone(), p.fs));
                        }
                        kept.push((r.subject.clone(), label.clone(), p, r.path.clone()));
                        o
                    }
                }
            }
            Err(reason) => Outcome::Skipped(reason),
        };
        reports.push(RecordingReport {
            path: r.path.clone(),
            subject: r.subject.clone(),
            label: Some(label.clone()),
            outcome,
            warnings: reader_warnings,
            clean,
        });
    }
    reports.sort_by(|a, b| a.path.cmp(&b.path));
    upsampled.sort_by(|a, b| a.0.cmp(&b.0));
    Gathered { reports, kept, channels: channel_names, raw_bytes, upsampled }
}

/// Used recordings whose events did (`want`) or did not mark the eyes.
fn used_marked(reports: &[RecordingReport], want: bool) -> Vec<PathBuf> {
    reports
        .iter()
        .filter(
            |r| matches!(r.outcome, Outcome::Kept { eyes_closed_events, .. } if eyes_closed_events == want),
        )
        .map(|r| r.path.clone())
        .collect()
}

/// Recordings used whole while others gave eyes-closed data: a mix of conditions.
fn used_whole_beside_marked(cfg: &PrepareConfig, reports: &[RecordingReport]) -> Vec<PathBuf> {
    if cfg.eyes_closed && !used_marked(reports, true).is_empty() {
        used_marked(reports, false)
    } else {
        Vec::new()
    }
}

/// The warning about recordings upsampled to the output rate, if any were.
fn upsampled_warning(cfg: &PrepareConfig, upsampled: &[(PathBuf, f64)]) -> Option<String> {
    if upsampled.is_empty() {
        return None;
    }
    let rates: BTreeSet<String> = upsampled.iter().map(|(_, fs)| format!("{fs} Hz")).collect();
    let shown: Vec<String> =
        upsampled.iter().take(5).map(|(p, fs)| format!("{} ({fs} Hz)", p.display())).collect();
    Some(format!(
        "{} recording(s) sampled below --rate {} Hz were upsampled (from {}): upsampling adds nothing above half \
         their rate; {}{}",
        upsampled.len(),
        cfg.rate,
        rates.into_iter().collect::<Vec<_>>().join(", "),
        shown.join(", "),
        if upsampled.len() > 5 { ", ..." } else { "" }
    ))
}

/// The warning about recordings used whole beside eyes-closed data, if any were.
fn unmarked_warning(reports: &[RecordingReport], unmarked: &[PathBuf]) -> Option<String> {
    if unmarked.is_empty() {
        return None;
    }
    let names: Vec<String> = reports
        .iter()
        .filter(|r| unmarked.contains(&r.path))
        .take(5)
        .map(|r| format!("sub-{}", r.subject))
        .collect();
    Some(format!(
        "{} of {} used recordings have no eyes-closed markers and were used whole ({}{}), while the others \
         give eyes-closed data only: the classes may mix conditions; --skip-unmarked leaves them out",
        unmarked.len(),
        used_marked(reports, true).len() + unmarked.len(),
        names.join(", "),
        if unmarked.len() > 5 { ", ..." } else { "" }
    ))
}

/// A failure of `prepare` that carries the summary so far.
fn partial(summary: &PrepareSummary, message: String) -> DataError {
    DataError::Prepare { message, partial: Box::new(summary.clone()) }
}

/// The shared channel names, once it is sure that some recording was kept and, with `strict`,
/// that none was skipped.
fn check_usable(
    root: &Path,
    cfg: &PrepareConfig,
    summary: &PrepareSummary,
    channels: Option<Vec<String>>,
) -> Result<Vec<String>, DataError> {
    let reports = &summary.recordings;
    let skipped: Vec<&RecordingReport> =
        reports.iter().filter(|r| matches!(r.outcome, Outcome::Skipped(_))).collect();
    let reason = |r: &RecordingReport| match &r.outcome {
        Outcome::Skipped(why) => why.clone(),
        Outcome::Kept { .. } => String::new(),
    };
    let Some(channels) = channels else {
        let shown: Vec<String> =
            skipped.iter().take(3).map(|r| format!("sub-{}: {}", r.subject, reason(r))).collect();
        return Err(partial(
            summary,
            format!(
                "{}: no recording could be prepared, all {} were skipped: {}{}",
                root.display(),
                reports.len(),
                shown.join("; "),
                if skipped.len() > 3 { format!("; and {} more", skipped.len() - 3) } else { String::new() }
            ),
        ));
    };
    if cfg.strict {
        if let Some(first) = skipped.first() {
            return Err(partial(
                summary,
                format!(
                    "{}: skipped: {} (--strict refuses any skipped recording; {} of {} were skipped)",
                    first.path.display(),
                    reason(first),
                    skipped.len(),
                    reports.len()
                ),
            ));
        }
    }
    Ok(channels)
}

/// The class names (sorted label values) of the kept recordings; at least two are needed.
fn classes_of(
    kept: &[Kept],
    cfg: &PrepareConfig,
    summary: &PrepareSummary,
) -> Result<Vec<String>, DataError> {
    let classes: Vec<String> =
        kept.iter().map(|k| k.1.clone()).collect::<BTreeSet<_>>().into_iter().collect();
    if classes.len() < 2 {
        return Err(partial(
            summary,
            format!(
                "column `{}` has {} class(es) among the usable recordings ({}); at least two are needed",
                cfg.label,
                classes.len(),
                classes.join(", ")
            ),
        ));
    }
    Ok(classes)
}

/// The subjects of the kept recordings (sorted), with one class each.
fn subject_classes(kept: &[Kept], classes: &[String]) -> Result<(Vec<String>, Vec<usize>), DataError> {
    let mut subject_class: BTreeMap<String, usize> = BTreeMap::new();
    for (s, l, _, _) in kept {
        let c = classes.iter().position(|x| x == l).expect("class list built from these labels");
        if let Some(prev) = subject_class.insert(s.clone(), c) {
            if prev != c {
                return Err(DataError::Config(format!("subject sub-{s} has two different labels")));
            }
        }
    }
    Ok((subject_class.keys().cloned().collect(), subject_class.values().copied().collect()))
}

/// Each subject's split (`None`: left out by class balancing), checked; its warnings join the
/// summary's.
fn split_checked(
    participants: &Path,
    cfg: &PrepareConfig,
    subjects: &[String],
    subj_classes: &[usize],
    classes: &[String],
    summary: &mut PrepareSummary,
) -> Result<Vec<Option<Split>>, DataError> {
    let assignment = split_subjects(subj_classes, classes.len(), &cfg.split)
        .map_err(|e| partial(summary, e.to_string()))?;
    match labels::check_split(subjects, subj_classes, classes, &assignment, &cfg.split, &cfg.label) {
        Ok(w) => summary.warnings.extend(w),
        Err(e) => return Err(partial(summary, format!("{}: {e}", participants.display()))),
    }
    Ok(assignment)
}

/// Subjects that class balancing left out: their recordings end as skipped, with the reason.
fn leave_out_balanced(
    reports: &mut [RecordingReport],
    subjects: &[String],
    subj_classes: &[usize],
    classes: &[String],
    assignment: &[Option<Split>],
) {
    for (si, a) in assignment.iter().enumerate() {
        if a.is_none() {
            for r in summary_reports_of(reports, &subjects[si]) {
                r.outcome = Outcome::Skipped(format!(
                    "left out by --balance: class `{}` has more subjects than the smallest class",
                    classes[subj_classes[si]]
                ));
            }
        }
    }
}

/// The store's windows, in the order the recordings were kept, leaving out balanced-away
/// subjects, with each window's recording (its path relative to `root`, the dataset's) and
/// onset; the counts per class and per split go into `summary`, whose classes are set.
#[allow(clippy::too_many_arguments)]
fn assemble(
    cfg: &PrepareConfig,
    root: &Path,
    channels: Vec<String>,
    subjects: &[String],
    subj_classes: &[usize],
    assignment: &[Option<Split>],
    kept: Vec<Kept>,
    summary: &mut PrepareSummary,
) -> EpochSet {
    let seg = (cfg.segment_s * cfg.rate).round() as usize;
    let mut set = EpochSet {
        x: Vec::new(),
        n_samples: seg,
        y: Vec::new(),
        subject: Vec::new(),
        split: Vec::new(),
        meta: EpochMeta {
            channels,
            fs: cfg.rate,
            classes: summary.classes.clone(),
            label_column: cfg.label.clone(),
            subjects: subjects.iter().map(|s| format!("sub-{s}")).collect(),
            settings: serde_json::Value::Null,
            unit: Some(cfg.normalise.unit().to_string()),
        },
        sources: None,
        target: None,
    };
    let mut sources = WindowSources::default();
    let mut windows_per_class = vec![0; summary.classes.len()];
    let mut per_split: Vec<(Split, BTreeSet<usize>, usize)> =
        Split::ALL.iter().map(|&s| (s, BTreeSet::new(), 0)).collect();
    for (s, _, p, path) in kept {
        let si = subjects.binary_search(&s).expect("subject list built from these");
        let Some(split) = assignment[si] else { continue };
        let c = subj_classes[si];
        set.x.extend_from_slice(&p.windows);
        let r = sources.recordings.len() as u32;
        sources.recordings.push(relative_path(root, &path));
        sources.recording.extend(std::iter::repeat_n(r, p.n_windows));
        sources.onset_s.extend(p.starts.iter().map(|&start| start as f64 / cfg.rate));
        for _ in 0..p.n_windows {
            set.y.push(c as u32);
            set.subject.push(si as u32);
            set.split.push(split);
        }
        windows_per_class[c] += p.n_windows;
        let e = &mut per_split[split as usize];
        e.1.insert(si);
        e.2 += p.n_windows;
    }
    set.sources = Some(sources);
    summary.n_subjects = per_split.iter().map(|e| e.1.len()).sum();
    summary.windows_per_class = windows_per_class;
    summary.per_split = per_split.into_iter().map(|(s, subj, w)| (s, subj.len(), w)).collect();
    set
}

/// `path` relative to the dataset root `root`, `/`-separated (the path itself when it is not
/// inside `root`).
fn relative_path(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

/// The used recordings of subject `subject`.
fn summary_reports_of<'r>(
    reports: &'r mut [RecordingReport],
    subject: &'r str,
) -> impl Iterator<Item = &'r mut RecordingReport> + 'r {
    reports.iter_mut().filter(move |r| r.subject == subject && matches!(r.outcome, Outcome::Kept { .. }))
}

/// Participants of participants.tsv (as `sub-<label>`) that none of `recs` belongs to.
fn participants_without_recording(
    participants: &eeglens_io::tsv::Table,
    recs: &[&BidsRecording],
) -> Vec<String> {
    let Some(idcol) = participants.column("participant_id") else { return Vec::new() };
    let with: BTreeSet<&str> = recs.iter().map(|r| r.subject.as_str()).collect();
    let mut out: Vec<String> = participants
        .rows
        .iter()
        .map(|row| row[idcol].trim())
        .filter(|id| !id.is_empty())
        .map(|id| id.strip_prefix("sub-").unwrap_or(id))
        .filter(|id| !with.contains(id))
        .map(|id| format!("sub-{id}"))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Fails early, before any work, when `out` cannot be created.
fn check_writable(out: &Path) -> Result<(), DataError> {
    if out.is_dir() {
        return Err(DataError::Config(format!(
            "{}: is a directory; give a file name for the epoch store",
            out.display()
        )));
    }
    let probe = {
        let mut name = out.file_name().map(|s| s.to_os_string()).unwrap_or_default();
        name.push(".probe");
        out.with_file_name(name)
    };
    std::fs::write(&probe, b"").map_err(|e| DataError::io(out, e))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

#[cfg(test)]
mod tests;

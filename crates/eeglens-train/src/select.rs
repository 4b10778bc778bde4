//! Model selection on the validation split: train several zoo models on the
//! same store and keep the one whose best epoch did best on validation.
//!
//! No single model learns every planted effect the band-power baseline
//! decodes (VALIDATION.md): ShallowConvNet and R-VGG with batch normalisation
//! each learn cells the other misses, and LogPowerNet learns most of what both
//! miss. Training all three and keeping the one with the highest validation
//! balanced accuracy learns more of them than ShallowConvNet or R-VGG-BN
//! alone. The choice sees the validation split only, so the test split stays
//! an unbiased estimate of the chosen model.
//!
//! # Layout
//! [`train_selected`] trains candidate `m` into `OUT/candidates/m/` (a
//! complete run directory of its own), then copies the chosen candidate's run
//! files into `OUT`, so that `OUT` is an ordinary run for `eval`, `interpret`
//! and `report`, and writes [`SELECTION_FILE`] beside them: every candidate's
//! validation figures and which one was chosen, and why.

use std::path::{Path, PathBuf};

use eeglens_data::store::EpochStore;
use serde::{Deserialize, Serialize};

use crate::config::TrainConfig;
use crate::error::TrainError;
use crate::run_dir::{read_config, write_json, CONFIG_FILE};
use crate::train::{foreign_entry, run_files, train_with, Progress, RunOptions, StopReason, TrainSummary};

/// The model name that asks for selection among [`AUTO_CANDIDATES`].
pub const AUTO: &str = "auto";
/// What `eeglens train` and `eeglens validate` train unless told otherwise:
/// selection among [`AUTO_CANDIDATES`]. On the planted-effect grid
/// (VALIDATION.md) it learned more of the effects the band-power baseline
/// decodes than any one model. The library's single-model default,
/// [`crate::DEFAULT_MODEL`], is what [`crate::TrainConfig::default`] holds.
pub const COMMAND_DEFAULT: &str = AUTO;

/// Why model selection refuses a numeric target: it ranks candidates by validation balanced
/// accuracy, a classification figure. A regression names its model (the command line's
/// default there is [`crate::DEFAULT_MODEL`]).
pub const AUTO_ON_NUMERIC: &str = "model selection (--model auto) ranks models by validation balanced \
    accuracy, a classification figure; a regression on a numeric target needs one model: give --model \
    shallow (the default for numeric targets), rvgg, rvgg-bn, vanputten, eegnet or logpower";
/// The candidates of `auto`. On the validation grid LogPowerNet learned the
/// most planted effects (beta above all, which the other two mostly missed);
/// ShallowConvNet and R-VGG-BN stay candidates because their spatial filters
/// can learn what per-electrode power cannot (a difference in how electrodes
/// covary), and selection on validation keeps whichever learned.
pub const AUTO_CANDIDATES: [&str; 3] = ["shallow", "rvgg-bn", "logpower"];
/// Sub-directory of a selection run that holds one run per candidate.
pub const CANDIDATES_DIR: &str = "candidates";
/// The selection record in a run directory.
pub const SELECTION_FILE: &str = "selection.json";
/// Format tag of [`SELECTION_FILE`].
pub const SELECTION_FORMAT: &str = "eeglens-selection/1";
/// How the candidates are compared.
pub const CRITERION: &str = "validation balanced accuracy at each candidate's best epoch \
     (ties: lower validation loss, then the earlier candidate)";

/// One candidate's validation figures at its best epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CandidateScore {
    /// zoo model name
    pub model: String,
    /// its run directory, relative to the selection run
    pub dir: PathBuf,
    /// its best epoch (the checkpoint that would be used), from 1
    pub best_epoch: Option<usize>,
    /// validation balanced accuracy per window at the best epoch
    pub val_balanced_accuracy: Option<f64>,
    /// validation loss at the best epoch
    pub val_loss: Option<f64>,
    /// validation accuracy per subject at the best epoch
    pub val_subject_accuracy: Option<f64>,
    /// initialisations abandoned by stuck detection
    pub restarts: usize,
}

/// `selection.json`: which model a selection run kept, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    /// [`SELECTION_FORMAT`]
    pub format: String,
    /// [`CRITERION`]
    pub criterion: String,
    /// every candidate, in the order they were trained
    pub candidates: Vec<CandidateScore>,
    /// the chosen model's name
    pub chosen: String,
}

impl Selection {
    /// The chosen candidate's figures.
    pub fn chosen_score(&self) -> Option<&CandidateScore> {
        self.candidates.iter().find(|c| c.model == self.chosen)
    }

    /// One line for the user, e.g.
    /// `model selection: rvgg-bn (validation balanced accuracy 0.912) over shallow (0.850)`.
    pub fn describe(&self) -> String {
        let fig = |c: &CandidateScore| c.val_balanced_accuracy.map_or("n/a".into(), |v| format!("{v:.3}"));
        let others: Vec<String> = self
            .candidates
            .iter()
            .filter(|c| c.model != self.chosen)
            .map(|c| format!("{} ({})", c.model, fig(c)))
            .collect();
        let chosen = self.chosen_score().map_or("n/a".into(), fig);
        format!(
            "model selection: {} (validation balanced accuracy {chosen}) over {}; chosen on validation only, the test split was not looked at",
            self.chosen,
            others.join(", ")
        )
    }

    /// Reads `selection.json` of the run in `dir`, when it has one.
    ///
    /// # Errors
    /// [`TrainError::Io`] when it exists but cannot be read;
    /// [`TrainError::RunFile`] when it is malformed.
    pub fn read(dir: &Path) -> Result<Option<Self>, TrainError> {
        let path = dir.join(SELECTION_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(TrainError::io(&path, e)),
        };
        let s: Self = serde_json::from_str(&text)
            .map_err(|e| TrainError::RunFile { path: path.clone(), msg: e.to_string() })?;
        if s.format != SELECTION_FORMAT {
            return Err(TrainError::RunFile {
                path,
                msg: format!("format `{}`, expected `{SELECTION_FORMAT}`", s.format),
            });
        }
        Ok(Some(s))
    }
}

/// The candidate's figures at its best epoch (of its last attempt).
pub fn score(model: &str, dir: PathBuf, summary: &TrainSummary, restarts: usize) -> CandidateScore {
    let best = summary.best_epoch.and_then(|e| summary.records.iter().rev().find(|r| r.epoch == e));
    CandidateScore {
        model: model.to_string(),
        dir,
        best_epoch: summary.best_epoch,
        val_balanced_accuracy: best.and_then(|r| r.val_balanced_accuracy),
        val_loss: best.and_then(|r| r.val_loss),
        val_subject_accuracy: best.and_then(|r| r.val_subject_accuracy),
        restarts,
    }
}

/// Index of the candidate to keep: the highest validation balanced accuracy;
/// ties go to the lower validation loss, then to the earlier candidate. A
/// candidate without validation figures ranks last. `None` for no candidates.
pub fn choose(candidates: &[CandidateScore]) -> Option<usize> {
    let key = |c: &CandidateScore| {
        (c.val_balanced_accuracy.filter(|v| v.is_finite()), c.val_loss.filter(|v| v.is_finite()))
    };
    let mut best: Option<usize> = None;
    for (i, c) in candidates.iter().enumerate() {
        let Some(b) = best else {
            best = Some(i);
            continue;
        };
        let (acc, loss) = key(c);
        let (bacc, bloss) = key(&candidates[b]);
        let better = match (acc, bacc) {
            (Some(a), Some(ba)) if a != ba => a > ba,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            // equal accuracy, or neither has one: the lower loss wins
            _ => {
                matches!((loss, bloss), (Some(l), Some(bl)) if l < bl) || (loss.is_some() && bloss.is_none())
            }
        };
        if better {
            best = Some(i);
        }
    }
    best
}

/// What [`train_selected`] did.
#[derive(Clone, Debug)]
pub struct SelectedSummary {
    /// the chosen candidate's training (its `run_dir` is its candidate
    /// directory; `OUT` holds a copy of its files), or, when a candidate was
    /// interrupted, that candidate's summary
    pub summary: TrainSummary,
    /// the selection, `None` when a candidate was interrupted (nothing chosen yet)
    pub selection: Option<Selection>,
    /// wall-clock seconds of all candidates in this session
    pub seconds: f64,
}

/// Trains every model of `candidates` (with `base`'s other settings) into
/// `out/candidates/<model>/`, keeps the one [`choose`] picks and copies its
/// run files into `out`, with [`SELECTION_FILE`].
///
/// With `opts.resume`, a candidate that has started (its `config.json`
/// exists) is resumed, a finished one is only re-scored, and the others are
/// started; without it, `out` must not hold a run or other files unless
/// `opts.force`. A candidate's [`StopReason::Interrupted`] ends the call
/// at once, before any choice; resuming continues there.
///
/// Progress of each candidate goes to `progress`, after a
/// [`Progress::Candidate`] naming it.
///
/// # Errors
/// As [`train_with`] for each candidate; [`TrainError::Config`] for an
/// empty or repeated candidate list; [`TrainError::RunExists`],
/// [`TrainError::SelectionStarted`], [`TrainError::NotARun`] and
/// [`TrainError::NothingToResume`] for `out`;
/// [`TrainError::Io`] when the copy cannot be written.
pub fn train_selected(
    base: &TrainConfig,
    candidates: &[&str],
    store: &EpochStore,
    out: &Path,
    opts: &RunOptions,
    progress: &mut dyn FnMut(&Progress),
) -> Result<SelectedSummary, TrainError> {
    let started = std::time::Instant::now();
    let mut unique = candidates.to_vec();
    unique.sort_unstable();
    unique.dedup();
    if candidates.is_empty() || unique.len() != candidates.len() || candidates.contains(&AUTO) {
        return Err(TrainError::Config {
            field: "model",
            msg: format!("model selection needs distinct zoo models, got [{}]", candidates.join(", ")),
        });
    }
    if store.target().is_some() {
        return Err(TrainError::Config { field: "model", msg: AUTO_ON_NUMERIC.into() });
    }
    let cand_root = out.join(CANDIDATES_DIR);
    if opts.resume {
        if !cand_root.is_dir() {
            return Err(TrainError::NothingToResume {
                path: out.to_path_buf(),
                reason: format!("no {CANDIDATES_DIR}/ directory (start the selection without --resume)"),
            });
        }
    } else if !opts.force {
        if out.join(CONFIG_FILE).exists() {
            return Err(TrainError::RunExists { path: out.to_path_buf() });
        }
        if cand_root.exists() {
            return Err(TrainError::SelectionStarted { path: out.to_path_buf() });
        }
        if let Some(entry) = foreign_entry(out)? {
            return Err(TrainError::NotARun { path: out.to_path_buf(), entry });
        }
    }
    let mut scores = Vec::new();
    let mut summaries = Vec::new();
    for (i, &model) in candidates.iter().enumerate() {
        let rel = Path::new(CANDIDATES_DIR).join(model);
        let dir = out.join(&rel);
        progress(&Progress::Candidate {
            model: model.to_string(),
            index: i,
            of: candidates.len(),
            dir: dir.clone(),
        });
        let cfg = TrainConfig { model: model.to_string(), ..base.clone() };
        let resume = opts.resume && dir.join(CONFIG_FILE).is_file();
        let o = RunOptions { resume, force: opts.force, stop: opts.stop.clone() };
        let summary = train_with(&cfg, store, &dir, &o, progress)?;
        if matches!(summary.stop, StopReason::Interrupted { .. }) {
            return Ok(SelectedSummary {
                summary,
                selection: None,
                seconds: started.elapsed().as_secs_f64(),
            });
        }
        let restarts = read_config(&dir)?.attempts.len();
        scores.push(score(model, rel, &summary, restarts));
        summaries.push(summary);
    }
    let k = choose(&scores).expect("at least one candidate");
    let selection = Selection {
        format: SELECTION_FORMAT.into(),
        criterion: CRITERION.into(),
        candidates: scores,
        chosen: candidates[k].to_string(),
    };
    copy_run(&summaries[k].run_dir, out)?;
    write_json(&out.join(SELECTION_FILE), SELECTION_FORMAT, &selection)?;
    progress(&Progress::Selected(Box::new(selection.clone())));
    Ok(SelectedSummary {
        summary: summaries.swap_remove(k),
        selection: Some(selection),
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Makes `to`'s run files those of the run in `from`: every run file of
/// `from` is copied (atomically, all or nothing) and a run file of `to`
/// that `from` lacks is removed.
fn copy_run(from: &Path, to: &Path) -> Result<(), TrainError> {
    std::fs::create_dir_all(to).map_err(|e| TrainError::io(to, e))?;
    let mut contents = Vec::new();
    for src in run_files(from) {
        let name = src.file_name().expect("run files have names").to_owned();
        let dst = to.join(&name);
        match std::fs::read(&src) {
            Ok(bytes) => contents.push((dst, bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => match std::fs::remove_file(&dst) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(TrainError::io(&dst, e)),
                _ => {}
            },
            Err(e) => return Err(TrainError::io(&src, e)),
        }
    }
    let files: Vec<(&Path, &[u8])> = contents.iter().map(|(p, b)| (p.as_path(), b.as_slice())).collect();
    eeglens_io::atomic::write_files(&files).map_err(|e| TrainError::io(to, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(model: &str, acc: Option<f64>, loss: Option<f64>) -> CandidateScore {
        CandidateScore {
            model: model.into(),
            dir: PathBuf::from(model),
            best_epoch: Some(1),
            val_balanced_accuracy: acc,
            val_loss: loss,
            val_subject_accuracy: None,
            restarts: 0,
        }
    }

    #[test]
    fn the_higher_validation_balanced_accuracy_wins() {
        let c = [cand("a", Some(0.7), Some(0.2)), cand("b", Some(0.9), Some(0.6))];
        assert_eq!(choose(&c), Some(1));
        let c = [cand("a", Some(0.9), Some(0.6)), cand("b", Some(0.7), Some(0.2))];
        assert_eq!(choose(&c), Some(0));
    }

    #[test]
    fn ties_go_to_the_lower_loss_then_to_the_earlier_candidate() {
        let c = [cand("a", Some(0.8), Some(0.5)), cand("b", Some(0.8), Some(0.4))];
        assert_eq!(choose(&c), Some(1));
        let c = [cand("a", Some(0.8), Some(0.4)), cand("b", Some(0.8), Some(0.4))];
        assert_eq!(choose(&c), Some(0));
    }

    #[test]
    fn a_candidate_without_validation_figures_ranks_last() {
        let c = [cand("a", None, None), cand("b", Some(0.5), Some(0.7))];
        assert_eq!(choose(&c), Some(1));
        let c = [cand("a", Some(0.5), Some(0.7)), cand("b", Some(f64::NAN), None)];
        assert_eq!(choose(&c), Some(0));
        assert_eq!(choose(&[]), None);
    }

    #[test]
    fn the_description_names_every_candidate_and_says_test_was_not_used() {
        let s = Selection {
            format: SELECTION_FORMAT.into(),
            criterion: CRITERION.into(),
            candidates: vec![cand("shallow", Some(0.85), Some(0.3)), cand("rvgg-bn", Some(0.912), Some(0.2))],
            chosen: "rvgg-bn".into(),
        };
        let d = s.describe();
        assert!(
            d.starts_with(
                "model selection: rvgg-bn (validation balanced accuracy 0.912) over shallow (0.850)"
            ),
            "{d}"
        );
        assert!(d.contains("test split was not looked at"), "{d}");
    }
}

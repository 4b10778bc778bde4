//! The training loop: seeded shuffling, mini-batches, validation after every
//! epoch, early stopping, best and last checkpoints, a guard against
//! non-finite losses, interruption and exact resumption.
//!
//! # Determinism
//! Every random draw comes from `seed` through fixed streams: the initial
//! weights from one, each epoch's order of windows from `fork(epoch)` of
//! another, and each optimiser step's dropout masks from `fork(step)` of a
//! third. So the windows and masks of any step follow from the seed and the
//! step's position alone, and a resumed run meets exactly the batches, masks
//! and optimiser state it would have met without the interruption.
//!
//! With one thread the arithmetic is sequential and runs are bit-identical.
//! With `n` threads the kernels split the batch into `n` chunks whose weight
//! gradients are summed in a fixed order, so runs with the same thread count
//! are bit-identical too; a different thread count changes the summation
//! order, and `f32` rounding then differs in the last bits (about `1e-7`
//! relative per step). Training carries such differences forward and slowly
//! amplifies them: on the toy store, one and two threads give weights that
//! agree to 1.4e-5 of each tensor's largest value after two epochs (the tests
//! allow 1e-3). Over long runs the two trajectories drift apart like runs
//! with nearby seeds, so their final metrics agree statistically (within the
//! spread over seeds), not digit for digit: compare runs with the same
//! `--threads`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use eeglens_autodiff::{ops, Rng, Tape, Tensor};
use eeglens_data::store::{EpochStore, Split};
pub use eeglens_nn::init::reinit;
use eeglens_nn::models::{build, ModelSpec};
use eeglens_nn::{
    load_checkpoint, load_optimizer, save_checkpoint, CheckpointMeta, Mode, Optimizer, Sequential,
};
use serde::{Deserialize, Serialize};

use crate::baseline::BaselineReport;
use crate::config::{Monitor, TrainConfig};
use crate::error::TrainError;
use crate::eval::{evaluate_model, predict_windows, EvalReport};
use crate::lock::RunLock;
use crate::metrics::{per_subject, probabilities, ClassMetrics};
use crate::run_dir::{
    read_config, read_metrics, write_json, write_metrics, Attempt, DataInfo, EpochRecord, ModelInfo,
    RunConfig, Versions, BASELINE_FILE, BEST_CHECKPOINT, CONFIG_FILE, LAST_CHECKPOINT, METRICS_FILE,
    RUN_FORMAT,
};

/// Random stream of the initial weights.
const INIT_STREAM: u64 = 0x1417;
/// Random stream of the epochs' window orders.
const SHUFFLE_STREAM: u64 = 0x5408;
/// Random stream of the dropout masks.
const DROPOUT_STREAM: u64 = 0xD809;
/// Stream (plus the attempt number) of a re-initialised attempt.
const RESTART_STREAM: u64 = 0x5E57_0000;
/// A training loss within this many nats of chance counts as "learned nothing".
pub const STUCK_LOSS_MARGIN: f64 = 0.01;
/// A validation balanced accuracy below this counts as chance.
pub const STUCK_VAL_BALANCED: f64 = 0.55;
/// Checkpoint metadata key of the loop's position.
const STATE_KEY: &str = "train.state";

/// How a call of [`train_with`] treats an existing run directory, and how to stop it.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// continue the run in the directory from `checkpoint-last` (the stored
    /// settings are kept except `epochs`, `patience` and `threads`; a change
    /// is reported as [`Progress::SettingChanged`], and `epochs` below those
    /// done is refused)
    pub resume: bool,
    /// overwrite a run already in the directory, or train into an existing
    /// directory that holds other files
    pub force: bool,
    /// when set (for example by a Ctrl-C handler), the loop finishes the
    /// current batch, writes `checkpoint-last` and returns
    pub stop: Option<Arc<AtomicBool>>,
}

/// What the loop reports as it goes.
#[derive(Clone, Debug, PartialEq)]
pub enum Progress {
    /// The loop is about to start (or resume).
    Start {
        /// epochs asked for
        epochs: usize,
        /// epochs already done (non-zero when resuming)
        epochs_done: usize,
        /// batches of the current epoch already done (when resuming mid-epoch)
        batches_done: usize,
        /// batches per epoch
        batches: usize,
        /// training windows (per epoch, after class balancing)
        n_train: usize,
        /// validation windows
        n_val: usize,
        /// worker threads
        threads: usize,
    },
    /// A batch is done.
    Batch {
        /// epoch, from 1
        epoch: usize,
        /// epochs asked for
        epochs: usize,
        /// batches done in this epoch
        batch: usize,
        /// batches per epoch
        batches: usize,
        /// mean training loss of the epoch so far
        loss: f64,
        /// training accuracy of the epoch so far
        accuracy: f64,
        /// training windows per second in this session
        samples_per_s: f64,
        /// estimated seconds until the last epoch ends
        eta_s: f64,
    },
    /// Validation of an epoch starts.
    Validating {
        /// epoch, from 1
        epoch: usize,
    },
    /// An epoch is done (the line just appended to `metrics.jsonl`).
    Epoch(EpochRecord),
    /// The best model is being evaluated on the test split.
    Testing,
    /// The band-power baseline was fitted (and written to `baseline.json`).
    Baseline(Box<BaselineReport>),
    /// The baseline could not be fitted (e.g. a split without windows); training goes on.
    BaselineSkipped(String),
    /// A resumed session changes a stored setting (`epochs`, `patience` or
    /// `threads`, given explicitly); `config.json` records the new value.
    SettingChanged(SettingChange),
    /// The run directory's lock was left by a process that is gone; this
    /// session took it over.
    LockTakenOver(crate::lock::Holder),
    /// Stuck detection abandoned the network and starts attempt `attempt` from a new initialisation.
    Restart {
        /// the new attempt, from 1
        attempt: usize,
        /// why the previous one was abandoned
        reason: String,
    },
    /// Model selection ([`crate::select`]) starts (or resumes, or re-scores) a candidate;
    /// its own progress follows.
    Candidate {
        /// zoo model name
        model: String,
        /// position among the candidates, from 0
        index: usize,
        /// number of candidates
        of: usize,
        /// the candidate's run directory
        dir: PathBuf,
    },
    /// Model selection chose a candidate (also written to `selection.json`).
    Selected(Box<crate::select::Selection>),
}

/// A stored setting a resumed session changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettingChange {
    /// `epochs`, `patience` or `threads`
    pub field: &'static str,
    /// the value in `config.json` before
    pub stored: String,
    /// the value from now on
    pub now: String,
}

impl SettingChange {
    /// One line for the user, e.g. `extending the run from 12 to 20 epochs`.
    pub fn describe(&self) -> String {
        let num = |s: &str| s.parse::<usize>().ok();
        match (self.field, num(&self.stored), num(&self.now)) {
            ("epochs", Some(a), Some(b)) if b > a => format!("extending the run from {a} to {b} epochs"),
            ("epochs", Some(a), Some(b)) => format!("ending the run after {b} epochs instead of {a}"),
            (f, ..) => format!("{f}: {} instead of the stored {}", self.now, self.stored),
        }
    }
}

/// Why the loop ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum StopReason {
    /// all epochs were run
    Completed,
    /// the monitored figure did not improve for `patience` epochs
    EarlyStopped,
    /// the stop flag was raised; `--resume` continues at `epoch`, after `batch` batches
    Interrupted {
        /// epoch in progress, from 1
        epoch: usize,
        /// batches of it already done
        batch: usize,
    },
}

/// What [`train`] did.
#[derive(Clone, Debug)]
pub struct TrainSummary {
    /// the run directory
    pub run_dir: PathBuf,
    /// why the loop ended
    pub stop: StopReason,
    /// epochs completed (over all sessions of the run)
    pub epochs_done: usize,
    /// epoch of `checkpoint-best`, from 1
    pub best_epoch: Option<usize>,
    /// the monitored figure at the best epoch
    pub best_value: Option<f64>,
    /// every line of `metrics.jsonl`
    pub records: Vec<EpochRecord>,
    /// the best model on the test split (also in `eval-test.json`), when the
    /// run ended and the store has test windows
    pub test: Option<EvalReport>,
    /// wall-clock seconds of this session
    pub seconds: f64,
    /// worker threads used
    pub threads: usize,
}

/// The loop's position, stored in `checkpoint-last` under `train.state`.
/// Floats are stored as their bits so the resumed sums are bit-identical.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct LoopState {
    epochs_done: usize,
    batches_done: usize,
    step: u64,
    loss_sum_bits: u64,
    correct: u64,
    seen: u64,
    load_s: f64,
    train_s: f64,
    best_bits: Option<u64>,
    best_epoch: Option<usize>,
    bad_epochs: usize,
    /// the attempt (stuck detection) this state belongs to
    #[serde(default)]
    attempt: usize,
}

impl LoopState {
    fn loss_sum(&self) -> f64 {
        f64::from_bits(self.loss_sum_bits)
    }

    fn best(&self) -> Option<f64> {
        self.best_bits.map(f64::from_bits)
    }

    fn reset_epoch(&mut self) {
        self.batches_done = 0;
        self.loss_sum_bits = 0f64.to_bits();
        self.correct = 0;
        self.seen = 0;
        self.load_s = 0.0;
        self.train_s = 0.0;
    }
}

/// Trains `cfg.model` on `store` into the new run directory `run_dir`.
/// Same as [`train_with`] with default [`RunOptions`] (refuses a directory
/// that already holds a run).
///
/// # Errors
/// As [`train_with`].
pub fn train(
    cfg: &TrainConfig,
    store: &EpochStore,
    run_dir: &Path,
    progress: &mut dyn FnMut(&Progress),
) -> Result<TrainSummary, TrainError> {
    train_with(cfg, store, run_dir, &RunOptions::default(), progress)
}

/// Trains `cfg.model` on the train split of `store`, validating on the val
/// split after every epoch and finally evaluating the best model on the test
/// split, writing everything to `run_dir`.
///
/// # Shapes
/// Windows `[C, T]` of the store are fed as `[batch, 1, C, T]`.
///
/// # Errors
/// [`TrainError::Config`] for bad settings; [`TrainError::EmptySplit`] without
/// training windows; [`TrainError::OneClass`] when they are all of one class;
/// [`TrainError::ModelShape`] when the model does not fit
/// the windows; [`TrainError::RunExists`], [`TrainError::NotARun`],
/// [`TrainError::StoreInRunFiles`], [`TrainError::NothingToResume`],
/// [`TrainError::ResumeMismatch`], [`TrainError::ResumeEpochs`] and
/// [`TrainError::RunFile`] (a `metrics.jsonl` that disagrees with the
/// checkpoint) for the run directory; [`TrainError::Locked`] when another
/// process trains in it;
/// [`TrainError::Io`] when it cannot be written; [`TrainError::Diverged`]
/// when the loss, the gradients or the validation loss stop being finite
/// (`checkpoint-last` then holds the last good epoch).
pub fn train_with(
    cfg: &TrainConfig,
    store: &EpochStore,
    run_dir: &Path,
    opts: &RunOptions,
    progress: &mut dyn FnMut(&Progress),
) -> Result<TrainSummary, TrainError> {
    let started = Instant::now();
    cfg.validate()?;
    let train_idx = store.indices(Split::Train);
    if train_idx.is_empty() {
        return Err(TrainError::EmptySplit { data: store.path().to_path_buf(), split: "train" });
    }
    crate::data_check::check_trainable(store, &train_idx)?;
    let val_idx = store.indices(Split::Val);
    // One process per run directory: the lock is held until this function returns.
    let _lock = if opts.resume && !run_dir.join(CONFIG_FILE).is_file() {
        None // nothing to resume: `resume_run` says so
    } else {
        let (lock, stale) = RunLock::acquire(run_dir)?;
        if let Some(h) = stale {
            progress(&Progress::LockTakenOver(h));
        }
        Some(lock)
    };
    let mut setup =
        if opts.resume { resume_run(cfg, store, run_dir)? } else { new_run(cfg, store, run_dir, opts)? };
    for c in std::mem::take(&mut setup.changes) {
        progress(&Progress::SettingChanged(c));
    }
    let cfg = setup.config.train.clone();
    // Tens of thousands of threads take minutes to start: beyond a few per core, none help.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.threads.map_or(0, |t| t.min(crate::config::max_threads())))
        .build()
        .map_err(|e| TrainError::Config { field: "threads", msg: e.to_string() })?;
    let threads = pool.current_num_threads();
    let k = store.meta().classes.len().max(1);
    let (c, t) = (store.n_channels(), store.n_samples());
    let labels = store.labels();
    let seed_rng = attempt_rng(cfg.seed, setup.config.attempts.len());
    let mut shuffle_base = seed_rng.fork(SHUFFLE_STREAM);
    let mut dropout_base = seed_rng.fork(DROPOUT_STREAM);
    if !opts.resume && cfg.baseline {
        match crate::baseline::baseline(store) {
            Ok(b) => {
                write_json(&run_dir.join(BASELINE_FILE), &b.without_windows())?;
                progress(&Progress::Baseline(Box::new(b)));
            }
            Err(e) => progress(&Progress::BaselineSkipped(e.to_string())),
        }
    }
    let chance_loss = class_entropy(&train_idx, labels, k, cfg.balanced);
    let batches_of = |order: &[usize]| -> Vec<(usize, usize)> {
        let mut b: Vec<(usize, usize)> =
            (0..order.len()).step_by(cfg.batch).map(|s| (s, (s + cfg.batch).min(order.len()))).collect();
        // A last batch of one window is dropped: batch norm cannot train on it.
        if b.len() > 1 && b.last().is_some_and(|&(s, e)| e - s < 2) {
            b.pop();
        }
        b
    };
    let n_epoch = epoch_order(&train_idx, labels, k, &shuffle_base, 0, cfg.balanced).len();
    let batches_per_epoch = batches_of(&vec![0; n_epoch]).len();
    let ckpt_meta = CheckpointMeta {
        model: cfg.model.clone(),
        input_shape: vec![1, c, t],
        class_names: store.meta().classes.clone(),
        extra: [("data.sha256".to_string(), setup.config.data.sha256.clone())].into_iter().collect(),
    };
    let st = &mut setup.state;
    progress(&Progress::Start {
        epochs: cfg.epochs,
        epochs_done: st.epochs_done,
        batches_done: st.batches_done,
        batches: batches_per_epoch,
        n_train: n_epoch,
        n_val: val_idx.len(),
        threads,
    });
    let best_path = run_dir.join(BEST_CHECKPOINT);
    let last_path = run_dir.join(LAST_CHECKPOINT);
    let mut session_batches = 0usize;
    let mut session_samples = 0u64;
    let mut session_train_s = 0.0f64;
    let mut stop = StopReason::Completed;
    'epochs: while st.epochs_done < cfg.epochs {
        if cfg.patience.is_some_and(|p| st.bad_epochs >= p) {
            stop = StopReason::EarlyStopped;
            break;
        }
        let epoch = st.epochs_done + 1;
        let order = epoch_order(&train_idx, labels, k, &shuffle_base, st.epochs_done as u64, cfg.balanced);
        let batches = batches_of(&order);
        while st.batches_done < batches.len() {
            if opts.stop.as_ref().is_some_and(|s| s.load(Ordering::SeqCst)) {
                write_checkpoint(&last_path, &setup.model, &ckpt_meta, Some(&setup.opt), Some(st))?;
                stop = StopReason::Interrupted { epoch, batch: st.batches_done };
                break 'epochs;
            }
            let (s, e) = batches[st.batches_done];
            let idx = &order[s..e];
            let t0 = Instant::now();
            let x = store.batch(idx);
            let y: Vec<usize> = idx.iter().map(|&i| labels[i] as usize).collect();
            let load_s = t0.elapsed().as_secs_f64();
            let mut drng = dropout_base.fork(st.step);
            let StepOutcome { loss, correct, grad_norm } =
                pool.install(|| train_step(&mut setup.model, &mut setup.opt, &x, &y, k, &mut drng))?;
            let batch_s = t0.elapsed().as_secs_f64();
            let bad = if !loss.is_finite() {
                Some(("loss", loss))
            } else if !grad_norm.is_finite() {
                Some(("gradient norm", grad_norm))
            } else {
                None
            };
            if let Some((what, value)) = bad {
                let kept = kept_note(&last_path, st.epochs_done);
                return Err(TrainError::Diverged { epoch, batch: st.batches_done + 1, what, value, kept });
            }
            st.step += 1;
            st.batches_done += 1;
            st.loss_sum_bits = (st.loss_sum() + loss * idx.len() as f64).to_bits();
            st.correct += correct;
            st.seen += idx.len() as u64;
            st.load_s += load_s;
            st.train_s += batch_s;
            session_batches += 1;
            session_samples += idx.len() as u64;
            session_train_s += batch_s;
            let per_batch = session_train_s / session_batches as f64;
            let remaining = (cfg.epochs - epoch) * batches.len() + (batches.len() - st.batches_done);
            progress(&Progress::Batch {
                epoch,
                epochs: cfg.epochs,
                batch: st.batches_done,
                batches: batches.len(),
                loss: st.loss_sum() / st.seen as f64,
                accuracy: st.correct as f64 / st.seen as f64,
                samples_per_s: session_samples as f64 / session_train_s.max(1e-9),
                eta_s: per_batch * remaining as f64,
            });
        }
        // Validation.
        progress(&Progress::Validating { epoch });
        let val_start = Instant::now();
        let val = if val_idx.is_empty() {
            None
        } else {
            let logits = pool.install(|| predict_windows(&setup.model, store, &val_idx, cfg.eval_batch))?;
            let y: Vec<usize> = val_idx.iter().map(|&i| labels[i] as usize).collect();
            let subj: Vec<usize> = val_idx.iter().map(|&i| store.subjects()[i] as usize).collect();
            let m = ClassMetrics::from_logits(&logits, &y, k);
            let per = per_subject(&probabilities(&logits, k), &y, &subj, k, &store.meta().subjects);
            let s_acc = per.iter().filter(|s| s.predicted == s.label).count() as f64 / per.len() as f64;
            Some((m, s_acc))
        };
        // The store holds finite windows only, so a validation loss that is not finite means
        // the network's outputs are not: stop as for a training loss, never record `null`.
        if let Some((m, _)) = val.as_ref().filter(|(m, _)| !m.loss.is_finite()) {
            let kept = kept_note(&last_path, st.epochs_done);
            return Err(TrainError::Diverged {
                epoch,
                batch: st.batches_done,
                what: "validation loss",
                value: m.loss,
                kept,
            });
        }
        let train_loss = st.loss_sum() / st.seen.max(1) as f64;
        let monitored = match (&val, cfg.monitor) {
            (None, _) => train_loss,
            (Some((m, _)), Monitor::ValLoss) => m.loss,
            (Some((m, _)), Monitor::ValAccuracy) => m.accuracy,
            (Some((m, _)), Monitor::ValBalancedAccuracy) => m.balanced_accuracy,
            (Some((m, _)), Monitor::ValAuc) => m.auc.unwrap_or(0.5),
        };
        let maximise = val.is_some() && cfg.monitor.maximise();
        let improved = monitored.is_finite()
            && st.best().is_none_or(|b| if maximise { monitored > b } else { monitored < b });
        if improved {
            st.best_bits = Some(monitored.to_bits());
            st.best_epoch = Some(epoch);
            st.bad_epochs = 0;
            write_checkpoint(&best_path, &setup.model, &ckpt_meta, None, None)?;
        } else {
            st.bad_epochs += 1;
        }
        let record = EpochRecord {
            epoch,
            step: st.step,
            lr: setup.opt.config().schedule.lr(setup.opt.config().lr, st.step.saturating_sub(1)),
            train_loss,
            train_accuracy: st.correct as f64 / st.seen.max(1) as f64,
            val_loss: val.as_ref().map(|v| v.0.loss),
            val_accuracy: val.as_ref().map(|v| v.0.accuracy),
            val_balanced_accuracy: val.as_ref().map(|v| v.0.balanced_accuracy),
            val_auc: val.as_ref().and_then(|v| v.0.auc),
            val_subject_accuracy: val.as_ref().map(|v| v.1),
            best: improved,
            seconds: st.train_s + val_start.elapsed().as_secs_f64(),
            samples_per_s: st.seen as f64 / st.train_s.max(1e-9),
            load_seconds: st.load_s,
            load_fraction: st.load_s / st.train_s.max(1e-9),
            attempt: setup.config.attempts.len(),
        };
        setup.records.push(record.clone());
        // metrics.jsonl first, then checkpoint-last: a crash in between leaves
        // an extra line that resuming drops, never a missing one.
        write_metrics(&run_dir.join(METRICS_FILE), &setup.records)?;
        st.epochs_done += 1;
        st.reset_epoch();
        write_checkpoint(&last_path, &setup.model, &ckpt_meta, Some(&setup.opt), Some(st))?;
        progress(&Progress::Epoch(record.clone()));
        // Stuck detection: a network still at chance after `stuck_epochs`
        // epochs starts again from the next attempt's initialisation.
        let attempt = setup.config.attempts.len();
        if cfg.stuck_epochs == Some(st.epochs_done)
            && attempt < cfg.restarts
            && is_stuck(&record, chance_loss)
        {
            let reason = format!(
                "stuck after {} epochs: training loss {:.4} within {STUCK_LOSS_MARGIN} of chance ({chance_loss:.4}), \
                 validation balanced accuracy {}",
                st.epochs_done,
                record.train_loss,
                record.val_balanced_accuracy.map_or("n/a".into(), |v| format!("{v:.3}")),
            );
            setup.config.attempts.push(Attempt {
                attempt,
                reason: reason.clone(),
                records: std::mem::take(&mut setup.records),
            });
            let next = attempt + 1;
            setup.model = build_model_attempt(&cfg, store, next)?;
            setup.opt = Optimizer::new(cfg.optimizer_config());
            *st = LoopState { attempt: next, ..LoopState::default() };
            let base = attempt_rng(cfg.seed, next);
            shuffle_base = base.fork(SHUFFLE_STREAM);
            dropout_base = base.fork(DROPOUT_STREAM);
            match std::fs::remove_file(&best_path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(TrainError::io(&best_path, e))
                }
                _ => {}
            }
            // The new attempt's checkpoint first: an interruption before
            // config.json is written is repaired on resume (see `resume_run`).
            write_checkpoint(&last_path, &setup.model, &ckpt_meta, Some(&setup.opt), Some(st))?;
            write_metrics(&run_dir.join(METRICS_FILE), &setup.records)?;
            write_json(&run_dir.join(CONFIG_FILE), &setup.config)?;
            progress(&Progress::Restart { attempt: next, reason });
        }
    }
    if stop == StopReason::Completed && cfg.patience.is_some_and(|p| st.bad_epochs >= p) {
        stop = StopReason::EarlyStopped;
    }
    let mut test = None;
    if !matches!(stop, StopReason::Interrupted { .. }) && !store.indices(Split::Test).is_empty() {
        progress(&Progress::Testing);
        let model = if best_path.exists() { load_checkpoint(&best_path)?.0 } else { setup.model.clone() };
        let mut report = pool.install(|| evaluate_model(&model, store, Split::Test, cfg.eval_batch))?;
        report.checkpoint = Some(if best_path.exists() { best_path.clone() } else { last_path.clone() });
        write_json(&run_dir.join("eval-test.json"), &report)?;
        test = Some(report);
    }
    Ok(TrainSummary {
        run_dir: run_dir.to_path_buf(),
        stop,
        epochs_done: st.epochs_done,
        best_epoch: st.best_epoch,
        best_value: st.best(),
        records: setup.records,
        test,
        seconds: started.elapsed().as_secs_f64(),
        threads,
    })
}

/// Which checkpoint keeps the last good state when training stops on a non-finite figure.
fn kept_note(last_path: &Path, epochs_done: usize) -> String {
    if last_path.exists() {
        format!("{} holds the state after epoch {epochs_done}", last_path.display())
    } else {
        "no checkpoint was written before".to_string()
    }
}

/// What one [`train_step`] did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepOutcome {
    /// the batch's mean cross-entropy, before the update
    pub loss: f64,
    /// windows of the batch whose largest logit was their label, before the update
    pub correct: u64,
    /// the global L2 norm of the gradient ([`eeglens_nn::optim::StepInfo`]);
    /// 0 when the loss is not finite (the update is then skipped)
    pub grad_norm: f64,
}

/// One optimiser step on the batch `x`, `y`: the step [`train_with`] runs for
/// every batch, and the one `eeglens bench` and this crate's bench time.
///
/// A train-mode forward (dropout masks drawn from `rng`; the loop passes a
/// fork of the run's dropout stream per step), cross-entropy over `k`
/// classes, the backward pass, then the optimiser update of every parameter
/// and the batch-norm running statistics. When the loss is not finite
/// nothing is updated and the outcome says so (the loop then stops with
/// [`TrainError::Diverged`]); a non-finite gradient norm is reported too.
///
/// # Shapes
/// `x` is `[n, 1, n_channels, n_samples]` (what [`EpochStore::batch`] gives),
/// `y` holds `n` labels below `k`, and `k` is the model's number of outputs.
///
/// # Errors
/// [`TrainError::Nn`] when the model refuses the batch's shape.
pub fn train_step(
    model: &mut Sequential,
    opt: &mut Optimizer,
    x: &Tensor,
    y: &[usize],
    k: usize,
    rng: &mut Rng,
) -> Result<StepOutcome, TrainError> {
    let (loss, correct, grads, stats) = {
        let mut tape = Tape::new();
        let params = model.bind(&mut tape, true);
        let xv = tape.constant(x.clone());
        let out = model.forward(&mut tape, &params, xv, Mode::Train, rng)?;
        let logits = tape.value(out.output).data();
        let correct = logits
            .chunks_exact(k)
            .zip(y)
            .filter(|(row, &label)| crate::metrics::argmax(row) == label)
            .count() as u64;
        let loss = ops::cross_entropy(&mut tape, out.output, y, None);
        let mut g = tape.backward(loss);
        let grads: Vec<Option<Tensor>> = params.vars().iter().map(|v| g.take(*v)).collect();
        (tape.value(loss).item() as f64, correct, grads, out.batch_stats)
    };
    if !loss.is_finite() {
        return Ok(StepOutcome { loss, correct, grad_norm: 0.0 });
    }
    let grads: Vec<Option<&Tensor>> = grads.iter().map(|g| g.as_ref()).collect();
    let info = opt.step(&mut model.params_mut(), &grads);
    model.apply_batch_stats(&stats);
    Ok(StepOutcome { loss, correct, grad_norm: info.grad_norm })
}

/// The cross-entropy of a model that ignores its input: the entropy of the
/// class shares the loop trains on (`ln k` with balanced sampling).
fn class_entropy(train_idx: &[usize], labels: &[u32], k: usize, balanced: bool) -> f64 {
    if balanced {
        return (k as f64).ln();
    }
    let mut counts = vec![0usize; k];
    for &i in train_idx {
        counts[(labels[i] as usize).min(k - 1)] += 1;
    }
    let n = train_idx.len().max(1) as f64;
    counts.iter().filter(|&&c| c > 0).map(|&c| -(c as f64 / n) * (c as f64 / n).ln()).sum()
}

/// Whether an epoch's figures say the network learned nothing: training
/// loss within [`STUCK_LOSS_MARGIN`] of `chance_loss` and validation balanced
/// accuracy below [`STUCK_VAL_BALANCED`] (or no validation windows).
pub fn is_stuck(record: &EpochRecord, chance_loss: f64) -> bool {
    record.train_loss >= chance_loss - STUCK_LOSS_MARGIN
        && record.val_balanced_accuracy.is_none_or(|b| b < STUCK_VAL_BALANCED)
}

/// The order of the training windows in epoch `epoch` (from 0): a shuffle
/// drawn from the epoch's own stream; with `balanced`, every class is
/// repeated (in fresh shuffles) up to the size of the largest class first.
pub fn epoch_order(
    train: &[usize],
    labels: &[u32],
    k: usize,
    base: &Rng,
    epoch: u64,
    balanced: bool,
) -> Vec<usize> {
    let mut rng = base.fork(epoch);
    let mut order = if balanced {
        let mut per_class: Vec<Vec<usize>> = vec![Vec::new(); k];
        for &i in train {
            per_class[labels[i] as usize].push(i);
        }
        let target = per_class.iter().map(Vec::len).max().unwrap_or(0);
        let mut out = Vec::with_capacity(target * k);
        for members in per_class.iter().filter(|m| !m.is_empty()) {
            let mut taken = 0;
            while taken < target {
                let mut copy = members.clone();
                rng.shuffle(&mut copy);
                let n = copy.len().min(target - taken);
                out.extend_from_slice(&copy[..n]);
                taken += n;
            }
        }
        out
    } else {
        train.to_vec()
    };
    rng.shuffle(&mut order);
    order
}

/// Writes a checkpoint (with the loop's position, when given).
fn write_checkpoint(
    path: &Path,
    model: &Sequential,
    meta: &CheckpointMeta,
    opt: Option<&Optimizer>,
    state: Option<&LoopState>,
) -> Result<(), TrainError> {
    let mut meta = meta.clone();
    if let Some(st) = state {
        meta.extra
            .insert(STATE_KEY.into(), serde_json::to_string(st).expect("plain data serialises to JSON"));
        meta.extra.insert("train.epochs_done".into(), st.epochs_done.to_string());
    }
    // Atomic and durable: the tensor-file writer goes through a synced temporary.
    save_checkpoint(path, model, &meta, opt)?;
    Ok(())
}

/// The model, optimiser, position and records a session starts from.
struct Setup {
    config: RunConfig,
    model: Sequential,
    opt: Optimizer,
    state: LoopState,
    records: Vec<EpochRecord>,
    /// stored settings a resumed session changes
    changes: Vec<SettingChange>,
}

fn build_model(cfg: &TrainConfig, store: &EpochStore) -> Result<Sequential, TrainError> {
    build_model_attempt(cfg, store, 0)
}

/// The random stream of attempt `attempt` of a run seeded `seed`: the seed's
/// own for the first attempt, a fork of it for each re-initialisation.
pub fn attempt_rng(seed: u64, attempt: usize) -> Rng {
    let base = Rng::new(seed);
    if attempt == 0 {
        base
    } else {
        base.fork(RESTART_STREAM.wrapping_add(attempt as u64))
    }
}

fn build_model_attempt(
    cfg: &TrainConfig,
    store: &EpochStore,
    attempt: usize,
) -> Result<Sequential, TrainError> {
    let spec = ModelSpec {
        n_channels: store.n_channels(),
        n_samples: store.n_samples(),
        n_classes: store.meta().classes.len().max(1),
    };
    let mut rng = attempt_rng(cfg.seed, attempt).fork(INIT_STREAM);
    let mut model = build(&cfg.model, &spec, &mut rng).map_err(|cause| TrainError::ModelShape {
        model: cfg.model.clone(),
        data: store.path().to_path_buf(),
        n_channels: spec.n_channels,
        n_samples: spec.n_samples,
        cause: Box::new(cause),
    })?;
    if let Some(init) = cfg.init {
        reinit(&mut model, init, &mut rng);
    }
    Ok(model)
}

/// Files a run writes (removed by `force`).
pub(crate) fn run_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = [
        CONFIG_FILE,
        METRICS_FILE,
        BEST_CHECKPOINT,
        LAST_CHECKPOINT,
        BASELINE_FILE,
        crate::select::SELECTION_FILE,
    ]
    .iter()
    .map(|f| dir.join(f))
    .collect();
    v.extend(Split::ALL.iter().map(|s| dir.join(format!("eval-{}.json", s.name()))));
    v
}

/// Whether `a` and `b` are the same existing file.
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// An entry of the existing directory `dir` that no run wrote (the run
/// lock and write temporaries do not count); `None` for a missing or empty one.
pub(crate) fn foreign_entry(dir: &Path) -> Result<Option<String>, TrainError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        // Not a directory, or unreadable: creating the run says so.
        Err(_) => return Ok(None),
    };
    for e in entries {
        let name = e.map_err(|e| TrainError::io(dir, e))?.file_name();
        if !(name == crate::lock::LOCK_FILE || eeglens_io::atomic::is_temporary(&name)) {
            return Ok(Some(name.to_string_lossy().into_owned()));
        }
    }
    Ok(None)
}

fn new_run(
    cfg: &TrainConfig,
    store: &EpochStore,
    dir: &Path,
    opts: &RunOptions,
) -> Result<Setup, TrainError> {
    let model = build_model(cfg, store)?;
    if run_files(dir).iter().any(|f| same_file(f, store.path())) {
        return Err(TrainError::StoreInRunFiles { data: store.path().to_path_buf() });
    }
    if !opts.force {
        if dir.join(CONFIG_FILE).exists() {
            return Err(TrainError::RunExists { path: dir.to_path_buf() });
        }
        if let Some(entry) = foreign_entry(dir)? {
            return Err(TrainError::NotARun { path: dir.to_path_buf(), entry });
        }
    }
    for f in run_files(dir) {
        match std::fs::remove_file(&f) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(TrainError::io(&f, e)),
            _ => {}
        }
    }
    // A model selection's candidates belong to the run being replaced: left
    // behind, `--resume` would take this run for a selection.
    let candidates = dir.join(crate::select::CANDIDATES_DIR);
    if candidates.is_dir() {
        std::fs::remove_dir_all(&candidates).map_err(|e| TrainError::io(&candidates, e))?;
    }
    std::fs::create_dir_all(dir).map_err(|e| TrainError::io(dir, e))?;
    let threads = cfg.threads.unwrap_or_else(rayon::current_num_threads);
    let config = RunConfig {
        format: RUN_FORMAT.into(),
        train: cfg.clone(),
        data: DataInfo::of_store(store)?,
        model: ModelInfo {
            name: cfg.model.clone(),
            input_shape: model.input_shape().to_vec(),
            n_params: model.num_params(),
        },
        threads,
        versions: Versions::current(),
        created_unix_s: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        attempts: Vec::new(),
    };
    write_json(&dir.join(CONFIG_FILE), &config)?;
    write_metrics(&dir.join(METRICS_FILE), &[])?;
    let opt = Optimizer::new(cfg.optimizer_config());
    Ok(Setup { config, model, opt, state: LoopState::default(), records: Vec::new(), changes: Vec::new() })
}

fn resume_run(cfg: &TrainConfig, store: &EpochStore, dir: &Path) -> Result<Setup, TrainError> {
    let nothing =
        |reason: &str| TrainError::NothingToResume { path: dir.to_path_buf(), reason: reason.into() };
    if !dir.join(CONFIG_FILE).exists() {
        return Err(nothing("no config.json (start a new run without --resume)"));
    }
    let mut config = read_config(dir)?;
    let last = dir.join(LAST_CHECKPOINT);
    if !last.exists() {
        return Err(nothing("no checkpoint-last.safetensors yet (start again with --force)"));
    }
    let mismatch = |field, stored: String, given: String| TrainError::ResumeMismatch {
        path: dir.to_path_buf(),
        field,
        stored,
        given,
    };
    if let Some((then, now)) = crate::data_check::differs(&config.data, store)? {
        return Err(mismatch(
            "data file",
            format!("{} ({then})", config.data.path.display()),
            format!("{} ({now})", store.path().display()),
        ));
    }
    let s = &config.train;
    let same_lr = (s.lr - cfg.lr).abs() <= 1e-12 * s.lr.abs().max(cfg.lr.abs());
    let checks: [(&'static str, bool, String, String); 6] = [
        ("model", s.model == cfg.model, s.model.clone(), cfg.model.clone()),
        ("batch", s.batch == cfg.batch, s.batch.to_string(), cfg.batch.to_string()),
        ("seed", s.seed == cfg.seed, s.seed.to_string(), cfg.seed.to_string()),
        ("lr", same_lr, s.lr.to_string(), cfg.lr.to_string()),
        ("optimizer", s.optimizer == cfg.optimizer, s.optimizer.name().into(), cfg.optimizer.name().into()),
        ("balanced sampling", s.balanced == cfg.balanced, s.balanced.to_string(), cfg.balanced.to_string()),
    ];
    if let Some((field, _, stored, given)) = checks.into_iter().find(|c| !c.1) {
        return Err(mismatch(field, stored, given));
    }
    let (model, meta, file) = load_checkpoint(&last)?;
    if meta.model != config.train.model {
        return Err(TrainError::RunFile { path: last, msg: format!("holds model `{}`", meta.model) });
    }
    let opt =
        load_optimizer(&file, &model)?.unwrap_or_else(|| Optimizer::new(config.train.optimizer_config()));
    let state: LoopState = meta
        .extra
        .get(STATE_KEY)
        .ok_or_else(|| TrainError::RunFile { path: last.clone(), msg: format!("no `{STATE_KEY}` metadata") })
        .and_then(|s| {
            serde_json::from_str(s)
                .map_err(|e| TrainError::RunFile { path: last.clone(), msg: format!("`{STATE_KEY}`: {e}") })
        })?;
    // A restart interrupted after its checkpoint but before config.json:
    // the checkpoint's attempt is the truth; the abandoned attempt's epochs are lost.
    while config.attempts.len() < state.attempt {
        config.attempts.push(Attempt {
            attempt: config.attempts.len(),
            reason: "abandoned by stuck detection; its epochs were lost in an interruption".into(),
            records: Vec::new(),
        });
    }
    if cfg.epochs < state.epochs_done {
        return Err(TrainError::ResumeEpochs {
            path: dir.to_path_buf(),
            asked: cfg.epochs,
            done: state.epochs_done,
            stored: config.train.epochs,
        });
    }
    // The settings a session may change, announced and recorded, never silently.
    let opt_str = |v: Option<usize>, none: &str| v.map_or_else(|| none.to_string(), |v| v.to_string());
    let changes: Vec<SettingChange> = [
        ("epochs", config.train.epochs.to_string(), cfg.epochs.to_string()),
        ("patience", opt_str(config.train.patience, "none"), opt_str(cfg.patience, "none")),
        ("threads", opt_str(config.train.threads, "one per core"), opt_str(cfg.threads, "one per core")),
    ]
    .into_iter()
    .filter(|(_, stored, now)| stored != now)
    .map(|(field, stored, now)| SettingChange { field, stored, now })
    .collect();
    config.train.epochs = cfg.epochs;
    config.train.patience = cfg.patience;
    config.train.threads = cfg.threads;
    let metrics = dir.join(METRICS_FILE);
    let records = resumed_records(read_metrics(&metrics)?, &state, &metrics, &last)?;
    write_metrics(&metrics, &records)?;
    write_json(&dir.join(CONFIG_FILE), &config)?;
    Ok(Setup { config, model, opt, state, records, changes })
}

/// The lines of `metrics.jsonl` a resumed run keeps: epochs 1 to the
/// checkpoint's, each once, of the checkpoint's attempt. Later lines (an
/// epoch written just before an interruption, whose checkpoint was not) are
/// dropped; a missing, repeated or foreign line below is an inconsistent
/// history, refused rather than continued.
fn resumed_records(
    all: Vec<EpochRecord>,
    state: &LoopState,
    metrics: &Path,
    checkpoint: &Path,
) -> Result<Vec<EpochRecord>, TrainError> {
    let done = state.epochs_done;
    let kept: Vec<EpochRecord> = all.into_iter().filter(|r| r.epoch <= done).collect();
    let epochs: Vec<usize> = kept.iter().map(|r| r.epoch).collect();
    let problem = if let Some(missing) = (1..=done).find(|e| !epochs.contains(e)) {
        Some(format!("lacks epoch {missing}"))
    } else if epochs.len() != done || epochs.windows(2).any(|w| w[0] >= w[1]) {
        Some("holds epochs repeated or out of order".to_string())
    } else {
        kept.iter().find(|r| r.attempt != state.attempt).map(|r| {
            format!(
                "holds epoch {} of attempt {}, not of the checkpoint's attempt {}",
                r.epoch, r.attempt, state.attempt
            )
        })
    };
    match problem {
        None => Ok(kept),
        Some(p) => Err(TrainError::RunFile {
            path: metrics.to_path_buf(),
            msg: format!(
                "{p} (it holds epochs {}) while {} is after epoch {done}; the run's history cannot be continued: restore the file, or train again with --force",
                epoch_ranges(&epochs),
                checkpoint.display()
            ),
        }),
    }
}

/// `1-4, 6-13`; `none` for no epoch.
fn epoch_ranges(epochs: &[usize]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < epochs.len() {
        let mut j = i;
        while j + 1 < epochs.len() && epochs[j + 1] == epochs[j] + 1 {
            j += 1;
        }
        parts.push(if i == j { epochs[i].to_string() } else { format!("{}-{}", epochs[i], epochs[j]) });
        i = j + 1;
    }
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn train_step_learns_a_batch_and_skips_a_non_finite_one() {
        let spec = ModelSpec { n_channels: 8, n_samples: 32, n_classes: 2 };
        let mut model = build("rvgg", &spec, &mut Rng::new(1)).expect("builds");
        let mut opt = Optimizer::new(TrainConfig { lr: 2e-3, ..TrainConfig::default() }.optimizer_config());
        let mut noise = Rng::new(2);
        let x = Tensor::from_vec(&[6, 1, 8, 32], (0..6 * 8 * 32).map(|_| noise.normal() as f32).collect())
            .expect("sized");
        let y = [0, 1, 0, 1, 1, 0];
        // Eval-mode loss: the step's own is taken in train mode, under dropout.
        let eval_loss = |m: &Sequential| {
            let ev = eeglens_nn::evaluate(m, &x, Some(&y), false).expect("evaluate");
            ev.loss.expect("labels given").item()
        };
        let before = eval_loss(&model);
        for step in 0..15 {
            let out = train_step(&mut model, &mut opt, &x, &y, 2, &mut Rng::new(step)).expect("step");
            assert!(out.loss.is_finite() && out.correct <= 6);
            assert!(out.grad_norm.is_finite() && out.grad_norm > 0.0);
        }
        let after = eval_loss(&model);
        assert!(after < before, "loss {before} -> {after}");
        assert_eq!(opt.steps(), 15);

        let before = model.clone();
        let mut bad = x.clone();
        bad.data_mut()[0] = f32::NAN;
        let out = train_step(&mut model, &mut opt, &bad, &y, 2, &mut Rng::new(4)).expect("step");
        assert!(!out.loss.is_finite() && out.grad_norm == 0.0);
        assert_eq!(opt.steps(), 15, "no update after a non-finite loss");
        let same = model
            .named_params()
            .iter()
            .zip(before.named_params())
            .all(|((_, a), (_, b))| a.data() == b.data());
        assert!(same, "the weights are untouched");
        let wrong = Tensor::zeros(&[2, 1, 8, 16]);
        assert!(matches!(
            train_step(&mut model, &mut opt, &wrong, &y[..2], 2, &mut Rng::new(5)),
            Err(TrainError::Nn(_))
        ));
    }
}

//! The training loop: seeded shuffling, mini-batches, validation after every
//! epoch, early stopping, best and last checkpoints, a guard against
//! non-finite losses, interruption and exact resumption.
//!
//! # Determinism
//! Every random draw comes from `seed` through fixed streams: the initial
//! weights from one, each epoch's order of windows from `fork(epoch)` of
//! another, each optimiser step's dropout masks from `fork(step)` of a
//! third, and (with `mix`) each step's mixing of windows from `fork(step)` of a
//! fourth. So the windows and masks of any step follow from the seed and the
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

use eeglens_autodiff::Rng;
use eeglens_data::store::{EpochStore, Split};
pub use eeglens_nn::init::reinit;
use eeglens_nn::{load_checkpoint, CheckpointMeta, Optimizer};
use rayon::ThreadPool;
use serde::Serialize;

mod checkpoint;
mod mix;
mod model;
mod sampler;
mod setup;
mod step;

use checkpoint::{kept_note, write_checkpoint, LoopState};
use mix::Mixer;
pub use model::attempt_rng;
use model::{build_model_attempt, DROPOUT_STREAM, MIX_STREAM, SHUFFLE_STREAM};
pub use sampler::epoch_order;
use sampler::{batches, class_entropy};
pub(crate) use setup::{foreign_entry, run_files};
use setup::{new_run, resume_run, Setup};
pub use step::{train_step, train_step_regression, StepOutcome};

use crate::baseline::BaselineReport;
use crate::config::{Monitor, TrainConfig};
use crate::error::TrainError;
use crate::eval::{evaluate_model, predict_windows, EvalReport};
use crate::lock::RunLock;
use crate::metrics::{per_subject, probabilities, ClassMetrics};
use crate::regression::{evaluate_regression, figures_of, predict_values, RegressionReport, TargetScale};
use crate::run_dir::{
    write_json, write_metrics, Attempt, EpochRecord, BASELINE_FILE, BEST_CHECKPOINT, CONFIG_FILE,
    LAST_CHECKPOINT, METRICS_FILE,
};

/// A training loss within this many nats of chance counts as "learned nothing".
pub const STUCK_LOSS_MARGIN: f64 = 0.01;
/// A validation balanced accuracy below this counts as chance.
pub const STUCK_VAL_BALANCED: f64 = 0.55;

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
    /// run ended and the store has test windows (classification runs)
    pub test: Option<EvalReport>,
    /// the same for a regression on a numeric target
    pub test_regression: Option<RegressionReport>,
    /// wall-clock seconds of this session
    pub seconds: f64,
    /// worker threads used
    pub threads: usize,
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
    let cfg = &cfg.resolved();
    cfg.validate()?;
    if let Some(f) = &cfg.fold {
        f.check(store)?;
    }
    let train_idx = store.indices(Split::Train);
    if train_idx.is_empty() {
        return Err(TrainError::EmptySplit { data: store.path().to_path_buf(), split: "train" });
    }
    crate::data_check::check_trainable(store, &train_idx)?;
    // One process per run directory: the lock is held until this function returns.
    let _lock = lock_run(run_dir, opts, progress)?;
    let mut setup =
        if opts.resume { resume_run(cfg, store, run_dir)? } else { new_run(cfg, store, run_dir, opts)? };
    for c in std::mem::take(&mut setup.changes) {
        progress(&Progress::SettingChanged(c));
    }
    let cfg = setup.config.train.clone();
    let pool = thread_pool(&cfg)?;
    if !opts.resume && cfg.baseline {
        run_baseline(store, run_dir, progress)?;
    }
    let mut session = Session::new(cfg, store, run_dir, opts, pool, train_idx, setup);
    session.announce(progress);
    let stop = session.run_epochs(progress)?;
    let (test, test_regression) = session.test(&stop, progress)?;
    let st = &session.setup.state;
    Ok(TrainSummary {
        run_dir: run_dir.to_path_buf(),
        stop,
        epochs_done: st.epochs_done,
        best_epoch: st.best_epoch,
        best_value: st.best(),
        records: session.setup.records,
        test,
        test_regression,
        seconds: started.elapsed().as_secs_f64(),
        threads: session.pool.current_num_threads(),
    })
}

/// Takes the run directory's lock, announcing a stale lock taken over; `None` when resuming a
/// directory with no run, which `resume_run` then refuses.
fn lock_run(
    run_dir: &Path,
    opts: &RunOptions,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Option<RunLock>, TrainError> {
    if opts.resume && !run_dir.join(CONFIG_FILE).is_file() {
        return Ok(None);
    }
    let (lock, stale) = RunLock::acquire(run_dir)?;
    if let Some(h) = stale {
        progress(&Progress::LockTakenOver(h));
    }
    Ok(Some(lock))
}

/// The session's worker threads.
fn thread_pool(cfg: &TrainConfig) -> Result<ThreadPool, TrainError> {
    // Tens of thousands of threads take minutes to start: beyond a few per core, none help.
    rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.threads.map_or(0, |t| t.min(crate::config::max_threads())))
        .build()
        .map_err(|e| TrainError::Config { field: "threads", msg: e.to_string() })
}

/// Fits the band-power baseline beside a new run and writes `baseline.json`; a store it cannot
/// fit is announced, not an error.
fn run_baseline(
    store: &EpochStore,
    run_dir: &Path,
    progress: &mut dyn FnMut(&Progress),
) -> Result<(), TrainError> {
    match crate::baseline::baseline(store) {
        Ok(b) => {
            write_json(&run_dir.join(BASELINE_FILE), crate::baseline::BASELINE_FORMAT, &b.for_run())?;
            progress(&Progress::Baseline(Box::new(b)));
        }
        Err(e) => progress(&Progress::BaselineSkipped(e.to_string())),
    }
    Ok(())
}

/// One session of the loop: the run's settings and windows, the model and its position, and
/// the session's own throughput figures.
struct Session<'a> {
    cfg: TrainConfig,
    store: &'a EpochStore,
    run_dir: &'a Path,
    opts: &'a RunOptions,
    pool: ThreadPool,
    /// number of classes (at least one)
    k: usize,
    /// a regression's standardisation of its numeric target (`None`: a classification)
    scale: Option<TargetScale>,
    train_idx: Vec<usize>,
    val_idx: Vec<usize>,
    /// the training loss of a network that learned nothing
    chance_loss: f64,
    shuffle_base: Rng,
    dropout_base: Rng,
    mix_base: Rng,
    /// within-class mixing of training windows (`None`: off, or a regression)
    mixer: Option<Mixer>,
    ckpt_meta: CheckpointMeta,
    best_path: PathBuf,
    last_path: PathBuf,
    setup: Setup,
    session_batches: usize,
    session_samples: u64,
    session_train_s: f64,
}

impl<'a> Session<'a> {
    fn new(
        cfg: TrainConfig,
        store: &'a EpochStore,
        run_dir: &'a Path,
        opts: &'a RunOptions,
        pool: ThreadPool,
        train_idx: Vec<usize>,
        setup: Setup,
    ) -> Self {
        let k = store.meta().classes.len().max(1);
        let seed_rng = attempt_rng(cfg.seed, setup.config.attempts.len());
        let chance_loss = class_entropy(&train_idx, store.labels(), k, cfg.balanced);
        let ckpt_meta = CheckpointMeta {
            model: cfg.model.clone(),
            input_shape: vec![1, store.n_channels(), store.n_samples()],
            // A regression's one output is named after its target.
            class_names: match &setup.config.data.target {
                Some(t) => vec![t.column.clone()],
                None => store.meta().classes.clone(),
            },
            extra: [("data.sha256".to_string(), setup.config.data.sha256.clone())].into_iter().collect(),
        };
        // Mixing blends classes' windows; a regression's targets are not mixed with them.
        let mixer = match setup.config.data.target {
            Some(_) => None,
            None => Mixer::new(store, &train_idx, k, cfg.mix),
        };
        Session {
            k,
            scale: setup.config.data.target.clone(),
            val_idx: store.indices(Split::Val),
            train_idx,
            chance_loss,
            shuffle_base: seed_rng.fork(SHUFFLE_STREAM),
            dropout_base: seed_rng.fork(DROPOUT_STREAM),
            mix_base: seed_rng.fork(MIX_STREAM),
            mixer,
            ckpt_meta,
            best_path: run_dir.join(BEST_CHECKPOINT),
            last_path: run_dir.join(LAST_CHECKPOINT),
            cfg,
            store,
            run_dir,
            opts,
            pool,
            setup,
            session_batches: 0,
            session_samples: 0,
            session_train_s: 0.0,
        }
    }

    /// The windows of epoch `epochs_done + 1`, in order.
    fn order(&self) -> Vec<usize> {
        let (st, cfg) = (&self.setup.state, &self.cfg);
        epoch_order(
            &self.train_idx,
            self.store.labels(),
            self.k,
            &self.shuffle_base,
            st.epochs_done as u64,
            cfg.balanced,
        )
    }

    /// Says where the session starts.
    fn announce(&self, progress: &mut dyn FnMut(&Progress)) {
        let n_epoch = self.order().len();
        let st = &self.setup.state;
        progress(&Progress::Start {
            epochs: self.cfg.epochs,
            epochs_done: st.epochs_done,
            batches_done: st.batches_done,
            batches: batches(n_epoch, self.cfg.batch).len(),
            n_train: n_epoch,
            n_val: self.val_idx.len(),
            threads: self.pool.current_num_threads(),
        });
    }

    /// Writes `checkpoint-last` with the optimiser and the loop's position.
    fn write_last(&self) -> Result<(), TrainError> {
        let s = &self.setup;
        write_checkpoint(&self.last_path, &s.model, &self.ckpt_meta, Some(&s.opt), Some(&s.state))
    }

    /// Runs epochs until the last, early stopping or an interruption.
    fn run_epochs(&mut self, progress: &mut dyn FnMut(&Progress)) -> Result<StopReason, TrainError> {
        let patience_spent = |s: &Self| s.cfg.patience.is_some_and(|p| s.setup.state.bad_epochs >= p);
        while self.setup.state.epochs_done < self.cfg.epochs {
            if patience_spent(self) {
                return Ok(StopReason::EarlyStopped);
            }
            let epoch = self.setup.state.epochs_done + 1;
            if let Some(stop) = self.train_epoch(epoch, progress)? {
                return Ok(stop);
            }
            let record = self.end_epoch(epoch, progress)?;
            self.restart_if_stuck(&record, progress)?;
        }
        Ok(if patience_spent(self) { StopReason::EarlyStopped } else { StopReason::Completed })
    }

    /// The batches of epoch `epoch` from where the position stands; an interruption writes
    /// `checkpoint-last` and says where it stopped.
    fn train_epoch(
        &mut self,
        epoch: usize,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<Option<StopReason>, TrainError> {
        let order = self.order();
        let batches = batches(order.len(), self.cfg.batch);
        while self.setup.state.batches_done < batches.len() {
            if self.opts.stop.as_ref().is_some_and(|s| s.load(Ordering::SeqCst)) {
                self.write_last()?;
                return Ok(Some(StopReason::Interrupted { epoch, batch: self.setup.state.batches_done }));
            }
            let (s, e) = batches[self.setup.state.batches_done];
            self.train_batch(epoch, &order[s..e], batches.len(), progress)?;
        }
        Ok(None)
    }

    /// One optimiser step on the windows `idx`, counted into the position and announced;
    /// a non-finite loss or gradient norm stops the run.
    fn train_batch(
        &mut self,
        epoch: usize,
        idx: &[usize],
        n_batches: usize,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<(), TrainError> {
        let labels = self.store.labels();
        let t0 = Instant::now();
        let mut x = self.store.batch(idx);
        if let Some(m) = &self.mixer {
            m.apply(self.store, idx, x.data_mut(), &mut self.mix_base.fork(self.setup.state.step));
        }
        let y: Vec<usize> = idx.iter().map(|&i| labels[i] as usize).collect();
        let targets: Option<Vec<f32>> = self.scale.as_ref().map(|s| {
            let values = &self.store.target().expect("a regression's store has a target").values;
            idx.iter().map(|&i| s.standardise(values[i] as f64) as f32).collect()
        });
        let load_s = t0.elapsed().as_secs_f64();
        let mut drng = self.dropout_base.fork(self.setup.state.step);
        let k = self.k;
        let setup = &mut self.setup;
        let StepOutcome { loss, correct, grad_norm } = self.pool.install(|| match &targets {
            Some(t) => train_step_regression(&mut setup.model, &mut setup.opt, &x, t, &mut drng),
            None => train_step(&mut setup.model, &mut setup.opt, &x, &y, k, &mut drng),
        })?;
        let batch_s = t0.elapsed().as_secs_f64();
        let st = &mut self.setup.state;
        let bad = if !loss.is_finite() {
            Some(("loss", loss))
        } else if !grad_norm.is_finite() {
            Some(("gradient norm", grad_norm))
        } else {
            None
        };
        if let Some((what, value)) = bad {
            let kept = kept_note(&self.last_path, st.epochs_done);
            return Err(TrainError::Diverged { epoch, batch: st.batches_done + 1, what, value, kept });
        }
        st.step += 1;
        st.batches_done += 1;
        st.loss_sum_bits = (st.loss_sum() + loss * idx.len() as f64).to_bits();
        st.correct += correct;
        st.seen += idx.len() as u64;
        st.load_s += load_s;
        st.train_s += batch_s;
        self.session_batches += 1;
        self.session_samples += idx.len() as u64;
        self.session_train_s += batch_s;
        let per_batch = self.session_train_s / self.session_batches as f64;
        let remaining = (self.cfg.epochs - epoch) * n_batches + (n_batches - st.batches_done);
        progress(&Progress::Batch {
            epoch,
            epochs: self.cfg.epochs,
            batch: st.batches_done,
            batches: n_batches,
            loss: st.loss_sum() / st.seen as f64,
            accuracy: st.correct as f64 / st.seen as f64,
            samples_per_s: self.session_samples as f64 / self.session_train_s.max(1e-9),
            eta_s: per_batch * remaining as f64,
        });
        Ok(())
    }

    /// The validation metrics and subject-level accuracy; `None` without validation windows.
    fn validate(&self) -> Result<Option<(ClassMetrics, f64)>, TrainError> {
        if self.val_idx.is_empty() {
            return Ok(None);
        }
        let (store, val_idx, k) = (self.store, &self.val_idx, self.k);
        let labels = store.labels();
        let logits =
            self.pool.install(|| predict_windows(&self.setup.model, store, val_idx, self.cfg.eval_batch))?;
        let y: Vec<usize> = val_idx.iter().map(|&i| labels[i] as usize).collect();
        let subj: Vec<usize> = val_idx.iter().map(|&i| store.subjects()[i] as usize).collect();
        let m = ClassMetrics::from_logits(&logits, &y, k);
        let per = per_subject(&probabilities(&logits, k), &y, &subj, k, &store.meta().subjects);
        let s_acc = per.iter().filter(|s| s.predicted == s.label).count() as f64 / per.len() as f64;
        Ok(Some((m, s_acc)))
    }

    /// Validates epoch `epoch`, keeps the best model, records the epoch in `metrics.jsonl` and
    /// writes `checkpoint-last`.
    fn end_epoch(
        &mut self,
        epoch: usize,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<EpochRecord, TrainError> {
        progress(&Progress::Validating { epoch });
        let val_start = Instant::now();
        if self.scale.is_some() {
            return self.end_regression_epoch(epoch, val_start, progress);
        }
        let val = self.validate()?;
        let st = &self.setup.state;
        // The store holds finite windows only, so a validation loss that is not finite means
        // the network's outputs are not: stop as for a training loss, never record `null`.
        if let Some((m, _)) = val.as_ref().filter(|(m, _)| !m.loss.is_finite()) {
            let kept = kept_note(&self.last_path, st.epochs_done);
            return Err(TrainError::Diverged {
                epoch,
                batch: st.batches_done,
                what: "validation loss",
                value: m.loss,
                kept,
            });
        }
        let train_loss = st.loss_sum() / st.seen.max(1) as f64;
        let improved = self.judge(epoch, train_loss, val.as_ref().map(|v| &v.0))?;
        let st = &self.setup.state;
        let opt = self.setup.opt.config();
        let record = EpochRecord {
            epoch,
            step: st.step,
            lr: opt.schedule.lr(opt.lr, st.step.saturating_sub(1)),
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
            attempt: self.setup.config.attempts.len(),
            train_regression: None,
            val_regression: None,
            val_subject_regression: None,
        };
        self.record_epoch(record, progress)
    }

    /// Appends `record` to `metrics.jsonl`, ends the epoch and writes `checkpoint-last`.
    fn record_epoch(
        &mut self,
        record: EpochRecord,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<EpochRecord, TrainError> {
        self.setup.records.push(record.clone());
        // metrics.jsonl first, then checkpoint-last: a crash in between leaves
        // an extra line that resuming drops, never a missing one.
        write_metrics(&self.run_dir.join(METRICS_FILE), &self.setup.records)?;
        self.setup.state.epochs_done += 1;
        self.setup.state.reset_epoch();
        self.write_last()?;
        progress(&Progress::Epoch(record.clone()));
        Ok(record)
    }

    /// A regression's epoch: the training windows' and validation windows' figures (eval
    /// mode) in the target's unit; the best epoch is the one with the lowest validation loss
    /// (the MSE of the standardised target, which orders epochs as the validation R² does),
    /// or the lowest training loss without validation windows.
    fn end_regression_epoch(
        &mut self,
        epoch: usize,
        val_start: Instant,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<EpochRecord, TrainError> {
        let scale = self.scale.clone().expect("a regression");
        let (store, batch) = (self.store, self.cfg.eval_batch);
        let model = &self.setup.model;
        let figures = |idx: &[usize]| -> Result<_, TrainError> {
            let p = self.pool.install(|| predict_values(model, store, idx, batch, &scale))?;
            Ok(figures_of(store, idx, &p, &scale))
        };
        let train = figures(&self.train_idx)?;
        let val = if self.val_idx.is_empty() { None } else { Some(figures(&self.val_idx)?) };
        let st = &self.setup.state;
        if let Some(v) = val.as_ref().filter(|v| !v.0.is_finite()) {
            let kept = kept_note(&self.last_path, st.epochs_done);
            let (batch, value) = (st.batches_done, v.0);
            return Err(TrainError::Diverged { epoch, batch, what: "validation loss", value, kept });
        }
        let train_loss = st.loss_sum() / st.seen.max(1) as f64;
        let monitored = val.as_ref().map_or(train_loss, |v| v.0);
        let improved = self.judge_value(epoch, monitored, false)?;
        let st = &self.setup.state;
        let opt = self.setup.opt.config();
        let record = EpochRecord {
            epoch,
            step: st.step,
            lr: opt.schedule.lr(opt.lr, st.step.saturating_sub(1)),
            train_loss,
            train_accuracy: 0.0,
            val_loss: val.as_ref().map(|v| v.0),
            val_accuracy: None,
            val_balanced_accuracy: None,
            val_auc: None,
            val_subject_accuracy: None,
            best: improved,
            seconds: st.train_s + val_start.elapsed().as_secs_f64(),
            samples_per_s: st.seen as f64 / st.train_s.max(1e-9),
            load_seconds: st.load_s,
            load_fraction: st.load_s / st.train_s.max(1e-9),
            attempt: self.setup.config.attempts.len(),
            train_regression: Some(Box::new(train.1)),
            val_regression: val.as_ref().map(|v| Box::new(v.1)),
            val_subject_regression: val.as_ref().map(|v| Box::new(v.2)),
        };
        self.record_epoch(record, progress)
    }

    /// Whether epoch `epoch` improved the monitored figure; an improvement is remembered and
    /// writes `checkpoint-best`, anything else spends patience.
    fn judge(
        &mut self,
        epoch: usize,
        train_loss: f64,
        val: Option<&ClassMetrics>,
    ) -> Result<bool, TrainError> {
        let monitored = match (val, self.cfg.monitor) {
            (None, _) => train_loss,
            (Some(m), Monitor::ValLoss) => m.loss,
            (Some(m), Monitor::ValAccuracy) => m.accuracy,
            (Some(m), Monitor::ValBalancedAccuracy) => m.balanced_accuracy,
            (Some(m), Monitor::ValAuc) => m.auc.unwrap_or(0.5),
        };
        let maximise = val.is_some() && self.cfg.monitor.maximise();
        self.judge_value(epoch, monitored, maximise)
    }

    /// Whether `monitored` improves on the best so far (higher when `maximise`); see [`Self::judge`].
    fn judge_value(&mut self, epoch: usize, monitored: f64, maximise: bool) -> Result<bool, TrainError> {
        let st = &mut self.setup.state;
        let improved = monitored.is_finite()
            && st.best().is_none_or(|b| if maximise { monitored > b } else { monitored < b });
        if improved {
            st.best_bits = Some(monitored.to_bits());
            st.best_epoch = Some(epoch);
            st.bad_epochs = 0;
            write_checkpoint(&self.best_path, &self.setup.model, &self.ckpt_meta, None, None)?;
        } else {
            st.bad_epochs += 1;
        }
        Ok(improved)
    }

    /// Stuck detection: a network still at chance after `stuck_epochs` epochs starts again
    /// from the next attempt's initialisation.
    fn restart_if_stuck(
        &mut self,
        record: &EpochRecord,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<(), TrainError> {
        let (cfg, chance_loss) = (&self.cfg, self.chance_loss);
        let attempt = self.setup.config.attempts.len();
        let epochs_done = self.setup.state.epochs_done;
        // Chance loss and balanced accuracy are classification figures: a regression is never
        // restarted.
        if self.scale.is_some() {
            return Ok(());
        }
        if !(cfg.stuck_epochs == Some(epochs_done) && attempt < cfg.restarts && is_stuck(record, chance_loss))
        {
            return Ok(());
        }
        let reason = format!(
            "stuck after {} epochs: training loss {:.4} within {STUCK_LOSS_MARGIN} of chance ({chance_loss:.4}), \
             validation balanced accuracy {}",
            epochs_done,
            record.train_loss,
            record.val_balanced_accuracy.map_or("n/a".into(), |v| format!("{v:.3}")),
        );
        let setup = &mut self.setup;
        setup.config.attempts.push(Attempt {
            attempt,
            reason: reason.clone(),
            records: std::mem::take(&mut setup.records),
        });
        let next = attempt + 1;
        setup.model = build_model_attempt(cfg, self.store, next)?;
        setup.opt = Optimizer::new(cfg.optimizer_config());
        setup.state = LoopState { attempt: next, ..LoopState::default() };
        let base = attempt_rng(cfg.seed, next);
        self.shuffle_base = base.fork(SHUFFLE_STREAM);
        self.dropout_base = base.fork(DROPOUT_STREAM);
        self.mix_base = base.fork(MIX_STREAM);
        match std::fs::remove_file(&self.best_path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(TrainError::io(&self.best_path, e))
            }
            _ => {}
        }
        // The new attempt's checkpoint first: an interruption before
        // config.json is written is repaired on resume (see `resume_run`).
        self.write_last()?;
        write_metrics(&self.run_dir.join(METRICS_FILE), &self.setup.records)?;
        write_json(&self.run_dir.join(CONFIG_FILE), crate::run_dir::RUN_FORMAT, &self.setup.config)?;
        progress(&Progress::Restart { attempt: next, reason });
        Ok(())
    }

    /// Evaluates the best model (else the current one) on the test split and writes
    /// `eval-test.json`; nothing after an interruption or without test windows.
    fn test(
        &self,
        stop: &StopReason,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<(Option<EvalReport>, Option<RegressionReport>), TrainError> {
        if matches!(stop, StopReason::Interrupted { .. }) || self.store.indices(Split::Test).is_empty() {
            return Ok((None, None));
        }
        progress(&Progress::Testing);
        let best_path = &self.best_path;
        let model = if best_path.exists() { load_checkpoint(best_path)?.0 } else { self.setup.model.clone() };
        let checkpoint = Some(if best_path.exists() { best_path.clone() } else { self.last_path.clone() });
        if let Some(scale) = &self.scale {
            let mut report = self.pool.install(|| {
                evaluate_regression(&model, self.store, Split::Test, self.cfg.eval_batch, scale)
            })?;
            report.checkpoint = checkpoint;
            write_json(
                &self.run_dir.join("eval-test.json"),
                crate::regression::REGRESSION_EVAL_FORMAT,
                &report,
            )?;
            return Ok((None, Some(report)));
        }
        let mut report =
            self.pool.install(|| evaluate_model(&model, self.store, Split::Test, self.cfg.eval_batch))?;
        report.checkpoint = checkpoint;
        write_json(&self.run_dir.join("eval-test.json"), crate::eval::EVAL_FORMAT, &report)?;
        Ok((Some(report), None))
    }
}

/// Whether an epoch's figures say the network learned nothing: training
/// loss within [`STUCK_LOSS_MARGIN`] of `chance_loss` and validation balanced
/// accuracy below [`STUCK_VAL_BALANCED`] (or no validation windows).
pub fn is_stuck(record: &EpochRecord, chance_loss: f64) -> bool {
    record.train_loss >= chance_loss - STUCK_LOSS_MARGIN
        && record.val_balanced_accuracy.is_none_or(|b| b < STUCK_VAL_BALANCED)
}

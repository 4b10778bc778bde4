//! Running one cell: synth -> prepare -> baseline -> train -> interpret ->
//! score, in the cell's own directory, timed stage by stage, ending with
//! `cell.json` ([`CellFile`]).
//!
//! # Files of a cell (`OUT/cells/<name>/`)
//! - `cell.json`: the grid and its hash, the cell, the training recipe, the
//!   results and the seconds of each stage; written last (atomically), so
//!   its presence means the cell is done;
//! - `epochs.safetensors`: the prepared windows;
//! - `run/`: the training run (`checkpoint-best.safetensors`, metrics,
//!   `eval-test.json`) and `run/interpret/` (the interpretation's outputs), so
//!   `eeglens report --run OUT/cells/<name>/run` works on any cell;
//! - with [`CellOptions::keep_data`] also `bids/` (the synthetic recordings),
//!   `run/checkpoint-last.safetensors` and, with model `auto`,
//!   `run/candidates/` (every candidate's run), which are otherwise deleted
//!   once used (they are large and the data are regenerated from the seed;
//!   the candidates' validation figures stay in `cell.json`).
//!
//! A cell whose `cell.json` is present and matches the grid, the cell and the
//! build of eeglens ([`build_id`]) is skipped; one written by another build is
//! refused (its verdict and readings follow that build's defaults) until it is
//! recomputed with `force`; a directory without `cell.json` (an interrupted
//! cell) is removed and the cell run again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use eeglens_data::prepare::{prepare, PrepareConfig};
use eeglens_data::store::EpochStore;
use eeglens_data::store::Split;
use eeglens_data::synth::{write_bids, Eyes, SynthConfig, SynthFormat};
use eeglens_interpret::{run_folds, write_outputs, DeconvSeed, FoldModel, InterpretConfig, Method, Silent};
use eeglens_train::baseline::baseline;
use eeglens_train::eval::{evaluate_split, report_from_probs, EvalReport};
use eeglens_train::{select, train, train_selected, ChanceReport, Progress, RunDir, RunOptions, TrainConfig};
use serde::{Deserialize, Serialize};

use crate::error::{io, ValidateError};
use crate::grid::{CellSpec, GridSpec};
use crate::score::{score, MethodScore};

/// The format tag of `cell.json`.
pub const CELL_SCHEMA: &str = "eeglens-validate-cell/1";

/// The label column of the synthetic data sets.
const LABEL: &str = "sex";

/// Options of running cells that do not change their results.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CellOptions {
    /// recompute a cell even when its `cell.json` is present
    pub force: bool,
    /// keep the synthetic recordings and the last checkpoint
    pub keep_data: bool,
}

/// What a running cell reports.
#[derive(Clone, Debug, PartialEq)]
pub enum CellEvent {
    /// A stage begins: synth, prepare, baseline, train or interpret.
    Stage(&'static str),
    /// An epoch of training ended.
    Epoch {
        /// the epoch, from 1
        epoch: usize,
        /// epochs asked for
        epochs: usize,
        /// validation accuracy per window
        val_accuracy: Option<f64>,
    },
}

/// The baseline's figures on the test split.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BaselineScore {
    /// accuracy per window
    pub accuracy: f64,
    /// accuracy per subject (mean window probabilities)
    pub subject_accuracy: f64,
    /// test subjects
    pub n_subjects: usize,
    /// the chance tests' verdict
    pub learned: bool,
    /// the band of largest class difference (Cohen's d on the training windows)
    pub top_band: String,
}

/// The trained model's figures on the test split.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelScore {
    /// accuracy per window
    pub accuracy: f64,
    /// balanced accuracy per window
    pub balanced_accuracy: f64,
    /// accuracy per subject (mean window probabilities)
    pub subject_accuracy: f64,
    /// test windows
    pub n_windows: usize,
    /// test subjects
    pub n_subjects: usize,
    /// above chance (`eeglens_train::chance`): window accuracy above the
    /// largest class's share and the subject-level permutation test of the
    /// windows right at p < 0.05
    pub learned: bool,
    /// the per-window binomial p (windows treated as independent; reported only)
    pub window_p: f64,
    /// the subject-level permutation p that decides `learned`
    #[serde(default = "one")]
    pub subject_p: f64,
    /// epochs trained (early stopping may end sooner)
    pub epochs_done: usize,
    /// the epoch of the best checkpoint (the one evaluated and interpreted)
    pub best_epoch: Option<usize>,
    /// with model `auto`: the model chosen on validation, and every
    /// candidate's validation figures (`eeglens_train::select`)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection: Option<eeglens_train::Selection>,
    /// over folds ([`GridSpec::folds`]): each fold's model, by fold (the
    /// figures above are then out of fold over every subject, `epochs_done`
    /// the most any fold trained, and `best_epoch` empty)
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fold_models: Vec<String>,
}

fn one() -> f64 {
    1.0
}

/// One score per method.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Methods<T> {
    /// optimal samples
    pub optimal: T,
    /// activation maximisation
    pub actmax: T,
    /// deconvnet
    pub deconv: T,
}

impl<T> Methods<T> {
    /// The three, with their names, in the order they run.
    pub fn iter(&self) -> [(&'static str, &T); 3] {
        [("optimal", &self.optimal), ("actmax", &self.actmax), ("deconv", &self.deconv)]
    }

    /// The same function of each.
    pub fn map<U>(&self, mut f: impl FnMut(&T) -> U) -> Methods<U> {
        Methods { optimal: f(&self.optimal), actmax: f(&self.actmax), deconv: f(&self.deconv) }
    }
}

/// Seconds spent in each stage of a cell.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StageSeconds {
    /// writing the synthetic BIDS data set
    pub synth: f64,
    /// preparing the epoch store
    pub prepare: f64,
    /// the band-power baseline
    pub baseline: f64,
    /// training and testing the model
    pub train: f64,
    /// the three interpretation methods
    pub interpret: f64,
    /// all of the cell
    pub total: f64,
    /// CPU seconds (user + system, all threads) of the whole cell, where the
    /// platform reports them (Linux): on a shared machine, divided by the
    /// cores, what the cell would take alone
    #[serde(default)]
    pub cpu: Option<f64>,
}

impl StageSeconds {
    /// Adds `other` stage by stage (not `cpu`: see [`sum_seconds`]).
    pub fn add(&mut self, other: &StageSeconds) {
        self.synth += other.synth;
        self.prepare += other.prepare;
        self.baseline += other.baseline;
        self.train += other.train;
        self.interpret += other.interpret;
        self.total += other.total;
    }
}

/// The stages summed over cells; `cpu` only when every cell has it.
pub fn sum_seconds(cells: &[CellResult]) -> StageSeconds {
    let mut s = StageSeconds::default();
    cells.iter().for_each(|c| s.add(&c.seconds));
    s.cpu = cells.iter().map(|c| c.seconds.cpu).sum();
    s
}

/// CPU seconds (user + system) this process has used so far, from
/// `/proc/self/stat` (`None` elsewhere). Clock ticks are taken as 100 per
/// second, the value on every Linux architecture eeglens builds for.
pub fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// One cell's results: an entry of `cells` in `validate.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CellResult {
    /// the cell's index in the grid
    pub index: usize,
    /// the cell's name (its directory)
    pub name: String,
    /// the planted band's name (`null` for a null cell)
    pub band_name: Option<String>,
    /// the planted band `[lo, hi]`, Hz (`null` for a null cell)
    pub band: Option<[f64; 2]>,
    /// the planted place's name (`null` for a null cell)
    pub place: Option<String>,
    /// the planted channels (empty for a null cell)
    pub channels: Vec<String>,
    /// effect size (0: null)
    pub size: f64,
    /// training and interpretation seed
    pub seed: u64,
    /// the generator's seed
    pub data_seed: u64,
    /// the band-power baseline on the test split
    pub baseline: BaselineScore,
    /// the trained model on the test split
    pub model: ModelScore,
    /// each method's reading scored against the truth
    pub methods: Methods<MethodScore>,
    /// other settings of a method read from the same network, by name (the
    /// deconvnet's variants, [`DECONV_VARIANTS`]): what a change of a
    /// method's default is chosen by
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variants: BTreeMap<String, MethodScore>,
    /// seconds per stage
    pub seconds: StageSeconds,
}

impl CellResult {
    /// True for a cell without a planted effect.
    pub fn is_null(&self) -> bool {
        self.band.is_none() || self.size == 0.0
    }
}

/// The contents of `cell.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CellFile {
    /// [`CELL_SCHEMA`]
    pub schema: String,
    /// [`GridSpec::hash`] of `grid`
    pub grid_hash: String,
    /// the grid the cell belongs to
    pub grid: GridSpec,
    /// the cell
    pub cell: CellSpec,
    /// the training recipe used (the training defaults with the grid's
    /// model, epochs and the cell's seed)
    pub train: TrainConfig,
    /// worker threads of training
    pub threads: usize,
    /// version of eeglens-validate that ran the cell
    pub version: String,
    /// the build that ran the cell ([`build_id`]); absent in cells written
    /// before builds were recorded
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build: Option<String>,
    /// the results
    pub result: CellResult,
}

/// How [`run_cell`] ended.
#[derive(Clone, Debug, PartialEq)]
pub enum CellRun {
    /// the cell was computed now
    Ran(Box<CellFile>),
    /// `cell.json` was already there and matches: nothing was done
    Skipped(Box<CellFile>),
}

impl CellRun {
    /// The cell's file, however it was obtained.
    pub fn file(&self) -> &CellFile {
        match self {
            CellRun::Ran(f) | CellRun::Skipped(f) => f,
        }
    }
}

/// The directory of `cell` under the output directory `out`.
pub fn cell_dir(out: &Path, cell: &CellSpec) -> PathBuf {
    out.join("cells").join(&cell.name)
}

/// The training recipe of a cell: the training defaults with the grid's
/// model, epochs and threads and the cell's seed.
pub fn train_config(grid: &GridSpec, cell: &CellSpec) -> TrainConfig {
    TrainConfig {
        model: grid.model.clone(),
        epochs: grid.epochs,
        seed: cell.seed,
        threads: grid.threads,
        lr_by_model: true,
        ..TrainConfig::default()
    }
}

/// The variant reading optimal samples with their band test over subjects
/// (`InterpretConfig::optimal_by_subject`, `interpret --optimal-permute subjects`),
/// which every cell whose optimal samples were read also records.
pub const OPTIMAL_BY_SUBJECT: &str = "optimal-by-subject";

/// The deconvnet's readings (name, seed, times input). Every cell reads the
/// trained model's default ([`eeglens_interpret::DeconvConfig::for_model`]) as
/// its `deconv` method and the other three as `variants`: the grid is what a
/// change of the default is chosen by. `deconv-class` is the paper's reading.
pub const DECONV_VARIANTS: [(&str, DeconvSeed, bool); 4] = [
    ("deconv-class", DeconvSeed::Class, false),
    ("deconv-shared", DeconvSeed::Shared, false),
    ("deconv-class-x-input", DeconvSeed::Class, true),
    ("deconv-shared-x-input", DeconvSeed::Shared, true),
];

/// The interpretation settings of a cell. Everything else is
/// `InterpretConfig::default()`: in particular a network whose test
/// accuracy is not above chance is not read (no method claims anything),
/// as `eeglens interpret` does.
pub fn interpret_config(grid: &GridSpec, cell: &CellSpec) -> InterpretConfig {
    let s = &grid.interpret;
    let mut cfg = InterpretConfig {
        methods: Method::ALL.to_vec(),
        k: s.k,
        alpha: s.alpha,
        permutations: s.permutations,
        seed: cell.seed,
        ..InterpretConfig::default()
    };
    cfg.actmax.restarts = s.restarts;
    cfg.actmax.steps = s.steps;
    cfg.actmax.windows_per_restart = s.windows_per_restart;
    cfg
}

/// The generator's configuration of a cell, and the format its files are written in
/// (the grid's [`crate::grid::Recording`]).
///
/// # Errors
/// [`ValidateError::Grid`] for a recording the generator does not know.
pub fn synth_config(grid: &GridSpec, cell: &CellSpec) -> Result<(SynthConfig, SynthFormat), ValidateError> {
    let (mut c, format) = grid.recording.synth()?;
    c.n_subjects = grid.subjects;
    c.seed = cell.data_seed;
    if let (Some(b), Some(p)) = (&cell.band, &cell.place) {
        c.effect.band = (b.lo, b.hi);
        c.effect.channels = p.channels.clone();
    }
    c.effect.size = cell.size;
    // As `eeglens synth --minutes`: two cycles of eyes open 1/3, closed 2/3.
    let cycle = grid.minutes * 60.0 / 2.0;
    c.blocks = vec![
        (Eyes::Open, cycle / 3.0),
        (Eyes::Closed, 2.0 * cycle / 3.0),
        (Eyes::Open, cycle / 3.0),
        (Eyes::Closed, 2.0 * cycle / 3.0),
    ];
    Ok((c, format))
}

/// Reads a `cell.json`.
///
/// # Errors
/// [`ValidateError::Io`] or [`ValidateError::Json`] naming the file.
pub fn read_cell_file(path: &Path) -> Result<CellFile, ValidateError> {
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    let file: CellFile = serde_json::from_str(&text).map_err(|e| ValidateError::Json {
        path: path.to_path_buf(),
        msg: format!("not a cell.json: {e}"),
    })?;
    if file.schema != CELL_SCHEMA {
        return Err(ValidateError::Json {
            path: path.to_path_buf(),
            msg: format!("schema `{}`, expected `{CELL_SCHEMA}`", file.schema),
        });
    }
    Ok(file)
}

/// Writes `bytes` to `path` with [`eeglens_io::atomic::write_file`]
/// (temporary, fsync, rename, fsync of the directory), so a reader never
/// sees half a file and a crash leaves the old one.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ValidateError> {
    eeglens_io::atomic::write_file(path, bytes).map_err(io(path))
}

/// The build of eeglens running now ([`eeglens_io::build::build_id`]). Two
/// cells of one grid are comparable only when one build computed both: a new
/// build may change the training defaults, the chance verdict or the readings
/// while the grid, and so its hash, stays the same.
pub use eeglens_io::build::build_id;

/// Runs one cell of `grid` under the output directory `out` (or skips it
/// when its `cell.json` is already there and matches).
///
/// # Errors
/// [`ValidateError::Out`] when the cell's `cell.json` belongs to another
/// grid or cell (and `force` is off); [`ValidateError::Stage`] naming the
/// stage that failed; [`ValidateError::Io`] for the cell's files.
pub fn run_cell(
    grid: &GridSpec,
    cell: &CellSpec,
    out: &Path,
    opts: &CellOptions,
    progress: &mut dyn FnMut(&CellEvent),
) -> Result<CellRun, ValidateError> {
    let dir = cell_dir(out, cell);
    let json = dir.join("cell.json");
    let hash = grid.hash();
    if let Some(done) = done_or_fresh(cell, &dir, &json, &hash, opts)? {
        return Ok(done);
    }
    let t_cell = Instant::now();
    let cpu0 = process_cpu_seconds();
    let mut seconds = StageSeconds::default();

    progress(&CellEvent::Stage("synth"));
    let t = Instant::now();
    let bids = dir.join("bids");
    let (synth, format) = synth_config(grid, cell)?;
    write_bids(&synth, &bids, format, &|| {}).map_err(|e| stage_err(cell, "synth", e))?;
    seconds.synth = t.elapsed().as_secs_f64();

    progress(&CellEvent::Stage("prepare"));
    let t = Instant::now();
    let store = prepare_stage(grid, cell, &dir, &bids, opts)?;
    seconds.prepare = t.elapsed().as_secs_f64();

    progress(&CellEvent::Stage("baseline"));
    let t = Instant::now();
    let baseline_score = baseline_stage(cell, &store)?;
    seconds.baseline = t.elapsed().as_secs_f64();

    progress(&CellEvent::Stage("train"));
    let t = Instant::now();
    let tcfg = train_config(grid, cell);
    let run_dir = dir.join("run");
    let (model_score, threads) = match grid.folds {
        None => train_stage(cell, &tcfg, &store, &run_dir, progress)?,
        Some(k) => train_folds_stage(cell, &tcfg, k, &store, &run_dir, progress)?,
    };
    seconds.train = t.elapsed().as_secs_f64();

    progress(&CellEvent::Stage("interpret"));
    let t = Instant::now();
    let runs: Vec<RunDir> = match grid.folds {
        None => vec![RunDir::open(&run_dir).map_err(|e| stage_err(cell, "interpret", e))?],
        Some(_) => eeglens_train::folds::open_folds(&run_dir)
            .map_err(|e| stage_err(cell, "interpret", e))?
            .into_iter()
            .map(|(_, r)| r)
            .collect(),
    };
    let (methods, variants) = match grid.folds {
        None => interpret_stage(grid, cell, &store, &runs[0])?,
        Some(_) => interpret_folds_stage(grid, cell, &store, &runs)?,
    };
    seconds.interpret = t.elapsed().as_secs_f64();
    if !opts.keep_data {
        runs.iter().try_for_each(remove_used)?;
    }
    seconds.total = t_cell.elapsed().as_secs_f64();
    seconds.cpu = process_cpu_seconds().zip(cpu0).map(|(b, a)| b - a);

    let result = cell_result(cell, baseline_score, model_score, methods, variants, seconds);
    let file = CellFile {
        schema: CELL_SCHEMA.into(),
        grid_hash: hash,
        grid: grid.clone(),
        cell: cell.clone(),
        train: tcfg,
        threads,
        version: env!("CARGO_PKG_VERSION").into(),
        build: Some(build_id().to_string()),
        result,
    };
    let text = serde_json::to_string_pretty(&file).expect("a cell file always serialises");
    write_atomic(&json, text.as_bytes())?;
    Ok(CellRun::Ran(Box::new(file)))
}

/// The cell's results, with what was planted.
fn cell_result(
    cell: &CellSpec,
    baseline: BaselineScore,
    model: ModelScore,
    methods: Methods<MethodScore>,
    variants: BTreeMap<String, MethodScore>,
    seconds: StageSeconds,
) -> CellResult {
    CellResult {
        index: cell.index,
        name: cell.name.clone(),
        band_name: cell.band.as_ref().map(|b| b.name.clone()),
        band: cell.band.as_ref().map(|b| [b.lo, b.hi]),
        place: cell.place.as_ref().map(|p| p.name.clone()),
        channels: cell.channels().to_vec(),
        size: cell.size,
        seed: cell.seed,
        data_seed: cell.data_seed,
        baseline,
        model,
        methods,
        variants,
        seconds,
    }
}

/// A failure of stage `stage` of `cell`.
fn stage_err(cell: &CellSpec, stage: &'static str, e: impl std::fmt::Display) -> ValidateError {
    ValidateError::Stage { cell: cell.name.clone(), stage, msg: e.to_string() }
}

/// The cell as already done (its matching `cell.json`), or `None` once its directory is made
/// afresh for running it.
fn done_or_fresh(
    cell: &CellSpec,
    dir: &Path,
    json: &Path,
    hash: &str,
    opts: &CellOptions,
) -> Result<Option<CellRun>, ValidateError> {
    if json.is_file() && !opts.force {
        let file = read_cell_file(json)?;
        if file.grid_hash == hash && file.cell == *cell {
            let this = build_id();
            if file.build.as_deref() == Some(this) {
                return Ok(Some(CellRun::Skipped(Box::new(file))));
            }
            return Err(ValidateError::Out {
                path: dir.to_path_buf(),
                msg: format!(
                    "cell.json was computed by another build of eeglens ({}; this one is {this}), whose defaults and verdict may differ; pass --force to recompute it",
                    file.build.as_deref().unwrap_or("a build that did not record itself")
                ),
            });
        }
        return Err(ValidateError::Out {
            path: dir.to_path_buf(),
            msg: format!(
                "cell.json is of another grid or cell (grid {}, cell {}); pass --force to recompute it",
                file.grid_hash, file.cell.name
            ),
        });
    }
    if dir.exists() {
        // Only ever this cell's own directory: an interrupted or forced cell starts afresh.
        std::fs::remove_dir_all(dir).map_err(io(dir))?;
    }
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    Ok(None)
}

/// Prepares the synthetic recordings at `bids` into the cell's epoch store and opens it; the
/// recordings are removed unless kept.
fn prepare_stage(
    grid: &GridSpec,
    cell: &CellSpec,
    dir: &Path,
    bids: &Path,
    opts: &CellOptions,
) -> Result<EpochStore, ValidateError> {
    let epochs = dir.join("epochs.safetensors");
    let mut prep = PrepareConfig::new(LABEL);
    prep.split.seed = cell.data_seed;
    prep.split.test = grid.test;
    prep.split.val = grid.val;
    prepare(bids, &prep, &epochs, &|_| {}).map_err(|e| stage_err(cell, "prepare", e))?;
    if !opts.keep_data {
        std::fs::remove_dir_all(bids).map_err(io(bids))?;
    }
    EpochStore::open(&epochs).map_err(|e| stage_err(cell, "prepare", e))
}

/// The band-power baseline's figures on the test split.
fn baseline_stage(cell: &CellSpec, store: &EpochStore) -> Result<BaselineScore, ValidateError> {
    let b = baseline(store).map_err(|e| stage_err(cell, "baseline", e))?;
    Ok(BaselineScore {
        accuracy: b.test.accuracy,
        subject_accuracy: b.test.subject_accuracy,
        n_subjects: b.test.n_subjects,
        learned: b.chance.learned,
        top_band: b.top_band.clone(),
    })
}

/// Trains the cell's model (choosing it on validation with model `auto`) into `run_dir`: the
/// training's summary and, with `auto`, the selection.
fn train_one(
    cell: &CellSpec,
    tcfg: &TrainConfig,
    store: &EpochStore,
    run_dir: &Path,
    progress: &mut dyn FnMut(&CellEvent),
) -> Result<(eeglens_train::TrainSummary, Option<eeglens_train::Selection>), ValidateError> {
    let mut on_train = |p: &Progress| {
        if let Progress::Epoch(r) = p {
            progress(&CellEvent::Epoch { epoch: r.epoch, epochs: tcfg.epochs, val_accuracy: r.val_accuracy });
        }
    };
    if tcfg.model == select::AUTO {
        let s = train_selected(
            tcfg,
            &select::AUTO_CANDIDATES,
            store,
            run_dir,
            &RunOptions::default(),
            &mut on_train,
        )
        .map_err(|e| stage_err(cell, "train", e))?;
        Ok((s.summary, s.selection))
    } else {
        Ok((train(tcfg, store, run_dir, &mut on_train).map_err(|e| stage_err(cell, "train", e))?, None))
    }
}

/// The figures of a test evaluation, with its chance verdict.
fn model_score(test: &EvalReport, epochs_done: usize, best_epoch: Option<usize>) -> ModelScore {
    let chance = ChanceReport::of(test);
    ModelScore {
        accuracy: test.accuracy,
        balanced_accuracy: test.balanced_accuracy,
        subject_accuracy: test.subject_accuracy,
        n_windows: test.n_windows,
        n_subjects: test.n_subjects,
        learned: chance.learned,
        window_p: chance.window.p,
        subject_p: chance.subject_p(),
        epochs_done,
        best_epoch,
        selection: None,
        fold_models: Vec::new(),
    }
}

/// Trains the cell's model (choosing it on validation with model `auto`) into `run_dir`:
/// its figures on the test split and the training's worker threads.
fn train_stage(
    cell: &CellSpec,
    tcfg: &TrainConfig,
    store: &EpochStore,
    run_dir: &Path,
    progress: &mut dyn FnMut(&CellEvent),
) -> Result<(ModelScore, usize), ValidateError> {
    let (summary, selection) = train_one(cell, tcfg, store, run_dir, progress)?;
    let test = summary.test.as_ref().ok_or_else(|| ValidateError::Stage {
        cell: cell.name.clone(),
        stage: "train",
        msg: "the data set has no test subjects to evaluate the model on".into(),
    })?;
    let score = ModelScore { selection, ..model_score(test, summary.epochs_done, summary.best_epoch) };
    Ok((score, summary.threads))
}

/// Trains a `k`-fold cross-validation of the cell's store into `run_dir/fold-<i>/`
/// (`eeglens train --folds k`, partition seeded with the cell's seed): the out-of-fold figures
/// over every subject (each tested by the fold that never saw it, the folds' test windows pooled)
/// and the training's worker threads.
fn train_folds_stage(
    cell: &CellSpec,
    tcfg: &TrainConfig,
    k: usize,
    store: &EpochStore,
    run_dir: &Path,
    progress: &mut dyn FnMut(&CellEvent),
) -> Result<(ModelScore, usize), ValidateError> {
    use eeglens_train::folds;
    let err = |e: &dyn std::fmt::Display| stage_err(cell, "train", e);
    let plan = folds::plan(store, k, cell.seed, None).map_err(|e| err(&e))?;
    let (mut windows, mut probs, mut loss) = (Vec::new(), Vec::new(), 0.0);
    let (mut epochs_done, mut threads, mut names) = (0, 1, Vec::new());
    for fold in &plan {
        let mut fold_store = EpochStore::open(store.path()).map_err(|e| err(&e))?;
        fold.apply(&mut fold_store);
        let fcfg = TrainConfig { fold: Some(fold.clone()), ..tcfg.clone() };
        let dir = run_dir.join(folds::fold_dir_name(fold.fold));
        let (summary, _) = train_one(cell, &fcfg, &fold_store, &dir, progress)?;
        let run = RunDir::open(&dir).map_err(|e| err(&e))?;
        let test = evaluate_split(&run, &fold_store, Split::Test).map_err(|e| err(&e))?;
        loss += test.loss * test.n_windows as f64;
        windows.extend_from_slice(&test.windows);
        probs.extend(test.probabilities.iter().flatten().copied());
        epochs_done = epochs_done.max(summary.epochs_done);
        threads = summary.threads;
        names.push(test.model.clone());
    }
    let classes = store.meta().classes.len();
    let n = windows.len().max(1) as f64;
    let name = if names.iter().all(|m| *m == names[0]) { names[0].clone() } else { "mixed".into() };
    let pooled = report_from_probs(store, Split::Test, windows, &probs, classes, loss / n, &name);
    let score = ModelScore { fold_models: names, ..model_score(&pooled, epochs_done, None) };
    Ok((score, threads))
}

/// Interprets the trained model, writes the outputs into the run and scores each method's
/// reading, and the deconvnet's other variants, against the planted truth.
fn interpret_stage(
    grid: &GridSpec,
    cell: &CellSpec,
    store: &EpochStore,
    run: &RunDir,
) -> Result<(Methods<MethodScore>, BTreeMap<String, MethodScore>), ValidateError> {
    let err = |e: &dyn std::fmt::Display| stage_err(cell, "interpret", e);
    let run_dir = run.path();
    let (model, _) = run.load_model().map_err(|e| err(&e))?;
    let mut icfg = interpret_config(grid, cell);
    let default = eeglens_interpret::DeconvConfig::for_model(model.name());
    (icfg.deconv.seed, icfg.deconv.times_input) = (default.seed, default.times_input);
    let result = eeglens_interpret::run(&model, store, &icfg, &mut Silent).map_err(|e| err(&e))?;
    write_outputs(&result, &run_dir.join(eeglens_interpret::result::INTERPRET_DIR)).map_err(|e| err(&e))?;
    score_methods(&result.report, cell, &icfg, |vcfg| {
        eeglens_interpret::run(&model, store, vcfg, &mut Silent).map(|r| r.report).map_err(|e| err(&e))
    })
}

/// Each method's reading in `report` scored against the planted truth, and the deconvnet's other
/// variants ([`DECONV_VARIANTS`]) and optimal samples tested over subjects ([`OPTIMAL_BY_SUBJECT`]),
/// each read by `read` with `icfg` changed to that variant.
fn score_methods(
    report: &eeglens_interpret::Report,
    cell: &CellSpec,
    icfg: &InterpretConfig,
    read: impl Fn(&InterpretConfig) -> Result<eeglens_interpret::Report, ValidateError>,
) -> Result<(Methods<MethodScore>, BTreeMap<String, MethodScore>), ValidateError> {
    let planted = cell.band.as_ref().filter(|_| !cell.is_null()).map(|b| (b, cell.channels()));
    // A method is absent when interpretation declined to read a network at chance: no claim.
    let m = &report.methods;
    let methods = Methods {
        optimal: m.optimal.as_ref().map_or_else(MethodScore::unread, |x| score(&x.reading, planted)),
        actmax: m.actmax.as_ref().map_or_else(MethodScore::unread, |x| score(&x.reading, planted)),
        deconv: m.deconv.as_ref().map_or_else(MethodScore::unread, |x| score(&x.reading, planted)),
    };
    let mut variants = BTreeMap::new();
    if m.deconv.is_some() {
        let default = (icfg.deconv.seed, icfg.deconv.times_input);
        for (name, seed, times_input) in DECONV_VARIANTS.into_iter().filter(|v| (v.1, v.2) != default) {
            let mut vcfg = icfg.clone();
            vcfg.methods = vec![Method::Deconv];
            vcfg.deconv.seed = seed;
            vcfg.deconv.times_input = times_input;
            let r = read(&vcfg)?;
            let s =
                r.methods.deconv.as_ref().map_or_else(MethodScore::unread, |x| score(&x.reading, planted));
            variants.insert(name.to_string(), s);
        }
    }
    if m.optimal.is_some() && !icfg.optimal_by_subject {
        let vcfg =
            InterpretConfig { methods: vec![Method::Optimal], optimal_by_subject: true, ..icfg.clone() };
        let r = read(&vcfg)?;
        let s = r.methods.optimal.as_ref().map_or_else(MethodScore::unread, |x| score(&x.reading, planted));
        variants.insert(OPTIMAL_BY_SUBJECT.to_string(), s);
    }
    Ok((methods, variants))
}

/// Reads the folds of a cross-validation (`eeglens interpret --run PARENT`: each fold's model
/// reads its own test subjects, the items pooled and read once) and scores each method's reading,
/// and the deconvnet's other variants, against the planted truth. The outputs go to
/// `run_dir/interpret/`.
fn interpret_folds_stage(
    grid: &GridSpec,
    cell: &CellSpec,
    store: &EpochStore,
    runs: &[RunDir],
) -> Result<(Methods<MethodScore>, BTreeMap<String, MethodScore>), ValidateError> {
    let err = |e: &dyn std::fmt::Display| stage_err(cell, "interpret", e);
    let mut models = Vec::with_capacity(runs.len());
    let mut stores = Vec::with_capacity(runs.len());
    for run in runs {
        models.push(run.load_model().map_err(|e| err(&e))?.0);
        stores.push(run.open_store(Some(store.path())).map_err(|e| err(&e))?);
    }
    let folds: Vec<FoldModel<'_>> =
        models.iter().zip(&stores).map(|(model, store)| FoldModel { model, store }).collect();
    let mut icfg = interpret_config(grid, cell);
    // The model's default when every fold chose the same model; the paper's otherwise (as
    // `eeglens interpret` over folds).
    let names: Vec<&str> = models.iter().map(|m| m.name()).collect();
    let default = if names.iter().all(|n| *n == names[0]) {
        eeglens_interpret::DeconvConfig::for_model(names[0])
    } else {
        eeglens_interpret::DeconvConfig::default()
    };
    (icfg.deconv.seed, icfg.deconv.times_input) = (default.seed, default.times_input);
    let read = |cfg: &InterpretConfig| run_folds(&folds, cfg, &mut Silent).map_err(|e| err(&e));
    let result = read(&icfg)?;
    let parent = runs[0].path().parent().unwrap_or(runs[0].path());
    write_outputs(&result, &parent.join(eeglens_interpret::result::INTERPRET_DIR)).map_err(|e| err(&e))?;
    score_methods(&result.report, cell, &icfg, |vcfg| read(vcfg).map(|r| r.report))
}

/// Removes what only training and interpretation needed: the last checkpoint and model
/// selection's candidates (their figures are in the cell's result).
fn remove_used(run: &RunDir) -> Result<(), ValidateError> {
    let last = run.last_checkpoint_path();
    if last.exists() {
        std::fs::remove_file(&last).map_err(io(&last))?;
    }
    let candidates = run.path().join(select::CANDIDATES_DIR);
    if candidates.exists() {
        std::fs::remove_dir_all(&candidates).map_err(io(&candidates))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::tests::cell as result;

    fn file_with(build: Option<&str>) -> (GridSpec, CellSpec, CellFile) {
        let g = GridSpec::quick("shallow");
        let c = g.cells()[0].clone();
        let mut r = result(c.index, c.size, 1.0, 0.9, true, (Some("theta"), true, true));
        r.name = c.name.clone();
        let f = CellFile {
            schema: CELL_SCHEMA.into(),
            grid_hash: g.hash(),
            grid: g.clone(),
            cell: c.clone(),
            train: train_config(&g, &c),
            threads: 2,
            version: env!("CARGO_PKG_VERSION").into(),
            build: build.map(String::from),
            result: r,
        };
        (g, c, f)
    }

    #[test]
    fn a_cell_of_another_build_is_refused_not_reused() {
        let dir = std::env::temp_dir().join(format!("eeglens-validate-build-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let _scratch = crate::scratch::Scratch(dir.clone());
        std::fs::create_dir_all(&dir).unwrap();
        let json = dir.join("cell.json");
        let opts = CellOptions::default();
        for (build, reused) in [(Some(build_id()), true), (Some("0.0.0+0123456789ab"), false), (None, false)]
        {
            let (g, c, f) = file_with(build);
            let text = serde_json::to_string_pretty(&f).unwrap();
            std::fs::write(&json, &text).unwrap();
            let got = done_or_fresh(&c, &dir, &json, &g.hash(), &opts);
            match (reused, got) {
                (true, Ok(Some(CellRun::Skipped(back)))) => assert_eq!(*back, f),
                (false, Err(ValidateError::Out { msg, .. })) => {
                    assert!(msg.contains("another build") && msg.contains("--force"), "{msg}");
                    assert_eq!(std::fs::read_to_string(&json).unwrap(), text, "the cell is left as it was");
                }
                (r, other) => panic!("build {build:?} (reuse {r}): {other:?}"),
            }
        }
        // With force the old cell is discarded and its directory made afresh.
        let (g, c, _) = file_with(Some("0.0.0+0123456789ab"));
        let forced = CellOptions { force: true, ..CellOptions::default() };
        assert!(matches!(done_or_fresh(&c, &dir, &json, &g.hash(), &forced), Ok(None)));
        assert!(!json.exists() && dir.is_dir());
    }
}

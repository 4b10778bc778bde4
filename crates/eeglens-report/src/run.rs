//! Reading a run directory (and its interpretation) into a [`ReportInput`].

use std::path::{Path, PathBuf};

use eeglens_data::store::{EpochStore, Split};
use eeglens_interpret::agreement::AGREEMENT_FORMAT;
use eeglens_interpret::{Agreement, Report};
use eeglens_train::run_dir::{BASELINE_FILE, CONFIG_FILE, METRICS_FILE};
use eeglens_train::{EvalReport, RunDir};

use crate::error::ReportError;
use crate::input::{DatasetSummary, Folds, Interpretation, MissingPart, ModelSummary, ReportInput, Seeds};
use crate::spectra::DataSpectra;
use eeglens_interpret::folds::OUT_OF_FOLD;

// The names of what the report reads are owned by the crates that write them.
pub use eeglens_interpret::agreement::AGREEMENT_FILE;
pub use eeglens_interpret::result::{INTERPRET_DIR, INTERPRET_JSON, INTERPRET_TENSORS};
pub use eeglens_train::run_dir::SEED_PREFIX;
/// The report's default file name, inside the run directory.
pub const REPORT_FILE: &str = "report.html";

/// The places searched for `interpret.json`: `dir` when given, else the run's
/// `interpret/` subdirectory and the run directory itself.
pub fn interpret_candidates(run_dir: &Path, dir: Option<&Path>) -> Vec<PathBuf> {
    match dir {
        Some(d) => vec![d.join(INTERPRET_JSON)],
        None => vec![run_dir.join(INTERPRET_DIR).join(INTERPRET_JSON), run_dir.join(INTERPRET_JSON)],
    }
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, ReportError> {
    let text = std::fs::read_to_string(path).map_err(|cause| ReportError::Io { path: path.into(), cause })?;
    serde_json::from_str(&text).map_err(|e| ReportError::Json { path: path.into(), msg: e.to_string() })
}

/// Reads everything a report of `run_dir` shows.
///
/// `run_dir` is a run (it has a `config.json`), or a parent directory of
/// seed runs (`seed-<n>/config.json`, and `agreement.json` from reading them
/// together): then the report is of the first seed whose network learned
/// (else the first seed), with the agreement across seeds in
/// [`ReportInput::seeds`]; `interpret_dir` then applies to that seed's run.
/// Or the parent of the folds of a cross-validation (`fold-<i>/`, all
/// finished): then the test figures, the baseline, the data's spectra and the
/// interpretation (`PARENT/interpret/`, from `eeglens interpret --run
/// PARENT`) are over every subject, out of fold, with the folds' figures in
/// [`ReportInput::folds`]; the learning curves and layers are fold 0's.
///
/// Required: the run's `config.json` and an `interpret.json` (see
/// [`interpret_candidates`]). Used when present: `metrics.jsonl`,
/// `eval-test.json`, `baseline.json`, the best checkpoint (the layer table),
/// the epoch store (subjects, class balance, settings, the optimal samples'
/// windows) and `interpret.safetensors` (patterns and maps). Each of these
/// that is missing (or, for the checkpoint, unusable) is listed in
/// [`ReportInput::missing`] with its file, what the page lacks and why.
///
/// # Errors
/// [`ReportError::Run`] when `run_dir` is not a run;
/// [`ReportError::NoInterpretation`] naming the command to run first;
/// [`ReportError::Json`] / [`ReportError::Tensor`] for malformed files
/// (`agreement.json` included).
pub fn load_run(run_dir: &Path, interpret_dir: Option<&Path>) -> Result<ReportInput, ReportError> {
    if !run_dir.join(CONFIG_FILE).is_file() {
        let runs = seed_runs(run_dir);
        if !runs.is_empty() {
            return load_parent(run_dir, runs, interpret_dir);
        }
        if !eeglens_train::folds::fold_runs(run_dir).map_err(run_error(run_dir))?.is_empty() {
            return load_folds(run_dir, interpret_dir);
        }
    }
    load_single(run_dir, interpret_dir)
}

/// The seed runs in `parent`: `seed-<n>` directories holding a `config.json`, by seed.
pub fn seed_runs(parent: &Path) -> Vec<(u64, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(parent) else { return Vec::new() };
    let mut runs: Vec<(u64, PathBuf)> = entries
        .filter_map(|e| {
            let path = e.ok()?.path();
            let seed = path.file_name()?.to_str()?.strip_prefix(SEED_PREFIX)?.parse().ok()?;
            path.join(CONFIG_FILE).is_file().then_some((seed, path))
        })
        .collect();
    runs.sort();
    runs
}

/// Reads `parent/agreement.json`, when there is one.
///
/// # Errors
/// [`ReportError::Json`] naming the file when it is malformed or not an agreement.
pub fn read_agreement(parent: &Path) -> Result<Option<Agreement>, ReportError> {
    let path = parent.join(AGREEMENT_FILE);
    if !path.exists() {
        return Ok(None);
    }
    let a: Agreement = read_json(&path)?;
    if a.format != AGREEMENT_FORMAT {
        let msg = format!("format `{}`, expected `{AGREEMENT_FORMAT}`", a.format);
        return Err(ReportError::Json { path, msg });
    }
    if a.learned.len() != a.seeds.len() {
        let msg = format!("{} seeds but {} `learned` flags", a.seeds.len(), a.learned.len());
        return Err(ReportError::Json { path, msg });
    }
    Ok(Some(a))
}

/// The seed the report shows: the first (in the agreement's order) whose
/// network learned and whose run is here, else the first run.
fn shown_seed(runs: &[(u64, PathBuf)], agreement: Option<&Agreement>) -> u64 {
    let learned = agreement.and_then(|a| {
        a.seeds.iter().zip(&a.learned).find(|(s, &l)| l && runs.iter().any(|(r, _)| r == *s)).map(|(s, _)| *s)
    });
    learned.unwrap_or(runs[0].0)
}

fn load_parent(
    parent: &Path,
    runs: Vec<(u64, PathBuf)>,
    interpret_dir: Option<&Path>,
) -> Result<ReportInput, ReportError> {
    let agreement = read_agreement(parent)?;
    let shown = shown_seed(&runs, agreement.as_ref());
    let dir =
        runs.iter().find(|(s, _)| *s == shown).map(|(_, d)| d.clone()).expect("the shown seed is a run");
    let mut input = load_single(&dir, interpret_dir)?;
    // `train --seeds` records its step in the parent.
    if let Ok(steps) = eeglens_train::provenance::read(parent) {
        let at = input.provenance.iter().take_while(|s| s.step == "prepare").count();
        input.provenance.splice(at..at, steps);
    }
    input.title = format!("eeglens report: {}, seed {shown}", dir_name(parent));
    input.seeds = Some(Seeds { parent: parent.to_path_buf(), agreement, runs, shown });
    Ok(input)
}

/// The report of the folds of a cross-validation: fold 0's run for its curves and layers, and
/// everything tested or read over every subject, out of fold.
fn load_folds(parent: &Path, interpret_dir: Option<&Path>) -> Result<ReportInput, ReportError> {
    let runs = eeglens_train::folds::open_folds(parent).map_err(run_error(parent))?;
    let (shown, first) = &runs[0];
    let looked = interpret_candidates(parent, interpret_dir);
    let json = looked
        .iter()
        .find(|p| p.is_file())
        .ok_or_else(|| ReportError::NoInterpretation { run: parent.to_path_buf(), looked: looked.clone() })?;
    let dir = json.parent().unwrap_or(parent).to_path_buf();
    let mut input = load_single(first.path(), Some(&dir))?;
    // The folds' own files: each fold's test evaluation and baseline, pooled over the folds.
    let mut evals = Vec::with_capacity(runs.len());
    let mut baselines = Vec::with_capacity(runs.len());
    for (fold, run) in &runs {
        let path = run.eval_path("test");
        evals.push((*fold, run.path().to_path_buf(), read_json::<EvalReport>(&path)?));
        baselines.extend(run.baseline().map_err(run_error(run.path()))?);
    }
    let seed = first.config().train.fold.as_ref().map_or(0, |f| f.partition_seed);
    let eval = eeglens_train::folds::summarise(&evals, seed);
    // The store as written (not re-split): every window's label and subject, whatever its fold.
    let store = if first.data_path().exists() {
        Some(
            EpochStore::open(first.data_path())
                .map_err(|e| ReportError::Run { run: parent.to_path_buf(), cause: Box::new(e.into()) })?,
        )
    } else {
        None
    };
    input.missing.retain(|m| m.section != "data-spectra");
    input.eval = None;
    input.window_labels.clear();
    input.data_spectra = None;
    let all_read = evals.iter().all(|(_, _, r)| r.probabilities.len() == r.n_windows);
    match &store {
        Some(store) if all_read => {
            let (mut windows, mut probs, mut loss) = (Vec::new(), Vec::new(), 0.0);
            for (_, _, r) in &evals {
                loss += r.loss * r.n_windows as f64;
                windows.extend_from_slice(&r.windows);
                probs.extend(r.probabilities.iter().flatten().copied());
            }
            let k = evals[0].2.classes.len();
            let loss = loss / windows.len().max(1) as f64;
            input.window_labels = windows.iter().map(|&i| (i, store.labels()[i] as usize)).collect();
            match DataSpectra::of_windows(store, &windows) {
                Ok(s) => input.data_spectra = Some(DataSpectra { split: OUT_OF_FOLD.into(), ..s }),
                Err(why) => lack(
                    &mut input.missing,
                    "data-spectra",
                    store.path().to_path_buf(),
                    "the class spectra of the tested windows per channel group",
                    why,
                ),
            }
            let mut pooled = eeglens_train::eval::report_from_probs(
                store,
                Split::Test,
                windows,
                &probs,
                k,
                loss,
                &evals[0].2.model,
            );
            pooled.split = OUT_OF_FOLD.into();
            input.eval = Some(pooled);
            // Pooled only when every fold has its baseline (a fold without one leaves it out).
            input.baseline = None;
            if baselines.len() == runs.len() {
                match eeglens_train::baseline::pool_folds(&baselines, store) {
                    Ok(b) => input.baseline = Some(b),
                    Err(e) => lack(
                        &mut input.missing,
                        "baseline",
                        parent.to_path_buf(),
                        "the band-power baseline pooled over the folds",
                        e.to_string(),
                    ),
                }
            }
        }
        _ => lack(
            &mut input.missing,
            "training",
            first.data_path().to_path_buf(),
            "the out-of-fold test figures pooled over the folds, their ROC, the baseline and the data's class spectra; the folds' own figures are shown",
            "the folds' epoch store is not found, or a fold's eval-test.json keeps no window probabilities".into(),
        ),
    }
    input.title = format!("eeglens report: {}, {} folds (out of fold)", dir_name(parent), runs.len());
    input.run_dir = Some(parent.to_path_buf());
    input.folds = Some(Folds { parent: parent.to_path_buf(), eval, shown: *shown });
    Ok(input)
}

fn dir_name(dir: &Path) -> String {
    let name = |d: &Path| d.file_name().map(|n| n.to_string_lossy().into_owned());
    name(dir).or_else(|| name(&dir.canonicalize().ok()?)).unwrap_or_else(|| dir.display().to_string())
}

fn load_single(run_dir: &Path, interpret_dir: Option<&Path>) -> Result<ReportInput, ReportError> {
    let run_err = run_error(run_dir);
    let run = RunDir::open(run_dir).map_err(run_err)?;
    let epochs = run.metrics().map_err(run_err)?;
    let looked = interpret_candidates(run_dir, interpret_dir);
    let json = looked.iter().find(|p| p.is_file()).cloned().ok_or_else(|| ReportError::NoInterpretation {
        run: run_dir.to_path_buf(),
        looked: looked.clone(),
    })?;
    let report: Report = read_json(&json)?;
    let mut missing = Vec::new();
    let metrics = run_dir.join(METRICS_FILE);
    if !metrics.is_file() {
        lack(
            &mut missing,
            "training",
            metrics,
            "the learning curves (loss and accuracy per epoch)",
            "not found (`eeglens train` writes it)".into(),
        );
    }
    let (store, dataset) = store_and_dataset(&run, &mut missing)?;
    let model = model_summary(&run, &mut missing)?;
    // A regression's test evaluation has its own figures (MAE, R², r), not a classifier's.
    let (eval, regression) = if run.config().data.target.is_some() {
        (
            None,
            test_eval(
                &run,
                &mut missing,
                "the test figures (MAE, RMSE, R² and r per window and per subject) and the predicted-against-true scatter",
            )?,
        )
    } else {
        (
            test_eval(
                &run,
                &mut missing,
                "the test accuracies (per window and per subject), the confusion matrix and the test's chance verdict",
            )?,
            None,
        )
    };
    let baseline = run.baseline().map_err(run_err)?;
    // The band-power baseline classifies: a regression has none.
    if baseline.is_none() && run.config().train.baseline && run.config().data.target.is_none() {
        lack(
            &mut missing,
            "baseline",
            run_dir.join(BASELINE_FILE),
            "the band-power baseline beside the network",
            "not found, though the run was trained with the baseline on (`eeglens train` writes it)".into(),
        );
    }
    let interpretation = interpretation(&run, &json, report, store.as_ref(), &mut missing)?;
    let provenance = provenance(run_dir, &dataset, &mut missing);
    let data_spectra = data_spectra(&run, store.as_ref(), &mut missing);
    let window_labels = store
        .as_ref()
        .map(|s| s.indices(Split::Test).into_iter().map(|i| (i, s.labels()[i] as usize)).collect())
        .unwrap_or_default();
    Ok(ReportInput {
        title: format!("eeglens report: {}", dir_name(run_dir)),
        run_dir: Some(run_dir.to_path_buf()),
        dataset,
        model,
        epochs,
        eval,
        regression,
        interpretation: Some(interpretation),
        baseline,
        seeds: None,
        folds: None,
        missing,
        provenance,
        data_spectra,
        window_labels,
    })
}

/// The test windows' class spectra per channel group, when the store is there and has them.
fn data_spectra(
    run: &RunDir,
    store: Option<&EpochStore>,
    missing: &mut Vec<MissingPart>,
) -> Option<DataSpectra> {
    let lacks = "the class spectra of the test windows per channel group";
    let Some(store) = store else {
        lack(
            missing,
            "data-spectra",
            run.data_path().to_path_buf(),
            lacks,
            "the run's epoch store is not found".into(),
        );
        return None;
    };
    match DataSpectra::of_store(store, Split::Test) {
        Ok(s) => Some(s),
        Err(why) => {
            lack(missing, "data-spectra", store.path().to_path_buf(), lacks, why);
            None
        }
    }
}

/// The store's preparation step (from its settings), then the run's recorded steps.
fn provenance(
    run_dir: &Path,
    dataset: &DatasetSummary,
    missing: &mut Vec<MissingPart>,
) -> Vec<eeglens_train::provenance::Step> {
    let prepared = dataset.settings.as_ref().and_then(|s| s.get("provenance")).cloned();
    let mut steps: Vec<_> = prepared.and_then(|v| serde_json::from_value(v).ok()).into_iter().collect();
    match eeglens_train::provenance::read(run_dir) {
        Ok(s) => steps.extend(s),
        Err(e) => lack(
            missing,
            "provenance",
            run_dir.join(eeglens_train::provenance::PROVENANCE_FILE),
            "the commands that made the run",
            e.to_string(),
        ),
    }
    steps
}

/// The error of a run-directory file of `run_dir`.
fn run_error(run_dir: &Path) -> impl Fn(eeglens_train::TrainError) -> ReportError + Copy + '_ {
    move |e| ReportError::Run { run: run_dir.to_path_buf(), cause: Box::new(e) }
}

/// Notes a part of the page that is not shown: its section, the file that would supply it,
/// what the page lacks and why.
fn lack(missing: &mut Vec<MissingPart>, section: &'static str, file: PathBuf, lacks: &str, why: String) {
    missing.push(MissingPart { section, file, lacks: lacks.into(), why })
}

/// The run's store when it is still there, and only if unchanged since training (a store
/// prepared again over it could put training subjects among the test windows shown); without
/// it the page is drawn from config.json.
fn store_and_dataset(
    run: &RunDir,
    missing: &mut Vec<MissingPart>,
) -> Result<(Option<EpochStore>, DatasetSummary), ReportError> {
    let store = if run.data_path().exists() {
        Some(run.open_store(None).map_err(run_error(run.path()))?)
    } else {
        None
    };
    let dataset = match &store {
        Some(s) => DatasetSummary::from_store(s),
        None => {
            lack(
                missing,
                "data",
                run.data_path().to_path_buf(),
                "the subjects and class balance per split, the preparation settings and the optimal samples' windows",
                "the run's epoch store is not found".into(),
            );
            DatasetSummary::from_config(run.config())
        }
    };
    Ok((store, dataset))
}

/// The model's layers from its checkpoint (else what config.json says), with the model
/// selection when there was one.
fn model_summary(run: &RunDir, missing: &mut Vec<MissingPart>) -> Result<ModelSummary, ReportError> {
    let mut model = match run.load_model() {
        Ok((m, _)) => ModelSummary::from_model(&m),
        Err(e) => {
            lack(
                missing,
                "model",
                run.best_checkpoint_path(),
                "the layer table",
                format!("cannot be used: {e}"),
            );
            ModelSummary::from_config(run.config())
        }
    };
    model.selection = eeglens_train::Selection::read(run.path()).map_err(run_error(run.path()))?;
    Ok(model)
}

/// The run's evaluation on the test split (a classification's `EvalReport` or a
/// regression's `RegressionReport`), when `eval-test.json` is there; else the
/// missing part, naming `what` the page lacks without it.
fn test_eval<T: serde::de::DeserializeOwned>(
    run: &RunDir,
    missing: &mut Vec<MissingPart>,
    what: &str,
) -> Result<Option<T>, ReportError> {
    let eval_path = run.eval_path("test");
    if eval_path.is_file() {
        return Ok(Some(read_json(&eval_path)?));
    }
    lack(
        missing,
        "training",
        eval_path.clone(),
        what,
        "not found (`eeglens eval --run RUN_DIR` writes it)".into(),
    );
    Ok(None)
}

/// The interpretation `report` read from `json`, with its figures from the tensors beside it
/// when they are there (and the optimal samples' windows from `store`).
fn interpretation(
    run: &RunDir,
    json: &Path,
    report: Report,
    store: Option<&EpochStore>,
    missing: &mut Vec<MissingPart>,
) -> Result<Interpretation, ReportError> {
    let tensors = json.with_file_name(INTERPRET_TENSORS);
    if !tensors.is_file() {
        lack(
            missing,
            "interpretation",
            tensors.clone(),
            "every method's figures (patterns, maps, spectra and examples); only the numbers of interpret.json are shown",
            format!("not found beside {} (`eeglens interpret` writes both)", json.display()),
        );
        return Ok(Interpretation::bare(report));
    }
    let file = eeglens_nn::read_tensor_file(&tensors).map_err(|e| ReportError::Tensor {
        path: tensors.clone(),
        name: "*".into(),
        msg: e.to_string(),
    })?;
    if store.is_none() && report.methods.optimal.is_some() {
        lack(
            missing,
            "interpretation",
            run.data_path().to_path_buf(),
            "the optimal samples' EEG traces (their windows are read from the store)",
            "the run's epoch store is not found".into(),
        );
    }
    Interpretation::from_file(report, &file, store)
}

/// Writes the report of `run_dir` to `out` (default: `report.html` in the
/// run directory) and returns its path.
///
/// # Errors
/// As [`load_run`]; [`ReportError::Io`] when the file cannot be written.
pub fn report_for_run(run_dir: &Path, out: Option<&Path>) -> Result<PathBuf, ReportError> {
    report_for_run_with(run_dir, None, out)
}

/// [`report_for_run`] with the interpretation read from `interpret_dir`.
///
/// # Errors
/// As [`report_for_run`].
pub fn report_for_run_with(
    run_dir: &Path,
    interpret_dir: Option<&Path>,
    out: Option<&Path>,
) -> Result<PathBuf, ReportError> {
    let input = load_run(run_dir, interpret_dir)?;
    let out = out.map(Path::to_path_buf).unwrap_or_else(|| run_dir.join(REPORT_FILE));
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|cause| ReportError::Io { path: parent.into(), cause })?;
    }
    eeglens_io::atomic::write_file(&out, crate::render_html(&input).as_bytes())
        .map_err(|cause| ReportError::Io { path: out.clone(), cause })?;
    Ok(out)
}

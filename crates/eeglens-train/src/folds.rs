//! Subject-wise k-fold cross-validation over runs: the folds of a parent
//! directory (`fold-<i>/`, each a complete run), what each fold run records,
//! and the summary over the folds that `eeglens eval` prints.
//!
//! The partition itself is `eeglens_data::split`'s ([`fold_roles`]): every
//! subject of the store is tested in exactly one fold; in each fold, a share
//! of every class's other subjects validates and the rest train. A fold run
//! records its [`Fold`] in `config.json` (`train.fold`), so evaluating,
//! interpreting or resuming it re-splits the store the same way
//! ([`crate::RunDir::open_store`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use eeglens_data::split::{fold_roles, store_subject_classes, FoldConfig};
use eeglens_data::store::{EpochStore, Split};
use serde::{Deserialize, Serialize};

use crate::chance::ChanceReport;
use crate::error::TrainError;
use crate::eval::EvalReport;
use crate::metrics::{accuracy, balanced_accuracy};
use crate::run_dir::RunDir;

/// The prefix of a fold run's folder name inside its parent (`fold-2`).
pub const FOLD_PREFIX: &str = "fold-";

/// The format tag of the summary over folds ([`FoldsEval`]).
pub const FOLDS_EVAL_FORMAT: &str = "eeglens-eval-folds/1";

/// The folder name of fold `fold`'s run inside a parent directory: `fold-<i>`.
pub fn fold_dir_name(fold: usize) -> String {
    format!("{FOLD_PREFIX}{fold}")
}

/// The fold runs of a parent directory: every `fold-<i>/` holding a
/// `config.json`, by fold. Empty when `dir` is a run itself, is not a
/// directory, or holds none.
///
/// # Errors
/// [`TrainError::Io`] when the directory cannot be listed.
pub fn fold_runs(dir: &Path) -> Result<Vec<(usize, PathBuf)>, TrainError> {
    let runs = crate::run_dir::numbered_runs(dir, FOLD_PREFIX)?;
    Ok(runs.into_iter().filter_map(|(n, path)| Some((usize::try_from(n).ok()?, path))).collect())
}

/// One fold of a cross-validation, as its run records it (`config.json`,
/// `train.fold`): which subjects test, validate and train.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fold {
    /// this fold, from 0
    pub fold: usize,
    /// number of folds
    pub folds: usize,
    /// seed of the partition into folds and of the choice of validation subjects
    pub partition_seed: u64,
    /// share of each class's non-test subjects that validate
    pub val_share: f64,
    /// subjects tested in this fold, sorted
    pub test: Vec<String>,
    /// subjects validating (early stopping, model selection), sorted
    pub val: Vec<String>,
    /// subjects training, sorted
    pub train: Vec<String>,
}

impl Fold {
    /// The split of `subject` in this fold (`None` for a subject the fold does not know).
    pub fn role(&self, subject: &str) -> Option<Split> {
        let has = |v: &[String]| v.binary_search_by(|s| s.as_str().cmp(subject)).is_ok();
        if has(&self.test) {
            Some(Split::Test)
        } else if has(&self.val) {
            Some(Split::Val)
        } else if has(&self.train) {
            Some(Split::Train)
        } else {
            None
        }
    }

    /// Re-splits the open `store` as this fold (the file is not touched);
    /// subjects the fold does not know keep their split.
    pub fn apply(&self, store: &mut EpochStore) {
        store.assign_splits(|s| self.role(s));
    }

    /// Checks that every subject of `store` has this fold's split (that the
    /// store was re-split with [`Fold::apply`]).
    ///
    /// # Errors
    /// [`TrainError::StoreMismatch`] naming a subject in another split.
    pub fn check(&self, store: &EpochStore) -> Result<(), TrainError> {
        let names = &store.meta().subjects;
        for (&s, &sp) in store.subjects().iter().zip(store.splits()) {
            let name = &names[s as usize];
            if self.role(name) != Some(sp) {
                return Err(TrainError::StoreMismatch {
                    data: store.path().to_path_buf(),
                    msg: format!(
                        "subject {name} is in the {} split, not in its split of fold {} of {}: re-split the store with Fold::apply",
                        sp.name(),
                        self.fold,
                        self.folds
                    ),
                });
            }
        }
        Ok(())
    }
}

/// The `folds` folds of `store`'s subjects (partition seeded with `seed`);
/// `val_share` of each class's non-test subjects validate in each fold
/// (`None`: the store's own share, [`eeglens_data::split::store_val_share`]).
///
/// # Errors
/// [`TrainError::Data`] for fewer than two folds, more folds than subjects in
/// a class, or a subject with windows of two classes.
pub fn plan(
    store: &EpochStore,
    folds: usize,
    seed: u64,
    val_share: Option<f64>,
) -> Result<Vec<Fold>, TrainError> {
    let subjects = store_subject_classes(store)?;
    let classes: Vec<usize> = subjects.iter().map(|&(_, c)| c).collect();
    let names = &store.meta().subjects;
    // Said here with the class's name; the partition's own check names its index.
    let class_names = &store.meta().classes;
    for (c, name) in class_names.iter().enumerate() {
        let n = classes.iter().filter(|&&x| x == c).count();
        if n > 0 && n < folds {
            return Err(TrainError::Data(eeglens_data::DataError::Config(format!(
                "{}: {folds} folds need at least {folds} subjects of every class, and class `{name}` has {n}",
                store.path().display()
            ))));
        }
    }
    let val = val_share.unwrap_or_else(|| eeglens_data::split::store_val_share(store));
    let cfg = FoldConfig { folds, seed, val };
    (0..folds)
        .map(|fold| {
            let roles = fold_roles(&classes, store.meta().classes.len(), &cfg, fold)?;
            let of = |want: Split| {
                let mut v: Vec<String> = subjects
                    .iter()
                    .zip(&roles)
                    .filter(|(_, &r)| r == want)
                    .map(|(&(s, _), _)| names[s as usize].clone())
                    .collect();
                v.sort();
                v
            };
            Ok(Fold {
                fold,
                folds,
                partition_seed: seed,
                val_share: val,
                test: of(Split::Test),
                val: of(Split::Val),
                train: of(Split::Train),
            })
        })
        .collect()
}

/// The fold runs of `parent`, checked to be one complete cross-validation:
/// folds 0 to K-1 all present, all of the same partition and store, each
/// finished (`eval-test.json` written).
///
/// # Errors
/// [`TrainError::RunFile`] naming the parent or the fold and saying what to do.
pub fn open_folds(parent: &Path) -> Result<Vec<(usize, RunDir)>, TrainError> {
    let bad = |path: &Path, msg: String| TrainError::RunFile { path: path.to_path_buf(), msg };
    let mut runs = Vec::new();
    for (i, dir) in fold_runs(parent)? {
        let run = RunDir::open(&dir)?;
        let Some(f) = run.config().train.fold.clone() else {
            return Err(bad(
                &dir,
                "is a run but not a fold of a cross-validation (no `fold` in config.json)".into(),
            ));
        };
        if f.fold != i {
            return Err(bad(&dir, format!("records fold {}, not fold {i} as its name says", f.fold)));
        }
        runs.push((f, run));
    }
    let Some((first, first_run)) = runs.first() else {
        return Err(bad(parent, "holds no fold run (fold-<i>/config.json)".into()));
    };
    let data = &first_run.config().data;
    for (f, run) in &runs {
        if (f.folds, f.partition_seed) != (first.folds, first.partition_seed)
            || run.config().data.content_sha256 != data.content_sha256
            || run.config().data.sha256 != data.sha256
        {
            return Err(bad(
                run.path(),
                format!(
                    "is fold {} of another cross-validation ({} folds, partition seed {}, store sha256 {}) than {} ({} folds, partition seed {}, store sha256 {})",
                    f.fold,
                    f.folds,
                    f.partition_seed,
                    run.config().data.sha256,
                    first_run.path().display(),
                    first.folds,
                    first.partition_seed,
                    data.sha256
                ),
            ));
        }
    }
    let missing: Vec<String> =
        (0..first.folds).filter(|i| !runs.iter().any(|(f, _)| f.fold == *i)).map(|i| i.to_string()).collect();
    if !missing.is_empty() {
        return Err(bad(
            parent,
            format!(
                "fold(s) {} of {} not trained yet; train them (`eeglens train --folds {} --out {}`, or --fold i for one)",
                missing.join(", "),
                first.folds,
                first.folds,
                parent.display()
            ),
        ));
    }
    for (f, run) in &runs {
        if !run.eval_path(Split::Test.name()).is_file() {
            return Err(bad(
                run.path(),
                format!(
                    "fold {} has not finished training (no eval-test.json); continue it with `eeglens train --fold {} --folds {} --out {} --resume`",
                    f.fold,
                    f.fold,
                    f.folds,
                    parent.display()
                ),
            ));
        }
    }
    Ok(runs.into_iter().map(|(f, r)| (f.fold, r)).collect())
}

/// One fold's figures on its test subjects.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FoldFigures {
    /// the fold, from 0
    pub fold: usize,
    /// its run directory
    pub run: PathBuf,
    /// the subjects it tested (each subject is tested by exactly one fold)
    pub subjects_tested: Vec<String>,
    /// windows evaluated
    pub n_windows: usize,
    /// per-window accuracy
    pub accuracy: f64,
    /// per-window balanced accuracy
    pub balanced_accuracy: f64,
    /// per-window ROC AUC (`null` when a class is absent)
    pub auc: Option<f64>,
    /// per-subject accuracy (mean window probabilities)
    pub subject_accuracy: f64,
    /// per-subject balanced accuracy
    pub subject_balanced_accuracy: f64,
    /// per-subject ROC AUC
    pub subject_auc: Option<f64>,
    /// above chance by the binomial tests ([`crate::chance`])
    pub learned: bool,
}

impl FoldFigures {
    /// The figures by name, in [`FIGURES`] order (`None` for an absent AUC).
    fn values(&self) -> [Option<f64>; 6] {
        [
            Some(self.accuracy),
            Some(self.balanced_accuracy),
            self.auc,
            Some(self.subject_accuracy),
            Some(self.subject_balanced_accuracy),
            self.subject_auc,
        ]
    }
}

/// The names of the figures summarised over folds.
pub const FIGURES: [&str; 6] =
    ["accuracy", "balanced_accuracy", "auc", "subject_accuracy", "subject_balanced_accuracy", "subject_auc"];

/// Out-of-fold figures: every subject's test, pooled over the folds (each
/// subject once), from the summed confusion matrices.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pooled {
    /// subjects tested over all folds
    pub n_subjects: usize,
    /// windows tested over all folds
    pub n_windows: usize,
    /// per-window accuracy
    pub accuracy: f64,
    /// per-window balanced accuracy
    pub balanced_accuracy: f64,
    /// per-subject accuracy
    pub subject_accuracy: f64,
    /// per-subject balanced accuracy
    pub subject_balanced_accuracy: f64,
    /// the chance tests over every subject, each tested once out of fold
    /// (`crate::chance`; absent in evaluations written before it)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chance: Option<ChanceReport>,
}

/// The evaluation of a cross-validation (`eeglens eval --run PARENT --json`).
///
/// `mean`, `sd` (sample SD over folds) and `ci95` (the 95% Student-t interval
/// of the mean over folds) hold each figure of [`FIGURES`]; an AUC that a
/// fold lacks is left out of them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FoldsEval {
    /// [`FOLDS_EVAL_FORMAT`]
    pub schema: String,
    /// the split evaluated (`test`)
    pub split: String,
    /// number of folds
    pub n_folds: usize,
    /// seed of the partition
    pub partition_seed: u64,
    /// each fold's figures, by fold
    pub folds: Vec<FoldFigures>,
    /// mean over folds
    pub mean: BTreeMap<String, f64>,
    /// sample standard deviation over folds
    pub sd: BTreeMap<String, f64>,
    /// 95% t-interval of the mean over folds, `[low, high]`
    pub ci95: BTreeMap<String, [f64; 2]>,
    /// out-of-fold figures over every subject
    pub pooled: Pooled,
    /// folds whose network is above chance
    pub learned: usize,
}

/// Summarises the folds' evaluations (`reports[i]` is `(fold, run dir, its report)`).
///
/// # Panics
/// When `reports` is empty.
pub fn summarise(reports: &[(usize, PathBuf, EvalReport)], partition_seed: u64) -> FoldsEval {
    assert!(!reports.is_empty(), "summarise: no fold");
    let folds: Vec<FoldFigures> = reports
        .iter()
        .map(|(fold, run, r)| {
            let mut subjects_tested: Vec<String> = r.subjects.iter().map(|s| s.subject.clone()).collect();
            subjects_tested.sort();
            FoldFigures {
                fold: *fold,
                run: run.clone(),
                subjects_tested,
                n_windows: r.n_windows,
                accuracy: r.accuracy,
                balanced_accuracy: r.balanced_accuracy,
                auc: r.auc,
                subject_accuracy: r.subject_accuracy,
                subject_balanced_accuracy: r.subject_balanced_accuracy,
                subject_auc: r.subject_auc,
                learned: r.chance.as_ref().is_some_and(|c| c.learned),
            }
        })
        .collect();
    let (mut mean, mut sd, mut ci95) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    for (k, name) in FIGURES.iter().enumerate() {
        let v: Option<Vec<f64>> = folds.iter().map(|f| f.values()[k]).collect();
        let Some(v) = v else { continue };
        let (m, s, half) = mean_sd_half_ci95(&v);
        mean.insert(name.to_string(), m);
        sd.insert(name.to_string(), s);
        ci95.insert(name.to_string(), [m - half, m + half]);
    }
    let sum = |pick: &dyn Fn(&EvalReport) -> &Vec<Vec<u64>>| {
        let k = reports[0].2.classes.len();
        let mut m = vec![vec![0u64; k]; k];
        for (_, _, r) in reports {
            for (row, add) in m.iter_mut().zip(pick(r)) {
                for (c, a) in row.iter_mut().zip(add) {
                    *c += a;
                }
            }
        }
        m
    };
    let (windows, subjects) = (sum(&|r| &r.confusion), sum(&|r| &r.subject_confusion));
    let pooled = Pooled {
        n_subjects: reports.iter().map(|(_, _, r)| r.n_subjects).sum(),
        n_windows: reports.iter().map(|(_, _, r)| r.n_windows).sum(),
        accuracy: accuracy(&windows),
        balanced_accuracy: balanced_accuracy(&windows),
        subject_accuracy: accuracy(&subjects),
        subject_balanced_accuracy: balanced_accuracy(&subjects),
        chance: Some(ChanceReport::pooled(&reports.iter().map(|r| &r.2).collect::<Vec<_>>())),
    };
    FoldsEval {
        schema: FOLDS_EVAL_FORMAT.into(),
        split: reports[0].2.split.clone(),
        n_folds: folds.len(),
        partition_seed,
        learned: folds.iter().filter(|f| f.learned).count(),
        folds,
        mean,
        sd,
        ci95,
        pooled,
    }
}

/// Mean, sample SD (0 for one value) and the half-width of the 95% t-interval
/// of the mean (0 for one value).
fn mean_sd_half_ci95(v: &[f64]) -> (f64, f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    if v.len() < 2 {
        return (mean, 0.0, 0.0);
    }
    let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    (mean, sd, t975(v.len() - 1) * sd / n.sqrt())
}

/// The 0.975 quantile of Student's t with `df` degrees of freedom: a table
/// to 30, then the Cornish-Fisher expansion around the normal quantile
/// (within 1e-4 of the exact value above 30).
fn t975(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281, 2.2010, 2.1788,
        2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860, 2.0796, 2.0739, 2.0687, 2.0639,
        2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423,
    ];
    if (1..=30).contains(&df) {
        return TABLE[df - 1];
    }
    let z: f64 = 1.959_963_984_540_054;
    let d = df.max(1) as f64;
    z + (z.powi(3) + z) / (4.0 * d) + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * d * d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_t_interval_uses_students_quantiles() {
        approx::assert_abs_diff_eq!(t975(2), 4.3027, epsilon = 1e-9);
        // scipy.stats.t.ppf(0.975, 40) = 2.021075; 120: 1.979930.
        approx::assert_abs_diff_eq!(t975(40), 2.021075, epsilon = 2e-4);
        approx::assert_abs_diff_eq!(t975(120), 1.979930, epsilon = 1e-4);
        let (m, s, h) = mean_sd_half_ci95(&[0.6, 0.7, 0.8]);
        approx::assert_abs_diff_eq!(m, 0.7, epsilon = 1e-12);
        approx::assert_abs_diff_eq!(s, 0.1, epsilon = 1e-12);
        approx::assert_abs_diff_eq!(h, 4.3027 * 0.1 / 3f64.sqrt(), epsilon = 1e-12);
        assert_eq!(mean_sd_half_ci95(&[0.5]), (0.5, 0.0, 0.0));
    }

    #[test]
    fn a_fold_names_each_subjects_role() {
        let f = Fold {
            fold: 0,
            folds: 2,
            partition_seed: 0,
            val_share: 0.3,
            test: vec!["a".into(), "d".into()],
            val: vec!["c".into()],
            train: vec!["b".into(), "e".into()],
        };
        assert_eq!(f.role("d"), Some(Split::Test));
        assert_eq!(f.role("c"), Some(Split::Val));
        assert_eq!(f.role("b"), Some(Split::Train));
        assert_eq!(f.role("z"), None);
    }
}

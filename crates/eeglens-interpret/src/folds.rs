//! [`run_folds`]: one reading over the folds of a cross-validation, every
//! subject read once, by the model that never saw it.
//!
//! Read on one run, a method sees only that run's test subjects (8 in a
//! small study), and the network's discrimination p — the floor of every
//! band's p — can be no smaller than what so few subjects allow (1/70 for
//! 4 + 4). Over K folds, each fold's model reads only its own test
//! subjects, which together are every subject of the store, each once:
//!
//! - the verdict (`model.learned`, the floor) is the discrimination test
//!   on the pooled out-of-fold predictions: each subject's mean
//!   probability comes from the one model it was held out from, and the
//!   subjects' labels are permuted over all N subjects;
//! - each method's items are made per fold exactly as [`crate::run`](fn@crate::run)
//!   makes them on that fold alone (the same settings and seed), then
//!   concatenated ([`Items::pool`]) and read once. The permutation unit
//!   stays each method's own, and a permutation never moves an item to
//!   another fold's model: optimal samples' windows and the deconvnet's
//!   maps are shuffled within their fold ([`crate::spectral::read_blocked`]),
//!   so each model keeps its class counts; activation maximisation's
//!   patterns under gains are swapped within their pair (restart `j` of
//!   both classes, one fold's model on the same windows), pairs never
//!   crossing folds. Activation maximisation's patterns are per class and
//!   restart, not per subject: each fold contributes `restarts` patterns
//!   per class, made from its own test subjects' windows.
//!
//! No fold reads its training or validation subjects: each fold's store
//! must be split as that fold (the caller's business, e.g. `RunDir::open_store`
//! of a fold run), only its test split is read, and a subject read by two
//! folds is refused.

use std::collections::BTreeMap;

use eeglens_data::store::{EpochStore, Split};
use eeglens_nn::{Predictor, Sequential};

use crate::config::{InterpretConfig, Method};
use crate::error::InterpretError;
use crate::optimal::score_classes;
use crate::result::{InterpretResult, Methods, ModelSummary, OptimalReport, Report, Saved};
use crate::run::{
    actmax_items, actmax_report, check_shapes, choose_optimal, deconv_items, deconv_report, optimal_items,
    push_arrays, push_indices, push_maps, ActmaxInputs, Ctx, Progress, Windows,
};
use crate::spectral::{discrimination, Items, ReadOpts};

/// The name of the split read over folds (`split` and `model.split` of the report).
pub const OUT_OF_FOLD: &str = "out-of-fold";

/// One fold of a cross-validation: its model and the store split as the fold
/// (its test subjects in [`Split::Test`]).
#[derive(Clone, Copy)]
pub struct FoldModel<'a> {
    /// the fold's trained model
    pub model: &'a Sequential,
    /// the epoch store, split as this fold
    pub store: &'a EpochStore,
}

/// Runs the configured methods over the folds of a cross-validation, each
/// fold's model on its own test subjects, and reads each method's pooled
/// items once (see the module docs).
///
/// The report has [`crate::run`](fn@crate::run)'s shape with `split` and `model.split`
/// [`OUT_OF_FOLD`], `folds`, `subjects_read` and `fold_subjects`. Tensors:
/// each method's `psd` and `band_power` of the pooled reading,
/// `optimal.indices`, `deconv.indices` and `deconv.maps` concatenated over
/// the folds in order, `actmax.patterns` and `actmax.trace` stacked with a
/// leading fold axis, and `folds.subjects` (per subject read, its fold).
///
/// # Errors
/// [`InterpretError::Config`] for no fold, a setting that reads more than
/// the test split (`also`) or one network's unit (`unit`), stores that
/// differ in classes, channels, rate or subjects, or a subject read by two
/// folds; otherwise as [`crate::run`](fn@crate::run) on each fold.
pub fn run_folds(
    folds: &[FoldModel<'_>],
    cfg: &InterpretConfig,
    progress: &mut dyn Progress,
) -> Result<InterpretResult, InterpretError> {
    cfg.validate()?;
    let bad = |field: &'static str, value: String, expected: &str| InterpretError::Config {
        field,
        value,
        expected: expected.into(),
    };
    let Some(first) = folds.first() else {
        return Err(bad("folds", "0".into(), "at least one fold"));
    };
    if cfg.split != Split::Test || cfg.extra().is_some() {
        return Err(bad(
            "split",
            cfg.split_name(),
            "test: over folds each fold's model reads its own test subjects, and no other",
        ));
    }
    if let Some(u) = &cfg.unit {
        return Err(bad(
            "unit",
            format!("{} {}", u.layer, u.unit),
            "none: a unit belongs to one fold's network; read it on that fold's run",
        ));
    }
    let meta = first.store.meta();
    if let Some(t) = folds.iter().find_map(|fm| fm.store.target()) {
        return Err(bad(
            "folds",
            format!("a regression on `{}`", t.column),
            "folds of a classification: a regression is read on one run (a fold's own run)",
        ));
    }
    for (f, fm) in folds.iter().enumerate() {
        check_shapes(fm.model, fm.store)?;
        let m = fm.store.meta();
        if m.classes != meta.classes
            || m.channels != meta.channels
            || m.fs != meta.fs
            || m.subjects != meta.subjects
        {
            return Err(bad(
                "folds",
                format!("fold {f}"),
                "the folds of one store (its classes, channels, rate and subjects)",
            ));
        }
    }

    // Each fold's test windows and the model's scores of them.
    let windows: Vec<Windows> =
        folds.iter().map(|fm| Windows::of(fm.store, cfg)).collect::<Result<_, _>>()?;
    let mut read_by: BTreeMap<u32, usize> = BTreeMap::new();
    for (f, w) in windows.iter().enumerate() {
        for &s in &w.subjects {
            if let Some(&g) = read_by.get(&s).filter(|&&g| g != f) {
                return Err(bad(
                    "folds",
                    format!("subject {} in the test split of folds {g} and {f}", meta.subjects[s as usize]),
                    "folds whose test subjects are disjoint",
                ));
            }
            read_by.insert(s, f);
        }
    }
    let total: usize = windows.iter().map(|w| w.indices.len()).sum();
    progress.stage("scoring windows", total as u64);
    // Each fold's model for the forward passes that need only its outputs, in `cfg.precision`.
    let predictors: Vec<Predictor<'_>> =
        folds.iter().map(|fm| Predictor::new(fm.model, cfg.precision)).collect();
    let mut scores = Vec::with_capacity(folds.len());
    for ((fm, w), predictor) in folds.iter().zip(&windows).zip(&predictors) {
        scores.push(score_classes(predictor, fm.store, &w.indices, cfg.batch)?);
        progress.advance(w.indices.len() as u64);
    }
    // The verdict on the pooled out-of-fold predictions.
    let (mut prob1, mut pred, mut labels, mut subjects) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (w, sc) in windows.iter().zip(&scores) {
        prob1.extend(sc.column(1));
        pred.extend_from_slice(&sc.pred);
        labels.extend_from_slice(&w.labels);
        subjects.extend_from_slice(&w.subjects);
    }
    let disc = discrimination(&prob1, &pred, &labels, &subjects, cfg.permutations, cfg.seed);

    let opts = ReadOpts::for_store(meta, cfg, disc.p);
    let (n_ch, t, n_classes) = (first.store.n_channels(), first.store.n_samples(), meta.classes.len());
    let ctxs: Vec<Ctx<'_>> = folds
        .iter()
        .zip(&predictors)
        .map(|(fm, predictor)| Ctx {
            model: fm.model,
            predictor,
            store: fm.store,
            cfg,
            n_ch,
            t,
            n_classes,
            numeric: false,
        })
        .collect();
    let read_methods = disc.learned || cfg.read_anyway;
    let runs = |m: Method| read_methods && cfg.methods.contains(&m);
    let mut tensors: Vec<(String, Saved)> = Vec::new();
    let mut methods = Methods::default();
    let chosen: Vec<Vec<Vec<usize>>> = if runs(Method::Optimal) || runs(Method::Deconv) {
        ctxs.iter()
            .zip(&windows)
            .zip(&scores)
            .map(|((c, w), sc)| choose_optimal(c, w, sc))
            .collect::<Result<_, _>>()?
    } else {
        Vec::new()
    };

    if runs(Method::Optimal) {
        progress.stage("optimal samples", folds.len() as u64);
        let mut parts = Vec::with_capacity(folds.len());
        for (((fm, w), sc), ch) in folds.iter().zip(&windows).zip(&scores).zip(&chosen) {
            let per_class: Vec<Vec<f64>> = (0..n_classes).map(|c| sc.column(c)).collect();
            parts.push(optimal_items(
                fm.store,
                &w.indices,
                &per_class,
                ch,
                opts.classes,
                cfg.optimal_by_subject,
            )?);
            progress.advance(1);
        }
        let items: Vec<Items> = parts.iter().map(|p| p.items.clone()).collect();
        let (pooled, blocks) = Items::pool(&items);
        let (reading, arrays) = pooled.read_pooled(&blocks, &ReadOpts { rank: cfg.optimal_rank, ..opts })?;
        push_arrays(
            &mut tensors,
            "optimal",
            &arrays,
            n_classes,
            n_ch,
            pooled.spectra.n_freqs(),
            cfg.bands.len(),
        );
        push_indices(&mut tensors, "optimal.indices", &concat(parts.iter().map(|p| &p.indices)));
        // Per class, every fold's samples (each fold's best first), folds in order.
        let samples = crate::ordered::Ordered(
            (0..n_classes)
                .map(|c| {
                    let all = parts.iter().flat_map(|p| p.samples.0[c].1.iter().cloned()).collect();
                    (meta.classes[c].clone(), all)
                })
                .collect(),
        );
        methods.optimal = Some(OptimalReport { reading, samples });
    }
    if runs(Method::Actmax) {
        let mut parts = Vec::with_capacity(folds.len());
        for (c, w) in ctxs.iter().zip(&windows) {
            let inputs = ActmaxInputs::of(c, w);
            parts.push(actmax_items(c, &inputs, progress)?);
        }
        let items: Vec<Items> = parts.iter().map(|p| p.items.clone()).collect();
        let (pooled, blocks) = Items::pool(&items);
        let (reading, arrays) = pooled.read_pooled(&blocks, &opts.with_seed(cfg.seed ^ 0xA))?;
        push_arrays(
            &mut tensors,
            "actmax",
            &arrays,
            n_classes,
            n_ch,
            pooled.spectra.n_freqs(),
            cfg.bands.len(),
        );
        let refs: Vec<_> = parts.iter().collect();
        methods.actmax = Some(actmax_report(&ctxs[0], reading, &refs));
        for name in ["patterns", "trace", "gains"] {
            let per: Vec<&eeglens_autodiff::Tensor> = parts
                .iter()
                .filter_map(|p| match name {
                    "patterns" => Some(&p.pats.patterns),
                    "trace" => Some(&p.pats.trace),
                    _ => p.pats.gains.as_ref(),
                })
                .collect();
            if per.len() == parts.len() {
                tensors.push((format!("actmax.{name}"), Saved::F32(stack(&per))));
            }
        }
    }
    if runs(Method::Deconv) {
        let mut parts = Vec::with_capacity(folds.len());
        for ((c, w), ch) in ctxs.iter().zip(&windows).zip(&chosen) {
            parts.push(deconv_items(c, w, ch, progress)?);
        }
        let items: Vec<Items> = parts.iter().map(|p| p.items.clone()).collect();
        let (pooled, blocks) = Items::pool(&items);
        let (reading, arrays) = pooled
            .read_pooled(&blocks, &ReadOpts { rank: cfg.deconv_rank, ..opts.with_seed(cfg.seed ^ 0xD) })?;
        push_arrays(
            &mut tensors,
            "deconv",
            &arrays,
            n_classes,
            n_ch,
            pooled.spectra.n_freqs(),
            cfg.bands.len(),
        );
        let indices = concat(parts.iter().map(|p| &p.indices));
        let maps: Vec<f32> = parts.iter().flat_map(|p| p.maps.iter().copied()).collect();
        push_maps(&mut tensors, maps, indices.len(), n_ch, t);
        push_indices(&mut tensors, "deconv.indices", &indices);
        methods.deconv = Some(deconv_report(cfg, reading));
    }
    progress.finish();

    let fold_subjects: Vec<Vec<String>> = (0..folds.len())
        .map(|f| {
            let mut v: Vec<String> = read_by
                .iter()
                .filter(|(_, &g)| g == f)
                .map(|(&s, _)| meta.subjects[s as usize].clone())
                .collect();
            v.sort();
            v
        })
        .collect();
    let of_subject: Vec<i64> = read_by.values().map(|&f| f as i64).collect();
    push_indices(&mut tensors, "folds.subjects", &of_subject);
    let names: Vec<&str> = folds.iter().map(|fm| fm.model.name()).collect();
    let name = if names.iter().all(|n| *n == names[0]) { names[0].to_string() } else { names.join(",") };
    let report = Report {
        classes: meta.classes.clone(),
        channels: meta.channels.clone(),
        fs: meta.fs,
        split: OUT_OF_FOLD.into(),
        alpha: cfg.alpha,
        permutations: cfg.permutations,
        // One thread made every predictor: every fold ran in the same precision.
        precision: predictors.first().map_or(cfg.precision, Predictor::precision).name().to_string(),
        build: Some(eeglens_io::build::build_id().to_string()),
        model: ModelSummary { name, split: OUT_OF_FOLD.into(), discrimination: disc, regression: None },
        methods,
        unit: None,
        folds: Some(folds.len()),
        subjects_read: Some(read_by.len()),
        fold_subjects: Some(fold_subjects),
        numeric: None,
    };
    Ok(InterpretResult { report, tensors })
}

fn concat<'a>(parts: impl Iterator<Item = &'a Vec<i64>>) -> Vec<i64> {
    parts.flat_map(|v| v.iter().copied()).collect()
}

/// Tensors of one shape stacked along a new leading axis.
fn stack(parts: &[&eeglens_autodiff::Tensor]) -> eeglens_autodiff::Tensor {
    let mut shape = vec![parts.len()];
    shape.extend_from_slice(parts[0].shape());
    let data: Vec<f32> = parts.iter().flat_map(|t| t.data().iter().copied()).collect();
    eeglens_autodiff::Tensor::from_vec(&shape, data).expect("every fold's tensor has the same shape")
}

//! [`run`]: the three methods and their spectral reading on one split.

use eeglens_autodiff::{Rng, Tensor};
use eeglens_data::store::EpochStore;
use eeglens_nn::{IntTensor, Predictor, Sequential};

use crate::actmax::{maximise, ActmaxProblem, DataStats, Patterns, Target};
use crate::config::{ClassObjective, DeconvSeed, InterpretConfig, Method, Parameterisation};
use crate::deconv::{class_seed, project, record, unit_seed};
use crate::error::InterpretError;
use crate::optimal::{samples, score_classes, score_unit, top_k, top_k_capped, ClassScores};
use crate::ordered::Ordered;
use crate::regression::{
    extremes, regression_discrimination, score_outputs, NumericReport, RegressionDiscrimination, GROUPS,
};
use crate::result::{
    ActmaxReport, BandTable, DeconvReport, InterpretResult, Methods, ModelSummary, OptimalReport, Report,
    Saved, UnitReport,
};
use crate::spectral::{
    band_power, discrimination, read, spectra, Discrimination, Items, ReadOpts, Reading, ReadingArrays,
};
use crate::walk::resolve_unit;

/// Receives progress of long work (the CLI draws a bar; tests ignore it).
pub trait Progress {
    /// A stage of `total` steps begins.
    fn stage(&mut self, _name: &str, _total: u64) {}
    /// `n` more steps of the current stage are done.
    fn advance(&mut self, _n: u64) {}
    /// Everything is done.
    fn finish(&mut self) {}
}

/// Reports nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct Silent;

impl Progress for Silent {}

/// Windows of the split used for the data statistics of activation maximisation.
pub(crate) const MAX_STATS_WINDOWS: usize = 2048;

/// Runs the configured methods on `model` and the windows of `cfg.split`.
///
/// In order: the windows of the split are scored and the network's
/// discrimination tested; each class's optimal samples are chosen; then,
/// when the network separates the classes (or [`InterpretConfig::read_anyway`]),
/// optimal samples, activation maximisation and the deconvnet, each with its
/// spectral reading; then the unit of [`InterpretConfig::unit`], if any.
///
/// A store with a numeric target is read as a regression
/// ([`crate::regression`]): the model has one output, and the two groups
/// are the windows (patterns, maps) of its `low` and `high` predictions.
///
/// # Shapes
/// The model takes `[n, 1, n_channels, n_samples]` windows of the store and
/// returns one logit per class of the store (one output on a store with a
/// numeric target).
///
/// # Errors
/// [`InterpretError::Config`] for bad settings (`correct_only` on a
/// regression) or a model without one output for a numeric target;
/// [`InterpretError::ModelData`] when model and store disagree; [`InterpretError::TooFewWindows`] when a
/// class has fewer than two windows in the split;
/// [`InterpretError::UnknownLayer`] / [`InterpretError::UnknownUnit`] for a
/// unit that does not exist.
pub fn run(
    model: &Sequential,
    store: &EpochStore,
    cfg: &InterpretConfig,
    progress: &mut dyn Progress,
) -> Result<InterpretResult, InterpretError> {
    cfg.validate()?;
    check_shapes(model, store)?;
    let numeric = store.target().is_some();
    if numeric && cfg.correct_only {
        return Err(InterpretError::Config {
            field: "correct_only",
            value: "true".into(),
            expected: "off for a regression on a numeric target (no class to be right about)".into(),
        });
    }
    let unit = cfg.unit.as_ref().map(|u| resolve_unit(model, u)).transpose()?;
    let w = Windows::of(store, cfg)?;
    // The forward passes that need only the outputs, in `cfg.precision` where this CPU runs it.
    let predictor = Predictor::new(model, cfg.precision);
    let ctx = Ctx {
        model,
        predictor: &predictor,
        store,
        cfg,
        n_ch: store.n_channels(),
        t: store.n_samples(),
        n_classes: if numeric { GROUPS.len() } else { store.meta().classes.len() },
        numeric,
    };

    progress.stage("scoring windows", w.indices.len() as u64);
    let sel = if numeric { select_numeric(&ctx, &w)? } else { select_classes(&ctx, &w)? };
    progress.advance(w.indices.len() as u64);
    let (disc, chosen) = (&sel.disc, &sel.chosen);

    let meta = store.meta();
    let opts = ReadOpts { classes: &sel.groups, ..ReadOpts::for_store(meta, cfg, disc.p) };
    let mut tensors: Vec<(String, Saved)> = Vec::new();
    let mut methods = Methods::default();
    // A model that learned nothing on this split has nothing to read: its
    // preferred windows, patterns and maps say nothing about the data.
    let read_methods = disc.learned || cfg.read_anyway;
    let runs = |m: Method| read_methods && cfg.methods.contains(&m);

    if runs(Method::Optimal) {
        progress.stage("optimal samples", 1);
        let m = optimal_items(store, &w.indices, &sel.scores, chosen, opts.classes, cfg.optimal_by_subject)?;
        let (reading, arrays) = m.items.read(&ReadOpts { rank: cfg.optimal_rank, ..opts })?;
        push_arrays(
            &mut tensors,
            "optimal",
            &arrays,
            ctx.n_classes,
            ctx.n_ch,
            m.items.spectra.n_freqs(),
            opts.bands.len(),
        );
        push_indices(&mut tensors, "optimal.indices", &m.indices);
        methods.optimal = Some(OptimalReport { reading, samples: m.samples });
        progress.advance(1);
    }
    let actmax_in =
        (cfg.methods.contains(&Method::Actmax) || unit.is_some()).then(|| ActmaxInputs::of(&ctx, &w));
    if runs(Method::Actmax) {
        let inputs = actmax_in.as_ref().expect("prepared when actmax runs");
        let m = actmax_items(&ctx, inputs, progress)?;
        let (reading, arrays) = m.items.read(&opts.with_seed(cfg.seed ^ 0xA))?;
        push_arrays(
            &mut tensors,
            "actmax",
            &arrays,
            ctx.n_classes,
            ctx.n_ch,
            m.items.spectra.n_freqs(),
            cfg.bands.len(),
        );
        let report = actmax_report(&ctx, reading, &[&m]);
        push_patterns(&mut tensors, m.pats);
        methods.actmax = Some(report);
    }
    if runs(Method::Deconv) {
        let m = deconv_items(&ctx, &w, chosen, progress)?;
        let (reading, arrays) =
            m.items.read(&ReadOpts { rank: cfg.deconv_rank, ..opts.with_seed(cfg.seed ^ 0xD) })?;
        push_arrays(
            &mut tensors,
            "deconv",
            &arrays,
            ctx.n_classes,
            ctx.n_ch,
            m.items.spectra.n_freqs(),
            cfg.bands.len(),
        );
        push_maps(&mut tensors, m.maps, m.indices.len(), ctx.n_ch, ctx.t);
        push_indices(&mut tensors, "deconv.indices", &m.indices);
        methods.deconv = Some(deconv_report(cfg, reading));
    }
    let unit_report = match &unit {
        None => None,
        Some(u) => Some(unit_method(&ctx, &w, u, actmax_in.as_ref(), &opts, &mut tensors, progress)?),
    };
    progress.finish();

    let report = Report {
        classes: sel.groups.clone(),
        channels: meta.channels.clone(),
        fs: meta.fs,
        split: cfg.split_name(),
        alpha: cfg.alpha,
        permutations: cfg.permutations,
        precision: predictor.precision().name().to_string(),
        build: Some(eeglens_io::build::build_id().to_string()),
        model: ModelSummary {
            name: model.name().to_string(),
            split: cfg.split.name().to_string(),
            discrimination: sel.disc,
            regression: sel.regression,
        },
        methods,
        unit: unit_report,
        folds: None,
        subjects_read: None,
        fold_subjects: None,
        numeric: sel.numeric,
    };
    Ok(InterpretResult { report, tensors })
}

/// How the windows were scored, the verdict, and the two (or more) groups
/// the readings contrast: the classes, or a regression's `low` and `high`.
pub(crate) struct Selection {
    /// the verdict the readings are floored by (for a regression, its
    /// [`RegressionDiscrimination::as_discrimination`])
    pub(crate) disc: Discrimination,
    /// a regression's own test
    pub(crate) regression: Option<RegressionDiscrimination>,
    /// per group, its optimal samples (positions into the windows), best first
    pub(crate) chosen: Vec<Vec<usize>>,
    /// per group, every window's score (a class probability, or the prediction)
    pub(crate) scores: Vec<Vec<f64>>,
    /// the groups' names, in contrast order
    pub(crate) groups: Vec<String>,
    /// a regression's target
    pub(crate) numeric: Option<NumericReport>,
}

/// A classifier's windows scored, its verdict and each class's optimal samples.
fn select_classes(ctx: &Ctx<'_>, w: &Windows) -> Result<Selection, InterpretError> {
    let scores = score_classes(ctx.predictor, ctx.store, &w.indices, ctx.cfg.batch)?;
    let disc = verdict(w, ctx.store, ctx.cfg, &scores);
    let chosen = choose_optimal(ctx, w, &scores)?;
    Ok(Selection {
        disc,
        regression: None,
        chosen,
        scores: (0..ctx.n_classes).map(|c| scores.column(c)).collect(),
        groups: ctx.store.meta().classes.clone(),
        numeric: None,
    })
}

/// A regression's windows predicted (in the target's unit), its verdict on
/// `cfg.split` alone (as [`verdict`]) and the windows of the lowest and the
/// highest predictions ([`crate::regression::extremes`], spread over the
/// split's subjects as the classes' optimal samples are).
fn select_numeric(ctx: &Ctx<'_>, w: &Windows) -> Result<Selection, InterpretError> {
    let (store, cfg) = (ctx.store, ctx.cfg);
    let target = store.target().expect("a store with a numeric target");
    let scale = cfg.output_scale.clone().unwrap_or_default();
    let out = score_outputs(ctx.predictor, store, &w.indices, cfg.batch)?;
    let predicted: Vec<f64> = out.iter().map(|&o| scale.value(o)).collect();
    let splits = store.splits();
    let keep: Vec<usize> = (0..w.indices.len()).filter(|&p| splits[w.indices[p]] == cfg.split).collect();
    let pick = |v: &dyn Fn(usize) -> f64| keep.iter().map(|&p| v(p)).collect::<Vec<f64>>();
    let reg = regression_discrimination(
        &pick(&|p| predicted[p]),
        &pick(&|p| f64::from(target.values[w.indices[p]])),
        &keep.iter().map(|&p| w.subjects[p]).collect::<Vec<u32>>(),
        cfg.permutations,
        cfg.seed,
    );
    let cap = cfg.spread_subjects.then(|| {
        let mut s = w.subjects.clone();
        s.sort_unstable();
        s.dedup();
        cfg.k.div_ceil(s.len().max(1))
    });
    let chosen = extremes(&predicted, cfg.k, &w.subjects, cap);
    for (g, pos) in chosen.iter().enumerate() {
        if pos.len() < 2 {
            return Err(InterpretError::TooFewWindows {
                split: w.name.clone(),
                class: GROUPS[g].into(),
                got: pos.len(),
                needed: 2,
            });
        }
    }
    Ok(Selection {
        disc: reg.as_discrimination(),
        regression: Some(reg),
        chosen: chosen.to_vec(),
        scores: vec![predicted.clone(), predicted],
        groups: GROUPS.iter().map(|g| g.to_string()).collect(),
        numeric: Some(NumericReport::new(&target.column, target.unit.as_deref(), scale)),
    })
}

/// What every step reads: the model, the store, the settings and the shapes.
pub(crate) struct Ctx<'a> {
    pub(crate) model: &'a Sequential,
    /// the model for the forward passes that need only its outputs (scoring),
    /// in [`InterpretConfig::precision`]
    pub(crate) predictor: &'a Predictor<'a>,
    pub(crate) store: &'a EpochStore,
    pub(crate) cfg: &'a InterpretConfig,
    pub(crate) n_ch: usize,
    pub(crate) t: usize,
    /// classes, or 2 (`low`, `high`) for a regression
    pub(crate) n_classes: usize,
    /// a regression on the store's numeric target (one output)
    pub(crate) numeric: bool,
}

impl Ctx<'_> {
    /// The groups' names: the classes, or a regression's `low` and `high`.
    pub(crate) fn group_names(&self) -> Vec<String> {
        if self.numeric {
            GROUPS.iter().map(|g| g.to_string()).collect()
        } else {
            self.store.meta().classes.clone()
        }
    }
}

/// The windows read: their store indices, labels and subjects.
pub(crate) struct Windows {
    pub(crate) indices: Vec<usize>,
    pub(crate) labels: Vec<u32>,
    pub(crate) subjects: Vec<u32>,
    /// `test`, or `test+val`
    pub(crate) name: String,
}

impl Windows {
    /// The windows of `cfg.split` (and `cfg.also`), at least 4 of them.
    pub(crate) fn of(store: &EpochStore, cfg: &InterpretConfig) -> Result<Self, InterpretError> {
        let mut indices = store.indices(cfg.split);
        if let Some(also) = cfg.extra() {
            indices.extend(store.indices(also));
            indices.sort_unstable();
        }
        let name = cfg.split_name();
        if indices.len() < 4 {
            return Err(InterpretError::TooFewWindows {
                split: name,
                class: "any".into(),
                got: indices.len(),
                needed: 4,
            });
        }
        let labels = indices.iter().map(|&i| store.labels()[i]).collect();
        let subjects = indices.iter().map(|&i| store.subjects()[i]).collect();
        Ok(Self { indices, labels, subjects, name })
    }
}

/// Whether the network tells the classes apart, judged on `cfg.split` alone.
///
/// With [`InterpretConfig::also`] the methods read the validation windows
/// too, but the verdict — `model.learned` and the floor of every p-value —
/// stays on the split that chose nothing: the validation split picked the
/// best epoch (and, under model selection, the model), so the network's
/// discrimination there is biased upwards, most of all on data with nothing
/// to learn.
fn verdict(w: &Windows, store: &EpochStore, cfg: &InterpretConfig, scores: &ClassScores) -> Discrimination {
    let splits = store.splits();
    let keep: Vec<usize> = (0..w.indices.len()).filter(|&p| splits[w.indices[p]] == cfg.split).collect();
    let prob1 = scores.column(1);
    let pick_f = |v: &[f64]| keep.iter().map(|&p| v[p]).collect::<Vec<f64>>();
    let pred: Vec<usize> = keep.iter().map(|&p| scores.pred[p]).collect();
    let labels: Vec<u32> = keep.iter().map(|&p| w.labels[p]).collect();
    let subjects: Vec<u32> = keep.iter().map(|&p| w.subjects[p]).collect();
    discrimination(&pick_f(&prob1), &pred, &labels, &subjects, cfg.permutations, cfg.seed)
}

/// The model takes the store's windows and has one output per class (two
/// or more), or one output for a store with a numeric target.
pub(crate) fn check_shapes(model: &Sequential, store: &EpochStore) -> Result<(), InterpretError> {
    let (n_ch, t) = (store.n_channels(), store.n_samples());
    let n_classes = store.meta().classes.len();
    let n_out: usize = model.output_shape().iter().product();
    if let Some(target) = store.target() {
        if model.input_shape() != [1, n_ch, t] || n_out != 1 {
            return Err(InterpretError::Config {
                field: "model",
                value: format!("`{}` taking {:?} with {n_out} outputs", model.name(), model.input_shape()),
                expected: format!(
                    "one output on [1, {n_ch}, {t}] windows for the store's numeric target `{}`",
                    target.column
                ),
            });
        }
        return Ok(());
    }
    if model.input_shape() != [1, n_ch, t] || n_out != n_classes || n_classes < 2 {
        return Err(InterpretError::ModelData {
            model: model.name().to_string(),
            expected: model.input_shape().to_vec(),
            got: vec![1, n_ch, t],
            n_outputs: n_out,
            n_classes,
        });
    }
    Ok(())
}

/// Each class's optimal samples: positions into the windows, at most `k`
/// per class (spread over the class's subjects unless told otherwise).
pub(crate) fn choose_optimal(
    ctx: &Ctx<'_>,
    w: &Windows,
    scores: &ClassScores,
) -> Result<Vec<Vec<usize>>, InterpretError> {
    let cfg = ctx.cfg;
    let mut chosen: Vec<Vec<usize>> = Vec::with_capacity(ctx.n_classes);
    for c in 0..ctx.n_classes {
        let col = scores.column(c);
        let keep = |p: usize| !cfg.correct_only || (scores.pred[p] == c && w.labels[p] as usize == c);
        let top = if cfg.spread_subjects {
            let mut of_class: Vec<u32> =
                (0..w.labels.len()).filter(|&p| w.labels[p] as usize == c).map(|p| w.subjects[p]).collect();
            of_class.sort_unstable();
            of_class.dedup();
            let cap = cfg.k.div_ceil(of_class.len().max(1));
            top_k_capped(&col, cfg.k, keep, &w.subjects, cap)
        } else {
            top_k(&col, cfg.k, keep)
        };
        if top.len() < 2 {
            return Err(InterpretError::TooFewWindows {
                split: w.name.clone(),
                class: ctx.store.meta().classes[c].clone(),
                got: top.len(),
                needed: 2,
            });
        }
        chosen.push(top);
    }
    Ok(chosen)
}

/// What activation maximisation starts from: the data statistics that set
/// its scale and, under gains, the windows the gains apply to.
pub(crate) struct ActmaxInputs {
    stats: DataStats,
    starts: Vec<f32>,
}

impl ActmaxInputs {
    pub(crate) fn of(ctx: &Ctx<'_>, w: &Windows) -> Self {
        let (store, cfg) = (ctx.store, ctx.cfg);
        let step = w.indices.len().div_ceil(MAX_STATS_WINDOWS).max(1);
        let sub: Vec<usize> = w.indices.iter().step_by(step).copied().collect();
        let stats = DataStats::of(store.batch(&sub).data(), ctx.n_ch, ctx.t);
        let starts = if cfg.actmax.param == Parameterisation::Gains {
            let n = cfg.actmax.restarts * cfg.actmax.windows_per_restart.max(1);
            let pos = start_windows(&w.labels, &w.subjects, ctx.n_classes, n, cfg.seed);
            let idx: Vec<usize> = pos.iter().map(|&p| w.indices[p]).collect();
            store.batch(&idx).data().to_vec()
        } else {
            Vec::new()
        };
        Self { stats, starts }
    }

    fn problem<'a>(&'a self, ctx: &Ctx<'a>, targets: &'a [Target]) -> ActmaxProblem<'a> {
        ActmaxProblem {
            model: ctx.model,
            targets,
            fs: ctx.store.meta().fs,
            stats: &self.stats,
            cfg: &ctx.cfg.actmax,
            seed: ctx.cfg.seed,
            starts: &self.starts,
            bands: &ctx.cfg.bands,
        }
    }
}

/// Activation maximisation's items: the spectra of every class's patterns
/// (one item per restart), paired under gains, and the patterns themselves.
pub(crate) struct ActmaxItems {
    pub(crate) items: Items,
    pub(crate) pats: Patterns,
}

/// Activation maximisation of every class: its items for the reading.
pub(crate) fn actmax_items(
    ctx: &Ctx<'_>,
    inputs: &ActmaxInputs,
    progress: &mut dyn Progress,
) -> Result<ActmaxItems, InterpretError> {
    let (cfg, n_classes) = (ctx.cfg, ctx.n_classes);
    // A regression's output minimised (low) and maximised (high).
    let targets: Vec<Target> = if ctx.numeric {
        vec![Target::Minimise(0), Target::Class(0)]
    } else {
        (0..n_classes).map(Target::Class).collect()
    };
    progress.stage("activation maximisation", cfg.actmax.steps as u64);
    let pats = maximise(&inputs.problem(ctx, &targets), &mut |_| progress.advance(1))?;
    let r = cfg.actmax.restarts;
    let groups: Vec<usize> = (0..n_classes * r).map(|i| i / r).collect();
    let spectra =
        spectra(pats.patterns.data(), ctx.n_ch, ctx.t, ctx.store.meta().fs)?.mean_of_runs(pats.members);
    // Under gains, restart j of every class is made from the same windows: a pair.
    let pairs = pats.gains.is_some().then(|| (0..n_classes * r).map(|i| i % r).collect());
    // Under gains, the band test compares the power gains (the spectral module's docs, "Activation
    // maximisation's gains"); `[n_targets, restarts, n_ch, n_bands]` is one item per restart.
    let band_values = pats.gains.as_ref().map(|g| g.data().iter().map(|&l| (2.0 * l as f64).exp()).collect());
    Ok(ActmaxItems { items: Items { spectra, groups, pairs, units: None, band_values }, pats })
}

/// Activation maximisation's report: the reading, and the objective at the
/// first and last step per class, the mean over restarts (and over the
/// models of `parts`, one per fold).
pub(crate) fn actmax_report(ctx: &Ctx<'_>, reading: Reading, parts: &[&ActmaxItems]) -> ActmaxReport {
    let (cfg, n_classes) = (ctx.cfg, ctx.n_classes);
    let classes = &ctx.group_names();
    let (r, steps) = (cfg.actmax.restarts, cfg.actmax.steps);
    // A regression's objective is the prediction, in the target's unit (low minimised -output).
    let scale = cfg.output_scale.clone().unwrap_or_default();
    let value = |c: usize, m: f64| {
        if !ctx.numeric {
            m
        } else if c == 0 {
            scale.value(-m)
        } else {
            scale.value(m)
        }
    };
    let at = |step: usize| {
        Ordered(
            (0..n_classes)
                .map(|c| {
                    let m = parts
                        .iter()
                        .map(|p| {
                            (0..r)
                                .map(|j| p.pats.trace.data()[(c * r + j) * steps + step] as f64)
                                .sum::<f64>()
                        })
                        .sum::<f64>();
                    (classes[c].clone(), value(c, m / (r * parts.len().max(1)) as f64))
                })
                .collect(),
        )
    };
    ActmaxReport {
        reading,
        objective: match cfg.actmax.objective {
            _ if ctx.numeric => "output".into(),
            ClassObjective::Logit => "logit".into(),
            ClassObjective::LogitDifference => "logit_difference".into(),
        },
        objective_start: at(0),
        objective_end: at(steps - 1),
        steps,
        restarts: r,
        parameterisation: match cfg.actmax.param {
            Parameterisation::Gains => "gains".into(),
            Parameterisation::Samples => "samples".into(),
            Parameterisation::Spectral { .. } => "spectral".into(),
        },
        windows_per_restart: parts.first().map_or(1, |p| p.pats.members),
    }
}

/// The saved tensors of activation maximisation's patterns.
fn push_patterns(tensors: &mut Vec<(String, Saved)>, pats: Patterns) {
    tensors.push(("actmax.patterns".into(), Saved::F32(pats.patterns)));
    tensors.push(("actmax.trace".into(), Saved::F32(pats.trace)));
    if let Some(g) = pats.gains {
        tensors.push(("actmax.gains".into(), Saved::F32(g)));
    }
}

/// The deconvnet's items: one map per optimal sample of each class, and
/// the maps and the windows' store indices.
pub(crate) struct DeconvItems {
    pub(crate) items: Items,
    pub(crate) maps: Vec<f32>,
    pub(crate) indices: Vec<i64>,
}

/// The deconvnet: each optimal sample projected back from the output (its
/// own class's, or the shared one): its items for the reading.
pub(crate) fn deconv_items(
    ctx: &Ctx<'_>,
    w: &Windows,
    chosen: &[Vec<usize>],
    progress: &mut dyn Progress,
) -> Result<DeconvItems, InterpretError> {
    let (model, cfg, n_ch, t) = (ctx.model, ctx.cfg, ctx.n_ch, ctx.t);
    let total: usize = chosen.iter().map(Vec::len).sum();
    progress.stage("reverse convolution", total as u64);
    let last = model.layers().len() - 1;
    let mut maps = Vec::with_capacity(total * n_ch * t);
    let mut groups = Vec::with_capacity(total);
    for (c, pos) in chosen.iter().enumerate() {
        let idx: Vec<usize> = pos.iter().map(|&p| w.indices[p]).collect();
        for chunk in idx.chunks(cfg.batch) {
            let x = ctx.store.batch(chunk);
            let rec = record(model, &x, last)?;
            let m = project(model, &rec, last, output_seed(ctx, chunk.len(), c), cfg.deconv.rule);
            if cfg.deconv.times_input {
                maps.extend(m.data().iter().zip(x.data()).map(|(a, b)| a * b));
            } else {
                maps.extend_from_slice(m.data());
            }
            groups.extend(std::iter::repeat_n(c, chunk.len()));
            progress.advance(chunk.len() as u64);
        }
    }
    let spectra = spectra(&maps, n_ch, t, ctx.store.meta().fs)?;
    let indices: Vec<i64> = chosen.iter().flatten().map(|&p| w.indices[p] as i64).collect();
    Ok(DeconvItems {
        items: Items { spectra, groups, pairs: None, units: None, band_values: None },
        maps,
        indices,
    })
}

/// The seed at the output of `n` windows of group `c`: the logit difference
/// of their class (or of the shared class); for a regression `+1` (what
/// raises the prediction) for `high`, `-1` (what lowers it) for `low`, or
/// `+1` for both with the shared seed.
fn output_seed(ctx: &Ctx<'_>, n: usize, c: usize) -> Tensor {
    match (ctx.numeric, ctx.cfg.deconv.seed) {
        (true, seed) => {
            let sign = if c == 0 && seed == DeconvSeed::Class { -1.0 } else { 1.0 };
            Tensor::from_vec(&[n, 1], vec![sign; n]).expect("one output per window")
        }
        (false, DeconvSeed::Class) => class_seed(n, ctx.n_classes, c),
        (false, DeconvSeed::Shared) => class_seed(n, ctx.n_classes, 1.min(ctx.n_classes - 1)),
    }
}

/// The deconvnet's report around its reading.
pub(crate) fn deconv_report(cfg: &InterpretConfig, reading: Reading) -> DeconvReport {
    DeconvReport { reading, rule: cfg.deconv.variant_name(), from: "output".into() }
}

/// The saved tensor of `total` deconvnet maps.
pub(crate) fn push_maps(
    tensors: &mut Vec<(String, Saved)>,
    maps: Vec<f32>,
    total: usize,
    n_ch: usize,
    t: usize,
) {
    let maps = Tensor::from_vec(&[total, n_ch, t], maps).expect("one map per window");
    tensors.push(("deconv.maps".into(), Saved::F32(maps)));
}

/// A saved tensor of store indices.
pub(crate) fn push_indices(tensors: &mut Vec<(String, Saved)>, name: &str, indices: &[i64]) {
    let data = indices.to_vec();
    tensors.push((name.into(), Saved::I64(IntTensor { shape: vec![data.len()], data })));
}

/// One unit read on its own: the windows that drive it most against those
/// that drive it least, its activation-maximisation patterns and its
/// deconvnet maps.
fn unit_method(
    ctx: &Ctx<'_>,
    w: &Windows,
    u: &crate::walk::Unit,
    actmax_in: Option<&ActmaxInputs>,
    opts: &ReadOpts<'_>,
    tensors: &mut Vec<(String, Saved)>,
    progress: &mut dyn Progress,
) -> Result<UnitReport, InterpretError> {
    let (model, store, cfg, n_ch, t) = (ctx.model, ctx.store, ctx.cfg, ctx.n_ch, ctx.t);
    let fs = store.meta().fs;
    progress.stage("unit", w.indices.len() as u64);
    let us = score_unit(ctx.predictor, store, &w.indices, cfg.batch, u.index, u.unit)?;
    progress.advance(w.indices.len() as u64);
    let top = top_k(&us, cfg.k, |_| true);
    let neg: Vec<f64> = us.iter().map(|v| -v).collect();
    let bottom = top_k(&neg, cfg.k, |p| !top.contains(&p));
    let mut items = Vec::new();
    let mut groups = Vec::new();
    for (g, pos) in [&bottom, &top].into_iter().enumerate() {
        let idx: Vec<usize> = pos.iter().map(|&p| w.indices[p]).collect();
        items.extend_from_slice(store.batch(&idx).data());
        groups.extend(std::iter::repeat_n(g, idx.len()));
    }
    let names = ["bottom".to_string(), "top".to_string()];
    let uopts = ReadOpts { classes: &names, seed: cfg.seed ^ 0x7, rank: cfg.optimal_rank, ..*opts };
    let (optimal, _) = read(&spectra(&items, n_ch, t, fs)?, &groups, &uopts)?;
    let top_idx: Vec<usize> = top.iter().map(|&p| w.indices[p]).collect();

    let actmax = if cfg.methods.contains(&Method::Actmax) {
        let inputs = actmax_in.expect("prepared when a unit is read");
        let targets = [Target::Unit { layer: u.index, unit: u.unit }];
        progress.stage("unit activation maximisation", cfg.actmax.steps as u64);
        let pats = maximise(&inputs.problem(ctx, &targets), &mut |_| progress.advance(1))?;
        let table = band_table(pats.patterns.data(), n_ch, t, fs, opts)?;
        tensors.push(("unit.actmax.patterns".into(), Saved::F32(pats.patterns)));
        tensors.push(("unit.actmax.trace".into(), Saved::F32(pats.trace)));
        if let Some(g) = pats.gains {
            tensors.push(("unit.actmax.gains".into(), Saved::F32(g)));
        }
        Some(table)
    } else {
        None
    };
    let deconv = if cfg.methods.contains(&Method::Deconv) {
        let x = store.batch(&top_idx);
        let rec = record(model, &x, u.index)?;
        let seed = unit_seed(&rec.output, u.unit, cfg.deconv.keep);
        let maps = project(model, &rec, u.index, seed, cfg.deconv.rule);
        let table = band_table(maps.data(), n_ch, t, fs, opts)?;
        let maps = maps.reshape(&[top_idx.len(), n_ch, t]).expect("one map per window");
        tensors.push(("unit.deconv.maps".into(), Saved::F32(maps)));
        Some(table)
    } else {
        None
    };
    let data = top_idx.iter().map(|&i| i as i64).collect();
    tensors.push(("unit.indices".into(), Saved::I64(IntTensor { shape: vec![top_idx.len()], data })));
    Ok(UnitReport {
        layer: u.layer.clone(),
        unit: u.unit,
        n_units: u.n_units,
        samples: samples(store, &w.indices, &top, &us),
        optimal,
        actmax,
        deconv,
    })
}

impl ReadOpts<'_> {
    pub(crate) fn with_seed(&self, seed: u64) -> Self {
        Self { seed, ..*self }
    }
}

/// Optimal samples' items: each class's chosen windows, their records and their store indices.
pub(crate) struct OptimalItems {
    pub(crate) items: Items,
    pub(crate) samples: Ordered<Vec<crate::optimal::Sample>>,
    pub(crate) indices: Vec<i64>,
}

/// Optimal samples: the spectra of each class's chosen windows, and their
/// records (`scores[c]`: every window's score for group `c`).
pub(crate) fn optimal_items(
    store: &EpochStore,
    indices: &[usize],
    scores: &[Vec<f64>],
    chosen: &[Vec<usize>],
    classes: &[String],
    by_subject: bool,
) -> Result<OptimalItems, InterpretError> {
    let (n_ch, t) = (store.n_channels(), store.n_samples());
    let mut items = Vec::new();
    let mut groups = Vec::new();
    let mut by_class = Vec::new();
    for (c, pos) in chosen.iter().enumerate() {
        let idx: Vec<usize> = pos.iter().map(|&p| indices[p]).collect();
        items.extend_from_slice(store.batch(&idx).data());
        groups.extend(std::iter::repeat_n(c, idx.len()));
        by_class.push((classes[c].clone(), samples(store, indices, pos, &scores[c])));
    }
    let spectra = spectra(&items, n_ch, t, store.meta().fs)?;
    let flat: Vec<i64> = chosen.iter().flatten().map(|&p| indices[p] as i64).collect();
    let units = by_subject.then(|| flat.iter().map(|&i| store.subjects()[i as usize] as usize).collect());
    Ok(OptimalItems {
        items: Items { spectra, groups, pairs: None, units, band_values: None },
        samples: Ordered(by_class),
        indices: flat,
    })
}

pub(crate) fn push_arrays(
    tensors: &mut Vec<(String, Saved)>,
    method: &str,
    a: &ReadingArrays,
    n_classes: usize,
    n_ch: usize,
    n_f: usize,
    n_b: usize,
) {
    let psd = Tensor::from_vec(&[n_classes, n_ch, n_f], a.psd.clone()).expect("per class, channel, bin");
    let bp =
        Tensor::from_vec(&[n_classes, n_ch, n_b], a.band_power.clone()).expect("per class, channel, band");
    tensors.push((format!("{method}.psd"), Saved::F32(psd)));
    tensors.push((format!("{method}.band_power"), Saved::F32(bp)));
}

/// Mean band power per band and channel of items `[n, C, T]`.
fn band_table(
    items: &[f32],
    n_ch: usize,
    t: usize,
    fs: f64,
    opts: &ReadOpts<'_>,
) -> Result<BandTable, InterpretError> {
    let sp = spectra(items, n_ch, t, fs)?;
    let bp = band_power(&sp, opts.bands)?;
    let n_b = opts.bands.len();
    let n = sp.n_items.max(1) as f64;
    Ok(Ordered(
        opts.bands
            .iter()
            .enumerate()
            .map(|(b, band)| {
                let per_ch = (0..n_ch)
                    .map(|c| {
                        let m = (0..sp.n_items).map(|i| bp[(i * n_ch + c) * n_b + b]).sum::<f64>() / n;
                        (opts.channels[c].clone(), m)
                    })
                    .collect();
                (band.name.clone(), Ordered(per_ch))
            })
            .collect(),
    ))
}

/// The windows (positions into the split) activation maximisation's gains
/// parameterisation starts from: `n` of them, alternating between the
/// classes, each class's taken one per subject in a random order of its
/// subjects (a random window of each) before any subject is used twice.
fn start_windows(labels: &[u32], subjects: &[u32], n_classes: usize, n: usize, seed: u64) -> Vec<usize> {
    let mut rng = Rng::new(seed).fork(0x57A7);
    // Per class, per subject (in subject order), the windows.
    let mut by_class: Vec<std::collections::BTreeMap<u32, Vec<usize>>> = vec![Default::default(); n_classes];
    for (p, (&l, &s)) in labels.iter().zip(subjects).enumerate() {
        if let Some(m) = by_class.get_mut(l as usize) {
            m.entry(s).or_default().push(p);
        }
    }
    let mut queues: Vec<Vec<usize>> = by_class
        .into_iter()
        .map(|m| {
            // Per subject its windows in random order; then rounds over the subjects in random order.
            let mut per: Vec<Vec<usize>> = m
                .into_values()
                .map(|mut w| {
                    rng.shuffle(&mut w);
                    w
                })
                .collect();
            rng.shuffle(&mut per);
            let mut order = Vec::new();
            let longest = per.iter().map(Vec::len).max().unwrap_or(0);
            for round in 0..longest {
                order.extend(per.iter().filter_map(|w| w.get(round).copied()));
            }
            order.reverse();
            order
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    let mut c = 0;
    while out.len() < n && queues.iter().any(|q| !q.is_empty()) {
        if let Some(p) = queues[c].pop() {
            out.push(p);
        }
        c = (c + 1) % n_classes;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_windows_alternate_classes_and_use_every_subject_before_repeating_one() {
        // 3 subjects of class 0 with 4 windows each, 2 of class 1 with 5 each, interleaved.
        let mut labels = Vec::new();
        let mut subjects = Vec::new();
        for (s, class, n) in [(0u32, 0u32, 4), (1, 1, 5), (2, 0, 4), (3, 1, 5), (4, 0, 4)] {
            labels.extend(std::iter::repeat_n(class, n));
            subjects.extend(std::iter::repeat_n(s, n));
        }
        for seed in 0..5 {
            let pos = start_windows(&labels, &subjects, 2, 10, seed);
            assert_eq!(pos.len(), 10);
            let mut seen = pos.clone();
            seen.sort_unstable();
            seen.dedup();
            assert_eq!(seen.len(), 10, "a window twice: {pos:?}");
            for (i, &p) in pos.iter().enumerate() {
                assert_eq!(labels[p] as usize, i % 2, "seed {seed}: {pos:?}");
            }
            // Class 0's first three windows come from its three subjects, class 1's first two from its two.
            let subs = |class: usize, k: usize| {
                let mut s: Vec<u32> =
                    pos.iter().skip(class).step_by(2).take(k).map(|&p| subjects[p]).collect();
                s.sort_unstable();
                s
            };
            assert_eq!(subs(0, 3), [0, 2, 4]);
            assert_eq!(subs(1, 2), [1, 3]);
        }
        // More windows asked than there are: all of them, none twice.
        let pos = start_windows(&labels, &subjects, 2, 100, 1);
        assert_eq!(pos.len(), labels.len());
    }
}

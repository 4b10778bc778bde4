//! [`Summary`]: the grid's rates against its targets.
//!
//! - **Detectable** effect cells: the band-power baseline reaches
//!   [`DETECTABLE_SUBJECT_ACCURACY`] per subject on the test split. Among
//!   them, the fraction where the network reaches [`MODEL_ACCURACY`] per
//!   window (target [`ACCURATE_TARGET`]) and the fraction where it `learned`
//!   (above chance; reported, no target).
//! - **Recovery**, over the effect cells whose network learned (detectable
//!   or not): per method, the fraction whose top band hits the planted band
//!   (target [`BAND_HIT_TARGET`]) and whose channel ranks hit the planted
//!   channels (target [`CHANNELS_HIT_TARGET`]).
//! - **Null silence**, over the null cells: per method, the fraction with a
//!   claim, i.e. a top band at all (target at most [`NULL_CLAIM_MAX`]); the
//!   same over every (null cell, method) run, the three methods pooled (the
//!   issue's unit; same target); and how often the network is wrongly
//!   `learned` there (reported).
//!
//! - **Replicates**, with several seeds: a seed changes both the synthetic
//!   data set and the training, so the seeds of one (band, place, size) are
//!   replicates of the whole experiment. How many such cells learned in every
//!   seed, some, or none, and per method, over the cells learned in every
//!   seed, how often every seed names the same top band, and the planted one.
//!
//! A rate over no cells has no value and its check is `no data`, never a
//! pass. [`Summary::nothing_learned`] is set when no effect cell's network
//! learned: every recovery rate is then undefined, and that is the finding.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::cell::{CellResult, Methods};
use crate::score::MethodScore;

/// Per-subject baseline test accuracy from which an effect cell counts as detectable.
pub const DETECTABLE_SUBJECT_ACCURACY: f64 = 0.9;
/// Per-window test accuracy a network should reach on detectable cells.
pub const MODEL_ACCURACY: f64 = 0.8;
/// Target: fraction of detectable cells where the network reaches [`MODEL_ACCURACY`].
pub const ACCURATE_TARGET: f64 = 0.9;
/// Target: fraction of learned cells whose top band hits the planted band.
pub const BAND_HIT_TARGET: f64 = 0.9;
/// Target: fraction of learned cells whose channel ranks hit the planted channels.
pub const CHANNELS_HIT_TARGET: f64 = 0.8;
/// Target: largest fraction of null cells with a claim.
pub const NULL_CLAIM_MAX: f64 = 0.05;

/// `k` of `n`, their ratio (`None` when `n` is 0) and its exact 95 % interval.
/// The default is `0` of `0`, as [`Rate::new`] gives it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Rate {
    /// cells that qualify
    pub k: usize,
    /// cells counted
    pub n: usize,
    /// `k / n`, `None` without cells
    pub rate: Option<f64>,
    /// the exact (Clopper–Pearson) 95 % interval of the rate, `None` without cells: what a
    /// grid of this many cells can tell apart (`eeglens_dsp::stats::clopper_pearson`)
    #[serde(default)]
    pub ci95: Option<[f64; 2]>,
}

impl Rate {
    /// `k` of `n`.
    pub fn new(k: usize, n: usize) -> Self {
        let ci95 = eeglens_dsp::stats::clopper_pearson(k, n, 0.95).map(|(lo, hi)| [lo, hi]);
        Self { k, n, rate: (n > 0).then(|| k as f64 / n as f64), ci95 }
    }

    /// The fraction of `items` for which `f` holds.
    pub fn of<T>(items: &[&T], f: impl Fn(&T) -> bool) -> Self {
        Self::new(items.iter().filter(|&&x| f(x)).count(), items.len())
    }

    /// `k/n (pp%)`, or `-/0` without cells.
    pub fn describe(&self) -> String {
        match self.rate {
            Some(r) => format!("{}/{} ({:.0}%)", self.k, self.n, 100.0 * r),
            None => "-/0".into(),
        }
    }

    /// `k/n (pp%; 95% CI lo-hi%)`, or `-/0` without cells (ends rounded to whole percent).
    pub fn describe_with_interval(&self) -> String {
        match (self.rate, self.ci95) {
            (Some(r), Some([lo, hi])) => format!(
                "{}/{} ({:.0}%; 95% CI {:.0}-{:.0}%)",
                self.k,
                self.n,
                100.0 * r,
                100.0 * lo,
                100.0 * hi
            ),
            _ => self.describe(),
        }
    }
}

/// The verdict of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// the rate meets the target
    Pass,
    /// the rate misses the target
    Fail,
    /// no cell to compute the rate on
    NoData,
    /// reported without a target
    Info,
}

impl Status {
    /// `PASS`, `FAIL`, `NO DATA` or `INFO`.
    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::NoData => "NO DATA",
            Status::Info => "INFO",
        }
    }
}

/// One line of the verdict.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// short key, e.g. `actmax.band_hit`
    pub key: String,
    /// what is measured, over which cells
    pub what: String,
    /// the rate
    pub rate: Rate,
    /// the target (`None`: reported only)
    pub target: Option<f64>,
    /// true when the rate must stay at or below the target, false when at or above
    pub at_most: bool,
    /// the verdict
    pub status: Status,
    /// the target lies inside the rate's 95 % interval: the verdict rests on this grid's few
    /// cells and could go the other way on another grid of the same size
    #[serde(default)]
    pub undecided: bool,
}

impl Check {
    fn new(key: String, what: String, rate: Rate, target: Option<f64>, at_most: bool) -> Self {
        let status = match (target, rate.rate) {
            (None, _) => Status::Info,
            (Some(_), None) => Status::NoData,
            (Some(t), Some(r)) => {
                // A rate is a ratio of counts; compare with a little slack for rounding.
                let ok = if at_most { r <= t + 1e-12 } else { r >= t - 1e-12 };
                if ok {
                    Status::Pass
                } else {
                    Status::Fail
                }
            }
        };
        let undecided = match (target, rate.ci95) {
            (Some(t), Some([lo, hi])) => lo < t && t < hi,
            _ => false,
        };
        Self { key, what, rate, target, at_most, status, undecided }
    }

    /// One line for the terminal: `PASS  actmax band hit ...  9/10 (90%)  target >= 90%`.
    pub fn describe(&self) -> String {
        let target = match self.target {
            Some(t) => format!("  target {} {:.0}%", if self.at_most { "<=" } else { ">=" }, 100.0 * t),
            None => String::new(),
        };
        let undecided = if self.undecided { "  (undecided: the target is inside the interval)" } else { "" };
        format!(
            "{:<7} {:<58} {}{target}{undecided}",
            self.status.label(),
            self.what,
            self.rate.describe_with_interval()
        )
    }
}

/// One method's rates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MethodSummary {
    /// top band hits the planted band, over learned effect cells
    pub band_hit: Rate,
    /// planted channels ranked near the top, over learned effect cells
    pub channels_hit: Rate,
    /// any claim (a top band), over null cells
    pub null_claims: Rate,
    /// any claim, over effect cells whose network did not learn
    pub unlearned_claims: Rate,
    /// of the learned effect cells where the method claimed a band, those whose band
    /// holds the planted one: how far a claim can be trusted (a wrong band claimed is
    /// worse than none, which `band_hit` counts alike)
    #[serde(default)]
    pub claims_right: Rate,
}

/// The rates of one effect size.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SizeSummary {
    /// the effect size
    pub size: f64,
    /// detectable, over the size's cells
    pub detectable: Rate,
    /// learned, over the size's cells
    pub learned: Rate,
    /// the network reaches [`MODEL_ACCURACY`], over the size's detectable cells
    pub accurate: Rate,
    /// per method, band hits over the size's learned cells
    pub band_hit: Methods<Rate>,
}

/// The rates of the effect cells of one planted band, or of one place: where a method misses
/// systematically.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupSummary {
    /// the band's or the place's name
    pub name: String,
    /// learned, over the group's effect cells
    pub learned: Rate,
    /// per method, band hits over the group's learned cells
    pub band_hit: Methods<Rate>,
    /// per method, channel hits over the group's learned cells
    pub channels_hit: Methods<Rate>,
}

/// How the seeds of each effect cell agree (a grid of several seeds).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReplicateSummary {
    /// seeds per cell
    pub seeds: usize,
    /// effect cells (band, place, size) present in every seed
    pub cells: usize,
    /// cells learned in every seed
    pub learned_all: usize,
    /// cells learned in some seeds, not all: whether the network learns depends on the run
    pub learned_some: usize,
    /// cells learned in no seed
    pub learned_none: usize,
    /// per method, over the cells learned in every seed: every seed names the same top band
    /// (no claim counts as a reading of its own)
    pub same_top_band: Methods<Rate>,
    /// per method, over the cells learned in every seed: every seed names the planted band
    pub planted_every_seed: Methods<Rate>,
}

/// The thresholds the summary used.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// [`DETECTABLE_SUBJECT_ACCURACY`]
    pub detectable_subject_accuracy: f64,
    /// [`MODEL_ACCURACY`]
    pub model_accuracy: f64,
}

/// The grid's verdict.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// cells with a planted effect
    pub effect_cells: usize,
    /// cells without
    pub null_cells: usize,
    /// detectable, over effect cells
    pub detectable: Rate,
    /// the network reaches [`MODEL_ACCURACY`], over detectable cells
    pub accurate: Rate,
    /// the network learned, over detectable cells
    pub learned_detectable: Rate,
    /// the network learned, over all effect cells
    pub learned: Rate,
    /// per method
    pub methods: Methods<MethodSummary>,
    /// per variant of a method the cells also read (no targets: for choosing defaults)
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variants: BTreeMap<String, MethodSummary>,
    /// with model `auto`: how many cells chose each candidate on validation
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub chosen: BTreeMap<String, usize>,
    /// any claim, over every (null cell, method) run: the three methods pooled, so that a
    /// grid of `n` null cells counts `3 n` runs (the runs of one cell share its network, and
    /// a method reads only a network that learned)
    #[serde(default)]
    pub null_claims_pooled: Option<Rate>,
    /// the network learned, over null cells (a false positive of training)
    pub null_learned: Rate,
    /// the baseline counts a null cell detectable
    pub null_detectable: Rate,
    /// per effect size, smallest first
    pub by_size: Vec<SizeSummary>,
    /// per planted band, in the grid's order
    #[serde(default)]
    pub by_band: Vec<GroupSummary>,
    /// per place, in the grid's order
    #[serde(default)]
    pub by_place: Vec<GroupSummary>,
    /// how the seeds of each effect cell agree; `None` with one seed
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicates: Option<ReplicateSummary>,
    /// the targets, checked
    pub checks: Vec<Check>,
    /// no effect cell's network learned
    pub nothing_learned: bool,
    /// the thresholds used
    pub thresholds: Thresholds,
}

impl Summary {
    /// True when no check fails and nothing-learned is not set (checks
    /// without data do not fail).
    pub fn all_pass(&self) -> bool {
        !self.nothing_learned && self.checks.iter().all(|c| c.status != Status::Fail)
    }
}

fn detectable(c: &CellResult) -> bool {
    c.baseline.subject_accuracy >= DETECTABLE_SUBJECT_ACCURACY
}

fn accurate(c: &CellResult) -> bool {
    c.model.accuracy >= MODEL_ACCURACY
}

/// The summary of a grid's cells.
pub fn summarise(cells: &[CellResult]) -> Summary {
    let effect: Vec<&CellResult> = cells.iter().filter(|c| !c.is_null()).collect();
    let nulls: Vec<&CellResult> = cells.iter().filter(|c| c.is_null()).collect();
    let det: Vec<&CellResult> = effect.iter().copied().filter(|c| detectable(c)).collect();
    let learned: Vec<&CellResult> = effect.iter().copied().filter(|c| c.model.learned).collect();
    let unlearned: Vec<&CellResult> = effect.iter().copied().filter(|c| !c.model.learned).collect();
    let methods = Methods {
        optimal: method_summary(&learned, &unlearned, &nulls, |c| Some(&c.methods.optimal)),
        actmax: method_summary(&learned, &unlearned, &nulls, |c| Some(&c.methods.actmax)),
        deconv: method_summary(&learned, &unlearned, &nulls, |c| Some(&c.methods.deconv)),
    };
    let names: BTreeSet<&String> = cells.iter().flat_map(|c| c.variants.keys()).collect();
    let variants = names
        .into_iter()
        .map(|name| (name.clone(), method_summary(&learned, &unlearned, &nulls, |c| c.variants.get(name))))
        .collect();
    let mut chosen = BTreeMap::new();
    for c in cells {
        if let Some(sel) = &c.model.selection {
            *chosen.entry(sel.chosen.clone()).or_insert(0) += 1;
        }
    }
    let by_size = by_size(&effect);
    let by_band = by_group(&effect, |c| c.band_name.as_deref());
    let by_place = by_group(&effect, |c| c.place.as_deref());
    let pooled = null_claims_pooled(&nulls);
    let checks = checks(&det, &nulls, &methods, pooled);
    Summary {
        effect_cells: effect.len(),
        null_cells: nulls.len(),
        detectable: Rate::of(&effect, detectable),
        accurate: Rate::of(&det, accurate),
        learned_detectable: Rate::of(&det, |c| c.model.learned),
        learned: Rate::of(&effect, |c| c.model.learned),
        methods,
        variants,
        chosen,
        null_claims_pooled: Some(pooled),
        null_learned: Rate::of(&nulls, |c| c.model.learned),
        null_detectable: Rate::of(&nulls, detectable),
        by_size,
        by_band,
        by_place,
        replicates: replicates(&effect),
        checks,
        nothing_learned: !effect.is_empty() && learned.is_empty(),
        thresholds: Thresholds {
            detectable_subject_accuracy: DETECTABLE_SUBJECT_ACCURACY,
            model_accuracy: MODEL_ACCURACY,
        },
    }
}

/// Detection, learning, accuracy and band hits per effect size, smallest first.
fn by_size(effect: &[&CellResult]) -> Vec<SizeSummary> {
    let mut sizes: Vec<f64> = effect.iter().map(|c| c.size).collect();
    sizes.sort_by(f64::total_cmp);
    sizes.dedup();
    sizes
        .iter()
        .map(|&size| {
            let of: Vec<&CellResult> = effect.iter().copied().filter(|c| c.size == size).collect();
            let det: Vec<&CellResult> = of.iter().copied().filter(|c| detectable(c)).collect();
            let learned: Vec<&CellResult> = of.iter().copied().filter(|c| c.model.learned).collect();
            SizeSummary {
                size,
                detectable: Rate::of(&of, detectable),
                learned: Rate::of(&of, |c| c.model.learned),
                accurate: Rate::of(&det, accurate),
                band_hit: hits(&learned, |m| m.band_hit),
            }
        })
        .collect()
}

/// Per method, the fraction of `cells` whose score satisfies `f`.
fn hits(cells: &[&CellResult], f: impl Fn(&MethodScore) -> bool) -> Methods<Rate> {
    Methods {
        optimal: Rate::of(cells, |c| f(&c.methods.optimal)),
        actmax: Rate::of(cells, |c| f(&c.methods.actmax)),
        deconv: Rate::of(cells, |c| f(&c.methods.deconv)),
    }
}

/// Learning and each method's hits per group of effect cells (`key`: the band's or the place's
/// name), in the order the groups first appear among the cells.
fn by_group(effect: &[&CellResult], key: impl Fn(&CellResult) -> Option<&str>) -> Vec<GroupSummary> {
    let mut names: Vec<&str> = Vec::new();
    for c in effect {
        if let Some(k) = key(c) {
            if !names.contains(&k) {
                names.push(k);
            }
        }
    }
    names
        .iter()
        .map(|&name| {
            let of: Vec<&CellResult> = effect.iter().copied().filter(|c| key(c) == Some(name)).collect();
            let learned: Vec<&CellResult> = of.iter().copied().filter(|c| c.model.learned).collect();
            GroupSummary {
                name: name.to_string(),
                learned: Rate::of(&of, |c| c.model.learned),
                band_hit: hits(&learned, |m| m.band_hit),
                channels_hit: hits(&learned, |m| m.channels_hit),
            }
        })
        .collect()
}

/// The targets, checked: the network on detectable cells, each method on learned cells and on
/// null cells, and the network on null cells.
fn checks(
    det: &[&CellResult],
    nulls: &[&CellResult],
    methods: &Methods<MethodSummary>,
    pooled: Rate,
) -> Vec<Check> {
    let pct = |x: f64| format!("{:.0}%", 100.0 * x);
    let mut checks = vec![
        Check::new(
            "model.accurate".into(),
            format!("network >= {} per window, detectable cells", pct(MODEL_ACCURACY)),
            Rate::of(det, accurate),
            Some(ACCURATE_TARGET),
            false,
        ),
        Check::new(
            "model.learned".into(),
            "network learned (above chance), detectable cells".into(),
            Rate::of(det, |c| c.model.learned),
            None,
            false,
        ),
    ];
    for (name, m) in methods.iter() {
        checks.push(Check::new(
            format!("{name}.band_hit"),
            format!("{name}: top band = planted band, learned cells"),
            m.band_hit,
            Some(BAND_HIT_TARGET),
            false,
        ));
        checks.push(Check::new(
            format!("{name}.channels_hit"),
            format!("{name}: planted channels ranked near the top, learned cells"),
            m.channels_hit,
            Some(CHANNELS_HIT_TARGET),
            false,
        ));
    }
    for (name, m) in methods.iter() {
        checks.push(Check::new(
            format!("{name}.null_claims"),
            format!("{name}: claims a band on null data"),
            m.null_claims,
            Some(NULL_CLAIM_MAX),
            true,
        ));
    }
    checks.push(Check::new(
        "null_claims_pooled".into(),
        "any method claims a band on null data, over (null, method) runs".into(),
        pooled,
        Some(NULL_CLAIM_MAX),
        true,
    ));
    checks.push(Check::new(
        "model.null_learned".into(),
        "network 'learned' on null data".into(),
        Rate::of(nulls, |c| c.model.learned),
        None,
        true,
    ));
    checks
}

/// The seeds of each (band, place, size), compared; `None` unless some cell has two seeds.
fn replicates(effect: &[&CellResult]) -> Option<ReplicateSummary> {
    let mut groups: BTreeMap<(String, String, u64), Vec<&CellResult>> = BTreeMap::new();
    for c in effect {
        let key =
            (c.band_name.clone().unwrap_or_default(), c.place.clone().unwrap_or_default(), c.size.to_bits());
        groups.entry(key).or_default().push(c);
    }
    let seeds = groups.values().map(Vec::len).max()?;
    if seeds < 2 {
        return None;
    }
    let full: Vec<&Vec<&CellResult>> = groups.values().filter(|g| g.len() == seeds).collect();
    let n_learned = |g: &[&CellResult]| g.iter().filter(|c| c.model.learned).count();
    let all: Vec<&Vec<&CellResult>> = full.iter().copied().filter(|g| n_learned(g) == seeds).collect();
    let agree = |pick: fn(&Methods<MethodScore>) -> &MethodScore| {
        let same = all
            .iter()
            .filter(|g| g.iter().all(|c| pick(&c.methods).top_band == pick(&g[0].methods).top_band));
        let planted = all.iter().filter(|g| g.iter().all(|c| pick(&c.methods).band_hit));
        (Rate::new(same.count(), all.len()), Rate::new(planted.count(), all.len()))
    };
    let (o, a, d) = (agree(|m| &m.optimal), agree(|m| &m.actmax), agree(|m| &m.deconv));
    Some(ReplicateSummary {
        seeds,
        cells: full.len(),
        learned_all: all.len(),
        learned_some: full.iter().filter(|g| (1..seeds).contains(&n_learned(g))).count(),
        learned_none: full.iter().filter(|g| n_learned(g) == 0).count(),
        same_top_band: Methods { optimal: o.0, actmax: a.0, deconv: d.0 },
        planted_every_seed: Methods { optimal: o.1, actmax: a.1, deconv: d.1 },
    })
}

/// Claims over every (null cell, method) run.
fn null_claims_pooled(nulls: &[&CellResult]) -> Rate {
    let claims = nulls
        .iter()
        .map(|c| c.methods.iter().into_iter().filter(|(_, m)| m.top_band.is_some()).count())
        .sum();
    Rate::new(claims, 3 * nulls.len())
}

fn method_summary(
    learned: &[&CellResult],
    unlearned: &[&CellResult],
    nulls: &[&CellResult],
    pick: impl Fn(&CellResult) -> Option<&MethodScore>,
) -> MethodSummary {
    // A cell without the score (a variant it did not read) counts as unread: no hit, no claim.
    MethodSummary {
        band_hit: Rate::of(learned, |c| pick(c).is_some_and(|m| m.band_hit)),
        channels_hit: Rate::of(learned, |c| pick(c).is_some_and(|m| m.channels_hit)),
        null_claims: Rate::of(nulls, |c| pick(c).is_some_and(|m| m.top_band.is_some())),
        unlearned_claims: Rate::of(unlearned, |c| pick(c).is_some_and(|m| m.top_band.is_some())),
        claims_right: {
            let claimed: Vec<&CellResult> =
                learned.iter().copied().filter(|c| pick(c).is_some_and(|m| m.top_band.is_some())).collect();
            Rate::of(&claimed, |c| pick(c).is_some_and(|m| m.band_hit))
        },
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::cell::{BaselineScore, ModelScore, StageSeconds};

    fn method(top: Option<&str>, band_hit: bool, channels_hit: bool) -> MethodScore {
        MethodScore {
            read: true,
            top_band: top.map(str::to_string),
            top_band_range: None,
            band_hit,
            rank_band: None,
            channel_ranks: vec![],
            channels_hit,
            top_channels: vec![],
            bands: vec![],
        }
    }

    /// A hand-made cell: baseline per-subject accuracy, model accuracy and
    /// verdict, and every method's top band, band hit and channel hit.
    pub(crate) fn cell(
        index: usize,
        size: f64,
        base_subj: f64,
        acc: f64,
        learned: bool,
        m: (Option<&str>, bool, bool),
    ) -> CellResult {
        let score = method(m.0, m.1, m.2);
        CellResult {
            index,
            name: format!("{index:03}"),
            band_name: (size > 0.0).then(|| "theta".into()),
            band: (size > 0.0).then_some([4.0, 8.0]),
            place: (size > 0.0).then(|| "central".into()),
            channels: vec![],
            size,
            seed: 0,
            data_seed: index as u64,
            baseline: BaselineScore {
                accuracy: base_subj,
                subject_accuracy: base_subj,
                n_subjects: 6,
                learned: base_subj > 0.6,
                top_band: "theta".into(),
            },
            model: ModelScore {
                accuracy: acc,
                balanced_accuracy: acc,
                subject_accuracy: acc,
                n_windows: 240,
                n_subjects: 6,
                learned,
                window_p: if learned { 1e-6 } else { 0.5 },
                subject_p: if learned { 0.004 } else { 0.5 },
                epochs_done: 12,
                best_epoch: Some(12),
                selection: None,
                fold_models: Vec::new(),
            },
            methods: Methods { optimal: score.clone(), actmax: score.clone(), deconv: score },
            variants: BTreeMap::new(),
            seconds: StageSeconds::default(),
        }
    }

    fn check<'a>(s: &'a Summary, key: &str) -> &'a Check {
        s.checks.iter().find(|c| c.key == key).unwrap()
    }

    #[test]
    fn rates_count_the_right_cells() {
        let theta = Some("theta");
        let cells = vec![
            // Detectable, accurate, learned, recovered.
            cell(0, 3.0, 1.0, 0.95, true, (theta, true, true)),
            cell(1, 3.0, 1.0, 0.90, true, (theta, true, false)),
            // Detectable, learned, but below 80 % per window; wrong band.
            cell(2, 3.0, 1.0, 0.70, true, (Some("beta"), false, true)),
            // Detectable, not learned (a claim without learning is counted apart).
            cell(3, 3.0, 0.95, 0.52, false, (theta, true, true)),
            // Not detectable, but learned: counts for recovery only.
            cell(4, 1.5, 0.67, 0.65, true, (None, false, false)),
            // Nulls: one claim in four, one 'learned'.
            cell(5, 0.0, 0.5, 0.5, false, (None, false, false)),
            cell(6, 0.0, 0.5, 0.6, true, (Some("alpha"), false, false)),
            cell(7, 0.0, 0.5, 0.5, false, (None, false, false)),
            cell(8, 0.0, 1.0, 0.5, false, (None, false, false)),
        ];
        let s = summarise(&cells);
        assert_eq!((s.effect_cells, s.null_cells), (5, 4));
        assert_eq!(s.detectable, Rate::new(4, 5));
        assert_eq!(s.accurate, Rate::new(2, 4));
        assert_eq!(s.learned_detectable, Rate::new(3, 4));
        assert_eq!(s.learned, Rate::new(4, 5));
        let m = &s.methods.actmax;
        assert_eq!(m.band_hit, Rate::new(2, 4));
        assert_eq!(m.channels_hit, Rate::new(2, 4));
        assert_eq!(m.null_claims, Rate::new(1, 4));
        assert_eq!(m.unlearned_claims, Rate::new(1, 1));
        // of the three learned cells that claimed (cell 4 claims nothing), two name theta
        assert_eq!(m.claims_right, Rate::new(2, 3));
        // the null cell that claims does so with all three methods: 3 of 12 runs
        assert_eq!(s.null_claims_pooled, Some(Rate::new(3, 12)));
        assert_eq!(check(&s, "null_claims_pooled").status, Status::Fail);
        assert_eq!(s.null_learned, Rate::new(1, 4));
        assert_eq!(s.null_detectable, Rate::new(1, 4));
        assert_eq!(check(&s, "model.accurate").status, Status::Fail);
        assert_eq!(check(&s, "deconv.band_hit").status, Status::Fail);
        assert_eq!(check(&s, "optimal.null_claims").status, Status::Fail);
        assert_eq!(check(&s, "model.learned").status, Status::Info);
        assert_eq!(s.by_size.len(), 2);
        assert_eq!(s.by_size[0].size, 1.5);
        assert_eq!(s.by_size[1].detectable, Rate::new(4, 4));
        assert_eq!(s.by_size[1].band_hit.optimal, Rate::new(2, 3));
        assert!(!s.nothing_learned && !s.all_pass());
        // Every effect cell here is theta at central channels: one group each, the overall rates.
        assert_eq!(s.by_band.len(), 1);
        assert_eq!(s.by_band[0].name, "theta");
        assert_eq!(s.by_band[0].learned, Rate::new(4, 5));
        assert_eq!(s.by_band[0].band_hit.actmax, m.band_hit);
        assert_eq!(s.by_place[0].channels_hit.actmax, m.channels_hit);
    }

    #[test]
    fn bands_and_places_are_summarised_apart() {
        let theta = Some("theta");
        let mut cells = vec![
            cell(0, 3.0, 1.0, 0.9, true, (theta, true, true)),
            cell(1, 3.0, 1.0, 0.9, true, (Some("alpha"), false, true)),
            cell(2, 3.0, 1.0, 0.5, false, (None, false, false)),
            cell(3, 0.0, 0.5, 0.5, false, (None, false, false)),
        ];
        cells[1].band_name = Some("delta".into());
        cells[1].place = Some("frontal".into());
        cells[2].band_name = Some("delta".into());
        let s = summarise(&cells);
        let names: Vec<&str> = s.by_band.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["theta", "delta"], "in the order of the cells, nulls left out");
        let delta = &s.by_band[1];
        assert_eq!(delta.learned, Rate::new(1, 2));
        assert_eq!(delta.band_hit.optimal, Rate::new(0, 1));
        assert_eq!(delta.channels_hit.optimal, Rate::new(1, 1));
        let places: Vec<(&str, Rate)> =
            s.by_place.iter().map(|g| (g.name.as_str(), g.band_hit.actmax)).collect();
        assert_eq!(places, [("central", Rate::new(1, 1)), ("frontal", Rate::new(0, 1))]);
    }

    #[test]
    fn rates_carry_their_exact_interval_and_say_when_the_target_is_inside_it() {
        // 26 of 28 (SciPy's exact interval 0.76497-0.99123): passes 90 %, undecided.
        let r = Rate::new(26, 28);
        let [lo, hi] = r.ci95.expect("an interval");
        assert!((lo - 0.7649652268254805).abs() < 1e-9 && (hi - 0.9912295032964729).abs() < 1e-9);
        assert_eq!(r.describe_with_interval(), "26/28 (93%; 95% CI 76-99%)");
        let c = Check::new("actmax.band_hit".into(), "band".into(), r, Some(0.9), false);
        assert_eq!(c.status, Status::Pass);
        assert!(c.undecided, "90 % is inside 76-99 %");
        assert!(c.describe().contains("undecided"), "{}", c.describe());
        // 100 of 100 clears 90 % (interval 96.4-100 %); 12 of 28 misses it for sure.
        let c = Check::new("k".into(), "w".into(), Rate::new(100, 100), Some(0.9), false);
        assert!(c.status == Status::Pass && !c.undecided);
        let c = Check::new("k".into(), "w".into(), Rate::new(12, 28), Some(0.9), false);
        assert!(c.status == Status::Fail && !c.undecided && !c.describe().contains("undecided"));
        // 0 claims in 8 nulls passes "at most 5 %", but 8 nulls cannot show it.
        let c = Check::new("k".into(), "w".into(), Rate::new(0, 8), Some(0.05), true);
        assert!(c.status == Status::Pass && c.undecided);
        // No cells: no interval, never undecided, and the JSON of older files still reads.
        assert_eq!(Rate::new(0, 0).ci95, None);
        assert!(!Check::new("k".into(), "w".into(), Rate::new(0, 0), Some(0.9), false).undecided);
        let old: Rate = serde_json::from_str(r#"{"k":1,"n":2,"rate":0.5}"#).expect("an older rate");
        assert_eq!(old.ci95, None);
    }

    #[test]
    fn targets_pass_at_their_bound() {
        let theta = Some("theta");
        let mut cells: Vec<CellResult> =
            (0..10).map(|i| cell(i, 3.0, 1.0, 0.9, true, (theta, i != 0, i > 1))).collect();
        cells.extend(
            (10..30)
                .map(|i| cell(i, 0.0, 0.5, 0.5, false, (if i == 10 { theta } else { None }, false, false))),
        );
        let s = summarise(&cells);
        assert_eq!(check(&s, "actmax.band_hit").status, Status::Pass, "9/10 meets >= 90%");
        assert_eq!(check(&s, "actmax.channels_hit").status, Status::Pass, "8/10 meets >= 80%");
        assert_eq!(check(&s, "actmax.null_claims").status, Status::Pass, "1/20 meets <= 5%");
        assert_eq!(s.null_claims_pooled, Some(Rate::new(3, 60)), "3 methods x 20 nulls");
        assert_eq!(check(&s, "null_claims_pooled").status, Status::Pass, "3/60 meets <= 5%");
        assert_eq!(check(&s, "model.accurate").status, Status::Pass);
        assert!(s.all_pass());
    }

    #[test]
    fn replicates_compare_the_seeds_of_each_cell() {
        let theta = Some("theta");
        let at = |mut c: CellResult, place: &str, seed: u64| {
            c.place = Some(place.into());
            c.seed = seed;
            c
        };
        let mut cells = vec![
            // central: learned in both seeds, theta both times
            at(cell(0, 3.0, 1.0, 0.9, true, (theta, true, true)), "central", 0),
            at(cell(1, 3.0, 1.0, 0.9, true, (theta, true, true)), "central", 1),
            // frontal: learned in both, theta then alpha
            at(cell(2, 3.0, 1.0, 0.9, true, (theta, true, true)), "frontal", 0),
            at(cell(3, 3.0, 1.0, 0.9, true, (Some("alpha"), false, true)), "frontal", 1),
            // temporal: learned in one seed only
            at(cell(4, 3.0, 1.0, 0.9, true, (theta, true, true)), "temporal", 0),
            at(cell(5, 3.0, 1.0, 0.5, false, (None, false, false)), "temporal", 1),
            // parieto-occipital: learned in neither
            at(cell(6, 3.0, 1.0, 0.5, false, (None, false, false)), "po", 0),
            at(cell(7, 3.0, 1.0, 0.5, false, (None, false, false)), "po", 1),
            // nulls are no replicates
            at(cell(8, 0.0, 0.5, 0.5, false, (None, false, false)), "-", 0),
        ];
        // the optimal samples agree on frontal too, on a wrong band
        cells[2].methods.optimal = method(Some("beta"), false, false);
        cells[3].methods.optimal = method(Some("beta"), false, false);
        let r = summarise(&cells).replicates.expect("two seeds");
        assert_eq!((r.seeds, r.cells), (2, 4));
        assert_eq!((r.learned_all, r.learned_some, r.learned_none), (2, 1, 1));
        assert_eq!(r.same_top_band.actmax, Rate::new(1, 2));
        assert_eq!(r.planted_every_seed.actmax, Rate::new(1, 2));
        assert_eq!(r.same_top_band.optimal, Rate::new(2, 2));
        assert_eq!(r.planted_every_seed.optimal, Rate::new(1, 2));
        // one seed: nothing to compare
        assert_eq!(summarise(&cells[..1]).replicates, None);
        assert!(!serde_json::to_string(&summarise(&cells[..1])).expect("json").contains("replicates"));
    }

    #[test]
    fn pooled_null_claims_count_each_method_and_decide_at_72_runs() {
        // 24 silent nulls: 0 of 72 runs, whose interval (0-4.99 %) clears 5 %, where each
        // method alone (0 of 24, 0-14 %) cannot
        let mut cells: Vec<CellResult> =
            (0..24).map(|i| cell(i, 0.0, 0.5, 0.5, false, (None, false, false))).collect();
        let s = summarise(&cells);
        let pooled = check(&s, "null_claims_pooled");
        assert_eq!(pooled.rate, Rate::new(0, 72));
        assert!(pooled.status == Status::Pass && !pooled.undecided, "{}", pooled.describe());
        assert!(check(&s, "optimal.null_claims").undecided);
        // one method's claim in one cell counts once
        cells[3].methods.deconv.top_band = Some("theta".into());
        let s = summarise(&cells);
        assert_eq!(s.null_claims_pooled, Some(Rate::new(1, 72)));
        assert_eq!(s.methods.deconv.null_claims, Rate::new(1, 24));
        assert_eq!(s.methods.optimal.null_claims, Rate::new(0, 24));
        // an older validate.json without the pooled rate still reads
        let mut v = serde_json::to_value(&s).expect("json");
        v.as_object_mut().expect("object").remove("null_claims_pooled");
        let old: Summary = serde_json::from_value(v).expect("an older summary");
        assert_eq!(old.null_claims_pooled, None);
    }

    #[test]
    fn nothing_learned_is_flagged_and_rates_have_no_data() {
        let cells = vec![
            cell(0, 3.0, 1.0, 0.5, false, (None, false, false)),
            cell(1, 3.0, 1.0, 0.55, false, (None, false, false)),
            cell(2, 0.0, 0.5, 0.5, false, (None, false, false)),
        ];
        let s = summarise(&cells);
        assert!(s.nothing_learned);
        assert!(!s.all_pass());
        assert_eq!(check(&s, "optimal.band_hit").status, Status::NoData);
        assert_eq!(s.methods.optimal.band_hit.rate, None);
        assert_eq!(check(&s, "optimal.null_claims").status, Status::Pass);
    }
}

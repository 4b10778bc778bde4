//! What the report says in words: the plain reading of a method, whether the
//! network learned anything, the floor under the discrimination p, the
//! baseline beside the network, and the agreement across seeds.
//!
//! Pure functions from result types to sentences. The sentences are plain
//! text (the page escapes them), so the same words can go to a terminal.

use eeglens_interpret::agreement::{Agreement, MethodAgreement};
use eeglens_interpret::spectral::Discrimination;
use eeglens_interpret::{BandContrast, Reading, Report};
use eeglens_train::chance::{fmt_p, ChanceReport};
use eeglens_train::{BaselineReport, EvalReport, RegressionReport};

use crate::svg::label;

/// The band a method's scalp map shows: its top band, else the largest contrast.
pub fn map_band(reading: &Reading) -> Option<&BandContrast> {
    match &reading.top_band {
        Some(name) => reading.bands.iter().find(|b| &b.name == name),
        None => reading
            .bands
            .iter()
            .filter(|b| b.log_ratio.is_finite())
            .max_by(|a, b| a.log_ratio.abs().total_cmp(&b.log_ratio.abs())),
    }
}

/// The channel with the largest |log ratio| in the band, with that ratio;
/// `None` when the reading has no finite per-channel ratio for it.
fn peak_channel(reading: &Reading, band: &BandContrast) -> Option<(String, f64)> {
    let per = reading.channels.get(&band.name)?;
    per.0
        .iter()
        .filter(|(_, x)| x.is_finite())
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
        .map(|(c, x)| (c.clone(), *x))
}

/// Up to `n` channels where the band's contrast is strongest in its own
/// direction: the direction of its largest per-channel ratio (a focal
/// difference can have the other sign than the channel average).
pub fn strongest_channels(reading: &Reading, band: &BandContrast, n: usize) -> Vec<String> {
    let Some(per) = reading.channels.get(&band.name) else { return Vec::new() };
    let direction = peak_channel(reading, band).map_or(band.log_ratio, |(_, x)| x);
    let sign = if direction >= 0.0 { 1.0 } else { -1.0 };
    let mut v: Vec<(&str, f64)> =
        per.0.iter().filter(|(_, x)| x.is_finite()).map(|(c, x)| (c.as_str(), sign * x)).collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1));
    v.into_iter().take(n).map(|(c, _)| c.to_string()).collect()
}

/// The two class names (the contrast is the second over the first).
fn class_pair(classes: &[String]) -> (&str, &str) {
    (
        classes.first().map(String::as_str).unwrap_or("class 0"),
        classes.get(1).map(String::as_str).unwrap_or("class 1"),
    )
}

fn hz(b: &BandContrast) -> String {
    format!("{}–{} Hz", label(b.lo, 3), label(b.hi, 3))
}

/// The reading in words: which band differs, which way, where, and how sure.
pub fn plain_reading(reading: &Reading, classes: &[String], alpha: f64) -> String {
    let (c0, c1) = class_pair(classes);
    // A regression's groups are the lowest and the highest predictions.
    let difference = if (c0, c1) == ("low", "high") {
        "difference between high and low predictions"
    } else {
        "class difference"
    };
    let Some(b) = reading.top_band.as_ref().and_then(|n| reading.bands.iter().find(|b| &b.name == n)) else {
        return no_significant_band(reading, (c0, c1), alpha);
    };
    // Direction and size at the channel where the band differs most: the
    // channel average can dilute a focal difference, or even flip its sign.
    let Some((peak, r)) = peak_channel(reading, b) else {
        let (more, less) = if b.log_ratio >= 0.0 { (c1, c0) } else { (c0, c1) };
        return format!(
            "The largest {difference} is in {} ({}): {} shows {} times the power of {} (log ratio {:+.2}); p = {}.",
            b.name,
            hz(b),
            more,
            label(b.log_ratio.abs().exp(), 3),
            less,
            b.log_ratio,
            label(b.p, 2)
        );
    };
    let (more, less) = if r >= 0.0 { (c1, c0) } else { (c0, c1) };
    format!(
        "The largest {difference} is in {} ({}): {} shows {} times the power of {} at {} (log ratio {:+.2}), strongest at {} (averaged over channels: {:+.2}); p = {}.",
        b.name,
        hz(b),
        more,
        label(r.abs().exp(), 3),
        less,
        peak,
        r,
        strongest_channels(reading, b, 3).join(", "),
        b.log_ratio,
        label(b.p, 2)
    )
}

/// What a method's reading says in full: the [`plain_reading`], then what
/// the power ratio of a method's patterns describes (activation
/// maximisation and the deconvnet read patterns the network made, not the
/// recorded EEG), whether the band's p sits at its floor, and the bands that
/// are significant too but were not the top band.
pub fn method_reading(
    method: &str,
    reading: &Reading,
    classes: &[String],
    alpha: f64,
    floor: Option<&PFloor>,
) -> String {
    let mut s = plain_reading(reading, classes, alpha);
    let top = reading.top_band.as_ref().and_then(|n| reading.bands.iter().find(|b| &b.name == n));
    let Some(top) = top else { return s };
    // A regression's patterns are made for the high and the low prediction, not for classes.
    let numeric = classes.first().zip(classes.get(1)).is_some_and(|(a, b)| a == "low" && b == "high");
    let what = match (method, numeric) {
        ("actmax", true) => Some(
            "the patterns activation maximisation made for the high and the low prediction (with its default gains, the power factors by which it rescaled real windows, per electrode and band, to raise or lower the output)",
        ),
        ("deconv", true) => Some("the deconvnet's projections of the output back onto the input"),
        _ => patterns_of(method),
    };
    if let Some(what) = what {
        s.push_str(&format!(
            " That ratio is of {what}, not of the recorded EEG: it shows which band the network responds to, not how much the classes' power differs in the data (the class spectra of the test windows show that)."
        ));
    }
    // Optimal samples are a few subjects' windows: say which unit the band test permuted.
    if method == "optimal" {
        s.push_str(if reading.by_subject {
            " The band test permuted the classes of the test subjects, each subject's windows together."
        } else {
            " The band test permuted single windows, as if a subject's windows were independent: its \
             p-values are smaller than a test over subjects would give (`--optimal-permute subjects`)."
        });
    }
    // Well below the floor, p did not come from these units: no floor to name.
    if let Some(f) = floor.filter(|f| f.units > 0 && f.reached_by(top.p) && top.p >= 0.5 * f.floor) {
        s.push_str(&format!(" {}", floor_sentence(f)));
    }
    let also: Vec<String> = reading
        .bands
        .iter()
        .filter(|b| b.name != top.name && b.p.is_finite() && b.p < alpha)
        .map(|b| format!("{} ({}, log ratio {:+.2}, p = {})", b.name, hz(b), b.log_ratio, label(b.p, 2)))
        .collect();
    if !also.is_empty() {
        s.push_str(&format!(
            " Also significant at α = {}, with a smaller contrast than {}: {}.",
            label(alpha, 2),
            top.name,
            also.join("; ")
        ));
    }
    s
}

/// What a method's items are, when they are patterns the network made rather than recorded windows.
pub fn patterns_of(method: &str) -> Option<&'static str> {
    match method {
        "actmax" => Some(
            "the patterns activation maximisation made for each class (with its default gains, the power factors by which it rescaled real windows, per electrode and band, to drive the class output)",
        ),
        "deconv" => Some("the deconvnet's projections of the class outputs back onto the input"),
        _ => None,
    }
}

/// One sentence: a p at the floor `f`, and why it can go no lower.
pub fn floor_sentence(f: &PFloor) -> String {
    if f.set_by_subjects() {
        let k = f.per_class.0.min(f.per_class.1);
        format!(
            "That p is at its floor: {} test subjects ({} and {} per class) allow only C({}, {}) = {} labelings of the classes, so no smaller p is possible whatever the network.",
            f.units,
            f.per_class.0,
            f.per_class.1,
            f.units,
            k,
            label(f.assignments, 6),
        )
    } else {
        format!(
            "That p is at its floor: {} permutations allow no p below 1/{} = {}.",
            f.permutations,
            f.permutations + 1,
            label(f.floor, 2)
        )
    }
}

/// An effect planted in synthetic data: the truth a reading can be checked against.
#[derive(Clone, Debug, PartialEq)]
pub struct Planted {
    /// the band, Hz
    pub band: (f64, f64),
    /// the electrodes that carry it
    pub channels: Vec<String>,
    /// the class that carries it, when recorded
    pub class: Option<String>,
    /// its size (the generator's units), when recorded
    pub size: Option<f64>,
}

/// The planted effect a store's preparation settings record (`planted`:
/// `band`, `channels`, `class`, `size`), when the data are synthetic;
/// `None` for real data or a null set (size 0).
pub fn planted(settings: Option<&serde_json::Value>) -> Option<Planted> {
    let p = settings?.get("planted")?;
    let band = p.get("band")?.as_array()?;
    let band = (band.first()?.as_f64()?, band.get(1)?.as_f64()?);
    let channels =
        p.get("channels")?.as_array()?.iter().filter_map(|c| c.as_str().map(str::to_string)).collect();
    let size = p.get("size").and_then(|v| v.as_f64());
    if size.is_some_and(|s| s == 0.0) {
        return None;
    }
    let class = p.get("class").and_then(|v| v.as_str()).map(str::to_string);
    Some(Planted { band, channels, class, size })
}

/// The planted truth beside a method's reading: what was planted, and
/// whether the reading's top band covers it.
pub fn planted_beside(p: &Planted, reading: &Reading) -> String {
    let band = if p.band.0 == p.band.1 {
        format!("{} Hz", label(p.band.0, 3))
    } else {
        format!("{}–{} Hz", label(p.band.0, 3), label(p.band.1, 3))
    };
    let class = p.class.as_ref().map(|c| format!(" in {c}")).unwrap_or_default();
    let size = p.size.map(|s| format!(", size {}", label(s, 3))).unwrap_or_default();
    let truth = format!("Planted truth (synthetic data): {band}{class} at {}{size}.", p.channels.join(", "));
    let top = reading.top_band.as_ref().and_then(|n| reading.bands.iter().find(|b| &b.name == n));
    let verdict = match top {
        Some(b) if b.lo <= p.band.1 && p.band.0 <= b.hi && overlap(b, p.band) => {
            format!(" The reading's top band, {} ({}), covers it.", b.name, hz(b))
        }
        Some(b) => format!(" The reading's top band, {} ({}), misses it.", b.name, hz(b)),
        None => " The reading names no band.".to_string(),
    };
    truth + &verdict
}

/// Whether `b` holds at least half of `band` (a single frequency: holds it).
fn overlap(b: &BandContrast, band: (f64, f64)) -> bool {
    let width = band.1 - band.0;
    if width <= 0.0 {
        return b.lo <= band.0 && band.0 <= b.hi;
    }
    (b.hi.min(band.1) - b.lo.max(band.0)) >= 0.5 * width
}

fn no_significant_band(reading: &Reading, (c0, c1): (&str, &str), alpha: f64) -> String {
    match reading.bands.iter().filter(|b| b.p.is_finite()).min_by(|a, b| a.p.total_cmp(&b.p)) {
        Some(b) => format!(
            "No band differs significantly between {c0} and {c1} at α = {}: the smallest p is {} ({}, {}, log ratio {:+.2}).",
            label(alpha, 2),
            label(b.p, 2),
            b.name,
            hz(b),
            b.log_ratio
        ),
        None => "No band contrast was computed.".into(),
    }
}

/// Whether the network learned anything on the split it was tested (and read) on.
#[derive(Clone, Debug, PartialEq)]
pub struct ChanceVerdict {
    /// above chance by every test the run holds
    pub learned: bool,
    /// the split tested
    pub split: String,
    /// the tests, one sentence each
    pub tests: Vec<String>,
    /// the test subjects are too few for any model to be shown above chance
    pub too_few: bool,
    /// of a regression (the predictions against the target), not of classes
    pub numeric: bool,
}

/// The verdict of the test evaluation's chance tests and of the
/// interpretation's own check; `None` when the run holds neither.
pub fn chance_verdict(eval: Option<&EvalReport>, interp: Option<&Report>) -> Option<ChanceVerdict> {
    if interp.is_some_and(|r| r.model.regression.is_some()) {
        return regression_verdict(None, interp);
    }
    let chance = eval.and_then(|e| e.chance.as_ref());
    let disc = interp.map(|r| (r.split.as_str(), &r.model.discrimination));
    if chance.is_none() && disc.is_none() {
        return None;
    }
    let mut tests = chance.map(chance_tests).unwrap_or_default();
    if let Some((split, d)) = disc {
        // The interpretation's check adds something when it is all there is,
        // or when it was made on another split or came to another verdict.
        let adds = chance.is_none_or(|c| c.split != split || c.learned != d.learned);
        if adds {
            tests.push(discrimination_test(split, d));
        }
    }
    let too_few = chance.and_then(|c| c.subject_test.as_ref()).is_some_and(|t| t.too_few())
        || disc.is_some_and(|(_, d)| d.p_subjects_floor >= eeglens_train::chance::ALPHA);
    Some(ChanceVerdict {
        too_few,
        learned: chance.is_none_or(|c| c.learned) && disc.is_none_or(|(_, d)| d.learned),
        split: chance
            .map(|c| c.split.clone())
            .or_else(|| disc.map(|(s, _)| s.to_string()))
            .unwrap_or_default(),
        tests,
        numeric: false,
    })
}

/// The verdict of a regression: the test evaluation's t-test of the
/// subjects' r and the interpretation's permutation test of it; `None` when
/// the run holds neither.
pub fn regression_verdict(eval: Option<&RegressionReport>, interp: Option<&Report>) -> Option<ChanceVerdict> {
    let reg = interp.and_then(|r| Some((r, r.model.regression.as_ref()?)));
    if eval.is_none() && reg.is_none() {
        return None;
    }
    let mut tests = Vec::new();
    if let Some(e) = eval {
        let s = &e.significance;
        tests.push(format!(
            "Subjects: Pearson r = {} between the {} {} subjects' mean predicted {} and their {}; one-sided t-test {} ({}).",
            label(s.r, 3),
            s.n_subjects,
            e.split,
            e.target.column,
            e.target.column,
            s.p.map_or_else(|| "not possible (too few subjects)".into(), p_is),
            if s.learned { "above chance" } else { "not above chance" }
        ));
    }
    if let Some((r, g)) = reg {
        let adds = eval.is_none_or(|e| e.split != r.model.split || e.significance.learned != g.learned);
        if adds {
            tests.push(format!(
                "Interpretation, {} split: r = {} over {} subjects, one-sided permutation {} (the values permuted over the subjects); {}.",
                r.model.split,
                label(g.r, 3),
                g.n_subjects,
                p_is(g.p),
                if g.learned { "above chance" } else { "not above chance" }
            ));
        }
    }
    Some(ChanceVerdict {
        learned: eval.is_none_or(|e| e.significance.learned) && reg.is_none_or(|(_, g)| g.learned),
        split: eval
            .map(|e| e.split.clone())
            .or_else(|| reg.map(|(r, _)| r.model.split.clone()))
            .unwrap_or_default(),
        tests,
        numeric: true,
        too_few: false,
    })
}

/// `p = 0.032`, or `p < 1e-6` for the smallest values.
pub fn p_is(p: f64) -> String {
    let s = fmt_p(p);
    if s.starts_with('<') {
        format!("p {s}")
    } else {
        format!("p = {s}")
    }
}

fn chance_tests(c: &ChanceReport) -> Vec<String> {
    let mut tests = Vec::new();
    if let Some(t) = &c.subject_test {
        let floor = if t.too_few() {
            format!(
                " With {} subjects the smallest possible p is {}: too few for any model to be shown above chance.",
                t.n,
                label(t.floor, 3)
            )
        } else if t.p <= t.floor + 1e-12 {
            format!(" This is the smallest p {} subjects allow.", t.n)
        } else {
            String::new()
        };
        tests.push(format!(
            "Decisive test, with the subject as the unit: the windows right against every relabeling of the {} subjects' classes{}; {}.{floor}",
            t.n,
            if t.exact { "" } else { " (9,999 random relabelings)" },
            p_is(t.p)
        ));
    }
    tests.push(format!(
        "Windows: {} of {} right, against a chance of {} (the largest class's share); one-sided binomial {}{}.",
        c.window.correct,
        c.window.n,
        label(c.window.chance, 3),
        p_is(c.window.p),
        if c.subject_test.is_some() {
            " (it counts a subject's windows as independent, so it is too small and does not decide)"
        } else {
            ""
        }
    ));
    tests.push(format!(
        "Subjects: {} of {} right, against a chance of {}; {}.",
        c.subject.correct,
        c.subject.n,
        label(c.subject.chance, 3),
        p_is(c.subject.p)
    ));
    tests
}

fn discrimination_test(split: &str, d: &Discrimination) -> String {
    let right = (d.accuracy * d.n_windows as f64).round() as usize;
    let units = (d.subject_accuracy * d.n_subjects as f64).round() as usize;
    format!(
        "Interpretation, {split} split: {right} of {} windows right, {units} of {} subject-class pairs right; subject permutation {} (window binomial {}); {}.",
        d.n_windows,
        d.n_subjects,
        p_is(d.p_subjects),
        p_is(d.p_binomial),
        if d.learned { "above chance" } else { "not above chance" }
    )
}

/// The heading and the conclusion of the box shown when the network learned
/// nothing; `seed` names the seed run when the page is of several.
pub fn nothing_learned(v: &ChanceVerdict, read_anyway: bool, seed: Option<u64>) -> (String, String) {
    let model = seed.map_or("The model".to_string(), |s| format!("The model of seed {s}"));
    if v.too_few {
        let heading = format!("{model} cannot be shown to have learned anything on the {} split.", v.split);
        let conclusion = format!(
            "The {} split holds too few subjects: even a network right on every one of them could not reach \
             p < 0.05 in the subject-level test, so no reading of it is possible{}. Test on more subjects \
             (a larger split, or `train --folds K`, whose pooled test counts every subject).",
            v.split,
            if read_anyway {
                "; the interpretation methods were run anyway and their readings say nothing"
            } else {
                ""
            }
        );
        return (heading, conclusion);
    }
    let heading = format!("{model} learned nothing on the {} split.", v.split);
    let what = if v.numeric {
        "Its predictions do not follow the target better than chance"
    } else {
        "Its accuracy is not above chance"
    };
    let conclusion = if read_anyway {
        "so no reading of it is possible. The interpretation methods were run anyway: their readings \
         below describe a network that separates nothing and say nothing about the data."
    } else {
        "so no reading of it is possible: there is nothing learned to read, and the interpretation \
         methods were not run."
    };
    (heading, format!("{what}, {conclusion}"))
}

/// What a method section says instead of its figures when the network is at chance.
pub const NOT_READ: &str = "Not read: the model is at chance.";

/// The smallest p-value the network's discrimination test can give: it
/// permutes the classes of the test subjects, so it cannot go below one over
/// the number of ways to assign them, nor below one over the permutations drawn.
#[derive(Clone, Debug, PartialEq)]
pub struct PFloor {
    /// test subjects (strictly, subject-class pairs)
    pub units: usize,
    /// how many of them are in each class
    pub per_class: (usize, usize),
    /// the ways to assign the classes to the units, `C(units, per_class.0)`
    pub assignments: f64,
    /// permutations drawn
    pub permutations: usize,
    /// `max(1 / assignments, 1 / (permutations + 1))`
    pub floor: f64,
    /// the p a network that separates the units perfectly gets on average:
    /// `(1 + permutations / assignments) / (permutations + 1)`
    pub expected: f64,
}

impl PFloor {
    /// The floor for `units` split as `per_class` (an even split when `None`).
    pub fn new(units: usize, per_class: Option<(usize, usize)>, permutations: usize) -> Self {
        let per_class = per_class.filter(|(a, b)| a + b == units).unwrap_or((units / 2, units - units / 2));
        let k = per_class.0.min(per_class.1);
        let assignments: f64 = (1..=k).map(|i| (units - k + i) as f64 / i as f64).product();
        let b = permutations as f64;
        Self {
            units,
            per_class,
            assignments,
            permutations,
            floor: (1.0 / assignments).max(1.0 / (b + 1.0)),
            expected: (1.0 + b / assignments) / (b + 1.0),
        }
    }

    /// Whether `p` is at (or within the permutation noise of) the floor.
    pub fn reached_by(&self, p: f64) -> bool {
        p <= 1.5 * self.expected
    }

    /// Whether the assignments, rather than the permutations drawn, set the floor.
    pub fn set_by_subjects(&self) -> bool {
        1.0 / self.assignments >= 1.0 / (self.permutations as f64 + 1.0)
    }
}

/// How many test units of each class the discrimination permuted: from the
/// test evaluation's per-subject confusion when it covers the same units.
pub fn units_per_class(eval: Option<&EvalReport>, r: &Report) -> Option<(usize, usize)> {
    let e = eval.filter(|e| e.split == r.split && e.subject_confusion.len() == 2)?;
    let row = |i: usize| e.subject_confusion[i].iter().sum::<u64>() as usize;
    Some((row(0), row(1))).filter(|(a, b)| a + b == r.model.discrimination.n_subjects)
}

/// The note on the floor of the discrimination p: `p at its floor` when the
/// network's p is there, and a warning whenever the floor leaves no band a
/// chance of significance at `alpha`; `None` when there is nothing to say.
pub fn floor_note(d: &Discrimination, f: &PFloor, alpha: f64) -> Option<String> {
    let blocks = f.floor >= alpha;
    if f.units == 0 || !(f.reached_by(d.p) || blocks) {
        return None;
    }
    let why = if f.set_by_subjects() {
        format!(
            "with {} test subjects ({} and {} per class) only {} assignments of the classes exist, so p cannot go below about 1/{} = {}",
            f.units,
            f.per_class.0,
            f.per_class.1,
            label(f.assignments, 6),
            label(f.assignments, 6),
            label(f.floor, 2)
        )
    } else {
        format!(
            "with {} permutations p cannot go below 1/{} = {} (more permutations would let it go lower)",
            f.permutations,
            f.permutations + 1,
            label(f.floor, 2)
        )
    };
    let mut s = if f.reached_by(d.p) {
        format!(
            "p at its floor: the network's discrimination p = {} is the smallest this test can give: {why}. \
             The band p-values are floored by the network's p and cannot go below it either.",
            label(d.p, 2)
        )
    } else {
        format!("The network's discrimination p = {} has a floor: {why}.", label(d.p, 2))
    };
    if blocks {
        s.push_str(&format!(
            " At α = {} no band can be called significant: the test needs more subjects.",
            label(alpha, 2)
        ));
    }
    Some(s)
}

/// The baseline beside the network: who decodes the classes on the test split.
/// `network` is whether the network learned (`None`: not known).
pub fn baseline_verdict(b: &BaselineReport, network: Option<bool>) -> String {
    let base = b.chance.learned;
    match (base, network) {
        (true, Some(false)) => {
            "The effect is decodable from band power but the network did not learn it: the band-power \
             baseline is above chance on the test split, the network is not."
                .into()
        }
        (true, Some(true)) => "Both the network and the band-power baseline are above chance on the test split.".into(),
        (false, Some(true)) => "The network is above chance on the test split and the band-power baseline is not: \
             the network may use more than band power (waveform, timing, phase), which a band reading does not show."
            .into(),
        (false, Some(false)) => "Neither the network nor the band-power baseline is above chance on the test split: \
             there may be no class difference to find at this data size."
            .into(),
        (true, None) => "The band-power baseline is above chance on the test split.".into(),
        (false, None) => "The band-power baseline is not above chance on the test split.".into(),
    }
}

/// Where the baseline looks: its top band, the direction there and its channels.
pub fn baseline_where(b: &BaselineReport, classes: &[String]) -> String {
    let (c0, c1) = class_pair(classes);
    let top: Vec<&str> = b.top_channels.iter().take(5).map(String::as_str).collect();
    let band = b.bands.iter().position(|n| n == &b.top_band);
    let d = band.and_then(|i| {
        let ch = b.channels.iter().position(|c| Some(c.as_str()) == top.first().copied())?;
        b.effect.get(i)?.get(ch).copied()
    });
    let direction = match d {
        Some(d) if d.is_finite() => {
            let more = if d >= 0.0 { c1 } else { c0 };
            format!(" {more} has more {} power there (Cohen's d {:+.2} at {}).", b.top_band, d, top[0])
        }
        _ => String::new(),
    };
    format!(
        "The baseline's largest class difference in log band power (Cohen's d on the training windows, summed over channels) is in {}, strongest at {}.{direction}",
        b.top_band,
        top.join(", ")
    )
}

/// The seeds in one sentence, and which seed the rest of the page shows.
pub fn seeds_summary(a: &Agreement, shown: u64) -> String {
    let learned = a.learned.iter().filter(|&&l| l).count();
    let seeds: Vec<String> = a.seeds.iter().map(u64::to_string).collect();
    let shown_learned =
        a.seeds.iter().position(|&s| s == shown).and_then(|i| a.learned.get(i)).copied().unwrap_or(false);
    let why = if shown_learned {
        "the first seed whose network learned"
    } else if learned == 0 {
        "no seed's network learned: the first seed"
    } else {
        "the first seed found"
    };
    format!(
        "{} seeds ({}): the network learned in {learned} of them. A band is the seeds' top band only when a strict majority of all seeds names it (a seed whose network learned nothing names none). The rest of this page is the report of seed {shown} ({why}).",
        a.seeds.len(),
        seeds.join(", ")
    )
}

/// One method's agreement in one sentence.
pub fn method_agreement(m: &MethodAgreement) -> String {
    let named = |f: f64| (f * m.n_seeds as f64).round() as usize;
    let shares: Vec<String> = m
        .band_fraction
        .0
        .iter()
        .filter(|(_, f)| *f > 0.0)
        .map(|(b, f)| format!("{b} {} of {}", named(*f), m.n_seeds))
        .collect();
    match &m.top_band {
        Some(b) => format!(
            "Top band by a majority: {b}, named by {} of {} seeds ({}).",
            named(m.band_fraction.get(b).copied().unwrap_or(0.0)),
            m.n_seeds,
            shares.join(", ")
        ),
        None => format!("No majority: the seeds name {}.", shares.join(", ")),
    }
}

/// The band whose per-channel contrast the agreement figure shows, and why:
/// the majority band, else the band most seeds name, else the band with the
/// largest mean contrast.
pub fn agreement_band(m: &MethodAgreement) -> Option<(String, &'static str)> {
    if let Some(b) = &m.top_band {
        return Some((b.clone(), "the majority band"));
    }
    let named = m
        .band_fraction
        .0
        .iter()
        .filter(|(b, f)| b != "none" && *f > 0.0 && m.channel_mean.get(b).is_some())
        .max_by(|a, b| a.1.total_cmp(&b.1));
    if let Some((b, _)) = named {
        return Some((b.clone(), "the band most seeds name (no majority)"));
    }
    let mean = |row: &eeglens_interpret::Ordered<f64>| {
        let v: Vec<f64> = row.0.iter().map(|(_, x)| *x).filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            f64::NEG_INFINITY
        } else {
            v.iter().sum::<f64>() / v.len() as f64
        }
    };
    m.channel_mean
        .0
        .iter()
        .max_by(|a, b| mean(&a.1).total_cmp(&mean(&b.1)))
        .map(|(b, _)| (b.clone(), "the band with the largest mean contrast (no seed names a band)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn p_values_read_as_sentences() {
        assert_eq!(p_is(0.0321), "p = 0.032");
        assert_eq!(p_is(1e-9), "p < 1e-6");
    }

    #[test]
    fn the_box_names_the_seed_when_there_are_several() {
        let mut v = ChanceVerdict {
            learned: false,
            split: "test".into(),
            tests: vec![],
            too_few: false,
            numeric: false,
        };
        assert_eq!(nothing_learned(&v, false, None).0, "The model learned nothing on the test split.");
        v.too_few = true;
        let (heading, conclusion) = nothing_learned(&v, false, None);
        assert!(
            heading.contains("cannot be shown") && conclusion.contains("too few subjects"),
            "{heading} {conclusion}"
        );
        v.too_few = false;
        assert_eq!(
            nothing_learned(&v, false, Some(3)).0,
            "The model of seed 3 learned nothing on the test split."
        );
        assert!(nothing_learned(&v, true, None).1.contains("run anyway"));
    }

    #[test]
    fn a_regression_is_judged_by_its_subjects_r_and_worded_so() {
        let mut r: Report = serde_json::from_value(serde_json::json!({
            "classes": ["low", "high"], "channels": ["A"], "fs": 128.0, "split": "test", "alpha": 0.05,
            "permutations": 199,
            "model": {"name": "shallow", "n_windows": 40, "n_subjects": 12, "accuracy": 0.0, "statistic": 0.1, "p": 0.4,
                      "learned": false,
                      "regression": {"test": "t", "n_windows": 40, "n_subjects": 12, "r": 0.1, "p": 0.4,
                                     "window_r": 0.05, "alpha": 0.05, "learned": false}},
            "methods": {}
        }))
        .expect("a regression's interpret.json");
        let v = chance_verdict(None, Some(&r)).expect("a verdict");
        assert!(v.numeric && !v.learned, "{v:?}");
        assert!(v.tests[0].contains("r = 0.1 over 12 subjects"), "{:?}", v.tests);
        assert!(nothing_learned(&v, false, None).1.starts_with("Its predictions do not follow the target"));
        // Learned by the permutation test: above chance.
        let g = r.model.regression.as_mut().expect("regression");
        (g.learned, g.p, g.r) = (true, 0.005, 0.8);
        assert!(chance_verdict(None, Some(&r)).is_some_and(|v| v.learned));
        // The reading's words name high and low predictions, not classes.
        let reading: Reading = serde_json::from_value(serde_json::json!({
            "freqs": [1.0], "psd": {"low": [1.0], "high": [1.0]},
            "bands": [{"name": "alpha", "lo": 8.0, "hi": 13.0, "log_ratio": 0.5, "contrast": 0.5, "p": 0.01, "p_contrast": 0.01}],
            "channels": {"alpha": {"O1": 0.5}}, "top_band": "alpha", "n": {"low": 5, "high": 5}
        }))
        .expect("a reading");
        let words = plain_reading(&reading, &r.classes, 0.05);
        assert!(
            words.starts_with("The largest difference between high and low predictions is in alpha"),
            "{words}"
        );
        assert!(words.contains("high shows"), "{words}");
    }

    #[test]
    fn the_floor_of_eight_subjects_is_one_in_seventy() {
        let f = PFloor::new(8, None, 999);
        assert_relative_eq!(f.assignments, 70.0, max_relative = 1e-12);
        assert_relative_eq!(f.floor, 1.0 / 70.0, max_relative = 1e-12);
        assert!(f.set_by_subjects());
        assert!(f.reached_by(0.015) && f.reached_by(0.012) && !f.reached_by(0.04));
        // Unequal classes: fewer assignments, a higher floor.
        let f = PFloor::new(8, Some((2, 6)), 999);
        assert_relative_eq!(f.assignments, 28.0, max_relative = 1e-12);
        // Many subjects: the permutations drawn set the floor.
        let f = PFloor::new(20, None, 199);
        assert!(!f.set_by_subjects());
        assert_relative_eq!(f.floor, 1.0 / 200.0, max_relative = 1e-12);
    }
}

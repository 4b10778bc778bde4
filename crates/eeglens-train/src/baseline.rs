//! The classical baseline: log band power per channel and band, and an
//! L2-penalised logistic regression fitted on the training windows with its
//! penalty chosen on the validation windows. It takes seconds and answers
//! two questions a network cannot: *is the class difference decodable from
//! band power at all*, and *where does the simplest model look*.
//!
//! # Features
//! Each window's channels get a Welch PSD (Hann, 1-s segments, 50 %
//! overlap; the whole window when shorter), integrated over
//! [`baseline_bands`]; the feature is `ln(power)`. Features are
//! standardised with the training windows' mean and SD.
//!
//! # Model
//! Two classes: one logistic regression, `min_w sum_i CE_i + |w|² / (2C)`
//! (the intercept is not penalised, as in scikit-learn's `LogisticRegression`),
//! fitted by Newton's method with step halving. More classes: one such model
//! per class against the rest, probabilities normalised to sum 1. `C` is
//! chosen from [`C_GRID`] by the validation windows' mean cross-entropy.
//!
//! # What it reports
//! An [`EvalReport`] on validation and test (per window and per subject,
//! as the network's), the chance tests on test, the coefficients per class,
//! band and channel (standardised units), and each band and channel's class
//! difference (Cohen's d of the log power, subjects as the unit, over the
//! training and validation subjects); the band whose three largest |d| are
//! largest is the baseline's [`BaselineReport::top_band`].

use eeglens_data::store::{EpochStore, Split};
use eeglens_dsp::{integrate_band, Band, Psd, Welch, WelchConfig};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::chance::ChanceReport;
use crate::error::TrainError;
use crate::eval::{report_from_probs, EvalReport};

/// The format tag of `baseline.json`. Version 2 keeps the test split's
/// window indices and class probabilities (`test.windows`,
/// `test.probabilities`, as in `eval-test.json`), so that a report can draw
/// the baseline's ROC per window; version 1 files lack them and read the same.
pub const BASELINE_FORMAT: &str = "eeglens-baseline/2";

/// Penalty strengths tried, from strong to weak.
pub const C_GRID: [f64; 7] = [1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0];

/// The baseline's bands: delta 1–4, theta 4–8, alpha 8–13, low beta 13–20,
/// high beta 20–30 Hz (cut at Nyquist for low rates; bands above it dropped).
pub fn baseline_bands(fs: f64) -> Vec<Band> {
    let nyq = fs / 2.0;
    [
        ("delta", 1.0, 4.0),
        ("theta", 4.0, 8.0),
        ("alpha", 8.0, 13.0),
        ("low beta", 13.0, 20.0),
        ("high beta", 20.0, 30.0),
    ]
    .into_iter()
    .filter(|&(_, lo, _)| lo < nyq)
    .map(|(name, lo, hi)| Band { name: name.into(), lo, hi: f64::min(hi, nyq) })
    .collect()
}

/// The baseline fitted to one store.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BaselineReport {
    /// [`BASELINE_FORMAT`]
    pub format: String,
    /// the epoch store
    pub data: std::path::PathBuf,
    /// band names, in feature order
    pub bands: Vec<String>,
    /// band edges in Hz, `[lo, hi]` per band
    pub band_edges: Vec<[f64; 2]>,
    /// channel names, in feature order
    pub channels: Vec<String>,
    /// the penalty chosen on validation
    pub c: f64,
    /// validation cross-entropy for every C of [`C_GRID`]
    pub c_path: Vec<[f64; 2]>,
    /// the fitted model on the validation windows
    pub val: EvalReport,
    /// the fitted model on the test windows
    pub test: EvalReport,
    /// the chance tests on the test windows
    pub chance: ChanceReport,
    /// coefficients `[models][bands][channels]` on standardised log band
    /// power (one model for two classes, positive favours the second class;
    /// else one per class)
    pub coefficients: Vec<Vec<Vec<f64>>>,
    /// Cohen's d of the log band power between the second and the first
    /// class, with subjects as the unit (each subject's mean over its
    /// windows; training and validation subjects), `[bands][channels]`
    pub effect: Vec<Vec<f64>>,
    /// the band whose three largest |d| have the largest mean (meaningful
    /// only when the baseline decodes: see `chance`)
    pub top_band: String,
    /// channels ordered by their |d| in the top band, largest first
    pub top_channels: Vec<String>,
}

impl BaselineReport {
    /// The report without per-window probabilities (what `eeglens baseline --json` prints).
    pub fn without_windows(&self) -> Self {
        Self { val: self.val.without_windows(), test: self.test.without_windows(), ..self.clone() }
    }

    /// What a run directory's `baseline.json` holds: the test split's window
    /// probabilities, not the validation split's (the ROC per window is drawn
    /// on test only).
    pub fn for_run(&self) -> Self {
        Self { val: self.val.without_windows(), ..self.clone() }
    }

    /// Two lines for the terminal.
    pub fn describe(&self) -> String {
        format!(
            "baseline (band power + logistic regression, C = {}): test {:.3} per window, {:.3} per subject over {} subjects\n\
             baseline: {}",
            self.c,
            self.test.accuracy,
            self.test.subject_accuracy,
            self.test.n_subjects,
            self.where_text()
        )
    }

    /// Where the class difference is, or why there is nothing to locate.
    pub fn where_text(&self) -> String {
        if !self.chance.learned {
            return "at chance on test: no class difference in band power to locate".into();
        }
        format!(
            "strongest class difference in {} at {}",
            self.top_band,
            self.top_channels.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
        )
    }
}

/// Fits and evaluates the baseline on `store`'s train, validation and test windows.
///
/// # Errors
/// [`TrainError::EmptySplit`] when a split holds no window;
/// [`TrainError::Config`] when the windows are too short for a band or hold
/// non-finite samples.
pub fn baseline(store: &EpochStore) -> Result<BaselineReport, TrainError> {
    // Its classes are the strata of the split, not what a regression learns.
    if let Some(t) = store.target() {
        return Err(TrainError::Config {
            field: "data",
            msg: format!(
                "{}: holds the numeric target `{}`; the band-power baseline classifies and has no regression yet",
                store.path().display(),
                t.column
            ),
        });
    }
    let fs = store.meta().fs;
    let bands = baseline_bands(fs);
    let c_n = store.n_channels();
    let k = store.meta().classes.len().max(2);
    let split_idx = |s: Split| {
        let idx = store.indices(s);
        if idx.is_empty() {
            Err(TrainError::EmptySplit { data: store.path().to_path_buf(), split: s.name() })
        } else {
            Ok(idx)
        }
    };
    let (tr, va, te) = (split_idx(Split::Train)?, split_idx(Split::Val)?, split_idx(Split::Test)?);
    let feats = |idx: &[usize]| features(store, idx, &bands, fs);
    let (mut x_tr, mut x_va, mut x_te) = (feats(&tr)?, feats(&va)?, feats(&te)?);
    let p = bands.len() * c_n;
    let (mean, sd) = standardiser(&x_tr, p);
    for x in [&mut x_tr, &mut x_va, &mut x_te] {
        standardise(x, &mean, &sd);
    }
    let y = |idx: &[usize]| idx.iter().map(|&i| store.labels()[i] as usize).collect::<Vec<_>>();
    let (y_tr, y_va) = (y(&tr), y(&va));

    let (c, c_path, model) = choose_c(&x_tr, &y_tr, &x_va, &y_va, p, k);
    let eval = |split: Split, idx: Vec<usize>, x: &[f64]| {
        let probs = model.probs(x);
        let labels = y(&idx);
        let loss = mean_cross_entropy(&probs, &labels, k);
        let probs32: Vec<f32> = probs.iter().map(|&v| v as f32).collect();
        report_from_probs(store, split, idx, &probs32, k, loss, "baseline")
    };
    let val = eval(Split::Val, va, &x_va);
    let test = eval(Split::Test, te, &x_te);
    let chance = ChanceReport::of(&test);

    // Where: subjects, not windows, are the unit (windows of one subject
    // share its idiosyncrasies, which per-window statistics mistake for a
    // class difference); every subject the model was not tested on counts.
    let subj = |idx: &[usize]| idx.iter().map(|&i| store.subjects()[i]).collect::<Vec<_>>();
    let (mut x_fit, mut y_fit, mut s_fit) = (x_tr.clone(), y_tr.clone(), subj(&tr));
    x_fit.extend_from_slice(&x_va);
    y_fit.extend_from_slice(&y_va);
    s_fit.extend(subj(&val.windows));
    let (x_subj, y_subj) = subject_means(&x_fit, &y_fit, &s_fit, p);
    let effect = cohens_d(&x_subj, &y_subj, p, bands.len(), c_n);
    let top_b = top_band(&effect, TOP_CHANNELS.min(c_n).max(1));
    let mut order: Vec<usize> = (0..c_n).collect();
    order.sort_by(|&a, &b| effect[top_b][b].abs().total_cmp(&effect[top_b][a].abs()));
    let channels = store.meta().channels.clone();
    Ok(BaselineReport {
        format: BASELINE_FORMAT.into(),
        data: store.path().to_path_buf(),
        bands: bands.iter().map(|b| b.name.clone()).collect(),
        band_edges: bands.iter().map(|b| [b.lo, b.hi]).collect(),
        c,
        c_path,
        val,
        test,
        chance,
        coefficients: model
            .w
            .iter()
            .map(|w| (0..bands.len()).map(|b| (0..c_n).map(|ch| w[b * c_n + ch]).collect()).collect())
            .collect(),
        effect,
        top_band: bands[top_b].name.clone(),
        top_channels: order
            .iter()
            .map(|&i| channels.get(i).cloned().unwrap_or_else(|| format!("#{i}")))
            .collect(),
        channels,
    })
}

/// The baselines of the folds of a cross-validation (each fitted on its fold's training subjects,
/// [`crate::folds`]) as one report over every subject, out of fold: `test` pools the folds' test
/// windows (each subject tested once, by the fold that did not fit it) and `chance` is its chance
/// verdict; `coefficients` and `effect` are the folds' means, element by element, and `top_band`
/// and `top_channels` are read from that mean effect; `c` is the folds' geometric mean; `val` and
/// `c_path` are the first fold's (validation subjects recur across folds, so they are not pooled).
/// `store` is the folds' epoch store, whatever its split.
///
/// # Errors
/// [`TrainError::Config`] when there is no fold, or the folds differ in bands, channels or
/// shape, or test a window twice.
pub fn pool_folds(folds: &[BaselineReport], store: &EpochStore) -> Result<BaselineReport, TrainError> {
    let bad = |msg: String| TrainError::Config { field: "baseline", msg };
    let first = folds.first().ok_or_else(|| bad("no fold's baseline to pool".into()))?;
    let k = first.test.classes.len().max(2);
    let (mut windows, mut probs, mut loss) = (Vec::new(), Vec::new(), 0.0);
    let mut seen = std::collections::BTreeSet::new();
    for (f, b) in folds.iter().enumerate() {
        let same_shape = |a: &[Vec<Vec<f64>>], b: &[Vec<Vec<f64>>]| {
            a.len() == b.len()
                && a.iter()
                    .zip(b)
                    .all(|(x, y)| x.len() == y.len() && x.iter().zip(y).all(|(u, v)| u.len() == v.len()))
        };
        if b.bands != first.bands
            || b.channels != first.channels
            || !same_shape(&b.coefficients, &first.coefficients)
            || b.effect.len() != first.effect.len()
        {
            return Err(bad(format!(
                "fold {f}'s baseline has other bands, channels or classes than fold 0's"
            )));
        }
        if b.test.windows.len() != b.test.n_windows || b.test.probabilities.len() != b.test.n_windows {
            return Err(bad(format!(
                "fold {f}'s baseline keeps no test-window probabilities (written before `{BASELINE_FORMAT}`): train the fold again"
            )));
        }
        for &w in &b.test.windows {
            if !seen.insert(w) {
                return Err(bad(format!("window {w} is tested by two folds' baselines")));
            }
        }
        loss += b.test.loss * b.test.n_windows as f64;
        windows.extend_from_slice(&b.test.windows);
        probs.extend(b.test.probabilities.iter().flatten().copied());
    }
    let n = folds.len() as f64;
    let loss = loss / windows.len().max(1) as f64;
    let test = report_from_probs(store, Split::Test, windows, &probs, k, loss, "baseline");
    let chance = ChanceReport::of(&test);
    let mut coefficients = first.coefficients.clone();
    for (m, model) in coefficients.iter_mut().enumerate() {
        for (b, row) in model.iter_mut().enumerate() {
            for (ch, v) in row.iter_mut().enumerate() {
                *v = folds.iter().map(|f| f.coefficients[m][b][ch]).sum::<f64>() / n;
            }
        }
    }
    let mut effect = first.effect.clone();
    for (b, row) in effect.iter_mut().enumerate() {
        for (ch, v) in row.iter_mut().enumerate() {
            *v = folds.iter().map(|f| f.effect[b].get(ch).copied().unwrap_or(0.0)).sum::<f64>() / n;
        }
    }
    let c_n = first.channels.len();
    let top_b = top_band(&effect, TOP_CHANNELS.min(c_n).max(1));
    let mut order: Vec<usize> = (0..c_n).collect();
    order.sort_by(|&a, &b| effect[top_b][b].abs().total_cmp(&effect[top_b][a].abs()));
    Ok(BaselineReport {
        c: (folds.iter().map(|f| f.c.ln()).sum::<f64>() / n).exp(),
        test,
        chance,
        coefficients,
        top_band: first.bands[top_b].clone(),
        top_channels: order.iter().map(|&i| first.channels[i].clone()).collect(),
        effect,
        ..first.clone()
    })
}

/// The regularisation `C` of [`C_GRID`] with the smallest validation loss (the first of equals),
/// every `[C, loss]` tried, and the model fitted with it.
fn choose_c(
    x_tr: &[f64],
    y_tr: &[usize],
    x_va: &[f64],
    y_va: &[usize],
    p: usize,
    k: usize,
) -> (f64, Vec<[f64; 2]>, Model) {
    let mut c_path = Vec::new();
    let mut best: Option<(f64, f64, Model)> = None;
    for &c in &C_GRID {
        let model = Model::fit(x_tr, y_tr, p, k, c);
        let loss = mean_cross_entropy(&model.probs(x_va), y_va, k);
        c_path.push([c, loss]);
        if best.as_ref().is_none_or(|b| loss < b.1 - 1e-12) {
            best = Some((c, loss, model));
        }
    }
    let (c, _, model) = best.expect("C_GRID is not empty");
    (c, c_path, model)
}

/// The band whose `top_k` largest |Cohen's d| over channels have the largest mean.
fn top_band(effect: &[Vec<f64>], top_k: usize) -> usize {
    let (top_b, _) = effect
        .iter()
        .enumerate()
        .map(|(b, row)| {
            let mut a: Vec<f64> = row.iter().map(|d| d.abs()).collect();
            a.sort_by(|x, y| y.total_cmp(x));
            (b, a[..top_k].iter().sum::<f64>() / top_k as f64)
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .expect("at least one band");
    top_b
}

/// Log band power `[idx.len(), bands * channels]` (band-major within a row).
fn features(store: &EpochStore, idx: &[usize], bands: &[Band], fs: f64) -> Result<Vec<f64>, TrainError> {
    let (c_n, t_n) = (store.n_channels(), store.n_samples());
    let nperseg = ((fs.round() as usize).max(8)).min(t_n);
    let welch = Welch::new(fs, WelchConfig { nperseg, noverlap: None, nfft: None })
        .map_err(|e| TrainError::Config { field: "baseline", msg: format!("Welch PSD at {fs} Hz: {e}") })?;
    let freqs = welch.freqs();
    let p = bands.len() * c_n;
    let rows: Vec<Result<Vec<f64>, TrainError>> = idx
        .par_iter()
        .map(|&i| {
            let mut win = vec![0.0f32; c_n * t_n];
            store.copy_window(i, &mut win);
            let mut row = vec![0.0; p];
            let mut psd = Psd { freqs: freqs.clone(), density: vec![0.0; freqs.len()] };
            for ch in 0..c_n {
                welch.psd_into(&win[ch * t_n..(ch + 1) * t_n], &mut psd.density).map_err(|e| {
                    TrainError::Config {
                        field: "baseline",
                        msg: format!("{}: window {i} channel {ch}: {e}", store.path().display()),
                    }
                })?;
                for (b, band) in bands.iter().enumerate() {
                    let hi = band.hi.min(*freqs.last().expect("bins"));
                    let power = integrate_band(&psd, band.lo, hi).map_err(|e| TrainError::Config {
                        field: "baseline",
                        msg: format!("band {} at {fs} Hz with {t_n}-sample windows: {e}", band.name),
                    })?;
                    // A floor keeps silent (flat) channels finite.
                    row[b * c_n + ch] = (power.max(1e-20)).ln();
                }
            }
            Ok(row)
        })
        .collect();
    let mut out = Vec::with_capacity(idx.len() * p);
    for r in rows {
        out.extend(r?);
    }
    Ok(out)
}

fn standardiser(x: &[f64], p: usize) -> (Vec<f64>, Vec<f64>) {
    let n = (x.len() / p).max(1) as f64;
    let mut mean = vec![0.0; p];
    for row in x.chunks_exact(p) {
        for (m, v) in mean.iter_mut().zip(row) {
            *m += v / n;
        }
    }
    let mut var = vec![0.0; p];
    for row in x.chunks_exact(p) {
        for ((s, v), m) in var.iter_mut().zip(row).zip(&mean) {
            *s += (v - m) * (v - m) / n;
        }
    }
    // A constant feature gets SD 1 (it then stays 0 and carries no weight).
    let sd = var.iter().map(|v| if *v > 1e-24 { v.sqrt() } else { 1.0 }).collect();
    (mean, sd)
}

fn standardise(x: &mut [f64], mean: &[f64], sd: &[f64]) {
    let p = mean.len();
    for row in x.chunks_exact_mut(p) {
        for ((v, m), s) in row.iter_mut().zip(mean).zip(sd) {
            *v = (*v - m) / s;
        }
    }
}

/// Channels whose |d| make a band's score (a local effect is not diluted
/// over the whole montage).
const TOP_CHANNELS: usize = 3;

/// Per subject, the mean feature row and the (majority) label, in order of first appearance.
fn subject_means(x: &[f64], y: &[usize], subjects: &[u32], p: usize) -> (Vec<f64>, Vec<usize>) {
    let mut order: Vec<u32> = Vec::new();
    let mut acc: std::collections::HashMap<u32, (Vec<f64>, Vec<usize>, usize)> = Default::default();
    for ((row, &label), &s) in x.chunks_exact(p).zip(y).zip(subjects) {
        let e = acc.entry(s).or_insert_with(|| {
            order.push(s);
            (vec![0.0; p], Vec::new(), 0)
        });
        e.0.iter_mut().zip(row).for_each(|(a, v)| *a += v);
        e.1.push(label);
        e.2 += 1;
    }
    let mut xs = Vec::with_capacity(order.len() * p);
    let mut ys = Vec::with_capacity(order.len());
    for s in order {
        let (sum, labels, n) = &acc[&s];
        xs.extend(sum.iter().map(|v| v / *n as f64));
        let ones = labels.iter().filter(|&&l| l >= 1).count();
        ys.push(usize::from(2 * ones > labels.len()));
    }
    (xs, ys)
}

fn cohens_d(x: &[f64], y: &[usize], p: usize, n_bands: usize, c_n: usize) -> Vec<Vec<f64>> {
    let mut sum = [vec![0.0; p], vec![0.0; p]];
    let mut sq = [vec![0.0; p], vec![0.0; p]];
    let mut n = [0.0f64; 2];
    for (row, &label) in x.chunks_exact(p).zip(y) {
        let g = usize::from(label >= 1);
        n[g] += 1.0;
        for j in 0..p {
            sum[g][j] += row[j];
            sq[g][j] += row[j] * row[j];
        }
    }
    let d = |j: usize| {
        if n[0] < 2.0 || n[1] < 2.0 {
            return 0.0;
        }
        let m = [sum[0][j] / n[0], sum[1][j] / n[1]];
        let v =
            [(sq[0][j] - n[0] * m[0] * m[0]) / (n[0] - 1.0), (sq[1][j] - n[1] * m[1] * m[1]) / (n[1] - 1.0)];
        let pooled = (((n[0] - 1.0) * v[0] + (n[1] - 1.0) * v[1]) / (n[0] + n[1] - 2.0)).max(0.0).sqrt();
        if pooled > 1e-12 {
            (m[1] - m[0]) / pooled
        } else {
            0.0
        }
    };
    (0..n_bands).map(|b| (0..c_n).map(|c| d(b * c_n + c)).collect()).collect()
}

fn mean_cross_entropy(probs: &[f64], y: &[usize], k: usize) -> f64 {
    let n = y.len().max(1) as f64;
    y.iter().enumerate().map(|(i, &c)| -probs[i * k + c].max(1e-15).ln()).sum::<f64>() / n
}

/// Logistic regression: one binary model, or one per class against the rest.
#[derive(Clone, Debug)]
struct Model {
    /// weights per binary model (`p` each)
    w: Vec<Vec<f64>>,
    /// intercept per binary model
    b: Vec<f64>,
    k: usize,
}

impl Model {
    fn fit(x: &[f64], y: &[usize], p: usize, k: usize, c: f64) -> Self {
        let targets: Vec<Vec<f64>> = if k == 2 {
            vec![y.iter().map(|&v| f64::from(u8::from(v == 1))).collect()]
        } else {
            (0..k).map(|cls| y.iter().map(|&v| f64::from(u8::from(v == cls))).collect()).collect()
        };
        let (w, b) = targets.iter().map(|t| fit_binary(x, t, p, c)).unzip();
        Self { w, b, k }
    }

    /// Class probabilities `[n, k]`.
    fn probs(&self, x: &[f64]) -> Vec<f64> {
        let p = self.w[0].len();
        let mut out = Vec::with_capacity(x.len() / p * self.k);
        for row in x.chunks_exact(p) {
            let z: Vec<f64> = self.w.iter().zip(&self.b).map(|(w, b)| dot(w, row) + b).collect();
            if self.k == 2 {
                let q = sigmoid(z[0]);
                out.extend([1.0 - q, q]);
            } else {
                let q: Vec<f64> = z.iter().map(|&v| sigmoid(v)).collect();
                let s: f64 = q.iter().sum::<f64>().max(1e-300);
                out.extend(q.iter().map(|v| v / s));
            }
        }
        out
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// `sum_i [log(1 + e^z_i) - t_i z_i] + |w|² / (2c)`, `z = x w + b`.
fn objective(x: &[f64], t: &[f64], w: &[f64], b: f64, c: f64) -> f64 {
    let p = w.len();
    let data: f64 = x
        .chunks_exact(p)
        .zip(t)
        .map(|(row, &ti)| {
            let z = dot(w, row) + b;
            // log(1 + e^z) without overflow
            let softplus = if z > 0.0 { z + (-z).exp().ln_1p() } else { z.exp().ln_1p() };
            softplus - ti * z
        })
        .sum();
    data + dot(w, w) / (2.0 * c)
}

/// Newton's method with step halving on the penalised log-likelihood.
fn fit_binary(x: &[f64], t: &[f64], p: usize, c: f64) -> (Vec<f64>, f64) {
    let d = p + 1; // weights, then the intercept
    let mut theta = vec![0.0; d];
    let mut f = objective(x, t, &theta[..p], theta[p], c);
    for _ in 0..100 {
        let (w, b) = (&theta[..p], theta[p]);
        let mut g = vec![0.0; d];
        let mut h = vec![0.0; d * d];
        for (row, &ti) in x.chunks_exact(p).zip(t) {
            let q = sigmoid(dot(w, row) + b);
            let r = q - ti;
            let s = (q * (1.0 - q)).max(1e-12);
            for j in 0..p {
                g[j] += r * row[j];
            }
            g[p] += r;
            // Upper triangle of x~ x~^T s, x~ = (row, 1).
            for j in 0..d {
                let xj = if j < p { row[j] } else { 1.0 };
                let sj = s * xj;
                for l in j..d {
                    let xl = if l < p { row[l] } else { 1.0 };
                    h[j * d + l] += sj * xl;
                }
            }
        }
        for j in 0..p {
            g[j] += theta[j] / c;
            h[j * d + j] += 1.0 / c;
        }
        for j in 0..d {
            for l in 0..j {
                h[j * d + l] = h[l * d + j];
            }
        }
        // The intercept is unpenalised; a tiny ridge keeps H positive definite.
        h[p * d + p] += 1e-9;
        let step = match cholesky_solve(&mut h, &g, d) {
            Some(s) => s,
            None => break,
        };
        let mut alpha = 1.0;
        let mut improved = false;
        for _ in 0..30 {
            let cand: Vec<f64> = theta.iter().zip(&step).map(|(v, s)| v - alpha * s).collect();
            let fc = objective(x, t, &cand[..p], cand[p], c);
            if fc <= f {
                let done = (f - fc).abs() <= 1e-10 * f.abs().max(1.0);
                theta = cand;
                f = fc;
                improved = !done;
                break;
            }
            alpha *= 0.5;
        }
        if !improved {
            break;
        }
    }
    let b = theta[p];
    theta.truncate(p);
    (theta, b)
}

/// Solves `H s = g` for symmetric positive-definite `H` (`d x d`, overwritten).
fn cholesky_solve(h: &mut [f64], g: &[f64], d: usize) -> Option<Vec<f64>> {
    for j in 0..d {
        let mut s = h[j * d + j];
        for l in 0..j {
            s -= h[j * d + l] * h[j * d + l];
        }
        if !(s > 0.0 && s.is_finite()) {
            return None;
        }
        let diag = s.sqrt();
        h[j * d + j] = diag;
        for i in j + 1..d {
            let mut v = h[i * d + j];
            for l in 0..j {
                v -= h[i * d + l] * h[j * d + l];
            }
            h[i * d + j] = v / diag;
        }
    }
    let mut z = g.to_vec();
    for i in 0..d {
        for l in 0..i {
            z[i] -= h[i * d + l] * z[l];
        }
        z[i] /= h[i * d + i];
    }
    for i in (0..d).rev() {
        for l in i + 1..d {
            z[i] -= h[l * d + i] * z[l];
        }
        z[i] /= h[i * d + i];
    }
    Some(z)
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    /// The penalised objective's gradient, by central differences.
    fn numeric_grad(x: &[f64], t: &[f64], w: &[f64], b: f64, c: f64) -> Vec<f64> {
        let h = 1e-6;
        let mut out = Vec::new();
        for j in 0..=w.len() {
            let (mut wp, mut wm, mut bp, mut bm) = (w.to_vec(), w.to_vec(), b, b);
            if j < w.len() {
                wp[j] += h;
                wm[j] -= h;
            } else {
                bp += h;
                bm -= h;
            }
            out.push((objective(x, t, &wp, bp, c) - objective(x, t, &wm, bm, c)) / (2.0 * h));
        }
        out
    }

    fn toy(n: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
        let mut rng = eeglens_autodiff::Rng::new(seed);
        let mut x = Vec::new();
        let mut t = Vec::new();
        for i in 0..n {
            let label = (i % 2) as f64;
            let a = rng.normal() + 0.8 * label;
            let b = rng.normal();
            let c = rng.normal() - 0.3 * label;
            x.extend([a, b, c]);
            t.push(label);
        }
        (x, t)
    }

    #[test]
    fn newton_reaches_the_minimum() {
        let (x, t) = toy(200, 1);
        for c in [0.01, 1.0, 100.0] {
            let (w, b) = fit_binary(&x, &t, 3, c);
            let g = numeric_grad(&x, &t, &w, b, c);
            for gj in &g {
                assert!(gj.abs() < 1e-4, "C {c}: gradient {g:?} at the fit");
            }
        }
        // The planted directions: first feature up, third down, second ~0.
        let (w, _) = fit_binary(&x, &t, 3, 100.0);
        assert!(w[0] > 0.5 && w[2] < -0.1 && w[1].abs() < w[0].abs() / 2.0, "{w:?}");
    }

    #[test]
    fn a_strong_penalty_shrinks_to_zero() {
        let (x, t) = toy(200, 2);
        let (w, _) = fit_binary(&x, &t, 3, 1e-6);
        assert!(w.iter().all(|v| v.abs() < 1e-3), "{w:?}");
    }

    #[test]
    fn separable_data_stays_finite() {
        let x = vec![-2.0, -1.0, 1.0, 2.0];
        let t = vec![0.0, 0.0, 1.0, 1.0];
        let (w, b) = fit_binary(&x, &t, 1, 100.0);
        assert!(w[0].is_finite() && b.is_finite() && w[0] > 1.0, "{w:?} {b}");
    }

    #[test]
    fn cholesky_solves_a_known_system() {
        let mut h = vec![4.0, 2.0, 2.0, 3.0];
        let s = cholesky_solve(&mut h, &[2.0, 1.0], 2).expect("positive definite");
        // [4 2; 2 3] s = [2 1] -> s = [0.5, 0]
        assert_relative_eq!(s[0], 0.5, epsilon = 1e-12);
        assert_relative_eq!(s[1], 0.0, epsilon = 1e-12);
        assert!(cholesky_solve(&mut [0.0, 0.0, 0.0, 0.0], &[1.0, 1.0], 2).is_none());
    }

    #[test]
    fn one_vs_rest_probabilities_sum_to_one() {
        let mut rng = eeglens_autodiff::Rng::new(3);
        let x: Vec<f64> = (0..60 * 2).map(|_| rng.normal()).collect();
        let y: Vec<usize> = (0..60).map(|i| i % 3).collect();
        let m = Model::fit(&x, &y, 2, 3, 1.0);
        let p = m.probs(&x);
        for row in p.chunks_exact(3) {
            assert_relative_eq!(row.iter().sum::<f64>(), 1.0, epsilon = 1e-12);
        }
    }

    #[test]
    fn bands_stop_at_nyquist() {
        let b = baseline_bands(40.0);
        assert_eq!(b.last().map(|b| (b.name.as_str(), b.hi)), Some(("low beta", 20.0)));
        assert_eq!(baseline_bands(128.0).len(), 5);
        assert_eq!(baseline_bands(20.0).len(), 3);
    }
}

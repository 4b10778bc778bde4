//! Activation maximisation: gradient ascent on the input of a frozen network
//! in eval mode, towards a class logit, a logit difference or a unit's mean
//! activation.
//!
//! # The loop
//! All restarts of all targets form one batch, so one forward and one
//! backward per step serve them all (eval mode: samples do not interact).
//! The pattern is optimised in normalised units `u = x / scale` (`scale` the
//! data's standard deviation) with Adam. Each pattern's objective gradient is
//! scaled to unit RMS before the L2 decay `l2 * u` is added, so the decay is
//! independent of the network's gain: at a fixed point `u = g / (l2 rms(g))`,
//! a pattern of RMS `1 / l2` data standard deviations. Per step:
//! 1. decode the parameters to samples (identity, the 1/f-scaled Fourier
//!    basis of [`Parameterisation::Spectral`], or the windows scaled by
//!    their gains);
//! 2. shift each sample circularly by a random number of samples in
//!    `[-jitter, jitter]` (the network must like the pattern wherever it
//!    sits in the window);
//! 3. forward to the target layer, objective = `sum(act * w)` with a
//!    constant weight per sample (one-hot logit, logit difference, or the
//!    mean over a unit's map), backward to the input;
//! 4. shift the gradient back, map it to the parameters (summed over the
//!    windows that share them), Adam step;
//! 5. for free patterns, optionally smooth along time and clip to the
//!    data's amplitude range (per channel), re-encoding the result.
//!
//! # Parameterisations
//! - [`Parameterisation::Gains`] (the default): a log gain per channel and
//!   band, applied in the Fourier domain to real windows of the split. One
//!   restart is one set of gains shared by `windows_per_restart` windows
//!   (their mean objective is maximised); every class's restart `j` uses
//!   the same windows, so the reading compares the classes pair by pair
//!   ([`crate::spectral::read_paired`]). The decay pulls the gains towards
//!   0 (the windows as recorded): at `l2 = 10` a set of gains has an RMS of
//!   about 0.1 (on the demo's R-VGG: 99 % of the gains within ±0.4, the
//!   largest 0.95, an amplitude factor of 2.6).
//!   Patterns stay EEG, re-weighted in frequency and place.
//! - [`Parameterisation::Samples`] and [`Parameterisation::Spectral`]: the
//!   pattern itself, free. Restart 0 starts from zeros, restart 1 from the
//!   data's mean window, the others from noise of `init_noise` standard
//!   deviations.
//!
//! Why gains by default: the input gradient of a deep network such as R-VGG
//! is dominated by fast components, so a free pattern that maximises a class
//! is driven to spectra the data never have. On the paper's R-VGG trained
//! on theta planted fronto-centrally, free patterns differed between the
//! classes in every band alike (log ratios of ±5–7 at the same electrodes)
//! and the reading named beta, in every variant of prior, start and step
//! tried (BENCHMARKS.md, "Reading quality"). Asked instead which bands of
//! real EEG, and where, raise a class, the same network answers theta at
//! the planted electrodes.

use std::sync::Arc;

use eeglens_autodiff::{ops, Rng, Tape, Tensor};
use eeglens_nn::{Mode, Optimizer, OptimizerConfig, Sequential};
use rustfft::num_complex::Complex64;
use rustfft::{Fft, FftPlanner};

use crate::config::{ActmaxConfig, ClassObjective, Parameterisation};
use crate::error::InterpretError;
use eeglens_dsp::Band;

/// What one pattern maximises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// the output class `c` (with the configured [`ClassObjective`]); for a
    /// network with one output (a regression), that output maximised
    Class(usize),
    /// output `c` minimised (its negative maximised): a regression's `low`
    Minimise(usize),
    /// the mean activation of unit `unit` of layer `layer` (an index)
    Unit {
        /// the layer's index
        layer: usize,
        /// the channel or feature
        unit: usize,
    },
}

/// The data statistics activation maximisation is scaled and clipped by.
#[derive(Clone, Debug, PartialEq)]
pub struct DataStats {
    /// the overall standard deviation of the samples
    pub scale: f32,
    /// the mean window `[n_channels * n_samples]`
    pub mean: Vec<f32>,
    /// per channel, the smallest and largest sample
    pub range: Vec<(f32, f32)>,
}

impl DataStats {
    /// Statistics of windows `x` `[n, n_channels, n_samples]`.
    pub fn of(x: &[f32], n_channels: usize, n_samples: usize) -> Self {
        let w = n_channels * n_samples;
        let n = x.len() / w.max(1);
        let mut mean = vec![0.0f64; w];
        let mut range = vec![(f32::INFINITY, f32::NEG_INFINITY); n_channels];
        let (mut s1, mut s2) = (0.0f64, 0.0f64);
        for win in x.chunks_exact(w) {
            for (j, &v) in win.iter().enumerate() {
                mean[j] += v as f64;
                s1 += v as f64;
                s2 += (v as f64) * (v as f64);
                let r = &mut range[j / n_samples];
                r.0 = r.0.min(v);
                r.1 = r.1.max(v);
            }
        }
        let count = (n * w).max(1) as f64;
        let var = (s2 / count - (s1 / count).powi(2)).max(0.0);
        let scale = if var > 0.0 { var.sqrt() as f32 } else { 1.0 };
        Self { scale, mean: mean.iter().map(|m| (m / n.max(1) as f64) as f32).collect(), range }
    }
}

/// Patterns found by [`maximise`].
#[derive(Clone, Debug, PartialEq)]
pub struct Patterns {
    /// `[n_targets, restarts * members, n_channels, n_samples]`, in the
    /// data's unit: restart `j`'s patterns are rows `j * members ..`
    pub patterns: Tensor,
    /// `[n_targets, restarts, steps]`: the objective at every step (the
    /// mean over a restart's members)
    pub trace: Tensor,
    /// patterns per restart: the windows one set of gains is applied to
    /// under [`Parameterisation::Gains`], else 1
    pub members: usize,
    /// under [`Parameterisation::Gains`], `[n_targets, restarts, n_channels,
    /// n_bands]`: the optimised log gains (natural log of the amplitude factor)
    pub gains: Option<Tensor>,
}

/// The decoding between parameters and samples of one row (a channel of a sample).
enum Codec {
    Samples,
    Spectral {
        scale: Vec<f64>,
        fwd: Arc<dyn Fft<f64>>,
        inv: Arc<dyn Fft<f64>>,
        t: usize,
    },
    /// `base[row * bins + k]`: the spectrum of the row's starting window;
    /// `bins[g]`: the frequency bins gain `g` scales
    Gains {
        base: Vec<Complex64>,
        bins: Vec<Vec<usize>>,
        fwd: Arc<dyn Fft<f64>>,
        inv: Arc<dyn Fft<f64>>,
        t: usize,
    },
}

impl Codec {
    /// `bases` (rows of `n_samples`) are the starting windows of the gains
    /// parameterisation, `bands` the bands it has a gain for.
    fn new(param: Parameterisation, n_samples: usize, fs: f64, bases: &[f32], bands: &[Band]) -> Self {
        match param {
            Parameterisation::Samples => Codec::Samples,
            Parameterisation::Gains => {
                let t = n_samples;
                let bins = t / 2 + 1;
                let mut planner = FftPlanner::new();
                let fwd = planner.plan_fft_forward(t);
                let mut base = Vec::with_capacity(bases.len() / t * bins);
                for row in bases.chunks_exact(t) {
                    let mut z: Vec<Complex64> = row.iter().map(|&v| Complex64::new(v as f64, 0.0)).collect();
                    fwd.process(&mut z);
                    base.extend_from_slice(&z[..bins]);
                }
                let bins = bands
                    .iter()
                    .map(|b| {
                        (0..bins).filter(|&k| (b.lo..b.hi).contains(&(k as f64 * fs / t as f64))).collect()
                    })
                    .collect();
                Codec::Gains { base, bins, fwd, inv: planner.plan_fft_inverse(t), t }
            }
            Parameterisation::Spectral { f_min } => {
                let t = n_samples;
                let bins = t / 2 + 1;
                // No DC term: the data are high-passed and the spectral reading ignores it.
                let mut scale: Vec<f64> = (0..bins)
                    .map(|k| if k == 0 { 0.0 } else { 1.0 / (k as f64 * fs / t as f64).max(f_min) })
                    .collect();
                let norm = scale.iter().map(|s| s * s).sum::<f64>().sqrt().max(1e-12);
                scale.iter_mut().for_each(|s| *s /= norm);
                let mut planner = FftPlanner::new();
                Codec::Spectral {
                    scale,
                    fwd: planner.plan_fft_forward(t),
                    inv: planner.plan_fft_inverse(t),
                    t,
                }
            }
        }
    }

    /// Parameters per row.
    fn row_len(&self, n_samples: usize) -> usize {
        match self {
            Codec::Samples => n_samples,
            Codec::Spectral { scale, .. } => 2 * scale.len(),
            Codec::Gains { bins, .. } => bins.len(),
        }
    }

    /// Parameters of row `row` (`[a_0..a_K, b_0..b_K]`, or log gains) to samples.
    fn decode(&self, row: usize, p: &[f32], x: &mut [f32]) {
        match self {
            Codec::Samples => x.copy_from_slice(p),
            Codec::Gains { base, bins, inv, t, .. } => {
                let half = t / 2 + 1;
                let base = &base[row * half..][..half];
                let mut log_gain = vec![0.0f64; half];
                for (g, ks) in bins.iter().enumerate() {
                    ks.iter().for_each(|&k| log_gain[k] += p[g] as f64);
                }
                let mut z = vec![Complex64::new(0.0, 0.0); *t];
                for k in 0..half {
                    z[k] = base[k] * log_gain[k].exp();
                    if k > 0 && k < t - k {
                        z[t - k] = z[k].conj();
                    }
                }
                inv.process(&mut z);
                let n = *t as f64;
                x.iter_mut().zip(&z).for_each(|(o, v)| *o = (v.re / n) as f32);
            }
            Codec::Spectral { scale, inv, t, .. } => {
                let bins = scale.len();
                let mut z = vec![Complex64::new(0.0, 0.0); *t];
                for k in 0..bins {
                    z[k] = Complex64::new(scale[k] * p[k] as f64, -scale[k] * p[bins + k] as f64);
                }
                inv.process(&mut z);
                x.iter_mut().zip(&z).for_each(|(o, v)| *o = v.re as f32);
            }
        }
    }

    /// Samples to parameters (the exact inverse of `decode` on the span of
    /// the basis); the gains start at zero whatever `x` is.
    fn encode(&self, x: &[f32], p: &mut [f32]) {
        match self {
            Codec::Samples => p.copy_from_slice(x),
            Codec::Gains { .. } => p.fill(0.0),
            Codec::Spectral { scale, fwd, t, .. } => {
                let bins = scale.len();
                let mut z: Vec<Complex64> = x.iter().map(|&v| Complex64::new(v as f64, 0.0)).collect();
                fwd.process(&mut z);
                let half = *t as f64 / 2.0;
                for k in 0..bins {
                    let nyquist = t % 2 == 0 && k == t / 2;
                    let (norm_a, has_b) = if k == 0 || nyquist { (*t as f64, false) } else { (half, true) };
                    let s = scale[k];
                    p[k] = if s > 0.0 { (z[k].re / (s * norm_a)) as f32 } else { 0.0 };
                    p[bins + k] = if s > 0.0 && has_b { (-z[k].im / (s * half)) as f32 } else { 0.0 };
                }
            }
        }
    }

    /// The gradient with respect to the parameters of row `row` (at `p`) from
    /// the gradient `g` with respect to the samples.
    fn pullback(&self, row: usize, p: &[f32], g: &[f32], gp: &mut [f32]) {
        match self {
            Codec::Samples => gp.copy_from_slice(g),
            Codec::Gains { base, bins, fwd, t, .. } => {
                // x_j = (1/T) sum_k Z_k e^{2 pi i k j / T}, Z_k = exp(l_k) B_k on both
                // halves (l_k the sum of the gains covering bin k), so dx/dl_k pairs bin k
                // with T - k: d/dl_k = (c_k / T) Re(Z_k conj(G_k)), c_k = 2 except for DC
                // and Nyquist; a gain's derivative is the sum over its bins.
                let half = t / 2 + 1;
                let base = &base[row * half..][..half];
                let mut log_gain = vec![0.0f64; half];
                for (g, ks) in bins.iter().enumerate() {
                    ks.iter().for_each(|&k| log_gain[k] += p[g] as f64);
                }
                let mut z: Vec<Complex64> = g.iter().map(|&v| Complex64::new(v as f64, 0.0)).collect();
                fwd.process(&mut z);
                let n = *t as f64;
                for (out, ks) in gp.iter_mut().zip(bins) {
                    *out = ks
                        .iter()
                        .map(|&k| {
                            let c = if k == 0 || 2 * k == *t { 1.0 } else { 2.0 };
                            c / n * (base[k] * log_gain[k].exp() * z[k].conj()).re
                        })
                        .sum::<f64>() as f32;
                }
            }
            Codec::Spectral { scale, fwd, t, .. } => {
                let bins = scale.len();
                let mut z: Vec<Complex64> = g.iter().map(|&v| Complex64::new(v as f64, 0.0)).collect();
                fwd.process(&mut z);
                for k in 0..bins {
                    let nyquist = t % 2 == 0 && k == t / 2;
                    gp[k] = (scale[k] * z[k].re) as f32;
                    gp[bins + k] = if k == 0 || nyquist { 0.0 } else { (-scale[k] * z[k].im) as f32 };
                }
            }
        }
    }
}

/// Circular shift of every row of `x` (`rows` rows of `t`) by `shift[row / rows_per_sample]`.
fn roll_rows(x: &[f32], t: usize, rows_per_sample: usize, shifts: &[isize], out: &mut [f32]) {
    for (r, (src, dst)) in x.chunks_exact(t).zip(out.chunks_exact_mut(t)).enumerate() {
        let s = shifts[r / rows_per_sample].rem_euclid(t as isize) as usize;
        dst[s..].copy_from_slice(&src[..t - s]);
        dst[..s].copy_from_slice(&src[t - s..]);
    }
}

/// Circular Gaussian smoothing of one row.
fn smooth_row(x: &mut [f32], sigma: f64) {
    let t = x.len();
    let half = ((3.0 * sigma).ceil() as usize).min(t / 2);
    let kernel: Vec<f64> =
        (0..=2 * half).map(|j| (-0.5 * ((j as f64 - half as f64) / sigma).powi(2)).exp()).collect();
    let norm: f64 = kernel.iter().sum();
    let src = x.to_vec();
    for (i, o) in x.iter_mut().enumerate() {
        let mut acc = 0.0;
        for (j, k) in kernel.iter().enumerate() {
            let idx = (i + t + j - half) % t;
            acc += k * src[idx] as f64;
        }
        *o = (acc / norm) as f32;
    }
}

/// The constant objective weights for a batch: `[b, ...]` shaped like the target layer's output.
fn objective_weights(
    act_shape: &[usize],
    targets: &[Target],
    restarts: usize,
    objective: ClassObjective,
) -> Tensor {
    let b = act_shape[0];
    let per_sample: usize = act_shape[1..].iter().product();
    let units = act_shape.get(1).copied().unwrap_or(1);
    let per_unit = per_sample / units.max(1);
    let mut w = vec![0.0f32; b * per_sample];
    for s in 0..b {
        let row = &mut w[s * per_sample..][..per_sample];
        match targets[s / restarts] {
            Target::Class(c) => {
                let k = per_sample;
                if objective == ClassObjective::LogitDifference && k > 1 {
                    row.iter_mut().for_each(|v| *v = -1.0 / (k - 1) as f32);
                }
                row[c] = 1.0;
            }
            Target::Minimise(c) => row[c] = -1.0,
            Target::Unit { unit, .. } => {
                row[unit * per_unit..][..per_unit].iter_mut().for_each(|v| *v = 1.0 / per_unit as f32);
            }
        }
    }
    Tensor::from_vec(act_shape, w).expect("sized from the activation")
}

/// Inputs of [`maximise`].
#[derive(Clone, Copy, Debug)]
pub struct ActmaxProblem<'a> {
    /// the network (weights are never changed)
    pub model: &'a Sequential,
    /// what each pattern maximises; all targets must stop at the same layer
    pub targets: &'a [Target],
    /// sampling rate of the windows, Hz (for the spectral parameterisation)
    pub fs: f64,
    /// scale, mean and range of the data
    pub stats: &'a DataStats,
    /// settings
    pub cfg: &'a ActmaxConfig,
    /// seed of restarts and jitter
    pub seed: u64,
    /// windows `[n, n_channels, n_samples]` (data units) the gains
    /// parameterisation starts from: member `i` of restart `j` of every
    /// target is window `(j * members + i) % n`, `members` =
    /// `cfg.windows_per_restart`. Unused by the other parameterisations.
    pub starts: &'a [f32],
    /// the bands the gains parameterisation has a gain for (per channel)
    pub bands: &'a [Band],
}

/// Runs activation maximisation; `on_step` is called after every step.
///
/// # Shapes
/// The model takes `[n, 1, n_channels, n_samples]`; the patterns are
/// `[targets, restarts * members, n_channels, n_samples]` (see [`Patterns`]).
///
/// # Gains
/// Under [`Parameterisation::Gains`] a restart is one set of log gains
/// (per channel and band) applied to `members` windows at once: its
/// objective is their mean, so the gains answer for the network's response
/// to EEG in general rather than to one window's accidents.
///
/// # Errors
/// [`InterpretError::Config`] for an empty target list or targets at
/// different layers; [`InterpretError::Nn`] if the model refuses the batch.
pub fn maximise(
    problem: &ActmaxProblem<'_>,
    on_step: &mut dyn FnMut(usize),
) -> Result<Patterns, InterpretError> {
    let upto = target_layer(problem.model, problem.targets)?;
    let mut ascent = Ascent::new(problem, upto)?;
    for step in 0..problem.cfg.steps {
        ascent.step(step)?;
        on_step(step);
    }
    Ok(ascent.finish())
}

/// The one layer every target is read at (the output for classes).
fn target_layer(model: &Sequential, targets: &[Target]) -> Result<usize, InterpretError> {
    let layer_of = |t: &Target| match t {
        Target::Class(_) | Target::Minimise(_) => model.layers().len() - 1,
        Target::Unit { layer, .. } => *layer,
    };
    let Some(first) = targets.first() else {
        return Err(InterpretError::Config {
            field: "targets",
            value: "[]".into(),
            expected: "at least one class or unit".into(),
        });
    };
    let upto = layer_of(first);
    if targets.iter().any(|t| layer_of(t) != upto) {
        return Err(InterpretError::Config {
            field: "targets",
            value: format!("{targets:?}"),
            expected: "targets at one layer".into(),
        });
    }
    Ok(upto)
}

/// The state of a gradient ascent: the parameters of `b = targets ×
/// restarts` patterns, each decoded into `m` network samples (`m` windows
/// per restart under gains, else 1), and the buffers of one step.
struct Ascent<'a> {
    problem: &'a ActmaxProblem<'a>,
    upto: usize,
    n_ch: usize,
    t: usize,
    /// network samples per parameter set
    m: usize,
    codec: Codec,
    p_len: usize,
    rng: Rng,
    params: Tensor,
    /// per channel, the data's range in normalised units (for clipping)
    ranges: Vec<(f32, f32)>,
    opt: Optimizer,
    /// `[b, steps]`: each pattern's objective per step
    trace: Vec<f32>,
    /// decoded rows `[b * m * n_ch, t]`, normalised units
    u: Vec<f32>,
    shifted: Vec<f32>,
    grad_p: Tensor,
    gp_row: Vec<f32>,
    shifts: Vec<isize>,
}

impl<'a> Ascent<'a> {
    /// Checks the problem, encodes the initial patterns (restart 0 zeros,
    /// restart 1 the data mean, the others noise) and sets up the optimiser.
    fn new(problem: &'a ActmaxProblem<'a>, upto: usize) -> Result<Self, InterpretError> {
        let ActmaxProblem { model, targets, fs, stats, cfg, seed, starts, bands } = *problem;
        let in_shape = model.input_shape();
        let (n_ch, t) = (in_shape[1], in_shape[2]);
        let restarts = cfg.restarts;
        let gains = cfg.param == Parameterisation::Gains;
        let b = targets.len() * restarts;
        let m = if gains { cfg.windows_per_restart.max(1) } else { 1 };
        let bn = b * m;
        let per_window = n_ch * t;
        let n_starts = starts.len() / per_window.max(1);
        if gains && n_starts == 0 {
            return Err(InterpretError::Config {
                field: "actmax.param",
                value: "gains".into(),
                expected: "windows to start from".into(),
            });
        }
        if gains && bands.is_empty() {
            return Err(InterpretError::Config {
                field: "actmax.param",
                value: "gains".into(),
                expected: "at least one band to have a gain for".into(),
            });
        }
        let scale = stats.scale;
        let bases: Vec<f32> = if gains {
            (0..bn)
                .flat_map(|q| {
                    let window = (q % (restarts * m)) % n_starts;
                    starts[window * per_window..][..per_window].iter().map(move |v| v / scale)
                })
                .collect()
        } else {
            Vec::new()
        };
        let codec = Codec::new(cfg.param, t, fs, &bases, bands);
        let p_len = codec.row_len(t);
        let mut rng = Rng::new(seed).fork(0xAC7);

        // Initial patterns in normalised units, encoded.
        let mut params = Tensor::zeros(&[b, n_ch, p_len]);
        let mut u = vec![0.0f32; t];
        let p = params.data_mut();
        for s in 0..b {
            let restart = s % restarts;
            for c in 0..n_ch {
                for (j, v) in u.iter_mut().enumerate() {
                    *v = match restart {
                        0 => 0.0,
                        1 => stats.mean[c * t + j] / scale,
                        _ => (cfg.init_noise * rng.normal()) as f32,
                    };
                }
                codec.encode(&u, &mut p[(s * n_ch + c) * p_len..][..p_len]);
            }
        }
        let rows = bn * n_ch;
        Ok(Self {
            problem,
            upto,
            n_ch,
            t,
            m,
            codec,
            p_len,
            rng,
            params,
            ranges: stats.range.iter().map(|&(lo, hi)| (lo / scale, hi / scale)).collect(),
            opt: Optimizer::new(OptimizerConfig::adam(cfg.lr).weight_decay(cfg.l2 as f32)),
            trace: vec![0.0f32; b * cfg.steps],
            u: vec![0.0f32; rows * t],
            shifted: vec![0.0f32; rows * t],
            grad_p: Tensor::zeros(&[b, n_ch, p_len]),
            gp_row: vec![0.0f32; p_len],
            shifts: vec![0isize; bn],
        })
    }

    /// Network row `row` (sample `q`, channel `c`) is decoded from parameter row `(q / m) * n_ch + c`.
    fn param_row(&self, row: usize) -> usize {
        (row / self.n_ch / self.m) * self.n_ch + row % self.n_ch
    }

    /// Decodes every network row from the parameters into `u`.
    fn decode_all(&mut self) {
        let (t, p_len) = (self.t, self.p_len);
        for row in 0..self.u.len() / t {
            let pr = self.param_row(row);
            self.codec.decode(row, &self.params.data()[pr * p_len..][..p_len], &mut self.u[row * t..][..t]);
        }
    }

    /// One step: decode, jitter, the objective and its gradient through the
    /// network, back to the parameters (at unit RMS per pattern), Adam, and
    /// the constraints of the samples parameterisations.
    fn step(&mut self, step: usize) -> Result<(), InterpretError> {
        let p = self.problem;
        let (cfg, scale) = (p.cfg, p.stats.scale);
        let (n_ch, t, m, p_len) = (self.n_ch, self.t, self.m, self.p_len);
        self.decode_all();
        for s in self.shifts.iter_mut() {
            *s = if cfg.jitter > 0 {
                self.rng.below(2 * cfg.jitter as u64 + 1) as isize - cfg.jitter as isize
            } else {
                0
            };
        }
        roll_rows(&self.u, t, n_ch, &self.shifts, &mut self.shifted);
        let x: Vec<f32> = self.shifted.iter().map(|v| v * scale).collect();
        let x = Tensor::from_vec(&[self.shifts.len(), 1, n_ch, t], x).expect("sized from the batch");
        let (values, gx) =
            objective_and_gradient(p.model, x, self.upto, p.targets, cfg.restarts * m, cfg.objective)?;
        for (s, v) in values.chunks_exact(m).enumerate() {
            self.trace[s * cfg.steps + step] = v.iter().sum::<f32>() / m as f32;
        }
        // Back to the unshifted frame, in normalised units (d/du = scale * d/dx), negated for descent.
        let back: Vec<isize> = self.shifts.iter().map(|s| -s).collect();
        roll_rows(gx.data(), t, n_ch, &back, &mut self.shifted);
        self.grad_p.data_mut().fill(0.0);
        for row in 0..self.u.len() / t {
            let pr = self.param_row(row);
            self.codec.pullback(
                row,
                &self.params.data()[pr * p_len..][..p_len],
                &self.shifted[row * t..][..t],
                &mut self.gp_row,
            );
            let dst = &mut self.grad_p.data_mut()[pr * p_len..][..p_len];
            dst.iter_mut().zip(&self.gp_row).for_each(|(d, g)| *d += g / m as f32);
        }
        // Each pattern's gradient at unit RMS (so the L2 decay means the same
        // whatever the network's gain), negated for descent.
        for g in self.grad_p.data_mut().chunks_exact_mut(n_ch * p_len) {
            let rms = (g.iter().map(|v| (*v as f64).powi(2)).sum::<f64>() / g.len() as f64).sqrt();
            let k = if rms > 0.0 { (-1.0 / rms) as f32 } else { 0.0 };
            g.iter_mut().for_each(|v| *v *= k);
        }
        self.opt.step(&mut [&mut self.params], &[Some(&self.grad_p)]);
        if cfg.param != Parameterisation::Gains && (cfg.smooth > 0.0 || cfg.clip) {
            self.constrain();
        }
        Ok(())
    }

    /// Smoothing and clipping to the data's range, on the decoded samples.
    fn constrain(&mut self) {
        let cfg = self.problem.cfg;
        let (t, n_ch) = (self.t, self.n_ch);
        let p = self.params.data_mut();
        for (row, chunk) in p.chunks_exact_mut(self.p_len).enumerate() {
            let dst = &mut self.u[row * t..][..t];
            self.codec.decode(row, chunk, dst);
            if cfg.smooth > 0.0 {
                smooth_row(dst, cfg.smooth);
            }
            if cfg.clip {
                let (lo, hi) = self.ranges[row % n_ch];
                dst.iter_mut().for_each(|v| *v = v.clamp(lo, hi));
            }
            self.codec.encode(dst, chunk);
        }
    }

    /// The final patterns in data units, the gains and the trace.
    fn finish(mut self) -> Patterns {
        self.decode_all();
        let p = self.problem;
        let (n_targets, restarts, steps) = (p.targets.len(), p.cfg.restarts, p.cfg.steps);
        let scale = p.stats.scale;
        let patterns: Vec<f32> = self.u.iter().map(|v| v * scale).collect();
        let gains = p.cfg.param == Parameterisation::Gains;
        Patterns {
            patterns: Tensor::from_vec(&[n_targets, restarts * self.m, self.n_ch, self.t], patterns)
                .expect("sized from the batch"),
            members: self.m,
            gains: gains.then(|| {
                Tensor::from_vec(&[n_targets, restarts, self.n_ch, self.p_len], self.params.data().to_vec())
                    .expect("sized from the parameters")
            }),
            trace: Tensor::from_vec(&[n_targets, restarts, steps], self.trace).expect("sized from the batch"),
        }
    }
}

/// Per-sample objective values and the gradient of their sum with respect to `x`.
fn objective_and_gradient(
    model: &Sequential,
    x: Tensor,
    upto: usize,
    targets: &[Target],
    restarts: usize,
    objective: ClassObjective,
) -> Result<(Vec<f32>, Tensor), InterpretError> {
    model.check_input(x.shape())?;
    let mut tape = Tape::new();
    let params = model.bind(&mut tape, false);
    let xv = tape.input_with_grad(x);
    let mut y = xv;
    let mut rng = Rng::new(0);
    for (i, (_, layer)) in model.layers().iter().enumerate().take(upto + 1) {
        y = layer.forward(&mut tape, y, params.layer(i), Mode::Eval, &mut rng, false).y;
    }
    let w = objective_weights(tape.shape(y), targets, restarts, objective);
    let per: usize = w.len() / w.shape()[0];
    let values: Vec<f32> = tape
        .value(y)
        .data()
        .chunks_exact(per)
        .zip(w.data().chunks_exact(per))
        .map(|(a, b)| a.iter().zip(b).map(|(p, q)| p * q).sum())
        .collect();
    let wv = tape.constant(w);
    let prod = ops::mul(&mut tape, y, wv);
    let total = ops::sum(&mut tape, prod);
    let mut grads = tape.backward(total);
    let gx = grads.take(xv).unwrap_or_else(|| Tensor::zeros(tape.shape(xv)));
    Ok((values, gx))
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;
    use eeglens_nn::layers::{Flatten, Linear, LinearConfig};
    use eeglens_nn::Layer;

    const COS_TOL: f64 = 1e-3;

    fn cosine(a: &[f32], b: &[f32]) -> f64 {
        let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
        let na: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
        let nb: f64 = b.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
        dot / (na * nb)
    }

    fn linear_model(n_ch: usize, t: usize, rng: &mut Rng) -> Sequential {
        let lin = Linear::new(&LinearConfig::new(n_ch * t, 2), rng).unwrap();
        Sequential::new(
            "linear",
            &[1, n_ch, t],
            vec![("flatten".into(), Layer::Flatten(Flatten)), ("fc".into(), Layer::Linear(lin))],
        )
        .unwrap()
    }

    #[test]
    fn on_a_linear_model_the_pattern_converges_to_the_weights() {
        let (n_ch, t) = (3, 32);
        let mut rng = Rng::new(5);
        let model = linear_model(n_ch, t, &mut rng);
        let Layer::Linear(lin) = &model.layers()[1].1 else { unreachable!() };
        let w = lin.weight.data();
        let stats = DataStats { scale: 1.0, mean: vec![0.0; n_ch * t], range: vec![(-1e3, 1e3); n_ch] };
        let cfg = ActmaxConfig {
            objective: ClassObjective::Logit,
            restarts: 3,
            steps: 600,
            lr: 0.01,
            l2: 1.0,
            jitter: 0,
            smooth: 0.0,
            param: Parameterisation::Samples,
            clip: false,
            init_noise: 0.5,
            windows_per_restart: 1,
        };
        let targets = [Target::Class(0), Target::Class(1)];
        let problem = ActmaxProblem {
            model: &model,
            targets: &targets,
            fs: 128.0,
            stats: &stats,
            cfg: &cfg,
            seed: 1,
            starts: &[],
            bands: &[],
        };
        let out = maximise(&problem, &mut |_| {}).unwrap();
        let per = n_ch * t;
        for c in 0..2 {
            let wc = &w[c * per..][..per];
            for r in 0..3 {
                let pat = &out.patterns.data()[(c * 3 + r) * per..][..per];
                assert!(cosine(pat, wc) > 1.0 - COS_TOL, "class {c} restart {r}: cos {}", cosine(pat, wc));
                // The fixed point is x = w / (l2 rms(w)): unit RMS with l2 = 1.
                let rms = (pat.iter().map(|v| v * v).sum::<f32>() / per as f32).sqrt();
                assert_relative_eq!(rms, 1.0, epsilon = 0.02);
            }
            // The objective rises.
            let tr = &out.trace.data()[c * 3 * 600..][..600];
            assert!(tr[599] > tr[0]);
        }
    }

    #[test]
    fn the_spectral_codec_round_trips_and_its_pullback_is_the_adjoint() {
        let t = 64;
        let codec = Codec::new(Parameterisation::Spectral { f_min: 1.0 }, t, 128.0, &[], &[]);
        let n = codec.row_len(t);
        let mut rng = Rng::new(3);
        // decode(encode(x)) = x for x without DC.
        let mut x: Vec<f32> = (0..t).map(|_| rng.normal() as f32).collect();
        let m = x.iter().sum::<f32>() / t as f32;
        x.iter_mut().for_each(|v| *v -= m);
        let mut p = vec![0.0; n];
        codec.encode(&x, &mut p);
        let mut back = vec![0.0; t];
        codec.decode(0, &p, &mut back);
        for (a, b) in back.iter().zip(&x) {
            assert_relative_eq!(a, b, epsilon = 1e-4);
        }
        // <g, decode(p)> = <pullback(g), p>.
        let p: Vec<f32> = (0..n).map(|_| rng.normal() as f32).collect();
        let g: Vec<f32> = (0..t).map(|_| rng.normal() as f32).collect();
        codec.decode(0, &p, &mut back);
        let mut gp = vec![0.0; n];
        codec.pullback(0, &p, &g, &mut gp);
        let lhs: f64 = g.iter().zip(&back).map(|(a, b)| *a as f64 * *b as f64).sum();
        let rhs: f64 = gp.iter().zip(&p).map(|(a, b)| *a as f64 * *b as f64).sum();
        assert_relative_eq!(lhs, rhs, epsilon = 1e-4, max_relative = 1e-4);
    }

    #[test]
    fn the_gains_codec_starts_at_its_window_and_its_pullback_is_the_gradient() {
        let bands = |edges: &[(f64, f64)]| -> Vec<Band> {
            edges.iter().map(|&(lo, hi)| Band::new("b", lo, hi).unwrap()).collect()
        };
        for t in [64, 63] {
            let mut rng = Rng::new(4);
            let rows = 2;
            let base: Vec<f32> = (0..rows * t).map(|_| rng.normal() as f32).collect();
            // Bands tiling 0 Hz to past Nyquist: a common gain scales the whole window.
            let tiling =
                Codec::new(Parameterisation::Gains, t, 128.0, &base, &bands(&[(0.0, 10.0), (10.0, 65.0)]));
            // Gaps and an overlap: 2-6 and 4-12 Hz share 4-6 Hz.
            let partial =
                Codec::new(Parameterisation::Gains, t, 128.0, &base, &bands(&[(2.0, 6.0), (4.0, 12.0)]));
            for row in 0..rows {
                let window = &base[row * t..][..t];
                let mut x = vec![0.0; t];
                // Zero gains give back the starting window, DC included.
                partial.decode(row, &[0.0, 0.0], &mut x);
                for (a, b) in x.iter().zip(window) {
                    assert_relative_eq!(a, b, epsilon = 1e-5);
                }
                // A gain of ln 2 on every bin doubles the window.
                tiling.decode(row, &[std::f32::consts::LN_2; 2], &mut x);
                for (a, b) in x.iter().zip(window) {
                    assert_relative_eq!(*a, 2.0 * b, epsilon = 1e-4);
                }
                // d<g, decode(p)>/dp by central differences, at non-zero gains.
                for codec in [&tiling, &partial] {
                    let p = [0.3 * rng.normal() as f32, 0.3 * rng.normal() as f32];
                    let g: Vec<f32> = (0..t).map(|_| rng.normal() as f32).collect();
                    let mut gp = vec![0.0; 2];
                    codec.pullback(row, &p, &g, &mut gp);
                    let f = |p: &[f32]| {
                        let mut x = vec![0.0; t];
                        codec.decode(row, p, &mut x);
                        g.iter().zip(&x).map(|(a, b)| *a as f64 * *b as f64).sum::<f64>()
                    };
                    for k in 0..2 {
                        let h = 1e-2;
                        let (mut up, mut down) = (p, p);
                        up[k] += h;
                        down[k] -= h;
                        let fd = (f(&up) - f(&down)) / (2.0 * h as f64);
                        assert_relative_eq!(gp[k] as f64, fd, epsilon = 2e-3, max_relative = 2e-3);
                    }
                }
            }
        }
    }

    #[test]
    fn gains_raise_the_band_and_channel_a_linear_readout_weighs() {
        // Logit 1 = <w, x> with w a 10 Hz sinusoid on channel 1; logit 0 = -logit 1.
        // Each window carries 10 Hz on channel 1 in phase with w, so raising
        // that band there (and lowering it for class 0) is what the gains must find.
        let (n_ch, t, fs) = (3, 128, 64.0);
        let mut rng = Rng::new(9);
        let mut lin = Linear::new(&LinearConfig::new(n_ch * t, 2), &mut rng).unwrap();
        let w1: Vec<f32> = (0..n_ch * t)
            .map(|i| {
                if i / t == 1 {
                    (2.0 * std::f32::consts::PI * 10.0 * (i % t) as f32 / fs as f32).sin()
                } else {
                    0.0
                }
            })
            .collect();
        {
            let w = lin.weight.data_mut();
            for (j, v) in w1.iter().enumerate() {
                w[j] = -v;
                w[n_ch * t + j] = *v;
            }
            if let Some(b) = lin.bias.as_mut() {
                b.data_mut().fill(0.0);
            }
        }
        let model = Sequential::new(
            "linear",
            &[1, n_ch, t],
            vec![("flatten".into(), Layer::Flatten(Flatten)), ("fc".into(), Layer::Linear(lin))],
        )
        .unwrap();
        let n_windows = 4;
        let starts: Vec<f32> =
            (0..n_windows * n_ch * t).map(|i| 0.5 * rng.normal() as f32 + w1[i % (n_ch * t)]).collect();
        let bands: Vec<Band> = [("low", 1.0, 6.0), ("mid", 6.0, 14.0), ("high", 14.0, 30.0)]
            .iter()
            .map(|&(n, lo, hi)| Band::new(n, lo, hi).unwrap())
            .collect();
        let stats = DataStats { scale: 1.0, mean: vec![0.0; n_ch * t], range: vec![(-1e3, 1e3); n_ch] };
        let cfg = ActmaxConfig {
            restarts: 2,
            steps: 200,
            jitter: 0,
            windows_per_restart: 2,
            ..ActmaxConfig::default()
        };
        let targets = [Target::Class(0), Target::Class(1)];
        let problem = ActmaxProblem {
            model: &model,
            targets: &targets,
            fs,
            stats: &stats,
            cfg: &cfg,
            seed: 2,
            starts: &starts,
            bands: &bands,
        };
        let out = maximise(&problem, &mut |_| {}).unwrap();
        // Without windows or bands the gains have nothing to act on: an error, not a panic.
        for (starts, bands) in [(&[][..], &bands[..]), (&starts[..], &[][..])] {
            let err = maximise(&ActmaxProblem { starts, bands, ..problem }, &mut |_| {}).unwrap_err();
            assert!(err.to_string().contains("actmax.param"), "{err}");
        }
        assert_eq!(out.members, 2);
        assert_eq!(out.patterns.shape(), [2, 4, n_ch, t]);
        let g = out.gains.expect("gains returned");
        assert_eq!(g.shape(), [2, 2, n_ch, 3]);
        for r in 0..2 {
            let gain =
                |class: usize, ch: usize, band: usize| g.data()[((class * 2 + r) * n_ch + ch) * 3 + band];
            // The weighed band at the weighed channel moves most: up for class 1, down for class 0.
            assert!(gain(1, 1, 1) > 0.1 && gain(0, 1, 1) < -0.1, "restart {r}: {:?}", g.data());
            for ch in 0..n_ch {
                for band in 0..3 {
                    if (ch, band) != (1, 1) {
                        assert!(
                            gain(1, ch, band).abs() < 0.2 * gain(1, 1, 1),
                            "restart {r} ch {ch} band {band}"
                        );
                    }
                }
            }
        }
        // The objective rises (class 1, restart 0).
        let trace = out.trace.data();
        assert!(trace[cfg.steps * 2 + cfg.steps - 1] > trace[cfg.steps * 2]);
    }

    #[test]
    fn roll_then_roll_back_is_identity() {
        let x: Vec<f32> = (0..20).map(|v| v as f32).collect();
        let mut y = vec![0.0; 20];
        let mut z = vec![0.0; 20];
        roll_rows(&x, 10, 1, &[3, -12], &mut y);
        assert_eq!(&y[..10], &[7.0, 8.0, 9.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        roll_rows(&y, 10, 1, &[-3, 12], &mut z);
        assert_eq!(z, x);
    }
}

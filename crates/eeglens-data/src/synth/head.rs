//! The head-model mode of the generator (`eeglens synth --head-model sphere`): every signal is
//! the activity of current dipoles inside a homogeneous conducting sphere, projected to the
//! electrodes by the sphere's lead field, so that the recorded channels have the spatial
//! structure of scalp EEG (neighbouring electrodes correlated, a channel predicted by its
//! neighbours' spherical spline) that `prepare --clean` expects.
//!
//! # Forward model
//! The potential at a point `r` on the surface of a homogeneous sphere of radius `R` and
//! conductivity `σ`, of a current dipole of moment `q` at `r0` (`|r0| < R`), in the closed form
//! of Kavanagh, Darcey, Lehmann & Fender (1978, IEEE Trans. Biomed. Eng. 25:421) as written by
//! Lütkenhöner (1992, eq. A.17):
//!
//! ```text
//! V = q · F / (4π σ |r0|²),   d = r - r0,
//! F = ( r0·(r/R - d/|d|) / (R²|r0|² - (r·r0)²) + 2/|d|³ ) (|r0|² r - (r·r0) r0)
//!     + ( (R² - |r0|²)/|d|³ - 1/R ) r0
//! ```
//!
//! (the first fraction is dropped when `r` and `r0` are collinear, where the vector it
//! multiplies vanishes), and `V = 3 q·r / (4π σ R³)` for a dipole at the centre. It is checked
//! against the Legendre series solution of the same problem (a slow, independent reference; see
//! the tests). A single sphere has no skull: its potentials are more focal than a head's. As
//! Berg & Scherg (1994) showed that the potentials of a multi-shell head are close to those of
//! homogeneous-sphere dipoles at smaller eccentricities, the sources sit deeper than cortex:
//! at [`SOURCE_ECCENTRICITY`] of the radius, radially oriented (cortical pyramidal cells point
//! across the cortex, which a sphere makes radial).
//!
//! # Sources
//! - background: [`N_BACKGROUND`] dipoles spread evenly (a Fibonacci lattice) over the upper
//!   part of the source sphere, each an independent `1/f^chi` signal;
//! - posterior alpha (two dipoles), fronto-central theta (one), central beta (one per side), as
//!   in the default generator, at the centroid of the electrodes that name them;
//! - the planted effect: one dipole under each of `effect.channels`, scaled as in the default
//!   generator (added band power `effect.size` times the band power at those channels);
//! - then the subject's gain, the file's reference, and what the amplifier adds to each
//!   electrode independently: white sensor noise (0.2 µV RMS ± 10 %), line noise (1 µV ± 10 %, one phase) and slow
//!   drift (below 0.3 Hz, 1 µV RMS); eye blinks with the eyes open.
//!
//! The reference: for an EGI montage (labels `E<n>`) with `Cz`, the vertex, as the HBN files
//! are recorded (Cz all zeros); the average of the electrodes otherwise.

use eeglens_autodiff::Rng;

use super::spectral::{band_noise, burst_envelope, normalise_rms, pink_noise, rhythm};
use super::{
    add_blinks, centroid, eyes_blocks, jitter, shaped_drift, smooth_mask, unit, SubjectMeta, SynthConfig,
    SynthSubject, Traits,
};

/// How the generator carries its sources to the electrodes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HeadModel {
    /// Latent sources mixed by a Gaussian kernel of the arc between electrode and source, plus
    /// an independent background per electrode (the default; channels only loosely related).
    #[default]
    Kernel,
    /// Dipoles in a homogeneous sphere, projected by its lead field (this module).
    Sphere,
}

impl HeadModel {
    /// Parses `kernel` or `sphere`.
    ///
    /// # Errors
    /// A message naming the accepted values.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "kernel" | "none" => Ok(HeadModel::Kernel),
            "sphere" => Ok(HeadModel::Sphere),
            _ => Err(format!("unknown head model `{s}` (expected kernel or sphere)")),
        }
    }

    /// The name [`HeadModel::parse`] reads.
    pub fn name(self) -> &'static str {
        match self {
            HeadModel::Kernel => "kernel",
            HeadModel::Sphere => "sphere",
        }
    }
}

/// RMS of each electrode's own slow drift, µV.
const DRIFT_UV: f64 = 1.0;
/// Amplitude of the line noise, µV.
const LINE_UV: f64 = 1.0;
/// RMS of each electrode's white sensor noise, µV (± 10 %): an EEG amplifier's input noise.
const NOISE_UV: f64 = 0.2;

/// Distance of the sources from the centre, as a fraction of the head's radius.
pub const SOURCE_ECCENTRICITY: f64 = 0.6;
/// Number of background dipoles.
pub const N_BACKGROUND: usize = 48;
/// The background dipoles cover the source sphere above this height (a fraction of the radius).
pub const BACKGROUND_Z_MIN: f64 = -0.3;

fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn scale(a: [f64; 3], s: f64) -> [f64; 3] {
    [a[0] * s, a[1] * s, a[2] * s]
}

/// The potential at `electrode` (a point on the sphere's surface, which sets its radius) of a
/// current dipole of moment `moment` at `dipole` inside a homogeneous sphere of conductivity
/// `sigma`, against infinity (see the module page for the formula and its source).
pub fn sphere_potential(electrode: [f64; 3], dipole: [f64; 3], moment: [f64; 3], sigma: f64) -> f64 {
    let r = electrode;
    let big_r = dot(r, r).sqrt();
    let c0sq = dot(dipole, dipole);
    let four_pi_sigma = 4.0 * std::f64::consts::PI * sigma;
    if c0sq == 0.0 {
        return 3.0 * dot(moment, r) / (four_pi_sigma * big_r.powi(3));
    }
    let d = [r[0] - dipole[0], r[1] - dipole[1], r[2] - dipole[2]];
    let dn = dot(d, d).sqrt();
    let rr0 = dot(r, dipole);
    let c5 = big_r * big_r * c0sq - rr0 * rr0;
    let c6 = [c0sq * r[0] - rr0 * dipole[0], c0sq * r[1] - rr0 * dipole[1], c0sq * r[2] - rr0 * dipole[2]];
    let mut coeff = 2.0 / dn.powi(3);
    if c5 > 1e-12 * big_r * big_r * c0sq {
        let u = [r[0] / big_r - d[0] / dn, r[1] / big_r - d[1] / dn, r[2] / big_r - d[2] / dn];
        coeff += dot(dipole, u) / c5;
    }
    let k = (big_r * big_r - c0sq) / dn.powi(3) - 1.0 / big_r;
    let f = [coeff * c6[0] + k * dipole[0], coeff * c6[1] + k * dipole[1], coeff * c6[2] + k * dipole[2]];
    dot(moment, f) / (four_pi_sigma * c0sq)
}

/// The topography of a radial dipole at `ecc` of the radius under direction `dir`, average
/// referenced and scaled to a peak of 1 (unit sphere, unit conductivity).
fn topography(cfg: &SynthConfig, dir: [f64; 3], ecc: f64) -> Vec<f64> {
    let u = unit(dir);
    let pos = scale(u, ecc);
    let mut v: Vec<f64> = cfg.positions.iter().map(|&e| sphere_potential(unit(e), pos, u, 1.0)).collect();
    let mean = v.iter().sum::<f64>() / v.len().max(1) as f64;
    v.iter_mut().for_each(|x| *x -= mean);
    let peak = v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    if peak > 0.0 {
        v.iter_mut().for_each(|x| *x /= peak);
    }
    v
}

/// `n` directions spread evenly over the part of the unit sphere with `z > z_min` (a Fibonacci
/// lattice in `z`).
fn fibonacci_cap(n: usize, z_min: f64) -> Vec<[f64; 3]> {
    let golden = std::f64::consts::PI * (3.0 - 5f64.sqrt());
    (0..n)
        .map(|i| {
            let z = 1.0 - (1.0 - z_min) * (i as f64 + 0.5) / n as f64;
            let rho = (1.0 - z * z).max(0.0).sqrt();
            let phi = golden * i as f64;
            [rho * phi.cos(), rho * phi.sin(), z]
        })
        .collect()
}

fn add_projected(out: &mut [Vec<f64>], topo: &[f64], source: &[f64], amp: f64) {
    for (ch, &w) in out.iter_mut().zip(topo) {
        let a = w * amp;
        if a != 0.0 {
            ch.iter_mut().zip(source).for_each(|(o, s)| *o += a * s);
        }
    }
}

/// The index of the vertex reference for an EGI montage with `Cz` (or `E129`), else `None`.
pub fn vertex_reference(cfg: &SynthConfig) -> Option<usize> {
    let egi = cfg.channels.iter().any(|c| {
        let c = c.trim();
        c.len() > 1 && c.starts_with(['E', 'e']) && c[1..].bytes().all(|b| b.is_ascii_digit())
    });
    if !egi {
        return None;
    }
    cfg.channels.iter().position(|c| c.eq_ignore_ascii_case("Cz") || c.eq_ignore_ascii_case("E129"))
}

/// Generates subject `index` with the sphere head model (see the module page).
pub(super) fn generate_subject(cfg: &SynthConfig, meta: &SubjectMeta, index: usize) -> SynthSubject {
    // A stream of its own, apart from the default generator's.
    let mut rng = Rng::new(cfg.seed).fork(0x4EAD_0000 + index as u64);
    let fs = cfg.fs;
    let n = (cfg.duration_s() * fs).round() as usize;
    let n_ch = cfg.channels.len();
    let (blocks, closed) = eyes_blocks(cfg, n);
    let alpha_gain = smooth_mask(&closed, (0.5 * fs) as usize, 0.3, 1.0);
    let traits = Traits::draw(&mut rng);
    let mut base: Vec<Vec<f64>> = vec![vec![0.0; n]; n_ch];

    // Background: each dipole's peak electrode gets `BG_AMP` µV RMS of its 1/f signal.
    const BG_AMP: f64 = 6.0;
    for dir in fibonacci_cap(N_BACKGROUND, BACKGROUND_Z_MIN) {
        let topo = topography(cfg, dir, SOURCE_ECCENTRICITY);
        let s = pink_noise(&mut rng, n, fs, traits.chi, 0.5);
        add_projected(&mut base, &topo, &s, BG_AMP);
    }
    // Posterior alpha, stronger with the eyes closed.
    let posterior = centroid(cfg, &["O1", "O2", "Oz", "P3", "P4", "Pz"]);
    for _ in 0..2 {
        let topo = topography(cfg, jitter(&mut rng, posterior, 0.15), SOURCE_ECCENTRICITY);
        let f0 = traits.alpha_f + 0.3 * rng.normal();
        let mut s = rhythm(&mut rng, n, fs, f0, 0.6);
        let env = burst_envelope(&mut rng, n, fs, 0.4, 0.7);
        for ((v, e), g) in s.iter_mut().zip(&env).zip(&alpha_gain) {
            *v *= e * g;
        }
        add_projected(&mut base, &topo, &s, traits.alpha_amp / 2f64.sqrt());
    }
    // Fronto-central theta.
    let topo =
        topography(cfg, jitter(&mut rng, centroid(cfg, &["Fz", "FCz", "Cz"]), 0.1), SOURCE_ECCENTRICITY);
    let mut s = rhythm(&mut rng, n, fs, traits.theta_f, 0.8);
    let env = burst_envelope(&mut rng, n, fs, 0.4, 0.6);
    s.iter_mut().zip(&env).for_each(|(v, e)| *v *= e);
    add_projected(&mut base, &topo, &s, traits.theta_amp);
    // Central beta, one dipole per side.
    for side in [["C3", "CP3", "FC3"], ["C4", "CP4", "FC4"]] {
        let topo = topography(cfg, jitter(&mut rng, centroid(cfg, &side), 0.1), SOURCE_ECCENTRICITY);
        let mut s = rhythm(&mut rng, n, fs, traits.beta_f, 1.5);
        let env = burst_envelope(&mut rng, n, fs, 0.8, 0.5);
        s.iter_mut().zip(&env).for_each(|(v, e)| *v *= e);
        add_projected(&mut base, &topo, &s, traits.beta_amp);
    }
    add_effect(cfg, meta, &mut rng, &mut base);

    for ch in base.iter_mut() {
        ch.iter_mut().for_each(|v| *v *= traits.gain);
    }
    let reference = vertex_reference(cfg);
    if let Some(r) = reference {
        let cz = base[r].clone();
        for ch in base.iter_mut() {
            ch.iter_mut().zip(&cz).for_each(|(v, c)| *v -= c);
        }
    }
    // What the amplifier adds per electrode (nothing to the reference, which stays zero).
    let line_phase = rng.uniform_range(0.0, 2.0 * std::f64::consts::PI);
    for (c, ch) in base.iter_mut().enumerate() {
        let drift = shaped_drift(&mut rng, n, fs);
        let phase = line_phase;
        // Mains interference is mostly common to the electrodes: the same phase, its amplitude
        // varying a little with each electrode's impedance.
        let line_amp = LINE_UV * (1.0 + 0.1 * rng.normal());
        let noise_sd = NOISE_UV * (1.0 + 0.1 * rng.normal()).abs();
        if Some(c) == reference {
            continue;
        }
        let line_on = cfg.line_freq > 0.0 && cfg.line_freq < fs / 2.0;
        for (t, v) in ch.iter_mut().enumerate() {
            let line = if line_on {
                line_amp * (2.0 * std::f64::consts::PI * cfg.line_freq * t as f64 / fs + phase).sin()
            } else {
                0.0
            };
            *v += DRIFT_UV * drift[t] + line + noise_sd * rng.normal();
        }
    }
    if cfg.blinks {
        add_blinks(cfg, &mut rng, &mut base, &closed);
        if let Some(r) = reference {
            base[r].iter_mut().for_each(|v| *v = 0.0);
        }
    }
    SynthSubject {
        meta: meta.clone(),
        data: base.into_iter().map(|ch| ch.into_iter().map(|v| v as f32).collect()).collect(),
        blocks,
    }
}

/// The planted effect: one radial dipole under each planted electrode, drawn for every subject
/// (the random streams of both classes stay aligned), added to the effect class only, scaled so
/// its band power at the planted channels is `effect.size` times what is there (both average
/// referenced).
fn add_effect(cfg: &SynthConfig, meta: &SubjectMeta, rng: &mut Rng, base: &mut [Vec<f64>]) {
    let (n, fs) = (base.first().map_or(0, Vec::len), cfg.fs);
    let (lo, hi) = cfg.effect.band;
    let planted: Vec<usize> = cfg.effect.channels.iter().filter_map(|c| cfg.channel_index(c)).collect();
    let mut effect: Vec<Vec<f64>> = vec![vec![0.0; n]; base.len()];
    for &c in &planted {
        let topo = topography(cfg, cfg.positions[c], SOURCE_ECCENTRICITY);
        let mut s = band_noise(rng, n, fs, lo, hi, 0.5);
        let env = burst_envelope(rng, n, fs, 0.5, 0.6);
        s.iter_mut().zip(&env).for_each(|(v, e)| *v *= e);
        normalise_rms(&mut s);
        add_projected(&mut effect, &topo, &s, 1.0);
    }
    super::add_planted_effect(cfg, meta, &planted, base, &effect);
}

#[cfg(test)]
mod tests {
    use super::super::spectral::band_power;
    use super::*;

    /// The Legendre series of a dipole in a homogeneous sphere (radius `R`, conductivity 1) at
    /// `b` on the z axis, at the surface point of polar angle `theta` and azimuth `phi`: radial
    /// moment `sum (2n+1) (b/R)^(n-1) P_n(cos θ)`, tangential (x) moment
    /// `sum (2n+1)/n (b/R)^(n-1) P_n'(cos θ) sin θ cos φ`, both over `4π R²`. Derived from the
    /// infinite-medium expansion plus the interior harmonic that makes the normal current zero at
    /// the surface.
    fn series(b: f64, big_r: f64, theta: f64, phi: f64, radial: bool) -> f64 {
        let x = theta.cos();
        let (mut p_prev, mut p) = (1.0, x); // P_0, P_1
        let (mut dp_prev, mut dp) = (0.0, 1.0); // P_0', P_1'
        let mut sum = 0.0;
        for n in 1..2000 {
            let nf = n as f64;
            let t = (b / big_r).powi(n - 1);
            sum += if radial {
                (2.0 * nf + 1.0) * t * p
            } else {
                (2.0 * nf + 1.0) / nf * t * dp * theta.sin() * phi.cos()
            };
            // Bonnet's recursion, and P'_{n+1} = P'_{n-1} + (2n+1) P_n.
            let p_next = ((2.0 * nf + 1.0) * x * p - nf * p_prev) / (nf + 1.0);
            let dp_next = dp_prev + (2.0 * nf + 1.0) * p;
            (p_prev, p, dp_prev, dp) = (p, p_next, dp, dp_next);
        }
        sum / (4.0 * std::f64::consts::PI * big_r * big_r)
    }

    #[test]
    fn closed_form_matches_the_legendre_series() {
        let big_r = 1.3;
        for b in [0.0, 0.3, 0.6, 0.8] {
            for theta in [0.0f64, 0.2, 0.7, 1.4, 2.2, 3.0] {
                for phi in [0.0f64, 1.0, 2.5] {
                    let e = [
                        big_r * theta.sin() * phi.cos(),
                        big_r * theta.sin() * phi.sin(),
                        big_r * theta.cos(),
                    ];
                    for radial in [true, false] {
                        let q = if radial { [0.0, 0.0, 1.0] } else { [1.0, 0.0, 0.0] };
                        let got = sphere_potential(e, [0.0, 0.0, b * big_r], q, 1.0);
                        let want = series(b * big_r, big_r, theta, phi, radial);
                        let tol = 1e-9 * want.abs().max(1e-3);
                        assert!(
                            (got - want).abs() < tol,
                            "b {b} θ {theta} φ {phi} radial {radial}: {got} vs {want}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn potential_is_linear_in_the_moment_and_rotates_with_the_sphere() {
        let e = unit([0.3, -0.5, 0.8]);
        let p = [0.1, 0.2, 0.4];
        let v = |q: [f64; 3]| sphere_potential(e, p, q, 0.33);
        let sum = v([1.0, 0.0, 0.0]) * 0.5 - v([0.0, 1.0, 0.0]) * 2.0 + v([0.0, 0.0, 1.0]) * 3.0;
        assert!((v([0.5, -2.0, 3.0]) - sum).abs() < 1e-12 * sum.abs().max(1.0));
        // A rotation about z by 90 degrees of electrode, dipole and moment leaves V unchanged.
        let rot = |a: [f64; 3]| [-a[1], a[0], a[2]];
        let q = [0.2, -0.7, 0.4];
        let a = sphere_potential(e, p, q, 0.33);
        let b = sphere_potential(rot(e), rot(p), rot(q), 0.33);
        assert!((a - b).abs() < 1e-12 * a.abs().max(1.0), "{a} vs {b}");
    }

    #[test]
    fn head_model_names_parse() {
        assert_eq!(HeadModel::parse("Sphere"), Ok(HeadModel::Sphere));
        assert_eq!(HeadModel::parse("kernel"), Ok(HeadModel::Kernel));
        assert!(HeadModel::parse("bem").unwrap_err().contains("sphere"));
    }

    use crate::prepare::clean_channels;
    use crate::synth::{generate_subject as generate, subjects, Eyes};
    use eeglens_dsp::EeglabFirDesign;

    const FS: f64 = 128.0;

    /// A small HBN-shaped data set: the HydroCel-129 net, 40 s at 128 Hz, sphere head model.
    fn hbn_cfg() -> SynthConfig {
        let mut c = SynthConfig::hydrocel129();
        c.head_model = HeadModel::Sphere;
        c.n_subjects = 6;
        c.fs = FS;
        c.blocks = vec![(Eyes::Open, 5.0), (Eyes::Closed, 25.0)];
        c
    }

    /// What `prepare --preset paper` does before `--clean`: re-reference to E57/E100 and the
    /// EEGLAB FIR band-pass 0.25-25 Hz (here at the generated rate).
    fn paper_signal(c: &SynthConfig, data: &[Vec<f32>]) -> Vec<Vec<f32>> {
        let i = |n: &str| c.channels.iter().position(|x| x == n).expect("in the net");
        let (a, b) = (i("E57"), i("E100"));
        let fir = EeglabFirDesign::new(FS, Some(0.25), Some(25.0)).expect("design").filter();
        data.iter()
            .map(|ch| {
                let x: Vec<f64> = (0..ch.len())
                    .map(|t| ch[t] as f64 - 0.5 * (data[a][t] as f64 + data[b][t] as f64))
                    .collect();
                fir.filter_zero_phase(&x).expect("filters").into_iter().map(|v| v as f32).collect()
            })
            .collect()
    }

    fn corr(x: &[f32], y: &[f32]) -> f64 {
        let n = x.len() as f64;
        let (mx, my) =
            (x.iter().map(|&v| v as f64).sum::<f64>() / n, y.iter().map(|&v| v as f64).sum::<f64>() / n);
        let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
        for (&a, &b) in x.iter().zip(y) {
            let (a, b) = (a as f64 - mx, b as f64 - my);
            sxy += a * b;
            sxx += a * a;
            syy += b * b;
        }
        sxy / (sxx * syy).sqrt()
    }

    /// Each electrode's correlation with its nearest neighbour (Cz, the reference, left out).
    fn neighbour_correlations(c: &SynthConfig, data: &[Vec<f32>]) -> Vec<f64> {
        let arc = |a: [f64; 3], b: [f64; 3]| dot(unit(a), unit(b)).clamp(-1.0, 1.0).acos();
        (0..c.channels.len())
            .map(|i| {
                let j = (0..c.channels.len())
                    .filter(|&j| j != i)
                    .min_by(|&a, &b| {
                        arc(c.positions[i], c.positions[a]).total_cmp(&arc(c.positions[i], c.positions[b]))
                    })
                    .expect("other electrodes");
                corr(&data[i], &data[j])
            })
            .collect()
    }

    #[test]
    fn neighbouring_electrodes_correlate_as_on_a_head_and_clean_flags_none() {
        let c = hbn_cfg();
        let metas = subjects(&c);
        let s = generate(&c, &metas[0], 0);
        // As HBN ships it: the vertex reference is all zeros.
        let cz = c.channels.iter().position(|x| x == "Cz").expect("Cz");
        assert!(s.data[cz].iter().all(|&v| v == 0.0));
        let x = paper_signal(&c, &s.data);
        let mut r = neighbour_correlations(&c, &x);
        r.sort_by(f64::total_cmp);
        let (p10, median) = (r[r.len() / 10], r[r.len() / 2]);
        eprintln!(
            "nearest-neighbour correlation: min {:.3} p10 {p10:.3} median {median:.3} max {:.3}",
            r[0],
            r[r.len() - 1]
        );
        assert!((0.8..=0.95).contains(&median), "median neighbour correlation {median}");
        assert!(p10 > 0.6, "10th percentile {p10}");
        // The kernel generator's channels are far less related.
        let mut k = c.clone();
        k.head_model = HeadModel::Kernel;
        let xk = paper_signal(&k, &generate(&k, &metas[0], 0).data);
        let mut rk = neighbour_correlations(&k, &xk);
        rk.sort_by(f64::total_cmp);
        assert!(rk[rk.len() / 2] < median - 0.1, "kernel {} vs sphere {median}", rk[rk.len() / 2]);
        // No channel of a clean recording is flagged, whatever the subject's gain and traits.
        for (i, m) in metas.iter().enumerate() {
            let mut y = paper_signal(&c, &generate(&c, m, i).data);
            let report = clean_channels(&mut y, &c.channels, FS).expect("a clean recording is kept");
            assert!(report.interpolated.is_empty(), "sub-{}: {report:?}", m.label);
        }
    }

    #[test]
    fn clean_flags_a_planted_flat_uncorrelated_or_line_noise_channel_and_only_it() {
        let c = hbn_cfg();
        let metas = subjects(&c);
        let x = paper_signal(&c, &generate(&c, &metas[1], 1).data);
        let at = |n: &str| c.channels.iter().position(|x| x == n).expect("in the net");
        let rms = |v: &[f32]| (v.iter().map(|&a| (a as f64).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
        let mut y = x.clone();
        // E36 (C3) flat, E70 (O1) replaced by an unrelated signal of the same power, E24 (F3)
        // with strong line noise.
        let (flat, other, noisy) = (at("E36"), at("E70"), at("E24"));
        y[flat].iter_mut().for_each(|v| *v = 0.0);
        let mut rng = Rng::new(77);
        // Band-passed as the recording was (an unfiltered one would also be flagged for its
        // power above 50 Hz).
        let fir = EeglabFirDesign::new(FS, Some(0.25), Some(25.0)).expect("design").filter();
        let mut unrelated =
            fir.filter_zero_phase(&pink_noise(&mut rng, y[other].len(), FS, 1.5, 1.0)).expect("filters");
        normalise_rms(&mut unrelated);
        let a = rms(&y[other]);
        y[other] = unrelated.iter().map(|&v| (v * a) as f32).collect();
        let b = 2.0 * rms(&y[noisy]);
        for (t, v) in y[noisy].iter_mut().enumerate() {
            *v += (b * (std::f64::consts::TAU * 60.0 * t as f64 / FS).sin()) as f32;
        }
        let report = clean_channels(&mut y, &c.channels, FS).expect("three bad channels are few enough");
        assert_eq!(report.flat, ["E36"], "{report:?}");
        assert_eq!(report.line_noise, ["E24"], "{report:?}");
        assert_eq!(report.low_correlation, ["E70"], "{report:?}");
        assert_eq!(report.interpolated, ["E24", "E36", "E70"]);
        // The interpolated flat channel is close to what was there.
        let err = rms(&y[flat].iter().zip(&x[flat]).map(|(p, q)| p - q).collect::<Vec<_>>());
        assert!(err < 0.5 * rms(&x[flat]), "interpolation error {err} of {}", rms(&x[flat]));
    }

    #[test]
    fn planted_effect_lands_under_the_planted_electrodes() {
        let c = hbn_cfg();
        let metas = subjects(&c);
        // The same subject with and without the effect: the streams are aligned, so the
        // difference is the effect alone.
        let mut with = metas[0].clone();
        with.sex = c.effect.class.clone();
        let mut without = metas[0].clone();
        without.sex = c.classes.iter().find(|k| **k != c.effect.class).expect("two classes").clone();
        let a = paper_signal(&c, &generate(&c, &with, 0).data);
        let b = paper_signal(&c, &generate(&c, &without, 0).data);
        let (lo, hi) = c.effect.band;
        let bp = |x: &[f32]| band_power(&x.iter().map(|&v| v as f64).collect::<Vec<_>>(), FS, lo, hi);
        let ratio = |n: &str| {
            let i = c.channel_index(n).expect("in the net");
            bp(&a[i]) / bp(&b[i])
        };
        let planted: Vec<f64> = c.effect.channels.iter().map(|n| ratio(n)).collect();
        let far: Vec<f64> = ["O1", "P3", "P4", "T5", "T6", "Fp1", "Fp2"].iter().map(|n| ratio(n)).collect();
        eprintln!("band power with/without effect: planted {planted:?}, far {far:?}");
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        assert!(mean(&planted) > 1.0 + 0.5 * c.effect.size, "planted {planted:?}");
        assert!(mean(&far) < 1.0 + 0.25 * mean(&planted), "far {far:?} vs planted {planted:?}");
        // Outside the band nothing changes.
        let i = c.channel_index("Fz").expect("Fz");
        let out = |x: &[f32]| band_power(&x.iter().map(|&v| v as f64).collect::<Vec<_>>(), FS, 13.0, 25.0);
        assert!((out(&a[i]) / out(&b[i]) - 1.0).abs() < 0.1);
    }
}

//! Butterworth design as second-order sections, following `scipy.signal.butter(output="sos")`.
//!
//! The analog prototype's poles (`buttap`) are moved to the requested band in the s-plane
//! (`lp2lp`, `lp2hp`, `lp2bp`, `lp2bs`) after pre-warping the edges, mapped to the z-plane by
//! the bilinear transform, and paired into sections with SciPy's `zpk2sos(pairing="nearest")`
//! rules, so coefficients agree with SciPy to rounding and sections come in the same order
//! (the poles closest to the unit circle last).

use std::f64::consts::PI;

use rustfft::num_complex::Complex64;

use crate::error::{DspError, Result};
use crate::sample::{check_cutoff, check_fs};
use crate::sos::Sos;

/// The largest Butterworth order accepted (band-pass and band-stop double it).
pub const MAX_BUTTER_ORDER: usize = 24;

/// Which band a filter passes (for IIR designs) — frequencies in Hz.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FilterKind {
    /// Pass below the cut-off.
    LowPass(f64),
    /// Pass above the cut-off.
    HighPass(f64),
    /// Pass between the two edges.
    BandPass(f64, f64),
    /// Reject between the two edges.
    BandStop(f64, f64),
}

impl FilterKind {
    /// Checks the edges against the sampling rate.
    pub(crate) fn validate(&self, fs: f64) -> Result<()> {
        check_fs(fs)?;
        match *self {
            FilterKind::LowPass(f) => check_cutoff("low-pass cut-off", f, fs),
            FilterKind::HighPass(f) => check_cutoff("high-pass cut-off", f, fs),
            FilterKind::BandPass(lo, hi) | FilterKind::BandStop(lo, hi) => {
                let name = if matches!(self, FilterKind::BandPass(..)) { "band-pass" } else { "band-stop" };
                check_cutoff("band lower edge", lo, fs)?;
                check_cutoff("band upper edge", hi, fs)?;
                if lo >= hi {
                    return Err(DspError::BandEdges { name: name.to_string(), lo, hi });
                }
                Ok(())
            }
        }
    }
}

/// Zeros, poles and gain of a filter.
#[derive(Debug, Clone)]
struct Zpk {
    z: Vec<Complex64>,
    p: Vec<Complex64>,
    k: f64,
}

/// Designs a digital Butterworth filter of `order` as second-order sections.
///
/// Equivalent to `scipy.signal.butter(order, edges, btype, fs=fs, output="sos")`.
/// Band-pass and band-stop designs have `2 * order` poles, hence `order` sections.
///
/// # Errors
/// [`DspError::Order`] for order 0 or above [`MAX_BUTTER_ORDER`]; [`DspError::SamplingRate`];
/// [`DspError::Cutoff`] for an edge not strictly inside (0, fs/2); [`DspError::BandEdges`]
/// when a band's lower edge is not below its upper edge.
pub fn butter(order: usize, kind: FilterKind, fs: f64) -> Result<Sos> {
    if order == 0 || order > MAX_BUTTER_ORDER {
        return Err(DspError::Order { order, max: MAX_BUTTER_ORDER });
    }
    kind.validate(fs)?;
    // SciPy normalises to Nyquist, then designs at an internal rate of 2.
    let warp = |f: f64| {
        let wn = f / (fs / 2.0);
        4.0 * (PI * wn / 2.0).tan()
    };
    let proto = buttap(order);
    let analog = match kind {
        FilterKind::LowPass(f) => lp2lp(proto, warp(f)),
        FilterKind::HighPass(f) => lp2hp(proto, warp(f)),
        FilterKind::BandPass(lo, hi) => {
            let (w0, w1) = (warp(lo), warp(hi));
            lp2bp(proto, (w0 * w1).sqrt(), w1 - w0)
        }
        FilterKind::BandStop(lo, hi) => {
            let (w0, w1) = (warp(lo), warp(hi));
            lp2bs(proto, (w0 * w1).sqrt(), w1 - w0)
        }
    };
    let digital = bilinear(analog, 2.0);
    Ok(Sos::from_sections_unchecked(zpk2sos(digital)))
}

/// Analog Butterworth low-pass prototype with cut-off 1 rad/s.
fn buttap(n: usize) -> Zpk {
    let n_f = n as f64;
    let p = (0..n)
        .map(|i| {
            let m = -(n_f) + 1.0 + 2.0 * i as f64;
            -Complex64::new(0.0, PI * m / (2.0 * n_f)).exp()
        })
        .collect();
    Zpk { z: Vec::new(), p, k: 1.0 }
}

fn degree(zpk: &Zpk) -> usize {
    zpk.p.len() - zpk.z.len()
}

fn prod(v: &[Complex64]) -> Complex64 {
    v.iter().fold(Complex64::new(1.0, 0.0), |acc, x| acc * x)
}

fn lp2lp(zpk: Zpk, wo: f64) -> Zpk {
    let d = degree(&zpk) as i32;
    Zpk {
        z: zpk.z.iter().map(|z| z * wo).collect(),
        p: zpk.p.iter().map(|p| p * wo).collect(),
        k: zpk.k * wo.powi(d),
    }
}

fn lp2hp(zpk: Zpk, wo: f64) -> Zpk {
    let d = degree(&zpk);
    let neg_z: Vec<Complex64> = zpk.z.iter().map(|z| -z).collect();
    let neg_p: Vec<Complex64> = zpk.p.iter().map(|p| -p).collect();
    let k = zpk.k * (prod(&neg_z) / prod(&neg_p)).re;
    let mut z: Vec<Complex64> = zpk.z.iter().map(|z| wo / z).collect();
    z.extend(std::iter::repeat_n(Complex64::new(0.0, 0.0), d));
    Zpk { z, p: zpk.p.iter().map(|p| wo / p).collect(), k }
}

/// Shifts each root `r` (already scaled) to the pair `r ± sqrt(r^2 - wo^2)`, all "+" first.
fn split_around(roots: &[Complex64], wo: f64) -> Vec<Complex64> {
    let plus = roots.iter().map(|r| r + (r * r - wo * wo).sqrt());
    let minus = roots.iter().map(|r| r - (r * r - wo * wo).sqrt());
    plus.chain(minus).collect()
}

fn lp2bp(zpk: Zpk, wo: f64, bw: f64) -> Zpk {
    let d = degree(&zpk);
    let z_lp: Vec<Complex64> = zpk.z.iter().map(|z| z * (bw / 2.0)).collect();
    let p_lp: Vec<Complex64> = zpk.p.iter().map(|p| p * (bw / 2.0)).collect();
    let mut z = split_around(&z_lp, wo);
    z.extend(std::iter::repeat_n(Complex64::new(0.0, 0.0), d));
    Zpk { z, p: split_around(&p_lp, wo), k: zpk.k * bw.powi(d as i32) }
}

fn lp2bs(zpk: Zpk, wo: f64, bw: f64) -> Zpk {
    let d = degree(&zpk);
    let z_hp: Vec<Complex64> = zpk.z.iter().map(|z| (bw / 2.0) / z).collect();
    let p_hp: Vec<Complex64> = zpk.p.iter().map(|p| (bw / 2.0) / p).collect();
    let mut z = split_around(&z_hp, wo);
    z.extend(std::iter::repeat_n(Complex64::new(0.0, wo), d));
    z.extend(std::iter::repeat_n(Complex64::new(0.0, -wo), d));
    let neg_z: Vec<Complex64> = zpk.z.iter().map(|z| -z).collect();
    let neg_p: Vec<Complex64> = zpk.p.iter().map(|p| -p).collect();
    let k = zpk.k * (prod(&neg_z) / prod(&neg_p)).re;
    Zpk { z, p: split_around(&p_hp, wo), k }
}

fn bilinear(zpk: Zpk, fs: f64) -> Zpk {
    let d = degree(&zpk);
    let fs2 = 2.0 * fs;
    let mut z: Vec<Complex64> = zpk.z.iter().map(|z| (fs2 + z) / (fs2 - z)).collect();
    let p: Vec<Complex64> = zpk.p.iter().map(|p| (fs2 + p) / (fs2 - p)).collect();
    z.extend(std::iter::repeat_n(Complex64::new(-1.0, 0.0), d));
    let num: Vec<Complex64> = zpk.z.iter().map(|z| fs2 - z).collect();
    let den: Vec<Complex64> = zpk.p.iter().map(|p| fs2 - p).collect();
    let k = zpk.k * (prod(&num) / prod(&den)).re;
    Zpk { z, p, k }
}

/// SciPy's `_cplxreal`: one of each conjugate pair (positive imaginary part, averaged with its
/// partner) sorted by real part then |imag|, followed by the real roots sorted by value.
fn cplxreal(mut z: Vec<Complex64>) -> Vec<Complex64> {
    let tol = 100.0 * f64::EPSILON;
    z.sort_by(|a, b| a.re.total_cmp(&b.re).then(a.im.abs().total_cmp(&b.im.abs())));
    let is_real = |c: &Complex64| c.im.abs() <= tol * c.norm();
    let reals: Vec<Complex64> = z.iter().filter(|c| is_real(c)).map(|c| Complex64::new(c.re, 0.0)).collect();
    let mut zp: Vec<Complex64> = z.iter().filter(|c| !is_real(c) && c.im > 0.0).copied().collect();
    let mut zn: Vec<Complex64> = z.iter().filter(|c| !is_real(c) && c.im < 0.0).copied().collect();
    // Within runs of (nearly) equal real part, order by |imag| so partners line up.
    let mut start = 0;
    while start < zp.len() {
        let mut stop = start;
        while stop + 1 < zp.len() && zp[stop + 1].re - zp[stop].re <= tol * zp[stop].norm() {
            stop += 1;
        }
        if stop > start {
            let by_imag = |a: &Complex64, b: &Complex64| a.im.abs().total_cmp(&b.im.abs());
            zp[start..=stop].sort_by(by_imag);
            if stop < zn.len() {
                zn[start..=stop].sort_by(by_imag);
            }
        }
        start = stop + 1;
    }
    let mut out: Vec<Complex64> = zp.iter().zip(&zn).map(|(a, b)| (a + b.conj()) / 2.0).collect();
    out.extend(reals);
    out
}

fn is_real(c: Complex64) -> bool {
    c.im == 0.0
}

/// Index of the pole closest to the unit circle (first one on ties, like `argmin`).
fn idx_worst(p: &[Complex64]) -> usize {
    let mut best = 0;
    for (i, v) in p.iter().enumerate() {
        if (1.0 - v.norm()).abs() < (1.0 - p[best].norm()).abs() {
            best = i;
        }
    }
    best
}

#[derive(Clone, Copy, PartialEq)]
enum Which {
    Real,
    Complex,
    Any,
}

/// SciPy's `_nearest_real_complex_idx`: the nearest root of the requested kind. Where none
/// of that kind is left (only possible for degenerate, numerically collapsed designs) the
/// nearest root of any kind stands in, so extreme parameters never panic.
fn nearest_idx(from: &[Complex64], to: Complex64, which: Which) -> Option<usize> {
    let mut order: Vec<usize> = (0..from.len()).collect();
    order.sort_by(|&a, &b| (from[a] - to).norm().total_cmp(&(from[b] - to).norm()));
    let wanted = order.iter().copied().find(|&i| match which {
        Which::Any => true,
        Which::Real => is_real(from[i]),
        Which::Complex => !is_real(from[i]),
    });
    wanted.or_else(|| order.first().copied())
}

/// Removes and returns the nearest root of the requested kind, if any root is left.
fn take_nearest(from: &mut Vec<Complex64>, to: Complex64, which: Which) -> Option<Complex64> {
    nearest_idx(from, to, which).map(|i| from.remove(i))
}

/// Coefficients of `prod (x - r)`, real parts (roots come in conjugate pairs or are real).
fn poly(roots: &[Complex64]) -> Vec<f64> {
    let mut c = vec![Complex64::new(1.0, 0.0)];
    for r in roots {
        let mut next = vec![Complex64::new(0.0, 0.0); c.len() + 1];
        for (i, v) in c.iter().enumerate() {
            next[i] += v;
            next[i + 1] -= v * r;
        }
        c = next;
    }
    c.iter().map(|v| v.re).collect()
}

fn single_section(z: &[Complex64], p: &[Complex64]) -> [f64; 6] {
    let b = poly(z);
    let a = poly(p);
    let mut s = [0.0; 6];
    s[3 - b.len()..3].copy_from_slice(&b);
    s[6 - a.len()..6].copy_from_slice(&a);
    s
}

/// SciPy's `zpk2sos(z, p, k, pairing="nearest")` for digital filters.
fn zpk2sos(zpk: Zpk) -> Vec<[f64; 6]> {
    let Zpk { mut z, mut p, k } = zpk;
    if z.is_empty() && p.is_empty() {
        return vec![[k, 0.0, 0.0, 1.0, 0.0, 0.0]];
    }
    let zero = Complex64::new(0.0, 0.0);
    let n = z.len().max(p.len());
    p.resize(n, zero);
    z.resize(n, zero);
    let n_sections = n.div_ceil(2);
    if n % 2 == 1 {
        p.push(zero);
        z.push(zero);
    }
    let mut z = cplxreal(z);
    let mut p = cplxreal(p);
    let mut sos = vec![[0.0; 6]; n_sections];
    for si in (0..n_sections).rev() {
        if p.is_empty() {
            // Only reachable if rounding broke a conjugate pair apart; keep the cascade valid.
            sos[si] = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];
            continue;
        }
        let p1 = p.remove(idx_worst(&p));
        let n_real_p = p.iter().filter(|c| is_real(**c)).count();
        if is_real(p1) && n_real_p == 0 {
            // Last remaining real pole: pair with the nearest real zero.
            let z1 = take_nearest(&mut z, p1, Which::Real).unwrap_or(zero);
            sos[si] = single_section(&[z1, zero], &[p1, zero]);
        } else if p.len() + 1 == z.len()
            && !is_real(p1)
            && n_real_p == 1
            && z.iter().filter(|c| is_real(**c)).count() == 1
        {
            // One real pole and one real zero left: this complex pole must take a complex zero.
            let z1 = take_nearest(&mut z, p1, Which::Complex).unwrap_or(zero);
            sos[si] = single_section(&[z1, z1.conj()], &[p1, p1.conj()]);
        } else {
            let p2 = if is_real(p1) {
                let real_idx: Vec<usize> = (0..p.len()).filter(|&i| is_real(p[i])).collect();
                let reals: Vec<Complex64> = real_idx.iter().map(|&i| p[i]).collect();
                match real_idx.get(idx_worst(&reals)) {
                    Some(&i) => p.remove(i),
                    None => zero,
                }
            } else {
                p1.conj()
            };
            match take_nearest(&mut z, p1, Which::Any) {
                None => sos[si] = single_section(&[], &[p1, p2]),
                Some(z1) if !is_real(z1) => sos[si] = single_section(&[z1, z1.conj()], &[p1, p2]),
                Some(z1) => match take_nearest(&mut z, p1, Which::Real) {
                    Some(z2) => sos[si] = single_section(&[z1, z2], &[p1, p2]),
                    None => sos[si] = single_section(&[z1], &[p1, p2]),
                },
            }
        }
    }
    for c in &mut sos[0][..3] {
        *c *= k;
    }
    sos
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    /// Gain at the cut-off of a Butterworth filter is 1/sqrt(2) (-3.01 dB).
    const CUTOFF_GAIN_TOL: f64 = 1e-9;

    #[test]
    fn lowpass_gain_is_minus_3db_at_cutoff_and_one_at_dc() {
        for order in 1..=8 {
            let sos = butter(order, FilterKind::LowPass(25.0), 500.0).expect("valid design");
            assert_eq!(sos.sections().len(), order.div_ceil(2));
            assert_abs_diff_eq!(sos.gain(0.0, 500.0), 1.0, epsilon = CUTOFF_GAIN_TOL);
            assert_abs_diff_eq!(sos.gain(25.0, 500.0), 0.5f64.sqrt(), epsilon = CUTOFF_GAIN_TOL);
        }
    }

    #[test]
    fn highpass_bandpass_bandstop_gains_at_edges() {
        let fs = 256.0;
        let hp = butter(4, FilterKind::HighPass(1.0), fs).expect("valid design");
        assert_abs_diff_eq!(hp.gain(1.0, fs), 0.5f64.sqrt(), epsilon = CUTOFF_GAIN_TOL);
        assert_abs_diff_eq!(hp.gain(fs / 2.0, fs), 1.0, epsilon = CUTOFF_GAIN_TOL);
        let bp = butter(3, FilterKind::BandPass(8.0, 13.0), fs).expect("valid design");
        assert_eq!(bp.sections().len(), 3);
        assert_abs_diff_eq!(bp.gain(8.0, fs), 0.5f64.sqrt(), epsilon = CUTOFF_GAIN_TOL);
        assert_abs_diff_eq!(bp.gain(13.0, fs), 0.5f64.sqrt(), epsilon = CUTOFF_GAIN_TOL);
        let bs = butter(2, FilterKind::BandStop(45.0, 55.0), fs).expect("valid design");
        assert_abs_diff_eq!(bs.gain(0.0, fs), 1.0, epsilon = CUTOFF_GAIN_TOL);
        // The notch sits at the geometric mean of the pre-warped edges, mapped back.
        let warp = |f: f64| (PI * f / fs).tan();
        let centre = fs / PI * (warp(45.0) * warp(55.0)).sqrt().atan();
        assert!(bs.gain(centre, fs) < 1e-9);
    }

    #[test]
    fn extreme_designs_do_not_panic() {
        // Poles and zeros collapse onto z = 1, where conjugate pairs look real.
        for order in 1..=12 {
            for kind in [
                FilterKind::BandStop(1e-300, 1e-299),
                FilterKind::BandStop(1e-12, 2e-12),
                FilterKind::BandPass(1e-300, 249.999_999),
                FilterKind::LowPass(1e-300),
                FilterKind::HighPass(249.999_999_999),
            ] {
                let sos = butter(order, kind, 500.0).expect("edges inside (0, fs/2)");
                assert_eq!(
                    sos.sections().len(),
                    if matches!(kind, FilterKind::LowPass(_) | FilterKind::HighPass(_)) {
                        order.div_ceil(2)
                    } else {
                        order
                    }
                );
            }
        }
    }

    #[test]
    fn invalid_designs_are_errors() {
        assert!(matches!(butter(0, FilterKind::LowPass(10.0), 100.0), Err(DspError::Order { .. })));
        assert!(matches!(butter(2, FilterKind::LowPass(50.0), 100.0), Err(DspError::Cutoff { .. })));
        assert!(matches!(butter(2, FilterKind::HighPass(-1.0), 100.0), Err(DspError::Cutoff { .. })));
        assert!(matches!(
            butter(2, FilterKind::BandPass(20.0, 10.0), 100.0),
            Err(DspError::BandEdges { .. })
        ));
        assert!(matches!(butter(2, FilterKind::LowPass(10.0), f64::NAN), Err(DspError::SamplingRate { .. })));
    }
}

//! Spectrally shaped Gaussian noise: the building block of every synthetic
//! signal (1/f background, narrow-band rhythms, slow envelopes, drift).
//!
//! White Gaussian noise is transformed with an FFT, each bin is multiplied by
//! a real, non-negative amplitude that depends only on |frequency|, and the
//! inverse transform gives a real signal whose power spectrum is the squared
//! amplitude (in expectation) and whose phase is uniformly random.

use eeglens_autodiff::Rng;
use rustfft::num_complex::Complex;
use rustfft::FftPlanner;

/// Gaussian noise of `n` samples at `fs` Hz whose amplitude spectrum is
/// `amplitude(f)` (`f >= 0` in Hz), scaled to unit RMS.
///
/// Returns zeros when the shaping removes all power (for example a band above Nyquist).
pub fn shaped_noise(rng: &mut Rng, n: usize, fs: f64, amplitude: impl Fn(f64) -> f64) -> Vec<f64> {
    if n == 0 {
        return Vec::new();
    }
    let mut buf: Vec<Complex<f64>> = (0..n).map(|_| Complex::new(rng.normal(), 0.0)).collect();
    let mut planner = FftPlanner::<f64>::new();
    planner.plan_fft_forward(n).process(&mut buf);
    for (k, z) in buf.iter_mut().enumerate() {
        let f = k.min(n - k) as f64 * fs / n as f64;
        *z *= amplitude(f);
    }
    planner.plan_fft_inverse(n).process(&mut buf);
    let mut out: Vec<f64> = buf.iter().map(|z| z.re).collect();
    normalise_rms(&mut out);
    out
}

/// Scales `x` to unit root-mean-square (leaves an all-zero signal alone).
pub fn normalise_rms(x: &mut [f64]) {
    let rms = (x.iter().map(|v| v * v).sum::<f64>() / x.len().max(1) as f64).sqrt();
    if rms > 0.0 {
        x.iter_mut().for_each(|v| *v /= rms);
    }
}

/// Aperiodic background: power spectrum proportional to `1 / f^chi` above
/// `f_knee` Hz and flat below it (so the DC bin stays finite).
pub fn pink_noise(rng: &mut Rng, n: usize, fs: f64, chi: f64, f_knee: f64) -> Vec<f64> {
    shaped_noise(rng, n, fs, |f| f.max(f_knee).powf(-chi / 2.0))
}

/// A narrow-band rhythm: Gaussian spectral peak at `f0` Hz with standard
/// deviation `bw` Hz (random phase, unit RMS).
pub fn rhythm(rng: &mut Rng, n: usize, fs: f64, f0: f64, bw: f64) -> Vec<f64> {
    shaped_noise(rng, n, fs, |f| (-0.5 * ((f - f0) / bw).powi(2)).exp())
}

/// Band-limited noise with a flat spectrum between `lo` and `hi` Hz and
/// raised-cosine edges `edge` Hz wide (unit RMS).
pub fn band_noise(rng: &mut Rng, n: usize, fs: f64, lo: f64, hi: f64, edge: f64) -> Vec<f64> {
    shaped_noise(rng, n, fs, |f| {
        if f >= lo && f <= hi {
            1.0
        } else if f < lo && f > lo - edge {
            0.5 * (1.0 + (std::f64::consts::PI * (lo - f) / edge).cos())
        } else if f > hi && f < hi + edge {
            0.5 * (1.0 + (std::f64::consts::PI * (f - hi) / edge).cos())
        } else {
            0.0
        }
    })
}

/// A positive, slowly varying burst envelope with mean square 1: a smooth
/// Gaussian process below `f_c` Hz, shifted and rectified so that the rhythm
/// it modulates comes and goes (roughly `duty` of the time on).
pub fn burst_envelope(rng: &mut Rng, n: usize, fs: f64, f_c: f64, duty: f64) -> Vec<f64> {
    let z = shaped_noise(rng, n, fs, |f| (-0.5 * (f / f_c).powi(2)).exp());
    // Threshold at the normal quantile that leaves `duty` above it.
    let thr = -probit(duty.clamp(0.05, 0.99));
    let mut env: Vec<f64> = z.iter().map(|&v| (v - thr).max(0.0)).collect();
    let ms = env.iter().map(|v| v * v).sum::<f64>() / n.max(1) as f64;
    if ms > 0.0 {
        let s = ms.sqrt();
        env.iter_mut().for_each(|v| *v /= s);
    }
    env
}

/// Inverse of the standard normal CDF (Acklam's rational approximation,
/// relative error below 1.2e-9), enough for choosing thresholds.
fn probit(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.38357751867269e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e1,
        1.615858368580409e2,
        -1.556989798598866e2,
        6.680131188771972e1,
        -1.328068155288572e1,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
    let pl = 0.02425;
    if p < pl {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - pl {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -probit(1.0 - p)
    }
}

/// Power of `x` between `lo` and `hi` Hz from its periodogram (sum of the
/// one-sided bins inside the band, divided by `n^2`): enough to compare bands
/// of one signal or one band across signals of equal length.
pub fn band_power(x: &[f64], fs: f64, lo: f64, hi: f64) -> f64 {
    let n = x.len();
    if n == 0 {
        return 0.0;
    }
    let mut buf: Vec<Complex<f64>> = x.iter().map(|&v| Complex::new(v, 0.0)).collect();
    FftPlanner::<f64>::new().plan_fft_forward(n).process(&mut buf);
    let mut p = 0.0;
    for (k, z) in buf.iter().enumerate() {
        let f = k.min(n - k) as f64 * fs / n as f64;
        if f >= lo && f <= hi {
            p += z.norm_sqr();
        }
    }
    p / (n as f64 * n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FS: f64 = 128.0;
    const N: usize = 128 * 64;

    #[test]
    fn pink_noise_slope_matches_chi() {
        let mut rng = Rng::new(1);
        let x = pink_noise(&mut rng, N, FS, 2.0, 0.5);
        // Power per Hz in two octave bands: ratio should be 2^chi per octave.
        let p_lo = band_power(&x, FS, 4.0, 8.0) / 4.0;
        let p_hi = band_power(&x, FS, 8.0, 16.0) / 8.0;
        let octave_ratio = p_lo / p_hi;
        // 1/f^2 integrated: density at 4-8 vs 8-16 differs by 4.
        assert!((octave_ratio - 4.0).abs() < 0.6, "ratio {octave_ratio}");
    }

    #[test]
    fn rhythm_power_concentrates_at_its_peak() {
        let mut rng = Rng::new(2);
        let x = rhythm(&mut rng, N, FS, 10.0, 0.7);
        let total = band_power(&x, FS, 0.0, FS / 2.0);
        let peak = band_power(&x, FS, 8.5, 11.5);
        assert!(peak / total > 0.9, "fraction {}", peak / total);
        let rms = (x.iter().map(|v| v * v).sum::<f64>() / N as f64).sqrt();
        approx::assert_relative_eq!(rms, 1.0, epsilon = 1e-9);
    }

    #[test]
    fn band_noise_stays_in_band() {
        let mut rng = Rng::new(3);
        let x = band_noise(&mut rng, N, FS, 18.0, 25.0, 1.0);
        let inside = band_power(&x, FS, 17.0, 26.0);
        let total = band_power(&x, FS, 0.0, FS / 2.0);
        assert!(inside / total > 0.999);
    }

    #[test]
    fn envelope_is_positive_bursty_and_unit_mean_square() {
        let mut rng = Rng::new(4);
        let e = burst_envelope(&mut rng, N, FS, 0.5, 0.6);
        assert!(e.iter().all(|&v| v >= 0.0));
        let off = e.iter().filter(|&&v| v == 0.0).count() as f64 / N as f64;
        assert!(off > 0.2 && off < 0.6, "off fraction {off}");
        let ms = e.iter().map(|v| v * v).sum::<f64>() / N as f64;
        approx::assert_relative_eq!(ms, 1.0, epsilon = 1e-9);
    }

    #[test]
    fn probit_known_values() {
        approx::assert_abs_diff_eq!(probit(0.5), 0.0, epsilon = 1e-9);
        approx::assert_abs_diff_eq!(probit(0.975), 1.959963985, epsilon = 1e-6);
        approx::assert_abs_diff_eq!(probit(0.01), -2.326347874, epsilon = 1e-6);
    }
}

//! Window functions and the windowed-sinc low-pass prototype (SciPy's `get_window`/`firwin`).

use std::f64::consts::PI;

/// Periodic Hann window of length `n` (SciPy `get_window("hann", n)`, `fftbins=True`), as used by Welch.
pub fn hann_periodic(n: usize) -> Vec<f64> {
    (0..n).map(|i| 0.5 - 0.5 * (2.0 * PI * i as f64 / n as f64).cos()).collect()
}

/// Symmetric Hamming window of length `n` (SciPy `hamming(n, sym=True)`), as used by `firwin`:
/// [`generalized_hamming_symmetric`] with `a = 0.54`.
pub fn hamming_symmetric(n: usize) -> Vec<f64> {
    generalized_hamming_symmetric(n, 0.54)
}

/// The Hamming coefficient EEGLAB's firfilt plugin uses (`windows('hamming', m)`): 25/46, the
/// value that cancels the first side lobe exactly, where SciPy and MNE round it to 0.54.
pub const EEGLAB_HAMMING_A: f64 = 25.0 / 46.0;

/// Symmetric generalised Hamming window `a - (1 - a) cos(2 pi i / (n - 1))`, `i = 0..n`
/// (SciPy `general_hamming(n, a, sym=True)`; `a = 0.5` is Hann, 0.54 SciPy's Hamming,
/// [`EEGLAB_HAMMING_A`] EEGLAB's).
pub fn generalized_hamming_symmetric(n: usize, a: f64) -> Vec<f64> {
    if n <= 1 {
        return vec![1.0; n];
    }
    let m = (n - 1) as f64;
    (0..n).map(|i| a - (1.0 - a) * (2.0 * PI * i as f64 / m).cos()).collect()
}

/// Symmetric Kaiser window of length `n` and shape `beta` (SciPy `kaiser(n, beta, sym=True)`).
pub fn kaiser_symmetric(n: usize, beta: f64) -> Vec<f64> {
    if n == 1 {
        return vec![1.0];
    }
    let alpha = (n - 1) as f64 / 2.0;
    let denom = bessel_i0(beta);
    (0..n)
        .map(|i| {
            let r = (i as f64 - alpha) / alpha;
            bessel_i0(beta * (1.0 - r * r).max(0.0).sqrt()) / denom
        })
        .collect()
}

/// Modified Bessel function of the first kind, order zero, by its power series.
///
/// The series `sum_k ((x/2)^k / k!)^2` has only positive terms, so it is accurate to a few
/// ulps for the arguments windows use (|x| up to ~30).
pub fn bessel_i0(x: f64) -> f64 {
    let q = x * x / 4.0;
    let mut term = 1.0;
    let mut sum = 1.0;
    let mut k = 1.0;
    while term > sum * 1e-17 {
        term *= q / (k * k);
        sum += term;
        k += 1.0;
    }
    sum
}

/// Normalised sinc, `sin(pi x) / (pi x)`.
#[inline]
pub fn sinc(x: f64) -> f64 {
    if x == 0.0 {
        1.0
    } else {
        let px = PI * x;
        px.sin() / px
    }
}

/// Windowed-sinc low-pass with unit DC gain, like SciPy's
/// `firwin(n, cutoff, window=..., pass_zero=True, scale=True)`.
///
/// `cutoff` is relative to the Nyquist frequency (0 < cutoff < 1) and `window` has length `n`.
pub(crate) fn firwin_lowpass(cutoff: f64, window: &[f64]) -> Vec<f64> {
    let n = window.len();
    let alpha = 0.5 * (n as f64 - 1.0);
    let mut h: Vec<f64> = (0..n).map(|i| cutoff * sinc(cutoff * (i as f64 - alpha)) * window[i]).collect();
    let s: f64 = h.iter().sum();
    for v in &mut h {
        *v /= s;
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    const TOL: f64 = 1e-14;

    #[test]
    fn bessel_i0_matches_known_values() {
        // Abramowitz & Stegun table 9.8: I0(1) = 1.2660658777520082, I0(5) = 27.239871823604442.
        assert_relative_eq!(bessel_i0(0.0), 1.0, max_relative = TOL);
        assert_relative_eq!(bessel_i0(1.0), 1.266_065_877_752_008_2, max_relative = TOL);
        assert_relative_eq!(bessel_i0(5.0), 27.239_871_823_604_442, max_relative = TOL);
    }

    #[test]
    fn windows_are_symmetric_and_peak_at_one() {
        let h = hamming_symmetric(11);
        let k = kaiser_symmetric(11, 5.0);
        for i in 0..11 {
            assert_relative_eq!(h[i], h[10 - i], max_relative = TOL);
            assert_relative_eq!(k[i], k[10 - i], max_relative = TOL);
        }
        assert_relative_eq!(h[5], 1.0, max_relative = TOL);
        assert_relative_eq!(k[5], 1.0, max_relative = TOL);
        assert_relative_eq!(h[0], 0.08, max_relative = TOL);
        let w = hann_periodic(8);
        assert_relative_eq!(w[0], 0.0);
        assert_relative_eq!(w[4], 1.0, max_relative = TOL);
    }
}

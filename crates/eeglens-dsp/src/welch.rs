//! Welch power spectral density, matching `scipy.signal.welch` defaults: periodic Hann window,
//! 256-sample segments, 50 % overlap, each segment's mean removed (`detrend="constant"`),
//! one-sided spectrum, density scaling (input unit² / Hz, so µV²/Hz for EEG in µV), mean
//! over segments.

use std::sync::Arc;

use rustfft::num_complex::Complex64;
use rustfft::{Fft, FftPlanner};

use crate::error::{DspError, Result};
use crate::sample::{check_fs, to_f64_checked, Sample};
use crate::window::hann_periodic;

/// Segmenting of a Welch estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WelchConfig {
    /// Samples per segment (SciPy default 256).
    pub nperseg: usize,
    /// Samples shared by consecutive segments; `None` is `nperseg / 2`.
    pub noverlap: Option<usize>,
    /// FFT length (zero padding); `None` is `nperseg`.
    pub nfft: Option<usize>,
}

impl Default for WelchConfig {
    fn default() -> Self {
        WelchConfig { nperseg: 256, noverlap: None, nfft: None }
    }
}

/// A one-sided power spectral density.
#[derive(Debug, Clone, PartialEq)]
pub struct Psd {
    /// Bin frequencies in Hz: `k * fs / nfft`, `k = 0..=nfft/2`.
    pub freqs: Vec<f64>,
    /// Power density per bin, in (input unit)² / Hz.
    pub density: Vec<f64>,
}

impl Psd {
    /// Spacing of the frequency bins (Hz).
    pub fn resolution(&self) -> f64 {
        if self.freqs.len() > 1 {
            self.freqs[1] - self.freqs[0]
        } else {
            0.0
        }
    }
}

/// A planned Welch estimator: window, FFT plan and scaling computed once and reused for many
/// channels or epochs of at least `nperseg` samples.
#[derive(Clone)]
pub struct Welch {
    fs: f64,
    nperseg: usize,
    step: usize,
    nfft: usize,
    window: Vec<f64>,
    scale: f64,
    fft: Arc<dyn Fft<f64>>,
}

impl std::fmt::Debug for Welch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Welch")
            .field("fs", &self.fs)
            .field("nperseg", &self.nperseg)
            .field("step", &self.step)
            .field("nfft", &self.nfft)
            .finish()
    }
}

impl Welch {
    /// Plans an estimator for sampling rate `fs`.
    ///
    /// # Errors
    /// [`DspError::SamplingRate`]; [`DspError::Parameter`] for `nperseg == 0`,
    /// `noverlap >= nperseg` or `nfft < nperseg`.
    pub fn new(fs: f64, cfg: WelchConfig) -> Result<Self> {
        check_fs(fs)?;
        let nperseg = cfg.nperseg;
        if nperseg == 0 {
            return Err(DspError::Parameter {
                name: "nperseg",
                value: "0".into(),
                expected: "at least 1 sample per segment",
            });
        }
        let noverlap = cfg.noverlap.unwrap_or(nperseg / 2);
        if noverlap >= nperseg {
            return Err(DspError::Parameter {
                name: "noverlap",
                value: noverlap.to_string(),
                expected: "fewer samples than nperseg",
            });
        }
        let nfft = cfg.nfft.unwrap_or(nperseg);
        if nfft < nperseg {
            return Err(DspError::Parameter {
                name: "nfft",
                value: nfft.to_string(),
                expected: "at least nperseg",
            });
        }
        let window = hann_periodic(nperseg);
        let win_power: f64 = window.iter().map(|w| w * w).sum();
        let fft = FftPlanner::new().plan_fft_forward(nfft);
        Ok(Welch { fs, nperseg, step: nperseg - noverlap, nfft, window, scale: 1.0 / (fs * win_power), fft })
    }

    /// Samples per segment.
    pub fn nperseg(&self) -> usize {
        self.nperseg
    }

    /// Bin frequencies of every estimate this planner makes.
    pub fn freqs(&self) -> Vec<f64> {
        (0..=self.nfft / 2).map(|k| k as f64 * self.fs / self.nfft as f64).collect()
    }

    /// Number of segments averaged for a signal of `n` samples.
    pub fn n_segments(&self, n: usize) -> usize {
        if n < self.nperseg {
            0
        } else {
            (n - self.nperseg) / self.step + 1
        }
    }

    /// Estimates the PSD of one channel.
    ///
    /// # Errors
    /// [`DspError::TooShort`] if `x` has fewer than `nperseg` samples; [`DspError::NonFinite`].
    pub fn psd<T: Sample>(&self, x: &[T]) -> Result<Psd> {
        let mut density = vec![0.0; self.nfft / 2 + 1];
        self.psd_into(x, &mut density)?;
        Ok(Psd { freqs: self.freqs(), density })
    }

    /// Estimates the PSD of one channel into `out` (length `nfft / 2 + 1`), without allocating
    /// the frequency axis.
    ///
    /// # Errors
    /// As [`Welch::psd`]; [`DspError::Parameter`] if `out` has the wrong length.
    pub fn psd_into<T: Sample>(&self, x: &[T], out: &mut [f64]) -> Result<()> {
        let n_bins = self.nfft / 2 + 1;
        if out.len() != n_bins {
            return Err(DspError::Parameter {
                name: "PSD output length",
                value: out.len().to_string(),
                expected: "nfft / 2 + 1 bins",
            });
        }
        if x.len() < self.nperseg {
            return Err(DspError::TooShort { what: "Welch segment", len: x.len(), needed: self.nperseg - 1 });
        }
        let xf = to_f64_checked(x)?;
        let n_seg = self.n_segments(xf.len());
        out.iter_mut().for_each(|v| *v = 0.0);
        let mut buf = vec![Complex64::new(0.0, 0.0); self.nfft];
        let mut scratch = vec![Complex64::new(0.0, 0.0); self.fft.get_inplace_scratch_len()];
        for s in 0..n_seg {
            let seg = &xf[s * self.step..s * self.step + self.nperseg];
            let mean = seg.iter().sum::<f64>() / self.nperseg as f64;
            for (i, b) in buf.iter_mut().enumerate() {
                *b = if i < self.nperseg {
                    Complex64::new((seg[i] - mean) * self.window[i], 0.0)
                } else {
                    Complex64::new(0.0, 0.0)
                };
            }
            self.fft.process_with_scratch(&mut buf, &mut scratch);
            for (o, b) in out.iter_mut().zip(&buf) {
                *o += b.norm_sqr();
            }
        }
        // One-sided: double every bin except DC and (for even nfft) Nyquist.
        let last_doubled = if self.nfft % 2 == 0 { n_bins - 1 } else { n_bins };
        for (k, o) in out.iter_mut().enumerate() {
            let mut v = *o * self.scale / n_seg as f64;
            if k > 0 && k < last_doubled {
                v *= 2.0;
            }
            *o = v;
        }
        Ok(())
    }
}

/// Welch PSD of one channel with SciPy's rules: when the signal is shorter than
/// `cfg.nperseg`, the segment shrinks to the whole signal (and the default overlap with it).
///
/// # Errors
/// As [`Welch::new`] and [`Welch::psd`]; [`DspError::Empty`] for an empty signal.
pub fn welch<T: Sample>(x: &[T], fs: f64, cfg: WelchConfig) -> Result<Psd> {
    if x.is_empty() {
        return Err(DspError::Empty { what: "signal for Welch PSD" });
    }
    let cfg = if x.len() < cfg.nperseg { WelchConfig { nperseg: x.len(), ..cfg } } else { cfg };
    Welch::new(fs, cfg)?.psd(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::{assert_abs_diff_eq, assert_relative_eq};
    use std::f64::consts::PI;

    /// Parseval holds to rounding for a single rectangular-free check.
    const PARSEVAL_TOL: f64 = 1e-2;

    #[test]
    fn a_sines_power_and_frequency_are_recovered() {
        // A 10 Hz sine of amplitude 4 on a bin centre: power A²/2 = 8 µV² at 10 Hz.
        let (fs, f, amp) = (256.0, 10.0, 4.0);
        let x: Vec<f64> = (0..2560).map(|n| amp * (2.0 * PI * f * n as f64 / fs).sin()).collect();
        let psd = welch(&x, fs, WelchConfig::default()).expect("valid");
        assert_eq!(psd.freqs.len(), 129);
        let peak = (0..psd.density.len())
            .max_by(|&a, &b| psd.density[a].total_cmp(&psd.density[b]))
            .expect("non-empty");
        assert_abs_diff_eq!(psd.freqs[peak], f, epsilon = 1e-12);
        // Integrating over the Hann main lobe gives the sine's power.
        let power: f64 = psd.density.iter().sum::<f64>() * psd.resolution();
        assert_relative_eq!(power, amp * amp / 2.0, max_relative = PARSEVAL_TOL);
    }

    #[test]
    fn white_noise_density_integrates_to_its_variance() {
        // Parseval: the integral of the PSD is the mean power of the signal.
        let mut state = 12345u64;
        let x: Vec<f64> = (0..8192)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((state >> 11) as f64 / (1u64 << 53) as f64) - 0.5
            })
            .collect();
        let mean = x.iter().sum::<f64>() / x.len() as f64;
        let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / x.len() as f64;
        let psd = welch(&x, 100.0, WelchConfig::default()).expect("valid");
        let power: f64 = psd.density.iter().sum::<f64>() * psd.resolution();
        assert_relative_eq!(power, var, max_relative = 5e-2);
    }

    #[test]
    fn configuration_errors() {
        assert!(Welch::new(0.0, WelchConfig::default()).is_err());
        assert!(Welch::new(100.0, WelchConfig { nperseg: 0, ..Default::default() }).is_err());
        assert!(Welch::new(100.0, WelchConfig { nperseg: 8, noverlap: Some(8), nfft: None }).is_err());
        assert!(Welch::new(100.0, WelchConfig { nperseg: 8, noverlap: None, nfft: Some(4) }).is_err());
        let w = Welch::new(100.0, WelchConfig { nperseg: 8, ..Default::default() }).expect("valid");
        assert!(matches!(w.psd(&[0.0f32; 7]), Err(DspError::TooShort { .. })));
        assert!(welch::<f64>(&[], 100.0, WelchConfig::default()).is_err());
    }
}

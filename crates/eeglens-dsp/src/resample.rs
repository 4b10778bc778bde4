//! Rational resampling with a polyphase anti-aliasing filter, matching SciPy's
//! `resample_poly(x, up, down)` with its defaults (Kaiser window, beta 5.0, zero padding).
//!
//! # Algorithm
//! Conceptually the signal is upsampled by `up` (zeros inserted), low-pass filtered with a
//! windowed sinc `h` (cut-off `1 / max(up, down)` of Nyquist, `2 * 10 * max(up, down) + 1`
//! taps, gain `up`), and every `down`-th sample kept, the filter centred on each output so
//! there is no delay. Only the taps that meet non-zero input are ever multiplied: output `i`
//! sits at `t = i * down + half_len` on the upsampled grid, uses polyphase branch
//! `t % up`, and is one contiguous dot product of that branch (stored reversed) with the
//! input samples it covers. Cost per output is `len(h) / up` multiply-adds.

use crate::error::{DspError, Result};
use crate::lanes::Lanes;
use crate::resample_lanes::{resample_block, Poly};
use crate::sample::{check_finite, check_fs, to_f64_checked, Sample};
use crate::window::{firwin_lowpass, kaiser_symmetric};

/// Kaiser window shape used by SciPy's `resample_poly` by default.
pub const KAISER_BETA: f64 = 5.0;

/// Largest `up` or `down` (after reduction) accepted; the filter has `20 * max + 1` taps.
pub const MAX_RATE_FACTOR: usize = 100_000;

/// A reusable polyphase resampler by the rational factor `up / down`.
#[derive(Debug, Clone)]
pub struct Resampler {
    up: usize,
    down: usize,
    half_len: usize,
    /// `branches[phase]` holds `h[phase], h[phase + up], ...` in reverse order.
    branches: Vec<Vec<f64>>,
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

impl Resampler {
    /// A resampler by `up / down` (reduced by their greatest common divisor).
    ///
    /// # Errors
    /// [`DspError::Parameter`] if either factor is 0 or, after reduction, above
    /// [`MAX_RATE_FACTOR`].
    pub fn new(up: usize, down: usize) -> Result<Self> {
        if up == 0 || down == 0 {
            return Err(DspError::Parameter {
                name: "resampling factors up/down",
                value: format!("{up}/{down}"),
                expected: "both at least 1",
            });
        }
        let g = gcd(up, down);
        let (up, down) = (up / g, down / g);
        let max_rate = up.max(down);
        if max_rate > MAX_RATE_FACTOR {
            return Err(DspError::Parameter {
                name: "resampling factors up/down (reduced)",
                value: format!("{up}/{down}"),
                expected: "at most 100000 each",
            });
        }
        if up == 1 && down == 1 {
            return Ok(Resampler { up, down, half_len: 0, branches: vec![vec![1.0]] });
        }
        let half_len = 10 * max_rate;
        let n_taps = 2 * half_len + 1;
        let mut h = firwin_lowpass(1.0 / max_rate as f64, &kaiser_symmetric(n_taps, KAISER_BETA));
        for v in &mut h {
            *v *= up as f64;
        }
        let branches = (0..up)
            .map(|phase| {
                let mut b: Vec<f64> = h.iter().skip(phase).step_by(up).copied().collect();
                b.reverse();
                b
            })
            .collect();
        Ok(Resampler { up, down, half_len, branches })
    }

    /// A resampler from integer sampling rates, e.g. `from_rates(500, 128)` is `32 / 125`.
    ///
    /// # Errors
    /// As [`Resampler::new`]; a zero rate is an error.
    pub fn from_rates(fs_in: usize, fs_out: usize) -> Result<Self> {
        Self::new(fs_out, fs_in)
    }

    /// A resampler from sampling rates in Hz, e.g. `from_rates_hz(500.0, 128.0)` or
    /// `from_rates_hz(250.0, 128.0)` (`64 / 125`). Rates must be whole multiples of 1 mHz
    /// (to 1 part in 10^9), so the factor is exact rather than silently approximated.
    ///
    /// # Errors
    /// [`DspError::SamplingRate`] for a non-finite or non-positive rate;
    /// [`DspError::Parameter`] for a rate that is not a whole number of mHz, or factors
    /// above [`MAX_RATE_FACTOR`] after reduction.
    pub fn from_rates_hz(fs_in: f64, fs_out: f64) -> Result<Self> {
        let to_mhz = |fs: f64| -> Result<usize> {
            check_fs(fs)?;
            let m = (fs * 1000.0).round();
            if (m - fs * 1000.0).abs() > 1e-9 * fs * 1000.0 || !(1.0..=1e15).contains(&m) {
                return Err(DspError::Parameter {
                    name: "sampling rate for rational resampling",
                    value: format!("{fs} Hz"),
                    expected: "a whole number of mHz",
                });
            }
            Ok(m as usize)
        };
        Self::new(to_mhz(fs_out)?, to_mhz(fs_in)?)
    }

    /// The reduced factors `(up, down)`.
    pub fn factors(&self) -> (usize, usize) {
        (self.up, self.down)
    }

    /// Number of anti-aliasing filter taps (`20 * max(up, down) + 1`, or 1 for identity).
    pub fn n_taps(&self) -> usize {
        2 * self.half_len + 1
    }

    /// Output length for `n_in` input samples: `ceil(n_in * up / down)`.
    pub fn output_len(&self, n_in: usize) -> usize {
        (n_in * self.up).div_ceil(self.down)
    }

    /// Resamples one channel.
    ///
    /// # Errors
    /// [`DspError::Empty`] for an empty channel; [`DspError::NonFinite`].
    pub fn process<T: Sample>(&self, x: &[T]) -> Result<Vec<T>> {
        if x.is_empty() {
            return Err(DspError::Empty { what: "signal to resample" });
        }
        let xf = to_f64_checked(x)?;
        if self.up == 1 && self.down == 1 {
            return Ok(x.to_vec());
        }
        let n_in = xf.len();
        let n_out = self.output_len(n_in);
        let mut out = Vec::with_capacity(n_out);
        for i in 0..n_out {
            let t = i * self.down + self.half_len;
            let q = t / self.up;
            let branch = &self.branches[t % self.up];
            let n_branch = branch.len();
            // Input samples n with 0 <= q - n < n_branch, clipped to the signal.
            let n_min = (q + 1).saturating_sub(n_branch);
            let n_max = q.min(n_in - 1);
            let acc = if n_min > n_max {
                0.0
            } else {
                // Branch index of input n is n + n_branch - 1 - q (never negative for n >= n_min).
                let first = n_min + n_branch - 1 - q;
                let taps = &branch[first..=first + (n_max - n_min)];
                dot(taps, &xf[n_min..=n_max])
            };
            out.push(T::from_f64(acc));
        }
        Ok(out)
    }
}

impl Resampler {
    /// [`Resampler::process`] of every channel of `[n_channels][n_samples]` data, in parallel
    /// and with several channels per SIMD vector (8 with AVX-512, 4 with AVX2; see
    /// [`crate::simd_path`]). Results are bit-identical to [`Resampler::process`] channel by
    /// channel, whatever the path or thread count.
    ///
    /// # Errors
    /// [`DspError::Empty`] for the lowest-index empty channel, else [`DspError::NonFinite`]
    /// for the lowest-index channel with a NaN or infinite sample, wrapped in
    /// [`DspError::Channel`].
    pub fn process_channels<T: Sample>(&self, data: &[Vec<T>]) -> Result<Vec<Vec<T>>> {
        self.process_channels_with(Lanes::process_default(), data)
    }

    /// The polyphase geometry the multi-channel kernels read.
    pub(crate) fn poly(&self) -> Poly<'_> {
        Poly { up: self.up, down: self.down, half_len: self.half_len, branches: &self.branches }
    }

    /// [`Resampler::process_channels`] on the path `lanes`.
    pub(crate) fn process_channels_with<T: Sample>(
        &self,
        lanes: Lanes,
        data: &[Vec<T>],
    ) -> Result<Vec<Vec<T>>> {
        let check_finite = || -> Result<()> {
            for (c, ch) in data.iter().enumerate() {
                check_finite(ch).map_err(|e| e.in_channel(c))?;
            }
            Ok(())
        };
        for (c, ch) in data.iter().enumerate() {
            if ch.is_empty() {
                return Err(DspError::Empty { what: "signal to resample" }.in_channel(c));
            }
        }
        let same_len = data.windows(2).all(|w| w[0].len() == w[1].len());
        let identity = self.up == 1 && self.down == 1;
        if lanes == Lanes::Scalar || !same_len || identity {
            check_finite()?;
            return crate::par::map_channels(data, |ch| self.process(ch));
        }
        // The SIMD path checks every sample as it converts it (one pass less over the input).
        let poly = self.poly();
        let n_out = self.output_len(data[0].len());
        let blocks = crate::par::channel_blocks(data.len(), lanes.width());
        match crate::par::map_blocks(data, &blocks, |block| resample_block(lanes, &poly, block, n_out)) {
            Some(out) => Ok(out),
            None => {
                // Name the first bad sample as the up-front check would.
                check_finite()?;
                unreachable!("a block saw a non-finite sample that the check does not find")
            }
        }
    }
}

/// Dot product with four independent accumulators (breaks the add latency chain and lets the
/// compiler vectorise; `chunks_exact` removes the bounds checks).
#[inline]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        acc[0] += x[0] * y[0];
        acc[1] += x[1] * y[1];
        acc[2] += x[2] * y[2];
        acc[3] += x[3] * y[3];
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

/// Resamples one channel by `up / down` (SciPy `resample_poly(x, up, down)`).
///
/// Build a [`Resampler`] once when resampling many channels with the same factors.
///
/// # Errors
/// As [`Resampler::new`] and [`Resampler::process`].
pub fn resample_poly<T: Sample>(x: &[T], up: usize, down: usize) -> Result<Vec<T>> {
    Resampler::new(up, down)?.process(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;
    use std::f64::consts::PI;

    /// Passband ripple of the Kaiser(5) design plus edge effects away from the ends.
    const BANDLIMITED_TOL: f64 = 2e-3;

    #[test]
    fn factors_are_reduced_and_lengths_are_ceil() {
        let r = Resampler::from_rates(256, 128).expect("valid");
        assert_eq!(r.factors(), (1, 2));
        assert_eq!(r.output_len(5), 3);
        let r = Resampler::from_rates(500, 128).expect("valid");
        assert_eq!(r.factors(), (32, 125));
        assert_eq!(r.n_taps(), 2501);
        assert_eq!(r.output_len(1000), 256);
        let r = Resampler::from_rates_hz(250.0, 128.0).expect("valid");
        assert_eq!(r.factors(), (64, 125));
        let r = Resampler::from_rates_hz(512.5, 128.0).expect("valid");
        assert_eq!(r.factors(), (256, 1025));
        assert!(matches!(Resampler::from_rates_hz(500.0001234, 128.0), Err(DspError::Parameter { .. })));
        assert!(matches!(Resampler::from_rates_hz(f64::NAN, 128.0), Err(DspError::SamplingRate { .. })));
        assert!(matches!(Resampler::from_rates_hz(0.0, 128.0), Err(DspError::SamplingRate { .. })));
    }

    #[test]
    fn a_band_limited_sine_survives_500_to_128() {
        let (fs_in, fs_out, f) = (500.0, 128.0, 7.0);
        let x: Vec<f64> = (0..5000).map(|n| (2.0 * PI * f * n as f64 / fs_in).sin()).collect();
        let y = Resampler::from_rates(500, 128).expect("valid").process(&x).expect("finite");
        assert_eq!(y.len(), 1280);
        // Skip the filter's reach (10 output samples each side covers half_len at the input rate).
        for (i, v) in y.iter().enumerate().skip(20).take(1240) {
            let expect = (2.0 * PI * f * i as f64 / fs_out).sin();
            assert_abs_diff_eq!(*v, expect, epsilon = BANDLIMITED_TOL);
        }
    }

    #[test]
    fn identity_and_errors() {
        let x = [1.0f32, 2.0, 3.0];
        assert_eq!(resample_poly(&x, 3, 3).expect("identity"), x.to_vec());
        assert!(matches!(resample_poly(&x, 0, 3), Err(DspError::Parameter { .. })));
        assert!(matches!(resample_poly::<f32>(&[], 1, 2), Err(DspError::Empty { .. })));
        assert!(matches!(
            resample_poly(&[1.0, f32::INFINITY], 1, 2),
            Err(DspError::NonFinite { index: 1, .. })
        ));
    }
}

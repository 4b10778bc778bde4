//! Second-order sections: causal filtering (`sosfilt`), steady-state initial conditions
//! (`sosfilt_zi`) and zero-phase forward-backward filtering (`sosfiltfilt`), matching SciPy.
//!
//! Each section is `[b0, b1, b2, a0, a1, a2]` with `a0 = 1`, run in transposed direct form II
//! with `f64` state:
//! ```text
//! y   = b0 x + s0
//! s0' = (b1 x + s1) - a1 y
//! s1' = b2 x - a2 y
//! ```

use rustfft::num_complex::Complex64;

use crate::error::{DspError, Result};
use crate::lanes::Lanes;
use crate::sample::{to_f64_checked, Sample};

/// A cascade of second-order sections (an IIR filter), each `[b0, b1, b2, 1, a1, a2]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sos {
    sections: Vec<[f64; 6]>,
}

impl Sos {
    /// Builds a cascade from SciPy-layout rows `[b0, b1, b2, a0, a1, a2]`, normalising each
    /// row by its `a0`.
    ///
    /// # Errors
    /// [`DspError::Empty`] without sections, [`DspError::Parameter`] for a non-finite
    /// coefficient or `a0 == 0`.
    pub fn new(sections: Vec<[f64; 6]>) -> Result<Self> {
        if sections.is_empty() {
            return Err(DspError::Empty { what: "second-order sections" });
        }
        let mut out = sections;
        for s in &mut out {
            if s.iter().any(|c| !c.is_finite()) || s[3] == 0.0 {
                return Err(DspError::Parameter {
                    name: "second-order section",
                    value: format!("{s:?}"),
                    expected: "finite coefficients with a0 != 0",
                });
            }
            let a0 = s[3];
            for c in s.iter_mut() {
                *c /= a0;
            }
        }
        Ok(Sos { sections: out })
    }

    /// Wraps sections already normalised by a design routine of this crate.
    pub(crate) fn from_sections_unchecked(sections: Vec<[f64; 6]>) -> Self {
        Sos { sections }
    }

    /// The sections, SciPy layout `[b0, b1, b2, a0, a1, a2]`.
    pub fn sections(&self) -> &[[f64; 6]] {
        &self.sections
    }

    /// Complex frequency response at `freq` Hz for sampling rate `fs` (like `sosfreqz`).
    pub fn response(&self, freq: f64, fs: f64) -> Complex64 {
        let w = 2.0 * std::f64::consts::PI * freq / fs;
        let z1 = Complex64::from_polar(1.0, -w);
        let z2 = z1 * z1;
        self.sections.iter().fold(Complex64::new(1.0, 0.0), |acc, s| {
            acc * (s[0] + z1 * s[1] + z2 * s[2]) / (s[3] + z1 * s[4] + z2 * s[5])
        })
    }

    /// Magnitude of the frequency response at `freq` Hz (a single pass, not forward-backward).
    pub fn gain(&self, freq: f64, fs: f64) -> f64 {
        self.response(freq, fs).norm()
    }

    /// Steady-state initial conditions for a unit step, per section (SciPy `sosfilt_zi`).
    ///
    /// Multiply by the first sample to start filtering a signal without a transient.
    pub fn zi(&self) -> Vec<[f64; 2]> {
        let mut scale = 1.0;
        self.sections
            .iter()
            .map(|s| {
                let (b0, b1, b2, a1, a2) = (s[0], s[1], s[2], s[4], s[5]);
                // Solve (I - companion(a)^T) zi = b[1:] - a[1:] b0 for the 2x2 case.
                let r0 = b1 - a1 * b0;
                let r1 = b2 - a2 * b0;
                let z0 = (r0 + r1) / (1.0 + a1 + a2);
                let z1 = r1 - a2 * z0;
                let zi = [scale * z0, scale * z1];
                scale *= (b0 + b1 + b2) / (1.0 + a1 + a2);
                zi
            })
            .collect()
    }

    /// Number of samples `sosfiltfilt` pads on each side: `3 * ntaps`, where
    /// `ntaps = 2 * n_sections + 1`, less one for each section whose `b2` and `a2` are both zero
    /// (SciPy's rule for odd orders).
    pub fn pad_len(&self) -> usize {
        let zero_b2 = self.sections.iter().filter(|s| s[2] == 0.0).count();
        let zero_a2 = self.sections.iter().filter(|s| s[5] == 0.0).count();
        3 * (2 * self.sections.len() + 1 - zero_b2.min(zero_a2))
    }

    /// Runs the cascade over `x` in place, forwards, updating `state` (one `[s0, s1]` per
    /// section). This is SciPy's `sosfilt(sos, x, zi=state)`.
    ///
    /// # Panics
    /// If `state.len()` differs from the number of sections (a programming error).
    pub fn run_in_place(&self, x: &mut [f64], state: &mut [[f64; 2]]) {
        assert_eq!(state.len(), self.sections.len(), "one state pair per section");
        dispatch(&self.sections, state, x.iter_mut());
    }

    /// Like [`Sos::run_in_place`] but walking `x` from its last sample to its first.
    fn run_reversed_in_place(&self, x: &mut [f64], state: &mut [[f64; 2]]) {
        dispatch(&self.sections, state, x.iter_mut().rev());
    }

    /// Causal filtering from zero initial state (SciPy `sosfilt(sos, x)`).
    ///
    /// # Errors
    /// [`DspError::NonFinite`] for a NaN or infinite sample.
    pub fn filter<T: Sample>(&self, x: &[T]) -> Result<Vec<T>> {
        let mut buf = to_f64_checked(x)?;
        let mut state = vec![[0.0; 2]; self.sections.len()];
        self.run_in_place(&mut buf, &mut state);
        Ok(buf.into_iter().map(T::from_f64).collect())
    }

    /// Zero-phase forward-backward filtering, identical to SciPy's
    /// `sosfiltfilt(sos, x)` (odd extension of [`Sos::pad_len`] samples at both ends,
    /// steady-state initial conditions scaled by the first sample of each pass).
    ///
    /// The magnitude response is the square of a single pass's, and there is no lag.
    ///
    /// # Errors
    /// [`DspError::TooShort`] unless `x.len() > pad_len()`; [`DspError::NonFinite`].
    pub fn filtfilt<T: Sample>(&self, x: &[T]) -> Result<Vec<T>> {
        let mut out = x.to_vec();
        self.filtfilt_in_place(&mut out)?;
        Ok(out)
    }

    /// [`Sos::filtfilt`] writing the result over its input.
    ///
    /// # Errors
    /// As [`Sos::filtfilt`]; `x` is unchanged on error.
    pub fn filtfilt_in_place<T: Sample>(&self, x: &mut [T]) -> Result<()> {
        let n = x.len();
        let edge = self.pad_len();
        if n <= edge {
            return Err(DspError::TooShort { what: "sosfiltfilt edge padding", len: n, needed: edge });
        }
        crate::sample::check_finite(x)?;
        // Odd extension: 2 x[0] - x[edge..1], x, 2 x[n-1] - x[n-2..n-2-edge].
        let first = x[0].to_f64();
        let last = x[n - 1].to_f64();
        let mut ext = Vec::with_capacity(n + 2 * edge);
        ext.extend((1..=edge).rev().map(|i| 2.0 * first - x[i].to_f64()));
        ext.extend(x.iter().map(|v| v.to_f64()));
        ext.extend((1..=edge).map(|i| 2.0 * last - x[n - 1 - i].to_f64()));

        let zi = self.zi();
        let x0 = ext[0];
        let mut state: Vec<[f64; 2]> = zi.iter().map(|z| [z[0] * x0, z[1] * x0]).collect();
        self.run_in_place(&mut ext, &mut state);
        let y0 = ext[ext.len() - 1];
        let mut state: Vec<[f64; 2]> = zi.iter().map(|z| [z[0] * y0, z[1] * y0]).collect();
        self.run_reversed_in_place(&mut ext, &mut state);
        for (dst, v) in x.iter_mut().zip(&ext[edge..edge + n]) {
            *dst = T::from_f64(*v);
        }
        Ok(())
    }

    /// [`Sos::filtfilt`] of every channel of `[n_channels][n_samples]` data, in parallel and
    /// with several channels per SIMD vector (8 with AVX-512, 4 with AVX2; see
    /// [`crate::simd_path`]). Results are bit-identical to [`Sos::filtfilt`] channel by
    /// channel, whatever the path or thread count.
    ///
    /// # Errors
    /// [`DspError::TooShort`] for the lowest-index channel not longer than [`Sos::pad_len`],
    /// else [`DspError::NonFinite`] for the lowest-index channel with a NaN or infinite sample,
    /// wrapped in [`DspError::Channel`].
    pub fn filtfilt_channels<T: Sample>(&self, data: &[Vec<T>]) -> Result<Vec<Vec<T>>> {
        let mut out: Vec<Vec<T>> = data.iter().map(|ch| vec![T::from_f64(0.0); ch.len()]).collect();
        self.filtfilt_channels_with(Lanes::process_default(), Some(data), &mut out)?;
        Ok(out)
    }

    /// [`Sos::filtfilt_channels`] writing the results over the input.
    ///
    /// # Errors
    /// As [`Sos::filtfilt_channels`]; every channel is checked first, so `data` is unchanged
    /// on error.
    pub fn filtfilt_channels_in_place<T: Sample>(&self, data: &mut [Vec<T>]) -> Result<()> {
        self.filtfilt_channels_with(Lanes::process_default(), None, data)
    }

    /// `filtfilt` of `input` into `out` (same shape), or of `out` in place, on the path `lanes`.
    pub(crate) fn filtfilt_channels_with<T: Sample>(
        &self,
        lanes: Lanes,
        input: Option<&[Vec<T>]>,
        out: &mut [Vec<T>],
    ) -> Result<()> {
        let edge = self.pad_len();
        let check_finite = |data: &[Vec<T>]| -> Result<()> {
            for (c, ch) in data.iter().enumerate() {
                crate::sample::check_finite(ch).map_err(|e| e.in_channel(c))?;
            }
            Ok(())
        };
        for (c, ch) in input.unwrap_or(out).iter().enumerate() {
            if ch.len() <= edge {
                return Err(DspError::TooShort {
                    what: "sosfiltfilt edge padding",
                    len: ch.len(),
                    needed: edge,
                }
                .in_channel(c));
            }
        }
        let same_len = out.windows(2).all(|w| w[0].len() == w[1].len());
        // In place, every sample is checked before anything is written. Otherwise the SIMD
        // path checks on its way through the forward pass (one pass less over the input).
        if input.is_none() || lanes == Lanes::Scalar || !same_len {
            check_finite(input.unwrap_or(out))?;
        }
        if let Some(input) = input {
            assert!(
                input.len() == out.len() && input.iter().zip(out.iter()).all(|(a, b)| a.len() == b.len()),
                "output channels shaped as the input"
            );
        }
        if lanes == Lanes::Scalar || !same_len {
            if let Some(input) = input {
                out.iter_mut().zip(input).for_each(|(o, i)| o.copy_from_slice(i));
            }
            return crate::par::for_each_channel(out, |ch| self.filtfilt_in_place(ch));
        }
        let zi = self.zi();
        let blocks = crate::par::channel_blocks(out.len(), lanes.width());
        let finite = crate::par::for_each_block(out, &blocks, |range, block| {
            let input = input.map(|i| &i[range]);
            crate::sos_lanes::filtfilt_block(lanes, &self.sections, &zi, edge, input, block)
        });
        if !finite {
            // Name the first bad sample as the up-front check would.
            check_finite(input.unwrap_or(out))?;
            unreachable!("a block saw a non-finite sample that the check does not find");
        }
        Ok(())
    }
}

/// Runs the cascade with the section count fixed at compile time where it is small, so the
/// whole cascade's coefficients and states live in registers.
fn dispatch<'a, I>(sections: &[[f64; 6]], state: &mut [[f64; 2]], samples: I)
where
    I: Iterator<Item = &'a mut f64>,
{
    match sections.len() {
        1 => run_fixed::<1, I>(sections, state, samples),
        2 => run_fixed::<2, I>(sections, state, samples),
        3 => run_fixed::<3, I>(sections, state, samples),
        4 => run_fixed::<4, I>(sections, state, samples),
        5 => run_fixed::<5, I>(sections, state, samples),
        6 => run_fixed::<6, I>(sections, state, samples),
        _ => run_any(sections, state, samples),
    }
}

/// Sample-outer loop over `N` sections. Each section's state recurrence is its own dependency
/// chain, so an out-of-order core overlaps the `N` chains instead of waiting on one at a
/// time (section-outer loops are latency-bound: ~3x slower for 4 sections). SciPy's `sosfilt`
/// computes `s0' = b1 x - a1 y + s1`; adding `s1` first takes that addition off the
/// loop-carried chain (~20 % faster) and changes results only in the last bits.
fn run_fixed<'a, const N: usize, I>(sections: &[[f64; 6]], state: &mut [[f64; 2]], samples: I)
where
    I: Iterator<Item = &'a mut f64>,
{
    let coef: [[f64; 6]; N] = std::array::from_fn(|k| sections[k]);
    let mut st: [[f64; 2]; N] = std::array::from_fn(|k| state[k]);
    for v in samples {
        let mut x = *v;
        for k in 0..N {
            let c = &coef[k];
            // Terms not depending on y first: the loop-carried chain is then add-mul-sub.
            let y = c[0] * x + st[k][0];
            st[k][0] = (c[1] * x + st[k][1]) - c[4] * y;
            st[k][1] = c[2] * x - c[5] * y;
            x = y;
        }
        *v = x;
    }
    state.copy_from_slice(&st);
}

/// Sample-outer loop for any number of sections.
fn run_any<'a, I>(sections: &[[f64; 6]], state: &mut [[f64; 2]], samples: I)
where
    I: Iterator<Item = &'a mut f64>,
{
    for v in samples {
        let mut x = *v;
        for (c, st) in sections.iter().zip(state.iter_mut()) {
            let y = c[0] * x + st[0];
            st[0] = (c[1] * x + st[1]) - c[4] * y;
            st[1] = c[2] * x - c[5] * y;
            x = y;
        }
        *v = x;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::butter::{butter, FilterKind};
    use approx::assert_abs_diff_eq;

    /// Agreement of the two equivalent forms of the same arithmetic.
    const EXACT_TOL: f64 = 1e-12;

    #[test]
    fn fixed_and_generic_cascades_agree() {
        for order in 1..=16 {
            let sos = butter(order, FilterKind::BandPass(3.0, 30.0), 200.0).expect("valid design");
            let x: Vec<f64> = (0..300).map(|i| ((i * 17) % 23) as f64 - 11.0).collect();
            let mut a = x.clone();
            let mut b = x.clone();
            let mut sa = sos.zi();
            let mut sb = sos.zi();
            sos.run_in_place(&mut a, &mut sa);
            run_any(sos.sections(), &mut sb, b.iter_mut());
            assert_eq!(a, b, "order {order}");
            assert_eq!(sa, sb, "order {order}");
        }
    }

    #[test]
    fn zi_makes_a_step_response_flat() {
        let sos = butter(4, FilterKind::LowPass(10.0), 100.0).expect("valid design");
        let mut x = vec![3.0; 50];
        let mut state: Vec<[f64; 2]> = sos.zi().iter().map(|z| [z[0] * 3.0, z[1] * 3.0]).collect();
        sos.run_in_place(&mut x, &mut state);
        for v in x {
            assert_abs_diff_eq!(v, 3.0, epsilon = EXACT_TOL);
        }
    }

    #[test]
    fn filtfilt_rejects_short_and_non_finite_input() {
        let sos = butter(2, FilterKind::HighPass(1.0), 100.0).expect("valid design");
        // One section: ntaps = 3, padding 3 * 3 samples per side.
        assert_eq!(sos.pad_len(), 9);
        let short = vec![0.0f32; 9];
        assert!(matches!(sos.filtfilt(&short), Err(DspError::TooShort { len: 9, needed: 9, .. })));
        assert!(sos.filtfilt(&[0.0f32; 10]).is_ok());
        let mut bad = vec![0.0f64; 100];
        bad[42] = f64::NAN;
        assert!(matches!(sos.filtfilt(&bad), Err(DspError::NonFinite { index: 42, .. })));
    }

    #[test]
    fn odd_order_pad_len_follows_scipy() {
        // Order 3 low-pass: two sections, the second first-order (b2 = a2 = 0): ntaps = 5 - 1.
        let sos = butter(3, FilterKind::LowPass(10.0), 100.0).expect("valid design");
        assert_eq!(sos.sections().len(), 2);
        assert_eq!(sos.pad_len(), 12);
    }

    #[test]
    fn new_normalises_by_a0_and_rejects_bad_rows() {
        let sos = Sos::new(vec![[2.0, 0.0, 0.0, 2.0, -1.0, 0.0]]).expect("valid row");
        assert_abs_diff_eq!(sos.sections()[0][4], -0.5, epsilon = EXACT_TOL);
        assert!(Sos::new(vec![]).is_err());
        assert!(Sos::new(vec![[1.0, 0.0, 0.0, 0.0, 0.0, 0.0]]).is_err());
    }
}

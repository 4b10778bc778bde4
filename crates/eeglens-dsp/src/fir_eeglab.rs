//! EEGLAB's default FIR filter: the design of `pop_eegfiltnew` (firfilt plugin, Widmann et al.
//! 2015) with its default transition band and order, applied with zero phase as `firfilt` does.
//!
//! # Design (`pop_eegfiltnew.m`, `firws.m`, `windows.m`)
//! - Largest transition band `max_df`: the high-pass edge (its distance to DC) and, for a
//!   low-pass edge, its distance to Nyquist; the smaller of the two for a band-pass.
//! - Transition width `df = min(max(0.25 * edge, 2 Hz), max_df)` where `edge` is the lowest
//!   pass-band edge (the high-pass edge of a band-pass, the only edge otherwise). One width serves
//!   both edges of a band-pass: 0.25–25 Hz gets `df = 0.25` Hz on both sides.
//! - Order `3.3 / (df / fs)` (the Hamming window's length factor) rounded up to an even number:
//!   `order + 1` taps, group delay `order / 2` samples.
//! - -6 dB cut-offs half a transition band outside the pass band: `l - df/2`, `h + df/2`.
//! - Taps: a sinc low-pass at each cut-off, windowed by EEGLAB's Hamming window
//!   (`a = 25/46`, [`EEGLAB_HAMMING_A`]) and normalised to unit DC gain; a high-pass is the
//!   spectral inversion of the low-pass (negate, add 1 at the centre), a band-pass
//!   `inv(lowpass(l) + inv(lowpass(h)))`, the order in which `firws` composes them.
//!
//! # Application (`firfilt.m`, `firfiltdcpadded.m`)
//! Each end is padded with `order / 2` copies of its end sample, the causal filter runs over the
//! padded signal, and the first `order` outputs are dropped ([`FirPad::Edge`]). EEGLAB filters
//! each stretch between `boundary` events separately; a channel here is one stretch.
//!
//! Band-stop filters and a user-given order (`pop_eegfiltnew`'s `revfilt` and `filtorder`) are
//! not offered.

use crate::error::{DspError, Result};
use crate::fir::{FirFilter, FirPad, HAMMING_LENGTH_FACTOR, MAX_FIR_TAPS};
use crate::sample::{check_cutoff, check_fs};
use crate::window::{firwin_lowpass, generalized_hamming_symmetric, EEGLAB_HAMMING_A};

/// `pop_eegfiltnew`'s `TRANSWIDTHRATIO`: the default transition band is this fraction of the
/// lowest pass-band edge.
pub const EEGLAB_TRANSITION_RATIO: f64 = 0.25;

/// `pop_eegfiltnew`'s smallest default transition band (Hz), unless the edge is closer to DC or
/// Nyquist than that.
pub const EEGLAB_MIN_TRANSITION_HZ: f64 = 2.0;

/// The filter `pop_eegfiltnew(EEG, l_freq, h_freq)` designs with its defaults: the numbers it
/// prints, and the taps.
///
/// # Example
/// ```
/// use eeglens_dsp::EeglabFirDesign;
/// # fn main() -> Result<(), eeglens_dsp::DspError> {
/// // The paper's band-pass at HBN's 500 Hz.
/// let design = EeglabFirDesign::new(500.0, Some(0.25), Some(25.0))?;
/// assert_eq!(design.transition_bandwidth, 0.25);
/// assert_eq!(design.order, 6600);
/// assert_eq!(design.cutoffs, vec![0.125, 25.125]);
/// let filter = design.filter();
/// let x = vec![1.0f32; 1000];
/// let y = filter.filter_zero_phase(&x)?;
/// assert!(y.iter().all(|v| v.abs() < 1e-6)); // a band-pass removes a constant
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct EeglabFirDesign {
    /// Sampling rate (Hz).
    pub fs: f64,
    /// High-pass (lower pass-band) edge, Hz; `None` for a low-pass.
    pub l_freq: Option<f64>,
    /// Low-pass (upper pass-band) edge, Hz; `None` for a high-pass.
    pub h_freq: Option<f64>,
    /// Transition band width `df` (Hz), the same at both edges.
    pub transition_bandwidth: f64,
    /// Filter order (even); the filter has `order + 1` taps.
    pub order: usize,
    /// -6 dB cut-off frequencies (Hz), ascending: `[l - df/2]`, `[h + df/2]` or both.
    pub cutoffs: Vec<f64>,
}

impl EeglabFirDesign {
    /// `pop_eegfiltnew`'s default design for a high-pass (`l_freq` only), low-pass (`h_freq`
    /// only) or band-pass (both).
    ///
    /// # Errors
    /// [`DspError::SamplingRate`]; [`DspError::Cutoff`] for an edge not strictly between 0 and
    /// Nyquist (or NaN); [`DspError::BandEdges`] when both edges are `None` or
    /// `l_freq >= h_freq`; [`DspError::Parameter`] when the order would exceed
    /// [`MAX_FIR_TAPS`].
    pub fn new(fs: f64, l_freq: Option<f64>, h_freq: Option<f64>) -> Result<Self> {
        check_fs(fs)?;
        let nyq = fs / 2.0;
        if let Some(l) = l_freq {
            check_cutoff("EEGLAB FIR high-pass edge", l, fs)?;
        }
        if let Some(h) = h_freq {
            check_cutoff("EEGLAB FIR low-pass edge", h, fs)?;
        }
        let band_err = || DspError::BandEdges {
            name: "EEGLAB FIR pass band".to_string(),
            lo: l_freq.unwrap_or(f64::NAN),
            hi: h_freq.unwrap_or(f64::NAN),
        };
        // `max_df` and the edge the heuristic scales, as pop_eegfiltnew computes them.
        let (max_df, edge) = match (l_freq, h_freq) {
            (None, None) => return Err(band_err()),
            (Some(l), Some(h)) if l >= h => return Err(band_err()),
            (Some(l), Some(h)) => (l.min(nyq - h), l),
            (Some(l), None) => (l, l),
            (None, Some(h)) => (nyq - h, h),
        };
        let df = (edge * EEGLAB_TRANSITION_RATIO).max(EEGLAB_MIN_TRANSITION_HZ).min(max_df);
        // Same operations in the same order as MATLAB: 3.3 / (0.25 / 500) is 6599.999..., which
        // must round up to 6600, not 6602.
        let order_f = ((HAMMING_LENGTH_FACTOR / (df / fs)) / 2.0).ceil() * 2.0;
        if !order_f.is_finite() || order_f + 1.0 > MAX_FIR_TAPS as f64 {
            return Err(DspError::Parameter {
                name: "EEGLAB FIR order (from the default transition band)",
                value: format!("{order_f}"),
                expected:
                    "at most MAX_FIR_TAPS - 1 (edges this close to DC or Nyquist need a shorter filter)",
            });
        }
        let order = order_f as usize;
        let cutoffs: Vec<f64> =
            l_freq.map(|l| l - df / 2.0).into_iter().chain(h_freq.map(|h| h + df / 2.0)).collect();
        Ok(EeglabFirDesign { fs, l_freq, h_freq, transition_bandwidth: df, order, cutoffs })
    }

    /// The `order + 1` taps `firws` makes (symmetric, type I).
    pub fn taps(&self) -> Vec<f64> {
        let nyq = self.fs / 2.0;
        let window = generalized_hamming_symmetric(self.order + 1, EEGLAB_HAMMING_A);
        let low_pass = |cutoff: f64| firwin_lowpass(cutoff / nyq, &window);
        match (self.l_freq, self.h_freq) {
            (Some(_), Some(_)) => {
                let mut b = low_pass(self.cutoffs[0]);
                let upper = spectral_inversion(low_pass(self.cutoffs[1]));
                b.iter_mut().zip(&upper).for_each(|(v, u)| *v += u);
                spectral_inversion(b)
            }
            (Some(_), None) => spectral_inversion(low_pass(self.cutoffs[0])),
            _ => low_pass(self.cutoffs[0]),
        }
    }

    /// The designed filter, padded at the ends as `firfilt` pads ([`FirPad::Edge`]).
    pub fn filter(&self) -> FirFilter {
        FirFilter::from_taps_unchecked(self.taps()).with_pad(FirPad::Edge)
    }
}

/// `firws`'s `fspecinv`: negate every tap and add 1 to the centre one (all-pass minus filter).
fn spectral_inversion(mut b: Vec<f64>) -> Vec<f64> {
    b.iter_mut().for_each(|v| *v = -*v);
    let centre = (b.len() - 1) / 2;
    b[centre] += 1.0;
    b
}

/// The magnitude of a symmetric (type I) FIR filter's frequency response at `freq` Hz:
/// `|b[g] + 2 sum_j b[g + j] cos(2 pi freq j / fs)|`, `g` the centre tap.
///
/// # Errors
/// [`DspError::Empty`] for no taps; [`DspError::Parameter`] for an even number of taps.
pub fn fir_magnitude(taps: &[f64], fs: f64, freq: f64) -> Result<f64> {
    if taps.is_empty() {
        return Err(DspError::Empty { what: "FIR taps" });
    }
    if taps.len() % 2 == 0 {
        return Err(DspError::Parameter {
            name: "FIR taps",
            value: format!("{} taps", taps.len()),
            expected: "an odd number (a centre tap)",
        });
    }
    check_fs(fs)?;
    let g = (taps.len() - 1) / 2;
    let w = 2.0 * std::f64::consts::PI * freq / fs;
    let h = taps[g] + 2.0 * (1..=g).map(|j| taps[g + j] * (w * j as f64).cos()).sum::<f64>();
    Ok(h.abs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    #[test]
    fn default_transition_bands_follow_the_heuristic() {
        // Band-pass: the high-pass edge sets df for both edges.
        let d = EeglabFirDesign::new(250.0, Some(8.0), Some(30.0)).expect("valid");
        assert_eq!((d.transition_bandwidth, d.order), (2.0, 414));
        // High-pass below 2 Hz: df is the edge itself (the distance to DC).
        let d = EeglabFirDesign::new(250.0, Some(1.0), None).expect("valid");
        assert_eq!((d.transition_bandwidth, d.order, d.cutoffs.clone()), (1.0, 826, vec![0.5]));
        // High-pass at 20 Hz: 25 % of the edge.
        let d = EeglabFirDesign::new(250.0, Some(20.0), None).expect("valid");
        assert_eq!(d.transition_bandwidth, 5.0);
        // Low-pass close to Nyquist: bounded by the distance to Nyquist.
        let d = EeglabFirDesign::new(100.0, None, Some(49.0)).expect("valid");
        assert_abs_diff_eq!(d.transition_bandwidth, 1.0, epsilon = 1e-12);
        // Band-pass whose upper edge is near Nyquist: min(edge distance to DC, to Nyquist).
        let d = EeglabFirDesign::new(100.0, Some(10.0), Some(48.5)).expect("valid");
        assert_abs_diff_eq!(d.transition_bandwidth, 1.5, epsilon = 1e-12);
    }

    #[test]
    fn taps_are_symmetric_with_the_gains_of_their_kind() {
        for (l, h, dc, nyq_gain) in
            [(Some(1.0), Some(40.0), 0.0, 0.0), (Some(1.0), None, 0.0, 1.0), (None, Some(40.0), 1.0, 0.0)]
        {
            let d = EeglabFirDesign::new(250.0, l, h).expect("valid");
            let b = d.taps();
            assert_eq!(b.len(), d.order + 1);
            for i in 0..b.len() {
                assert_abs_diff_eq!(b[i], b[b.len() - 1 - i], epsilon = 1e-15);
            }
            assert_abs_diff_eq!(fir_magnitude(&b, 250.0, 0.0).expect("odd"), dc, epsilon = 1e-12);
            assert_abs_diff_eq!(fir_magnitude(&b, 250.0, 125.0).expect("odd"), nyq_gain, epsilon = 3e-3);
        }
    }

    #[test]
    fn edge_padding_keeps_a_constant_through_a_low_pass() {
        // DC padding makes a constant signal exactly constant after a unit-DC-gain low-pass,
        // even when the signal is shorter than the filter.
        let f = EeglabFirDesign::new(128.0, None, Some(30.0)).expect("valid").filter();
        for n in [1usize, 5, 200] {
            let y = f.filter_zero_phase(&vec![7.5f64; n]).expect("finite");
            for v in y {
                assert_abs_diff_eq!(v, 7.5, epsilon = 1e-12);
            }
        }
    }

    #[test]
    fn impossible_edges_are_errors() {
        let bad = [
            (250.0, Some(40.0), Some(1.0)),
            (250.0, Some(10.0), Some(10.0)),
            (250.0, None, None),
            (250.0, Some(0.0), None),
            (250.0, Some(-1.0), Some(20.0)),
            (250.0, None, Some(125.0)),
            (250.0, Some(f64::NAN), None),
            (0.0, Some(1.0), None),
            (f64::INFINITY, Some(1.0), None),
            (250.0, Some(1e-9), None),
        ];
        for (fs, l, h) in bad {
            assert!(EeglabFirDesign::new(fs, l, h).is_err(), "fs {fs} l {l:?} h {h:?}");
        }
        assert!(fir_magnitude(&[], 250.0, 1.0).is_err());
        assert!(fir_magnitude(&[0.5, 0.5], 250.0, 1.0).is_err());
    }
}

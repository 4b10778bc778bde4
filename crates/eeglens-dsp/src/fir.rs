//! Windowed-sinc FIR filters designed and applied like MNE's default `filter_data`
//! (`method="fir"`, `phase="zero"`, `fir_window="hamming"`, `fir_design="firwin"`,
//! `pad="reflect_limited"`), the successor of EEGLAB's `pop_eegfiltnew`.
//!
//! # Design
//! Transition bandwidths follow MNE's "auto" rule: `min(max(0.25 l_freq, 2), l_freq)` below a
//! high-pass edge, `min(max(0.25 h_freq, 2), fs/2 - h_freq)` above a low-pass edge. The filter
//! has `ceil(3.3 / min(transition) * fs)` taps, made odd (3.3 is the Hamming window's length
//! factor). Each transition contributes a Hamming-windowed-sinc low-pass whose cut-off is the
//! middle of that transition and whose length fits its own width; a band-pass is the upper
//! low-pass minus the lower one.
//!
//! # Application
//! The signal is padded at each end by `len(taps) - 1` samples of odd reflection (limited to the
//! signal's length, then zeros), convolved (FFT overlap-add for long filters, direct for short
//! ones), and the `(len(taps) - 1) / 2` samples of delay removed: zero phase, one pass.
//! [`FirPad::Edge`] pads instead with `(len(taps) - 1) / 2` copies of each end sample, as
//! EEGLAB's `firfilt` does; filters designed by [`crate::EeglabFirDesign`] use it.

use std::sync::Arc;

use rustfft::num_complex::Complex64;
use rustfft::{Fft, FftPlanner};

use crate::error::{DspError, Result};
use crate::lanes::Lanes;
use crate::sample::{check_cutoff, check_finite, check_fs, Sample};
use crate::window::{firwin_lowpass, hamming_symmetric};
use paths::overlap_add;

/// Hamming window's length factor (taps = factor / transition width in cycles per sample).
pub const HAMMING_LENGTH_FACTOR: f64 = 3.3;

/// Longest FIR filter [`FirFilter::design`] makes (2^22 taps: a 0.002 Hz transition at 2.5 kHz);
/// narrower transitions are an error rather than an enormous allocation.
pub const MAX_FIR_TAPS: usize = 1 << 22;

/// Filters with at most this many taps are applied by direct convolution, longer by FFT.
const DIRECT_MAX_TAPS: usize = 64;

/// The band of a FIR filter, edges in Hz (pass-band edges, as in MNE's `l_freq`/`h_freq`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FirSpec {
    /// High-pass edge (MNE `l_freq`); `None` for a pure low-pass.
    pub l_freq: Option<f64>,
    /// Low-pass edge (MNE `h_freq`); `None` for a pure high-pass.
    pub h_freq: Option<f64>,
    /// Width of the lower transition band; `None` is MNE's "auto".
    pub l_trans_bandwidth: Option<f64>,
    /// Width of the upper transition band; `None` is MNE's "auto".
    pub h_trans_bandwidth: Option<f64>,
}

impl FirSpec {
    /// A band-pass with automatic transition bands.
    pub fn band_pass(l_freq: f64, h_freq: f64) -> Self {
        FirSpec {
            l_freq: Some(l_freq),
            h_freq: Some(h_freq),
            l_trans_bandwidth: None,
            h_trans_bandwidth: None,
        }
    }

    /// A high-pass with an automatic transition band.
    pub fn high_pass(l_freq: f64) -> Self {
        FirSpec { l_freq: Some(l_freq), h_freq: None, l_trans_bandwidth: None, h_trans_bandwidth: None }
    }

    /// A low-pass with an automatic transition band.
    pub fn low_pass(h_freq: f64) -> Self {
        FirSpec { l_freq: None, h_freq: Some(h_freq), l_trans_bandwidth: None, h_trans_bandwidth: None }
    }
}

/// How [`FirFilter::filter_zero_phase`] extends a signal beyond its ends before convolving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirPad {
    /// MNE's `pad="reflect_limited"`: `len(taps) - 1` samples of odd reflection about each end
    /// sample (limited to the signal's length, zeros beyond). The default.
    ReflectLimited,
    /// EEGLAB `firfilt`/`firfiltdcpadded`: `(len(taps) - 1) / 2` copies of the first and of the
    /// last sample ("DC padding"), then the filter's group delay removed.
    Edge,
}

/// A designed linear-phase FIR filter (odd length), applied with zero phase.
#[derive(Clone)]
pub struct FirFilter {
    taps: Vec<f64>,
    pad: FirPad,
    /// FFT size, plans and the taps' spectrum for overlap-add (long filters only).
    fft: Option<FftConv>,
}

#[derive(Clone)]
struct FftConv {
    n_fft: usize,
    forward: Arc<dyn Fft<f64>>,
    inverse: Arc<dyn Fft<f64>>,
    taps_spectrum: Vec<Complex64>,
}

impl std::fmt::Debug for FirFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FirFilter")
            .field("n_taps", &self.taps.len())
            .field("pad", &self.pad)
            .field("n_fft", &self.fft.as_ref().map(|c| c.n_fft))
            .finish()
    }
}

fn trans_width(what: &'static str, given: Option<f64>, auto: f64) -> Result<f64> {
    let w = given.unwrap_or(auto);
    if w.is_finite() && w > 0.0 {
        Ok(w)
    } else {
        Err(DspError::Parameter { name: what, value: w.to_string(), expected: "a positive width in Hz" })
    }
}

impl FirFilter {
    /// Designs the filter MNE's `create_filter(None, fs, l_freq, h_freq, method="fir",
    /// fir_window="hamming", fir_design="firwin")` makes.
    ///
    /// # Errors
    /// [`DspError::SamplingRate`]; [`DspError::Cutoff`] for an edge outside (0, fs/2);
    /// [`DspError::BandEdges`] if `l_freq >= h_freq` (band-stop is not offered here: use
    /// [`crate::notch`](fn@crate::notch) or a Butterworth band-stop) or both are `None`, or a transition band
    /// reaches below 0 Hz or above Nyquist; [`DspError::Parameter`] for a non-positive
    /// transition width.
    pub fn design(fs: f64, spec: FirSpec) -> Result<Self> {
        check_fs(fs)?;
        let nyq = fs / 2.0;
        let FirSpec { l_freq, h_freq, .. } = spec;
        if let Some(l) = l_freq {
            check_cutoff("FIR high-pass edge l_freq", l, fs)?;
        }
        if let Some(h) = h_freq {
            check_cutoff("FIR low-pass edge h_freq", h, fs)?;
        }
        let band_err = || DspError::BandEdges {
            name: "FIR pass band".to_string(),
            lo: l_freq.unwrap_or(f64::NAN),
            hi: h_freq.unwrap_or(f64::NAN),
        };
        match (l_freq, h_freq) {
            (None, None) => return Err(band_err()),
            (Some(l), Some(h)) if l >= h => return Err(band_err()),
            _ => {}
        }
        // (frequency, gain) control points from Nyquist down, normalised to Nyquist = 1.
        let mut trans = f64::INFINITY;
        let mut lower = None;
        let mut upper = None;
        if let Some(l) = l_freq {
            let w = trans_width("l_trans_bandwidth", spec.l_trans_bandwidth, (0.25 * l).max(2.0).min(l))?;
            let stop = l - w;
            if stop < 0.0 {
                return Err(DspError::BandEdges {
                    name: "FIR lower transition band".into(),
                    lo: stop,
                    hi: l,
                });
            }
            trans = trans.min(w);
            lower = Some((stop, l));
        }
        if let Some(h) = h_freq {
            let w =
                trans_width("h_trans_bandwidth", spec.h_trans_bandwidth, (0.25 * h).max(2.0).min(nyq - h))?;
            let stop = h + w;
            if stop > nyq {
                return Err(DspError::BandEdges {
                    name: "FIR upper transition band".into(),
                    lo: h,
                    hi: stop,
                });
            }
            trans = trans.min(w);
            upper = Some((h, stop));
        }
        // MNE: filter_length = "{3.3 / trans}s" -> ceil(seconds * fs), made odd.
        let n_f = (HAMMING_LENGTH_FACTOR / trans * fs).ceil();
        if n_f.is_nan() || n_f > MAX_FIR_TAPS as f64 {
            return Err(DspError::Parameter {
                name: "FIR filter length (from the narrowest transition band)",
                value: format!("{n_f} taps"),
                expected: "at most MAX_FIR_TAPS (4194304) taps: widen the transition band",
            });
        }
        let mut n = (n_f as usize).max(1);
        n += (n - 1) % 2;

        let mut taps = vec![0.0; n];
        if l_freq.is_some() && h_freq.is_none() {
            taps[n / 2] = 1.0; // the high-pass starts from "all pass" at Nyquist
        }
        // Upper transition (gain 0 above -> 1 below): add a low-pass.
        if let Some((pass, stop)) = upper {
            add_transition(&mut taps, pass / nyq, stop / nyq, 1.0)?;
        }
        // Lower transition (gain 1 above -> 0 below): subtract a low-pass.
        if let Some((stop, pass)) = lower {
            add_transition(&mut taps, stop / nyq, pass / nyq, -1.0)?;
        }
        Ok(Self::from_taps_unchecked(taps))
    }

    /// Wraps arbitrary odd-length linear-phase taps.
    ///
    /// # Errors
    /// [`DspError::Parameter`] for an even or zero length or a non-finite tap.
    pub fn from_taps(taps: Vec<f64>) -> Result<Self> {
        if taps.len() % 2 == 0 || taps.iter().any(|t| !t.is_finite()) {
            return Err(DspError::Parameter {
                name: "FIR taps",
                value: format!("{} taps", taps.len()),
                expected: "an odd number of finite taps (zero phase needs a centre tap)",
            });
        }
        Ok(Self::from_taps_unchecked(taps))
    }

    pub(crate) fn from_taps_unchecked(taps: Vec<f64>) -> Self {
        let fft = (taps.len() > DIRECT_MAX_TAPS).then(|| {
            // Blocks of ~3 filter lengths keep the FFT small and the overlap cheap.
            let n_fft = (4 * taps.len()).next_power_of_two();
            let mut planner = FftPlanner::new();
            let forward = planner.plan_fft_forward(n_fft);
            let inverse = planner.plan_fft_inverse(n_fft);
            let mut taps_spectrum = vec![Complex64::new(0.0, 0.0); n_fft];
            for (s, t) in taps_spectrum.iter_mut().zip(&taps) {
                *s = Complex64::new(*t, 0.0);
            }
            forward.process(&mut taps_spectrum);
            // Fold the inverse FFT's 1/n scaling into the taps once.
            let inv_n = 1.0 / n_fft as f64;
            taps_spectrum.iter_mut().for_each(|s| *s *= inv_n);
            FftConv { n_fft, forward, inverse, taps_spectrum }
        });
        FirFilter { taps, pad: FirPad::ReflectLimited, fft }
    }

    /// The same taps with another end padding.
    pub fn with_pad(mut self, pad: FirPad) -> Self {
        self.pad = pad;
        self
    }

    /// How the signal's ends are padded.
    pub fn pad(&self) -> FirPad {
        self.pad
    }

    /// The filter's taps (odd length, symmetric for designed filters).
    pub fn taps(&self) -> &[f64] {
        &self.taps
    }

    /// Filters one channel with zero phase: MNE `filter_data(..., phase="zero",
    /// pad="reflect_limited")` for [`FirPad::ReflectLimited`], EEGLAB `firfilt` for
    /// [`FirPad::Edge`]. Signals shorter than the filter work, with more edge effect.
    ///
    /// # Errors
    /// [`DspError::Empty`]; [`DspError::NonFinite`].
    pub fn filter_zero_phase<T: Sample>(&self, x: &[T]) -> Result<Vec<T>> {
        if x.is_empty() {
            return Err(DspError::Empty { what: "signal to FIR-filter" });
        }
        let n_x = x.len();
        let n_h = self.taps.len();
        let n_edge = match self.pad {
            FirPad::ReflectLimited => n_h.min(n_x) - 1,
            FirPad::Edge => (n_h - 1) / 2,
        };
        // y[t] = full_conv(ext, h)[t + n_edge + (n_h - 1) / 2]
        let start = n_edge + (n_h - 1) / 2;
        // The FFT's buffers are reused from one call to the next on the same thread: a fresh
        // buffer per channel costs more in page faults than its use.
        SCRATCH.with(|cell| {
            let mut guard = cell.borrow_mut();
            let Scratch { ext, blocks: bufs } = &mut *guard;
            match &self.fft {
                None => {
                    check_finite(x)?;
                    match self.pad {
                        FirPad::ReflectLimited => reflect_limited(x, n_edge, ext),
                        FirPad::Edge => edge_pad(x, n_edge, ext),
                    }
                    let ext = &ext[..];
                    Ok((0..n_x)
                        .map(|t| {
                            let m = t + start;
                            // k ranges where 0 <= m - k < ext.len()
                            let k_lo = (m + 1).saturating_sub(ext.len());
                            let k_hi = m.min(n_h - 1);
                            T::from_f64((k_lo..=k_hi).map(|k| self.taps[k] * ext[m - k]).sum::<f64>())
                        })
                        .collect())
                }
                Some(conv) => {
                    // The padded signal is read block by block from `x` (never stored), and
                    // the samples are checked for finiteness as they are read.
                    let padded = Padded::new(x, self.pad, n_edge);
                    let mut y = Vec::with_capacity(n_x);
                    let bad =
                        overlap_add(Lanes::process_default(), conv, n_h, &padded, start, n_x, &mut y, bufs);
                    if bad {
                        check_finite(x)?;
                    }
                    Ok(y)
                }
            }
        })
    }
}

/// The buffers one thread's FIR filtering reuses.
#[derive(Default)]
struct Scratch {
    /// The padded signal (direct convolution only).
    ext: Vec<f64>,
    blocks: BlockBuffers,
}

/// The overlap-add's buffers.
#[derive(Default)]
struct BlockBuffers {
    /// The tail of the last block's convolution, waiting for the next block's head.
    carry: Vec<f64>,
    /// Two blocks of the padded signal, before they are interleaved into `buf`.
    stage: Vec<f64>,
    /// The FFT's data.
    buf: Vec<Complex64>,
    /// The FFT's scratch.
    fft_scratch: Vec<Complex64>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

/// A signal the overlap-add reads a slice at a time.
trait BlockSource {
    /// Number of samples.
    fn len(&self) -> usize;
    /// Writes samples `[a, a + dst.len())` into `dst` (zeros past the end); `true` if a sample
    /// read was not finite.
    fn read(&self, a: usize, dst: &mut [f64]) -> bool;
    /// Writes samples `[a, a + dst.len())` into the real parts of `dst` and
    /// `[b, b + dst.len())` into the imaginary parts, in one pass without a staging copy, if
    /// the source can (`None` if not); `Some(true)` if a sample read was not finite.
    fn read_pair(&self, _a: usize, _b: usize, _dst: &mut [Complex64]) -> Option<bool> {
        None
    }
}

impl BlockSource for [f64] {
    fn len(&self) -> usize {
        <[f64]>::len(self)
    }

    #[inline(always)]
    fn read(&self, a: usize, dst: &mut [f64]) -> bool {
        let have = self.len().saturating_sub(a).min(dst.len());
        let (head, rest) = dst.split_at_mut(have);
        head.copy_from_slice(&self[a..a + have]);
        rest.fill(0.0);
        head.iter().fold(false, |bad, v| bad | !v.is_finite())
    }
}

/// The padded signal of [`reflect_limited`] or [`edge_pad`] without its copy: `lead` zeros,
/// `side` samples of padding, the signal, `side` samples of padding, `lead` zeros.
struct Padded<'a, T> {
    x: &'a [T],
    pad: FirPad,
    lead: usize,
    side: usize,
}

impl<'a, T: Sample> Padded<'a, T> {
    /// `x` padded by `n_edge` samples at each end as `pad` says.
    fn new(x: &'a [T], pad: FirPad, n_edge: usize) -> Self {
        let side = match pad {
            FirPad::ReflectLimited => n_edge.min(x.len() - 1),
            FirPad::Edge => n_edge,
        };
        Padded { x, pad, lead: n_edge - side, side }
    }
}

impl<T: Sample> BlockSource for Padded<'_, T> {
    fn len(&self) -> usize {
        self.x.len() + 2 * (self.lead + self.side)
    }

    #[inline(always)]
    fn read(&self, a: usize, dst: &mut [f64]) -> bool {
        let (x, n_x, side) = (self.x, self.x.len(), self.side);
        let (first, last) = (x[0].to_f64(), x[n_x - 1].to_f64());
        let end = a + dst.len();
        // The zones' starts in the padded signal: left padding, signal, right padding, zeros.
        let (z1, z2) = (self.lead, self.lead + side);
        let (z3, z4) = (z2 + n_x, z2 + n_x + side);
        // The overlap of [lo, hi) with the slice read, as offsets into the zone and into dst.
        let part = |lo: usize, hi: usize| {
            let (l, h) = (lo.max(a), hi.min(end));
            (l < h).then(|| (l - lo, h - lo, l - a, h - a))
        };
        let mut bad = false;
        if let Some((_, _, d0, d1)) = part(0, z1) {
            dst[d0..d1].fill(0.0);
        }
        if let Some((k0, k1, d0, d1)) = part(z1, z2) {
            let dst = &mut dst[d0..d1];
            match self.pad {
                // ext[z1 + k] = 2 first - x[side - k]
                FirPad::ReflectLimited => {
                    for (d, v) in dst.iter_mut().zip(x[side + 1 - k1..=side - k0].iter().rev()) {
                        *d = 2.0 * first - v.to_f64();
                    }
                }
                FirPad::Edge => dst.fill(first),
            }
        }
        if let Some((k0, k1, d0, d1)) = part(z2, z3) {
            // No early exit: the conversion and the test vectorise.
            bad = dst[d0..d1].iter_mut().zip(&x[k0..k1]).fold(false, |bad, (d, v)| {
                *d = v.to_f64();
                bad | !d.is_finite()
            });
        }
        if let Some((k0, k1, d0, d1)) = part(z3, z4) {
            let dst = &mut dst[d0..d1];
            match self.pad {
                // ext[z3 + k] = 2 last - x[n_x - 2 - k]
                FirPad::ReflectLimited => {
                    for (d, v) in dst.iter_mut().zip(x[n_x - 1 - k1..=n_x - 2 - k0].iter().rev()) {
                        *d = 2.0 * last - v.to_f64();
                    }
                }
                FirPad::Edge => dst.fill(last),
            }
        }
        if let Some((_, _, d0, d1)) = part(z4, end.max(z4)) {
            dst[d0..d1].fill(0.0);
        }
        bad
    }

    /// Both slices inside the signal itself (most blocks of a long signal): one pass.
    #[inline(always)]
    fn read_pair(&self, a: usize, b: usize, dst: &mut [Complex64]) -> Option<bool> {
        let z2 = self.lead + self.side;
        let n = dst.len();
        let inside = |s: usize| s >= z2 && s + n <= z2 + self.x.len();
        if !(inside(a) && inside(b)) {
            return None;
        }
        let (re, im) = (&self.x[a - z2..a - z2 + n], &self.x[b - z2..b - z2 + n]);
        // No early exit: the conversion and the test vectorise.
        Some(dst.iter_mut().zip(re).zip(im).fold(false, |bad, ((c, r), i)| {
            *c = Complex64::new(r.to_f64(), i.to_f64());
            bad | !(c.re.is_finite() && c.im.is_finite())
        }))
    }
}

/// Adds `sign *` a Hamming low-pass for the transition `[lo, hi]` (normalised to Nyquist),
/// centred in `taps` — MNE's `_firwin_design` step.
fn add_transition(taps: &mut [f64], lo: f64, hi: f64, sign: f64) -> Result<()> {
    let n = taps.len();
    let transition = (hi - lo) / 2.0;
    // Python's round() rounds half to even.
    let mut this_n = (HAMMING_LENGTH_FACTOR / transition).round_ties_even() as usize;
    this_n += 1 - this_n % 2;
    if this_n > n {
        return Err(DspError::Parameter {
            name: "FIR filter length",
            value: n.to_string(),
            expected: "enough taps for the narrowest transition band",
        });
    }
    let h = firwin_lowpass((hi + lo) / 2.0, &hamming_symmetric(this_n));
    let offset = (n - this_n) / 2;
    for (t, v) in taps[offset..offset + this_n].iter_mut().zip(&h) {
        *t += sign * v;
    }
    Ok(())
}

/// MNE's `_smart_pad(x, (n, n), "reflect_limited")` into `ext`: odd reflection limited to the
/// signal, zeros beyond.
fn reflect_limited<T: Sample>(x: &[T], n_edge: usize, ext: &mut Vec<f64>) {
    let n_x = x.len();
    let refl = n_edge.min(n_x - 1);
    let zeros = n_edge - refl;
    let (first, last) = (x[0].to_f64(), x[n_x - 1].to_f64());
    ext.clear();
    ext.reserve(n_x + 2 * n_edge);
    ext.extend(std::iter::repeat_n(0.0, zeros));
    ext.extend((1..=refl).rev().map(|i| 2.0 * first - x[i].to_f64()));
    ext.extend(x.iter().map(|v| v.to_f64()));
    ext.extend((1..=refl).map(|i| 2.0 * last - x[n_x - 1 - i].to_f64()));
    ext.extend(std::iter::repeat_n(0.0, zeros));
}

/// EEGLAB's DC padding into `ext`: `n_edge` copies of the first sample, the signal, `n_edge`
/// copies of the last.
fn edge_pad<T: Sample>(x: &[T], n_edge: usize, ext: &mut Vec<f64>) {
    let (first, last) = (x[0].to_f64(), x[x.len() - 1].to_f64());
    ext.clear();
    ext.reserve(x.len() + 2 * n_edge);
    ext.extend(std::iter::repeat_n(first, n_edge));
    ext.extend(x.iter().map(|v| v.to_f64()));
    ext.extend(std::iter::repeat_n(last, n_edge));
}

/// The overlap-add, compiled once per instruction set (the one place of this module that needs
/// `unsafe`: entering a `#[target_feature]` function).
mod paths {
    #![allow(unsafe_code)]
    use super::{overlap_add_on, BlockBuffers, BlockSource, FftConv, Lanes, Sample};

    /// Full linear convolution of the signal `ext` with the taps by overlap-add, appending the
    /// `n_out` samples from index `start` to `y` (converted to `T`); `true` if a sample of `ext`
    /// read was not finite. Two real blocks share one complex FFT (real and imaginary parts),
    /// which the real taps keep apart.
    ///
    /// Every output sample sums the overlapping blocks' values in block order, from 0.0, as the
    /// sample-by-sample form kept in the tests does: a block is longer than the taps, so a
    /// sample has at most two, the tail of one block (kept in `carry` until the next block) and
    /// the head of the next. Samples come out in order and go straight to `y`: there is no
    /// full-length `f64` output.
    ///
    /// The passes around the FFTs (rustfft's own code) are compiled for the widest instruction
    /// set of `lanes`; each is element by element, so every path gives the same bits.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn overlap_add<T: Sample, S: BlockSource + ?Sized>(
        lanes: Lanes,
        conv: &FftConv,
        n_h: usize,
        ext: &S,
        start: usize,
        n_out: usize,
        y: &mut Vec<T>,
        bufs: &mut BlockBuffers,
    ) -> bool {
        match lanes {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: an `Avx512` value exists only once the CPU was seen to have AVX-512F.
            Lanes::Avx512(_) => unsafe { overlap_add_avx512(conv, n_h, ext, start, n_out, y, bufs) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: an `Avx2` value exists only once the CPU was seen to have AVX2.
            Lanes::Avx2(_) => unsafe { overlap_add_avx2(conv, n_h, ext, start, n_out, y, bufs) },
            _ => overlap_add_on(conv, n_h, ext, start, n_out, y, bufs),
        }
    }

    /// # Safety
    /// The CPU must have AVX-512F.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn overlap_add_avx512<T: Sample, S: BlockSource + ?Sized>(
        conv: &FftConv,
        n_h: usize,
        ext: &S,
        start: usize,
        n_out: usize,
        y: &mut Vec<T>,
        bufs: &mut BlockBuffers,
    ) -> bool {
        overlap_add_on(conv, n_h, ext, start, n_out, y, bufs)
    }

    /// # Safety
    /// The CPU must have AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn overlap_add_avx2<T: Sample, S: BlockSource + ?Sized>(
        conv: &FftConv,
        n_h: usize,
        ext: &S,
        start: usize,
        n_out: usize,
        y: &mut Vec<T>,
        bufs: &mut BlockBuffers,
    ) -> bool {
        overlap_add_on(conv, n_h, ext, start, n_out, y, bufs)
    }
}

/// [`overlap_add`]'s body, inlined into each instruction set's entry point.
#[inline(always)]
fn overlap_add_on<T: Sample, S: BlockSource + ?Sized>(
    conv: &FftConv,
    n_h: usize,
    ext: &S,
    start: usize,
    n_out: usize,
    y: &mut Vec<T>,
    bufs: &mut BlockBuffers,
) -> bool {
    let BlockBuffers { carry, stage, buf, fft_scratch: scratch } = bufs;
    let n_fft = conv.n_fft;
    let block = n_fft - n_h + 1;
    let tail = n_h - 1;
    assert!(block >= tail, "overlap-add blocks are longer than the taps");
    let zero = Complex64::new(0.0, 0.0);
    // Every block writes all of `buf`, and the scratch's contents do not matter.
    buf.resize(n_fft, zero);
    scratch.resize(conv.forward.get_inplace_scratch_len().max(conv.inverse.get_inplace_scratch_len()), zero);
    carry.clear();
    carry.resize(tail, 0.0);
    stage.resize(2 * block, 0.0);
    let (re, im) = stage.split_at_mut(block);
    let mut out = Window { y, start, end: start + n_out };
    let n_blocks = ext.len().div_ceil(block);
    let mut bad = false;
    let mut b = 0;
    while b < n_blocks {
        let s0 = b * block;
        let s1 = (b + 1) * block;
        let paired = b + 1 < n_blocks;
        // Real part: ext[s0..s0 + block], imaginary part: the next block (or zeros), zero
        // padded to n_fft.
        let (data, pad) = buf.split_at_mut(block);
        match if paired { ext.read_pair(s0, s1, data) } else { None } {
            Some(bad_pair) => bad |= bad_pair,
            None => {
                bad |= ext.read(s0, re);
                if paired {
                    bad |= ext.read(s1, im);
                } else {
                    im.fill(0.0);
                }
                for ((c, &r), &i) in data.iter_mut().zip(&*re).zip(&*im) {
                    *c = Complex64::new(r, i);
                }
            }
        }
        pad.fill(zero);
        conv.forward.process_with_scratch(buf, scratch);
        for (c, h) in buf.iter_mut().zip(&conv.taps_spectrum) {
            *c *= h;
        }
        conv.inverse.process_with_scratch(buf, scratch);
        emit_block(&mut out, carry, s0, block, buf, |c| c.re);
        if paired {
            emit_block(&mut out, carry, s1, block, buf, |c| c.im);
        }
        b += 2;
    }
    // The last block's tail has no block after it.
    let s_end = n_blocks * block;
    let r = out.span(s_end, tail);
    out.y.extend(carry[r].iter().map(|&v| T::from_f64(v)));
    assert_eq!(out.y.len(), n_out, "the blocks cover the output window");
    bad
}

/// The output window `[start, end)` of the full convolution, filled in order.
struct Window<'a, T> {
    y: &'a mut Vec<T>,
    start: usize,
    end: usize,
}

impl<T: Sample> Window<'_, T> {
    /// The offsets into `[p0, p0 + n)` of the samples that lie in the window; the caller
    /// appends their final values (the samples before `p0` are all in already).
    #[inline(always)]
    fn span(&self, p0: usize, n: usize) -> std::ops::Range<usize> {
        let (lo, hi) = (p0.max(self.start), (p0 + n).min(self.end));
        if lo >= hi {
            return 0..0;
        }
        debug_assert_eq!(self.y.len(), lo - self.start, "samples come in order");
        lo - p0..hi - p0
    }
}

/// Finishes the samples of one block's convolution (`values`, starting at full-convolution
/// index `block_start`, `block + carry.len()` long): its head completes the previous block's
/// tail held in `carry`, its middle is final alone, its tail goes into `carry`.
#[inline(always)]
fn emit_block<T: Sample>(
    out: &mut Window<'_, T>,
    carry: &mut [f64],
    block_start: usize,
    block: usize,
    values: &[Complex64],
    part: impl Fn(&Complex64) -> f64 + Copy,
) {
    let tail = carry.len();
    let (head, middle, next) = (&values[..tail], &values[tail..block], &values[block..block + tail]);
    let r = out.span(block_start, tail);
    out.y.extend(carry[r.clone()].iter().zip(&head[r]).map(|(c, v)| T::from_f64(c + part(v))));
    let r = out.span(block_start + tail, middle.len());
    out.y.extend(middle[r].iter().map(|v| T::from_f64(0.0 + part(v))));
    for (c, v) in carry.iter_mut().zip(next) {
        *c = 0.0 + part(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;
    use std::f64::consts::PI;

    /// FFT and direct convolution agree to rounding.
    const CONV_TOL: f64 = 1e-10;

    #[test]
    fn fft_and_direct_paths_agree() {
        let taps: Vec<f64> = (0..101).map(|i| ((i * 13) % 17) as f64 / 17.0 - 0.4).collect();
        let long = FirFilter::from_taps(taps.clone()).expect("odd taps");
        assert!(long.fft.is_some());
        let direct = FirFilter { taps, pad: FirPad::ReflectLimited, fft: None };
        for n in [1usize, 7, 100, 101, 450, 1001] {
            let x: Vec<f64> = (0..n).map(|i| ((i * 7) % 11) as f64 - 5.0 + 0.01 * i as f64).collect();
            let a = long.filter_zero_phase(&x).expect("finite");
            let b = direct.filter_zero_phase(&x).expect("finite");
            for (u, v) in a.iter().zip(&b) {
                assert_abs_diff_eq!(u, v, epsilon = CONV_TOL);
            }
        }
    }

    /// The overlap-add as first written, one sample at a time: the reference the slice form
    /// must match bit for bit.
    fn overlap_add_by_sample(
        conv: &FftConv,
        n_h: usize,
        ext: &[f64],
        start: usize,
        n_out: usize,
    ) -> Vec<f64> {
        let n_fft = conv.n_fft;
        let block = n_fft - n_h + 1;
        let mut out = vec![0.0; n_out];
        let mut buf = vec![Complex64::new(0.0, 0.0); n_fft];
        let n_blocks = ext.len().div_ceil(block);
        let mut b = 0;
        while b < n_blocks {
            let (s0, s1) = (b * block, (b + 1) * block);
            buf.iter_mut().for_each(|c| *c = Complex64::new(0.0, 0.0));
            for (j, c) in buf.iter_mut().enumerate().take(block) {
                let re = ext.get(s0 + j).copied().unwrap_or(0.0);
                let im = if b + 1 < n_blocks { ext.get(s1 + j).copied().unwrap_or(0.0) } else { 0.0 };
                *c = Complex64::new(re, im);
            }
            conv.forward.process(&mut buf);
            for (c, h) in buf.iter_mut().zip(&conv.taps_spectrum) {
                *c *= h;
            }
            conv.inverse.process(&mut buf);
            let len = (block + n_h - 1).min(n_fft);
            // The real block's samples first, then the imaginary block's, as first written.
            for (bs, imaginary) in [(s0, false), (s1, true)] {
                if imaginary && b + 1 >= n_blocks {
                    continue;
                }
                for (j, c) in buf[..len].iter().enumerate() {
                    let idx = bs + j;
                    if idx >= start && idx < start + n_out {
                        out[idx - start] += if imaginary { c.im } else { c.re };
                    }
                }
            }
            b += 2;
        }
        out
    }

    #[test]
    fn slice_overlap_add_matches_the_sample_by_sample_form_bit_for_bit() {
        for n_taps in [65usize, 101, 825] {
            let taps: Vec<f64> = (0..n_taps).map(|i| ((i * 13) % 17) as f64 / 17.0 - 0.4).collect();
            let fir = FirFilter::from_taps(taps).expect("odd taps");
            let conv = fir.fft.as_ref().expect("long filters use the FFT");
            // The buffers are reused from one call to the next, as on a thread, and start dirty.
            let mut a = Vec::<f64>::new();
            let mut bufs = BlockBuffers {
                carry: vec![7.0; 3],
                stage: vec![-1.0; 9],
                buf: vec![Complex64::new(1.0, 2.0); 5],
                fft_scratch: Vec::new(),
            };
            for (n, lanes) in [1usize, 50, 3000, 10_000]
                .into_iter()
                .flat_map(|n| Lanes::available().into_iter().map(move |l| (n, l)))
            {
                let ext: Vec<f64> = (0..n).map(|i| ((i * 7919) % 1013) as f64 / 101.3 - 5.0).collect();
                for (start, n_out) in [
                    (0, n),
                    (n_taps / 2, n.saturating_sub(n_taps / 2)),
                    (n_taps - 1, n / 2),
                    (0, n + n_taps - 1),
                    (n, n_taps - 1),
                ] {
                    a.clear();
                    let bad = overlap_add(lanes, conv, n_taps, &ext[..], start, n_out, &mut a, &mut bufs);
                    assert!(!bad);
                    let b = overlap_add_by_sample(conv, n_taps, &ext, start, n_out);
                    assert!(
                        a.iter().zip(&b).all(|(u, v)| u.to_bits() == v.to_bits()) && a.len() == b.len(),
                        "{}: {n_taps} taps, {n} samples, start {start}",
                        lanes.name()
                    );
                }
            }
        }
    }

    #[test]
    fn a_thread_s_reused_buffers_leave_nothing_behind() {
        let fir = FirFilter::design(250.0, FirSpec::band_pass(1.0, 40.0)).expect("valid");
        assert!(fir.fft.is_some());
        let long: Vec<f32> = (0..20_000).map(|i| ((i * 7919) % 1013) as f32 / 101.3 - 5.0).collect();
        let short: Vec<f32> = long[..700].iter().map(|v| v * -2.0).collect();
        let first = fir.filter_zero_phase(&long).expect("finite");
        let short_first = fir.filter_zero_phase(&short).expect("finite");
        let edge = fir.clone().with_pad(FirPad::Edge).filter_zero_phase(&short).expect("finite");
        assert_eq!(fir.filter_zero_phase(&long).expect("finite"), first);
        assert_eq!(fir.filter_zero_phase(&short).expect("finite"), short_first);
        assert_eq!(fir.clone().with_pad(FirPad::Edge).filter_zero_phase(&short).expect("finite"), edge);
        // On a fresh thread (fresh buffers) the same bits.
        let again = std::thread::spawn({
            let (fir, short) = (fir.clone(), short.clone());
            move || fir.filter_zero_phase(&short).expect("finite")
        })
        .join()
        .expect("thread");
        assert_eq!(again, short_first);
        // A non-finite sample is still an error, and leaves the next call unharmed.
        let mut bad = short.clone();
        bad[5] = f32::NAN;
        assert!(fir.filter_zero_phase(&bad).is_err());
        assert_eq!(fir.filter_zero_phase(&short).expect("finite"), short_first);
    }

    /// The padded signal as [`reflect_limited`] or [`edge_pad`] stores it.
    fn stored_padding<T: Sample>(x: &[T], pad: FirPad, n_edge: usize) -> Vec<f64> {
        let mut ext = Vec::new();
        match pad {
            FirPad::ReflectLimited => reflect_limited(x, n_edge, &mut ext),
            FirPad::Edge => edge_pad(x, n_edge, &mut ext),
        }
        ext
    }

    #[test]
    fn padding_read_a_slice_at_a_time_equals_the_stored_padding() {
        let x: Vec<f32> = (0..23).map(|i| ((i * 7) % 11) as f32 - 5.0 + 0.3 * i as f32).collect();
        for pad in [FirPad::ReflectLimited, FirPad::Edge] {
            for n_x in [1usize, 2, 5, 23] {
                for n_edge in [0usize, 1, 3, 22, 40] {
                    let n_edge =
                        if pad == FirPad::ReflectLimited { n_edge.min(n_x.max(1) * 3) } else { n_edge };
                    let stored = stored_padding(&x[..n_x], pad, n_edge);
                    let padded = Padded::new(&x[..n_x], pad, n_edge);
                    assert_eq!(BlockSource::len(&padded), stored.len());
                    for a in 0..stored.len() + 3 {
                        for len in [1usize, 2, 7, stored.len() + 5] {
                            let mut got = vec![9.0; len];
                            assert!(!padded.read(a, &mut got));
                            for (j, g) in got.iter().enumerate() {
                                let want = stored.get(a + j).copied().unwrap_or(0.0);
                                assert!(
                                    g.to_bits() == want.to_bits(),
                                    "{pad:?}, {n_x} samples, {n_edge} padded, from {a}: [{j}] {g} != {want}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    /// Overlap-add reading the padding from the signal, with its output straight in `T`, gives
    /// the bits of the stored padding's sample-by-sample overlap-add, for both paddings, `f32`
    /// and `f64` signals and signals shorter than the filter.
    #[test]
    fn the_padding_read_in_place_gives_the_stored_padding_s_bits() {
        fn check<T: Sample + std::fmt::Debug>(fir: &FirFilter, x: &[T]) {
            let conv = fir.fft.as_ref().expect("long filters use the FFT");
            let (n_x, n_h) = (x.len(), fir.taps.len());
            let n_edge = match fir.pad {
                FirPad::ReflectLimited => n_h.min(n_x) - 1,
                FirPad::Edge => (n_h - 1) / 2,
            };
            let ext = stored_padding(x, fir.pad, n_edge);
            let start = n_edge + (n_h - 1) / 2;
            let want = overlap_add_by_sample(conv, n_h, &ext, start, n_x);
            let mut outputs = vec![("default", fir.filter_zero_phase(x).expect("finite"))];
            for lanes in Lanes::available() {
                let mut y = Vec::new();
                let padded = Padded::new(x, fir.pad, n_edge);
                assert!(!overlap_add(
                    lanes,
                    conv,
                    n_h,
                    &padded,
                    start,
                    n_x,
                    &mut y,
                    &mut BlockBuffers::default()
                ));
                outputs.push((lanes.name(), y));
            }
            for (path, got) in outputs {
                assert_eq!(got.len(), n_x);
                for (t, (g, w)) in got.iter().zip(&want).enumerate() {
                    assert!(
                        g.to_f64().to_bits() == T::from_f64(*w).to_f64().to_bits(),
                        "{path}: {:?}, {n_h} taps, {n_x} samples: y[{t}] {g:?} != {w}",
                        fir.pad
                    );
                }
            }
        }
        for n_taps in [65usize, 101, 825] {
            let taps: Vec<f64> = (0..n_taps).map(|i| ((i * 13) % 17) as f64 / 17.0 - 0.4).collect();
            for pad in [FirPad::ReflectLimited, FirPad::Edge] {
                let fir = FirFilter::from_taps(taps.clone()).expect("odd taps").with_pad(pad);
                for n in [1usize, 2, 40, n_taps - 1, n_taps, 3000, 10_000] {
                    let x: Vec<f64> =
                        (0..n).map(|i| ((i * 7919) % 1013) as f64 / 101.3 - 5.0 + 100.0).collect();
                    check(&fir, &x);
                    check(&fir, &x.iter().map(|&v| v as f32).collect::<Vec<f32>>());
                }
            }
        }
    }

    #[test]
    fn the_first_non_finite_sample_is_named_wherever_it_is() {
        let fir = FirFilter::design(250.0, FirSpec::band_pass(1.0, 40.0)).expect("valid");
        assert!(fir.fft.is_some());
        for pad in [FirPad::ReflectLimited, FirPad::Edge] {
            let fir = fir.clone().with_pad(pad);
            for n in [1usize, 2, 300, 5000, 40_000] {
                let bad =
                    [(0, f32::NAN), (n / 3, f32::INFINITY), (n / 2, f32::NAN), (n - 1, f32::NEG_INFINITY)];
                // One bad sample alone, or followed by another at the end.
                for ((at, value), also_last) in bad.into_iter().flat_map(|b| [(b, false), (b, true)]) {
                    let mut x: Vec<f32> = (0..n).map(|i| (i % 13) as f32).collect();
                    if also_last {
                        x[n - 1] = f32::NAN;
                    }
                    x[at] = value;
                    match fir.filter_zero_phase(&x) {
                        Err(DspError::NonFinite { index, .. }) => assert_eq!(index, at, "{pad:?}, {n}"),
                        other => panic!("{pad:?}, {n} samples, bad at {at}: {other:?}"),
                    }
                }
            }
        }
    }

    #[test]
    fn band_pass_keeps_alpha_and_removes_drift_with_no_lag() {
        let fs = 250.0;
        let fir = FirFilter::design(fs, FirSpec::band_pass(1.0, 40.0)).expect("valid");
        assert_eq!(fir.taps().len(), 825);
        let x: Vec<f64> =
            (0..5000).map(|n| (2.0 * PI * 10.0 * n as f64 / fs).sin() + 0.01 * n as f64).collect();
        let y = fir.filter_zero_phase(&x).expect("finite");
        for n in 1000..4000 {
            assert_abs_diff_eq!(y[n], (2.0 * PI * 10.0 * n as f64 / fs).sin(), epsilon = 5e-3);
        }
    }

    #[test]
    fn invalid_specs_are_errors() {
        assert!(FirFilter::design(250.0, FirSpec::band_pass(40.0, 1.0)).is_err());
        assert!(FirFilter::design(250.0, FirSpec::low_pass(125.0)).is_err());
        let none = FirSpec { l_freq: None, h_freq: None, l_trans_bandwidth: None, h_trans_bandwidth: None };
        assert!(FirFilter::design(250.0, none).is_err());
        let neg = FirSpec { l_trans_bandwidth: Some(-1.0), ..FirSpec::high_pass(1.0) };
        assert!(FirFilter::design(250.0, neg).is_err());
        assert!(FirFilter::from_taps(vec![1.0, 2.0]).is_err());
        let tiny = FirSpec { l_trans_bandwidth: Some(1e-300), ..FirSpec::high_pass(1.0) };
        assert!(matches!(FirFilter::design(250.0, tiny), Err(DspError::Parameter { .. })));
    }
}

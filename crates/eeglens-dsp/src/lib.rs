//! # eeglens-dsp
//!
//! Signal processing for EEG on plain arrays: zero-phase Butterworth filters, notch filters,
//! FIR filters designed as MNE and EEGLAB design them, rational resampling, re-referencing,
//! detrending, spherical-spline interpolation, bad-channel criteria, Welch power spectral
//! density and band power. Each routine reproduces its SciPy counterpart (tested against golden values made by
//! `tools/golden/dsp_golden.py`), so results can be checked against a Python pipeline.
//!
//! This crate is on the ground floor of the workspace: plain slices and `ndarray` arrays in,
//! plain arrays out; it imports no other eeglens crate.
//!
//! ## Where to start
//! - Filter with [`butter`](fn@butter) and [`Sos::filtfilt`], change the rate with [`Resampler`], and read
//!   spectra with [`Welch`] and [`band_powers`]; the example at the bottom of this page chains
//!   them over two channels with [`map_channels`].
//! - `examples/02_filter_resample.rs` (`cargo run -p eeglens-dsp --example 02_filter_resample`):
//!   resample, band-pass and re-reference a multi-channel array as `eeglens prepare` does, and
//!   print what each step did to its band powers.
//! - The crate's README (what it does and does not do, features, MSRV) has a one-channel example;
//!   it is compiled and run as a doctest.
//!
//! ## Conventions
//! - A channel is a slice `&[T]` with `T` = `f32` or `f64` (see [`Sample`]); all arithmetic
//!   and filter state are `f64`, `f32` is rounded once on output.
//! - Multi-channel data is `[n_channels][n_samples]`: `&[Vec<T>]`, or an `ndarray`
//!   `Array2`/`ArrayView2` with rows as channels. [`map_channels`], [`for_each_channel`],
//!   [`map_rows`] and [`for_each_row`] run any per-channel routine over all channels in
//!   parallel (rayon).
//! - [`Sos::filtfilt_channels`] and [`Resampler::process_channels`] take all channels at once
//!   and put 8 (AVX-512) or 4 (AVX2) of them in the lanes of one SIMD vector, chosen at run
//!   time ([`simd_path`]; `EEGLENS_NO_AVX512` set runs the scalar per-channel code). Each
//!   lane does the scalar code's arithmetic operation for operation, so every path gives
//!   bit-identical results. [`FirFilter::filter_zero_phase`] compiles the passes around its
//!   FFTs for the same instruction set, with the same bits on every path.
//! - Frequencies are in Hz and sampling rates are `fs` in Hz. EEG is in µV, so PSDs are in
//!   µV²/Hz and band powers in µV².
//! - Designs ([`Sos`], [`Resampler`], [`Welch`]) are built once, validated, then applied to
//!   many channels; they are `Send + Sync`.
//! - Bad parameters or samples (cut-off at or above Nyquist, order 0, signal shorter than the
//!   filter's edge padding, NaN) are a [`DspError`], never a panic.
//!
//! ## Throughput
//! Measured in `BENCHMARKS.md` ("DSP"): on one core of the project's Xeon, 24 channels x 10 min
//! at 500 Hz (28.8 MB of `f32`) take ~42 ms of CPU for a 4th-order Butterworth
//! [`Sos::filtfilt_channels`] (2.8-3x SciPy's `sosfiltfilt`), ~22 ms for 500 -> 128 Hz
//! [`Resampler::process_channels`] (~3x `resample_poly`); the per-channel calls take 2-2.5
//! times as long. Resampling already low-passes (anti-aliasing), so resampling first and
//! band-passing at the lower rate filters ~4x fewer samples. Build designs once and share them
//! across channels and recordings; SOS filtering state and FIR convolution run in `f64`.
//!
//! ## Map to SciPy
//! | here | SciPy / MNE |
//! |---|---|
//! | [`butter`](fn@butter)`(n, FilterKind::BandPass(lo, hi), fs)` | `butter(n, [lo, hi], "bandpass", fs=fs, output="sos")` |
//! | [`Sos::filtfilt`] / [`Sos::filter`] / [`Sos::zi`] | `sosfiltfilt` / `sosfilt` / `sosfilt_zi` |
//! | [`Sos::filtfilt_channels`]`(&rows)` | `sosfiltfilt(sos, x, axis=-1)` on a `[channels, samples]` array |
//! | [`Resampler::new`]`(up, down)` / [`resample_poly`] | `resample_poly(x, up, down)` |
//! | [`Resampler::process_channels`]`(&rows)` | `resample_poly(x, up, down, axis=-1)` |
//! | [`FirFilter::design`]`(fs, FirSpec::band_pass(l, h))` + [`FirFilter::filter_zero_phase`] | MNE `filter_data(x, fs, l, h)` (FIR, Hamming, firwin, zero phase) |
//! | [`EeglabFirDesign::new`]`(fs, Some(l), Some(h))` + `.filter()` | EEGLAB `pop_eegfiltnew(EEG, l, h)` (firws, Hamming 25/46, default order, `firfilt` DC padding) |
//! | [`SplineInterpolator::new`]`(&known)` + `.matrix(&wanted)` | MNE `_make_interpolation_matrix(known, wanted)` (spherical splines, `interpolate_bads`) |
//! | [`append_reference_channel`] + [`Reference::Channels`] | EEGLAB adding the reference channel back, then `pop_reref` to a channel list |
//! | [`clean::flat_channels`], [`clean::line_noise`] ([`clean::line_noise_channels`]), [`clean::low_correlation_channels`] | EEGLAB `clean_rawdata`'s channel criteria (simplified; see [`clean`]) |
//! | [`notch`](fn@notch)`(50.0, q, fs)` | `iirnotch(50, q, fs)` |
//! | [`welch`](fn@welch) / [`Welch`] | `welch(x, fs)` (Hann, 256, 50 %, density, mean) |
//! | [`detrend_linear`] / [`demean`] | `detrend(x, "linear")` / `detrend(x, "constant")` |
//!
//! ## Example: band-pass, resample 500 -> 128 Hz, theta power
//! ```
//! use eeglens_dsp::{butter, band_powers, eeg_bands, map_channels, FilterKind, Resampler, Welch,
//!     WelchConfig, EEG_TOTAL_RANGE};
//!
//! # fn main() -> Result<(), eeglens_dsp::DspError> {
//! let fs = 500.0;
//! // Two channels, 20 s: a 6 Hz (theta) rhythm on a slow drift.
//! let data: Vec<Vec<f32>> = (0..2)
//!     .map(|c| {
//!         (0..10_000)
//!             .map(|n| {
//!                 let t = n as f32 / 500.0;
//!                 10.0 * (2.0 * std::f32::consts::PI * 6.0 * t).sin() + 50.0 * t + c as f32
//!             })
//!             .collect()
//!     })
//!     .collect();
//!
//! let band_pass = butter(4, FilterKind::BandPass(0.25, 25.0), fs)?;
//! let resampler = Resampler::from_rates(500, 128)?;
//! let prepared = map_channels(&data, |ch| resampler.process(&band_pass.filtfilt(ch)?))?;
//! assert_eq!(prepared[0].len(), 2560);
//!
//! let welch = Welch::new(128.0, WelchConfig::default())?;
//! let psd = welch.psd(&prepared[0])?;
//! let powers = band_powers(&psd, &eeg_bands(), EEG_TOTAL_RANGE)?;
//! let theta = &powers[1];
//! assert_eq!(theta.name, "theta");
//! assert!(theta.relative > 0.9);
//! # Ok(())
//! # }
//! ```
#![cfg_attr(doctest, doc = include_str!("../README.md"))]
#![warn(missing_docs)]

mod bandpower;
mod butter;
pub mod clean;
mod error;
mod fir;
mod fir_eeglab;
mod lanes;
mod notch;
mod par;
mod reference;
mod resample;
mod resample_lanes;
mod sample;
mod sos;
mod sos_lanes;
mod spline;
pub mod stats;
mod welch;
pub mod window;

pub use bandpower::{band_powers, eeg_bands, integrate_band, Band, BandPower, EEG_TOTAL_RANGE};
pub use butter::{butter, FilterKind, MAX_BUTTER_ORDER};
pub use error::{DspError, Result};
pub use fir::{FirFilter, FirPad, FirSpec, HAMMING_LENGTH_FACTOR, MAX_FIR_TAPS};
pub use fir_eeglab::{fir_magnitude, EeglabFirDesign, EEGLAB_MIN_TRANSITION_HZ, EEGLAB_TRANSITION_RATIO};
pub use lanes::{simd_path, NO_AVX512_VAR};
pub use notch::{notch, DEFAULT_NOTCH_Q};
pub use par::{for_each_channel, for_each_row, map_channels, map_rows};
pub use reference::{
    append_reference_channel, demean, detrend_linear, rereference, rereference_array, Reference,
};
pub use resample::{resample_poly, Resampler, KAISER_BETA, MAX_RATE_FACTOR};
pub use sample::{check_finite, Sample};
pub use sos::Sos;
pub use spline::{SplineConfig, SplineInterpolator, MIN_ELECTRODE_ANGLE};
pub use welch::{welch, Psd, Welch, WelchConfig};

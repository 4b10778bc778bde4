//! Bad-channel criteria after EEGLAB's `clean_rawdata` (`clean_flatlines`, `clean_channels`),
//! on `[n_channels][n_samples]` arrays. Each function returns the indices of the channels it
//! flags, in ascending order.
//!
//! | criterion | here | `clean_rawdata` |
//! |---|---|---|
//! | flat line | [`flat_channels`]: a run of at least `min_flat_s` seconds whose sample-to-sample changes are all below `20 * f64::EPSILON` | `clean_flatlines` (`FlatlineCriterion` 5 s, `max_allowed_jitter` 20 eps): the same rule |
//! | line noise | [`line_noise`]: the split is clean_rawdata's own FIR ([`line_noise_split_taps`]: `design_fir(100, [0 45 50 Nyquist], [1 1 0 0])`, 101 taps, applied forward and backward); the ratio of the *mean* absolute deviation of the high part (signal minus the low part) to the *median* absolute deviation (MAD) of the low part ([`line_noise_ratios`]); robust z over channels `(r - median) / (1.4826 MAD)`; flagged above `max_z` (4) **and** when the ratio exceeds [`LINE_NOISE_MIN_RATIO`] (1 %); skipped, with the reason, when no channel's ratio does (a low-pass below 45 Hz, e.g. the paper's 25 Hz, left nothing to measure: ratios are then ~1e-5 and their z-scores rank noise floors, not line noise) or when `fs <= 100` Hz | `clean_channels` (`LineNoiseCriterion` 4): the same split and statistics, no 1 % floor (it z-scores whatever is left), the criterion skipped when `srate <= 100`; `filtfilt_fast` pads nothing at the ends where this pads by odd reflection |
//! | low correlation | [`low_correlation_channels`]: each channel predicted from all the other (not yet flagged) channels by a spherical spline ([`crate::SplineInterpolator`], MNE's defaults), correlated with its prediction in consecutive windows of `window_s`; a channel fails when the correlation is below `min_corr` (0.7) in more than `max_bad_fraction` (0.5) of the windows; the channel failing in most windows is flagged and set aside, and the others are predicted again without it, until none fails | `clean_channels` (RANSAC): 50 random subsets of 25 % of the channels each predict every channel by spherical splines, the median of the 50 predictions is correlated with the channel in 5-s windows; flagged when below `ChannelCriterion` (0.8) in more than 40 % of the windows (`max_broken_time`). Here: deterministic leave-one-out predictions from all remaining channels instead of the median over random subsets, and bad channels are removed one at a time (greedy) instead of out-voted by the median: without that, a bad channel drags its neighbours' predictions down |

use crate::error::{DspError, Result};
use crate::fir::FirFilter;
use crate::sample::{check_fs, Sample};
use crate::spline::SplineInterpolator;

/// `clean_flatlines`'s `max_allowed_jitter`: a change smaller than this many `f64::EPSILON`
/// counts as no change.
pub const FLAT_JITTER_EPS: f64 = 20.0;

/// The MAD's consistency factor for a normal distribution (1 / Phi^-1(3/4)).
const MAD_TO_SD: f64 = 1.4826;

fn check_channels<T: Sample>(data: &[Vec<T>]) -> Result<usize> {
    let first = data.first().ok_or(DspError::Empty { what: "channels to check" })?;
    let n = first.len();
    if n == 0 {
        return Err(DspError::Empty { what: "channel samples" });
    }
    if let Some((channel, ch)) = data.iter().enumerate().find(|(_, ch)| ch.len() != n) {
        return Err(DspError::RaggedChannels { channel, len: ch.len(), expected: n });
    }
    for (c, ch) in data.iter().enumerate() {
        crate::sample::check_finite(ch).map_err(|e| e.in_channel(c))?;
    }
    Ok(n)
}

fn positive(name: &'static str, v: f64) -> Result<()> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(DspError::Parameter { name, value: v.to_string(), expected: "a finite number > 0" })
    }
}

/// Channels holding a flat stretch of at least `min_flat_s` seconds (clean_rawdata's
/// `FlatlineCriterion`, 5 s).
///
/// # Errors
/// [`DspError::Empty`], [`DspError::RaggedChannels`], [`DspError::NonFinite`] (in a
/// [`DspError::Channel`]), [`DspError::SamplingRate`], [`DspError::Parameter`] for a
/// non-positive duration.
pub fn flat_channels<T: Sample>(data: &[Vec<T>], fs: f64, min_flat_s: f64) -> Result<Vec<usize>> {
    check_fs(fs)?;
    positive("flat-line duration (s)", min_flat_s)?;
    check_channels(data)?;
    let tol = FLAT_JITTER_EPS * f64::EPSILON;
    let min_run = min_flat_s * fs; // in sample-to-sample steps
    Ok(data
        .iter()
        .enumerate()
        .filter(|(_, ch)| {
            let mut run = 0usize;
            let mut longest = 0usize;
            for w in ch.windows(2) {
                if (w[1].to_f64() - w[0].to_f64()).abs() < tol {
                    run += 1;
                    longest = longest.max(run);
                } else {
                    run = 0;
                }
            }
            longest as f64 >= min_run
        })
        .map(|(c, _)| c)
        .collect())
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// Median absolute deviation from the median.
fn mad(v: &[f64]) -> f64 {
    let mut w = v.to_vec();
    let m = median(&mut w);
    let mut d: Vec<f64> = v.iter().map(|x| (x - m).abs()).collect();
    median(&mut d)
}

/// Robust z-scores over channels: `(r - median(r)) / (1.4826 MAD(r))`; all zero when the MAD
/// is zero.
fn robust_z(r: &[f64]) -> Vec<f64> {
    let mut w = r.to_vec();
    let m = median(&mut w);
    let s = MAD_TO_SD * mad(r);
    r.iter().map(|x| if s > 0.0 { (x - m) / s } else { 0.0 }).collect()
}

/// Order of the line-noise split (`design_fir(100, ...)` in `clean_channels`): 101 taps.
pub const LINE_NOISE_FIR_ORDER: usize = 100;
/// The split's pass-band edge and stop-band edge, Hz (`[0 45 50 Nyquist]`, gains `[1 1 0 0]`).
pub const LINE_NOISE_SPLIT_HZ: (f64, f64) = (45.0, 50.0);
/// A channel is flagged only when its line-noise ratio also exceeds this: content above 45 Hz
/// smaller than 1 % of the channel's amplitude (-40 dB) is not measured as line noise, whatever
/// its z-score (see the module's table).
pub const LINE_NOISE_MIN_RATIO: f64 = 0.01;

/// The line-noise split's taps: clean_rawdata's `design_fir(100, [2*[0 45 50]/fs 1], [1 1 0 0])`,
/// a frequency-sampling design: the gain on `max(512, 2^ceil(log2 100)) + 1` bins from DC to
/// Nyquist, 1 up to 45 Hz, 0 from 50 Hz, MATLAB's `pchip` between (for this shape the monotone
/// cubic `1 - 3t^2 + 2t^3`), a delay of half the order, inverse FFT, the first 101 samples
/// times a symmetric Hamming window (0.54).
///
/// # Errors
/// [`DspError::SamplingRate`] when `fs <= 100` Hz (50 Hz is not below Nyquist).
pub fn line_noise_split_taps(fs: f64) -> Result<Vec<f64>> {
    check_fs(fs)?;
    if fs <= 2.0 * LINE_NOISE_SPLIT_HZ.1 {
        return Err(DspError::SamplingRate { fs });
    }
    let n = LINE_NOISE_FIR_ORDER;
    let nfft = 512usize.max(n.next_power_of_two());
    let (ka, kb) = (
        (2.0 * LINE_NOISE_SPLIT_HZ.0 / fs * nfft as f64).round(),
        (2.0 * LINE_NOISE_SPLIT_HZ.1 / fs * nfft as f64).round(),
    );
    let gain = |k: f64| {
        if k <= ka {
            1.0
        } else if k >= kb {
            0.0
        } else {
            let t = (k - ka) / (kb - ka);
            1.0 - 3.0 * t * t + 2.0 * t * t * t
        }
    };
    // real(ifft([F conj(F(end-1:-1:2))])) with F = gain .* exp(-i pi (n/2) k / nfft): the
    // conjugate-symmetric spectrum makes each sample a cosine sum.
    let len = 2 * nfft;
    let window = crate::window::hamming_symmetric(n + 1);
    Ok((0..=n)
        .map(|t| {
            let sum: f64 = (0..len)
                .map(|j| {
                    let k = if j <= nfft { j } else { len - j };
                    let phase = std::f64::consts::PI * k as f64 * (t as f64 - 0.5 * n as f64) / nfft as f64;
                    gain(k as f64) * phase.cos()
                })
                .sum();
            sum / len as f64 * window[t]
        })
        .collect())
}

/// Each channel's line-noise ratio: the mean absolute deviation of its part above the split over
/// the median absolute deviation of its part below (clean_rawdata's
/// `mad(X - low) ./ mad(low, 1)`). The low part is the [`line_noise_split_taps`] filter applied
/// forward and backward (`filtfilt_fast`): here one zero-phase pass of the taps convolved with
/// themselves, the ends padded by odd reflection.
///
/// # Errors
/// As [`flat_channels`]; [`DspError::SamplingRate`] when `fs <= 100` Hz.
pub fn line_noise_ratios<T: Sample>(data: &[Vec<T>], fs: f64) -> Result<Vec<f64>> {
    let taps = line_noise_split_taps(fs)?;
    check_channels(data)?;
    let twice: Vec<f64> = (0..2 * taps.len() - 1)
        .map(|i| {
            let lo = i.saturating_sub(taps.len() - 1);
            let hi = i.min(taps.len() - 1);
            (lo..=hi).map(|k| taps[k] * taps[i - k]).sum()
        })
        .collect();
    let split = FirFilter::from_taps(twice)?;
    data.iter()
        .enumerate()
        .map(|(c, ch)| {
            let x: Vec<f64> = ch.iter().map(|v| v.to_f64()).collect();
            let low = split.filter_zero_phase(&x).map_err(|e| e.in_channel(c))?;
            let high: Vec<f64> = x.iter().zip(&low).map(|(a, b)| a - b).collect();
            let mean = high.iter().sum::<f64>() / high.len() as f64;
            let mean_dev = high.iter().map(|h| (h - mean).abs()).sum::<f64>() / high.len() as f64;
            let ml = mad(&low);
            Ok(if ml > 0.0 { mean_dev / ml } else { f64::INFINITY })
        })
        .collect()
}

/// The line-noise ratio of every channel ([`line_noise_ratios`]), as robust z-scores over
/// channels (see the module's table); [`line_noise_channels`] thresholds them.
///
/// # Errors
/// As [`line_noise_ratios`].
pub fn line_noise_z<T: Sample>(data: &[Vec<T>], fs: f64) -> Result<Vec<f64>> {
    let ratios = line_noise_ratios(data, fs)?;
    // A channel with no low-frequency content at all has an infinite ratio: flag it directly.
    let finite: Vec<f64> = ratios.iter().map(|r| if r.is_finite() { *r } else { f64::MAX }).collect();
    Ok(robust_z(&finite))
}

/// What the line-noise criterion found in one recording.
#[derive(Clone, Debug, PartialEq)]
pub struct LineNoise {
    /// flagged channels, ascending
    pub flagged: Vec<usize>,
    /// why nothing could be measured, when no channel's ratio exceeds [`LINE_NOISE_MIN_RATIO`]
    /// (the sampling rate or the recording's own low-pass left nothing above 45 Hz) or the
    /// sampling rate is at most 100 Hz; `None` when the criterion was applied
    pub skipped: Option<String>,
}

/// The line-noise criterion with its outcome: channels whose ratio lies more than `max_z`
/// robust standard deviations above the median channel's (clean_rawdata's
/// `LineNoiseCriterion`, 4) and above [`LINE_NOISE_MIN_RATIO`]; skipped, with the reason, when
/// `fs <= 100` Hz (as clean_rawdata does) or when no channel holds content above the split.
///
/// # Errors
/// As [`line_noise_ratios`] except the sampling rate; [`DspError::Parameter`] for a
/// non-positive `max_z`.
pub fn line_noise<T: Sample>(data: &[Vec<T>], fs: f64, max_z: f64) -> Result<LineNoise> {
    positive("line-noise z threshold", max_z)?;
    check_fs(fs)?;
    if fs <= 2.0 * LINE_NOISE_SPLIT_HZ.1 {
        check_channels(data)?;
        return Ok(LineNoise {
            flagged: Vec::new(),
            skipped: Some(format!("sampling rate {fs} Hz leaves no band above {} Hz", LINE_NOISE_SPLIT_HZ.1)),
        });
    }
    let ratios = line_noise_ratios(data, fs)?;
    let largest = ratios.iter().copied().fold(0.0, f64::max);
    if largest <= LINE_NOISE_MIN_RATIO {
        return Ok(LineNoise {
            flagged: Vec::new(),
            skipped: Some(format!(
                "no channel has content above {} Hz beyond {}% of its amplitude (largest ratio {largest:.2e}): \
                 the recording's low-pass or sampling rate left nothing to measure",
                LINE_NOISE_SPLIT_HZ.0,
                LINE_NOISE_MIN_RATIO * 100.0
            )),
        });
    }
    let finite: Vec<f64> = ratios.iter().map(|r| if r.is_finite() { *r } else { f64::MAX }).collect();
    let z = robust_z(&finite);
    let flagged = (0..ratios.len()).filter(|&c| z[c] > max_z && ratios[c] > LINE_NOISE_MIN_RATIO).collect();
    Ok(LineNoise { flagged, skipped: None })
}

/// The channels [`line_noise`] flags (none when it is skipped).
///
/// # Errors
/// As [`line_noise_ratios`]; [`DspError::Parameter`] for a non-positive `max_z`.
pub fn line_noise_channels<T: Sample>(data: &[Vec<T>], fs: f64, max_z: f64) -> Result<Vec<usize>> {
    positive("line-noise z threshold", max_z)?;
    line_noise_split_taps(fs)?;
    Ok(line_noise(data, fs, max_z)?.flagged)
}

/// Pearson correlation; 0 when either side is constant.
fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        let (dx, dy) = (x - ma, y - mb);
        sab += dx * dy;
        saa += dx * dx;
        sbb += dy * dy;
    }
    if saa > 0.0 && sbb > 0.0 {
        sab / (saa * sbb).sqrt()
    } else {
        0.0
    }
}

/// Channels that their neighbours do not predict: correlation with the spherical-spline
/// prediction from all other channels below `min_corr` in more than `max_bad_fraction` of the
/// consecutive `window_s` windows (a trailing partial window is dropped). `directions` are the
/// channels' positions from the head's centre, in channel order.
///
/// # Errors
/// As [`flat_channels`]; [`DspError::Parameter`] when `directions` does not have one entry per
/// channel, for fewer than 4 channels, `min_corr` outside (-1, 1), `max_bad_fraction` outside
/// [0, 1), a non-positive window, or a window longer than the signal; spline errors
/// ([`DspError::CoincidentElectrodes`], ...).
pub fn low_correlation_channels<T: Sample>(
    data: &[Vec<T>],
    fs: f64,
    directions: &[[f64; 3]],
    window_s: f64,
    min_corr: f64,
    max_bad_fraction: f64,
) -> Result<Vec<usize>> {
    check_fs(fs)?;
    positive("correlation window (s)", window_s)?;
    let n_samples = check_channels(data)?;
    let n_ch = data.len();
    if directions.len() != n_ch || n_ch < 4 {
        return Err(DspError::Parameter {
            name: "channel directions",
            value: format!("{} directions for {n_ch} channels", directions.len()),
            expected: "one direction per channel, at least 4 channels",
        });
    }
    if !(min_corr > -1.0 && min_corr < 1.0) {
        return Err(DspError::Parameter {
            name: "minimum correlation",
            value: min_corr.to_string(),
            expected: "a number in (-1, 1)",
        });
    }
    if !(0.0..1.0).contains(&max_bad_fraction) {
        return Err(DspError::Parameter {
            name: "largest fraction of bad windows",
            value: max_bad_fraction.to_string(),
            expected: "a number in [0, 1)",
        });
    }
    let win = (window_s * fs).round() as usize;
    if win < 2 || win > n_samples {
        return Err(DspError::Parameter {
            name: "correlation window (samples)",
            value: win.to_string(),
            expected: "at least 2 samples and no longer than the signal",
        });
    }
    let n_win = n_samples / win;
    let x: Vec<Vec<f64>> = data.iter().map(|ch| ch.iter().map(|v| v.to_f64()).collect()).collect();
    let mut flagged = vec![false; n_ch];
    // Greedy: the channel failing in the most windows is set aside and the rest are predicted
    // again without it, until none fails or fewer than 4 predictors would remain.
    loop {
        let kept: Vec<usize> = (0..n_ch).filter(|&k| !flagged[k]).collect();
        if kept.len() < 5 {
            break;
        }
        let mut worst: Option<(usize, usize, f64)> = None; // (channel, bad windows, mean correlation)
        for &c in &kept {
            let others: Vec<usize> = kept.iter().copied().filter(|&k| k != c).collect();
            let known: Vec<[f64; 3]> = others.iter().map(|&k| directions[k]).collect();
            let weights = SplineInterpolator::new(&known)?.matrix(&[directions[c]])?;
            let mut predicted = vec![0.0; n_samples];
            for (w, &k) in weights.row(0).iter().zip(&others) {
                for (p, v) in predicted.iter_mut().zip(&x[k]) {
                    *p += w * v;
                }
            }
            let corr: Vec<f64> = (0..n_win)
                .map(|i| correlation(&x[c][i * win..(i + 1) * win], &predicted[i * win..(i + 1) * win]))
                .collect();
            let bad = corr.iter().filter(|r| **r < min_corr).count();
            let mean = corr.iter().sum::<f64>() / n_win as f64;
            let worse = worst.is_none_or(|(_, b, m)| bad > b || (bad == b && mean < m));
            if bad as f64 > max_bad_fraction * n_win as f64 && worse {
                worst = Some((c, bad, mean));
            }
        }
        match worst {
            Some((c, _, _)) => flagged[c] = true,
            None => break,
        }
    }
    Ok((0..n_ch).filter(|&c| flagged[c]).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FS: f64 = 250.0;

    /// 30 channels on a cap; 20 s of a smooth field (degree <= 2 spatial patterns with their own
    /// rhythms) plus 5 % independent noise, a little 60 Hz everywhere.
    fn montage() -> (Vec<[f64; 3]>, Vec<Vec<f64>>) {
        let dirs = crate::spline::tests::cap_directions(30);
        let n = (20.0 * FS) as usize;
        let mut state = 12345u64;
        let mut noise = move || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((state >> 11) as f64 / (1u64 << 53) as f64) - 0.5
        };
        let data = dirs
            .iter()
            .map(|p| {
                let [x, y, z] = *p;
                (0..n)
                    .map(|t| {
                        let s = t as f64 / FS;
                        let tau = std::f64::consts::TAU;
                        10.0 * (tau * 10.0 * s).sin() * (0.5 + z)
                            + 6.0 * (tau * 6.0 * s + 1.0).sin() * x
                            + 4.0 * (tau * 3.3 * s).cos() * (x * y + 0.5 * z * z)
                            + 3.0 * (tau * 21.0 * s).sin() * y
                            + 0.5 * (tau * 60.0 * s).sin()
                            + 1.0 * noise()
                    })
                    .collect()
            })
            .collect();
        (dirs, data)
    }

    #[test]
    fn a_flat_stretch_of_five_seconds_is_flagged_and_four_is_not() {
        let (_, mut data) = montage();
        for v in &mut data[5][1000..1000 + (5.0 * FS) as usize + 1] {
            *v = 3.0;
        }
        for v in &mut data[8][2000..2000 + (4.0 * FS) as usize] {
            *v = -1.0;
        }
        assert_eq!(flat_channels(&data, FS, 5.0).expect("valid"), vec![5]);
    }

    #[test]
    fn a_channel_with_strong_line_noise_is_flagged() {
        let (_, mut data) = montage();
        for (t, v) in data[7].iter_mut().enumerate() {
            *v += 20.0 * (std::f64::consts::TAU * 60.0 * t as f64 / FS).sin();
        }
        assert_eq!(line_noise_channels(&data, FS, 4.0).expect("valid"), vec![7]);
        let z = line_noise_z(&data, FS).expect("valid");
        assert!(z[7] > 20.0, "z of the noisy channel {}", z[7]);
    }

    /// The montage at `fs` through the paper's EEGLAB FIR band-pass, 0.25-25 Hz.
    fn band_passed(data: &[Vec<f64>], fs: f64) -> Vec<Vec<f64>> {
        let fir = crate::EeglabFirDesign::new(fs, Some(0.25), Some(25.0)).expect("design").filter();
        data.iter().map(|ch| fir.filter_zero_phase(ch).expect("filters")).collect()
    }

    #[test]
    fn after_a_25_hz_low_pass_the_criterion_is_skipped_and_flags_no_small_channel() {
        let (_, mut data) = montage();
        // Channels of very different size, as near and far from a reference: the noise floor
        // above 45 Hz over each channel's amplitude then differs by channel.
        for (c, ch) in data.iter_mut().enumerate() {
            let g = 0.05 + c as f64 / 10.0;
            ch.iter_mut().for_each(|v| *v *= g);
        }
        let x = band_passed(&data, FS);
        let ratios = line_noise_ratios(&x, FS).expect("valid");
        assert!(ratios.iter().all(|r| *r < 1e-3), "{ratios:?}");
        let out = line_noise(&x, FS, 4.0).expect("valid");
        assert!(out.flagged.is_empty(), "{out:?}");
        let why = out.skipped.expect("skipped");
        assert!(why.contains("nothing to measure"), "{why}");
        // Unfiltered, the same channels are measured (a little 60 Hz and white noise everywhere).
        assert_eq!(line_noise(&data, FS, 4.0).expect("valid").skipped, None);
        // At or below 100 Hz there is no band above 50 Hz: skipped, as clean_rawdata does.
        let why = line_noise(&x, 100.0, 4.0).expect("valid").skipped.expect("skipped");
        assert!(why.contains("sampling rate 100 Hz"), "{why}");
    }

    #[test]
    fn line_noise_planted_after_the_band_pass_at_500_hz_is_flagged() {
        let fs = 500.0;
        let (_, data) = montage();
        // The 250-Hz montage upsampled to 500 Hz, band-passed, then 60 Hz added to channel 11 at
        // the channel's own size.
        let up: Vec<Vec<f64>> =
            data.iter().map(|ch| crate::resample_poly(ch, 2, 1).expect("resamples")).collect();
        let mut x = band_passed(&up, fs);
        let rms = (x[11].iter().map(|v| v * v).sum::<f64>() / x[11].len() as f64).sqrt();
        for (t, v) in x[11].iter_mut().enumerate() {
            *v += rms * (std::f64::consts::TAU * 60.0 * t as f64 / fs).sin();
        }
        let out = line_noise(&x, fs, 4.0).expect("valid");
        assert_eq!(out, LineNoise { flagged: vec![11], skipped: None });
        assert_eq!(line_noise_channels(&x, fs, 4.0).expect("valid"), vec![11]);
    }

    #[test]
    fn the_split_passes_up_to_45_hz_and_stops_from_50_hz() {
        for fs in [128.0, 250.0] {
            let taps = line_noise_split_taps(fs).expect("design");
            assert_eq!(taps.len(), LINE_NOISE_FIR_ORDER + 1);
            // filtfilt squares the magnitude; 101 taps at 250 Hz are less sharp than at 128 Hz.
            let h2 = |f: f64| crate::fir_magnitude(&taps, fs, f).expect("response").powi(2);
            for f in [0.0, 10.0, 25.0, 30.0] {
                assert!((h2(f) - 1.0).abs() < 1e-3, "{fs} Hz: |H({f})|^2 = {}", h2(f));
            }
            for f in [60.0, fs / 2.0] {
                assert!(h2(f) < 1e-3, "{fs} Hz: |H({f})|^2 = {}", h2(f));
            }
        }
    }

    #[test]
    fn a_channel_unrelated_to_its_neighbours_is_flagged() {
        let (dirs, mut data) = montage();
        // Channel 12 carries another source altogether, of similar size.
        for (t, v) in data[12].iter_mut().enumerate() {
            let s = t as f64 / FS;
            *v = 8.0 * (std::f64::consts::TAU * 13.7 * s).sin()
                + 5.0 * (std::f64::consts::TAU * 2.1 * s).cos();
        }
        assert_eq!(low_correlation_channels(&data, FS, &dirs, 5.0, 0.7, 0.5).expect("valid"), vec![12]);
    }

    #[test]
    fn clean_data_flags_nothing_and_bad_input_is_an_error() {
        let (dirs, data) = montage();
        assert!(flat_channels(&data, FS, 5.0).expect("valid").is_empty());
        assert!(line_noise_channels(&data, FS, 4.0).expect("valid").is_empty());
        assert!(low_correlation_channels(&data, FS, &dirs, 5.0, 0.7, 0.5).expect("valid").is_empty());

        let empty: Vec<Vec<f64>> = Vec::new();
        assert!(flat_channels(&empty, FS, 5.0).is_err());
        assert!(flat_channels(&data, FS, 0.0).is_err());
        assert!(flat_channels(&data, f64::NAN, 5.0).is_err());
        assert!(line_noise_channels(&data, 100.0, 4.0).is_err());
        assert!(line_noise_channels(&data, FS, -1.0).is_err());
        let mut nan = data.clone();
        nan[3][10] = f64::NAN;
        assert!(matches!(flat_channels(&nan, FS, 5.0), Err(DspError::Channel { channel: 3, .. })));
        let mut ragged = data.clone();
        ragged[2].pop();
        assert!(matches!(line_noise_z(&ragged, FS), Err(DspError::RaggedChannels { channel: 2, .. })));
        assert!(low_correlation_channels(&data, FS, &dirs[..29], 5.0, 0.7, 0.5).is_err());
        assert!(low_correlation_channels(&data, FS, &dirs, 50.0, 0.7, 0.5).is_err());
        assert!(low_correlation_channels(&data, FS, &dirs, 5.0, 1.5, 0.5).is_err());
        assert!(low_correlation_channels(&data, FS, &dirs, 5.0, 0.7, 1.0).is_err());
        let mut twin = dirs.clone();
        twin[4] = twin[9];
        assert!(matches!(
            low_correlation_channels(&data, FS, &twin, 5.0, 0.7, 0.5),
            Err(DspError::CoincidentElectrodes { .. })
        ));
    }
}

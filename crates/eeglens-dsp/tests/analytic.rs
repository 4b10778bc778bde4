//! Properties with known answers: zero phase, cut-off attenuation, band-limited resampling,
//! Parseval, f32/f64 agreement.

use std::f64::consts::PI;

use approx::assert_abs_diff_eq;
use eeglens_dsp::{butter, resample_poly, welch, FilterKind, Resampler, WelchConfig};
use proptest::prelude::*;

/// Amplitude error allowed on a filtered sine, away from the edges.
const AMPLITUDE_TOL: f64 = 1e-3;
/// Band-limited reconstruction error after resampling (Kaiser(5) passband ripple).
const RESAMPLE_TOL: f64 = 2e-3;

fn sine(f: f64, fs: f64, n: usize, phase: f64) -> Vec<f64> {
    (0..n).map(|i| (2.0 * PI * f * i as f64 / fs + phase).sin()).collect()
}

/// Amplitude and phase of `y` at frequency `f` by projection on sin/cos over whole cycles.
fn amp_phase(y: &[f64], f: f64, fs: f64) -> (f64, f64) {
    let (mut s, mut c) = (0.0, 0.0);
    for (i, v) in y.iter().enumerate() {
        let w = 2.0 * PI * f * i as f64 / fs;
        s += v * w.sin();
        c += v * w.cos();
    }
    let n = y.len() as f64;
    ((s * s + c * c).sqrt() * 2.0 / n, c.atan2(s))
}

#[test]
fn filtfilt_has_no_lag_and_squares_the_gain() {
    let fs = 250.0;
    let sos = butter(4, FilterKind::BandPass(1.0, 30.0), fs).expect("valid design");
    for &f in &[5.0, 10.0, 30.0] {
        let x = sine(f, fs, 5000, 0.3);
        let y = sos.filtfilt(&x).expect("long enough");
        // Middle 2000 samples hold a whole number of cycles at these frequencies.
        let (a_in, p_in) = amp_phase(&x[1500..3500], f, fs);
        let (a_out, p_out) = amp_phase(&y[1500..3500], f, fs);
        let expect_gain = sos.gain(f, fs).powi(2);
        assert_abs_diff_eq!(a_out / a_in, expect_gain, epsilon = AMPLITUDE_TOL);
        assert_abs_diff_eq!(p_out, p_in, epsilon = 1e-3);
    }
    // At a cut-off a single pass is -3 dB, forward-backward -6 dB: amplitude 1/2.
    let (a, _) =
        amp_phase(&sos.filtfilt(&sine(30.0, fs, 5000, 0.0)).expect("long enough")[1500..3500], 30.0, fs);
    assert_abs_diff_eq!(a, 0.5, epsilon = AMPLITUDE_TOL);
}

#[test]
fn single_pass_filter_lags_but_filtfilt_does_not() {
    // The causal filter's phase at 10 Hz is non-zero; this guards the test above against a
    // projection that cannot see phase.
    let fs = 250.0;
    let sos = butter(4, FilterKind::LowPass(20.0), fs).expect("valid design");
    let x = sine(10.0, fs, 5000, 0.0);
    let (_, p_causal) = amp_phase(&sos.filter(&x).expect("finite")[1500..3500], 10.0, fs);
    let (_, p_zero) = amp_phase(&sos.filtfilt(&x).expect("long enough")[1500..3500], 10.0, fs);
    assert!(p_causal.abs() > 0.5, "causal phase {p_causal}");
    assert_abs_diff_eq!(p_zero, 0.0, epsilon = 1e-3);
}

#[test]
fn resampling_keeps_band_limited_signals_at_the_usual_rates() {
    for &(fs_in, fs_out) in &[(500usize, 128usize), (256, 128), (1000, 128), (128, 500)] {
        let n_in = fs_in * 8;
        // 3 + 11 Hz, well below the 64 Hz Nyquist of the slowest rate.
        let x: Vec<f64> = (0..n_in)
            .map(|i| {
                let t = i as f64 / fs_in as f64;
                (2.0 * PI * 3.0 * t).sin() + 0.5 * (2.0 * PI * 11.0 * t + 1.0).cos()
            })
            .collect();
        let r = Resampler::from_rates(fs_in, fs_out).expect("valid");
        let y = r.process(&x).expect("finite");
        assert_eq!(y.len(), fs_out * 8);
        for (i, v) in y.iter().enumerate().skip(fs_out).take(fs_out * 6) {
            let t = i as f64 / fs_out as f64;
            let expect = (2.0 * PI * 3.0 * t).sin() + 0.5 * (2.0 * PI * 11.0 * t + 1.0).cos();
            assert_abs_diff_eq!(*v, expect, epsilon = RESAMPLE_TOL);
        }
    }
}

#[test]
fn f32_and_f64_paths_agree() {
    let x64 = sine(7.0, 500.0, 3000, 0.1);
    let x32: Vec<f32> = x64.iter().map(|v| *v as f32).collect();
    let sos = butter(4, FilterKind::BandPass(0.25, 25.0), 500.0).expect("valid design");
    let a = sos.filtfilt(&x64).expect("long enough");
    let b = sos.filtfilt(&x32).expect("long enough");
    for (u, v) in a.iter().zip(&b) {
        assert_abs_diff_eq!(*u, f64::from(*v), epsilon = 1e-5);
    }
    let a = resample_poly(&x64, 32, 125).expect("valid");
    let b = resample_poly(&x32, 32, 125).expect("valid");
    for (u, v) in a.iter().zip(&b) {
        assert_abs_diff_eq!(*u, f64::from(*v), epsilon = 1e-5);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn welch_obeys_parseval_for_any_signal(xs in prop::collection::vec(-100.0f64..100.0, 512..2048)) {
        // With no overlap and a flat window the density integrates to the mean power exactly;
        // with Hann and 50 % overlap it does on average. Use segments covering the signal.
        let n = xs.len();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let psd = welch(&xs, 100.0, WelchConfig { nperseg: n, noverlap: None, nfft: None }).expect("valid");
        let power: f64 = psd.density.iter().sum::<f64>() * psd.resolution();
        // Parseval on the Hann-windowed, demeaned segment: sum |X|^2 / n = sum (w x)^2.
        let win: Vec<f64> = (0..n).map(|i| 0.5 - 0.5 * (2.0 * PI * i as f64 / n as f64).cos()).collect();
        let wx2: f64 = xs.iter().zip(&win).map(|(x, w)| ((x - mean) * w).powi(2)).sum();
        let w2: f64 = win.iter().map(|w| w * w).sum();
        prop_assert!((power - wx2 / w2).abs() <= 1e-9 * (wx2 / w2).max(1e-12));
    }

    #[test]
    fn resample_length_is_ceil_and_constants_stay_constant_inside(
        up in 1usize..40, down in 1usize..40, n in 50usize..400, level in -50.0f64..50.0
    ) {
        let x = vec![level; n];
        let r = Resampler::new(up, down).expect("valid");
        let y = r.process(&x).expect("finite");
        let (u, d) = r.factors();
        prop_assert_eq!(y.len(), (n * u).div_ceil(d));
        // Away from the zero-padded edges the DC gain is one (up to Kaiser ripple).
        let reach = 10 * u.max(d) / d + 2;
        if y.len() > 2 * reach {
            for v in &y[reach..y.len() - reach] {
                prop_assert!((v - level).abs() <= 5e-3 * level.abs().max(1.0));
            }
        }
    }

    #[test]
    fn lowpass_filtfilt_keeps_a_constant(level in -1e3f64..1e3, order in 1usize..8, n in 100usize..300) {
        let sos = butter(order, FilterKind::LowPass(10.0), 100.0).expect("valid design");
        let y = sos.filtfilt(&vec![level; n]).expect("long enough");
        for v in y {
            prop_assert!((v - level).abs() <= 1e-9 * level.abs().max(1.0));
        }
    }
}

/// Any finite or non-finite parameter, including the awkward ones.
fn any_param() -> impl Strategy<Value = f64> {
    prop_oneof![
        -10.0f64..600.0,
        Just(0.0),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(-f64::INFINITY),
        Just(1e-300),
        Just(1e300),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// User-provided parameters give a value or a `DspError`, never a panic.
    #[test]
    fn designs_never_panic_on_bad_parameters(
        order in 0usize..30, a in any_param(), b in any_param(), fs in any_param(), n in 0usize..64
    ) {
        let x: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
        for kind in [FilterKind::LowPass(a), FilterKind::HighPass(a), FilterKind::BandPass(a, b), FilterKind::BandStop(a, b)] {
            if let Ok(sos) = butter(order, kind, fs) {
                let _ = sos.filtfilt(&x);
            }
        }
        if let Ok(sos) = eeglens_dsp::notch(a, b, fs) {
            let _ = sos.filtfilt(&x);
        }
        let spec = eeglens_dsp::FirSpec { l_freq: Some(a), h_freq: Some(b), l_trans_bandwidth: None, h_trans_bandwidth: None };
        if let Ok(fir) = eeglens_dsp::FirFilter::design(fs, spec) {
            if fir.taps().len() < 10_000 {
                let _ = fir.filter_zero_phase(&x);
            }
        }
        let _ = eeglens_dsp::Resampler::from_rates_hz(a, b).map(|r| r.process(&x));
        let cfg = WelchConfig { nperseg: n.max(1), noverlap: Some(order), nfft: None };
        let _ = welch(&x, fs, cfg);
    }
}

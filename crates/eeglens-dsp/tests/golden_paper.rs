//! Golden values for the steps of the paper's preprocessing that EEGLAB performs:
//! `pop_eegfiltnew`'s default FIR (`tools/golden/dsp_eeglab_fir_golden.py` writes
//! `fixtures/golden/dsp/eeglab_fir.json`) and MNE's spherical-spline interpolation matrix
//! (`tools/golden/dsp_spline_golden.py` writes `fixtures/golden/dsp/spline_mne.json`), and
//! `clean_rawdata`'s line-noise split (`tools/golden/dsp_line_noise_split_golden.py` writes
//! `fixtures/golden/dsp/line_noise_split.json`).
//! Every assertion names its case.

use eeglens_dsp::{fir_magnitude, EeglabFirDesign, SplineInterpolator};
use serde_json::Value;

/// Taps: the same sums of sines and cosines in a different order (worst seen: ~1e-16 absolute
/// on taps of ~1e-2).
const TAP_TOL: f64 = 1e-12;
/// Filtered signals relative to their peak: FFT overlap-add against SciPy's direct `lfilter`
/// over 6601 taps.
const FILTER_TOL: f64 = 1e-10;
/// Frequency-response magnitudes (a cosine sum against SciPy's `freqz`).
const RESPONSE_TOL: f64 = 1e-9;
/// Largest pass-band deviation |H - 1| between the pass-band edges, and largest stop-band gain
/// beyond a transition band from each cut-off, in all cases of the golden file: EEGLAB's
/// Hamming (a = 25/46) with its 3.3 / df order reaches 0.0039 (-0.034 dB) at a pass-band edge
/// and 0.0025 (-52 dB) at a stop-band edge.
const PASSBAND_RIPPLE: f64 = 0.004;
const STOPBAND_GAIN: f64 = 0.0026;
/// Gain at a -6 dB cut-off.
const CUTOFF_GAIN_TOL: f64 = 0.004;

fn load(name: &str) -> Value {
    let path = format!("{}/../../fixtures/golden/dsp/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {path}: {e}"))
}

fn vec_f64(v: &Value) -> Vec<f64> {
    v.as_array().expect("JSON array").iter().map(|x| x.as_f64().expect("number")).collect()
}

fn name(case: &Value) -> String {
    case["case"].as_str().expect("case name").to_string()
}

#[test]
fn eeglab_fir_design_taps_and_output_match_the_reference() {
    let golden = load("eeglab_fir.json");
    for case in golden["cases"].as_array().expect("cases") {
        let c = name(case);
        let fs = case["fs"].as_f64().expect("fs");
        let design = EeglabFirDesign::new(fs, case["l_freq"].as_f64(), case["h_freq"].as_f64())
            .unwrap_or_else(|e| panic!("{c}: {e}"));
        assert_eq!(design.order as u64, case["order"].as_u64().expect("order"), "{c}: order");
        assert!(
            (design.transition_bandwidth - case["transition_bandwidth"].as_f64().expect("df")).abs() < 1e-12,
            "{c}: transition band {}",
            design.transition_bandwidth
        );
        let cutoffs = vec_f64(&case["cutoffs"]);
        assert_eq!(design.cutoffs.len(), cutoffs.len(), "{c}: cut-offs");
        for (g, w) in design.cutoffs.iter().zip(&cutoffs) {
            assert!((g - w).abs() < 1e-12, "{c}: cut-off {g}, reference {w}");
        }

        let taps = design.taps();
        let stride = case["tap_stride"].as_u64().expect("stride") as usize;
        let strided: Vec<f64> = taps.iter().step_by(stride).copied().collect();
        let want = vec_f64(&case["taps_strided"]);
        assert_eq!(strided.len(), want.len(), "{c}: taps");
        for (i, (g, w)) in strided.iter().zip(&want).enumerate() {
            assert!((g - w).abs() <= TAP_TOL, "{c}: tap {} = {g}, reference {w}", i * stride);
        }
        let sum: f64 = taps.iter().sum();
        let sum_sq: f64 = taps.iter().map(|t| t * t).sum();
        assert!((sum - case["taps_sum"].as_f64().expect("sum")).abs() < TAP_TOL, "{c}: sum of taps {sum}");
        let want_sq = case["taps_sum_squares"].as_f64().expect("sum of squares");
        assert!(
            (sum_sq - want_sq).abs() < TAP_TOL * want_sq.max(1.0),
            "{c}: energy {sum_sq}, reference {want_sq}"
        );

        let x = vec_f64(&case["x"]);
        let y = design.filter().filter_zero_phase(&x).unwrap_or_else(|e| panic!("{c}: {e}"));
        let want = vec_f64(&case["y"]);
        let scale = want.iter().fold(1.0f64, |m, v| m.max(v.abs()));
        assert_eq!(y.len(), want.len(), "{c}: output length");
        for (i, (g, w)) in y.iter().zip(&want).enumerate() {
            assert!((g - w).abs() <= FILTER_TOL * scale, "{c}: y[{i}] = {g}, reference {w}");
        }
    }
}

#[test]
fn eeglab_fir_frequency_response_meets_the_hamming_specification() {
    let golden = load("eeglab_fir.json");
    for case in golden["cases"].as_array().expect("cases") {
        let c = name(case);
        let fs = case["fs"].as_f64().expect("fs");
        let (l, h) = (case["l_freq"].as_f64(), case["h_freq"].as_f64());
        let design = EeglabFirDesign::new(fs, l, h).expect("valid");
        let taps = design.taps();
        let df = design.transition_bandwidth;
        for (f, want) in vec_f64(&case["response_freqs"]).iter().zip(vec_f64(&case["response_magnitude"])) {
            let got = fir_magnitude(&taps, fs, *f).expect("odd taps");
            assert!((got - want).abs() <= RESPONSE_TOL, "{c}: |H({f} Hz)| = {got}, SciPy freqz says {want}");
        }
        // Independent of the reference: the specification on a 0.01 Hz grid.
        let lo_pass = l.unwrap_or(0.0);
        let hi_pass = h.unwrap_or(fs / 2.0);
        let lo_stop = l.map(|l| l - df);
        let hi_stop = h.map(|h| h + df);
        let mut f = 0.0;
        while f <= fs / 2.0 {
            let g = fir_magnitude(&taps, fs, f).expect("odd taps");
            if f >= lo_pass && f <= hi_pass {
                assert!((g - 1.0).abs() <= PASSBAND_RIPPLE, "{c}: pass band |H({f:.2} Hz)| = {g}");
            }
            if lo_stop.is_some_and(|s| f <= s) || hi_stop.is_some_and(|s| f >= s) {
                assert!(g <= STOPBAND_GAIN, "{c}: stop band |H({f:.2} Hz)| = {g}");
            }
            f += 0.01;
        }
        for cut in &design.cutoffs {
            let g = fir_magnitude(&taps, fs, *cut).expect("odd taps");
            assert!((g - 0.5).abs() <= CUTOFF_GAIN_TOL, "{c}: |H| at the -6 dB cut-off {cut} Hz = {g}");
        }
    }
}

/// Interpolation weights against MNE's `pinv` of the same bordered system (Gauss-Jordan here):
/// the system's conditioning amplifies rounding (worst seen: 4.5e-10, without regularisation).
const SPLINE_TOL: f64 = 1e-8;

#[test]
fn spline_interpolation_matrix_matches_mne() {
    use eeglens_dsp::SplineConfig;
    let golden = load("spline_mne.json");
    let points = |v: &Value| -> Vec<[f64; 3]> {
        v.as_array()
            .expect("positions")
            .iter()
            .map(|p| {
                let p = vec_f64(p);
                [p[0], p[1], p[2]]
            })
            .collect()
    };
    for case in golden["cases"].as_array().expect("cases") {
        let c = name(case);
        let config = SplineConfig {
            stiffness: case["stiffness"].as_u64().expect("m") as u32,
            n_terms: case["n_terms"].as_u64().expect("terms") as usize,
            regularization: case["regularization"].as_f64().expect("alpha"),
        };
        let known = points(&case["known"]);
        let wanted = points(&case["wanted"]);
        let spline = SplineInterpolator::with_config(&known, config).unwrap_or_else(|e| panic!("{c}: {e}"));
        let m = spline.matrix(&wanted).unwrap_or_else(|e| panic!("{c}: {e}"));
        let want: Vec<Vec<f64>> = case["matrix"].as_array().expect("matrix").iter().map(vec_f64).collect();
        assert_eq!(m.dim(), (want.len(), want[0].len()), "{c}: shape");
        for (i, row) in want.iter().enumerate() {
            for (j, w) in row.iter().enumerate() {
                assert!(
                    (m[[i, j]] - w).abs() <= SPLINE_TOL,
                    "{c}: M[{i}][{j}] = {}, MNE says {w}",
                    m[[i, j]]
                );
            }
        }
    }
}

#[test]
fn line_noise_split_matches_clean_rawdata_design_fir() {
    let golden = load("line_noise_split.json");
    for case in golden["cases"].as_array().expect("cases") {
        let fs = case["fs"].as_f64().expect("fs");
        let want = vec_f64(&case["taps"]);
        let got = eeglens_dsp::clean::line_noise_split_taps(fs).expect("design");
        assert_eq!(got.len(), want.len(), "{}", name(case));
        for (k, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!((g - w).abs() < TAP_TOL, "{}: tap {k}: {g} vs {w}", name(case));
        }
    }
}

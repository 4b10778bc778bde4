//! Golden values from SciPy and MNE (`tools/golden/dsp_golden.py` writes
//! `fixtures/golden/dsp/*.json`). Every assertion names its case.

use eeglens_dsp::{
    butter, notch, resample_poly, welch, FilterKind, FirFilter, FirSpec, Resampler, Sos, WelchConfig,
};
use serde_json::Value;

/// Filter coefficients: same formulas, different rounding order (worst seen: 6e-12, the
/// `sosfilt_zi` of the 0.25–25 Hz band-pass, whose 1 + a1 + a2 nearly cancels).
const COEF_REL_TOL: f64 = 1e-10;
/// Filtered signals, relative to the output's peak: rounding amplified by poles close to the
/// unit circle (0.25 Hz at 500 Hz) over a few hundred samples (worst seen: 4e-12).
const FILTER_TOL: f64 = 1e-10;
/// Resampled and FIR-filtered signals relative to their peak (FFT vs direct sums).
const CONV_TOL: f64 = 1e-10;
/// Welch densities, relative (FFT rounding).
const PSD_REL_TOL: f64 = 1e-9;

fn load(name: &str) -> Value {
    let path = format!("{}/../../fixtures/golden/dsp/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {path}: {e}"))
}

fn vec_f64(v: &Value) -> Vec<f64> {
    v.as_array().expect("JSON array").iter().map(|x| x.as_f64().expect("number")).collect()
}

fn num(v: &Value) -> f64 {
    v.as_f64().expect("number")
}

fn name(case: &Value) -> String {
    case["case"].as_str().expect("case name").to_string()
}

/// Asserts `got` matches `want` within `tol * max(1, max|want|)` element-wise.
fn assert_close(what: &str, case: &str, got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{case}: {what} length");
    let scale = want.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * scale,
            "{case}: {what}[{i}] = {g}, SciPy/MNE says {w} (tol {tol} x {scale})"
        );
    }
}

/// Asserts element-wise relative agreement (with a tiny absolute floor for exact zeros).
fn assert_rel(what: &str, case: &str, got: &[f64], want: &[f64], rel: f64) {
    assert_eq!(got.len(), want.len(), "{case}: {what} length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= rel * w.abs() + 1e-300, "{case}: {what}[{i}] = {g}, SciPy says {w}");
    }
}

fn kind(case: &Value) -> FilterKind {
    let e = vec_f64(&case["edges"]);
    match case["btype"].as_str().expect("btype") {
        "lowpass" => FilterKind::LowPass(e[0]),
        "highpass" => FilterKind::HighPass(e[0]),
        "bandpass" => FilterKind::BandPass(e[0], e[1]),
        "bandstop" => FilterKind::BandStop(e[0], e[1]),
        other => panic!("unknown btype {other}"),
    }
}

#[test]
fn butter_sos_coefficients_match_scipy() {
    let g = load("butter.json");
    for case in g["cases"].as_array().expect("cases") {
        let id = name(case);
        let order = case["order"].as_u64().expect("order") as usize;
        let sos = butter(order, kind(case), num(&case["fs"])).expect("valid design");
        let want: Vec<Vec<f64>> = case["sos"].as_array().expect("sos").iter().map(vec_f64).collect();
        assert_eq!(sos.sections().len(), want.len(), "{id}: section count");
        for (s, (got, w)) in sos.sections().iter().zip(&want).enumerate() {
            // Coefficients are compared relative to the section's largest one.
            let scale = w.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            for k in 0..6 {
                assert!(
                    (got[k] - w[k]).abs() <= COEF_REL_TOL * scale,
                    "{id}: section {s} coefficient {k} = {}, SciPy says {}",
                    got[k],
                    w[k]
                );
            }
        }
    }
}

#[test]
fn sosfilt_zi_sosfilt_and_sosfiltfilt_match_scipy() {
    let g = load("butter.json");
    let x = vec_f64(&g["x"]);
    for case in g["cases"].as_array().expect("cases") {
        let id = name(case);
        // Replay on SciPy's own coefficients so this test isolates the filtering.
        let rows: Vec<[f64; 6]> = case["sos"]
            .as_array()
            .expect("sos")
            .iter()
            .map(|r| vec_f64(r).try_into().expect("six coefficients"))
            .collect();
        let sos = Sos::new(rows).expect("valid sections");
        let zi: Vec<f64> = sos.zi().iter().flatten().copied().collect();
        let want_zi: Vec<f64> = case["zi"].as_array().expect("zi").iter().flat_map(vec_f64).collect();
        assert_close("sosfilt_zi", &id, &zi, &want_zi, COEF_REL_TOL);
        assert_close(
            "sosfilt",
            &id,
            &sos.filter(&x).expect("finite"),
            &vec_f64(&case["sosfilt"]),
            FILTER_TOL,
        );
        assert_close(
            "sosfiltfilt",
            &id,
            &sos.filtfilt(&x).expect("long enough"),
            &vec_f64(&case["sosfiltfilt"]),
            FILTER_TOL,
        );
        // The multi-channel path (SIMD lanes where the CPU has them), 11 copies of the signal
        // so every lane of a block and a partial block are used.
        let many = sos.filtfilt_channels(&vec![x.clone(); 11]).expect("long enough");
        for (c, y) in many.iter().enumerate() {
            let what = format!("sosfiltfilt_channels, channel {c}");
            assert_close(&what, &id, y, &vec_f64(&case["sosfiltfilt"]), FILTER_TOL);
        }
    }
}

#[test]
fn resample_poly_matches_scipy() {
    let g = load("resample_poly.json");
    for case in g["cases"].as_array().expect("cases") {
        let id = name(case);
        let up = case["up"].as_u64().expect("up") as usize;
        let down = case["down"].as_u64().expect("down") as usize;
        let y = resample_poly(&vec_f64(&case["x"]), up, down).expect("valid");
        assert_close("resample_poly", &id, &y, &vec_f64(&case["y"]), CONV_TOL);
        let many = Resampler::new(up, down).expect("valid").process_channels(&vec![vec_f64(&case["x"]); 11]);
        for (c, y) in many.expect("valid").iter().enumerate() {
            let what = format!("process_channels, channel {c}");
            assert_close(&what, &id, y, &vec_f64(&case["y"]), CONV_TOL);
        }
    }
}

#[test]
fn welch_matches_scipy() {
    let g = load("welch.json");
    for case in g["cases"].as_array().expect("cases") {
        let id = name(case);
        let c = &case["config"];
        let cfg = WelchConfig {
            nperseg: c["nperseg"].as_u64().expect("nperseg") as usize,
            noverlap: c["noverlap"].as_u64().map(|v| v as usize),
            nfft: c["nfft"].as_u64().map(|v| v as usize),
        };
        let psd = welch(&vec_f64(&case["x"]), num(&case["fs"]), cfg).expect("valid");
        assert_rel("freqs", &id, &psd.freqs, &vec_f64(&case["freqs"]), PSD_REL_TOL);
        assert_rel("psd", &id, &psd.density, &vec_f64(&case["psd"]), PSD_REL_TOL);
    }
}

#[test]
fn detrend_and_notch_match_scipy() {
    let g = load("misc.json");
    let x = vec_f64(&g["x"]);
    let mut lin = x.clone();
    eeglens_dsp::detrend_linear(&mut lin);
    assert_close("detrend linear", "misc", &lin, &vec_f64(&g["detrend_linear"]), CONV_TOL);
    let mut con = x.clone();
    eeglens_dsp::demean(&mut con);
    assert_close("detrend constant", "misc", &con, &vec_f64(&g["detrend_constant"]), CONV_TOL);
    for case in g["notch"].as_array().expect("notch cases") {
        let id = name(case);
        let sos = notch(num(&case["f0"]), num(&case["q"]), num(&case["fs"])).expect("valid notch");
        let s = sos.sections()[0];
        assert_close("iirnotch b", &id, &s[..3], &vec_f64(&case["b"]), COEF_REL_TOL);
        assert_close("iirnotch a", &id, &s[3..], &vec_f64(&case["a"]), COEF_REL_TOL);
        assert_close(
            "notch sosfiltfilt",
            &id,
            &sos.filtfilt(&x).expect("long enough"),
            &vec_f64(&case["sosfiltfilt"]),
            FILTER_TOL,
        );
    }
}

#[test]
fn fir_design_and_zero_phase_filtering_match_mne() {
    let g = load("mne_fir.json");
    for case in g["cases"].as_array().expect("cases") {
        let id = name(case);
        let spec = FirSpec {
            l_freq: case["l_freq"].as_f64(),
            h_freq: case["h_freq"].as_f64(),
            l_trans_bandwidth: None,
            h_trans_bandwidth: None,
        };
        let fir = FirFilter::design(num(&case["fs"]), spec).expect("valid design");
        assert_close("taps", &id, fir.taps(), &vec_f64(&case["taps"]), COEF_REL_TOL);
        let y = fir.filter_zero_phase(&vec_f64(&case["x"])).expect("finite");
        assert_close("filter_data", &id, &y, &vec_f64(&case["y"]), CONV_TOL);
    }
}

"""Golden values for eeglens-dsp, computed with SciPy and MNE.

Writes fixtures/golden/dsp/*.json; each file holds a list of named cases that the Rust tests
in crates/eeglens-dsp/tests/golden.rs replay. Run from the repository root:

    pip install scipy numpy mne
    python3 tools/golden/dsp_golden.py

Inputs are generated here from fixed seeds and stored next to the outputs, so the tests need
neither Python nor the same random generator.
"""
import json
import os

import numpy as np
import scipy
import scipy.signal as sig

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "golden", "dsp")


def arr(x):
    return [float(v) for v in np.ravel(x)]


def signal(seed, n):
    """A reproducible test signal: white noise plus a slow drift and a 10 Hz component."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return rng.standard_normal(n) * 5.0 + 0.02 * t + 3.0 * np.sin(2 * np.pi * t / 37.0)


def dump(name, payload):
    path = os.path.join(OUT, name)
    with open(path, "w") as f:
        json.dump(payload, f, indent=None, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def butter_cases():
    designs = [
        ("lowpass_o4_40hz_fs500", 4, 40.0, "lowpass", 500.0),
        ("lowpass_o5_30hz_fs128", 5, 30.0, "lowpass", 128.0),
        ("highpass_o2_0p25hz_fs500", 2, 0.25, "highpass", 500.0),
        ("highpass_o3_1hz_fs256", 3, 1.0, "highpass", 256.0),
        ("bandpass_o4_0p25_25hz_fs500", 4, [0.25, 25.0], "bandpass", 500.0),
        ("bandpass_o3_8_13hz_fs256", 3, [8.0, 13.0], "bandpass", 256.0),
        ("bandpass_o5_1_40hz_fs1000", 5, [1.0, 40.0], "bandpass", 1000.0),
        ("bandstop_o2_48_52hz_fs500", 2, [48.0, 52.0], "bandstop", 500.0),
        ("bandstop_o3_55_65hz_fs250", 3, [55.0, 65.0], "bandstop", 250.0),
    ]
    x = signal(1, 600)
    cases = []
    for name, order, wn, btype, fs in designs:
        sos = sig.butter(order, wn, btype, fs=fs, output="sos")
        edges = wn if isinstance(wn, list) else [wn]
        cases.append(
            {
                "case": name,
                "order": order,
                "btype": btype,
                "edges": edges,
                "fs": fs,
                "sos": [arr(row) for row in sos],
                "zi": [arr(row) for row in sig.sosfilt_zi(sos)],
                "sosfilt": arr(sig.sosfilt(sos, x)),
                "sosfiltfilt": arr(sig.sosfiltfilt(sos, x)),
            }
        )
    return {"x": arr(x), "cases": cases}


def resample_cases():
    cases = []
    for name, up, down, n, seed in [
        ("fs500_to_128", 32, 125, 1500, 2),
        ("fs256_to_128", 1, 2, 777, 3),
        ("fs1000_to_128", 16, 125, 2000, 4),
        ("up3_down2", 3, 2, 301, 5),
        ("fs128_to_500", 125, 32, 97, 6),
    ]:
        x = signal(seed, n)
        y = sig.resample_poly(x, up, down)
        cases.append({"case": name, "up": up, "down": down, "x": arr(x), "y": arr(y)})
    return {"cases": cases}


def welch_cases():
    cases = []
    for name, n, fs, kw in [
        ("defaults_fs128_n2000", 2000, 128.0, {}),
        ("nperseg64_noverlap16_nfft101", 700, 250.0, {"nperseg": 64, "noverlap": 16, "nfft": 101}),
        ("short_signal_shrinks_nperseg", 200, 128.0, {}),
        ("epoch_24x256_channel", 256, 128.0, {"nperseg": 128}),
    ]:
        x = signal(10 + n, n)
        f, p = sig.welch(x, fs=fs, **kw)
        cfg = {"nperseg": kw.get("nperseg", 256), "noverlap": kw.get("noverlap"), "nfft": kw.get("nfft")}
        cases.append({"case": name, "fs": fs, "config": cfg, "x": arr(x), "freqs": arr(f), "psd": arr(p)})
    return {"cases": cases}


def misc_cases():
    x = signal(20, 333)
    notch = []
    for name, f0, q, fs in [("notch_50hz_q30_fs500", 50.0, 30.0, 500.0), ("notch_60hz_q25_fs256", 60.0, 25.0, 256.0)]:
        b, a = sig.iirnotch(f0, q, fs=fs)
        sos = sig.tf2sos(b, a)
        notch.append(
            {"case": name, "f0": f0, "q": q, "fs": fs, "b": arr(b), "a": arr(a), "sosfiltfilt": arr(sig.sosfiltfilt(sos, x))}
        )
    return {
        "x": arr(x),
        "detrend_linear": arr(sig.detrend(x, type="linear")),
        "detrend_constant": arr(sig.detrend(x, type="constant")),
        "notch": notch,
    }


def mne_cases():
    import mne

    mne.set_log_level("ERROR")
    cases = []
    for name, fs, l_freq, h_freq, n in [
        ("bandpass_1_40hz_fs250", 250.0, 1.0, 40.0, 1500),
        ("bandpass_8_13hz_fs128", 128.0, 8.0, 13.0, 600),
        ("highpass_0p5hz_fs128", 128.0, 0.5, None, 1200),
        ("lowpass_30hz_fs500", 500.0, None, 30.0, 900),
        ("bandpass_4_8hz_short_fs128", 128.0, 4.0, 8.0, 150),
    ]:
        x = signal(30 + n, n)
        h = mne.filter.create_filter(
            None, fs, l_freq, h_freq, method="fir", phase="zero", fir_window="hamming", fir_design="firwin"
        )
        y = mne.filter.filter_data(
            x[np.newaxis].copy(), fs, l_freq, h_freq, method="fir", phase="zero", fir_window="hamming",
            fir_design="firwin", pad="reflect_limited",
        )[0]
        cases.append(
            {"case": name, "fs": fs, "l_freq": l_freq, "h_freq": h_freq, "taps": arr(h), "x": arr(x), "y": arr(y)}
        )
    return {"mne_version": mne.__version__, "cases": cases}


def main():
    os.makedirs(OUT, exist_ok=True)
    meta = {"scipy": scipy.__version__, "numpy": np.__version__}
    for fname, fn in [
        ("butter.json", butter_cases),
        ("resample_poly.json", resample_cases),
        ("welch.json", welch_cases),
        ("misc.json", misc_cases),
        ("mne_fir.json", mne_cases),
    ]:
        payload = fn()
        payload["generated_with"] = meta
        dump(fname, payload)


if __name__ == "__main__":
    main()

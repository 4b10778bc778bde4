"""Golden values for EEGLAB's default FIR band-pass (`pop_eegfiltnew`), re-implemented with NumPy/SciPy.

Writes fixtures/golden/dsp/eeglab_fir.json, replayed by crates/eeglens-dsp/tests/golden_paper.rs.
Run from the repository root:

    pip install scipy numpy
    python3 tools/golden/dsp_eeglab_fir_golden.py

What is reproduced (firfilt plugin, files named as in the plugin):
- pop_eegfiltnew.m, default filter order: TRANSWIDTHRATIO = 0.25; the largest transition band
  `maxDf` is the high-pass edge (distance to DC) and, for a low-pass edge, the distance to
  Nyquist; transition width `df = min(max(ratio * edge, 2 Hz), maxDf)` where `edge` is the
  lowest pass-band edge (the high-pass edge of a band-pass); order `3.3 / (df / fs)` rounded up
  to an even number; -6 dB cut-offs half a transition band outside the pass-band edges.
- windows.m: Hamming window `a - (1 - a) cos(2 pi k / (m - 1))` with `a = 25/46` (not 0.54).
- firws.m: `fkernel` is a windowed sinc normalised to unit DC gain; a high-pass is its spectral
  inversion (`fspecinv`: negate, add 1 at the centre); a band-pass is
  `fspecinv(lowpass(f1) + fspecinv(lowpass(f2)))`.
- firfiltdcpadded.m / firfilt.m (zero phase): pad each end with (taps - 1) / 2 copies of the end
  sample, run the causal filter (`filter(b, 1, .)`), drop the first `taps - 1` outputs.

The filters' frequency responses at stated frequencies are stored too, so the Rust test checks
the design's pass-band ripple and stop-band attenuation against an independent evaluation.
"""
import json
import math
import os

import numpy as np
import scipy
import scipy.signal as sig

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "golden", "dsp")

TRANSWIDTHRATIO = 0.25


def arr(x):
    return [float(v) for v in np.ravel(x)]


def signal(seed, n, fs):
    """A reproducible test signal: noise, a 0.1 Hz drift, 6 Hz and 40 Hz rhythms and an offset (µV)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / fs
    x = (
        rng.standard_normal(n) * 5.0
        + 30.0 * np.sin(2 * np.pi * 0.1 * t)
        + 10.0 * np.sin(2 * np.pi * 6.0 * t)
        + 4.0 * np.sin(2 * np.pi * 40.0 * t)
        + 80.0
    )
    # Rounded to 0.001 µV so the stored input is short and exact; the output is computed from it.
    return np.round(x, 3)


def eegfiltnew_design(fs, locutoff, hicutoff):
    """pop_eegfiltnew's default design: (df, order, cutoffs, taps). No band-stop."""
    nyq = fs / 2.0
    revfilt = 0
    if hicutoff is None:  # high-pass = inverted low-pass
        hicutoff, locutoff, revfilt = locutoff, None, 1
    edges = sorted([e for e in (locutoff, hicutoff) if e is not None])
    max_tbw = list(edges)
    if revfilt == 0:
        max_tbw[-1] = nyq - edges[-1]
    max_df = min(max_tbw)
    if revfilt == 1:
        df = min(max(max_df * TRANSWIDTHRATIO, 2.0), max_df)
    else:
        df = min(max(edges[0] * TRANSWIDTHRATIO, 2.0), max_df)
    order = 3.3 / (df / fs)
    order = int(math.ceil(order / 2) * 2)
    if revfilt == 0 and len(edges) == 2:
        cutoffs = [edges[0] - df / 2, edges[1] + df / 2]
    elif revfilt == 0:
        cutoffs = [edges[0] + df / 2]
    else:
        cutoffs = [edges[0] - df / 2]
    w = hamming_eeglab(order + 1)
    f = [c / nyq for c in cutoffs]
    if revfilt == 1:
        b = firws(order, f, "high", w)
    else:
        b = firws(order, f, "", w)
    return df, order, cutoffs, b


def hamming_eeglab(m):
    a = 25.0 / 46.0
    k = np.arange(m) / (m - 1)
    return a - (1 - a) * np.cos(2 * np.pi * k)


def fkernel(m, f, w):
    k = np.arange(-m // 2, m // 2 + 1, dtype=float)
    b = np.empty(m + 1)
    b[k == 0] = 2 * np.pi * f
    nz = k != 0
    b[nz] = np.sin(2 * np.pi * f * k[nz]) / k[nz]
    b = b * w
    return b / b.sum()


def fspecinv(b):
    b = -b
    b[(len(b) - 1) // 2] += 1.0
    return b


def firws(m, f, t, w):
    f = [v / 2 for v in f]
    b = fkernel(m, f[0], w)
    if len(f) == 1 and t == "high":
        b = fspecinv(b)
    if len(f) == 2:
        b = b + fspecinv(fkernel(m, f[1], w))
        if t != "stop":
            b = fspecinv(b)
    return b


def firfilt_zero_phase(b, x):
    g = (len(b) - 1) // 2
    padded = np.concatenate([np.full(g, x[0]), x, np.full(g, x[-1])])
    y = sig.lfilter(b, [1.0], padded)
    return y[2 * g :]


def response(b, fs, freqs):
    _, h = sig.freqz(b, [1.0], worN=np.asarray(freqs, dtype=float), fs=fs)
    return np.abs(h)


def cases():
    designs = [
        # (name, fs, l_freq, h_freq, signal length, tap stride stored, response frequencies)
        ("paper_bandpass_0p25_25hz_fs500", 500.0, 0.25, 25.0, 2000, 25,
         [0.0, 0.125, 0.25, 0.5, 1.0, 6.0, 10.0, 20.0, 25.0, 25.125, 25.25, 26.0, 30.0, 50.0, 100.0, 249.0]),
        ("bandpass_0p25_25hz_fs128", 128.0, 0.25, 25.0, 800, 5,
         [0.0, 0.25, 1.0, 10.0, 25.0, 25.125, 25.25, 30.0, 60.0]),
        ("bandpass_8_30hz_fs250", 250.0, 8.0, 30.0, 600, 1,
         [0.0, 3.0, 6.0, 7.0, 8.0, 10.0, 20.0, 30.0, 31.0, 32.0, 40.0, 100.0]),
        ("highpass_1hz_fs250", 250.0, 1.0, None, 1000, 3, [0.0, 0.25, 0.5, 1.0, 2.0, 10.0, 100.0]),
        ("lowpass_40hz_fs250", 250.0, None, 40.0, 400, 1, [0.0, 10.0, 30.0, 40.0, 45.0, 50.0, 80.0, 120.0]),
        ("lowpass_30hz_fs128_short_signal", 128.0, None, 30.0, 40, 1, [0.0, 10.0, 30.0, 33.75, 37.5, 50.0]),
    ]
    out = []
    for i, (name, fs, lo, hi, n, stride, freqs) in enumerate(designs):
        df, order, cutoffs, b = eegfiltnew_design(fs, lo, hi)
        x = signal(100 + i, n, fs)
        y = firfilt_zero_phase(b, x)
        out.append(
            {
                "case": name,
                "fs": fs,
                "l_freq": lo,
                "h_freq": hi,
                "transition_bandwidth": df,
                "order": order,
                "cutoffs": cutoffs,
                "tap_stride": stride,
                "taps_strided": arr(b[::stride]),
                "taps_sum": float(b.sum()),
                "taps_sum_squares": float(np.sum(b * b)),
                "x": arr(x),
                "y": arr(y),
                "response_freqs": freqs,
                "response_magnitude": arr(response(b, fs, freqs)),
            }
        )
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    payload = {
        "cases": cases(),
        "generated_with": {"scipy": scipy.__version__, "numpy": np.__version__},
    }
    path = os.path.join(OUT, "eeglab_fir.json")
    with open(path, "w") as f:
        json.dump(payload, f, indent=None, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")
    for c in payload["cases"]:
        print(c["case"], "df", c["transition_bandwidth"], "order", c["order"], "cutoffs", c["cutoffs"])


if __name__ == "__main__":
    main()

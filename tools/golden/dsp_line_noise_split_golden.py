"""Golden taps for the line-noise criterion's split filter, clean_rawdata's
`design_fir(100, [2*[0 45 50]/srate 1], [1 1 0 0])` (clean_channels.m), re-implemented with NumPy/SciPy.

Writes fixtures/golden/dsp/line_noise_split.json, replayed by crates/eeglens-dsp/tests/golden_paper.rs.
Run from the repository root:

    pip install scipy numpy
    python3 tools/golden/dsp_line_noise_split_golden.py

What is reproduced (clean_rawdata's design_fir.m and window_func.m):
- nfft = max(512, 2^ceil(log2(N))); the gain on bins 0..nfft interpolated by MATLAB's `pchip`
  through the points round(F * nfft) (SciPy's PchipInterpolator: the same Fritsch-Carlson slopes);
- the phase exp(-i pi (N/2) k / nfft); B = real(ifft([F conj(F(end-1:-1:2))]));
- the first N + 1 samples times a symmetric Hamming window 0.54 - 0.46 cos(2 pi k / N).
"""
import json
import os

import numpy as np
from scipy.interpolate import PchipInterpolator

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "golden", "dsp")


def design_fir(n, f, a):
    nfft = max(512, 2 ** int(np.ceil(np.log2(n))))
    k = np.arange(nfft + 1)
    gain = PchipInterpolator(np.round(np.asarray(f) * nfft), a)(k)
    spec = gain * np.exp(-1j * 0.5 * n * np.pi * k / nfft)
    full = np.concatenate([spec, np.conj(spec[-2:0:-1])])
    return np.real(np.fft.ifft(full))[: n + 1] * np.hamming(n + 1)


def main():
    cases = []
    for fs in [128.0, 250.0, 500.0]:
        taps = design_fir(100, [0, 2 * 45 / fs, 2 * 50 / fs, 1], [1, 1, 0, 0])
        cases.append({"case": f"design_fir(100, [0 45 50 Nyquist], [1 1 0 0]) at {fs:g} Hz", "fs": fs,
                      "taps": [float(t) for t in taps]})
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "line_noise_split.json"), "w") as fh:
        json.dump({"generator": "tools/golden/dsp_line_noise_split_golden.py",
                   "numpy": np.__version__, "cases": cases}, fh, indent=1)
        fh.write("\n")


if __name__ == "__main__":
    main()

"""Golden values for spherical-spline interpolation (Perrin et al. 1989), computed with MNE.

Writes fixtures/golden/dsp/spline_mne.json, replayed by crates/eeglens-dsp/tests/golden_paper.rs.
Run from the repository root:

    pip install mne numpy scipy
    python3 tools/golden/dsp_spline_golden.py

Each case calls MNE's `mne.channels.interpolation._make_interpolation_matrix(pos_from, pos_to,
alpha)` (what `interpolate_bads` uses once the sphere's origin is subtracted) on fixed
positions: the matrix that maps the known electrodes' potentials to the wanted ones'. MNE sums
50 Legendre terms with stiffness m = 4; one case patches `_calc_g` to 7 terms (EEGLAB's count)
to check the number of terms is honoured. Positions need not be unit vectors: MNE normalises.
"""
import functools
import json
import os

import mne
import numpy as np
from mne.channels import interpolation

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "golden", "dsp")


def direction(theta_deg, phi_deg, radius=1.0):
    """A point at polar angle theta from +z and azimuth phi from +x (degrees)."""
    t, p = np.radians(theta_deg), np.radians(phi_deg)
    return [radius * np.sin(t) * np.cos(p), radius * np.sin(t) * np.sin(p), radius * np.cos(t)]


def cap(n_rings):
    """Electrodes on rings of a cap: a vertex, then rings every 25 degrees down to 100 degrees."""
    pos = [direction(0.0, 0.0)]
    for ring, theta in enumerate([25.0, 50.0, 75.0, 100.0][:n_rings]):
        n = 6 + 4 * ring
        pos += [direction(theta, 360.0 * k / n + 15.0 * ring) for k in range(n)]
    return np.array(pos)


def cases():
    known_small = cap(2)  # 1 + 6 + 10 = 17 electrodes
    known_large = cap(4)  # 1 + 6 + 10 + 14 + 18 = 49 electrodes
    wanted = np.array([direction(12.0, 40.0), direction(60.0, 200.0), direction(95.0, 300.0), direction(0.0, 0.0)])
    scaled = known_small * np.linspace(0.08, 0.12, len(known_small))[:, None]  # head-sized, not unit
    out = []
    for name, pos_from, pos_to, alpha, n_terms in [
        ("cap17_to_4_mne_defaults", known_small, wanted, 1e-5, 50),
        ("cap49_to_4_mne_defaults", known_large, wanted, 1e-5, 50),
        ("cap17_scaled_radii_to_4", scaled, wanted * 0.095, 1e-5, 50),
        ("cap49_to_4_seven_terms", known_large, wanted, 1e-5, 7),
        ("cap17_to_4_no_regularisation", known_small, wanted, None, 50),
    ]:
        original = interpolation._calc_g
        interpolation._calc_g = functools.partial(original, n_legendre_terms=n_terms)
        try:
            m = interpolation._make_interpolation_matrix(pos_from, pos_to, alpha=alpha)
        finally:
            interpolation._calc_g = original
        out.append(
            {
                "case": name,
                "known": [[float(v) for v in p] for p in pos_from],
                "wanted": [[float(v) for v in p] for p in pos_to],
                "regularization": 0.0 if alpha is None else alpha,
                "stiffness": 4,
                "n_terms": n_terms,
                "matrix": [[float(v) for v in row] for row in m],
            }
        )
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    payload = {"cases": cases(), "generated_with": {"mne": mne.__version__, "numpy": np.__version__}}
    path = os.path.join(OUT, "spline_mne.json")
    with open(path, "w") as f:
        json.dump(payload, f, indent=None, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()

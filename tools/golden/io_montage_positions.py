"""Standard 10-20/10-10 electrode directions for eeglens-io's montage module.

Takes MNE-Python's `standard_1020` template (the 10-10 positions of the standard head, BSD
licence), fits a sphere to the points by least squares, and writes each electrode's unit direction
from the sphere centre (x right, y nose, z vertex) to crates/eeglens-io/src/montage/standard_1020.tsv.

    python3 tools/golden/io_montage_positions.py
"""
import os
import warnings

import mne
import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "crates", "eeglens-io", "src", "montage", "standard_1020.tsv")

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    m = mne.channels.make_standard_montage("standard_1020")
pos = m.get_positions()["ch_pos"]
names = [n for n in m.ch_names]
P = np.array([pos[n] for n in names])
# sphere fit: |p - c|^2 = r^2  <=>  2 p.c + (r^2 - |c|^2) = |p|^2
A = np.c_[2 * P, np.ones(len(P))]
b = (P ** 2).sum(1)
sol, *_ = np.linalg.lstsq(A, b, rcond=None)
c = sol[:3]
U = P - c
U /= np.linalg.norm(U, axis=1, keepdims=True)
with open(OUT, "w") as fh:
    fh.write(f"# name\tx\ty\tz  (unit sphere; from mne {mne.__version__} standard_1020, sphere centre "
             f"{c[0]:.5f} {c[1]:.5f} {c[2]:.5f} m)\n")
    for n, u in zip(names, U):
        fh.write(f"{n}\t{u[0]:.6f}\t{u[1]:.6f}\t{u[2]:.6f}\n")
print("wrote", OUT, len(names))

"""Electrode directions for eeglens-io's montage module.

Takes one of MNE-Python's montage templates, fits a sphere to its electrode points by least
squares, and writes each electrode's unit direction from the sphere centre (x right, y nose,
z vertex) to crates/eeglens-io/src/montage/<file>.tsv:

- `standard_1020` -> standard_1020.tsv: the 10-10 positions of the standard head (MNE,
  BSD-3-Clause licence).
- `GSN-HydroCel-129` -> egi_hydrocel_129.tsv: the 129 electrodes of the EGI HydroCel Geodesic
  Sensor Net, E1..E128 and the vertex reference, which MNE calls `Cz` (EGI's and EEGLAB's E129).
  MNE ships it as GSN-HydroCel-129.sfp (BSD-3-Clause), taken from FieldTrip's
  template/electrode folder (FieldTrip: GPL-3.0), which holds EGI's published net positions.
  The fiducials in the file (FidNz, FidT9, FidT10) are not electrodes and are not written.

    python3 tools/golden/io_montage_positions.py                     # both
    python3 tools/golden/io_montage_positions.py GSN-HydroCel-129    # one
"""
import os
import sys
import warnings

import mne
import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DIR = os.path.join(ROOT, "crates", "eeglens-io", "src", "montage")
FILES = {"standard_1020": "standard_1020.tsv", "GSN-HydroCel-129": "egi_hydrocel_129.tsv"}


def write(kind):
    out = os.path.join(DIR, FILES[kind])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = mne.channels.make_standard_montage(kind)
    pos = m.get_positions()["ch_pos"]
    names = list(m.ch_names)
    P = np.array([pos[n] for n in names])
    # sphere fit: |p - c|^2 = r^2  <=>  2 p.c + (r^2 - |c|^2) = |p|^2
    A = np.c_[2 * P, np.ones(len(P))]
    b = (P ** 2).sum(1)
    sol, *_ = np.linalg.lstsq(A, b, rcond=None)
    c = sol[:3]
    U = P - c
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    with open(out, "w") as fh:
        fh.write(f"# name\tx\ty\tz  (unit sphere; from mne {mne.__version__} {kind}, sphere centre "
                 f"{c[0]:.5f} {c[1]:.5f} {c[2]:.5f} m)\n")
        for n, u in zip(names, U):
            fh.write(f"{n}\t{u[0]:.6f}\t{u[1]:.6f}\t{u[2]:.6f}\n")
    print("wrote", out, len(names))


for kind in sys.argv[1:] or list(FILES):
    if kind not in FILES:
        sys.exit(f"unknown montage {kind!r}; one of {', '.join(FILES)}")
    write(kind)

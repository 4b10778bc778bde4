"""Times MNE-Python reading the files the eeglens-io read bench writes
(`cargo bench -p eeglens-io --bench read` first), for BENCHMARKS.md.

    python3 tools/golden/io_bench_mne.py [--repeat 5]

Prints the best-of-N wall time and MB/s (MiB of file per second) of
`mne.io.read_raw_edf/bdf(path, preload=True)` per file.
"""
import os
import sys
import tempfile
import time

import mne

repeat = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 5
d = os.path.join(tempfile.gettempdir(), "eeglens-io-bench")
for name, fn in [("rec24x10min.edf", mne.io.read_raw_edf), ("rec24x10min.bdf", mne.io.read_raw_bdf)]:
    p = os.path.join(d, name)
    size = os.path.getsize(p)
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        raw = fn(p, preload=True, verbose="error")
        best = min(best, time.perf_counter() - t)
    print(f"{name}: mne {mne.__version__} best of {repeat}: {best * 1e3:.1f} ms, "
          f"{size / best / 2**20:.1f} MiB/s, shape {raw.get_data().shape}")

"""Peer timings for the eeglens-dsp bench (crates/eeglens-dsp/benches/dsp.rs): the same steps
on the same sizes with SciPy and MNE, so BENCHMARKS.md can compare them in one run.

    python3 tools/golden/dsp_peers.py

Prints one line per step: the median wall time over a few repeats, MB/s of float32 input, and
the least CPU time of the process over the repeats (closer to an idle machine's figure when
the machine is shared).
"""
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "2")

import numpy as np
import scipy.signal as sig

N_CH, FS_IN, FS_OUT, DUR_S, EPOCH = 24, 500, 128, 600, 256
REPEATS = int(os.environ.get("DSP_PEERS_REPEATS", "5"))


def data(n_ch, n, fs):
    rng = np.random.default_rng(0)
    t = np.arange(n) / fs
    rhythm = 20 * np.sin(2 * np.pi * (6 + 0.1 * np.arange(n_ch))[:, None] * t[None, :])
    return (rhythm + 10 * (rng.random((n_ch, n)) - 0.5) + 0.001 * np.arange(n)).astype(np.float32)


def timeit(fn, repeats):
    """Median wall time and least CPU time (of the process) over `repeats` runs."""
    walls, cpus = [], []
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return float(np.median(walls)), float(np.min(cpus))


def report(name, times, nbytes):
    wall, cpu = times
    print(f"{name:55s} {wall * 1e3:10.2f} ms  {nbytes / wall / 1e6:9.1f} MB/s  (CPU min {cpu * 1e3:8.2f} ms)")


def main():
    x = data(N_CH, FS_IN * DUR_S, FS_IN)
    nbytes = x.nbytes
    sos = sig.butter(4, [0.25, 25.0], "bandpass", fs=FS_IN, output="sos")
    report("scipy sosfiltfilt butter4 0.25-25", timeit(lambda: sig.sosfiltfilt(sos, x, axis=-1), REPEATS), nbytes)
    report("scipy resample_poly 500->128", timeit(lambda: sig.resample_poly(x, 32, 125, axis=-1), REPEATS), nbytes)
    report(
        "scipy sosfiltfilt + resample_poly",
        timeit(lambda: sig.resample_poly(sig.sosfiltfilt(sos, x, axis=-1), 32, 125, axis=-1), REPEATS),
        nbytes,
    )
    try:
        import mne

        mne.set_log_level("ERROR")
        x64 = x.astype(np.float64)
        report(
            "mne filter_data fir 0.25-25 (n_jobs=1) + resample_poly",
            timeit(
                lambda: sig.resample_poly(mne.filter.filter_data(x64, FS_IN, 0.25, 25.0, n_jobs=1), 32, 125, axis=-1),
                REPEATS,
            ),
            nbytes,
        )
    except ImportError:
        print("mne not installed: skipped")
    epoch = data(N_CH, EPOCH, FS_OUT)
    report("scipy welch 24x256 (nperseg 256)", timeit(lambda: sig.welch(epoch, fs=FS_OUT, axis=-1), 200), epoch.nbytes)


if __name__ == "__main__":
    main()

"""Runs `eeglens bench --json` and the PyTorch peer side by side and prints the ratios.

Rounds are interleaved (eeglens, PyTorch, eeglens, PyTorch, ...) so that both see the
same machine; each figure is the median over rounds. PyTorch runs with glibc told to keep
freed memory mapped (its faster setting on this kind of VM); eeglens runs as a user would
run it. Needs torch in the Python that runs this script (see rvgg_torch.py).

    cargo build --release
    python3 benches/peers/compare.py [--threads 2] [--rounds 3] [--eeglens target/release/eeglens] [--peak GFLOPS]
                                     [--no-bf16]

Each round also runs `eeglens bench --json --precision bf16` (unless --no-bf16), whose
inference is shown against PyTorch's fp32 inference in a row of its own. Batched restarts
are compared with PyTorch's own batched loop.

Each throughput is also given as a share of the machine's fp32 FMA peak: `--peak`, or else
benches/peers/fma_peak.c compiled with gcc and run on --threads threads before the rounds.
One R-VGG training sample costs 472 MFLOP, one inference sample 158 MFLOP (its forward pass),
one activation-maximisation step 316 MFLOP (forward plus input gradient).
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
# (measure, label, the performance issue's target as a ratio to PyTorch)
FIELDS = [
    ("train_samples_per_s", "train samples/s, batch 40", 1.8),
    ("infer_samples_per_s", "inference samples/s, batch 256", 2.5),
    ("actmax_steps_per_s", "actmax steps/s, batch 1", 2.5),
    ("actmax_restart_steps_per_s", "actmax restart-steps/s, 16 batched", 2.0),
]
# MFLOP of one unit of each measure (R-VGG on 24 x 256 windows).
MFLOP = {
    "train_samples_per_s": 472.0,
    "infer_samples_per_s": 158.0,
    "actmax_steps_per_s": 316.0,
    "actmax_restart_steps_per_s": 316.0,
}
TUNED = {"MALLOC_MMAP_THRESHOLD_": "1000000000", "MALLOC_TRIM_THRESHOLD_": "1000000000"}


def run_json(cmd, env):
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def fma_peak(threads):
    """GFLOP/s of fma_peak.c on `threads` threads, or None when it cannot be built or run."""
    src = os.path.join(HERE, "fma_peak.c")
    exe = os.path.join(tempfile.gettempdir(), "eeglens-fma-peak")
    try:
        subprocess.run(["gcc", "-O2", "-mavx512f", "-mfma", "-pthread", src, "-o", exe],
                       check=True, capture_output=True)
        out = subprocess.run([exe, str(threads)], check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    m = re.search(r"([0-9.]+) GFLOP/s", out)
    return float(m.group(1)) if m else None


def share(per_s, key, peak):
    """The share of `peak` GFLOP/s that `per_s` units of `key` per second are, as text."""
    if not peak:
        return "–"
    return f"{100.0 * per_s * MFLOP[key] / 1e3 / peak:.0f}%"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--eeglens", default="target/release/eeglens")
    p.add_argument("--peak", type=float, default=None,
                   help="fp32 FMA peak in GFLOP/s on --threads threads (default: run fma_peak.c)")
    p.add_argument("--no-bf16", action="store_true", help="skip eeglens' bf16 inference")
    a = p.parse_args()
    peak = a.peak if a.peak else fma_peak(a.threads)
    ours_cmd = [a.eeglens, "bench", "--json", "--threads", str(a.threads)]
    peer_cmd = [sys.executable, os.path.join(HERE, "rvgg_torch.py"), "--threads", str(a.threads)]
    ours, peer, bf16 = [], [], []
    for r in range(a.rounds):
        ours.append(run_json(ours_cmd, dict(os.environ)))
        peer.append(run_json(peer_cmd, {**os.environ, **TUNED}))
        if not a.no_bf16:
            bf16.append(run_json(ours_cmd + ["--precision", "bf16"], dict(os.environ)))
        print(f"round {r + 1}/{a.rounds} done", file=sys.stderr)
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    print(f"{peer[0]['peer']} vs eeglens, {a.threads} threads, median of {a.rounds} interleaved rounds "
          f"(load average {load} at the end); fp32 FMA peak "
          + (f"{peak:.0f} GFLOP/s" if peak else "unknown (give --peak)"))
    print(f"| {'measure':<38} | {'eeglens':>9} | {'of peak':>7} | {'PyTorch':>9} | {'of peak':>7} "
          f"| {'ratio':>6} | {'target':>6} |")
    print(f"|{'-' * 40}|{'-' * 11}|{'-' * 9}|{'-' * 11}|{'-' * 9}|{'-' * 8}|{'-' * 8}|")
    for key, label, target in FIELDS:
        o = statistics.median(x[key] for x in ours)
        t = statistics.median(x[key] for x in peer)
        if key == "actmax_restart_steps_per_s":
            label += " (vs PyTorch batched)"
        ratio = o / t
        print(f"| {label:<38} | {o:>9.1f} | {share(o, key, peak):>7} | {t:>9.1f} | "
              f"{share(t, key, peak):>7} | {ratio:>5.2f}x | {target:>5.2f}x |")
    if bf16:
        key = "infer_samples_per_s"
        o = statistics.median(x["infer_bf16_samples_per_s"] or 0.0 for x in bf16)
        t = statistics.median(x[key] for x in peer)
        # The share of the fp32 peak is given for comparison only: bf16 products run on other units.
        print(f"| {'inference, eeglens bf16 vs PyTorch fp32':<38} | {o:>9.1f} | {share(o, key, peak):>7} | "
              f"{t:>9.1f} | {share(t, key, peak):>7} | {o / t:>5.2f}x | {'-':>6} |")
        tb = statistics.median(x.get("infer_bf16_samples_per_s", 0.0) for x in peer)
        if tb:
            print(f"| {'inference, bf16 both (PyTorch autocast)':<38} | {o:>9.1f} | {'-':>7} | "
                  f"{tb:>9.1f} | {'-':>7} | {o / tb:>5.2f}x | {'-':>6} |")
        f32 = statistics.median(x[key] for x in bf16)
        print(f"\neeglens bf16 inference / its fp32 inference of the same runs: {o / f32:.2f}x (target 1.6x)"
              + ("" if o else "; no bf16 figure: the CPU lacks AVX512_BF16"))
    print("PyTorch's batch-1 actmax loop:",
          f"{statistics.median(x['actmax_steps_per_s'] for x in peer):.1f} steps/s")


if __name__ == "__main__":
    main()

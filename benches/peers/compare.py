"""Runs `eeglens bench --json` and the PyTorch peer side by side and prints the ratios.

Rounds are interleaved (eeglens, PyTorch, eeglens, PyTorch, ...) so that both see the
same machine; each figure is the median over rounds. PyTorch runs with glibc told to keep
freed memory mapped (its faster setting on this kind of VM); eeglens runs as a user would
run it. Needs torch in the Python that runs this script (see rvgg_torch.py).

    cargo build --release
    python3 benches/peers/compare.py [--threads 2] [--rounds 3] [--eeglens target/release/eeglens]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FIELDS = [
    ("train_samples_per_s", "train samples/s, batch 40", 1.25),
    ("infer_samples_per_s", "inference samples/s, batch 256", 1.25),
    ("actmax_steps_per_s", "actmax steps/s, batch 1", 2.0),
    ("actmax_restart_steps_per_s", "actmax restart-steps/s, 16 batched", None),
]
TUNED = {"MALLOC_MMAP_THRESHOLD_": "1000000000", "MALLOC_TRIM_THRESHOLD_": "1000000000"}


def run_json(cmd, env):
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--eeglens", default="target/release/eeglens")
    a = p.parse_args()
    ours_cmd = [a.eeglens, "bench", "--json", "--threads", str(a.threads)]
    peer_cmd = [sys.executable, os.path.join(HERE, "rvgg_torch.py"), "--threads", str(a.threads)]
    ours, peer = [], []
    for r in range(a.rounds):
        ours.append(run_json(ours_cmd, dict(os.environ)))
        peer.append(run_json(peer_cmd, {**os.environ, **TUNED}))
        print(f"round {r + 1}/{a.rounds} done", file=sys.stderr)
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    print(f"{peer[0]['peer']} vs eeglens, {a.threads} threads, median of {a.rounds} interleaved rounds "
          f"(load average {load} at the end)")
    print(f"| {'measure':<38} | {'eeglens':>9} | {'PyTorch':>9} | {'ratio':>6} | {'target':>6} |")
    print(f"|{'-' * 40}|{'-' * 11}|{'-' * 11}|{'-' * 8}|{'-' * 8}|")
    for key, label, target in FIELDS:
        o = statistics.median(x[key] for x in ours)
        t = statistics.median(x[key] for x in peer)
        if key == "actmax_restart_steps_per_s":
            # The yardstick: batched restarts against PyTorch's single-restart loop.
            t = statistics.median(x["actmax_steps_per_s"] for x in peer)
            label += " (vs PyTorch batch 1)"
            target = 8.0
        ratio = o / t
        print(f"| {label:<38} | {o:>9.1f} | {t:>9.1f} | {ratio:>5.2f}x | {target:>5.2f}x |")
    print("\nPyTorch's own batched figure:",
          f"{statistics.median(x['actmax_restart_steps_per_s'] for x in peer):.1f} restart-steps/s")


if __name__ == "__main__":
    main()

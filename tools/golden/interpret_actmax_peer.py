"""PyTorch peer for the activation-maximisation benchmark in BENCHMARKS.md.

R-VGG at the paper's size (input 1 x 24 x 256, two classes), eval mode,
weights frozen, Adam on the input maximising a logit difference: the same
work per step as `cargo bench -p eeglens-interpret --bench interpret`
(forward, backward to the input, one Adam step). Prints steps/s and
pattern-steps/s for 1, 2x8 and 2x16 patterns per batch.

    pip install torch numpy
    python3 tools/golden/interpret_actmax_peer.py [--threads 2] [--seconds 10]

The network is the one of `benches/peers/rvgg_torch.py`, imported from there.
"""
import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "benches", "peers"))
from rvgg_torch import rvgg  # noqa: E402  (the peers' R-VGG, one definition)


def bench(model, batch, seconds):
    x = (0.1 * torch.randn(batch, 1, 24, 256)).requires_grad_(True)
    opt = torch.optim.Adam([x], lr=0.05, weight_decay=1.0)
    target = torch.arange(batch) % 2
    sign = torch.where(target == 1, 1.0, -1.0)

    def step():
        opt.zero_grad()
        logits = model(x)
        obj = (sign * (logits[:, 1] - logits[:, 0])).sum()
        (-obj).backward()
        opt.step()

    for _ in range(3):
        step()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        step()
        n += 1
    dt = time.perf_counter() - t0
    return n / dt


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seconds", type=float, default=10.0)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = rvgg().eval()
    for q in model.parameters():
        q.requires_grad_(False)
    print(f"torch {torch.__version__}, {a.threads} threads")
    for batch in (1, 16, 32):
        s = bench(model, batch, a.seconds)
        print(f"batch {batch:>2}: {s:8.1f} steps/s  {s * batch:8.1f} pattern-steps/s")


if __name__ == "__main__":
    main()

"""PyTorch peer for the activation-maximisation benchmark in BENCHMARKS.md.

R-VGG at the paper's size (input 1 x 24 x 256, two classes), eval mode,
weights frozen, Adam on the input maximising a logit difference: the same
work per step as `cargo bench -p eeglens-interpret --bench interpret`
(forward, backward to the input, one Adam step). Prints steps/s and
pattern-steps/s for 1, 16 and 32 patterns per batch, and the band-gains step
(2 classes x 8 sets x 8 windows: FFT, gains, inverse FFT, network, Adam on
the gains) as window-steps/s.

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


def per_second(step, seconds, warmup):
    """Calls of `step` per second over `seconds`, after `warmup` untimed calls."""
    for _ in range(warmup):
        step()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        step()
        n += 1
    return n / (time.perf_counter() - t0)


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

    return per_second(step, seconds, warmup=3)


def bench_gains(model, sets, windows, seconds):
    """The default eeglens step: a log gain per set, channel and band applied in
    the Fourier domain to `windows` real-sized windows per set (random here),
    the sets' mean logit difference maximised; Adam on the gains."""
    t, fs = 256, 128.0
    freqs = torch.fft.rfftfreq(t, 1.0 / fs)
    bands = [(1.0, 4.0), (4.0, 8.0), (8.0, 13.0), (13.0, 30.0)]
    mask = torch.stack([((freqs >= lo) & (freqs < hi)).float() for lo, hi in bands])  # [4, bins]
    base = torch.fft.rfft(torch.randn(sets * windows, 1, 24, t), dim=-1)
    g = torch.zeros(sets, 24, 4, requires_grad=True)
    opt = torch.optim.Adam([g], lr=0.05, weight_decay=10.0)
    sign = torch.where(torch.arange(sets) % 2 == 1, 1.0, -1.0).repeat_interleave(windows)

    def step():
        opt.zero_grad()
        log_gain = (g @ mask).repeat_interleave(windows, dim=0).unsqueeze(1)  # [n, 1, 24, bins]
        x = torch.fft.irfft(base * torch.exp(log_gain), n=t, dim=-1)
        logits = model(x)
        obj = (sign * (logits[:, 1] - logits[:, 0])).sum() / windows
        (-obj).backward()
        opt.step()

    return per_second(step, seconds, warmup=2)


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
    # Band gains, 2 classes x 8 sets x 8 windows (eeglens' default actmax step).
    s = bench_gains(model, 16, 8, a.seconds)
    print(f"gains 2x8x8: {s:8.2f} steps/s  {s * 128:8.1f} window-steps/s")


if __name__ == "__main__":
    main()

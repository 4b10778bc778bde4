"""PyTorch peer for the activation-maximisation benchmark in BENCHMARKS.md.

R-VGG at the paper's size (input 1 x 24 x 256, two classes), eval mode,
weights frozen, Adam on the input maximising a logit difference: the same
work per step as `cargo bench -p eeglens-interpret --bench interpret`
(forward, backward to the input, one Adam step). Prints steps/s and
pattern-steps/s for 1, 2x8 and 2x16 patterns per batch.

    pip install torch --index-url https://download.pytorch.org/whl/cpu
    python3 tools/golden/interpret_actmax_peer.py [--threads 2] [--seconds 10]
"""
import argparse
import time

import torch
import torch.nn as nn


def rvgg(n_channels=24, n_samples=256, n_classes=2):
    layers, c_in = [], 1
    for block in ([16, 16], [32, 32], [64, 64, 64]):
        for c_out in block:
            layers += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU()]
            c_in = c_out
        layers.append(nn.MaxPool2d(2))
    flat = 64 * (n_channels // 8) * (n_samples // 8)
    classifier = nn.Sequential(
        nn.Linear(flat, 1024), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(1024, 1024), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(1024, n_classes),
    )
    return nn.Sequential(nn.Sequential(*layers), nn.Flatten(), classifier)


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

"""PyTorch peer of `eeglens bench --json`: the same R-VGG, the same work, the same timing.

R-VGG at the paper's size (input 1 x 24 x 256, two classes, 7,452,850 parameters), fp32,
standard-normal noise input, and four measurements, each the median of timed repetitions
after untimed warm-up ones (the protocol of `eeglens_nn::bench`):

- train:  batch 40, train mode (dropout on), cross-entropy, backward, Adam (lr 5e-4) step;
- infer:  batch 256, eval mode, no autograd; also under `torch.autocast("cpu", bfloat16)`
          (`infer_bf16_samples_per_s`, the peer of `eeglens bench --precision bf16`);
- actmax: batch 1, eval mode, weights frozen, gradient of one logit with respect to the
          input, then `x += 0.1 * grad`;
- actmax_batched: the same with 16 restarts in one batch (reported as restart-steps/s).

Prints one JSON object with the same field names as `eeglens bench --json`. Run by hand,
never in CI (it needs torch):

    python3 -m venv .venv-peers && .venv-peers/bin/pip install torch numpy
    MALLOC_MMAP_THRESHOLD_=1000000000 MALLOC_TRIM_THRESHOLD_=1000000000 \
        .venv-peers/bin/python benches/peers/rvgg_torch.py --threads 2

`benches/peers/compare.py` (or `just bench-peers`) runs it next to `eeglens bench --json`.
"""
import argparse
import json
import os
import statistics
import time

import torch
import torch.nn as nn


def rvgg(n_channels=24, n_samples=256, n_classes=2):
    """R-VGG as in `eeglens_nn::models::rvgg` (torchvision VGG naming)."""
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


def median_secs(reps, warmup, f):
    for _ in range(warmup):
        f()
    times = []
    for _ in range(max(reps, 1)):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def actmax_step(model, batch, shape=(1, 24, 256)):
    """One activation-maximisation step on `batch` restarts: the gradient of logit 0 with
    respect to the input (weights frozen, eval mode), then `x += 0.1 * grad`."""
    x = torch.randn(batch, *shape)

    def step():
        xv = x.detach().requires_grad_(True)
        model(xv)[:, 0].sum().backward()
        with torch.no_grad():
            x.add_(0.1 * xv.grad)

    return step


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=40)
    p.add_argument("--infer-batch", type=int, default=256)
    p.add_argument("--restarts", type=int, default=16)
    p.add_argument("--reps", type=int, default=7)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = rvgg()
    n_params = sum(q.numel() for q in model.parameters())
    assert n_params == 7_452_850, n_params

    # Training step.
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=5e-4)
    xt = torch.randn(a.batch, 1, 24, 256)
    yt = torch.arange(a.batch) % 2
    loss_fn = nn.CrossEntropyLoss()

    def train_step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xt), yt)
        loss.backward()
        opt.step()

    train = median_secs(a.reps, 2, train_step)

    # Inference.
    model.eval()
    for q in model.parameters():
        q.requires_grad_(False)
    xi = torch.randn(a.infer_batch, 1, 24, 256)

    def infer():
        with torch.no_grad():
            model(xi)

    infer_s = median_secs(a.reps, 2, infer)

    def infer_bf16():
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
            model(xi)

    infer_bf16_s = median_secs(a.reps, 2, infer_bf16)

    # Activation maximisation: gradient of logit 0 with respect to the input.
    act1 = median_secs(a.reps * 20, 20, actmax_step(model, 1))
    actb = median_secs(a.reps * 20, 20, actmax_step(model, a.restarts))
    print(json.dumps({
        "model": "rvgg",
        "peer": f"torch {torch.__version__}",
        "train_samples_per_s": a.batch / train,
        "infer_samples_per_s": a.infer_batch / infer_s,
        "infer_bf16_samples_per_s": a.infer_batch / infer_bf16_s,
        "actmax_steps_per_s": 1.0 / act1,
        "actmax_restart_steps_per_s": a.restarts / actb,
        "train_batch": a.batch,
        "infer_batch": a.infer_batch,
        "actmax_restarts": a.restarts,
        "threads": torch.get_num_threads(),
        "reps": a.reps,
        "malloc_tuned": "MALLOC_MMAP_THRESHOLD_" in os.environ,
        "load_average": [os.getloadavg()[0]],
    }))


if __name__ == "__main__":
    main()

"""PyTorch peer of `eeglens bench --model logpower --json`: LogPowerNet, the same work and timing.

LogPowerNet at the paper's input (1 x 24 x 256, two classes, 1,034 parameters): eight
33-tap temporal filters shared by every electrode, square, mean over the window, log,
BatchNorm1d over the 192 log powers, dropout 0.5, linear. fp32, standard-normal noise
input; each figure the median of timed repetitions after untimed warm-up ones (the
protocol of `eeglens_nn::bench`):

- train:  batch 40, train mode, cross-entropy, backward, Adam (lr 2e-3, LogPowerNet's rate) step;
- infer:  batch 256, eval mode, no autograd;
- actmax: batch 1, eval mode, weights frozen, gradient of one logit with respect to the
          input, then `x += 0.1 * grad`; and 16 restarts in one batch (restart-steps/s).

Prints one JSON object with the field names of `eeglens bench --json`. Run by hand, never
in CI (it needs torch), side by side with eeglens on an idle machine:

    target/release/eeglens bench --model logpower --threads 1 --json
    python3 benches/peers/logpower_torch.py --threads 1
"""
import argparse
import json

import torch
import torch.nn as nn

from rvgg_torch import actmax_step, median_secs


class LogPower(nn.Module):
    def __init__(self, c=24, n_classes=2, filters=8, taps=33):
        super().__init__()
        self.conv_time = nn.Conv2d(1, filters, (1, taps), bias=False)
        self.bnorm = nn.BatchNorm1d(filters * c)
        self.drop = nn.Dropout(0.5)
        self.classifier = nn.Linear(filters * c, n_classes)

    def forward(self, x):
        y = self.conv_time(x)
        p = torch.log(torch.clamp((y * y).mean(-1), min=1e-6)).flatten(1)
        return self.classifier(self.drop(self.bnorm(p)))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=40)
    p.add_argument("--infer-batch", type=int, default=256)
    p.add_argument("--restarts", type=int, default=16)
    p.add_argument("--reps", type=int, default=50)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = LogPower()
    n_params = sum(q.numel() for q in model.parameters())
    assert n_params == 1_034, n_params

    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    xt = torch.randn(a.batch, 1, 24, 256)
    yt = torch.arange(a.batch) % 2
    loss_fn = nn.CrossEntropyLoss()

    def train_step():
        opt.zero_grad(set_to_none=True)
        loss_fn(model(xt), yt).backward()
        opt.step()

    train = median_secs(a.reps, 5, train_step)

    model.eval()
    for q in model.parameters():
        q.requires_grad_(False)
    xi = torch.randn(a.infer_batch, 1, 24, 256)

    def infer():
        with torch.no_grad():
            model(xi)

    infer_s = median_secs(a.reps, 5, infer)

    act1 = median_secs(a.reps * 4, 20, actmax_step(model, 1))
    actb = median_secs(a.reps * 4, 20, actmax_step(model, a.restarts))
    print(json.dumps({
        "model": "logpower",
        "peer": f"torch {torch.__version__}",
        "threads": a.threads,
        "train_samples_per_s": a.batch / train,
        "infer_samples_per_s": a.infer_batch / infer_s,
        "actmax_steps_per_s": 1.0 / act1,
        "actmax_restart_steps_per_s": a.restarts / actb,
        "train_batch": a.batch,
        "infer_batch": a.infer_batch,
        "restarts": a.restarts,
    }))


if __name__ == "__main__":
    main()

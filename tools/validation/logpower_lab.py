"""PyTorch prototype of LogPowerNet against ShallowConvNet on stored grid cells.

Usage: python3 logpower_lab.py OUT.tsv VARIANTS EPOCHS.safetensors...

VARIANTS is a comma-separated list of `shallow` (braindecode's ShallowFBCSPNet
layout, as eeglens's `shallow`) and `logpower` (eight 33-tap temporal filters
shared by every electrode, square, mean over the window, log, batch norm over
the 8 x C log powers, dropout 0.5, linear: eeglens's `logpower`), each with an
optional `#LR` (default 5e-4) and `@EPOCHS` (default 12), e.g.
`logpower#2e-3`. Each is trained as a grid cell is (Adam, batch 40, the
store's train split, the epoch with the lowest validation loss kept) and its
test accuracy per window appended to OUT.tsv: cell, grid, variant, accuracy,
best epoch (from 0), (train, validation accuracy) of the last epoch. PyTorch's
default initialisation and random streams, so it agrees with eeglens in
distribution, not run for run. Needs numpy, torch, safetensors.
"""
import sys
import numpy as np
import torch
import torch.nn as nn
from safetensors.numpy import load_file

torch.set_num_threads(1)


class Shallow(nn.Module):
    def __init__(self, c, t):
        super().__init__()
        self.time = nn.Conv2d(1, 40, (1, 25))
        self.spat = nn.Conv2d(40, 40, (c, 1), bias=False)
        self.bn = nn.BatchNorm2d(40)
        self.pool = nn.AvgPool2d((1, 75), (1, 15))
        self.drop = nn.Dropout(0.5)
        self.fc = nn.Linear(40 * ((t - 24 - 75) // 15 + 1), 2)

    def forward(self, x):
        x = self.bn(self.spat(self.time(x[:, None])))
        x = torch.log(torch.clamp(self.pool(x * x), min=1e-6))
        return self.fc(self.drop(x.flatten(1)))


class LogPower(nn.Module):
    def __init__(self, c, t, filters=8, taps=33):
        super().__init__()
        self.time = nn.Conv2d(1, filters, (1, taps), bias=False)
        self.bn = nn.BatchNorm1d(filters * c)
        self.drop = nn.Dropout(0.5)
        self.fc = nn.Linear(filters * c, 2)

    def forward(self, x):
        y = self.time(x[:, None])
        p = torch.log(torch.clamp((y * y).mean(-1), min=1e-6)).flatten(1)
        return self.fc(self.drop(self.bn(p)))


def run(path, variant, seed=0):
    lr, epochs = 5e-4, 12
    if "@" in variant:
        variant, e = variant.split("@")
        epochs = int(e)
    if "#" in variant:
        variant, r = variant.split("#")
        lr = float(r)
    store = load_file(path)
    x, y, split = torch.tensor(store["x"]), torch.tensor(store["y"]), store["split"]
    tr, va, te = [torch.tensor(np.where(split == i)[0]) for i in range(3)]
    torch.manual_seed(seed)
    c, t = x.shape[1:]
    model = {"shallow": Shallow, "logpower": LogPower}[variant](c, t)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(seed)

    def evaluate(idx):
        model.eval()
        with torch.no_grad():
            out = model(x[idx])
            loss, acc = loss_fn(out, y[idx]).item(), (out.argmax(1) == y[idx]).float().mean().item()
        model.train()
        return loss, acc

    best, last = (float("inf"), None, -1), None
    for epoch in range(epochs):
        order = tr[torch.randperm(len(tr), generator=gen)]
        for i in range(0, len(order), 40):
            b = order[i:i + 40]
            opt.zero_grad()
            loss_fn(model(x[b]), y[b]).backward()
            opt.step()
        vl, vacc = evaluate(va)
        last = (round(evaluate(tr)[1], 2), round(vacc, 2))
        if vl < best[0]:
            best = (vl, {k: v.clone() for k, v in model.state_dict().items()}, epoch)
    model.load_state_dict(best[1])
    return evaluate(te)[1], best[2], last


def main():
    out = open(sys.argv[1], "a")
    for path in sys.argv[3:]:
        for variant in sys.argv[2].split(","):
            acc, best, last = run(path, variant)
            parts = path.split("/")
            line = f"{parts[-2]}\t{parts[-4]}\t{variant}\t{acc:.3f}\t{best}\t{last}"
            print(line, flush=True)
            out.write(line + "\n")
            out.flush()


main()

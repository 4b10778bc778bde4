"""What `--model auto` gives on a grid, computed from two single-model grids.

`eeglens validate --model auto` trains ShallowConvNet and R-VGG-BN in every
cell and keeps the one with the higher validation balanced accuracy at its
best epoch (ties: lower validation loss, then ShallowConvNet). Two grids run
with `--model shallow` and `--model rvgg-bn` on the same cells and seeds hold
both candidates' runs, so the choice, and everything the chosen model's cell
scored, can be read from them without training again. This script does that
and prints the summary VALIDATION.md reports.

Usage: python3 auto_from_grids.py GRID_SHALLOW GRID_RVGG_BN
"""

import glob
import json
import os
import sys

METHODS = ("optimal", "actmax", "deconv")
DETECTABLE = 0.9  # baseline accuracy per subject
ACCURATE = 0.8  # network accuracy per window


def best_epoch_figures(cell_dir, best_epoch):
    """Validation balanced accuracy and loss at the best epoch of the last attempt."""
    rows = [json.loads(line) for line in open(os.path.join(cell_dir, "run", "metrics.jsonl"))]
    last = max(r.get("attempt", 0) for r in rows)
    rows = [r for r in rows if r.get("attempt", 0) == last]
    at = [r for r in rows if r["epoch"] == best_epoch] or rows[-1:]
    return at[0].get("val_balanced_accuracy"), at[0].get("val_loss")


def load(grid):
    cells = {}
    for d in sorted(glob.glob(os.path.join(grid, "cells", "*"))):
        path = os.path.join(d, "cell.json")
        if not os.path.exists(path):
            continue
        result = json.load(open(path))["result"]
        acc, loss = best_epoch_figures(d, result["model"].get("best_epoch"))
        cells[os.path.basename(d)] = (acc, loss, result)
    return cells


def choose(shallow, rvgg_bn):
    """The rule of eeglens_train::select::choose, candidates in the order shallow, rvgg-bn."""
    (sa, sl, _), (ba, bl, _) = shallow, rvgg_bn
    sa, ba = (-1.0 if sa is None else sa), (-1.0 if ba is None else ba)
    if ba != sa:
        return ("rvgg-bn", rvgg_bn) if ba > sa else ("shallow", shallow)
    if bl is not None and (sl is None or bl < sl):
        return "rvgg-bn", rvgg_bn
    return "shallow", shallow


def main(grid_shallow, grid_rvgg_bn):
    a, b = load(grid_shallow), load(grid_rvgg_bn)
    tally = {"detectable": 0, "accurate": 0, "learned_detectable": 0, "effect": 0, "learned": 0,
             "null": 0, "null_learned": 0, "null_claims": 0, "chosen": {}}
    hits = {m: [0, 0] for m in METHODS}
    channels = {m: [0, 0] for m in METHODS}
    variants = {}
    for name in sorted(a):
        if name not in b:
            print(f"{name}: missing from {grid_rvgg_bn}")
            continue
        model, (_, _, c) = choose(a[name], b[name])
        tally["chosen"][model] = tally["chosen"].get(model, 0) + 1
        net, base = c["model"], c["baseline"]
        print(f"{name[:40]:40} {model:8} val {a[name][0]:.3f} / {b[name][0]:.3f}  "
              f"test {net['accuracy']:.2f} per window, {net['subject_accuracy']:.2f} per subject"
              f"{'' if net['learned'] else '  (chance)'}")
        if c["size"] == 0:
            tally["null"] += 1
            tally["null_learned"] += net["learned"]
            tally["null_claims"] += sum(c["methods"][m].get("top_band") is not None for m in METHODS)
            continue
        tally["effect"] += 1
        tally["learned"] += net["learned"]
        if base["subject_accuracy"] >= DETECTABLE:
            tally["detectable"] += 1
            tally["accurate"] += net["accuracy"] >= ACCURATE
            tally["learned_detectable"] += net["learned"]
        if net["learned"]:
            for m in METHODS:
                hits[m][0] += bool(c["methods"][m].get("band_hit"))
                hits[m][1] += 1
                channels[m][0] += bool(c["methods"][m].get("channels_hit"))
                channels[m][1] += 1
            for v, score in c.get("variants", {}).items():
                h = variants.setdefault(v, [0, 0])
                h[0] += bool(score.get("band_hit"))
                h[1] += 1
    print(json.dumps({"tally": tally, "band_hit": hits, "channels_hit": channels,
                      "deconv_variants_band_hit": variants}, indent=1))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])

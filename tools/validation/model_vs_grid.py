"""One model's grid against an earlier grid of the same cells, and `--model auto` with that model added.

Usage: python3 model_vs_grid.py OLD_GRID NEW_GRID [REREADS.tsv]
       python3 model_vs_grid.py --pairs OLD:NEW[:REREADS.tsv] ...   (each pair, then all pooled)

OLD_GRID is a grid run with one model or with `--model auto` (its cells keep
run/candidates/<model>/); NEW_GRID the same grid (same seeds, so the same data
sets) run with `--model logpower`. For every cell it prints the baseline, both
networks' test accuracy per window and what selection among the old candidates
and the new model would choose (eeglens_train::select::choose: the highest
validation balanced accuracy at the best epoch, ties the lower validation loss,
then the earlier candidate, the new model last). Then, for the old grid, the new
model and that selection: detectable cells (baseline >= 0.9 per subject) at
>= 0.80 per window, learned cells, each method's planted band and channels
where the network learned, and on null data the networks that passed the
verdict and the bands claimed. REREADS.tsv (rows of reread.py) replaces the old
grid's readings by later re-readings of the same networks (the last row of a
cell and method wins).
"""
import glob, json, os, sys, csv
M = ("optimal", "actmax", "deconv")
def figs(metrics, best):
    rows = [json.loads(l) for l in open(metrics)]
    last = max(r.get("attempt", 0) for r in rows); rows = [r for r in rows if r.get("attempt", 0) == last]
    at = [r for r in rows if r["epoch"] == best] or rows[-1:]
    return at[0].get("val_balanced_accuracy") or -1.0, at[0].get("val_loss")
def cands(cd, res):
    cdir = os.path.join(cd, "run", "candidates")
    if os.path.isdir(cdir):
        out = []
        for m in ("shallow", "rvgg-bn"):
            md = os.path.join(cdir, m)
            rows = [json.loads(l) for l in open(os.path.join(md, "metrics.jsonl"))]
            last = max(r.get("attempt", 0) for r in rows); rows = [r for r in rows if r.get("attempt", 0) == last]
            best = [r for r in rows if r.get("best")][-1]
            out.append((m, best.get("val_balanced_accuracy") or -1.0, best.get("val_loss")))
        return out
    cfg = json.load(open(os.path.join(cd, "run", "config.json")))
    a, l = figs(os.path.join(cd, "run", "metrics.jsonl"), res["model"].get("best_epoch"))
    return [(cfg["train"]["model"], a, l)]
def choose(cs):
    k = 0
    for i, (m, a, l) in enumerate(cs):
        ka, kl = cs[k][1], cs[k][2]
        if a > ka or (a == ka and l is not None and (kl is None or l < kl)): k = i
    return cs[k][0]
def load(g):
    out = {}
    for cd in sorted(glob.glob(g + "/cells/*")):
        p = cd + "/cell.json"
        if not os.path.exists(p): continue
        r = json.load(open(p))["result"]
        out[os.path.basename(cd)] = (cd, r)
    return out
def compare(old_grid, new_grid, rereads=None, T=None, chosen=None, quiet=False):
    old, lp = load(old_grid), load(new_grid)
    rr = {}
    if rereads:
        for row in csv.DictReader(open(rereads), delimiter="\t"):
            rr[(row["cell"], row["method"])] = row
    def mres(r, m, cell=None):
        x = r["methods"][m]
        if cell and (cell, m) in rr:
            row = rr[(cell, m)]
            return row["band_hit"] == "true", row["channels_hit"] == "true"
        return x["band_hit"], x["channels_hit"]
    if T is None:
        T = new_totals()
    if chosen is None:
        chosen = {}
    for name in sorted(old):
        if name not in lp:
            continue
        (ocd, o), (lcd, l) = old[name], lp[name]
        cs = cands(ocd, o)
        la, ll = figs(lcd + "/run/metrics.jsonl", l["model"].get("best_epoch"))
        c = choose(cs + [("logpower", la, ll)])
        chosen[c] = chosen.get(c, 0) + 1
        picks = {"old": (o, name), "new": (l, None), "auto": (l, None) if c == "logpower" else (o, name)}
        if not quiet:
            print("%-44s base %.2f/%.1f  old %.3f  new %.3f  auto->%s" % (
                name, o["baseline"]["accuracy"], o["baseline"]["subject_accuracy"], o["model"]["accuracy"],
                l["model"]["accuracy"], c))
        for k, (r, cell) in picks.items():
            t = T[k]
            if r["size"] == 0:
                t["null"] += 1
                t["nl"] += r["model"]["learned"]
                t["claims"] += sum(1 for m in M if r["methods"][m]["top_band"] is not None)
                continue
            t["eff"] += 1
            if r["baseline"]["subject_accuracy"] >= 0.9:
                t["det"] += 1
                t["acc"] += r["model"]["accuracy"] >= 0.8
            if r["model"]["learned"]:
                t["learned"] += 1
                for m in M:
                    bh, ch = mres(r, m, cell)
                    t["bh"][m] += bh
                    t["ch"][m] += ch
    return T, chosen


def new_totals():
    return {k: {"det": 0, "acc": 0, "learned": 0, "eff": 0, "bh": {m: 0 for m in M}, "ch": {m: 0 for m in M},
                "null": 0, "nl": 0, "claims": 0} for k in ("old", "new", "auto")}


def show(T, chosen):
    for k, t in T.items():
        print(f"{k:5s} detectable>=0.80/win {t['acc']}/{t['det']}  learned {t['learned']}/{t['eff']}  band " +
              " ".join(f"{m} {t['bh'][m]}/{t['learned']}" for m in M) + "  channels " +
              " ".join(f"{m} {t['ch'][m]}" for m in M) +
              f"  nulls passed {t['nl']}/{t['null']} claims {t['claims']}/{3 * t['null']}")
    print("auto chose", chosen)


if sys.argv[1] == "--pairs":
    TT, CC = new_totals(), {}
    for pair in sys.argv[2:]:
        parts = pair.split(":")
        print("==", parts[0], "vs", parts[1])
        T, C = compare(parts[0], parts[1], parts[2] if len(parts) > 2 else None, quiet=True)
        show(T, C)
        compare(parts[0], parts[1], parts[2] if len(parts) > 2 else None, TT, CC, quiet=True)
    print("== pooled")
    show(TT, CC)
else:
    show(*compare(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None))

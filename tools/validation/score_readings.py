"""Scores the readings of `eeglens interpret` re-run on the cells of `eeglens validate` grids.

Usage: python3 score_readings.py SUBDIR GRID_DIR...
       python3 score_readings.py --auto SUBDIR GRID_SHALLOW GRID_RVGG_BN
SUBDIR may hold `{method}` (optimal, actmax, deconv): each method is then read from its own
directory (`interpret --method M --out ...`). With --auto, each cell is read from the grid whose
model `--model auto` would have chosen there (auto_from_grids.choose).
For every cell (CELL/run/SUBDIR/interpret.json beside CELL/cell.json): whether the network
learned (`model.learned`), and per method read, whether its top band contains the planted
band's centre and whether at least half the planted channels rank within the top
(planted + 2) by band-specific contrast in the planted band, as `eeglens validate` scores
them (eeglens_validate::score). Prints the counts over learned effect cells, and the claims
on null cells.
"""
import glob, json, os, sys

def rank_hit(m, bandname, planted):
    per = m["channels"][bandname]
    chans = list(per.keys())
    bands = list(m["channels"].keys())
    def contrast(ch):
        r = [m["channels"][b][ch] for b in bands]
        if any(x is None or abs(x) == float("inf") for x in r):
            return float("nan")
        s = sorted(r); n = len(s)
        med = (s[n // 2] + s[(n - 1) // 2]) / 2 if n >= 3 else 0.0
        return abs(per[ch] - med)
    vals = {ch: contrast(ch) for ch in chans}
    order = sorted([c for c in chans if vals[c] == vals[c]], key=lambda c: -vals[c])
    ranks = [order.index(c) + 1 if c in order else None for c in planted]
    within = sum(1 for r in ranks if r is not None and r <= len(planted) + 2)
    return 2 * within >= len(planted)

def readings(cd, sub):
    """The cell's interpret.json, with the methods merged from per-method directories."""
    if "{method}" not in sub:
        path = f"{cd}/run/{sub}/interpret.json"
        return json.load(open(path)) if os.path.exists(path) else None
    out = None
    for m in ("optimal", "actmax", "deconv"):
        path = f"{cd}/run/{sub.format(method=m)}/interpret.json"
        if not os.path.exists(path):
            continue
        ij = json.load(open(path))
        methods = ij["methods"] or {}
        if out is None:
            out = dict(ij, methods={})
        if methods.get(m):
            out["methods"][m] = methods[m]
    return out


def cell_dirs(args):
    if args[0] != "--auto":
        return args[0], [cd for g in args[1:] for cd in sorted(glob.glob(f"{g}/cells/*"))], None
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from auto_from_grids import choose, load
    sub, gs, gb = args[1], args[2], args[3]
    a, b = load(gs), load(gb)
    dirs, chosen = [], {}
    for name in sorted(set(a) & set(b)):
        model, _ = choose(a[name], b[name])
        dirs.append(f"{gs if model == 'shallow' else gb}/cells/{name}")
        chosen[model] = chosen.get(model, 0) + 1
    return sub, dirs, chosen


def main():
    sub, dirs, chosen = cell_dirs(sys.argv[1:])
    tally, nulls = {}, {"cells": 0, "learned": 0, "claims": 0, "reads": 0}
    learned_cells = 0
    for cd in dirs:
        cell = json.load(open(f"{cd}/cell.json"))["result"]
        ij = readings(cd, sub)
        if ij is not None:
            null = cell.get("size", 0) == 0
            if null:
                nulls["cells"] += 1
                nulls["learned"] += ij["model"]["learned"]
                for m in (ij["methods"] or {}).values():
                    if m:
                        nulls["reads"] += 1
                        nulls["claims"] += m["top_band"] is not None
                continue
            if not ij["model"]["learned"]:
                continue
            learned_cells += 1
            lo, hi = cell["band"]; centre = (lo + hi) / 2
            for name, m in ij["methods"].items():
                if not m:
                    continue
                t = tally.setdefault(name, [0, 0, 0, 0])
                t[0] += 1
                top = m["top_band"]
                band = next(b for b in m["bands"] if b["lo"] <= centre < b["hi"])
                t[1] += top == band["name"]
                t[2] += top is None
                t[3] += rank_hit(m, band["name"], cell["channels"])
    print(f"{sub}: learned effect cells {learned_cells}" + (f" (chosen: {chosen})" if chosen else ""))
    for name, (n, hit, none, ch) in sorted(tally.items()):
        print(f"  {name:8s} band hit {hit}/{n}  no claim {none}  planted channels near the top {ch}/{n}")
    print(f"  null cells {nulls['cells']}: learned {nulls['learned']}, readings {nulls['reads']}, claims {nulls['claims']}")

if __name__ == "__main__":
    main()

"""The kept grids' cells scored as this build reads and judges them.

`eeglens validate` grids keep every cell's trained network (`CELL/run/`). When
the reading or the chance verdict changes but training does not, the grids need
not be trained again: re-read every cell with `eeglens interpret` into
`CELL/run/SUBDIR/` with the grid's interpretation settings

    eeglens interpret --run CELL/run --out CELL/run/SUBDIR \
        --steps 50 --restarts 8 --actmax-windows 4 --permutations 1000 --k 20

and this script scores the readings as `eeglens validate` does
(eeglens_validate::score; band hit = the top band holds the planted band's
centre; channels = at least half the planted channels within the top
planted + 2 by band-specific contrast), with `learned` taken from the new
reading (`model.learned`: the verdict of the build that read it). The
per-window accuracy and the baseline are the cell's own (training unchanged).

Usage: python3 rescore_current.py SUBDIR[,SUBDIR...] SHALLOW_S0 RVGG_BN_S0 [SHALLOW_S1 RVGG_BN_S1 ...]
       python3 rescore_current.py --single SUBDIR GRID   (one grid of any model, e.g. --model auto)
Prints, per seed and over the seeds, for `shallow`, `rvgg-bn` and `auto` (the model
`--model auto` chooses on validation, auto_from_grids.choose): effect cells, learned,
detectable (baseline >= 0.9 per subject), detectable at >= 0.80 per window, each
method's band and channel hits over learned cells, and the null cells' learned
networks and claims.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from auto_from_grids import choose, load  # noqa: E402
from score_readings import rank_hit  # noqa: E402

METHODS = ("optimal", "actmax", "deconv")


def readings(cell_dir, sub):
    """The reading of `CELL/run/SUB/interpret.json`; SUB may be a comma-separated list of
    directories (each method taken from the first that read it, e.g. one method per run)."""
    out = None
    for d in sub.split(","):
        path = os.path.join(cell_dir, "run", d, "interpret.json")
        if not os.path.exists(path):
            continue
        ij = json.load(open(path))
        if out is None:
            out = dict(ij, methods=dict(ij.get("methods") or {}))
        for m, r in (ij.get("methods") or {}).items():
            if r and not out["methods"].get(m):
                out["methods"][m] = r
    return out


def score_cell(cell_dir, sub, result):
    ij = readings(cell_dir, sub)
    if ij is None:
        return None
    row = {"learned": bool(ij["model"]["learned"]), "size": result["size"],
           "accuracy": result["model"]["accuracy"], "baseline_subject": result["baseline"]["subject_accuracy"],
           "p_subjects": ij["model"].get("p_subjects"), "methods": {}}
    centre = None if result["band"] is None else sum(result["band"]) / 2
    for m in METHODS:
        r = (ij.get("methods") or {}).get(m)
        if not r:
            continue
        claim = r["top_band"]
        # The alternative ranking: among the same significant bands, the largest z.
        sig = [b for b in r["bands"] if b["p"] < 0.05 and "z" in b]
        claim_z = max(sig, key=lambda b: b["z"])["name"] if sig else None
        hit = hit_z = ch = False
        if centre is not None:
            band = next(b for b in r["bands"] if b["lo"] <= centre < b["hi"])
            hit = claim == band["name"]
            hit_z = claim_z == band["name"]
            ch = rank_hit(r, band["name"], result["channels"])
        row["methods"][m] = {"claim": claim, "hit": hit, "channels": ch, "claim_z": claim_z, "hit_z": hit_z}
    return row


def tally(rows):
    t = {"effect": 0, "learned": 0, "detectable": 0, "accurate": 0, "null": 0, "null_learned": 0,
         "null_claims": 0, "null_reads": 0, "missing": 0}
    hits = {m: [0, 0, 0, 0] for m in METHODS}  # band hit, channels hit, read, band hit by z
    for r in rows:
        if r is None:
            t["missing"] += 1
            continue
        if r["size"] == 0:
            t["null"] += 1
            t["null_learned"] += r["learned"]
            for m in r["methods"].values():
                t["null_reads"] += 1
                t["null_claims"] += m["claim"] is not None
            continue
        t["effect"] += 1
        t["learned"] += r["learned"]
        if r["baseline_subject"] >= 0.9:
            t["detectable"] += 1
            t["accurate"] += r["accuracy"] >= 0.8
        if r["learned"]:
            for m, s in r["methods"].items():
                hits[m][0] += s["hit"]
                hits[m][1] += s["channels"]
                hits[m][2] += 1
                hits[m][3] += s["hit_z"]
    return t, hits


def show(label, rows):
    t, hits = tally(rows)
    pct = lambda a, b: f"{a}/{b} ({100 * a / b:.0f} %)" if b else f"{a}/0"
    print(f"{label}: effect cells learned {t['learned']}/{t['effect']}; detectable >= 0.80 per window "
          f"{pct(t['accurate'], t['detectable'])}; nulls learned {t['null_learned']}/{t['null']}, "
          f"claims {t['null_claims']}/{t['null_reads']}" + (f"; NOT READ {t['missing']}" if t["missing"] else ""))
    for m in METHODS:
        h, c, n, hz = hits[m]
        print(f"    {m:8s} band hit {pct(h, n)}   planted channels near the top {pct(c, n)}   band hit ranked by z {pct(hz, n)}")


def main(sub, grids):
    pairs = list(zip(grids[0::2], grids[1::2]))
    every = {"shallow": [], "rvgg-bn": [], "auto": []}
    for seed, (gs, gb) in enumerate(pairs):
        a, b = load(gs), load(gb)
        rows = {"shallow": [], "rvgg-bn": [], "auto": []}
        for name in sorted(set(a) & set(b)):
            ra = score_cell(os.path.join(gs, "cells", name), sub, a[name][2])
            rb = score_cell(os.path.join(gb, "cells", name), sub, b[name][2])
            rows["shallow"].append(ra)
            rows["rvgg-bn"].append(rb)
            model, _ = choose(a[name], b[name])
            rows["auto"].append(ra if model == "shallow" else rb)
            r = ra if model == "shallow" else rb
            if r is not None and r["size"] > 0:
                marks = " ".join(f"{m}:{(s['claim'] or '-')}{'+' if s['hit'] else ''}/z:{(s['claim_z'] or '-')}{'+' if s['hit_z'] else ''}"
                                 for m, s in r["methods"].items())
                print(f"  {name[:38]:38} {model:8} acc {r['accuracy']:.3f} p_subj {r['p_subjects']} "
                      f"{'learned' if r['learned'] else 'NOT'} {marks}")
        for k, v in rows.items():
            show(f"{k} {gs}", v)
            every[k] += v
    if len(pairs) > 1:
        for k, v in every.items():
            show(f"{k}, all seeds", v)


def single(sub, grid):
    rows = []
    for name, (_, _, result) in sorted(load(grid).items()):
        r = score_cell(os.path.join(grid, "cells", name), sub, result)
        rows.append(r)
        if r is not None and r["size"] > 0:
            marks = " ".join(f"{m}:{(s['claim'] or '-')}{'+' if s['hit'] else ''}/z:{(s['claim_z'] or '-')}{'+' if s['hit_z'] else ''}"
                             for m, s in r["methods"].items())
            chosen = (result["model"].get("selection") or {}).get("chosen", "")
            print(f"  {name[:38]:38} {chosen:8} acc {r['accuracy']:.3f} baseline/subj {r['baseline_subject']:.2f} "
                  f"p_subj {r['p_subjects']} {'learned' if r['learned'] else 'NOT'} {marks}")
    show(grid, rows)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--single":
        single(sys.argv[2], sys.argv[3])
        sys.exit(0)
    if len(sys.argv) < 4 or len(sys.argv) % 2:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])

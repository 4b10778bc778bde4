"""A method's readings of kept grid cells, re-read by a build without retraining.

Every cell of an `eeglens validate` grid keeps its trained network (`CELL/run/`, and under
`--model auto` the two candidates in `CELL/run/candidates/`). This script re-reads each
network with `eeglens interpret --method METHOD --read-anyway` (default: deconv) and the
grid's settings (1000 permutations, k = 20), in readings named by their extra flags:

    default   no flag: the build's default for the network's model (every method)
    subjects  optimal only: --optimal-permute subjects (the band test moves each subject's
              windows of one class together)
    earlier   deconv only: --rule saliency --deconv-times-input --deconv-rank contrast
              (ShallowConvNet's reading before the logarithm was passed through)
    shared    deconv only: --deconv-seed shared (every class's windows projected from one seed)
    class     deconv only: --deconv-seed class (each class's windows from its own output)

`--readings default` reads only the default; to compare two builds, run the script once
with each, into two OUT directories.

and scores them as `eeglens validate` does (band hit: the top band holds the planted band's
centre; channels: at least half the planted channels within the top planted + 2). Networks
judged not to have learned are counted apart; on null cells every reading is scored (read
anyway), so a claim there is a method's own false claim.

`--learned-only` reads only what the grid itself read: the network a cell chose (`CELL/run/`),
in the cells where it was judged to have learned, null cells included.

Usage: python3 reread.py EEGLENS OUT GRID [GRID ...] [--method M] [--readings R,R] [--rows FILE.tsv]
                         [--learned-only]
Each GRID is a directory with `cells/`; readings go to OUT/CELL/MODEL/READING/.
"""
import glob
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from score_readings import rank_hit  # noqa: E402

READINGS = {
    "deconv": {
        "earlier": ["--rule", "saliency", "--deconv-times-input", "--deconv-rank", "contrast"],
        "default": [],
        "shared": ["--deconv-seed", "shared"],
        "class": ["--deconv-seed", "class"],
    },
    "optimal": {"default": [], "subjects": ["--optimal-permute", "subjects"]},
    "actmax": {"default": []},
}


def grid_flags(method, cell_dir):
    """Activation maximisation's settings and seed as the grid ran them (its restarts, steps,
    windows per restart, the cell's seed), so that the default reading is the grid's own; the
    other methods' readings use `interpret`'s seed 0, as their recorded rows did."""
    if method != "actmax":
        return []
    c = json.load(open(os.path.join(cell_dir, "cell.json")))
    s = c["grid"]["interpret"]
    return ["--restarts", str(s["restarts"]), "--steps", str(s["steps"]), "--actmax-windows",
            str(s["windows_per_restart"]), "--seed", str(c["cell"]["seed"])]


def networks(cell_dir, learned_only=False):
    """(model, run directory) of every network a cell kept; with `learned_only`, the network the
    cell chose, when it was judged to have learned (else none)."""
    run = os.path.join(cell_dir, "run")
    if learned_only:
        if not json.load(open(os.path.join(cell_dir, "cell.json")))["result"]["model"]["learned"]:
            return []
        return [(json.load(open(os.path.join(run, "config.json")))["model"]["name"], run)]
    cands = os.path.join(run, "candidates")
    if os.path.isdir(cands):
        return [(m, os.path.join(cands, m)) for m in sorted(os.listdir(cands))]
    return [(json.load(open(os.path.join(run, "config.json")))["model"]["name"], run)]


def read(binary, out, method, cell_dir, model, run, reading):
    dest = os.path.join(out, os.path.basename(cell_dir), model, reading)
    path = os.path.join(dest, "interpret.json")
    if not os.path.exists(path):
        cmd = [binary, "interpret", "--run", run, "--method", method, "--out", dest, "--permutations",
               "1000", "--k", "20", "--quiet", "--force", "--read-anyway"] + READINGS[method][reading]
        cmd += grid_flags(method, cell_dir)
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode:
            sys.exit(f"{run}: eeglens interpret failed: {r.stderr.strip()[-400:]}")
    return json.load(open(path))


def score(method, cell, ij):
    d = ij["methods"][method]
    top = d.get("top_band")
    if cell["size"] == 0:
        return {"null": True, "claim": top is not None}
    lo, hi = cell["band"]
    centre = (lo + hi) / 2
    band = next(b for b in d["bands"] if b["lo"] <= centre < b["hi"])
    topb = next((b for b in d["bands"] if b["name"] == top), None)
    hit = topb is not None and topb["lo"] <= centre < topb["hi"]
    return {"null": False, "learned": ij["model"]["learned"], "top": top or "none", "hit": hit,
            "channels": rank_hit(d, band["name"], cell["channels"])}


def main(argv):
    def option(name, default):
        nonlocal argv
        if name not in argv:
            return default
        i = argv.index(name)
        value = argv[i + 1]
        argv = argv[:i] + argv[i + 2:]
        return value

    learned_only = "--learned-only" in argv
    argv = [a for a in argv if a != "--learned-only"]
    rows_path = option("--rows", None)
    method = option("--method", "deconv")
    if method not in READINGS:
        sys.exit(f"--method {method}: one of {', '.join(READINGS)}")
    readings = option("--readings", ",".join(READINGS[method])).split(",")
    unknown = [r for r in readings if r not in READINGS[method]]
    if unknown:
        sys.exit(f"--readings {','.join(unknown)}: {method} has {', '.join(READINGS[method])}")
    binary, out, grids = argv[0], argv[1], argv[2:]
    jobs = []
    for g in grids:
        for cd in sorted(glob.glob(os.path.join(g, "cells", "*"))):
            if os.path.exists(os.path.join(cd, "cell.json")):
                for model, run in networks(cd, learned_only):
                    jobs.extend((cd, model, run, r) for r in readings)
    with ThreadPoolExecutor(2) as ex:
        got = list(ex.map(lambda j: (j, read(binary, out, method, *j)), jobs))
    tally, rows = {}, []
    for (cd, model, _, reading), ij in got:
        cell = json.load(open(os.path.join(cd, "cell.json")))["result"]
        s = score(method, cell, ij)
        t = tally.setdefault((model, reading), {"learned": 0, "hit": 0, "channels": 0, "nulls": 0, "claims": 0})
        if s["null"]:
            t["nulls"] += 1
            t["claims"] += s["claim"]
        elif s["learned"]:
            t["learned"] += 1
            t["hit"] += s["hit"]
            t["channels"] += s["channels"]
        if not s["null"]:
            rows.append((os.path.basename(cd), model, reading, s["learned"], s["top"], s["hit"], s["channels"]))
    for (model, reading), t in sorted(tally.items()):
        print(f"{model:8s} {reading:8s} learned {t['learned']:3d}: planted band {t['hit']:3d}, channels "
              f"{t['channels']:3d}; null networks read anyway {t['nulls']}, claims {t['claims']}")
    if rows_path:
        with open(rows_path, "w") as f:
            f.write("cell\tmodel\treading\tlearned\ttop_band\tband_hit\tchannels_hit\n")
            for r in sorted(rows):
                f.write("\t".join(str(x).lower() if isinstance(x, bool) else str(x) for x in r) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])

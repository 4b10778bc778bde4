"""Pools grids run with different seeds into the issue's rates, and says how often a
cell's verdict and readings hold from one replicate to the next.

Usage: python3 tools/validation/replicates.py A/validate.json B/validate.json [NULLS/validate.json ...]

Each `validate.json` is one grid (one seed). A grid's seed changes both the synthetic
data set (its subjects) and the training seed, so two seeds of one cell are two
replicates of the whole experiment: new subjects, new initialisation. Effect cells are
matched by (band, place, size); null cells are all pooled.

Prints, as Markdown:
- the targets over every (cell, seed) run, with exact (Clopper-Pearson) 95 % intervals;
- per effect cell matched in every grid: detectable / learned / accurate in how many
  seeds, and per method whether the seeds that learned name the same band;
- agreement counts: cells learned in all, some or no seeds; per method, among cells
  learned in every seed, the share whose top band is the same in all of them.

Only the Python standard library: the interval's beta quantiles come from a bisection
on the regularised incomplete beta function (a continued fraction), checked here against
the closed form of the all-or-nothing case.
"""
import json
import math
import sys

METHODS = ("optimal", "actmax", "deconv")
DETECTABLE = 0.9
ACCURATE = 0.8


def betacf(a, b, x):
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > 1e-300 else 1e-300)
    h = d
    for m in range(1, 400):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > 1e-300 else 1e-300)
        c = 1.0 + aa / c if abs(1.0 + aa / c) > 1e-300 else 1e-300
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > 1e-300 else 1e-300)
        c = 1.0 + aa / c if abs(1.0 + aa / c) > 1e-300 else 1e-300
        de = d * c
        h *= de
        if abs(de - 1.0) < 1e-15:
            break
    return h


def betainc(a, b, x):
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    lbt = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(lbt) * betacf(a, b, x) / a
    return 1.0 - math.exp(lbt) * betacf(b, a, 1.0 - x) / b


def beta_ppf(q, a, b):
    lo, hi = 0.0, 1.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if betainc(a, b, mid) < q:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def clopper_pearson(k, n, level=0.95):
    if n == 0:
        return None
    alpha = 1.0 - level
    lo = 0.0 if k == 0 else beta_ppf(alpha / 2, k, n - k + 1)
    hi = 1.0 if k == n else beta_ppf(1 - alpha / 2, k + 1, n - k)
    return lo, hi


def rate(k, n):
    if n == 0:
        return "no data"
    lo, hi = clopper_pearson(k, n)
    return f"{k} / {n} ({100 * k / n:.0f} %; {100 * lo:.0f}–{100 * hi:.0f} %)"


def self_check():
    # 0 of n: upper end 1 - (alpha/2)^(1/n); n of n: lower end (alpha/2)^(1/n)
    for n in (8, 24, 72):
        _, hi = clopper_pearson(0, n)
        assert abs(hi - (1 - 0.025 ** (1 / n))) < 1e-9, (n, hi)
        lo, _ = clopper_pearson(n, n)
        assert abs(lo - 0.025 ** (1 / n)) < 1e-9, (n, lo)


def key(c):
    return (c["band_name"], c["place"], c["size"])


def main(paths):
    self_check()
    grids = [json.load(open(p)) for p in paths]
    runs = [c for g in grids for c in g["cells"]]
    effect = [c for c in runs if c.get("band_name") is not None and c["size"] > 0]
    nulls = [c for c in runs if not (c.get("band_name") is not None and c["size"] > 0)]
    det = [c for c in effect if c["baseline"]["subject_accuracy"] >= DETECTABLE]
    learned = [c for c in effect if c["model"]["learned"]]
    seeds = sorted({c["seed"] for c in runs})
    if len({(g["grid"]["seeds"][0] if g["grid"].get("seeds") else None, json.dumps(g["grid"].get("sizes"))) for g in grids}) < len(grids):
        print("note: two of these grids have the same seed and sizes; are they the same grid twice?\n")
    print(f"{len(grids)} grids, seeds {seeds}: {len(effect)} effect runs, {len(nulls)} null runs\n")
    print("| target, over every (cell, seed) run | measured (95 % interval) |")
    print("| --- | --- |")
    acc = sum(c["model"]["accuracy"] >= ACCURATE for c in det)
    print(f"| detectable runs: network ≥ 0.80 per window (≥ 90 %) | {rate(acc, len(det))} |")
    print(f"| detectable runs learned | {rate(sum(c['model']['learned'] for c in det), len(det))} |")
    print(f"| effect runs learned | {rate(len(learned), len(effect))} |")
    for m in METHODS:
        hits = sum(c["methods"][m]["band_hit"] for c in learned)
        ch = sum(c["methods"][m]["channels_hit"] for c in learned)
        print(f"| {m}: top band = planted (≥ 90 %) | {rate(hits, len(learned))} |")
        print(f"| {m}: planted channels near the top (≥ 80 %) | {rate(ch, len(learned))} |")
    for m in METHODS:
        claims = sum(c["methods"][m]["top_band"] is not None for c in nulls)
        print(f"| {m}: claims a band on null data (≤ 5 %) | {rate(claims, len(nulls))} |")
    pooled = sum(c["methods"][m]["top_band"] is not None for c in nulls for m in METHODS)
    print(f"| any method claims, over (null, seed, method) runs (≤ 5 %) | {rate(pooled, 3 * len(nulls))} |")
    print(f"| network 'learned' on null data | {rate(sum(c['model']['learned'] for c in nulls), len(nulls))} |")

    # Grids of nulls alone (more null data sets) take no part in the comparison of effect cells.
    effect_grids = [g for g in grids if any(c.get("band_name") is not None and c["size"] > 0 for c in g["cells"])]
    by_cell = {}
    for g in effect_grids:
        for c in g["cells"]:
            if c.get("band_name") is not None and c["size"] > 0:
                by_cell.setdefault(key(c), []).append(c)
    matched = {k: v for k, v in by_cell.items() if len(v) == len(effect_grids)}
    if len(effect_grids) < 2 or not matched:
        return
    print("\n| cell | detectable | learned | ≥ 0.80 per window | " + " | ".join(METHODS) + " |")
    print("| --- | --- | --- | --- | " + " | ".join("---" for _ in METHODS) + " |")
    n = len(effect_grids)
    learned_all = learned_some = learned_none = 0
    same = {m: 0 for m in METHODS}
    hit_all = {m: 0 for m in METHODS}
    for k in sorted(matched, key=lambda k: (k[2], k[0], k[1])):
        cs = sorted(matched[k], key=lambda c: c["seed"])
        nl = sum(c["model"]["learned"] for c in cs)
        learned_all += nl == n
        learned_some += 0 < nl < n
        learned_none += nl == 0
        cols = []
        for m in METHODS:
            tops = [(c["methods"][m]["top_band"] or "none") + (" ✓" if c["methods"][m]["band_hit"] else " ✗")
                    if c["model"]["learned"] else "–" for c in cs]
            if nl == n:
                same[m] += len({c["methods"][m]["top_band"] for c in cs}) == 1
                hit_all[m] += all(c["methods"][m]["band_hit"] for c in cs)
            cols.append(" / ".join(tops))
        accs = " / ".join("%.2f" % c["model"]["accuracy"] for c in cs)
        n_det = sum(c["baseline"]["subject_accuracy"] >= DETECTABLE for c in cs)
        print(
            f"| {k[0]} {k[1]} ({k[2]:g}) "
            f"| {n_det} / {n} "
            f"| {nl} / {n} ({accs}) "
            f"| {sum(c['model']['accuracy'] >= ACCURATE for c in cs)} / {n} | " + " | ".join(cols) + " |"
        )
    print(f"\n{len(matched)} effect cells in all {n} seeds: learned in all {learned_all}, "
          f"in some {learned_some}, in none {learned_none}.")
    for m in METHODS:
        print(f"- {m}: of the {learned_all} cells learned in every seed, the same top band in all seeds in "
              f"{rate(same[m], learned_all)}; the planted band in all seeds in {rate(hit_all[m], learned_all)}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])

"""Re-reads the cells of `eeglens validate` grids with other band-contrast statistics.

Usage: python3 contrast_lab.py CENTRE GRID_DIR...   (INTERP=interpret-vt to read another
interpretation directory of each cell's run)

CENTRE is how each channel's broadband part is removed before a band's contrast is taken:
median (eeglens's), none, min (the band that changed least), others (median of the other
bands), trim1 (mean of the bands less the farthest from the median). For every learned
effect cell whose run kept `interpret.safetensors`, it recomputes, from the saved items
(optimal samples' windows from the cell's epoch store, activation maximisation's patterns,
the deconvnet's maps), Welch band power as eeglens does, the per-channel log ratios, and
for each aggregation over channels (mean over all; mean of the strongest 1, 3, 6, 8, 12)
the band contrasts, their max-statistic permutation p (floored by the network's
discrimination p) and the top band; then counts the cells where it is the planted band.
`recorded` is eeglens's own reading, to check that the statistic is reproduced.
Activation maximisation is read twice: `actmax` from its patterns' spectra, `gains` from the
power gains it optimised (`exp(2 g)`, paired by restart: eeglens's reading since the gains
replaced the spectra). CENTRE `side` keeps, per channel, the departures from the median on
the side of its largest one. Environment: NPS (Welch segment in samples, default 128 = 1 s;
eeglens reads 256 = 2 s), RANK (`contrast` or `z`: the studentised max statistic and ranking
of optimal samples and the deconvnet), AGG (aggregations over channels, comma-separated),
NPERM (permutations, default 1000). The misses of activation maximisation are listed by cell.
Needs numpy, scipy, safetensors.
"""
import json, glob, os, sys
import numpy as np
from scipy.signal import welch
from safetensors.numpy import load_file as lf

BANDS = [("delta",1,4),("theta",4,8),("alpha",8,13),("beta",13,30)]
FS = 128.0
NPERM = int(os.environ.get('NPERM','1000'))
ALPHA = 0.05

def bandpower(items):
    # items [n, ch, t] -> [n, ch, b]
    f, p = welch(items.astype(np.float64), fs=FS, nperseg=int(os.environ.get("NPS","128")), noverlap=int(os.environ.get("NPS","128"))//2, window='hann', detrend='constant', scaling='density', axis=-1)
    out = []
    for _, lo, hi in BANDS:
        m = (f >= lo) & (f <= hi)
        out.append(np.trapezoid(p[..., m], f[m], axis=-1))
    return np.stack(out, -1)

CENTER = "median"
INTERP = os.environ.get("INTERP", "interpret")
def med_sub(x):  # x [..., ch, b]: subtract per-channel median over bands
    if CENTER == "median":
        return np.abs(x - np.median(x, axis=-1, keepdims=True))
    if CENTER == "none":
        return np.abs(x)
    if CENTER == "others":
        nb = x.shape[-1]
        out = np.empty_like(x)
        for b in range(nb):
            o = np.delete(x, b, axis=-1)
            out[..., b] = np.abs(x[..., b] - np.median(o, axis=-1))
        return out
    if CENTER == "trim1":
        med = np.median(x, axis=-1, keepdims=True)
        far = np.abs(x - med).argmax(-1)
        mask = np.ones_like(x, dtype=bool)
        np.put_along_axis(mask, far[..., None], False, -1)
        m = (x * mask).sum(-1, keepdims=True) / mask.sum(-1, keepdims=True)
        return np.abs(x - m)
    if CENTER == "side":  # departures from the median on the side of the channel's largest one
        d = x - np.median(x, axis=-1, keepdims=True)
        far = np.take_along_axis(d, np.abs(d).argmax(-1)[..., None], -1)
        return np.maximum(0.0, np.sign(far) * d)
    if CENTER == "sidenone":
        far = np.take_along_axis(x, np.abs(x).argmax(-1)[..., None], -1)
        return np.maximum(0.0, np.sign(far) * x)
    if CENTER == "min":  # distance from the channel's band closest to zero change
        m = np.take_along_axis(x, np.abs(x).argmin(-1)[..., None], -1)
        return np.abs(x - m)

def stat_ratio(P, g, agg):
    m1 = P[g == 1].mean(0); m0 = P[g == 0].mean(0)
    r = np.log(m1 / m0)
    return agg(med_sub(r)), med_sub(r)

def stat_t(P, g, agg, paired=None):
    L = np.log(P)
    if paired is not None:
        d = L[paired[1]] - L[paired[0]]
        t = d.mean(0) / (d.std(0, ddof=1) / np.sqrt(len(d)) + 1e-12)
    else:
        a, b = L[g == 1], L[g == 0]
        t = (a.mean(0) - b.mean(0)) / np.sqrt(a.var(0, ddof=1) / len(a) + b.var(0, ddof=1) / len(b) + 1e-12)
    return agg(med_sub(t)), med_sub(t)

def stat_lr(P, g, agg):  # mean log power difference (geometric means)
    L = np.log(P)
    r = L[g == 1].mean(0) - L[g == 0].mean(0)
    return agg(med_sub(r)), med_sub(r)

def agg_mean(x): return x.mean(0)
def agg_top(q):
    def f(x): return np.sort(x, axis=0)[-q:].mean(0)
    return f
def agg_rms(x): return np.sqrt((x**2).mean(0))

def reading(P, g, statf, pairs=None, floor=0.0, seed=0):
    rng = np.random.default_rng(seed)
    obs, chan = statf(P, g, None)
    perms = []
    for _ in range(NPERM):
        if pairs is None:
            gp = rng.permutation(g)
            s, _ = statf(P, gp, None)
        else:
            sw = rng.integers(0, 2, size=len(pairs[0])).astype(bool)
            i0 = np.where(sw, pairs[1], pairs[0]); i1 = np.where(sw, pairs[0], pairs[1])
            gp = g.copy(); gp[i0] = 0; gp[i1] = 1
            s, _ = statf(P, gp, (i0, i1))
        perms.append(s)
    perms = np.array(perms)
    if RANK == "z":
        mu, sd = perms.mean(0), perms.std(0)
        sd = np.where(sd > 0, sd, 1.0)
        zo = (obs - mu) / sd; zp = (perms - mu) / sd
        exceed = (zp.max(1)[:, None] >= zo[None, :] * (1 - 1e-12)).sum(0)
        key = zo
    else:
        exceed = (perms.max(1)[:, None] >= obs[None, :] * (1 - 1e-12)).sum(0)
        key = obs
    p = np.maximum((1 + exceed) / (1 + NPERM), floor)
    sig = p < ALPHA
    top = None
    if sig.any():
        top = int(np.argmax(np.where(sig, key, -np.inf)))
    return top, obs, p, chan

RANK = os.environ.get("RANK", "contrast")

def make_stats():
    S = {}
    aggs = [("mean", agg_mean), ("top1", agg_top(1)), ("top3", agg_top(3)), ("top6", agg_top(6)), ("top8", agg_top(8)), ("top12", agg_top(12))]
    kinds = {"ratio": stat_ratio, "lr": stat_lr}
    for kname in os.environ.get("STAT", "ratio").split(","):
        for aname, agg in [a for a in aggs if a[0] in os.environ.get("AGG", "mean,top1,top3,top6,top8,top12").split(",")]:
            S[f"{kname}-{aname}"] = (lambda agg, k: lambda P, g, pr: k(P, g, agg))(agg, kinds[kname])
    return S

def planted_band_index(lo, hi):
    c = 0.5 * (lo + hi)
    for i, (_, a, b) in enumerate(BANDS):
        if a <= c < b: return i
    return None

def cells(grids):
    for gd in grids:
        for cd in sorted(glob.glob(f"{gd}/cells/*")):
            cj = json.load(open(f"{cd}/cell.json"))
            r = cj["result"]
            if r.get("size", 0) == 0: continue
            ij = f"{cd}/run/{INTERP}/interpret.json"
            if not os.path.exists(ij): continue
            yield gd, cd, cj, json.load(open(ij))

def main():
    global CENTER
    CENTER = sys.argv[1]
    grids = sys.argv[2:]
    S = make_stats()
    res = {}
    ep_cache = {}
    n = 0
    for gd, cd, cj, ij in cells(grids):
        if not ij["model"]["learned"]: continue
        r = cj["result"]
        pb = planted_band_index(*r["band"])
        chans = ij["channels"]; planted = [chans.index(c) for c in r["channels"]]
        floor = ij["model"]["p"]
        T = lf(f"{cd}/run/{INTERP}/interpret.safetensors")
        E = lf(f"{cd}/epochs.safetensors")
        n += 1
        items = {}
        for meth in ["optimal", "deconv"]:
            if meth not in ij["methods"] or ij["methods"][meth] is None: continue
            ncls = list(ij["methods"][meth]["n"].values())
            g = np.repeat([0, 1], ncls)
            if meth == "optimal":
                X = E["x"][T["optimal.indices"]]
            else:
                X = T["deconv.maps"]
            items[meth] = (bandpower(X), g, None, ij["methods"][meth])
        if "actmax" in ij["methods"] and ij["methods"]["actmax"] is not None:
            pat = T["actmax.patterns"]; k = pat.shape[1]
            X = pat.reshape(-1, *pat.shape[2:])
            g = np.repeat([0, 1], k)
            pairs = (np.arange(k), np.arange(k) + k)
            items["actmax"] = (bandpower(X), g, pairs, ij["methods"]["actmax"])
            G = T["actmax.gains"]; R = G.shape[1]
            items["gains"] = (np.exp(2.0 * G.reshape(-1, *G.shape[2:]).astype(np.float64)), np.repeat([0, 1], R), (np.arange(R), np.arange(R) + R), ij["methods"]["actmax"])
        for meth, (P, g, pairs, rec) in items.items():
            for sname, sf in S.items():
                top, obs, p, chan = reading(P, g, lambda P_, g_, pr: sf(P_, g_, pr), pairs, floor, seed=n)
                ranks = (-chan[:, pb]).argsort().argsort()[planted] + 1
                chit = (ranks <= len(planted) + 2).sum() * 2 >= len(planted)
                res.setdefault((meth, sname), []).append((top == pb, top is None, chit, os.path.basename(cd), gd))
            # check reproduction of the recorded statistic
            rec_top = rec["top_band"]
            res.setdefault((meth, "recorded"), []).append((rec_top == BANDS[pb][0], rec_top is None, None, os.path.basename(cd), gd))
    print("learned cells:", n)
    for (meth, sname), v in sorted(res.items()):
        hits = sum(x[0] for x in v); none = sum(x[1] for x in v)
        ch = [x[2] for x in v if x[2] is not None]
        print(f"{meth:8s} {sname:12s} band hit {hits:3d}/{len(v)}  no-claim {none:3d}  channels {sum(ch)}/{len(ch)}")
        if meth in ("actmax", "gains"):
            print("   misses:", " ".join(x[3][4:].replace("-seed","/") + ("(none)" if x[1] else "") for x in v if not x[0]))

main()

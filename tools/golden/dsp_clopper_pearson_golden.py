"""Golden values of the exact (Clopper-Pearson) 95 % interval for eeglens-dsp's `clopper_pearson`.

Run: python3 tools/golden/dsp_clopper_pearson_golden.py  (SciPy). The printed table is pasted into
crates/eeglens-dsp/src/stats.rs, test `clopper_pearson_matches_scipy`.
"""
from scipy import stats

CASES = [(0, 8), (26, 28), (20, 28), (12, 28), (19, 26), (5, 10), (10, 10), (1, 48), (150, 300)]
for k, n in CASES:
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
    print(f"({k}, {n}, {float(ci.low)!r}, {float(ci.high)!r}),")

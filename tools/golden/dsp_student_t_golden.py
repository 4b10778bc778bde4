"""Golden values of Student's t upper tail for eeglens-dsp's `student_t_upper_tail` test.

Run: python3 tools/golden/dsp_student_t_golden.py  (SciPy). The printed table is pasted into
crates/eeglens-dsp/src/stats.rs, test `student_t_tail_matches_scipy`.
"""
from scipy import stats

CASES = [(0.5, 3), (2.0, 5), (1.0, 1), (3.5, 10), (-1.2, 7), (2.2, 30), (0.0, 4), (4.0, 120)]
for t, df in CASES:
    print(f"({t!r}, {df}, {float(stats.t.sf(t, df))!r}),")

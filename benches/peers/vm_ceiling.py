"""What the machine itself allows a training step: the best-shaped GEMM and the memory rate.

NumPy's OpenBLAS sgemm on square matrices (n = 1024, 2048, 4096) and two streaming passes
over 256 MB arrays (np.copyto: one read and one write; np.add: two reads and one write),
best of several runs each. BENCHMARKS.md uses them as the ceiling of a training step
("How far a training step can go on this VM").

    OPENBLAS_NUM_THREADS=2 python3 benches/peers/vm_ceiling.py
"""
import time

import numpy as np


def best(f, reps=7):
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times)


for n in (1024, 2048, 4096):
    a = np.random.rand(n, n).astype(np.float32)
    b = np.random.rand(n, n).astype(np.float32)
    a @ b
    s = best(lambda: a @ b, 5)
    print(f"sgemm {n}^3: {2 * n**3 / s / 1e9:.1f} GFLOP/s")
n = 64 * 1024 * 1024  # 256 MB per array
x = np.ones(n, np.float32)
y = np.ones(n, np.float32)
z = np.empty(n, np.float32)
s = best(lambda: np.add(x, y, out=z), 5)
print(f"add (2 reads + 1 write, 768 MB): {3 * 4 * n / s / 1e9:.1f} GB/s")
s = best(lambda: np.copyto(z, x), 5)
print(f"copy (1 read + 1 write): {2 * 4 * n / s / 1e9:.1f} GB/s")

/* The machine's fp32 FMA peak: independent AVX-512 FMAs on registers, one
 * thread per core, no memory traffic. The yardstick for BENCHMARKS.md's
 * "share of peak" figures.
 *
 *     gcc -O2 -mavx512f -mfma -pthread benches/peers/fma_peak.c -o /tmp/fma_peak
 *     /tmp/fma_peak 1 && /tmp/fma_peak 2
 */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define ACC 16
#define ITERS 100000000L

/* Sixteen named accumulators, so the compiler keeps them in registers. */
#define FMA(x) x = _mm512_fmadd_ps(x, b, c)
static void *run(void *out) {
    const __m512 b = _mm512_set1_ps(1.0000001f), c = _mm512_set1_ps(1e-7f);
    __m512 a0 = _mm512_set1_ps(0), a1 = _mm512_set1_ps(1), a2 = _mm512_set1_ps(2), a3 = _mm512_set1_ps(3);
    __m512 a4 = _mm512_set1_ps(4), a5 = _mm512_set1_ps(5), a6 = _mm512_set1_ps(6), a7 = _mm512_set1_ps(7);
    __m512 a8 = _mm512_set1_ps(8), a9 = _mm512_set1_ps(9), a10 = _mm512_set1_ps(10), a11 = _mm512_set1_ps(11);
    __m512 a12 = _mm512_set1_ps(12), a13 = _mm512_set1_ps(13), a14 = _mm512_set1_ps(14), a15 = _mm512_set1_ps(15);
    for (long i = 0; i < ITERS; i++) {
        FMA(a0); FMA(a1); FMA(a2); FMA(a3); FMA(a4); FMA(a5); FMA(a6); FMA(a7);
        FMA(a8); FMA(a9); FMA(a10); FMA(a11); FMA(a12); FMA(a13); FMA(a14); FMA(a15);
    }
    __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                             _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
    s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)),
                                       _mm512_add_ps(_mm512_add_ps(a12, a13), _mm512_add_ps(a14, a15))));
    *(float *)out = _mm512_reduce_add_ps(s); /* keeps the loop alive */
    return NULL;
}

int main(int argc, char **argv) {
    int t = argc > 1 ? atoi(argv[1]) : 1;
    if (t < 1 || t > 64) return 1;
    pthread_t ts[64];
    float r[64];
    struct timespec s, e;
    clock_gettime(CLOCK_MONOTONIC, &s);
    for (int i = 0; i < t; i++) pthread_create(&ts[i], NULL, run, &r[i]);
    for (int i = 0; i < t; i++) pthread_join(ts[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &e);
    double dt = (e.tv_sec - s.tv_sec) + (e.tv_nsec - s.tv_nsec) * 1e-9;
    double flop = (double)t * ITERS * ACC * 16 * 2;
    printf("%d threads: %.1f GFLOP/s fp32 (%.2f s; checksum %g)\n", t, flop / dt / 1e9, dt, r[0]);
    return 0;
}

/* The machine's AVX512_BF16 peak beside its fp32 FMA peak, in one run:
 * independent `vdpbf16ps` (32 bf16 products and 32 fp32 adds each, 64 FLOP)
 * and independent `vfmadd` (16 fp32 multiply-adds, 32 FLOP) on registers,
 * one thread per core, no memory traffic. What `--precision bf16` can gain
 * on a CPU is at most the ratio of the two (BENCHMARKS.md, "bf16 inference").
 *
 *     gcc -O2 -mavx512f -mavx512bf16 -mfma -pthread benches/peers/bf16_peak.c -o /tmp/bf16_peak
 *     /tmp/bf16_peak 1 && /tmp/bf16_peak 2
 */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define ITERS 50000000L

/* Sixteen named accumulators, so the compiler keeps them in registers. */
#define FMA(x) x = _mm512_fmadd_ps(x, b, c)
static void *run_fma(void *out) {
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

#define DP(x) x = _mm512_dpbf16_ps(x, b, c)
static void *run_bf16(void *out) {
    /* bf16 pairs (1.0, 1.0) and (2^-7, 2^-7). */
    const __m512bh b = (__m512bh)_mm512_set1_epi32(0x3f803f80), c = (__m512bh)_mm512_set1_epi32(0x3c003c00);
    __m512 a0 = _mm512_set1_ps(0), a1 = _mm512_set1_ps(1), a2 = _mm512_set1_ps(2), a3 = _mm512_set1_ps(3);
    __m512 a4 = _mm512_set1_ps(4), a5 = _mm512_set1_ps(5), a6 = _mm512_set1_ps(6), a7 = _mm512_set1_ps(7);
    __m512 a8 = _mm512_set1_ps(8), a9 = _mm512_set1_ps(9), a10 = _mm512_set1_ps(10), a11 = _mm512_set1_ps(11);
    __m512 a12 = _mm512_set1_ps(12), a13 = _mm512_set1_ps(13), a14 = _mm512_set1_ps(14), a15 = _mm512_set1_ps(15);
    for (long i = 0; i < ITERS; i++) {
        DP(a0); DP(a1); DP(a2); DP(a3); DP(a4); DP(a5); DP(a6); DP(a7);
        DP(a8); DP(a9); DP(a10); DP(a11); DP(a12); DP(a13); DP(a14); DP(a15);
    }
    __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                             _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
    s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)),
                                       _mm512_add_ps(_mm512_add_ps(a12, a13), _mm512_add_ps(a14, a15))));
    *(float *)out = _mm512_reduce_add_ps(s);
    return NULL;
}

/* GFLOP/s of `t` threads running `f` (`flop_per_op` FLOP per instruction). */
static double measure(int t, void *(*f)(void *), double flop_per_op) {
    pthread_t ts[64];
    float r[64];
    struct timespec s, e;
    clock_gettime(CLOCK_MONOTONIC, &s);
    for (int i = 0; i < t; i++) pthread_create(&ts[i], NULL, f, &r[i]);
    for (int i = 0; i < t; i++) pthread_join(ts[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &e);
    double dt = (e.tv_sec - s.tv_sec) + (e.tv_nsec - s.tv_nsec) * 1e-9;
    return (double)t * ITERS * 16 * flop_per_op / dt / 1e9 + 0.0 * r[0];
}

int main(int argc, char **argv) {
    int t = argc > 1 ? atoi(argv[1]) : 1;
    if (t < 1 || t > 64) return 1;
    double fma = measure(t, run_fma, 32), bf16 = measure(t, run_bf16, 64);
    printf("%d threads: fp32 FMA %.1f GFLOP/s, bf16 vdpbf16ps %.1f GFLOP/s (%.2fx)\n", t, fma, bf16, bf16 / fma);
    return 0;
}

//! The one safe wrapper around matrixmultiply's `sgemm`.
//!
//! Every packed matrix product in the engine goes through [`gemm_strided`],
//! the only place in the project that calls into matrixmultiply (an `unsafe`
//! FFI-like call on raw pointers); the only other `unsafe` products are the
//! AVX-512 kernels of [`super::direct`], behind their own bounds checks. It asserts, before the call, that every element the
//! strides can reach lies inside its slice, so a wrong size is a panic that
//! names the kernel, never an out-of-bounds read or write.
//!
//! Transposes are stride swaps: a row-major `r x c` matrix has strides
//! `(c, 1)`; read as its transpose it has strides `(1, c)`. matrixmultiply packs
//! both operands into cache-sized panels, so either orientation costs about
//! the same.

use super::par;

/// Below this many multiply-adds, [`gemm`] stays on the calling thread: the
/// product is over before a second thread would have started.
const PAR_MIN_MACS: usize = 1 << 20;
/// Fewest rows of `C` per parallel task: below that, packing all of `B` once
/// per task costs more than the task's share of the product.
const MIN_ROWS_PER_TASK: usize = 8;
/// Independent partial sums in [`dot`], so the additions pipeline and vectorise.
const DOT_LANES: usize = 16;
/// Fewest columns of a one-row `C` per parallel task (a multiple of the
/// micro-kernels' widths, so no task ends in a ragged vector).
const MIN_COLS_PER_TASK: usize = 64;

/// Highest element index a `rows x cols` matrix with strides `(rs, cs)` can
/// reach, or `None` on overflow. Zero-sized matrices reach nothing.
fn reach(rows: usize, cols: usize, rs: usize, cs: usize) -> Option<usize> {
    if rows == 0 || cols == 0 {
        return Some(0);
    }
    (rows - 1).checked_mul(rs)?.checked_add((cols - 1).checked_mul(cs)?)
}

/// `C = alpha * A B + beta * C` on strided views, single-threaded.
///
/// `A` is `m x k` with strides `(rsa, csa)`, `B` is `k x n` with `(rsb, csb)`,
/// `C` is `m x n` with `(rsc, csc)`; each starts at the first element of its
/// slice. With `beta == 0` the old `C` is never read.
///
/// # Panics
/// When a stride lets an index run past its slice (the message names the
/// operand, the reach and the length), or when `C`'s strides would make two
/// of its elements the same memory.
pub(crate) fn gemm_strided(
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    a: &[f32],
    (rsa, csa): (usize, usize),
    b: &[f32],
    (rsb, csb): (usize, usize),
    beta: f32,
    c: &mut [f32],
    (rsc, csc): (usize, usize),
) {
    if m == 0 || n == 0 {
        return;
    }
    let in_bounds = |name: &str, len: usize, rows: usize, cols: usize, rs: usize, cs: usize| {
        let r = reach(rows, cols, rs, cs);
        assert!(
            r.is_some_and(|r| r < len),
            "gemm: {name} ({rows}x{cols}, strides ({rs}, {cs})) reaches element {r:?} of a slice of {len}"
        );
    };
    in_bounds("C", c.len(), m, n, rsc, csc);
    // C must not alias itself: one of its strides has to step over the
    // whole extent of the other.
    assert!(
        (csc >= 1 && (m == 1 || rsc >= n * csc)) || (rsc >= 1 && (n == 1 || csc >= m * rsc)),
        "gemm: C strides ({rsc}, {csc}) make elements of a {m}x{n} matrix overlap"
    );
    if k == 0 {
        // An empty sum: C = beta * C (and exactly zero when beta is zero).
        for i in 0..m {
            for j in 0..n {
                let e = &mut c[i * rsc + j * csc];
                *e = if beta == 0.0 { 0.0 } else { beta * *e };
            }
        }
        return;
    }
    in_bounds("A", a.len(), m, k, rsa, csa);
    in_bounds("B", b.len(), k, n, rsb, csb);
    let s = |v: usize| isize::try_from(v).expect("stride fits in isize: it indexes a slice");
    #[allow(unsafe_code)]
    // SAFETY: the asserts above prove that every index `i * rs + j * cs` that
    // sgemm forms for A (m x k), B (k x n) and C (m x n) is below the length
    // of its slice, and that C's elements are distinct. `c` is a unique
    // borrow, so it cannot overlap `a` or `b`; matrixmultiply's threading is
    // compiled out, so the call touches the memory only from this thread.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            alpha,
            a.as_ptr(),
            s(rsa),
            s(csa),
            b.as_ptr(),
            s(rsb),
            s(csb),
            beta,
            c.as_mut_ptr(),
            s(rsc),
            s(csc),
        );
    }
}

/// General matrix product `C[m, n] = alpha * op(A) op(B) + beta * C`, row-major.
///
/// `op(A)` is `m x k`: `A` is stored `m x k`, or `k x m` when `trans_a`.
/// `op(B)` is `k x n`: `B` is stored `k x n`, or `n x k` when `trans_b`.
/// Transposes cost nothing (stride swaps). When `beta == 0` the old `C` is not
/// read, so it may hold garbage or NaN.
///
/// A linear layer `y = x W^T + b` with `x: [batch, in]`, `W: [out, in]` is
/// `y` filled with `b` per row, then `gemm(batch, in, out, 1.0, x, false, W, true, 1.0, y)`;
/// its gradients are `gx = gy W` (`gemm(batch, out, in, 1.0, gy, false, W, false, 0.0, gx)`)
/// and `gW = gy^T x` (`gemm(out, batch, in, 1.0, gy, true, x, false, 0.0, gw)`).
///
/// Algorithm: matrixmultiply's packed, cache-blocked `sgemm`, except for
/// products with at most 64 rows, `A` not transposed and `alpha == 1` (linear
/// layers at small batches), which run on the unpacked AVX-512 kernels of
/// [`super::direct`] where the CPU has them, so that `B` streams once
/// instead of being packed. Large products
/// (at least 2^20 multiply-adds) are split over the threads of the current
/// rayon pool: into column blocks of `C` when it has fewer rows than columns
/// and than `k` (a linear layer at batch 40: each thread packs only its share
/// of `B`),
/// otherwise into row blocks (8 rows per thread at least). Each block is an
/// independent sgemm over the same `k` order, so the result does not depend
/// on the thread count. A one-row product (a linear layer at batch 1,
/// as in activation maximisation) is a matrix-vector product instead: it
/// streams `B` once without packing it, in column blocks of `C` over the
/// threads, and each element's sum runs in a fixed order, so it too does not
/// depend on the thread count. With AVX-512, rows of `B` (stored `k x n`)
/// whose entry of `A` is exactly zero are skipped: the result differs only
/// where such a row holds an infinity or NaN.
///
/// # Panics
/// When `a.len() != m * k`, `b.len() != k * n` or `c.len() != m * n`.
pub fn gemm(
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    a: &[f32],
    trans_a: bool,
    b: &[f32],
    trans_b: bool,
    beta: f32,
    c: &mut [f32],
) {
    assert!(
        a.len() == m * k && b.len() == k * n && c.len() == m * n,
        "gemm: m={m}, k={k}, n={n} needs a: {}, b: {}, c: {}; got {}, {}, {}",
        m * k,
        k * n,
        m * n,
        a.len(),
        b.len(),
        c.len()
    );
    let sa = if trans_a { (1, m) } else { (k, 1) };
    let sb = if trans_b { (1, k) } else { (n, 1) };
    let threads = par::threads();
    if m == 1 {
        // One row of C (a linear layer at batch 1, as in activation
        // maximisation): a matrix-vector product. Packing B into panels would
        // cost as much memory traffic as the product itself, so B is streamed
        // once, in column blocks of C split over the threads.
        let tasks = if k * n >= PAR_MIN_MACS { threads.min(n / MIN_COLS_PER_TASK).max(1) } else { 1 };
        let cols = n.div_ceil(tasks).next_multiple_of(16);
        par::chunks_mut(c, cols, |i, c_cols| gemv(k, n, alpha, a, b, trans_b, beta, c_cols, i * cols));
        return;
    }
    if m < n && m < k && m * k * n >= PAR_MIN_MACS && threads > 1 && n >= 2 * MIN_COLS_PER_TASK {
        // Fewer rows than columns or inner products (a linear layer at a
        // training batch: 40 rows of 1024 or 6144 columns): split the columns,
        // so that each thread packs only its share of B rather than all of it.
        // Column blocks of a row-major C are not contiguous, so each task works
        // on a copy of its block and the blocks are copied back, which costs
        // less than packing B again only while C is smaller than B (m < k).
        let tasks = threads.min(n / MIN_COLS_PER_TASK);
        let cols = n.div_ceil(tasks).next_multiple_of(16);
        let mut blocks: Vec<(usize, Vec<f32>)> = (0..n.div_ceil(cols))
            .map(|t| {
                let (j0, width) = (t * cols, cols.min(n - t * cols));
                let mut block = Vec::with_capacity(m * width);
                if beta != 0.0 {
                    for row in c.chunks_exact(n) {
                        block.extend_from_slice(&row[j0..j0 + width]);
                    }
                } else {
                    block.resize(m * width, 0.0);
                }
                (width, block)
            })
            .collect();
        par::chunks_mut(&mut blocks, 1, |t, blk| {
            let (width, block) = &mut blk[0];
            let j0 = t * cols;
            // Column j0 of op(B) starts at element j0 * k (B stored n x k) or j0 (stored k x n).
            let b_off = if trans_b { j0 * k } else { j0 };
            let direct = few_rows_direct(
                m,
                k,
                *width,
                alpha,
                a,
                trans_a,
                &b[b_off..],
                trans_b,
                n,
                beta,
                block,
                *width,
            );
            if !direct {
                gemm_strided(m, k, *width, alpha, a, sa, &b[b_off..], sb, beta, block, (*width, 1));
            }
        });
        for (t, (width, block)) in blocks.iter().enumerate() {
            let j0 = t * cols;
            for (row, src) in c.chunks_exact_mut(n).zip(block.chunks_exact(*width)) {
                row[j0..j0 + width].copy_from_slice(src);
            }
        }
        return;
    }
    let tasks = threads.min(m / MIN_ROWS_PER_TASK);
    if tasks <= 1 || m * k * n < PAR_MIN_MACS {
        if !few_rows_direct(m, k, n, alpha, a, trans_a, b, trans_b, n, beta, c, n) {
            gemm_strided(m, k, n, alpha, a, sa, b, sb, beta, c, (n, 1));
        }
        return;
    }
    let rows = m.div_ceil(tasks);
    par::chunks_mut(c, rows * n, |i, c_rows| {
        let i0 = i * rows;
        let mc = c_rows.len() / n;
        // Row i0 of op(A) starts at element i0 * k (stored m x k) or i0 (stored k x m).
        let a_off = if trans_a { i0 } else { i0 * k };
        gemm_strided(mc, k, n, alpha, &a[a_off..], sa, b, sb, beta, c_rows, (n, 1));
    });
}

/// A product with few rows (a linear layer at a small batch: activation
/// maximisation with batched restarts, training at batch 40) on the unpacked
/// AVX-512 kernels of [`super::direct`], which stream `B` once instead of
/// packing it. `b` starts at the block's first column of `op(B)`; `n_full` is
/// `op(B)`'s full column count (`B`'s row stride when stored `k x n`), `ldc`
/// `C`'s row stride. Returns `false`, touching nothing, when the product does
/// not qualify (transposed `A`, `alpha != 1`, more than [`DIRECT_MAX_ROWS`]
/// rows) or the AVX-512 path is off.
#[allow(clippy::too_many_arguments)]
fn few_rows_direct(
    m: usize,
    k: usize,
    width: usize,
    alpha: f32,
    a: &[f32],
    trans_a: bool,
    b: &[f32],
    trans_b: bool,
    n_full: usize,
    beta: f32,
    c: &mut [f32],
    ldc: usize,
) -> bool {
    if trans_a || alpha != 1.0 || m > DIRECT_MAX_ROWS || !super::direct::use_avx512() {
        return false;
    }
    let a = &a[..m * k];
    if trans_b {
        // B stored n x k: the block's columns are rows of B, row stride k.
        super::direct::gemm_nt(m, k, width, a, k, b, k, beta, c, ldc);
    } else {
        super::direct::gemm_nn(m, k, width, a, k, b, n_full, beta, c, ldc);
    }
    true
}

/// Most rows of `C` for [`few_rows_direct`].
const DIRECT_MAX_ROWS: usize = 64;

/// Columns `j0 .. j0 + c.len()` of the one-row product `c = alpha * a op(B) + beta * c`,
/// with `a` of length `k` and `op(B)` `k x n` (`B` stored `n x k` when `trans_b`).
///
/// Each element is a sum over `k` in a fixed order that does not depend on
/// `j0` or on the block size, so the result does not depend on how the
/// columns are split over threads.
#[allow(clippy::too_many_arguments)]
fn gemv(
    k: usize,
    n: usize,
    alpha: f32,
    a: &[f32],
    b: &[f32],
    trans_b: bool,
    beta: f32,
    c: &mut [f32],
    j0: usize,
) {
    let finish = |acc: f32, old: f32| if beta == 0.0 { alpha * acc } else { alpha * acc + beta * old };
    if trans_b {
        // Column j of op(B) is row j of B: contiguous dot products.
        let mut sums = vec![0.0f32; c.len()];
        if super::direct::dots(a, &b[j0 * k..], k, &mut sums) {
            for (cj, &s) in c.iter_mut().zip(&sums) {
                *cj = finish(s, *cj);
            }
            return;
        }
        for (jj, cj) in c.iter_mut().enumerate() {
            let row = &b[(j0 + jj) * k..][..k];
            *cj = finish(dot(a, row), *cj);
        }
    } else {
        // Row p of B scaled by a[p], accumulated into the block; the block
        // stays in cache while B streams past once.
        let width = c.len();
        let mut acc = vec![0.0f32; width];
        if super::direct::axpys(a, &b[j0..], n, &mut acc) {
            for (cj, &s) in c.iter_mut().zip(&acc) {
                *cj = finish(s, *cj);
            }
            return;
        }
        for (p, &ap) in a.iter().enumerate() {
            let row = &b[p * n + j0..][..width];
            for (s, &bv) in acc.iter_mut().zip(row) {
                *s += ap * bv;
            }
        }
        for (cj, &s) in c.iter_mut().zip(&acc) {
            *cj = finish(s, *cj);
        }
    }
}

/// `sum_i x[i] y[i]` with [`DOT_LANES`] partial sums (pairwise order fixed by the length alone).
fn dot(x: &[f32], y: &[f32]) -> f32 {
    let mut acc = [0.0f32; DOT_LANES];
    let (xc, yc) = (x.chunks_exact(DOT_LANES), y.chunks_exact(DOT_LANES));
    let (xr, yr) = (xc.remainder(), yc.remainder());
    for (xs, ys) in xc.zip(yc) {
        for l in 0..DOT_LANES {
            acc[l] += xs[l] * ys[l];
        }
    }
    let mut tail = 0.0f32;
    for (a, b) in xr.iter().zip(yr) {
        tail += a * b;
    }
    acc.iter().sum::<f32>() + tail
}

//! The packed sgemm leaf: the one safe wrapper around matrixmultiply's `sgemm`.
//!
//! Every packed matrix product in the engine goes through [`gemm_strided`],
//! the only place in the project that calls into matrixmultiply (an `unsafe`
//! FFI-like call on raw pointers); the only other `unsafe` products are the
//! AVX-512 kernels of [`super::avx512`], behind their own bounds checks. It
//! asserts, before the call, that every element the strides can reach lies
//! inside its slice, so a wrong size is a panic that names the kernel, never
//! an out-of-bounds read or write.
//!
//! Transposes are stride swaps: a row-major `r x c` matrix has strides
//! `(c, 1)`; read as its transpose it has strides `(1, c)`. matrixmultiply packs
//! both operands into cache-sized panels, so either orientation costs about
//! the same.
//!
//! A leaf: it imports no other kernel module and decides nothing; which
//! products come here is decided in [`super::products`]. It runs on the
//! calling thread (matrixmultiply's threading is compiled out).

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

#[cfg(test)]
mod tests {
    use super::gemm_strided;
    use crate::kernels::reference;
    use crate::kernels::testing::{max_rel_err, uniform, REL_TOL};

    /// Row-major and transposed views of the same storage, `beta` 0 (old
    /// `C` full of NaN, never read) and not, an empty inner dimension.
    #[test]
    fn strided_views_match_reference() {
        for (m, k, n) in [(1, 1, 1), (7, 13, 5), (33, 70, 19), (4, 0, 3)] {
            let (a, b, c0) = (uniform(1, m * k), uniform(2, k * n), uniform(3, m * n));
            for (trans_a, trans_b) in [(false, false), (true, false), (false, true), (true, true)] {
                for (alpha, beta) in [(1.0f32, 0.0f32), (0.5, 0.25)] {
                    let sa = if trans_a { (1, m) } else { (k, 1) };
                    let sb = if trans_b { (1, k) } else { (n, 1) };
                    let mut c = if beta == 0.0 { vec![f32::NAN; m * n] } else { c0.clone() };
                    gemm_strided(m, k, n, alpha, &a, sa, &b, sb, beta, &mut c, (n, 1));
                    let mut want = c0.clone();
                    reference::gemm(m, k, n, alpha, &a, trans_a, &b, trans_b, beta, &mut want);
                    let e = max_rel_err(&c, &want);
                    assert!(
                        e <= REL_TOL,
                        "{m}x{k}x{n} ta={trans_a} tb={trans_b} beta={beta}: rel. error {e:e}"
                    );
                }
            }
        }
    }

    #[test]
    #[should_panic(expected = "gemm: B")]
    fn a_stride_past_the_slice_is_a_panic_naming_the_operand() {
        let mut c = [0.0; 4];
        gemm_strided(2, 3, 2, 1.0, &[0.0; 6], (3, 1), &[0.0; 5], (2, 1), 0.0, &mut c, (2, 1));
    }

    #[test]
    #[should_panic(expected = "overlap")]
    fn overlapping_output_strides_are_a_panic() {
        let mut c = [0.0; 4];
        gemm_strided(2, 1, 2, 1.0, &[0.0; 2], (1, 1), &[0.0; 2], (2, 1), 0.0, &mut c, (1, 1));
    }
}

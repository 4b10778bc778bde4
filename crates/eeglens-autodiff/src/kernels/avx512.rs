//! The AVX-512 leaf: matrix products on row-major operands without packing,
//! for the convolutions' im2col tiles and few-row products.
//!
//! The column matrix of an im2col tile is already row-major with contiguous
//! rows, and it is consumed once, while it is in cache. A packed GEMM copies it
//! into panels first; for R-VGG's layers (16 to 64 output channels, so each
//! packed element feeds only 16 to 64 multiply-adds) that copy took about as
//! long as a third of the products. These kernels read the tile where it is.
//!
//! - [`Avx512::gemm_nn`]: `C = A B + beta C` (the forward convolution, and the
//!   stride-1 input gradient, which is one): an 8-row x 32-column block of
//!   `C` lives in 16 AVX-512 registers while the inner dimension streams
//!   past: two vector loads of `B`, eight broadcasts of `A`, sixteen FMAs.
//! - [`Avx512::gemm_nn_rows`]: the same with row `p` of `B` found through a
//!   table of row starts (the rows of a column matrix read in place from a
//!   zero-padded input).
//! - [`Avx512::gemm_nt`]: `C = A B^T + beta C` (the weight gradient, whose
//!   inner dimension is the tile's width): a 4 x 4 block of `C` as sixteen
//!   vectors of partial sums, reduced at the end.
//! - [`Avx512::dots`], [`Avx512::axpys`]: matrix-vector products (a linear
//!   layer at batch 1).
//!
//! A leaf, shaped like matrixmultiply's per-ISA kernel modules: it imports no
//! other kernel module, and its functions only compute, with no fallback.
//! They are methods of [`Avx512`], a token that exists only once the CPU has
//! been seen to have AVX-512F ([`Avx512::detect`]), so holding one is the
//! proof the `unsafe` intrinsics need; whether they run at all is decided in
//! [`super::products`]. Summation order is fixed by the shapes alone, so
//! results do not depend on threads.

/// Proof that this CPU has AVX-512F: the receiver of every kernel here.
/// Made only by [`Avx512::detect`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
// Never made off x86-64, where the kernels are stubs that cannot be reached.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub(crate) struct Avx512 {
    _detected: (),
}

impl Avx512 {
    /// The token, when the CPU has AVX-512F (read from the CPU every call;
    /// the kernel set is chosen once, in [`super::products`]).
    pub(crate) fn detect() -> Option<Self> {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f") {
            return Some(Self { _detected: () });
        }
        None
    }

    /// `C[m x n] = A[m x k] B[k x n] + beta C`, all row-major with row strides
    /// `lda`, `ldb`, `ldc`. With `beta == 0` the old `C` is not read.
    ///
    /// # Panics
    /// When an operand does not fit its slice (message names the kernel).
    pub(crate) fn gemm_nn(
        self,
        m: usize,
        k: usize,
        n: usize,
        a: &[f32],
        lda: usize,
        b: &[f32],
        ldb: usize,
        beta: f32,
        c: &mut [f32],
        ldc: usize,
    ) {
        check("gemm_nn", "A", m, k, lda, a.len());
        check("gemm_nn", "B", k, n, ldb, b.len());
        check("gemm_nn", "C", m, n, ldc, c.len());
        if m == 0 || n == 0 {
            return;
        }
        if k == 0 {
            scale(m, n, beta, c, ldc);
            return;
        }
        #[cfg(target_arch = "x86_64")]
        #[allow(unsafe_code)]
        // SAFETY: `self` proves the CPU has AVX-512F, and the checks above
        // prove that every element the kernel reads or writes,
        // A[i * lda + p], B[p * ldb + j] and C[i * ldc + j] for i < m, p < k,
        // j < n, lies inside its slice; `c` is a unique borrow.
        unsafe {
            let rows = imp::Rows::Stride(ldb);
            imp::gemm_nn(m, k, n, a.as_ptr(), lda, b.as_ptr(), rows, beta, c.as_mut_ptr(), ldc);
        }
        #[cfg(not(target_arch = "x86_64"))]
        unreachable!("an Avx512 token exists only on x86-64");
    }

    /// `C[m x n] = A[m x k] B[n x k]^T + beta C`, all row-major with row strides
    /// `lda`, `ldb`, `ldc`. With `beta == 0` the old `C` is not read.
    ///
    /// # Panics
    /// When an operand does not fit its slice (message names the kernel).
    pub(crate) fn gemm_nt(
        self,
        m: usize,
        k: usize,
        n: usize,
        a: &[f32],
        lda: usize,
        b: &[f32],
        ldb: usize,
        beta: f32,
        c: &mut [f32],
        ldc: usize,
    ) {
        check("gemm_nt", "A", m, k, lda, a.len());
        check("gemm_nt", "B", n, k, ldb, b.len());
        check("gemm_nt", "C", m, n, ldc, c.len());
        if m == 0 || n == 0 {
            return;
        }
        if k == 0 {
            scale(m, n, beta, c, ldc);
            return;
        }
        #[cfg(target_arch = "x86_64")]
        #[allow(unsafe_code)]
        // SAFETY: `self` proves the CPU has AVX-512F, and the checks above
        // prove that every element the kernel reads or writes,
        // A[i * lda + p], B[j * ldb + p] and C[i * ldc + j] for i < m, p < k,
        // j < n, lies inside its slice; `c` is a unique borrow.
        unsafe {
            let rows = imp::Rows::Stride(ldb);
            imp::gemm_nt(m, k, n, a.as_ptr(), lda, b.as_ptr(), rows, beta, c.as_mut_ptr(), ldc);
        }
        #[cfg(not(target_arch = "x86_64"))]
        unreachable!("an Avx512 token exists only on x86-64");
    }

    /// [`Self::gemm_nn`] with row `p` of `B` starting at `b[offs[p]]`
    /// (`offs.len() == k`): the rows of a convolution's im2col matrix read
    /// straight from a padded input, without building the matrix.
    ///
    /// # Panics
    /// When `offs.len() != k` or an operand does not fit its slice.
    pub(crate) fn gemm_nn_rows(
        self,
        m: usize,
        k: usize,
        n: usize,
        a: &[f32],
        lda: usize,
        b: &[f32],
        offs: &[usize],
        beta: f32,
        c: &mut [f32],
        ldc: usize,
    ) {
        assert_eq!(offs.len(), k, "gemm_nn_rows: {} row offsets for k = {k}", offs.len());
        check("gemm_nn_rows", "A", m, k, lda, a.len());
        check_table("gemm_nn_rows", offs, n, b.len());
        check("gemm_nn_rows", "C", m, n, ldc, c.len());
        if m == 0 || n == 0 {
            return;
        }
        if k == 0 {
            scale(m, n, beta, c, ldc);
            return;
        }
        #[cfg(target_arch = "x86_64")]
        #[allow(unsafe_code)]
        // SAFETY: `self` proves the CPU has AVX-512F; the checks prove that
        // A[i * lda + p], B[offs[p] + j] and C[i * ldc + j] for i < m, p < k,
        // j < n lie inside their slices, and the table has k entries.
        unsafe {
            let rows = imp::Rows::Table(offs.as_ptr());
            imp::gemm_nn(m, k, n, a.as_ptr(), lda, b.as_ptr(), rows, beta, c.as_mut_ptr(), ldc);
        }
        #[cfg(not(target_arch = "x86_64"))]
        unreachable!("an Avx512 token exists only on x86-64");
    }

    /// `out[j] = sum_p a[p] B[j, p]` for the rows `j` of `B` (row stride `ldb`,
    /// `out.len()` rows): a matrix-vector product with `B` stored row by row.
    ///
    /// # Panics
    /// When `B` does not fit its slice.
    pub(crate) fn dots(self, a: &[f32], b: &[f32], ldb: usize, out: &mut [f32]) {
        let k = a.len();
        check("dots", "B", out.len(), k, ldb, b.len());
        #[cfg(target_arch = "x86_64")]
        #[allow(unsafe_code)]
        // SAFETY: `self` proves the CPU has AVX-512F; the check proves that
        // B[j * ldb + p] for j < out.len(), p < k is inside `b`, and a[p] for
        // p < k is inside `a`.
        unsafe {
            imp::dots(k, a.as_ptr(), b.as_ptr(), ldb, out.as_mut_ptr(), out.len());
        }
        #[cfg(not(target_arch = "x86_64"))]
        unreachable!("an Avx512 token exists only on x86-64");
    }

    /// `out[j] += sum_p a[p] B[p, j]` for `j < out.len()`, `B` with row stride
    /// `ldb` (`a.len()` rows). Rows whose `a[p]` is exactly zero are skipped (a
    /// ReLU's gradient is half zeros; the sum differs only where such a row of
    /// `B` holds an infinity or NaN).
    ///
    /// # Panics
    /// When `B` does not fit its slice.
    pub(crate) fn axpys(self, a: &[f32], b: &[f32], ldb: usize, out: &mut [f32]) {
        let k = a.len();
        check("axpys", "B", k, out.len(), ldb, b.len());
        #[cfg(target_arch = "x86_64")]
        #[allow(unsafe_code)]
        // SAFETY: `self` proves the CPU has AVX-512F; the check proves that
        // B[p * ldb + j] for p < k, j < out.len() is inside `b`.
        unsafe {
            imp::axpys(k, a.as_ptr(), b.as_ptr(), ldb, out.as_mut_ptr(), out.len());
        }
        #[cfg(not(target_arch = "x86_64"))]
        unreachable!("an Avx512 token exists only on x86-64");
    }
}

/// Asserts that a `rows x cols` row-major matrix with row stride `ld` lies in
/// a slice of `len` elements.
pub(crate) fn check(kernel: &str, name: &str, rows: usize, cols: usize, ld: usize, len: usize) {
    assert!(cols <= ld || rows <= 1, "{kernel}: {name} has {cols} columns but row stride {ld}");
    let reach = if rows == 0 || cols == 0 { 0 } else { (rows - 1) * ld + cols };
    assert!(
        reach <= len,
        "{kernel}: {name} ({rows}x{cols}, row stride {ld}) needs {reach} elements, has {len}"
    );
}

/// The operands of a product over rows of bf16 pairs (`A` `m x kq` with
/// stride `lda`, row `q` of `B` the `n` values at `b[offs[q]..]`, `C` `m x n`
/// with stride `ldc`), checked as `kernel`'s. Returns whether a product is
/// left to compute: false when `C` is empty, or when `kq = 0` and `C` has been
/// zeroed.
///
/// # Panics
/// When `offs.len() != kq` or an operand does not fit its slice.
#[allow(clippy::too_many_arguments)]
pub(crate) fn rows_operands(
    kernel: &str,
    m: usize,
    kq: usize,
    n: usize,
    a: &[f32],
    lda: usize,
    b: &[f32],
    offs: &[usize],
    c: &mut [f32],
    ldc: usize,
) -> bool {
    assert_eq!(offs.len(), kq, "{kernel}: {} row offsets for kq = {kq}", offs.len());
    check(kernel, "A", m, kq, lda, a.len());
    let reach = offs.iter().map(|&o| o + n).max().unwrap_or(0);
    assert!(reach <= b.len(), "{kernel}: B rows reach element {reach}, B has {}", b.len());
    check(kernel, "C", m, n, ldc, c.len());
    if m == 0 || n == 0 {
        return false;
    }
    if kq == 0 {
        for row in c.chunks_mut(ldc).take(m) {
            row[..n].fill(0.0);
        }
        return false;
    }
    true
}

/// Checks a table of row starts: every row of `len` elements lies in `b_len`.
fn check_table(kernel: &str, offs: &[usize], len: usize, b_len: usize) {
    let reach = offs.iter().map(|&o| o + len).max().unwrap_or(0);
    assert!(reach <= b_len, "{kernel}: B rows reach element {reach}, B has {b_len}");
}

/// `C = beta C` on an `m x n` block with row stride `ldc` (an empty inner
/// dimension; exactly zero when `beta == 0`, so old NaNs do not leak).
fn scale(m: usize, n: usize, beta: f32, c: &mut [f32], ldc: usize) {
    for row in c.chunks_mut(ldc).take(m) {
        row[..n].iter_mut().for_each(|v| *v = if beta == 0.0 { 0.0 } else { beta * *v });
    }
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod imp {
    //! The AVX-512F intrinsics. Every function here is `unsafe`: the caller
    //! guarantees AVX-512F and that every index named in its docs is in bounds.

    use std::arch::x86_64::*;

    /// Where row `p` of `B` starts: `p * stride`, or an entry of a table.
    #[derive(Clone, Copy)]
    pub(super) enum Rows {
        /// Rows `stride` elements apart.
        Stride(usize),
        /// Row `p` starts at element `table[p]` (the table has a row for every index used).
        Table(*const usize),
    }

    impl Rows {
        /// The first element of row `p`.
        ///
        /// # Safety
        /// For a table, `p` is within it.
        #[inline(always)]
        unsafe fn at(self, p: usize) -> usize {
            match self {
                Rows::Stride(s) => p * s,
                // SAFETY: the caller keeps `p` inside the table.
                Rows::Table(t) => unsafe { *t.add(p) },
            }
        }
    }

    /// Rows of the `gemm_nn` register block.
    const MR: usize = 8;
    /// Columns of the `gemm_nn` register block (two vectors).
    const NR: usize = 32;
    /// Lanes of a vector.
    const L: usize = 16;

    /// Lanes `0..min(n, 16)` set.
    #[inline]
    fn mask(n: usize) -> __mmask16 {
        if n >= L {
            0xffff
        } else {
            ((1u32 << n) - 1) as __mmask16
        }
    }

    /// # Safety
    /// AVX-512F; `A[i * lda + p]`, `B[p * ldb + j]`, `C[i * ldc + j]` in bounds
    /// for `i < m`, `p < k`, `j < n`.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn gemm_nn(
        m: usize,
        k: usize,
        n: usize,
        a: *const f32,
        lda: usize,
        b: *const f32,
        ldb: Rows,
        beta: f32,
        c: *mut f32,
        ldc: usize,
    ) {
        let mut j = 0;
        while j < n {
            let w = (n - j).min(NR);
            let (m0, m1) = (mask(w), mask(w.saturating_sub(L)));
            let mut i = 0;
            while i < m {
                let rows = (m - i).min(MR);
                // SAFETY: rows i..i + rows and columns j..j + w are inside the
                // operands (caller's contract).
                unsafe {
                    let (ab, cb) = (a.add(i * lda), c.add(i * ldc + j));
                    match rows {
                        8 => block_nn::<8>(k, ab, lda, b.add(j), ldb, beta, cb, ldc, m0, m1),
                        7 => block_nn::<7>(k, ab, lda, b.add(j), ldb, beta, cb, ldc, m0, m1),
                        6 => block_nn::<6>(k, ab, lda, b.add(j), ldb, beta, cb, ldc, m0, m1),
                        5 => block_nn::<5>(k, ab, lda, b.add(j), ldb, beta, cb, ldc, m0, m1),
                        4 => block_nn::<4>(k, ab, lda, b.add(j), ldb, beta, cb, ldc, m0, m1),
                        3 => block_nn::<3>(k, ab, lda, b.add(j), ldb, beta, cb, ldc, m0, m1),
                        2 => block_nn::<2>(k, ab, lda, b.add(j), ldb, beta, cb, ldc, m0, m1),
                        _ => block_nn::<1>(k, ab, lda, b.add(j), ldb, beta, cb, ldc, m0, m1),
                    }
                }
                i += rows;
            }
            j += w;
        }
    }

    /// One `R x 32` block of `C` (columns masked by `m0`, `m1`).
    ///
    /// # Safety
    /// As [`gemm_nn`], for `R` rows and the masked columns.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn block_nn<const R: usize>(
        k: usize,
        a: *const f32,
        lda: usize,
        b: *const f32,
        ldb: Rows,
        beta: f32,
        c: *mut f32,
        ldc: usize,
        m0: __mmask16,
        m1: __mmask16,
    ) {
        let mut acc0 = [_mm512_setzero_ps(); R];
        let mut acc1 = [_mm512_setzero_ps(); R];
        for p in 0..k {
            // SAFETY: row p of B, masked to the block's columns; A[r, p] for r < R.
            unsafe {
                let bp = b.add(ldb.at(p));
                let b0 = _mm512_maskz_loadu_ps(m0, bp);
                // The second vector may start past the end when the block is
                // narrow: its lanes are all masked off, and masked lanes never fault.
                let b1 = _mm512_maskz_loadu_ps(m1, bp.wrapping_add(L));
                for r in 0..R {
                    let av = _mm512_set1_ps(*a.add(r * lda + p));
                    acc0[r] = _mm512_fmadd_ps(av, b0, acc0[r]);
                    acc1[r] = _mm512_fmadd_ps(av, b1, acc1[r]);
                }
            }
        }
        let bv = _mm512_set1_ps(beta);
        for r in 0..R {
            // SAFETY: row r of the block of C, masked to its columns.
            unsafe {
                let cr = c.add(r * ldc);
                let (mut o0, mut o1) = (acc0[r], acc1[r]);
                if beta != 0.0 {
                    o0 = _mm512_fmadd_ps(bv, _mm512_maskz_loadu_ps(m0, cr), o0);
                    o1 = _mm512_fmadd_ps(bv, _mm512_maskz_loadu_ps(m1, cr.wrapping_add(L)), o1);
                }
                _mm512_mask_storeu_ps(cr, m0, o0);
                _mm512_mask_storeu_ps(cr.wrapping_add(L), m1, o1);
            }
        }
    }

    /// Rows of `A` and of `B` in one `gemm_nt` block.
    const TR: usize = 4;

    /// # Safety
    /// AVX-512F; `A[i * lda + p]`, `B[j * ldb + p]`, `C[i * ldc + j]` in bounds
    /// for `i < m`, `p < k`, `j < n`.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn gemm_nt(
        m: usize,
        k: usize,
        n: usize,
        a: *const f32,
        lda: usize,
        b: *const f32,
        ldb: Rows,
        beta: f32,
        c: *mut f32,
        ldc: usize,
    ) {
        // Rows of B outer: four of them stay in cache while every row of A
        // passes, so B (the larger operand for a linear layer) streams once.
        let mut j = 0;
        while j < n {
            let rj = (n - j).min(TR);
            let mut i = 0;
            while i < m {
                let ri = (m - i).min(TR);
                let mut out = [[0.0f32; TR]; TR];
                // SAFETY: rows i..i + ri of A and j..j + rj of B (caller's contract).
                unsafe {
                    let ab = a.add(i * lda);
                    match (ri, rj) {
                        (4, 4) => block_nt::<4, 4>(k, ab, lda, b, ldb, j, &mut out),
                        (4, 3) => block_nt::<4, 3>(k, ab, lda, b, ldb, j, &mut out),
                        (4, 2) => block_nt::<4, 2>(k, ab, lda, b, ldb, j, &mut out),
                        (4, _) => block_nt::<4, 1>(k, ab, lda, b, ldb, j, &mut out),
                        (3, 4) => block_nt::<3, 4>(k, ab, lda, b, ldb, j, &mut out),
                        (2, 4) => block_nt::<2, 4>(k, ab, lda, b, ldb, j, &mut out),
                        (_, 4) => block_nt::<1, 4>(k, ab, lda, b, ldb, j, &mut out),
                        (3, 3) => block_nt::<3, 3>(k, ab, lda, b, ldb, j, &mut out),
                        (3, 2) => block_nt::<3, 2>(k, ab, lda, b, ldb, j, &mut out),
                        (3, _) => block_nt::<3, 1>(k, ab, lda, b, ldb, j, &mut out),
                        (2, 3) => block_nt::<2, 3>(k, ab, lda, b, ldb, j, &mut out),
                        (_, 3) => block_nt::<1, 3>(k, ab, lda, b, ldb, j, &mut out),
                        (2, 2) => block_nt::<2, 2>(k, ab, lda, b, ldb, j, &mut out),
                        (2, _) => block_nt::<2, 1>(k, ab, lda, b, ldb, j, &mut out),
                        (_, 2) => block_nt::<1, 2>(k, ab, lda, b, ldb, j, &mut out),
                        _ => block_nt::<1, 1>(k, ab, lda, b, ldb, j, &mut out),
                    }
                }
                for (r, row) in out.iter().enumerate().take(ri) {
                    for (s, &v) in row.iter().enumerate().take(rj) {
                        // SAFETY: C[i + r, j + s] with r < ri, s < rj is in bounds.
                        unsafe {
                            let cp = c.add((i + r) * ldc + j + s);
                            *cp = if beta == 0.0 { v } else { v + beta * *cp };
                        }
                    }
                }
                i += ri;
            }
            j += rj;
        }
    }

    /// Dot products of `RA` rows of `A` with `RB` rows of `B`, 16 partial sums each.
    ///
    /// # Safety
    /// As [`gemm_nt`], for `RA` rows of `A` and `RB` rows of `B`.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn block_nt<const RA: usize, const RB: usize>(
        k: usize,
        a: *const f32,
        lda: usize,
        b: *const f32,
        ldb: Rows,
        j: usize,
        out: &mut [[f32; TR]; TR],
    ) {
        let mut acc = [[_mm512_setzero_ps(); RB]; RA];
        // Row starts once, outside the loop over k.
        // SAFETY: rows j..j + RB of B and 0..RA of A exist (caller's contract).
        let bp: [*const f32; RB] = std::array::from_fn(|s| unsafe { b.add(ldb.at(j + s)) });
        let ap: [*const f32; RA] = std::array::from_fn(|r| a.wrapping_add(r * lda));
        let full = k / L * L;
        let mut p = 0;
        while p < full {
            // SAFETY: elements p..p + 16 < k of the block's rows.
            unsafe {
                let bv: [__m512; RB] = std::array::from_fn(|s| _mm512_loadu_ps(bp[s].add(p)));
                for (r, row) in acc.iter_mut().enumerate() {
                    let av = _mm512_loadu_ps(ap[r].add(p));
                    for (s, cell) in row.iter_mut().enumerate() {
                        *cell = _mm512_fmadd_ps(av, bv[s], *cell);
                    }
                }
            }
            p += L;
        }
        if p < k {
            let mk = mask(k - p);
            // SAFETY: elements p..k of the block's rows, the rest masked off.
            unsafe {
                let bv: [__m512; RB] = std::array::from_fn(|s| _mm512_maskz_loadu_ps(mk, bp[s].add(p)));
                for (r, row) in acc.iter_mut().enumerate() {
                    let av = _mm512_maskz_loadu_ps(mk, ap[r].add(p));
                    for (s, cell) in row.iter_mut().enumerate() {
                        *cell = _mm512_fmadd_ps(av, bv[s], *cell);
                    }
                }
            }
        }
        for (r, row) in acc.iter().enumerate() {
            for (s, cell) in row.iter().enumerate() {
                out[r][s] = _mm512_reduce_add_ps(*cell);
            }
        }
    }

    /// Rows of `B` per pass of [`dots`]: four independent sums in flight.
    const DR: usize = 4;

    /// # Safety
    /// AVX-512F; `a[p]`, `B[j * ldb + p]` and `out[j]` in bounds for `p < k`, `j < rows`.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn dots(
        k: usize,
        a: *const f32,
        b: *const f32,
        ldb: usize,
        out: *mut f32,
        rows: usize,
    ) {
        let mut j = 0;
        while j + DR <= rows {
            let mut acc = [_mm512_setzero_ps(); DR];
            let mut p = 0;
            while p < k {
                let mk = mask(k - p);
                // SAFETY: elements p..p + 16 (masked to k) of a and of rows j..j + 4.
                unsafe {
                    let av = _mm512_maskz_loadu_ps(mk, a.add(p));
                    for (r, acc) in acc.iter_mut().enumerate() {
                        *acc = _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(mk, b.add((j + r) * ldb + p)), *acc);
                    }
                }
                p += L;
            }
            for (r, acc) in acc.iter().enumerate() {
                // SAFETY: j + r < rows.
                unsafe { *out.add(j + r) = _mm512_reduce_add_ps(*acc) };
            }
            j += DR;
        }
        while j < rows {
            let mut acc = _mm512_setzero_ps();
            let mut p = 0;
            while p < k {
                let mk = mask(k - p);
                // SAFETY: elements p..p + 16 (masked to k) of a and of row j.
                unsafe {
                    acc = _mm512_fmadd_ps(
                        _mm512_maskz_loadu_ps(mk, a.add(p)),
                        _mm512_maskz_loadu_ps(mk, b.add(j * ldb + p)),
                        acc,
                    );
                }
                p += L;
            }
            // SAFETY: j < rows.
            unsafe { *out.add(j) = _mm512_reduce_add_ps(acc) };
            j += 1;
        }
    }

    /// # Safety
    /// AVX-512F; `a[p]`, `B[p * ldb + j]` and `out[j]` in bounds for `p < k`, `j < width`.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn axpys(
        k: usize,
        a: *const f32,
        b: *const f32,
        ldb: usize,
        out: *mut f32,
        width: usize,
    ) {
        for p in 0..k {
            // SAFETY: p < k.
            let ap = unsafe { *a.add(p) };
            if ap == 0.0 {
                continue;
            }
            let av = _mm512_set1_ps(ap);
            let mut j = 0;
            while j < width {
                let mj = mask(width - j);
                // SAFETY: elements j..j + 16 (masked to width) of row p of B and of out.
                unsafe {
                    let o = _mm512_maskz_loadu_ps(mj, out.add(j));
                    let o = _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(mj, b.add(p * ldb + j)), o);
                    _mm512_mask_storeu_ps(out.add(j), mj, o);
                }
                j += L;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Avx512;
    use crate::kernels::reference;
    use crate::kernels::testing::{max_rel_err, uniform, REL_TOL};

    /// The token, or `None` after saying that test `what` is skipped.
    fn token(what: &str) -> Option<Avx512> {
        let t = Avx512::detect();
        if t.is_none() {
            eprintln!("{what}: skipped, this CPU has no AVX-512F");
        }
        t
    }

    /// Both register blocks and every remainder (rows 1..=9 around the 8-row
    /// and 4-row blocks, columns around 16 and 32, inner sizes around 16),
    /// against the reference; the table form reads the same rows as the
    /// strided one and gives the same bits.
    #[test]
    fn products_match_reference_on_every_remainder() {
        let Some(t) = token("products_match_reference_on_every_remainder") else { return };
        for m in [1, 3, 4, 5, 8, 9] {
            for k in [0, 1, 15, 16, 17, 40] {
                for n in [1, 5, 16, 17, 32, 33, 70] {
                    let (a, b_nn, b_nt) = (uniform(1, m * k), uniform(2, k * n), uniform(3, n * k));
                    let c0 = uniform(4, m * n);
                    for beta in [0.0f32, 0.5] {
                        let mut c = c0.clone();
                        t.gemm_nn(m, k, n, &a, k, &b_nn, n, beta, &mut c, n);
                        let mut want = c0.clone();
                        reference::gemm(m, k, n, 1.0, &a, false, &b_nn, false, beta, &mut want);
                        let e = max_rel_err(&c, &want);
                        assert!(e <= REL_TOL, "gemm_nn {m}x{k}x{n} beta {beta}: rel. error {e:e}");

                        let offs: Vec<usize> = (0..k).map(|p| p * n).collect();
                        let mut c_rows = c0.clone();
                        t.gemm_nn_rows(m, k, n, &a, k, &b_nn, &offs, beta, &mut c_rows, n);
                        assert!(
                            c_rows.iter().zip(&c).all(|(x, y)| x.to_bits() == y.to_bits()),
                            "gemm_nn_rows"
                        );

                        let mut c = c0.clone();
                        t.gemm_nt(m, k, n, &a, k, &b_nt, k, beta, &mut c, n);
                        let mut want = c0.clone();
                        reference::gemm(m, k, n, 1.0, &a, false, &b_nt, true, beta, &mut want);
                        let e = max_rel_err(&c, &want);
                        assert!(e <= REL_TOL, "gemm_nt {m}x{k}x{n} beta {beta}: rel. error {e:e}");
                    }
                }
            }
        }
    }

    #[test]
    fn an_empty_inner_dimension_scales_c_and_drops_old_nans() {
        let Some(t) = token("an_empty_inner_dimension_scales_c_and_drops_old_nans") else { return };
        let mut c = [1.0, 2.0, f32::NAN, 4.0];
        t.gemm_nn(2, 0, 2, &[], 0, &[], 2, 0.5, &mut c, 2);
        assert_eq!(&c[..2], &[0.5, 1.0]);
        t.gemm_nt(2, 0, 2, &[], 0, &[], 0, 0.0, &mut c, 2);
        assert_eq!(c, [0.0; 4]);
    }

    #[test]
    fn axpys_skips_exact_zeros() {
        let Some(t) = token("axpys_skips_exact_zeros") else { return };
        // Row 0 of B is NaN, but its weight is exactly zero: it is not read.
        let b = [f32::NAN, f32::NAN, 1.0, 2.0];
        let mut out = [1.0, 1.0];
        t.axpys(&[0.0, 2.0], &b, 2, &mut out);
        assert_eq!(out, [3.0, 5.0]);
    }

    #[test]
    fn a_row_table_past_the_slice_is_a_panic_naming_the_kernel() {
        let Some(t) = token("a_row_table_past_the_slice_is_a_panic_naming_the_kernel") else { return };
        let err = std::panic::catch_unwind(|| {
            let mut c = [0.0; 2];
            t.gemm_nn_rows(1, 2, 2, &[1.0, 1.0], 2, &[0.0; 4], &[0, 3], 0.0, &mut c, 2);
        })
        .expect_err("row 1 of B runs past the slice");
        let msg = err.downcast_ref::<String>().map_or("", String::as_str);
        assert!(msg.starts_with("gemm_nn_rows: B rows reach element 5"), "{msg}");
    }
}

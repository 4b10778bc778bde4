//! The AMX leaf: the bf16 inference product on Intel's tile unit
//! (`tdpbf16ps`), written in inline assembly (the AMX intrinsics are not
//! stable in Rust).
//!
//! `tdpbf16ps` multiplies a tile of 16 rows x 32 bf16 values (`A`: 16 rows
//! of 16 bf16 pairs along the inner dimension) by a tile of 16 rows x 16
//! pairs (`B`: row `q` holds pair `q` of the inner dimension for 16 output
//! columns) and adds the products into a 16 x 16 fp32 tile of `C`: 8192
//! multiply-adds per instruction. The operands are the layout of
//! [`super::avx512bf16`] (pairs of consecutive inner indices, the first in
//! the low half, bit patterns in `f32` slots), so [`Amx::gemm_nn_rows`] is a
//! drop-in for [`super::avx512bf16::Avx512Bf16::gemm_nn_rows`].
//!
//! # Algorithm and memory layout
//! A tile load reads 16 rows at one stride, and every row must lie in
//! memory that may be read. Three forms of the product meet that:
//!
//! - [`Amx::gemm_nn_planes`], the convolutions': `B` is planes of channel
//!   pairs (the padded layout), so at one tap 16 consecutive pair planes
//!   are 16 rows at a stride of one plane, and the B tiles are loaded in
//!   place, tap by tap; only `A` (the weights, small) is copied per call;
//! - [`Amx::gemm_panels`], the linear layers': activations and weight
//!   panels padded to whole tiles by their owner, both loaded in place;
//! - [`Amx::gemm_nn_rows`], any table of row starts (and the fallback of
//!   the other two): both operands copied into zero-padded per-thread
//!   buffers first, as follows.
//!
//! The copies of [`Amx::gemm_nn_rows`]:
//!
//! - `A` (`m x kq` pairs) into blocks of 16 rows x 16 pairs (1 KiB each,
//!   block `(i, kb)` at `(i kb_n + kb) 256`), `m` and `kq` rounded up to 16
//!   with zeros;
//! - for each panel of 32 output columns, `B` (the `kq` rows found through the
//!   table of row starts) into `kq` (rounded up to 16) rows of 32 pairs, zeros
//!   past `n`: a B tile is 16 of those rows, columns 0-15 or 16-31, at a
//!   stride of 128 bytes.
//!
//! The register block is 32 rows x 32 columns of `C` in four accumulator
//! tiles (`tmm0`-`tmm3`), fed per 16-pair step by two A tiles (`tmm4`,
//! `tmm5`) and two B tiles (`tmm6`, `tmm7`): four `tdpbf16ps` per four loads.
//! A last lone block of 16 rows uses two accumulators. Accumulators go
//! through a small buffer into `C`, dropping the padding. Zero padding adds
//! exact zeros, so the result does not depend on it.
//!
//! The tile configuration (palette 1, eight tiles of 16 rows x 64 bytes;
//! in the planes form with `cp < 16` pair planes, A tiles of `cp` pairs and
//! B tiles of `cp` rows) is
//! loaded (`ldtilecfg`) at the start of each call on the thread that runs it
//! and released (`tilerelease`) at its end: rayon workers each configure
//! their own tiles, and no tile state outlives a call.
//!
//! # Arithmetic
//! Products of bf16 values are exact in fp32 and summed in fp32 (round to
//! nearest even); `tdpbf16ps` treats fp32/bf16 subnormal inputs and outputs
//! as zero, whatever MXCSR says. The order of the fp32 sums is the
//! hardware's, so results differ in the last bits from the `vdpbf16ps`
//! product; both are within the bound of `conv/bf16.rs`.
//!
//! # Availability
//! Linux gives a process the tile state only on request
//! (`arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA)`; without it the
//! first tile instruction is a SIGILL). [`Amx::detect`] checks CPUID (AMX-TILE,
//! AMX-BF16), the OS's XCR0 (tile state enabled) and makes that request,
//! once per process. Elsewhere (another OS or architecture) there is no token.
//!
//! A leaf like [`super::avx512bf16`]: it imports no other kernel module and
//! only computes; whether it runs is decided in [`super::products`].

use std::sync::OnceLock;

use super::avx512::{check, rows_operands};

/// Proof that this CPU has AMX-TILE and AMX-BF16 and that this process may
/// use the tiles. Made only by [`Amx::detect`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(not(all(target_arch = "x86_64", target_os = "linux")), allow(dead_code))]
pub(crate) struct Amx {
    _detected: (),
}

/// What [`Amx::detect`] found, once per process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AmxSupport {
    /// the tiles can run
    Ready,
    /// the CPU (or this build's target) has no AMX-TILE and AMX-BF16
    NoCpu,
    /// the CPU has AMX but the operating system does not enable its state
    /// (XCR0), or refused this process the permission
    Refused,
}

impl Amx {
    /// The token, when the CPU has AMX-TILE and AMX-BF16 and the process got
    /// the tile state (asked for once per process, on the first call).
    pub(crate) fn detect() -> Option<Self> {
        (Self::support() == AmxSupport::Ready).then_some(Self { _detected: () })
    }

    /// Whether AMX can run here, and if not, why (see [`AmxSupport`]).
    pub(crate) fn support() -> AmxSupport {
        static SUPPORT: OnceLock<AmxSupport> = OnceLock::new();
        *SUPPORT.get_or_init(imp::enable)
    }

    /// `C[m x n] = A B`, overwriting `C` (row stride `ldc`): `A` is `m` rows of
    /// `kq` bf16 pairs with row stride `lda`; row `q` of `B` is the `n` pairs
    /// at `b[offs[q]..]` (both operands bit patterns in `f32` slots). Each
    /// output is an fp32 sum of `2 kq` products of bf16 values. As
    /// [`super::avx512bf16::Avx512Bf16::gemm_nn_rows`].
    ///
    /// # Panics
    /// When `offs.len() != kq` or an operand does not fit its slice.
    pub(crate) fn gemm_nn_rows(
        self,
        m: usize,
        kq: usize,
        n: usize,
        a: &[f32],
        lda: usize,
        b: &[f32],
        offs: &[usize],
        c: &mut [f32],
        ldc: usize,
    ) {
        if !rows_operands("gemm_nn_rows_amx", m, kq, n, a, lda, b, offs, c, ldc) {
            return;
        }
        #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
        imp::gemm_nn_rows(m, kq, n, a, lda, b, offs, c, ldc);
        #[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
        unreachable!("an Amx token exists only on x86-64 Linux");
    }

    /// [`Self::gemm_nn_rows`] for a `B` in planes, as the padded layout of a
    /// convolution's channel pairs has it: `kq = cp kk` rows, row
    /// `q = p kk + t` at `offs[q] = p plane + offs[t]` (pair plane `p`, tap
    /// `t`). When the `cp` planes split into tiles of 16 (or `cp <= 16`), the
    /// B tiles are loaded straight from `b` (16 or `cp` planes at one tap, a
    /// row stride of `plane`), and only `A` is copied: no column matrix is
    /// built. Columns whose tile would read past `b`, and other `cp`, take
    /// the packed path.
    ///
    /// # Panics
    /// As [`Self::gemm_nn_rows`], and when `offs` is not of that form.
    pub(crate) fn gemm_nn_planes(
        self,
        m: usize,
        kq: usize,
        n: usize,
        a: &[f32],
        lda: usize,
        b: &[f32],
        offs: &[usize],
        c: &mut [f32],
        ldc: usize,
        (kk, plane): (usize, usize),
    ) {
        const K: &str = "gemm_nn_planes_amx";
        assert!(kk > 0 && kq % kk == 0, "{K}: {kq} rows are not planes of {kk} taps");
        let cp = kq / kk;
        assert_eq!(offs.len(), kq, "{K}: {} row offsets for kq = {kq}", offs.len());
        for (q, &o) in offs.iter().enumerate() {
            assert_eq!(
                o,
                (q / kk) * plane + offs[q % kk],
                "{K}: row {q} is not in plane {} at tap {}",
                q / kk,
                q % kk
            );
        }
        let direct = cp > 0 && (cp <= TILE_PAIRS || cp % TILE_PAIRS == 0);
        let reach = offs.iter().copied().max().unwrap_or(0);
        // Column blocks of 32 whose every tile row lies inside `b`.
        let mut jd = 0;
        if direct && m > 0 {
            while jd < n && reach + jd + 2 * TILE_PAIRS <= b.len() {
                jd += 2 * TILE_PAIRS;
            }
            jd = jd.min(n);
        }
        if jd > 0 {
            check(K, "A", m, kq, lda, a.len());
            check(K, "C", m, n, ldc, c.len());
            #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
            imp::gemm_planes(m, cp, kk, jd, a, lda, b, &offs[..kk], plane, c, ldc);
            #[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
            unreachable!("an Amx token exists only on x86-64 Linux");
        }
        if jd < n {
            self.gemm_nn_rows(m, kq, n - jd, a, lda, &b[jd..], offs, &mut c[jd..], ldc);
        }
    }

    /// A linear layer's product over weight panels: `C[m x d_out] = A W^T`
    /// with `A` `m` rows of `kqp` pairs (row stride `kqp`, a multiple of 16,
    /// pairs past the input's zero) and `panels` the weights in panels of
    /// `kqp` rows x 32 output columns (rows past the input zero,
    /// [`super::linear::LinearWeightsBf16`]). Both are tile-loaded in place:
    /// `A` rows at a stride of `4 kqp` bytes (a last partial block of 16
    /// rows is copied, zero-padded), panels at 128 bytes.
    ///
    /// # Panics
    /// When `kqp` is not a multiple of 16 or an operand does not fit its slice.
    pub(crate) fn gemm_panels(
        self,
        m: usize,
        kqp: usize,
        a: &[f32],
        panels: &[f32],
        d_out: usize,
        c: &mut [f32],
        ldc: usize,
    ) {
        const K: &str = "gemm_panels_amx";
        assert!(kqp % TILE_PAIRS == 0, "{K}: {kqp} pairs per row, not a multiple of {TILE_PAIRS}");
        check(K, "A", m, kqp, kqp, a.len());
        let n_panels = d_out.div_ceil(2 * TILE_PAIRS);
        assert!(
            panels.len() >= n_panels * kqp * 2 * TILE_PAIRS,
            "{K}: {} panel elements for {d_out} columns",
            panels.len()
        );
        check(K, "C", m, d_out, ldc, c.len());
        if m == 0 || d_out == 0 {
            return;
        }
        if kqp == 0 {
            for row in c.chunks_mut(ldc).take(m) {
                row[..d_out].fill(0.0);
            }
            return;
        }
        #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
        imp::gemm_panels(m, kqp, a, panels, d_out, c, ldc);
        #[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
        unreachable!("an Amx token exists only on x86-64 Linux");
    }
}

/// Pairs of a tile row (64 bytes), and rows of a full tile.
const TILE_PAIRS: usize = 16;

#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
mod imp {
    use super::AmxSupport;

    pub(super) fn enable() -> AmxSupport {
        AmxSupport::NoCpu
    }
}

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
#[allow(unsafe_code)]
mod imp {
    //! The tile instructions, in `asm!`. The compiler never uses the tile
    //! registers itself (no AMX target feature is enabled for Rust code), so
    //! their state carries from one `asm!` block to the next on a thread.

    use super::AmxSupport;
    use std::arch::asm;
    use std::arch::x86_64::{__cpuid, __cpuid_count};
    use std::cell::RefCell;

    /// Rows of a tile, and pairs (32-bit elements) of a tile row.
    const T: usize = 16;
    /// Output columns of a packed `B` panel: two tiles side by side.
    const NB: usize = 2 * T;
    /// `u32`s of one tile (1 KiB).
    const TILE: usize = T * T;

    /// CPUID, XCR0, then `arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA)`.
    pub(super) fn enable() -> AmxSupport {
        // SAFETY: CPUID exists on every x86-64 CPU; leaf 7 is read only when
        // leaf 0 says it exists.
        #[allow(unused_unsafe)]
        let (l1, l7) = unsafe {
            if __cpuid(0).eax < 7 {
                return AmxSupport::NoCpu;
            }
            (__cpuid(1), __cpuid_count(7, 0))
        };
        // CPUID.(7, 0):EDX bit 24 AMX-TILE, bit 22 AMX-BF16.
        if l7.edx & (1 << 24) == 0 || l7.edx & (1 << 22) == 0 {
            return AmxSupport::NoCpu;
        }
        // CPUID.1:ECX bit 27 OSXSAVE: XGETBV may run and XCR0 says which
        // state the OS manages; bits 17 (XTILECFG) and 18 (XTILEDATA).
        if l1.ecx & (1 << 27) == 0 {
            return AmxSupport::Refused;
        }
        let (lo, _hi): (u32, u32);
        // SAFETY: XGETBV with ECX = 0 is valid when OSXSAVE is set (checked).
        unsafe {
            asm!("xgetbv", in("ecx") 0u32, out("eax") lo, out("edx") _hi, options(nomem, nostack, preserves_flags));
        }
        if lo & (3 << 17) != 3 << 17 {
            return AmxSupport::Refused;
        }
        const SYS_ARCH_PRCTL: i64 = 158;
        const ARCH_REQ_XCOMP_PERM: i64 = 0x1023;
        const XFEATURE_XTILEDATA: i64 = 18;
        let ret: i64;
        // SAFETY: the arch_prctl system call with two integer arguments; it
        // only changes this process's permission for the tile state. The
        // kernel clobbers rcx and r11.
        unsafe {
            asm!(
                "syscall",
                inlateout("rax") SYS_ARCH_PRCTL => ret,
                in("rdi") ARCH_REQ_XCOMP_PERM,
                in("rsi") XFEATURE_XTILEDATA,
                lateout("rcx") _,
                lateout("r11") _,
                options(nostack),
            );
        }
        if ret == 0 {
            AmxSupport::Ready
        } else {
            AmxSupport::Refused
        }
    }

    /// The 64-byte tile configuration of `ldtilecfg`: palette 1, tiles
    /// 0-7 of 16 rows x 64 bytes.
    #[derive(Clone, Copy)]
    #[repr(C, align(64))]
    struct TileConfig {
        palette: u8,
        start_row: u8,
        reserved: [u8; 14],
        colsb: [u16; 16],
        rows: [u8; 16],
    }

    const CONFIG: TileConfig = TileConfig {
        palette: 1,
        start_row: 0,
        reserved: [0; 14],
        colsb: [64, 64, 64, 64, 64, 64, 64, 64, 0, 0, 0, 0, 0, 0, 0, 0],
        rows: [16, 16, 16, 16, 16, 16, 16, 16, 0, 0, 0, 0, 0, 0, 0, 0],
    };

    /// Four accumulator tiles as they leave the tile unit: tile `t` at `256 t`,
    /// rows of 16 `f32`s.
    #[repr(C, align(64))]
    struct Acc([f32; 4 * TILE]);

    thread_local! {
        /// This thread's packed `A` and `B` (grown, never shrunk).
        static PACKED: RefCell<(Vec<u32>, Vec<u32>)> = const { RefCell::new((Vec::new(), Vec::new())) };
    }

    /// The product (see the module header). The caller has checked the
    /// operands against their slices, `m, n, kq >= 1`, and holds an `Amx` token.
    pub(super) fn gemm_nn_rows(
        m: usize,
        kq: usize,
        n: usize,
        a: &[f32],
        lda: usize,
        b: &[f32],
        offs: &[usize],
        c: &mut [f32],
        ldc: usize,
    ) {
        let kb_n = kq.div_ceil(T);
        let mb_n = m.div_ceil(T);
        PACKED.with(|p| {
            let (ap, bp) = &mut *p.borrow_mut();
            pack_a(m, kq, a, lda, kb_n, mb_n, ap);
            bp.resize(kb_n * T * NB, 0);
            let mut acc = Acc([0.0; 4 * TILE]);
            // SAFETY: the token proves AMX-TILE and AMX-BF16 and the
            // permission; the configuration is a valid palette-1 one.
            unsafe { asm!("ldtilecfg [{}]", in(reg) &CONFIG, options(nostack, readonly, preserves_flags)) };
            let mut j0 = 0;
            while j0 < n {
                let w = NB.min(n - j0);
                pack_b(kq, j0, w, b, offs, bp);
                let mut i = 0;
                while i < mb_n {
                    let two = i + 1 < mb_n;
                    let a0 = ap[i * kb_n * TILE..].as_ptr();
                    // SAFETY: A blocks i (and i + 1 when `two`) hold kb_n
                    // tiles each, B kb_n tile rows of NB pairs; acc holds
                    // four tiles. Every load and store stays inside them.
                    unsafe {
                        if two {
                            block2(kb_n, a0, a0.add(kb_n * TILE), bp.as_ptr(), PACKED_STRIDES, &mut acc);
                        } else {
                            block1(kb_n, a0, bp.as_ptr(), PACKED_STRIDES, &mut acc);
                        }
                    }
                    let rows = (m - i * T).min(if two { 2 * T } else { T });
                    for r in 0..rows {
                        let (ti, rr) = (2 * (r / T), r % T);
                        let crow = &mut c[(i * T + r) * ldc + j0..][..w];
                        let lo = w.min(T);
                        crow[..lo].copy_from_slice(&acc.0[ti * TILE + rr * T..][..lo]);
                        if w > T {
                            crow[T..].copy_from_slice(&acc.0[(ti + 1) * TILE + rr * T..][..w - T]);
                        }
                    }
                    i += if two { 2 } else { 1 };
                }
                j0 += w;
            }
            // SAFETY: as ldtilecfg; releases this thread's tile state.
            unsafe { asm!("tilerelease", options(nostack, nomem, preserves_flags)) };
        });
    }

    /// The product in planes (see [`super::Amx::gemm_nn_planes`]) for output
    /// columns `0..n`, every B tile row of which lies inside `b` (checked by
    /// the caller, as are `A`, `C`, the form of the offsets, `m >= 1`, and
    /// `cp <= 16` or `cp % 16 == 0`). `taps` are the `kk` tap offsets.
    ///
    /// K steps go tap by tap, and within a tap by blocks of `kt = min(cp, 16)`
    /// pair planes: step `(t, pb)` multiplies A's pairs `pb kt..` at tap `t`
    /// (copied into 16-row x `kt` blocks, zero rows past `m`) by the B tile
    /// of `kt` rows at `b + (pb kt) plane + taps[t] + j`, row stride `plane`.
    pub(super) fn gemm_planes(
        m: usize,
        cp: usize,
        kk: usize,
        n: usize,
        a: &[f32],
        lda: usize,
        b: &[f32],
        taps: &[usize],
        plane: usize,
        c: &mut [f32],
        ldc: usize,
    ) {
        let kt = cp.min(T);
        let pbn = cp / kt;
        let steps = kk * pbn;
        let mb_n = m.div_ceil(T);
        let a_block = T * kt;
        // The configuration for these tiles: A 16 rows x kt pairs, B kt rows.
        let mut cfg = CONFIG;
        for t in 4..6 {
            cfg.colsb[t] = (4 * kt) as u16;
        }
        for t in 6..8 {
            cfg.rows[t] = kt as u8;
        }
        // Byte offset of each step's B tile from the column block's start.
        let step_offs: Vec<usize> =
            (0..kk).flat_map(|t| (0..pbn).map(move |pb| 4 * (pb * kt * plane + taps[t]))).collect();
        PACKED.with(|p| {
            let (ap, _) = &mut *p.borrow_mut();
            ap.clear();
            ap.resize(mb_n * steps * a_block, 0);
            for r in 0..m {
                let (ib, rr) = (r / T, r % T);
                let row = &a[r * lda..][..cp * kk];
                for t in 0..kk {
                    for pb in 0..pbn {
                        let dst = &mut ap[(ib * steps + t * pbn + pb) * a_block + rr * kt..][..kt];
                        for (u, d) in dst.iter_mut().enumerate() {
                            *d = row[(pb * kt + u) * kk + t].to_bits();
                        }
                    }
                }
            }
            let mut acc = Acc([0.0; 4 * TILE]);
            // SAFETY: the token proves AMX-TILE and AMX-BF16 and the
            // permission; the configuration is a valid palette-1 one
            // (A 16 x 4 kt bytes, B kt x 64 bytes, kt <= 16).
            unsafe { asm!("ldtilecfg [{}]", in(reg) &cfg, options(nostack, readonly, preserves_flags)) };
            let mut j0 = 0;
            while j0 < n {
                let w = NB.min(n - j0);
                let bj = b[j0..].as_ptr().cast::<u32>();
                let mut i = 0;
                while i < mb_n {
                    let two = i + 1 < mb_n;
                    let a0 = ap[i * steps * a_block..].as_ptr();
                    let rows = (m - i * T).min(if two { 2 * T } else { T });
                    // A whole block of C (16 or 32 rows, 32 columns) is
                    // stored straight into `c`; a ragged one through `acc`
                    // (rows of 32, a stride of 128 bytes).
                    let whole = w == NB && rows == if two { 2 * T } else { T };
                    let (c0, sc) = if whole {
                        (c[i * T * ldc + j0..].as_mut_ptr(), 4 * ldc)
                    } else {
                        (acc.0.as_mut_ptr(), 4 * NB)
                    };
                    // SAFETY: A blocks i (and i + 1) hold `steps` blocks of
                    // 16 x kt pairs; each step's B tile (kt rows of 32 pairs
                    // at a stride of `plane`) lies inside `b` (the caller's
                    // check); the C block (rows of 32 floats, `sc` bytes
                    // apart) lies in `c` when whole, in `acc` otherwise.
                    unsafe {
                        planes_block(
                            two,
                            steps,
                            (a0, a0.wrapping_add(steps * a_block), 4 * kt),
                            bj,
                            step_offs.as_ptr(),
                            4 * plane,
                            (c0, c0.wrapping_byte_add(T * sc), sc),
                        );
                    }
                    if !whole {
                        for r in 0..rows {
                            c[(i * T + r) * ldc + j0..][..w].copy_from_slice(&acc.0[r * NB..][..w]);
                        }
                    }
                    i += if two { 2 } else { 1 };
                }
                j0 += w;
            }
            // SAFETY: as ldtilecfg; releases this thread's tile state.
            unsafe { asm!("tilerelease", options(nostack, nomem, preserves_flags)) };
        });
    }

    /// One or two row blocks by 32 columns over `steps` K steps, B tiles
    /// read in place: `C` tiles 0 and 1 (and 2 and 3 when `two`) stored as
    /// rows of 32 floats, `sc` bytes apart, from `c0` (and `c1`).
    ///
    /// # Safety
    /// Tiles configured for these shapes on this thread; `a0` (and `a1` when
    /// `two`) point at `steps` consecutive A blocks of `a_row` bytes per row,
    /// `b + step_offs[s]` (bytes) at a B tile whose rows (`b_row` bytes apart,
    /// 128 bytes each) are inside `b`'s slice, for each of the `steps` steps.
    #[allow(clippy::too_many_arguments)]
    unsafe fn planes_block(
        two: bool,
        steps: usize,
        (a0, a1, a_row): (*const u32, *const u32, usize),
        b: *const u32,
        step_offs: *const usize,
        b_row: usize,
        (c0, c1, sc): (*mut f32, *mut f32, usize),
    ) {
        let a_step = T * a_row;
        // SAFETY: the caller's contract.
        unsafe {
            if two {
                asm!(
                    "tilezero tmm0",
                    "tilezero tmm1",
                    "tilezero tmm2",
                    "tilezero tmm3",
                    "2:",
                    "mov {p}, [{tab}]",
                    "add {p}, {b}",
                    "tileloadd tmm4, [{a0} + {sa}*1]",
                    "tileloadd tmm6, [{p} + {sb}*1]",
                    "tileloadd tmm7, [{p} + {sb}*1 + 64]",
                    "tdpbf16ps tmm0, tmm4, tmm6",
                    "tdpbf16ps tmm1, tmm4, tmm7",
                    "tileloadd tmm5, [{a1} + {sa}*1]",
                    "tdpbf16ps tmm2, tmm5, tmm6",
                    "tdpbf16ps tmm3, tmm5, tmm7",
                    "add {a0}, {astep}",
                    "add {a1}, {astep}",
                    "add {tab}, 8",
                    "dec {k}",
                    "jnz 2b",
                    "tilestored [{c0} + {sc}*1], tmm0",
                    "tilestored [{c0} + {sc}*1 + 64], tmm1",
                    "tilestored [{c1} + {sc}*1], tmm2",
                    "tilestored [{c1} + {sc}*1 + 64], tmm3",
                    a0 = inout(reg) a0 => _,
                    a1 = inout(reg) a1 => _,
                    tab = inout(reg) step_offs => _,
                    k = inout(reg) steps => _,
                    p = out(reg) _,
                    b = in(reg) b,
                    sa = in(reg) a_row,
                    sb = in(reg) b_row,
                    astep = in(reg) a_step,
                    c0 = in(reg) c0,
                    c1 = in(reg) c1,
                    sc = in(reg) sc,
                    options(nostack),
                );
            } else {
                let _ = (a1, c1);
                asm!(
                    "tilezero tmm0",
                    "tilezero tmm1",
                    "2:",
                    "mov {p}, [{tab}]",
                    "add {p}, {b}",
                    "tileloadd tmm4, [{a0} + {sa}*1]",
                    "tileloadd tmm6, [{p} + {sb}*1]",
                    "tileloadd tmm7, [{p} + {sb}*1 + 64]",
                    "tdpbf16ps tmm0, tmm4, tmm6",
                    "tdpbf16ps tmm1, tmm4, tmm7",
                    "add {a0}, {astep}",
                    "add {tab}, 8",
                    "dec {k}",
                    "jnz 2b",
                    "tilestored [{c0} + {sc}*1], tmm0",
                    "tilestored [{c0} + {sc}*1 + 64], tmm1",
                    a0 = inout(reg) a0 => _,
                    tab = inout(reg) step_offs => _,
                    k = inout(reg) steps => _,
                    p = out(reg) _,
                    b = in(reg) b,
                    sa = in(reg) a_row,
                    sb = in(reg) b_row,
                    astep = in(reg) a_step,
                    c0 = in(reg) c0,
                    sc = in(reg) sc,
                    options(nostack),
                );
            }
        }
    }

    /// `A` (`m x kq` pairs, row stride `lda`) into 16 x 16 blocks, zero-padded.
    fn pack_a(m: usize, kq: usize, a: &[f32], lda: usize, kb_n: usize, mb_n: usize, ap: &mut Vec<u32>) {
        ap.clear();
        ap.resize(mb_n * kb_n * TILE, 0);
        for r in 0..m {
            let row = &a[r * lda..][..kq];
            let (ib, rr) = (r / T, r % T);
            for (kb, chunk) in row.chunks(T).enumerate() {
                let dst = &mut ap[(ib * kb_n + kb) * TILE + rr * T..][..chunk.len()];
                for (d, s) in dst.iter_mut().zip(chunk) {
                    *d = s.to_bits();
                }
            }
        }
    }

    /// Columns `j0..j0 + w` of the `kq` rows of `B` into rows of `NB` pairs,
    /// zero past `w` and past `kq` (to the next multiple of 16).
    fn pack_b(kq: usize, j0: usize, w: usize, b: &[f32], offs: &[usize], bp: &mut [u32]) {
        for (q, dst) in bp.chunks_exact_mut(NB).enumerate() {
            if q < kq {
                let src = &b[offs[q] + j0..][..w];
                for (d, s) in dst.iter_mut().zip(src) {
                    *d = s.to_bits();
                }
                dst[w..].fill(0);
            } else {
                dst.fill(0);
            }
        }
    }

    /// See [`super::Amx::gemm_panels`]; the caller has checked the operands,
    /// `m, d_out, kqp >= 1` and `kqp % 16 == 0`.
    pub(super) fn gemm_panels(
        m: usize,
        kqp: usize,
        a: &[f32],
        panels: &[f32],
        d_out: usize,
        c: &mut [f32],
        ldc: usize,
    ) {
        let kb_n = kqp / T;
        let mb_n = m.div_ceil(T);
        let strides = Strides { a_row: 4 * kqp, a_step: 4 * T, b_row: 4 * NB, b_step: 4 * T * NB };
        PACKED.with(|p| {
            let (tail, _) = &mut *p.borrow_mut();
            // The last partial block of rows, zero-padded to 16.
            let full = m / T;
            tail.clear();
            tail.resize(T * kqp, 0);
            for (d, s) in tail.iter_mut().zip(&a[full * T * kqp..m * kqp]) {
                *d = s.to_bits();
            }
            let block = |i: usize| -> *const u32 {
                if i < full {
                    a[i * T * kqp..].as_ptr().cast::<u32>()
                } else {
                    tail.as_ptr()
                }
            };
            let mut acc = Acc([0.0; 4 * TILE]);
            // SAFETY: the token proves AMX-TILE and AMX-BF16 and the
            // permission; the configuration is a valid palette-1 one.
            unsafe { asm!("ldtilecfg [{}]", in(reg) &CONFIG, options(nostack, readonly, preserves_flags)) };
            for (pi, panel) in panels.chunks_exact(kqp * NB).take(d_out.div_ceil(NB)).enumerate() {
                let j0 = pi * NB;
                let w = NB.min(d_out - j0);
                let mut i = 0;
                while i < mb_n {
                    let two = i + 1 < mb_n;
                    // SAFETY: block i (and i + 1) is 16 rows of kqp pairs
                    // (of `a`, or the padded tail); the panel is kqp rows
                    // of 32 pairs; kb_n steps of 16 pairs cover kqp.
                    unsafe {
                        let b = panel.as_ptr().cast::<u32>();
                        if two {
                            block2(kb_n, block(i), block(i + 1), b, strides, &mut acc);
                        } else {
                            block1(kb_n, block(i), b, strides, &mut acc);
                        }
                    }
                    let rows = (m - i * T).min(if two { 2 * T } else { T });
                    for r in 0..rows {
                        let (ti, rr) = (2 * (r / T), r % T);
                        let crow = &mut c[(i * T + r) * ldc + j0..][..w];
                        let lo = w.min(T);
                        crow[..lo].copy_from_slice(&acc.0[ti * TILE + rr * T..][..lo]);
                        if w > T {
                            crow[T..].copy_from_slice(&acc.0[(ti + 1) * TILE + rr * T..][..w - T]);
                        }
                    }
                    i += if two { 2 } else { 1 };
                }
            }
            // SAFETY: as ldtilecfg; releases this thread's tile state.
            unsafe { asm!("tilerelease", options(nostack, nomem, preserves_flags)) };
        });
    }

    /// Byte strides of the operands of [`block2`] and [`block1`]: A rows,
    /// A per K step (16 pairs), B rows, B per K step.
    #[derive(Clone, Copy)]
    pub(super) struct Strides {
        pub(super) a_row: usize,
        pub(super) a_step: usize,
        pub(super) b_row: usize,
        pub(super) b_step: usize,
    }

    /// The packed layouts' strides: A in 1 KiB blocks, B in rows of 32 pairs.
    const PACKED_STRIDES: Strides = Strides { a_row: 64, a_step: 1024, b_row: 128, b_step: 2048 };

    /// Two row blocks (32 rows) by 32 columns: `C` tiles 0 and 1 (rows of
    /// block 0, columns 0-15 and 16-31), 2 and 3 (block 1) into `acc`.
    ///
    /// # Safety
    /// Tiles configured (ldtilecfg) on this thread; for each of the `kb` K
    /// steps, the A tiles at `a0` and `a1` (16 rows of 64 bytes, `s.a_row`
    /// apart) and the B tile at `b` (16 rows of 128 bytes, `s.b_row` apart),
    /// advanced by `s.a_step` and `s.b_step` bytes per step, lie in memory
    /// that may be read.
    unsafe fn block2(kb: usize, a0: *const u32, a1: *const u32, b: *const u32, s: Strides, acc: &mut Acc) {
        // SAFETY: the caller's contract; four tiles stored into acc.
        unsafe {
            asm!(
                "tilezero tmm0",
                "tilezero tmm1",
                "tilezero tmm2",
                "tilezero tmm3",
                "2:",
                "tileloadd tmm4, [{a0} + {sa}*1]",
                "tileloadd tmm6, [{b} + {sb}*1]",
                "tileloadd tmm7, [{b} + {sb}*1 + 64]",
                "tdpbf16ps tmm0, tmm4, tmm6",
                "tdpbf16ps tmm1, tmm4, tmm7",
                "tileloadd tmm5, [{a1} + {sa}*1]",
                "tdpbf16ps tmm2, tmm5, tmm6",
                "tdpbf16ps tmm3, tmm5, tmm7",
                "add {a0}, {astep}",
                "add {a1}, {astep}",
                "add {b}, {bstep}",
                "dec {kb}",
                "jnz 2b",
                "tilestored [{c} + {s64}*1], tmm0",
                "tilestored [{c} + {s64}*1 + 1024], tmm1",
                "tilestored [{c} + {s64}*1 + 2048], tmm2",
                "tilestored [{c} + {s64}*1 + 3072], tmm3",
                a0 = inout(reg) a0 => _,
                a1 = inout(reg) a1 => _,
                b = inout(reg) b => _,
                kb = inout(reg) kb => _,
                sa = in(reg) s.a_row,
                astep = in(reg) s.a_step,
                sb = in(reg) s.b_row,
                bstep = in(reg) s.b_step,
                c = in(reg) acc.0.as_mut_ptr(),
                s64 = in(reg) 64usize,
                options(nostack),
            );
        }
    }

    /// One row block (16 rows) by 32 columns: `C` tiles 0 and 1 into `acc`.
    ///
    /// # Safety
    /// As [`block2`], for one A block.
    unsafe fn block1(kb: usize, a0: *const u32, b: *const u32, s: Strides, acc: &mut Acc) {
        // SAFETY: as block2, one A block, two tiles stored.
        unsafe {
            asm!(
                "tilezero tmm0",
                "tilezero tmm1",
                "2:",
                "tileloadd tmm4, [{a0} + {sa}*1]",
                "tileloadd tmm6, [{b} + {sb}*1]",
                "tileloadd tmm7, [{b} + {sb}*1 + 64]",
                "tdpbf16ps tmm0, tmm4, tmm6",
                "tdpbf16ps tmm1, tmm4, tmm7",
                "add {a0}, {astep}",
                "add {b}, {bstep}",
                "dec {kb}",
                "jnz 2b",
                "tilestored [{c} + {s64}*1], tmm0",
                "tilestored [{c} + {s64}*1 + 1024], tmm1",
                a0 = inout(reg) a0 => _,
                b = inout(reg) b => _,
                kb = inout(reg) kb => _,
                sa = in(reg) s.a_row,
                astep = in(reg) s.a_step,
                sb = in(reg) s.b_row,
                bstep = in(reg) s.b_step,
                c = in(reg) acc.0.as_mut_ptr(),
                s64 = in(reg) 64usize,
                options(nostack),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Amx;
    use crate::kernels::avx512bf16::Avx512Bf16;
    use crate::kernels::reference;
    use crate::kernels::testing::{bf16_pair, pool, to_bf16, uniform};

    /// The token, or `None` after saying that test `what` is skipped.
    fn token(what: &str) -> Option<Amx> {
        let t = Amx::detect();
        if t.is_none() {
            eprintln!("{what}: skipped, no AMX here ({:?})", Amx::support());
        }
        t
    }

    /// A product's operands as the kernels read them: `A` (`m x k`, row
    /// major) as `m` rows of `kq = ceil(k / 2)` pairs, `B` (`k x n`) as `kq`
    /// rows of pairs at a row stride of `n + 3` (NaN between the rows, to
    /// exercise the table of row starts and catch reads past a row); an odd
    /// `k`'s last pair has a zero partner.
    struct Operands {
        kq: usize,
        a: Vec<f32>,
        b: Vec<f32>,
        offs: Vec<usize>,
    }

    impl Operands {
        fn new(m: usize, k: usize, n: usize, a: &[f32], bm: &[f32]) -> Self {
            let kq = k.div_ceil(2);
            let at = |i: usize, p: usize| if p < k { a[i * k + p] } else { 0.0 };
            let bt = |p: usize, j: usize| if p < k { bm[p * n + j] } else { 0.0 };
            let a_pairs = (0..m * kq)
                .map(|x| {
                    let (i, q) = (x / kq, x % kq);
                    f32::from_bits(bf16_pair(at(i, 2 * q), at(i, 2 * q + 1)))
                })
                .collect();
            let ld = n + 3;
            let mut b = vec![f32::NAN; kq * ld];
            for q in 0..kq {
                for j in 0..n {
                    b[q * ld + j] = f32::from_bits(bf16_pair(bt(2 * q, j), bt(2 * q + 1, j)));
                }
            }
            Self { kq, a: a_pairs, b, offs: (0..kq).map(|q| q * ld).collect() }
        }

        /// `C` (row stride `n + 1`, NaN in the gap) from `gemm`.
        fn run(&self, m: usize, n: usize, gemm: impl Fn(&Self, &mut [f32], usize)) -> Vec<f32> {
            let ldc = n + 1;
            let mut c = vec![f32::NAN; m * ldc];
            gemm(self, &mut c, ldc);
            for i in 0..m {
                assert!(c[i * ldc + n].is_nan(), "{m}x{n}: wrote between rows of C");
            }
            c.chunks(ldc).flat_map(|r| r[..n].to_vec()).collect()
        }
    }

    /// Shapes around the tile sizes (16 rows, 16 pairs, 32 columns per
    /// panel): tiny, odd inner sizes, one past and one short of each multiple.
    const SHAPES: [(usize, usize, usize); 12] = [
        (1, 1, 1),
        (1, 2, 33),
        (3, 5, 7),
        (15, 31, 15),
        (16, 32, 16),
        (17, 33, 17),
        (31, 64, 32),
        (32, 63, 33),
        (33, 65, 70),
        (48, 150, 31),
        (64, 288, 100),
        (7, 1001, 5),
    ];

    fn amx_product(t: Amx, m: usize, n: usize) -> impl Fn(&Operands, &mut [f32], usize) {
        move |o, c, ldc| t.gemm_nn_rows(m, o.kq, n, &o.a, o.kq, &o.b, &o.offs, c, ldc)
    }

    /// Values with at most 8 significant bits (exact in bf16) whose sums are
    /// exact in fp32: the tile product must equal the reference exactly, for
    /// every remainder of the tiles (an index error cannot hide in rounding).
    #[test]
    fn the_tile_product_is_exact_on_bf16_values_for_every_remainder() {
        let Some(t) = token("the_tile_product_is_exact_on_bf16_values_for_every_remainder") else { return };
        let exact = |seed: u64, len: usize| -> Vec<f32> {
            (0..len as u64).map(|i| (((i * 37 + seed * 11) % 31) as f32 - 15.0) / 8.0).collect()
        };
        for &(m, k, n) in &SHAPES {
            let (a, bm) = (exact(1, m * k), exact(2, k * n));
            let o = Operands::new(m, k, n, &a, &bm);
            let got = o.run(m, n, amx_product(t, m, n));
            let mut want = vec![0.0; m * n];
            reference::gemm(m, k, n, 1.0, &a, false, &bm, false, 0.0, &mut want);
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert_eq!(g, w, "{m}x{k}x{n} at ({}, {})", i / n, i % n);
            }
        }
    }

    /// The product in planes reads B tiles in place at each tap: exact on
    /// bf16 values (so every index is right) for plane counts of one tile,
    /// several tiles, fewer than a tile and not a multiple (the packed
    /// path), with `b` ending right after the last row (the last column
    /// blocks then take the packed path) or running on with NaN past the
    /// columns in use (which only discarded columns may read).
    #[test]
    fn the_product_in_planes_is_exact_on_bf16_values() {
        let Some(t) = token("the_product_in_planes_is_exact_on_bf16_values") else { return };
        let val = |i: usize| ((i * 37 + 11) % 31) as f32 / 8.0 - 15.0 / 8.0;
        let pair = |i: usize| f32::from_bits(bf16_pair(val(2 * i), val(2 * i + 7)));
        let value = |bits: u32, hi: bool| f32::from_bits(if hi { bits & 0xffff_0000 } else { bits << 16 });
        for &(m, cp, kk, n, tail) in &[
            (16, 8, 9, 100, 0),
            (32, 16, 9, 64, 40),
            (17, 32, 3, 33, 0),
            (64, 1, 9, 70, 64),
            (5, 2, 4, 31, 3),
            (40, 20, 9, 50, 40),
            (3, 48, 2, 200, 0),
        ] {
            let kq = cp * kk;
            let row = n + 5;
            let taps: Vec<usize> = (0..kk).map(|t| (t / 3) * row + t % 3).collect();
            let plane = taps[kk - 1] + n + 3;
            let offs: Vec<usize> = (0..kq).map(|q| (q / kk) * plane + taps[q % kk]).collect();
            let reach = offs[kq - 1] + n;
            let mut b: Vec<f32> = (0..reach + tail).map(pair).collect();
            for q in 0..kq {
                // NaN in the columns past n of each row that no other row uses.
                for j in n..(n + 3).min(b.len() - offs[q]) {
                    if !offs.iter().any(|&o| (o..o + n).contains(&(offs[q] + j))) {
                        b[offs[q] + j] = f32::NAN;
                    }
                }
            }
            b[reach..].fill(f32::NAN);
            let a: Vec<f32> = (0..m * kq).map(|i| pair(i + 1000)).collect();
            let ldc = n + 1;
            let mut c = vec![f32::NAN; m * ldc];
            t.gemm_nn_planes(m, kq, n, &a, kq, &b, &offs, &mut c, ldc, (kk, plane));
            for i in 0..m {
                for j in 0..n {
                    let mut want = 0.0f64;
                    for q in 0..kq {
                        let (x, y) = (a[i * kq + q].to_bits(), b[offs[q] + j].to_bits());
                        want += f64::from(value(x, false)) * f64::from(value(y, false));
                        want += f64::from(value(x, true)) * f64::from(value(y, true));
                    }
                    assert_eq!(
                        f64::from(c[i * ldc + j]),
                        want,
                        "m {m}, cp {cp}, kk {kk}, n {n}, tail {tail} at ({i}, {j})"
                    );
                }
                assert!(c[i * ldc + n].is_nan(), "wrote between rows of C");
            }
        }
    }

    /// On random values: (1) against the f64 product of the bf16-rounded
    /// operands, within the fp32 summation bound `K 2^-24 (1 + 2^-6) sum |a b|`
    /// (only the order of the fp32 sums may differ); (2) against the f64
    /// product of the unrounded operands, within the bf16 bound of
    /// `conv/bf16.rs`; (3) against the `vdpbf16ps` product, within twice the
    /// summation bound; and the same bits on every thread of a pool.
    #[test]
    fn the_tile_product_is_the_bf16_product_up_to_fp32_summation_order() {
        let Some(t) = token("the_tile_product_is_the_bf16_product_up_to_fp32_summation_order") else {
            return;
        };
        let dp = Avx512Bf16::detect();
        let f64_gemm = |m: usize, k: usize, n: usize, a: &[f32], b: &[f32]| -> Vec<f64> {
            let mut c = vec![0.0f64; m * n];
            for i in 0..m {
                for p in 0..k {
                    let av = f64::from(a[i * k + p]);
                    for j in 0..n {
                        c[i * n + j] += av * f64::from(b[p * n + j]);
                    }
                }
            }
            c
        };
        let abs = |v: &[f32]| v.iter().map(|x| x.abs()).collect::<Vec<_>>();
        let rounded = |v: &[f32]| v.iter().map(|&x| to_bf16(x)).collect::<Vec<_>>();
        let mut worst_sum = 0.0f64;
        for (s, &(m, k, n)) in SHAPES.iter().enumerate() {
            let (a, bm) = (uniform(3 + s as u64, m * k), uniform(40 + s as u64, k * n));
            let o = Operands::new(m, k, n, &a, &bm);
            let got = o.run(m, n, amx_product(t, m, n));
            let (ar, br) = (rounded(&a), rounded(&bm));
            let exact_r = f64_gemm(m, k, n, &ar, &br);
            let scale_r = f64_gemm(m, k, n, &abs(&ar), &abs(&br));
            let exact = f64_gemm(m, k, n, &a, &bm);
            let scale = f64_gemm(m, k, n, &abs(&a), &abs(&bm));
            let sum_rel = k as f64 * 2f64.powi(-24) * (1.0 + 2f64.powi(-6));
            let bf16_rel = 2f64.powi(-7) * (1.0 + 2f64.powi(-9)) + sum_rel;
            for i in 0..m * n {
                let g = f64::from(got[i]);
                let e = (g - exact_r[i]).abs();
                assert!(
                    e <= sum_rel * scale_r[i],
                    "{m}x{k}x{n}, output {i}: {g} vs {} (bf16 operands)",
                    exact_r[i]
                );
                assert!(
                    (g - exact[i]).abs() <= bf16_rel * scale[i],
                    "{m}x{k}x{n}, output {i}: {g} vs {} (fp32 operands)",
                    exact[i]
                );
                worst_sum = worst_sum.max(e / scale_r[i].max(f64::MIN_POSITIVE));
            }
            if let Some(dp) = dp {
                let other =
                    o.run(m, n, |o, c, ldc| dp.gemm_nn_rows(m, o.kq, n, &o.a, o.kq, &o.b, &o.offs, c, ldc));
                for i in 0..m * n {
                    let d = f64::from((got[i] - other[i]).abs());
                    assert!(
                        d <= 2.0 * sum_rel * scale_r[i],
                        "{m}x{k}x{n}, output {i}: amx {} vs vdpbf16ps {}",
                        got[i],
                        other[i]
                    );
                }
            }
            // Each worker configures its own tiles: the same bits everywhere.
            let on_pool: Vec<Vec<f32>> = pool(3).broadcast(|_| o.run(m, n, amx_product(t, m, n)));
            assert!(on_pool.iter().all(|c| c.iter().zip(&got).all(|(x, y)| x.to_bits() == y.to_bits())));
        }
        // The rounding of the fp32 sums shows (the products are really summed in fp32),
        // and stays within the bound.
        assert!(worst_sum > 0.0, "no fp32 summation error at all");
    }
}

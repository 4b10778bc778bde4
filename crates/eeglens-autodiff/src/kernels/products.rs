//! The policy layer over the two product leaves: which kernel runs for which
//! product, chosen in one place, and the engine's public matrix product [`gemm`].
//!
//! Two leaves compute and decide nothing: [`super::sgemm`] (matrixmultiply's
//! packed sgemm, on every CPU) and [`super::avx512`] (unpacked AVX-512
//! kernels, with no fallback inside). Everything above them, the
//! convolutions and [`gemm`], asks this module, and only this module picks
//! the leaf:
//!
//! | product | AVX-512 set | portable set |
//! | --- | --- | --- |
//! | conv forward, stride 1, one group | padded in-place read ([`RowTable`]) | tiled im2col + sgemm |
//! | conv forward tile, `W cols` | [`KernelSet::gemm_nn`] on AVX-512 | sgemm |
//! | conv weight gradient, one group, `c_out >= 32`, batch over workers | `gw^T = cols gy^T`, AVX-512 `A B` | `gw = gy cols^T`, sgemm |
//! | conv weight gradient, otherwise | `gy cols^T`, AVX-512 `A B^T` | sgemm |
//! | col2im input gradient, `W^T gy` | sgemm | sgemm |
//! | [`gemm`] with one row | AVX-512 dots / axpys | 16-lane loops |
//! | [`gemm`], at most 64 rows, `A` not transposed, `alpha == 1`, one task or column blocks | AVX-512 `A B` (`B` packed into 32-column strips when `A` has more than 8 rows) / `A B^T` | sgemm |
//! | [`gemm`], otherwise | sgemm | sgemm |
//! | bf16 inference conv, stride 1, one group ([`Precision::Bf16`]) | bf16 pairs, padded read ([`Bf16Rows`]): AMX tiles where the CPU and OS allow them, else AVX512_BF16, else as fp32 | fp32 |
//! | bf16 inference linear layer ([`Precision::Bf16`]) | bf16 pairs over 32-column weight panels: AMX, else AVX512_BF16, else as fp32 | fp32 |
//!
//! # Choosing the set once
//! A [`KernelSet`] names the leaves a call may use. The process's set is
//! chosen once ([`KernelSet::process_default`], a `OnceLock`): AVX-512 when
//! the CPU has AVX-512F and `EEGLENS_NO_AVX512` is not set, otherwise
//! portable. Each public kernel reads the set once, on the calling thread
//! ([`KernelSet::current`]), and hands it down as a value to every tile and
//! every worker thread, so one call never mixes sets and worker threads never
//! consult anything. [`with_kernel_set`] overrides the set for the calling
//! thread: that is how the tests run every available set in one process and
//! compare each against `reference.rs`.

use std::cell::{Cell, RefCell};
use std::sync::OnceLock;

use super::amx::{Amx, AmxSupport};
use super::avx512::Avx512;
use super::avx512bf16::Avx512Bf16;
use super::geom::Conv2dGeom;
use super::par;
use super::sgemm::gemm_strided;

/// The kernels a call may use: the portable set (matrixmultiply's packed
/// sgemm and plain loops, on every CPU) or the AVX-512 set (the unpacked
/// AVX-512 kernels where the policy prefers them, sgemm elsewhere).
///
/// Results are deterministic for a given set and thread count; the two sets
/// differ in the last bits (different summation orders and fused multiply-adds).
///
/// ```
/// use eeglens_autodiff::kernels::{self, KernelSet};
///
/// // Every set this CPU can run, the portable one first.
/// for set in KernelSet::available() {
///     let mut c = [0.0f32; 4];
///     kernels::with_kernel_set(set, || {
///         kernels::gemm(2, 2, 2, 1.0, &[1.0, 2.0, 3.0, 4.0], false, &[1.0, 0.0, 0.0, 1.0], false, 0.0, &mut c)
///     });
///     assert_eq!(c, [1.0, 2.0, 3.0, 4.0], "{}", set.name());
/// }
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct KernelSet {
    /// The AVX-512 leaf, when this set uses it.
    avx512: Option<Avx512>,
    /// The AVX512_BF16 leaf, when this set has it: used only by inference
    /// asked for in [`Precision::Bf16`], never by an fp32 kernel.
    bf16: Option<Avx512Bf16>,
    /// The AMX leaf, when this set has it (only beside the AVX512_BF16 leaf,
    /// which converts its operands): the bf16 products run on tiles.
    amx: Option<Amx>,
}

thread_local! {
    /// The calling thread's override of the process default ([`with_kernel_set`]).
    static OVERRIDE: Cell<Option<KernelSet>> = const { Cell::new(None) };
}

impl KernelSet {
    /// The portable set: matrixmultiply's packed sgemm and plain loops. Runs on every CPU.
    pub fn portable() -> Self {
        Self { avx512: None, bf16: None, amx: None }
    }

    /// The AVX-512 set, when this CPU has AVX-512F (whatever `EEGLENS_NO_AVX512`
    /// and `EEGLENS_NO_AMX` say), with the AVX512_BF16 leaf when the CPU also
    /// has that, and the AMX leaf when it has AMX-BF16 too and the operating
    /// system gives this process the tile state (asked for on the first call).
    pub fn avx512() -> Option<Self> {
        Avx512::detect().map(|t| {
            let bf16 = Avx512Bf16::detect();
            Self { avx512: Some(t), bf16, amx: bf16.and_then(|_| Amx::detect()) }
        })
    }

    /// This set without its AVX512_BF16 leaf (and so without AMX): what a CPU
    /// with AVX-512F but without AVX512_BF16 runs (bf16 inference falls back to fp32).
    pub fn without_bf16(self) -> Self {
        Self { bf16: None, amx: None, ..self }
    }

    /// This set without its AMX leaf: bf16 products on AVX512_BF16
    /// (`vdpbf16ps`), what a CPU without AMX runs (`EEGLENS_NO_AMX`).
    pub fn without_amx(self) -> Self {
        Self { amx: None, ..self }
    }

    /// Whether this set runs its bf16 inference products on AMX tiles.
    pub fn has_amx(self) -> bool {
        self.amx.is_some()
    }

    /// Whether this set runs bf16 inference products (AVX512_BF16).
    pub fn has_bf16(self) -> bool {
        self.bf16.is_some()
    }

    /// The precision inference asked for in `wanted` runs in on this set:
    /// [`Precision::Bf16`] only where the set has the AVX512_BF16 leaf,
    /// otherwise [`Precision::Fp32`] (the fallback).
    pub fn inference_precision(self, wanted: Precision) -> Precision {
        match wanted {
            Precision::Bf16 if self.has_bf16() => Precision::Bf16,
            _ => Precision::Fp32,
        }
    }

    /// Every set this CPU can run, the portable one first.
    pub fn available() -> Vec<Self> {
        std::iter::once(Self::portable()).chain(Self::avx512()).collect()
    }

    /// The set of this process, chosen on first use and then fixed: AVX-512
    /// when the CPU has AVX-512F and the environment variable
    /// `EEGLENS_NO_AVX512` is not set, otherwise portable.
    pub fn process_default() -> Self {
        KernelConfig::of_process().set
    }

    /// The set a kernel called from this thread uses: the one given to an
    /// enclosing [`with_kernel_set`] on this thread, else [`Self::process_default`].
    pub fn current() -> Self {
        OVERRIDE.with(Cell::get).unwrap_or_else(Self::process_default)
    }

    /// Whether this set runs the AVX-512 kernels.
    pub fn has_avx512(self) -> bool {
        self.avx512.is_some()
    }

    /// What runs bf16 inference products in this set: `"amx"`, `"avx512bf16"`,
    /// or `None` (bf16 inference runs in fp32).
    pub fn bf16_engine(self) -> Option<&'static str> {
        match (self.amx, self.bf16) {
            (Some(_), _) => Some("amx"),
            (None, Some(_)) => Some("avx512bf16"),
            (None, None) => None,
        }
    }

    /// `"avx512"` or `"portable"`.
    pub fn name(self) -> &'static str {
        if self.has_avx512() {
            "avx512"
        } else {
            "portable"
        }
    }
}

/// The environment variable that keeps a process on the portable set.
pub const NO_AVX512_VAR: &str = "EEGLENS_NO_AVX512";

/// The environment variable that keeps a process's bf16 products off AMX
/// (on AVX512_BF16 instead); [`NO_AVX512_VAR`] turns AMX off too.
pub const NO_AMX_VAR: &str = "EEGLENS_NO_AMX";

/// How this process's kernels are configured, and why: what `eeglens version`
/// prints and a bug report should quote.
///
/// ```
/// let c = eeglens_autodiff::kernels::KernelConfig::of_process();
/// assert_eq!(c.set, eeglens_autodiff::kernels::KernelSet::process_default());
/// println!("kernels: {c}"); // e.g. "avx512 (the CPU has AVX-512F)"
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KernelConfig {
    /// the process's set, [`KernelSet::process_default`]
    pub set: KernelSet,
    /// whether this CPU has AVX-512F
    pub cpu_has_avx512: bool,
    /// whether [`NO_AVX512_VAR`] was set when the set was chosen
    pub avx512_disabled: bool,
    /// whether [`NO_AMX_VAR`] was set when the set was chosen
    pub amx_disabled: bool,
}

impl KernelConfig {
    /// The configuration of this process, chosen on first use and then fixed.
    pub fn of_process() -> Self {
        static CHOSEN: OnceLock<KernelConfig> = OnceLock::new();
        *CHOSEN.get_or_init(|| {
            let avx512 = KernelSet::avx512();
            let avx512_disabled = std::env::var_os(NO_AVX512_VAR).is_some();
            let amx_disabled = std::env::var_os(NO_AMX_VAR).is_some();
            let mut set = avx512.filter(|_| !avx512_disabled).unwrap_or_else(KernelSet::portable);
            if amx_disabled {
                set = set.without_amx();
            }
            KernelConfig { set, cpu_has_avx512: avx512.is_some(), avx512_disabled, amx_disabled }
        })
    }
}

impl KernelConfig {
    /// Why this process's kernels cannot run [`Precision::Bf16`] inference
    /// (which then falls back to fp32), or `None` when they can.
    pub fn bf16_missing(&self) -> Option<String> {
        if self.set.has_bf16() {
            return None;
        }
        Some(if !self.cpu_has_avx512 {
            "the CPU has no AVX-512F".to_string()
        } else if Avx512Bf16::detect().is_none() {
            "the CPU has no AVX512_BF16".to_string()
        } else {
            format!("{NO_AVX512_VAR} is set")
        })
    }

    /// Why this process's [`Precision::Bf16`] products do not run on AMX
    /// tiles although the CPU has AMX-BF16 (they then run on AVX512_BF16),
    /// or `None`: they do, the CPU has no AMX, or bf16 does not run at all
    /// ([`Self::bf16_missing`] says why).
    pub fn amx_missing(&self) -> Option<String> {
        if self.set.has_amx() || !self.set.has_bf16() {
            return None;
        }
        Some(match Amx::support() {
            AmxSupport::NoCpu => return None,
            _ if self.amx_disabled => format!("{NO_AMX_VAR} is set"),
            AmxSupport::Refused => {
                "the operating system does not give this process the AMX tile state".to_string()
            }
            AmxSupport::Ready => "AMX is not in this kernel set".to_string(),
        })
    }
}

/// The arithmetic of an inference pass (`eeglens eval --precision`).
///
/// [`Precision::Fp32`] is the default and the reference: every kernel of the
/// engine. [`Precision::Bf16`] rounds the operands of the convolutions' and
/// linear layers' products to bf16 (8 significant bits) and accumulates in fp32, on CPUs
/// with AVX512_BF16 ([`KernelSet::inference_precision`]); training and
/// gradients are always fp32.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Precision {
    /// 32-bit floats throughout
    #[default]
    Fp32,
    /// bf16 operands, fp32 accumulation and outputs
    Bf16,
}

impl Precision {
    /// `"fp32"` or `"bf16"`.
    pub fn name(self) -> &'static str {
        match self {
            Precision::Fp32 => "fp32",
            Precision::Bf16 => "bf16",
        }
    }
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::fmt::Display for KernelConfig {
    /// The set's name and the reason, e.g. `portable (EEGLENS_NO_AVX512 is set; the CPU has AVX-512F)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let cpu = if self.cpu_has_avx512 { "the CPU has AVX-512F" } else { "the CPU has no AVX-512F" };
        if self.avx512_disabled && !self.set.has_avx512() {
            write!(f, "{} ({NO_AVX512_VAR} is set; {cpu})", self.set.name())
        } else {
            write!(f, "{} ({cpu})", self.set.name())
        }
    }
}

impl std::fmt::Debug for KernelSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.bf16_engine() {
            Some(e) => write!(f, "KernelSet({}, bf16 on {e})", self.name()),
            None => write!(f, "KernelSet({})", self.name()),
        }
    }
}

/// Runs `f` with every kernel called from this thread on `set`, then restores
/// the previous set (also when `f` panics).
///
/// The set is read where a kernel is called, so the override covers kernels
/// called on this thread, including their own worker threads; a closure
/// handed to another thread (`ThreadPool::install`, `rayon::join`) runs on the
/// default there: call `with_kernel_set` inside it.
pub fn with_kernel_set<R>(set: KernelSet, f: impl FnOnce() -> R) -> R {
    /// Puts the previous override back on drop.
    struct Restore(Option<KernelSet>);
    impl Drop for Restore {
        fn drop(&mut self) {
            OVERRIDE.with(|o| o.set(self.0));
        }
    }
    let _restore = Restore(OVERRIDE.with(|o| o.replace(Some(set))));
    f()
}

/// A product whose `B` rows are found through a table of row starts (the
/// padded in-place read of a convolution's column matrix). Only the AVX-512
/// set has one: holding a `RowTable` is the policy's answer that the padded
/// layout runs.
#[derive(Clone, Copy)]
pub(crate) struct RowTable(Avx512);

impl RowTable {
    /// `C[m x n] = A[m x k] B + beta C` with row `p` of `B` at `b[offs[p]..][..n]`;
    /// see [`Avx512::gemm_nn_rows`].
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
        self.0.gemm_nn_rows(m, k, n, a, lda, b, offs, beta, c, ldc);
    }
}

/// The bf16 inference product and the conversion that feeds it (see
/// [`Avx512Bf16`], [`Amx`]). Only a set with AVX512_BF16 has one: holding a
/// `Bf16Rows` is the policy's answer that a convolution runs in bf16. The
/// product runs on AMX tiles when the set has them, else on `vdpbf16ps`;
/// the conversions are always AVX512_BF16's.
#[derive(Clone, Copy)]
pub(crate) struct Bf16Rows {
    cvt: Avx512Bf16,
    amx: Option<Amx>,
}

impl Bf16Rows {
    /// `C[m x n] = A B` over bf16 pairs, row `q` of `B` at `b[offs[q]..]`
    /// ([`Avx512Bf16::gemm_nn_rows`]), for `B` in planes of a convolution's
    /// padded channel pairs (`offs[p kk + t] = p plane + offs[t]`, `planes =
    /// (kk, plane)`): on AMX the tiles are read in place
    /// ([`Amx::gemm_nn_planes`]); on `vdpbf16ps` the table is read as any.
    ///
    /// # Panics
    /// When `offs.len() != kq`, an operand does not fit its slice, or (on
    /// AMX) `offs` is not of that form.
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
        planes: (usize, usize),
    ) {
        match self.amx {
            Some(t) => t.gemm_nn_planes(m, kq, n, a, lda, b, offs, c, ldc, planes),
            None => self.cvt.gemm_nn_rows(m, kq, n, a, lda, b, offs, c, ldc),
        }
    }

    /// A linear layer's product `C[m x d_out] = A W^T` over 32-column weight
    /// panels (`kqp` rows each, a multiple of 16, zero past the `kq` pairs
    /// of the input; `A` `m` rows of `kqp` pairs, zero past `kq`): on AMX
    /// both read in place ([`Amx::gemm_panels`]), on `vdpbf16ps` one
    /// [`Avx512Bf16::gemm_nn_rows`] per panel over its first `kq` rows.
    ///
    /// # Panics
    /// When an operand does not fit its slice.
    pub(crate) fn gemm_panels(
        self,
        m: usize,
        (kq, kqp): (usize, usize),
        a: &[f32],
        panels: &[f32],
        d_out: usize,
        c: &mut [f32],
        ldc: usize,
    ) {
        if let Some(t) = self.amx {
            return t.gemm_panels(m, kqp, a, panels, d_out, c, ldc);
        }
        const PANEL: usize = 32;
        let offs: Vec<usize> = (0..kq).map(|q| q * PANEL).collect();
        for (p, panel) in panels.chunks_exact(kqp * PANEL).take(d_out.div_ceil(PANEL)).enumerate() {
            let j0 = p * PANEL;
            let width = PANEL.min(d_out - j0);
            self.cvt.gemm_nn_rows(m, kq, width, a, kqp, panel, &offs, &mut c[j0..], ldc);
        }
    }

    /// Two fp32 rows into one row of bf16 pairs; see [`Avx512Bf16::pack_pairs`].
    pub(crate) fn pack_pairs(self, lo: &[f32], hi: Option<&[f32]>, out: &mut [f32]) {
        self.cvt.pack_pairs(lo, hi, out);
    }

    /// One fp32 row into bf16 pairs of consecutive values; see [`Avx512Bf16::pack_runs`].
    pub(crate) fn pack_runs(self, x: &[f32], out: &mut [f32]) {
        self.cvt.pack_runs(x, out);
    }
}

impl KernelSet {
    /// Whether a bf16 inference convolution runs in bf16 (stride 1, one
    /// group, a set with AVX512_BF16), and the product that does it; `None`:
    /// it runs in fp32.
    pub(crate) fn bf16_conv(self, g: &Conv2dGeom) -> Option<Bf16Rows> {
        if g.stride_h != 1 || g.stride_w != 1 || g.groups != 1 {
            return None;
        }
        self.bf16_linear()
    }

    /// Whether a bf16 inference linear layer runs in bf16 (a set with
    /// AVX512_BF16), and the product that does it; `None`: fp32.
    pub(crate) fn bf16_linear(self) -> Option<Bf16Rows> {
        self.bf16.map(|cvt| Bf16Rows { cvt, amx: self.amx })
    }

    /// Whether a forward convolution reads its column matrix in place from a
    /// zero-padded copy of each sample (stride 1, one group, AVX-512), and the
    /// product that does it; `None`: build im2col tiles.
    pub(crate) fn padded_conv(self, g: &Conv2dGeom) -> Option<RowTable> {
        if g.stride_h != 1 || g.stride_w != 1 || g.groups != 1 {
            return None;
        }
        self.avx512.map(RowTable)
    }

    /// Whether the weight gradient's per-worker accumulators (the batch split
    /// over workers) hold `gw^T = cols gy^T` (`[kg, c_out]`), made by the
    /// `A B` kernel, instead of `gw = gy cols^T`.
    ///
    /// With AVX-512, one group and at least 32 output channels (a full
    /// 32-column register block): the tile's output gradient is transposed
    /// (`c_out x tn`, small), so the long inner dimension streams through
    /// register blocks instead of ending in one horizontal sum per weight
    /// (measured 1.2-1.6x on R-VGG's 32- and 64-channel layers, 0.7x on its
    /// 16-channel ones). sgemm packs either form alike, so the portable set
    /// keeps the direct form.
    pub(crate) fn weight_grad_transposed(self, g: &Conv2dGeom) -> bool {
        g.groups == 1 && g.c_out >= 32 && self.avx512.is_some()
    }

    /// `C[m x n] = A[m x k] B[k x n] + beta C`, all row-major with row strides
    /// `lda`, `ldb`, `ldc`: AVX-512 `A B` or sgemm. With `beta == 0` the old
    /// `C` is not read.
    ///
    /// # Panics
    /// When an operand does not fit its slice.
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
        match self.avx512 {
            Some(t) => t.gemm_nn(m, k, n, a, lda, b, ldb, beta, c, ldc),
            None => gemm_strided(m, k, n, 1.0, a, (lda, 1), b, (ldb, 1), beta, c, (ldc, 1)),
        }
    }

    /// `C[m x n] = A[m x k] B[n x k]^T + beta C`, all row-major with row
    /// strides `lda`, `ldb`, `ldc`: AVX-512 `A B^T` or sgemm. With `beta == 0`
    /// the old `C` is not read.
    ///
    /// # Panics
    /// When an operand does not fit its slice.
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
        match self.avx512 {
            Some(t) => t.gemm_nt(m, k, n, a, lda, b, ldb, beta, c, ldc),
            None => gemm_strided(m, k, n, 1.0, a, (lda, 1), b, (1, ldb), beta, c, (ldc, 1)),
        }
    }

    /// `C[m x n] = A[k x m]^T B[k x n] + beta C`, all row-major with row
    /// strides `lda`, `ldb`, `ldc`: sgemm in both sets (no unpacked kernel
    /// reads a transposed `A`; col2im's `W^T gy` is the one user).
    ///
    /// # Panics
    /// When an operand does not fit its slice.
    pub(crate) fn gemm_tn(
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
        gemm_strided(m, k, n, 1.0, a, (1, lda), b, (ldb, 1), beta, c, (ldc, 1));
    }

    /// One block of [`gemm`] on the calling thread: `C[m x width] = alpha
    /// op(A) op(B) + beta C`. `b` starts at the block's first column of
    /// `op(B)`; `n_full` is `op(B)`'s full column count (`B`'s row stride when
    /// stored `k x n`), `ldc` `C`'s row stride.
    ///
    /// Few rows (at most [`DIRECT_MAX_ROWS`]: a linear layer at a small batch,
    /// activation maximisation with batched restarts, training at batch 40),
    /// `A` not transposed and `alpha == 1` run on the unpacked AVX-512 kernels
    /// when the set has them, which stream `B` once instead of packing it;
    /// everything else is a packed sgemm.
    fn gemm_block(
        self,
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
    ) {
        match self.avx512 {
            Some(t) if !trans_a && alpha == 1.0 && m <= DIRECT_MAX_ROWS => {
                let a = &a[..m * k];
                if trans_b {
                    // B stored n x k: the block's columns are rows of B, row stride k.
                    t.gemm_nt(m, k, width, a, k, b, k, beta, c, ldc);
                } else if m > PACK_MIN_ROWS {
                    gemm_nn_packed(t, m, k, width, a, b, n_full, beta, c, ldc);
                } else {
                    t.gemm_nn(m, k, width, a, k, b, n_full, beta, c, ldc);
                }
            }
            _ => {
                let sa = if trans_a { (1, m) } else { (k, 1) };
                let sb = if trans_b { (1, k) } else { (n_full, 1) };
                gemm_strided(m, k, width, alpha, a, sa, b, sb, beta, c, (ldc, 1));
            }
        }
    }

    /// `out[j] = sum_p a[p] B[j, p]` for the `out.len()` rows of `B` (row
    /// stride `ldb`): AVX-512, or [`dot`] per row.
    fn dots(self, a: &[f32], b: &[f32], ldb: usize, out: &mut [f32]) {
        match self.avx512 {
            Some(t) => t.dots(a, b, ldb, out),
            None => {
                let k = a.len();
                for (j, o) in out.iter_mut().enumerate() {
                    *o = dot(a, &b[j * ldb..][..k]);
                }
            }
        }
    }

    /// `out[j] += sum_p a[p] B[p, j]` for `j < out.len()`, `B` with row stride
    /// `ldb`: AVX-512 (skipping rows whose `a[p]` is exactly zero), or one
    /// scaled row at a time.
    fn axpys(self, a: &[f32], b: &[f32], ldb: usize, out: &mut [f32]) {
        match self.avx512 {
            Some(t) => t.axpys(a, b, ldb, out),
            None => {
                let width = out.len();
                for (p, &ap) in a.iter().enumerate() {
                    let row = &b[p * ldb..][..width];
                    for (s, &bv) in out.iter_mut().zip(row) {
                        *s += ap * bv;
                    }
                }
            }
        }
    }
}

/// Columns of the AVX-512 `A B` kernel's register block: the width of a packed strip.
const STRIP: usize = 32;
/// Most `f32`s of `B` packed at a time by [`gemm_nn_packed`] (512 KiB: a
/// panel stays in a core's L2 while every row block of `A` passes).
const PACK_FLOATS: usize = 1 << 17;
/// [`KernelSet::gemm_block`] packs `B` (stored `k x n`) when `A` has more rows
/// than one register block: each strip of `B` is then read once per 8 rows.
const PACK_MIN_ROWS: usize = 8;

thread_local! {
    /// The column blocks of [`gemm`]'s last column-split product on this
    /// thread, kept for the next one.
    static BLOCKS: RefCell<Vec<Vec<f32>>> = const { RefCell::new(Vec::new()) };
    /// Each thread's panel buffer for [`gemm_nn_packed`], kept between calls
    /// so that the hot path does not allocate.
    static PACK: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// `C[m x n] = A[m x k] B[k x n] + beta C` on the AVX-512 `A B` kernel with
/// `B` (row stride `ldb`) first copied, one panel of columns at a time, into
/// contiguous 32-column strips (`[strip][k][32]`).
///
/// A linear layer's input gradient `gx = gy W` reads `W` (`out x in`, e.g.
/// 1024 x 6144) as `B`: straight from `W`, a 32-column strip is 1024 runs of
/// 128 bytes each 24 KiB apart, which the cache keeps poorly (the runs fall
/// into few cache sets) and the prefetchers do not follow, and the strip is
/// read again for every 8 rows of `A`. Packed, each strip is read from `W`
/// once, in long row segments, and then streams contiguously from L2 for
/// every row block. The kernel, its strips and its register blocks are those
/// of the unpacked call, so the result is bit for bit the same.
fn gemm_nn_packed(
    t: Avx512,
    m: usize,
    k: usize,
    n: usize,
    a: &[f32],
    b: &[f32],
    ldb: usize,
    beta: f32,
    c: &mut [f32],
    ldc: usize,
) {
    if k == 0 || n == 0 || m == 0 {
        t.gemm_nn(m, k, n, a, k, b, ldb, beta, c, ldc);
        return;
    }
    // Panel width: a multiple of the strip, as many strips as fit the budget.
    let pw = (PACK_FLOATS / k / STRIP * STRIP).clamp(STRIP, n.next_multiple_of(STRIP));
    PACK.with_borrow_mut(|pack| {
        if pack.len() < k * pw {
            pack.resize(k * pw, 0.0);
        }
        let mut j0 = 0;
        while j0 < n {
            let w = pw.min(n - j0);
            let strips = w.div_ceil(STRIP);
            for p in 0..k {
                let row = &b[p * ldb + j0..][..w];
                for s in 0..strips {
                    let ws = STRIP.min(w - s * STRIP);
                    pack[(s * k + p) * STRIP..][..ws].copy_from_slice(&row[s * STRIP..][..ws]);
                }
            }
            for s in 0..strips {
                let ws = STRIP.min(w - s * STRIP);
                let strip = &pack[s * k * STRIP..][..(k - 1) * STRIP + ws];
                t.gemm_nn(m, k, ws, a, k, strip, STRIP, beta, &mut c[j0 + s * STRIP..], ldc);
            }
            j0 += w;
        }
    });
}

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
/// Most rows of `C` for the unpacked kernels in [`KernelSet::gemm_block`].
const DIRECT_MAX_ROWS: usize = 64;

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
/// `avx512.rs` in the AVX-512 [`KernelSet`], so that `B` streams once
/// instead of being packed. Large products
/// (at least 2^20 multiply-adds) are split over the threads of the current
/// rayon pool: into column blocks of `C` when it has fewer rows than columns
/// and than `k` (a linear layer at batch 40: each thread packs only its share
/// of `B`),
/// otherwise into row blocks (8 rows per thread at least). Each block is an
/// independent product over the same `k` order, so the result does not depend
/// on the thread count, with one exception: with `alpha != 1` and `beta != 0`,
/// matrixmultiply rounds `alpha AB + beta C` differently in the ragged edge
/// tiles of a block than in its full tiles, so row blocks can move the last
/// bit (the engine's own calls use `alpha == 1` or `beta == 0`). A one-row product (a linear layer at batch 1,
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
    let ks = KernelSet::current();
    let threads = par::threads();
    if m == 1 {
        // One row of C (a linear layer at batch 1, as in activation
        // maximisation): a matrix-vector product. Packing B into panels would
        // cost as much memory traffic as the product itself, so B is streamed
        // once, in column blocks of C split over the threads.
        let tasks = if k * n >= PAR_MIN_MACS { threads.min(n / MIN_COLS_PER_TASK).max(1) } else { 1 };
        let cols = n.div_ceil(tasks).next_multiple_of(16);
        par::chunks_mut(c, cols, |i, c_cols| gemv(ks, k, n, alpha, a, b, trans_b, beta, c_cols, i * cols));
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
        // The block buffers of the previous call on this thread, reused: no
        // fresh pages (and their faults) per call.
        let mut spare = BLOCKS.take();
        let mut blocks: Vec<(usize, Vec<f32>)> = (0..n.div_ceil(cols))
            .map(|t| {
                let (j0, width) = (t * cols, cols.min(n - t * cols));
                let mut block = spare.pop().unwrap_or_default();
                if beta != 0.0 {
                    block.clear();
                    for row in c.chunks_exact(n) {
                        block.extend_from_slice(&row[j0..j0 + width]);
                    }
                } else {
                    // Not read with beta == 0: old values may stay.
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
            ks.gemm_block(m, k, *width, alpha, a, trans_a, &b[b_off..], trans_b, n, beta, block, *width);
        });
        for (t, (width, block)) in blocks.iter().enumerate() {
            let j0 = t * cols;
            for (row, src) in c.chunks_exact_mut(n).zip(block.chunks_exact(*width)) {
                row[j0..j0 + width].copy_from_slice(src);
            }
        }
        spare.extend(blocks.into_iter().map(|(_, block)| block));
        BLOCKS.set(spare);
        return;
    }
    let tasks = threads.min(m / MIN_ROWS_PER_TASK);
    if tasks <= 1 || m * k * n < PAR_MIN_MACS {
        ks.gemm_block(m, k, n, alpha, a, trans_a, b, trans_b, n, beta, c, n);
        return;
    }
    // Row blocks over the threads, each a packed sgemm in both sets: every
    // task packs all of B, so the unpacked kernels' advantage (B streamed
    // once, unpacked) does not apply.
    let sa = if trans_a { (1, m) } else { (k, 1) };
    let sb = if trans_b { (1, k) } else { (n, 1) };
    let rows = m.div_ceil(tasks);
    par::chunks_mut(c, rows * n, |i, c_rows| {
        let i0 = i * rows;
        let mc = c_rows.len() / n;
        // Row i0 of op(A) starts at element i0 * k (stored m x k) or i0 (stored k x m).
        let a_off = if trans_a { i0 } else { i0 * k };
        gemm_strided(mc, k, n, alpha, &a[a_off..], sa, b, sb, beta, c_rows, (n, 1));
    });
}

/// Columns `j0 .. j0 + c.len()` of the one-row product `c = alpha * a op(B) + beta * c`,
/// with `a` of length `k` and `op(B)` `k x n` (`B` stored `n x k` when `trans_b`).
///
/// Each element is a sum over `k` in a fixed order that does not depend on
/// `j0` or on the block size, so the result does not depend on how the
/// columns are split over threads.
fn gemv(
    ks: KernelSet,
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
    let mut sums = vec![0.0f32; c.len()];
    if trans_b {
        // Column j of op(B) is row j of B: contiguous dot products.
        ks.dots(a, &b[j0 * k..], k, &mut sums);
    } else {
        // Row p of B scaled by a[p], accumulated into the block; the block
        // stays in cache while B streams past once.
        ks.axpys(a, &b[j0..], n, &mut sums);
    }
    for (cj, &s) in c.iter_mut().zip(&sums) {
        *cj = if beta == 0.0 { alpha * s } else { alpha * s + beta * *cj };
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

#[cfg(test)]
mod tests {
    use super::{gemm, with_kernel_set, KernelSet, MIN_COLS_PER_TASK, PAR_MIN_MACS};
    use crate::kernels::geom::Conv2dGeom;
    use crate::kernels::reference;
    use crate::kernels::testing::{conv3x3, max_rel_err, pool, same_bits, sets, uniform, REL_TOL};
    use proptest::prelude::*;

    #[test]
    fn the_process_default_follows_the_cpu_and_the_environment() {
        let allowed = std::env::var_os("EEGLENS_NO_AVX512").is_none();
        let want = if allowed {
            KernelSet::avx512().unwrap_or(KernelSet::portable())
        } else {
            KernelSet::portable()
        };
        assert_eq!(KernelSet::process_default(), want);
        let config = super::KernelConfig::of_process();
        assert_eq!((config.set, config.avx512_disabled), (want, !allowed));
        assert!(config.to_string().starts_with(want.name()), "{config}");
        eprintln!("kernel set of this process: {}", want.name());
        assert_eq!(KernelSet::available()[0], KernelSet::portable());
        assert_eq!(KernelSet::available().len(), 1 + usize::from(KernelSet::avx512().is_some()));
    }

    #[test]
    fn with_kernel_set_overrides_this_thread_and_restores_even_after_a_panic() {
        let before = KernelSet::current();
        for set in KernelSet::available() {
            assert_eq!(with_kernel_set(set, KernelSet::current), set);
            let nested = with_kernel_set(set, || with_kernel_set(KernelSet::portable(), KernelSet::current));
            assert_eq!(nested, KernelSet::portable());
            assert_eq!(KernelSet::current(), before);
            let panicked = std::panic::catch_unwind(|| with_kernel_set(set, || panic!("inside")));
            assert!(panicked.is_err());
            assert_eq!(KernelSet::current(), before);
        }
    }

    #[test]
    fn only_the_avx512_set_reads_convolutions_in_place_or_transposes_the_weight_gradient() {
        let g = conv3x3(2, 16, 32, 6, 40);
        let portable = KernelSet::portable();
        assert!(portable.padded_conv(&g).is_none() && !portable.weight_grad_transposed(&g));
        if let Some(ks) = KernelSet::avx512() {
            assert!(ks.padded_conv(&g).is_some() && ks.weight_grad_transposed(&g));
            assert!(ks.padded_conv(&Conv2dGeom { stride_w: 2, ..g }).is_none());
            assert!(ks.padded_conv(&Conv2dGeom { groups: 2, ..g }).is_none());
            assert!(!ks.weight_grad_transposed(&Conv2dGeom { c_out: 16, ..g }));
            assert!(!ks.weight_grad_transposed(&Conv2dGeom { groups: 2, ..g }));
        }
    }

    /// `x` (rows x cols, row stride ld) read back row-major and dense.
    fn dense(x: &[f32], rows: usize, cols: usize, ld: usize) -> Vec<f32> {
        (0..rows).flat_map(|r| x[r * ld..r * ld + cols].to_vec()).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// The products the convolutions ask for, on every set: every block
        /// shape and remainder of the AVX-512 kernels (rows not a multiple of
        /// 8 or 4, columns not a multiple of 16 or 32, inner sizes that fill no
        /// vector, none at all), padded row strides, with and without
        /// accumulation; the padding between rows of `C` is never written.
        #[test]
        fn strided_products_match_reference_on_every_set(
            m in 1usize..=19,
            k in 0usize..=37,
            n in 1usize..=71,
            pad in 0usize..=3,
            beta in prop::sample::select(vec![0.0f32, 0.5]),
            seed in any::<u64>(),
        ) {
            // NN: A m x k, B k x n; NT: A m x k, B n x k; TN: A k x m, B k x n.
            let (lda, lda_t, ldb_nn, ldb_nt, ldc) = (k + pad, m + pad, n + pad, k + pad, n + 2 * pad);
            let a = uniform(seed, m * lda);
            let a_t = uniform(seed ^ 1, k * lda_t);
            let b_nn = uniform(seed ^ 2, k * ldb_nn);
            let b_nt = uniform(seed ^ 3, n * ldb_nt);
            let c0 = uniform(seed ^ 4, m * ldc);
            for ks in KernelSet::available() {
                for form in ["nn", "nt", "tn"] {
                    let mut c = c0.clone();
                    let mut want = dense(&c0, m, n, ldc);
                    match form {
                        "nn" => {
                            ks.gemm_nn(m, k, n, &a, lda, &b_nn, ldb_nn, beta, &mut c, ldc);
                            let (ad, bd) = (dense(&a, m, k, lda), dense(&b_nn, k, n, ldb_nn));
                            reference::gemm(m, k, n, 1.0, &ad, false, &bd, false, beta, &mut want);
                        }
                        "nt" => {
                            ks.gemm_nt(m, k, n, &a, lda, &b_nt, ldb_nt, beta, &mut c, ldc);
                            let (ad, bd) = (dense(&a, m, k, lda), dense(&b_nt, n, k, ldb_nt));
                            reference::gemm(m, k, n, 1.0, &ad, false, &bd, true, beta, &mut want);
                        }
                        _ => {
                            ks.gemm_tn(m, k, n, &a_t, lda_t, &b_nn, ldb_nn, beta, &mut c, ldc);
                            let (ad, bd) = (dense(&a_t, k, m, lda_t), dense(&b_nn, k, n, ldb_nn));
                            reference::gemm(m, k, n, 1.0, &ad, true, &bd, false, beta, &mut want);
                        }
                    }
                    let e = max_rel_err(&dense(&c, m, n, ldc), &want);
                    prop_assert!(e <= REL_TOL, "{ks:?} {form} {m}x{k}x{n} pad {pad} beta {beta}: rel. error {e:e}");
                    for r in 0..m {
                        let gap = r * ldc + n..(r * ldc + ldc).min(c.len());
                        prop_assert_eq!(&c[gap.clone()], &c0[gap], "{:?} {} wrote between rows", ks, form);
                    }
                }
            }
        }

        /// The matrix-vector products behind one-row `gemm`s, on every set,
        /// with exact zeros in the vector (rows the AVX-512 axpys skip) and
        /// padded row strides. Each element is held to the rounding of its own
        /// terms: a sum that cancels to near zero is as exact as its terms
        /// allow, which a tolerance relative to the result alone cannot see.
        #[test]
        fn matrix_vector_products_match_reference_on_every_set(
            k in 1usize..=70,
            n in 1usize..=41,
            pad in 0usize..=3,
            zeros in 0usize..=3,
            seed in any::<u64>(),
        ) {
            let mut a = uniform(seed, k);
            if zeros > 0 {
                for p in (0..k).step_by(zeros + 1) {
                    a[p] = 0.0;
                }
            }
            // dots: B is n rows of k; axpys: B is k rows of n.
            let (ld_d, ld_a) = (k + pad, n + pad);
            let b_d = uniform(seed ^ 1, n * ld_d);
            let b_a = uniform(seed ^ 2, k * ld_a);
            let start = uniform(seed ^ 3, n);
            let abs = |v: &[f32]| v.iter().map(|x| x.abs()).collect::<Vec<_>>();
            for ks in KernelSet::available() {
                let mut out = vec![f32::NAN; n];
                ks.dots(&a, &b_d, ld_d, &mut out);
                let (mut want, mut scale) = (vec![0.0; n], vec![0.0; n]);
                let bd = dense(&b_d, n, k, ld_d);
                reference::gemm(1, k, n, 1.0, &a, false, &bd, true, 0.0, &mut want);
                reference::gemm(1, k, n, 1.0, &abs(&a), false, &abs(&bd), true, 0.0, &mut scale);
                for j in 0..n {
                    prop_assert!((out[j] - want[j]).abs() <= REL_TOL * scale[j], "{ks:?} dots k={k} n={n} j={j}");
                }
                let mut out = start.clone();
                ks.axpys(&a, &b_a, ld_a, &mut out);
                let (mut want, mut scale) = (start.clone(), abs(&start));
                let ba = dense(&b_a, k, n, ld_a);
                reference::gemm(1, k, n, 1.0, &a, false, &ba, false, 1.0, &mut want);
                reference::gemm(1, k, n, 1.0, &abs(&a), false, &abs(&ba), false, 1.0, &mut scale);
                for j in 0..n {
                    prop_assert!((out[j] - want[j]).abs() <= REL_TOL * scale[j], "{ks:?} axpys k={k} n={n} j={j}");
                }
            }
        }
    }

    /// Every path of the public `gemm` (one row; a few rows on one task;
    /// column blocks; row blocks over threads; transposed `A`, `alpha != 1`),
    /// on every set and on 1, 2 and 3 threads: against the reference, and
    /// bit for bit the same whatever the thread count.
    #[test]
    fn gemm_matches_reference_on_every_set_and_path() {
        let shapes = [(1, 3001, 517), (13, 301, 517), (5, 40, 33), (67, 203, 101), (1, 7, 3)];
        let sets = sets("gemm_matches_reference_on_every_set_and_path");
        for (si, &(m, k, n)) in shapes.iter().enumerate() {
            let a = uniform(si as u64, m * k);
            let b = uniform(100 + si as u64, k * n);
            let c0 = uniform(200 + si as u64, m * n);
            for (trans_a, trans_b) in [(false, false), (true, false), (false, true), (true, true)] {
                for (alpha, beta) in [(1.0f32, 0.0f32), (1.0, 0.5), (0.75, 0.0), (0.75, 0.5)] {
                    let mut want = c0.clone();
                    reference::gemm(m, k, n, alpha, &a, trans_a, &b, trans_b, beta, &mut want);
                    for &ks in &sets {
                        let run = |threads: usize| {
                            let mut c = c0.clone();
                            pool(threads).install(|| {
                                with_kernel_set(ks, || {
                                    gemm(m, k, n, alpha, &a, trans_a, &b, trans_b, beta, &mut c)
                                })
                            });
                            c
                        };
                        let (c1, c2, c3) = (run(1), run(2), run(3));
                        let what =
                            format!("{ks:?} {m}x{k}x{n} ta={trans_a} tb={trans_b} alpha={alpha} beta={beta}");
                        let e = max_rel_err(&c2, &want);
                        assert!(e <= REL_TOL, "{what}: rel. error {e:e}");
                        // Except for row blocks with alpha != 1 and beta != 0 (see `gemm`).
                        let column_blocks =
                            m < n && m < k && m * k * n >= PAR_MIN_MACS && n >= 2 * MIN_COLS_PER_TASK;
                        if alpha == 1.0 || beta == 0.0 || m == 1 || column_blocks {
                            assert!(
                                same_bits(&c1, &c2) && same_bits(&c1, &c3),
                                "{what}: thread counts differ"
                            );
                        }
                    }
                }
            }
        }
    }

    /// The packed few-row `A B` (a linear layer's input gradient) is the
    /// unpacked kernel bit for bit: ragged strips and panels, a panel budget
    /// smaller than one strip (large `k`), padded `C`, with and without `beta`.
    #[test]
    fn packed_few_row_products_are_the_unpacked_kernel_bit_for_bit() {
        let Some(t) = super::Avx512::detect() else {
            eprintln!("packed_few_row_products_are_the_unpacked_kernel_bit_for_bit: skipped, no AVX-512F");
            return;
        };
        let shapes =
            [(9, 1, 33), (13, 37, 100), (40, 1024, 700), (64, 300, 97), (17, 5000, 70), (40, 129, 4099)];
        for (i, &(m, k, n)) in shapes.iter().enumerate() {
            let ldb = n + 3;
            let ldc = n + 5;
            let a = uniform(i as u64, m * k);
            let b = uniform(50 + i as u64, k * ldb);
            for beta in [0.0f32, 0.5] {
                let c0 = uniform(90 + i as u64, m * ldc);
                let (mut want, mut got) = (c0.clone(), c0.clone());
                t.gemm_nn(m, k, n, &a, k, &b, ldb, beta, &mut want, ldc);
                super::gemm_nn_packed(t, m, k, n, &a, &b, ldb, beta, &mut got, ldc);
                assert!(same_bits(&got, &want), "{m}x{k}x{n} beta {beta}: packed differs from unpacked");
            }
        }
    }

    /// The override really switches code: on a CPU with AVX-512 the two sets
    /// round a few-row product differently (fused multiply-adds, another
    /// summation order), so a test that runs both has tested both.
    #[test]
    fn the_two_sets_run_different_code() {
        let Some(avx) = KernelSet::avx512() else {
            eprintln!("the_two_sets_run_different_code: skipped, this CPU has no AVX-512F");
            return;
        };
        let (m, k, n) = (13, 301, 517);
        let (a, b) = (uniform(1, m * k), uniform(2, k * n));
        let run = |ks| {
            let mut c = vec![0.0; m * n];
            with_kernel_set(ks, || gemm(m, k, n, 1.0, &a, false, &b, false, 0.0, &mut c));
            c
        };
        assert!(!same_bits(&run(avx), &run(KernelSet::portable())));
    }
}

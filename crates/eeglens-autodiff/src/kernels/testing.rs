//! What the kernel tests share: random data, the error measure against
//! `reference.rs`, thread pools, and the kernel sets to run.

use super::geom::Conv2dGeom;
use super::products::KernelSet;

/// f32 kernels against the f64-accumulating reference: max abs error over
/// max abs reference value. Inputs are in [-1, 1] and sums are at most a few
/// hundred terms long, so float32 rounding stays far below this.
pub(crate) const REL_TOL: f32 = 2e-5;

/// `len` values in [-1, 1) from a fixed seed (splitmix64; the kernels import
/// nothing from the rest of the crate, their tests neither).
pub(crate) fn uniform(seed: u64, len: usize) -> Vec<f32> {
    let mut s = seed;
    (0..len)
        .map(|_| {
            s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            (z >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}

/// Max abs error over max abs wanted value.
pub(crate) fn max_rel_err(got: &[f32], want: &[f32]) -> f32 {
    assert_eq!(got.len(), want.len());
    let scale = want.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let err = got.iter().zip(want).fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
    if scale == 0.0 {
        err
    } else {
        err / scale
    }
}

/// A rayon pool of `threads` threads.
pub(crate) fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("thread pool")
}

/// Every kernel set this CPU runs; says on stderr when the AVX-512 half of
/// test `what` is skipped.
pub(crate) fn sets(what: &str) -> Vec<KernelSet> {
    let sets = KernelSet::available();
    if sets.len() == 1 {
        eprintln!("{what}: this CPU has no AVX-512F, only the portable kernel set is tested");
    }
    sets
}

/// The AVX-512 set, or `None` after saying on stderr that test `what` is skipped.
pub(crate) fn avx512_set(what: &str) -> Option<KernelSet> {
    let set = KernelSet::avx512();
    if set.is_none() {
        eprintln!("{what}: skipped, this CPU has no AVX-512F");
    }
    set
}

/// A dense 3x3, stride-1, padding-1 convolution (R-VGG's shape) of `n` samples.
pub(crate) fn conv3x3(n: usize, c_in: usize, c_out: usize, h: usize, w: usize) -> Conv2dGeom {
    Conv2dGeom {
        n,
        c_in,
        h,
        w,
        c_out,
        k_h: 3,
        k_w: 3,
        stride_h: 1,
        stride_w: 1,
        pad_h: 1,
        pad_w: 1,
        groups: 1,
    }
}

/// Buffers of one convolution: inputs from a seed, outputs full of NaN (the
/// kernels must overwrite them).
pub(crate) struct ConvData {
    pub(crate) x: Vec<f32>,
    pub(crate) w: Vec<f32>,
    pub(crate) b: Vec<f32>,
    pub(crate) gy: Vec<f32>,
}

impl ConvData {
    pub(crate) fn new(g: &Conv2dGeom, seed: u64) -> Self {
        Self {
            x: uniform(seed, g.x_len()),
            w: uniform(seed ^ 1, g.w_len()),
            b: uniform(seed ^ 2, g.c_out),
            gy: uniform(seed ^ 3, g.y_len()),
        }
    }
}

/// `max(v, 0)` with NaN passing through, as the fused ReLU computes it.
pub(crate) fn relu(v: f32) -> f32 {
    if v <= 0.0 {
        0.0
    } else {
        v
    }
}

/// Whether two slices are equal bit for bit.
pub(crate) fn same_bits(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

// One bf16 pair, `lo` in the low half (the portable rounding of the weights' packing).
pub(crate) use super::conv::bf16_pair;

/// `x` rounded to bf16 (nearest, ties to even), as an `f32`.
pub(crate) fn to_bf16(x: f32) -> f32 {
    f32::from_bits(bf16_pair(x, 0.0) << 16)
}

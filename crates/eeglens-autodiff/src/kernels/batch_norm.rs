//! Batch normalisation's passes over NCHW planes: per-plane sums for the
//! statistics and the gradient, and the element-wise normalisation and input
//! gradient.
//!
//! # Algorithm and memory layout
//! `x` is `[n, c, hw]` (a 2-D `[n, c]` input is `hw = 1`), row-major: plane
//! `p` is `x[p * hw..(p + 1) * hw]` and holds channel `p % c`. Every pass works
//! plane by plane, the planes split into one contiguous block per thread
//! (small inputs stay on the calling thread). Sums are per plane, in `f64`, over
//! eight interleaved partial sums (so they vectorise) combined in a fixed
//! order; the caller adds a channel's planes in plane order. A plane's sum is
//! therefore the same whatever the thread count, and so is everything built
//! from it: batch normalisation gives the same bits on 1 or 2 threads.

use super::par;

/// Inputs smaller than this many elements are handled on the calling thread.
const PAR_MIN_ELEMS: usize = 1 << 15;

/// Planes per task: all of them for a small input, else one block per thread.
fn planes_per_task(planes: usize, hw: usize) -> usize {
    if planes * hw < PAR_MIN_ELEMS {
        planes.max(1)
    } else {
        planes.div_ceil(par::threads()).max(1)
    }
}

fn check(kernel: &str, x_len: usize, hw: usize, c: usize, per_channel: &[(&str, usize)]) {
    assert!(hw > 0 && c > 0, "{kernel}: hw {hw} and c {c} must be positive");
    assert!(
        x_len % (hw * c) == 0,
        "{kernel}: {x_len} elements are not a whole number of [c = {c}, hw = {hw}] samples"
    );
    for &(name, len) in per_channel {
        assert!(len == c, "{kernel}: `{name}` has {len} values for {c} channels");
    }
}

/// `sum f(x_i)` over `xs` in `f64`: eight interleaved partial sums, then a fixed tree.
#[inline(always)]
fn sum8(xs: &[f32], f: impl Fn(f32) -> f64) -> f64 {
    let mut acc = [0.0f64; 8];
    let mut chunks = xs.chunks_exact(8);
    for ch in &mut chunks {
        for (a, &v) in acc.iter_mut().zip(ch) {
            *a += f(v);
        }
    }
    let mut tail = 0.0f64;
    for &v in chunks.remainder() {
        tail += f(v);
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

/// Per plane, `(sum g, sum g * xhat)` in `f64` with `xhat = (x - mean) * invstd` in `f32`.
#[inline(always)]
fn grad_sums(xs: &[f32], gs: &[f32], m: f32, is: f32) -> (f64, f64) {
    let (mut ag, mut agx) = ([0.0f64; 8], [0.0f64; 8]);
    let mut xc = xs.chunks_exact(8);
    let mut gc = gs.chunks_exact(8);
    for (x8, g8) in (&mut xc).zip(&mut gc) {
        for i in 0..8 {
            let g = g8[i] as f64;
            ag[i] += g;
            agx[i] += g * ((x8[i] - m) * is) as f64;
        }
    }
    let (mut tg, mut tgx) = (0.0f64, 0.0f64);
    for (&xv, &gv) in xc.remainder().iter().zip(gc.remainder()) {
        tg += gv as f64;
        tgx += gv as f64 * ((xv - m) * is) as f64;
    }
    let tree = |a: [f64; 8]| ((a[0] + a[4]) + (a[1] + a[5])) + ((a[2] + a[6]) + (a[3] + a[7]));
    (tree(ag) + tg, tree(agx) + tgx)
}

/// Per plane, the sum of `x` and, when `mean` is given (per channel), the sum of
/// `(x - mean)^2`, in `f64`: `sums[p]` for plane `p`.
///
/// # Panics
/// When `x` is not whole `[c, hw]` samples, `sums` does not hold one value per
/// plane, or `mean` does not hold `c` values.
pub fn batch_norm_plane_sums(x: &[f32], hw: usize, c: usize, mean: Option<&[f64]>, sums: &mut [f64]) {
    check("batch_norm_plane_sums", x.len(), hw, c, &[("mean", mean.map_or(c, <[f64]>::len))]);
    let planes = x.len() / hw;
    assert!(
        sums.len() == planes,
        "batch_norm_plane_sums: `sums` has {} values for {planes} planes",
        sums.len()
    );
    let ppt = planes_per_task(planes, hw);
    par::chunks_mut(sums, ppt, |t, blk| {
        for (j, s) in blk.iter_mut().enumerate() {
            let p = t * ppt + j;
            let plane = &x[p * hw..(p + 1) * hw];
            *s = match mean {
                None => sum8(plane, |v| v as f64),
                Some(mean) => {
                    let m = mean[p % c];
                    sum8(plane, |v| {
                        let d = v as f64 - m;
                        d * d
                    })
                }
            };
        }
    });
}

/// `y = (x - mean) * scale + shift`, per channel (`scale = gamma * invstd`,
/// `shift = beta`).
///
/// # Panics
/// When the lengths do not fit (see [`batch_norm_plane_sums`]) or `y` is not shaped like `x`.
pub fn batch_norm_apply(
    x: &[f32],
    hw: usize,
    c: usize,
    mean: &[f32],
    scale: &[f32],
    shift: &[f32],
    y: &mut [f32],
) {
    check(
        "batch_norm_apply",
        x.len(),
        hw,
        c,
        &[("mean", mean.len()), ("scale", scale.len()), ("shift", shift.len())],
    );
    assert!(y.len() == x.len(), "batch_norm_apply: `y` has {} elements, `x` {}", y.len(), x.len());
    let planes = x.len() / hw;
    let ppt = planes_per_task(planes, hw);
    par::chunks_mut(y, ppt * hw, |t, blk| {
        for (j, dst) in blk.chunks_exact_mut(hw).enumerate() {
            let p = t * ppt + j;
            let ch = p % c;
            let (m, k, b) = (mean[ch], scale[ch], shift[ch]);
            for (d, &v) in dst.iter_mut().zip(&x[p * hw..(p + 1) * hw]) {
                *d = (v - m) * k + b;
            }
        }
    });
}

/// Per plane, `(sum g, sum g * xhat)` in `f64`, `xhat = (x - mean) * invstd` per channel:
/// `sums[p]` for plane `p` (the gradients of `beta` and `gamma`, once a channel's planes
/// are added).
///
/// # Panics
/// When the lengths do not fit or `g` is not shaped like `x`.
pub fn batch_norm_grad_sums(
    x: &[f32],
    g: &[f32],
    hw: usize,
    c: usize,
    mean: &[f32],
    invstd: &[f32],
    sums: &mut [(f64, f64)],
) {
    check("batch_norm_grad_sums", x.len(), hw, c, &[("mean", mean.len()), ("invstd", invstd.len())]);
    assert!(g.len() == x.len(), "batch_norm_grad_sums: `g` has {} elements, `x` {}", g.len(), x.len());
    let planes = x.len() / hw;
    assert!(
        sums.len() == planes,
        "batch_norm_grad_sums: `sums` has {} values for {planes} planes",
        sums.len()
    );
    let ppt = planes_per_task(planes, hw);
    par::chunks_mut(sums, ppt, |t, blk| {
        for (j, s) in blk.iter_mut().enumerate() {
            let p = t * ppt + j;
            let ch = p % c;
            let r = p * hw..(p + 1) * hw;
            *s = grad_sums(&x[r.clone()], &g[r], mean[ch], invstd[ch]);
        }
    });
}

/// The input gradient, per channel: with batch statistics (`centre` given as
/// `(mean_g, k2)` per channel) `gx = k1 * (g - mean_g - (x - mean) * k2)`, where
/// `k1 = gamma * invstd`, `mean_g` is the channel's mean gradient and `k2 = invstd *
/// mean(g * xhat)`; with fixed statistics (`centre` `None`) `gx = k1 * g`.
///
/// # Panics
/// When the lengths do not fit or `g` and `gx` are not shaped like `x`.
pub fn batch_norm_backward_input(
    x: &[f32],
    g: &[f32],
    hw: usize,
    c: usize,
    mean: &[f32],
    k1: &[f32],
    centre: Option<(&[f32], &[f32])>,
    gx: &mut [f32],
) {
    let (mg_len, k2_len) = centre.map_or((c, c), |(a, b)| (a.len(), b.len()));
    check(
        "batch_norm_backward_input",
        x.len(),
        hw,
        c,
        &[("mean", mean.len()), ("k1", k1.len()), ("mean_g", mg_len), ("k2", k2_len)],
    );
    assert!(
        g.len() == x.len() && gx.len() == x.len(),
        "batch_norm_backward_input: `g` has {} and `gx` {} elements, `x` {}",
        g.len(),
        gx.len(),
        x.len()
    );
    let planes = x.len() / hw;
    let ppt = planes_per_task(planes, hw);
    par::chunks_mut(gx, ppt * hw, |t, blk| {
        for (j, os) in blk.chunks_exact_mut(hw).enumerate() {
            let p = t * ppt + j;
            let ch = p % c;
            let r = p * hw..(p + 1) * hw;
            let k = k1[ch];
            match centre {
                Some((mean_g, k2)) => {
                    let (m, mg, k2) = (mean[ch], mean_g[ch], k2[ch]);
                    for ((o, &xv), &gv) in os.iter_mut().zip(&x[r.clone()]).zip(&g[r]) {
                        *o = k * (gv - mg - (xv - m) * k2);
                    }
                }
                None => {
                    for (o, &gv) in os.iter_mut().zip(&g[r]) {
                        *o = k * gv;
                    }
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values of a small LCG, spread over [-3, 3) plus an offset per channel.
    fn data(len: usize, c: usize, hw: usize, seed: u64) -> Vec<f32> {
        let mut s = seed;
        (0..len)
            .map(|i| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let u = (s >> 40) as f32 / (1u64 << 24) as f32;
                6.0 * u - 3.0 + ((i / hw) % c) as f32
            })
            .collect()
    }

    fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
        rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a pool").install(f)
    }

    #[test]
    fn plane_sums_are_the_plain_sums_and_thread_independent() {
        // Small (inline) and large (split over threads) inputs, plane lengths with and without
        // a remainder of 8.
        for &(n, c, hw) in &[(2usize, 3usize, 5usize), (4, 16, 24 * 256), (3, 5, 1), (40, 2, 1031)] {
            let x = data(n * c * hw, c, hw, (n * c * hw) as u64);
            let planes = n * c;
            let mean: Vec<f64> = (0..c).map(|ch| ch as f64 + 0.25).collect();
            let run = |threads| {
                in_pool(threads, || {
                    let (mut s, mut q) = (vec![0.0; planes], vec![0.0; planes]);
                    batch_norm_plane_sums(&x, hw, c, None, &mut s);
                    batch_norm_plane_sums(&x, hw, c, Some(&mean), &mut q);
                    (s, q)
                })
            };
            let (s1, q1) = run(1);
            assert_eq!(run(2), (s1.clone(), q1.clone()), "{n}x{c}x{hw}: bits depend on threads");
            for p in 0..planes {
                let plane = &x[p * hw..(p + 1) * hw];
                let want: f64 = plane.iter().map(|&v| v as f64).sum();
                let want_q: f64 = plane.iter().map(|&v| (v as f64 - mean[p % c]).powi(2)).sum();
                assert!((s1[p] - want).abs() <= 1e-9 * (1.0 + want.abs()), "plane {p}: {} vs {want}", s1[p]);
                assert!((q1[p] - want_q).abs() <= 1e-9 * (1.0 + want_q), "plane {p}: {} vs {want_q}", q1[p]);
            }
        }
    }

    #[test]
    fn apply_grad_sums_and_input_gradient_match_their_formulas() {
        for &(n, c, hw) in &[(2usize, 3usize, 7usize), (8, 16, 24 * 64), (5, 4, 1)] {
            let len = n * c * hw;
            let (x, g) = (data(len, c, hw, 7), data(len, c, hw, 11));
            let mean: Vec<f32> = (0..c).map(|ch| ch as f32 * 0.9).collect();
            let invstd: Vec<f32> = (0..c).map(|ch| 0.5 + ch as f32 * 0.1).collect();
            let scale: Vec<f32> = (0..c).map(|ch| 1.5 - ch as f32 * 0.2).collect();
            let shift: Vec<f32> = (0..c).map(|ch| ch as f32 * -0.3).collect();
            let mean_g: Vec<f32> = (0..c).map(|ch| 0.01 * ch as f32).collect();
            let k2: Vec<f32> = (0..c).map(|ch| 0.2 - 0.05 * ch as f32).collect();
            let run = |threads| {
                in_pool(threads, || {
                    let mut y = vec![0.0; len];
                    batch_norm_apply(&x, hw, c, &mean, &scale, &shift, &mut y);
                    let mut sums = vec![(0.0, 0.0); n * c];
                    batch_norm_grad_sums(&x, &g, hw, c, &mean, &invstd, &mut sums);
                    let (mut gx, mut gx_eval) = (vec![0.0; len], vec![0.0; len]);
                    batch_norm_backward_input(&x, &g, hw, c, &mean, &scale, Some((&mean_g, &k2)), &mut gx);
                    batch_norm_backward_input(&x, &g, hw, c, &mean, &scale, None, &mut gx_eval);
                    (y, sums, gx, gx_eval)
                })
            };
            let (y, sums, gx, gx_eval) = run(1);
            assert!(
                run(2) == (y.clone(), sums.clone(), gx.clone(), gx_eval.clone()),
                "bits depend on threads"
            );
            for i in 0..len {
                let ch = (i / hw) % c;
                assert_eq!(y[i], (x[i] - mean[ch]) * scale[ch] + shift[ch]);
                assert_eq!(gx[i], scale[ch] * (g[i] - mean_g[ch] - (x[i] - mean[ch]) * k2[ch]));
                assert_eq!(gx_eval[i], scale[ch] * g[i]);
            }
            for (p, &(sg, sgx)) in sums.iter().enumerate() {
                let ch = p % c;
                let r = p * hw..(p + 1) * hw;
                let want_g: f64 = g[r.clone()].iter().map(|&v| v as f64).sum();
                let want_gx: f64 = x[r.clone()]
                    .iter()
                    .zip(&g[r])
                    .map(|(&xv, &gv)| gv as f64 * ((xv - mean[ch]) * invstd[ch]) as f64)
                    .sum();
                assert!((sg - want_g).abs() <= 1e-9 * (1.0 + want_g.abs()), "plane {p}");
                assert!((sgx - want_gx).abs() <= 1e-9 * (1.0 + want_gx.abs()), "plane {p}");
            }
        }
    }

    #[test]
    #[should_panic(expected = "batch_norm_apply: `scale` has 2 values for 3 channels")]
    fn a_wrong_channel_count_panics_with_the_names() {
        let x = vec![0.0; 12];
        let mut y = vec![0.0; 12];
        batch_norm_apply(&x, 2, 3, &[0.0; 3], &[1.0; 2], &[0.0; 3], &mut y);
    }
}

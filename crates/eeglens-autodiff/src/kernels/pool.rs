//! Max and average pooling over NCHW planes (no padding, floor mode).
//!
//! # Algorithm and memory layout
//! `x` is `[n, c, h, w]` and `y` is `[n, c, h_out, w_out]`, row-major; every
//! `(n, c)` plane is pooled on its own, so the planes are split into one
//! contiguous block per thread (small inputs stay on the calling thread:
//! pooling is a memory pass, cheaper than waking a thread). Output `(oh, ow)`
//! reads the window of rows `oh * stride_h ..+ k_h` and columns
//! `ow * stride_w ..+ k_w`; windows that do not fit are dropped (floor mode).
//! Max pool records, per output, its argmax within the plane (`row * w + col`)
//! so backward (and the deconvnet) can route a gradient or a signal back.

use super::geom::Pool2dGeom;
use super::par;

/// Inputs smaller than this many elements are pooled on the calling thread.
const PAR_MIN_ELEMS: usize = 1 << 16;

fn check(kernel: &str, g: &Pool2dGeom, bufs: &[(&str, usize, usize)]) {
    if let Err(e) = g.validate() {
        panic!("{kernel}: invalid geometry: {e}");
    }
    for &(name, got, want) in bufs {
        assert!(got == want, "{kernel}: `{name}` has {got} elements, the geometry {g:?} needs {want}");
    }
}

/// Planes per task: all of them when the input is small, else one block per thread.
fn planes_per_task(g: &Pool2dGeom) -> usize {
    let planes = g.n * g.c;
    if g.x_len() < PAR_MIN_ELEMS {
        planes
    } else {
        planes.div_ceil(par::threads()).max(1)
    }
}

/// Offers value `v` at plane position `i` to a running maximum: taken when
/// strictly greater or NaN (PyTorch's rule), as branch-free selects.
#[inline(always)]
fn offer(best: &mut f32, arg: &mut u32, v: f32, i: u32) {
    let take = v > *best || v.is_nan();
    *best = if take { v } else { *best };
    *arg = if take { i } else { *arg };
}

/// One output row of the common 2x2, stride 2 max pool: `rows` holds the two
/// input rows (width `w`) starting at plane position `base`. Each window is
/// reduced in registers and written once (vectorises). Starting from the
/// window's first tap instead of -inf gives the same value and switch.
fn pool_row_2x2(rows: &[f32], w: usize, base: u32, y_r: &mut [f32], sw_r: &mut [u32]) {
    let (top, bottom) = rows.split_at(w);
    let w = w as u32;
    for (ow, (((yv, sv), t), b)) in
        y_r.iter_mut().zip(sw_r.iter_mut()).zip(top.chunks_exact(2)).zip(bottom.chunks_exact(2)).enumerate()
    {
        let (mut best, mut arg) = (t[0], 0u32);
        for (v, off) in [(t[1], 1), (b[0], w), (b[1], w + 1)] {
            let take = v > best || v.is_nan();
            best = if take { v } else { best };
            arg = if take { off } else { arg };
        }
        *yv = best;
        *sv = base + 2 * ow as u32 + arg;
    }
}

/// Max pool that records, for each output, where its maximum came from.
///
/// Layout: `x` is `[n, c, h, w]`, `y` and `switches` are `[n, c, h_out, w_out]`.
/// `switches[j]` is the argmax of output `j` within its own `(n, c)` input
/// plane, encoded `row * w + col`. Ties go to the first maximum in row-major
/// window order, NaN wins over any number, and a window of only `-inf` points
/// at its first position (all as PyTorch does). Overwrites `y` and `switches`.
///
/// # Panics
/// When the geometry is invalid or a buffer length does not match it.
pub fn max_pool2d_forward(g: &Pool2dGeom, x: &[f32], y: &mut [f32], switches: &mut [u32]) {
    check(
        "max_pool2d_forward",
        g,
        &[("x", x.len(), g.x_len()), ("y", y.len(), g.y_len()), ("switches", switches.len(), g.y_len())],
    );
    let (h_out, w_out) = (g.h_out(), g.w_out());
    let (hw, hw_out) = (g.h * g.w, h_out * w_out);
    let ppt = planes_per_task(g);
    par::zip_chunks_mut(y, ppt * hw_out, switches, ppt * hw_out, |t, y_blk, sw_blk| {
        let x_blk = &x[t * ppt * hw..];
        for ((plane, y_p), sw_p) in
            x_blk.chunks_exact(hw).zip(y_blk.chunks_exact_mut(hw_out)).zip(sw_blk.chunks_exact_mut(hw_out))
        {
            for (oh, (y_r, sw_r)) in y_p.chunks_exact_mut(w_out).zip(sw_p.chunks_exact_mut(w_out)).enumerate()
            {
                let h0 = oh * g.stride_h;
                // A whole output row at once: start every window at -inf with
                // its first position, then offer the window's taps in
                // row-major order. The update is a branch-free select over
                // the row (PyTorch's rule: strictly greater, or NaN).
                if (g.k_h, g.k_w, g.stride_w) == (2, 2, 2) {
                    pool_row_2x2(&plane[h0 * g.w..][..2 * g.w], g.w, (h0 * g.w) as u32, y_r, sw_r);
                    continue;
                }
                for (ow, (yv, sv)) in y_r.iter_mut().zip(sw_r.iter_mut()).enumerate() {
                    *yv = f32::NEG_INFINITY;
                    *sv = (h0 * g.w + ow * g.stride_w) as u32;
                }
                for r in h0..h0 + g.k_h {
                    let row = &plane[r * g.w..][..g.w];
                    for kw in 0..g.k_w {
                        let taps = row[kw..].iter().step_by(g.stride_w);
                        let base = (r * g.w + kw) as u32;
                        let step = g.stride_w as u32;
                        for (ow, ((yv, sv), &v)) in y_r.iter_mut().zip(sw_r.iter_mut()).zip(taps).enumerate()
                        {
                            offer(yv, sv, v, base + ow as u32 * step);
                        }
                    }
                }
            }
        }
    });
}

/// Max-pool backward: `gx` is zero-filled, then each `gy[j]` is added at
/// `switches[j]` of its plane, so overlapping windows (kernel > stride)
/// accumulate. Layouts as in [`max_pool2d_forward`]; overwrites `gx`.
///
/// # Panics
/// When the geometry is invalid, a buffer length does not match it, or a
/// switch points outside its plane.
pub fn max_pool2d_backward(g: &Pool2dGeom, gy: &[f32], switches: &[u32], gx: &mut [f32]) {
    const K: &str = "max_pool2d_backward";
    check(
        K,
        g,
        &[("gy", gy.len(), g.y_len()), ("switches", switches.len(), g.y_len()), ("gx", gx.len(), g.x_len())],
    );
    let (hw, hw_out) = (g.h * g.w, g.h_out() * g.w_out());
    let ppt = planes_per_task(g);
    par::chunks_mut(gx, ppt * hw, |t, gx_blk| {
        let first = t * ppt * hw_out;
        let (gy_blk, sw_blk) = (&gy[first..], &switches[first..]);
        for (p, plane) in gx_blk.chunks_exact_mut(hw).enumerate() {
            plane.fill(0.0);
            let (gy_p, sw_p) = (&gy_blk[p * hw_out..][..hw_out], &sw_blk[p * hw_out..][..hw_out]);
            for (j, (&v, &s)) in gy_p.iter().zip(sw_p).enumerate() {
                let s = s as usize;
                assert!(
                    s < hw,
                    "{K}: switch {s} of output {} outside its {}x{} plane",
                    first + p * hw_out + j,
                    g.h,
                    g.w
                );
                plane[s] += v;
            }
        }
    });
}

/// Average pool: each output is the mean of its `k_h x k_w` window.
/// Layouts as in [`max_pool2d_forward`]; overwrites `y`.
///
/// # Panics
/// When the geometry is invalid or a buffer length does not match it.
pub fn avg_pool2d_forward(g: &Pool2dGeom, x: &[f32], y: &mut [f32]) {
    check("avg_pool2d_forward", g, &[("x", x.len(), g.x_len()), ("y", y.len(), g.y_len())]);
    let (h_out, w_out) = (g.h_out(), g.w_out());
    let (hw, hw_out) = (g.h * g.w, h_out * w_out);
    let inv_area = 1.0 / (g.k_h * g.k_w) as f32;
    let ppt = planes_per_task(g);
    par::chunks_mut(y, ppt * hw_out, |t, y_blk| {
        let x_blk = &x[t * ppt * hw..];
        for (plane, y_p) in x_blk.chunks_exact(hw).zip(y_blk.chunks_exact_mut(hw_out)) {
            for oh in 0..h_out {
                for ow in 0..w_out {
                    let (h0, w0) = (oh * g.stride_h, ow * g.stride_w);
                    let sum: f32 =
                        (h0..h0 + g.k_h).map(|r| plane[r * g.w + w0..][..g.k_w].iter().sum::<f32>()).sum();
                    y_p[oh * w_out + ow] = sum * inv_area;
                }
            }
        }
    });
}

/// Average-pool backward: overwrites `gx` with each `gy` spread evenly over
/// its window (overlapping windows accumulate). Layouts as in [`max_pool2d_forward`].
///
/// # Panics
/// When the geometry is invalid or a buffer length does not match it.
pub fn avg_pool2d_backward(g: &Pool2dGeom, gy: &[f32], gx: &mut [f32]) {
    check("avg_pool2d_backward", g, &[("gy", gy.len(), g.y_len()), ("gx", gx.len(), g.x_len())]);
    let (h_out, w_out) = (g.h_out(), g.w_out());
    let (hw, hw_out) = (g.h * g.w, h_out * w_out);
    let inv_area = 1.0 / (g.k_h * g.k_w) as f32;
    let ppt = planes_per_task(g);
    par::chunks_mut(gx, ppt * hw, |t, gx_blk| {
        let gy_blk = &gy[t * ppt * hw_out..];
        for (plane, gy_p) in gx_blk.chunks_exact_mut(hw).zip(gy_blk.chunks_exact(hw_out)) {
            plane.fill(0.0);
            for oh in 0..h_out {
                for ow in 0..w_out {
                    let (h0, w0) = (oh * g.stride_h, ow * g.stride_w);
                    let v = gy_p[oh * w_out + ow] * inv_area;
                    for r in h0..h0 + g.k_h {
                        for e in &mut plane[r * g.w + w0..][..g.k_w] {
                            *e += v;
                        }
                    }
                }
            }
        }
    });
}

//! Slow, obviously-correct versions of every kernel, for tests.
//!
//! Each function mirrors the fast kernel of the same name (minus the scratch
//! buffer): same arguments, same layouts, same overwrite semantics. They are
//! written as the textbook loops over every output (or every input-output
//! pair), accumulate in `f64`, allocate freely and use no threads, so that a
//! reader can check them against the definition at a glance.
//!
//! Layouts: NCHW row-major images, conv weights `[c_out, c_in / groups, k_h, k_w]`,
//! row-major matrices. Pooling switches are `row * w + col` within the input
//! plane of their `(n, c)`.

use super::geom::{Conv2dGeom, Pool2dGeom};

/// Panics with a message naming the kernel when a buffer has the wrong length.
fn check_len(kernel: &str, what: &str, got: usize, want: usize) {
    assert!(got == want, "{kernel}: `{what}` has {got} elements, the geometry needs {want}");
}

fn check_conv(kernel: &str, g: &Conv2dGeom) {
    if let Err(e) = g.validate() {
        panic!("{kernel}: invalid geometry: {e}");
    }
}

fn check_pool(kernel: &str, g: &Pool2dGeom) {
    if let Err(e) = g.validate() {
        panic!("{kernel}: invalid geometry: {e}");
    }
}

/// The input position `(ih, iw)` read by output `(oh, ow)` through kernel tap
/// `(kh, kw)`, or `None` when it falls in the zero padding.
fn tap(g: &Conv2dGeom, oh: usize, ow: usize, kh: usize, kw: usize) -> Option<(usize, usize)> {
    let ih = (oh * g.stride_h + kh) as isize - g.pad_h as isize;
    let iw = (ow * g.stride_w + kw) as isize - g.pad_w as isize;
    if ih < 0 || iw < 0 || ih >= g.h as isize || iw >= g.w as isize {
        None
    } else {
        Some((ih as usize, iw as usize))
    }
}

/// Reference `y = conv(x, w) + b`; see [`super::conv2d_forward`].
///
/// # Panics
/// When the geometry is invalid or a buffer length does not match it.
pub fn conv2d_forward(g: &Conv2dGeom, x: &[f32], w: &[f32], b: Option<&[f32]>, y: &mut [f32]) {
    const K: &str = "reference::conv2d_forward";
    check_conv(K, g);
    check_len(K, "x", x.len(), g.x_len());
    check_len(K, "w", w.len(), g.w_len());
    check_len(K, "y", y.len(), g.y_len());
    if let Some(b) = b {
        check_len(K, "b", b.len(), g.c_out);
    }
    let (h_out, w_out) = (g.h_out(), g.w_out());
    let cig = g.c_in / g.groups;
    let cog = g.c_out / g.groups;
    for n in 0..g.n {
        for co in 0..g.c_out {
            let grp = co / cog;
            for oh in 0..h_out {
                for ow in 0..w_out {
                    let mut acc = b.map_or(0.0, |b| b[co] as f64);
                    for cil in 0..cig {
                        let ci = grp * cig + cil;
                        for kh in 0..g.k_h {
                            for kw in 0..g.k_w {
                                if let Some((ih, iw)) = tap(g, oh, ow, kh, kw) {
                                    let xv = x[((n * g.c_in + ci) * g.h + ih) * g.w + iw];
                                    let wv = w[((co * cig + cil) * g.k_h + kh) * g.k_w + kw];
                                    acc += xv as f64 * wv as f64;
                                }
                            }
                        }
                    }
                    y[((n * g.c_out + co) * h_out + oh) * w_out + ow] = acc as f32;
                }
            }
        }
    }
}

/// Reference `gx = d/dx` given `gy`; see [`super::conv2d_backward_input`].
///
/// # Panics
/// When the geometry is invalid or a buffer length does not match it.
pub fn conv2d_backward_input(g: &Conv2dGeom, gy: &[f32], w: &[f32], gx: &mut [f32]) {
    const K: &str = "reference::conv2d_backward_input";
    check_conv(K, g);
    check_len(K, "gy", gy.len(), g.y_len());
    check_len(K, "w", w.len(), g.w_len());
    check_len(K, "gx", gx.len(), g.x_len());
    let (h_out, w_out) = (g.h_out(), g.w_out());
    let cig = g.c_in / g.groups;
    let cog = g.c_out / g.groups;
    // Scatter every output gradient back through every tap that produced it.
    let mut acc = vec![0.0f64; gx.len()];
    for n in 0..g.n {
        for co in 0..g.c_out {
            let grp = co / cog;
            for oh in 0..h_out {
                for ow in 0..w_out {
                    let gyv = gy[((n * g.c_out + co) * h_out + oh) * w_out + ow] as f64;
                    for cil in 0..cig {
                        let ci = grp * cig + cil;
                        for kh in 0..g.k_h {
                            for kw in 0..g.k_w {
                                if let Some((ih, iw)) = tap(g, oh, ow, kh, kw) {
                                    let wv = w[((co * cig + cil) * g.k_h + kh) * g.k_w + kw] as f64;
                                    acc[((n * g.c_in + ci) * g.h + ih) * g.w + iw] += gyv * wv;
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    for (d, s) in gx.iter_mut().zip(&acc) {
        *d = *s as f32;
    }
}

/// Reference `gw = d/dw`, `gb = d/db`; see [`super::conv2d_backward_weight`].
///
/// # Panics
/// When the geometry is invalid or a buffer length does not match it.
pub fn conv2d_backward_weight(g: &Conv2dGeom, x: &[f32], gy: &[f32], gw: &mut [f32], gb: Option<&mut [f32]>) {
    const K: &str = "reference::conv2d_backward_weight";
    check_conv(K, g);
    check_len(K, "x", x.len(), g.x_len());
    check_len(K, "gy", gy.len(), g.y_len());
    check_len(K, "gw", gw.len(), g.w_len());
    let (h_out, w_out) = (g.h_out(), g.w_out());
    let cig = g.c_in / g.groups;
    let cog = g.c_out / g.groups;
    for co in 0..g.c_out {
        let grp = co / cog;
        for cil in 0..cig {
            let ci = grp * cig + cil;
            for kh in 0..g.k_h {
                for kw in 0..g.k_w {
                    let mut acc = 0.0f64;
                    for n in 0..g.n {
                        for oh in 0..h_out {
                            for ow in 0..w_out {
                                if let Some((ih, iw)) = tap(g, oh, ow, kh, kw) {
                                    let gyv = gy[((n * g.c_out + co) * h_out + oh) * w_out + ow] as f64;
                                    let xv = x[((n * g.c_in + ci) * g.h + ih) * g.w + iw] as f64;
                                    acc += gyv * xv;
                                }
                            }
                        }
                    }
                    gw[((co * cig + cil) * g.k_h + kh) * g.k_w + kw] = acc as f32;
                }
            }
        }
    }
    if let Some(gb) = gb {
        check_len(K, "gb", gb.len(), g.c_out);
        for co in 0..g.c_out {
            let mut acc = 0.0f64;
            for n in 0..g.n {
                let plane = &gy[(n * g.c_out + co) * h_out * w_out..][..h_out * w_out];
                acc += plane.iter().map(|&v| v as f64).sum::<f64>();
            }
            gb[co] = acc as f32;
        }
    }
}

/// Reference max pool with switches; see [`super::max_pool2d_forward`].
///
/// # Panics
/// When the geometry is invalid or a buffer length does not match it.
pub fn max_pool2d_forward(g: &Pool2dGeom, x: &[f32], y: &mut [f32], switches: &mut [u32]) {
    const K: &str = "reference::max_pool2d_forward";
    check_pool(K, g);
    check_len(K, "x", x.len(), g.x_len());
    check_len(K, "y", y.len(), g.y_len());
    check_len(K, "switches", switches.len(), g.y_len());
    let (h_out, w_out) = (g.h_out(), g.w_out());
    for p in 0..g.n * g.c {
        let plane = &x[p * g.h * g.w..][..g.h * g.w];
        for oh in 0..h_out {
            for ow in 0..w_out {
                let (h0, w0) = (oh * g.stride_h, ow * g.stride_w);
                // PyTorch's rule: start at -inf with the window's first position,
                // replace on a strictly greater value or on NaN.
                let mut best = f32::NEG_INFINITY;
                let mut arg = h0 * g.w + w0;
                for kh in 0..g.k_h {
                    for kw in 0..g.k_w {
                        let i = (h0 + kh) * g.w + (w0 + kw);
                        let v = plane[i];
                        if v > best || v.is_nan() {
                            best = v;
                            arg = i;
                        }
                    }
                }
                let j = (p * h_out + oh) * w_out + ow;
                y[j] = best;
                switches[j] = arg as u32;
            }
        }
    }
}

/// Reference max-pool backward; see [`super::max_pool2d_backward`].
///
/// # Panics
/// When the geometry is invalid, a buffer length does not match it, or a
/// switch points outside its plane.
pub fn max_pool2d_backward(g: &Pool2dGeom, gy: &[f32], switches: &[u32], gx: &mut [f32]) {
    const K: &str = "reference::max_pool2d_backward";
    check_pool(K, g);
    check_len(K, "gy", gy.len(), g.y_len());
    check_len(K, "switches", switches.len(), g.y_len());
    check_len(K, "gx", gx.len(), g.x_len());
    let per_plane = g.h_out() * g.w_out();
    gx.fill(0.0);
    for (j, (&v, &s)) in gy.iter().zip(switches).enumerate() {
        let p = j / per_plane;
        let s = s as usize;
        assert!(s < g.h * g.w, "{K}: switch {s} of output {j} outside its {}x{} plane", g.h, g.w);
        gx[p * g.h * g.w + s] += v;
    }
}

/// Reference average pool; see [`super::avg_pool2d_forward`].
///
/// # Panics
/// When the geometry is invalid or a buffer length does not match it.
pub fn avg_pool2d_forward(g: &Pool2dGeom, x: &[f32], y: &mut [f32]) {
    const K: &str = "reference::avg_pool2d_forward";
    check_pool(K, g);
    check_len(K, "x", x.len(), g.x_len());
    check_len(K, "y", y.len(), g.y_len());
    let (h_out, w_out) = (g.h_out(), g.w_out());
    let area = (g.k_h * g.k_w) as f64;
    for p in 0..g.n * g.c {
        for oh in 0..h_out {
            for ow in 0..w_out {
                let mut acc = 0.0f64;
                for kh in 0..g.k_h {
                    for kw in 0..g.k_w {
                        acc += x[(p * g.h + oh * g.stride_h + kh) * g.w + ow * g.stride_w + kw] as f64;
                    }
                }
                y[(p * h_out + oh) * w_out + ow] = (acc / area) as f32;
            }
        }
    }
}

/// Reference average-pool backward; see [`super::avg_pool2d_backward`].
///
/// # Panics
/// When the geometry is invalid or a buffer length does not match it.
pub fn avg_pool2d_backward(g: &Pool2dGeom, gy: &[f32], gx: &mut [f32]) {
    const K: &str = "reference::avg_pool2d_backward";
    check_pool(K, g);
    check_len(K, "gy", gy.len(), g.y_len());
    check_len(K, "gx", gx.len(), g.x_len());
    let (h_out, w_out) = (g.h_out(), g.w_out());
    let area = (g.k_h * g.k_w) as f64;
    let mut acc = vec![0.0f64; gx.len()];
    for p in 0..g.n * g.c {
        for oh in 0..h_out {
            for ow in 0..w_out {
                let v = gy[(p * h_out + oh) * w_out + ow] as f64 / area;
                for kh in 0..g.k_h {
                    for kw in 0..g.k_w {
                        acc[(p * g.h + oh * g.stride_h + kh) * g.w + ow * g.stride_w + kw] += v;
                    }
                }
            }
        }
    }
    for (d, s) in gx.iter_mut().zip(&acc) {
        *d = *s as f32;
    }
}

/// Reference `C = alpha * op(A) op(B) + beta * C`; see [`super::gemm`].
///
/// `A` is stored `m x k` (or `k x m` when `trans_a`), `B` is `k x n` (or
/// `n x k` when `trans_b`), `C` is `m x n`, all row-major. When `beta == 0`
/// the old `C` is not read (NaN in it does not leak), as in BLAS.
///
/// # Panics
/// When a buffer length does not match `m`, `k`, `n`.
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
    const K: &str = "reference::gemm";
    check_len(K, "a", a.len(), m * k);
    check_len(K, "b", b.len(), k * n);
    check_len(K, "c", c.len(), m * n);
    for i in 0..m {
        for j in 0..n {
            let mut acc = 0.0f64;
            for p in 0..k {
                let av = if trans_a { a[p * m + i] } else { a[i * k + p] };
                let bv = if trans_b { b[j * k + p] } else { b[p * n + j] };
                acc += av as f64 * bv as f64;
            }
            let old = if beta == 0.0 { 0.0 } else { beta as f64 * c[i * n + j] as f64 };
            c[i * n + j] = (alpha as f64 * acc + old) as f32;
        }
    }
}

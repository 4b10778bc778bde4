//! The kernels against PyTorch: `fixtures/golden/pytorch/unit_goldens.safetensors`.
//!
//! Stored outputs are the float64 truth on float32 inputs; the fixture's
//! README asks for `max|got - ref| <= 1e-4 * max|ref|` per tensor. Each case
//! runs on one thread and on a pool of two (the batch-parallel and the
//! split-inside-a-sample paths both get checked at batch 1 and 2), on every
//! kernel set this CPU has.

use eeglens_autodiff::kernels::{self, with_kernel_set, Conv2dGeom, KernelSet, Pool2dGeom};
use safetensors::{Dtype, SafeTensors};

/// The fixture README's rule: per tensor, max abs error over max abs reference.
const GOLDEN_REL_TOL: f32 = 1e-4;

const GOLDEN_PATH: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/golden/pytorch/unit_goldens.safetensors");

struct Goldens(Vec<u8>);

impl Goldens {
    fn load() -> Self {
        Self(std::fs::read(GOLDEN_PATH).unwrap_or_else(|e| panic!("reading {GOLDEN_PATH}: {e}")))
    }

    /// Tensor `name` as f32 values plus its shape.
    fn get(&self, name: &str) -> (Vec<f32>, Vec<usize>) {
        let st = SafeTensors::deserialize(&self.0).expect("unit goldens parse");
        let t = st.tensor(name).unwrap_or_else(|e| panic!("golden tensor {name}: {e}"));
        assert_eq!(t.dtype(), Dtype::F32, "golden tensor {name} dtype");
        let v = t.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        (v, t.shape().to_vec())
    }

    fn f32s(&self, name: &str) -> Vec<f32> {
        self.get(name).0
    }
}

/// Asserts the README's per-tensor rule, naming the case.
fn assert_close(case: &str, got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len(), "{case}: length");
    let scale = want.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!(scale > 0.0, "{case}: reference is all zeros, the check would be vacuous");
    let err = got.iter().zip(want).fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(
        err <= GOLDEN_REL_TOL * scale,
        "{case}: max|got - ref| = {err:e} > {GOLDEN_REL_TOL:e} * max|ref| = {:e}",
        GOLDEN_REL_TOL * scale
    );
}

/// Runs `f` on a one-thread pool and on a two-thread pool, on every kernel
/// set this CPU has; `f` gets a label of both for its messages.
fn on_pools(f: impl Fn(&str) + Sync) {
    for set in KernelSet::available() {
        for threads in [1, 2] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("thread pool");
            let label = format!("{threads} thread(s), {} kernels", set.name());
            pool.install(|| with_kernel_set(set, || f(&label)));
        }
    }
}

fn conv_geom(x_shape: &[usize], w_shape: &[usize]) -> Conv2dGeom {
    Conv2dGeom {
        n: x_shape[0],
        c_in: x_shape[1],
        h: x_shape[2],
        w: x_shape[3],
        c_out: w_shape[0],
        k_h: w_shape[2],
        k_w: w_shape[3],
        stride_h: 1,
        stride_w: 1,
        pad_h: 1,
        pad_w: 1,
        groups: 1,
    }
}

#[test]
fn conv2d_matches_pytorch_forward_and_both_backwards() {
    let gd = Goldens::load();
    let (x, xs) = gd.get("conv.x");
    let (w, ws) = gd.get("conv.w");
    let (b, gy) = (gd.f32s("conv.b"), gd.f32s("conv.gy"));
    on_pools(|label| {
        // Whole batch of 2, then each sample alone (batch 1 splits inside the sample).
        for n in [xs[0], 1] {
            let g = Conv2dGeom { n, ..conv_geom(&xs, &ws) };
            let case = |what: &str| format!("conv {what}, n = {n}, {label}");
            let x = &x[..g.x_len()];
            let gy = &gy[..g.y_len()];
            let mut scratch = vec![f32::NAN; g.scratch_len()];
            let mut y = vec![f32::NAN; g.y_len()];
            kernels::conv2d_forward(&g, x, &w, Some(&b), &mut y, &mut scratch);
            assert_close(&case("y"), &y, &gd.f32s("conv.y")[..g.y_len()]);
            if n == xs[0] {
                let mut gx = vec![f32::NAN; g.x_len()];
                kernels::conv2d_backward_input(&g, gy, &w, &mut gx, &mut scratch);
                assert_close(&case("gx"), &gx, &gd.f32s("conv.gx"));
                let (mut gw, mut gb) = (vec![f32::NAN; g.w_len()], vec![f32::NAN; g.c_out]);
                kernels::conv2d_backward_weight(&g, x, gy, &mut gw, Some(&mut gb), &mut scratch);
                assert_close(&case("gw"), &gw, &gd.f32s("conv.gw"));
                assert_close(&case("gb"), &gb, &gd.f32s("conv.gb"));
            }
        }
    });
}

fn pool_geom(x_shape: &[usize]) -> Pool2dGeom {
    Pool2dGeom {
        n: x_shape[0],
        c: x_shape[1],
        h: x_shape[2],
        w: x_shape[3],
        k_h: 2,
        k_w: 2,
        stride_h: 2,
        stride_w: 2,
    }
}

fn check_max_pool(gd: &Goldens, prefix: &str) {
    let (x, xs) = gd.get(&format!("{prefix}.x"));
    let g = pool_geom(&xs);
    let gy = gd.f32s(&format!("{prefix}.gy"));
    on_pools(|label| {
        let mut y = vec![f32::NAN; g.y_len()];
        let mut sw = vec![u32::MAX; g.y_len()];
        kernels::max_pool2d_forward(&g, &x, &mut y, &mut sw);
        assert_close(&format!("{prefix}.y, {label}"), &y, &gd.f32s(&format!("{prefix}.y")));
        let mut gx = vec![f32::NAN; g.x_len()];
        kernels::max_pool2d_backward(&g, &gy, &sw, &mut gx);
        assert_close(&format!("{prefix}.gx, {label}"), &gx, &gd.f32s(&format!("{prefix}.gx")));
    });
}

#[test]
fn max_pool_matches_pytorch() {
    check_max_pool(&Goldens::load(), "pool");
}

#[test]
fn max_pool_floor_mode_drops_the_odd_row_and_column_like_pytorch() {
    check_max_pool(&Goldens::load(), "pool_odd");
}

#[test]
fn max_pool_ties_route_to_the_first_maximum_like_pytorch() {
    let gd = Goldens::load();
    check_max_pool(&gd, "pool_tie");
    // The README: gradient goes to (0,0) and (0,3), i.e. switches 0 and 3.
    let g = pool_geom(&gd.get("pool_tie.x").1);
    let mut y = vec![0.0; g.y_len()];
    let mut sw = vec![u32::MAX; g.y_len()];
    kernels::max_pool2d_forward(&g, &gd.f32s("pool_tie.x"), &mut y, &mut sw);
    assert_eq!(sw, [0, 3]);
}

#[test]
fn linear_layer_through_gemm_matches_pytorch() {
    let gd = Goldens::load();
    let (x, xs) = gd.get("lin.x");
    let (w, ws) = gd.get("lin.w");
    let (b, gy) = (gd.f32s("lin.b"), gd.f32s("lin.gy"));
    let (batch, n_in, n_out) = (xs[0], xs[1], ws[0]);
    on_pools(|label| {
        // y = x W^T + b: rows pre-filled with b, beta = 1.
        let mut y: Vec<f32> = (0..batch).flat_map(|_| b.iter().copied()).collect();
        kernels::gemm(batch, n_in, n_out, 1.0, &x, false, &w, true, 1.0, &mut y);
        assert_close(&format!("lin.y, {label}"), &y, &gd.f32s("lin.y"));
        // gx = gy W, gW = gy^T x; old contents must not leak with beta = 0.
        let mut gx = vec![f32::NAN; batch * n_in];
        kernels::gemm(batch, n_out, n_in, 1.0, &gy, false, &w, false, 0.0, &mut gx);
        assert_close(&format!("lin.gx, {label}"), &gx, &gd.f32s("lin.gx"));
        let mut gw = vec![f32::NAN; n_out * n_in];
        kernels::gemm(n_out, batch, n_in, 1.0, &gy, true, &x, false, 0.0, &mut gw);
        assert_close(&format!("lin.gw, {label}"), &gw, &gd.f32s("lin.gw"));
        // gb = column sums of gy = gy^T 1.
        let ones = vec![1.0f32; batch];
        let mut gb = vec![f32::NAN; n_out];
        kernels::gemm(n_out, batch, 1, 1.0, &gy, true, &ones, false, 0.0, &mut gb);
        assert_close(&format!("lin.gb, {label}"), &gb, &gd.f32s("lin.gb"));
    });
}

//! Every fast kernel against `kernels::reference` over random valid geometries,
//! on pools of 1, 2 and 3 threads (so both the batch-parallel and the
//! split-inside-a-sample paths, and uneven splits, get exercised), and on
//! every kernel set this CPU has (`KernelSet::available`: the portable set,
//! and the AVX-512 set where the CPU has AVX-512F) in the same run.

use eeglens_autodiff::kernels::{self, reference, with_kernel_set, Conv2dGeom, KernelSet, Pool2dGeom};
use eeglens_autodiff::Rng;
use proptest::prelude::*;

/// f32 kernels against the f64-accumulating reference: max abs error over
/// max abs reference value. Inputs are in [-1, 1] and sums are at most a few
/// hundred terms long, so float32 rounding stays far below this.
const REL_TOL: f32 = 2e-5;

fn max_rel_err(got: &[f32], want: &[f32]) -> f32 {
    assert_eq!(got.len(), want.len());
    let scale = want.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let err = got.iter().zip(want).fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
    if scale == 0.0 {
        err
    } else {
        err / scale
    }
}

fn uniform(rng: &mut Rng, len: usize) -> Vec<f32> {
    (0..len).map(|_| 2.0 * rng.uniform_f32() - 1.0).collect()
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("thread pool")
}

/// Every kernel set this CPU runs; says so on stderr (once) when the AVX-512 half is skipped.
fn sets() -> Vec<KernelSet> {
    static SAY: std::sync::Once = std::sync::Once::new();
    let sets = KernelSet::available();
    if sets.len() == 1 {
        SAY.call_once(|| eprintln!("this CPU has no AVX-512F: only the portable kernel set is tested"));
    }
    sets
}

/// `f` on a pool of `threads` threads with the kernels on `set` (the set is
/// per thread, so it is chosen inside the pool).
fn on<R: Send>(threads: usize, set: KernelSet, f: impl FnOnce() -> R + Send) -> R {
    pool(threads).install(|| with_kernel_set(set, f))
}

fn conv_geom() -> impl Strategy<Value = Conv2dGeom> {
    // Stride 1 and 8+ input channels per group are favoured so the input
    // gradient often takes the flipped-kernel convolution, not only col2im.
    let stride = || prop::sample::select(vec![1usize, 1, 1, 2, 3]);
    let cig = prop::sample::select(vec![1usize, 2, 3, 8, 9]);
    (
        (1usize..=3, 1usize..=3, cig, 1usize..=3),
        (1usize..=9, 1usize..=11, 1usize..=4, 1usize..=4),
        (stride(), stride(), 0usize..=2, 0usize..=2),
    )
        .prop_map(|((n, groups, cig, cog), (h, w, k_h, k_w), (stride_h, stride_w, pad_h, pad_w))| {
            Conv2dGeom {
                n,
                c_in: groups * cig,
                h,
                w,
                c_out: groups * cog,
                k_h,
                k_w,
                stride_h,
                stride_w,
                pad_h,
                pad_w,
                groups,
            }
        })
        .prop_filter("valid geometry", |g| g.validate().is_ok())
}

fn pool_geom() -> impl Strategy<Value = Pool2dGeom> {
    // 2 is favoured for windows and strides: 2x2 / stride 2 has its own path.
    let size = || prop::sample::select(vec![1usize, 2, 2, 2, 3]);
    (1usize..=3, 1usize..=3, 1usize..=9, 1usize..=9, size(), size(), size(), size())
        .prop_map(|(n, c, h, w, k_h, k_w, stride_h, stride_w)| Pool2dGeom {
            n,
            c,
            h,
            w,
            k_h,
            k_w,
            stride_h,
            stride_w,
        })
        .prop_filter("valid geometry", |g| g.validate().is_ok())
}

/// Runs the three conv kernels and their references and compares them.
/// `minimal_scratch` hands the kernels only one worker's worth of scratch.
fn check_conv(g: &Conv2dGeom, seed: u64, bias: bool, minimal_scratch: bool) -> Result<(), TestCaseError> {
    let mut rng = Rng::new(seed);
    let x = uniform(&mut rng, g.x_len());
    let w = uniform(&mut rng, g.w_len());
    let b = uniform(&mut rng, g.c_out);
    let gy = uniform(&mut rng, g.y_len());
    let b = bias.then_some(&b[..]);
    let len = if minimal_scratch { g.scratch_per_worker() } else { g.scratch_len() };
    // Garbage in the scratch and the outputs must not matter.
    let mut scratch = vec![f32::NAN; len];

    let (mut y, mut y_ref) = (vec![f32::NAN; g.y_len()], vec![0.0; g.y_len()]);
    kernels::conv2d_forward(g, &x, &w, b, &mut y, &mut scratch);
    reference::conv2d_forward(g, &x, &w, b, &mut y_ref);
    let e = max_rel_err(&y, &y_ref);
    prop_assert!(e <= REL_TOL, "forward rel. error {e:e} for {g:?}");
    // The fused ReLU is exactly the ReLU of the same kernel's output.
    let mut y_relu = vec![f32::NAN; g.y_len()];
    scratch.fill(f32::NAN);
    kernels::conv2d_forward_relu(g, &x, &w, b, &mut y_relu, &mut scratch);
    let relu = |v: f32| if v <= 0.0 { 0.0 } else { v };
    prop_assert!(
        y_relu.iter().zip(&y).all(|(r, v)| r.to_bits() == relu(*v).to_bits()),
        "fused ReLU for {g:?}"
    );

    let (mut gx, mut gx_ref) = (vec![f32::NAN; g.x_len()], vec![0.0; g.x_len()]);
    kernels::conv2d_backward_input(g, &gy, &w, &mut gx, &mut scratch);
    reference::conv2d_backward_input(g, &gy, &w, &mut gx_ref);
    let e = max_rel_err(&gx, &gx_ref);
    prop_assert!(e <= REL_TOL, "backward-input rel. error {e:e} for {g:?}");

    let (mut gw, mut gw_ref) = (vec![f32::NAN; g.w_len()], vec![0.0; g.w_len()]);
    let (mut gb, mut gb_ref) = (vec![f32::NAN; g.c_out], vec![0.0; g.c_out]);
    kernels::conv2d_backward_weight(g, &x, &gy, &mut gw, bias.then_some(&mut gb[..]), &mut scratch);
    reference::conv2d_backward_weight(g, &x, &gy, &mut gw_ref, Some(&mut gb_ref));
    let e = max_rel_err(&gw, &gw_ref);
    prop_assert!(e <= REL_TOL, "backward-weight rel. error {e:e} for {g:?}");
    if bias {
        let e = max_rel_err(&gb, &gb_ref);
        prop_assert!(e <= REL_TOL, "bias gradient rel. error {e:e} for {g:?}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn conv2d_kernels_match_reference(
        g in conv_geom(),
        threads in 1usize..=3,
        seed in any::<u64>(),
        bias in any::<bool>(),
        minimal_scratch in any::<bool>(),
    ) {
        for set in sets() {
            on(threads, set, || check_conv(&g, seed, bias, minimal_scratch))
                .map_err(|e| TestCaseError::fail(format!("{set:?}: {e}")))?;
        }
    }

    #[test]
    fn pooling_kernels_match_reference(g in pool_geom(), threads in 1usize..=3, seed in any::<u64>()) {
        let mut rng = Rng::new(seed);
        // Values from {-1, 0, 1, 2}: ties are common, so the first-maximum rule is exercised.
        let x: Vec<f32> = (0..g.x_len()).map(|_| (rng.uniform_f32() * 4.0).floor() - 1.0).collect();
        let gy = uniform(&mut rng, g.y_len());
        pool(threads).install(|| {
            let (mut y, mut y_ref) = (vec![f32::NAN; g.y_len()], vec![0.0; g.y_len()]);
            let (mut sw, mut sw_ref) = (vec![u32::MAX; g.y_len()], vec![0; g.y_len()]);
            kernels::max_pool2d_forward(&g, &x, &mut y, &mut sw);
            reference::max_pool2d_forward(&g, &x, &mut y_ref, &mut sw_ref);
            prop_assert_eq!(&sw, &sw_ref, "switches for {:?}", g);
            prop_assert!(max_rel_err(&y, &y_ref) == 0.0, "max-pool values for {:?}", g);

            let (mut gx, mut gx_ref) = (vec![f32::NAN; g.x_len()], vec![0.0; g.x_len()]);
            kernels::max_pool2d_backward(&g, &gy, &sw, &mut gx);
            reference::max_pool2d_backward(&g, &gy, &sw_ref, &mut gx_ref);
            let e = max_rel_err(&gx, &gx_ref);
            prop_assert!(e <= REL_TOL, "max-pool backward rel. error {e:e} for {g:?}");

            let (mut ya, mut ya_ref) = (vec![f32::NAN; g.y_len()], vec![0.0; g.y_len()]);
            kernels::avg_pool2d_forward(&g, &x, &mut ya);
            reference::avg_pool2d_forward(&g, &x, &mut ya_ref);
            let e = max_rel_err(&ya, &ya_ref);
            prop_assert!(e <= REL_TOL, "avg-pool forward rel. error {e:e} for {g:?}");

            let (mut gxa, mut gxa_ref) = (vec![f32::NAN; g.x_len()], vec![0.0; g.x_len()]);
            kernels::avg_pool2d_backward(&g, &gy, &mut gxa);
            reference::avg_pool2d_backward(&g, &gy, &mut gxa_ref);
            let e = max_rel_err(&gxa, &gxa_ref);
            prop_assert!(e <= REL_TOL, "avg-pool backward rel. error {e:e} for {g:?}");
            Ok(())
        })?;
    }

    #[test]
    fn gemm_matches_reference_for_every_transpose(
        m in 1usize..=21,
        k in 1usize..=21,
        n in 1usize..=21,
        trans_a in any::<bool>(),
        trans_b in any::<bool>(),
        alpha in prop::sample::select(vec![1.0f32, -0.5, 2.0]),
        beta in prop::sample::select(vec![0.0f32, 1.0, 0.25]),
        seed in any::<u64>(),
    ) {
        let mut rng = Rng::new(seed);
        let a = uniform(&mut rng, m * k);
        let b = uniform(&mut rng, k * n);
        let c0 = uniform(&mut rng, m * n);
        let mut c_ref = c0.clone();
        reference::gemm(m, k, n, alpha, &a, trans_a, &b, trans_b, beta, &mut c_ref);
        for set in sets() {
            let mut c = c0.clone();
            with_kernel_set(set, || kernels::gemm(m, k, n, alpha, &a, trans_a, &b, trans_b, beta, &mut c));
            let e = max_rel_err(&c, &c_ref);
            prop_assert!(e <= REL_TOL, "{set:?} gemm {m}x{k}x{n} ta={trans_a} tb={trans_b} rel. error {e:e}");
        }
    }
}

/// Large enough to take `gemm`'s parallel path (row blocks of C per thread).
#[test]
fn gemm_parallel_path_matches_reference_and_is_independent_of_thread_count() {
    let (m, k, n) = (67, 203, 101);
    let mut rng = Rng::new(7);
    let a = uniform(&mut rng, m * k);
    let b = uniform(&mut rng, k * n);
    for (trans_a, trans_b) in [(false, false), (true, false), (false, true), (true, true)] {
        let mut c_ref = vec![0.0; m * n];
        reference::gemm(m, k, n, 1.0, &a, trans_a, &b, trans_b, 0.0, &mut c_ref);
        for set in sets() {
            let run = |threads: usize| {
                let mut c = vec![f32::NAN; m * n];
                on(threads, set, || kernels::gemm(m, k, n, 1.0, &a, trans_a, &b, trans_b, 0.0, &mut c));
                c
            };
            let (c1, c3) = (run(1), run(3));
            let e = max_rel_err(&c3, &c_ref);
            assert!(e <= REL_TOL, "{set:?} parallel gemm ta={trans_a} tb={trans_b}: rel. error {e:e}");
            assert!(
                c1.iter().zip(&c3).all(|(x, y)| x.to_bits() == y.to_bits()),
                "{set:?}: 1 vs 3 threads differ"
            );
        }
    }
}

/// A one-row product (batch-1 linear layers) takes the column-split path.
#[test]
fn gemm_one_row_column_split_matches_reference_and_is_independent_of_thread_count() {
    let (m, k, n) = (1, 3001, 517);
    let mut rng = Rng::new(11);
    let a = uniform(&mut rng, m * k);
    let b = uniform(&mut rng, k * n);
    for (trans_a, trans_b) in [(false, false), (true, false), (false, true), (true, true)] {
        let mut c_ref = vec![0.0; m * n];
        reference::gemm(m, k, n, 1.0, &a, trans_a, &b, trans_b, 0.0, &mut c_ref);
        let half: Vec<f32> = c_ref.iter().map(|v| 0.5 * v).collect();
        for set in sets() {
            let run = |threads: usize, beta: f32| {
                let mut c: Vec<f32> = (0..n).map(|j| j as f32 * 0.01).collect();
                on(threads, set, || kernels::gemm(m, k, n, 0.5, &a, trans_a, &b, trans_b, beta, &mut c));
                c
            };
            let (c1, c2, c3) = (run(1, 0.0), run(2, 0.0), run(3, 0.0));
            let e = max_rel_err(&c3, &half);
            assert!(e <= REL_TOL, "{set:?} one-row gemm ta={trans_a} tb={trans_b}: rel. error {e:e}");
            for c in [&c2, &c3] {
                assert!(
                    c1.iter().zip(c).all(|(x, y)| x.to_bits() == y.to_bits()),
                    "{set:?}: thread counts differ"
                );
            }
            // beta = 1 accumulates into the existing row.
            let acc = run(2, 1.0);
            let want: Vec<f32> = half.iter().enumerate().map(|(j, v)| v + j as f32 * 0.01).collect();
            let e = max_rel_err(&acc, &want);
            assert!(
                e <= REL_TOL,
                "{set:?} one-row gemm with beta 1 ta={trans_a} tb={trans_b}: rel. error {e:e}"
            );
        }
    }
}

#[test]
fn conv2d_backward_weight_is_deterministic_for_a_thread_count() {
    let g = Conv2dGeom {
        n: 7,
        c_in: 4,
        h: 6,
        w: 9,
        c_out: 5,
        k_h: 3,
        k_w: 3,
        stride_h: 1,
        stride_w: 1,
        pad_h: 1,
        pad_w: 1,
        groups: 1,
    };
    let mut rng = Rng::new(3);
    let x = uniform(&mut rng, g.x_len());
    let gy = uniform(&mut rng, g.y_len());
    let run = || {
        let mut scratch = vec![0.0; g.scratch_len()];
        let (mut gw, mut gb) = (vec![0.0; g.w_len()], vec![0.0; g.c_out]);
        kernels::conv2d_backward_weight(&g, &x, &gy, &mut gw, Some(&mut gb), &mut scratch);
        (gw, gb)
    };
    let p = pool(2);
    for set in sets() {
        let first = p.install(|| with_kernel_set(set, run));
        for _ in 0..5 {
            assert!(
                p.install(|| with_kernel_set(set, run)) == first,
                "{set:?}: two runs on the same pool differ"
            );
        }
    }
}

#[test]
fn max_pool_nan_wins_like_pytorch() {
    let g = Pool2dGeom { n: 1, c: 1, h: 2, w: 4, k_h: 2, k_w: 2, stride_h: 2, stride_w: 2 };
    // Window 0 holds a NaN after a larger number; window 1 holds only -inf.
    let x =
        [5.0, f32::NAN, f32::NEG_INFINITY, f32::NEG_INFINITY, 1.0, 2.0, f32::NEG_INFINITY, f32::NEG_INFINITY];
    let (mut y, mut sw) = ([0.0; 2], [u32::MAX; 2]);
    kernels::max_pool2d_forward(&g, &x, &mut y, &mut sw);
    assert!(y[0].is_nan(), "NaN must propagate, got {}", y[0]);
    assert_eq!(sw[0], 1);
    assert_eq!(y[1], f32::NEG_INFINITY);
    assert_eq!(sw[1], 2, "an all -inf window points at its first position");
}

#[test]
fn max_pool_backward_accumulates_where_windows_overlap() {
    // Kernel 3, stride 1 over a single row: the middle maximum is in every window.
    let g = Pool2dGeom { n: 1, c: 1, h: 1, w: 5, k_h: 1, k_w: 3, stride_h: 1, stride_w: 1 };
    let x = [0.0, 1.0, 9.0, 1.0, 0.0];
    let (mut y, mut sw) = ([0.0; 3], [0u32; 3]);
    kernels::max_pool2d_forward(&g, &x, &mut y, &mut sw);
    assert_eq!(sw, [2, 2, 2]);
    let mut gx = [f32::NAN; 5];
    kernels::max_pool2d_backward(&g, &[1.0, 2.0, 4.0], &sw, &mut gx);
    approx::assert_abs_diff_eq!(&gx[..], &[0.0, 0.0, 7.0, 0.0, 0.0][..]);
}

#[test]
#[should_panic(expected = "conv2d_forward")]
fn conv2d_forward_names_itself_on_a_short_output() {
    let g = Conv2dGeom {
        n: 1,
        c_in: 1,
        h: 4,
        w: 4,
        c_out: 2,
        k_h: 3,
        k_w: 3,
        stride_h: 1,
        stride_w: 1,
        pad_h: 1,
        pad_w: 1,
        groups: 1,
    };
    let mut y = vec![0.0; g.y_len() - 1];
    let mut scratch = vec![0.0; g.scratch_len()];
    kernels::conv2d_forward(&g, &[0.0; 16], &[0.0; 18], None, &mut y, &mut scratch);
}

#[test]
#[should_panic(expected = "scratch")]
fn conv2d_backward_weight_refuses_a_short_scratch() {
    let g = Conv2dGeom {
        n: 2,
        c_in: 1,
        h: 4,
        w: 4,
        c_out: 2,
        k_h: 3,
        k_w: 3,
        stride_h: 1,
        stride_w: 1,
        pad_h: 1,
        pad_w: 1,
        groups: 1,
    };
    let mut scratch = vec![0.0; g.scratch_per_worker() - 1];
    let (mut gw, x, gy) = (vec![0.0; g.w_len()], vec![0.0; g.x_len()], vec![0.0; g.y_len()]);
    kernels::conv2d_backward_weight(&g, &x, &gy, &mut gw, None, &mut scratch);
}

#[test]
#[should_panic(expected = "max_pool2d_backward")]
fn max_pool_backward_rejects_a_switch_outside_its_plane() {
    let g = Pool2dGeom { n: 1, c: 2, h: 2, w: 2, k_h: 2, k_w: 2, stride_h: 2, stride_w: 2 };
    let mut gx = [0.0; 8];
    kernels::max_pool2d_backward(&g, &[1.0, 1.0], &[0, 4], &mut gx);
}

#[test]
#[should_panic(expected = "gemm")]
fn gemm_names_itself_on_a_wrong_length() {
    let mut c = [0.0; 4];
    kernels::gemm(2, 3, 2, 1.0, &[0.0; 5], false, &[0.0; 6], false, 0.0, &mut c);
}

/// Large enough (over 2^16 elements) for the pooling kernels to split planes over threads.
#[test]
fn pooling_parallel_path_matches_reference() {
    let g = Pool2dGeom { n: 2, c: 5, h: 64, w: 110, k_h: 3, k_w: 2, stride_h: 2, stride_w: 3 };
    let mut rng = Rng::new(11);
    let x: Vec<f32> = (0..g.x_len()).map(|_| (rng.uniform_f32() * 4.0).floor()).collect();
    let gy = uniform(&mut rng, g.y_len());
    let (mut y_ref, mut sw_ref) = (vec![0.0; g.y_len()], vec![0; g.y_len()]);
    reference::max_pool2d_forward(&g, &x, &mut y_ref, &mut sw_ref);
    let mut gx_ref = vec![0.0; g.x_len()];
    reference::max_pool2d_backward(&g, &gy, &sw_ref, &mut gx_ref);
    let mut ya_ref = vec![0.0; g.y_len()];
    reference::avg_pool2d_forward(&g, &x, &mut ya_ref);
    let mut gxa_ref = vec![0.0; g.x_len()];
    reference::avg_pool2d_backward(&g, &gy, &mut gxa_ref);
    for threads in [2, 3] {
        pool(threads).install(|| {
            let (mut y, mut sw) = (vec![f32::NAN; g.y_len()], vec![u32::MAX; g.y_len()]);
            kernels::max_pool2d_forward(&g, &x, &mut y, &mut sw);
            assert_eq!(sw, sw_ref, "switches, {threads} threads");
            assert_eq!(max_rel_err(&y, &y_ref), 0.0, "max-pool values, {threads} threads");
            let mut gx = vec![f32::NAN; g.x_len()];
            kernels::max_pool2d_backward(&g, &gy, &sw, &mut gx);
            assert!(max_rel_err(&gx, &gx_ref) <= REL_TOL, "max-pool backward, {threads} threads");
            let mut ya = vec![f32::NAN; g.y_len()];
            kernels::avg_pool2d_forward(&g, &x, &mut ya);
            assert!(max_rel_err(&ya, &ya_ref) <= REL_TOL, "avg-pool forward, {threads} threads");
            let mut gxa = vec![f32::NAN; g.x_len()];
            kernels::avg_pool2d_backward(&g, &gy, &mut gxa);
            assert!(max_rel_err(&gxa, &gxa_ref) <= REL_TOL, "avg-pool backward, {threads} threads");
        });
    }
}

/// Geometries wide enough that im2col runs in several tiles of output rows
/// (the last one ragged), through both backward-input algorithms (cases 0
/// and 1 as a convolution with the flipped kernel, 2 and 3 by col2im).
#[test]
fn conv2d_kernels_match_reference_across_several_im2col_tiles() {
    let base = Conv2dGeom {
        n: 2,
        c_in: 8,
        h: 13,
        w: 200,
        c_out: 6,
        k_h: 3,
        k_w: 3,
        stride_h: 1,
        stride_w: 1,
        pad_h: 1,
        pad_w: 1,
        groups: 1,
    };
    let cases = [
        base,
        Conv2dGeom { n: 5, c_in: 16, groups: 2, k_h: 1, k_w: 5, pad_h: 0, pad_w: 2, ..base },
        Conv2dGeom { n: 1, h: 31, w: 600, stride_h: 2, stride_w: 3, ..base },
        Conv2dGeom {
            n: 3,
            h: 17,
            w: 600,
            k_h: 4,
            k_w: 2,
            stride_h: 3,
            pad_h: 2,
            pad_w: 0,
            groups: 2,
            ..base
        },
    ];
    for (i, g) in cases.iter().enumerate() {
        assert!(g.tile_rows() < g.h_out(), "case {i} must span several tiles: {g:?}");
        assert_eq!(g.backward_input_as_conv(), i < 2, "case {i} backward-input algorithm");
        for set in sets() {
            for threads in [1, 2, 3] {
                on(threads, set, || check_conv(g, i as u64, true, false))
                    .unwrap_or_else(|e| panic!("{set:?} case {i}, {threads} thread(s): {e}"));
            }
        }
    }
}

/// Fewer rows than columns (a linear layer at a training batch) takes the
/// column-block path, with copies of C's blocks; with `alpha == 1` and `A`
/// not transposed each block runs on the unpacked AVX-512 kernels in the
/// AVX-512 set.
#[test]
fn gemm_column_blocks_match_reference_and_are_independent_of_thread_count() {
    let (m, k, n) = (13, 301, 517);
    let mut rng = Rng::new(13);
    let a = uniform(&mut rng, m * k);
    let b = uniform(&mut rng, k * n);
    let c0 = uniform(&mut rng, m * n);
    for (trans_a, trans_b) in [(false, false), (true, false), (false, true), (true, true)] {
        for (alpha, beta) in [(0.75f32, 0.0f32), (0.75, 0.5), (1.0, 0.0), (1.0, 0.5)] {
            let mut c_ref = c0.clone();
            reference::gemm(m, k, n, alpha, &a, trans_a, &b, trans_b, beta, &mut c_ref);
            for set in sets() {
                let run = |threads: usize| {
                    let mut c = c0.clone();
                    on(threads, set, || {
                        kernels::gemm(m, k, n, alpha, &a, trans_a, &b, trans_b, beta, &mut c)
                    });
                    c
                };
                let (c1, c2, c3) = (run(1), run(2), run(3));
                let e = max_rel_err(&c2, &c_ref);
                assert!(
                    e <= REL_TOL,
                    "{set:?} column-block gemm ta={trans_a} tb={trans_b} alpha={alpha} beta={beta}: rel. error {e:e}"
                );
                for c in [&c2, &c3] {
                    assert!(
                        c1.iter().zip(c).all(|(x, y)| x.to_bits() == y.to_bits()),
                        "{set:?}: thread counts differ"
                    );
                }
            }
        }
    }
}

/// Element-wise maps split over threads give every element exactly its own
/// value, whatever the thread count and whatever the output held before.
#[test]
fn elementwise_maps_are_exact_for_any_thread_count() {
    let n = 100_003;
    let mut rng = Rng::new(19);
    let (x, y) = (uniform(&mut rng, n), uniform(&mut rng, n));
    for threads in [1, 2, 3] {
        let mut out = vec![f32::NAN; n];
        pool(threads).install(|| kernels::elementwise::map(&x, &mut out, |v| v.max(0.0) * 3.0));
        assert!(
            out.iter().zip(&x).all(|(o, v)| o.to_bits() == (v.max(0.0) * 3.0).to_bits()),
            "{threads} threads"
        );
        let mut out2 = vec![f32::NAN; n];
        pool(threads).install(|| kernels::elementwise::map2(&x, &y, &mut out2, |a, b| a * b - 1.0));
        assert!(out2.iter().zip(x.iter().zip(&y)).all(|(o, (a, b))| o.to_bits() == (a * b - 1.0).to_bits()));
    }
}

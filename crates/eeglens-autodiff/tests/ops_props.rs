//! Gradcheck over generated geometries: convolutions (stride, padding,
//! non-square kernels, groups), max/avg pooling with any kernel/stride
//! relation, and broadcasting add/mul over random broadcastable shapes.

use eeglens_autodiff::gradcheck::{distinct_values, gradcheck, randn, GradcheckOpts};
use eeglens_autodiff::ops::{self, Conv2dOpts, Pool2dOpts};
use eeglens_autodiff::{Rng, Tensor};
use proptest::prelude::*;

/// A valid convolution: input `[n, c_in, h, w]`, weight `[c_out, c_in/groups, k_h, k_w]`, options, bias.
fn conv_case() -> impl Strategy<Value = ([usize; 4], [usize; 4], Conv2dOpts, bool, u64)> {
    (
        1usize..=2,
        1usize..=3,
        1usize..=2,
        1usize..=3,
        1usize..=3,
        1usize..=3,
        1usize..=3,
        0usize..=2,
        0usize..=2,
    )
        .prop_flat_map(|(n, groups, c_in_per_g, c_out_per_g, k_h, k_w, stride_h, pad_h, pad_w)| {
            // Input at least as large as the kernel after padding.
            let h = (k_h.saturating_sub(2 * pad_h)).max(1)..=6;
            let w = (k_w.saturating_sub(2 * pad_w)).max(1)..=7;
            (h, w, 1usize..=3, any::<bool>(), any::<u64>()).prop_map(move |(h, w, stride_w, bias, seed)| {
                let c_in = groups * c_in_per_g;
                let c_out = groups * c_out_per_g;
                let opts = Conv2dOpts { stride: (stride_h, stride_w), padding: (pad_h, pad_w), groups };
                ([n, c_in, h, w], [c_out, c_in_per_g, k_h, k_w], opts, bias, seed)
            })
        })
}

/// A valid pooling: input `[n, c, h, w]` and options.
fn pool_case() -> impl Strategy<Value = ([usize; 4], Pool2dOpts, u64)> {
    (1usize..=2, 1usize..=2, 1usize..=3, 1usize..=3, 1usize..=3, 1usize..=3).prop_flat_map(
        |(n, c, k_h, k_w, s_h, s_w)| {
            (k_h..=7, k_w..=7, any::<u64>()).prop_map(move |(h, w, seed)| {
                ([n, c, h, w], Pool2dOpts { kernel: (k_h, k_w), stride: (s_h, s_w) }, seed)
            })
        },
    )
}

/// Two shapes that broadcast: each dimension of the longer shape, with either
/// side possibly 1 or missing.
fn broadcast_pair() -> impl Strategy<Value = (Vec<usize>, Vec<usize>, u64)> {
    (prop::collection::vec((1usize..=3, 0u8..3), 1..=4), 0usize..=2, any::<u64>()).prop_map(
        |(dims, drop_a, seed)| {
            let a: Vec<usize> = dims.iter().map(|&(d, who)| if who == 1 { 1 } else { d }).collect();
            let b: Vec<usize> = dims.iter().map(|&(d, who)| if who == 2 { 1 } else { d }).collect();
            // Drop leading dimensions of `a` (NumPy aligns shapes on the right).
            let drop = drop_a.min(a.len() - 1);
            (a[drop..].to_vec(), b, seed)
        },
    )
}

fn check(
    f: impl Fn(&mut eeglens_autodiff::Tape<'_>, &[eeglens_autodiff::Var]) -> eeglens_autodiff::Var,
    inputs: &[Tensor],
) {
    if let Err(e) = gradcheck(f, inputs, &GradcheckOpts::default()) {
        panic!("{e}");
    }
}

/// 32 cases, or `PROPTEST_CASES` when set (`just test-deep`); `with_cases`
/// alone would ignore the variable.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(32)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn conv2d_gradients_on_any_geometry((x, w, opts, bias, seed) in conv_case()) {
        let mut r = Rng::new(seed);
        let mut inputs = vec![randn(&x, &mut r), randn(&w, &mut r)];
        if bias {
            inputs.push(randn(&[w[0]], &mut r));
        }
        check(move |t, v| ops::conv2d(t, v[0], v[1], v.get(2).copied(), opts), &inputs);
    }

    #[test]
    fn pooling_gradients_on_any_geometry((x, opts, seed) in pool_case()) {
        let mut r = Rng::new(seed);
        check(|t, v| ops::max_pool2d(t, v[0], opts), &[distinct_values(&x, 0.05, &mut r)]);
        check(|t, v| ops::avg_pool2d(t, v[0], opts), &[randn(&x, &mut r)]);
    }

    #[test]
    fn broadcasting_gradients_on_any_shapes((a, b, seed) in broadcast_pair()) {
        let mut r = Rng::new(seed);
        let inputs = [randn(&a, &mut r), randn(&b, &mut r)];
        check(|t, v| ops::add(t, v[0], v[1]), &inputs);
        check(|t, v| ops::mul(t, v[0], v[1]), &inputs);
        check(|t, v| ops::mul(t, v[1], v[0]), &inputs);
    }
}

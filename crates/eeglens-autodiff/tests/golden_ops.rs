//! Ops that the PyTorch R-VGG goldens do not cover, through the tape, against
//! PyTorch's float64 truth: strided, grouped, depthwise and (k,1)/(1,k)
//! convolutions, overlapping max-pool, average pool, ELU, leaky ReLU, square,
//! clamped log, broadcasting add/mul, linear without bias, batch norm (train
//! and eval) and weighted cross-entropy.
//!
//! The values come from `tools/golden/ops/make_op_goldens.py` (committed with
//! its output `tests/golden_data/op_goldens.safetensors`); the check is the
//! README rule of `fixtures/golden/pytorch`: `max|got - ref| <= 1e-4 * max|ref|`.

use eeglens_autodiff::ops::{self, BatchNormMode, Conv2dOpts, Pool2dOpts};
use eeglens_autodiff::{Tape, Tensor, Var};
use safetensors::{Dtype, SafeTensors};

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden_data/op_goldens.safetensors");

/// Per-tensor tolerance, relative to the reference's largest magnitude.
const REL_TO_MAX: f32 = 1e-4;

struct Golden {
    bytes: Vec<u8>,
}

impl Golden {
    fn load() -> Self {
        Self { bytes: std::fs::read(GOLDEN).expect("op goldens are committed beside the tests") }
    }

    fn f32(&self, name: &str) -> Tensor {
        let st = SafeTensors::deserialize(&self.bytes).expect("op goldens parse");
        let v = st.tensor(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(v.dtype(), Dtype::F32, "{name}");
        let data = v.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        Tensor::from_vec(v.shape(), data).unwrap()
    }

    fn labels(&self, name: &str) -> Vec<usize> {
        let st = SafeTensors::deserialize(&self.bytes).expect("op goldens parse");
        let v = st.tensor(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(v.dtype(), Dtype::I64, "{name}");
        v.data().chunks_exact(8).map(|b| i64::from_le_bytes(b.try_into().unwrap()) as usize).collect()
    }
}

fn assert_close(case: &str, got: &Tensor, want: &Tensor) {
    assert_eq!(got.shape(), want.shape(), "{case}: shape");
    let max_ref = want.data().iter().fold(0.0f32, |a, b| a.max(b.abs()));
    let max_err = got.data().iter().zip(want.data()).fold(0.0f32, |a, (g, w)| a.max((g - w).abs()));
    assert!(max_ref > 0.0, "{case}: reference is all zero");
    assert!(
        max_err <= REL_TO_MAX * max_ref,
        "{case}: max|got - ref| = {max_err:e} > {REL_TO_MAX:e} * max|ref| = {:e}",
        REL_TO_MAX * max_ref
    );
}

/// Loads `<prefix>.<name>` for each input, runs `f`, compares `<prefix>.y`,
/// back-propagates `<prefix>.gy` and compares `<prefix>.g<name>` for each input.
fn run_case(prefix: &str, names: &[&str], f: impl Fn(&mut Tape<'_>, &[Var]) -> Var) {
    let g = Golden::load();
    let mut tape = Tape::new();
    let vars: Vec<Var> =
        names.iter().map(|n| tape.input_with_grad(g.f32(&format!("{prefix}.{n}")))).collect();
    let y = f(&mut tape, &vars);
    assert_close(&format!("{prefix}.y"), tape.value(y), &g.f32(&format!("{prefix}.y")));
    let gy = tape.constant(g.f32(&format!("{prefix}.gy")));
    let prod = ops::mul(&mut tape, y, gy);
    let loss = ops::sum(&mut tape, prod);
    let grads = tape.backward(loss);
    for (n, &v) in names.iter().zip(&vars) {
        let key = format!("{prefix}.g{n}");
        assert_close(&key, grads.get(v).unwrap_or_else(|| panic!("{key}: no gradient")), &g.f32(&key));
    }
}

#[test]
fn conv2d_stride_2x3_padding_1x2() {
    let opts = Conv2dOpts { stride: (2, 3), padding: (1, 2), groups: 1 };
    run_case("conv_sp", &["x", "w", "b"], |t, v| ops::conv2d(t, v[0], v[1], Some(v[2]), opts));
}

#[test]
fn conv2d_two_groups() {
    let opts = Conv2dOpts { stride: (1, 1), padding: (1, 1), groups: 2 };
    run_case("conv_g", &["x", "w", "b"], |t, v| ops::conv2d(t, v[0], v[1], Some(v[2]), opts));
}

#[test]
fn conv2d_depthwise_temporal_1x5_without_bias() {
    let opts = Conv2dOpts { stride: (1, 1), padding: (0, 2), groups: 3 };
    run_case("conv_dw", &["x", "w"], |t, v| ops::conv2d(t, v[0], v[1], None, opts));
}

#[test]
fn conv2d_spatial_4x1_vertical_stride() {
    let opts = Conv2dOpts { stride: (2, 1), padding: (0, 0), groups: 1 };
    run_case("conv_k1", &["x", "w", "b"], |t, v| ops::conv2d(t, v[0], v[1], Some(v[2]), opts));
}

#[test]
fn max_pool_overlapping_windows() {
    let opts = Pool2dOpts { kernel: (3, 2), stride: (2, 1) };
    run_case("pool_ov", &["x"], |t, v| ops::max_pool2d(t, v[0], opts));
}

#[test]
fn avg_pool_2x3_stride_1x2() {
    let opts = Pool2dOpts { kernel: (2, 3), stride: (1, 2) };
    run_case("avg", &["x"], |t, v| ops::avg_pool2d(t, v[0], opts));
}

#[test]
fn elementwise_elu_leaky_square_log() {
    run_case("elu", &["x"], |t, v| ops::elu(t, v[0], 1.3));
    run_case("leaky", &["x"], |t, v| ops::leaky_relu(t, v[0], 0.1));
    run_case("square", &["x"], |t, v| ops::square(t, v[0]));
    run_case("log", &["x"], |t, v| ops::log(t, v[0], 1e-6));
}

#[test]
fn broadcasting_add_and_mul() {
    run_case("add_bc", &["a", "b"], |t, v| ops::add(t, v[0], v[1]));
    run_case("mul_bc", &["a", "b"], |t, v| ops::mul(t, v[0], v[1]));
}

#[test]
fn linear_without_bias() {
    run_case("linear_nb", &["x", "w"], |t, v| ops::linear(t, v[0], v[1], None));
}

fn bn_train_case(prefix: &str) {
    let names = ["x", "gamma", "beta"];
    run_case(prefix, &names, |t, v| {
        ops::batch_norm(t, v[0], v[1], v[2], BatchNormMode::Train { momentum: 0.1 }, 1e-5).0
    });
    // The statistics a layer folds into its running averages (PyTorch: unbiased variance).
    let g = Golden::load();
    let mut tape = Tape::new();
    let v: Vec<Var> = names.iter().map(|n| tape.constant(g.f32(&format!("{prefix}.{n}")))).collect();
    let (_, stats) =
        ops::batch_norm(&mut tape, v[0], v[1], v[2], BatchNormMode::Train { momentum: 0.1 }, 1e-5);
    let stats = stats.expect("training returns batch statistics");
    let c = stats.mean.len();
    assert_close(
        &format!("{prefix}.mean"),
        &Tensor::from_vec(&[c], stats.mean).unwrap(),
        &g.f32(&format!("{prefix}.mean")),
    );
    assert_close(
        &format!("{prefix}.var_unbiased"),
        &Tensor::from_vec(&[c], stats.var_unbiased).unwrap(),
        &g.f32(&format!("{prefix}.var_unbiased")),
    );
}

#[test]
fn batch_norm_train_1d() {
    bn_train_case("bn_train2d");
}

#[test]
fn batch_norm_train_2d() {
    bn_train_case("bn_train4d");
}

#[test]
fn batch_norm_eval_2d() {
    let g = Golden::load();
    let (rm, rv) = (g.f32("bn_eval4d.running_mean"), g.f32("bn_eval4d.running_var"));
    run_case("bn_eval4d", &["x", "gamma", "beta"], |t, v| {
        let mode = BatchNormMode::Eval { running_mean: rm.data(), running_var: rv.data() };
        ops::batch_norm(t, v[0], v[1], v[2], mode, 1e-5).0
    });
}

#[test]
fn weighted_cross_entropy_is_pytorchs_weighted_mean() {
    let g = Golden::load();
    let labels = g.labels("ce_w.labels");
    let weight = g.f32("ce_w.weight");
    let mut tape = Tape::new();
    let x = tape.input_with_grad(g.f32("ce_w.logits"));
    let loss = ops::cross_entropy(&mut tape, x, &labels, Some(weight.data()));
    assert_close("ce_w.loss", tape.value(loss), &g.f32("ce_w.loss"));
    let grads = tape.backward(loss);
    assert_close("ce_w.glogits", grads.get(x).unwrap(), &g.f32("ce_w.glogits"));
}

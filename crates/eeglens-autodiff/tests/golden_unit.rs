//! Single ops through the tape against PyTorch's float64 truth
//! (`fixtures/golden/pytorch/unit_goldens.safetensors`; see the README there).
//!
//! Each case feeds the stored inputs to the op on a tape, applies the stored
//! upstream gradient `gy` as `loss = sum(y * gy)`, and compares the output and
//! every input gradient with the README's rule `max|got - ref| <= 1e-4 * max|ref|`.

use eeglens_autodiff::ops::{self, Conv2dOpts, Pool2dOpts};
use eeglens_autodiff::{Tape, Tensor, Var};
use safetensors::{Dtype, SafeTensors};

const GOLDEN: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/golden/pytorch/unit_goldens.safetensors");

/// The README's per-tensor tolerance, relative to the reference's largest magnitude.
const REL_TO_MAX: f32 = 1e-4;

struct Golden {
    bytes: Vec<u8>,
}

impl Golden {
    fn load() -> Self {
        Self {
            bytes: std::fs::read(GOLDEN).unwrap_or_else(|e| {
                panic!("reading {GOLDEN}: {e} (the goldens are in the repository's fixtures/golden/)")
            }),
        }
    }

    fn file(&self) -> SafeTensors<'_> {
        SafeTensors::deserialize(&self.bytes).expect("unit goldens parse")
    }

    fn f32(&self, name: &str) -> Tensor {
        let st = self.file();
        let v = st.tensor(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(v.dtype(), Dtype::F32, "{name}");
        let data = v.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        Tensor::from_vec(v.shape(), data).unwrap()
    }

    fn labels(&self, name: &str) -> Vec<usize> {
        let st = self.file();
        let v = st.tensor(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(v.dtype(), Dtype::I64, "{name}");
        v.data()
            .chunks_exact(8)
            .map(|b| i64::from_le_bytes(b.try_into().unwrap()).try_into().expect("labels are non-negative"))
            .collect()
    }
}

/// Fails with the case's name when `got` is off `want` by more than the README's rule.
fn assert_close(case: &str, got: &Tensor, want: &Tensor) {
    assert_eq!(got.shape(), want.shape(), "{case}: shape");
    let max_ref = want.data().iter().fold(0.0f32, |a, b| a.max(b.abs()));
    let max_err = got.data().iter().zip(want.data()).fold(0.0f32, |a, (g, w)| a.max((g - w).abs()));
    assert!(
        max_err <= REL_TO_MAX * max_ref,
        "{case}: max|got - ref| = {max_err:e} > {REL_TO_MAX:e} * max|ref| = {:e}",
        REL_TO_MAX * max_ref
    );
}

/// `loss = sum(y * gy)`: back-propagating it feeds `gy` into `y`'s op.
fn seed(tape: &mut Tape<'_>, y: Var, gy: Tensor) -> Var {
    let gy = tape.constant(gy);
    let p = ops::mul(tape, y, gy);
    ops::sum(tape, p)
}

#[test]
fn conv_stride1_pad1_with_bias() {
    let g = Golden::load();
    let mut tape = Tape::new();
    let x = tape.input_with_grad(g.f32("conv.x"));
    let w = tape.input_with_grad(g.f32("conv.w"));
    let b = tape.input_with_grad(g.f32("conv.b"));
    let opts = Conv2dOpts { padding: (1, 1), ..Default::default() };
    let y = ops::conv2d(&mut tape, x, w, Some(b), opts);
    assert_close("conv.y", tape.value(y), &g.f32("conv.y"));
    let loss = seed(&mut tape, y, g.f32("conv.gy"));
    let grads = tape.backward(loss);
    assert_close("conv.gx", grads.get(x).unwrap(), &g.f32("conv.gx"));
    assert_close("conv.gw", grads.get(w).unwrap(), &g.f32("conv.gw"));
    assert_close("conv.gb", grads.get(b).unwrap(), &g.f32("conv.gb"));
}

fn pool_case(prefix: &str) {
    let g = Golden::load();
    let mut tape = Tape::new();
    let x = tape.input_with_grad(g.f32(&format!("{prefix}.x")));
    let y = ops::max_pool2d(&mut tape, x, Pool2dOpts::square(2));
    assert_close(&format!("{prefix}.y"), tape.value(y), &g.f32(&format!("{prefix}.y")));
    let loss = seed(&mut tape, y, g.f32(&format!("{prefix}.gy")));
    let grads = tape.backward(loss);
    assert_close(&format!("{prefix}.gx"), grads.get(x).unwrap(), &g.f32(&format!("{prefix}.gx")));
}

#[test]
fn maxpool_2x2() {
    pool_case("pool");
}

#[test]
fn maxpool_odd_size_floor_mode() {
    pool_case("pool_odd");
}

#[test]
fn maxpool_ties_route_to_the_first_maximum() {
    pool_case("pool_tie");
    // And exactly where the README says: (0,0) and (0,3) of the 2x4 plane.
    let g = Golden::load();
    let mut tape = Tape::new();
    let x = tape.input_with_grad(g.f32("pool_tie.x"));
    let (y, switches) = ops::max_pool2d_with_switches(&mut tape, x, Pool2dOpts::square(2));
    assert_eq!(&switches[..], &[0, 3]);
    let grads = tape.backward(y);
    let gx = grads.get(x).unwrap().data();
    let hit: Vec<usize> = (0..gx.len()).filter(|&i| gx[i] != 0.0).collect();
    assert_eq!(hit, vec![0, 3]);
}

#[test]
fn linear_with_bias() {
    let g = Golden::load();
    let mut tape = Tape::new();
    let x = tape.input_with_grad(g.f32("lin.x"));
    let w = tape.input_with_grad(g.f32("lin.w"));
    let b = tape.input_with_grad(g.f32("lin.b"));
    let y = ops::linear(&mut tape, x, w, Some(b));
    assert_close("lin.y", tape.value(y), &g.f32("lin.y"));
    let loss = seed(&mut tape, y, g.f32("lin.gy"));
    let grads = tape.backward(loss);
    assert_close("lin.gx", grads.get(x).unwrap(), &g.f32("lin.gx"));
    assert_close("lin.gw", grads.get(w).unwrap(), &g.f32("lin.gw"));
    assert_close("lin.gb", grads.get(b).unwrap(), &g.f32("lin.gb"));
}

#[test]
fn relu_gradient_at_signed_zero_is_zero() {
    let g = Golden::load();
    let xv = g.f32("relu.x");
    let mut tape = Tape::new();
    let x = tape.input_with_grad(xv.clone());
    let y = ops::relu(&mut tape, x);
    assert_close("relu.y", tape.value(y), &g.f32("relu.y"));
    let loss = seed(&mut tape, y, g.f32("relu.gy"));
    let grads = tape.backward(loss);
    let gx = grads.get(x).unwrap();
    assert_close("relu.gx", gx, &g.f32("relu.gx"));
    let zeros: Vec<usize> = (0..xv.len()).filter(|&i| xv.data()[i] == 0.0).collect();
    assert!(zeros.len() >= 2, "the golden holds +0 and -0");
    for i in zeros {
        assert_eq!(gx.data()[i], 0.0, "relu gradient at x[{i}] = {}", xv.data()[i]);
    }
}

fn ce_case(prefix: &str) {
    let g = Golden::load();
    let logits = g.f32(&format!("{prefix}.logits"));
    let labels = g.labels(&format!("{prefix}.labels"));
    assert_close(
        &format!("{prefix}.logsoftmax"),
        &ops::log_softmax(&logits),
        &g.f32(&format!("{prefix}.logsoftmax")),
    );
    let mut tape = Tape::new();
    let x = tape.input_with_grad(logits);
    let loss = ops::cross_entropy(&mut tape, x, &labels, None);
    assert_close(&format!("{prefix}.loss"), tape.value(loss), &g.f32(&format!("{prefix}.loss")));
    let grads = tape.backward(loss);
    assert_close(&format!("{prefix}.glogits"), grads.get(x).unwrap(), &g.f32(&format!("{prefix}.glogits")));
}

#[test]
fn cross_entropy_three_classes() {
    ce_case("ce");
}

#[test]
fn cross_entropy_two_classes() {
    ce_case("ce2");
}

#[test]
fn cross_entropy_huge_logits_need_max_subtraction() {
    ce_case("ce_big");
}

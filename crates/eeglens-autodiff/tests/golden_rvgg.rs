//! The whole R-VGG, built from raw ops, against PyTorch's float64 truth
//! (`fixtures/golden/pytorch/rvgg_seed0.safetensors`; see the README there):
//! weights from the README's counter-based generator, forward in eval mode,
//! mean cross-entropy, backward; logits, loss, the pooled activations, the
//! fully connected pre-activations, every stored parameter gradient and the
//! input gradient compared with `max|got - ref| <= 1e-4 * max|ref|`.

use eeglens_autodiff::ops::{self, Conv2dOpts, Pool2dOpts};
use eeglens_autodiff::{Tape, Tensor, Var};
use safetensors::{Dtype, SafeTensors};

const GOLDEN: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/golden/pytorch/rvgg_seed0.safetensors");

/// The README's per-tensor tolerance, relative to the reference's largest magnitude.
const REL_TO_MAX: f32 = 1e-4;

/// Relative tolerance on the f64 sums of the generated fc weights (the README
/// warns that summation order moves the last bits).
const SUM_TOL: f64 = 1e-9;

/// (name, shape, fan_in) in the README's `param_order`; `tensor_id` is the index.
const PARAMS: [(&str, &[usize], usize); 20] = [
    ("conv1.weight", &[16, 1, 3, 3], 9),
    ("conv1.bias", &[16], 9),
    ("conv2.weight", &[16, 16, 3, 3], 144),
    ("conv2.bias", &[16], 144),
    ("conv3.weight", &[32, 16, 3, 3], 144),
    ("conv3.bias", &[32], 144),
    ("conv4.weight", &[32, 32, 3, 3], 288),
    ("conv4.bias", &[32], 288),
    ("conv5.weight", &[64, 32, 3, 3], 288),
    ("conv5.bias", &[64], 288),
    ("conv6.weight", &[64, 64, 3, 3], 576),
    ("conv6.bias", &[64], 576),
    ("conv7.weight", &[64, 64, 3, 3], 576),
    ("conv7.bias", &[64], 576),
    ("fc1.weight", &[1024, 6144], 6144),
    ("fc1.bias", &[1024], 6144),
    ("fc2.weight", &[1024, 1024], 1024),
    ("fc2.bias", &[1024], 1024),
    ("fc3.weight", &[2, 1024], 1024),
    ("fc3.bias", &[2], 1024),
];

/// splitmix64 finaliser (README).
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The README's counter-based weight generator, U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
fn gen(seed: u64, tensor_id: u64, n: usize, fan_in: usize) -> Vec<f32> {
    let bound = 1.0f64 / (fan_in as f64).sqrt();
    let base = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(tensor_id << 40);
    (0..n as u64)
        .map(|i| {
            let r = (mix64(base.wrapping_add(i)) >> 40) as f64;
            let x = (r - 8_388_608.0 + 0.5) / 8_388_608.0;
            (x * bound) as f32
        })
        .collect()
}

fn f32_tensor(st: &SafeTensors<'_>, name: &str) -> Tensor {
    let v = st.tensor(name).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(v.dtype(), Dtype::F32, "{name}");
    let data = v.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    Tensor::from_vec(v.shape(), data).unwrap()
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

/// Rows 0, 1 and 1023 of a `[1024, k]` matrix.
fn rows_0_1_1023(m: &Tensor) -> Tensor {
    let k = m.shape()[1];
    let d = m.data();
    let data = [0, 1, 1023].iter().flat_map(|&r| d[r * k..(r + 1) * k].iter().copied()).collect();
    Tensor::from_vec(&[3, k], data).unwrap()
}

fn meta_f64(st_bytes: &[u8], key: &str) -> f64 {
    let (_, meta) = SafeTensors::read_metadata(st_bytes).unwrap();
    let m = meta.metadata().as_ref().expect("golden has metadata");
    m.get(key).unwrap_or_else(|| panic!("metadata {key}")).parse().unwrap()
}

#[test]
fn rvgg_forward_and_backward_match_pytorch() {
    let bytes = std::fs::read(GOLDEN).unwrap_or_else(|e| {
        panic!("reading {GOLDEN}: {e} (the goldens are in the repository's fixtures/golden/)")
    });
    let st = SafeTensors::deserialize(&bytes).unwrap();

    // Weights from the generator, checked against what the file stores.
    let params: Vec<Tensor> = PARAMS
        .iter()
        .enumerate()
        .map(|(id, (_, shape, fan_in))| {
            let n = shape.iter().product();
            Tensor::from_vec(shape, gen(0, id as u64, n, *fan_in)).unwrap()
        })
        .collect();
    for ((name, _, _), p) in PARAMS.iter().zip(&params) {
        if name.starts_with("fc1.weight") || name.starts_with("fc2.weight") {
            let stored = f32_tensor(&st, &format!("{name}.rows_0_1_1023"));
            assert_eq!(rows_0_1_1023(p).data(), stored.data(), "{name}: generated rows differ from the file");
            let sum: f64 = p.data().iter().map(|&v| v as f64).sum();
            let sumsq: f64 = p.data().iter().map(|&v| (v as f64) * (v as f64)).sum();
            let (want_sum, want_sumsq) = (
                meta_f64(&bytes, &format!("{name}.sum_f64")),
                meta_f64(&bytes, &format!("{name}.sumsq_f64")),
            );
            // The sum may be near zero, so both are compared on the sum of squares' scale.
            assert!((sum - want_sum).abs() <= SUM_TOL * want_sumsq, "{name}: sum {sum} vs {want_sum}");
            assert!(
                (sumsq - want_sumsq).abs() <= SUM_TOL * want_sumsq,
                "{name}: sumsq {sumsq} vs {want_sumsq}"
            );
        } else {
            assert_eq!(
                p.data(),
                f32_tensor(&st, name).data(),
                "{name}: generated values differ from the file"
            );
        }
    }

    let labels: Vec<usize> = st
        .tensor("labels")
        .unwrap()
        .data()
        .chunks_exact(8)
        .map(|b| i64::from_le_bytes(b.try_into().unwrap()) as usize)
        .collect();
    assert_eq!(labels, vec![0, 1, 1, 0]);

    let mut tape = Tape::new();
    let x = tape.input_with_grad(f32_tensor(&st, "input"));
    let p: Vec<Var> = params.iter().map(|w| tape.param(w)).collect();
    let same = Conv2dOpts { padding: (1, 1), ..Default::default() };
    let conv_relu = |tape: &mut Tape<'_>, h: Var, layer: usize| {
        let h = ops::conv2d(tape, h, p[2 * layer], Some(p[2 * layer + 1]), same);
        ops::relu(tape, h)
    };
    let mut h = x;
    let mut pools = Vec::new();
    for block in [&[0, 1][..], &[2, 3], &[4, 5, 6]] {
        for &layer in block {
            h = conv_relu(&mut tape, h, layer);
        }
        h = ops::max_pool2d(&mut tape, h, Pool2dOpts::square(2));
        pools.push(h);
    }
    let flat = ops::flatten(&mut tape, h);
    let fc1 = ops::linear(&mut tape, flat, p[14], Some(p[15]));
    let a1 = ops::relu(&mut tape, fc1);
    let fc2 = ops::linear(&mut tape, a1, p[16], Some(p[17]));
    let a2 = ops::relu(&mut tape, fc2);
    let logits = ops::linear(&mut tape, a2, p[18], Some(p[19]));
    let loss = ops::cross_entropy(&mut tape, logits, &labels, None);

    for (i, &v) in pools.iter().enumerate() {
        let name = format!("act.pool{}", i + 1);
        assert_close(&name, tape.value(v), &f32_tensor(&st, &name));
    }
    assert_close("act.fc1", tape.value(fc1), &f32_tensor(&st, "act.fc1"));
    assert_close("act.fc2", tape.value(fc2), &f32_tensor(&st, "act.fc2"));
    assert_close("logits", tape.value(logits), &f32_tensor(&st, "logits"));
    assert_close("loss", tape.value(loss), &f32_tensor(&st, "loss"));

    let grads = tape.backward(loss);
    for ((name, _, _), &v) in PARAMS.iter().zip(&p) {
        let g = grads.get(v).unwrap_or_else(|| panic!("no gradient for {name}"));
        if *name == "fc1.weight" || *name == "fc2.weight" {
            let key = format!("grad.{name}.rows_0_1_1023");
            assert_close(&key, &rows_0_1_1023(g), &f32_tensor(&st, &key));
        } else {
            let key = format!("grad.{name}");
            assert_close(&key, g, &f32_tensor(&st, &key));
        }
    }
    assert_close("grad.input", grads.get(x).unwrap(), &f32_tensor(&st, "grad.input"));
}

//! R-VGG against the PyTorch golden file `fixtures/golden/pytorch/rvgg_seed0.safetensors`:
//! weights from the counter-based generator, eval-mode forward at batch 4,
//! mean cross-entropy, every parameter gradient and the input gradient.

use std::path::Path;

use eeglens_autodiff::{ops, Rng, Tape, Tensor};
use eeglens_nn::models::{rvgg, RVGG_SHORT_NAMES};
use eeglens_nn::{read_tensor_file, Mode, ModelSpec, Sequential, TensorFile};

const GOLDEN: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/golden/pytorch/rvgg_seed0.safetensors");

/// The golden README's check: `max|got - ref| <= REL_TO_MAX * max|ref|` per tensor.
const REL_TO_MAX: f32 = 1e-4;

fn assert_close(name: &str, got: &[f32], want: &Tensor) {
    assert_eq!(got.len(), want.len(), "{name}: length");
    let max_ref = want.data().iter().fold(0f32, |m, v| m.max(v.abs()));
    let max_err = got.iter().zip(want.data()).fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(max_ref > 0.0, "{name}: reference is all zeros");
    assert!(
        max_err <= REL_TO_MAX * max_ref,
        "{name}: max error {max_err:e} > {REL_TO_MAX:e} * max|ref| {max_ref:e}"
    );
}

fn torch_name(short: &str) -> String {
    let (layer, leaf) = short.split_once('.').expect("short names have a dot");
    let long = RVGG_SHORT_NAMES.iter().find(|(s, _)| *s == layer).expect("known short name").1;
    format!("{long}.{leaf}")
}

fn golden_model() -> (Sequential, TensorFile) {
    let file = read_tensor_file(Path::new(GOLDEN)).unwrap_or_else(|e| {
        panic!("reading {GOLDEN}: {e} (the goldens are in the repository's fixtures/golden/)")
    });
    let mut model = rvgg(&ModelSpec::paper(), &mut Rng::new(1)).expect("R-VGG builds");
    model.init_golden(0);
    (model, file)
}

fn rows(t: &Tensor, idx: &[usize]) -> Vec<f32> {
    let cols = t.shape()[1];
    idx.iter().flat_map(|&r| t.data()[r * cols..(r + 1) * cols].to_vec()).collect()
}

#[test]
fn generator_reproduces_every_stored_weight_bit_for_bit() {
    let (model, file) = golden_model();
    let params: std::collections::HashMap<String, &Tensor> = model.named_params().into_iter().collect();
    let mut checked = 0;
    for (name, want) in &file.f32s {
        let is_param = name.starts_with("conv") || name.starts_with("fc");
        if !is_param {
            continue;
        }
        if let Some(short) = name.strip_suffix(".rows_0_1_1023") {
            let got = params[&torch_name(short)];
            assert_eq!(rows(got, &[0, 1, 1023]), want.data(), "{name}");
        } else {
            let got = params[&torch_name(name)];
            assert_eq!(got.data(), want.data(), "{name}");
        }
        checked += 1;
    }
    assert_eq!(checked, 20, "18 full tensors and 2 row samples");
}

#[test]
fn forward_backward_matches_pytorch() {
    let (model, file) = golden_model();
    let input = file.f32("input").expect("input").clone();
    let labels: Vec<usize> = file.int("labels").expect("labels").data.iter().map(|&l| l as usize).collect();
    let mut tape = Tape::new();
    let params = model.bind(&mut tape, true);
    let x = tape.input_with_grad(input);
    let trace = model.forward_traced(&mut tape, &params, x, Mode::Eval, &mut Rng::new(0)).expect("forward");
    let loss = ops::cross_entropy(&mut tape, trace.output, &labels, None);

    assert_close("logits", tape.value(trace.output).data(), file.f32("logits").expect("logits"));
    assert_close("loss", tape.value(loss).data(), file.f32("loss").expect("loss"));
    for (act, layer) in [
        ("act.pool1", "features.4"),
        ("act.pool2", "features.9"),
        ("act.pool3", "features.16"),
        ("act.fc1", "classifier.0"),
        ("act.fc2", "classifier.3"),
    ] {
        let i = model.layer_index(layer).expect("layer exists");
        assert_close(act, tape.value(trace.outputs[i]).data(), file.f32(act).expect("activation"));
    }
    // Every pool recorded switches, nothing else did.
    for (i, (_, l)) in model.layers().iter().enumerate() {
        assert_eq!(trace.switches[i].is_some(), l.kind() == "MaxPool2d", "switches of layer {i}");
    }

    let grads = tape.backward(loss);
    assert_close(
        "grad.input",
        grads.get(x).expect("input gradient").data(),
        file.f32("grad.input").expect("gi"),
    );
    let names: Vec<String> = model.named_params().into_iter().map(|(n, _)| n).collect();
    let mut checked = 0;
    for (name, g) in names.iter().zip(params.grads(&grads)) {
        let g = g.expect("every parameter gets a gradient");
        let (short, _) =
            RVGG_SHORT_NAMES.iter().find(|(_, l)| name.starts_with(&format!("{l}."))).expect("mapped");
        let leaf = name.rsplit('.').next().expect("leaf");
        let key = format!("grad.{short}.{leaf}");
        if file.contains(&key) {
            assert_close(&key, g.data(), file.f32(&key).expect("grad"));
        } else {
            let key = format!("{key}.rows_0_1_1023");
            assert_close(&key, &rows(g, &[0, 1, 1023]), file.f32(&key).expect("grad rows"));
        }
        checked += 1;
    }
    assert_eq!(checked, 20);
}

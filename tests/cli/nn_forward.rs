//! `eeglens forward` end to end: the PyTorch golden R-VGG reproduced through the
//! CLI (logits, loss, input gradient), with short and PyTorch weight names, and
//! one-line errors for bad files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use eeglens_autodiff::{Rng, Tensor};
use eeglens_nn::models::{rvgg, RVGG_SHORT_NAMES};
use eeglens_nn::{read_tensor_file, write_tensor_file, ModelSpec, TensorFile};

use crate::util::{assert_one_line_error, bin};

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/golden/pytorch/rvgg_seed0.safetensors");

/// The golden README's check: `max|got - ref| <= REL_TO_MAX * max|ref|` per tensor.
const REL_TO_MAX: f32 = 1e-4;

/// `name` in this module's scratch directory. It is shared by the module's
/// tests and lives as long as the process, so it cannot be removed when the
/// tests end: it sits under cargo's target directory (`CARGO_TARGET_TMPDIR`)
/// under one name, emptied when the next run starts, so runs never pile up.
fn tmp(name: &str) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("nn-forward");
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("scratch directory");
        d
    })
    .join(name)
}

fn assert_close(name: &str, got: &Tensor, want: &Tensor) {
    assert_eq!(got.shape(), want.shape(), "{name}: shape");
    let max_ref = want.data().iter().fold(0f32, |m, v| m.max(v.abs()));
    let max_err = got.data().iter().zip(want.data()).fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(max_ref > 0.0, "{name}: reference is all zeros");
    assert!(max_err <= REL_TO_MAX * max_ref, "{name}: max error {max_err:e} vs max|ref| {max_ref:e}");
}

/// Writes the golden weights, under short (`conv1.weight`) or PyTorch names.
fn golden_weights(path: &Path, short: bool, drop: Option<&str>) {
    golden_weights_with(path, short, drop, &BTreeMap::new());
}

/// As [`golden_weights`], with `__metadata__` entries.
fn golden_weights_with(path: &Path, short: bool, drop: Option<&str>, meta: &BTreeMap<String, String>) {
    let mut model = rvgg(&ModelSpec::paper(), &mut Rng::new(0)).expect("R-VGG builds");
    model.init_golden(0);
    let mut tensors: Vec<(String, &Tensor)> = Vec::new();
    for (name, t) in model.named_params() {
        let name = if short {
            let (layer, leaf) = name.rsplit_once('.').expect("dotted");
            let s = RVGG_SHORT_NAMES.iter().find(|(_, l)| *l == layer).expect("mapped").0;
            format!("{s}.{leaf}")
        } else {
            name
        };
        if Some(name.as_str()) != drop {
            tensors.push((name, t));
        }
    }
    write_tensor_file(path, &tensors, &[], meta).expect("write weights");
}

fn forward(weights: &Path, input: &Path, out: &Path, grad: bool) -> std::process::Output {
    forward_model(Some("rvgg"), weights, input, out, grad)
}

/// `eeglens forward`, with `--model` when given.
fn forward_model(
    model: Option<&str>,
    weights: &Path,
    input: &Path,
    out: &Path,
    grad: bool,
) -> std::process::Output {
    let mut cmd = bin();
    cmd.arg("forward");
    if let Some(m) = model {
        cmd.args(["--model", m]);
    }
    cmd.arg("--weights").arg(weights).arg("--input").arg(input).arg("--out").arg(out);
    if grad {
        cmd.arg("--grad-input");
    }
    cmd.output().expect("eeglens runs")
}

#[test]
fn forward_reproduces_the_pytorch_golden() {
    let golden = read_tensor_file(Path::new(GOLDEN)).expect("golden reads");
    for short in [true, false] {
        let w = tmp(&format!("w_{short}.safetensors"));
        golden_weights(&w, short, None);
        let y = tmp(&format!("y_{short}.safetensors"));
        let o = forward(&w, Path::new(GOLDEN), &y, true);
        assert!(o.status.success(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
        let out: TensorFile = read_tensor_file(&y).expect("output reads");
        for (key, want) in [("logits", "logits"), ("loss", "loss"), ("grad_input", "grad.input")] {
            assert_close(key, out.f32(key).expect("written"), golden.f32(want).expect("golden"));
        }
    }
}

#[test]
fn forward_without_labels_writes_only_logits() {
    let golden = read_tensor_file(Path::new(GOLDEN)).expect("golden reads");
    let input = golden.f32("input").expect("input");
    let x = tmp("nolabels.safetensors");
    write_tensor_file(&x, &[("input".into(), input)], &[], &BTreeMap::new()).expect("write");
    let w = tmp("w_nolabels.safetensors");
    golden_weights(&w, false, None);
    let y = tmp("y_nolabels.safetensors");
    let o = forward(&w, &x, &y, false);
    assert!(o.status.success(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    let out = read_tensor_file(&y).expect("output reads");
    assert_close("logits", out.f32("logits").expect("logits"), golden.f32("logits").expect("golden"));
    assert!(!out.contains("loss") && !out.contains("grad_input"));
    // --grad-input without labels is a user error.
    let o = forward(&w, &x, &y, true);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn bad_files_give_one_line_errors() {
    let w = tmp("w_missing.safetensors");
    golden_weights(&w, false, Some("features.12.bias"));
    let y = tmp("y_err.safetensors");
    assert_one_line_error(&forward(&w, Path::new(GOLDEN), &y, false), &["features.12.bias"]);

    let bytes = std::fs::read(GOLDEN).expect("golden bytes");
    let cut = tmp("cut.safetensors");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).expect("write");
    let good_w = tmp("w_good.safetensors");
    golden_weights(&good_w, true, None);
    assert_one_line_error(&forward(&good_w, &cut, &y, false), &["truncated"]);

    assert_one_line_error(
        &forward(&good_w, Path::new("/nonexistent/x.safetensors"), &y, false),
        &["/nonexistent/x.safetensors"],
    );
}

/// A batch of `c` x `t` windows (without labels) in a file called `name`.
fn input_of(c: usize, t: usize, name: &str) -> PathBuf {
    let x = Tensor::from_vec(&[2, 1, c, t], vec![0.1; 2 * c * t]).expect("tensor");
    let p = tmp(name);
    write_tensor_file(&p, &[("input".into(), &x)], &[], &BTreeMap::new()).expect("write");
    p
}

/// R-VGG weights for 24 x 256 windows returned logits for 48 x 128 ones (the flattened size is
/// the same): an input whose shape differs from the one stored with the weights is refused as
/// the input's fault, naming the input file and both shapes, never the weights.
#[test]
fn an_input_of_another_shape_than_the_stored_one_is_refused() {
    let stored = tmp("w_stored.safetensors");
    let meta = BTreeMap::from([("input_shape".to_string(), "[1,24,256]".to_string())]);
    golden_weights_with(&stored, false, None, &meta);
    let y = tmp("y_shape.safetensors");
    for (c, t) in [(48, 128), (24, 128), (12, 256), (24, 512)] {
        let x = input_of(c, t, &format!("x_{c}x{t}.safetensors"));
        let o = forward(&stored, &x, &y, false);
        assert_one_line_error(&o, &[&format!("[1, {c}, {t}] per sample ({c} channels x {t} samples)")]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("expects [1, 24, 256]") && err.contains(x.to_str().expect("utf-8")), "{err}");
        assert!(!err.contains("w_stored"), "blames the weights: {err}");
    }
    // The right shape still works.
    let x = input_of(24, 256, "x_right.safetensors");
    let o = forward(&stored, &x, &y, false);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Without a stored shape, an input that does not fit the weights (the last layer's size tells)
/// is refused as the input's fault too.
#[test]
fn an_input_that_does_not_fit_weights_without_a_stored_shape_is_refused() {
    let y = tmp("y_plain.safetensors");
    let plain = tmp("w_plain.safetensors");
    golden_weights(&plain, false, None);
    let x = input_of(24, 128, "x_plain.safetensors");
    let o = forward(&plain, &x, &y, false);
    assert_one_line_error(&o, &["[1, 24, 128] per sample"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("the weights expect another input shape") && !err.contains("w_plain"), "{err}");
    assert!(err.contains(x.to_str().expect("utf-8")), "names the input: {err}");
}

/// Weights whose metadata names their model (as checkpoints do) are refused for another
/// `--model`, naming both; without `--model` the stored one is used.
#[test]
fn weights_of_another_model_than_the_named_one_are_refused() {
    let w = tmp("w_named.safetensors");
    let meta = BTreeMap::from([("model".to_string(), "rvgg".to_string())]);
    golden_weights_with(&w, false, None, &meta);
    let y = tmp("y_named.safetensors");
    let o = forward_model(Some("shallow"), &w, Path::new(GOLDEN), &y, false);
    assert_one_line_error(&o, &["`rvgg` model"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--model is `shallow`") && err.contains("w_named"), "{err}");
    // The named model, or none: the stored one.
    for model in [Some("rvgg"), None] {
        let o = forward_model(model, &w, Path::new(GOLDEN), &y, false);
        assert!(o.status.success(), "{model:?}: {}", String::from_utf8_lossy(&o.stderr));
        let out = read_tensor_file(&y).expect("output reads");
        assert_eq!(out.metadata.get("model").map(String::as_str), Some("rvgg"));
        std::fs::remove_file(&y).expect("remove output");
    }
}

//! Checkpoints: bit-exact round trips, PyTorch and short names, and one test
//! per error (missing tensor, wrong shape, wrong dtype, truncated file).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use eeglens_autodiff::{Rng, Tensor};
use eeglens_io::scratch::Scratch;
use eeglens_nn::tensor_file::{parse_tensor_file, tensor_file_bytes};
use eeglens_nn::{
    load_checkpoint, load_weights, models, read_tensor_file, save_checkpoint, write_tensor_file,
    CheckpointMeta, IntTensor, ModelSpec, NnError, Sequential,
};
use proptest::prelude::*;

const SPEC: ModelSpec = ModelSpec { n_channels: 8, n_samples: 128, n_classes: 2 };

/// A fresh file path ending in `name` in the temporary directory, removed when
/// the guard drops (unless `EEGLENS_KEEP_TEST_FILES` is set).
fn tmp(name: &str) -> Scratch {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    Scratch(std::env::temp_dir().join(format!("eeglens-nn-ckpt-{}-{n}-{name}", std::process::id())))
}

fn meta(model: &str) -> CheckpointMeta {
    CheckpointMeta {
        model: model.into(),
        input_shape: vec![1, SPEC.n_channels, SPEC.n_samples],
        class_names: vec!["female".into(), "male".into()],
        extra: BTreeMap::from([("sfreq".to_string(), "128".to_string())]),
    }
}

fn model(name: &str, seed: u64) -> Sequential {
    models::build(name, &SPEC, &mut Rng::new(seed)).expect("model builds")
}

#[test]
fn every_model_round_trips_bit_exactly() {
    for name in models::MODEL_NAMES {
        let mut m = model(name, 3);
        // Make batch-norm state non-trivial so it is really saved.
        for (_, t) in m.named_buffers_mut() {
            t.data_mut().iter_mut().enumerate().for_each(|(i, v)| *v += 0.25 * i as f32);
        }
        let counters: Vec<String> = m.named_counters().into_iter().map(|(n, _)| n).collect();
        for n in &counters {
            m.set_counter(n, 17);
        }
        let path = tmp(&format!("{name}.safetensors"));
        save_checkpoint(&path, &m, &meta(name), None).expect("save");
        let (back, back_meta, _) = load_checkpoint(&path).expect("load");
        assert_eq!(back_meta, meta(name));
        assert_eq!(back, m, "{name} differs after a round trip");
        let other = model(name, 4);
        assert_ne!(other, m, "{name}: a different seed must give different weights");
    }
}

#[test]
fn pytorch_names_and_layouts() {
    let m = model("rvgg", 0);
    let path = tmp("names.safetensors");
    save_checkpoint(&path, &m, &meta("rvgg"), None).expect("save");
    let f = read_tensor_file(&path).expect("read");
    assert_eq!(f.f32("features.0.weight").expect("conv").shape(), [16, 1, 3, 3]);
    assert_eq!(f.f32("features.14.bias").expect("conv bias").shape(), [64]);
    assert_eq!(f.f32("classifier.0.weight").expect("fc1").shape(), [1024, 64 * 16]);
    assert_eq!(f.f32("classifier.6.weight").expect("fc3").shape(), [2, 1024]);
    assert_eq!(f.metadata["model"], "rvgg");
    assert_eq!(f.metadata["input_shape"], "[1,8,128]");
    assert_eq!(f.metadata["class_names"], r#"["female","male"]"#);
    assert_eq!(f.f32s.len(), 20);
}

#[test]
fn short_names_load_too() {
    let src = model("rvgg", 5);
    let mut tensors: Vec<(String, &Tensor)> = Vec::new();
    for ((name, t), (short, long)) in
        src.named_params().into_iter().zip(eeglens_nn::models::RVGG_SHORT_NAMES.iter().flat_map(|p| [*p, *p]))
    {
        let leaf = name.strip_prefix(&format!("{long}.")).expect("aligned");
        tensors.push((format!("{short}.{leaf}"), t));
    }
    let path = tmp("short.safetensors");
    write_tensor_file(&path, &tensors, &[], &BTreeMap::new()).expect("write");
    let mut dst = model("rvgg", 6);
    load_weights(&mut dst, &read_tensor_file(&path).expect("read")).expect("short names accepted");
    assert_eq!(dst, src);
}

fn saved_rvgg(
    name: &str,
    edit: impl FnOnce(&mut Vec<(String, Tensor)>, &mut Vec<(String, IntTensor)>),
) -> Scratch {
    let m = model("rvgg", 1);
    let mut f32s: Vec<(String, Tensor)> = m.named_params().into_iter().map(|(n, t)| (n, t.clone())).collect();
    let mut ints = Vec::new();
    edit(&mut f32s, &mut ints);
    let refs: Vec<(String, &Tensor)> = f32s.iter().map(|(n, t)| (n.clone(), t)).collect();
    let path = tmp(name);
    write_tensor_file(&path, &refs, &ints, &BTreeMap::new()).expect("write");
    path
}

#[test]
fn missing_tensor_is_named() {
    let path = saved_rvgg("missing.safetensors", |f, _| f.retain(|(n, _)| n != "features.7.bias"));
    let err = load_weights(&mut model("rvgg", 2), &read_tensor_file(&path).expect("read")).unwrap_err();
    assert!(matches!(&err, NnError::MissingTensor { name, .. } if name == "features.7.bias"), "{err}");
    assert!(err.to_string().contains("features.7.bias"));
}

#[test]
fn wrong_shape_is_named_and_model_untouched() {
    let path = saved_rvgg("shape.safetensors", |f, _| {
        let t = f.iter_mut().find(|(n, _)| n == "classifier.6.weight").expect("exists");
        t.1 = Tensor::zeros(&[3, 1024]);
    });
    let mut m = model("rvgg", 2);
    let before = m.clone();
    let err = load_weights(&mut m, &read_tensor_file(&path).expect("read")).unwrap_err();
    match &err {
        NnError::TensorShape { name, expected, got, .. } => {
            assert_eq!(name, "classifier.6.weight");
            assert_eq!(expected, &[2, 1024]);
            assert_eq!(got, &[3, 1024]);
        }
        other => panic!("wrong error: {other}"),
    }
    assert_eq!(m, before, "a failed load must not modify the model");
}

#[test]
fn wrong_dtype_is_named() {
    let path = saved_rvgg("dtype.safetensors", |f, ints| {
        f.retain(|(n, _)| n != "features.0.bias");
        ints.push(("features.0.bias".into(), IntTensor { shape: vec![16], data: vec![0; 16] }));
    });
    let err = load_weights(&mut model("rvgg", 2), &read_tensor_file(&path).expect("read")).unwrap_err();
    assert!(
        matches!(&err, NnError::TensorDtype { name, got, .. } if name == "features.0.bias" && got == "I64"),
        "{err}"
    );
}

fn small_file_bytes() -> Vec<u8> {
    let a = Tensor::from_vec(&[2, 3], (0..6).map(|v| v as f32).collect()).expect("shape");
    let b = Tensor::full(&[4], 1.5);
    let f32s = vec![("a".to_string(), &a), ("b".to_string(), &b)];
    tensor_file_bytes(Path::new("mem"), &f32s, &[], &BTreeMap::new()).expect("serialise")
}

#[test]
fn truncated_file_names_the_offset_and_tensor() {
    let bytes = small_file_bytes();
    let n = bytes.len();
    // Cut inside the last tensor's data.
    let err = parse_tensor_file(Path::new("cut.safetensors"), &bytes[..n - 3]).unwrap_err();
    match &err {
        NnError::Truncated { what, needed, len, .. } => {
            assert!(what.contains("tensor `"), "{what}");
            assert_eq!(*needed as usize, n);
            assert_eq!(*len as usize, n - 3);
        }
        other => panic!("wrong error: {other}"),
    }
    // Cut inside the header and inside the length prefix.
    let err = parse_tensor_file(Path::new("cut"), &bytes[..20]).unwrap_err();
    assert!(matches!(&err, NnError::Truncated { what, .. } if what.contains("header")), "{err}");
    let err = parse_tensor_file(Path::new("cut"), &bytes[..5]).unwrap_err();
    assert!(matches!(err, NnError::Truncated { needed: 8, len: 5, .. }));
    // Through the file reader too, with the path in the message.
    let path = tmp("truncated.safetensors");
    std::fs::write(&path, &bytes[..n - 3]).expect("write");
    let msg = read_tensor_file(&path).unwrap_err().to_string();
    assert!(msg.contains("truncated.safetensors") && msg.contains(&n.to_string()), "{msg}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    /// Any prefix, and any single corrupted byte, gives an error or a valid
    /// file, never a panic.
    #[test]
    fn damaged_files_never_panic(cut in 0usize..200, pos in 0usize..200, byte in any::<u8>()) {
        let bytes = small_file_bytes();
        let cut = cut.min(bytes.len() - 1);
        prop_assert!(parse_tensor_file(Path::new("p"), &bytes[..cut]).is_err());
        let mut bad = bytes.clone();
        let pos = pos % bad.len();
        bad[pos] = byte;
        let _ = parse_tensor_file(Path::new("p"), &bad);
    }
}

/// The model is sized from the checkpoint's `input_shape` before its weights are read: a
/// claimed input of 2^20 x 2^20 made R-VGG ask for 2^50 weights (4 PiB) and the process abort.
#[test]
fn an_input_shape_larger_than_the_weights_is_refused_before_allocating() {
    let path = tmp("huge-input.safetensors");
    for name in models::MODEL_NAMES {
        for (c, t) in
            [(1usize << 20, 1usize << 20), (usize::MAX, usize::MAX), (8, usize::MAX), (1 << 40, 128)]
        {
            let m = CheckpointMeta { input_shape: vec![1, c, t], ..meta(name) };
            save_checkpoint(&path, &model(name, 0), &m, None).expect("save");
            let err = load_checkpoint(&path).map(|_| ()).unwrap_err();
            let msg = err.to_string();
            assert!(
                matches!(&err, NnError::Metadata { key, .. } if key == "input_shape"),
                "{name} {c}x{t}: {msg}"
            );
            assert!(msg.contains("huge-input.safetensors"), "{msg}");
            let file = read_tensor_file(&path).expect("read");
            assert!(eeglens_nn::model_for_weights(name, c, t, &file).is_err(), "{name} {c}x{t}");
        }
    }
}

/// A safetensors file whose header is built from the given shape and offsets, followed by
/// `data` bytes.
fn file_with_header(dtype: &str, shape: &[u64], offsets: (u64, u64), data: usize) -> Vec<u8> {
    let header =
        serde_json::json!({"t": {"dtype": dtype, "shape": shape, "data_offsets": [offsets.0, offsets.1]}});
    let mut text = header.to_string().into_bytes();
    text.resize(text.len().div_ceil(8) * 8, b' ');
    let mut bytes = (text.len() as u64).to_le_bytes().to_vec();
    bytes.extend(text);
    bytes.resize(bytes.len() + data, 0);
    bytes
}

/// A number for a header: small, a power of two, or near the largest `u64`.
fn header_number() -> impl Strategy<Value = u64> {
    prop_oneof![0..64u64, (0..64u32).prop_map(|b| 1u64 << b), (0..8u64).prop_map(|k| u64::MAX - k)]
}

/// Data offsets near `u64::MAX` wrapped when added to the header's length, and passed the
/// comparison with the file's length (a panic in a debug build).
#[test]
fn offsets_that_overflow_are_an_error() {
    let bytes = file_with_header("F32", &[1], (0, u64::MAX - 4), 4);
    let err = parse_tensor_file(Path::new("wrap.safetensors"), &bytes).unwrap_err();
    assert!(err.to_string().contains("overflow"), "{err}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    /// Random shapes and offsets in the header give a file or an error, never a panic, and
    /// never more values than the file holds.
    #[test]
    fn header_numbers_give_a_file_or_an_error(
        dtype in prop::sample::select(vec!["F32", "I64", "I32", "F16", "U8"]),
        shape in prop::collection::vec(header_number(), 0..4),
        offsets in (header_number(), header_number()),
        data in 0usize..256,
    ) {
        let bytes = file_with_header(dtype, &shape, offsets, data);
        if let Ok(f) = parse_tensor_file(Path::new("random.safetensors"), &bytes) {
            // Every value read takes at least 4 bytes of the file.
            let values: usize = f.f32s.values().map(|t| t.data().len()).sum::<usize>()
                + f.ints.values().map(|t| t.data.len()).sum::<usize>();
            prop_assert!(values * 4 <= data, "{values} values from {data} bytes");
        }
    }
}

#[test]
fn int32_and_int64_labels_both_read() {
    use safetensors::tensor::{Dtype, TensorView};
    let l32: Vec<u8> = [0i32, 1, 1, 0].iter().flat_map(|v| v.to_le_bytes()).collect();
    let l64: Vec<u8> = [1i64, 0].iter().flat_map(|v| v.to_le_bytes()).collect();
    let half: Vec<u8> = vec![0u8; 4];
    let views = vec![
        ("a", TensorView::new(Dtype::I32, vec![4], &l32).expect("view")),
        ("b", TensorView::new(Dtype::I64, vec![2], &l64).expect("view")),
        ("c", TensorView::new(Dtype::F16, vec![2], &half).expect("view")),
    ];
    let bytes = safetensors::serialize(views, None).expect("serialise");
    let f = parse_tensor_file(Path::new("labels.safetensors"), &bytes).expect("parse");
    assert_eq!(f.int("a").expect("i32").data, [0, 1, 1, 0]);
    assert_eq!(f.int("b").expect("i64").data, [1, 0]);
    let err = f.f32("c").unwrap_err();
    assert!(matches!(&err, NnError::TensorDtype { name, got, .. } if name == "c" && got == "F16"), "{err}");
}

/// Weights for one input shape took inputs of another whenever the flattened size agreed (R-VGG
/// weights for 24 x 256 gave logits for 48 x 128): the stored input shape is checked first, and
/// without one a tensor that follows from the input and does not fit is the input's fault.
#[test]
fn an_input_shape_other_than_the_weights_is_refused_as_the_inputs() {
    let path = tmp("shape-mismatch.safetensors");
    let plain = tmp("shape-mismatch-plain.safetensors");
    for name in models::MODEL_NAMES {
        let m = model(name, 1);
        save_checkpoint(&path, &m, &meta(name), None).expect("save");
        let file = read_tensor_file(&path).expect("read");
        for (c, t) in [(16, 64), (4, 256), (8, 256), (16, 128)] {
            match eeglens_nn::model_for_weights(name, c, t, &file) {
                Err(NnError::InputMismatch { got, expected }) => {
                    assert_eq!((got, expected), (vec![1, c, t], vec![1, 8, 128]), "{name}");
                }
                other => panic!("{name} {c}x{t}: {:?}", other.map(|_| ())),
            }
        }
        assert!(eeglens_nn::model_for_weights(name, 8, 128, &file).is_ok(), "{name}");
        // The same weights without metadata.
        write_tensor_file(&plain, &m.named_params(), &[], &BTreeMap::new()).expect("write");
        let file = read_tensor_file(&plain).expect("read");
        let shapes = |t: usize| -> Vec<Vec<usize>> {
            let spec = ModelSpec { n_channels: 8, n_samples: t, n_classes: 2 };
            let m = models::build(name, &spec, &mut Rng::new(0)).expect("builds");
            m.named_params().into_iter().map(|(_, p)| p.shape().to_vec()).collect()
        };
        if shapes(256) == shapes(128) {
            // LogPowerNet pools over the whole window: its weights fit any window length.
            assert_eq!(name, "logpower", "only LogPowerNet's weights are independent of the window length");
            let mut with_buffers: Vec<(String, &Tensor)> = m.named_params();
            with_buffers.extend(m.named_buffers());
            write_tensor_file(&plain, &with_buffers, &[], &BTreeMap::new()).expect("write");
            let file = read_tensor_file(&plain).expect("read");
            assert!(eeglens_nn::model_for_weights(name, 8, 256, &file).is_ok(), "{name}");
            continue;
        }
        match eeglens_nn::model_for_weights(name, 8, 256, &file) {
            Err(NnError::InputDoesNotFitWeights { got, .. }) => assert_eq!(got, vec![1, 8, 256], "{name}"),
            other => panic!("{name}: {:?}", other.map(|_| ())),
        }
    }
}

//! Random shapes, indices and values in an epoch store: opening it gives a
//! store or an error, never a panic, and an opened store's windows can all be read.

use std::collections::HashMap;

use eeglens_data::store::{EpochStore, FORMAT};
use proptest::prelude::*;
use safetensors::tensor::{Dtype, TensorView};

/// A dimension: small, or a power of two up to 2^62.
fn dim() -> impl Strategy<Value = usize> {
    prop_oneof![0..5usize, (0..63u32).prop_map(|b| 1usize << b)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn store_numbers_give_a_store_or_an_error(
        shape in (dim(), dim(), dim()),
        n_labels in prop::option::weighted(0.2, dim()),
        label in prop_oneof![3 => Just(0i64), 3 => Just(1), 1 => any::<i64>()],
        subject in prop_oneof![3 => Just(0i32), 1 => any::<i32>()],
        split in prop_oneof![3 => 0..3u8, 1 => any::<u8>()],
        value in prop_oneof![Just(0.5f32), Just(f32::NAN), Just(f32::INFINITY), any::<f32>()],
        n_channel_names in prop::option::weighted(0.2, 0..4usize),
    ) {
        let (n, c, t) = shape;
        // Mostly consistent counts, so that the checks after the first ones are reached too.
        let n_labels = n_labels.unwrap_or(n);
        let n_channel_names = n_channel_names.unwrap_or(c.min(1 << 12));
        // Tensors whose byte count would not fit are not written (safetensors refuses them).
        let values = n.checked_mul(c).and_then(|v| v.checked_mul(t)).filter(|&v| v <= 1 << 12);
        prop_assume!(values.is_some() && n_labels <= 1 << 12);
        let values = values.expect("checked above");
        let x: Vec<u8> = (0..values).flat_map(|i| if i == values / 2 { value } else { 0.25 }.to_le_bytes()).collect();
        let y: Vec<u8> = (0..n_labels).flat_map(|_| label.to_le_bytes()).collect();
        let s: Vec<u8> = (0..n_labels).flat_map(|_| subject.to_le_bytes()).collect();
        let p: Vec<u8> = vec![split; n_labels];
        let names: Vec<String> = (0..n_channel_names).map(|i| format!("C{i}")).collect();
        let meta = HashMap::from([
            ("format".to_string(), FORMAT.to_string()),
            ("channels".to_string(), serde_json::to_string(&names).expect("json")),
            ("classes".to_string(), r#"["F","M"]"#.to_string()),
            ("subjects".to_string(), r#"["sub-1"]"#.to_string()),
            ("fs".to_string(), "128".to_string()),
        ]);
        let tensors = vec![
            ("x", TensorView::new(Dtype::F32, vec![n, c, t], &x).expect("x")),
            ("y", TensorView::new(Dtype::I64, vec![n_labels], &y).expect("y")),
            ("subject", TensorView::new(Dtype::I32, vec![n_labels], &s).expect("subject")),
            ("split", TensorView::new(Dtype::U8, vec![n_labels], &p).expect("split")),
        ];
        let dir = std::env::temp_dir().join(format!("eeglens-data-numbers-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let _scratch = Scratch(dir.clone());
        let path = dir.join("random.safetensors");
        std::fs::write(&path, safetensors::serialize(tensors, Some(meta)).expect("serialise")).expect("write");
        match EpochStore::open(&path) {
            Ok(store) => {
                prop_assert!(value.is_finite() || values == 0);
                let all: Vec<usize> = (0..store.len()).collect();
                let batch = store.batch(&all);
                prop_assert_eq!(batch.data().len(), values);
                prop_assert!(batch.data().iter().all(|v| v.is_finite()));
            }
            Err(e) => prop_assert!(e.to_string().contains("random.safetensors"), "{}", e),
        }
    }
}

/// A temporary directory removed when dropped, passed or failed (unless
/// `EEGLENS_KEEP_TEST_FILES` is set).
struct Scratch(std::path::PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::env::var_os("EEGLENS_KEEP_TEST_FILES").is_none() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

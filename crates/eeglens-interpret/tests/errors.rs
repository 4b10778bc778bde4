//! An error shows what it wraps once: in its own text, not again as a `source()` (a program
//! printing the whole chain would repeat it).

mod scratch;

use std::error::Error;

use eeglens_autodiff::Rng;
use eeglens_data::store::{EpochMeta, EpochSet, EpochStore, Split};
use eeglens_interpret::spectral::spectra;
use eeglens_interpret::{run, write_outputs, InterpretConfig, InterpretError, Silent};
use eeglens_nn::{models, ModelSpec};

/// The error and every `source()` below it, joined with ": " as a program printing the whole
/// chain does.
fn full_chain(e: &dyn Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        parts.push(s.to_string());
        cur = s.source();
    }
    parts.join(": ")
}

#[test]
fn an_output_directory_that_cannot_be_made_shows_the_os_message_once() {
    let dir = std::env::temp_dir().join(format!("eeglens-interpret-errors-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let _scratch = scratch::Scratch(dir.clone());
    let (n, c, t) = (8, 8, 64);
    let mut rng = Rng::new(0);
    let set = EpochSet {
        x: (0..n * c * t).map(|_| rng.normal() as f32).collect(),
        n_samples: t,
        y: (0..n as u32).map(|i| i % 2).collect(),
        subject: (0..n as u32).map(|i| i / 2).collect(),
        split: vec![Split::Test; n],
        meta: EpochMeta {
            channels: (0..c).map(|i| format!("E{i}")).collect(),
            fs: 32.0,
            classes: vec!["F".into(), "M".into()],
            label_column: "sex".into(),
            subjects: (0..n / 2).map(|i| format!("{i:03}")).collect(),
            settings: serde_json::json!({}),
            unit: None,
        },
        sources: None,
        target: None,
    };
    set.write(&dir.join("epochs.safetensors")).expect("write store");
    let store = EpochStore::open(&dir.join("epochs.safetensors")).expect("open store");
    let spec = ModelSpec { n_channels: c, n_samples: t, n_classes: 2 };
    let model = models::build("rvgg", &spec, &mut Rng::new(1)).expect("model");
    let cfg = InterpretConfig { k: 2, permutations: 19, ..InterpretConfig::default() };
    // An untrained network learned nothing: no method runs, the result is still written.
    let result = run(&model, &store, &cfg, &mut Silent).expect("run");

    // A directory below a regular file cannot be created, even as root.
    std::fs::write(dir.join("plain-file"), b"x").expect("write");
    let out = dir.join("plain-file").join("interpret");
    let os = std::fs::create_dir_all(&out).expect_err("below a file").to_string();
    let e = write_outputs(&result, &out).expect_err("below a file");
    assert!(matches!(e, InterpretError::Io { .. }), "{e:?}");
    let chain = full_chain(&e);
    assert_eq!(chain.matches(&os).count(), 1, "{chain}");
    assert_eq!(chain.matches("plain-file/interpret").count(), 1, "{chain}");
    assert!(e.source().is_none(), "{e:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_spectral_error_is_shown_once() {
    let e = spectra(&[0.0; 64], 1, 64, 0.0).expect_err("a rate of 0 Hz");
    let InterpretError::Dsp { cause, .. } = &e else { panic!("not a spectral error: {e:?}") };
    let chain = full_chain(&e);
    assert_eq!(chain.matches(&cause.to_string()).count(), 1, "{chain}");
    assert!(e.source().is_none(), "{e:?}");
}

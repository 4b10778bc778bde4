//! An error shows the operating system's message once: in its own text, not again as a
//! `source()` (a program printing the whole chain would repeat it).

use std::error::Error;
use std::path::Path;

use eeglens_data::store::EpochStore;
use eeglens_data::DataError;

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
fn a_missing_store_names_the_path_and_the_os_message_once() {
    let path = Path::new("/nonexistent-eeglens/epochs.safetensors");
    let os = std::fs::metadata(path).expect_err("absent").to_string();
    let e = EpochStore::open(path).expect_err("absent");
    assert!(matches!(e, DataError::Io { .. }), "{e:?}");
    let chain = full_chain(&e);
    assert_eq!(chain.matches(&os).count(), 1, "{chain}");
    assert_eq!(chain.matches("epochs.safetensors").count(), 1, "{chain}");
    assert!(e.source().is_none(), "{e:?}");
}

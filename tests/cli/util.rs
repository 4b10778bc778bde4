//! What every test of the command line shares: running the `eeglens` binary
//! and reading what it printed, the checks of its error contract, and
//! scratch directories.

#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_eeglens");

/// A command running the binary, for tests that set more than arguments.
pub fn bin() -> Command {
    Command::new(BIN)
}

/// Runs `eeglens ARGS` to the end, capturing its exit status, stdout and stderr.
pub fn eeglens<S: AsRef<OsStr>>(args: &[S]) -> Output {
    bin().args(args).output().expect("eeglens runs")
}

/// Captured output as text.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A path as an argument (scratch paths are UTF-8).
pub fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Asserts success; returns stdout.
pub fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        text(&o.stdout),
        text(&o.stderr)
    );
    text(&o.stdout)
}

/// A user error (exit 1): one `eeglens: error:` line holding every needle,
/// no panic. Returns stderr.
pub fn assert_one_line_error(o: &Output, needles: &[&str]) -> String {
    assert_error_line(o, 1, needles)
}

/// A command line clap refuses (exit 2): one `eeglens: error:` line holding
/// every needle. Returns stderr.
pub fn assert_usage_error(o: &Output, needles: &[&str]) -> String {
    assert_error_line(o, 2, needles)
}

fn assert_error_line(o: &Output, code: i32, needles: &[&str]) -> String {
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(code), "stderr: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
    assert!(err.starts_with("eeglens: error: "), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    for n in needles {
        assert!(err.contains(n), "{err:?} lacks {n:?}");
    }
    err
}

/// Whether scratch files outlive their test: set `EEGLENS_KEEP_TEST_FILES` to inspect them.
pub fn keep_test_files() -> bool {
    std::env::var_os("EEGLENS_KEEP_TEST_FILES").is_some()
}

/// A path in the temporary directory no other test of this process uses
/// (nothing is created there): `eeglens-<name>-<pid>-<n>`. Whatever the test
/// makes there is removed when the guard drops.
pub fn fresh_path(name: &str) -> Scratch {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    Scratch(std::env::temp_dir().join(format!("eeglens-{name}-{}-{n}", std::process::id())))
}

/// A new, empty directory of this test's own (see [`fresh_path`]), removed
/// when the guard drops.
pub fn tmpdir(name: &str) -> Scratch {
    let d = fresh_path(name);
    let _ = std::fs::remove_dir_all(&d.0);
    std::fs::create_dir_all(&d.0).expect("temp dir");
    d
}

/// A scratch path, a directory or a file, removed when dropped (unless
/// `EEGLENS_KEEP_TEST_FILES` is set); reads as the `Path` it holds.
pub use eeglens_io::scratch::Scratch;

/// The schemas of docs/json.md, each with its documented top-level fields: a section
/// ``## `eeglens-<name>/<v>` `` and the first column of its field table (`a.b` and `a[].b`
/// document `a`).
pub fn documented_schemas() -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/json.md");
    let doc = std::fs::read_to_string(&path).expect("docs/json.md reads");
    let mut out = std::collections::BTreeMap::new();
    let mut current: Option<String> = None;
    for line in doc.lines() {
        if let Some(h) = line.strip_prefix("## ") {
            current = h.trim().strip_prefix('`').and_then(|h| h.strip_suffix('`')).map(str::to_string);
            if let Some(c) = &current {
                assert!(out.insert(c.clone(), std::collections::BTreeSet::new()).is_none(), "{c} twice");
            }
            continue;
        }
        let (Some(schema), Some(row)) = (&current, line.strip_prefix("| ")) else { continue };
        let first = row.split(" | ").next().unwrap_or("");
        for name in first.split('`').skip(1).step_by(2) {
            let top = name.split(['.', '[']).next().unwrap_or(name);
            out.get_mut(schema).expect("inserted above").insert(top.to_string());
        }
    }
    out
}

/// Asserts that `doc` names a schema of docs/json.md (`schema`, `eeglens-<name>/<version>`)
/// and that each of its top-level fields is in that schema's table; returns the schema.
pub fn assert_documented(doc: &serde_json::Value) -> String {
    let schema = doc["schema"].as_str().unwrap_or_else(|| panic!("no `schema` in {doc}")).to_string();
    let schemas = documented_schemas();
    let fields = schemas.get(&schema).unwrap_or_else(|| panic!("{schema} is not in docs/json.md"));
    let obj = doc.as_object().expect("a document is an object");
    for key in obj.keys() {
        assert!(fields.contains(key), "{schema}: field `{key}` is not in docs/json.md ({fields:?})");
    }
    schema
}

/// Stdout of a successful `--json` command: exactly one JSON document, whose schema and
/// top-level fields docs/json.md describes.
pub fn json_document(o: &Output) -> serde_json::Value {
    let out = ok(o);
    let doc: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {out}"));
    assert_documented(&doc);
    doc
}

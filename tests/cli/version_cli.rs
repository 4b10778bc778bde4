//! `eeglens version` prints the kernels' configuration it promises.

use eeglens_autodiff::kernels::{KernelSet, NO_AMX_VAR, NO_AVX512_VAR};

use crate::util::{bin, ok};

fn version(no_avx512: bool, threads: Option<&str>) -> String {
    version_with(no_avx512, false, threads)
}

fn version_with(no_avx512: bool, no_amx: bool, threads: Option<&str>) -> String {
    let mut cmd = bin();
    cmd.arg("version").env_remove(NO_AVX512_VAR).env_remove(NO_AMX_VAR).env_remove("RAYON_NUM_THREADS");
    if no_amx {
        cmd.env(NO_AMX_VAR, "1");
    }
    if no_avx512 {
        cmd.env(NO_AVX512_VAR, "1");
    }
    if let Some(t) = threads {
        cmd.env("RAYON_NUM_THREADS", t);
    }
    ok(&cmd.output().expect("eeglens runs"))
}

fn line<'a>(out: &'a str, key: &str) -> &'a str {
    out.lines().find_map(|l| l.strip_prefix(key)).unwrap_or_else(|| panic!("no `{key}` line: {out}"))
}

#[test]
fn version_names_the_kernel_set_and_why() {
    let cpu = KernelSet::avx512().is_some();
    let out = version(false, None);
    assert!(out.starts_with(&format!("eeglens {}\n", env!("CARGO_PKG_VERSION"))), "{out}");
    let kernels = line(&out, "kernels: ");
    if cpu {
        assert_eq!(kernels, "avx512 (the CPU has AVX-512F)");
    } else {
        assert_eq!(kernels, "portable (the CPU has no AVX-512F)");
    }
    let out = version(true, None);
    let kernels = line(&out, "kernels: ");
    assert!(kernels.starts_with(&format!("portable ({NO_AVX512_VAR} is set; ")), "{out}");
    assert!(kernels.contains(if cpu { "the CPU has AVX-512F" } else { "no AVX-512F" }), "{out}");
}

#[test]
fn version_names_the_thread_count() {
    let out = version(false, None);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert!(line(&out, "threads: ").starts_with(&format!("{cores} (one per core")), "{out}");
    let out = version(false, Some("3"));
    assert!(line(&out, "threads: ").starts_with("3 (RAYON_NUM_THREADS"), "{out}");
}

/// The path `--precision bf16` takes, as this CPU allows: AMX tiles, AVX512_BF16, or fp32 with
/// the reason; `EEGLENS_NO_AMX` and `EEGLENS_NO_AVX512` move it down and are named.
#[test]
fn version_names_the_bf16_path_and_why() {
    let cpu = KernelSet::avx512();
    let (bf16, amx) = (cpu.is_some_and(KernelSet::has_bf16), cpu.is_some_and(KernelSet::has_amx));
    let out = version_with(false, false, None);
    let path = line(&out, "bf16: ");
    if amx {
        assert!(path.starts_with("amx (") && path.contains("AMX tiles"), "{out}");
    } else if bf16 {
        assert!(path.starts_with("avx512bf16 (") && path.contains("AVX512_BF16"), "{out}");
    } else {
        assert!(path.starts_with("fp32 (--precision bf16 runs in fp32: the CPU has no "), "{out}");
    }
    // The version and kernel lines are still there.
    assert!(out.starts_with("eeglens ") && line(&out, "kernels: ").contains("AVX-512F"), "{out}");

    let path = line(&version_with(false, true, None), "bf16: ").to_string();
    if bf16 {
        assert!(path.starts_with("avx512bf16 ("), "{path}");
        if amx {
            assert!(path.ends_with(&format!("not AMX: {NO_AMX_VAR} is set)")), "{path}");
        }
    } else {
        assert!(path.starts_with("fp32 ("), "{path}");
    }

    let path = line(&version_with(true, false, None), "bf16: ").to_string();
    assert!(path.starts_with("fp32 (--precision bf16 runs in fp32: "), "{path}");
    if bf16 {
        assert!(path.contains(&format!("{NO_AVX512_VAR} is set")), "{path}");
    }
}

# Convenience recipes; the README's commands work with cargo alone.

default:
    @just --list

# The main job (see README).
demo:
    cargo run --release -- demo

# The whole test suite (what CI runs).
test:
    cargo test --workspace

# More proptest cases for the kernel and format tests.
test-deep:
    PROPTEST_CASES=2000 cargo test --workspace --release

lint:
    cargo clippy --workspace --all-targets -- -D warnings

fmt:
    cargo fmt --all

doc:
    cargo doc --workspace --no-deps

# eeglens next to PyTorch (benches/peers/): needs a Python with torch, e.g. PYTHON=.venv-peers/bin/python.
bench-peers threads="2" rounds="3":
    cargo build --release
    ${PYTHON:-python3} benches/peers/compare.py --threads {{threads}} --rounds {{rounds}}

# All criterion benches.
bench:
    cargo bench --workspace

# A short profile for iteration.
bench-quick:
    cargo bench -p eeglens-autodiff --bench kernels -- --warm-up-time 1 --measurement-time 2

# Opt into the build machine's full instruction set (never the default).
bench-native:
    RUSTFLAGS="-C target-cpu=native" cargo bench --workspace

ci:
    bash .ci/run

# Fuzz every parser (EDF/BDF, BrainVision, MAT-file v5, TSV) for SECONDS each (cargo install cargo-fuzz;
# RUSTC_BOOTSTRAP lets the stable toolchain build the sanitizer flags). Crashes land in fuzz/artifacts/.
fuzz seconds="120":
    cd fuzz && for t in edf brainvision mat5 tsv; do RUSTC_BOOTSTRAP=1 cargo fuzz run $t -- -max_total_time={{seconds}} -rss_limit_mb=2048 || exit 1; done

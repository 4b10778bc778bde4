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

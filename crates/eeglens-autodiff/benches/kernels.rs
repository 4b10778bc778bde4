//! Criterion benchmarks of the hot kernels (filled in below).
fn main() {}

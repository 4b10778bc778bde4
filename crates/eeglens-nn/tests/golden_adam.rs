//! Adam against `torch.optim.Adam` (the `adam.` case of
//! `fixtures/golden/pytorch/unit_goldens.safetensors`). Reads the workspace's
//! goldens, so it runs from the repository (it is not in the package).

use std::path::Path;

use approx::assert_relative_eq;
use eeglens_nn::optim::OptimizerKind;
use eeglens_nn::{read_tensor_file, Optimizer, OptimizerConfig};

const UNIT: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/golden/pytorch/unit_goldens.safetensors");

/// fp32 Adam against PyTorch's fp32 Adam over three steps.
const ADAM_TOL: f32 = 1e-6;

#[test]
fn adam_matches_pytorch_golden() {
    let f = read_tensor_file(Path::new(UNIT)).unwrap_or_else(|e| {
        panic!("reading {UNIT}: {e} (the goldens are in the repository's fixtures/golden/)")
    });
    let mut p = f.f32("adam.p0").expect("p0").clone();
    let cfg = OptimizerConfig {
        kind: OptimizerKind::Adam { beta1: 0.9, beta2: 0.99, eps: 1e-8 },
        ..OptimizerConfig::adam(5e-4)
    };
    let mut opt = Optimizer::new(cfg);
    for k in 1..=3 {
        let g = f.f32(&format!("adam.g{k}")).expect("grad");
        opt.step(&mut [&mut p], &[Some(g)]);
        let want = f.f32(&format!("adam.p{k}")).expect("param");
        let moved = p.data().iter().zip(f.f32("adam.p0").expect("p0").data()).any(|(a, b)| a != b);
        assert!(moved, "step {k} moved nothing");
        for (a, b) in p.data().iter().zip(want.data()) {
            assert_relative_eq!(*a, *b, max_relative = ADAM_TOL, epsilon = 1e-9);
        }
    }
}

//! Parameter initialisation: PyTorch's defaults, He-normal, Xavier, the
//! counter-based generator of the PyTorch golden files, and re-drawing a built
//! model's weights with another scheme ([`reinit`]).
//!
//! Fans follow `torch.nn.init._calculate_fan_in_and_fan_out`: for a weight of
//! shape `[out, in, k_h, k_w]` (or `[out, in]`), `fan_in = in * k_h * k_w` and
//! `fan_out = out * k_h * k_w`. For a grouped convolution `in` is already
//! `c_in / groups`, as in PyTorch.

use std::cell::Cell;

use eeglens_autodiff::{Rng, Tensor};
use serde::{Deserialize, Serialize};

use crate::error::NnError;
use crate::layers::Layer;
use crate::sequential::Sequential;

thread_local! {
    /// Weight and bias values the layer constructors of this thread may still
    /// allocate; `None` outside [`with_param_budget`].
    static BUDGET: Cell<Option<usize>> = const { Cell::new(None) };
}

/// Runs `build` (which builds a model) allowing its convolution and linear
/// layers at most `values` weight and bias values in all: a layer that would
/// exceed it is refused by [`reserve`] before anything is allocated. Loading
/// weights bounds it by the file's own count of values, so a model sized from
/// a file's metadata cannot ask for memory out of proportion to the file.
pub(crate) fn with_param_budget<T>(values: usize, build: impl FnOnce() -> T) -> T {
    struct Restore(Option<usize>);
    impl Drop for Restore {
        fn drop(&mut self) {
            BUDGET.with(|b| b.set(self.0));
        }
    }
    let _restore = Restore(BUDGET.with(|b| b.replace(Some(values))));
    build()
}

/// Counts a weight or bias of `shape` against the budget of
/// [`with_param_budget`] (if any), before it is allocated.
///
/// # Errors
/// [`NnError::Config`] (of layer `kind`) when the shape's size overflows or
/// exceeds what is left of the budget.
pub(crate) fn reserve(kind: &'static str, shape: &[usize]) -> Result<(), NnError> {
    let n = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .filter(|&n| n <= isize::MAX as usize / 4)
        .ok_or_else(|| NnError::Config {
            kind,
            msg: format!("a parameter of shape {shape:?} cannot be held in memory"),
        })?;
    BUDGET.with(|b| match b.get() {
        Some(left) if n > left => Err(NnError::Config {
            kind,
            msg: format!("a parameter of shape {shape:?} ({n} values) is more than the {left} values left for this model"),
        }),
        Some(left) => {
            b.set(Some(left - n));
            Ok(())
        }
        None => Ok(()),
    })
}

/// How a layer's weight (and bias) are drawn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    /// PyTorch's default for `Conv2d`/`Linear`: weight kaiming-uniform with
    /// `a = sqrt(5)` (which is `U(±1/sqrt(fan_in))`), bias `U(±1/sqrt(fan_in))`.
    #[default]
    PytorchDefault,
    /// He (kaiming) normal, `N(0, 2/fan_in)`, for ReLU networks; bias zero.
    HeNormal,
    /// Xavier (Glorot) uniform, `U(±sqrt(6/(fan_in+fan_out)))`; bias zero.
    XavierUniform,
    /// Xavier (Glorot) normal, `N(0, 2/(fan_in+fan_out))`; bias zero.
    XavierNormal,
}

/// `(fan_in, fan_out)` of a weight shape (`[out, in, ...kernel]`).
///
/// # Panics
/// When `shape` has fewer than two dimensions (weights always have two or more).
pub fn fans(shape: &[usize]) -> (usize, usize) {
    assert!(shape.len() >= 2, "fans of a weight need >= 2 dims, got {shape:?}");
    let receptive: usize = shape[2..].iter().product();
    (shape[1] * receptive, shape[0] * receptive)
}

fn uniform(shape: &[usize], bound: f64, rng: &mut Rng) -> Tensor {
    let n: usize = shape.iter().product();
    let data = (0..n).map(|_| rng.uniform_range(-bound, bound) as f32).collect();
    Tensor::from_vec(shape, data).expect("length is the product of the shape")
}

fn normal(shape: &[usize], std: f64, rng: &mut Rng) -> Tensor {
    let n: usize = shape.iter().product();
    let data = (0..n).map(|_| (rng.normal() * std) as f32).collect();
    Tensor::from_vec(shape, data).expect("length is the product of the shape")
}

impl Init {
    /// A weight of `shape` (`[out, in, ...]`).
    pub fn weight(self, shape: &[usize], rng: &mut Rng) -> Tensor {
        let (fan_in, fan_out) = fans(shape);
        let (fi, fo) = (fan_in.max(1) as f64, fan_out.max(1) as f64);
        match self {
            // kaiming_uniform_(a=sqrt(5)): gain = sqrt(2 / (1 + 5)), bound = sqrt(3) * gain / sqrt(fan_in)
            Init::PytorchDefault => uniform(shape, (3.0f64).sqrt() * (1.0f64 / 3.0).sqrt() / fi.sqrt(), rng),
            Init::HeNormal => normal(shape, (2.0 / fi).sqrt(), rng),
            Init::XavierUniform => uniform(shape, (6.0 / (fi + fo)).sqrt(), rng),
            Init::XavierNormal => normal(shape, (2.0 / (fi + fo)).sqrt(), rng),
        }
    }

    /// A bias of length `n` for a weight with `fan_in`.
    pub fn bias(self, n: usize, fan_in: usize, rng: &mut Rng) -> Tensor {
        match self {
            Init::PytorchDefault => uniform(&[n], 1.0 / (fan_in.max(1) as f64).sqrt(), rng),
            _ => Tensor::zeros(&[n]),
        }
    }
}

/// Re-draws the weight and bias of every convolution and linear layer of
/// `model` with `init`, in parameter order (each bias uses its own layer's
/// `fan_in`). Other parameters (batch norm) are left as they are.
pub fn reinit(model: &mut Sequential, init: Init, rng: &mut Rng) {
    let layers: std::collections::HashSet<String> = model
        .layers()
        .iter()
        .filter(|(_, l)| matches!(l, Layer::Conv2d(_) | Layer::Linear(_)))
        .map(|(n, _)| n.clone())
        .collect();
    let mut fan_in = 1;
    for (name, t) in model.named_params_mut() {
        let Some((layer, leaf)) = name.rsplit_once('.') else { continue };
        if !layers.contains(layer) {
            continue;
        }
        let fresh = if leaf == "weight" {
            fan_in = fans(t.shape()).0;
            init.weight(t.shape(), rng)
        } else {
            init.bias(t.len(), fan_in, rng)
        };
        t.data_mut().copy_from_slice(fresh.data());
    }
}

/// splitmix64's finaliser.
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The counter-based generator of `fixtures/golden/pytorch` (see its README):
/// `n` values in `U(±1/sqrt(fan_in))`, element `i` a pure function of
/// `(seed, tensor_id, i)`, bit-reproducible in Rust and Python.
pub fn golden_values(seed: u64, tensor_id: u64, n: usize, fan_in: usize) -> Vec<f32> {
    let bound = 1.0f64 / (fan_in as f64).sqrt();
    let base = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(tensor_id << 40);
    (0..n as u64)
        .map(|i| {
            let r = (mix64(base.wrapping_add(i)) >> 40) as f64; // top 24 bits
            let x = (r - 8_388_608.0 + 0.5) / 8_388_608.0; // exact, in (-1, 1)
            (x * bound) as f32
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pytorch_default_bound_is_one_over_sqrt_fan_in() {
        let mut rng = Rng::new(3);
        let w = Init::PytorchDefault.weight(&[16, 4, 3, 3], &mut rng);
        let bound = 1.0 / 36f32.sqrt();
        let max = w.data().iter().fold(0f32, |m, v| m.max(v.abs()));
        assert!(max <= bound && max > 0.9 * bound, "max {max} bound {bound}");
        let b = Init::PytorchDefault.bias(16, 36, &mut rng);
        assert!(b.data().iter().all(|v| v.abs() <= bound));
    }

    #[test]
    fn he_normal_has_the_right_variance() {
        let mut rng = Rng::new(5);
        let w = Init::HeNormal.weight(&[200, 50, 2, 2], &mut rng);
        let var = w.data().iter().map(|v| (*v as f64).powi(2)).sum::<f64>() / w.len() as f64;
        approx::assert_relative_eq!(var, 2.0 / 200.0, max_relative = 0.05);
        let z = Init::HeNormal.bias(7, 200, &mut rng);
        assert!(z.data().iter().all(|v| *v == 0.0));
    }

    #[test]
    fn xavier_uniform_bound() {
        let mut rng = Rng::new(9);
        let w = Init::XavierUniform.weight(&[30, 20], &mut rng);
        let bound = (6.0f32 / 50.0).sqrt();
        let max = w.data().iter().fold(0f32, |m, v| m.max(v.abs()));
        assert!(max <= bound && max > 0.9 * bound);
    }

    #[test]
    fn reinit_redraws_convolutions_and_linears_only() {
        use crate::models::{build, ModelSpec};
        let spec = ModelSpec { n_channels: 8, n_samples: 32, n_classes: 2 };
        let before = build("rvgg-bn", &spec, &mut Rng::new(0)).expect("rvgg-bn builds");
        let mut model = build("rvgg-bn", &spec, &mut Rng::new(0)).expect("rvgg-bn builds");
        reinit(&mut model, Init::HeNormal, &mut Rng::new(4));
        let redrawn: std::collections::HashSet<&str> = model
            .layers()
            .iter()
            .filter(|(_, l)| matches!(l, Layer::Conv2d(_) | Layer::Linear(_)))
            .map(|(n, _)| n.as_str())
            .collect();
        let (mut weights, mut kept) = (0, 0);
        for ((name, new), (_, old)) in model.named_params().into_iter().zip(before.named_params()) {
            let (layer, leaf) = name.rsplit_once('.').expect("parameter names are layer.leaf");
            if !redrawn.contains(layer) {
                assert_eq!(new, old, "{name} is not a convolution or linear parameter");
                kept += 1;
            } else if leaf == "weight" {
                assert_ne!(new, old, "{name}");
                weights += 1;
            } else {
                assert!(new.data().iter().all(|v| *v == 0.0), "He-normal biases are zero: {name}");
            }
        }
        assert!(weights > 0 && kept > 0, "{weights} weights redrawn, {kept} parameters kept");
        let mut again = build("rvgg-bn", &spec, &mut Rng::new(0)).expect("rvgg-bn builds");
        reinit(&mut again, Init::HeNormal, &mut Rng::new(4));
        assert_eq!(again.named_params(), model.named_params());
    }

    #[test]
    fn same_seed_same_weights() {
        let a = Init::PytorchDefault.weight(&[4, 3], &mut Rng::new(1));
        let b = Init::PytorchDefault.weight(&[4, 3], &mut Rng::new(1));
        let c = Init::PytorchDefault.weight(&[4, 3], &mut Rng::new(2));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}

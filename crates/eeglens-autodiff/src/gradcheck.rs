//! Central-difference gradient checking.
//!
//! [`gradcheck`] compares the gradients that [`Tape::backward`] returns with
//! numeric derivatives of the same computation:
//!
//! - the output `y` of the function under test is reduced to a scalar with a
//!   fixed random projection `L = sum(r * y)`, `r ~ N(0, 1)` drawn from
//!   [`GradcheckOpts::seed`], so every output element counts with its own
//!   weight (a plain sum would hide, for example, a transposed gradient);
//! - each input element `x_j` is moved to `x_j ± h` and
//!   `dL/dx_j ≈ (L(x + h e_j) - L(x - h e_j)) / (2h)`, where the projection and
//!   the difference are accumulated in `f64` and `2h` is the step actually
//!   taken after rounding the perturbed value to `f32`;
//! - an element passes when `|analytic - numeric| <= atol + rtol * max(|analytic|, |numeric|)`.
//!
//! The forward pass runs in `f32`, so the step must be large enough for the
//! difference to rise above rounding (the default is `1e-2`) and inputs must
//! stay further than the step from kinks (ReLU at 0) and ties (two equal
//! values in a max-pool window): [`distinct_values`] and [`away_from_zero`]
//! draw such inputs.
//!
//! ```
//! use eeglens_autodiff::gradcheck::{gradcheck, away_from_zero, GradcheckOpts};
//! use eeglens_autodiff::{ops, Rng};
//!
//! let mut rng = Rng::new(0);
//! let x = away_from_zero(&[2, 3], 0.1, &mut rng);
//! let report = gradcheck(|tape, v| ops::relu(tape, v[0]), &[x], &GradcheckOpts::default()).unwrap();
//! assert!(report.inputs[0].max_abs_err < 1e-3);
//! ```

use std::fmt;

use crate::rng::Rng;
use crate::tape::{Backward, Tape, Var};
use crate::tensor::Tensor;

/// Step, tolerances and sampling of [`gradcheck`].
#[derive(Clone, Debug, PartialEq)]
pub struct GradcheckOpts {
    /// Half the central-difference step `h`.
    pub step: f64,
    /// Absolute tolerance.
    pub atol: f64,
    /// Tolerance relative to the larger of the two gradients' magnitudes.
    pub rtol: f64,
    /// Seed of the output projection and of the element sampling.
    pub seed: u64,
    /// At most this many elements per input are checked numerically (a fixed
    /// random subset when the input is larger; every element otherwise).
    pub max_checks_per_input: usize,
}

impl Default for GradcheckOpts {
    fn default() -> Self {
        Self { step: 1e-2, atol: 1e-3, rtol: 1e-2, seed: 0x6772_6164, max_checks_per_input: 256 }
    }
}

/// What [`gradcheck`] measured for one input.
#[derive(Clone, Debug, PartialEq)]
pub struct InputReport {
    /// Largest `|analytic - numeric|` over the checked elements.
    pub max_abs_err: f64,
    /// Largest `|analytic - numeric| / max(|analytic|, |numeric|)` over the
    /// checked elements whose gradient is not tiny (above `atol`).
    pub max_rel_err: f64,
    /// Flat index of the element with the largest absolute error.
    pub worst_index: usize,
    /// Number of elements checked.
    pub n_checked: usize,
    /// Largest `|numeric|` seen: shows the check was not comparing zeros.
    pub max_abs_grad: f64,
}

/// The result of [`gradcheck`]: one entry per input, in input order.
#[derive(Clone, Debug, PartialEq)]
pub struct GradcheckReport {
    /// Per-input errors.
    pub inputs: Vec<InputReport>,
}

impl fmt::Display for GradcheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.inputs.iter().enumerate() {
            writeln!(
                f,
                "input {i}: max abs err {:.3e} (at {}), max rel err {:.3e}, max |grad| {:.3e}, {} checked",
                r.max_abs_err, r.worst_index, r.max_rel_err, r.max_abs_grad, r.n_checked
            )?;
        }
        Ok(())
    }
}

/// The fixed projection `L = sum(r * y)` recorded after the function's output.
struct Project {
    r: Vec<f32>,
}

impl Backward for Project {
    fn name(&self) -> &'static str {
        "gradcheck projection"
    }

    fn backward(&self, inputs: &[&Tensor], _: &Tensor, g: &Tensor, _: &[bool]) -> Vec<Option<Tensor>> {
        let g = g.item();
        let data = self.r.iter().map(|&r| r * g).collect();
        vec![Some(Tensor::from_vec(inputs[0].shape(), data).expect("r has the output's length"))]
    }
}

fn project(r: &[f32], y: &Tensor) -> f64 {
    r.iter().zip(y.data()).map(|(&r, &y)| r as f64 * y as f64).sum()
}

/// Evaluates `f` on fresh leaves holding `inputs`; returns the output value.
fn eval(f: &impl Fn(&mut Tape<'_>, &[Var]) -> Var, inputs: &[Tensor]) -> Tensor {
    let mut tape = Tape::new();
    let vars: Vec<Var> = inputs.iter().map(|x| tape.input_with_grad(x.clone())).collect();
    let y = f(&mut tape, &vars);
    tape.value(y).clone()
}

/// Checks the analytic gradients of `f` with respect to every input against
/// central differences.
///
/// `f` receives a fresh tape and one leaf per input (in order, each asking for
/// its gradient) and returns its output; it is called `1 + 2 * checked
/// elements` times and must be deterministic (dropout: draw from a generator
/// created inside `f` with a fixed seed).
///
/// # Errors
/// A message naming the input, the element, both gradients and the whole
/// report when an element is out of tolerance, or when an analytic gradient
/// has the wrong shape or a value is not finite.
pub fn gradcheck(
    f: impl Fn(&mut Tape<'_>, &[Var]) -> Var,
    inputs: &[Tensor],
    opts: &GradcheckOpts,
) -> Result<GradcheckReport, String> {
    // Analytic gradients through the tape.
    let mut tape = Tape::new();
    let vars: Vec<Var> = inputs.iter().map(|x| tape.input_with_grad(x.clone())).collect();
    let y = f(&mut tape, &vars);
    let y_value = tape.value(y).clone();
    if y_value.data().iter().any(|v| !v.is_finite()) {
        return Err(format!("output of shape {:?} is not finite", y_value.shape()));
    }
    let mut rng = Rng::new(opts.seed);
    let r: Vec<f32> = (0..y_value.len()).map(|_| rng.normal() as f32).collect();
    let loss =
        tape.push_op(Tensor::scalar(project(&r, &y_value) as f32), &[y], Box::new(Project { r: r.clone() }));
    let grads = tape.backward(loss);
    let analytic: Vec<Tensor> = vars
        .iter()
        .zip(inputs)
        .map(|(&v, x)| grads.get(v).cloned().unwrap_or_else(|| Tensor::zeros(x.shape())))
        .collect();
    drop(tape);

    let mut report = GradcheckReport { inputs: Vec::with_capacity(inputs.len()) };
    let mut failure: Option<String> = None;
    let mut work: Vec<Tensor> = inputs.to_vec();
    for (i, x) in inputs.iter().enumerate() {
        let a = &analytic[i];
        if a.shape() != x.shape() {
            return Err(format!(
                "input {i}: gradient shape {:?} differs from input {:?}",
                a.shape(),
                x.shape()
            ));
        }
        let mut idx: Vec<usize> = (0..x.len()).collect();
        if idx.len() > opts.max_checks_per_input {
            rng.shuffle(&mut idx);
            idx.truncate(opts.max_checks_per_input);
            idx.sort_unstable();
        }
        let mut rep = InputReport {
            max_abs_err: 0.0,
            max_rel_err: 0.0,
            worst_index: 0,
            n_checked: idx.len(),
            max_abs_grad: 0.0,
        };
        for &j in &idx {
            let x0 = x.data()[j];
            let xp = (x0 as f64 + opts.step) as f32;
            let xm = (x0 as f64 - opts.step) as f32;
            work[i].data_mut()[j] = xp;
            let lp = project(&r, &eval(&f, &work));
            work[i].data_mut()[j] = xm;
            let lm = project(&r, &eval(&f, &work));
            work[i].data_mut()[j] = x0;
            let numeric = (lp - lm) / (xp as f64 - xm as f64);
            let an = a.data()[j] as f64;
            if !numeric.is_finite() || !an.is_finite() {
                return Err(format!("input {i}, element {j}: analytic {an}, numeric {numeric}"));
            }
            let err = (an - numeric).abs();
            let scale = an.abs().max(numeric.abs());
            rep.max_abs_grad = rep.max_abs_grad.max(numeric.abs());
            if err > rep.max_abs_err {
                rep.max_abs_err = err;
                rep.worst_index = j;
            }
            if scale > opts.atol {
                rep.max_rel_err = rep.max_rel_err.max(err / scale);
            }
            if err > opts.atol + opts.rtol * scale && failure.is_none() {
                failure = Some(format!(
                    "input {i} (shape {:?}), element {j}: analytic {an:.6e}, numeric {numeric:.6e}, \
                     |diff| {err:.3e} > atol {:.1e} + rtol {:.1e} * {scale:.3e}",
                    x.shape(),
                    opts.atol,
                    opts.rtol
                ));
            }
        }
        report.inputs.push(rep);
    }
    match failure {
        Some(msg) => Err(format!("gradcheck failed: {msg}\n{report}")),
        None => Ok(report),
    }
}

/// Standard-normal values.
pub fn randn(shape: &[usize], rng: &mut Rng) -> Tensor {
    let len = shape.iter().product();
    let data = (0..len).map(|_| rng.normal() as f32).collect();
    Tensor::from_vec(shape, data).expect("length is the shape's product")
}

/// Uniform values in `[lo, hi)` (for inputs that must stay positive, such as
/// the argument of `log` or a variance).
pub fn uniform(shape: &[usize], lo: f32, hi: f32, rng: &mut Rng) -> Tensor {
    let len = shape.iter().product();
    let data = (0..len).map(|_| rng.uniform_range(lo as f64, hi as f64) as f32).collect();
    Tensor::from_vec(shape, data).expect("length is the shape's product")
}

/// Values with `min_abs <= |x| < min_abs + 1` and a random sign: away from the
/// kink of ReLU-like ops by more than a gradcheck step smaller than `min_abs`.
pub fn away_from_zero(shape: &[usize], min_abs: f32, rng: &mut Rng) -> Tensor {
    let len = shape.iter().product();
    let data = (0..len)
        .map(|_| {
            let m = min_abs + rng.uniform_f32();
            if rng.next_u64() & 1 == 0 {
                m
            } else {
                -m
            }
        })
        .collect();
    Tensor::from_vec(shape, data).expect("length is the shape's product")
}

/// Pairwise distinct values in random order: a shuffled grid
/// `spacing * (k - len/2 + 1/2)`, so any two values differ by at least
/// `spacing` and every value is at least `spacing / 2` from zero. No max-pool
/// window has a tie and no ReLU sits on its kink while a gradcheck step stays
/// below `spacing / 2`.
pub fn distinct_values(shape: &[usize], spacing: f32, rng: &mut Rng) -> Tensor {
    let len: usize = shape.iter().product();
    let half = len as f32 / 2.0;
    let mut data: Vec<f32> = (0..len).map(|k| spacing * (k as f32 - half + 0.5)).collect();
    rng.shuffle(&mut data);
    Tensor::from_vec(shape, data).expect("length is the shape's product")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `y = x^2` with a deliberately wrong backward (`x` instead of `2x`).
    struct WrongSquare;
    impl Backward for WrongSquare {
        fn name(&self) -> &'static str {
            "wrong square"
        }
        fn backward(&self, i: &[&Tensor], _: &Tensor, g: &Tensor, _: &[bool]) -> Vec<Option<Tensor>> {
            let d = i[0].data().iter().zip(g.data()).map(|(x, g)| x * g).collect();
            vec![Some(Tensor::from_vec(i[0].shape(), d).unwrap())]
        }
    }

    fn wrong_square(tape: &mut Tape<'_>, x: Var) -> Var {
        let v = tape.value(x);
        let y = Tensor::from_vec(v.shape(), v.data().iter().map(|x| x * x).collect()).unwrap();
        tape.push_op(y, &[x], Box::new(WrongSquare))
    }

    #[test]
    fn catches_a_wrong_gradient() {
        let x = away_from_zero(&[3, 2], 0.5, &mut Rng::new(1));
        let err = gradcheck(|t, v| wrong_square(t, v[0]), &[x], &GradcheckOpts::default()).unwrap_err();
        assert!(err.contains("input 0"), "{err}");
    }

    #[test]
    fn passes_a_right_gradient_and_reports_it() {
        let x = away_from_zero(&[3, 2], 0.5, &mut Rng::new(2));
        let rep = gradcheck(|t, v| crate::ops::square(t, v[0]), &[x], &GradcheckOpts::default()).unwrap();
        assert_eq!(rep.inputs.len(), 1);
        assert_eq!(rep.inputs[0].n_checked, 6);
        assert!(rep.inputs[0].max_abs_grad > 0.1);
        assert!(rep.inputs[0].max_abs_err < 1e-3, "{rep}");
    }

    #[test]
    fn a_plain_sum_would_miss_a_permuted_gradient_but_the_projection_does_not() {
        // Backward returns the right values in the wrong places.
        struct Swapped;
        impl Backward for Swapped {
            fn name(&self) -> &'static str {
                "swapped"
            }
            fn backward(&self, i: &[&Tensor], _: &Tensor, g: &Tensor, _: &[bool]) -> Vec<Option<Tensor>> {
                let mut d: Vec<f32> = i[0].data().iter().zip(g.data()).map(|(x, g)| 2.0 * x * g).collect();
                d.reverse();
                vec![Some(Tensor::from_vec(i[0].shape(), d).unwrap())]
            }
        }
        let f = |t: &mut Tape<'_>, v: &[Var]| {
            let x = t.value(v[0]);
            let y = Tensor::from_vec(x.shape(), x.data().iter().map(|x| x * x).collect()).unwrap();
            t.push_op(y, &[v[0]], Box::new(Swapped))
        };
        let x = Tensor::from_vec(&[3], vec![0.5, 1.0, 2.0]).unwrap();
        assert!(gradcheck(f, &[x], &GradcheckOpts::default()).is_err());
    }

    #[test]
    fn distinct_values_are_distinct_and_away_from_zero() {
        let t = distinct_values(&[4, 5], 0.05, &mut Rng::new(3));
        let mut v = t.data().to_vec();
        v.sort_by(f32::total_cmp);
        assert!(v.windows(2).all(|w| w[1] - w[0] >= 0.05 - 1e-6));
        assert!(v.iter().all(|x| x.abs() >= 0.025 - 1e-6));
    }

    #[test]
    fn subsamples_large_inputs() {
        let x = away_from_zero(&[40, 40], 0.5, &mut Rng::new(4));
        let opts = GradcheckOpts { max_checks_per_input: 10, ..Default::default() };
        let rep = gradcheck(|t, v| crate::ops::square(t, v[0]), &[x], &opts).unwrap();
        assert_eq!(rep.inputs[0].n_checked, 10);
    }
}

//! A small network built from raw ops, conv -> relu -> max-pool -> flatten ->
//! linear -> cross-entropy, checked end to end by central differences,
//! including the gradient with respect to the network input.

use eeglens_autodiff::gradcheck::{gradcheck, randn, GradcheckOpts};
use eeglens_autodiff::ops::{self, Conv2dOpts, Pool2dOpts};
use eeglens_autodiff::{Rng, Tape, Tensor, Var};

const LABELS: [usize; 2] = [0, 2];

/// Inputs: x [2,1,4,6], conv w [3,1,3,3], conv b [3], fc w [3,18], fc b [3].
fn net(t: &mut Tape<'_>, x: Var, cw: Var, cb: Var, fw: Var, fb: Var) -> Var {
    let h = ops::conv2d(t, x, cw, Some(cb), Conv2dOpts { padding: (1, 1), ..Default::default() });
    let h = ops::relu(t, h);
    let h = ops::max_pool2d(t, h, Pool2dOpts::square(2));
    let h = ops::flatten(t, h);
    let logits = ops::linear(t, h, fw, Some(fb));
    ops::cross_entropy(t, logits, &LABELS, None)
}

fn inputs() -> Vec<Tensor> {
    let mut r = Rng::new(2024);
    vec![
        randn(&[2, 1, 4, 6], &mut r),
        randn(&[3, 1, 3, 3], &mut r),
        randn(&[3], &mut r),
        randn(&[3, 18], &mut r),
        randn(&[3], &mut r),
    ]
}

#[test]
fn composite_gradients_match_central_differences() {
    // A smaller step than the per-op default: the ReLU and pool kinks are
    // inside the graph, where inputs cannot be placed away from them.
    let opts = GradcheckOpts { step: 2e-3, atol: 2e-4, rtol: 2e-2, ..Default::default() };
    let report = gradcheck(|t, v| net(t, v[0], v[1], v[2], v[3], v[4]), &inputs(), &opts)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.inputs.len(), 5);
    // The input gradient was checked on every element and is not all zero.
    assert_eq!(report.inputs[0].n_checked, 48);
    assert!(report.inputs[0].max_abs_grad > 1e-3, "{report}");
}

#[test]
fn input_gradient_does_not_depend_on_the_leaf_kind() {
    let v = inputs();
    // Parameters borrowed with `param`, the input owned with `input_with_grad`.
    let mut tape = Tape::new();
    let x = tape.input_with_grad(v[0].clone());
    let p: Vec<Var> = v[1..].iter().map(|w| tape.param(w)).collect();
    let loss = net(&mut tape, x, p[0], p[1], p[2], p[3]);
    let grads = tape.backward(loss);
    let gx = grads.get(x).expect("the input asked for its gradient").clone();
    assert!(p.iter().all(|&w| grads.get(w).is_some()));

    // The same graph with a constant input: parameters only, no input gradient.
    let mut tape2 = Tape::new();
    let x2 = tape2.constant(v[0].clone());
    let p2: Vec<Var> = v[1..].iter().map(|w| tape2.param(w)).collect();
    let loss2 = net(&mut tape2, x2, p2[0], p2[1], p2[2], p2[3]);
    let grads2 = tape2.backward(loss2);
    assert!(grads2.get(x2).is_none());
    assert_eq!(grads2.get(p2[0]).unwrap(), grads.get(p[0]).unwrap());

    // And only the input asking: same input gradient as with the parameters asking.
    let mut tape3 = Tape::new();
    let x3 = tape3.input_with_grad(v[0].clone());
    let p3: Vec<Var> = v[1..].iter().map(|w| tape3.constant_ref(w)).collect();
    let loss3 = net(&mut tape3, x3, p3[0], p3[1], p3[2], p3[3]);
    let grads3 = tape3.backward(loss3);
    assert_eq!(grads3.get(x3).unwrap(), &gx);
    assert!(gx.data().iter().any(|&g| g != 0.0));
}

//! The define-by-run [`Tape`] and reverse-mode [`Tape::backward`].
//!
//! The tape is a flat list of nodes in execution order. A [`Var`] is a `Copy`
//! index into that list. Ops push one node each: the output value, the parents'
//! indices and a boxed [`Backward`] holding exactly what the op's backward
//! needs. `backward(loss)` walks the list in reverse and accumulates the
//! gradient of every node into its parents.
//!
//! Leaves come in three kinds: constants (no gradient), parameters and
//! inputs that ask for a gradient ([`Tape::param`], [`Tape::input_with_grad`]).
//! Leaves may borrow their tensor (`Tape<'a>`), so the weights of a model are
//! not copied each step; the optimiser mutates them after the tape is dropped.

use std::borrow::Cow;
use std::time::{Duration, Instant};

use crate::tensor::Tensor;

/// A handle to a value recorded on a [`Tape`]: an index, cheap to copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Var(pub(crate) usize);

impl Var {
    /// The node's position on its tape.
    pub fn index(self) -> usize {
        self.0
    }
}

/// The backward half of an op: given the gradient of the loss with respect to
/// the op's output, return the gradient with respect to each parent.
pub trait Backward: Send + Sync {
    /// The op's name, used in messages.
    fn name(&self) -> &'static str;

    /// Gradients with respect to each parent, in parent order.
    ///
    /// `inputs` are the parents' values, `output` is the op's own value and
    /// `grad_out` has the output's shape. `needs[i]` says whether parent `i`
    /// wants a gradient; return `None` for those that do not (computing them is
    /// wasted work). A returned gradient must have the parent's shape.
    fn backward(
        &self,
        inputs: &[&Tensor],
        output: &Tensor,
        grad_out: &Tensor,
        needs: &[bool],
    ) -> Vec<Option<Tensor>>;
}

struct Node<'a> {
    value: Cow<'a, Tensor>,
    parents: Vec<Var>,
    op: Option<Box<dyn Backward + 'a>>,
    needs_grad: bool,
    /// The op's name (`None` for a leaf), kept for the profile even when the
    /// backward was dropped.
    name: Option<&'static str>,
    /// Wall time from the previous node's recording to this one's.
    elapsed: Duration,
}

/// A define-by-run record of a computation.
pub struct Tape<'a> {
    nodes: Vec<Node<'a>>,
    /// When the last node was recorded (or the tape was made).
    last: Instant,
}

impl Default for Tape<'_> {
    fn default() -> Self {
        Self::new()
    }
}

/// One node of a tape in a profile ([`Tape::profile`]).
#[derive(Clone, Debug, PartialEq)]
pub struct NodeTime {
    /// The node.
    pub var: Var,
    /// The op's name, `None` for a leaf.
    pub op: Option<&'static str>,
    /// The shape of its value.
    pub shape: Vec<usize>,
    /// Wall time from the previous node's recording to this one's: for an op
    /// recorded right after its inputs, the time of its forward computation.
    pub forward: Duration,
}

impl<'a> Tape<'a> {
    /// An empty tape.
    pub fn new() -> Self {
        Self { nodes: Vec::new(), last: Instant::now() }
    }

    /// Every node in recording order with the wall time since the node
    /// before it: a per-op forward profile, since define-by-run ops compute
    /// their value just before recording it.
    pub fn profile(&self) -> Vec<NodeTime> {
        self.nodes
            .iter()
            .enumerate()
            .map(|(i, n)| NodeTime {
                var: Var(i),
                op: n.name,
                shape: n.value.shape().to_vec(),
                forward: n.elapsed,
            })
            .collect()
    }

    /// Time since the previous recording; restarts the clock.
    fn lap(&mut self) -> Duration {
        let now = Instant::now();
        let d = now.duration_since(self.last);
        self.last = now;
        d
    }

    /// Number of nodes recorded so far.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when nothing has been recorded.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    fn push_leaf(&mut self, value: Cow<'a, Tensor>, needs_grad: bool) -> Var {
        let elapsed = self.lap();
        self.nodes.push(Node { value, parents: Vec::new(), op: None, needs_grad, name: None, elapsed });
        Var(self.nodes.len() - 1)
    }

    /// A constant leaf: no gradient flows into it.
    pub fn constant(&mut self, value: Tensor) -> Var {
        self.push_leaf(Cow::Owned(value), false)
    }

    /// A constant leaf that borrows its tensor.
    pub fn constant_ref(&mut self, value: &'a Tensor) -> Var {
        self.push_leaf(Cow::Borrowed(value), false)
    }

    /// A parameter leaf borrowing its tensor: [`Tape::backward`] returns its gradient.
    pub fn param(&mut self, value: &'a Tensor) -> Var {
        self.push_leaf(Cow::Borrowed(value), true)
    }

    /// An owned leaf that asks for its gradient: the network input for
    /// activation maximisation and saliency, or an owned parameter.
    pub fn input_with_grad(&mut self, value: Tensor) -> Var {
        self.push_leaf(Cow::Owned(value), true)
    }

    /// Records the output of an op. Used by the op functions in [`crate::ops`];
    /// an op built outside this crate implements [`Backward`] and calls this.
    ///
    /// # Panics
    /// When a parent does not belong to this tape.
    pub fn push_op(&mut self, value: Tensor, parents: &[Var], op: Box<dyn Backward + 'a>) -> Var {
        for p in parents {
            assert!(
                p.0 < self.nodes.len(),
                "{}: parent {:?} is not on this tape ({} nodes)",
                op.name(),
                p,
                self.nodes.len()
            );
        }
        let needs_grad = parents.iter().any(|p| self.nodes[p.0].needs_grad);
        // An op none of whose parents needs a gradient is a constant: keep the
        // value, drop the backward (and whatever it saved).
        let name = Some(op.name());
        let op = if needs_grad { Some(op) } else { None };
        let elapsed = self.lap();
        self.nodes.push(Node {
            value: Cow::Owned(value),
            parents: parents.to_vec(),
            op,
            needs_grad,
            name,
            elapsed,
        });
        Var(self.nodes.len() - 1)
    }

    /// The value of a node.
    ///
    /// # Panics
    /// When `v` does not belong to this tape.
    pub fn value(&self, v: Var) -> &Tensor {
        &self.nodes[v.0].value
    }

    /// Ends the tape, keeping the value of `v` (moved out, not copied, when
    /// the tape owns it) and releasing every other node.
    ///
    /// # Panics
    /// When `v` does not belong to this tape.
    pub fn into_value(mut self, v: Var) -> Tensor {
        assert!(v.0 < self.nodes.len(), "into_value: {v:?} is not on this tape ({} nodes)", self.nodes.len());
        self.nodes.swap_remove(v.0).value.into_owned()
    }

    /// The shape of a node's value.
    pub fn shape(&self, v: Var) -> &[usize] {
        self.nodes[v.0].value.shape()
    }

    /// Whether gradients flow into `v`.
    pub fn needs_grad(&self, v: Var) -> bool {
        self.nodes[v.0].needs_grad
    }

    /// Reverse-mode differentiation of `loss` (any shape; the seed gradient is
    /// all ones, so a non-scalar `loss` is differentiated as its sum).
    ///
    /// Returns the gradient of every node that needs one and is reached from
    /// `loss`; look leaves up with [`Gradients::get`].
    ///
    /// # Panics
    /// When `loss` does not belong to this tape, or when an op's backward
    /// returns a gradient of the wrong shape (a bug in that op).
    pub fn backward(&self, loss: Var) -> Gradients {
        let n = loss.0 + 1;
        let mut grads: Vec<Option<Tensor>> = (0..n).map(|_| None).collect();
        let mut times = vec![Duration::ZERO; n];
        if !self.nodes[loss.0].needs_grad {
            return Gradients { grads, times };
        }
        grads[loss.0] = Some(Tensor::full(self.nodes[loss.0].value.shape(), 1.0));
        for i in (0..n).rev() {
            let node = &self.nodes[i];
            let Some(op) = &node.op else { continue };
            let Some(grad_out) = grads[i].take() else { continue };
            let start = Instant::now();
            let inputs: Vec<&Tensor> = node.parents.iter().map(|p| &*self.nodes[p.0].value).collect();
            let needs: Vec<bool> = node.parents.iter().map(|p| self.nodes[p.0].needs_grad).collect();
            let parent_grads = op.backward(&inputs, &node.value, &grad_out, &needs);
            assert_eq!(
                parent_grads.len(),
                node.parents.len(),
                "{}: backward returned the wrong number of gradients",
                op.name()
            );
            for ((p, g), need) in node.parents.iter().zip(parent_grads).zip(&needs) {
                let Some(g) = g else { continue };
                if !need {
                    continue;
                }
                assert_eq!(
                    g.shape(),
                    self.nodes[p.0].value.shape(),
                    "{}: gradient shape differs from its input's",
                    op.name()
                );
                match &mut grads[p.0] {
                    Some(acc) => acc.add_assign(&g),
                    slot @ None => *slot = Some(g),
                }
            }
            // Keep gradients of interior nodes only as long as needed: the loop
            // took `grads[i]`; leaves keep theirs because they have no op.
            drop(grad_out);
            times[i] = start.elapsed();
        }
        Gradients { grads, times }
    }
}

/// Gradients returned by [`Tape::backward`].
#[derive(Debug, Default)]
pub struct Gradients {
    grads: Vec<Option<Tensor>>,
    /// Wall time of each node's backward, accumulation into its parents included.
    times: Vec<Duration>,
}

impl Gradients {
    /// The gradient of the loss with respect to `v`, when `v` is a leaf that
    /// asked for one (or an interior node that the walk did not consume) and
    /// the loss depends on it.
    pub fn get(&self, v: Var) -> Option<&Tensor> {
        self.grads.get(v.0).and_then(|g| g.as_ref())
    }

    /// Wall time of `v`'s backward (its op's gradients and their
    /// accumulation into the parents); zero for leaves and nodes the walk
    /// skipped.
    pub fn backward_time(&self, v: Var) -> Duration {
        self.times.get(v.0).copied().unwrap_or_default()
    }

    /// Takes the gradient of `v` out, leaving `None`.
    pub fn take(&mut self, v: Var) -> Option<Tensor> {
        self.grads.get_mut(v.0).and_then(|g| g.take())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops;

    #[test]
    fn into_value_moves_out_owned_and_copies_borrowed_values() {
        let w = Tensor::full(&[2], 3.0);
        let mut tape = Tape::new();
        let a = tape.constant(Tensor::full(&[2], 1.0));
        let b = tape.constant_ref(&w);
        let y = ops::add(&mut tape, a, b);
        assert_eq!(tape.into_value(y).data(), &[4.0, 4.0]);
        let mut tape = Tape::new();
        let b = tape.constant_ref(&w);
        let _other = tape.constant(Tensor::zeros(&[1]));
        assert_eq!(tape.into_value(b), w);
    }

    #[test]
    fn the_profile_names_every_node_and_times_the_backward_of_ops_only() {
        let mut tape = Tape::new();
        let x = tape.input_with_grad(Tensor::full(&[3, 4], 0.5));
        let y = ops::relu(&mut tape, x);
        let loss = ops::sum(&mut tape, y);
        let p = tape.profile();
        let names: Vec<_> = p.iter().map(|n| n.op).collect();
        assert_eq!(names, [None, Some("relu"), Some("sum")]);
        assert_eq!(p[1].shape, [3, 4]);
        assert_eq!(p[2].var, loss);
        let g = tape.backward(loss);
        assert_eq!(g.backward_time(x), Duration::ZERO, "a leaf has no backward");
        assert!(g.backward_time(y) > Duration::ZERO && g.backward_time(loss) > Duration::ZERO);
    }
}

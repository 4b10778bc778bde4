//! Learning-rate schedules, as a function of the number of optimiser steps taken.

use serde::{Deserialize, Serialize};

/// How the learning rate moves with the step count.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Schedule {
    /// the base rate throughout
    #[default]
    Constant,
    /// multiply by `gamma` every `every` steps (PyTorch's `StepLR`)
    Step {
        /// steps between decays
        every: u64,
        /// decay factor
        gamma: f64,
    },
    /// linear warm-up from `base / warmup` to `base` over `warmup` steps, then
    /// cosine decay to `min_lr` at step `total` (and `min_lr` after)
    Cosine {
        /// warm-up steps
        warmup: u64,
        /// step at which the rate reaches `min_lr`
        total: u64,
        /// final rate
        min_lr: f64,
    },
}

impl Schedule {
    /// The rate for the step after `done` steps (the first step has `done = 0`).
    pub fn lr(&self, base: f64, done: u64) -> f64 {
        match *self {
            Schedule::Constant => base,
            Schedule::Step { every, gamma } => base * gamma.powi((done / every.max(1)) as i32),
            Schedule::Cosine { warmup, total, min_lr } => {
                if done < warmup {
                    return base * (done + 1) as f64 / warmup as f64;
                }
                let span = total.saturating_sub(warmup).max(1) as f64;
                let progress = ((done - warmup) as f64 / span).min(1.0);
                min_lr + (base - min_lr) * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    const TOL: f64 = 1e-12;

    #[test]
    fn step_and_cosine_schedules() {
        let s = Schedule::Step { every: 10, gamma: 0.5 };
        assert_relative_eq!(s.lr(1.0, 9), 1.0, max_relative = TOL);
        assert_relative_eq!(s.lr(1.0, 10), 0.5, max_relative = TOL);
        assert_relative_eq!(s.lr(1.0, 25), 0.25, max_relative = TOL);
        let c = Schedule::Cosine { warmup: 4, total: 14, min_lr: 0.1 };
        assert_relative_eq!(c.lr(2.0, 0), 0.5, max_relative = TOL);
        assert_relative_eq!(c.lr(2.0, 3), 2.0, max_relative = TOL);
        assert_relative_eq!(c.lr(2.0, 9), 0.1 + 1.9 * 0.5, max_relative = TOL);
        assert_relative_eq!(c.lr(2.0, 14), 0.1, max_relative = TOL);
        assert_relative_eq!(c.lr(2.0, 100), 0.1, max_relative = TOL);
        assert_relative_eq!(Schedule::Constant.lr(0.3, 1000), 0.3, max_relative = TOL);
    }
}

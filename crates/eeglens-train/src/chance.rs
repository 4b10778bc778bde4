//! Is an accuracy above chance? One-sided exact binomial tests per window and
//! per subject, and the verdict `learned` that the CLI, the interpretation
//! and the report show.
//!
//! Chance is what a model that ignores its input scores: always answering
//! the most frequent class, so `chance = max_k n_k / n` (0.5 on balanced
//! data). The per-window test treats windows as independent, which they are
//! not (windows of one subject share that subject's EEG), so its p is too
//! small when a few subjects drive the accuracy; the per-subject test has
//! the right unit but little power with few test subjects (with 8 subjects,
//! 7 right gives p = 0.035 and 6 right p = 0.145).
//!
//! The verdict ([`learned_verdict`]): a model **learned** when the per-window test gives
//! `p < ALPHA` *and* the per-subject accuracy is above the subjects' chance.
//! The first condition is the sensitive one; the second keeps a model whose
//! above-chance windows come from a minority of subjects from being called
//! a success.

use eeglens_dsp::stats::{binomial_upper_tail, learned_verdict};
use serde::{Deserialize, Serialize};

use crate::eval::EvalReport;

pub use eeglens_dsp::stats::CHANCE_ALPHA as ALPHA;

/// One binomial test of `correct` successes out of `n` against `chance`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BinomialTest {
    /// trials (windows or subjects)
    pub n: usize,
    /// correct answers
    pub correct: usize,
    /// the success rate under the null (the largest class's share)
    pub chance: f64,
    /// one-sided `P(X >= correct)` for `X ~ Binomial(n, chance)`
    pub p: f64,
}

impl BinomialTest {
    /// Tests `correct` of `n` against `chance`.
    pub fn new(correct: usize, n: usize, chance: f64) -> Self {
        Self { n, correct, chance, p: binomial_upper_tail(n, correct, chance) }
    }
}

/// Whether a model's accuracy on a split is above chance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChanceReport {
    /// the split tested
    pub split: String,
    /// per window
    pub window: BinomialTest,
    /// per subject (prediction from the mean window probabilities)
    pub subject: BinomialTest,
    /// the verdict (see the module documentation)
    pub learned: bool,
}

impl ChanceReport {
    /// The chance tests of an evaluation.
    pub fn of(report: &EvalReport) -> Self {
        let share = |conf: &[Vec<u64>]| {
            let n: u64 = conf.iter().flatten().sum();
            let largest = conf.iter().map(|row| row.iter().sum::<u64>()).max().unwrap_or(0);
            if n == 0 {
                1.0
            } else {
                largest as f64 / n as f64
            }
        };
        let diag = |conf: &[Vec<u64>]| (0..conf.len()).map(|i| conf[i][i]).sum::<u64>() as usize;
        let total = |conf: &[Vec<u64>]| conf.iter().flatten().sum::<u64>() as usize;
        let window =
            BinomialTest::new(diag(&report.confusion), total(&report.confusion), share(&report.confusion));
        let subject = BinomialTest::new(
            diag(&report.subject_confusion),
            total(&report.subject_confusion),
            share(&report.subject_confusion),
        );
        let learned = learned_verdict(
            (window.correct, window.n, window.chance),
            (subject.correct, subject.n, subject.chance),
        );
        Self { split: report.split.clone(), window, subject, learned }
    }

    /// One line for the terminal: the verdict and both tests.
    pub fn describe(&self) -> String {
        let verdict = if self.learned {
            "above chance".to_string()
        } else {
            "NOT above chance: the model learned nothing usable on this split".to_string()
        };
        format!(
            "{}: {verdict} (windows {}/{} vs chance {:.2}, binomial p = {}; subjects {}/{}, p = {})",
            self.split,
            self.window.correct,
            self.window.n,
            self.window.chance,
            fmt_p(self.window.p),
            self.subject.correct,
            self.subject.n,
            fmt_p(self.subject.p),
        )
    }
}

/// A p-value for people: three significant digits, `< 1e-6` below that.
pub fn fmt_p(p: f64) -> String {
    if p < 1e-6 {
        "< 1e-6".into()
    } else if p < 0.001 {
        format!("{p:.1e}")
    } else {
        format!("{p:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    fn report(conf: Vec<Vec<u64>>, subject_conf: Vec<Vec<u64>>) -> EvalReport {
        EvalReport {
            split: "test".into(),
            n_windows: 0,
            n_subjects: 0,
            loss: 0.0,
            accuracy: 0.0,
            balanced_accuracy: 0.0,
            auc: None,
            subject_accuracy: 0.0,
            subject_accuracy_vote: 0.0,
            subject_balanced_accuracy: 0.0,
            subject_auc: None,
            confusion: conf,
            subject_confusion: subject_conf,
            classes: vec!["F".into(), "M".into()],
            model: "m".into(),
            checkpoint: None,
            subjects: vec![],
            windows: vec![],
            probabilities: vec![],
            chance: None,
        }
    }

    #[test]
    fn chance_follows_the_majority_class() {
        // Always answering class 1 on 75 % class-1 data: 0.75 accuracy, chance.
        let r = ChanceReport::of(&report(vec![vec![0, 100], vec![0, 300]], vec![vec![0, 2], vec![0, 6]]));
        assert_relative_eq!(r.window.chance, 0.75);
        assert!(r.window.p > 0.4, "{}", r.window.p);
        assert!(!r.learned);
        assert!(r.describe().contains("NOT above chance"), "{}", r.describe());
    }

    #[test]
    fn a_clear_model_learned_and_a_coin_did_not() {
        let good =
            ChanceReport::of(&report(vec![vec![120, 40], vec![30, 130]], vec![vec![4, 0], vec![1, 3]]));
        assert!(good.learned, "{good:?}");
        let coin = ChanceReport::of(&report(vec![vec![82, 78], vec![80, 80]], vec![vec![2, 2], vec![2, 2]]));
        assert!(!coin.learned, "{coin:?}");
        // Windows above chance from a minority of subjects: not learned.
        let few = ChanceReport::of(&report(vec![vec![120, 40], vec![30, 130]], vec![vec![2, 2], vec![2, 2]]));
        assert!(few.window.p < ALPHA && !few.learned, "{few:?}");
    }
}

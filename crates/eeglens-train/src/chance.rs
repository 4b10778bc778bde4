//! Is an accuracy above chance? A subject-level permutation test of the
//! window accuracy decides; exact binomial tests per window and per subject
//! are reported beside it. The verdict `learned` is what the CLI, the
//! interpretation and the report show.
//!
//! Chance is what a model that ignores its input scores: always answering
//! the most frequent class, so `chance = max_k n_k / n` (0.5 on balanced
//! data). The per-window binomial treats windows as independent, which they
//! are not (windows of one subject share that subject's EEG), so its p is
//! far too small when a few subjects drive the accuracy: over 40 subjects'
//! 1,600 windows a 3-point edge passes it. The per-subject binomial has the
//! right unit but throws away how many of each subject's windows are right
//! (with 8 subjects, 7 right gives p = 0.035 and 6 right p = 0.145).
//!
//! The verdict ([`learned_verdict`]): a model **learned** when the window
//! accuracy is above chance *and* the subject-level permutation test
//! ([`eeglens_dsp::stats::subject_permutation`]: each subject's windows stay
//! together, only which subject carries which class is shuffled) gives
//! `p < ALPHA`. Its floor is one over the number of labelings of the test
//! subjects (1/70 for 4 + 4, 1/6 for 2 + 2): with too few test subjects no
//! model can be called learned, and [`ChanceReport::describe`] says so.

use eeglens_dsp::stats::{binomial_upper_tail, learned_verdict, subject_permutation, SubjectPermutation};
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

/// The subject-level permutation test of the window accuracy
/// ([`eeglens_dsp::stats::subject_permutation`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SubjectTest {
    /// subjects permuted
    pub n: usize,
    /// distinct labelings of them
    pub labelings: f64,
    /// every labeling enumerated (else 9,999 random ones)
    pub exact: bool,
    /// one-sided p of the windows right
    pub p: f64,
    /// the smallest p these subjects allow
    pub floor: f64,
}

impl From<SubjectPermutation> for SubjectTest {
    fn from(t: SubjectPermutation) -> Self {
        Self { n: t.units, labelings: t.labelings, exact: t.exact, p: t.p, floor: t.floor }
    }
}

impl SubjectTest {
    fn as_permutation(&self) -> SubjectPermutation {
        SubjectPermutation {
            units: self.n,
            labelings: self.labelings,
            exact: self.exact,
            p: self.p,
            floor: self.floor,
        }
    }

    /// Whether these subjects are too few for any model to reach `p < ALPHA`.
    pub fn too_few(&self) -> bool {
        self.floor >= ALPHA
    }
}

/// Whether a model's accuracy on a split is above chance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChanceReport {
    /// the split tested
    pub split: String,
    /// per window (binomial; windows of a subject are not independent, so
    /// this p is too small and does not decide)
    pub window: BinomialTest,
    /// per subject (prediction from the mean window probabilities)
    pub subject: BinomialTest,
    /// the subject-level permutation test of the windows right, which
    /// decides (absent from reports written before it existed)
    #[serde(default)]
    pub subject_test: Option<SubjectTest>,
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
        let k = report.classes.len().max(2);
        let units: Vec<(usize, Vec<u64>)> = report
            .subjects
            .iter()
            .map(|s| {
                if s.window_votes.is_empty() {
                    // Reports written before the votes were kept: the windows
                    // right are known, the wrong ones go to the next class
                    // (exact with two classes).
                    let right = (s.window_accuracy * s.n_windows as f64).round() as u64;
                    let mut v = vec![0; k];
                    v[s.label.min(k - 1)] = right;
                    v[(s.label + 1) % k] += s.n_windows as u64 - right.min(s.n_windows as u64);
                    (s.label, v)
                } else {
                    (s.label, s.window_votes.clone())
                }
            })
            .collect();
        let test = subject_permutation(&units);
        let learned = learned_verdict((window.correct, window.n, window.chance), &test);
        Self { split: report.split.clone(), window, subject, subject_test: Some(test.into()), learned }
    }

    /// The chance tests over several evaluations of disjoint subjects taken
    /// together (a cross-validation's folds, each subject tested once by the
    /// fold that never saw it): windows, subjects and the subject-level
    /// permutation test over all of them, against the pooled classes' shares.
    ///
    /// # Panics
    /// When `reports` is empty.
    pub fn pooled(reports: &[&EvalReport]) -> Self {
        assert!(!reports.is_empty(), "pooled: no evaluation");
        let mut all = reports[0].without_windows();
        for r in &reports[1..] {
            for (rows, add) in
                [(&mut all.confusion, &r.confusion), (&mut all.subject_confusion, &r.subject_confusion)]
            {
                for (row, add_row) in rows.iter_mut().zip(add) {
                    for (c, a) in row.iter_mut().zip(add_row) {
                        *c += a;
                    }
                }
            }
            all.subjects.extend(r.subjects.iter().cloned());
        }
        Self::of(&all)
    }

    /// The subject-level test's p (1 when the report predates it).
    pub fn subject_p(&self) -> f64 {
        self.subject_test.as_ref().map_or(1.0, |t| t.as_permutation().p)
    }

    /// One line for the terminal: the verdict and the tests.
    pub fn describe(&self) -> String {
        let verdict = match &self.subject_test {
            _ if self.learned => "above chance".to_string(),
            Some(t) if t.too_few() => format!(
                "NOT above chance: {} test subjects are too few for any model to be shown above chance \
                 (the subject test's smallest p is {})",
                t.n,
                fmt_p(t.floor)
            ),
            _ => "NOT above chance: the model learned nothing usable on this split".to_string(),
        };
        let subject_test = self.subject_test.as_ref().map_or(String::new(), |t| {
            format!(
                "subject permutation p = {}{}; ",
                fmt_p(t.p),
                if t.p <= t.floor + 1e-12 { " (its floor)" } else { "" }
            )
        });
        format!(
            "{}: {verdict} (windows {}/{} vs chance {:.2}; {subject_test}window binomial p = {}; subjects {}/{}, p = {})",
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
    use crate::metrics::SubjectResult;
    use approx::assert_relative_eq;

    /// A two-class report from `(label, windows, windows right)` per subject;
    /// each subject is predicted by the majority of its windows.
    fn report(rows: &[(usize, u64, u64)]) -> EvalReport {
        let mut conf = vec![vec![0u64; 2]; 2];
        let mut subject_conf = vec![vec![0u64; 2]; 2];
        let mut subjects = Vec::new();
        for (i, &(l, n, right)) in rows.iter().enumerate() {
            conf[l][l] += right;
            conf[l][1 - l] += n - right;
            let predicted = if 2 * right > n { l } else { 1 - l };
            subject_conf[l][predicted] += 1;
            let mut votes = vec![0; 2];
            votes[l] = right;
            votes[1 - l] = n - right;
            subjects.push(SubjectResult {
                subject: format!("sub-{i:02}"),
                label: l,
                n_windows: n as usize,
                mean_prob: vec![0.5, 0.5],
                predicted,
                predicted_vote: predicted,
                window_accuracy: right as f64 / n as f64,
                window_votes: votes,
            });
        }
        EvalReport {
            split: "test".into(),
            n_windows: 0,
            n_subjects: rows.len(),
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
            subjects,
            windows: vec![],
            probabilities: vec![],
            chance: None,
        }
    }

    #[test]
    fn chance_follows_the_majority_class() {
        // Always answering class 1 on 75 % class-1 data: 0.75 accuracy, chance.
        let mut rows = vec![(0, 50, 0); 2];
        rows.extend(vec![(1, 50, 50); 6]);
        let r = ChanceReport::of(&report(&rows));
        assert_relative_eq!(r.window.chance, 0.75);
        assert!(r.window.p > 0.4, "{}", r.window.p);
        assert!(r.subject_p() > 0.5, "{r:?}");
        assert!(!r.learned);
        assert!(r.describe().contains("NOT above chance"), "{}", r.describe());
    }

    /// Seven of eight subjects right, most windows right.
    const CLEAR: [(usize, u64, u64); 8] = [
        (0, 40, 32),
        (0, 40, 30),
        (0, 40, 35),
        (0, 40, 28),
        (1, 40, 33),
        (1, 40, 36),
        (1, 40, 30),
        (1, 40, 14),
    ];

    #[test]
    fn a_clear_model_learned_and_a_coin_did_not() {
        let good = ChanceReport::of(&report(&CLEAR));
        assert!(good.learned, "{good:?}");
        assert!(good.describe().contains("above chance"), "{}", good.describe());
        let coin = ChanceReport::of(&report(&[
            (0, 40, 21),
            (0, 40, 20),
            (1, 40, 19),
            (1, 40, 20),
            (0, 40, 22),
            (1, 40, 20),
        ]));
        assert!(!coin.learned, "{coin:?}");
        // Windows above chance from a minority of subjects: not learned,
        // although the per-window binomial says p < 0.05.
        let few = ChanceReport::of(&report(&[
            (0, 40, 40),
            (0, 40, 40),
            (0, 40, 20),
            (0, 40, 20),
            (1, 40, 20),
            (1, 40, 20),
            (1, 40, 20),
            (1, 40, 20),
        ]));
        assert!(few.window.p < ALPHA && !few.learned, "{few:?}");
    }

    #[test]
    fn too_few_subjects_are_said_to_be_too_few() {
        let r = ChanceReport::of(&report(&[(0, 40, 40), (0, 40, 40), (1, 40, 40), (1, 40, 40)]));
        assert!(!r.learned && r.subject_test.as_ref().is_some_and(SubjectTest::too_few), "{r:?}");
        assert!(r.describe().contains("too few"), "{}", r.describe());
    }

    #[test]
    fn folds_too_small_alone_are_tested_together() {
        let a = report(&[(0, 40, 36), (0, 40, 35), (1, 40, 34), (1, 40, 37)]);
        let b = report(&[(0, 40, 33), (0, 40, 38), (1, 40, 36), (1, 40, 35)]);
        for r in [&a, &b] {
            assert!(!ChanceReport::of(r).learned, "4 subjects cannot reach p < 0.05");
        }
        let pooled = ChanceReport::pooled(&[&a, &b]);
        let t = pooled.subject_test.as_ref().expect("the subject test");
        assert_eq!((t.n, pooled.window.n, pooled.window.correct, pooled.subject.n), (8, 320, 284, 8));
        assert_relative_eq!(t.p, 1.0 / 70.0, max_relative = 1e-12);
        assert!(pooled.learned, "{pooled:?}");
    }

    #[test]
    fn reports_without_votes_are_tested_from_their_window_accuracy() {
        let mut old = report(&CLEAR);
        let with_votes = ChanceReport::of(&old);
        for s in &mut old.subjects {
            s.window_votes.clear();
        }
        assert_eq!(ChanceReport::of(&old), with_votes);
    }
}

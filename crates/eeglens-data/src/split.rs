//! Subject-wise, class-stratified splits: no subject's windows are in two
//! splits, and each split keeps the class proportions.

use eeglens_autodiff::Rng;

use crate::error::DataError;
use crate::store::Split;

/// Proportions of subjects per split.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SplitConfig {
    /// fraction of subjects held out for testing (default 12.5%)
    pub test: f64,
    /// fraction used for validation (default 31.25%)
    pub val: f64,
    /// seed of the shuffle
    pub seed: u64,
    /// drop subjects of the larger class so that each split has as many
    /// subjects of each class
    pub balance: bool,
}

impl Default for SplitConfig {
    /// The proportions the seed paper's group used: test 12.5%, validation
    /// 31.25%, train the remaining 56.25%.
    fn default() -> Self {
        Self { test: 0.125, val: 0.3125, seed: 0, balance: false }
    }
}

/// Assigns each subject to a split. `classes[i]` is subject `i`'s class index.
/// Returns `None` for a subject dropped by class balancing.
///
/// Within each class, subjects are shuffled with `cfg.seed`, then the first
/// `round(n * test)` go to test and the next `round(n * val)` to validation;
/// a class with at least three subjects puts at least one in each split.
///
/// # Errors
/// [`DataError::Config`] when the fractions are not in `[0, 1)` or sum to 1 or more.
pub fn split_subjects(
    classes: &[usize],
    n_classes: usize,
    cfg: &SplitConfig,
) -> Result<Vec<Option<Split>>, DataError> {
    let ok = |f: f64| (0.0..1.0).contains(&f);
    if !ok(cfg.test) || !ok(cfg.val) || cfg.test + cfg.val >= 1.0 {
        return Err(DataError::Config(format!(
            "split fractions test {} and validation {} must each be in [0, 1) and leave subjects for training",
            cfg.test, cfg.val
        )));
    }
    let mut rng = Rng::new(cfg.seed).fork(0x5B11);
    let mut out = vec![None; classes.len()];
    let mut per_class: Vec<Vec<usize>> = vec![Vec::new(); n_classes];
    for (i, &c) in classes.iter().enumerate() {
        if c >= n_classes {
            return Err(DataError::Config(format!("subject {i} has class {c} of {n_classes}")));
        }
        per_class[c].push(i);
    }
    for members in per_class.iter_mut() {
        rng.shuffle(members);
    }
    if cfg.balance {
        let smallest = per_class.iter().map(|m| m.len()).filter(|&l| l > 0).min().unwrap_or(0);
        for m in per_class.iter_mut() {
            m.truncate(smallest);
        }
    }
    for members in &per_class {
        let n = members.len();
        let mut n_test = (n as f64 * cfg.test).round() as usize;
        let mut n_val = (n as f64 * cfg.val).round() as usize;
        if n >= 3 {
            if cfg.test > 0.0 {
                n_test = n_test.max(1);
            }
            if cfg.val > 0.0 {
                n_val = n_val.max(1);
            }
        }
        while n_test + n_val >= n && n_test + n_val > 0 {
            // Keep at least one training subject.
            if n_val >= n_test && n_val > 0 {
                n_val -= 1;
            } else {
                n_test -= 1;
            }
        }
        for (k, &s) in members.iter().enumerate() {
            out[s] = Some(if k < n_test {
                Split::Test
            } else if k < n_test + n_val {
                Split::Val
            } else {
                Split::Train
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_proportions_stratified_and_deterministic() {
        let classes: Vec<usize> = (0..64).map(|i| i % 2).collect();
        let a = split_subjects(&classes, 2, &SplitConfig::default()).expect("split");
        let b = split_subjects(&classes, 2, &SplitConfig::default()).expect("split");
        assert_eq!(a, b);
        for c in 0..2 {
            let count = |s| (0..64).filter(|&i| classes[i] == c && a[i] == Some(s)).count();
            assert_eq!(count(Split::Test), 4); // 32 * 0.125
            assert_eq!(count(Split::Val), 10); // 32 * 0.3125
            assert_eq!(count(Split::Train), 18);
        }
        let other =
            split_subjects(&classes, 2, &SplitConfig { seed: 1, ..Default::default() }).expect("split");
        assert_ne!(a, other);
    }

    #[test]
    fn small_classes_still_get_every_split() {
        let classes = vec![0, 0, 0, 1, 1, 1];
        let s = split_subjects(&classes, 2, &SplitConfig::default()).expect("split");
        for c in 0..2 {
            for sp in Split::ALL {
                assert_eq!((0..6).filter(|&i| classes[i] == c && s[i] == Some(sp)).count(), 1);
            }
        }
    }

    #[test]
    fn balancing_drops_the_surplus() {
        let classes = vec![0, 0, 0, 0, 0, 0, 1, 1, 1, 1];
        let s =
            split_subjects(&classes, 2, &SplitConfig { balance: true, ..Default::default() }).expect("split");
        assert_eq!(s.iter().filter(|x| x.is_none()).count(), 2);
        assert!(s[6..].iter().all(|x| x.is_some()));
    }

    #[test]
    fn bad_fractions_are_errors() {
        let e = split_subjects(&[0, 1], 2, &SplitConfig { test: 0.6, val: 0.5, ..Default::default() });
        assert!(e.unwrap_err().to_string().contains("leave subjects for training"));
    }
}

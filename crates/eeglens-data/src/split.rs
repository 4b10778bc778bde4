//! Subject-wise, class-stratified splits: no subject's windows are in two
//! splits, and each split keeps the class proportions.
//!
//! Two kinds: the store's own split, decided once by `prepare`
//! ([`split_subjects`]), and the folds of subject-wise k-fold cross-validation
//! ([`fold_partition`], [`fold_roles`]), decided per run from the store's
//! subjects and applied to an open store with [`EpochStore::assign_splits`].

use eeglens_autodiff::Rng;

use crate::error::DataError;
use crate::store::{EpochStore, Split};

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

/// The settings of a k-fold cross-validation over subjects.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FoldConfig {
    /// number of folds, at least 2 and at most the subjects of the smallest class
    pub folds: usize,
    /// seed of the partition (and of each fold's choice of validation subjects)
    pub seed: u64,
    /// fraction of each class's non-test subjects that validate (`[0, 1)`)
    pub val: f64,
}

/// Deals the subjects into `folds` test folds: `classes[i]` is subject `i`'s
/// class; returns each subject's fold.
///
/// Within each class the subjects are shuffled (seeded) and dealt round-robin,
/// the deal continuing from class to class, so every fold holds `floor` or
/// `ceil` of `n_c / folds` subjects of each class `c`, and the folds' sizes
/// differ by at most one.
///
/// # Errors
/// [`DataError::Config`] for fewer than two folds, a class index out of
/// range, or a class (with subjects) holding fewer subjects than folds (a
/// fold would test no subject of it).
pub fn fold_partition(
    classes: &[usize],
    n_classes: usize,
    folds: usize,
    seed: u64,
) -> Result<Vec<usize>, DataError> {
    if folds < 2 {
        return Err(DataError::Config(format!("{folds} fold(s): cross-validation needs at least 2")));
    }
    let per_class = members_by_class(classes, n_classes)?;
    if let Some((c, m)) = per_class.iter().enumerate().find(|(_, m)| !m.is_empty() && m.len() < folds) {
        return Err(DataError::Config(format!(
            "{folds} folds need at least {folds} subjects of every class, and class {c} has {}",
            m.len()
        )));
    }
    let mut rng = Rng::new(seed).fork(0xF01D);
    let mut fold = vec![0; classes.len()];
    let mut dealt = 0;
    for mut members in per_class {
        rng.shuffle(&mut members);
        for s in members {
            fold[s] = dealt % folds;
            dealt += 1;
        }
    }
    Ok(fold)
}

/// Each subject's role in fold `fold` of `cfg`: the fold's subjects test
/// ([`fold_partition`]); of every class's other subjects, `round(n * val)`
/// validate (at least one when `val > 0` and the class has two, never all),
/// chosen with a stream of the seed that is the fold's own; the rest train.
///
/// # Errors
/// As [`fold_partition`]; [`DataError::Config`] when `fold >= folds` or `val`
/// is not in `[0, 1)`.
pub fn fold_roles(
    classes: &[usize],
    n_classes: usize,
    cfg: &FoldConfig,
    fold: usize,
) -> Result<Vec<Split>, DataError> {
    if fold >= cfg.folds {
        return Err(DataError::Config(format!(
            "fold {fold} of {}: folds are numbered 0 to {}",
            cfg.folds,
            cfg.folds.saturating_sub(1)
        )));
    }
    if !(0.0..1.0).contains(&cfg.val) {
        return Err(DataError::Config(format!("validation fraction {} must be in [0, 1)", cfg.val)));
    }
    let part = fold_partition(classes, n_classes, cfg.folds, cfg.seed)?;
    let mut roles: Vec<Split> =
        part.iter().map(|&f| if f == fold { Split::Test } else { Split::Train }).collect();
    let mut rng = Rng::new(cfg.seed).fork(0xF01D_0000 + fold as u64 + 1);
    for members in members_by_class(classes, n_classes)? {
        let mut rest: Vec<usize> = members.into_iter().filter(|&s| part[s] != fold).collect();
        rng.shuffle(&mut rest);
        let n = rest.len();
        let mut n_val = (n as f64 * cfg.val).round() as usize;
        if cfg.val > 0.0 && n >= 2 {
            n_val = n_val.max(1);
        }
        n_val = n_val.min(n.saturating_sub(1));
        for &s in &rest[..n_val] {
            roles[s] = Split::Val;
        }
    }
    Ok(roles)
}

/// Subject indices by class, each list in subject order.
fn members_by_class(classes: &[usize], n_classes: usize) -> Result<Vec<Vec<usize>>, DataError> {
    let mut per_class: Vec<Vec<usize>> = vec![Vec::new(); n_classes];
    for (i, &c) in classes.iter().enumerate() {
        if c >= n_classes {
            return Err(DataError::Config(format!("subject {i} has class {c} of {n_classes}")));
        }
        per_class[c].push(i);
    }
    Ok(per_class)
}

/// The subjects that have windows in `store`, by subject index, with each
/// one's class.
///
/// # Errors
/// [`DataError::Config`] naming a subject whose windows carry two classes (a
/// subject-wise split needs one class per subject).
pub fn store_subject_classes(store: &EpochStore) -> Result<Vec<(u32, usize)>, DataError> {
    let mut class: std::collections::BTreeMap<u32, u32> = std::collections::BTreeMap::new();
    for (&s, &y) in store.subjects().iter().zip(store.labels()) {
        if let Some(&c) = class.get(&s) {
            if c != y {
                let m = store.meta();
                return Err(DataError::Config(format!(
                    "{}: subject {} has windows of classes {} and {}; subject-wise folds need one class per subject",
                    store.path().display(),
                    m.subjects[s as usize],
                    m.classes[c as usize],
                    m.classes[y as usize]
                )));
            }
        } else {
            class.insert(s, y);
        }
    }
    Ok(class.into_iter().map(|(s, c)| (s, c as usize)).collect())
}

/// The store's own share of validation subjects among its non-test subjects
/// (what `prepare` decided); the default split's share
/// (0.3125 / 0.875, about 0.357) when it has no validation subjects.
pub fn store_val_share(store: &EpochStore) -> f64 {
    let mut role: std::collections::BTreeMap<u32, Split> = std::collections::BTreeMap::new();
    for (&s, &sp) in store.subjects().iter().zip(store.splits()) {
        role.insert(s, sp);
    }
    let count = |sp| role.values().filter(|&&r| r == sp).count();
    let (train, val) = (count(Split::Train), count(Split::Val));
    if val == 0 || train == 0 {
        let d = SplitConfig::default();
        return d.val / (1.0 - d.test);
    }
    val as f64 / (train + val) as f64
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

    fn roles_of(classes: &[usize], cfg: &FoldConfig) -> Vec<Vec<Split>> {
        (0..cfg.folds).map(|f| fold_roles(classes, 2, cfg, f).expect("fold")).collect()
    }

    #[test]
    fn a_fold_tests_its_part_validates_from_the_others_and_is_deterministic() {
        let classes: Vec<usize> = (0..12).map(|i| i % 2).collect();
        let cfg = FoldConfig { folds: 3, seed: 0, val: 0.25 };
        let a = roles_of(&classes, &cfg);
        assert_eq!(a, roles_of(&classes, &cfg));
        for roles in &a {
            for c in 0..2 {
                let count = |sp| (0..12).filter(|&i| classes[i] == c && roles[i] == sp).count();
                // 6 per class: 2 test; of the other 4, round(4 * 0.25) = 1 validates.
                assert_eq!((count(Split::Test), count(Split::Val), count(Split::Train)), (2, 1, 3));
            }
        }
        assert_ne!(a, roles_of(&classes, &FoldConfig { seed: 1, ..cfg }));
    }

    #[test]
    fn bad_fold_settings_are_errors() {
        let classes = vec![0, 0, 0, 1, 1, 1];
        let cfg = FoldConfig { folds: 3, seed: 0, val: 0.3 };
        let msg = |r: Result<Vec<Split>, DataError>| r.unwrap_err().to_string();
        assert!(msg(fold_roles(&classes, 2, &cfg, 3)).contains("numbered 0 to 2"));
        assert!(msg(fold_roles(&classes, 2, &FoldConfig { folds: 1, ..cfg }, 0)).contains("at least 2"));
        let e = msg(fold_roles(&classes, 2, &FoldConfig { folds: 4, ..cfg }, 0));
        assert!(e.contains("at least 4 subjects of every class, and class 0 has 3"), "{e}");
        assert!(msg(fold_roles(&classes, 2, &FoldConfig { val: 1.0, ..cfg }, 0)).contains("[0, 1)"));
    }

    proptest::proptest! {
        #[test]
        fn folds_partition_the_subjects_and_keep_the_classes_balanced(
            n0 in 2usize..14,
            n1 in 2usize..14,
            folds in 2usize..6,
            seed in 0u64..1000,
            val in 0.0f64..0.9,
        ) {
            proptest::prop_assume!(folds <= n0.min(n1));
            // Classes interleaved then the larger class's surplus, as stores list them.
            let mut classes: Vec<usize> = (0..2 * n0.min(n1)).map(|i| i % 2).collect();
            classes.extend(std::iter::repeat_n(usize::from(n1 > n0), n0.abs_diff(n1)));
            let cfg = FoldConfig { folds, seed, val };
            let all = roles_of(&classes, &cfg);
            let n = classes.len();
            // Every subject is tested exactly once over the folds.
            for s in 0..n {
                let tested = all.iter().filter(|r| r[s] == Split::Test).count();
                proptest::prop_assert_eq!(tested, 1, "subject {} tested {} times", s, tested);
            }
            for roles in &all {
                // One role per subject (by construction of the type), and every class trains.
                for c in 0..2 {
                    let of = |sp| (0..n).filter(|&i| classes[i] == c && roles[i] == sp).count();
                    let size = if c == 0 { n0 } else { n1 };
                    let test = of(Split::Test);
                    proptest::prop_assert!(test == size / folds || test == size.div_ceil(folds));
                    proptest::prop_assert!(of(Split::Train) >= 1);
                    proptest::prop_assert_eq!(of(Split::Test) + of(Split::Val) + of(Split::Train), size);
                }
            }
            // Fold sizes differ by at most one.
            let sizes: Vec<usize> =
                all.iter().map(|r| r.iter().filter(|&&sp| sp == Split::Test).count()).collect();
            let (lo, hi) = (sizes.iter().min().copied(), sizes.iter().max().copied());
            proptest::prop_assert!(hi.zip(lo).is_some_and(|(h, l)| h - l <= 1), "{:?}", sizes);
        }
    }
}

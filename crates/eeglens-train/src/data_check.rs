//! Whether a store is fit for a run: the one place that decides whether an
//! epoch store is the one a run was trained on (for `--resume`, `eval`,
//! `interpret` and `report`), whether another store may stand in for it, and
//! whether a store can be trained on at all.
//!
//! # Same store
//! A run's `config.json` records the store's file SHA-256, the content hash
//! its writer put in the metadata (`content_sha256`, stores written since it
//! exists) and every subject's split. Two stores are the same when both
//! content hashes are known and equal (no reading: the hash is in the
//! header), else when the file's SHA-256 equals the recorded one (the whole
//! file is read: about 1 s per GiB on one core of the reference machine).
//!
//! # Another store
//! A different store is accepted only when named explicitly (`--data`), when
//! its windows and classes have the run's shape, and when every subject it
//! shares with the run keeps the run's split, so no subject the network was
//! trained or selected on is scored as unseen. Runs made before the subjects'
//! splits were recorded accept their own store only.

use std::collections::BTreeMap;
use std::path::Path;

use eeglens_data::store::{EpochStore, Split};

use crate::error::TrainError;
use crate::run_dir::{file_sha256, DataInfo};

/// Each subject's split in `store` (`train`, `val`, `test`; joined with `+`
/// in that order when a subject's windows are in several).
pub fn subject_splits(store: &EpochStore) -> BTreeMap<String, String> {
    let mut seen: BTreeMap<u32, [bool; 3]> = BTreeMap::new();
    for (&s, &sp) in store.subjects().iter().zip(store.splits()) {
        seen.entry(s).or_default()[sp as usize] = true;
    }
    let names = &store.meta().subjects;
    seen.into_iter()
        .map(|(s, in_split)| {
            let splits: Vec<&str> =
                Split::ALL.iter().filter(|sp| in_split[**sp as usize]).map(|sp| sp.name()).collect();
            (names[s as usize].clone(), splits.join("+"))
        })
        .collect()
}

/// `None` when `store` is the store `recorded` describes; otherwise the two
/// hashes that differ, as `(recorded, found)` (e.g. `sha256 ab12..`).
///
/// # Errors
/// [`TrainError::Io`] when the store's file cannot be read for hashing.
pub fn differs(recorded: &DataInfo, store: &EpochStore) -> Result<Option<(String, String)>, TrainError> {
    if let (Some(then), Some(now)) = (&recorded.content_sha256, store.recorded_content_sha256()) {
        return Ok((then != now).then(|| (format!("content sha256 {then}"), format!("content sha256 {now}"))));
    }
    let (now, _) = file_sha256(store.path())?;
    Ok((now != recorded.sha256).then(|| (format!("sha256 {}", recorded.sha256), format!("sha256 {now}"))))
}

/// Checks that `store` may be used to evaluate or read the run in `run_dir`
/// that recorded `recorded`: it is the run's store, or, when `explicit`
/// (named with `--data`), a store with the run's window shape and classes
/// whose subjects keep the run's splits.
///
/// # Errors
/// [`TrainError::StoreMismatch`], one line saying what differs and what to do;
/// [`TrainError::Io`] when the store cannot be hashed.
pub fn check_store_for_run(
    recorded: &DataInfo,
    run_dir: &Path,
    store: &EpochStore,
    explicit: bool,
) -> Result<(), TrainError> {
    let Some((then, now)) = differs(recorded, store)? else { return Ok(()) };
    let mismatch = |msg: String| TrainError::StoreMismatch { data: store.path().to_path_buf(), msg };
    let run = run_dir.display();
    if !explicit {
        return Err(mismatch(format!(
            "not the epoch store the run in {run} was trained on ({now}; the run recorded {then}): its \
             test split may hold subjects the network was trained on; train a new run on it, or name a \
             store whose subjects keep the run's splits with --data"
        )));
    }
    let d = store.meta();
    if (store.n_channels(), store.n_samples()) != (recorded.n_channels, recorded.n_samples)
        || d.classes != recorded.classes
    {
        return Err(mismatch(format!(
            "windows of {} channels x {} samples with classes {:?} do not match the run in {run} ({} x {}, {:?})",
            store.n_channels(),
            store.n_samples(),
            d.classes,
            recorded.n_channels,
            recorded.n_samples,
            recorded.classes
        )));
    }
    let Some(run_splits) = &recorded.subject_splits else {
        return Err(mismatch(format!(
            "not the epoch store the run in {run} was trained on ({now}; the run recorded {then}), and the \
             run predates recorded subject splits, so they cannot be compared: use the run's store ({}) or \
             train a new run",
            recorded.path.display()
        )));
    };
    let moved: Vec<String> = subject_splits(store)
        .into_iter()
        .filter_map(|(s, here)| match run_splits.get(&s) {
            Some(there) if *there != here => Some(format!("{s} {there} in the run, {here} here")),
            _ => None,
        })
        .collect();
    if !moved.is_empty() {
        let shown = moved.iter().take(3).cloned().collect::<Vec<_>>().join("; ");
        return Err(mismatch(format!(
            "{} subject(s) are in another split than in the run in {run} ({shown}{}): the network would be \
             scored on subjects it was trained or selected on; use the run's store or train a new run",
            moved.len(),
            if moved.len() > 3 { "; ..." } else { "" }
        )));
    }
    Ok(())
}

/// Refuses a store that cannot train a classifier: fewer than two classes, or
/// a train split (`train` holds its window indices) whose windows are all of
/// one class. Such a network learns to answer that class, and a test split of
/// the same class then reads as perfect.
///
/// # Errors
/// [`TrainError::OneClass`] naming the store and the class.
pub fn check_trainable(store: &EpochStore, train: &[usize]) -> Result<(), TrainError> {
    let classes = &store.meta().classes;
    let labels = store.labels();
    let mut present = vec![false; classes.len()];
    for &i in train {
        present[labels[i] as usize] = true;
    }
    let found: Vec<&str> =
        classes.iter().zip(&present).filter(|(_, &p)| p).map(|(c, _)| c.as_str()).collect();
    if found.len() >= 2 {
        return Ok(());
    }
    let what = if classes.len() < 2 {
        format!("the store has one class ({})", classes.join(", "))
    } else {
        format!("the train split holds only class `{}` (of {})", found.join(", "), classes.join(", "))
    };
    Err(TrainError::OneClass {
        data: store.path().to_path_buf(),
        msg: format!(
            "{what}: a network trained on one class answers that class whatever the input, and its test \
             accuracy means nothing; prepare the store with subjects of at least two classes in the train split"
        ),
    })
}

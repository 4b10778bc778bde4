//! A numeric label column kept as a number per window (`--target numeric`): the regression
//! target. The subjects are still split by class, the column's halves at its median (the
//! strata, so that train, validation and test hold young and old alike); the store keeps the
//! value itself in its `target` tensor, with the column's unit from participants.json.

use std::collections::BTreeMap;
use std::path::Path;

use eeglens_io::tsv::Table;

use super::bins::{numbers, Bins};
use crate::error::DataError;
use crate::store::{EpochSet, NumericTarget};

/// The strata a numeric target's subjects are split by: its halves at the median.
pub(crate) const STRATA: Bins = Bins::Quantiles(2);

/// Each participant's value of `column` (keyed without `sub-`), refusing a value that is not
/// a number.
///
/// # Errors
/// A one-line message naming the file and line of the first value that is not a number.
pub(crate) fn values_of(table: &Table, column: &str) -> Result<BTreeMap<String, f64>, String> {
    let (Some(col), Some(idcol)) = (table.column(column), table.column("participant_id")) else {
        return Ok(BTreeMap::new());
    };
    let mut out = BTreeMap::new();
    for (i, x) in numbers(table, col, column, "--target numeric needs a numeric column")? {
        let id = table.rows[i][idcol].trim();
        out.insert(id.strip_prefix("sub-").unwrap_or(id).to_string(), x);
    }
    Ok(out)
}

/// The unit of `column` that the BIDS sidecar `participants.json` next to `participants`
/// gives (`"age": {"Units": "years"}`), if any.
fn unit_of(participants: &Path, column: &str) -> Option<String> {
    let text = std::fs::read_to_string(participants.with_extension("json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    let entry = v.as_object()?.iter().find(|(k, _)| k.eq_ignore_ascii_case(column))?.1;
    ["Units", "units", "Unit", "unit"].iter().find_map(|k| entry.get(*k)?.as_str()).map(String::from)
}

/// Gives every window of `set` its subject's value of `column` from `participants`.
///
/// # Errors
/// [`DataError::Config`] when a value is not a number or a subject of the set has none.
pub(crate) fn attach(set: &mut EpochSet, participants: &Table, column: &str) -> Result<(), DataError> {
    let by_id = values_of(participants, column).map_err(DataError::Config)?;
    let per_subject: Vec<f32> = set
        .meta
        .subjects
        .iter()
        .map(|s| {
            by_id.get(s.strip_prefix("sub-").unwrap_or(s)).map(|&v| v as f32).ok_or_else(|| {
                DataError::Config(format!("{}: {s} has no `{column}`", participants.path.display()))
            })
        })
        .collect::<Result<_, _>>()?;
    let spelt = participants.column(column).map_or(column, |i| participants.columns[i].as_str());
    set.target = Some(NumericTarget {
        column: spelt.to_string(),
        unit: unit_of(&participants.path, spelt),
        values: set.subject.iter().map(|&s| per_subject[s as usize]).collect(),
    });
    Ok(())
}

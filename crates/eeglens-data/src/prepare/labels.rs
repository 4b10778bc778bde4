//! Checks of the label column and of the classes it makes, so that a typo, a
//! duplicate row or a numeric column never silently becomes a class.
//!
//! - [`check_column`], before any recording is read: participants listed
//!   twice with different values, one class spelt two ways (`M` and `m`), and
//!   a column of numbers (`age`) are refused; a few numeric codes are allowed
//!   with a warning.
//! - [`check_split`], once subjects have classes and splits: a class too small
//!   to appear in every split, or an empty split, is refused; a class with very
//!   few subjects is a warning.

use std::collections::BTreeMap;
use std::path::Path;

use eeglens_io::tsv::Table;

use crate::split::SplitConfig;
use crate::store::Split;

/// Cell values that mean "no value" (compared case-insensitively, trimmed).
const MISSING: [&str; 8] = ["", "n/a", "na", "nan", "null", "unknown", "missing", "?"];

/// Numeric columns with more distinct values than this are refused as labels.
const MAX_NUMERIC_CODES: usize = 4;

/// A class with fewer subjects than this is reported as a warning.
pub(crate) const FEW_SUBJECTS: usize = 5;

/// Whether a cell counts as no value.
pub(crate) fn is_missing(v: &str) -> bool {
    let v = v.trim();
    MISSING.iter().any(|m| v.eq_ignore_ascii_case(m))
}

/// File line numbers of the table's data rows (blank lines are skipped by the
/// parser, so row `i` is not always line `i + 2`).
fn row_lines(path: &Path, n_rows: usize) -> Vec<usize> {
    let from_file = std::fs::read(path).ok().map(|bytes| {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        text.split('\n')
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .skip(1)
            .map(|(i, _)| i + 1)
            .collect::<Vec<usize>>()
    });
    match from_file {
        Some(lines) if lines.len() == n_rows => lines,
        _ => (0..n_rows).map(|i| i + 2).collect(),
    }
}

fn lines_text(lines: &[usize]) -> String {
    let shown: Vec<String> = lines.iter().take(6).map(|l| l.to_string()).collect();
    let more = if lines.len() > 6 { format!(", ... ({} rows)", lines.len()) } else { String::new() };
    format!("line{} {}{more}", if lines.len() == 1 { "" } else { "s" }, shown.join(", "))
}

/// Checks `column` of participants.tsv as a label column; returns warnings.
///
/// # Errors
/// A one-line message naming the file when a participant has two rows that
/// disagree, when two values differ only in case, or when the column holds
/// numbers rather than classes.
pub(crate) fn check_column(table: &Table, column: &str) -> Result<Vec<String>, String> {
    let path = table.path.display();
    let Some(col) = table.column(column) else { return Ok(Vec::new()) };
    let lines = row_lines(&table.path, table.rows.len());
    let idcol = table.column("participant_id");

    // A participant listed twice with different values.
    if let Some(idcol) = idcol {
        let mut by_id: BTreeMap<&str, Vec<(usize, &str)>> = BTreeMap::new();
        for (i, row) in table.rows.iter().enumerate() {
            let id = row[idcol].trim();
            let id = id.strip_prefix("sub-").unwrap_or(id);
            if !id.is_empty() {
                by_id.entry(id).or_default().push((lines[i], row[col].trim()));
            }
        }
        for (id, rows) in &by_id {
            if rows.iter().any(|(_, v)| *v != rows[0].1) {
                let listed: Vec<String> = rows.iter().map(|(l, v)| format!("`{v}` (line {l})")).collect();
                return Err(format!(
                    "{path}: sub-{id} is listed {} times with different `{column}`: {}; keep one row per participant",
                    rows.len(),
                    listed.join(", ")
                ));
            }
        }
    }

    // Distinct values with their lines.
    let mut values: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, row) in table.rows.iter().enumerate() {
        let v = row[col].trim();
        if !is_missing(v) {
            values.entry(v).or_default().push(lines[i]);
        }
    }

    // One class spelt two ways.
    let mut by_folded: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for v in values.keys() {
        by_folded.entry(v.to_lowercase()).or_default().push(v);
    }
    if let Some(spellings) = by_folded.values().find(|s| s.len() > 1) {
        let listed: Vec<String> =
            spellings.iter().map(|v| format!("`{v}` ({})", lines_text(&values[v]))).collect();
        return Err(format!(
            "{path}: column `{column}` spells one class {} ways, which would make {} classes: {}; use one spelling",
            spellings.len(),
            spellings.len(),
            listed.join(" and ")
        ));
    }

    // Numbers rather than classes.
    let numbers: Option<Vec<f64>> =
        values.keys().map(|v| v.parse::<f64>().ok().filter(|x| x.is_finite())).collect();
    let mut warnings = Vec::new();
    if let Some(nums) = numbers.filter(|n| !n.is_empty()) {
        let lo = nums.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = nums.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if nums.len() > MAX_NUMERIC_CODES || nums.iter().any(|x| x.fract() != 0.0) {
            return Err(format!(
                "{path}: column `{column}` holds numbers ({} distinct values, {lo} to {hi}), and each value \
                 would become its own class: cut it into ranges with --bins (--bins 2 at the median, or cut \
                 values such as --bins 9.5,12), train a regression on its values with --target numeric, or \
                 add a categorical column and pass it to --label",
                nums.len()
            ));
        }
        let shown: Vec<&str> = values.keys().copied().collect();
        warnings.push(format!(
            "column `{column}` holds the numbers {}; each is used as a class name",
            shown.join(", ")
        ));
    }
    Ok(warnings)
}

/// Checks the classes and the split of the subjects: `classes[i]` is subject
/// `i`'s class, `assignment[i]` its split (`None` when left out by
/// balancing), `subjects[i]` its label (without `sub-`). Returns warnings.
///
/// # Errors
/// A one-line message when a class cannot appear in every split that should
/// hold subjects, or when such a split is empty.
pub(crate) fn check_split(
    subjects: &[String],
    classes: &[usize],
    class_names: &[String],
    assignment: &[Option<Split>],
    cfg: &SplitConfig,
    column: &str,
) -> Result<Vec<String>, String> {
    let wanted: Vec<Split> = Split::ALL
        .into_iter()
        .filter(|s| match s {
            Split::Train => true,
            Split::Val => cfg.val > 0.0,
            Split::Test => cfg.test > 0.0,
        })
        .collect();
    let names: Vec<&str> = wanted.iter().map(|s| s.name()).collect();
    let mut warnings = Vec::new();
    for (c, name) in class_names.iter().enumerate() {
        let members: Vec<usize> = (0..classes.len()).filter(|&i| classes[i] == c).collect();
        let missing: Vec<&str> = wanted
            .iter()
            .filter(|&&s| !members.iter().any(|&i| assignment[i] == Some(s)))
            .map(|s| s.name())
            .collect();
        if !missing.is_empty() {
            let shown: Vec<String> =
                members.iter().take(5).map(|&i| format!("sub-{}", subjects[i])).collect();
            return Err(format!(
                "class `{name}` of column `{column}` has {} subject(s) ({}{}), too few to appear in every \
                 split ({}); its {} split would have none: correct the value in participants.tsv if it is a \
                 typo, or leave these subjects out",
                members.len(),
                shown.join(", "),
                if members.len() > 5 { ", ..." } else { "" },
                names.join(", "),
                missing.join(" and ")
            ));
        }
        if members.len() < FEW_SUBJECTS {
            let shown: Vec<String> = members.iter().map(|&i| format!("sub-{}", subjects[i])).collect();
            // Much smaller than the largest class: perhaps not a class at all.
            let largest = (0..class_names.len()).map(|k| classes.iter().filter(|&&x| x == k).count()).max();
            let typo = if largest.is_some_and(|l| 4 * members.len() < l) {
                format!("; if `{name}` is a typo or an unknown value, correct participants.tsv or write n/a")
            } else {
                String::new()
            };
            warnings.push(format!(
                "class `{name}` has only {} subjects ({}): accuracies on its few test subjects are very uncertain{typo}",
                members.len(),
                shown.join(", ")
            ));
        }
    }
    for s in &wanted {
        if !assignment.contains(&Some(*s)) {
            return Err(format!(
                "the {} split has no subject; give more subjects or change --test / --val",
                s.name()
            ));
        }
    }
    Ok(warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Table {
        Table::parse(Path::new("participants.tsv"), text.as_bytes()).expect("parse")
    }

    #[test]
    fn case_variants_duplicates_and_numbers_are_refused() {
        let t = table("participant_id\tsex\nsub-1\tM\nsub-2\tF\nsub-3\tm\nsub-4\tM\n");
        let e = check_column(&t, "sex").unwrap_err();
        assert!(e.contains("`M` (lines 2, 5)") && e.contains("`m` (line 4)"), "{e}");
        let t = table("participant_id\tsex\nsub-1\tM\nsub-2\tF\n1\tF\n");
        let e = check_column(&t, "sex").unwrap_err();
        assert!(e.contains("sub-1 is listed 2 times") && e.contains("`M` (line 2), `F` (line 4)"), "{e}");
        let t = table("participant_id\tsex\nsub-1\tM\nsub-2\tF\nsub-1\tn/a\n");
        assert!(check_column(&t, "sex").unwrap_err().contains("sub-1"));
        let ages: String = (0..14).map(|i| format!("sub-{i}\t{}\n", 5 + i)).collect();
        let e = check_column(&table(&format!("participant_id\tage\n{ages}")), "age").unwrap_err();
        assert!(e.contains("holds numbers (14 distinct values, 5 to 18)") && e.contains("--label"), "{e}");
        assert!(e.contains("--bins") && e.contains("--target numeric"), "{e}");
        let t = table("participant_id\tscore\nsub-1\t1.5\nsub-2\t2\n");
        assert!(check_column(&t, "score").unwrap_err().contains("holds numbers"));
        // A few integer codes are classes, with a warning; repeated agreeing rows are fine.
        let t = table("participant_id\tgroup\nsub-1\t1\nsub-2\t2\nsub-2\t2\n\nsub-3\tNA\n");
        let w = check_column(&t, "group").expect("codes");
        assert!(w[0].contains("numbers 1, 2"), "{w:?}");
        assert!(check_column(&table("participant_id\tsex\nsub-1\tM\nsub-2\tF\n"), "sex")
            .expect("ok")
            .is_empty());
    }

    #[test]
    fn row_lines_count_blank_lines() {
        let d = std::env::temp_dir().join(format!("eeglens-labels-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("dir");
        let _scratch = crate::scratch::Scratch(d.clone());
        let p = d.join("participants.tsv");
        std::fs::write(&p, "participant_id\tsex\nsub-1\tM\n\nsub-2\tm\n").expect("write");
        let e = check_column(&Table::read(&p).expect("read"), "sex").unwrap_err();
        assert!(e.contains("`m` (line 4)"), "{e}");
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn small_classes_and_empty_splits() {
        let subjects: Vec<String> = (1..=7).map(|i| format!("{i:03}")).collect();
        let names = vec!["F".to_string(), "M".to_string(), "X".to_string()];
        let classes = [0, 0, 0, 1, 1, 1, 2];
        let cfg = SplitConfig::default();
        let a = crate::split::split_subjects(&classes, 3, &cfg).expect("split");
        let e = check_split(&subjects, &classes, &names, &a, &cfg, "sex").unwrap_err();
        assert!(e.contains("class `X`") && e.contains("sub-007") && e.contains("val and test"), "{e}");
        let (classes, names) = ([0, 0, 0, 1, 1, 1], &names[..2]);
        let a = crate::split::split_subjects(&classes, 2, &cfg).expect("split");
        let w = check_split(&subjects[..6], &classes, names, &a, &cfg, "sex").expect("ok");
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(
            w[0].contains("only 3 subjects (sub-001, sub-002, sub-003)") && !w[0].contains("typo"),
            "{w:?}"
        );
        // A class of 3 beside one of 13: perhaps a typo.
        let subjects: Vec<String> = (1..=16).map(|i| format!("{i:03}")).collect();
        let classes: Vec<usize> = (0..16).map(|i| usize::from(i >= 3)).collect();
        let a = crate::split::split_subjects(&classes, 2, &cfg).expect("split");
        let w = check_split(&subjects, &classes, names, &a, &cfg, "sex").expect("ok");
        assert!(w.len() == 1 && w[0].contains("class `F`") && w[0].contains("typo"), "{w:?}");
        let mut no_test = a.clone();
        no_test.iter_mut().filter(|s| **s == Some(Split::Test)).for_each(|s| *s = Some(Split::Train));
        let e = check_split(&subjects[..6], &classes, names, &no_test, &cfg, "sex").unwrap_err();
        assert!(e.contains("test split would have none"), "{e}");
        // --test 0: an empty test split is what was asked for.
        let cfg0 = SplitConfig { test: 0.0, ..cfg };
        assert!(check_split(&subjects[..6], &classes, names, &no_test, &cfg0, "sex").is_ok());
    }
}

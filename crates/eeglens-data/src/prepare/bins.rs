//! A numeric label column (age, a score) made into classes by cutting it into
//! ranges: at its quantiles over the participants (`--bins 2`: at the
//! median) or at given values (`--bins 9.5,12`).
//!
//! The classes are named `<column><i><bound>` with `i` from 1: `age1<9.5`,
//! `age2<12`, `age3>=12` — the lower ranges first, so that the classes'
//! (alphabetical) order is the ranges' order for up to nine of them, and the
//! contrast of every reading (class 2 over class 1) is "older over younger".

use std::collections::BTreeMap;

use eeglens_io::tsv::Table;

use super::labels::is_missing;

/// How a numeric label column becomes classes.
#[derive(Clone, Debug, PartialEq)]
pub enum Bins {
    /// this many ranges holding as many participants as ties allow, cut at the
    /// column's quantiles over the participants of participants.tsv
    Quantiles(usize),
    /// cut at these values, ascending: one more range than values; a value
    /// equal to a cut goes to the range above it
    Edges(Vec<f64>),
}

/// Most ranges: their names sort in order up to nine.
pub const MAX_BINS: usize = 9;

impl Bins {
    /// Parses `--bins`: a count (`2`) or ascending cut values (`9.5,12`; one value is one cut).
    ///
    /// # Errors
    /// A message naming what is wrong.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if !s.contains(',') && !s.contains('.') {
            if let Ok(n) = s.parse::<usize>() {
                return Self::Quantiles(n).checked();
            }
        }
        let edges: Result<Vec<f64>, _> = s.split(',').map(|v| v.trim().parse::<f64>()).collect();
        match edges {
            Ok(e) => Self::Edges(e).checked(),
            Err(_) => Err(format!(
                "`{s}` is neither a number of ranges (2 to {MAX_BINS}) nor ascending cut values (e.g. 9.5,12)"
            )),
        }
    }

    /// The bins when they are usable.
    ///
    /// # Errors
    /// Fewer than two or more than [`MAX_BINS`] ranges; cut values not finite and ascending.
    pub fn checked(self) -> Result<Self, String> {
        match &self {
            Bins::Quantiles(n) if !(2..=MAX_BINS).contains(n) => {
                Err(format!("{n} ranges: between 2 and {MAX_BINS} are possible"))
            }
            Bins::Edges(e) if e.is_empty() || e.len() >= MAX_BINS => {
                Err(format!("{} cut values: between 1 and {} are possible", e.len(), MAX_BINS - 1))
            }
            Bins::Edges(e) if e.iter().any(|x| !x.is_finite()) || e.windows(2).any(|w| w[0] >= w[1]) => {
                Err(format!("cut values {e:?} must be finite and strictly ascending"))
            }
            _ => Ok(self),
        }
    }

    /// What the store's settings record.
    pub(crate) fn json(&self) -> serde_json::Value {
        match self {
            Bins::Quantiles(n) => serde_json::json!({ "quantiles": n }),
            Bins::Edges(e) => serde_json::json!({ "edges": e }),
        }
    }
}

/// The class name of range `i` (0-based) of `edges`.
fn class_name(column: &str, edges: &[f64], i: usize) -> String {
    if i == edges.len() {
        format!("{column}{}>={}", i + 1, edges[i - 1])
    } else {
        format!("{column}{}<{}", i + 1, edges[i])
    }
}

/// The rows of `table` with a value in column `col` (named `column`) and that value, missing
/// values left out.
///
/// # Errors
/// A one-line message naming the file and line of the first value that is not a number,
/// ending with `why` (what needs a number).
pub(crate) fn numbers(
    table: &Table,
    col: usize,
    column: &str,
    why: &str,
) -> Result<Vec<(usize, f64)>, String> {
    let mut out = Vec::new();
    for (i, row) in table.rows.iter().enumerate() {
        let v = row[col].trim();
        if is_missing(v) {
            continue;
        }
        let x = v.parse::<f64>().ok().filter(|x| x.is_finite()).ok_or_else(|| {
            format!(
                "{}: line {}: `{column}` is `{v}`, not a number; {why}",
                table.path.display(),
                table.row_lines.get(i).copied().unwrap_or(i + 2)
            )
        })?;
        out.push((i, x));
    }
    Ok(out)
}

/// `table` with `column`'s numbers replaced by their ranges' class names
/// (missing values stay missing), and the cut values used.
///
/// # Errors
/// A one-line message naming the file: a value that is not a number, too few
/// distinct values for the ranges asked for, or quantile cuts that ties make equal.
pub(crate) fn bin_column(table: &Table, column: &str, bins: &Bins) -> Result<(Table, Vec<f64>), String> {
    let path = table.path.display();
    let Some(col) = table.column(column) else { return Ok((table.clone(), Vec::new())) };
    let idcol = table.column("participant_id");
    // One value per participant (a participant listed twice counts once).
    let mut per_participant: BTreeMap<String, f64> = BTreeMap::new();
    for (i, x) in numbers(table, col, column, "--bins cuts a numeric column into ranges")? {
        let id = idcol.map_or_else(|| i.to_string(), |c| table.rows[i][c].trim().to_string());
        per_participant.insert(id, x);
    }
    let mut values: Vec<f64> = per_participant.into_values().collect();
    values.sort_by(f64::total_cmp);
    let edges = match bins {
        Bins::Edges(e) => e.clone(),
        Bins::Quantiles(n) => {
            quantile_edges(&values, *n).map_err(|why| format!("{path}: column `{column}`: {why}"))?
        }
    };
    let mut out = table.clone();
    for row in &mut out.rows {
        let v = row[col].trim();
        if is_missing(v) {
            continue;
        }
        row[col] = class_of(column, &edges, v).expect("checked above");
    }
    Ok((out, edges))
}

/// The class of value `v` (a number) among the ranges cut at `edges`; `None` when it is no number.
pub(crate) fn class_of(column: &str, edges: &[f64], v: &str) -> Option<String> {
    let x = v.trim().parse::<f64>().ok().filter(|x| x.is_finite())?;
    Some(class_name(column, edges, edges.iter().take_while(|&&e| x >= e).count()))
}

/// Cuts between sorted `values` so that each of `n` ranges holds about as many.
fn quantile_edges(values: &[f64], n: usize) -> Result<Vec<f64>, String> {
    let distinct = values.windows(2).filter(|w| w[0] != w[1]).count() + usize::from(!values.is_empty());
    if distinct < n {
        return Err(format!("{distinct} distinct value(s) cannot make {n} ranges"));
    }
    let mut edges = Vec::with_capacity(n - 1);
    for j in 1..n {
        let k = (j * values.len()).div_ceil(n).clamp(1, values.len() - 1);
        // Between the last value below the cut and the first at or above it.
        let edge = if values[k - 1] == values[k] { values[k] } else { (values[k - 1] + values[k]) / 2.0 };
        if edges.last().is_some_and(|&last| edge <= last) {
            return Err(format!(
                "tied values make two of the {n} quantile cuts equal ({edge}); give the cut values"
            ));
        }
        edges.push(edge);
    }
    Ok(edges)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Table {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("eeglens-data-bins-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let _scratch = crate::scratch::Scratch(dir.clone());
        let p = dir.join(format!("participants-{}.tsv", text.len()));
        std::fs::write(&p, text).unwrap();
        let t = Table::read(&p).unwrap();
        std::fs::remove_file(&p).unwrap();
        t
    }

    #[test]
    fn two_quantile_ranges_cut_at_the_median_and_name_the_ranges_in_order() {
        let t = table("participant_id\tage\nsub-1\t6.5\nsub-2\t8\nsub-3\t11\nsub-4\t15.2\nsub-5\tn/a\n");
        let (b, edges) = bin_column(&t, "age", &Bins::Quantiles(2)).unwrap();
        assert_eq!(edges, vec![9.5]);
        let col: Vec<&str> = b.rows.iter().map(|r| r[1].as_str()).collect();
        assert_eq!(col, ["age1<9.5", "age1<9.5", "age2>=9.5", "age2>=9.5", "n/a"]);
        let mut names = col[..4].to_vec();
        names.sort();
        assert_eq!(names[0], "age1<9.5", "the lower range sorts first");
    }

    #[test]
    fn given_cuts_put_a_value_equal_to_a_cut_above_it() {
        let t = table("participant_id\tscore\nsub-1\t1\nsub-2\t5\nsub-3\t7\nsub-4\t12\n");
        let (b, _) = bin_column(&t, "score", &Bins::Edges(vec![5.0, 10.0])).unwrap();
        let col: Vec<&str> = b.rows.iter().map(|r| r[1].as_str()).collect();
        assert_eq!(col, ["score1<5", "score2<10", "score2<10", "score3>=10"]);
    }

    #[test]
    fn three_quantiles_hold_a_third_each() {
        let rows: String = (1..=9).map(|i| format!("sub-{i}\t{i}\n")).collect();
        let t = table(&format!("participant_id\tage\n{rows}"));
        let (b, edges) = bin_column(&t, "age", &Bins::Quantiles(3)).unwrap();
        assert_eq!(edges, vec![3.5, 6.5]);
        for name in ["age1<3.5", "age2<6.5", "age3>=6.5"] {
            assert_eq!(b.rows.iter().filter(|r| r[1] == name).count(), 3, "{name}");
        }
    }

    #[test]
    fn words_too_few_values_and_bad_settings_are_refused() {
        let t = table("participant_id\tage\nsub-1\t6\nsub-2\tten\n");
        let e = bin_column(&t, "age", &Bins::Quantiles(2)).unwrap_err();
        assert!(e.contains("line 3") && e.contains("`ten`, not a number"), "{e}");
        let t = table("participant_id\tage\nsub-1\t6\nsub-2\t6\nsub-3\t6\n");
        assert!(bin_column(&t, "age", &Bins::Quantiles(2)).unwrap_err().contains("1 distinct value"));
        assert_eq!(Bins::parse("2"), Ok(Bins::Quantiles(2)));
        assert_eq!(Bins::parse("9.5,12"), Ok(Bins::Edges(vec![9.5, 12.0])));
        assert_eq!(Bins::parse("10.0"), Ok(Bins::Edges(vec![10.0])));
        assert!(Bins::parse("1").is_err() && Bins::parse("12,9").is_err() && Bins::parse("young").is_err());
    }
}

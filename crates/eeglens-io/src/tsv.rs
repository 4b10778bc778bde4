//! Tab-separated tables as BIDS writes them (`participants.tsv`, `*_channels.tsv`, `*_events.tsv`).
//!
//! The first line holds the column names. A UTF-8 byte-order mark and CRLF line endings are
//! tolerated; blank lines are skipped; every row must have as many fields as the header.

use std::path::{Path, PathBuf};

use crate::IoError;

/// A parsed table: column names and rows of string cells (`n/a` kept as written).
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The file it came from.
    pub path: PathBuf,
    /// Column names, trimmed.
    pub columns: Vec<String>,
    /// Rows of cells, each as long as `columns`.
    pub rows: Vec<Vec<String>>,
    /// The 1-based line of each row in the file (blank lines are skipped, so not always its
    /// index + 2), for messages about a cell.
    pub row_lines: Vec<usize>,
}

impl Table {
    /// Reads and parses a TSV file.
    ///
    /// # Errors
    /// [`IoError::Os`] when unreadable, [`IoError::Text`] for an empty file, invalid UTF-8 or a row
    /// whose field count differs from the header's.
    pub fn read(path: &Path) -> Result<Table, IoError> {
        let bytes = crate::files::read_regular(path)?;
        Table::parse(path, &bytes)
    }

    /// Parses TSV bytes; `path` is used in errors.
    ///
    /// # Errors
    /// As [`Table::read`].
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Table, IoError> {
        let text_err = |line: usize, what: String| IoError::Text { path: path.to_path_buf(), line, what };
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let text = std::str::from_utf8(bytes).map_err(|e| {
            let line = bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count() + 1;
            text_err(line, "not valid UTF-8".into())
        })?;
        let mut lines = text.split('\n').enumerate().map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)));
        let (_, header) = lines
            .by_ref()
            .find(|(_, l)| !l.trim().is_empty())
            .ok_or_else(|| text_err(1, "empty table: no header line".into()))?;
        let columns: Vec<String> = header.split('\t').map(|c| c.trim().to_string()).collect();
        let mut rows = Vec::new();
        let mut row_lines = Vec::new();
        for (n, line) in lines {
            if line.trim().is_empty() {
                continue;
            }
            let cells: Vec<String> = line.split('\t').map(|c| c.trim().to_string()).collect();
            if cells.len() != columns.len() {
                return Err(text_err(
                    n,
                    format!("{} fields where the header has {} columns", cells.len(), columns.len()),
                ));
            }
            rows.push(cells);
            row_lines.push(n);
        }
        Ok(Table { path: path.to_path_buf(), columns, rows, row_lines })
    }

    /// Index of a column by name (exact, then case-insensitive).
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| c == name)
            .or_else(|| self.columns.iter().position(|c| c.eq_ignore_ascii_case(name)))
    }

    /// The cell at `row` in column `name`, `None` when the column is absent or the cell is `n/a`
    /// or empty.
    pub fn get(&self, row: usize, name: &str) -> Option<&str> {
        let c = self.column(name)?;
        let v = self.rows.get(row)?.get(c)?.as_str();
        (!v.is_empty() && v != "n/a").then_some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_crlf_and_blank_lines() {
        let t = Table::parse(
            Path::new("p.tsv"),
            b"\xEF\xBB\xBFparticipant_id\tsex\tage\r\nsub-01\tF\t10.5\r\n\r\nsub-02\tM\tn/a\r\n",
        )
        .expect("parses");
        assert_eq!(t.columns, ["participant_id", "sex", "age"]);
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.get(0, "age"), Some("10.5"));
        assert_eq!(t.get(1, "age"), None);
        assert_eq!(t.get(1, "Sex"), Some("M"));
        assert_eq!(t.row_lines, [2, 4]);
    }

    #[test]
    fn ragged_row_names_its_line() {
        let e = Table::parse(Path::new("p.tsv"), b"a\tb\n1\t2\n3\n").expect_err("ragged");
        assert!(matches!(e, IoError::Text { line: 3, .. }), "{e}");
    }
}

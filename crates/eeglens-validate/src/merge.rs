//! The output directory, and joining cells into `validate.json`.
//!
//! # The output directory
//! `OUT/grid.json` names the grid the directory belongs to; `OUT/cells/`
//! holds one directory per cell; `OUT/validate.json` and
//! `OUT/validate.html` are written when every cell is there. [`claim_out`]
//! decides whether a run may use a directory: a new or empty one, or one of
//! the same grid (a rerun: finished cells are skipped). Another grid's
//! directory is refused unless `replace` is set, and then only its own files
//! (`grid.json`, `cells/`, `validate.*`) are removed; a directory that is not
//! a validation output is never written into.
//!
//! # Merging
//! [`collect`] reads every `cell.json` under the given directories (`DIR/cells/*/`,
//! `DIR/*/` or `DIR` itself) and [`assemble`] checks that they are one
//! grid: one grid hash, every cell present once, each where the grid puts
//! it, one training recipe; it names what is missing or duplicated.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cell::{read_cell_file, sum_seconds, write_atomic, CellFile, CellResult, StageSeconds};
use crate::error::{io, ValidateError};
use crate::grid::GridSpec;
use crate::summary::{summarise, Summary};

/// The format tag of `validate.json`.
pub const SCHEMA: &str = "eeglens-validate/1";
/// The format tag of `grid.json`.
pub const GRID_SCHEMA: &str = "eeglens-validate-grid/1";

/// Files and directories of an output directory that are ours to replace.
const OWN: [&str; 4] = ["grid.json", "cells", "validate.json", "validate.html"];

/// `OUT/grid.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GridFile {
    /// [`GRID_SCHEMA`]
    pub schema: String,
    /// [`GridSpec::hash`]
    pub grid_hash: String,
    /// the grid
    pub grid: GridSpec,
}

/// Makes `out` the output directory of `grid`, writing `out/grid.json`.
///
/// # Errors
/// [`ValidateError::Out`] when `out` holds another grid (and `replace` is
/// off) or is not a validation output; [`ValidateError::Io`].
pub fn claim_out(out: &Path, grid: &GridSpec, replace: bool) -> Result<(), ValidateError> {
    let hash = grid.hash();
    let grid_json = out.join("grid.json");
    if grid_json.is_file() {
        let text = std::fs::read_to_string(&grid_json).map_err(io(&grid_json))?;
        let old: GridFile = serde_json::from_str(&text).map_err(|e| ValidateError::Json {
            path: grid_json.clone(),
            msg: format!("not a grid.json: {e}"),
        })?;
        if old.grid_hash == hash {
            return Ok(());
        }
        if !replace {
            return Err(ValidateError::Out {
                path: out.to_path_buf(),
                msg: format!(
                    "holds the results of another grid (hash {}, this grid {hash}); choose another --out or pass --force to replace them",
                    old.grid_hash
                ),
            });
        }
        for name in OWN {
            let p = out.join(name);
            if p.is_dir() {
                std::fs::remove_dir_all(&p).map_err(io(&p))?;
            } else if p.exists() {
                std::fs::remove_file(&p).map_err(io(&p))?;
            }
        }
    } else if out.exists() {
        let entries = std::fs::read_dir(out).map_err(io(out))?;
        for e in entries {
            let e = e.map_err(io(out))?;
            let name = e.file_name().to_string_lossy().into_owned();
            // A concurrent task of the same job array may be writing grid.json right now.
            if !(OWN.contains(&name.as_str()) || name.starts_with(".tmp-")) {
                return Err(ValidateError::Out {
                    path: out.to_path_buf(),
                    msg: format!(
                        "exists and is not an `eeglens validate` output (it holds `{name}` and no grid.json); choose another --out"
                    ),
                });
            }
        }
    }
    std::fs::create_dir_all(out.join("cells")).map_err(io(out))?;
    let file = GridFile { schema: GRID_SCHEMA.into(), grid_hash: hash, grid: grid.clone() };
    write_atomic(&grid_json, serde_json::to_string_pretty(&file).expect("serialises").as_bytes())
}

/// Every `cell.json` under `dirs`: `DIR/cell.json`, `DIR/*/cell.json` and
/// `DIR/cells/*/cell.json`, with the path each was read from.
///
/// # Errors
/// [`ValidateError::Merge`] when a directory holds no cell;
/// [`ValidateError::Io`] / [`ValidateError::Json`] for unreadable files.
pub fn collect(dirs: &[PathBuf]) -> Result<Vec<(PathBuf, CellFile)>, ValidateError> {
    let mut out = Vec::new();
    for dir in dirs {
        if !dir.is_dir() {
            return Err(ValidateError::Merge(format!("{}: not a directory", dir.display())));
        }
        let mut paths = Vec::new();
        let direct = dir.join("cell.json");
        if direct.is_file() {
            paths.push(direct);
        }
        for sub in [dir.to_path_buf(), dir.join("cells")] {
            if !sub.is_dir() {
                continue;
            }
            let mut entries: Vec<PathBuf> = std::fs::read_dir(&sub)
                .map_err(io(&sub))?
                .filter_map(|e| e.ok().map(|e| e.path().join("cell.json")))
                .filter(|p| p.is_file())
                .collect();
            entries.sort();
            paths.extend(entries);
        }
        if paths.is_empty() {
            return Err(ValidateError::Merge(format!(
                "{}: no cells (looked for {0}/cells/*/cell.json, {0}/*/cell.json and {0}/cell.json)",
                dir.display()
            )));
        }
        for p in paths {
            let f = read_cell_file(&p)?;
            out.push((p, f));
        }
    }
    Ok(out)
}

/// `validate.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ValidateDoc {
    /// [`SCHEMA`]
    pub schema: String,
    /// [`GridSpec::hash`]
    pub grid_hash: String,
    /// the grid
    pub grid: GridSpec,
    /// the build of eeglens that computed every cell ([`crate::cell::build_id`]);
    /// absent for cells written before builds were recorded
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build: Option<String>,
    /// the training recipe (seed 0 shown; each cell trains with its own seed)
    pub train: eeglens_train::TrainConfig,
    /// how the interpretation differs from `eeglens interpret`'s defaults
    pub interpret_note: String,
    /// every cell, in index order
    pub cells: Vec<CellResult>,
    /// rates and checks
    pub summary: Summary,
    /// seconds per stage summed over the cells
    pub seconds: StageSeconds,
}

/// The note on the interpretation settings that `validate.json` and the page carry.
pub fn interpret_note(grid: &GridSpec) -> String {
    let s = &grid.interpret;
    let over = grid.folds.map_or(String::new(), |k| {
        format!(
            "; each cell is a {k}-fold cross-validation, every subject tested and read once by the fold that never saw it"
        )
    });
    format!(
        "cells are interpreted with activation maximisation cut to {} restarts x {} steps ({} windows per restart) and {} permutations, k = {}, alpha = {} (eeglens interpret: 8 restarts x 100 steps, 2000 permutations){over}",
        s.restarts, s.steps, s.windows_per_restart, s.permutations, s.k, s.alpha
    )
}

/// Checks that `files` are exactly the cells of one grid and builds the document.
///
/// # Errors
/// [`ValidateError::Merge`] naming the grids that differ, the cells that
/// are missing or duplicated, or the files that do not fit the grid.
pub fn assemble(files: Vec<(PathBuf, CellFile)>) -> Result<ValidateDoc, ValidateError> {
    let Some((first_path, first)) = files.first() else {
        return Err(ValidateError::Merge("no cells to merge".into()));
    };
    let grid = first.grid.clone();
    let hash = grid.hash();
    if first.grid_hash != hash {
        return Err(ValidateError::Merge(format!(
            "{}: grid_hash {} does not match its grid (hash {hash}); the file was edited or written by another version",
            first_path.display(),
            first.grid_hash
        )));
    }
    let recipe = |f: &CellFile| eeglens_train::TrainConfig { seed: 0, ..f.train.clone() };
    let expected = grid.cells();
    let mut slots: Vec<Option<(PathBuf, CellFile)>> = vec![None; expected.len()];
    for (path, f) in files.iter().cloned() {
        if f.grid_hash != hash {
            return Err(ValidateError::Merge(format!(
                "cells of different grids: {} is of grid {}, {} of grid {hash}",
                path.display(),
                f.grid_hash,
                first_path.display()
            )));
        }
        let i = f.cell.index;
        if i >= expected.len() || f.cell != expected[i] {
            return Err(ValidateError::Merge(format!(
                "{}: cell {} is not cell {i} of the grid",
                path.display(),
                f.cell.name
            )));
        }
        if f.build != first.build {
            let name = |b: &Option<String>| b.clone().unwrap_or_else(|| "unrecorded".into());
            return Err(ValidateError::Merge(format!(
                "{} and {}: computed by different builds of eeglens ({} and {}); recompute the older cells with this build (--force) so that one build's defaults judge the whole grid",
                path.display(),
                first_path.display(),
                name(&f.build),
                name(&first.build)
            )));
        }
        if recipe(&f) != recipe(first) {
            return Err(ValidateError::Merge(format!(
                "{} and {}: trained with different recipes (the training defaults changed between runs)",
                path.display(),
                first_path.display()
            )));
        }
        if let Some((other, _)) = &slots[i] {
            return Err(ValidateError::Merge(format!(
                "cell {} twice: {} and {}",
                f.cell.name,
                other.display(),
                path.display()
            )));
        }
        slots[i] = Some((path, f));
    }
    let missing: Vec<&str> =
        expected.iter().zip(&slots).filter(|(_, s)| s.is_none()).map(|(c, _)| c.name.as_str()).collect();
    if !missing.is_empty() {
        let shown: Vec<&str> = missing.iter().take(10).copied().collect();
        let more = if missing.len() > shown.len() {
            format!(" and {} more", missing.len() - shown.len())
        } else {
            String::new()
        };
        return Err(ValidateError::Merge(format!(
            "{} of {} cells missing: {}{more}",
            missing.len(),
            expected.len(),
            shown.join(", ")
        )));
    }
    let cells: Vec<CellResult> = slots.into_iter().map(|s| s.expect("checked above").1.result).collect();
    let seconds = sum_seconds(&cells);
    Ok(ValidateDoc {
        schema: SCHEMA.into(),
        grid_hash: hash,
        build: first.build.clone(),
        train: recipe(first),
        interpret_note: interpret_note(&grid),
        summary: summarise(&cells),
        grid,
        cells,
        seconds,
    })
}

/// Writes `validate.json` and `validate.html` into `out`.
///
/// # Errors
/// [`ValidateError::Io`].
pub fn write_doc(doc: &ValidateDoc, out: &Path) -> Result<(PathBuf, PathBuf), ValidateError> {
    std::fs::create_dir_all(out).map_err(io(out))?;
    let json = out.join("validate.json");
    let html = out.join("validate.html");
    write_atomic(&json, serde_json::to_string_pretty(doc).expect("serialises").as_bytes())?;
    write_atomic(&html, crate::html::page(doc).as_bytes())?;
    Ok((json, html))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cell::{CellFile, CELL_SCHEMA};
    use crate::grid::GridSpec;
    use crate::summary::tests::cell;

    fn tiny() -> GridSpec {
        let mut g = GridSpec::quick("rvgg");
        g.bands.truncate(1);
        g.places = crate::grid::Place::standard();
        g.places.truncate(2);
        g.nulls = 1;
        g
    }

    fn files(g: &GridSpec) -> Vec<(PathBuf, CellFile)> {
        g.cells()
            .into_iter()
            .map(|c| {
                let mut r = cell(c.index, c.size, 1.0, 0.9, true, (Some("theta"), true, true));
                r.name = c.name.clone();
                let f = CellFile {
                    schema: CELL_SCHEMA.into(),
                    grid_hash: g.hash(),
                    grid: g.clone(),
                    cell: c.clone(),
                    train: crate::cell::train_config(g, &c),
                    threads: 2,
                    version: "test".into(),
                    build: Some("test+000000000000".into()),
                    result: r,
                };
                (PathBuf::from(format!("out/cells/{}/cell.json", c.name)), f)
            })
            .collect()
    }

    fn merge_err(files: Vec<(PathBuf, CellFile)>) -> String {
        match assemble(files) {
            Err(ValidateError::Merge(m)) => m,
            other => panic!("expected a merge error, got {other:?}"),
        }
    }

    #[test]
    fn a_complete_grid_merges() {
        let g = tiny();
        let doc = assemble(files(&g)).unwrap();
        assert_eq!(doc.cells.len(), 3);
        assert_eq!(doc.build.as_deref(), Some("test+000000000000"));
        assert_eq!(doc.grid_hash, g.hash());
        assert_eq!(doc.summary.effect_cells, 2);
        // Order of the files does not matter.
        let mut rev = files(&g);
        rev.reverse();
        assert_eq!(assemble(rev).unwrap().cells, doc.cells);
    }

    #[test]
    fn merge_names_the_missing_cell() {
        let g = tiny();
        let mut f = files(&g);
        let gone = f.remove(1).1.cell.name;
        let m = merge_err(f);
        assert!(m.contains("1 of 3 cells missing") && m.contains(&gone), "{m}");
    }

    #[test]
    fn merge_refuses_a_duplicate_and_another_grid() {
        let g = tiny();
        let mut f = files(&g);
        let mut dup = f[0].clone();
        dup.0 = PathBuf::from("other/cells/x/cell.json");
        f.push(dup);
        assert!(merge_err(f).contains("twice"));

        let mut f = files(&g);
        let mut h = g.clone();
        h.epochs += 1;
        let other = files(&h);
        f[2] = other[2].clone();
        let m = merge_err(f);
        assert!(m.contains("different grids") && m.contains(&h.hash()), "{m}");

        // A hand-edited grid no longer matches its hash.
        let mut f = files(&g);
        f[0].1.grid.epochs += 1;
        assert!(merge_err(f).contains("does not match its grid"));
    }

    #[test]
    fn merge_refuses_cells_of_two_builds() {
        let g = tiny();
        let mut f = files(&g);
        f[1].1.build = Some("test+111111111111".into());
        let m = merge_err(f);
        assert!(m.contains("different builds") && m.contains("test+111111111111"), "{m}");
        // Cells written before builds were recorded merge among themselves.
        let mut f = files(&g);
        f.iter_mut().for_each(|(_, c)| c.build = None);
        assert_eq!(assemble(f).unwrap().cells.len(), 3);
    }

    #[test]
    fn out_dir_is_claimed_once_per_grid() {
        let dir = std::env::temp_dir().join(format!("eeglens-validate-claim-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let _scratch = crate::scratch::Scratch(dir.clone());
        let g = tiny();
        claim_out(&dir, &g, false).unwrap();
        claim_out(&dir, &g, false).unwrap();
        let mut h = g.clone();
        h.seeds = vec![1];
        let e = claim_out(&dir, &h, false).unwrap_err().to_string();
        assert!(e.contains("another grid") && e.contains("--force"), "{e}");
        std::fs::create_dir_all(dir.join("cells/000-x")).unwrap();
        claim_out(&dir, &h, true).unwrap();
        assert!(!dir.join("cells/000-x").exists());
        // A folder of the user's is never taken over.
        let user = dir.join("user");
        std::fs::create_dir_all(&user).unwrap();
        std::fs::write(user.join("notes.txt"), "mine").unwrap();
        let e = claim_out(&user, &g, true).unwrap_err().to_string();
        assert!(e.contains("not an `eeglens validate` output"), "{e}");
        assert!(user.join("notes.txt").exists());
    }
}

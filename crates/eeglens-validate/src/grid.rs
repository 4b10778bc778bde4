//! [`GridSpec`]: the whole grid in one serialisable struct (data size,
//! training length, bands, places, sizes, seeds, interpretation settings),
//! its hash, and the cells it enumerates.
//!
//! # Cells
//! [`GridSpec::cells`] lists the cells in a fixed order: for each seed, for
//! each non-zero size, for each band, for each place one *effect cell*; then,
//! when `sizes` holds 0, `nulls` *null cells* (no planted effect) per seed.
//! A cell's index is its position in that list; its name
//! (`007-theta-central-s3-seed0`, `012-null1-s0-seed0`) is its directory.
//!
//! Every cell draws its own data: the generator's seed is a hash of the
//! cell's seed, band, place, size and null replicate (not of its index, so
//! adding a band to the grid does not change the other cells' data). The
//! cell's seed is also the training and interpretation seed.
//!
//! # Partition
//! [`partition`] gives task `i` of `n` (0-based: `i` in `0..n`) the cells
//! `i, i + n, i + 2n, ...`, so `--cell $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT`
//! under `sbatch --array=0-(n-1)` runs every cell exactly once.

use eeglens_data::synth::{HeadModel, SynthConfig, SynthFormat};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::ValidateError;

/// The 24 channels every synthetic data set has (the HBN subset).
pub const CHANNELS: [&str; 24] = [
    "Fp1", "Fp2", "F7", "F3", "Fz", "F4", "F8", "FC3", "FCz", "FC4", "T3", "C3", "C4", "T4", "CP3", "CPz",
    "CP4", "T5", "P3", "Pz", "P4", "T6", "O1", "Cz",
];

/// A planted frequency band.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlantedBand {
    /// name, used in cell names (no spaces)
    pub name: String,
    /// lower edge, Hz
    pub lo: f64,
    /// upper edge, Hz
    pub hi: f64,
}

impl PlantedBand {
    fn new(name: &str, lo: f64, hi: f64) -> Self {
        Self { name: name.into(), lo, hi }
    }

    /// The band's centre, Hz: what a reading band must contain to be a hit.
    pub fn centre(&self) -> f64 {
        (self.lo + self.hi) / 2.0
    }

    /// The five standard bands: delta 1–4, theta 4–8, alpha 8–13, low-beta
    /// 13–20, high-beta 20–30 Hz. (Preparation low-passes at 25 Hz by
    /// default, so high beta reaches the network as 20–25 Hz.)
    pub fn standard() -> Vec<PlantedBand> {
        vec![
            Self::new("delta", 1.0, 4.0),
            Self::new("theta", 4.0, 8.0),
            Self::new("alpha", 8.0, 13.0),
            Self::new("low-beta", 13.0, 20.0),
            Self::new("high-beta", 20.0, 30.0),
        ]
    }

    /// A standard band by name (`low-beta`, `low_beta` and `lowbeta` alike), or
    /// `NAME:LO-HI` for any other band.
    ///
    /// # Errors
    /// [`ValidateError::Grid`] naming the item.
    pub fn parse(s: &str) -> Result<Self, ValidateError> {
        let s = s.trim();
        if let Some((name, range)) = s.split_once(':') {
            let (lo, hi) = parse_range(range).map_err(|e| ValidateError::Grid(format!("band `{s}`: {e}")))?;
            let b = Self::new(&slug(name), lo, hi);
            if b.name.is_empty() {
                return Err(ValidateError::Grid(format!("band `{s}`: empty name")));
            }
            return Ok(b);
        }
        let key = slug(s).replace('-', "");
        Self::standard().into_iter().find(|b| b.name.replace('-', "") == key).ok_or_else(|| {
            ValidateError::Grid(format!(
                "band `{s}`: expected one of delta, theta, alpha, low-beta, high-beta, or NAME:LO-HI"
            ))
        })
    }
}

/// A set of electrodes the effect is planted at.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Place {
    /// name, used in cell names (no spaces)
    pub name: String,
    /// the electrodes
    pub channels: Vec<String>,
}

impl Place {
    fn new(name: &str, channels: &[&str]) -> Self {
        Self { name: name.into(), channels: channels.iter().map(|c| c.to_string()).collect() }
    }

    /// Four disjoint sets of five electrodes: frontal, central, temporal, parieto-occipital.
    pub fn standard() -> Vec<Place> {
        vec![
            Self::new("frontal", &["Fp1", "Fp2", "F3", "Fz", "F4"]),
            Self::new("central", &["FC3", "FCz", "FC4", "C3", "C4"]),
            Self::new("temporal", &["F7", "T3", "T5", "T4", "F8"]),
            Self::new("parieto-occipital", &["P3", "Pz", "P4", "O1", "T6"]),
        ]
    }

    /// A standard place by name (`po` for parieto-occipital), or
    /// `NAME:CH+CH+...` for any set of the 24 channels.
    ///
    /// # Errors
    /// [`ValidateError::Grid`] naming the item or the unknown channel.
    pub fn parse(s: &str) -> Result<Self, ValidateError> {
        let s = s.trim();
        if let Some((name, list)) = s.split_once(':') {
            let channels: Vec<String> =
                list.split('+').map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect();
            if channels.is_empty() || slug(name).is_empty() {
                return Err(ValidateError::Grid(format!("place `{s}`: expected NAME:CH+CH+...")));
            }
            for c in &channels {
                if !CHANNELS.iter().any(|k| k.eq_ignore_ascii_case(c)) {
                    return Err(ValidateError::Grid(format!(
                        "place `{s}`: `{c}` is not one of the 24 channels ({})",
                        CHANNELS.join(", ")
                    )));
                }
            }
            let channels = channels
                .iter()
                .map(|c| {
                    CHANNELS.iter().find(|k| k.eq_ignore_ascii_case(c)).expect("checked above").to_string()
                })
                .collect();
            return Ok(Self { name: slug(name), channels });
        }
        let key = match slug(s).as_str() {
            "po" | "parietooccipital" | "parieto-occipital" | "posterior" => "parieto-occipital".to_string(),
            other => other.to_string(),
        };
        Self::standard().into_iter().find(|p| p.name == key).ok_or_else(|| {
            ValidateError::Grid(format!(
                "place `{s}`: expected one of frontal, central, temporal, parieto-occipital, or NAME:CH+CH+..."
            ))
        })
    }
}

/// The interpretation settings of every cell: activation maximisation is
/// cut to a quarter of `eeglens interpret`'s work (8 restarts x 8 windows x
/// 100 steps) to fit the grid's time budget, by fewer windows per restart
/// and fewer steps — not fewer restarts: under band gains the classes'
/// patterns are read pair by pair (one pair per restart) and the test swaps
/// labels within pairs, so `r` restarts allow no p below `2^(1-r)` (4
/// restarts: 0.125, never a claim; 8: 0.008).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InterpretSettings {
    /// activation-maximisation restarts per class
    pub restarts: usize,
    /// activation-maximisation steps
    pub steps: usize,
    /// windows one set of gains is applied to
    pub windows_per_restart: usize,
    /// permutations of each permutation test
    pub permutations: usize,
    /// windows per class kept by optimal samples and the deconvnet
    pub k: usize,
    /// significance level of the band contrasts
    pub alpha: f64,
}

impl Default for InterpretSettings {
    fn default() -> Self {
        Self { restarts: 8, steps: 50, windows_per_restart: 4, permutations: 1000, k: 20, alpha: 0.05 }
    }
}

/// Everything that defines a grid. Two runs with equal specs (equal
/// [`GridSpec::hash`]) produce cells that merge into one grid.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GridSpec {
    /// synthetic subjects per data set (balanced by class)
    pub subjects: usize,
    /// minutes of recording per subject
    pub minutes: f64,
    /// fraction of subjects held out for testing (the windows the network
    /// is scored on and the interpretation reads)
    pub test: f64,
    /// fraction of subjects for validation (early stopping, best checkpoint)
    pub val: f64,
    /// zoo model trained in every cell
    pub model: String,
    /// training epochs (the rest of the recipe is `TrainConfig::default()`)
    pub epochs: usize,
    /// planted bands
    pub bands: Vec<PlantedBand>,
    /// planted places
    pub places: Vec<Place>,
    /// effect sizes (added band power relative to what is there); 0 adds null cells
    pub sizes: Vec<f64>,
    /// seeds: each effect cell and each null runs once per seed
    pub seeds: Vec<u64>,
    /// null data sets per seed (when `sizes` holds 0)
    pub nulls: usize,
    /// interpretation settings
    pub interpret: InterpretSettings,
    /// subject-wise cross-validation: each cell trains this many folds and
    /// reads every subject once, by the fold whose model never saw it
    /// (`eeglens train --folds`, `eeglens interpret --run PARENT`); `None`
    /// trains once on the store's split and reads its test subjects
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folds: Option<usize>,
    /// worker threads of each cell's training (`eeglens train --threads`). Training is
    /// deterministic for a given thread count, not across thread counts (the sums of a
    /// batch split differently), so a grid run as a job array on nodes of different sizes
    /// reproduces only with this fixed; part of the grid, so cells trained with another
    /// count are another grid. `None`: training's default (one per core)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<usize>,
    /// how each cell's data set is recorded (electrodes, file format, head model); absent
    /// from the JSON, and so from the hash, when it is the default (24 electrodes in EDF,
    /// the kernel head model)
    #[serde(default, skip_serializing_if = "Recording::is_default")]
    pub recording: Recording,
}

/// How the cells' synthetic data sets are recorded, as `eeglens synth --montage --format
/// --head-model` would write them. Preparation always keeps the paper's 24 channels (by their
/// 10-20 names, found on EGI's net by position), so a grid recorded on the HydroCel-129 net
/// in EEGLAB files runs the whole path a Healthy Brain Network data set takes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recording {
    /// `hbn24` (the paper's 24 electrodes) or `hydrocel129` (EGI's 129-electrode net)
    pub montage: String,
    /// `edf`, `bdf` or `set` (EEGLAB `.set` + `.fdt`, with HBN's event codes and columns)
    pub format: String,
    /// `kernel` or `sphere` (dipoles in a homogeneous sphere)
    pub head_model: String,
}

impl Default for Recording {
    fn default() -> Self {
        Self { montage: "hbn24".into(), format: "edf".into(), head_model: "kernel".into() }
    }
}

impl Recording {
    /// The recording of a Healthy Brain Network data set: the HydroCel-129 net, EEGLAB
    /// files, the sphere head model.
    pub fn hbn() -> Self {
        Self { montage: "hydrocel129".into(), format: "set".into(), head_model: "sphere".into() }
    }

    /// Whether this is the default recording (absent from `grid.json`).
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// The generator's defaults on this recording's electrodes and head model, and the
    /// file format; each field is checked by name.
    ///
    /// # Errors
    /// [`ValidateError::Grid`] naming the field and what it accepts.
    pub fn synth(&self) -> Result<(SynthConfig, SynthFormat), ValidateError> {
        let mut c = match self.montage.to_ascii_lowercase().as_str() {
            "hbn24" => SynthConfig::hbn24(),
            "hydrocel129" | "gsn-hydrocel-129" | "egi129" => SynthConfig::hydrocel129(),
            other => {
                return Err(ValidateError::Grid(format!("montage `{other}`: expected hbn24 or hydrocel129")))
            }
        };
        c.head_model = HeadModel::parse(&self.head_model)
            .map_err(|e| ValidateError::Grid(format!("head model: {e}")))?;
        let format =
            SynthFormat::parse(&self.format).map_err(|e| ValidateError::Grid(format!("format: {e}")))?;
        Ok((c, format))
    }

    /// One line for logs and pages, e.g. `hydrocel129 electrodes in set files, sphere head model`.
    pub fn describe(&self) -> String {
        format!("{} electrodes in {} files, {} head model", self.montage, self.format, self.head_model)
    }
}

impl GridSpec {
    /// The full grid: 5 bands x 4 places x sizes 1.5 (near the baseline's
    /// detection threshold at this data size) and 3 (the demo's), 1 seed,
    /// plus 8 nulls: 48 cells of 40 subjects x 2 minutes, 12 epochs.
    ///
    /// The split holds out a quarter of the subjects for testing (5 per
    /// class) and a fifth for validation, leaving 22 for training (as many
    /// as `prepare`'s default split of 40). The default 12.5 % would test on
    /// 3 subjects per class: the interpretation's claims are floored by the
    /// network's discrimination p, a permutation test over test subjects,
    /// whose smallest value is then 1 / C(6, 3) = 0.05, so no method could
    /// ever claim a band; with 5 per class it is 1 / 252.
    pub fn full(model: &str) -> Self {
        Self {
            subjects: 40,
            minutes: 2.0,
            test: 0.25,
            val: 0.2,
            model: model.into(),
            epochs: 12,
            bands: PlantedBand::standard(),
            places: Place::standard(),
            sizes: vec![0.0, 1.5, 3.0],
            seeds: vec![0],
            nulls: 8,
            interpret: InterpretSettings::default(),
            folds: None,
            threads: None,
            recording: Recording::default(),
        }
    }

    /// The quick grid: theta, alpha and high beta at central electrodes,
    /// size 3, plus 2 nulls: 5 cells, about 10 minutes on 2 cores. In the
    /// full grids, theta and alpha at central electrodes were detectable and
    /// learned in both seeds, high beta (at 40 subjects) in neither: the quick
    /// grid shows a reading where there is one to read, and silence where
    /// the data do not carry the effect and where there is none.
    pub fn quick(model: &str) -> Self {
        let pick = |names: &[&str]| -> Vec<PlantedBand> {
            PlantedBand::standard().into_iter().filter(|b| names.contains(&b.name.as_str())).collect()
        };
        let places: Vec<Place> = Place::standard().into_iter().filter(|p| p.name == "central").collect();
        Self {
            bands: pick(&["theta", "alpha", "high-beta"]),
            places,
            sizes: vec![0.0, 3.0],
            nulls: 2,
            ..Self::full(model)
        }
    }

    /// Checks the spec.
    ///
    /// # Errors
    /// [`ValidateError::Grid`] naming the field.
    pub fn validate(&self) -> Result<(), ValidateError> {
        let bad = |m: String| Err(ValidateError::Grid(m));
        if self.subjects < 8 {
            return bad(format!(
                "subjects {}: need at least 8 (train, validation and test subjects of both classes)",
                self.subjects
            ));
        }
        if !(self.minutes.is_finite() && self.minutes > 0.0) {
            return bad(format!("minutes {}: must be positive", self.minutes));
        }
        let ok = |f: f64| f > 0.0 && f < 1.0;
        if !(ok(self.test) && ok(self.val) && self.test + self.val < 1.0) {
            return bad(format!(
                "split test {} and validation {}: each must be in (0, 1) and leave subjects for training",
                self.test, self.val
            ));
        }
        if self.epochs == 0 {
            return bad("epochs 0: need at least 1".into());
        }
        if self.threads == Some(0) {
            return bad("threads 0: need at least 1".into());
        }
        if self.seeds.is_empty() {
            return bad("no seeds".into());
        }
        if self.sizes.iter().any(|s| !(s.is_finite() && *s >= 0.0)) {
            return bad(format!("sizes {:?}: each must be >= 0", self.sizes));
        }
        let effect_sizes = self.sizes.iter().any(|&s| s > 0.0);
        if effect_sizes && (self.bands.is_empty() || self.places.is_empty()) {
            return bad("effect sizes need at least one band and one place".into());
        }
        for b in &self.bands {
            if !(b.lo >= 0.0 && b.hi > b.lo && b.hi.is_finite()) {
                return bad(format!("band {} {}-{}: need 0 <= lo < hi", b.name, b.lo, b.hi));
            }
        }
        for p in &self.places {
            if p.channels.is_empty() {
                return bad(format!("place {}: no channels", p.name));
            }
        }
        dup(self.bands.iter().map(|b| b.name.as_str()), "band")?;
        dup(self.places.iter().map(|p| p.name.as_str()), "place")?;
        let mut sizes = self.sizes.clone();
        sizes.sort_by(f64::total_cmp);
        if sizes.windows(2).any(|w| w[0] == w[1]) {
            return bad(format!("sizes {:?}: listed twice", self.sizes));
        }
        let mut seeds = self.seeds.clone();
        seeds.sort_unstable();
        if seeds.windows(2).any(|w| w[0] == w[1]) {
            return bad(format!("seeds {:?}: listed twice", self.seeds));
        }
        let i = &self.interpret;
        if i.restarts < 2 || i.steps == 0 || i.permutations < 19 || i.k < 2 || i.windows_per_restart == 0 {
            return bad(format!(
                "interpretation settings {i:?}: need restarts >= 2, steps >= 1, permutations >= 19, k >= 2"
            ));
        }
        if self.cells().is_empty() {
            return bad("the grid has no cells (no non-zero size, and no nulls)".into());
        }
        let (mut synth, _) = self.recording.synth()?;
        for p in &self.places {
            synth.effect.channels = p.channels.clone();
            synth.validate().map_err(|e| {
                ValidateError::Grid(format!(
                    "place {} on the {} electrodes: {e}",
                    p.name, self.recording.montage
                ))
            })?;
        }
        if let Some(k) = self.folds {
            if k < 2 || k > self.subjects / 2 {
                return bad(format!(
                    "folds {k}: need at least 2, and at most the subjects of a class ({})",
                    self.subjects / 2
                ));
            }
        }
        Ok(())
    }

    /// Subjects per class (the smaller class) the network is tested and read
    /// on: as the subject split rounds them, or all of them over folds.
    pub fn test_subjects_per_class(&self) -> usize {
        let per_class = self.subjects / 2;
        if self.folds.is_some() {
            // Over folds every subject is read once, out of fold.
            return per_class;
        }
        ((per_class as f64 * self.test).round() as usize).max(usize::from(per_class >= 3))
    }

    /// The smallest p-value the network's discrimination test can reach
    /// with this many test subjects: one over the number of ways to assign
    /// the classes to them, `1 / C(2m, m)` with `m` subjects per class.
    /// Every claim of the interpretation is floored by it.
    pub fn smallest_claim_p(&self) -> f64 {
        let m = self.test_subjects_per_class() as u32;
        let ways: f64 = (1..=m).map(|i| f64::from(m + i) / f64::from(i)).product();
        1.0 / ways.max(1.0)
    }

    /// What makes the grid's answers meaningless, in words (empty when nothing does).
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        let p = self.smallest_claim_p();
        if p >= self.interpret.alpha {
            w.push(format!(
                "with {} test subjects per class the interpretation's p cannot go below {p:.3} >= alpha {}: no method can claim a band (more --subjects)",
                self.test_subjects_per_class(),
                self.interpret.alpha
            ));
        }
        let r = self.interpret.restarts.min(60) as i32;
        let p = 2f64.powi(1 - r);
        if p >= self.interpret.alpha {
            w.push(format!(
                "with {r} activation-maximisation restarts its reading cannot reach p < {p:.3} (pairs of restarts are what the test permutes): actmax can never claim a band (--restarts 8)"
            ));
        }
        w
    }

    /// The spec's hash: the first 16 hex digits of the SHA-256 of its JSON.
    pub fn hash(&self) -> String {
        let json = serde_json::to_string(self).expect("a grid spec always serialises");
        let digest = Sha256::digest(json.as_bytes());
        digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
    }

    /// Every cell, in index order (see the module docs).
    pub fn cells(&self) -> Vec<CellSpec> {
        let mut cells = Vec::new();
        for &seed in &self.seeds {
            for &size in self.sizes.iter().filter(|&&s| s > 0.0) {
                for band in &self.bands {
                    for place in &self.places {
                        cells.push(CellSpec::new(
                            cells.len(),
                            Some(band.clone()),
                            Some(place.clone()),
                            size,
                            seed,
                            0,
                        ));
                    }
                }
            }
            if self.sizes.contains(&0.0) {
                for k in 0..self.nulls {
                    cells.push(CellSpec::new(cells.len(), None, None, 0.0, seed, k));
                }
            }
        }
        cells
    }
}

fn dup<'a>(names: impl Iterator<Item = &'a str>, what: &str) -> Result<(), ValidateError> {
    let mut seen: Vec<&str> = Vec::new();
    for n in names {
        if seen.contains(&n) {
            return Err(ValidateError::Grid(format!("{what} `{n}` listed twice")));
        }
        seen.push(n);
    }
    Ok(())
}

/// One cell: what is planted, where, how strongly, with which seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CellSpec {
    /// position in [`GridSpec::cells`]
    pub index: usize,
    /// the cell's directory name under `cells/`
    pub name: String,
    /// the planted band (`None`: a null cell)
    pub band: Option<PlantedBand>,
    /// the planted place (`None`: a null cell)
    pub place: Option<Place>,
    /// effect size (0: a null cell)
    pub size: f64,
    /// training and interpretation seed
    pub seed: u64,
    /// which null data set of this seed (0 for effect cells)
    pub replicate: usize,
    /// the synthetic generator's (and the subject split's) seed
    pub data_seed: u64,
}

impl CellSpec {
    fn new(
        index: usize,
        band: Option<PlantedBand>,
        place: Option<Place>,
        size: f64,
        seed: u64,
        replicate: usize,
    ) -> Self {
        let what = match (&band, &place) {
            (Some(b), Some(p)) => format!("{}-{}", b.name, p.name),
            _ => format!("null{replicate}"),
        };
        let name = format!("{index:03}-{what}-s{}-seed{seed}", fmt_size(size));
        let key = format!(
            "{seed}|{}|{}|{}|{size}|{replicate}",
            band.as_ref().map_or("-".into(), |b| format!("{}:{}-{}", b.name, b.lo, b.hi)),
            place.as_ref().map_or("-".into(), |p| p.channels.join("+")),
            place.as_ref().map_or("-", |p| p.name.as_str()),
        );
        let digest = Sha256::digest(key.as_bytes());
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&digest[..8]);
        // Kept below 2^53 so that the seed survives JSON readers that use doubles.
        let data_seed = u64::from_le_bytes(bytes) >> 11;
        Self { index, name, band, place, size, seed, replicate, data_seed }
    }

    /// True for a cell without a planted effect.
    pub fn is_null(&self) -> bool {
        self.band.is_none() || self.size == 0.0
    }

    /// The planted channels (empty for a null cell).
    pub fn channels(&self) -> &[String] {
        self.place.as_ref().map_or(&[], |p| &p.channels)
    }
}

/// A size as written in cell names: `3`, `1.5`.
pub fn fmt_size(size: f64) -> String {
    // Display of f64 writes 3.0 as `3` and 1.5 as `1.5`.
    format!("{size}")
}

/// The cells task `i` of `n` runs (0-based `i`): `i, i + n, i + 2n, ...`.
///
/// # Errors
/// [`ValidateError::Grid`] when `n` is 0 or `i >= n`.
pub fn partition(n_cells: usize, i: usize, n: usize) -> Result<Vec<usize>, ValidateError> {
    if n == 0 || i >= n {
        return Err(ValidateError::Grid(format!(
            "--cell {i}/{n}: need 0 <= i < N (tasks are numbered from 0, as `sbatch --array=0-{}`)",
            n.saturating_sub(1)
        )));
    }
    Ok((i..n_cells).step_by(n).collect())
}

/// Parses `i/N`.
///
/// # Errors
/// [`ValidateError::Grid`] when it is not two whole numbers with `i < N`.
pub fn parse_task(s: &str) -> Result<(usize, usize), ValidateError> {
    let bad = || ValidateError::Grid(format!("--cell `{s}`: expected i/N with 0 <= i < N (e.g. 0/8)"));
    let (a, b) = s.split_once('/').ok_or_else(bad)?;
    let i: usize = a.trim().parse().map_err(|_| bad())?;
    let n: usize = b.trim().parse().map_err(|_| bad())?;
    if n == 0 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

fn slug(s: &str) -> String {
    s.trim().to_ascii_lowercase().replace([' ', '_'], "-")
}

fn parse_range(s: &str) -> Result<(f64, f64), String> {
    let (a, b) = s.split_once('-').ok_or_else(|| format!("`{s}` is not LO-HI"))?;
    let lo: f64 = a.trim().parse().map_err(|_| format!("`{a}` is not a number"))?;
    let hi: f64 = b.trim().parse().map_err(|_| format!("`{b}` is not a number"))?;
    if !(lo.is_finite() && hi.is_finite() && lo >= 0.0 && lo < hi) {
        return Err(format!("`{s}` needs 0 <= LO < HI"));
    }
    Ok((lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_runs_every_cell_exactly_once() {
        for n_cells in [0, 1, 7, 48] {
            for n in 1..=10 {
                let mut seen = vec![0usize; n_cells];
                for i in 0..n {
                    for c in partition(n_cells, i, n).unwrap() {
                        seen[c] += 1;
                    }
                }
                assert!(seen.iter().all(|&k| k == 1), "{n_cells} cells over {n} tasks: {seen:?}");
            }
        }
        assert!(partition(10, 3, 3).is_err());
        assert!(partition(10, 0, 0).is_err());
        assert_eq!(parse_task("2/8").unwrap(), (2, 8));
        assert!(parse_task("8/8").is_err());
        assert!(parse_task("x/8").is_err());
    }

    #[test]
    fn cells_enumerate_effects_then_nulls_per_seed() {
        let mut g = GridSpec::quick("rvgg");
        g.seeds = vec![0, 1];
        g.validate().unwrap();
        let cells = g.cells();
        assert_eq!(cells.len(), 2 * (3 + 2));
        assert!(cells.iter().enumerate().all(|(i, c)| c.index == i));
        assert_eq!(cells[0].name, "000-theta-central-s3-seed0");
        assert_eq!(cells[3].name, "003-null0-s0-seed0");
        assert!(cells[3].is_null() && cells[4].is_null() && !cells[5].is_null());
        // Every cell draws its own data; a cell's data does not depend on the rest of the grid.
        let mut seeds: Vec<u64> = cells.iter().map(|c| c.data_seed).collect();
        seeds.sort_unstable();
        seeds.dedup();
        assert_eq!(seeds.len(), cells.len());
        let mut g2 = g.clone();
        g2.bands.insert(0, PlantedBand::parse("delta").unwrap());
        let same =
            g2.cells().into_iter().find(|c| c.band == cells[0].band && c.place == cells[0].place).unwrap();
        assert_eq!(same.data_seed, cells[0].data_seed);
    }

    #[test]
    fn too_few_test_subjects_are_flagged() {
        let g = GridSpec::full("rvgg");
        assert_eq!(g.test_subjects_per_class(), 5);
        approx::assert_relative_eq!(g.smallest_claim_p(), 1.0 / 252.0, max_relative = 1e-12);
        assert!(g.warnings().is_empty());
        let small = GridSpec { test: 0.125, ..g };
        assert_eq!(small.test_subjects_per_class(), 3);
        approx::assert_relative_eq!(small.smallest_claim_p(), 0.05, max_relative = 1e-12);
        assert_eq!(small.warnings().len(), 1);
        let mut few = GridSpec::full("rvgg");
        few.interpret.restarts = 4;
        assert!(few.warnings()[0].contains("actmax can never claim"));
    }

    #[test]
    fn hash_follows_the_spec() {
        let g = GridSpec::quick("rvgg");
        assert_eq!(g.hash(), g.clone().hash());
        assert_eq!(g.hash().len(), 16);
        let mut h = g.clone();
        h.epochs += 1;
        assert_ne!(g.hash(), h.hash());
        // A fixed thread count is another grid; no count leaves the grids written before the
        // field existed (whose JSON has no `threads`) with their hash.
        let json = serde_json::to_string(&g).expect("serialises");
        assert!(!json.contains("threads"), "{json}");
        let one = GridSpec { threads: Some(1), ..g.clone() };
        assert_ne!(one.hash(), g.hash());
        let back: GridSpec = serde_json::from_str(&json).expect("an older grid reads");
        assert_eq!(back.threads, None);
        assert_eq!(back.hash(), g.hash());
        assert!(GridSpec { threads: Some(0), ..g.clone() }
            .validate()
            .unwrap_err()
            .to_string()
            .contains("threads 0"));
        let cell = &one.cells()[0];
        assert_eq!(crate::cell::train_config(&one, cell).threads, Some(1));
        assert_eq!(crate::cell::train_config(&g, cell).threads, None);
    }

    #[test]
    fn the_recording_is_part_of_the_grid_and_checked_by_name() {
        let g = GridSpec::quick("shallow");
        // The default recording leaves the JSON (and so the hash) of older grids as it was.
        let json = serde_json::to_string(&g).expect("serialises");
        assert!(!json.contains("recording"), "{json}");
        let back: GridSpec = serde_json::from_str(&json).expect("an older grid reads");
        assert_eq!(back.recording, Recording::default());
        let hbn = GridSpec { recording: Recording::hbn(), ..g.clone() };
        assert_ne!(hbn.hash(), g.hash());
        hbn.validate().expect("the standard places are on EGI's net");
        let back: GridSpec = serde_json::from_str(&serde_json::to_string(&hbn).unwrap()).unwrap();
        assert_eq!(back, hbn);
        // Each cell's generator records on the grid's electrodes, in its format.
        let cell = &hbn.cells()[0];
        let (c, format) = crate::cell::synth_config(&hbn, cell).expect("a known recording");
        assert_eq!(c.channels.len(), 129);
        assert_eq!(c.head_model, HeadModel::Sphere);
        assert_eq!(format, SynthFormat::Set);
        assert_eq!(c.effect.channels, cell.place.as_ref().unwrap().channels);
        let (c, format) = crate::cell::synth_config(&g, &g.cells()[0]).unwrap();
        assert_eq!((c.channels.len(), c.head_model, format), (24, HeadModel::Kernel, SynthFormat::Edf));
        // Unknown values are refused by field; a place off the net is refused by name.
        for (field, rec) in [
            ("montage", Recording { montage: "biosemi64".into(), ..Recording::default() }),
            ("format", Recording { format: "vhdr".into(), ..Recording::default() }),
            ("head model", Recording { head_model: "bem".into(), ..Recording::default() }),
        ] {
            let e = GridSpec { recording: rec, ..g.clone() }.validate().unwrap_err().to_string();
            assert!(e.contains(field), "{e}");
        }
        // (`Place::parse` takes only the 24 prepared channels; a place built in code is checked too.)
        let place = Place { name: "egi".into(), channels: vec!["E36".into()] };
        let e = GridSpec { places: vec![place], ..g.clone() }.validate().unwrap_err().to_string();
        assert!(e.contains("place egi on the hbn24 electrodes") && e.contains("E36"), "{e}");
    }

    #[test]
    fn parses_bands_places_and_sizes() {
        assert_eq!(PlantedBand::parse("low beta").unwrap().lo, 13.0);
        assert_eq!(PlantedBand::parse("High_Beta").unwrap().hi, 30.0);
        assert_eq!(PlantedBand::parse("mu:9-11").unwrap(), PlantedBand::new("mu", 9.0, 11.0));
        assert!(PlantedBand::parse("gamma").is_err());
        assert_eq!(Place::parse("po").unwrap().name, "parieto-occipital");
        assert_eq!(Place::parse("mid:fz+cz").unwrap().channels, vec!["Fz", "Cz"]);
        assert!(Place::parse("x:Fz+Oz").is_err());
        assert_eq!(fmt_size(3.0), "3");
        assert_eq!(fmt_size(1.5), "1.5");
        assert_eq!(fmt_size(0.25), "0.25");
        assert_eq!(fmt_size(10.0), "10");
    }

    #[test]
    fn standard_places_are_disjoint_and_equal_sized() {
        let places = Place::standard();
        let all: Vec<&String> = places.iter().flat_map(|p| &p.channels).collect();
        let mut dedup = all.clone();
        dedup.sort();
        dedup.dedup();
        assert_eq!(dedup.len(), all.len());
        assert!(places.iter().all(|p| p.channels.len() == 5));
        assert!(all.iter().all(|c| CHANNELS.contains(&c.as_str())));
    }
}

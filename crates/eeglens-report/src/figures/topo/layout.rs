//! A scalp map's geometry, fixed for every map drawn on one set of electrodes: the head disc,
//! its grid, and the spherical-spline weights of every grid cell.
//!
//! The plane is the azimuthal-equidistant projection of `eeglens_io::montage` (Cz at the origin,
//! the Fpz–T7–Oz–T8 ring at radius 1, nose up), as in EEGLAB's `topoplot` and MNE's
//! `plot_topomap`. Each grid cell's centre is projected back to its direction on the sphere
//! ([`unproject`]), and the spline (`eeglens_dsp::SplineInterpolator`, Perrin et al. 1989,
//! [`MAP_SPLINE`]) is evaluated there: the interpolation is done on the sphere, where the
//! electrodes are, not in the plane. The weights of the cells (`[cells, electrodes]`) are computed
//! once, so that a map is one matrix-vector product.

use eeglens_dsp::{SplineConfig, SplineInterpolator};

use crate::error::MapError;

/// Grid cells across the head's diameter.
pub(crate) const GRID: usize = 72;
/// The fewest electrodes a map is drawn from.
pub const MIN_ELECTRODES: usize = 4;
/// The head disc reaches this far beyond the lowest electrode (a share of its radius).
const DISC_MARGIN: f64 = 1.04;
/// The plane's radius that projects to the point opposite the vertex: nothing lies beyond it.
const ANTIPODE: f64 = 2.0;
/// Electrodes whose directions are closer than this (radians, about 0.6°: 1 mm on an adult
/// head) are one point to the map (two names of one position, such as `T3` and `T7`): the later
/// ones are left out.
const SAME_POSITION: f64 = 0.01;
/// The maps' spline: MNE's stiffness and terms (`m = 4`, 50 terms) without regularisation, so
/// that a map passes through its electrodes' values. MNE's `alpha = 1e-5` (for repairing
/// channels) misses them by up to 4 % of the values' range on the 24 channels of the paper
/// (measured on `sin(3x) + yz`); without it the miss is below 1e-6.
pub const MAP_SPLINE: SplineConfig = SplineConfig { stiffness: 4, n_terms: 50, regularization: 0.0 };

/// The direction on the unit sphere (x right, y nose, z vertex) of a point of the topographic
/// plane: the inverse of `eeglens_io::montage::project`. The distance from the origin is the
/// polar angle in right angles (1 is the equator of the sphere, 2 the point under the vertex);
/// `None` for a non-finite point or one at or beyond 2.
pub fn unproject([x, y]: [f64; 2]) -> Option<[f64; 3]> {
    let r = x.hypot(y);
    if !(r.is_finite() && r < ANTIPODE) {
        return None;
    }
    let polar = r * std::f64::consts::FRAC_PI_2;
    if r < 1e-12 {
        return Some([0.0, 0.0, 1.0]);
    }
    let s = polar.sin() / r;
    Some([s * x, s * y, polar.cos()])
}

/// One grid cell inside the head disc.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Cell {
    /// row of the `GRID x GRID` square, from the top (nose side)
    pub row: usize,
    /// column, from the left
    pub col: usize,
    /// its centre in the plane
    pub xy: [f64; 2],
}

/// Electrode positions, the head disc and the grid weights of one set of electrodes, built
/// once and reused by every map drawn on that set ([`ScalpLayout::render`]).
#[derive(Clone, Debug)]
pub struct ScalpLayout {
    names: Vec<String>,
    xy: Vec<[f64; 2]>,
    /// each electrode's index in the list the layout was built from
    used: Vec<usize>,
    left_out: Vec<(String, String)>,
    radius: f64,
    cells: Vec<Cell>,
    /// `[cells, electrodes]`, row-major: the spline's weights of each cell
    weights: Vec<f64>,
    spline: SplineInterpolator,
}

impl ScalpLayout {
    /// The layout of electrodes given by name and position in the topographic plane.
    ///
    /// Electrodes without a direction (a non-finite position, or one at or beyond radius 2)
    /// and electrodes at the position of an earlier one are left out and listed in
    /// [`ScalpLayout::left_out`].
    ///
    /// # Errors
    /// [`MapError::TooFewElectrodes`] when fewer than [`MIN_ELECTRODES`] remain;
    /// [`MapError::Spline`] when the spline cannot be fitted to them.
    pub fn new(electrodes: &[(String, [f64; 2])]) -> Result<Self, MapError> {
        let mut names = Vec::new();
        let mut xy = Vec::new();
        let mut dirs: Vec<[f64; 3]> = Vec::new();
        let mut used = Vec::new();
        let mut left_out = Vec::new();
        for (i, (name, p)) in electrodes.iter().enumerate() {
            let Some(d) = unproject(*p) else {
                left_out.push((name.clone(), "no direction on the sphere for its position".to_string()));
                continue;
            };
            if let Some(k) = dirs.iter().position(|e| angle(e, &d) < SAME_POSITION) {
                left_out.push((name.clone(), format!("at the position of {}", names[k])));
                continue;
            }
            names.push(name.clone());
            used.push(i);
            xy.push(*p);
            dirs.push(d);
        }
        if names.len() < MIN_ELECTRODES {
            return Err(MapError::TooFewElectrodes { usable: names.len(), needed: MIN_ELECTRODES });
        }
        // Through the values exactly; MNE's regularisation only when the exact system cannot
        // be solved.
        let spline = SplineInterpolator::with_config(&dirs, MAP_SPLINE)
            .or_else(|_| SplineInterpolator::new(&dirs))
            .map_err(|e| MapError::Spline { cause: e.to_string() })?;
        let lowest = xy.iter().map(|p| p[0].hypot(p[1])).fold(1.0f64, f64::max);
        let radius = (lowest * DISC_MARGIN).min(ANTIPODE * 0.999);
        let cell = 2.0 * radius / GRID as f64;
        let mut cells = Vec::new();
        let mut wanted = Vec::new();
        for row in 0..GRID {
            for col in 0..GRID {
                let p = [-radius + cell * (col as f64 + 0.5), radius - cell * (row as f64 + 0.5)];
                // Cells the head's edge crosses are kept (the outline's clip path trims them).
                if p[0].hypot(p[1]) > radius + 0.75 * cell {
                    continue;
                }
                let Some(d) = unproject(p) else { continue };
                cells.push(Cell { row, col, xy: p });
                wanted.push(d);
            }
        }
        let weights = spline
            .matrix(&wanted)
            .map_err(|e| MapError::Spline { cause: e.to_string() })?
            .iter()
            .copied()
            .collect();
        Ok(ScalpLayout { names, xy, used, left_out, radius, cells, weights, spline })
    }

    /// The electrodes used, in the order values are given.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The positions of [`ScalpLayout::names`] in the topographic plane.
    pub fn positions(&self) -> &[[f64; 2]] {
        &self.xy
    }

    /// For each electrode of [`ScalpLayout::names`], its index in the list the layout was built
    /// from.
    pub fn indices(&self) -> &[usize] {
        &self.used
    }

    /// Electrodes left out of the layout, each with why.
    pub fn left_out(&self) -> &[(String, String)] {
        &self.left_out
    }

    /// The head disc's radius in the plane: the lowest electrode's distance from Cz (at least 1)
    /// and a margin.
    pub fn radius(&self) -> f64 {
        self.radius
    }

    /// The spline through `values` (one per electrode of [`ScalpLayout::names`]) at points of
    /// the topographic plane.
    ///
    /// # Errors
    /// [`MapError::Values`] for a wrong count or a non-finite value, or a point without a
    /// direction (see [`unproject`]).
    pub fn interpolate(&self, values: &[f64], at: &[[f64; 2]]) -> Result<Vec<f64>, MapError> {
        self.check(values)?;
        let dirs: Vec<[f64; 3]> = at
            .iter()
            .map(|p| {
                unproject(*p).ok_or_else(|| MapError::Values { what: format!("no direction for {p:?}") })
            })
            .collect::<Result<_, _>>()?;
        if dirs.is_empty() {
            return Ok(Vec::new());
        }
        self.spline.interpolate(values, &dirs).map_err(|e| MapError::Values { what: e.to_string() })
    }

    /// The map of `values` on the grid: one value per cell, from the weights computed once.
    ///
    /// # Errors
    /// [`MapError::Values`] for a wrong count or a non-finite value.
    pub(crate) fn grid(&self, values: &[f64]) -> Result<Vec<f64>, MapError> {
        self.check(values)?;
        let n = values.len();
        Ok(self.weights.chunks_exact(n).map(|w| w.iter().zip(values).map(|(w, v)| w * v).sum()).collect())
    }

    /// The grid cells inside the disc, in row-major order.
    pub(crate) fn cells(&self) -> &[Cell] {
        &self.cells
    }

    fn check(&self, values: &[f64]) -> Result<(), MapError> {
        if values.len() != self.names.len() {
            return Err(MapError::Values {
                what: format!("{} values for {} electrodes", values.len(), self.names.len()),
            });
        }
        if let Some(k) = values.iter().position(|v| !v.is_finite()) {
            return Err(MapError::Values {
                what: format!("{} at {} is not finite", values[k], self.names[k]),
            });
        }
        Ok(())
    }
}

/// The angle between two unit vectors, from their chord (accurate for small angles).
fn angle(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    let d = [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
    2.0 * (0.5 * (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt()).min(1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;
    use eeglens_io::montage::{project, Montage, HBN24};

    #[test]
    fn unproject_inverts_the_montage_projection() {
        for m in [Montage::Standard1020, Montage::EgiHydroCel129] {
            for e in m.electrodes() {
                let d = unproject(e.xy()).expect("every montage position has a direction");
                for k in 0..3 {
                    assert_abs_diff_eq!(d[k], e.xyz[k], epsilon = 1e-5);
                }
                let back = project(d);
                assert_abs_diff_eq!(back[0], e.xy()[0], epsilon = 1e-12);
                assert_abs_diff_eq!(back[1], e.xy()[1], epsilon = 1e-12);
            }
        }
        assert_eq!(unproject([0.0, 0.0]), Some([0.0, 0.0, 1.0]));
        assert_eq!(unproject([2.0, 0.0]), None);
        assert_eq!(unproject([f64::NAN, 0.0]), None);
    }

    #[test]
    fn the_grid_weights_are_the_spline_at_the_cell_centres() {
        let electrodes: Vec<(String, [f64; 2])> = HBN24
            .iter()
            .map(|n| (n.to_string(), Montage::Standard1020.position(n).expect("standard").xy()))
            .collect();
        let layout = ScalpLayout::new(&electrodes).expect("24 electrodes");
        let values: Vec<f64> = (0..24).map(|i| ((i * 7) % 11) as f64 - 5.0).collect();
        let grid = layout.grid(&values).expect("values fit");
        let centres: Vec<[f64; 2]> = layout.cells().iter().map(|c| c.xy).collect();
        let direct = layout.interpolate(&values, &centres).expect("values fit");
        for (g, d) in grid.iter().zip(&direct) {
            assert_abs_diff_eq!(g, d, epsilon = 1e-9);
        }
        // The disc holds every electrode, and the grid covers it.
        assert!(layout.positions().iter().all(|p| p[0].hypot(p[1]) < layout.radius()));
        let cell_area = (2.0 * layout.radius() / GRID as f64).powi(2);
        let covered = layout.cells().len() as f64 * cell_area;
        assert!(covered > std::f64::consts::PI * layout.radius().powi(2), "{covered}");
    }

    #[test]
    fn unusable_and_repeated_positions_are_left_out_and_too_few_is_an_error() {
        let p = |n: &str| Montage::Standard1020.position(n).expect("standard").xy();
        let mut electrodes: Vec<(String, [f64; 2])> =
            ["Fz", "Cz", "Pz", "C3", "C4"].iter().map(|n| (n.to_string(), p(n))).collect();
        electrodes.push(("T3".into(), p("T3")));
        electrodes.push(("T7".into(), p("T7")));
        electrodes.push(("far".into(), [2.5, 0.0]));
        electrodes.push(("nan".into(), [f64::NAN, 0.0]));
        let layout = ScalpLayout::new(&electrodes).expect("six usable");
        assert_eq!(layout.names(), ["Fz", "Cz", "Pz", "C3", "C4", "T3"]);
        let out: Vec<&str> = layout.left_out().iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(out, ["T7", "far", "nan"]);
        assert!(layout.left_out()[0].1.contains("T3"));
        assert!(matches!(layout.grid(&[1.0; 5]), Err(MapError::Values { .. })));
        assert!(matches!(layout.grid(&[1.0, 1.0, 1.0, f64::NAN, 1.0, 1.0]), Err(MapError::Values { .. })));

        let three = &electrodes[..3];
        assert_eq!(
            ScalpLayout::new(three).err(),
            Some(MapError::TooFewElectrodes { usable: 3, needed: MIN_ELECTRODES })
        );
        assert!(ScalpLayout::new(&[]).is_err());
    }
}

use super::layout::{Cell, GRID};
use super::*;
use eeglens_io::montage::{Montage, HBN24};

/// Electrodes by name and position in the plane.
type Named = Vec<(String, [f64; 2])>;
/// A field over the sphere.
type Field = Box<dyn Fn(&[f64; 3]) -> f64>;

/// A montage's electrodes: names, plane positions and unit directions.
fn electrodes(montage: Montage, names: &[&str]) -> (Named, Vec<[f64; 3]>) {
    names
        .iter()
        .map(|n| {
            let e = montage.position(n).expect("a montage electrode");
            ((n.to_string(), e.xy()), e.xyz)
        })
        .unzip()
}

fn hbn24() -> (ScalpLayout, Vec<[f64; 3]>) {
    let (el, dirs) = electrodes(Montage::Standard1020, &HBN24);
    (ScalpLayout::new(&el).expect("24 standard electrodes"), dirs)
}

fn egi129() -> (ScalpLayout, Vec<[f64; 3]>) {
    let names: Vec<&str> = Montage::EgiHydroCel129.electrodes().iter().map(|e| e.name).collect();
    let (el, dirs) = electrodes(Montage::EgiHydroCel129, &names);
    (ScalpLayout::new(&el).expect("129 electrodes"), dirs)
}

fn dot(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn unit(v: [f64; 3]) -> [f64; 3] {
    let n = dot(&v, &v).sqrt();
    [v[0] / n, v[1] / n, v[2] / n]
}

/// Cells of the grid that are strict local extrema among their eight neighbours, all of them
/// inside the head (so the edge, where the grid ends, never counts).
fn local_extrema(layout: &ScalpLayout, grid: &[f64]) -> Vec<[f64; 2]> {
    let inside = |c: &Cell| c.xy[0].hypot(c.xy[1]) <= layout.radius();
    let at: std::collections::HashMap<(usize, usize), usize> =
        layout.cells().iter().enumerate().map(|(k, c)| ((c.row, c.col), k)).collect();
    let mut out = Vec::new();
    for (k, c) in layout.cells().iter().enumerate() {
        let mut neighbours = Vec::new();
        for dr in [-1i64, 0, 1] {
            for dc in [-1i64, 0, 1] {
                if (dr, dc) == (0, 0) {
                    continue;
                }
                let (r, col) = (c.row as i64 + dr, c.col as i64 + dc);
                if r < 0 || col < 0 {
                    continue;
                }
                match at.get(&(r as usize, col as usize)).copied() {
                    Some(j) if inside(&layout.cells()[j]) => neighbours.push(grid[j]),
                    _ => {}
                }
            }
        }
        if neighbours.len() < 8 {
            continue;
        }
        let v = grid[k];
        if neighbours.iter().all(|&n| v > n) || neighbours.iter().all(|&n| v < n) {
            out.push(c.xy);
        }
    }
    out
}

/// Inverse-distance weighting (power 2) in the plane: what scalp maps used before splines, kept
/// here to show that the bull's-eye check catches it.
fn idw_grid(layout: &ScalpLayout, values: &[f64]) -> Vec<f64> {
    layout
        .cells()
        .iter()
        .map(|c| {
            let (mut num_, mut den) = (0.0, 0.0);
            for (p, v) in layout.positions().iter().zip(values) {
                let d2 = (p[0] - c.xy[0]).powi(2) + (p[1] - c.xy[1]).powi(2);
                if d2 < 1e-12 {
                    return *v;
                }
                num_ += v / d2;
                den += 1.0 / d2;
            }
            num_ / den
        })
        .collect()
}

/// A grid cell's diagonal in the plane.
fn cell_diagonal(layout: &ScalpLayout) -> f64 {
    2.0 * layout.radius() / GRID as f64 * std::f64::consts::SQRT_2
}

/// Linear fields on the sphere (a dipole seen from far away: the potential is `d . r`) have one
/// extremum over the head at most, where `d` points. The spline draws no other; inverse-distance
/// weighting draws one at nearly every electrode (bull's-eyes).
#[test]
fn a_linear_field_has_no_bulls_eyes_at_the_electrodes() {
    for (name, (layout, dirs)) in [("10-20 (24)", hbn24()), ("HydroCel-129", egi129())] {
        for d in [[0.0, 0.0, 1.0], unit([0.6, -0.5, 0.62]), unit([-0.3, 0.8, 0.2]), [1.0, 0.0, 0.0]] {
            let values: Vec<f64> = dirs.iter().map(|r| dot(r, &d)).collect();
            // Where the field's maximum (d) and minimum (-d) are in the plane.
            let peaks =
                [eeglens_io::montage::project(d), eeglens_io::montage::project([-d[0], -d[1], -d[2]])];
            let near_peak = |p: &[f64; 2]| {
                peaks.iter().any(|q| (p[0] - q[0]).hypot(p[1] - q[1]) <= 2.0 * cell_diagonal(&layout))
            };
            let spline = layout.grid(&values).expect("values fit");
            let spurious: Vec<[f64; 2]> =
                local_extrema(&layout, &spline).into_iter().filter(|p| !near_peak(p)).collect();
            assert!(spurious.is_empty(), "{name}, d = {d:?}: spline extrema at {spurious:?}");

            let idw: Vec<[f64; 2]> = local_extrema(&layout, &idw_grid(&layout, &values))
                .into_iter()
                .filter(|p| !near_peak(p))
                .collect();
            assert!(
                idw.len() >= 5,
                "{name}, d = {d:?}: the check should catch IDW's bull's-eyes, found {idw:?}"
            );
        }
    }
}

/// The spline passes through the electrodes' values: measured at most 2e-7 of the values'
/// range on these fields (rounding in the solve); with MNE's regularisation (alpha = 1e-5) it
/// would miss them by up to 4 %.
const AT_ELECTRODE_TOLERANCE: f64 = 1e-5;

#[test]
fn the_map_at_an_electrode_is_its_value() {
    for (layout, dirs) in [hbn24(), egi129()] {
        let fields: [Field; 3] = [
            Box::new(|r: &[f64; 3]| r[2]),
            Box::new(|r: &[f64; 3]| (3.0 * r[0]).sin() + r[1] * r[2]),
            // Rough: no smooth field behind the values.
            Box::new(|r: &[f64; 3]| ((r[0] * 1e3).sin() * 43758.5).fract()),
        ];
        for f in &fields {
            let values: Vec<f64> = dirs.iter().map(f).collect();
            let range = values.iter().cloned().fold(f64::MIN, f64::max)
                - values.iter().cloned().fold(f64::MAX, f64::min);
            let got = layout.interpolate(&values, layout.positions()).expect("values fit");
            for ((g, v), n) in got.iter().zip(&values).zip(layout.names()) {
                assert!((g - v).abs() <= AT_ELECTRODE_TOLERANCE * range, "{n}: {g} for {v} (range {range})");
            }
        }
    }
}

/// A single bump centred on one electrode: the map's maximum is nearer that electrode than any
/// other (at the rim it may lie a little beyond it, where the spline extrapolates).
#[test]
fn the_hottest_cell_is_at_the_electrode_of_the_peak() {
    for (layout, dirs) in [hbn24(), egi129()] {
        for centre in [0, 5, 11, dirs.len() / 2, dirs.len() - 1] {
            let c = dirs[centre];
            let values: Vec<f64> =
                dirs.iter().map(|r| 3.0 * (-(1.0 - dot(r, &c)) / 0.08).exp() - 0.5).collect();
            let grid = layout.grid(&values).expect("values fit");
            let inside = |k: usize| {
                let p = layout.cells()[k].xy;
                p[0].hypot(p[1]) <= layout.radius()
            };
            let top = (0..grid.len())
                .filter(|&k| inside(k))
                .max_by(|&a, &b| grid[a].total_cmp(&grid[b]))
                .expect("cells");
            let at = layout.cells()[top].xy;
            let distance = |e: &[f64; 2]| (at[0] - e[0]).hypot(at[1] - e[1]);
            let nearest = (0..dirs.len())
                .min_by(|&a, &b| {
                    distance(&layout.positions()[a]).total_cmp(&distance(&layout.positions()[b]))
                })
                .expect("electrodes");
            assert_eq!(
                layout.names()[nearest],
                layout.names()[centre],
                "maximum at {at:?}, {} from the peak's electrode",
                distance(&layout.positions()[centre])
            );
        }
    }
}

/// No name inside the head covers a hot cell; the channels of largest |value| are named outside
/// the head, away from their dots, with leader lines; names do not overlap each other.
#[test]
fn names_leave_the_extremes_visible() {
    for (layout, dirs) in [hbn24(), egi129()] {
        let n = dirs.len();
        let fields: [Field; 3] = [
            Box::new(|r: &[f64; 3]| (-(1.0 - r[1]) / 0.1).exp() - (-(1.0 + r[0]) / 0.3).exp()),
            Box::new(|r: &[f64; 3]| r[2]),
            Box::new(|r: &[f64; 3]| {
                0.2 * r[0]
                    + (-(1.0 - unit([0.5, -0.6, 0.6]).iter().zip(r).map(|(a, b)| a * b).sum::<f64>()) / 0.05)
                        .exp()
            }),
        ];
        for f in &fields {
            let values: Vec<f64> = dirs.iter().map(f).collect();
            let plan = layout.plan(&values).expect("values fit");
            let hot: Vec<labels::PxBox> = layout
                .cells()
                .iter()
                .zip(&layout.hot_cells(&plan.grid))
                .filter(|(_, h)| **h)
                .map(|(c, _)| cell_box(c.row, c.col))
                .collect();
            assert!(!hot.is_empty());
            for l in &plan.labels {
                let inside = l.leader.is_none();
                if inside {
                    assert!(
                        !hot.iter().any(|h| h.overlaps(&l.bbox)),
                        "{} covers a hot cell",
                        layout.names()[l.electrode]
                    );
                } else {
                    let far = [
                        (l.bbox.x0, l.bbox.y0),
                        (l.bbox.x1, l.bbox.y1),
                        (l.bbox.x0, l.bbox.y1),
                        (l.bbox.x1, l.bbox.y0),
                    ]
                    .iter()
                    .all(|(x, y)| (x - CX).hypot(y - CY) > HEAD_PX);
                    assert!(far, "{} is named outside the head", layout.names()[l.electrode]);
                }
            }
            for (i, a) in plan.labels.iter().enumerate() {
                for b in &plan.labels[i + 1..] {
                    assert!(
                        !a.bbox.overlaps(&b.bbox),
                        "{} and {}",
                        layout.names()[a.electrode],
                        layout.names()[b.electrode]
                    );
                }
            }
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by(|&a, &b| values[b].abs().total_cmp(&values[a].abs()));
            for &k in &order[..labels::TOP_K] {
                let l = plan.labels.iter().find(|l| l.electrode == k).expect("the top channels are named");
                assert!(l.leader.is_some(), "{} is named outside", layout.names()[k]);
            }
            let inside = plan.labels.iter().filter(|l| l.leader.is_none()).count();
            if n > labels::MAX_INSIDE {
                assert_eq!(inside, 0);
            } else {
                assert!(
                    inside >= n / 2,
                    "most names of a small montage are beside their dots: {inside} of {n}"
                );
            }
        }
    }
}

#[test]
fn maps_on_the_same_electrodes_share_one_layout() {
    let (el, dirs) = electrodes(Montage::Standard1020, &HBN24);
    let points = |f: &dyn Fn(&[f64; 3]) -> f64| -> Vec<TopoPoint> {
        el.iter()
            .zip(&dirs)
            .map(|((n, p), d)| TopoPoint { name: n.clone(), x: p[0], y: p[1], value: f(d) })
            .collect()
    };
    let mut maps = ScalpMaps::new();
    let a = maps.draw("a", &points(&|r| r[0]), "u").expect("a map");
    let b = maps.draw("b", &points(&|r| r[2]), "u").expect("a map");
    assert_eq!(maps.n_layouts(), 1);
    assert_ne!(a, b);
    // A value that is not finite leaves its electrode out: another set, another layout.
    let mut p = points(&|r| r[1]);
    p[3].value = f64::NAN;
    maps.draw("c", &p, "u").expect("a map of 23");
    assert_eq!(maps.n_layouts(), 2);
    assert_eq!(
        maps.draw("d", &p[..3], "u"),
        Err(MapError::TooFewElectrodes { usable: 3, needed: MIN_ELECTRODES })
    );
    let svg = scalp_map("d", &p[..3], "u");
    assert!(svg.contains("class=\"no-map\"") && svg.contains("a scalp map needs 4"), "{svg}");
}

//! Scalp maps: per-channel values interpolated over the head by spherical splines.
//!
//! A map is drawn on a [`ScalpLayout`]: the electrodes' positions, the head disc's grid and the
//! spline's weights at every grid cell, computed once for a set of electrodes
//! ([`layout`] has the geometry). [`ScalpMaps`] keeps the layouts it has built, so
//! the maps of one page that share their electrodes share one layout. Names are placed so that
//! they never hide the map's extremes ([`labels`]).

use std::fmt::Write;

use super::heatmap::colour_bar;
use super::{title, Frame, TICK_FONT};
use crate::error::MapError;
use crate::svg::{diverging, label, num, Anchor, Svg};

mod labels;
mod layout;

use labels::{PxBox, Scene};
pub use layout::{unproject, ScalpLayout, MAP_SPLINE, MIN_ELECTRODES};

/// One electrode: its position in the topographic plane (Cz at the origin,
/// the Fpz–T7–Oz–T8 ring at radius 1, nose up: `+y`) and its value.
#[derive(Clone, Debug, PartialEq)]
pub struct TopoPoint {
    /// channel name
    pub name: String,
    /// right of the head is `+x`
    pub x: f64,
    /// towards the nose is `+y`
    pub y: f64,
    /// the value shown
    pub value: f64,
}

/// Colour levels (odd, so that zero has its own).
const LEVELS: usize = 31;
/// Head radius in pixels.
const HEAD_PX: f64 = 130.0;
/// The head's centre in pixels: room on every side for names outside the head.
const CX: f64 = 62.0 + HEAD_PX;
const CY: f64 = 76.0 + HEAD_PX;
/// Left edge of the colour bar.
const BAR_X: f64 = CX + HEAD_PX + 64.0;
/// Figure size.
const WIDTH: f64 = BAR_X + 80.0;
const HEIGHT: f64 = CY + HEAD_PX + 56.0;
/// Cells are hot when among the largest |value| of this share of the disc's cells and at least
/// [`HOT_FLOOR`] of the largest |value|: the map's extremes, which no name may cover.
const HOT_SHARE: f64 = 0.05;
const HOT_FLOOR: f64 = 0.5;

/// Scalp maps that share their layouts: the spline and its grid weights are computed once per
/// set of electrodes (names and positions) and reused by every map drawn on that set.
#[derive(Debug, Default)]
pub struct ScalpMaps {
    layouts: Vec<(LayoutKey, Result<ScalpLayout, MapError>)>,
}

/// What a layout is built from: names and the bits of their positions.
type LayoutKey = Vec<(String, [u64; 2])>;

impl ScalpMaps {
    /// No layouts yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The layout of these electrodes (name, position in the topographic plane), built on first
    /// use.
    ///
    /// # Errors
    /// See [`ScalpLayout::new`].
    pub fn layout(&mut self, electrodes: &[(String, [f64; 2])]) -> Result<&ScalpLayout, MapError> {
        let key: LayoutKey =
            electrodes.iter().map(|(n, p)| (n.clone(), [p[0].to_bits(), p[1].to_bits()])).collect();
        let at = match self.layouts.iter().position(|(k, _)| *k == key) {
            Some(at) => at,
            None => {
                self.layouts.push((key, ScalpLayout::new(electrodes)));
                self.layouts.len() - 1
            }
        };
        self.layouts[at].1.as_ref().map_err(Clone::clone)
    }

    /// How many layouts were built.
    pub fn n_layouts(&self) -> usize {
        self.layouts.len()
    }

    /// The scalp map of `points` ([`ScalpLayout::render`]); points with a non-finite value are
    /// left out, as are positions the layout cannot use ([`ScalpLayout::left_out`]).
    ///
    /// # Errors
    /// [`MapError`] when no map can be drawn (fewer than [`MIN_ELECTRODES`] usable points, or no
    /// spline through their positions).
    pub fn draw(&mut self, chart_title: &str, points: &[TopoPoint], unit: &str) -> Result<String, MapError> {
        let finite: Vec<&TopoPoint> = points.iter().filter(|p| p.value.is_finite()).collect();
        let electrodes: Vec<(String, [f64; 2])> =
            finite.iter().map(|p| (p.name.clone(), [p.x, p.y])).collect();
        let layout = self.layout(&electrodes)?;
        let values: Vec<f64> = layout.indices().iter().map(|&i| finite[i].value).collect();
        layout.render(chart_title, &values, unit)
    }
}

/// A scalp map of per-channel values ([`ScalpMaps::draw`] with a layout of its own). When no map
/// can be drawn, the figure has the head, the electrodes it was given and one line saying why.
pub fn scalp_map(chart_title: &str, points: &[TopoPoint], unit: &str) -> String {
    ScalpMaps::new().draw(chart_title, points, unit).unwrap_or_else(|e| no_map(chart_title, points, &e))
}

/// What a map shows, before it is written: the grid, the colour limit, the hot cells and where
/// the names go.
pub(crate) struct Plan {
    /// one value per cell of the layout
    pub grid: Vec<f64>,
    /// the colour scale runs from `-limit` to `limit`
    pub limit: f64,
    /// the electrodes' dots in pixels
    pub dots: Vec<(f64, f64)>,
    pub labels: Vec<labels::Label>,
}

/// Pixels of a point of the plane, for a disc of radius `radius`.
fn to_px(radius: f64, [x, y]: [f64; 2]) -> (f64, f64) {
    (CX + x / radius * HEAD_PX, CY - y / radius * HEAD_PX)
}

/// The pixel square of grid cell `(row, col)`.
fn cell_box(row: usize, col: usize) -> PxBox {
    let c = 2.0 * HEAD_PX / layout::GRID as f64;
    let (x0, y0) = (CX - HEAD_PX + c * col as f64, CY - HEAD_PX + c * row as f64);
    PxBox { x0, y0, x1: x0 + c, y1: y0 + c }
}

fn dot_radius(n: usize) -> f64 {
    if n <= labels::MAX_INSIDE {
        1.8
    } else {
        1.2
    }
}

impl ScalpLayout {
    /// The map of `values` (one per electrode of [`ScalpLayout::names`]): head outline, nose
    /// and ears; the spline's values on the head disc in a diverging colour scale symmetric
    /// about zero (its limit the largest |value| of the electrodes and the grid), with a colour
    /// bar labelled `unit`; electrodes as small dots whose name and value show on hover; the
    /// names of the channels of largest |value| outside the head with leader lines, and on
    /// montages of up to 40 electrodes the other names small beside their dots, never over the
    /// map's extremes.
    ///
    /// The SVG clip path's id is derived from the content, so several maps can share one page.
    ///
    /// # Errors
    /// [`MapError::Values`] when `values` is not one finite value per electrode.
    pub fn render(&self, chart_title: &str, values: &[f64], unit: &str) -> Result<String, MapError> {
        let plan = self.plan(values)?;
        let mut svg = Svg::new(WIDTH, HEIGHT);
        title(&mut svg, chart_title);
        let id = format!("head-{:016x}", fnv(chart_title, self.names(), self.positions(), values));
        svg.raw(&format!(
            "<defs><clipPath id=\"{id}\"><circle cx=\"{}\" cy=\"{}\" r=\"{}\"/></clipPath></defs>\n",
            num(CX),
            num(CY),
            num(HEAD_PX)
        ));
        svg.raw(&format!("<g clip-path=\"url(#{id})\">\n"));
        for (level, d) in self.level_paths(&plan).iter().enumerate().filter(|(_, d)| !d.is_empty()) {
            let u = 2.0 * level as f64 / (LEVELS - 1) as f64 - 1.0;
            svg.path(d, &format!(r#"fill="{}" class="cells""#, diverging(u).hex()));
        }
        svg.raw("</g>\n");
        head(&mut svg, CX, CY);
        for l in &plan.labels {
            if let Some((x1, y1, x2, y2)) = l.leader {
                svg.line(x1, y1, x2, y2, r##"stroke="#333" stroke-width="0.7" class="leader""##);
            }
        }
        let r = dot_radius(values.len());
        for (k, &(x, y)) in plan.dots.iter().enumerate() {
            svg.raw(&format!(
                r##"<circle cx="{}" cy="{}" r="{}" fill="#000" stroke="#fff" stroke-width="0.6" class="electrode"><title>{}: {} {}</title></circle>
"##,
                num(x),
                num(y),
                num(r),
                crate::svg::escape(&self.names()[k]),
                label(values[k], 3),
                crate::svg::escape(unit)
            ));
        }
        for l in &plan.labels {
            let style = if l.leader.is_some() {
                r##"fill="#111" class="electrode-label outside""##
            } else {
                r##"fill="#222" fill-opacity="0.75" class="electrode-label""##
            };
            svg.text_styled(l.x, l.y, l.size, l.anchor, &self.names()[l.electrode], style);
        }
        let limit = plan.limit;
        colour_bar(&mut svg, Frame { x: BAR_X, y: CY - 90.0, w: 14.0, h: 180.0 }, limit, unit);
        svg.text(BAR_X, CY - 100.0, TICK_FONT, Anchor::Start, &format!("±{}", label(limit, 2)));
        Ok(svg.finish("topo", chart_title))
    }

    /// The grid, its colour limit, its hot cells and the names' places.
    pub(crate) fn plan(&self, values: &[f64]) -> Result<Plan, MapError> {
        let grid = self.grid(values)?;
        let cells = self.cells();
        let inside = |k: usize| cells[k].xy[0].hypot(cells[k].xy[1]) <= self.radius();
        let peak = (0..grid.len()).filter(|&k| inside(k)).map(|k| grid[k].abs()).fold(0.0f64, f64::max);
        let limit = values.iter().map(|v| v.abs()).fold(peak, f64::max).max(1e-12);
        let hot = self.hot_cells(&grid);
        let dots: Vec<(f64, f64)> = self.positions().iter().map(|p| to_px(self.radius(), *p)).collect();
        let hot_boxes: Vec<PxBox> =
            (0..grid.len()).filter(|&k| hot[k]).map(|k| cell_box(cells[k].row, cells[k].col)).collect();
        let obstacles = [
            // nose
            PxBox {
                x0: CX - 0.12 * HEAD_PX,
                y0: CY - 1.12 * HEAD_PX,
                x1: CX + 0.12 * HEAD_PX,
                y1: CY - HEAD_PX,
            },
            // ears
            PxBox {
                x0: CX - 1.14 * HEAD_PX,
                y0: CY - 0.16 * HEAD_PX,
                x1: CX - HEAD_PX,
                y1: CY + 0.16 * HEAD_PX,
            },
            PxBox {
                x0: CX + HEAD_PX,
                y0: CY - 0.16 * HEAD_PX,
                x1: CX + 1.14 * HEAD_PX,
                y1: CY + 0.16 * HEAD_PX,
            },
            // colour bar, its ticks and limit
            PxBox { x0: BAR_X - 4.0, y0: CY - 114.0, x1: WIDTH, y1: CY + 110.0 },
        ];
        let scene = Scene {
            cx: CX,
            cy: CY,
            head: HEAD_PX,
            canvas: PxBox { x0: 2.0, y0: 28.0, x1: WIDTH - 2.0, y1: HEIGHT - 2.0 },
            dots: &dots,
            dot_r: dot_radius(values.len()),
            hot: &hot_boxes,
            obstacles: &obstacles,
        };
        let labels = labels::place(&scene, self.names(), values);
        Ok(Plan { grid, limit, dots, labels })
    }

    /// Per cell of `grid`: one of the map's extremes, the cells inside the head of largest
    /// |value| ([`HOT_SHARE`] of them, each at least [`HOT_FLOOR`] of the largest).
    pub(crate) fn hot_cells(&self, grid: &[f64]) -> Vec<bool> {
        let cells = self.cells();
        let inside = |k: usize| cells[k].xy[0].hypot(cells[k].xy[1]) <= self.radius();
        let mut order: Vec<usize> = (0..grid.len()).filter(|&k| inside(k)).collect();
        order.sort_by(|&a, &b| grid[b].abs().total_cmp(&grid[a].abs()).then(a.cmp(&b)));
        let peak = order.first().map_or(0.0, |&k| grid[k].abs());
        let k_hot = (HOT_SHARE * order.len() as f64).ceil() as usize;
        let mut hot = vec![false; grid.len()];
        if peak > 0.0 {
            for &k in order.iter().take(k_hot).filter(|&&k| grid[k].abs() >= HOT_FLOOR * peak) {
                hot[k] = true;
            }
        }
        hot
    }

    /// The grid as one SVG path per colour level; runs of equal colour along a row are one
    /// rectangle.
    fn level_paths(&self, plan: &Plan) -> Vec<String> {
        let level = |v: f64| {
            let u = (v / plan.limit).clamp(-1.0, 1.0);
            (((u + 1.0) / 2.0) * (LEVELS - 1) as f64).round() as usize
        };
        let mut paths = vec![String::new(); LEVELS];
        let cells = self.cells();
        let mut k = 0;
        while k < cells.len() {
            let (row, col, lv) = (cells[k].row, cells[k].col, level(plan.grid[k]));
            let mut end = k + 1;
            while end < cells.len()
                && cells[end].row == row
                && cells[end].col == cells[end - 1].col + 1
                && level(plan.grid[end]) == lv
            {
                end += 1;
            }
            let b = cell_box(row, col);
            let (w, h) = ((b.x1 - b.x0) * (end - k) as f64 + 0.3, b.y1 - b.y0 + 0.3);
            let _ = write!(paths[lv], "M{} {}h{}v{}h-{}z", num(b.x0), num(b.y0), num(w), num(h), num(w));
            k = end;
        }
        paths
    }
}

/// The figure when no map can be drawn: the head, the electrodes given (where they can be
/// placed) and the reason.
fn no_map(chart_title: &str, points: &[TopoPoint], why: &MapError) -> String {
    let mut svg = Svg::new(WIDTH, HEIGHT);
    title(&mut svg, chart_title);
    head(&mut svg, CX, CY);
    let radius =
        points.iter().map(|p| p.x.hypot(p.y)).filter(|r| r.is_finite() && *r < 2.0).fold(1.0f64, f64::max)
            * 1.04;
    for p in points.iter().filter(|p| p.x.hypot(p.y) < radius) {
        let (x, y) = to_px(radius, [p.x, p.y]);
        svg.circle(x, y, 1.8, r##"fill="#000" class="electrode""##);
    }
    svg.text_styled(
        CX,
        HEIGHT - 20.0,
        TICK_FONT,
        Anchor::Middle,
        &format!("No map: {why}."),
        r#"class="no-map""#,
    );
    svg.finish("topo", chart_title)
}

/// Head outline, nose and ears around `(cx, cy)`.
fn head(svg: &mut Svg, cx: f64, cy: f64) {
    let outline = r##"fill="none" stroke="#222" stroke-width="2" class="head""##;
    svg.circle(cx, cy, HEAD_PX, outline);
    let nose = 0.1 * HEAD_PX;
    svg.path(
        &format!(
            "M{} {}L{} {}L{} {}",
            num(cx - nose),
            num(cy - HEAD_PX + 1.5),
            num(cx),
            num(cy - HEAD_PX - nose),
            num(cx + nose),
            num(cy - HEAD_PX + 1.5)
        ),
        r##"fill="none" stroke="#222" stroke-width="2" class="nose""##,
    );
    for side in [-1.0, 1.0] {
        let ex = cx + side * HEAD_PX;
        svg.path(
            &format!(
                "M{} {}Q{} {} {} {}",
                num(ex),
                num(cy - 0.15 * HEAD_PX),
                num(ex + side * 0.12 * HEAD_PX),
                num(cy),
                num(ex),
                num(cy + 0.15 * HEAD_PX)
            ),
            r##"fill="none" stroke="#222" stroke-width="2" class="ear""##,
        );
    }
}

/// FNV-1a over the title, the electrodes and the values (for a stable, content-derived id).
fn fnv(title: &str, names: &[String], positions: &[[f64; 2]], values: &[f64]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= *b as u64;
            h = h.wrapping_mul(0x100000001b3);
        }
    };
    eat(title.as_bytes());
    for ((n, p), v) in names.iter().zip(positions).zip(values) {
        eat(n.as_bytes());
        eat(&p[0].to_le_bytes());
        eat(&p[1].to_le_bytes());
        eat(&v.to_le_bytes());
    }
    h
}

#[cfg(test)]
mod tests;

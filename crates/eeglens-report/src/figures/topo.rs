//! Scalp maps: per-channel values interpolated over the 2D electrode projection.

use std::fmt::Write;

use super::heatmap::colour_bar;
use super::{title, Frame, TICK_FONT};
use crate::svg::{diverging, extent, label, num, Anchor, Svg};

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

/// Grid cells across the head's diameter.
const GRID: usize = 48;
/// Colour levels (odd, so that zero has its own).
const LEVELS: usize = 31;
/// Head radius in pixels.
const HEAD_PX: f64 = 130.0;

/// Inverse-distance-weighted (power 2) interpolation of the points at `(x, y)`.
pub fn idw(points: &[TopoPoint], x: f64, y: f64) -> f64 {
    let mut num_ = 0.0;
    let mut den = 0.0;
    for p in points.iter().filter(|p| p.value.is_finite()) {
        let d2 = (p.x - x).powi(2) + (p.y - y).powi(2);
        if d2 < 1e-12 {
            return p.value;
        }
        let w = 1.0 / d2;
        num_ += w * p.value;
        den += w;
    }
    if den > 0.0 {
        num_ / den
    } else {
        0.0
    }
}

/// A scalp map of per-channel values: head outline, nose and ears, the values
/// interpolated (inverse-distance weighting) over the disc of the electrodes,
/// electrode dots with their labels, and a diverging colour bar symmetric
/// about zero labelled `unit`.
///
/// The disc is the Fpz–T7–Oz–T8 ring (radius 1), widened to hold electrodes
/// below it. The SVG clip path's id is derived from the content, so several
/// maps can share one HTML page.
pub fn scalp_map(chart_title: &str, points: &[TopoPoint], unit: &str) -> String {
    let radius =
        points.iter().map(|p| p.x.hypot(p.y)).filter(|r| r.is_finite()).fold(1.0f64, f64::max) * 1.04;
    let (cx, cy) = (30.0 + HEAD_PX, 40.0 + HEAD_PX);
    let px = |v: f64| v / radius * HEAD_PX;
    let mut svg = Svg::new(cx + HEAD_PX + 110.0, cy + HEAD_PX + 24.0);
    title(&mut svg, chart_title);
    let limit = extent(points.iter().map(|p| p.value.abs())).map(|(_, b)| b).unwrap_or(0.0).max(1e-12);

    let id = format!("head-{:016x}", fnv(chart_title, points));
    svg.raw(&format!(
        "<defs><clipPath id=\"{id}\"><circle cx=\"{}\" cy=\"{}\" r=\"{}\"/></clipPath></defs>\n",
        num(cx),
        num(cy),
        num(HEAD_PX)
    ));
    let paths = level_paths(points, radius, limit, (cx, cy));
    svg.raw(&format!("<g clip-path=\"url(#{id})\">\n"));
    for (level, d) in paths.iter().enumerate().filter(|(_, d)| !d.is_empty()) {
        let u = 2.0 * level as f64 / (LEVELS - 1) as f64 - 1.0;
        svg.path(d, &format!(r#"fill="{}" class="cells""#, diverging(u).hex()));
    }
    svg.raw("</g>\n");
    head(&mut svg, cx, cy);
    for p in points {
        let (x, y) = (cx + px(p.x), cy - px(p.y));
        svg.circle(x, y, 2.6, r##"fill="#000" class="electrode""##);
        svg.text_styled(
            x,
            y - 4.5,
            TICK_FONT - 2.0,
            Anchor::Middle,
            &p.name,
            r##"fill="#111" class="electrode-label""##,
        );
    }
    colour_bar(&mut svg, Frame { x: cx + HEAD_PX + 34.0, y: cy - 90.0, w: 14.0, h: 180.0 }, limit, unit);
    svg.text(cx + HEAD_PX + 34.0, cy - 100.0, TICK_FONT, Anchor::Start, &format!("±{}", label(limit, 2)));
    svg.finish("topo", chart_title)
}

/// The interpolated values as one SVG path of grid squares per colour level; `(cx, cy)` is the
/// head's centre in pixels.
fn level_paths(points: &[TopoPoint], radius: f64, limit: f64, (cx, cy): (f64, f64)) -> Vec<String> {
    let cell = 2.0 * radius / GRID as f64;
    let cell_px = 2.0 * HEAD_PX / GRID as f64;
    let mut paths = vec![String::new(); LEVELS];
    for i in 0..GRID {
        for j in 0..GRID {
            let x = -radius + cell * (j as f64 + 0.5);
            let y = radius - cell * (i as f64 + 0.5);
            if x.hypot(y) > radius + cell {
                continue;
            }
            let u = (idw(points, x, y) / limit).clamp(-1.0, 1.0);
            let level = (((u + 1.0) / 2.0) * (LEVELS - 1) as f64).round() as usize;
            let _ = write!(
                paths[level],
                "M{} {}h{}v{}h-{}z",
                num(cx - HEAD_PX + cell_px * j as f64),
                num(cy - HEAD_PX + cell_px * i as f64),
                num(cell_px + 0.3),
                num(cell_px + 0.3),
                num(cell_px + 0.3)
            );
        }
    }
    paths
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

/// FNV-1a over the title and the points (for a stable, content-derived id).
fn fnv(title: &str, points: &[TopoPoint]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= *b as u64;
            h = h.wrapping_mul(0x100000001b3);
        }
    };
    eat(title.as_bytes());
    for p in points {
        eat(p.name.as_bytes());
        eat(&p.value.to_le_bytes());
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idw_passes_through_the_points_and_stays_within_them() {
        let pts = vec![
            TopoPoint { name: "A".into(), x: -0.5, y: 0.0, value: -1.0 },
            TopoPoint { name: "B".into(), x: 0.5, y: 0.0, value: 3.0 },
        ];
        assert_eq!(idw(&pts, -0.5, 0.0), -1.0);
        assert_eq!(idw(&pts, 0.5, 0.0), 3.0);
        let mid = idw(&pts, 0.0, 0.0);
        assert!((mid - 1.0).abs() < 1e-12, "{mid}");
        for (x, y) in [(0.9, 0.9), (-1.0, 0.2), (0.1, -0.7)] {
            let v = idw(&pts, x, y);
            assert!((-1.0..=3.0).contains(&v));
        }
    }
}

//! Channel x time heatmaps with a diverging colour scale.

use std::fmt::Write;

use super::{title, x_axis, Frame, AXIS_STYLE, TICK_FONT};
use crate::figures::traces::abs_quantile;
use crate::svg::{diverging, label, num, ticks, Anchor, Linear, Svg};

/// Colour levels of the map (odd, so that zero has its own level).
const LEVELS: usize = 41;
/// Columns drawn at most (longer rows are averaged in blocks).
const MAX_COLUMNS: usize = 128;

/// A `[channels][time]` matrix (row-major) as a heatmap: red positive, blue
/// negative, white zero, symmetric about zero with its limit at the 99th
/// percentile of `|value|` (beyond it the colour saturates).
///
/// Cells are drawn as one path per colour level, which keeps the document
/// small (about 20 bytes per cell).
///
/// # Panics
/// When `data.len()` is not a multiple of `channels.len()`.
pub fn heatmap(chart_title: &str, channels: &[String], data: &[f32], fs: f64, unit: &str) -> String {
    heatmap_scaled(chart_title, channels, data, fs, unit, heatmap_limit(data))
}

/// The colour limit [`heatmap`] uses: the 99th percentile of `|value|`. Take it
/// over several matrices to draw them on one scale.
pub fn heatmap_limit(data: &[f32]) -> f64 {
    abs_quantile(data, 0.99)
}

/// [`heatmap`] with the colour scale saturating at `±limit`.
///
/// # Panics
/// When `data.len()` is not a multiple of `channels.len()`.
pub fn heatmap_scaled(
    chart_title: &str,
    channels: &[String],
    data: &[f32],
    fs: f64,
    unit: &str,
    limit: f64,
) -> String {
    let c = channels.len().max(1);
    assert_eq!(data.len() % c, 0, "data holds {} values, not a whole number of {c} channels", data.len());
    let t = data.len() / c;
    let block = t.div_ceil(MAX_COLUMNS).max(1);
    let cols = t.div_ceil(block).max(1);
    let row_h = (420.0 / c as f64).clamp(10.0, 22.0);
    let f = Frame { x: 56.0, y: 34.0, w: 360.0, h: row_h * c as f64 };
    let mut svg = Svg::new(f.right() + 96.0, f.bottom() + 48.0);
    title(&mut svg, chart_title);
    let limit = if limit.is_finite() && limit > 0.0 { limit } else { 1.0 };
    let cell_w = f.w / cols as f64;
    let mut paths = vec![String::new(); LEVELS];
    for ch in 0..channels.len() {
        let row = &data[ch * t..(ch + 1) * t];
        for (k, chunk) in row.chunks(block).enumerate() {
            let finite: Vec<f64> = chunk.iter().map(|&v| v as f64).filter(|v| v.is_finite()).collect();
            let v = if finite.is_empty() { 0.0 } else { finite.iter().sum::<f64>() / finite.len() as f64 };
            let u = (v / limit).clamp(-1.0, 1.0);
            let level = (((u + 1.0) / 2.0) * (LEVELS - 1) as f64).round() as usize;
            let _ = write!(
                paths[level],
                "M{} {}h{}v{}h-{}z",
                num(f.x + cell_w * k as f64),
                num(f.y + row_h * ch as f64),
                num(cell_w + 0.3),
                num(row_h),
                num(cell_w + 0.3)
            );
        }
    }
    for (level, d) in paths.iter().enumerate().filter(|(_, d)| !d.is_empty()) {
        let u = 2.0 * level as f64 / (LEVELS - 1) as f64 - 1.0;
        svg.path(d, &format!(r#"fill="{}" class="cells""#, diverging(u).hex()));
    }
    for (ch, name) in channels.iter().enumerate() {
        svg.text(f.x - 6.0, f.y + row_h * (ch as f64 + 0.5) + 4.0, TICK_FONT, Anchor::End, name);
    }
    let dur = t as f64 / fs.max(f64::MIN_POSITIVE);
    let xs = Linear::new(0.0, dur, f.x, f.right());
    x_axis(&mut svg, f, &xs, &ticks(0.0, dur, 5), "time (s)");
    svg.rect(f.x, f.y, f.w, f.h, r##"fill="none" stroke="#333" stroke-width="1""##);
    colour_bar(&mut svg, Frame { x: f.right() + 20.0, y: f.y, w: 14.0, h: f.h.min(260.0) }, limit, unit);
    svg.finish("heatmap", chart_title)
}

/// A vertical diverging colour bar from `-limit` (bottom) to `+limit` (top).
pub(crate) fn colour_bar(svg: &mut Svg, f: Frame, limit: f64, unit: &str) {
    let steps = 40;
    let h = f.h / steps as f64;
    for i in 0..steps {
        let u = 1.0 - 2.0 * (i as f64 + 0.5) / steps as f64;
        svg.rect(f.x, f.y + h * i as f64, f.w, h + 0.3, &format!(r#"fill="{}""#, diverging(u).hex()));
    }
    svg.rect(f.x, f.y, f.w, f.h, r##"fill="none" stroke="#333" stroke-width="0.8""##);
    let ys = Linear::new(-limit, limit, f.bottom(), f.y);
    for v in [-limit, 0.0, limit] {
        let y = ys.map(v);
        svg.line(f.right(), y, f.right() + 4.0, y, AXIS_STYLE);
        svg.text(f.right() + 6.0, y + 4.0, TICK_FONT, Anchor::Start, &label(v, 2));
    }
    svg.text(f.x, f.bottom() + 16.0, TICK_FONT, Anchor::Start, unit);
}

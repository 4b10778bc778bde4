//! How many seeds name each band: bars of fractions with the majority line.

use super::{title, title_width, y_axis_with, Frame, AXIS_STYLE, TICK_FONT};
use crate::svg::{label, Anchor, Linear, Svg};

/// One bar of [`fraction_bars`].
#[derive(Clone, Debug, PartialEq)]
pub struct FractionBar {
    /// the band (or `none`)
    pub name: String,
    /// the fraction of seeds naming it, 0 to 1
    pub fraction: f64,
}

/// Bars of the fraction of `n_seeds` seeds naming each band, from 0 to 1,
/// each labelled `k/n`, with a dashed line at one half: a bar above it is a
/// strict majority (drawn solid; the others faded). The bar named `none`
/// (seeds naming no band) is grey.
pub fn fraction_bars(chart_title: &str, bars: &[FractionBar], n_seeds: usize) -> String {
    let n = bars.len().max(1);
    let w = ((360.0 / n as f64).clamp(54.0, 90.0) * n as f64).max(title_width(chart_title) - 136.0);
    let slot = w / n as f64;
    let f = Frame { x: 64.0, y: 40.0, w, h: 180.0 };
    let mut svg = Svg::new(f.right() + 72.0, f.bottom() + 40.0);
    title(&mut svg, chart_title);
    let ys = Linear::new(0.0, 1.0, f.bottom(), f.y);
    let ticks: Vec<(f64, String)> = [0.0, 0.25, 0.5, 0.75, 1.0]
        .iter()
        .map(|&v| (ys.map(v), format!("{}%", label(100.0 * v, 3))))
        .collect();
    y_axis_with(&mut svg, f, &ticks, "share of seeds", 48.0);
    for (i, b) in bars.iter().enumerate() {
        let cx = f.x + slot * (i as f64 + 0.5);
        let v = if b.fraction.is_finite() { b.fraction.clamp(0.0, 1.0) } else { 0.0 };
        let top = ys.map(v);
        let fill = if b.name == "none" { "#999999" } else { "#0072b2" };
        let opacity = if v > 0.5 { "1" } else { "0.5" };
        svg.rect(
            cx - slot * 0.3,
            top,
            slot * 0.6,
            f.bottom() - top,
            &format!(r#"fill="{fill}" fill-opacity="{opacity}" class="bar""#),
        );
        let k = (v * n_seeds as f64).round() as usize;
        svg.text(cx, top - 5.0, TICK_FONT, Anchor::Middle, &format!("{k}/{n_seeds}"));
        svg.text(cx, f.bottom() + 16.0, TICK_FONT, Anchor::Middle, &b.name);
    }
    let half = ys.map(0.5);
    svg.line(f.x, half, f.right(), half, r##"stroke="#d55e00" stroke-width="1.2" stroke-dasharray="5 3""##);
    svg.text_styled(f.right() + 6.0, half + 4.0, TICK_FONT, Anchor::Start, "majority", r##"fill="#d55e00""##);
    svg.line(f.x, f.bottom(), f.right(), f.bottom(), AXIS_STYLE);
    svg.finish("fractions", chart_title)
}

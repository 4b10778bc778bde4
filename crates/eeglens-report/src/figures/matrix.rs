//! A small matrix of values (rows by columns) as coloured, labelled cells.

use super::heatmap::colour_bar;
use super::{title, title_width, Frame, TICK_FONT};
use crate::svg::{diverging, extent, Anchor, Svg};

/// Width of a column, px.
const CELL_W: f64 = 64.0;

/// `values[row][col]` as cells coloured on a diverging scale symmetric about
/// zero (saturating at the largest |value|: red positive, blue negative),
/// each labelled with its value; row names on the left, column names on top,
/// a colour bar labelled `unit`. Missing or non-finite values are grey.
pub fn value_matrix(
    chart_title: &str,
    rows: &[String],
    cols: &[String],
    values: &[Vec<f64>],
    unit: &str,
) -> String {
    let cell_h = (440.0 / rows.len().max(1) as f64).clamp(14.0, 24.0);
    let f = Frame {
        x: 56.0,
        y: 52.0,
        w: CELL_W * cols.len().max(1) as f64,
        h: cell_h * rows.len().max(1) as f64,
    };
    let mut svg = Svg::new((f.right() + 96.0).max(title_width(chart_title)), f.bottom() + 30.0);
    title(&mut svg, chart_title);
    let value =
        |r: usize, c: usize| values.get(r).and_then(|row| row.get(c)).copied().filter(|v| v.is_finite());
    let limit = extent(values.iter().flatten().filter(|v| v.is_finite()).map(|v| v.abs()))
        .map_or(1.0, |e| e.1)
        .max(1e-12);
    for (c, name) in cols.iter().enumerate() {
        svg.text(f.x + CELL_W * (c as f64 + 0.5), f.y - 8.0, TICK_FONT, Anchor::Middle, name);
    }
    for (r, name) in rows.iter().enumerate() {
        let y = f.y + cell_h * r as f64;
        svg.text(f.x - 6.0, y + cell_h / 2.0 + 4.0, TICK_FONT, Anchor::End, name);
        for c in 0..cols.len() {
            let x = f.x + CELL_W * c as f64;
            let Some(v) = value(r, c) else {
                svg.rect(x, y, CELL_W, cell_h, r##"fill="#e0e0e0" class="cell""##);
                continue;
            };
            let u = (v / limit).clamp(-1.0, 1.0);
            svg.rect(x, y, CELL_W, cell_h, &format!(r#"fill="{}" class="cell""#, diverging(u).hex()));
            let ink = if u.abs() > 0.6 { "#fff" } else { "#111" };
            svg.text_styled(
                x + CELL_W / 2.0,
                y + cell_h / 2.0 + 3.5,
                (cell_h - 4.0).min(TICK_FONT - 1.0),
                Anchor::Middle,
                &format!("{v:.2}"),
                &format!(r#"fill="{ink}" class="value""#),
            );
        }
    }
    svg.rect(f.x, f.y, f.w, f.h, r##"fill="none" stroke="#333" stroke-width="1""##);
    colour_bar(&mut svg, Frame { x: f.right() + 20.0, y: f.y, w: 14.0, h: f.h.min(260.0) }, limit, unit);
    svg.finish("matrix", chart_title)
}

//! The confusion matrix.

use super::{title, AXIS_FONT, TICK_FONT};
use crate::svg::{sequential, Anchor, Svg};

/// Counts per true class (rows) and predicted class (columns), each cell
/// shaded by its share of the row and labelled with the count and that share.
///
/// `counts[true][predicted]`; rows shorter than `classes` count as zeros.
pub fn confusion_matrix(chart_title: &str, classes: &[String], counts: &[Vec<u64>]) -> String {
    let k = classes.len().max(1);
    let cell = (240.0 / k as f64).clamp(36.0, 90.0);
    let (x0, y0) = (120.0, 56.0);
    let mut svg = Svg::new(x0 + cell * k as f64 + 40.0, y0 + cell * k as f64 + 56.0);
    title(&mut svg, chart_title);
    for (i, name) in classes.iter().enumerate() {
        let row = counts.get(i).map(Vec::as_slice).unwrap_or(&[]);
        let total: u64 = row.iter().sum();
        for j in 0..k {
            let n = row.get(j).copied().unwrap_or(0);
            let share = if total > 0 { n as f64 / total as f64 } else { 0.0 };
            let (x, y) = (x0 + cell * j as f64, y0 + cell * i as f64);
            svg.rect(
                x,
                y,
                cell,
                cell,
                &format!(r##"fill="{}" stroke="#fff" stroke-width="1""##, sequential(share).hex()),
            );
            let ink = if share > 0.55 { "#fff" } else { "#111" };
            svg.text_styled(
                x + cell / 2.0,
                y + cell / 2.0,
                AXIS_FONT,
                Anchor::Middle,
                &n.to_string(),
                &format!(r#"fill="{ink}" font-weight="bold""#),
            );
            svg.text_styled(
                x + cell / 2.0,
                y + cell / 2.0 + 15.0,
                TICK_FONT - 1.0,
                Anchor::Middle,
                &format!("{:.0}%", 100.0 * share),
                &format!(r#"fill="{ink}""#),
            );
        }
        svg.text(x0 - 8.0, y0 + cell * (i as f64 + 0.5) + 4.0, TICK_FONT, Anchor::End, name);
        svg.text(x0 + cell * (i as f64 + 0.5), y0 + cell * k as f64 + 16.0, TICK_FONT, Anchor::Middle, name);
    }
    svg.text_styled(
        x0 + cell * k as f64 / 2.0,
        y0 + cell * k as f64 + 36.0,
        AXIS_FONT,
        Anchor::Middle,
        "predicted class",
        r#"class="axis-label""#,
    );
    svg.text_styled(
        x0 + cell * k as f64 / 2.0,
        y0 - 10.0,
        TICK_FONT,
        Anchor::Middle,
        "cells: count and share of the true class",
        r##"fill="#555""##,
    );
    let (lx, ly) = (24.0, y0 + cell * k as f64 / 2.0);
    svg.vtext(lx, ly, AXIS_FONT, "true class");
    svg.finish("confusion", chart_title)
}

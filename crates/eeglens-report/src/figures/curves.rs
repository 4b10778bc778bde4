//! Line charts: training curves (loss and accuracy per epoch, train and validation).

use super::{legend, title, x_axis, y_axis, Frame, TICK_FONT};
use crate::svg::{extent, series_colour, ticks, Anchor, Linear, Svg};

/// One line of a chart: a value per x (`NaN` where missing).
#[derive(Clone, Copy, Debug)]
pub struct Series<'a> {
    /// legend entry
    pub name: &'a str,
    /// one value per x
    pub values: &'a [f64],
    /// index into the palette
    pub colour: usize,
    /// drawn dashed (validation curves)
    pub dashed: bool,
}

/// Per-epoch figures of a run (`NaN` where an epoch has no validation).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Curves {
    /// epoch numbers
    pub epochs: Vec<f64>,
    /// mean training loss
    pub train_loss: Vec<f64>,
    /// validation loss
    pub val_loss: Vec<f64>,
    /// training accuracy
    pub train_accuracy: Vec<f64>,
    /// validation accuracy
    pub val_accuracy: Vec<f64>,
    /// the epoch of the best checkpoint, marked on both panels
    pub best: Option<f64>,
}

const PANEL_W: f64 = 340.0;
const PANEL_H: f64 = 220.0;

/// Draws series over `x` into frame `f`; `y_range` fixes the y interval; a
/// vertical mark at `mark` (the best epoch); the legend inside the frame's
/// top right corner when `inside_legend` (else the caller draws one).
fn plot(
    svg: &mut Svg,
    f: Frame,
    x: &[f64],
    series: &[Series<'_>],
    labels: (&str, &str),
    y_range: Option<(f64, f64)>,
    mark: Option<f64>,
    inside_legend: bool,
) {
    let (x0, x1) = extent(x.iter().copied()).unwrap_or((0.0, 1.0));
    let (y0, y1) = y_range
        .or_else(|| extent(series.iter().flat_map(|s| s.values.iter().copied())))
        .map(|(a, b)| {
            let pad = 0.05 * (b - a).abs().max(1e-9);
            (a - pad, b + pad)
        })
        .unwrap_or((0.0, 1.0));
    let xs = Linear::new(x0, x1, f.x, f.right());
    let ys = Linear::new(y0, y1, f.bottom(), f.y);
    let xt: Vec<f64> = ticks(x0, x1, 6).into_iter().filter(|v| x0 > 50.0 || v.fract() == 0.0).collect();
    x_axis(svg, f, &xs, &xt, labels.0);
    y_axis(svg, f, &ys, &ticks(y0, y1, 5), labels.1);
    if let Some(m) = mark.filter(|m| m.is_finite() && *m >= x0 && *m <= x1) {
        let px = xs.map(m);
        svg.line(px, f.y, px, f.bottom(), r##"stroke="#777" stroke-width="1.2" stroke-dasharray="2 3""##);
        svg.text(px, f.y - 3.0, TICK_FONT, Anchor::Middle, "best");
    }
    for s in series {
        let colour = series_colour(s.colour);
        let dash = if s.dashed { r#" stroke-dasharray="5 3""# } else { "" };
        let pts: Vec<(f64, f64)> = x
            .iter()
            .zip(s.values)
            .map(|(&a, &b)| if b.is_finite() { (xs.map(a), ys.map(b)) } else { (f64::NAN, f64::NAN) })
            .collect();
        svg.polyline(&pts, &format!(r#"stroke="{colour}" stroke-width="2"{dash}"#));
        if x.len() <= 40 {
            for &(px, py) in pts.iter().filter(|(a, _)| a.is_finite()) {
                svg.circle(px, py, 2.5, &format!(r#"fill="{colour}""#));
            }
        }
    }
    if inside_legend {
        legend(svg, f, &entries_of(series));
    }
}

fn entries_of<'a>(series: &[Series<'a>]) -> Vec<(String, &'static str, bool)> {
    series.iter().map(|s| (s.name.to_string(), series_colour(s.colour), s.dashed)).collect()
}

/// A legend in one row from `(x, y)` (the baseline of its text), outside any frame.
fn legend_row(svg: &mut Svg, x: f64, y: f64, entries: &[(String, &str, bool)]) {
    let mut at = x;
    for (name, colour, dashed) in entries {
        let dash = if *dashed { r#" stroke-dasharray="5 3""# } else { "" };
        svg.line(at, y - 4.0, at + 20.0, y - 4.0, &format!(r#"stroke="{colour}" stroke-width="2"{dash}"#));
        svg.text(at + 24.0, y, TICK_FONT, Anchor::Start, name);
        at += 34.0 + 6.6 * name.chars().count() as f64;
    }
}

/// A single line chart.
///
/// # Panics
/// Never; series shorter than `x` are drawn as far as they go.
pub fn line_chart(
    chart_title: &str,
    x: &[f64],
    series: &[Series<'_>],
    x_label: &str,
    y_label: &str,
    y_range: Option<(f64, f64)>,
) -> String {
    let mut svg = Svg::new(PANEL_W + 90.0, PANEL_H + 80.0);
    title(&mut svg, chart_title);
    let f = Frame { x: 66.0, y: 32.0, w: PANEL_W, h: PANEL_H };
    plot(&mut svg, f, x, series, (x_label, y_label), y_range, None, true);
    svg.finish("lines", chart_title)
}

/// Training curves: loss (left) and accuracy (right) per epoch, training solid,
/// validation dashed, the best epoch marked; one legend below both panels, so
/// that it covers no point.
pub fn training_curves(c: &Curves) -> String {
    let mut svg = Svg::new(2.0 * PANEL_W + 170.0, PANEL_H + 100.0);
    title(&mut svg, "Training curves");
    let loss = [
        Series { name: "train", values: &c.train_loss, colour: 0, dashed: false },
        Series { name: "validation", values: &c.val_loss, colour: 1, dashed: true },
    ];
    let acc = [
        Series { name: "train", values: &c.train_accuracy, colour: 0, dashed: false },
        Series { name: "validation", values: &c.val_accuracy, colour: 1, dashed: true },
    ];
    let left = Frame { x: 66.0, y: 32.0, w: PANEL_W, h: PANEL_H };
    plot(&mut svg, left, &c.epochs, &loss, ("epoch", "loss (cross-entropy)"), None, c.best, false);
    let right = Frame { x: 66.0 + PANEL_W + 80.0, ..left };
    let (lo, _) = extent(acc.iter().flat_map(|s| s.values.iter().copied())).unwrap_or((0.0, 1.0));
    plot(&mut svg, right, &c.epochs, &acc, ("epoch", "accuracy"), Some((lo.min(0.5), 1.0)), c.best, false);
    legend_row(&mut svg, left.x, left.bottom() + 56.0, &entries_of(&loss));
    svg.finish("curves", "Training curves: loss and accuracy per epoch")
}

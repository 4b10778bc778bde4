//! Class power spectra per channel group: one small panel per group on one
//! shared logarithmic power axis, each class a mean curve in a shaded band
//! of ± one standard error.

use super::{title, x_axis, y_axis_log, Frame, TICK_FONT};
use crate::svg::{extent, num, series_colour, ticks, Anchor, Linear, Log10, Svg};

/// One class's curve with its band (`NaN` SEM: no band there).
#[derive(Clone, Debug, PartialEq)]
pub struct PsdSeries {
    /// legend entry
    pub name: String,
    /// one value per frequency
    pub mean: Vec<f64>,
    /// its standard error, one value per frequency
    pub sem: Vec<f64>,
}

/// One panel: a channel group and its class curves (the same classes, in the
/// same order, in every panel).
#[derive(Clone, Debug, PartialEq)]
pub struct PsdPanel {
    /// the panel's heading
    pub name: String,
    /// one per class
    pub series: Vec<PsdSeries>,
}

const PANEL_W: f64 = 300.0;
const PANEL_H: f64 = 180.0;
const COLUMNS: usize = 2;
/// Left margin of a panel (tick labels and axis name), gap between panels.
const LEFT: f64 = 78.0;
const GAP_X: f64 = 24.0;
const TOP: f64 = 48.0;
const GAP_Y: f64 = 82.0;

/// The panels side by side (two per row), up to `f_max` Hz (`None`: the
/// last frequency), all on one power axis so that groups compare; a legend
/// of the first panel's series below them.
///
/// Non-positive or non-finite values are left out of curves and bands; a
/// band's lower edge is cut at the axis' floor.
pub fn group_psd(
    chart_title: &str,
    freqs: &[f64],
    panels: &[PsdPanel],
    f_max: Option<f64>,
    unit: &str,
) -> String {
    let rows = panels.len().div_ceil(COLUMNS).max(1);
    let cols = panels.len().clamp(1, COLUMNS);
    let width = cols as f64 * (LEFT + PANEL_W + GAP_X) + 10.0;
    let height = TOP + rows as f64 * (PANEL_H + GAP_Y) + 10.0;
    let mut svg = Svg::new(width, height);
    title(&mut svg, chart_title);
    let fmax = f_max.or_else(|| freqs.last().copied()).filter(|v| v.is_finite() && *v > 0.0).unwrap_or(1.0);
    let fmin = freqs.first().copied().unwrap_or(0.0).min(fmax);
    let shown = |i: usize| freqs.get(i).is_some_and(|f| *f <= fmax + 1e-9);
    let values = panels.iter().flat_map(|p| p.series.iter()).flat_map(|s| {
        s.mean.iter().zip(&s.sem).enumerate().filter(|(i, _)| shown(*i)).flat_map(|(_, (m, e))| {
            let e = if e.is_finite() { *e } else { 0.0 };
            [*m - e, *m + e, *m]
        })
    });
    let (p0, p1) = extent(values.filter(|v| *v > 0.0)).unwrap_or((1e-3, 1.0));
    let (p0, p1) = (p0 / 1.5, p1 * 1.5);
    for (k, panel) in panels.iter().enumerate() {
        let (r, c) = (k / COLUMNS, k % COLUMNS);
        let f = Frame {
            x: c as f64 * (LEFT + PANEL_W + GAP_X) + LEFT,
            y: TOP + r as f64 * (PANEL_H + GAP_Y),
            w: PANEL_W,
            h: PANEL_H,
        };
        svg.text_styled(
            f.x + f.w / 2.0,
            f.y - 8.0,
            12.5,
            Anchor::Middle,
            &panel.name,
            r#"class="panel-title""#,
        );
        let xs = Linear::new(fmin, fmax, f.x, f.right());
        let ys = Log10::new(p0, p1, f.bottom(), f.y);
        x_axis(&mut svg, f, &xs, &ticks(fmin, fmax, 6), "frequency (Hz)");
        y_axis_log(&mut svg, f, &ys, &format!("power ({unit})"));
        for (s_i, s) in panel.series.iter().enumerate() {
            let colour = series_colour(s_i);
            band(&mut svg, freqs, s, &shown, &xs, &ys, p0, colour);
            let pts: Vec<(f64, f64)> =
                freqs
                    .iter()
                    .zip(&s.mean)
                    .enumerate()
                    .filter(|(i, _)| shown(*i))
                    .map(|(_, (&fr, &m))| {
                        if m > 0.0 && m.is_finite() {
                            (xs.map(fr), ys.map(m))
                        } else {
                            (f64::NAN, f64::NAN)
                        }
                    })
                    .collect();
            svg.polyline(&pts, &format!(r#"stroke="{colour}" stroke-width="1.8" class="mean""#));
        }
    }
    let mut at = LEFT;
    let y = height - 14.0;
    for (i, s) in panels.first().map(|p| p.series.as_slice()).unwrap_or_default().iter().enumerate() {
        let colour = series_colour(i);
        svg.rect(at, y - 10.0, 20.0, 10.0, &format!(r#"fill="{colour}" fill-opacity="0.25""#));
        svg.line(at, y - 5.0, at + 20.0, y - 5.0, &format!(r#"stroke="{colour}" stroke-width="2""#));
        svg.text(at + 24.0, y, TICK_FONT, Anchor::Start, &s.name);
        at += 40.0 + 6.6 * s.name.chars().count() as f64;
    }
    svg.finish("group-psd", chart_title)
}

/// The shaded band mean ± SEM of `s`, one closed path per stretch of finite values.
#[allow(clippy::too_many_arguments)]
fn band(
    svg: &mut Svg,
    freqs: &[f64],
    s: &PsdSeries,
    shown: &dyn Fn(usize) -> bool,
    xs: &Linear,
    ys: &Log10,
    floor: f64,
    colour: &str,
) {
    let edges: Vec<Option<(f64, f64, f64)>> = (0..freqs.len().min(s.mean.len()).min(s.sem.len()))
        .filter(|&i| shown(i))
        .map(|i| {
            let (m, e) = (s.mean[i], s.sem[i]);
            (m.is_finite() && e.is_finite() && m + e > 0.0)
                .then(|| (xs.map(freqs[i]), ys.map(m + e), ys.map((m - e).max(floor))))
        })
        .collect();
    for piece in edges.split(Option::is_none) {
        let piece: Vec<(f64, f64, f64)> = piece.iter().flatten().copied().collect();
        if piece.len() < 2 {
            continue;
        }
        let mut d = String::new();
        for (i, (x, hi, _)) in piece.iter().enumerate() {
            d.push_str(if i == 0 { "M" } else { " L" });
            d.push_str(&format!("{},{}", num(*x), num(*hi)));
        }
        for (x, _, lo) in piece.iter().rev() {
            d.push_str(&format!(" L{},{}", num(*x), num(*lo)));
        }
        d.push_str(" Z");
        svg.path(&d, &format!(r#"fill="{colour}" fill-opacity="0.2" stroke="none" class="sem""#));
    }
}

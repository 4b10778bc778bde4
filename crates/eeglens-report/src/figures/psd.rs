//! Class power spectra on a logarithmic axis with the bands shaded.

use super::{legend, title, x_axis, y_axis_log, Frame, TICK_FONT};
use crate::svg::{extent, series_colour, ticks, Anchor, Linear, Log10, Svg};

/// A frequency band drawn as a shaded region.
#[derive(Clone, Debug, PartialEq)]
pub struct BandSpan {
    /// name shown above the region
    pub name: String,
    /// lower edge, Hz
    pub lo: f64,
    /// upper edge, Hz
    pub hi: f64,
}

/// The spectra of the classes (`classes[i] = (name, one value per frequency)`)
/// on a log power axis, up to `f_max` Hz (`None`: the last frequency), with
/// the bands shaded alternately and named above the plot.
///
/// Non-positive or non-finite powers are left out of the curves.
pub fn psd_curves(
    chart_title: &str,
    freqs: &[f64],
    classes: &[(String, Vec<f64>)],
    bands: &[BandSpan],
    f_max: Option<f64>,
    unit: &str,
) -> String {
    let f = Frame { x: 74.0, y: 52.0, w: 420.0, h: 250.0 };
    let mut svg = Svg::new(f.right() + 30.0, f.bottom() + 48.0);
    title(&mut svg, chart_title);
    let fmax = f_max.or_else(|| freqs.last().copied()).filter(|v| v.is_finite() && *v > 0.0).unwrap_or(1.0);
    let fmin = freqs.first().copied().unwrap_or(0.0).min(fmax);
    let in_range = |i: usize| freqs[i] <= fmax + 1e-9;
    let (p0, p1) = extent(
        classes
            .iter()
            .flat_map(|(_, v)| {
                v.iter().enumerate().filter(|(i, _)| *i < freqs.len() && in_range(*i)).map(|(_, &p)| p)
            })
            .filter(|p| *p > 0.0),
    )
    .unwrap_or((1e-3, 1.0));
    let (p0, p1) = (p0 / 1.5, p1 * 1.5);
    let xs = Linear::new(fmin, fmax, f.x, f.right());
    let ys = Log10::new(p0, p1, f.bottom(), f.y);
    for (i, b) in bands.iter().enumerate() {
        let (x0, x1) = (xs.map(b.lo), xs.map(b.hi));
        let fill = if i % 2 == 0 { "#eef2f7" } else { "#f7f1e6" };
        svg.rect(x0, f.y, x1 - x0, f.h, &format!(r#"fill="{fill}" class="band""#));
        svg.text_styled(
            (x0 + x1) / 2.0,
            f.y - 6.0,
            TICK_FONT,
            Anchor::Middle,
            &b.name,
            r#"class="band-label""#,
        );
    }
    x_axis(&mut svg, f, &xs, &ticks(fmin, fmax, 6), "frequency (Hz)");
    y_axis_log(&mut svg, f, &ys, &format!("power ({unit})"));
    for (k, (_, values)) in classes.iter().enumerate() {
        let pts: Vec<(f64, f64)> = freqs
            .iter()
            .zip(values)
            .filter(|(fr, _)| **fr <= fmax + 1e-9)
            .map(
                |(&fr, &p)| {
                    if p > 0.0 && p.is_finite() {
                        (xs.map(fr), ys.map(p))
                    } else {
                        (f64::NAN, f64::NAN)
                    }
                },
            )
            .collect();
        svg.polyline(&pts, &format!(r#"stroke="{}" stroke-width="2""#, series_colour(k)));
    }
    let entries: Vec<(String, &str, bool)> =
        classes.iter().enumerate().map(|(k, (n, _))| (n.clone(), series_colour(k), false)).collect();
    legend(&mut svg, f, &entries);
    svg.finish("psd", chart_title)
}

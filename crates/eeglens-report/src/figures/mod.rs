//! The figures, one kind per file, each a function from plain data (slices,
//! `[channels][time]` matrices in row-major order, named per-channel values)
//! to an SVG document string. None of them reads a file or knows about runs.
//!
//! | function | figure |
//! | --- | --- |
//! | [`training_curves`] | loss and accuracy per epoch, train and validation |
//! | [`confusion_matrix`] | counts per true and predicted class |
//! | [`stacked_traces`] | one trace per channel, names on the axis, a scale bar |
//! | [`heatmap`](fn@heatmap) | channel x time with a diverging colour scale |
//! | [`psd_curves`] | class spectra on a log axis, bands shaded and labelled |
//! | [`group_psd`](fn@group_psd) | class spectra per channel group, mean ± SEM over subjects |
//! | [`roc_curves`] | ROC curves of several classifiers on one pair of axes |
//! | [`band_bars`] | log power ratio per band with significance marks |
//! | [`scalp_map`] | per-channel values interpolated over the head by spherical splines ([`ScalpLayout`] draws many maps on one set of electrodes) |
//! | [`value_matrix`] | a small matrix (channels x bands) as labelled cells |
//! | [`fraction_bars`] | the share of seeds naming each band, with the majority line |
//! | [`channel_spread`] | a mean per channel with ± 1 SD whiskers |
//! | [`prediction_scatter`] | a regression's predicted against true values, with the identity line |

mod bands;
mod confusion;
mod curves;
mod fractions;
mod group_psd;
mod heatmap;
mod matrix;
mod psd;
mod roc;
mod scatter;
mod spread;
mod topo;
mod traces;

pub use bands::{band_bars, BandBar};
pub use confusion::confusion_matrix;
pub use curves::{line_chart, training_curves, Curves, Series};
pub use fractions::{fraction_bars, FractionBar};
pub use group_psd::{group_psd, PsdPanel, PsdSeries};
pub use heatmap::{heatmap, heatmap_limit, heatmap_scaled};
pub use matrix::value_matrix;
pub use psd::{psd_curves, BandSpan};
pub use roc::{roc_area, roc_curve, roc_curves, roc_points, RocSeries};
pub use scatter::prediction_scatter;
pub use spread::{channel_spread, ChannelSpread};
pub use topo::{scalp_map, unproject, ScalpLayout, ScalpMaps, TopoPoint, MAP_SPLINE, MIN_ELECTRODES};
pub use traces::{stacked_traces, stacked_traces_scaled, trace_amplitude};

use crate::svg::{label, log_label, Anchor, Linear, Log10, Svg};

/// Font size of tick labels.
pub(crate) const TICK_FONT: f64 = 11.0;
/// Font size of axis labels.
pub(crate) const AXIS_FONT: f64 = 12.0;
/// Font size of figure titles.
pub(crate) const TITLE_FONT: f64 = 14.0;
/// Stroke of axes and ticks.
pub(crate) const AXIS_STYLE: &str = r##"stroke="#333" stroke-width="1""##;
/// Stroke of grid lines.
pub(crate) const GRID_STYLE: &str = r##"stroke="#ddd" stroke-width="0.6""##;

/// A plot area inside a figure.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Frame {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl Frame {
    pub fn right(&self) -> f64 {
        self.x + self.w
    }
    pub fn bottom(&self) -> f64 {
        self.y + self.h
    }
}

/// The width a figure needs to hold `text` as its title (an estimate of bold
/// text at [`TITLE_FONT`], with a margin on each side).
pub(crate) fn title_width(text: &str) -> f64 {
    text.chars().count() as f64 * 0.62 * TITLE_FONT + 24.0
}

/// The title centred above the figure.
pub(crate) fn title(svg: &mut Svg, text: &str) {
    let x = svg.width() / 2.0;
    svg.text_styled(x, 18.0, TITLE_FONT, Anchor::Middle, text, r#"font-weight="bold""#);
}

/// The x axis along the frame's bottom: line, ticks with labels, grid and the axis label.
pub(crate) fn x_axis(svg: &mut Svg, f: Frame, scale: &Linear, ticks: &[f64], name: &str) {
    svg.line(f.x, f.bottom(), f.right(), f.bottom(), AXIS_STYLE);
    for &t in ticks {
        let x = scale.map(t);
        svg.line(x, f.y, x, f.bottom(), GRID_STYLE);
        svg.line(x, f.bottom(), x, f.bottom() + 4.0, AXIS_STYLE);
        svg.text(x, f.bottom() + 16.0, TICK_FONT, Anchor::Middle, &label(t, 3));
    }
    svg.text_styled(
        f.x + f.w / 2.0,
        f.bottom() + 32.0,
        AXIS_FONT,
        Anchor::Middle,
        name,
        r#"class="axis-label""#,
    );
}

/// The y axis along the frame's left side, with ticks given as (pixel, label).
pub(crate) fn y_axis_with(
    svg: &mut Svg,
    f: Frame,
    pixel_ticks: &[(f64, String)],
    name: &str,
    label_offset: f64,
) {
    svg.line(f.x, f.y, f.x, f.bottom(), AXIS_STYLE);
    for (y, text) in pixel_ticks {
        svg.line(f.x, *y, f.right(), *y, GRID_STYLE);
        svg.line(f.x - 4.0, *y, f.x, *y, AXIS_STYLE);
        svg.text(f.x - 6.0, y + 4.0, TICK_FONT, Anchor::End, text);
    }
    let x = (f.x - label_offset).max(AXIS_FONT);
    svg.vtext(x, f.y + f.h / 2.0, AXIS_FONT, name);
}

/// The y axis of a linear scale.
pub(crate) fn y_axis(svg: &mut Svg, f: Frame, scale: &Linear, ticks: &[f64], name: &str) {
    let t: Vec<(f64, String)> = ticks.iter().map(|&v| (scale.map(v), label(v, 3))).collect();
    y_axis_with(svg, f, &t, name, 44.0);
}

/// The y axis of a logarithmic scale: its [`Log10::ticks`], each labelled
/// by [`log_label`] (every log axis of the report goes through here).
pub(crate) fn y_axis_log(svg: &mut Svg, f: Frame, scale: &Log10, name: &str) {
    let t: Vec<(f64, String)> = scale.ticks().into_iter().map(|v| (scale.map(v), log_label(v))).collect();
    y_axis_with(svg, f, &t, name, 58.0);
}

/// A legend of coloured line samples in the frame's top-right corner.
pub(crate) fn legend(svg: &mut Svg, f: Frame, entries: &[(String, &str, bool)]) {
    let longest = entries.iter().map(|(n, _, _)| n.chars().count()).max().unwrap_or(0) as f64;
    let w = 34.0 + longest * 6.6;
    let x0 = f.right() - w - 6.0;
    let y0 = f.y + 6.0;
    svg.rect(
        x0,
        y0,
        w,
        8.0 + 16.0 * entries.len() as f64,
        r##"fill="#fff" fill-opacity="0.85" stroke="#bbb" stroke-width="0.6""##,
    );
    for (i, (name, colour, dashed)) in entries.iter().enumerate() {
        let y = y0 + 14.0 + 16.0 * i as f64;
        let dash = if *dashed { r#" stroke-dasharray="5 3""# } else { "" };
        svg.line(
            x0 + 6.0,
            y - 4.0,
            x0 + 26.0,
            y - 4.0,
            &format!(r#"stroke="{colour}" stroke-width="2"{dash}"#),
        );
        svg.text(x0 + 30.0, y, TICK_FONT, Anchor::Start, name);
    }
}

//! Stacked traces: one line per channel, channel names on the axis, a scale bar.

use super::{title, x_axis, Frame, AXIS_STYLE, TICK_FONT};
use crate::svg::{num, series_colour, ticks, Anchor, Linear, Svg};

/// Points drawn per trace at most (longer traces are decimated by a stride).
const MAX_POINTS: usize = 1024;

/// A round value (1, 2 or 5 times a power of ten) no larger than `x`.
pub(crate) fn round_down(x: f64) -> f64 {
    if !(x.is_finite() && x > 0.0) {
        return 1.0;
    }
    let p = 10f64.powf(x.log10().floor());
    [5.0, 2.0, 1.0].iter().map(|m| m * p).find(|v| *v <= x).unwrap_or(p)
}

/// The `q`-quantile of `|x|` over finite values (0 when there is none).
pub(crate) fn abs_quantile(x: &[f32], q: f64) -> f64 {
    let mut a: Vec<f64> = x.iter().map(|v| (*v as f64).abs()).filter(|v| v.is_finite()).collect();
    if a.is_empty() {
        return 0.0;
    }
    let k = ((a.len() - 1) as f64 * q).round() as usize;
    let (_, v, _) = a.select_nth_unstable_by(k, f64::total_cmp);
    *v
}

/// Stacked traces of a `[channels][time]` matrix (row-major, `channels.len()` rows).
///
/// All channels share one amplitude scale, chosen so that 98 % of the samples
/// stay within half a row of their baseline; the bar on the right shows it in
/// `unit`. Samples beyond the plot area are clamped to it.
///
/// # Panics
/// When `data.len()` is not a multiple of `channels.len()`.
pub fn stacked_traces(
    chart_title: &str,
    channels: &[String],
    data: &[f32],
    fs: f64,
    unit: &str,
    colour: usize,
) -> String {
    stacked_traces_scaled(chart_title, channels, data, fs, unit, colour, trace_amplitude(data))
}

/// The amplitude [`stacked_traces`] gives half a row: the 98th percentile of `|value|`.
/// Take it over several matrices to draw them on one scale.
pub fn trace_amplitude(data: &[f32]) -> f64 {
    abs_quantile(data, 0.98)
}

/// [`stacked_traces`] with `amplitude` (in `unit`) drawn as half a row, so that
/// several figures share one scale.
///
/// # Panics
/// When `data.len()` is not a multiple of `channels.len()`.
pub fn stacked_traces_scaled(
    chart_title: &str,
    channels: &[String],
    data: &[f32],
    fs: f64,
    unit: &str,
    colour: usize,
    amplitude: f64,
) -> String {
    let c = channels.len().max(1);
    assert_eq!(data.len() % c, 0, "data holds {} values, not a whole number of {c} channels", data.len());
    let t = data.len() / c;
    let row_h = (420.0 / c as f64).clamp(14.0, 26.0);
    let f = Frame { x: 56.0, y: 34.0, w: 360.0, h: row_h * c as f64 };
    let mut svg = Svg::new(f.right() + 86.0, f.bottom() + 48.0);
    title(&mut svg, chart_title);
    let dur = t as f64 / fs.max(f64::MIN_POSITIVE);
    let xs = Linear::new(0.0, dur, f.x, f.right());
    x_axis(&mut svg, f, &xs, &ticks(0.0, dur, 5), "time (s)");
    svg.line(f.x, f.y, f.x, f.bottom(), AXIS_STYLE);
    let amp = if amplitude.is_finite() && amplitude > 0.0 { amplitude } else { 1.0 };
    let px_per_unit = 0.5 * row_h / amp;
    let stride = t.div_ceil(MAX_POINTS).max(1);
    let style = format!(r#"stroke="{}" stroke-width="1""#, series_colour(colour));
    for (ch, name) in channels.iter().enumerate() {
        let base = f.y + row_h * (ch as f64 + 0.5);
        svg.text(f.x - 6.0, base + 4.0, TICK_FONT, Anchor::End, name);
        let row = &data[ch * t..(ch + 1) * t];
        let pts: Vec<(f64, f64)> = row
            .iter()
            .enumerate()
            .step_by(stride)
            .map(|(i, &v)| {
                let y = if v.is_finite() { base - v as f64 * px_per_unit } else { f64::NAN };
                (xs.map(i as f64 / fs), if y.is_finite() { y.clamp(f.y, f.bottom()) } else { y })
            })
            .collect();
        svg.polyline(&pts, &style);
    }
    // The scale bar: a round amplitude no taller than two rows.
    let bar_val = round_down(2.0 * row_h / px_per_unit);
    let bar_h = bar_val * px_per_unit;
    let bx = f.right() + 18.0;
    let by = f.y + (f.h - bar_h) / 2.0;
    svg.path(
        &format!(
            "M{} {}h6M{} {}v{}M{} {}h6",
            num(bx - 3.0),
            num(by),
            num(bx),
            num(by),
            num(bar_h),
            num(bx - 3.0),
            num(by + bar_h)
        ),
        r##"stroke="#000" stroke-width="2" fill="none" class="scale-bar""##,
    );
    svg.text(
        bx + 8.0,
        by + bar_h / 2.0 + 4.0,
        TICK_FONT,
        Anchor::Start,
        &format!("{} {unit}", crate::svg::label(bar_val, 2)),
    );
    svg.finish("traces", chart_title)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_values_and_quantiles() {
        assert_eq!(round_down(73.0), 50.0);
        assert_eq!(round_down(0.3), 0.2);
        assert_eq!(round_down(f64::NAN), 1.0);
        let x: Vec<f32> = (0..101).map(|i| i as f32 - 50.0).collect();
        assert_eq!(abs_quantile(&x, 1.0), 50.0);
        assert_eq!(abs_quantile(&[], 0.5), 0.0);
    }
}

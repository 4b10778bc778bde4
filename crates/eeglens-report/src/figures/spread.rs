//! A value per channel with its spread: bars of the mean, whiskers of ± 1 SD.

use super::{title, title_width, y_axis, Frame, AXIS_STYLE, TICK_FONT};
use crate::svg::{extent, ticks, Anchor, Linear, Svg};

/// One channel of [`channel_spread`].
#[derive(Clone, Debug, PartialEq)]
pub struct ChannelSpread {
    /// channel name
    pub name: String,
    /// the mean
    pub mean: f64,
    /// the standard deviation (0 when there is one value)
    pub sd: f64,
}

/// A bar per channel from zero to its mean, with a whisker from `mean - sd`
/// to `mean + sd`; channel names below, turned upright. Non-finite means
/// draw nothing (the name stays).
pub fn channel_spread(chart_title: &str, channels: &[ChannelSpread], unit: &str) -> String {
    let n = channels.len().max(1);
    // At least as wide as the title, however few the channels.
    let w = ((560.0 / n as f64).clamp(16.0, 40.0) * n as f64).max(title_width(chart_title) - 88.0);
    let slot = w / n as f64;
    let f = Frame { x: 64.0, y: 40.0, w, h: 200.0 };
    let mut svg = Svg::new(f.right() + 24.0, f.bottom() + 48.0);
    title(&mut svg, chart_title);
    let finite = |c: &ChannelSpread| c.mean.is_finite();
    let sd = |c: &ChannelSpread| if c.sd.is_finite() { c.sd.abs() } else { 0.0 };
    let lo = extent(channels.iter().filter(|c| finite(c)).map(|c| c.mean - sd(c))).map_or(0.0, |e| e.0);
    let hi = extent(channels.iter().filter(|c| finite(c)).map(|c| c.mean + sd(c))).map_or(1.0, |e| e.1);
    let (lo, hi) = (lo.min(0.0), hi.max(0.0));
    let pad = 0.08 * (hi - lo).max(1e-9);
    let (lo, hi) = (if lo < 0.0 { lo - pad } else { 0.0 }, hi + pad);
    let ys = Linear::new(lo, hi, f.bottom(), f.y);
    y_axis(&mut svg, f, &ys, &ticks(lo, hi, 5), unit);
    let zero = ys.map(0.0);
    for (i, c) in channels.iter().enumerate() {
        let cx = f.x + slot * (i as f64 + 0.5);
        if finite(c) {
            let y = ys.map(c.mean);
            svg.rect(
                cx - slot * 0.3,
                y.min(zero),
                slot * 0.6,
                (y - zero).abs(),
                r##"fill="#0072b2" fill-opacity="0.7" class="bar""##,
            );
            let (y0, y1) = (ys.map(c.mean - sd(c)), ys.map(c.mean + sd(c)));
            let whisker = r##"stroke="#222" stroke-width="1.2" class="whisker""##;
            svg.line(cx, y0, cx, y1, whisker);
            svg.line(cx - slot * 0.15, y0, cx + slot * 0.15, y0, whisker);
            svg.line(cx - slot * 0.15, y1, cx + slot * 0.15, y1, whisker);
        }
        svg.text_rotated(cx + 4.0, f.bottom() + 6.0, TICK_FONT, Anchor::End, -90.0, &c.name);
    }
    svg.line(f.x, zero, f.right(), zero, AXIS_STYLE);
    svg.finish("spread", chart_title)
}

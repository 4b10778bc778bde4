//! The band contrast as bars with significance marks.

use super::{title, y_axis, Frame, AXIS_STYLE, TICK_FONT};
use crate::svg::{extent, label, ticks, Anchor, Linear, Svg};

/// One band's contrast.
#[derive(Clone, Debug, PartialEq)]
pub struct BandBar {
    /// band name
    pub name: String,
    /// lower edge, Hz
    pub lo: f64,
    /// upper edge, Hz
    pub hi: f64,
    /// `ln(power of class 1 / power of class 0)`
    pub log_ratio: f64,
    /// p-value
    pub p: f64,
}

/// Stars for a p-value: `***` below alpha/50, `**` below alpha/5, `*` below alpha, else `n.s.`.
pub fn stars(p: f64, alpha: f64) -> &'static str {
    if !p.is_finite() || p >= alpha {
        "n.s."
    } else if p < alpha / 50.0 {
        "***"
    } else if p < alpha / 5.0 {
        "**"
    } else {
        "*"
    }
}

/// Bars of the log power ratio per band (red: more power in `classes.1`,
/// blue: more in `classes.0`), each marked with stars (`*` below alpha, `**` below alpha/5, `***` below alpha/50) and its p-value.
pub fn band_bars(chart_title: &str, bars: &[BandBar], classes: (&str, &str), alpha: f64) -> String {
    let n = bars.len().max(1);
    let slot = (400.0 / n as f64).clamp(60.0, 100.0);
    let f = Frame { x: 70.0, y: 44.0, w: slot * n as f64, h: 220.0 };
    let mut svg = Svg::new(f.right() + 40.0, f.bottom() + 74.0);
    title(&mut svg, chart_title);
    let (lo, hi) = extent(bars.iter().map(|b| b.log_ratio)).unwrap_or((0.0, 0.0));
    let m = lo.abs().max(hi.abs()).max(1e-3) * 1.25;
    let ys = Linear::new(-m, m, f.bottom(), f.y);
    y_axis(&mut svg, f, &ys, &ticks(-m, m, 6), &format!("ln power {} / {}", classes.1, classes.0));
    let zero = ys.map(0.0);
    for (i, b) in bars.iter().enumerate() {
        let cx = f.x + slot * (i as f64 + 0.5);
        let y = ys.map(b.log_ratio);
        let (top, h) = if y < zero { (y, zero - y) } else { (zero, y - zero) };
        let fill = if b.log_ratio >= 0.0 { "#d6604d" } else { "#4393c3" };
        let sig = b.p.is_finite() && b.p < alpha;
        let opacity = if sig { "1" } else { "0.45" };
        svg.rect(
            cx - slot * 0.3,
            top,
            slot * 0.6,
            h,
            &format!(r#"fill="{fill}" fill-opacity="{opacity}" class="bar""#),
        );
        let mark_y = if b.log_ratio >= 0.0 {
            (top - 5.0).max(f.y + 10.0)
        } else {
            (top + h + 14.0).min(f.bottom() - 2.0)
        };
        svg.text_styled(cx, mark_y, 13.0, Anchor::Middle, stars(b.p, alpha), r#"class="sig""#);
        svg.text(cx, f.bottom() + 16.0, TICK_FONT, Anchor::Middle, &b.name);
        svg.text_styled(
            cx,
            f.bottom() + 30.0,
            TICK_FONT - 1.0,
            Anchor::Middle,
            &format!("{}–{} Hz", label(b.lo, 3), label(b.hi, 3)),
            r##"fill="#555""##,
        );
        svg.text_styled(
            cx,
            f.bottom() + 44.0,
            TICK_FONT - 1.0,
            Anchor::Middle,
            &format!("p = {}", label(b.p, 2)),
            r##"fill="#555""##,
        );
    }
    svg.line(f.x, zero, f.right(), zero, AXIS_STYLE);
    svg.text_styled(
        f.x,
        f.bottom() + 64.0,
        TICK_FONT - 1.0,
        Anchor::Start,
        &format!(
            "* p < {}, ** p < {}, *** p < {} (family-wise over the bands)",
            label(alpha, 2),
            label(alpha / 5.0, 2),
            label(alpha / 50.0, 2)
        ),
        r##"fill="#555""##,
    );
    svg.finish("bands", chart_title)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_follow_the_level() {
        assert_eq!(stars(0.2, 0.05), "n.s.");
        assert_eq!(stars(0.03, 0.05), "*");
        assert_eq!(stars(0.005, 0.05), "**");
        assert_eq!(stars(0.0001, 0.05), "***");
        assert_eq!(stars(f64::NAN, 0.05), "n.s.");
    }
}

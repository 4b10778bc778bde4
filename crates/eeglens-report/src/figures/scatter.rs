//! Predicted against true values of a regression: one point per item (a
//! subject), the identity line on which a perfect prediction lies.

use super::{title, x_axis, y_axis, Frame};
use crate::svg::{extent, label, ticks, Anchor, Linear, Svg};

/// A point per `(true, predicted)` pair on equal axes spanning both, with
/// the identity line; `n` and Pearson `r` in the corner when given. Pairs
/// with a non-finite value are left out.
pub fn prediction_scatter(chart_title: &str, pairs: &[(f64, f64)], quantity: &str, r: Option<f64>) -> String {
    let mut svg = Svg::new(340.0, 320.0);
    title(&mut svg, chart_title);
    let f = Frame { x: 62.0, y: 32.0, w: 250.0, h: 230.0 };
    let finite: Vec<(f64, f64)> =
        pairs.iter().copied().filter(|(a, b)| a.is_finite() && b.is_finite()).collect();
    let (lo, hi) = extent(finite.iter().flat_map(|&(a, b)| [a, b])).unwrap_or((0.0, 1.0));
    let pad = if hi > lo { 0.05 * (hi - lo) } else { 1.0 };
    let (lo, hi) = (lo - pad, hi + pad);
    let xs = Linear::new(lo, hi, f.x, f.right());
    let ys = Linear::new(lo, hi, f.bottom(), f.y);
    let t: Vec<f64> = ticks(lo, hi, 5).into_iter().filter(|v| (lo..=hi).contains(v)).collect();
    x_axis(&mut svg, f, &xs, &t, &format!("true {quantity}"));
    y_axis(&mut svg, f, &ys, &t, &format!("predicted {quantity}"));
    svg.line(
        xs.map(lo),
        ys.map(lo),
        xs.map(hi),
        ys.map(hi),
        r##"stroke="#999" stroke-width="1" stroke-dasharray="4 3""##,
    );
    for &(a, b) in &finite {
        svg.circle(xs.map(a), ys.map(b), 3.5, r##"fill="#0072b2" fill-opacity="0.75" class="point""##);
    }
    let note = match r {
        Some(r) if r.is_finite() => format!("n = {}, r = {}", finite.len(), label(r, 3)),
        _ => format!("n = {}", finite.len()),
    };
    svg.text(f.right() - 6.0, f.bottom() - 8.0, 12.0, Anchor::End, &note);
    svg.finish("scatter", chart_title)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_finite_pair_is_a_point_and_the_rest_are_left_out() {
        let svg =
            prediction_scatter("t", &[(1.0, 2.0), (3.0, 2.5), (f64::NAN, 1.0), (4.0, 5.0)], "age", Some(0.9));
        assert_eq!(svg.matches(r#"class="point""#).count(), 3);
        assert!(svg.contains("n = 3, r = 0.9"), "{svg}");
        assert!(!svg.contains("NaN"));
        // No pair at all: empty axes, no panic.
        let svg = prediction_scatter("t", &[], "age", None);
        assert_eq!(svg.matches(r#"class="point""#).count(), 0);
    }
}

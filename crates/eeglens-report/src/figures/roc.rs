//! The ROC curve of a two-class classifier: true-positive rate against
//! false-positive rate as the threshold on the second class's probability
//! falls, with the chance diagonal and the area under the curve.

use super::{title, x_axis, y_axis, Frame};
use crate::svg::{label, series_colour, Anchor, Linear, Svg};

/// The ROC points of `(score, positive)` pairs, from (0, 0) to (1, 1): one
/// step per distinct score, tied scores taken together (a diagonal step).
/// Empty when either class is missing.
pub fn roc_points(scored: &[(f64, bool)]) -> Vec<(f64, f64)> {
    let pos = scored.iter().filter(|s| s.1).count() as f64;
    let neg = scored.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return Vec::new();
    }
    let mut s: Vec<(f64, bool)> = scored.iter().copied().filter(|(x, _)| x.is_finite()).collect();
    s.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut tp, mut fp) = (0.0, 0.0);
    let mut out = vec![(0.0, 0.0)];
    let mut i = 0;
    while i < s.len() {
        let at = s[i].0;
        while i < s.len() && s[i].0 == at {
            if s[i].1 {
                tp += 1.0;
            } else {
                fp += 1.0;
            }
            i += 1;
        }
        out.push((fp / neg, tp / pos));
    }
    out
}

/// The area under `points` (trapezoids).
pub fn roc_area(points: &[(f64, f64)]) -> f64 {
    points.windows(2).map(|w| (w[1].0 - w[0].0) * (w[0].1 + w[1].1) / 2.0).sum()
}

/// One classifier's ROC: its name and its `(probability of the second
/// class, is of the second class)` pairs.
#[derive(Clone, Debug, PartialEq)]
pub struct RocSeries {
    /// legend entry (the area is added to it)
    pub name: String,
    /// the scored items
    pub scored: Vec<(f64, bool)>,
    /// drawn dashed
    pub dashed: bool,
}

/// The ROC curve of `scored` (`(probability of the second class, is of the second class)`).
pub fn roc_curve(chart_title: &str, scored: &[(f64, bool)]) -> String {
    let series = RocSeries { name: String::new(), scored: scored.to_vec(), dashed: false };
    roc_curves(chart_title, std::slice::from_ref(&series))
}

/// The ROC curves of several classifiers on the same items, on one pair of
/// axes with the chance diagonal; each curve's area in the legend (one
/// unnamed curve: its area alone, in the corner).
pub fn roc_curves(chart_title: &str, series: &[RocSeries]) -> String {
    let named = series.iter().any(|s| !s.name.is_empty());
    let mut svg = Svg::new(330.0, if named { 310.0 + 16.0 * series.len() as f64 } else { 310.0 });
    title(&mut svg, chart_title);
    let f = Frame { x: 62.0, y: 32.0, w: 240.0, h: 220.0 };
    let xs = Linear::new(0.0, 1.0, f.x, f.right());
    let ys = Linear::new(0.0, 1.0, f.bottom(), f.y);
    let t = [0.0, 0.25, 0.5, 0.75, 1.0];
    x_axis(&mut svg, f, &xs, &t, "false-positive rate");
    y_axis(&mut svg, f, &ys, &t, "true-positive rate");
    svg.line(
        xs.map(0.0),
        ys.map(0.0),
        xs.map(1.0),
        ys.map(1.0),
        r##"stroke="#999" stroke-width="1" stroke-dasharray="4 3""##,
    );
    let mut drawn = 0;
    for (i, s) in series.iter().enumerate() {
        let points = roc_points(&s.scored);
        let colour = series_colour(i);
        let area = if points.is_empty() {
            "one class only: no curve".to_string()
        } else {
            format!("AUC {}", label(roc_area(&points), 3))
        };
        if !points.is_empty() {
            let px: Vec<(f64, f64)> = points.iter().map(|&(a, b)| (xs.map(a), ys.map(b))).collect();
            let dash = if s.dashed { r#" stroke-dasharray="6 3""# } else { "" };
            svg.polyline(&px, &format!(r#"stroke="{colour}" stroke-width="2"{dash} class="roc""#));
            drawn += 1;
        }
        if named {
            let y = f.bottom() + 52.0 + 16.0 * i as f64;
            let dash = if s.dashed { r#" stroke-dasharray="6 3""# } else { "" };
            svg.line(
                f.x,
                y - 4.0,
                f.x + 20.0,
                y - 4.0,
                &format!(r#"stroke="{colour}" stroke-width="2"{dash}"#),
            );
            svg.text(f.x + 24.0, y, 11.0, Anchor::Start, &format!("{}: {area}", s.name));
        } else if points.is_empty() {
            svg.text(f.x + f.w / 2.0, f.y + f.h / 2.0, 12.0, Anchor::Middle, &area);
        } else {
            svg.text(f.right() - 6.0, f.bottom() - 8.0, 12.0, Anchor::End, &area);
        }
    }
    if drawn == 0 && named {
        svg.text(f.x + f.w / 2.0, f.y + f.h / 2.0, 12.0, Anchor::Middle, "one class only: no curve");
    }
    svg.finish("roc", chart_title)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_perfect_ranking_has_area_one_and_a_reversed_one_zero() {
        let s = [(0.9, true), (0.8, true), (0.3, false), (0.1, false)];
        let p = roc_points(&s);
        assert_eq!(p, vec![(0.0, 0.0), (0.0, 0.5), (0.0, 1.0), (0.5, 1.0), (1.0, 1.0)]);
        assert!((roc_area(&p) - 1.0).abs() < 1e-12);
        let r: Vec<(f64, bool)> = s.iter().map(|&(x, y)| (1.0 - x, y)).collect();
        assert!(roc_area(&roc_points(&r)).abs() < 1e-12);
    }

    #[test]
    fn the_area_is_the_share_of_positive_negative_pairs_ranked_right_ties_half() {
        let s = [(0.7, true), (0.5, false), (0.5, true), (0.2, false), (0.6, false), (0.1, true)];
        let (mut right, mut pairs) = (0.0, 0.0);
        for a in s.iter().filter(|x| x.1) {
            for b in s.iter().filter(|x| !x.1) {
                pairs += 1.0;
                right += if a.0 > b.0 {
                    1.0
                } else if a.0 == b.0 {
                    0.5
                } else {
                    0.0
                };
            }
        }
        assert!((roc_area(&roc_points(&s)) - right / pairs).abs() < 1e-12);
        assert!(roc_points(&[(0.5, true)]).is_empty());
    }
}

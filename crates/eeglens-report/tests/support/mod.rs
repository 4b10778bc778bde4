//! Structural checks of SVG documents shared by the figure and page tests.

#![allow(dead_code)]

/// Tolerance on coordinates at the edge of the `viewBox` (line widths, rounding to 0.01).
pub const EDGE_TOL: f64 = 0.5;

/// The `viewBox` size of a parsed figure.
pub fn view_box(doc: &roxmltree::Document) -> (f64, f64) {
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    let vb: Vec<f64> = root
        .attribute("viewBox")
        .expect("a viewBox")
        .split_whitespace()
        .map(|v| v.parse().expect("number"))
        .collect();
    assert_eq!(vb.len(), 4);
    assert_eq!((vb[0], vb[1]), (0.0, 0.0));
    assert!(vb[2] > 0.0 && vb[3] > 0.0);
    (vb[2], vb[3])
}

fn check_point(x: f64, y: f64, w: f64, h: f64, what: &str) {
    assert!(x.is_finite() && y.is_finite(), "{what}: non-finite point ({x}, {y})");
    assert!(
        (-EDGE_TOL..=w + EDGE_TOL).contains(&x) && (-EDGE_TOL..=h + EDGE_TOL).contains(&y),
        "{what}: ({x}, {y}) outside the viewBox {w} x {h}"
    );
}

/// Points visited by a path of the commands the figures write (M, L, Q, h, v, z).
fn path_points(d: &str) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    let mut chars = d.chars().peekable();
    let (mut x, mut y, mut sx, mut sy) = (0.0, 0.0, 0.0, 0.0);
    let nums = |chars: &mut std::iter::Peekable<std::str::Chars>, n: usize| -> Vec<f64> {
        let mut v = Vec::new();
        while v.len() < n {
            let mut s = String::new();
            while matches!(chars.peek(), Some(c) if *c == ' ' || *c == ',') {
                chars.next();
            }
            while let Some(&c) = chars.peek() {
                if c.is_ascii_digit() || c == '.' || (c == '-' && s.is_empty()) || c == 'e' {
                    s.push(c);
                    chars.next();
                } else {
                    break;
                }
            }
            v.push(s.parse::<f64>().unwrap_or_else(|_| panic!("number in path `{d}`")));
        }
        v
    };
    while let Some(c) = chars.next() {
        match c {
            'M' | 'L' => {
                let v = nums(&mut chars, 2);
                (x, y) = (v[0], v[1]);
                if c == 'M' {
                    (sx, sy) = (x, y);
                }
            }
            'Q' => {
                let v = nums(&mut chars, 4);
                out.push((v[0], v[1]));
                (x, y) = (v[2], v[3]);
            }
            'h' => x += nums(&mut chars, 1)[0],
            'v' => y += nums(&mut chars, 1)[0],
            'z' | 'Z' => (x, y) = (sx, sy),
            ' ' => continue,
            other => panic!("unexpected path command `{other}` in `{d}`"),
        }
        out.push((x, y));
    }
    out
}

/// Parses `svg`, checks that it is well-formed, has a `viewBox`, no `NaN` or
/// `inf`, and every coordinate inside the `viewBox`; returns the texts.
pub fn check_svg(svg: &str) -> Vec<String> {
    assert!(!svg.contains("NaN") && !svg.contains("inf"), "non-finite number in the figure");
    let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("SVG does not parse: {e}"));
    let (w, h) = view_box(&doc);
    let mut texts = Vec::new();
    for n in doc.descendants().filter(|n| n.is_element()) {
        let name = n.tag_name().name();
        let f =
            |a: &str| n.attribute(a).map(|v| v.parse::<f64>().unwrap_or_else(|_| panic!("{name} {a}={v}")));
        let in_clip = n.ancestors().any(|a| a.tag_name().name() == "clipPath");
        if in_clip {
            continue;
        }
        match name {
            "line" => {
                check_point(f("x1").unwrap(), f("y1").unwrap(), w, h, "line");
                check_point(f("x2").unwrap(), f("y2").unwrap(), w, h, "line");
            }
            "rect" => {
                let (x, y) = (f("x").unwrap(), f("y").unwrap());
                let (rw, rh) = (f("width").unwrap(), f("height").unwrap());
                assert!(rw >= 0.0 && rh >= 0.0);
                check_point(x, y, w, h, "rect");
                check_point(x + rw, y + rh, w, h, "rect");
            }
            "circle" => {
                let (cx, cy, r) = (f("cx").unwrap(), f("cy").unwrap(), f("r").unwrap());
                check_point(cx - r, cy - r, w, h, "circle");
                check_point(cx + r, cy + r, w, h, "circle");
            }
            "text" => {
                check_point(f("x").unwrap(), f("y").unwrap(), w, h, "text");
                texts.push(n.text().unwrap_or("").to_string());
            }
            "polyline" => {
                let pts = n.attribute("points").unwrap();
                for p in pts.split_whitespace() {
                    let (a, b) = p.split_once(',').unwrap();
                    check_point(a.parse().unwrap(), b.parse().unwrap(), w, h, "polyline");
                }
            }
            "path" => {
                for (x, y) in path_points(n.attribute("d").unwrap()) {
                    check_point(x, y, w, h, "path");
                }
            }
            _ => {}
        }
    }
    texts
}

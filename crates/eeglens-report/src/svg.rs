//! A small SVG writer: elements as strings, numbers with fixed precision,
//! text escaped, nothing non-finite ever written.
//!
//! Every figure is an [`Svg`] of a fixed `viewBox` (user units are CSS
//! pixels at 100 % zoom); the figure functions map data into the plot area
//! with [`Linear`] or [`Log10`] scales and clamp to it, so every coordinate
//! lies inside the `viewBox`.

use std::fmt::Write;

/// Text with `&`, `<`, `>`, `"` and `'` escaped for XML.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A coordinate with two decimals (trailing zeros dropped); non-finite values become 0.
pub fn num(x: f64) -> String {
    let x = if x.is_finite() { x } else { 0.0 };
    let s = format!("{x:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" || s.is_empty() {
        "0".into()
    } else {
        s.into()
    }
}

/// A value for a label: up to `sig` significant digits, no exponent for everyday magnitudes.
pub fn label(x: f64, sig: usize) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    if x == 0.0 {
        return "0".into();
    }
    let mag = x.abs().log10().floor() as i32;
    if !(-5..6).contains(&mag) {
        return format!("{x:.*e}", sig.saturating_sub(1));
    }
    let decimals = (sig as i32 - 1 - mag).max(0) as usize;
    let s = format!("{x:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A linear map from a data interval onto a pixel interval, clamped to it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Linear {
    /// data interval
    pub d0: f64,
    /// see `d0`
    pub d1: f64,
    /// pixel interval (`r0` is where `d0` lands)
    pub r0: f64,
    /// see `r0`
    pub r1: f64,
}

impl Linear {
    /// The scale from `[d0, d1]` to `[r0, r1]`; a degenerate data interval is widened.
    pub fn new(d0: f64, d1: f64, r0: f64, r1: f64) -> Self {
        let (d0, d1) = widen(d0, d1);
        Self { d0, d1, r0, r1 }
    }

    /// The pixel of `x`, clamped to the pixel interval (non-finite `x` lands on `r0`).
    pub fn map(&self, x: f64) -> f64 {
        if !x.is_finite() {
            return self.r0;
        }
        let t = ((x - self.d0) / (self.d1 - self.d0)).clamp(0.0, 1.0);
        self.r0 + t * (self.r1 - self.r0)
    }
}

/// A base-10 logarithmic map of positive values, clamped (values `<= 0` land on `r0`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Log10 {
    lin: Linear,
}

impl Log10 {
    /// The scale from `[d0, d1]` (both positive) to `[r0, r1]`.
    pub fn new(d0: f64, d1: f64, r0: f64, r1: f64) -> Self {
        let l0 = d0.max(f64::MIN_POSITIVE).log10();
        let l1 = d1.max(f64::MIN_POSITIVE).log10();
        Self { lin: Linear::new(l0, l1, r0, r1) }
    }

    /// The pixel of `x`.
    pub fn map(&self, x: f64) -> f64 {
        if x > 0.0 && x.is_finite() {
            self.lin.map(x.log10())
        } else {
            self.lin.r0
        }
    }

    /// The decades (powers of ten) within the data interval; when fewer than
    /// two fit, 1, 2 and 5 times the powers of ten in it; when fewer than two
    /// of those fit either, the interval's ends. Label them with [`log_label`].
    pub fn ticks(&self) -> Vec<f64> {
        let (a, b) = (self.lin.d0.min(self.lin.d1), self.lin.d0.max(self.lin.d1));
        let t: Vec<f64> = (a.ceil() as i32..=b.floor() as i32).map(|e| 10f64.powi(e)).collect();
        if t.len() >= 2 {
            return t;
        }
        let inside = |v: f64| v.log10() >= a - 1e-9 && v.log10() <= b + 1e-9;
        let t: Vec<f64> = (a.floor() as i32..=b.ceil() as i32)
            .flat_map(|e| [1.0, 2.0, 5.0].map(|m| m * 10f64.powi(e)))
            .filter(|&v| inside(v))
            .collect();
        if t.len() >= 2 {
            t
        } else {
            vec![10f64.powf(a), 10f64.powf(b)]
        }
    }
}

/// The one label of a value on a logarithmic axis: a power of ten as `10ᵏ`
/// (`10⁻³`, `10⁰`, `10²`), any other value as a mantissa of up to two
/// significant digits times one (`2×10⁻³`, `3.5×10¹`). Every log axis uses
/// it, so that their ticks read alike whatever their range.
pub fn log_label(v: f64) -> String {
    if !(v.is_finite() && v > 0.0) {
        return "–".into();
    }
    let mut e = v.log10().floor() as i32;
    let mut m = v / 10f64.powi(e);
    // Two significant digits; 9.96 rounds up to the next decade.
    m = (m * 10.0).round() / 10.0;
    if m >= 10.0 {
        m /= 10.0;
        e += 1;
    }
    let sup = superscript(e);
    if (m - 1.0).abs() < 1e-9 {
        format!("10{sup}")
    } else {
        format!("{}×10{sup}", label(m, 2))
    }
}

/// An integer in superscript digits (`-3` is `⁻³`).
fn superscript(e: i32) -> String {
    const DIGITS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    let mut s = String::new();
    if e < 0 {
        s.push('⁻');
    }
    for d in e.unsigned_abs().to_string().bytes() {
        s.push(DIGITS[(d - b'0') as usize]);
    }
    s
}

fn widen(d0: f64, d1: f64) -> (f64, f64) {
    let (d0, d1) = (if d0.is_finite() { d0 } else { 0.0 }, if d1.is_finite() { d1 } else { 1.0 });
    if (d1 - d0).abs() > 1e-12 * (d0.abs() + d1.abs()).max(1e-300) {
        (d0, d1)
    } else {
        let pad = if d0 == 0.0 { 1.0 } else { d0.abs() * 0.5 };
        (d0 - pad, d1 + pad)
    }
}

/// The finite minimum and maximum of values (`None` when there is no finite value).
pub fn extent(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    values.into_iter().filter(|v| v.is_finite()).fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((a, b)) => Some((a.min(v), b.max(v))),
    })
}

/// About `n` round tick values (steps of 1, 2 or 5 times a power of ten) covering `[lo, hi]`.
pub fn ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let (lo, hi) = widen(lo.min(hi), hi.max(lo));
    // Up to 1.5 n ticks rather than fewer than n.
    let raw = (hi - lo) / n.max(1) as f64 / 1.5;
    let p = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * p).find(|s| *s >= raw).unwrap_or(10.0 * p);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|i| i as f64 * step).map(|v| if v.abs() < step * 1e-9 { 0.0 } else { v }).collect()
}

/// An sRGB colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// `#rrggbb`.
    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }
}

fn lerp_stops(stops: &[(f64, Rgb)], t: f64) -> Rgb {
    let t = if t.is_finite() { t.clamp(stops[0].0, stops[stops.len() - 1].0) } else { stops[0].0 };
    for w in stops.windows(2) {
        let ((a, ca), (b, cb)) = (w[0], w[1]);
        if t <= b {
            let u = if b > a { (t - a) / (b - a) } else { 0.0 };
            let mix = |x: u8, y: u8| (x as f64 + u * (y as f64 - x as f64)).round() as u8;
            return Rgb(mix(ca.0, cb.0), mix(ca.1, cb.1), mix(ca.2, cb.2));
        }
    }
    stops[stops.len() - 1].1
}

/// The diverging blue-white-red scale (ColorBrewer RdBu, reversed): `t` in `[-1, 1]`,
/// blue for negative, white at 0, red for positive. Non-finite `t` is white.
pub fn diverging(t: f64) -> Rgb {
    const STOPS: [(f64, Rgb); 7] = [
        (-1.0, Rgb(0x21, 0x66, 0xac)),
        (-0.66, Rgb(0x67, 0xa9, 0xcf)),
        (-0.33, Rgb(0xd1, 0xe5, 0xf0)),
        (0.0, Rgb(0xf7, 0xf7, 0xf7)),
        (0.33, Rgb(0xfd, 0xdb, 0xc7)),
        (0.66, Rgb(0xef, 0x8a, 0x62)),
        (1.0, Rgb(0xb2, 0x18, 0x2b)),
    ];
    lerp_stops(&STOPS, if t.is_finite() { t } else { 0.0 })
}

/// A sequential white-to-blue scale: `t` in `[0, 1]`.
pub fn sequential(t: f64) -> Rgb {
    const STOPS: [(f64, Rgb); 3] =
        [(0.0, Rgb(0xf7, 0xfb, 0xff)), (0.5, Rgb(0x6b, 0xae, 0xd6)), (1.0, Rgb(0x08, 0x30, 0x6b))];
    lerp_stops(&STOPS, t)
}

/// Colours of the classes (and series) in order: colour-blind-safe (Okabe–Ito).
pub const PALETTE: [&str; 6] = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9"];

/// The colour of series `i`.
pub fn series_colour(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}

/// Horizontal anchor of a text element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anchor {
    /// the text starts at x
    Start,
    /// the text is centred on x
    Middle,
    /// the text ends at x
    End,
}

impl Anchor {
    fn name(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }
}

/// An SVG document being written.
#[derive(Clone, Debug)]
pub struct Svg {
    width: f64,
    height: f64,
    body: String,
}

impl Svg {
    /// An empty figure of `width` x `height` user units.
    pub fn new(width: f64, height: f64) -> Self {
        Self { width, height, body: String::new() }
    }

    /// Width of the `viewBox`.
    pub fn width(&self) -> f64 {
        self.width
    }

    /// Height of the `viewBox`.
    pub fn height(&self) -> f64 {
        self.height
    }

    /// Appends raw markup (already escaped, numbers already formatted).
    pub fn raw(&mut self, s: &str) {
        self.body.push_str(s);
    }

    /// A line segment.
    pub fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, style: &str) {
        let _ = writeln!(
            self.body,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" {style}/>"#,
            num(x1),
            num(y1),
            num(x2),
            num(y2)
        );
    }

    /// A rectangle.
    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, style: &str) {
        let _ = writeln!(
            self.body,
            r#"<rect x="{}" y="{}" width="{}" height="{}" {style}/>"#,
            num(x),
            num(y),
            num(w.max(0.0)),
            num(h.max(0.0))
        );
    }

    /// A circle.
    pub fn circle(&mut self, cx: f64, cy: f64, r: f64, style: &str) {
        let _ = writeln!(self.body, r#"<circle cx="{}" cy="{}" r="{}" {style}/>"#, num(cx), num(cy), num(r));
    }

    /// A polyline through the points; non-finite points break it into pieces.
    pub fn polyline(&mut self, points: &[(f64, f64)], style: &str) {
        for piece in points.split(|(x, y)| !(x.is_finite() && y.is_finite())) {
            if piece.len() < 2 {
                continue;
            }
            let mut pts = String::with_capacity(piece.len() * 12);
            for (i, (x, y)) in piece.iter().enumerate() {
                if i > 0 {
                    pts.push(' ');
                }
                let _ = write!(pts, "{},{}", num(*x), num(*y));
            }
            let _ = writeln!(self.body, r#"<polyline points="{pts}" fill="none" {style}/>"#);
        }
    }

    /// A path with data `d` (built with [`num`]).
    pub fn path(&mut self, d: &str, style: &str) {
        let _ = writeln!(self.body, r#"<path d="{d}" {style}/>"#);
    }

    /// Text at `(x, y)` (baseline), escaped.
    pub fn text(&mut self, x: f64, y: f64, size: f64, anchor: Anchor, s: &str) {
        self.text_styled(x, y, size, anchor, s, "");
    }

    /// Text with extra attributes (e.g. `font-weight="bold"`).
    pub fn text_styled(&mut self, x: f64, y: f64, size: f64, anchor: Anchor, s: &str, style: &str) {
        let _ = writeln!(
            self.body,
            r#"<text x="{}" y="{}" font-size="{}" text-anchor="{}" {style}>{}</text>"#,
            num(x),
            num(y),
            num(size),
            anchor.name(),
            escape(s)
        );
    }

    /// Text rotated by -90° about `(x, y)`: a vertical axis label (class `axis-label`).
    pub fn vtext(&mut self, x: f64, y: f64, size: f64, s: &str) {
        let _ = writeln!(
            self.body,
            r#"<text class="axis-label" x="{0}" y="{1}" font-size="{2}" text-anchor="middle" transform="rotate(-90 {0} {1})">{3}</text>"#,
            num(x),
            num(y),
            num(size),
            escape(s)
        );
    }

    /// Text rotated by `angle` degrees (negative: counter-clockwise) about its anchor point `(x, y)`.
    pub fn text_rotated(&mut self, x: f64, y: f64, size: f64, anchor: Anchor, angle: f64, s: &str) {
        let _ = writeln!(
            self.body,
            r#"<text x="{0}" y="{1}" font-size="{2}" text-anchor="{3}" transform="rotate({4} {0} {1})">{5}</text>"#,
            num(x),
            num(y),
            num(size),
            anchor.name(),
            num(angle),
            escape(s)
        );
    }

    /// The document: `<svg>` with `viewBox`, a `<title>`, a class naming the figure kind.
    pub fn finish(self, kind: &str, title: &str) -> String {
        format!(
            concat!(
                r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" "#,
                r#"class="fig-{kind}" role="img" aria-label="{t}" "#,
                r#"font-family="DejaVu Sans, Helvetica, Arial, sans-serif">"#,
                "\n<title>{t}</title>\n{body}</svg>\n"
            ),
            w = num(self.width),
            h = num(self.height),
            kind = escape(kind),
            t = escape(title),
            body = self.body
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short_and_finite() {
        assert_eq!(num(1.0), "1");
        assert_eq!(num(-0.001), "0");
        assert_eq!(num(2.345), "2.35");
        assert_eq!(num(f64::NAN), "0");
        assert_eq!(label(0.00123, 2), "0.0012");
        assert_eq!(label(1234.6, 3), "1235");
        assert_eq!(label(5e-7, 2), "5.0e-7");
        assert_eq!(label(0.0005, 2), "0.0005");
    }

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        let t = ticks(0.0, 1.0, 5);
        assert_eq!(t.len(), 6);
        assert!(t.iter().zip([0.0, 0.2, 0.4, 0.6, 0.8, 1.0]).all(|(a, b)| (a - b).abs() < 1e-12));
        let t = ticks(-37.0, 81.0, 4);
        assert!(t.iter().all(|v| (-37.0..=81.0).contains(v)));
        assert!(t.len() >= 3);
    }

    #[test]
    fn scales_clamp_into_the_pixel_range() {
        let s = Linear::new(0.0, 10.0, 100.0, 0.0);
        assert_eq!(s.map(0.0), 100.0);
        assert_eq!(s.map(10.0), 0.0);
        assert_eq!(s.map(20.0), 0.0);
        assert_eq!(s.map(f64::NAN), 100.0);
        let flat = Linear::new(3.0, 3.0, 0.0, 50.0);
        assert!((0.0..=50.0).contains(&flat.map(3.0)));
        let l = Log10::new(0.01, 100.0, 0.0, 40.0);
        assert!((l.map(1.0) - 20.0).abs() < 1e-9);
        assert_eq!(l.map(-1.0), 0.0);
        assert_eq!(l.ticks(), vec![0.01, 0.1, 1.0, 10.0, 100.0]);
        // Less than a decade: 1-2-5 steps, not the interval's odd ends.
        let l = Log10::new(0.15, 0.6, 0.0, 40.0);
        assert_eq!(l.ticks(), vec![0.2, 0.5]);
    }

    #[test]
    fn log_labels_are_powers_of_ten_whatever_the_range() {
        assert_eq!(log_label(1e-3), "10⁻³");
        assert_eq!(log_label(1.0), "10⁰");
        assert_eq!(log_label(100.0), "10²");
        assert_eq!(log_label(1e12), "10¹²");
        assert_eq!(log_label(0.02), "2×10⁻²");
        assert_eq!(log_label(35.0), "3.5×10¹");
        assert_eq!(log_label(0.000999), "10⁻³");
        assert_eq!(log_label(0.0), "–");
    }

    #[test]
    fn diverging_scale_is_white_at_zero_and_saturates() {
        assert_eq!(diverging(0.0), Rgb(0xf7, 0xf7, 0xf7));
        assert_eq!(diverging(5.0), diverging(1.0));
        assert!(diverging(1.0).0 > diverging(1.0).2, "positive is red");
        assert!(diverging(-1.0).2 > diverging(-1.0).0, "negative is blue");
    }

    #[test]
    fn text_is_escaped() {
        let mut s = Svg::new(10.0, 10.0);
        s.text(1.0, 1.0, 5.0, Anchor::Start, "a<b & \"c\"");
        let out = s.finish("t", "x & y");
        assert!(out.contains("a&lt;b &amp; &quot;c&quot;"));
        assert!(out.contains("<title>x &amp; y</title>"));
    }
}

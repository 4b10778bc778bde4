//! Where a scalp map's electrode names go, so that they never hide its extremes.
//!
//! Every electrode is a small dot whose name and value show on hover (an SVG `<title>`). Names
//! are written in two places:
//! - the channels of largest |value| ([`TOP_K`]) outside the head, each joined to its dot by a
//!   leader line;
//! - on montages of up to [`MAX_INSIDE`] electrodes, the other names small and light next to
//!   their dots (above, below, towards the centre or away from it, the first free place): never
//!   over a hot cell (the map's extremes), another name or another dot. A name with no free
//!   place goes outside with a leader line too.
//!
//! Outside names sit on a ring around the head at their electrode's bearing, moved along the
//! ring when another name, the nose, an ear or the colour bar is in the way.

use crate::svg::Anchor;

/// Names of this many channels of largest |value| are written outside the head.
pub(crate) const TOP_K: usize = 3;
/// Montages of more electrodes get no names inside the head (only the outside ones and hover).
pub(crate) const MAX_INSIDE: usize = 40;
/// At most this many names outside the head.
const MAX_OUTSIDE: usize = 12;
/// Font size of names inside the head.
pub(crate) const INSIDE_FONT: f64 = 8.0;
/// Font size of names outside the head.
pub(crate) const OUTSIDE_FONT: f64 = 10.0;
/// Distance of the outside names' ring beyond the head outline (pixels).
const RING_GAP: f64 = 18.0;
/// Steps along the ring tried for an outside name (radians), each way.
const RING_STEP: f64 = 0.05;
const RING_TRIES: usize = 30;

/// An axis-aligned box in pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct PxBox {
    pub x0: f64,
    pub y0: f64,
    pub x1: f64,
    pub y1: f64,
}

impl PxBox {
    pub fn overlaps(&self, o: &PxBox) -> bool {
        self.x0 < o.x1 && o.x0 < self.x1 && self.y0 < o.y1 && o.y0 < self.y1
    }

    fn inside(&self, o: &PxBox) -> bool {
        self.x0 >= o.x0 && self.x1 <= o.x1 && self.y0 >= o.y0 && self.y1 <= o.y1
    }

    fn corners(&self) -> [(f64, f64); 4] {
        [(self.x0, self.y0), (self.x1, self.y0), (self.x0, self.y1), (self.x1, self.y1)]
    }

    /// A square of half-side `r` around a point.
    pub fn around(x: f64, y: f64, r: f64) -> PxBox {
        PxBox { x0: x - r, y0: y - r, x1: x + r, y1: y + r }
    }
}

/// The box of `text` written at `(x, y)` (its baseline) in `size`: an estimate of a sans-serif
/// font's advance (0.62 em a character), ascent and descent.
pub(crate) fn text_box(x: f64, y: f64, size: f64, anchor: Anchor, text: &str) -> PxBox {
    let w = text.chars().count() as f64 * 0.62 * size;
    let x0 = match anchor {
        Anchor::Start => x,
        Anchor::Middle => x - w / 2.0,
        Anchor::End => x - w,
    };
    PxBox { x0: x0 - 1.0, y0: y - 0.78 * size, x1: x0 + w + 1.0, y1: y + 0.24 * size }
}

/// A placed name.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Label {
    /// the electrode's index
    pub electrode: usize,
    /// the text's anchor point (baseline)
    pub x: f64,
    pub y: f64,
    pub anchor: Anchor,
    pub size: f64,
    /// the text's estimated box
    pub bbox: PxBox,
    /// outside the head: the leader line from the dot `(x1, y1, x2, y2)`
    pub leader: Option<(f64, f64, f64, f64)>,
}

/// The scene the names are placed in (pixels).
pub(crate) struct Scene<'a> {
    /// the head's centre and radius
    pub cx: f64,
    pub cy: f64,
    pub head: f64,
    /// where names may be: the figure less its title band and margins
    pub canvas: PxBox,
    /// the electrodes' dots and their radius
    pub dots: &'a [(f64, f64)],
    pub dot_r: f64,
    /// the hot cells' squares: names inside the head never touch them
    pub hot: &'a [PxBox],
    /// what names outside the head must not cover (nose, ears, colour bar)
    pub obstacles: &'a [PxBox],
}

/// The names' places: [`TOP_K`] names of largest |value| outside the head, the others inside
/// where a free place exists (up to [`MAX_INSIDE`] electrodes), the rest outside.
pub(crate) fn place(scene: &Scene, names: &[String], values: &[f64]) -> Vec<Label> {
    let n = names.len().min(values.len()).min(scene.dots.len());
    let mut by_size: Vec<usize> = (0..n).collect();
    by_size.sort_by(|&a, &b| values[b].abs().total_cmp(&values[a].abs()).then(a.cmp(&b)));
    let mut outside: Vec<usize> =
        by_size.iter().copied().filter(|&k| values[k].abs() > 0.0).take(TOP_K).collect();
    let mut labels = Vec::new();
    if n <= MAX_INSIDE {
        let dot_boxes: Vec<PxBox> =
            scene.dots[..n].iter().map(|&(x, y)| PxBox::around(x, y, scene.dot_r + 0.5)).collect();
        let top = outside.clone();
        for k in (0..n).filter(|k| !top.contains(k)) {
            let (x, y) = scene.dots[k];
            let g = scene.dot_r + 2.0;
            let s = INSIDE_FONT;
            // Towards the centre first, then away from it: a name at the rim stays inside.
            let (toward, away) =
                if x <= scene.cx { (Anchor::Start, Anchor::End) } else { (Anchor::End, Anchor::Start) };
            let side = |a: Anchor| if a == Anchor::Start { x + g } else { x - g };
            let candidates = [
                (x, y - g - 0.24 * s, Anchor::Middle),
                (x, y + g + 0.78 * s, Anchor::Middle),
                (side(toward), y + 0.3 * s, toward),
                (side(away), y + 0.3 * s, away),
            ];
            let free = candidates
                .into_iter()
                .map(|(lx, ly, a)| (lx, ly, a, text_box(lx, ly, s, a, &names[k])))
                .find(|(_, _, _, b)| {
                    within_head(scene, b)
                        && !scene.hot.iter().any(|h| h.overlaps(b))
                        && !dot_boxes.iter().any(|d| d.overlaps(b))
                        && !labels.iter().any(|l: &Label| l.bbox.overlaps(b))
                });
            match free {
                Some((x, y, anchor, bbox)) => {
                    labels.push(Label { electrode: k, x, y, anchor, size: s, bbox, leader: None })
                }
                None => outside.push(k),
            }
        }
    }
    outside.sort_by(|&a, &b| values[b].abs().total_cmp(&values[a].abs()).then(a.cmp(&b)));
    let mut placed_outside: Vec<PxBox> = Vec::new();
    for &k in outside.iter().take(MAX_OUTSIDE) {
        if let Some(l) = ring_label(scene, k, &names[k], &placed_outside) {
            placed_outside.push(l.bbox);
            labels.push(l);
        }
    }
    labels
}

/// Whether a box lies inside the head (its corners within the outline, less a little).
fn within_head(scene: &Scene, b: &PxBox) -> bool {
    b.corners().iter().all(|(x, y)| (x - scene.cx).hypot(y - scene.cy) <= scene.head - 1.0)
}

/// A name on the ring outside the head, at its electrode's bearing or the nearest free one.
fn ring_label(scene: &Scene, k: usize, name: &str, placed: &[PxBox]) -> Option<Label> {
    let (x, y) = scene.dots[k];
    let (dx, dy) = (x - scene.cx, scene.cy - y);
    let bearing = if dx.hypot(dy) < 2.0 { std::f64::consts::FRAC_PI_4 } else { dy.atan2(dx) };
    let ring = scene.head + RING_GAP;
    let s = OUTSIDE_FONT;
    let tries = std::iter::once(0.0)
        .chain((1..=RING_TRIES).flat_map(|i| [i as f64 * RING_STEP, -(i as f64) * RING_STEP]));
    for delta in tries {
        let theta = bearing + delta;
        let (c, sn) = (theta.cos(), theta.sin());
        let (ax, ay) = (scene.cx + ring * c, scene.cy - ring * sn);
        let (anchor, ty) = if c > 0.3 {
            (Anchor::Start, ay + 0.3 * s)
        } else if c < -0.3 {
            (Anchor::End, ay + 0.3 * s)
        } else if sn > 0.0 {
            (Anchor::Middle, ay)
        } else {
            (Anchor::Middle, ay + 0.78 * s)
        };
        let bbox = text_box(ax, ty, s, anchor, name);
        if !bbox.inside(&scene.canvas)
            || placed.iter().chain(scene.obstacles).any(|o| o.overlaps(&bbox))
            || bbox.corners().iter().any(|(px, py)| (px - scene.cx).hypot(py - scene.cy) < scene.head + 2.0)
        {
            continue;
        }
        // From the dot's edge to just short of the ring.
        let (lx, ly) = (scene.cx + (ring - 4.0) * c, scene.cy - (ring - 4.0) * sn);
        let (ux, uy) = (lx - x, ly - y);
        let len = ux.hypot(uy).max(1e-9);
        let start = (x + ux / len * (scene.dot_r + 1.0), y + uy / len * (scene.dot_r + 1.0));
        return Some(Label {
            electrode: k,
            x: ax,
            y: ty,
            anchor,
            size: s,
            bbox,
            leader: Some((start.0, start.1, lx, ly)),
        });
    }
    None
}

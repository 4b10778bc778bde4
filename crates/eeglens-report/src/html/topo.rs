//! The page's scalp maps: electrode positions from the montage that places the channels, one
//! spline layout per set of electrodes for the whole page, and a caption that names what is
//! not drawn. A map that cannot be drawn is one line saying why.

use std::fmt::Write;

use eeglens_io::montage::Montage;

use super::Page;
use crate::figures::TopoPoint;
use crate::svg::escape;

/// The montage that places the most of `channels` (the standard 10-20 one on a tie): 10-20
/// names are drawn at their standard positions, EGI labels (`E1`..`E129`) on the HydroCel-129
/// net.
pub(super) fn montage_for<'a>(channels: impl Iterator<Item = &'a String> + Clone) -> Montage {
    let placed = |m: Montage| channels.clone().filter(|c| m.position(c).is_some()).count();
    if placed(Montage::EgiHydroCel129) > placed(Montage::Standard1020) {
        Montage::EgiHydroCel129
    } else {
        Montage::Standard1020
    }
}

/// Per-channel values as scalp-map points of `montage`; channels without a position there are
/// left out (and counted by the caller).
pub(super) fn topo_points<'a>(
    montage: Montage,
    values: impl Iterator<Item = (&'a String, f64)>,
) -> Vec<TopoPoint> {
    values
        .filter_map(|(ch, v)| {
            montage.position(ch).map(|e| {
                let [x, y] = e.xy();
                TopoPoint { name: ch.clone(), x, y, value: v }
            })
        })
        .collect()
}

/// A scalp map of per-channel `values` as figure `id`, its caption `caption` (HTML) followed by
/// what the map leaves out: channels without a position in the montage, without a finite value,
/// or at the position of another. With fewer than
/// [`MIN_ELECTRODES`](crate::figures::MIN_ELECTRODES) electrodes left, or no
/// spline through them, one line instead of the figure says why.
pub(super) fn scalp_figure(
    p: &mut Page,
    id: &str,
    title: &str,
    values: &[(&String, f64)],
    unit: &str,
    caption: &str,
) {
    let montage = montage_for(values.iter().map(|(c, _)| *c));
    let points = topo_points(montage, values.iter().copied());
    let finite: Vec<TopoPoint> = points.iter().filter(|t| t.value.is_finite()).cloned().collect();
    let mut notes = Vec::new();
    let unplaced: Vec<&str> =
        values.iter().filter(|(c, _)| montage.position(c).is_none()).map(|(c, _)| c.as_str()).collect();
    if !unplaced.is_empty() {
        notes.push(format!(
            "{} channel(s) without a position in the {} montage are not shown ({})",
            unplaced.len(),
            montage_name(montage),
            list(&unplaced)
        ));
    }
    let no_value: Vec<&str> =
        points.iter().filter(|t| !t.value.is_finite()).map(|t| t.name.as_str()).collect();
    if !no_value.is_empty() {
        notes.push(format!(
            "{} channel(s) without a finite value are not shown ({})",
            no_value.len(),
            list(&no_value)
        ));
    }
    let electrodes: Vec<(String, [f64; 2])> = finite.iter().map(|t| (t.name.clone(), [t.x, t.y])).collect();
    let left_out: Vec<String> = match p.maps.layout(&electrodes) {
        Ok(layout) => layout.left_out().iter().map(|(n, why)| format!("{n}, {why}")).collect(),
        Err(_) => Vec::new(),
    };
    if !left_out.is_empty() {
        notes.push(format!("left out: {}", left_out.join("; ")));
    }
    match p.maps.draw(title, &finite, unit) {
        Ok(svg) => {
            let mut caption = caption.to_string();
            for n in &notes {
                let _ = write!(caption, " {}.", escape(&capitalise(n)));
            }
            p.figure(id, &svg, &caption);
        }
        Err(e) => {
            let why = if notes.is_empty() { String::new() } else { format!(" ({})", notes.join("; ")) };
            let _ = writeln!(
                p.body,
                "<p class=\"note no-map\" data-no-map=\"{}\">No scalp map of {}: {}{}.</p>",
                escape(id),
                escape(title),
                escape(&e.to_string()),
                escape(&why)
            );
        }
    }
}

fn montage_name(m: Montage) -> &'static str {
    match m {
        Montage::Standard1020 => "standard 10-20",
        Montage::EgiHydroCel129 => "EGI HydroCel-129",
    }
}

/// Up to eight names, then how many more.
fn list(names: &[&str]) -> String {
    let shown = names.iter().take(8).copied().collect::<Vec<_>>().join(", ");
    if names.len() > 8 {
        format!("{shown} and {} more", names.len() - 8)
    } else {
        shown
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

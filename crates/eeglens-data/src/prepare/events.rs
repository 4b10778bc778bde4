//! Eyes-closed periods from a recording's events.

use eeglens_io::Annotation;

/// Events that mark eyes-closed and eyes-open periods, by label.
fn eyes_state(desc: &str) -> Option<bool> {
    let d: String = desc.to_ascii_lowercase().chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    const CLOSED: [&str; 6] =
        ["eyesclosed", "ec", "closed", "instructedtocloseeyes", "closeeyes", "eyesclose"];
    const OPEN: [&str; 6] = ["eyesopen", "eo", "open", "instructedtoopeneyes", "openeyes", "eyesopened"];
    if CLOSED.contains(&d.as_str()) {
        Some(true)
    } else if OPEN.contains(&d.as_str()) {
        Some(false)
    } else {
        None
    }
}

/// Eyes-closed intervals `[start, end)` in seconds, or `None` when no event
/// marks the eyes. An event with a duration covers `[onset, onset + duration)`;
/// one without lasts until the next eyes marker (or the end).
pub(super) fn eyes_closed_intervals(events: &[Annotation], duration_s: f64) -> Option<Vec<(f64, f64)>> {
    let mut marks: Vec<(f64, Option<f64>, bool)> = events
        .iter()
        .filter_map(|a| eyes_state(&a.description).map(|c| (a.onset_s, a.duration_s.filter(|d| *d > 0.0), c)))
        .collect();
    if marks.is_empty() {
        return None;
    }
    marks.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out = Vec::new();
    for (k, &(onset, dur, closed)) in marks.iter().enumerate() {
        if !closed {
            continue;
        }
        let end = match dur {
            Some(d) => onset + d,
            None => marks.get(k + 1).map_or(duration_s, |m| m.0),
        };
        let (a, b) = (onset.max(0.0), end.min(duration_s));
        if b > a {
            out.push((a, b));
        }
    }
    Some(out)
}

//! Eyes-closed periods from a recording's events.
//!
//! Events are read by label (case, spaces and punctuation ignored):
//! - eyes markers: `eyes_closed`, `EC`, `instructed_toCloseEyes`, ... and their open
//!   counterparts. An `instructed_to...` event is a cue (the voice prompt of the Healthy Brain
//!   Network's protocol): its duration, when it has one, is the prompt's, not the state's. In a
//!   recording with the HBN resting-state start code `90`, the codes `30` and `20` are the
//!   close and open cues (HBN's own EEGLAB files carry codes, its BIDS events.tsv names);
//! - `boundary` (EEGLAB: data removed here): no window spans it, the eyes state goes on;
//! - ends: `break cnt` (the EGI amplifier paused), `9999` (HBN's end of data, where others
//!   write `boundary`), and the start or end of a task other than the resting state (an event
//!   named `..._start`, `..._end` or `..._stop`, such as `video_start`, while `resting_start`
//!   is not one). An end closes the eyes state: no period runs past it;
//! - any other event is ignored.

use eeglens_io::Annotation;

/// What an event says.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    /// the eyes close (`true`) or open; `cue` when it is a prompt whose duration is not the state's
    Eyes { closed: bool, cue: bool },
    /// a discontinuity of the data that does not change the eyes state
    Boundary,
    /// the eyes state ends here: recording paused or ended, another task
    End,
    /// nothing about the eyes
    Other,
}

/// A label without case, spaces or punctuation.
fn norm(desc: &str) -> String {
    desc.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect()
}

/// Whether the events carry the HBN resting-state start code `90` or its name.
fn hbn_coded(events: &[Annotation]) -> bool {
    events.iter().any(|a| norm(&a.description) == "90")
}

fn kind(desc: &str, hbn_codes: bool) -> Kind {
    let d = norm(desc);
    const CLOSED: [&str; 6] =
        ["eyesclosed", "ec", "closed", "instructedtocloseeyes", "closeeyes", "eyesclose"];
    const OPEN: [&str; 6] = ["eyesopen", "eo", "open", "instructedtoopeneyes", "openeyes", "eyesopened"];
    const RESTING: [&str; 4] = ["restingstart", "reststart", "restingstatestart", "90"];
    let cue = d.starts_with("instructedto");
    if CLOSED.contains(&d.as_str()) {
        Kind::Eyes { closed: true, cue }
    } else if OPEN.contains(&d.as_str()) {
        Kind::Eyes { closed: false, cue }
    } else if hbn_codes && (d == "30" || d == "20") {
        Kind::Eyes { closed: d == "30", cue: true }
    } else if d == "boundary" {
        Kind::Boundary
    } else if d == "breakcnt" || d == "9999" {
        Kind::End
    } else if RESTING.contains(&d.as_str()) {
        Kind::Other
    } else if is_task_start_or_end(desc) {
        Kind::End
    } else {
        Kind::Other
    }
}

/// Whether a label names the start or end of a task (`video_start`, `task_end`), not of an
/// eyes state (`eyes_closed_start` is not one).
fn is_task_start_or_end(desc: &str) -> bool {
    let lower = desc.trim().to_ascii_lowercase();
    !lower.contains("eye")
        && ["start", "end", "stop"]
            .iter()
            .any(|s| lower.ends_with(&format!("_{s}")) || lower.ends_with(&format!(" {s}")))
}

/// An event that bears on the eyes: onset, duration, kind and label.
type Mark<'a> = (f64, Option<f64>, Kind, &'a str);

/// The events that bear on the eyes, sorted by onset.
fn marks(events: &[Annotation]) -> Vec<Mark<'_>> {
    let hbn = hbn_coded(events);
    let mut m: Vec<Mark<'_>> = events
        .iter()
        .filter(|a| a.onset_s.is_finite())
        .map(|a| {
            let d = a.duration_s.filter(|d| d.is_finite() && *d > 0.0);
            (a.onset_s, d, kind(&a.description, hbn), a.description.trim())
        })
        .filter(|m| m.2 != Kind::Other)
        .collect();
    m.sort_by(|a, b| a.0.total_cmp(&b.0));
    m
}

/// The eyes-closed data of a recording: intervals `[start, end)` in seconds, and what the
/// events made the preparation change (a block cut short, a block left out), one sentence each.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Blocks {
    pub(super) intervals: Vec<(f64, f64)>,
    pub(super) notes: Vec<String>,
}

/// Eyes-closed intervals `[start, end)` in seconds, or `None` when no event marks the eyes.
///
/// With `window = None`, marker to marker: an eyes-closed event with a duration (not a cue)
/// covers `[onset, onset + duration)`; otherwise the period lasts until the next eyes marker, an
/// end (see the module) or the end of the data. With `window = Some((a, b))`, the paper's
/// blocks: `[cue + a, cue + b)` after each eyes-closed event, cut short at the next eyes marker,
/// an end or the end of the data (each cut is a note); a block that starts after such a limit is
/// left out (a note too). Either way no interval spans a `boundary`.
pub(super) fn eyes_closed_blocks(
    events: &[Annotation],
    duration_s: f64,
    window: Option<(f64, f64)>,
) -> Option<Blocks> {
    let marks = marks(events);
    if !marks.iter().any(|m| matches!(m.2, Kind::Eyes { .. })) {
        return None;
    }
    let mut out = Blocks::default();
    for (k, &(onset, dur, kind, _)) in marks.iter().enumerate() {
        let Kind::Eyes { closed: true, cue } = kind else { continue };
        // The first later eyes marker or end, with what it is (one at the cue's own time, such as
        // a `break cnt` logged with it, does not end the block it starts).
        let limit = marks[k + 1..]
            .iter()
            .find(|m| m.0 > onset && matches!(m.2, Kind::Eyes { .. } | Kind::End))
            .map(|m| {
                let what = match m.2 {
                    Kind::Eyes { closed: true, .. } => format!("the next eyes-closed marker `{}`", m.3),
                    Kind::Eyes { closed: false, .. } => format!("the next eyes-open marker `{}`", m.3),
                    _ => format!("the event `{}`, which ends the resting state", m.3),
                };
                (m.0, what)
            })
            .filter(|l| l.0 <= duration_s)
            .unwrap_or_else(|| (duration_s, "the end of the data".to_string()));
        let (start, end) = match window {
            None => {
                let end = match dur.filter(|_| !cue) {
                    Some(d) => (onset + d).min(limit.0),
                    None => limit.0,
                };
                (onset.max(0.0), end.min(duration_s))
            }
            Some((a, b)) => {
                let (start, want) = (onset + a, onset + b);
                let stated = dur.filter(|_| !cue).map_or(f64::INFINITY, |d| onset + d);
                let (cap, what) =
                    if stated < limit.0 { (stated, "the event's own duration".to_string()) } else { limit };
                if start >= cap {
                    out.notes.push(format!(
                        "eyes-closed block at {onset:.2} s left out: its window {a}-{b} s starts at or after {what} \
                         ({cap:.2} s)"
                    ));
                    continue;
                }
                if want > cap {
                    out.notes.push(format!(
                        "eyes-closed block at {onset:.2} s cut short at {cap:.2} s ({what}): {:.2} s of its \
                         window {a}-{b} s used",
                        cap - start
                    ));
                }
                (start.max(0.0), want.min(cap))
            }
        };
        // Split at boundaries inside.
        let mut a = start;
        for m in marks.iter().filter(|m| m.2 == Kind::Boundary && m.0 > start && m.0 < end) {
            if m.0 > a {
                out.intervals.push((a, m.0));
            }
            a = m.0;
        }
        if end > a {
            out.intervals.push((a, end));
        }
    }
    Some(out)
}

/// Marker-to-marker eyes-closed intervals (see [`eyes_closed_blocks`]).
#[cfg(test)]
pub(super) fn eyes_closed_intervals(events: &[Annotation], duration_s: f64) -> Option<Vec<(f64, f64)>> {
    eyes_closed_blocks(events, duration_s, None).map(|b| b.intervals)
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    /// Event times are compared to the microsecond.
    const TIME_TOL: f64 = 1e-6;

    fn ev(list: &[(f64, &str)]) -> Vec<Annotation> {
        list.iter()
            .map(|&(t, d)| Annotation { onset_s: t, duration_s: None, description: d.into() })
            .collect()
    }

    fn same(got: &[(f64, f64)], want: &[(f64, f64)]) {
        assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
        for (g, w) in got.iter().zip(want) {
            assert_abs_diff_eq!(g.0, w.0, epsilon = TIME_TOL);
            assert_abs_diff_eq!(g.1, w.1, epsilon = TIME_TOL);
        }
    }

    /// HBN's resting state: resting_start, then five pairs of 20 s open / 40 s closed, the
    /// first cue `first` seconds after the start, ending with an open cue.
    fn hbn(first: f64, close: &str, open: &str, start: &str) -> Vec<Annotation> {
        let mut e = vec![(0.0, "break cnt"), (1.0, start)];
        for k in 0..5 {
            let t = 1.0 + first + 60.0 * k as f64;
            e.push((t, open));
            e.push((t + 20.0, close));
        }
        e.push((1.0 + first + 300.0, open));
        ev(&e)
    }

    #[test]
    fn marker_to_marker_on_hbn_names() {
        let e = hbn(45.0, "instructed_toCloseEyes", "instructed_toOpenEyes", "resting_start");
        let got = eyes_closed_intervals(&e, 400.0).expect("marked");
        let want: Vec<(f64, f64)> =
            (0..5).map(|k| (66.0 + 60.0 * k as f64, 106.0 + 60.0 * k as f64)).collect();
        same(&got, &want);
    }

    #[test]
    fn hbn_codes_30_and_20_are_cues_only_beside_the_resting_start_code() {
        let e = hbn(45.0, "30  ", "20  ", "90  ");
        let got = eyes_closed_intervals(&e, 400.0).expect("marked");
        assert_eq!(got.len(), 5);
        same(&got[..1], &[(66.0, 106.0)]);
        // Without the resting-state code, 30 and 20 mean nothing.
        assert_eq!(eyes_closed_intervals(&ev(&[(1.0, "30"), (5.0, "20")]), 10.0), None);
    }

    #[test]
    fn a_cue_duration_is_the_prompt_not_the_state() {
        let mut e = ev(&[(10.0, "instructed_toCloseEyes"), (50.0, "instructed_toOpenEyes")]);
        e[0].duration_s = Some(2.5);
        same(&eyes_closed_intervals(&e, 100.0).expect("marked"), &[(10.0, 50.0)]);
        // A state event's duration is the state's.
        let mut e = ev(&[(10.0, "eyes_closed"), (50.0, "eyes_open")]);
        e[0].duration_s = Some(20.0);
        same(&eyes_closed_intervals(&e, 100.0).expect("marked"), &[(10.0, 30.0)]);
    }

    #[test]
    fn recording_ending_with_9999_ends_the_last_block_there() {
        let e = ev(&[(1.0, "resting_start"), (20.0, "instructed_toCloseEyes"), (60.0, "9999")]);
        same(&eyes_closed_intervals(&e, 90.0).expect("marked"), &[(20.0, 60.0)]);
        // The same with boundary at the very end, as EEGLAB writes it: the data's end.
        let e = ev(&[(1.0, "resting_start"), (20.0, "instructed_toCloseEyes"), (90.0, "boundary")]);
        same(&eyes_closed_intervals(&e, 90.0).expect("marked"), &[(20.0, 90.0)]);
    }

    #[test]
    fn break_cnt_ends_a_block_and_boundary_splits_one() {
        let e = ev(&[(20.0, "instructed_toCloseEyes"), (45.0, "break cnt"), (70.0, "instructed_toOpenEyes")]);
        same(&eyes_closed_intervals(&e, 90.0).expect("marked"), &[(20.0, 45.0)]);
        let e = ev(&[(20.0, "instructed_toCloseEyes"), (45.0, "boundary"), (70.0, "instructed_toOpenEyes")]);
        same(&eyes_closed_intervals(&e, 90.0).expect("marked"), &[(20.0, 45.0), (45.0, 70.0)]);
        // A break cnt logged at the cue's own time does not end the block it starts.
        let e = ev(&[(20.0, "instructed_toCloseEyes"), (20.0, "break cnt"), (60.0, "instructed_toOpenEyes")]);
        same(&eyes_closed_intervals(&e, 90.0).expect("marked"), &[(20.0, 60.0)]);
        // A break cnt before the first cue (HBN's files start with one) changes nothing.
        let e = ev(&[(0.0, "break cnt"), (20.0, "instructed_toCloseEyes"), (60.0, "instructed_toOpenEyes")]);
        same(&eyes_closed_intervals(&e, 90.0).expect("marked"), &[(20.0, 60.0)]);
    }

    #[test]
    fn another_task_in_the_same_file_ends_the_resting_state() {
        let e = ev(&[
            (1.0, "resting_start"),
            (20.0, "instructed_toCloseEyes"),
            (60.0, "video_start"),
            (70.0, "video_stop"),
            (100.0, "contrastChangeB1_start"),
        ]);
        same(&eyes_closed_intervals(&e, 200.0).expect("marked"), &[(20.0, 60.0)]);
        // Events that are not task starts or ends do not cut a block.
        let e = ev(&[(20.0, "instructed_toCloseEyes"), (30.0, "blink"), (60.0, "instructed_toOpenEyes")]);
        same(&eyes_closed_intervals(&e, 200.0).expect("marked"), &[(20.0, 60.0)]);
    }

    #[test]
    fn first_cue_late_after_resting_start_uses_nothing_before_it() {
        for first in [20.0, 350.0] {
            let e = hbn(first, "instructed_toCloseEyes", "instructed_toOpenEyes", "resting_start");
            let duration = first + 320.0;
            let got = eyes_closed_intervals(&e, duration).expect("marked");
            assert_eq!(got.len(), 5, "first cue {first} s after the start");
            assert_abs_diff_eq!(got[0].0, 1.0 + first + 20.0, epsilon = TIME_TOL);
            let w = eyes_closed_blocks(&e, duration, Some((3.0, 37.0))).expect("marked");
            assert_eq!(w.intervals.len(), 5);
            assert_abs_diff_eq!(w.intervals[0].0, 1.0 + first + 23.0, epsilon = TIME_TOL);
            assert!(w.notes.is_empty(), "{:?}", w.notes);
        }
    }

    #[test]
    fn window_after_each_cue_is_34_s_of_each_40_s_block() {
        let e = hbn(45.0, "instructed_toCloseEyes", "instructed_toOpenEyes", "resting_start");
        let w = eyes_closed_blocks(&e, 400.0, Some((3.0, 37.0))).expect("marked");
        let want: Vec<(f64, f64)> =
            (0..5).map(|k| (69.0 + 60.0 * k as f64, 103.0 + 60.0 * k as f64)).collect();
        same(&w.intervals, &want);
        let total: f64 = w.intervals.iter().map(|(a, b)| b - a).sum();
        assert_abs_diff_eq!(total, 170.0, epsilon = TIME_TOL);
    }

    #[test]
    fn window_cut_short_by_the_next_cue_the_end_or_a_9999_is_noted() {
        // The next cue 20 s after the closed one.
        let e = ev(&[(10.0, "instructed_toCloseEyes"), (30.0, "instructed_toOpenEyes")]);
        let w = eyes_closed_blocks(&e, 100.0, Some((3.0, 37.0))).expect("marked");
        same(&w.intervals, &[(13.0, 30.0)]);
        assert!(
            w.notes[0].contains("cut short at 30.00 s") && w.notes[0].contains("eyes-open"),
            "{:?}",
            w.notes
        );
        // The recording ends 20 s after the cue.
        let e = ev(&[(10.0, "instructed_toCloseEyes")]);
        let w = eyes_closed_blocks(&e, 30.0, Some((3.0, 37.0))).expect("marked");
        same(&w.intervals, &[(13.0, 30.0)]);
        assert!(w.notes[0].contains("end of the data"), "{:?}", w.notes);
        // A 9999 before the window starts leaves the block out.
        let e = ev(&[(10.0, "instructed_toCloseEyes"), (12.0, "9999")]);
        let w = eyes_closed_blocks(&e, 100.0, Some((3.0, 37.0))).expect("marked");
        assert!(w.intervals.is_empty());
        assert!(w.notes[0].contains("left out"), "{:?}", w.notes);
    }
}

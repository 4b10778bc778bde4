//! The data's own class difference, before any network: the test windows'
//! class spectra per channel group, mean ± SEM over subjects.

use std::fmt::Write;

use super::Page;
use crate::figures::{group_psd, PsdPanel, PsdSeries};
use crate::input::ReportInput;
use crate::spectra::DataSpectra;
use crate::svg::escape;

/// The section; one line instead of the figure when the spectra could not be computed.
pub(super) fn data_spectra(p: &mut Page, input: &ReportInput) {
    p.section("data-spectra", "The data’s own difference, before any network");
    if super::missing_here(p, input, "data-spectra", None) {
        return;
    }
    let Some(s) = &input.data_spectra else {
        let _ = writeln!(
            p.body,
            "<p class=\"note\">No class spectra: the report was not made from a run's epoch store.</p>"
        );
        return;
    };
    if s.groups.is_empty() {
        let _ = writeln!(p.body, "<p class=\"note\">No class spectra: the store has no channel.</p>");
        return;
    }
    let n_windows: usize = s.groups.first().map_or(0, |g| g.classes.iter().map(|c| c.n_windows).sum());
    let _ = writeln!(
        p.body,
        concat!(
            "<p>What separates the classes in the data themselves, before any model: the power spectra of the {} ",
            "{} windows of each class, per group of channels. Where the bands of the classes part, the data differ ",
            "there, whatever a network learns; where they overlap, a network's reading of a difference there ",
            "describes the network more than the data.</p>"
        ),
        n_windows,
        escape(&s.split)
    );
    let panels: Vec<PsdPanel> = s
        .groups
        .iter()
        .map(|g| PsdPanel {
            name: format!(
                "{}, {} channel{}",
                g.group.name,
                g.group.channels.len(),
                plural(g.group.channels.len())
            ),
            series: g
                .classes
                .iter()
                .map(|c| PsdSeries {
                    name: format!("{} ({} subject{})", c.class, c.n_subjects, plural(c.n_subjects)),
                    mean: c.mean.clone(),
                    sem: c.sem.clone(),
                })
                .collect(),
        })
        .collect();
    let unit = format!("{}²/Hz", input.dataset.unit());
    let groups: Vec<String> = s
        .groups
        .iter()
        .map(|g| format!("{}: {}", escape(&g.group.name), escape(&g.group.names.join(", "))))
        .collect();
    let one_subject = s.groups.iter().flat_map(|g| &g.classes).any(|c| c.n_subjects < 2);
    p.figure(
        "data-spectra",
        &group_psd("Class spectra of the test windows", &s.freqs, &panels, f_max(input, s), &unit),
        &format!(
            concat!(
                "Welch PSD ({}-sample Hann segments, half overlapping) of every {} window, averaged over the ",
                "channels of each group ({}). Each subject's spectrum is the mean over its windows; each curve is the ",
                "mean over the subjects of a class, and the shaded band ± 1 standard error of that mean across ",
                "subjects (SD / √n, subjects as the unit, not windows).{}"
            ),
            s.nperseg,
            escape(&s.split),
            groups.join("; "),
            if one_subject { " A class with one subject has no band." } else { "" }
        ),
    );
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The highest frequency shown: a quarter above the preparation's low-pass edge, else 40 Hz,
/// never above the last bin.
fn f_max(input: &ReportInput, s: &DataSpectra) -> Option<f64> {
    let band_hi = input
        .dataset
        .settings
        .as_ref()
        .and_then(|v| v.get("band"))
        .and_then(|b| b.get(1))
        .and_then(|v| v.as_f64());
    let last = s.freqs.last().copied()?;
    let want = band_hi.map_or(40.0, |hi| hi * 1.25);
    Some(want.min(last))
}

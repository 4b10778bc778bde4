//! The top of the page: title, the verdict when the network learned nothing,
//! and the summary cards.

use std::fmt::Write;

use super::methods::{method_title, methods, METHODS};
use super::{chance, pct, Page};
use crate::input::ReportInput;
use crate::svg::{escape, label};
use crate::wording::nothing_learned;

/// The title and one line on what the run classifies from what.
pub(super) fn header(p: &mut Page, input: &ReportInput) {
    let _ = writeln!(p.body, "<h1>{}</h1>", escape(&input.title));
    let d = &input.dataset;
    let task = match input.numeric() {
        Some((column, unit)) => format!(
            "predicting <b>{}</b>{} (a regression)",
            escape(&column),
            unit.map(|u| format!(" ({})", escape(&u))).unwrap_or_default()
        ),
        None => {
            format!("classifying <b>{}</b> ({})", escape(&d.label_column), escape(&d.classes.join(" / ")))
        }
    };
    let mut sub = format!(
        "{} {task} from {}-channel windows of {} s at {} Hz.",
        escape(&input.model.name),
        d.channels.len(),
        label(d.n_samples as f64 / d.fs, 3),
        label(d.fs, 4)
    );
    if let Some(r) = &input.run_dir {
        let _ = write!(sub, " Run: <code>{}</code>.", escape(&r.display().to_string()));
    }
    let _ = writeln!(p.body, "<p class=\"sub\">{sub}</p>");
}

/// The box that says, before anything else, that the network learned nothing
/// (nothing when it learned, or when the run holds no test of it).
pub(super) fn verdict(p: &mut Page, input: &ReportInput) {
    let Some(v) = chance(input).filter(|v| !v.learned) else { return };
    let read_anyway = input.interpretation.as_ref().is_some_and(|i| !methods(&i.report).is_empty());
    let (heading, conclusion) = nothing_learned(&v, read_anyway, input.seeds.as_ref().map(|s| s.shown));
    let tests: String = v.tests.iter().map(|t| format!("<li>{}</li>", escape(t))).collect();
    let _ = writeln!(
        p.body,
        "<section class=\"verdict\" id=\"nothing-learned\"><h2>{}</h2><ul>{tests}</ul><p>{}</p></section>",
        escape(&heading),
        escape(&conclusion)
    );
}

/// Test accuracy and each method's top band, in cards.
pub(super) fn cards(p: &mut Page, input: &ReportInput) {
    let mut cards = String::new();
    let mut card = |value: &str, what: &str| {
        let _ = write!(cards, "<div class=\"card\"><b>{}</b><span>{what}</span></div>", escape(value));
    };
    if let Some(e) = &input.eval {
        let what = if input.folds.is_some() { "out-of-fold accuracy" } else { "test accuracy" };
        card(&pct(e.accuracy), &format!("{what} per window ({} windows)", e.n_windows));
        card(&pct(e.subject_accuracy), &format!("{what} per subject ({} subjects)", e.n_subjects));
    }
    if let Some(r) = &input.regression {
        let unit = r.target.unit.as_deref().map(|u| format!(" {u}")).unwrap_or_default();
        let n = r.n_subjects;
        card(&format!("{}{unit}", label(r.subject.mae, 3)), &format!("test MAE per subject ({n} subjects)"));
        card(&label(r.subject.r2, 3), &format!("test R² per subject ({n} subjects)"));
        card(&label(r.subject.r, 3), &format!("test Pearson r per subject ({n} subjects)"));
    }
    let at_chance = chance(input).is_some_and(|v| !v.learned);
    if let Some(i) = &input.interpretation {
        let read = methods(&i.report);
        if read.is_empty() && at_chance {
            for name in METHODS {
                card("not read", &format!("top band, {}: the model is at chance", method_title(name)));
            }
        }
        for (name, reading) in read {
            let top = reading.top_band.as_deref().unwrap_or("none significant");
            let note = if at_chance { " (read anyway: the model is at chance)" } else { "" };
            card(top, &format!("top band, {}{note}", method_title(name)));
        }
    }
    if !cards.is_empty() {
        let _ = writeln!(p.body, "<div class=\"summary\">{cards}</div>");
    }
}

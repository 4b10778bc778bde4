//! The band-power baseline beside the network: accuracy on test, who is
//! above chance, and where the baseline looks.

use std::fmt::Write;

use eeglens_train::{BaselineReport, ChanceReport, EvalReport};

use super::topo::scalp_figure;
use super::{chance, pct, Page};
use crate::figures::value_matrix;
use crate::input::ReportInput;
use crate::svg::{escape, label};
use crate::wording::{baseline_verdict, baseline_where, p_is};

/// The section, when the run holds a baseline.
pub(super) fn baseline(p: &mut Page, input: &ReportInput) {
    let Some(b) = &input.baseline else {
        if input.missing.iter().any(|m| m.section == "baseline") {
            p.section("baseline", "The network beside a band-power baseline");
            super::missing_here(p, input, "baseline", None);
        }
        return;
    };
    p.section("baseline", "The network beside a band-power baseline");
    let _ = writeln!(
        p.body,
        "<p>The baseline is a logistic regression on the log power of each channel in {} bands (penalty C = {} chosen on the validation windows): what the simplest model decodes from band power alone.</p>",
        b.bands.len(),
        label(b.c, 3)
    );
    let mut t = String::from(concat!(
        "<table><tr><th>test split</th><th class=\"n\">per window</th><th class=\"n\">per subject</th>",
        "<th>above chance?</th></tr>"
    ));
    let network = input.eval.as_ref();
    row(&mut t, "network", network, network.and_then(|e| e.chance.as_ref()));
    row(&mut t, "band-power baseline", Some(&b.test), Some(&b.chance));
    t.push_str("</table>");
    let _ = writeln!(p.body, "{t}");
    let learned = chance(input).map(|v| v.learned);
    let _ = writeln!(p.body, "<p class=\"says\">{}</p>", escape(&baseline_verdict(b, learned)));
    let _ = writeln!(p.body, "<p>{}</p>", escape(&baseline_where(b, &input.dataset.classes)));
    if input.eval.as_ref().is_some_and(|e| e.classes.len() == 2 && e.split == b.test.split) {
        let _ = writeln!(
            p.body,
            "<p>The ROC curves of both on the test split, per subject and per window, are drawn together under <a href=\"#fig-roc-subjects\">Training and test</a>.</p>"
        );
    }
    figures(p, input, b);
}

fn row(t: &mut String, who: &str, e: Option<&EvalReport>, c: Option<&ChanceReport>) {
    let acc = |v: Option<f64>, n: Option<usize>| match (v, n) {
        (Some(v), Some(n)) => format!("{} of {n}", pct(v)),
        _ => "–".into(),
    };
    let verdict = match c {
        Some(c) => format!(
            "{} (windows {}, subjects {})",
            if c.learned { "yes" } else { "no" },
            p_is(c.window.p),
            p_is(c.subject.p)
        ),
        None => "–".into(),
    };
    let _ = write!(
        t,
        "<tr><td>{who}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{verdict}</td></tr>",
        acc(e.map(|e| e.accuracy), e.map(|e| e.n_windows)),
        acc(e.map(|e| e.subject_accuracy), e.map(|e| e.n_subjects)),
    );
}

/// Cohen's d per channel and band, and the scalp map of the top band's d.
fn figures(p: &mut Page, input: &ReportInput, b: &BaselineReport) {
    let classes = &input.dataset.classes;
    let (c0, c1) = (
        classes.first().map(String::as_str).unwrap_or("class 0"),
        classes.get(1).map(String::as_str).unwrap_or("class 1"),
    );
    let d = |band: usize, ch: usize| b.effect.get(band).and_then(|r| r.get(ch)).copied().unwrap_or(f64::NAN);
    let values: Vec<Vec<f64>> =
        (0..b.channels.len()).map(|ch| (0..b.bands.len()).map(|band| d(band, ch)).collect()).collect();
    let _ = writeln!(p.body, "<div class=\"figs\">");
    p.figure(
        "baseline-effect",
        &value_matrix("Baseline: Cohen's d of log band power", &b.channels, &b.bands, &values, "d"),
        &format!(
            "Cohen's d of the log band power, {} over {}, per channel and band on the training windows: red, more power for {}; blue, more for {}.",
            escape(c1),
            escape(c0),
            escape(c1),
            escape(c0)
        ),
    );
    if let Some(top) = b.bands.iter().position(|n| n == &b.top_band) {
        let values: Vec<(&String, f64)> =
            b.channels.iter().enumerate().map(|(ch, name)| (name, d(top, ch))).collect();
        scalp_figure(
            p,
            "baseline-topo",
            &format!("Baseline: {} d", b.top_band),
            &values,
            "Cohen's d",
            &format!(
                "Cohen's d in {}, the baseline's top band, per channel, interpolated over the head by spherical splines (nose up); the channels of largest |d| are named outside the head, every electrode's name and value show on hover.",
                escape(&b.top_band)
            ),
        );
    }
    let _ = writeln!(p.body, "</div>");
}

//! The folds of a cross-validation: each fold's test figures, their mean,
//! SD and 95 % interval, and the figures pooled over every subject.

use std::fmt::Write;

use super::{pct, Page};
use crate::input::ReportInput;
use crate::svg::escape;

/// The section, when the report is of the parent directory of a cross-validation's folds.
pub(super) fn cross_validation(p: &mut Page, input: &ReportInput) {
    let Some(f) = &input.folds else { return };
    let e = &f.eval;
    p.section("folds", "Cross-validation");
    let _ = writeln!(
        p.body,
        "<p>{} folds of <code>{}</code> (partition seed {}): every one of the {} subjects was tested once, by the fold whose network never saw it. The test figures, the ROC curves, the baseline, the data's class spectra and the interpretation on this page pool the folds' test subjects (out of fold); the learning curves and the layer table are fold {}'s. The network is above chance in {} of the {} folds.</p>",
        e.n_folds,
        escape(&f.parent.display().to_string()),
        e.partition_seed,
        e.pooled.n_subjects,
        f.shown,
        e.learned,
        e.n_folds
    );
    let opt = |v: Option<f64>| v.map_or_else(|| "–".to_string(), pct);
    let mut t = String::from(
        "<table><tr><th>fold</th><th>subjects tested</th><th>windows</th><th>accuracy per window</th><th>balanced</th><th>AUC</th><th>accuracy per subject</th><th>AUC per subject</th><th>above chance</th></tr>",
    );
    for r in &e.folds {
        let _ = write!(
            t,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            r.fold,
            r.subjects_tested.len(),
            r.n_windows,
            pct(r.accuracy),
            pct(r.balanced_accuracy),
            opt(r.auc),
            pct(r.subject_accuracy),
            opt(r.subject_auc),
            if r.learned { "yes" } else { "<b>no</b>" }
        );
    }
    let stat = |name: &str| {
        let m = e.mean.get(name).map_or_else(|| "–".to_string(), |v| pct(*v));
        let sd = e.sd.get(name).map_or_else(String::new, |v| format!(" ± {}", pct(*v)));
        let ci = e.ci95.get(name).map_or_else(String::new, |[lo, hi]| {
            format!("<br><span class=\"note\">95 % CI {}–{}</span>", pct(*lo), pct(*hi))
        });
        format!("<td>{m}{sd}{ci}</td>")
    };
    let _ = write!(
        t,
        "<tr><th>mean ± SD</th><td></td><td></td>{}{}{}{}{}<td></td></tr>",
        stat("accuracy"),
        stat("balanced_accuracy"),
        stat("auc"),
        stat("subject_accuracy"),
        stat("subject_auc")
    );
    let pooled = &e.pooled;
    let _ = write!(
        t,
        "<tr><th>pooled</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td></td><td>{}</td><td></td><td>{}</td></tr></table>",
        pooled.n_subjects,
        pooled.n_windows,
        pct(pooled.accuracy),
        pct(pooled.balanced_accuracy),
        pct(pooled.subject_accuracy),
        pooled.chance.as_ref().map_or(String::new(), |c| format!(
            "{} <span class=\"note\">(subject test {})</span>",
            if c.learned { "yes" } else { "<b>no</b>" },
            crate::wording::p_is(c.subject_p())
        ))
    );
    let _ = writeln!(p.body, "{t}");
    let _ = writeln!(
        p.body,
        "<p class=\"note\">The 95 % interval is Student's t over the {} folds' figures, not clipped to [0, 100 %]; with few folds it is wide. The pooled row counts every tested window and subject once.</p>",
        e.n_folds
    );
}

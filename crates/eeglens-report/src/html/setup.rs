//! The run itself: the data set, the network, training and the test evaluation.

use std::fmt::Write;

use super::{pct, shape, Page};
use crate::figures::{confusion_matrix, prediction_scatter, roc_curves, training_curves, Curves, RocSeries};
use crate::input::ReportInput;
use crate::svg::{escape, label};
use eeglens_train::run_dir::METRICS_FILE;
use eeglens_train::EvalReport;

pub(super) fn dataset(p: &mut Page, input: &ReportInput) {
    let d = &input.dataset;
    p.section("data", "Data set");
    super::missing_here(p, input, "data", None);
    let _ = writeln!(
        p.body,
        "<p>Epoch store <code>{}</code>: {} channels ({}), {} Hz, windows of {} samples; label column <code>{}</code>.</p>",
        escape(&d.path.display().to_string()),
        d.channels.len(),
        escape(&d.channels.join(", ")),
        label(d.fs, 4),
        d.n_samples,
        escape(&d.label_column)
    );
    let mut t =
        String::from("<table><tr><th>split</th><th class=\"n\">subjects</th><th class=\"n\">windows</th>");
    for c in &d.classes {
        let _ = write!(t, "<th class=\"n\">{}</th>", escape(c));
    }
    t.push_str("</tr>");
    for s in &d.splits {
        let _ = write!(
            t,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>",
            escape(&s.name),
            s.subjects.map(|v| v.to_string()).unwrap_or_else(|| "–".into()),
            s.windows
        );
        for k in 0..d.classes.len() {
            let cell = match &s.per_class {
                Some(v) => {
                    let n = v.get(k).copied().unwrap_or(0);
                    format!("{n} ({})", pct(n as f64 / s.windows.max(1) as f64))
                }
                None => "–".into(),
            };
            let _ = write!(t, "<td class=\"n\">{cell}</td>");
        }
        t.push_str("</tr>");
    }
    t.push_str("</table>");
    let _ = writeln!(p.body, "{t}");
    if let Some(serde_json::Value::Object(m)) = &d.settings {
        let mut s = String::from("<h3>Preparation</h3><table>");
        // The preparation's own provenance is shown with the other steps'.
        for (k, v) in m.iter().filter(|(k, _)| k.as_str() != "provenance") {
            let v = match v {
                serde_json::Value::String(s) => s.clone(),
                // What happened to each recording: counted here, listed by `prepare`.
                serde_json::Value::Object(o) if k == "outcome" => format!(
                    "{} recordings used, {} skipped, {} listed participants without a recording",
                    o.get("used").map_or("?".into(), |v| v.to_string()),
                    o.get("skipped").map_or("?".into(), |v| v.to_string()),
                    o.get("participants_without_recording").and_then(|v| v.as_array()).map_or(0, Vec::len),
                ),
                other => other.to_string(),
            };
            let _ = write!(s, "<tr><th>{}</th><td>{}</td></tr>", escape(k), escape(&v));
        }
        s.push_str("</table>");
        let _ = writeln!(p.body, "{s}");
    }
}

/// What made the result: every recorded step (prepare, train, eval,
/// interpret), with the version, command line, date, threads and kernels.
pub(super) fn provenance(p: &mut Page, input: &ReportInput) {
    p.section("provenance", "Provenance");
    super::missing_here(p, input, "provenance", None);
    if input.provenance.is_empty() {
        let _ = writeln!(
            p.body,
            "<p>No step of this run recorded its provenance (it was made by an eeglens that did not record it).</p>"
        );
        return;
    }
    let mut t = String::from(
        "<table><tr><th>step</th><th>command</th><th>eeglens</th><th>ended (UTC)</th><th class=\"n\">threads</th><th>kernels</th></tr>",
    );
    for s in &input.provenance {
        let _ = write!(
            t,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            escape(&s.step),
            escape(&s.command),
            escape(&s.eeglens),
            escape(&s.date),
            s.threads,
            escape(&s.kernels)
        );
    }
    t.push_str("</table>");
    let _ = writeln!(p.body, "{t}");
}

pub(super) fn model(p: &mut Page, input: &ReportInput) {
    let m = &input.model;
    p.section("model", "Model");
    super::missing_here(p, input, "model", None);
    let _ = writeln!(
        p.body,
        "<p><b>{}</b>: input {}, {} learnable parameters.</p>",
        escape(&m.name),
        shape(&m.input_shape),
        m.n_params
    );
    if let Some(sel) = &m.selection {
        let mut t = String::from(
            "<table><tr><th>candidate</th><th class=\"n\">validation balanced accuracy</th><th class=\"n\">validation loss</th><th class=\"n\">best epoch</th><th></th></tr>",
        );
        let fig = |v: Option<f64>| v.map_or("–".into(), |v| format!("{v:.3}"));
        for c in &sel.candidates {
            let _ = write!(
                t,
                "<tr><td><code>{}</code></td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                escape(&c.model),
                fig(c.val_balanced_accuracy),
                fig(c.val_loss),
                c.best_epoch.map_or("–".into(), |e| e.to_string()),
                if c.model == sel.chosen { "chosen" } else { "" }
            );
        }
        t.push_str("</table>");
        let _ = writeln!(
            p.body,
            "<p>Chosen among {} candidates trained on the same data, by {}. Only the validation subjects were looked at: the test figures below are of the chosen model alone.</p>{t}",
            sel.candidates.len(),
            escape(&sel.criterion)
        );
    }
    if m.layers.is_empty() {
        let _ = writeln!(p.body, "<p class=\"note\">The layer table needs the run's checkpoint.</p>");
        return;
    }
    let mut t = String::from(
        "<table><tr><th>layer</th><th>kind</th><th>output shape</th><th class=\"n\">parameters</th></tr>",
    );
    for l in &m.layers {
        let _ = write!(
            t,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td class=\"n\">{}</td></tr>",
            escape(&l.name),
            escape(&l.kind),
            shape(&l.output_shape),
            l.params
        );
    }
    t.push_str("</table>");
    let _ = writeln!(p.body, "{t}");
}

pub(super) fn training(p: &mut Page, input: &ReportInput) {
    p.section("training", "Training and test");
    let e = &input.epochs;
    let numeric = input.numeric().is_some();
    let noticed = super::missing_here(p, input, "training", Some(METRICS_FILE));
    if e.is_empty() {
        if !noticed {
            let _ = writeln!(p.body, "<p class=\"note\">No epoch has been recorded yet.</p>");
        }
    } else {
        let nan = |v: Option<f64>| v.unwrap_or(f64::NAN);
        let curves = Curves {
            epochs: e.iter().map(|r| r.epoch as f64).collect(),
            train_loss: e.iter().map(|r| r.train_loss).collect(),
            val_loss: e.iter().map(|r| nan(r.val_loss)).collect(),
            // A regression has no accuracy: its panel stays empty.
            train_accuracy: e.iter().map(|r| if numeric { f64::NAN } else { r.train_accuracy }).collect(),
            val_accuracy: e.iter().map(|r| if numeric { f64::NAN } else { nan(r.val_accuracy) }).collect(),
            best: e.iter().rev().find(|r| r.best).map(|r| r.epoch as f64),
        };
        let best = e
            .iter()
            .rev()
            .find(|r| r.best)
            .map(|r| format!(" The best checkpoint is from epoch {} (marked).", r.epoch));
        let seconds: f64 = e.iter().map(|r| r.seconds).sum();
        p.figure(
            "training-curves",
            &training_curves(&curves),
            &format!(
                "{} per epoch over {} epochs ({} s): training (solid, dropout on) and validation (dashed).{}",
                if numeric {
                    "Loss (mean squared error of the standardised target; a regression has no accuracy)"
                } else {
                    "Loss and accuracy"
                },
                e.len(),
                label(seconds, 3),
                best.unwrap_or_default()
            ),
        );
    }
    if numeric {
        regression_test(p, input);
        return;
    }
    let Some(ev) = &input.eval else {
        if super::missing_here(p, input, "training", Some("eval-test.json")) {
            return;
        }
        let _ = writeln!(p.body, "<p class=\"note\">No test evaluation yet: <code>eeglens eval --run RUN_DIR</code> writes it.</p>");
        return;
    };
    let _ = writeln!(
        p.body,
        concat!(
            "<table><tr><th>{} split</th><th class=\"n\">per window</th><th class=\"n\">per subject</th></tr>",
            "<tr><td>count</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            "<tr><td>accuracy</td><td class=\"n\">{}</td><td class=\"n\">{} (majority vote {})</td></tr>",
            "<tr><td>balanced accuracy</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            "<tr><td>ROC AUC</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            "<tr><td>loss</td><td class=\"n\">{}</td><td class=\"n\">–</td></tr></table>"
        ),
        escape(&ev.split),
        ev.n_windows,
        ev.n_subjects,
        pct(ev.accuracy),
        pct(ev.subject_accuracy),
        pct(ev.subject_accuracy_vote),
        pct(ev.balanced_accuracy),
        pct(ev.subject_balanced_accuracy),
        ev.auc.map(|v| label(v, 3)).unwrap_or_else(|| "–".into()),
        ev.subject_auc.map(|v| label(v, 3)).unwrap_or_else(|| "–".into()),
        label(ev.loss, 3)
    );
    let _ = writeln!(p.body, "<div class=\"figs\">");
    p.figure(
        "confusion-windows",
        &confusion_matrix("Confusion per window", &ev.classes, &ev.confusion),
        &format!("Test windows by true and predicted class ({} windows).", ev.n_windows),
    );
    p.figure(
        "confusion-subjects",
        &confusion_matrix("Confusion per subject", &ev.classes, &ev.subject_confusion),
        &format!(
            "Test subjects, each predicted from its mean window probabilities ({} subjects).",
            ev.n_subjects
        ),
    );
    if ev.classes.len() == 2 {
        roc(p, input, ev);
    }
    let _ = writeln!(p.body, "</div>");
    subjects_table(p, ev);
}

/// A regression's test figures: MAE, RMSE, R² and r per window and per
/// subject, the test of the subjects' r, and predicted against true per subject.
fn regression_test(p: &mut Page, input: &ReportInput) {
    let Some(r) = &input.regression else {
        if !super::missing_here(p, input, "training", Some("eval-test.json")) {
            let _ = writeln!(p.body, "<p class=\"note\">No test evaluation yet: <code>eeglens eval --run RUN_DIR</code> writes it.</p>");
        }
        return;
    };
    let column = escape(&r.target.column);
    let unit = r.target.unit.as_deref().map(|u| format!(" ({})", escape(u))).unwrap_or_default();
    let (w, s) = (&r.window, &r.subject);
    let _ = writeln!(
        p.body,
        concat!(
            "<table class=\"regression\"><tr><th>{} split, {}{}</th><th class=\"n\">per window</th><th class=\"n\">per subject</th></tr>",
            "<tr><td>count</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            "<tr><td>MAE</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            "<tr><td>RMSE</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            "<tr><td>R²</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            "<tr><td>Pearson r</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr></table>"
        ),
        escape(&r.split),
        column,
        unit,
        w.n,
        s.n,
        label(w.mae, 3),
        label(s.mae, 3),
        label(w.rmse, 3),
        label(s.rmse, 3),
        label(w.r2, 3),
        label(s.r2, 3),
        label(w.r, 3),
        label(s.r, 3)
    );
    let sig = &r.significance;
    let _ = writeln!(
        p.body,
        "<p>A subject's prediction is the mean of its windows' predictions. R² is 1 − SSE/SST around the evaluated values' own mean (below 0: worse than predicting that mean). The subjects' r {} above 0 by a one-sided t-test ({} subjects{}).</p>",
        if sig.learned { "is" } else { "is not" },
        sig.n_subjects,
        sig.p.map(|p| format!(", {}", crate::wording::p_is(p))).unwrap_or_default()
    );
    let pairs: Vec<(f64, f64)> = r.subjects.iter().map(|x| (x.target, x.predicted)).collect();
    let _ = writeln!(p.body, "<div class=\"figs\">");
    p.figure(
        "regression-subjects",
        &prediction_scatter("Predicted against true, per subject", &pairs, &r.target.column, Some(s.r)),
        &format!(
            "Each test subject's mean predicted {column} against its {column} ({} subjects); a perfect prediction lies on the dashed line.",
            r.subjects.len()
        ),
    );
    let _ = writeln!(p.body, "</div>");
}

/// The ROC curves per subject and per window of the network, beside the
/// band-power baseline's when the run recorded it on the same split.
fn roc(p: &mut Page, input: &ReportInput, ev: &EvalReport) {
    let baseline = input.baseline.as_ref().map(|b| &b.test).filter(|b| b.split == ev.split);
    let positive = escape(&ev.classes[1]);
    let by_subject = |e: &EvalReport| -> Vec<(f64, bool)> {
        e.subjects.iter().map(|s| (s.mean_prob.get(1).copied().unwrap_or(f64::NAN), s.label == 1)).collect()
    };
    let mut series = vec![RocSeries { name: "network".into(), scored: by_subject(ev), dashed: false }];
    if let Some(b) = baseline.filter(|b| !b.subjects.is_empty()) {
        series.push(RocSeries { name: "band-power baseline".into(), scored: by_subject(b), dashed: true });
    }
    if !ev.subjects.is_empty() {
        let both =
            if series.len() > 1 { ", the network's and the band-power baseline's (dashed)" } else { "" };
        p.figure(
            "roc-subjects",
            &roc_curves("ROC per subject", &series),
            &format!(
                "Test subjects ranked by their mean probability of {positive}{both}: true- against false-positive rate as the threshold falls (grey dashed: chance)."
            ),
        );
    }
    // Per window: each window's probability, its class from the store.
    let by_window = |e: &EvalReport| -> Vec<(f64, bool)> {
        e.windows
            .iter()
            .zip(&e.probabilities)
            .filter_map(|(i, pr)| {
                let label = input.window_labels.get(i)?;
                Some((pr.get(1).map_or(f64::NAN, |&v| f64::from(v)), *label == 1))
            })
            .collect()
    };
    let network = by_window(ev);
    if network.is_empty() {
        let _ = writeln!(
            p.body,
            "<p class=\"note\">No ROC per window: it needs each test window's probabilities (in <code>eval-test.json</code>) and the run's epoch store for their classes.</p>"
        );
        return;
    }
    let mut series = vec![RocSeries { name: "network".into(), scored: network, dashed: false }];
    let base = baseline.map(by_window).unwrap_or_default();
    let both = if base.is_empty() {
        if baseline.is_some() {
            " The band-power baseline's curve needs its window probabilities, which its baseline.json (from an older eeglens) does not hold."
        } else {
            ""
        }
    } else {
        series.push(RocSeries { name: "band-power baseline".into(), scored: base, dashed: true });
        " The band-power baseline's curve is dashed."
    };
    p.figure(
        "roc-windows",
        &roc_curves("ROC per window", &series),
        &format!(
            "Test windows ranked by their probability of {positive}, each window on its own (windows of one subject are not independent: the per-subject curve is the fairer one).{both}"
        ),
    );
}

/// One row per test subject: its windows, how many the network got right, its
/// mean probability of its own class and the class it is given, the subjects
/// the network gets wrong first. A per-subject accuracy hides which subjects
/// carry it; this shows whether a few subjects decide the result.
fn subjects_table(p: &mut Page, ev: &eeglens_train::eval::EvalReport) {
    if ev.subjects.is_empty() {
        return;
    }
    let class = |c: usize| ev.classes.get(c).map_or_else(|| c.to_string(), |n| n.clone());
    let own =
        |s: &eeglens_train::metrics::SubjectResult| s.mean_prob.get(s.label).copied().unwrap_or(f64::NAN);
    let mut rows: Vec<&eeglens_train::metrics::SubjectResult> = ev.subjects.iter().collect();
    rows.sort_by(|a, b| own(a).total_cmp(&own(b)));
    let wrong = rows.iter().filter(|s| s.predicted != s.label).count();
    let mut t = String::from(concat!(
        "<table class=\"subjects\"><tr><th>subject</th><th>class</th><th class=\"n\">windows</th>",
        "<th class=\"n\">windows right</th><th class=\"n\">mean probability of its class</th><th>given</th></tr>"
    ));
    for s in rows {
        let mark = if s.predicted == s.label { "" } else { " class=\"wrong\"" };
        let _ = write!(
            t,
            "<tr{mark}><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            escape(&s.subject),
            escape(&class(s.label)),
            s.n_windows,
            pct(s.window_accuracy),
            label(own(s), 3),
            escape(&class(s.predicted))
        );
    }
    t.push_str("</table>");
    let _ = writeln!(
        p.body,
        "<h3>Per subject</h3><p>{} of {} test subjects given the wrong class (from their mean window probabilities); least sure first.</p>{t}",
        wrong,
        ev.subjects.len()
    );
}

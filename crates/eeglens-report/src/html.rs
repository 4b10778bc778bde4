//! The HTML page: one self-contained document (inline CSS and SVG, a few
//! lines of inline script that record each figure's rendered size; no
//! external request of any kind), readable on a laptop and printable.

use std::fmt::Write;

use eeglens_interpret::Reading;

use crate::figures::{
    band_bars, confusion_matrix, heatmap_limit, heatmap_scaled, psd_curves, scalp_map, stacked_traces_scaled,
    trace_amplitude, training_curves, BandBar, BandSpan, Curves, TopoPoint,
};
use crate::input::{Example, ReportInput};
use crate::svg::{escape, label};

/// A rendered report: the page and the ids of the figures it holds.
#[derive(Clone, Debug)]
pub struct Rendered {
    /// the HTML document
    pub html: String,
    /// `data-figure` ids of the figures, in page order
    pub figures: Vec<String>,
}

const CSS: &str = r#"
:root { --ink: #1a1a1a; --muted: #555; --rule: #d8d8d8; --accent: #0072b2; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff;
  font: 15px/1.5 "DejaVu Sans", Helvetica, Arial, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 60px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 36px 0 8px; padding-top: 8px; border-top: 2px solid var(--rule); }
h3 { font-size: 16px; margin: 22px 0 6px; }
.sub { color: var(--muted); margin: 0 0 16px; }
.summary { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); gap: 10px; margin: 16px 0; }
.card { border: 1px solid var(--rule); border-radius: 6px; padding: 10px 14px; }
.card b { display: block; font-size: 22px; }
.card span { color: var(--muted); font-size: 13px; }
table { border-collapse: collapse; margin: 8px 0 14px; font-size: 14px; }
th, td { border-bottom: 1px solid var(--rule); padding: 4px 12px 4px 0; text-align: left; vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.reading { background: #f4f8fb; border-left: 4px solid var(--accent); padding: 10px 14px; margin: 10px 0 16px; }
.note { color: var(--muted); font-size: 13px; }
.figs { display: flex; flex-wrap: wrap; gap: 18px 24px; align-items: flex-start; }
figure { margin: 8px 0; max-width: 100%; }
.figs > figure { flex: 0 1 auto; min-width: 0; }
figure svg { display: block; max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 13px; }
/* A caption as wide as its figure, never wider: it does not size the figure. */
.figs > figure > figcaption { width: 0; min-width: 100%; }
code { font-size: 13px; }
@media print {
  body { font-size: 11pt; }
  main { max-width: none; padding: 0; }
  h2 { break-before: auto; break-after: avoid; }
  figure, table, .reading { break-inside: avoid; }
  .summary { grid-template-columns: repeat(4, 1fr); }
}
"#;

/// Records each figure's rendered size in `data-width`/`data-height` and the
/// count of figures with a non-zero box in `body[data-figures-rendered]`.
const SCRIPT: &str = r#"
(function () {
  var ok = 0;
  document.querySelectorAll('figure[data-figure]').forEach(function (f) {
    var s = f.querySelector('svg');
    var r = s ? s.getBoundingClientRect() : { width: 0, height: 0 };
    f.setAttribute('data-width', Math.round(r.width));
    f.setAttribute('data-height', Math.round(r.height));
    f.setAttribute('data-elements', s ? s.querySelectorAll('*').length : 0);
    if (r.width > 0 && r.height > 0) { ok += 1; }
  });
  document.body.setAttribute('data-figures-rendered', ok);
})();
"#;

struct Page {
    body: String,
    figures: Vec<String>,
}

impl Page {
    fn figure(&mut self, id: &str, svg: &str, caption: &str) {
        let _ = write!(
            self.body,
            "<figure data-figure=\"{}\">\n{svg}<figcaption>{}</figcaption>\n</figure>\n",
            escape(id),
            caption
        );
        self.figures.push(id.to_string());
    }
}

/// The whole page of `input`.
pub fn render_html(input: &ReportInput) -> String {
    render(input).html
}

/// The page and the ids of its figures (what a browser test checks).
pub fn render(input: &ReportInput) -> Rendered {
    let mut p = Page { body: String::new(), figures: Vec::new() };
    header(&mut p, input);
    dataset(&mut p, input);
    model(&mut p, input);
    training(&mut p, input);
    interpretation(&mut p, input);
    let html = format!(
        concat!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
            "<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n<main>\n{}</main>\n<script>{}</script>\n</body>\n</html>\n"
        ),
        escape(&input.title),
        CSS,
        p.body,
        SCRIPT
    );
    Rendered { html, figures: p.figures }
}

fn pct(x: f64) -> String {
    if x.is_finite() {
        format!("{:.1}%", 100.0 * x)
    } else {
        "–".into()
    }
}

fn shape(s: &[usize]) -> String {
    format!("[{}]", s.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(", "))
}

fn header(p: &mut Page, input: &ReportInput) {
    let _ = writeln!(p.body, "<h1>{}</h1>", escape(&input.title));
    let d = &input.dataset;
    let mut sub = format!(
        "{} classifying <b>{}</b> ({}) from {}-channel windows of {} s at {} Hz.",
        escape(&input.model.name),
        escape(&d.label_column),
        escape(&d.classes.join(" / ")),
        d.channels.len(),
        label(d.n_samples as f64 / d.fs, 3),
        label(d.fs, 4)
    );
    if let Some(r) = &input.run_dir {
        let _ = write!(sub, " Run: <code>{}</code>.", escape(&r.display().to_string()));
    }
    let _ = writeln!(p.body, "<p class=\"sub\">{sub}</p>");
    let mut cards = String::new();
    if let Some(e) = &input.eval {
        let _ = write!(
            cards,
            "<div class=\"card\"><b>{}</b><span>test accuracy per window ({} windows)</span></div>",
            pct(e.accuracy),
            e.n_windows
        );
        let _ = write!(
            cards,
            "<div class=\"card\"><b>{}</b><span>test accuracy per subject ({} subjects)</span></div>",
            pct(e.subject_accuracy),
            e.n_subjects
        );
    }
    if let Some(i) = &input.interpretation {
        for (name, reading) in methods(&i.report) {
            let top = reading.top_band.as_deref().unwrap_or("none significant");
            let _ = write!(
                cards,
                "<div class=\"card\"><b>{}</b><span>top band, {}</span></div>",
                escape(top),
                method_title(name)
            );
        }
    }
    if !cards.is_empty() {
        let _ = writeln!(p.body, "<div class=\"summary\">{cards}</div>");
    }
}

fn dataset(p: &mut Page, input: &ReportInput) {
    let d = &input.dataset;
    let _ = writeln!(p.body, "<h2 id=\"data\">Data set</h2>");
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
        for (k, v) in m {
            let v = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let _ = write!(s, "<tr><th>{}</th><td>{}</td></tr>", escape(k), escape(&v));
        }
        s.push_str("</table>");
        let _ = writeln!(p.body, "{s}");
    }
}

fn model(p: &mut Page, input: &ReportInput) {
    let m = &input.model;
    let _ = writeln!(p.body, "<h2 id=\"model\">Model</h2>");
    let _ = writeln!(
        p.body,
        "<p><b>{}</b>: input {}, {} learnable parameters.</p>",
        escape(&m.name),
        shape(&m.input_shape),
        m.n_params
    );
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

fn training(p: &mut Page, input: &ReportInput) {
    let _ = writeln!(p.body, "<h2 id=\"training\">Training and test</h2>");
    let e = &input.epochs;
    if e.is_empty() {
        let _ = writeln!(p.body, "<p class=\"note\">No epoch has been recorded yet.</p>");
    } else {
        let nan = |v: Option<f64>| v.unwrap_or(f64::NAN);
        let curves = Curves {
            epochs: e.iter().map(|r| r.epoch as f64).collect(),
            train_loss: e.iter().map(|r| r.train_loss).collect(),
            val_loss: e.iter().map(|r| nan(r.val_loss)).collect(),
            train_accuracy: e.iter().map(|r| r.train_accuracy).collect(),
            val_accuracy: e.iter().map(|r| nan(r.val_accuracy)).collect(),
        };
        let best = e
            .iter()
            .rev()
            .find(|r| r.best)
            .map(|r| format!(" The best checkpoint is from epoch {}.", r.epoch));
        let seconds: f64 = e.iter().map(|r| r.seconds).sum();
        p.figure(
            "training-curves",
            &training_curves(&curves),
            &format!(
                "Loss and accuracy per epoch over {} epochs ({} s): training (solid, dropout on) and validation (dashed).{}",
                e.len(),
                label(seconds, 3),
                best.unwrap_or_default()
            ),
        );
    }
    let Some(ev) = &input.eval else {
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
    let _ = writeln!(p.body, "</div>");
}

fn methods(r: &eeglens_interpret::Report) -> Vec<(&'static str, &Reading)> {
    let m = &r.methods;
    let mut out = Vec::new();
    if let Some(o) = &m.optimal {
        out.push(("optimal", &o.reading));
    }
    if let Some(a) = &m.actmax {
        out.push(("actmax", &a.reading));
    }
    if let Some(d) = &m.deconv {
        out.push(("deconv", &d.reading));
    }
    out
}

fn method_title(name: &str) -> &'static str {
    match name {
        "optimal" => "optimal samples",
        "actmax" => "activation maximisation",
        _ => "reverse convolution (deconvnet)",
    }
}

/// The band a method's scalp map shows: its top band, else the largest contrast.
pub fn map_band(reading: &Reading) -> Option<&eeglens_interpret::BandContrast> {
    match &reading.top_band {
        Some(name) => reading.bands.iter().find(|b| &b.name == name),
        None => reading
            .bands
            .iter()
            .filter(|b| b.log_ratio.is_finite())
            .max_by(|a, b| a.log_ratio.abs().total_cmp(&b.log_ratio.abs())),
    }
}

/// The channel with the largest |log ratio| in the band, with that ratio;
/// `None` when the reading has no finite per-channel ratio for it.
fn peak_channel(reading: &Reading, band: &eeglens_interpret::BandContrast) -> Option<(String, f64)> {
    let per = reading.channels.get(&band.name)?;
    per.0
        .iter()
        .filter(|(_, x)| x.is_finite())
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
        .map(|(c, x)| (c.clone(), *x))
}

/// Up to `n` channels where the band's contrast is strongest in its own
/// direction: the direction of its largest per-channel ratio (a focal
/// difference can have the other sign than the channel average).
pub fn strongest_channels(
    reading: &Reading,
    band: &eeglens_interpret::BandContrast,
    n: usize,
) -> Vec<String> {
    let Some(per) = reading.channels.get(&band.name) else { return Vec::new() };
    let direction = peak_channel(reading, band).map_or(band.log_ratio, |(_, x)| x);
    let sign = if direction >= 0.0 { 1.0 } else { -1.0 };
    let mut v: Vec<(&str, f64)> =
        per.0.iter().filter(|(_, x)| x.is_finite()).map(|(c, x)| (c.as_str(), sign * x)).collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1));
    v.into_iter().take(n).map(|(c, _)| c.to_string()).collect()
}

/// The reading in words: which band differs, which way, where, and how sure.
pub fn plain_reading(reading: &Reading, classes: &[String], alpha: f64) -> String {
    let c0 = classes.first().map(String::as_str).unwrap_or("class 0");
    let c1 = classes.get(1).map(String::as_str).unwrap_or("class 1");
    let hz = |b: &eeglens_interpret::BandContrast| format!("{}–{} Hz", label(b.lo, 3), label(b.hi, 3));
    match reading.top_band.as_ref().and_then(|n| reading.bands.iter().find(|b| &b.name == n)) {
        Some(b) => {
            // Direction and size at the channel where the band differs most: the
            // channel average can dilute a focal difference, or even flip its sign.
            let Some((peak, r)) = peak_channel(reading, b) else {
                let (more, less) = if b.log_ratio >= 0.0 { (c1, c0) } else { (c0, c1) };
                return format!(
                    "The largest class difference is in {} ({}): {} shows {} times the power of {} (log ratio {:+.2}); p = {}.",
                    b.name,
                    hz(b),
                    more,
                    label(b.log_ratio.abs().exp(), 3),
                    less,
                    b.log_ratio,
                    label(b.p, 2)
                );
            };
            let (more, less) = if r >= 0.0 { (c1, c0) } else { (c0, c1) };
            let where_ = strongest_channels(reading, b, 3);
            format!(
                "The largest class difference is in {} ({}): {} shows {} times the power of {} at {} (log ratio {:+.2}), strongest at {} (averaged over channels: {:+.2}); p = {}.",
                b.name,
                hz(b),
                more,
                label(r.abs().exp(), 3),
                less,
                peak,
                r,
                where_.join(", "),
                b.log_ratio,
                label(b.p, 2)
            )
        }
        None => match reading.bands.iter().filter(|b| b.p.is_finite()).min_by(|a, b| a.p.total_cmp(&b.p)) {
            Some(b) => format!(
                "No band differs significantly between {c0} and {c1} at α = {}: the smallest p is {} ({}, {}, log ratio {:+.2}).",
                label(alpha, 2),
                label(b.p, 2),
                b.name,
                hz(b),
                b.log_ratio
            ),
            None => "No band contrast was computed.".into(),
        },
    }
}

fn interpretation(p: &mut Page, input: &ReportInput) {
    let _ = writeln!(p.body, "<h2 id=\"interpretation\">What the network learned</h2>");
    let Some(interp) = &input.interpretation else {
        let _ = writeln!(p.body, "<p class=\"note\">No interpretation yet: <code>eeglens interpret --run RUN_DIR</code> writes it.</p>");
        return;
    };
    let r = &interp.report;
    let d = &r.model.discrimination;
    let _ = writeln!(
        p.body,
        concat!(
            "<p>On the {} split ({} windows, {} subject-class pairs) the network is right for {} of the windows; ",
            "that it separates {} from {} better than chance has p = {} (subject labels permuted, {} permutations). ",
            "Every contrast below is {} over {} (log power ratio &gt; 0: more power for {}), and no band is ",
            "called significant with a p below the network's own.</p>"
        ),
        escape(&r.split),
        d.n_windows,
        d.n_subjects,
        pct(d.accuracy),
        escape(r.classes.get(1).map(String::as_str).unwrap_or("?")),
        escape(r.classes.first().map(String::as_str).unwrap_or("?")),
        label(d.p, 2),
        r.permutations,
        escape(r.classes.get(1).map(String::as_str).unwrap_or("?")),
        escape(r.classes.first().map(String::as_str).unwrap_or("?")),
        escape(r.classes.get(1).map(String::as_str).unwrap_or("?")),
    );
    let classes = (
        r.classes.first().map(String::as_str).unwrap_or("class 0"),
        r.classes.get(1).map(String::as_str).unwrap_or("class 1"),
    );
    let data_unit = input.dataset.unit();
    for (name, reading) in methods(r) {
        let _ = writeln!(p.body, "<h3 id=\"method-{name}\">{}</h3>", method_title(name));
        let _ = writeln!(
            p.body,
            "<p class=\"reading\">{}</p>",
            escape(&plain_reading(reading, &r.classes, r.alpha))
        );
        let n = reading.n.0.iter().map(|(c, n)| format!("{n} {c}")).collect::<Vec<_>>().join(", ");
        let items = match name {
            "optimal" => "windows",
            "actmax" => "patterns",
            _ => "maps",
        };
        let _ = writeln!(p.body, "<div class=\"figs\">");
        let spans: Vec<BandSpan> =
            reading.bands.iter().map(|b| BandSpan { name: b.name.clone(), lo: b.lo, hi: b.hi }).collect();
        let f_max = reading.bands.iter().map(|b| b.hi).fold(f64::NAN, f64::max);
        let f_max = if f_max.is_finite() { Some((f_max * 1.25).min(r.fs / 2.0)) } else { None };
        let unit = if name == "deconv" { "a.u.²/Hz".to_string() } else { format!("{data_unit}²/Hz") };
        p.figure(
            &format!("{name}-psd"),
            &psd_curves(
                &format!("Spectra, {}", method_title(name)),
                &reading.freqs,
                &reading.psd.0,
                &spans,
                f_max,
                &unit,
            ),
            &format!("Welch PSD per class, mean over channels and {items} ({}); bands shaded.", escape(&n)),
        );
        let bars: Vec<BandBar> = reading
            .bands
            .iter()
            .map(|b| BandBar { name: b.name.clone(), lo: b.lo, hi: b.hi, log_ratio: b.log_ratio, p: b.p })
            .collect();
        p.figure(
            &format!("{name}-bands"),
            &band_bars(&format!("Band contrast, {}", method_title(name)), &bars, classes, r.alpha),
            &format!("ln(power of {} / power of {}) per band, channels averaged; faded bars are not significant at α = {}.", escape(classes.1), escape(classes.0), label(r.alpha, 2)),
        );
        if let Some(b) = map_band(reading) {
            let points: Vec<TopoPoint> = reading
                .channels
                .get(&b.name)
                .map(|per| {
                    per.0
                        .iter()
                        .filter_map(|(ch, v)| {
                            eeglens_io::montage::position(ch).map(|e| {
                                let [x, y] = e.xy();
                                TopoPoint { name: ch.clone(), x, y, value: *v }
                            })
                        })
                        .collect()
                })
                .unwrap_or_default();
            let missing = reading.channels.get(&b.name).map_or(0, |per| per.0.len()) - points.len();
            let why = if reading.top_band.is_some() {
                "its significant band"
            } else {
                "the band with the largest contrast (not significant)"
            };
            let mut caption = format!(
                "ln({} / {}) power in {} ({}–{} Hz) per channel, {why}, interpolated between the electrodes (nose up).",
                escape(classes.1),
                escape(classes.0),
                escape(&b.name),
                label(b.lo, 3),
                label(b.hi, 3)
            );
            if missing > 0 {
                let _ = write!(caption, " {missing} channel(s) without a standard position are not shown.");
            }
            p.figure(
                &format!("{name}-topo"),
                &scalp_map(&format!("{} contrast, {}", b.name, method_title(name)), &points, "ln ratio"),
                &caption,
            );
        }
        let examples: &[Example] = match name {
            "optimal" => &interp.optimal,
            "actmax" => &interp.actmax,
            _ => &interp.deconv,
        };
        let chans = &r.channels;
        let ex_unit = if name == "deconv" { "a.u." } else { data_unit };
        // One scale for all classes of a method, so that they compare.
        let all: Vec<f32> = examples.iter().flat_map(|e| e.data.iter().copied()).collect();
        let (amplitude, limit) = (trace_amplitude(&all), heatmap_limit(&all));
        // Heatmaps of every class in one row, then their traces in the next.
        if name != "optimal" && !examples.is_empty() {
            let _ = writeln!(p.body, "</div>\n<div class=\"figs\">");
            for (k, ex) in examples.iter().enumerate() {
                p.figure(
                    &format!("{name}-heatmap-{k}"),
                    &heatmap_scaled(
                        &format!("{}, class {}", method_title(name), ex.class),
                        chans,
                        &ex.data,
                        r.fs,
                        ex_unit,
                        limit,
                    ),
                    &format!(
                        "Channel x time, {}; red positive, blue negative, one colour scale for all classes.",
                        escape(&ex.note)
                    ),
                );
            }
        }
        if !examples.is_empty() {
            let _ = writeln!(p.body, "</div>\n<div class=\"figs\">");
        }
        for (k, ex) in examples.iter().enumerate() {
            let colour = r.classes.iter().position(|c| c == &ex.class).unwrap_or(k);
            p.figure(
                &format!("{name}-traces-{k}"),
                &stacked_traces_scaled(
                    &format!("{}, class {}", method_title(name), ex.class),
                    chans,
                    &ex.data,
                    r.fs,
                    ex_unit,
                    colour,
                    amplitude,
                ),
                &format!("Traces, {}; one amplitude scale for all classes.", escape(&ex.note)),
            );
        }
        let _ = writeln!(p.body, "</div>");
    }
}

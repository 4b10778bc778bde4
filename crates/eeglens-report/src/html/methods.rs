//! What the network learned: the discrimination test, then one section per
//! interpretation method (its reading in words, spectra, band contrast,
//! scalp map and examples), or "not read" when the network is at chance.

use std::fmt::Write;

use eeglens_interpret::{BandContrast, Reading, Report};

use super::topo::scalp_figure;
use super::{chance, pct, Page};
use crate::figures::{
    band_bars, heatmap_limit, heatmap_scaled, psd_curves, stacked_traces_scaled, trace_amplitude, BandBar,
    BandSpan,
};
use crate::input::{Example, Interpretation, ReportInput};
use crate::svg::{escape, label};
use crate::wording::{
    floor_note, map_band, method_reading, planted, planted_beside, units_per_class, PFloor, NOT_READ,
};

/// The methods, in page order.
pub(super) const METHODS: [&str; 3] = ["optimal", "actmax", "deconv"];

/// The methods the interpretation ran, with their readings, in page order.
pub(super) fn methods(r: &Report) -> Vec<(&'static str, &Reading)> {
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

/// A method's name for people.
pub(super) fn method_title(name: &str) -> &'static str {
    match name {
        "optimal" => "optimal samples",
        "actmax" => "activation maximisation",
        _ => "reverse convolution (deconvnet)",
    }
}

/// The two class names of a report, `(class 0, class 1)`.
fn classes(r: &Report) -> (&str, &str) {
    (
        r.classes.first().map(String::as_str).unwrap_or("class 0"),
        r.classes.get(1).map(String::as_str).unwrap_or("class 1"),
    )
}

/// The section "What the network learned".
pub(super) fn interpretation(p: &mut Page, input: &ReportInput) {
    p.section("interpretation", "What the network learned");
    let Some(interp) = &input.interpretation else {
        let _ = writeln!(p.body, "<p class=\"note\">No interpretation yet: <code>eeglens interpret --run RUN_DIR</code> writes it.</p>");
        return;
    };
    super::missing_here(p, input, "interpretation", None);
    discrimination(p, input, &interp.report);
    let at_chance = chance(input).is_some_and(|v| !v.learned);
    let read = methods(&interp.report);
    if read.is_empty() && at_chance {
        for name in METHODS {
            let _ = writeln!(p.body, "<h3 id=\"method-{name}\">{}</h3>", method_title(name));
            let _ = writeln!(p.body, "<p class=\"not-read\">{}</p>", escape(NOT_READ));
        }
        return;
    }
    for (name, reading) in read {
        method(p, input, interp, name, reading, at_chance);
    }
}

/// The network's own test: how well it separates the classes, and the floor under its p.
fn discrimination(p: &mut Page, input: &ReportInput, r: &Report) {
    if let (Some(g), Some(n)) = (&r.model.regression, &r.numeric) {
        let column = escape(&n.column);
        let _ = writeln!(
            p.body,
            concat!(
                "<p>A regression on <b>{}</b>: the methods contrast <b>high</b> with <b>low</b> instead of two classes. ",
                "Optimal samples and the deconvnet read the {} test windows with the highest predicted {} (high) and the ",
                "lowest (low); activation maximisation reads the patterns that maximise (high) and minimise (low) the output; ",
                "{}",
                "On the {} split ({} windows, {} subjects) the subjects' mean predictions follow their {} with Pearson r = {} ",
                "(windows: r = {}); one-sided permutation p = {} (the values permuted over the subjects, {} permutations). ",
                "Every contrast below is high over low (log power ratio &gt; 0: more power where the network predicts a higher {}), ",
                "and no band is called significant with a p below the network's own.</p>"
            ),
            column,
            r.methods.optimal.as_ref().and_then(|o| o.samples.get("high")).map_or(0, |s| s.len()),
            column,
            if r.methods.deconv.as_ref().is_some_and(|d| d.rule.contains("shared")) {
                "the deconvnet projects every window from the output (the shared seed). "
            } else {
                "the deconvnet projects high windows from the output and low ones from its negative (what lowers the prediction). "
            },
            escape(&r.split),
            g.n_windows,
            g.n_subjects,
            column,
            label(g.r, 3),
            label(g.window_r, 3),
            label(g.p, 2),
            r.permutations,
            column,
        );
        return;
    }
    let d = &r.model.discrimination;
    let (c0, c1) = classes(r);
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
        escape(c1),
        escape(c0),
        label(d.p, 2),
        r.permutations,
        escape(c1),
        escape(c0),
        escape(c1),
    );
    let floor = PFloor::new(d.n_subjects, units_per_class(input.eval.as_ref(), r), r.permutations);
    if let Some(note) = floor_note(d, &floor, r.alpha) {
        let _ = writeln!(p.body, "<p class=\"warning\" id=\"p-floor\">{}</p>", escape(&note));
    }
}

/// One method: its reading in words, then its figures.
fn method(
    p: &mut Page,
    input: &ReportInput,
    interp: &Interpretation,
    name: &str,
    reading: &Reading,
    at_chance: bool,
) {
    let r = &interp.report;
    let _ = writeln!(p.body, "<h3 id=\"method-{name}\">{}</h3>", method_title(name));
    if at_chance {
        let _ = writeln!(
            p.body,
            "<p class=\"warning\">Read anyway: the model is at chance, so this reading describes a network that separates nothing and says nothing about the data.</p>"
        );
    }
    let d = &r.model.discrimination;
    // A regression permutes values over subjects (n! orders): no floor of classes to name.
    let floor = PFloor::new(d.n_subjects, units_per_class(input.eval.as_ref(), r), r.permutations);
    let floor = r.numeric.is_none().then_some(&floor);
    let _ = writeln!(
        p.body,
        "<p class=\"reading\">{}</p>",
        escape(&method_reading(name, reading, &r.classes, r.alpha, floor))
    );
    if let Some(variant) =
        r.methods.deconv.as_ref().map(|d| d.rule.as_str()).filter(|v| name == "deconv" && *v != "deconvnet")
    {
        let how = if variant.ends_with("×input") {
            "each projection multiplied sample by sample with its window (the window's content weighted by what the network projects back onto it)"
        } else {
            "the projections as named"
        };
        let _ = writeln!(
            p.body,
            "<p class=\"variant\">Read as <code>{}</code>: {how}. The shared seed is R-VGG-BN's default, chosen on the validation grid (VALIDATION.md); the paper's reading is the map alone from each class's own output (<code>--deconv-map-alone --deconv-seed class</code>).</p>",
            escape(variant)
        );
    }
    if let Some(truth) = planted(input.dataset.settings.as_ref()) {
        let _ =
            writeln!(p.body, "<p class=\"says planted\">{}</p>", escape(&planted_beside(&truth, reading)));
    }
    let _ = writeln!(p.body, "<div class=\"figs\">");
    spectra(p, input, r, name, reading);
    if let Some(b) = map_band(reading) {
        topo(p, r, name, reading, b);
    }
    let examples: &[Example] = match name {
        "optimal" => &interp.optimal,
        "actmax" => &interp.actmax,
        _ => &interp.deconv,
    };
    self::examples(p, input, r, name, examples);
    let _ = writeln!(p.body, "</div>");
}

/// The class spectra and the band contrast of a method.
fn spectra(p: &mut Page, input: &ReportInput, r: &Report, name: &str, reading: &Reading) {
    let cls = classes(r);
    let n = reading.n.0.iter().map(|(c, n)| format!("{n} {c}")).collect::<Vec<_>>().join(", ");
    let items = match name {
        "optimal" => "windows",
        "actmax" => "patterns",
        _ => "maps",
    };
    let spans: Vec<BandSpan> =
        reading.bands.iter().map(|b| BandSpan { name: b.name.clone(), lo: b.lo, hi: b.hi }).collect();
    let f_max = reading.bands.iter().map(|b| b.hi).fold(f64::NAN, f64::max);
    let f_max = if f_max.is_finite() { Some((f_max * 1.25).min(r.fs / 2.0)) } else { None };
    let unit =
        if name == "deconv" { "a.u.²/Hz".to_string() } else { format!("{}²/Hz", input.dataset.unit()) };
    let title = format!("Spectra, {}", method_title(name));
    p.figure(
        &format!("{name}-psd"),
        &psd_curves(&title, &reading.freqs, &reading.psd.0, &spans, f_max, &unit),
        &format!("Welch PSD per class, mean over channels and {items} ({}); bands shaded.", escape(&n)),
    );
    let bars: Vec<BandBar> = reading
        .bands
        .iter()
        .map(|b| BandBar { name: b.name.clone(), lo: b.lo, hi: b.hi, log_ratio: b.log_ratio, p: b.p })
        .collect();
    p.figure(
        &format!("{name}-bands"),
        &band_bars(&format!("Band contrast, {}", method_title(name)), &bars, cls, r.alpha),
        &format!(
            "ln(power of {} / power of {}) per band, channels averaged; faded bars are not significant at α = {}.",
            escape(cls.1),
            escape(cls.0),
            label(r.alpha, 2)
        ),
    );
}

/// The scalp map of a method's map band.
fn topo(p: &mut Page, r: &Report, name: &str, reading: &Reading, b: &BandContrast) {
    let cls = classes(r);
    let values: Vec<(&String, f64)> = reading
        .channels
        .get(&b.name)
        .map(|per| per.0.iter().map(|(c, v)| (c, *v)).collect())
        .unwrap_or_default();
    let why = if reading.top_band.is_some() {
        "its significant band"
    } else {
        "the band with the largest contrast (not significant)"
    };
    let caption = format!(
        "ln({} / {}) power in {} ({}–{} Hz) per channel, {why}, interpolated over the head by spherical splines (nose up); the channels of largest |ln ratio| are named outside the head, every electrode's name and value show on hover.",
        escape(cls.1),
        escape(cls.0),
        escape(&b.name),
        label(b.lo, 3),
        label(b.hi, 3)
    );
    scalp_figure(
        p,
        &format!("{name}-topo"),
        &format!("{} contrast, {}", b.name, method_title(name)),
        &values,
        "ln ratio",
        &caption,
    );
}

/// A method's examples: heatmaps of every class in one row (not for optimal
/// samples, which are raw windows), then their traces in the next.
fn examples(p: &mut Page, input: &ReportInput, r: &Report, name: &str, examples: &[Example]) {
    if examples.is_empty() {
        return;
    }
    let unit = if name == "deconv" { "a.u." } else { input.dataset.unit() };
    // One scale for all classes of a method, so that they compare.
    let all: Vec<f32> = examples.iter().flat_map(|e| e.data.iter().copied()).collect();
    let (amplitude, limit) = (trace_amplitude(&all), heatmap_limit(&all));
    let title = |ex: &Example| format!("{}, class {}", method_title(name), ex.class);
    if name != "optimal" {
        let _ = writeln!(p.body, "</div>\n<div class=\"figs\">");
        for (k, ex) in examples.iter().enumerate() {
            p.figure(
                &format!("{name}-heatmap-{k}"),
                &heatmap_scaled(&title(ex), &r.channels, &ex.data, r.fs, unit, limit),
                &format!(
                    "Channel x time, {}; red positive, blue negative, one colour scale for all classes.",
                    escape(&ex.note)
                ),
            );
        }
    }
    let _ = writeln!(p.body, "</div>\n<div class=\"figs\">");
    for (k, ex) in examples.iter().enumerate() {
        let colour = r.classes.iter().position(|c| c == &ex.class).unwrap_or(k);
        p.figure(
            &format!("{name}-traces-{k}"),
            &stacked_traces_scaled(&title(ex), &r.channels, &ex.data, r.fs, unit, colour, amplitude),
            &format!("Traces, {}; one amplitude scale for all classes.", escape(&ex.note)),
        );
    }
}

//! `validate.html`: one self-contained page (no scripts, no external files)
//! with the verdict, band x place heatmaps per effect size (baseline, network,
//! and each method's band and channel hit rates) and the null cells' table.

use std::fmt::Write;

use crate::cell::CellResult;
use crate::merge::ValidateDoc;
use crate::score::MethodScore;
use crate::summary::{Status, DETECTABLE_SUBJECT_ACCURACY};

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Background for a value in [0, 1]: red at 0, yellow at 0.5, green at 1.
fn colour(x: f64) -> String {
    let x = x.clamp(0.0, 1.0);
    format!("hsl({:.0}, 70%, 78%)", 120.0 * x)
}

/// Accuracy 0.5 (chance) .. 1 mapped to 0 .. 1.
fn acc_scale(a: f64) -> f64 {
    (a - 0.5) * 2.0
}

/// A square's colour position in [0, 1] and its text, from the cells there (`None`: grey).
type Square<'a> = &'a dyn Fn(&[&CellResult]) -> Option<(f64, String)>;

/// One method's score of a cell, by the method's name.
fn pick<'a>(c: &'a CellResult, method: &str) -> &'a MethodScore {
    match method {
        "optimal" => &c.methods.optimal,
        "actmax" => &c.methods.actmax,
        _ => &c.methods.deconv,
    }
}

/// One heatmap: rows = bands, columns = places, each square from the cells there.
fn heatmap(out: &mut String, doc: &ValidateDoc, size: f64, title: &str, value: Square<'_>) {
    let g = &doc.grid;
    let _ = write!(out, "<table class=\"heat\"><caption>{}</caption><tr><th></th>", esc(title));
    for p in &g.places {
        let _ = write!(out, "<th>{}</th>", esc(&p.name));
    }
    out.push_str("</tr>");
    for b in &g.bands {
        let _ = write!(out, "<tr><th>{}<br><small>{}-{} Hz</small></th>", esc(&b.name), b.lo, b.hi);
        for p in &g.places {
            let cells: Vec<&CellResult> = doc
                .cells
                .iter()
                .filter(|c| {
                    c.size == size
                        && c.band_name.as_deref() == Some(b.name.as_str())
                        && c.place.as_deref() == Some(p.name.as_str())
                })
                .collect();
            match value(&cells) {
                Some((x, text)) => {
                    let _ = write!(out, "<td style=\"background:{}\">{}</td>", colour(x), esc(&text));
                }
                None => out.push_str("<td class=\"none\">&ndash;</td>"),
            }
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>");
}

fn mean(xs: impl Iterator<Item = f64>) -> Option<f64> {
    let v: Vec<f64> = xs.collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// The page.
pub fn page(doc: &ValidateDoc) -> String {
    let mut o = String::new();
    intro(&mut o, doc);
    verdict(&mut o, doc);
    for size in doc.summary.by_size.iter().map(|b| b.size) {
        size_section(&mut o, doc, size);
    }
    null_cells(&mut o, doc);
    all_cells(&mut o, doc);
    o.push('\n');
    o
}

/// The page's head and style, what the grid is, and the loud notice when nothing was learned.
fn intro(o: &mut String, doc: &ValidateDoc) {
    let s = &doc.summary;
    let g = &doc.grid;
    o.push_str(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>eeglens validate</title><style>\
         body{font-family:system-ui,sans-serif;margin:2em;max-width:80em;color:#222}\
         table{border-collapse:collapse;margin:0.5em 1.5em 1.5em 0}td,th{border:1px solid #ccc;padding:0.3em 0.6em;text-align:center}\
         table.heat{display:inline-table;vertical-align:top}caption{font-weight:bold;padding:0.3em}\
         td.none{background:#eee;color:#888}.PASS{background:#bfe8bf}.FAIL{background:#f4b6b6}.NO{background:#eee}.INFO{background:#e6eef8}\
         .loud{background:#c00;color:#fff;padding:1em;font-size:1.3em;font-weight:bold}code{background:#f4f4f4;padding:0 0.2em}\
         td.l{text-align:left}</style></head><body>",
    );
    let _ = write!(
        o,
        "<h1>eeglens validate: planted ground truth</h1><p>Grid <code>{}</code>{}: {} cells ({} with a planted effect, {} null), \
         {} subjects x {} min each{}, <code>{}</code> trained {} epochs with the training defaults. {}.</p>",
        esc(&doc.grid_hash),
        doc.build.as_deref().map_or(String::new(), |b| format!(", every cell computed by eeglens <code>{}</code>", esc(b))),
        doc.cells.len(),
        s.effect_cells,
        s.null_cells,
        g.subjects,
        g.minutes,
        if g.recording.is_default() { String::new() } else { format!(" ({})", esc(&g.recording.describe())) },
        esc(&g.model),
        g.epochs,
        esc(&doc.interpret_note)
    );
    if s.nothing_learned {
        o.push_str(
            "<p class=\"loud\">NOTHING LEARNED: no network beat chance on any cell with a planted effect. \
             The recovery rates below are undefined; train longer, on more data, or fix the training recipe.</p>",
        );
    }
}

/// The checks with their status, rate and target, and how hits are counted.
fn verdict(o: &mut String, doc: &ValidateDoc) {
    let s = &doc.summary;
    o.push_str("<h2>Verdict</h2><table><tr><th>status</th><th>what</th><th>rate</th><th>target</th></tr>");
    for c in &s.checks {
        let class = match c.status {
            Status::NoData => "NO",
            st => st.label(),
        };
        let target = c.target.map_or(String::new(), |t| {
            format!("{} {:.0}%", if c.at_most { "&le;" } else { "&ge;" }, 100.0 * t)
        });
        let undecided = if c.undecided { " (undecided)" } else { "" };
        let _ = write!(
            o,
            "<tr><td class=\"{class}\">{}{undecided}</td><td class=\"l\">{}</td><td>{}</td><td>{target}</td></tr>",
            c.status.label(),
            esc(&c.what),
            c.rate.describe_with_interval()
        );
    }
    o.push_str("</table>");
    let right: Vec<String> = s
        .methods
        .iter()
        .into_iter()
        .map(|(name, m)| format!("{name} {}", m.claims_right.describe_with_interval()))
        .collect();
    let _ = write!(
        o,
        "<p>Of the bands each method claimed where the network learned, the planted one (a wrong band          claimed counts against a method here, no claim does not): {}.</p>",
        right.join("; ")
    );
    for (what, groups) in [("planted band", &s.by_band), ("place", &s.by_place)] {
        if groups.is_empty() {
            continue;
        }
        let _ = write!(
            o,
            "<table><tr><th>{what}</th><th>learned</th><th>optimal: band</th><th>actmax: band</th>\
             <th>deconv: band</th><th>optimal: channels</th><th>actmax: channels</th><th>deconv: channels</th></tr>"
        );
        for g in groups.iter() {
            let _ = write!(o, "<tr><td class=\"l\">{}</td><td>{}</td>", esc(&g.name), g.learned.describe());
            for (_, r) in g.band_hit.iter().into_iter().chain(g.channels_hit.iter()) {
                let _ = write!(o, "<td>{}</td>", r.describe());
            }
            o.push_str("</tr>");
        }
        o.push_str("</table>");
    }
    if let Some(r) = &s.replicates {
        let _ = write!(
            o,
            "<h3>Replicates: {} seeds of each cell</h3><p>A seed draws new subjects and a new training, so the \
             seeds of a cell are replicates of the whole experiment. Of {} effect cells, the network learned in \
             every seed in {}, in some seeds in {}, in none in {}. Over the {} learned in every seed:</p>\
             <table><tr><th>method</th><th>the same top band in every seed</th><th>the planted band in every seed</th></tr>",
            r.seeds, r.cells, r.learned_all, r.learned_some, r.learned_none, r.learned_all
        );
        for ((name, same), (_, planted)) in
            r.same_top_band.iter().into_iter().zip(r.planted_every_seed.iter())
        {
            let _ = write!(
                o,
                "<tr><td class=\"l\">{name}</td><td>{}</td><td>{}</td></tr>",
                same.describe(),
                planted.describe()
            );
        }
        o.push_str("</table>");
    }
    o.push_str(
        "<p>Each rate is a count of cells; its 95 % interval is exact (Clopper&ndash;Pearson). \
         <em>Undecided</em>: the target lies inside the interval, so a grid of this size cannot tell \
         whether the target is met, whatever the status says.</p>",
    );
    let _ = write!(
        o,
        "<p>Detectable: the band-power baseline reaches {:.0}% per subject on the test split ({} of the effect cells). \
         A band hit: the method's top band contains the planted band's centre (the reading's beta is 13-30 Hz). \
         A channel hit: at least half the planted channels rank within the top n + 2 by their band-specific log power ratio.</p>",
        100.0 * DETECTABLE_SUBJECT_ACCURACY,
        s.detectable.describe()
    );
}

/// One effect size's heatmaps: baseline and network accuracy, then each method's band and
/// channel hit rates.
fn size_section(o: &mut String, doc: &ValidateDoc, size: f64) {
    let _ = write!(o, "<h2>Effect size {size}</h2><div>");
    heatmap(o, doc, size, "baseline, per subject", &|cells| {
        mean(cells.iter().map(|c| c.baseline.subject_accuracy)).map(|m| (acc_scale(m), format!("{:.2}", m)))
    });
    heatmap(o, doc, size, "network, per window", &|cells| {
        mean(cells.iter().map(|c| c.model.accuracy)).map(|m| {
            let learned = cells.iter().filter(|c| c.model.learned).count();
            (acc_scale(m), format!("{:.2} ({learned}/{} learned)", m, cells.len()))
        })
    });
    o.push_str("</div><div>");
    for (name, _) in doc.summary.methods.iter() {
        heatmap(o, doc, size, &format!("{name}: band hit (learned cells)"), &|cells| {
            let learned: Vec<&&CellResult> = cells.iter().filter(|c| c.model.learned).collect();
            if learned.is_empty() {
                return None;
            }
            let k = learned.iter().filter(|c| pick(c, name).band_hit).count();
            let tops: Vec<&str> =
                learned.iter().map(|c| pick(c, name).top_band.as_deref().unwrap_or("none")).collect();
            Some((k as f64 / learned.len() as f64, format!("{k}/{} {}", learned.len(), tops.join(","))))
        });
    }
    o.push_str("</div><div>");
    for (name, _) in doc.summary.methods.iter() {
        heatmap(o, doc, size, &format!("{name}: channel hit (learned cells)"), &|cells| {
            let learned: Vec<&&CellResult> = cells.iter().filter(|c| c.model.learned).collect();
            if learned.is_empty() {
                return None;
            }
            let k = learned.iter().filter(|c| pick(c, name).channels_hit).count();
            Some((k as f64 / learned.len() as f64, format!("{k}/{}", learned.len())))
        });
    }
    o.push_str("</div>");
}

/// The null data sets: any top band there is a false claim.
fn null_cells(o: &mut String, doc: &ValidateDoc) {
    let s = &doc.summary;
    let nulls: Vec<&CellResult> = doc.cells.iter().filter(|c| c.is_null()).collect();
    if !nulls.is_empty() {
        let _ = write!(
            o,
            "<h2>Null data sets</h2><p>No planted effect: any top band is a false claim. \
             Claims per method: optimal {}, actmax {}, deconv {}; over every (null, method) run {}; \
             the network 'learned' on {}.</p>\
             <table><tr><th>cell</th><th>baseline per subject</th><th>network per window</th><th>learned</th>\
             <th>optimal</th><th>actmax</th><th>deconv</th></tr>",
            s.methods.optimal.null_claims.describe(),
            s.methods.actmax.null_claims.describe(),
            s.methods.deconv.null_claims.describe(),
            s.null_claims_pooled.map_or("not recorded".into(), |r| r.describe()),
            s.null_learned.describe()
        );
        for c in nulls {
            let claim = |t: &Option<String>| match t {
                Some(b) => format!("<td class=\"FAIL\">{}</td>", esc(b)),
                None => "<td class=\"PASS\">none</td>".into(),
            };
            let _ = write!(
                o,
                "<tr><td class=\"l\">{}</td><td>{:.2}</td><td>{:.2}</td><td class=\"{}\">{}</td>{}{}{}</tr>",
                esc(&c.name),
                c.baseline.subject_accuracy,
                c.model.accuracy,
                if c.model.learned { "FAIL" } else { "PASS" },
                if c.model.learned { "yes" } else { "no" },
                claim(&c.methods.optimal.top_band),
                claim(&c.methods.actmax.top_band),
                claim(&c.methods.deconv.top_band)
            );
        }
        o.push_str("</table>");
    }
}

/// Every cell's figures and each method's top band and channel ranks, then the seconds.
fn all_cells(o: &mut String, doc: &ValidateDoc) {
    o.push_str(
        "<h2>All cells</h2><table><tr><th>cell</th><th>baseline</th><th>network</th><th>learned</th>\
         <th>optimal</th><th>actmax</th><th>deconv</th><th>seconds</th></tr>",
    );
    for c in &doc.cells {
        let m = |x: &MethodScore| {
            let ranks: Vec<String> =
                x.channel_ranks.iter().map(|r| r.rank.map_or("-".into(), |k| k.to_string())).collect();
            let cls = if c.is_null() {
                if x.top_band.is_some() {
                    "FAIL"
                } else {
                    "PASS"
                }
            } else if x.band_hit {
                "PASS"
            } else {
                "FAIL"
            };
            format!(
                "<td class=\"{cls}\">{}{}</td>",
                esc(x.top_band.as_deref().unwrap_or(if x.read { "none" } else { "unread" })),
                if ranks.is_empty() {
                    String::new()
                } else {
                    format!(" <small>[{}]</small>", ranks.join(","))
                }
            )
        };
        let _ = write!(
            o,
            "<tr><td class=\"l\">{}</td><td>{:.2}</td><td>{:.2}</td><td>{}</td>{}{}{}<td>{:.0}</td></tr>",
            esc(&c.name),
            c.baseline.subject_accuracy,
            c.model.accuracy,
            if c.model.learned { "yes" } else { "no" },
            m(&c.methods.optimal),
            m(&c.methods.actmax),
            m(&c.methods.deconv),
            c.seconds.total
        );
    }
    let t = &doc.seconds;
    let _ = write!(
        o,
        "</table><p>Seconds summed over cells: synth {:.0}, prepare {:.0}, baseline {:.0}, train {:.0}, interpret {:.0}, total {:.0}{}.</p>\
         <p>Cell entries: the method's top band, then each planted channel's rank.</p></body></html>",
        t.synth,
        t.prepare,
        t.baseline,
        t.train,
        t.interpret,
        t.total,
        t.cpu.map_or(String::new(), |c| format!(" ({c:.0} CPU seconds)"))
    );
}

//! The HTML page: one self-contained document (inline CSS and SVG, a few
//! lines of inline script that record each figure's rendered size; no
//! external request of any kind), readable on a laptop and printable.

use std::fmt::Write;

use crate::figures::ScalpMaps;
use crate::input::ReportInput;
use crate::svg::escape;
use crate::wording::{chance_verdict, ChanceVerdict};

mod baseline;
mod folds;
mod methods;
mod overview;
mod seeds;
mod setup;
mod spectra;
mod topo;

pub use crate::wording::{map_band, plain_reading, strongest_channels};

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
.reading, .says { background: #f4f8fb; border-left: 4px solid var(--accent); padding: 10px 14px; margin: 10px 0 16px; }
.verdict { border: 3px solid #d55e00; background: #fdf1ea; border-radius: 6px; padding: 12px 18px; margin: 16px 0 20px; }
.verdict h2 { border: 0; margin: 0 0 6px; padding: 0; font-size: 22px; color: #a63d00; }
.verdict ul { margin: 6px 0; padding-left: 20px; }
.warning { background: #fdf1ea; border-left: 4px solid #d55e00; padding: 10px 14px; margin: 10px 0 16px; }
.not-read { color: #a63d00; font-weight: bold; }
tr.wrong td { color: #a63d00; }
.note { color: var(--muted); font-size: 13px; }
.figs { display: flex; flex-wrap: wrap; gap: 18px 24px; align-items: flex-start; }
figure { margin: 8px 0; max-width: 100%; }
.figs > figure { flex: 0 1 auto; min-width: 0; }
figure svg { display: block; max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 13px; }
/* A caption as wide as its figure, never wider: it does not size the figure. */
.figs > figure > figcaption { width: 0; min-width: 100%; }
code { font-size: 13px; }
nav.toc { border: 1px solid var(--rule); border-radius: 6px; padding: 8px 16px; margin: 12px 0 16px; font-size: 14px; }
nav.toc ol { margin: 4px 0; padding-left: 22px; columns: 2; }
nav.toc a { color: var(--accent); }
.fig-no { color: var(--ink); }
@media print {
  body { font-size: 11pt; }
  nav.toc a { color: inherit; text-decoration: none; }
  main { max-width: none; padding: 0; }
  h2 { break-before: auto; break-after: avoid; }
  figure, table, .reading, .verdict, .warning { break-inside: avoid; }
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
    /// the sections so far: `id`, heading, and the number of figures before it
    sections: Vec<(String, String, usize)>,
    /// the scalp maps' layouts, one per set of electrodes for the whole page
    maps: ScalpMaps,
}

impl Page {
    /// A section's heading (`<h2>` with its `id`), listed in the table of contents.
    fn section(&mut self, id: &str, heading: &str) {
        let _ = writeln!(self.body, "<h2 id=\"{}\">{}</h2>", escape(id), escape(heading));
        self.sections.push((id.to_string(), heading.to_string(), self.figures.len()));
    }

    /// A figure with its `data-figure` id, its number and its caption (already HTML);
    /// the figure's anchor is `fig-<id>`.
    fn figure(&mut self, id: &str, svg: &str, caption: &str) {
        let _ = write!(
            self.body,
            "<figure data-figure=\"{0}\" id=\"fig-{0}\">\n{svg}<figcaption><b class=\"fig-no\">Figure {1}.</b> {2}</figcaption>\n</figure>\n",
            escape(id),
            self.figures.len() + 1,
            caption
        );
        self.figures.push(id.to_string());
    }

    /// The table of contents: every section with a link and its figures' numbers.
    fn contents(&self) -> String {
        let mut items = String::new();
        for (k, (id, heading, first)) in self.sections.iter().enumerate() {
            let end = self.sections.get(k + 1).map_or(self.figures.len(), |s| s.2);
            let figs = match end - first {
                0 => String::new(),
                1 => format!(" <span class=\"note\">(Figure {})</span>", first + 1),
                _ => format!(" <span class=\"note\">(Figures {}–{end})</span>", first + 1),
            };
            let _ = write!(items, "<li><a href=\"#{}\">{}</a>{figs}</li>", escape(id), escape(heading));
        }
        format!("<nav class=\"toc\" id=\"contents\"><b>Contents</b><ol>{items}</ol></nav>\n")
    }
}

/// The whole page of `input`.
pub fn render_html(input: &ReportInput) -> String {
    render(input).html
}

/// The page and the ids of its figures (what a browser test checks).
pub fn render(input: &ReportInput) -> Rendered {
    let mut p =
        Page { body: String::new(), figures: Vec::new(), sections: Vec::new(), maps: ScalpMaps::new() };
    overview::header(&mut p, input);
    let contents_at = p.body.len();
    incomplete(&mut p, input);
    overview::verdict(&mut p, input);
    overview::cards(&mut p, input);
    seeds::agreement(&mut p, input);
    folds::cross_validation(&mut p, input);
    spectra::data_spectra(&mut p, input);
    baseline::baseline(&mut p, input);
    setup::dataset(&mut p, input);
    setup::model(&mut p, input);
    setup::training(&mut p, input);
    methods::interpretation(&mut p, input);
    setup::provenance(&mut p, input);
    let contents = p.contents();
    p.body.insert_str(contents_at, &contents);
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

/// At the top of an incomplete page: every part that could not be drawn, with its file.
fn incomplete(p: &mut Page, input: &ReportInput) {
    if input.missing.is_empty() {
        return;
    }
    let items: String = input
        .missing
        .iter()
        .map(|m| format!("<li><a href=\"#{}\">{}</a></li>", m.section, escape(&m.describe())))
        .collect();
    let _ = writeln!(
        p.body,
        "<section class=\"warning\" id=\"incomplete\"><b>This report is incomplete</b>: {} part(s) of the run could not be read.<ul>{items}</ul></section>",
        input.missing.len()
    );
}

/// The notices of the parts of `section` that could not be drawn, where they would be;
/// with `file`, only the part of the file of that name. Returns whether it wrote one.
fn missing_here(p: &mut Page, input: &ReportInput, section: &str, file: Option<&str>) -> bool {
    let mut any = false;
    for m in input.missing.iter().filter(|m| m.section == section) {
        let name = m.file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if file.is_some_and(|f| f != name) {
            continue;
        }
        let _ = writeln!(
            p.body,
            "<p class=\"warning missing\" data-missing=\"{}\">Missing <code>{}</code>: {}. Not shown here: {}.</p>",
            escape(&name),
            escape(&m.file.display().to_string()),
            escape(&m.why),
            escape(&m.lacks)
        );
        any = true;
    }
    any
}

/// Whether the network learned, by the run's test evaluation and its interpretation.
fn chance(input: &ReportInput) -> Option<ChanceVerdict> {
    let interp = input.interpretation.as_ref().map(|i| &i.report);
    if input.regression.is_some() {
        return crate::wording::regression_verdict(input.regression.as_ref(), interp);
    }
    chance_verdict(input.eval.as_ref(), interp)
}

fn pct(x: f64) -> String {
    if x.is_finite() {
        format!("{:.1}%", 100.0 * x)
    } else {
        "–".into()
    }
}

pub(super) fn shape(s: &[usize]) -> String {
    format!("[{}]", s.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(", "))
}

//! Agreement across seeds: how often each band was named, the majority top
//! band, and the per-channel contrast of that band over the seeds.

use std::fmt::Write;

use eeglens_interpret::agreement::{Agreement, MethodAgreement};

use super::methods::method_title;
use super::Page;
use crate::figures::{channel_spread, fraction_bars, ChannelSpread, FractionBar};
use crate::input::{ReportInput, Seeds};
use crate::run::AGREEMENT_FILE;
use crate::svg::escape;
use crate::wording::{agreement_band, method_agreement, seeds_summary};

/// The section, when the report is of a parent directory of seed runs.
pub(super) fn agreement(p: &mut Page, input: &ReportInput) {
    let Some(s) = &input.seeds else { return };
    p.section("agreement", "Agreement across seeds");
    let Some(a) = &s.agreement else {
        let _ = writeln!(
            p.body,
            "<p class=\"note\"><code>{}</code> holds {} seed runs but no <code>{AGREEMENT_FILE}</code> yet: only seed {} is shown.</p>",
            escape(&s.parent.display().to_string()),
            s.runs.len(),
            s.shown
        );
        return;
    };
    let _ = writeln!(p.body, "<p>{}</p>", escape(&seeds_summary(a, s.shown)));
    seed_table(p, s, a);
    for (name, m) in &a.methods.0 {
        method(p, name, m);
    }
}

/// One row per seed: whether its network learned and the band each method named.
fn seed_table(p: &mut Page, s: &Seeds, a: &Agreement) {
    let mut t = String::from("<table><tr><th>seed</th><th>learned</th>");
    for (name, _) in &a.methods.0 {
        let _ = write!(t, "<th>top band, {}</th>", method_title(name));
    }
    t.push_str("</tr>");
    for (i, seed) in a.seeds.iter().enumerate() {
        let shown = if *seed == s.shown { " (shown below)" } else { "" };
        let learned = if a.learned.get(i).copied().unwrap_or(false) { "yes" } else { "no" };
        let _ = write!(t, "<tr><td>{seed}{shown}</td><td>{learned}</td>");
        for (_, m) in &a.methods.0 {
            let top = m.top_bands.get(i).cloned().flatten();
            let _ = write!(t, "<td>{}</td>", escape(top.as_deref().unwrap_or("none")));
        }
        t.push_str("</tr>");
    }
    t.push_str("</table>");
    let _ = writeln!(p.body, "{t}");
}

/// One method: the sentence, the bands named and the channels of its band.
fn method(p: &mut Page, name: &str, m: &MethodAgreement) {
    let _ = writeln!(p.body, "<h3 id=\"agreement-{name}\">{}</h3>", method_title(name));
    let _ = writeln!(p.body, "<p class=\"says\">{}</p>", escape(&method_agreement(m)));
    let _ = writeln!(p.body, "<div class=\"figs\">");
    let bars: Vec<FractionBar> =
        m.band_fraction.0.iter().map(|(b, f)| FractionBar { name: b.clone(), fraction: *f }).collect();
    p.figure(
        &format!("agreement-{name}-fractions"),
        &fraction_bars(&format!("Bands named, {}", method_title(name)), &bars, m.n_seeds),
        &format!(
            "The share of the {} seeds naming each band as their top band (none: no band significant, or the network at chance); above the dashed line, a strict majority.",
            m.n_seeds
        ),
    );
    if let Some((band, why)) = agreement_band(m) {
        let means = m.channel_mean.get(&band);
        let sds = m.channel_sd.get(&band);
        let channels: Vec<ChannelSpread> = means
            .map(|row| {
                row.0
                    .iter()
                    .map(|(ch, mean)| ChannelSpread {
                        name: ch.clone(),
                        mean: *mean,
                        sd: sds.and_then(|s| s.get(ch)).copied().unwrap_or(0.0),
                    })
                    .collect()
            })
            .unwrap_or_default();
        p.figure(
            &format!("agreement-{name}-channels"),
            &channel_spread(&format!("{band} contrast over seeds, {}", method_title(name)), &channels, "contrast"),
            &format!(
                "Per channel, the mean ± SD over the seeds of the contrast in {}, {why}: |ln power ratio − the channel's median ratio over the bands|.",
                escape(&band)
            ),
        );
    }
    let _ = writeln!(p.body, "</div>");
}

//! Structural tests of every figure: the SVG parses, axis labels and channel
//! names are present, every coordinate lies inside the viewBox, nothing is NaN,
//! and values land where their scale puts them.

mod support;

use eeglens_report::figures::{
    band_bars, channel_spread, confusion_matrix, fraction_bars, group_psd, heatmap, line_chart, psd_curves,
    roc_curves, scalp_map, stacked_traces, training_curves, value_matrix, BandBar, BandSpan, ChannelSpread,
    Curves, FractionBar, PsdPanel, PsdSeries, RocSeries, Series, TopoPoint,
};
use proptest::prelude::*;
use support::check_svg;

fn channels(n: usize) -> Vec<String> {
    eeglens_io::montage::HBN24.iter().take(n).map(|s| s.to_string()).collect()
}

/// A `[c][t]` matrix of sines whose amplitude grows with the channel.
fn waves(c: usize, t: usize, fs: f64) -> Vec<f32> {
    (0..c * t)
        .map(|i| {
            let (ch, k) = (i / t, i % t);
            ((ch + 1) as f64 * 5.0 * (2.0 * std::f64::consts::PI * 6.0 * k as f64 / fs).sin()) as f32
        })
        .collect()
}

#[test]
fn training_curves_have_axes_legend_and_both_panels() {
    let c = Curves {
        epochs: (1..=6).map(f64::from).collect(),
        train_loss: vec![0.7, 0.6, 0.5, 0.45, 0.4, 0.38],
        val_loss: vec![0.69, 0.62, f64::NAN, 0.5, 0.52, 0.55],
        train_accuracy: vec![0.5, 0.6, 0.7, 0.75, 0.8, 0.82],
        val_accuracy: vec![0.5, 0.58, f64::NAN, 0.7, 0.69, 0.7],
        best: None,
    };
    let svg = training_curves(&c);
    let texts = check_svg(&svg);
    for want in ["epoch", "loss (cross-entropy)", "accuracy", "train", "validation"] {
        assert!(texts.iter().any(|t| t == want), "missing `{want}` in {texts:?}");
    }
    // A missing validation value splits the dashed line into two pieces.
    assert_eq!(svg.matches("stroke-dasharray").count(), 5, "1 legend entry, 2 pieces in each of 2 panels");
    assert!(!texts.iter().any(|t| t == "best"));

    // The best epoch is marked on both panels, and the one legend lies below the panels'
    // frames, where no point can be.
    let svg = training_curves(&Curves { best: Some(4.0), ..c });
    let texts = check_svg(&svg);
    assert_eq!(texts.iter().filter(|t| *t == "best").count(), 2, "{texts:?}");
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let y_of = |name: &str| -> Vec<f64> {
        doc.descendants()
            .filter(|n| n.has_tag_name("text") && n.text() == Some(name))
            .filter_map(|n| n.attribute("y")?.parse().ok())
            .collect()
    };
    let lowest_point = doc
        .descendants()
        .filter(|n| n.has_tag_name("circle"))
        .filter_map(|n| n.attribute("cy")?.parse::<f64>().ok())
        .fold(f64::NEG_INFINITY, f64::max);
    let lowest_axis_label = y_of("epoch").into_iter().fold(f64::NEG_INFINITY, f64::max);
    for y in y_of("train").into_iter().chain(y_of("validation")) {
        assert!(
            y > lowest_point + 20.0 && y > lowest_axis_label,
            "legend at y {y}, points down to {lowest_point}"
        );
    }
}

#[test]
fn line_chart_maps_the_extremes_to_the_frame_edges() {
    let x = [0.0, 1.0, 2.0];
    let y = [1.0, 2.0, 3.0];
    let svg = line_chart(
        "t",
        &x,
        &[Series { name: "s", values: &y, colour: 0, dashed: false }],
        "x",
        "y",
        Some((1.0, 3.0)),
    );
    check_svg(&svg);
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let line = doc.descendants().find(|n| n.has_tag_name("polyline")).unwrap();
    let pts: Vec<(f64, f64)> = line
        .attribute("points")
        .unwrap()
        .split_whitespace()
        .map(|p| {
            let (a, b) = p.split_once(',').unwrap();
            (a.parse().unwrap(), b.parse().unwrap())
        })
        .collect();
    // y range is padded by 5 % on each side; x is not.
    let (x0, x1) = (pts[0].0, pts[2].0);
    assert!(x1 > x0);
    approx::assert_abs_diff_eq!(pts[1].0, (x0 + x1) / 2.0, epsilon = 0.01);
    approx::assert_abs_diff_eq!(pts[1].1, (pts[0].1 + pts[2].1) / 2.0, epsilon = 0.01);
    assert!(pts[0].1 > pts[2].1, "larger values are higher up");
}

#[test]
fn confusion_matrix_shows_counts_shares_and_axis_names() {
    let classes = vec!["F".to_string(), "M".to_string()];
    let svg = confusion_matrix("Confusion", &classes, &[vec![30, 10], vec![5, 55]]);
    let texts = check_svg(&svg);
    for want in ["30", "10", "5", "55", "75%", "92%", "true class", "predicted class", "F", "M"] {
        assert!(texts.iter().any(|t| t == want), "missing `{want}`");
    }
}

#[test]
fn traces_have_every_channel_name_and_a_scale_bar() {
    let ch = channels(24);
    let svg = stacked_traces("Optimal sample", &ch, &waves(24, 256, 128.0), 128.0, "µV", 1);
    let texts = check_svg(&svg);
    for name in &ch {
        assert!(texts.iter().any(|t| t == name), "channel {name}");
    }
    assert!(texts.iter().any(|t| t.ends_with(" µV")), "scale bar label");
    assert!(texts.iter().any(|t| t == "time (s)"));
    assert!(svg.contains("class=\"scale-bar\""));
    assert_eq!(svg.matches("<polyline").count(), 24);
}

#[test]
fn heatmap_has_channel_names_and_a_symmetric_colour_bar() {
    let ch = channels(8);
    let mut data = waves(8, 300, 128.0);
    data[5] = f32::NAN;
    let svg = heatmap("Pattern", &ch, &data, 128.0, "µV");
    let texts = check_svg(&svg);
    for name in &ch {
        assert!(texts.iter().any(|t| t == name));
    }
    let limit = texts.iter().filter_map(|t| t.parse::<f64>().ok()).fold(0.0f64, f64::max);
    assert!(limit > 0.0);
    assert!(
        texts.iter().any(|t| t.parse::<f64>().ok() == Some(-limit)),
        "colour bar is symmetric: {texts:?}"
    );
    // Both ends of the diverging scale are used by a wave.
    assert!(svg.contains("#2166ac") && svg.contains("#b2182b"));
}

#[test]
fn psd_curves_shade_and_name_the_bands_on_a_log_axis() {
    let freqs: Vec<f64> = (0..=64).map(f64::from).collect();
    let a: Vec<f64> = freqs.iter().map(|f| 10.0 / (1.0 + f)).collect();
    let mut b: Vec<f64> = a.iter().map(|v| v * 1.5).collect();
    b[0] = 0.0; // a zero power is left out, not drawn at -inf
    let bands = [
        BandSpan { name: "delta".into(), lo: 1.0, hi: 4.0 },
        BandSpan { name: "theta".into(), lo: 4.0, hi: 8.0 },
    ];
    let svg =
        psd_curves("Spectra", &freqs, &[("F".into(), a), ("M".into(), b)], &bands, Some(30.0), "µV²/Hz");
    let texts = check_svg(&svg);
    for want in ["delta", "theta", "frequency (Hz)", "power (µV²/Hz)", "F", "M", "10⁰", "10¹"] {
        assert!(texts.iter().any(|t| t == want), "missing `{want}` in {texts:?}");
    }
    assert_eq!(svg.matches("class=\"band\"").count(), 2);
}

/// The tick labels of the log axes of `svg`: the texts right-aligned left of a frame.
fn log_ticks(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).expect("parses");
    doc.descendants()
        .filter(|n| n.has_tag_name("text") && n.attribute("text-anchor") == Some("end"))
        .filter_map(|n| n.text().map(str::to_string))
        .filter(|t| t.contains("10"))
        .collect()
}

#[test]
fn every_log_axis_labels_its_ticks_alike_whatever_its_range() {
    let freqs: Vec<f64> = (0..=32).map(f64::from).collect();
    let is_log_label = |t: &str| {
        let (m, e) = t.split_once("10").expect("a power of ten");
        (m.is_empty() || (m.ends_with('×') && m.trim_end_matches('×').parse::<f64>().is_ok()))
            && !e.is_empty()
            && e.chars().all(|c| "⁰¹²³⁴⁵⁶⁷⁸⁹⁻".contains(c))
    };
    // Decades, a fraction of a decade, and tiny and huge powers: one style everywhere.
    for (lo, hi) in [(1e-3, 10.0), (0.15, 0.6), (1e-12, 1e-9), (2e5, 3e7)] {
        let curve: Vec<f64> = freqs.iter().map(|f| lo + (hi - lo) * f / 32.0).collect();
        let psd = psd_curves("x", &freqs, &[("A".into(), curve.clone())], &[], None, "u");
        let panel = PsdPanel {
            name: "frontal".into(),
            series: vec![PsdSeries { name: "A".into(), mean: curve.clone(), sem: vec![0.0; curve.len()] }],
        };
        let grouped = group_psd("x", &freqs, &[panel], None, "u");
        for svg in [&psd, &grouped] {
            let ticks = log_ticks(svg);
            assert!(ticks.len() >= 2, "[{lo}, {hi}]: {ticks:?}");
            assert!(ticks.iter().all(|t| is_log_label(t)), "[{lo}, {hi}]: {ticks:?}");
        }
    }
}

#[test]
fn group_spectra_share_one_axis_and_shade_one_sem_around_each_mean() {
    let freqs: Vec<f64> = (0..=20).map(f64::from).collect();
    let series = |name: &str, g: f64| PsdSeries {
        name: name.into(),
        mean: freqs.iter().map(|f| g / (1.0 + f)).collect(),
        sem: freqs.iter().map(|f| 0.2 * g / (1.0 + f)).collect(),
    };
    let panels: Vec<PsdPanel> = ["frontal", "central", "temporal"]
        .iter()
        .map(|n| PsdPanel {
            name: n.to_string(),
            series: vec![series("F (3 subjects)", 1.0), series("M (3 subjects)", 2.0)],
        })
        .collect();
    let svg = group_psd("Class spectra", &freqs, &panels, Some(16.0), "µV²/Hz");
    let texts = check_svg(&svg);
    for want in ["frontal", "central", "temporal", "F (3 subjects)", "M (3 subjects)", "power (µV²/Hz)"] {
        assert!(texts.iter().any(|t| t == want), "missing `{want}` in {texts:?}");
    }
    assert_eq!(svg.matches("class=\"sem\"").count(), 6);
    assert_eq!(svg.matches("class=\"mean\"").count(), 6);
    // One axis for all panels: the same tick labels in each.
    let ticks = log_ticks(&svg);
    assert_eq!(ticks.len() % 3, 0, "{ticks:?}");
    let per = ticks.len() / 3;
    assert!(ticks.chunks(per).all(|c| c == &ticks[..per]), "{ticks:?}");
    // The band of class M lies above that of F: M's mean is twice F's.
    let doc = roxmltree::Document::parse(&svg).expect("parses");
    let top_of = |k: usize| -> f64 {
        let d = doc.descendants().filter(|n| n.attribute("class") == Some("mean")).nth(k).expect("a curve");
        let pts = d.attribute("points").expect("points");
        pts.split_whitespace().map(|p| p.split_once(',').expect("x,y").1.parse::<f64>().expect("y")).sum()
    };
    assert!(top_of(1) < top_of(0), "M's curve is higher on the page (smaller y)");
}

#[test]
fn band_bars_mark_significance_and_direction() {
    let bars = vec![
        BandBar { name: "delta".into(), lo: 1.0, hi: 4.0, log_ratio: -0.05, p: 0.6 },
        BandBar { name: "theta".into(), lo: 4.0, hi: 8.0, log_ratio: 0.4, p: 0.0005 },
        BandBar { name: "alpha".into(), lo: 8.0, hi: 13.0, log_ratio: 0.1, p: 0.03 },
    ];
    let svg = band_bars("Band contrast", &bars, ("F", "M"), 0.05);
    let texts = check_svg(&svg);
    for want in ["n.s.", "***", "*", "theta", "4–8 Hz", "p = 0.0005", "ln power M / F"] {
        assert!(texts.iter().any(|t| t == want), "missing `{want}` in {texts:?}");
    }
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let bars: Vec<_> = doc.descendants().filter(|n| n.attribute("class") == Some("bar")).collect();
    assert_eq!(bars.len(), 3);
    let h = |i: usize| bars[i].attribute("height").unwrap().parse::<f64>().unwrap();
    assert!(h(1) > 3.0 * h(2) && h(2) > h(0), "bar heights follow |log ratio|");
}

#[test]
fn scalp_map_has_head_nose_electrodes_and_labels() {
    let pts: Vec<TopoPoint> = channels(24)
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let [x, y] = eeglens_io::montage::position(n).unwrap().xy();
            TopoPoint { name: n.clone(), x, y, value: y + 0.01 * i as f64 }
        })
        .collect();
    let svg = scalp_map("theta contrast", &pts, "ln ratio");
    let texts = check_svg(&svg);
    for p in &pts {
        assert!(texts.iter().any(|t| t == &p.name), "label {}", p.name);
    }
    for class in ["head", "nose", "ear"] {
        assert!(svg.contains(&format!("class=\"{class}\"")), "{class}");
    }
    assert_eq!(svg.matches("class=\"electrode\"").count(), 24);
    // Frontal electrodes (larger y, so larger values) are drawn above posterior ones.
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let y_of = |name: &str| {
        doc.descendants()
            .find(|n| n.has_tag_name("text") && n.text() == Some(name))
            .and_then(|n| n.attribute("y"))
            .unwrap()
            .parse::<f64>()
            .unwrap()
    };
    assert!(y_of("Fz") < y_of("Cz") && y_of("Cz") < y_of("Pz"));
}

#[test]
fn two_scalp_maps_have_distinct_clip_ids() {
    let p = |v: f64| -> Vec<TopoPoint> {
        ["Fz", "Cz", "Pz", "C3", "C4"]
            .iter()
            .map(|n| {
                let [x, y] = eeglens_io::montage::position(n).unwrap().xy();
                TopoPoint { name: n.to_string(), x, y, value: v * x }
            })
            .collect()
    };
    let id = |s: &str| s.split("clipPath id=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    assert_ne!(id(&scalp_map("a", &p(1.0), "u")), id(&scalp_map("a", &p(2.0), "u")));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Whatever the values (huge, tiny, constant, NaN, infinite), every figure
    /// stays inside its viewBox and writes no non-finite number.
    #[test]
    fn figures_stay_in_the_viewbox(
        c in 1usize..6,
        t in 2usize..80,
        scale in prop_oneof![Just(0.0), Just(1e-9), Just(1.0), Just(1e6)],
        seed in 0u64..1000,
        special in prop_oneof![Just(0.0f64), Just(f64::NAN), Just(f64::INFINITY)],
    ) {
        let ch = channels(c);
        let mut data: Vec<f32> = (0..c * t).map(|i| ((i as u64 * 2654435761 + seed) % 1000) as f32 / 500.0 - 1.0).map(|v| v * scale as f32).collect();
        data[0] = special as f32;
        check_svg(&stacked_traces("x", &ch, &data, 128.0, "µV", 0));
        check_svg(&heatmap("x", &ch, &data, 128.0, "µV"));
        let series: Vec<f64> = data.iter().map(|v| *v as f64).collect();
        let x: Vec<f64> = (0..series.len()).map(|i| i as f64).collect();
        check_svg(&line_chart("x", &x, &[Series { name: "s", values: &series, colour: 0, dashed: false }], "x", "y", None));
        let freqs: Vec<f64> = (0..t).map(|i| i as f64).collect();
        let psd: Vec<f64> = series.iter().take(t).map(|v| v.abs()).collect();
        check_svg(&psd_curves("x", &freqs, &[("A".into(), psd.clone())], &[BandSpan { name: "b".into(), lo: 1.0, hi: 2.0 }], None, "u"));
        let sem: Vec<f64> = psd.iter().map(|v| v * 2.0).collect();
        let panel = PsdPanel { name: "p".into(), series: vec![PsdSeries { name: "A".into(), mean: psd.clone(), sem }] };
        check_svg(&group_psd("x", &freqs, &[panel.clone(), panel.clone(), panel], None, "u"));
        let scored: Vec<(f64, bool)> = series.iter().enumerate().map(|(i, &v)| (v, i % 2 == 0)).collect();
        check_svg(&roc_curves("x", &[RocSeries { name: "a".into(), scored: scored.clone(), dashed: false }, RocSeries { name: "b".into(), scored, dashed: true }]));
        let bars: Vec<BandBar> = series.iter().take(4).map(|&v| BandBar { name: "b".into(), lo: 1.0, hi: 2.0, log_ratio: v, p: v.abs() }).collect();
        check_svg(&band_bars("x", &bars, ("A", "B"), 0.05));
        let pts: Vec<TopoPoint> = ch.iter().zip(&series).map(|(n, &v)| {
            let [x, y] = eeglens_io::montage::position(n).unwrap().xy();
            TopoPoint { name: n.clone(), x, y, value: v }
        }).collect();
        check_svg(&scalp_map("x", &pts, "u"));
        check_svg(&confusion_matrix("x", &["A".into(), "B".into()], &[vec![seed, 0], vec![]]));
        let rows: Vec<Vec<f64>> = series.chunks(2).take(c).map(|r| r.to_vec()).collect();
        check_svg(&value_matrix("x", &ch, &["a".into(), "b".into()], &rows, "d"));
        let fractions: Vec<FractionBar> = series.iter().take(4).map(|&v| FractionBar { name: "b".into(), fraction: v }).collect();
        check_svg(&fraction_bars("x", &fractions, 3));
        let spread: Vec<ChannelSpread> = ch.iter().zip(&series).map(|(n, &v)| ChannelSpread { name: n.clone(), mean: v, sd: v / 2.0 }).collect();
        check_svg(&channel_spread("x", &spread, "u"));
    }
}

/// The `height` attributes of the elements of class `class`, in document order.
fn heights(svg: &str, class: &str) -> Vec<f64> {
    let doc = roxmltree::Document::parse(svg).unwrap();
    doc.descendants()
        .filter(|n| n.attribute("class") == Some(class))
        .map(|n| n.attribute("height").unwrap().parse().unwrap())
        .collect()
}

#[test]
fn fraction_bars_are_proportional_and_mark_the_majority() {
    let bars: Vec<FractionBar> = [("theta", 0.75), ("alpha", 0.25), ("none", 0.0)]
        .iter()
        .map(|&(n, f)| FractionBar { name: n.into(), fraction: f })
        .collect();
    let svg = fraction_bars("Bands named", &bars, 4);
    let texts = check_svg(&svg);
    for want in ["theta", "alpha", "none", "3/4", "1/4", "0/4", "majority", "share of seeds"] {
        assert!(texts.iter().any(|t| t == want), "missing `{want}` in {texts:?}");
    }
    let h = heights(&svg, "bar");
    assert_eq!(h.len(), 3);
    approx::assert_abs_diff_eq!(h[0], 3.0 * h[1], epsilon = 0.05);
    assert_eq!(h[2], 0.0);
    assert!(
        svg.contains(r#"fill-opacity="1""#) && svg.contains(r#"fill-opacity="0.5""#),
        "only a majority is solid"
    );
}

#[test]
fn channel_spread_draws_a_bar_and_whiskers_per_channel_and_fits_its_title() {
    let ch = channels(3);
    let spread: Vec<ChannelSpread> = ch
        .iter()
        .zip([0.2, 0.4, f64::NAN])
        .map(|(n, m)| ChannelSpread { name: n.clone(), mean: m, sd: 0.05 })
        .collect();
    let title = "a long title that needs more room than three channels take";
    let svg = channel_spread(title, &spread, "contrast");
    let texts = check_svg(&svg);
    for name in &ch {
        assert!(texts.contains(name), "{name}");
    }
    let h = heights(&svg, "bar");
    assert_eq!(h.len(), 2, "no bar for a non-finite mean");
    approx::assert_abs_diff_eq!(h[1], 2.0 * h[0], epsilon = 0.05);
    assert_eq!(svg.matches("class=\"whisker\"").count(), 6);
    let (w, _) = support::view_box(&roxmltree::Document::parse(&svg).unwrap());
    assert!(w >= title.len() as f64 * 0.6 * 14.0, "{w} px for the title");
}

#[test]
fn value_matrix_labels_cells_rows_and_columns() {
    let rows = channels(2);
    let cols = vec!["theta".to_string(), "alpha".to_string()];
    let svg = value_matrix("d", &rows, &cols, &[vec![0.5, -1.0], vec![f64::NAN, 0.0]], "d");
    let texts = check_svg(&svg);
    for want in ["theta", "alpha", "0.50", "-1.00", "0.00", &rows[0], &rows[1]] {
        assert!(texts.iter().any(|t| t == want), "missing `{want}` in {texts:?}");
    }
    assert_eq!(svg.matches("class=\"cell\"").count(), 4, "a grey cell for the missing value");
    assert!(svg.contains("#e0e0e0"));
}

#[test]
fn a_shared_scale_draws_larger_signals_larger() {
    let ch = channels(4);
    let small = waves(4, 128, 128.0);
    let big: Vec<f32> = small.iter().map(|v| v * 2.0).collect();
    let amp = eeglens_report::figures::trace_amplitude(&big);
    let draw = |d: &[f32]| eeglens_report::figures::stacked_traces_scaled("x", &ch, d, 128.0, "µV", 0, amp);
    let (a, b) = (draw(&small), draw(&big));
    let bar = |s: &str| check_svg(s).into_iter().find(|t| t.ends_with(" µV")).expect("a scale bar");
    assert_eq!(bar(&a), bar(&b), "one scale");
    let spread = |s: &str| {
        let doc = roxmltree::Document::parse(s).unwrap();
        let line = doc.descendants().find(|n| n.has_tag_name("polyline")).unwrap();
        let ys: Vec<f64> = line
            .attribute("points")
            .unwrap()
            .split_whitespace()
            .map(|p| p.split_once(',').unwrap().1.parse().unwrap())
            .collect();
        ys.iter().cloned().fold(f64::MIN, f64::max) - ys.iter().cloned().fold(f64::MAX, f64::min)
    };
    approx::assert_relative_eq!(spread(&b), 2.0 * spread(&a), max_relative = 0.02);
}

//! The page from inputs in memory: every section and figure, the
//! plain-language reading, nothing external, every figure well-formed.

mod support;

use eeglens_interpret::Report;
use eeglens_report::{
    plain_reading, render, DatasetSummary, Example, Interpretation, ModelSummary, ReportInput, SplitSummary,
};
use serde_json::json;
use support::check_svg;

const CHANNELS: [&str; 6] = ["Fz", "FCz", "Cz", "Pz", "O1", "T7"];
const T: usize = 64;

fn reading(top: Option<&str>, theta: f64, p: f64) -> serde_json::Value {
    let freqs: Vec<f64> = (0..=32).map(f64::from).collect();
    let psd = |g: f64| freqs.iter().map(|f| g / (1.0 + f)).collect::<Vec<_>>();
    let per_ch = |scale: f64| {
        let mut m = serde_json::Map::new();
        for (i, c) in CHANNELS.iter().enumerate() {
            m.insert(c.to_string(), json!(scale * (CHANNELS.len() - i) as f64 / CHANNELS.len() as f64));
        }
        serde_json::Value::Object(m)
    };
    json!({
        "freqs": freqs,
        "psd": {"F": psd(1.0), "M": psd(1.4)},
        "bands": [
            {"name": "delta", "lo": 1.0, "hi": 4.0, "log_ratio": 0.02, "p": 0.7, "p_contrast": 0.7},
            {"name": "theta", "lo": 4.0, "hi": 8.0, "log_ratio": theta, "p": p, "p_contrast": p}
        ],
        "channels": {"delta": per_ch(0.02), "theta": per_ch(theta)},
        "top_band": top,
        "n": {"F": 4, "M": 4}
    })
}

fn report() -> Report {
    let mut optimal = reading(Some("theta"), 0.35, 0.002);
    optimal["samples"] =
        json!({"F": [{"index": 3, "subject": "sub-001", "label": "F", "score": 0.9}], "M": []});
    let mut actmax = reading(Some("theta"), 0.5, 0.001);
    for (k, v) in [
        ("objective", json!("logit_difference")),
        ("objective_start", json!({"F": 0.1, "M": 0.1})),
        ("objective_end", json!({"F": 2.0, "M": 2.5})),
        ("steps", json!(10)),
        ("restarts", json!(2)),
    ] {
        actmax[k] = v;
    }
    let mut deconv = reading(None, -0.1, 0.4);
    deconv["rule"] = json!("deconvnet");
    deconv["from"] = json!("output");
    serde_json::from_value(json!({
        "classes": ["F", "M"],
        "channels": CHANNELS,
        "fs": 32.0,
        "split": "test",
        "alpha": 0.05,
        "permutations": 999,
        "model": {"name": "rvgg", "n_windows": 40, "n_subjects": 8, "accuracy": 0.8, "statistic": 0.3, "p": 0.001},
        "methods": {"optimal": optimal, "actmax": actmax, "deconv": deconv}
    }))
    .expect("a valid interpret.json")
}

fn example(class: &str) -> Example {
    let data = (0..CHANNELS.len() * T).map(|i| ((i % T) as f32 * 0.3).sin() * (1 + i / T) as f32).collect();
    Example { class: class.into(), note: format!("a <{class}> example"), data }
}

fn input() -> ReportInput {
    let r = report();
    ReportInput {
        title: "Test & report".into(),
        run_dir: None,
        dataset: DatasetSummary {
            path: "epochs.safetensors".into(),
            channels: CHANNELS.iter().map(|s| s.to_string()).collect(),
            fs: 32.0,
            n_samples: T,
            classes: vec!["F".into(), "M".into()],
            label_column: "sex".into(),
            splits: vec![SplitSummary {
                name: "train".into(),
                windows: 10,
                subjects: Some(2),
                per_class: Some(vec![4, 6]),
            }],
            settings: Some(json!({"normalise": "recording", "band": [0.25, 25.0]})),
        },
        model: ModelSummary {
            name: "rvgg".into(),
            input_shape: vec![1, 6, 64],
            n_params: 1234,
            layers: vec![],
        },
        epochs: vec![],
        eval: None,
        interpretation: Some(Interpretation {
            report: r,
            optimal: vec![example("F"), example("M")],
            actmax: vec![example("F"), example("M")],
            deconv: vec![example("F")],
        }),
    }
}

#[test]
fn the_reading_names_band_direction_channels_and_p() {
    let r = report();
    let opt = &r.methods.optimal.as_ref().unwrap().reading;
    let text = plain_reading(opt, &r.classes, r.alpha);
    assert!(text.contains("theta (4–8 Hz)"), "{text}");
    assert!(text.contains("M shows 1.42 times the power of F at Fz (log ratio +0.35)"), "{text}");
    assert!(text.contains("strongest at Fz, FCz, Cz"), "{text}");
    assert!(text.contains("p = 0.002"), "{text}");
    // A focal rise at one channel with a small fall everywhere else: the
    // channel average is negative, the reading follows the focal rise.
    let mut focal = opt.clone();
    let theta = focal.channels.0.iter_mut().find(|(b, _)| b == "theta").expect("theta channels");
    for (ch, v) in theta.1 .0.iter_mut() {
        *v = if ch == "Cz" { 1.5 } else { -0.4 };
    }
    focal.bands[1].log_ratio = -0.08;
    let text = plain_reading(&focal, &r.classes, r.alpha);
    assert!(text.contains("M shows 4.48 times the power of F at Cz (log ratio +1.50)"), "{text}");
    assert!(text.contains("strongest at Cz,"), "{text}");
    assert!(text.contains("averaged over channels: -0.08"), "{text}");
    let dec = &r.methods.deconv.as_ref().unwrap().reading;
    let text = plain_reading(dec, &r.classes, r.alpha);
    assert!(text.starts_with("No band differs significantly between F and M at α = 0.05"), "{text}");
    assert!(text.contains("smallest p is 0.4 (theta"), "{text}");
}

#[test]
fn the_page_has_every_section_and_figure_and_nothing_external() {
    let rendered = render(&input());
    let html = &rendered.html;
    for id in ["optimal-psd", "optimal-bands", "optimal-topo", "optimal-traces-0", "optimal-traces-1"] {
        assert!(rendered.figures.iter().any(|f| f == id), "{id}");
    }
    for id in ["actmax-heatmap-0", "actmax-traces-1", "deconv-heatmap-0", "deconv-topo"] {
        assert!(rendered.figures.iter().any(|f| f == id), "{id}");
    }
    assert!(!rendered.figures.iter().any(|f| f.starts_with("training") || f.starts_with("confusion")));
    assert!(html.contains("No epoch has been recorded yet") && html.contains("eeglens eval --run"));
    assert!(html.contains("<title>Test &amp; report</title>"));
    assert!(html.contains("a &lt;F&gt; example"), "notes are escaped");
    assert!(html.contains("SD²/Hz"), "normalised windows are in SD, not µV");
    for bad in ["<script src", "<link", "@import", "http://", "https://", "<img"] {
        let n = html.matches(bad).count();
        let allowed =
            if bad == "http://" { html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count() } else { 0 };
        assert_eq!(n, allowed, "`{bad}` in the page");
    }
    assert!(html.contains("@media print"));
    // Every figure is a well-formed SVG with its coordinates inside its viewBox.
    let mut rest = html.as_str();
    let mut n = 0;
    while let Some(i) = rest.find("<svg") {
        let j = rest[i..].find("</svg>").expect("closed") + i + "</svg>".len();
        check_svg(&rest[i..j]);
        rest = &rest[j..];
        n += 1;
    }
    assert_eq!(n, rendered.figures.len());
}

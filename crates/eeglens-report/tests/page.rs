//! The page from inputs in memory: every section and figure, the
//! plain-language reading, nothing external, every figure well-formed.

mod support;

use eeglens_interpret::Report;
use eeglens_report::spectra::{ChannelGroup, ClassSpectrum, DataSpectra, GroupSpectrum};
use eeglens_report::wording::{method_reading, planted, planted_beside, PFloor};
use eeglens_report::{
    plain_reading, render, DatasetSummary, Example, Interpretation, MissingPart, ModelSummary, Rendered,
    ReportInput, Seeds, SplitSummary,
};
use eeglens_train::{BaselineReport, ChanceReport, EvalReport};
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
            selection: None,
        },
        epochs: vec![],
        eval: None,
        regression: None,
        interpretation: Some(Interpretation {
            report: r,
            optimal: vec![example("F"), example("M")],
            actmax: vec![example("F"), example("M")],
            deconv: vec![example("F")],
        }),
        baseline: None,
        seeds: None,
        folds: None,
        missing: Vec::new(),
        provenance: Vec::new(),
        data_spectra: None,
        window_labels: Default::default(),
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
    check_figures(&rendered);
    // A network above chance: no verdict box; no baseline.json, no baseline section.
    assert!(!html.contains("nothing-learned") && !html.contains("id=\"baseline\""));
}

/// Every figure is a well-formed SVG with its coordinates inside its viewBox.
fn check_figures(rendered: &Rendered) {
    let mut rest = rendered.html.as_str();
    let mut n = 0;
    while let Some(i) = rest.find("<svg") {
        let j = rest[i..].find("</svg>").expect("closed") + i + "</svg>".len();
        check_svg(&rest[i..j]);
        rest = &rest[j..];
        n += 1;
    }
    assert_eq!(n, rendered.figures.len());
}

/// A test evaluation of two classes with `right` of `n` windows and
/// `subjects_right` of `subjects` subjects right, with its chance tests.
fn eval(right: u64, n: u64, subjects_right: u64, subjects: u64) -> EvalReport {
    let split = |k: u64, n: u64| vec![vec![k / 2, n / 2 - k / 2], vec![(n - n / 2) - (k - k / 2), k - k / 2]];
    // `n / subjects` windows each, alternating classes, the right windows spread evenly.
    let w = n / subjects;
    let people: Vec<serde_json::Value> = (0..subjects)
        .map(|i| {
            let r = right / subjects + u64::from(i < right % subjects);
            let l = (i % 2) as usize;
            let votes = if l == 0 { [r, w - r] } else { [w - r, r] };
            let predicted = if 2 * r > w { l } else { 1 - l };
            json!({"subject": format!("sub-{i:02}"), "label": l, "n_windows": w, "mean_prob": [0.5, 0.5],
                   "predicted": predicted, "predicted_vote": predicted,
                   "window_accuracy": r as f64 / w as f64, "window_votes": votes})
        })
        .collect();
    let mut e: EvalReport = serde_json::from_value(json!({
        "split": "test", "n_windows": n, "n_subjects": subjects, "loss": 0.69,
        "accuracy": right as f64 / n as f64, "balanced_accuracy": 0.5, "auc": null,
        "subject_accuracy": subjects_right as f64 / subjects as f64, "subject_accuracy_vote": 0.5,
        "subject_balanced_accuracy": 0.5, "subject_auc": null,
        "confusion": split(right, n), "subject_confusion": split(subjects_right, subjects),
        "classes": ["F", "M"], "model": "rvgg", "checkpoint": null, "subjects": people
    }))
    .expect("a valid evaluation");
    e.chance = Some(ChanceReport::of(&e));
    e
}

/// The page of a network at chance: the interpretation ran no method.
fn at_chance() -> ReportInput {
    let mut i = input();
    i.eval = Some(eval(24, 48, 4, 8));
    let interp = i.interpretation.as_mut().expect("an interpretation");
    let d = &mut interp.report.model.discrimination;
    (d.accuracy, d.p, d.learned, d.n_subjects) = (0.5, 0.6, false, 8);
    interp.report.methods = Default::default();
    (interp.optimal, interp.actmax, interp.deconv) = (vec![], vec![], vec![]);
    i
}

#[test]
fn a_model_at_chance_says_so_at_the_top_and_shows_no_reading() {
    let rendered = render(&at_chance());
    let html = &rendered.html;
    let at = |s: &str| html.find(s).unwrap_or_else(|| panic!("`{s}` missing"));
    assert!(at("id=\"nothing-learned\"") < at("id=\"data\""), "the box comes before the data set");
    for want in [
        "The model learned nothing on the test split.",
        "Windows: 24 of 48 right, against a chance of 0.5",
        "binomial p = 0.557",
        "Subjects: 4 of 8 right",
        "no reading of it is possible",
        "the interpretation methods were not run",
    ] {
        assert!(html.contains(want), "`{want}` missing");
    }
    assert_eq!(html.matches("Not read: the model is at chance.").count(), 3);
    assert!(html.contains("<b>not read</b>"), "the top-band cards say so too");
    for id in &rendered.figures {
        assert!(
            !["optimal", "actmax", "deconv"].iter().any(|m| id.starts_with(m)),
            "figure {id} of a method"
        );
    }
    check_figures(&rendered);

    // Read anyway: the figures come back, each method warned.
    let mut anyway = at_chance();
    let interp = anyway.interpretation.as_mut().expect("an interpretation");
    interp.report.methods = report().methods;
    let rendered = render(&anyway);
    assert!(rendered.html.contains("id=\"nothing-learned\"") && rendered.html.contains("run anyway"));
    assert_eq!(rendered.html.matches("Read anyway: the model is at chance").count(), 3);
    assert!(rendered.figures.iter().any(|f| f == "optimal-bands"));

    // The interpretation's own verdict is enough when there is no test evaluation.
    let mut only = at_chance();
    only.eval = None;
    let html = render(&only).html;
    assert!(html.contains("id=\"nothing-learned\"") && html.contains("Interpretation, test split: 20 of 40"));
}

#[test]
fn six_test_subjects_are_said_to_be_too_few_not_a_failure_to_learn() {
    let mut i = at_chance();
    // Every window right, but 3 + 3 subjects allow 20 labelings: p cannot go below 0.05.
    i.eval = Some(eval(36, 36, 6, 6));
    let html = render(&i).html;
    let at = |s: &str| html.find(s).unwrap_or_else(|| panic!("`{s}` missing"));
    assert!(at("id=\"nothing-learned\"") < at("id=\"data\""));
    for want in [
        "The model cannot be shown to have learned anything on the test split.",
        "too few subjects",
        "With 6 subjects the smallest possible p is 0.05",
    ] {
        assert!(html.contains(want), "`{want}` missing");
    }
    assert!(!html.contains("The model learned nothing"));
}

#[test]
fn every_test_subject_has_a_row_least_sure_first_and_the_wrong_ones_marked() {
    let mut i = input();
    let mut e = eval(30, 40, 1, 2);
    e.subjects = serde_json::from_value(json!([
        {"subject": "sub-001", "label": 0, "n_windows": 20, "mean_prob": [0.9, 0.1], "predicted": 0,
         "predicted_vote": 0, "window_accuracy": 0.95},
        {"subject": "sub-002", "label": 1, "n_windows": 20, "mean_prob": [0.7, 0.3], "predicted": 0,
         "predicted_vote": 0, "window_accuracy": 0.25}
    ]))
    .expect("subjects");
    i.eval = Some(e);
    let html = render(&i).html;
    let at = html.find("<h3>Per subject</h3>").expect("the table");
    let table = &html[at..at + html[at..].find("</table>").expect("its end")];
    assert!(table.contains("1 of 2 test subjects given the wrong class"), "{table}");
    let (a, b) = (table.find("sub-002").expect("sub-002"), table.find("sub-001").expect("sub-001"));
    assert!(a < b, "the least sure subject first");
    assert!(
        table.contains(
            "<tr class=\"wrong\"><td>sub-002</td><td>M</td><td class=\"n\">20</td><td class=\"n\">25"
        ),
        "{table}"
    );
    assert!(table.contains("<td>sub-001</td><td>F</td>") && table.contains(">0.9<"), "{table}");
    // The ROC per subject: sub-002 (M, given F at p(M) = 0.3) still ranks above sub-001 (F,
    // p(M) = 0.1), so the area is 1 though one subject is classified wrong.
    let rendered = render(&i);
    assert!(rendered.figures.iter().any(|f| f == "roc-subjects"));
    assert!(rendered.html.contains("AUC 1<"), "the area of a right ranking");
    // Without per-subject results there is no table and no ROC.
    let plain = render(&input());
    assert!(
        !plain.html.contains("<h3>Per subject</h3>") && !plain.figures.iter().any(|f| f == "roc-subjects")
    );
}

#[test]
fn provenance_lists_every_step_or_says_none_was_recorded() {
    let html = render(&input()).html;
    assert!(
        html.contains("id=\"provenance\"") && html.contains("No step of this run recorded its provenance")
    );
    let mut i = input();
    let step = |s: &str, cmd: &str| eeglens_train::provenance::Step {
        step: s.into(),
        eeglens: "0.1.0".into(),
        command: cmd.into(),
        date: "2026-12-06T19:00:00Z".into(),
        threads: 2,
        kernels: "avx512 (the CPU has AVX-512F)".into(),
    };
    i.provenance = vec![
        step("prepare", "eeglens prepare bids --label sex"),
        step("train", "eeglens train --out 'a <b>'"),
    ];
    let html = render(&i).html;
    let at = html.find("id=\"provenance\"").expect("the section");
    let section = &html[at..];
    assert!(section.contains("<code>eeglens prepare bids --label sex</code>"), "{section}");
    assert!(section.contains("a &lt;b&gt;") && !section.contains("<b>"), "commands are escaped");
    assert!(section.contains("2026-12-06T19:00:00Z") && section.contains("avx512 (the CPU has AVX-512F)"));
    assert!(
        section.find("prepare").expect("prepare") < section.find("train --out").expect("train"),
        "in order"
    );
    assert!(!section.contains("No step of this run"));
}

#[test]
fn a_p_at_its_floor_is_named() {
    let mut i = input();
    let d = &mut i.interpretation.as_mut().expect("an interpretation").report.model.discrimination;
    d.p = 0.015;
    let html = render(&i).html;
    assert!(html.contains("p at its floor"), "p = 0.015 with 8 subjects");
    assert!(html.contains("with 8 test subjects (4 and 4 per class) only 70 assignments"), "{html}");
    assert!(html.contains("cannot go below it either"));
    // Far from the floor: no note.
    let d = &mut i.interpretation.as_mut().expect("an interpretation").report.model.discrimination;
    d.p = 0.2;
    assert!(!render(&i).html.contains("id=\"p-floor\""));
    // Six subjects: the floor 1/20 = alpha, so no band can be significant, whatever p is.
    let d = &mut i.interpretation.as_mut().expect("an interpretation").report.model.discrimination;
    d.n_subjects = 6;
    let html = render(&i).html;
    assert!(html.contains("no band can be called significant"), "floor at alpha");
}

fn baseline(learned: bool) -> BaselineReport {
    let e = if learned { eval(40, 48, 8, 8) } else { eval(18, 36, 3, 6) };
    let chance = e.chance.clone().expect("chance tests");
    let effect: Vec<Vec<f64>> = (0..3)
        .map(|b| (0..CHANNELS.len()).map(|c| if b == 1 { 1.2 - 0.3 * c as f64 } else { 0.1 }).collect())
        .collect();
    serde_json::from_value(json!({
        "format": "eeglens-baseline/1", "data": "epochs.safetensors",
        "bands": ["delta", "theta", "alpha"], "band_edges": [[1.0, 4.0], [4.0, 8.0], [8.0, 13.0]],
        "channels": CHANNELS, "c": 0.1, "c_path": [[0.1, 0.6]],
        "val": e, "test": e, "chance": chance,
        "coefficients": [effect.clone()], "effect": effect,
        "top_band": "theta", "top_channels": ["Fz", "FCz", "Cz"]
    }))
    .expect("a valid baseline")
}

#[test]
fn the_baseline_stands_beside_the_network_when_there_is_one() {
    let mut i = at_chance();
    assert!(!render(&i).html.contains("id=\"baseline\""), "no baseline.json, no section");
    i.baseline = Some(baseline(true));
    let rendered = render(&i);
    let html = &rendered.html;
    let at = |s: &str| html.find(s).unwrap_or_else(|| panic!("`{s}` missing"));
    assert!(at("id=\"baseline\"") < at("id=\"data\""), "near the top");
    for want in [
        "the effect is decodable from band power but the network did not learn it",
        "83.3% of 48",
        "is in theta, strongest at Fz, FCz, Cz",
        "M has more theta power there (Cohen&#39;s d +1.20 at Fz)",
    ] {
        assert!(html.to_lowercase().contains(&want.to_lowercase()), "`{want}` missing");
    }
    for id in ["baseline-effect", "baseline-topo"] {
        assert!(rendered.figures.iter().any(|f| f == id), "{id}");
    }
    check_figures(&rendered);
    i.baseline = Some(baseline(false));
    assert!(render(&i).html.contains("Neither the network nor the band-power baseline"));
}

fn seed_report(top: [Option<&str>; 3], learned: bool) -> Report {
    let mut r = report();
    r.model.discrimination.learned = learned;
    let m = &mut r.methods;
    m.optimal.as_mut().expect("optimal").reading.top_band = top[0].map(String::from);
    m.actmax.as_mut().expect("actmax").reading.top_band = top[1].map(String::from);
    m.deconv.as_mut().expect("deconv").reading.top_band = top[2].map(String::from);
    r
}

#[test]
fn seeds_show_their_agreement_per_method() {
    let reports = [
        seed_report([Some("theta"), Some("theta"), None], true),
        seed_report([Some("theta"), Some("delta"), None], true),
        seed_report([Some("theta"), None, None], false),
    ];
    let agreement = eeglens_interpret::agreement(&[4, 5, 6], &reports);
    let mut i = input();
    i.seeds = Some(Seeds {
        parent: "runs/seeds".into(),
        agreement: Some(agreement),
        runs: vec![(4, "runs/seeds/seed-4".into()), (5, "runs/seeds/seed-5".into())],
        shown: 4,
    });
    let rendered = render(&i);
    let html = &rendered.html;
    let at = |s: &str| html.find(s).unwrap_or_else(|| panic!("`{s}` missing"));
    assert!(at("id=\"agreement\"") < at("id=\"data\""), "at the top");
    for m in ["optimal", "actmax", "deconv"] {
        for kind in ["fractions", "channels"] {
            let id = format!("agreement-{m}-{kind}");
            assert!(rendered.figures.contains(&id), "{id} in {:?}", rendered.figures);
        }
    }
    for want in [
        "3 seeds (4, 5, 6): the network learned in 2 of them",
        "report of seed 4 (the first seed whose network learned)",
        "Top band by a majority: theta, named by 3 of 3 seeds",
        "No majority: the seeds name delta 1 of 3, theta 1 of 3, none 1 of 3.",
        "No majority: the seeds name none 3 of 3.",
        "4 (shown below)",
    ] {
        assert!(html.contains(want), "`{want}` missing");
    }
    check_figures(&rendered);
}

#[test]
fn a_model_chosen_on_validation_shows_every_candidate_and_the_choice() {
    use eeglens_train::select::{CandidateScore, Selection, CRITERION, SELECTION_FORMAT};
    let mut i = input();
    assert!(!render(&i).html.contains("Chosen among"), "no selection.json, no table");
    let cand = |model: &str, acc: f64| CandidateScore {
        model: model.into(),
        dir: format!("candidates/{model}").into(),
        best_epoch: Some(7),
        val_balanced_accuracy: Some(acc),
        val_loss: Some(0.4),
        val_subject_accuracy: Some(1.0),
        restarts: 0,
    };
    i.model.selection = Some(Selection {
        format: SELECTION_FORMAT.into(),
        criterion: CRITERION.into(),
        candidates: vec![cand("shallow", 0.413), cand("rvgg-bn", 0.859)],
        chosen: "rvgg-bn".into(),
    });
    let html = render(&i).html;
    let at = |s: &str| html.find(s).unwrap_or_else(|| panic!("`{s}` missing"));
    assert!(at("id=\"model\"") < at("Chosen among 2 candidates"), "in the model section");
    assert!(html.contains("the test figures below are of the chosen model alone"));
    let row = |m: &str| {
        let start = at(&format!("<code>{m}</code>"));
        html[start..].split("</tr>").next().expect("a row").to_string()
    };
    assert!(row("rvgg-bn").contains("0.859") && row("rvgg-bn").contains("chosen"), "{}", row("rvgg-bn"));
    assert!(row("shallow").contains("0.413") && !row("shallow").contains("chosen"), "{}", row("shallow"));
}

/// Class spectra of two groups: class M has twice F's power below 8 Hz in the frontal group.
fn data_spectra(subjects: usize) -> DataSpectra {
    let freqs: Vec<f64> = (0..=16).map(|f| f64::from(f) * 2.0).collect();
    let class = |name: &str, gain: f64, low: f64| ClassSpectrum {
        class: name.into(),
        n_subjects: subjects,
        n_windows: 10 * subjects,
        mean: freqs.iter().map(|f| gain * if *f < 8.0 { low } else { 1.0 } / (1.0 + f)).collect(),
        sem: freqs.iter().map(|f| if subjects < 2 { f64::NAN } else { 0.1 / (1.0 + f) }).collect(),
    };
    let group = |name: &str, names: &[&str], low: f64| GroupSpectrum {
        group: ChannelGroup {
            name: name.into(),
            channels: (0..names.len()).collect(),
            names: names.iter().map(|s| s.to_string()).collect(),
        },
        classes: vec![class("F", 1.0, 1.0), class("M", 1.0, low)],
    };
    DataSpectra {
        split: "test".into(),
        freqs: freqs.clone(),
        nperseg: 32,
        groups: vec![group("frontal", &["Fz"], 2.0), group("parieto-occipital", &["Pz", "O1"], 1.0)],
    }
}

#[test]
fn the_data_spectra_come_first_with_a_band_of_one_sem_per_class_and_group() {
    let mut i = input();
    i.data_spectra = Some(data_spectra(4));
    let rendered = render(&i);
    let html = &rendered.html;
    let at = |s: &str| html.find(s).unwrap_or_else(|| panic!("`{s}` missing"));
    assert!(at("id=\"data-spectra\"") < at("id=\"data\""), "before the data set");
    assert!(at("id=\"data-spectra\"") < at("id=\"interpretation\""), "before any network");
    assert!(rendered.figures.iter().any(|f| f == "data-spectra"));
    let svg = figure_svg(html, "data-spectra");
    check_svg(svg);
    // Two groups x two classes: a band and a curve each.
    assert_eq!(svg.matches("class=\"sem\"").count(), 4, "one SEM band per class and group");
    assert_eq!(svg.matches("class=\"mean\"").count(), 4);
    for want in ["frontal, 1 channel", "parieto-occipital, 2 channels", "F (4 subjects)"] {
        assert!(svg.contains(want), "`{want}` not in the figure");
    }
    let caption = &html[at("data-figure=\"data-spectra\"")..];
    let caption = &caption[..caption.find("</figure>").expect("figure end")];
    assert!(caption.contains("standard error of that mean across subjects"), "{caption}");
    assert!(caption.contains("frontal: Fz; parieto-occipital: Pz, O1"), "{caption}");
    // One subject per class: no band, and the caption says so.
    i.data_spectra = Some(data_spectra(1));
    let rendered = render(&i);
    let svg = figure_svg(&rendered.html, "data-spectra");
    check_svg(svg);
    assert_eq!(svg.matches("class=\"sem\"").count(), 0);
    assert!(rendered.html.contains("A class with one subject has no band."));
}

#[test]
fn without_the_store_the_data_spectra_section_says_so_in_one_line() {
    let mut i = input();
    i.missing.push(MissingPart {
        section: "data-spectra",
        file: "gone/epochs.safetensors".into(),
        lacks: "the class spectra of the test windows per channel group".into(),
        why: "the run's epoch store is not found".into(),
    });
    let rendered = render(&i);
    assert!(!rendered.figures.iter().any(|f| f == "data-spectra"));
    let html = &rendered.html;
    let start = html.find("id=\"data-spectra\"").expect("the section is there");
    let section = &html[start..html[start..].find("<h2").map_or(html.len(), |e| start + e)];
    assert_eq!(section.matches("data-missing=").count(), 1, "{section}");
    assert!(section.contains("the run&#39;s epoch store is not found"), "{section}");
}

/// The `<svg>` of figure `id` in the page.
fn figure_svg<'a>(html: &'a str, id: &str) -> &'a str {
    let at = html.find(&format!("data-figure=\"{id}\"")).unwrap_or_else(|| panic!("figure {id}"));
    let start = at + html[at..].find("<svg").expect("an svg");
    &html[start..start + html[start..].find("</svg>").expect("svg end") + "</svg>".len()]
}

#[test]
fn the_contents_link_every_section_and_figures_are_numbered_in_order() {
    let mut i = input();
    i.data_spectra = Some(data_spectra(3));
    i.baseline = Some(baseline(true));
    i.eval = Some(eval(30, 36, 6, 6));
    let rendered = render(&i);
    let html = &rendered.html;
    let nav_at = html.find("<nav class=\"toc\"").expect("a table of contents");
    let nav = &html[nav_at..nav_at + html[nav_at..].find("</nav>").expect("nav end")];
    // Every section heading is listed, in page order, before it.
    let mut ids = Vec::new();
    let mut rest = &html[..];
    while let Some(k) = rest.find("<h2 id=\"") {
        let id = rest[k + 8..].split('"').next().expect("an id").to_string();
        ids.push(id);
        rest = &rest[k + 8..];
    }
    assert!(ids.len() >= 6, "{ids:?}");
    let mut last = 0;
    for id in &ids {
        let link = nav.find(&format!("href=\"#{id}\"")).unwrap_or_else(|| panic!("no link to {id}: {nav}"));
        assert!(link > last || last == 0, "{id} out of order");
        last = link;
    }
    assert!(nav_at < html.find("<h2").expect("a section"), "the contents come first");
    // Figures: numbered 1..n in page order, and the contents give each section's range.
    for (k, id) in rendered.figures.iter().enumerate() {
        let fig = html.find(&format!("data-figure=\"{id}\"")).expect("figure");
        let no = format!("Figure {}.</b>", k + 1);
        let cap = html[fig..].find(&no).unwrap_or_else(|| panic!("{id} is not {no}"));
        assert!(cap < html[fig..].find("</figure>").expect("end"), "{id}: its number is in its caption");
    }
    let spectra = rendered.figures.iter().position(|f| f == "data-spectra").expect("spectra") + 1;
    assert!(nav.contains(&format!("(Figure {spectra})")), "{nav}");
}

/// `n` test windows, store indices 100.., alternating F and M, with a
/// probability of M that ranks them as `right` of every M above every F.
fn scored_windows(e: &mut EvalReport, n: usize, perfect: bool) -> std::collections::BTreeMap<usize, usize> {
    e.windows = (100..100 + n).collect();
    e.probabilities = (0..n)
        .map(|k| {
            let m = k % 2 == 1;
            let p = if perfect == m { 0.6 + 0.01 * k as f32 } else { 0.4 - 0.01 * k as f32 };
            vec![1.0 - p, p]
        })
        .collect();
    (0..n).map(|k| (100 + k, k % 2)).collect()
}

#[test]
fn the_baselines_roc_per_subject_and_per_window_stands_beside_the_networks() {
    let mut i = input();
    let mut e = eval(30, 36, 2, 2);
    e.subjects = serde_json::from_value(json!([
        {"subject": "sub-001", "label": 0, "n_windows": 18, "mean_prob": [0.7, 0.3], "predicted": 0, "predicted_vote": 0, "window_accuracy": 0.8},
        {"subject": "sub-002", "label": 1, "n_windows": 18, "mean_prob": [0.4, 0.6], "predicted": 1, "predicted_vote": 1, "window_accuracy": 0.8}
    ]))
    .expect("subjects");
    i.window_labels = scored_windows(&mut e, 20, true);
    let mut b = baseline(true);
    b.test = e.clone();
    // The baseline ranks every window the wrong way round.
    scored_windows(&mut b.test, 20, false);
    b.test.subjects[1].mean_prob = vec![0.8, 0.2];
    i.eval = Some(e);
    // Without the baseline: the network's curves alone.
    let rendered = render(&i);
    assert_eq!(figure_svg(&rendered.html, "roc-windows").matches("class=\"roc\"").count(), 1);
    i.baseline = Some(b);
    let rendered = render(&i);
    let html = &rendered.html;
    for id in ["roc-subjects", "roc-windows"] {
        let svg = figure_svg(html, id);
        check_svg(svg);
        assert_eq!(svg.matches("class=\"roc\"").count(), 2, "{id}: network and baseline");
        assert!(svg.contains("network: AUC 1<"), "{id}: {svg}");
        assert!(svg.contains("band-power baseline: AUC 0<"), "{id}: {svg}");
    }
    assert!(html.contains("href=\"#fig-roc-subjects\""), "the baseline section points to them");
    // A baseline.json of version 1 holds no window probabilities: its per-subject curve only.
    let mut old = i.clone();
    let b = old.baseline.as_mut().expect("a baseline");
    (b.format, b.test.windows, b.test.probabilities) = ("eeglens-baseline/1".into(), vec![], vec![]);
    let html = render(&old).html;
    assert_eq!(figure_svg(&html, "roc-subjects").matches("class=\"roc\"").count(), 2);
    assert_eq!(figure_svg(&html, "roc-windows").matches("class=\"roc\"").count(), 1);
    assert!(html.contains("needs its window probabilities"), "the caption says why");
    // Without the store's labels there is no per-window curve, and the page says why.
    i.window_labels.clear();
    let rendered = render(&i);
    assert!(!rendered.figures.iter().any(|f| f == "roc-windows"));
    assert!(rendered.html.contains("No ROC per window"));
}

#[test]
fn a_reading_says_what_its_ratio_describes_its_floor_and_its_other_significant_bands() {
    let r = report();
    let am = &r.methods.actmax.as_ref().expect("actmax").reading;
    let opt = &r.methods.optimal.as_ref().expect("optimal").reading;
    // Patterns, not data: said for activation maximisation and the deconvnet, not for windows.
    let text = method_reading("actmax", am, &r.classes, r.alpha, None);
    assert!(text.contains("times the power") && text.contains("not of the recorded EEG"), "{text}");
    let text = method_reading("optimal", opt, &r.classes, r.alpha, None);
    assert!(!text.contains("not of the recorded EEG"), "{text}");
    // Optimal samples say which unit their band test permuted; the other methods do not.
    assert!(
        text.contains("permuted single windows") && text.contains("--optimal-permute subjects"),
        "{text}"
    );
    let by_subject = eeglens_interpret::spectral::Reading { by_subject: true, ..opt.clone() };
    let text = method_reading("optimal", &by_subject, &r.classes, r.alpha, None);
    assert!(text.contains("each subject's windows together") && !text.contains("single windows"), "{text}");
    assert!(!method_reading("actmax", am, &r.classes, r.alpha, None).contains("permuted"));
    // p = 0.015 with 8 test subjects: the floor of C(8, 4) = 70 labelings.
    let mut floored = opt.clone();
    floored.bands[1].p = 0.015;
    let floor = PFloor::new(8, None, 999);
    let text = method_reading("optimal", &floored, &r.classes, r.alpha, Some(&floor));
    assert!(text.contains("at its floor") && text.contains("C(8, 4) = 70 labelings"), "{text}");
    floored.bands[1].p = 0.03;
    let text = method_reading("optimal", &floored, &r.classes, r.alpha, Some(&floor));
    assert!(!text.contains("at its floor"), "p = 0.03 is twice the floor of 1/70: {text}");
    // delta significant too, but not the top band.
    let mut two = opt.clone();
    two.bands[0].p = 0.01;
    let text = method_reading("optimal", &two, &r.classes, r.alpha, None);
    assert!(
        text.contains("Also significant at α = 0.05, with a smaller contrast than theta: delta (1–4 Hz"),
        "{text}"
    );
    assert!(!method_reading("optimal", opt, &r.classes, r.alpha, None).contains("Also significant"));
}

#[test]
fn on_synthetic_data_the_planted_truth_stands_beside_each_reading() {
    let mut i = input();
    let html = render(&i).html;
    assert!(!html.contains("Planted truth"), "real data: no truth");
    i.dataset.settings =
        Some(json!({"planted": {"band": [4.0, 8.0], "channels": ["Fz", "FCz"], "size": 2.0, "class": "M"}}));
    let html = render(&i).html;
    // Every method read shows it: optimal and actmax name theta, the deconvnet no band.
    assert_eq!(html.matches("Planted truth (synthetic data): 4–8 Hz in M at Fz, FCz, size 2.").count(), 3);
    assert_eq!(html.matches("covers it.").count(), 2, "theta covers 4–8 Hz");
    assert!(html.contains("The reading names no band."));
    let truth =
        planted(Some(&json!({"planted": {"band": [20.0, 30.0], "channels": ["O1"]}}))).expect("a plant");
    let r = report();
    let text = planted_beside(&truth, &r.methods.optimal.as_ref().expect("optimal").reading);
    assert!(text.contains("misses it"), "{text}");
    // A null set plants nothing.
    assert!(planted(Some(&json!({"planted": {"band": [4.0, 8.0], "channels": [], "size": 0.0}}))).is_none());
}

/// The page's input with the channels renamed (`names[i]` for `CHANNELS[i]`), everywhere.
fn renamed(names: [&str; 6]) -> ReportInput {
    fn walk(v: &mut serde_json::Value, names: &[&str; 6]) {
        let rename = |s: &str| CHANNELS.iter().position(|c| *c == s).map(|i| names[i].to_string());
        match v {
            serde_json::Value::String(s) => {
                if let Some(n) = rename(s) {
                    *s = n;
                }
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| walk(x, names)),
            serde_json::Value::Object(m) => {
                let old = std::mem::take(m);
                for (k, mut x) in old {
                    walk(&mut x, names);
                    m.insert(rename(&k).unwrap_or(k), x);
                }
            }
            _ => {}
        }
    }
    let mut input = input();
    let interp = input.interpretation.as_mut().expect("an interpretation");
    let mut r = serde_json::to_value(&interp.report).expect("the report serialises");
    walk(&mut r, &names);
    interp.report = serde_json::from_value(r).expect("a valid report");
    input.dataset.channels = names.iter().map(|s| s.to_string()).collect();
    input
}

fn caption<'a>(html: &'a str, id: &str) -> &'a str {
    let at = html.find(&format!("data-figure=\"{id}\"")).unwrap_or_else(|| panic!("figure {id}"));
    let start = at + html[at..].find("<figcaption>").expect("a caption");
    &html[start..start + html[start..].find("</figcaption>").expect("caption end")]
}

#[test]
fn scalp_maps_name_the_channels_they_leave_out() {
    // Two channels without a 10-20 position: the map is drawn from the other four and says so.
    let html = render(&renamed(["Fz", "FCz", "Cz", "Pz", "Qq", "EOG1"])).html;
    let c = caption(&html, "optimal-topo");
    assert!(c.contains("spherical splines"), "{c}");
    assert!(
        c.contains("2 channel(s) without a position in the standard 10-20 montage")
            && c.contains("Qq")
            && c.contains("EOG1"),
        "{c}"
    );
    let svg = figure_svg(&html, "optimal-topo");
    check_svg(svg);
    assert_eq!(svg.matches("class=\"electrode\"").count(), 4);
    // Every electrode shows its name and value on hover.
    assert!(svg.contains("<title>Fz: "), "{svg}");

    // Three left: no map, one line saying why, for every method's map.
    let html = render(&renamed(["Fz", "FCz", "Cz", "Qq", "EOG1", "EOG2"])).html;
    assert!(!html.contains("data-figure=\"optimal-topo\""));
    for id in ["optimal-topo", "actmax-topo", "deconv-topo"] {
        let at = html.find(&format!("data-no-map=\"{id}\"")).unwrap_or_else(|| panic!("no line for {id}"));
        let line = &html[at..at + html[at..].find("</p>").expect("line end")];
        assert!(
            line.contains("3 electrode(s) with a position and a finite value; a scalp map needs 4"),
            "{line}"
        );
        assert!(["Qq", "EOG1", "EOG2"].iter().all(|n| line.contains(n)), "{line}");
    }
}

#[test]
fn egi_labels_are_drawn_on_the_hydrocel_net() {
    // The HBN recordings' own labels for Fz, Cz, Pz, O1, T7 and another electrode.
    let html = render(&renamed(["E11", "E6", "E129", "E62", "E70", "E45"])).html;
    let c = caption(&html, "optimal-topo");
    assert!(!c.contains("without a position"), "{c}");
    let svg = figure_svg(&html, "optimal-topo");
    check_svg(svg);
    assert_eq!(svg.matches("class=\"electrode\"").count(), 6);
    // The vertex (E129 / Cz) is at the head's centre, the frontal E11 above it.
    let doc = roxmltree::Document::parse(svg).expect("svg");
    let dot = |name: &str| {
        let c = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("electrode"))
            .find(|n| n.descendants().any(|t| t.text().is_some_and(|t| t.starts_with(&format!("{name}:")))))
            .unwrap_or_else(|| panic!("dot {name}"));
        let f = |a: &str| c.attribute(a).expect("coordinate").parse::<f64>().expect("number");
        (f("cx"), f("cy"))
    };
    let head = doc.descendants().find(|n| n.attribute("class") == Some("head")).expect("head");
    let centre: (f64, f64) =
        (head.attribute("cx").unwrap().parse().unwrap(), head.attribute("cy").unwrap().parse().unwrap());
    let vertex = dot("E129");
    assert!((vertex.0 - centre.0).abs() < 3.0 && (vertex.1 - centre.1).abs() < 3.0, "{vertex:?} {centre:?}");
    assert!(dot("E11").1 < vertex.1 && dot("E62").1 > vertex.1);
}

#[test]
fn a_deconvnet_read_times_its_windows_says_so() {
    let mut i = input();
    assert!(!render(&i).html.contains("class=\"variant\""), "the paper's reading needs no note");
    let interp = i.interpretation.as_mut().expect("an interpretation");
    interp.report.methods.deconv.as_mut().expect("a deconvnet reading").rule = "deconvnet/class×input".into();
    let html = render(&i).html;
    let at = |s: &str| html.find(s).unwrap_or_else(|| panic!("`{s}` missing"));
    assert!(at("id=\"method-deconv\"") < at("class=\"variant\""), "under the deconvnet's heading");
    assert!(html.contains("multiplied sample by sample with its window"));
    assert!(html.contains("--deconv-map-alone"));
}

//! `eeglens synth` and `eeglens prepare` through the binary, as a user runs them.

use crate::util::{eeglens, s, tmpdir};

#[test]
fn synth_then_prepare_with_defaults() {
    let d = tmpdir("defaults");
    let root = d.join("bids");
    let out = eeglens(&["synth", "--out", s(&root), "--subjects", "6", "--minutes", "0.5", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(v["subjects"], 6);
    assert_eq!(v["effect"]["band"], serde_json::json!([4.0, 8.0]));
    assert!(root.join("participants.tsv").is_file());

    let store = d.join("e.safetensors");
    let out = eeglens(&["prepare", s(&root), "--label", "sex", "--out", s(&store), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(v["classes"], serde_json::json!(["F", "M"]));
    assert_eq!(v["n_subjects"], 6);
    // 0.5 minutes: two eyes-closed blocks of 10 s each -> 10 windows per subject at most.
    let n = v["n_windows"].as_u64().expect("count");
    assert!(n > 40 && n <= 60, "{n} windows");
    let st = eeglens_data::store::EpochStore::open(&store).expect("open");
    assert_eq!(st.len() as u64, n);
    // Three subjects per class: said on stderr, in the JSON and in the store.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("warning: class `F` has only 3 subjects"), "{err}");
    assert_eq!(v["warnings"].as_array().expect("warnings").len(), 2, "{}", v["warnings"]);
    assert_eq!(st.meta().settings["outcome"]["warnings"], v["warnings"]);
    // What made the store: the step, its command line and version, for the report's provenance.
    let p = &st.meta().settings["provenance"];
    assert_eq!(p["step"], "prepare");
    assert!(p["command"].as_str().is_some_and(|c| c.contains("prepare") && c.contains("--label sex")), "{p}");
    assert_eq!(p["eeglens"], env!("CARGO_PKG_VERSION"));
}

#[test]
fn user_errors_are_one_line_with_exit_code_1() {
    let d = tmpdir("errors");
    let root = d.join("bids");
    assert!(eeglens(&["synth", "--out", s(&root), "--subjects", "2", "--minutes", "0.2"]).status.success());
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                "prepare".into(),
                s(&root).into(),
                "--label".into(),
                "gender".into(),
                "--out".into(),
                s(&d.join("e.safetensors")).into(),
            ],
            "no column `gender`; the columns are: participant_id, sex, age",
        ),
        (
            vec![
                "prepare".into(),
                s(&d.join("missing")).into(),
                "--label".into(),
                "sex".into(),
                "--out".into(),
                s(&d.join("e.safetensors")).into(),
            ],
            "not a directory",
        ),
        (
            vec![
                "synth".into(),
                "--out".into(),
                s(&d.join("x")).into(),
                "--effect-band".into(),
                "8-4".into(),
            ],
            "--effect-band",
        ),
        (
            vec![
                "synth".into(),
                "--out".into(),
                s(&d.join("x")).into(),
                "--effect-channels".into(),
                "Qq".into(),
            ],
            "Qq is not in the montage",
        ),
        (
            vec!["synth".into(), "--out".into(), s(&d.join("x")).into(), "--format".into(), "vhdr".into()],
            "no writer",
        ),
    ];
    for (args, needle) in cases {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = eeglens(&a);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{a:?}: {err}");
        assert!(err.contains(needle), "{a:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{a:?}: more than one line: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn demo_never_deletes_a_folder_it_did_not_write() {
    let d = tmpdir("demo-guard");
    let mine = d.join("bids");
    std::fs::create_dir_all(&mine).expect("dir");
    std::fs::write(mine.join("participants.tsv"), "participant_id\tsex\n").expect("write");
    let out = eeglens(&["demo", "--out", s(&d)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("is not a synthetic dataset from `eeglens demo`"), "{err}");
    assert!(mine.join("participants.tsv").is_file(), "the user's file was deleted");
}

/// A recording that yields no window is skipped with the reason, never counted as used; when all
/// are, the reasons are printed (text and --json) and the error says why in one line.
#[test]
fn prepare_names_every_skipped_recording_and_missing_participant() {
    let d = tmpdir("skipped");
    let root = d.join("bids");
    assert!(eeglens(&["synth", "--out", s(&root), "--subjects", "6", "--minutes", "0.2"]).status.success());
    let p = root.join("participants.tsv");
    let text = std::fs::read_to_string(&p).expect("read");
    std::fs::write(&p, format!("{text}sub-077\tM\t12\n")).expect("write");
    let store = d.join("e.safetensors");
    // 0.2 minutes hold no 30-s window.
    for json in [false, true] {
        let mut args = vec!["prepare", s(&root), "--label", "sex", "--out", s(&store), "--segment-s", "30"];
        if json {
            args.push("--json");
        }
        let out = eeglens(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains("no recording could be prepared, all 6 were skipped"), "{err}");
        assert!(err.contains("shorter than one 30 s window"), "{err}");
        if json {
            let v: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON document");
            assert_eq!(v["used"], 0);
            assert_eq!(v["skipped"], 6);
            assert!(v["recordings"][3]["reason"]
                .as_str()
                .expect("reason")
                .contains("shorter than one 30 s window"));
            assert_eq!(v["participants_without_recording"], serde_json::json!(["sub-077"]));
        } else {
            for sub in ["001", "002", "003", "004", "005", "006"] {
                assert!(stdout.contains(&format!("skipped  sub-{sub}: no window")), "{stdout}");
            }
            assert!(stdout.contains("missing  sub-077"), "{stdout}");
        }
    }
    // A usable dataset: every recording is listed as used, the missing participant too.
    let out = eeglens(&["prepare", s(&root), "--label", "sex", "--out", s(&store)]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("(6 recordings used, 0 skipped, of 6)"), "{stdout}");
    assert_eq!(stdout.lines().filter(|l| l.starts_with("used     sub-")).count(), 6, "{stdout}");
    assert!(stdout.contains("missing  sub-077"), "{stdout}");
}

/// A label typo, a participant listed twice with different labels, a numeric column, a class of
/// one subject: each is refused in one line naming participants.tsv and the problem.
#[test]
fn prepare_refuses_labels_that_would_make_wrong_classes() {
    let d = tmpdir("labels");
    let root = d.join("bids");
    assert!(eeglens(&["synth", "--out", s(&root), "--subjects", "8", "--minutes", "0.2"]).status.success());
    let p = root.join("participants.tsv");
    let original = std::fs::read_to_string(&p).expect("read");
    let store = d.join("e.safetensors");
    let refused = |label: &str, needles: &[&str]| {
        let out = eeglens(&["prepare", s(&root), "--label", label, "--out", s(&store)]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains("participants.tsv"), "{err}");
        for n in needles {
            assert!(err.contains(n), "{n}: {err}");
        }
        assert!(!store.exists());
    };
    refused("age", &["column `age` holds numbers", "--bins 2", "--target numeric", "categorical column"]);
    // --bins cuts it into ranges: at the median, two classes of four subjects each.
    let out = eeglens(&["prepare", s(&root), "--label", "age", "--bins", "2", "--out", s(&store), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    let classes: Vec<String> = v["classes"]
        .as_array()
        .expect("classes")
        .iter()
        .map(|c| c.as_str().unwrap_or("").to_string())
        .collect();
    let ages: Vec<f64> = original
        .lines()
        .skip(1)
        .map(|l| l.split('\t').nth(2).expect("age").parse().expect("number"))
        .collect();
    let mut sorted = ages.clone();
    sorted.sort_by(f64::total_cmp);
    let median = (sorted[3] + sorted[4]) / 2.0;
    assert_eq!(classes, [format!("age1<{median}"), format!("age2>={median}")], "{ages:?}");
    let st = eeglens_data::store::EpochStore::open(&store).expect("open");
    assert_eq!(st.meta().settings["bins"], serde_json::json!({"quantiles": 2}));
    std::fs::remove_file(&store).expect("remove");
    let out = eeglens(&["prepare", s(&root), "--label", "age", "--bins", "1", "--out", s(&store)]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--bins: 1 ranges"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let edit = |row: usize, f: &dyn Fn(&str) -> String| {
        let mut lines: Vec<String> = original.lines().map(String::from).collect();
        lines[row] = f(&lines[row]);
        std::fs::write(&p, lines.join("\n") + "\n").expect("write");
    };
    let lower = |l: &str| {
        let c: Vec<&str> = l.split('\t').collect();
        format!("{}\t{}\t{}", c[0], c[1].to_lowercase(), c[2])
    };
    edit(4, &lower);
    let c: Vec<String> = original.lines().nth(4).expect("row").split('\t').map(String::from).collect();
    let (upper, low) = (format!("`{}` (lines", c[1]), format!("`{}` (line 5)", c[1].to_lowercase()));
    refused("sex", &[&upper, &low]);
    std::fs::write(&p, format!("{original}{}\t{}\t10\n", c[0], if c[1] == "M" { "F" } else { "M" }))
        .expect("write");
    refused("sex", &[&format!("{} is listed 2 times with different `sex`", c[0])]);
    edit(2, &|l: &str| {
        let c: Vec<&str> = l.split('\t').collect();
        format!("{}\tX\t{}", c[0], c[2])
    });
    refused("sex", &["class `X`", "too few to appear in every split"]);
}

/// A recording without eyes-closed markers, used whole beside eyes-closed data of the others: a
/// warning on stderr, a count in the summary and the JSON; --skip-unmarked skips it with the reason.
#[test]
fn prepare_warns_about_recordings_without_eyes_markers() {
    let d = tmpdir("unmarked");
    let root = d.join("bids");
    assert!(eeglens(&["synth", "--out", s(&root), "--subjects", "8", "--minutes", "0.2"]).status.success());
    let events = root.join("sub-002/eeg/sub-002_task-RestingState_events.tsv");
    std::fs::write(&events, "onset\tduration\ttrial_type\n").expect("write");
    let store = d.join("e.safetensors");
    let out = eeglens(&["prepare", s(&root), "--label", "sex", "--out", s(&store)]);
    let (stdout, err) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{err}");
    assert!(err.contains("warning: 1 of 8 used recordings have no eyes-closed markers"), "{err}");
    assert!(stdout.contains("unmarked 1 recordings without eyes-closed markers used whole"), "{stdout}");
    assert!(
        stdout.contains("used     sub-002") && stdout.contains("whole: no eyes-closed markers"),
        "{stdout}"
    );
    let out = eeglens(&["prepare", s(&root), "--label", "sex", "--out", s(&store), "--force", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(v["used_whole_without_eyes_markers"], 1);
    let out =
        eeglens(&["prepare", s(&root), "--label", "sex", "--out", s(&store), "--force", "--skip-unmarked"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("skipped  sub-002: no event marks eyes closed or open"), "{stdout}");
    assert!(stdout.contains("(7 recordings used, 1 skipped, of 8)"), "{stdout}");
}

/// A reader's warning about a recording (here a channel label used twice) reached `inspect` but
/// not `prepare`: now one stderr line naming the file, and the recording's outcome in --json and
/// in the store carries it.
#[test]
fn prepare_reports_reader_warnings_with_the_recording() {
    let d = tmpdir("reader-warnings");
    let root = d.join("bids");
    assert!(eeglens(&["synth", "--out", s(&root), "--subjects", "8", "--minutes", "0.2"]).status.success());
    let edf = root.join("sub-002/eeg/sub-002_task-RestingState_eeg.edf");
    let mut rec = eeglens_io::read(&edf).expect("read");
    let cz = rec.channels.iter().position(|c| c.name == "Cz").expect("Cz");
    let mut twin = rec.channels[cz].clone();
    twin.name = "CZ".into();
    let samples = rec.data[cz].clone();
    rec.push_channel(twin, samples);
    eeglens_io::write_edf(&edf, &rec, &eeglens_io::EdfWriteOptions::edf_plus()).expect("write");

    let store = d.join("e.safetensors");
    let out = eeglens(&["prepare", s(&root), "--label", "sex", "--out", s(&store)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.contains("duplicate channel label")).collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].starts_with("eeglens: warning: ")
            && lines[0].contains("sub-002_task-RestingState_eeg.edf: duplicate channel label \"Cz\""),
        "{err}"
    );

    let out = eeglens(&["prepare", s(&root), "--label", "sex", "--out", s(&store), "--force", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    let recs = v["recordings"].as_array().expect("recordings");
    let of = |sub: &str| recs.iter().find(|r| r["subject"] == sub).expect("entry");
    let w = of("sub-002")["warnings"].as_array().expect("warnings");
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].as_str().is_some_and(|w| w.contains("duplicate channel label")), "{w:?}");
    assert_eq!(of("sub-001")["warnings"], serde_json::json!([]));
    let st = eeglens_data::store::EpochStore::open(&store).expect("open");
    assert_eq!(st.meta().settings["outcome"]["recordings"], v["recordings"]);
}

/// An operating-system error reaches the user in one line with each piece once: the library's
/// error shows the OS message and does not chain it again.
#[test]
fn an_os_error_is_one_line_with_the_os_message_once() {
    let d = tmpdir("os-error");
    let root = d.join("bids");
    assert!(eeglens(&["synth", "--out", s(&root), "--subjects", "2", "--minutes", "0.2"]).status.success());
    std::fs::write(d.join("plain-file"), b"x").expect("write");
    let store = d.join("plain-file").join("e.safetensors");
    let os = std::fs::write(d.join("plain-file").join("probe"), b"").expect_err("below a file").to_string();
    let out = eeglens(&["prepare", s(&root), "--label", "sex", "--out", s(&store)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert_eq!(err.matches(&os).count(), 1, "{err}");
    assert_eq!(err.matches("plain-file/e.safetensors").count(), 1, "{err}");
}

/// `--eyes-closed-window FROM-TO`: seconds after each eyes-closed event, recorded in the store's
/// settings, the seconds used per recording in the summary; bad ranges are one-line errors.
#[test]
fn prepare_eyes_closed_window_keeps_seconds_after_each_cue() {
    let d = tmpdir("ec-window");
    let root = d.join("bids");
    assert!(eeglens(&["synth", "--out", s(&root), "--subjects", "6", "--minutes", "0.5"]).status.success());
    let store = d.join("e.safetensors");
    // Two eyes-closed blocks of 10 s per recording: 1-9 s after each is 16 s, 8 windows.
    let args = ["prepare", s(&root), "--label", "sex", "--out", s(&store), "--eyes-closed-window", "1-9"];
    let out = eeglens(&[&args[..], &["--json"]].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    for r in v["recordings"].as_array().expect("recordings") {
        assert_eq!(r["seconds_used"], 16.0, "{r}");
        assert_eq!(r["windows"].as_u64().expect("windows") + r["rejected_amplitude"].as_u64().expect("n"), 8);
    }
    let st = eeglens_data::store::EpochStore::open(&store).expect("open");
    assert_eq!(st.meta().settings["eyes_closed_window"], serde_json::json!([1.0, 9.0]));
    let out = eeglens(&[&args[..], &["--force"]].concat());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("windows, 16.0 s eyes closed ("), "{stdout}");
    for (range, needle) in
        [("9-1", "--eyes-closed-window: range `9-1` must have LO < HI"), ("3-4", "shorter than one")]
    {
        let out = eeglens(&[
            "prepare",
            s(&root),
            "--label",
            "sex",
            "--out",
            s(&store),
            "--force",
            "--eyes-closed-window",
            range,
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{range}: {err}");
        assert!(err.contains(needle) && err.trim_end().lines().count() == 1, "{range}: {err}");
    }
    let out = eeglens(&[&args[..], &["--force", "--all-periods"]].concat());
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be used with"));
}

/// `--preset paper` on HBN-shaped recordings (EGI labels with the mastoids E57 and E100, a
/// smooth field): every step and the preset in the store's settings, one `cleaned` line per
/// recording; a preset flag given beside it is a one-line usage error.
#[test]
fn prepare_preset_paper_records_every_step() {
    use eeglens_data::synth::{write_bids, Eyes, SynthConfig, SynthFormat};
    use eeglens_io::montage::{Montage, HBN24_EGI};
    let d = tmpdir("preset-paper");
    let root = d.join("bids");
    let names: Vec<String> = HBN24_EGI.iter().chain(&["E57", "E100"]).map(|n| n.to_string()).collect();
    let pos: Vec<[f64; 3]> = names
        .iter()
        .map(|n| Montage::EgiHydroCel129.position(n).expect("a HydroCel-129 electrode").xyz)
        .collect();
    let mut c = SynthConfig::new(names, pos.clone());
    c.n_subjects = 6;
    c.seed = 4;
    c.effect.channels = vec!["E11".into()];
    c.blocks = vec![(Eyes::Open, 4.0), (Eyes::Closed, 40.0)];
    write_bids(&c, &root, SynthFormat::Edf, &|| {}).expect("synth");
    for r in &eeglens_io::bids::scan(&root).expect("scan").recordings {
        let mut rec = eeglens_io::read(&r.path).expect("read");
        let fs = rec.channels[0].fs;
        for (ch, row) in rec.data.iter_mut().enumerate() {
            let [x, y, z] = pos[ch];
            for (t, v) in row.iter_mut().enumerate() {
                let (s, tau) = (t as f64 / fs, std::f64::consts::TAU);
                let wobble = ((t * 7919 + ch * 104_729) % 1000) as f64 / 1000.0 - 0.5;
                *v = (10.0 * (tau * 10.0 * s).sin() * (0.5 + z)
                    + 6.0 * (tau * 6.0 * s + 1.0).sin() * x
                    + 4.0 * (tau * 3.3 * s).cos() * (x * y + 0.5 * z * z)
                    + 3.0 * (tau * 21.0 * s).sin() * y
                    + wobble) as f32;
            }
        }
        eeglens_io::write_edf(&r.path, &rec, &eeglens_io::EdfWriteOptions::default()).expect("write");
    }
    let store = d.join("e.safetensors");
    let args = ["prepare", s(&root), "--label", "sex", "--out", s(&store), "--preset", "paper"];
    let out = eeglens(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout.matches("\ncleaned  sub-").count(), 6, "{stdout}");
    let st = eeglens_data::store::EpochStore::open(&store).expect("open");
    let set = &st.meta().settings;
    assert_eq!(set["preset"], "paper");
    assert!(set["filter"].as_str().expect("filter").starts_with("eeglab-fir"), "{set}");
    assert_eq!(set["band"], serde_json::json!([0.25, 25.0]));
    assert_eq!(set["rate"], 128.0);
    assert_eq!(set["reference"]["channels"], serde_json::json!(["E57", "E100"]));
    assert_eq!(set["eyes_closed_window"], serde_json::json!([3.0, 37.0]));
    assert_eq!(set["channels"], "hbn24");
    assert_eq!(set["clean"]["min_correlation"], 0.7);
    let steps: Vec<&str> =
        set["steps"].as_array().expect("steps").iter().map(|v| v.as_str().expect("a step")).collect();
    assert_eq!(steps.len(), 4, "{steps:?}");
    assert!(steps[0].contains("E57,E100") && steps[1].contains("EEGLAB") && steps[2].starts_with("resample"));
    assert!(steps[3].starts_with("bad channels of the full montage"), "{steps:?}");
    for r in set["outcome"]["recordings"].as_array().expect("recordings") {
        assert!(r["clean"]["interpolated"].is_array(), "{r}");
    }
    let out = eeglens(&[&args[..], &["--force", "--rate", "250"]].concat());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("cannot be used with"), "{err}");
}

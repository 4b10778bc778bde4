use super::events::eyes_closed_intervals;
use super::recording::normalise;
use super::*;
use crate::store::EpochStore;
use crate::synth::{write_bids, Eyes, SynthConfig, SynthFormat};
use eeglens_io::{montage, Annotation};

fn tmp(name: &str) -> crate::scratch::Scratch {
    let d = std::env::temp_dir().join(format!("eeglens-prepare-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    crate::scratch::Scratch(d)
}

fn synth(dir: &Path, n: usize, size: f64, seed: u64) -> SynthConfig {
    let mut c = SynthConfig::hbn24();
    c.n_subjects = n;
    c.seed = seed;
    c.effect.size = size;
    c.blocks = vec![(Eyes::Open, 6.0), (Eyes::Closed, 24.0), (Eyes::Open, 6.0), (Eyes::Closed, 24.0)];
    write_bids(&c, dir, SynthFormat::Edf, &|| {}).expect("synth");
    c
}

#[test]
fn synthetic_dataset_prepares_with_defaults() {
    let d = tmp("defaults");
    let root = d.join("bids");
    let c = synth(&root, 8, 1.0, 3);
    let out = d.join("e.safetensors");
    let s = prepare(&root, &PrepareConfig::new("sex"), &out, &|_| {}).expect("prepare");
    // 48 s of eyes closed per subject at 2 s per window, minus rejections.
    let store = EpochStore::open(&out).expect("open");
    // The planted effect travels with the windows.
    let planted = &store.meta().settings["planted"];
    assert_eq!(planted["band"], serde_json::json!([c.effect.band.0, c.effect.band.1]), "{planted}");
    assert_eq!(planted["channels"], serde_json::json!(c.effect.channels), "{planted}");
    assert_eq!(store.n_channels(), 24);
    assert_eq!(store.n_samples(), 256);
    assert_eq!(store.meta().classes, vec!["F", "M"]);
    assert_eq!(store.meta().fs, 128.0);
    assert_eq!(s.n_subjects, 8);
    assert_eq!(s.n_windows(), store.len());
    for r in &s.recordings {
        match &r.outcome {
            Outcome::Kept { windows, rejected, eyes_closed_events, seconds_used } => {
                assert!(*eyes_closed_events);
                assert_eq!(*seconds_used, 48.0);
                assert_eq!(windows + rejected, 24, "{}", r.subject);
            }
            Outcome::Skipped(why) => panic!("{} skipped: {why}", r.subject),
        }
    }
    // No subject in two splits, every split used.
    let mut seen: BTreeMap<u32, Split> = BTreeMap::new();
    for (i, &sub) in store.subjects().iter().enumerate() {
        let sp = store.splits()[i];
        assert_eq!(*seen.entry(sub).or_insert(sp), sp, "subject {sub} in two splits");
    }
    for sp in Split::ALL {
        assert!(!store.indices(sp).is_empty(), "{sp:?} is empty");
    }
    // Per-recording normalisation: unit scale overall.
    let set = store.to_set();
    let ms = set.x.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / set.x.len() as f64;
    assert!((ms - 1.0).abs() < 0.05, "mean square {ms}");
    let _ = std::fs::remove_dir_all(&d);
}

/// log(mean theta/total power of class M / of class F) per channel.
fn theta_contrast(store: &EpochStore) -> Vec<f64> {
    let welch = eeglens_dsp::Welch::new(128.0, eeglens_dsp::WelchConfig::default()).expect("welch");
    let (c, t) = (store.n_channels(), store.n_samples());
    let mut acc = vec![[0.0f64; 2]; c];
    let mut counts = [0usize; 2];
    let mut w = vec![0.0f32; c * t];
    for i in 0..store.len() {
        store.copy_window(i, &mut w);
        let y = store.labels()[i] as usize;
        counts[y] += 1;
        for ch in 0..c {
            let psd = welch.psd(&w[ch * t..(ch + 1) * t]).expect("psd");
            let theta = eeglens_dsp::integrate_band(&psd, 4.0, 8.0).expect("band");
            let total = eeglens_dsp::integrate_band(&psd, 1.0, 30.0).expect("band");
            acc[ch][y] += theta / total;
        }
    }
    acc.iter().map(|a| ((a[1] / counts[1] as f64) / (a[0] / counts[0] as f64)).ln()).collect()
}

/// The acceptance check: the planted effect is in the prepared data —
/// class-mean theta power differs at the planted channels and not elsewhere —
/// and it is absent at effect size 0.
#[test]
fn planted_effect_survives_preparation_and_null_has_none() {
    let d = tmp("effect");
    let names: Vec<&str> = montage::HBN24.to_vec();
    let at = |n: &str| names.iter().position(|x| *x == n).expect("channel");
    for (size, tag) in [(1.0, "effect"), (0.0, "null")] {
        let root = d.join(tag);
        synth(&root, 16, size, 11);
        let out = d.join(format!("{tag}.safetensors"));
        prepare(&root, &PrepareConfig::new("sex"), &out, &|_| {}).expect("prepare");
        let store = EpochStore::open(&out).expect("open");
        let k = theta_contrast(&store);
        let planted: f64 = ["Fz", "FCz", "Cz"].iter().map(|n| k[at(n)]).sum::<f64>() / 3.0;
        let far: f64 = ["O1", "T5", "T6"].iter().map(|n| k[at(n)]).sum::<f64>() / 3.0;
        if size > 0.0 {
            assert!(planted > 0.2, "planted contrast {planted}");
            assert!(far.abs() < 0.6 * planted, "far contrast {far} vs planted {planted}");
        } else {
            assert!(planted.abs() < 0.12, "null planted contrast {planted}");
        }
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_missing_label_column_names_the_columns_that_exist() {
    let d = tmp("nolabel");
    let root = d.join("bids");
    synth(&root, 2, 0.0, 1);
    let e = prepare(&root, &PrepareConfig::new("gender"), &d.join("e.safetensors"), &|_| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("no column `gender`") && e.contains("participant_id, sex, age"), "{e}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn an_unwritable_output_fails_before_any_work() {
    let d = tmp("unwritable");
    let root = d.join("bids");
    synth(&root, 2, 0.0, 1);
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let out = d.join("no-such-dir").join("e.safetensors");
    let e = prepare(&root, &PrepareConfig::new("sex"), &out, &|_| {
        calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    })
    .unwrap_err()
    .to_string();
    assert!(e.contains("no-such-dir"), "{e}");
    assert_eq!(calls.into_inner(), 0);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn unlabelled_subjects_fail_or_are_skipped_with_a_report() {
    let d = tmp("unlabelled");
    let root = d.join("bids");
    synth(&root, 8, 0.0, 2);
    let p = root.join("participants.tsv");
    let text = std::fs::read_to_string(&p).expect("read");
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines[2] = lines[2].replacen("\tF\t", "\tn/a\t", 1).replacen("\tM\t", "\tn/a\t", 1);
    std::fs::write(&p, lines.join("\n") + "\n").expect("write");
    let out = d.join("e.safetensors");
    let e = prepare(&root, &PrepareConfig::new("sex"), &out, &|_| {}).unwrap_err().to_string();
    assert!(e.contains("sub-002") && e.contains("--skip-unlabelled"), "{e}");
    let mut cfg = PrepareConfig::new("sex");
    cfg.skip_unlabelled = true;
    let s = prepare(&root, &cfg, &out, &|_| {}).expect("prepare");
    let skipped: Vec<_> = s.recordings.iter().filter(|r| matches!(r.outcome, Outcome::Skipped(_))).collect();
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0].subject, "002");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn an_unreadable_recording_is_skipped_or_fails_with_strict() {
    let d = tmp("broken");
    let root = d.join("bids");
    let c = synth(&root, 8, 0.0, 4);
    let f = root.join("sub-003/eeg/sub-003_task-RestingState_eeg.edf");
    let bytes = std::fs::read(&f).expect("read");
    std::fs::write(&f, &bytes[..bytes.len() / 2]).expect("truncate");
    let out = d.join("e.safetensors");
    let s = prepare(&root, &PrepareConfig::new("sex"), &out, &|_| {}).expect("prepare");
    let r = s.recordings.iter().find(|r| r.subject == "003").expect("report");
    match &r.outcome {
        Outcome::Skipped(why) => assert!(why.contains("sub-003_task-RestingState_eeg.edf"), "{why}"),
        o => panic!("not skipped: {o:?}"),
    }
    assert_eq!(s.n_subjects, c.n_subjects - 1);
    let mut strict = PrepareConfig::new("sex");
    strict.strict = true;
    assert!(prepare(&root, &strict, &out, &|_| {}).is_err());
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn eyes_markers_with_and_without_durations() {
    let ev = |on: f64, dur: Option<f64>, d: &str| Annotation {
        onset_s: on,
        duration_s: dur,
        description: d.into(),
    };
    let with = [ev(0.0, Some(20.0), "eyes_open"), ev(20.0, Some(40.0), "eyes_closed")];
    assert_eq!(eyes_closed_intervals(&with, 100.0), Some(vec![(20.0, 60.0)]));
    let markers = [
        ev(5.0, None, "instructed_toCloseEyes"),
        ev(45.0, None, "instructed_toOpenEyes"),
        ev(60.0, None, "EC"),
    ];
    assert_eq!(eyes_closed_intervals(&markers, 80.0), Some(vec![(5.0, 45.0), (60.0, 80.0)]));
    assert_eq!(eyes_closed_intervals(&[ev(1.0, None, "boundary")], 10.0), None);
}

/// A dataset shaped like the Healthy Brain Network's resting state: electrodes named by their
/// EGI HydroCel-129 labels (E22, ..., Cz) at the net's positions, and events.tsv files with HBN's
/// `value`s: `break cnt` at the start, `resting_start`, voice cues without durations, `9999`
/// at the end. Closed blocks of `closed_s` seconds. With `in_file`, the events are the
/// recordings' own annotations and there is no events.tsv.
fn synth_hbn_shaped(dir: &Path, n: usize, size: f64, seed: u64, closed_s: f64, in_file: bool) {
    let names: Vec<String> = montage::HBN24_EGI.iter().map(|s| s.to_string()).collect();
    let positions = names
        .iter()
        .map(|n| montage::Montage::EgiHydroCel129.position(n).expect("a HydroCel-129 electrode").xyz)
        .collect();
    let mut c = SynthConfig::new(names, positions);
    c.effect.channels = ["Fz", "FCz", "Cz", "FC3", "FC4"]
        .iter()
        .map(|n| montage::egi_for(n).expect("an HBN24 channel").to_string())
        .collect();
    c.n_subjects = n;
    c.seed = seed;
    c.effect.size = size;
    c.blocks = vec![(Eyes::Open, 6.0), (Eyes::Closed, closed_s), (Eyes::Open, 6.0), (Eyes::Closed, closed_s)];
    write_bids(&c, dir, SynthFormat::Edf, &|| {}).expect("synth");
    let mut events = vec![(0.0, "break cnt"), (0.002, "resting_start")];
    let mut t = 0.0;
    for (eyes, len) in &c.blocks {
        events
            .push((t, if *eyes == Eyes::Open { "instructed_toOpenEyes" } else { "instructed_toCloseEyes" }));
        t += len;
    }
    events.push((t, "9999"));
    let ds = bids::scan(dir).expect("scan");
    for r in &ds.recordings {
        let tsv_path = r.events_tsv.as_ref().expect("events.tsv");
        if in_file {
            // No events.tsv: the events are the recording's own annotations.
            let mut rec = eeglens_io::read(&r.path).expect("read");
            rec.annotations = events
                .iter()
                .map(|&(t, d)| Annotation { onset_s: t, duration_s: None, description: d.into() })
                .collect();
            eeglens_io::write_edf(&r.path, &rec, &eeglens_io::EdfWriteOptions::edf_plus()).expect("write");
            std::fs::remove_file(tsv_path).expect("remove events.tsv");
            continue;
        }
        let mut tsv = String::from("onset\tduration\tsample\tvalue\tevent_code\n");
        for (t, v) in &events {
            let code = match *v {
                "resting_start" => "90",
                "instructed_toOpenEyes" => "20",
                "instructed_toCloseEyes" => "30",
                other => other,
            };
            tsv.push_str(&format!("{t:.3}\tn/a\t{}\t{v}\t{code}\n", (t * c.fs) as usize));
        }
        std::fs::write(tsv_path, tsv).expect("write events");
    }
}

/// `--eyes-closed-window 3-37` on HBN-shaped data: 34 s of each 40 s block, the setting in the
/// store, and the planted effect kept (absent at size 0).
#[test]
fn hbn_shaped_eyes_closed_window_keeps_the_planted_effect() {
    let d = tmp("hbn-window");
    let names: Vec<&str> = montage::HBN24.to_vec();
    let at = |n: &str| names.iter().position(|x| *x == n).expect("channel");
    let mut contrasts = Vec::new();
    for (size, tag) in [(1.0, "effect"), (0.0, "null")] {
        let root = d.join(tag);
        synth_hbn_shaped(&root, 16, size, 11, 40.0, false);
        let out = d.join(format!("{tag}.safetensors"));
        let mut cfg = PrepareConfig::new("sex");
        cfg.eyes_closed_window = Some((3.0, 37.0));
        let s = prepare(&root, &cfg, &out, &|_| {}).expect("prepare");
        for r in &s.recordings {
            match &r.outcome {
                Outcome::Kept { seconds_used, eyes_closed_events, windows, rejected } => {
                    assert!(*eyes_closed_events);
                    assert!((seconds_used - 68.0).abs() < 1e-9, "{seconds_used}");
                    assert_eq!(windows + rejected, 34, "{}", r.subject);
                    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
                }
                Outcome::Skipped(why) => panic!("{} skipped: {why}", r.subject),
            }
        }
        let store = EpochStore::open(&out).expect("open");
        assert_eq!(store.meta().settings["eyes_closed_window"], serde_json::json!([3.0, 37.0]));
        assert_eq!(store.meta().channels, names);
        let k = theta_contrast(&store);
        let planted: f64 = ["Fz", "FCz", "Cz"].iter().map(|n| k[at(n)]).sum::<f64>() / 3.0;
        let far: f64 = ["O1", "T5", "T6"].iter().map(|n| k[at(n)]).sum::<f64>() / 3.0;
        contrasts.push((planted, far));
    }
    // The planted channels differ by far more than the null data's sampling noise (16
    // subjects) and than the channels far from the effect.
    let ((planted, far), (null, _)) = (contrasts[0], contrasts[1]);
    assert!(planted > 0.2, "planted contrast {planted}");
    assert!(far.abs() < 0.6 * planted, "far contrast {far} vs planted {planted}");
    assert!(null.abs() < 0.5 * planted, "null planted contrast {null} vs planted {planted}");
    let _ = std::fs::remove_dir_all(&d);
}

/// Blocks shorter than the window are used as far as they go, and each recording says so.
#[test]
fn eyes_closed_window_past_a_block_is_cut_and_reported() {
    let d = tmp("window-cut");
    let root = d.join("bids");
    synth_hbn_shaped(&root, 8, 0.0, 5, 24.0, false);
    let mut cfg = PrepareConfig::new("sex");
    cfg.eyes_closed_window = Some((3.0, 37.0));
    let s = prepare(&root, &cfg, &d.join("e.safetensors"), &|_| {}).expect("prepare");
    for r in &s.recordings {
        let Outcome::Kept { seconds_used, .. } = r.outcome else { panic!("{} skipped", r.subject) };
        // Each 24 s block gives 3-24 s: the next cue cuts the first, the final 9999 the second.
        assert!((seconds_used - 42.0).abs() < 1e-9, "{seconds_used}");
        assert_eq!(r.warnings.len(), 2, "{:?}", r.warnings);
        assert!(
            r.warnings[0].contains("cut short at 30.00 s") && r.warnings[0].contains("instructed_toOpenEyes")
        );
        assert!(r.warnings[1].contains("cut short at 60.00 s") && r.warnings[1].contains("`9999`"));
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn bad_eyes_closed_windows_are_refused() {
    let d = tmp("window-settings");
    for (w, eyes, want) in [
        ((37.0, 3.0), true, "0 <= FROM < TO"),
        ((-1.0, 37.0), true, "0 <= FROM < TO"),
        ((f64::NAN, 37.0), true, "0 <= FROM < TO"),
        ((3.0, 4.0), true, "shorter than one --segment-s"),
        ((3.0, 37.0), false, "--all-periods"),
    ] {
        let mut c = PrepareConfig::new("sex");
        c.eyes_closed_window = Some(w);
        c.eyes_closed = eyes;
        let e = prepare(&d, &c, &d.join("e.safetensors"), &|_| {}).unwrap_err().to_string();
        assert!(e.contains("--eyes-closed-window") && e.contains(want), "{w:?}: {e}");
    }
    let _ = std::fs::remove_dir_all(&d);
}

/// Without an events.tsv the recording's own events are read (for an EEGLAB set, `EEG.event`).
#[test]
fn without_events_tsv_the_files_own_events_give_the_blocks() {
    let d = tmp("own-events");
    let root = d.join("bids");
    synth_hbn_shaped(&root, 8, 0.0, 7, 40.0, true);
    let mut cfg = PrepareConfig::new("sex");
    cfg.eyes_closed_window = Some((3.0, 37.0));
    let s = prepare(&root, &cfg, &d.join("e.safetensors"), &|_| {}).expect("prepare");
    for r in &s.recordings {
        let Outcome::Kept { seconds_used, eyes_closed_events, .. } = r.outcome else {
            panic!("{} skipped", r.subject)
        };
        assert!(eyes_closed_events);
        assert!((seconds_used - 68.0).abs() < 1e-6, "{seconds_used}");
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn normalisation_modes() {
    // Two windows, two channels, four samples.
    let base: Vec<f32> = vec![1., 2., 3., 4., 10., 10., 10., 14., 2., 4., 6., 8., 0., 0., 0., 4.];
    let mut x = base.clone();
    normalise(&mut x, 2, 2, 4, Normalise::None);
    assert_eq!(x, base);
    let mut x = base.clone();
    normalise(&mut x, 2, 2, 4, Normalise::Segment);
    for w in x.chunks(8) {
        for ch in w.chunks(4) {
            assert!(ch.iter().sum::<f32>().abs() < 1e-5);
        }
        let ms: f32 = w.iter().map(|v| v * v).sum::<f32>() / 8.0;
        assert!((ms - 1.0).abs() < 1e-5);
    }
    let mut x = base;
    normalise(&mut x, 2, 2, 4, Normalise::Recording);
    let ms: f32 = x.iter().map(|v| v * v).sum::<f32>() / 16.0;
    assert!((ms - 1.0).abs() < 1e-5);
}

#[test]
fn bad_settings_are_refused() {
    let d = tmp("settings");
    let mut c = PrepareConfig::new("sex");
    c.band = Some((1.0, 80.0));
    let e = prepare(&d, &c, &d.join("e.safetensors"), &|_| {}).unwrap_err().to_string();
    assert!(e.contains("--band"), "{e}");
    assert_eq!(ChannelSet::parse("Fz, Cz"), ChannelSet::List(vec!["Fz".into(), "Cz".into()]));
    assert_eq!(Normalise::parse("per-segment"), Some(Normalise::Segment));
    let _ = std::fs::remove_dir_all(&d);
}

/// Rewrites a recording of the synthetic dataset as BrainVision float32 (`.vhdr`, `.eeg`), with
/// `edit(channel, sample, value)` applied to every sample, and removes its EDF.
fn as_brainvision(edf: &Path, edit: impl Fn(usize, usize, f32) -> f32) {
    as_brainvision_cut(edf, usize::MAX, edit)
}

/// As [`as_brainvision`], keeping only the first `n_keep` samples.
fn as_brainvision_cut(edf: &Path, n_keep: usize, edit: impl Fn(usize, usize, f32) -> f32) {
    as_brainvision_every(edf, n_keep, 1, edit)
}

/// As [`as_brainvision_cut`], keeping every `step`-th sample (the rate divided by `step`).
fn as_brainvision_every(edf: &Path, n_keep: usize, step: usize, edit: impl Fn(usize, usize, f32) -> f32) {
    let rec = eeglens_io::read(edf).expect("read");
    let stem = edf.file_stem().expect("stem").to_string_lossy().into_owned();
    let dir = edf.parent().expect("dir");
    let mut vhdr = format!(
        "Brain Vision Data Exchange Header File Version 1.0\n[Common Infos]\nDataFile={stem}.eeg\n\
         DataFormat=BINARY\nDataOrientation=MULTIPLEXED\nNumberOfChannels={}\nSamplingInterval={}\n\
         [Binary Infos]\nBinaryFormat=IEEE_FLOAT_32\n[Channel Infos]\n",
        rec.channels.len(),
        1e6 * step as f64 / rec.channels[0].fs
    );
    for (k, ch) in rec.channels.iter().enumerate() {
        vhdr += &format!("Ch{}={},,1,µV\n", k + 1, ch.name);
    }
    let n = rec.data[0].len().min(n_keep);
    let mut eeg = Vec::with_capacity(n * rec.channels.len() * 4);
    for t in (0..n).step_by(step) {
        for (k, ch) in rec.data.iter().enumerate() {
            eeg.extend(edit(k, t, ch[t]).to_le_bytes());
        }
    }
    std::fs::write(dir.join(format!("{stem}.vhdr")), vhdr).expect("write vhdr");
    std::fs::write(dir.join(format!("{stem}.eeg")), eeg).expect("write eeg");
    std::fs::remove_file(edf).expect("remove edf");
}

fn skipped_reason(s: &PrepareSummary, subject: &str) -> String {
    let r = s.recordings.iter().find(|r| r.subject == subject).expect("report");
    match &r.outcome {
        Outcome::Skipped(why) => why.clone(),
        o => panic!("sub-{subject} not skipped: {o:?}"),
    }
}

/// An EDF header whose record size times record count wraps 64 bits made the reader allocate
/// petabytes: the process aborted and no recording was prepared.
#[test]
fn a_header_whose_sizes_overflow_skips_its_recording_only() {
    let d = tmp("overflow");
    let root = d.join("bids");
    let c = synth(&root, 8, 0.0, 4);
    let f = root.join("sub-002/eeg/sub-002_task-RestingState_eeg.edf");
    // A copy of the workspace's fixtures/broken/record_size_overflow.edf, so the crate's package tests it too.
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/record_size_overflow.edf");
    std::fs::copy(fixture, &f).expect("copy the fixture");
    let out = d.join("e.safetensors");
    let s = prepare(&root, &PrepareConfig::new("sex"), &out, &|_| {}).expect("prepare");
    let why = skipped_reason(&s, "002");
    assert!(
        why.contains("sub-002_task-RestingState_eeg.edf") && why.contains("number of data records"),
        "{why}"
    );
    assert_eq!(s.n_subjects, c.n_subjects - 1);
    assert_eq!(EpochStore::open(&out).expect("open").meta().subjects.len(), c.n_subjects - 1);
    let _ = std::fs::remove_dir_all(&d);
}

/// A NaN sample skips the recording (the filters would spread it over the whole channel);
/// samples so large that filtering leaves the f32 range skip it too, instead of failing the
/// whole preparation when the store is written.
#[test]
fn non_finite_recordings_are_skipped_and_never_written() {
    let d = tmp("nonfinite");
    let root = d.join("bids");
    let c = synth(&root, 10, 0.0, 5);
    let edf = |s: &str| root.join(format!("sub-{s}/eeg/sub-{s}_task-RestingState_eeg.edf"));
    as_brainvision(&edf("002"), |k, t, v| if k == 3 && t == 5000 { f32::NAN } else { v });
    // 10 Hz at 0.9 f32::MAX, in opposite phase on channel 1 and the others: finite samples, but
    // the common average reference takes channel 1 to about 1.7 f32::MAX.
    as_brainvision(&edf("004"), |k, t, _| {
        let wave = 0.9 * f32::MAX * (2.0 * std::f32::consts::PI * 10.0 * t as f32 / 256.0).sin();
        if k == 0 {
            wave
        } else {
            -wave
        }
    });
    let out = d.join("e.safetensors");
    let mut cfg = PrepareConfig::new("sex");
    cfg.reject_uv = None;
    let s = prepare(&root, &cfg, &out, &|_| {}).expect("prepare");
    let why = skipped_reason(&s, "002");
    assert!(why.contains("non-finite sample"), "{why}");
    let why = skipped_reason(&s, "004");
    assert!(why.contains("becomes non-finite after resampling, filtering and re-referencing"), "{why}");
    assert_eq!(s.n_subjects, c.n_subjects - 2);
    let store = EpochStore::open(&out).expect("the store is written and opens");
    assert!(store.to_set().x.iter().all(|v| v.is_finite()));
    let _ = std::fs::remove_dir_all(&d);
}

/// A recording that yields no window (too short, or every window over the amplitude threshold)
/// was counted as kept: it is skipped with the reason, `--strict` fails on it, the store's
/// metadata says so, and a listed participant without a recording is named.
#[test]
fn recordings_without_windows_are_skipped_with_the_reason() {
    let d = tmp("nowindow");
    let root = d.join("bids");
    synth(&root, 10, 0.0, 6);
    let edf = |s: &str| root.join(format!("sub-{s}/eeg/sub-{s}_task-RestingState_eeg.edf"));
    as_brainvision_cut(&edf("002"), 150, |_, _, v| v);
    as_brainvision(&edf("005"), |_, _, v| v * 1e4);
    let p = root.join("participants.tsv");
    let text = std::fs::read_to_string(&p).expect("read");
    std::fs::write(&p, format!("{text}sub-099\tF\t10\n")).expect("write");
    let out = d.join("e.safetensors");
    let s = prepare(&root, &PrepareConfig::new("sex"), &out, &|_| {}).expect("prepare");
    assert!(
        skipped_reason(&s, "002").contains("shorter than one 2 s window"),
        "{}",
        skipped_reason(&s, "002")
    );
    let why = skipped_reason(&s, "005");
    assert!(why.contains("all 24 windows exceed the amplitude threshold of 250"), "{why}");
    assert_eq!(s.n_used(), 8);
    assert_eq!(s.n_subjects, 8);
    assert_eq!(s.participants_without_recording, vec!["sub-099".to_string()]);
    let meta = EpochStore::open(&out).expect("open").meta().settings["outcome"].clone();
    assert_eq!(meta["used"], 8);
    assert_eq!(meta["skipped"], 2);
    assert_eq!(meta["participants_without_recording"], serde_json::json!(["sub-099"]));
    let statuses: Vec<&str> = meta["recordings"]
        .as_array()
        .expect("list")
        .iter()
        .map(|r| r["status"].as_str().expect("s"))
        .collect();
    let skipped_at: Vec<usize> = (0..10).filter(|&i| statuses[i] == "skipped").collect();
    assert_eq!(skipped_at, [1, 4], "{statuses:?}");

    let mut strict = PrepareConfig::new("sex");
    strict.strict = true;
    match prepare(&root, &strict, &out, &|_| {}).unwrap_err() {
        DataError::Prepare { message, partial } => {
            assert!(
                message.contains("sub-002") && message.contains("--strict") && message.contains("2 of 10"),
                "{message}"
            );
            assert_eq!(partial.recordings.len(), 10);
        }
        e => panic!("{e}"),
    }
    let _ = std::fs::remove_dir_all(&d);
}

/// When every recording was skipped, the error carries each one's reason.
#[test]
fn when_every_recording_is_skipped_the_reasons_are_given() {
    let d = tmp("allskipped");
    let root = d.join("bids");
    synth(&root, 6, 0.0, 7);
    let mut cfg = PrepareConfig::new("sex");
    cfg.reject_uv = Some(0.001);
    match prepare(&root, &cfg, &d.join("e.safetensors"), &|_| {}).unwrap_err() {
        DataError::Prepare { message, partial } => {
            assert!(message.contains("no recording could be prepared, all 6 were skipped"), "{message}");
            assert!(message.contains("sub-001: no window left: all 24 windows exceed"), "{message}");
            assert_eq!(partial.skipped().count(), 6);
        }
        e => panic!("{e}"),
    }
    let _ = std::fs::remove_dir_all(&d);
}

/// A one-subject class (a typo such as `X` for `M`) became a class with no test or validation
/// subject: it is refused before any recording is read, naming the class and the subject.
#[test]
fn a_class_too_small_for_every_split_is_refused_before_any_work() {
    let d = tmp("tinyclass");
    let root = d.join("bids");
    synth(&root, 8, 0.0, 8);
    let p = root.join("participants.tsv");
    let text = std::fs::read_to_string(&p).expect("read");
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines[3] = lines[3].replacen("\tF\t", "\tX\t", 1).replacen("\tM\t", "\tX\t", 1);
    std::fs::write(&p, lines.join("\n") + "\n").expect("write");
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let e = prepare(&root, &PrepareConfig::new("sex"), &d.join("e.safetensors"), &|_| {
        calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    })
    .unwrap_err()
    .to_string();
    assert!(e.contains("participants.tsv") && e.contains("class `X`") && e.contains("sub-003"), "{e}");
    assert_eq!(calls.into_inner(), 0);
    let _ = std::fs::remove_dir_all(&d);
}

/// A recording without eyes markers was used whole while the others gave eyes-closed data only,
/// shown only in the JSON: it is a warning and a count, and `skip_unmarked` skips it with the reason.
#[test]
fn recordings_without_eyes_markers_are_counted_or_skipped() {
    let d = tmp("unmarked");
    let root = d.join("bids");
    synth(&root, 10, 0.0, 9);
    let events = root.join("sub-003/eeg/sub-003_task-RestingState_events.tsv");
    std::fs::write(&events, "onset\tduration\ttrial_type\n1.000\t0.000\tboundary\n").expect("write");
    let out = d.join("e.safetensors");
    let s = prepare(&root, &PrepareConfig::new("sex"), &out, &|_| {}).expect("prepare");
    assert_eq!(s.unmarked.len(), 1);
    assert!(s.unmarked[0].ends_with("sub-003_task-RestingState_eeg.edf"));
    let w = s.warnings.iter().find(|w| w.contains("eyes-closed markers")).expect("a warning");
    assert!(
        w.contains("1 of 10 used recordings") && w.contains("sub-003") && w.contains("--skip-unmarked"),
        "{w}"
    );
    let meta = EpochStore::open(&out).expect("open").meta().settings["outcome"].clone();
    assert_eq!(meta["used_whole_without_eyes_markers"], 1);

    let mut cfg = PrepareConfig::new("sex");
    cfg.skip_unmarked = true;
    let s = prepare(&root, &cfg, &out, &|_| {}).expect("prepare");
    assert!(skipped_reason(&s, "003").contains("no event marks eyes closed or open"));
    assert!(s.unmarked.is_empty() && !s.warnings.iter().any(|w| w.contains("eyes-closed markers")));
    assert_eq!(s.n_used(), 9);
    // With --all-periods every recording is used whole on purpose: no warning.
    let mut all = PrepareConfig::new("sex");
    all.eyes_closed = false;
    let s = prepare(&root, &all, &out, &|_| {}).expect("prepare");
    assert!(s.unmarked.is_empty() && !s.warnings.iter().any(|w| w.contains("eyes-closed markers")));
    let _ = std::fs::remove_dir_all(&d);
}

/// A 2 Hz recording was upsampled to 128 Hz and band-passed to 25 Hz without a word: a rate
/// below twice the band's upper edge is skipped with the reason, and any upsampling is a warning.
#[test]
fn rates_that_cannot_hold_the_band_are_skipped_and_upsampling_is_said() {
    let d = tmp("rates");
    let root = d.join("bids");
    synth(&root, 10, 0.0, 10);
    let edf = |s: &str| root.join(format!("sub-{s}/eeg/sub-{s}_task-RestingState_eeg.edf"));
    let fs = eeglens_io::read(&edf("001")).expect("read").channels[0].fs as usize;
    as_brainvision_every(&edf("002"), usize::MAX, fs / 64, |_, _, v| v);
    as_brainvision_every(&edf("004"), usize::MAX, fs / 2, |_, _, v| v);
    let out = d.join("e.safetensors");
    let s = prepare(&root, &PrepareConfig::new("sex"), &out, &|_| {}).expect("prepare");
    let why = skipped_reason(&s, "004");
    assert!(why.contains("sampling rate 2 Hz cannot hold the band 0.25-25 Hz"), "{why}");
    assert_eq!(s.upsampled.len(), 1);
    assert!(s.upsampled[0].0.ends_with("sub-002_task-RestingState_eeg.vhdr") && s.upsampled[0].1 == 64.0);
    let w = s.warnings.iter().find(|w| w.contains("upsampled")).expect("a warning");
    assert!(w.contains("1 recording(s) sampled below --rate 128 Hz") && w.contains("64 Hz"), "{w}");
    // Without a band, the 2 Hz recording has nothing to miss, but its upsampling is said.
    let mut none = PrepareConfig::new("sex");
    none.band = None;
    let s = prepare(&root, &none, &out, &|_| {}).expect("prepare");
    assert_eq!(s.upsampled.len(), 2);
    let _ = std::fs::remove_dir_all(&d);
}

/// Subjects left out by class balancing were counted as used with no window in the store; a
/// label read through `--label` spelt in another case than the column found no value; a subject
/// not in participants.tsv was said to have no value.
#[test]
fn balancing_leftovers_and_unlisted_subjects_end_as_skipped_with_the_reason() {
    let d = tmp("balance");
    let root = d.join("bids");
    synth(&root, 10, 0.0, 12);
    let p = root.join("participants.tsv");
    let text = std::fs::read_to_string(&p).expect("read");
    // Two F become M (7 M, 3 F after removing sub-010's row), one subject is not listed at all.
    let mut m_to_f = 0;
    let lines: Vec<String> = text
        .lines()
        .filter(|l| !l.starts_with("sub-010"))
        .map(|l| {
            if m_to_f < 2 && l.contains("\tF\t") && !l.starts_with("participant_id") {
                m_to_f += 1;
                l.replacen("\tF\t", "\tM\t", 1)
            } else {
                l.to_string()
            }
        })
        .collect();
    std::fs::write(&p, lines.join("\n") + "\n").expect("write");
    let mut cfg = PrepareConfig::new("SEX");
    cfg.split.balance = true;
    cfg.skip_unlabelled = true;
    let out = d.join("e.safetensors");
    let s = prepare(&root, &cfg, &out, &|_| {}).expect("prepare");
    assert_eq!(skipped_reason(&s, "010"), "not listed in participants.tsv");
    let left: Vec<&str> = s
        .skipped()
        .filter(|(_, why)| why.starts_with("left out by --balance: class `M`"))
        .map(|(r, _)| r.subject.as_str())
        .collect();
    let n_f = s.recordings.iter().filter(|r| r.label.as_deref() == Some("F")).count();
    let n_m = s.recordings.iter().filter(|r| r.label.as_deref() == Some("M")).count();
    assert_eq!(left.len(), n_m - n_f, "{left:?}");
    assert_eq!(s.n_used(), 2 * n_f);
    assert_eq!(s.n_subjects, 2 * n_f);
    let _ = std::fs::remove_dir_all(&d);
}

/// Rewrites a synthetic EDF+ with channel `from` relabelled `to` (`to` already names another
/// channel, so the label is used twice).
fn relabel_edf(edf: &Path, from: &str, to: &str) {
    let mut rec = eeglens_io::read(edf).expect("read");
    assert!(rec.warnings.is_empty(), "{:?}", rec.warnings);
    let ch = rec.channels.iter_mut().find(|c| c.name == from).expect("channel to relabel");
    ch.name = to.to_string();
    eeglens_io::write_edf(edf, &rec, &eeglens_io::EdfWriteOptions::edf_plus()).expect("write");
}

/// The readers' warnings (here a duplicate channel label) never reached `prepare`'s user: each
/// now ends with its recording's outcome, in the summary and in the store, for a used recording
/// and for one skipped after it was read.
#[test]
fn reader_warnings_are_kept_with_each_recording_outcome() {
    let d = tmp("reader-warnings");
    let root = d.join("bids");
    synth(&root, 8, 0.0, 5);
    let edf = |s: &str| root.join(format!("sub-{s}/eeg/sub-{s}_task-RestingState_eeg.edf"));
    // A label spelt in another case names the same channel: still used, with a warning.
    let mut rec = eeglens_io::read(&edf("002")).expect("read");
    let cz = rec.channels.iter().position(|c| c.name == "Cz").expect("Cz");
    let mut extra = rec.channels[cz].clone();
    extra.name = "CZ".into();
    let samples = rec.data[cz].clone();
    rec.push_channel(extra, samples);
    eeglens_io::write_edf(&edf("002"), &rec, &eeglens_io::EdfWriteOptions::edf_plus()).expect("write");
    // O1 relabelled Cz: the label is used twice and O1 is missing, so the recording is skipped.
    relabel_edf(&edf("003"), "O1", "Cz");

    let out = d.join("e.safetensors");
    let s = prepare(&root, &PrepareConfig::new("sex"), &out, &|_| {}).expect("prepare");
    let report = |sub: &str| s.recordings.iter().find(|r| r.subject == sub).expect("report");
    let used = report("002");
    assert!(matches!(used.outcome, Outcome::Kept { .. }), "{:?}", used.outcome);
    assert_eq!(used.warnings.len(), 1, "each warning once, not once per read: {:?}", used.warnings);
    assert!(
        used.warnings[0].contains("duplicate channel label \"Cz\"") && used.warnings[0].contains("CZ"),
        "{:?}",
        used.warnings
    );
    assert!(skipped_reason(&s, "003").contains("channels not found: O1"));
    let skipped = report("003");
    assert_eq!(skipped.warnings.len(), 1, "{:?}", skipped.warnings);
    assert!(skipped.warnings[0].contains("duplicate channel label \"Cz\""), "{:?}", skipped.warnings);
    for r in s.recordings.iter().filter(|r| r.subject != "002" && r.subject != "003") {
        assert!(r.warnings.is_empty(), "sub-{}: {:?}", r.subject, r.warnings);
    }

    // The store's outcome and the summary's JSON carry them with the recording.
    let store = EpochStore::open(&out).expect("open");
    let recs = store.meta().settings["outcome"]["recordings"].as_array().expect("recordings").clone();
    assert_eq!(serde_json::Value::Array(recs.clone()), s.outcome_json()["recordings"]);
    for (sub, want) in [("002", &used.warnings), ("003", &skipped.warnings)] {
        let entry = recs.iter().find(|r| r["subject"] == format!("sub-{sub}")).expect("entry");
        assert_eq!(entry["warnings"], serde_json::json!(want), "sub-{sub}");
    }
    let entry = recs.iter().find(|r| r["subject"] == "sub-001").expect("entry");
    assert_eq!(entry["warnings"], serde_json::json!([]));
    let _ = std::fs::remove_dir_all(&d);
}

/// The windows of a store, `[N][C * T]`, in store order.
fn all_windows(store: &EpochStore) -> Vec<Vec<f32>> {
    let mut w = vec![0.0f32; store.n_channels() * store.n_samples()];
    (0..store.len())
        .map(|i| {
            store.copy_window(i, &mut w);
            w.clone()
        })
        .collect()
}

/// `--reference T3,T4` on a file that omits its reference Cz, with `--filter eeglab-fir`: the
/// reference is computed on the full montage with Cz restored, and the steps are recorded.
/// Checked through identities that hold after the linear filter and resampler: the two
/// reference channels sum to zero; referencing to the restored Cz changes nothing and leaves
/// Cz itself zero.
#[test]
fn a_channel_reference_restores_the_recording_reference_and_eeglab_fir_runs() {
    let d = tmp("channel-reference");
    let root = d.join("bids");
    let mut c = SynthConfig::hbn24();
    c.n_subjects = 8;
    c.seed = 11;
    c.blocks = vec![(Eyes::Closed, 12.0)];
    let cz = c.channels.iter().position(|n| n == "Cz").expect("Cz in HBN24");
    c.channels.remove(cz);
    c.positions.remove(cz);
    c.effect.channels.retain(|n| n != "Cz");
    write_bids(&c, &root, SynthFormat::Edf, &|| {}).expect("synth");

    let mut cfg = PrepareConfig::new("sex");
    cfg.channels = ChannelSet::List(vec!["T3".into(), "T4".into(), "Fz".into(), "Cz".into()]);
    cfg.normalise = Normalise::None;
    cfg.reject_uv = None;
    cfg.filter = BandFilter::EeglabFir;
    cfg.reference_channels = Some(vec!["T3".into(), "T4".into()]);
    let out = d.join("t3t4.safetensors");
    let s = prepare(&root, &cfg, &out, &|_| {}).expect("prepare");
    assert!(
        s.steps[0].starts_with("re-reference every EEG channel of the file to the mean of T3,T4"),
        "{:?}",
        s.steps
    );
    assert!(s.steps[1].contains("EEGLAB pop_eegfiltnew"), "{:?}", s.steps);
    assert!(s.steps.iter().all(|st| !st.contains("  ")), "{:?}", s.steps);
    let store = EpochStore::open(&out).expect("open");
    let settings = &store.meta().settings;
    assert_eq!(settings["reference"]["channels"], serde_json::json!(["T3", "T4"]));
    assert!(settings["filter"].as_str().expect("filter").starts_with("eeglab-fir"));
    assert_eq!(settings["steps"].as_array().expect("steps").len(), 3);
    let t = store.n_samples();
    let windows = all_windows(&store);
    let peak = windows.iter().flatten().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!(peak > 1.0, "the windows hold signal ({peak} µV)");
    for w in &windows {
        for k in 0..t {
            assert!((w[k] + w[t + k]).abs() <= 1e-4 * peak, "T3 + T4 = {} at sample {k}", w[k] + w[t + k]);
        }
    }

    // The restored Cz as the reference: as recorded, and Cz zero.
    cfg.reference_channels = Some(vec!["Cz".into()]);
    let out_cz = d.join("cz.safetensors");
    prepare(&root, &cfg, &out_cz, &|_| {}).expect("prepare");
    cfg.reference_channels = None;
    cfg.average_reference = false;
    cfg.channels = ChannelSet::List(vec!["T3".into(), "T4".into(), "Fz".into()]);
    let out_none = d.join("none.safetensors");
    prepare(&root, &cfg, &out_none, &|_| {}).expect("prepare");
    let with_cz = all_windows(&EpochStore::open(&out_cz).expect("open"));
    let as_recorded = all_windows(&EpochStore::open(&out_none).expect("open"));
    assert_eq!(with_cz.len(), as_recorded.len());
    for (a, b) in with_cz.iter().zip(&as_recorded) {
        assert!(a[3 * t..].iter().all(|v| *v == 0.0), "the restored Cz is zero");
        for (x, y) in a[..3 * t].iter().zip(b) {
            assert!((x - y).abs() <= 1e-4 * peak, "{x} vs {y}");
        }
    }

    // A reference channel the file lacks is named.
    cfg.reference_channels = Some(vec!["E57".into(), "E100".into()]);
    cfg.strict = true;
    let err = prepare(&root, &cfg, &d.join("missing.safetensors"), &|_| {}).expect_err("no E57");
    assert!(err.to_string().contains("reference channels not found: E57, E100"), "{err}");
    let _ = std::fs::remove_dir_all(&d);
}

/// `clean`: a channel made flat in one HBN-shaped recording is flagged, interpolated and
/// reported in the summary and the store's settings; the windows hold no flat channel.
#[test]
fn clean_flags_interpolates_and_reports_a_planted_flat_channel() {
    let d = tmp("clean");
    let root = d.join("bids");
    synth_hbn_shaped(&root, 8, 0.0, 5, 12.0, false);
    let ds = bids::scan(&root).expect("scan");
    let target = &ds.recordings[0];
    let flat_label = montage::egi_for("C3").expect("an HBN24 channel");
    // Every recording holds a smooth field (as the splines assume of a scalp), the target one
    // with C3 flat.
    for r in &ds.recordings {
        let rec = eeglens_io::read(&r.path).expect("read");
        let fs = rec.channels[0].fs;
        let pos: Vec<[f64; 3]> = rec
            .channels
            .iter()
            .map(|c| {
                montage::Montage::EgiHydroCel129.position(&c.name).expect("a HydroCel-129 electrode").xyz
            })
            .collect();
        let k = rec.channels.iter().position(|c| c.short_name() == flat_label).expect("C3 as E36");
        let planted = r.path == target.path;
        as_brainvision(&r.path, |ch, t, _| {
            if planted && ch == k {
                return 0.0;
            }
            let [x, y, z] = pos[ch];
            let (s, tau) = (t as f64 / fs, std::f64::consts::TAU);
            let wobble = ((t * 7919 + ch * 104_729) % 1000) as f64 / 1000.0 - 0.5;
            (10.0 * (tau * 10.0 * s).sin() * (0.5 + z)
                + 6.0 * (tau * 6.0 * s + 1.0).sin() * x
                + 4.0 * (tau * 3.3 * s).cos() * (x * y + 0.5 * z * z)
                + 3.0 * (tau * 21.0 * s).sin() * y
                + wobble) as f32
        });
    }
    let mut cfg = PrepareConfig::new("sex");
    cfg.clean = true;
    cfg.reject_uv = None;
    let out = d.join("clean.safetensors");
    let s = prepare(&root, &cfg, &out, &|_| {}).expect("prepare");
    assert!(s.steps.iter().any(|st| st.starts_with("bad channels of the full montage")), "{:?}", s.steps);
    let r = s.recordings.iter().find(|r| r.subject == target.subject).expect("the planted recording");
    assert!(matches!(r.outcome, Outcome::Kept { .. }), "{:?}", r.outcome);
    let c = r.clean.as_ref().expect("a clean report");
    assert_eq!(c.flat, vec![flat_label.to_string()], "{c:?}");
    assert!(c.interpolated.contains(&flat_label.to_string()), "{c:?}");
    assert!(s
        .recordings
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Kept { .. }))
        .all(|r| r.clean.is_some()));
    let store = EpochStore::open(&out).expect("open");
    let settings = &store.meta().settings;
    assert_eq!(settings["clean"]["min_correlation"], serde_json::json!(0.7));
    let recs = settings["outcome"]["recordings"].as_array().expect("recordings");
    let j = recs.iter().find(|j| j["subject"] == format!("sub-{}", target.subject)).expect("in the settings");
    assert_eq!(j["clean"]["flat"], serde_json::json!([flat_label]), "{j}");
    // The interpolated C3 carries signal in every window.
    let at = montage::HBN24.iter().position(|n| *n == "C3").expect("C3");
    let t = store.n_samples();
    for w in all_windows(&store) {
        assert!(w[at * t..(at + 1) * t].iter().any(|v| *v != 0.0));
    }
    let _ = std::fs::remove_dir_all(&d);
}

/// `prepare` as it was before the windows were spilled (the reference for the spilled path):
/// every recording's windows held in memory until the split is decided, then the whole set
/// written.
fn prepare_in_memory(root: &Path, cfg: &PrepareConfig, out: &Path) -> Result<PrepareSummary, DataError> {
    cfg.validate()?;
    let ds = scan(root)?;
    let plan = Plan::new(root, &ds, cfg)?;
    let (done, places) = process_all(&plan.todo, cfg, &|_| {}, None)?;
    assert!(places.iter().all(Option::is_none));
    let (summary, mut set) =
        plan.finish(done, cfg, cfg.steps(), cfg.settings_json(), crate::synth::planted(root), out)?;
    if cfg.numeric_target {
        let participants = participants_with_label(root, &ds, &cfg.label)?;
        target::attach(&mut set, participants, &cfg.label)?;
    }
    set.write(out)?;
    Ok(summary)
}

/// The names in directory `d`, sorted.
fn entries(d: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(d)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// The windows spilled to a temporary file and copied into the store once the split is decided
/// give the store that holding them all in memory gave: the same tensors, bit for bit, and the
/// same metadata and content hash, with a recording skipped, subjects left out by balancing and
/// a numeric target. The spill file is gone afterwards, and after a failure.
#[test]
fn spilled_windows_give_the_store_held_in_memory() {
    let d = tmp("spill");
    let root = d.join("bids");
    synth(&root, 10, 0.5, 21);
    let f = root.join("sub-003/eeg/sub-003_task-RestingState_eeg.edf");
    let bytes = std::fs::read(&f).expect("read");
    std::fs::write(&f, &bytes[..bytes.len() / 2]).expect("truncate");
    let p = root.join("participants.tsv");
    let text = std::fs::read_to_string(&p).expect("read");
    let mut to_m = 0;
    let lines: Vec<String> = text
        .lines()
        .map(|l| {
            if to_m < 2 && l.contains("\tF\t") {
                to_m += 1;
                l.replacen("\tF\t", "\tM\t", 1)
            } else {
                l.to_string()
            }
        })
        .collect();
    std::fs::write(&p, lines.join("\n") + "\n").expect("write");
    let mut balanced = PrepareConfig::new("sex");
    balanced.split.balance = true;
    let mut numeric = PrepareConfig::new("age");
    numeric.numeric_target = true;
    let out_dir = d.join("out");
    std::fs::create_dir_all(&out_dir).expect("dir");
    for (what, cfg) in [("defaults", PrepareConfig::new("sex")), ("balanced", balanced), ("numeric", numeric)]
    {
        let (a, b) = (out_dir.join("spilled.safetensors"), out_dir.join("held.safetensors"));
        let sa = prepare(&root, &cfg, &a, &|_| {}).expect("prepare");
        let sb = prepare_in_memory(&root, &cfg, &b).expect("prepare in memory");
        assert_eq!(entries(&out_dir), ["held.safetensors", "spilled.safetensors"], "{what}");
        assert_eq!(sa.recordings, sb.recordings, "{what}");
        assert!(sa.skipped().any(|(r, _)| r.subject == "003"), "{what}: the truncated recording");
        if what == "balanced" {
            assert!(sa.skipped().any(|(_, why)| why.starts_with("left out by --balance")), "{what}");
        }
        let (sta, stb) = (EpochStore::open(&a).expect("open"), EpochStore::open(&b).expect("open"));
        assert!(!sta.is_empty());
        let (x, y) = (sta.to_set(), stb.to_set());
        let bits = |x: &[f32]| x.iter().map(|v| v.to_bits()).collect::<Vec<u32>>();
        assert!(bits(&x.x) == bits(&y.x), "{what}: the windows differ");
        assert_eq!(x, y, "{what}");
        assert_eq!(x.target.is_some(), what == "numeric");
        assert_eq!(sta.recorded_content_sha256(), stb.recorded_content_sha256(), "{what}");
        // The tensors' bytes in the files, after the headers (whose metadata order is a map's).
        let data = |p: &Path| {
            let f = std::fs::read(p).expect("read");
            let n = u64::from_le_bytes(f[..8].try_into().expect("8 bytes")) as usize;
            (n, f[8 + n..].to_vec())
        };
        assert!(data(&a) == data(&b), "{what}: the files' tensors differ");
        std::fs::remove_file(&a).expect("remove");
        std::fs::remove_file(&b).expect("remove");
    }
    // A failure after every recording was processed (one class only) leaves nothing either.
    let one_class: Vec<String> = lines.iter().map(|l| l.replacen("\tF\t", "\tM\t", 1)).collect();
    std::fs::write(&p, one_class.join("\n") + "\n").expect("write");
    let e = prepare(&root, &PrepareConfig::new("sex"), &out_dir.join("e.safetensors"), &|_| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("at least two are needed"), "{e}");
    assert_eq!(entries(&out_dir), Vec::<String>::new());
    let _ = std::fs::remove_dir_all(&d);
}

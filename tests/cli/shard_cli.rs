//! `prepare --shard i/N` and `eeglens merge`: the parts of a job array joined into the store a
//! single `prepare` writes, and the parts merge refuses.

use std::path::{Path, PathBuf};

use eeglens_data::store::EpochStore;

use crate::util::{assert_one_line_error, eeglens, ok, s, tmpdir};

fn prepare(root: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["prepare", s(root), "--label", "sex", "--out", s(out)];
    args.extend_from_slice(extra);
    eeglens(&args)
}

fn merge(parts: &[&PathBuf], out: &Path) -> std::process::Output {
    let mut args: Vec<&str> = vec!["merge"];
    args.extend(parts.iter().map(|p| s(p)));
    args.extend(["--out", s(out)]);
    eeglens(&args)
}

/// The settings without what differs between two preparations of the same data: the step that
/// made the store (`provenance`) and, for a merged one, its parts (`shards`).
fn comparable(settings: &serde_json::Value) -> serde_json::Value {
    let mut v = settings.clone();
    let o = v.as_object_mut().expect("settings are an object");
    o.remove("provenance");
    o.remove("shards");
    v
}

#[test]
fn shards_merged_equal_the_single_store_and_bad_parts_are_refused() {
    let d = tmpdir("shards");
    let root = d.0.join("bids");
    ok(&eeglens(&["synth", "--out", s(&root), "--subjects", "8", "--minutes", "0.2"]));
    let single = d.0.join("single.safetensors");
    ok(&prepare(&root, &single, &[]));
    let parts: Vec<PathBuf> = (0..3).map(|i| d.0.join(format!("part-{i}.safetensors"))).collect();
    for (i, p) in parts.iter().enumerate() {
        let out = ok(&prepare(&root, p, &["--shard", &format!("{i}/3")]));
        assert!(out.starts_with(&format!("shard {i}/3: ")), "{out}");
    }
    // The parts in any order.
    let merged = d.0.join("merged.safetensors");
    ok(&merge(&[&parts[2], &parts[0], &parts[1]], &merged));

    let (a, b) = (EpochStore::open(&single).expect("open"), EpochStore::open(&merged).expect("open"));
    let (a, b) = (a.to_set(), b.to_set());
    assert!(!a.is_empty());
    let bits = |x: &[f32]| x.iter().map(|v| v.to_bits()).collect::<Vec<u32>>();
    assert!(bits(&a.x) == bits(&b.x), "the windows differ");
    assert_eq!((&a.y, &a.subject, &a.split, a.n_samples), (&b.y, &b.subject, &b.split, b.n_samples));
    assert!(a.sources.is_some() && a.sources == b.sources, "each window's recording and onset");
    let (ma, mb) = (&a.meta, &b.meta);
    assert_eq!(
        (&ma.channels, ma.fs, &ma.classes, &ma.label_column, &ma.subjects, &ma.unit),
        (&mb.channels, mb.fs, &mb.classes, &mb.label_column, &mb.subjects, &mb.unit)
    );
    assert_eq!(comparable(&ma.settings), comparable(&mb.settings));
    assert!(ma.settings.get("shards").is_none());
    let shards = &mb.settings["shards"];
    assert_eq!(shards["n"], 3);
    for (i, p) in shards["parts"].as_array().expect("parts").iter().enumerate() {
        assert_eq!(p["shard"], i);
        assert_eq!(p["file"], format!("part-{i}.safetensors"));
        assert_eq!(p["content_sha256"].as_str().map(str::len), Some(64), "{p}");
        assert_eq!(p["provenance"]["step"], "prepare");
    }
    assert_eq!(mb.settings["provenance"]["step"], "merge");

    // A rerun of a finished shard is a no-op that says so, and leaves the part as it was.
    let before = std::fs::read(&parts[0]).expect("read part");
    let out = ok(&prepare(&root, &parts[0], &["--shard", "0/3"]));
    assert!(out.starts_with("shard 0/3: complete in ") && out.contains("already done"), "{out}");
    assert!(std::fs::read(&parts[0]).expect("read part") == before, "the rerun rewrote the part");
    // Another shard, other settings or a changed part in its place are not this task's finished
    // part: nothing is overwritten without --force.
    assert_one_line_error(
        &prepare(&root, &parts[0], &["--shard", "1/3"]),
        &["part-0.safetensors", "exists", "--force"],
    );
    assert_one_line_error(
        &prepare(&root, &parts[0], &["--shard", "0/3", "--band", "1-30"]),
        &["part-0.safetensors", "exists", "--force"],
    );
    // The merged store is not overwritten either.
    assert_one_line_error(
        &merge(&[&parts[0], &parts[1], &parts[2]], &merged),
        &["merged.safetensors", "exists"],
    );

    let out = d.0.join("out.safetensors");
    // Other settings.
    let other = d.0.join("other-band.safetensors");
    ok(&prepare(&root, &other, &["--shard", "1/3", "--band", "1-30"]));
    assert_one_line_error(
        &merge(&[&parts[0], &other, &parts[2]], &out),
        &["other-band.safetensors", "other settings", "`band`"],
    );
    // The same shard twice: its subjects in two parts.
    let copy = d.0.join("copy.safetensors");
    std::fs::copy(&parts[1], &copy).expect("copy");
    assert_one_line_error(
        &merge(&[&parts[0], &parts[1], &copy, &parts[2]], &out),
        &["copy.safetensors", "is also in", "part-1.safetensors"],
    );
    // A missing shard.
    assert_one_line_error(
        &merge(&[&parts[0], &parts[2]], &out),
        &["shard 1/3 is missing", "part-2.safetensors"],
    );
    // A part of another N.
    let of_two = d.0.join("of-two.safetensors");
    ok(&prepare(&root, &of_two, &["--shard", "0/2"]));
    assert_one_line_error(
        &merge(&[&parts[0], &parts[1], &parts[2], &of_two], &out),
        &["of-two.safetensors", "shard 0/2", "different --shard N"],
    );
    // A part whose windows changed after it was written: the merge hashes each part again.
    let changed = d.0.join("changed.safetensors");
    let mut bytes = std::fs::read(&parts[1]).expect("read part");
    let last = bytes.len() - 1; // the windows end the file: a float's top byte, still finite
    bytes[last] ^= 0x01;
    std::fs::write(&changed, bytes).expect("write");
    assert_one_line_error(
        &merge(&[&parts[0], &changed, &parts[2]], &out),
        &["changed.safetensors", "changed after `prepare --shard 1/3` wrote it", "content_sha256"],
    );
    // A store that is not a part.
    assert_one_line_error(
        &merge(&[&parts[0], &parts[1], &parts[2], &single], &out),
        &["single.safetensors", "not a part", "epoch store"],
    );
    assert!(!out.exists());
    // A part is no epoch store either.
    let e = EpochStore::open(&parts[0]).unwrap_err().to_string();
    assert!(e.contains("part-0.safetensors") && e.contains("eeglens-prepare-part/1"), "{e}");
    // The windows' temporary files (of `prepare`, each shard and the refused runs) are gone.
    let left: Vec<String> = std::fs::read_dir(&d.0)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".windows-") || n.starts_with(".tmp-"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// A task killed while it wrote its part leaves no part (parts are written to a temporary and
/// renamed), so rerunning it prepares the shard; the part equals an uninterrupted one's.
#[test]
fn a_killed_shard_task_is_rerun() {
    let d = tmpdir("shard-killed");
    let root = d.0.join("bids");
    ok(&eeglens(&["synth", "--out", s(&root), "--subjects", "6", "--minutes", "0.2"]));
    let whole = d.0.join("whole.safetensors");
    ok(&prepare(&root, &whole, &["--shard", "1/2"]));
    let part = d.0.join("part-1.safetensors");
    // Killed at once, and what a kill during the write leaves: a temporary beside the part.
    let mut child = crate::util::bin()
        .args(["prepare", s(&root), "--label", "sex", "--shard", "1/2", "--out", s(&part)])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn eeglens");
    child.kill().expect("kill");
    child.wait().expect("wait");
    std::fs::write(d.0.join(".tmp-99999-0-part-1.safetensors"), b"half a part").expect("write");
    let _ = std::fs::remove_file(&part); // in case it finished before the kill
    let out = ok(&prepare(&root, &part, &["--shard", "1/2"]));
    assert!(out.starts_with("shard 1/2: ") && !out.contains("already done"), "{out}");
    let (a, b) = (std::fs::read(&whole).expect("read"), std::fs::read(&part).expect("read"));
    // Equal but for the provenance in the metadata: the data after the header (the windows).
    let windows = |b: &[u8]| {
        let n = u64::from_le_bytes(b[..8].try_into().expect("8 bytes")) as usize;
        b[8 + n..].to_vec()
    };
    assert!(!windows(&a).is_empty());
    assert!(windows(&a) == windows(&b), "the rerun's windows differ");
}

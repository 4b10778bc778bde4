//! Which files a reader opens: companion files (BrainVision `DataFile`/`MarkerFile`, EEGLAB `.fdt`)
//! only inside the header's folder, and only regular files, so that a header cannot make eeglens
//! read `/etc/passwd` or `/dev/zero`, and a FIFO cannot make it wait forever.

mod common;

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use common::{fixture, tmp_dir};
use eeglens_io::{read, IoError, Recording};

/// Reads `path` on another thread and gives up after 20 s: a reader that opens a FIFO blocks
/// until a writer appears, which would hang the test run instead of failing it.
fn read_or_hang(path: &Path) -> Result<Recording, IoError> {
    let (tx, rx) = mpsc::channel();
    let p = path.to_path_buf();
    std::thread::spawn(move || {
        let _ = tx.send(read(&p));
    });
    rx.recv_timeout(Duration::from_secs(20))
        .unwrap_or_else(|_| panic!("reading {} did not return: it opened a FIFO or device", path.display()))
}

#[test]
fn brainvision_companion_files_outside_the_headers_folder_are_refused() {
    for (name, line, key) in [
        ("bv_datafile_parent.vhdr", 5, "DataFile"),
        ("bv_datafile_backslash_parent.vhdr", 5, "DataFile"),
        ("bv_datafile_absolute.vhdr", 5, "DataFile"),
        ("bv_datafile_device.vhdr", 5, "DataFile"),
        ("bv_markerfile_parent.vhdr", 6, "MarkerFile"),
    ] {
        let e = read_or_hang(&fixture("broken/escape", name)).expect_err(name);
        let msg = e.to_string();
        assert!(matches!(e, IoError::Text { line: l, .. } if l == line), "{name}: {msg}");
        assert!(msg.contains(name) && msg.contains(key) && msg.contains("header's folder"), "{msg}");
    }
}

#[test]
fn an_eeglab_fdt_name_outside_the_sets_folder_is_not_followed() {
    // ../set_outside.fdt exists and has the right size: following the name would read it.
    assert!(fixture("broken", "set_outside.fdt").is_file());
    match read_or_hang(&fixture("broken/escape", "set_fdt_outside.set")) {
        Err(IoError::MissingFile { missing, .. }) => {
            assert_eq!(missing.parent(), Some(fixture("broken/escape", "").as_path()));
        }
        other => panic!("{other:?}"),
    }
}

/// Makes a FIFO with the `mkfifo` program; `None` (with a note) where there is none.
fn mkfifo(path: &Path) -> Option<()> {
    std::fs::remove_file(path).ok();
    match std::process::Command::new("mkfifo").arg(path).status() {
        Ok(s) if s.success() => Some(()),
        other => {
            println!("note: mkfifo unavailable ({other:?}); FIFO case of {} skipped", path.display());
            None
        }
    }
}

fn assert_not_a_file(result: Result<Recording, IoError>, path: &Path, kind: &str) {
    match result {
        Err(e @ IoError::NotAFile { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains(&path.display().to_string()) && msg.contains(kind), "{msg}");
        }
        other => panic!("{}: expected NotAFile ({kind}), got {other:?}", path.display()),
    }
}

#[test]
fn a_fifo_named_like_a_recording_is_refused_without_blocking() {
    let dir = tmp_dir("fifo");
    for name in ["x.edf", "x.bdf", "x.vhdr", "x.set"] {
        let p = dir.join(name);
        if mkfifo(&p).is_none() {
            return;
        }
        assert_not_a_file(read_or_hang(&p), &p, "FIFO");
    }
}

#[test]
fn a_fifo_as_companion_file_is_refused_without_blocking() {
    let dir = tmp_dir("fifo-companion");
    // BrainVision: the header names a FIFO as its data file, then as its marker file.
    let vhdr =
        std::fs::read_to_string(fixture("broken/escape", "bv_markerfile_parent.vhdr")).expect("fixture");
    let data_fifo = vhdr
        .replace("DataFile=bv_inside.eeg", "DataFile=data.eeg")
        .replace("MarkerFile=sub/../../bv_outside.vmrk\r\n", "");
    std::fs::write(dir.join("data_fifo.vhdr"), data_fifo).expect("write");
    let marker_fifo = vhdr.replace("sub/../../bv_outside.vmrk", "markers.vmrk");
    std::fs::write(dir.join("marker_fifo.vhdr"), marker_fifo).expect("write");
    std::fs::copy(fixture("broken/escape", "bv_inside.eeg"), dir.join("bv_inside.eeg")).expect("copy");
    // EEGLAB: the .fdt beside the .set is a FIFO.
    std::fs::copy(fixture("io/eeglab", "struct_fdt.set"), dir.join("fdt_fifo.set")).expect("copy");
    for (fifo, header) in [
        ("data.eeg", "data_fifo.vhdr"),
        ("markers.vmrk", "marker_fifo.vhdr"),
        ("fdt_fifo.fdt", "fdt_fifo.set"),
    ] {
        let f = dir.join(fifo);
        if mkfifo(&f).is_none() {
            return;
        }
        assert_not_a_file(read_or_hang(&dir.join(header)), &f, "FIFO");
    }
}

#[test]
fn directories_and_devices_named_like_recordings_are_refused() {
    let dir = tmp_dir("not-a-file");
    let d = dir.join("folder.edf");
    std::fs::create_dir_all(&d).expect("dir");
    assert_not_a_file(read_or_hang(&d), &d, "directory");
    #[cfg(unix)]
    {
        let link: PathBuf = dir.join("zero.edf");
        std::fs::remove_file(&link).ok();
        if Path::new("/dev/zero").exists() && std::os::unix::fs::symlink("/dev/zero", &link).is_ok() {
            assert_not_a_file(read_or_hang(&link), &link, "character device");
        }
    }
}

/// A one-channel float32 BrainVision header naming `data` and `markers` as its companion files.
#[cfg(unix)]
fn bv_header(data: &str, markers: &str) -> String {
    format!(
        "Brain Vision Data Exchange Header File Version 1.0\r\n\r\n[Common Infos]\r\nDataFile={data}\r\n\
         MarkerFile={markers}\r\nDataFormat=BINARY\r\nDataOrientation=MULTIPLEXED\r\n\
         NumberOfChannels=1\r\nSamplingInterval=4000\r\n\r\n[Binary Infos]\r\n\
         BinaryFormat=IEEE_FLOAT_32\r\n\r\n[Channel Infos]\r\nCh1=Fz,,1,µV\r\n"
    )
}

/// A header folder `<tmp>/<tag>/in` and a folder beside it, `<tmp>/<tag>/out`, both fresh
/// (`<tmp>/<tag>` is removed when the first drops).
#[cfg(unix)]
fn inside_and_outside(tag: &str) -> (common::Scratch, PathBuf) {
    let base = tmp_dir(tag);
    std::fs::remove_dir_all(&base).ok();
    let outside = base.join("out");
    let inside = base.file("in");
    std::fs::create_dir_all(&inside).expect("dir");
    std::fs::create_dir_all(&outside).expect("dir");
    (inside, outside)
}

#[cfg(unix)]
fn assert_outside(result: Result<Recording, IoError>, header: &Path, companion: &Path) {
    match result {
        Err(e @ IoError::OutsideFolder { .. }) => {
            let msg = e.to_string();
            assert!(!msg.contains('\n'), "one line: {msg}");
            assert!(msg.contains(&header.display().to_string()), "names the header: {msg}");
            assert!(msg.contains(&companion.display().to_string()), "names the companion: {msg}");
            assert!(msg.contains("header's folder"), "{msg}");
        }
        other => {
            panic!("{}: expected OutsideFolder for {}, got {other:?}", header.display(), companion.display())
        }
    }
}

#[test]
#[cfg(unix)]
fn brainvision_symbolic_links_out_of_the_headers_folder_are_refused() {
    use std::os::unix::fs::symlink;
    let (inside, outside) = inside_and_outside("bv-symlink-out");
    // Files outside the folder that would read well: 8 float32 samples, a marker file.
    std::fs::write(outside.join("x.eeg"), [0u8; 32]).expect("write");
    std::fs::write(outside.join("x.vmrk"), "Brain Vision Data Exchange Marker File, Version 1.0\r\n")
        .expect("write");
    std::fs::write(inside.join("ok.eeg"), [0u8; 32]).expect("write");
    symlink(outside.join("x.eeg"), inside.join("data.eeg")).expect("symlink");
    symlink(outside.join("x.vmrk"), inside.join("markers.vmrk")).expect("symlink");
    // A relative link climbing out, and a linked sub-folder.
    symlink("../out/x.eeg", inside.join("relative.eeg")).expect("symlink");
    symlink(&outside, inside.join("sub")).expect("symlink");
    for (name, data, markers, companion) in [
        ("data_link.vhdr", "data.eeg", "none.vmrk", "data.eeg"),
        ("relative_link.vhdr", "relative.eeg", "none.vmrk", "relative.eeg"),
        ("linked_folder.vhdr", "sub/x.eeg", "none.vmrk", "sub/x.eeg"),
        ("marker_link.vhdr", "ok.eeg", "markers.vmrk", "markers.vmrk"),
        ("marker_in_linked_folder.vhdr", "ok.eeg", "sub\\x.vmrk", "sub/x.vmrk"),
    ] {
        let header = inside.join(name);
        std::fs::write(&header, bv_header(data, markers)).expect("write");
        assert_outside(read_or_hang(&header), &header, &inside.join(companion));
    }
    std::fs::remove_dir_all(inside.parent().expect("base")).ok();
}

#[test]
#[cfg(unix)]
fn eeglab_fdt_linked_out_of_the_sets_folder_is_refused() {
    use std::os::unix::fs::symlink;
    let (inside, outside) = inside_and_outside("set-symlink-out");
    // struct_fdt.set names struct_fdt.fdt; beside a copy named x.set, x.fdt is looked for next.
    std::fs::copy(fixture("io/eeglab", "struct_fdt.fdt"), outside.join("real.fdt")).expect("copy");
    for (set, fdt) in [("x.set", "x.fdt"), ("struct_fdt.set", "struct_fdt.fdt")] {
        std::fs::copy(fixture("io/eeglab", "struct_fdt.set"), inside.join(set)).expect("copy");
        symlink(outside.join("real.fdt"), inside.join(fdt)).expect("symlink");
        assert_outside(read_or_hang(&inside.join(set)), &inside.join(set), &inside.join(fdt));
    }
    std::fs::remove_dir_all(inside.parent().expect("base")).ok();
}

#[test]
#[cfg(unix)]
fn symbolic_links_that_stay_in_the_folder_are_followed() {
    use std::os::unix::fs::symlink;
    let (inside, _) = inside_and_outside("symlink-in");
    std::fs::create_dir_all(inside.join("raw")).expect("dir");
    let samples: Vec<u8> = (0..8).flat_map(|i| (i as f32).to_le_bytes()).collect();
    std::fs::write(inside.join("raw").join("real.eeg"), &samples).expect("write");
    symlink("raw/real.eeg", inside.join("data.eeg")).expect("symlink");
    symlink(inside.join("raw"), inside.join("linked")).expect("symlink");
    for data in ["data.eeg", "linked/real.eeg"] {
        let header = inside.join("h.vhdr");
        std::fs::write(&header, bv_header(data, "none.vmrk")).expect("write");
        let rec = read_or_hang(&header).unwrap_or_else(|e| panic!("{data}: {e}"));
        assert_eq!(rec.data[0], (0..8).map(|i| i as f32).collect::<Vec<_>>(), "{data}");
    }
    std::fs::copy(fixture("io/eeglab", "struct_fdt.fdt"), inside.join("raw").join("real.fdt")).expect("copy");
    std::fs::copy(fixture("io/eeglab", "struct_fdt.set"), inside.join("x.set")).expect("copy");
    symlink("raw/real.fdt", inside.join("x.fdt")).expect("symlink");
    let linked = read_or_hang(&inside.join("x.set")).expect("x.set through a link");
    let direct = read(&fixture("io/eeglab", "struct_fdt.set")).expect("fixture");
    assert_eq!(linked.data, direct.data);
    std::fs::remove_dir_all(inside.parent().expect("base")).ok();
}

#[test]
#[cfg(unix)]
fn symbolic_links_to_fifos_devices_and_folders_are_refused_without_blocking() {
    use std::os::unix::fs::symlink;
    let (inside, _) = inside_and_outside("symlink-special");
    std::fs::write(inside.join("ok.eeg"), [0u8; 32]).expect("write");
    std::fs::create_dir_all(inside.join("folder")).expect("dir");
    symlink("folder", inside.join("folder.eeg")).expect("symlink");
    symlink("folder", inside.join("folder.vmrk")).expect("symlink");
    symlink("folder", inside.join("folder_set.fdt")).expect("symlink");
    std::fs::copy(fixture("io/eeglab", "struct_fdt.set"), inside.join("folder_set.set")).expect("copy");
    // A link to a directory inside the folder: not a regular file.
    for (header, data, markers, link) in [
        ("folder_data.vhdr", "folder.eeg", "none.vmrk", "folder.eeg"),
        ("folder_markers.vhdr", "ok.eeg", "folder.vmrk", "folder.vmrk"),
    ] {
        std::fs::write(inside.join(header), bv_header(data, markers)).expect("write");
        assert_not_a_file(read_or_hang(&inside.join(header)), &inside.join(link), "directory");
    }
    assert_not_a_file(
        read_or_hang(&inside.join("folder_set.set")),
        &inside.join("folder_set.fdt"),
        "directory",
    );

    // A link to a FIFO inside the folder: refused before it is opened.
    if mkfifo(&inside.join("fifo")).is_some() {
        symlink("fifo", inside.join("fifo.eeg")).expect("symlink");
        symlink("fifo", inside.join("fifo.vmrk")).expect("symlink");
        symlink("fifo", inside.join("fifo_set.fdt")).expect("symlink");
        std::fs::copy(fixture("io/eeglab", "struct_fdt.set"), inside.join("fifo_set.set")).expect("copy");
        for (header, data, markers, link) in [
            ("fifo_data.vhdr", "fifo.eeg", "none.vmrk", "fifo.eeg"),
            ("fifo_markers.vhdr", "ok.eeg", "fifo.vmrk", "fifo.vmrk"),
        ] {
            std::fs::write(inside.join(header), bv_header(data, markers)).expect("write");
            assert_not_a_file(read_or_hang(&inside.join(header)), &inside.join(link), "FIFO");
        }
        assert_not_a_file(read_or_hang(&inside.join("fifo_set.set")), &inside.join("fifo_set.fdt"), "FIFO");
    }

    // A link to /dev/zero leads out of the folder: refused as such, never read.
    if Path::new("/dev/zero").exists() {
        symlink("/dev/zero", inside.join("zero.eeg")).expect("symlink");
        symlink("/dev/zero", inside.join("zero_set.fdt")).expect("symlink");
        std::fs::copy(fixture("io/eeglab", "struct_fdt.set"), inside.join("zero_set.set")).expect("copy");
        let header = inside.join("zero.vhdr");
        std::fs::write(&header, bv_header("zero.eeg", "none.vmrk")).expect("write");
        assert_outside(read_or_hang(&header), &header, &inside.join("zero.eeg"));
        let set = inside.join("zero_set.set");
        assert_outside(read_or_hang(&set), &set, &inside.join("zero_set.fdt"));
    }
    std::fs::remove_dir_all(inside.parent().expect("base")).ok();
}

#[test]
#[cfg(unix)]
fn a_dangling_link_is_a_missing_file() {
    use std::os::unix::fs::symlink;
    let (inside, outside) = inside_and_outside("symlink-dangling");
    symlink(outside.join("gone.eeg"), inside.join("data.eeg")).expect("symlink");
    let header = inside.join("h.vhdr");
    std::fs::write(&header, bv_header("data.eeg", "none.vmrk")).expect("write");
    match read_or_hang(&header) {
        Err(IoError::MissingFile { missing, .. }) => assert_eq!(missing, inside.join("data.eeg")),
        other => panic!("{other:?}"),
    }
    std::fs::remove_dir_all(inside.parent().expect("base")).ok();
}

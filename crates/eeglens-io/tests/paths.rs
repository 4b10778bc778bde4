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
    std::fs::remove_dir_all(&dir).ok();
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
    std::fs::remove_dir_all(&dir).ok();
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
    std::fs::remove_dir_all(&dir).ok();
}

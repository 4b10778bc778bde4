//! Atomic, durable file writes: the one way eeglens puts a file on disk.
//!
//! A file is written to a temporary beside it (same directory, so the rename
//! never crosses a file system), flushed and `fsync`ed, renamed over the final
//! name, and then the directory is `fsync`ed so that the rename itself survives
//! a power loss. A reader therefore sees the old file or the new one, never a
//! torn or empty one. When any step fails (a full disk, a directory in the
//! way, a writer that gives up) the temporary is removed and the old file is
//! left exactly as it was.
//!
//! Temporaries are named `.tmp-<pid>-<n>-<name>`: hidden, unique per process
//! and call, and recognisable ([`is_temporary`]) by code that checks whether a
//! directory holds anything else.
//!
//! [`write_files`] writes several files that belong together (a JSON document
//! and the tensors it describes): every temporary is written first, and only
//! when all of them are complete are they renamed, so a failure leaves the old
//! set whole rather than a new file beside an old one.
//!
//! ```
//! # fn main() -> std::io::Result<()> {
//! use std::io::Write;
//! let dir = std::env::temp_dir().join(format!("eeglens-io-atomic-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let path = dir.join("out.txt");
//! eeglens_io::atomic::write_file(&path, b"old")?;
//! let failed = eeglens_io::atomic::write_file_with(&path, |w| {
//!     w.write_all(b"half a ")?;
//!     Err(std::io::Error::other("the writer gave up"))
//! });
//! assert!(failed.is_err());
//! assert_eq!(std::fs::read(&path)?, b"old"); // untouched, and no temporary left
//! assert_eq!(std::fs::read_dir(&dir)?.count(), 1);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok(())
//! # }
//! ```

use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Prefix of every temporary file name.
pub const TMP_PREFIX: &str = ".tmp-";

/// Numbers the temporaries of one process (several threads may write at once).
static NEXT: AtomicU64 = AtomicU64::new(0);

/// Whether `name` is one of this module's temporaries (of any process).
pub fn is_temporary(name: &OsStr) -> bool {
    name.to_string_lossy().starts_with(TMP_PREFIX)
}

/// Writes `bytes` to `path` atomically and durably (see the module page).
///
/// # Errors
/// The first failing step's error; the temporary is then removed and `path`
/// is unchanged.
pub fn write_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_file_with(path, |w| w.write_all(bytes))
}

/// Like [`write_file`], with the contents streamed by `write` into a
/// buffered writer (for files too large to build in memory first).
///
/// # Errors
/// An error of `write` or of any step; the temporary is then removed and
/// `path` is unchanged.
pub fn write_file_with<F>(path: &Path, write: F) -> io::Result<()>
where
    F: FnOnce(&mut dyn Write) -> io::Result<()>,
{
    write_file_seekable(path, |w| write(w))
}

/// Like [`write_file_with`], with the temporary's own buffered writer, which can also
/// [`Seek`](std::io::Seek): a header written first can be filled in once what follows it is known (a hash of
/// the contents, say), without holding the contents in memory.
///
/// # Errors
/// An error of `write` or of any step; the temporary is then removed and `path` is unchanged.
pub fn write_file_seekable<F>(path: &Path, write: F) -> io::Result<()>
where
    F: FnOnce(&mut BufWriter<File>) -> io::Result<()>,
{
    let tmp = Temporary::write(path, write)?;
    tmp.commit()?;
    sync_dir(parent(path))
}

/// Writes every `(path, bytes)` pair atomically, all or nothing: every
/// temporary is complete and synced, and every final name checked (no
/// directory in the way), before the first rename, so a full disk or another
/// failure leaves all the old files as they were. (Only a crash between the
/// renames, a window of microseconds, can leave some files new and some old.)
///
/// # Errors
/// The first failing step's error, its message starting with the name of the
/// file concerned; every temporary is then removed.
pub fn write_files(files: &[(&Path, &[u8])]) -> io::Result<()> {
    let mut temps = Vec::with_capacity(files.len());
    for (path, bytes) in files {
        // On an error, the temporaries written so far are dropped, which removes them.
        temps.push(Temporary::write(path, |w| w.write_all(bytes)).map_err(|e| naming(path, e))?);
    }
    for t in &temps {
        if t.target.is_dir() {
            return Err(naming(&t.target, io::Error::new(io::ErrorKind::IsADirectory, "is a directory")));
        }
    }
    let mut dirs: Vec<PathBuf> = Vec::new();
    for t in temps {
        let dir = parent(&t.target).to_path_buf();
        if !dirs.contains(&dir) {
            dirs.push(dir);
        }
        let target = t.target.clone();
        t.commit().map_err(|e| naming(&target, e))?;
    }
    for d in dirs {
        sync_dir(&d)?;
    }
    Ok(())
}

/// `fsync`s a directory, so that renames and new entries in it are durable.
/// A no-op where directories cannot be opened as files (Windows).
///
/// # Errors
/// When the directory cannot be opened or synced.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// `e` with the name of the file it concerns (one of several) in front.
fn naming(path: &Path, e: io::Error) -> io::Error {
    let name = path.file_name().unwrap_or(path.as_os_str()).to_string_lossy();
    io::Error::new(e.kind(), format!("{name}: {e}"))
}

/// The directory `path` lives in (`.` for a bare file name).
fn parent(path: &Path) -> &Path {
    path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// A complete, synced temporary waiting to be renamed over `target`; removed
/// when dropped before [`Temporary::commit`].
struct Temporary {
    path: PathBuf,
    target: PathBuf,
    committed: bool,
}

impl Temporary {
    fn write<F>(target: &Path, write: F) -> io::Result<Self>
    where
        F: FnOnce(&mut BufWriter<File>) -> io::Result<()>,
    {
        let name = target.file_name().map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
        // Keep the temporary's name within the usual 255-byte limit.
        let short: String = name
            .chars()
            .scan(0, |n, c| {
                (*n + c.len_utf8() <= 200).then(|| {
                    *n += c.len_utf8();
                    c
                })
            })
            .collect();
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = parent(target).join(format!("{TMP_PREFIX}{}-{n}-{short}", std::process::id()));
        let file = File::options().write(true).create_new(true).open(&path)?;
        // From here on, dropping `tmp` removes the file.
        let tmp = Temporary { path, target: target.to_path_buf(), committed: false };
        let mut w = BufWriter::with_capacity(1 << 20, file);
        write(&mut w)?;
        let file = w.into_inner().map_err(io::IntoInnerError::into_error)?;
        file.sync_all()?;
        Ok(tmp)
    }

    fn commit(mut self) -> io::Result<()> {
        std::fs::rename(&self.path, &self.target)?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for Temporary {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Seek;

    fn dir(name: &str) -> crate::scratch::Scratch {
        let d = std::env::temp_dir().join(format!("eeglens-io-atomic-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("temp dir");
        crate::scratch::Scratch(d)
    }

    fn entries(d: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .expect("read dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_write_replaces_the_file_and_leaves_no_temporary() {
        let d = dir("replace");
        let p = d.join("a.json");
        write_file(&p, b"one").expect("write");
        write_file(&p, b"two").expect("write again");
        assert_eq!(std::fs::read(&p).expect("read"), b"two");
        assert_eq!(entries(&d), ["a.json"]);
        // A bare file name writes into the working directory's entry, which `parent` names `.`.
        assert_eq!(parent(Path::new("x.txt")), Path::new("."));
    }

    #[test]
    fn a_failing_writer_leaves_the_old_file_and_no_temporary() {
        let d = dir("writer");
        let p = d.join("big.edf");
        write_file(&p, b"old").expect("write");
        let e = write_file_with(&p, |w| {
            w.write_all(&[7u8; 3 << 20])?;
            Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"))
        })
        .expect_err("the writer failed");
        assert_eq!(e.kind(), io::ErrorKind::StorageFull);
        assert_eq!(std::fs::read(&p).expect("read"), b"old");
        assert_eq!(entries(&d), ["big.edf"]);
    }

    #[test]
    fn a_seekable_write_fills_in_its_header_and_a_failure_leaves_nothing() {
        let d = dir("seek");
        let p = d.join("store.safetensors");
        write_file_seekable(&p, |w| {
            w.write_all(b"hash:????;")?;
            w.write_all(&[b'x'; 3 << 20])?;
            let end = w.stream_position()?;
            w.seek(io::SeekFrom::Start(5))?;
            w.write_all(b"abcd")?;
            w.seek(io::SeekFrom::Start(end))?;
            w.write_all(b";end")
        })
        .expect("write");
        let bytes = std::fs::read(&p).expect("read");
        assert_eq!(&bytes[..10], b"hash:abcd;");
        assert_eq!(bytes.len(), 10 + (3 << 20) + 4);
        assert!(bytes.ends_with(b"x;end"));
        let e = write_file_seekable(&p, |w| {
            w.write_all(b"new")?;
            w.seek(io::SeekFrom::Start(0))?;
            Err(io::Error::other("gave up"))
        });
        assert!(e.is_err());
        assert_eq!(std::fs::read(&p).expect("read").len(), bytes.len());
        assert_eq!(entries(&d), ["store.safetensors"]);
    }

    #[test]
    fn a_failing_rename_leaves_what_is_there_and_no_temporary() {
        let d = dir("rename");
        // A non-empty directory under the final name: the rename fails after the temporary is complete.
        let p = d.join("report.html");
        std::fs::create_dir_all(p.join("inside")).expect("dir");
        assert!(write_file(&p, b"<html>").is_err());
        assert!(p.join("inside").is_dir());
        assert_eq!(entries(&d), ["report.html"]);
        // A missing directory: nothing is created at all.
        assert!(write_file(&d.join("missing/x.json"), b"{}").is_err());
        assert_eq!(entries(&d), ["report.html"]);
    }

    #[test]
    fn a_set_is_written_whole_or_not_at_all() {
        let d = dir("set");
        let (json, tensors) = (d.join("interpret.json"), d.join("interpret.safetensors"));
        write_files(&[(&json, b"old json"), (&tensors, b"old tensors")]).expect("write the set");
        // The second file cannot be written: the first stays old.
        let missing = d.join("missing/interpret.safetensors");
        assert!(write_files(&[(&json, b"new json"), (&missing, b"new tensors")]).is_err());
        assert_eq!(std::fs::read(&json).expect("read"), b"old json");
        assert_eq!(entries(&d), ["interpret.json", "interpret.safetensors"]);
        // The second file's name is taken by a directory: nothing is renamed.
        std::fs::remove_file(&tensors).expect("remove");
        std::fs::create_dir_all(tensors.join("x")).expect("dir in the way");
        assert!(write_files(&[(&json, b"new json"), (&tensors, b"new tensors")]).is_err());
        assert_eq!(std::fs::read(&json).expect("read"), b"old json");
        assert!(tensors.join("x").is_dir());
        assert_eq!(entries(&d), ["interpret.json", "interpret.safetensors"]);
        assert!(is_temporary(OsStr::new(".tmp-12-0-a.json")) && !is_temporary(OsStr::new("a.json")));
    }
}

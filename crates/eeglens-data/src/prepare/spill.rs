//! Each processed recording's windows go to a temporary file as soon as the recording is done,
//! so that `prepare` holds only per-recording metadata while the rest is processed; the store
//! (or a shard's part) is then written by copying the windows from that file, in the plan's
//! order, once every decision that needs all recordings is made.
//!
//! The file, `<out>.windows-<pid>.tmp` beside the output (the same file system, which the
//! store needs room on anyway), holds the windows as little-endian f32 values, back to back in
//! the order the recordings finished. It is no safetensors file, so nothing takes it for a
//! store; on Unix it is unlinked as soon as it is opened, so it disappears with the process
//! whatever the way it ends, and elsewhere it is removed when the preparation returns.
//!
//! The windows are read back with ordinary reads into a small buffer rather than through a
//! memory map: the pages of a map count in the process's resident set, so reading a map of the
//! whole file would make the peak grow with the dataset again.

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::DataError;
use crate::store::COPY_CHUNK;

/// Where windows lie in a file: the file (an index into the files read from) and the byte range.
pub(super) type Place = (usize, Range<u64>);

/// The temporary file of spilled windows, being written.
pub(super) struct Spill {
    /// the writer and the bytes written so far
    file: Mutex<(BufWriter<File>, u64)>,
    name: Name,
}

/// The spill file's name, removed when dropped if the file still has it.
struct Name {
    path: PathBuf,
    /// whether the file still has a name to remove (not on Unix, where it is unlinked at once)
    named: bool,
}

impl Drop for Name {
    fn drop(&mut self) {
        if self.named {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl Spill {
    /// Creates the spill file of the output `out`.
    ///
    /// # Errors
    /// [`DataError::Io`] when it cannot be created.
    pub(super) fn create(out: &Path) -> Result<Self, DataError> {
        let mut name = out.file_name().map(|s| s.to_os_string()).unwrap_or_default();
        name.push(format!(".windows-{}.tmp", std::process::id()));
        let path = out.with_file_name(name);
        // A file of this name was left by an earlier process of the same id (killed on a system
        // that cannot unlink open files): it is no one's now.
        let _ = std::fs::remove_file(&path);
        let file = File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| DataError::io(&path, e))?;
        // Unix keeps an unlinked file for as long as it is open: nothing is left behind, even
        // by a killed process.
        let named = !(cfg!(unix) && std::fs::remove_file(&path).is_ok());
        Ok(Self {
            file: Mutex::new((BufWriter::with_capacity(COPY_CHUNK, file), 0)),
            name: Name { path, named },
        })
    }

    /// Appends one recording's windows; returns where they lie.
    ///
    /// # Errors
    /// When the file cannot be written (a full disk).
    pub(super) fn push(&self, windows: &[f32]) -> io::Result<Range<u64>> {
        let mut guard = self.file.lock().unwrap_or_else(|e| e.into_inner());
        let (w, len) = &mut *guard;
        let start = *len;
        crate::store::write_f32s(w, windows)?;
        *len += windows.len() as u64 * 4;
        Ok(start..*len)
    }

    /// The file with every window written, to read them back.
    ///
    /// # Errors
    /// [`DataError::Io`] when the last windows cannot be written.
    pub(super) fn into_reader(self) -> Result<SpillReader, DataError> {
        let Spill { file, name } = self;
        let (w, _) = file.into_inner().unwrap_or_else(|e| e.into_inner());
        let file = w.into_inner().map_err(|e| DataError::io(&name.path, e.into_error()))?;
        Ok(SpillReader { file, name })
    }

    /// The file's path (for messages).
    pub(super) fn path(&self) -> &Path {
        &self.name.path
    }
}

/// The spill file, complete, to copy windows from; removed when dropped.
pub(super) struct SpillReader {
    file: File,
    name: Name,
}

impl SpillReader {
    /// The file, to read with [`copy_places`].
    pub(super) fn source(&self) -> Source<'_> {
        (&self.file, self.name.path.as_path())
    }
}

/// A file to copy windows from, with its path for messages.
pub(super) type Source<'f> = (&'f File, &'f Path);

/// Copies the bytes at `places`, in order, from `sources` into `w`, a bounded chunk at a time.
///
/// # Errors
/// When a read or the write fails; a read's error names its file.
pub(super) fn copy_places(
    sources: &[Source<'_>],
    places: impl IntoIterator<Item = Place>,
    w: &mut dyn Write,
) -> io::Result<()> {
    let mut buf = vec![0u8; COPY_CHUNK];
    for (k, range) in places {
        let (mut file, path) = sources[k];
        let named = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
        file.seek(SeekFrom::Start(range.start)).map_err(named)?;
        let mut left = range.end - range.start;
        while left > 0 {
            let n = left.min(COPY_CHUNK as u64) as usize;
            file.read_exact(&mut buf[..n]).map_err(named)?;
            w.write_all(&buf[..n])?;
            left -= n as u64;
        }
    }
    Ok(())
}

/// Feeds the bytes at `range` of `source` to `eat`, a bounded chunk at a time.
///
/// # Errors
/// When a read fails.
pub(super) fn read_range(
    source: Source<'_>,
    range: Range<u64>,
    mut eat: impl FnMut(&[u8]),
) -> io::Result<()> {
    struct Eat<F>(F);
    impl<F: FnMut(&[u8])> Write for Eat<F> {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            (self.0)(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    copy_places(&[source], [(0, range)], &mut Eat(&mut eat))
}

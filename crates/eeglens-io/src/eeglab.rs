//! EEGLAB datasets: a `.set` MAT-file (v5/v7, optionally compressed) with the data either inside
//! it or in a separate `.fdt` file.
//!
//! The `EEG` structure is either stored as one variable `EEG` (older EEGLAB) or as its fields saved
//! as top-level variables (EEGLAB 2019 and later); both are read. Fields used: `srate`, `nbchan`,
//! `pnts`, `trials`, `data` (a matrix `[nbchan, pnts, trials]`, or the `.fdt` file name),
//! `datfile`, `chanlocs.labels`, `chanlocs.type`, `event.type` (text, a number printed as MATLAB
//! prints it, or a one-element cell of either), `event.latency` (1-based samples,
//! in the concatenated data for epoched sets), `event.duration` (samples), `xmin`, `subject`,
//! `session`, `etc.T0` (start time, when present).
//!
//! A `.fdt` file holds little-endian float32 values, channels fastest (the column-major layout of
//! the `[nbchan, pnts * trials]` matrix). When the name stored in the `.set` does not exist, the
//! `.fdt` with the same stem as the `.set` is used. Epoched sets are returned as their trials laid
//! end to end; each trial is one [`Segment`]. EEGLAB data are in µV.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::files;
use crate::mat5::{self, MatValue};
use crate::recording::{
    duplicate_label_warnings, implausible_fs, sample_range, select_by_label, Annotation, Channel,
    ChannelType, DateTime, Format, ReadOptions, Recording, Segment,
};
use crate::IoError;

/// Reads a whole EEGLAB dataset.
///
/// # Errors
/// See [`read_eeglab_with`].
pub fn read_eeglab(path: &Path) -> Result<Recording, IoError> {
    read_eeglab_with(path, &ReadOptions::default())
}

fn field<'a>(vars: &'a [(String, MatValue)], eeg: Option<&'a MatValue>, name: &str) -> Option<&'a MatValue> {
    match eeg {
        Some(s) => s.field(0, name),
        None => vars.iter().find(|(n, _)| n == name).map(|(_, v)| v),
    }
}

/// Reads part of an EEGLAB dataset. With a `.fdt` file only the requested samples are read from
/// it; embedded data are decoded with the `.set`.
///
/// # Errors
/// [`IoError::Unsupported`] for MATLAB v7.3 (HDF5) files (the message says how to re-save),
/// [`IoError::Mat`] for malformed MAT-file elements, [`IoError::Field`] for missing or
/// inconsistent `EEG` fields, [`IoError::MissingFile`] when no `.fdt` is found,
/// [`IoError::SizeMismatch`] when the `.fdt` size disagrees with `nbchan * pnts * trials`,
/// [`IoError::NotAFile`] when the `.set` or `.fdt` is a FIFO, device or directory. `EEG.srate`
/// must be between 1e-6 Hz and 1 MHz. The `.fdt` is looked for in the `.set`'s folder only; one
/// that is a symbolic link leading out of it is [`IoError::OutsideFolder`].
/// Duplicate channel labels are [`Recording::warnings`].
pub fn read_eeglab_with(path: &Path, opts: &ReadOptions) -> Result<Recording, IoError> {
    let vars = mat5::read_mat(path)?;
    let eeg = vars.iter().find(|(n, v)| n == "EEG" && matches!(v, MatValue::Struct { .. })).map(|(_, v)| v);
    let f = Fields { path, vars: &vars, eeg };
    let srate = f.num("srate")?;
    if let Some(why) = implausible_fs(srate) {
        return Err(f.bad("srate", format!("{srate:e}"), &why));
    }
    let shape = f.shape()?;
    let source = f.source(&shape)?;

    let mut rec = Recording::new(Format::Eeglab);
    let (names, kinds) = channel_labels(f.get("chanlocs"), shape.nbchan);
    rec.warnings.extend(duplicate_label_warnings(
        names.iter().enumerate().map(|(i, n)| (i + 1, n.as_str())),
        "channels",
    ));
    let selected = select_by_label(path, &names, opts)?;
    for &c in &selected {
        rec.channels.push(Channel::new(names[c].clone(), kinds[c], srate));
    }
    let (first, last) = sample_range(opts, srate, shape.total);

    // Data (its size was checked against nbchan x pnts x trials above).
    let nbchan = shape.nbchan;
    rec.data = match source {
        Source::Fdt(fdt) => read_fdt(&fdt, nbchan, &selected, first, last)?,
        Source::Single(data) => {
            selected.iter().map(|&c| (first..last).map(|t| data[t * nbchan + c]).collect()).collect()
        }
        Source::Double(data) => {
            selected.iter().map(|&c| (first..last).map(|t| data[t * nbchan + c] as f32).collect()).collect()
        }
    };
    if let Some(ev) = f.get("event") {
        read_events(ev, srate, &mut rec);
    }
    rec.segments = (0..shape.trials)
        .map(|k| {
            let off = (k * shape.pnts) as f64 / srate;
            Segment { data_offset_s: off, onset_s: off, duration_s: shape.pnts as f64 / srate }
        })
        .collect();
    if let Some(s) = f.get("subject").and_then(MatValue::as_string) {
        rec.subject.id = s;
    }
    if let Some(s) = f.get("session").and_then(MatValue::as_string) {
        rec.recording_id = format!("session {s}");
    }
    rec.start = f.get("etc").and_then(|e| e.field(0, "T0")).and_then(start_time);
    Ok(rec)
}

/// The `EEG` fields of a dataset, from its struct or from its top-level variables.
struct Fields<'a> {
    path: &'a Path,
    vars: &'a [(String, MatValue)],
    eeg: Option<&'a MatValue>,
}

/// The data's dimensions, checked: `nbchan` channels of `total = pnts * trials` samples.
struct Shape {
    nbchan: usize,
    pnts: usize,
    trials: usize,
    total: usize,
    /// `nbchan * total`.
    n_values: usize,
}

impl<'a> Fields<'a> {
    fn get(&self, name: &str) -> Option<&'a MatValue> {
        field(self.vars, self.eeg, name)
    }

    fn bad(&self, name: &str, value: String, reason: &str) -> IoError {
        IoError::Field {
            path: self.path.to_path_buf(),
            field: format!("EEG.{name}"),
            offset: 0,
            value,
            reason: reason.into(),
        }
    }

    fn num(&self, name: &str) -> Result<f64, IoError> {
        self.get(name)
            .and_then(MatValue::as_f64)
            .ok_or_else(|| self.bad(name, String::new(), "missing or not a number"))
    }

    /// `nbchan`, `pnts` and `trials`, and the sizes they imply.
    fn shape(&self) -> Result<Shape, IoError> {
        let nbchan = self.num("nbchan")?;
        let pnts = self.num("pnts")?;
        let trials = self.get("trials").and_then(MatValue::as_f64).unwrap_or(1.0);
        for (n, v) in [("nbchan", nbchan), ("pnts", pnts), ("trials", trials)] {
            if v < 0.0 || v.fract() != 0.0 || v > 1e12 {
                return Err(self.bad(n, v.to_string(), "must be a non-negative integer"));
            }
        }
        let (nbchan, pnts, trials) = (nbchan as usize, pnts as usize, (trials as usize).max(1));
        if nbchan > MAX_CHANNELS {
            return Err(self.bad(
                "nbchan",
                nbchan.to_string(),
                &format!("more than {MAX_CHANNELS} channels"),
            ));
        }
        if pnts == 0 && trials > 1 {
            return Err(self.bad("trials", trials.to_string(), "several trials of EEG.pnts = 0 points"));
        }
        // Sizes from header fields, in checked arithmetic, compared with the data before anything
        // is allocated from them: a product that wrapped could match a small file.
        let shape = Shape { nbchan, pnts, trials, total: 0, n_values: 0 };
        let total = pnts.checked_mul(trials).ok_or_else(|| self.overflow(&shape, "pnts"))?;
        let n_values = nbchan.checked_mul(total).ok_or_else(|| self.overflow(&shape, "nbchan"))?;
        // Without channels the data hold no values, so nothing bounds pnts x trials: an empty
        // .fdt would "match" any count of points (and of trials, one segment each).
        if nbchan == 0 && total > 0 {
            return Err(self.bad(
                "nbchan",
                "0".into(),
                &format!("no channels for the {total} points of the header"),
            ));
        }
        Ok(Shape { total, n_values, ..shape })
    }

    fn overflow(&self, s: &Shape, what: &str) -> IoError {
        self.bad(
            what,
            format!("nbchan {} x pnts {} x trials {}", s.nbchan, s.pnts, s.trials),
            "the data size this implies overflows",
        )
    }

    /// Where the samples are, with their size checked against `shape`.
    fn source(&self, shape: &Shape) -> Result<Source<'a>, IoError> {
        let data_v = self.get("data").ok_or_else(|| self.bad("data", String::new(), "missing"))?;
        match data_v {
            MatValue::Char(name) => {
                let fdt = find_fdt(self.path, name, self.get("datfile").and_then(MatValue::as_string))?;
                let bytes =
                    (shape.n_values as u64).checked_mul(4).ok_or_else(|| self.overflow(shape, "nbchan"))?;
                check_fdt(&fdt, shape.nbchan, shape.total, bytes)?;
                Ok(Source::Fdt(fdt))
            }
            MatValue::Single { data, .. } => {
                check_embedded(self.path, data.len(), shape.n_values)?;
                Ok(Source::Single(data))
            }
            MatValue::Numeric { data, .. } => {
                check_embedded(self.path, data.len(), shape.n_values)?;
                Ok(Source::Double(data))
            }
            _ => Err(self.bad("data", String::new(), "neither a matrix nor a .fdt file name")),
        }
    }
}

/// Each channel's label and type from `EEG.chanlocs` (the channel's number when it has no label).
fn channel_labels(chanlocs: Option<&MatValue>, nbchan: usize) -> (Vec<String>, Vec<ChannelType>) {
    let mut names = Vec::with_capacity(nbchan);
    let mut kinds = Vec::with_capacity(nbchan);
    for c in 0..nbchan {
        let label = chanlocs
            .and_then(|cl| cl.field(c, "labels"))
            .and_then(MatValue::as_string)
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| format!("{}", c + 1));
        let kind = chanlocs
            .and_then(|cl| cl.field(c, "type"))
            .and_then(MatValue::as_string)
            .filter(|s| !s.is_empty())
            .map_or_else(|| ChannelType::infer(&label, "uV"), |t| ChannelType::from_bids(&t));
        names.push(label);
        kinds.push(kind);
    }
    (names, kinds)
}

/// `EEG.event` as annotations; an event without a numeric latency is skipped with a warning.
fn read_events(ev: &MatValue, srate: f64, rec: &mut Recording) {
    for i in 0..ev.len() {
        let Some(lat) = ev.field(i, "latency").and_then(MatValue::as_f64) else {
            rec.warnings.push(format!("EEG.event({}) has no numeric latency; skipped", i + 1));
            continue;
        };
        let description = ev.field(i, "type").and_then(MatValue::as_string).unwrap_or_default();
        let duration_s = ev
            .field(i, "duration")
            .and_then(MatValue::as_f64)
            .filter(|d| d.is_finite() && *d > 0.0)
            .map(|d| d / srate);
        rec.annotations.push(Annotation { onset_s: (lat - 1.0) / srate, duration_s, description });
    }
}

/// The start time from `EEG.etc.T0` (`[year month day hour minute seconds]`), when valid.
fn start_time(t0: &MatValue) -> Option<DateTime> {
    let MatValue::Numeric { data, .. } = t0 else { return None };
    if data.len() < 6 {
        return None;
    }
    let sec = data[5];
    let (y, mo, d, h, mi) = (data[0] as i32, data[1] as u8, data[2] as u8, data[3] as u8, data[4] as u8);
    let mut dt = DateTime::new(y, mo, d, h, mi, sec.floor() as u8)?;
    dt.nanos = ((sec - sec.floor()) * 1e9).round().min(999_999_999.0) as u32;
    Some(dt)
}

/// Where the samples are: a `.fdt` file, or the `.set` itself.
enum Source<'a> {
    Fdt(PathBuf),
    Single(&'a [f32]),
    Double(&'a [f64]),
}

/// At most this many channels (EEG systems have a few hundred): the channel list is allocated
/// before any data is read, and a file without samples does not bound it otherwise.
const MAX_CHANNELS: usize = 1 << 20;

fn check_embedded(path: &Path, len: usize, n_values: usize) -> Result<(), IoError> {
    if len != n_values {
        return Err(IoError::Field {
            path: path.to_path_buf(),
            field: "EEG.data".into(),
            offset: 0,
            value: format!("{len} values"),
            reason: format!("nbchan * pnts * trials = {n_values}"),
        });
    }
    Ok(())
}

/// Checks the `.fdt` size against the `expected` bytes of `nbchan * total` float32 values.
fn check_fdt(fdt: &Path, nbchan: usize, total: usize, expected: u64) -> Result<(), IoError> {
    files::check_regular(fdt)?;
    let len = std::fs::metadata(fdt).map_err(|e| IoError::os(fdt, e))?.len();
    let what = format!("nbchan {nbchan} x pnts*trials {total} float32 values");
    if len != expected {
        return Err(IoError::SizeMismatch { path: fdt.to_path_buf(), what, expected, actual: len });
    }
    Ok(())
}

/// Finds the `.fdt` file in the `.set`'s folder: the name stored in `EEG.data`, then `EEG.datfile`,
/// then the `.set`'s stem with `.fdt`/`.FDT`. Only the last component of a stored name is used
/// (it may carry a folder of the machine that saved it), so the data are never looked for outside
/// the `.set`'s folder, whatever the name says (`../x.fdt`, `/dev/zero`), nor through a symbolic
/// link that leads out of it ([`IoError::OutsideFolder`]).
fn find_fdt(set: &Path, name: &str, datfile: Option<String>) -> Result<PathBuf, IoError> {
    let dir = set.parent().unwrap_or(Path::new("."));
    let mut candidates = Vec::new();
    for n in [Some(name.to_string()), datfile].into_iter().flatten() {
        let n = n.trim();
        let base = n.rsplit(['/', '\\']).next().unwrap_or(n);
        // A name no file can have (binary read as text) is not looked for, nor quoted later.
        let valid = base.len() <= files::MAX_NAME_BYTES && !base.chars().any(char::is_control);
        if valid && !base.is_empty() && base != "." && base != ".." {
            candidates.push(dir.join(base));
        }
    }
    let missing = candidates.first().cloned().unwrap_or_else(|| set.with_extension("fdt"));
    candidates.push(set.with_extension("fdt"));
    candidates.push(set.with_extension("FDT"));
    for p in &candidates {
        files::check_within(set, dir, p)?;
        match files::check_regular(p) {
            Ok(()) => return Ok(p.clone()),
            Err(IoError::Os { cause, .. }) if cause.kind() == std::io::ErrorKind::NotFound => {}
            // A candidate that exists but cannot be read (a FIFO, a directory, no permission) is
            // an error rather than a reason to read another file.
            Err(e) => return Err(e),
        }
    }
    Err(IoError::MissingFile {
        path: set.to_path_buf(),
        missing,
        referenced_by: format!("EEG.data (also tried {})", set.with_extension("fdt").display()),
    })
}

/// Reads samples `first..last` of the `selected` channels; the file's size was checked by
/// [`check_fdt`].
fn read_fdt(
    fdt: &Path,
    nbchan: usize,
    selected: &[usize],
    first: usize,
    last: usize,
) -> Result<Vec<Vec<f32>>, IoError> {
    let mut f = files::open_regular(fdt)?;
    // One buffer per selected channel (none without channels): `last - first` is bounded by the
    // file's size only when there is at least one channel.
    let mut out: Vec<Vec<f32>> = selected.iter().map(|_| Vec::with_capacity(last - first)).collect();
    if last == first {
        return Ok(out);
    }
    let frame = nbchan * 4;
    f.seek(SeekFrom::Start((first * frame) as u64)).map_err(|e| IoError::os(fdt, e))?;
    let chunk = ((4 << 20) / frame.max(1)).max(1);
    let mut buf = vec![0u8; chunk * frame];
    let mut done = first;
    while done < last {
        let n = chunk.min(last - done);
        let b = &mut buf[..n * frame];
        f.read_exact(b).map_err(|e| IoError::os(fdt, e))?;
        for fr in b.chunks_exact(frame) {
            for (k, &c) in selected.iter().enumerate() {
                let s = &fr[c * 4..c * 4 + 4];
                out[k].push(f32::from_le_bytes([s[0], s[1], s[2], s[3]]));
            }
        }
        done += n;
    }
    Ok(out)
}

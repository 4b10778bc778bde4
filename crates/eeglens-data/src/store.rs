//! The epoch store: labelled windows in one safetensors file.
//!
//! | tensor | dtype | shape | meaning |
//! | --- | --- | --- | --- |
//! | `x` | F32 | `[N, C, T]` | windows in the prepared unit (µV, or z-scores) |
//! | `y` | I64 | `[N]` | class index into `classes` |
//! | `subject` | I32 | `[N]` | subject index into `subjects` |
//! | `split` | U8 | `[N]` | 0 train, 1 validation, 2 test (`split_codes`) |
//! | `recording` | I32 | `[N]` | recording index into `recordings` (optional) |
//! | `onset_s` | F64 | `[N]` | onset in seconds on the recording's own time axis (optional) |
//! | `target` | F32 | `[N]` | numeric stores only: the target value of each window's subject |
//!
//! `__metadata__` holds `format` (`eeglens-epochs/1`), `channels`, `classes`,
//! `subjects` (JSON arrays of strings), `fs` (Hz), `label_column`,
//! `split_codes` (`{"0":"train","1":"val","2":"test"}`), `unit` (of `x`:
//! `µV`, or `z-score` when the preparation normalised the windows),
//! `recordings` (with the two optional tensors: each recording's path relative
//! to the dataset root, see [`WindowSources`]),
//! `settings` (a JSON object describing the preparation) and
//! `content_sha256` (see [`EpochStore::compute_content_sha256`]: a hash of the
//! tensors and the other metadata, so a run can tell cheaply whether a store is
//! the one it was trained on). Python opens the file with
//! `safetensors.numpy.load_file`. Stores written before `split_codes`, `unit`,
//! `recording` and `onset_s` existed still open: [`EpochMeta::unit`] is then
//! read from the settings' `normalise` when they have it, and
//! [`EpochStore::sources`] is `None`. docs/json.md describes every key.
//!
//! A store prepared with `--target numeric` (a regression target such as age)
//! also holds the tensor `target` and the metadata `target`, a JSON object
//! `{"kind": "numeric", "column": "age", "unit": "years"}` ([`NumericTarget`];
//! `unit` is `null` when participants.json does not give one). Its `y` and
//! `classes` are then the strata the subjects were split by (the target's
//! halves at its median), not what a model learns. Class stores have neither,
//! and their bytes and content hash are what they were before numeric targets.
//!
//! [`EpochStore::open`] memory-maps the file, so a store larger than RAM can
//! be trained on: a batch copies just its windows out of the map. It also
//! reads every window once to refuse non-finite values (about 0.25 s per GiB
//! on one core when the file is in the page cache).

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{self, Seek, Write};
use std::path::{Path, PathBuf};

use eeglens_autodiff::Tensor;
use rayon::prelude::*;
use safetensors::tensor::{Dtype, Metadata, TensorInfo, TensorView};
use safetensors::SafeTensors;
use sha2::{Digest, Sha256};

use crate::error::DataError;

/// The format tag written to `__metadata__["format"]`.
pub const FORMAT: &str = "eeglens-epochs/1";

/// The metadata key of the content hash ([`EpochStore::compute_content_sha256`]).
pub const CONTENT_KEY: &str = "content_sha256";

/// The store's tensors, in the order the content hash reads them (then [`SOURCE_TENSORS`] when
/// the store has them).
const TENSORS: [&str; 4] = ["x", "y", "subject", "split"];

/// The optional per-window tensors of [`WindowSources`], in the order the content hash reads them.
const SOURCE_TENSORS: [&str; 2] = ["recording", "onset_s"];

/// The metadata key naming the split codes of tensor `split`.
pub const SPLIT_CODES_KEY: &str = "split_codes";

/// The unit of `x` when the windows are in microvolts.
pub const UNIT_MICROVOLT: &str = "µV";

/// The unit of `x` when the preparation normalised the windows (channel means removed, divided
/// by one standard deviation per recording or per window).
pub const UNIT_Z_SCORE: &str = "z-score";

/// `split_codes` as written: the code of each [`Split`] and its name.
pub fn split_codes_json() -> String {
    let codes: BTreeMap<String, &str> =
        Split::ALL.iter().map(|&s| ((s as u8).to_string(), s.name())).collect();
    serde_json::to_string(&codes).expect("strings serialise")
}

/// The tensor and metadata key of a numeric store's target values.
pub const TARGET_KEY: &str = "target";

/// The numeric target of a regression store: each window's value of a numeric
/// participants.tsv column (its subject's), with the column's name and unit.
#[derive(Clone, Debug, PartialEq)]
pub struct NumericTarget {
    /// the participants.tsv column (`age`)
    pub column: String,
    /// its unit when participants.json gives one (`years`)
    pub unit: Option<String>,
    /// one value per window
    pub values: Vec<f32>,
}

impl NumericTarget {
    /// The metadata entry describing the target (without the values).
    fn meta_json(&self) -> String {
        serde_json::json!({"kind": "numeric", "column": self.column, "unit": self.unit}).to_string()
    }
}

/// SHA-256 (lower-case hex) of the tensors' bytes, each preceded by its name
/// and length, then of every metadata entry but the hash itself, by key.
fn content_hash<'a>(
    tensors: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    info: impl IntoIterator<Item = (&'a String, &'a String)>,
) -> String {
    let mut h = Sha256::new();
    for (name, bytes) in tensors {
        hash_tensor_prefix(&mut h, name, bytes.len());
        h.update(bytes);
    }
    finish_hash(h, info)
}

/// What the content hash reads before a tensor's bytes: its name and length.
pub(crate) fn hash_tensor_prefix(h: &mut Sha256, name: &str, len: usize) {
    h.update(name.as_bytes());
    h.update((len as u64).to_le_bytes());
}

/// The content hash once the tensors are in `h`: every metadata entry but the hash itself, by
/// key, then the digest in lower-case hex.
pub(crate) fn finish_hash<'a>(
    mut h: Sha256,
    info: impl IntoIterator<Item = (&'a String, &'a String)>,
) -> String {
    let sorted: BTreeMap<&String, &String> = info.into_iter().filter(|(k, _)| *k != CONTENT_KEY).collect();
    for (k, v) in sorted {
        h.update((k.len() as u64).to_le_bytes());
        h.update(k.as_bytes());
        h.update((v.len() as u64).to_le_bytes());
        h.update(v.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Which part of the data a window belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Split {
    /// used to fit the weights
    Train = 0,
    /// used for early stopping and model selection
    Val = 1,
    /// held out until the end
    Test = 2,
}

impl Split {
    /// All three, in order.
    pub const ALL: [Split; 3] = [Split::Train, Split::Val, Split::Test];

    /// The lower-case name used on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Val => "val",
            Split::Test => "test",
        }
    }

    /// Parses `train`, `val`/`validation` or `test`.
    pub fn parse(s: &str) -> Option<Split> {
        match s.to_ascii_lowercase().as_str() {
            "train" => Some(Split::Train),
            "val" | "valid" | "validation" => Some(Split::Val),
            "test" => Some(Split::Test),
            _ => None,
        }
    }

    fn from_u8(v: u8) -> Option<Split> {
        match v {
            0 => Some(Split::Train),
            1 => Some(Split::Val),
            2 => Some(Split::Test),
            _ => None,
        }
    }
}

/// What describes the windows besides their values.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochMeta {
    /// channel names, in the order of the `C` axis
    pub channels: Vec<String>,
    /// sampling rate in Hz
    pub fs: f64,
    /// class names; `y` indexes into this
    pub classes: Vec<String>,
    /// the participants.tsv column the labels came from
    pub label_column: String,
    /// subject identifiers; `subject` indexes into this
    pub subjects: Vec<String>,
    /// how the windows were prepared (free-form JSON object)
    pub settings: serde_json::Value,
    /// the unit of `x` ([`UNIT_MICROVOLT`], [`UNIT_Z_SCORE`]); `None` when unknown
    pub unit: Option<String>,
}

/// Where each window came from, so any window can be traced back to its file: the recording
/// and the onset. Stored as tensors `recording` (I32) and `onset_s` (F64) and the metadata
/// list `recordings`.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct WindowSources {
    /// the recordings, as paths relative to the dataset root (`/`-separated; the file name
    /// holds the BIDS entities `sub-`, `ses-`, `task-`, `run-`)
    pub recordings: Vec<String>,
    /// per window: its recording, an index into `recordings`
    pub recording: Vec<u32>,
    /// per window: its first sample's time in seconds from the recording's first sample (the
    /// time axis of the file's annotations and of its events.tsv), whatever the eyes-closed
    /// selection, resampling or rejection kept
    pub onset_s: Vec<f64>,
}

/// Epochs held in memory, ready to be written.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochSet {
    /// windows, row-major `[n, n_channels, n_samples]`
    pub x: Vec<f32>,
    /// samples per window
    pub n_samples: usize,
    /// class index per window
    pub y: Vec<u32>,
    /// subject index per window
    pub subject: Vec<u32>,
    /// split per window
    pub split: Vec<Split>,
    /// names, rate and settings
    pub meta: EpochMeta,
    /// each window's recording and onset; `None` for windows that come from no file (toy
    /// sets) or a store written before they were recorded
    pub sources: Option<WindowSources>,
    /// the numeric target per window of a regression store; `None` for a class store
    pub target: Option<NumericTarget>,
}

impl EpochSet {
    /// Number of windows.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// True when there is no window.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// Checks that lengths, indices and values agree (finite samples, class and
    /// subject indices in range).
    pub fn validate(&self) -> Result<(), DataError> {
        let n = self.y.len();
        let c = self.meta.channels.len();
        let t = self.n_samples;
        self.validate_labels()?;
        if self.x.len() != n * c * t {
            return Err(DataError::Invalid(format!(
                "x holds {} values, expected {n} windows x {c} channels x {t} samples",
                self.x.len()
            )));
        }
        if let Some(i) = self.x.iter().position(|v| !v.is_finite()) {
            return Err(DataError::Invalid(format!(
                "window {} holds a non-finite value",
                i / (c * t).max(1)
            )));
        }
        Ok(())
    }

    /// [`EpochSet::validate`] without the windows `x`: the labels, subjects, splits, sources
    /// and target.
    fn validate_labels(&self) -> Result<(), DataError> {
        let n = self.y.len();
        if self.subject.len() != n || self.split.len() != n {
            return Err(DataError::Invalid(format!(
                "{} labels, {} subject ids, {} split entries",
                n,
                self.subject.len(),
                self.split.len()
            )));
        }
        if let Some(i) = self.y.iter().position(|&v| v as usize >= self.meta.classes.len()) {
            return Err(DataError::Invalid(format!(
                "window {i} has class {} of {}",
                self.y[i],
                self.meta.classes.len()
            )));
        }
        if let Some(i) = self.subject.iter().position(|&v| v as usize >= self.meta.subjects.len()) {
            return Err(DataError::Invalid(format!(
                "window {i} has subject {} of {}",
                self.subject[i],
                self.meta.subjects.len()
            )));
        }
        if let Some(src) = &self.sources {
            if src.recording.len() != n || src.onset_s.len() != n {
                return Err(DataError::Invalid(format!(
                    "{n} windows, {} recording indices, {} onsets",
                    src.recording.len(),
                    src.onset_s.len()
                )));
            }
            if let Some(i) = src.recording.iter().position(|&r| r as usize >= src.recordings.len()) {
                return Err(DataError::Invalid(format!(
                    "window {i} has recording {} of {}",
                    src.recording[i],
                    src.recordings.len()
                )));
            }
            if let Some(i) = src.onset_s.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
                return Err(DataError::Invalid(format!("window {i} has onset {} s", src.onset_s[i])));
            }
        }
        if let Some(target) = &self.target {
            if target.values.len() != n {
                return Err(DataError::Invalid(format!(
                    "{} target values for {n} windows",
                    target.values.len()
                )));
            }
            if let Some(i) = target.values.iter().position(|v| !v.is_finite()) {
                return Err(DataError::Invalid(format!("window {i} has a non-finite target value")));
            }
        }
        Ok(())
    }

    /// Writes the set as an epoch store at `path`.
    ///
    /// The file is written in one pass through [`eeglens_io::atomic`], the content hash
    /// computed on the way and filled into the header at the end: no serialised copy of the
    /// windows is made in memory.
    ///
    /// # Errors
    /// [`DataError::Invalid`] when [`EpochSet::validate`] fails; [`DataError::Io`] when the file cannot be written.
    pub fn write(&self, path: &Path) -> Result<(), DataError> {
        self.validate()?;
        self.write_windows_from(path, |w| write_f32s(w, &self.x))
    }

    /// Writes the store with the windows `x` written by `windows` (exactly `len()` windows of
    /// `n_channels * n_samples` little-endian f32 values, in order) instead of taken from
    /// `self.x`, which is ignored: the windows can come from a file rather than memory. The
    /// bytes are those [`EpochSet::write`] writes for the same windows; every value is checked
    /// to be finite on the way.
    ///
    /// # Errors
    /// [`DataError::Invalid`] when the labels, subjects, splits, sources or target do not
    /// agree, `windows` writes another number of bytes, or a value is not finite;
    /// [`DataError::Io`] when the file cannot be written or `windows` fails.
    pub(crate) fn write_windows_from(
        &self,
        path: &Path,
        windows: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    ) -> Result<(), DataError> {
        self.validate_labels()?;
        let (x, owned, info) = self.layout();
        write_streamed(path, x, owned, info, windows)
    }

    /// The store's file without the windows' bytes: the tensor `x` (written by a stream), the
    /// other tensors' bytes in the order the content hash reads them, and the metadata (without
    /// the hash).
    pub(crate) fn layout(&self) -> (StreamedTensor, Vec<OwnedTensor>, HashMap<String, String>) {
        let n = self.len();
        let c = self.meta.channels.len();
        let owned = |name: &'static str, dtype: Dtype, bytes: Vec<u8>| OwnedTensor {
            name,
            dtype,
            shape: vec![n],
            bytes,
        };
        let mut tensors = vec![
            owned("y", Dtype::I64, self.y.iter().flat_map(|&v| (v as i64).to_le_bytes()).collect()),
            owned(
                "subject",
                Dtype::I32,
                self.subject.iter().flat_map(|&v| (v as i32).to_le_bytes()).collect(),
            ),
            owned("split", Dtype::U8, self.split.iter().map(|&s| s as u8).collect()),
        ];
        let m = &self.meta;
        let mut info = HashMap::new();
        info.insert("format".to_string(), FORMAT.to_string());
        info.insert("channels".to_string(), serde_json::to_string(&m.channels).expect("strings serialise"));
        info.insert("classes".to_string(), serde_json::to_string(&m.classes).expect("strings serialise"));
        info.insert("subjects".to_string(), serde_json::to_string(&m.subjects).expect("strings serialise"));
        info.insert("fs".to_string(), m.fs.to_string());
        info.insert("label_column".to_string(), m.label_column.clone());
        info.insert("settings".to_string(), m.settings.to_string());
        info.insert(SPLIT_CODES_KEY.to_string(), split_codes_json());
        if let Some(unit) = &m.unit {
            info.insert("unit".to_string(), unit.clone());
        }
        if let Some(src) = &self.sources {
            tensors.push(owned(
                SOURCE_TENSORS[0],
                Dtype::I32,
                src.recording.iter().flat_map(|&v| (v as i32).to_le_bytes()).collect(),
            ));
            tensors.push(owned(
                SOURCE_TENSORS[1],
                Dtype::F64,
                src.onset_s.iter().flat_map(|v| v.to_le_bytes()).collect(),
            ));
            info.insert(
                "recordings".to_string(),
                serde_json::to_string(&src.recordings).expect("strings serialise"),
            );
        }
        if let Some(t) = &self.target {
            tensors.push(owned(
                TARGET_KEY,
                Dtype::F32,
                t.values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            ));
            info.insert(TARGET_KEY.to_string(), t.meta_json());
        }
        let x = StreamedTensor {
            name: "x",
            dtype: Dtype::F32,
            shape: vec![n, c, self.n_samples],
            finite_per: Some(c * self.n_samples),
        };
        (x, tensors, info)
    }
}

/// Writes `values` as little-endian bytes, a bounded chunk at a time.
pub(crate) fn write_f32s(w: &mut dyn Write, values: &[f32]) -> io::Result<()> {
    let mut buf = Vec::with_capacity(COPY_CHUNK);
    for chunk in values.chunks(COPY_CHUNK / 4) {
        buf.clear();
        buf.extend(chunk.iter().flat_map(|v| v.to_le_bytes()));
        w.write_all(&buf)?;
    }
    Ok(())
}

/// Bytes copied at a time when windows are streamed into a file.
pub(crate) const COPY_CHUNK: usize = 1 << 20;

/// A tensor of a file written by [`write_streamed`] whose bytes are in memory.
pub(crate) struct OwnedTensor {
    pub(crate) name: &'static str,
    pub(crate) dtype: Dtype,
    pub(crate) shape: Vec<usize>,
    pub(crate) bytes: Vec<u8>,
}

/// The one tensor of a file written by [`write_streamed`] whose bytes are streamed (the
/// windows); the content hash reads it first.
pub(crate) struct StreamedTensor {
    pub(crate) name: &'static str,
    pub(crate) dtype: Dtype,
    pub(crate) shape: Vec<usize>,
    /// `Some(values per window)`: the bytes are f32 values that must all be finite, and a
    /// refusal names the window
    pub(crate) finite_per: Option<usize>,
}

/// The largest header the safetensors reader accepts.
const MAX_HEADER: usize = 100_000_000;

/// The JSON text of a safetensors header in a fixed order, so that the same store gives the
/// same bytes in every process (the crate's `Metadata` holds the metadata in a hash map, and
/// serialises it in that map's order): the metadata's keys sorted, then the tensors in the
/// order of their data, each entry's fields as the crate writes them.
pub(crate) fn header_text(header: &Metadata) -> Vec<u8> {
    let mut tensors: Vec<(String, &TensorInfo)> = header.tensors().into_iter().collect();
    tensors.sort_by_key(|(_, info)| info.data_offsets);
    let mut text = String::from("{");
    if let Some(meta) = header.metadata() {
        let sorted: BTreeMap<&String, &String> = meta.iter().collect();
        text.push_str("\"__metadata__\":");
        text.push_str(&serde_json::to_string(&sorted).expect("strings serialise"));
    }
    for (name, info) in tensors {
        if text.len() > 1 {
            text.push(',');
        }
        text.push_str(&serde_json::to_string(&name).expect("a string serialises"));
        text.push(':');
        text.push_str(&serde_json::to_string(info).expect("a tensor entry serialises"));
    }
    text.push('}');
    text.into_bytes()
}

/// Writes a safetensors file at `path`, atomically ([`eeglens_io::atomic`]), with the bytes
/// `safetensors::serialize` makes for the same tensors and metadata (the header's keys sorted, so
/// that the same store is the same bytes in every process), plus the content hash
/// ([`CONTENT_KEY`]) of the scheme of [`EpochStore::compute_content_sha256`]: `streamed` first,
/// then `owned` in their order, then the metadata. The streamed tensor's bytes go from `write`
/// through the hash into the file, never into memory whole; the header is written first with a
/// placeholder for the hash, which is filled in at the end.
///
/// # Errors
/// [`DataError::Invalid`] when `write` writes another number of bytes than the tensor's shape
/// says, a value is not finite (with `finite_per`), or the header is too large;
/// [`DataError::Io`] when the file cannot be written or `write` fails.
pub(crate) fn write_streamed(
    path: &Path,
    streamed: StreamedTensor,
    owned: Vec<OwnedTensor>,
    mut info: HashMap<String, String>,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), DataError> {
    let invalid = |what: String| DataError::Invalid(format!("{}: {what}", path.display()));
    let size = |dtype: Dtype, shape: &[usize]| {
        // Every dtype written here is a whole number of bytes.
        shape
            .iter()
            .try_fold(dtype.bitsize() / 8, |a, &d| a.checked_mul(d))
            .ok_or_else(|| invalid(format!("a tensor of shape {shape:?} overflows")))
    };
    let streamed_len = size(streamed.dtype, &streamed.shape)?;
    // The file's order, as `safetensors::serialize` lays it out: by descending dtype, then name.
    // `None` is the streamed tensor, `Some(i)` the owned tensor `i`.
    let mut order: Vec<(Dtype, &str, Option<usize>)> = std::iter::once((streamed.dtype, streamed.name, None))
        .chain(owned.iter().enumerate().map(|(i, t)| (t.dtype, t.name, Some(i))))
        .collect();
    order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    let mut infos = Vec::with_capacity(order.len());
    let mut offset = 0;
    for &(dtype, name, which) in &order {
        let (shape, len) = match which {
            None => (streamed.shape.clone(), streamed_len),
            Some(i) => {
                let t = &owned[i];
                if size(t.dtype, &t.shape)? != t.bytes.len() {
                    return Err(invalid(format!(
                        "tensor `{name}` holds {} bytes for shape {:?}",
                        t.bytes.len(),
                        t.shape
                    )));
                }
                (t.shape.clone(), t.bytes.len())
            }
        };
        infos.push((name.to_string(), TensorInfo { dtype, shape, data_offsets: (offset, offset + len) }));
        offset += len;
    }
    const PLACEHOLDER: &str = "0000000000000000000000000000000000000000000000000000000000000000";
    info.insert(CONTENT_KEY.to_string(), PLACEHOLDER.to_string());
    let header =
        Metadata::new(Some(info), infos).map_err(|e| invalid(format!("cannot lay out the tensors: {e}")))?;
    let mut header_bytes = header_text(&header);
    header_bytes.resize(header_bytes.len().next_multiple_of(8), b' ');
    if header_bytes.len() > MAX_HEADER {
        return Err(invalid(format!("a header of {} bytes is too large", header_bytes.len())));
    }
    let info = header.metadata().as_ref().expect("the metadata was given");
    // Where the hash goes: the value of the key `content_sha256` (the same text inside another
    // key or value would have its quotes escaped).
    let key = format!("\"{CONTENT_KEY}\":\"{PLACEHOLDER}\"");
    let at =
        8 + find(&header_bytes, key.as_bytes()).expect("the header holds the hash's placeholder") + key.len()
            - PLACEHOLDER.len()
            - 1;
    let mut failure: Option<String> = None;
    eeglens_io::atomic::write_file_seekable(path, |w| {
        w.write_all(&(header_bytes.len() as u64).to_le_bytes())?;
        w.write_all(&header_bytes)?;
        let mut h = Sha256::new();
        hash_tensor_prefix(&mut h, streamed.name, streamed_len);
        let mut write = Some(write);
        for &(_, name, which) in &order {
            let Some(i) = which else {
                let mut hw = HashingWriter::new(&mut *w, &mut h, streamed.finite_per);
                let res = write.take().expect("one streamed tensor")(&mut hw);
                if let Some(window) = hw.bad {
                    failure = Some(format!("window {window} holds a non-finite value"));
                } else if res.is_ok() && hw.written != streamed_len {
                    failure = Some(format!(
                        "tensor `{name}`: {} bytes written for {streamed_len} (shape {:?})",
                        hw.written, streamed.shape
                    ));
                }
                res?;
                if failure.is_some() {
                    return Err(io::Error::other("refused"));
                }
                continue;
            };
            w.write_all(&owned[i].bytes)?;
        }
        for t in &owned {
            hash_tensor_prefix(&mut h, t.name, t.bytes.len());
            h.update(&t.bytes);
        }
        let hash = finish_hash(h, info);
        w.seek(io::SeekFrom::Start(at as u64))?;
        w.write_all(hash.as_bytes())?;
        w.seek(io::SeekFrom::End(0))?;
        Ok(())
    })
    .map_err(|e| match failure.take() {
        Some(what) => invalid(what),
        None => DataError::io(path, e),
    })
}

/// The position of the first `needle` in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A writer that hashes what it passes on, counts it and, when asked, checks that it is finite
/// f32 values (whatever the boundaries of the writes).
struct HashingWriter<'a> {
    inner: &'a mut dyn Write,
    hash: &'a mut Sha256,
    written: usize,
    /// `Some(values per window)`: check that every value is finite
    finite_per: Option<usize>,
    /// the bytes of a value cut by a write's end
    carry: Vec<u8>,
    /// the first window holding a non-finite value
    bad: Option<usize>,
}

impl<'a> HashingWriter<'a> {
    fn new(inner: &'a mut dyn Write, hash: &'a mut Sha256, finite_per: Option<usize>) -> Self {
        Self { inner, hash, written: 0, finite_per, carry: Vec::with_capacity(4), bad: None }
    }

    /// Records the first window of `bytes` (starting at byte `self.written`) holding a value
    /// that is not finite.
    fn check(&mut self, bytes: &[u8]) {
        let Some(per) = self.finite_per else { return };
        // NaN and the infinities are exactly the values whose exponent bits are all set.
        let bad = |b: &[u8]| u32::from_le_bytes(b.try_into().expect("4 bytes")) & 0x7f80_0000 == 0x7f80_0000;
        let mut first = self.written / 4; // the value the first whole value of `bytes` is
        let mut rest = bytes;
        if !self.carry.is_empty() {
            let take = (4 - self.carry.len()).min(rest.len());
            self.carry.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.carry.len() < 4 {
                return;
            }
            if bad(&self.carry) {
                self.bad = Some(first / per.max(1));
                return;
            }
            self.carry.clear();
            first += 1;
        }
        let whole = rest.chunks_exact(4);
        let tail = whole.remainder();
        if let Some(i) = whole.clone().position(bad) {
            self.bad = Some((first + i) / per.max(1));
        }
        self.carry.extend_from_slice(tail);
    }
}

impl Write for HashingWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.bad.is_some() {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "a value is not finite"));
        }
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.check(&buf[..n]);
        self.written += n;
        if self.bad.is_some() {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "a value is not finite"));
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A memory-mapped epoch store.
pub struct EpochStore {
    path: PathBuf,
    mmap: memmap2::Mmap,
    x_offset: usize,
    /// byte ranges of `x`, `y`, `subject`, `split` (then `recording`, `onset_s` when present)
    /// in the map
    tensor_ranges: Vec<std::ops::Range<usize>>,
    /// byte range of `target` in the map (numeric stores)
    target_range: Option<std::ops::Range<usize>>,
    /// the numeric target (numeric stores)
    target: Option<NumericTarget>,
    /// the `__metadata__` map as stored
    info: BTreeMap<String, String>,
    n: usize,
    n_channels: usize,
    n_samples: usize,
    y: Vec<u32>,
    subject: Vec<u32>,
    split: Vec<Split>,
    meta: EpochMeta,
    sources: Option<WindowSources>,
}

impl std::fmt::Debug for EpochStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EpochStore")
            .field("path", &self.path)
            .field("n", &self.n)
            .field("n_channels", &self.n_channels)
            .field("n_samples", &self.n_samples)
            .finish()
    }
}

impl EpochStore {
    /// Opens and checks an epoch store (memory-mapped: the windows stay on disk,
    /// but every window is read once to check that its values are finite).
    ///
    /// # Errors
    /// [`DataError::Io`] when the file cannot be opened; [`DataError::NotAnEpochStore`]
    /// naming the missing tensor, wrong dtype or shape, or bad metadata;
    /// [`DataError::NonFinite`] naming the first window (its subject and split),
    /// channel and sample holding NaN or an infinity.
    pub fn open(path: &Path) -> Result<Self, DataError> {
        let mmap = map_file(path)?;
        let bad = |reason: String| not_a_store(path, reason);
        let st = SafeTensors::deserialize(&mmap).map_err(|e| bad(format!("not a safetensors file ({e})")))?;
        let (_, header) = SafeTensors::read_metadata(&mmap).map_err(|e| bad(format!("{e}")))?;
        let info = header.metadata().clone().unwrap_or_default();
        match info.get("format") {
            Some(f) if f == FORMAT => {}
            Some(f) => return Err(bad(format!("format {f:?}, expected {FORMAT:?}"))),
            None => return Err(bad("no `format` in the metadata".into())),
        }
        let x = checked_tensor(path, &st, "x", Dtype::F32, 3)?;
        let (n, n_channels, n_samples) = window_shape(path, &x)?;
        let y_t = checked_tensor(path, &st, "y", Dtype::I64, 1)?;
        let s_t = checked_tensor(path, &st, "subject", Dtype::I32, 1)?;
        let p_t = checked_tensor(path, &st, "split", Dtype::U8, 1)?;
        for (name, t) in [("y", &y_t), ("subject", &s_t), ("split", &p_t)] {
            if t.shape()[0] != n {
                return Err(bad(format!("tensor `{name}` has {} entries for {n} windows", t.shape()[0])));
            }
        }
        let meta = read_meta(path, &info, n_channels)?;
        let y_values =
            y_t.data().chunks_exact(8).map(|b| i64::from_le_bytes(b.try_into().expect("chunks of 8")));
        let y = checked_indices(path, y_values, meta.classes.len(), ("class", "classes"))?;
        let s_values = s_t
            .data()
            .chunks_exact(4)
            .map(|b| i64::from(i32::from_le_bytes(b.try_into().expect("chunks of 4"))));
        let subject = checked_indices(path, s_values, meta.subjects.len(), ("subject", "subjects"))?;
        let split: Vec<Split> = p_t
            .data()
            .iter()
            .enumerate()
            .map(|(i, &v)| Split::from_u8(v).ok_or_else(|| bad(format!("window {i} has split code {v}"))))
            .collect::<Result<_, _>>()?;
        // Where the tensors' bytes lie inside the file.
        let range = |t: &TensorView<'_>| {
            let start = t.data().as_ptr() as usize - mmap.as_ptr() as usize;
            start..start + t.data().len()
        };
        let mut tensor_ranges = vec![range(&x), range(&y_t), range(&s_t), range(&p_t)];
        let sources = read_sources(path, &st, &info, n)?;
        if let Some((r_t, o_t, _)) = &sources {
            tensor_ranges.extend([range(r_t), range(o_t)]);
        }
        let sources = sources.map(|(_, _, s)| s);
        let x_offset = tensor_ranges[0].start;
        let (target, target_range) = match read_target(path, &st, &info, n)? {
            Some((t, view)) => (Some(t), Some(range(&view))),
            None => (None, None),
        };
        let store = Self {
            path: path.to_path_buf(),
            tensor_ranges,
            target_range,
            target,
            info: info.into_iter().collect(),
            mmap,
            x_offset,
            n,
            n_channels,
            n_samples,
            y,
            subject,
            split,
            meta,
            sources,
        };
        store.check_finite()?;
        Ok(store)
    }

    /// Refuses the first non-finite value, naming its window, subject, split,
    /// channel and sample. Windows are scanned in parallel; the first bad one
    /// in store order is reported.
    fn check_finite(&self) -> Result<(), DataError> {
        let w = self.n_channels * self.n_samples;
        if w == 0 {
            return Ok(());
        }
        let x = &self.mmap[self.tensor_ranges[0].clone()];
        // NaN and the infinities are exactly the values whose exponent bits are all set.
        let bad =
            |b: &[u8]| u32::from_le_bytes(b.try_into().expect("chunks of 4")) & 0x7f80_0000 == 0x7f80_0000;
        let Some(window) = x.par_chunks(w * 4).position_first(|win| win.chunks_exact(4).any(bad)) else {
            return Ok(());
        };
        let at = x[window * w * 4..(window + 1) * w * 4].chunks_exact(4).position(bad).expect("found above");
        let b = &x[(window * w + at) * 4..][..4];
        Err(DataError::NonFinite {
            path: self.path.clone(),
            window,
            subject: self.meta.subjects[self.subject[window] as usize].clone(),
            split: self.split[window].name(),
            channel: self.meta.channels[at / self.n_samples].clone(),
            sample: at % self.n_samples,
            value: f32::from_le_bytes(b.try_into().expect("4 bytes")),
        })
    }

    /// The content hash the writer recorded in the metadata (`content_sha256`),
    /// `None` for stores written before it was recorded or by other software.
    /// It is not recomputed here: [`EpochStore::compute_content_sha256`] does.
    pub fn recorded_content_sha256(&self) -> Option<&str> {
        self.info.get(CONTENT_KEY).map(String::as_str)
    }

    /// SHA-256 (lower-case hex) of the store's content: the bytes of `x`, `y`,
    /// `subject`, `split` (and `recording`, `onset_s` when present), each preceded by its name and length, then every
    /// metadata entry except `content_sha256`, by key. Two stores with the same
    /// hash hold the same windows, labels, subjects and splits. Reads the whole
    /// store (about 1 GiB/s on one core).
    pub fn compute_content_sha256(&self) -> String {
        let target = self.target_range.as_ref().map(|r| (TARGET_KEY, &self.mmap[r.clone()]));
        content_hash(
            TENSORS
                .into_iter()
                .chain(SOURCE_TENSORS)
                .zip(self.tensor_ranges.iter().map(|r| &self.mmap[r.clone()]))
                .chain(target),
            self.info.iter(),
        )
    }

    /// The numeric target of a regression store (`prepare --target numeric`);
    /// `None` for a class store.
    pub fn target(&self) -> Option<&NumericTarget> {
        self.target.as_ref()
    }

    /// The file this store was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of windows.
    pub fn len(&self) -> usize {
        self.n
    }

    /// True when the store holds no window.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Channels per window.
    pub fn n_channels(&self) -> usize {
        self.n_channels
    }

    /// Samples per window.
    pub fn n_samples(&self) -> usize {
        self.n_samples
    }

    /// Class index per window.
    pub fn labels(&self) -> &[u32] {
        &self.y
    }

    /// Subject index per window.
    pub fn subjects(&self) -> &[u32] {
        &self.subject
    }

    /// Split per window.
    pub fn splits(&self) -> &[Split] {
        &self.split
    }

    /// Names, rate and settings.
    pub fn meta(&self) -> &EpochMeta {
        &self.meta
    }

    /// Each window's recording and onset; `None` for a store written without them (toy sets,
    /// stores of earlier versions).
    pub fn sources(&self) -> Option<&WindowSources> {
        self.sources.as_ref()
    }

    /// Window `i`'s recording (its path relative to the dataset root) and onset in seconds on
    /// that recording's time axis, when the store records them.
    ///
    /// # Panics
    /// When `i >= len()`.
    pub fn source_of(&self, i: usize) -> Option<(&str, f64)> {
        assert!(i < self.n, "window {i} of {}", self.n);
        self.sources.as_ref().map(|s| (s.recordings[s.recording[i] as usize].as_str(), s.onset_s[i]))
    }

    /// Gives every window of a subject the split `role` returns for it
    /// (called with the subject's identifier); a subject for which it returns
    /// `None` keeps its windows' splits. Only the open store changes, never
    /// the file: this is how a fold of a cross-validation re-splits the
    /// store's subjects ([`crate::split::fold_roles`]). The content hash
    /// ([`EpochStore::recorded_content_sha256`]) stays the file's.
    pub fn assign_splits(&mut self, mut role: impl FnMut(&str) -> Option<Split>) {
        let mut by_subject: HashMap<u32, Option<Split>> = HashMap::new();
        for (sp, &s) in self.split.iter_mut().zip(&self.subject) {
            let r = *by_subject.entry(s).or_insert_with(|| role(&self.meta.subjects[s as usize]));
            if let Some(r) = r {
                *sp = r;
            }
        }
    }

    /// Indices of the windows in `split`, in store order.
    pub fn indices(&self, split: Split) -> Vec<usize> {
        (0..self.n).filter(|&i| self.split[i] == split).collect()
    }

    /// Copies window `i` (`n_channels * n_samples` values, row-major) into `out`.
    ///
    /// # Panics
    /// When `i >= len()` or `out` has the wrong length.
    pub fn copy_window(&self, i: usize, out: &mut [f32]) {
        let w = self.n_channels * self.n_samples;
        assert!(i < self.n, "window {i} of {}", self.n);
        assert_eq!(out.len(), w, "copy_window: buffer of {} for a window of {w}", out.len());
        let start = self.x_offset + i * w * 4;
        let bytes = &self.mmap[start..start + w * 4];
        for (o, b) in out.iter_mut().zip(bytes.chunks_exact(4)) {
            *o = f32::from_le_bytes(b.try_into().expect("chunks of 4"));
        }
    }

    /// Copies the windows `indices` into `out` (`indices.len()` windows back to back).
    ///
    /// # Panics
    /// When an index is out of range or `out` has the wrong length.
    pub fn fill_batch(&self, indices: &[usize], out: &mut [f32]) {
        let w = self.n_channels * self.n_samples;
        assert_eq!(
            out.len(),
            indices.len() * w,
            "fill_batch: buffer of {} for {} windows",
            out.len(),
            indices.len()
        );
        for (chunk, &i) in out.chunks_exact_mut(w).zip(indices) {
            self.copy_window(i, chunk);
        }
    }

    /// The windows `indices`, in that order, as one network batch.
    ///
    /// This is the one place where stored windows `[N, C, T]` become the
    /// networks' input layout; the buffer comes from the engine's pool, so a
    /// loop over batches of one size reuses the memory of the previous batch.
    ///
    /// # Shapes
    /// `[indices.len(), 1, n_channels, n_samples]`.
    ///
    /// # Panics
    /// When an index is out of range.
    pub fn batch(&self, indices: &[usize]) -> Tensor {
        let mut x = Tensor::zeros(&[indices.len(), 1, self.n_channels, self.n_samples]);
        self.fill_batch(indices, x.data_mut());
        x
    }

    /// Reads the whole store into memory.
    pub fn to_set(&self) -> EpochSet {
        let w = self.n_channels * self.n_samples;
        let mut x = vec![0.0; self.n * w];
        let all: Vec<usize> = (0..self.n).collect();
        self.fill_batch(&all, &mut x);
        EpochSet {
            x,
            n_samples: self.n_samples,
            y: self.y.clone(),
            subject: self.subject.clone(),
            split: self.split.clone(),
            meta: self.meta.clone(),
            sources: self.sources.clone(),
            target: self.target.clone(),
        }
    }
}

/// The refusal of `path` as an epoch store, with the reason.
fn not_a_store(path: &Path, reason: String) -> DataError {
    DataError::NotAnEpochStore { path: path.to_path_buf(), reason }
}

/// Maps the file at `path` read-only.
pub(crate) fn map_file(path: &Path) -> Result<memmap2::Mmap, DataError> {
    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    #[allow(unsafe_code)]
    // SAFETY: the map is read-only and private to this process; the store is
    // written by rename-into-place, so a well-behaved writer never modifies a
    // file that is mapped. A file truncated behind our back by another
    // program would fault, which is the documented risk of memory maps.
    let mmap = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| DataError::io(path, e))?;
    Ok(mmap)
}

/// The store's tensor `name`, which must have type `dtype` and `ndim` dimensions.
fn checked_tensor<'d>(
    path: &Path,
    st: &SafeTensors<'d>,
    name: &str,
    dtype: Dtype,
    ndim: usize,
) -> Result<TensorView<'d>, DataError> {
    let bad = |reason: String| not_a_store(path, reason);
    let t = st.tensor(name).map_err(|_| bad(format!("missing tensor `{name}`")))?;
    if t.dtype() != dtype {
        return Err(bad(format!("tensor `{name}` is {:?}, expected {dtype:?}", t.dtype())));
    }
    if t.shape().len() != ndim {
        return Err(bad(format!("tensor `{name}` has shape {:?}, expected {ndim} dimensions", t.shape())));
    }
    Ok(t)
}

/// `(n, n_channels, n_samples)` of the windows `x`, which must have channels and samples.
fn window_shape(path: &Path, x: &TensorView<'_>) -> Result<(usize, usize, usize), DataError> {
    let bad = |reason: String| not_a_store(path, reason);
    let (n, n_channels, n_samples) = (x.shape()[0], x.shape()[1], x.shape()[2]);
    // Windows are addressed as `i * n_channels * n_samples * 4` bytes: with no window
    // (n = 0) the file's size does not bound the other two, so the product is checked.
    if n_channels.checked_mul(n_samples).and_then(|w| w.checked_mul(4)).is_none() {
        return Err(bad(format!("tensor `x` has shape {:?}: a window's size overflows", x.shape())));
    }
    if n_channels == 0 || n_samples == 0 {
        return Err(bad(format!(
            "tensor `x` has shape {:?}: windows without channels or samples",
            x.shape()
        )));
    }
    Ok((n, n_channels, n_samples))
}

/// Names, rate and settings from the store's `__metadata__`, with one name per channel.
fn read_meta(path: &Path, info: &HashMap<String, String>, n_channels: usize) -> Result<EpochMeta, DataError> {
    let bad = |reason: String| not_a_store(path, reason);
    let json_list = |key: &str| -> Result<Vec<String>, DataError> {
        let s = info.get(key).ok_or_else(|| bad(format!("no `{key}` in the metadata")))?;
        serde_json::from_str(s).map_err(|e| bad(format!("metadata `{key}` is not a list of strings ({e})")))
    };
    let channels = json_list("channels")?;
    let classes = json_list("classes")?;
    let subjects = json_list("subjects")?;
    if channels.len() != n_channels {
        return Err(bad(format!("{} channel names for {n_channels} channels", channels.len())));
    }
    let fs: f64 = info
        .get("fs")
        .and_then(|s| s.parse().ok())
        .filter(|v: &f64| v.is_finite() && *v > 0.0)
        .ok_or_else(|| bad("metadata `fs` is missing or not a positive number".into()))?;
    let settings = info
        .get("settings")
        .map(|s| serde_json::from_str(s).unwrap_or(serde_json::Value::String(s.clone())))
        .unwrap_or(serde_json::Value::Null);
    let label_column = info.get("label_column").cloned().unwrap_or_default();
    if let Some(codes) = info.get(SPLIT_CODES_KEY) {
        if *codes != split_codes_json() {
            return Err(bad(format!(
                "metadata `{SPLIT_CODES_KEY}` is {codes}, but this version reads {}",
                split_codes_json()
            )));
        }
    }
    // Stores written before `unit` was recorded: the preparation's normalisation tells it.
    let unit = info.get("unit").cloned().or_else(|| match settings.get("normalise")?.as_str()? {
        "none" => Some(UNIT_MICROVOLT.to_string()),
        _ => Some(UNIT_Z_SCORE.to_string()),
    });
    Ok(EpochMeta { channels, fs, classes, label_column, subjects, settings, unit })
}

/// The optional tensors `recording` and `onset_s` with the metadata list `recordings`: all
/// three or none.
fn read_sources<'d>(
    path: &Path,
    st: &SafeTensors<'d>,
    info: &HashMap<String, String>,
    n: usize,
) -> Result<Option<(TensorView<'d>, TensorView<'d>, WindowSources)>, DataError> {
    let bad = |reason: String| not_a_store(path, reason);
    let names = st.names();
    let has = |name: &str| names.contains(&name);
    match (has("recording"), has("onset_s"), info.get("recordings")) {
        (false, false, None) => return Ok(None),
        (true, true, Some(_)) => {}
        _ => {
            return Err(bad(
                "tensors `recording`, `onset_s` and metadata `recordings` come together; some are missing"
                    .into(),
            ))
        }
    }
    let r_t = checked_tensor(path, st, "recording", Dtype::I32, 1)?;
    let o_t = checked_tensor(path, st, "onset_s", Dtype::F64, 1)?;
    for (name, t) in [("recording", &r_t), ("onset_s", &o_t)] {
        if t.shape()[0] != n {
            return Err(bad(format!("tensor `{name}` has {} entries for {n} windows", t.shape()[0])));
        }
    }
    let recordings: Vec<String> = serde_json::from_str(&info["recordings"])
        .map_err(|e| bad(format!("metadata `recordings` is not a list of strings ({e})")))?;
    let r_values =
        r_t.data().chunks_exact(4).map(|b| i64::from(i32::from_le_bytes(b.try_into().expect("chunks of 4"))));
    let recording = checked_indices(path, r_values, recordings.len(), ("recording", "recordings"))?;
    let onset_s: Vec<f64> =
        o_t.data().chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().expect("chunks of 8"))).collect();
    if let Some(i) = onset_s.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
        return Err(bad(format!("window {i} has onset {} s", onset_s[i])));
    }
    Ok(Some((r_t, o_t, WindowSources { recordings, recording, onset_s })))
}

/// The numeric target of a store, with its tensor: both the `target` tensor (F32, one value per
/// window, finite) and the `target` metadata (`{"kind": "numeric", "column": ..}`), or neither.
fn read_target<'d>(
    path: &Path,
    st: &SafeTensors<'d>,
    info: &HashMap<String, String>,
    n: usize,
) -> Result<Option<(NumericTarget, TensorView<'d>)>, DataError> {
    let bad = |reason: String| not_a_store(path, reason);
    let has_tensor = st.names().contains(&TARGET_KEY);
    let Some(meta) = info.get(TARGET_KEY) else {
        return if has_tensor {
            Err(bad(format!("tensor `{TARGET_KEY}` but no `{TARGET_KEY}` in the metadata")))
        } else {
            Ok(None)
        };
    };
    let v: serde_json::Value = serde_json::from_str(meta)
        .map_err(|e| bad(format!("metadata `{TARGET_KEY}` is not a JSON object ({e})")))?;
    if v["kind"] != "numeric" {
        return Err(bad(format!("metadata `{TARGET_KEY}` has kind {}, expected \"numeric\"", v["kind"])));
    }
    let column = v["column"]
        .as_str()
        .ok_or_else(|| bad(format!("metadata `{TARGET_KEY}` names no `column`")))?
        .to_string();
    let unit = v["unit"].as_str().map(String::from);
    let t = checked_tensor(path, st, TARGET_KEY, Dtype::F32, 1)?;
    if t.shape()[0] != n {
        return Err(bad(format!("tensor `{TARGET_KEY}` has {} entries for {n} windows", t.shape()[0])));
    }
    let values: Vec<f32> =
        t.data().chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().expect("chunks of 4"))).collect();
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(bad(format!("window {i} has the target value {}", values[i])));
    }
    Ok(Some((NumericTarget { column, unit, values }, t)))
}

/// The per-window indices `values`, each below `limit`; `(what, plural)` name them in the
/// refusal (`class`, `classes`).
fn checked_indices(
    path: &Path,
    values: impl Iterator<Item = i64>,
    limit: usize,
    (what, plural): (&str, &str),
) -> Result<Vec<u32>, DataError> {
    values
        .enumerate()
        .map(|(i, v)| {
            if v >= 0 && (v as usize) < limit {
                Ok(v as u32)
            } else {
                Err(not_a_store(
                    path,
                    format!("window {i} has {what} index {v} but there are {limit} {plural}"),
                ))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> EpochSet {
        let (n, c, t) = (5, 2, 3);
        EpochSet {
            x: (0..n * c * t).map(|i| i as f32 * 0.5 - 3.0).collect(),
            n_samples: t,
            y: vec![0, 1, 1, 0, 1],
            subject: vec![0, 0, 1, 2, 2],
            split: vec![Split::Train, Split::Train, Split::Val, Split::Test, Split::Test],
            meta: EpochMeta {
                channels: vec!["Fz".into(), "Cz".into()],
                fs: 128.0,
                classes: vec!["F".into(), "M".into()],
                label_column: "sex".into(),
                subjects: vec!["sub-1".into(), "sub-2".into(), "sub-3".into()],
                settings: serde_json::json!({"band": [0.25, 25.0]}),
                unit: Some(UNIT_MICROVOLT.into()),
            },
            sources: None,
            target: None,
        }
    }

    fn traced() -> EpochSet {
        let mut set = tiny();
        set.sources = Some(WindowSources {
            recordings: vec![
                "sub-1/eeg/sub-1_task-rest_eeg.edf".into(),
                "sub-2/eeg/sub-2_task-rest_eeg.edf".into(),
            ],
            recording: vec![0, 0, 1, 1, 1],
            onset_s: vec![0.0, 2.0, 10.5, 12.5, 30.0],
        });
        set
    }

    #[test]
    fn sources_unit_and_split_codes_roundtrip_and_enter_the_hash() {
        let d = tmpdir("sources");
        let (a, b) = (d.join("a.safetensors"), d.join("b.safetensors"));
        let set = traced();
        set.write(&a).expect("write");
        let st = EpochStore::open(&a).expect("open");
        assert_eq!(st.to_set(), set);
        assert_eq!(st.source_of(3), Some(("sub-2/eeg/sub-2_task-rest_eeg.edf", 12.5)));
        assert_eq!(st.meta().unit.as_deref(), Some("µV"));
        assert_eq!(
            st.info.get(SPLIT_CODES_KEY).map(String::as_str),
            Some(r#"{"0":"train","1":"val","2":"test"}"#)
        );
        assert_eq!(st.compute_content_sha256(), st.recorded_content_sha256().expect("recorded"));
        // Another onset is another content.
        let mut other = set.clone();
        other.sources.as_mut().expect("sources").onset_s[4] = 32.0;
        other.write(&b).expect("write");
        let sb = EpochStore::open(&b).expect("open");
        assert_ne!(sb.recorded_content_sha256(), st.recorded_content_sha256());
        assert_eq!(sb.compute_content_sha256(), sb.recorded_content_sha256().expect("recorded"));
        // Checked before writing.
        let mut bad = set.clone();
        bad.sources.as_mut().expect("sources").recording[1] = 2;
        assert!(bad.write(&b).unwrap_err().to_string().contains("window 1 has recording 2 of 2"));
        let mut bad = set;
        bad.sources.as_mut().expect("sources").onset_s.pop();
        assert!(bad.write(&b).unwrap_err().to_string().contains("4 onsets"));
        std::fs::remove_dir_all(&d).expect("clean");
    }

    /// A store of an earlier version: no `split_codes`, `unit`, `recording`, `onset_s` or
    /// `recordings`. It opens; its unit comes from the settings' normalisation.
    #[test]
    fn a_store_without_sources_or_unit_still_opens() {
        let scratch = tmpdir("old");
        let p = scratch.join("e.safetensors");
        let x = [0u8; 4 * 2 * 2];
        let (y, sub, sp) = ([0u8; 16], [0u8; 8], [0u8, 1]);
        let view = |dtype, shape: Vec<usize>, data: &'static [u8]| {
            TensorView::new(dtype, shape, data).expect("view")
        };
        let x: &'static [u8] = Box::leak(Box::new(x));
        let (y, sub, sp): (&'static [u8], &'static [u8], &'static [u8]) =
            (Box::leak(Box::new(y)), Box::leak(Box::new(sub)), Box::leak(Box::new(sp)));
        for (normalise, unit) in
            [(Some("recording"), Some("z-score")), (Some("none"), Some("µV")), (None, None)]
        {
            let settings = normalise.map_or(serde_json::json!({}), |n| serde_json::json!({ "normalise": n }));
            let meta = HashMap::from([
                ("format".to_string(), FORMAT.to_string()),
                ("channels".to_string(), r#"["Cz"]"#.to_string()),
                ("classes".to_string(), r#"["F","M"]"#.to_string()),
                ("subjects".to_string(), r#"["sub-01"]"#.to_string()),
                ("fs".to_string(), "128".to_string()),
                ("settings".to_string(), settings.to_string()),
            ]);
            let tensors = vec![
                ("x", view(Dtype::F32, vec![2, 1, 2], x)),
                ("y", view(Dtype::I64, vec![2], y)),
                ("subject", view(Dtype::I32, vec![2], sub)),
                ("split", view(Dtype::U8, vec![2], sp)),
            ];
            std::fs::write(
                &p,
                safetensors::serialize(tensors.clone(), Some(meta.clone())).expect("serialise"),
            )
            .expect("write");
            let st = EpochStore::open(&p).expect("an earlier store opens");
            assert!(st.sources().is_none());
            assert_eq!(st.source_of(1), None);
            assert_eq!(st.meta().unit.as_deref(), unit);
            // Half of the sources is refused.
            let mut with_half = tensors;
            with_half.push(("recording", view(Dtype::I32, vec![2], sub)));
            std::fs::write(&p, safetensors::serialize(with_half, Some(meta)).expect("serialise"))
                .expect("write");
            let e = EpochStore::open(&p).unwrap_err().to_string();
            assert!(e.contains("come together"), "{e}");
        }
        // Split codes other than this version's are refused, not misread.
        let mut info = HashMap::from([
            ("format".to_string(), FORMAT.to_string()),
            ("channels".to_string(), r#"["Cz"]"#.to_string()),
            ("classes".to_string(), r#"["F","M"]"#.to_string()),
            ("subjects".to_string(), r#"["sub-01"]"#.to_string()),
            ("fs".to_string(), "128".to_string()),
        ]);
        info.insert(SPLIT_CODES_KEY.to_string(), r#"{"0":"test","1":"val","2":"train"}"#.to_string());
        let tensors = vec![
            ("x", view(Dtype::F32, vec![2, 1, 2], x)),
            ("y", view(Dtype::I64, vec![2], y)),
            ("subject", view(Dtype::I32, vec![2], sub)),
            ("split", view(Dtype::U8, vec![2], sp)),
        ];
        std::fs::write(&p, safetensors::serialize(tensors, Some(info)).expect("serialise")).expect("write");
        let e = EpochStore::open(&p).unwrap_err().to_string();
        assert!(e.contains("split_codes") && e.contains(r#""0":"test""#), "{e}");
        std::fs::remove_dir_all(p.parent().expect("a directory")).expect("clean");
    }

    /// The store's bytes as `EpochSet::write` made them before it streamed (the slow
    /// reference): every tensor serialised in memory by `safetensors::serialize`, with the
    /// metadata `info` and its content hash.
    fn serialised_in_memory(set: &EpochSet, mut info: HashMap<String, String>) -> Vec<u8> {
        let n = set.len();
        let c = set.meta.channels.len();
        let x_bytes: Vec<u8> = set.x.iter().flat_map(|v| v.to_le_bytes()).collect();
        let y_bytes: Vec<u8> = set.y.iter().flat_map(|&v| (v as i64).to_le_bytes()).collect();
        let s_bytes: Vec<u8> = set.subject.iter().flat_map(|&v| (v as i32).to_le_bytes()).collect();
        let p_bytes: Vec<u8> = set.split.iter().map(|&s| s as u8).collect();
        let view = |dtype, shape, data| TensorView::new(dtype, shape, data).expect("view");
        let (r_bytes, o_bytes): (Vec<u8>, Vec<u8>) = match &set.sources {
            Some(src) => (
                src.recording.iter().flat_map(|&v| (v as i32).to_le_bytes()).collect(),
                src.onset_s.iter().flat_map(|v| v.to_le_bytes()).collect(),
            ),
            None => (Vec::new(), Vec::new()),
        };
        let t_bytes: Vec<u8> =
            set.target.iter().flat_map(|t| t.values.iter().flat_map(|v| v.to_le_bytes())).collect();
        let mut tensors = vec![
            ("x", view(Dtype::F32, vec![n, c, set.n_samples], &x_bytes)),
            ("y", view(Dtype::I64, vec![n], &y_bytes)),
            ("subject", view(Dtype::I32, vec![n], &s_bytes)),
            ("split", view(Dtype::U8, vec![n], &p_bytes)),
        ];
        let mut hashed = vec![&x_bytes[..], &y_bytes[..], &s_bytes[..], &p_bytes[..]];
        let mut names: Vec<&str> = TENSORS.to_vec();
        if set.sources.is_some() {
            tensors.push(("recording", view(Dtype::I32, vec![n], &r_bytes)));
            tensors.push(("onset_s", view(Dtype::F64, vec![n], &o_bytes)));
            hashed.extend([&r_bytes[..], &o_bytes[..]]);
            names.extend(SOURCE_TENSORS);
        }
        if set.target.is_some() {
            tensors.push((TARGET_KEY, view(Dtype::F32, vec![n], &t_bytes)));
            hashed.push(&t_bytes[..]);
            names.push(TARGET_KEY);
        }
        let hash = content_hash(names.into_iter().zip(hashed), info.iter());
        info.insert(CONTENT_KEY.to_string(), hash);
        let bytes = safetensors::serialize(tensors, Some(info)).expect("serialise");
        // The header in the store's fixed order.
        let (n, header) = SafeTensors::read_metadata(&bytes).expect("a header");
        let mut text = header_text(&header);
        text.resize(text.len().next_multiple_of(8), b' ');
        let mut out = (text.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(&text);
        out.extend_from_slice(&bytes[8 + n..]);
        out
    }

    #[test]
    fn the_same_set_gives_the_same_bytes_with_its_metadata_sorted() {
        let d = tmpdir("same-bytes");
        let set = traced();
        let first = d.join("first.safetensors");
        set.write(&first).expect("write");
        let want = std::fs::read(&first).expect("read");
        // Every write lays its metadata out from a new hash map, whose order differs from map to
        // map within a process too.
        for i in 0..4 {
            let again = d.join(format!("again-{i}.safetensors"));
            set.write(&again).expect("write");
            assert!(std::fs::read(&again).expect("read") == want, "write {i} differs");
        }
        let n = u64::from_le_bytes(want[..8].try_into().expect("8 bytes")) as usize;
        let text = std::str::from_utf8(&want[8..8 + n]).expect("utf-8");
        let (_, header) = SafeTensors::read_metadata(&want).expect("header");
        let mut keys: Vec<&String> = header.metadata().as_ref().expect("metadata").keys().collect();
        assert!(keys.len() > 5, "{keys:?}");
        keys.sort();
        let at: Vec<usize> =
            keys.iter().map(|k| text.find(&format!("\"{k}\":")).expect("the key is in the header")).collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "metadata keys out of order in {text}");
        // Each tensor's entry keeps the crate's field order (readers that match the text rely on it).
        assert!(text.contains(r#""x":{"dtype":"F32","shape":["#), "{text}");
        std::fs::remove_dir_all(&d).expect("clean");
    }

    /// A set of `n` windows of 24 x 256 with sources and a numeric target, its values from a
    /// small generator.
    fn sizeable(n: usize) -> EpochSet {
        let (c, t) = (24, 256);
        let mut state = 0x2545_f491_u32;
        let x = (0..n * c * t)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                (state as f32 / u32::MAX as f32 - 0.5) * 80.0
            })
            .collect();
        EpochSet {
            x,
            n_samples: t,
            y: (0..n as u32).map(|i| i % 2).collect(),
            subject: (0..n as u32).map(|i| i / 4).collect(),
            split: (0..n).map(|i| Split::ALL[(i / 4) % 3]).collect(),
            meta: EpochMeta {
                channels: (0..c).map(|i| format!("E{i}")).collect(),
                fs: 128.0,
                classes: vec!["F".into(), "M".into()],
                label_column: "sex".into(),
                subjects: (0..n.div_ceil(4)).map(|i| format!("sub-{i:03}")).collect(),
                settings: serde_json::json!({"band": [0.25, 25.0], "note": "a \"quoted\" content_sha256"}),
                unit: Some(UNIT_Z_SCORE.into()),
            },
            sources: Some(WindowSources {
                recordings: (0..n.div_ceil(4)).map(|i| format!("sub-{i:03}/eeg/x.edf")).collect(),
                recording: (0..n as u32).map(|i| i / 4).collect(),
                onset_s: (0..n).map(|i| (i % 4) as f64 * 2.0).collect(),
            }),
            target: Some(NumericTarget {
                column: "age".into(),
                unit: None,
                values: (0..n).map(|i| 5.0 + (i / 4) as f32).collect(),
            }),
        }
    }

    /// The streamed writer's file is, byte for byte, what serialising the whole set in memory
    /// gives for the same metadata, whatever the sizes of the writes that stream the windows;
    /// `write` gives the same tensors and metadata (the metadata's order in the header is
    /// that of a `HashMap`, different from one map to the next, as it always was).
    #[test]
    fn the_streamed_file_is_the_in_memory_serialisation_byte_for_byte() {
        let d = tmpdir("streamed");
        let (a, b) = (d.join("a.safetensors"), d.join("b.safetensors"));
        let mut numeric = traced();
        numeric.target =
            Some(NumericTarget { column: "age".into(), unit: Some("year".into()), values: vec![1.0; 5] });
        // 60 windows of 24 KiB: more than one chunk of the copy.
        for set in [tiny(), traced(), numeric, sizeable(60)] {
            let bytes: Vec<u8> = set.x.iter().flat_map(|v| v.to_le_bytes()).collect();
            for piece in [7, 4096, COPY_CHUNK + 3] {
                let (x, owned, info) = set.layout();
                let want = serialised_in_memory(&set, info.clone());
                write_streamed(&a, x, owned, info, |w| bytes.chunks(piece).try_for_each(|c| w.write_all(c)))
                    .expect("write");
                let got = std::fs::read(&a).expect("read");
                assert_eq!(got.len(), want.len());
                assert!(got == want, "{} windows in pieces of {piece}: the bytes differ", set.len());
            }
            set.write(&b).expect("write");
            let (got, want) = (std::fs::read(&b).expect("read"), std::fs::read(&a).expect("read"));
            let split = |f: &[u8]| {
                let n = u64::from_le_bytes(f[..8].try_into().expect("8 bytes")) as usize;
                let (_, header) = SafeTensors::read_metadata(f).expect("header");
                (n, header.metadata().clone(), header.tensors().len(), f[8 + n..].to_vec())
            };
            let (g, w) = (split(&got), split(&want));
            assert_eq!((g.0, &g.1, g.2), (w.0, &w.1, w.2));
            assert!(g.3 == w.3, "the tensors' bytes differ");
            let st = EpochStore::open(&b).expect("open");
            assert_eq!(st.compute_content_sha256(), st.recorded_content_sha256().expect("recorded"));
            assert_eq!(st.to_set(), set);
        }
        std::fs::remove_dir_all(&d).expect("clean");
    }

    /// Windows streamed from elsewhere are checked on the way: a non-finite value or a wrong
    /// length is refused, and nothing is left behind.
    #[test]
    fn streamed_windows_are_checked_on_the_way() {
        let d = tmpdir("streamed-bad");
        let p = d.join("e.safetensors");
        let set = tiny();
        let mut x = set.x.clone();
        x[3 * 6 + 4] = f32::INFINITY;
        let bytes: Vec<u8> = x.iter().flat_map(|v| v.to_le_bytes()).collect();
        for piece in [1, 3, 4, 1000] {
            let e = set
                .write_windows_from(&p, |w| bytes.chunks(piece).try_for_each(|c| w.write_all(c)))
                .unwrap_err()
                .to_string();
            assert!(e.contains("window 3 holds a non-finite value"), "pieces of {piece}: {e}");
        }
        let e = set.write_windows_from(&p, |w| write_f32s(w, &set.x[6..])).unwrap_err().to_string();
        assert!(e.contains("96 bytes written for 120"), "{e}");
        let e = set
            .write_windows_from(&p, |_| Err(io::Error::other("the source went away")))
            .unwrap_err()
            .to_string();
        assert!(e.contains("e.safetensors") && e.contains("the source went away"), "{e}");
        assert_eq!(std::fs::read_dir(&d).expect("dir").count(), 0, "something was left behind");
        set.write_windows_from(&p, |w| write_f32s(w, &set.x)).expect("the right windows");
        assert_eq!(EpochStore::open(&p).expect("open").to_set(), set);
        std::fs::remove_dir_all(&d).expect("clean");
    }

    fn tmpdir(name: &str) -> crate::scratch::Scratch {
        let d = std::env::temp_dir().join(format!("eeglens-data-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("temp dir");
        crate::scratch::Scratch(d)
    }

    #[test]
    fn write_then_open_roundtrips_exactly() {
        let set = tiny();
        let scratch = tmpdir("rt");
        let p = scratch.join("e.safetensors");
        set.write(&p).expect("write");
        let st = EpochStore::open(&p).expect("open");
        assert_eq!(st.len(), 5);
        assert_eq!(st.to_set(), set);
        assert_eq!(st.indices(Split::Test), vec![3, 4]);
        let mut b = vec![0.0; 2 * 6];
        st.fill_batch(&[4, 1], &mut b);
        assert_eq!(&b[..6], &set.x[24..30]);
        assert_eq!(&b[6..], &set.x[6..12]);
    }

    #[test]
    fn a_batch_is_the_windows_in_order_shaped_for_the_networks() {
        let set = tiny();
        let scratch = tmpdir("batch");
        let p = scratch.join("e.safetensors");
        set.write(&p).expect("write");
        let st = EpochStore::open(&p).expect("open");
        let x = st.batch(&[4, 1, 4]);
        assert_eq!(x.shape(), &[3, 1, 2, 3]);
        assert_eq!(&x.data()[..6], &set.x[24..30]);
        assert_eq!(&x.data()[6..12], &set.x[6..12]);
        assert_eq!(&x.data()[12..], &set.x[24..30]);
        let mut buf = vec![0.0; 3 * 6];
        st.fill_batch(&[4, 1, 4], &mut buf);
        assert_eq!(x.data(), &buf[..]);
        assert_eq!(st.batch(&[]).shape(), &[0, 1, 2, 3]);
    }

    #[test]
    fn invalid_sets_are_refused_before_writing() {
        let mut set = tiny();
        set.y[2] = 7;
        let scratch = tmpdir("inv");
        let p = scratch.join("e.safetensors");
        let e = set.write(&p).unwrap_err().to_string();
        assert!(e.contains("window 2 has class 7"), "{e}");
        assert!(!p.exists());
        let mut set = tiny();
        set.x[13] = f32::NAN;
        assert!(set.write(&p).unwrap_err().to_string().contains("window 2 holds a non-finite"));
    }

    /// Writes `set` bypassing its checks, with `value` at sample `sample` of
    /// channel `channel` of window `window`.
    fn write_with_value(set: &EpochSet, p: &Path, window: usize, channel: usize, sample: usize, value: f32) {
        set.write(p).expect("write");
        let offset = EpochStore::open(p).expect("open").x_offset;
        let (c, t) = (set.meta.channels.len(), set.n_samples);
        let mut bytes = std::fs::read(p).expect("read");
        let at = offset + ((window * c + channel) * t + sample) * 4;
        bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
        std::fs::write(p, bytes).expect("write");
    }

    /// One NaN in a validation window used to end training with `val_loss: null`
    /// and no best checkpoint; one in a training window read as divergence.
    #[test]
    fn assigned_splits_move_whole_subjects_and_leave_the_file() {
        let d = std::env::temp_dir().join(format!("eeglens-assign-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("dir");
        let _scratch = crate::scratch::Scratch(d.clone());
        let p = d.join("e.safetensors");
        tiny().write(&p).expect("write");
        let mut st = EpochStore::open(&p).expect("open");
        let before = st.splits().to_vec();
        let hash = st.recorded_content_sha256().map(String::from);
        let first = st.meta().subjects[st.subjects()[0] as usize].clone();
        st.assign_splits(|s| (s == first).then_some(Split::Test));
        for i in 0..st.len() {
            let moved = st.meta().subjects[st.subjects()[i] as usize] == first;
            assert_eq!(st.splits()[i], if moved { Split::Test } else { before[i] }, "window {i}");
        }
        assert!(st.splits() != before.as_slice(), "the subject moved");
        assert_eq!(st.recorded_content_sha256().map(String::from), hash);
        assert_eq!(EpochStore::open(&p).expect("reopen").splits(), before.as_slice());
        std::fs::remove_dir_all(&d).expect("clean");
    }

    #[test]
    fn a_non_finite_value_is_refused_naming_window_subject_split_channel_and_sample() {
        let set = tiny();
        let scratch = tmpdir("nonfinite");
        let p = scratch.join("e.safetensors");
        write_with_value(&set, &p, 2, 1, 2, f32::NAN);
        let e = EpochStore::open(&p).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, DataError::NonFinite { window: 2, sample: 2, .. }), "{msg}");
        for part in ["e.safetensors", "window 2", "sub-2", "val split", "channel Cz", "sample 2", "NaN"] {
            assert!(msg.contains(part), "{part}: {msg}");
        }
        assert_eq!(msg.lines().count(), 1, "{msg}");
        write_with_value(&set, &p, 4, 0, 0, f32::NEG_INFINITY);
        let msg = EpochStore::open(&p).unwrap_err().to_string();
        assert!(msg.contains("window 4 (subject sub-3, test split)") && msg.contains("-inf"), "{msg}");
        // The largest finite values are values.
        write_with_value(&set, &p, 0, 0, 0, f32::MAX);
        assert!(EpochStore::open(&p).is_ok());
    }

    #[test]
    fn the_content_hash_is_recorded_and_follows_the_splits() {
        let set = tiny();
        let d = tmpdir("hash");
        let (a, b) = (d.join("a.safetensors"), d.join("b.safetensors"));
        set.write(&a).expect("write");
        let st = EpochStore::open(&a).expect("open");
        let recorded = st.recorded_content_sha256().expect("recorded").to_string();
        assert_eq!(recorded.len(), 64);
        assert_eq!(st.compute_content_sha256(), recorded);
        // The same set again: the same hash. Other splits: another one.
        set.write(&b).expect("write");
        assert_eq!(EpochStore::open(&b).expect("open").recorded_content_sha256(), Some(recorded.as_str()));
        let mut other = set.clone();
        other.split.swap(0, 3);
        other.write(&b).expect("write");
        let st = EpochStore::open(&b).expect("open");
        assert_ne!(st.recorded_content_sha256(), Some(recorded.as_str()));
        assert_eq!(st.compute_content_sha256(), st.recorded_content_sha256().expect("recorded"));
    }

    #[test]
    fn a_numeric_target_round_trips_and_class_stores_stay_as_they_were() {
        let d = tmpdir("target");
        let (a, b) = (d.join("a.safetensors"), d.join("b.safetensors"));
        let set = tiny();
        set.write(&a).expect("write");
        let bytes = std::fs::read(&a).expect("read");
        let (_, header) = SafeTensors::read_metadata(&bytes).expect("header");
        let keys: BTreeMap<_, _> = header.metadata().clone().expect("metadata").into_iter().collect();
        let want = [
            "channels",
            "classes",
            "content_sha256",
            "format",
            "fs",
            "label_column",
            "settings",
            SPLIT_CODES_KEY,
            "subjects",
            "unit",
        ];
        assert_eq!(keys.keys().map(String::as_str).collect::<Vec<_>>(), want, "a class store's metadata");
        assert!(SafeTensors::deserialize(&bytes).expect("tensors").tensor(TARGET_KEY).is_err());
        assert!(EpochStore::open(&a).expect("open").target().is_none());

        let mut numeric = set.clone();
        numeric.target = Some(NumericTarget {
            column: "age".into(),
            unit: Some("year".into()),
            values: vec![6.5, 6.5, 9.0, 17.25, 17.25],
        });
        numeric.write(&b).expect("write");
        let st = EpochStore::open(&b).expect("open");
        assert_eq!(st.target(), numeric.target.as_ref());
        assert_eq!(st.to_set(), numeric);
        assert_eq!(st.compute_content_sha256(), st.recorded_content_sha256().expect("recorded"));
        assert_ne!(
            st.recorded_content_sha256(),
            EpochStore::open(&a).expect("open").recorded_content_sha256()
        );
        // Another value: another hash.
        let mut other = numeric.clone();
        other.target.as_mut().expect("target").values[2] = 9.5;
        other.write(&b).expect("write");
        let st2 = EpochStore::open(&b).expect("open");
        assert_ne!(st2.recorded_content_sha256(), st.recorded_content_sha256());

        // A value per window, finite.
        let mut bad = numeric.clone();
        bad.target.as_mut().expect("target").values.pop();
        assert!(bad.write(&b).unwrap_err().to_string().contains("4 target values for 5 windows"));
        let mut bad = numeric.clone();
        bad.target.as_mut().expect("target").values[1] = f32::NAN;
        assert!(bad.write(&b).unwrap_err().to_string().contains("window 1 has a non-finite target"));
    }

    /// With no window, the file does not bound the window's shape; its size must not overflow.
    #[test]
    fn a_window_size_that_overflows_is_refused() {
        let scratch = tmpdir("huge");
        let p = scratch.join("e.safetensors");
        let empty: [u8; 0] = [];
        let view = |dtype, shape: Vec<usize>| TensorView::new(dtype, shape, &empty).expect("view");
        let meta = HashMap::from([
            ("format".to_string(), FORMAT.to_string()),
            ("channels".to_string(), r#"["Cz"]"#.to_string()),
            ("classes".to_string(), "[]".to_string()),
            ("subjects".to_string(), "[]".to_string()),
            ("fs".to_string(), "128".to_string()),
        ]);
        let tensors = vec![
            ("x", view(Dtype::F32, vec![0, 1, 1 << 62])),
            ("y", view(Dtype::I64, vec![0])),
            ("subject", view(Dtype::I32, vec![0])),
            ("split", view(Dtype::U8, vec![0])),
        ];
        std::fs::write(&p, safetensors::serialize(tensors, Some(meta)).expect("serialise")).expect("write");
        let e = EpochStore::open(&p).unwrap_err().to_string();
        assert!(e.contains("overflows"), "{e}");
    }

    #[test]
    fn not_an_epoch_store_names_the_file_and_problem() {
        let d = tmpdir("bad");
        let p = d.join("junk.safetensors");
        std::fs::write(&p, b"hello").expect("write");
        let e = EpochStore::open(&p).unwrap_err().to_string();
        assert!(e.contains("junk.safetensors") && e.contains("not an eeglens epoch store"), "{e}");
        // A valid safetensors file without our tensors.
        let bytes = safetensors::serialize(
            vec![("w", TensorView::new(Dtype::F32, vec![1], &[0u8; 4]).expect("view"))],
            Some(HashMap::from([("format".to_string(), FORMAT.to_string())])),
        )
        .expect("serialise");
        std::fs::write(&p, bytes).expect("write");
        let e = EpochStore::open(&p).unwrap_err().to_string();
        assert!(e.contains("missing tensor `x`"), "{e}");
        // Truncated store.
        let set = tiny();
        let q = d.join("t.safetensors");
        set.write(&q).expect("write");
        let full = std::fs::read(&q).expect("read");
        std::fs::write(&q, &full[..full.len() - 10]).expect("write");
        let e = EpochStore::open(&q).unwrap_err().to_string();
        assert!(e.contains("not a safetensors file"), "{e}");
        let e = EpochStore::open(&d.join("missing.safetensors")).unwrap_err().to_string();
        assert!(e.contains("missing.safetensors"), "{e}");
    }
}

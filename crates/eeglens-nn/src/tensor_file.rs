//! Reading and writing safetensors files of `f32` and integer tensors, with
//! errors that name the tensor or the byte offset.
//!
//! The reader checks the layout itself before handing the bytes to the
//! `safetensors` crate, so a truncated file says which tensor's data it cuts
//! into and how many bytes were needed.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use eeglens_autodiff::Tensor;
use safetensors::tensor::{Dtype, TensorInfo, TensorView};
use safetensors::SafeTensors;

use crate::error::NnError;

/// An integer tensor (int64 or int32 on disk), widened to `i64`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntTensor {
    /// shape
    pub shape: Vec<usize>,
    /// values, row-major
    pub data: Vec<i64>,
}

/// The contents of a safetensors file.
#[derive(Clone, Debug, Default)]
pub struct TensorFile {
    /// where it was read from (for error messages)
    pub path: PathBuf,
    /// `F32` tensors
    pub f32s: HashMap<String, Tensor>,
    /// `I64` and `I32` tensors
    pub ints: HashMap<String, IntTensor>,
    /// the dtype on disk (`I64` or `I32`) of each tensor in `ints`, for messages
    pub int_dtypes: HashMap<String, &'static str>,
    /// the dtype (as safetensors spells it, e.g. `F16`) of every tensor of another type
    pub other: HashMap<String, String>,
    /// the `__metadata__` map
    pub metadata: HashMap<String, String>,
}

impl TensorFile {
    /// The `f32` tensor `name`.
    ///
    /// # Errors
    /// [`NnError::MissingTensor`], or [`NnError::TensorDtype`] when it exists with another dtype.
    pub fn f32(&self, name: &str) -> Result<&Tensor, NnError> {
        if let Some(t) = self.f32s.get(name) {
            return Ok(t);
        }
        Err(self.absent(name, "F32"))
    }

    /// The integer tensor `name`.
    ///
    /// # Errors
    /// [`NnError::MissingTensor`], or [`NnError::TensorDtype`] when it exists with another dtype.
    pub fn int(&self, name: &str) -> Result<&IntTensor, NnError> {
        if let Some(t) = self.ints.get(name) {
            return Ok(t);
        }
        Err(self.absent(name, "I64 or I32"))
    }

    /// Whether any tensor is called `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.f32s.contains_key(name) || self.ints.contains_key(name) || self.other.contains_key(name)
    }

    fn absent(&self, name: &str, expected: &'static str) -> NnError {
        let got = if self.f32s.contains_key(name) {
            Some("F32".to_string())
        } else if self.ints.contains_key(name) {
            Some(self.int_dtypes.get(name).copied().unwrap_or("I64").to_string())
        } else {
            self.other.get(name).cloned()
        };
        match got {
            Some(got) => NnError::TensorDtype { path: self.path.clone(), name: name.into(), expected, got },
            None => NnError::MissingTensor { path: self.path.clone(), name: name.into() },
        }
    }
}

fn format_err(path: &Path, msg: impl Into<String>) -> NnError {
    NnError::Format { path: path.to_path_buf(), msg: msg.into() }
}

/// Checks that the file holds the header and every tensor's bytes it declares.
fn check_layout(path: &Path, bytes: &[u8]) -> Result<(), NnError> {
    let len = bytes.len() as u64;
    let truncated =
        |what: String, needed: u64| NnError::Truncated { path: path.to_path_buf(), what, needed, len };
    if bytes.len() < 8 {
        return Err(truncated("the 8-byte header length".into(), 8));
    }
    let n = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
    if n > 100_000_000 {
        return Err(format_err(path, format!("header length {n} at byte 0 is implausible")));
    }
    let data_start = 8 + n;
    if len < data_start {
        return Err(truncated(format!("the JSON header (bytes 8..{data_start})"), data_start));
    }
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..data_start as usize])
        .map_err(|e| format_err(path, format!("header at bytes 8..{data_start}: {e}")))?;
    let obj = header.as_object().ok_or_else(|| format_err(path, "header is not a JSON object"))?;
    for (name, info) in obj {
        if name == "__metadata__" {
            continue;
        }
        let offsets = info
            .get("data_offsets")
            .and_then(|o| o.as_array())
            .and_then(|a| Some((a.first()?.as_u64()?, a.get(1)?.as_u64()?)))
            .ok_or_else(|| format_err(path, format!("tensor `{name}`: no valid data_offsets")))?;
        // Offsets come from the file: added in checked arithmetic, so a huge one cannot wrap
        // to a small end that passes the comparison with the file's length.
        let (Some(start), Some(end)) = (data_start.checked_add(offsets.0), data_start.checked_add(offsets.1))
        else {
            return Err(format_err(path, format!("tensor `{name}`: data_offsets {offsets:?} overflow")));
        };
        if end > len {
            return Err(truncated(format!("tensor `{name}` (bytes {start}..{end})"), end));
        }
    }
    Ok(())
}

/// Reads a safetensors file.
///
/// # Errors
/// [`NnError::Io`], [`NnError::Truncated`] (naming the header or the tensor
/// whose bytes are missing and the offset needed), [`NnError::Format`].
pub fn read_tensor_file(path: &Path) -> Result<TensorFile, NnError> {
    let bytes = std::fs::read(path).map_err(|cause| NnError::Io { path: path.to_path_buf(), cause })?;
    parse_tensor_file(path, &bytes)
}

/// Parses the bytes of a safetensors file (`path` only names it in errors).
///
/// # Errors
/// As [`read_tensor_file`].
pub fn parse_tensor_file(path: &Path, bytes: &[u8]) -> Result<TensorFile, NnError> {
    check_layout(path, bytes)?;
    let st = SafeTensors::deserialize(bytes).map_err(|e| format_err(path, e.to_string()))?;
    let (_, meta) = SafeTensors::read_metadata(bytes).map_err(|e| format_err(path, e.to_string()))?;
    let mut out = TensorFile {
        path: path.to_path_buf(),
        metadata: meta.metadata().clone().unwrap_or_default(),
        ..TensorFile::default()
    };
    for (name, view) in st.iter() {
        let shape = view.shape().to_vec();
        let data = view.data();
        match view.dtype() {
            Dtype::F32 => {
                let v: Vec<f32> = data
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
                    .collect();
                let t =
                    Tensor::from_vec(&shape, v).map_err(|e| format_err(path, format!("`{name}`: {e}")))?;
                out.f32s.insert(name.to_string(), t);
            }
            Dtype::I64 => {
                let data = data
                    .chunks_exact(8)
                    .map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes")))
                    .collect();
                out.ints.insert(name.to_string(), IntTensor { shape, data });
                out.int_dtypes.insert(name.to_string(), "I64");
            }
            Dtype::I32 => {
                let data = data
                    .chunks_exact(4)
                    .map(|c| i32::from_le_bytes(c.try_into().expect("4 bytes")) as i64)
                    .collect();
                out.ints.insert(name.to_string(), IntTensor { shape, data });
                out.int_dtypes.insert(name.to_string(), "I32");
            }
            other => {
                out.other.insert(name.to_string(), format!("{other:?}"));
            }
        }
    }
    Ok(out)
}

/// Serialises `f32` tensors, `I64` tensors and metadata to safetensors bytes.
///
/// # Errors
/// [`NnError::Format`] when the safetensors crate refuses the data (e.g. a duplicate name).
pub fn tensor_file_bytes(
    path: &Path,
    f32s: &[(String, &Tensor)],
    ints: &[(String, IntTensor)],
    metadata: &BTreeMap<String, String>,
) -> Result<Vec<u8>, NnError> {
    let f32_bytes: Vec<Vec<u8>> =
        f32s.iter().map(|(_, t)| t.data().iter().flat_map(|v| v.to_le_bytes()).collect()).collect();
    let int_bytes: Vec<Vec<u8>> =
        ints.iter().map(|(_, t)| t.data.iter().flat_map(|v| v.to_le_bytes()).collect()).collect();
    let mut views = Vec::with_capacity(f32s.len() + ints.len());
    for ((name, t), b) in f32s.iter().zip(&f32_bytes) {
        let v = TensorView::new(Dtype::F32, t.shape().to_vec(), b)
            .map_err(|e| format_err(path, format!("`{name}`: {e}")))?;
        views.push((name.clone(), v));
    }
    for ((name, t), b) in ints.iter().zip(&int_bytes) {
        let v = TensorView::new(Dtype::I64, t.shape.clone(), b)
            .map_err(|e| format_err(path, format!("`{name}`: {e}")))?;
        views.push((name.clone(), v));
    }
    let meta: HashMap<String, String> = metadata.clone().into_iter().collect();
    let meta = if meta.is_empty() { None } else { Some(meta) };
    let bytes = safetensors::serialize(views, meta).map_err(|e| format_err(path, e.to_string()))?;
    Ok(with_sorted_header(bytes))
}

/// `bytes` (a safetensors file) with its header in a fixed order, so that the same tensors and
/// metadata always give the same bytes: the safetensors crate writes the `__metadata__` map in
/// a hash map's order, which changes from process to process. Here the metadata's keys are
/// sorted and the tensors follow in the order of their data, each entry's fields as the crate
/// writes them (`dtype`, `shape`, `data_offsets`).
fn with_sorted_header(bytes: Vec<u8>) -> Vec<u8> {
    let (n, header) = SafeTensors::read_metadata(&bytes).expect("the safetensors crate reads its own bytes");
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
    let mut text = text.into_bytes();
    text.resize(text.len().next_multiple_of(8), b' ');
    let mut out = Vec::with_capacity(8 + text.len() + bytes.len() - 8 - n);
    out.extend_from_slice(&(text.len() as u64).to_le_bytes());
    out.extend_from_slice(&text);
    out.extend_from_slice(&bytes[8 + n..]);
    out
}

/// Writes `f32` tensors, `I64` tensors and metadata to a safetensors file,
/// atomically and durably ([`eeglens_io::atomic`]): a failure leaves the old
/// file, never a torn one.
///
/// # Errors
/// [`NnError::Io`], [`NnError::Format`].
pub fn write_tensor_file(
    path: &Path,
    f32s: &[(String, &Tensor)],
    ints: &[(String, IntTensor)],
    metadata: &BTreeMap<String, String>,
) -> Result<(), NnError> {
    let bytes = tensor_file_bytes(path, f32s, ints, metadata)?;
    eeglens_io::atomic::write_file(path, &bytes)
        .map_err(|cause| NnError::Io { path: path.to_path_buf(), cause })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Safetensors bytes holding one tensor `t` of `dtype` with `n` elements of `width` bytes.
    fn one_tensor(dtype: &str, n: usize, width: usize) -> Vec<u8> {
        let header =
            format!(r#"{{"t":{{"dtype":"{dtype}","shape":[{n}],"data_offsets":[0,{}]}}}}"#, n * width);
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(header.as_bytes());
        bytes.extend(std::iter::repeat_n(0u8, n * width));
        bytes
    }

    #[test]
    fn the_same_tensors_and_metadata_give_the_same_bytes() {
        // Each write builds its own hash map for the safetensors crate, whose order differs from
        // map to map within a process too; with twelve keys two maps agree by chance rarely.
        let t = Tensor::from_vec(&[2, 3], (0..6).map(|v| v as f32).collect()).expect("shape");
        let meta: BTreeMap<String, String> =
            (0..12).map(|i| (format!("key{i:02}"), format!("value {i}"))).collect();
        let f32s = [("w".to_string(), &t), ("b".to_string(), &t)];
        let ints = [("n".to_string(), IntTensor { shape: vec![], data: vec![7] })];
        let path = Path::new("x.safetensors");
        let first = tensor_file_bytes(path, &f32s, &ints, &meta).expect("serialises");
        for _ in 0..5 {
            assert_eq!(tensor_file_bytes(path, &f32s, &ints, &meta).expect("serialises"), first);
        }
        let n = u64::from_le_bytes(first[..8].try_into().expect("8 bytes")) as usize;
        let text = std::str::from_utf8(&first[8..8 + n]).expect("utf-8");
        let at: Vec<usize> =
            meta.keys().map(|k| text.find(&format!("\"{k}\":")).expect("the key is in the header")).collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "metadata keys out of order in {text}");
        // Each tensor's entry keeps the crate's field order (readers that match the text rely on it).
        assert!(text.contains(r#""w":{"dtype":"F32","shape":[2,3],"data_offsets":["#), "{text}");
        // Still a safetensors file every reader takes, with the same contents.
        let file = parse_tensor_file(path, &first).expect("parses");
        assert_eq!(file.metadata.len(), 12);
        assert_eq!(file.metadata["key07"], "value 7");
        assert_eq!(file.f32("b").expect("b").data(), t.data());
        let st = SafeTensors::deserialize(&first).expect("the safetensors crate reads it");
        assert_eq!(st.tensor("n").expect("n").data(), 7i64.to_le_bytes());
    }

    #[test]
    fn a_missing_file_prints_the_os_message_once_in_its_chain() {
        let path = Path::new("/nonexistent-eeglens/nope.safetensors");
        let os = std::fs::metadata(path).expect_err("absent").to_string();
        let e = read_tensor_file(path).expect_err("absent");
        let mut chain = e.to_string();
        let mut cur = std::error::Error::source(&e);
        while let Some(s) = cur {
            chain.push_str(": ");
            chain.push_str(&s.to_string());
            cur = s.source();
        }
        assert_eq!(chain.matches(&os).count(), 1, "{chain}");
        assert_eq!(chain.matches("nope.safetensors").count(), 1, "{chain}");
    }

    #[test]
    fn a_dtype_error_names_the_dtype_on_disk() {
        for (dtype, width) in [("I32", 4), ("I64", 8), ("F16", 2)] {
            let file =
                parse_tensor_file(Path::new("x.safetensors"), &one_tensor(dtype, 3, width)).expect("parses");
            let e = file.f32("t").expect_err("not F32");
            let msg = e.to_string();
            assert!(matches!(e, NnError::TensorDtype { .. }), "{msg}");
            assert!(msg.contains(&format!("has dtype {dtype}, expected F32")), "{msg}");
        }
        let file = parse_tensor_file(Path::new("x.safetensors"), &one_tensor("F32", 2, 4)).expect("parses");
        let msg = file.int("t").expect_err("not an integer").to_string();
        assert!(msg.contains("has dtype F32, expected I64 or I32"), "{msg}");
    }
}

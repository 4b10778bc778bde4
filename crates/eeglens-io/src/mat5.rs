//! A reader for MATLAB MAT-file version 5 (the format of `save -v6`/`-v7`, and of EEGLAB `.set`).
//!
//! Layout: a 128-byte header (116 bytes of text, 8 bytes subsystem offset, version `0x0100`,
//! endian indicator `IM` for little-endian or `MI` for big-endian), then data elements. Each
//! element has an 8-byte tag (type, byte count) or a 4-byte "small element" tag with up to 4 bytes
//! of data packed beside it, and is padded to 8 bytes. `miCOMPRESSED` elements hold a zlib stream
//! that inflates to one more element. `miMATRIX` elements hold array flags (class), dimensions,
//! a name, then the class's content: real (and imaginary) parts for numeric classes, characters,
//! cells (one `miMATRIX` per element) or structs (field-name length, names, then one `miMATRIX`
//! per field per element, column-major).
//!
//! MATLAB v7.3 files are HDF5 and are rejected with a message saying how to re-save them.

use std::path::Path;

use crate::IoError;

/// A MATLAB value. Arrays are column-major with their MATLAB dimensions.
#[derive(Debug, Clone, PartialEq)]
pub enum MatValue {
    /// Any numeric or logical class, converted to f64 (real part only).
    Numeric {
        /// MATLAB dimensions.
        dims: Vec<usize>,
        /// Column-major values.
        data: Vec<f64>,
    },
    /// A single-precision array, kept as f32 (EEG data are often stored this way).
    Single {
        /// MATLAB dimensions.
        dims: Vec<usize>,
        /// Column-major values.
        data: Vec<f32>,
    },
    /// A character array, rows joined by newlines.
    Char(String),
    /// A cell array.
    Cell {
        /// MATLAB dimensions.
        dims: Vec<usize>,
        /// Column-major elements.
        items: Vec<MatValue>,
    },
    /// A struct array (also objects).
    Struct {
        /// MATLAB dimensions.
        dims: Vec<usize>,
        /// Field names in order.
        fields: Vec<String>,
        /// For each element (column-major), one value per field.
        items: Vec<Vec<MatValue>>,
    },
    /// A class this reader does not decode (sparse, function handles...), by class number.
    Unsupported(u8),
}

impl MatValue {
    /// The first element as a number (numeric, single, or a char array holding a number).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            MatValue::Numeric { data, .. } => data.first().copied(),
            MatValue::Single { data, .. } => data.first().map(|&x| x as f64),
            MatValue::Char(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// The text of a char array (numbers are formatted, as EEGLAB event types may be either).
    pub fn as_string(&self) -> Option<String> {
        match self {
            MatValue::Char(s) => Some(s.clone()),
            MatValue::Numeric { data, .. } if data.len() == 1 => Some(format!("{}", data[0])),
            MatValue::Cell { items, .. } if items.len() == 1 => items[0].as_string(),
            _ => None,
        }
    }

    /// A struct's field `name` at element `index`.
    pub fn field(&self, index: usize, name: &str) -> Option<&MatValue> {
        match self {
            MatValue::Struct { fields, items, .. } => {
                let f = fields.iter().position(|f| f == name)?;
                items.get(index)?.get(f)
            }
            _ => None,
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            MatValue::Numeric { data, .. } => data.len(),
            MatValue::Single { data, .. } => data.len(),
            MatValue::Char(s) => s.chars().count(),
            MatValue::Cell { items, .. } => items.len(),
            MatValue::Struct { items, .. } => items.len(),
            MatValue::Unsupported(_) => 0,
        }
    }

    /// Whether it has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Decoded top-level variables, in file order.
pub type Variables = Vec<(String, MatValue)>;

/// Limit on inflated size of one compressed variable (guards against zip bombs).
const MAX_INFLATE: usize = 1 << 34;
/// Limit on nesting depth (cells of structs of cells...).
const MAX_DEPTH: usize = 64;

struct Cursor<'a> {
    path: &'a Path,
    bytes: &'a [u8],
    /// Offset of `bytes[0]` in the file (or in the inflated stream), for messages.
    base: u64,
    big_endian: bool,
}

impl<'a> Cursor<'a> {
    fn err(&self, at: usize, what: impl Into<String>) -> IoError {
        IoError::Mat { path: self.path.to_path_buf(), offset: self.base + at as u64, what: what.into() }
    }

    fn u32_at(&self, at: usize) -> Result<u32, IoError> {
        let b = self.bytes.get(at..at + 4).ok_or_else(|| self.err(at, "truncated element tag"))?;
        let a = [b[0], b[1], b[2], b[3]];
        Ok(if self.big_endian { u32::from_be_bytes(a) } else { u32::from_le_bytes(a) })
    }

    /// Reads the element at `at`: returns (type, data range, next offset).
    fn element(&self, at: usize) -> Result<(u32, std::ops::Range<usize>, usize), IoError> {
        let first = self.u32_at(at)?;
        // Read in the file's byte order, both layouts put the size in the high half.
        let (small_size, small_type) = (first >> 16, first & 0xFFFF);
        if small_size != 0 {
            // Small data element: type and size in one word, up to 4 bytes of data after it.
            let size = small_size as usize;
            if size > 4 {
                return Err(self.err(at, format!("small element claims {size} bytes (at most 4)")));
            }
            let start = at + 4;
            if start + 4 > self.bytes.len() {
                return Err(self.err(at, "truncated small element"));
            }
            return Ok((small_type, start..start + size, at + 8));
        }
        let ty = first;
        let size = self.u32_at(at + 4)? as usize;
        let start = at + 8;
        let end = start.checked_add(size).filter(|&e| e <= self.bytes.len()).ok_or_else(|| {
            self.err(
                at,
                format!(
                    "element of {size} bytes runs past the end ({} bytes left)",
                    self.bytes.len().saturating_sub(start)
                ),
            )
        })?;
        // Compressed elements are not padded; all others are padded to 8 bytes.
        let next = if ty == 15 { end } else { start + size.div_ceil(8) * 8 };
        Ok((ty, start..end, next.min(self.bytes.len().max(end))))
    }
}

/// Reads every variable of a MAT-file v5.
///
/// # Errors
/// [`IoError::Unsupported`] for v7.3 (HDF5) and v4 files, [`IoError::Mat`] naming the byte
/// offset of a malformed element.
pub fn read_mat(path: &Path) -> Result<Variables, IoError> {
    let bytes = crate::files::read_regular(path)?;
    parse_mat(path, &bytes)
}

/// Parses MAT-file v5 bytes (see [`read_mat`]); `path` is used in errors.
///
/// # Errors
/// As [`read_mat`].
pub fn parse_mat(path: &Path, bytes: &[u8]) -> Result<Variables, IoError> {
    let v73_hint = "re-save it as a v6/v7 MAT-file: in EEGLAB, pop_saveset(EEG, 'filename', F, \
                    'version', '6'); in MATLAB, save(F, '-struct', 'EEG', '-v7')";
    if bytes.starts_with(b"MATLAB 7.3") || bytes.get(512..520) == Some(b"\x89HDF\r\n\x1a\n") {
        return Err(IoError::Unsupported {
            path: path.to_path_buf(),
            what: format!("MATLAB v7.3 (HDF5) MAT-file; {v73_hint}"),
        });
    }
    if bytes.len() < 128 {
        return Err(IoError::Truncated {
            path: path.to_path_buf(),
            what: "MAT-file header".into(),
            offset: 0,
            needed: 128,
            len: bytes.len() as u64,
        });
    }
    let big_endian = match &bytes[126..128] {
        b"IM" => false,
        b"MI" => true,
        other => {
            return Err(IoError::Mat {
                path: path.to_path_buf(),
                offset: 126,
                what: format!(
                    "endian indicator {:?} is neither IM nor MI (not a MAT-file v5; v4 files are not read)",
                    String::from_utf8_lossy(other)
                ),
            })
        }
    };
    let c = Cursor { path, bytes, base: 0, big_endian };
    let mut out = Vec::new();
    let mut at = 128;
    while at + 8 <= bytes.len() {
        let (ty, range, next) = c.element(at)?;
        match ty {
            14 => {
                let (name, v) = matrix(&c, range, 0)?;
                out.push((name, v));
            }
            15 => {
                let inflated = miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(
                    &bytes[range.clone()],
                    MAX_INFLATE,
                )
                .map_err(|e| c.err(at, format!("compressed variable does not inflate: {:?}", e.status)))?;
                let ic = Cursor { path, bytes: &inflated, base: 0, big_endian };
                let (ty2, r2, _) = ic.element(0)?;
                if ty2 == 14 {
                    out.push(matrix(&ic, r2, 0)?);
                }
            }
            _ => {}
        }
        if next <= at {
            break;
        }
        at = next;
    }
    Ok(out)
}

fn numbers(c: &Cursor<'_>, ty: u32, r: std::ops::Range<usize>, at: usize) -> Result<Vec<f64>, IoError> {
    let b = &c.bytes[r];
    let be = c.big_endian;
    macro_rules! conv {
        ($t:ty, $n:expr) => {
            b.chunks_exact($n)
                .map(|x| {
                    let a: [u8; $n] = x.try_into().expect("chunk size");
                    (if be { <$t>::from_be_bytes(a) } else { <$t>::from_le_bytes(a) }) as f64
                })
                .collect()
        };
    }
    Ok(match ty {
        1 => b.iter().map(|&x| x as i8 as f64).collect(),
        2 => b.iter().map(|&x| x as f64).collect(),
        3 => conv!(i16, 2),
        4 => conv!(u16, 2),
        5 => conv!(i32, 4),
        6 => conv!(u32, 4),
        7 => conv!(f32, 4),
        9 => conv!(f64, 8),
        12 => conv!(i64, 8),
        13 => conv!(u64, 8),
        16 => b.iter().map(|&x| x as f64).collect(),
        _ => return Err(c.err(at, format!("data type {ty} where numbers were expected"))),
    })
}

fn matrix(c: &Cursor<'_>, r: std::ops::Range<usize>, depth: usize) -> Result<(String, MatValue), IoError> {
    if depth > MAX_DEPTH {
        return Err(c.err(r.start, "arrays nested too deeply"));
    }
    if r.is_empty() {
        return Ok((String::new(), MatValue::Numeric { dims: vec![0, 0], data: Vec::new() }));
    }
    let sub = Cursor { path: c.path, bytes: &c.bytes[..r.end], base: c.base, big_endian: c.big_endian };
    let (a, at) = array_header(&sub, r.start)?;
    let value = match a.class {
        6..=15 => numeric(&sub, at, a.class, a.dims, a.n)?,
        4 => MatValue::Char(chars(&sub, at, &a.dims, a.n)?),
        1 => cell(&sub, at, r.end, depth, a.dims, a.n)?,
        2 | 3 => structure(&sub, at, r.end, depth, a.class, a.dims, a.n)?,
        other => MatValue::Unsupported(other),
    };
    Ok((a.name, value))
}

/// The sub-elements every `miMATRIX` starts with: array flags, dimensions and name.
struct ArrayHeader {
    class: u8,
    dims: Vec<usize>,
    /// Number of elements (the product of `dims`).
    n: usize,
    name: String,
}

/// Reads the array header at `at`; returns it with the offset of the class's content.
fn array_header(sub: &Cursor<'_>, mut at: usize) -> Result<(ArrayHeader, usize), IoError> {
    let (_, flags_r, next) = sub.element(at)?;
    if flags_r.len() < 8 {
        return Err(sub.err(at, "array flags shorter than 8 bytes"));
    }
    let flags = sub.u32_at(flags_r.start)?;
    // Bit 0x0800 marks a complex array; only the real part is read.
    let class = (flags & 0xFF) as u8;
    at = next;
    let (_, dims_r, next) = sub.element(at)?;
    let dims: Vec<usize> = numbers(sub, 5, dims_r, at)?.into_iter().map(|d| d.max(0.0) as usize).collect();
    let n: usize = dims
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| sub.err(at, "dimensions overflow"))?;
    at = next;
    let (_, name_r, next) = sub.element(at)?;
    let name = String::from_utf8_lossy(&sub.bytes[name_r]).into_owned();
    Ok((ArrayHeader { class, dims, n, name }, next))
}

/// A numeric or logical array's real part: single precision kept as f32, any other class as f64.
fn numeric(sub: &Cursor<'_>, at: usize, class: u8, dims: Vec<usize>, n: usize) -> Result<MatValue, IoError> {
    let (ty, data_r, _) = sub.element(at)?;
    if class == 7 && ty == 7 {
        let data: Vec<f32> = sub.bytes[data_r]
            .chunks_exact(4)
            .map(|x| {
                let a = [x[0], x[1], x[2], x[3]];
                if sub.big_endian {
                    f32::from_be_bytes(a)
                } else {
                    f32::from_le_bytes(a)
                }
            })
            .collect();
        check_len(sub, at, data.len(), n)?;
        Ok(MatValue::Single { dims, data })
    } else {
        let data = numbers(sub, ty, data_r, at)?;
        check_len(sub, at, data.len(), n)?;
        Ok(MatValue::Numeric { dims, data })
    }
}

/// A character array's text (miUTF8, miUTF16, miUTF32, or code units or points in a numeric
/// type: MATLAB's `save -v6` writes miUINT16), rows joined by newlines.
fn chars(sub: &Cursor<'_>, at: usize, dims: &[usize], n: usize) -> Result<String, IoError> {
    let (ty, data_r, _) = sub.element(at)?;
    Ok(match ty {
        16 => String::from_utf8_lossy(&sub.bytes[data_r]).into_owned(),
        4 | 3 | 17 => {
            let codes = numbers(sub, if ty == 17 { 4 } else { ty }, data_r, at)?;
            check_len(sub, at, codes.len(), n)?;
            let chars: Vec<u16> = codes.iter().map(|&x| x as u16).collect();
            char_matrix(&String::from_utf16_lossy(&chars), dims)
        }
        _ => {
            // miUTF32 holds code points as 32-bit words; numeric types hold codes of any width.
            let codes = numbers(sub, if ty == 18 { 6 } else { ty }, data_r, at)?;
            check_len(sub, at, codes.len(), n)?;
            let s: String = codes.iter().map(|&x| char::from_u32(x as u32).unwrap_or('\u{fffd}')).collect();
            char_matrix(&s, dims)
        }
    })
}

/// A cell array: `n` `miMATRIX` elements from `at` up to `end`.
fn cell(
    sub: &Cursor<'_>,
    mut at: usize,
    end: usize,
    depth: usize,
    dims: Vec<usize>,
    n: usize,
) -> Result<MatValue, IoError> {
    if n > (end - at.min(end)) / 8 {
        return Err(sub.err(at, format!("cell array of {n} elements does not fit its element")));
    }
    let mut items = Vec::with_capacity(n.min(1 << 20));
    for _ in 0..n {
        let (ty, er, next) = sub.element(at)?;
        if ty != 14 {
            return Err(sub.err(at, format!("cell element of type {ty}, expected miMATRIX (14)")));
        }
        items.push(matrix(sub, er, depth + 1)?.1);
        at = next;
    }
    Ok(MatValue::Cell { dims, items })
}

/// A struct (class 2) or object (class 3) array: field names, then each element's fields.
fn structure(
    sub: &Cursor<'_>,
    mut at: usize,
    end: usize,
    depth: usize,
    class: u8,
    dims: Vec<usize>,
    n: usize,
) -> Result<MatValue, IoError> {
    if class == 3 {
        let (_, _, next) = sub.element(at)?; // class name
        at = next;
    }
    let (fields, next) = field_names(sub, at)?;
    at = next;
    // Each element of a struct with fields needs at least one 8-byte tag; without fields
    // nothing bounds the count, so cap it.
    let room = (end - at.min(end)) / 8;
    if (fields.is_empty() && n > 1 << 20) || (!fields.is_empty() && n > room) {
        return Err(sub.err(at, format!("struct array of {n} elements does not fit its element")));
    }
    let mut items = Vec::with_capacity(n.min(1 << 20));
    for _ in 0..n {
        let mut row = Vec::with_capacity(fields.len());
        for _ in 0..fields.len() {
            let (ty, er, next) = sub.element(at)?;
            if ty != 14 {
                return Err(sub.err(at, format!("struct field of type {ty}, expected miMATRIX (14)")));
            }
            row.push(matrix(sub, er, depth + 1)?.1);
            at = next;
        }
        items.push(row);
    }
    Ok(MatValue::Struct { dims, fields, items })
}

/// A struct's field-name length and names (each NUL-padded to that length); returns the names
/// with the offset after them.
fn field_names(sub: &Cursor<'_>, mut at: usize) -> Result<(Vec<String>, usize), IoError> {
    let (_, len_r, next) = sub.element(at)?;
    let name_len = numbers(sub, 5, len_r, at)?.first().copied().unwrap_or(0.0) as usize;
    at = next;
    let (_, names_r, next) = sub.element(at)?;
    let names_b = &sub.bytes[names_r];
    let fields: Vec<String> = if name_len == 0 {
        Vec::new()
    } else {
        names_b
            .chunks(name_len)
            .map(|ch| {
                let end = ch.iter().position(|&b| b == 0).unwrap_or(ch.len());
                String::from_utf8_lossy(&ch[..end]).into_owned()
            })
            .collect()
    };
    Ok((fields, next))
}

fn check_len(c: &Cursor<'_>, at: usize, got: usize, want: usize) -> Result<(), IoError> {
    if got != want {
        return Err(c.err(at, format!("array holds {got} values, its dimensions say {want}")));
    }
    Ok(())
}

/// Column-major char matrix to text: one string per row, joined by newlines.
fn char_matrix(s: &str, dims: &[usize]) -> String {
    let chars: Vec<char> = s.chars().collect();
    let rows = dims.first().copied().unwrap_or(0);
    if rows <= 1 || rows > chars.len() {
        return chars.into_iter().collect();
    }
    let cols = chars.len() / rows;
    (0..rows)
        .map(|r| (0..cols).map(|c| chars[c * rows + r]).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(ty: u32, data: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&ty.to_le_bytes());
        v.extend_from_slice(&(data.len() as u32).to_le_bytes());
        v.extend_from_slice(data);
        while v.len() % 8 != 0 {
            v.push(0);
        }
        v
    }

    fn file(class: u8, dims: [i32; 2], rest: &[u8]) -> Vec<u8> {
        let mut body = tag(6, &[class, 0, 0, 0, 0, 0, 0, 0]);
        body.extend(tag(5, &[dims[0].to_le_bytes(), dims[1].to_le_bytes()].concat()));
        body.extend(tag(1, b"x"));
        body.extend_from_slice(rest);
        let mut f = vec![b' '; 124];
        f.extend_from_slice(&[0, 1, b'I', b'M']);
        f.extend(tag(14, &body));
        f
    }

    #[test]
    fn double_matrix_and_name() {
        let data: Vec<u8> = [1.5f64, -2.0].iter().flat_map(|x| x.to_le_bytes()).collect();
        let f = file(6, [1, 2], &tag(9, &data));
        let vars = parse_mat(Path::new("t.mat"), &f).expect("parses");
        assert_eq!(vars[0].0, "x");
        assert_eq!(vars[0].1, MatValue::Numeric { dims: vec![1, 2], data: vec![1.5, -2.0] });
    }

    #[test]
    fn huge_fieldless_struct_is_an_error_not_a_hang() {
        let mut rest = tag(5, &0i32.to_le_bytes());
        rest.extend(tag(1, b""));
        let f = file(2, [1, 1 << 30], &rest);
        let e = parse_mat(Path::new("t.mat"), &f).expect_err("too many elements");
        assert!(matches!(e, IoError::Mat { .. }), "{e}");
    }

    #[test]
    fn value_count_must_match_dimensions() {
        let f = file(6, [3, 3], &tag(9, &1.0f64.to_le_bytes()));
        assert!(matches!(parse_mat(Path::new("t.mat"), &f), Err(IoError::Mat { .. })));
    }
}

//! A writer for MATLAB MAT-file version 5 (level 5), little-endian, making the choices MATLAB
//! makes (MathWorks, "MAT-File Format", level 5): data of at most 4 bytes in a small data
//! element, names and field names as `miINT8`, character arrays in UTF-16, whole-number doubles
//! stored in the smallest integer type that holds them, every element padded to 8 bytes, and
//! optionally each variable compressed (`miCOMPRESSED`, a zlib stream, as `save -v7` does).
//!
//! The functions build elements as bytes; [`file()`] puts MATLAB's 128-byte header before them.
//! [`crate::mat5`] reads what they write. Used by [`crate::eeglab_write`] for `.set` files and by
//! the tests for hand-made fixtures.
//!
//! ```
//! use eeglens_io::mat5_write as mw;
//! let bytes = mw::file(&[mw::scalar("srate", 500.0), mw::char_utf16("setname", "rest")]);
//! let vars = eeglens_io::mat5::parse_mat(std::path::Path::new("x.mat"), &bytes).unwrap();
//! assert_eq!(vars[0].1.as_f64(), Some(500.0));
//! ```

/// `miINT8`
pub const MI_INT8: u32 = 1;
/// `miUINT8`
pub const MI_UINT8: u32 = 2;
/// `miINT16`
pub const MI_INT16: u32 = 3;
/// `miUINT16`
pub const MI_UINT16: u32 = 4;
/// `miINT32`
pub const MI_INT32: u32 = 5;
/// `miUINT32`
pub const MI_UINT32: u32 = 6;
/// `miSINGLE`
pub const MI_SINGLE: u32 = 7;
/// `miDOUBLE`
pub const MI_DOUBLE: u32 = 9;
/// `miMATRIX`
pub const MI_MATRIX: u32 = 14;
/// `miCOMPRESSED`
pub const MI_COMPRESSED: u32 = 15;
/// `miUTF8`
pub const MI_UTF8: u32 = 16;
/// `miUTF16`
pub const MI_UTF16: u32 = 17;
/// `miUTF32`
pub const MI_UTF32: u32 = 18;

/// `mxCELL_CLASS`
pub const MX_CELL: u8 = 1;
/// `mxSTRUCT_CLASS`
pub const MX_STRUCT: u8 = 2;
/// `mxCHAR_CLASS`
pub const MX_CHAR: u8 = 4;
/// `mxDOUBLE_CLASS`
pub const MX_DOUBLE: u8 = 6;
/// `mxSINGLE_CLASS`
pub const MX_SINGLE: u8 = 7;

/// One data element: a small element (type and size in one word, data beside it) when the data
/// fit in 4 bytes, as MATLAB writes them; otherwise an 8-byte tag and the data padded to 8 bytes.
///
/// # Panics
/// When `data` holds 4 GiB or more (a level 5 element's size is 32 bits).
pub fn el(ty: u32, data: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(data.len() + 16);
    if !data.is_empty() && data.len() <= 4 {
        v.extend_from_slice(&(((data.len() as u32) << 16) | ty).to_le_bytes());
        v.extend_from_slice(data);
        v.resize(8, 0);
        return v;
    }
    let size = u32::try_from(data.len()).expect("a MAT-file v5 element holds less than 4 GiB");
    v.extend_from_slice(&ty.to_le_bytes());
    v.extend_from_slice(&size.to_le_bytes());
    v.extend_from_slice(data);
    v.resize(v.len().div_ceil(8) * 8, 0);
    v
}

/// An `miMATRIX` element: array flags (`class`), dimensions, name, then `content` (elements
/// already built).
pub fn matrix(name: &str, class: u8, dims: &[usize], content: &[u8]) -> Vec<u8> {
    let flags: Vec<u8> = [class as u32, 0].iter().flat_map(|x| x.to_le_bytes()).collect();
    let mut body = el(MI_UINT32, &flags);
    let d: Vec<u8> = dims.iter().flat_map(|&x| (x as i32).to_le_bytes()).collect();
    body.extend(el(MI_INT32, &d));
    body.extend(el(MI_INT8, name.as_bytes()));
    body.extend_from_slice(content);
    el(MI_MATRIX, &body)
}

/// The data element of `values` stored as type `ty` (one of the `MI_*` numeric types; values are
/// converted with `as`, so the caller picks a type that holds them).
///
/// # Panics
/// For a `ty` that is not a numeric type.
pub fn stored(ty: u32, values: &[f64]) -> Vec<u8> {
    let b: Vec<u8> = match ty {
        MI_INT8 => values.iter().map(|&x| x as i8 as u8).collect(),
        MI_UINT8 => values.iter().map(|&x| x as u8).collect(),
        MI_INT16 => values.iter().flat_map(|&x| (x as i16).to_le_bytes()).collect(),
        MI_UINT16 => values.iter().flat_map(|&x| (x as u16).to_le_bytes()).collect(),
        MI_INT32 => values.iter().flat_map(|&x| (x as i32).to_le_bytes()).collect(),
        MI_UINT32 => values.iter().flat_map(|&x| (x as u32).to_le_bytes()).collect(),
        MI_SINGLE => values.iter().flat_map(|&x| (x as f32).to_le_bytes()).collect(),
        MI_DOUBLE => values.iter().flat_map(|&x| x.to_le_bytes()).collect(),
        other => panic!("no numeric storage type {other}"),
    };
    el(ty, &b)
}

/// A double array whose values are stored as `ty`.
pub fn double_as(name: &str, dims: &[usize], values: &[f64], ty: u32) -> Vec<u8> {
    matrix(name, MX_DOUBLE, dims, &stored(ty, values))
}

/// The storage type MATLAB picks for a double array: the smallest integer type that holds every
/// value when all are whole numbers, `miDOUBLE` otherwise.
pub fn storage_type(values: &[f64]) -> u32 {
    if values.iter().any(|x| x.fract() != 0.0 || !x.is_finite()) {
        return MI_DOUBLE;
    }
    let lo = values.iter().copied().fold(0.0, f64::min);
    let hi = values.iter().copied().fold(0.0, f64::max);
    let fits = |a: f64, b: f64| lo >= a && hi <= b;
    if fits(0.0, 255.0) {
        MI_UINT8
    } else if fits(-128.0, 127.0) {
        MI_INT8
    } else if fits(0.0, 65535.0) {
        MI_UINT16
    } else if fits(-32768.0, 32767.0) {
        MI_INT16
    } else if fits(0.0, 4_294_967_295.0) {
        MI_UINT32
    } else if fits(-2_147_483_648.0, 2_147_483_647.0) {
        MI_INT32
    } else {
        MI_DOUBLE
    }
}

/// A double array `[rows, cols]` (column-major values) stored as MATLAB stores it ([`storage_type`]).
pub fn double(name: &str, dims: &[usize], values: &[f64]) -> Vec<u8> {
    double_as(name, dims, values, storage_type(values))
}

/// A double scalar stored as MATLAB stores it ([`storage_type`]).
pub fn scalar(name: &str, x: f64) -> Vec<u8> {
    double(name, &[1, 1], &[x])
}

/// A single-precision matrix from column-major values.
pub fn single(name: &str, dims: &[usize], values: &[f32]) -> Vec<u8> {
    let b: Vec<u8> = values.iter().flat_map(|x| x.to_le_bytes()).collect();
    matrix(name, MX_SINGLE, dims, &el(MI_SINGLE, &b))
}

/// A 1-row char array in UTF-16 (`miUTF16`); `''` is a 0x0 array.
pub fn char_utf16(name: &str, s: &str) -> Vec<u8> {
    let units: Vec<u16> = s.encode_utf16().collect();
    let b: Vec<u8> = units.iter().flat_map(|u| u.to_le_bytes()).collect();
    let rows = usize::from(!units.is_empty());
    matrix(name, MX_CHAR, &[rows, units.len()], &el(MI_UTF16, &b))
}

/// A cell array of elements written with [`matrix`] and friends (their names empty).
pub fn cell(name: &str, dims: &[usize], items: &[Vec<u8>]) -> Vec<u8> {
    matrix(name, MX_CELL, dims, &items.concat())
}

/// A struct array: `items[element][field]` (values with empty names), elements column-major.
///
/// # Panics
/// When an element does not have one value per field.
pub fn structure(name: &str, dims: &[usize], fields: &[&str], items: &[Vec<Vec<u8>>]) -> Vec<u8> {
    let len = fields.iter().map(|f| f.len() + 1).max().unwrap_or(1).max(8);
    let mut names = Vec::with_capacity(len * fields.len());
    for f in fields {
        let mut b = f.as_bytes().to_vec();
        b.resize(len, 0);
        names.extend(b);
    }
    let mut content = el(MI_INT32, &(len as i32).to_le_bytes());
    content.extend(el(MI_INT8, &names));
    for row in items {
        assert_eq!(row.len(), fields.len(), "one value per field");
        for v in row {
            content.extend_from_slice(v);
        }
    }
    matrix(name, MX_STRUCT, dims, &content)
}

/// An empty value (`[]`) as MATLAB writes it in a struct field or cell: an `miMATRIX` of no bytes.
pub fn empty() -> Vec<u8> {
    el(MI_MATRIX, &[])
}

/// A variable compressed as MATLAB's `save -v7` does: a zlib stream of its element, unpadded.
pub fn compressed(element: &[u8]) -> Vec<u8> {
    let z = miniz_oxide::deflate::compress_to_vec_zlib(element, 6);
    let mut v = MI_COMPRESSED.to_le_bytes().to_vec();
    v.extend_from_slice(&(z.len() as u32).to_le_bytes());
    v.extend(z);
    v
}

/// MATLAB's 128-byte header: descriptive text, no subsystem data, version `0x0100`, `IM`.
pub fn header() -> Vec<u8> {
    let mut f = b"MATLAB 5.0 MAT-file, Platform: GLNXA64, written by eeglens".to_vec();
    f.resize(116, b' ');
    f.extend_from_slice(&[0; 8]);
    f.extend_from_slice(&0x0100u16.to_le_bytes());
    f.extend_from_slice(b"IM");
    f
}

/// A MAT-file: [`header`], then the variables' elements.
pub fn file(elements: &[Vec<u8>]) -> Vec<u8> {
    let mut f = header();
    for e in elements {
        f.extend_from_slice(e);
    }
    f
}

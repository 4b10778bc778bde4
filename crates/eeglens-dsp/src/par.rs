//! Channel-parallel application of any per-channel operation (rayon, one task per channel).
//!
//! All rayon use of the crate sits here. Each helper takes a closure over one channel, e.g.
//! `|ch| sos.filtfilt(ch)` or `|ch| resampler.process(ch)`, runs it on every channel in
//! parallel and reports the first failing channel by index ([`DspError::Channel`]).

use ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis};
use rayon::prelude::*;

use crate::error::{DspError, Result};
use crate::sample::Sample;

/// Applies `f` to each channel of `[n_channels][n_samples]` data, in parallel.
///
/// # Errors
/// The first (lowest-index) channel's error, wrapped in [`DspError::Channel`].
pub fn map_channels<T, U, F>(data: &[Vec<T>], f: F) -> Result<Vec<Vec<U>>>
where
    T: Sample,
    U: Send,
    F: Fn(&[T]) -> Result<Vec<U>> + Sync,
{
    data.par_iter().enumerate().map(|(c, ch)| f(ch).map_err(|e| e.in_channel(c))).collect()
}

/// Applies `f` to each channel in place, in parallel.
///
/// # Errors
/// The first failing channel's error, wrapped in [`DspError::Channel`]; other channels may
/// already have been processed.
pub fn for_each_channel<T, F>(data: &mut [Vec<T>], f: F) -> Result<()>
where
    T: Sample,
    F: Fn(&mut [T]) -> Result<()> + Sync,
{
    data.par_iter_mut().enumerate().try_for_each(|(c, ch)| f(ch).map_err(|e| e.in_channel(c)))
}

/// Applies `f` to each row of an `[n_channels, n_samples]` array, in parallel, and stacks the
/// results (which must all have the same length) into a new array.
///
/// # Errors
/// The first failing channel's error, wrapped in [`DspError::Channel`];
/// [`DspError::RaggedChannels`] if the outputs differ in length.
pub fn map_rows<T, F>(data: ArrayView2<'_, T>, f: F) -> Result<Array2<T>>
where
    T: Sample,
    F: Fn(&[T]) -> Result<Vec<T>> + Sync,
{
    let rows: Vec<Vec<T>> = (0..data.nrows())
        .into_par_iter()
        .map(|c| {
            let row = data.row(c);
            let out = match row.as_slice() {
                Some(s) => f(s),
                None => f(&row.to_vec()),
            };
            out.map_err(|e| e.in_channel(c))
        })
        .collect::<Result<_>>()?;
    let n_out = rows.first().map_or(0, Vec::len);
    if let Some((channel, r)) = rows.iter().enumerate().find(|(_, r)| r.len() != n_out) {
        return Err(DspError::RaggedChannels { channel, len: r.len(), expected: n_out });
    }
    let flat: Vec<T> = rows.into_iter().flatten().collect();
    Ok(Array2::from_shape_vec((data.nrows(), n_out), flat).expect("rows checked to share one length"))
}

/// Applies `f` to each row of an `[n_channels, n_samples]` array in place, in parallel
/// (e.g. `for_each_row(data.view_mut(), |ch| sos.filtfilt_in_place(ch))`).
///
/// # Errors
/// The first failing channel's error, wrapped in [`DspError::Channel`]; other rows may
/// already have been processed.
pub fn for_each_row<T, F>(mut data: ArrayViewMut2<'_, T>, f: F) -> Result<()>
where
    T: Sample,
    F: Fn(&mut [T]) -> Result<()> + Sync,
{
    let mut rows: Vec<_> = data.axis_iter_mut(Axis(0)).collect();
    rows.par_iter_mut().enumerate().try_for_each(|(c, row)| {
        let res = match row.as_slice_mut() {
            Some(s) => f(s),
            None => {
                // Non-contiguous row (e.g. a column-major array): work on a copy.
                let mut buf = row.to_vec();
                let r = f(&mut buf);
                row.iter_mut().zip(buf).for_each(|(dst, v)| *dst = v);
                r
            }
        };
        res.map_err(|e| e.in_channel(c))
    })
}

/// Consecutive blocks of at most `width` channels covering `0..n`, for the multi-channel SIMD
/// kernels: as few blocks as the width allows, rounded up to a multiple of the thread count
/// when there are channels enough (24 channels in blocks of 8 on two threads are four blocks
/// of 6, not three of 8 that leave one thread idle half the time). Block sizes differ by at
/// most one. Which channel lands in which block never changes a result.
pub(crate) fn channel_blocks(n: usize, width: usize) -> Vec<std::ops::Range<usize>> {
    if n == 0 {
        return Vec::new();
    }
    let threads = rayon::current_num_threads().max(1);
    let mut n_blocks = n.div_ceil(width.max(1));
    let balanced = n_blocks.div_ceil(threads) * threads;
    if balanced <= n {
        n_blocks = balanced;
    }
    let (base, extra) = (n / n_blocks, n % n_blocks);
    let mut start = 0;
    (0..n_blocks)
        .map(|b| {
            let len = base + usize::from(b < extra);
            let r = start..start + len;
            start += len;
            r
        })
        .collect()
}

/// Runs `f(range, channels)` on each block of `data` (consecutive channel ranges from
/// [`channel_blocks`]) in place, in parallel; `true` if every call returned `true`.
pub(crate) fn for_each_block<T, F>(data: &mut [Vec<T>], blocks: &[std::ops::Range<usize>], f: F) -> bool
where
    T: Send,
    F: Fn(std::ops::Range<usize>, &mut [Vec<T>]) -> bool + Sync,
{
    let mut parts: Vec<(std::ops::Range<usize>, &mut [Vec<T>])> = Vec::with_capacity(blocks.len());
    let mut rest = data;
    for r in blocks {
        let (head, tail) = std::mem::take(&mut rest).split_at_mut(r.len());
        parts.push((r.clone(), head));
        rest = tail;
    }
    parts.into_par_iter().map(|(r, p)| f(r, p)).reduce(|| true, |a, b| a && b)
}

/// Maps each block of `data` to its output channels with `f`, in parallel, and concatenates
/// them in channel order; `None` if any block gave `None`.
pub(crate) fn map_blocks<T, U, F>(
    data: &[Vec<T>],
    blocks: &[std::ops::Range<usize>],
    f: F,
) -> Option<Vec<Vec<U>>>
where
    T: Sync,
    U: Send,
    F: Fn(&[Vec<T>]) -> Option<Vec<Vec<U>>> + Sync,
{
    let parts: Option<Vec<Vec<Vec<U>>>> = blocks.par_iter().map(|r| f(&data[r.clone()])).collect();
    Some(parts?.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::butter::{butter, FilterKind};
    use ndarray::Array2;

    #[test]
    fn parallel_results_equal_serial_and_errors_name_the_channel() {
        let sos = butter(2, FilterKind::LowPass(10.0), 100.0).expect("valid design");
        let data: Vec<Vec<f32>> =
            (0..4).map(|c| (0..200).map(|t| ((t * (c + 1)) % 7) as f32).collect()).collect();
        let par = map_channels(&data, |ch| sos.filtfilt(ch)).expect("valid");
        for (c, ch) in data.iter().enumerate() {
            assert_eq!(par[c], sos.filtfilt(ch).expect("valid"));
        }
        let arr = Array2::from_shape_fn((4, 200), |(c, t)| data[c][t]);
        let rows = map_rows(arr.view(), |ch| sos.filtfilt(ch)).expect("valid");
        assert_eq!(rows.row(2).to_vec(), par[2]);
        // Column-major layout exercises the non-contiguous row path.
        let transposed = arr.t().to_owned();
        let rows_t = map_rows(transposed.t(), |ch| sos.filtfilt(ch)).expect("valid");
        assert_eq!(rows_t, rows);

        let mut in_place = arr.clone();
        for_each_row(in_place.view_mut(), |ch| sos.filtfilt_in_place(ch)).expect("valid");
        assert_eq!(in_place, rows);
        let mut col_major = arr.t().to_owned();
        for_each_row(col_major.view_mut().reversed_axes(), |ch| sos.filtfilt_in_place(ch)).expect("valid");
        assert_eq!(col_major.t(), rows);

        let mut bad = data.clone();
        bad[3][10] = f32::NAN;
        let err = map_channels(&bad, |ch| sos.filtfilt(ch)).expect_err("NaN in channel 3");
        assert!(matches!(err, DspError::Channel { channel: 3, .. }));
        // The channel's error is in the message and not chained again as a source.
        let msg = err.to_string();
        assert!(msg.starts_with("channel 3: sample 10 is not finite"), "{msg}");
        assert!(std::error::Error::source(&err).is_none(), "{err:?}");
        let err = for_each_channel(&mut bad, |ch| sos.filtfilt_in_place(ch)).expect_err("NaN");
        assert!(matches!(err, DspError::Channel { channel: 3, .. }));
    }
}

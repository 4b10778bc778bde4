//! Re-referencing across channels, and per-channel demeaning and linear detrending.
//!
//! Multi-channel functions take `&mut [Vec<T>]` (one `Vec` per channel) or an
//! `ndarray::ArrayViewMut2<T>` with shape `[n_channels, n_samples]`.

use ndarray::{ArrayViewMut2, Axis};

use crate::error::{DspError, Result};
use crate::sample::Sample;

/// Which channels form the reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// The mean of all channels (common average reference).
    Average,
    /// The mean of the listed channels, e.g. linked mastoids `[m1, m2]` or a single channel `[cz]`.
    Channels(Vec<usize>),
}

fn check_reference(reference: &Reference, n_channels: usize) -> Result<()> {
    if n_channels == 0 {
        return Err(DspError::Empty { what: "channel set to re-reference" });
    }
    if let Reference::Channels(idx) = reference {
        if idx.is_empty() {
            return Err(DspError::Empty { what: "reference channel list" });
        }
        if let Some(&index) = idx.iter().find(|&&i| i >= n_channels) {
            return Err(DspError::ChannelIndex { what: "reference channels", index, n_channels });
        }
    }
    Ok(())
}

/// Subtracts the reference signal from every channel, in place (`[n_channels][n_samples]`).
///
/// The reference is computed for every sample before any channel changes, so a reference
/// channel itself becomes zero (single-channel reference) or its difference from the others.
///
/// # Errors
/// [`DspError::Empty`], [`DspError::ChannelIndex`], [`DspError::RaggedChannels`].
pub fn rereference<T: Sample>(data: &mut [Vec<T>], reference: &Reference) -> Result<()> {
    check_reference(reference, data.len())?;
    let n = data[0].len();
    if let Some((channel, ch)) = data.iter().enumerate().find(|(_, ch)| ch.len() != n) {
        return Err(DspError::RaggedChannels { channel, len: ch.len(), expected: n });
    }
    let members: Vec<usize> = match reference {
        Reference::Average => (0..data.len()).collect(),
        Reference::Channels(idx) => idx.clone(),
    };
    let mut ref_signal = vec![0.0f64; n];
    for &c in &members {
        for (r, v) in ref_signal.iter_mut().zip(&data[c]) {
            *r += v.to_f64();
        }
    }
    let inv = 1.0 / members.len() as f64;
    for ch in data.iter_mut() {
        for (v, r) in ch.iter_mut().zip(&ref_signal) {
            *v = T::from_f64(v.to_f64() - r * inv);
        }
    }
    Ok(())
}

/// [`rereference`] for an `[n_channels, n_samples]` array view.
///
/// # Errors
/// [`DspError::Empty`], [`DspError::ChannelIndex`].
pub fn rereference_array<T: Sample>(mut data: ArrayViewMut2<'_, T>, reference: &Reference) -> Result<()> {
    check_reference(reference, data.nrows())?;
    let members: Vec<usize> = match reference {
        Reference::Average => (0..data.nrows()).collect(),
        Reference::Channels(idx) => idx.clone(),
    };
    let mut ref_signal = vec![0.0f64; data.ncols()];
    for &c in &members {
        for (r, v) in ref_signal.iter_mut().zip(data.row(c)) {
            *r += v.to_f64();
        }
    }
    let inv = 1.0 / members.len() as f64;
    for mut row in data.axis_iter_mut(Axis(0)) {
        for (v, r) in row.iter_mut().zip(&ref_signal) {
            *v = T::from_f64(v.to_f64() - r * inv);
        }
    }
    Ok(())
}

/// Restores the recording reference as a channel, then re-references every channel to
/// `reference`, in place (`[n_channels][n_samples]`).
///
/// A recording referenced to one electrode (EGI's Cz, `E129` on a HydroCel-129 net) holds that
/// electrode's potential against itself: zero. This appends it as channel `n_channels` (the
/// returned index), all zeros, so that after re-referencing it carries its real potential
/// against the new reference, like every other channel: `pop_chanedit` adding Cz back followed
/// by `pop_reref` in EEGLAB. `reference` may name the restored channel (index `n_channels`).
///
/// Nothing changes when an error is returned.
///
/// # Errors
/// [`DspError::Empty`] (no channels, or an empty reference list), [`DspError::ChannelIndex`]
/// (a reference index beyond the restored channel), [`DspError::RaggedChannels`].
pub fn append_reference_channel<T: Sample>(data: &mut Vec<Vec<T>>, reference: &Reference) -> Result<usize> {
    if data.is_empty() {
        return Err(DspError::Empty { what: "channel set to re-reference" });
    }
    check_reference(reference, data.len() + 1)?;
    let n = data[0].len();
    if let Some((channel, ch)) = data.iter().enumerate().find(|(_, ch)| ch.len() != n) {
        return Err(DspError::RaggedChannels { channel, len: ch.len(), expected: n });
    }
    let restored = data.len();
    data.push(vec![T::from_f64(0.0); n]);
    rereference(data, reference)?;
    Ok(restored)
}

/// Removes a channel's mean, in place (SciPy `detrend(x, type="constant")`).
pub fn demean<T: Sample>(x: &mut [T]) {
    if x.is_empty() {
        return;
    }
    let mean = x.iter().map(|v| v.to_f64()).sum::<f64>() / x.len() as f64;
    for v in x.iter_mut() {
        *v = T::from_f64(v.to_f64() - mean);
    }
}

/// Removes a channel's least-squares straight line, in place (SciPy `detrend(x, type="linear")`).
///
/// Fewer than two samples: only the mean is removed.
pub fn detrend_linear<T: Sample>(x: &mut [T]) {
    let n = x.len();
    if n < 2 {
        demean(x);
        return;
    }
    // Centre the time axis so slope and intercept decouple: t_i = i - (n-1)/2.
    let t_mid = (n as f64 - 1.0) / 2.0;
    let mean = x.iter().map(|v| v.to_f64()).sum::<f64>() / n as f64;
    let (mut stt, mut sty) = (0.0, 0.0);
    for (i, v) in x.iter().enumerate() {
        let t = i as f64 - t_mid;
        stt += t * t;
        sty += t * (v.to_f64() - mean);
    }
    let slope = sty / stt;
    for (i, v) in x.iter_mut().enumerate() {
        let t = i as f64 - t_mid;
        *v = T::from_f64(v.to_f64() - mean - slope * t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;
    use ndarray::Array2;

    const TOL: f64 = 1e-12;

    fn channels() -> Vec<Vec<f64>> {
        (0..5).map(|c| (0..50).map(|t| ((c * 7 + t * 3) % 11) as f64 - 2.0 * c as f64).collect()).collect()
    }

    #[test]
    fn average_reference_makes_the_channel_mean_zero() {
        let mut data = channels();
        rereference(&mut data, &Reference::Average).expect("valid");
        for t in 0..50 {
            let mean: f64 = data.iter().map(|ch| ch[t]).sum::<f64>() / 5.0;
            assert_abs_diff_eq!(mean, 0.0, epsilon = TOL);
        }
    }

    #[test]
    fn linked_mastoids_subtract_the_pair_mean_and_array_matches_vecs() {
        let orig = channels();
        let mut data = orig.clone();
        rereference(&mut data, &Reference::Channels(vec![1, 3])).expect("valid");
        for c in 0..5 {
            for t in 0..50 {
                let expect = orig[c][t] - (orig[1][t] + orig[3][t]) / 2.0;
                assert_abs_diff_eq!(data[c][t], expect, epsilon = TOL);
            }
        }
        let mut arr = Array2::from_shape_fn((5, 50), |(c, t)| orig[c][t]);
        rereference_array(arr.view_mut(), &Reference::Channels(vec![1, 3])).expect("valid");
        for c in 0..5 {
            for t in 0..50 {
                assert_abs_diff_eq!(arr[[c, t]], data[c][t], epsilon = TOL);
            }
        }
    }

    #[test]
    fn bad_references_are_errors() {
        let mut data = channels();
        assert!(matches!(
            rereference(&mut data, &Reference::Channels(vec![5])),
            Err(DspError::ChannelIndex { index: 5, n_channels: 5, .. })
        ));
        data[2].pop();
        assert!(matches!(
            rereference(&mut data, &Reference::Average),
            Err(DspError::RaggedChannels { channel: 2, .. })
        ));
        let mut none: Vec<Vec<f32>> = Vec::new();
        assert!(rereference(&mut none, &Reference::Average).is_err());
    }

    /// A montage with known potentials against infinity: four scalp electrodes, two mastoids
    /// and Cz. The recording is referenced to Cz and omits it.
    #[test]
    fn restoring_cz_and_referencing_to_the_mastoids_gives_the_true_differences() {
        let n = 40;
        // Channels: E1..E4, M1, M2, Cz.
        let potential = |c: usize, t: usize| -> f64 {
            let t = t as f64;
            match c {
                0 => 10.0 * (0.3 * t).sin() + 2.0,
                1 => -4.0 + 0.1 * t,
                2 => 3.0 * (0.7 * t).cos(),
                3 => 1.5,
                4 => 0.5 * (0.2 * t).sin() - 1.0,  // M1
                5 => 0.8 - 0.02 * t,               // M2
                _ => 6.0 * (0.05 * t).cos() + 4.0, // Cz
            }
        };
        let mut data: Vec<Vec<f64>> =
            (0..6).map(|c| (0..n).map(|t| potential(c, t) - potential(6, t)).collect()).collect();
        let cz = append_reference_channel(&mut data, &Reference::Channels(vec![4, 5])).expect("valid");
        assert_eq!((cz, data.len()), (6, 7));
        for (c, ch) in data.iter().enumerate() {
            for (t, v) in ch.iter().enumerate() {
                let want = potential(c, t) - (potential(4, t) + potential(5, t)) / 2.0;
                assert_abs_diff_eq!(*v, want, epsilon = TOL);
            }
        }
        // Average reference over all seven: the restored Cz takes part.
        let mut data: Vec<Vec<f32>> =
            (0..6).map(|c| (0..n).map(|t| (potential(c, t) - potential(6, t)) as f32).collect()).collect();
        append_reference_channel(&mut data, &Reference::Average).expect("valid");
        for (c, ch) in data.iter().enumerate() {
            for (t, v) in ch.iter().enumerate() {
                let mean = (0..7).map(|k| potential(k, t)).sum::<f64>() / 7.0;
                assert_abs_diff_eq!(f64::from(*v), potential(c, t) - mean, epsilon = 1e-5);
            }
        }
    }

    #[test]
    fn appending_the_reference_leaves_data_alone_on_error() {
        let orig = channels();
        let mut data = orig.clone();
        assert!(matches!(
            append_reference_channel(&mut data, &Reference::Channels(vec![6])),
            Err(DspError::ChannelIndex { index: 6, n_channels: 6, .. })
        ));
        assert!(append_reference_channel(&mut data, &Reference::Channels(vec![])).is_err());
        assert_eq!(data, orig);
        data[1].pop();
        assert!(matches!(
            append_reference_channel(&mut data, &Reference::Average),
            Err(DspError::RaggedChannels { channel: 1, .. })
        ));
        assert_eq!(data.len(), 5);
        let mut none: Vec<Vec<f64>> = Vec::new();
        assert!(append_reference_channel(&mut none, &Reference::Average).is_err());
        // The restored channel itself as the reference: everything becomes relative to it again.
        let mut data = orig.clone();
        append_reference_channel(&mut data, &Reference::Channels(vec![5])).expect("valid");
        assert_eq!(&data[..5], &orig[..]);
    }

    #[test]
    fn detrend_removes_a_line_and_keeps_the_rest() {
        let wiggle = |i: usize| ((i * 37) % 13) as f64 - 6.0;
        let mut x: Vec<f64> = (0..101).map(|i| 3.0 + 0.25 * i as f64).collect();
        detrend_linear(&mut x);
        for v in &x {
            assert_abs_diff_eq!(*v, 0.0, epsilon = 1e-10);
        }
        let mut y: Vec<f32> = (0..64).map(|i| wiggle(i) as f32).collect();
        let mean = y.iter().map(|v| f64::from(*v)).sum::<f64>() / 64.0;
        demean(&mut y);
        for (i, v) in y.iter().enumerate() {
            assert_abs_diff_eq!(f64::from(*v), wiggle(i) - mean, epsilon = 1e-5);
        }
    }
}

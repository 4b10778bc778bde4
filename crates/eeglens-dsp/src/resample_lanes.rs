//! Polyphase resampling of a block of channels at once, one channel per SIMD lane.
//!
//! # Algorithm and layout
//! Every channel of a block meets the same taps at the same input indices, so output `i` of
//! all `width` channels is one dot product whose "samples" are vectors: the input is copied
//! time-major (`[time][lane]`, as `f64`) a tile of [`TILE`] outputs at a time (the input span
//! those outputs reach: about `TILE * down / up + n_taps / up` time steps), each tap is
//! broadcast and multiplied into one vector of inputs, and the outputs are written back to the
//! channels. Only the kept outputs of the upsample-filter-downsample are
//! computed, from the polyphase branch each one uses, as in [`crate::Resampler::process`].
//!
//! A lane sums exactly as the scalar `dot` does: four partial sums over the taps in steps of
//! four (`acc[j] += tap * x`, multiply then add, each rounded), combined as
//! `(acc0 + acc1) + (acc2 + acc3)`, then the remaining taps added in order, over the same
//! clipped range of taps at the signal's ends. Results are bit-identical to
//! [`crate::Resampler::process`] channel by channel.
//!
//! # Cost
//! Per output and tap one broadcast, one vector load, one multiply and one add for 8 (AVX-512)
//! or 4 (AVX2) channels; the scalar loop needs the multiply and the add per channel.
#![allow(unsafe_code)]

use crate::lanes::{rows_to_time_major, time_major_to_rows, F64s, Lanes, V1};
use crate::sample::Sample;

/// Outputs per tile: 128 outputs at 500 -> 128 Hz reach ~580 input steps, 36 KiB at 8 lanes
/// (in L1 while the outputs are summed).
const TILE: usize = 128;

/// The geometry of one resampler, borrowed from [`crate::Resampler`].
pub(crate) struct Poly<'a> {
    pub(crate) up: usize,
    pub(crate) down: usize,
    pub(crate) half_len: usize,
    /// `branches[phase]`: the taps of that phase, reversed.
    pub(crate) branches: &'a [Vec<f64>],
}

impl Poly<'_> {
    /// The input range `[n_min, n_max]` output `i` reads, its branch, and the first tap of the
    /// branch it uses; `None` when it reads no input (the output is 0).
    #[inline]
    fn reach(&self, i: usize, n_in: usize) -> Option<(usize, usize, &[f64], usize)> {
        let t = i * self.down + self.half_len;
        let q = t / self.up;
        let branch = &self.branches[t % self.up];
        let n_branch = branch.len();
        let n_min = (q + 1).saturating_sub(n_branch);
        let n_max = q.min(n_in - 1);
        (n_min <= n_max).then(|| (n_min, n_max, branch.as_slice(), n_min + n_branch - 1 - q))
    }
}

/// Resamples every channel of `block` (equal non-zero lengths, at most `lanes.width()`
/// channels) to `n_out` samples; `None` if a sample is not finite (checked as the input is
/// converted, every sample at least once).
pub(crate) fn resample_block<T: Sample>(
    lanes: Lanes,
    poly: &Poly<'_>,
    block: &[Vec<T>],
    n_out: usize,
) -> Option<Vec<Vec<T>>> {
    let m = block.len();
    assert!(m >= 1 && m <= lanes.width(), "a block holds 1..={} channels, got {m}", lanes.width());
    let n_in = block[0].len();
    assert!(n_in > 0 && block.iter().all(|ch| ch.len() == n_in), "channels of one block share a length");
    match lanes {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: an `Avx512` value exists only once the CPU was seen to have AVX-512F.
        Lanes::Avx512(_) => unsafe { x86::resample_avx512(poly, block, n_out) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: an `Avx2` value exists only once the CPU was seen to have AVX2.
        Lanes::Avx2(_) => unsafe { x86::resample_avx2(poly, block, n_out) },
        // SAFETY: `V1` is plain `f64` arithmetic.
        _ => unsafe { resample_lanes::<V1, T>(poly, block, n_out) },
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{resample_lanes, Poly};
    use crate::lanes::{V256, V512};
    use crate::sample::Sample;

    /// # Safety
    /// The CPU must have AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn resample_avx512<T: Sample>(
        poly: &Poly<'_>,
        block: &[Vec<T>],
        n_out: usize,
    ) -> Option<Vec<Vec<T>>> {
        unsafe { resample_lanes::<V512, T>(poly, block, n_out) }
    }

    /// # Safety
    /// The CPU must have AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn resample_avx2<T: Sample>(
        poly: &Poly<'_>,
        block: &[Vec<T>],
        n_out: usize,
    ) -> Option<Vec<Vec<T>>> {
        unsafe { resample_lanes::<V256, T>(poly, block, n_out) }
    }
}

/// The block's resampling on `V::LANES` lanes, a tile of outputs at a time (see the module
/// page).
///
/// # Safety
/// The CPU must support `V`'s instruction set.
#[inline(always)]
unsafe fn resample_lanes<V: F64s, T: Sample>(
    poly: &Poly<'_>,
    block: &[Vec<T>],
    n_out: usize,
) -> Option<Vec<Vec<T>>> {
    let w = V::LANES;
    let n_in = block[0].len();
    let mut out: Vec<Vec<T>> = block.iter().map(|_| vec![T::from_f64(0.0); n_out]).collect();
    let mut rows: Vec<f64> = Vec::new();
    let mut tile: Vec<f64> = Vec::new();
    let mut acc = vec![0.0f64; TILE * w];
    let mut acc_rows = vec![0.0f64; TILE * w];
    // Input samples `[0, checked)` have been seen finite.
    let mut bad = false;
    let mut checked = 0;
    let mut i0 = 0;
    while i0 < n_out {
        let i1 = (i0 + TILE).min(n_out);
        // The input span of this tile's outputs (`n_min`, `n_max` never decrease with `i`).
        let lo = (i0..i1).find_map(|i| poly.reach(i, n_in)).map(|r| r.0);
        let hi = (i0..i1).rev().find_map(|i| poly.reach(i, n_in)).map(|r| r.1);
        unsafe {
            if let (Some(lo), Some(hi)) = (lo, hi) {
                let span = hi + 1 - lo;
                rows.resize(span * w, 0.0);
                tile.resize(span * w, 0.0);
                for (j, ch) in block.iter().enumerate() {
                    for (dst, v) in rows[j * span..(j + 1) * span].iter_mut().zip(&ch[lo..=hi]) {
                        *dst = v.to_f64();
                        bad |= !dst.is_finite();
                    }
                    // Samples no output reaches (none in practice) are checked all the same.
                    bad |= lo > checked && ch[checked..lo].iter().any(|v| !v.to_f64().is_finite());
                }
                checked = checked.max(hi + 1);
                rows_to_time_major::<V>(&rows, span, span, &mut tile);
                outputs::<V>(poly, n_in, &tile, lo, i0..i1, &mut acc);
            } else {
                acc.iter_mut().for_each(|v| *v = 0.0);
            }
            time_major_to_rows::<V>(&acc, i1 - i0, &mut acc_rows, TILE);
        }
        for (j, ch) in out.iter_mut().enumerate() {
            for (dst, v) in ch[i0..i1].iter_mut().zip(&acc_rows[j * TILE..]) {
                *dst = T::from_f64(*v);
            }
        }
        i0 = i1;
    }
    bad |= block.iter().any(|ch| ch[checked.min(n_in)..].iter().any(|v| !v.to_f64().is_finite()));
    (!bad).then_some(out)
}

/// The outputs `outs` of `V::LANES` channels.
///
/// # Safety
/// The CPU must support `V`'s instruction set.
#[inline(always)]
unsafe fn outputs<V: F64s>(
    poly: &Poly<'_>,
    n_in: usize,
    tile: &[f64],
    tile_start: usize,
    outs: std::ops::Range<usize>,
    acc: &mut [f64],
) {
    let w = V::LANES;
    unsafe {
        for (o, i) in outs.enumerate() {
            let sum = match poly.reach(i, n_in) {
                None => V::splat(0.0),
                Some((n_min, n_max, branch, first)) => {
                    let taps = &branch[first..=first + (n_max - n_min)];
                    let xs = &tile[(n_min - tile_start) * w..(n_max + 1 - tile_start) * w];
                    let mut a = [V::splat(0.0); 4];
                    let (ct, cx) = (taps.chunks_exact(4), xs.chunks_exact(4 * w));
                    let (rt, rx) = (ct.remainder(), cx.remainder());
                    for (t4, x4) in ct.zip(cx) {
                        a[0] = a[0].add(V::splat(t4[0]).mul(V::load(&x4[..w])));
                        a[1] = a[1].add(V::splat(t4[1]).mul(V::load(&x4[w..2 * w])));
                        a[2] = a[2].add(V::splat(t4[2]).mul(V::load(&x4[2 * w..3 * w])));
                        a[3] = a[3].add(V::splat(t4[3]).mul(V::load(&x4[3 * w..4 * w])));
                    }
                    let mut s = a[0].add(a[1]).add(a[2].add(a[3]));
                    for (t, x) in rt.iter().zip(rx.chunks_exact(w)) {
                        s = s.add(V::splat(*t).mul(V::load(x)));
                    }
                    s
                }
            };
            sum.store(&mut acc[o * w..(o + 1) * w]);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::error::DspError;
    use crate::lanes::Lanes;
    use crate::resample::Resampler;
    use crate::sample::Sample;
    use crate::sos_lanes::tests::random_channels;

    fn same_bits<T: Sample>(a: &[Vec<T>], b: &[Vec<T>]) -> bool {
        a.len() == b.len()
            && a.iter().zip(b).all(|(x, y)| {
                x.len() == y.len()
                    && x.iter().zip(y).all(|(u, v)| u.to_f64().to_bits() == v.to_f64().to_bits())
            })
    }

    fn check_all_paths<T: Sample>(r: &Resampler, data: &[Vec<T>], what: &str) {
        let reference: Vec<Vec<T>> = data.iter().map(|ch| r.process(ch).expect("valid")).collect();
        for lanes in Lanes::available() {
            let got = r.process_channels_with(lanes, data).expect("valid");
            assert!(
                same_bits(&got, &reference),
                "{} path differs from the scalar resampler: {what}",
                lanes.name()
            );
            // The block driver alone (the scalar path's public API does not use it).
            let m = data.len().min(lanes.width());
            let (up, down) = r.factors();
            if (up, down) != (1, 1) && data[..m].windows(2).all(|p| p[0].len() == p[1].len()) {
                let got = super::resample_block(lanes, &r.poly(), &data[..m], r.output_len(data[0].len()))
                    .expect("finite");
                assert!(same_bits(&got, &reference[..m]), "{} block differs: {what}", lanes.name());
            }
        }
    }

    #[test]
    fn every_path_is_bit_identical_to_the_scalar_resampler() {
        // 500 -> 128 (32/125, 2501 taps), 256 -> 128 (1/2), 250 -> 500 (2/1), 3/7.
        for (up, down) in [(32, 125), (1, 2), (2, 1), (3, 7)] {
            let r = Resampler::new(up, down).expect("valid factors");
            let reach = r.n_taps() / up;
            // Channel counts around the lane widths; lengths from one sample (all outputs
            // clipped at both ends) through shorter than the filter to several tiles.
            for n_channels in [1, 3, 4, 5, 8, 9, 17] {
                for n in [1, 2, 5, reach / 2 + 1, reach + 3, 1100, 2500] {
                    let data: Vec<Vec<f64>> =
                        random_channels(n_channels, n, (up * 100 + n_channels * 7 + n) as u64);
                    check_all_paths(&r, &data, &format!("{up}/{down}, {n_channels} channels x {n}"));
                }
            }
            let data: Vec<Vec<f32>> = random_channels(10, 1500, up as u64);
            check_all_paths(&r, &data, &format!("{up}/{down}, f32"));
        }
    }

    #[test]
    fn identity_ragged_and_bad_channels() {
        let identity = Resampler::new(5, 5).expect("valid");
        let data: Vec<Vec<f32>> = random_channels(3, 40, 2);
        check_all_paths(&identity, &data, "identity");
        let r = Resampler::from_rates(500, 128).expect("valid");
        let mut ragged: Vec<Vec<f64>> = random_channels(9, 700, 4);
        ragged[8].truncate(650);
        check_all_paths(&r, &ragged, "ragged");
        for lanes in Lanes::available() {
            let mut bad: Vec<Vec<f32>> = random_channels(9, 100, 5);
            bad[7].clear();
            bad[8][0] = f32::NAN;
            let err = r.process_channels_with(lanes, &bad).expect_err("channel 7 is empty");
            assert!(
                matches!(&err, DspError::Channel { channel: 7, cause } if matches!(**cause, DspError::Empty { .. }))
            );
            bad[7] = vec![1.0; 100];
            let err = r.process_channels_with(lanes, &bad).expect_err("NaN in channel 8");
            assert!(err.to_string().starts_with("channel 8: sample 0 is not finite"), "{err}");
            // Found at any place, in any block: the first sample, the last, a middle one.
            for (c, t) in [(0, 99), (3, 50), (8, 0)] {
                let mut one: Vec<Vec<f64>> = random_channels(9, 100, 6);
                one[c][t] = f64::INFINITY;
                let err = r.process_channels_with(lanes, &one).expect_err("infinite sample");
                assert!(
                    err.to_string().starts_with(&format!("channel {c}: sample {t} is not finite")),
                    "{err}"
                );
            }
        }
    }
}

//! `sosfiltfilt` over a block of channels at once, one channel per SIMD lane.
//!
//! # Algorithm and layout
//! A block of up to `LANES` channels of equal length is filtered a tile of [`TILE`] time steps
//! at a time in a time-major buffer (`[time][lane]`, `f64`, in L1): each tile of the odd
//! extension is converted to `f64` row by row and transposed into the buffer through
//! registers, the cascade runs over it, and the backward pass's tiles are transposed back and
//! rounded into the channels. No `f64` copy of the whole signal is kept: the forward pass runs
//! once to record the filter state at the start of every tile (a few hundred bytes per tile)
//! and the output's last sample, then the tiles are taken from the last to the first, each
//! one's forward output recomputed from its recorded state (the same operations from the same
//! state: the same values) and run backwards. That is three cascade passes instead of two,
//! against a 19 MB buffer per block of 8 channels of 10 minutes at 500 Hz written and read
//! back through memory.
//!
//! Per time step and section a lane computes exactly what [`crate::Sos`]'s scalar loop
//! computes (`y = b0 x + s0`, `s0 = (b1 x + s1) - a1 y`, `s1 = b2 x - a2 y`, each product and
//! sum rounded once, in that order) from the same odd extension and the same initial states,
//! so results are bit-identical to [`crate::Sos::filtfilt`] channel by channel.
//!
//! # Cost
//! Nine multiplies and adds per section and time step, for `LANES` channels at once: the scalar
//! loop is throughput-bound at about `9 * n_sections / 2` cycles per sample and pass (two FP
//! ports), the vector loop at the same per time step of 8 (AVX-512) or 4 (AVX2) channels; the
//! recurrence's own latency (add, multiply, subtract: ~12 cycles per section and step)
//! overlaps across sections. Three passes of a 4-section cascade on 8 lanes: ~6.8 cycles per
//! channel and sample, against ~36 for the scalar two passes.
#![allow(unsafe_code)]

use crate::lanes::{rows_to_time_major, time_major_to_rows, F64s, Lanes, V1};
use crate::sample::Sample;

/// Time steps per tile: 256 steps of 8 lanes are 16 KiB, so the tile and its row-major copy
/// stay in L1.
const TILE: usize = 256;

/// `sosfiltfilt` of every channel of `input` (equal lengths `> edge`, at most
/// `lanes.width()` channels) into `block` (the same shape), or of `block` in place when
/// `input` is `None`. `sections` are normalised SOS rows, `zi` their steady-state initial
/// conditions, `edge` the odd-extension length.
///
/// Returns `false`, with `block` unchanged, when a sample is not finite (found on the way
/// through the forward pass, which writes nothing to `block`).
#[must_use]
pub(crate) fn filtfilt_block<T: Sample>(
    lanes: Lanes,
    sections: &[[f64; 6]],
    zi: &[[f64; 2]],
    edge: usize,
    input: Option<&[Vec<T>]>,
    block: &mut [Vec<T>],
) -> bool {
    let m = block.len();
    assert!(m >= 1 && m <= lanes.width(), "a block holds 1..={} channels, got {m}", lanes.width());
    let n = block[0].len();
    assert!(block.iter().all(|ch| ch.len() == n) && n > edge, "channels of one block share a length > edge");
    assert!(
        input.is_none_or(|i| i.len() == m && i.iter().all(|ch| ch.len() == n)),
        "input and output blocks have one shape"
    );
    match lanes {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: an `Avx512` value exists only once the CPU was seen to have AVX-512F.
        Lanes::Avx512(_) => unsafe { x86::filtfilt_avx512(sections, zi, edge, input, block) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: an `Avx2` value exists only once the CPU was seen to have AVX2.
        Lanes::Avx2(_) => unsafe { x86::filtfilt_avx2(sections, zi, edge, input, block) },
        // SAFETY: `V1` is plain `f64` arithmetic.
        _ => unsafe { filtfilt_lanes::<V1, T>(sections, zi, edge, input, block) },
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::filtfilt_lanes;
    use crate::lanes::{V256, V512};
    use crate::sample::Sample;

    /// # Safety
    /// The CPU must have AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn filtfilt_avx512<T: Sample>(
        sections: &[[f64; 6]],
        zi: &[[f64; 2]],
        edge: usize,
        input: Option<&[Vec<T>]>,
        block: &mut [Vec<T>],
    ) -> bool {
        unsafe { filtfilt_lanes::<V512, T>(sections, zi, edge, input, block) }
    }

    /// # Safety
    /// The CPU must have AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn filtfilt_avx2<T: Sample>(
        sections: &[[f64; 6]],
        zi: &[[f64; 2]],
        edge: usize,
        input: Option<&[Vec<T>]>,
        block: &mut [Vec<T>],
    ) -> bool {
        unsafe { filtfilt_lanes::<V256, T>(sections, zi, edge, input, block) }
    }
}

/// The odd extension of a block and the buffers one tile is built in.
struct Tiles<'a, T> {
    /// The channels read, when not `block` itself.
    input: Option<&'a [Vec<T>]>,
    /// The channels written.
    block: &'a mut [Vec<T>],
    edge: usize,
    n: usize,
    /// `left[j * edge + t]`: extended sample `t < edge` of lane `j`.
    left: Vec<f64>,
    /// `right[j * edge + i]`: extended sample `edge + n + i` of lane `j`.
    right: Vec<f64>,
    /// Row-major tile (`rows[j * TILE + t]`); lanes past the block stay zero.
    rows: Vec<f64>,
}

impl<'a, T: Sample> Tiles<'a, T> {
    fn new(input: Option<&'a [Vec<T>]>, block: &'a mut [Vec<T>], edge: usize, w: usize) -> Self {
        let n = block[0].len();
        let mut left = vec![0.0; w * edge];
        let mut right = vec![0.0; w * edge];
        // SciPy's odd extension, as `Sos::filtfilt_in_place` computes it:
        // 2 x[0] - x[edge..1], then x, then 2 x[n-1] - x[n-2..n-2-edge].
        for (j, x) in input.unwrap_or(block).iter().enumerate() {
            let (first, last) = (x[0].to_f64(), x[n - 1].to_f64());
            for t in 0..edge {
                left[j * edge + t] = 2.0 * first - x[edge - t].to_f64();
                right[j * edge + t] = 2.0 * last - x[n - 2 - t].to_f64();
            }
        }
        Tiles { input, block, edge, n, left, right, rows: vec![0.0; w * TILE] }
    }

    /// Writes extended time steps `t0..t1` (at most [`TILE`]) of every lane into `tile`,
    /// time-major; `false` if a signal sample among them is not finite.
    ///
    /// # Safety
    /// The CPU must support `V`'s instruction set.
    #[inline(always)]
    unsafe fn load<V: F64s>(&mut self, t0: usize, t1: usize, tile: &mut [f64]) -> bool {
        let mut bad = false;
        let (edge, n) = (self.edge, self.n);
        let input: &[Vec<T>] = match self.input {
            Some(input) => input,
            None => self.block,
        };
        for (j, x) in input.iter().enumerate() {
            let row = &mut self.rows[j * TILE..j * TILE + (t1 - t0)];
            // Left extension, signal, right extension: three contiguous pieces.
            let (a, b) = piece(t0, t1, 0, edge);
            if a < b {
                row[a - t0..b - t0].copy_from_slice(&self.left[j * edge + a..j * edge + b]);
            }
            let (c, d) = piece(t0, t1, edge, edge + n);
            if c < d {
                for (dst, v) in row[c - t0..d - t0].iter_mut().zip(&x[c - edge..d - edge]) {
                    *dst = v.to_f64();
                    bad |= !dst.is_finite();
                }
            }
            let (e, f) = piece(t0, t1, edge + n, 2 * edge + n);
            if e < f {
                let r = &self.right[j * edge + (e - edge - n)..j * edge + (f - edge - n)];
                row[e - t0..f - t0].copy_from_slice(r);
            }
        }
        unsafe { rows_to_time_major::<V>(&self.rows, TILE, t1 - t0, tile) };
        !bad
    }

    /// Rounds the signal part of extended time steps `t0..t1` of the time-major `tile` into
    /// the channels.
    ///
    /// # Safety
    /// The CPU must support `V`'s instruction set.
    #[inline(always)]
    unsafe fn store<V: F64s>(&mut self, t0: usize, t1: usize, tile: &[f64]) {
        let (edge, n) = (self.edge, self.n);
        let (c, d) = piece(t0, t1, edge, edge + n);
        if c >= d {
            return;
        }
        unsafe { time_major_to_rows::<V>(tile, t1 - t0, &mut self.rows, TILE) };
        for (j, x) in self.block.iter_mut().enumerate() {
            let row = &self.rows[j * TILE + (c - t0)..j * TILE + (d - t0)];
            for (dst, v) in x[c - edge..d - edge].iter_mut().zip(row) {
                *dst = T::from_f64(*v);
            }
        }
    }
}

/// The part `[a, b)` of `[t0, t1)` inside `[lo, hi)`, with `t0 <= a <= b <= t1` (empty at `t0`
/// or `t1` when they do not meet).
fn piece(t0: usize, t1: usize, lo: usize, hi: usize) -> (usize, usize) {
    let a = lo.clamp(t0, t1);
    (a, hi.clamp(a, t1))
}

/// State `[k][s][lane]` = `zi[k][s] * scale[lane]` for the block's lanes, zero beyond.
fn set_state(state: &mut [f64], zi: &[[f64; 2]], w: usize, scale: &[f64]) {
    state.iter_mut().for_each(|v| *v = 0.0);
    for (k, z) in zi.iter().enumerate() {
        for s in 0..2 {
            for (j, x) in scale.iter().enumerate() {
                state[(2 * k + s) * w + j] = z[s] * x;
            }
        }
    }
}

/// The block's `filtfilt` on `V::LANES` lanes (see the module page).
///
/// # Safety
/// The CPU must support `V`'s instruction set.
#[inline(always)]
unsafe fn filtfilt_lanes<V: F64s, T: Sample>(
    sections: &[[f64; 6]],
    zi: &[[f64; 2]],
    edge: usize,
    input: Option<&[Vec<T>]>,
    block: &mut [Vec<T>],
) -> bool {
    let w = V::LANES;
    let m = block.len();
    let n_ext = block[0].len() + 2 * edge;
    let st_len = sections.len() * 2 * w;
    let n_tiles = n_ext.div_ceil(TILE);
    let span = |k: usize| (k * TILE, ((k + 1) * TILE).min(n_ext));
    let mut tiles = Tiles::new(input, block, edge, w);
    let mut tile = vec![0.0f64; TILE * w];
    let mut checkpoints = vec![0.0f64; n_tiles * st_len];
    let mut state = vec![0.0f64; st_len];
    unsafe {
        // Forward pass: record the state at the start of every tile; keep the last tile.
        let mut finite = true;
        for k in 0..n_tiles {
            let (t0, t1) = span(k);
            finite &= tiles.load::<V>(t0, t1, &mut tile);
            if k == 0 {
                // Steady state scaled by each channel's first extended sample.
                let x0: Vec<f64> = tile[..m].to_vec();
                set_state(&mut state, zi, w, &x0);
            }
            checkpoints[k * st_len..(k + 1) * st_len].copy_from_slice(&state);
            cascade::<V>(sections, &mut state, &mut tile[..(t1 - t0) * w], false);
        }
        if !finite {
            return false;
        }
        // Backward pass from the last sample of the forward output, tile by tile.
        let (t0, t1) = span(n_tiles - 1);
        let y_last: Vec<f64> = tile[(t1 - t0 - 1) * w..(t1 - t0 - 1) * w + m].to_vec();
        let mut back = vec![0.0f64; st_len];
        set_state(&mut back, zi, w, &y_last);
        for k in (0..n_tiles).rev() {
            let (t0, t1) = span(k);
            let steps = &mut tile[..(t1 - t0) * w];
            if k + 1 < n_tiles {
                // The last tile's forward output is still in `tile`; recompute the others.
                let _ = tiles.load::<V>(t0, t1, steps);
                state.copy_from_slice(&checkpoints[k * st_len..(k + 1) * st_len]);
                cascade::<V>(sections, &mut state, steps, false);
            }
            cascade::<V>(sections, &mut back, steps, true);
            tiles.store::<V>(t0, t1, steps);
        }
    }
    true
}

/// Runs the cascade over the time-major `tile` (one vector per time step), forwards or
/// backwards, updating `state` (`[section][s0, s1][lane]`), with the section count fixed at
/// compile time where it is small (coefficients and states then stay in registers).
///
/// # Safety
/// The CPU must support `V`'s instruction set.
#[inline(always)]
unsafe fn cascade<V: F64s>(sections: &[[f64; 6]], state: &mut [f64], tile: &mut [f64], reverse: bool) {
    unsafe {
        match sections.len() {
            1 => cascade_fixed::<V, 1>(sections, state, tile, reverse),
            2 => cascade_fixed::<V, 2>(sections, state, tile, reverse),
            3 => cascade_fixed::<V, 3>(sections, state, tile, reverse),
            4 => cascade_fixed::<V, 4>(sections, state, tile, reverse),
            5 => cascade_fixed::<V, 5>(sections, state, tile, reverse),
            6 => cascade_fixed::<V, 6>(sections, state, tile, reverse),
            _ => cascade_any::<V>(sections, state, tile, reverse),
        }
    }
}

/// One section's coefficients `b0, b1, b2, a1, a2` in every lane.
#[derive(Clone, Copy)]
struct Coef<V> {
    b0: V,
    b1: V,
    b2: V,
    a1: V,
    a2: V,
}

impl<V: F64s> Coef<V> {
    #[inline(always)]
    unsafe fn new(s: &[f64; 6]) -> Self {
        unsafe {
            Coef {
                b0: V::splat(s[0]),
                b1: V::splat(s[1]),
                b2: V::splat(s[2]),
                a1: V::splat(s[4]),
                a2: V::splat(s[5]),
            }
        }
    }

    /// One section, one time step: the scalar loop's arithmetic, lane by lane.
    #[inline(always)]
    unsafe fn step(&self, x: V, st: &mut [V; 2]) -> V {
        unsafe {
            let y = self.b0.mul(x).add(st[0]);
            st[0] = self.b1.mul(x).add(st[1]).sub(self.a1.mul(y));
            st[1] = self.b2.mul(x).sub(self.a2.mul(y));
            y
        }
    }
}

#[inline(always)]
unsafe fn cascade_fixed<V: F64s, const N: usize>(
    sections: &[[f64; 6]],
    state: &mut [f64],
    tile: &mut [f64],
    reverse: bool,
) {
    let w = V::LANES;
    unsafe {
        let zero = V::splat(0.0);
        let mut coef = [Coef { b0: zero, b1: zero, b2: zero, a1: zero, a2: zero }; N];
        let mut st = [[zero; 2]; N];
        for k in 0..N {
            coef[k] = Coef::new(&sections[k]);
            st[k] = [V::load(&state[2 * k * w..]), V::load(&state[(2 * k + 1) * w..])];
        }
        // Plain loops, no closures: everything here must inline into the
        // `#[target_feature]` entry point.
        if reverse {
            for v in tile.chunks_exact_mut(w).rev() {
                let mut x = V::load(v);
                for k in 0..N {
                    x = coef[k].step(x, &mut st[k]);
                }
                x.store(v);
            }
        } else {
            for v in tile.chunks_exact_mut(w) {
                let mut x = V::load(v);
                for k in 0..N {
                    x = coef[k].step(x, &mut st[k]);
                }
                x.store(v);
            }
        }
        for k in 0..N {
            st[k][0].store(&mut state[2 * k * w..]);
            st[k][1].store(&mut state[(2 * k + 1) * w..]);
        }
    }
}

#[inline(always)]
unsafe fn cascade_any<V: F64s>(sections: &[[f64; 6]], state: &mut [f64], tile: &mut [f64], reverse: bool) {
    let w = V::LANES;
    unsafe {
        let mut coef = Vec::with_capacity(sections.len());
        let mut st = Vec::with_capacity(sections.len());
        for (k, s) in sections.iter().enumerate() {
            coef.push(Coef::new(s));
            st.push([V::load(&state[2 * k * w..]), V::load(&state[(2 * k + 1) * w..])]);
        }
        if reverse {
            for v in tile.chunks_exact_mut(w).rev() {
                let mut x = V::load(v);
                for (c, s) in coef.iter().zip(st.iter_mut()) {
                    x = c.step(x, s);
                }
                x.store(v);
            }
        } else {
            for v in tile.chunks_exact_mut(w) {
                let mut x = V::load(v);
                for (c, s) in coef.iter().zip(st.iter_mut()) {
                    x = c.step(x, s);
                }
                x.store(v);
            }
        }
        for (k, s) in st.iter().enumerate() {
            s[0].store(&mut state[2 * k * w..]);
            s[1].store(&mut state[(2 * k + 1) * w..]);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::butter::{butter, FilterKind};
    use crate::error::DspError;
    use crate::lanes::Lanes;
    use crate::sample::Sample;
    use crate::sos::Sos;

    /// Deterministic pseudo-random channels (a linear-congruential generator), each with its
    /// own offset and drift so the odd extension and the steady-state start matter.
    pub(crate) fn random_channels<T: Sample>(n_channels: usize, n: usize, seed: u64) -> Vec<Vec<T>> {
        let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        (0..n_channels)
            .map(|c| {
                (0..n)
                    .map(|t| {
                        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        let u = (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
                        T::from_f64(40.0 * u + 5.0 * c as f64 - 0.01 * t as f64)
                    })
                    .collect()
            })
            .collect()
    }

    fn same_bits<T: Sample>(a: &[Vec<T>], b: &[Vec<T>]) -> bool {
        a.len() == b.len()
            && a.iter().zip(b).all(|(x, y)| {
                x.len() == y.len()
                    && x.iter().zip(y).all(|(u, v)| u.to_f64().to_bits() == v.to_f64().to_bits())
            })
    }

    fn check_all_paths<T: Sample>(sos: &Sos, data: &[Vec<T>], what: &str) {
        let reference: Vec<Vec<T>> = data.iter().map(|ch| sos.filtfilt(ch).expect("valid")).collect();
        for lanes in Lanes::available() {
            let mut got = data.to_vec();
            sos.filtfilt_channels_with(lanes, None, &mut got).expect("valid");
            assert!(
                same_bits(&got, &reference),
                "{} path differs from the scalar filtfilt: {what}",
                lanes.name()
            );
            let mut got: Vec<Vec<T>> = data.iter().map(|ch| vec![T::from_f64(0.0); ch.len()]).collect();
            sos.filtfilt_channels_with(lanes, Some(data), &mut got).expect("valid");
            assert!(same_bits(&got, &reference), "{} path (not in place) differs: {what}", lanes.name());
            // The block driver alone (the scalar path's public API does not use it).
            let m = data.len().min(lanes.width());
            if data[..m].windows(2).all(|p| p[0].len() == p[1].len()) {
                let mut block = data[..m].to_vec();
                assert!(super::filtfilt_block(
                    lanes,
                    sos.sections(),
                    &sos.zi(),
                    sos.pad_len(),
                    None,
                    &mut block
                ));
                assert!(same_bits(&block, &reference[..m]), "{} block differs: {what}", lanes.name());
                let mut out = data[..m].iter().map(|ch| vec![T::from_f64(0.0); ch.len()]).collect::<Vec<_>>();
                assert!(super::filtfilt_block(
                    lanes,
                    sos.sections(),
                    &sos.zi(),
                    sos.pad_len(),
                    Some(&data[..m]),
                    &mut out
                ));
                assert!(
                    same_bits(&out, &reference[..m]),
                    "{} block differs (not in place): {what}",
                    lanes.name()
                );
            }
        }
    }

    #[test]
    fn every_path_is_bit_identical_to_the_scalar_filtfilt() {
        // Orders 1..=4 as low-pass (1-2 sections, odd orders with a first-order section) and
        // band-pass (2-8 sections: beyond 6 runs the generic cascade).
        let designs = [
            butter(1, FilterKind::LowPass(30.0), 250.0),
            butter(3, FilterKind::HighPass(0.5), 250.0),
            butter(4, FilterKind::BandPass(0.25, 25.0), 500.0),
            butter(7, FilterKind::BandPass(1.0, 40.0), 250.0),
        ];
        for (d, sos) in designs.into_iter().enumerate() {
            let sos = sos.expect("valid design");
            let edge = sos.pad_len();
            // Channel counts around the lane widths (1, 4, 8) and lengths around the padding
            // and the tile (256 steps).
            for n_channels in [1, 3, 4, 5, 8, 9, 13, 17] {
                for n in [edge + 1, edge + 2, 2 * edge + 3, 255, 256, 257, 700] {
                    let data: Vec<Vec<f64>> =
                        random_channels(n_channels, n, (d * 1000 + n_channels * 10 + n) as u64);
                    check_all_paths(&sos, &data, &format!("design {d}, {n_channels} channels x {n}"));
                }
            }
            let data: Vec<Vec<f32>> = random_channels(11, 600, d as u64);
            check_all_paths(&sos, &data, &format!("design {d}, f32"));
        }
    }

    #[test]
    fn results_do_not_depend_on_the_thread_count() {
        let sos = butter(4, FilterKind::BandPass(0.25, 25.0), 500.0).expect("valid design");
        let data: Vec<Vec<f32>> = random_channels(24, 1000, 7);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool");
            pool.install(|| sos.filtfilt_channels(&data).expect("valid"))
        };
        let one = run(1);
        assert!(same_bits(&one, &run(2)));
        assert!(same_bits(&one, &run(3)));
    }

    #[test]
    fn ragged_channels_fall_back_to_the_scalar_path() {
        let sos = butter(2, FilterKind::LowPass(10.0), 100.0).expect("valid design");
        let mut data: Vec<Vec<f64>> = random_channels(5, 300, 3);
        data[2].truncate(120);
        check_all_paths(&sos, &data, "ragged");
    }

    #[test]
    fn a_short_or_non_finite_channel_is_named_and_nothing_is_changed() {
        let sos = butter(2, FilterKind::HighPass(1.0), 100.0).expect("valid design");
        assert_eq!(sos.pad_len(), 9);
        for lanes in Lanes::available() {
            let mut data: Vec<Vec<f32>> = random_channels(10, 50, 1);
            data[6].truncate(9);
            let before = data.clone();
            let err = sos.filtfilt_channels_with(lanes, None, &mut data).expect_err("channel 6 is too short");
            assert!(
                matches!(&err, DspError::Channel { channel: 6, cause } if matches!(**cause, DspError::TooShort { len: 9, needed: 9, .. })),
                "{err:?}"
            );
            assert_eq!(data, before);
            let mut data: Vec<Vec<f32>> = random_channels(10, 50, 1);
            data[9][17] = f32::INFINITY;
            data[4][3] = f32::NAN;
            let before = data.clone();
            let err = sos.filtfilt_channels_with(lanes, None, &mut data).expect_err("NaN in channel 4");
            assert!(err.to_string().starts_with("channel 4: sample 3 is not finite"), "{err}");
            assert_eq!(
                data.iter().flatten().map(|v| v.to_bits()).collect::<Vec<_>>(),
                before.iter().flatten().map(|v| v.to_bits()).collect::<Vec<_>>()
            );
            // Not in place, the check rides on the forward pass: same error, whichever block
            // (and the last sample of a channel, the last one the pass reads).
            let mut out: Vec<Vec<f32>> = data.iter().map(|ch| vec![0.0; ch.len()]).collect();
            let err = sos.filtfilt_channels_with(lanes, Some(&data), &mut out).expect_err("NaN in channel 4");
            assert!(err.to_string().starts_with("channel 4: sample 3 is not finite"), "{err}");
            let mut late: Vec<Vec<f32>> = random_channels(10, 50, 1);
            late[7][49] = f32::NEG_INFINITY;
            let err = sos.filtfilt_channels(&late).expect_err("infinite sample");
            assert!(err.to_string().starts_with("channel 7: sample 49 is not finite"), "{err}");
        }
        let empty: Vec<Vec<f32>> = Vec::new();
        assert!(sos.filtfilt_channels(&empty).expect("nothing to do").is_empty());
    }
}

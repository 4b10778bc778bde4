//! The spectral reading shared by the three methods: Welch PSD of every item
//! (window, pattern or map) per channel, band power, the class contrast per
//! band and channel, and its permutation test.
//!
//! # The contrast
//! Items come in two groups (class 0 and class 1: the windows a network
//! assigns each class, the patterns that maximise each class, the maps
//! projected back from each class). For band `b` and channel `c`, with
//! `P_icb` item `i`'s power,
//! `r_cb = ln(mean_{i in class 1} P_icb / mean_{i in class 0} P_icb)` is the
//! per-channel log ratio, and `log_ratio_b` the same with the power averaged
//! over channels.
//!
//! A band's *contrast* — what the test and [`top_band`] use — is the size
//! of the class difference that is specific to the band, at the electrodes
//! where it is largest: with `m_c` the median of channel `c`'s log ratios
//! over the bands (with three bands or more; else 0), each channel's
//! band-specific contrast is `|r_cb - m_c|`, and `contrast_b` is the mean of
//! the largest quarter of them ([`strongest_channels`]), over the channels
//! where both classes have power in every band (a channel one class leaves
//! empty, as a deconvnet map can, says where and not which band).
//!
//! Why not `log_ratio_b`: a class difference at a few electrodes is diluted
//! in the channel average, and in the patterns of activation maximisation
//! and the deconvnet a band can rise at some electrodes and fall at others
//! (a network comparing a band between places), which the average cancels.
//! Why the strongest quarter and not every channel: where the classes do
//! not differ, the items still differ by their subjects' traits, in the
//! alpha band above all, and the mean over 24 channels adds that up until
//! it outweighs a difference at five (measured on the validation grid, see
//! [`strongest_channels`]). Why the median: patterns and maps differ
//! between the classes above all by *where* they put power, in every band
//! alike (a class pattern fills the electrodes whose power raises that
//! class), and windows can differ by an overall gain (amplitude differs
//! between the sexes in every band); the median removes that broadband
//! part and leaves the band that differs more than the others. Measuring
//! each band from zero instead (no median) named the planted band a little
//! more often on the grid, whose plants are one band on top of nothing
//! else; but on simulated items with a broadband gain of the opposite sign
//! to the band's own difference (`tools/validation/contrast_centre.py`) it
//! named the planted band in 10–86 % of draws (under 25 % in six of eight
//! settings) against 60–97 % with the median.

//! # Activation maximisation's gains
//! Under its default parameterisation activation maximisation optimises a
//! log amplitude gain `g` per channel and band, applied to real windows bin
//! by bin in the Fourier domain ([`crate::actmax`]). Its reading compares
//! the power gains `exp(2 g)` ([`Items::band_values`]) instead of the band
//! power of the patterns' Welch spectra: `r_cb` is then the log ratio of the
//! classes' mean power gains, and the contrast, the test and the channel
//! ranks follow as above. The patterns' spectra blur what the gains say:
//! a Hann segment spreads a band's power into its neighbours (about 2 Hz on
//! each side with the 1-s segments read before, 1 Hz with today's 2-s ones,
//! see [`spectra`]), so a gain on the dominant rhythm (alpha over the back of
//! the head) raises the neighbouring bands' edges, the channel's median with
//! them, and leaves a band that was not changed (delta) the largest contrast.
//! On the kept grids' 116 learned runs the gains named the planted band in
//! 109 against 100 for the 1-s spectra of the same patterns (VALIDATION.md,
//! "Activation maximisation reads its gains"); every alpha plant at
//! parieto-occipital electrodes that the spectra read as delta or beta, the
//! gains read as alpha.

//! # The test
//! The group labels of the items are permuted; each permutation's largest
//! `contrast` over all bands is the null distribution of every band (the
//! max statistic, so the p-values hold family-wise across the bands):
//! `p_b = (1 + #{perm: max_b' contrast*_b' >= contrast_b}) / (1 + n_perm)`.
//! A reading ranked by z ([`Rank::Z`]) takes the max statistic on the same
//! scale, `z*_b = (contrast*_b - mean*_b) / sd*_b` with each band's mean and
//! SD over the permutations: `p_b = (1 + #{perm: max_b' z*_b' >= z_b}) /
//! (1 + n_perm)` (the studentised max statistic, family-wise too; the
//! standardisation is a function of the permutation distribution, which does
//! not depend on which labelling was observed).
//! The reported `p` is then no smaller than the `floor` the caller passes —
//! the p-value of the network's own ability to tell the classes apart (see
//! [`discrimination`]). A band contrast among the windows a network picks or
//! the patterns it prefers says nothing about the data when the network
//! separates nothing: a network trained on a null data set still prefers
//! some spectrum. Requiring both (an intersection-union test, which keeps
//! the level) is what keeps the reading from claiming an effect there.

use eeglens_autodiff::Rng;
use eeglens_dsp::{integrate_band, Band, Psd, Welch, WelchConfig};
use serde::{Deserialize, Serialize};

use crate::error::InterpretError;
use crate::ordered::Ordered;

/// Per-channel PSDs of a set of items.
#[derive(Clone, Debug, PartialEq)]
pub struct Spectra {
    /// bin frequencies, Hz
    pub freqs: Vec<f64>,
    /// `[n_items, n_channels, n_freqs]`, row-major, in (input unit)² / Hz
    pub psd: Vec<f64>,
    /// items
    pub n_items: usize,
    /// channels per item
    pub n_channels: usize,
}

impl Spectra {
    /// Bins per spectrum.
    pub fn n_freqs(&self) -> usize {
        self.freqs.len()
    }

    /// The mean PSD of every run of `m` consecutive items (`n_items` must be
    /// a multiple of `m`): one item per run.
    pub fn mean_of_runs(&self, m: usize) -> Spectra {
        let m = m.max(1);
        let per = self.n_channels * self.n_freqs();
        let mut psd = vec![0.0; self.n_items / m * per];
        for (i, item) in self.psd.chunks_exact(per).enumerate() {
            let dst = &mut psd[i / m * per..][..per];
            dst.iter_mut().zip(item).for_each(|(d, v)| *d += v / m as f64);
        }
        Spectra { freqs: self.freqs.clone(), psd, n_items: self.n_items / m, n_channels: self.n_channels }
    }

    /// The PSD of item `i`, channel `c`.
    pub fn get(&self, i: usize, c: usize) -> &[f64] {
        let f = self.n_freqs();
        &self.psd[(i * self.n_channels + c) * f..][..f]
    }
}

/// One method's material for a reading: the items' spectra, each item's
/// class and, when the items come in pairs (activation maximisation's
/// gains), each item's pair.
#[derive(Clone, Debug, PartialEq)]
pub struct Items {
    /// the items' spectra
    pub spectra: Spectra,
    /// per item, its class
    pub groups: Vec<usize>,
    /// per item, its pair ([`read_paired`]); `None` when items are not paired
    pub pairs: Option<Vec<usize>>,
    /// per item, the independent unit it comes from (its subject), when the
    /// test is to move a unit's items of one class together: it then permutes
    /// the classes of the (unit, class) groups instead of single items
    /// ([`read_units`]). `None`: every item its own unit. Ignored with pairs.
    pub units: Option<Vec<usize>>,
    /// per item, channel and band (`[n_items, n_channels, n_bands]`, positive), the
    /// quantity the band test compares between the classes in place of the band power
    /// integrated from `spectra`, which then serve the PSD figures alone: activation
    /// maximisation's power gains (module docs, "Activation maximisation's gains"). `None`:
    /// band power.
    pub band_values: Option<Vec<f64>>,
}

impl Items {
    /// The reading of one model's items: [`read_paired`] with pairs, else [`read`].
    ///
    /// # Errors
    /// As [`read`].
    pub fn read(&self, opts: &ReadOpts<'_>) -> Result<(Reading, ReadingArrays), InterpretError> {
        let scheme = self.pairs.as_deref().map_or(Scheme::Shuffle, Scheme::Pairs);
        read_with(
            &self.spectra,
            self.band_values.as_deref(),
            &self.groups,
            scheme,
            self.units.as_deref(),
            opts,
        )
    }

    /// The items of several models (one part per fold) as one set: the
    /// parts concatenated in order, and per item the part it came from.
    /// Pairs stay within their part (part `f`'s pair `j` becomes a pair of
    /// its own); the pooled items are paired only when every part is.
    ///
    /// # Panics
    /// When `parts` is empty or the parts' spectra differ in frequencies or channels.
    pub fn pool(parts: &[Items]) -> (Items, Vec<usize>) {
        let first = parts.first().expect("Items::pool: at least one part");
        let (freqs, n_channels) = (first.spectra.freqs.clone(), first.spectra.n_channels);
        let mut psd = Vec::new();
        let (mut groups, mut blocks) = (Vec::new(), Vec::new());
        let paired = parts.iter().all(|p| p.pairs.is_some());
        let by_unit = parts.iter().all(|p| p.units.is_some());
        let valued = parts.iter().all(|p| p.band_values.is_some());
        let mut band_values = Vec::new();
        let mut pairs = Vec::new();
        let mut units = Vec::new();
        let (mut offset, mut unit_offset) = (0, 0);
        for (f, part) in parts.iter().enumerate() {
            assert!(
                part.spectra.freqs == freqs && part.spectra.n_channels == n_channels,
                "Items::pool: part {f} has other frequencies or channels"
            );
            psd.extend_from_slice(&part.spectra.psd);
            groups.extend_from_slice(&part.groups);
            blocks.extend(std::iter::repeat_n(f, part.spectra.n_items));
            if let (true, Some(p)) = (paired, &part.pairs) {
                pairs.extend(p.iter().map(|&j| offset + j));
                offset += p.iter().max().map_or(0, |&m| m + 1);
            }
            if let (true, Some(v)) = (valued, &part.band_values) {
                band_values.extend_from_slice(v);
            }
            if let (true, Some(u)) = (by_unit, &part.units) {
                // Units stay within their part, as pairs do.
                units.extend(u.iter().map(|&j| unit_offset + j));
                unit_offset += u.iter().max().map_or(0, |&m| m + 1);
            }
        }
        let n_items = groups.len();
        let spectra = Spectra { freqs, psd, n_items, n_channels };
        let items = Items {
            spectra,
            groups,
            pairs: paired.then_some(pairs),
            units: by_unit.then_some(units),
            band_values: valued.then_some(band_values),
        };
        (items, blocks)
    }

    /// The reading of items pooled by [`Items::pool`] (`blocks`: each
    /// item's part): with pairs, labels are swapped within pairs (which
    /// never cross parts); without, shuffled within each part
    /// ([`read_blocked`]).
    ///
    /// # Errors
    /// As [`read`].
    pub fn read_pooled(
        &self,
        blocks: &[usize],
        opts: &ReadOpts<'_>,
    ) -> Result<(Reading, ReadingArrays), InterpretError> {
        let scheme = match &self.pairs {
            Some(p) => Scheme::Pairs(p),
            None => {
                assert_eq!(blocks.len(), self.spectra.n_items, "read_pooled: one block per item");
                Scheme::Blocks(blocks)
            }
        };
        read_with(
            &self.spectra,
            self.band_values.as_deref(),
            &self.groups,
            scheme,
            self.units.as_deref(),
            opts,
        )
    }
}

/// Welch PSD (Hann, 2-s segments — or the whole item when shorter — with
/// 50 % overlap) of every channel of every item.
///
/// Why 2 s: a band's power is compared with its neighbours', and a Hann
/// segment of `L` seconds spreads each frequency over about `2 / L` Hz on
/// either side, so 1-s segments carry a strong rhythm (alpha) 2 Hz into the
/// bands beside it. The variance that longer segments give up is averaged
/// away over the items and over a band's bins.
///
/// # Shapes
/// `items` is `[n_items, n_channels, n_samples]`, row-major.
///
/// # Errors
/// [`InterpretError::Dsp`] for a bad rate or non-finite samples.
pub fn spectra(
    items: &[f32],
    n_channels: usize,
    n_samples: usize,
    fs: f64,
) -> Result<Spectra, InterpretError> {
    let nperseg = ((2.0 * fs).round() as usize).max(8).min(n_samples);
    let welch = Welch::new(fs, WelchConfig { nperseg, noverlap: None, nfft: None })
        .map_err(|cause| InterpretError::Dsp { what: "the Welch planner".into(), cause })?;
    let freqs = welch.freqs();
    let f = freqs.len();
    let n_items = items.len() / (n_channels * n_samples).max(1);
    let mut psd = vec![0.0; n_items * n_channels * f];
    for (row, (x, out)) in items.chunks_exact(n_samples).zip(psd.chunks_exact_mut(f)).enumerate() {
        welch.psd_into(x, out).map_err(|cause| InterpretError::Dsp {
            what: format!("item {} channel {}", row / n_channels, row % n_channels),
            cause,
        })?;
    }
    Ok(Spectra { freqs, psd, n_items, n_channels })
}

/// Integration weights of a band over the bins: `power = sum_k w_k psd_k`
/// equals [`integrate_band`] (which is linear in the PSD).
///
/// # Errors
/// [`InterpretError::Band`] when the band is outside the spectrum.
pub fn band_weights(freqs: &[f64], band: &Band) -> Result<Vec<f64>, InterpretError> {
    let out_of_range = || InterpretError::Band {
        band: band.name.clone(),
        lo: band.lo,
        hi: band.hi,
        nyquist: freqs.last().copied().unwrap_or(0.0),
    };
    let mut w = vec![0.0; freqs.len()];
    let mut unit = Psd { freqs: freqs.to_vec(), density: vec![0.0; freqs.len()] };
    for k in 0..freqs.len() {
        unit.density[k] = 1.0;
        w[k] = integrate_band(&unit, band.lo, band.hi).map_err(|_| out_of_range())?;
        unit.density[k] = 0.0;
    }
    Ok(w)
}

/// Band power of every item, channel and band: `[n_items, n_channels, n_bands]`.
///
/// # Errors
/// As [`band_weights`].
pub fn band_power(spectra: &Spectra, bands: &[Band]) -> Result<Vec<f64>, InterpretError> {
    let weights = bands.iter().map(|b| band_weights(&spectra.freqs, b)).collect::<Result<Vec<_>, _>>()?;
    let mut out = Vec::with_capacity(spectra.n_items * spectra.n_channels * bands.len());
    for i in 0..spectra.n_items {
        for c in 0..spectra.n_channels {
            let p = spectra.get(i, c);
            out.extend(weights.iter().map(|w| w.iter().zip(p).map(|(a, b)| a * b).sum::<f64>()));
        }
    }
    Ok(out)
}

/// One band's class contrast, as written to `interpret.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BandContrast {
    /// the band's name
    pub name: String,
    /// lower edge, Hz
    pub lo: f64,
    /// upper edge, Hz
    pub hi: f64,
    /// `ln(power of class 1 / power of class 0)`, channels averaged
    pub log_ratio: f64,
    /// the band's contrast: the mean over the strongest quarter of the channels of the per-channel
    /// `|ln(power of class 1 / power of class 0)|` less that channel's median
    /// over the bands (see the module docs); what the test and `top_band` use
    #[serde(default)]
    pub contrast: f64,
    /// the reported p-value: the family-wise permutation p of the contrast,
    /// no smaller than the network's discrimination p
    pub p: f64,
    /// the permutation p of the contrast alone (family-wise over the bands)
    pub p_contrast: f64,
    /// the contrast standardised by the band's own permutation null:
    /// `(contrast - mean*) / sd*` over the permutations' contrasts of this band
    /// (0 when the null does not vary). Bands differ in how much their contrast
    /// varies between subjects without any class difference (alpha most), which
    /// the raw contrast does not account for; optimal samples rank their
    /// significant bands by it ([`Rank::Z`])
    #[serde(default)]
    pub z: f64,
}

/// The scale on which a reading tests its bands and picks its top band
/// among those whose `p < alpha`: the family-wise test's max statistic and
/// the ranking use the same one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rank {
    /// the raw [`BandContrast::contrast`]: the test's max statistic is the
    /// largest contrast, the top band the significant band of largest contrast
    #[default]
    Contrast,
    /// [`BandContrast::z`]: the contrast measured against how much the band's
    /// contrast varies without any class difference. The test's max statistic
    /// is the largest z (the studentised max statistic: every band is held to
    /// its own null, so the band that varies most between subjects, alpha,
    /// no longer sets the bar for the others), the top band the significant
    /// band of largest z. The default of optimal samples and the deconvnet,
    /// whose items carry a few subjects' traits, largest in their strongest
    /// rhythms (alpha), which the raw contrast mistakes for the class
    /// difference (VALIDATION.md, "The band test on the scale of the ranking").
    Z,
}

/// The spectral reading of one method, the `M` of `interpret.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    /// bin frequencies, Hz
    pub freqs: Vec<f64>,
    /// per class, the PSD averaged over items and channels
    pub psd: Ordered<Vec<f64>>,
    /// per band, the contrast and its p-value
    pub bands: Vec<BandContrast>,
    /// per band, per channel, `ln(power of class 1 / power of class 0)`
    pub channels: Ordered<Ordered<f64>>,
    /// the band with the largest `contrast` (or `z`, by `rank`) among those
    /// with `p < alpha`; `None` (JSON null) when none is significant
    pub top_band: Option<String>,
    /// how `top_band` was chosen among the significant bands
    #[serde(default)]
    pub rank: Rank,
    /// whether the band test permuted the classes of the items' subjects
    /// (each subject's items of one class together, [`read_units`]) rather
    /// than of single items (or pairs)
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub by_subject: bool,
    /// items per class behind the reading
    pub n: Ordered<usize>,
}

/// What [`read`] returns besides the JSON part: the per-channel arrays saved as tensors.
#[derive(Clone, Debug, PartialEq)]
pub struct ReadingArrays {
    /// `[n_classes, n_channels, n_freqs]`: per class, per channel, mean PSD over items
    pub psd: Vec<f32>,
    /// `[n_classes, n_channels, n_bands]`: per class, per channel, mean band power over items
    pub band_power: Vec<f32>,
}

/// Inputs of [`read`] besides the spectra.
#[derive(Clone, Copy, Debug)]
pub struct ReadOpts<'a> {
    /// the class names (the contrast is class 1 over class 0)
    pub classes: &'a [String],
    /// the channel names
    pub channels: &'a [String],
    /// the bands
    pub bands: &'a [Band],
    /// significance level
    pub alpha: f64,
    /// permutations
    pub permutations: usize,
    /// the smallest p-value the reading may report (the network's discrimination p)
    pub floor: f64,
    /// permutation seed
    pub seed: u64,
    /// how the top band is chosen among the significant ones
    pub rank: Rank,
}

impl<'a> ReadOpts<'a> {
    /// The options of a reading of `meta`'s store with `cfg`'s settings, its
    /// p-values floored at `floor` (the network's discrimination p).
    pub fn for_store(
        meta: &'a eeglens_data::store::EpochMeta,
        cfg: &'a crate::config::InterpretConfig,
        floor: f64,
    ) -> Self {
        Self {
            classes: &meta.classes,
            channels: &meta.channels,
            bands: &cfg.bands,
            alpha: cfg.alpha,
            permutations: cfg.permutations,
            floor,
            seed: cfg.seed,
            rank: Rank::Contrast,
        }
    }
}

/// The spectral reading of items whose class is `groups[i]`.
///
/// # Panics
/// When `groups` does not have one entry per item.
///
/// # Errors
/// [`InterpretError::Band`]; [`InterpretError::TooFewWindows`] when class 0 or
/// class 1 has no item.
pub fn read(
    spectra: &Spectra,
    groups: &[usize],
    opts: &ReadOpts<'_>,
) -> Result<(Reading, ReadingArrays), InterpretError> {
    read_with_pairs(spectra, groups, None, opts)
}

/// [`read`] for paired items: `pairs[i]` names item `i`'s pair, and a pair
/// holds one item of class 0 and one of class 1 made from the same material
/// (activation maximisation's gains applied to the same windows). The test
/// then swaps the labels within pairs (each pair at random) instead of
/// shuffling them over all items: what the two items of a pair share (their
/// windows' own spectra) cancels out of the null distribution, as it does
/// out of the contrast. Items in no complete pair keep their labels.
///
/// # Panics
/// When `groups` or `pairs` does not have one entry per item.
///
/// # Errors
/// As [`read`].
pub fn read_paired(
    spectra: &Spectra,
    groups: &[usize],
    pairs: &[usize],
    opts: &ReadOpts<'_>,
) -> Result<(Reading, ReadingArrays), InterpretError> {
    assert_eq!(pairs.len(), spectra.n_items, "read_paired: one pair per item");
    read_with_pairs(spectra, groups, Some(pairs), opts)
}

/// [`read`] for items made by several models (the folds of a
/// cross-validation): `blocks[i]` names item `i`'s block (its fold), and the
/// test shuffles the labels within each block, never across: an item stays
/// with the model that made it, and each block keeps its own class counts.
///
/// # Panics
/// When `groups` or `blocks` does not have one entry per item.
///
/// # Errors
/// As [`read`].
pub fn read_blocked(
    spectra: &Spectra,
    groups: &[usize],
    blocks: &[usize],
    opts: &ReadOpts<'_>,
) -> Result<(Reading, ReadingArrays), InterpretError> {
    assert_eq!(blocks.len(), spectra.n_items, "read_blocked: one block per item");
    read_with(spectra, None, groups, Scheme::Blocks(blocks), None, opts)
}

/// [`read`] for items that come from a few independent units (the windows of
/// a few subjects, or maps made from them): `units[i]` names item `i`'s unit.
/// The test permutes the classes of the (unit, class) groups, each group's
/// items moving together, instead of single items: items of one subject share
/// its traits (its alpha above all), so shuffling them one by one spreads a
/// subject's trait over both classes and the null is narrower than the
/// differences that subjects alone make.
///
/// # Panics
/// When `groups` or `units` does not have one entry per item.
///
/// # Errors
/// As [`read`].
pub fn read_units(
    spectra: &Spectra,
    groups: &[usize],
    units: &[usize],
    opts: &ReadOpts<'_>,
) -> Result<(Reading, ReadingArrays), InterpretError> {
    read_with(spectra, None, groups, Scheme::Shuffle, Some(units), opts)
}

/// How the test relabels the items.
#[derive(Clone, Copy)]
enum Scheme<'a> {
    /// shuffled over all items
    Shuffle,
    /// swapped within complete pairs
    Pairs(&'a [usize]),
    /// shuffled within blocks
    Blocks(&'a [usize]),
}

fn read_with_pairs(
    spectra: &Spectra,
    groups: &[usize],
    pairs: Option<&[usize]>,
    opts: &ReadOpts<'_>,
) -> Result<(Reading, ReadingArrays), InterpretError> {
    read_with(spectra, None, groups, pairs.map_or(Scheme::Shuffle, Scheme::Pairs), None, opts)
}

fn read_with(
    spectra: &Spectra,
    band_values: Option<&[f64]>,
    groups: &[usize],
    scheme: Scheme<'_>,
    units: Option<&[usize]>,
    opts: &ReadOpts<'_>,
) -> Result<(Reading, ReadingArrays), InterpretError> {
    assert_eq!(groups.len(), spectra.n_items, "read: one group per item");
    if let Some(u) = units {
        assert_eq!(u.len(), spectra.n_items, "read: one unit per item");
    }
    let (n_items, n_ch, n_f, n_b) =
        (spectra.n_items, spectra.n_channels, spectra.n_freqs(), opts.bands.len());
    let n_classes = opts.classes.len();
    for g in 0..2.min(n_classes) {
        let got = groups.iter().filter(|&&x| x == g).count();
        if got == 0 {
            return Err(InterpretError::TooFewWindows {
                split: "reading".into(),
                class: opts.classes[g].clone(),
                got,
                needed: 1,
            });
        }
    }
    let bp = match band_values {
        None => band_power(spectra, opts.bands)?,
        Some(v) => {
            assert_eq!(v.len(), n_items * n_ch * n_b, "read: one band value per item, channel and band");
            v.to_vec()
        }
    };
    // Per class means of PSD and band power (or the band values), per channel.
    let mut psd_cls = vec![0.0f64; n_classes * n_ch * n_f];
    let mut bp_cls = vec![0.0f64; n_classes * n_ch * n_b];
    let mut counts = vec![0usize; n_classes];
    for (i, &g) in groups.iter().enumerate() {
        counts[g] += 1;
        for c in 0..n_ch {
            let dst = &mut psd_cls[(g * n_ch + c) * n_f..][..n_f];
            dst.iter_mut().zip(spectra.get(i, c)).for_each(|(d, s)| *d += s);
            let dst = &mut bp_cls[(g * n_ch + c) * n_b..][..n_b];
            dst.iter_mut().zip(&bp[(i * n_ch + c) * n_b..][..n_b]).for_each(|(d, s)| *d += s);
        }
    }
    for g in 0..n_classes {
        let n = counts[g].max(1) as f64;
        psd_cls[g * n_ch * n_f..][..n_ch * n_f].iter_mut().for_each(|v| *v /= n);
        bp_cls[g * n_ch * n_b..][..n_ch * n_b].iter_mut().for_each(|v| *v /= n);
    }
    let psd = Ordered(
        (0..n_classes)
            .map(|g| {
                let mean = (0..n_f)
                    .map(|k| (0..n_ch).map(|c| psd_cls[(g * n_ch + c) * n_f + k]).sum::<f64>() / n_ch as f64)
                    .collect();
                (opts.classes[g].clone(), mean)
            })
            .collect(),
    );
    // Item band power averaged over channels: the reported log ratio.
    let item_bp: Vec<Vec<f64>> = (0..n_items)
        .map(|i| {
            (0..n_b)
                .map(|b| (0..n_ch).map(|c| bp[(i * n_ch + c) * n_b + b]).sum::<f64>() / n_ch as f64)
                .collect()
        })
        .collect();
    let averaged = log_ratios(&item_bp, groups, n_b);
    // Per item, channel and band: what the band test permutes.
    let item_cb: Vec<&[f64]> = bp.chunks_exact(n_ch * n_b).collect();
    let observed = contrasts(&item_cb, groups, n_ch, n_b);
    let (p_contrast, z) = max_stat_permutation(
        &item_cb,
        groups,
        scheme,
        units,
        &observed,
        n_ch,
        opts.permutations,
        opts.seed,
        opts.rank,
    );
    let bands: Vec<BandContrast> = opts
        .bands
        .iter()
        .enumerate()
        .map(|(b, band)| BandContrast {
            name: band.name.clone(),
            lo: band.lo,
            hi: band.hi,
            log_ratio: averaged[b],
            contrast: observed[b],
            p: p_contrast[b].max(opts.floor),
            p_contrast: p_contrast[b],
            z: z[b],
        })
        .collect();
    let channels = Ordered(
        opts.bands
            .iter()
            .enumerate()
            .map(|(b, band)| {
                let per_ch = (0..n_ch)
                    .map(|c| {
                        let p0 = bp_cls[c * n_b + b];
                        let p1 = bp_cls[(n_ch + c) * n_b + b];
                        (opts.channels[c].clone(), ratio(p1, p0))
                    })
                    .collect();
                (band.name.clone(), Ordered(per_ch))
            })
            .collect(),
    );
    let top_band = top_band_by(&bands, opts.alpha, opts.rank);
    let n = Ordered(opts.classes.iter().cloned().zip(counts.iter().copied()).collect());
    let reading = Reading {
        freqs: spectra.freqs.clone(),
        psd,
        bands,
        channels,
        top_band,
        rank: opts.rank,
        by_subject: units.is_some() && !matches!(scheme, Scheme::Pairs(_)),
        n,
    };
    let arrays = ReadingArrays {
        psd: psd_cls.iter().map(|&v| v as f32).collect(),
        band_power: bp_cls.iter().map(|&v| v as f32).collect(),
    };
    Ok((reading, arrays))
}

/// The band with the largest `contrast` among those with `p < alpha`.
pub fn top_band(bands: &[BandContrast], alpha: f64) -> Option<String> {
    top_band_by(bands, alpha, Rank::Contrast)
}

/// The band with the largest `contrast` or `z` (by `rank`) among those with `p < alpha`;
/// ties in `z` go to the larger contrast.
pub fn top_band_by(bands: &[BandContrast], alpha: f64, rank: Rank) -> Option<String> {
    let sig = bands.iter().filter(|b| b.p < alpha && b.contrast.is_finite());
    match rank {
        Rank::Contrast => sig.max_by(|a, b| a.contrast.total_cmp(&b.contrast)),
        Rank::Z => sig.max_by(|a, b| a.z.total_cmp(&b.z).then(a.contrast.total_cmp(&b.contrast))),
    }
    .map(|b| b.name.clone())
}

/// `ln(p1 / p0)`, 0 when both are 0.
fn ratio(p1: f64, p0: f64) -> f64 {
    if p1 <= 0.0 && p0 <= 0.0 {
        0.0
    } else {
        (p1 / p0).ln()
    }
}

/// Per band, `ln(mean of class 1 / mean of class 0)` of `values[item][band]`.
fn log_ratios(values: &[Vec<f64>], groups: &[usize], n_b: usize) -> Vec<f64> {
    let mut sums = [vec![0.0; n_b], vec![0.0; n_b]];
    let mut counts = [0usize; 2];
    for (v, &g) in values.iter().zip(groups) {
        if g < 2 {
            counts[g] += 1;
            sums[g].iter_mut().zip(v).for_each(|(s, x)| *s += x);
        }
    }
    (0..n_b)
        .map(|b| ratio(sums[1][b] / counts[1].max(1) as f64, sums[0][b] / counts[0].max(1) as f64))
        .collect()
}

/// Per band, the contrast of items `values[item]` (`[n_ch * n_b]`,
/// channel-major): the mean of `|r_cb - m_c|` over the quarter of the
/// channels where it is largest ([`strongest_channels`]), with `r_cb =
/// ln(mean of class 1 / mean of class 0)` and `m_c` the median of channel
/// `c`'s `r_cb` over the bands (0 with fewer than three bands), among the
/// channels where both classes have positive power in every band (0 when
/// there is none).
fn contrasts(values: &[&[f64]], groups: &[usize], n_ch: usize, n_b: usize) -> Vec<f64> {
    let mut sums = [vec![0.0; n_ch * n_b], vec![0.0; n_ch * n_b]];
    let mut counts = [0usize; 2];
    for (v, &g) in values.iter().zip(groups) {
        if g < 2 {
            counts[g] += 1;
            sums[g].iter_mut().zip(v.iter()).for_each(|(s, x)| *s += x);
        }
    }
    let scale = counts[0] as f64 / counts[1].max(1) as f64;
    // Per band, the band-specific contrast of every channel used.
    let mut per_band: Vec<Vec<f64>> = vec![Vec::with_capacity(n_ch); n_b];
    let mut r = vec![0.0; n_b];
    let mut sorted = vec![0.0; n_b];
    for c in 0..n_ch {
        let (s0, s1) = (&sums[0][c * n_b..][..n_b], &sums[1][c * n_b..][..n_b]);
        if s0.iter().chain(s1).any(|&p| !(p > 0.0 && p.is_finite())) {
            continue;
        }
        for b in 0..n_b {
            r[b] = (s1[b] * scale / s0[b]).ln();
        }
        sorted.copy_from_slice(&r);
        let m = band_median(&mut sorted);
        for b in 0..n_b {
            per_band[b].push((r[b] - m).abs());
        }
    }
    per_band.iter_mut().map(|v| strongest_channels(v)).collect()
}

/// The mean of the largest quarter (rounded up) of a band's per-channel
/// contrasts, 0 when there are none. `v` is reordered.
///
/// A class difference in EEG sits at some electrodes, not all; averaged
/// over every channel it is diluted by the others, where the two groups
/// differ only by their subjects' traits (alpha above all). On the
/// validation grid (four bands × four places of five electrodes, two
/// models, two seeds: 53 learned cells, re-read with `eeglens interpret`)
/// the quarter named the planted band in 31 cells with optimal samples
/// against 23 for the mean over all channels, and in 14 against 9 with the
/// deconvnet; activation maximisation's patterns named it in 41 either way.
/// Recomputed from the saved items with every share from an eighth (3 of
/// 24) to a half, each did better than the mean with optimal samples
/// (27–34 cells against 23; `tools/validation/contrast_lab.py`), so the
/// quarter is not fitted to the five planted electrodes.
pub fn strongest_channels(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let q = v.len().div_ceil(4);
    v.sort_by(|a, b| b.total_cmp(a));
    v[..q].iter().sum::<f64>() / q as f64
}

/// The median of one channel's log ratios over the bands, the broadband
/// part every band's contrast leaves out: 0 with fewer than three bands.
/// `r` is reordered (callers pass a scratch copy).
pub fn band_median(r: &mut [f64]) -> f64 {
    let n_b = r.len();
    if n_b < 3 {
        return 0.0;
    }
    r.sort_by(f64::total_cmp);
    (r[n_b / 2] + r[(n_b - 1) / 2]) / 2.0
}

impl Reading {
    /// Per band, per channel, the channel's band-specific contrast
    /// `|r_cb - m_c|` (`m_c` = [`band_median`] of its log ratios): the
    /// quantity whose strongest quarter's mean is the band's `contrast`. A channel with a
    /// non-finite log ratio in some band (one class without power there) gets NaN.
    pub fn channel_contrasts(&self) -> Ordered<Ordered<f64>> {
        let channels: Vec<&str> =
            self.channels.0.first().map(|(_, c)| c.keys().collect()).unwrap_or_default();
        let medians: Vec<f64> = channels
            .iter()
            .map(|ch| {
                let mut r: Vec<f64> =
                    self.channels.0.iter().map(|(_, per)| per.get(ch).copied().unwrap_or(f64::NAN)).collect();
                if r.iter().all(|v| v.is_finite()) {
                    band_median(&mut r)
                } else {
                    f64::NAN
                }
            })
            .collect();
        Ordered(
            self.channels
                .0
                .iter()
                .map(|(band, per)| {
                    let row = channels
                        .iter()
                        .zip(&medians)
                        .map(|(ch, m)| (ch.to_string(), per.get(ch).map_or(f64::NAN, |r| (r - m).abs())))
                        .collect();
                    (band.clone(), Ordered(row))
                })
                .collect(),
        )
    }
}

/// Family-wise permutation p-values of the band contrasts (max statistic over the bands),
/// and each band's contrast standardised by its own permutation distribution
/// (`BandContrast::z`). Under [`Rank::Contrast`] the max statistic is the largest raw
/// contrast; under [`Rank::Z`] it is the largest standardised one (the studentised
/// max statistic), so that a band whose contrast varies much without any class
/// difference (alpha) does not set the bar for the others. Under [`Scheme::Pairs`] the
/// labels are swapped within complete pairs instead of shuffled, under [`Scheme::Blocks`]
/// shuffled within each block. With `units` (not under pairs), the classes of the
/// (unit, class) groups are shuffled (within each block) instead of the items', every
/// group's items taking the label it draws.
#[allow(clippy::too_many_arguments)]
fn max_stat_permutation(
    values: &[&[f64]],
    groups: &[usize],
    scheme: Scheme<'_>,
    units: Option<&[usize]>,
    observed: &[f64],
    n_ch: usize,
    permutations: usize,
    seed: u64,
    statistic: Rank,
) -> (Vec<f64>, Vec<f64>) {
    // Only items of the two contrasted classes take part.
    let idx: Vec<usize> = (0..groups.len()).filter(|&i| groups[i] < 2).collect();
    let sub: Vec<&[f64]> = idx.iter().map(|&i| values[i]).collect();
    let original: Vec<usize> = idx.iter().map(|&i| groups[i]).collect();
    let mut labels = original.clone();
    // Positions (into `sub`) of the complete pairs: one item of each class.
    let swaps: Vec<(usize, usize)> = match scheme {
        Scheme::Shuffle | Scheme::Blocks(_) => Vec::new(),
        Scheme::Pairs(pairs) => {
            let mut by_pair: std::collections::BTreeMap<usize, [Vec<usize>; 2]> = Default::default();
            for (pos, &i) in idx.iter().enumerate() {
                by_pair.entry(pairs[i]).or_default()[groups[i]].push(pos);
            }
            by_pair
                .values()
                .filter(|[a, b]| a.len() == 1 && b.len() == 1)
                .map(|[a, b]| (a[0], b[0]))
                .collect()
        }
    };
    // Positions (into `sub`) of each block's items.
    let block_pos: Vec<Vec<usize>> = match scheme {
        Scheme::Blocks(blocks) => {
            let mut by_block: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
            for (pos, &i) in idx.iter().enumerate() {
                by_block.entry(blocks[i]).or_default().push(pos);
            }
            by_block.into_values().collect()
        }
        _ => Vec::new(),
    };
    // With units: per block, its (unit, class) groups' positions (into `sub`).
    let unit_cells: Vec<Vec<Vec<usize>>> = match (scheme, units) {
        (Scheme::Pairs(_), _) | (_, None) => Vec::new(),
        (_, Some(units)) => {
            let block_of = |i: usize| match scheme {
                Scheme::Blocks(blocks) => blocks[i],
                _ => 0,
            };
            let mut cells: std::collections::BTreeMap<
                usize,
                std::collections::BTreeMap<(usize, usize), Vec<usize>>,
            > = Default::default();
            for (pos, &i) in idx.iter().enumerate() {
                cells.entry(block_of(i)).or_default().entry((units[i], groups[i])).or_default().push(pos);
            }
            cells.into_values().map(|b| b.into_values().collect()).collect()
        }
    };
    let mut block_labels: Vec<usize> = Vec::new();
    let mut rng = Rng::new(seed).fork(0xB4D5);
    let n_b = observed.len();
    let (mut sum, mut sum_sq) = (vec![0.0f64; n_b], vec![0.0f64; n_b]);
    // Every permutation's contrasts, `[permutations, n_b]`.
    let mut null: Vec<f64> = Vec::with_capacity(permutations * n_b);
    let tol = 1e-12;
    for _ in 0..permutations {
        match scheme {
            _ if !unit_cells.is_empty() => {
                for cells in &unit_cells {
                    block_labels.clear();
                    block_labels.extend(cells.iter().map(|c| original[c[0]]));
                    rng.shuffle(&mut block_labels);
                    for (cell, &l) in cells.iter().zip(&block_labels) {
                        cell.iter().for_each(|&p| labels[p] = l);
                    }
                }
            }
            Scheme::Pairs(_) => {
                labels.copy_from_slice(&original);
                for &(a, b) in &swaps {
                    if rng.below(2) == 1 {
                        labels.swap(a, b);
                    }
                }
            }
            Scheme::Blocks(_) => {
                for pos in &block_pos {
                    block_labels.clear();
                    block_labels.extend(pos.iter().map(|&p| original[p]));
                    rng.shuffle(&mut block_labels);
                    pos.iter().zip(&block_labels).for_each(|(&p, &l)| labels[p] = l);
                }
            }
            Scheme::Shuffle => rng.shuffle(&mut labels),
        }
        let stats = contrasts(&sub, &labels, n_ch, n_b);
        for (b, &v) in stats.iter().enumerate() {
            sum[b] += v;
            sum_sq[b] += v * v;
        }
        null.extend_from_slice(&stats);
    }
    // Each band's permutation mean and SD; a band whose null does not vary
    // standardises to 0.
    let n = permutations as f64;
    let scale: Vec<Option<(f64, f64)>> = (0..n_b)
        .map(|b| {
            if permutations < 2 {
                return None;
            }
            let mean = sum[b] / n;
            let var = ((sum_sq[b] - n * mean * mean) / (n - 1.0)).max(0.0);
            (var > 0.0 && var.is_finite()).then(|| (mean, var.sqrt()))
        })
        .collect();
    let standardise = |b: usize, v: f64| match scale[b] {
        Some((mean, sd)) if v.is_finite() => (v - mean) / sd,
        _ => 0.0,
    };
    let z: Vec<f64> = observed.iter().enumerate().map(|(b, &o)| standardise(b, o)).collect();
    // The tested values and each permutation's largest: raw contrasts, or z.
    let tested: Vec<f64> = match statistic {
        Rank::Contrast => observed.iter().map(|o| o.abs()).collect(),
        Rank::Z => z.clone(),
    };
    let mut exceed = vec![0usize; n_b];
    for stats in null.chunks_exact(n_b.max(1)) {
        let max = match statistic {
            Rank::Contrast => stats.iter().copied().fold(0.0, f64::max),
            Rank::Z => {
                stats.iter().enumerate().map(|(b, &v)| standardise(b, v)).fold(f64::NEG_INFINITY, f64::max)
            }
        };
        for (e, &t) in exceed.iter_mut().zip(&tested) {
            // A relative tolerance, so a permutation equal to the observed labelling counts.
            if max >= t - t.abs() * tol {
                *e += 1;
            }
        }
    }
    let p = exceed.iter().map(|&e| (1 + e) as f64 / (1 + permutations) as f64).collect();
    (p, z)
}

/// How well the network tells the two classes apart on a split, with a
/// permutation p-value, as written to `interpret.json` under `model`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Discrimination {
    /// windows scored
    pub n_windows: usize,
    /// independent units permuted: (subject, class) pairs
    pub n_subjects: usize,
    /// fraction of windows whose arg-max class is the true one
    pub accuracy: f64,
    /// mean over class-1 subjects minus mean over class-0 subjects of the
    /// subject's mean probability of class 1
    pub statistic: f64,
    /// one-sided permutation p of `statistic` (subject labels permuted)
    pub p: f64,
    /// fraction of (subject, class) units whose mean probability of their
    /// class is the larger one
    #[serde(default)]
    pub subject_accuracy: f64,
    /// one-sided binomial p of the window accuracy against the largest class
    /// share (windows treated as independent: too small, reported only)
    #[serde(default = "one")]
    pub p_binomial: f64,
    /// one-sided p of the windows right under permutations of the units'
    /// classes ([`eeglens_dsp::stats::subject_permutation`]), which decides
    /// `learned`
    #[serde(default = "one")]
    pub p_subjects: f64,
    /// the smallest `p_subjects` these units allow
    #[serde(default)]
    pub p_subjects_floor: f64,
    /// the verdict of [`eeglens_dsp::stats::learned_verdict`]: the window
    /// accuracy is above chance and the subject-level permutation test gives
    /// p < 0.05. When false, no reading of this model is possible.
    #[serde(default = "yes")]
    pub learned: bool,
}

fn one() -> f64 {
    1.0
}

fn yes() -> bool {
    true
}

/// Tests whether the network separates class 1 from class 0 better than
/// chance. Windows of one subject are not independent, so the unit of the
/// test is the subject (strictly, the (subject, class) pair): its mean
/// probability of class 1; the permutation shuffles the pairs' classes.
///
/// `prob1[i]` is window `i`'s probability of class 1, `pred[i]` its arg-max class.
///
/// # Panics
/// When the slices differ in length.
pub fn discrimination(
    prob1: &[f64],
    pred: &[usize],
    labels: &[u32],
    subjects: &[u32],
    permutations: usize,
    seed: u64,
) -> Discrimination {
    assert!(prob1.len() == labels.len() && labels.len() == subjects.len() && pred.len() == labels.len());
    let n_windows = labels.len();
    let accuracy = if n_windows == 0 {
        0.0
    } else {
        pred.iter().zip(labels).filter(|(p, l)| **p == **l as usize).count() as f64 / n_windows as f64
    };
    let mut units: std::collections::BTreeMap<(u32, u32), (f64, usize)> = Default::default();
    for ((&p, &l), &s) in prob1.iter().zip(labels).zip(subjects) {
        if l < 2 {
            let e = units.entry((s, l)).or_insert((0.0, 0));
            e.0 += p;
            e.1 += 1;
        }
    }
    let means: Vec<f64> = units.values().map(|(s, n)| s / *n as f64).collect();
    let mut labels_u: Vec<usize> = units.keys().map(|k| k.1 as usize).collect();
    let stat = |labels: &[usize]| {
        let mut s = [0.0; 2];
        let mut n = [0usize; 2];
        for (m, &l) in means.iter().zip(labels) {
            s[l] += m;
            n[l] += 1;
        }
        if n[0] == 0 || n[1] == 0 {
            return 0.0;
        }
        s[1] / n[1] as f64 - s[0] / n[0] as f64
    };
    let observed = stat(&labels_u);
    let both = labels_u.contains(&0) && labels_u.contains(&1);
    let p = if !both {
        1.0
    } else {
        let mut rng = Rng::new(seed).fork(0xD15C);
        let mut exceed = 0usize;
        for _ in 0..permutations {
            rng.shuffle(&mut labels_u);
            if stat(&labels_u) >= observed - 1e-12 {
                exceed += 1;
            }
        }
        (1 + exceed) as f64 / (1 + permutations) as f64
    };
    // The chance verdict: windows against the largest class share, tested
    // with the (subject, class) units as the unit; units are right when their
    // mean probability of class 1 falls on their side of 1/2.
    let window_chance = {
        let mut n = [0usize; 2];
        for &l in labels {
            n[(l as usize).min(1)] += 1;
        }
        n[0].max(n[1]) as f64 / (n[0] + n[1]).max(1) as f64
    };
    let mut votes: std::collections::BTreeMap<(u32, u32), Vec<u64>> = Default::default();
    for ((&p, &l), &s) in pred.iter().zip(labels).zip(subjects) {
        let v = votes.entry((s, l)).or_insert_with(|| vec![0; 2]);
        if p >= v.len() {
            v.resize(p + 1, 0);
        }
        v[p] += 1;
    }
    let vote_units: Vec<(usize, Vec<u64>)> = votes.into_iter().map(|((_, l), v)| (l as usize, v)).collect();
    let subject_test = eeglens_dsp::stats::subject_permutation(&vote_units);
    let unit_labels: Vec<usize> = units.keys().map(|k| k.1 as usize).collect();
    let unit_correct = means.iter().zip(&unit_labels).filter(|(m, &l)| (**m > 0.5) == (l == 1)).count();
    let correct = (accuracy * n_windows as f64).round() as usize;
    let p_binomial = eeglens_dsp::stats::binomial_upper_tail(n_windows, correct, window_chance);
    let learned = eeglens_dsp::stats::learned_verdict((correct, n_windows, window_chance), &subject_test);
    Discrimination {
        n_windows,
        n_subjects: means.len(),
        accuracy,
        statistic: observed,
        p,
        subject_accuracy: unit_correct as f64 / means.len().max(1) as f64,
        p_binomial,
        p_subjects: subject_test.p,
        p_subjects_floor: subject_test.floor,
        learned,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;
    use eeglens_dsp::eeg_bands;

    const TOL: f64 = 1e-9;

    /// Items of a sine at `f` Hz with amplitude `a` on channel 0, noise-free.
    fn sines(n: usize, f: f64, a: f64, fs: f64, t: usize) -> Vec<f32> {
        let mut out = Vec::new();
        for i in 0..n {
            for c in 0..2 {
                for s in 0..t {
                    let amp = if c == 0 { a } else { 0.1 * a };
                    let phase = i as f64 * 0.7;
                    out.push((amp * (2.0 * std::f64::consts::PI * f * s as f64 / fs + phase).sin()) as f32);
                }
            }
        }
        out
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn band_weights_integrate_like_integrate_band() {
        let freqs: Vec<f64> = (0..=64).map(|k| k as f64).collect();
        let density: Vec<f64> = freqs.iter().map(|f| 1.0 / (1.0 + f)).collect();
        let psd = Psd { freqs: freqs.clone(), density: density.clone() };
        for band in eeg_bands() {
            let w = band_weights(&freqs, &band).unwrap();
            let a: f64 = w.iter().zip(&density).map(|(a, b)| a * b).sum();
            assert_relative_eq!(a, integrate_band(&psd, band.lo, band.hi).unwrap(), max_relative = TOL);
        }
    }

    #[test]
    fn a_theta_difference_reads_as_theta_on_its_channel() {
        let (fs, t) = (128.0, 256);
        let mut items = sines(12, 10.0, 1.0, fs, t);
        let mut theta = sines(12, 6.0, 3.0, fs, t);
        // Both classes share the 10 Hz rhythm; class 1 adds theta.
        theta.iter_mut().zip(sines(12, 10.0, 1.0, fs, t)).for_each(|(a, b)| *a += b);
        items.extend(theta);
        let groups: Vec<usize> = (0..24).map(|i| i / 12).collect();
        let sp = spectra(&items, 2, t, fs).unwrap();
        let bands = eeg_bands();
        let (classes, channels) = (names(&["F", "M"]), names(&["Fz", "Oz"]));
        let opts = ReadOpts {
            classes: &classes,
            channels: &channels,
            bands: &bands,
            alpha: 0.05,
            permutations: 199,
            floor: 0.0,
            seed: 1,
            rank: Rank::Contrast,
        };
        let (r, arrays) = read(&sp, &groups, &opts).unwrap();
        assert_eq!(r.top_band.as_deref(), Some("theta"));
        let theta = &r.bands[1];
        assert!(theta.log_ratio > 2.0, "{theta:?}");
        assert!(theta.p < 0.01);
        // Alpha is the same in both classes.
        assert!(r.bands[2].log_ratio.abs() < 0.05, "{:?}", r.bands[2]);
        assert_eq!(arrays.psd.len(), 2 * 2 * r.freqs.len());
        assert_eq!(arrays.band_power.len(), 2 * 2 * 4);
        assert_eq!(r.n.0, vec![("F".to_string(), 12), ("M".to_string(), 12)]);
    }

    /// Spectra of paired items: pair `j` of `n` has its own power factor
    /// (`e^{±1.5}` per channel and EEG band, shared by its two items, like
    /// two patterns made from one window); class 1 has `e^{shift}` times the
    /// power of band `band` on channel 0. PSDs on a 0.5 Hz grid, flat within a band.
    fn paired_spectra(n: usize, band: usize, shift: f64, seed: u64) -> (Spectra, Vec<usize>, Vec<usize>) {
        let (n_ch, n_b) = (2, 4);
        let freqs: Vec<f64> = (0..=64).map(|k| k as f64 * 0.5).collect();
        let band_of = |f: f64| [4.0, 8.0, 13.0].iter().filter(|&&edge| f >= edge).count();
        let mut rng = Rng::new(seed);
        let factors: Vec<f64> =
            (0..n * n_ch * n_b).map(|_| (1.5 * (2.0 * rng.uniform_f64() - 1.0)).exp()).collect();
        let mut psd = Vec::new();
        for g in 0..2 {
            for j in 0..n {
                for c in 0..n_ch {
                    let noise: Vec<f64> = (0..n_b).map(|_| 1.0 + 0.05 * rng.normal()).collect();
                    for &f in &freqs {
                        let b = band_of(f);
                        let mut v = factors[(j * n_ch + c) * n_b + b] * noise[b];
                        if g == 1 && c == 0 && b == band {
                            v *= shift.exp();
                        }
                        psd.push(v);
                    }
                }
            }
        }
        let sp = Spectra { freqs, psd, n_items: 2 * n, n_channels: n_ch };
        let groups = (0..2 * n).map(|i| i / n).collect();
        let pairs = (0..2 * n).map(|i| i % n).collect();
        (sp, groups, pairs)
    }

    #[test]
    fn pairing_cancels_what_the_two_items_of_a_pair_share() {
        let bands: Vec<Band> =
            [("delta", 1.0, 4.0), ("theta", 4.0, 8.0), ("alpha", 8.0, 13.0), ("beta", 13.0, 30.0)]
                .iter()
                .map(|&(n, lo, hi)| Band::new(n, lo, hi).unwrap())
                .collect();
        let (classes, channels) = (names(&["F", "M"]), names(&["Fz", "Pz"]));
        let opts = ReadOpts {
            classes: &classes,
            channels: &channels,
            bands: &bands,
            alpha: 0.05,
            permutations: 499,
            floor: 0.0,
            seed: 3,
            rank: Rank::Contrast,
        };
        // A 0.4 difference in theta under pair-to-pair spread of e^{±1.5}: the
        // paired test finds it, the unpaired one cannot.
        let (sp, groups, pairs) = paired_spectra(8, 1, 0.4, 5);
        let (paired, _) = read_paired(&sp, &groups, &pairs, &opts).unwrap();
        let (unpaired, _) = read(&sp, &groups, &opts).unwrap();
        assert_eq!(paired.top_band.as_deref(), Some("theta"), "{:?}", paired.bands);
        assert!(paired.bands[1].p < 0.01, "{:?}", paired.bands);
        assert!(unpaired.bands[1].p > 0.05, "{:?}", unpaired.bands);
        // The contrast itself does not depend on the pairing.
        assert_relative_eq!(paired.bands[1].contrast, unpaired.bands[1].contrast, max_relative = TOL);
        // No class difference: over seeds, the paired test rejects about as
        // often as its level says (0 to 3 of 20 at 5 %).
        let rejections = (0..20)
            .filter(|&s| {
                let (sp, groups, pairs) = paired_spectra(8, 1, 0.0, 100 + s);
                let (r, _) = read_paired(&sp, &groups, &pairs, &ReadOpts { seed: s, ..opts }).unwrap();
                r.top_band.is_some()
            })
            .count();
        assert!(rejections <= 3, "{rejections} of 20 null pair sets claimed a band");
    }

    #[test]
    fn pooling_concatenates_items_and_keeps_pairs_within_their_part() {
        let bands: Vec<Band> = [("delta", 1.0, 4.0), ("theta", 4.0, 8.0), ("alpha", 8.0, 13.0)]
            .iter()
            .map(|&(n, lo, hi)| Band::new(n, lo, hi).unwrap())
            .collect();
        let (a, ga, pa) = paired_spectra(3, 1, 0.5, 1);
        let (b, gb, pb) = paired_spectra(2, 1, 0.5, 2);
        let parts = [
            Items { spectra: a.clone(), groups: ga.clone(), pairs: Some(pa), units: None, band_values: None },
            Items { spectra: b.clone(), groups: gb.clone(), pairs: Some(pb), units: None, band_values: None },
        ];
        let (pooled, blocks) = Items::pool(&parts);
        assert_eq!(pooled.spectra.n_items, 10);
        assert_eq!(pooled.spectra.psd, [a.psd.clone(), b.psd.clone()].concat());
        assert_eq!(pooled.groups, [ga.clone(), gb.clone()].concat());
        assert_eq!(blocks, [vec![0; 6], vec![1; 4]].concat());
        // Part 1's pairs 0 and 1 follow part 0's pairs 0 to 2.
        assert_eq!(pooled.pairs.as_deref(), Some(&[0, 1, 2, 0, 1, 2, 3, 4, 3, 4][..]));
        // One part unpaired: the pool is unpaired.
        let mixed = [parts[0].clone(), Items { pairs: None, ..parts[1].clone() }];
        assert_eq!(Items::pool(&mixed).0.pairs, None);

        // Shuffled within blocks, a block holding one class keeps its labels:
        // every permutation is the observed labelling, so nothing is significant.
        let (sp, groups, _) = paired_spectra(6, 1, 2.0, 3);
        let (classes, channels) = (names(&["F", "M"]), names(&["Fz", "Pz"]));
        let opts = ReadOpts {
            classes: &classes,
            channels: &channels,
            bands: &bands,
            alpha: 0.05,
            permutations: 99,
            floor: 0.0,
            seed: 4,
            rank: Rank::Contrast,
        };
        let by_class: Vec<usize> = groups.clone();
        let (within, _) = read_blocked(&sp, &groups, &by_class, &opts).unwrap();
        assert!(within.bands.iter().all(|b| b.p_contrast == 1.0), "{:?}", within.bands);
        // The same items shuffled freely, or within blocks mixing the classes, find theta.
        let (free, _) = read(&sp, &groups, &opts).unwrap();
        assert!(free.bands[1].p_contrast < 0.05, "{:?}", free.bands);
        let mixed_blocks: Vec<usize> = (0..12).map(|i| i % 2).collect();
        let (mixed, _) = read_blocked(&sp, &groups, &mixed_blocks, &opts).unwrap();
        assert!(mixed.bands[1].p_contrast < 0.05, "{:?}", mixed.bands);
    }

    #[test]
    fn mean_of_runs_averages_consecutive_items() {
        let sp = Spectra {
            freqs: vec![1.0, 2.0],
            psd: (0..12).map(f64::from).collect(),
            n_items: 6,
            n_channels: 1,
        };
        let m = sp.mean_of_runs(3);
        assert_eq!((m.n_items, m.n_channels), (2, 1));
        assert_eq!(m.psd, vec![2.0, 3.0, 8.0, 9.0]);
        assert_eq!(sp.mean_of_runs(1), sp);
    }

    #[test]
    fn identical_groups_are_not_significant_and_the_floor_holds() {
        let (fs, t) = (128.0, 128);
        let items = sines(10, 6.0, 1.0, fs, t);
        let groups: Vec<usize> = (0..10).map(|i| i % 2).collect();
        let sp = spectra(&items, 2, t, fs).unwrap();
        let bands = eeg_bands();
        let (classes, channels) = (names(&["F", "M"]), names(&["a", "b"]));
        let opts = ReadOpts {
            classes: &classes,
            channels: &channels,
            bands: &bands,
            alpha: 0.05,
            permutations: 99,
            floor: 0.3,
            seed: 2,
            rank: Rank::Contrast,
        };
        let (r, _) = read(&sp, &groups, &opts).unwrap();
        assert!(r.top_band.is_none());
        assert!(r.bands.iter().all(|b| b.p >= 0.3));
    }

    /// Windows `[n, n_ch, 256]` at 128 Hz of a 1/f background with an alpha peak (10 Hz), six
    /// times stronger on the first five channels, each band's bins scaled by
    /// `exp(gains[i][c][b])` as activation maximisation's gains are applied; the bands are
    /// delta, theta, alpha, beta and the bins of band `[lo, hi)` take its gain.
    fn gained_windows(bases: &[Vec<(f64, f64)>], gains: &[Vec<[f64; 4]>], n_ch: usize) -> Vec<f32> {
        use rustfft::num_complex::Complex64;
        let (t, fs) = (256usize, 128.0);
        let edges = [1.0, 4.0, 8.0, 13.0, 30.0];
        let inv = rustfft::FftPlanner::new().plan_fft_inverse(t);
        let mut out = Vec::new();
        for (base, g) in bases.iter().zip(gains) {
            for c in 0..n_ch {
                let mut z = vec![Complex64::new(0.0, 0.0); t];
                for k in 1..t / 2 {
                    let f = k as f64 * fs / t as f64;
                    let peak = if c < 5 { 6.0 } else { 1.0 };
                    let amp = 1.0 / f.sqrt() + peak * 0.3 * (-0.5 * ((f - 10.0) / 1.0).powi(2)).exp();
                    let b = (0..4).find(|&b| f >= edges[b] && f < edges[b + 1]);
                    let gain = b.map_or(1.0, |b| g[c][b].exp());
                    let (a, phase) = base[c * (t / 2) + k];
                    z[k] = Complex64::from_polar(amp * a * gain, phase);
                    z[t - k] = z[k].conj();
                }
                inv.process(&mut z);
                out.extend(z.iter().map(|v| v.re as f32));
            }
        }
        out
    }

    #[test]
    fn gains_are_read_as_set_where_the_patterns_spectra_leak_a_strong_rhythm_into_its_neighbours() {
        // Eight pairs of patterns, each pair made from the same window: class M's gains add
        // 0.45 to alpha on the five channels of strong alpha and take 0.25 from delta on
        // every channel; both classes' gains carry noise of SD 0.03.
        let (n, n_ch) = (8, 24);
        let mut rng = Rng::new(5);
        let bases: Vec<Vec<(f64, f64)>> = (0..n)
            .map(|_| {
                (0..n_ch * 128)
                    .map(|_| (0.8 + 0.4 * rng.uniform_f64(), std::f64::consts::TAU * rng.uniform_f64()))
                    .collect()
            })
            .collect();
        let mut gains = vec![Vec::new(); 2 * n];
        for (i, g) in gains.iter_mut().enumerate() {
            for c in 0..n_ch {
                let mut b: [f64; 4] = std::array::from_fn(|_| 0.03 * rng.normal());
                if i >= n {
                    b[0] -= 0.25;
                    if c < 5 {
                        b[2] += 0.45;
                    }
                }
                g.push(b);
            }
        }
        let windows: Vec<Vec<(f64, f64)>> = (0..2 * n).map(|i| bases[i % n].clone()).collect();
        let x = gained_windows(&windows, &gains, n_ch);
        let sp = spectra(&x, n_ch, 256, 128.0).unwrap();
        let groups: Vec<usize> = (0..2 * n).map(|i| i / n).collect();
        let pairs: Vec<usize> = (0..2 * n).map(|i| i % n).collect();
        let values: Vec<f64> = gains.iter().flatten().flatten().map(|g| (2.0 * g).exp()).collect();
        let with = |band_values: Option<Vec<f64>>| Items {
            spectra: sp.clone(),
            groups: groups.clone(),
            pairs: Some(pairs.clone()),
            units: None,
            band_values,
        };
        let bands = eeg_bands();
        let classes = names(&["F", "M"]);
        let channels: Vec<String> = (0..n_ch).map(|c| format!("E{c}")).collect();
        let opts = ReadOpts {
            classes: &classes,
            channels: &channels,
            bands: &bands,
            alpha: 0.05,
            permutations: 499,
            floor: 0.0,
            seed: 3,
            rank: Rank::Contrast,
        };
        let (gained, arrays) = with(Some(values)).read(&opts).unwrap();
        let (welch, _) = with(None).read(&opts).unwrap();
        // The gains: alpha, its log ratio twice the gain on the five channels, theta unchanged.
        assert_eq!(gained.top_band.as_deref(), Some("alpha"), "{:?}", gained.bands);
        let r = |reading: &Reading, band: &str, c: usize| {
            reading.channels.get(band).unwrap().get(&channels[c]).copied().unwrap()
        };
        for c in 0..5 {
            assert!((r(&gained, "alpha", c) - 0.9).abs() < 0.1, "{}", r(&gained, "alpha", c));
            assert!(r(&gained, "theta", c).abs() < 0.1, "{}", r(&gained, "theta", c));
            // The spectra of the same patterns carry some of alpha's gain into theta (more with
            // shorter segments: `welch_segments_keep_a_rhythm_in_its_band`).
            assert!(r(&welch, "theta", c) > 0.08, "{}", r(&welch, "theta", c));
        }
        // The figures still show the patterns' spectra.
        assert_eq!(gained.psd, welch.psd);
        assert_eq!(arrays.psd.len(), 2 * n_ch * sp.n_freqs());
        let contrast =
            |reading: &Reading, band: &str| reading.bands.iter().find(|b| b.name == band).unwrap().contrast;
        assert!(contrast(&gained, "alpha") - contrast(&gained, "delta") > 0.2, "{:?}", gained.bands);
    }

    #[test]
    fn welch_segments_keep_a_rhythm_in_its_band() {
        // A sine between bins, in a 2-s item at 128 Hz: the share of its power that the band
        // power puts in the next band. Hann segments of 1 s put 3.6 % of a 9.25 Hz sine in
        // theta and 28 % of a 12.4 Hz sine in beta (scipy.signal.welch, the same settings);
        // the 2-s segments 0.03 % and 4.4 %.
        let bands = eeg_bands();
        for (f0, from, into, most) in [(9.25, 2, 1, 0.001), (12.4, 2, 3, 0.06)] {
            let x = sines(1, f0, 1.0, 128.0, 256);
            let sp = spectra(&x, 2, 256, 128.0).unwrap();
            let bp = band_power(&sp, &bands).unwrap();
            let share = bp[into] / bp[from];
            assert!(share < most, "{f0} Hz: {} / {} = {share}", bands[into].name, bands[from].name);
        }
    }

    #[test]
    fn a_focal_band_difference_outweighs_a_broad_small_one() {
        // 8 channels, 4 bands; class 1 has 8x the beta power at channel 0
        // and 1.4x the alpha power everywhere. Channel 0's median log ratio
        // is ln(1.4) / 2, the others' 0; the contrast is the mean of the
        // strongest quarter: 2 channels.
        let (n_ch, n_b) = (8, 4);
        let item = |g: usize, jitter: f64| -> Vec<f64> {
            let mut v = vec![1.0 + jitter; n_ch * n_b];
            if g == 1 {
                v[3] *= 8.0;
                (0..n_ch).for_each(|c| v[c * n_b + 2] *= 1.4);
            }
            v
        };
        let items: Vec<Vec<f64>> = (0..20).map(|i| item(i / 10, 0.01 * (i % 5) as f64)).collect();
        let refs: Vec<&[f64]> = items.iter().map(|v| v.as_slice()).collect();
        let groups: Vec<usize> = (0..20).map(|i| i / 10).collect();
        let c = contrasts(&refs, &groups, n_ch, n_b);
        let (l8, l14) = (8f64.ln(), 1.4f64.ln());
        assert_relative_eq!(c[3], (l8 - l14 / 2.0) / 2.0, max_relative = TOL);
        assert_relative_eq!(c[2], l14, max_relative = TOL);
        assert_relative_eq!(c[0], l14 / 2.0 / 2.0, max_relative = TOL);
        assert!(c[3] > c[2], "{c:?}");
        let (p, z) =
            max_stat_permutation(&refs, &groups, Scheme::Shuffle, None, &c, n_ch, 199, 3, Rank::Contrast);
        assert!(p[3] < 0.01 && p[0] > 0.5, "{p:?}");
        assert!(z[3] > 3.0 && z[3] > z[0], "{z:?}");
        // Averaged over all eight channels, the broad alpha difference would have led.
        assert!((l8 - l14 / 2.0) / 8.0 < (l14 / 2.0 + 7.0 * l14) / 8.0);
    }

    #[test]
    fn z_is_the_contrast_against_its_bands_own_permutation_spread() {
        // 4 channels, 2 bands. Band 0 varies a lot between items (a trait of
        // each item, like a subject's alpha) with a small class difference;
        // band 1 barely varies and carries a consistent one. The raw contrast
        // ranks band 0 first, z ranks band 1.
        let (n_ch, n_b) = (4, 2);
        let mut rng = Rng::new(11);
        let items: Vec<Vec<f64>> = (0..24)
            .map(|i| {
                let g = (i / 12) as f64;
                let trait_ = (1.2 * rng.normal()).exp();
                (0..n_ch)
                    .flat_map(|_| [trait_ * (0.5 * g).exp(), (0.35 * g + 0.02 * rng.normal()).exp()])
                    .collect()
            })
            .collect();
        let refs: Vec<&[f64]> = items.iter().map(|v| v.as_slice()).collect();
        let groups: Vec<usize> = (0..24).map(|i| i / 12).collect();
        let c = contrasts(&refs, &groups, n_ch, n_b);
        let (_, z) =
            max_stat_permutation(&refs, &groups, Scheme::Shuffle, None, &c, n_ch, 999, 5, Rank::Contrast);
        assert!(c[0] > c[1], "contrast {c:?}");
        assert!(z[1] > z[0], "z {z:?}");
        // z from its definition, with the permutations drawn again by the same generator.
        let (_, stat) = redrawn(&refs, &groups, n_ch, n_b, 999, 5);
        for (b, (mean, sd)) in stat.iter().enumerate() {
            assert_relative_eq!(z[b], (c[b] - mean) / sd, max_relative = 1e-9);
        }
    }

    /// The `n` permutations' contrasts `max_stat_permutation` draws with `seed` (a shuffle of
    /// all labels), and each band's mean and SD over them.
    fn redrawn(
        refs: &[&[f64]],
        groups: &[usize],
        n_ch: usize,
        n_b: usize,
        n: usize,
        seed: u64,
    ) -> (Vec<Vec<f64>>, Vec<(f64, f64)>) {
        let mut rng = Rng::new(seed).fork(0xB4D5);
        let mut labels = groups.to_vec();
        let perms: Vec<Vec<f64>> = (0..n)
            .map(|_| {
                rng.shuffle(&mut labels);
                contrasts(refs, &labels, n_ch, n_b)
            })
            .collect();
        let stat = (0..n_b)
            .map(|b| {
                let v: Vec<f64> = perms.iter().map(|p| p[b]).collect();
                let mean = v.iter().sum::<f64>() / v.len() as f64;
                let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt();
                (mean, sd)
            })
            .collect();
        (perms, stat)
    }

    /// Items of `n_ch` channels and 2 bands: band 0 a trait of each item that
    /// varies much (like a subject's alpha) and differs between the classes by
    /// `diff0` (log), band 1 a quiet band that differs by `diff1`.
    fn trait_and_quiet_band(rng: &mut Rng, n: usize, n_ch: usize, diff0: f64, diff1: f64) -> Vec<Vec<f64>> {
        (0..n)
            .map(|i| {
                let g = (2 * i / n) as f64;
                let trait_ = (1.2 * rng.normal() + diff0 * g).exp();
                (0..n_ch).flat_map(|_| [trait_, (diff1 * g + 0.05 * rng.normal()).exp()]).collect()
            })
            .collect()
    }

    #[test]
    fn the_studentised_test_is_its_definition_and_finds_a_quiet_band_the_raw_one_misses() {
        let (n, n_ch, n_b) = (24, 4, 2);
        let items = trait_and_quiet_band(&mut Rng::new(21), n, n_ch, 0.0, 0.12);
        let refs: Vec<&[f64]> = items.iter().map(|v| v.as_slice()).collect();
        let groups: Vec<usize> = (0..n).map(|i| 2 * i / n).collect();
        let c = contrasts(&refs, &groups, n_ch, n_b);
        let (p_raw, z_raw) =
            max_stat_permutation(&refs, &groups, Scheme::Shuffle, None, &c, n_ch, 999, 5, Rank::Contrast);
        let (p_z, z) = max_stat_permutation(&refs, &groups, Scheme::Shuffle, None, &c, n_ch, 999, 5, Rank::Z);
        assert_eq!(z, z_raw, "z does not depend on the test");
        // The trait band's permutation contrasts dwarf the quiet band's real one.
        assert!(p_raw[1] > 0.2, "raw max statistic: {p_raw:?} (contrasts {c:?})");
        assert!(p_z[1] < 0.01 && p_z[0] > 0.2, "studentised: {p_z:?} (z {z:?})");
        // p from its definition: the permutations drawn again by the same generator,
        // each one's largest z over the bands.
        let (perms, stat) = redrawn(&refs, &groups, n_ch, n_b, 999, 5);
        let maxima: Vec<f64> = perms
            .iter()
            .map(|p| (0..n_b).map(|b| (p[b] - stat[b].0) / stat[b].1).fold(f64::NEG_INFINITY, f64::max))
            .collect();
        for b in 0..n_b {
            let zb = (c[b] - stat[b].0) / stat[b].1;
            let exceed = maxima.iter().filter(|&&m| m >= zb - zb.abs() * 1e-12).count();
            assert_relative_eq!(p_z[b], (1 + exceed) as f64 / 1000.0, max_relative = 1e-12);
        }
    }

    #[test]
    fn the_studentised_test_keeps_its_level_without_a_class_difference() {
        // 300 data sets with no class difference in either band: the smallest of
        // the two family-wise p-values is below 0.05 in about 5 % of them.
        let (n, n_ch, n_b) = (20, 3, 2);
        let mut rng = Rng::new(33);
        let groups: Vec<usize> = (0..n).map(|i| 2 * i / n).collect();
        let draws = 300;
        let claims = (0..draws)
            .filter(|&d| {
                let items = trait_and_quiet_band(&mut rng, n, n_ch, 0.0, 0.0);
                let refs: Vec<&[f64]> = items.iter().map(|v| v.as_slice()).collect();
                let c = contrasts(&refs, &groups, n_ch, n_b);
                let (p, _) = max_stat_permutation(
                    &refs,
                    &groups,
                    Scheme::Shuffle,
                    None,
                    &c,
                    n_ch,
                    199,
                    d as u64,
                    Rank::Z,
                );
                p.iter().any(|&p| p < 0.05)
            })
            .count();
        // Binomial(300, 0.05): mean 15, SD 3.8; 27 is 3 SD above.
        assert!(claims <= 27, "{claims} of {draws} null data sets claimed a band");
        assert!(claims >= 3, "{claims} of {draws}: the test never rejects");
    }

    /// Items of `n_sub` subjects (the first half class 0), `per` items each, `n_ch` channels
    /// and 2 bands: band 0 a subject trait (shared by the subject's items, like its alpha)
    /// that differs between the classes by `diff0` (log), band 1 a quiet band that differs
    /// by `diff1` at the subject level; each item adds a little noise of its own. Returns the
    /// items, their classes and their subjects.
    fn subjects_with_traits(
        rng: &mut Rng,
        n_sub: usize,
        per: usize,
        n_ch: usize,
        (diff0, diff1): (f64, f64),
    ) -> (Vec<Vec<f64>>, Vec<usize>, Vec<usize>) {
        let (mut items, mut groups, mut units) = (Vec::new(), Vec::new(), Vec::new());
        for s in 0..n_sub {
            let g = 2 * s / n_sub;
            let trait_ = 1.2 * rng.normal() + diff0 * g as f64;
            let quiet = 0.1 * rng.normal() + diff1 * g as f64;
            for _ in 0..per {
                items.push(
                    (0..n_ch)
                        .flat_map(|_| {
                            [(trait_ + 0.1 * rng.normal()).exp(), (quiet + 0.1 * rng.normal()).exp()]
                        })
                        .collect(),
                );
                groups.push(g);
                units.push(s);
            }
        }
        (items, groups, units)
    }

    #[test]
    fn permuting_subjects_keeps_the_level_where_permuting_windows_does_not() {
        // 10 subjects (5 per class), 4 windows each, no class difference: the windows of a
        // subject share its trait, so shuffling windows one by one underestimates how much
        // the classes differ by chance, and claims a band far more often than 5 %.
        let (n_ch, n_b) = (3, 2);
        let mut rng = Rng::new(41);
        let draws = 200;
        let (mut by_window, mut by_subject) = (0, 0);
        for d in 0..draws {
            let (items, groups, units) = subjects_with_traits(&mut rng, 10, 4, n_ch, (0.0, 0.0));
            let refs: Vec<&[f64]> = items.iter().map(|v| v.as_slice()).collect();
            let c = contrasts(&refs, &groups, n_ch, n_b);
            let min_p = |units: Option<&[usize]>| {
                let (p, _) = max_stat_permutation(
                    &refs,
                    &groups,
                    Scheme::Shuffle,
                    units,
                    &c,
                    n_ch,
                    199,
                    d as u64,
                    Rank::Z,
                );
                p.into_iter().fold(1.0, f64::min)
            };
            by_window += usize::from(min_p(None) < 0.05);
            by_subject += usize::from(min_p(Some(&units)) < 0.05);
        }
        eprintln!("null claims of {draws}: windows permuted {by_window}, subjects permuted {by_subject}");
        // Level 0.05 over 200 draws: 10 expected, above 19 is 3 SD out.
        assert!(by_subject <= 19, "subject permutation claims {by_subject} of {draws}");
        assert!(by_window >= 40, "window permutation claims only {by_window} of {draws}");
    }

    #[test]
    fn permuting_subjects_finds_a_subject_level_difference_and_moves_each_subject_whole() {
        let (n_ch, n_b) = (3, 2);
        let (items, groups, units) = subjects_with_traits(&mut Rng::new(43), 10, 4, n_ch, (0.0, 0.5));
        let refs: Vec<&[f64]> = items.iter().map(|v| v.as_slice()).collect();
        let c = contrasts(&refs, &groups, n_ch, n_b);
        let (p, z) =
            max_stat_permutation(&refs, &groups, Scheme::Shuffle, Some(&units), &c, n_ch, 999, 7, Rank::Z);
        assert!(p[1] < 0.05 && p[0] > 0.05, "p {p:?} z {z:?}");
        // The permutations are those of the 10 subjects' classes (252 labelings): redrawn
        // by the same generator, each moving a subject's 4 items together.
        let mut rng = Rng::new(7).fork(0xB4D5);
        let mut labels = groups.clone();
        let mut perms = Vec::new();
        for _ in 0..999 {
            let mut cls: Vec<usize> = (0..10).map(|s| groups[4 * s]).collect();
            rng.shuffle(&mut cls);
            labels.iter_mut().enumerate().for_each(|(i, l)| *l = cls[units[i]]);
            perms.push(contrasts(&refs, &labels, n_ch, n_b));
        }
        let stat: Vec<(f64, f64)> = (0..n_b)
            .map(|b| {
                let v: Vec<f64> = perms.iter().map(|q| q[b]).collect();
                let mean = v.iter().sum::<f64>() / v.len() as f64;
                (mean, (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt())
            })
            .collect();
        for b in 0..n_b {
            assert_relative_eq!(z[b], (c[b] - stat[b].0) / stat[b].1, max_relative = 1e-9);
        }
        let maxima: Vec<f64> = perms
            .iter()
            .map(|q| (0..n_b).map(|b| (q[b] - stat[b].0) / stat[b].1).fold(f64::NEG_INFINITY, f64::max))
            .collect();
        for b in 0..n_b {
            let exceed = maxima.iter().filter(|&&m| m >= z[b] - z[b].abs() * 1e-12).count();
            assert_relative_eq!(p[b], (1 + exceed) as f64 / 1000.0, max_relative = 1e-12);
        }
    }

    #[test]
    fn pooling_keeps_units_within_their_part() {
        let (a, ga, _) = paired_spectra(2, 1, 0.5, 1);
        let (b, gb, _) = paired_spectra(2, 1, 0.5, 2);
        let parts = [
            Items {
                spectra: a.clone(),
                groups: ga,
                pairs: None,
                units: Some(vec![0, 0, 1, 1]),
                band_values: None,
            },
            Items {
                spectra: b.clone(),
                groups: gb,
                pairs: None,
                units: Some(vec![1, 1, 0, 0]),
                band_values: None,
            },
        ];
        let (pooled, _) = Items::pool(&parts);
        assert_eq!(pooled.units.as_deref(), Some(&[0, 0, 1, 1, 3, 3, 2, 2][..]));
        let mixed = [parts[0].clone(), Items { units: None, ..parts[1].clone() }];
        assert_eq!(Items::pool(&mixed).0.units, None);
    }

    #[test]
    fn the_ranking_picks_among_significant_bands_only() {
        let band = |name: &str, contrast: f64, p: f64, z: f64| BandContrast {
            name: name.into(),
            lo: 0.0,
            hi: 1.0,
            log_ratio: 0.0,
            contrast,
            p,
            p_contrast: p,
            z,
        };
        let bands = [
            band("delta", 0.9, 0.01, 2.0),
            band("theta", 0.5, 0.01, 4.0),
            band("alpha", 1.5, 0.20, 9.0),
            band("beta", 0.4, 0.02, 4.0),
        ];
        assert_eq!(top_band(&bands, 0.05).as_deref(), Some("delta"));
        assert_eq!(top_band_by(&bands, 0.05, Rank::Contrast).as_deref(), Some("delta"));
        // Alpha has the largest z but is not significant; theta and beta tie in z, theta's contrast is larger.
        assert_eq!(top_band_by(&bands, 0.05, Rank::Z).as_deref(), Some("theta"));
        assert_eq!(top_band_by(&bands, 0.005, Rank::Z), None);
    }

    #[test]
    fn the_strongest_quarter_is_averaged() {
        assert_relative_eq!(strongest_channels(&mut [1.0, 5.0, 2.0, 3.0]), 5.0);
        assert_relative_eq!(strongest_channels(&mut [1.0, 5.0, 2.0, 3.0, 4.0]), 4.5);
        let mut v: Vec<f64> = (0..24).map(f64::from).collect();
        assert_relative_eq!(strongest_channels(&mut v), (18..24).map(f64::from).sum::<f64>() / 6.0);
        assert_relative_eq!(strongest_channels(&mut []), 0.0);
    }

    #[test]
    fn a_band_rising_at_one_channel_and_falling_at_another_is_a_contrast() {
        // 3 bands; class 1: theta x4 at channel 0 and /4 at channel 1. The
        // channel average of theta power hardly moves; the contrast is ln 4.
        let (n_ch, n_b) = (2, 3);
        let items: Vec<Vec<f64>> =
            (0..12).map(|i| if i < 6 { vec![1.0; 6] } else { vec![1.0, 4.0, 1.0, 1.0, 0.25, 1.0] }).collect();
        let refs: Vec<&[f64]> = items.iter().map(|v| v.as_slice()).collect();
        let groups: Vec<usize> = (0..12).map(|i| i / 6).collect();
        let c = contrasts(&refs, &groups, n_ch, n_b);
        assert_relative_eq!(c[1], 4f64.ln(), max_relative = TOL);
        assert_relative_eq!(c[0], 0.0, epsilon = TOL);
        assert_relative_eq!(c[2], 0.0, epsilon = TOL);
        // A channel one class leaves empty says nothing about bands: it is skipped.
        let mut empty = items.clone();
        empty.iter_mut().take(6).for_each(|v| v[3..].iter_mut().for_each(|x| *x = 0.0));
        let refs: Vec<&[f64]> = empty.iter().map(|v| v.as_slice()).collect();
        let c = contrasts(&refs, &groups, n_ch, n_b);
        assert_relative_eq!(c[1], 4f64.ln(), max_relative = TOL);
    }

    #[test]
    fn a_broadband_difference_is_no_band_contrast() {
        // Class 1: 5x the power in every band of both channels (a gain, or a
        // pattern filling those electrodes), plus 4x theta at channel 0.
        let (n_ch, n_b) = (2, 3);
        let items: Vec<Vec<f64>> =
            (0..12).map(|i| if i < 6 { vec![1.0; 6] } else { vec![5.0, 20.0, 5.0, 5.0, 5.0, 5.0] }).collect();
        let refs: Vec<&[f64]> = items.iter().map(|v| v.as_slice()).collect();
        let groups: Vec<usize> = (0..12).map(|i| i / 6).collect();
        let c = contrasts(&refs, &groups, n_ch, n_b);
        // One channel of two is the strongest quarter.
        assert_relative_eq!(c[1], 4f64.ln(), max_relative = TOL);
        assert_relative_eq!(c[0], 0.0, epsilon = TOL);
        assert_relative_eq!(c[2], 0.0, epsilon = TOL);
    }

    #[test]
    fn discrimination_is_significant_only_when_subjects_separate() {
        // 8 subjects, 3 windows each; class = subject parity.
        let subjects: Vec<u32> = (0..24).map(|i| i / 3).collect();
        let labels: Vec<u32> = subjects.iter().map(|s| s % 2).collect();
        let good: Vec<f64> = labels.iter().map(|&l| if l == 1 { 0.8 } else { 0.2 }).collect();
        let pred: Vec<usize> = good.iter().map(|&p| usize::from(p > 0.5)).collect();
        let d = discrimination(&good, &pred, &labels, &subjects, 999, 0);
        assert_relative_eq!(d.accuracy, 1.0);
        assert_eq!(d.n_subjects, 8);
        // Exact p of a perfect split of 4 + 4 is 1/70.
        assert!(d.p < 0.05 && d.p > 0.005, "{d:?}");
        let flat: Vec<f64> = subjects.iter().map(|&s| if s < 4 { 0.7 } else { 0.3 }).collect();
        let d = discrimination(&flat, &pred, &labels, &subjects, 999, 0);
        assert!(d.p > 0.2, "{d:?}");
    }
}

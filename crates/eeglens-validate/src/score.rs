//! Scoring one method's spectral reading against the planted truth.
//!
//! # Band hit
//! The reading's bands (by default delta 1–4, theta 4–8, alpha 8–13, beta
//! 13–30 Hz) are coarser than the planted ones, so a reading *hits* when its
//! top band `[lo, hi)` contains the planted band's centre: a planted low beta
//! (13–20, centre 16.5) or high beta (20–30, centre 25) is a hit when the
//! top band is beta. No top band (nothing significant: no claim) is never a hit.
//!
//! # Channel ranks
//! In the reading band that contains the planted band's centre, each channel
//! `c` gets `|r_cb - m_c|`, with `r_cb` its log power ratio in that band and
//! `m_c` the median of its log ratios over the reading's bands (0 with fewer
//! than three bands) — the per-channel quantity a band's contrast averages
//! (see `eeglens_interpret::spectral`). Channels are ranked by it, rank 1 the
//! largest; non-finite values rank last. The planted channels are a *hit*
//! when at least half of them (rounded up) rank within the top
//! `n_planted + 2`. Channel ranks do not depend on the top band: they ask
//! where the reading puts the planted band, claimed or not.

use eeglens_interpret::Reading;
use serde::{Deserialize, Serialize};

use crate::grid::PlantedBand;

/// A reading scored against the planted truth: one entry of a cell's `methods`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MethodScore {
    /// the method read the network (`eeglens interpret` reads only a network
    /// whose test accuracy is above chance); unread is no claim
    #[serde(default = "yes")]
    pub read: bool,
    /// the reading's top band (`None`: no claim)
    pub top_band: Option<String>,
    /// the top band's edges, Hz
    pub top_band_range: Option<[f64; 2]>,
    /// the top band contains the planted band's centre (false for null cells)
    pub band_hit: bool,
    /// the reading band the channel ranks are taken in (`None` for null cells,
    /// or when no reading band contains the planted centre)
    pub rank_band: Option<String>,
    /// each planted channel's rank (1 = the largest band-specific difference)
    pub channel_ranks: Vec<ChannelRank>,
    /// at least half the planted channels rank within the top `n_planted + 2`
    pub channels_hit: bool,
    /// the `n_planted + 2` top-ranked channels, best first
    pub top_channels: Vec<String>,
    /// each reading band's contrast and p, for the record
    pub bands: Vec<BandSummary>,
}

fn yes() -> bool {
    true
}

impl MethodScore {
    /// The score of a method that did not read the network: no claim, no ranks.
    pub fn unread() -> Self {
        Self {
            read: false,
            top_band: None,
            top_band_range: None,
            band_hit: false,
            rank_band: None,
            channel_ranks: Vec::new(),
            channels_hit: false,
            top_channels: Vec::new(),
            bands: Vec::new(),
        }
    }
}

/// One planted channel's rank.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChannelRank {
    /// the channel
    pub channel: String,
    /// its rank among all channels, from 1 (`None` when the reading lacks the channel)
    pub rank: Option<usize>,
}

/// A reading band's contrast and p-value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BandSummary {
    /// band name
    pub name: String,
    /// the band's contrast
    pub contrast: f64,
    /// its p-value
    pub p: f64,
}

/// Whether `top` (a band name of `reading`) contains the planted band's centre.
pub fn band_hit(reading: &Reading, planted: &PlantedBand) -> bool {
    let Some(top) = reading.top_band.as_deref() else { return false };
    reading.bands.iter().find(|b| b.name == top).is_some_and(|b| contains(b.lo, b.hi, planted.centre()))
}

fn contains(lo: f64, hi: f64, x: f64) -> bool {
    lo <= x && x < hi
}

/// Every channel of `reading` ranked in `band` by its band-specific
/// difference (see the module docs), best first, with the values.
pub fn ranked_channels(reading: &Reading, band: &str) -> Vec<(String, f64)> {
    let contrasts = reading.channel_contrasts();
    let Some(row) = contrasts.get(band) else { return Vec::new() };
    let mut out: Vec<(String, f64)> = row
        .0
        .iter()
        .map(|(ch, v)| (ch.clone(), if v.is_finite() { *v } else { f64::NEG_INFINITY }))
        .collect();
    // Stable: ties keep montage order.
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    out
}

/// Scores `reading` against a planted band and channels (`None`: a null cell).
pub fn score(reading: &Reading, planted: Option<(&PlantedBand, &[String])>) -> MethodScore {
    let top_band_range = reading
        .top_band
        .as_deref()
        .and_then(|t| reading.bands.iter().find(|b| b.name == t).map(|b| [b.lo, b.hi]));
    let bands = reading
        .bands
        .iter()
        .map(|b| BandSummary { name: b.name.clone(), contrast: b.contrast, p: b.p })
        .collect();
    let mut s = MethodScore {
        read: true,
        top_band: reading.top_band.clone(),
        top_band_range,
        band_hit: false,
        rank_band: None,
        channel_ranks: Vec::new(),
        channels_hit: false,
        top_channels: Vec::new(),
        bands,
    };
    let Some((band, channels)) = planted else { return s };
    s.band_hit = band_hit(reading, band);
    let Some(rb) = reading.bands.iter().find(|b| contains(b.lo, b.hi, band.centre())) else { return s };
    let ranked = ranked_channels(reading, &rb.name);
    let n_top = channels.len() + 2;
    s.rank_band = Some(rb.name.clone());
    s.channel_ranks = channels
        .iter()
        .map(|c| ChannelRank {
            channel: c.clone(),
            rank: ranked.iter().position(|(k, _)| k == c).map(|p| p + 1),
        })
        .collect();
    let within = s.channel_ranks.iter().filter(|r| r.rank.is_some_and(|k| k <= n_top)).count();
    s.channels_hit = !channels.is_empty() && within >= channels.len().div_ceil(2);
    s.top_channels = ranked.iter().take(n_top).map(|(c, _)| c.clone()).collect();
    s
}

#[cfg(test)]
mod tests {
    use eeglens_interpret::{BandContrast, Ordered};

    use super::*;

    fn band(name: &str, lo: f64, hi: f64, contrast: f64, p: f64) -> BandContrast {
        BandContrast { name: name.into(), lo, hi, log_ratio: 0.0, contrast, p, p_contrast: p, z: 0.0 }
    }

    /// Four bands, six channels; `theta` carries the values given, the other bands `base`.
    fn reading(top: Option<&str>, theta: [f64; 6], base: f64) -> Reading {
        let chans = ["Fz", "Cz", "Pz", "O1", "T3", "T4"];
        let row = |vals: [f64; 6]| Ordered(chans.iter().zip(vals).map(|(c, v)| (c.to_string(), v)).collect());
        Reading {
            freqs: vec![],
            psd: Ordered(vec![]),
            bands: vec![
                band("delta", 1.0, 4.0, 0.1, 0.5),
                band("theta", 4.0, 8.0, 0.9, 0.001),
                band("alpha", 8.0, 13.0, 0.1, 0.5),
                band("beta", 13.0, 30.0, 0.2, 0.3),
            ],
            channels: Ordered(vec![
                ("delta".into(), row([base; 6])),
                ("theta".into(), row(theta)),
                ("alpha".into(), row([base; 6])),
                ("beta".into(), row([base; 6])),
            ]),
            top_band: top.map(str::to_string),
            rank: eeglens_interpret::spectral::Rank::Contrast,
            by_subject: false,
            n: Ordered(vec![]),
        }
    }

    fn planted(name: &str) -> PlantedBand {
        PlantedBand::parse(name).unwrap()
    }

    #[test]
    fn band_hit_uses_the_planted_centre() {
        let r = reading(Some("theta"), [0.0; 6], 0.0);
        assert!(band_hit(&r, &planted("theta")));
        assert!(!band_hit(&r, &planted("alpha")));
        let r = reading(Some("beta"), [0.0; 6], 0.0);
        assert!(band_hit(&r, &planted("low-beta")), "13-20 Hz is inside the reading's beta");
        assert!(band_hit(&r, &planted("high-beta")), "20-30 Hz is inside the reading's beta");
        assert!(!band_hit(&r, &planted("alpha")));
        // No claim is never a hit.
        let r = reading(None, [0.0; 6], 0.0);
        assert!(!band_hit(&r, &planted("theta")));
        // A band straddling two reading bands: its centre decides (7-11 Hz -> 9 Hz -> alpha).
        let r = reading(Some("alpha"), [0.0; 6], 0.0);
        assert!(band_hit(&r, &planted("x:7-11")));
    }

    #[test]
    fn channel_ranks_remove_each_channels_median() {
        // Theta log ratios: Cz 2.0, Pz 1.0, Fz 0.5; every other band 0.3 at every channel.
        // Band-specific part: |r - median| with median 0.3: Cz 1.7, Pz 0.7, Fz 0.2, O1/T3/T4 0.
        let r = reading(Some("theta"), [0.5, 2.0, 1.0, 0.3, 0.3, 0.3], 0.3);
        let ranked = ranked_channels(&r, "theta");
        assert_eq!(ranked[0].0, "Cz");
        assert_eq!(ranked[1].0, "Pz");
        assert_eq!(ranked[2].0, "Fz");
        approx::assert_abs_diff_eq!(ranked[0].1, 1.7, epsilon = 1e-12);
        let chans: Vec<String> = vec!["Cz".into(), "O1".into()];
        let s = score(&r, Some((&planted("theta"), &chans)));
        assert_eq!(s.rank_band.as_deref(), Some("theta"));
        assert_eq!(s.channel_ranks[0].rank, Some(1));
        // O1 ties with T3 and T4 at 0: montage order puts it 4th, within the top 2 + 2.
        assert_eq!(s.channel_ranks[1].rank, Some(4));
        assert!(s.channels_hit && s.band_hit);
        assert_eq!(s.top_channels, vec!["Cz", "Pz", "Fz", "O1"]);
    }

    #[test]
    fn a_negative_difference_counts_by_its_size() {
        // A band lowered at T4 is as much a band-specific difference as one raised.
        let r = reading(Some("theta"), [0.0, 0.0, 0.0, 0.0, 0.0, -1.5], 0.0);
        let chans: Vec<String> = vec!["T4".into()];
        let s = score(&r, Some((&planted("theta"), &chans)));
        assert_eq!(s.channel_ranks[0].rank, Some(1));
    }

    #[test]
    fn channels_hit_needs_half_of_the_planted_channels_near_the_top() {
        // Fz and T4 lead; the planted Pz, O1, T3 rank low.
        let r = reading(Some("theta"), [3.0, 0.1, 0.0, 0.0, 0.0, 2.0], 0.0);
        let chans: Vec<String> = vec!["Pz".into(), "O1".into(), "T3".into()];
        let s = score(&r, Some((&planted("theta"), &chans)));
        // 3 planted: the top 5 holds Fz, T4, Cz and two of the zero ties (Pz, O1); T3 is 6th.
        assert_eq!(
            s.channel_ranks.iter().map(|r| r.rank).collect::<Vec<_>>(),
            vec![Some(4), Some(5), Some(6)]
        );
        assert!(s.channels_hit, "2 of 3 within the top 5");
        let chans: Vec<String> = vec!["T3".into(), "Cz".into()];
        let r = reading(Some("theta"), [3.0, 0.0, 2.5, 2.0, -0.1, 1.0], 0.0);
        let s = score(&r, Some((&planted("theta"), &chans)));
        // Ranks: Fz 1, Pz 2, O1 3, T4 4, T3 5, Cz 6: neither within the top 4.
        assert!(!s.channels_hit);
    }

    #[test]
    fn non_finite_ratios_rank_last_and_nulls_score_nothing() {
        let r = reading(Some("theta"), [f64::NAN, 0.1, 0.2, f64::INFINITY, 0.0, 0.0], 0.0);
        let ranked = ranked_channels(&r, "theta");
        assert_eq!(ranked[0].0, "Pz");
        assert!(ranked[4..].iter().all(|(c, _)| c == "Fz" || c == "O1"));
        let s = score(&r, None);
        assert!(s.read);
        assert_eq!(s.top_band.as_deref(), Some("theta"));
        assert!(!s.band_hit && !s.channels_hit && s.channel_ranks.is_empty());
    }
}

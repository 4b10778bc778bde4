//! The data's own class difference, before any network: the power spectra of
//! the test windows per class and channel group, with subjects as the unit.
//!
//! Each test window's channels get a Welch PSD (Hann, 1-s segments, 50 %
//! overlap, the whole window when shorter: the band-power baseline's
//! settings), averaged over the channels of each [`ChannelGroup`]. A
//! subject's spectrum is the mean over its windows; a class's is the mean
//! over its subjects, with the standard error of that mean across subjects
//! (SD / √n). Windows of one subject are not independent, so the band is
//! across subjects, never across windows.

use std::collections::BTreeMap;

use eeglens_data::store::{EpochStore, Split};
use eeglens_dsp::{Welch, WelchConfig};

/// Channels that lie over one region of the scalp.
#[derive(Clone, Debug, PartialEq)]
pub struct ChannelGroup {
    /// `frontal`, `central`, `temporal`, `parieto-occipital` or `other`
    pub name: String,
    /// indices into the store's channels
    pub channels: Vec<usize>,
    /// the channels' names
    pub names: Vec<String>,
}

/// The region of a 10-20/10-10 electrode by its name: `Fp`/`AF`/`F`
/// frontal; `F7`–`F10`, `FT`, `T`, `TP` and `P7`–`P10` temporal (the lateral
/// ring, old names `T3`–`T6` included); `FC`, `C`, `CP` central; `P`, `PO`,
/// `O`, `I` parieto-occipital; anything else (`E22`, `EOG`) `other`.
pub fn region(name: &str) -> &'static str {
    let n = name.trim().to_ascii_uppercase();
    let lateral = ["F7", "F8", "F9", "F10", "P7", "P8", "P9", "P10"];
    let digits_after = |prefix: &str| {
        n.strip_prefix(prefix).is_some_and(|r| !r.is_empty() && r.chars().all(|c| c.is_ascii_digit()))
    };
    if n.starts_with("FP") || n.starts_with("AF") {
        "frontal"
    } else if lateral.contains(&n.as_str()) || n.starts_with("FT") || n.starts_with("TP") || digits_after("T")
    {
        "temporal"
    } else if n.starts_with("FC") || n.starts_with('C') {
        "central"
    } else if n.starts_with('F') {
        "frontal"
    } else if n.starts_with('P') || n.starts_with('O') || n.starts_with('I') {
        "parieto-occipital"
    } else {
        "other"
    }
}

/// The order groups are shown in.
const REGIONS: [&str; 5] = ["frontal", "central", "temporal", "parieto-occipital", "other"];

/// `channels` grouped by [`region`], in the order frontal, central,
/// temporal, parieto-occipital, other; empty groups are left out.
pub fn channel_groups(channels: &[String]) -> Vec<ChannelGroup> {
    REGIONS
        .iter()
        .filter_map(|&r| {
            let idx: Vec<usize> = (0..channels.len()).filter(|&i| region(&channels[i]) == r).collect();
            (!idx.is_empty()).then(|| ChannelGroup {
                name: r.to_string(),
                names: idx.iter().map(|&i| channels[i].clone()).collect(),
                channels: idx,
            })
        })
        .collect()
}

/// One class's spectrum in one channel group.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassSpectrum {
    /// the class
    pub class: String,
    /// subjects averaged
    pub n_subjects: usize,
    /// windows behind them
    pub n_windows: usize,
    /// mean over subjects of each subject's mean PSD, one value per frequency
    pub mean: Vec<f64>,
    /// standard error of that mean across subjects (`NaN` with one subject)
    pub sem: Vec<f64>,
}

/// The class spectra of one channel group.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupSpectrum {
    /// the channels
    pub group: ChannelGroup,
    /// one per class with at least one subject, in class order
    pub classes: Vec<ClassSpectrum>,
}

/// The class spectra of one split of a store, per channel group.
#[derive(Clone, Debug, PartialEq)]
pub struct DataSpectra {
    /// the split (`test`)
    pub split: String,
    /// bin frequencies, Hz
    pub freqs: Vec<f64>,
    /// Welch segment length, samples
    pub nperseg: usize,
    /// one per channel group
    pub groups: Vec<GroupSpectrum>,
}

impl DataSpectra {
    /// The spectra of `split`'s windows of `store`.
    ///
    /// # Errors
    /// One line naming the store when the split holds no window or the
    /// windows are too short for a spectrum.
    pub fn of_store(store: &EpochStore, split: Split) -> Result<Self, String> {
        let idx = store.indices(split);
        if idx.is_empty() {
            return Err(format!("{}: no {} window", store.path().display(), split.name()));
        }
        Ok(Self { split: split.name().to_string(), ..Self::of_windows(store, &idx)? })
    }

    /// The class spectra of the windows `idx` of `store` (e.g. every window tested over the folds
    /// of a cross-validation), as [`DataSpectra::of_store`]; `split` is `windows`, for the caller
    /// to name.
    ///
    /// # Errors
    /// As [`DataSpectra::of_store`].
    pub fn of_windows(store: &EpochStore, idx: &[usize]) -> Result<Self, String> {
        let fs = store.meta().fs;
        let (c_n, t_n) = (store.n_channels(), store.n_samples());
        if idx.is_empty() {
            return Err(format!("{}: no window", store.path().display()));
        }
        let nperseg = ((fs.round() as usize).max(8)).min(t_n);
        let welch = Welch::new(fs, WelchConfig { nperseg, noverlap: None, nfft: None })
            .map_err(|e| format!("{}: Welch PSD at {fs} Hz: {e}", store.path().display()))?;
        let freqs = welch.freqs();
        let n_f = freqs.len();
        let groups = channel_groups(&store.meta().channels);
        // Per (subject, class): windows and the sum of their group spectra `[groups][freqs]`.
        let mut units: BTreeMap<(u32, u32), (usize, Vec<f64>)> = BTreeMap::new();
        let mut win = vec![0.0f32; c_n * t_n];
        let mut psd = vec![vec![0.0f64; n_f]; c_n];
        for &i in idx {
            store.copy_window(i, &mut win);
            for (ch, out) in psd.iter_mut().enumerate() {
                welch
                    .psd_into(&win[ch * t_n..(ch + 1) * t_n], out)
                    .map_err(|e| format!("{}: window {i} channel {ch}: {e}", store.path().display()))?;
            }
            let key = (store.subjects()[i], store.labels()[i]);
            let (n, sum) = units.entry(key).or_insert_with(|| (0, vec![0.0; groups.len() * n_f]));
            *n += 1;
            for (g, group) in groups.iter().enumerate() {
                let w = 1.0 / group.channels.len() as f64;
                for &ch in &group.channels {
                    for (s, p) in sum[g * n_f..(g + 1) * n_f].iter_mut().zip(&psd[ch]) {
                        *s += w * p;
                    }
                }
            }
        }
        let classes = &store.meta().classes;
        let groups = groups
            .into_iter()
            .enumerate()
            .map(|(g, group)| {
                let classes = classes
                    .iter()
                    .enumerate()
                    .filter_map(|(k, class)| {
                        let subjects: Vec<Vec<f64>> = units
                            .iter()
                            .filter(|((_, label), _)| *label as usize == k)
                            .map(|(_, (n, sum))| {
                                sum[g * n_f..(g + 1) * n_f].iter().map(|s| s / *n as f64).collect()
                            })
                            .collect();
                        let n_windows = units
                            .iter()
                            .filter(|((_, label), _)| *label as usize == k)
                            .map(|(_, (n, _))| n)
                            .sum();
                        let (mean, sem) = mean_sem(&subjects, n_f)?;
                        Some(ClassSpectrum {
                            class: class.clone(),
                            n_subjects: subjects.len(),
                            n_windows,
                            mean,
                            sem,
                        })
                    })
                    .collect();
                GroupSpectrum { group, classes }
            })
            .collect();
        Ok(Self { split: "windows".to_string(), freqs, nperseg, groups })
    }
}

/// The mean over rows and its standard error (`SD / √n`, SD with `n - 1`;
/// `NaN` for one row); `None` without rows.
pub fn mean_sem(rows: &[Vec<f64>], len: usize) -> Option<(Vec<f64>, Vec<f64>)> {
    if rows.is_empty() {
        return None;
    }
    let n = rows.len() as f64;
    let mean: Vec<f64> = (0..len).map(|j| rows.iter().map(|r| r[j]).sum::<f64>() / n).collect();
    let sem = (0..len)
        .map(|j| {
            if rows.len() < 2 {
                return f64::NAN;
            }
            let var = rows.iter().map(|r| (r[j] - mean[j]).powi(2)).sum::<f64>() / (n - 1.0);
            (var / n).sqrt()
        })
        .collect();
    Some((mean, sem))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_24_channels_fall_into_four_regions() {
        let names: Vec<String> = eeglens_io::montage::HBN24.iter().map(|s| s.to_string()).collect();
        let groups = channel_groups(&names);
        let of = |g: &str| groups.iter().find(|x| x.name == g).map(|x| x.names.join(" ")).unwrap_or_default();
        assert_eq!(of("frontal"), "Fp1 Fp2 F3 Fz F4");
        assert_eq!(of("central"), "FC3 FCz FC4 C3 C4 CP3 CPz CP4 Cz");
        assert_eq!(of("temporal"), "F7 F8 T3 T4 T5 T6");
        assert_eq!(of("parieto-occipital"), "P3 Pz P4 O1");
        assert!(groups.iter().all(|g| g.name != "other"));
        assert_eq!(region("T7"), "temporal");
        assert_eq!(region("P8"), "temporal");
        assert_eq!(region("POz"), "parieto-occipital");
        assert_eq!(region("E22"), "other");
    }

    #[test]
    fn the_standard_error_is_across_rows() {
        let (m, s) = mean_sem(&[vec![1.0, 2.0], vec![3.0, 2.0]], 2).expect("rows");
        assert_eq!(m, vec![2.0, 2.0]);
        // SD of {1, 3} is √2; over √2 rows: 1.
        assert!((s[0] - 1.0).abs() < 1e-12 && s[1] == 0.0);
        assert!(mean_sem(&[vec![1.0]], 1).expect("a row").1[0].is_nan());
        assert!(mean_sem(&[], 1).is_none());
    }
}

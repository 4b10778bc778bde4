//! One recording from file to normalised windows: channels, resampling,
//! filtering, re-referencing, eyes-closed windows, amplitude rejection.

use eeglens_dsp::{append_reference_channel, EeglabFirDesign};
use eeglens_dsp::{butter, rereference, FilterKind, Reference, Resampler};
use eeglens_io::bids::{self, BidsRecording};
use eeglens_io::{montage, ChannelType, ReadOptions, Recording};

use super::config::{BandFilter, RESTORED_REFERENCE};
use super::config::{ChannelSet, Normalise, PrepareConfig};
use super::events::eyes_closed_blocks;

/// One recording's windows and what became of it.
pub(super) struct Processed {
    /// the recording's own sampling rate, Hz
    pub(super) fs: f64,
    /// kept windows, normalised, `[n_windows, channels, segment]`
    pub(super) windows: Vec<f32>,
    pub(super) n_windows: usize,
    /// each kept window's first sample, counted at the output rate from the recording's first
    /// sample (so `start / rate` is the onset on the recording's own time axis)
    pub(super) starts: Vec<usize>,
    /// windows rejected for amplitude
    pub(super) rejected: usize,
    /// seconds of data that windows were cut from
    pub(super) seconds_used: f64,
    /// whether eyes-closed events selected the data
    pub(super) eyes_closed_events: bool,
    /// bytes of raw EEG read (selected channels, before resampling)
    pub(super) raw_bytes: u64,
    /// the channels' names as the store gives them
    pub(super) channels: Vec<String>,
    /// with `--clean`, the channels flagged and interpolated
    pub(super) clean: Option<super::clean::CleanReport>,
}

/// Adds the reader's `new` warnings to `warnings`, each once: the header and the data are read
/// separately and both reads repeat what the header says.
fn add_reader_warnings(warnings: &mut Vec<String>, new: &[String]) {
    for w in new {
        if !warnings.contains(w) {
            warnings.push(w.clone());
        }
    }
}

/// Prepares one recording. The reader's warnings go to `reader_warnings`, also when the
/// recording is skipped after it was read, and so do the eyes-closed blocks that the events cut
/// short or left out.
pub(super) fn process_recording(
    r: &BidsRecording,
    cfg: &PrepareConfig,
    reader_warnings: &mut Vec<String>,
) -> Result<Processed, String> {
    let header = eeglens_io::read_with(&r.path, &ReadOptions { header_only: true, ..Default::default() })
        .map_err(|e| e.to_string())?;
    add_reader_warnings(reader_warnings, &header.warnings);
    let restored = restored_reference(&header, cfg);
    let (indices, names) = select_channels_restored(&header, &cfg.channels, restored)?;
    let plan = reference_plan(&header, &indices, cfg, restored)?;
    let full_read = cfg.clean.then(|| full_montage(&header, &indices));
    let read_idx = plan.as_ref().map(|p| &p.read).or(full_read.as_ref()).unwrap_or(&indices);
    let fs = check_rate(&header, read_idx, cfg)?;
    let wanted: Vec<String> = read_idx.iter().map(|&i| header.channels[i].name.clone()).collect();
    let rec =
        eeglens_io::read_with(&r.path, &ReadOptions { channels: Some(wanted.clone()), ..Default::default() })
            .map_err(|e| e.to_string())?;
    add_reader_warnings(reader_warnings, &rec.warnings);
    let raw_bytes = rec.data.iter().map(|c| c.len() as u64 * 4).sum();
    check_finite(&rec.data, if plan.is_some() || cfg.clean { &wanted } else { &names }, fs)?;
    // Events: the BIDS events.tsv wins over the file's own annotations.
    let events = match &r.events_tsv {
        Some(p) => bids::read_events_tsv(p).map_err(|e| e.to_string())?,
        None => rec.annotations.clone(),
    };
    let (data, clean) = if cfg.clean {
        let mut full_names = wanted.clone();
        let full = match &plan {
            Some(p) => {
                let mut d = rec.data;
                reference_in_place(&mut d, p)?;
                full_names.extend(p.restore.then(|| RESTORED_REFERENCE.to_string()));
                d
            }
            None => rec.data,
        };
        let mut full = filter_resample(full, fs, cfg)?;
        let report = super::clean::clean_channels(&mut full, &full_names, cfg.rate)?;
        let mut data = select_rows(full, read_idx, &indices, header.channels.len());
        average_reference(&mut data, cfg)?;
        (data, Some(report))
    } else {
        let data = match &plan {
            Some(p) => reference_full_montage(rec.data, p, &indices, header.channels.len())?,
            None => rec.data,
        };
        (condition(data, fs, cfg)?, None)
    };

    let n = data.first().map_or(0, Vec::len);
    let duration = n as f64 / cfg.rate;
    let closed =
        if cfg.eyes_closed { eyes_closed_blocks(&events, duration, cfg.eyes_closed_window) } else { None };
    let eyes_closed_events = closed.is_some();
    let closed = closed.map(|b| {
        add_reader_warnings(reader_warnings, &b.notes);
        b.intervals
    });
    if cfg.eyes_closed && cfg.skip_unmarked && !eyes_closed_events {
        return Err("no event marks eyes closed or open, so it would be used whole (--skip-unmarked)".into());
    }
    let intervals = closed.unwrap_or_else(|| vec![(0.0, duration)]);
    let seg = (cfg.segment_s * cfg.rate).round() as usize;
    let (starts, seconds_used) = window_starts(&intervals, cfg.rate, seg, n);
    let (keep, rejected) = reject_amplitude(&data, &starts, seg, cfg.reject_uv);
    if keep.is_empty() {
        let what = if eyes_closed_events { "eyes-closed data" } else { "data" };
        return Err(if rejected > 0 {
            format!(
                "no window left: all {rejected} windows exceed the amplitude threshold of {} µV",
                cfg.reject_uv.unwrap_or(f64::INFINITY)
            )
        } else {
            format!("no window: {seconds_used:.2} s of {what}, shorter than one {} s window", cfg.segment_s)
        });
    }
    let windows = cut_windows(&data, &keep, seg, cfg.normalise);
    check_finite_windows(&windows, &keep, data.len(), seg, &names, cfg.rate)?;
    Ok(Processed {
        fs,
        windows,
        n_windows: keep.len(),
        starts: keep,
        rejected,
        seconds_used,
        eyes_closed_events,
        raw_bytes,
        channels: names,
        clean,
    })
}

/// The name of the recording reference to restore as a zero channel: when re-referencing to a
/// channel list and the file has no channel named `Cz` or `E129`.
fn restored_reference(header: &Recording, cfg: &PrepareConfig) -> Option<&'static str> {
    let has = |n: &str| header.channels.iter().any(|c| c.short_name().eq_ignore_ascii_case(n));
    (cfg.reference_channels.is_some() && !has("Cz") && !has("E129")).then_some(RESTORED_REFERENCE)
}

/// [`select_channels`], where a channel named `restored` (absent from the file, restored as a
/// zero channel) resolves to index `header.channels.len()`.
fn select_channels_restored(
    header: &Recording,
    channels: &ChannelSet,
    restored: Option<&str>,
) -> Result<(Vec<usize>, Vec<String>), String> {
    let Some(name) = restored else { return select_channels(header, channels) };
    let n = header.channels.len();
    let mut labels: Vec<&str> = header.channels.iter().map(|c| c.name.as_str()).collect();
    labels.push(name);
    let resolve = |wanted: &[&str]| {
        montage::resolve(&labels, wanted)
            .map_err(|missing| format!("channels not found: {}", missing.join(", ")))
    };
    Ok(match channels {
        ChannelSet::Hbn24 => {
            (resolve(&montage::HBN24)?, montage::HBN24.iter().map(|s| s.to_string()).collect())
        }
        ChannelSet::List(l) => (resolve(&l.iter().map(String::as_str).collect::<Vec<_>>())?, l.clone()),
        ChannelSet::All => {
            let (mut idx, mut names) = select_channels(header, channels)?;
            idx.push(n);
            names.push(name.to_string());
            (idx, names)
        }
    })
}

/// Which channels to read for a re-reference to a channel list, and where the reference
/// channels sit among them.
struct ReferencePlan {
    /// file indices to read: every EEG channel, the selected ones and the reference ones
    read: Vec<usize>,
    /// positions in `read` of the reference channels (`read.len()` for a restored one)
    reference: Vec<usize>,
    /// whether the recording reference is appended as a zero channel
    restore: bool,
}

fn reference_plan(
    header: &Recording,
    selected: &[usize],
    cfg: &PrepareConfig,
    restored: Option<&str>,
) -> Result<Option<ReferencePlan>, String> {
    let Some(refs) = &cfg.reference_channels else { return Ok(None) };
    let n = header.channels.len();
    let mut labels: Vec<&str> = header.channels.iter().map(|c| c.name.as_str()).collect();
    labels.extend(restored);
    let wanted: Vec<&str> = refs.iter().map(String::as_str).collect();
    let ref_idx = montage::resolve(&labels, &wanted)
        .map_err(|missing| format!("reference channels not found: {}", missing.join(", ")))?;
    let mut read: Vec<usize> = (0..n).filter(|&i| header.channels[i].kind == ChannelType::Eeg).collect();
    read.extend(selected.iter().chain(&ref_idx).copied().filter(|&i| i < n));
    read.sort_unstable();
    read.dedup();
    let reference = ref_idx
        .iter()
        .map(|&i| {
            if i >= n {
                read.len()
            } else {
                read.binary_search(&i).expect("every reference channel is read")
            }
        })
        .collect();
    Ok(Some(ReferencePlan { read, reference, restore: restored.is_some() }))
}

/// Re-references the full montage read by `plan` (restoring the recording reference when the
/// file omits it), then keeps the selected channels in their order.
fn reference_full_montage(
    mut data: Vec<Vec<f32>>,
    plan: &ReferencePlan,
    selected: &[usize],
    n_file: usize,
) -> Result<Vec<Vec<f32>>, String> {
    reference_in_place(&mut data, plan)?;
    Ok(select_rows(data, &plan.read, selected, n_file))
}

/// Re-references the full montage read by `plan`, appending the recording reference when the
/// file omits it.
fn reference_in_place(data: &mut Vec<Vec<f32>>, plan: &ReferencePlan) -> Result<(), String> {
    let reference = Reference::Channels(plan.reference.clone());
    if plan.restore {
        append_reference_channel(data, &reference).map(|_| ()).map_err(|e| e.to_string())
    } else {
        rereference(data, &reference).map_err(|e| e.to_string())
    }
}

/// The rows of the file channels `selected` from data read as the (sorted) file channels
/// `read`; an index `>= n_file` is the restored reference after them.
fn select_rows(data: Vec<Vec<f32>>, read: &[usize], selected: &[usize], n_file: usize) -> Vec<Vec<f32>> {
    selected
        .iter()
        .map(|&i| {
            let pos = if i >= n_file {
                read.len()
            } else {
                read.binary_search(&i).expect("every selected channel is read")
            };
            data[pos].clone()
        })
        .collect()
}

/// Every EEG channel of the file and the selected ones (`--clean` examines the full montage),
/// sorted; the restored reference (index past the file's channels) is left out.
fn full_montage(header: &Recording, selected: &[usize]) -> Vec<usize> {
    let n = header.channels.len();
    let mut read: Vec<usize> = (0..n).filter(|&i| header.channels[i].kind == ChannelType::Eeg).collect();
    read.extend(selected.iter().copied().filter(|&i| i < n));
    read.sort_unstable();
    read.dedup();
    read
}

/// The indices of the chosen channels in the file and the names the store gives them.
fn select_channels(header: &Recording, channels: &ChannelSet) -> Result<(Vec<usize>, Vec<String>), String> {
    let labels: Vec<&str> = header.channels.iter().map(|c| c.name.as_str()).collect();
    Ok(match channels {
        ChannelSet::Hbn24 => {
            let idx = montage::resolve(&labels, &montage::HBN24)
                .map_err(|missing| format!("channels not found: {}", missing.join(", ")))?;
            (idx, montage::HBN24.iter().map(|s| s.to_string()).collect())
        }
        ChannelSet::List(l) => {
            let wanted: Vec<&str> = l.iter().map(String::as_str).collect();
            let idx = montage::resolve(&labels, &wanted)
                .map_err(|missing| format!("channels not found: {}", missing.join(", ")))?;
            (idx, l.clone())
        }
        ChannelSet::All => {
            let idx: Vec<usize> =
                (0..header.channels.len()).filter(|&i| header.channels[i].kind == ChannelType::Eeg).collect();
            if idx.is_empty() {
                return Err("no EEG channel".into());
            }
            let names = idx.iter().map(|&i| header.channels[i].short_name().to_string()).collect();
            (idx, names)
        }
    })
}

/// The chosen channels' one sampling rate, which must be a whole number of Hz that holds the band.
fn check_rate(header: &Recording, indices: &[usize], cfg: &PrepareConfig) -> Result<f64, String> {
    let fs = header.channels[indices[0]].fs;
    if let Some(&i) = indices.iter().find(|&&i| header.channels[i].fs != fs) {
        return Err(format!(
            "channel {} is sampled at {} Hz, channel {} at {fs} Hz; mixed rates are not supported",
            header.channels[i].name, header.channels[i].fs, header.channels[indices[0]].name
        ));
    }
    if !(fs > 0.0 && fs.fract() == 0.0) {
        return Err(format!(
            "sampling rate {fs} Hz is not a whole number; cannot resample to {} Hz",
            cfg.rate
        ));
    }
    // A rate whose Nyquist frequency is below the band's upper edge recorded nothing of the band's top:
    // resampling cannot put it back, so the windows would not hold what the settings say.
    if let Some((lo, hi)) = cfg.band {
        if fs < 2.0 * hi {
            return Err(format!(
                "sampling rate {fs} Hz cannot hold the band {lo}-{hi} Hz: it records frequencies up to {} Hz only \
                 (half its rate), below the band's upper edge {hi} Hz",
                fs / 2.0
            ));
        }
    }
    Ok(fs)
}

/// Refuses a recording with a non-finite sample, naming the channel and the time.
fn check_finite(data: &[Vec<f32>], names: &[String], fs: f64) -> Result<(), String> {
    for (k, ch) in data.iter().enumerate() {
        if let Some(t) = ch.iter().position(|v| !v.is_finite()) {
            return Err(format!("channel {} has a non-finite sample at {:.3} s", names[k], t as f64 / fs));
        }
    }
    Ok(())
}

/// Resamples to the output rate, band-passes and re-references.
fn condition(data: Vec<Vec<f32>>, fs: f64, cfg: &PrepareConfig) -> Result<Vec<Vec<f32>>, String> {
    let mut data = filter_resample(data, fs, cfg)?;
    average_reference(&mut data, cfg)?;
    Ok(data)
}

/// With `average_reference` and no reference channel list, re-references to the channels' average.
fn average_reference(data: &mut [Vec<f32>], cfg: &PrepareConfig) -> Result<(), String> {
    if cfg.reference_channels.is_none() && cfg.average_reference && data.len() > 1 {
        rereference(data, &Reference::Average).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Band-passes and resamples to the output rate, in the order `cfg.filter` asks.
fn filter_resample(mut data: Vec<Vec<f32>>, fs: f64, cfg: &PrepareConfig) -> Result<Vec<Vec<f32>>, String> {
    let rate = cfg.rate;
    if let (Some((lo, hi)), BandFilter::EeglabFir) = (cfg.band, cfg.filter) {
        let design =
            EeglabFirDesign::new(fs, (lo > 0.0).then_some(lo), Some(hi)).map_err(|e| e.to_string())?;
        let fir = design.filter();
        data = eeglens_dsp::map_channels(&data, |c| fir.filter_zero_phase(c)).map_err(|e| e.to_string())?;
    }
    if fs != rate {
        let rs = Resampler::from_rates(fs as usize, rate as usize).map_err(|e| e.to_string())?;
        data = rs.process_channels(&data).map_err(|e| e.to_string())?;
    }
    if let (Some((lo, hi)), BandFilter::Butterworth) = (cfg.band, cfg.filter) {
        let kind = if lo > 0.0 { FilterKind::BandPass(lo, hi) } else { FilterKind::LowPass(hi) };
        let sos = butter(4, kind, rate).map_err(|e| e.to_string())?;
        sos.filtfilt_channels_in_place(&mut data).map_err(|e| e.to_string())?;
    }
    Ok(data)
}

/// Starts of the non-overlapping windows of `seg` samples inside `intervals` (seconds) of
/// `n` samples at `rate`, and the seconds the intervals cover.
fn window_starts(intervals: &[(f64, f64)], rate: f64, seg: usize, n: usize) -> (Vec<usize>, f64) {
    let mut starts = Vec::new();
    let mut seconds_used = 0.0;
    for &(a, b) in intervals {
        seconds_used += b - a;
        let (mut s, e) = ((a * rate).ceil() as usize, ((b * rate).floor() as usize).min(n));
        while s + seg <= e {
            starts.push(s);
            s += seg;
        }
    }
    (starts, seconds_used)
}

/// Amplitude rejection on the referenced, filtered µV: the starts kept and the number rejected.
fn reject_amplitude(
    data: &[Vec<f32>],
    starts: &[usize],
    seg: usize,
    reject_uv: Option<f64>,
) -> (Vec<usize>, usize) {
    let mut rejected = 0;
    let mut keep = Vec::with_capacity(starts.len());
    for &s in starts {
        let over = reject_uv
            .is_some_and(|thr| data.iter().any(|ch| ch[s..s + seg].iter().any(|v| (v.abs() as f64) > thr)));
        if over {
            rejected += 1;
        } else {
            keep.push(s);
        }
    }
    (keep, rejected)
}

/// The kept windows `[n, c, seg]`, normalised.
fn cut_windows(data: &[Vec<f32>], keep: &[usize], seg: usize, how: Normalise) -> Vec<f32> {
    let c = data.len();
    let mut windows = Vec::with_capacity(keep.len() * c * seg);
    for &s in keep {
        for ch in data {
            windows.extend_from_slice(&ch[s..s + seg]);
        }
    }
    normalise(&mut windows, keep.len(), c, seg, how);
    windows
}

/// Finite samples can still leave the f32 range in the filters or the reference (amplitudes
/// near f32::MAX): such a recording is skipped with the reason, never written into the store.
fn check_finite_windows(
    windows: &[f32],
    keep: &[usize],
    c: usize,
    seg: usize,
    names: &[String],
    rate: f64,
) -> Result<(), String> {
    if let Some(i) = windows.iter().position(|v| !v.is_finite()) {
        let (w, ch) = (i / (c * seg), i / seg % c);
        return Err(format!(
            "channel {} becomes non-finite after resampling, filtering and re-referencing (window at {:.3} s): \
             its amplitudes exceed what the preparation can represent",
            names[ch],
            keep[w] as f64 / rate
        ));
    }
    Ok(())
}

/// Scales windows `[n, c, t]` in place (see [`Normalise`]).
pub(super) fn normalise(x: &mut [f32], n: usize, c: usize, t: usize, how: Normalise) {
    let centre_and_scale = |block: &mut [f32], n_blocks: usize| {
        // Channel means over all given windows, then one shared standard deviation.
        let mut means = vec![0.0f64; c];
        for w in 0..n_blocks {
            for ch in 0..c {
                let row = &block[(w * c + ch) * t..(w * c + ch + 1) * t];
                means[ch] += row.iter().map(|&v| v as f64).sum::<f64>();
            }
        }
        let count = (n_blocks * t).max(1) as f64;
        means.iter_mut().for_each(|m| *m /= count);
        let mut ss = 0.0f64;
        for w in 0..n_blocks {
            for ch in 0..c {
                let row = &mut block[(w * c + ch) * t..(w * c + ch + 1) * t];
                for v in row.iter_mut() {
                    let d = *v as f64 - means[ch];
                    ss += d * d;
                    *v = d as f32;
                }
            }
        }
        let sd = (ss / (count * c as f64)).sqrt();
        if sd > 0.0 {
            block.iter_mut().for_each(|v| *v = (*v as f64 / sd) as f32);
        }
    };
    match how {
        Normalise::None => {}
        Normalise::Recording if n > 0 => centre_and_scale(x, n),
        Normalise::Recording => {}
        Normalise::Segment => {
            for w in x.chunks_exact_mut(c * t) {
                centre_and_scale(w, 1);
            }
        }
    }
}

//! What `eeglens prepare` can be told: channels, scaling and the settings it records.

use crate::error::DataError;
use crate::split::SplitConfig;

/// Which channels to keep.
#[derive(Clone, Debug, PartialEq)]
pub enum ChannelSet {
    /// The 24 channels of the seed paper's group ([`montage::HBN24`](eeglens_io::montage::HBN24)).
    Hbn24,
    /// Every channel of type EEG, in file order (recordings must agree).
    All,
    /// These channels, in this order (10-20 names, aliases or EGI labels).
    List(Vec<String>),
}

impl ChannelSet {
    /// Parses `hbn24`, `all` or a comma-separated list.
    pub fn parse(s: &str) -> Self {
        match s.trim().to_ascii_lowercase().as_str() {
            "hbn24" => ChannelSet::Hbn24,
            "all" => ChannelSet::All,
            _ => ChannelSet::List(
                s.split(',').map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect(),
            ),
        }
    }
}

/// How windows are scaled.
///
/// The default is [`Normalise::Recording`]: each channel is centred on its
/// mean over the kept data and the whole recording is divided by one standard
/// deviation shared by all its channels. This removes a subject's overall gain
/// (skull thickness, electrode impedance, amplifier: identity, not class) while
/// keeping the spectral shape and the topography within the recording — the
/// differences the interpretation methods look for. [`Normalise::Segment`] does
/// the same per window, which also removes slow changes of absolute power
/// between windows; [`Normalise::None`] keeps µV.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Normalise {
    /// keep µV
    None,
    /// per recording: channel means removed, one shared scale (the default)
    Recording,
    /// per window: channel means removed, one shared scale
    Segment,
}

impl Normalise {
    /// Parses `none`, `recording` or `segment`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "none" => Some(Normalise::None),
            "recording" | "per-recording" => Some(Normalise::Recording),
            "segment" | "per-segment" => Some(Normalise::Segment),
            _ => None,
        }
    }

    /// The unit of the windows this normalisation gives (the store's `unit`).
    pub fn unit(self) -> &'static str {
        match self {
            Normalise::None => crate::store::UNIT_MICROVOLT,
            Normalise::Recording | Normalise::Segment => crate::store::UNIT_Z_SCORE,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Normalise::None => "none",
            Normalise::Recording => "recording",
            Normalise::Segment => "segment",
        }
    }
}

/// Which filter implements the band-pass (`--filter`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BandFilter {
    /// 4th-order Butterworth, zero phase (forward-backward), after resampling (the default)
    Butterworth,
    /// EEGLAB `pop_eegfiltnew`'s default FIR ([`eeglens_dsp::EeglabFirDesign`]), zero phase,
    /// at the recording's own rate before resampling, as the paper's pipeline runs it
    EeglabFir,
}

impl BandFilter {
    /// The name `--filter` takes.
    pub fn name(self) -> &'static str {
        match self {
            BandFilter::Butterworth => "butterworth",
            BandFilter::EeglabFir => "eeglab-fir",
        }
    }
}

/// The electrodes near the mastoids on an EGI HydroCel-129 net, the paper's reference
/// (`--reference mastoids`).
pub const MASTOIDS_HYDROCEL: [&str; 2] = ["E57", "E100"];

/// The name under which a recording's omitted reference electrode (EGI's Cz, `E129`) is
/// restored as a zero channel before re-referencing to a channel list.
pub const RESTORED_REFERENCE: &str = "Cz";

/// Everything `eeglens prepare` can be told.
#[derive(Clone, Debug, PartialEq)]
pub struct PrepareConfig {
    /// the participants.tsv column holding the labels
    pub label: String,
    /// cut a numeric label column into ranges, each a class (`None`: the
    /// column holds categories)
    pub bins: Option<super::bins::Bins>,
    /// keep a numeric label column as a number per window, the target of a regression
    /// (`--target numeric`), instead of classes; the subjects are split by the column's halves
    /// at its median
    pub numeric_target: bool,
    /// which channels
    pub channels: ChannelSet,
    /// output sampling rate, Hz
    pub rate: f64,
    /// band-pass edges in Hz, `None` for no filter
    pub band: Option<(f64, f64)>,
    /// window length, seconds
    pub segment_s: f64,
    /// re-reference to the common average
    pub average_reference: bool,
    /// only recordings of this task (case-insensitive), `None` for all
    pub task: Option<String>,
    /// keep only eyes-closed periods when the events mark them
    pub eyes_closed: bool,
    /// with `eyes_closed`, the seconds `(from, to)` after each eyes-closed event to keep (the
    /// paper's 3-37 s) instead of the periods from marker to marker; `None`: marker to marker
    pub eyes_closed_window: Option<(f64, f64)>,
    /// with `eyes_closed`, skip recordings whose events mark no eyes state
    /// (instead of using them whole beside eyes-closed data of the others)
    pub skip_unmarked: bool,
    /// reject windows whose absolute amplitude exceeds this many µV
    pub reject_uv: Option<f64>,
    /// scaling of the windows
    pub normalise: Normalise,
    /// subject-wise split
    pub split: SplitConfig,
    /// skip subjects without a label (reported) instead of failing
    pub skip_unlabelled: bool,
    /// fail when any recording is skipped (unreadable, no label, no window left, ...) instead of
    /// going on without it; subjects left out by class balancing (asked for) do not count
    pub strict: bool,
    /// what ran this preparation (version, command line, date, ...), kept in the
    /// store's settings as `provenance`; `None` records nothing
    pub provenance: Option<serde_json::Value>,
    /// which filter implements `band`
    pub filter: BandFilter,
    /// re-reference to the mean of these channels, computed on every EEG channel of the file
    /// before the channels are selected, with the recording reference (Cz/E129) restored as a
    /// zero channel when the file omits it; `None`: `average_reference` decides
    pub reference_channels: Option<Vec<String>>,
    /// find bad channels of the full montage (flat, line noise, low correlation), remove them
    /// and interpolate them by spherical splines, before the channels are selected
    pub clean: bool,
    /// the named preset the settings came from (`paper`), recorded in the store's settings
    pub preset: Option<String>,
}

impl PrepareConfig {
    /// The defaults of `eeglens prepare` for a label column.
    pub fn new(label: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            bins: None,
            numeric_target: false,
            channels: ChannelSet::Hbn24,
            rate: 128.0,
            band: Some((0.25, 25.0)),
            segment_s: 2.0,
            average_reference: true,
            task: None,
            eyes_closed: true,
            eyes_closed_window: None,
            skip_unmarked: false,
            reject_uv: Some(250.0),
            normalise: Normalise::Recording,
            split: SplitConfig::default(),
            skip_unlabelled: false,
            strict: false,
            provenance: None,
            filter: BandFilter::Butterworth,
            reference_channels: None,
            clean: false,
            preset: None,
        }
    }

    /// The signal steps in the order they run, one phrase each (recorded in the store's
    /// settings and the summary).
    pub fn steps(&self) -> Vec<String> {
        let mut steps = Vec::new();
        if let Some(refs) = &self.reference_channels {
            steps.push(format!(
                "re-reference every EEG channel of the file to the mean of {} ({RESTORED_REFERENCE}/E129 \
                 restored as a zero channel when absent), before channel selection",
                refs.join(",")
            ));
        }
        let band =
            self.band
                .map(|(lo, hi)| if lo > 0.0 { format!("{lo}-{hi} Hz") } else { format!("low-pass {hi} Hz") });
        if let (Some(b), BandFilter::EeglabFir) = (&band, self.filter) {
            steps.push(format!(
                "band-pass {b}: EEGLAB pop_eegfiltnew default FIR (Hamming), zero phase, at the file's rate"
            ));
        }
        steps.push(format!("resample to {} Hz (polyphase, Kaiser)", self.rate));
        if let (Some(b), BandFilter::Butterworth) = (&band, self.filter) {
            steps.push(format!("band-pass {b}: Butterworth order 4, zero phase"));
        }
        if self.clean {
            steps.push(super::clean::clean_step());
        }
        if self.reference_channels.is_none() && self.average_reference {
            steps.push("re-reference to the average of the selected channels".into());
        }
        steps
    }

    pub(super) fn settings_json(&self) -> serde_json::Value {
        let mut v = serde_json::json!({
            "channels": match &self.channels {
                ChannelSet::Hbn24 => serde_json::json!("hbn24"),
                ChannelSet::All => serde_json::json!("all"),
                ChannelSet::List(l) => serde_json::json!(l),
            },
            "rate": self.rate,
            "band": self.band.map(|(a, b)| vec![a, b]),
            "filter": match self.filter {
                BandFilter::Butterworth => "butterworth order 4, zero phase",
                BandFilter::EeglabFir => "eeglab-fir: pop_eegfiltnew default, zero phase, before resampling",
            },
            "segment_s": self.segment_s,
            "reference": match &self.reference_channels {
                Some(refs) => serde_json::json!({"channels": refs, "restored": RESTORED_REFERENCE, "before_channel_selection": true}),
                None => serde_json::json!(if self.average_reference { "average" } else { "as recorded" }),
            },
            "task": self.task,
            "eyes_closed": self.eyes_closed,
            "eyes_closed_window": self.eyes_closed_window.map(|(a, b)| vec![a, b]),
            "skip_unmarked": self.skip_unmarked,
            "reject_uv": self.reject_uv,
            "normalise": self.normalise.name(),
            "split": {"test": self.split.test, "val": self.split.val, "seed": self.split.seed, "balance": self.split.balance},
            "bins": self.bins.as_ref().map(super::bins::Bins::json),
            "provenance": self.provenance,
            "steps": self.steps(),
            "clean": self.clean.then(super::clean::clean_settings),
            "preset": self.preset,
        });
        // Only numeric stores carry the entry: a class store's settings stay as they were.
        if self.numeric_target {
            v["target"] = serde_json::json!({"kind": "numeric", "strata": super::target::STRATA.json()});
        }
        v
    }

    pub(super) fn validate(&self) -> Result<(), DataError> {
        let bad = |m: String| Err(DataError::Config(m));
        if !(self.rate.is_finite() && self.rate > 0.0 && self.rate.fract() == 0.0) {
            return bad(format!("--rate {} must be a positive whole number of Hz", self.rate));
        }
        if !(self.segment_s.is_finite() && self.segment_s > 0.0) {
            return bad(format!("--segment-s {} must be positive", self.segment_s));
        }
        if let Some((lo, hi)) = self.band {
            if !(lo >= 0.0 && hi > lo && hi < self.rate / 2.0) {
                return bad(format!(
                    "--band {lo}-{hi} must satisfy 0 <= lo < hi < {} Hz (half of --rate)",
                    self.rate / 2.0
                ));
            }
        }
        if let Some((a, b)) = self.eyes_closed_window {
            check_eyes_closed_window(a, b, self.eyes_closed, self.segment_s).map_err(DataError::Config)?;
        }
        if let Some(r) = self.reject_uv {
            if r.is_nan() || r <= 0.0 {
                return bad(format!("amplitude threshold {r} µV must be positive"));
            }
        }
        if let ChannelSet::List(l) = &self.channels {
            if l.is_empty() {
                return bad("--channels lists no channel".into());
            }
        }
        if self.numeric_target && self.bins.is_some() {
            return bad("--bins and --target numeric exclude each other: --bins makes classes of the \
                        column, --target numeric keeps its values"
                .into());
        }
        if self.reference_channels.as_ref().is_some_and(Vec::is_empty) {
            return bad("--reference lists no channel".into());
        }
        Ok(())
    }
}

/// Checks `--eyes-closed-window A-B`: finite, `0 <= A < B`, at least one window long, and only
/// where eyes-closed data are kept.
fn check_eyes_closed_window(a: f64, b: f64, eyes_closed: bool, segment_s: f64) -> Result<(), String> {
    if !(a.is_finite() && b.is_finite() && a >= 0.0 && b > a) {
        return Err(format!(
            "--eyes-closed-window {a}-{b} must be FROM-TO seconds after each eyes-closed event with 0 <= FROM < TO"
        ));
    }
    if b - a < segment_s {
        return Err(format!(
            "--eyes-closed-window {a}-{b} is {} s long, shorter than one --segment-s {segment_s} window",
            b - a
        ));
    }
    if !eyes_closed {
        return Err(
            "--eyes-closed-window needs the eyes-closed periods (it cannot go with --all-periods)".into()
        );
    }
    Ok(())
}

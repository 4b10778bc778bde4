//! Errors of the DSP API: every variant names the parameter, sample or channel at fault.

use thiserror::Error;

/// What went wrong when designing or applying a filter, resampling or estimating a spectrum.
///
/// Every user-provided parameter is checked and reported through this type; no function of
/// this crate panics on bad parameters or bad samples.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum DspError {
    /// The sampling rate is not a finite positive number.
    #[error("sampling rate must be finite and > 0 Hz, got {fs}")]
    SamplingRate {
        /// the rejected sampling rate (Hz)
        fs: f64,
    },
    /// A cut-off or band edge is not strictly between 0 and the Nyquist frequency.
    #[error("{what} = {freq} Hz must lie strictly between 0 and the Nyquist frequency {nyquist} Hz")]
    Cutoff {
        /// which frequency (e.g. "low cut-off", "band-pass upper edge")
        what: &'static str,
        /// the rejected frequency (Hz)
        freq: f64,
        /// half the sampling rate (Hz)
        nyquist: f64,
    },
    /// A band's lower edge is not below its upper edge.
    #[error("band {name}: lower edge {lo} Hz must be below upper edge {hi} Hz")]
    BandEdges {
        /// the band's name (or the filter kind)
        name: String,
        /// lower edge (Hz)
        lo: f64,
        /// upper edge (Hz)
        hi: f64,
    },
    /// A filter order of zero (or too large to be designed accurately).
    #[error("filter order must be between 1 and {max}, got {order}")]
    Order {
        /// the rejected order
        order: usize,
        /// the largest supported order
        max: usize,
    },
    /// The signal is too short for the requested operation.
    #[error("{what}: signal has {len} samples, needs more than {needed}")]
    TooShort {
        /// the operation (e.g. "sosfiltfilt edge padding")
        what: &'static str,
        /// samples in the signal
        len: usize,
        /// the minimum, exclusive
        needed: usize,
    },
    /// A sample is NaN or infinite.
    #[error("sample {index} is not finite ({value})")]
    NonFinite {
        /// index of the first offending sample in its channel
        index: usize,
        /// its value
        value: f64,
    },
    /// An error in one channel of a multi-channel call.
    #[error("channel {channel}: {cause}")]
    Channel {
        /// index of the channel
        channel: usize,
        /// the error in that channel (shown in the message, so not chained as a source)
        cause: Box<DspError>,
    },
    /// Channels of a multi-channel call differ in length.
    #[error("channel {channel} has {len} samples, channel 0 has {expected}")]
    RaggedChannels {
        /// index of the first channel whose length differs
        channel: usize,
        /// its length
        len: usize,
        /// the length of channel 0
        expected: usize,
    },
    /// A channel index is out of range.
    #[error("{what}: channel index {index} out of range for {n_channels} channels")]
    ChannelIndex {
        /// where the index was given (e.g. "reference channels")
        what: &'static str,
        /// the rejected index
        index: usize,
        /// the number of channels
        n_channels: usize,
    },
    /// A parameter is outside its valid range.
    #[error("{name} = {value} is invalid: {expected}")]
    Parameter {
        /// the parameter's name
        name: &'static str,
        /// its value, formatted
        value: String,
        /// what is expected
        expected: &'static str,
    },
    /// Two electrodes are at the same direction (closer than [`crate::MIN_ELECTRODE_ANGLE`]).
    #[error("electrodes {first} and {second} are at the same position on the sphere")]
    CoincidentElectrodes {
        /// index of the first electrode
        first: usize,
        /// index of the second electrode
        second: usize,
    },
    /// An empty input where at least one element is required.
    #[error("{what} is empty")]
    Empty {
        /// what is empty
        what: &'static str,
    },
}

/// Result type of this crate.
pub type Result<T> = std::result::Result<T, DspError>;

impl DspError {
    /// Wraps this error with the index of the channel it happened in.
    pub fn in_channel(self, channel: usize) -> Self {
        DspError::Channel { channel, cause: Box::new(self) }
    }
}

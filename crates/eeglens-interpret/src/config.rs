//! [`InterpretConfig`]: which methods run, on which windows, with which settings.

use eeglens_data::store::Split;
use eeglens_dsp::{eeg_bands, Band};
use eeglens_nn::Precision;
use serde::{Deserialize, Serialize};

use crate::error::InterpretError;
use crate::regression::OutputScale;

/// One of the three interpretation methods.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// the windows the network is most sure of, per class
    Optimal,
    /// gradient ascent on the input
    Actmax,
    /// projection of an activation back to the input (deconvnet and variants)
    Deconv,
}

impl Method {
    /// All three, in the order they run and appear in `interpret.json`.
    pub const ALL: [Method; 3] = [Method::Optimal, Method::Actmax, Method::Deconv];

    /// The name used on the command line and as the JSON key.
    pub fn name(self) -> &'static str {
        match self {
            Method::Optimal => "optimal",
            Method::Actmax => "actmax",
            Method::Deconv => "deconv",
        }
    }

    /// Parses `optimal`, `actmax`, `deconv`, or `all` (all three).
    pub fn parse_list(s: &str) -> Option<Vec<Method>> {
        match s.to_ascii_lowercase().as_str() {
            "all" => Some(Method::ALL.to_vec()),
            "optimal" => Some(vec![Method::Optimal]),
            "actmax" => Some(vec![Method::Actmax]),
            "deconv" => Some(vec![Method::Deconv]),
            _ => None,
        }
    }
}

/// What activation maximisation maximises for a class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassObjective {
    /// the class's logit
    Logit,
    /// the class's logit minus the mean of the other logits (the default:
    /// logits of a softmax are defined up to a shared offset)
    LogitDifference,
}

/// How the input of activation maximisation is parameterised.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Parameterisation {
    /// the samples themselves
    Samples,
    /// Fourier coefficients per channel scaled by `1 / max(f, f_min)`, so the
    /// same step moves slow components more than fast ones (EEG is 1/f)
    Spectral {
        /// below this frequency (Hz) the scale stays flat
        f_min: f64,
    },
    /// a log gain per channel and band (the reading's bands) applied to
    /// real windows: per channel, the pattern is `irfft(exp(g_k) * rfft(x0))`
    /// with `g_k` the sum of the gains of the bands holding bin `k` (0
    /// outside them), `x0` a window of the split; the gains (starting at 0)
    /// are what is optimised. The pattern stays real EEG re-weighted in
    /// frequency and place, so the network is asked which bands, where, it
    /// wants more or less of — not which out-of-distribution input drives
    /// it hardest (free patterns of R-VGG fill up with fast components the
    /// data never have). A restart is one set of gains shared by
    /// `windows_per_restart` windows; every class uses the same windows,
    /// which alternate between the classes and spread over subjects.
    /// Clipping does not apply; smoothing is refused.
    Gains,
}

/// Back-projection rule at rectifiers: what distinguishes the deconvnet from
/// its two variants (everything else — transposed convolutions, unpooling by
/// switches — is shared).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackRule {
    /// Zeiler & Fergus: rectify the signal going back (`max(g, 0)`), ignoring the forward pass
    Deconvnet,
    /// Springenberg et al.: pass where both the forward input and the signal are positive
    Guided,
    /// the plain gradient (`g` where the forward input is positive)
    Saliency,
}

impl BackRule {
    /// The name used in JSON and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            BackRule::Deconvnet => "deconvnet",
            BackRule::Guided => "guided",
            BackRule::Saliency => "saliency",
        }
    }
}

/// Which part of a unit's activation the deconvnet keeps before projecting it back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Keep {
    /// only the strongest location of the unit's map (Zeiler & Fergus)
    Strongest,
    /// the unit's whole map
    Map,
}

/// A unit to read on its own: a channel of a layer's output (or a feature of a linear layer).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitRef {
    /// the layer's name, e.g. `features.14`
    pub layer: String,
    /// channel (or feature) index within the layer's output
    pub unit: usize,
}

/// Settings of activation maximisation.
///
/// The defaults optimise the samples themselves, starting most restarts from
/// white noise at the data's scale: the spectral reading compares the two
/// classes' patterns band by band and channel by channel, and both choices
/// keep that comparison about the network. A 1/f parameterisation
/// ([`Parameterisation::Spectral`]) moves every Fourier coefficient by about
/// the same step under Adam, so it piles each pattern's power into the lowest
/// band whatever the network prefers; near-zero starts leave the channels a
/// class does not use almost empty, and their log ratios then measure the
/// leftover start. (On synthetic data with beta planted at parietal
/// electrodes, the 1/f parameterisation with small starts read delta.)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActmaxConfig {
    /// what a class pattern maximises
    pub objective: ClassObjective,
    /// restarts per class (or unit), run together in one batch. Under
    /// [`Parameterisation::Gains`] a restart is one set of gains on its own
    /// windows; otherwise restart 0 starts from zeros, 1 from the data
    /// mean, the rest from small noise
    pub restarts: usize,
    /// gradient-ascent steps
    pub steps: usize,
    /// Adam step size, in units of the data's standard deviation
    pub lr: f64,
    /// L2 decay on the parameters, added to the objective's gradient scaled
    /// to unit RMS: free patterns settle near an RMS of `1 / l2` data
    /// standard deviations, gains near an RMS of `1 / l2` (default 10: gains
    /// stay near the data; free patterns want about 1)
    pub l2: f64,
    /// largest random circular time shift per step, in samples (0: none)
    pub jitter: usize,
    /// Gaussian smoothing of the pattern along time after each step,
    /// standard deviation in samples (0: none)
    pub smooth: f64,
    /// how the input is parameterised
    pub param: Parameterisation,
    /// clip the pattern to the data's amplitude range after each step
    pub clip: bool,
    /// standard deviation of the noise restarts, in units of the data's
    pub init_noise: f64,
    /// under [`Parameterisation::Gains`], the windows one restart's gains
    /// are applied to together (their mean objective is maximised)
    pub windows_per_restart: usize,
}

impl Default for ActmaxConfig {
    fn default() -> Self {
        Self {
            objective: ClassObjective::LogitDifference,
            restarts: 8,
            steps: 100,
            lr: 0.05,
            l2: 10.0,
            jitter: 8,
            smooth: 0.0,
            param: Parameterisation::Gains,
            clip: true,
            init_noise: 1.0,
            windows_per_restart: 8,
        }
    }
}

/// Which output the windows of each class are projected back from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeconvSeed {
    /// each class's windows from their own class (Zeiler & Fergus; the
    /// paper): the two groups of maps then pass through different paths of
    /// the network, so their contrast mixes the data with the paths
    Class,
    /// every window from the same output (the second class's logit
    /// difference): both groups pass through the same path, so what differs
    /// between their maps comes from the windows; the default for R-VGG-BN
    /// ([`DeconvConfig::for_model`])
    Shared,
}

impl DeconvSeed {
    /// The name used in JSON and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            DeconvSeed::Class => "class",
            DeconvSeed::Shared => "shared",
        }
    }
}

/// Settings of the deconvnet and its variants.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeconvConfig {
    /// rule at rectifiers
    pub rule: BackRule,
    /// what a unit keeps before projection (classes keep their logit difference)
    pub keep: Keep,
    /// which output each class's windows are projected from
    pub seed: DeconvSeed,
    /// read each map multiplied sample by sample with its window (the
    /// window's content weighted by what the network projects back onto it)
    /// instead of the map alone
    pub times_input: bool,
}

impl Default for DeconvConfig {
    fn default() -> Self {
        Self { rule: BackRule::Deconvnet, keep: Keep::Strongest, seed: DeconvSeed::Class, times_input: false }
    }
}

/// The zoo models whose deconvnet reads best from the shared seed.
pub const SHARED_SEED_MODELS: [&str; 1] = ["rvgg-bn"];

impl DeconvConfig {
    /// The default reading for the model named `model`: the shared seed for
    /// [`SHARED_SEED_MODELS`], the paper's own-class seed for every other.
    ///
    /// On the planted-effect grid (VALIDATION.md, "The deconvnet's variants")
    /// the shared seed named the planted band in 17 of 25 learned R-VGG-BN
    /// cells against 6, with 5 wrong claims against 15; with ShallowConvNet
    /// the two readings were identical; with a small CNN on posterior beta
    /// (`tests/interpret_synthetic.rs`) the shared seed claimed theta where
    /// the paper's reading names beta. So it is the default only where it was
    /// shown better.
    ///
    /// Every model reads the map alone. ShallowConvNet read its maps times
    /// the window while the deconvnet took the local gradient at its
    /// logarithm (maps divided by their own power); passed through instead
    /// ([`crate::deconv`]), the map alone named the planted band in 24 of 38
    /// learned ShallowConvNet runs of the validation grid against 9 times the
    /// window and 10 for the earlier reading (VALIDATION.md, "The deconvnet
    /// through ShallowConvNet's logarithm").
    pub fn for_model(model: &str) -> Self {
        let seed = if SHARED_SEED_MODELS.contains(&model) { DeconvSeed::Shared } else { DeconvSeed::Class };
        Self { seed, ..Self::default() }
    }

    /// A short name of the variant: `deconvnet` (the paper's: own-class
    /// seed, the map alone), `deconvnet/shared`, `deconvnet/class×input`, ...
    pub fn variant_name(&self) -> String {
        let mut s = self.rule.name().to_string();
        if self.seed != DeconvSeed::Class || self.times_input {
            s.push('/');
            s.push_str(self.seed.name());
        }
        if self.times_input {
            s.push_str("×input");
        }
        s
    }
}

/// Everything [`crate::run`](fn@crate::run) needs besides the model and the data.
#[derive(Clone, Debug, PartialEq)]
pub struct InterpretConfig {
    /// methods to run
    pub methods: Vec<Method>,
    /// windows read by optimal samples and the deconvnet (and whose
    /// statistics set actmax's scale), default test
    pub split: Split,
    /// also read the windows of this held-out split (validation with test:
    /// more subjects behind every reading). `model.learned` and the floor of
    /// every p-value stay on `split` alone (the validation split chose the
    /// best epoch, so the network looks better there than it is). Not the
    /// default: on the validation grid reading validation with test named
    /// the planted band about as often as test alone (VALIDATION.md). Never
    /// `train`; ignored when it is `split` itself.
    pub also: Option<Split>,
    /// windows per class (or unit) kept by optimal samples and the deconvnet
    pub k: usize,
    /// keep only correctly classified windows among a class's optimal samples
    pub correct_only: bool,
    /// spread a class's optimal samples over subjects: at most `ceil(k / s)`
    /// windows of one subject, `s` the subjects of that class in the split.
    /// Windows of one subject share its traits (alpha peak and amplitude,
    /// gain, 1/f slope); when the one or two subjects the network is surest
    /// of supply all of a class's samples, the contrast reads them as much
    /// as the class. Off: the `k` most probable windows, wherever they come from.
    pub spread_subjects: bool,
    /// how optimal samples pick their top band among the significant bands
    /// ([`crate::spectral::Rank`]; default `Z`, chosen on the validation grid);
    /// activation maximisation ranks by contrast (by `z` it named the planted
    /// band in 17 of 48 learned grid runs against 42: VALIDATION.md)
    pub optimal_rank: crate::spectral::Rank,
    /// optimal samples test their bands by permuting the classes of their
    /// subjects (each subject's windows of one class moving together:
    /// [`crate::spectral::read_units`]) instead of single windows. Off by
    /// default: on the validation grid it halves the wrong bands claimed
    /// (21 to 11 over 94 learned runs) but names the planted band less often
    /// (65 to 57); VALIDATION.md, "Optimal samples tested on their subjects"
    pub optimal_by_subject: bool,
    /// how the deconvnet picks its top band among the significant bands
    /// (default `Z`: on the validation grid's learned ShallowConvNet runs it
    /// named the planted band in 24 of 38 against 17 by contrast, and as
    /// often with R-VGG-BN, 16 of 26; VALIDATION.md, "The deconvnet through
    /// ShallowConvNet's logarithm")
    pub deconv_rank: crate::spectral::Rank,
    /// also read this unit on its own
    pub unit: Option<UnitRef>,
    /// bands of the spectral reading
    pub bands: Vec<Band>,
    /// significance level of the band contrasts
    pub alpha: f64,
    /// permutations of each permutation test
    pub permutations: usize,
    /// seed of everything random (restarts, jitter, permutations)
    pub seed: u64,
    /// windows per forward pass when scoring a split
    pub batch: usize,
    /// arithmetic of the forward passes that only need the network's
    /// outputs: the scoring of the windows read (class probabilities, a
    /// regression's predictions, a unit's mean activation), which decides
    /// the network's verdict (`model.learned`, the floor of every p) and
    /// which windows are optimal samples (and so what the deconvnet
    /// projects). [`Precision::Fp32`] (the default) is the reference;
    /// [`Precision::Bf16`] runs the convolutions' and linear layers'
    /// products in bf16 with fp32 sums where the CPU has AVX512_BF16 (AMX
    /// tiles where it has them), and in fp32 elsewhere
    /// ([`eeglens_nn::Predictor`]); `interpret.json`'s `precision` says
    /// which ran. Activation maximisation and the deconvnet need gradients
    /// or a recorded forward pass (activations, pooling switches): they
    /// always run in fp32.
    pub precision: Precision,
    /// activation-maximisation settings
    pub actmax: ActmaxConfig,
    /// deconvnet settings
    pub deconv: DeconvConfig,
    /// run the methods even when the model's accuracy on the split is not
    /// above chance (`model.learned` false); their readings then say nothing
    /// about the data
    pub read_anyway: bool,
    /// a regression's standardisation (the run's), so that predictions are
    /// reported in the target's unit; `None`: the network's output as it is.
    /// Ignored for classes.
    pub output_scale: Option<OutputScale>,
}

impl Default for InterpretConfig {
    fn default() -> Self {
        Self {
            methods: Method::ALL.to_vec(),
            split: Split::Test,
            also: None,
            k: 20,
            correct_only: false,
            spread_subjects: true,
            optimal_rank: crate::spectral::Rank::Z,
            optimal_by_subject: false,
            deconv_rank: crate::spectral::Rank::Z,
            unit: None,
            bands: eeg_bands(),
            alpha: 0.05,
            permutations: 2000,
            seed: 0,
            batch: 64,
            precision: Precision::Fp32,
            actmax: ActmaxConfig::default(),
            deconv: DeconvConfig::default(),
            read_anyway: false,
            output_scale: None,
        }
    }
}

impl InterpretConfig {
    /// The windows read, by name: `test`, or `test+val` with [`InterpretConfig::also`].
    pub fn split_name(&self) -> String {
        match self.extra() {
            Some(a) => format!("{}+{}", self.split.name(), a.name()),
            None => self.split.name().to_string(),
        }
    }

    /// The split read besides `split`: [`InterpretConfig::also`] unless it is `split` itself.
    pub fn extra(&self) -> Option<Split> {
        self.also.filter(|&a| a != self.split)
    }

    /// Checks the settings that do not depend on the model or the data.
    ///
    /// # Errors
    /// [`InterpretError::Config`] naming the field.
    pub fn validate(&self) -> Result<(), InterpretError> {
        let bad = |field: &'static str, value: String, expected: &str| {
            Err(InterpretError::Config { field, value, expected: expected.to_string() })
        };
        if self.methods.is_empty() {
            return bad("methods", "[]".into(), "at least one method");
        }
        if let Some(also) = self.also {
            if also == Split::Train {
                return bad("also", also.name().into(), "a held-out split (val with test)");
            }
        }
        if self.k < 2 {
            return bad("k", self.k.to_string(), "at least 2 windows per class");
        }
        if self.bands.is_empty() {
            return bad("bands", "[]".into(), "at least one band");
        }
        if !(self.alpha > 0.0 && self.alpha < 1.0) {
            return bad("alpha", self.alpha.to_string(), "a significance level in (0, 1)");
        }
        if self.permutations < 19 {
            return bad("permutations", self.permutations.to_string(), "at least 19");
        }
        if self.batch == 0 {
            return bad("batch", "0".into(), "at least 1");
        }
        let a = &self.actmax;
        if a.restarts < 2 {
            return bad("actmax.restarts", a.restarts.to_string(), "at least 2 restarts per class");
        }
        if a.steps == 0 {
            return bad("actmax.steps", "0".into(), "at least 1 step");
        }
        if !(a.lr > 0.0 && a.lr.is_finite()) {
            return bad("actmax.lr", a.lr.to_string(), "a positive step size");
        }
        if !(a.l2 >= 0.0 && a.l2.is_finite()) {
            return bad("actmax.l2", a.l2.to_string(), "a decay >= 0");
        }
        if !(a.smooth >= 0.0 && a.smooth.is_finite()) {
            return bad("actmax.smooth", a.smooth.to_string(), "a width >= 0 samples");
        }
        if a.param == Parameterisation::Gains && a.smooth > 0.0 {
            return bad(
                "actmax.smooth",
                a.smooth.to_string(),
                "0 with the gains parameterisation (it smooths samples)",
            );
        }
        if let Parameterisation::Spectral { f_min } = a.param {
            if !(f_min > 0.0 && f_min.is_finite()) {
                return bad("actmax.param.f_min", f_min.to_string(), "a positive frequency");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shared_seed_is_the_default_only_where_the_grid_showed_it_better() {
        assert_eq!(DeconvConfig::for_model("rvgg-bn").seed, DeconvSeed::Shared);
        assert!(!DeconvConfig::for_model("rvgg-bn").times_input);
        for m in ["rvgg", "shallow", "eegnet", "vanputten", "a model trained elsewhere"] {
            assert_eq!(DeconvConfig::for_model(m), DeconvConfig::default(), "{m}");
        }
        assert_eq!(DeconvConfig::default().variant_name(), "deconvnet", "the paper's reading");
    }
}

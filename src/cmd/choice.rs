//! The fixed choices of the flags, as clap knows them: `--help` lists them
//! and a value outside them is a usage error (exit 2) naming the valid ones.
//!
//! Model names belong to the zoo (`eeglens_nn::models::MODEL_NAMES`, with
//! `eeglens_train::select::AUTO` where selection is allowed), so their parsers
//! are built from that list rather than repeated here. Every other choice is
//! a [`clap::ValueEnum`] that converts into the library's own type; its names
//! and aliases are the ones the libraries' `parse` functions accept.

use clap::builder::PossibleValuesParser;
use clap::ValueEnum;
use eeglens_data::store::Split;
use eeglens_interpret::{BackRule, DeconvSeed, Method, Parameterisation};
use eeglens_nn::models::MODEL_NAMES;
use eeglens_nn::{Init, Precision};
use eeglens_train::{select, Monitor, OptimizerName};

/// `--model` where one zoo model is needed (`forward`, `bench`).
pub fn zoo_model() -> PossibleValuesParser {
    PossibleValuesParser::new(MODEL_NAMES)
}

/// `--model` where model selection is allowed too (`train`, `validate`, `demo`).
pub fn zoo_model_or_auto() -> PossibleValuesParser {
    PossibleValuesParser::new(std::iter::once(select::AUTO).chain(MODEL_NAMES))
}

/// `--precision` of `eval`, `interpret` and `bench`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrecisionArg {
    /// 32-bit floats throughout
    Fp32,
    /// bf16 products, fp32 sums (AMX or AVX512_BF16)
    Bf16,
}

impl PrecisionArg {
    /// The precision that runs for this flag in this process: bf16 falls back
    /// to fp32 (saying why, once, on stderr) where the kernels cannot run it.
    /// Call it once per command: each call says it again.
    pub fn resolve(self) -> Precision {
        if self == PrecisionArg::Fp32 {
            return Precision::Fp32;
        }
        let config = eeglens_autodiff::kernels::KernelConfig::of_process();
        match config.bf16_missing() {
            None => {
                // AMX off or refused on a CPU that has it: said, since that path is slower.
                if let Some(why) = config.amx_missing() {
                    eprintln!("eeglens: --precision bf16 runs on AVX512_BF16, not AMX: {why}");
                }
                Precision::Bf16
            }
            Some(why) => {
                eprintln!("eeglens: --precision bf16 runs in fp32: {why}");
                Precision::Fp32
            }
        }
    }
}

impl From<PrecisionArg> for Precision {
    /// The precision asked for, before [`PrecisionArg::resolve`] checks the CPU.
    fn from(p: PrecisionArg) -> Self {
        match p {
            PrecisionArg::Fp32 => Precision::Fp32,
            PrecisionArg::Bf16 => Precision::Bf16,
        }
    }
}

/// `train --optimizer`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptimizerArg {
    /// Adam, betas 0.9/0.99
    Adam,
    /// Adam with decoupled weight decay
    Adamw,
    /// Adamax (infinity norm)
    Adamax,
    /// plain stochastic gradient descent
    Sgd,
}

impl From<OptimizerArg> for OptimizerName {
    fn from(o: OptimizerArg) -> Self {
        match o {
            OptimizerArg::Adam => OptimizerName::Adam,
            OptimizerArg::Adamw => OptimizerName::AdamW,
            OptimizerArg::Adamax => OptimizerName::Adamax,
            OptimizerArg::Sgd => OptimizerName::Sgd,
        }
    }
}

/// `train --init`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum InitArg {
    /// PyTorch's default (the zoo's)
    Pytorch,
    /// He (kaiming) normal
    #[value(alias = "kaiming")]
    He,
    /// Xavier (Glorot) uniform
    #[value(alias = "glorot")]
    Xavier,
}

impl From<InitArg> for Init {
    fn from(i: InitArg) -> Self {
        match i {
            InitArg::Pytorch => Init::PytorchDefault,
            InitArg::He => Init::HeNormal,
            InitArg::Xavier => Init::XavierUniform,
        }
    }
}

/// `train --monitor`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum MonitorArg {
    /// validation loss (lower is better)
    #[value(name = "val_loss", alias = "loss")]
    Loss,
    /// validation accuracy
    #[value(name = "val_accuracy", alias = "accuracy")]
    Accuracy,
    /// validation balanced accuracy
    #[value(name = "val_balanced_accuracy", alias = "balanced_accuracy")]
    BalancedAccuracy,
    /// validation area under the ROC curve
    #[value(name = "val_auc", alias = "auc")]
    Auc,
}

impl From<MonitorArg> for Monitor {
    fn from(m: MonitorArg) -> Self {
        match m {
            MonitorArg::Loss => Monitor::ValLoss,
            MonitorArg::Accuracy => Monitor::ValAccuracy,
            MonitorArg::BalancedAccuracy => Monitor::ValBalancedAccuracy,
            MonitorArg::Auc => Monitor::ValAuc,
        }
    }
}

/// `eval --split`: one split of the store.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SplitArg {
    /// the held-out test subjects
    Test,
    /// the validation subjects
    #[value(alias = "valid", alias = "validation")]
    Val,
    /// the training subjects
    Train,
}

impl From<SplitArg> for Split {
    fn from(s: SplitArg) -> Self {
        match s {
            SplitArg::Test => Split::Test,
            SplitArg::Val => Split::Val,
            SplitArg::Train => Split::Train,
        }
    }
}

/// `interpret --split`: one split, or every held-out subject.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadSplitArg {
    /// the held-out test subjects only
    Test,
    /// the validation subjects
    #[value(alias = "valid", alias = "validation")]
    Val,
    /// every held-out subject (validation and test); the verdict stays on test
    #[value(name = "val+test", alias = "test+val")]
    ValTest,
    /// the training subjects
    Train,
}

impl ReadSplitArg {
    /// The split read, and the one read with it.
    pub fn splits(self) -> (Split, Option<Split>) {
        match self {
            ReadSplitArg::Test => (Split::Test, None),
            ReadSplitArg::Val => (Split::Val, None),
            ReadSplitArg::ValTest => (Split::Test, Some(Split::Val)),
            ReadSplitArg::Train => (Split::Train, None),
        }
    }
}

/// `interpret --method`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum MethodArg {
    /// optimal samples, activation maximisation and the deconvnet
    All,
    /// the windows the network is most sure of, per class
    Optimal,
    /// activation maximisation
    Actmax,
    /// the deconvnet (or --rule's variant)
    Deconv,
}

impl MethodArg {
    /// The methods to run, in their order.
    pub fn methods(self) -> Vec<Method> {
        match self {
            MethodArg::All => Method::ALL.to_vec(),
            MethodArg::Optimal => vec![Method::Optimal],
            MethodArg::Actmax => vec![Method::Actmax],
            MethodArg::Deconv => vec![Method::Deconv],
        }
    }
}

/// `interpret --actmax-param`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActmaxParamArg {
    /// per-electrode, per-band gains of real windows
    Gains,
    /// the samples themselves
    Samples,
    /// 1/f-scaled Fourier coefficients
    Spectral,
}

impl From<ActmaxParamArg> for Parameterisation {
    fn from(p: ActmaxParamArg) -> Self {
        match p {
            ActmaxParamArg::Gains => Parameterisation::Gains,
            ActmaxParamArg::Samples => Parameterisation::Samples,
            ActmaxParamArg::Spectral => Parameterisation::Spectral { f_min: 1.0 },
        }
    }
}

/// `interpret --rule`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleArg {
    /// Zeiler and Fergus: ReLU on the signal going back; a logarithm (ShallowConvNet's) passes it unchanged
    Deconvnet,
    /// guided back-propagation
    Guided,
    /// the gradient (saliency), also through a logarithm (ShallowConvNet's earlier deconvnet)
    Saliency,
}

impl From<RuleArg> for BackRule {
    fn from(r: RuleArg) -> Self {
        match r {
            RuleArg::Deconvnet => BackRule::Deconvnet,
            RuleArg::Guided => BackRule::Guided,
            RuleArg::Saliency => BackRule::Saliency,
        }
    }
}

/// `interpret --deconv-seed`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeconvSeedArg {
    /// each class's windows from their own class's output (the paper)
    Class,
    /// the same output for every window
    Shared,
}

/// `--optimal-permute`: the unit of the band test of optimal samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PermuteArg {
    /// each window's class drawn alone
    Windows,
    /// each subject's windows of one class moving together
    Subjects,
}

/// `--optimal-rank`, `--deconv-rank`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RankArg {
    /// bands tested on their raw contrast; the top band the significant one of largest contrast
    Contrast,
    /// bands tested on their contrast against their own permutation spread (z); the top band the
    /// significant one of largest z
    Z,
}

impl From<RankArg> for eeglens_interpret::spectral::Rank {
    fn from(r: RankArg) -> Self {
        match r {
            RankArg::Contrast => Self::Contrast,
            RankArg::Z => Self::Z,
        }
    }
}

impl From<DeconvSeedArg> for DeconvSeed {
    fn from(s: DeconvSeedArg) -> Self {
        match s {
            DeconvSeedArg::Class => DeconvSeed::Class,
            DeconvSeedArg::Shared => DeconvSeed::Shared,
        }
    }
}

/// `prepare --normalise`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum NormaliseArg {
    /// per recording: channel means removed, one shared scale
    #[value(alias = "per-recording")]
    Recording,
    /// per window: channel means removed, one shared scale
    #[value(alias = "per-segment")]
    Segment,
    /// keep µV
    None,
}

impl From<NormaliseArg> for eeglens_data::prepare::Normalise {
    fn from(n: NormaliseArg) -> Self {
        use eeglens_data::prepare::Normalise;
        match n {
            NormaliseArg::Recording => Normalise::Recording,
            NormaliseArg::Segment => Normalise::Segment,
            NormaliseArg::None => Normalise::None,
        }
    }
}

/// `prepare --reference`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReferenceArg {
    /// the average of the channels kept
    Average,
    /// the recording's own reference
    None,
}

/// `synth --format`: the formats eeglens writes. EEGLAB and BrainVision are
/// accepted by name, hidden, so that the library refuses them with its reason
/// (they are read, not written).
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SynthFormatArg {
    /// EDF+ (16-bit)
    Edf,
    /// BDF+ (24-bit)
    Bdf,
    /// EEGLAB .set + .fdt, HBN-shaped (HBN's event codes and participants.tsv columns)
    Set,
    /// BrainVision (read only)
    #[value(hide = true)]
    Vhdr,
}

impl SynthFormatArg {
    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            SynthFormatArg::Edf => "edf",
            SynthFormatArg::Bdf => "bdf",
            SynthFormatArg::Set => "set",
            SynthFormatArg::Vhdr => "vhdr",
        }
    }
}

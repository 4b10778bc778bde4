//! [`TrainConfig`]: every setting of a training run, with the command line's defaults.

use eeglens_nn::models::MODEL_NAMES;
use eeglens_nn::optim::OptimizerKind;
use eeglens_nn::{Init, OptimizerConfig, Schedule};
use serde::{Deserialize, Serialize};

use crate::error::TrainError;

/// The update rule, by its command-line name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptimizerName {
    /// Adam (L2 weight decay added to the gradient)
    #[default]
    Adam,
    /// Adam with decoupled weight decay
    AdamW,
    /// Adam with the infinity norm (the R-VGG authors' PyTorch setting)
    Adamax,
    /// stochastic gradient descent with momentum
    Sgd,
}

impl OptimizerName {
    /// Parses `adam`, `adamw`, `adamax` or `sgd`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "adam" => Some(Self::Adam),
            "adamw" => Some(Self::AdamW),
            "adamax" => Some(Self::Adamax),
            "sgd" => Some(Self::Sgd),
            _ => None,
        }
    }

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Adam => "adam",
            Self::AdamW => "adamw",
            Self::Adamax => "adamax",
            Self::Sgd => "sgd",
        }
    }
}

/// The validation figure that early stopping and the best checkpoint follow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Monitor {
    /// mean validation cross-entropy (lower is better)
    #[default]
    ValLoss,
    /// validation accuracy per window
    ValAccuracy,
    /// validation balanced accuracy per window
    ValBalancedAccuracy,
    /// validation ROC AUC per window
    ValAuc,
}

impl Monitor {
    /// Parses `val_loss`, `val_accuracy`, `val_balanced_accuracy` or `val_auc`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().replace('-', "_").as_str() {
            "val_loss" | "loss" => Some(Self::ValLoss),
            "val_accuracy" | "accuracy" => Some(Self::ValAccuracy),
            "val_balanced_accuracy" | "balanced_accuracy" => Some(Self::ValBalancedAccuracy),
            "val_auc" | "auc" => Some(Self::ValAuc),
            _ => None,
        }
    }

    /// True when a larger value is better.
    pub fn maximise(self) -> bool {
        !matches!(self, Self::ValLoss)
    }
}

/// Every setting of a training run. `Default` gives the command line's defaults.
///
/// With `threads: Some(1)` a run is bit-for-bit reproducible from `seed`;
/// with more threads, results are reproducible for the same thread count (see
/// the crate documentation on determinism).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainConfig {
    /// zoo model name (`shallow`, `rvgg`, `rvgg-bn`, `vanputten`, `eegnet`,
    /// `logpower`); the default is [`DEFAULT_MODEL`]; `rvgg` is the paper's network
    pub model: String,
    /// number of passes over the training windows
    pub epochs: usize,
    /// windows per mini-batch
    pub batch: usize,
    /// update rule
    pub optimizer: OptimizerName,
    /// base learning rate
    pub lr: f64,
    /// take the learning rate from the model ([`model_lr`]) instead of `lr`: what
    /// `eeglens train` and `eeglens validate` do unless `--lr` is given, so that each
    /// candidate of `auto` trains at its own rate. [`TrainConfig::resolved`] sets `lr` to
    /// that rate before a run is written, so a run's `config.json` holds the rate used (and
    /// this flag, so that resuming a selection resolves each candidate again).
    #[serde(default, skip_serializing_if = "is_false")]
    pub lr_by_model: bool,
    /// weight decay (L2 for adam, adamax and sgd; decoupled for adamw)
    pub weight_decay: f32,
    /// `(beta1, beta2)`; `None`: 0.9/0.99 for adam (the seed group's MATLAB
    /// demo), PyTorch's 0.9/0.999 for adamw and adamax
    pub betas: Option<(f32, f32)>,
    /// momentum of sgd
    pub momentum: f32,
    /// learning-rate schedule over optimiser steps
    pub schedule: Schedule,
    /// clip the global gradient norm to this value
    pub clip_grad_norm: Option<f64>,
    /// seed of initialisation, shuffling and dropout
    pub seed: u64,
    /// re-draw every convolution and linear layer's weights with this scheme
    /// (`None`: the zoo model's own, PyTorch's default)
    pub init: Option<Init>,
    /// worker threads (`None`: one per core)
    pub threads: Option<usize>,
    /// stop after this many epochs without improvement of `monitor` (`None`: never)
    pub patience: Option<usize>,
    /// the validation figure followed by early stopping and the best checkpoint
    pub monitor: Monitor,
    /// draw each epoch's windows so that every class is seen equally often
    /// (the smaller classes' windows are repeated)
    pub balanced: bool,
    /// windows per batch when evaluating
    pub eval_batch: usize,
    /// epochs after which a network that learned nothing is re-initialised
    /// (see the stuck detection, [`crate::train::is_stuck`]); `None` never checks
    pub stuck_epochs: Option<usize>,
    /// at most this many re-initialisations of a stuck network
    pub restarts: usize,
    /// probability that a training window is mixed with a window of the same class from
    /// another subject (`sqrt(l) x_i + sqrt(1 - l) x_j`, `l ~ U(0, 1)`; see
    /// `train::mix`); 0 never mixes
    #[serde(skip_serializing_if = "is_zero")]
    pub mix: f64,
    /// fit the band-power baseline first and record it in the run (`baseline.json`)
    pub baseline: bool,
    /// the fold of a cross-validation this run is (`None`: the store's own
    /// split); the store must have been re-split with [`crate::folds::Fold::apply`]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fold: Option<crate::folds::Fold>,
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

fn is_false(v: &bool) -> bool {
    !*v
}

/// The base learning rate of the recipe (Adam, batch 40) for the zoo model `model`:
/// 2e-3 for `logpower`, 5e-4 for every other. LogPowerNet's filters start as noise and
/// must become band-pass filters: at 5e-4, 12 epochs of a grid cell (22 steps each) move a
/// weight at most 0.13, about its initial size, and on the validation grid's cells where
/// the deeper networks stayed near chance it reached 0.67 per window on average against
/// 0.77 at 2e-3 (VALIDATION.md, "LogPowerNet").
pub fn model_lr(model: &str) -> f64 {
    match model {
        "logpower" => 2e-3,
        _ => 5e-4,
    }
}

/// The library's single model ([`TrainConfig::default`]), the demo's, and the
/// command line's for numeric targets (where `auto` cannot rank candidates).
/// On the first planted-effect grid (VALIDATION.md) ShallowConvNet learned all 12
/// effects the band-power baseline decoded (two seeds) where the paper's R-VGG
/// stayed at chance on 3 and R-VGG with batch normalisation on 2; on later grids
/// with beta at every place, LogPowerNet (`logpower`, a candidate of `auto`)
/// learned more.
pub const DEFAULT_MODEL: &str = "shallow";

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            model: DEFAULT_MODEL.into(),
            epochs: 20,
            batch: 40,
            optimizer: OptimizerName::Adam,
            lr: 5e-4,
            lr_by_model: false,
            weight_decay: 0.0,
            betas: None,
            momentum: 0.9,
            schedule: Schedule::Constant,
            clip_grad_norm: None,
            seed: 0,
            init: None,
            threads: None,
            patience: Some(8),
            monitor: Monitor::ValLoss,
            balanced: false,
            eval_batch: 256,
            stuck_epochs: Some(5),
            restarts: 2,
            mix: 0.0,
            baseline: true,
            fold: None,
        }
    }
}

impl TrainConfig {
    /// These settings as a run is trained with them: with `lr_by_model`, `lr` becomes
    /// [`model_lr`] of `model` (a selection's `auto` is resolved per candidate, when each
    /// is trained).
    pub fn resolved(&self) -> Self {
        let mut c = self.clone();
        if c.lr_by_model && MODEL_NAMES.contains(&c.model.as_str()) {
            c.lr = model_lr(&c.model);
        }
        c
    }

    /// Checks the settings on their own (the data is checked by the training loop).
    ///
    /// # Errors
    /// [`TrainError::Config`] naming the setting.
    pub fn validate(&self) -> Result<(), TrainError> {
        let bad = |field, msg: String| Err(TrainError::Config { field, msg });
        if !MODEL_NAMES.contains(&self.model.as_str()) {
            return bad(
                "model",
                format!("unknown model `{}` (known: {})", self.model, MODEL_NAMES.join(", ")),
            );
        }
        if self.epochs == 0 {
            return bad("epochs", "must be at least 1".into());
        }
        if self.batch == 0 {
            return bad("batch", "must be at least 1".into());
        }
        if self.eval_batch == 0 {
            return bad("eval-batch", "must be at least 1".into());
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad("lr", format!("{} must be a positive number", self.lr));
        }
        if !(self.mix.is_finite() && (0.0..=1.0).contains(&self.mix)) {
            return bad("mix", format!("{} must be a probability, from 0 to 1", self.mix));
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return bad("weight-decay", format!("{} must be a number >= 0", self.weight_decay));
        }
        if let Some((b1, b2)) = self.betas {
            if !((0.0..1.0).contains(&b1) && (0.0..1.0).contains(&b2)) {
                return bad("betas", format!("({b1}, {b2}) must both be in [0, 1)"));
            }
        }
        if self.threads == Some(0) {
            return bad("threads", "must be at least 1".into());
        }
        if self.patience == Some(0) {
            return bad("patience", "must be at least 1 (or absent to never stop early)".into());
        }
        if self.stuck_epochs == Some(0) {
            return bad("stuck-epochs", "must be at least 1 (or absent to never check)".into());
        }
        if let Some(c) = self.clip_grad_norm {
            if !(c.is_finite() && c > 0.0) {
                return bad("clip-grad-norm", format!("{c} must be a positive number"));
            }
        }
        Ok(())
    }

    /// The optimiser these settings describe.
    pub fn optimizer_config(&self) -> OptimizerConfig {
        let eps = 1e-8;
        let kind = match self.optimizer {
            OptimizerName::Adam => {
                let (beta1, beta2) = self.betas.unwrap_or((0.9, 0.99));
                OptimizerKind::Adam { beta1, beta2, eps }
            }
            OptimizerName::AdamW => {
                let (beta1, beta2) = self.betas.unwrap_or((0.9, 0.999));
                OptimizerKind::AdamW { beta1, beta2, eps }
            }
            OptimizerName::Adamax => {
                let (beta1, beta2) = self.betas.unwrap_or((0.9, 0.999));
                OptimizerKind::Adamax { beta1, beta2, eps }
            }
            OptimizerName::Sgd => {
                OptimizerKind::Sgd { momentum: self.momentum, dampening: 0.0, nesterov: false }
            }
        };
        OptimizerConfig {
            kind,
            lr: self.lr,
            weight_decay: self.weight_decay,
            clip_grad_norm: self.clip_grad_norm,
            schedule: self.schedule.clone(),
        }
    }
}

/// Worker threads per core beyond which more threads only cost memory and
/// start-up time (tens of thousands of threads take minutes to start, or
/// exhaust the system's limit).
pub const MAX_THREADS_PER_CORE: usize = 4;

/// The most worker threads a run uses on this machine:
/// [`MAX_THREADS_PER_CORE`] per core. [`crate::train_with`] caps
/// [`TrainConfig::threads`] there.
pub fn max_threads() -> usize {
    MAX_THREADS_PER_CORE * std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_seed_groups_adam_and_adamax_reproduces_their_pytorch() {
        let c = TrainConfig::default();
        assert!(c.validate().is_ok());
        assert_eq!((c.batch, c.lr, c.optimizer), (40, 5e-4, OptimizerName::Adam));
        assert_eq!(c.optimizer_config().kind, OptimizerKind::Adam { beta1: 0.9, beta2: 0.99, eps: 1e-8 });
        let pt = TrainConfig { optimizer: OptimizerName::Adamax, lr: 0.002, weight_decay: 0.001, ..c };
        assert_eq!(pt.optimizer_config(), OptimizerConfig::adamax(0.002, 0.001));
    }

    #[test]
    fn bad_settings_name_the_flag() {
        let e = TrainConfig { batch: 0, ..TrainConfig::default() }.validate().unwrap_err().to_string();
        assert!(e.contains("`batch`"), "{e}");
        let e = TrainConfig { model: "resnet".into(), ..TrainConfig::default() }.validate().unwrap_err();
        assert!(e.to_string().contains("unknown model `resnet`"), "{e}");
        let e = TrainConfig { lr: f64::NAN, ..TrainConfig::default() }.validate().unwrap_err();
        assert!(e.to_string().contains("`lr`"), "{e}");
    }

    #[test]
    fn config_roundtrips_through_json() {
        let c = TrainConfig { threads: Some(1), betas: Some((0.8, 0.9)), ..TrainConfig::default() };
        let s = serde_json::to_string(&c).expect("serialise");
        assert_eq!(serde_json::from_str::<TrainConfig>(&s).expect("parse"), c);
    }
}

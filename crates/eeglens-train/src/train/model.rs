//! The random streams of a run and the model each attempt starts from.

use eeglens_autodiff::Rng;
use eeglens_data::store::EpochStore;
use eeglens_nn::init::reinit;
use eeglens_nn::models::{build, ModelSpec};
use eeglens_nn::Sequential;

use crate::config::TrainConfig;
use crate::error::TrainError;

/// Random stream of the initial weights.
const INIT_STREAM: u64 = 0x1417;
/// Random stream of the epochs' window orders.
pub(super) const SHUFFLE_STREAM: u64 = 0x5408;
/// Random stream of the dropout masks.
pub(super) const DROPOUT_STREAM: u64 = 0xD809;
/// Random stream of the within-class mixing of training windows.
pub(super) const MIX_STREAM: u64 = 0x313C;
/// Stream (plus the attempt number) of a re-initialised attempt.
const RESTART_STREAM: u64 = 0x5E57_0000;

pub(super) fn build_model(cfg: &TrainConfig, store: &EpochStore) -> Result<Sequential, TrainError> {
    build_model_attempt(cfg, store, 0)
}

/// The random stream of attempt `attempt` of a run seeded `seed`: the seed's
/// own for the first attempt, a fork of it for each re-initialisation.
pub fn attempt_rng(seed: u64, attempt: usize) -> Rng {
    let base = Rng::new(seed);
    if attempt == 0 {
        base
    } else {
        base.fork(RESTART_STREAM.wrapping_add(attempt as u64))
    }
}

pub(super) fn build_model_attempt(
    cfg: &TrainConfig,
    store: &EpochStore,
    attempt: usize,
) -> Result<Sequential, TrainError> {
    let spec = ModelSpec {
        n_channels: store.n_channels(),
        n_samples: store.n_samples(),
        // A regression has one output: the standardised target.
        n_classes: if store.target().is_some() { 1 } else { store.meta().classes.len().max(1) },
    };
    let mut rng = attempt_rng(cfg.seed, attempt).fork(INIT_STREAM);
    let mut model = build(&cfg.model, &spec, &mut rng).map_err(|cause| TrainError::ModelShape {
        model: cfg.model.clone(),
        data: store.path().to_path_buf(),
        n_channels: spec.n_channels,
        n_samples: spec.n_samples,
        cause: Box::new(cause),
    })?;
    if let Some(init) = cfg.init {
        reinit(&mut model, init, &mut rng);
    }
    Ok(model)
}

//! The loop's position and the checkpoints that carry it.

use std::path::Path;

use eeglens_nn::{save_checkpoint, CheckpointMeta, Optimizer, Sequential};
use serde::{Deserialize, Serialize};

use crate::error::TrainError;

/// Checkpoint metadata key of the loop's position.
pub(super) const STATE_KEY: &str = "train.state";

/// The loop's position, stored in `checkpoint-last` under `train.state`.
/// Floats are stored as their bits so the resumed sums are bit-identical.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct LoopState {
    pub(super) epochs_done: usize,
    pub(super) batches_done: usize,
    pub(super) step: u64,
    pub(super) loss_sum_bits: u64,
    pub(super) correct: u64,
    pub(super) seen: u64,
    pub(super) load_s: f64,
    pub(super) train_s: f64,
    pub(super) best_bits: Option<u64>,
    pub(super) best_epoch: Option<usize>,
    pub(super) bad_epochs: usize,
    /// the attempt (stuck detection) this state belongs to
    #[serde(default)]
    pub(super) attempt: usize,
}

impl LoopState {
    pub(super) fn loss_sum(&self) -> f64 {
        f64::from_bits(self.loss_sum_bits)
    }

    pub(super) fn best(&self) -> Option<f64> {
        self.best_bits.map(f64::from_bits)
    }

    pub(super) fn reset_epoch(&mut self) {
        self.batches_done = 0;
        self.loss_sum_bits = 0f64.to_bits();
        self.correct = 0;
        self.seen = 0;
        self.load_s = 0.0;
        self.train_s = 0.0;
    }
}

/// Writes a checkpoint (with the loop's position, when given).
pub(super) fn write_checkpoint(
    path: &Path,
    model: &Sequential,
    meta: &CheckpointMeta,
    opt: Option<&Optimizer>,
    state: Option<&LoopState>,
) -> Result<(), TrainError> {
    let mut meta = meta.clone();
    if let Some(st) = state {
        meta.extra
            .insert(STATE_KEY.into(), serde_json::to_string(st).expect("plain data serialises to JSON"));
        meta.extra.insert("train.epochs_done".into(), st.epochs_done.to_string());
    }
    // Atomic and durable: the tensor-file writer goes through a synced temporary.
    save_checkpoint(path, model, &meta, opt)?;
    Ok(())
}

/// Which checkpoint keeps the last good state when training stops on a non-finite figure.
pub(super) fn kept_note(last_path: &Path, epochs_done: usize) -> String {
    if last_path.exists() {
        format!("{} holds the state after epoch {epochs_done}", last_path.display())
    } else {
        "no checkpoint was written before".to_string()
    }
}

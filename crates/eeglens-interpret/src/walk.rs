//! Running a model layer by layer: resolving a unit, the output of any layer
//! for a batch (eval mode, weights frozen), and scoring a split in batches.

use eeglens_autodiff::{Rng, Tape, Tensor};
use eeglens_data::store::EpochStore;
use eeglens_nn::{Mode, Sequential};

use crate::config::UnitRef;
use crate::error::InterpretError;

/// A unit resolved against a model: its layer's index and the layer's unit count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unit {
    /// the layer's name
    pub layer: String,
    /// the layer's index in the model
    pub index: usize,
    /// the channel (or feature)
    pub unit: usize,
    /// channels (or features) of the layer's output
    pub n_units: usize,
}

/// Finds `r` in `model`.
///
/// # Errors
/// [`InterpretError::UnknownLayer`] naming every layer;
/// [`InterpretError::UnknownUnit`] naming the layer's unit count.
pub fn resolve_unit(model: &Sequential, r: &UnitRef) -> Result<Unit, InterpretError> {
    let Some(index) = model.layer_index(&r.layer) else {
        let valid = model.layers().iter().map(|(n, l)| format!("{n} ({})", l.kind())).collect::<Vec<_>>();
        return Err(InterpretError::UnknownLayer {
            model: model.name().to_string(),
            layer: r.layer.clone(),
            valid: valid.join(", "),
        });
    };
    let n_units = model.layer_shapes()[index].first().copied().unwrap_or(1);
    if r.unit >= n_units {
        return Err(InterpretError::UnknownUnit { layer: r.layer.clone(), unit: r.unit, n_units });
    }
    Ok(Unit { layer: r.layer.clone(), index, unit: r.unit, n_units })
}

/// The output of layer `upto` (inclusive) for the batch `x`, eval mode,
/// weights frozen (nothing is kept for a backward pass).
///
/// # Errors
/// [`InterpretError::Nn`] when `x` does not have the model's input shape.
pub fn forward_prefix(model: &Sequential, x: Tensor, upto: usize) -> Result<Tensor, InterpretError> {
    model.check_input(x.shape())?;
    let mut tape = Tape::new();
    let params = model.bind(&mut tape, false);
    let mut y = tape.constant(x);
    let mut rng = Rng::new(0);
    for (i, (_, layer)) in model.layers().iter().enumerate().take(upto + 1) {
        y = layer.forward(&mut tape, y, params.layer(i), Mode::Eval, &mut rng, false).y;
    }
    Ok(tape.value(y).clone())
}

/// Mean of unit `u` over its map (all positions) for every sample of a
/// layer output `[n, units, ...]`.
pub fn unit_means(act: &Tensor, u: usize) -> Vec<f32> {
    let n = act.shape()[0];
    let units = act.shape().get(1).copied().unwrap_or(1);
    let per = act.len() / (n * units).max(1);
    act.data()
        .chunks_exact(units * per)
        .map(|s| s[u * per..][..per].iter().sum::<f32>() / per as f32)
        .collect()
}

/// Runs `f` on the windows `indices` of `store` in batches of `batch`,
/// each batch shaped `[b, 1, n_channels, n_samples]`, concatenating the
/// per-window values `f` returns.
///
/// # Errors
/// Whatever `f` returns.
pub fn map_batches<T>(
    store: &EpochStore,
    indices: &[usize],
    batch: usize,
    mut f: impl FnMut(Tensor) -> Result<Vec<T>, InterpretError>,
) -> Result<Vec<T>, InterpretError> {
    let mut out = Vec::with_capacity(indices.len());
    for chunk in indices.chunks(batch.max(1)) {
        out.extend(f(store.batch(chunk))?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use eeglens_nn::{models, ModelSpec};

    fn tiny() -> Sequential {
        let spec = ModelSpec { n_channels: 8, n_samples: 16, n_classes: 2 };
        models::build("rvgg", &spec, &mut Rng::new(3)).unwrap()
    }

    #[test]
    fn an_unknown_layer_names_the_valid_ones() {
        let m = tiny();
        let e = resolve_unit(&m, &UnitRef { layer: "features.99".into(), unit: 0 }).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("features.99") && msg.contains("features.14 (Conv2d)"), "{msg}");
        assert!(msg.contains("classifier.6 (Linear)"), "{msg}");
    }

    #[test]
    fn an_unknown_unit_names_the_layer_size() {
        let m = tiny();
        let e = resolve_unit(&m, &UnitRef { layer: "features.0".into(), unit: 16 }).unwrap_err();
        assert_eq!(e.to_string(), "layer `features.0` has 16 units (0..16), not unit 16");
        let u = resolve_unit(&m, &UnitRef { layer: "features.0".into(), unit: 15 }).unwrap();
        assert_eq!((u.index, u.n_units), (0, 16));
    }

    #[test]
    fn the_full_prefix_is_the_prediction() {
        let m = tiny();
        let mut rng = Rng::new(1);
        let x = Tensor::from_vec(&[3, 1, 8, 16], (0..384).map(|_| rng.normal() as f32).collect()).unwrap();
        let a = forward_prefix(&m, x.clone(), m.layers().len() - 1).unwrap();
        let b = m.predict(&x).unwrap();
        assert_eq!(a, b);
    }
}

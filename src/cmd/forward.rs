//! `eeglens forward --model M --weights W --input X --out Y [--grad-input]`:
//! logits of a batch, and with labels the mean cross-entropy and its input gradient.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{bail, Context};
use eeglens_nn::evaluate::check_labels;
use eeglens_nn::{evaluate, model_for_weights, read_tensor_file, write_tensor_file, NnError, TensorFile};

/// Flags of `eeglens forward`.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// Zoo model [default: the one the weights' metadata names (a checkpoint's `model`), else rvgg].
    #[arg(long, value_parser = super::choice::zoo_model())]
    pub model: Option<String>,
    /// Weights (safetensors) with PyTorch names (`features.0.weight`) or short ones (`conv1.weight`).
    #[arg(long)]
    pub weights: PathBuf,
    /// safetensors with `input` [N, 1, channels, samples] f32 and optionally `labels` [N] (int64 or int32).
    #[arg(long)]
    pub input: PathBuf,
    /// Where to write `logits` [N, classes], and with labels `loss` [1] (and `grad_input`).
    #[arg(long)]
    pub out: PathBuf,
    /// Also write `grad_input` = d loss / d input (needs labels).
    #[arg(long)]
    pub grad_input: bool,
    /// Replace --out when it exists.
    #[arg(long)]
    pub force: bool,
}

/// Runs `eeglens forward`.
pub fn run(a: Args, _g: &super::Global) -> anyhow::Result<()> {
    super::claim_output(
        &a.out,
        "--out",
        a.force,
        &[("the --input", &a.input), ("the --weights", &a.weights)],
    )?;
    let x = read_tensor_file(&a.input)?;
    let input = x.f32("input")?;
    let [n, 1, n_channels, n_samples] = *input.shape() else {
        bail!("{}: `input` must be [N, 1, channels, samples], got {:?}", a.input.display(), input.shape());
    };
    let w = read_tensor_file(&a.weights)?;
    let model_name = model_name(&a, &w)?;
    // A shape mismatch is the input's: the message names the input file, not the weights.
    let model = model_for_weights(&model_name, n_channels, n_samples, &w).map_err(|e| match e {
        NnError::InputMismatch { .. } | NnError::InputDoesNotFitWeights { .. } => {
            anyhow::anyhow!("{}: {e}", a.input.display())
        }
        e => e.into(),
    })?;
    let labels = if x.contains("labels") {
        let l = x.int("labels")?;
        let n_classes = model.output_shape().iter().product();
        Some(check_labels(&l.data, n, n_classes).with_context(|| a.input.display().to_string())?)
    } else {
        None
    };
    if a.grad_input && labels.is_none() {
        bail!("{}: --grad-input needs `labels` in the input file", a.input.display());
    }
    let ev = evaluate(&model, input, labels.as_deref(), a.grad_input)?;
    let mut out = vec![("logits".to_string(), &ev.logits)];
    if let Some(l) = &ev.loss {
        out.push(("loss".into(), l));
    }
    if let Some(g) = &ev.grad_input {
        out.push(("grad_input".into(), g));
    }
    let meta = BTreeMap::from([("model".to_string(), model_name)]);
    write_tensor_file(&a.out, &out, &[], &meta)?;
    Ok(())
}

/// The model to build: `--model`, else the one the weights' metadata names,
/// else R-VGG. Weights that name their model are refused for another, since
/// they would load only where the two happen to share tensor names and shapes.
fn model_name(a: &Args, w: &TensorFile) -> anyhow::Result<String> {
    let stored = w.metadata.get("model");
    match (&a.model, stored) {
        (Some(asked), Some(stored)) if asked != stored => bail!(
            "{}: holds weights of a `{stored}` model (its metadata says so), but --model is `{asked}`; \
             pass --model {stored} or leave --model out",
            a.weights.display()
        ),
        (Some(asked), _) => Ok(asked.clone()),
        (None, Some(stored)) => Ok(stored.clone()),
        (None, None) => Ok(DEFAULT_MODEL.to_string()),
    }
}

/// `--model` when neither the flag nor the weights name one: the paper's network.
const DEFAULT_MODEL: &str = "rvgg";

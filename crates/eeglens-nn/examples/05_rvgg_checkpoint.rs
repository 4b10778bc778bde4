//! R-VGG forward on a freshly initialised model, then a checkpoint saved and loaded.
//!
//! Builds the paper's R-VGG for 24 channels x 256 samples (2 s at 128 Hz) and
//! two classes from the zoo and prints its layer table. A batch of random
//! windows goes through it in eval mode (logits, class probabilities, the loss
//! and its gradient with respect to the input), then one Adam step updates
//! the weights. The model and the optimiser state are saved to a safetensors
//! checkpoint under PyTorch's names, read back, and the restored model is
//! checked to give the same logits bit for bit.
//!
//! Run with `cargo run -p eeglens-nn --example 05_rvgg_checkpoint`.

use std::time::Instant;

use eeglens_autodiff::{ops, Tape, Tensor};
use eeglens_nn::evaluate::softmax_rows;
use eeglens_nn::{
    evaluate, load_checkpoint, load_optimizer, models, save_checkpoint, CheckpointMeta, Mode, ModelSpec,
    Optimizer, OptimizerConfig, Rng,
};

const BATCH: usize = 8;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let spec = ModelSpec::paper();
    let mut rng = Rng::new(0);
    let mut model = models::build("rvgg", &spec, &mut rng)?;
    print!("{}", model.summary());

    // A batch of random "windows" [n, 1, channels, samples] with alternating labels.
    let len = BATCH * spec.n_channels * spec.n_samples;
    let x = Tensor::from_vec(
        &[BATCH, 1, spec.n_channels, spec.n_samples],
        (0..len).map(|_| rng.normal() as f32).collect(),
    )?;
    let labels: Vec<usize> = (0..BATCH).map(|i| i % 2).collect();

    let t = Instant::now();
    let eval = evaluate(&model, &x, Some(&labels), true)?;
    println!(
        "\neval-mode forward and input gradient of {BATCH} windows: {:.0} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    let probs = softmax_rows(eval.logits.data(), spec.n_classes);
    for (i, p) in probs.chunks(spec.n_classes).take(3).enumerate() {
        let l = &eval.logits.data()[i * spec.n_classes..(i + 1) * spec.n_classes];
        println!("  window {i}: logits {l:?}, probabilities [{:.3}, {:.3}]", p[0], p[1]);
    }
    let loss = eval.loss.as_ref().expect("labels were given").item();
    println!("  cross-entropy {loss:.4} (ln 2 = {:.4}: an untrained network is at chance)", 2f32.ln());
    let gx = eval.grad_input.expect("asked for");
    let norm = gx.data().iter().map(|v| v * v).sum::<f32>().sqrt();
    println!("  d loss / d input: shape {:?} (one value per input sample), L2 norm {norm:.3e}", gx.shape());

    // One training step (train mode: dropout on), so the checkpoint carries optimiser state.
    let mut opt = Optimizer::new(OptimizerConfig::adam(5e-4));
    let t = Instant::now();
    let grads = {
        let mut tape = Tape::new();
        let params = model.bind(&mut tape, true);
        let xv = tape.constant(x.clone());
        let out = model.forward(&mut tape, &params, xv, Mode::Train, &mut rng)?;
        let loss = ops::cross_entropy(&mut tape, out.output, &labels, None);
        let g = tape.backward(loss);
        params.grads(&g).into_iter().map(|g| g.cloned()).collect::<Vec<_>>()
    };
    let grads: Vec<Option<&Tensor>> = grads.iter().map(|g| g.as_ref()).collect();
    opt.step(&mut model.params_mut(), &grads);
    println!("\none Adam step on {BATCH} windows: {:.0} ms", t.elapsed().as_secs_f64() * 1e3);

    let dir = std::env::temp_dir().join(format!("eeglens-nn-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("checkpoint.safetensors");
    let meta = CheckpointMeta {
        model: "rvgg".into(),
        input_shape: vec![1, spec.n_channels, spec.n_samples],
        class_names: vec!["F".into(), "M".into()],
        ..CheckpointMeta::default()
    };
    save_checkpoint(&path, &model, &meta, Some(&opt))?;
    let bytes = std::fs::metadata(&path)?.len();

    let (restored, meta, file) = load_checkpoint(&path)?;
    let names: Vec<String> = restored.named_params().into_iter().map(|(n, _)| n).collect();
    assert!(names.iter().all(|n| file.f32s.contains_key(n)));
    let optim_tensors = file.f32s.keys().filter(|k| k.starts_with("optim.")).count();
    println!("\nsaved {} ({:.1} MB)", path.display(), bytes as f64 / 1e6);
    println!("  model {}, input {:?}, classes {:?}", meta.model, meta.input_shape, meta.class_names);
    println!("  {} parameter tensors under PyTorch names ({}, {}, ...)", names.len(), names[0], names[1]);
    println!("  {optim_tensors} optimiser tensors (Adam's moments, named optim.state.<param>.<slot>)");
    let opt_back = load_optimizer(&file, &restored)?.expect("the optimiser was saved");
    println!("  optimiser state restored at step {}", opt_back.steps());

    let before = model.predict(&x)?;
    let after = restored.predict(&x)?;
    assert_eq!(before.data(), after.data(), "a restored model gives the same logits");
    println!("  restored model: logits identical to the saved model's on all {BATCH} windows");
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

//! Interpret a small trained model: which band, which channels?
//!
//! A toy epoch store (8 channels x 32 samples at 128 Hz; in class `M` the
//! channels E1–E4 carry a 16 Hz rhythm) trains an R-VGG for a few epochs
//! with the plain `eeglens-nn` loop (what `eeglens-train` does with more
//! care). Then the three methods of Truong, Makeig & Delorme read the
//! network on the test windows — optimal samples, activation maximisation
//! and the deconvnet — each followed by the spectral reading: for every band
//! the class contrast and its permutation p-value, and per channel the log
//! power ratio of `M` over `F`. The planted answer is the 12–20 Hz band at
//! E1–E4.
//!
//! Run with `cargo run -p eeglens-interpret --example 08_interpret_model`.

use std::time::Instant;

use eeglens_autodiff::{ops, Rng, Tape, Tensor};
use eeglens_data::store::{EpochStore, Split};
use eeglens_data::toy::{toy_set, ToyConfig};
use eeglens_dsp::Band;
use eeglens_interpret::{run, write_outputs, InterpretConfig, Progress, Reading};
use eeglens_nn::{models, Mode, ModelSpec, Optimizer, OptimizerConfig, Sequential};

/// Adam, batches of 32, `epochs` passes over the training split.
fn fit(
    model: &mut Sequential,
    store: &EpochStore,
    epochs: usize,
    rng: &mut Rng,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut opt = Optimizer::new(OptimizerConfig::adam(1e-3));
    let mut order = store.indices(Split::Train);
    for epoch in 1..=epochs {
        rng.shuffle(&mut order);
        let mut loss_sum = 0.0;
        for batch in order.chunks(32) {
            let x = store.batch(batch);
            let labels: Vec<usize> = batch.iter().map(|&i| store.labels()[i] as usize).collect();
            let (loss, grads) = {
                let mut tape = Tape::new();
                let params = model.bind(&mut tape, true);
                let xv = tape.constant(x);
                let out = model.forward(&mut tape, &params, xv, Mode::Train, rng)?;
                let loss = ops::cross_entropy(&mut tape, out.output, &labels, None);
                let g = tape.backward(loss);
                let grads: Vec<Option<Tensor>> = params.grads(&g).into_iter().map(|g| g.cloned()).collect();
                (tape.value(loss).item(), grads)
            };
            let grads: Vec<Option<&Tensor>> = grads.iter().map(Option::as_ref).collect();
            opt.step(&mut model.params_mut(), &grads);
            loss_sum += loss * batch.len() as f32;
        }
        println!("  epoch {epoch}: training loss {:.3}", loss_sum / order.len() as f32);
    }
    Ok(())
}

/// Prints each stage of the interpretation with the time the previous one took.
struct Stages {
    current: Option<(String, Instant)>,
}

impl Stages {
    fn end(&mut self) {
        if let Some((name, t)) = self.current.take() {
            println!("  {name}: {:.2} s", t.elapsed().as_secs_f64());
        }
    }
}

impl Progress for Stages {
    fn stage(&mut self, name: &str, _total: u64) {
        self.end();
        self.current = Some((name.to_string(), Instant::now()));
    }

    fn finish(&mut self) {
        self.end();
    }
}

fn print_reading(method: &str, reading: &Reading) {
    println!("\n{method}: top band {}", reading.top_band.as_deref().unwrap_or("none (nothing significant)"));
    for b in &reading.bands {
        println!(
            "  {:<6} {:>2}-{:<2} Hz  contrast {:.3}  p {:.4}  mean ln(M/F) {:+.3}",
            b.name, b.lo, b.hi, b.contrast, b.p, b.log_ratio
        );
    }
    if let Some(top) = &reading.top_band {
        let per_channel = reading.channels.get(top).expect("every band has channels");
        let mut chans: Vec<(&str, f64)> = per_channel.0.iter().map(|(c, v)| (c.as_str(), *v)).collect();
        chans.sort_by(|a, b| b.1.total_cmp(&a.1));
        let top4: Vec<String> = chans.iter().take(4).map(|(c, v)| format!("{c} {v:+.2}")).collect();
        println!("  strongest channels in {top}: {}", top4.join(", "));
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("eeglens-interpret-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let data = dir.join("epochs.safetensors");
    toy_set(&ToyConfig { windows: 16, effect: 1.5, ..ToyConfig::default() }).write(&data)?;
    let store = EpochStore::open(&data)?;

    let spec = ModelSpec { n_channels: store.n_channels(), n_samples: store.n_samples(), n_classes: 2 };
    let mut rng = Rng::new(1);
    let mut model = models::build("rvgg", &spec, &mut rng)?;
    println!("training {} on {} windows", model.name(), store.indices(Split::Train).len());
    let t = Instant::now();
    fit(&mut model, &store, 6, &mut rng)?;
    println!("  trained in {:.1} s", t.elapsed().as_secs_f64());

    let mut cfg = InterpretConfig { k: 16, permutations: 999, ..InterpretConfig::default() };
    cfg.bands = vec![
        Band::new("theta", 4.0, 8.0)?,
        Band::new("alpha", 8.0, 12.0)?,
        Band::new("beta", 12.0, 20.0)?,
        Band::new("gamma", 20.0, 32.0)?,
    ];
    cfg.actmax.restarts = 8;
    cfg.actmax.steps = 50;
    println!("\ninterpreting");
    let t = Instant::now();
    let result = run(&model, &store, &cfg, &mut Stages { current: None })?;
    println!("  interpreted in {:.1} s", t.elapsed().as_secs_f64());
    let report = &result.report;
    let d = &report.model.discrimination;
    println!(
        "\nthe network on the {} split: accuracy {:.3} ({} windows, {} subjects), discrimination p {:.4}, learned: {}",
        report.split, d.accuracy, d.n_windows, d.n_subjects, d.p, d.learned
    );
    if let Some(m) = &report.methods.optimal {
        print_reading("optimal samples", &m.reading);
    }
    if let Some(m) = &report.methods.actmax {
        print_reading(
            &format!("activation maximisation ({}, {} restarts)", m.parameterisation, m.restarts),
            &m.reading,
        );
    }
    if let Some(m) = &report.methods.deconv {
        print_reading(&format!("deconvnet ({}, from {})", m.rule, m.from), &m.reading);
    }

    let out = dir.join("interpret");
    write_outputs(&result, &out)?;
    let mut files: Vec<String> = std::fs::read_dir(&out)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    println!("\nwritten: {}", files.join(", "));
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

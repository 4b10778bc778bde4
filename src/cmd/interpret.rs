//! `eeglens interpret --run RUN_DIR [--method optimal|actmax|deconv|all] [--out DIR] [--precision fp32|bf16] [--json]`:
//! the three interpretation methods and their spectral reading on a run's best model.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use eeglens_dsp::Band;
use eeglens_interpret::{
    run as interpret, write_outputs, InterpretConfig, Keep, Parameterisation, Progress, UnitRef,
};
use eeglens_train::RunDir;

use super::choice::{
    ActmaxParamArg, DeconvSeedArg, MethodArg, PermuteArg, PrecisionArg, RankArg, ReadSplitArg, RuleArg,
};

/// Flags of `eeglens interpret`.
#[derive(clap::Args, Debug, Clone, PartialEq)]
pub struct Args {
    /// Run directory (from `eeglens train`); a parent of `--seeds` runs (each read, then their
    /// agreement) or of `--folds` runs (every subject read once, out of fold).
    #[arg(long)]
    pub run: PathBuf,
    /// Run the methods even when the model is not above chance on the split (their readings then mean nothing).
    #[arg(long)]
    pub read_anyway: bool,
    /// Which method to run.
    #[arg(long, value_enum, ignore_case = true, default_value = "all")]
    pub method: MethodArg,
    /// Output directory for interpret.json and interpret.safetensors [default: RUN_DIR/interpret].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print interpret.json on stdout too.
    #[arg(long)]
    pub json: bool,
    /// Which windows the methods read. Whether the model learned, and the floor of every
    /// p-value, are judged on test alone when validation is read with it.
    #[arg(long, value_enum, ignore_case = true, default_value = "test")]
    pub split: ReadSplitArg,
    /// Another epoch store (the run's moved, or was prepared again): accepted when it is the
    /// run's or its subjects keep the run's splits [default: the run's, which must be unchanged].
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Windows per class kept by optimal samples and the deconvnet.
    #[arg(long, default_value_t = 20)]
    pub k: usize,
    /// Keep only correctly classified windows among the optimal samples.
    #[arg(long)]
    pub correct_only: bool,
    /// Activation-maximisation restarts per class.
    #[arg(long, default_value_t = 8)]
    pub restarts: usize,
    /// Activation-maximisation steps.
    #[arg(long, default_value_t = 100)]
    pub steps: usize,
    /// Activation-maximisation input.
    #[arg(long, value_enum, ignore_case = true, default_value = "gains")]
    pub actmax_param: ActmaxParamArg,
    /// Windows one set of activation-maximisation gains is applied to (gains only).
    #[arg(long, default_value_t = 8)]
    pub actmax_windows: usize,
    /// Activation-maximisation Adam step size (log gain, or data standard deviations).
    #[arg(long, default_value_t = 0.05)]
    pub actmax_lr: f64,
    /// Activation-maximisation L2 decay: towards gain 1 under gains (default 10),
    /// towards zero otherwise (default 1).
    #[arg(long)]
    pub actmax_l2: Option<f64>,
    /// Back-projection rule.
    #[arg(long, value_enum, ignore_case = true, default_value = "deconvnet")]
    pub rule: RuleArg,
    /// Which output the deconvnet projects each class's windows from [default: shared for rvgg-bn, where
    /// the validation grid found it names the planted band far more often; class for every other model].
    #[arg(long, value_enum, ignore_case = true)]
    pub deconv_seed: Option<DeconvSeedArg>,
    /// Read each deconvnet map multiplied with its window instead of the map alone.
    #[arg(long, conflicts_with = "deconv_map_alone")]
    pub deconv_times_input: bool,
    /// Read each deconvnet map alone (the paper's reading; the default for every model).
    #[arg(long)]
    pub deconv_map_alone: bool,
    /// The scale on which optimal samples test their bands and pick the top one: z (the contrast
    /// against the band's own permutation spread, each band held to its own null; the validation
    /// grid's choice) or contrast (the raw contrast, as activation maximisation).
    #[arg(long, value_enum, ignore_case = true, default_value = "z")]
    pub optimal_rank: RankArg,
    /// What the band test of optimal samples permutes: windows (each window's class drawn alone;
    /// the default) or subjects (each subject's windows of one class moving together: the
    /// subject as the unit, as in the network's own test; on the validation grid half the wrong
    /// bands claimed, and the planted band named less often).
    #[arg(long, value_enum, ignore_case = true, default_value = "windows")]
    pub optimal_permute: PermuteArg,
    /// The scale on which the deconvnet tests its bands and picks the top one (z: the validation
    /// grid's choice; contrast: the earlier reading).
    #[arg(long, value_enum, ignore_case = true, default_value = "z")]
    pub deconv_rank: RankArg,
    /// Also read this layer's --unit on its own (e.g. features.14).
    #[arg(long, requires = "unit")]
    pub layer: Option<String>,
    /// The unit (channel) of --layer.
    #[arg(long, requires = "layer")]
    pub unit: Option<usize>,
    /// Keep the unit's whole map (not only its strongest location) before projecting it back.
    #[arg(long)]
    pub whole_map: bool,
    /// Bands as NAME:LO-HI,... [default: delta:1-4,theta:4-8,alpha:8-13,beta:13-30].
    #[arg(long)]
    pub bands: Option<String>,
    /// Significance level of the band contrasts.
    #[arg(long, default_value_t = 0.05)]
    pub alpha: f64,
    /// Permutations per test.
    #[arg(long, default_value_t = 2000)]
    pub permutations: usize,
    /// Seed of restarts, jitter and permutations.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Replace the outputs of an earlier interpretation in the output directory.
    #[arg(long)]
    pub force: bool,
    /// Arithmetic of the scoring of the windows (which decides whether the model learned and
    /// which windows are optimal samples): fp32 (the reference), or bf16 (the products of the
    /// convolutions and linear layers in bf16 with fp32 sums, on CPUs with AVX512_BF16;
    /// elsewhere fp32, said once on stderr). Activation maximisation and the deconvnet always
    /// run in fp32 (they need gradients and recorded activations). interpret.json records it.
    #[arg(long, value_enum, ignore_case = true, default_value = "fp32")]
    pub precision: PrecisionArg,
}

impl Default for Args {
    /// The flags' defaults, with an empty --run: for callers that build the
    /// flags in code (`eeglens demo`). A test holds them to clap's.
    fn default() -> Self {
        Self {
            run: PathBuf::new(),
            read_anyway: false,
            method: MethodArg::All,
            out: None,
            json: false,
            split: ReadSplitArg::Test,
            data: None,
            k: 20,
            correct_only: false,
            restarts: 8,
            steps: 100,
            actmax_param: ActmaxParamArg::Gains,
            actmax_windows: 8,
            actmax_lr: 0.05,
            actmax_l2: None,
            rule: RuleArg::Deconvnet,
            deconv_seed: None,
            deconv_times_input: false,
            deconv_map_alone: false,
            optimal_rank: RankArg::Z,
            optimal_permute: PermuteArg::Windows,
            deconv_rank: RankArg::Z,
            layer: None,
            unit: None,
            whole_map: false,
            bands: None,
            alpha: 0.05,
            permutations: 2000,
            seed: 0,
            force: false,
            precision: PrecisionArg::Fp32,
        }
    }
}

/// A bar per stage on stderr.
struct Bar<'a> {
    g: &'a super::Global,
    pb: Option<indicatif::ProgressBar>,
}

impl Progress for Bar<'_> {
    fn stage(&mut self, name: &str, total: u64) {
        if let Some(pb) = self.pb.take() {
            pb.finish_and_clear();
        }
        self.pb = Some(super::bar(self.g, total, name));
    }

    fn advance(&mut self, n: u64) {
        if let Some(pb) = &self.pb {
            pb.inc(n);
        }
    }

    fn finish(&mut self) {
        if let Some(pb) = self.pb.take() {
            pb.finish_and_clear();
        }
    }
}

fn parse_bands(s: &str) -> anyhow::Result<Vec<Band>> {
    s.split(',')
        .map(|item| {
            let (name, range) =
                item.split_once(':').with_context(|| format!("--bands: `{item}` is not NAME:LO-HI"))?;
            let (lo, hi) = super::parse_range(range).map_err(|e| anyhow::anyhow!("--bands: {e}"))?;
            Band::new(name.trim(), lo, hi).map_err(|e| anyhow::anyhow!("--bands: {e}"))
        })
        .collect()
}

fn config(a: &Args) -> anyhow::Result<InterpretConfig> {
    let methods = a.method.methods();
    let (split, also) = a.split.splits();
    let mut cfg = InterpretConfig {
        read_anyway: a.read_anyway,
        methods,
        split,
        also,
        k: a.k,
        correct_only: a.correct_only,
        alpha: a.alpha,
        permutations: a.permutations,
        seed: a.seed,
        optimal_rank: a.optimal_rank.into(),
        optimal_by_subject: a.optimal_permute == PermuteArg::Subjects,
        deconv_rank: a.deconv_rank.into(),
        precision: a.precision.into(),
        ..InterpretConfig::default()
    };
    cfg.actmax.restarts = a.restarts;
    cfg.actmax.steps = a.steps;
    cfg.actmax.lr = a.actmax_lr;
    cfg.actmax.windows_per_restart = a.actmax_windows;
    cfg.actmax.param = a.actmax_param.into();
    if let Some(l2) = a.actmax_l2 {
        cfg.actmax.l2 = l2;
    } else if cfg.actmax.param != Parameterisation::Gains {
        cfg.actmax.l2 = 1.0;
    }
    cfg.deconv.rule = a.rule.into();
    cfg.deconv.keep = if a.whole_map { Keep::Map } else { Keep::Strongest };
    if let Some(seed) = a.deconv_seed {
        cfg.deconv.seed = seed.into();
    }
    cfg.deconv.times_input = a.deconv_times_input;
    if let (Some(layer), Some(unit)) = (&a.layer, a.unit) {
        cfg.unit = Some(UnitRef { layer: layer.clone(), unit });
    }
    if let Some(b) = &a.bands {
        cfg.bands = parse_bands(b)?;
    }
    Ok(cfg)
}

/// Runs `eeglens interpret`: on one run, on every seed of a parent
/// directory (`train --seeds`) followed by their agreement, or over the
/// folds of a cross-validation (`train --folds`), every subject read once
/// out of fold.
pub fn run(mut a: Args, g: &super::Global) -> anyhow::Result<()> {
    super::refuse_regression(&a.run, "interpret")?;
    // Resolved once, so that a fallback is said once (not per seed); the library falls back
    // the same way and records what ran.
    if a.precision.resolve() == eeglens_nn::Precision::Fp32 {
        a.precision = PrecisionArg::Fp32;
    }
    if !eeglens_train::folds::fold_runs(&a.run)?.is_empty() {
        return run_folds(a, g);
    }
    let seeds = eeglens_train::run_dir::seed_runs(&a.run)?;
    if seeds.is_empty() {
        return run_one(a, g).map(|_| ());
    }
    let one = |seed: u64, dir: &PathBuf| {
        let out = a.out.as_ref().map(|o| o.join(eeglens_train::run_dir::seed_dir_name(seed)));
        Args { run: dir.clone(), out, json: false, ..a.clone() }
    };
    // Every output is checked before the first seed is read: no seed's work is lost to a refusal.
    let dir = a.out.clone().unwrap_or_else(|| a.run.clone());
    let path = dir.join(eeglens_interpret::agreement::AGREEMENT_FILE);
    super::claim_output(&path, "--out", a.force, &[])?;
    for (seed, run) in &seeds {
        claim_outputs(&output_dir(&one(*seed, run)), a.force)?;
    }
    let mut reports = Vec::new();
    for (seed, run) in &seeds {
        // With --json, stdout holds the one document: the progress goes to stderr.
        if a.json {
            eprintln!("== seed {seed}: {}", run.display());
        } else {
            println!("== seed {seed}: {}", run.display());
        }
        reports.push(run_one(one(*seed, run), g)?);
    }
    let ids: Vec<u64> = seeds.iter().map(|s| s.0).collect();
    let agreement = eeglens_interpret::agreement(&ids, &reports);
    std::fs::create_dir_all(&dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    let doc = super::document(eeglens_interpret::agreement::AGREEMENT_FORMAT, &agreement)?;
    super::write_file(&path, (serde_json::to_string_pretty(&doc)? + "\n").as_bytes())?;
    if a.json {
        println!("{}", serde_json::to_string(&doc)?);
        return Ok(());
    }
    println!("== agreement over {} seeds (a top band needs a strict majority of all seeds)", ids.len());
    for line in agreement.describe() {
        println!("{line}");
    }
    println!("written     {}", path.display());
    Ok(())
}

/// One reading over the folds of a cross-validation: each fold's model reads
/// its own test subjects, the items are pooled and read once
/// (`eeglens_interpret::run_folds`); the outputs go to `PARENT/interpret/`.
fn run_folds(a: Args, g: &super::Global) -> anyhow::Result<()> {
    if a.split != ReadSplitArg::Test {
        bail!(
            "{}: --split val+test cannot be read over folds: each fold's model reads its own test subjects only (every subject is read once)",
            a.run.display()
        );
    }
    if a.layer.is_some() {
        bail!(
            "{}: --layer/--unit read one network's unit, and each fold has its own; read the unit on one fold (--run {})",
            a.run.display(),
            a.run.join(eeglens_train::folds::fold_dir_name(0)).display()
        );
    }
    let mut cfg = config(&a)?;
    let runs = eeglens_train::folds::open_folds(&a.run)?;
    let mut models = Vec::with_capacity(runs.len());
    let mut stores = Vec::with_capacity(runs.len());
    for (_, run) in &runs {
        let (model, _) = run.load_model()?;
        stores.push(run.open_store(a.data.as_deref())?);
        models.push(model);
    }
    let names: Vec<&str> = models.iter().map(|m| m.name()).collect();
    // The model's default when every fold chose the same model; the paper's otherwise.
    let default = if names.iter().all(|n| *n == names[0]) {
        eeglens_interpret::DeconvConfig::for_model(names[0])
    } else {
        eeglens_interpret::DeconvConfig::default()
    };
    if !(a.deconv_times_input || a.deconv_map_alone) {
        cfg.deconv.times_input = default.times_input;
    }
    if a.deconv_seed.is_none() {
        cfg.deconv.seed = default.seed;
    }
    claim_outputs(&output_dir(&a), a.force)?;
    let folds: Vec<eeglens_interpret::FoldModel<'_>> = models
        .iter()
        .zip(&stores)
        .map(|(model, store)| eeglens_interpret::FoldModel { model, store })
        .collect();
    let mut bar = Bar { g, pb: None };
    let result = eeglens_interpret::run_folds(&folds, &cfg, &mut bar)
        .with_context(|| format!("{}", a.run.display()))?;
    let out = output_dir(&a);
    write_outputs(&result, &out)?;
    if a.json {
        super::print_document(eeglens_interpret::result::FORMAT, &result.report)?;
        return Ok(());
    }
    let r = &result.report;
    let d = &r.model.discrimination;
    println!(
        "model       {} over {} folds: read {} subjects out of fold (each by the fold's model that never saw it): accuracy {:.3}, discrimination p = {:.4}",
        r.model.name,
        runs.len(),
        r.subjects_read.unwrap_or(d.n_subjects),
        d.accuracy,
        d.p
    );
    print_readings(r, &cfg);
    println!("written     {}", out.join(eeglens_interpret::result::INTERPRET_JSON).display());
    Ok(())
}

/// Where the outputs of one run's interpretation go.
fn output_dir(a: &Args) -> PathBuf {
    a.out.clone().unwrap_or_else(|| a.run.join(eeglens_interpret::result::INTERPRET_DIR))
}

/// Refuses to replace an earlier interpretation in `dir` without `--force`.
fn claim_outputs(dir: &Path, force: bool) -> anyhow::Result<()> {
    use eeglens_interpret::result::{INTERPRET_JSON, INTERPRET_TENSORS};
    for name in [INTERPRET_JSON, INTERPRET_TENSORS] {
        super::claim_output(&dir.join(name), "--out", force, &[])?;
    }
    Ok(())
}

fn run_one(a: Args, g: &super::Global) -> anyhow::Result<eeglens_interpret::Report> {
    let cfg = config(&a)?;
    let run = RunDir::open(&a.run)?;
    if !run.best_checkpoint_path().exists() && !run.last_checkpoint_path().exists() {
        bail!(
            "{}: the run has no checkpoint ({} or {}); train it first",
            a.run.display(),
            run.best_checkpoint_path().file_name().map_or_else(String::new, |s| s.to_string_lossy().into()),
            run.last_checkpoint_path().file_name().map_or_else(String::new, |s| s.to_string_lossy().into())
        );
    }
    let (model, _) = run.load_model()?;
    let mut cfg = cfg;
    let default = eeglens_interpret::DeconvConfig::for_model(model.name());
    if a.deconv_seed.is_none() {
        cfg.deconv.seed = default.seed;
    }
    if !(a.deconv_times_input || a.deconv_map_alone) {
        cfg.deconv.times_input = default.times_input;
    }
    if let Some(t) = &run.config().data.target {
        // Predictions in the target's unit, by the run's standardisation.
        cfg.output_scale = Some(eeglens_interpret::OutputScale { mean: t.mean, sd: t.sd });
    }
    let store = run.open_store(a.data.as_deref())?;
    // After the inputs are checked (their problems come first), before the work.
    claim_outputs(&output_dir(&a), a.force)?;
    let mut bar = Bar { g, pb: None };
    let result = interpret(&model, &store, &cfg, &mut bar).with_context(|| format!("{}", a.run.display()))?;
    let out = output_dir(&a);
    write_outputs(&result, &out)?;
    if a.json {
        super::print_document(eeglens_interpret::result::FORMAT, &result.report)?;
        return Ok(result.report);
    }
    let r = &result.report;
    let d = &r.model.discrimination;
    match (&r.model.regression, &r.numeric) {
        (Some(g), Some(n)) => println!(
            "model       {} on {}: predicting `{}`, subjects' r = {:.3} (windows' r = {:.3}), {} subjects, permutation p = {:.4} (windows read: {})",
            r.model.name, r.model.split, n.column, g.r, g.window_r, g.n_subjects, g.p, r.split
        ),
        _ => println!(
            "model       {} on {}: accuracy {:.3}, {} subjects, discrimination p = {:.4} (windows read: {})",
            r.model.name, r.model.split, d.accuracy, d.n_subjects, d.p, r.split
        ),
    }
    if let Ok(Some(b)) = run.baseline() {
        println!(
            "baseline    band power + logistic regression on test: accuracy {:.3} per window, {:.3} per subject; strongest difference in {} at {}",
            b.test.accuracy,
            b.test.subject_accuracy,
            b.top_band,
            b.top_channels.iter().take(3).cloned().collect::<Vec<_>>().join(", ")
        );
    }
    print_readings(r, &cfg);
    println!("written     {}", out.join(eeglens_interpret::result::INTERPRET_JSON).display());
    Ok(result.report)
}

/// The verdict when nothing was learned, then one line per method read.
fn print_readings(r: &eeglens_interpret::Report, cfg: &InterpretConfig) {
    if r.precision != eeglens_nn::Precision::Fp32.name() {
        println!(
            "precision   windows scored in {} (products in bf16 with fp32 sums; fp32 is the reference); activation maximisation and the deconvnet in fp32",
            r.precision
        );
    }
    let d = &r.model.discrimination;
    let anyway =
        if cfg.read_anyway { " (methods run anyway: their readings say nothing about the data)" } else { "" };
    if let (false, Some(g), Some(n)) = (d.learned, &r.model.regression, &r.numeric) {
        println!(
            "NOTHING LEARNED: the model's predictions do not follow `{}` on the {} split (subjects' r = {:.3}, permutation p = {:.3}); no reading is possible{anyway}",
            n.column, r.model.split, g.r, g.p
        );
    } else if !d.learned {
        println!(
            "NOTHING LEARNED: the model is not above chance on the {} split (windows {:.3}, subjects {:.3}; subject permutation p = {}{}); no reading is possible{}",
            r.model.split,
            d.accuracy,
            d.subject_accuracy,
            eeglens_train::chance::fmt_p(d.p_subjects),
            if d.p_subjects_floor >= eeglens_train::chance::ALPHA {
                format!(", and {} units cannot reach p < 0.05", d.n_subjects)
            } else {
                String::new()
            },
            anyway
        );
    }
    let methods = [
        ("optimal", r.methods.optimal.as_ref().map(|m| &m.reading)),
        ("actmax", r.methods.actmax.as_ref().map(|m| &m.reading)),
        ("deconv", r.methods.deconv.as_ref().map(|m| &m.reading)),
    ];
    for (name, reading) in methods {
        let Some(reading) = reading else { continue };
        // The top band is the significant band of largest contrast, or of largest z when the
        // reading ranks by z (then each band's z is shown and the line says so); the
        // channel-averaged log ratio follows for reference.
        let by_z = reading.rank == eeglens_interpret::spectral::Rank::Z;
        let contrasts: Vec<String> = reading
            .bands
            .iter()
            .map(|b| match by_z {
                true => format!("{} {:.3} (z {:.1}, p {:.4})", b.name, b.contrast, b.z, b.p),
                false => format!("{} {:.3} (p {:.4})", b.name, b.contrast, b.p),
            })
            .collect();
        let ratios: Vec<String> =
            reading.bands.iter().map(|b| format!("{} {:+.3}", b.name, b.log_ratio)).collect();
        let top = reading.top_band.as_deref().unwrap_or("none");
        println!(
            "{name:<11} top band {:<6} | contrast {} | mean ln({}/{}) {}",
            match (by_z && reading.top_band.is_some(), reading.by_subject) {
                (true, true) => format!("{top} (by z; subjects permuted)"),
                (true, false) => format!("{top} (by z)"),
                (false, true) => format!("{top} (subjects permuted)"),
                (false, false) => top.to_string(),
            },
            contrasts.join(", "),
            r.classes.get(1).map_or("", String::as_str),
            r.classes.first().map_or("", String::as_str),
            ratios.join(", ")
        );
    }
}

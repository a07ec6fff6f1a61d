//! `freqprop demo`: the main job on embedded defaults. Trains a diode network on Iris with the
//! transient (frequency-propagation) engine, checks the update against the exact gradient,
//! and writes the run file and its figures.

use crate::train::learn_err;
use crate::CliError;
use learn::check::gradcheck;
use learn::train::{parse_config, save_checkpoint, EngineKind, Trainer};
use learn::transient_engine::TransientEngine;
use plot::{line_chart, stacked, Axes, Series};
use std::path::{Path, PathBuf};

/// The embedded configuration (examples/iris.toml).
const IRIS: &str = include_str!("../../../examples/iris.toml");

/// Arguments of `freqprop demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output directory for the run file and the figures.
    #[arg(short, long, default_value = "out/demo")]
    pub output: PathBuf,
    /// Training epochs (default: the embedded configuration's, 40).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Seed (data split, initial conductances, shuffling).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Gradient engine.
    #[arg(long, default_value = "transient")]
    pub engine: EngineKind,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Run `freqprop demo`.
pub fn run(args: Args) -> Result<i32, CliError> {
    let start = std::time::Instant::now();
    let mut config = parse_config(IRIS, "examples/iris.toml (embedded)").map_err(learn_err)?;
    if let Some(e) = args.epochs {
        config.train.epochs = e;
    }
    let epochs = config.train.epochs;
    config.train.seed = args.seed;
    config.train.engine = args.engine;
    std::fs::create_dir_all(&args.output).map_err(|e| {
        CliError::Input(format!(
            "{}: cannot create the directory: {e}",
            args.output.display()
        ))
    })?;
    let run_path = args.output.join("run.json");
    let mut trainer = Trainer::new(config.clone(), Path::new(".")).map_err(learn_err)?;
    if !args.json {
        println!(
            "training a {}-resistor diode network on Iris ({} training, {} test samples) with the {:?} engine",
            trainer.network.trainable.len(),
            trainer.split.train.len(),
            trainer.split.test.len(),
            args.engine
        );
    }
    let bar = if args.json {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(epochs as u64)
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{bar:30}] epoch {pos}/{len} {msg}",
        )
        .unwrap()
        .progress_chars("=> "),
    );
    while trainer.epoch < epochs {
        let s = trainer.train_epoch(&mut |_, _, _| {}).map_err(learn_err)?;
        bar.inc(1);
        bar.set_message(format!(
            "loss {:.4}, test accuracy {:.1}%",
            s.train_loss,
            100.0 * s.test_accuracy.unwrap_or(f64::NAN)
        ));
        save_checkpoint(&run_path, &trainer.checkpoint()).map_err(learn_err)?;
    }
    bar.finish_and_clear();
    let last = trainer
        .history
        .last()
        .cloned()
        .ok_or_else(|| CliError::Run("no epoch was run".into()))?;

    // gradient fidelity of the trained network: transient update against the exact gradient
    let mut net = trainer.network.clone();
    net.set_conductances(&trainer.g);
    let n = config
        .gradcheck
        .samples
        .min(trainer.split.train.len())
        .max(1);
    let samples: Vec<_> = (0..n)
        .map(|i| {
            (
                trainer.split.train.x[i].clone(),
                trainer.split.train.y[i].clone(),
            )
        })
        .collect();
    let b = config.transient.beta;
    let gc = gradcheck(
        &net,
        &samples,
        &config.loss,
        &config.transient,
        &[10.0 * b, b],
        None,
    )
    .map_err(learn_err)?;

    // figures
    let epochs: Vec<f64> = trainer.history.iter().map(|h| h.epoch as f64).collect();
    let train_loss: Vec<f64> = trainer.history.iter().map(|h| h.train_loss).collect();
    let test_loss: Vec<f64> = trainer.history.iter().map(|h| h.test_loss).collect();
    let train_acc: Vec<f64> = trainer
        .history
        .iter()
        .map(|h| 100.0 * h.train_accuracy.unwrap_or(f64::NAN))
        .collect();
    let test_acc: Vec<f64> = trainer
        .history
        .iter()
        .map(|h| 100.0 * h.test_accuracy.unwrap_or(f64::NAN))
        .collect();
    let curves = args.output.join("learning_curves.png");
    stacked(
        &curves,
        &[
            (
                "loss",
                Axes::new("epoch", "loss").log_y(),
                vec![
                    Series::new("train", &epochs, &train_loss),
                    Series::new("test", &epochs, &test_loss),
                ],
            ),
            (
                "accuracy",
                Axes::new("epoch", "accuracy (%)"),
                vec![
                    Series::new("train", &epochs, &train_acc),
                    Series::new("test", &epochs, &test_acc),
                ],
            ),
        ],
    )
    .map_err(|e| CliError::Run(e.to_string()))?;
    let hist = args.output.join("conductances.png");
    let g_ms: Vec<f64> = trainer.g.iter().map(|g| g * 1e3).collect();
    plot::histogram(
        &hist,
        &format!("trained conductances after {} epochs", last.epoch),
        "conductance (mS)",
        &g_ms,
        30,
    )
    .map_err(|e| CliError::Run(e.to_string()))?;
    let wave = args.output.join("resistor_waveform.png");
    let (a_coef, e_coef, name) = resistor_figure(&net, &config, &samples[0], &wave)?;
    let beta_png = args.output.join("gradient_fidelity.png");
    let bx: Vec<f64> = gc.table.iter().map(|r| r.beta).collect();
    let by: Vec<f64> = gc.table.iter().map(|r| r.rel_error).collect();
    line_chart(
        &beta_png,
        "relative error of the frequency-propagation update",
        &Axes::new("beta (S)", "relative L2 error").log_y(),
        &[Series::new("transient vs adjoint", &bx, &by)],
    )
    .map_err(|e| CliError::Run(e.to_string()))?;

    let seconds = start.elapsed().as_secs_f64();
    if args.json {
        let j = serde_json::json!({
            "epochs": last.epoch,
            "engine": args.engine,
            "seed": args.seed,
            "train_accuracy": last.train_accuracy,
            "test_accuracy": last.test_accuracy,
            "test_loss": last.test_loss,
            "gradcheck": {"beta": gc.beta, "cosine": gc.cosine, "rel_error": gc.rel_error, "samples": gc.samples},
            "seconds": seconds,
            "run": run_path.display().to_string(),
            "figures": [curves.display().to_string(), hist.display().to_string(), wave.display().to_string(), beta_png.display().to_string()],
        });
        println!("{}", serde_json::to_string_pretty(&j).unwrap());
    } else {
        println!(
            "after {} epochs: train accuracy {:.1}%, test accuracy {:.1}%, test loss {:.4}",
            last.epoch,
            100.0 * last.train_accuracy.unwrap_or(f64::NAN),
            100.0 * last.test_accuracy.unwrap_or(f64::NAN),
            last.test_loss
        );
        println!(
            "gradient fidelity on {} training samples (beta = {:e} S): cosine {:.6}, relative error {:.2e}",
            gc.samples, gc.beta, gc.cosine, gc.rel_error
        );
        println!("across {name}: activation (DC) {a_coef:.4e} V, error coefficient at f_e {e_coef:.4e} V");
        println!(
            "wrote {} and figures in {} ({:.1} s)",
            run_path.display(),
            args.output.display(),
            seconds
        );
    }
    Ok(0)
}

/// Simulate one sample with the error current on, and draw the voltage across the trainable
/// resistor with the largest error coefficient, over its magnitude spectrum.
fn resistor_figure(
    net: &learn::network::Network,
    config: &learn::train::Config,
    sample: &(Vec<f64>, learn::loss::Target),
    path: &Path,
) -> Result<(f64, f64, String), CliError> {
    let mut eng = TransientEngine::new(net, &config.transient).map_err(learn_err)?;
    eng.gradient(&sample.0, &sample.1, &config.loss)
        .map_err(learn_err)?;
    let pairs = net.trainable_nodes();
    let mut best = (0usize, -1.0f64, 0.0, 0.0);
    let readout_freqs = [0.0, config.transient.freq];
    let mut waves = Vec::new();
    for (j, &(a, b)) in pairs.iter().enumerate() {
        let (t0, dt, va) = eng
            .last_waveform(a)
            .ok_or_else(|| CliError::Run("no waveform recorded".into()))?;
        let (_, _, vb) = eng
            .last_waveform(b)
            .ok_or_else(|| CliError::Run("no waveform recorded".into()))?;
        let d: Vec<f64> = va.iter().zip(vb).map(|(x, y)| x - y).collect();
        let r = spectrum::Readout::new(d.len(), dt, &readout_freqs)
            .map_err(|e| CliError::Run(e.to_string()))?;
        let c = r.read(&d, t0).map_err(|e| CliError::Run(e.to_string()))?;
        if c[1].in_phase.abs() > best.1 {
            best = (j, c[1].in_phase.abs(), c[0].in_phase, c[1].in_phase);
        }
        waves.push((t0, dt, d));
    }
    let (j, _, a_coef, e_coef) = best;
    let (t0, dt, d) = &waves[j];
    let t: Vec<f64> = (0..d.len()).map(|i| t0 + i as f64 * dt).collect();
    // the error component alone, around its activation level, is what the readout sees
    let e_only: Vec<f64> = d.iter().map(|v| v - a_coef).collect();
    let (f, mag) = spectrum::magnitude_spectrum(d, *dt, spectrum::Window::Rectangular)
        .map_err(|e| CliError::Run(e.to_string()))?;
    let name = net.circuit.elements[net.trainable[j]].name.clone();
    stacked(
        path,
        &[
            (
                &format!("voltage across {name} minus its activation A = {a_coef:.4e} V"),
                Axes::new("time (s)", "v - A (V)"),
                vec![Series::new("error signal", &t, &e_only)],
            ),
            (
                &format!("magnitude spectrum (E = {e_coef:.3e} V at f_e)"),
                Axes::new("frequency (Hz)", "|V| (V)")
                    .log_y()
                    .marker(config.transient.freq, "f_e"),
                vec![Series::new("|V(f)|", &f, &mag)],
            ),
        ],
    )
    .map_err(|e| CliError::Run(e.to_string()))?;
    Ok((a_coef, e_coef, name))
}

//! `freqprop train`: train a network with frequency propagation (or the exact adjoint
//! gradient) from a TOML configuration; checkpoint every epoch; `--resume` continues a run
//! bit-identically. A run file ending in `.h5` is an HDF5 run file (see
//! [`learn::runfile`]: configuration, conductances per epoch, history, checkpoint and the
//! waveforms of a few samples); any other name gets the JSON checkpoint.

use crate::CliError;
use learn::runfile::{read_run, write_run, RunData};
use learn::train::{
    config_base, load_checkpoint, read_config, save_checkpoint, EngineKind, Trainer,
};
use learn::LearnError;
use std::path::{Path, PathBuf};

/// Training samples whose waveforms go into an HDF5 run file.
pub const RECORDED_SAMPLES: [usize; 2] = [0, 1];

fn is_h5_name(p: &Path) -> bool {
    p.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("h5") || e.eq_ignore_ascii_case("hdf5"))
}

/// Arguments of `freqprop train`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Training configuration (TOML; see examples/iris.toml).
    pub config: PathBuf,
    /// Run file, rewritten atomically after every epoch: `.h5` for the HDF5 run file
    /// (configuration, conductances per epoch, history, checkpoint, sample waveforms), any
    /// other name for the JSON checkpoint alone.
    #[arg(short, long, default_value = "run.h5")]
    pub output: PathBuf,
    /// Override the seed (split, initial conductances, shuffles).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Continue from the run file.
    #[arg(long)]
    pub resume: bool,
    /// Print a JSON summary instead of the progress bar.
    #[arg(long)]
    pub json: bool,
    /// Gradient engine: adjoint (exact) or transient (the physical protocol).
    #[arg(long)]
    pub engine: Option<EngineKind>,
    /// Override the number of epochs.
    #[arg(long)]
    pub epochs: Option<usize>,
    #[command(flatten)]
    pub memory: crate::resources::MemoryArgs,
}

/// Estimate the run's peak memory (one simulator per rayon worker, the dataset, the
/// conductance history, the recorded waveforms) and refuse it when over the budget.
fn check_memory(
    config: &learn::train::Config,
    base: &Path,
    h5: bool,
    args: &crate::resources::MemoryArgs,
    what: &str,
) -> Result<crate::resources::Estimate, CliError> {
    use crate::resources::{SimSize, TrainPlan};
    let (split, network) = learn::train::setup(config, base).map_err(learn_err)?;
    let sim = transient::Simulator::new(&network.circuit)
        .map_err(|e| CliError::Input(format!("{what}: the network's circuit: {e}")))?;
    let n_out = network.outputs.len();
    let transient = config.train.engine == EngineKind::Transient;
    let plan = TrainPlan {
        sim: SimSize::of(&sim, &network.circuit),
        nodes: network.circuit.nodes.len(),
        trainable: network.trainable.len(),
        workers: rayon::current_num_threads(),
        window_points: if transient {
            config.transient.points_per_period * config.transient.periods
        } else {
            0
        },
        samples: split.train.len() + split.test.len(),
        values_per_sample: split.train.n_features() + n_out,
        epochs: config.train.epochs,
        recorded: if h5 { RECORDED_SAMPLES.len() } else { 0 },
    };
    let estimate = crate::resources::train_estimate(&plan);
    crate::resources::check(what, &estimate, args)?;
    Ok(estimate)
}

pub(crate) fn learn_err(e: LearnError) -> CliError {
    if e.is_input() {
        CliError::Input(e.to_string())
    } else {
        CliError::Run(e.to_string())
    }
}

/// Run `freqprop train`.
pub fn run(args: Args) -> Result<i32, CliError> {
    let mut config = read_config(&args.config).map_err(learn_err)?;
    if let Some(s) = args.seed {
        config.train.seed = s;
    }
    if let Some(e) = args.engine {
        config.train.engine = e;
    }
    if let Some(e) = args.epochs {
        config.train.epochs = e;
    }
    let base = config_base(&args.config);
    let start = std::time::Instant::now();
    let h5 = is_h5_name(&args.output) || (args.resume && learn::runfile::is_hdf5(&args.output));
    let estimate = if args.memory.no_memory_check {
        None
    } else {
        Some(check_memory(
            &config,
            &base,
            h5,
            &args.memory,
            &args.config.display().to_string(),
        )?)
    };
    // conductances: initial, then after each epoch (kept for the HDF5 run file)
    let mut g_rows: Vec<Vec<f64>>;
    let mut trainer = if args.resume {
        if h5 {
            let run = read_run(&args.output).map_err(learn_err)?;
            let t = Trainer::resume(config, &base, &run.checkpoint).map_err(learn_err)?;
            g_rows = run.conductances;
            g_rows.truncate(t.epoch + 1);
            t
        } else {
            let ck = load_checkpoint(&args.output).map_err(learn_err)?;
            let t = Trainer::resume(config, &base, &ck).map_err(learn_err)?;
            g_rows = vec![t.network.conductances()];
            t
        }
    } else {
        let t = Trainer::new(config, &base).map_err(learn_err)?;
        g_rows = vec![t.g.clone()];
        t
    };
    let epochs = trainer.config.train.epochs;
    let n_train = trainer.split.train.len() as u64;
    let bar = if args.json {
        indicatif::ProgressBar::hidden()
    } else {
        let b =
            indicatif::ProgressBar::new((epochs.saturating_sub(trainer.epoch)) as u64 * n_train);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{elapsed_precise} [{bar:30}] epoch {prefix} {msg}",
            )
            .unwrap()
            .progress_chars("=> "),
        );
        b
    };
    let mut last_msg = String::new();
    while trainer.epoch < epochs {
        bar.set_prefix(format!("{}/{}", trainer.epoch + 1, epochs));
        let msg0 = last_msg.clone();
        let mut cb = |_done: usize, _total: usize, loss: f64| {
            bar.inc(0);
            bar.set_message(format!("loss {loss:.4} {msg0}"));
        };
        let before = trainer.epoch;
        let s = trainer.train_epoch(&mut cb).map_err(learn_err)?;
        bar.inc(n_train);
        let _ = before;
        last_msg = match (s.train_accuracy, s.test_accuracy) {
            (Some(a), Some(b)) => {
                format!("| train acc {:.1}% test acc {:.1}%", 100.0 * a, 100.0 * b)
            }
            _ => format!(
                "| train loss {:.4e} test loss {:.4e}",
                s.train_loss, s.test_loss
            ),
        };
        if h5 {
            // rows lost (e.g. resumed from a JSON checkpoint) are filled with NaN
            while g_rows.len() < trainer.epoch {
                g_rows.push(vec![f64::NAN; trainer.g.len()]);
            }
            g_rows.push(trainer.g.clone());
            let run = RunData::from_trainer(&trainer, g_rows.clone(), &RECORDED_SAMPLES)
                .map_err(learn_err)?;
            write_run(&args.output, &run).map_err(learn_err)?;
        } else {
            save_checkpoint(&args.output, &trainer.checkpoint()).map_err(learn_err)?;
        }
    }
    bar.finish_and_clear();
    let last = trainer.history.last().cloned();
    let seconds = start.elapsed().as_secs_f64();
    match last {
        None => return Err(CliError::Run("no epoch was run (already complete?)".into())),
        Some(s) => {
            if args.json {
                let j = serde_json::json!({
                    "epochs": s.epoch,
                    "engine": trainer.config.train.engine,
                    "seed": trainer.config.train.seed,
                    "train_loss": s.train_loss,
                    "test_loss": s.test_loss,
                    "train_accuracy": s.train_accuracy,
                    "test_accuracy": s.test_accuracy,
                    "seconds": seconds,
                    "run": args.output.display().to_string(),
                    "memory_estimate": estimate.as_ref().map(|e| e.to_json()),
                });
                println!("{}", serde_json::to_string_pretty(&j).unwrap());
            } else {
                println!(
                    "epoch {}: train loss {:.5} test loss {:.5}{}{}  ({:.1} s) -> {}",
                    s.epoch,
                    s.train_loss,
                    s.test_loss,
                    s.train_accuracy
                        .map(|a| format!(", train accuracy {:.2}%", 100.0 * a))
                        .unwrap_or_default(),
                    s.test_accuracy
                        .map(|a| format!(", test accuracy {:.2}%", 100.0 * a))
                        .unwrap_or_default(),
                    seconds,
                    args.output.display()
                );
            }
        }
    }
    Ok(0)
}

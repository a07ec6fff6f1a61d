//! `freqprop train`: train a network with frequency propagation (or the exact adjoint
//! gradient) from a TOML configuration; checkpoint every epoch; `--resume` continues a run
//! bit-identically. A run file ending in `.h5` is an HDF5 run file (see
//! [`learn::runfile`]: configuration, conductances per epoch, history, checkpoint and the
//! waveforms of a few samples); any other name gets the JSON checkpoint.

use crate::{interrupt, CliError};
use learn::failure::{self, FailurePolicy};
use learn::runfile::{
    read_run, write_run, RunData, STATUS_COMPLETE, STATUS_INTERRUPTED, STATUS_RUNNING,
};
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
        workers: rayon::current_num_threads() + 1,
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

/// Where the run is saved after each epoch, and what was last saved there.
struct Saver {
    path: PathBuf,
    h5: bool,
    /// conductances: initial, then after each epoch (kept for the HDF5 run file)
    g_rows: Vec<Vec<f64>>,
    /// The last run file written (HDF5), to rewrite with another status.
    last: Option<RunData>,
}

impl Saver {
    /// Save the trainer's state with `status`; returns the notes on samples that could not
    /// be recorded.
    fn save(&mut self, t: &Trainer, status: &str) -> Result<Vec<String>, CliError> {
        if !self.h5 {
            save_checkpoint(&self.path, &t.checkpoint()).map_err(learn_err)?;
            return Ok(vec![]);
        }
        // rows lost (e.g. resumed from a JSON checkpoint) are filled with NaN
        while self.g_rows.len() < t.epoch {
            self.g_rows.push(vec![f64::NAN; t.g.len()]);
        }
        self.g_rows.truncate(t.epoch);
        self.g_rows.push(t.g.clone());
        let (mut run, failed) =
            RunData::from_trainer_lenient(t, self.g_rows.clone(), &RECORDED_SAMPLES)
                .map_err(learn_err)?;
        let mut notes = Vec::new();
        for (i, e) in failed {
            if t.config.train.on_failure == FailurePolicy::Abort {
                return Err(CliError::Run(format!(
                    "recording training example #{i} for the run file: {e}"
                )));
            }
            notes.push(format!(
                "training example #{i} left out of the run file's samples: {e}"
            ));
        }
        run.status = status.to_string();
        write_run(&self.path, &run).map_err(learn_err)?;
        self.last = Some(run);
        Ok(notes)
    }

    /// Rewrite the last saved run file with another status (nothing for a JSON checkpoint).
    fn mark(&mut self, status: &str) -> Result<(), CliError> {
        if let Some(run) = &mut self.last {
            run.status = status.to_string();
            write_run(&self.path, run).map_err(learn_err)?;
        }
        Ok(())
    }
}

/// Remove the temporary files `<run>.tmp-<pid>` that a killed run left next to the run file
/// (their process no longer exists; on systems without `/proc` nothing is removed).
fn remove_stale_temps(output: &Path) {
    let Some(name) = output.file_name() else {
        return;
    };
    let dir = match output.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !Path::new("/proc/self").exists() {
        return;
    }
    let prefix = format!("{}.tmp-", name.to_string_lossy());
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let n = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = n.strip_prefix(&prefix).and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid != std::process::id()
            && !Path::new(&format!("/proc/{pid}")).exists()
            && std::fs::remove_file(entry.path()).is_ok()
        {
            eprintln!(
                "removed {} (left by a run that was killed while writing)",
                entry.path().display()
            );
        }
    }
}

fn skipped_json(t: &Trainer) -> serde_json::Value {
    serde_json::Value::Array(
        t.history
            .iter()
            .filter(|s| !s.skipped.is_empty())
            .map(|s| {
                serde_json::json!({
                    "epoch": s.epoch,
                    "count": s.skipped.len(),
                    "examples": s.skipped,
                })
            })
            .collect(),
    )
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
    remove_stale_temps(&args.output);
    let mut saver = Saver {
        path: args.output.clone(),
        h5,
        g_rows: vec![],
        last: None,
    };
    let mut trainer = if args.resume {
        if h5 {
            let run = read_run(&args.output).map_err(learn_err)?;
            let t = Trainer::resume(config, &base, &run.checkpoint).map_err(learn_err)?;
            saver.g_rows = run.conductances.clone();
            saver.g_rows.truncate(t.epoch + 1);
            saver.last = Some(run);
            t
        } else {
            let ck = load_checkpoint(&args.output).map_err(learn_err)?;
            let t = Trainer::resume(config, &base, &ck).map_err(learn_err)?;
            saver.g_rows = vec![t.network.conductances()];
            t
        }
    } else {
        let t = Trainer::new(config, &base).map_err(learn_err)?;
        saver.g_rows = vec![t.g.clone()];
        t
    };
    interrupt::install()?;
    trainer.set_stop_flag(interrupt::stop_flag());
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
    let mut signal = None;
    while trainer.epoch < epochs {
        if let Some(sig) = interrupt::received() {
            signal = Some(sig);
            break;
        }
        bar.set_prefix(format!("{}/{}", trainer.epoch + 1, epochs));
        let msg0 = last_msg.clone();
        let mut cb = |_done: usize, _total: usize, loss: f64| {
            bar.inc(0);
            bar.set_message(format!("loss {loss:.4} {msg0}"));
        };
        let s = match trainer.train_epoch(&mut cb) {
            Ok(s) => s,
            Err(LearnError::Interrupted) => {
                // the stop flag is only set by a signal handler
                signal = Some(interrupt::received().unwrap_or(2));
                break;
            }
            Err(e) => {
                bar.finish_and_clear();
                let e = learn_err(e);
                if matches!(e, CliError::Run(_)) && saver.last.is_some() {
                    // keep the last completed epoch, marked with the failure
                    saver.mark(&format!("failed: {e}"))?;
                    return Err(CliError::Run(format!(
                        "{e}\nthe run file {} keeps epoch {} (status: failed)",
                        args.output.display(),
                        trainer.epoch
                    )));
                }
                return Err(e);
            }
        };
        bar.inc(n_train);
        if let Some(line) = failure::summary_line(s.epoch, &s.skipped) {
            bar.suspend(|| eprintln!("{line}"));
        }
        last_msg = match (s.train_accuracy, s.test_accuracy) {
            (Some(a), Some(b)) => {
                format!("| train acc {:.1}% test acc {:.1}%", 100.0 * a, 100.0 * b)
            }
            _ => format!(
                "| train loss {:.4e} test loss {:.4e}",
                s.train_loss, s.test_loss
            ),
        };
        let status = if trainer.epoch == epochs {
            STATUS_COMPLETE
        } else {
            STATUS_RUNNING
        };
        for note in saver.save(&trainer, status)? {
            bar.suspend(|| eprintln!("note: {note}"));
        }
    }
    bar.finish_and_clear();
    if let Some(sig) = signal {
        return interrupted(&args, &mut saver, &trainer, sig, start);
    }
    let last = trainer.history.last().cloned();
    let seconds = start.elapsed().as_secs_f64();
    match last {
        None => return Err(CliError::Run("no epoch was run (already complete?)".into())),
        Some(s) => {
            if args.json {
                let j = serde_json::json!({
                    "status": STATUS_COMPLETE,
                    "epochs": s.epoch,
                    "engine": trainer.config.train.engine,
                    "seed": trainer.config.train.seed,
                    "on_failure": trainer.config.train.on_failure,
                    "train_loss": s.train_loss,
                    "test_loss": s.test_loss,
                    "train_accuracy": s.train_accuracy,
                    "test_accuracy": s.test_accuracy,
                    "skipped": skipped_json(&trainer),
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

/// After a signal: make sure the run file holds the last completed epoch, marked
/// interrupted, say how to resume, and return `128 + signal`.
fn interrupted(
    args: &Args,
    saver: &mut Saver,
    trainer: &Trainer,
    sig: i32,
    start: std::time::Instant,
) -> Result<i32, CliError> {
    let saved_epoch = saver
        .last
        .as_ref()
        .map(|r| r.checkpoint.epoch == trainer.epoch)
        .unwrap_or(false);
    if saved_epoch {
        saver.mark(STATUS_INTERRUPTED)?;
    } else {
        // nothing saved yet (a fresh run stopped in its first epoch, or a JSON checkpoint)
        saver.save(trainer, STATUS_INTERRUPTED)?;
    }
    let mut resume = format!(
        "freqprop train {} -o {} --resume",
        args.config.display(),
        args.output.display()
    );
    if let Some(s) = args.seed {
        resume.push_str(&format!(" --seed {s}"));
    }
    if let Some(e) = args.engine {
        resume.push_str(&format!(
            " --engine {}",
            match e {
                EngineKind::Adjoint => "adjoint",
                EngineKind::Transient => "transient",
            }
        ));
    }
    if let Some(e) = args.epochs {
        resume.push_str(&format!(" --epochs {e}"));
    }
    eprintln!(
        "interrupted by {}: saved epoch {}/{} in {}{}; continue with:\n  {resume}",
        interrupt::name(sig),
        trainer.epoch,
        trainer.config.train.epochs,
        args.output.display(),
        if saver.h5 {
            " (status: interrupted)"
        } else {
            ""
        },
    );
    if args.json {
        let j = serde_json::json!({
            "status": STATUS_INTERRUPTED,
            "signal": interrupt::name(sig),
            "epochs": trainer.epoch,
            "engine": trainer.config.train.engine,
            "seed": trainer.config.train.seed,
            "on_failure": trainer.config.train.on_failure,
            "skipped": skipped_json(trainer),
            "seconds": start.elapsed().as_secs_f64(),
            "run": args.output.display().to_string(),
            "resume": resume,
        });
        println!("{}", serde_json::to_string_pretty(&j).unwrap());
    }
    Ok(interrupt::exit_code(sig))
}

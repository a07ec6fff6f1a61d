//! `freqprop sweep`: plan, run, and collect parameter sweeps, locally or as a Slurm job array.

use crate::CliError;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use sweep::{Spec, SweepError};

/// Parameter sweeps: one TOML spec, one HDF5 file per point, reruns only what is missing.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: SweepCommand,
}

/// `freqprop sweep` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum SweepCommand {
    /// Write the manifest and each point's resolved configuration to DIR.
    Plan {
        /// Sweep spec (TOML).
        spec: PathBuf,
        /// Output directory.
        #[arg(short, long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Run one point (skipped when its result is already complete).
    Run {
        /// Sweep spec (TOML).
        spec: PathBuf,
        /// Output directory.
        #[arg(short, long, value_name = "DIR")]
        out: PathBuf,
        /// Point index (0-based).
        #[arg(long)]
        index: usize,
    },
    /// Run every pending point on this machine, in parallel.
    Local {
        /// Sweep spec (TOML).
        spec: PathBuf,
        /// Output directory.
        #[arg(short, long, value_name = "DIR")]
        out: PathBuf,
        /// Parallel jobs (default: all cores).
        #[arg(short, long, default_value_t = 0)]
        jobs: usize,
    },
    /// Write an sbatch job-array script for the pending points; --submit submits it.
    Slurm {
        /// Sweep spec (TOML).
        spec: PathBuf,
        /// Output directory (should be on a file system the compute nodes share).
        #[arg(short, long, value_name = "DIR")]
        out: PathBuf,
        /// Submit the script with sbatch and print the job id.
        #[arg(long)]
        submit: bool,
        /// Slurm partition.
        #[arg(long)]
        partition: Option<String>,
        /// Time limit per task (Slurm syntax, e.g. 00:10:00).
        #[arg(long)]
        time: Option<String>,
        /// CPUs per task.
        #[arg(long)]
        cpus_per_task: Option<u32>,
        /// Most tasks running at once (the array's %M).
        #[arg(long)]
        max_parallel: Option<usize>,
        /// Extra sbatch option, verbatim (repeatable), e.g. --sbatch-arg=--account=abc.
        #[arg(long, allow_hyphen_values = true)]
        sbatch_arg: Vec<String>,
    },
    /// Report complete, missing and failed points.
    Status {
        /// Output directory of the sweep.
        dir: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Merge the complete points into one HDF5 table (and a CSV next to it).
    Collect {
        /// Output directory of the sweep.
        dir: PathBuf,
        /// Table file (HDF5); the CSV gets the same name with extension .csv.
        #[arg(short, long, value_name = "TABLE.h5")]
        out: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

fn cli_err(e: SweepError) -> CliError {
    match e {
        SweepError::Input(m) => CliError::Input(m),
        SweepError::Run(m) => CliError::Run(m),
        SweepError::Interrupted => CliError::Run("interrupted".into()),
    }
}

/// Stop points on SIGINT/SIGTERM (see [`crate::interrupt`]).
fn install_stop() -> Result<(), CliError> {
    crate::interrupt::install()?;
    sweep::set_stop_flag(crate::interrupt::stop_flag());
    Ok(())
}

/// The exit code after a signal, with a note on what happened to the points.
fn interrupted_exit(what: &str) -> Option<i32> {
    let sig = crate::interrupt::received()?;
    eprintln!(
        "interrupted by {}: {what}; the points in flight were discarded (no result files), rerun the same command to finish",
        crate::interrupt::name(sig)
    );
    Some(crate::interrupt::exit_code(sig))
}

fn load(spec: &Path) -> Result<Spec, CliError> {
    Spec::load(spec).map_err(cli_err)
}

fn status_json(st: &sweep::Status) -> serde_json::Value {
    serde_json::json!({
        "points": st.points,
        "complete": st.complete.len(),
        "missing": st.missing,
        "failed": st.failed,
        "errors": st.errors,
    })
}

fn print_status(st: &sweep::Status) {
    println!(
        "{} points: {} complete, {} missing, {} failed",
        st.points,
        st.complete.len(),
        st.missing.len(),
        st.failed.len()
    );
    if !st.missing.is_empty() {
        println!("missing: {}", sweep::array_ranges(&st.missing));
    }
    for (i, e) in st.failed.iter().zip(&st.errors) {
        println!("failed {i}: {e}");
    }
}

/// Run `freqprop sweep`.
pub fn run(args: Args) -> Result<i32, CliError> {
    match args.command {
        SweepCommand::Plan { spec, out } => {
            let s = load(&spec)?;
            let m = sweep::plan(&s, &out).map_err(cli_err)?;
            println!(
                "planned {} points ({}) in {}",
                m.points.len(),
                m.params.join(" x "),
                out.display()
            );
            Ok(0)
        }
        SweepCommand::Run { spec, out, index } => {
            let s = load(&spec)?;
            install_stop()?;
            let t0 = std::time::Instant::now();
            let r = sweep::run_point(&s, &out, index);
            if let Err(SweepError::Interrupted) = r {
                let what = format!("point {index} not run");
                return Ok(interrupted_exit(&what).unwrap_or(130));
            }
            match r.map_err(cli_err)? {
                sweep::RunOutcome::Skipped => eprintln!("point {index}: already complete"),
                sweep::RunOutcome::Done => {
                    eprintln!("point {index}: done in {:.2} s", t0.elapsed().as_secs_f64())
                }
            }
            Ok(0)
        }
        SweepCommand::Local { spec, out, jobs } => {
            let s = load(&spec)?;
            let n = s.points().len();
            let bar = ProgressBar::new(n as u64);
            bar.set_style(
                ProgressStyle::with_template("{bar:40} {pos}/{len} points [{elapsed}<{eta}] {msg}")
                    .expect("valid template"),
            );
            if let Ok(st) = sweep::status(&out) {
                bar.set_position(st.complete.len() as u64);
            }
            install_stop()?;
            let st = sweep::run_local(&s, &out, jobs, |i, r| match r {
                Err(SweepError::Interrupted) => {}
                Err(e) => {
                    bar.println(format!("point {i} failed: {e}"));
                    bar.inc(1);
                }
                Ok(_) => bar.inc(1),
            })
            .map_err(cli_err)?;
            bar.finish_and_clear();
            print_status(&st);
            if let Some(code) = interrupted_exit("stopped starting points") {
                return Ok(code);
            }
            Ok(if st.complete.len() == st.points { 0 } else { 1 })
        }
        SweepCommand::Slurm {
            spec,
            out,
            submit,
            partition,
            time,
            cpus_per_task,
            max_parallel,
            sbatch_arg,
        } => {
            let s = load(&spec)?;
            let exe = std::env::current_exe()
                .map_err(|e| CliError::Run(format!("cannot find the freqprop executable: {e}")))?;
            let opts = sweep::SlurmOptions {
                partition,
                time,
                cpus_per_task,
                max_parallel,
                extra: sbatch_arg,
            };
            let (script, pending) =
                sweep::write_slurm_script(&exe, &s, &out, &opts).map_err(cli_err)?;
            if pending.is_empty() {
                eprintln!("all points are complete; nothing to submit");
                return Ok(0);
            }
            eprintln!(
                "wrote {} for {} points ({})",
                script.display(),
                pending.len(),
                sweep::array_ranges(&pending)
            );
            if submit {
                let o = std::process::Command::new("sbatch")
                    .arg("--parsable")
                    .arg(&script)
                    .output()
                    .map_err(|e| CliError::Run(format!("cannot run sbatch: {e}")))?;
                if !o.status.success() {
                    return Err(CliError::Run(format!(
                        "sbatch failed ({}): {}",
                        o.status,
                        String::from_utf8_lossy(&o.stderr).trim()
                    )));
                }
                let id = String::from_utf8_lossy(&o.stdout);
                let id = id.trim().split(';').next().unwrap_or("").to_string();
                println!("{id}");
            }
            Ok(0)
        }
        SweepCommand::Status { dir, json } => {
            let st = sweep::status(&dir).map_err(cli_err)?;
            if json {
                println!("{}", status_json(&st));
            } else {
                print_status(&st);
            }
            Ok(0)
        }
        SweepCommand::Collect { dir, out, json } => {
            let t = sweep::collect(&dir, &out).map_err(cli_err)?;
            let st = &t.status;
            if json {
                let mut v = status_json(st);
                v["table"] = serde_json::json!(out.display().to_string());
                v["csv"] = serde_json::json!(out.with_extension("csv").display().to_string());
                v["rows"] = serde_json::json!(t.index.len());
                println!("{v}");
            } else {
                print_status(st);
                println!("wrote {} rows to {}", t.index.len(), out.display());
            }
            Ok(if st.complete.len() == st.points { 0 } else { 1 })
        }
    }
}

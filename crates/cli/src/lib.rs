//! # cli
//!
//! The `freqprop` command line: argument parsing (clap) and one module per subcommand.
//! The binary in the workspace root only calls [`main_exit_code`].
//!
//! Exit codes: 0 success, 1 a failed run or a failed check (for example `compare` out of
//! tolerance), 2 bad input (unreadable file, parse error, invalid option), 130/143 stopped by
//! SIGINT/SIGTERM after saving what was complete (see [`interrupt`]).
//!
//! ```no_run
//! std::process::exit(cli::main_exit_code());
//! ```

use clap::{Parser, Subcommand};

pub mod compare;
pub mod demo;
pub mod error;
pub mod gradcheck;
pub mod interrupt;
pub mod plot;
pub mod resources;
pub mod simulate;
pub mod spectrum;
pub mod sweep;
pub mod train;

pub use error::CliError;

/// freqprop: simulate nonlinear resistive circuits in the time domain, read their spectra,
/// and train them with frequency propagation.
#[derive(Debug, Parser)]
#[command(
    name = "freqprop",
    version,
    about = "Simulate nonlinear resistive circuits, read their spectra, and train them with frequency propagation",
    long_about = None
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a netlist's analysis (.op or .tran) and write waveforms to HDF5 and a rawfile.
    Simulate(simulate::Args),
    /// Compare two traces (rawfile, freqprop HDF5 or CSV) node by node.
    Compare(compare::Args),
    /// Read amplitude and phase of node voltages at given frequencies.
    Spectrum(spectrum::Args),
    /// Train a network with frequency propagation (or the exact adjoint gradient).
    Train(train::Args),
    /// Check the frequency-propagation update against the exact gradient.
    Gradcheck(gradcheck::Args),
    /// Train a diode network on Iris with frequency propagation (embedded defaults), check
    /// it against the exact gradient, and write the run file and figures.
    Demo(demo::Args),
    /// Draw waveforms of a stored run (HDF5, rawfile or CSV) to a PNG.
    Plot(plot::Args),
    /// Parameter sweeps: plan, run locally or as a Slurm job array, status, collect.
    Sweep(sweep::Args),
}

/// Run the command line with the process arguments; returns the exit code.
pub fn main_exit_code() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}

/// Dispatch a parsed command line.
pub fn run(cli: Cli) -> Result<i32, CliError> {
    match cli.command {
        Command::Simulate(args) => simulate::run(args),
        Command::Compare(args) => compare::run(args),
        Command::Spectrum(args) => spectrum::run(args),
        Command::Train(args) => train::run(args),
        Command::Gradcheck(args) => gradcheck::run(args),
        Command::Plot(args) => plot::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Sweep(args) => sweep::run(args),
    }
}

//! `freqprop-fuzz TARGET --runs N --seed S [--timeout-ms MS]`: replay the corpus of a target,
//! then run N mutants; print the rate; on a failure write the input to
//! `fuzz/artifacts/TARGET/` and exit 1.

use clap::Parser;
use fuzz::engine::{self, Options};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "freqprop-fuzz",
    about = "Fuzz freqprop's input readers (see docs/fuzzing.md)"
)]
struct Args {
    /// Target: netlist, rawfile, train_config, sweep_spec, csv, or all.
    target: String,
    /// Mutants to run per target (after the corpus replay).
    #[arg(long, default_value_t = 100_000)]
    runs: u64,
    /// Seed of the mutation stream.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// An input that runs longer than this is a failure (a hang).
    #[arg(long, default_value_t = 1000)]
    timeout_ms: u64,
    /// Longest mutant, bytes.
    #[arg(long, default_value_t = 16 * 1024)]
    max_len: usize,
    /// Address-space limit (MB; 0: none), so that a runaway allocation fails (and is
    /// reported) instead of exhausting the machine.
    #[arg(long, default_value_t = 4096)]
    rss_limit_mb: u64,
    /// The fuzz directory (corpus/, regressions/, artifacts/).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Replay these files instead of fuzzing.
    #[arg(long, num_args = 1..)]
    replay: Vec<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let dir = args.dir.clone().unwrap_or_else(fuzz::fuzz_dir);
    let targets: Vec<&'static fuzz::Target> = if args.target == "all" {
        fuzz::TARGETS.iter().collect()
    } else {
        match fuzz::target(&args.target) {
            Some(t) => vec![t],
            None => {
                let names: Vec<_> = fuzz::TARGETS.iter().map(|t| t.name).collect();
                eprintln!(
                    "freqprop-fuzz: unknown target `{}` (expected one of {}, or all)",
                    args.target,
                    names.join(", ")
                );
                return ExitCode::from(2);
            }
        }
    };
    if args.rss_limit_mb > 0 {
        let bytes = args.rss_limit_mb.saturating_mul(1 << 20);
        let lim = libc::rlimit {
            rlim_cur: bytes as libc::rlim_t,
            rlim_max: bytes as libc::rlim_t,
        };
        // SAFETY: setrlimit with a valid struct.
        if unsafe { libc::setrlimit(libc::RLIMIT_AS, &lim) } != 0 {
            eprintln!(
                "freqprop-fuzz: cannot limit the address space to {} MB",
                args.rss_limit_mb
            );
        }
    }
    if !args.replay.is_empty() {
        let t = targets[0];
        let mut failed = false;
        for p in &args.replay {
            let input = match std::fs::read(p) {
                Ok(b) => b,
                Err(e) => {
                    eprintln!("freqprop-fuzz: {}: {e}", p.display());
                    return ExitCode::from(2);
                }
            };
            match engine::run_one(t, &input) {
                Ok(o) => println!("{}: {}: {o:?}", t.name, p.display()),
                Err(m) => {
                    println!("{}: {}: PANIC {m}", t.name, p.display());
                    failed = true;
                }
            }
        }
        return if failed {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        };
    }
    for t in targets {
        let seeds = match engine::corpus(&dir, t) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("freqprop-fuzz: reading the corpus of {}: {e}", t.name);
                return ExitCode::from(2);
            }
        };
        let artifacts = dir.join("artifacts").join(t.name);
        if std::fs::create_dir_all(&artifacts).is_ok() {
            engine::install_fatal_signal_handler(&artifacts.join("signal-crash"));
        }
        let opts = Options {
            runs: args.runs,
            seed: args.seed,
            max_len: args.max_len,
            timeout: Some(Duration::from_millis(args.timeout_ms.max(1))),
            artifacts: Some(artifacts),
            ..Options::default()
        };
        let seeds: Vec<Vec<u8>> = seeds.into_iter().map(|(_, b)| b).collect();
        let n_seeds = seeds.len();
        let (stats, crash) = engine::fuzz(t, &seeds, &opts);
        println!(
            "{}: {} inputs ({} corpus + mutants, seed {}) in {:.1} s: {:.0} inputs/s; {} accepted, {} distinct outcomes, pool {}, slowest input {:.1} ms",
            t.name,
            stats.inputs,
            n_seeds,
            args.seed,
            stats.elapsed.as_secs_f64(),
            stats.rate(),
            stats.accepted,
            stats.outcomes,
            stats.pool,
            stats.slowest.as_secs_f64() * 1e3
        );
        if let Some(c) = crash {
            println!(
                "{}: FAILED after {} inputs: {}\n  input ({} bytes) saved to {}\n  input: {:?}",
                t.name,
                stats.inputs,
                c.failure,
                c.input.len(),
                c.artifact
                    .as_ref()
                    .map_or("(not saved)".into(), |p| p.display().to_string()),
                String::from_utf8_lossy(&c.input[..c.input.len().min(2000)])
            );
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

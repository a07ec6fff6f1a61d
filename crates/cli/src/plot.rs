//! `freqprop plot`: PNG figures of stored results.

use crate::CliError;
use plot::{stacked, Axes, Series};
use std::path::PathBuf;

/// Arguments of `freqprop plot`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A waveform file: freqprop HDF5, SPICE rawfile or CSV.
    pub file: PathBuf,
    /// Output PNG (default: the input's name with `.png`).
    #[arg(short, long, value_name = "OUT.png")]
    pub output: Option<PathBuf>,
    /// Signals to draw (`out`, `v(out)`, `i(v1)`); default: every node voltage (at most 8).
    #[arg(long, value_delimiter = ',')]
    pub nodes: Vec<String>,
    /// Draw only from this time on (seconds).
    #[arg(long)]
    pub from: Option<f64>,
}

/// Run `freqprop plot`.
pub fn run(args: Args) -> Result<i32, CliError> {
    let w = store::read_any(&args.file).map_err(|e| CliError::Input(e.to_string()))?;
    let out = args
        .output
        .clone()
        .unwrap_or_else(|| args.file.with_extension("png"));
    let mut picks = Vec::new();
    if args.nodes.is_empty() {
        picks.extend(
            w.signals
                .iter()
                .enumerate()
                .filter(|(_, s)| s.quantity == circuit::Quantity::Voltage)
                .map(|(k, _)| k)
                .take(8),
        );
    } else {
        for n in &args.nodes {
            let k = w.index_of(n).ok_or_else(|| {
                CliError::Input(format!(
                    "{}: no signal named {n}; it has {}",
                    args.file.display(),
                    w.signals
                        .iter()
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
            picks.push(k);
        }
    }
    let from = args.from.unwrap_or(f64::NEG_INFINITY);
    let start = w
        .time
        .iter()
        .position(|&t| t >= from)
        .unwrap_or(w.time.len());
    let t = &w.time[start..];
    let volts: Vec<(String, &[f64])> = picks
        .iter()
        .filter(|&&k| w.signals[k].quantity != circuit::Quantity::Current)
        .map(|&k| (w.signals[k].name.clone(), &w.data[k][start..]))
        .collect();
    let amps: Vec<(String, &[f64])> = picks
        .iter()
        .filter(|&&k| w.signals[k].quantity == circuit::Quantity::Current)
        .map(|&k| (w.signals[k].name.clone(), &w.data[k][start..]))
        .collect();
    let mut panels = Vec::new();
    let title = if w.title.is_empty() {
        args.file.display().to_string()
    } else {
        w.title.clone()
    };
    if !volts.is_empty() {
        panels.push((
            title.as_str(),
            Axes::new("time (s)", "voltage (V)"),
            volts.iter().map(|(n, y)| Series::new(n, t, y)).collect(),
        ));
    }
    if !amps.is_empty() {
        panels.push((
            "currents",
            Axes::new("time (s)", "current (A)"),
            amps.iter().map(|(n, y)| Series::new(n, t, y)).collect(),
        ));
    }
    if panels.is_empty() {
        return Err(CliError::Input(format!(
            "{}: nothing to plot",
            args.file.display()
        )));
    }
    stacked(&out, &panels).map_err(|e| CliError::Run(e.to_string()))?;
    println!("wrote {}", out.display());
    Ok(0)
}

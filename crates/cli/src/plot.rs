//! `freqprop plot`: PNG figures of stored results. A waveform file (HDF5, rawfile, CSV) gives
//! one PNG of its traces; a training run file (`freqprop train -o RUN.h5`) gives a directory
//! of figures: learning curves, conductance histograms, and the waveform and spectrum across
//! one resistor of each recorded sample with its two coefficients marked.

use crate::CliError;
use learn::runfile::{is_run_file, read_run, RunData};
use plot::{stacked, Axes, Series};
use std::path::{Path, PathBuf};

/// Arguments of `freqprop plot`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A waveform file (freqprop HDF5, SPICE rawfile or CSV) or a training run file.
    pub file: PathBuf,
    /// Output PNG (default: the input's name with `.png`); for a run file, the output
    /// directory (default: the input's name without extension, plus `_plots`).
    #[arg(short, long, value_name = "OUT.png|DIR")]
    pub output: Option<PathBuf>,
    /// Signals to draw (`out`, `v(out)`, `i(v1)`); default: every node voltage (at most 8).
    #[arg(long, value_delimiter = ',')]
    pub nodes: Vec<String>,
    /// Draw only from this time on (seconds).
    #[arg(long)]
    pub from: Option<f64>,
    /// For a sweep table: the metric to draw (default: the first).
    #[arg(long)]
    pub metric: Option<String>,
}

/// Run `freqprop plot`.
pub fn run(args: Args) -> Result<i32, CliError> {
    if is_run_file(&args.file) {
        return run_file(&args);
    }
    if let Ok(table) = sweep::read_table(&args.file) {
        return sweep_table(&args, &table);
    }
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

fn perr(e: impl std::fmt::Display) -> CliError {
    CliError::Run(e.to_string())
}

/// Figures of a training run file into a directory.
fn run_file(args: &Args) -> Result<i32, CliError> {
    let run = read_run(&args.file).map_err(|e| CliError::Input(e.to_string()))?;
    let dir = args.output.clone().unwrap_or_else(|| {
        let stem = args
            .file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "run".into());
        args.file.with_file_name(format!("{stem}_plots"))
    });
    std::fs::create_dir_all(&dir).map_err(|e| {
        CliError::Input(format!(
            "{}: cannot create the directory: {e}",
            dir.display()
        ))
    })?;
    let written = run_figures(&run, &dir)?;
    for p in &written {
        println!("wrote {}", p.display());
    }
    Ok(0)
}

/// Write the figures of a run; returns the paths written.
pub fn run_figures(run: &RunData, dir: &Path) -> Result<Vec<PathBuf>, CliError> {
    let mut written = Vec::new();
    // learning curves
    let h = &run.history;
    if !h.is_empty() {
        let ep: Vec<f64> = h.iter().map(|s| s.epoch as f64).collect();
        let trl: Vec<f64> = h.iter().map(|s| s.train_loss).collect();
        let tel: Vec<f64> = h.iter().map(|s| s.test_loss).collect();
        let pct = |a: Option<f64>| 100.0 * a.unwrap_or(f64::NAN);
        let tra: Vec<f64> = h.iter().map(|s| pct(s.train_accuracy)).collect();
        let tea: Vec<f64> = h.iter().map(|s| pct(s.test_accuracy)).collect();
        let mut panels = vec![(
            "loss",
            Axes::new("epoch", "loss").log_y(),
            vec![
                Series::new("train", &ep, &trl),
                Series::new("test", &ep, &tel),
            ],
        )];
        if h.iter().any(|s| s.train_accuracy.is_some()) {
            panels.push((
                "accuracy",
                Axes::new("epoch", "accuracy (%)"),
                vec![
                    Series::new("train", &ep, &tra),
                    Series::new("test", &ep, &tea),
                ],
            ));
        }
        let p = dir.join("learning_curves.png");
        stacked(&p, &panels).map_err(perr)?;
        written.push(p);
    }
    // conductance histograms: initial, middle and last epoch
    let rows = run.conductances.len();
    if rows > 0 {
        let mut picks = vec![0, rows / 2, rows - 1];
        picks.dedup();
        for k in picks {
            let g_ms: Vec<f64> = run.conductances[k]
                .iter()
                .filter(|g| g.is_finite())
                .map(|g| g * 1e3)
                .collect();
            if g_ms.is_empty() {
                continue;
            }
            let title = if k == 0 {
                "initial conductances".to_string()
            } else {
                format!("conductances after epoch {k}")
            };
            let p = dir.join(format!("conductances_epoch_{k}.png"));
            plot::histogram(&p, &title, "conductance (mS)", &g_ms, 30).map_err(perr)?;
            written.push(p);
        }
    }
    // the resistor with the largest error coefficient, per recorded sample
    for (k, s) in run.samples.iter().enumerate() {
        let Some(j) =
            (0..s.error.len()).max_by(|&a, &b| s.error[a].abs().total_cmp(&s.error[b].abs()))
        else {
            continue;
        };
        let name = run.names.get(j).cloned().unwrap_or_else(|| format!("#{j}"));
        let (a, e) = (s.activation[j], s.error[j]);
        let d = s.drop_wave(j);
        let mag = s.drop_spectrum(j);
        let p = dir.join(format!("sample_{k}_resistor.png"));
        stacked(
            &p,
            &[
                (
                    &format!(
                        "training sample {}: voltage across {name}, activation A = {a:.4e} V",
                        s.index
                    ),
                    Axes::new("time (s)", "v (V)"),
                    vec![Series::new("v(t)", &s.time, &d)],
                ),
                (
                    &format!(
                        "magnitude spectrum: A = {a:.3e} V at DC, E = {e:.3e} V at f_e = {} Hz (beta = {:e})",
                        s.freq, s.beta
                    ),
                    Axes::new("frequency (Hz)", "|V| (V)")
                        .log_y()
                        .marker(0.0, "A")
                        .marker(s.freq, "f_e"),
                    vec![Series::new("|V(f)|", &s.frequencies, &mag)],
                ),
            ],
        )
        .map_err(perr)?;
        written.push(p);
    }
    Ok(written)
}

/// A sweep table: the metric against one swept parameter (a line per value of a second
/// parameter, if any) or, with two parameters, also a heat map.
fn sweep_table(args: &Args, t: &sweep::Table) -> Result<i32, CliError> {
    let file = args.file.display();
    let m = match &args.metric {
        Some(name) => t
            .metric_names
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| {
                CliError::Input(format!(
                    "{file}: no metric {name}; the table has {}",
                    t.metric_names.join(", ")
                ))
            })?,
        None if t.metric_names.is_empty() => {
            return Err(CliError::Input(format!("{file}: the table has no metrics")))
        }
        None => 0,
    };
    if t.params.is_empty() || t.index.is_empty() {
        return Err(CliError::Input(format!(
            "{file}: the table has no swept parameter or no rows"
        )));
    }
    let metric = &t.metric_names[m];
    let out = args
        .output
        .clone()
        .unwrap_or_else(|| args.file.with_extension("png"));
    let distinct = |k: usize| -> Vec<f64> {
        let mut v: Vec<f64> = t.values.iter().map(|r| r[k]).collect();
        v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
        v.dedup();
        v
    };
    let xs = distinct(0);
    let log_x = xs.len() > 2 && xs[0] > 0.0 && xs[xs.len() - 1] / xs[0] > 100.0;
    let xlabel = if log_x {
        format!("log10 {}", t.params[0])
    } else {
        t.params[0].clone()
    };
    let fx = |x: f64| if log_x { x.log10() } else { x };
    if t.params.len() == 1 {
        let mut rows: Vec<(f64, f64)> = t
            .values
            .iter()
            .zip(&t.metrics)
            .map(|(p, r)| (fx(p[0]), r[m]))
            .collect();
        rows.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal));
        let (x, y): (Vec<f64>, Vec<f64>) = rows.into_iter().unzip();
        plot::line_chart(
            &out,
            metric,
            &plot::Axes::new(&xlabel, metric),
            &[plot::Series::new(metric, &x, &y)],
        )
        .map_err(|e| CliError::Run(e.to_string()))?;
    } else {
        // lines over parameter 0, one per value of parameter 1; and a heat map beside it
        let ys = distinct(1);
        let mut lines: Vec<(String, Vec<f64>, Vec<f64>)> = Vec::new();
        let mut z = vec![vec![f64::NAN; xs.len()]; ys.len()];
        for y in &ys {
            let mut rows: Vec<(f64, f64)> = t
                .values
                .iter()
                .zip(&t.metrics)
                .filter(|(p, _)| p[1] == *y)
                .map(|(p, r)| (fx(p[0]), r[m]))
                .collect();
            rows.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal));
            let (x, v): (Vec<f64>, Vec<f64>) = rows.into_iter().unzip();
            lines.push((format!("{} = {y:e}", t.params[1]), x, v));
        }
        for (p, r) in t.values.iter().zip(&t.metrics) {
            let i = ys.iter().position(|y| *y == p[1]).unwrap_or(0);
            let j = xs.iter().position(|x| *x == p[0]).unwrap_or(0);
            z[i][j] = r[m];
        }
        let series: Vec<plot::Series<'_>> = lines
            .iter()
            .map(|(l, x, y)| plot::Series::new(l, x, y))
            .collect();
        plot::line_chart(&out, metric, &plot::Axes::new(&xlabel, metric), &series)
            .map_err(|e| CliError::Run(e.to_string()))?;
        let heat = out.with_file_name(format!(
            "{}_heatmap.png",
            out.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "sweep".into())
        ));
        plot::heatmap(&heat, metric, &t.params[0], &t.params[1], &xs, &ys, &z)
            .map_err(|e| CliError::Run(e.to_string()))?;
        println!("wrote {}", heat.display());
    }
    println!("wrote {}", out.display());
    Ok(0)
}

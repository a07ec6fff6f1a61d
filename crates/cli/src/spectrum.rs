//! `freqprop spectrum`: amplitude and phase of node voltages at given frequencies.
//!
//! Reads a rawfile, a freqprop HDF5 file or a CSV trace (`store::read_any`), chooses a
//! coherent window (whole periods of every requested frequency, ending at the last time
//! point), resamples it uniformly and reads each coefficient exactly. Frequencies with no
//! common period within tolerance (or `--window`) use the windowed readout over the whole
//! record instead, with a notice on stderr. `--plot` draws the analysed window over its
//! magnitude spectrum (log scale) with the requested frequencies marked.

use crate::CliError;
use serde_json::{json, Value};
use spectrum::{
    coherent_window, harmonics, resample_uniform, windowed, Coefficient, CoherentOptions, Interp,
    Readout, SpectrumError, Window,
};
use std::path::PathBuf;

/// Window choice on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum WindowArg {
    /// Hann.
    Hann,
    /// 4-term Blackman–Harris.
    BlackmanHarris,
    /// 5-term flat-top.
    FlatTop,
}

/// Interpolation choice on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InterpArg {
    /// Piecewise linear.
    Linear,
    /// Not-a-knot cubic spline.
    Cubic,
}

/// Arguments of `freqprop spectrum`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Trace to read: SPICE rawfile, freqprop HDF5 or CSV.
    pub file: PathBuf,
    /// Node (or signal such as `i(v1)`) to read; repeat for several.
    #[arg(long = "node", value_name = "NAME", required = true)]
    pub nodes: Vec<String>,
    /// Frequency in Hz to read (0 = DC, the mean); repeat for several.
    #[arg(long = "freq", value_name = "F", required = true)]
    pub freqs: Vec<f64>,
    /// Also tabulate harmonics (and, with two or more --freq, intermodulation products
    /// k·f1 ± m·f2) of the first nonzero frequency up to this order, with THD and noise floor.
    #[arg(long, value_name = "K")]
    pub harmonics: Option<u32>,
    /// Number of common periods in the window (0 = as many as fit).
    #[arg(long, default_value_t = 1)]
    pub periods: usize,
    /// Uniform samples in the window (default: enough for 16 harmonics, at least 1024).
    #[arg(long, value_name = "N")]
    pub samples: Option<usize>,
    /// Interpolation of the uneven time steps onto the uniform grid.
    #[arg(long, value_enum, default_value = "cubic")]
    pub interp: InterpArg,
    /// Use the windowed (non-coherent) readout with this window over the whole record.
    #[arg(long, value_enum)]
    pub window: Option<WindowArg>,
    /// Print one JSON object per (node, frequency) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Draw the waveform and its magnitude spectrum into a PNG.
    #[arg(long, value_name = "OUT.png")]
    pub plot: Option<PathBuf>,
    /// Save the coefficients into the (freqprop HDF5) input file, under /spectra/<signal>.
    #[arg(long)]
    pub save: bool,
}

struct NodeResult {
    node: String,
    samples: Vec<f64>,
    coefs: Vec<Coefficient>,
    table: Option<spectrum::HarmonicTable>,
}

fn spectrum_err(file: &str, node: &str, e: SpectrumError) -> CliError {
    match e {
        SpectrumError::OutOfRange { .. }
        | SpectrumError::NoCommonPeriod { .. }
        | SpectrumError::Invalid(_)
        | SpectrumError::NotCoherent { .. }
        | SpectrumError::AboveNyquist { .. } => {
            CliError::Input(format!("{file}: node {node}: {e}"))
        }
    }
}

/// Run `freqprop spectrum`.
pub fn run(args: Args) -> Result<i32, CliError> {
    let file = args.file.display().to_string();
    for &f in &args.freqs {
        if !(f.is_finite() && f >= 0.0) {
            return Err(CliError::Input(format!(
                "--freq {f}: must be a finite frequency ≥ 0 Hz"
            )));
        }
    }
    let w = store::read_any(&args.file).map_err(|e| CliError::Input(e.to_string()))?;
    if w.time.len() < 2 {
        return Err(CliError::Input(format!(
            "{file}: fewer than two time points"
        )));
    }
    let (t_first, t_last) = (w.time[0], w.time[w.time.len() - 1]);
    let interp = match args.interp {
        InterpArg::Linear => Interp::Linear,
        InterpArg::Cubic => Interp::Cubic,
    };
    let nonzero: Vec<f64> = args.freqs.iter().copied().filter(|&f| f > 0.0).collect();
    let opts = CoherentOptions {
        periods: args.periods,
        ..Default::default()
    };

    // Choose the window: coherent when possible, else windowed over the whole record.
    let mut window = args.window.map(|w| match w {
        WindowArg::Hann => Window::Hann,
        WindowArg::BlackmanHarris => Window::BlackmanHarris,
        WindowArg::FlatTop => Window::FlatTop,
    });
    let span = if window.is_none() && !nonzero.is_empty() {
        match coherent_window(&nonzero, t_first, t_last, &opts) {
            Ok(s) => Some(s),
            Err(SpectrumError::NoCommonPeriod { .. }) => {
                eprintln!(
                    "notice: {:?} Hz have no common period; using the windowed readout \
                     (Blackman-Harris) over the whole record",
                    nonzero
                );
                window = Some(Window::BlackmanHarris);
                None
            }
            Err(e) => return Err(CliError::Input(format!("{file}: {e}"))),
        }
    } else {
        None
    };
    let harm_order = args.harmonics.unwrap_or(0);
    let (t0, dt, n) = match &span {
        Some(s) => {
            let n = args
                .samples
                .unwrap_or_else(|| s.suggested_samples(harm_order.max(16) as u64).max(1024));
            let (t0, dt) = s.grid(n);
            (t0, dt, n)
        }
        None => {
            let n = args
                .samples
                .unwrap_or_else(|| w.time.len().next_power_of_two().max(1024));
            (t_first, (t_last - t_first) / (n - 1).max(1) as f64, n)
        }
    };
    let readout = match (&span, window) {
        (_, Some(_)) => None,
        _ => Some(
            Readout::new(n, dt, &args.freqs)
                .map_err(|e| CliError::Input(format!("{file}: {e}")))?,
        ),
    };

    let mut results = Vec::new();
    for node in &args.nodes {
        let values = w.signal(node).ok_or_else(|| {
            let names: Vec<&str> = w.signals.iter().map(|s| s.name.as_str()).collect();
            CliError::Input(format!(
                "{file}: no signal named {node} (have: {})",
                names.join(", ")
            ))
        })?;
        let x = resample_uniform(&w.time, values, t0, dt, n, interp)
            .map_err(|e| spectrum_err(&file, node, e))?;
        let coefs = match (&readout, window) {
            (Some(r), _) => r.read(&x, t0),
            (None, Some(win)) => windowed(&x, dt, t0, &args.freqs, win),
            (None, None) => unreachable!("either a readout or a window"),
        }
        .map_err(|e| spectrum_err(&file, node, e))?;
        let table = if harm_order > 0 {
            if span.is_none() {
                return Err(CliError::Input(
                    "--harmonics needs coherent frequencies (a common period within the record)"
                        .into(),
                ));
            }
            let f2 = nonzero.get(1).copied();
            Some(
                harmonics(&x, dt, t0, nonzero[0], f2, harm_order)
                    .map_err(|e| spectrum_err(&file, node, e))?,
            )
        } else {
            None
        };
        results.push(NodeResult {
            node: node.clone(),
            samples: x,
            coefs,
            table,
        });
    }

    if args.save {
        if store::detect_kind(&args.file).map_err(|e| CliError::Input(e.to_string()))?
            != store::TraceKind::Hdf5
        {
            return Err(CliError::Input(format!("{file}: --save needs a freqprop HDF5 file (spectra are stored beside its waveforms)")));
        }
        let records: Vec<store::h5::SpectrumRecord> = results
            .iter()
            .map(|r| store::h5::SpectrumRecord {
                signal: w
                    .index_of(&r.node)
                    .map(|k| w.signals[k].name.clone())
                    .unwrap_or_else(|| r.node.clone()),
                freq: r.coefs.iter().map(|c| c.freq).collect(),
                amplitude: r.coefs.iter().map(|c| c.amplitude()).collect(),
                phase_deg: r.coefs.iter().map(|c| c.phase_deg()).collect(),
                in_phase: r.coefs.iter().map(|c| c.in_phase).collect(),
                quadrature: r.coefs.iter().map(|c| c.quadrature).collect(),
                window: (t0, t0 + n as f64 * dt),
            })
            .collect();
        store::h5::write_spectra(&args.file, &records).map_err(|e| CliError::Run(e.to_string()))?;
        if !args.json {
            eprintln!("saved {} spectra into {file} under /spectra", records.len());
        }
    }
    if let Some(png) = &args.plot {
        draw(png, &results, &args.freqs, t0, dt, window, harm_order)?;
    }

    if args.json {
        let mut out: Vec<Value> = Vec::new();
        for r in &results {
            for c in &r.coefs {
                let mut o = coef_json(&r.node, c);
                if let (Some(t), Some(&f1)) = (&r.table, nonzero.first()) {
                    if c.freq == f1 {
                        o["thd"] = json!(t.thd);
                        o["noise_floor_dbc"] = json!(t.noise_floor_dbc);
                    }
                }
                out.push(o);
            }
            if let Some(t) = &r.table {
                for p in t.products.iter().filter(|p| p.order >= 2) {
                    let mut o = coef_json(&r.node, &p.coefficient);
                    o["k"] = json!(p.k);
                    o["m"] = json!(p.m);
                    o["order"] = json!(p.order);
                    o["dbc"] = json!(p.dbc);
                    out.push(o);
                }
            }
        }
        println!(
            "{}",
            serde_json::to_string_pretty(&Value::Array(out)).unwrap()
        );
        return Ok(0);
    }

    match (&span, window) {
        (Some(s), _) => println!(
            "# {file}: coherent window [{:.9e}, {:.9e}] s ({} period(s) of {:.6e} s), {n} samples",
            s.t_start, s.t_end, s.periods, s.period
        ),
        (None, Some(win)) => println!("# {file}: windowed readout ({win:?}) over [{t_first:.9e}, {t_last:.9e}] s, {n} samples"),
        _ => {}
    }
    println!(
        "{:<12} {:>14} {:>16} {:>12} {:>16} {:>16}",
        "node", "freq_Hz", "amplitude", "phase_deg", "in_phase", "quadrature"
    );
    for r in &results {
        for c in &r.coefs {
            println!(
                "{:<12} {:>14} {:>16.9e} {:>12.6} {:>16.9e} {:>16.9e}",
                r.node,
                c.freq,
                c.amplitude(),
                c.phase_deg(),
                c.in_phase,
                c.quadrature
            );
        }
    }
    for r in &results {
        if let Some(t) = &r.table {
            println!();
            println!(
                "# {}: harmonics of {} Hz: THD {:.4e} ({:.2} dB), noise floor {:.3e} ({:.1} dBc), residual RMS {:.3e}",
                r.node, nonzero[0], t.thd, 20.0 * t.thd.log10(), t.noise_floor, t.noise_floor_dbc, t.residual_rms
            );
            println!(
                "{:>4} {:>4} {:>5} {:>14} {:>16} {:>10} {:>12}",
                "k", "m", "order", "freq_Hz", "amplitude", "dBc", "phase_deg"
            );
            for p in &t.products {
                println!(
                    "{:>4} {:>4} {:>5} {:>14} {:>16.9e} {:>10.2} {:>12.6}",
                    p.k,
                    p.m,
                    p.order,
                    p.freq,
                    p.coefficient.amplitude(),
                    p.dbc,
                    p.coefficient.phase_deg()
                );
            }
        }
    }
    Ok(0)
}

fn coef_json(node: &str, c: &Coefficient) -> Value {
    json!({
        "node": node,
        "freq": c.freq,
        "amplitude": c.amplitude(),
        "phase_deg": c.phase_deg(),
        "in_phase": c.in_phase,
        "quadrature": c.quadrature,
    })
}

/// Waveform (the analysed window) over its magnitude spectrum (log scale), the requested
/// frequencies marked.
fn draw(
    png: &std::path::Path,
    results: &[NodeResult],
    freqs: &[f64],
    t0: f64,
    dt: f64,
    window: Option<Window>,
    harm_order: u32,
) -> Result<(), CliError> {
    let n = results.first().map(|r| r.samples.len()).unwrap_or(0);
    let time: Vec<f64> = (0..n).map(|i| t0 + i as f64 * dt).collect();
    let fmax_req = freqs.iter().copied().fold(0.0, f64::max);
    let f_hi = if fmax_req > 0.0 {
        (fmax_req * (harm_order.max(20) as f64 + 1.0)).min(0.5 / dt)
    } else {
        0.5 / dt
    };
    let mut spectra = Vec::new();
    for r in results {
        let (f, a) =
            spectrum::magnitude_spectrum(&r.samples, dt, window.unwrap_or(Window::Rectangular))
                .map_err(|e| CliError::Run(e.to_string()))?;
        let keep = f.iter().take_while(|&&x| x <= f_hi).count().max(2);
        spectra.push((f[..keep].to_vec(), a[..keep].to_vec()));
    }
    let wave: Vec<plot::Series> = results
        .iter()
        .map(|r| plot::Series::new(&r.node, &time, &r.samples))
        .collect();
    let spec: Vec<plot::Series> = results
        .iter()
        .zip(&spectra)
        .map(|(r, (f, a))| plot::Series::new(&r.node, f, a))
        .collect();
    let mut axes = plot::Axes::new("frequency (Hz)", "amplitude").log_y();
    for &f in freqs {
        axes = axes.marker(f, &format!("{f} Hz"));
    }
    let panels = vec![
        (
            "waveform (analysed window)",
            plot::Axes::new("time (s)", "value"),
            wave,
        ),
        ("magnitude spectrum", axes, spec),
    ];
    plot::stacked(png, &panels).map_err(|e| CliError::Run(e.to_string()))
}

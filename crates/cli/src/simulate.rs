//! `freqprop simulate`: run a netlist's analysis and write its waveforms.

use crate::resources::{self, MemoryArgs, SimSize, SimulatePlan};
use crate::CliError;
use circuit::background::Background;
use circuit::wave::StopSink;
use circuit::{Analysis, Circuit, Decimate, Decimation, Signal, WaveSink, Waveforms};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use std::path::{Path, PathBuf};
use store::h5::H5WaveWriter;
use store::raw::{write_waveforms_raw, RawFormat, RawWaveWriter};
use transient::{OutputGrid, SimError, Simulator, TranOptions, TranSummary};

/// Arguments of `freqprop simulate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// SPICE netlist with a `.tran` or `.op` card.
    pub netlist: PathBuf,
    /// HDF5 output file (default: the netlist's name with `.h5`, in the current directory).
    #[arg(short, long, value_name = "OUT.h5")]
    pub output: Option<PathBuf>,
    /// Also write a binary SPICE rawfile (as ngspice writes with `-r`).
    #[arg(long, value_name = "OUT.raw")]
    pub raw: Option<PathBuf>,
    /// Write no HDF5 file, only the rawfile given by `--raw` (what `ngspice -b -r` writes).
    #[arg(long, requires = "raw", conflicts_with = "output")]
    pub no_h5: bool,
    /// Write the rawfile as ASCII instead of binary.
    #[arg(long, requires = "raw")]
    pub ascii: bool,
    /// Write points on the uniform TSTEP grid (linear interpolation, like `.options interp`)
    /// instead of at every accepted step.
    #[arg(long, conflicts_with = "exact_grid")]
    pub grid: bool,
    /// Make the integrator land exactly on every TSTEP grid point and write only those.
    #[arg(long)]
    pub exact_grid: bool,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Print where the time went (device evaluation, factorization, solve).
    #[arg(long)]
    pub stats: bool,
    /// Write only every Nth point (the first and the last are always written).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub decimate: u64,
    /// Write at most N points: when the run has more, keep points spaced evenly in time (at
    /// least (TSTOP − start)/(N − 2) apart), the first and the last always.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(2..))]
    pub max_points: Option<u64>,
    /// Write only these signals (comma separated: `out`, `v(out)`, `i(v1)`, `v1#branch`).
    #[arg(long, value_delimiter = ',', value_name = "N1,N2")]
    pub save: Vec<String>,
    /// Write only the points at or after time T (seconds; SPICE suffixes allowed: 1m, 20us).
    #[arg(long, value_name = "T", value_parser = crate::compare::parse_time)]
    pub from: Option<f64>,
    /// How Newton's iterations reuse a factorization in a transient analysis: across time
    /// points while chord steps with it contract (the fastest), within each time point (a
    /// fresh one at its first iteration: about two iterations per point), or never (SPICE's
    /// Newton–Raphson: a factorization at every iteration). The waveforms agree to within
    /// the Newton tolerances.
    #[arg(long, value_enum, value_name = "REUSE", default_value_t = Jacobian::Across)]
    pub jacobian: Jacobian,
    #[command(flatten)]
    pub memory: MemoryArgs,
}

/// `--jacobian`: the command line's names of [`transient::JacobianReuse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Jacobian {
    /// Across iterations and time points, while chord steps contract.
    Across,
    /// Within each time point: a fresh factorization at its first iteration.
    Within,
    /// Never: a factorization at every iteration whose matrix changed.
    Never,
}

impl From<Jacobian> for transient::JacobianReuse {
    fn from(j: Jacobian) -> Self {
        match j {
            Jacobian::Across => transient::JacobianReuse::AcrossSteps,
            Jacobian::Within => transient::JacobianReuse::WithinStep,
            Jacobian::Never => transient::JacobianReuse::Never,
        }
    }
}

/// The rawfile being written: streamed when binary, gathered and written at the end when ASCII.
enum RawOut {
    Binary(RawWaveWriter),
    Ascii(PathBuf, Waveforms),
}

impl WaveSink for RawOut {
    type Error = String;
    fn begin(&mut self, title: &str, plotname: &str, signals: &[Signal]) -> Result<(), String> {
        match self {
            RawOut::Binary(w) => w.begin(title, plotname, signals).map_err(|e| e.to_string()),
            RawOut::Ascii(_, w) => w.begin(title, plotname, signals).map_err(|e| match e {}),
        }
    }
    fn push(&mut self, time: f64, values: &[f64]) -> Result<(), String> {
        match self {
            RawOut::Binary(w) => w.push(time, values).map_err(|e| e.to_string()),
            RawOut::Ascii(_, w) => w.push(time, values).map_err(|e| match e {}),
        }
    }
    fn finish(&mut self) -> Result<(), String> {
        match self {
            RawOut::Binary(w) => w.finish().map_err(|e| e.to_string()),
            RawOut::Ascii(path, w) => {
                write_waveforms_raw(path, w, RawFormat::Ascii).map_err(|e| e.to_string())
            }
        }
    }
}

impl RawOut {
    fn new(path: &Path, ascii: bool) -> RawOut {
        if ascii {
            RawOut::Ascii(path.to_path_buf(), Waveforms::default())
        } else {
            RawOut::Binary(RawWaveWriter::create(path))
        }
    }
}

/// Writes points to the HDF5 file and the rawfile at once, and moves a progress bar.
struct Outputs {
    /// None with `--no-h5`.
    h5: Option<H5WaveWriter>,
    raw: Option<RawOut>,
    bar: Option<ProgressBar>,
    tstop: f64,
    /// Points written (and last time), for the summary of an interrupted run.
    points: usize,
}

impl WaveSink for Outputs {
    type Error = String;
    fn begin(&mut self, title: &str, plotname: &str, signals: &[Signal]) -> Result<(), String> {
        if let Some(h5) = &mut self.h5 {
            h5.begin(title, plotname, signals)
                .map_err(|e| e.to_string())?;
        }
        if let Some(r) = &mut self.raw {
            r.begin(title, plotname, signals)?;
        }
        Ok(())
    }
    fn push(&mut self, time: f64, values: &[f64]) -> Result<(), String> {
        if let Some(h5) = &mut self.h5 {
            h5.push(time, values).map_err(|e| e.to_string())?;
        }
        if let Some(r) = &mut self.raw {
            r.push(time, values)?;
        }
        if let Some(b) = &self.bar {
            b.set_position((1000.0 * time / self.tstop) as u64);
        }
        self.points += 1;
        Ok(())
    }
    fn finish(&mut self) -> Result<(), String> {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
        // Both files are flushed, fsynced and renamed into place at the same time: on small
        // circuits the fsyncs are most of the command's wall time.
        let (h5, raw) = (&mut self.h5, &mut self.raw);
        std::thread::scope(|s| {
            let raw_done = raw.as_mut().map(|r| s.spawn(move || r.finish()));
            let h5_done = h5
                .as_mut()
                .map_or(Ok(()), |h| h.finish().map_err(|e| e.to_string()));
            let raw_done = match raw_done {
                Some(h) => h
                    .join()
                    .unwrap_or_else(|_| Err("the rawfile writer panicked".into())),
                None => Ok(()),
            };
            h5_done.and(raw_done)
        })
    }
}

/// The options as `name=value` lines, for the record in the HDF5 file.
fn options_text(c: &Circuit) -> String {
    let o = &c.options;
    let mut s = format!(
        "reltol={:e}\nabstol={:e}\nvntol={:e}\nchgtol={:e}\ngmin={:e}\ntrtol={}\nmethod={:?}\nmaxord={}\nitl1={}\nitl4={}\ninterp={}\n",
        o.reltol, o.abstol, o.vntol, o.chgtol, o.gmin, o.trtol, o.method, o.maxord, o.itl1, o.itl4, o.interp
    );
    for (k, v) in &o.other {
        s.push_str(&format!("{k}={v}\n"));
    }
    s
}

fn default_output(netlist: &Path) -> PathBuf {
    let stem = netlist
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    PathBuf::from(format!("{stem}.h5"))
}

struct Written<'a> {
    points: usize,
    decimation: serde_json::Value,
    memory: &'a resources::Estimate,
}

fn summary_json(
    s: &TranSummary,
    sim: &Simulator,
    netlist: &Path,
    out: Option<&Path>,
    raw: Option<&PathBuf>,
    status: &str,
    w: &Written,
) -> serde_json::Value {
    let st = sim.stats();
    json!({
        "netlist": netlist.display().to_string(),
        "output": out.map(|p| p.display().to_string()),
        "raw": raw.map(|p| p.display().to_string()),
        "status": status,
        "analysis": "tran",
        "unknowns": sim.unknowns(),
        "accepted": s.accepted,
        "rejected": s.rejected,
        "newton_failures": s.newton_failures,
        "gmin_rescues": s.gmin_rescues,
        "source_rescues": s.source_rescues,
        "newton_iterations": s.newton_iterations,
        "factorizations": st.factorizations,
        "points": w.points,
        "points_computed": s.points_written,
        "decimation": w.decimation,
        "memory_estimate": w.memory.to_json(),
        "op_method": s.op_method,
        "seconds": s.seconds,
        "factorization_reuses": st.reuses,
        "newton_settled_early": st.settled_early,
        "newton_settled_linearized": st.settled_linearized,
        "newton_settled_linearized_solve": st.settled_linearized_solve,
        "loads": st.loads,
        "solver": sim.solver_kind(),
        "jacobian": sim.jacobian_reuse().name(),
        "ordering": sim.ordering(),
        "solver_threads": sim.solver_threads(),
        "matrix_nnz": sim.matrix_nnz(),
        "factor_nnz": sim.factor_nnz(),
        "load_seconds": st.load_seconds,
        "device_seconds": st.device_seconds,
        "assembly_seconds": st.load_seconds - st.device_seconds,
        "factor_seconds": st.factor_seconds,
        "solve_seconds": st.solve_seconds,
        "solves": st.solves,
        "limit_seconds": st.limit_seconds(),
        "seconds_per_step": per_step_seconds(s),
        "step_over_limit": step_over_limit(s, st),
    })
}

/// The transient's wall time per accepted step (`None` with no accepted step).
fn per_step_seconds(s: &TranSummary) -> Option<f64> {
    (s.accepted > 0).then(|| s.seconds / s.accepted as f64)
}

/// A step's cost against the hardware limit, one factorization and one solve
/// ([`transient::Stats::limit_seconds`]): below 1, a time step costs less than one Newton
/// iteration that refactors.
fn step_over_limit(s: &TranSummary, st: &transient::Stats) -> Option<f64> {
    Some(per_step_seconds(s)? / st.limit_seconds()?)
}

/// Points per HDF5 chunk (and per flush) of a streamed waveform. The writer thread flushes
/// every this many points while the analysis runs, so that less is left for the end: on
/// mesh30 (900 signals, 2,043 points) 1,024 took 0.38 s of wall time against 0.40 s with the
/// store's default of 4,096, which writes everything at the end (one run of three each;
/// 512 and 256 no better).
pub const STREAM_CHUNK_POINTS: usize = 1024;

/// Run `freqprop simulate`.
pub fn run(args: Args) -> Result<i32, CliError> {
    crate::interrupt::install()?;
    let c = circuit::parse_file(&args.netlist).map_err(|e| CliError::Input(e.to_string()))?;
    let text = std::fs::read_to_string(&args.netlist).unwrap_or_default();
    let mut sim = Simulator::new(&c).map_err(|e| match e {
        SimError::Topology(_) | SimError::Input(_) => {
            CliError::Input(format!("{}: {e}", args.netlist.display()))
        }
        other => CliError::Run(other.to_string()),
    })?;
    sim.set_jacobian_reuse(args.jacobian.into());
    let out = args
        .output
        .clone()
        .unwrap_or_else(|| default_output(&args.netlist));
    // with `--no-h5`: the rawfile only (`out` is then only the default name, never written)
    let h5_out = (!args.no_h5).then_some(out.as_path());
    let tran = c.analyses.iter().find_map(|a| {
        if let Analysis::Tran(t) = a {
            Some(t.clone())
        } else {
            None
        }
    });
    let all_signals: Vec<Signal> = sim.output_signals().into_iter().map(|(s, _)| s).collect();
    let columns = if args.save.is_empty() {
        None
    } else {
        Some(
            circuit::select_signals(&all_signals, &args.save)
                .map_err(|e| CliError::Input(format!("--save: {e}")))?,
        )
    };
    let signals_written = columns.as_ref().map_or(all_signals.len(), Vec::len);
    let size = SimSize::of(&sim, &c);
    let Some(tran) = tran else {
        if c.analyses.iter().any(|a| matches!(a, Analysis::Op)) {
            let plan = SimulatePlan {
                netlist_bytes: text.len() as u64,
                signals_written,
                points: 1,
                ascii_raw: args.raw.is_some() && args.ascii,
            };
            let estimate = resources::simulate_estimate(&size, &plan);
            resources::check(&args.netlist.display().to_string(), &estimate, &args.memory)?;
            return run_op(
                &args,
                &c,
                &mut sim,
                h5_out,
                &text,
                columns.as_deref(),
                &estimate,
            );
        }
        return Err(CliError::Input(format!(
            "{}: no analysis: add a .tran or .op card",
            args.netlist.display()
        )));
    };
    let output = if args.exact_grid {
        OutputGrid::Exact {
            t0: tran.tstart,
            dt: tran.tstep,
        }
    } else if args.grid || c.options.interp {
        OutputGrid::Interpolated
    } else {
        OutputGrid::Accepted
    };
    let decimation = Decimation {
        every: args.decimate as usize,
        from: args.from,
        max_points: args.max_points.map(|m| m as usize),
        span: (tran.tstart, tran.tstop),
    };
    if let Some(f) = args.from {
        if f > tran.tstop {
            return Err(CliError::Input(format!(
                "--from {f:e} s is after TSTOP = {:e} s of {}: nothing would be written",
                tran.tstop,
                args.netlist.display()
            )));
        }
    }
    // points written (an ASCII rawfile gathers them in memory; streamed everywhere else)
    let points = {
        let n = resources::grid_points(&tran, args.from, output != OutputGrid::Accepted);
        let n = n.div_ceil(args.decimate) + 1;
        args.max_points.map_or(n, |m| n.min(m))
    };
    let plan = SimulatePlan {
        netlist_bytes: text.len() as u64,
        signals_written,
        points,
        ascii_raw: args.raw.is_some() && args.ascii,
    };
    let estimate = resources::simulate_estimate(&size, &plan);
    resources::check(&args.netlist.display().to_string(), &estimate, &args.memory)?;

    let decimation_json = decimation_record(&decimation, &args.save);
    let h5 = match h5_out {
        None => None,
        Some(out) => {
            let mut h5 = H5WaveWriter::create(out)
                .map_err(|e| CliError::Input(e.to_string()))?
                .with_flush_every(STREAM_CHUNK_POINTS);
            h5.set_netlist(&text)
                .map_err(|e| CliError::Run(e.to_string()))?;
            h5.set_options(&options_text(&c))
                .map_err(|e| CliError::Run(e.to_string()))?;
            if !decimation_json.is_null() {
                h5.set_attr("decimation", &decimation_json.to_string())
                    .map_err(|e| CliError::Run(e.to_string()))?;
            }
            Some(h5)
        }
    };
    let raw = args.raw.as_ref().map(|p| RawOut::new(p, args.ascii));
    let bar = if args.json {
        None
    } else {
        let b = ProgressBar::new(1000);
        b.set_style(
            ProgressStyle::with_template("{spinner} simulating [{bar:40}] {percent}% ({elapsed})")
                .unwrap()
                .progress_chars("=> "),
        );
        Some(b)
    };
    let stop = crate::interrupt::stop_flag();
    let outputs = Outputs {
        h5,
        raw,
        bar,
        tstop: tran.tstop,
        points: 0,
    };
    // the files are written on a thread of their own while the analysis goes on
    let outputs = Background::new(outputs);
    let mut sink = StopSink::new(Decimate::new(outputs, decimation, columns), &stop);
    let opts = TranOptions {
        output,
        ..Default::default()
    };
    // the phases' seconds go to `--stats`, `--json` and the HDF5 file's summary: with none of
    // them, the clock is not read (eight reads per Newton iteration)
    sim.set_timing(args.stats || args.json || h5_out.is_some());
    // large SPD circuits: on a worker of rayon's pool, where the solver's two-thread
    // factorizations and solves (`rayon::join`) hand half the work to the other worker
    // without putting this thread to sleep; small ones stay on this thread (no hand-over)
    let result = if sim.can_use_two_threads() {
        rayon::scope(|_| sim.transient(&tran, &opts, &c.title, &mut sink))
    } else {
        sim.transient(&tran, &opts, &c.title, &mut sink)
    };
    if sink.stopped() {
        let written = Written {
            points: sink.inner.points_kept(),
            decimation: decimation_json,
            memory: &estimate,
        };
        // the work done until the stop (the transient returns it with the sink's refusal)
        let summary = match &result {
            Ok(s) => s.clone(),
            Err(SimError::Output { summary, .. } | SimError::Timestep { summary, .. }) => {
                (**summary).clone()
            }
            Err(_) => TranSummary::default(),
        };
        let outputs = sink
            .inner
            .into_inner()
            .into_inner()
            .map_err(CliError::Run)?;
        return interrupted(&args, outputs, &sim, h5_out, &written, summary);
    }
    let mut sink = sink.inner;
    let (summary, failure) = match result {
        Ok(s) => (s, None),
        Err(SimError::Timestep { ref summary, .. }) => {
            let s = (**summary).clone();
            (s, Some(result.unwrap_err()))
        }
        Err(e @ (SimError::Input(_) | SimError::Topology(_))) => {
            return Err(CliError::Input(format!("{}: {e}", args.netlist.display())));
        }
        Err(e) => (TranSummary::default(), Some(e)),
    };
    let status = match &failure {
        None => "complete".to_string(),
        Some(e) => format!("failed: {e}"),
    };
    let written = Written {
        points: sink.points_kept(),
        decimation: decimation_json,
        memory: &estimate,
    };
    let js = summary_json(
        &summary,
        &sim,
        &args.netlist,
        h5_out,
        args.raw.as_ref(),
        &status,
        &written,
    );
    // every point so far written (the last one Decimate holds comes with `finish`)
    let outputs = sink.inner_mut().join().map_err(CliError::Run)?;
    if let Some(h5) = &mut outputs.h5 {
        h5.set_summary_json(&js.to_string())
            .map_err(|e| CliError::Run(e.to_string()))?;
        if let Some(e) = &failure {
            h5.set_failed(&e.to_string());
        }
    }
    sink.finish().map_err(CliError::Run)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&js).unwrap());
    } else {
        print_summary(
            &summary,
            &sim,
            h5_out,
            args.raw.as_ref(),
            args.stats,
            written.points,
        );
    }
    match failure {
        None => Ok(0),
        Some(e) => Err(CliError::Run(format!(
            "{}: {e}\nthe points computed before the failure were saved in {}{}",
            args.netlist.display(),
            written_files(h5_out, args.raw.as_ref()),
            if h5_out.is_some() {
                " (status: failed)"
            } else {
                ""
            }
        ))),
    }
}

/// A signal stopped the transient: write what was computed, marked interrupted.
fn interrupted(
    args: &Args,
    mut sink: Outputs,
    sim: &Simulator,
    out: Option<&Path>,
    written: &Written,
    summary: TranSummary,
) -> Result<i32, CliError> {
    let sig = crate::interrupt::received().unwrap_or(2);
    let js = summary_json(
        &summary,
        sim,
        &args.netlist,
        out,
        args.raw.as_ref(),
        "interrupted",
        written,
    );
    if let Some(h5) = &mut sink.h5 {
        h5.set_summary_json(&js.to_string())
            .map_err(|e| CliError::Run(e.to_string()))?;
        h5.set_interrupted();
    }
    sink.finish().map_err(CliError::Run)?;
    eprintln!(
        "interrupted by {}: wrote the {} points computed so far to {}{}",
        crate::interrupt::name(sig),
        sink.points,
        written_files(out, args.raw.as_ref()),
        if out.is_some() {
            " (status: interrupted)"
        } else {
            ""
        }
    );
    if args.json {
        println!("{}", serde_json::to_string_pretty(&js).unwrap());
    }
    Ok(crate::interrupt::exit_code(sig))
}

/// The decimation as recorded in the HDF5 attribute `decimation` and the summary (null when
/// every point and signal is written).
fn decimation_record(d: &Decimation, save: &[String]) -> serde_json::Value {
    if d.is_identity() && save.is_empty() {
        return serde_json::Value::Null;
    }
    json!({
        "every": d.every,
        "from": d.from,
        "max_points": d.max_points,
        "min_spacing": d.max_points.map(|_| d.min_spacing()),
        "save": if save.is_empty() { None } else { Some(save) },
        "first_and_last_kept": true,
    })
}

/// The files a run writes: the HDF5 file (none with `--no-h5`), then the rawfile (with
/// `--raw`).
fn output_paths<'a>(
    h5: Option<&'a Path>,
    raw: Option<&'a PathBuf>,
) -> impl Iterator<Item = &'a Path> {
    h5.into_iter().chain(raw.map(PathBuf::as_path))
}

/// The files a run writes, for its messages: `a.h5 and a.raw`, `a.h5` or `a.raw`.
fn written_files(h5: Option<&Path>, raw: Option<&PathBuf>) -> String {
    let names: Vec<String> = output_paths(h5, raw)
        .map(|p| p.display().to_string())
        .collect();
    names.join(" and ")
}

fn print_summary(
    s: &TranSummary,
    sim: &Simulator,
    out: Option<&Path>,
    raw: Option<&PathBuf>,
    stats: bool,
    written: usize,
) {
    let st = sim.stats();
    println!(
        "transient: {} accepted, {} rejected steps, {} Newton iterations, {} factorizations, {} points, {:.3} s",
        s.accepted, s.rejected, s.newton_iterations, st.factorizations, s.points_written, s.seconds
    );
    if written != s.points_written {
        println!("decimated: wrote {written} of {} points", s.points_written);
    }
    println!("initial point: {}", s.op_method);
    if s.gmin_rescues + s.source_rescues > 0 {
        println!(
            "time points solved after step cutting failed: {} by gmin stepping, {} by source stepping",
            s.gmin_rescues, s.source_rescues
        );
    }
    for p in output_paths(out, raw) {
        println!("wrote {}", p.display());
    }
    if stats {
        let total = s
            .seconds
            .max(st.load_seconds + st.factor_seconds + st.solve_seconds);
        let pct = |x: f64| if total > 0.0 { 100.0 * x / total } else { 0.0 };
        let other = (total - st.load_seconds - st.factor_seconds - st.solve_seconds).max(0.0);
        println!(
            "unknowns: {}, matrix entries: {}, factor entries: {} ({}, {} ordering, {} thread{})",
            sim.unknowns(),
            sim.matrix_nnz(),
            sim.factor_nnz(),
            sim.solver_kind(),
            sim.ordering(),
            sim.solver_threads(),
            if sim.solver_threads() == 1 { "" } else { "s" }
        );
        println!(
            "device evaluation:              {:.4} s ({:.1}%)",
            st.device_seconds,
            pct(st.device_seconds)
        );
        println!(
            "assembly:                       {:.4} s ({:.1}%)",
            st.load_seconds - st.device_seconds,
            pct(st.load_seconds - st.device_seconds)
        );
        println!(
            "numeric factorization:          {:.4} s ({:.1}%)",
            st.factor_seconds,
            pct(st.factor_seconds)
        );
        println!(
            "triangular solves:              {:.4} s ({:.1}%)",
            st.solve_seconds,
            pct(st.solve_seconds)
        );
        println!(
            "Newton tests, steps, output:    {:.4} s ({:.1}%)",
            other,
            pct(other)
        );
        println!(
            "factorizations: {}, reused: {} of {} iterations",
            st.factorizations, st.reuses, s.newton_iterations
        );
        println!(
            "Newton solves accepted on the residual's test (no confirming solve): {}, of which {} on the residual taken from the load before (no load at the solution), {} of them one solve further on it",
            st.settled_early, st.settled_linearized, st.settled_linearized_solve
        );
        // a count per accepted step (0 when none was accepted)
        let per_step = |count: usize| {
            if s.accepted > 0 {
                count as f64 / s.accepted as f64
            } else {
                0.0
            }
        };
        println!(
            "loads (every device evaluated): {}, {:.2} per accepted step",
            st.loads,
            per_step(st.loads)
        );
        println!(
            "Newton iterations per accepted step: {:.2}",
            per_step(s.newton_iterations)
        );
        if let (Some(step), Some(ratio), Some(factor), Some(solve)) = (
            per_step_seconds(s),
            step_over_limit(s, st),
            st.seconds_per_factorization(),
            st.seconds_per_solve(),
        ) {
            println!(
                "per accepted step: {:.4} ms, {ratio:.2} times the limit of one factorization and one solve ({:.4} ms: {:.4} + {:.4} ms, this run's averages)",
                1e3 * step,
                1e3 * (factor + solve),
                1e3 * factor,
                1e3 * solve,
            );
        }
    }
}

fn run_op(
    args: &Args,
    c: &Circuit,
    sim: &mut Simulator,
    out: Option<&Path>,
    text: &str,
    columns: Option<&[usize]>,
    estimate: &resources::Estimate,
) -> Result<i32, CliError> {
    let op = sim
        .operating_point()
        .map_err(|e| CliError::Run(format!("{}: {e}", args.netlist.display())))?;
    let mut signals = sim.output_signals();
    if let Some(cols) = columns {
        signals = cols.iter().map(|&k| signals[k].clone()).collect();
    }
    let sig: Vec<Signal> = signals.iter().map(|(s, _)| s.clone()).collect();
    let vals: Vec<f64> = signals.iter().map(|(_, i)| op.x[*i]).collect();
    let js = json!({
        "netlist": args.netlist.display().to_string(),
        "output": out.map(|p| p.display().to_string()),
        "status": "complete",
        "analysis": "op",
        "method": op.method,
        "iterations": op.iterations,
        "memory_estimate": estimate.to_json(),
        "values": sig.iter().zip(&vals).map(|(s, v)| (s.name.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
    });
    if let Some(out) = out {
        let mut h5 = H5WaveWriter::create(out).map_err(|e| CliError::Input(e.to_string()))?;
        h5.set_netlist(text)
            .and_then(|()| h5.set_options(&options_text(c)))
            .and_then(|()| h5.begin(&c.title, "Operating Point", &sig))
            .and_then(|()| h5.push(0.0, &vals))
            .and_then(|()| h5.set_summary_json(&js.to_string()))
            .and_then(|()| h5.finish())
            .map_err(|e| CliError::Run(e.to_string()))?;
    }
    if let Some(r) = &args.raw {
        let mut w = RawOut::new(r, args.ascii);
        w.begin(&c.title, "Operating Point", &sig)
            .map_err(CliError::Run)?;
        w.push(0.0, &vals).map_err(CliError::Run)?;
        w.finish().map_err(CliError::Run)?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&js).unwrap());
    } else {
        println!(
            "operating point ({}, {} iterations)",
            op.method, op.iterations
        );
        for (s, v) in sig.iter().zip(&vals) {
            println!("  {:<24} {:>16.9e} {}", s.name, v, s.quantity.unit());
        }
        for p in output_paths(out, args.raw.as_ref()) {
            println!("wrote {}", p.display());
        }
    }
    Ok(0)
}

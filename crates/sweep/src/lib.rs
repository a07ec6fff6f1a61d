//! # sweep
//!
//! Parameter sweeps: one TOML file describes a base configuration and axes over its
//! parameters; every point runs independently (locally with rayon, or as one task of a Slurm
//! job array) and writes `DIR/points/I.h5` through a temporary file and a rename, so a point
//! file is either complete or absent and reruns only do what is missing.
//!
//! There are two base kinds. A **simulation** base is a netlist whose top-level `.param`
//! values the axes set; the metrics are read from the transient waveforms (final/max/min/
//! mean/rms of a signal, amplitude/phase at a frequency). A **train** base is a `freqprop
//! train` configuration whose dotted keys the axes set (`transient.beta`, `train.lr`,
//! `network.capacitance`, `network.hidden.0`, ...); each point trains (single-threaded, so
//! the bits do not depend on the machine) and reports final losses and accuracies and the
//! fidelity of the frequency-propagation update against the exact gradient (see
//! [`train`]).
//!
//! ```toml
//! name = "divider"
//! combine = "product"            # or "zip"
//! [base]
//! kind = "simulation"
//! netlist = "sweep_divider.cir"  # relative to this file
//! [[axis]]
//! param = "r1"
//! values = [1e3, 2e3]
//! [[axis]]
//! param = "c1"
//! logspace = [10e-9, 100e-9, 3]  # start, stop, num (values, not exponents)
//! [[metric]]
//! name = "amp_f1"
//! kind = "amplitude"             # final max min mean rms amplitude phase
//! signal = "out"
//! freq = "f1"                    # hertz, or a parameter name
//! ```
//!
//! ## Example
//!
//! ```
//! let dir = tempfile::tempdir().unwrap();
//! std::fs::write(dir.path().join("rc.cir"),
//!     "rc\n.param r=1k\nV1 in 0 SIN(0 1 1k)\nR1 in out {r}\nC1 out 0 100n\n.tran 10u 3m\n.end\n").unwrap();
//! std::fs::write(dir.path().join("s.toml"), r#"
//! base = { kind = "simulation", netlist = "rc.cir" }
//! [[axis]]
//! param = "r"
//! values = [1e3, 2e3]
//! [[metric]]
//! name = "amp"
//! kind = "amplitude"
//! signal = "out"
//! freq = 1e3
//! "#).unwrap();
//! let spec = sweep::Spec::load(&dir.path().join("s.toml")).unwrap();
//! let out = dir.path().join("out");
//! sweep::plan(&spec, &out).unwrap();
//! sweep::run_local(&spec, &out, 2, |_, _| {}).unwrap();
//! let st = sweep::status(&out).unwrap();
//! assert_eq!((st.points, st.complete.len()), (2, 2));
//! let table = sweep::collect(&out, &dir.path().join("t.h5")).unwrap();
//! // RC low-pass at 1 kHz: |H| = 1/sqrt(1 + (2π f R C)^2).
//! let h = |r: f64| 1.0 / (1.0 + (2.0 * std::f64::consts::PI * 1e3 * r * 100e-9).powi(2)).sqrt();
//! assert!((table.metrics[0][0] - h(1e3)).abs() < 2e-3);
//! assert!((table.metrics[1][0] - h(2e3)).abs() < 2e-3);
//! ```
//!
//! A training base: XOR with the exact-gradient engine for two seeds, and the agreement of
//! the transient (frequency-propagation) update with the exact gradient at two β.
//!
//! ```
//! # let dir = tempfile::tempdir().unwrap();
//! std::fs::write(dir.path().join("xor.toml"), r#"
//! data = { dataset = "xor", test_fraction = 0.0 }
//! network = { kind = "layered", hidden = [4], nonlinearity = "alternate", input_scale = 4.0 }
//! train = { epochs = 3, batch_size = 4 }
//! "#).unwrap();
//! std::fs::write(dir.path().join("s.toml"), r#"
//! base = { kind = "train", config = "xor.toml", set = { "train.lr" = 0.3 } }
//! [[axis]]
//! param = "transient.beta"
//! values = [1e-6, 1e-3]
//! [[metric]]
//! name = "acc"
//! kind = "train_accuracy"
//! [[metric]]
//! name = "err"
//! kind = "grad_rel_error"
//! "#).unwrap();
//! let spec = sweep::Spec::load(&dir.path().join("s.toml")).unwrap();
//! let r0 = sweep::evaluate(&spec, 0).unwrap();
//! let r1 = sweep::evaluate(&spec, 1).unwrap();
//! // β does not enter the adjoint engine's training: same accuracy, a fraction of 4 samples.
//! assert_eq!(r0.metrics[0], r1.metrics[0]);
//! assert_eq!((r0.metrics[0].1 * 4.0).fract(), 0.0);
//! // The update's error is first order in β.
//! assert!(r0.metrics[1].1 < 1e-4 && r1.metrics[1].1 > 10.0 * r0.metrics[1].1);
//! ```

use std::path::{Path, PathBuf};

use hdf5::types::VarLenUnicode;

pub mod netlist;
pub mod spec;
pub mod train;

pub use spec::{AxisSpec, BaseSpec, Combine, Freq, MetricKind, MetricSpec, Spec};

/// A sweep error: bad input (spec, netlist, directory) or a failed run.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// Bad input.
    #[error("{0}")]
    Input(String),
    /// A run or a file operation failed.
    #[error("{0}")]
    Run(String),
    /// A stop request (see [`set_stop_flag`]) ended the point before its result was
    /// written; nothing was recorded for it.
    #[error("interrupted")]
    Interrupted,
}

static STOP: std::sync::OnceLock<std::sync::Arc<std::sync::atomic::AtomicBool>> =
    std::sync::OnceLock::new();

/// Make every point of this process poll `flag` (a simulation at each output point, a
/// training between minibatches) and [`run_local`] start no new point once it is set: the
/// points in flight end with [`SweepError::Interrupted`], writing neither a result nor an
/// error file, so they are pending on the next run. Only the first call has an effect.
pub fn set_stop_flag(flag: std::sync::Arc<std::sync::atomic::AtomicBool>) {
    let _ = STOP.set(flag);
}

pub(crate) fn stop_flag() -> Option<&'static std::sync::Arc<std::sync::atomic::AtomicBool>> {
    STOP.get()
}

fn stop_requested() -> bool {
    stop_flag().is_some_and(|f| f.load(std::sync::atomic::Ordering::SeqCst))
}

type Result<T> = std::result::Result<T, SweepError>;

fn io(path: &Path, e: impl std::fmt::Display) -> SweepError {
    SweepError::Run(format!("{}: {e}", path.display()))
}

/// The manifest: what `plan` writes to `DIR/manifest.json`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    /// Sweep name.
    pub name: String,
    /// Base kind (`simulation` or `train`).
    pub base_kind: String,
    /// Parameter names.
    pub params: Vec<String>,
    /// Metric names.
    pub metrics: Vec<String>,
    /// Parameter values of each point.
    pub points: Vec<Vec<f64>>,
}

impl Manifest {
    /// The manifest of a spec.
    pub fn of(spec: &Spec) -> Manifest {
        Manifest {
            name: spec.name.clone(),
            base_kind: spec.base.kind.clone(),
            params: spec.param_names(),
            metrics: spec.metric_names(),
            points: spec.points(),
        }
    }

    /// Read `DIR/manifest.json`.
    pub fn read(dir: &Path) -> Result<Manifest> {
        let p = dir.join("manifest.json");
        let text = std::fs::read_to_string(&p).map_err(|e| {
            SweepError::Input(format!(
                "{}: {e} (run `freqprop sweep plan` first)",
                p.display()
            ))
        })?;
        serde_json::from_str(&text).map_err(|e| SweepError::Input(format!("{}: {e}", p.display())))
    }
}

fn write_text_atomic(path: &Path, text: &str) -> Result<()> {
    store::atomic::write_atomic(path, |tmp| {
        std::fs::write(tmp, text).map_err(|e| store::StoreError::Io {
            path: tmp.into(),
            source: e,
        })
    })
    .map_err(|e| io(path, e))
}

/// The resolved netlist of a point (simulation base).
pub fn point_netlist(spec: &Spec, values: &[f64]) -> Result<String> {
    netlist::substitute(&spec.base_text, &spec.param_names(), values)
        .map_err(|m| SweepError::Input(format!("{}: {m}", spec.base_path.display())))
}

/// The resolved base file of a point: a netlist (simulation) or a training configuration
/// (TOML), and the extension `plan` gives it under `configs/`.
pub fn point_config(spec: &Spec, values: &[f64]) -> Result<(String, &'static str)> {
    match &spec.train {
        Some(tb) => tb
            .point_text(&spec.param_names(), values)
            .map(|t| (t, "toml"))
            .map_err(|m| SweepError::Input(format!("{}: {m}", spec.path.display()))),
        None => point_netlist(spec, values).map(|t| (t, "cir")),
    }
}

/// Write the manifest (`manifest.json`, `manifest.csv`), a copy of the spec, and each point's
/// resolved netlist (`configs/I.cir`) or training configuration (`configs/I.toml`). If `dir` already holds a manifest it
/// must be the same sweep (same names and values), so results are never mixed.
pub fn plan(spec: &Spec, dir: &Path) -> Result<Manifest> {
    let m = Manifest::of(spec);
    if dir.join("manifest.json").exists() {
        let old = Manifest::read(dir)?;
        if old != m {
            return Err(SweepError::Input(format!(
                "{} holds a different sweep (manifest.json differs from {}); use another output directory",
                dir.display(),
                spec.path.display()
            )));
        }
    }
    for sub in ["points", "configs", "logs"] {
        std::fs::create_dir_all(dir.join(sub)).map_err(|e| io(&dir.join(sub), e))?;
    }
    let json = serde_json::to_string_pretty(&m).expect("manifest serializes");
    write_text_atomic(&dir.join("manifest.json"), &(json + "\n"))?;
    let mut csv = String::from("index");
    for p in &m.params {
        csv.push(',');
        csv.push_str(p);
    }
    csv.push('\n');
    for (i, vals) in m.points.iter().enumerate() {
        csv.push_str(&i.to_string());
        for v in vals {
            csv.push(',');
            csv.push_str(&v.to_string());
        }
        csv.push('\n');
    }
    write_text_atomic(&dir.join("manifest.csv"), &csv)?;
    let spec_text = std::fs::read_to_string(&spec.path).map_err(|e| io(&spec.path, e))?;
    write_text_atomic(&dir.join("spec.toml"), &spec_text)?;
    for (i, vals) in m.points.iter().enumerate() {
        let (text, ext) = point_config(spec, vals)?;
        write_text_atomic(&dir.join("configs").join(format!("{i}.{ext}")), &text)?;
    }
    Ok(m)
}

/// The path of point `index`'s result.
pub fn point_path(dir: &Path, index: usize) -> PathBuf {
    dir.join("points").join(format!("{index}.h5"))
}

fn error_path(dir: &Path, index: usize) -> PathBuf {
    dir.join("points").join(format!("{index}.err"))
}

/// One point's stored result.
#[derive(Debug, Clone, PartialEq)]
pub struct PointResult {
    /// Point index.
    pub index: usize,
    /// Parameter names and values.
    pub params: Vec<(String, f64)>,
    /// Metric names and values.
    pub metrics: Vec<(String, f64)>,
}

/// Compute the metrics of one point (no files written).
pub fn evaluate(spec: &Spec, index: usize) -> Result<PointResult> {
    let points = spec.points();
    let vals = points.get(index).ok_or_else(|| {
        SweepError::Input(format!(
            "point index {index} out of range: the sweep has {} points (0..={})",
            points.len(),
            points.len().saturating_sub(1)
        ))
    })?;
    let names = spec.param_names();
    if let Some(tb) = &spec.train {
        let metrics = train::evaluate(tb, &names, vals, &spec.metrics, index)?;
        return Ok(PointResult {
            index,
            params: names.into_iter().zip(vals.iter().copied()).collect(),
            metrics,
        });
    }
    let text = point_netlist(spec, vals)?;
    let origin = spec.base_path.clone();
    let c = circuit::parse_str(&text, &origin).map_err(|e| SweepError::Input(e.to_string()))?;
    let tran = c.tran().ok_or_else(|| {
        SweepError::Input(format!(
            "{}: the netlist has no .tran analysis",
            origin.display()
        ))
    })?;
    let run_err = |e: String| SweepError::Run(format!("point {index}: {e}"));
    let mut sim = transient::Simulator::new(&c).map_err(|e| run_err(e.to_string()))?;
    let never = std::sync::atomic::AtomicBool::new(false);
    let mut sink = circuit::wave::StopSink::new(
        circuit::Waveforms::default(),
        stop_flag().map_or(&never, |f| &**f),
    );
    let r = sim.transient(tran, &Default::default(), &c.title, &mut sink);
    if sink.stopped() {
        return Err(SweepError::Interrupted);
    }
    r.map_err(|e| run_err(e.to_string()))?;
    let mut w = sink.inner;
    circuit::WaveSink::finish(&mut w).map_err(|e| run_err(e.to_string()))?;
    let mut metrics = Vec::new();
    for m in &spec.metrics {
        let v = metric(m, &w, &names, vals, &text)
            .map_err(|e| run_err(format!("metric '{}': {e}", m.name)))?;
        metrics.push((m.name.clone(), v));
    }
    Ok(PointResult {
        index,
        params: names.into_iter().zip(vals.iter().copied()).collect(),
        metrics,
    })
}

fn param_value(name: &str, names: &[String], vals: &[f64]) -> std::result::Result<f64, String> {
    let key = name.to_ascii_lowercase();
    names
        .iter()
        .position(|n| *n == key)
        .map(|k| vals[k])
        .ok_or_else(|| {
            format!("freq = \"{name}\" is not a swept parameter (give hertz or an axis name)")
        })
}

fn window(time: &[f64], from: Option<f64>) -> usize {
    match from {
        None => 0,
        Some(t0) => time.iter().position(|&t| t >= t0).unwrap_or(time.len()),
    }
}

fn metric(
    m: &MetricSpec,
    w: &circuit::Waveforms,
    names: &[String],
    vals: &[f64],
    _text: &str,
) -> std::result::Result<f64, String> {
    let signal = m.signal.as_deref().expect("validated");
    let y = w.signal(signal).ok_or_else(|| {
        let avail: Vec<&str> = w.signals.iter().map(|s| s.name.as_str()).collect();
        format!("no signal '{signal}' (available: {})", avail.join(", "))
    })?;
    let t = &w.time;
    if y.is_empty() {
        return Err("empty waveform".into());
    }
    let s = window(t, m.from);
    if s >= y.len() {
        return Err(format!(
            "from = {} is after the end of the run",
            m.from.unwrap_or(0.0)
        ));
    }
    let (ts, ys) = (&t[s..], &y[s..]);
    let trap = |f: &dyn Fn(f64) -> f64| -> std::result::Result<f64, String> {
        if ts.len() < 2 {
            return Err("need at least two time points in the window".into());
        }
        let mut acc = 0.0;
        for i in 1..ts.len() {
            acc += 0.5 * (f(ys[i]) + f(ys[i - 1])) * (ts[i] - ts[i - 1]);
        }
        Ok(acc / (ts[ts.len() - 1] - ts[0]))
    };
    match m.kind {
        MetricKind::Final => Ok(y[y.len() - 1]),
        MetricKind::Max => Ok(ys.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
        MetricKind::Min => Ok(ys.iter().copied().fold(f64::INFINITY, f64::min)),
        MetricKind::Mean => trap(&|v| v),
        MetricKind::Rms => trap(&|v| v * v).map(f64::sqrt),
        MetricKind::TrainLoss
        | MetricKind::TrainAccuracy
        | MetricKind::TestLoss
        | MetricKind::TestAccuracy
        | MetricKind::BestTestAccuracy
        | MetricKind::GradCosine
        | MetricKind::GradRelError => unreachable!("training metric in a simulation sweep"),
        MetricKind::Amplitude | MetricKind::Phase => {
            let f = match m.freq.as_ref().expect("validated") {
                Freq::Hz(f) => *f,
                Freq::Param(p) => param_value(p, names, vals)?,
            };
            let c = spectrum::read_waveform(
                t,
                y,
                &[f],
                &spectrum::CoherentOptions::default(),
                None,
                spectrum::Interp::default(),
            )
            .map_err(|e| e.to_string())?;
            Ok(if m.kind == MetricKind::Amplitude {
                c[0].amplitude()
            } else {
                c[0].phase_deg()
            })
        }
    }
}

fn h5err(path: &Path, e: impl std::fmt::Display) -> store::StoreError {
    store::StoreError::Io {
        path: path.into(),
        source: std::io::Error::other(e.to_string()),
    }
}

fn write_strings(file: &hdf5::File, path: &Path, name: &str, v: &[String]) -> store::Result<()> {
    let v: Vec<VarLenUnicode> = v
        .iter()
        .map(|s| s.parse().map_err(|e| h5err(path, e)))
        .collect::<store::Result<_>>()?;
    file.new_dataset::<VarLenUnicode>()
        .shape(v.len())
        .create(name)
        .and_then(|d| store::h5::write_vlen_strings(&d, &v))
        .map_err(|e| h5err(path, e))
}

fn write_f64(file: &hdf5::Group, path: &Path, name: &str, v: &[f64]) -> store::Result<()> {
    file.new_dataset::<f64>()
        .shape(v.len())
        .create(name)
        .and_then(|d| d.write_raw(v))
        .map_err(|e| h5err(path, e))
}

fn read_strings(file: &hdf5::File, name: &str) -> hdf5::Result<Vec<String>> {
    Ok(file
        .dataset(name)?
        .read_raw::<VarLenUnicode>()?
        .into_iter()
        .map(|s| s.as_str().to_string())
        .collect())
}

/// Write a point's result to `DIR/points/I.h5` atomically (temporary file, fsync, rename).
pub fn write_point(dir: &Path, r: &PointResult) -> Result<()> {
    let path = point_path(dir, r.index);
    store::atomic::write_atomic(&path, |tmp| {
        let f = hdf5::File::create(tmp).map_err(|e| h5err(tmp, e))?;
        let pn: Vec<String> = r.params.iter().map(|p| p.0.clone()).collect();
        let mn: Vec<String> = r.metrics.iter().map(|p| p.0.clone()).collect();
        let pv: Vec<f64> = r.params.iter().map(|p| p.1).collect();
        let mv: Vec<f64> = r.metrics.iter().map(|p| p.1).collect();
        write_strings(&f, tmp, "param_names", &pn)?;
        write_f64(&f, tmp, "param_values", &pv)?;
        write_strings(&f, tmp, "metric_names", &mn)?;
        write_f64(&f, tmp, "metric_values", &mv)?;
        f.new_attr::<u64>()
            .create("index")
            .and_then(|a| a.write_scalar(&(r.index as u64)))
            .map_err(|e| h5err(tmp, e))?;
        f.close().map_err(|e| h5err(tmp, e))?;
        Ok(())
    })
    .map_err(|e| io(&path, e))
}

/// Read and check a point file against the manifest: index, names and parameter values must
/// match exactly. Any failure (truncated, corrupt, foreign) is an error.
pub fn read_point(dir: &Path, m: &Manifest, index: usize) -> Result<PointResult> {
    let path = point_path(dir, index);
    let bad = |e: String| SweepError::Run(format!("{}: {e}", path.display()));
    let f = hdf5::File::open(&path).map_err(|e| bad(e.to_string()))?;
    let read = || -> hdf5::Result<_> {
        let idx: u64 = f.attr("index")?.read_scalar()?;
        let pn = read_strings(&f, "param_names")?;
        let mn = read_strings(&f, "metric_names")?;
        let pv = f.dataset("param_values")?.read_raw::<f64>()?;
        let mv = f.dataset("metric_values")?.read_raw::<f64>()?;
        Ok((idx, pn, mn, pv, mv))
    };
    let (idx, pn, mn, pv, mv) = read().map_err(|e| bad(e.to_string()))?;
    if idx as usize != index {
        return Err(bad(format!("holds point {idx}, expected {index}")));
    }
    if pn != m.params || mn != m.metrics || pv.len() != pn.len() || mv.len() != mn.len() {
        return Err(bad(
            "parameter or metric names differ from the manifest".into()
        ));
    }
    let want = &m.points[index];
    if pv.iter().zip(want).any(|(a, b)| a.to_bits() != b.to_bits()) {
        return Err(bad("parameter values differ from the manifest".into()));
    }
    Ok(PointResult {
        index,
        params: pn.into_iter().zip(pv).collect(),
        metrics: mn.into_iter().zip(mv).collect(),
    })
}

/// What happened in [`run_point`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    /// The point was computed and written.
    Done,
    /// A valid result was already there.
    Skipped,
}

/// Run point `index` unless its result is already complete; write `DIR/points/I.h5`. On
/// failure, `DIR/points/I.err` records the error (removed when the point later succeeds).
pub fn run_point(spec: &Spec, dir: &Path, index: usize) -> Result<RunOutcome> {
    let m = plan_if_needed(spec, dir)?;
    if index >= m.points.len() {
        return Err(SweepError::Input(format!(
            "--index {index} out of range: the sweep has {} points (0..={})",
            m.points.len(),
            m.points.len().saturating_sub(1)
        )));
    }
    if read_point(dir, &m, index).is_ok() {
        return Ok(RunOutcome::Skipped);
    }
    if stop_requested() {
        return Err(SweepError::Interrupted);
    }
    match evaluate(spec, index).and_then(|r| write_point(dir, &r)) {
        Ok(()) => {
            let _ = std::fs::remove_file(error_path(dir, index));
            Ok(RunOutcome::Done)
        }
        Err(SweepError::Interrupted) => Err(SweepError::Interrupted),
        Err(e) => {
            let _ = write_text_atomic(&error_path(dir, index), &format!("{e}\n"));
            Err(e)
        }
    }
}

fn plan_if_needed(spec: &Spec, dir: &Path) -> Result<Manifest> {
    let m = Manifest::of(spec);
    match Manifest::read(dir) {
        Ok(old) if old == m => Ok(m),
        Ok(_) => Err(SweepError::Input(format!(
            "{} holds a different sweep than {}; use another output directory",
            dir.display(),
            spec.path.display()
        ))),
        Err(_) => plan(spec, dir),
    }
}

/// Completion of a sweep directory.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Status {
    /// Number of points.
    pub points: usize,
    /// Indices with a valid result.
    pub complete: Vec<usize>,
    /// Indices with no result and no recorded error.
    pub missing: Vec<usize>,
    /// Indices whose result file is unreadable (truncated, corrupt) or whose run failed.
    pub failed: Vec<usize>,
    /// Why each failed point failed, in the order of `failed`.
    pub errors: Vec<String>,
}

impl Status {
    /// Indices still to run (missing and failed), ascending.
    pub fn pending(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self.missing.iter().chain(&self.failed).copied().collect();
        v.sort_unstable();
        v
    }
}

/// Scan `DIR/points` against the manifest.
pub fn status(dir: &Path) -> Result<Status> {
    let m = Manifest::read(dir)?;
    Ok(status_of(dir, &m).0)
}

fn status_of(dir: &Path, m: &Manifest) -> (Status, Vec<PointResult>) {
    let mut st = Status {
        points: m.points.len(),
        complete: vec![],
        missing: vec![],
        failed: vec![],
        errors: vec![],
    };
    let mut results = Vec::new();
    for i in 0..m.points.len() {
        if point_path(dir, i).exists() {
            match read_point(dir, m, i) {
                Ok(r) => {
                    st.complete.push(i);
                    results.push(r);
                }
                Err(e) => {
                    st.failed.push(i);
                    st.errors.push(e.to_string());
                }
            }
        } else if let Ok(e) = std::fs::read_to_string(error_path(dir, i)) {
            st.failed.push(i);
            st.errors.push(e.trim().to_string());
        } else {
            st.missing.push(i);
        }
    }
    (st, results)
}

/// The merged table: one row per complete point.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Parameter names.
    pub params: Vec<String>,
    /// Metric names.
    pub metric_names: Vec<String>,
    /// Point index of each row.
    pub index: Vec<usize>,
    /// `values[row][k]`: parameter `k` of each row.
    pub values: Vec<Vec<f64>>,
    /// `metrics[row][k]`: metric `k` of each row.
    pub metrics: Vec<Vec<f64>>,
    /// Completion at collection time.
    pub status: Status,
}

impl Table {
    /// The table as CSV (`index,params...,metrics...`), numbers in shortest round-trip form.
    pub fn to_csv(&self) -> String {
        let mut s = String::from("index");
        for n in self.params.iter().chain(&self.metric_names) {
            s.push(',');
            s.push_str(n);
        }
        s.push('\n');
        for (r, i) in self.index.iter().enumerate() {
            s.push_str(&i.to_string());
            for v in self.values[r].iter().chain(&self.metrics[r]) {
                s.push(',');
                s.push_str(&v.to_string());
            }
            s.push('\n');
        }
        s
    }
}

/// Merge the complete points of `dir` into `out` (HDF5: `/index`, `/params/<name>`,
/// `/metrics/<name>`, one row per point) and `out` with extension `.csv`. Both are written
/// atomically. Missing and failed points are left out and reported in [`Table::status`].
pub fn collect(dir: &Path, out: &Path) -> Result<Table> {
    let m = Manifest::read(dir)?;
    let (st, results) = status_of(dir, &m);
    let table = Table {
        params: m.params.clone(),
        metric_names: m.metrics.clone(),
        index: results.iter().map(|r| r.index).collect(),
        values: results
            .iter()
            .map(|r| r.params.iter().map(|p| p.1).collect())
            .collect(),
        metrics: results
            .iter()
            .map(|r| r.metrics.iter().map(|p| p.1).collect())
            .collect(),
        status: st,
    };
    store::atomic::write_atomic(out, |tmp| {
        let f = hdf5::File::create(tmp).map_err(|e| h5err(tmp, e))?;
        let idx: Vec<u64> = table.index.iter().map(|&i| i as u64).collect();
        f.new_dataset::<u64>()
            .shape(idx.len())
            .create("index")
            .and_then(|d| d.write_raw(&idx))
            .map_err(|e| h5err(tmp, e))?;
        for (group, names, rows) in [
            ("params", &table.params, &table.values),
            ("metrics", &table.metric_names, &table.metrics),
        ] {
            let g = f.create_group(group).map_err(|e| h5err(tmp, e))?;
            for (k, n) in names.iter().enumerate() {
                let col: Vec<f64> = rows.iter().map(|r| r[k]).collect();
                write_f64(&g, tmp, n, &col)?;
            }
        }
        write_strings(&f, tmp, "param_names", &table.params)?;
        write_strings(&f, tmp, "metric_names", &table.metric_names)?;
        f.close().map_err(|e| h5err(tmp, e))?;
        Ok(())
    })
    .map_err(|e| io(out, e))?;
    write_text_atomic(&out.with_extension("csv"), &table.to_csv())?;
    Ok(table)
}

/// Read a table written by [`collect`] (its `status` lists the rows as complete). Returns an
/// input error naming the file when it is not a sweep table.
pub fn read_table(path: &Path) -> Result<Table> {
    let bad = |what: &str| {
        SweepError::Input(format!(
            "{}: not a freqprop sweep table ({what})",
            path.display()
        ))
    };
    let f = hdf5::File::open(path).map_err(|_| bad("not an HDF5 file"))?;
    let strings = |name: &str| -> Result<Vec<String>> {
        let d = f.dataset(name).map_err(|_| bad(&format!("no /{name}")))?;
        let v: Vec<VarLenUnicode> = d.read_raw().map_err(|e| io(path, e))?;
        Ok(v.iter().map(|s| s.as_str().to_string()).collect())
    };
    let params = strings("param_names")?;
    let metric_names = strings("metric_names")?;
    let index: Vec<u64> = f
        .dataset("index")
        .and_then(|d| d.read_raw())
        .map_err(|_| bad("no /index"))?;
    let n = index.len();
    let column = |group: &str, name: &str| -> Result<Vec<f64>> {
        let v: Vec<f64> = f
            .dataset(&format!("{group}/{name}"))
            .and_then(|d| d.read_raw())
            .map_err(|_| bad(&format!("no /{group}/{name}")))?;
        if v.len() != n {
            return Err(bad(&format!(
                "/{group}/{name} has {} rows, /index {n}",
                v.len()
            )));
        }
        Ok(v)
    };
    let pcols = params
        .iter()
        .map(|p| column("params", p))
        .collect::<Result<Vec<_>>>()?;
    let mcols = metric_names
        .iter()
        .map(|m| column("metrics", m))
        .collect::<Result<Vec<_>>>()?;
    let rows = |cols: &[Vec<f64>]| -> Vec<Vec<f64>> {
        (0..n)
            .map(|r| cols.iter().map(|c| c[r]).collect())
            .collect()
    };
    let index: Vec<usize> = index.iter().map(|&i| i as usize).collect();
    Ok(Table {
        params,
        metric_names,
        values: rows(&pcols),
        metrics: rows(&mcols),
        status: Status {
            points: n,
            complete: index.clone(),
            missing: vec![],
            failed: vec![],
            errors: vec![],
        },
        index,
    })
}

/// Run every pending point of the sweep on this machine with `jobs` threads (0: all cores),
/// calling `progress(index, result)` as each one finishes. Returns the final status.
pub fn run_local(
    spec: &Spec,
    dir: &Path,
    jobs: usize,
    progress: impl Fn(usize, &Result<RunOutcome>) + Sync,
) -> Result<Status> {
    let m = plan_if_needed(spec, dir)?;
    let pending = status_of(dir, &m).0.pending();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| SweepError::Run(format!("thread pool: {e}")))?;
    pool.install(|| {
        use rayon::prelude::*;
        pending.par_iter().for_each(|&i| {
            if stop_requested() {
                return;
            }
            let r = run_point(spec, dir, i);
            progress(i, &r);
        });
    });
    status(dir)
}

/// Options of the Slurm job script.
#[derive(Debug, Clone, Default)]
pub struct SlurmOptions {
    /// `--partition`.
    pub partition: Option<String>,
    /// `--time` (e.g. `00:10:00`).
    pub time: Option<String>,
    /// `--cpus-per-task`.
    pub cpus_per_task: Option<u32>,
    /// Array throttle `%M`.
    pub max_parallel: Option<usize>,
    /// Extra `#SBATCH` arguments, verbatim (e.g. `--account=abc`).
    pub extra: Vec<String>,
}

/// Compress indices into Slurm's array syntax: `0-3,5,7-8`.
pub fn array_ranges(idx: &[usize]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && idx[j + 1] == idx[j] + 1 {
            j += 1;
        }
        parts.push(if i == j {
            idx[i].to_string()
        } else {
            format!("{}-{}", idx[i], idx[j])
        });
        i = j + 1;
    }
    parts.join(",")
}

fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@%".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The sbatch script running `indices` as a job array, each task
/// `EXE sweep run SPEC -o DIR --index $SLURM_ARRAY_TASK_ID`. Paths should be absolute.
pub fn slurm_script(
    exe: &Path,
    spec_path: &Path,
    dir: &Path,
    name: &str,
    indices: &[usize],
    opts: &SlurmOptions,
) -> String {
    let mut s = String::from("#!/bin/bash\n");
    s.push_str(&format!(
        "#SBATCH --job-name={}\n",
        shell_quote(&format!("sweep-{name}"))
    ));
    let mut array = array_ranges(indices);
    if let Some(m) = opts.max_parallel {
        array.push_str(&format!("%{m}"));
    }
    s.push_str(&format!("#SBATCH --array={array}\n"));
    s.push_str(&format!(
        "#SBATCH --output={}\n",
        shell_quote(&dir.join("logs").join("%A_%a.out").to_string_lossy())
    ));
    if let Some(p) = &opts.partition {
        s.push_str(&format!("#SBATCH --partition={}\n", shell_quote(p)));
    }
    if let Some(t) = &opts.time {
        s.push_str(&format!("#SBATCH --time={}\n", shell_quote(t)));
    }
    s.push_str(&format!(
        "#SBATCH --cpus-per-task={}\n",
        opts.cpus_per_task.unwrap_or(1)
    ));
    for a in &opts.extra {
        s.push_str(&format!("#SBATCH {a}\n"));
    }
    s.push_str("set -euo pipefail\n");
    s.push_str(&format!(
        "exec {} sweep run {} -o {} --index \"$SLURM_ARRAY_TASK_ID\"\n",
        shell_quote(&exe.to_string_lossy()),
        shell_quote(&spec_path.to_string_lossy()),
        shell_quote(&dir.to_string_lossy()),
    ));
    s
}

/// Write `DIR/sweep.sbatch` for the points still pending; returns the script path and those
/// indices (empty: nothing to run, no script written).
pub fn write_slurm_script(
    exe: &Path,
    spec: &Spec,
    dir: &Path,
    opts: &SlurmOptions,
) -> Result<(PathBuf, Vec<usize>)> {
    let m = plan_if_needed(spec, dir)?;
    let pending = status_of(dir, &m).0.pending();
    let path = dir.join("sweep.sbatch");
    if pending.is_empty() {
        return Ok((path, pending));
    }
    let abs = |p: &Path| std::path::absolute(p).map_err(|e| io(p, e));
    let script = slurm_script(
        exe,
        &abs(&spec.path)?,
        &abs(dir)?,
        &spec.name,
        &pending,
        opts,
    );
    write_text_atomic(&path, &script)?;
    Ok((path, pending))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(array_ranges(&[0, 1, 2, 3, 5, 7, 8]), "0-3,5,7-8");
        assert_eq!(array_ranges(&[4]), "4");
    }
}

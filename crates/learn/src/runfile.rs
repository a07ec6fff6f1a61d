//! The training run file (HDF5): configuration, conductances per epoch, history, the
//! resumable checkpoint, and the waveforms and readout coefficients of a few samples.
//!
//! # Layout (format `freqprop-run`, version 1)
//!
//! | object | kind | content |
//! |---|---|---|
//! | `/` attrs `format`, `version` | string, u32 | `freqprop-run`, `1` |
//! | `/config` | scalar string | the configuration as TOML |
//! | `/names` | string `[n]` | trainable resistor names |
//! | `/conductances` | f64 `[epochs+1 × n]` | row 0: initial, row k: after epoch k (siemens) |
//! | `/history/{epoch,train_loss,test_loss,train_accuracy,test_accuracy,seconds}` | f64 `[epochs]` | per-epoch record (accuracy NaN for regression) |
//! | `/history/skipped` | f64 `[epochs]` | examples skipped under `on_failure = "skip"` per epoch (the examples and their errors are in the checkpoint's history) |
//! | `/` attr `status` | string | `running` (written after every epoch), `complete`, or `interrupted` (stopped by a signal; `--resume` continues) |
//! | `/checkpoint` | scalar string | the JSON checkpoint ([`crate::train::Checkpoint`]) that `--resume` reads |
//! | `/samples/<k>/` attrs `index`, `beta`, `freq` | u64, f64, f64 | training-set index, β (A), `f_e` (Hz) |
//! | `/samples/<k>/time` | f64 `[points]` | readout grid (s) |
//! | `/samples/<k>/nodes` | string `[nodes]` | node names (ground left out) |
//! | `/samples/<k>/voltages` | f64 `[points × nodes]` | node voltages with the error current on |
//! | `/samples/<k>/drops` | f64 `[points × n]` | voltage across each trainable resistor (V) |
//! | `/samples/<k>/activation`, `error` | f64 `[n]` | `A_j` (DC) and `E_j` (in phase at `f_e`) of each trainable resistor's drop (V) |
//! | `/samples/<k>/frequencies`, `spectra` | f64 `[bins]`, `[bins × n]` | magnitude spectrum of each trainable resistor's drop |
//!
//! HDF5 files cannot be appended to atomically, so the whole (small) file is rewritten to a
//! temporary file and renamed over the target after every epoch.
//!
//! ```
//! use learn::{runfile::*, train::{parse_config, Trainer}};
//! let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/xor.toml")).unwrap();
//! let mut cfg = parse_config(&text, "xor.toml").unwrap();
//! cfg.train.epochs = 1;
//! let mut t = Trainer::new(cfg, std::path::Path::new(".")).unwrap();
//! let mut g = vec![t.g.clone()];
//! t.train_epoch(&mut |_, _, _| {}).unwrap();
//! g.push(t.g.clone());
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("run.h5");
//! write_run(&path, &RunData::from_trainer(&t, g, &[0]).unwrap()).unwrap();
//! assert!(is_run_file(&path));
//! let back = read_run(&path).unwrap();
//! assert_eq!(back.conductances.len(), 2);
//! assert_eq!(back.checkpoint.conductances, t.g);
//! assert_eq!(back.samples[0].activation.len(), t.g.len());
//! ```

use crate::failure::FailurePolicy;
use crate::train::{Checkpoint, EpochStats, Trainer};
use crate::transient_engine::TransientEngine;
use crate::LearnError;
use hdf5::types::{VarLenAscii, VarLenUnicode};
use hdf5::{File, Group, Location};
use std::path::Path;
use std::str::FromStr;

/// The `format` attribute value.
pub const FORMAT: &str = "freqprop-run";
/// The `version` attribute value.
pub const VERSION: u32 = 1;

/// Waveforms and readout of one training sample.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleRecord {
    /// Index in the training set.
    pub index: usize,
    /// Error amplitude β (A per unit error).
    pub beta: f64,
    /// Error frequency `f_e` (Hz).
    pub freq: f64,
    /// Time grid (s).
    pub time: Vec<f64>,
    /// Node names (ground left out).
    pub nodes: Vec<String>,
    /// Node voltages, row-major `[points × nodes]`.
    pub voltages: Vec<f64>,
    /// Voltage across each trainable resistor, row-major `[points × n]`.
    pub drops: Vec<f64>,
    /// `A_j`: DC level of each trainable resistor's drop (V).
    pub activation: Vec<f64>,
    /// `E_j`: in-phase part at `f_e` of each trainable resistor's drop (V).
    pub error: Vec<f64>,
    /// Frequencies of the magnitude spectra (Hz).
    pub frequencies: Vec<f64>,
    /// Magnitude spectra of the drops, row-major `[bins × n]` (V).
    pub spectra: Vec<f64>,
}

impl SampleRecord {
    /// Voltage of node column `k` over time.
    pub fn node_wave(&self, k: usize) -> Vec<f64> {
        let m = self.nodes.len();
        self.voltages.iter().skip(k).step_by(m).copied().collect()
    }

    /// Voltage across trainable resistor `j` over time.
    pub fn drop_wave(&self, j: usize) -> Vec<f64> {
        let n = self.activation.len();
        self.drops.iter().skip(j).step_by(n).copied().collect()
    }

    /// Magnitude spectrum of trainable resistor `j`'s drop.
    pub fn drop_spectrum(&self, j: usize) -> Vec<f64> {
        let n = self.activation.len();
        self.spectra.iter().skip(j).step_by(n).copied().collect()
    }
}

/// Everything a run file holds.
#[derive(Debug, Clone, PartialEq)]
pub struct RunData {
    /// Configuration as TOML.
    pub config_toml: String,
    /// Trainable resistor names.
    pub names: Vec<String>,
    /// Conductances: initial, then after each epoch.
    pub conductances: Vec<Vec<f64>>,
    /// Per-epoch history.
    pub history: Vec<EpochStats>,
    /// The resumable state.
    pub checkpoint: Checkpoint,
    /// Recorded samples.
    pub samples: Vec<SampleRecord>,
    /// `running`, `complete` or `interrupted` (see [`STATUS_RUNNING`] and the others).
    pub status: String,
}

/// Status of a run file written after an epoch of an unfinished run.
pub const STATUS_RUNNING: &str = "running";
/// Status of a run file whose run reached its last epoch.
pub const STATUS_COMPLETE: &str = "complete";
/// Status of a run file whose run a signal stopped (the last completed epoch is kept).
pub const STATUS_INTERRUPTED: &str = "interrupted";

fn cfg_err(e: impl std::fmt::Display) -> LearnError {
    LearnError::Config(e.to_string())
}

impl RunData {
    /// Gather a trainer's state. `conductances` holds the initial conductances and those after
    /// each completed epoch; `samples` are training-set indices to simulate with the
    /// transient protocol at the current conductances (out-of-range indices are skipped).
    /// A sample whose simulation fails is an error under `on_failure = "abort"`; use
    /// [`RunData::from_trainer_lenient`] to leave it out instead.
    pub fn from_trainer(
        t: &Trainer,
        conductances: Vec<Vec<f64>>,
        samples: &[usize],
    ) -> Result<RunData, LearnError> {
        let (run, failed) = RunData::from_trainer_lenient(t, conductances, samples)?;
        match failed.into_iter().next() {
            Some((i, e)) if t.config.train.on_failure == FailurePolicy::Abort => Err(
                LearnError::Sim(format!("recording training example #{i}: {e}")),
            ),
            _ => Ok(run),
        }
    }

    /// [`RunData::from_trainer`], leaving out the samples whose simulation fails (returned
    /// with their errors). The status is [`STATUS_RUNNING`].
    pub fn from_trainer_lenient(
        t: &Trainer,
        conductances: Vec<Vec<f64>>,
        samples: &[usize],
    ) -> Result<(RunData, Vec<(usize, LearnError)>), LearnError> {
        let config_toml = toml::to_string(&t.config).map_err(cfg_err)?;
        let mut recs = Vec::new();
        let mut failed = Vec::new();
        for &i in samples.iter().filter(|&&i| i < t.split.train.len()) {
            match record_sample(t, i) {
                Ok(r) => recs.push(r),
                Err(e @ LearnError::Sim(_)) => failed.push((i, e)),
                Err(e) => return Err(e),
            }
        }
        let run = RunData {
            config_toml,
            names: t.network.trainable_names(),
            conductances,
            history: t.history.clone(),
            checkpoint: t.checkpoint(),
            samples: recs,
            status: STATUS_RUNNING.to_string(),
        };
        Ok((run, failed))
    }
}

/// Simulate training sample `index` with the transient protocol at the trainer's current
/// conductances and record its waveforms and per-resistor coefficients.
pub fn record_sample(t: &Trainer, index: usize) -> Result<SampleRecord, LearnError> {
    let opts = &t.config.transient;
    let mut eng = TransientEngine::new(&t.network, opts)?;
    eng.set_conductances(&t.g)?;
    eng.gradient(
        &t.split.train.x[index],
        &t.split.train.y[index],
        &t.config.loss,
    )?;
    let names = &t.network.circuit.nodes;
    let mut nodes = Vec::new();
    let mut cols: Vec<&[f64]> = Vec::new();
    let (mut t0, mut dt) = (0.0, 0.0);
    for (k, name) in names.iter().enumerate().skip(1) {
        if let Some((a, b, w)) = eng.last_waveform(k) {
            (t0, dt) = (a, b);
            nodes.push(name.clone());
            cols.push(w);
        }
    }
    let points = cols.first().map_or(0, |c| c.len());
    if points == 0 {
        return Err(LearnError::Sim("no waveform recorded".into()));
    }
    let time: Vec<f64> = (0..points).map(|i| t0 + i as f64 * dt).collect();
    let mut voltages = Vec::with_capacity(points * cols.len());
    for i in 0..points {
        voltages.extend(cols.iter().map(|c| c[i]));
    }
    let zero = vec![0.0; points];
    let wave = |node: usize| -> &[f64] {
        if node == 0 {
            &zero
        } else {
            eng.last_waveform(node).map_or(&zero[..], |w| w.2)
        }
    };
    let readout = spectrum::Readout::new(points, dt, &[0.0, opts.freq]).map_err(cfg_err)?;
    let pairs = t.network.trainable_nodes();
    let (mut activation, mut error) = (Vec::new(), Vec::new());
    let mut frequencies = Vec::new();
    let mut mags: Vec<Vec<f64>> = Vec::new();
    let mut dcols: Vec<Vec<f64>> = Vec::new();
    for &(a, b) in &pairs {
        let d: Vec<f64> = wave(a).iter().zip(wave(b)).map(|(x, y)| x - y).collect();
        let c = readout
            .read(&d, t0)
            .map_err(|e| LearnError::Sim(e.to_string()))?;
        activation.push(c[0].in_phase);
        error.push(c[1].in_phase);
        let (f, m) = spectrum::magnitude_spectrum(&d, dt, spectrum::Window::Rectangular)
            .map_err(|e| LearnError::Sim(e.to_string()))?;
        frequencies = f;
        mags.push(m);
        dcols.push(d);
    }
    let mut drops = Vec::with_capacity(points * dcols.len());
    for i in 0..points {
        drops.extend(dcols.iter().map(|c| c[i]));
    }
    let bins = frequencies.len();
    let mut spectra = Vec::with_capacity(bins * mags.len());
    for i in 0..bins {
        spectra.extend(mags.iter().map(|m| m[i]));
    }
    Ok(SampleRecord {
        index,
        beta: opts.beta,
        freq: opts.freq,
        time,
        nodes,
        voltages,
        drops,
        activation,
        error,
        frequencies,
        spectra,
    })
}

fn h5e(path: &Path, obj: &str, e: impl std::fmt::Display) -> LearnError {
    LearnError::Io(format!("{}: {obj}: {e}", path.display()))
}

fn vlu(path: &Path, obj: &str, s: &str) -> Result<VarLenUnicode, LearnError> {
    VarLenUnicode::from_str(s).map_err(|e| h5e(path, obj, e))
}

fn put_text(g: &Group, path: &Path, name: &str, s: &str) -> Result<(), LearnError> {
    let v = vlu(path, name, s)?;
    g.new_dataset::<VarLenUnicode>()
        .shape(())
        .create(name)
        .and_then(|d| store::h5::write_vlen_strings(&d, std::slice::from_ref(&v)))
        .map_err(|e| h5e(path, name, e))
}

fn put_strings(g: &Group, path: &Path, name: &str, s: &[String]) -> Result<(), LearnError> {
    let v = s
        .iter()
        .map(|x| vlu(path, name, x))
        .collect::<Result<Vec<_>, _>>()?;
    g.new_dataset::<VarLenUnicode>()
        .shape(v.len())
        .create(name)
        .and_then(|d| store::h5::write_vlen_strings(&d, &v))
        .map_err(|e| h5e(path, name, e))
}

fn put_f64(
    g: &Group,
    path: &Path,
    name: &str,
    shape: &[usize],
    v: &[f64],
) -> Result<(), LearnError> {
    g.new_dataset::<f64>()
        .shape(shape)
        .create(name)
        .and_then(|d| d.write_raw(v))
        .map_err(|e| h5e(path, name, e))
}

fn put_attr<T: hdf5::H5Type>(
    loc: &Location,
    path: &Path,
    name: &str,
    v: T,
) -> Result<(), LearnError> {
    loc.new_attr::<T>()
        .shape(())
        .create(name)
        .and_then(|a| a.write_scalar(&v))
        .map_err(|e| h5e(path, &format!("@{name}"), e))
}

fn write_into(f: &File, p: &Path, run: &RunData) -> Result<(), LearnError> {
    let fmt = vlu(p, "@format", FORMAT)?;
    put_attr(f, p, "format", fmt)?;
    put_attr(f, p, "version", VERSION)?;
    let status = vlu(p, "@status", &run.status)?;
    put_attr(f, p, "status", status)?;
    put_text(f, p, "config", &run.config_toml)?;
    put_strings(f, p, "names", &run.names)?;
    let n = run.names.len();
    if let Some(bad) = run.conductances.iter().find(|r| r.len() != n) {
        return Err(h5e(
            p,
            "conductances",
            format!("a row has {} values for {n} resistors", bad.len()),
        ));
    }
    let flat: Vec<f64> = run.conductances.iter().flatten().copied().collect();
    put_f64(f, p, "conductances", &[run.conductances.len(), n], &flat)?;
    let h = f
        .create_group("history")
        .map_err(|e| h5e(p, "history", e))?;
    let col = |g: &dyn Fn(&EpochStats) -> f64| run.history.iter().map(g).collect::<Vec<f64>>();
    let m = run.history.len();
    put_f64(&h, p, "epoch", &[m], &col(&|s| s.epoch as f64))?;
    put_f64(&h, p, "train_loss", &[m], &col(&|s| s.train_loss))?;
    put_f64(&h, p, "test_loss", &[m], &col(&|s| s.test_loss))?;
    let acc = |a: Option<f64>| a.unwrap_or(f64::NAN);
    put_f64(
        &h,
        p,
        "train_accuracy",
        &[m],
        &col(&|s| acc(s.train_accuracy)),
    )?;
    put_f64(
        &h,
        p,
        "test_accuracy",
        &[m],
        &col(&|s| acc(s.test_accuracy)),
    )?;
    put_f64(&h, p, "seconds", &[m], &col(&|s| s.seconds))?;
    put_f64(&h, p, "skipped", &[m], &col(&|s| s.skipped.len() as f64))?;
    let ck = serde_json::to_string(&run.checkpoint).map_err(|e| h5e(p, "checkpoint", e))?;
    put_text(f, p, "checkpoint", &ck)?;
    let sg = f
        .create_group("samples")
        .map_err(|e| h5e(p, "samples", e))?;
    for (k, s) in run.samples.iter().enumerate() {
        let obj = format!("samples/{k}");
        let g = sg
            .create_group(&k.to_string())
            .map_err(|e| h5e(p, &obj, e))?;
        put_attr(&g, p, "index", s.index as u64)?;
        put_attr(&g, p, "beta", s.beta)?;
        put_attr(&g, p, "freq", s.freq)?;
        put_f64(&g, p, "beta", &[], &[s.beta])?;
        put_f64(&g, p, "freq", &[], &[s.freq])?;
        put_f64(&g, p, "time", &[s.time.len()], &s.time)?;
        put_strings(&g, p, "nodes", &s.nodes)?;
        put_f64(
            &g,
            p,
            "voltages",
            &[s.time.len(), s.nodes.len()],
            &s.voltages,
        )?;
        put_f64(
            &g,
            p,
            "drops",
            &[s.time.len(), s.activation.len()],
            &s.drops,
        )?;
        put_f64(&g, p, "activation", &[s.activation.len()], &s.activation)?;
        put_f64(&g, p, "error", &[s.error.len()], &s.error)?;
        put_f64(&g, p, "frequencies", &[s.frequencies.len()], &s.frequencies)?;
        put_f64(
            &g,
            p,
            "spectra",
            &[s.frequencies.len(), s.activation.len()],
            &s.spectra,
        )?;
    }
    Ok(())
}

/// Write a run file atomically (temporary file, then rename).
pub fn write_run(path: &Path, run: &RunData) -> Result<(), LearnError> {
    let guard = store::atomic::AtomicPath::new(path);
    let tmp = guard.tmp_path().to_path_buf();
    {
        let f = File::create(&tmp).map_err(|e| h5e(&tmp, "/", e))?;
        write_into(&f, &tmp, run)?;
        f.close().map_err(|e| h5e(&tmp, "/", e))?;
    }
    guard.commit().map_err(|e| LearnError::Io(e.to_string()))
}

fn get_text(g: &Group, path: &Path, name: &str) -> Result<String, LearnError> {
    let d = g
        .dataset(name)
        .map_err(|_| h5e(path, name, "missing dataset"))?;
    if let Ok(s) = d.read_scalar::<VarLenUnicode>() {
        return Ok(s.as_str().to_string());
    }
    d.read_scalar::<VarLenAscii>()
        .map(|s| s.as_str().to_string())
        .map_err(|e| h5e(path, name, format!("expected a string: {e}")))
}

fn get_strings(g: &Group, path: &Path, name: &str) -> Result<Vec<String>, LearnError> {
    let d = g
        .dataset(name)
        .map_err(|_| h5e(path, name, "missing dataset"))?;
    d.read_raw::<VarLenUnicode>()
        .map(|v| v.iter().map(|s| s.as_str().to_string()).collect())
        .map_err(|e| h5e(path, name, format!("expected strings: {e}")))
}

/// `(shape, values)` of an f64 dataset.
fn get_f64(g: &Group, path: &Path, name: &str) -> Result<(Vec<usize>, Vec<f64>), LearnError> {
    let d = g
        .dataset(name)
        .map_err(|_| h5e(path, name, "missing dataset"))?;
    let v = d
        .read_raw::<f64>()
        .map_err(|e| h5e(path, name, format!("expected numbers: {e}")))?;
    Ok((d.shape(), v))
}

fn get_attr<T: hdf5::H5Type>(loc: &Location, path: &Path, name: &str) -> Result<T, LearnError> {
    loc.attr(name)
        .and_then(|a| a.read_scalar::<T>())
        .map_err(|e| h5e(path, &format!("@{name}"), e))
}

fn format_of(f: &File) -> Option<String> {
    str_attr(f, "format")
}

fn str_attr(f: &File, name: &str) -> Option<String> {
    let a = f.attr(name).ok()?;
    if let Ok(s) = a.read_scalar::<VarLenUnicode>() {
        return Some(s.as_str().to_string());
    }
    a.read_scalar::<VarLenAscii>()
        .ok()
        .map(|s| s.as_str().to_string())
}

/// True when `path` is an HDF5 file with `format = "freqprop-run"`.
pub fn is_run_file(path: &Path) -> bool {
    if !is_hdf5(path) {
        return false;
    }
    hdf5::silence_errors(true);
    File::open(path)
        .ok()
        .and_then(|f| format_of(&f))
        .is_some_and(|s| s == FORMAT)
}

/// True when `path` starts with the HDF5 signature.
pub fn is_hdf5(path: &Path) -> bool {
    use std::io::Read;
    let mut b = [0u8; 8];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut b))
        .is_ok()
        && b == *b"\x89HDF\r\n\x1a\n"
}

/// Read a run file.
pub fn read_run(path: &Path) -> Result<RunData, LearnError> {
    hdf5::silence_errors(true);
    let f = File::open(path).map_err(|e| h5e(path, "/", format!("cannot open: {e}")))?;
    match format_of(&f) {
        Some(s) if s == FORMAT => {}
        other => {
            return Err(h5e(
                path,
                "/@format",
                format!("not a freqprop run file (format {other:?})"),
            ))
        }
    }
    let version: u32 = get_attr(&f, path, "version")?;
    if version != VERSION {
        return Err(h5e(
            path,
            "/@version",
            format!("unsupported version {version}"),
        ));
    }
    let config_toml = get_text(&f, path, "config")?;
    let names = get_strings(&f, path, "names")?;
    let (shape, flat) = get_f64(&f, path, "conductances")?;
    let n = names.len();
    if shape.len() != 2 || shape[1] != n {
        return Err(h5e(
            path,
            "conductances",
            format!("shape {shape:?}, expected [epochs+1, {n}]"),
        ));
    }
    let conductances = if n == 0 {
        vec![Vec::new(); shape[0]]
    } else {
        flat.chunks(n).map(<[f64]>::to_vec).collect()
    };
    let h = f
        .group("history")
        .map_err(|_| h5e(path, "history", "missing group"))?;
    let col = |name: &str| get_f64(&h, path, name).map(|x| x.1);
    let (ep, trl, tel, tra, tea, sec) = (
        col("epoch")?,
        col("train_loss")?,
        col("test_loss")?,
        col("train_accuracy")?,
        col("test_accuracy")?,
        col("seconds")?,
    );
    let m = ep.len();
    if [&trl, &tel, &tra, &tea, &sec].iter().any(|c| c.len() != m) {
        return Err(h5e(path, "history", "columns of different lengths"));
    }
    let ck_text = get_text(&f, path, "checkpoint")?;
    let checkpoint: Checkpoint =
        serde_json::from_str(&ck_text).map_err(|e| h5e(path, "checkpoint", e))?;
    if checkpoint.format != FORMAT || checkpoint.version != VERSION {
        return Err(h5e(path, "checkpoint", "not a freqprop checkpoint"));
    }
    // files written before the failure policy have no `skipped` column
    let skipped_n = match h.dataset("skipped") {
        Ok(_) => col("skipped")?,
        Err(_) => vec![0.0; m],
    };
    if skipped_n.len() != m {
        return Err(h5e(path, "history/skipped", "columns of different lengths"));
    }
    let opt = |v: f64| (!v.is_nan()).then_some(v);
    let mut history = Vec::with_capacity(m);
    for i in 0..m {
        // the skipped examples themselves are in the checkpoint's history
        let skipped = checkpoint
            .history
            .iter()
            .find(|s| s.epoch == ep[i] as usize)
            .map(|s| s.skipped.clone())
            .unwrap_or_default();
        if skipped.len() != skipped_n[i] as usize {
            return Err(h5e(
                path,
                "history/skipped",
                format!(
                    "epoch {}: {} skipped, the checkpoint lists {}",
                    ep[i],
                    skipped_n[i],
                    skipped.len()
                ),
            ));
        }
        history.push(EpochStats {
            epoch: ep[i] as usize,
            train_loss: trl[i],
            test_loss: tel[i],
            train_accuracy: opt(tra[i]),
            test_accuracy: opt(tea[i]),
            seconds: sec[i],
            skipped,
        });
    }
    // files written before the status attribute are treated as running
    let status = str_attr(&f, "status").unwrap_or_else(|| STATUS_RUNNING.to_string());
    let mut samples = Vec::new();
    if let Ok(sg) = f.group("samples") {
        let mut keys: Vec<usize> = sg
            .member_names()
            .map_err(|e| h5e(path, "samples", e))?
            .iter()
            .filter_map(|s| s.parse().ok())
            .collect();
        keys.sort_unstable();
        for k in keys {
            let g = sg
                .group(&k.to_string())
                .map_err(|e| h5e(path, "samples", e))?;
            let index: u64 = get_attr(&g, path, "index")?;
            let v = |name: &str| get_f64(&g, path, name).map(|x| x.1);
            samples.push(SampleRecord {
                index: index as usize,
                beta: get_attr(&g, path, "beta")?,
                freq: get_attr(&g, path, "freq")?,
                time: v("time")?,
                nodes: get_strings(&g, path, "nodes")?,
                voltages: v("voltages")?,
                drops: v("drops")?,
                activation: v("activation")?,
                error: v("error")?,
                frequencies: v("frequencies")?,
                spectra: v("spectra")?,
            });
        }
    }
    Ok(RunData {
        config_toml,
        names,
        conductances,
        history,
        checkpoint,
        samples,
        status,
    })
}

/// Read the checkpoint of a run file: HDF5 (`/checkpoint`) or the JSON checkpoint.
pub fn load_any_checkpoint(path: &Path) -> Result<Checkpoint, LearnError> {
    if is_hdf5(path) {
        Ok(read_run(path)?.checkpoint)
    } else {
        crate::train::load_checkpoint(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::{parse_config, Trainer};

    fn xor(epochs: usize) -> crate::train::Config {
        let text = include_str!("../../../examples/xor.toml");
        let mut c = parse_config(text, "xor.toml").unwrap();
        c.train.epochs = epochs;
        c
    }

    fn train_to(t: &mut Trainer, rows: &mut Vec<Vec<f64>>, epochs: usize) {
        while t.epoch < epochs {
            t.train_epoch(&mut |_, _, _| {}).unwrap();
            rows.push(t.g.clone());
        }
    }

    #[test]
    fn round_trip_and_resume_bit_identical() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.h5");
        let base = Path::new(".");
        let mut t = Trainer::new(xor(2), base).unwrap();
        let mut rows = vec![t.g.clone()];
        train_to(&mut t, &mut rows, 2);
        let data = RunData::from_trainer(&t, rows.clone(), &[0, 1, 99]).unwrap();
        assert_eq!(
            data.samples.len(),
            2,
            "index 99 is out of range and skipped"
        );
        write_run(&path, &data).unwrap();
        assert!(is_run_file(&path) && is_hdf5(&path));
        let back = read_run(&path).unwrap();
        assert_eq!(back, data, "everything round-trips exactly");
        let s = &back.samples[0];
        let n = back.names.len();
        assert_eq!(s.voltages.len(), s.time.len() * s.nodes.len());
        assert_eq!(s.drops.len(), s.time.len() * n);
        assert_eq!(s.spectra.len(), s.frequencies.len() * n);
        // the readout coefficients equal the transient engine's gradient estimate A·E/β
        let mut eng = TransientEngine::new(&t.network, &t.config.transient).unwrap();
        eng.set_conductances(&t.g).unwrap();
        let fp = eng
            .gradient(&t.split.train.x[0], &t.split.train.y[0], &t.config.loss)
            .unwrap();
        for j in 0..n {
            let est = s.activation[j] * s.error[j] / s.beta;
            assert!(
                (est - fp.grad[j]).abs() <= 1e-9 * fp.grad[j].abs().max(1e-12),
                "{j}: {est} vs {}",
                fp.grad[j]
            );
        }
        // A_j is the mean of the drop
        let d = s.drop_wave(3);
        let mean = d.iter().sum::<f64>() / d.len() as f64;
        assert!((mean - s.activation[3]).abs() < 1e-12 * mean.abs().max(1e-9));

        // resume from the file's checkpoint to 4 epochs == an uninterrupted 4-epoch run
        let mut r = Trainer::resume(xor(4), base, &load_any_checkpoint(&path).unwrap()).unwrap();
        let mut rows_r = back.conductances.clone();
        train_to(&mut r, &mut rows_r, 4);
        let mut u = Trainer::new(xor(4), base).unwrap();
        let mut rows_u = vec![u.g.clone()];
        train_to(&mut u, &mut rows_u, 4);
        assert_eq!(rows_r.len(), 5);
        for (a, b) in rows_r.iter().zip(&rows_u) {
            let ab: Vec<u64> = a.iter().map(|x| x.to_bits()).collect();
            let bb: Vec<u64> = b.iter().map(|x| x.to_bits()).collect();
            assert_eq!(ab, bb);
        }
        assert_ne!(rows_u[0], rows_u[4], "training changed the conductances");
    }

    #[test]
    fn rejects_other_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.h5");
        std::fs::write(&p, "not hdf5").unwrap();
        assert!(!is_run_file(&p));
        let e = read_run(&p).unwrap_err().to_string();
        assert!(e.contains("x.h5"), "{e}");
        let f = File::create(&p).unwrap();
        put_attr(
            &f,
            &p,
            "format",
            vlu(&p, "f", "freqprop-waveforms").unwrap(),
        )
        .unwrap();
        drop(f);
        assert!(!is_run_file(&p));
        let e = read_run(&p).unwrap_err().to_string();
        assert!(e.contains("not a freqprop run file"), "{e}");
    }
}

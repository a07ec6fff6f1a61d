//! Memory limits: an estimate of a run's peak memory, the memory available to this process,
//! and the check that refuses a run up front (exit 2) when the first exceeds the second.
//!
//! The estimate adds up what a run holds at its peak: the program itself (code, the HDF5
//! library, allocator arenas), the netlist and the flat circuit, the simulator (the sparse
//! pattern with its slot map, the matrix values, the static-pivot LU factors and their index
//! structure, work vectors, integration states) and the output buffers. Waveforms are
//! streamed to HDF5 and binary rawfiles and not held, except where they are: an ASCII rawfile
//! is gathered in memory and written at the end, `train` keeps one readout window per node
//! per worker and the recorded samples, and `compare` reads both traces whole.
//!
//! The per-entry sizes below follow the data structures of `transient` (`matrix::Pattern`,
//! `matrix::Solver`, `lu::StaticLu`); `tests/resources_cli.rs` measures the estimate against
//! the peak resident set of real runs (getrusage of the child process) and checks the ratio
//! stays within [`ESTIMATE_FACTOR`].
//!
//! The memory available is the smallest of: `MemAvailable` in `/proc/meminfo`, the cgroup
//! (v2 `memory.max − memory.current`, v1 `memory.limit_in_bytes − memory.usage_in_bytes`,
//! over the process's cgroup and its ancestors), and the Slurm allocation
//! (`SLURM_MEM_PER_NODE`, or `SLURM_MEM_PER_CPU` × `SLURM_CPUS_ON_NODE`, in MiB) when set.

use crate::CliError;
use std::fmt;
use std::path::{Path, PathBuf};

/// The estimate is meant to lie within this factor of the measured peak resident set, either
/// way (checked by `tests/resources_cli.rs`).
pub const ESTIMATE_FACTOR: f64 = 1.5;

/// Resident memory of the program before any work: code, the HDF5 library, the allocator
/// (measured: the peak resident set of the dev-profile `freqprop simulate` on a 3-element
/// deck, 11.7 MiB with HDF5 linked from its static archive, crates/store/build.rs; 18.8 MiB
/// with the shared libhdf5 and the libraries it loads).
pub const BASELINE_BYTES: u64 = 12 << 20;

/// Options of every command whose memory is checked.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct MemoryArgs {
    /// Refuse the run when its estimated peak memory exceeds SIZE (e.g. 4G, 512M, 1.5GiB;
    /// K, M, G, T are powers of 1024) instead of the memory available (MemAvailable, the
    /// cgroup limit, the Slurm allocation).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_memory: Option<u64>,
    /// Do not estimate the run's memory against what is available.
    #[arg(long, conflicts_with = "max_memory")]
    pub no_memory_check: bool,
}

/// Parse a size such as `4G`, `512M`, `1.5GiB` or `1000000` (bytes); units are binary.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let cfg = parse_size::Config::new().with_binary();
    match cfg.parse_size(s.trim()) {
        Ok(0) => Err(format!("memory size must be positive, got `{s}`")),
        Ok(v) => Ok(v),
        Err(e) => Err(format!(
            "expected a memory size such as 4G or 512M, got `{s}` ({e})"
        )),
    }
}

/// Bytes in binary units with one decimal (`1.5 GiB`).
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut k = 0;
    while v >= 1024.0 && k + 1 < UNITS.len() {
        v /= 1024.0;
        k += 1;
    }
    if k == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[k])
    }
}

/// An estimate of a run's peak memory, by part.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Estimate {
    /// (what, bytes), in the order added.
    pub parts: Vec<(String, u64)>,
}

impl Estimate {
    /// A new estimate holding the program's baseline.
    pub fn new() -> Self {
        let mut e = Estimate::default();
        e.add("program and libraries", BASELINE_BYTES);
        e
    }

    /// Add a part (saturating).
    pub fn add(&mut self, what: &str, bytes: u64) {
        self.parts.push((what.to_string(), bytes));
    }

    /// The total.
    pub fn total(&self) -> u64 {
        self.parts
            .iter()
            .fold(0u64, |s, (_, b)| s.saturating_add(*b))
    }

    /// The parts as a JSON object (bytes), with `total`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        for (k, v) in &self.parts {
            m.insert(k.clone(), serde_json::json!(v));
        }
        m.insert("total".into(), serde_json::json!(self.total()));
        serde_json::Value::Object(m)
    }
}

impl fmt::Display for Estimate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<&(String, u64)> = self.parts.iter().filter(|p| p.1 > 0).collect();
        parts.sort_by_key(|p| std::cmp::Reverse(p.1));
        let list: Vec<String> = parts
            .iter()
            .take(4)
            .map(|(k, v)| format!("{k} {}", human(*v)))
            .collect();
        write!(f, "{} ({})", human(self.total()), list.join(", "))
    }
}

fn mul(a: usize, b: usize) -> u64 {
    (a as u64).saturating_mul(b as u64)
}

/// The sizes of a prepared simulator that the estimate needs.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SimSize {
    /// Unknowns.
    pub unknowns: usize,
    /// Stored matrix entries.
    pub matrix_nnz: usize,
    /// Stored entries of the LU factors.
    pub factor_nnz: usize,
    /// Circuit elements.
    pub elements: usize,
    /// Output signals.
    pub signals: usize,
}

impl SimSize {
    /// The sizes of `sim`, prepared for `c`.
    pub fn of(sim: &transient::Simulator, c: &circuit::Circuit) -> SimSize {
        SimSize {
            unknowns: sim.unknowns(),
            matrix_nnz: sim.matrix_nnz(),
            factor_nnz: sim.factor_nnz(),
            elements: c.elements.len(),
            signals: sim.output_signals().len(),
        }
    }
}

/// Add the parts of one simulator (circuit model, pattern, values, factors, work vectors).
fn add_simulator(e: &mut Estimate, s: &SimSize, label: &str) {
    let n = s.unknowns + 1;
    let nnz = s.matrix_nnz + 1;
    // Flat circuit and device groups: an Element is ~120 bytes plus its name; devices keep
    // their parameters, slots and names again.
    e.add(&format!("{label}circuit and devices"), mul(s.elements, 400));
    // Pattern (row index 8 B, slot map ~48 B per entry with the hash table's spare room)
    // held twice (the simulator's and the solver's copy).
    e.add(&format!("{label}sparse pattern"), mul(nnz, 2 * (8 + 48)));
    // Values: the static part, the working copy, the solver's copy for refinement; the LU's
    // map from matrix slots to factor positions (4 index arrays over A's entries).
    e.add(&format!("{label}matrix values"), mul(nnz, 3 * 8 + 2 * 16));
    // Static-pivot LU: per off-diagonal entry of L (two entries of L+U), the values of L and
    // U by columns and by rows (4 × 8 B) and the index structure (li 4, row_pos 8, row_col
    // 4 B): 48 bytes, 24 per entry of L+U.
    e.add(&format!("{label}LU factors"), mul(s.factor_nnz, 24));
    // Work vectors: right-hand side, solution, predictor and history (five past solutions),
    // LU work arrays, integration states (newest four of each), node-indexed arrays.
    e.add(&format!("{label}work vectors"), mul(n, 42 * 8));
}

/// Points a transient run writes, before decimation: exact for the TSTEP grids; for every
/// accepted step, the TSTEP grid's count too (at least 64), which is what a smooth run
/// accepts to within a small factor (breakpoints and fast edges add more).
pub fn grid_points(tran: &circuit::Tran, from: Option<f64>, grid: bool) -> u64 {
    let start = from.map_or(tran.tstart, |f| f.max(tran.tstart));
    let span = (tran.tstop - start).max(0.0);
    let n = if tran.tstep > 0.0 && tran.tstep.is_finite() {
        ((span / tran.tstep).floor() as u64).saturating_add(2)
    } else {
        2
    };
    if grid {
        n
    } else {
        n.max(64)
    }
}

/// What `freqprop simulate` will hold.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SimulatePlan {
    /// Netlist text bytes (read by the parser and again for the HDF5 record).
    pub netlist_bytes: u64,
    /// Signals written (after `--save`).
    pub signals_written: usize,
    /// Points expected in the files (after decimation): see [`grid_points`].
    pub points: u64,
    /// An ASCII rawfile is written (gathered in memory, written at the end).
    pub ascii_raw: bool,
}

/// Estimate of `freqprop simulate`.
pub fn simulate_estimate(s: &SimSize, plan: &SimulatePlan) -> Estimate {
    let mut e = Estimate::new();
    e.add("netlist text", plan.netlist_bytes.saturating_mul(3));
    add_simulator(&mut e, s, "");
    // The HDF5 writer buffers up to STREAM_CHUNK_POINTS rows (pages are touched as rows
    // arrive); HDF5 keeps a chunk index and cache entry per signal column (measured:
    // ~6 KiB per column); the binary rawfile writer a BufWriter.
    let m = plan.signals_written + 1;
    let rows = plan.points.min(crate::simulate::STREAM_CHUNK_POINTS as u64);
    e.add(
        "output buffers",
        rows.saturating_mul(m as u64 * 8)
            .saturating_add(mul(m, 6 << 10))
            .saturating_add(64 << 10),
    );
    // points on their way to the writer thread (circuit::background): the batch being filled
    // and those queued, about 1 MiB each, never more than the run's points
    e.add(
        "points queued for the writer thread",
        plan.points
            .saturating_mul(m as u64 * 8)
            .min(circuit::background::MAX_QUEUED_BYTES as u64),
    );
    // ASCII rawfile: the Waveforms gathered, converted to a RawPlot, formatted.
    if plan.ascii_raw {
        e.add(
            "ASCII rawfile held in memory",
            plan.points.saturating_mul(m as u64 * 8 * 3),
        );
    }
    e
}

/// What `freqprop train` will hold.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TrainPlan {
    /// The network's simulator.
    pub sim: SimSize,
    /// Circuit nodes (ground included).
    pub nodes: usize,
    /// Trainable resistors.
    pub trainable: usize,
    /// Engines, each with its own simulator: one per rayon worker and one for the thread that
    /// leads each epoch (`Trainer::new`).
    pub workers: usize,
    /// Transient engine: points of the readout window (0 for the adjoint engine).
    pub window_points: usize,
    /// Samples (train and test) and values per sample (features and targets).
    pub samples: usize,
    /// Values per sample.
    pub values_per_sample: usize,
    /// Epochs (conductance rows and history kept for the run file).
    pub epochs: usize,
    /// Samples whose waveforms go into the run file.
    pub recorded: usize,
}

/// Estimate of `freqprop train`.
pub fn train_estimate(p: &TrainPlan) -> Estimate {
    let mut e = Estimate::new();
    // the trainer's engines, and one more while the run file's samples are recorded
    let engines = p.workers.max(1) + usize::from(p.recorded > 0 && p.window_points > 0);
    for _ in 0..engines {
        add_simulator(&mut e, &p.sim, "");
    }
    merge_same(&mut e);
    // the transient engine keeps the readout window of every node, plus readout scratch
    e.add(
        "readout windows",
        mul(engines, mul(p.window_points + 1, p.nodes + 8) as usize * 8),
    );
    // dataset as read, then split (copies), standardized
    e.add(
        "dataset",
        mul(p.samples, (p.values_per_sample * 8 + 48) * 3),
    );
    // conductance rows (kept and cloned for every run-file write) and history
    e.add(
        "conductances per epoch",
        mul(p.epochs + 1, p.trainable * 8 * 2 + 256),
    );
    // recorded samples: node voltages, and the drop across every trainable resistor, both
    // column-wise and row-major (measured on a 24×24 mesh: within 10% of this)
    let per_sample = mul(p.window_points + 1, (p.nodes + 2 * p.trainable) * 8);
    e.add(
        "recorded waveforms",
        per_sample.saturating_mul(p.recorded as u64),
    );
    e
}

/// Fold parts with the same name (several simulators) into one.
fn merge_same(e: &mut Estimate) {
    let mut out: Vec<(String, u64)> = Vec::new();
    for (k, v) in e.parts.drain(..) {
        match out.iter_mut().find(|p| p.0 == k) {
            Some(p) => p.1 = p.1.saturating_add(v),
            None => out.push((k, v)),
        }
    }
    e.parts = out;
}

/// Size of one trace as `compare` reads it: (points, values per point, file bytes).
fn trace_size(path: &Path) -> Result<(u64, u64, u64), String> {
    let bytes = std::fs::metadata(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .len();
    let kind = store::detect_kind(path).map_err(|e| e.to_string())?;
    match kind {
        store::TraceKind::Hdf5 => {
            let r = store::h5::H5Reader::open(path).map_err(|e| e.to_string())?;
            let m = r.signals().map_err(|e| e.to_string())?.len() as u64;
            let points = r.time().map_err(|e| e.to_string())?.len() as u64;
            Ok((points, m + 1, bytes))
        }
        store::TraceKind::Raw => {
            // the header: "No. Variables:" and "No. Points:" (complex data: two per value)
            use std::io::Read;
            let mut head = Vec::new();
            std::fs::File::open(path)
                .and_then(|f| f.take(1 << 16).read_to_end(&mut head))
                .map_err(|e| format!("{}: {e}", path.display()))?;
            let text = String::from_utf8_lossy(&head);
            let field = |name: &str| -> Option<u64> {
                text.lines()
                    .find_map(|l| l.trim().strip_prefix(name))
                    .and_then(|v| v.trim().parse().ok())
            };
            let complex = text
                .lines()
                .any(|l| l.trim().starts_with("Flags:") && l.contains("complex"));
            match (field("No. Variables:"), field("No. Points:")) {
                (Some(v), Some(p)) => Ok((p, v * if complex { 2 } else { 1 }, bytes)),
                // not a header this reads: bound it by the file size
                _ => Ok((bytes / 8, 1, bytes)),
            }
        }
        // a CSV number takes at least 2 characters: at most bytes/2 values
        store::TraceKind::Csv => Ok((bytes / 2 / 8 + 1, 8, bytes)),
    }
}

fn kind_is_csv(p: &Path) -> bool {
    matches!(store::detect_kind(p), Ok(store::TraceKind::Csv))
}

/// Estimate of `freqprop compare`: both traces whole in memory (the values read and the
/// column-wise waveforms; a CSV's text too), and the union time grid of one signal.
pub fn compare_estimate(reference: &Path, candidate: &Path) -> Result<Estimate, String> {
    let mut e = Estimate::new();
    let mut grid = 0u64;
    for (label, p) in [
        ("reference trace", reference),
        ("candidate trace", candidate),
    ] {
        let (points, vals, bytes) = trace_size(p)?;
        let data = points.saturating_mul(vals).saturating_mul(8);
        // measured on the mesh30 corpus deck (HDF5 and binary rawfile alike): ~1.5× the
        // values (the values as read, then the column-wise waveforms, the first partly freed)
        let held = if kind_is_csv(p) {
            data.saturating_add(bytes)
        } else {
            data.saturating_mul(3) / 2
        };
        e.add(label, held);
        grid = grid.saturating_add(points);
    }
    e.add("union time grid", grid.saturating_mul(3 * 8 * 2));
    Ok(e)
}

/// Where the available memory figure comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct Available {
    /// Bytes.
    pub bytes: u64,
    /// Its source, e.g. `MemAvailable in /proc/meminfo`.
    pub source: String,
}

fn read_u64(path: &Path) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// MemAvailable from a meminfo text, bytes.
pub fn parse_meminfo(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line
        .trim_start_matches("MemAvailable:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb.saturating_mul(1024))
}

/// The cgroup limits of this process (limit − usage), smallest over its cgroup and its
/// ancestors, from `/proc/self/cgroup` and the hierarchy mounted at `root`.
fn cgroup_available(root: &Path, proc_cgroup: &str) -> Option<Available> {
    let mut best: Option<Available> = None;
    let mut consider = |dir: PathBuf, limit_file: &str, usage_file: &str, what: &str| {
        let Some(limit) = read_u64(&dir.join(limit_file)) else {
            return;
        };
        // v1 reports "no limit" as a huge page-aligned number
        if limit >= (1u64 << 60) {
            return;
        }
        let usage = read_u64(&dir.join(usage_file)).unwrap_or(0);
        let free = limit.saturating_sub(usage);
        if best.as_ref().is_none_or(|b| free < b.bytes) {
            best = Some(Available {
                bytes: free,
                source: format!(
                    "{what} {} ({} limit, {} in use)",
                    dir.join(limit_file).display(),
                    human(limit),
                    human(usage)
                ),
            });
        }
    };
    for line in proc_cgroup.lines() {
        let mut f = line.splitn(3, ':');
        let (_, controllers, path) = (f.next(), f.next().unwrap_or(""), f.next().unwrap_or(""));
        let rel = path.trim_start_matches('/');
        let (bases, limit, usage, what): (Vec<PathBuf>, _, _, _) = if controllers.is_empty() {
            (
                vec![root.to_path_buf(), root.join("unified")],
                "memory.max",
                "memory.current",
                "cgroup v2",
            )
        } else if controllers.split(',').any(|c| c == "memory") {
            (
                vec![root.join("memory")],
                "memory.limit_in_bytes",
                "memory.usage_in_bytes",
                "cgroup v1",
            )
        } else {
            continue;
        };
        for base in bases {
            // the process's cgroup and each ancestor (inside a cgroup namespace the path may
            // not exist below the mount: then only the mount root counts)
            let mut p = PathBuf::from(rel);
            loop {
                consider(base.join(&p), limit, usage, what);
                if !p.pop() {
                    break;
                }
            }
        }
    }
    best
}

/// The Slurm allocation from the environment, bytes.
pub fn slurm_available(var: impl Fn(&str) -> Option<String>) -> Option<Available> {
    let mib = |s: String| s.trim().trim_end_matches(['M', 'm']).parse::<u64>().ok();
    if let Some(v) = var("SLURM_MEM_PER_NODE").and_then(mib) {
        if v > 0 {
            return Some(Available {
                bytes: v << 20,
                source: format!("the Slurm allocation (SLURM_MEM_PER_NODE={v} MiB)"),
            });
        }
    }
    if let Some(v) = var("SLURM_MEM_PER_CPU").and_then(mib) {
        let cpus = var("SLURM_CPUS_ON_NODE")
            .or_else(|| var("SLURM_CPUS_PER_TASK"))
            .and_then(|s| s.trim().parse::<u64>().ok())
            .unwrap_or(1)
            .max(1);
        if v > 0 {
            return Some(Available {
                bytes: (v << 20).saturating_mul(cpus),
                source: format!("the Slurm allocation (SLURM_MEM_PER_CPU={v} MiB × {cpus} CPUs)"),
            });
        }
    }
    None
}

/// The memory available to this process: the smallest of MemAvailable, the cgroup limit
/// and the Slurm allocation (None when none can be read).
pub fn available() -> Option<Available> {
    let mut all = Vec::new();
    if let Some(b) = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| parse_meminfo(&t))
    {
        all.push(Available {
            bytes: b,
            source: "MemAvailable in /proc/meminfo".into(),
        });
    }
    if let Ok(t) = std::fs::read_to_string("/proc/self/cgroup") {
        all.extend(cgroup_available(Path::new("/sys/fs/cgroup"), &t));
    }
    all.extend(slurm_available(|k| std::env::var(k).ok()));
    all.into_iter().min_by_key(|a| a.bytes)
}

/// Refuse (bad input, exit 2) when `estimate` exceeds the budget: `--max-memory` when given,
/// else the memory available; `--no-memory-check` skips the check.
pub fn check(what: &str, estimate: &Estimate, args: &MemoryArgs) -> Result<(), CliError> {
    if args.no_memory_check {
        return Ok(());
    }
    let budget = match args.max_memory {
        Some(b) => Available {
            bytes: b,
            source: "--max-memory".into(),
        },
        None => match available() {
            Some(a) => a,
            None => return Ok(()),
        },
    };
    if estimate.total() > budget.bytes {
        return Err(CliError::Input(format!(
            "{what}: estimated peak memory {estimate} exceeds the memory available, {} ({}); \
             make the problem smaller (or, for simulate, write fewer points: --decimate, \
             --max-points, --save, no --ascii), or pass --max-memory SIZE or --no-memory-check \
             to run anyway",
            human(budget.bytes),
            budget.source
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4G").unwrap(), 4 << 30);
        assert_eq!(parse_size("512M").unwrap(), 512 << 20);
        assert_eq!(parse_size("1.5GiB").unwrap(), 3 << 29);
        assert_eq!(parse_size("1000").unwrap(), 1000);
        assert!(parse_size("0").is_err());
        assert!(parse_size("lots").unwrap_err().contains("`lots`"));
        assert_eq!(human(1536), "1.5 KiB");
        assert_eq!(human(12), "12 B");
        assert_eq!(human(3 << 30), "3.0 GiB");
    }

    #[test]
    fn meminfo_and_slurm() {
        let t = "MemTotal:       24684084 kB\nMemFree:  1 kB\nMemAvailable:   22221880 kB\n";
        assert_eq!(parse_meminfo(t), Some(22221880 * 1024));
        assert_eq!(parse_meminfo("MemTotal: 1 kB\n"), None);
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|p| p.0 == k).map(|p| p.1.to_string())
        };
        let a = slurm_available(env(&[("SLURM_MEM_PER_NODE", "2048")])).unwrap();
        assert_eq!(a.bytes, 2 << 30);
        assert!(a.source.contains("SLURM_MEM_PER_NODE=2048"));
        let a = slurm_available(env(&[
            ("SLURM_MEM_PER_CPU", "1000"),
            ("SLURM_CPUS_ON_NODE", "4"),
        ]))
        .unwrap();
        assert_eq!(a.bytes, 4000 << 20);
        assert_eq!(slurm_available(env(&[])), None);
    }

    #[test]
    fn cgroup_limits_v1_and_v2() {
        let d = tempfile::tempdir().unwrap();
        let v2 = d.path().join("a/b");
        std::fs::create_dir_all(&v2).unwrap();
        std::fs::write(v2.join("memory.max"), "1073741824\n").unwrap();
        std::fs::write(v2.join("memory.current"), "73741824\n").unwrap();
        std::fs::write(d.path().join("a/memory.max"), "max\n").unwrap();
        let a = cgroup_available(d.path(), "0::/a/b\n").unwrap();
        assert_eq!(a.bytes, 1_000_000_000);
        assert!(a.source.contains("cgroup v2"), "{}", a.source);
        let v1 = d.path().join("memory/job");
        std::fs::create_dir_all(&v1).unwrap();
        std::fs::write(v1.join("memory.limit_in_bytes"), "500000000\n").unwrap();
        std::fs::write(v1.join("memory.usage_in_bytes"), "100000000\n").unwrap();
        std::fs::write(
            d.path().join("memory/memory.limit_in_bytes"),
            "9223372036854771712\n",
        )
        .unwrap();
        let a = cgroup_available(d.path(), "4:memory:/job\n1:cpu:/\n").unwrap();
        assert_eq!(a.bytes, 400_000_000);
        // no limit anywhere
        assert_eq!(cgroup_available(d.path(), "4:memory:/\n"), None);
    }

    #[test]
    fn refusal_names_estimate_and_budget() {
        let mut e = Estimate::new();
        e.add("LU factors", 3 << 30);
        let args = MemoryArgs {
            max_memory: Some(1 << 30),
            no_memory_check: false,
        };
        let err = check("big.cir", &e, &args).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        let m = err.to_string();
        assert!(m.contains("3.0 GiB (LU factors 3.0 GiB"), "{m}");
        assert!(m.contains("1.0 GiB (--max-memory)"), "{m}");
        let skip = MemoryArgs {
            max_memory: None,
            no_memory_check: true,
        };
        assert!(check("big.cir", &e, &skip).is_ok());
    }
}

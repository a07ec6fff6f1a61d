//! The fuzzing loop: seeds from the corpus, mutants from the [`Mutator`], every input run
//! under `catch_unwind`, a watchdog for inputs that take too long, and artifacts for
//! failures.
//!
//! There is no coverage instrumentation on stable Rust, so the loop uses the targets' own
//! answers as feedback: a mutant whose outcome (the `Ok` shape, or the error message with its
//! numbers and quoted text removed) has not been seen before joins the pool of inputs to
//! mutate. Inputs that get further into a reader (new error messages, accepted inputs) are
//! thus kept and mutated further. Everything is deterministic in the seed.

use crate::mutate::Mutator;
use crate::{Outcome, Target};
use std::cell::RefCell;
use std::collections::HashSet;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

/// Settings of a run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Mutants to run (the corpus replay comes on top).
    pub runs: u64,
    /// Seed of the mutation stream.
    pub seed: u64,
    /// Longest mutant, bytes.
    pub max_len: usize,
    /// An input taking longer than this is a failure (a hang). `None`: no timing at all.
    pub timeout: Option<Duration>,
    /// Where to write failing inputs (`None`: do not write).
    pub artifacts: Option<PathBuf>,
    /// Most inputs kept in the pool (seeds included).
    pub pool_cap: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            runs: 1000,
            seed: 1,
            max_len: 16 * 1024,
            timeout: None,
            artifacts: None,
            pool_cap: 4096,
        }
    }
}

/// How an input failed.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// The target panicked (message and location).
    Panic(String),
    /// The target took longer than the timeout.
    Hang(Duration),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Panic(m) => write!(f, "panic: {m}"),
            Failure::Hang(d) => write!(f, "hang: the input took {:.3} s", d.as_secs_f64()),
        }
    }
}

/// A failing input.
#[derive(Debug, Clone)]
pub struct Crash {
    /// The input.
    pub input: Vec<u8>,
    /// What happened.
    pub failure: Failure,
    /// The artifact written, if any.
    pub artifact: Option<PathBuf>,
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Inputs run (corpus replay and mutants).
    pub inputs: u64,
    /// Inputs the target accepted (`Ok`).
    pub accepted: u64,
    /// Distinct outcomes seen.
    pub outcomes: usize,
    /// Inputs in the pool at the end.
    pub pool: usize,
    /// Wall time.
    pub elapsed: Duration,
    /// The slowest input's time.
    pub slowest: Duration,
}

impl Stats {
    /// Inputs per second.
    pub fn rate(&self) -> f64 {
        self.inputs as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

thread_local! {
    static CATCHING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Install (once) a panic hook that records panics raised under [`run_one`] instead of
/// printing them, and leaves other panics to the default hook.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if CATCHING.with(|c| c.get()) {
                let msg = if let Some(s) = info.payload().downcast_ref::<&str>() {
                    s.to_string()
                } else if let Some(s) = info.payload().downcast_ref::<String>() {
                    s.clone()
                } else {
                    "(non-string panic payload)".to_string()
                };
                let at = info
                    .location()
                    .map(|l| format!(" at {}:{}:{}", l.file(), l.line(), l.column()))
                    .unwrap_or_default();
                LAST_PANIC.with(|p| *p.borrow_mut() = Some(format!("{msg}{at}")));
            } else {
                default(info);
            }
        }));
    });
}

/// Run `target` on one input: `Ok(outcome)`, or `Err(panic message)`.
pub fn run_one(target: &Target, input: &[u8]) -> Result<Outcome, String> {
    install_panic_hook();
    CATCHING.with(|c| c.set(true));
    let r = panic::catch_unwind(AssertUnwindSafe(|| (target.run)(input)));
    CATCHING.with(|c| c.set(false));
    r.map_err(|_| {
        LAST_PANIC
            .with(|p| p.borrow_mut().take())
            .unwrap_or_else(|| "panic".into())
    })
}

/// The files of `dir` (sorted by name; none when it does not exist).
pub fn read_dir_inputs(dir: &Path) -> std::io::Result<Vec<(PathBuf, Vec<u8>)>> {
    let mut paths: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    paths.sort();
    paths
        .into_iter()
        .map(|p| std::fs::read(&p).map(|b| (p, b)))
        .collect()
}

/// FNV-1a, for artifact names and outcome keys.
pub fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The feedback key of an outcome: `Ok` shapes as they are; error messages without digits
/// and without the text they quote (so that the same check with other values counts once).
fn outcome_key(o: &Outcome) -> u64 {
    match o {
        Ok(shape) => fnv(format!("ok {shape}").as_bytes()),
        Err(msg) => {
            // The first and the last line (TOML errors put the reason last), each without
            // quoted text (from the first quote to the last quote of the same kind, since the
            // quoted input may hold quotes itself), without words that hold input (paths,
            // bytes other than letters and punctuation) and without digits.
            let norm = |line: &str| -> String {
                let mut rest = line;
                let mut out = String::with_capacity(120);
                while let Some(i) = rest.find(['`', '"', '\'']) {
                    out.push_str(&rest[..i]);
                    let q = rest[i..].chars().next().unwrap();
                    match rest[i + 1..].rfind(q) {
                        Some(j) => rest = &rest[i + 1 + j + 1..],
                        None => rest = "",
                    }
                }
                out.push_str(rest);
                out.split_whitespace()
                    .filter(|w| {
                        !w.contains('/')
                            && w.chars()
                                .all(|c| c.is_ascii_alphanumeric() || ":,.()[]=<>_-|^".contains(c))
                    })
                    .map(|w| {
                        w.chars()
                            .filter(|c| !c.is_ascii_digit())
                            .collect::<String>()
                    })
                    .take(16)
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            let mut lines = msg.lines().filter(|l| !l.trim().is_empty());
            let first = lines.next().unwrap_or("");
            let last = lines.next_back().unwrap_or("");
            let key = format!("{} | {}", norm(first), norm(last));
            fnv(key.as_bytes())
        }
    }
}

/// The input being run, for the watchdog and the fatal-signal handler.
struct Current {
    /// Start of the current input, nanoseconds since the run's epoch; 0 when idle.
    started: AtomicU64,
    input: Mutex<Vec<u8>>,
    epoch: Instant,
}

static CUR_PTR: AtomicPtr<u8> = AtomicPtr::new(std::ptr::null_mut());
static CUR_LEN: AtomicUsize = AtomicUsize::new(0);
static SIGNAL_PATH: Mutex<Option<std::ffi::CString>> = Mutex::new(None);
static SIGNAL_PATH_PTR: AtomicPtr<libc::c_char> = AtomicPtr::new(std::ptr::null_mut());
static HANDLER_INSTALLED: AtomicBool = AtomicBool::new(false);

extern "C" fn fatal_signal(sig: libc::c_int) {
    // Only async-signal-safe calls: open, write, _exit.
    unsafe {
        let msg = b"\nfreqprop-fuzz: fatal signal while running an input (stack overflow, abort or segfault); input saved to ";
        libc::write(2, msg.as_ptr().cast(), msg.len());
        let path = SIGNAL_PATH_PTR.load(Ordering::SeqCst);
        if !path.is_null() {
            libc::write(2, path.cast(), libc::strlen(path));
            let fd = libc::open(path, libc::O_CREAT | libc::O_WRONLY | libc::O_TRUNC, 0o644);
            if fd >= 0 {
                let p = CUR_PTR.load(Ordering::SeqCst);
                let n = CUR_LEN.load(Ordering::SeqCst);
                if !p.is_null() {
                    libc::write(fd, p.cast(), n);
                }
                libc::close(fd);
            }
        }
        let nl = b"\n";
        libc::write(2, nl.as_ptr().cast(), 1);
        libc::_exit(128 + sig);
    }
}

/// On SIGSEGV (stack overflow), SIGBUS, SIGABRT (failed allocation), SIGILL and SIGFPE, write
/// the input being run to `path` and exit. For the command-line fuzzer: tests keep the
/// default handlers.
pub fn install_fatal_signal_handler(path: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).expect("path without NUL");
    let mut slot = SIGNAL_PATH.lock().unwrap();
    let c = slot.insert(c);
    SIGNAL_PATH_PTR.store(c.as_ptr() as *mut _, Ordering::SeqCst);
    if HANDLER_INSTALLED.swap(true, Ordering::SeqCst) {
        return;
    }
    for sig in [
        libc::SIGSEGV,
        libc::SIGBUS,
        libc::SIGABRT,
        libc::SIGILL,
        libc::SIGFPE,
    ] {
        // SAFETY: a plain handler on the alternate signal stack that std sets up for the main
        // thread (so that a stack overflow can still run it).
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = fatal_signal as extern "C" fn(libc::c_int) as usize;
            sa.sa_flags = libc::SA_ONSTACK;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
}

fn write_artifact(dir: &Path, kind: &str, input: &[u8]) -> Option<PathBuf> {
    std::fs::create_dir_all(dir).ok()?;
    let path = dir.join(format!("{kind}-{:016x}", fnv(input)));
    std::fs::write(&path, input).ok()?;
    Some(path)
}

fn watchdog(cur: Arc<Current>, timeout: Duration, artifacts: Option<PathBuf>, name: &'static str) {
    let tick = (timeout / 4).clamp(Duration::from_millis(10), Duration::from_millis(250));
    std::thread::spawn(move || loop {
        std::thread::sleep(tick);
        let s = cur.started.load(Ordering::SeqCst);
        if s == 0 {
            continue;
        }
        let now = cur.epoch.elapsed().as_nanos() as u64;
        if now.saturating_sub(s) > timeout.as_nanos() as u64 {
            let input = cur.input.lock().unwrap().clone();
            let saved = artifacts
                .as_deref()
                .and_then(|d| write_artifact(d, "timeout", &input));
            eprintln!(
                "{name}: hang: an input has run for more than {:.3} s (still running); saved to {}",
                timeout.as_secs_f64(),
                saved.map_or("(not saved)".into(), |p| p.display().to_string())
            );
            std::process::exit(1);
        }
    });
}

/// Replay `seeds`, then run `opts.runs` mutants; stop at the first failure.
pub fn fuzz(target: &'static Target, seeds: &[Vec<u8>], opts: &Options) -> (Stats, Option<Crash>) {
    let t0 = Instant::now();
    let cur = Arc::new(Current {
        started: AtomicU64::new(0),
        input: Mutex::new(Vec::new()),
        epoch: t0,
    });
    if let Some(timeout) = opts.timeout {
        watchdog(cur.clone(), timeout, opts.artifacts.clone(), target.name);
    }
    let mut stats = Stats::default();
    let mut seen: HashSet<u64> = HashSet::new();
    let mut pool: Vec<Vec<u8>> = Vec::new();
    let mut mutator = Mutator::new(opts.seed, target.dict, opts.max_len);
    let exec = |input: &[u8], stats: &mut Stats| -> Result<Outcome, Crash> {
        {
            let mut slot = cur.input.lock().unwrap();
            slot.clear();
            slot.extend_from_slice(input);
            CUR_PTR.store(slot.as_mut_ptr(), Ordering::SeqCst);
            CUR_LEN.store(slot.len(), Ordering::SeqCst);
        }
        let start = Instant::now();
        if opts.timeout.is_some() {
            cur.started
                .store((start - t0).as_nanos().max(1) as u64, Ordering::SeqCst);
        }
        let r = run_one(target, input);
        let took = start.elapsed();
        cur.started.store(0, Ordering::SeqCst);
        stats.inputs += 1;
        stats.slowest = stats.slowest.max(took);
        let failure = match r {
            Err(msg) => Failure::Panic(msg),
            Ok(_) if opts.timeout.is_some_and(|t| took > t) => Failure::Hang(took),
            Ok(o) => {
                if o.is_ok() {
                    stats.accepted += 1;
                }
                return Ok(o);
            }
        };
        let kind = match failure {
            Failure::Panic(_) => "crash",
            Failure::Hang(_) => "timeout",
        };
        let artifact = opts
            .artifacts
            .as_deref()
            .and_then(|d| write_artifact(d, kind, input));
        Err(Crash {
            input: input.to_vec(),
            failure,
            artifact,
        })
    };
    let finish = |mut stats: Stats, seen: &HashSet<u64>, pool: &Vec<Vec<u8>>| {
        stats.outcomes = seen.len();
        stats.pool = pool.len();
        stats.elapsed = t0.elapsed();
        stats
    };
    for s in seeds {
        match exec(s, &mut stats) {
            Ok(o) => {
                seen.insert(outcome_key(&o));
            }
            Err(c) => return (finish(stats, &seen, &pool), Some(c)),
        }
        pool.push(s.clone());
    }
    if pool.is_empty() {
        pool.push(Vec::new());
    }
    let n_seeds = pool.len();
    for _ in 0..opts.runs {
        let a = mutator.below(pool.len());
        let b = mutator.below(pool.len());
        let input = mutator.mutate(&pool[a], &pool[b]);
        match exec(&input, &mut stats) {
            Ok(o) => {
                if seen.insert(outcome_key(&o)) {
                    if std::env::var_os("FREQPROP_FUZZ_SHOW_NEW").is_some() {
                        eprintln!("new outcome: {o:?}");
                    }
                    if pool.len() < opts.pool_cap {
                        pool.push(input);
                    } else if pool.len() > n_seeds {
                        // Keep the seeds; replace a found input.
                        let k = n_seeds + mutator.below(pool.len() - n_seeds);
                        pool[k] = input;
                    }
                }
            }
            Err(c) => return (finish(stats, &seen, &pool), Some(c)),
        }
    }
    (finish(stats, &seen, &pool), None)
}

/// The corpus of `target`: `fuzz/corpus/<name>/` and `fuzz/regressions/<name>/` under `root`.
pub fn corpus(root: &Path, target: &Target) -> std::io::Result<Vec<(PathBuf, Vec<u8>)>> {
    let mut v = read_dir_inputs(&root.join("corpus").join(target.name))?;
    v.extend(read_dir_inputs(
        &root.join("regressions").join(target.name),
    )?);
    Ok(v)
}

//! Memory limits: `--max-memory` refuses a run up front (exit 2, nothing written), and the
//! estimate that `simulate --json` reports lies within `cli::resources::ESTIMATE_FACTOR` of the
//! peak resident set measured for the child process (getrusage via wait4), on corpus decks
//! and on a large generated resistor mesh.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const FACTOR: f64 = cli::resources::ESTIMATE_FACTOR;

struct Measured {
    code: i32,
    stdout: String,
    stderr: String,
    /// Peak resident set of the child, bytes.
    max_rss: u64,
}

/// Run freqprop and measure its own peak resident set (wait4 reports the child's rusage).
fn measured(args: &[&std::ffi::OsStr]) -> Measured {
    let mut child = Command::new(env!("CARGO_BIN_EXE_freqprop"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn freqprop");
    let mut out = String::new();
    let mut err = String::new();
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let t = std::thread::spawn(move || {
        let mut e = String::new();
        se.read_to_string(&mut e).unwrap();
        e
    });
    so.read_to_string(&mut out).unwrap();
    err.push_str(&t.join().unwrap());
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child, whose pid std has not reaped (no wait() was called).
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
    assert_eq!(r, pid, "wait4: {}", std::io::Error::last_os_error());
    assert!(libc::WIFEXITED(status), "freqprop killed: status {status}");
    std::mem::forget(child);
    assert!(!err.contains("panicked"), "{err}");
    Measured {
        code: libc::WEXITSTATUS(status),
        stdout: out,
        stderr: err,
        // Linux reports ru_maxrss in KiB
        max_rss: ru.ru_maxrss as u64 * 1024,
    }
}

fn os(s: &str) -> &std::ffi::OsStr {
    s.as_ref()
}

fn simulate_measured(net: &Path, dir: &Path, extra: &[&str]) -> (Measured, u64) {
    let h5 = dir.join("out.h5");
    let mut args = vec![
        os("simulate"),
        net.as_os_str(),
        os("-o"),
        h5.as_os_str(),
        os("--json"),
    ];
    args.extend(extra.iter().map(|s| os(s)));
    let m = measured(&args);
    assert_eq!(m.code, 0, "{}: {}", net.display(), m.stderr);
    let js: serde_json::Value = serde_json::from_str(&m.stdout).unwrap();
    let est = js["memory_estimate"]["total"]
        .as_u64()
        .expect("memory_estimate.total");
    (m, est)
}

fn within_factor(what: &str, estimate: u64, measured: u64) {
    let ratio = measured as f64 / estimate as f64;
    eprintln!(
        "{what}: estimate {} MiB, measured peak RSS {} MiB, measured/estimate {ratio:.2}",
        estimate >> 20,
        measured >> 20
    );
    assert!(
        (1.0 / FACTOR..=FACTOR).contains(&ratio),
        "{what}: estimate {estimate} B, measured {measured} B (ratio {ratio:.2}, allowed 1/{FACTOR}..{FACTOR})"
    );
}

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/ngspice")
        .join(name)
}

/// A rows × cols mesh of 1 kΩ resistors driven at one corner, with a capacitor at every
/// node, and an operating point (a transient of the large mesh takes minutes in a test
/// build; the corpus decks above cover the transient's buffers).
fn mesh(rows: usize, cols: usize) -> String {
    let mut s = String::from("generated mesh\nV1 n0_0 0 DC 1\n");
    for r in 0..rows {
        for c in 0..cols {
            if c + 1 < cols {
                s.push_str(&format!("Rh{r}_{c} n{r}_{c} n{r}_{} 1k\n", c + 1));
            }
            if r + 1 < rows {
                s.push_str(&format!("Rv{r}_{c} n{r}_{c} n{}_{c} 1k\n", r + 1));
            }
            s.push_str(&format!("C{r}_{c} n{r}_{c} 0 1n\n"));
        }
    }
    s.push_str(&format!("Rl n{}_{} 0 1k\n.op\n.end\n", rows - 1, cols - 1));
    s
}

#[test]
fn estimate_is_within_the_stated_factor_of_the_measured_peak() {
    let d = tempfile::tempdir().unwrap();
    for deck in ["rc_ladder_pulse.cir", "mesh30.cir", "graetz_bridge.cir"] {
        let (m, est) = simulate_measured(&corpus(deck), d.path(), &[]);
        within_factor(deck, est, m.max_rss);
    }
    // large enough that the matrix and its factors dominate the program's baseline
    let net = d.path().join("mesh.cir");
    std::fs::write(&net, mesh(180, 180)).unwrap();
    // (--save: the HDF5 writer cannot store 32k signal names, see docs/troubleshooting.md)
    let save = ["--save", "n0_0,n90_90,n179_179"];
    let (m, est) = simulate_measured(&net, d.path(), &save);
    assert!(est > 5 * cli::resources::BASELINE_BYTES, "estimate {est}");
    within_factor("mesh 180x180", est, m.max_rss);
    // an ASCII rawfile is held in memory
    let raw = d.path().join("out.raw");
    let (m2, est2) = simulate_measured(
        &corpus("mesh30.cir"),
        d.path(),
        &["--raw", raw.to_str().unwrap(), "--ascii"],
    );
    within_factor("mesh30, ASCII rawfile", est2, m2.max_rss);
    // compare holds both traces: the rawfile and the HDF5 file just written
    let h5 = d.path().join("out.h5");
    let m = measured(&[os("compare"), raw.as_os_str(), h5.as_os_str(), os("--json")]);
    assert_eq!(m.code, 0, "{}", m.stderr);
    let js: serde_json::Value = serde_json::from_str(&m.stdout).unwrap();
    let est = js["memory_estimate"]["total"]
        .as_u64()
        .expect("memory_estimate.total");
    within_factor("compare mesh30 rawfile with HDF5", est, m.max_rss);
}

fn no_outputs(dir: &Path, keep: &[&str]) {
    let left: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !keep.contains(&n.as_str()))
        .collect();
    assert!(left.is_empty(), "files written: {left:?}");
}

#[test]
fn tiny_max_memory_refuses_simulate_before_any_output() {
    let d = tempfile::tempdir().unwrap();
    let net = d.path().join("mesh.cir");
    std::fs::write(&net, mesh(20, 20)).unwrap();
    let h5 = d.path().join("out.h5");
    let raw = d.path().join("out.raw");
    let m = measured(&[
        os("simulate"),
        net.as_os_str(),
        os("-o"),
        h5.as_os_str(),
        os("--raw"),
        raw.as_os_str(),
        os("--max-memory"),
        os("1M"),
    ]);
    assert_eq!(m.code, 2, "{}", m.stderr);
    assert!(m.stderr.contains("estimated peak memory"), "{}", m.stderr);
    assert!(
        m.stderr
            .contains("exceeds the memory available, 1.0 MiB (--max-memory)"),
        "{}",
        m.stderr
    );
    assert!(m.stderr.contains("mesh.cir"), "{}", m.stderr);
    no_outputs(d.path(), &["mesh.cir"]);
    // the same run within budget, and with the check off
    for extra in [["--max-memory", "4G"], ["--no-memory-check", "--json"]] {
        let mut args = vec![os("simulate"), net.as_os_str(), os("-o"), h5.as_os_str()];
        args.extend(extra.iter().map(|s| os(s)));
        let m = measured(&args);
        assert_eq!(m.code, 0, "{extra:?}: {}", m.stderr);
        assert!(h5.exists());
    }
}

#[test]
fn tiny_max_memory_refuses_train_and_compare() {
    let d = tempfile::tempdir().unwrap();
    let cfg = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/xor.toml");
    let run = d.path().join("run.h5");
    let m = measured(&[
        os("train"),
        cfg.as_os_str(),
        os("-o"),
        run.as_os_str(),
        os("--epochs"),
        os("1"),
        os("--max-memory"),
        os("64K"),
    ]);
    assert_eq!(m.code, 2, "{}", m.stderr);
    assert!(m.stderr.contains("estimated peak memory"), "{}", m.stderr);
    assert!(m.stderr.contains("xor.toml"), "{}", m.stderr);
    no_outputs(d.path(), &[]);

    // two small traces
    let net = corpus("rc_ladder_pulse.cir");
    let a = d.path().join("a.h5");
    let r = measured(&[
        os("simulate"),
        net.as_os_str(),
        os("-o"),
        a.as_os_str(),
        os("--json"),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let m = measured(&[
        os("compare"),
        a.as_os_str(),
        a.as_os_str(),
        os("--max-memory"),
        os("64K"),
    ]);
    assert_eq!(m.code, 2, "{}", m.stderr);
    assert!(
        m.stderr.contains("compare: estimated peak memory"),
        "{}",
        m.stderr
    );
    let m = measured(&[os("compare"), a.as_os_str(), a.as_os_str()]);
    assert_eq!(m.code, 0, "{}", m.stderr);
}

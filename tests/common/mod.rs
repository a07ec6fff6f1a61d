//! Helpers shared by the integration tests: running `freqprop` and stopping it with signals
//! (train_kill.rs, signals.rs, train_failure.rs; nothing here waits for a time: every wait
//! polls for a state), and whether ngspice is there (ngspice_corpus.rs, scale_mesh.rs).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

pub fn exe() -> &'static str {
    env!("CARGO_BIN_EXE_freqprop")
}

pub const XOR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/xor.toml");

pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Run to completion in `cwd`.
pub fn run(args: &[&str], cwd: &Path) -> Output {
    let o = Command::new(exe())
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run freqprop");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !err.contains("panicked"),
        "freqprop {args:?} panicked: {err}"
    );
    o
}

/// Run to completion; it must succeed.
pub fn ok(args: &[&str], cwd: &Path) -> String {
    let o = run(args, cwd);
    assert!(
        o.status.success(),
        "freqprop {args:?} failed ({:?}): {}\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// Start in the background with piped output.
pub fn spawn(args: &[&str], cwd: &Path) -> Child {
    Command::new(exe())
        .args(args)
        .current_dir(cwd)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn freqprop")
}

/// Poll until `cond` holds; panics when the child exits first.
pub fn wait_for(child: &mut Child, what: &str, mut cond: impl FnMut() -> bool) {
    loop {
        if cond() {
            return;
        }
        if let Some(st) = child.try_wait().unwrap() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                std::io::Read::read_to_string(&mut e, &mut err).unwrap();
            }
            panic!("freqprop exited ({st}) before {what}: {err}");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// True once the process catches SIGINT and SIGTERM (its handlers are installed), read
/// from the `SigCgt` mask in `/proc/PID/status`.
pub fn handlers_installed(pid: u32) -> bool {
    let Ok(st) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return false;
    };
    let Some(mask) = st
        .lines()
        .find_map(|l| l.strip_prefix("SigCgt:"))
        .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
    else {
        return false;
    };
    let bit = |sig: i32| 1u64 << (sig - 1);
    mask & bit(libc::SIGINT) != 0 && mask & bit(libc::SIGTERM) != 0
}

/// Send `sig` to the child.
pub fn signal(child: &Child, sig: i32) {
    // SAFETY: kill(2) on our own child's pid.
    let r = unsafe { libc::kill(child.id() as libc::pid_t, sig) };
    assert_eq!(r, 0, "kill failed");
}

/// Wait for the child; (exit code, stdout, stderr).
pub fn finish(child: Child) -> (Option<i32>, String, String) {
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!err.contains("panicked"), "{err}");
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        err,
    )
}

/// Completed epochs in a run file, if it exists and reads.
pub fn epochs_in(path: &Path) -> Option<usize> {
    if !path.exists() {
        return None;
    }
    learn::runfile::read_run(path)
        .ok()
        .map(|r| r.checkpoint.epoch)
}

/// Files in `dir` whose name contains `.tmp-`.
pub fn temp_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().contains(".tmp-"))
        .collect();
    v.sort();
    v
}

/// Every conductance row and history record (except wall time) of two run files, as bits.
pub fn assert_same_run(a: &Path, b: &Path) {
    let ra = learn::runfile::read_run(a).unwrap();
    let rb = learn::runfile::read_run(b).unwrap();
    let bits = |r: &learn::runfile::RunData| -> Vec<Vec<u64>> {
        r.conductances
            .iter()
            .map(|row| row.iter().map(|x| x.to_bits()).collect())
            .collect()
    };
    assert_eq!(ra.conductances.len(), rb.conductances.len());
    assert_eq!(bits(&ra), bits(&rb), "conductances differ");
    let hist = |r: &learn::runfile::RunData| -> Vec<[u64; 2]> {
        r.history
            .iter()
            .map(|h| [h.train_loss.to_bits(), h.test_loss.to_bits()])
            .collect()
    };
    assert_eq!(hist(&ra), hist(&rb), "losses differ");
    let ck = |r: &learn::runfile::RunData| -> (Vec<u64>, Vec<u64>, u64) {
        (
            r.checkpoint
                .conductances
                .iter()
                .map(|x| x.to_bits())
                .collect(),
            r.checkpoint.velocity.iter().map(|x| x.to_bits()).collect(),
            r.checkpoint.rng_state,
        )
    };
    assert_eq!(ck(&ra), ck(&rb), "checkpoints differ");
}

/// True when running under CI (`CI=true` or `CI=1`).
pub fn in_ci() -> bool {
    std::env::var("CI")
        .map(|v| v == "true" || v == "1")
        .unwrap_or(false)
}

/// Whether ngspice can be run; under CI its absence is a failure, elsewhere a skip.
pub fn ngspice_available() -> bool {
    let ok = Command::new("ngspice")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        if in_ci() {
            panic!("ngspice is not installed, and CI=true: install it (scripts/setup-system.sh)");
        }
        eprintln!(
            "note: ngspice not found; skipping the ngspice comparison (CI=true makes this fail)"
        );
    }
    ok
}

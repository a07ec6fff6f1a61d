//! SIGINT and SIGTERM sent to the real binary: `train` saves the last completed epoch,
//! marks the run file interrupted and exits 130/143, and `--resume` then matches an
//! uninterrupted run bit for bit; `simulate` writes the partial waveform (HDF5 status
//! `interrupted`, a valid rawfile) and exits 130; `sweep local` and `sweep run` discard the
//! points in flight (no result, error or temporary file) and exit 130/143. Signals are sent
//! once the process has installed its handlers and made progress, both found by polling.
mod common;
use common::*;
use std::path::Path;

fn train_signal_then_resume(sig: i32, code: i32, name: &str) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let a = d.join("a.h5");
    let mut child = spawn(
        &[
            "train", XOR, "-o", "a.h5", "--seed", "5", "--epochs", "100000",
        ],
        d,
    );
    let pid = child.id();
    wait_for(&mut child, "epoch 1 was saved", || {
        handlers_installed(pid) && epochs_in(&a).is_some_and(|e| e >= 1)
    });
    signal(&child, sig);
    let (c, _, err) = finish(child);
    assert_eq!(c, Some(code), "{err}");
    assert!(err.contains(&format!("interrupted by {name}")), "{err}");
    assert!(err.contains("-o a.h5 --resume"), "{err}");
    let run = learn::runfile::read_run(&a).unwrap();
    assert_eq!(run.status, "interrupted");
    let k = run.checkpoint.epoch;
    assert!(k >= 1);
    assert_eq!(run.conductances.len(), k + 1);
    assert_eq!(run.history.len(), k);
    assert!(
        err.contains(&format!("saved epoch {k}/100000 in a.h5")),
        "{err}"
    );
    assert_eq!(temp_files(d), Vec::<std::path::PathBuf>::new());

    let total = (k + 2).to_string();
    let out = ok(
        &[
            "train", XOR, "-o", "a.h5", "--seed", "5", "--epochs", &total, "--resume", "--json",
        ],
        d,
    );
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["status"], "complete");
    ok(
        &[
            "train", XOR, "-o", "u.h5", "--seed", "5", "--epochs", &total, "--json",
        ],
        d,
    );
    assert_same_run(&a, &d.join("u.h5"));
    assert_eq!(learn::runfile::read_run(&a).unwrap().status, "complete");
}

#[test]
fn train_sigint_saves_marks_and_resumes_bit_identically() {
    train_signal_then_resume(libc::SIGINT, 130, "SIGINT");
}

#[test]
fn train_sigterm_saves_marks_and_resumes_bit_identically() {
    train_signal_then_resume(libc::SIGTERM, 143, "SIGTERM");
}

#[test]
fn train_sigint_in_the_first_epoch_saves_epoch_zero() {
    // the transient engine on Iris: the first epoch takes long enough to be interrupted
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let iris = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/iris.toml");
    let mut child = spawn(
        &[
            "train",
            iris,
            "-o",
            "e.h5",
            "--engine",
            "transient",
            "--epochs",
            "100000",
            "--json",
        ],
        d,
    );
    let pid = child.id();
    wait_for(&mut child, "handlers were installed", || {
        handlers_installed(pid)
    });
    signal(&child, libc::SIGINT);
    let (c, out, err) = finish(child);
    assert_eq!(c, Some(130), "{err}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["status"], "interrupted");
    assert_eq!(j["signal"], "SIGINT");
    let run = learn::runfile::read_run(&d.join("e.h5")).unwrap();
    assert_eq!(run.status, "interrupted");
    assert_eq!(run.checkpoint.epoch, j["epochs"].as_u64().unwrap() as usize);
    assert_eq!(run.conductances.len(), run.checkpoint.epoch + 1);
}

fn raw_points(path: &Path) -> Vec<f64> {
    store::raw::read_raw_waveforms(path).unwrap().time
}

#[test]
fn simulate_sigint_writes_the_partial_waveform() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // a hundred million fixed steps: never finishes in a test
    std::fs::write(
        d.join("slow.cir"),
        "slow rc\nV1 in 0 SIN(0 1 1k)\nR1 in out 1k\nC1 out 0 100n\n.tran 1u 100 0 1u\n.end\n",
    )
    .unwrap();
    let mut child = spawn(
        &[
            "simulate", "slow.cir", "-o", "slow.h5", "--raw", "slow.raw", "--json",
        ],
        d,
    );
    let pid = child.id();
    let raw_tmp = d.join(format!("slow.raw.tmp-{pid}"));
    // the binary rawfile is streamed: once its temporary file holds 64 KiB, thousands of
    // points were written
    wait_for(&mut child, "points were streamed", || {
        handlers_installed(pid) && std::fs::metadata(&raw_tmp).is_ok_and(|m| m.len() > 64 * 1024)
    });
    signal(&child, libc::SIGINT);
    let (c, out, err) = finish(child);
    assert_eq!(c, Some(130), "{err}");
    assert!(err.contains("interrupted by SIGINT"), "{err}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["status"], "interrupted");
    let r = store::h5::H5Reader::open(d.join("slow.h5")).unwrap();
    assert_eq!(r.status().unwrap(), "interrupted");
    let t = r.time().unwrap();
    assert!(t.len() > 1000, "{} points", t.len());
    assert_eq!(j["points"], t.len());
    // the work done until the stop is reported (it used to be only the points written)
    let accepted = j["accepted"].as_u64().unwrap() as usize;
    assert!(accepted + 1 >= t.len(), "{j}");
    assert!(
        j["newton_iterations"].as_u64().unwrap() as usize >= accepted,
        "{j}"
    );
    assert!(j["seconds"].as_f64().unwrap() > 0.0, "{j}");
    assert!(t.windows(2).all(|w| w[1] > w[0]));
    assert!(*t.last().unwrap() < 100.0);
    let summary: serde_json::Value =
        serde_json::from_str(&r.text("summary").unwrap().unwrap()).unwrap();
    assert_eq!(summary["status"], "interrupted");
    let rt = raw_points(&d.join("slow.raw"));
    assert_eq!(rt, t, "the rawfile holds the same points");
    assert_eq!(temp_files(d), Vec::<std::path::PathBuf>::new());
}

fn sweep_files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir.join("points"))
        .map(|r| {
            r.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// A sweep whose points 0 and 1 take milliseconds and point 2 never ends in a test.
fn slow_sweep(d: &Path) -> std::path::PathBuf {
    std::fs::write(
        d.join("s.cir"),
        "rc\n.param tstop=1m\nV1 in 0 SIN(0 1 1k)\nR1 in out 1k\nC1 out 0 100n\n.tran 1u {tstop} 0 1u\n.end\n",
    )
    .unwrap();
    std::fs::write(
        d.join("s.toml"),
        "base = { kind = \"simulation\", netlist = \"s.cir\" }\n[[axis]]\nparam = \"tstop\"\nvalues = [1e-3, 2e-3, 100]\n\
         [[metric]]\nname = \"amp\"\nkind = \"amplitude\"\nsignal = \"out\"\nfreq = 1e3\n",
    )
    .unwrap();
    d.join("s.toml")
}

fn status(dir: &Path) -> serde_json::Value {
    let o = run(&["sweep", "status", s(dir), "--json"], Path::new("."));
    serde_json::from_str(&String::from_utf8_lossy(&o.stdout)).unwrap()
}

#[test]
fn sweep_local_sigint_discards_the_point_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let spec = slow_sweep(d);
    let out = d.join("out");
    // one job: the points run in order, so point 2 is in flight once 0 and 1 are written
    let mut child = spawn(&["sweep", "local", s(&spec), "-o", s(&out), "-j", "1"], d);
    let pid = child.id();
    wait_for(&mut child, "points 0 and 1 were written", || {
        handlers_installed(pid)
            && out.join("points/0.h5").exists()
            && out.join("points/1.h5").exists()
    });
    signal(&child, libc::SIGINT);
    let (c, _, err) = finish(child);
    assert_eq!(c, Some(130), "{err}");
    assert!(err.contains("interrupted by SIGINT"), "{err}");
    assert_eq!(sweep_files(&out), vec!["0.h5", "1.h5"]);
    let st = status(&out);
    assert_eq!(st["complete"], 2);
    assert_eq!(st["missing"], serde_json::json!([2]));
    assert_eq!(st["failed"], serde_json::json!([]));
}

#[test]
fn sweep_run_sigterm_leaves_the_point_pending() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let spec = slow_sweep(d);
    let out = d.join("out");
    ok(&["sweep", "plan", s(&spec), "-o", s(&out)], d);
    let mut child = spawn(
        &["sweep", "run", s(&spec), "-o", s(&out), "--index", "2"],
        d,
    );
    let pid = child.id();
    wait_for(&mut child, "handlers were installed", || {
        handlers_installed(pid)
    });
    signal(&child, libc::SIGTERM);
    let (c, _, err) = finish(child);
    assert_eq!(c, Some(143), "{err}");
    assert!(err.contains("interrupted by SIGTERM"), "{err}");
    assert_eq!(sweep_files(&out), Vec::<String>::new());
    let st = status(&out);
    assert_eq!(st["missing"], serde_json::json!([0, 1, 2]));
    assert_eq!(st["failed"], serde_json::json!([]));
}

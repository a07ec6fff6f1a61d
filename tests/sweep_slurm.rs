//! `freqprop sweep slurm --submit` through a real single-node Slurm (scripts/slurm-local.sh):
//! the collected table equals `sweep local`'s bit for bit; after a deleted and a truncated
//! point file, and after a task killed mid-run (scancel), resubmitting completes the sweep
//! with no point lost or duplicated.
//!
//! Needs root, slurm-wlm and munge. Under `CI=true` their absence is a failure; otherwise the
//! test prints a notice and returns. This is the only test that starts Slurm.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn exe() -> &'static str {
    env!("CARGO_BIN_EXE_freqprop")
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

struct Slurm {
    conf: String,
    started: bool,
}

impl Drop for Slurm {
    fn drop(&mut self) {
        if self.started {
            let _ = Command::new("bash")
                .arg(root().join("scripts/slurm-local.sh"))
                .arg("stop")
                .env("SLURM_LOCAL_DIR", slurm_dir())
                .status();
        }
    }
}

fn slurm_dir() -> String {
    std::env::var("SLURM_LOCAL_DIR").unwrap_or_else(|_| "/tmp/freqprop-slurm".into())
}

fn fp(slurm: &Slurm, args: &[&str]) -> Output {
    Command::new(exe())
        .args(args)
        .env("SLURM_CONF", &slurm.conf)
        .output()
        .expect("run freqprop")
}

fn ok(slurm: &Slurm, args: &[&str]) -> String {
    let o = fp(slurm, args);
    assert!(
        o.status.success(),
        "freqprop {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn status(slurm: &Slurm, dir: &Path) -> serde_json::Value {
    serde_json::from_str(&ok(slurm, &["sweep", "status", s(dir), "--json"])).unwrap()
}

/// Submit the pending points; returns the job id.
fn submit(slurm: &Slurm, spec: &Path, dir: &Path) -> String {
    let id = ok(
        slurm,
        &[
            "sweep",
            "slurm",
            s(spec),
            "-o",
            s(dir),
            "--submit",
            "--max-parallel",
            "2",
            "--time",
            "00:05:00",
        ],
    );
    let id = id.trim().to_string();
    assert!(id.parse::<u64>().is_ok(), "job id: {id:?}");
    id
}

fn job_in_queue(slurm: &Slurm, id: &str) -> bool {
    let o = Command::new("squeue")
        .args(["-h", "-j", id, "-o", "%i"])
        .env("SLURM_CONF", &slurm.conf)
        .output()
        .unwrap();
    !String::from_utf8_lossy(&o.stdout).trim().is_empty()
}

/// Wait (bounded) until the job has left the queue; then return the sweep status.
fn wait_job(slurm: &Slurm, id: &str, dir: &Path) -> serde_json::Value {
    let t0 = Instant::now();
    while job_in_queue(slurm, id) {
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "job {id} still queued after 120 s: {}",
            status(slurm, dir)
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    eprintln!("job {id}: {:.1} s", t0.elapsed().as_secs_f64());
    status(slurm, dir)
}

fn collect(slurm: &Slurm, dir: &Path, table: &Path) -> String {
    ok(
        slurm,
        &["sweep", "collect", s(dir), "-o", s(table), "--json"],
    );
    std::fs::read_to_string(table.with_extension("csv")).unwrap()
}

fn check_rows(csv: &str, n: usize) {
    let idx: Vec<usize> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(idx, (0..n).collect::<Vec<_>>(), "{csv}");
}

fn start_slurm() -> Option<Slurm> {
    let ci = std::env::var("CI")
        .map(|v| v == "true" || v == "1")
        .unwrap_or(false);
    let have = ["sbatch", "squeue", "scancel"].iter().all(|b| {
        Command::new("sh")
            .args(["-c", &format!("command -v {b}")])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    }) && Path::new("/usr/sbin/slurmctld").exists()
        && Path::new("/usr/sbin/munged").exists();
    let root_user = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false);
    if !have || !root_user {
        let why = if have {
            "not root"
        } else {
            "slurm-wlm/munge not installed"
        };
        assert!(
            !ci,
            "CI=true but Slurm cannot run here: {why} (scripts/setup-system.sh installs it)"
        );
        eprintln!("NOTICE: skipping the Slurm sweep test: {why}");
        return None;
    }
    let o = Command::new("bash")
        .arg(root().join("scripts/slurm-local.sh"))
        .arg("start")
        .env("SLURM_LOCAL_DIR", slurm_dir())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        o.status.success(),
        "slurm-local.sh start failed: {out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let conf = out
        .lines()
        .find_map(|l| l.strip_prefix("SLURM_CONF="))
        .expect("SLURM_CONF line")
        .to_string();
    let started = out.lines().any(|l| l == "STARTED=1");
    Some(Slurm { conf, started })
}

#[test]
fn slurm_array_equals_local_and_resubmission_completes() {
    let Some(slurm) = start_slurm() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let spec = root().join("examples/sweep.toml");
    let local = tmp.path().join("local");
    let cluster = tmp.path().join("cluster");

    ok(
        &slurm,
        &["sweep", "local", s(&spec), "-o", s(&local), "-j", "2"],
    );
    let want = collect(&slurm, &local, &tmp.path().join("local.h5"));
    check_rows(&want, 6);

    let id = submit(&slurm, &spec, &cluster);
    let script = std::fs::read_to_string(cluster.join("sweep.sbatch")).unwrap();
    assert!(script.contains("#SBATCH --array=0-5%2\n"), "{script}");
    let st = wait_job(&slurm, &id, &cluster);
    assert_eq!(st["complete"], 6, "{st}");
    let got = collect(&slurm, &cluster, &tmp.path().join("cluster.h5"));
    assert_eq!(got, want, "Slurm and local tables differ");

    // Nothing to do: no submission, no job id.
    let o = fp(
        &slurm,
        &["sweep", "slurm", s(&spec), "-o", s(&cluster), "--submit"],
    );
    assert!(o.status.success() && o.stdout.is_empty());

    // A deleted and a truncated point: resubmission runs exactly those two.
    std::fs::remove_file(cluster.join("points/2.h5")).unwrap();
    let p4 = cluster.join("points/4.h5");
    let len = std::fs::metadata(&p4).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&p4)
        .unwrap()
        .set_len(len / 3)
        .unwrap();
    let st = status(&slurm, &cluster);
    assert_eq!(
        (st["missing"].clone(), st["failed"].clone()),
        (serde_json::json!([2]), serde_json::json!([4]))
    );
    let id = submit(&slurm, &spec, &cluster);
    let script = std::fs::read_to_string(cluster.join("sweep.sbatch")).unwrap();
    assert!(script.contains("#SBATCH --array=2,4%2\n"), "{script}");
    let st = wait_job(&slurm, &id, &cluster);
    assert_eq!(st["complete"], 6, "{st}");
    let got = collect(&slurm, &cluster, &tmp.path().join("cluster2.h5"));
    assert_eq!(got, want);
    check_rows(&got, 6);

    // A task killed mid-run (scancel): its point is missing, resubmission completes it.
    let d = tmp.path();
    std::fs::write(
        d.join("slow.cir"),
        "slow rc\n.param r=1k\nV1 in 0 SIN(0 1 1k)\nR1 in out {r}\nC1 out 0 100n\n.tran 1u 1.2 0 1u\n.end\n",
    )
    .unwrap();
    std::fs::write(
        d.join("slow.toml"),
        "base = { kind = \"simulation\", netlist = \"slow.cir\" }\n[[axis]]\nparam = \"r\"\nvalues = [1e3, 2e3, 3e3]\n\
         [[metric]]\nname = \"amp\"\nkind = \"amplitude\"\nsignal = \"out\"\nfreq = 1e3\n",
    )
    .unwrap();
    let slow = d.join("slow.toml");
    let sdir = d.join("slow");
    let id = submit(&slurm, &slow, &sdir);
    // Wait until task 1 runs, then kill it.
    let t0 = Instant::now();
    loop {
        let o = Command::new("squeue")
            .args(["-h", "-t", "R", "-r", "-j", &id, "-o", "%K"])
            .env("SLURM_CONF", &slurm.conf)
            .output()
            .unwrap();
        if String::from_utf8_lossy(&o.stdout)
            .lines()
            .any(|l| l.trim() == "1")
        {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(60), "task 1 never ran");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(300));
    let o = Command::new("scancel")
        .args(["--signal=KILL", &format!("{id}_1")])
        .env("SLURM_CONF", &slurm.conf)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "scancel: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let st = wait_job(&slurm, &id, &sdir);
    assert_eq!(
        st["missing"],
        serde_json::json!([1]),
        "the killed task's point must be missing: {st}"
    );
    assert_eq!(st["complete"], 2, "{st}");
    let id = submit(&slurm, &slow, &sdir);
    let st = wait_job(&slurm, &id, &sdir);
    assert_eq!(st["complete"], 3, "{st}");
    let got = collect(&slurm, &sdir, &d.join("slow.h5"));
    check_rows(&got, 3);
    // Equal to the same sweep run locally.
    ok(
        &slurm,
        &[
            "sweep",
            "local",
            s(&slow),
            "-o",
            s(&d.join("slow_local")),
            "-j",
            "2",
        ],
    );
    assert_eq!(
        got,
        collect(&slurm, &d.join("slow_local"), &d.join("slow_local.h5"))
    );
}

//! `freqprop sweep` on this machine: plan, run, local, status, collect; reruns after a
//! deleted, truncated or killed point complete the sweep with nothing lost or duplicated.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn exe() -> &'static str {
    env!("CARGO_BIN_EXE_freqprop")
}

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/sweep.toml")
}

fn fp(args: &[&str]) -> Output {
    Command::new(exe())
        .args(args)
        .output()
        .expect("run freqprop")
}

fn ok(args: &[&str]) -> String {
    let o = fp(args);
    assert!(
        o.status.success(),
        "freqprop {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn status(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&ok(&["sweep", "status", s(dir), "--json"])).unwrap()
}

fn collect_csv(dir: &Path, table: &Path) -> String {
    ok(&["sweep", "collect", s(dir), "-o", s(table), "--json"]);
    std::fs::read_to_string(table.with_extension("csv")).unwrap()
}

/// Rows of a CSV table: the index column must be exactly 0..n (no point lost or duplicated).
fn check_rows(csv: &str, n: usize) {
    let idx: Vec<usize> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(idx, (0..n).collect::<Vec<_>>(), "{csv}");
}

#[test]
fn run_each_point_equals_local_and_reruns_repair() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = example();
    let a = tmp.path().join("a");
    let b = tmp.path().join("b");
    let out = ok(&["sweep", "plan", s(&spec), "-o", s(&a)]);
    assert!(out.contains("planned 6 points"), "{out}");
    let manifest = std::fs::read_to_string(a.join("manifest.csv")).unwrap();
    assert_eq!(manifest.lines().count(), 7);
    assert!(
        manifest.starts_with("index,r1,c1\n0,1000,0.00000001\n"),
        "{manifest}"
    );
    // Resolved netlist of point 4: r1 = 2.2k, c1 = sqrt(10n * 100n).
    let cfg = std::fs::read_to_string(a.join("configs/4.cir")).unwrap();
    assert!(
        cfg.contains(".param r1=2.2e3 c1=3.16227766016838e-8 f1=1k"),
        "{cfg}"
    );
    let st = status(&a);
    assert_eq!(st["points"], 6);
    assert_eq!(st["complete"], 0);
    assert_eq!(st["missing"], serde_json::json!([0, 1, 2, 3, 4, 5]));
    for i in 0..6 {
        ok(&[
            "sweep",
            "run",
            s(&spec),
            "-o",
            s(&a),
            "--index",
            &i.to_string(),
        ]);
    }
    // A second run of a complete point is skipped.
    let o = fp(&["sweep", "run", s(&spec), "-o", s(&a), "--index", "3"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("already complete"));
    let o = fp(&["sweep", "run", s(&spec), "-o", s(&a), "--index", "6"]);
    assert_eq!(o.status.code(), Some(2), "out-of-range index is bad input");

    ok(&["sweep", "local", s(&spec), "-o", s(&b), "-j", "2"]);
    let ta = collect_csv(&a, &tmp.path().join("ta.h5"));
    let tb = collect_csv(&b, &tmp.path().join("tb.h5"));
    assert_eq!(
        ta, tb,
        "per-point runs and `sweep local` must agree bit for bit"
    );
    check_rows(&ta, 6);
    assert!(ta.starts_with("index,r1,c1,amp_f1,phase_f1,amp_f2,vout_max,vout_rms,i_v1_mean\n"));

    // Delete one point, truncate another, leave a stale temporary file as a killed writer
    // would: status says missing / failed, collect leaves them out and exits 1.
    std::fs::remove_file(b.join("points/1.h5")).unwrap();
    let p4 = b.join("points/4.h5");
    let len = std::fs::metadata(&p4).unwrap().len();
    let f = std::fs::OpenOptions::new().write(true).open(&p4).unwrap();
    f.set_len(len / 2).unwrap();
    std::fs::write(b.join("points/2.h5.tmp-999999"), b"partial").unwrap();
    let st = status(&b);
    assert_eq!(st["complete"], 4);
    assert_eq!(st["missing"], serde_json::json!([1]));
    assert_eq!(st["failed"], serde_json::json!([4]));
    let o = fp(&[
        "sweep",
        "collect",
        s(&b),
        "-o",
        s(&tmp.path().join("partial.h5")),
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let partial = std::fs::read_to_string(tmp.path().join("partial.csv")).unwrap();
    assert_eq!(partial.lines().count(), 5, "{partial}");
    assert!(!partial
        .lines()
        .any(|l| l.starts_with("4,") || l.starts_with("1,")));

    ok(&["sweep", "local", s(&spec), "-o", s(&b), "-j", "2"]);
    let tb2 = collect_csv(&b, &tmp.path().join("tb2.h5"));
    assert_eq!(ta, tb2);
}

#[test]
fn killed_point_leaves_nothing_and_rerun_completes() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // About 1.2 million fixed steps: seconds per point, so the kill lands mid-run.
    std::fs::write(
        d.join("slow.cir"),
        "slow rc\n.param r=1k\nV1 in 0 SIN(0 1 1k)\nR1 in out {r}\nC1 out 0 100n\n.tran 1u 1.2 0 1u\n.end\n",
    )
    .unwrap();
    std::fs::write(
        d.join("slow.toml"),
        "base = { kind = \"simulation\", netlist = \"slow.cir\" }\n[[axis]]\nparam = \"r\"\nvalues = [1e3, 2e3]\n\
         [[metric]]\nname = \"amp\"\nkind = \"amplitude\"\nsignal = \"out\"\nfreq = 1e3\n",
    )
    .unwrap();
    let spec = d.join("slow.toml");
    let out = d.join("out");
    ok(&["sweep", "plan", s(&spec), "-o", s(&out)]);
    let mut child = Command::new(exe())
        .args(["sweep", "run", s(&spec), "-o", s(&out), "--index", "1"])
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(400));
    assert!(
        child.try_wait().unwrap().is_none(),
        "point finished before the kill"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    let st = status(&out);
    assert_eq!(st["missing"], serde_json::json!([0, 1]));
    assert_eq!(st["failed"], serde_json::json!([]));
    let t0 = Instant::now();
    ok(&["sweep", "local", s(&spec), "-o", s(&out), "-j", "2"]);
    eprintln!("slow sweep: {:.1} s", t0.elapsed().as_secs_f64());
    let st = status(&out);
    assert_eq!(st["complete"], 2);
    let csv = collect_csv(&out, &d.join("t.h5"));
    check_rows(&csv, 2);
    // RC low-pass at 1 kHz, C = 100 nF.
    for (line, r) in csv.lines().skip(1).zip([1e3, 2e3]) {
        let amp: f64 = line.split(',').nth(2).unwrap().parse().unwrap();
        let w = 2.0 * std::f64::consts::PI * 1e3 * r * 100e-9;
        let exact = 1.0 / (1.0 + w * w).sqrt();
        assert!(
            (amp - exact).abs() < 1e-3 * exact,
            "r={r}: {amp} vs {exact}"
        );
    }
}

#[test]
fn bad_specs_are_input_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(
        d.join("n.cir"),
        "t\n.param r=1k\nV1 a 0 SIN(0 1 1k)\nR1 a 0 {r}\n.tran 1u 1m\n.end\n",
    )
    .unwrap();
    let cases = [
        ("base = { kind = \"simulation\", netlist = \"n.cir\" }\n[[axis]]\nparam = \"q\"\nvalues = [1]\n[[metric]]\nname = \"m\"\nkind = \"final\"\nsignal = \"a\"\n", "param q"),
        ("base = { kind = \"train\", netlist = \"n.cir\" }\n[[metric]]\nname = \"m\"\nkind = \"final\"\nsignal = \"a\"\n", "[base] netlist is not used by kind = \"train\""),
        ("base = { kind = \"simulation\", netlist = \"n.cir\" }\n[[axis]]\nparam = \"r\"\nvalues = [1]\n[[metric]]\nname = \"m\"\nkind = \"amplitude\"\nsignal = \"a\"\n", "freq is required"),
        ("base = { kind = \"simulation\", netlist = \"n.cir\" }\ncombine = \"zap\"\n", "line 2"),
    ];
    for (k, (text, want)) in cases.iter().enumerate() {
        let p = d.join(format!("s{k}.toml"));
        std::fs::write(&p, text).unwrap();
        let o = fp(&["sweep", "plan", s(&p), "-o", s(&d.join("o"))]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains(want), "case {k}: {err}");
        assert!(
            err.contains(&format!("s{k}.toml")),
            "case {k} names the file: {err}"
        );
    }
}

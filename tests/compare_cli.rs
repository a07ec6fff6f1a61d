//! `freqprop compare`: exit codes 0/1/2, JSON fields, table output and `--plot`, on generated
//! CSV, rawfile and HDF5 traces.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use circuit::{Signal, Waveforms};

fn freqprop(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_freqprop"))
        .arg("compare")
        .args(args)
        .output()
        .expect("run freqprop")
}

fn run(args: &[&Path], extra: &[&str]) -> Output {
    let mut v: Vec<&std::ffi::OsStr> = args.iter().map(|p| p.as_os_str()).collect();
    v.extend(extra.iter().map(|s| std::ffi::OsStr::new(*s)));
    freqprop(&v)
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// v(in) = sin(2 pi 1k t), v(out) = 0.5 v(in), i(v1) = -1e-3 v(in), on `n` points over 2 ms.
fn traces(n: usize, offset_out_at: Option<(f64, f64)>) -> Waveforms {
    let mut w = Waveforms::new(
        "t",
        "Transient Analysis",
        vec![
            Signal::voltage("in"),
            Signal::voltage("out"),
            Signal::current("v1"),
        ],
    );
    for k in 0..n {
        let t = 2e-3 * k as f64 / (n - 1) as f64;
        let vin = (2.0 * std::f64::consts::PI * 1e3 * t).sin();
        w.time.push(t);
        w.data[0].push(vin);
        let mut out = 0.5 * vin;
        if let Some((t0, dv)) = offset_out_at {
            if t == t0 {
                out += dv;
            }
        }
        w.data[1].push(out);
        w.data[2].push(-1e-3 * vin);
    }
    w
}

struct Files {
    _dir: tempfile::TempDir,
    dir: PathBuf,
}

impl Files {
    fn new() -> Self {
        let d = tempfile::tempdir().unwrap();
        Files {
            dir: d.path().to_path_buf(),
            _dir: d,
        }
    }
    fn p(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

#[test]
fn identical_traces_in_three_formats_pass() {
    let f = Files::new();
    let w = traces(401, None);
    store::raw::write_waveforms_raw(f.p("a.raw"), &w, store::raw::RawFormat::Binary).unwrap();
    store::csv::write_csv(f.p("b.csv"), &w).unwrap();
    store::h5::write_waveforms(f.p("c.h5"), &w).unwrap();
    for (a, b) in [("a.raw", "b.csv"), ("b.csv", "c.h5"), ("c.h5", "a.raw")] {
        let out = run(&[&f.p(a), &f.p(b)], &["--json"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{a} vs {b}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let j = json(&out);
        assert_eq!(j["pass"], true);
        assert_eq!(j["tol"], 1e-3);
        assert_eq!(j["from"], 0.0);
        assert_eq!(j["signals"].as_array().unwrap().len(), 3);
        assert_eq!(j["signals"][0]["max_abs"], 0.0);
        assert_eq!(j["only_in_reference"].as_array().unwrap().len(), 0);
        assert_eq!(j["only_in_candidate"].as_array().unwrap().len(), 0);
    }
}

#[test]
fn out_of_tolerance_exits_1_with_exact_worst() {
    let f = Files::new();
    let reference = traces(401, None);
    // Candidate: v(out) bumped by 5 mV at t = 1 ms (point 200) and sampled on the same grid.
    let t0 = reference.time[200];
    let candidate = traces(401, Some((t0, 5e-3)));
    store::raw::write_waveforms_raw(f.p("ref.raw"), &reference, store::raw::RawFormat::Ascii)
        .unwrap();
    store::csv::write_csv(f.p("cand.csv"), &candidate).unwrap();

    let out = run(&[&f.p("ref.raw"), &f.p("cand.csv")], &["--json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j = json(&out);
    assert_eq!(j["pass"], false);
    let worst = &j["signals"][0];
    assert_eq!(worst["name"], "v(out)");
    assert_eq!(worst["pass"], false);
    assert_eq!(worst["at_time"], t0);
    assert!((worst["max_abs"].as_f64().unwrap() - 5e-3).abs() < 1e-15);
    // Swing of 0.5 sin over whole periods: 1 V (sampled exactly at the peaks: 401 points on 2 ms).
    assert!(
        (worst["swing"].as_f64().unwrap() - 1.0).abs() < 1e-12,
        "{worst}"
    );
    assert!((worst["rel"].as_f64().unwrap() - 5e-3).abs() < 1e-12);
    for s in &j["signals"].as_array().unwrap()[1..] {
        assert_eq!(s["pass"], true);
    }

    // A looser tolerance passes; restricting to the good nodes passes.
    let out = run(&[&f.p("ref.raw"), &f.p("cand.csv")], &["--tol", "1e-2"]);
    assert_eq!(out.status.code(), Some(0));
    let out = run(
        &[&f.p("ref.raw"), &f.p("cand.csv")],
        &["--nodes", "in,v1#branch", "--json"],
    );
    assert_eq!(out.status.code(), Some(0));
    let j = json(&out);
    let names: Vec<_> = j["signals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&"v(in)".to_string()) && names.contains(&"i(v1)".to_string()));
    // --from after the bump passes too.
    let out = run(
        &[&f.p("ref.raw"), &f.p("cand.csv")],
        &["--from", "1.2m", "--json"],
    );
    assert_eq!(out.status.code(), Some(0));
    assert!((json(&out)["from"].as_f64().unwrap() - 1.2e-3).abs() < 1e-18);

    // Human output: table header, a FAIL row, the final line.
    let out = run(&[&f.p("ref.raw"), &f.p("cand.csv")], &[]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().next().unwrap().starts_with("signal"), "{text}");
    assert!(
        text.lines().nth(1).unwrap().starts_with("v(out)")
            && text.lines().nth(1).unwrap().ends_with("FAIL"),
        "{text}"
    );
    assert!(
        text.lines()
            .last()
            .unwrap()
            .starts_with("FAIL: 1 of 3 signal(s)"),
        "{text}"
    );
}

#[test]
fn signals_in_one_trace_only_are_listed() {
    let f = Files::new();
    let reference = traces(101, None);
    let mut candidate = traces(57, None);
    candidate.signals[2] = Signal::voltage("extra");
    store::csv::write_csv(f.p("r.csv"), &reference).unwrap();
    store::csv::write_csv(f.p("c.csv"), &candidate).unwrap();
    let out = run(&[&f.p("r.csv"), &f.p("c.csv")], &["--json", "--tol", "0.1"]);
    let j = json(&out);
    assert_eq!(j["only_in_reference"], serde_json::json!(["i(v1)"]));
    assert_eq!(j["only_in_candidate"], serde_json::json!(["v(extra)"]));
    assert_eq!(j["signals"].as_array().unwrap().len(), 2);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn unreadable_input_exits_2() {
    let f = Files::new();
    store::csv::write_csv(f.p("ok.csv"), &traces(11, None)).unwrap();
    let out = run(&[&f.p("missing.raw"), &f.p("ok.csv")], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.raw"));

    std::fs::write(f.p("bad.csv"), "time,v(a)\n0,1\n1e-3,oops\n").unwrap();
    let out = run(&[&f.p("ok.csv"), &f.p("bad.csv")], &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.csv:3:2: column `v(a)`: expected a number, found `oops`"),
        "{err}"
    );

    std::fs::write(f.p("bad.raw"), "Title: x\nNo. Variables: 2\nNo. Points: 9\nVariables:\n\t0\ttime\ttime\n\t1\tv(a)\tvoltage\nBinary:\n\0\0").unwrap();
    let out = run(&[&f.p("bad.raw"), &f.p("ok.csv")], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("No. Points: 9"));

    // Nothing in common / unknown node / bad option value.
    std::fs::write(f.p("other.csv"), "time,zz\n0,1\n1e-3,1\n").unwrap();
    let out = run(&[&f.p("ok.csv"), &f.p("other.csv")], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no signal is in both traces"));
    let out = run(&[&f.p("ok.csv"), &f.p("ok.csv")], &["--nodes", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&[&f.p("ok.csv"), &f.p("ok.csv")], &["--tol", "-3"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn plot_writes_a_png() {
    let f = Files::new();
    let reference = traces(201, None);
    let candidate = traces(201, Some((reference.time[50], 0.1)));
    store::csv::write_csv(f.p("r.csv"), &reference).unwrap();
    store::csv::write_csv(f.p("c.csv"), &candidate).unwrap();
    let png = f.p("worst.png");
    let out = run(
        &[&f.p("r.csv"), &f.p("c.csv")],
        &["--plot", png.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    let bytes = std::fs::read(&png).unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert!(bytes.len() > 10_000);
}

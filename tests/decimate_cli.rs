//! `freqprop simulate --decimate/--max-points/--save/--from`: point counts, kept points equal
//! the undecimated run's bit for bit, the decimation is recorded, and `compare` reads the
//! decimated file.

use std::path::{Path, PathBuf};
use std::process::Command;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn freqprop(args: &[&std::ffi::OsStr]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_freqprop"))
        .args(args)
        .output()
        .expect("run freqprop");
    let r = Run {
        code: out.status.code().expect("exit code"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    r
}

/// An RC low-pass driven by a 1 kHz sine through a diode: a few hundred accepted points.
const DECK: &str = "decimation deck\nV1 in 0 SIN(0 2 1k)\nD1 in a dm\nR1 a out 1k\nC1 out 0 200n\nR2 out 0 10k\n.model dm D(IS=1e-14 N=1.5)\n.tran 5u 3m\n.end\n";

fn simulate(dir: &Path, name: &str, extra: &[&str]) -> (Run, PathBuf) {
    let net = dir.join("deck.cir");
    std::fs::write(&net, DECK).unwrap();
    let h5 = dir.join(name);
    let mut args: Vec<&std::ffi::OsStr> = vec![
        "simulate".as_ref(),
        net.as_os_str(),
        "-o".as_ref(),
        h5.as_os_str(),
        "--json".as_ref(),
    ];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    (freqprop(&args), h5)
}

fn full(dir: &Path) -> circuit::Waveforms {
    let (r, h5) = simulate(dir, "full.h5", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    store::h5::read_waveforms(&h5).unwrap()
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn every_nth_point_bit_for_bit_with_first_and_last() {
    let d = tempfile::tempdir().unwrap();
    let f = full(d.path());
    let n = f.len();
    assert!(n > 100, "the deck should give many points, got {n}");
    let (r, h5) = simulate(d.path(), "dec.h5", &["--decimate", "7"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let w = store::h5::read_waveforms(&h5).unwrap();
    // every 7th of the n points, plus the last when it is not on the stride
    let expect = n.div_ceil(7) + usize::from((n - 1) % 7 != 0);
    assert_eq!(w.len(), expect);
    let mut idx: Vec<usize> = (0..n).step_by(7).collect();
    if *idx.last().unwrap() != n - 1 {
        idx.push(n - 1);
    }
    let pick = |v: &[f64]| idx.iter().map(|&i| v[i]).collect::<Vec<_>>();
    assert_eq!(bits(&w.time), bits(&pick(&f.time)));
    assert_eq!(w.signals, f.signals);
    for (a, b) in w.data.iter().zip(&f.data) {
        assert_eq!(bits(a), bits(&pick(b)));
    }
    // recorded in the attributes and the summary
    let js: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(js["points"], expect);
    assert_eq!(js["points_computed"], n);
    assert_eq!(js["decimation"]["every"], 7);
    let rd = store::h5::H5Reader::open(&h5).unwrap();
    let attr: serde_json::Value = serde_json::from_str(&rd.attr("decimation").unwrap()).unwrap();
    assert_eq!(attr["every"], 7);
    assert_eq!(attr["first_and_last_kept"], true);
    let summary: serde_json::Value =
        serde_json::from_str(&rd.text("summary").unwrap().unwrap()).unwrap();
    assert_eq!(summary["points"], expect);
    // an undecimated file records nothing
    let full_attr = store::h5::H5Reader::open(d.path().join("full.h5"))
        .unwrap()
        .attr("decimation");
    assert!(full_attr.is_err(), "{full_attr:?}");
}

#[test]
fn from_and_save_keep_a_window_of_chosen_signals() {
    let d = tempfile::tempdir().unwrap();
    let f = full(d.path());
    let raw = d.path().join("dec.raw");
    let (r, h5) = simulate(
        d.path(),
        "dec.h5",
        &[
            "--from",
            "1.5m",
            "--save",
            "out,V(A)",
            "--raw",
            raw.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let w = store::h5::read_waveforms(&h5).unwrap();
    let names: Vec<&str> = w.signals.iter().map(|s| s.name.as_str()).collect();
    // in the circuit's order, whatever the order given
    assert_eq!(names, vec!["v(a)", "v(out)"]);
    let first = f.time.iter().position(|&t| t >= 1.5e-3).unwrap();
    assert_eq!(bits(&w.time), bits(&f.time[first..]));
    for (k, name) in ["v(a)", "v(out)"].iter().enumerate() {
        assert_eq!(bits(&w.data[k]), bits(&f.signal(name).unwrap()[first..]));
    }
    // the rawfile holds the same points
    let rw = store::raw::read_raw_waveforms(&raw).unwrap();
    assert_eq!(bits(&rw.time), bits(&w.time));
    assert_eq!(rw.signals.len(), 2);
}

#[test]
fn max_points_bounds_the_file() {
    let d = tempfile::tempdir().unwrap();
    let f = full(d.path());
    let (r, h5) = simulate(d.path(), "dec.h5", &["--max-points", "40"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let w = store::h5::read_waveforms(&h5).unwrap();
    assert!(w.len() <= 40 && w.len() >= 20, "{} points", w.len());
    assert_eq!(w.time[0].to_bits(), f.time[0].to_bits());
    assert_eq!(
        w.time.last().unwrap().to_bits(),
        f.time.last().unwrap().to_bits()
    );
    // every kept point is one of the full run's, values included
    for (i, t) in w.time.iter().enumerate() {
        let j = f
            .time
            .iter()
            .position(|x| x == t)
            .expect("a computed point");
        for k in 0..w.signals.len() {
            assert_eq!(w.data[k][i].to_bits(), f.data[k][j].to_bits());
        }
    }
    // a bound above the count changes nothing
    let (r, h5) = simulate(d.path(), "same.h5", &["--max-points", "100000"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(store::h5::read_waveforms(&h5).unwrap(), f);
}

#[test]
fn compare_reads_a_decimated_file() {
    let d = tempfile::tempdir().unwrap();
    let _ = full(d.path());
    let (r, h5) = simulate(d.path(), "dec.h5", &["--decimate", "2", "--save", "out"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let fullp = d.path().join("full.h5");
    let c = freqprop(&[
        "compare".as_ref(),
        fullp.as_os_str(),
        h5.as_os_str(),
        "--tol".as_ref(),
        "1e-2".as_ref(),
        "--json".as_ref(),
    ]);
    assert_eq!(c.code, 0, "{}\n{}", c.stdout, c.stderr);
    let js: serde_json::Value = serde_json::from_str(&c.stdout).unwrap();
    let text = js.to_string();
    assert!(text.contains("v(out)"), "{text}");
}

#[test]
fn bad_decimation_options_are_refused_before_any_output() {
    let d = tempfile::tempdir().unwrap();
    for (args, want) in [
        (vec!["--save", "nosuch"], "unknown signal 'nosuch'"),
        (vec!["--decimate", "0"], "--decimate"),
        (vec!["--max-points", "1"], "--max-points"),
        (vec!["--from", "1"], "after TSTOP"),
    ] {
        let (r, h5) = simulate(d.path(), "bad.h5", &args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(want), "{args:?}: {}", r.stderr);
        assert!(!h5.exists());
    }
}

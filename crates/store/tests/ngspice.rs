//! Interop with ngspice (39.3 on Debian): read what ngspice writes, and have ngspice read
//! what we write.

mod common;

use std::path::Path;
use std::process::Command;

use circuit::{Signal, Waveforms};
use store::raw::{read_raw, read_raw_waveforms, write_waveforms_raw, RawFormat, RawValues};

fn ngspice(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("ngspice")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run ngspice");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "ngspice {args:?} failed:\n{text}");
    text
}

const RC: &str = "rc test
V1 in 0 SIN(0 1 1k)
R1 in out 1k
C1 out 0 1u
.tran 2u 3m
.end
";

/// Exact RC response to `sin(wt)` switched on at t = 0 with the capacitor discharged.
fn rc_out(t: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * 1e3;
    let tau = 1e-3;
    let wt = w * tau;
    (1.0 / (1.0 + wt * wt)) * ((w * t).sin() - wt * (w * t).cos() + wt * (-t / tau).exp())
}

#[test]
fn reads_ngspice_binary_and_ascii_transient() {
    if !common::require_tool("ngspice", "-v") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rc.cir"), RC).unwrap();
    ngspice(dir.path(), &["-b", "-r", "rc.raw", "rc.cir"]);
    let deck_ascii = RC.replace(
        ".end\n",
        ".control\nset filetype=ascii\nrun\nwrite rca.raw\nquit 0\n.endc\n.end\n",
    );
    std::fs::write(dir.path().join("rca.cir"), deck_ascii).unwrap();
    ngspice(dir.path(), &["-b", "rca.cir"]);

    let plots = read_raw(dir.path().join("rc.raw")).unwrap();
    assert_eq!(plots.len(), 1);
    let p = &plots[0];
    assert_eq!(p.plotname, "Transient Analysis");
    let names: Vec<_> = p.variables.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["time", "v(in)", "v(out)", "i(v1)"]);
    let w = p.to_waveforms().unwrap();
    assert!(w.len() > 1000, "{} points", w.len());
    assert_eq!(*w.time.last().unwrap(), 3e-3);
    let (vin, vout, i1) = (
        w.signal("in").unwrap(),
        w.signal("out").unwrap(),
        w.signal("v1#branch").unwrap(),
    );
    let mut worst = 0.0f64;
    for k in 0..w.len() {
        let t = w.time[k];
        let w0 = 2.0 * std::f64::consts::PI * 1e3;
        assert!((vin[k] - (w0 * t).sin()).abs() < 1e-9, "v(in) at {t}");
        worst = worst.max((vout[k] - rc_out(t)).abs());
        // KVL/KCL: the source current is minus the resistor current.
        assert!(
            (i1[k] + (vin[k] - vout[k]) / 1e3).abs() < 1e-12,
            "i(v1) at {t}"
        );
    }
    // ngspice's own integration error against the exact solution (swing ~0.3 V).
    eprintln!("v(out) vs exact RC response: worst {worst:e} V");
    assert!(worst < 1e-4, "v(out) vs exact RC response: {worst}");

    let a = read_raw_waveforms(dir.path().join("rca.raw")).unwrap();
    assert_eq!(a.time.len(), w.time.len());
    for (ca, cb) in std::iter::once((&a.time, &w.time)).chain(a.data.iter().zip(&w.data)) {
        for (x, y) in ca.iter().zip(cb.iter()) {
            // ngspice prints %.15e: 16 significant digits.
            assert!((x - y).abs() <= 1e-15 * y.abs().max(1e-300), "{x} vs {y}");
        }
    }
}

#[test]
fn reads_ngspice_complex_ac_and_multiple_plots() {
    if !common::require_tool("ngspice", "-v") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ac = "ac\nV1 in 0 DC 0 AC 1\nR1 in out 1k\nC1 out 0 1u\n.ac dec 5 10 10k\n.end\n";
    std::fs::write(dir.path().join("ac.cir"), ac).unwrap();
    ngspice(dir.path(), &["-b", "-r", "ac.raw", "ac.cir"]);
    let ac_ascii = ac.replace(
        ".end\n",
        ".control\nset filetype=ascii\nrun\nwrite aca.raw\nquit 0\n.endc\n.end\n",
    );
    std::fs::write(dir.path().join("aca.cir"), ac_ascii).unwrap();
    ngspice(dir.path(), &["-b", "aca.cir"]);
    for file in ["ac.raw", "aca.raw"] {
        let plots = read_raw(dir.path().join(file)).unwrap();
        let p = &plots[0];
        assert_eq!(p.plotname, "AC Analysis");
        assert_eq!(p.variables[0].extra, vec!["grid=3".to_string()]);
        let RawValues::Complex(cols) = &p.values else {
            panic!("{file}: AC plot must be complex")
        };
        assert_eq!(cols[0].len(), 16);
        for (f, h) in cols[0].iter().zip(p.complex("out").unwrap()) {
            // ngspice 39.3 writes the frequency scale as complex with an uninitialised
            // imaginary part in binary files; the reader zeroes it.
            assert_eq!(f.im, 0.0);
            let exact = num_complex::Complex64::new(1.0, 0.0)
                / num_complex::Complex64::new(1.0, 2.0 * std::f64::consts::PI * f.re * 1e-3);
            assert!(
                (h - exact).norm() < 1e-12,
                "{file}: f = {}: {h} vs {exact}",
                f.re
            );
        }
        let e = p.to_waveforms().unwrap_err();
        assert!(e.contains("complex"), "{e}");
    }

    let multi =
        "multi\nV1 in 0 SIN(0 1 1k)\nR1 in out 1k\nC1 out 0 1u\n.op\n.tran 100u 300u\n.end\n";
    std::fs::write(dir.path().join("m.cir"), multi).unwrap();
    ngspice(dir.path(), &["-b", "-r", "m.raw", "m.cir"]);
    let plots = read_raw(dir.path().join("m.raw")).unwrap();
    let names: Vec<_> = plots.iter().map(|p| p.plotname.as_str()).collect();
    assert_eq!(names, ["Operating Point", "Transient Analysis"]);
    assert_eq!(plots[0].n_points(), 1);
    // read_any picks the transient plot.
    let w = store::read_any(dir.path().join("m.raw")).unwrap();
    assert_eq!(w.plotname, "Transient Analysis");
    assert_eq!(*w.time.last().unwrap(), 300e-6);
}

#[test]
fn ngspice_loads_what_we_write() {
    if !common::require_tool("ngspice", "-v") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut w = Waveforms::new(
        "written by freqprop",
        "Transient Analysis",
        vec![Signal::voltage("out"), Signal::current("v1")],
    );
    for k in 0..200 {
        let t = k as f64 * 1e-6 + (k as f64).sqrt() * 1e-8;
        w.time.push(t);
        w.data[0].push((t * 2e4).sin() / 3.0);
        w.data[1].push(-1e-3 * (t * 1e3).cos());
    }
    for (file, fmt) in [
        ("ours_bin.raw", RawFormat::Binary),
        ("ours_asc.raw", RawFormat::Ascii),
    ] {
        write_waveforms_raw(dir.path().join(file), &w, fmt).unwrap();
        let back = format!("back_{file}");
        let deck = format!(
            "load test\n.control\nset numdgt=16\nload {file}\nprint v(out)[7]\nprint i(v1)[199]\nprint length(time)\nwrite {back}\nquit 0\n.endc\n.end\n"
        );
        std::fs::write(dir.path().join("load.cir"), deck).unwrap();
        let out = ngspice(dir.path(), &["-b", "load.cir"]);
        let printed = |name: &str| -> f64 {
            let line = out
                .lines()
                .find(|l| l.trim_start().starts_with(name))
                .unwrap_or_else(|| panic!("{name} not printed:\n{out}"));
            line.split('=').nth(1).unwrap().trim().parse().unwrap()
        };
        assert_eq!(printed("length(time)"), 200.0, "{file}:\n{out}");
        let v7 = printed("v(out)[7]");
        assert!(
            (v7 - w.data[0][7]).abs() <= 1e-15 * w.data[0][7].abs(),
            "{v7}"
        );
        let i199 = printed("i(v1)[199]");
        assert!(
            (i199 - w.data[1][199]).abs() <= 1e-15 * w.data[1][199].abs(),
            "{i199}"
        );
        // ngspice's binary rewrite of our file carries the identical numbers.
        let again = read_raw_waveforms(dir.path().join(&back)).unwrap();
        assert_eq!(again.time, w.time, "{file}");
        assert_eq!(
            again.signal("v(out)").unwrap(),
            w.data[0].as_slice(),
            "{file}"
        );
        assert_eq!(
            again.signal("i(v1)").unwrap(),
            w.data[1].as_slice(),
            "{file}"
        );
    }
}

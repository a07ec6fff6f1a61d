//! End-to-end tests of `freqprop simulate`: bad input is reported with file/line/column or the
//! offending node/element by name and exit code 2, a run that cannot converge exits 1 with
//! the time and node and still leaves an HDF5 file marked failed, and nothing panics.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn freqprop() -> Command {
    Command::new(env!("CARGO_BIN_EXE_freqprop"))
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(args: &[&std::ffi::OsStr]) -> Run {
    let out: Output = freqprop().args(args).output().expect("run freqprop");
    let r = Run {
        code: out
            .status
            .code()
            .expect("exit code (not killed by a signal)"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !r.stderr.contains("panicked"),
        "freqprop panicked:\n{}",
        r.stderr
    );
    assert!(
        !r.stdout.contains("panicked"),
        "freqprop panicked:\n{}",
        r.stdout
    );
    r
}

/// Write `text` to `dir/name` and run `freqprop simulate` on it with `-o dir/out.h5` and the
/// extra arguments.
fn simulate(dir: &Path, name: &str, text: &str, extra: &[&str]) -> (Run, PathBuf, PathBuf) {
    let net = dir.join(name);
    std::fs::write(&net, text).unwrap();
    let h5 = dir.join("out.h5");
    let mut args: Vec<&std::ffi::OsStr> = vec![
        "simulate".as_ref(),
        net.as_os_str(),
        "-o".as_ref(),
        h5.as_os_str(),
    ];
    args.extend(extra.iter().map(|s| std::ffi::OsStr::new(*s)));
    (run(&args), net, h5)
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn parse_error_names_file_line_column_and_text() {
    let d = tempdir();
    let (r, net, h5) = simulate(
        d.path(),
        "bad.cir",
        "title\nV1 in 0 1\nR1 in out 1x\nR2 out 0 1k\n.tran 1u 1m\n.end\n",
        &["--json"],
    );
    assert_eq!(r.code, 2, "stderr: {}", r.stderr);
    // `1x`: line 3, column 11
    let loc = format!("{}:3:11", net.display());
    assert!(r.stderr.contains(&loc), "expected {loc} in:\n{}", r.stderr);
    assert!(
        r.stderr.contains("R1 in out 1x"),
        "offending text missing:\n{}",
        r.stderr
    );
    assert!(!h5.exists(), "no output for a netlist that does not parse");
}

#[test]
fn unknown_model_is_named() {
    let d = tempdir();
    let (r, net, _) = simulate(
        d.path(),
        "model.cir",
        "t\nV1 in 0 1\nR1 in a 1k\nD1 a 0 nosuchmodel\n.tran 1u 1m\n.end\n",
        &[],
    );
    assert_eq!(r.code, 2, "stderr: {}", r.stderr);
    assert!(r.stderr.contains("nosuchmodel"), "{}", r.stderr);
    assert!(r.stderr.contains("d1"), "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("{}:4:", net.display())),
        "{}",
        r.stderr
    );
}

#[test]
fn unsupported_element_type_is_named() {
    let d = tempdir();
    let (r, net, _) = simulate(
        d.path(),
        "elem.cir",
        "t\nV1 in 0 1\nR1 in 0 1k\nE1 out 0 in 0 2\nR2 out 0 1k\n.tran 1u 1m\n.end\n",
        &[],
    );
    assert_eq!(r.code, 2, "stderr: {}", r.stderr);
    assert!(r.stderr.contains("e1"), "{}", r.stderr);
    assert!(r.stderr.contains("not supported"), "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("{}:4:1", net.display())),
        "{}",
        r.stderr
    );
}

#[test]
fn floating_node_is_named_before_the_solve() {
    let d = tempdir();
    // node `island` reaches the rest only through capacitors
    let text =
        "t\nV1 in 0 SIN(0 1 1k)\nR1 in 0 1k\nC1 in island 1u\nC2 island 0 1u\n.tran 1u 1m\n.end\n";
    let (r, net, h5) = simulate(d.path(), "float.cir", text, &[]);
    assert_eq!(r.code, 2, "stderr: {}", r.stderr);
    assert!(r.stderr.contains("island"), "{}", r.stderr);
    assert!(r.stderr.contains("no DC path"), "{}", r.stderr);
    assert!(
        r.stderr.contains(&net.display().to_string()),
        "{}",
        r.stderr
    );
    assert!(
        !h5.exists(),
        "rejected before anything is solved or written"
    );
}

#[test]
fn missing_file_names_the_path() {
    let d = tempdir();
    let missing = d.path().join("does-not-exist.cir");
    let h5 = d.path().join("out.h5");
    let r = run(&[
        "simulate".as_ref(),
        missing.as_os_str(),
        "-o".as_ref(),
        h5.as_os_str(),
    ]);
    assert_eq!(r.code, 2, "stderr: {}", r.stderr);
    assert!(
        r.stderr.contains(&missing.display().to_string()),
        "{}",
        r.stderr
    );
}

#[test]
fn no_analysis_is_bad_input() {
    let d = tempdir();
    let (r, _, _) = simulate(
        d.path(),
        "noan.cir",
        "t\nV1 in 0 1\nR1 in 0 1k\n.end\n",
        &[],
    );
    assert_eq!(r.code, 2, "stderr: {}", r.stderr);
    assert!(
        r.stderr.contains(".tran") && r.stderr.contains(".op"),
        "{}",
        r.stderr
    );
}

#[test]
fn successful_run_writes_h5_raw_and_json() {
    let d = tempdir();
    let raw = d.path().join("out.raw");
    let text = "rc\nV1 in 0 PULSE(0 1 0.1m 1u 1u 0.4m 1m)\nR1 in out 1k\nC1 out 0 100n\n.tran 10u 2m\n.end\n";
    let (r, _, h5) = simulate(
        d.path(),
        "rc.cir",
        text,
        &["--json", "--raw", raw.to_str().unwrap()],
    );
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    let js: serde_json::Value =
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout));
    for key in [
        "accepted",
        "rejected",
        "newton_iterations",
        "factorizations",
    ] {
        let v = js[key]
            .as_u64()
            .unwrap_or_else(|| panic!("{key} missing or not an integer: {js}"));
        if key != "rejected" {
            assert!(v > 0, "{key} = {v}");
        }
    }
    assert!(js["seconds"].as_f64().is_some_and(|s| s >= 0.0), "{js}");
    assert_eq!(js["status"], "complete");
    assert!(h5.exists() && raw.exists());
    let st = store::h5::H5Reader::open(&h5).unwrap().status().unwrap();
    assert_eq!(st, "complete");
    let a = store::read_any(&h5).unwrap();
    let b = store::read_any(&raw).unwrap();
    assert_eq!(a.len(), b.len());
    // every accepted point plus t = 0
    assert_eq!(a.len() as u64, js["accepted"].as_u64().unwrap() + 1);
    assert_eq!(a.time, b.time);
    for name in ["v(in)", "v(out)", "i(v1)"] {
        assert_eq!(a.signal(name).unwrap(), b.signal(name).unwrap(), "{name}");
    }
    // the output is the RC response: v(out) at 0.5 ms (end of the pulse) ≈ 1 − e^{−(0.4m−0.5µ)/0.1m}
    let out = a.signal("out").unwrap();
    let k = a
        .time
        .iter()
        .position(|&t| (t - 0.501e-3).abs() < 1e-12)
        .expect("pulse corner at 0.501 ms");
    let exact = 1.0 - (-(0.4e-3 - 0.5e-6) / 1e-4f64).exp();
    assert!(
        (out[k] - exact).abs() < 2e-3,
        "v(out) = {} vs {exact}",
        out[k]
    );
    // no temporary files left behind
    let names: Vec<_> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(names.iter().all(|n| !n.contains(".tmp")), "{names:?}");
}

/// `--no-h5 --raw` writes the rawfile alone (what `ngspice -b -r` writes), with the same
/// points as a run that also writes the HDF5 file, and no HDF5 file at all (not even under
/// the default name), for a transient and for an operating point; without `--raw`, or
/// with `-o`, it is refused as a usage error.
#[test]
fn no_h5_writes_the_rawfile_alone() {
    let d = tempdir();
    let net = d.path().join("rc.cir");
    std::fs::write(
        &net,
        "rc\nV1 in 0 SIN(0 1 1k)\nR1 in out 1k\nD1 out 0 dm\nC1 out 0 100n\n.model dm D(CJO=1p)\n.tran 10u 2m\n.end\n",
    )
    .unwrap();
    let (alone, both, h5) = (
        d.path().join("alone.raw"),
        d.path().join("both.raw"),
        d.path().join("both.h5"),
    );
    let r = freqprop()
        .current_dir(d.path())
        .args(["simulate".as_ref(), net.as_os_str(), "--json".as_ref()])
        .args(["--no-h5".as_ref(), "--raw".as_ref(), alone.as_os_str()])
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let js: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert!(js["output"].is_null(), "{js}");
    assert_eq!(js["status"], "complete");
    let names: Vec<_> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".h5")), "{names:?}");
    let r = run(&[
        "simulate".as_ref(),
        net.as_os_str(),
        "-o".as_ref(),
        h5.as_os_str(),
        "--raw".as_ref(),
        both.as_os_str(),
    ]);
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    let (a, b) = (
        store::read_any(&alone).unwrap(),
        store::read_any(&both).unwrap(),
    );
    assert!(a.len() > 100, "{} points", a.len());
    assert_eq!(a.time, b.time);
    assert_eq!(a.data, b.data);
    // an operating point the same way: its one point in the rawfile, no HDF5 file
    let op = d.path().join("op");
    std::fs::create_dir(&op).unwrap();
    let div = op.join("div.cir");
    std::fs::write(
        &div,
        "div\nV1 in 0 10\nR1 in out 1k\nR2 out 0 3k\n.op\n.end\n",
    )
    .unwrap();
    let r = freqprop()
        .current_dir(&op)
        .args(["simulate".as_ref(), div.as_os_str()])
        .args(["--no-h5", "--raw", "div.raw"])
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let w = store::read_any(op.join("div.raw")).unwrap();
    assert_eq!(w.signal("out").unwrap(), &[7.5]);
    let names: Vec<_> = std::fs::read_dir(&op)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".h5")), "{names:?}");
    for bad in [
        &["--no-h5"][..],
        &["--no-h5", "--raw", "x.raw", "-o", "x.h5"],
    ] {
        let mut args = vec!["simulate".as_ref(), net.as_os_str()];
        args.extend(bad.iter().map(std::ffi::OsStr::new));
        let r = run(&args);
        assert_eq!(r.code, 2, "{bad:?}: {}", r.stderr);
    }
}

/// `--stats` splits the transient's time into five shares that add up to the whole, and its
/// counts agree with the summary line: every Newton iteration either factored or reused the
/// held factorization, and the iterations per step are the summary's ratio.
#[test]
fn stats_split_the_time_and_agree_with_the_summary() {
    let d = tempdir();
    let text =
        include_str!("ngspice/random_network.cir").replace(".tran 0.2u 1m", ".tran 0.2u 0.05m");
    let (r, _, _) = simulate(d.path(), "rn.cir", &text, &["--stats"]);
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    let line = |prefix: &str| -> &str {
        r.stdout
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line {prefix:?} in:\n{}", r.stdout))
    };
    let numbers = |l: &str| -> Vec<f64> {
        l.split(|c: char| !(c.is_ascii_digit() || c == '.'))
            .filter_map(|w| w.parse().ok())
            .collect()
    };
    let shares = [
        "device evaluation:",
        "assembly:",
        "numeric factorization:",
        "triangular solves:",
        "Newton tests, steps, output:",
    ];
    let mut total = 0.0;
    for name in shares {
        let v = numbers(line(name));
        assert_eq!(
            v.len(),
            2,
            "{name}: seconds and percent in {:?}",
            line(name)
        );
        assert!(v[0] >= 0.0 && v[1] >= 0.0, "{name}: {v:?}");
        total += v[1];
    }
    assert!((total - 100.0).abs() <= 0.3, "shares add up to {total}%");
    let summary = numbers(line("transient:"));
    let (accepted, iterations, factorizations) = (summary[0], summary[2], summary[3]);
    let f = numbers(line("factorizations:"));
    assert_eq!(
        f,
        [factorizations, iterations - factorizations, iterations],
        "{}",
        r.stdout
    );
    assert!(line("unknowns:").contains("398"), "{}", r.stdout);
    let per_step = numbers(line("Newton iterations per accepted step:"))[0];
    assert!(
        (per_step - iterations / accepted).abs() <= 0.005,
        "{per_step} vs {iterations} / {accepted}"
    );
    // some solves follow no load: they were solved from the residual taken from the load
    // before (each time point also has at least one load)
    let loads = numbers(line("loads (every device evaluated):"));
    assert!(
        loads[0] >= accepted && loads[0] < iterations,
        "{loads:?} loads, {accepted} steps, {iterations} iterations"
    );
    assert!((loads[1] - loads[0] / accepted).abs() <= 0.005, "{loads:?}");
    let settled = numbers(line("Newton solves accepted on the residual's test"));
    assert!(settled[2] > 0.0, "none one solve further: {settled:?}");
    // a step against the limit, one factorization and one solve (printed in ms to four
    // decimals, the ratio to two)
    let v = numbers(line("per accepted step:"));
    let [step, ratio, limit, factor, solve] = v[..] else {
        panic!("{v:?}");
    };
    assert!(step > 0.0 && factor > 0.0 && solve > 0.0, "{v:?}");
    assert!((limit - (factor + solve)).abs() <= 1.5e-4, "{v:?}");
    assert!(
        (ratio - step / limit).abs() <= 0.005 + 1e-4 * ratio / limit,
        "{v:?}"
    );

    // the same figures in the JSON summary, from its own counts and seconds
    let (r, _, _) = simulate(d.path(), "rn2.cir", &text, &["--json"]);
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    let js: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let num = |k: &str| {
        js[k]
            .as_f64()
            .unwrap_or_else(|| panic!("{k} in {}", r.stdout))
    };
    let limit =
        num("factor_seconds") / num("factorizations") + num("solve_seconds") / num("solves");
    assert_eq!(num("limit_seconds"), limit);
    assert_eq!(num("seconds_per_step"), num("seconds") / num("accepted"));
    assert_eq!(num("step_over_limit"), num("seconds_per_step") / limit);
    assert_eq!(num("solves"), num("newton_iterations"));
}

#[test]
fn operating_point_run() {
    let d = tempdir();
    let (r, _, h5) = simulate(
        d.path(),
        "div.cir",
        "div\nV1 in 0 10\nR1 in out 1k\nR2 out 0 3k\n.op\n.end\n",
        &["--json"],
    );
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    let js: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(js["values"]["v(out)"].as_f64(), Some(7.5));
    let w = store::read_any(&h5).unwrap();
    assert_eq!(w.signal("out").unwrap(), &[7.5]);
}

#[test]
fn non_convergent_run_exits_1_with_time_and_node_and_keeps_a_failed_file() {
    let d = tempdir();
    // From 1 ms, I1 forces up to 1 A backwards through the diode. Its reverse current
    // saturates at IS, so only gmin (1e-30 S) can carry the rest: v(jn) would have to reach
    // about −1e30 V, which junction limiting (at most doubling per iteration) cannot reach in
    // itl4 = 10 iterations at any step size.
    let text = "reverse current into a diode\nI1 jn 0 PWL(0 0 1m 0 1.001m 1)\nD1 jn 0 dm\n\
                .model dm D(IS=1e-14)\n.options gmin=1e-30 itl4=10\n.tran 10u 2m\n.end\n";
    let (r, net, h5) = simulate(d.path(), "nonconv.cir", text, &[]);
    assert_eq!(r.code, 1, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains(&net.display().to_string()),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("timestep too small at t = 1.000000e-3 s"),
        "{}",
        r.stderr
    );
    // the node, and the elements whose currents meet there
    assert!(
        r.stderr.contains("node jn (elements: i1, d1)"),
        "{}",
        r.stderr
    );
    // step cutting, then gmin and source stepping at the smallest step, were all tried;
    // the diode is the element that did not converge
    assert!(
        r.stderr
            .contains("nor did gmin stepping or source stepping at that step"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("element furthest from convergence: d1"),
        "{}",
        r.stderr
    );
    assert!(h5.exists(), "the points before the failure are kept");
    let st = store::h5::H5Reader::open(&h5).unwrap().status().unwrap();
    assert!(st.starts_with("failed"), "status: {st}");
    assert!(
        st.contains("node jn") && st.contains("t = 1.000000e-3"),
        "status: {st}"
    );
    let w = store::read_any(&h5).unwrap();
    assert!(w.len() > 10, "{} points", w.len());
    assert_eq!(
        *w.time.last().unwrap(),
        1e-3,
        "last point written is the last accepted one"
    );
    // up to the failure the node sat at 0 V (no current)
    assert!(w.signal("jn").unwrap().iter().all(|v| v.abs() < 1e-9));
}

/// The value of `node` at the last point of `h5`, and the number of gmin- and
/// source-stepping rescues the run's JSON summary reports.
fn rescued_run(deck: &str, node: &str) -> (f64, u64, u64, String) {
    let d = tempdir();
    let (r, _, h5) = simulate(d.path(), "deck.cir", deck, &["--json"]);
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    let js: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let w = store::read_any(&h5).unwrap();
    let v = *w.signal(node).unwrap().last().unwrap();
    (
        v,
        js["gmin_rescues"].as_u64().unwrap(),
        js["source_rescues"].as_u64().unwrap(),
        js["status"].as_str().unwrap().to_string(),
    )
}

/// At 1 ms a 1 mA current step (a true jump: two PWL points at the same time) drives a
/// reverse-biased diode with a 1 MΩ leak and no capacitance. The node must jump from 0 to
/// about 1 kV; junction limiting at most doubles a reverse voltage per iteration, so Newton
/// from the previous point needs 12 iterations, more than ITL4 = 10, at any step: step
/// cutting fails (without the rescue this run fails: `timestep too small`). Gmin stepping
/// (a 10 mS shunt at every node first, where the node sits at 0.1 V, then 10× less each
/// time) reaches it.
#[test]
fn gmin_stepping_rescues_a_point_that_step_cutting_cannot() {
    let deck = "a 1 mA step into a reverse-biased diode with a 1 Meg leak\n\
                I1 0 jn PWL(0 0 1m 0 1m 1m)\n\
                D1 0 jn dm\n\
                R1 jn 0 1meg\n\
                .model dm D(IS=1e-14)\n\
                .options itl4=10\n\
                .tran 10u 2m\n\
                .end\n";
    let (v, gmin, source, status) = rescued_run(deck, "jn");
    assert_eq!((gmin, source), (1, 0), "{status}");
    assert_eq!(status, "complete");
    // KCL: 1 mA = v/1 MΩ + gmin·v + IS (the reverse current has saturated)
    let exact = (1e-3 - 1e-14) / (1e-6 + 1e-12);
    assert!(
        (v - exact).abs() <= 1e-9 * exact,
        "v(jn) = {v}, exact {exact}"
    );
}

/// A −100 kV step across 1 kΩ and a diode that blocks it. The 10 mS shunts of gmin
/// stepping would put the node at −9.1 kV, still out of reach in ITL4 iterations, so gmin
/// stepping fails; source stepping moves the source from its value at the last point (0 V)
/// to −100 kV in steps from 1% up, each within reach of the last.
#[test]
fn source_stepping_rescues_a_point_that_gmin_stepping_cannot() {
    let deck = "a -100 kV step across a resistor and a blocking diode\n\
                V1 in 0 PWL(0 0 1m 0 1m -100k)\n\
                R1 in a 1k\n\
                D1 a 0 dm\n\
                .model dm D(IS=1e-14)\n\
                .options itl4=10\n\
                .tran 10u 2m\n\
                .end\n";
    let (v, gmin, source, status) = rescued_run(deck, "a");
    assert_eq!((gmin, source), (0, 1), "{status}");
    // KCL at a: (−100 kV − v)/1 kΩ = gmin·v − IS
    let exact = (-1e5 / 1e3 + 1e-14) / (1e-3 + 1e-12);
    assert!(
        (v - exact).abs() <= 1e-9 * exact.abs(),
        "v(a) = {v}, exact {exact}"
    );
}

/// A diode straight across a supply ramping to 40 V: near 18.4 V its current,
/// IS·exp(v/Vt), overflows. The failure names the diode as where the non-finite value
/// arose (not just the node), and the time.
#[test]
fn an_overflowing_device_is_named_where_the_value_arose() {
    let d = tempdir();
    let text = "a diode straight across a supply ramping to 40 V\n\
                V1 a 0 PWL(0 0 1m 40)\n\
                D1 a 0 dm\n\
                .model dm D(IS=1e-14)\n\
                .tran 1u 1m\n\
                .end\n";
    let (r, _, h5) = simulate(d.path(), "deck.cir", text, &[]);
    assert_eq!(r.code, 1, "stderr: {}", r.stderr);
    for want in [
        "a device's current or conductance is not finite",
        "non-finite value from d1",
        "node a (elements: v1, d1)",
    ] {
        assert!(
            r.stderr.contains(want),
            "expected {want:?} in:\n{}",
            r.stderr
        );
    }
    // the failure time: where 40 V·t/1 ms crosses the overflow voltage, 18.3–18.5 V
    let w = store::read_any(&h5).unwrap();
    let t_fail = *w.time.last().unwrap();
    assert!((0.457e-3..0.463e-3).contains(&t_fail), "failed at {t_fail}");
    // the same at the DC operating point (a 40 V supply)
    let (r, _, _) = simulate(
        d.path(),
        "op.cir",
        "a diode across a 40 V supply\n\
         V1 a 0 40\n\
         D1 a 0 dm\n\
         .model dm D(IS=1e-14)\n\
         .op\n\
         .end\n",
        &[],
    );
    assert_eq!(r.code, 1, "stderr: {}", r.stderr);
    assert!(
        r.stderr.contains("no DC operating point") && r.stderr.contains("non-finite value from d1"),
        "{}",
        r.stderr
    );
}

/// A failed run's summary reports the time it took (it used to say `"seconds": 0.0`: the
/// Newton-failure branch of `Simulator::transient` filled in only the iteration count).
#[test]
fn failed_run_reports_its_time() {
    let d = tempdir();
    let text = "reverse current into a diode\nI1 jn 0 PWL(0 0 1m 0 1.001m 1)\nD1 jn 0 dm\n\
                .model dm D(IS=1e-14)\n.options gmin=1e-30 itl4=10\n.tran 10u 2m\n.end\n";
    let (r, _, _) = simulate(d.path(), "nonconv.cir", text, &["--json"]);
    assert_eq!(r.code, 1);
    let js: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(js["newton_iterations"].as_u64().unwrap() > 100, "{js}");
    assert!(js["seconds"].as_f64().unwrap() > 0.0, "{js}");
}

/// Run `deck` through `freqprop simulate`; assert it is refused as bad input (exit 2) before
/// any output exists, and that the message holds each of `names`.
fn refused_naming(deck: &str, names: &[&str]) -> String {
    let d = tempdir();
    let (r, net, h5) = simulate(d.path(), "deck.cir", deck, &[]);
    assert_eq!(r.code, 2, "stderr: {}", r.stderr);
    for n in names {
        assert!(r.stderr.contains(n), "expected {n:?} in:\n{}", r.stderr);
    }
    assert!(
        r.stderr.contains(&net.display().to_string()),
        "{}",
        r.stderr
    );
    assert!(!h5.exists(), "nothing is written for a refused circuit");
    r.stderr
}

#[test]
fn island_is_named_as_floating() {
    refused_naming(
        "t\nV1 in 0 1\nR1 in 0 1k\nR2 p q 1k\nR3 q p 2k\n.tran 1u 1m\n.end\n",
        &[
            "node(s) p, q have no DC path to ground",
            "no element connects them",
        ],
    );
}

#[test]
fn current_source_capacitor_cut_set_is_named_with_its_elements() {
    // {a, b} reach the rest only through I1 and C1
    refused_naming(
        "t\nV1 in 0 SIN(0 1 1k)\nR1 in 0 1k\nI1 in a 1m\nR2 a b 1k\nC1 b 0 1u\n.tran 1u 1m\n.end\n",
        &[
            "node(s) a, b have no DC path to ground",
            "cut-set of only current sources and capacitors: i1, c1",
        ],
    );
    // current sources only
    refused_naming(
        "t\nV1 in 0 1\nR1 in 0 1k\nI1 in a 1m\nR2 a b 1k\nI2 b 0 1m\n.tran 1u 1m\n.end\n",
        &[
            "node(s) a, b have no DC path",
            "cut-set of only current sources and capacitors: i1, i2",
        ],
    );
}

#[test]
fn voltage_source_inductor_loop_is_named() {
    refused_naming(
        "t\nV1 a 0 1\nL1 a b 1m\nV2 b 0 2\nR1 a 0 1k\n.tran 1u 1m\n.end\n",
        &["loop of only voltage sources and inductors: l1, v1, v2"],
    );
}

#[test]
fn non_positive_resistance_is_named() {
    let e = refused_naming(
        "t\nV1 in 0 1\nR1 in 0 0\n.tran 1u 1m\n.end\n",
        &["the resistance of r1 must be positive, found 0"],
    );
    assert!(e.contains(":3:"), "{e}");
    refused_naming(
        "t\nV1 in 0 1\nRneg in 0 -5\n.tran 1u 1m\n.end\n",
        &["rneg", "must be positive, found -5"],
    );
}

#[test]
fn duplicate_element_names_are_named() {
    let e = refused_naming(
        "t\nV1 in 0 1\nR1 in 0 1k\nr1 in 0 2k\n.tran 1u 1m\n.end\n",
        &["duplicate element name 'r1'", ":4:"],
    );
    // both places are given
    assert!(e.contains("first defined at"), "{e}");
}

#[test]
fn undefined_subcircuit_is_named() {
    refused_naming(
        "t\nV1 in 0 1\nR1 in 0 1k\nX1 in out nosuch\n.tran 1u 1m\n.end\n",
        &["unknown subcircuit 'nosuch'", "x1", ":4:"],
    );
}

#[test]
fn recursive_subcircuit_is_named() {
    refused_naming(
        "t\n.subckt a p\nX1 p b\n.ends\n.subckt b p\nR1 p 0 1k\nX2 p a\n.ends\nV1 in 0 1\nX0 in a\n.tran 1u 1m\n.end\n",
        &["recursive subcircuit 'a'"],
    );
}

#[test]
fn undefined_model_inside_a_subcircuit_is_named() {
    refused_naming(
        "t\n.subckt cell p\nD1 p 0 missing\n.ends\nV1 in 0 1\nR1 in a 1k\nX1 a cell\n.tran 1u 1m\n.end\n",
        &["missing", "which is not defined"],
    );
}

/// `--jacobian` chooses how Newton reuses a factorization, and `--json` says which: `never`
/// refactors at every iteration (no reuse), `within` at least once per time point, `across`
/// (the default) far less often. On random_network (398 unknowns: enough for chord steps).
/// An unknown name is a usage error (exit 2) that lists the names.
#[test]
fn jacobian_reuse_is_chosen_on_the_command_line() {
    let d = tempdir();
    let net = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ngspice/random_network.cir");
    let summary = |jacobian: Option<&str>| {
        let raw = d.path().join("run.raw");
        let mut cmd = freqprop();
        cmd.args(["simulate".as_ref(), net.as_os_str(), "--json".as_ref()])
            .args(["--no-h5".as_ref(), "--raw".as_ref(), raw.as_os_str()]);
        if let Some(j) = jacobian {
            cmd.args(["--jacobian", j]);
        }
        let r = cmd.output().unwrap();
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        let js: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
        let n = |k: &str| js[k].as_u64().unwrap();
        (
            js["jacobian"].as_str().unwrap().to_string(),
            n("factorizations"),
            n("factorization_reuses"),
            n("accepted"),
        )
    };
    let (name, factors, reuses, _) = summary(None);
    assert_eq!(name, "across");
    let across = factors;
    assert!(
        reuses > factors,
        "{factors} factorizations, {reuses} reuses"
    );
    let (name, factors, reuses, accepted) = summary(Some("within"));
    assert_eq!(name, "within");
    assert!(factors >= accepted && factors > 5 * across, "{factors}");
    assert!(reuses > 0);
    let (name, _, reuses, _) = summary(Some("never"));
    assert_eq!(name, "never");
    assert_eq!(reuses, 0);
    let r = run(&[
        "simulate".as_ref(),
        net.as_os_str(),
        "--jacobian".as_ref(),
        "sometimes".as_ref(),
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("sometimes") && r.stderr.contains("across, within, never"),
        "{}",
        r.stderr
    );
}

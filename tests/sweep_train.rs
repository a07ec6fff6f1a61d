//! `freqprop sweep` with a training base (`examples/sweep_train.toml`: XOR trained with the
//! transient engine over β × error frequency): plan, local run, the table against `freqprop
//! train` and `freqprop gradcheck` on the planned configurations, single points with other
//! thread counts giving the same bits, reruns doing nothing, and bad keys refused.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

fn exe() -> &'static str {
    env!("CARGO_BIN_EXE_freqprop")
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

fn fp(args: &[&str], threads: Option<&str>) -> Output {
    let mut c = Command::new(exe());
    c.args(args);
    if let Some(t) = threads {
        c.env("RAYON_NUM_THREADS", t);
    }
    c.output().expect("run freqprop")
}

fn ok(args: &[&str]) -> String {
    ok_threads(args, None)
}

fn ok_threads(args: &[&str], threads: Option<&str>) -> String {
    let o = fp(args, threads);
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

/// CSV rows as (header, rows of strings); numbers are compared as text (shortest round-trip
/// form), i.e. bit for bit.
fn rows(csv: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut l = csv.lines();
    let head = l.next().unwrap().split(',').map(String::from).collect();
    let body = l
        .map(|r| r.split(',').map(String::from).collect())
        .collect();
    (head, body)
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap()
}

fn num(v: &serde_json::Value, k: &str) -> String {
    let x = v[k].as_f64().unwrap_or_else(|| panic!("{k} in {v}"));
    x.to_string()
}

#[test]
fn xor_beta_freq_sweep() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = examples().join("sweep_train.toml");
    let a = tmp.path().join("a");
    let out = ok(&["sweep", "plan", s(&spec), "-o", s(&a)]);
    assert!(out.contains("planned 6 points"), "{out}");
    let manifest = std::fs::read_to_string(a.join("manifest.csv")).unwrap();
    assert_eq!(
        manifest,
        "index,transient.beta,transient.freq\n0,0.00001,1000\n1,0.00001,1000000\n\
         2,0.001,1000\n3,0.001,1000000\n4,0.03,1000\n5,0.03,1000000\n"
    );
    // Point 5's configuration: the base file, [base] set, and the axis values.
    let cfg = std::fs::read_to_string(a.join("configs/5.toml")).unwrap();
    for want in [
        "beta = 0.03\n",
        "freq = 1000000.0\n",
        "engine = \"transient\"\n",
        "epochs = 40\n",
        "capacitance = 0.000000001\n",
        "lr = 0.3\n",
        "dataset = \"xor\"\n",
    ] {
        assert!(cfg.contains(want), "{want:?} missing in\n{cfg}");
    }

    let t0 = Instant::now();
    ok(&["sweep", "local", s(&spec), "-o", s(&a), "-j", "2"]);
    let local_s = t0.elapsed().as_secs_f64();
    let table = tmp.path().join("t.h5");
    ok(&["sweep", "collect", s(&a), "-o", s(&table), "--json"]);
    let csv = std::fs::read_to_string(table.with_extension("csv")).unwrap();
    let (head, body) = rows(&csv);
    assert_eq!(
        head,
        [
            "index",
            "transient.beta",
            "transient.freq",
            "test_accuracy",
            "test_loss",
            "grad_cosine",
            "grad_rel_error"
        ]
    );
    assert_eq!(body.len(), 6, "{csv}");
    let val = |r: usize, c: usize| -> f64 { body[r][c].parse().unwrap() };
    for (r, row) in body.iter().enumerate() {
        assert_eq!(row[0], r.to_string());
        // XOR has four samples (test set = training set): accuracy is k/4.
        let acc = val(r, 3);
        assert!(
            (0.0..=1.0).contains(&acc) && (acc * 4.0).fract() == 0.0,
            "{csv}"
        );
        let loss = val(r, 4);
        assert!(loss > 0.0 && loss.is_finite(), "{csv}");
        let (cos, rel) = (val(r, 5), val(r, 6));
        assert!((-1.0..=1.0).contains(&cos) && rel >= 0.0, "{csv}");
    }
    // Small β at low frequency (ω·RC ≪ 1): the rule is the gradient up to O(β), and the run
    // learns XOR.
    assert!(val(0, 5) > 0.999_999 && val(0, 6) < 1e-4, "{csv}");
    assert_eq!(val(0, 3), 1.0, "{csv}");
    assert!(val(0, 4) < 0.5, "{csv}");
    // The error grows with β (first-order bias) ...
    assert!(val(0, 6) < val(2, 6) && val(2, 6) < val(4, 6), "{csv}");
    // ... and with frequency once the node capacitance (1 nF against ~kΩ) shifts the phase,
    // where β is small enough for the phase error to dominate. At β = 0.03 the O(β²)
    // nonlinear bias dominates at both frequencies (measured 1.09 at 1 kHz, 0.63 at 1 MHz once
    // the start-up transient is settled before the readout), so no order is asserted there.
    for r in [0, 2] {
        assert!(val(r + 1, 6) > val(r, 6), "{csv}");
    }
    assert!(val(1, 6) > 0.1, "{csv}");

    // Independent paths: `freqprop train` and `freqprop gradcheck` on the planned config of a
    // point, with more threads than the sweep uses, give the same bits.
    for r in [0, 3] {
        let c = a.join(format!("configs/{r}.toml"));
        let run = tmp.path().join(format!("run{r}.json"));
        let t = json(&ok_threads(
            &["train", s(&c), "--json", "-o", s(&run)],
            Some("2"),
        ));
        assert_eq!(num(&t, "test_accuracy"), body[r][3], "point {r}");
        assert_eq!(num(&t, "test_loss"), body[r][4], "point {r}");
        let g = json(&ok(&["gradcheck", s(&c), "--json"]));
        assert_eq!(num(&g, "cosine"), body[r][5], "point {r}");
        assert_eq!(num(&g, "rel_error"), body[r][6], "point {r}");
    }

    // Single points in another directory, as Slurm tasks run them, with other thread counts:
    // the same rows bit for bit.
    let b = tmp.path().join("b");
    for (i, threads) in [(1, "1"), (4, "3")] {
        let o = fp(
            &[
                "sweep",
                "run",
                s(&spec),
                "-o",
                s(&b),
                "--index",
                &i.to_string(),
            ],
            Some(threads),
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let tb = tmp.path().join("tb.h5");
    let o = fp(&["sweep", "collect", s(&b), "-o", s(&tb)], None);
    assert_eq!(
        o.status.code(),
        Some(1),
        "incomplete sweep: collect exits 1"
    );
    let (_, body_b) = rows(&std::fs::read_to_string(tb.with_extension("csv")).unwrap());
    assert_eq!(body_b, vec![body[1].clone(), body[4].clone()]);

    // Rerunning a complete sweep does nothing: no point file is rewritten.
    let mtimes = || -> Vec<std::time::SystemTime> {
        (0..6)
            .map(|i| {
                std::fs::metadata(a.join(format!("points/{i}.h5")))
                    .unwrap()
                    .modified()
                    .unwrap()
            })
            .collect()
    };
    let before = mtimes();
    let t1 = Instant::now();
    let out = ok(&["sweep", "local", s(&spec), "-o", s(&a)]);
    let rerun_s = t1.elapsed().as_secs_f64();
    assert!(out.contains("6 complete, 0 missing, 0 failed"), "{out}");
    assert_eq!(mtimes(), before);
    let o = fp(
        &["sweep", "run", s(&spec), "-o", s(&a), "--index", "2"],
        None,
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("already complete"));
    assert!(
        rerun_s < local_s / 2.0,
        "rerun {rerun_s:.2} s vs first run {local_s:.2} s"
    );
    eprintln!("sweep local: {local_s:.2} s for 6 points; rerun {rerun_s:.3} s");
}

#[test]
fn bad_training_specs_are_input_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let xor = examples().join("xor.toml");
    let head = format!("[base]\nkind = \"train\"\nconfig = {:?}\n", s(&xor));
    let metric = "[[metric]]\nname = \"acc\"\nkind = \"test_accuracy\"\n";
    let axis = |k: &str, v: &str| format!("[[axis]]\nparam = \"{k}\"\nvalues = [{v}]\n");
    let cases = [
        // an unknown key in a known section, and an unknown section
        (
            format!("{head}{}{metric}", axis("train.lrr", "0.1, 0.2")),
            vec!["axis 'train.lrr'", "unknown field `lrr`", "xor.toml"],
        ),
        (
            format!("{head}{}{metric}", axis("trian.lr", "0.1")),
            vec!["axis 'trian.lr'", "unknown field `trian`"],
        ),
        // a value of the wrong type for the key
        (
            format!("{head}{}{metric}", axis("train.seed", "1, 2.5")),
            vec!["point 1", "'train.seed' is an integer", "2.5"],
        ),
        (
            format!("{head}{}{metric}", axis("network.hidden", "4")),
            vec!["axis 'network.hidden'", "is an array", "network.hidden.0"],
        ),
        // a bad [base] set key
        (
            format!("{head}set = {{ \"transient.betta\" = 1.0 }}\n{metric}"),
            vec!["[base] set 'transient.betta'", "unknown field `betta`"],
        ),
        // simulation metrics and fields do not belong to a training base
        (
            format!("{head}[[metric]]\nname = \"v\"\nkind = \"final\"\nsignal = \"out\"\n"),
            vec!["metric 'v'", "is for a simulation base"],
        ),
        (
            format!("{head}[[metric]]\nname = \"a\"\nkind = \"test_accuracy\"\nsignal = \"out\"\n"),
            vec!["metric 'a': signal is not used"],
        ),
        (
            "[base]\nkind = \"train\"\n[[metric]]\nname = \"a\"\nkind = \"test_accuracy\"\n"
                .to_string(),
            vec!["needs config = "],
        ),
    ];
    for (k, (text, wants)) in cases.iter().enumerate() {
        let p = d.join(format!("s{k}.toml"));
        std::fs::write(&p, text).unwrap();
        let o = fp(&["sweep", "plan", s(&p), "-o", s(&d.join("o"))], None);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "case {k}: {err}");
        for w in wants {
            assert!(err.contains(w), "case {k}: want {w:?} in: {err}");
        }
        assert!(
            err.contains(&format!("s{k}.toml")),
            "case {k} names the spec file: {err}"
        );
        assert!(!d.join("o").exists(), "case {k}: nothing planned");
    }
}

//! `freqprop train CONFIG -o RUN.h5` writes the HDF5 run file; `--resume` continues from it
//! bit-identically; `freqprop plot RUN.h5 -o DIR` draws its figures.
//!
//! The file's contents are read with `h5ls`/`h5dump` (hdf5-tools; full precision with
//! `-m %.17g`). Without them the content checks print a note and are skipped, except under
//! `CI=true`, where that is a failure. (The library-level round trip is tested in
//! `learn::runfile`.)
use std::path::Path;
use std::process::Command;

const XOR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/xor.toml");

fn freqprop(args: &[&str], cwd: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_freqprop"))
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "freqprop {args:?} failed: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn tools_available() -> bool {
    let ok = Command::new("h5dump").arg("--version").output().is_ok()
        && Command::new("h5ls").arg("--version").output().is_ok();
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "h5dump/h5ls are required under CI"
        );
        eprintln!("note: h5dump/h5ls not found; skipping the run-file content checks");
    }
    ok
}

/// `name -> shape` of every dataset (`h5ls -r`).
fn shapes(file: &Path) -> Vec<(String, String)> {
    let out = Command::new("h5ls").arg("-r").arg(file).output().unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let name = it.next()?.to_string();
            (it.next()? == "Dataset").then(|| (name, it.collect::<Vec<_>>().join(" ")))
        })
        .collect()
}

/// Values of a dataset at full precision.
fn values(file: &Path, ds: &str) -> Vec<f64> {
    let out = Command::new("h5dump")
        .args(["-m", "%.17g", "-y", "-w", "0", "-d", ds])
        .arg(file)
        .output()
        .unwrap();
    assert!(out.status.success(), "h5dump -d {ds}");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let data = text.split("DATA {").nth(1).expect("a DATA block");
    let data = data.split('}').next().unwrap();
    data.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<f64>().unwrap_or_else(|_| panic!("{ds}: {s:?}")))
        .collect()
}

#[test]
fn train_writes_resumable_h5_run_file_and_plot_draws_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // interrupted: 2 epochs, then resume to 4; uninterrupted: 4 epochs
    freqprop(&["train", XOR, "-o", "a.h5", "--epochs", "2", "--json"], d);
    let tools = tools_available();
    if tools {
        let s = shapes(&d.join("a.h5"));
        let get = |n: &str| {
            s.iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("no dataset {n} in {s:?}"))
        };
        // examples/xor.toml: 2 inputs (± pairs) and a bias, 4 hidden nodes, 2 outputs
        let n: usize = get("/names")
            .trim_matches(|c| c == '{' || c == '}')
            .parse()
            .unwrap();
        assert!(n > 10, "{n} trainable resistors");
        assert_eq!(get("/conductances"), format!("{{3, {n}}}"));
        assert_eq!(get("/config"), "{SCALAR}");
        assert_eq!(get("/checkpoint"), "{SCALAR}");
        for h in [
            "epoch",
            "train_loss",
            "test_loss",
            "train_accuracy",
            "test_accuracy",
            "seconds",
        ] {
            assert_eq!(get(&format!("/history/{h}")), "{2}", "{h}");
        }
        for k in 0..2 {
            // 32 points per period, one period; the magnitude spectrum has 17 bins
            assert_eq!(get(&format!("/samples/{k}/time")), "{32}");
            let nodes = get(&format!("/samples/{k}/nodes"));
            let m: usize = nodes
                .trim_matches(|c| c == '{' || c == '}')
                .parse()
                .unwrap();
            assert_eq!(
                get(&format!("/samples/{k}/voltages")),
                format!("{{32, {m}}}")
            );
            assert_eq!(get(&format!("/samples/{k}/drops")), format!("{{32, {n}}}"));
            assert_eq!(get(&format!("/samples/{k}/activation")), format!("{{{n}}}"));
            assert_eq!(get(&format!("/samples/{k}/error")), format!("{{{n}}}"));
            assert_eq!(
                get(&format!("/samples/{k}/spectra")),
                format!("{{17, {n}}}")
            );
        }
        assert_eq!(values(&d.join("a.h5"), "/history/epoch"), vec![1.0, 2.0]);
        assert_eq!(values(&d.join("a.h5"), "/samples/0/freq"), vec![1000.0]);
    }
    freqprop(
        &["train", XOR, "-o", "a.h5", "--epochs", "4", "--resume"],
        d,
    );
    freqprop(&["train", XOR, "-o", "b.h5", "--epochs", "4"], d);
    // the JSON checkpoint path still works next to it
    freqprop(
        &["train", XOR, "-o", "c.json", "--epochs", "4", "--json"],
        d,
    );
    let ck: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("c.json")).unwrap()).unwrap();
    assert_eq!(ck["epoch"], 4);
    if tools {
        let a = values(&d.join("a.h5"), "/conductances");
        let b = values(&d.join("b.h5"), "/conductances");
        let n = ck["conductances"].as_array().unwrap().len();
        assert_eq!(a.len(), 5 * n);
        let ab: Vec<u64> = a.iter().map(|x| x.to_bits()).collect();
        let bb: Vec<u64> = b.iter().map(|x| x.to_bits()).collect();
        assert_eq!(ab, bb, "resumed run differs from the uninterrupted one");
        // the last row is the JSON run's final state, bit for bit
        let last: Vec<u64> = ck["conductances"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap().to_bits())
            .collect();
        assert_eq!(&ab[4 * n..], &last[..]);
        assert_ne!(&ab[..n], &ab[4 * n..], "training changed the conductances");
        assert_eq!(
            values(&d.join("a.h5"), "/history/epoch"),
            vec![1.0, 2.0, 3.0, 4.0]
        );
    }
    let out = freqprop(&["plot", "a.h5", "-o", "figs"], d);
    for f in [
        "learning_curves.png",
        "conductances_epoch_0.png",
        "conductances_epoch_2.png",
        "conductances_epoch_4.png",
        "sample_0_resistor.png",
        "sample_1_resistor.png",
    ] {
        let p = d.join("figs").join(f);
        let b = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}\n{out}", p.display()));
        assert!(b.starts_with(b"\x89PNG") && b.len() > 2000, "{f}");
    }
}

#[test]
fn resume_from_a_foreign_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.h5"), "not hdf5").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_freqprop"))
        .args(["train", XOR, "-o", "x.h5", "--resume"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("x.h5") && !stderr.contains("panicked"),
        "{stderr}"
    );
}

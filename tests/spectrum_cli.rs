//! `freqprop spectrum` end to end on a CSV trace with known coefficients.

use std::f64::consts::PI;
use std::process::Command;

fn write_trace(path: &std::path::Path) {
    // v(a) = 0.1 + 2 cos(2π·1k·t + 30°) + 0.5 cos(2π·1.5k·t − 60°), uneven steps over 6 ms.
    let mut s = String::from("time,v(a),v(b)\n");
    let mut t: f64 = 0.0;
    let mut k = 0u64;
    while t <= 6e-3 + 1e-12 {
        let a = 0.1
            + 2.0 * (2.0 * PI * 1e3 * t + 30f64.to_radians()).cos()
            + 0.5 * (2.0 * PI * 1.5e3 * t - 60f64.to_radians()).cos();
        s.push_str(&format!("{t:.17e},{a:.17e},{:.17e}\n", 0.5 * a));
        k += 1;
        t += 1e-6 * (1.0 + 0.5 * ((k % 3) as f64 - 1.0));
    }
    std::fs::write(path, s).unwrap();
}

#[test]
fn json_readout_of_csv() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("two_tone.csv");
    write_trace(&csv);
    let png = dir.path().join("spec.png");
    let out = Command::new(env!("CARGO_BIN_EXE_freqprop"))
        .args([
            "spectrum",
            csv.to_str().unwrap(),
            "--node",
            "a",
            "--node",
            "v(b)",
        ])
        .args([
            "--freq", "1000", "--freq", "1500", "--freq", "0", "--json", "--plot",
        ])
        .arg(&png)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 6);
    let want = [(1000.0, 2.0, 30.0), (1500.0, 0.5, -60.0), (0.0, 0.1, 0.0)];
    for (i, row) in rows.iter().enumerate() {
        let obj = row.as_object().unwrap();
        let mut keys: Vec<&str> = obj.keys().map(|k| k.as_str()).collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "amplitude",
                "freq",
                "in_phase",
                "node",
                "phase_deg",
                "quadrature"
            ]
        );
        let scale = if i < 3 { 1.0 } else { 0.5 };
        assert_eq!(obj["node"], if i < 3 { "a" } else { "v(b)" });
        let (f, a, p) = want[i % 3];
        assert_eq!(obj["freq"].as_f64().unwrap(), f);
        let amp = obj["amplitude"].as_f64().unwrap();
        assert!((amp - a * scale).abs() < 1e-7 * a, "{row}");
        let ph = obj["phase_deg"].as_f64().unwrap();
        assert!((ph - p).abs() < 1e-5, "{row}");
        let ip = obj["in_phase"].as_f64().unwrap();
        assert!(
            (ip - a * scale * p.to_radians().cos()).abs() < 1e-7,
            "{row}"
        );
    }
    let png_bytes = std::fs::read(&png).unwrap();
    assert_eq!(&png_bytes[1..4], b"PNG");
}

#[test]
fn harmonics_table_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("two_tone.csv");
    write_trace(&csv);
    let bin = env!("CARGO_BIN_EXE_freqprop");
    let out = Command::new(bin)
        .args([
            "spectrum",
            csv.to_str().unwrap(),
            "--node",
            "a",
            "--freq",
            "1000",
            "--freq",
            "1500",
        ])
        .args(["--harmonics", "3"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("harmonics of 1000 Hz"), "{text}");
    assert!(text.contains("coherent window"), "{text}");
    // Missing node: exit 2 naming the node and the signals present.
    let out = Command::new(bin)
        .args([
            "spectrum",
            csv.to_str().unwrap(),
            "--node",
            "zz",
            "--freq",
            "1000",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("zz") && err.contains("v(a)"), "{err}");
    // Window longer than the record: exit 2 with the spans.
    let out = Command::new(bin)
        .args([
            "spectrum",
            csv.to_str().unwrap(),
            "--node",
            "a",
            "--freq",
            "100",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not cover"));
}

//! `freqprop demo`: the main job on embedded defaults trains Iris with the transient engine,
//! reports test accuracy and gradient fidelity, and writes the run file and figures.
use std::process::Command;

#[test]
fn demo_trains_iris_and_writes_figures() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_freqprop"))
        .args(["demo", "--json", "-o"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "demo failed: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // measured with the defaults (seed 1, 40 epochs): test accuracy 96.7%, cosine 1.000000,
    // relative error 3.4e-9 at beta = 1e-5 S
    let acc = j["test_accuracy"].as_f64().unwrap();
    assert!(acc >= 0.9, "test accuracy {acc}");
    let cos = j["gradcheck"]["cosine"].as_f64().unwrap();
    let rel = j["gradcheck"]["rel_error"].as_f64().unwrap();
    assert!(
        cos > 0.9999 && rel < 1e-6,
        "gradient fidelity: cosine {cos}, relative error {rel}"
    );
    assert_eq!(j["epochs"].as_u64(), Some(40));
    for f in j["figures"].as_array().unwrap() {
        let p = f.as_str().unwrap();
        let b = std::fs::read(p).unwrap();
        assert!(b.starts_with(b"\x89PNG") && b.len() > 2000, "{p}");
    }
    let run = std::fs::read_to_string(dir.path().join("run.json")).unwrap();
    let r: serde_json::Value = serde_json::from_str(&run).unwrap();
    assert_eq!(r["epoch"].as_u64(), Some(40));
}

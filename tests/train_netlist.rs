//! Training a user netlist named in the configuration (examples/xor_netlist.toml): the
//! trainable resistors, input sources and output nodes come from the netlist by name.
use std::process::Command;

#[test]
fn xor_netlist_learns_with_the_adjoint_engine() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run.h5");
    let cfg = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/xor_netlist.toml");
    let out = Command::new(env!("CARGO_BIN_EXE_freqprop"))
        .args(["train", cfg, "--json", "-o"])
        .arg(&run)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // measured: accuracy 1.0, loss 0.0093 after 150 epochs (seed 1)
    assert_eq!(j["test_accuracy"].as_f64(), Some(1.0), "{j}");
    assert!(j["test_loss"].as_f64().unwrap() < 0.05, "{j}");
    assert!(run.exists());
}

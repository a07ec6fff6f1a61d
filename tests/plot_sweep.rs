//! `freqprop plot TABLE.h5` draws a sweep metric against the swept parameters (lines, and a
//! heat map for two parameters); an unknown metric is an input error naming the choices.
use std::process::Command;

fn freqprop(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_freqprop"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn sweep_table_plots() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("sw");
    let spec = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/sweep.toml");
    let o = freqprop(&["sweep", "local", spec, "-o", d.to_str().unwrap(), "-j", "2"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let table = d.join("table.h5");
    let o = freqprop(&[
        "sweep",
        "collect",
        d.to_str().unwrap(),
        "-o",
        table.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let png = dir.path().join("amp.png");
    let o = freqprop(&[
        "plot",
        table.to_str().unwrap(),
        "-o",
        png.to_str().unwrap(),
        "--metric",
        "amp_f1",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for p in [png.clone(), dir.path().join("amp_heatmap.png")] {
        let b = std::fs::read(&p).unwrap();
        assert!(
            b.starts_with(b"\x89PNG") && b.len() > 2000,
            "{}",
            p.display()
        );
    }
    let o = freqprop(&["plot", table.to_str().unwrap(), "--metric", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no metric nope; the table has amp_f1"));
}

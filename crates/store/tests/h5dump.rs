//! HDF5 files written by the store are readable by `h5dump` (HDF5's own tool).

mod common;

use circuit::{Signal, WaveSink};
use store::h5::H5WaveWriter;

#[test]
fn h5dump_reads_our_files() {
    if !common::require_tool("h5dump", "-V") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.h5");
    let mut w = H5WaveWriter::create(&path).unwrap().with_flush_every(3);
    w.set_netlist("* net\nR1 a 0 1k\n.end\n").unwrap();
    w.begin(
        "dump test",
        "Transient Analysis",
        &[Signal::voltage("a"), Signal::current("v1")],
    )
    .unwrap();
    for k in 0..7 {
        w.push(k as f64 * 0.5, &[k as f64, -(k as f64) * 0.25])
            .unwrap();
    }
    w.set_summary_json("{\"ok\":true}").unwrap();
    w.finish().unwrap();

    let out = std::process::Command::new("h5dump")
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "h5dump failed: {}{}",
        text,
        String::from_utf8_lossy(&out.stderr)
    );
    for needle in [
        "DATASET \"time\"",
        "DATASPACE  SIMPLE { ( 7 ) / ( H5S_UNLIMITED ) }",
        "DATASET \"signals\"",
        "DATASPACE  SIMPLE { ( 7, 2 ) / ( H5S_UNLIMITED, H5S_UNLIMITED ) }",
        "\"v(a)\", \"i(v1)\"",
        "\"voltage\", \"current\"",
        "\"complete\"",
        "\"dump test\"",
        "{\"ok\":true}",
    ] {
        assert!(
            text.contains(needle),
            "h5dump output lacks {needle:?}:\n{text}"
        );
    }
    // Values of /signals, row by row.
    let out = std::process::Command::new("h5dump")
        .args(["-d", "/signals", "-y", "-w", "0"])
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let data = text
        .split("DATA {")
        .nth(1)
        .unwrap()
        .split('}')
        .next()
        .unwrap();
    let nums: Vec<f64> = data
        .split([',', '\n', ' '])
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse().unwrap())
        .collect();
    let want: Vec<f64> = (0..7)
        .flat_map(|k| [k as f64, -(k as f64) * 0.25])
        .collect();
    assert_eq!(nums, want);
}

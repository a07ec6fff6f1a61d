//! `freqprop spectrum --save` stores the coefficients beside the waveforms in the HDF5 file,
//! keeps the waveforms intact, and refuses files that are not freqprop HDF5.
use std::process::Command;

fn freqprop() -> Command {
    Command::new(env!("CARGO_BIN_EXE_freqprop"))
}

#[test]
fn saved_spectra_read_back_next_to_the_waveforms() {
    let dir = tempfile::tempdir().unwrap();
    let deck = dir.path().join("div.cir");
    // 1 kHz sine of 2 V amplitude, phase 30° (sine-referenced: cos phase = 30 - 90 = -60°),
    // through an exact divider by 4
    std::fs::write(
        &deck,
        "divider\nV1 in 0 SIN(0.5 2 1k 0 0 30)\nR1 in out 3k\nR2 out 0 1k\n.tran 10u 3m\n.end\n",
    )
    .unwrap();
    let h5 = dir.path().join("div.h5");
    let st = freqprop()
        .arg("simulate")
        .arg(&deck)
        .arg("-o")
        .arg(&h5)
        .arg("--exact-grid")
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let before = store::read_any(&h5).unwrap();
    let st = freqprop()
        .args(["spectrum"])
        .arg(&h5)
        .args([
            "--node", "out", "--freq", "0", "--freq", "1000", "--save", "--json",
        ])
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let recs = store::h5::read_spectra(&h5).unwrap();
    assert_eq!(recs.len(), 1);
    let r = &recs[0];
    assert_eq!(r.signal, "v(out)");
    assert_eq!(r.freq, vec![0.0, 1000.0]);
    assert!((r.in_phase[0] - 0.125).abs() < 1e-9, "DC {}", r.in_phase[0]);
    assert!(
        (r.amplitude[1] - 0.5).abs() < 1e-6 * 0.5,
        "amplitude {}",
        r.amplitude[1]
    );
    assert!(
        (r.phase_deg[1] - (-60.0)).abs() < 1e-4,
        "phase {}",
        r.phase_deg[1]
    );
    // the waveforms are untouched
    assert_eq!(store::read_any(&h5).unwrap(), before);
    // a rawfile is refused with exit 2
    let raw = dir.path().join("div.raw");
    store::raw::write_waveforms_raw(&raw, &before, store::raw::RawFormat::Binary).unwrap();
    let st = freqprop()
        .arg("spectrum")
        .arg(&raw)
        .args(["--node", "out", "--freq", "1000", "--save"])
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&st.stderr).contains("--save needs a freqprop HDF5 file"));
}

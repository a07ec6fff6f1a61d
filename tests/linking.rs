//! How the `freqprop` binary is linked: HDF5 from the system's static archive when
//! libhdf5-dev installs one (crates/store/build.rs), so that a run does not load the shared
//! libhdf5 and the 32 libraries it pulls in (libcurl, OpenSSL, GnuTLS, Kerberos, LDAP, ...):
//! about 5 ms of CPU per process, as long as a small deck's whole simulation.
//!
//! Needs `readelf` (binutils, installed with the C toolchain the Rust linker uses) and
//! `pkg-config`. Without the archive the test prints a note and passes, except under
//! `CI=true`, where the setup installs libhdf5-dev and its absence is a failure.

use std::path::PathBuf;
use std::process::Command;

/// The `-L` directory of pkg-config's `hdf5` holding `libhdf5.a`, if any.
fn hdf5_archive_dir() -> Option<PathBuf> {
    let out = Command::new("pkg-config")
        .args(["--libs-only-L", "hdf5"])
        .output()
        .ok()?;
    String::from_utf8(out.stdout)
        .ok()?
        .split_whitespace()
        .filter_map(|w| w.strip_prefix("-L"))
        .map(PathBuf::from)
        .find(|d| d.join("libhdf5.a").is_file())
}

#[test]
fn hdf5_comes_from_the_static_archive_and_libcurl_is_not_loaded() {
    // (every test that writes or reads an HDF5 file exercises the library linked this way)
    let ci = std::env::var("CI").as_deref() == Ok("true");
    for var in ["FREQPROP_HDF5_DYNAMIC", "HDF5_DIR"] {
        if std::env::var_os(var).is_some_and(|v| v != "0") {
            assert!(!ci, "{var} is set under CI=true");
            eprintln!("note: {var} set, HDF5 linked as a shared library");
            return;
        }
    }
    let Some(dir) = hdf5_archive_dir() else {
        assert!(
            !ci,
            "CI=true but pkg-config names no directory with libhdf5.a"
        );
        eprintln!("note: no libhdf5.a found through pkg-config, HDF5 linked as a shared library");
        return;
    };
    let exe = env!("CARGO_BIN_EXE_freqprop");
    let out = Command::new("readelf")
        .args(["--dynamic", exe])
        .output()
        .expect("readelf (binutils) runs");
    assert!(out.status.success(), "readelf --dynamic {exe} failed");
    let text = String::from_utf8_lossy(&out.stdout);
    let needed: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(|l| l.split('[').nth(1)?.split(']').next())
        .collect();
    assert!(
        needed.iter().any(|l| l.starts_with("libc.so")),
        "readelf output not understood: {text}"
    );
    for lib in &needed {
        assert!(
            !lib.starts_with("libhdf5") && !lib.starts_with("libcurl"),
            "{exe} needs {lib}, though {} holds libhdf5.a: {needed:?}",
            dir.display()
        );
    }
}

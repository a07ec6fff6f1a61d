//! Link the system's HDF5 statically when its archive is installed.
//!
//! Debian's libhdf5-dev ships `libhdf5.a` beside `libhdf5.so`. hdf5-metno-sys asks for
//! `-lhdf5` from the directory pkg-config names, where the linker prefers the shared library;
//! that library pulls in 32 more (libcurl for its read-only S3 driver, and through it
//! OpenSSL, GnuTLS, Kerberos, LDAP, libssh2, ...), whose loading, relocation and constructors
//! cost every freqprop process about 5 ms of CPU before `main` (measured with `perf stat` on a
//! C program that only creates a file: 7.7 ms dynamic, 2.3 ms static), as long as a small
//! deck's whole simulation. The archive is the same library, version and build; linked from
//! it, only the objects HDF5's file API uses come in (no S3 driver, so no libcurl).
//!
//! How: a directory in `OUT_DIR` holding only a link to the archive goes on the linker's
//! search path ahead of the system one, so that `-lhdf5` finds `libhdf5.a` there first; the
//! archive's own dependencies (`Extra libraries` of `libhdf5.settings`, less libcurl and
//! libcrypto) are linked as shared libraries. Without the archive, with `HDF5_DIR` set (a
//! cluster's HDF5 module: its archive may not be position-independent, or may need MPI), or
//! with `FREQPROP_HDF5_DYNAMIC=1`, nothing changes and HDF5 is linked as the shared library.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    // direct chunk writes (H5Dwrite_chunk) from HDF5 1.10.3, as hdf5-metno-sys found it
    println!("cargo::rustc-check-cfg=cfg(hdf5_direct_chunk)");
    if env::var_os("DEP_HDF5_VERSION_1_10_3").is_some() {
        println!("cargo::rustc-cfg=hdf5_direct_chunk");
    }
    println!("cargo::rerun-if-env-changed=FREQPROP_HDF5_DYNAMIC");
    println!("cargo::rerun-if-env-changed=HDF5_DIR");
    println!("cargo::rerun-if-env-changed=PKG_CONFIG_PATH");
    if env::var_os("FREQPROP_HDF5_DYNAMIC").is_some_and(|v| v != "0")
        || env::var_os("HDF5_DIR").is_some()
        || env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux")
    {
        return;
    }
    let Some(libdir) = hdf5_libdir() else {
        return;
    };
    let archive = libdir.join("libhdf5.a");
    if !archive.is_file() {
        return;
    }
    let Ok(out) = env::var("OUT_DIR") else {
        return;
    };
    let dir = PathBuf::from(out).join("hdf5-static");
    let link = dir.join("libhdf5.a");
    let _ = fs::remove_file(&link);
    if fs::create_dir_all(&dir).is_err() || symlink(&archive, &link).is_err() {
        return;
    }
    println!("cargo::rerun-if-changed={}", archive.display());
    println!("cargo::rustc-link-search=native={}", dir.display());
    for lib in extra_libraries(&libdir) {
        println!("cargo::rustc-link-lib=dylib={lib}");
    }
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn symlink(target: &Path, link: &Path) -> std::io::Result<()> {
    fs::copy(target, link).map(|_| ())
}

/// The directory hdf5-metno-sys links from when it finds HDF5 through pkg-config: the `-L`
/// directory of `hdf5` that holds the library (Debian: `/usr/lib/x86_64-linux-gnu/hdf5/serial`).
fn hdf5_libdir() -> Option<PathBuf> {
    let out = Command::new("pkg-config")
        .args(["--libs-only-L", "hdf5"])
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    String::from_utf8(out.stdout)
        .ok()?
        .split_whitespace()
        .filter_map(|w| w.strip_prefix("-L"))
        .map(PathBuf::from)
        .find(|d| d.join("libhdf5.so").exists() || d.join("libhdf5.a").exists())
}

/// The archive's dependencies from `libhdf5.settings` (`Extra libraries: -lcrypto -lcurl
/// -lpthread -lsz -lz -ldl -lm` on Debian 12), without libcurl and libcrypto, which only the
/// S3 driver uses; when the settings are missing, Debian's list.
fn extra_libraries(libdir: &Path) -> Vec<String> {
    let settings = fs::read_to_string(libdir.join("libhdf5.settings")).unwrap_or_default();
    let listed = settings
        .lines()
        .find_map(|l| l.trim().strip_prefix("Extra libraries:"))
        .map(|l| {
            l.split_whitespace()
                .filter_map(|w| w.strip_prefix("-l"))
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .unwrap_or_else(|| ["sz", "z", "m"].map(str::to_string).to_vec());
    listed
        .into_iter()
        .filter(|l| l != "curl" && l != "crypto")
        .collect()
}

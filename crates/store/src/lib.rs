//! # store
//!
//! Waveform storage for freqprop:
//!
//! - [`raw`]: SPICE rawfiles as ngspice writes and reads them (binary and ASCII, real and
//!   complex, several plots per file), with a streaming [`raw::RawWaveWriter`].
//! - [`h5`]: HDF5 files streamed during a run by [`h5::H5WaveWriter`] (a
//!   [`circuit::WaveSink`]) in chunked, extendible datasets; see the module for the layout.
//! - [`csv`]: simple CSV traces (`time,v(a),...`).
//! - [`read_any`]: read any of the three, chosen by the file's content.
//! - [`atomic`]: every writer writes `<path>.tmp-<pid>` and renames it into place.
//!
//! Errors ([`StoreError`]) name the file and the header line, point/variable, dataset or
//! CSV line and column concerned; readers never panic on malformed input.
//!
//! ```
//! use circuit::{Signal, WaveSink, Waveforms};
//! use store::{h5::H5WaveWriter, raw::{write_waveforms_raw, RawFormat}};
//!
//! let dir = tempfile::tempdir()?;
//! // Stream a run into HDF5.
//! let h5_path = dir.path().join("run.h5");
//! let mut sink = H5WaveWriter::create(&h5_path)?;
//! sink.set_netlist("* divider\nV1 in 0 1\nR1 in out 1k\nR2 out 0 1k\n.tran 1u 3u\n.end\n")?;
//! sink.begin("divider", "Transient Analysis", &[Signal::voltage("out"), Signal::current("v1")])?;
//! for k in 0..4 {
//!     sink.push(k as f64 * 1e-6, &[0.5, -0.5e-3])?;
//! }
//! sink.finish()?;
//!
//! // Read it back, write it as an ngspice rawfile, and read that by content.
//! let w: Waveforms = store::read_any(&h5_path)?;
//! assert_eq!(w.signal("v(out)").unwrap(), &[0.5; 4]);
//! let raw_path = dir.path().join("run.raw");
//! write_waveforms_raw(&raw_path, &w, RawFormat::Binary)?;
//! let back = store::read_any(&raw_path)?;
//! assert_eq!(back.signals[1].name, "i(v1)");
//! assert_eq!(back.time, w.time);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::Read;
use std::path::Path;

pub mod atomic;
pub mod csv;
pub mod error;
pub mod h5;
pub mod raw;

pub use error::{DataPosition, Result, StoreError};

/// The kind of a trace file, as recognised from its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceKind {
    /// HDF5 (starts with `\x89HDF\r\n\x1a\n`).
    Hdf5,
    /// SPICE rawfile (starts with `Title:`).
    Raw,
    /// Anything else is read as CSV.
    Csv,
}

/// Recognise a trace file by its first bytes.
pub fn detect_kind(path: impl AsRef<Path>) -> Result<TraceKind> {
    let path = path.as_ref();
    let mut f = std::fs::File::open(path).map_err(|e| StoreError::io(path, e))?;
    let mut head = [0u8; 64];
    let mut n = 0;
    while n < head.len() {
        match f.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(StoreError::io(path, e)),
        }
    }
    Ok(kind_of(&head[..n]))
}

fn kind_of(head: &[u8]) -> TraceKind {
    if head.starts_with(b"\x89HDF\r\n\x1a\n") {
        return TraceKind::Hdf5;
    }
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let start = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(head.len());
    if head[start..].len() >= 6 && head[start..start + 6].eq_ignore_ascii_case(b"title:") {
        TraceKind::Raw
    } else {
        TraceKind::Csv
    }
}

/// Read a trace file (freqprop HDF5, SPICE rawfile or CSV) into [`circuit::Waveforms`],
/// choosing the reader by content. For rawfiles the first real plot with a `time` scale is
/// taken.
pub fn read_any(path: impl AsRef<Path>) -> Result<circuit::Waveforms> {
    let path = path.as_ref();
    match detect_kind(path)? {
        TraceKind::Hdf5 => h5::read_waveforms(path),
        TraceKind::Raw => raw::read_raw_waveforms(path),
        TraceKind::Csv => csv::read_csv(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(kind_of(b"\x89HDF\r\n\x1a\n\0\0"), TraceKind::Hdf5);
        assert_eq!(kind_of(b"Title: x\n"), TraceKind::Raw);
        assert_eq!(kind_of(b"\n  title: x\n"), TraceKind::Raw);
        assert_eq!(kind_of(b"time,v(a)\n"), TraceKind::Csv);
        assert_eq!(kind_of(b""), TraceKind::Csv);
    }
}

//! A long run streamed to HDF5 is never held in memory and reads back by column.
//! Timing printed with `--nocapture`.

use circuit::{Signal, WaveSink};
use store::h5::{H5Reader, H5WaveWriter};

#[test]
fn million_points_stream_and_column_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.h5");
    let signals: Vec<Signal> = (0..8).map(|k| Signal::voltage(&format!("n{k}"))).collect();
    let n = 1_000_000usize;
    let t0 = std::time::Instant::now();
    let mut w = H5WaveWriter::create(&path).unwrap();
    w.begin("big", "Transient Analysis", &signals).unwrap();
    let mut row = [0.0f64; 8];
    for i in 0..n {
        let t = i as f64 * 1e-9;
        for (k, r) in row.iter_mut().enumerate() {
            *r = (i * (k + 1)) as f64;
        }
        w.push(t, &row).unwrap();
    }
    w.finish().unwrap();
    let write = t0.elapsed();
    let t1 = std::time::Instant::now();
    let r = H5Reader::open(&path).unwrap();
    let col = r.column("n5").unwrap();
    let read_col = t1.elapsed();
    assert_eq!(col.len(), n);
    assert_eq!(col[n - 1], ((n - 1) * 6) as f64);
    let t2 = std::time::Instant::now();
    let all = r.waveforms().unwrap();
    let read_all = t2.elapsed();
    assert_eq!(all.data[7][12345], (12345 * 8) as f64);
    assert_eq!(all.time[n - 1], (n - 1) as f64 * 1e-9);
    let size = std::fs::metadata(&path).unwrap().len();
    eprintln!(
        "1e6 points x 8 signals: write {write:?}, read one column {read_col:?}, read all {read_all:?}, file {} MB",
        size / 1_000_000
    );
}

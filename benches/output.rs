//! Benchmark of the HDF5 waveform writer's block write: 1,024 points of 306 signals (the
//! random diode network of the ngspice corpus) and of 900 signals (mesh30) pushed into an
//! `H5WaveWriter`, which transposes the block into one 1,024-point chunk per signal and writes
//! the chunks directly. `freqprop simulate` does this on its writer thread for every full
//! block, and on the main thread, after the transient, for the last one.
//!
//! `cargo bench --bench output`
use circuit::{Signal, WaveSink};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::time::{Duration, Instant};
use store::h5::H5WaveWriter;

/// Points per block: those of `freqprop simulate`.
const BLOCK: usize = cli::simulate::STREAM_CHUNK_POINTS;

fn block_write(c: &mut Criterion) {
    let mut g = c.benchmark_group("hdf5 block write");
    for m in [306usize, 900] {
        let dir = tempfile::tempdir().unwrap();
        let signals: Vec<Signal> = (0..m).map(|k| Signal::voltage(&format!("n{k}"))).collect();
        let rows: Vec<Vec<f64>> = (0..BLOCK)
            .map(|i| (0..m).map(|k| (i * m + k) as f64 * 1e-3).collect())
            .collect();
        g.throughput(Throughput::Bytes((BLOCK * m * 8) as u64));
        g.bench_function(format!("{BLOCK} points x {m} signals"), |b| {
            b.iter_custom(|iters| {
                // one file per sample, growing by a block per iteration; creating and
                // closing it is not timed
                let mut w = H5WaveWriter::create(dir.path().join("w.h5"))
                    .unwrap()
                    .with_flush_every(BLOCK);
                w.begin("bench", "Transient Analysis", &signals).unwrap();
                let mut t = 0.0;
                let start = Instant::now();
                for _ in 0..iters {
                    for row in &rows {
                        w.push(t, row).unwrap();
                        t += 1e-6;
                    }
                }
                let spent = start.elapsed();
                w.finish().unwrap();
                spent
            })
        });
    }
    g.finish();
}

criterion_group!(
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .measurement_time(Duration::from_secs(3));
    targets = block_write
);
criterion_main!(benches);

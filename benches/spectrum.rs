//! Benchmarks of the spectral readout: direct (cos/sin tables) vs FFT for one waveform, and
//! the batched readout of a time × resistors matrix (the learner's hot path).
//!
//! `cargo bench --bench spectrum`; set `SPECTRUM_BENCH_SIGNALS` to change the batch width
//! (default 10,000 signals × 4,096 samples, 328 MB).

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use spectrum::{Layout, Method, Readout};

fn waveform(n: usize, seed: usize) -> Vec<f64> {
    (0..n)
        .map(|i| {
            let t = i as f64 / n as f64;
            (2.0 * std::f64::consts::PI * (4.0 * t + seed as f64 * 0.01)).cos()
                + 0.3 * (2.0 * std::f64::consts::PI * 5.0 * t).sin()
        })
        .collect()
}

fn single(c: &mut Criterion) {
    let n = 4096;
    let dt = 1.0 / (1e3 * n as f64 / 4.0); // window = 4 ms: 1 kHz = bin 4
    let x = waveform(n, 0);
    let mut g = c.benchmark_group("single_4096");
    for nf in [1usize, 2, 4, 8, 16, 32] {
        let freqs: Vec<f64> = (0..nf).map(|k| 250.0 * (4 + k) as f64).collect();
        for method in [Method::Direct, Method::Fft] {
            let r = Readout::with_method(n, dt, &freqs, method).unwrap();
            let mut out = r.read(&x, 0.0).unwrap();
            let mut scratch = r.scratch();
            g.bench_with_input(BenchmarkId::new(format!("{method:?}"), nf), &nf, |b, _| {
                b.iter(|| {
                    r.read_into(black_box(&x), 0.0, &mut out, &mut scratch)
                        .unwrap()
                })
            });
        }
    }
    g.finish();
}

fn batch(c: &mut Criterion) {
    let n = 4096;
    let ns: usize = std::env::var("SPECTRUM_BENCH_SIGNALS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let dt = 1.0 / (1e3 * n as f64 / 4.0);
    let freqs = [1e3, 1.25e3];
    let mut data = vec![0.0; n * ns];
    let w = waveform(n, 1);
    for i in 0..n {
        for s in 0..ns {
            data[i * ns + s] = w[i] * (1.0 + s as f64 * 1e-4);
        }
    }
    let mut g = c.benchmark_group(format!("batch_{ns}x{n}"));
    g.sample_size(10);
    g.throughput(Throughput::Bytes((n * ns * 8) as u64));
    for method in [Method::Direct, Method::Fft] {
        let r = Readout::with_method(n, dt, &freqs, method).unwrap();
        let mut out = r.batch(&data, ns, Layout::TimeMajor, 0.0).unwrap();
        g.bench_function(format!("time_major_{method:?}"), |b| {
            b.iter(|| {
                r.batch_into(black_box(&data), ns, Layout::TimeMajor, 0.0, &mut out)
                    .unwrap()
            })
        });
    }
    let r = Readout::with_method(n, dt, &freqs, Method::Direct).unwrap();
    let mut out = r.batch(&data, ns, Layout::SignalMajor, 0.0).unwrap();
    g.bench_function("signal_major_Direct", |b| {
        b.iter(|| {
            r.batch_into(black_box(&data), ns, Layout::SignalMajor, 0.0, &mut out)
                .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, single, batch);
criterion_main!(benches);

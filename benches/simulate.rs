//! Benchmarks of the simulator's hot paths: numeric factorization (static-pivot LU and faer's
//! partial-pivoting LU) of a grid Laplacian; assembly (one full device load of a diode mesh);
//! one time step of the diode mesh of the scale measurement; whole transient runs of corpus
//! decks; and one training example with each gradient engine on the Iris and digits networks.
//! (The batched spectral readout is in benches/spectrum.rs, the HDF5 writer's block write in
//! benches/output.rs.)
//!
//! `cargo bench --bench simulate` (a subset: `cargo bench --bench simulate -- assembly`)
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::path::Path;
use std::time::Duration;
use transient::matrix::{FaerLu, PatternBuilder};

#[path = "../examples/scale/mesh.rs"]
mod mesh;

/// The scale measurement's diode mesh (examples/scale/mesh.rs), `side × side`, with a deck of
/// `steps` steps of 1 µs.
fn mesh_circuit(side: usize, drive: &str, steps: usize) -> circuit::Circuit {
    circuit::parse_str(&mesh::mesh_deck_steps(side, drive, steps), "mesh.cir").unwrap()
}

/// Keeps the last point pushed, as a solution vector indexed by unknown.
struct LastPoint {
    map: Vec<(usize, usize)>,
    x: Vec<f64>,
}

impl circuit::WaveSink for LastPoint {
    type Error = std::convert::Infallible;
    fn begin(&mut self, _: &str, _: &str, _: &[circuit::Signal]) -> Result<(), Self::Error> {
        Ok(())
    }
    fn push(&mut self, _: f64, values: &[f64]) -> Result<(), Self::Error> {
        for &(col, unknown) in &self.map {
            self.x[unknown] = values[col];
        }
        Ok(())
    }
    fn finish(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// Assembly: the time of one full assembly of the DC Jacobian (static part copied, every
/// device loaded) of a diode mesh at a solution a quarter period into the run (drive points at
/// their peak, diodes conducting). There is no public call that only assembles, so each
/// iteration calls `Simulator::factor_dc_jacobian(x)` (assemble + numeric factorization) and
/// the measured time is the growth of `Simulator::stats().load_seconds`, which `assemble`
/// alone adds to: the factorization is not counted.
fn assembly(c: &mut Criterion) {
    let mut g = c.benchmark_group("assembly");
    for side in [32usize, 100] {
        let ckt = mesh_circuit(side, "current", 250);
        let mut sim = transient::Simulator::new(&ckt).unwrap();
        let mut last = LastPoint {
            map: sim
                .output_signals()
                .into_iter()
                .enumerate()
                .map(|(col, (_, unknown))| (col, unknown))
                .collect(),
            x: vec![0.0; sim.unknowns() + 1],
        };
        let opts = transient::TranOptions {
            fixed_step: Some(1e-6),
            ..Default::default()
        };
        sim.transient(ckt.tran().unwrap(), &opts, "mesh", &mut last)
            .unwrap();
        let x = last.x;
        g.throughput(Throughput::Elements(ckt.elements.len() as u64));
        g.bench_function(format!("diode mesh {side}x{side} DC Jacobian load"), |b| {
            b.iter_custom(|iters| {
                let before = sim.stats().load_seconds;
                for _ in 0..iters {
                    sim.factor_dc_jacobian(&x).unwrap();
                }
                Duration::from_secs_f64(sim.stats().load_seconds - before)
            })
        });
    }
    g.finish();
}

/// One time step of the scale measurement's diode mesh (current drive, fixed 1 µs step, two
/// Newton iterations per step): a transient of 1 step and one of 21 steps from the same
/// (trivial: all sources at zero) operating point; one step = (t21 − t1) / 20. Throughput is
/// steps per second of each run, operating point included.
fn timestep(c: &mut Criterion) {
    let mut g = c.benchmark_group("timestep");
    g.sample_size(10);
    for side in [32usize, 100] {
        for steps in [1usize, 21] {
            let ckt = mesh_circuit(side, "current", steps);
            let tran = ckt.tran().unwrap().clone();
            let mut sim = transient::Simulator::new(&ckt).unwrap();
            let opts = transient::TranOptions {
                fixed_step: Some(1e-6),
                ..Default::default()
            };
            g.throughput(Throughput::Elements(steps as u64));
            g.bench_function(format!("diode mesh {side}x{side}, {steps} steps"), |b| {
                b.iter(|| {
                    let mut w = circuit::Waveforms::default();
                    let s = sim.transient(&tran, &opts, "bench", &mut w).unwrap();
                    assert_eq!(s.accepted, steps);
                    s
                })
            });
        }
    }
    g.finish();
}

/// A `side × side` grid of 1 S conductances with 1 mS to ground at every node.
fn grid(side: usize) -> (transient::matrix::Pattern, Vec<f64>) {
    let n = side * side;
    let mut pb = PatternBuilder::new(n);
    let id = |r: usize, c: usize| r * side + c + 1;
    for r in 0..side {
        for c in 0..side {
            for (rr, cc) in [(r + 1, c), (r, c + 1)] {
                if rr < side && cc < side {
                    pb.add(id(r, c), id(rr, cc));
                }
            }
        }
    }
    let p = pb.build();
    let mut v = vec![0.0; p.nnz + 1];
    for i in 1..=n {
        v[p.diag(i)] += 1e-3;
    }
    for r in 0..side {
        for c in 0..side {
            for (rr, cc) in [(r + 1, c), (r, c + 1)] {
                if rr < side && cc < side {
                    let (a, b) = (id(r, c), id(rr, cc));
                    v[p.slot(a, a)] += 1.0;
                    v[p.slot(b, b)] += 1.0;
                    v[p.slot(a, b)] -= 1.0;
                    v[p.slot(b, a)] -= 1.0;
                }
            }
        }
    }
    (p, v)
}

fn factorization(c: &mut Criterion) {
    for side in [30usize, 100] {
        let (p, v) = grid(side);
        let n = side * side;
        let late = vec![false; n];
        let mut lu = transient::lu::StaticLu::new(n, p.col_ptr(), p.row_idx(), &late).unwrap();
        c.bench_function(&format!("static LU factor {side}x{side} grid"), |b| {
            b.iter(|| lu.factor(&v).unwrap())
        });
        // the same right-hand side every time (solving in place again and again would scale
        // it by A⁻¹ each iteration, to overflow)
        let b0: Vec<f64> = (0..n).map(|i| 1.0 + (i % 7) as f64).collect();
        let mut rhs = b0.clone();
        c.bench_function(&format!("static LU solve {side}x{side} grid"), |b| {
            b.iter(|| {
                rhs.copy_from_slice(&b0);
                lu.solve(&mut rhs)
            })
        });
        let mut f = FaerLu::new(&p).unwrap();
        c.bench_function(&format!("faer LU factor {side}x{side} grid"), |b| {
            b.iter(|| f.factor(&v).unwrap())
        });
    }
}

/// The supernodal Cholesky of the 100k mesh's grid (316 × 316, nested dissection, split in
/// halves): one factorization, and a solve with the factor as computed and read in single
/// precision (`FaerLlt::solve_rounded`, Newton's iterations), on a worker of rayon's pool as in
/// `freqprop simulate` so that the two halves run on two threads.
fn cholesky(c: &mut Criterion) {
    let side = 316;
    let (p, v) = grid(side);
    let n = side * side;
    let mut llt = transient::matrix::FaerLlt::new(&p).unwrap();
    llt.set_rounded_solves(true);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let mut g = c.benchmark_group(format!("cholesky {side}x{side} grid"));
    g.sample_size(20);
    g.bench_function("factor", |b| {
        pool.install(|| b.iter(|| llt.factor(&v).unwrap()))
    });
    // each timed solve of one kind alternates with an untimed one of the other, so that both
    // see the same state of the machine and of its caches
    let b0: Vec<f64> = (0..n).map(|i| 1.0 + (i % 7) as f64).collect();
    let mut rhs = b0.clone();
    for (name, rounded) in [("solve", false), ("solve, rounded factor", true)] {
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                pool.install(|| {
                    let mut timed = Duration::ZERO;
                    for _ in 0..iters {
                        for this in [rounded, !rounded] {
                            rhs.copy_from_slice(&b0);
                            let t0 = std::time::Instant::now();
                            if this {
                                llt.solve_rounded(&mut rhs)
                            } else {
                                llt.solve(&mut rhs)
                            }
                            if this == rounded {
                                timed += t0.elapsed();
                            }
                        }
                    }
                    timed
                })
            })
        });
    }
    g.finish();
}

fn transient_runs(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut g = c.benchmark_group("transient");
    g.sample_size(10);
    for deck in ["halfwave_rc", "rc_ladder_clamp", "random_network"] {
        let ckt =
            circuit::parse_file(&root.join("tests/ngspice").join(format!("{deck}.cir"))).unwrap();
        let tran = ckt.tran().unwrap().clone();
        let mut sim = transient::Simulator::new(&ckt).unwrap();
        g.bench_function(deck, |b| {
            b.iter(|| {
                let mut w = circuit::Waveforms::default();
                sim.transient(&tran, &Default::default(), "bench", &mut w)
                    .unwrap()
            })
        });
    }
    g.finish();
}

fn training_example(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for name in ["iris", "digits"] {
        let config =
            learn::train::read_config(&root.join(format!("examples/{name}.toml"))).unwrap();
        let (split, net) = learn::train::setup(&config, root).unwrap();
        let (x, y) = (split.train.x[0].clone(), split.train.y[0].clone());
        let mut adj = learn::adjoint::AdjointEngine::new(&net).unwrap();
        c.bench_function(&format!("{name} example, adjoint engine"), |b| {
            b.iter(|| adj.gradient(&x, &y, &config.loss).unwrap())
        });
        let mut tr =
            learn::transient_engine::TransientEngine::new(&net, &config.transient).unwrap();
        c.bench_function(&format!("{name} example, transient engine"), |b| {
            b.iter(|| tr.gradient(&x, &y, &config.loss).unwrap())
        });
    }
}

criterion_group!(
    benches,
    factorization,
    cholesky,
    assembly,
    timestep,
    transient_runs,
    training_example
);
criterion_main!(benches);

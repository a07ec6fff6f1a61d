//! Benchmarks of the simulator's hot paths: numeric factorization (static-pivot LU and faer's
//! partial-pivoting LU) of a grid Laplacian, whole transient runs of corpus decks, and one
//! training example with each gradient engine.
//!
//! `cargo bench --bench simulate`
use criterion::{criterion_group, criterion_main, Criterion};
use std::path::Path;
use transient::matrix::{FaerLu, PatternBuilder};

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
        let mut rhs = vec![1.0; n];
        c.bench_function(&format!("static LU solve {side}x{side} grid"), |b| {
            b.iter(|| lu.solve(&mut rhs))
        });
        let mut f = FaerLu::new(&p).unwrap();
        c.bench_function(&format!("faer LU factor {side}x{side} grid"), |b| {
            b.iter(|| f.factor(&v).unwrap())
        });
    }
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
    let config = learn::train::read_config(&root.join("examples/iris.toml")).unwrap();
    let (split, net) = learn::train::setup(&config, root).unwrap();
    let (x, y) = (split.train.x[0].clone(), split.train.y[0].clone());
    let mut adj = learn::adjoint::AdjointEngine::new(&net).unwrap();
    c.bench_function("iris example, adjoint engine", |b| {
        b.iter(|| adj.gradient(&x, &y, &config.loss).unwrap())
    });
    let mut tr = learn::transient_engine::TransientEngine::new(&net, &config.transient).unwrap();
    c.bench_function("iris example, transient engine", |b| {
        b.iter(|| tr.gradient(&x, &y, &config.loss).unwrap())
    });
}

criterion_group!(benches, factorization, transient_runs, training_example);
criterion_main!(benches);

//! Gradient fidelity of frequency propagation against parasitic capacitance and against β.
//!
//! The transient engine's update `A_j·E_j/β` is compared with the exact adjoint gradient on
//! the Iris network of `examples/iris.toml` (first 8 training samples), while a capacitance
//! `C` from every free node to ground is swept over four decades of `ω_e·R·C`
//! (`R = 1/ḡ`, the mean trainable resistance; `f_e = 1 kHz`), and while β is swept at
//! `ω_e·R·C ∈ {0, 0.1, 1}`. Prints both tables (Markdown) and writes
//! `docs/figures/fidelity_rc.png` and `docs/figures/fidelity_beta.png`.
//!
//! ```text
//! cargo run --release -p freqprop-learn --example fidelity
//! ```

use learn::check::{compare, mean_adjoint};
use learn::loss::Target;
use learn::network::Network;
use learn::train::{read_config, setup};
use learn::transient_engine::{TransientEngine, TransientOptions};
use plot::{stacked, Axes, Series};
use std::path::{Path, PathBuf};

type Samples = Vec<(Vec<f64>, Target)>;

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// Mean in-phase estimate and mean quadrature counterpart over the samples.
fn mean_parts(
    net: &Network,
    samples: &Samples,
    obj: &learn::loss::Objective,
    opts: &TransientOptions,
) -> (Vec<f64>, Vec<f64>) {
    let mut eng = TransientEngine::new(net, opts).expect("transient engine");
    let n = net.trainable.len();
    let (mut ip, mut q) = (vec![0.0; n], vec![0.0; n]);
    for (x, t) in samples {
        let r = eng.gradient(x, t, obj).expect("transient run");
        let qq = eng.last_quadrature();
        for j in 0..n {
            ip[j] += r.grad[j] / samples.len() as f64;
            q[j] += qq[j] / samples.len() as f64;
        }
    }
    (ip, q)
}

struct Row {
    wrc: f64,
    cap: f64,
    beta: f64,
    settle: usize,
    cosine: f64,
    rel: f64,
    amp: f64,
    quad: f64,
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cfg_path = root.join("examples/iris.toml");
    let config = read_config(&cfg_path).expect("config");
    let base = cfg_path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let (split, net0) = setup(&config, &base).expect("setup");
    let obj = config.loss.clone();
    let samples: Samples = (0..8)
        .map(|i| (split.train.x[i].clone(), split.train.y[i].clone()))
        .collect();
    let g = net0.conductances();
    let gbar = g.iter().sum::<f64>() / g.len() as f64;
    let r_typ = 1.0 / gbar;
    // total trainable conductance at each node (its own RC time constant is C/Σg)
    let mut gsum = vec![0.0; net0.circuit.node_count()];
    for (&(a, b), gj) in net0.trainable_nodes().iter().zip(&g) {
        gsum[a] += gj;
        gsum[b] += gj;
    }
    let gmin_node = gsum
        .iter()
        .skip(1)
        .filter(|&&s| s > 0.0)
        .fold(f64::INFINITY, |m, &s| m.min(s));
    let freq = 1e3;
    let omega = 2.0 * std::f64::consts::PI * freq;
    let exact = mean_adjoint(&net0, &samples, &obj).expect("adjoint");
    let gnorm = norm(&exact);
    println!(
        "Iris network: {} trainable resistors, mean g = {:.3e} S (R = {:.0} Ω), smallest node Σg = {:.3e} S; f_e = {freq} Hz; {} samples; |grad| = {gnorm:.4e}",
        g.len(),
        gbar,
        r_typ,
        gmin_node,
        samples.len()
    );

    let run = |wrc: f64, beta: f64| -> Row {
        let cap = wrc / (omega * r_typ);
        let mut cfg = config.clone();
        cfg.network.capacitance = cap;
        let (_, net) = setup(&cfg, &base).expect("setup");
        // the slowest node relaxes with C/Σg_min; wait ≥ 25 of those (e^-25 ≈ 1e-11)
        let tau = cap / gmin_node;
        let settle = if cap > 0.0 {
            ((25.0 * tau * freq).ceil() as usize).max(2)
        } else {
            0
        };
        let opts = TransientOptions {
            beta,
            freq,
            points_per_period: 32,
            periods: 1,
            settle_periods: settle,
        };
        let (ip, q) = mean_parts(&net, &samples, &obj, &opts);
        let (cosine, rel) = compare(&ip, &exact);
        let dot: f64 = ip.iter().zip(&exact).map(|(a, b)| a * b).sum();
        Row {
            wrc,
            cap,
            beta,
            settle,
            cosine,
            rel,
            amp: dot / (gnorm * gnorm),
            quad: norm(&q) / gnorm,
        }
    };

    // 1. sweep ω_e·R·C at β = 1e-5
    let beta0 = 1e-5;
    let mut rc_rows = vec![run(0.0, beta0)];
    for k in 0..=16 {
        let lx = -4.0 + 0.3125 * k as f64;
        rc_rows.push(run(10f64.powf(lx), beta0));
    }
    println!("\n### Against ω_e·R·C (β = {beta0:e})\n");
    println!("| ω_e·R·C | C (F) | settle periods | cosine | relative error | in-phase gain | ‖quadrature‖/‖grad‖ |");
    println!("|---|---|---|---|---|---|---|");
    for r in &rc_rows {
        println!(
            "| {:.3e} | {:.2e} | {} | {:.9} | {:.3e} | {:.6} | {:.3e} |",
            r.wrc, r.cap, r.settle, r.cosine, r.rel, r.amp, r.quad
        );
    }

    // 2. sweep β at ω_e·R·C ∈ {0, 0.1, 1}
    let betas: Vec<f64> = (0..=10)
        .map(|k| 10f64.powf(-7.0 + 0.5 * k as f64))
        .collect();
    let wrcs = [0.0, 0.1, 1.0];
    let mut beta_rows: Vec<Vec<Row>> = Vec::new();
    for &w in &wrcs {
        beta_rows.push(betas.iter().map(|&b| run(w, b)).collect());
    }
    println!("\n### Against β\n");
    println!("| β | ω_e·R·C | cosine | relative error | ‖quadrature‖/‖grad‖ |");
    println!("|---|---|---|---|---|");
    for rows in &beta_rows {
        for r in rows {
            println!(
                "| {:.2e} | {} | {:.9} | {:.3e} | {:.3e} |",
                r.beta, r.wrc, r.cosine, r.rel, r.quad
            );
        }
    }

    // figures
    let figs = root.join("docs/figures");
    std::fs::create_dir_all(&figs).expect("docs/figures");
    let swept = &rc_rows[1..];
    let lx: Vec<f64> = swept.iter().map(|r| r.wrc.log10()).collect();
    let rel: Vec<f64> = swept.iter().map(|r| r.rel).collect();
    let quad: Vec<f64> = swept.iter().map(|r| r.quad).collect();
    let one_minus_cos: Vec<f64> = swept.iter().map(|r| (1.0 - r.cosine).max(1e-16)).collect();
    let one_minus_gain: Vec<f64> = swept
        .iter()
        .map(|r| (1.0 - r.amp).abs().max(1e-16))
        .collect();
    let rel0 = vec![rc_rows[0].rel.max(1e-16); lx.len()];
    stacked(
        &figs.join("fidelity_rc.png"),
        &[
            (
                "Iris network, β = 1e-5: transient update vs exact gradient",
                Axes::new("log10(ω_e·R·C)", "relative size").log_y(),
                vec![
                    Series::new("relative error of the in-phase update", &lx, &rel),
                    Series::new("quadrature part ‖A·Q/β‖ / ‖grad‖", &lx, &quad),
                    Series::new("1 − in-phase gain", &lx, &one_minus_gain),
                    Series::new("relative error without capacitance", &lx, &rel0),
                ],
            ),
            (
                "direction: 1 − cosine",
                Axes::new("log10(ω_e·R·C)", "1 − cosine").log_y(),
                vec![Series::new(
                    "1 − cosine(in-phase update, exact)",
                    &lx,
                    &one_minus_cos,
                )],
            ),
        ],
    )
    .expect("fidelity_rc.png");
    let lb: Vec<f64> = betas.iter().map(|b| b.log10()).collect();
    let ys: Vec<Vec<f64>> = beta_rows
        .iter()
        .map(|rows| rows.iter().map(|r| r.rel.max(1e-16)).collect())
        .collect();
    let labels = ["no capacitance", "ω_e·R·C = 0.1", "ω_e·R·C = 1"];
    let series: Vec<Series> = ys
        .iter()
        .zip(labels)
        .map(|(y, l)| Series::new(l, &lb, y))
        .collect();
    stacked(
        &figs.join("fidelity_beta.png"),
        &[(
            "Iris network: relative error of the transient update vs β",
            Axes::new("log10(β / A)", "relative error").log_y(),
            series,
        )],
    )
    .expect("fidelity_beta.png");
    println!("\nwrote docs/figures/fidelity_rc.png and docs/figures/fidelity_beta.png");
}

//! The exact adjoint gradient against finite differences, and the transient (frequency
//! propagation) estimate against the exact gradient: exact on a linear network, O(β²) on a
//! diode network.

use learn::adjoint::AdjointEngine;
use learn::check::{compare, finite_differences, mean_adjoint, mean_transient};
use learn::loss::{LossKind, Objective, Target};
use learn::network::{layered, random, Common, LayeredSpec, Network, Nonlinearity, RandomSpec};
use learn::transient_engine::TransientOptions;

fn mse() -> Objective {
    Objective {
        kind: LossKind::Mse,
        ..Default::default()
    }
}

/// 12 internal nodes, diodes on every one: a network like the reference's.
fn diode_net() -> Network {
    let spec = RandomSpec {
        n_inputs: 2,
        n_outputs: 1,
        nodes: 12,
        chords: 10,
        fan_in: 2,
    };
    random(
        &spec,
        &Common {
            g_init: [0.5e-3, 2e-3],
            ..Default::default()
        },
        3,
    )
    .unwrap()
}

fn samples() -> Vec<(Vec<f64>, Target)> {
    vec![
        (vec![0.8, -0.4], Target::Values(vec![0.2])),
        (vec![-1.1, 0.9], Target::Values(vec![-0.1])),
    ]
}

#[test]
fn adjoint_matches_finite_differences_on_diode_network() {
    let net = diode_net();
    let s = samples();
    // make sure the diodes are doing something: some junction is forward biased
    let exact = mean_adjoint(&net, &s, &mse()).unwrap();
    let fd = finite_differences(&net, &s, &mse(), 1e-5).unwrap();
    let (cos, rel) = compare(&exact, &fd);
    eprintln!(
        "diode network: adjoint vs finite differences: cosine {cos:.12}, rel error {rel:.3e}"
    );
    assert!(cos >= 0.999999, "cosine {cos}");
    assert!(rel <= 1e-5, "relative error {rel}");
}

#[test]
fn adjoint_matches_finite_differences_cross_entropy() {
    let spec = LayeredSpec {
        n_inputs: 2,
        hidden: vec![3],
        n_outputs: 3,
        output_pairs: true,
    };
    let net = layered(&spec, &Common::default(), 5).unwrap();
    let obj = Objective::default();
    let s = vec![
        (vec![0.3, -1.2], Target::Class(2)),
        (vec![1.0, 0.5], Target::Class(0)),
    ];
    let exact = mean_adjoint(&net, &s, &obj).unwrap();
    let fd = finite_differences(&net, &s, &obj, 1e-5).unwrap();
    let (cos, rel) = compare(&exact, &fd);
    assert!(
        cos >= 0.999999 && rel <= 1e-5,
        "cosine {cos}, relative error {rel}"
    );
}

#[test]
fn transient_is_exact_on_linear_network() {
    let spec = LayeredSpec {
        n_inputs: 2,
        hidden: vec![4],
        n_outputs: 2,
        output_pairs: false,
    };
    let common = Common {
        nonlinearity: Nonlinearity::None,
        ..Default::default()
    };
    let net = layered(&spec, &common, 11).unwrap();
    let s = vec![
        (vec![0.8, -0.4], Target::Values(vec![0.2, 0.0])),
        (vec![-1.1, 0.9], Target::Values(vec![-0.1, 0.3])),
    ];
    let exact = mean_adjoint(&net, &s, &mse()).unwrap();
    // exact for any β on a linear network
    let opts = TransientOptions {
        beta: 1e-3,
        points_per_period: 16,
        ..Default::default()
    };
    let est = mean_transient(&net, &s, &mse(), &opts).unwrap();
    let (cos, rel) = compare(&est, &exact);
    eprintln!("linear network: transient vs adjoint: cosine {cos:.15}, rel error {rel:.3e}");
    assert!(
        rel <= 1e-9 && cos >= 1.0 - 1e-12,
        "cosine {cos}, relative error {rel}"
    );
}

#[test]
fn transient_error_falls_as_beta_squared_on_diode_network() {
    let net = diode_net();
    let s = samples();
    let exact = mean_adjoint(&net, &s, &mse()).unwrap();
    let err = |beta: f64| {
        let opts = TransientOptions {
            beta,
            points_per_period: 32,
            ..Default::default()
        };
        compare(&mean_transient(&net, &s, &mse(), &opts).unwrap(), &exact).1
    };
    let (e3, e4) = (err(1e-3), err(1e-4));
    eprintln!(
        "diode network: rel error beta=1e-3: {e3:.3e}, beta=1e-4: {e4:.3e}, ratio {:.1}",
        e3 / e4
    );
    assert!(
        e3 > 1e-6,
        "the network is too linear to test the β² trend: {e3}"
    );
    assert!(
        e3 / e4 >= 50.0,
        "error ratio for β = 1e-3 and 1e-4: {e3} / {e4} = {}",
        e3 / e4
    );
    assert!(e4 < 1e-3, "{e4}");
}

#[test]
fn adjoint_sign_descends() {
    // a small step against the gradient lowers the loss
    let net = diode_net();
    let s = samples();
    let obj = mse();
    let mut eng = AdjointEngine::new(&net).unwrap();
    let g0 = net.conductances();
    let grad = mean_adjoint(&net, &s, &obj).unwrap();
    let loss = |eng: &mut AdjointEngine, g: &[f64]| {
        eng.set_conductances(g).unwrap();
        s.iter()
            .map(|(x, t)| eng.loss(x, t, &obj).unwrap())
            .sum::<f64>()
    };
    let l0 = loss(&mut eng, &g0);
    let norm = grad.iter().map(|v| v * v).sum::<f64>().sqrt();
    let g1: Vec<f64> = g0
        .iter()
        .zip(&grad)
        .map(|(g, d)| g - 1e-5 * d / norm)
        .collect();
    let l1 = loss(&mut eng, &g1);
    assert!(l1 < l0, "{l1} !< {l0}");
}

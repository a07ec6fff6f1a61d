//! Iris trained with the exact adjoint gradient and with the transient (frequency-propagation)
//! engine from the same seed: per-epoch test accuracy and loss of both runs on one figure,
//! `docs/figures/iris_engines.png`, and the largest differences printed.
//!
//! ```text
//! cargo run --release -p freqprop-learn --example iris_engines [SEED]
//! ```

use learn::train::{read_config, EngineKind, EpochStats, Trainer};
use plot::{stacked, Axes, Series};
use std::path::{Path, PathBuf};

fn train(engine: EngineKind, seed: u64) -> Vec<EpochStats> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cfg_path = root.join("examples/iris.toml");
    let mut config = read_config(&cfg_path).expect("config");
    config.train.engine = engine;
    config.train.seed = seed;
    let base = cfg_path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let mut t = Trainer::new(config, &base).expect("trainer");
    let epochs = t.config.train.epochs;
    for _ in 0..epochs {
        t.train_epoch(&mut |_, _, _| {}).expect("epoch");
    }
    t.history.clone()
}

fn main() {
    let seed: u64 = std::env::args()
        .nth(1)
        .map(|s| s.parse().expect("seed"))
        .unwrap_or(1);
    let a = train(EngineKind::Adjoint, seed);
    let f = train(EngineKind::Transient, seed);
    println!("| epoch | adjoint test acc | transient test acc | adjoint test loss | transient test loss | adjoint train loss | transient train loss |");
    println!("|---|---|---|---|---|---|---|");
    let (mut dacc, mut dloss, mut dtrain) = (0.0f64, 0.0f64, 0.0f64);
    for (x, y) in a.iter().zip(&f) {
        let (ax, fx) = (
            x.test_accuracy.unwrap_or(0.0),
            y.test_accuracy.unwrap_or(0.0),
        );
        dacc = dacc.max((ax - fx).abs());
        dloss = dloss.max((x.test_loss - y.test_loss).abs() / x.test_loss.abs());
        dtrain = dtrain.max((x.train_loss - y.train_loss).abs() / x.train_loss.abs());
        println!(
            "| {} | {:.1}% | {:.1}% | {:.6} | {:.6} | {:.6} | {:.6} |",
            x.epoch,
            100.0 * ax,
            100.0 * fx,
            x.test_loss,
            y.test_loss,
            x.train_loss,
            y.train_loss
        );
    }
    let secs = |h: &[EpochStats]| h.iter().map(|s| s.seconds).sum::<f64>();
    println!(
        "\nseed {seed}: max |Δ test accuracy| = {:.2} points, max relative Δ test loss = {:.3e}, max relative Δ train loss = {:.3e}; adjoint {:.1} s, transient {:.1} s",
        100.0 * dacc,
        dloss,
        dtrain,
        secs(&a),
        secs(&f)
    );
    let ep: Vec<f64> = a.iter().map(|s| s.epoch as f64).collect();
    let acc = |h: &[EpochStats]| -> Vec<f64> {
        h.iter()
            .map(|s| 100.0 * s.test_accuracy.unwrap_or(0.0))
            .collect()
    };
    let (aa, fa) = (acc(&a), acc(&f));
    let (al, fl): (Vec<f64>, Vec<f64>) = (
        a.iter().map(|s| s.test_loss).collect(),
        f.iter().map(|s| s.test_loss).collect(),
    );
    let (atl, ftl): (Vec<f64>, Vec<f64>) = (
        a.iter().map(|s| s.train_loss).collect(),
        f.iter().map(|s| s.train_loss).collect(),
    );
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = root.join("docs/figures/iris_engines.png");
    std::fs::create_dir_all(out.parent().unwrap()).expect("docs/figures");
    stacked(
        &out,
        &[
            (
                "Iris, same seed: test accuracy",
                Axes::new("epoch", "test accuracy (%)"),
                vec![
                    Series::new("adjoint (exact gradient)", &ep, &aa),
                    Series::new("transient (frequency propagation)", &ep, &fa),
                ],
            ),
            (
                "loss (cross-entropy)",
                Axes::new("epoch", "loss").log_y(),
                vec![
                    Series::new("adjoint, test", &ep, &al),
                    Series::new("transient, test", &ep, &fl),
                    Series::new("adjoint, train", &ep, &atl),
                    Series::new("transient, train", &ep, &ftl),
                ],
            ),
        ],
    )
    .expect("iris_engines.png");
    println!("wrote docs/figures/iris_engines.png");
}

//! Training: XOR reaches 100% with the adjoint engine; a resumed run is bit-identical to an
//! uninterrupted one; configuration errors name the file and the key.

use learn::train::{load_checkpoint, parse_config, save_checkpoint, Config, Trainer};
use std::path::Path;

fn xor_config(epochs: usize) -> Config {
    let text = format!(
        r#"
[data]
dataset = "xor"
test_fraction = 0.0
[network]
hidden = [4]
input_scale = 4.0
[loss]
kind = "cross_entropy"
scale = 10.0
[train]
epochs = {epochs}
batch_size = 4
lr = 0.3
seed = 1
"#
    );
    parse_config(&text, "xor.toml").unwrap()
}

#[test]
fn xor_reaches_full_accuracy_with_adjoint() {
    let mut t = Trainer::new(xor_config(150), Path::new(".")).unwrap();
    let mut last = None;
    for _ in 0..150 {
        last = Some(t.train_epoch(&mut |_, _, _| {}).unwrap());
    }
    let s = last.unwrap();
    assert_eq!(s.train_accuracy, Some(1.0), "{s:?}");
    assert!(s.train_loss < 0.2, "{s:?}");
}

#[test]
fn xor_with_transient_engine_learns() {
    let mut c = xor_config(60);
    c.train.engine = learn::train::EngineKind::Transient;
    c.transient.points_per_period = 8;
    let mut t = Trainer::new(c, Path::new(".")).unwrap();
    let first = t.train_epoch(&mut |_, _, _| {}).unwrap();
    let mut last = first.clone();
    for _ in 1..60 {
        last = t.train_epoch(&mut |_, _, _| {}).unwrap();
    }
    assert!(
        last.train_loss < 0.5 * first.train_loss,
        "{first:?} -> {last:?}"
    );
}

#[test]
fn resume_is_bit_identical() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.json");
    // uninterrupted: 6 epochs
    let mut a = Trainer::new(xor_config(6), Path::new(".")).unwrap();
    for _ in 0..6 {
        a.train_epoch(&mut |_, _, _| {}).unwrap();
    }
    // interrupted after 3, saved, loaded, resumed
    let mut b = Trainer::new(xor_config(3), Path::new(".")).unwrap();
    for _ in 0..3 {
        b.train_epoch(&mut |_, _, _| {}).unwrap();
    }
    save_checkpoint(&path, &b.checkpoint()).unwrap();
    drop(b);
    let ck = load_checkpoint(&path).unwrap();
    let mut c = Trainer::resume(xor_config(6), Path::new("."), &ck).unwrap();
    assert_eq!(c.epoch, 3);
    while c.epoch < 6 {
        c.train_epoch(&mut |_, _, _| {}).unwrap();
    }
    let bits = |g: &[f64]| g.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&a.g), bits(&c.g));
    for (x, y) in a.history.iter().zip(&c.history) {
        assert_eq!(x.train_loss.to_bits(), y.train_loss.to_bits());
        assert_eq!(x.test_loss.to_bits(), y.test_loss.to_bits());
        assert_eq!(x.train_accuracy, y.train_accuracy);
    }
    // a changed configuration is refused
    let mut other = xor_config(6);
    other.train.lr = 0.2;
    assert!(Trainer::resume(other, Path::new("."), &ck).is_err());
}

#[test]
fn unknown_key_is_named_with_file() {
    let e = parse_config(
        "[data]\ndataset = \"xor\"\n[network]\nhiden = [3]\n",
        "bad.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("bad.toml") && e.contains("hiden"), "{e}");
}

#[test]
fn iris_split_is_stratified_and_standardised() {
    let d = learn::data::iris();
    assert_eq!((d.len(), d.n_features(), d.n_classes), (150, 4, Some(3)));
    let s = learn::data::split(&d, 0.2, 1, true).unwrap();
    assert_eq!((s.train.len(), s.test.len()), (120, 30));
    for k in 0..3 {
        let n = s
            .test
            .y
            .iter()
            .filter(|t| **t == learn::loss::Target::Class(k))
            .count();
        assert_eq!(n, 10);
    }
    let m0: f64 = s.train.x.iter().map(|r| r[0]).sum::<f64>() / 120.0;
    assert!(m0.abs() < 1e-12);
    let dg = learn::data::digits();
    assert_eq!(
        (dg.len(), dg.n_features(), dg.n_classes),
        (1797, 64, Some(10))
    );
}

/// Iris, minibatches of 8, the adjoint engine: `epochs` epochs from a fresh trainer, made and
/// trained on the calling thread; the conductances and the history's losses.
fn iris_epochs(epochs: usize) -> (Vec<f64>, Vec<(f64, f64)>) {
    let text = r#"
[data]
dataset = "iris"
[network]
hidden = [8]
[train]
epochs = 3
batch_size = 8
seed = 3
"#;
    let mut t = Trainer::new(parse_config(text, "iris.toml").unwrap(), Path::new(".")).unwrap();
    for _ in 0..epochs {
        t.train_epoch(&mut |_, _, _| {}).unwrap();
    }
    let losses = t
        .history
        .iter()
        .map(|s| (s.train_loss, s.test_loss))
        .collect();
    (t.g, losses)
}

/// An epoch's samples run on every thread of the pool (the epoch's thread and its helpers),
/// and the result is that of one thread bit for bit: from inside pools of 1 and 3 threads,
/// from a thread outside the pool (which then leads the epoch itself), and with two trainings
/// at once on the workers of one pool (each epoch's helpers then find the other's threads
/// busy; neither may wait for them).
#[test]
fn epochs_give_the_same_bits_on_any_number_of_threads() {
    let pool = |n| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .unwrap()
    };
    let one = pool(1).install(|| iris_epochs(3));
    assert!(
        one.1[2].0 < one.1[0].0,
        "training lowers the loss: {:?}",
        one.1
    );
    assert_eq!(
        pool(3).install(|| iris_epochs(3)),
        one,
        "3 threads, inside the pool"
    );
    // a plain thread: the global pool's workers help it
    let from_outside = std::thread::spawn(|| iris_epochs(3)).join().unwrap();
    assert_eq!(from_outside, one, "led from outside the pool");
    let both: Vec<_> = pool(2).install(|| {
        use rayon::prelude::*;
        (0..2).into_par_iter().map(|_| iris_epochs(3)).collect()
    });
    assert!(both.iter().all(|r| *r == one), "two trainings at once");
}

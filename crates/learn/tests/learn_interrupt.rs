//! A stop request mid-epoch: `train_epoch` returns `Interrupted` with the trainer back at the
//! last completed epoch (conductances, momentum, shuffle state), so continuing gives the bits
//! of a run that was never interrupted.

use learn::train::{parse_config, Trainer};
use learn::LearnError;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

fn trainer() -> Trainer {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/xor.toml"
    ))
    .unwrap();
    let mut c = parse_config(&text, "xor.toml").unwrap();
    c.train.batch_size = 1; // four minibatches per epoch
    c.train.momentum = 0.5;
    Trainer::new(c, Path::new(".")).unwrap()
}

fn state(t: &Trainer) -> (Vec<u64>, Vec<u64>) {
    let ck = t.checkpoint();
    (
        ck.conductances.iter().map(|x| x.to_bits()).collect(),
        ck.velocity.iter().map(|x| x.to_bits()).collect(),
    )
}

#[test]
fn interrupted_epoch_rolls_back_and_continues_bit_identically() {
    let mut u = trainer();
    let mut t = trainer();
    u.train_epoch(&mut |_, _, _| {}).unwrap();
    t.train_epoch(&mut |_, _, _| {}).unwrap();
    let flag = Arc::new(AtomicBool::new(false));
    t.set_stop_flag(Arc::clone(&flag));
    let before = (state(&t), t.checkpoint().rng_state);
    // raise the flag after the second minibatch: two updates were made, then rolled back
    let mut batches = 0;
    let r = t.train_epoch(&mut |_, _, _| {
        batches += 1;
        if batches == 2 {
            flag.store(true, Ordering::SeqCst);
        }
    });
    assert!(matches!(r, Err(LearnError::Interrupted)), "{r:?}");
    assert_eq!(batches, 2);
    assert_eq!((state(&t), t.checkpoint().rng_state), before);
    assert_eq!(t.epoch, 1);
    assert_eq!(t.history.len(), 1);
    flag.store(false, Ordering::SeqCst);
    for _ in 0..2 {
        t.train_epoch(&mut |_, _, _| {}).unwrap();
        u.train_epoch(&mut |_, _, _| {}).unwrap();
    }
    assert_eq!(state(&t), state(&u));
    assert_ne!(
        state(&t).0,
        state(&trainer()).0,
        "training moved the conductances"
    );
}

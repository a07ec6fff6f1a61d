//! Crash safety of `freqprop train`: a run killed with SIGKILL (no chance to clean up) at
//! two different epochs and restarted with `--resume` each time ends with conductances,
//! losses and checkpoint bit-identical to an uninterrupted run with the same seed, and no
//! temporary file is left behind. The kills are placed by polling the run file's epoch
//! count, never by timing.
mod common;
use common::*;

#[test]
fn sigkill_twice_then_resume_is_bit_identical() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let k = d.join("k.h5");
    // far more epochs than the test waits for: the kills always land mid-run
    let long = [
        "train", XOR, "-o", "k.h5", "--seed", "3", "--epochs", "100000", "--json",
    ];

    let mut child = spawn(&long, d);
    wait_for(&mut child, "epoch 1 was saved", || {
        epochs_in(&k).is_some_and(|e| e >= 1)
    });
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let k1 = epochs_in(&k).expect("the run file survives SIGKILL");
    assert!(k1 >= 1);

    let mut resumed: Vec<&str> = long.to_vec();
    resumed.push("--resume");
    let mut child = spawn(&resumed, d);
    wait_for(&mut child, "two more epochs were saved", || {
        epochs_in(&k).is_some_and(|e| e >= k1 + 2)
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let k2 = epochs_in(&k).unwrap();
    assert!(k2 >= k1 + 2, "{k1} {k2}");

    // finish two epochs past the second kill; the uninterrupted run goes as far
    let total = (k2 + 2).to_string();
    let out = ok(
        &[
            "train", XOR, "-o", "k.h5", "--seed", "3", "--epochs", &total, "--resume", "--json",
        ],
        d,
    );
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["status"], "complete");
    assert_eq!(j["epochs"], k2 + 2);
    ok(
        &[
            "train", XOR, "-o", "u.h5", "--seed", "3", "--epochs", &total, "--json",
        ],
        d,
    );
    assert_same_run(&k, &d.join("u.h5"));
    let run = learn::runfile::read_run(&k).unwrap();
    assert_eq!(run.status, "complete");
    assert_eq!(run.conductances.len(), k2 + 3);
    assert_eq!(temp_files(d), Vec::<std::path::PathBuf>::new());
}

#[test]
fn resume_removes_a_stale_temporary_file_of_a_killed_writer() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(&["train", XOR, "-o", "r.h5", "--epochs", "1", "--json"], d);
    // what a writer killed mid-write leaves (pid 2^22 + 1 exceeds Linux's pid_max limit)
    let stale = d.join("r.h5.tmp-4194305");
    std::fs::write(&stale, b"partial").unwrap();
    let o = run(
        &[
            "train", XOR, "-o", "r.h5", "--epochs", "2", "--resume", "--json",
        ],
        d,
    );
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("r.h5.tmp-4194305"), "{err}");
    assert!(!stale.exists());
    assert_eq!(epochs_in(&d.join("r.h5")), Some(2));
}

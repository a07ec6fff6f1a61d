//! The `[train] on_failure` policy with an example whose simulation really fails: XOR read
//! from a CSV with a fifth row whose input is 1e300 (unstandardized, so the input source is
//! at 4e300 V and the diode network has no operating point with finite values).
//!
//! * `abort` (the default) stops with exit 1 naming the example and the error, and keeps
//!   the run file of the last completed epoch, marked failed;
//! * `skip` leaves the example out: reported on stderr once per epoch, counted in the run
//!   file's history, listed with its error in `--json` and in the checkpoint, and the
//!   conductances equal those of training on the four good rows alone.
mod common;
use common::*;
use std::path::Path;

const GOOD: &str = "x1,x2,label\n-1,-1,0\n-1,1,1\n1,-1,1\n1,1,0\n";

fn write_case(d: &Path, name: &str, extreme: bool, policy: Option<&str>) -> String {
    let xor = std::fs::read_to_string(XOR).unwrap();
    let mut csv = GOOD.to_string();
    if extreme {
        csv.push_str("1e300,1,1\n");
    }
    std::fs::write(d.join(format!("{name}.csv")), csv).unwrap();
    let mut cfg = xor
        .replace(
            "dataset = \"xor\"",
            &format!("dataset = \"{name}.csv\"\nstandardize = false"),
        )
        // one minibatch holds every example
        .replace("batch_size = 4", "batch_size = 8");
    if let Some(p) = policy {
        cfg = cfg.replace("seed = 1\n", &format!("seed = 1\non_failure = \"{p}\"\n"));
    }
    assert!(cfg.contains("standardize = false") && cfg.contains("batch_size = 8"));
    let path = format!("{name}.toml");
    std::fs::write(d.join(&path), cfg).unwrap();
    path
}

#[test]
fn abort_is_the_default_and_names_the_example() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cfg = write_case(d, "bad", true, None);
    let o = run(&["train", &cfg, "-o", "a.h5", "--epochs", "2"], d);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("train example #4 (gradient)"), "{err}");
    assert!(err.contains("on_failure = \"skip\""), "{err}");
    // no epoch completed: no run file, no temporary file
    assert!(!d.join("a.h5").exists());
    assert_eq!(temp_files(d), Vec::<std::path::PathBuf>::new());
}

#[test]
fn skip_reports_records_and_leaves_the_example_out() {
    for engine in ["adjoint", "transient"] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let bad = write_case(d, "bad", true, Some("skip"));
        let good = write_case(d, "good", false, Some("skip"));
        let epochs = if engine == "adjoint" { "3" } else { "1" };
        let args = |cfg: &str, out: &str| -> Vec<String> {
            [
                "train", cfg, "-o", out, "--epochs", epochs, "--engine", engine, "--json",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect()
        };
        let a = args(&bad, "s.h5");
        let o = run(&a.iter().map(|s| s.as_str()).collect::<Vec<_>>(), d);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{engine}: {err}");
        let n: usize = epochs.parse().unwrap();
        // gradient, and the evaluation on the training and the test set (test_fraction = 0)
        for e in 1..=n {
            let line = format!("epoch {e}: skipped 3 failing examples (on_failure = \"skip\"): train #4 (gradient): ");
            assert!(err.contains(&line), "{engine}: {err}");
        }
        assert_eq!(
            err.matches("skipped 3 failing examples").count(),
            n,
            "{err}"
        );
        let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(j["on_failure"], "skip");
        let sk = j["skipped"].as_array().unwrap();
        assert_eq!(sk.len(), n);
        assert_eq!(sk[0]["count"], 3);
        let ex = &sk[0]["examples"];
        assert_eq!(ex[0]["set"], "train");
        assert_eq!(ex[0]["index"], 4);
        assert_eq!(ex[0]["stage"], "gradient");
        assert_eq!(ex[1]["stage"], "evaluation");
        assert_eq!(ex[2]["set"], "test");
        assert!(!ex[0]["error"].as_str().unwrap().is_empty());

        let r = learn::runfile::read_run(&d.join("s.h5")).unwrap();
        assert_eq!(r.status, "complete");
        assert_eq!(r.history.len(), n);
        assert!(r.history.iter().all(|h| h.skipped.len() == 3));
        assert!(r.history.iter().all(|h| h.train_loss.is_finite()));

        // the skipped example contributed nothing: after the first epoch (one minibatch, every
        // gradient taken at the initial conductances) the conductances equal those of
        // training on the four good rows up to the rounding of the minibatch sum, whose order
        // the shuffle changes. (Later epochs start from conductances that differ in the last
        // bits, and Newton's tolerance then lets the results drift further apart.) Counting the
        // failed example in the mean's denominator would change the update by a quarter.
        let b = args(&good, "g.h5");
        ok(&b.iter().map(|s| s.as_str()).collect::<Vec<_>>(), d);
        let g = learn::runfile::read_run(&d.join("g.h5")).unwrap();
        assert!(g.history.iter().all(|h| h.skipped.is_empty()));
        let (g0, gs, gg) = (&r.conductances[0], &r.conductances[1], &g.conductances[1]);
        assert_eq!(g0, &g.conductances[0], "same initial conductances");
        let mut moved = 0.0f64;
        for ((x, y), x0) in gs.iter().zip(gg).zip(g0) {
            assert!((x - y).abs() <= 1e-14 * y.abs(), "{engine}: {x} vs {y}");
            moved = moved.max((y - x0).abs() / y.abs());
        }
        assert!(moved > 1e-6, "training changed the conductances ({moved})");
    }
}

#[test]
fn abort_after_skipped_epochs_keeps_the_last_completed_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let skip = write_case(d, "bad", true, Some("skip"));
    ok(
        &["train", &skip, "-o", "r.h5", "--epochs", "2", "--json"],
        d,
    );
    let before = learn::runfile::read_run(&d.join("r.h5")).unwrap();
    // the policy may change on --resume; under abort the third epoch stops the run
    let abort = write_case(d, "bad", true, Some("abort"));
    let o = run(
        &["train", &abort, "-o", "r.h5", "--epochs", "3", "--resume"],
        d,
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("train example #4 (gradient)"), "{err}");
    assert!(err.contains("keeps epoch 2 (status: failed)"), "{err}");
    let after = learn::runfile::read_run(&d.join("r.h5")).unwrap();
    assert!(after.status.starts_with("failed: "), "{}", after.status);
    assert!(
        after.status.contains("train example #4"),
        "{}",
        after.status
    );
    assert_eq!(after.checkpoint, before.checkpoint);
    assert_eq!(after.conductances, before.conductances);
    assert_eq!(temp_files(d), Vec::<std::path::PathBuf>::new());
}

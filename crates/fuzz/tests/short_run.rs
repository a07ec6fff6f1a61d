//! The short fuzz run of `make test`: every corpus file and every committed regression input
//! of each target is replayed, then a few thousand deterministic mutants run. Any panic fails
//! the test with the input. (No timing here: an input that hangs hangs the test, which
//! nextest reports; the command-line fuzzer has the 1 s watchdog.)

use fuzz::engine::{self, Options};
use fuzz::{Target, TARGETS};

/// Mutants per target: a few thousand, seconds in a test build.
const RUNS: u64 = 5000;

fn corpus(t: &Target) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    engine::corpus(&fuzz::fuzz_dir(), t).unwrap()
}

#[test]
fn every_target_has_a_corpus_that_it_accepts_in_part() {
    for t in TARGETS {
        let dir = fuzz::fuzz_dir().join("corpus").join(t.name);
        let files = engine::read_dir_inputs(&dir).unwrap();
        assert!(
            !files.is_empty(),
            "{}: no files in fuzz/corpus/{}/",
            t.name,
            t.name
        );
        // A corpus the target rejects entirely would fuzz only the first checks.
        let accepted = files
            .iter()
            .filter(|(_, b)| matches!(engine::run_one(t, b), Ok(Ok(_))))
            .count();
        assert!(
            accepted * 2 >= files.len(),
            "{}: only {accepted} of {} corpus files are accepted: {:?}",
            t.name,
            files.len(),
            files
                .iter()
                .map(|(p, b)| (p.file_name().unwrap().to_owned(), engine::run_one(t, b)))
                .filter(|(_, r)| !matches!(r, Ok(Ok(_))))
                .collect::<Vec<_>>()
        );
    }
}

#[test]
fn corpus_and_regressions_replay_without_panic() {
    let mut n = 0;
    for t in TARGETS {
        for (path, bytes) in corpus(t) {
            if let Err(m) = engine::run_one(t, &bytes) {
                panic!("{}: {} panics: {m}", t.name, path.display());
            }
            n += 1;
        }
    }
    assert!(n >= 20, "only {n} corpus and regression files");
}

fn short_run(name: &str) {
    let t = fuzz::target(name).unwrap();
    let seeds: Vec<Vec<u8>> = corpus(t).into_iter().map(|(_, b)| b).collect();
    let opts = Options {
        runs: RUNS,
        seed: 1,
        max_len: 8 * 1024,
        ..Options::default()
    };
    let (stats, crash) = engine::fuzz(t, &seeds, &opts);
    if let Some(c) = crash {
        panic!(
            "{name}: {} on input ({} bytes):\n{:?}\nreproduce: cargo run -p freqprop-fuzz --release -- {name} --runs {RUNS} --seed 1",
            c.failure,
            c.input.len(),
            String::from_utf8_lossy(&c.input)
        );
    }
    assert_eq!(stats.inputs, seeds.len() as u64 + RUNS);
    // The mutants reach past the first check: several distinct outcomes.
    assert!(stats.outcomes >= 5, "{name}: {stats:?}");
}

#[test]
fn short_run_netlist() {
    short_run("netlist");
}

#[test]
fn short_run_rawfile() {
    short_run("rawfile");
}

#[test]
fn short_run_train_config() {
    short_run("train_config");
}

#[test]
fn short_run_sweep_spec() {
    short_run("sweep_spec");
}

#[test]
fn short_run_csv() {
    short_run("csv");
}

/// The fuzzer catches a panicking target and reports the input.
#[test]
fn a_panic_is_caught_and_reported() {
    fn boom(d: &[u8]) -> fuzz::Outcome {
        if d.contains(&b'!') {
            panic!("bang");
        }
        Err("no".into())
    }
    static T: Target = Target {
        name: "boom",
        run: boom,
        dict: &["!"],
    };
    let (stats, crash) = engine::fuzz(&T, &[b"abc".to_vec()], &Options::default());
    let c = crash.expect("the mutants insert `!`");
    assert!(c.input.contains(&b'!'));
    assert!(
        matches!(&c.failure, engine::Failure::Panic(m) if m.starts_with("bang at ")),
        "{:?}",
        c.failure
    );
    assert!(stats.inputs < 1000);
}

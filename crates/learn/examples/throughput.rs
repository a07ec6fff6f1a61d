//! Training throughput (issue 7): examples per second of the adjoint and transient engines on
//! the Iris and digits networks, with 1 and 2 rayon threads, and the parallel speedup.
//!
//! ```text
//! cargo run --release -p freqprop-learn --example throughput -- [--threads 1,2] [--epochs 2]
//!     [--configs examples/iris.toml,examples/digits.toml] [--engines adjoint,transient]
//!     [--out docs/training-performance.md]
//! ```
//!
//! `--max-train N` (default 160) keeps at most N training and N test samples, evenly spaced
//! through the split (digits has 1,438 / 359: a full epoch of the transient engine takes
//! minutes on a loaded machine); the per-example cost is unchanged.
//!
//! Each (configuration, engine, threads) runs in a child process with `RAYON_NUM_THREADS` set
//! (rayon sizes its global pool from it once per process). The child builds the `Trainer`
//! and runs `--epochs` epochs; per epoch it times the minibatch phase (shuffled minibatches,
//! samples of a batch in parallel, the update: up to the last progress call of
//! `train_epoch`), the evaluation phase (loss and accuracy on the training and test sets: the
//! rest of `train_epoch`), and the run-file phase as `freqprop train` does it after every
//! epoch (`RunData::from_trainer`, which simulates two recorded samples with the transient
//! protocol, and `write_run`, the atomic HDF5 write). The first epoch is a warm-up and is
//! left out of the figures when more than one epoch runs.
use learn::runfile::{write_run, RunData};
use learn::train::{config_base, read_config, EngineKind, Trainer};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn arg_value(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn child(
    config: &Path,
    engine: &str,
    epochs: usize,
    min_seconds: f64,
    max_train: usize,
    dir: &Path,
) -> Result<(), String> {
    let mut cfg = read_config(config).map_err(|e| e.to_string())?;
    cfg.train.engine = engine.parse()?;
    cfg.train.epochs = 1_000_000;
    let t0 = Instant::now();
    let mut t = Trainer::new(cfg, &config_base(config)).map_err(|e| e.to_string())?;
    let setup_s = t0.elapsed().as_secs_f64();
    // at most `max_train` training (and test) samples, evenly spaced through the split
    for set in [&mut t.split.train, &mut t.split.test] {
        let n = set.len();
        if n > max_train {
            let keep: Vec<usize> = (0..max_train).map(|k| k * n / max_train).collect();
            set.x = keep.iter().map(|&i| set.x[i].clone()).collect();
            set.y = keep.iter().map(|&i| set.y[i].clone()).collect();
        }
    }
    let n_train = t.split.train.len();
    let n_test = t.split.test.len();
    let out = dir.join(format!(
        "{}-{engine}-{}.h5",
        config.file_stem().and_then(|s| s.to_str()).unwrap_or("run"),
        rayon::current_num_threads()
    ));
    let mut g_rows = vec![t.g.clone()];
    let mut epochs_j = Vec::new();
    let begin = Instant::now();
    while epochs_j.len() < epochs || begin.elapsed().as_secs_f64() < min_seconds {
        let start = Instant::now();
        let mut last = start;
        let s = t
            .train_epoch(&mut |_, _, _| last = Instant::now())
            .map_err(|e| e.to_string())?;
        let end = Instant::now();
        g_rows.push(t.g.clone());
        let r0 = Instant::now();
        let run = RunData::from_trainer(&t, g_rows.clone(), &[0, 1]).map_err(|e| e.to_string())?;
        let record_s = r0.elapsed().as_secs_f64();
        let w0 = Instant::now();
        write_run(&out, &run).map_err(|e| e.to_string())?;
        let write_s = w0.elapsed().as_secs_f64();
        epochs_j.push(serde_json::json!({
            "batches_s": (last - start).as_secs_f64(),
            "eval_s": (end - last).as_secs_f64(),
            "record_s": record_s,
            "write_s": write_s,
            "test_accuracy": s.test_accuracy,
        }));
    }
    let _ = std::fs::remove_file(&out);
    let j = serde_json::json!({
        "threads": rayon::current_num_threads(),
        "n_train": n_train,
        "n_test": n_test,
        "batch_size": t.config.train.batch_size,
        "n_params": t.g.len(),
        "setup_s": setup_s,
        "epochs": epochs_j,
    });
    println!("{j}");
    Ok(())
}

/// The control: minibatches of `batch` tasks, each a fixed amount of floating-point work that
/// takes `micros` µs on one unloaded thread, samples of a batch in
/// parallel exactly as `Trainer::train_epoch` runs them (a `learn::team::Team`: the calling
/// thread leads, the pool's other threads help); prints tasks per second. What the machine
/// gives parallel minibatches of this grain now.
fn control(batch: usize, micros: f64, min_seconds: f64) {
    // a fixed amount of arithmetic per task (not a wall-clock spin, which a descheduled thread
    // would finish on time): the iterations one thread does in `micros` µs, best of 5
    fn work(n: u64, seed: u64) -> f64 {
        let mut x = seed as f64 + 0.5;
        for _ in 0..n {
            x = std::hint::black_box(x * 1.000_000_1 + 1e-9).sqrt() * x.sqrt();
        }
        x
    }
    let probe = 200_000u64;
    let mut best_probe = f64::INFINITY;
    for _ in 0..5 {
        let t = Instant::now();
        std::hint::black_box(work(probe, 1));
        best_probe = best_probe.min(t.elapsed().as_secs_f64());
    }
    let iters = ((micros * 1e-6 / best_probe) * probe as f64).max(1.0) as u64;
    let begin = Instant::now();
    let mut tasks = 0usize;
    let mut best = f64::INFINITY;
    // as `train_epoch` runs its minibatches
    let team = learn::team::Team::new(batch);
    let task = |i: usize| work(iters, i as u64);
    let items: Vec<usize> = (0..batch).collect();
    rayon::in_place_scope(|s| {
        for _ in 1..rayon::current_num_threads() {
            s.spawn(|_| team.help(&task));
        }
        while begin.elapsed().as_secs_f64() < min_seconds {
            let b0 = Instant::now();
            std::hint::black_box(team.run(&items, &task));
            best = best.min(b0.elapsed().as_secs_f64());
            tasks += batch;
        }
        team.end();
    });
    let j = serde_json::json!({
        "threads": rayon::current_num_threads(),
        "tasks_per_s": tasks as f64 / begin.elapsed().as_secs_f64(),
        "best_tasks_per_s": batch as f64 / best,
    });
    println!("{j}");
}

struct Row {
    config: String,
    engine: String,
    threads: usize,
    n_train: f64,
    n_test: f64,
    batch: u64,
    params: u64,
    batches_s: f64,
    best_batches_s: f64,
    eval_s: f64,
    record_s: f64,
    write_s: f64,
    epochs: usize,
    /// control task µs, its speedup (median-like: over the whole run) and best-batch speedup
    control: Option<(f64, f64, f64)>,
}

fn values(ep: &[serde_json::Value], k: &str) -> Vec<f64> {
    let mut v: Vec<f64> = ep.iter().filter_map(|e| e[k].as_f64()).collect();
    v.sort_by(f64::total_cmp);
    v
}

fn median_of(ep: &[serde_json::Value], k: &str) -> f64 {
    let v = values(ep, k);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => 0.5 * (v[n / 2 - 1] + v[n / 2]),
    }
}

fn min_of(ep: &[serde_json::Value], k: &str) -> f64 {
    values(ep, k).first().copied().unwrap_or(f64::NAN)
}

fn main() {
    if let Err(e) = real_main() {
        eprintln!("throughput: {e}");
        std::process::exit(2);
    }
}

fn real_main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let epochs: usize = arg_value(&args, "--epochs")
        .map(|s| s.parse().map_err(|_| format!("--epochs: bad {s}")))
        .transpose()?
        .unwrap_or(3);
    if epochs == 0 {
        return Err("--epochs must be at least 1".into());
    }
    let min_seconds: f64 = arg_value(&args, "--min-seconds")
        .map(|s| s.parse().map_err(|_| format!("--min-seconds: bad {s}")))
        .transpose()?
        .unwrap_or(2.0);
    let max_train: usize = arg_value(&args, "--max-train")
        .map(|s| s.parse().map_err(|_| format!("--max-train: bad {s}")))
        .transpose()?
        .unwrap_or(160);
    if max_train == 0 {
        return Err("--max-train must be at least 1".into());
    }
    if let Some(b) = arg_value(&args, "--control") {
        let batch: usize = b.parse().map_err(|_| format!("--control: bad {b}"))?;
        let micros: f64 = arg_value(&args, "--micros")
            .ok_or("--micros needed")?
            .parse()
            .map_err(|_| "--micros: bad number".to_string())?;
        control(batch, micros, min_seconds);
        return Ok(());
    }
    if let Some(cfg) = arg_value(&args, "--child") {
        let engine = arg_value(&args, "--engine").ok_or("--engine needed")?;
        let dir = PathBuf::from(arg_value(&args, "--dir").ok_or("--dir needed")?);
        std::fs::create_dir_all(&dir).map_err(|e| format!("--dir {}: {e}", dir.display()))?;
        return child(
            Path::new(&cfg),
            &engine,
            epochs,
            min_seconds,
            max_train,
            &dir,
        );
    }
    let list = |name: &str, default: &str| -> Vec<String> {
        arg_value(&args, name)
            .unwrap_or_else(|| default.into())
            .split(',')
            .map(|s| s.trim().to_string())
            .collect()
    };
    let configs = list("--configs", "examples/iris.toml,examples/digits.toml");
    let engines = list("--engines", "adjoint,transient");
    let threads: Vec<usize> = list("--threads", "1,2")
        .iter()
        .map(|s| s.parse().map_err(|_| format!("--threads: bad {s}")))
        .collect::<Result<_, _>>()?;
    for e in &engines {
        e.parse::<EngineKind>()?;
    }
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    for cfg in &configs {
        let path = if Path::new(cfg).is_absolute() {
            PathBuf::from(cfg)
        } else {
            root.join(cfg)
        };
        for engine in &engines {
            for &th in &threads {
                eprintln!("== {cfg} {engine} RAYON_NUM_THREADS={th}");
                let out = Command::new(&exe)
                    .env("RAYON_NUM_THREADS", th.to_string())
                    .arg("--child")
                    .arg(&path)
                    .args(["--engine", engine, "--epochs", &epochs.to_string()])
                    .args(["--min-seconds", &min_seconds.to_string()])
                    .args(["--max-train", &max_train.to_string(), "--dir"])
                    .arg(dir.path())
                    .output()
                    .map_err(|e| e.to_string())?;
                let text = String::from_utf8_lossy(&out.stdout);
                if !out.status.success() {
                    return Err(format!(
                        "{cfg} {engine} {th} threads failed: {}{}",
                        text,
                        String::from_utf8_lossy(&out.stderr)
                    ));
                }
                let j: serde_json::Value = serde_json::from_str(text.trim())
                    .map_err(|e| format!("child output {text:?}: {e}"))?;
                eprintln!("   {j}");
                let ep = j["epochs"].as_array().cloned().unwrap_or_default();
                let ep = if ep.len() > 1 { &ep[1..] } else { &ep[..] };
                rows.push(Row {
                    config: cfg.clone(),
                    engine: engine.clone(),
                    threads: j["threads"].as_u64().unwrap_or(0) as usize,
                    n_train: j["n_train"].as_f64().unwrap_or(0.0),
                    n_test: j["n_test"].as_f64().unwrap_or(0.0),
                    batch: j["batch_size"].as_u64().unwrap_or(0),
                    params: j["n_params"].as_u64().unwrap_or(0),
                    batches_s: median_of(ep, "batches_s"),
                    best_batches_s: min_of(ep, "batches_s"),
                    eval_s: median_of(ep, "eval_s"),
                    record_s: median_of(ep, "record_s"),
                    write_s: median_of(ep, "write_s"),
                    epochs: ep.len(),
                    control: None,
                });
            }
            // the control, at the grain of this engine's 1-thread samples
            let one = rows
                .iter()
                .rev()
                .find(|r| &r.config == cfg && &r.engine == engine && r.threads == 1);
            if let Some(one) = one {
                let micros = 1e6 * one.batches_s / one.n_train;
                let batch = one.batch.to_string();
                let mut per = Vec::new();
                for &th in &threads {
                    let out = Command::new(&exe)
                        .env("RAYON_NUM_THREADS", th.to_string())
                        .args(["--control", &batch, "--micros", &micros.to_string()])
                        .args(["--min-seconds", &min_seconds.to_string()])
                        .output()
                        .map_err(|e| e.to_string())?;
                    let text = String::from_utf8_lossy(&out.stdout);
                    let j: serde_json::Value = serde_json::from_str(text.trim())
                        .map_err(|e| format!("control output {text:?}: {e}"))?;
                    eprintln!("   control {micros:.1} us x {batch}: {j}");
                    per.push((
                        th,
                        j["tasks_per_s"].as_f64().unwrap_or(f64::NAN),
                        j["best_tasks_per_s"].as_f64().unwrap_or(f64::NAN),
                    ));
                }
                let base = per.iter().find(|p| p.0 == 1).copied();
                for r in rows
                    .iter_mut()
                    .filter(|r| &r.config == cfg && &r.engine == engine)
                {
                    if let (Some(b), Some(p)) = (base, per.iter().find(|p| p.0 == r.threads)) {
                        r.control = Some((micros, p.1 / b.1, p.2 / b.2));
                    }
                }
            }
        }
    }
    let md = table(&rows, &args);
    print!("{md}");
    if let Some(out) = arg_value(&args, "--out") {
        let tmp = format!("{out}.tmp");
        std::fs::write(&tmp, &md).map_err(|e| format!("{tmp}: {e}"))?;
        std::fs::rename(&tmp, &out).map_err(|e| format!("{out}: {e}"))?;
        eprintln!("throughput: wrote {out}");
    }
    Ok(())
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

fn table(rows: &[Row], args: &[String]) -> String {
    let mut s = String::new();
    let date = Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let _ = writeln!(s, "# Training throughput\n");
    let _ = writeln!(
        s,
        "Written by `cargo run --release -p freqprop-learn --example throughput --{}` on {date},\n{cores} cores (1-minute load average {} at the end of the run).\n",
        args.iter().map(|a| format!(" {a}")).collect::<String>(),
        load_average()
    );
    let _ = writeln!(
        s,
        "Examples/s = training examples / seconds of the minibatch phase of an epoch (gradients of
every sample of every minibatch, samples of a minibatch in parallel, and the updates); eval s =
loss and accuracy on the training and test sets after the epoch; run file s = what
`freqprop train` adds after each epoch (two recorded samples simulated, atomic HDF5 write).
Epoch examples/s counts the training examples over all three. Train / test: the samples used
(at most `--max-train` of each, evenly spaced through the split). Speedup = examples/s at this
thread count over that at 1 thread. Medians over the epochs after the first (warm-up); best:
the fastest epoch's minibatch phase (the least disturbed by other processes). Each child runs
at least `--epochs` epochs and at least `--min-seconds` seconds. Control: minibatches of the
same size whose tasks each do a fixed amount of floating-point work taking the 1-thread time
per example (calibrated in the control's process), run in parallel the way
`train_epoch` runs samples (a `learn::team::Team`: the calling thread leads, the pool's other
threads claim samples and wait for the next minibatch spinning); its speedup (whole run /
best batch) is what the machine's cores give minibatches of that grain at the time of the
run, without the epoch's evaluation and file writes between them, so an engine
speedup well below its control's points at the code, one near it at the machine.\n"
    );
    let _ = writeln!(
        s,
        "| network | engine | params | train / test | batch | threads | epochs | examples/s | speedup | best examples/s | best speedup | eval s | run file s | epoch examples/s | epoch speedup | control µs | control speedup | control best speedup |"
    );
    let _ = writeln!(
        s,
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for r in rows {
        let base = rows
            .iter()
            .find(|b| b.config == r.config && b.engine == r.engine && b.threads == 1);
        let eps = r.n_train / r.batches_s;
        let epoch_s = r.batches_s + r.eval_s + r.record_s + r.write_s;
        let eeps = r.n_train / epoch_s;
        let beps = r.n_train / r.best_batches_s;
        let (sp, bsp, esp) = match base {
            Some(b) => (
                format!("{:.2}", eps / (b.n_train / b.batches_s)),
                format!("{:.2}", beps / (b.n_train / b.best_batches_s)),
                format!(
                    "{:.2}",
                    eeps / (b.n_train / (b.batches_s + b.eval_s + b.record_s + b.write_s))
                ),
            ),
            None => ("n/a".into(), "n/a".into(), "n/a".into()),
        };
        let name = Path::new(&r.config)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("?");
        let _ = writeln!(
            s,
            "| {name} | {} | {} | {} / {} | {} | {} | {} | {:.0} | {sp} | {:.0} | {bsp} | {:.3} | {:.3} | {:.0} | {esp} | {} |",
            r.engine,
            r.params,
            r.n_train,
            r.n_test,
            r.batch,
            r.threads,
            r.epochs,
            eps,
            beps,
            r.eval_s,
            r.record_s + r.write_s,
            eeps,
            r.control.map_or("n/a | n/a | n/a".into(), |(us, a, b)| format!(
                "{us:.0} | {a:.2} | {b:.2}"
            ))
        );
    }
    s
}

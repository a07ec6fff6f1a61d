//! # fuzz
//!
//! Fuzz targets for every reader of user input in freqprop, and a small deterministic
//! mutation fuzzer that runs them on stable Rust (see `docs/fuzzing.md`).
//!
//! A target takes arbitrary bytes and returns `Ok(shape)` when the input is accepted (`shape`
//! summarises what was read) or `Err(message)` when it is rejected: both are fine. A panic is
//! a failure, and so is an input that takes longer than the timeout. Targets also check
//! invariants with assertions (a written netlist parses again to the same circuit, a rawfile
//! written from what was read reads back the same), so a broken invariant is a panic too.
//!
//! ```
//! assert!(fuzz::netlist(b"t\nR1 a 0 1k\nV1 a 0 1\n.op\n").is_ok());
//! assert!(fuzz::netlist(b"t\nR1 a 0 one\n").is_err());
//! let t = fuzz::target("rawfile").unwrap();
//! assert!((t.run)(b"Title: x\nNo. Variables: 1\n").is_err());
//! ```

use std::path::{Path, PathBuf};

pub mod engine;
pub mod mutate;

/// What a target returns: `Ok(shape)` for an accepted input, `Err(message)` for a rejected
/// one. Either is fine; only a panic (or a hang) is a failure.
pub type Outcome = Result<String, String>;

/// A fuzz target: a name, the function, and a dictionary of tokens for the mutator.
pub struct Target {
    /// Name (also the corpus directory `fuzz/corpus/<name>/`).
    pub name: &'static str,
    /// The function under test.
    pub run: fn(&[u8]) -> Outcome,
    /// Tokens the mutator inserts (keywords, suffixes, numbers, keys of the format).
    pub dict: &'static [&'static str],
}

/// Every target.
pub const TARGETS: &[Target] = &[
    Target {
        name: "netlist",
        run: netlist,
        dict: NETLIST_DICT,
    },
    Target {
        name: "rawfile",
        run: rawfile,
        dict: RAWFILE_DICT,
    },
    Target {
        name: "train_config",
        run: train_config,
        dict: TRAIN_DICT,
    },
    Target {
        name: "sweep_spec",
        run: sweep_spec,
        dict: SWEEP_DICT,
    },
    Target {
        name: "csv",
        run: csv,
        dict: CSV_DICT,
    },
];

/// The target called `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

/// The repository's `fuzz/` directory (corpus, regressions, support files, artifacts).
pub fn fuzz_dir() -> PathBuf {
    let krate = Path::new(env!("CARGO_MANIFEST_DIR"));
    krate
        .parent()
        .and_then(Path::parent)
        .unwrap_or(krate)
        .join("fuzz")
}

/// `fuzz/files/`: the files inputs may name (`.include subckt_lib.inc`, `dataset =
/// "data.csv"`, `netlist = "divider.cir"`, ...). Inputs are read as if they were files of
/// this directory.
pub fn files_dir() -> PathBuf {
    fuzz_dir().join("files")
}

const NETLIST_DICT: &[&str] = &[
    // cards
    "\nR1 a b 1k\n",
    "\nC1 a 0 1u\n",
    "\nL1 a b 1m\n",
    "\nD1 a b dmod\n",
    "\nV1 a 0 DC 1\n",
    "\nI1 a 0 1m\n",
    "\nG1 a 0 b 0 1m\n",
    "\nX1 a b sub\n",
    "\n.model dmod D(is=1e-14 n=1.5 rs=10 cjo=1p tt=1n bv=10 ibv=1m)\n",
    "\n.subckt sub p q\nR1 p q 1k\n.ends\n",
    "\n.subckt sub p q r=1k\nR1 p q {r}\n.ends sub\n",
    "\n.param r=1k\n",
    "\n.tran 1u 1m\n",
    "\n.tran 1u 1m 0 1u uic\n",
    "\n.op\n",
    "\n.ic v(a)=1\n",
    "\n.options reltol=1e-3 abstol=1e-12 vntol=1e-6 method=gear maxord=2 itl1=100 itl4=10\n",
    "\n.include subckt_lib.inc\n",
    "\n.include \"subckt_lib.inc\"\n",
    "\n.control\nrun\n.endc\n",
    "\n.end\n",
    "\n+ ",
    "\n* comment\n",
    " ; comment",
    // sources
    " SIN(0 1 1k 0 0 0)",
    " PULSE(0 1 0 1n 1n 1u 2u)",
    " PWL(0 0 1u 1 2u 0)",
    " EXP(0 1 0 1u 2u 1u)",
    " AC 1",
    " DC",
    // suffixes and expressions
    "f",
    "p",
    "n",
    "u",
    "m",
    "k",
    "meg",
    "g",
    "t",
    "mil",
    "{r*2}",
    "{1/0}",
    "{sqrt(-1)}",
    "{2**1024}",
    "{exp(1000)}",
    "{r}",
    "{",
    "}",
    "(",
    ")",
    "=",
    ",",
    ".",
    "0",
    " ",
    "\t",
    "\n",
    "\r\n",
    "1e308",
    "-0",
    "nan",
    "inf",
    "1e-308",
    "0.0",
    "-1",
    "1e400",
];

const RAWFILE_DICT: &[&str] = &[
    "Title: t\n",
    "Date: Thu Jan  1 00:00:00  2026\n",
    "Plotname: Transient Analysis\n",
    "Plotname: AC Analysis\n",
    "Flags: real\n",
    "Flags: complex\n",
    "Flags: real padded\n",
    "No. Variables: 2\n",
    "No. Variables: 0\n",
    "No. Variables: 18446744073709551615\n",
    "No. Points: 3\n",
    "No. Points: 0\n",
    "No. Points: 18446744073709551615\n",
    "No. Points: 4294967296\n",
    "Variables:\n",
    "Variables: 0 time time\n",
    "\t0\ttime\ttime\n",
    "\t1\tv(out)\tvoltage\n",
    "\t2\ti(v1)\tcurrent\n",
    "\t0\tfrequency\tfrequency grid=3\n",
    "Binary:\n",
    "Values:\n",
    "Command: version 39.3\n",
    "Option: x\n",
    " 0\t0.000000000000000e+00\n",
    "\t1.0,0.0\n",
    "\t1.000000000000000e+00\n",
    "\n",
    "\r\n",
    ":",
    ",",
    "\t",
    "\0\0\0\0\0\0\0\0",
    "\0\0\0\0\0\0\u{f0}\u{3f}",
    "\u{ff}\u{ff}\u{ff}\u{ff}\u{ff}\u{ff}\u{ff}\u{7f}",
    "e+00",
    "e-308",
    "1e308",
    "nan",
    "-0",
    "inf",
];

const TRAIN_DICT: &[&str] = &[
    "\n[data]\n",
    "\n[network]\n",
    "\n[loss]\n",
    "\n[train]\n",
    "\n[transient]\n",
    "\n[gradcheck]\n",
    "\n[[network.inputs]]\n",
    "\n[[network.outputs]]\n",
    "dataset = \"xor\"\n",
    "dataset = \"iris\"\n",
    "dataset = \"regression\"\n",
    "dataset = \"data.csv\"\n",
    "test_fraction = ",
    "standardize = false\n",
    "kind = \"layered\"\n",
    "kind = \"random\"\n",
    "kind = \"mesh\"\n",
    "kind = \"netlist\"\n",
    "kind = \"mse\"\n",
    "kind = \"cross_entropy\"\n",
    "hidden = [",
    "output_pairs = true\n",
    "n_outputs = ",
    "nodes = ",
    "chords = ",
    "fan_in = ",
    "rows = ",
    "cols = ",
    "netlist = \"xor_netlist.cir\"\n",
    "trainable = [\"r*\"]\n",
    "source = \"v1\"\n",
    "feature = ",
    "scale = ",
    "node = \"out\"\n",
    "reference = \"0\"\n",
    "randomize = true\n",
    "g_init = [",
    "g_min = ",
    "g_max = ",
    "capacitance = ",
    "diode_is = ",
    "diode_n = ",
    "nonlinearity = \"alternate\"\n",
    "nonlinearity = \"none\"\n",
    "nonlinearity = \"up\"\n",
    "nonlinearity = \"pair\"\n",
    "input_scale = ",
    "bias_voltage = ",
    "engine = \"transient\"\n",
    "engine = \"adjoint\"\n",
    "epochs = ",
    "batch_size = ",
    "lr = ",
    "g_unit = ",
    "momentum = ",
    "seed = ",
    "beta = ",
    "freq = ",
    "points_per_period = ",
    "periods = ",
    "settle_periods = ",
    "samples = ",
    "betas = [",
    "finite_differences = true\n",
    "fd_step = ",
    "scale = ",
    "target_low = ",
    "target_high = ",
    "[",
    "]",
    "{",
    "}",
    "\"",
    "'''",
    "=",
    ",",
    ".",
    "\n",
    "#",
    "true",
    "false",
    "1e308",
    "-0.0",
    "nan",
    "inf",
    "-inf",
    "0",
    "1",
    "-1",
    "1000000",
    "4294967296",
    "9223372036854775807",
    "18446744073709551615",
    "1979-05-27T07:32:00Z",
];

const SWEEP_DICT: &[&str] = &[
    "name = \"s\"\n",
    "combine = \"product\"\n",
    "combine = \"zip\"\n",
    "\n[base]\n",
    "kind = \"simulation\"\n",
    "kind = \"train\"\n",
    "netlist = \"sweep_divider.cir\"\n",
    "netlist = \"divider.cir\"\n",
    "config = \"xor.toml\"\n",
    "set = { \"train.epochs\" = 2 }\n",
    "set = { \"network.hidden.0\" = 3, \"train.engine\" = \"transient\" }\n",
    "\n[[axis]]\n",
    "param = \"r1\"\n",
    "param = \"c1\"\n",
    "param = \"train.lr\"\n",
    "param = \"network.hidden.0\"\n",
    "param = \"transient.beta\"\n",
    "values = [",
    "linspace = [",
    "logspace = [",
    "\n[[metric]]\n",
    "kind = \"amplitude\"\n",
    "kind = \"phase\"\n",
    "kind = \"final\"\n",
    "kind = \"max\"\n",
    "kind = \"min\"\n",
    "kind = \"mean\"\n",
    "kind = \"rms\"\n",
    "kind = \"test_accuracy\"\n",
    "kind = \"train_loss\"\n",
    "kind = \"grad_cosine\"\n",
    "signal = \"out\"\n",
    "signal = \"i(v1)\"\n",
    "freq = ",
    "freq = \"f1\"\n",
    "from = ",
    "[",
    "]",
    "{",
    "}",
    "\"",
    "=",
    ",",
    ".",
    "\n",
    "1e308",
    "-0.0",
    "nan",
    "inf",
    "0",
    "1",
    "-1",
    "1000000",
    "4294967296",
    "18446744073709551615",
];

const CSV_DICT: &[&str] = &[
    "time,v(out),i(v1)\n",
    "t;v(a)\n",
    "time v(a)\n",
    "\"v(out)\"",
    "x1,x2,label\n",
    "0,0,0\n",
    "1e-3,0.5,1\n",
    "\u{feff}",
    "# comment\n",
    ",",
    ";",
    "\t",
    " ",
    "\n",
    "\r\n",
    "\"",
    "1e308",
    "-1e308",
    "nan",
    "inf",
    "-0",
    "1e-308",
    "0.5",
    "999999",
    "1000000",
    "18446744073709551615",
];

fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// The first letters of the element names, sorted and deduplicated (`cdrv`).
fn element_letters(c: &circuit::Circuit) -> String {
    let mut k: Vec<char> = c
        .elements
        .iter()
        .filter_map(|e| e.name.chars().next())
        .map(|ch| ch.to_ascii_lowercase())
        .collect();
    k.sort_unstable();
    k.dedup();
    k.into_iter().collect()
}

/// The netlist reader (text, `.include` relative to `fuzz/files/`), the topology checks,
/// and the writer: the written netlist must parse again to the same circuit, and writing
/// that must give the same text.
pub fn netlist(data: &[u8]) -> Outcome {
    let origin = files_dir().join("fuzz.cir");
    let c = circuit::parse_str(&text(data), &origin).map_err(|e| e.to_string())?;
    let topology = circuit::check_topology(&c).is_ok();
    let _ = circuit::warnings(&c);
    let written = circuit::write_netlist(&c);
    let again = circuit::parse_str(&written, &origin).unwrap_or_else(|e| {
        panic!("the written netlist does not parse again: {e}\n--- written:\n{written}")
    });
    let rewritten = circuit::write_netlist(&again);
    assert_eq!(written, rewritten, "writing the re-read netlist changes it");
    // Compare through the written text where NaN (which the reader refuses anyway) would make
    // `==` fail: equal text of two circuits with equal structure.
    assert!(
        c == again || format!("{c:?}") == format!("{again:?}"),
        "the written netlist reads back as a different circuit\n--- written:\n{written}"
    );
    Ok(format!(
        "{} analyses={} topology={topology}",
        element_letters(&c),
        c.analyses.len()
    ))
}

/// The rawfile reader on bytes (strict and lenient; binary and ASCII data), the conversion
/// to waveforms, and the writer: a binary rawfile written from the plots reads back the same
/// plots (bit for bit), an ASCII one the same shape.
pub fn rawfile(data: &[u8]) -> Outcome {
    use store::raw::{parse_raw, write_raw_to, RawFormat, RawReadOptions};
    let path = Path::new("fuzz.raw");
    let lenient = RawReadOptions {
        lenient_points: true,
    };
    let strict = parse_raw(data, path, &RawReadOptions::default());
    let plots = parse_raw(data, path, &lenient).map_err(|e| e.to_string());
    if let Ok(s) = &strict {
        // Whatever the strict reader accepts, the lenient one reads the same (compared as
        // text: the data may hold NaN).
        let lenient = plots
            .as_ref()
            .expect("the lenient reader refuses what the strict one reads");
        assert_eq!(
            format!("{s:?}"),
            format!("{lenient:?}"),
            "strict and lenient readers disagree"
        );
    }
    let plots = plots?;
    let _ = store::raw::parse_raw_waveforms(data, path);
    for p in &plots {
        let _ = p.to_waveforms();
    }
    let mut shape = format!("plots={}", plots.len().min(4));
    for p in plots.iter().take(4) {
        let np = p.n_points();
        shape.push_str(&format!(
            " {}{}x{}{}",
            if p.values.is_complex() { "c" } else { "r" },
            p.variables.len().min(6),
            if np > 1 { 2 } else { np },
            if p.variables.iter().any(|v| !v.extra.is_empty()) {
                "+"
            } else {
                ""
            }
        ));
    }
    for format in [RawFormat::Binary, RawFormat::Ascii] {
        let mut out = Vec::new();
        if write_raw_to(&mut out, &plots, format).is_err() {
            shape.push_str(" unwritable");
            break;
        }
        let back = parse_raw(&out, path, &RawReadOptions::default()).unwrap_or_else(|e| {
            panic!(
                "a {format:?} rawfile written from what was read does not read back: {e}\n{}",
                String::from_utf8_lossy(&out)
            )
        });
        assert_eq!(back.len(), plots.len(), "{format:?}: plot count");
        for (a, b) in plots.iter().zip(&back) {
            assert_eq!(
                a.variables.len(),
                b.variables.len(),
                "{format:?}: variables"
            );
            assert_eq!(a.n_points(), b.n_points(), "{format:?}: points");
            assert_eq!(
                a.values.is_complex(),
                b.values.is_complex(),
                "{format:?}: flags"
            );
            if format == RawFormat::Binary {
                assert_eq!(
                    format!("{:?}", a.values),
                    format!("{:?}", b.values),
                    "binary values"
                );
            }
        }
    }
    Ok(shape)
}

/// Is `p` a plain relative path below `fuzz/files/` (no `..`, not absolute)? Other paths are
/// not opened by the targets: an input could name `/dev/zero` or a terminal.
fn confined(p: &str) -> bool {
    let p = Path::new(p);
    !p.as_os_str().is_empty()
        && p.components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
}

/// The training configuration loader ([`learn::train::parse_config`]) and its validation
/// ([`learn::train::validate`]: options, data, network, loss), with paths relative to
/// `fuzz/files/`.
pub fn train_config(data: &[u8]) -> Outcome {
    let config = learn::train::parse_config(&text(data), "fuzz.toml").map_err(|e| e.to_string())?;
    let builtin = ["iris", "digits", "xor", "regression"].contains(&config.data.dataset.as_str());
    if !builtin && !confined(&config.data.dataset) {
        return Ok("parsed, dataset path not opened".into());
    }
    if let Some(n) = &config.network.netlist {
        if !confined(n) {
            return Ok("parsed, netlist path not opened".into());
        }
    }
    let (split, net) =
        learn::train::validate(&config, &files_dir()).map_err(|e| format!("valid TOML: {e}"))?;
    Ok(format!(
        "valid {:?} train={} outputs={}",
        config.network.kind,
        split.train.len(),
        net.outputs.len()
    ))
}

/// The sweep specification loader ([`sweep::spec::Spec::parse`], which also reads and checks
/// the base netlist or training configuration), as a file of `fuzz/files/`.
pub fn sweep_spec(data: &[u8]) -> Outcome {
    let text = text(data);
    // Base files are opened relative to the spec: refuse to fuzz absolute or `..` paths (read
    // them from the TOML first; what does not parse is the loader's to reject).
    if let Ok(v) = text.parse::<toml::Table>() {
        if let Some(base) = v.get("base").and_then(|b| b.as_table()) {
            for key in ["netlist", "config"] {
                if let Some(p) = base.get(key).and_then(|p| p.as_str()) {
                    if !confined(p) {
                        return Ok(format!("{key} path not opened"));
                    }
                }
            }
        }
    }
    let spec = sweep::spec::Spec::parse(&text, &files_dir().join("fuzz.toml"))
        .map_err(|e| e.to_string())?;
    let points = spec.points();
    Ok(format!(
        "valid train={} axes={} points={}",
        spec.train.is_some(),
        spec.axes.len(),
        points.len().min(10)
    ))
}

/// The CSV readers: the store's trace reader (on bytes) and the learner's dataset reader.
pub fn csv(data: &[u8]) -> Outcome {
    let trace = store::csv::parse_csv_bytes(data, Path::new("fuzz.csv"));
    let dataset = learn::data::parse_csv(&text(data), "fuzz.csv");
    if let Ok(d) = &dataset {
        // What the dataset reader accepts must split (the trainer's next step).
        let _ = learn::data::split(d, 0.2, 1, true);
    }
    match (trace, dataset) {
        (Err(a), Err(b)) => Err(format!("{a} | {b}")),
        (t, d) => Ok(format!(
            "trace={} dataset={}",
            t.map_or_else(
                |_| "err".to_string(),
                |w| w.signals.len().min(4).to_string()
            ),
            d.map_or_else(|_| "err".to_string(), |d| d.n_features().min(4).to_string())
        )),
    }
}

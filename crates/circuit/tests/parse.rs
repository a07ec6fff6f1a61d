//! Parsing every supported construct, with exact expected values.
use circuit::*;

fn parse(text: &str) -> Circuit {
    match parse_str(text, "test.cir") {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    }
}

fn kind<'a>(c: &'a Circuit, name: &str) -> &'a ElementKind {
    &c.element(name)
        .unwrap_or_else(|| {
            panic!(
                "no element {name}; have {:?}",
                c.elements.iter().map(|e| &e.name).collect::<Vec<_>>()
            )
        })
        .kind
}

fn node(c: &Circuit, name: &str) -> NodeId {
    c.node(name)
        .unwrap_or_else(|| panic!("no node {name}; have {:?}", c.nodes))
}

#[test]
fn title_comments_continuations_case() {
    let c = parse(
        "My Title  \n* a comment\nR1 IN Out 1k ; trailing comment\n  * indented comment\nr2 out 0 $ comment\n+ 2k\n\nV1 in 0\n* between\n+ DC 5 $ dc\n.END\nR9 a b 1\n",
    );
    assert_eq!(c.title, "My Title");
    assert_eq!(c.nodes, vec!["0", "in", "out"]);
    assert_eq!(c.elements.len(), 3);
    assert_eq!(
        *kind(&c, "r1"),
        ElementKind::Resistor {
            a: 1,
            b: 2,
            resistance: 1e3
        }
    );
    assert_eq!(
        *kind(&c, "R2"),
        ElementKind::Resistor {
            a: 2,
            b: 0,
            resistance: 2e3
        }
    );
    assert_eq!(
        *kind(&c, "v1"),
        ElementKind::VoltageSource {
            pos: 1,
            neg: 0,
            source: Source::dc(5.0)
        }
    );
}

#[test]
fn engineering_suffixes_and_units() {
    let vals = [
        ("1f", 1e-15),
        ("2p", 2e-12),
        ("3n", 3e-9),
        ("4u", 4e-6),
        ("5m", 5e-3),
        ("6k", 6e3),
        ("7meg", 7e6),
        ("8g", 8e9),
        ("9t", 9e12),
        ("10mil", 10.0 * 25.4e-6),
        ("1kohm", 1e3),
        ("10uF", 10e-6),
        ("1e-3V", 1e-3),
        ("4.7K", 4.7e3),
        ("2.2MEG", 2.2e6),
        ("1.5e3", 1.5e3),
        (".5", 0.5),
        ("3Hz", 3.0),
    ];
    for (text, want) in vals {
        let c = parse(&format!("t\nR1 a 0 {text}\nV1 a 0 1\n"));
        assert_eq!(
            *kind(&c, "r1"),
            ElementKind::Resistor {
                a: 1,
                b: 0,
                resistance: want
            },
            "{text}"
        );
    }
}

#[test]
fn resistor_forms() {
    let c = parse(
        "t\n.param rv=2k\nR1 a 0 {rv*2}\nR2 a 0 r=3k\nR3 a 0 r={rv}\nR4 a 0 'rv+1'\nV1 a 0 1\n",
    );
    assert_eq!(
        *kind(&c, "r1"),
        ElementKind::Resistor {
            a: 1,
            b: 0,
            resistance: 4e3
        }
    );
    assert_eq!(
        *kind(&c, "r2"),
        ElementKind::Resistor {
            a: 1,
            b: 0,
            resistance: 3e3
        }
    );
    assert_eq!(
        *kind(&c, "r3"),
        ElementKind::Resistor {
            a: 1,
            b: 0,
            resistance: 2e3
        }
    );
    assert_eq!(
        *kind(&c, "r4"),
        ElementKind::Resistor {
            a: 1,
            b: 0,
            resistance: 2001.0
        }
    );
}

#[test]
fn capacitor_inductor_diode_vccs() {
    let c = parse(
        "t\nC1 a 0 1n\nC2 a b 2p ic=0.5\nL1 b 0 1m ic=-1m\nL2 a b l=3u\nD1 a b dm\nD2 b 0 dm 2.5\nD3 b 0 dm area=3\nG1 a 0 b 0 1m\n.model dm D(IS=1e-14 N=1.5)\n",
    );
    let (a, b) = (node(&c, "a"), node(&c, "b"));
    assert_eq!(
        *kind(&c, "c1"),
        ElementKind::Capacitor {
            a,
            b: 0,
            capacitance: 1e-9,
            ic: None
        }
    );
    assert_eq!(
        *kind(&c, "c2"),
        ElementKind::Capacitor {
            a,
            b,
            capacitance: 2e-12,
            ic: Some(0.5)
        }
    );
    assert_eq!(
        *kind(&c, "l1"),
        ElementKind::Inductor {
            a: b,
            b: 0,
            inductance: 1e-3,
            ic: Some(-1e-3)
        }
    );
    assert_eq!(
        *kind(&c, "l2"),
        ElementKind::Inductor {
            a,
            b,
            inductance: 3e-6,
            ic: None
        }
    );
    assert_eq!(
        *kind(&c, "d1"),
        ElementKind::Diode {
            anode: a,
            cathode: b,
            model: "dm".into(),
            area: 1.0
        }
    );
    assert_eq!(
        *kind(&c, "d2"),
        ElementKind::Diode {
            anode: b,
            cathode: 0,
            model: "dm".into(),
            area: 2.5
        }
    );
    assert_eq!(
        *kind(&c, "d3"),
        ElementKind::Diode {
            anode: b,
            cathode: 0,
            model: "dm".into(),
            area: 3.0
        }
    );
    assert_eq!(
        *kind(&c, "g1"),
        ElementKind::Vccs {
            pos: a,
            neg: 0,
            cpos: b,
            cneg: 0,
            gm: 1e-3
        }
    );
    assert_eq!(
        c.models["dm"],
        DiodeModel {
            is: 1e-14,
            n: 1.5,
            ..DiodeModel::default()
        }
    );
}

#[test]
fn sources() {
    let c = parse(
        "t\nV1 a 0 DC 1.5\nV2 a 0 2\nV3 a 0 AC 1 90\nV4 a 0 0 AC 2 SIN(0 1 1k)\nV5 a 0 SIN(0.5 1 1meg 1u 1e3 30)\nI1 a 0 PULSE(0 1m 1n 2n 3n 4n 10n)\nI2 a 0 PULSE(1 2)\nV6 a 0 PWL(0 0, 1m 1 2m 1)\nV7 a 0 DC 3 ac\nV8 a 0 sin 0 1 50\nV9 a 0 pulse (0 1 0 1n 1n 5n 10n)\n",
    );
    let src = |n: &str| match kind(&c, n) {
        ElementKind::VoltageSource { source, .. } | ElementKind::CurrentSource { source, .. } => {
            source.clone()
        }
        k => panic!("{k:?}"),
    };
    assert_eq!(src("v1"), Source::dc(1.5));
    assert_eq!(src("v2"), Source::dc(2.0));
    assert_eq!(
        src("v3"),
        Source {
            dc: None,
            ac: Some((1.0, 90.0)),
            tran: None
        }
    );
    assert_eq!(
        src("v4"),
        Source {
            dc: Some(0.0),
            ac: Some((2.0, 0.0)),
            tran: Some(TranFn::Sin {
                vo: 0.0,
                va: 1.0,
                freq: 1e3,
                td: 0.0,
                theta: 0.0,
                phase: 0.0
            })
        }
    );
    assert_eq!(
        src("v5").tran,
        Some(TranFn::Sin {
            vo: 0.5,
            va: 1.0,
            freq: 1e6,
            td: 1e-6,
            theta: 1e3,
            phase: 30.0
        })
    );
    assert_eq!(src("v5").dc, None);
    assert_eq!(
        src("i1").tran,
        Some(TranFn::Pulse {
            v1: 0.0,
            v2: 1e-3,
            td: 1e-9,
            tr: 2e-9,
            tf: 3e-9,
            pw: 4e-9,
            per: 10e-9
        })
    );
    assert_eq!(
        src("i2").tran,
        Some(TranFn::Pulse {
            v1: 1.0,
            v2: 2.0,
            td: 0.0,
            tr: 0.0,
            tf: 0.0,
            pw: 0.0,
            per: 0.0
        })
    );
    assert_eq!(
        src("v6").tran,
        Some(TranFn::Pwl(vec![(0.0, 0.0), (1e-3, 1.0), (2e-3, 1.0)]))
    );
    assert_eq!(
        src("v7"),
        Source {
            dc: Some(3.0),
            ac: Some((1.0, 0.0)),
            tran: None
        }
    );
    assert_eq!(
        src("v8").tran,
        Some(TranFn::Sin {
            vo: 0.0,
            va: 1.0,
            freq: 50.0,
            td: 0.0,
            theta: 0.0,
            phase: 0.0
        })
    );
    assert_eq!(
        src("v9").tran,
        Some(TranFn::Pulse {
            v1: 0.0,
            v2: 1.0,
            td: 0.0,
            tr: 1e-9,
            tf: 1e-9,
            pw: 5e-9,
            per: 10e-9
        })
    );
    assert!(matches!(
        kind(&c, "i1"),
        ElementKind::CurrentSource { pos: 1, neg: 0, .. }
    ));
}

#[test]
fn analyses_options_ic() {
    let c = parse(
        "t\nR1 a 0 1k\nC1 a b 1n\nR2 b 0 1k\n.options reltol=1e-4 abstol=1p vntol=1u chgtol=1e-15 gmin=1e-13 trtol=5\n.option method=gear maxord=2 itl1=200 itl4=50 interp noacct temp=30\n.ic v(a)=1 v(B)=-0.5\n.tran 1u 1m\n.tran 1n 2u 1u 1n uic\n.op\n",
    );
    let o = &c.options;
    assert_eq!(
        (o.reltol, o.abstol, o.vntol, o.chgtol, o.gmin, o.trtol),
        (1e-4, 1e-12, 1e-6, 1e-15, 1e-13, 5.0)
    );
    assert_eq!(
        (o.method, o.maxord, o.itl1, o.itl4, o.interp),
        (Method::Gear, 2, 200, 50, true)
    );
    assert_eq!(
        o.other,
        vec![
            ("noacct".to_string(), String::new()),
            ("temp".to_string(), "30".to_string())
        ]
    );
    assert_eq!(
        c.initial_conditions,
        vec![(node(&c, "a"), 1.0), (node(&c, "b"), -0.5)]
    );
    assert_eq!(
        c.analyses,
        vec![
            Analysis::Tran(Tran {
                tstep: 1e-6,
                tstop: 1e-3,
                tstart: 0.0,
                tmax: None,
                uic: false
            }),
            Analysis::Tran(Tran {
                tstep: 1e-9,
                tstop: 2e-6,
                tstart: 1e-6,
                tmax: Some(1e-9),
                uic: true
            }),
            Analysis::Op,
        ]
    );
    let e = parse("t\nR1 a 0 1\n.options method=euler\n");
    assert_eq!(e.options.method, Method::Euler);
    let t = parse("t\nR1 a 0 1\n.options method=trap\n");
    assert_eq!(t.options.method, Method::Trap);
}

#[test]
fn params_and_expressions() {
    let c = parse(
        "t\n.param a=2 b={a*3} c = a + b * 2\n.param d=-a^2 e=2**3 f=(a+b)/4 g=sqrt(16)+exp(0)+log(1)+ln(1)+abs(-2)\n.param h=sin(0)+cos(0)+tan(0)+pow(2,10)+min(3,1,2)+max(3,4) k=1k*2 m=-(3)\n\
R1 n 0 {a}\nR2 n 0 {b}\nR3 n 0 {c}\nR4 n 0 {-d}\nR5 n 0 {e}\nR6 n 0 {f}\nR7 n 0 {g}\nR8 n 0 {h}\nR9 n 0 {k}\nR10 n 0 {-m}\n",
    );
    let r = |n: &str| match kind(&c, n) {
        ElementKind::Resistor { resistance, .. } => *resistance,
        k => panic!("{k:?}"),
    };
    assert_eq!(r("r1"), 2.0);
    assert_eq!(r("r2"), 6.0);
    assert_eq!(r("r3"), 14.0);
    assert_eq!(r("r4"), 4.0);
    assert_eq!(r("r5"), 8.0);
    assert_eq!(r("r6"), 2.0);
    assert_eq!(r("r7"), 4.0 + 1.0 + 0.0 + 0.0 + 2.0);
    assert_eq!(r("r8"), 0.0 + 1.0 + 0.0 + 1024.0 + 1.0 + 4.0);
    assert_eq!(r("r9"), 2000.0);
    assert_eq!(r("r10"), 3.0);
}

#[test]
fn model_card_forms() {
    let c = parse(
        "t\nD1 a 0 d1\nD2 a 0 d2\nD3 a 0 d3\nR1 a 0 1\n.model d1 D(IS=1e-14 N=1.5)\n.MODEL D2 d IS=2e-14 RS=10 CJ0=1p PB=0.7 MJ=0.3 FC=0.4 TT=1n BV=50 IBV=1u\n.model d3 D ( is=3e-14, cjo=2p, vj=0.8, m=0.4\n+ )\n",
    );
    assert_eq!(
        c.models["d1"],
        DiodeModel {
            is: 1e-14,
            n: 1.5,
            ..Default::default()
        }
    );
    assert_eq!(
        c.models["d2"],
        DiodeModel {
            is: 2e-14,
            n: 1.0,
            rs: 10.0,
            cjo: 1e-12,
            vj: 0.7,
            m: 0.3,
            fc: 0.4,
            tt: 1e-9,
            bv: Some(50.0),
            ibv: 1e-6
        }
    );
    // cj given twice (as cjo and cj) is an error.
    assert!(parse_str("t\n.model d3 D(cjo=2p cj=3p)\n", "x").is_err());
    let c2 = parse("t\nD1 a 0 d3\nR1 a 0 1\n.model d3 D(is=3e-14, cjo=2p, vj=0.8, m=0.4)\n");
    assert_eq!(
        c2.models["d3"],
        DiodeModel {
            is: 3e-14,
            cjo: 2e-12,
            vj: 0.8,
            m: 0.4,
            ..Default::default()
        }
    );
    assert_eq!(
        c.models["d3"],
        DiodeModel {
            is: 3e-14,
            cjo: 2e-12,
            vj: 0.8,
            m: 0.4,
            ..Default::default()
        }
    );
}

#[test]
fn ignored_cards_and_control_blocks() {
    let c = parse(
        "t\nR1 a 0 1k\nV1 a 0 1\n.save all\n.print tran v(a)\n.plot tran v(a)\n.probe v(a)\n.four 1k v(a)\n.meas tran x max v(a)\n.measure tran y avg v(a)\n.temp 27\n.global vdd\n.control\nrun\nplot v(a) ; anything { goes\n.endc\n.tran 1u 1m\n.end\n",
    );
    assert_eq!(c.elements.len(), 2);
    assert_eq!(c.analyses.len(), 1);
}

#[test]
fn ground_aliases() {
    let c = parse("t\nR1 a gnd 1\nR2 a GND 1\nR3 a 0 1\n");
    for n in ["r1", "r2", "r3"] {
        assert_eq!(
            *kind(&c, n),
            ElementKind::Resistor {
                a: 1,
                b: 0,
                resistance: 1.0
            }
        );
    }
    assert_eq!(c.nodes, vec!["0", "a"]);
}

/// Names as ngspice 39.3 gives them (checked with `listing expand` and the rawfile variable
/// names): elements `r.x1.x2.r1`, nodes `x1.x2.m`, models `x1.x2:dloc`.
#[test]
fn subcircuit_flattening_matches_ngspice() {
    let text = "subckt naming test
.subckt inner a b
R1 a m 1k
V1 m b DC 1
C1 m 0 1n
D1 a b dloc
D2 a b dtop
.model dloc D(IS=2e-14)
.ends inner
.subckt outer p q
X2 p n inner
R2 n q 2k
Vq n mid DC 0
Rm mid q 1k
.ends
Vin in 0 DC 1
X1 in 0 outer
Rload in 0 1k
.model dtop D IS=1e-14 N=1.5
.end
";
    let c = parse(text);
    let names: Vec<&str> = c.elements.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "vin",
            "r.x1.x2.r1",
            "v.x1.x2.v1",
            "c.x1.x2.c1",
            "d.x1.x2.d1",
            "d.x1.x2.d2",
            "r.x1.r2",
            "v.x1.vq",
            "r.x1.rm",
            "rload"
        ]
    );
    assert_eq!(c.nodes, ["0", "in", "x1.x2.m", "x1.n", "x1.mid"]);
    let (inn, m, n) = (node(&c, "in"), node(&c, "x1.x2.m"), node(&c, "x1.n"));
    assert_eq!(
        *kind(&c, "r.x1.x2.r1"),
        ElementKind::Resistor {
            a: inn,
            b: m,
            resistance: 1e3
        }
    );
    assert_eq!(
        *kind(&c, "v.x1.x2.v1"),
        ElementKind::VoltageSource {
            pos: m,
            neg: n,
            source: Source::dc(1.0)
        }
    );
    assert_eq!(
        *kind(&c, "c.x1.x2.c1"),
        ElementKind::Capacitor {
            a: m,
            b: 0,
            capacitance: 1e-9,
            ic: None
        }
    );
    assert_eq!(
        *kind(&c, "d.x1.x2.d1"),
        ElementKind::Diode {
            anode: inn,
            cathode: n,
            model: "x1.x2:dloc".into(),
            area: 1.0
        }
    );
    assert_eq!(
        *kind(&c, "d.x1.x2.d2"),
        ElementKind::Diode {
            anode: inn,
            cathode: n,
            model: "dtop".into(),
            area: 1.0
        }
    );
    assert_eq!(
        *kind(&c, "r.x1.r2"),
        ElementKind::Resistor {
            a: n,
            b: 0,
            resistance: 2e3
        }
    );
    assert_eq!(c.models.keys().collect::<Vec<_>>(), ["dtop", "x1.x2:dloc"]);
    assert_eq!(c.models["x1.x2:dloc"].is, 2e-14);
}

#[test]
fn subcircuit_params_and_globals() {
    let text = "t
.param scale=2
.subckt div top bot params: r1=1k r2={r1*2}
Ra top mid {r1*scale}
Rb mid bot {r2}
Rs mid vdd 1
.ends
.subckt div2 a b rr=5
R1 a b {rr}
.ends
.global vdd
V1 in 0 1
Vd vdd 0 1
X1 in 0 div
X2 in 0 div r1=10
X3 in 0 div params: r2=7
X4 in 0 div2 rr={scale*3}
";
    let c = parse(text);
    let r = |n: &str| match kind(&c, n) {
        ElementKind::Resistor { resistance, .. } => *resistance,
        k => panic!("{k:?}"),
    };
    assert_eq!(r("r.x1.ra"), 2000.0);
    assert_eq!(r("r.x1.rb"), 2000.0);
    assert_eq!(r("r.x2.ra"), 20.0);
    assert_eq!(r("r.x2.rb"), 20.0);
    assert_eq!(r("r.x3.ra"), 2000.0);
    assert_eq!(r("r.x3.rb"), 7.0);
    assert_eq!(r("r.x4.r1"), 6.0);
    // The global node is shared, not prefixed.
    assert!(
        matches!(kind(&c, "r.x1.rs"), ElementKind::Resistor { b, .. } if *b == node(&c, "vdd"))
    );
    assert!(c.node("x1.vdd").is_none());
    assert!(c.node("x1.mid").is_some() && c.node("x2.mid").is_some());
}

#[test]
fn include_relative_to_including_file() {
    let dir = std::env::temp_dir().join(format!("freqprop-circuit-inc-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(
        dir.join("sub/models.inc"),
        "* models\n.model dm D(IS=5e-15)\n.include \"more.inc\"\n",
    )
    .unwrap();
    std::fs::write(dir.join("sub/more.inc"), "R2 a 0 2k\n").unwrap();
    std::fs::write(dir.join("bad.inc"), "R1 a 0 1k\n\nR3 a 0 1x\n").unwrap();
    std::fs::write(
        dir.join("main.cir"),
        "main\n.include \"sub/models.inc\"\nD1 a 0 dm\nV1 a 0 1\n.end\n",
    )
    .unwrap();
    std::fs::write(dir.join("bad.cir"), "main\nV1 a 0 1\n.inc bad.inc\n").unwrap();
    let c = parse_file(&dir.join("main.cir")).unwrap();
    assert_eq!(c.models["dm"].is, 5e-15);
    assert_eq!(
        *kind(&c, "r2"),
        ElementKind::Resistor {
            a: 1,
            b: 0,
            resistance: 2e3
        }
    );
    let e = parse_file(&dir.join("bad.cir")).unwrap_err();
    assert_eq!(e.file, dir.join("bad.inc"));
    assert_eq!((e.line, e.column), (3, 8));
    assert_eq!(e.text, "R3 a 0 1x");
    assert_eq!(
        e.message,
        "expected a number for the resistance of r3, found \"1x\""
    );
    std::fs::write(dir.join("loop.cir"), "loop\n.include loop.cir\n").unwrap();
    let e = parse_file(&dir.join("loop.cir")).unwrap_err();
    assert!(e.message.contains("include cycle"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn large_netlist_parses_quickly() {
    let mut text = String::from("ladder\nV1 n0 0 1\n");
    for k in 0..100_000 {
        text.push_str(&format!("R{k} n{k} n{} 1k\nC{k} n{} 0 1p\n", k + 1, k + 1));
    }
    let t = std::time::Instant::now();
    let c = parse(&text);
    let dt = t.elapsed();
    assert_eq!(c.elements.len(), 200_001);
    assert_eq!(c.nodes.len(), 100_002);
    assert_eq!(c.node("n100000"), Some(100_001));
    let w = write_netlist(&c);
    assert_eq!(parse(&w), c);
    eprintln!("parsed 200k elements in {dt:?}");
    assert!(
        dt.as_secs_f64() < 20.0,
        "parsing 200k elements took {dt:?} (quadratic?)"
    );
}

/// The example in docs/netlist.md parses to what the page says.
#[test]
fn docs_example_parses() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/netlist.md"
    ))
    .unwrap();
    let start = doc.find("```spice\n").unwrap() + 9;
    let end = start + doc[start..].find("```").unwrap();
    let c = parse(&doc[start..end]);
    let cval = 1.0 / (2.0 * std::f64::consts::PI * 1e3 * 1e3);
    assert!(
        matches!(kind(&c, "c1"), ElementKind::Capacitor { capacitance, ic: Some(0.0), .. } if *capacitance == cval)
    );
    assert_eq!(
        *kind(&c, "r.x1.r1"),
        ElementKind::Resistor {
            a: node(&c, "out"),
            b: node(&c, "x1.mid"),
            resistance: 20.0
        }
    );
    assert!(
        matches!(kind(&c, "d.x1.d1"), ElementKind::Diode { model, .. } if model == "x1:dclamp")
    );
    assert_eq!(
        c.tran(),
        Some(&Tran {
            tstep: 1e-5,
            tstop: 5e-3,
            tstart: 0.0,
            tmax: Some(5e-6),
            uic: true
        })
    );
    assert!(check_topology(&c).is_ok());
}

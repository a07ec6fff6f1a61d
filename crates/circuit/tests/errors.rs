//! Bad netlists give errors that point at the file, line and column of the offending token and
//! say what was expected.
use circuit::parse_str;

/// Parse `text` expecting an error; return (line, column, line text, message).
fn err(text: &str) -> (usize, usize, String, String) {
    match parse_str(text, "bad.cir") {
        Ok(c) => panic!("expected an error, parsed {c:?}"),
        Err(e) => {
            assert_eq!(e.file, std::path::PathBuf::from("bad.cir"));
            (e.line, e.column, e.text, e.message)
        }
    }
}

#[test]
fn bad_number() {
    let (l, c, t, m) = err("t\nR1 a 0 1k\nR3 a 0 1x\n");
    assert_eq!((l, c, t.as_str()), (3, 8, "R3 a 0 1x"));
    assert_eq!(
        m,
        "expected a number for the resistance of r3, found \"1x\""
    );
}

#[test]
fn unknown_element_letter() {
    let (l, c, _, m) = err("t\n  Z1 a 0 1\n");
    assert_eq!((l, c), (2, 3));
    assert!(
        m.contains("'z'") && m.contains("z1") && m.contains("not supported"),
        "{m}"
    );
    let (_, _, _, m) = err("t\n#1 a 0 1\n");
    assert!(m.contains("unknown element type '#'"), "{m}");
}

#[test]
fn missing_nodes() {
    let (l, c, _, m) = err("t\nR1 a\n");
    assert_eq!((l, c), (2, 6));
    assert_eq!(m, "r1 needs 2 nodes, found 1");
    let (_, _, _, m) = err("t\nV1\n");
    assert_eq!(m, "v1 needs 2 nodes, found 0");
    let (_, _, _, m) = err("t\nG1 a 0 b\n");
    assert_eq!(m, "g1 needs 4 nodes, found 3");
}

#[test]
fn missing_value() {
    let (l, c, _, m) = err("t\nC1 a 0\n");
    assert_eq!((l, c), (2, 8));
    assert_eq!(m, "expected the capacitance of c1 after its nodes");
}

#[test]
fn duplicate_names_after_flattening() {
    let (l, c, _, m) = err("t\nR1 a 0 1\nr1 a 0 2\n");
    assert_eq!((l, c), (3, 1));
    assert_eq!(
        m,
        "duplicate element name 'r1' (first defined at bad.cir:2)"
    );
    // A top-level element literally named like a flattened one collides too.
    let (l, _, _, m) = err("t\n.subckt s a\nR1 a 0 1\n.ends\nX1 n s\nr.x1.r1 n 0 1\n");
    assert_eq!(l, 6);
    assert!(m.contains("'r.x1.r1'"), "{m}");
}

#[test]
fn non_positive_resistance() {
    let (l, c, _, m) = err("t\nR1 a 0 -1k\n");
    assert_eq!((l, c), (2, 8));
    assert_eq!(m, "the resistance of r1 must be positive, found -1000");
    let (_, _, _, m) = err("t\nR1 a 0 0\n");
    assert_eq!(m, "the resistance of r1 must be positive, found 0");
}

#[test]
fn unknown_subcircuit_and_port_count() {
    let (l, c, _, m) = err("t\nX1 a b nosuch\n");
    assert_eq!((l, c), (2, 8));
    assert_eq!(m, "unknown subcircuit 'nosuch' (used by x1)");
    let (l, c, _, m) = err("t\n.subckt two p q\nR1 p q 1\n.ends\nX1 a b c two\n");
    assert_eq!((l, c), (5, 10));
    assert_eq!(
        m,
        "x1 connects 3 node(s) but subcircuit 'two' has 2 port(s) (p q)"
    );
}

#[test]
fn recursive_subcircuit() {
    let (l, c, _, m) = err("t\n.subckt a p\nX1 p b\n.ends\n.subckt b p\nX2 p a\n.ends\nX0 n a\n");
    assert_eq!((l, c), (6, 6));
    assert_eq!(m, "recursive subcircuit 'a' (a -> b -> a)");
}

#[test]
fn unknown_param() {
    let (l, c, _, m) = err("t\n.param a=1\nR1 n 0 {a*bb}\n");
    assert_eq!((l, c), (3, 11));
    assert_eq!(
        m,
        "in the expression for the resistance of r1: unknown parameter 'bb'"
    );
    let (l, c, _, m) = err("t\n.param a = 2 * zz\n");
    assert_eq!((l, c), (2, 16));
    assert_eq!(
        m,
        "in the expression for parameter 'a': unknown parameter 'zz'"
    );
    let (_, _, _, m) = err("t\n.param a=1\nR1 n 0 a\n");
    assert_eq!(
        m,
        "expected a number for the resistance of r1, found \"a\" (write {a} to use the parameter)"
    );
}

#[test]
fn missing_ends() {
    let (l, c, _, m) = err("t\n.subckt amp in out\nR1 in out 1\n");
    assert_eq!((l, c), (2, 9));
    assert_eq!(m, "missing .ends for subcircuit 'amp'");
}

#[test]
fn undefined_model_and_unknown_model_parameter() {
    let (l, c, _, m) = err("t\nD1 a 0 nomodel\n");
    assert_eq!((l, c), (2, 8));
    assert_eq!(m, "diode d1 uses model 'nomodel', which is not defined");
    let (l, c, _, m) = err("t\n.model dm D(IS=1e-14 XYZ=3)\n");
    assert_eq!((l, c), (2, 22));
    assert!(
        m.starts_with("unknown diode model parameter 'XYZ' in model 'dm'"),
        "{m}"
    );
    let (_, _, _, m) = err("t\n.model q1 NPN(BF=100)\n");
    assert_eq!(
        m,
        "model type 'npn' of model 'q1' is not supported (only D diode models)"
    );
}

#[test]
fn source_errors() {
    let (l, c, _, m) = err("t\nV1 a 0 SIN(0 1)\n");
    assert_eq!((l, c), (2, 15));
    assert_eq!(
        m,
        "SIN of v1 takes 3 to 6 numbers (VO VA FREQ [TD [THETA [PHASE]]]), found 2"
    );
    let (_, c, _, m) = err("t\nV1 a 0 PWL(0 0 1m)\n");
    assert_eq!(c, 18);
    assert!(m.starts_with("PWL of v1 takes pairs"), "{m}");
    let (_, c, _, m) = err("t\nV1 a 0 PWL(0 0 1m 1 0.5m 2)\n");
    assert_eq!(c, 21);
    assert_eq!(m, "PWL times of v1 must not decrease: 0.0005 after 0.001");
    let (_, c, _, m) = err("t\nV1 a 0 SIN(0 1 1k\n");
    assert_eq!(c, 19);
    assert_eq!(m, "missing ')' closing SIN( of v1");
    let (_, c, _, m) = err("t\nV1 a 0 EXP(0 1)\n");
    assert_eq!(c, 8);
    assert!(m.contains("'EXP'"), "{m}");
    let (_, c, _, m) = err("t\nV1 a 0 DC 1 foo\n");
    assert_eq!(c, 13);
    assert_eq!(
        m,
        "expected DC, AC, SIN, PULSE or PWL for v1, found \"foo\""
    );
}

#[test]
fn card_errors() {
    let (l, c, _, m) = err("t\nR1 a 0 1\n.tran 1u\n");
    assert_eq!((l, c), (3, 10));
    assert_eq!(m, "expected TSTEP TSTOP [TSTART [TMAX]] [UIC] after .tran");
    let (_, c, _, m) = err("t\nR1 a 0 1\n.options method=magic\n");
    assert_eq!(c, 17);
    assert_eq!(
        m,
        "unknown integration method 'magic' (expected trap, gear or euler)"
    );
    let (_, _, _, m) = err("t\nR1 a 0 1\n.ac dec 10 1 1k\n");
    assert!(m.contains("'.ac' is not supported"), "{m}");
    let (_, _, _, m) = err("t\nR1 a 0 1\n.foo\n");
    assert_eq!(m, "unknown or unsupported card '.foo'");
    let (l, c, _, m) = err("t\nR1 a 0 1\n.ic v(zz)=1\n");
    assert_eq!((l, c), (3, 7));
    assert_eq!(m, "'.ic' sets node 'zz', which no element connects to");
    let (_, _, _, m) = err("t\n.ends\n");
    assert_eq!(m, ".ends without a matching .subckt");
    let (_, _, _, m) = err("t\n.control\nrun\n");
    assert_eq!(m, "'.control' block has no matching '.endc'");
}

#[test]
fn lexical_errors_and_continuation_positions() {
    let (l, c, _, m) = err("t\nR1 a 0 {1+\n");
    assert_eq!((l, c), (2, 8));
    assert!(m.starts_with("unterminated '{'"), "{m}");
    let (l, c, _, m) = err("t\n+ R1 a 0 1\n");
    assert_eq!((l, c), (2, 1));
    assert!(m.contains("continuation"), "{m}");
    // An error in a continuation line points at that physical line.
    let (l, c, t, m) = err("t\nR1 a\n+ 0\n+   bad\n");
    assert_eq!((l, c, t.as_str()), (4, 5, "+   bad"));
    assert_eq!(
        m,
        "expected a number for the resistance of r1, found \"bad\""
    );
}

#[test]
fn display_points_at_the_column() {
    let e = parse_str("t\n\tR1 a 0 1x\n", "bad.cir").unwrap_err();
    assert_eq!(
        e.to_string(),
        "bad.cir:2:9: expected a number for the resistance of r1, found \"1x\"\n   |  R1 a 0 1x\n   |         ^"
            .replace("   |", "  |")
    );
}

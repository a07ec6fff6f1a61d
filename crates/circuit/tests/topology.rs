//! Topology checks name the nodes and elements involved.
use circuit::*;

fn errors(text: &str) -> Vec<TopologyError> {
    let c = parse_str(text, "t.cir").unwrap_or_else(|e| panic!("{e}"));
    check_topology(&c).err().unwrap_or_default()
}

#[test]
fn good_circuit_passes() {
    assert!(errors("t\nV1 in 0 SIN(0 1 1k)\nR1 in a 1k\nD1 a out dm\nC1 out 0 1n\nL1 out b 1m\nR2 b 0 1k\n.model dm D\n").is_empty());
}

#[test]
fn floating_through_capacitor_and_current_source() {
    // mid and top are reached only through C1 and I1: a current-source/capacitor cut-set.
    let errs = errors(
        "t\nV1 in 0 1\nR1 in 0 1k\nC1 in mid 1n\nR2 mid top 1k\nI1 top 0 1m\nC2 lone 0 1p\n",
    );
    assert_eq!(
        errs,
        vec![
            TopologyError::CutSet {
                nodes: vec!["mid".into(), "top".into()],
                elements: vec!["c1".into(), "i1".into()],
            },
            TopologyError::CutSet {
                nodes: vec!["lone".into()],
                elements: vec!["c2".into()],
            },
        ]
    );
    assert_eq!(
        errs[0].to_string(),
        "node(s) mid, top have no DC path to ground: they are cut off by a cut-set of only current sources and capacitors: c1, i1"
    );
}

#[test]
fn cut_set_of_current_sources_only() {
    // I1 and I2 are the only link between {a, b} and ground: their sum must vanish by KCL.
    let errs = errors("t\nR0 x 0 1\nI0 x 0 1m\nI1 a 0 1m\nR1 a b 1k\nI2 0 b 2m\n");
    assert_eq!(
        errs,
        vec![TopologyError::CutSet {
            nodes: vec!["a".into(), "b".into()],
            elements: vec!["i1".into(), "i2".into()],
        }]
    );
}

#[test]
fn island_without_any_link_is_floating() {
    let errs = errors("t\nV1 in 0 1\nR1 in 0 1k\nR2 p q 1k\nR3 q p 2k\n");
    assert_eq!(
        errs,
        vec![TopologyError::Floating {
            nodes: vec!["p".into(), "q".into()]
        }]
    );
    assert!(errs[0].to_string().contains("no DC path to ground"));
}

#[test]
fn vccs_control_nodes_need_a_dc_path() {
    let errs = errors("t\nR1 a 0 1\nG1 a 0 c1 c2 1m\nC1 c1 c2 1p\n");
    // c1 and c2 are joined only by a capacitor (the VCCS's control terminals draw no
    // current), so each is its own group, cut off by C1.
    assert_eq!(
        errs,
        vec![
            TopologyError::CutSet {
                nodes: vec!["c1".into()],
                elements: vec!["c1".into()],
            },
            TopologyError::CutSet {
                nodes: vec!["c2".into()],
                elements: vec!["c1".into()],
            }
        ]
    );
    // A VCCS output is a current source: it alone links `o` to ground.
    let errs = errors("t\nV1 c 0 1\nR1 c 0 1\nG1 o 0 c 0 1m\nR2 o p 1k\n");
    assert_eq!(
        errs,
        vec![TopologyError::CutSet {
            nodes: vec!["o".into(), "p".into()],
            elements: vec!["g1".into()],
        }]
    );
}

#[test]
fn voltage_source_and_inductor_loops() {
    let errs = errors("t\nV1 a 0 1\nL1 a b 1m\nV2 b 0 2\nR1 a 0 1\nV3 c c 1\nR2 c 0 1\n");
    assert_eq!(
        errs,
        vec![
            TopologyError::SourceLoop {
                elements: vec!["l1".into(), "v1".into(), "v2".into()]
            },
            TopologyError::SourceLoop {
                elements: vec!["v3".into()]
            },
        ]
    );
    assert_eq!(
        errs[0].to_string(),
        "loop of only voltage sources and inductors: l1, v1, v2"
    );
    // Parallel voltage sources are a loop too.
    let errs = errors("t\nV1 a 0 1\nV2 a 0 1\n");
    assert_eq!(
        errs,
        vec![TopologyError::SourceLoop {
            elements: vec!["v1".into(), "v2".into()]
        }]
    );
}

#[test]
fn bad_values_undefined_models_and_bad_nodes() {
    let mut c = parse_str(
        "t\nV1 a 0 1\nR1 a 0 1\nC1 a 0 1n\nD1 a 0 dm\n.model dm D\n",
        "t.cir",
    )
    .unwrap();
    c.elements[1].kind = ElementKind::Resistor {
        a: 1,
        b: 0,
        resistance: -5.0,
    };
    c.elements[2].kind = ElementKind::Capacitor {
        a: 1,
        b: 0,
        capacitance: f64::NAN,
        ic: None,
    };
    c.elements[3].kind = ElementKind::Diode {
        anode: 1,
        cathode: 0,
        model: "nope".into(),
        area: 1.0,
    };
    c.elements[0].kind = ElementKind::VoltageSource {
        pos: 1,
        neg: 0,
        source: Source::dc(f64::INFINITY),
    };
    c.elements.push(Element {
        name: "r9".into(),
        kind: ElementKind::Resistor {
            a: 1,
            b: 7,
            resistance: 1.0,
        },
    });
    let errs = check_topology(&c).unwrap_err();
    let text: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
    assert_eq!(
        text,
        vec![
            "element v1: DC value must be finite, found inf",
            "element r1: resistance must be positive and finite, found -5",
            "element c1: capacitance must be positive and finite, found NaN",
            "diode d1 uses model 'nope', which is not defined",
            "element r9 connects to node index 7, but the circuit has only 2 nodes",
        ]
    );
}

#[test]
fn dangling_nodes_are_warnings() {
    let c = parse_str(
        "t\nV1 a 0 1\nR1 a b 1k\nR2 a 0 1k\nR3 c c 1\nR4 c 0 1\n.model unused D\n",
        "t.cir",
    )
    .unwrap();
    assert!(check_topology(&c).is_ok());
    assert_eq!(
        warnings(&c),
        vec![
            "element r3 has both terminals on node c",
            "node b is connected to only one element terminal (r1)",
            "model unused is not used by any element",
        ]
    );
}

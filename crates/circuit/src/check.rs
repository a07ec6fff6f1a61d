//! Topology checks run before any solve.
//!
//! [`check_topology`] finds the structural problems that make the MNA matrix singular or the
//! circuit meaningless: nodes with no DC path to ground (which is also how a cut-set of only
//! current sources and capacitors is reported, naming the elements of the cut-set), loops of
//! only voltage sources and inductors,
//! bad element values, undefined diode models and node indices out of range. [`warnings`]
//! lists suspicious but solvable things, such as a node touched by only one terminal.
use crate::model::*;

/// A structural problem of a circuit, naming the nodes or elements involved.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TopologyError {
    /// Nodes with no DC path to ground and no element at all linking them to the rest of the
    /// circuit (an island), so their DC voltage is undetermined.
    #[error("node(s) {} have no DC path to ground (no element connects them to the rest of the circuit)", list(.nodes))]
    Floating { nodes: Vec<String> },
    /// A cut-set of only current sources (independent or voltage-controlled) and capacitors:
    /// the listed elements are the only ones linking `nodes` to the rest of the circuit, so
    /// the DC voltage of those nodes is undetermined (and, with current sources only, KCL
    /// over the cut may be contradicted).
    #[error("node(s) {} have no DC path to ground: they are cut off by a cut-set of only current sources and capacitors: {}", list(.nodes), list(.elements))]
    CutSet {
        nodes: Vec<String>,
        elements: Vec<String>,
    },
    /// A loop made only of voltage sources and inductors (their branch currents are
    /// undetermined, or the source voltages contradict each other).
    #[error("loop of only voltage sources and inductors: {}", list(.elements))]
    SourceLoop { elements: Vec<String> },
    /// An element value that is not allowed (non-finite, or non-positive where it must be
    /// positive).
    #[error("element {element}: {what} must be {requirement}, found {value}")]
    BadValue {
        element: String,
        what: String,
        requirement: String,
        value: f64,
    },
    /// A diode that references a model missing from [`Circuit::models`].
    #[error("diode {element} uses model '{model}', which is not defined")]
    UndefinedModel { element: String, model: String },
    /// A terminal that refers to a node index outside [`Circuit::nodes`].
    #[error(
        "element {element} connects to node index {node}, but the circuit has only {count} nodes"
    )]
    BadNode {
        element: String,
        node: NodeId,
        count: usize,
    },
}

fn list(names: &[String]) -> String {
    names.join(", ")
}

/// Disjoint sets over node indices.
struct UnionFind {
    parent: Vec<usize>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        UnionFind {
            parent: (0..n).collect(),
        }
    }
    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }
    /// Join two sets; false when they were already one.
    fn union(&mut self, a: usize, b: usize) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return false;
        }
        self.parent[ra.max(rb)] = ra.min(rb);
        true
    }
}

fn value_errors(e: &Element, out: &mut Vec<TopologyError>) {
    let mut bad = |what: &str, requirement: &str, value: f64| {
        out.push(TopologyError::BadValue {
            element: e.name.clone(),
            what: what.to_string(),
            requirement: requirement.to_string(),
            value,
        })
    };
    let positive = |v: f64| v.is_finite() && v > 0.0;
    match &e.kind {
        ElementKind::Resistor { resistance: v, .. } if !positive(*v) => {
            bad("resistance", "positive and finite", *v)
        }
        ElementKind::Capacitor {
            capacitance: v, ic, ..
        }
        | ElementKind::Inductor {
            inductance: v, ic, ..
        } => {
            let what = if matches!(e.kind, ElementKind::Capacitor { .. }) {
                "capacitance"
            } else {
                "inductance"
            };
            if !positive(*v) {
                bad(what, "positive and finite", *v);
            }
            if let Some(x) = ic.filter(|x| !x.is_finite()) {
                bad("initial condition", "finite", x);
            }
        }
        ElementKind::Diode { area, .. } if !positive(*area) => {
            bad("area", "positive and finite", *area)
        }
        ElementKind::Vccs { gm, .. } if !gm.is_finite() => bad("transconductance", "finite", *gm),
        ElementKind::CurrentSource { source, .. } | ElementKind::VoltageSource { source, .. } => {
            let mut vals: Vec<(&str, f64)> = Vec::new();
            if let Some(dc) = source.dc {
                vals.push(("DC value", dc));
            }
            if let Some((m, p)) = source.ac {
                vals.push(("AC magnitude", m));
                vals.push(("AC phase", p));
            }
            match &source.tran {
                Some(TranFn::Sin {
                    vo,
                    va,
                    freq,
                    td,
                    theta,
                    phase,
                }) => {
                    for (n, v) in [
                        ("SIN VO", vo),
                        ("SIN VA", va),
                        ("SIN FREQ", freq),
                        ("SIN TD", td),
                        ("SIN THETA", theta),
                        ("SIN PHASE", phase),
                    ] {
                        vals.push((n, *v));
                    }
                }
                Some(TranFn::Pulse {
                    v1,
                    v2,
                    td,
                    tr,
                    tf,
                    pw,
                    per,
                }) => {
                    for (n, v) in [
                        ("PULSE V1", v1),
                        ("PULSE V2", v2),
                        ("PULSE TD", td),
                        ("PULSE TR", tr),
                        ("PULSE TF", tf),
                        ("PULSE PW", pw),
                        ("PULSE PER", per),
                    ] {
                        vals.push((n, *v));
                    }
                }
                Some(TranFn::Pwl(pts)) => {
                    for (k, (t, v)) in pts.iter().enumerate() {
                        vals.push(("PWL time", *t));
                        vals.push(("PWL value", *v));
                        if k > 0 && *t < pts[k - 1].0 {
                            bad("PWL time", "not less than the previous time", *t);
                        }
                    }
                }
                None => {}
            }
            for (what, v) in vals {
                if !v.is_finite() {
                    bad(what, "finite", v);
                }
            }
        }
        _ => {}
    }
}

/// Find a path between `from` and `to` in a forest given as adjacency lists of
/// `(neighbour, element index)`; returns the element indices along it.
fn forest_path(adj: &[Vec<(usize, usize)>], from: usize, to: usize) -> Vec<usize> {
    let mut prev: Vec<Option<(usize, usize)>> = vec![None; adj.len()];
    let mut seen = vec![false; adj.len()];
    let mut queue = std::collections::VecDeque::from([from]);
    seen[from] = true;
    while let Some(n) = queue.pop_front() {
        if n == to {
            break;
        }
        for &(m, e) in &adj[n] {
            if !seen[m] {
                seen[m] = true;
                prev[m] = Some((n, e));
                queue.push_back(m);
            }
        }
    }
    let mut path = Vec::new();
    let mut n = to;
    while let Some((p, e)) = prev[n] {
        path.push(e);
        n = p;
    }
    path.reverse();
    path
}

/// Check a circuit for floating nodes, voltage-source/inductor loops, current-source/capacitor
/// cut-sets, bad values and undefined models. Returns every problem found.
pub fn check_topology(c: &Circuit) -> Result<(), Vec<TopologyError>> {
    let n = c.nodes.len().max(1);
    let mut errors = Vec::new();
    let mut ok = vec![true; c.elements.len()];
    for (k, e) in c.elements.iter().enumerate() {
        for t in e.kind.terminals() {
            if t >= n {
                errors.push(TopologyError::BadNode {
                    element: e.name.clone(),
                    node: t,
                    count: c.nodes.len(),
                });
                ok[k] = false;
                break;
            }
        }
        value_errors(e, &mut errors);
        if let ElementKind::Diode { model, .. } = &e.kind {
            if !c.models.contains_key(model) {
                errors.push(TopologyError::UndefinedModel {
                    element: e.name.clone(),
                    model: model.clone(),
                });
            }
        }
    }
    // Loops of voltage sources and inductors.
    let mut uf = UnionFind::new(n);
    let mut adj: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
    for (k, e) in c.elements.iter().enumerate() {
        let (a, b) = match e.kind {
            ElementKind::VoltageSource { pos, neg, .. } => (pos, neg),
            ElementKind::Inductor { a, b, .. } => (a, b),
            _ => continue,
        };
        if !ok[k] {
            continue;
        }
        if uf.union(a, b) {
            adj[a].push((b, k));
            adj[b].push((a, k));
        } else {
            let mut elements: Vec<String> = forest_path(&adj, a, b)
                .into_iter()
                .map(|i| c.elements[i].name.clone())
                .collect();
            elements.push(e.name.clone());
            errors.push(TopologyError::SourceLoop { elements });
        }
    }
    // DC paths to ground.
    let mut uf = UnionFind::new(n);
    for (k, e) in c.elements.iter().enumerate() {
        if !ok[k] {
            continue;
        }
        match e.kind {
            ElementKind::Resistor { a, b, .. } | ElementKind::Inductor { a, b, .. } => {
                uf.union(a, b);
            }
            ElementKind::Diode { anode, cathode, .. } => {
                uf.union(anode, cathode);
            }
            ElementKind::VoltageSource { pos, neg, .. } => {
                uf.union(pos, neg);
            }
            _ => {}
        }
    }
    let ground = uf.find(GROUND);
    let mut groups: std::collections::BTreeMap<usize, Vec<String>> = Default::default();
    for id in 1..c.nodes.len() {
        let r = uf.find(id);
        if r != ground {
            groups.entry(r).or_default().push(c.nodes[id].clone());
        }
    }
    // The cut-set of each floating group: the current-carrying elements (capacitors, current
    // sources, VCCS outputs) with one terminal inside the group and one outside.
    let mut cuts: std::collections::BTreeMap<usize, Vec<String>> = Default::default();
    for (k, e) in c.elements.iter().enumerate() {
        if !ok[k] {
            continue;
        }
        let (a, b) = match e.kind {
            ElementKind::Capacitor { a, b, .. } => (a, b),
            ElementKind::CurrentSource { pos, neg, .. } | ElementKind::Vccs { pos, neg, .. } => {
                (pos, neg)
            }
            _ => continue,
        };
        let (ra, rb) = (uf.find(a), uf.find(b));
        if ra == rb {
            continue;
        }
        for r in [ra, rb] {
            if r != ground {
                cuts.entry(r).or_default().push(e.name.clone());
            }
        }
    }
    for (r, nodes) in groups {
        match cuts.remove(&r) {
            Some(elements) => errors.push(TopologyError::CutSet { nodes, elements }),
            None => errors.push(TopologyError::Floating { nodes }),
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Suspicious but solvable features: nodes connected to only one element terminal
/// (dangling), elements with all terminals on one node, and unused models.
pub fn warnings(c: &Circuit) -> Vec<String> {
    let mut out = Vec::new();
    let mut count = vec![0usize; c.nodes.len()];
    let mut first: Vec<Option<&str>> = vec![None; c.nodes.len()];
    for e in &c.elements {
        let terms = e.kind.terminals();
        for &t in &terms {
            if let Some(k) = count.get_mut(t) {
                *k += 1;
                first[t].get_or_insert(&e.name);
            }
        }
        let two = &terms[..2];
        if two[0] == two[1] {
            let node = c.nodes.get(two[0]).map(String::as_str).unwrap_or("?");
            out.push(format!(
                "element {} has both terminals on node {node}",
                e.name
            ));
        }
    }
    for id in 1..c.nodes.len() {
        if count[id] == 1 {
            out.push(format!(
                "node {} is connected to only one element terminal ({})",
                c.nodes[id],
                first[id].unwrap_or("?")
            ));
        }
    }
    for name in c.models.keys() {
        let used = c
            .elements
            .iter()
            .any(|e| matches!(&e.kind, ElementKind::Diode { model, .. } if model == name));
        if !used {
            out.push(format!("model {name} is not used by any element"));
        }
    }
    out
}

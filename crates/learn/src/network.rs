//! Trainable networks: which resistors learn, where the inputs drive the circuit and where
//! the outputs are read. Builders for layered (Kendall et al. 2020 style), random and mesh
//! networks, and for a user netlist.

use crate::rng::Rng;
use crate::LearnError;
use circuit::{Circuit, DiodeModel, Element, ElementKind, NodeId, Source};
use serde::{Deserialize, Serialize};

/// An input: an independent source whose value is `scale · x[feature]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputSource {
    /// Circuit element index of the (voltage or current) source.
    pub element: usize,
    /// Which feature drives it.
    pub feature: usize,
    /// Volts (or amperes) per unit of the standardised feature; negative for the `−x` half
    /// of a ± pair.
    pub scale: f64,
}

/// An output: the voltage `v(pos) − v(neg)` (`neg` = 0 for a node voltage).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Output {
    /// Node read (and where the error current is injected).
    pub pos: NodeId,
    /// Reference node (ground for a plain node voltage); the error current is drawn from it.
    pub neg: NodeId,
}

/// A circuit with its trainable resistors, inputs and outputs.
#[derive(Debug, Clone)]
pub struct Network {
    /// The circuit (trainable resistors hold the current conductances).
    pub circuit: Circuit,
    /// Element indices of the trainable resistors.
    pub trainable: Vec<usize>,
    /// Input sources.
    pub inputs: Vec<InputSource>,
    /// Outputs.
    pub outputs: Vec<Output>,
    /// Lower clip of every trainable conductance, siemens.
    pub g_min: f64,
    /// Upper clip, siemens.
    pub g_max: f64,
}

impl Network {
    /// Conductances of the trainable resistors, in `trainable` order.
    pub fn conductances(&self) -> Vec<f64> {
        self.trainable
            .iter()
            .map(|&k| match self.circuit.elements[k].kind {
                ElementKind::Resistor { resistance, .. } => 1.0 / resistance,
                _ => unreachable!("trainable elements are resistors"),
            })
            .collect()
    }

    /// Write conductances into the circuit.
    pub fn set_conductances(&mut self, g: &[f64]) {
        for (&k, &gk) in self.trainable.iter().zip(g) {
            if let ElementKind::Resistor { resistance, .. } = &mut self.circuit.elements[k].kind {
                *resistance = 1.0 / gk;
            }
        }
    }

    /// Terminal nodes `(a, b)` of every trainable resistor (drop = v(a) − v(b)).
    pub fn trainable_nodes(&self) -> Vec<(NodeId, NodeId)> {
        self.trainable
            .iter()
            .map(|&k| match self.circuit.elements[k].kind {
                ElementKind::Resistor { a, b, .. } => (a, b),
                _ => unreachable!("trainable elements are resistors"),
            })
            .collect()
    }

    /// Number of input features used (largest feature index + 1).
    pub fn n_features(&self) -> usize {
        self.inputs.iter().map(|i| i.feature + 1).max().unwrap_or(0)
    }

    /// Trainable resistor names.
    pub fn trainable_names(&self) -> Vec<String> {
        self.trainable
            .iter()
            .map(|&k| self.circuit.elements[k].name.clone())
            .collect()
    }

    /// Source value of every input for sample `x`.
    pub fn input_values<'a>(&'a self, x: &'a [f64]) -> impl Iterator<Item = (usize, f64)> + 'a {
        self.inputs
            .iter()
            .map(move |i| (i.element, i.scale * x[i.feature]))
    }

    /// Clip conductances to `[g_min, g_max]`.
    pub fn clip(&self, g: &mut [f64]) {
        for v in g {
            *v = v.clamp(self.g_min, self.g_max);
        }
    }
}

/// The nonlinearity on each hidden (or internal) node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Nonlinearity {
    /// No diode: a linear network.
    None,
    /// A diode from the node to ground (anode at the node): clamps the node below ≈ +0.5 V.
    Up,
    /// A diode from ground to the node (cathode at the node): clamps it above ≈ −0.5 V.
    Down,
    /// `up` and `down` on alternate nodes (the default: both half-waves are available, which
    /// a passive network needs for functions like XOR).
    #[default]
    Alternate,
    /// An antiparallel pair to ground: a symmetric soft clip.
    Pair,
}

/// Settings shared by all builders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Common {
    /// Initial conductances are drawn uniformly from `[g_init[0], g_init[1]]`, siemens.
    pub g_init: [f64; 2],
    /// Clip range of trainable conductances, siemens.
    pub g_min: f64,
    /// Clip range of trainable conductances, siemens.
    pub g_max: f64,
    /// Parasitic capacitance from every free node to ground, farads (0: none).
    pub capacitance: f64,
    /// Diode saturation current, amperes.
    pub diode_is: f64,
    /// Diode emission coefficient.
    pub diode_n: f64,
    /// Nonlinearity of hidden/internal nodes.
    pub nonlinearity: Nonlinearity,
    /// Volts per unit of standardised input (inputs are driven as ± pairs of voltage sources).
    pub input_scale: f64,
    /// Bias rails at `+bias_voltage` and `−bias_voltage`, volts (0: no rails).
    pub bias_voltage: f64,
}

impl Default for Common {
    fn default() -> Self {
        Common {
            g_init: [0.2e-3, 2e-3],
            g_min: 1e-6,
            g_max: 2e-2,
            capacitance: 0.0,
            diode_is: 1e-12,
            diode_n: 1.0,
            nonlinearity: Nonlinearity::Alternate,
            input_scale: 1.0,
            bias_voltage: 1.0,
        }
    }
}

/// Incremental construction of a network circuit.
struct Builder {
    c: Circuit,
    /// Node ids by name (`Circuit::node_or_insert` searches linearly: quadratic in big
    /// networks).
    node_ids: std::collections::HashMap<String, NodeId>,
    trainable: Vec<usize>,
    inputs: Vec<InputSource>,
    common: Common,
    n_r: usize,
    n_d: usize,
    n_v: usize,
    diode_count: usize,
}

impl Builder {
    fn new(title: &str, common: &Common) -> Builder {
        let mut c = Circuit {
            title: title.to_string(),
            ..Default::default()
        };
        tighten_options(&mut c);
        c.models.insert(
            "dlearn".into(),
            DiodeModel {
                is: common.diode_is,
                n: common.diode_n,
                ..Default::default()
            },
        );
        Builder {
            c,
            node_ids: Default::default(),
            trainable: vec![],
            inputs: vec![],
            common: common.clone(),
            n_r: 0,
            n_d: 0,
            n_v: 0,
            diode_count: 0,
        }
    }

    fn node(&mut self, name: &str) -> NodeId {
        if let Some(&id) = self.node_ids.get(name) {
            return id;
        }
        let lower = name.to_ascii_lowercase();
        let id = if lower == "0" || lower == "gnd" {
            0
        } else {
            self.c.nodes.push(lower);
            self.c.nodes.len() - 1
        };
        self.node_ids.insert(name.to_string(), id);
        id
    }

    fn push(&mut self, name: String, kind: ElementKind) -> usize {
        self.c.elements.push(Element { name, kind });
        self.c.elements.len() - 1
    }

    fn vsource(&mut self, node: NodeId, value: f64) -> usize {
        self.n_v += 1;
        let name = format!("v{}", self.n_v);
        self.push(
            name,
            ElementKind::VoltageSource {
                pos: node,
                neg: 0,
                source: Source::dc(value),
            },
        )
    }

    fn trainable(&mut self, a: NodeId, b: NodeId, rng: &mut Rng) {
        self.n_r += 1;
        let g = rng.range(self.common.g_init[0], self.common.g_init[1]);
        let k = self.push(
            format!("r{}", self.n_r),
            ElementKind::Resistor {
                a,
                b,
                resistance: 1.0 / g,
            },
        );
        self.trainable.push(k);
    }

    fn diode(&mut self, anode: NodeId, cathode: NodeId) {
        self.n_d += 1;
        let name = format!("d{}", self.n_d);
        self.push(
            name,
            ElementKind::Diode {
                anode,
                cathode,
                model: "dlearn".into(),
                area: 1.0,
            },
        );
    }

    /// The nonlinearity on a hidden node.
    fn nonlinear(&mut self, node: NodeId) {
        let k = self.diode_count;
        self.diode_count += 1;
        match self.common.nonlinearity {
            Nonlinearity::None => {}
            Nonlinearity::Up => self.diode(node, 0),
            Nonlinearity::Down => self.diode(0, node),
            Nonlinearity::Alternate => {
                if k % 2 == 0 {
                    self.diode(node, 0)
                } else {
                    self.diode(0, node)
                }
            }
            Nonlinearity::Pair => {
                self.diode(node, 0);
                self.diode(0, node);
            }
        }
    }

    /// ± input pairs and bias rails; returns the source-driven nodes.
    fn inputs_and_rails(&mut self, n_inputs: usize) -> Vec<NodeId> {
        let mut nodes = Vec::new();
        for i in 0..n_inputs {
            for (suffix, sign) in [("p", 1.0), ("n", -1.0)] {
                let nd = self.node(&format!("in{i}{suffix}"));
                let el = self.vsource(nd, 0.0);
                self.inputs.push(InputSource {
                    element: el,
                    feature: i,
                    scale: sign * self.common.input_scale,
                });
                nodes.push(nd);
            }
        }
        if self.common.bias_voltage != 0.0 {
            let bp = self.node("biasp");
            self.vsource(bp, self.common.bias_voltage);
            let bn = self.node("biasn");
            self.vsource(bn, -self.common.bias_voltage);
            nodes.push(bp);
            nodes.push(bn);
        }
        nodes
    }

    fn finish(
        mut self,
        outputs: Vec<Output>,
        free_nodes: &[NodeId],
    ) -> Result<Network, LearnError> {
        if self.common.capacitance > 0.0 {
            for (i, &n) in free_nodes.iter().enumerate() {
                let cap = self.common.capacitance;
                self.push(
                    format!("cpar{i}"),
                    ElementKind::Capacitor {
                        a: n,
                        b: 0,
                        capacitance: cap,
                        ic: None,
                    },
                );
            }
        }
        check_common(&self.common)?;
        Ok(Network {
            circuit: self.c,
            trainable: self.trainable,
            inputs: self.inputs,
            outputs,
            g_min: self.common.g_min,
            g_max: self.common.g_max,
        })
    }
}

/// Tolerances tight enough for gradient work (the readout needs the equilibrium to ~1e-12).
pub fn tighten_options(c: &mut Circuit) {
    c.options.reltol = c.options.reltol.min(1e-9);
    c.options.vntol = c.options.vntol.min(1e-12);
    c.options.abstol = c.options.abstol.min(1e-15);
    c.options.itl1 = c.options.itl1.max(200);
}

fn check_common(c: &Common) -> Result<(), LearnError> {
    let bad = |m: String| Err(LearnError::Config(m));
    if !(c.g_min > 0.0 && c.g_min < c.g_max && c.g_max.is_finite()) {
        return bad(format!(
            "need 0 < g_min < g_max, got g_min = {}, g_max = {}",
            c.g_min, c.g_max
        ));
    }
    if !(c.g_init[0] > 0.0 && c.g_init[0] <= c.g_init[1] && c.g_init[1].is_finite()) {
        return bad(format!(
            "g_init must be [low, high] with 0 < low ≤ high, got {:?}",
            c.g_init
        ));
    }
    if !(c.capacitance >= 0.0) || !(c.diode_is > 0.0) || !(c.diode_n > 0.0) {
        return bad("capacitance must be ≥ 0, diode_is and diode_n > 0".into());
    }
    Ok(())
}

/// Most internal (hidden, mesh or random) nodes a generated network may have.
pub const MAX_NODES: usize = 100_000;
/// Most trainable resistors a generated network may have.
pub const MAX_TRAINABLE: usize = 200_000;

/// Refuse a generated network beyond [`MAX_NODES`] or [`MAX_TRAINABLE`] (`None`: the count
/// overflows) before any of it is built.
fn check_size(
    what: &str,
    nodes: Option<usize>,
    resistors: Option<usize>,
) -> Result<(), LearnError> {
    let big = |n: Option<usize>, max: usize| n.is_none_or(|n| n > max);
    let shown = |n: Option<usize>| n.map_or("more than 2^64".to_string(), |n| n.to_string());
    if big(nodes, MAX_NODES) || big(resistors, MAX_TRAINABLE) {
        return Err(LearnError::Config(format!(
            "{what} too large: {} internal nodes and {} trainable resistors (at most {MAX_NODES} and {MAX_TRAINABLE})",
            shown(nodes),
            shown(resistors)
        )));
    }
    Ok(())
}

/// Source nodes of a generated network: an input pair per feature and the two bias rails.
fn n_sources(n_inputs: usize) -> Option<usize> {
    n_inputs.checked_mul(2)?.checked_add(2)
}

/// A layered network (Kendall et al. 2020 style).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayeredSpec {
    /// Input features; each drives a pair of voltage sources at `+s·x` and `−s·x`.
    pub n_inputs: usize,
    /// Hidden layer widths.
    pub hidden: Vec<usize>,
    /// Outputs.
    pub n_outputs: usize,
    /// Read each output as the difference of a node pair (`o{k}p − o{k}n`) instead of a node
    /// voltage.
    #[serde(default)]
    pub output_pairs: bool,
}

/// Build a layered network: every node of a layer connects to every node of the previous
/// layer (input pairs and bias rails included) through a trainable resistor; hidden nodes
/// carry the nonlinearity; output nodes connect to the last hidden layer and the rails.
pub fn layered(spec: &LayeredSpec, common: &Common, seed: u64) -> Result<Network, LearnError> {
    if spec.n_inputs == 0 || spec.n_outputs == 0 {
        return Err(LearnError::Config(
            "a layered network needs at least one input and one output".into(),
        ));
    }
    let (nodes, resistors) = (|| {
        let mut prev = n_sources(spec.n_inputs)?;
        let (mut nodes, mut resistors) = (0usize, 0usize);
        for &w in &spec.hidden {
            nodes = nodes.checked_add(w)?;
            resistors = resistors.checked_add(w.checked_mul(prev.checked_add(2)?)?)?;
            prev = w;
        }
        let outs = spec
            .n_outputs
            .checked_mul(if spec.output_pairs { 2 } else { 1 })?;
        nodes = nodes.checked_add(outs)?;
        resistors = resistors.checked_add(outs.checked_mul(prev.checked_add(2)?)?)?;
        Some((Some(nodes), Some(resistors)))
    })()
    .unwrap_or((None, None));
    check_size("layered network", nodes, resistors)?;
    let mut rng = Rng::new(seed ^ 0x1234_5678);
    let mut b = Builder::new("layered network", common);
    let sources = b.inputs_and_rails(spec.n_inputs);
    let rails: Vec<NodeId> = sources[2 * spec.n_inputs..].to_vec();
    let mut prev = sources.clone();
    let mut free = Vec::new();
    for (l, &w) in spec.hidden.iter().enumerate() {
        let mut layer = Vec::new();
        for k in 0..w {
            let h = b.node(&format!("h{}_{}", l + 1, k));
            for &p in &prev {
                b.trainable(p, h, &mut rng);
            }
            if l > 0 {
                for &r in &rails {
                    b.trainable(r, h, &mut rng);
                }
            }
            b.nonlinear(h);
            layer.push(h);
            free.push(h);
        }
        prev = layer;
    }
    let mut outputs = Vec::new();
    let out_node = |b: &mut Builder, name: String, rng: &mut Rng, free: &mut Vec<NodeId>| {
        let o = b.node(&name);
        for &p in &prev {
            b.trainable(p, o, rng);
        }
        if !spec.hidden.is_empty() {
            for &r in &rails {
                b.trainable(r, o, rng);
            }
        }
        free.push(o);
        o
    };
    for k in 0..spec.n_outputs {
        if spec.output_pairs {
            let p = out_node(&mut b, format!("o{k}p"), &mut rng, &mut free);
            let n = out_node(&mut b, format!("o{k}n"), &mut rng, &mut free);
            outputs.push(Output { pos: p, neg: n });
        } else {
            let p = out_node(&mut b, format!("o{k}"), &mut rng, &mut free);
            outputs.push(Output { pos: p, neg: 0 });
        }
    }
    b.finish(outputs, &free)
}

/// A random network: `nodes` internal nodes on a ring with `chords` extra random edges; every
/// source node (input pairs, rails) connects to `fan_in` random internal nodes; the outputs are
/// the last `n_outputs` internal nodes; every internal node carries the nonlinearity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomSpec {
    /// Input features.
    pub n_inputs: usize,
    /// Outputs (node voltages).
    pub n_outputs: usize,
    /// Internal nodes.
    pub nodes: usize,
    /// Extra random edges besides the ring.
    pub chords: usize,
    /// Internal nodes each source node connects to.
    #[serde(default = "default_fan_in")]
    pub fan_in: usize,
}

fn default_fan_in() -> usize {
    3
}

/// Build a random network (see [`RandomSpec`]).
pub fn random(spec: &RandomSpec, common: &Common, seed: u64) -> Result<Network, LearnError> {
    if spec.nodes < spec.n_outputs.max(3) || spec.n_inputs == 0 || spec.n_outputs == 0 {
        return Err(LearnError::Config(format!(
            "a random network needs inputs, outputs and at least max(3, n_outputs) nodes, got nodes = {}",
            spec.nodes
        )));
    }
    let resistors = (|| {
        let ring_and_chords = spec.nodes.checked_add(spec.chords)?;
        ring_and_chords
            .checked_add(n_sources(spec.n_inputs)?.checked_mul(spec.fan_in.min(spec.nodes))?)
    })();
    check_size("random network", Some(spec.nodes), resistors)?;
    let mut rng = Rng::new(seed ^ 0x2345_6789);
    let mut b = Builder::new("random network", common);
    let sources = b.inputs_and_rails(spec.n_inputs);
    let internal: Vec<NodeId> = (0..spec.nodes).map(|k| b.node(&format!("n{k}"))).collect();
    let mut edges = std::collections::BTreeSet::new();
    for k in 0..spec.nodes {
        let (a, c) = (k, (k + 1) % spec.nodes);
        edges.insert((a.min(c), a.max(c)));
    }
    let max_edges = spec.nodes * (spec.nodes - 1) / 2;
    let target = (spec.nodes + spec.chords).min(max_edges);
    while edges.len() < target {
        let a = rng.below(spec.nodes);
        let c = rng.below(spec.nodes);
        if a != c {
            edges.insert((a.min(c), a.max(c)));
        }
    }
    for &s in &sources {
        let mut picked = std::collections::BTreeSet::new();
        while picked.len() < spec.fan_in.min(spec.nodes) {
            picked.insert(rng.below(spec.nodes));
        }
        for k in picked {
            b.trainable(s, internal[k], &mut rng);
        }
    }
    for (a, c) in edges {
        b.trainable(internal[a], internal[c], &mut rng);
    }
    for &n in &internal {
        b.nonlinear(n);
    }
    let outputs = internal[spec.nodes - spec.n_outputs..]
        .iter()
        .map(|&p| Output { pos: p, neg: 0 })
        .collect();
    b.finish(outputs, &internal)
}

/// A `rows × cols` mesh of internal nodes with trainable resistors between neighbours; every
/// source node connects to every node of the first column; outputs are spread over the last
/// column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeshSpec {
    /// Input features.
    pub n_inputs: usize,
    /// Outputs (node voltages).
    pub n_outputs: usize,
    /// Mesh rows.
    pub rows: usize,
    /// Mesh columns.
    pub cols: usize,
}

/// Build a mesh network (see [`MeshSpec`]).
pub fn mesh(spec: &MeshSpec, common: &Common, seed: u64) -> Result<Network, LearnError> {
    if spec.rows == 0
        || spec.cols < 2
        || spec.n_outputs > spec.rows
        || spec.n_inputs == 0
        || spec.n_outputs == 0
    {
        return Err(LearnError::Config(format!(
            "a mesh needs cols ≥ 2, inputs, and 1 ≤ n_outputs ≤ rows, got {}×{} with {} outputs",
            spec.rows, spec.cols, spec.n_outputs
        )));
    }
    let nodes = spec.rows.checked_mul(spec.cols);
    let resistors = (|| {
        nodes?
            .checked_mul(2)?
            .checked_add(n_sources(spec.n_inputs)?.checked_mul(spec.rows)?)
    })();
    check_size("mesh network", nodes, resistors)?;
    let mut rng = Rng::new(seed ^ 0x3456_789A);
    let mut b = Builder::new("mesh network", common);
    let sources = b.inputs_and_rails(spec.n_inputs);
    let mut grid = vec![vec![0; spec.cols]; spec.rows];
    let mut free = Vec::new();
    for (r, row) in grid.iter_mut().enumerate() {
        for (c, cell) in row.iter_mut().enumerate() {
            *cell = b.node(&format!("m{r}_{c}"));
            free.push(*cell);
        }
    }
    for &s in &sources {
        for row in &grid {
            b.trainable(s, row[0], &mut rng);
        }
    }
    for r in 0..spec.rows {
        for c in 0..spec.cols {
            if c + 1 < spec.cols {
                b.trainable(grid[r][c], grid[r][c + 1], &mut rng);
            }
            if r + 1 < spec.rows {
                b.trainable(grid[r][c], grid[r + 1][c], &mut rng);
            }
        }
    }
    for row in grid.iter().take(spec.rows) {
        for &n in row.iter().take(spec.cols - 1) {
            b.nonlinear(n);
        }
    }
    let outputs = (0..spec.n_outputs)
        .map(|k| {
            let r = if spec.n_outputs == 1 {
                spec.rows / 2
            } else {
                k * (spec.rows - 1) / (spec.n_outputs - 1)
            };
            Output {
                pos: grid[r][spec.cols - 1],
                neg: 0,
            }
        })
        .collect();
    b.finish(outputs, &free)
}

/// An input of a user netlist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetlistInput {
    /// Name of an independent source in the netlist (`v1`, `iin`).
    pub source: String,
    /// Feature index driving it.
    pub feature: usize,
    /// Source value per unit of feature.
    #[serde(default = "one")]
    pub scale: f64,
}

fn one() -> f64 {
    1.0
}

/// An output of a user netlist: `v(node) − v(reference)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetlistOutput {
    /// Node read.
    pub node: String,
    /// Reference node (default ground).
    #[serde(default)]
    pub reference: Option<String>,
}

/// A user netlist with named trainable resistors, inputs and outputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetlistSpec {
    /// Netlist path (relative paths are resolved against the config file's directory).
    pub path: String,
    /// Trainable resistor names; a trailing `*` matches a prefix (`"r*"`: every resistor).
    pub trainable: Vec<String>,
    /// Inputs.
    pub inputs: Vec<NetlistInput>,
    /// Outputs.
    pub outputs: Vec<NetlistOutput>,
    /// Randomise the initial trainable conductances from the seed (otherwise keep the
    /// netlist's values).
    #[serde(default)]
    pub randomize: bool,
}

/// Build a network from a parsed netlist `c` (see [`NetlistSpec`]).
pub fn from_circuit(
    mut c: Circuit,
    spec: &NetlistSpec,
    common: &Common,
    seed: u64,
) -> Result<Network, LearnError> {
    check_common(common)?;
    tighten_options(&mut c);
    let mut rng = Rng::new(seed ^ 0x4567_89AB);
    let mut trainable = Vec::new();
    for pat in &spec.trainable {
        let lower = pat.to_ascii_lowercase();
        let before = trainable.len();
        for (k, e) in c.elements.iter().enumerate() {
            let hit = match lower.strip_suffix('*') {
                Some(prefix) => e.name.starts_with(prefix),
                None => e.name == lower,
            };
            if hit && !trainable.contains(&k) {
                if !matches!(e.kind, ElementKind::Resistor { .. }) {
                    if lower.ends_with('*') {
                        continue;
                    }
                    return Err(LearnError::Config(format!(
                        "trainable element {} is not a resistor",
                        e.name
                    )));
                }
                trainable.push(k);
            }
        }
        if trainable.len() == before {
            return Err(LearnError::Config(format!(
                "trainable: no resistor matches {pat:?}"
            )));
        }
    }
    let mut inputs = Vec::new();
    for i in &spec.inputs {
        let k = c
            .elements
            .iter()
            .position(|e| e.name.eq_ignore_ascii_case(&i.source))
            .ok_or_else(|| {
                LearnError::Config(format!("input source {} is not in the netlist", i.source))
            })?;
        if !matches!(
            c.elements[k].kind,
            ElementKind::VoltageSource { .. } | ElementKind::CurrentSource { .. }
        ) {
            return Err(LearnError::Config(format!(
                "input {} is not an independent source",
                i.source
            )));
        }
        inputs.push(InputSource {
            element: k,
            feature: i.feature,
            scale: i.scale,
        });
    }
    let node = |c: &Circuit, n: &str| {
        c.node(n)
            .ok_or_else(|| LearnError::Config(format!("output node {n} is not in the netlist")))
    };
    let mut outputs = Vec::new();
    for o in &spec.outputs {
        let pos = node(&c, &o.node)?;
        let neg = match &o.reference {
            Some(r) => node(&c, r)?,
            None => 0,
        };
        if pos == neg {
            return Err(LearnError::Config(format!(
                "output {} is read against itself",
                o.node
            )));
        }
        outputs.push(Output { pos, neg });
    }
    if outputs.is_empty() {
        return Err(LearnError::Config(
            "the netlist network has no outputs".into(),
        ));
    }
    if spec.randomize {
        for &k in &trainable {
            if let ElementKind::Resistor { resistance, .. } = &mut c.elements[k].kind {
                *resistance = 1.0 / rng.range(common.g_init[0], common.g_init[1]);
            }
        }
    }
    if common.capacitance > 0.0 {
        let sourced: std::collections::BTreeSet<NodeId> = c
            .elements
            .iter()
            .filter_map(|e| match e.kind {
                ElementKind::VoltageSource { pos, neg: 0, .. } => Some(pos),
                _ => None,
            })
            .collect();
        for n in 1..c.node_count() {
            if !sourced.contains(&n) {
                c.elements.push(Element {
                    name: format!("cpar{n}"),
                    kind: ElementKind::Capacitor {
                        a: n,
                        b: 0,
                        capacitance: common.capacitance,
                        ic: None,
                    },
                });
            }
        }
    }
    Ok(Network {
        circuit: c,
        trainable,
        inputs,
        outputs,
        g_min: common.g_min,
        g_max: common.g_max,
    })
}

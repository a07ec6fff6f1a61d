//! The flattened circuit: nodes, elements, models, analyses and options.
//!
//! A [`Circuit`] is what the parser produces after `.include`, `.param` and
//! `.subckt` expansion: every value is a number, every node an index. Node 0
//! is ground (`0` or `gnd` in a netlist).

use std::collections::BTreeMap;

/// Index of a node; 0 is ground.
pub type NodeId = usize;

/// The ground node.
pub const GROUND: NodeId = 0;

/// Boltzmann constant over the electron charge times 300.15 K (27 °C), as SPICE uses.
pub const VT_27C: f64 = 1.380_649e-23 * 300.15 / 1.602_176_634e-19;

/// A flattened circuit ready for analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct Circuit {
    /// First line of the netlist.
    pub title: String,
    /// Node names, indexed by [`NodeId`]; `nodes[0]` is `"0"` (ground).
    pub nodes: Vec<String>,
    /// Elements in netlist order (after subcircuit expansion).
    pub elements: Vec<Element>,
    /// Diode models by lower-case name.
    pub models: BTreeMap<String, DiodeModel>,
    /// Analyses requested in the netlist, in order.
    pub analyses: Vec<Analysis>,
    /// `.options` values.
    pub options: Options,
    /// `.ic v(node)=value` initial conditions.
    pub initial_conditions: Vec<(NodeId, f64)>,
}

impl Default for Circuit {
    fn default() -> Self {
        Circuit {
            title: String::new(),
            nodes: vec!["0".to_string()],
            elements: Vec::new(),
            models: BTreeMap::new(),
            analyses: Vec::new(),
            options: Options::default(),
            initial_conditions: Vec::new(),
        }
    }
}

impl Circuit {
    /// Number of nodes including ground.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Look a node up by name (case-insensitive; `gnd` is ground).
    pub fn node(&self, name: &str) -> Option<NodeId> {
        let lower = name.to_ascii_lowercase();
        if lower == "0" || lower == "gnd" {
            return Some(GROUND);
        }
        self.nodes.iter().position(|n| *n == lower)
    }

    /// Index of a node, adding it when new. Names are stored lower-case.
    pub fn node_or_insert(&mut self, name: &str) -> NodeId {
        if let Some(id) = self.node(name) {
            return id;
        }
        self.nodes.push(name.to_ascii_lowercase());
        self.nodes.len() - 1
    }

    /// Look an element up by name (case-insensitive).
    pub fn element(&self, name: &str) -> Option<&Element> {
        self.elements
            .iter()
            .find(|e| e.name.eq_ignore_ascii_case(name))
    }

    /// The transient analysis, if the netlist asks for one.
    pub fn tran(&self) -> Option<&Tran> {
        self.analyses.iter().find_map(|a| match a {
            Analysis::Tran(t) => Some(t),
            _ => None,
        })
    }
}

/// One circuit element. `name` keeps its SPICE prefix letter (`r1`, `d3`, `r.x1.r2`).
#[derive(Debug, Clone, PartialEq)]
pub struct Element {
    /// Lower-case name, prefix letter first.
    pub name: String,
    /// What the element is and where it connects.
    pub kind: ElementKind,
}

/// Element kinds and their terminals. SPICE terminal order throughout.
#[derive(Debug, Clone, PartialEq)]
pub enum ElementKind {
    /// Linear resistor, `resistance` in ohms (> 0).
    Resistor {
        a: NodeId,
        b: NodeId,
        resistance: f64,
    },
    /// Linear capacitor, farads; `ic` is the initial voltage v(a) − v(b) used with UIC.
    Capacitor {
        a: NodeId,
        b: NodeId,
        capacitance: f64,
        ic: Option<f64>,
    },
    /// Linear inductor, henries; `ic` is the initial current from a to b used with UIC.
    Inductor {
        a: NodeId,
        b: NodeId,
        inductance: f64,
        ic: Option<f64>,
    },
    /// Junction diode from `anode` to `cathode`; `model` names an entry of [`Circuit::models`].
    Diode {
        anode: NodeId,
        cathode: NodeId,
        model: String,
        area: f64,
    },
    /// Independent current source: the current flows from `pos` through the source to `neg`
    /// (so it leaves node `pos` and enters node `neg` in the external circuit), as in SPICE.
    CurrentSource {
        pos: NodeId,
        neg: NodeId,
        source: Source,
    },
    /// Independent voltage source v(pos) − v(neg) = value; its branch current flows from
    /// `pos` through the source to `neg`, as in SPICE.
    VoltageSource {
        pos: NodeId,
        neg: NodeId,
        source: Source,
    },
    /// Voltage-controlled current source (G): current gm·(v(cp) − v(cn)) flows from `pos`
    /// through the source to `neg`.
    Vccs {
        pos: NodeId,
        neg: NodeId,
        cpos: NodeId,
        cneg: NodeId,
        gm: f64,
    },
}

impl ElementKind {
    /// The element's terminals in SPICE order.
    pub fn terminals(&self) -> Vec<NodeId> {
        match *self {
            ElementKind::Resistor { a, b, .. }
            | ElementKind::Capacitor { a, b, .. }
            | ElementKind::Inductor { a, b, .. } => vec![a, b],
            ElementKind::Diode { anode, cathode, .. } => vec![anode, cathode],
            ElementKind::CurrentSource { pos, neg, .. }
            | ElementKind::VoltageSource { pos, neg, .. } => {
                vec![pos, neg]
            }
            ElementKind::Vccs {
                pos,
                neg,
                cpos,
                cneg,
                ..
            } => vec![pos, neg, cpos, cneg],
        }
    }
}

/// An independent source's specification: DC value, small-signal AC, transient function.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Source {
    /// `DC value` (or a bare value).
    pub dc: Option<f64>,
    /// `AC magnitude [phase]` (kept for round-trips; not used by time-domain analyses).
    pub ac: Option<(f64, f64)>,
    /// Transient function.
    pub tran: Option<TranFn>,
}

impl Source {
    /// A DC source.
    pub fn dc(value: f64) -> Self {
        Source {
            dc: Some(value),
            ac: None,
            tran: None,
        }
    }

    /// Value at time `t` during a transient analysis (SPICE semantics: the transient
    /// function when there is one, otherwise the DC value).
    pub fn value(&self, t: f64, tstep: f64, tstop: f64) -> f64 {
        match &self.tran {
            Some(f) => f.value(t, tstep, tstop),
            None => self.dc.unwrap_or(0.0),
        }
    }

    /// Value used by a standalone `.op` analysis.
    pub fn dc_value(&self) -> f64 {
        match (self.dc, &self.tran) {
            (Some(v), _) => v,
            (None, Some(f)) => f.value(0.0, 0.0, 0.0),
            (None, None) => 0.0,
        }
    }
}

/// SPICE transient source functions.
#[derive(Debug, Clone, PartialEq)]
pub enum TranFn {
    /// `SIN(VO VA FREQ TD THETA PHASE)`, phase in degrees.
    Sin {
        vo: f64,
        va: f64,
        freq: f64,
        td: f64,
        theta: f64,
        phase: f64,
    },
    /// `PULSE(V1 V2 TD TR TF PW PER)`; zero TR/TF/PW/PER take SPICE defaults at evaluation.
    Pulse {
        v1: f64,
        v2: f64,
        td: f64,
        tr: f64,
        tf: f64,
        pw: f64,
        per: f64,
    },
    /// `PWL(t1 v1 t2 v2 ...)`, times non-decreasing.
    Pwl(Vec<(f64, f64)>),
}

impl TranFn {
    /// Pulse rise/fall/width/period with SPICE defaults (TR, TF default to TSTEP; PW, PER to TSTOP).
    fn pulse_params(
        tr: f64,
        tf: f64,
        pw: f64,
        per: f64,
        tstep: f64,
        tstop: f64,
    ) -> (f64, f64, f64, f64) {
        let tr = if tr > 0.0 {
            tr
        } else if tstep > 0.0 {
            tstep
        } else {
            0.0
        };
        let tf = if tf > 0.0 {
            tf
        } else if tstep > 0.0 {
            tstep
        } else {
            0.0
        };
        let pw = if pw > 0.0 {
            pw
        } else if tstop > 0.0 {
            tstop
        } else {
            f64::INFINITY
        };
        let per = if per > 0.0 {
            per
        } else if tstop > 0.0 {
            tstop
        } else {
            f64::INFINITY
        };
        (tr, tf, pw, per)
    }

    /// The function's value at time `t`; `tstep`/`tstop` supply SPICE's defaults.
    pub fn value(&self, t: f64, tstep: f64, tstop: f64) -> f64 {
        match *self {
            TranFn::Sin {
                vo,
                va,
                freq,
                td,
                theta,
                phase,
            } => {
                let ph = phase.to_radians();
                if t < td {
                    vo + va * ph.sin()
                } else {
                    let tt = t - td;
                    vo + va
                        * (-theta * tt).exp()
                        * (2.0 * std::f64::consts::PI * freq * tt + ph).sin()
                }
            }
            TranFn::Pulse {
                v1,
                v2,
                td,
                tr,
                tf,
                pw,
                per,
            } => {
                let (tr, tf, pw, per) = Self::pulse_params(tr, tf, pw, per, tstep, tstop);
                if t < td {
                    return v1;
                }
                let mut tt = t - td;
                if per.is_finite() && per > 0.0 && tt >= per {
                    tt -= (tt / per).floor() * per;
                }
                if tt < tr {
                    v1 + (v2 - v1) * tt / tr
                } else if tt < tr + pw {
                    v2
                } else if tt < tr + pw + tf {
                    v2 + (v1 - v2) * (tt - tr - pw) / tf
                } else {
                    v1
                }
            }
            TranFn::Pwl(ref pts) => {
                if pts.is_empty() {
                    return 0.0;
                }
                if t <= pts[0].0 {
                    return pts[0].1;
                }
                for w in pts.windows(2) {
                    let (t0, v0) = w[0];
                    let (t1, v1) = w[1];
                    if t <= t1 {
                        if t1 <= t0 {
                            return v1;
                        }
                        return v0 + (v1 - v0) * (t - t0) / (t1 - t0);
                    }
                }
                pts[pts.len() - 1].1
            }
        }
    }

    /// Corners of the function in `[0, tstop]`, where the integrator must land (breakpoints).
    pub fn breakpoints(&self, tstep: f64, tstop: f64) -> Vec<f64> {
        let mut out = Vec::new();
        match *self {
            TranFn::Sin { td, .. } => {
                if td > 0.0 && td < tstop {
                    out.push(td);
                }
            }
            TranFn::Pulse {
                td,
                tr,
                tf,
                pw,
                per,
                ..
            } => {
                let (tr, tf, pw, per) = Self::pulse_params(tr, tf, pw, per, tstep, tstop);
                let mut start = td;
                loop {
                    for c in [start, start + tr, start + tr + pw, start + tr + pw + tf] {
                        if c >= 0.0 && c <= tstop {
                            out.push(c);
                        }
                    }
                    if !(per.is_finite() && per > 0.0) {
                        break;
                    }
                    start += per;
                    if start > tstop {
                        break;
                    }
                }
            }
            TranFn::Pwl(ref pts) => {
                for &(t, _) in pts {
                    if t >= 0.0 && t <= tstop {
                        out.push(t);
                    }
                }
            }
        }
        out
    }
}

/// Level-1 SPICE junction diode model parameters (SPICE defaults in [`Default`]).
#[derive(Debug, Clone, PartialEq)]
pub struct DiodeModel {
    /// Saturation current, A.
    pub is: f64,
    /// Emission coefficient.
    pub n: f64,
    /// Ohmic series resistance, Ω (0: none).
    pub rs: f64,
    /// Zero-bias junction capacitance, F.
    pub cjo: f64,
    /// Junction potential, V.
    pub vj: f64,
    /// Grading coefficient.
    pub m: f64,
    /// Forward-bias depletion capacitance coefficient.
    pub fc: f64,
    /// Transit time, s.
    pub tt: f64,
    /// Reverse breakdown voltage, V (positive number), if any.
    pub bv: Option<f64>,
    /// Current at breakdown voltage, A.
    pub ibv: f64,
}

impl Default for DiodeModel {
    fn default() -> Self {
        DiodeModel {
            is: 1e-14,
            n: 1.0,
            rs: 0.0,
            cjo: 0.0,
            vj: 1.0,
            m: 0.5,
            fc: 0.5,
            tt: 0.0,
            bv: None,
            ibv: 1e-3,
        }
    }
}

/// Analyses.
#[derive(Debug, Clone, PartialEq)]
pub enum Analysis {
    /// `.op`
    Op,
    /// `.tran`
    Tran(Tran),
}

/// `.tran TSTEP TSTOP [TSTART [TMAX]] [UIC]`
#[derive(Debug, Clone, PartialEq)]
pub struct Tran {
    pub tstep: f64,
    pub tstop: f64,
    pub tstart: f64,
    pub tmax: Option<f64>,
    pub uic: bool,
}

impl Tran {
    /// Largest step: TMAX when given, else min(TSTEP, (TSTOP − TSTART)/50) as ngspice does.
    pub fn max_step(&self) -> f64 {
        match self.tmax {
            Some(t) if t > 0.0 => t,
            _ => self.tstep.min((self.tstop - self.tstart) / 50.0),
        }
    }
}

/// Integration method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Trapezoidal rule (SPICE default), with backward Euler after breakpoints.
    Trap,
    /// Gear / BDF up to `maxord` (we implement orders 1 and 2).
    Gear,
    /// Backward Euler throughout (freqprop extension: `method=euler`).
    Euler,
}

/// `.options` values with SPICE defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub reltol: f64,
    pub abstol: f64,
    pub vntol: f64,
    pub chgtol: f64,
    pub gmin: f64,
    pub trtol: f64,
    pub method: Method,
    pub maxord: usize,
    /// DC Newton iteration limit.
    pub itl1: usize,
    /// Transient Newton iteration limit per step.
    pub itl4: usize,
    /// Write waveforms on the uniform TSTEP grid (ngspice `.options interp`).
    pub interp: bool,
    /// Anything else given in `.options`, kept verbatim (lower-case name, value text).
    pub other: Vec<(String, String)>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            reltol: 1e-3,
            abstol: 1e-12,
            vntol: 1e-6,
            chgtol: 1e-14,
            gmin: 1e-12,
            trtol: 7.0,
            method: Method::Trap,
            maxord: 2,
            itl1: 100,
            itl4: 100,
            interp: false,
            other: Vec::new(),
        }
    }
}

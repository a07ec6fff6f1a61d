//! The physical protocol in the time domain: DC activation, error currents
//! `β·e_o·cos(2π f_e t)` injected at the outputs, and a coherent readout of every trainable
//! resistor's drop: `A_j` (mean) and `E_j` (in-phase part at `f_e`). The gradient estimate is
//! `A_j·E_j/β` (so the update is `Δg_j = −(η/β)·A_j·E_j`).

use crate::adjoint::{Probe, SampleGrad};
use crate::loss::{Objective, Target};
use crate::network::Network;
use crate::LearnError;
use circuit::{Element, ElementKind, Signal, Source, Tran, TranFn, WaveSink};
use serde::{Deserialize, Serialize};
use spectrum::{Coefficient, Readout, Scratch};
use transient::{OutputGrid, TranOptions};

/// Parameters of the time-domain protocol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TransientOptions {
    /// Error amplitude β, amperes per unit of `e` (siemens for a squared-error loss).
    pub beta: f64,
    /// Error frequency `f_e`, hertz.
    pub freq: f64,
    /// Samples per error period (the exact output grid).
    pub points_per_period: usize,
    /// Periods in the readout window.
    pub periods: usize,
    /// Periods simulated before the window (needed only with capacitance). 0 with capacitance
    /// in the circuit: chosen from the circuit, enough periods to cover 15 times the slowest
    /// node time constant C_node/G_node (the start-up transient then decays below 1e-6 of
    /// the error signal).
    pub settle_periods: usize,
}

impl Default for TransientOptions {
    fn default() -> Self {
        TransientOptions {
            beta: 1e-5,
            freq: 1e3,
            points_per_period: 32,
            periods: 1,
            settle_periods: 0,
        }
    }
}

/// Most samples in the readout window (`points_per_period × periods`).
pub const MAX_WINDOW: usize = 1 << 20;

impl TransientOptions {
    /// Check the protocol's settings.
    pub fn check(&self) -> Result<(), LearnError> {
        let o = self;
        if !(o.beta > 0.0 && o.freq > 0.0 && o.points_per_period >= 4 && o.periods >= 1) {
            return Err(LearnError::Config(format!(
                "transient: need beta > 0, freq > 0, points_per_period ≥ 4, periods ≥ 1, got {o:?}"
            )));
        }
        // The readout window is held in memory, node by node.
        let window = o.points_per_period.checked_mul(o.periods);
        if window.is_none_or(|n| n > MAX_WINDOW) {
            return Err(LearnError::Config(format!(
                "transient: points_per_period × periods must be at most {MAX_WINDOW}, got {} × {}",
                o.points_per_period, o.periods
            )));
        }
        Ok(())
    }
}

/// The transient (frequency-propagation) engine.
pub struct TransientEngine {
    probe: Probe,
    /// Element index of the error current source of each output.
    error_sources: Vec<usize>,
    opts: TransientOptions,
    readout: Readout,
    scratch: Scratch,
    has_capacitance: bool,
    sink: NodeSink,
    coef: Vec<Coefficient>,
    node_a: Vec<f64>,
    node_e: Vec<f64>,
    node_q: Vec<f64>,
}

/// Periods of `freq` covering 15 times the slowest node time constant C_node/G_node of `c`
/// (capacitors and resistors at each node; nodes without a resistor are skipped), at least 1.
fn settle_periods_for(c: &circuit::Circuit, freq: f64) -> usize {
    let n = c.node_count();
    let (mut cap, mut g) = (vec![0.0f64; n], vec![0.0f64; n]);
    for e in &c.elements {
        match e.kind {
            ElementKind::Capacitor {
                a, b, capacitance, ..
            } => {
                cap[a] += capacitance;
                cap[b] += capacitance;
            }
            ElementKind::Resistor { a, b, resistance } => {
                g[a] += 1.0 / resistance;
                g[b] += 1.0 / resistance;
            }
            _ => {}
        }
    }
    let tau = (1..n)
        .filter(|&k| g[k] > 0.0)
        .map(|k| cap[k] / g[k])
        .fold(0.0f64, f64::max);
    ((15.0 * tau * freq).ceil() as usize).max(1)
}

/// Keeps the node-voltage columns of a transient, time-major.
#[derive(Default)]
struct NodeSink {
    /// Column of node k in the pushed values (None: not a node voltage).
    cols: Vec<Option<usize>>,
    n_nodes: usize,
    rows: usize,
    /// `data[node * cap + i]`, signal-major per node.
    data: Vec<Vec<f64>>,
}

impl WaveSink for NodeSink {
    type Error = std::convert::Infallible;
    fn begin(&mut self, _: &str, _: &str, _: &[Signal]) -> Result<(), Self::Error> {
        self.rows = 0;
        for d in &mut self.data {
            d.clear();
        }
        Ok(())
    }
    fn push(&mut self, _t: f64, values: &[f64]) -> Result<(), Self::Error> {
        for node in 0..self.n_nodes {
            let v = match self.cols[node] {
                Some(c) => values[c],
                None => 0.0,
            };
            self.data[node].push(v);
        }
        self.rows += 1;
        Ok(())
    }
    fn finish(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

impl TransientEngine {
    /// Add one error current source per output to a copy of `net`'s circuit and prepare it.
    pub fn new(net: &Network, opts: &TransientOptions) -> Result<TransientEngine, LearnError> {
        opts.check()?;
        let mut c = net.circuit.clone();
        let mut error_sources = Vec::new();
        for (k, o) in net.outputs.iter().enumerate() {
            // current flows from `pos` through the source to `neg`: it enters node `neg`
            c.elements.push(Element {
                name: format!("ierr{k}"),
                kind: ElementKind::CurrentSource {
                    pos: o.neg,
                    neg: o.pos,
                    source: Source::dc(0.0),
                },
            });
            error_sources.push(c.elements.len() - 1);
        }
        let has_capacitance = c.elements.iter().any(|e| {
            matches!(
                e.kind,
                ElementKind::Capacitor { .. } | ElementKind::Inductor { .. }
            )
        }) || c.models.values().any(|m| m.cjo != 0.0 || m.tt != 0.0);
        let mut opts = opts.clone();
        if has_capacitance && opts.settle_periods == 0 {
            opts.settle_periods = settle_periods_for(&c, opts.freq);
        }
        let opts = &opts;
        let probe = Probe::new(net, &c)?;
        let n = opts.points_per_period * opts.periods;
        let dt = 1.0 / (opts.freq * opts.points_per_period as f64);
        let readout = Readout::new(n, dt, &[0.0, opts.freq])
            .map_err(|e| LearnError::Config(format!("transient readout: {e}")))?;
        let scratch = readout.scratch();
        let n_nodes = c.node_count();
        let mut cols = vec![None; n_nodes];
        for (col, (sig, idx)) in probe.sim.output_signals().into_iter().enumerate() {
            if sig.quantity == circuit::Quantity::Voltage && idx < n_nodes {
                cols[idx] = Some(col);
            }
        }
        let sink = NodeSink {
            cols,
            n_nodes,
            rows: 0,
            data: vec![Vec::with_capacity(n + 1); n_nodes],
        };
        Ok(TransientEngine {
            probe,
            error_sources,
            opts: opts.clone(),
            readout,
            scratch,
            has_capacitance,
            sink,
            coef: vec![
                Coefficient {
                    freq: 0.0,
                    in_phase: 0.0,
                    quadrature: 0.0
                };
                2
            ],
            node_a: vec![0.0; n_nodes],
            node_e: vec![0.0; n_nodes],
            node_q: vec![0.0; n_nodes],
        })
    }

    /// The protocol's options.
    pub fn options(&self) -> &TransientOptions {
        &self.opts
    }

    /// Change β (e.g. for a convergence table).
    pub fn set_beta(&mut self, beta: f64) {
        self.opts.beta = beta;
    }

    /// Set the trainable conductances.
    pub fn set_conductances(&mut self, g: &[f64]) -> Result<(), LearnError> {
        self.probe.set_conductances(g)
    }

    fn set_errors(&mut self, amps: Option<&[f64]>) -> Result<(), LearnError> {
        for (k, &el) in self.error_sources.iter().enumerate() {
            let src = match amps {
                None => Source::dc(0.0),
                Some(a) => Source {
                    dc: Some(0.0),
                    ac: None,
                    tran: Some(TranFn::Sin {
                        vo: 0.0,
                        va: a[k],
                        freq: self.opts.freq,
                        td: 0.0,
                        theta: 0.0,
                        phase: 90.0,
                    }),
                },
            };
            self.probe
                .sim
                .set_source(el, src)
                .map_err(|e| LearnError::Sim(e.to_string()))?;
        }
        Ok(())
    }

    /// Node voltages of the last [`TransientEngine::gradient`] run on its readout grid:
    /// `(t0, dt, samples)` for circuit node `node` (0 is ground).
    pub fn last_waveform(&self, node: usize) -> Option<(f64, f64, &[f64])> {
        let per = 1.0 / self.opts.freq;
        let dt = per / self.opts.points_per_period as f64;
        let t0 = self.opts.settle_periods as f64 * per;
        self.sink
            .data
            .get(node)
            .filter(|d| d.len() == self.sink.rows && self.sink.rows > 0)
            .map(|d| (t0, dt, d.as_slice()))
    }

    /// The quadrature counterpart `A_j·Q_j/β` of the last [`TransientEngine::gradient`]
    /// estimate, one entry per trainable resistor: `Q_j` is the part of resistor `j`'s drop at
    /// `f_e` in quadrature with the error current. It is zero in a purely resistive network and
    /// grows with `ω_e·RC` when the nodes carry capacitance (the in-phase part used by the rule
    /// then loses amplitude).
    pub fn last_quadrature(&self) -> Vec<f64> {
        let beta = self.opts.beta;
        self.probe
            .pairs
            .iter()
            .map(|&(a, b)| {
                (self.node_a[a] - self.node_a[b]) * (self.node_q[a] - self.node_q[b]) / beta
            })
            .collect()
    }

    /// Output values for sample `x` (the DC activation, error sources off).
    pub fn forward(&mut self, x: &[f64]) -> Result<Vec<f64>, LearnError> {
        self.probe.set_inputs(x)?;
        self.set_errors(None)?;
        let v = self.probe.equilibrium()?;
        Ok(self.probe.read_outputs(&v))
    }

    /// Loss and the frequency-propagation gradient estimate `A_j·E_j/β` for one sample.
    pub fn gradient(
        &mut self,
        x: &[f64],
        target: &Target,
        obj: &Objective,
    ) -> Result<SampleGrad, LearnError> {
        // 1. activation: DC equilibrium, read the outputs, form the error
        let y = self.forward(x)?;
        let (loss, dy) = obj.eval(&y, target);
        let beta = self.opts.beta;
        let amps: Vec<f64> = dy.iter().map(|d| -beta * d).collect();
        // 2. error currents at f_e, simulate, read every node
        self.set_errors(Some(&amps))?;
        let per = 1.0 / self.opts.freq;
        let dt = per / self.opts.points_per_period as f64;
        let n = self.readout.n();
        let t0 = self.opts.settle_periods as f64 * per;
        let tstop = t0 + (n - 1) as f64 * dt;
        let tran = Tran {
            tstep: dt,
            tstop,
            tstart: 0.0,
            tmax: Some(dt),
            uic: false,
        };
        let topts = TranOptions {
            output: OutputGrid::Exact { t0, dt },
            max_step: Some(dt),
            fixed_step: if self.has_capacitance { None } else { Some(dt) },
        };
        self.probe
            .sim
            .transient(&tran, &topts, "freqprop sample", &mut self.sink)
            .map_err(|e| LearnError::Sim(e.to_string()))?;
        if self.sink.rows != n {
            return Err(LearnError::Sim(format!(
                "transient wrote {} grid points, expected {n}",
                self.sink.rows
            )));
        }
        for node in 1..self.sink.n_nodes {
            self.readout
                .read_into(&self.sink.data[node], t0, &mut self.coef, &mut self.scratch)
                .map_err(|e| LearnError::Sim(e.to_string()))?;
            self.node_a[node] = self.coef[0].in_phase;
            self.node_e[node] = self.coef[1].in_phase;
            self.node_q[node] = self.coef[1].quadrature;
        }
        // 3. local rule on every trainable resistor
        let grad = self
            .probe
            .pairs
            .iter()
            .map(|&(a, b)| {
                (self.node_a[a] - self.node_a[b]) * (self.node_e[a] - self.node_e[b]) / beta
            })
            .collect();
        self.set_errors(None)?;
        Ok(SampleGrad {
            loss,
            outputs: y,
            grad,
        })
    }
}

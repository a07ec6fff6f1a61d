//! The simulator: built once per circuit (unknowns, stamp map, symbolic factorization), then
//! reused for any number of operating points and transient runs.

// the Newton loop indexes the solution, update and pattern arrays with one loop variable
#![allow(clippy::needless_range_loop)]

use crate::device::{
    Capacitors, CurrentSources, Device, DiodeParams, Diodes, Inductors, Layout, LoadCtx, Mode,
    NextUpdate, Resistors, Vccss, VoltageSources,
};
use crate::integrate::{Integrator, StateAlloc, States};
use crate::matrix::{Pattern, PatternBuilder, Solver};
use crate::{SimError, Stats};
use circuit::{Circuit, ElementKind, Options, Signal};
use std::time::Instant;

/// Every device of a circuit, grouped by kind.
#[derive(Debug, Default)]
pub(crate) struct Devices {
    pub res: Resistors,
    pub cap: Capacitors,
    pub ind: Inductors,
    pub dio: Diodes,
    pub vs: VoltageSources,
    pub is: CurrentSources,
    pub g: Vccss,
}

impl Devices {
    fn all(&self) -> [&dyn Device; 7] {
        [
            &self.res, &self.cap, &self.ind, &self.dio, &self.vs, &self.is, &self.g,
        ]
    }
    fn all_mut(&mut self) -> [&mut dyn Device; 7] {
        [
            &mut self.res,
            &mut self.cap,
            &mut self.ind,
            &mut self.dio,
            &mut self.vs,
            &mut self.is,
            &mut self.g,
        ]
    }
}

/// How Newton's iterations in a transient analysis reuse a factorization
/// ([`Simulator::set_jacobian_reuse`]). The converged solutions agree to within the Newton
/// tolerances whichever is chosen; the time and the iterations per step differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JacobianReuse {
    /// Every iteration whose matrix changed refactors (SPICE's Newton–Raphson).
    Never,
    /// The first iteration of every time point refactors, at the predicted point; the
    /// iterations after it are chord steps with that factorization. Each point is then solved
    /// from a fresh Jacobian, and Newton needs about two iterations per point: the factored
    /// step, then the one that confirms it (or, when the residual one update further already
    /// passes, none; see [`EARLY_MARGIN`]). Measured on the 100,000-node mesh of
    /// `examples/scale` (1,000 fixed steps, two runs of each on one machine, 2026-12-07): 1.95
    /// iterations per step and 84% of the transient in factorizations and solves, in
    /// 46.8–49.5 s, against 3.08, 66% and 32.1–37.8 s with [`JacobianReuse::AcrossSteps`]
    /// (docs/scaling.md).
    WithinStep,
    /// A factorization is kept across iterations and time points while chord steps with it
    /// contract ([`CHORD_AG0_RATIO`], [`CHORD_COSTLY_FACTOR_UNKNOWNS`]): the fastest, and the
    /// default.
    #[default]
    AcrossSteps,
}

impl JacobianReuse {
    /// Every policy: the default, then per time point, then SPICE's.
    pub const ALL: [JacobianReuse; 3] = [
        JacobianReuse::AcrossSteps,
        JacobianReuse::WithinStep,
        JacobianReuse::Never,
    ];

    /// Its name on command lines and in summaries: `across`, `within` or `never`.
    pub fn name(self) -> &'static str {
        match self {
            JacobianReuse::AcrossSteps => "across",
            JacobianReuse::WithinStep => "within",
            JacobianReuse::Never => "never",
        }
    }
}

impl std::str::FromStr for JacobianReuse {
    type Err = String;
    /// The policy of a [`JacobianReuse::name`].
    fn from_str(s: &str) -> Result<Self, String> {
        JacobianReuse::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| format!("{s:?} is none of across, within, never"))
    }
}

/// Chord steps (a factorization kept while it contracts) are taken in nonlinear circuits of
/// at least this many unknowns. Below, a factorization costs about as much as the solves it
/// would save; in linear circuits one refactored step is exact, and an unchanged matrix is
/// reused anyway.
pub const CHORD_MIN_UNKNOWNS: usize = 64;

/// A chord step that contracts more slowly than 1/10 triggers a refactorization, or, from
/// this many unknowns, more slowly than 0.4: there a factorization costs many iterations'
/// solves and loads (at 100,000 unknowns about 7, against about 3 at 900). A chord iterate is
/// accepted only at a rate ≤ 1/2 either way. Measured (release, one run each): the 900-node
/// mesh30 deck took 6,956 iterations and 410 factorizations at 1/10 against 8,059 and 214 at
/// 1/4 (about 10% less time); the 100,000-node mesh of `examples/scale` (1,000 fixed steps)
/// 76.2 s at 1/10, 70.7 s at 1/4 and 67.3 s at 0.4 (336 factorizations, 4,084 iterations);
/// at 10,000 nodes 3.52, 3.61 and 3.48 s.
pub const CHORD_COSTLY_FACTOR_UNKNOWNS: usize = 20_000;

/// A chord step uses the held factorization only if it was made for a transient step whose
/// leading integration coefficient `ag0` (∝ 1/h) is within this factor of the current one's;
/// otherwise iteration 0 refactors. Where the capacitors' companion conductances dominate the
/// matrix, a chord step with `ag0` off by a factor q contracts at about |1 − q|: already 1/2
/// at q = 1/2 (the step doubled) and 1 at q = 2 (halved), where a chord iterate, accepted only
/// at a rate ≤ 1/2, cannot converge. A factorization from the operating point (no companion
/// conductance at all) never serves. Measured, 100,000-node mesh of `examples/scale`, 200
/// fixed steps: the first step from the operating point's factorization went 100 iterations
/// without converging (the chord step threw the junctions volts off) and was cut; with this
/// rule 736 → 653 iterations, 116 → 66 factorizations, transient 8.54 → 6.53 s. On
/// random_network (adaptive steps): 7,239 → 7,127 iterations, 29 → 23 rejected steps.
pub(crate) const CHORD_AG0_RATIO: f64 = 2.0;

/// Newton accepts an iterate without solving again when the residual there, as the update a
/// Jacobi step would take (`r_i / A_ii`), has shrunk at least this much from the iterate
/// before: the step just taken contracted. See [`EARLY_MARGIN`] for the rest of the test.
pub(crate) const EARLY_CONTRACTION: f64 = 0.5;

/// Newton accepts an iterate without solving again (after a contraction of
/// [`EARLY_CONTRACTION`]) when either the update that led to it passed SPICE's tests (scaled
/// norm ≤ 1, every device's own test), or the Jacobi estimate of the next update, times this
/// margin, would pass them. The Jacobi estimate can be smaller than the true next update (the
/// solve spreads a node's residual to its neighbours). Measured on the 10,000-node mesh of
/// `examples/scale`, mesh30, random_network and layered_network, on the iterates this test
/// would accept against the solve Newton then took from them: with a margin of 1, 74 of 8,954
/// had a next update that failed SPICE's tests (a diode's current change); with 2, none of
/// 8,469; 3 leaves room beyond that. A test in this file audits every acceptance the same way.
pub(crate) const EARLY_MARGIN: f64 = 3.0;

/// Whether every value is finite, in one pass without an early exit: `v·0` is 0 for a
/// finite `v` and NaN for an infinity or a NaN, summed in four lanes that the compiler keeps
/// in vector registers. Run at every load and after every chord solve; the loop that stopped
/// at the first non-finite value took one compare and branch per value (3% of
/// random_network's transient for the two).
#[inline]
fn all_finite(v: &[f64]) -> bool {
    let mut acc = [0.0f64; 4];
    let chunks = v.chunks_exact(4);
    let rest = chunks.remainder();
    for c in chunks {
        for k in 0..4 {
            acc[k] += c[k] * 0.0;
        }
    }
    for (k, &x) in rest.iter().enumerate() {
        acc[k] += x * 0.0;
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) == 0.0
}

/// SPICE's tolerance on an unknown of magnitude `scale`: `reltol·scale` plus abstol for a
/// branch current or vntol for a node voltage. Newton's update norm, the Jacobi estimate's
/// and the test audit of the residual acceptance all divide by it.
#[inline]
fn tolerance(o: &Options, current: bool, scale: f64) -> f64 {
    o.reltol * scale + if current { o.abstol } else { o.vntol }
}

/// Newton's scaled update norm `norm` raised by the update `d` of an unknown at `x` (both
/// finite): the larger of `norm` and `|d| / tol`, `tol` the tolerance at the larger of `|x|`
/// and `|x + d|`. A plain comparison, not NaN-aware `max`, and the division only where the
/// ratio grows.
#[inline]
fn raise_update_norm(norm: f64, o: &Options, current: bool, x: f64, d: f64) -> f64 {
    let tol = tolerance(o, current, (x + d).abs().max(x.abs()));
    if d.abs() > norm * tol {
        d.abs() / tol
    } else {
        norm
    }
}

/// What the parts fixed for a time point were loaded for: the matrix's by the step's
/// coefficients alone, the right-hand side's also by the accepted history (`generation`).
#[derive(Debug, Clone, PartialEq)]
struct StepKey {
    mode: Mode,
    method: circuit::Method,
    order: usize,
    ag: [f64; 3],
}

/// Why a Newton solve stopped without converging.
#[derive(Debug, Clone)]
pub(crate) struct NewtonFailure {
    /// Unknown with the largest residual at the last iterate.
    pub worst: usize,
    /// That residual.
    pub residual: f64,
    /// The reason in words (a constant, so that failing steps do not allocate).
    pub reason: &'static str,
    /// The device instance (group in [`Devices::all`], index in it) that produced a
    /// non-finite value, or else the one failing its convergence test by the widest margin.
    pub element: Option<(usize, usize)>,
    /// `element` produced a non-finite value (else it is the one furthest from convergence).
    pub nonfinite: bool,
}

/// A circuit prepared for analysis.
pub struct Simulator {
    pub(crate) layout: Layout,
    pub(crate) pattern: Pattern,
    pub(crate) solver: Solver,
    pub(crate) devices: Devices,
    pub(crate) states: States,
    /// Matrix values: the static part and the working copy (each with the discard slot).
    base: Vec<f64>,
    /// The static part plus every device's part fixed for the time point
    /// ([`Device::load_step_matrix`]), with its right-hand side
    /// ([`Device::load_step_history`]), and the step they were loaded for.
    step_a: Vec<f64>,
    step_b: Vec<f64>,
    step_key: Option<StepKey>,
    /// The history generation `step_b` was loaded for (with `step_key`).
    step_generation: Option<u64>,
    /// The analysis and leading integration coefficient of the step the held factorization
    /// was made at (`None` when it was made outside a Newton iteration).
    factored_for: Option<(Mode, f64)>,
    pub(crate) a: Vec<f64>,
    /// Right-hand side / solution work vector (index 0 is ground).
    pub(crate) b: Vec<f64>,
    /// Residual work vector for failure reports.
    resid: Vec<f64>,
    /// The right-hand side of the last load, kept for the residual one update further
    /// (see [`Simulator::settles_linearized`]).
    rhs: Vec<f64>,
    pub(crate) options: Options,
    pub(crate) stats: Stats,
    /// Whether the phases' seconds of `stats` are measured ([`Simulator::set_timing`]).
    clock: Clock,
    /// Extra conductance from every node to ground (gmin stepping).
    pub(crate) gshunt: f64,
    /// Initial-condition clamps for the transient operating point: (unknown, value).
    pub(crate) clamps: Vec<(usize, f64)>,
    static_dirty: bool,
    /// How transient Newton iterations reuse a factorization.
    jacobian_reuse: JacobianReuse,
    /// A chord step contracting more slowly than this triggers a refactorization.
    refactor_rate: f64,
    /// The margin of the residual's acceptance test ([`EARLY_MARGIN`]; tests vary it).
    early_margin: f64,
    /// Tests: after each acceptance on the residual's test, the update one more solve would
    /// take (see `audit_early`).
    #[cfg(test)]
    early_audit: EarlyAudit,
    /// Tests: [`Simulator::solve_linearized`] leaves out the devices' own tests, so that the
    /// audit can be seen to catch what they catch.
    #[cfg(test)]
    skip_linearized_device_tests: bool,
    /// Every device is linear (one exact step solves a time point).
    linear: bool,
    /// Position of each circuit element inside its device group (for changing values).
    group_index: Vec<Option<usize>>,
    /// Kind of each circuit element.
    kinds: Vec<u8>,
    /// Name of each circuit element.
    element_names: Vec<String>,
    /// The two terminals each element's current flows between (a VCCS: its output).
    element_terminals: Vec<[usize; 2]>,
    /// Node names for outputs.
    node_names: Vec<String>,
}

const KIND_R: u8 = 0;
const KIND_V: u8 = 1;
const KIND_I: u8 = 2;
const KIND_OTHER: u8 = 3;

fn kind_tag(k: &ElementKind) -> u8 {
    match k {
        ElementKind::Resistor { .. } => KIND_R,
        ElementKind::VoltageSource { .. } => KIND_V,
        ElementKind::CurrentSource { .. } => KIND_I,
        _ => KIND_OTHER,
    }
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("unknowns", &self.layout.unknowns())
            .field("nnz", &self.pattern.nnz)
            .finish()
    }
}

impl Simulator {
    /// Prepare a circuit: topology checks, unknown numbering, stamp map, symbolic analysis.
    pub fn new(c: &Circuit) -> Result<Simulator, SimError> {
        circuit::check_topology(c).map_err(SimError::Topology)?;
        let opts = c.options.clone();
        let mut dv = Devices::default();
        let Devices {
            res,
            cap,
            ind,
            dio,
            vs,
            is,
            g,
        } = &mut dv;
        let mut group_index = vec![None; c.elements.len()];
        for (idx, e) in c.elements.iter().enumerate() {
            match &e.kind {
                ElementKind::Resistor { a, b, resistance } => {
                    group_index[idx] = Some(res.len());
                    res.push(idx, *a, *b, *resistance)
                }
                ElementKind::Capacitor {
                    a,
                    b,
                    capacitance,
                    ic,
                } => cap.push(*a, *b, *capacitance, *ic),
                ElementKind::Inductor {
                    a,
                    b,
                    inductance,
                    ic,
                } => ind.push(&e.name, *a, *b, *inductance, *ic),
                ElementKind::Diode {
                    anode,
                    cathode,
                    model,
                    area,
                } => {
                    let m = c.models.get(&model.to_ascii_lowercase()).ok_or_else(|| {
                        SimError::Input(format!(
                            "diode {} refers to undefined model {}",
                            e.name, model
                        ))
                    })?;
                    dio.push(
                        &e.name,
                        *anode,
                        *cathode,
                        DiodeParams::new(m, *area, opts.reltol),
                    )
                }
                ElementKind::VoltageSource { pos, neg, source } => {
                    group_index[idx] = Some(vs.len());
                    vs.push(&e.name, *pos, *neg, source.clone())
                }
                ElementKind::CurrentSource { pos, neg, source } => {
                    group_index[idx] = Some(is.len());
                    is.push(*pos, *neg, source.clone())
                }
                ElementKind::Vccs {
                    pos,
                    neg,
                    cpos,
                    cneg,
                    gm,
                } => g.push(*pos, *neg, *cpos, *cneg, *gm),
            }
        }
        let mut devices = dv;
        let mut layout = Layout::new(&c.nodes);
        for d in devices.all_mut() {
            d.alloc(&mut layout);
        }
        let mut alloc = StateAlloc::default();
        for d in devices.all_mut() {
            d.alloc_states(&mut alloc);
        }
        let n = layout.unknowns();
        if n == 0 {
            return Err(SimError::Input(
                "the circuit has no nodes besides ground".into(),
            ));
        }
        let mut pb = PatternBuilder::new(n);
        for d in devices.all() {
            d.declare(&mut pb);
        }
        let pattern = pb.build();
        for d in devices.all_mut() {
            d.bind(&pattern);
        }
        let late: Vec<bool> = (1..=n).map(|i| layout.is_current(i)).collect();
        let mut solver = Solver::new(&pattern, &late)?;
        let nnz = pattern.nnz;
        let linear = devices.all().iter().all(|d| d.is_linear());
        // Newton's iterations in residual form go to the same point with a factor rounded to
        // single precision; a linear circuit's single exact step would not be exact
        solver.set_rounded_solves(!linear);
        let mut clamps = Vec::new();
        for &(node, v) in &c.initial_conditions {
            if node != 0 {
                clamps.push((node, v));
            }
        }
        Ok(Simulator {
            layout,
            solver,
            devices,
            states: States::new(alloc.len()),
            base: vec![0.0; nnz + 1],
            step_a: vec![0.0; nnz + 1],
            step_b: vec![0.0; n + 1],
            step_key: None,
            step_generation: None,
            factored_for: None,
            a: vec![0.0; nnz + 1],
            b: vec![0.0; n + 1],
            resid: vec![0.0; n + 1],
            rhs: vec![0.0; n + 1],
            options: opts,
            stats: Stats::default(),
            clock: Clock(true),
            gshunt: 0.0,
            clamps,
            static_dirty: true,
            jacobian_reuse: JacobianReuse::default(),
            early_margin: EARLY_MARGIN,
            #[cfg(test)]
            early_audit: EarlyAudit::default(),
            #[cfg(test)]
            skip_linearized_device_tests: false,
            refactor_rate: if n >= CHORD_COSTLY_FACTOR_UNKNOWNS {
                0.4
            } else {
                0.1
            },
            linear,
            group_index,
            kinds: c.elements.iter().map(|e| kind_tag(&e.kind)).collect(),
            element_names: c.elements.iter().map(|e| e.name.clone()).collect(),
            element_terminals: c
                .elements
                .iter()
                .map(|e| {
                    let t = e.kind.terminals();
                    [t[0], t[1]]
                })
                .collect(),
            node_names: c.nodes.clone(),
            pattern,
        })
    }

    /// Let Newton iterations read the Cholesky factor (large SPD circuits) rounded to single
    /// precision (on by default in nonlinear circuits): half the memory traffic of their
    /// solves, which on large factors is what bounds them. The iterations are in residual
    /// form, `x + F⁻¹·(b − A·x)`, so a rounded `F` changes how fast they contract (by about
    /// its condition number times 6e-8), not the point they converge to; the convergence
    /// tests are unchanged. Gradient and adjoint solves always use the factor as computed.
    pub fn set_rounded_solves(&mut self, on: bool) {
        self.solver.set_rounded_solves(on && !self.linear);
    }

    /// How Newton's iterations in a transient analysis reuse a factorization (by default
    /// across iterations and time points while it contracts: [`JacobianReuse::AcrossSteps`]).
    /// An unchanged matrix (a linear circuit at a fixed step) is never refactored.
    pub fn set_jacobian_reuse(&mut self, reuse: JacobianReuse) {
        self.jacobian_reuse = reuse;
    }

    /// How Newton's iterations in a transient analysis reuse a factorization.
    pub fn jacobian_reuse(&self) -> JacobianReuse {
        self.jacobian_reuse
    }

    /// Number of unknowns (node voltages, branch currents, internal nodes).
    pub fn unknowns(&self) -> usize {
        self.layout.unknowns()
    }

    /// Stored entries of the circuit matrix (its fixed sparsity pattern).
    pub fn matrix_nnz(&self) -> usize {
        self.pattern.nnz
    }

    /// The factorization in use: `cholesky` (faer's supernodal LLᵀ, large SPD circuits),
    /// `static` (the static-pivot LU, LDLᵀ on symmetric values) or `pivoting` (faer's LU).
    pub fn solver_kind(&self) -> &'static str {
        self.solver.kind()
    }

    /// Whether the factorization and solves can use two threads: they then do when the
    /// analysis runs on a worker of rayon's pool (for example inside `rayon::scope`), and
    /// stay on the calling thread otherwise.
    pub fn can_use_two_threads(&self) -> bool {
        self.solver.can_use_two_threads()
    }

    /// Threads the factorizations and solves use when run on a worker of rayon's pool: two
    /// when they can split and the pool has two workers or more (`RAYON_NUM_THREADS`), else
    /// one.
    pub fn solver_threads(&self) -> usize {
        if self.can_use_two_threads() {
            rayon::current_num_threads().min(2)
        } else {
            1
        }
    }

    /// The fill-reducing ordering of the factorization: `amd` or `nested dissection`.
    pub fn ordering(&self) -> &'static str {
        self.solver.ordering().name()
    }

    /// Stored entries of the factorization (see [`crate::matrix::Solver::factor_nnz`]).
    pub fn factor_nnz(&self) -> usize {
        self.solver.factor_nnz()
    }

    /// Description of unknown `i` (1-based), for messages: a node with the elements whose
    /// current flows into it (at most eight named), or the element whose branch current it is.
    pub fn describe_unknown(&self, i: usize) -> String {
        let mut s = self.layout.describe(i);
        if self.layout.is_current(i) || i >= self.node_names.len() {
            return s;
        }
        const SHOWN: usize = 8;
        let at: Vec<&str> = self
            .element_terminals
            .iter()
            .zip(&self.element_names)
            .filter(|(t, _)| t.contains(&i))
            .map(|(_, n)| n.as_str())
            .collect();
        if !at.is_empty() {
            s.push_str(&format!(
                " (elements: {}",
                at[..at.len().min(SHOWN)].join(", ")
            ));
            if at.len() > SHOWN {
                s.push_str(&format!(" and {} more", at.len() - SHOWN));
            }
            s.push(')');
        }
        s
    }

    /// Change the resistance of circuit element `element` (a resistor) without redoing the
    /// symbolic analysis.
    pub fn set_resistance(&mut self, element: usize, resistance: f64) -> Result<(), SimError> {
        if self.kinds.get(element) != Some(&KIND_R) {
            return Err(SimError::Input(format!(
                "{} is not a resistor",
                self.element_label(element)
            )));
        }
        if !(resistance > 0.0 && resistance.is_finite()) {
            return Err(SimError::Input(format!(
                "resistance of {} must be positive and finite, got {resistance}",
                self.element_label(element)
            )));
        }
        let k = self.group_index[element].expect("resistor index");
        self.devices.res.g[k] = 1.0 / resistance;
        self.static_dirty = true;
        Ok(())
    }

    /// Change the value of an independent voltage or current source (circuit element index).
    pub fn set_source(&mut self, element: usize, source: circuit::Source) -> Result<(), SimError> {
        match (
            self.kinds.get(element),
            self.group_index.get(element).copied().flatten(),
        ) {
            (Some(&KIND_V), Some(k)) => self.devices.vs.source[k] = source,
            (Some(&KIND_I), Some(k)) => self.devices.is.source[k] = source,
            _ => {
                return Err(SimError::Input(format!(
                    "{} is not an independent source",
                    self.element_label(element)
                )))
            }
        }
        Ok(())
    }

    fn element_label(&self, element: usize) -> String {
        self.element_names
            .get(element)
            .cloned()
            .unwrap_or_else(|| format!("element #{element}"))
    }

    /// The signals written by analyses: node voltages (internal nodes excluded), then branch
    /// currents, with the unknown index of each.
    pub fn output_signals(&self) -> Vec<(Signal, usize)> {
        let mut out = Vec::new();
        for i in 1..=self.layout.unknowns() {
            if self.layout.is_internal(i) {
                continue;
            }
            if self.layout.is_current(i) {
                out.push((Signal::current(self.layout.name(i)), i));
            } else {
                out.push((Signal::voltage(&self.node_names[i]), i));
            }
        }
        out
    }

    /// Statistics accumulated since the simulator was built.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Measure the seconds of each phase in [`Stats`] (on by default) or not: off, they stay
    /// at zero and each Newton iteration makes eight fewer clock reads. On Iris's
    /// network, where a Newton iteration takes about 3 µs, those reads were 4-5% of a
    /// training run's time (perf, `examples/throughput`); the learner's engines turn them off.
    pub fn set_timing(&mut self, on: bool) {
        self.clock = Clock(on);
    }

    pub(crate) fn ctx(
        &self,
        mode: Mode,
        time: f64,
        tstep: f64,
        tstop: f64,
        integ: Integrator,
    ) -> LoadCtx {
        LoadCtx {
            mode,
            time,
            tran_op: false,
            src_scale: 1.0,
            ramp_from: None,
            gmin: self.options.gmin,
            init_junctions: false,
            limit: true,
            tstep,
            tstop,
            integ,
            reltol: self.options.reltol,
            abstol: self.options.abstol,
            vntol: self.options.vntol,
            chgtol: self.options.chgtol,
            trtol: self.options.trtol,
        }
    }

    fn refresh_static(&mut self) {
        if self.static_dirty {
            self.base.iter_mut().for_each(|v| *v = 0.0);
            for d in self.devices.all() {
                d.load_static(&mut self.base);
            }
            self.static_dirty = false;
            self.step_key = None;
        }
    }

    /// The static part plus the parts fixed for the time point of `ctx`: the matrix's loaded
    /// again only when the step (its mode, method, order or coefficients) changed, the
    /// right-hand side's also when the accepted history did. At a steady step (a run held to
    /// TMAX) the matrix part is the same from one time point to the next, and neither the
    /// copy of the static part nor the companion conductances are redone.
    fn refresh_step(&mut self, ctx: &LoadCtx) {
        self.refresh_static();
        let key = StepKey {
            mode: ctx.mode,
            method: ctx.integ.method,
            order: ctx.integ.order,
            ag: ctx.integ.ag,
        };
        let generation = self.states.generation();
        let same_matrix = self.step_key.as_ref() == Some(&key);
        if same_matrix && self.step_generation == Some(generation) {
            return;
        }
        if !same_matrix {
            self.step_a.copy_from_slice(&self.base);
            let td = self.clock.now();
            for d in self.devices.all() {
                d.load_step_matrix(ctx, &mut self.step_a);
            }
            // device loads, whether per time point or per iteration
            self.stats.device_seconds += Clock::since(td);
            self.step_key = Some(key);
        }
        self.step_b.iter_mut().for_each(|v| *v = 0.0);
        let td = self.clock.now();
        for d in self.devices.all() {
            d.load_step_history(ctx, &self.states, &mut self.step_b);
        }
        self.stats.device_seconds += Clock::since(td);
        self.step_generation = Some(generation);
    }

    /// Assemble the system at estimate `x` (loads every device). Returns whether any device
    /// limited its step.
    pub(crate) fn assemble(&mut self, ctx: &LoadCtx, x: &[f64]) -> bool {
        let t0 = self.clock.now();
        self.stats.loads += 1;
        self.refresh_step(ctx);
        self.a.copy_from_slice(&self.step_a);
        self.b.copy_from_slice(&self.step_b);
        let mut limited = false;
        let td = self.clock.now();
        for d in self.devices.all_mut() {
            limited |= d.load(ctx, x, &mut self.states, &mut self.a, &mut self.b);
        }
        self.stats.device_seconds += Clock::since(td);
        if self.gshunt > 0.0 {
            for i in 1..=self.layout.unknowns() {
                if !self.layout.is_current(i) {
                    let s = self.pattern.diag(i);
                    self.a[s] += self.gshunt;
                }
            }
        }
        if ctx.mode == Mode::Dc && ctx.tran_op {
            for &(node, v) in &self.clamps {
                let s = self.pattern.diag(node);
                self.a[s] += 1e10;
                self.b[node] += 1e10 * v;
            }
        }
        self.stats.load_seconds += Clock::since(t0);
        limited
    }

    /// Newton–Raphson from `x` (updated in place) with at most `max_iter` iterations.
    ///
    /// Each iteration assembles `A(x)·x_new = b(x)` and takes the step in residual form,
    /// `x_new = x + F⁻¹·(b − A·x)`, where `F` is the held factorization. `F` is refactored
    /// unless it is of exactly this matrix (linear circuits: an exact step with no
    /// factorization) or, in transient analysis with Jacobian reuse on, it was made for a like
    /// step ([`CHORD_AG0_RATIO`]) and still contracts (a chord step): the fixed point is the
    /// same, only the rate differs. A stale `F` is kept
    /// while each step shrinks the update at least tenfold (by 0.4 from
    /// [`CHORD_COSTLY_FACTOR_UNKNOWNS`] unknowns); a slower step, or a diverging
    /// one, refactors at the next iterate. The scaled update norm is the largest
    /// `|Δx_i| / (reltol·|x_i| + vntol or abstol)`; see the convergence test below for how a
    /// chord step's measured rate enters it. A point accepted one update past the last load
    /// has its devices' states carried to it ([`Device::settle`]: a diode's charge along its
    /// slope), so that integration states match the solution without another load.
    ///
    /// In a transient analysis each load also tests the iterate it is at, before any solve there: the residual is turned
    /// into the update a Jacobi step would take; when that has shrunk by [`EARLY_CONTRACTION`]
    /// from the last iterate's, no junction is limited, and either the update that led here
    /// passed SPICE's tests or [`EARLY_MARGIN`] times the estimate would, the iterate is
    /// accepted as it stands, its devices' states already loaded there. It saves the
    /// confirming solve SPICE takes (SPICE's own tests look back at the last update; this one
    /// also looks at the residual left). After each solve the same test runs on the residual
    /// at the solve's result taken from the load before it ([`Self::settles_linearized`]);
    /// when that residual is trusted but the test fails, the next update is solved from it
    /// with no load in between ([`Self::solve_linearized`]): the solution when it passes
    /// SPICE's tests, else the iterate Newton goes on from. The returned count is the solves
    /// taken.
    pub(crate) fn newton(
        &mut self,
        ctx: &mut LoadCtx,
        x: &mut [f64],
        max_iter: usize,
    ) -> Result<usize, NewtonFailure> {
        let n = self.layout.unknowns();
        let mut last_reason = "iteration limit reached";
        let reuse = self.jacobian_reuse != JacobianReuse::Never
            && ctx.mode == Mode::Tran
            && !self.linear
            && n >= CHORD_MIN_UNKNOWNS;
        let mut prev_norm = f64::INFINITY;
        // a fresh factorization at the time point's first iteration, chord steps after it
        let mut refactor = reuse && self.jacobian_reuse == JacobianReuse::WithinStep;
        // transient steps only: an operating point is solved once, and its last iterate is
        // kept quadratically close to the solution (gradients and the analytic tests rely on
        // that; measured: a diode at 10 V through 1 kΩ lands 2.5e-7 V off without it, within
        // reltol but not within Newton's own last step). At every size: until the linearized
        // solve below, the residual one update further was taken for this test alone, and at
        // 100,000 unknowns (examples/scale's mesh, 1,006 steps) it took the assembly from 8.2
        // to 11.4 s and the run was not faster, so the test ran below
        // CHORD_COSTLY_FACTOR_UNKNOWNS only (and with a factorization per time point); now
        // that product is taken for the solve anyway, and on the same mesh (1,000 fixed
        // steps, the factorization kept across steps) the test cut the iterations from 3,451
        // to 3,085 and the transient from 32.8–34.0 s to 28.0–33.6 s (four runs each, in turn)
        let early = ctx.mode == Mode::Tran;
        let mut last_passed = false;
        let mut prev_res = f64::INFINITY;
        for iter in 0..max_iter {
            let limited = self.assemble(ctx, x);
            ctx.init_junctions = false;
            if !all_finite(&self.b) {
                // a device's current overflowed (or a source is not finite): name it
                return Err(self.nonfinite_failure());
            }
            let t1 = self.clock.now();
            if early && !limited {
                self.rhs.copy_from_slice(&self.b);
            }
            // residual b − A·x into b (assembly); the solve turns it into the update. When
            // the held factorization is of symmetric values, A is symmetric too: the linear
            // stamps are those factored, and every device's per-iteration stamp is symmetric
            // (a conductance between two nodes); the debug check holds devices to it.
            let symmetric = self.solver.factored_symmetric();
            debug_assert!(
                !symmetric || self.solver.values_symmetric(&self.a),
                "a device stamped an asymmetric per-iteration entry"
            );
            self.pattern
                .sub_product_as(symmetric, &self.a, &x[1..=n], &mut self.b[1..=n]);
            let res = if early {
                self.jacobi_norm(&self.b, x)
            } else {
                0.0
            };
            self.stats.load_seconds += Clock::since(t1);
            // Convergence at this iterate without another solve: see `settled_early`.
            if early && iter > 0 && !limited && res <= EARLY_CONTRACTION * prev_res {
                let mut predicted = prev_norm <= 1.0 && res * self.early_margin <= 1.0;
                if predicted {
                    predicted = self.next_step_passes(ctx, x, &self.b);
                }
                if predicted || last_passed {
                    #[cfg(test)]
                    self.audit_early(ctx, x);
                    for d in self.devices.all() {
                        d.settle(ctx, x, &mut self.states);
                    }
                    self.stats.settled_early += 1;
                    return Ok(iter);
                }
            }
            prev_res = res;
            self.stats.newton_iterations += 1;
            let t0 = self.clock.now();
            let exact = self.solver.matches(&self.a);
            let stale =
                !exact && reuse && !refactor && self.held_fits(ctx) && self.solver.is_factored();
            if !exact && !stale {
                let fr = self.solver.factor(&self.a);
                self.factored_for = Some((ctx.mode, ctx.integ.ag0()));
                self.stats.factorizations += 1;
                refactor = false;
                if fr.is_err() {
                    self.stats.factor_seconds += Clock::since(t0);
                    return Err(self.failure(ctx, x, "the circuit matrix is singular"));
                }
            }
            self.stats.factor_seconds += Clock::since(t0);
            if stale || exact {
                self.stats.reuses += 1;
            }
            let t2 = self.clock.now();
            self.solver.solve_plain(&mut self.b);
            self.b[0] = 0.0;
            self.stats.solves += 1;
            self.stats.solve_seconds += Clock::since(t2);
            // b now holds the update: scaled norm, non-finite values
            let mut norm = 0.0f64;
            if stale && !all_finite(&self.b[1..=n]) {
                // a stale factorization diverged: refactor at the same iterate
                refactor = true;
                last_passed = false;
                continue;
            }
            let options = &self.options;
            let current = &self.layout.current_flags()[1..=n];
            for (i, ((bi, &xi), &cur)) in self.b[1..=n]
                .iter_mut()
                .zip(&x[1..=n])
                .zip(current)
                .enumerate()
            {
                let d = *bi;
                let new = xi + d;
                if !new.is_finite() {
                    return Err(NewtonFailure {
                        worst: i + 1,
                        residual: f64::NAN,
                        reason: "the solve gave a non-finite value (a nearly singular matrix)",
                        element: None,
                        nonfinite: true,
                    });
                }
                norm = raise_update_norm(norm, options, cur, xi, d);
                *bi = new;
            }
            let rate = norm / prev_norm;
            prev_norm = norm;
            // Convergence: SPICE's tests on the update (scaled norm ≤ 1, every device's own
            // test), with no junction limited. After a Newton step (fresh or exact
            // factorization) they take two iterations unless the circuit is linear (one exact
            // step). A chord step must also contract at a measured rate ρ ≤ 1/2, so that the
            // error it leaves, ρ/(1 − ρ) times its update, is within the same tolerance; it is
            // never accepted at the first iteration, where no rate is known (a factorization
            // from another regime, a diode since switched off, can make a wrong point look
            // still). Measured: accepting chord steps on 2ρ times their update instead saves
            // a fifth of the iterations but leaves errors that the truncation-error control
            // amplifies on small linear circuits (steps collapsing towards zero).
            let may_converge = if stale {
                iter > 0 && rate <= 0.5
            } else {
                iter > 0 || self.linear
            };
            let tested = !limited && norm <= 1.0;
            let devices_pass = |s: &Self| s.devices.all().iter().all(|d| d.converged(ctx, &s.b));
            // the devices' tests, run where they can end the solve, are kept for the residual's
            // test at the next load; run after the test below when they cannot
            let mut passes = None;
            let converged = may_converge && tested && *passes.insert(devices_pass(self));
            if stale && iter > 0 && rate > self.refactor_rate {
                // the old factorization no longer contracts well: refactor at the next iterate
                refactor = true;
            }
            // Not converged on SPICE's tests: perhaps on the residual at the new iterate, taken
            // from this load's linearisation without loading there
            let linearized = if !converged && early && !limited {
                self.settles_linearized(ctx, res, tested)
            } else {
                Linearized::Untrusted
            };
            // the solves taken when the point is settled from the load before, with no load
            // at the solution: at x + Δ, or one solve further
            let settled = match linearized {
                Linearized::Accepted => {
                    x[1..=n].copy_from_slice(&self.b[1..=n]);
                    Some(iter + 1)
                }
                // the solve from that residual (`solve_linearized`) is a chord step: not
                // where every iteration is to refactor
                Linearized::Failed if reuse => match self.solve_linearized(ctx, x) {
                    // a chord step's rule, as below: SPICE's tests and a rate ≤ 1/2
                    Some((norm2, passed)) if passed && norm2 / norm <= 0.5 => {
                        #[cfg(test)]
                        {
                            self.b[1..=n].copy_from_slice(&x[1..=n]);
                            self.audit_linearized(ctx);
                        }
                        self.stats.settled_linearized_solve += 1;
                        Some(iter + 2)
                    }
                    // not yet: Newton goes on from y + Δ₂, a chord step further
                    Some((norm2, passed)) => {
                        if norm2 / norm > self.refactor_rate {
                            refactor = true;
                        }
                        prev_norm = norm2;
                        last_passed = passed;
                        continue;
                    }
                    None => None,
                },
                _ => None,
            };
            if let Some(solves) = settled {
                for d in self.devices.all() {
                    d.settle(ctx, x, &mut self.states);
                }
                self.stats.settled_early += 1;
                self.stats.settled_linearized += 1;
                return Ok(solves);
            }
            x[1..=n].copy_from_slice(&self.b[1..=n]);
            last_passed = passes.unwrap_or_else(|| tested && devices_pass(self));
            if converged {
                if iter == 0 {
                    // A linear circuit's single exact step: the devices were loaded at the
                    // iterate before it, which may be far from `x`. Load them once more at
                    // the accepted point, so that the states kept for integration and
                    // truncation error are those of `x` (measured: without it the
                    // truncation-error control chases the mismatch and the step collapses on
                    // small circuits). After any later iteration the update passed the
                    // tests and is within tolerance: each device's `settle` below carries
                    // its states across it (a diode's charge along its slope) for a
                    // fraction of a load. On random_network 1,297 of 5,127 steps were
                    // accepted after a chord step and loaded once more here before.
                    self.assemble(ctx, x);
                }
                for d in self.devices.all() {
                    d.settle(ctx, x, &mut self.states);
                }
                return Ok(iter + 1);
            }
            if limited {
                last_reason = "junction voltages still being limited";
            }
        }
        Err(self.failure(ctx, x, last_reason))
    }

    /// Whether the held factorization may serve a chord step at `ctx`: it was made in a
    /// Newton iteration of this transient, at a step whose leading integration coefficient
    /// (`ag0`, the capacitors' companion conductance per farad) is within
    /// [`CHORD_AG0_RATIO`] of this step's. See that constant for why.
    fn held_fits(&self, ctx: &LoadCtx) -> bool {
        match self.factored_for {
            Some((Mode::Tran, ag0)) if ctx.mode == Mode::Tran => {
                let q = ctx.integ.ag0() / ag0;
                q <= CHORD_AG0_RATIO && q * CHORD_AG0_RATIO >= 1.0
            }
            _ => false,
        }
    }

    /// The residual in `b` (after the assembly at `x`) as the update a Jacobi step would take,
    /// `r_i / A_ii`, and that update's scaled norm (as the Newton update's: `reltol·|x_i|`
    /// plus vntol or abstol). Rows with a zero diagonal (a voltage source's branch equation,
    /// linear and met by every solve) are left out. One division per row and no writes: on
    /// large circuits this runs at every load.
    fn jacobi_norm(&self, r: &[f64], x: &[f64]) -> f64 {
        let n = self.layout.unknowns();
        let (r, x) = (&r[1..=n], &x[1..=n]);
        let (current, diag) = (
            &self.layout.current_flags()[1..=n],
            self.pattern.diag_slots(),
        );
        let (a, o) = (&self.a, &self.options);
        // a zero diagonal gives 0 / 0 or r / 0: NaN or infinity, both left out below (neither
        // is at most f64::MAX). Four rows at a time with no branch and no early exit: the
        // divisions go two to an instruction (`divpd`) and the maxima stay in vector
        // registers (random_network's transient about 2% faster than one row at a time).
        let den = |i: usize| a[diag[i]].abs() * tolerance(o, current[i], x[i].abs());
        let keep = |w: f64, q: f64| {
            let q = if q <= f64::MAX { q } else { 0.0 };
            if q > w {
                q
            } else {
                w
            }
        };
        let mut w = [0.0f64; 4];
        let whole = n - n % 4;
        for i in (0..whole).step_by(4) {
            let num = [r[i].abs(), r[i + 1].abs(), r[i + 2].abs(), r[i + 3].abs()];
            let den = [den(i), den(i + 1), den(i + 2), den(i + 3)];
            let q = [
                num[0] / den[0],
                num[1] / den[1],
                num[2] / den[2],
                num[3] / den[3],
            ];
            for k in 0..4 {
                w[k] = keep(w[k], q[k]);
            }
        }
        for i in whole..n {
            w[0] = keep(w[0], r[i].abs() / den(i));
        }
        let larger = |p: f64, q: f64| if p > q { p } else { q };
        larger(larger(w[0], w[1]), larger(w[2], w[3]))
    }

    /// Whether the margin ([`EARLY_MARGIN`]) times the Jacobi estimate of the next update from
    /// `x`, whose
    /// residual is `r` (see [`Self::jacobi_norm`]), passes every device's own test, taken
    /// from the last load ([`Device::converged_past`]: at the loaded point itself that is
    /// SPICE's test; one update past it, with the currents extrapolated there).
    fn next_step_passes(&self, ctx: &LoadCtx, x: &[f64], r: &[f64]) -> bool {
        let step = NextUpdate::Jacobi {
            r,
            a: &self.a,
            diag: self.pattern.diag_slots(),
            margin: self.early_margin,
        };
        self.devices
            .all()
            .iter()
            .all(|d| d.converged_past(ctx, x, &step))
    }

    /// Whether Newton may stop at the iterate in `b` (the solve's `x + Δ`, `x` the iterate
    /// just loaded, `res_x` the Jacobi norm of its residual) without loading there: the same test
    /// as the residual's acceptance after a load (see [`EARLY_MARGIN`]), on the residual at
    /// `x + Δ` taken from this load. The system loaded at `x` gives it exactly for the linear
    /// devices, `rhs − A·(x + Δ)` (the held factorization need not be of `A`: a chord step's
    /// residual is what its update left); each nonlinear device adds what its linearisation
    /// leaves out to second order ([`Device::linearization_remainder`]), and its convergence
    /// test is taken with its currents extrapolated there ([`Device::converged_past`]).
    /// Measured on random_network: two in three time points stop here, each one load
    /// (device evaluation, the matrix's copy) fewer. Tests audit every such acceptance
    /// against a true load and solve, as the others. `tested`: whether the update to `x + Δ`
    /// passed SPICE's tests; when it did not, the residual is only taken, for
    /// [`Self::solve_linearized`].
    fn settles_linearized(&mut self, ctx: &LoadCtx, res_x: f64, tested: bool) -> Linearized {
        let n = self.layout.unknowns();
        let (y, r) = (&self.b, &mut self.rhs);
        let symmetric = self.solver.factored_symmetric();
        self.pattern
            .sub_product_as(symmetric, &self.a, &y[1..=n], &mut r[1..=n]);
        if !self
            .devices
            .all()
            .iter()
            .all(|d| d.linearization_remainder(ctx, y, r))
        {
            return Linearized::Untrusted;
        }
        if !tested {
            return Linearized::Failed;
        }
        let res = self.jacobi_norm(&self.rhs, &self.b);
        if !(res <= EARLY_CONTRACTION * res_x && res * self.early_margin <= 1.0) {
            return Linearized::Failed;
        }
        if !self.next_step_passes(ctx, &self.b, &self.rhs) {
            return Linearized::Failed;
        }
        #[cfg(test)]
        self.audit_linearized(ctx);
        Linearized::Accepted
    }

    /// After [`Self::settles_linearized`] failed on a residual it trusts (in `rhs`, at the
    /// iterate `y = x + Δ` in `b`): the next update solved from it with the held
    /// factorization, `Δ₂ = F⁻¹·r`, with no load at `y`. This is the chord step Newton would
    /// take from `y` after loading there, with the junctions' currents taken to second order
    /// from the load at `x` instead of evaluated (the same expansion the residual's test
    /// uses). Measured on random_network against a load and solve at `y`, over its 1,827
    /// such solves: the two updates agree to 4.6e-4 of the tolerance at worst, and to 8.8e-8
    /// on the 1,356 that pass the tests below.
    /// Writes `y + Δ₂` to `x` and returns `Δ₂`'s scaled norm and whether it passes
    /// SPICE's tests (scaled norm ≤ 1, every device's test with its currents extrapolated to
    /// `y`); `None`, with `x` untouched, when `Δ₂` is not finite. The solve is counted as an
    /// iteration.
    fn solve_linearized(&mut self, ctx: &LoadCtx, x: &mut [f64]) -> Option<(f64, bool)> {
        let n = self.layout.unknowns();
        let t0 = self.clock.now();
        self.solver.solve_plain(&mut self.rhs);
        self.rhs[0] = 0.0;
        self.stats.newton_iterations += 1;
        self.stats.solves += 1;
        self.stats.reuses += 1;
        self.stats.solve_seconds += Clock::since(t0);
        let (y, d) = (&self.b[1..=n], &self.rhs[1..=n]);
        if !all_finite(d) {
            return None;
        }
        let (options, current) = (&self.options, &self.layout.current_flags()[1..=n]);
        let mut norm = 0.0f64;
        for ((&yi, &di), &cur) in y.iter().zip(d).zip(current) {
            norm = raise_update_norm(norm, options, cur, yi, di);
        }
        let step = NextUpdate::Solved(&self.rhs);
        let (dev, y) = (self.devices.all(), &self.b);
        #[cfg(test)]
        let dev: &[&dyn Device] = if self.skip_linearized_device_tests {
            &[]
        } else {
            &dev
        };
        let passed = norm <= 1.0 && dev.iter().all(|dv| dv.converged_past(ctx, y, &step));
        for ((xi, &yi), &di) in x[1..=n]
            .iter_mut()
            .zip(&self.b[1..=n])
            .zip(&self.rhs[1..=n])
        {
            *xi = yi + di;
        }
        Some((norm, passed))
    }

    /// Residual of the system assembled at `x`, the unknown where it is largest, and the
    /// device failing its convergence test by the widest margin at `x` (the last iterate,
    /// against the linearisation it was solved with).
    fn failure(&mut self, ctx: &LoadCtx, x: &[f64], reason: &'static str) -> NewtonFailure {
        let n = self.layout.unknowns();
        let mut element = None;
        let mut margin = 1.0;
        for (g, d) in self.devices.all().iter().enumerate() {
            if let Some((k, m)) = d.worst_convergence(ctx, x) {
                if m.is_nan() || m > margin {
                    element = Some((g, k));
                    margin = m;
                }
            }
        }
        // the residual of the circuit's equations at x itself: devices evaluated there, not
        // at a limited junction voltage (whose linearisation x may satisfy exactly)
        let mut exact = ctx.clone();
        exact.limit = false;
        exact.init_junctions = false;
        self.assemble(&exact, x);
        let mut r = std::mem::take(&mut self.resid);
        r.iter_mut().for_each(|v| *v = 0.0);
        for (row, col, slot) in self.pattern.entries() {
            r[row] += self.a[slot] * x[col];
        }
        let mut worst = 1;
        let mut wr = -1.0;
        for i in 1..=n {
            let ri = (r[i] - self.b[i]).abs();
            if ri.is_nan() || ri > wr {
                worst = i;
                wr = ri;
                if ri.is_nan() {
                    break;
                }
            }
        }
        self.resid = r;
        NewtonFailure {
            worst,
            residual: wr,
            reason,
            element,
            nonfinite: false,
        }
    }

    /// The assembled right-hand side holds a non-finite value: find the device instance whose
    /// load produced it (or else the unknown, a non-finite source value).
    fn nonfinite_failure(&self) -> NewtonFailure {
        let worst = (1..self.b.len())
            .find(|&i| !self.b[i].is_finite())
            .unwrap_or(1);
        let element = self
            .devices
            .all()
            .iter()
            .enumerate()
            .find_map(|(g, d)| d.nonfinite().map(|k| (g, k)));
        NewtonFailure {
            worst,
            residual: f64::NAN,
            reason: match element {
                Some(_) => "a device's current or conductance is not finite",
                None => "a source value or the starting point is not finite",
            },
            element,
            nonfinite: true,
        }
    }

    /// The device instance of a failure, in words: where a non-finite value arose, or which
    /// element is furthest from convergence.
    pub(crate) fn describe_element(&self, f: &NewtonFailure) -> Option<String> {
        let (g, k) = f.element?;
        let name = self.devices.all()[g]
            .instance_name(k)
            .map(str::to_string)
            .unwrap_or_else(|| format!("instance {k} of group {g}"));
        Some(if f.nonfinite {
            format!("non-finite value from {name}")
        } else {
            format!("element furthest from convergence: {name}")
        })
    }

    /// Solve Jᵀ·u = rhs (or J·u = rhs) with the factorization of the last Newton iteration:
    /// the Jacobian at the last solution. `rhs` is indexed by unknown (index 0 ignored).
    pub fn solve_with_last_jacobian(
        &mut self,
        rhs: &mut [f64],
        transpose: bool,
    ) -> Result<(), SimError> {
        if !self.solver.is_factored() {
            return Err(SimError::Input(
                "no factorization available: run an analysis first".into(),
            ));
        }
        if transpose {
            self.solver.solve_transpose(rhs);
        } else {
            self.solver.solve(rhs);
        }
        Ok(())
    }

    /// Re-assemble and factor the Jacobian at DC solution `x` (so that it matches `x` exactly).
    pub fn factor_dc_jacobian(&mut self, x: &[f64]) -> Result<(), SimError> {
        let ctx = self.ctx(Mode::Dc, 0.0, 0.0, 0.0, Integrator::default());
        // load twice so junction states sit exactly at x (first load may limit)
        for d in self.devices.all_mut() {
            d.init_states(&ctx, x, &mut self.states);
        }
        self.assemble(&ctx, x);
        self.factored_for = None;
        self.solver.factor(&self.a).map_err(SimError::from)
    }

    pub(crate) fn device_breakpoints(&self, tstep: f64, tstop: f64) -> Vec<f64> {
        let mut out = Vec::new();
        for d in self.devices.all() {
            d.breakpoints(tstep, tstop, &mut out);
        }
        out
    }

    pub(crate) fn init_states(&mut self, ctx: &LoadCtx, x: &[f64]) {
        for d in self.devices.all_mut() {
            d.init_states(ctx, x, &mut self.states);
        }
        self.states.fill_history();
    }

    pub(crate) fn accept_devices(&mut self) {
        for d in self.devices.all_mut() {
            d.accept();
        }
    }

    pub(crate) fn restore_devices(&mut self) {
        for d in self.devices.all_mut() {
            d.restore();
        }
    }

    pub(crate) fn truncate(&self, ctx: &LoadCtx) -> f64 {
        self.devices
            .all()
            .iter()
            .map(|d| d.truncate(ctx, &self.states))
            .fold(f64::INFINITY, f64::min)
    }

    /// Initial conditions for UIC: capacitor and inductor `ic=` values and `.ic` node values.
    pub(crate) fn uic_state(&mut self, ctx: &LoadCtx, x: &mut [f64]) {
        for &(node, v) in &self.clamps {
            x[node] = v;
        }
        for d in self.devices.all_mut() {
            d.init_states(ctx, x, &mut self.states);
        }
        self.devices.cap.apply_ic(&mut self.states);
        self.devices.ind.apply_ic(x, &mut self.states);
        self.states.fill_history();
    }
}

/// What [`Simulator::settles_linearized`] made of the residual one update past the last load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Linearized {
    /// The iterate passes the residual's test there: accepted.
    Accepted,
    /// The residual is trusted, the test failed.
    Failed,
    /// A junction moved too far for its expansion: no residual.
    Untrusted,
}

/// What the audit of the residual's acceptance test saw (tests only).
#[cfg(test)]
#[derive(Debug, Clone, Default)]
struct EarlyAudit {
    /// Iterates accepted on the residual's test.
    accepted: usize,
    /// Of those, the ones whose next update (one more solve with the held factorization)
    /// would fail SPICE's tests: scaled norm above 1 or a device's own test.
    failed: usize,
    /// The largest scaled norm of those next updates.
    worst: f64,
}

#[cfg(test)]
impl Simulator {
    /// [`Simulator::audit_early`] for an iterate accepted on the residual taken from the load
    /// before it (the solve's result, in `b`): the devices are loaded there for the audit and
    /// then put back as they were, so that tests run the same iterations as release builds.
    fn audit_linearized(&mut self, ctx: &LoadCtx) {
        let n = self.layout.unknowns();
        let (dio, states) = (self.devices.dio.clone(), self.states.clone());
        let (a, b, rhs) = (self.a.clone(), self.b.clone(), self.rhs.clone());
        let x = self.b.clone();
        self.assemble(ctx, &x);
        self.pattern
            .sub_product(&self.a, &x[1..=n], &mut self.b[1..=n]);
        self.audit_early(ctx, &x);
        self.devices.dio = dio;
        self.states = states;
        (self.a, self.b, self.rhs) = (a, b, rhs);
    }

    /// The update one more Newton solve would take from `x`, accepted on the residual's test
    /// (`b` holds the residual there, `a` the matrix assembled there), held to SPICE's tests.
    fn audit_early(&mut self, ctx: &LoadCtx, x: &[f64]) {
        let n = self.layout.unknowns();
        let mut y = self.b.clone();
        self.solver.solve_plain(&mut y);
        y[0] = 0.0;
        let current = self.layout.current_flags();
        let mut norm = 0.0f64;
        for i in 1..=n {
            let new = x[i] + y[i];
            let tol = tolerance(&self.options, current[i], new.abs().max(x[i].abs()));
            norm = norm.max(y[i].abs() / tol);
            y[i] = new;
        }
        let devices_pass = self.devices.all().iter().all(|d| d.converged(ctx, &y));
        let audit = &mut self.early_audit;
        audit.accepted += 1;
        if !(norm <= 1.0) || !devices_pass {
            audit.failed += 1;
        }
        audit.worst = audit.worst.max(norm);
    }
}

/// The clock of the phases' statistics: reads the time when on, nothing when off.
#[derive(Debug, Clone, Copy)]
struct Clock(bool);

impl Clock {
    fn now(self) -> Option<Instant> {
        self.0.then(Instant::now)
    }

    /// Seconds since `start` (from [`Clock::now`]; 0 when the clock is off).
    fn since(start: Option<Instant>) -> f64 {
        start.map_or(0.0, |t| t.elapsed().as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TranOptions;

    /// The random diode network of the ngspice corpus (303 nodes, 92 diodes with series
    /// resistance and junction capacitance, three sine sources) over its first 0.4 ms.
    fn random_network() -> circuit::Circuit {
        let text = include_str!("../../../tests/ngspice/random_network.cir")
            .replace(".tran 0.2u 1m", ".tran 0.2u 0.4m");
        circuit::parse_str(&text, "random_network.cir").unwrap()
    }

    fn run(c: &circuit::Circuit, margin: f64, linearized_device_tests: bool) -> Simulator {
        let mut sim = Simulator::new(c).unwrap();
        sim.early_margin = margin;
        sim.skip_linearized_device_tests = !linearized_device_tests;
        let mut w = circuit::Waveforms::new("", "", Vec::new());
        sim.transient(c.tran().unwrap(), &TranOptions::default(), &c.title, &mut w)
            .unwrap();
        sim
    }

    /// Every iterate accepted without a confirming solve is one that the confirming solve
    /// would have accepted: its next update passes SPICE's tests. That includes the iterates
    /// accepted on the residual taken from the load before them, and those one solve further
    /// on that residual (each audited after a true load there). With the margin at 1 (the
    /// bare Jacobi estimate), or without the devices' tests after the solve on the residual,
    /// the audit sees such updates fail, so it can tell.
    #[test]
    fn residual_acceptance_leaves_what_one_more_solve_would_accept() {
        let c = random_network();
        let sim = run(&c, EARLY_MARGIN, true);
        let a = &sim.early_audit;
        assert_eq!(a.accepted, sim.stats.settled_early);
        assert!(a.accepted > 1000, "only {} accepted early", a.accepted);
        // most on the residual taken from the load before, audited after a true load there;
        // measured: 1,965 of 2,053, 564 of them one solve further
        let st = &sim.stats;
        let (lin, solved) = (st.settled_linearized, st.settled_linearized_solve);
        assert!(
            lin > 1000,
            "only {lin} accepted on the load before's residual"
        );
        assert!(solved > 300, "only {solved} accepted one solve further");
        // measured: none failed, the worst next update at 0.57 of the tolerance
        assert_eq!(a.failed, 0, "{a:?}");
        assert!(a.worst < 1.0, "{a:?}");
        let bare = run(&c, 1.0, true);
        let b = &bare.early_audit;
        assert!(b.failed > 0, "the bare estimate never failed: {b:?}");
        // measured: 193 of 2,091 failed (a junction's current test)
        let untested = run(&c, EARLY_MARGIN, false);
        let u = &untested.early_audit;
        assert!(u.failed > 0, "no device test was needed: {u:?}");
    }

    /// Each policy's name reads back as that policy; another name is refused, naming the
    /// three.
    #[test]
    fn jacobian_reuse_names_read_back() {
        for r in JacobianReuse::ALL {
            assert_eq!(r.name().parse::<JacobianReuse>(), Ok(r));
        }
        let e = "sometimes".parse::<JacobianReuse>().unwrap_err();
        assert!(
            e.contains("\"sometimes\"") && e.contains("across, within, never"),
            "{e}"
        );
    }

    /// The three ways of reusing a factorization reach the same waveforms (every signal within
    /// 1e-4 of its swing at every point of the output grid: what the Newton tolerances leave),
    /// with the factorizations they promise: one at every iteration (`Never`, where no matrix
    /// repeats), at least one per time point (`WithinStep`), and far fewer (`AcrossSteps`).
    #[test]
    fn every_jacobian_reuse_reaches_the_same_waveforms() {
        let c = random_network();
        let mut runs = Vec::new();
        for reuse in JacobianReuse::ALL {
            let mut sim = Simulator::new(&c).unwrap();
            sim.set_jacobian_reuse(reuse);
            let mut w = circuit::Waveforms::new("", "", Vec::new());
            // every run writes the same times: the deck's TSTEP grid, landed on exactly
            let opts = TranOptions {
                output: crate::OutputGrid::Exact {
                    t0: 0.0,
                    dt: 0.2e-6,
                },
                ..Default::default()
            };
            let sum = sim
                .transient(c.tran().unwrap(), &opts, &c.title, &mut w)
                .unwrap();
            runs.push((reuse, sim.stats.clone(), sum.accepted, w));
        }
        let (across, within, never) = (&runs[0].1, &runs[1].1, &runs[2].1);
        assert_eq!(never.reuses, 0, "{never:?}");
        assert!(within.factorizations >= runs[1].2, "{within:?}");
        assert!(within.reuses > 0, "{within:?}");
        assert!(
            across.factorizations * 5 < within.factorizations,
            "{across:?} against {within:?}"
        );
        let reference = &runs[0].3;
        assert_eq!(reference.time.len(), 2001);
        for (reuse, _, _, w) in &runs[1..] {
            assert_eq!(w.time, reference.time);
            for (k, sig) in reference.data.iter().enumerate() {
                let swing = sig.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
                    - sig.iter().cloned().fold(f64::INFINITY, f64::min);
                let worst = w.data[k]
                    .iter()
                    .zip(sig)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0, f64::max);
                // measured: at most 1.12e-5 of a swing (signal 133, both policies); the
                // corpus holds freqprop to 1e-3 of a swing against ngspice
                assert!(
                    worst <= 1e-4 * swing,
                    "{reuse:?}: signal {k} off by {worst:e} of a swing of {swing:e}"
                );
            }
        }
    }

    /// A chord step takes the held factorization only from a transient step whose `ag0` is
    /// within a factor of [`CHORD_AG0_RATIO`] of its own: never the operating point's, never
    /// one made outside Newton's loop, never one from a step much longer or shorter.
    #[test]
    fn chord_steps_take_only_a_factorization_of_a_like_step() {
        let c = random_network();
        let mut sim = Simulator::new(&c).unwrap();
        let (tstep, tstop) = (2e-7, 4e-4);
        let at = |h: f64| {
            let mut integ = Integrator {
                order: 2,
                h: [h; 4],
                ..Integrator::default()
            };
            integ.update();
            sim.ctx(Mode::Tran, h, tstep, tstop, integ)
        };
        // the step doubled, halved, cut by 8 (as after a failed Newton solve)
        let (step, longer, shorter, cut) = (at(1e-7), at(2e-7), at(5e-8), at(1.25e-8));
        let dc = sim.ctx(Mode::Dc, 0.0, tstep, tstop, Integrator::default());
        assert!((longer.integ.ag0() / step.integ.ag0() - 0.5).abs() < 1e-12);
        sim.factored_for = Some((Mode::Tran, step.integ.ag0()));
        assert!(sim.held_fits(&step) && sim.held_fits(&longer) && sim.held_fits(&shorter));
        assert!(!sim.held_fits(&cut) && !sim.held_fits(&dc));
        sim.factored_for = Some((Mode::Dc, 0.0));
        assert!(!sim.held_fits(&step));
        sim.factored_for = None;
        assert!(!sim.held_fits(&step));
    }

    /// `all_finite` finds an infinity or a NaN wherever it is, alone or with others.
    #[test]
    fn all_finite_finds_every_non_finite_value() {
        for n in 0..11 {
            let v: Vec<f64> = (0..n).map(|i| (i as f64 - 4.5) * 1e300).collect();
            assert!(all_finite(&v), "{v:?}");
            for i in 0..n {
                for bad in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN] {
                    let mut w = v.clone();
                    w[i] = bad;
                    assert!(!all_finite(&w), "{w:?}");
                    w[n - 1 - i] = f64::INFINITY;
                    assert!(!all_finite(&w), "{w:?}");
                }
            }
        }
    }

    /// With the clock off the phases' seconds stay at zero and nothing else changes: the same
    /// counts and the same solution, bit for bit.
    #[test]
    fn timing_off_changes_only_the_seconds() {
        let text = include_str!("../../../tests/ngspice/random_network.cir")
            .replace(".tran 0.2u 1m", ".tran 0.2u 0.02m");
        let c = circuit::parse_str(&text, "random_network.cir").unwrap();
        let solve = |timed: bool| {
            let mut sim = Simulator::new(&c).unwrap();
            sim.set_timing(timed);
            let mut w = circuit::Waveforms::new("", "", Vec::new());
            sim.transient(c.tran().unwrap(), &TranOptions::default(), &c.title, &mut w)
                .unwrap();
            (sim.stats().clone(), w)
        };
        let (on, w_on) = solve(true);
        let (off, w_off) = solve(false);
        assert!(on.load_seconds > 0.0 && on.solve_seconds > 0.0, "{on:?}");
        let seconds = |s: &Stats| {
            [
                s.load_seconds,
                s.device_seconds,
                s.factor_seconds,
                s.solve_seconds,
            ]
        };
        assert_eq!(seconds(&off), [0.0; 4]);
        let counts = |s: &Stats| Stats {
            load_seconds: 0.0,
            device_seconds: 0.0,
            factor_seconds: 0.0,
            solve_seconds: 0.0,
            ..s.clone()
        };
        assert_eq!(counts(&on), counts(&off));
        assert!(on.newton_iterations > 10, "{on:?}");
        assert_eq!(w_on.time, w_off.time);
        assert_eq!(w_on.data, w_off.data);
    }
}

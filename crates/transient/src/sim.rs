//! The simulator: built once per circuit (unknowns, stamp map, symbolic factorization), then
//! reused for any number of operating points and transient runs.

use crate::device::{
    Capacitors, CurrentSources, Device, DiodeParams, Diodes, Inductors, Layout, LoadCtx, Mode,
    Resistors, Vccss, VoltageSources,
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

/// Why a Newton solve stopped without converging.
#[derive(Debug, Clone)]
pub(crate) struct NewtonFailure {
    /// Unknown with the largest residual at the last iterate.
    pub worst: usize,
    /// That residual.
    pub residual: f64,
    /// The reason in words.
    pub reason: String,
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
    pub(crate) a: Vec<f64>,
    /// Right-hand side / solution work vector (index 0 is ground).
    pub(crate) b: Vec<f64>,
    pub(crate) options: Options,
    pub(crate) stats: Stats,
    /// Extra conductance from every node to ground (gmin stepping).
    pub(crate) gshunt: f64,
    /// Initial-condition clamps for the transient operating point: (unknown, value).
    pub(crate) clamps: Vec<(usize, f64)>,
    static_dirty: bool,
    /// Position of each circuit element inside its device group (for changing values).
    group_index: Vec<Option<usize>>,
    /// Kind of each circuit element.
    kinds: Vec<u8>,
    /// Name of each circuit element.
    element_names: Vec<String>,
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
        let solver = Solver::new(&pattern, &late)?;
        let nnz = pattern.nnz;
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
            a: vec![0.0; nnz + 1],
            b: vec![0.0; n + 1],
            options: opts,
            stats: Stats::default(),
            gshunt: 0.0,
            clamps,
            static_dirty: true,
            group_index,
            kinds: c.elements.iter().map(|e| kind_tag(&e.kind)).collect(),
            element_names: c.elements.iter().map(|e| e.name.clone()).collect(),
            node_names: c.nodes.clone(),
            pattern,
        })
    }

    /// Number of unknowns (node voltages, branch currents, internal nodes).
    pub fn unknowns(&self) -> usize {
        self.layout.unknowns()
    }

    /// Stored entries of the circuit matrix (its fixed sparsity pattern).
    pub fn matrix_nnz(&self) -> usize {
        self.pattern.nnz
    }

    /// Stored entries of the LU factors (for memory estimates).
    pub fn factor_nnz(&self) -> usize {
        self.solver.factor_nnz()
    }

    /// Description of unknown `i` (1-based), for messages.
    pub fn describe_unknown(&self, i: usize) -> String {
        self.layout.describe(i)
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
            gmin: self.options.gmin,
            init_junctions: false,
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
        }
    }

    /// Assemble the system at estimate `x` (loads every device). Returns whether any device
    /// limited its step.
    pub(crate) fn assemble(&mut self, ctx: &LoadCtx, x: &[f64]) -> bool {
        self.refresh_static();
        let t0 = Instant::now();
        self.a.copy_from_slice(&self.base);
        self.b.iter_mut().for_each(|v| *v = 0.0);
        let mut limited = false;
        for d in self.devices.all_mut() {
            limited |= d.load(ctx, x, &mut self.states, &mut self.a, &mut self.b);
        }
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
        self.stats.load_seconds += t0.elapsed().as_secs_f64();
        limited
    }

    /// Newton–Raphson from `x` (updated in place) with at most `max_iter` iterations.
    pub(crate) fn newton(
        &mut self,
        ctx: &mut LoadCtx,
        x: &mut [f64],
        max_iter: usize,
    ) -> Result<usize, NewtonFailure> {
        let n = self.layout.unknowns();
        let mut last_reason = String::from("iteration limit reached");
        for iter in 0..max_iter {
            let limited = self.assemble(ctx, x);
            ctx.init_junctions = false;
            self.stats.newton_iterations += 1;
            let t0 = Instant::now();
            let fr = self.solver.factor(&self.a);
            self.stats.factorizations += 1;
            let t1 = Instant::now();
            self.stats.factor_seconds += (t1 - t0).as_secs_f64();
            if fr.is_err() {
                return Err(self.failure(x, "the circuit matrix is singular".into()));
            }
            self.solver.solve(&mut self.b);
            // index 0 held the ground row's discarded right-hand side: ground is 0 V
            self.b[0] = 0.0;
            self.stats.solve_seconds += t1.elapsed().as_secs_f64();
            // b now holds the new solution
            let mut converged = iter > 0 && !limited;
            for i in 1..=n {
                let new = self.b[i];
                if !new.is_finite() {
                    let name = self.layout.describe(i);
                    return Err(NewtonFailure {
                        worst: i,
                        residual: f64::NAN,
                        reason: format!("non-finite value at {name}"),
                    });
                }
                if converged {
                    let old = x[i];
                    let tol = if self.layout.is_current(i) {
                        self.options.reltol * new.abs().max(old.abs()) + self.options.abstol
                    } else {
                        self.options.reltol * new.abs().max(old.abs()) + self.options.vntol
                    };
                    if (new - old).abs() > tol {
                        converged = false;
                    }
                }
            }
            if converged {
                converged = self.devices.all().iter().all(|d| d.converged(ctx, &self.b));
            }
            x[1..=n].copy_from_slice(&self.b[1..=n]);
            if converged {
                return Ok(iter + 1);
            }
            if limited {
                last_reason = "junction voltages still being limited".into();
            }
        }
        Err(self.failure(x, last_reason))
    }

    /// Residual of the last assembled system at `x`, and the unknown where it is largest.
    fn failure(&mut self, x: &[f64], reason: String) -> NewtonFailure {
        let n = self.layout.unknowns();
        let mut r = vec![0.0; n + 1];
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
        NewtonFailure {
            worst,
            residual: wr,
            reason,
        }
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

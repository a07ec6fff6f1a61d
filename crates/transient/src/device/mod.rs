//! Devices: each kind knows how to claim its unknowns, declare its matrix entries (the stamp
//! map), stamp what never changes (`load_static`), what is fixed for a time point
//! (`load_step_matrix`, `load_step_history`) and what moves with the estimate (`load`, each
//! Newton iteration), limit its Newton step, test its own convergence and estimate its
//! truncation error. Analyses never special-case a device.
//!
//! Devices are grouped by kind (structure of arrays): one [`Device`] object holds every
//! resistor, another every diode, and so on.

use crate::integrate::{Integrator, States};
use crate::matrix::{Pattern, PatternBuilder};

mod capacitor;
mod diode;
mod inductor;
mod resistor;
mod source;
mod vccs;

pub use capacitor::Capacitors;
pub use diode::{DiodeParams, Diodes};
pub use inductor::Inductors;
pub use resistor::Resistors;
pub use source::{CurrentSources, VoltageSources};
pub use vccs::Vccss;

/// Unknown numbering. Index 0 is ground (always 0 V); node `k` of the circuit is unknown `k`;
/// branch currents and internal nodes are appended after the circuit's nodes.
#[derive(Debug, Clone)]
pub struct Layout {
    names: Vec<String>,
    is_current: Vec<bool>,
    internal: Vec<bool>,
}

impl Layout {
    /// A layout holding the circuit's nodes (`names[0]` is ground).
    pub fn new(node_names: &[String]) -> Layout {
        let n = node_names.len();
        Layout {
            names: node_names.to_vec(),
            is_current: vec![false; n],
            internal: vec![false; n],
        }
    }

    /// Append a branch-current unknown named after its element.
    pub fn alloc_branch(&mut self, element: &str) -> usize {
        self.names.push(element.to_string());
        self.is_current.push(true);
        self.internal.push(false);
        self.names.len() - 1
    }

    /// Append an internal node (not written to outputs).
    pub fn alloc_internal(&mut self, name: &str) -> usize {
        self.names.push(name.to_string());
        self.is_current.push(false);
        self.internal.push(true);
        self.names.len() - 1
    }

    /// Number of unknowns (ground excluded).
    pub fn unknowns(&self) -> usize {
        self.names.len() - 1
    }

    /// Name of unknown `i`: a node name, or the element whose branch current it is.
    pub fn name(&self, i: usize) -> &str {
        &self.names[i]
    }

    /// True when unknown `i` is a branch current.
    pub fn is_current(&self, i: usize) -> bool {
        self.is_current[i]
    }

    /// For every unknown (index 0 is ground), whether it is a branch current.
    pub fn current_flags(&self) -> &[bool] {
        &self.is_current
    }

    /// True when unknown `i` is an internal node.
    pub fn is_internal(&self, i: usize) -> bool {
        self.internal[i]
    }

    /// A readable description of unknown `i` for error messages.
    pub fn describe(&self, i: usize) -> String {
        if self.is_current[i] {
            format!("branch current of {}", self.names[i])
        } else {
            format!("node {}", self.names[i])
        }
    }
}

/// What kind of solution is being computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// DC operating point (capacitors open, inductors shorted).
    Dc,
    /// A transient timepoint.
    Tran,
}

/// Everything a device needs to know to load itself.
#[derive(Debug, Clone)]
pub struct LoadCtx {
    /// DC or transient.
    pub mode: Mode,
    /// Time of the point being solved.
    pub time: f64,
    /// The DC solve is the initial point of a transient (sources take their t = 0 value).
    pub tran_op: bool,
    /// Source scale for source stepping (1 normally). In DC every source is `src_scale`
    /// times its value; in transient analysis with `ramp_from` set, sources move from their
    /// value at that time (`src_scale` = 0) to their value at `time` (`src_scale` = 1).
    pub src_scale: f64,
    /// Source stepping at a transient time point: the time of the last accepted point.
    pub ramp_from: Option<f64>,
    /// Conductance put across every junction (`.options gmin`).
    pub gmin: f64,
    /// First iteration of a DC solve: junctions start at their critical voltage.
    pub init_junctions: bool,
    /// Junction limiting (`pnjlim`) of Newton steps; off only to evaluate the true residual
    /// of an iterate for a failure report.
    pub limit: bool,
    /// `.tran` TSTEP and TSTOP, for SPICE's source-function defaults.
    pub tstep: f64,
    /// See `tstep`.
    pub tstop: f64,
    /// Integration coefficients of the current step.
    pub integ: Integrator,
    /// Relative tolerance.
    pub reltol: f64,
    /// Absolute current tolerance.
    pub abstol: f64,
    /// Absolute voltage tolerance.
    pub vntol: f64,
    /// Charge tolerance.
    pub chgtol: f64,
    /// Truncation error overestimation factor.
    pub trtol: f64,
}

/// Newton's next update from an iterate, as a device's convergence test sees it
/// ([`Device::converged_past`]): estimated from the residual there, or solved.
#[derive(Debug, Clone, Copy)]
pub enum NextUpdate<'a> {
    /// The Jacobi estimate from the residual `r`: `margin · r_i / A_ii` at unknown `i`, zero
    /// at ground and where the diagonal is zero (a voltage source's branch row). Evaluated
    /// only where a device asks for it.
    Jacobi {
        /// Residual, index 0 ground.
        r: &'a [f64],
        /// Matrix values.
        a: &'a [f64],
        /// Slots of the diagonal, unknown `i` at index `i − 1` ([`Pattern::diag_slots`]).
        diag: &'a [usize],
        /// Factor on the estimate.
        margin: f64,
    },
    /// The update a solve gave, index 0 ground (zero).
    Solved(&'a [f64]),
}

impl NextUpdate<'_> {
    /// The update of unknown `i`.
    #[inline]
    pub fn at(&self, i: usize) -> f64 {
        if i == 0 {
            return 0.0;
        }
        match *self {
            NextUpdate::Jacobi { r, a, diag, margin } => {
                let d = a[diag[i - 1]];
                if d == 0.0 {
                    0.0
                } else {
                    margin * r[i] / d
                }
            }
            NextUpdate::Solved(d) => d[i],
        }
    }
}

/// One kind of device, holding all instances of that kind.
pub trait Device: Send + Sync {
    /// Claim extra unknowns (branch currents, internal nodes).
    fn alloc(&mut self, _layout: &mut Layout) {}
    /// Reserve integration states (charges, fluxes).
    fn alloc_states(&mut self, _states: &mut crate::integrate::StateAlloc) {}
    /// Declare every matrix entry the device will ever write.
    fn declare(&self, pattern: &mut PatternBuilder);
    /// Look up the slots of the declared entries.
    fn bind(&mut self, pattern: &Pattern);
    /// Stamp the entries that never change during an analysis.
    fn load_static(&self, _a: &mut [f64]) {}
    /// Stamp the iteration-dependent part at solution estimate `x` into matrix values `a`
    /// and right-hand side `b`. Returns true when a Newton step was limited (not converged).
    fn load(
        &mut self,
        ctx: &LoadCtx,
        x: &[f64],
        states: &mut States,
        a: &mut [f64],
        b: &mut [f64],
    ) -> bool;
    /// Stamp the matrix part that is fixed for one time point: it depends on the step's
    /// integration coefficients, not on the history or the solution estimate (a linear
    /// capacitor's companion conductance). Loaded into a copy of the static part when the
    /// coefficients change, which at a steady step is not at every time point.
    fn load_step_matrix(&self, _ctx: &LoadCtx, _a: &mut [f64]) {}
    /// Stamp the right-hand side part that is fixed for one time point: it depends on the
    /// step's coefficients and on the accepted history, not on the solution estimate (a
    /// linear capacitor's history current). Loaded once per attempt at a time point, before
    /// its Newton iterations. A device that stamps here or in
    /// [`Device::load_step_matrix`] sets the states of that part at the solution in
    /// [`Device::settle`], not in [`Device::load`].
    fn load_step_history(&self, _ctx: &LoadCtx, _states: &States, _b: &mut [f64]) {}
    /// A time point converged at `x`: set the integration states of the part stamped by
    /// [`Device::load_step_matrix`] and [`Device::load_step_history`] (charges and their
    /// derivatives at the solution).
    fn settle(&self, _ctx: &LoadCtx, _x: &[f64], _states: &mut States) {}
    /// Device convergence test at the new solution `x` (after a solve).
    fn converged(&self, _ctx: &LoadCtx, _x: &[f64]) -> bool {
        true
    }
    /// Take from the residual `r` (`b − A·x` of the system loaded at the last iterate,
    /// evaluated at `x`, one update further) the part of the device's currents at `x` that
    /// its last load's linearisation leaves out, estimated from its curvature there, so that
    /// `r` is the residual a load at `x` would give. Returns false when the estimate is not
    /// to be trusted (a junction moved too far for its Taylor expansion). A linear device's
    /// stamp is exact everywhere and takes nothing; a nonlinear device that does not
    /// implement this refuses.
    fn linearization_remainder(&self, _ctx: &LoadCtx, _x: &[f64], _r: &mut [f64]) -> bool {
        self.is_linear()
    }
    /// [`Device::converged`] for the update `step` from `x`, where `x` is the last load's
    /// point or one update past it: the device's currents and conductances at `x` are
    /// extrapolated along their slopes from the last load (see
    /// [`Device::linearization_remainder`]; at the loaded point they are the load's). A linear
    /// device passes; a nonlinear device that does not implement this refuses.
    fn converged_past(&self, _ctx: &LoadCtx, _x: &[f64], _step: &NextUpdate) -> bool {
        self.is_linear()
    }
    /// The instance that fails its convergence test at `x` by the widest margin, with that
    /// margin (its error over its tolerance, above 1), for failure reports. The same test as
    /// [`Device::converged`]; `None` when every instance passes.
    fn worst_convergence(&self, _ctx: &LoadCtx, _x: &[f64]) -> Option<(usize, f64)> {
        None
    }
    /// An instance whose last load computed a non-finite current, conductance or charge:
    /// where a NaN or an infinity arose.
    fn nonfinite(&self) -> Option<usize> {
        None
    }
    /// Name of instance `k`, when the group keeps names.
    fn instance_name(&self, _k: usize) -> Option<&str> {
        None
    }
    /// A time point was accepted: remember per-device state needed to restart a step.
    fn accept(&mut self) {}
    /// A step attempt starts (again): restore the state of the last accepted point.
    fn restore(&mut self) {}
    /// Set the integration states from a DC solution before the first time step.
    fn init_states(&mut self, _ctx: &LoadCtx, _x: &[f64], _states: &mut States) {}
    /// Largest next step allowed by this device's local truncation error.
    fn truncate(&self, _ctx: &LoadCtx, _states: &States) -> f64 {
        f64::INFINITY
    }
    /// Times in `[0, tstop]` where the device's behaviour has a corner.
    fn breakpoints(&self, _tstep: f64, _tstop: f64, _out: &mut Vec<f64>) {}
    /// Whether the device is linear with a constant stamp in transient analysis at fixed step.
    fn is_linear(&self) -> bool {
        true
    }
    /// Number of instances.
    fn len(&self) -> usize;
    /// True when there are no instances.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Largest next step allowed by the truncation error of the quantities at `slots`.
pub(crate) fn truncate_slots(
    ctx: &LoadCtx,
    st: &States,
    slots: impl IntoIterator<Item = usize>,
) -> f64 {
    let test = ctx
        .integ
        .truncation(ctx.reltol, ctx.abstol, ctx.chgtol, ctx.trtol);
    ctx.integ.step_from_ratio(test.min_ratio(st, slots))
}

/// Corners of the transient functions of a set of sources.
pub(crate) fn source_breakpoints(
    sources: &[circuit::Source],
    tstep: f64,
    tstop: f64,
    out: &mut Vec<f64>,
) {
    for f in sources.iter().filter_map(|s| s.tran.as_ref()) {
        out.extend(f.breakpoints(tstep, tstop));
    }
}

/// Declare the incidence entries of a branch current `br` flowing from `a` to `b`:
/// KCL rows `a`, `b` at column `br`, and the branch equation's columns `a`, `b`.
pub(crate) fn declare_branch(p: &mut PatternBuilder, a: usize, b: usize, br: usize) {
    p.add(a, br);
    p.add(b, br);
    p.add(br, a);
    p.add(br, b);
}

/// Slots of a branch's incidence entries, in the order of [`declare_branch`].
pub(crate) fn bind_branch(p: &Pattern, a: usize, b: usize, br: usize) -> [usize; 4] {
    [p.slot(a, br), p.slot(b, br), p.slot(br, a), p.slot(br, b)]
}

/// Stamp a branch's incidence: +1 / −1 in the KCL rows and in the branch equation.
#[inline(always)]
pub(crate) fn stamp_branch(a: &mut [f64], s: &[usize; 4]) {
    a[s[0]] += 1.0;
    a[s[1]] -= 1.0;
    a[s[2]] += 1.0;
    a[s[3]] -= 1.0;
}

/// The signs [`stamp_g`] gives a conductance in its slots `[pp, pn, np, nn]` (for stamps
/// summed ahead of time, as the capacitors' are).
pub(crate) const G_SIGNS: [f64; 4] = [1.0, -1.0, -1.0, 1.0];

/// Stamp a conductance `g` between unknowns with slots `[pp, pn, np, nn]` (signs
/// [`G_SIGNS`]).
#[inline(always)]
pub(crate) fn stamp_g(a: &mut [f64], s: &[usize; 4], g: f64) {
    a[s[0]] += g;
    a[s[1]] -= g;
    a[s[2]] -= g;
    a[s[3]] += g;
}

/// Declare the four entries of a two-terminal conductance.
pub(crate) fn declare_g(p: &mut PatternBuilder, a: usize, b: usize) {
    p.add(a, a);
    p.add(a, b);
    p.add(b, a);
    p.add(b, b);
}

/// Slots of a two-terminal conductance.
pub(crate) fn bind_g(p: &Pattern, a: usize, b: usize) -> [usize; 4] {
    [p.slot(a, a), p.slot(a, b), p.slot(b, a), p.slot(b, b)]
}

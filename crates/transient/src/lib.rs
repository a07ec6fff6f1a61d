//! # transient
//!
//! Modified nodal analysis of nonlinear resistive circuits: a DC operating point (Newton with
//! junction limiting, gmin stepping, source stepping) and a transient analysis (backward
//! Euler, trapezoidal, BDF2; variable steps under local truncation error control;
//! breakpoints; a predictor for each Newton start; gmin and source stepping at a time point
//! that does not converge at the smallest step).
//!
//! A [`Simulator`] is built once per circuit: it numbers the unknowns, fixes the sparsity
//! pattern from every device's stamps and runs faer's symbolic LU analysis. Each Newton
//! iteration then writes values into that fixed pattern and refactors numerically.
//!
//! ```
//! use circuit::Waveforms;
//! let text = "rc\nV1 in 0 PULSE(0 1 0 1n 1n 1 2)\nR1 in out 1k\nC1 out 0 1u\n\
//!             .options reltol=1e-6\n.tran 10u 5m\n.end\n";
//! let c = circuit::parse_str(text, "rc.cir").unwrap();
//! let mut sim = transient::Simulator::new(&c).unwrap();
//! let mut w = Waveforms::default();
//! let summary = sim.transient(c.tran().unwrap(), &Default::default(), &c.title, &mut w).unwrap();
//! circuit::WaveSink::finish(&mut w).unwrap();
//! let v = w.signal("out").unwrap();
//! let t_end = *w.time.last().unwrap();
//! let exact = 1.0 - (-t_end / 1e-3f64).exp();
//! assert!((v[v.len() - 1] - exact).abs() < 1e-4);
//! assert!(summary.accepted > 10);
//! ```

pub mod device;
mod halves;
pub mod integrate;
pub mod lu;
pub mod matrix;
mod op;
pub mod order;
mod predict;
mod sim;
mod tran;

pub use op::OperatingPoint;
pub use sim::{JacobianReuse, Simulator};
pub use tran::{OutputGrid, TranOptions, TranSummary};

/// Work counters and time spent in each phase.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    /// Newton iterations: each a solve (with a fresh factorization or a reuse of one), after a
    /// load or, in transient analysis, on the residual taken to second order from the load
    /// before ([`Stats::settled_linearized_solve`]).
    pub newton_iterations: usize,
    /// Loads: assemblies of the system at an iterate, every device evaluated there.
    pub loads: usize,
    /// Numeric factorizations.
    pub factorizations: usize,
    /// Accepted time points.
    pub accepted: usize,
    /// Rejected time steps.
    pub rejected: usize,
    /// Newton iterations that reused the held factorization (unchanged matrix, or a chord
    /// step in transient analysis) instead of refactoring.
    pub reuses: usize,
    /// Triangular solves (one per Newton iteration).
    pub solves: usize,
    /// Newton solves accepted at an iterate without solving there: the residual at that
    /// iterate had shrunk at least twofold from the one before, and either the update that led
    /// to it or (three times) the Jacobi estimate of the next one passes SPICE's tests. The
    /// last load of such a solve is a convergence check only, not counted as an iteration.
    pub settled_early: usize,
    /// Of `settled_early`, the solves accepted on the residual at their result taken from the
    /// load before them (the linear devices' exactly, the junctions' to second order), with
    /// no load there at all.
    pub settled_linearized: usize,
    /// Of `settled_linearized`, the solves that failed the residual's test at their result
    /// and were accepted one solve further on that same residual, still with no load there:
    /// the update from it solved with the held factorization passed SPICE's tests (counted
    /// in `solves` and `newton_iterations`).
    pub settled_linearized_solve: usize,
    /// Seconds in device evaluation and assembly (the static part's copy, every device's
    /// load, shunts, the Newton residual).
    pub load_seconds: f64,
    /// Of `load_seconds`, the seconds inside the devices' loads (evaluation and stamping, both
    /// the parts loaded once per time point and those loaded every iteration).
    pub device_seconds: f64,
    /// Seconds in numeric factorization.
    pub factor_seconds: f64,
    /// Seconds in triangular solves.
    pub solve_seconds: f64,
}

impl Stats {
    /// The cost of one numeric factorization and one triangular solve, each this run's own
    /// average (`factor_seconds / factorizations + solve_seconds / solves`): what one Newton
    /// iteration of SPICE's kind (a fresh factorization at every iteration) cannot go below on
    /// this machine, the hardware limit a time step is measured against. `None` before any
    /// factorization and solve, or when the phases were not timed
    /// ([`Simulator::set_timing`]).
    ///
    /// ```
    /// let stats = transient::Stats {
    ///     factorizations: 4,
    ///     factor_seconds: 0.2,
    ///     solves: 10,
    ///     solve_seconds: 0.1,
    ///     ..Default::default()
    /// };
    /// assert_eq!(stats.limit_seconds(), Some(0.05 + 0.01));
    /// assert_eq!(transient::Stats::default().limit_seconds(), None);
    /// ```
    pub fn limit_seconds(&self) -> Option<f64> {
        let limit = self.seconds_per_factorization()? + self.seconds_per_solve()?;
        (limit > 0.0).then_some(limit)
    }

    /// `factor_seconds / factorizations` (`None` before any factorization).
    pub fn seconds_per_factorization(&self) -> Option<f64> {
        (self.factorizations > 0).then(|| self.factor_seconds / self.factorizations as f64)
    }

    /// `solve_seconds / solves` (`None` before any solve).
    pub fn seconds_per_solve(&self) -> Option<f64> {
        (self.solves > 0).then(|| self.solve_seconds / self.solves as f64)
    }
}

fn note(element: &Option<String>) -> String {
    element
        .as_ref()
        .map(|e| format!("; {e}"))
        .unwrap_or_default()
}

/// Why an analysis failed.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The circuit's structure makes it unsolvable (floating nodes, source loops, ...).
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    Topology(Vec<circuit::TopologyError>),
    /// Invalid analysis input.
    #[error("{0}")]
    Input(String),
    /// The sparse factorization could not be set up.
    #[error("sparse solver: {0}")]
    Solver(#[from] matrix::SolveError),
    /// No DC operating point was found.
    #[error("no DC operating point: Newton, gmin stepping and source stepping failed ({reason}); largest residual {residual:.3e} at {unknown}{}", note(.element))]
    OperatingPoint {
        /// The unknown with the largest residual.
        unknown: String,
        /// Its residual.
        residual: f64,
        /// Reason.
        reason: String,
        /// The element where a non-finite value arose, or the one furthest from convergence.
        element: Option<String>,
    },
    /// A time point could not be made to converge: not at the minimum step, nor with gmin
    /// or source stepping there.
    #[error("timestep too small at t = {time:.6e} s (step {step:.3e} s): Newton did not converge ({reason}), nor did gmin stepping or source stepping at that step; largest residual {residual:.3e} at {unknown}{}", note(.element))]
    Timestep {
        /// Time of the last accepted point.
        time: f64,
        /// Step being tried.
        step: f64,
        /// The unknown with the largest residual.
        unknown: String,
        /// Its residual.
        residual: f64,
        /// Reason.
        reason: String,
        /// The element where a non-finite value arose, or the one furthest from convergence.
        element: Option<String>,
        /// Work done until the failure (the points were written).
        summary: Box<TranSummary>,
    },
    /// Writing the output failed.
    #[error("writing output: {message}")]
    Output {
        /// What the sink said.
        message: String,
        /// Work done until then (the points before were written).
        summary: Box<TranSummary>,
    },
}

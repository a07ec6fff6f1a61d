//! Linear inductors: a branch-current unknown; a short in DC, a companion resistance in
//! transient analysis.

use super::{Device, Layout, LoadCtx, Mode};
use crate::integrate::{StateAlloc, States};
use crate::matrix::{Pattern, PatternBuilder};

/// All inductors of a circuit.
#[derive(Debug, Default, Clone)]
pub struct Inductors {
    /// Element names (for the branch unknowns).
    pub name: Vec<String>,
    /// First terminal.
    pub a: Vec<usize>,
    /// Second terminal.
    pub b: Vec<usize>,
    /// Inductance, H.
    pub l: Vec<f64>,
    /// Initial current (used with UIC).
    pub ic: Vec<Option<f64>>,
    /// Branch-current unknowns.
    pub branch: Vec<usize>,
    // incidence slots ([a,k], [b,k], [k,a], [k,b]) and the branch diagonal [k,k]
    slots: Vec<[usize; 4]>,
    diag: Vec<usize>,
    state: Vec<usize>,
}

impl Inductors {
    /// Add an inductor.
    pub fn push(&mut self, name: &str, a: usize, b: usize, l: f64, ic: Option<f64>) {
        self.name.push(name.to_string());
        self.a.push(a);
        self.b.push(b);
        self.l.push(l);
        self.ic.push(ic);
    }
}

impl Inductors {
    /// Use the `ic=` currents as initial branch currents and fluxes (UIC).
    pub fn apply_ic(&self, x: &mut [f64], st: &mut States) {
        for k in 0..self.l.len() {
            if let Some(i) = self.ic[k] {
                x[self.branch[k]] = i;
                st.s[0][self.state[k]] = self.l[k] * i;
            }
        }
    }
}

impl Device for Inductors {
    fn alloc(&mut self, layout: &mut Layout) {
        self.branch = self.name.iter().map(|n| layout.alloc_branch(n)).collect();
    }
    fn alloc_states(&mut self, st: &mut StateAlloc) {
        self.state = (0..self.l.len()).map(|_| st.pair()).collect();
    }
    fn declare(&self, p: &mut PatternBuilder) {
        for k in 0..self.l.len() {
            let br = self.branch[k];
            super::declare_branch(p, self.a[k], self.b[k], br);
            p.add(br, br);
        }
    }
    fn bind(&mut self, p: &Pattern) {
        self.slots = (0..self.l.len())
            .map(|k| super::bind_branch(p, self.a[k], self.b[k], self.branch[k]))
            .collect();
        self.diag = self.branch.iter().map(|&br| p.slot(br, br)).collect();
    }
    fn load_static(&self, a: &mut [f64]) {
        for s in &self.slots {
            super::stamp_branch(a, s);
        }
    }
    fn load(
        &mut self,
        _ctx: &LoadCtx,
        _x: &[f64],
        _st: &mut States,
        _a: &mut [f64],
        _b: &mut [f64],
    ) -> bool {
        // a short in DC (the static incidence); in transient analysis the whole stamp is
        // fixed for the time point (load_step_matrix, load_step_history): the flux is
        // linear in the current
        false
    }
    fn load_step_matrix(&self, ctx: &LoadCtx, a: &mut [f64]) {
        if ctx.mode == Mode::Dc {
            return;
        }
        // companion model of the branch equation v(a) − v(b) = ag0·L·i + history
        let ag0 = ctx.integ.ag0();
        for k in 0..self.l.len() {
            a[self.diag[k]] -= ag0 * self.l[k];
        }
    }
    fn load_step_history(&self, ctx: &LoadCtx, st: &States, b: &mut [f64]) {
        if ctx.mode == Mode::Dc {
            return;
        }
        let comp = ctx.integ.companion();
        for k in 0..self.l.len() {
            b[self.branch[k]] += comp.history(st, self.state[k]);
        }
    }
    fn settle(&self, ctx: &LoadCtx, x: &[f64], st: &mut States) {
        if ctx.mode == Mode::Dc {
            return;
        }
        let (l, branch) = (&self.l, &self.branch);
        ctx.integ
            .settle_each(st, &self.state, |k| l[k] * x[branch[k]]);
    }
    fn init_states(&mut self, _ctx: &LoadCtx, x: &[f64], st: &mut States) {
        for k in 0..self.l.len() {
            let s = self.state[k];
            st.s[0][s] = self.l[k] * x[self.branch[k]];
            st.s[0][s + 1] = 0.0;
        }
    }
    fn truncate(&self, ctx: &LoadCtx, st: &States) -> f64 {
        super::truncate_slots(ctx, st, self.state.iter().copied())
    }
    fn instance_name(&self, k: usize) -> Option<&str> {
        self.name.get(k).map(String::as_str)
    }
    fn len(&self) -> usize {
        self.l.len()
    }
}

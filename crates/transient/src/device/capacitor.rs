//! Linear capacitors: open in DC, a companion conductance and current in transient analysis.

use super::{bind_g, declare_g, Device, LoadCtx, Mode, G_SIGNS};
use crate::integrate::{StateAlloc, States};
use crate::matrix::{Pattern, PatternBuilder};

/// All capacitors of a circuit.
#[derive(Debug, Default, Clone)]
pub struct Capacitors {
    /// First terminal.
    pub a: Vec<usize>,
    /// Second terminal.
    pub b: Vec<usize>,
    /// Capacitance, F.
    pub c: Vec<f64>,
    /// Initial voltage (used with UIC).
    pub ic: Vec<Option<f64>>,
    /// The capacitances summed into each matrix entry they touch (sign included, ground's
    /// entries left out): the companion conductances of a time point are `ag0` times these,
    /// one update per entry instead of four per capacitor.
    stamp: Vec<(usize, f64)>,
    state: Vec<usize>,
}

impl Capacitors {
    /// Add a capacitor.
    pub fn push(&mut self, a: usize, b: usize, c: f64, ic: Option<f64>) {
        self.a.push(a);
        self.b.push(b);
        self.c.push(c);
        self.ic.push(ic);
    }
}

impl Capacitors {
    /// Use the `ic=` voltages as initial charges (UIC).
    pub fn apply_ic(&self, st: &mut States) {
        for k in 0..self.c.len() {
            if let Some(v) = self.ic[k] {
                st.s[0][self.state[k]] = self.c[k] * v;
            }
        }
    }
}

impl Device for Capacitors {
    fn alloc_states(&mut self, st: &mut StateAlloc) {
        self.state = (0..self.c.len()).map(|_| st.pair()).collect();
    }
    fn declare(&self, p: &mut PatternBuilder) {
        for k in 0..self.c.len() {
            declare_g(p, self.a[k], self.b[k]);
        }
    }
    fn bind(&mut self, p: &Pattern) {
        let mut sum = std::collections::BTreeMap::new();
        for k in 0..self.c.len() {
            let s = bind_g(p, self.a[k], self.b[k]);
            for (slot, sign) in s.into_iter().zip(G_SIGNS) {
                if slot != p.nnz {
                    *sum.entry(slot).or_insert(0.0) += sign * self.c[k];
                }
            }
        }
        self.stamp = sum.into_iter().collect();
    }
    fn load(
        &mut self,
        _ctx: &LoadCtx,
        _x: &[f64],
        _st: &mut States,
        _a: &mut [f64],
        _b: &mut [f64],
    ) -> bool {
        // open in DC; in transient analysis the whole stamp is fixed for the time point
        // (load_step_matrix, load_step_history): the charge is linear in the voltage
        false
    }
    fn load_step_matrix(&self, ctx: &LoadCtx, a: &mut [f64]) {
        if ctx.mode == Mode::Dc {
            return;
        }
        // companion model, i = ag0·C·v + history: the conductance ag0·C
        let ag0 = ctx.integ.ag0();
        for &(slot, c) in &self.stamp {
            a[slot] += ag0 * c;
        }
    }
    fn load_step_history(&self, ctx: &LoadCtx, st: &States, b: &mut [f64]) {
        if ctx.mode == Mode::Dc {
            return;
        }
        // companion model, i = ag0·C·v + history: the history, a current source
        let comp = ctx.integ.companion();
        // nothing is added to the ground row (index 0, never read): with every capacitor of
        // a node to ground, those adds were one chain of dependent read-modify-writes of
        // b[0], each waiting on the last (on random_network, 300 capacitors, that chain was
        // over half of this function's time)
        for k in 0..self.c.len() {
            let ceq = comp.history(st, self.state[k]);
            let (na, nb) = (self.a[k], self.b[k]);
            if na != 0 {
                b[na] -= ceq;
            }
            if nb != 0 {
                b[nb] += ceq;
            }
        }
    }
    fn settle(&self, ctx: &LoadCtx, x: &[f64], st: &mut States) {
        if ctx.mode == Mode::Dc {
            return;
        }
        let (a, b, c) = (&self.a, &self.b, &self.c);
        ctx.integ
            .settle_each(st, &self.state, |k| c[k] * (x[a[k]] - x[b[k]]));
    }
    fn init_states(&mut self, _ctx: &LoadCtx, x: &[f64], st: &mut States) {
        for k in 0..self.c.len() {
            let v = x[self.a[k]] - x[self.b[k]];
            let s = self.state[k];
            st.s[0][s] = self.c[k] * v;
            st.s[0][s + 1] = 0.0;
        }
    }
    fn truncate(&self, ctx: &LoadCtx, st: &States) -> f64 {
        super::truncate_slots(ctx, st, self.state.iter().copied())
    }
    fn len(&self) -> usize {
        self.c.len()
    }
}

//! Voltage-controlled current sources (G elements): a constant transconductance stamp.

use super::{Device, LoadCtx};
use crate::integrate::States;
use crate::matrix::{Pattern, PatternBuilder};

/// All VCCS of a circuit.
#[derive(Debug, Default, Clone)]
pub struct Vccss {
    /// Output terminals (current flows from `pos` through the source to `neg`).
    pub pos: Vec<usize>,
    /// See `pos`.
    pub neg: Vec<usize>,
    /// Controlling terminals.
    pub cpos: Vec<usize>,
    /// See `cpos`.
    pub cneg: Vec<usize>,
    /// Transconductance, S.
    pub gm: Vec<f64>,
    slots: Vec<[usize; 4]>,
}

impl Vccss {
    /// Add a VCCS.
    pub fn push(&mut self, pos: usize, neg: usize, cpos: usize, cneg: usize, gm: f64) {
        self.pos.push(pos);
        self.neg.push(neg);
        self.cpos.push(cpos);
        self.cneg.push(cneg);
        self.gm.push(gm);
    }
}

impl Device for Vccss {
    fn declare(&self, p: &mut PatternBuilder) {
        for k in 0..self.gm.len() {
            p.add(self.pos[k], self.cpos[k]);
            p.add(self.pos[k], self.cneg[k]);
            p.add(self.neg[k], self.cpos[k]);
            p.add(self.neg[k], self.cneg[k]);
        }
    }
    fn bind(&mut self, p: &Pattern) {
        self.slots = (0..self.gm.len())
            .map(|k| {
                [
                    p.slot(self.pos[k], self.cpos[k]),
                    p.slot(self.pos[k], self.cneg[k]),
                    p.slot(self.neg[k], self.cpos[k]),
                    p.slot(self.neg[k], self.cneg[k]),
                ]
            })
            .collect();
    }
    fn load_static(&self, a: &mut [f64]) {
        for (s, &g) in self.slots.iter().zip(&self.gm) {
            a[s[0]] += g;
            a[s[1]] -= g;
            a[s[2]] -= g;
            a[s[3]] += g;
        }
    }
    fn load(
        &mut self,
        _: &LoadCtx,
        _: &[f64],
        _: &mut States,
        _: &mut [f64],
        _: &mut [f64],
    ) -> bool {
        false
    }
    fn len(&self) -> usize {
        self.gm.len()
    }
}

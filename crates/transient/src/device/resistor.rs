//! Linear resistors: a constant conductance stamp.

use super::{bind_g, declare_g, stamp_g, Device, LoadCtx};
use crate::integrate::States;
use crate::matrix::{Pattern, PatternBuilder};

/// All resistors of a circuit.
#[derive(Debug, Default, Clone)]
pub struct Resistors {
    /// Element index in the circuit, per resistor.
    pub element: Vec<usize>,
    /// Terminals (unknown indices, 0 = ground).
    pub a: Vec<usize>,
    /// Second terminal.
    pub b: Vec<usize>,
    /// Conductance, S.
    pub g: Vec<f64>,
    slots: Vec<[usize; 4]>,
}

impl Resistors {
    /// Add a resistor.
    pub fn push(&mut self, element: usize, a: usize, b: usize, resistance: f64) {
        self.element.push(element);
        self.a.push(a);
        self.b.push(b);
        self.g.push(1.0 / resistance);
    }
}

impl Device for Resistors {
    fn declare(&self, p: &mut PatternBuilder) {
        for k in 0..self.g.len() {
            declare_g(p, self.a[k], self.b[k]);
        }
    }
    fn bind(&mut self, p: &Pattern) {
        self.slots = (0..self.g.len())
            .map(|k| bind_g(p, self.a[k], self.b[k]))
            .collect();
    }
    fn load_static(&self, a: &mut [f64]) {
        for (s, &g) in self.slots.iter().zip(&self.g) {
            stamp_g(a, s, g);
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
        self.g.len()
    }
}

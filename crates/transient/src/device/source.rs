//! Independent voltage and current sources.

use super::{Device, Layout, LoadCtx, Mode};
use crate::integrate::States;
use crate::matrix::{Pattern, PatternBuilder};
use circuit::Source;

fn value(src: &Source, ctx: &LoadCtx) -> f64 {
    let v = match ctx.mode {
        Mode::Dc if ctx.tran_op => src.value(0.0, ctx.tstep, ctx.tstop),
        Mode::Dc => src.dc_value(),
        Mode::Tran => {
            let v = src.value(ctx.time, ctx.tstep, ctx.tstop);
            return match ctx.ramp_from {
                None => v,
                Some(t0) => {
                    let v0 = src.value(t0, ctx.tstep, ctx.tstop);
                    v0 + ctx.src_scale * (v - v0)
                }
            };
        }
    };
    v * ctx.src_scale
}

/// All independent voltage sources.
#[derive(Debug, Default, Clone)]
pub struct VoltageSources {
    /// Element names.
    pub name: Vec<String>,
    /// Positive terminal.
    pub pos: Vec<usize>,
    /// Negative terminal.
    pub neg: Vec<usize>,
    /// Source specification.
    pub source: Vec<Source>,
    /// Branch-current unknowns.
    pub branch: Vec<usize>,
    slots: Vec<[usize; 4]>,
}

impl VoltageSources {
    /// Add a voltage source.
    pub fn push(&mut self, name: &str, pos: usize, neg: usize, source: Source) {
        self.name.push(name.to_string());
        self.pos.push(pos);
        self.neg.push(neg);
        self.source.push(source);
    }
}

impl Device for VoltageSources {
    fn alloc(&mut self, layout: &mut Layout) {
        self.branch = self.name.iter().map(|n| layout.alloc_branch(n)).collect();
    }
    fn declare(&self, p: &mut PatternBuilder) {
        for k in 0..self.name.len() {
            super::declare_branch(p, self.pos[k], self.neg[k], self.branch[k]);
        }
    }
    fn bind(&mut self, p: &Pattern) {
        self.slots = (0..self.name.len())
            .map(|k| super::bind_branch(p, self.pos[k], self.neg[k], self.branch[k]))
            .collect();
    }
    fn load_static(&self, a: &mut [f64]) {
        for s in &self.slots {
            super::stamp_branch(a, s);
        }
    }
    fn load(
        &mut self,
        ctx: &LoadCtx,
        _x: &[f64],
        _: &mut States,
        _a: &mut [f64],
        b: &mut [f64],
    ) -> bool {
        for k in 0..self.name.len() {
            b[self.branch[k]] += value(&self.source[k], ctx);
        }
        false
    }
    fn breakpoints(&self, tstep: f64, tstop: f64, out: &mut Vec<f64>) {
        super::source_breakpoints(&self.source, tstep, tstop, out);
    }
    fn instance_name(&self, k: usize) -> Option<&str> {
        self.name.get(k).map(String::as_str)
    }
    fn len(&self) -> usize {
        self.name.len()
    }
}

/// All independent current sources.
#[derive(Debug, Default, Clone)]
pub struct CurrentSources {
    /// Terminal the current leaves (flows from `pos` through the source to `neg`).
    pub pos: Vec<usize>,
    /// Terminal the current enters.
    pub neg: Vec<usize>,
    /// Source specification.
    pub source: Vec<Source>,
}

impl CurrentSources {
    /// Add a current source.
    pub fn push(&mut self, pos: usize, neg: usize, source: Source) {
        self.pos.push(pos);
        self.neg.push(neg);
        self.source.push(source);
    }
}

impl Device for CurrentSources {
    fn declare(&self, _p: &mut PatternBuilder) {}
    fn bind(&mut self, _p: &Pattern) {}
    fn load(
        &mut self,
        ctx: &LoadCtx,
        _x: &[f64],
        _: &mut States,
        _a: &mut [f64],
        b: &mut [f64],
    ) -> bool {
        for k in 0..self.source.len() {
            let i = value(&self.source[k], ctx);
            b[self.pos[k]] -= i;
            b[self.neg[k]] += i;
        }
        false
    }
    fn breakpoints(&self, tstep: f64, tstop: f64, out: &mut Vec<f64>) {
        super::source_breakpoints(&self.source, tstep, tstop, out);
    }
    fn len(&self) -> usize {
        self.source.len()
    }
}

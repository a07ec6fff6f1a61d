//! The exact gradient by one adjoint solve per sample.
//!
//! At the equilibrium `v*` (KCL, sources held), with `H` the Jacobian of the nodal equations
//! and `e = −∂C/∂v` injected at the outputs, `u = H⁻ᵀ e` and `∂L/∂g_j = Δv_j · Δu_j`
//! (see `docs/theory.md`).

use crate::loss::{Objective, Target};
use crate::network::{Network, Output};
use crate::LearnError;
use circuit::{NodeId, Source};
use transient::Simulator;

/// Result of one sample.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleGrad {
    /// Loss value.
    pub loss: f64,
    /// Output values at the equilibrium.
    pub outputs: Vec<f64>,
    /// `dL/dg_j` (or its estimate), one per trainable resistor.
    pub grad: Vec<f64>,
}

/// Shared per-sample plumbing: a simulator of the network with inputs set per sample.
pub(crate) struct Probe {
    pub sim: Simulator,
    pub trainable: Vec<usize>,
    pub pairs: Vec<(NodeId, NodeId)>,
    pub inputs: Vec<(usize, usize, f64)>,
    pub outputs: Vec<Output>,
}

impl Probe {
    pub fn new(net: &Network, c: &circuit::Circuit) -> Result<Probe, LearnError> {
        let mut sim = Simulator::new(c).map_err(|e| LearnError::Sim(e.to_string()))?;
        // nothing reads the phases' seconds of a training sample
        sim.set_timing(false);
        Ok(Probe {
            sim,
            trainable: net.trainable.clone(),
            pairs: net.trainable_nodes(),
            inputs: net
                .inputs
                .iter()
                .map(|i| (i.element, i.feature, i.scale))
                .collect(),
            outputs: net.outputs.clone(),
        })
    }

    pub fn set_conductances(&mut self, g: &[f64]) -> Result<(), LearnError> {
        for (&k, &gk) in self.trainable.iter().zip(g) {
            self.sim
                .set_resistance(k, 1.0 / gk)
                .map_err(|e| LearnError::Sim(e.to_string()))?;
        }
        Ok(())
    }

    pub fn set_inputs(&mut self, x: &[f64]) -> Result<(), LearnError> {
        for &(el, f, s) in &self.inputs {
            let v = *x.get(f).ok_or_else(|| {
                LearnError::Data(format!(
                    "sample has {} features, the network reads feature {f}",
                    x.len()
                ))
            })?;
            self.sim
                .set_source(el, Source::dc(s * v))
                .map_err(|e| LearnError::Sim(e.to_string()))?;
        }
        Ok(())
    }

    /// Equilibrium for the current inputs: the solution vector.
    pub fn equilibrium(&mut self) -> Result<Vec<f64>, LearnError> {
        Ok(self
            .sim
            .operating_point()
            .map_err(|e| LearnError::Sim(e.to_string()))?
            .x)
    }

    pub fn read_outputs(&self, x: &[f64]) -> Vec<f64> {
        self.outputs.iter().map(|o| x[o.pos] - x[o.neg]).collect()
    }
}

/// The adjoint engine: exact gradients.
pub struct AdjointEngine {
    pub(crate) probe: Probe,
}

impl AdjointEngine {
    /// Prepare a simulator for `net` (symbolic analysis once).
    pub fn new(net: &Network) -> Result<AdjointEngine, LearnError> {
        Ok(AdjointEngine {
            probe: Probe::new(net, &net.circuit)?,
        })
    }

    /// Set the trainable conductances.
    pub fn set_conductances(&mut self, g: &[f64]) -> Result<(), LearnError> {
        self.probe.set_conductances(g)
    }

    /// Output values for sample `x`.
    pub fn forward(&mut self, x: &[f64]) -> Result<Vec<f64>, LearnError> {
        self.probe.set_inputs(x)?;
        let v = self.probe.equilibrium()?;
        Ok(self.probe.read_outputs(&v))
    }

    /// Loss and exact gradient for one sample.
    pub fn gradient(
        &mut self,
        x: &[f64],
        target: &Target,
        obj: &Objective,
    ) -> Result<SampleGrad, LearnError> {
        self.probe.set_inputs(x)?;
        let v = self.probe.equilibrium()?;
        let y = self.probe.read_outputs(&v);
        let (loss, dy) = obj.eval(&y, target);
        let sim = &mut self.probe.sim;
        sim.factor_dc_jacobian(&v)
            .map_err(|e| LearnError::Sim(e.to_string()))?;
        let mut u = vec![0.0; v.len()];
        for (o, d) in self.probe.outputs.iter().zip(&dy) {
            // e = −∂C/∂v: −dC/dy at pos, +dC/dy at neg
            u[o.pos] -= d;
            u[o.neg] += d;
        }
        u[0] = 0.0;
        sim.solve_with_last_jacobian(&mut u, true)
            .map_err(|e| LearnError::Sim(e.to_string()))?;
        u[0] = 0.0;
        let grad = self
            .probe
            .pairs
            .iter()
            .map(|&(a, b)| (v[a] - v[b]) * (u[a] - u[b]))
            .collect();
        Ok(SampleGrad {
            loss,
            outputs: y,
            grad,
        })
    }

    /// Loss only (for finite differences).
    pub fn loss(&mut self, x: &[f64], target: &Target, obj: &Objective) -> Result<f64, LearnError> {
        let y = self.forward(x)?;
        Ok(obj.eval(&y, target).0)
    }
}

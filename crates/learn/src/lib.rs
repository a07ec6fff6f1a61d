//! # learn
//!
//! Frequency propagation (Anisetti, Kandala, Scellier, Schwarz, *Neural Computation* 36(4),
//! 2024): a local learning rule for physical networks of trainable resistors and fixed
//! diodes. The inputs drive the network at DC (the *activation*); an error current
//! `β·e·cos(2π f_e t)` with `e = −∂C/∂v_O` is injected at the outputs; every resistor reads
//! the DC mean `A_j` and the in-phase part `E_j` at `f_e` of its own voltage drop and
//! updates `Δg_j = −(η/β)·A_j·E_j`. For small β this is gradient descent on the loss.
//!
//! * [`network`]: layered (Kendall et al. 2020 style), random and mesh networks, or a user
//!   netlist, with trainable resistors, ± input sources and outputs.
//! * [`adjoint`]: the exact gradient `∂L/∂g_j = Δv_j·Δu_j`, `u = H⁻¹e` (one solve).
//! * [`transient_engine`]: the physical protocol simulated in the time domain and read with a
//!   coherent spectral readout.
//! * [`check`]: transient estimate and finite differences against the exact gradient.
//! * [`train`]: datasets, TOML configuration, parallel minibatch training, checkpoints.
//! * [`team`]: the threads of an epoch sharing its minibatches, helpers kept awake between
//!   them.
//!
//! The derivation (adjoint, β-expansion, signs) is in `docs/theory.md`.
//!
//! ```
//! use learn::{adjoint::AdjointEngine, check::compare, loss::{Objective, LossKind, Target},
//!             network::{layered, Common, LayeredSpec}, transient_engine::*};
//! let spec = LayeredSpec { n_inputs: 2, hidden: vec![3], n_outputs: 1, output_pairs: false };
//! let net = layered(&spec, &Common::default(), 7).unwrap();
//! let obj = Objective { kind: LossKind::Mse, ..Default::default() };
//! let (x, t) = (vec![0.5, -1.0], Target::Values(vec![0.3]));
//! let exact = AdjointEngine::new(&net).unwrap().gradient(&x, &t, &obj).unwrap();
//! let opts = TransientOptions { beta: 1e-5, ..Default::default() };
//! let fp = TransientEngine::new(&net, &opts).unwrap().gradient(&x, &t, &obj).unwrap();
//! let (cosine, rel_error) = compare(&fp.grad, &exact.grad);
//! assert!(cosine > 0.9999 && rel_error < 1e-3, "{cosine} {rel_error}");
//! ```

pub mod adjoint;
pub mod check;
pub mod data;
pub mod failure;
pub mod loss;
pub mod network;
pub mod rng;
pub mod runfile;
pub mod team;
pub mod train;
pub mod transient_engine;

/// Errors of the learner.
#[derive(Debug, thiserror::Error)]
pub enum LearnError {
    /// Invalid configuration.
    #[error("{0}")]
    Config(String),
    /// Invalid or unreadable data.
    #[error("{0}")]
    Data(String),
    /// A simulation failed.
    #[error("simulation: {0}")]
    Sim(String),
    /// File input/output.
    #[error("{0}")]
    Io(String),
    /// A stop request (see [`train::Trainer::set_stop_flag`]) ended an epoch early; the
    /// trainer was put back to its last completed epoch.
    #[error("interrupted")]
    Interrupted,
}

impl LearnError {
    /// True for errors caused by the user's input (configuration, data, files).
    pub fn is_input(&self) -> bool {
        !matches!(self, LearnError::Sim(_) | LearnError::Interrupted)
    }
}

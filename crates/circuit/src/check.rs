//! Topology checks run before any solve (stub, to be replaced).
use crate::Circuit;

/// A structural problem of a circuit, naming the nodes or elements involved.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TopologyError {
    /// Nodes with no DC path to ground.
    #[error("node(s) {nodes:?} have no DC path to ground")]
    Floating { nodes: Vec<String> },
}

/// Check a circuit for floating nodes, voltage-source/inductor loops, current-source/capacitor
/// cut-sets, bad values and undefined models. Returns every problem found.
pub fn check_topology(_c: &Circuit) -> Result<(), Vec<TopologyError>> {
    Ok(())
}

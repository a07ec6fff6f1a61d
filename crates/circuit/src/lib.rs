//! # circuit
//!
//! The bottom of freqprop: the circuit model, the SPICE netlist reader and writer, topology
//! checks, and the waveform containers every other crate exchanges.
//!
//! ```
//! let text = "divider\nV1 in 0 DC 1\nR1 in out 1k\nR2 out 0 1k\n.op\n.end\n";
//! let c = circuit::parse_str(text, "divider.cir").unwrap();
//! assert_eq!(c.elements.len(), 3);
//! assert_eq!(c.node("out"), Some(2));
//! let again = circuit::parse_str(&circuit::write_netlist(&c), "again.cir").unwrap();
//! assert_eq!(c, again);
//! ```

pub mod background;
pub mod check;
pub mod decimate;
pub mod error;
mod expr;
mod lexer;
pub mod model;
pub mod parse;
pub mod wave;
pub mod write;

pub use check::{check_topology, warnings, TopologyError};
pub use decimate::{select_signals, Decimate, Decimation};
pub use error::ParseError;
pub use model::*;
pub use parse::{parse_file, parse_str};
pub use wave::{canonical_name, Quantity, Signal, WaveSink, Waveforms};
pub use write::write_netlist;

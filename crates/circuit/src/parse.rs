//! SPICE netlist reader (stub, to be replaced).
use crate::{Circuit, ParseError};
use std::path::Path;

/// Parse a netlist file, following `.include`.
pub fn parse_file(path: &Path) -> Result<Circuit, ParseError> {
    let text = std::fs::read_to_string(path).map_err(|e| ParseError { file: path.to_path_buf(), line: 0, column: 0, text: String::new(), message: e.to_string() })?;
    parse_str(&text, path)
}

/// Parse netlist text; `origin` names it in errors and anchors relative `.include` paths.
pub fn parse_str(_text: &str, _origin: impl AsRef<Path>) -> Result<Circuit, ParseError> {
    unimplemented!()
}

//! Errors of the netlist reader.
use std::fmt;
use std::path::PathBuf;

/// A netlist error that points at the offending text.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    /// File the text came from (the including file's name for `.include`d text is not used:
    /// this is the file holding the offending line).
    pub file: PathBuf,
    /// 1-based line number.
    pub line: usize,
    /// 1-based column of the offending token.
    pub column: usize,
    /// The whole offending line as written.
    pub text: String,
    /// What is wrong and what was expected.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            return write!(f, "{}: {}", self.file.display(), self.message);
        }
        // Tabs are shown as single spaces so that the caret lines up with the column.
        let shown: String = self
            .text
            .chars()
            .map(|c| if c == '\t' { ' ' } else { c })
            .collect();
        write!(
            f,
            "{}:{}:{}: {}\n  | {}\n  | {}^",
            self.file.display(),
            self.line,
            self.column,
            self.message,
            shown,
            " ".repeat(self.column.saturating_sub(1))
        )
    }
}

impl std::error::Error for ParseError {}

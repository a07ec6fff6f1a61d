//! The command line's error type and its exit codes.

/// An error that ends a command.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad input: unreadable or malformed file, invalid option value (exit code 2).
    #[error("{0}")]
    Input(String),
    /// The run itself failed (exit code 1).
    #[error("{0}")]
    Run(String),
}

impl CliError {
    /// Process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Input(_) => 2,
            CliError::Run(_) => 1,
        }
    }
}

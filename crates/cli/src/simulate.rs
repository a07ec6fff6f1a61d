//! `freqprop simulate` (stub).
use crate::CliError;

/// Arguments of `freqprop simulate`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Run `freqprop simulate`.
pub fn run(_args: Args) -> Result<i32, CliError> {
    Err(CliError::Run("not implemented yet".into()))
}

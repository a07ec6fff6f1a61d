//! `freqprop compare` (stub).
use crate::CliError;

/// Arguments of `freqprop compare`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Run `freqprop compare`.
pub fn run(_args: Args) -> Result<i32, CliError> {
    Err(CliError::Run("not implemented yet".into()))
}

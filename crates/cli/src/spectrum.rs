//! `freqprop spectrum` (stub).
use crate::CliError;

/// Arguments of `freqprop spectrum`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Run `freqprop spectrum`.
pub fn run(_args: Args) -> Result<i32, CliError> {
    Err(CliError::Run("not implemented yet".into()))
}

//! SIGINT and SIGTERM (what Slurm sends on `scancel` and at the time limit): the commands
//! that write results (`train`, `simulate`, `sweep local`, `sweep run`) call [`install`],
//! after which a signal only sets a flag ([`signal_hook::flag`]); the command notices it at
//! its next safe point, saves what is complete, and exits with `128 + signal` (130 for
//! SIGINT, 143 for SIGTERM). A second signal ends the process at once with that code (the
//! temporary files of atomic writes are then left behind; they never replace a result).

use crate::CliError;
use signal_hook::consts::{SIGINT, SIGTERM};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// The signal received (0: none).
static RECEIVED: AtomicUsize = AtomicUsize::new(0);
/// Set by the first signal; arms the immediate exit on the second.
static ARMED: AtomicBool = AtomicBool::new(false);
/// A flag shared with libraries that poll for a stop request.
static STOP: std::sync::OnceLock<Arc<AtomicBool>> = std::sync::OnceLock::new();

/// Install the handlers (idempotent).
pub fn install() -> Result<(), CliError> {
    static DONE: std::sync::Once = std::sync::Once::new();
    let mut res = Ok(());
    DONE.call_once(|| {
        let stop = Arc::clone(STOP.get_or_init(Default::default));
        let reg = || -> std::io::Result<()> {
            for sig in [SIGINT, SIGTERM] {
                // order matters: the shutdown test runs before the flag is set
                signal_hook::flag::register_conditional_shutdown(sig, 128 + sig, &ARMED)?;
                signal_hook::flag::register_usize(sig, &RECEIVED, sig as usize)?;
                signal_hook::flag::register(sig, &ARMED)?;
                signal_hook::flag::register(sig, Arc::clone(&stop))?;
            }
            Ok(())
        };
        if let Err(e) = reg() {
            res = Err(CliError::Run(format!(
                "cannot install signal handlers: {e}"
            )));
        }
    });
    res
}

/// The signal number received since [`install`], if any.
pub fn received() -> Option<i32> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s as i32),
    }
}

/// A flag that becomes true when a signal arrives (for libraries that poll).
pub fn stop_flag() -> Arc<AtomicBool> {
    Arc::clone(STOP.get_or_init(Default::default))
}

/// `SIGINT`, `SIGTERM` or the number.
pub fn name(sig: i32) -> String {
    match sig {
        SIGINT => "SIGINT".into(),
        SIGTERM => "SIGTERM".into(),
        s => format!("signal {s}"),
    }
}

/// The exit code after signal `sig`: `128 + sig`.
pub fn exit_code(sig: i32) -> i32 {
    128 + sig
}

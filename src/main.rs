//! The `freqprop` binary: a thin wrapper over the `cli` crate.
fn main() {
    // Die quietly on a closed pipe (`freqprop ... | head`) like other command-line tools,
    // instead of panicking on the failed write.
    // SAFETY: restoring the default disposition of SIGPIPE at start-up, before any thread.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    std::process::exit(cli::main_exit_code());
}

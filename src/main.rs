//! The `freqprop` binary: a thin wrapper over the `cli` crate.
fn main() {
    std::process::exit(cli::main_exit_code());
}

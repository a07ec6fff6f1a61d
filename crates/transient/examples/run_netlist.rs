//! Simulate a netlist and print the work counters and where the time went:
//! `cargo run --release -p freqprop-transient --example run_netlist -- deck.cir`.
fn main() {
    let path = std::env::args().nth(1).expect("usage: run_netlist NETLIST");
    let c = circuit::parse_file(std::path::Path::new(&path)).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = transient::Simulator::new(&c).unwrap_or_else(|e| panic!("{e}"));
    let mut w = circuit::Waveforms::default();
    let t0 = std::time::Instant::now();
    let s = sim
        .transient(
            c.tran().expect(".tran"),
            &Default::default(),
            &c.title,
            &mut w,
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let st = sim.stats();
    println!(
        "{path}: {} unknowns, {} accepted, {} rejected, {} iterations, {:.3} s (load {:.3}, factor {:.3}, solve {:.3})",
        sim.unknowns(),
        s.accepted,
        s.rejected,
        s.newton_iterations,
        t0.elapsed().as_secs_f64(),
        st.load_seconds,
        st.factor_seconds,
        st.solve_seconds
    );
}

//! Simulate a netlist and print the work counters and where the time went:
//! `cargo run --release -p freqprop-transient --example run_netlist -- deck.cir [REPEAT]`.
//!
//! With REPEAT (default 1), the transient runs that many times in this one process, each on
//! a new simulator, and the least and the median of the times are printed: on a shared
//! machine the least is what the code costs, the rest is what the machine added (the
//! whole-command times of `make bench-ngspice` moved by ±15% within minutes here).
fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: run_netlist NETLIST [REPEAT]");
    let repeat: usize = args
        .next()
        .map_or(1, |r| r.parse().expect("REPEAT: a count"));
    let c = circuit::parse_file(std::path::Path::new(&path)).unwrap_or_else(|e| panic!("{e}"));
    let mut times = Vec::with_capacity(repeat);
    for _ in 0..repeat.max(1) {
        let mut sim = transient::Simulator::new(&c).unwrap_or_else(|e| panic!("{e}"));
        let mut w = Discard;
        let t0 = std::time::Instant::now();
        let s = sim
            .transient(
                c.tran().expect(".tran"),
                &Default::default(),
                &c.title,
                &mut w,
            )
            .unwrap_or_else(|e| panic!("{e}"));
        times.push(t0.elapsed().as_secs_f64());
        if times.len() == 1 {
            let st = sim.stats();
            println!(
                "{path}: {} unknowns ({} {} nnz), {} accepted, {} rejected, {} iterations, {} loads, {} factorizations, {} settled early ({} linearized, {} of them one solve further), {:.4} s (load {:.4}, factor {:.4}, solve {:.4})",
                sim.unknowns(), sim.solver_kind(), sim.factor_nnz(),
                s.accepted,
                s.rejected,
                s.newton_iterations,
                st.loads,
                st.factorizations,
                st.settled_early,
                st.settled_linearized,
                st.settled_linearized_solve,
                times[0],
                st.load_seconds,
                st.factor_seconds,
                st.solve_seconds
            );
        }
    }
    if repeat > 1 {
        times.sort_by(f64::total_cmp);
        println!(
            "{repeat} runs: least {:.4} s, median {:.4} s",
            times[0],
            times[times.len() / 2]
        );
    }
}

/// A sink that keeps nothing: the times are the analysis's own, not those of storing
/// 300 signals (growing vectors cost a tenth of this example's time on random_network).
struct Discard;

impl circuit::WaveSink for Discard {
    type Error = std::convert::Infallible;
    fn begin(&mut self, _: &str, _: &str, _: &[circuit::Signal]) -> Result<(), Self::Error> {
        Ok(())
    }
    fn push(&mut self, _: f64, values: &[f64]) -> Result<(), Self::Error> {
        std::hint::black_box(values);
        Ok(())
    }
    fn finish(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

//! The time-stepping loop does not allocate: a counting global allocator (counting per
//! thread, so that other tests running at the same time do not interfere) reads the number of
//! allocations at every point the transient analysis writes. Between the second point and the
//! last, every step's prediction, device loads, factorizations (or reuse), solves, truncation
//! estimates and output run without a single allocation.

use circuit::{Signal, WaveSink};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use transient::{OutputGrid, Simulator, TranOptions};

struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.with(|c| c.set(c.get() + 1));
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.with(|c| c.set(c.get() + 1));
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocs() -> u64 {
    ALLOCS.with(|c| c.get())
}

/// Records the allocation count at every pushed point, into storage reserved up front.
struct CountingSink {
    counts: Vec<u64>,
    last: f64,
}

impl WaveSink for CountingSink {
    type Error = String;
    fn begin(&mut self, _: &str, _: &str, _: &[Signal]) -> Result<(), String> {
        Ok(())
    }
    fn push(&mut self, time: f64, values: &[f64]) -> Result<(), String> {
        if self.counts.len() == self.counts.capacity() {
            return Err("more points than reserved".into());
        }
        self.counts.push(allocs());
        self.last = time + values.iter().sum::<f64>() * 0.0;
        Ok(())
    }
    fn finish(&mut self) -> Result<(), String> {
        Ok(())
    }
}

/// Runs the netlist's transient and returns (points written, allocations between the second
/// point and the last, Newton iterations, factorizations).
fn run(text: &str, opts: &TranOptions) -> (usize, u64, usize, usize) {
    let c = circuit::parse_str(text, "deck.cir").unwrap();
    let mut sim = Simulator::new(&c).unwrap();
    let mut sink = CountingSink {
        counts: Vec::with_capacity(200_000),
        last: 0.0,
    };
    let s = sim
        .transient(c.tran().unwrap(), opts, &c.title, &mut sink)
        .unwrap();
    assert!(sink.last > 0.0);
    let k = &sink.counts;
    assert!(k.len() > 100, "only {} points", k.len());
    let st = sim.stats();
    assert!(st.factorizations > 0);
    (
        k.len(),
        k[k.len() - 1] - k[1],
        s.newton_iterations,
        st.factorizations,
    )
}

const DIODE_RC: &str = "diode clipper with RC load and a pulse
V1 in 0 PULSE(-2 2 0 10u 10u 200u 500u)
R1 in a 1k
D1 a b dx
C1 b 0 100n
R2 b 0 10k
D2 0 b dx
C2 a 0 1n
.model dx D(IS=1e-14 N=1.5 RS=10 CJO=2p TT=1n)
.options reltol=1e-5 vntol=1e-7 abstol=1e-13
.tran 1u 2m
.end
";

#[test]
fn adaptive_steps_allocate_nothing() {
    let (points, extra, iters, factors) = run(DIODE_RC, &TranOptions::default());
    assert_eq!(
        extra, 0,
        "{extra} allocations over {points} points ({iters} Newton iterations, {factors} factorizations)"
    );
}

#[test]
fn exact_grid_and_fixed_steps_allocate_nothing() {
    let exact = TranOptions {
        output: OutputGrid::Exact { t0: 0.0, dt: 2e-6 },
        ..Default::default()
    };
    let (points, extra, ..) = run(DIODE_RC, &exact);
    assert_eq!(extra, 0, "{extra} allocations over {points} points");
    let interp = TranOptions {
        output: OutputGrid::Interpolated,
        ..Default::default()
    };
    let (points, extra, ..) = run(DIODE_RC, &interp);
    assert_eq!(extra, 0, "{extra} allocations over {points} points");
    let fixed = TranOptions {
        fixed_step: Some(1e-6),
        ..Default::default()
    };
    let (points, extra, ..) = run(DIODE_RC, &fixed);
    assert_eq!(extra, 0, "{extra} allocations over {points} points");
}

/// A linear RC ladder at a fixed step factors once for the transient (after the DC matrix)
/// and then only solves: one Newton iteration per step.
#[test]
fn linear_fixed_step_factors_once_and_only_solves() {
    let text = "rc ladder
V1 in 0 SIN(0 1 1k)
R1 in n1 1k
C1 n1 0 100n
R2 n1 n2 1k
C2 n2 0 100n
R3 n2 n3 1k
C3 n3 0 100n
.tran 1u 2m
.end
";
    let fixed = TranOptions {
        fixed_step: Some(1e-6),
        ..Default::default()
    };
    let (points, extra, iters, factors) = run(text, &fixed);
    assert_eq!(extra, 0);
    // the DC operating point (linear: one factorization), the transient matrix, and at most
    // one more for the last step, which lands on TSTOP and may differ from the others by
    // rounding
    assert!(
        (2..=3).contains(&factors),
        "{factors} factorizations over {points} points"
    );
    // one Newton iteration for the DC point and one per step (points = steps + the t = 0 one),
    // and a second one after each of those refactorizations, whose step from the predictor is
    // large enough to be solved again (refinement) before it is accepted
    assert!(
        (points..=points + 3).contains(&iters),
        "{iters} Newton iterations for {points} points"
    );
}

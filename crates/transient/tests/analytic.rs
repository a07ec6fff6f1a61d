//! Analytic reference tests for the transient simulator: every simulated waveform is
//! compared against a closed form (or an independently solved equation) with a tight
//! tolerance. The measured errors quoted in comments were observed when the test was written
//! (debug build, x86-64); the tolerances leave a margin of a few times, not orders of magnitude.

use circuit::{Circuit, WaveSink, Waveforms};
use std::f64::consts::PI;
use transient::{OutputGrid, Simulator, TranOptions};

fn parse(text: &str) -> Circuit {
    circuit::parse_str(text, "test.cir").unwrap_or_else(|e| panic!("{e}"))
}

/// Run the netlist's `.tran` with the given options; returns the waveforms and the simulator.
fn tran_with(text: &str, opts: &TranOptions) -> (Waveforms, Simulator) {
    let c = parse(text);
    let mut sim = Simulator::new(&c).unwrap_or_else(|e| panic!("{e}"));
    let mut w = Waveforms::default();
    sim.transient(c.tran().expect(".tran card"), opts, &c.title, &mut w)
        .unwrap_or_else(|e| panic!("{e}"));
    w.finish().unwrap();
    (w, sim)
}

fn tran(text: &str) -> Waveforms {
    tran_with(text, &TranOptions::default()).0
}

/// Largest |sim − exact| over the points with `t >= t_from`.
fn max_err(w: &Waveforms, name: &str, t_from: f64, exact: impl Fn(f64) -> f64) -> f64 {
    let v = w.signal(name).unwrap_or_else(|| panic!("no signal {name}"));
    w.time
        .iter()
        .zip(v)
        .filter(|(t, _)| **t >= t_from)
        .map(|(&t, &x)| (x - exact(t)).abs())
        .fold(0.0, f64::max)
}

// ---------------------------------------------------------------------------------------
// RC, RL, RLC step and sine responses (adaptive steps, tight tolerances)

#[test]
fn rc_step_charging() {
    // UIC with a DC source: the capacitor starts at 0 V, v(t) = 1 − e^{−t/RC}, RC = 1 ms.
    let text = "rc step\nV1 in 0 DC 1\nR1 in out 1k\nC1 out 0 1u ic=0\n.options reltol=1e-6\n.tran 10u 5m uic\n.end\n";
    let w = tran(text);
    let e = max_err(&w, "out", 0.0, |t| 1.0 - (-t / 1e-3).exp());
    // measured: 2.86e-6 over 520 points
    assert!(e < 6e-6, "RC step: max error {e:.3e}");
    assert!((w.time.last().unwrap() - 5e-3).abs() < 1e-18);
}

/// RC low-pass with ωRC = 1 at 1 kHz (R = 1k, C = 1/(2π·1k·1k)) driven by SIN(0 1 1k).
fn rc_sine_netlist(method: &str, tstop: &str) -> String {
    format!(
        "rc sine\nV1 in 0 SIN(0 1 1k)\nR1 in out 1k\nC1 out 0 {{1/(2*pi*1e6)}}\n\
         .options reltol=1e-6 method={method}\n.tran 10u {tstop}\n.end\n"
    )
}

/// Closed form of τ·v' + v = sin(ωt), v(0) = 0, with ωτ = 1.
fn rc_sine_exact(t: f64) -> f64 {
    let w = 2.0 * PI * 1e3;
    let tau = 1.0 / (2.0 * PI * 1e3);
    let wt = w * tau;
    let a = 1.0 / (1.0 + wt * wt).sqrt();
    let phi = wt.atan();
    a * ((w * t - phi).sin() + phi.sin() * (-t / tau).exp())
}

#[test]
fn rc_sine_steady_state_amplitude_and_phase() {
    let dt = 1e-3 / 200.0;
    let opts = TranOptions {
        output: OutputGrid::Exact { t0: 0.0, dt },
        ..Default::default()
    };
    let (w, _) = tran_with(&rc_sine_netlist("trap", "10m"), &opts);
    assert_eq!(w.len(), 2001);
    let v = w.signal("out").unwrap();
    let om = 2.0 * PI * 1e3;
    // project onto sin/cos over the last 5 whole periods (63 time constants after the start,
    // the transient e^{−t/τ} is below 1e-13): samples k = 1000..2000, end excluded
    let (mut a, mut b) = (0.0, 0.0);
    for (&t, &vk) in w.time[1000..2000].iter().zip(&v[1000..2000]) {
        a += vk * (om * t).sin();
        b += vk * (om * t).cos();
    }
    let (a, b) = (2.0 * a / 1000.0, 2.0 * b / 1000.0);
    let amp = a.hypot(b);
    let phase = b.atan2(a);
    let (amp_x, phase_x) = (1.0 / 2f64.sqrt(), -(1.0f64).atan());
    // measured: amplitude 0.707079639 (error −2.7e-5), phase −0.785436804 (error −3.9e-5 rad);
    // steps are capped at dt = 5 µs by the output grid, and trapezoidal's phase error
    // (ωh)²/12 ≈ 8e-5 per radian is the size of what is seen
    assert!((amp - amp_x).abs() < 6e-5, "amplitude {amp} vs {amp_x}");
    assert!((phase - phase_x).abs() < 8e-5, "phase {phase} vs {phase_x}");
    // whole waveform including the start-up transient: measured 4.5e-5
    let e = max_err(&w, "out", 0.0, rc_sine_exact);
    assert!(e < 1e-4, "RC sine: max error {e:.3e}");
}

#[test]
fn rl_step_current() {
    // i(t) = V/R·(1 − e^{−tR/L}), L/R = 100 µs, read from the inductor's branch current
    let text = "rl step\nV1 in 0 DC 1\nR1 in a 100\nL1 a 0 10m ic=0\n.options reltol=1e-6\n.tran 5u 1m uic\n.end\n";
    let w = tran(text);
    let e = max_err(&w, "i(l1)", 0.0, |t| 0.01 * (1.0 - (-t / 1e-4).exp()));
    // measured: 6.5e-7 A (of 10 mA)
    assert!(e < 2e-6, "RL step: max current error {e:.3e}");
    // the source's current is minus the inductor's
    let iv = w.signal("i(v1)").unwrap();
    let il = w.signal("i(l1)").unwrap();
    for k in 1..w.len() {
        assert!((iv[k] + il[k]).abs() < 1e-12);
    }
}

fn rlc_exact(t: f64) -> (f64, f64) {
    // series R = 10, L = 1 mH, C = 1 µF driven by a 1 V step: α = R/2L, ω0 = 1/√(LC)
    let (r, l, c) = (10.0f64, 1e-3f64, 1e-6f64);
    let alpha = r / (2.0 * l);
    let w0 = 1.0 / (l * c).sqrt();
    let wd = (w0 * w0 - alpha * alpha).sqrt();
    let e = (-alpha * t).exp();
    let v = 1.0 - e * ((wd * t).cos() + alpha / wd * (wd * t).sin());
    let i = c * e * (w0 * w0 / wd) * (wd * t).sin();
    (v, i)
}

#[test]
fn rlc_underdamped_ringing() {
    // The step is a PULSE with a 1 ns rise, started from the DC operating point (a consistent
    // initial state). The response to a ramp of length TR is the step response averaged over
    // TR, i.e. the step response delayed by TR/2 up to TR²/24·max|v''| ≈ 4e-11.
    let tr = 1e-9;
    let ex = |t: f64| rlc_exact(t - tr / 2.0);
    let run = |opt: &str| {
        tran(&format!(
            "rlc\nV1 in 0 PULSE(0 1 0 1n 1n 1 10)\nR1 in a 10\nL1 a out 1m\nC1 out 0 1u\n.options {opt}\n.tran 5u 2m\n.end\n"
        ))
    };
    // reltol = 1e-6: measured 1.136e-3 (ngspice 39.3 on the same circuit: 1.135e-3; SPICE's
    // truncation-error control with trtol = 7 is loose on a ringing circuit)
    let w = run("reltol=1e-6");
    let e = max_err(&w, "out", tr, |t| ex(t).0);
    assert!(e < 1.5e-3, "RLC reltol=1e-6: max error {e:.3e}");
    // reltol = 1e-8: measured 5.24e-5 (v) — the error falls as tol^(2/3), as it should for a
    // second-order method with step ∝ tol^(1/3)
    let w = run("reltol=1e-8");
    let e = max_err(&w, "out", tr, |t| ex(t).0);
    assert!(e < 1e-4, "RLC reltol=1e-8: max voltage error {e:.3e}");
    let ei = max_err(&w, "i(l1)", tr, |t| ex(t).1);
    // measured 1.6e-6 A of a 32 mA peak
    assert!(ei < 5e-6, "RLC reltol=1e-8: max current error {ei:.3e}");
    // gear (BDF2) at reltol = 1e-8: measured 1.09e-4
    let w = run("reltol=1e-8 method=gear");
    let e = max_err(&w, "out", tr, |t| ex(t).0);
    assert!(e < 2.5e-4, "RLC gear reltol=1e-8: max error {e:.3e}");
}

// ---------------------------------------------------------------------------------------
// convergence order at fixed step

/// Least-squares slope of log(err) against log(h).
fn slope(hs: &[f64], errs: &[f64]) -> f64 {
    let xs: Vec<f64> = hs.iter().map(|h| h.ln()).collect();
    let ys: Vec<f64> = errs.iter().map(|e| e.ln()).collect();
    let n = xs.len() as f64;
    let mx = xs.iter().sum::<f64>() / n;
    let my = ys.iter().sum::<f64>() / n;
    let sxy: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = xs.iter().map(|x| (x - mx) * (x - mx)).sum();
    sxy / sxx
}

/// Max error of the RC-sine response over [0, 2 ms] at steps h0, h0/2, ..., h0/16.
fn order_study(text: &str, h0: f64, exact: impl Fn(f64) -> f64) -> (Vec<f64>, Vec<f64>) {
    let hs: Vec<f64> = (0..5).map(|k| h0 / f64::from(1 << k)).collect();
    let errs = hs
        .iter()
        .map(|&h| {
            let (w, _) = tran_with(
                text,
                &TranOptions {
                    fixed_step: Some(h),
                    ..Default::default()
                },
            );
            // every step is h: the point count is exact
            let n = (w.time.last().unwrap() / h).round() as usize + 1;
            assert_eq!(w.len(), n, "fixed step {h}: {} points", w.len());
            max_err(&w, "out", 0.0, &exact)
        })
        .collect();
    (hs, errs)
}

#[test]
fn convergence_order_trapezoidal() {
    // The sine starts from the DC operating point at rest (v = 0, i = 0: consistent).
    let (hs, errs) = order_study(&rc_sine_netlist("trap", "2m"), 20e-6, rc_sine_exact);
    let s = slope(&hs, &errs);
    // measured: errors 8.77e-4 2.19e-4 5.48e-5 1.37e-5 3.43e-6, slope 2.000
    assert!((s - 2.0).abs() < 0.2, "trap slope {s}: {errs:?}");
    assert!(errs[0] < 1.2e-3, "trap error at h = 20 µs: {}", errs[0]);
}

#[test]
fn convergence_order_backward_euler() {
    let (hs, errs) = order_study(&rc_sine_netlist("euler", "2m"), 20e-6, rc_sine_exact);
    let s = slope(&hs, &errs);
    // measured: errors 3.08e-2 1.56e-2 7.87e-3 3.95e-3 1.98e-3, slope 0.990
    assert!((s - 1.0).abs() < 0.2, "euler slope {s}: {errs:?}");
}

#[test]
fn convergence_order_gear() {
    // BDF2 takes its first step with q(−h) = q(0) (the circuit at rest before t = 0), while the
    // sine input has a slope corner at t = 0: the first step's error is O(h²) and dominates
    // the maximum, which therefore converges as h² only once h is small. From h = 20 µs the
    // fitted slope is 1.88 (ratios 3.78 3.53 3.66 3.80); from 5 µs it is 1.93.
    let (hs, errs) = order_study(&rc_sine_netlist("gear", "2m"), 5e-6, rc_sine_exact);
    let s = slope(&hs, &errs);
    // measured: errors 2.00e-4 5.46e-5 1.44e-5 3.70e-6 9.42e-7, slope 1.93
    assert!((s - 2.0).abs() < 0.2, "gear slope {s}: {errs:?}");
}

/// A fixed-step run from an inconsistent initial state (UIC: the capacitor at 0 V while the
/// source drives 1 mA into it) must still converge at the method's order.
///
/// This used to fail: trapezoidal and gear converged at first order (trap errors 9.90e-3
/// 4.98e-3 2.49e-3 1.25e-3 6.25e-4, slope 0.997), because a fixed-step run started at full
/// order from the UIC state, whose stored derivatives (zero) are inconsistent: an O(h) error
/// h/(2RC) that persisted. Fixed-step runs after UIC now take their first step with backward
/// Euler (local error O(h²)).
#[test]
fn convergence_order_from_uic_start() {
    for m in ["trap", "gear"] {
        let text = format!(
            "rc step\nV1 in 0 DC 1\nR1 in out 1k\nC1 out 0 1u ic=0\n.options method={m}\n.tran 10u 2m uic\n.end\n"
        );
        let (hs, errs) = order_study(&text, 20e-6, |t| 1.0 - (-t / 1e-3).exp());
        let s = slope(&hs, &errs);
        assert!((s - 2.0).abs() < 0.2, "{m} from UIC: slope {s}: {errs:?}");
    }
}

// ---------------------------------------------------------------------------------------
// output grids

#[test]
fn interpolated_grid_writes_tstep_multiples() {
    let (w, _) = tran_with(
        &rc_sine_netlist("trap", "1m"),
        &TranOptions {
            output: OutputGrid::Interpolated,
            ..Default::default()
        },
    );
    assert_eq!(w.len(), 101);
    for (k, &t) in w.time.iter().enumerate() {
        let want = k as f64 * 10e-6;
        assert!(
            (t - want).abs() <= 1e-15 * want,
            "point {k}: t = {t:e}, want {want:e}"
        );
    }
    assert_eq!(*w.time.last().unwrap(), 1e-3);
    // linear interpolation between accepted points (steps up to TMAX = 10 µs): measured max
    // error 4.54e-4, of which the interpolation's h²/8·|v''| is about 3.5e-4
    let e = max_err(&w, "out", 0.0, rc_sine_exact);
    assert!(e < 1e-3, "interpolated RC sine: {e:.3e}");
}

#[test]
fn exact_grid_lands_on_every_point() {
    let (t0, dt) = (0.1e-3, 7e-6);
    let opts = TranOptions {
        output: OutputGrid::Exact { t0, dt },
        ..Default::default()
    };
    let (w, _) = tran_with(&rc_sine_netlist("trap", "1m"), &opts);
    // t0 + 128·dt = 0.996 ms is the last grid time before TSTOP
    assert_eq!(w.len(), 129);
    for (k, &t) in w.time.iter().enumerate() {
        let want = t0 + k as f64 * dt;
        assert!(
            (t - want).abs() <= 1e-15 * want,
            "point {k}: t = {t:e}, want {want:e}"
        );
    }
    // the node driven by the source equals the source at exactly that time: each written
    // point is a solution at that time, not an interpolation (an interpolated sine would be
    // off by up to (ωh)²/8 ≈ 1e-4)
    let vin = w.signal("in").unwrap();
    for (k, &t) in w.time.iter().enumerate() {
        let s = (2.0 * PI * 1e3 * t).sin();
        assert!(
            (vin[k] - s).abs() < 1e-12,
            "v(in) at {t:e}: {} vs {s}",
            vin[k]
        );
    }
    let e = max_err(&w, "out", 0.0, rc_sine_exact);
    // measured 7.63e-5 (steps capped at dt = 7 µs; fixed-step trapezoidal at 7 µs gives ≈ 1.1e-4)
    assert!(e < 2e-4, "exact-grid RC sine: {e:.3e}");
}

#[test]
fn accepted_points_are_solutions_at_their_time() {
    let w = tran(&rc_sine_netlist("trap", "1m"));
    let vin = w.signal("in").unwrap();
    for (k, &t) in w.time.iter().enumerate() {
        assert!((vin[k] - (2.0 * PI * 1e3 * t).sin()).abs() < 1e-12);
    }
    assert!(
        w.time.windows(2).all(|p| p[1] > p[0]),
        "times must increase"
    );
}

// ---------------------------------------------------------------------------------------
// breakpoints

/// Every corner is an accepted time (to 1e-15 relative) and the source node has the source's
/// value there.
fn assert_corners_hit(w: &Waveforms, corners: &[(f64, f64)]) {
    let vin = w.signal("in").unwrap();
    for &(c, v) in corners {
        let k = w
            .time
            .iter()
            .position(|&t| (t - c).abs() <= 1e-15 * c)
            .unwrap_or_else(|| {
                let near = w
                    .time
                    .iter()
                    .copied()
                    .min_by(|a, b| (a - c).abs().total_cmp(&(b - c).abs()))
                    .unwrap();
                panic!("corner {c:e} not hit; nearest accepted time {near:e}")
            });
        assert!(
            (vin[k] - v).abs() < 1e-12,
            "v(in) at corner {c:e}: {} vs {v}",
            vin[k]
        );
    }
}

#[test]
fn pulse_corners_are_hit() {
    let w = tran("pulse\nV1 in 0 PULSE(0 1 1m 10u 20u 0.5m 2m)\nR1 in out 1k\nC1 out 0 1u\n.tran 10u 5m\n.end\n");
    // TD, TD+TR, TD+TR+PW, TD+TR+PW+TF, then one period later, and the start of the third
    // period at TSTOP
    let corners = [
        (1e-3, 0.0),
        (1.01e-3, 1.0),
        (1.51e-3, 1.0),
        (1.53e-3, 0.0),
        (3e-3, 0.0),
        (3.01e-3, 1.0),
        (3.51e-3, 1.0),
        (3.53e-3, 0.0),
        (5e-3, 0.0),
    ];
    assert_corners_hit(&w, &corners);
    // and exactly: 1 ms is representable, so the time must be bitwise 1e-3
    assert!(w.time.contains(&1e-3));
}

#[test]
fn pwl_corners_are_hit() {
    let w = tran("pwl\nV1 in 0 PWL(0 0 1m 1 1.3m 1 2m -0.5 4m -0.5)\nR1 in out 1k\nC1 out 0 1u\n.tran 10u 5m\n.end\n");
    assert_corners_hit(
        &w,
        &[
            (1e-3, 1.0),
            (1.3e-3, 1.0),
            (2e-3, -0.5),
            (4e-3, -0.5),
            (5e-3, -0.5),
        ],
    );
    // between corners the source is linear and the node follows it exactly
    let vin = w.signal("in").unwrap();
    for (k, &t) in w.time.iter().enumerate() {
        let want = if t <= 1e-3 {
            t / 1e-3
        } else if t <= 1.3e-3 {
            1.0
        } else if t <= 2e-3 {
            1.0 - 1.5 * (t - 1.3e-3) / 0.7e-3
        } else {
            -0.5
        };
        assert!(
            (vin[k] - want).abs() < 1e-12,
            "v(in) at {t:e}: {} vs {want}",
            vin[k]
        );
    }
}

// ---------------------------------------------------------------------------------------
// diode operating point against the Shockley equation

const IS: f64 = 1e-14;
const N: f64 = 1.5;
const R: f64 = 1e3;
const GMIN: f64 = 1e-12;

/// `V1 in 0 vs; R1 in a 1k; D1 a 0` at DC: returns (v(a), i(v1)).
fn diode_op(vs: f64) -> (f64, f64) {
    let text = format!("diode op\nV1 in 0 DC {vs:e}\nR1 in a 1k\nD1 a 0 dmod\n.model dmod D(IS={IS:e} N={N})\n.op\n.end\n");
    let c = parse(&text);
    let mut sim = Simulator::new(&c).unwrap();
    let op = sim
        .operating_point()
        .unwrap_or_else(|e| panic!("vs = {vs}: {e}"));
    let sig = sim.output_signals();
    let get = |name: &str| op.x[sig.iter().find(|(s, _)| s.name == name).unwrap().1];
    (get("v(a)"), get("i(v1)"))
}

/// Solve (vs − v)/R = IS·(exp(v/(N·Vt)) − 1) + gmin·v by bisection in f64 (the left side
/// falls and the right side rises with v, so the root is unique and bracketed).
fn shockley(vs: f64) -> f64 {
    let vte = N * circuit::VT_27C;
    let f = |v: f64| (vs - v) / R - IS * ((v / vte).exp() - 1.0) - GMIN * v;
    let (mut lo, mut hi) = (vs.min(0.0) - 1.0, vs.max(0.0) + 1.0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if f(mid) > 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

#[test]
fn diode_dc_sweep_matches_shockley() {
    // For reverse bias below −3·N·Vt level 1 uses a cubic roll-off instead of the exponential;
    // the difference in current is IS·(3NVt/(e·v))³ < 1e-19 A here, invisible in v(a).
    // Measured |Δv(a)|: ≤ 1.1e-16 V except 4.4e-11 at 1 V and 8.8e-9 V at 3 V (Newton stops
    // at the default reltol = 1e-3; the last iterate is already quadratically close).
    for vs in [-5.0, -0.3, 0.0, 0.2, 0.5, 0.7, 1.0, 3.0, 10.0, 100.0] {
        let (va, iv) = diode_op(vs);
        let exact = shockley(vs);
        let iexact = -(vs - exact) / R; // i(v1) flows into V1's + terminal
        assert!(
            (va - exact).abs() < 5e-8,
            "vs = {vs}: v(a) = {va:.12}, Shockley {exact:.12}"
        );
        assert!(
            (iv - iexact).abs() < 5e-11,
            "vs = {vs}: i(v1) = {iv:e}, Shockley {iexact:e}"
        );
    }
    // spot value independent of the bisection: at 100 V the diode carries ≈ 98.8 mA at ≈ 1.16 V
    let (va, _) = diode_op(100.0);
    let i = (100.0 - va) / R;
    let vte = N * circuit::VT_27C;
    assert!((i - IS * ((va / vte).exp() - 1.0) - GMIN * va).abs() < 1e-12 * i);
}

// ---------------------------------------------------------------------------------------
// operating points of linear circuits

fn op_values(text: &str) -> Vec<(String, f64)> {
    let c = parse(text);
    let mut sim = Simulator::new(&c).unwrap();
    let op = sim.operating_point().unwrap_or_else(|e| panic!("{e}"));
    sim.output_signals()
        .into_iter()
        .map(|(s, i)| (s.name, op.x[i]))
        .collect()
}

fn assert_values(got: &[(String, f64)], want: &[(&str, f64)]) {
    assert_eq!(got.len(), want.len(), "{got:?}");
    for ((gn, gv), (wn, wv)) in got.iter().zip(want) {
        assert_eq!(gn, wn);
        assert!(
            (gv - wv).abs() <= 1e-14 * wv.abs().max(1e-3),
            "{gn} = {gv:e}, want {wv:e}"
        );
    }
}

#[test]
fn op_resistive_divider() {
    let got = op_values("div\nV1 in 0 10\nR1 in out 1k\nR2 out 0 3k\n.op\n.end\n");
    assert_values(
        &got,
        &[("v(in)", 10.0), ("v(out)", 7.5), ("i(v1)", -2.5e-3)],
    );
}

#[test]
fn op_voltage_source_and_current_source() {
    // I1 pushes 1 mA from ground into b: (5 − vb)/1k + 1m = vb/1k → vb = 3 V; V1 delivers
    // 2 mA, so the current into its + terminal is −2 mA.
    let got = op_values("loop\nV1 a 0 5\nR1 a b 1k\nI1 0 b 1m\nR2 b 0 1k\n.op\n.end\n");
    assert_values(&got, &[("v(a)", 5.0), ("v(b)", 3.0), ("i(v1)", -2e-3)]);
}

#[test]
fn op_vccs_stage() {
    // G1 draws gm·v(in) = 1 mA out of node out to ground: v(out) = −1 mA · 5k = −5 V
    let got =
        op_values("vccs\nV1 in 0 0.5\nR1 in 0 1k\nG1 out 0 in 0 2m\nRL out 0 5k\n.op\n.end\n");
    assert_values(
        &got,
        &[("v(in)", 0.5), ("v(out)", -5.0), ("i(v1)", -0.5e-3)],
    );
    // two stages in cascade with feedback through a resistor: solve the 2×2 system here
    // node x: G1 pulls 2m·v(in) out, R 1k to ground, Rf 10k to y
    // node y: G2 pulls 1m·v(x) out, R 2k to ground, Rf 10k to x
    let got = op_values(
        "cascade\nV1 in 0 1\nR0 in 0 1k\nG1 x 0 in 0 2m\nRx x 0 1k\nG2 y 0 x 0 1m\nRy y 0 2k\nRf x y 10k\n.op\n.end\n",
    );
    // KCL x: 2e-3·1 + x/1e3 + (x − y)/1e4 = 0; y: 1e-3·x + y/2e3 + (y − x)/1e4 = 0
    let (a11, a12, b1) = (1e-3 + 1e-4, -1e-4, -2e-3);
    let (a21, a22, b2) = (1e-3 - 1e-4, 5e-4 + 1e-4, 0.0);
    let det = a11 * a22 - a12 * a21;
    let x = (b1 * a22 - a12 * b2) / det;
    let y = (a11 * b2 - a21 * b1) / det;
    assert_values(
        &got,
        &[("v(in)", 1.0), ("v(x)", x), ("v(y)", y), ("i(v1)", -1e-3)],
    );
}

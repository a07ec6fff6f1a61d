//! Spectral readout on synthetic signals with known coefficients.

use spectrum::{
    coherent_window, harmonics, read_waveform, resample_uniform, windowed, windowed_error_bound,
    Coefficient, CoherentOptions, Interp, Layout, Method, Readout, SpectrumError, Window,
};
use std::f64::consts::PI;

/// A deterministic pseudo-random generator (xorshift) so the tests need no extra crate.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, a: f64, b: f64) -> f64 {
        a + (b - a) * self.next()
    }
}

/// Sum of tones `(freq, amplitude, phase_deg)` plus DC, evaluated in long double-free exact
/// form `A·cos(2π·frac(f·t) + φ)`.
fn signal(tones: &[(f64, f64, f64)], dc: f64, t: f64) -> f64 {
    dc + tones
        .iter()
        .map(|&(f, a, p)| a * (2.0 * PI * (f * t - (f * t).floor()) + p.to_radians()).cos())
        .sum::<f64>()
}

fn phase_err(a: f64, b: f64) -> f64 {
    let d = (a - b).rem_euclid(360.0);
    d.min(360.0 - d)
}

fn check(c: &Coefficient, amp: f64, phase: f64, rel_amp: f64, deg: f64) {
    let ea = (c.amplitude() - amp).abs() / amp;
    let ep = phase_err(c.phase_deg(), phase);
    assert!(
        ea <= rel_amp,
        "f = {}: amplitude {} vs {} (rel {ea:e})",
        c.freq,
        c.amplitude(),
        amp
    );
    assert!(
        ep <= deg,
        "f = {}: phase {} vs {} ({ep:e} deg)",
        c.freq,
        c.phase_deg(),
        phase
    );
}

#[test]
fn coherent_exact_both_methods() {
    let mut rng = Rng(0x9e3779b97f4a7c15);
    for trial in 0..20 {
        // Frequencies 1 kHz and 1.25 kHz (activation and error), harmonics, and a 3rd tone.
        let f1 = 1e3;
        let f2 = 1.25e3;
        let tones: Vec<(f64, f64, f64)> = [f1, f2, 2.0 * f1, f1 + f2, 7.0 * f2]
            .iter()
            .map(|&f| (f, rng.range(1e-3, 2.0), rng.range(-180.0, 180.0)))
            .collect();
        let dc = rng.range(-1.0, 1.0);
        let t_last = rng.range(10e-3, 1.0);
        let span = coherent_window(
            &[f1, f2],
            0.0,
            t_last,
            &CoherentOptions {
                periods: 1 + trial % 3,
                ..Default::default()
            },
        )
        .unwrap();
        assert!((span.period - 4e-3).abs() < 1e-15);
        let n = [4096, 1000, 257][trial % 3];
        let (t0, dt) = span.grid(n);
        let x: Vec<f64> = (0..n)
            .map(|i| signal(&tones, dc, t0 + i as f64 * dt))
            .collect();
        let freqs: Vec<f64> = std::iter::once(0.0)
            .chain(tones.iter().map(|t| t.0))
            .collect();
        for method in [Method::Direct, Method::Fft] {
            let r = Readout::with_method(n, dt, &freqs, method).unwrap();
            let c = r.read(&x, t0).unwrap();
            assert!(
                (c[0].in_phase - dc).abs() < 1e-12,
                "dc {} vs {dc}",
                c[0].in_phase
            );
            assert_eq!(c[0].quadrature, 0.0);
            for (c, &(_, a, p)) in c[1..].iter().zip(&tones) {
                check(c, a, p, 1e-9, 1e-6);
                // Convention: I = A cos φ, Q = A sin φ, and eval() reproduces the tone.
                assert!((c.in_phase - a * p.to_radians().cos()).abs() < 1e-9 * a);
                assert!((c.quadrature - a * p.to_radians().sin()).abs() < 1e-9 * a);
            }
        }
    }
}

#[test]
fn convention_cos_and_minus_sin() {
    // x = cos(2πft) − 0.5 sin(2πft)  ⇒  I = 1, Q = 0.5, A = hypot, φ = atan2(0.5, 1).
    let (n, f) = (64usize, 1e3);
    let dt = 1.0 / (f * n as f64);
    let x: Vec<f64> = (0..n)
        .map(|i| {
            let th = 2.0 * PI * i as f64 / n as f64;
            th.cos() - 0.5 * th.sin()
        })
        .collect();
    let c = Readout::new(n, dt, &[f]).unwrap().read(&x, 0.0).unwrap()[0];
    assert!((c.in_phase - 1.0).abs() < 1e-14);
    assert!((c.quadrature - 0.5).abs() < 1e-14);
    assert!((c.phase_deg() - 0.5f64.atan2(1.0).to_degrees()).abs() < 1e-12);
    assert!((c.eval(0.3 * dt) - x[0]).abs() > 0.0); // eval is a function of time
    assert!((c.eval(5.0 * dt) - x[5]).abs() < 1e-13);
    // Sine-referenced phase (ngspice convention): sin(θ + 90°) = cos θ.
    let p = Coefficient::from_polar(f, 1.0, 0.0);
    assert!((p.sine_phase_deg(0.0) - 90.0).abs() < 1e-12);
}

#[test]
fn rejects_incoherent_and_nyquist() {
    let e = Readout::new(100, 1e-5, &[1.5e3]).unwrap_err();
    assert!(matches!(e, SpectrumError::NotCoherent { .. }), "{e}");
    assert!(e.to_string().contains("1500"), "{e}");
    let e = Readout::new(100, 1e-5, &[50e3]).unwrap_err();
    assert!(matches!(e, SpectrumError::AboveNyquist { .. }), "{e}");
    let e = coherent_window(
        &[1e3, 1e3 * 2f64.sqrt()],
        0.0,
        1.0,
        &CoherentOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(e, SpectrumError::NoCommonPeriod { .. }), "{e}");
    let r = Readout::new(100, 1e-5, &[1e3]).unwrap();
    assert!(r.read(&[0.0; 99], 0.0).is_err());
}

#[test]
fn batch_matches_single_reads() {
    let mut rng = Rng(12345);
    let (n, ns) = (512usize, 203usize); // not a multiple of the block width
    let dt = 1.0 / (1e3 * 16.0 * n as f64 / 16.0);
    let freqs = [0.0, 3e3, 5e3];
    let t0 = 0.0371;
    let mut sig_major = vec![0.0; n * ns];
    for s in 0..ns {
        let tones = [
            (3e3, rng.range(0.1, 1.0), rng.range(-180.0, 180.0)),
            (5e3, rng.range(0.1, 1.0), rng.range(-180.0, 180.0)),
        ];
        let dc = rng.range(-1.0, 1.0);
        for i in 0..n {
            sig_major[s * n + i] =
                signal(&tones, dc, t0 + i as f64 * dt) + 0.01 * rng.range(-1.0, 1.0);
        }
    }
    let mut time_major = vec![0.0; n * ns];
    for s in 0..ns {
        for i in 0..n {
            time_major[i * ns + s] = sig_major[s * n + i];
        }
    }
    for method in [Method::Direct, Method::Fft] {
        let r = Readout::with_method(n, dt, &freqs, method).unwrap();
        let a = r.batch(&time_major, ns, Layout::TimeMajor, t0).unwrap();
        let b = r.batch(&sig_major, ns, Layout::SignalMajor, t0).unwrap();
        for s in 0..ns {
            let one = r.read(&sig_major[s * n..(s + 1) * n], t0).unwrap();
            for (fi, want) in one.iter().enumerate().take(freqs.len()) {
                for got in [a.get(s, fi), b.get(s, fi)] {
                    assert!((got.in_phase - want.in_phase).abs() < 1e-12);
                    assert!((got.quadrature - want.quadrature).abs() < 1e-12);
                }
                assert_eq!(a.in_phase(fi)[s], a.get(s, fi).in_phase);
            }
        }
    }
    let r = Readout::new(n, dt, &freqs).unwrap();
    assert!(r
        .batch(&time_major[1..], ns, Layout::TimeMajor, t0)
        .is_err());
}

#[test]
fn uneven_steps_resampled() {
    // Uneven steps (as accepted by an integrator), 1 kHz + 3 kHz, ~64..128 steps per period.
    let tones = [(1e3, 1.0, 30.0), (3e3, 0.2, -70.0)];
    let mut t = vec![0.0];
    let mut rng = Rng(77);
    while *t.last().unwrap() < 5e-3 {
        let h = 1e-3 / rng.range(64.0, 128.0) * 1.0;
        t.push(t.last().unwrap() + h);
    }
    let x: Vec<f64> = t.iter().map(|&t| signal(&tones, 0.5, t)).collect();
    let c = read_waveform(
        &t,
        &x,
        &[1e3, 3e3],
        &CoherentOptions::default(),
        Some(1024),
        Interp::Cubic,
    )
    .unwrap();
    // Cubic spline, largest step 1/64 period of 1 kHz (1/21 of 3 kHz): documented O((2πfh)^4).
    check(&c[0], 1.0, 30.0, 1e-7, 1e-5);
    check(&c[1], 0.2, -70.0, 2e-5, 1e-3);
    let c = read_waveform(
        &t,
        &x,
        &[1e3, 3e3],
        &CoherentOptions::default(),
        Some(1024),
        Interp::Linear,
    )
    .unwrap();
    // Linear: amplitude loss ≲ (2πfh)²/12 ≈ 8e-4 at 1 kHz; documented bound (2πfh)²/8.
    let h = 1e-3 / 64.0;
    let bound = (2.0 * PI * 1e3 * h).powi(2) / 8.0;
    check(&c[0], 1.0, 30.0, bound, 0.1);
    // Resampling itself: grid outside the data is an error naming the range.
    let e = resample_uniform(&t, &x, -1.0, 1e-5, 10, Interp::Linear).unwrap_err();
    assert!(e.to_string().contains("does not cover"), "{e}");
}

#[test]
fn windowed_within_bound() {
    // Non-commensurate tones read with each window; the actual error must lie within the
    // computed bound, and the bound must be reasonably tight (within 30×... of the real one
    // for at least one tone) and below the documented table for the separations used.
    let n = 4096;
    let dt = 1e-6; // 4.096 ms window: bin = 244.14 Hz
    let tones = [
        (10_123.4, 1.0, 20.0),
        (17_777.7, 0.3, -110.0),
        (61_234.5, 0.05, 75.0),
    ];
    let dc = 0.4;
    let t0 = 0.01;
    let x: Vec<f64> = (0..n)
        .map(|i| signal(&tones, dc, t0 + i as f64 * dt))
        .collect();
    let freqs: Vec<f64> = tones.iter().map(|t| t.0).collect();
    for win in [Window::Hann, Window::BlackmanHarris, Window::FlatTop] {
        let c = windowed(&x, dt, t0, &freqs, win).unwrap();
        for (j, &(f, a, p)) in tones.iter().enumerate() {
            let truth = Coefficient::from_polar(f, a, p);
            let err = (c[j].in_phase - truth.in_phase).hypot(c[j].quadrature - truth.quadrature);
            let others: Vec<(f64, f64)> = std::iter::once((0.0, dc))
                .chain(
                    tones
                        .iter()
                        .enumerate()
                        .filter(|(k, _)| *k != j)
                        .map(|(_, t)| (t.0, t.1)),
                )
                .collect();
            let bound = windowed_error_bound(win, n, dt, f, a, &others);
            assert!(
                err <= bound,
                "{win:?} f = {f}: error {err:e} > bound {bound:e}"
            );
            // The separations here are ≥ 30 bins: the table gives ≤ 2.2e-5 for every window
            // per unit of interfering amplitude (sum of amplitudes ≤ 1.75 incl. images).
            assert!(
                bound < 1.75 * 2.2e-5 * 2.0 + 1e-12 || win == Window::Hann,
                "{win:?} {bound:e}"
            );
            println!("{win:?} f = {f}: error {err:.2e}, bound {bound:.2e}");
        }
    }
    // The windowed reading of a coherent tone is exact up to leakage of the image only.
    let c = windowed(&x, dt, t0, &[0.0], Window::BlackmanHarris).unwrap();
    assert!((c[0].in_phase - dc).abs() < 1e-5);
}

#[test]
fn harmonic_and_intermodulation_table() {
    let n = 8192;
    let (f1, f2) = (1e3, 1.1e3); // common period 10 ms
    let dt = 10e-3 / n as f64;
    let t0 = 0.2;
    let comps = [
        (f1, 1.0, 10.0),
        (f2, 0.5, -20.0),
        (2.0 * f1, 0.01, 45.0),   // −40 dBc
        (3.0 * f1, 0.001, 100.0), // −60 dBc
        (f2 - f1, 0.003, 0.0),    // −f1 + f2 = 100 Hz
        (2.0 * f1 + f2, 0.0005, -30.0),
    ];
    let mut rng = Rng(5);
    let noise = 1e-6;
    let x: Vec<f64> = (0..n)
        .map(|i| signal(&comps, 0.1, t0 + i as f64 * dt) + noise * rng.range(-1.0, 1.0))
        .collect();
    let tab = harmonics(&x, dt, t0, f1, Some(f2), 3).unwrap();
    assert!((tab.dc - 0.1).abs() < 1e-7);
    check(&tab.fundamental, 1.0, 10.0, 1e-6, 1e-4);
    let h2 = tab.get(2, 0).unwrap();
    assert!((h2.dbc + 40.0).abs() < 1e-3, "{}", h2.dbc);
    check(&h2.coefficient, 0.01, 45.0, 1e-4, 0.01);
    let im = tab.get(0, 1).unwrap();
    assert_eq!(im.order, 1);
    assert!(tab.get(1, -1).is_none()); // 1 kHz − 1.1 kHz < 0: the line is (−1, 1)
    let low = tab.get(-1, 1).expect("100 Hz product");
    assert!((low.freq - 100.0).abs() < 1e-9 && low.order == 2);
    check(&low.coefficient, 0.003, 0.0, 1e-3, 0.05);
    let p3 = tab.get(2, 1).unwrap();
    check(&p3.coefficient, 0.0005, -30.0, 5e-3, 0.5);
    // THD of f1 = sqrt(0.01² + 0.001²)/1.
    assert!(
        (tab.thd - (0.01f64.powi(2) + 0.001f64.powi(2)).sqrt()).abs() < 1e-6,
        "{}",
        tab.thd
    );
    // Uniform noise of half-width 1e-6: per-bin amplitude ~ 2·σ/√n·√(π/4)… below −120 dBc.
    assert!(
        tab.noise_floor_dbc < -120.0 && tab.noise_floor_dbc > -170.0,
        "{}",
        tab.noise_floor_dbc
    );
    assert!(
        tab.residual_rms < 1.0e-6 && tab.residual_rms > 1e-7,
        "{}",
        tab.residual_rms
    );
}

//! Harmonics and intermodulation products, THD and noise floor of a coherent record.

use std::f64::consts::PI;

use num_complex::Complex;
use rustfft::FftPlanner;

use crate::window::Window;
use crate::{frac, Coefficient, SpectrumError};

/// One spectral line `k·f1 + m·f2`.
#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    /// Multiple of `f1` (signed: `f2 − f1` is `k = −1, m = 1`).
    pub k: i32,
    /// Multiple of `f2` (signed; 0 for pure harmonics of `f1`).
    pub m: i32,
    /// Order `k + |m|`.
    pub order: u32,
    /// Frequency `k·f1 + m·f2` in hertz.
    pub freq: f64,
    /// Its coefficient.
    pub coefficient: Coefficient,
    /// Amplitude relative to the fundamental `f1`, in dB (dBc).
    pub dbc: f64,
    /// Other `(k, m)` labels landing on the same frequency (coincident products).
    pub aliases: Vec<(i32, i32)>,
}

/// Result of [`harmonics`].
#[derive(Debug, Clone, PartialEq)]
pub struct HarmonicTable {
    /// DC (the mean).
    pub dc: f64,
    /// The fundamental `f1`.
    pub fundamental: Coefficient,
    /// Every product `k·f1 + m·f2 > 0` of order `|k| + |m|` in 1..=`order` below Nyquist, by
    /// increasing order then frequency (the tones themselves included, with order 1). Each
    /// line is listed once, under the label with `k > 0` or (`k = 0`, `m > 0`) when the
    /// frequency is positive either way; coincident labels go to `aliases`.
    pub products: Vec<Product>,
    /// Total harmonic distortion of `f1`: `sqrt(Σ_{k=2..order} A(k·f1)²) / A(f1)` (ratio,
    /// not percent).
    pub thd: f64,
    /// Median single-sided amplitude of the bins that are neither DC nor a listed product.
    pub noise_floor: f64,
    /// `noise_floor` relative to the fundamental, in dB.
    pub noise_floor_dbc: f64,
    /// RMS of everything that is not DC nor a listed product (sum over those bins).
    pub residual_rms: f64,
}

impl HarmonicTable {
    /// The product `k·f1 + m·f2` (also found under its aliases).
    pub fn get(&self, k: i32, m: i32) -> Option<&Product> {
        self.products
            .iter()
            .find(|p| (p.k == k && p.m == m) || p.aliases.contains(&(k, m)))
    }
}

/// Table of harmonics of `f1` (and with `f2`, the intermodulation products `k·f1 ± m·f2`) up
/// to order `order`, from a coherent record: `samples` uniform with step `dt`, first sample
/// at absolute time `t0`, holding whole cycles of `f1` and `f2`.
pub fn harmonics(
    samples: &[f64],
    dt: f64,
    t0: f64,
    f1: f64,
    f2: Option<f64>,
    order: u32,
) -> Result<HarmonicTable, SpectrumError> {
    let n = samples.len();
    if n < 4 {
        return Err(SpectrumError::Invalid(format!(
            "need at least 4 samples, got {n}"
        )));
    }
    if !(dt > 0.0 && dt.is_finite()) {
        return Err(SpectrumError::Invalid(format!(
            "sample step must be > 0, got {dt}"
        )));
    }
    let window = n as f64 * dt;
    let bin_of = |f: f64| -> Result<i64, SpectrumError> {
        if !(f > 0.0 && f.is_finite()) {
            return Err(SpectrumError::Invalid(format!(
                "tone frequency must be > 0, got {f}"
            )));
        }
        let c = f * window;
        if (c - c.round()).abs() > 1e-9 * c.round().max(1.0) {
            return Err(SpectrumError::NotCoherent {
                freq: f,
                cycles: c,
                window,
            });
        }
        if 2.0 * c.round() >= n as f64 {
            return Err(SpectrumError::AboveNyquist {
                freq: f,
                nyquist: 0.5 / dt,
            });
        }
        Ok(c.round() as i64)
    };
    let b1 = bin_of(f1)?;
    let b2 = f2.map(bin_of).transpose()?;
    let mut buf: Vec<Complex<f64>> = samples.iter().map(|&x| Complex::new(x, 0.0)).collect();
    FftPlanner::new().plan_fft_forward(n).process(&mut buf);
    let coef = |bin: usize, freq: f64| -> Coefficient {
        let z = buf[bin] * (2.0 / n as f64);
        // Window-relative phasor is conj-free: X_rel = 2F/n; rotate to absolute time.
        let rot = Complex::from_polar(1.0, -2.0 * PI * frac(freq * t0));
        let x = z * rot;
        Coefficient {
            freq,
            in_phase: x.re,
            quadrature: x.im,
        }
    };
    let fundamental = coef(b1 as usize, f1);
    let a1 = fundamental.amplitude();
    let dbc = |a: f64| 20.0 * (a / a1).log10();

    let mut products: Vec<Product> = Vec::new();
    let mut taken = vec![false; n / 2 + 1];
    let mmax = if b2.is_some() { order as i32 } else { 0 };
    for ord in 1..=order {
        let mut this: Vec<Product> = Vec::new();
        for k in -(ord as i32)..=ord as i32 {
            let rest = ord as i32 - k.abs();
            let signs: &[i32] = if rest == 0 { &[0] } else { &[-rest, rest] };
            for &m in signs {
                if m.abs() > mmax || (mmax == 0 && k < 0) {
                    continue;
                }
                let bin = k as i64 * b1 + m as i64 * b2.unwrap_or(0);
                // Each line once: k·f1 + m·f2 > 0.
                if bin <= 0 || 2 * bin >= n as i64 {
                    continue;
                }
                let freq = k as f64 * f1 + m as f64 * f2.unwrap_or(0.0);
                let bin = bin as usize;
                if taken[bin] {
                    if let Some(p) = products
                        .iter_mut()
                        .chain(this.iter_mut())
                        .find(|p| ((p.freq / f1) * b1 as f64).round() as usize == bin)
                    {
                        if !(p.aliases.contains(&(k, m)) || (p.k == k && p.m == m)) {
                            p.aliases.push((k, m));
                        }
                    }
                    continue;
                }
                taken[bin] = true;
                let c = coef(bin, freq);
                this.push(Product {
                    k,
                    m,
                    order: ord,
                    freq,
                    coefficient: c,
                    dbc: dbc(c.amplitude()),
                    aliases: Vec::new(),
                });
            }
        }
        this.sort_by(|a, b| a.freq.total_cmp(&b.freq));
        products.extend(this);
    }
    let thd = (2..=order as i64)
        .map(|k| k * b1)
        .filter(|&b| 2 * b < n as i64)
        .map(|b| coef(b as usize, 0.0).amplitude().powi(2))
        .sum::<f64>()
        .sqrt()
        / a1;
    let mut rest: Vec<f64> = (1..n.div_ceil(2))
        .filter(|&b| !taken[b])
        .map(|b| 2.0 * buf[b].norm() / n as f64)
        .collect();
    let residual_rms = (rest.iter().map(|a| a * a / 2.0).sum::<f64>()).sqrt();
    rest.sort_by(f64::total_cmp);
    let noise_floor = if rest.is_empty() {
        0.0
    } else {
        rest[rest.len() / 2]
    };
    Ok(HarmonicTable {
        dc: buf[0].re / n as f64,
        fundamental,
        products,
        thd,
        noise_floor,
        noise_floor_dbc: dbc(noise_floor),
        residual_rms,
    })
}

/// Single-sided amplitude spectrum of uniform `samples` (step `dt`) through `window`,
/// normalized by the window's coherent gain so that a tone on a bin reads its amplitude:
/// returns `(frequencies, amplitudes)` for bins `0..=n/2` (DC reads `|mean|`).
pub fn magnitude_spectrum(
    samples: &[f64],
    dt: f64,
    window: Window,
) -> Result<(Vec<f64>, Vec<f64>), SpectrumError> {
    let n = samples.len();
    if n < 2 || dt.is_nan() || dt <= 0.0 {
        return Err(SpectrumError::Invalid(format!(
            "need at least 2 samples and dt > 0 (got {n} samples, dt = {dt})"
        )));
    }
    let w: Vec<f64> = (0..n).map(|i| window.value(i, n)).collect();
    let sumw: f64 = w.iter().sum();
    let mut buf: Vec<Complex<f64>> = samples
        .iter()
        .zip(&w)
        .map(|(&x, &w)| Complex::new(x * w, 0.0))
        .collect();
    FftPlanner::new().plan_fft_forward(n).process(&mut buf);
    let freqs = (0..=n / 2).map(|k| k as f64 / (n as f64 * dt)).collect();
    let amps = (0..=n / 2)
        .map(|k| {
            if k == 0 {
                buf[0].norm() / sumw
            } else {
                2.0 * buf[k].norm() / sumw
            }
        })
        .collect();
    Ok((freqs, amps))
}

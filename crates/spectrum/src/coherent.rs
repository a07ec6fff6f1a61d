//! Choosing a coherent window: whole periods of every requested frequency.

use crate::SpectrumError;

/// Options of [`coherent_window`].
#[derive(Debug, Clone, PartialEq)]
pub struct CoherentOptions {
    /// Number of common periods in the window; `0` means as many as fit in the data.
    pub periods: usize,
    /// Relative tolerance on each frequency when approximating ratios by fractions
    /// (decimal frequencies such as `1333.333333` are accepted as `4000/3` within it).
    pub rel_tol: f64,
    /// Largest denominator accepted in the frequency ratios `f_i/f_min`, which bounds the
    /// common period to `max_denominator / f_min`.
    pub max_denominator: u64,
}

impl Default for CoherentOptions {
    fn default() -> Self {
        CoherentOptions {
            periods: 1,
            rel_tol: 1e-9,
            max_denominator: 10_000,
        }
    }
}

/// A window holding whole periods of every requested frequency.
#[derive(Debug, Clone, PartialEq)]
pub struct CoherentSpan {
    /// Common base frequency: every requested nonzero frequency is `multiples[i]·base_freq`.
    pub base_freq: f64,
    /// Common period `1/base_freq` in seconds.
    pub period: f64,
    /// Number of common periods in the window.
    pub periods: usize,
    /// Window start (seconds, absolute).
    pub t_start: f64,
    /// Window end (seconds, absolute); the window is `[t_start, t_end)`.
    pub t_end: f64,
    /// Per requested frequency: its multiple of `base_freq` (0 for DC).
    pub multiples: Vec<u64>,
}

impl CoherentSpan {
    /// Window length in seconds.
    pub fn duration(&self) -> f64 {
        self.t_end - self.t_start
    }

    /// Cycles of the i-th requested frequency in the window.
    pub fn cycles(&self, i: usize) -> u64 {
        self.multiples[i] * self.periods as u64
    }

    /// Uniform grid of `n` samples covering `[t_start, t_end)`: returns `(t0, dt)`, the
    /// sample times being `t0 + i·dt` for `i in 0..n`. An integrator asked to land exactly
    /// on these times gives the exact (interpolation-free) readout.
    pub fn grid(&self, n: usize) -> (f64, f64) {
        (self.t_start, self.duration() / n as f64)
    }

    /// Smallest sample count that resolves harmonic `harmonic` (1 = the frequencies
    /// themselves) of every requested frequency below Nyquist, rounded up to a power of two.
    pub fn suggested_samples(&self, harmonic: u64) -> usize {
        let maxc = (0..self.multiples.len())
            .map(|i| self.cycles(i))
            .max()
            .unwrap_or(1)
            .max(1);
        (2 * maxc * harmonic.max(1) + 1).next_power_of_two() as usize
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        let t = a % b;
        a = b;
        b = t;
    }
    a
}

/// Best rational approximation p/q of r > 0 with q ≤ max_den and |r − p/q| ≤ tol·r.
fn rational(r: f64, tol: f64, max_den: u64) -> Option<(u64, u64)> {
    // Continued-fraction convergents.
    let (mut p0, mut q0, mut p1, mut q1) = (0u64, 1u64, 1u64, 0u64);
    let mut x = r;
    for _ in 0..64 {
        let a = x.floor();
        if a > 1e15 {
            break;
        }
        let a = a as u64;
        let p2 = a.checked_mul(p1)?.checked_add(p0)?;
        let q2 = a.checked_mul(q1)?.checked_add(q0)?;
        if q2 > max_den {
            break;
        }
        (p0, q0, p1, q1) = (p1, q1, p2, q2);
        if ((p1 as f64 / q1 as f64) - r).abs() <= tol * r {
            return Some((p1, q1));
        }
        let f = x - a as f64;
        if f < 1e-300 {
            break;
        }
        x = 1.0 / f;
    }
    if q1 > 0 && ((p1 as f64 / q1 as f64) - r).abs() <= tol * r {
        Some((p1, q1))
    } else {
        None
    }
}

/// The common base frequency of `freqs` (zeros ignored) and each one's integer multiple of
/// it, within relative tolerance `rel_tol`, the ratios' denominators bounded by
/// `max_denominator`. The base is the least-squares fit `Σf·n / Σn²` of the multiples.
pub fn common_base(
    freqs: &[f64],
    rel_tol: f64,
    max_denominator: u64,
) -> Result<(f64, Vec<u64>), SpectrumError> {
    for &f in freqs {
        if !f.is_finite() || f < 0.0 {
            return Err(SpectrumError::Invalid(format!(
                "frequency {f} Hz: frequencies must be finite and non-negative"
            )));
        }
    }
    let fref = freqs
        .iter()
        .copied()
        .filter(|&f| f > 0.0)
        .fold(f64::INFINITY, f64::min);
    if !fref.is_finite() {
        return Err(SpectrumError::Invalid(
            "no nonzero frequency: DC alone has no period".into(),
        ));
    }
    let err = || SpectrumError::NoCommonPeriod {
        freqs: freqs.to_vec(),
        rel_tol,
        max_denominator,
    };
    let mut fracs = Vec::with_capacity(freqs.len());
    let mut lcm: u64 = 1;
    for &f in freqs {
        if f == 0.0 {
            fracs.push((0, 1));
            continue;
        }
        let (p, q) = rational(f / fref, rel_tol, max_denominator).ok_or_else(err)?;
        lcm = lcm / gcd(lcm, q) * q;
        if lcm > max_denominator {
            return Err(err());
        }
        fracs.push((p, q));
    }
    let mut mult: Vec<u64> = fracs.iter().map(|&(p, q)| p * (lcm / q)).collect();
    let g = mult.iter().fold(0, |g, &m| gcd(g, m));
    for m in &mut mult {
        *m /= g;
    }
    let (num, den) = freqs
        .iter()
        .zip(&mult)
        .fold((0.0, 0.0), |(a, b), (&f, &m)| {
            (a + f * m as f64, b + (m * m) as f64)
        });
    let base = num / den;
    for (&f, &m) in freqs.iter().zip(&mult) {
        if (f - m as f64 * base).abs() > rel_tol * f {
            return Err(err());
        }
    }
    Ok((base, mult))
}

/// Choose the window holding `opts.periods` whole common periods of `freqs`, ending at
/// `t_last` (the steady state is usually at the end of a run) and starting no earlier than
/// `t_first`.
///
/// Errors: [`SpectrumError::NoCommonPeriod`] when the frequencies are not commensurate
/// within `opts.rel_tol` (use [`crate::windowed`] then), [`SpectrumError::OutOfRange`] when
/// the data are shorter than the window.
pub fn coherent_window(
    freqs: &[f64],
    t_first: f64,
    t_last: f64,
    opts: &CoherentOptions,
) -> Result<CoherentSpan, SpectrumError> {
    if !(t_first.is_finite() && t_last.is_finite() && t_last > t_first) {
        return Err(SpectrumError::Invalid(format!(
            "empty or invalid time span [{t_first}, {t_last}] s"
        )));
    }
    let (base_freq, multiples) = common_base(freqs, opts.rel_tol, opts.max_denominator)?;
    let period = 1.0 / base_freq;
    let avail = t_last - t_first;
    let periods = if opts.periods == 0 {
        // Allow a rounding slack of 1e-9 of a period.
        ((avail / period) + 1e-9).floor() as usize
    } else {
        opts.periods
    };
    let want = periods as f64 * period;
    if periods == 0 || want > avail * (1.0 + 1e-12) + 1e-9 * period {
        return Err(SpectrumError::OutOfRange {
            have_start: t_first,
            have_end: t_last,
            want_start: t_last - want.max(period),
            want_end: t_last,
        });
    }
    Ok(CoherentSpan {
        base_freq,
        period,
        periods,
        t_start: (t_last - want).max(t_first),
        t_end: t_last,
        multiples,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_of_decimals() {
        let (b, m) = common_base(&[1000.0, 1333.3333333333, 0.0], 1e-9, 10_000).unwrap();
        assert!((b - 1000.0 / 3.0).abs() < 1e-6, "{b}");
        assert_eq!(m, vec![3, 4, 0]);
        assert!(common_base(&[1000.0, 1000.0 * 2f64.sqrt()], 1e-9, 10_000).is_err());
        let (b, m) = common_base(&[1e3, 1.5e3], 1e-9, 100).unwrap();
        assert_eq!(m, vec![2, 3]);
        assert!((b - 500.0).abs() < 1e-12);
    }

    #[test]
    fn window_fits() {
        let s = coherent_window(
            &[1e3],
            0.0,
            2.5e-3,
            &CoherentOptions {
                periods: 0,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(s.periods, 2);
        assert!((s.t_start - 0.5e-3).abs() < 1e-15);
        let e = coherent_window(&[1e3], 0.0, 0.5e-3, &CoherentOptions::default());
        assert!(matches!(e, Err(SpectrumError::OutOfRange { .. })));
    }
}

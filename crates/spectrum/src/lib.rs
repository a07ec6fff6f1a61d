//! # spectrum
//!
//! Lock-in style spectral readout for freqprop: from a waveform, the complex coefficient of
//! each requested frequency, exactly (coherent sampling) or with a documented error bound
//! (windowed, for frequencies that cannot be made coherent).
//!
//! ## Conventions
//!
//! A tone of frequency `f` is written
//!
//! ```text
//! x(t) = A·cos(2πft + φ) = I·cos(2πft) − Q·sin(2πft),
//! I = A·cos φ = (2/T)∫ x(t)·cos(2πft) dt        (in_phase)
//! Q = A·sin φ = −(2/T)∫ x(t)·sin(2πft) dt       (quadrature)
//! ```
//!
//! so that `I + jQ = A·e^{jφ}` is the usual phasor, `amplitude = hypot(I, Q)` and
//! `phase_deg = atan2(Q, I)` in degrees. Time `t` is the absolute time of the waveform (not
//! time since the start of the analysis window), so phases read from different windows of
//! the same steady state agree. The DC coefficient (`f = 0`) is the mean: `in_phase = mean`,
//! `quadrature = 0`, amplitude `|mean|`, phase 0° or 180°.
//!
//! ## Methods
//!
//! * **Coherent** ([`Readout`]): the window holds a whole number of periods of every
//!   requested frequency ([`coherent_window`] finds the common period), sampled on a uniform
//!   grid ([`resample_uniform`] for uneven simulator steps, or the integrator lands on the
//!   grid). The rectangle-rule DFT is then exact for every harmonic below Nyquist: errors are
//!   rounding only (measured ≤ 1e-13 relative amplitude, ≤ 1e-11° phase).
//! * **Windowed** ([`windowed`]): Hann, Blackman–Harris or flat-top window, the windowed
//!   spectrum evaluated exactly at the requested frequency (ideal interpolation between FFT
//!   bins, so there is no scalloping loss); the remaining error is leakage from the other
//!   components, bounded by [`windowed_error_bound`].
//!
//! [`Readout::batch`] reads a whole matrix of waveforms (time × signals) in parallel with
//! rayon, without allocating per signal: the learner's hot path. [`harmonics`] tabulates
//! harmonics and intermodulation products `k·f1 ± m·f2`, THD and the noise floor.
//!
//! See `docs/spectrum.md` in the repository for the measured error bounds.
//!
//! ## Example
//!
//! ```
//! use spectrum::{coherent_window, CoherentOptions, Readout};
//!
//! // Two tones, 1 kHz and 1.5 kHz, sampled unevenly up to t = 10 ms.
//! let x = |t: f64| {
//!     0.3 + 1.2 * (2.0 * std::f64::consts::PI * 1e3 * t + 0.5).cos()
//!         + 0.4 * (2.0 * std::f64::consts::PI * 1.5e3 * t - 1.0).cos()
//! };
//! let span = coherent_window(&[1e3, 1.5e3], 0.0, 10e-3, &CoherentOptions::default()).unwrap();
//! assert!((span.period - 2e-3).abs() < 1e-15); // common period of 1 kHz and 1.5 kHz
//!
//! let n = 256;
//! let (t0, dt) = span.grid(n);
//! let samples: Vec<f64> = (0..n).map(|i| x(t0 + i as f64 * dt)).collect();
//! let readout = Readout::new(n, dt, &[0.0, 1e3, 1.5e3]).unwrap();
//! let c = readout.read(&samples, t0).unwrap();
//! assert!((c[0].in_phase - 0.3).abs() < 1e-12);
//! assert!((c[1].amplitude() - 1.2).abs() < 1e-12);
//! assert!((c[1].phase_deg() - 0.5f64.to_degrees()).abs() < 1e-9);
//! assert!((c[2].phase_deg() + 1.0f64.to_degrees()).abs() < 1e-9);
//! ```

mod coherent;
mod harmonics;
mod readout;
mod resample;
mod window;

pub use coherent::{coherent_window, common_base, CoherentOptions, CoherentSpan};
pub use harmonics::{harmonics, magnitude_spectrum, HarmonicTable, Product};
pub use readout::{read_waveform, Batch, Layout, Method, Readout, Scratch};
pub use resample::{resample_uniform, resample_uniform_into, Interp};
pub use window::{windowed, windowed_error_bound, Window};

/// The complex coefficient of one frequency: `x(t) ≈ I·cos(2πft) − Q·sin(2πft)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Coefficient {
    /// Frequency in hertz.
    pub freq: f64,
    /// `I = A·cos φ = (2/T)∫x·cos(2πft)dt` (for DC: the mean).
    pub in_phase: f64,
    /// `Q = A·sin φ = −(2/T)∫x·sin(2πft)dt` (for DC: 0).
    pub quadrature: f64,
}

impl Coefficient {
    /// A coefficient from amplitude and phase (degrees) of `A·cos(2πft + φ)`.
    pub fn from_polar(freq: f64, amplitude: f64, phase_deg: f64) -> Coefficient {
        let p = phase_deg.to_radians();
        Coefficient {
            freq,
            in_phase: amplitude * p.cos(),
            quadrature: amplitude * p.sin(),
        }
    }

    /// Amplitude `A = hypot(I, Q)`.
    pub fn amplitude(&self) -> f64 {
        self.in_phase.hypot(self.quadrature)
    }

    /// Phase `φ` of `A·cos(2πft + φ)` in degrees, in (−180, 180].
    pub fn phase_deg(&self) -> f64 {
        self.phase_rad().to_degrees()
    }

    /// Phase `φ` in radians, in (−π, π].
    pub fn phase_rad(&self) -> f64 {
        self.quadrature.atan2(self.in_phase)
    }

    /// The tone's value at time `t`: `I·cos(2πft) − Q·sin(2πft)`.
    pub fn eval(&self, t: f64) -> f64 {
        let th = 2.0 * std::f64::consts::PI * frac(self.freq * t);
        self.in_phase * th.cos() - self.quadrature * th.sin()
    }

    /// Phase in degrees of the sine-referenced convention `A·sin(2πf(t − t_ref) + P)` used by
    /// ngspice's `fourier` (which takes `t_ref` = start of the analysed period).
    pub fn sine_phase_deg(&self, t_ref: f64) -> f64 {
        let p = self.phase_deg() + 90.0 + 360.0 * frac(self.freq * t_ref);
        wrap_deg(p)
    }
}

/// Errors of the spectral readout. Messages name the offending frequency or argument.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpectrumError {
    /// An argument is out of its domain (empty data, non-positive step, NaN...).
    #[error("{0}")]
    Invalid(String),
    /// A frequency does not fit a whole number of cycles in the window.
    #[error("frequency {freq} Hz is not coherent with the window ({cycles} cycles in {window} s; whole cycles needed): use coherent_window() or the windowed method")]
    NotCoherent {
        /// The frequency.
        freq: f64,
        /// Cycles of it in the window.
        cycles: f64,
        /// Window length in seconds.
        window: f64,
    },
    /// No common period within tolerance.
    #[error("frequencies {freqs:?} Hz have no common period within relative tolerance {rel_tol:e} and denominator {max_denominator}: use the windowed method")]
    NoCommonPeriod {
        /// The frequencies.
        freqs: Vec<f64>,
        /// Relative tolerance used.
        rel_tol: f64,
        /// Largest denominator tried.
        max_denominator: u64,
    },
    /// A frequency at or above the Nyquist frequency of the grid.
    #[error("frequency {freq} Hz is at or above the Nyquist frequency {nyquist} Hz of the sampling grid: use more samples")]
    AboveNyquist {
        /// The frequency.
        freq: f64,
        /// Nyquist frequency of the grid.
        nyquist: f64,
    },
    /// The data do not cover the requested window.
    #[error("the data span [{have_start}, {have_end}] s does not cover the window [{want_start}, {want_end}] s")]
    OutOfRange {
        /// First time of the data.
        have_start: f64,
        /// Last time of the data.
        have_end: f64,
        /// Window start.
        want_start: f64,
        /// Window end.
        want_end: f64,
    },
}

/// Fractional part in [0, 1).
pub(crate) fn frac(x: f64) -> f64 {
    x - x.floor()
}

/// Wrap degrees into (−180, 180].
pub(crate) fn wrap_deg(p: f64) -> f64 {
    let mut r = p % 360.0;
    if r > 180.0 {
        r -= 360.0;
    } else if r <= -180.0 {
        r += 360.0;
    }
    r
}

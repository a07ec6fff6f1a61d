//! The coherent readout: a plan built once for (sample count, step, frequencies), applied to
//! one waveform or to a whole matrix of them in parallel.

use std::f64::consts::PI;
use std::sync::Arc;

use num_complex::Complex;
use rayon::prelude::*;
use rustfft::{Fft, FftPlanner};

use crate::coherent::{coherent_window, CoherentOptions};
use crate::resample::{resample_uniform, Interp};
use crate::{frac, Coefficient, SpectrumError};

/// How a [`Readout`] computes its coefficients. Both give the same numbers to rounding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// Choose: [`Method::Direct`] for few frequencies, [`Method::Fft`] for many (the
    /// crossover measured by `benches/spectrum.rs` is recorded in `docs/spectrum.md`).
    #[default]
    Auto,
    /// Dot products with precomputed cosine/sine tables: O(N) per frequency.
    Direct,
    /// One rustfft FFT of the whole window (O(N log N)), then the requested bins.
    Fft,
}

/// Memory layout of a matrix of waveforms handed to [`Readout::batch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Row-major time × signals: sample `i` of signal `s` is `data[i * n_signals + s]`
    /// (one row per time point, as a simulator produces them).
    TimeMajor,
    /// Signal-major: sample `i` of signal `s` is `data[s * n + i]` (one contiguous waveform
    /// per signal, as in `circuit::Waveforms::data`).
    SignalMajor,
}

/// Coefficients of many signals at the readout's frequencies, stored frequency-major so that
/// [`Batch::in_phase`] is one contiguous vector over signals per frequency.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    n_signals: usize,
    freqs: Vec<f64>,
    in_phase: Vec<f64>,
    quadrature: Vec<f64>,
}

impl Batch {
    /// A zeroed result for `n_signals` signals at `freqs`; reuse it with
    /// [`Readout::batch_into`].
    pub fn new(n_signals: usize, freqs: &[f64]) -> Batch {
        Batch {
            n_signals,
            freqs: freqs.to_vec(),
            in_phase: vec![0.0; n_signals * freqs.len()],
            quadrature: vec![0.0; n_signals * freqs.len()],
        }
    }

    /// Number of signals.
    pub fn n_signals(&self) -> usize {
        self.n_signals
    }

    /// The frequencies, in the readout's order.
    pub fn freqs(&self) -> &[f64] {
        &self.freqs
    }

    /// In-phase parts `I` of all signals at frequency number `freq_index`.
    pub fn in_phase(&self, freq_index: usize) -> &[f64] {
        let n = self.n_signals;
        &self.in_phase[freq_index * n..(freq_index + 1) * n]
    }

    /// Quadrature parts `Q` of all signals at frequency number `freq_index`.
    pub fn quadrature(&self, freq_index: usize) -> &[f64] {
        let n = self.n_signals;
        &self.quadrature[freq_index * n..(freq_index + 1) * n]
    }

    /// The coefficient of signal `signal` at frequency number `freq_index`.
    pub fn get(&self, signal: usize, freq_index: usize) -> Coefficient {
        let k = freq_index * self.n_signals + signal;
        Coefficient {
            freq: self.freqs[freq_index],
            in_phase: self.in_phase[k],
            quadrature: self.quadrature[k],
        }
    }
}

/// Reusable scratch space of a [`Readout`] (FFT buffers); see [`Readout::read_into`].
#[derive(Debug, Clone, Default)]
pub struct Scratch {
    buf: Vec<Complex<f64>>,
    fft: Vec<Complex<f64>>,
}

/// A coherent readout plan for `n` uniform samples `t0 + i·dt` and a fixed list of
/// frequencies, each of which must make a whole number of cycles in the window `n·dt`.
///
/// Built once (cosine/sine tables, or the rustfft plan), then applied to any number of
/// waveforms with [`Readout::read`], [`Readout::read_into`] (no allocation) or
/// [`Readout::batch`] (many signals in parallel).
#[derive(Clone)]
pub struct Readout {
    n: usize,
    dt: f64,
    freqs: Vec<f64>,
    bins: Vec<usize>,
    method: Method,
    /// `cos_t[f * n + i] = cos(2π·bin_f·i/n)`, likewise `sin_t` (Direct only).
    cos_t: Vec<f64>,
    sin_t: Vec<f64>,
    fft: Option<Arc<dyn Fft<f64>>>,
    fft_scratch_len: usize,
}

impl std::fmt::Debug for Readout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Readout")
            .field("n", &self.n)
            .field("dt", &self.dt)
            .field("freqs", &self.freqs)
            .field("bins", &self.bins)
            .field("method", &self.method)
            .finish()
    }
}

/// Tolerance on the cycle count of a frequency in the window (cycles): a mismatch δ leaks
/// about δ/(2k) of the amplitude into the reading, so this keeps coherent errors < 1e-10.
const CYCLE_TOL: f64 = 1e-9;

/// Up to `log2(n)/2` nonzero frequencies the direct method wins: measured at n = 4096,
/// direct 3.3 µs per frequency, FFT 22 µs for any number (see docs/spectrum.md).
fn direct_is_faster(n: usize, n_tones: usize) -> bool {
    let log2n = (n.max(2) as f64).log2();
    (n_tones as f64) <= 0.5 * log2n
}

impl Readout {
    /// A plan with [`Method::Auto`].
    pub fn new(n: usize, dt: f64, freqs: &[f64]) -> Result<Readout, SpectrumError> {
        Readout::with_method(n, dt, freqs, Method::Auto)
    }

    /// A plan with the given method. Errors if `n < 2`, `dt ≤ 0`, a frequency is negative,
    /// not a whole number of cycles in `n·dt` (relative to 1e-9 cycle), or at/above Nyquist.
    pub fn with_method(
        n: usize,
        dt: f64,
        freqs: &[f64],
        method: Method,
    ) -> Result<Readout, SpectrumError> {
        if n < 2 {
            return Err(SpectrumError::Invalid(format!(
                "need at least 2 samples, got {n}"
            )));
        }
        if !(dt > 0.0 && dt.is_finite()) {
            return Err(SpectrumError::Invalid(format!(
                "sample step must be > 0, got {dt}"
            )));
        }
        let window = n as f64 * dt;
        let mut bins = Vec::with_capacity(freqs.len());
        for &f in freqs {
            if !(f >= 0.0 && f.is_finite()) {
                return Err(SpectrumError::Invalid(format!(
                    "frequency {f} Hz: frequencies must be finite and non-negative"
                )));
            }
            let cycles = f * window;
            let k = cycles.round();
            if (cycles - k).abs() > CYCLE_TOL * k.max(1.0) {
                return Err(SpectrumError::NotCoherent {
                    freq: f,
                    cycles,
                    window,
                });
            }
            let k = k as usize;
            if 2 * k >= n {
                return Err(SpectrumError::AboveNyquist {
                    freq: f,
                    nyquist: 0.5 / dt,
                });
            }
            bins.push(k);
        }
        let n_tones = bins.iter().filter(|&&k| k > 0).count();
        let method = match method {
            Method::Auto if direct_is_faster(n, n_tones) => Method::Direct,
            Method::Auto => Method::Fft,
            m => m,
        };
        let mut r = Readout {
            n,
            dt,
            freqs: freqs.to_vec(),
            bins,
            method,
            cos_t: Vec::new(),
            sin_t: Vec::new(),
            fft: None,
            fft_scratch_len: 0,
        };
        match method {
            Method::Direct => {
                // Exact index reduction k·i mod n into one table of cos(2πm/n).
                let base_c: Vec<f64> = (0..n)
                    .map(|m| (2.0 * PI * m as f64 / n as f64).cos())
                    .collect();
                let base_s: Vec<f64> = (0..n)
                    .map(|m| (2.0 * PI * m as f64 / n as f64).sin())
                    .collect();
                r.cos_t = Vec::with_capacity(n * freqs.len());
                r.sin_t = Vec::with_capacity(n * freqs.len());
                for &k in &r.bins {
                    for i in 0..n {
                        let m = (k * i) % n;
                        r.cos_t.push(base_c[m]);
                        r.sin_t.push(base_s[m]);
                    }
                }
            }
            _ => {
                let fft = FftPlanner::new().plan_fft_forward(n);
                r.fft_scratch_len = fft.get_inplace_scratch_len();
                r.fft = Some(fft);
            }
        }
        Ok(r)
    }

    /// Number of samples.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Sample step in seconds.
    pub fn dt(&self) -> f64 {
        self.dt
    }

    /// The frequencies read, in order.
    pub fn freqs(&self) -> &[f64] {
        &self.freqs
    }

    /// Cycles of each frequency in the window (its DFT bin).
    pub fn bins(&self) -> &[usize] {
        &self.bins
    }

    /// The method in use (never [`Method::Auto`]).
    pub fn method(&self) -> Method {
        self.method
    }

    /// Fresh scratch space for [`Readout::read_into`].
    pub fn scratch(&self) -> Scratch {
        if self.method == Method::Fft {
            Scratch {
                buf: vec![Complex::default(); self.n],
                fft: vec![Complex::default(); self.fft_scratch_len],
            }
        } else {
            Scratch::default()
        }
    }

    /// Rotation of frequency `fi` from window-relative to absolute time: `(cos θ, sin θ)`,
    /// `θ = 2π·frac(f·t0)`.
    #[inline]
    fn rotation(&self, fi: usize, t0: f64) -> (f64, f64) {
        let th = 2.0 * PI * frac(self.freqs[fi] * t0);
        (th.cos(), th.sin())
    }

    /// From `C = Σx·cos`, `S = Σx·sin` (window-relative) to absolute `(I, Q)`.
    #[inline]
    fn finish(&self, fi: usize, c: f64, s: f64, rot: (f64, f64)) -> (f64, f64) {
        if self.bins[fi] == 0 {
            return (c / self.n as f64, 0.0);
        }
        let scale = 2.0 / self.n as f64;
        let (ct, st) = rot;
        (scale * (c * ct - s * st), -scale * (s * ct + c * st))
    }

    fn check_len(&self, len: usize) -> Result<(), SpectrumError> {
        if len != self.n {
            return Err(SpectrumError::Invalid(format!(
                "waveform has {len} samples but the readout was planned for {}",
                self.n
            )));
        }
        Ok(())
    }

    /// Read one waveform of `n` samples whose first sample is at absolute time `t0`.
    pub fn read(&self, samples: &[f64], t0: f64) -> Result<Vec<Coefficient>, SpectrumError> {
        let mut out = vec![
            Coefficient {
                freq: 0.0,
                in_phase: 0.0,
                quadrature: 0.0
            };
            self.freqs.len()
        ];
        let mut scratch = self.scratch();
        self.read_into(samples, t0, &mut out, &mut scratch)?;
        Ok(out)
    }

    /// [`Readout::read`] without allocation: `out` has one slot per frequency, `scratch`
    /// comes from [`Readout::scratch`].
    pub fn read_into(
        &self,
        samples: &[f64],
        t0: f64,
        out: &mut [Coefficient],
        scratch: &mut Scratch,
    ) -> Result<(), SpectrumError> {
        self.check_len(samples.len())?;
        if out.len() != self.freqs.len() {
            return Err(SpectrumError::Invalid(format!(
                "output has {} slots for {} frequencies",
                out.len(),
                self.freqs.len()
            )));
        }
        self.read_raw(samples.iter().copied(), samples, scratch, |fi, c, s| {
            let (i, q) = self.finish(fi, c, s, self.rotation(fi, t0));
            out[fi] = Coefficient {
                freq: self.freqs[fi],
                in_phase: i,
                quadrature: q,
            };
        });
        Ok(())
    }

    /// Core: calls `emit(freq_index, Σx·cos, Σx·sin)`. `contiguous` is used by the direct
    /// method when non-empty, else `iter`.
    fn read_raw<I: Iterator<Item = f64>>(
        &self,
        iter: I,
        contiguous: &[f64],
        scratch: &mut Scratch,
        mut emit: impl FnMut(usize, f64, f64),
    ) {
        let n = self.n;
        match self.method {
            Method::Fft => {
                if scratch.buf.len() != n {
                    scratch.buf.resize(n, Complex::default());
                }
                if scratch.fft.len() < self.fft_scratch_len {
                    scratch.fft.resize(self.fft_scratch_len, Complex::default());
                }
                for (b, x) in scratch.buf.iter_mut().zip(iter) {
                    *b = Complex::new(x, 0.0);
                }
                let fft = self.fft.as_ref().expect("fft plan");
                fft.process_with_scratch(&mut scratch.buf, &mut scratch.fft);
                for (fi, &k) in self.bins.iter().enumerate() {
                    let z = scratch.buf[k];
                    emit(fi, z.re, -z.im);
                }
            }
            _ => {
                for fi in 0..self.bins.len() {
                    let ct = &self.cos_t[fi * n..(fi + 1) * n];
                    let st = &self.sin_t[fi * n..(fi + 1) * n];
                    let (c, s) = dot2(contiguous, ct, st);
                    emit(fi, c, s);
                }
            }
        }
    }

    /// Read a matrix of waveforms (`n` samples × `n_signals`, in `layout`), all starting at
    /// absolute time `t0`, in parallel; see [`Readout::batch_into`].
    pub fn batch(
        &self,
        data: &[f64],
        n_signals: usize,
        layout: Layout,
        t0: f64,
    ) -> Result<Batch, SpectrumError> {
        let mut out = Batch::new(n_signals, &self.freqs);
        self.batch_into(data, n_signals, layout, t0, &mut out)?;
        Ok(out)
    }

    /// Read a matrix of waveforms into a reused [`Batch`], in parallel with rayon.
    ///
    /// No allocation per signal: time-major data are read in blocks of 64 adjacent signals
    /// (one pass over memory, accumulators in one per-worker scratch buffer); signal-major
    /// data one signal at a time (per-worker FFT scratch for [`Method::Fft`]).
    pub fn batch_into(
        &self,
        data: &[f64],
        n_signals: usize,
        layout: Layout,
        t0: f64,
        out: &mut Batch,
    ) -> Result<(), SpectrumError> {
        let n = self.n;
        let nf = self.freqs.len();
        if data.len() != n * n_signals {
            return Err(SpectrumError::Invalid(format!(
                "matrix has {} values, expected {} samples × {} signals = {}",
                data.len(),
                n,
                n_signals,
                n * n_signals
            )));
        }
        if out.n_signals != n_signals || out.freqs != self.freqs {
            *out = Batch::new(n_signals, &self.freqs);
        }
        let rots: Vec<(f64, f64)> = (0..nf).map(|fi| self.rotation(fi, t0)).collect();
        let ip = SyncPtr(out.in_phase.as_mut_ptr());
        let qp = SyncPtr(out.quadrature.as_mut_ptr());
        // SAFETY (for every `write` below): each signal index s is handled by exactly one
        // task, which writes only the slots `fi * n_signals + s`, all < nf * n_signals = len.
        let write = |fi: usize, s: usize, c: f64, sn: f64| {
            let (i, q) = self.finish(fi, c, sn, rots[fi]);
            let (ip, qp) = (&ip, &qp);
            unsafe {
                *ip.0.add(fi * n_signals + s) = i;
                *qp.0.add(fi * n_signals + s) = q;
            }
        };
        match (layout, self.method) {
            (Layout::TimeMajor, Method::Direct) => {
                const B: usize = 64;
                let nblocks = n_signals.div_ceil(B);
                (0..nblocks).into_par_iter().for_each_init(
                    || vec![0.0; 2 * nf * B],
                    |acc, b| {
                        let r0 = b * B;
                        let w = B.min(n_signals - r0);
                        acc.iter_mut().for_each(|a| *a = 0.0);
                        let (acc_c, acc_s) = acc.split_at_mut(nf * B);
                        // Four time rows at a time: one accumulator update per 4 rows.
                        let row = |i: usize| &data[i * n_signals + r0..i * n_signals + r0 + w];
                        let mut i = 0;
                        while i + 4 <= n {
                            let (x0, x1, x2, x3) = (row(i), row(i + 1), row(i + 2), row(i + 3));
                            for fi in 0..nf {
                                let ct = &self.cos_t[fi * n + i..fi * n + i + 4];
                                let st = &self.sin_t[fi * n + i..fi * n + i + 4];
                                let ac = &mut acc_c[fi * B..fi * B + w];
                                let as_ = &mut acc_s[fi * B..fi * B + w];
                                for j in 0..w {
                                    let (a, b, c, d) = (x0[j], x1[j], x2[j], x3[j]);
                                    ac[j] += (a * ct[0] + b * ct[1]) + (c * ct[2] + d * ct[3]);
                                    as_[j] += (a * st[0] + b * st[1]) + (c * st[2] + d * st[3]);
                                }
                            }
                            i += 4;
                        }
                        while i < n {
                            let x = row(i);
                            for fi in 0..nf {
                                let c = self.cos_t[fi * n + i];
                                let s = self.sin_t[fi * n + i];
                                let ac = &mut acc_c[fi * B..fi * B + w];
                                let as_ = &mut acc_s[fi * B..fi * B + w];
                                for j in 0..w {
                                    ac[j] += x[j] * c;
                                    as_[j] += x[j] * s;
                                }
                            }
                            i += 1;
                        }
                        for fi in 0..nf {
                            for j in 0..w {
                                write(fi, r0 + j, acc_c[fi * B + j], acc_s[fi * B + j]);
                            }
                        }
                    },
                );
            }
            (Layout::TimeMajor, _) => {
                (0..n_signals)
                    .into_par_iter()
                    .with_min_len(8)
                    .for_each_init(
                        || self.scratch(),
                        |scratch, s| {
                            let it = (0..n).map(|i| data[i * n_signals + s]);
                            self.read_raw(it, &[], scratch, |fi, c, sn| write(fi, s, c, sn));
                        },
                    );
            }
            (Layout::SignalMajor, _) => {
                (0..n_signals)
                    .into_par_iter()
                    .with_min_len(8)
                    .for_each_init(
                        || self.scratch(),
                        |scratch, s| {
                            let x = &data[s * n..(s + 1) * n];
                            self.read_raw(x.iter().copied(), x, scratch, |fi, c, sn| {
                                write(fi, s, c, sn)
                            });
                        },
                    );
            }
        }
        Ok(())
    }
}

struct SyncPtr(*mut f64);
// SAFETY: used only for disjoint writes, see `batch_into`.
unsafe impl Sync for SyncPtr {}
unsafe impl Send for SyncPtr {}

/// `(Σ x·c, Σ x·s)` with four independent accumulators (vectorizes).
#[inline]
fn dot2(x: &[f64], c: &[f64], s: &[f64]) -> (f64, f64) {
    let n = x.len().min(c.len()).min(s.len());
    let (x, c, s) = (&x[..n], &c[..n], &s[..n]);
    let mut ac = [0.0f64; 4];
    let mut as_ = [0.0f64; 4];
    let chunks = n / 4;
    for k in 0..chunks {
        let b = 4 * k;
        for l in 0..4 {
            ac[l] += x[b + l] * c[b + l];
            as_[l] += x[b + l] * s[b + l];
        }
    }
    let mut tc = (ac[0] + ac[1]) + (ac[2] + ac[3]);
    let mut ts = (as_[0] + as_[1]) + (as_[2] + as_[3]);
    for i in 4 * chunks..n {
        tc += x[i] * c[i];
        ts += x[i] * s[i];
    }
    (tc, ts)
}

/// One-call readout of a waveform at uneven times: choose the coherent window ending at the
/// last time point ([`coherent_window`]), resample it onto `n` uniform points (default:
/// [`crate::CoherentSpan::suggested_samples`] for 16 harmonics, at least 1024), and read.
pub fn read_waveform(
    time: &[f64],
    values: &[f64],
    freqs: &[f64],
    opts: &CoherentOptions,
    n: Option<usize>,
    interp: Interp,
) -> Result<Vec<Coefficient>, SpectrumError> {
    if time.is_empty() {
        return Err(SpectrumError::Invalid("empty waveform".into()));
    }
    let nonzero: Vec<f64> = freqs.iter().copied().filter(|&f| f > 0.0).collect();
    let (t0, dt, n) = if nonzero.is_empty() {
        let n = n.unwrap_or(1024);
        (time[0], (time[time.len() - 1] - time[0]) / n as f64, n)
    } else {
        let span = coherent_window(&nonzero, time[0], time[time.len() - 1], opts)?;
        let n = n.unwrap_or_else(|| span.suggested_samples(16).max(1024));
        let (t0, dt) = span.grid(n);
        (t0, dt, n)
    };
    let x = resample_uniform(time, values, t0, dt, n, interp)?;
    Readout::new(n, dt, freqs)?.read(&x, t0)
}

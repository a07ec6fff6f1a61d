//! Transient analysis: variable-step integration with truncation-error control, breakpoints,
//! a polynomial predictor for each Newton start (predict.rs), and streaming output.

use crate::device::Mode;
use crate::integrate::Integrator;
use crate::predict::Predictor;
use crate::sim::Simulator;
use crate::SimError;
use circuit::{Method, Tran, WaveSink};
use std::time::Instant;

/// Which time points are written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OutputGrid {
    /// Every accepted time point (ngspice's default).
    Accepted,
    /// TSTART + k·TSTEP and TSTOP, linearly interpolated from accepted points
    /// (ngspice's `.options interp`).
    Interpolated,
    /// The integrator lands exactly on `t0 + k·dt` (for `t ≥ t0`) and writes only those points:
    /// the uniform grid a spectral readout wants, with no interpolation error.
    Exact {
        /// First grid time.
        t0: f64,
        /// Grid spacing.
        dt: f64,
    },
}

/// Options of a transient run beyond the netlist's `.tran` card.
#[derive(Debug, Clone)]
pub struct TranOptions {
    /// Output points.
    pub output: OutputGrid,
    /// Largest step (overrides the netlist's TMAX when set).
    pub max_step: Option<f64>,
    /// Take every step at this size (breakpoints and grid points still cut it short), with
    /// no truncation-error control and the method's full order from the first step: for
    /// convergence studies and fixed-step protocols.
    pub fixed_step: Option<f64>,
}

impl Default for TranOptions {
    fn default() -> Self {
        TranOptions {
            output: OutputGrid::Accepted,
            max_step: None,
            fixed_step: None,
        }
    }
}

/// Summary of a transient run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TranSummary {
    /// Accepted time points (the initial point excluded).
    pub accepted: usize,
    /// Rejected steps (truncation error or Newton failure).
    pub rejected: usize,
    /// Rejections due to Newton failure.
    pub newton_failures: usize,
    /// Time points that failed at the minimum step and were then solved by gmin stepping.
    pub gmin_rescues: usize,
    /// Time points that failed at the minimum step and gmin stepping, and were then solved by
    /// source stepping (sources moved from their values at the last accepted point).
    pub source_rescues: usize,
    /// Newton iterations.
    pub newton_iterations: usize,
    /// Points written to the sink.
    pub points_written: usize,
    /// How the initial operating point was found (`uic` when skipped).
    pub op_method: String,
    /// Wall time, seconds.
    pub seconds: f64,
}

impl Simulator {
    /// Run a transient analysis, streaming points to `sink` (`begin`, then `push` per point).
    /// The caller owns the sink and calls `finish` itself, so that it can first record a
    /// summary or, on failure, mark the run failed: the points computed before a failure have
    /// been pushed, and the error says when and where it failed.
    pub fn transient<S: WaveSink>(
        &mut self,
        tran: &Tran,
        opts: &TranOptions,
        title: &str,
        sink: &mut S,
    ) -> Result<TranSummary, SimError>
    where
        S::Error: std::fmt::Display,
    {
        let start = Instant::now();
        let tstop = tran.tstop;
        let tstep = tran.tstep;
        if !(tstop > 0.0) || !(tstep > 0.0) || !tstop.is_finite() || !tstep.is_finite() {
            return Err(SimError::Input(format!(
                ".tran needs positive TSTEP and TSTOP, got TSTEP={tstep} TSTOP={tstop}"
            )));
        }
        if tran.tstart < 0.0 || tran.tstart >= tstop {
            return Err(SimError::Input(format!(
                ".tran TSTART={} must lie in [0, TSTOP={tstop})",
                tran.tstart
            )));
        }
        let mut hmax = opts
            .fixed_step
            .or(opts.max_step)
            .unwrap_or_else(|| tran.max_step());
        if !(hmax > 0.0) {
            return Err(SimError::Input(format!(
                "the largest step must be positive, got {hmax}"
            )));
        }
        if let OutputGrid::Exact { dt, .. } = opts.output {
            if !(dt > 0.0) {
                return Err(SimError::Input(
                    "output grid spacing must be positive".into(),
                ));
            }
            hmax = hmax.min(dt);
        }
        let hmin = 1e-11 * hmax;
        let maxord = match self.options.method {
            Method::Euler => 1,
            _ => self.options.maxord.clamp(1, 2),
        };
        let n = self.unknowns();
        let signals = self.output_signals();
        let sig_list: Vec<_> = signals.iter().map(|(s, _)| s.clone()).collect();
        let idx: Vec<usize> = signals.iter().map(|(_, i)| *i).collect();
        sink.begin(title, "Transient Analysis", &sig_list)
            .map_err(|e| SimError::Output {
                message: e.to_string(),
                summary: Box::default(),
            })?;
        let mut values = vec![0.0; idx.len()];
        let mut summary = TranSummary::default();
        let it0 = self.stats.newton_iterations;

        // initial point
        let mut x = vec![0.0; n + 1];
        let mut integ = Integrator {
            method: self.options.method,
            order: 1,
            h: [0.0; 4],
            ag: [0.0; 3],
        };
        let ctx0 = self.ctx(Mode::Tran, 0.0, tstep, tstop, integ);
        if tran.uic {
            self.uic_state(&ctx0, &mut x);
            summary.op_method = "uic".into();
        } else {
            let op = self.dc_solve(true, tstep, tstop)?;
            x.copy_from_slice(&op.x);
            summary.op_method = op.method.to_string();
            self.init_states(&ctx0, &x);
        }
        self.accept_devices();

        // breakpoints: source corners and TSTOP, sorted, deduplicated
        let mut bps = self.device_breakpoints(tstep, tstop);
        bps.push(tstop);
        bps.retain(|&t| t > 0.0 && t <= tstop);
        bps.sort_by(|a, b| a.partial_cmp(b).unwrap());
        bps.dedup_by(|a, b| (*a - *b).abs() <= 1e-12 * tstop.max(1e-300) + hmin);
        let mut bi = 0;

        let mut out = Output::new(opts.output, tran.tstart, tstep, tstop);
        let mut emit =
            |t: f64, xv: &[f64], sink: &mut S, summary: &mut TranSummary| -> Result<(), String> {
                for (v, &i) in values.iter_mut().zip(&idx) {
                    *v = xv[i];
                }
                sink.push(t, &values).map_err(|e| e.to_string())?;
                summary.points_written += 1;
                Ok(())
            };
        // the last accepted solutions, for the predictor (and the last one for output and
        // rescue)
        let mut past = Predictor::new(0.0, &x);
        let mut xnew = x.clone();
        let mut t = 0.0f64;
        // points to write after each step: times and values (n + 1 per point), reused
        let mut pts_t: Vec<f64> = Vec::with_capacity(4);
        let mut pts_x: Vec<f64> = Vec::with_capacity(4 * (n + 1));
        if out.point_at_start() {
            emit(0.0, &x, sink, &mut summary)
                .map_err(|m| self.output_failure(m, &mut summary, it0, start))?;
        }

        let fixed = opts.fixed_step.is_some();
        let mut h = (tstop / 100.0).min(tstep) / 10.0;
        h = h.min(hmax);
        if let Some(&b0) = bps.first() {
            h = h.min(0.1 * b0).max(hmin);
        }
        if fixed {
            h = hmax;
        }
        integ.h = [h; 4];
        // Adaptive runs start at first order, as SPICE does. Fixed-step runs take the full
        // order at once after a DC operating point (the state history, all derivatives zero,
        // is then consistent), but a first backward-Euler step after UIC, whose initial
        // derivatives are not known: an inconsistent trapezoidal or BDF2 start would leave
        // an O(h) error behind.
        let mut order = if fixed && !tran.uic { maxord } else { 1 };
        let mut first = true;
        let mut accepted_since_bp = 0usize;
        // accepted points the predictor may extrapolate from: the solution may jump at a
        // rescued point (a discontinuous source), so extrapolation restarts there
        let mut smooth_since = 0usize;
        let eps = 1e-12 * tstop;

        while t < tstop - eps {
            while bi < bps.len() && bps[bi] <= t + eps {
                bi += 1;
            }
            let next_bp = bps.get(bi).copied().unwrap_or(tstop);
            // land on breakpoints and on the exact output grid
            let mut hit_bp = false;
            let mut htry = h.min(hmax);
            if t + htry >= next_bp - eps {
                htry = next_bp - t;
                hit_bp = true;
            } else if t + 1.5 * htry > next_bp {
                // avoid a sliver before the breakpoint: split the remainder
                htry = 0.5 * (next_bp - t);
            }
            if let Some(tg) = out.next_sync(t, eps) {
                if t + htry >= tg - eps {
                    htry = tg - t;
                    hit_bp = hit_bp && (tg - next_bp).abs() <= eps;
                }
            }
            integ.order = order.min(maxord);
            integ.h[0] = htry;
            integ.update();
            let tn = t + htry;
            let mut ctx = self.ctx(Mode::Tran, tn, tstep, tstop, integ);
            // predictor: the polynomial through the last accepted points, of degree up to
            // predict::MAX_ORDER when they all lie on one side of the last breakpoint and the
            // method is of second order (above 2 only while it amplifies the points' errors
            // little; see predict.rs for why and what it saves), linear otherwise, the last
            // point itself after a rescue
            self.restore_devices();
            let smooth = accepted_since_bp.min(smooth_since);
            let degree = if integ.order >= 2 && smooth >= 2 {
                smooth
            } else {
                usize::from(smooth_since > 0)
            };
            past.predict(degree, tn, &mut xnew);
            let itl = self.options.itl4.max(10);
            let mut rescued = false;
            if let Err(f) = self.newton(&mut ctx, &mut xnew, itl) {
                summary.rejected += 1;
                summary.newton_failures += 1;
                order = 1;
                if htry / 8.0 >= hmin {
                    h = htry / 8.0;
                    continue;
                }
                // step cutting is exhausted: gmin stepping, then source stepping, at this step
                match self.rescue_point(&mut ctx, past.last(), t, itl) {
                    Some((x, how)) => {
                        match how {
                            Rescue::Gmin => summary.gmin_rescues += 1,
                            Rescue::Source => summary.source_rescues += 1,
                        }
                        xnew.copy_from_slice(&x);
                    }
                    None => {
                        self.close_summary(&mut summary, it0, start);
                        return Err(SimError::Timestep {
                            time: t,
                            step: htry,
                            unknown: self.describe_unknown(f.worst),
                            residual: f.residual,
                            reason: f.reason.to_string(),
                            element: self.describe_element(&f),
                            summary: Box::new(summary),
                        });
                    }
                }
                rescued = true;
            }
            // truncation error
            let mut hnew = if fixed {
                hmax
            } else {
                (2.0 * htry).min(self.truncate(&ctx))
            };
            if !fixed && !first && !rescued && hnew < 0.9 * htry && htry > hmin * 1.01 {
                summary.rejected += 1;
                h = hnew.max(hmin);
                if h <= hmin {
                    h = hmin;
                }
                continue;
            }
            // accept
            if !fixed && order == 1 && maxord > 1 && accepted_since_bp >= 1 {
                let mut i2 = integ;
                i2.order = 2;
                let mut c2 = ctx.clone();
                c2.integ = i2;
                let h2 = (2.0 * htry).min(self.truncate(&c2));
                if h2 > 1.05 * htry {
                    order = 2;
                    hnew = h2;
                }
            }
            first = false;
            self.states.rotate();
            self.accept_devices();
            let tprev = t;
            t = if hit_bp { next_bp } else { tn };
            summary.accepted += 1;
            accepted_since_bp += 1;
            smooth_since = if rescued { 0 } else { smooth_since + 1 };
            out.points_between(tprev, past.last(), t, &xnew, eps, &mut pts_t, &mut pts_x);
            for (k, &tp) in pts_t.iter().enumerate() {
                emit(
                    tp,
                    &pts_x[k * (n + 1)..(k + 1) * (n + 1)],
                    sink,
                    &mut summary,
                )
                .map_err(|m| self.output_failure(m, &mut summary, it0, start))?;
            }
            past.push(t, &xnew);
            integ.h = [htry, htry, integ.h[1], integ.h[2]];
            h = hnew.min(hmax);
            if rescued {
                // go on from the step that needed the rescue, at first order, as after a
                // breakpoint
                h = h.max(htry);
                order = 1;
                accepted_since_bp = 0;
            }
            if fixed {
                h = hmax;
                order = maxord;
            } else if hit_bp {
                order = 1;
                accepted_since_bp = 0;
                let after = bps.get(bi + 1).copied().unwrap_or(tstop);
                if t < tstop - eps {
                    h = h.min(0.1 * (after - t).max(0.0)).max(hmin);
                    // ngspice: also limit to a tenth of the step that led here
                    h = h.min(htry.max(hmin * 10.0));
                }
            }
        }
        self.close_summary(&mut summary, it0, start);
        Ok(summary)
    }

    /// Fill in a run's totals (iterations since `it0`, the time since `start`) and add its
    /// steps to the simulator's statistics.
    fn close_summary(&mut self, summary: &mut TranSummary, it0: usize, start: Instant) {
        summary.newton_iterations = self.stats.newton_iterations - it0;
        summary.seconds = start.elapsed().as_secs_f64();
        self.stats.accepted += summary.accepted;
        self.stats.rejected += summary.rejected;
    }

    /// The sink refused a point (a write failed, or it was stopped): the error, with the
    /// work done until then.
    fn output_failure(
        &mut self,
        message: String,
        summary: &mut TranSummary,
        it0: usize,
        start: Instant,
    ) -> SimError {
        self.close_summary(summary, it0, start);
        SimError::Output {
            message,
            summary: Box::new(summary.clone()),
        }
    }
}

/// How a time point that failed at the minimum step was solved.
enum Rescue {
    Gmin,
    Source,
}

impl Simulator {
    /// Gmin stepping, then source stepping, at the time point of `ctx` (its step already the
    /// smallest), each starting from the last accepted point `xprev` at time `tprev`. SPICE
    /// stops at step cutting; these homotopies rescue points where Newton from the previous
    /// solution cannot reach the new one in ITL4 iterations at any step (a discontinuous
    /// source, a junction driven far into reverse).
    fn rescue_point(
        &mut self,
        ctx: &mut crate::device::LoadCtx,
        xprev: &[f64],
        tprev: f64,
        itl: usize,
    ) -> Option<(Vec<f64>, Rescue)> {
        if let Some((x, _)) = self.gmin_stepping(ctx, itl, xprev, false) {
            return Some((x, Rescue::Gmin));
        }
        ctx.ramp_from = Some(tprev);
        let r = self.source_stepping(ctx, itl, xprev, false);
        ctx.ramp_from = None;
        ctx.src_scale = 1.0;
        r.ok().map(|(x, _)| (x, Rescue::Source))
    }
}

/// Decides which points are written.
struct Output {
    grid: OutputGrid,
    tstart: f64,
    tstep: f64,
    tstop: f64,
    /// Next grid index to write (Interpolated / Exact).
    k: u64,
}

impl Output {
    fn new(grid: OutputGrid, tstart: f64, tstep: f64, tstop: f64) -> Output {
        Output {
            grid,
            tstart,
            tstep,
            tstop,
            k: 0,
        }
    }

    fn grid_time(&self, k: u64) -> f64 {
        match self.grid {
            OutputGrid::Exact { t0, dt } => t0 + k as f64 * dt,
            _ => (self.tstart + k as f64 * self.tstep).min(self.tstop),
        }
    }

    /// Whether the initial point (t = 0) is written.
    fn point_at_start(&mut self) -> bool {
        match self.grid {
            OutputGrid::Accepted => self.tstart <= 0.0,
            _ => {
                if self.grid_time(0) <= 0.0 {
                    self.k = 1;
                    true
                } else {
                    false
                }
            }
        }
    }

    /// For an exact grid: the next grid time after `t`.
    fn next_sync(&self, t: f64, eps: f64) -> Option<f64> {
        match self.grid {
            OutputGrid::Exact { .. } => {
                let mut k = self.k;
                loop {
                    let tg = self.grid_time(k);
                    if tg > self.tstop + eps {
                        return None;
                    }
                    if tg > t + eps {
                        return Some(tg);
                    }
                    k += 1;
                }
            }
            _ => None,
        }
    }

    /// Points to write for the accepted step from `(t0, x0)` to `(t1, x1)`: their times into
    /// `ts` and their values, `x1.len()` per point, into `xs` (both cleared first; their
    /// capacity is kept, so that steady stepping does not allocate).
    #[allow(clippy::too_many_arguments)]
    fn points_between(
        &mut self,
        t0: f64,
        x0: &[f64],
        t1: f64,
        x1: &[f64],
        eps: f64,
        ts: &mut Vec<f64>,
        xs: &mut Vec<f64>,
    ) {
        ts.clear();
        xs.clear();
        let lerp = |tg: f64, xs: &mut Vec<f64>| {
            let w = if t1 > t0 {
                ((tg - t0) / (t1 - t0)).clamp(0.0, 1.0)
            } else {
                1.0
            };
            xs.extend(x0.iter().zip(x1).map(|(&a, &b)| a + w * (b - a)));
        };
        match self.grid {
            OutputGrid::Accepted => {
                if t1 >= self.tstart - eps {
                    ts.push(t1);
                    xs.extend_from_slice(x1);
                }
            }
            OutputGrid::Interpolated => loop {
                let tg = self.grid_time(self.k);
                if tg > t1 + eps || self.k > 0 && self.grid_time(self.k - 1) >= self.tstop {
                    break;
                }
                ts.push(tg);
                lerp(tg, xs);
                self.k += 1;
            },
            OutputGrid::Exact { .. } => loop {
                let tg = self.grid_time(self.k);
                if tg > t1 + eps || tg > self.tstop + eps {
                    break;
                }
                if (tg - t1).abs() <= eps {
                    ts.push(tg);
                    xs.extend_from_slice(x1);
                } else if tg < t1 {
                    // only possible for grid points before the first step: interpolate
                    ts.push(tg);
                    lerp(tg, xs);
                }
                self.k += 1;
            },
        }
    }
}

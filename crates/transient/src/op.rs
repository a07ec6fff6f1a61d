//! DC operating point: Newton with junction limiting, then gmin stepping, then source
//! stepping.

use crate::device::Mode;
use crate::integrate::Integrator;
use crate::sim::{NewtonFailure, Simulator};
use crate::SimError;

/// A DC solution.
#[derive(Debug, Clone)]
pub struct OperatingPoint {
    /// Solution vector indexed by unknown (index 0 is ground, always 0).
    pub x: Vec<f64>,
    /// How it was found: `newton`, `gmin stepping` or `source stepping`.
    pub method: &'static str,
    /// Newton iterations spent.
    pub iterations: usize,
}

impl Simulator {
    /// The DC operating point of a standalone `.op` (sources at their DC values).
    pub fn operating_point(&mut self) -> Result<OperatingPoint, SimError> {
        self.dc_solve(false, 0.0, 0.0)
    }

    /// DC solve. `tran_op`: initial point of a transient (sources at t = 0, `.ic` clamps).
    pub(crate) fn dc_solve(
        &mut self,
        tran_op: bool,
        tstep: f64,
        tstop: f64,
    ) -> Result<OperatingPoint, SimError> {
        let n = self.unknowns();
        let mut ctx = self.ctx(Mode::Dc, 0.0, tstep, tstop, Integrator::default());
        ctx.tran_op = tran_op;
        let itl = self.options.itl1.max(10);
        let mut total = 0;
        self.gshunt = 0.0;

        // 1. plain Newton from zero with junctions at their critical voltage
        let mut x = vec![0.0; n + 1];
        ctx.init_junctions = true;
        match self.newton(&mut ctx, &mut x, itl) {
            Ok(it) => {
                return Ok(OperatingPoint {
                    x,
                    method: "newton",
                    iterations: it,
                })
            }
            Err(_) => total += itl,
        }

        // 2. gmin stepping
        let zero = vec![0.0; n + 1];
        if let Some((x, it)) = self.gmin_stepping(&mut ctx, itl, &zero, true) {
            return Ok(OperatingPoint {
                x,
                method: "gmin stepping",
                iterations: total + it,
            });
        }
        total += itl;

        // 3. source stepping
        match self.source_stepping(&mut ctx, itl, &zero, true) {
            Ok((x, it)) => Ok(OperatingPoint {
                x,
                method: "source stepping",
                iterations: total + it,
            }),
            Err(f) => Err(SimError::OperatingPoint {
                unknown: self.describe_unknown(f.worst),
                residual: f.residual,
                reason: f.reason.to_string(),
                element: self.describe_element(&f),
            }),
        }
    }

    /// Gmin stepping: Newton with a conductance `g` from every node to ground, from
    /// `g` = 10 mS down to `.options gmin` in steps that shrink after a failure, each solve
    /// starting from the last, then once more without the shunt. Starts from `start`, with
    /// junctions at their critical voltage when `init_junctions` (a DC solve from nothing).
    pub(crate) fn gmin_stepping(
        &mut self,
        ctx: &mut crate::device::LoadCtx,
        itl: usize,
        start: &[f64],
        init_junctions: bool,
    ) -> Option<(Vec<f64>, usize)> {
        let mut x = start.to_vec();
        let mut good = x.clone();
        let mut g = 1e-2;
        let mut factor = 10.0f64;
        let mut iters = 0;
        let mut have_good = false;
        let target = self.options.gmin.max(1e-15);
        loop {
            self.gshunt = g;
            x.copy_from_slice(&good);
            ctx.init_junctions = init_junctions && !have_good;
            self.restore_devices();
            match self.newton(ctx, &mut x, itl) {
                Ok(it) => {
                    iters += it;
                    good.copy_from_slice(&x);
                    have_good = true;
                    self.accept_devices();
                    if g <= target {
                        break;
                    }
                    g = (g / factor).max(target * 0.999);
                }
                Err(_) => {
                    if !have_good {
                        self.gshunt = 0.0;
                        return None;
                    }
                    g *= factor;
                    factor = factor.sqrt();
                    if factor < 1.0001 {
                        self.gshunt = 0.0;
                        return None;
                    }
                    g /= factor;
                }
            }
        }
        self.gshunt = 0.0;
        x.copy_from_slice(&good);
        self.restore_devices();
        match self.newton(ctx, &mut x, itl) {
            Ok(it) => Some((x, iters + it)),
            Err(_) => None,
        }
    }

    /// Source stepping: Newton with the sources scaled from 0 to 1 (in a transient, moved
    /// from their values at `ctx.ramp_from` to those at `ctx.time`), the scale step doubling
    /// after each success and quartering after each failure, each solve starting from the
    /// last. Starts from `start` (see [`Simulator::gmin_stepping`]).
    pub(crate) fn source_stepping(
        &mut self,
        ctx: &mut crate::device::LoadCtx,
        itl: usize,
        start: &[f64],
        init_junctions: bool,
    ) -> Result<(Vec<f64>, usize), NewtonFailure> {
        let mut x = start.to_vec();
        let mut good = x.clone();
        let mut scale = 0.0f64;
        let mut step = 0.01f64;
        let mut iters = 0;
        // at scale 0 (DC: all sources off, zero is the solution) converge junction states
        ctx.src_scale = 0.0;
        ctx.init_junctions = init_junctions;
        self.restore_devices();
        let first = self.newton(ctx, &mut x, itl);
        if let Ok(it) = first {
            iters += it;
            good.copy_from_slice(&x);
            self.accept_devices();
        }
        loop {
            let next = (scale + step).min(1.0);
            ctx.src_scale = next;
            x.copy_from_slice(&good);
            self.restore_devices();
            match self.newton(ctx, &mut x, itl) {
                Ok(it) => {
                    iters += it;
                    good.copy_from_slice(&x);
                    self.accept_devices();
                    scale = next;
                    if scale >= 1.0 {
                        ctx.src_scale = 1.0;
                        return Ok((x, iters));
                    }
                    step *= 2.0;
                }
                Err(f) => {
                    step /= 4.0;
                    if step < 1e-7 {
                        ctx.src_scale = 1.0;
                        return Err(f);
                    }
                }
            }
        }
    }
}

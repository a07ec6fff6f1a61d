//! Level-1 SPICE junction diodes (as ngspice 39 evaluates them): exponential forward
//! current, cubic reverse roll-off, optional breakdown, gmin across the junction, optional
//! series resistance on an internal node, depletion and diffusion charge, and `pnjlim`
//! junction limiting of each Newton step.

use super::{bind_g, declare_g, stamp_g, Device, Layout, LoadCtx, Mode, NextUpdate};
use crate::integrate::{StateAlloc, States};
use crate::matrix::{Pattern, PatternBuilder};
use circuit::{DiodeModel, VT_27C};

/// Temperature-resolved parameters of one diode instance (at 27 °C, TNOM = 27 °C).
#[derive(Debug, Clone, Copy)]
pub struct DiodeParams {
    /// Saturation current × area.
    pub is: f64,
    /// N·Vt.
    pub vte: f64,
    /// Critical voltage for limiting.
    pub vcrit: f64,
    /// Series conductance (0: none).
    pub gs: f64,
    /// Zero-bias junction capacitance × area.
    pub cjo: f64,
    /// Junction potential.
    pub vj: f64,
    /// Grading coefficient.
    pub m: f64,
    /// FC·VJ.
    pub depcap: f64,
    /// F1, F2, F3 of the linearised depletion charge above FC·VJ.
    pub f1: f64,
    /// See `f1`.
    pub f2: f64,
    /// See `f1`.
    pub f3: f64,
    /// Transit time.
    pub tt: f64,
    /// Effective breakdown voltage (positive), if any.
    pub bv: Option<f64>,
    /// 1 / (N·Vt), 1 / VJ and VJ·CJO / (1 − M): the evaluation multiplies where the
    /// formulas divide (a division costs several multiplications' time, and the load
    /// evaluates every junction at every Newton iteration).
    inv_vte: f64,
    /// See `inv_vte`.
    inv_vj: f64,
    /// See `inv_vte`.
    qscale: f64,
}

impl DiodeParams {
    /// Resolve a model and an area as ngspice's DIOtemp does at nominal temperature.
    pub fn new(m: &DiodeModel, area: f64, reltol: f64) -> DiodeParams {
        let vt = VT_27C;
        let vte = m.n * vt;
        let is = m.is * area;
        let vcrit = vte * (vte / (std::f64::consts::SQRT_2 * is)).ln();
        let xfc = (1.0 - m.fc).ln();
        let mut vj = m.vj;
        let mut depcap = m.fc * vj;
        if depcap > 1.0 {
            vj = 1.0 / m.fc;
            depcap = m.fc * vj;
        }
        let f1 = vj * (1.0 - ((1.0 - m.m) * xfc).exp()) / (1.0 - m.m);
        let f2 = ((1.0 + m.m) * xfc).exp();
        let f3 = 1.0 - m.fc * (1.0 + m.m);
        let bv = m.bv.map(|bv| {
            // match the reverse breakdown current IBV at BV (ngspice level 1: IBV not scaled by area)
            let cbv = m.ibv;
            if cbv < is * bv / vt {
                bv
            } else {
                let nbv = vte; // breakdown emission coefficient defaults to N
                let tol = reltol * cbv;
                let mut xbv = bv - nbv * (1.0 + cbv / is).ln();
                for _ in 0..25 {
                    xbv = bv - nbv * (cbv / is + 1.0 - xbv / vt).ln();
                    let xcbv = is * (((bv - xbv) / nbv).exp() - 1.0 + xbv / vt);
                    if (xcbv - cbv).abs() <= tol {
                        break;
                    }
                }
                xbv
            }
        });
        let gs = if m.rs > 0.0 { area / m.rs } else { 0.0 };
        DiodeParams {
            is,
            vte,
            vcrit,
            gs,
            cjo: m.cjo * area,
            vj,
            m: m.m,
            depcap,
            f1,
            f2,
            f3,
            tt: m.tt,
            bv,
            inv_vte: 1.0 / vte,
            inv_vj: 1.0 / vj,
            qscale: vj * m.cjo * area / (1.0 - m.m),
        }
    }

    /// Junction current and conductance (without gmin).
    #[inline]
    pub fn current(&self, vd: f64) -> (f64, f64) {
        let vte = self.vte;
        if vd >= -3.0 * vte {
            let evd = (vd * self.inv_vte).exp();
            (self.is * (evd - 1.0), self.is * evd * self.inv_vte)
        } else if self.bv.is_none_or(|bv| vd >= -bv) {
            let inv_vd = 1.0 / vd;
            let arg = 3.0 * vte / std::f64::consts::E * inv_vd;
            let arg = arg * arg * arg;
            (-self.is * (1.0 + arg), self.is * 3.0 * arg * inv_vd)
        } else {
            let bv = self.bv.unwrap();
            let evrev = (-(bv + vd) / vte).exp();
            (-self.is * evrev, self.is * evrev / vte)
        }
    }

    /// Junction charge and capacitance at `vd` given the junction current and conductance.
    #[inline]
    pub fn charge(&self, vd: f64, id: f64, gd: f64) -> (f64, f64) {
        let czero = self.cjo;
        let (qdep, cdep) = if czero == 0.0 {
            (0.0, 0.0)
        } else if vd < self.depcap {
            let arg = 1.0 - vd * self.inv_vj;
            // arg^−m and arg^(1−m); the default grading M = 0.5 by a square root (one
            // operation instead of a logarithm and an exponential; equal to within rounding)
            let (sarg, arg_sarg) = if self.m == 0.5 {
                let sq = arg.sqrt();
                (1.0 / sq, sq)
            } else {
                let sarg = (-self.m * arg.ln()).exp();
                (sarg, arg * sarg)
            };
            (self.qscale * (1.0 - arg_sarg), czero * sarg)
        } else {
            let czof2 = czero / self.f2;
            (
                czero * self.f1
                    + czof2
                        * (self.f3 * (vd - self.depcap)
                            + (self.m / (2.0 * self.vj)) * (vd * vd - self.depcap * self.depcap)),
                czof2 * (self.f3 + self.m * vd / self.vj),
            )
        };
        (self.tt * id + qdep, self.tt * gd + cdep)
    }

    /// Whether the diode stores charge.
    pub fn has_charge(&self) -> bool {
        self.cjo != 0.0 || self.tt != 0.0
    }
}

/// SPICE's `pnjlim`: limit the change of a junction voltage between Newton iterations.
/// Returns the limited voltage and whether it was limited.
#[inline]
pub fn pnjlim(vnew: f64, vold: f64, vt: f64, vcrit: f64) -> (f64, bool) {
    if vnew > vcrit && (vnew - vold).abs() > vt + vt {
        if vold > 0.0 {
            let arg = 1.0 + (vnew - vold) / vt;
            if arg > 0.0 {
                (vold + vt * arg.ln(), true)
            } else {
                (vcrit, true)
            }
        } else {
            (vt * (vnew / vt).ln(), true)
        }
    } else if vnew < 0.0 {
        let arg = if vold > 0.0 {
            -vold - 1.0
        } else {
            2.0 * vold - 1.0
        };
        if vnew < arg {
            (arg, true)
        } else {
            (vnew, false)
        }
    } else {
        (vnew, false)
    }
}

/// All diodes of a circuit.
#[derive(Debug, Default, Clone)]
pub struct Diodes {
    /// Element names.
    pub name: Vec<String>,
    /// Anode (external).
    pub anode: Vec<usize>,
    /// Cathode.
    pub cathode: Vec<usize>,
    /// Anode side of the junction (internal node when RS > 0, else the anode).
    pub anode_int: Vec<usize>,
    /// Resolved parameters.
    pub p: Vec<DiodeParams>,
    /// Junction voltage, current and conductance of the last load (SPICE state0).
    pub vd: Vec<f64>,
    /// See `vd`.
    pub id: Vec<f64>,
    /// See `vd`.
    pub gd: Vec<f64>,
    /// Junction capacitance (depletion and diffusion) of the last transient load: the slope
    /// of the charge there, with which [`Device::settle`] carries the charge to the solution.
    pub cap: Vec<f64>,
    /// Junction voltage at the last accepted time point.
    pub vd_accepted: Vec<f64>,
    slots_j: Vec<[usize; 4]>,
    /// Whether the junction has a grounded terminal: its stamp then writes only the other
    /// terminal's diagonal and right-hand side (see `load`).
    grounded: Vec<bool>,
    slots_s: Vec<[usize; 4]>,
    state: Vec<usize>,
}

impl Diodes {
    /// Add a diode.
    pub fn push(&mut self, name: &str, anode: usize, cathode: usize, p: DiodeParams) {
        self.name.push(name.to_string());
        self.anode.push(anode);
        self.cathode.push(cathode);
        self.p.push(p);
        self.vd.push(0.0);
        self.id.push(0.0);
        self.gd.push(0.0);
        self.cap.push(0.0);
        self.vd_accepted.push(0.0);
    }
}

/// SPICE's junction current test (DIOconvTest) for a move `delvd` of a junction linearised
/// at current `id` and conductance `gd`: the predicted change of the current, `gd·delvd`,
/// over `reltol·max(|id + gd·delvd|, |id|) + abstol` (≤ 1 passes; NaN when not finite).
#[inline]
fn current_test(ctx: &LoadCtx, id: f64, gd: f64, delvd: f64) -> f64 {
    let (change, tol) = current_change(ctx, id, gd, delvd);
    let m = change / tol;
    if m.is_finite() {
        m
    } else {
        f64::NAN
    }
}

/// Whether [`current_test`] passes (its ratio at most 1), by a comparison instead of the
/// division: it runs for every junction at every convergence test. False for non-finite
/// values, as the ratio's NaN fails.
#[inline]
fn current_passes(ctx: &LoadCtx, id: f64, gd: f64, delvd: f64) -> bool {
    let (change, tol) = current_change(ctx, id, gd, delvd);
    change <= tol && tol.is_finite()
}

/// The predicted change of a junction's current for a move `delvd`, `|gd·delvd|` (taken as
/// SPICE takes it, `|ĉ − id|` with `ĉ = id + gd·delvd`), and its tolerance,
/// `reltol·max(|ĉ|, |id|) + abstol`: [`current_test`]'s two sides.
#[inline]
fn current_change(ctx: &LoadCtx, id: f64, gd: f64, delvd: f64) -> (f64, f64) {
    let cdhat = id + gd * delvd;
    let tol = ctx.reltol * cdhat.abs().max(id.abs()) + ctx.abstol;
    ((cdhat - id).abs(), tol)
}

/// A junction's second-order expansion from its last load is trusted for moves of up to this
/// fraction of the voltage over which its curvature changes (N·Vt in forward bias and
/// breakdown, |vd| in reverse, VJ − vd for the depletion charge): the third-order term is
/// then within a few percent of the second.
const TAYLOR_STEP: f64 = 0.05;

impl Diodes {
    /// The slope of junction `k`'s conductance at its last load (`g′`, the DC current's
    /// second derivative; gmin is linear), or `None` when a move of `dv` from there is too far
    /// for a second-order expansion (see [`TAYLOR_STEP`]).
    #[inline]
    fn g_slope(&self, ctx: &LoadCtx, k: usize, dv: f64) -> Option<f64> {
        let p = &self.p[k];
        let vd = self.vd[k];
        let gdj = self.gd[k] - ctx.gmin;
        let (g2, scale) = if vd >= -3.0 * p.vte {
            (gdj * p.inv_vte, p.vte)
        } else if p.bv.is_none_or(|bv| vd >= -bv) {
            // id = −IS·(1 + (3·N·Vt / (e·vd))³): g = 3·IS·arg/vd, g′ = −4·g/vd
            (-4.0 * gdj / vd, -vd)
        } else {
            (-gdj * p.inv_vte, p.vte)
        };
        (dv.abs() <= TAYLOR_STEP * scale).then_some(g2)
    }

    /// SPICE's diode convergence test at `x`: the current the last linearisation predicts
    /// there against the current it was made at, as a multiple of the tolerance (≤ 1 passes;
    /// NaN when either is not finite).
    #[inline]
    fn convergence_margin(&self, ctx: &LoadCtx, x: &[f64], k: usize) -> f64 {
        current_test(ctx, self.id[k], self.gd[k], self.moved(x, k))
    }

    /// How far junction `k`'s voltage at `x` is from its last load's.
    #[inline]
    fn moved(&self, x: &[f64], k: usize) -> f64 {
        (x[self.anode_int[k]] - x[self.cathode[k]]) - self.vd[k]
    }
}

impl Device for Diodes {
    fn alloc(&mut self, layout: &mut Layout) {
        self.anode_int = (0..self.name.len())
            .map(|k| {
                if self.p[k].gs > 0.0 {
                    layout.alloc_internal(&format!("{}#internal", self.name[k]))
                } else {
                    self.anode[k]
                }
            })
            .collect();
    }
    fn alloc_states(&mut self, st: &mut StateAlloc) {
        self.state = (0..self.name.len()).map(|_| st.pair()).collect();
    }
    fn declare(&self, p: &mut PatternBuilder) {
        for k in 0..self.name.len() {
            declare_g(p, self.anode_int[k], self.cathode[k]);
            if self.p[k].gs > 0.0 {
                declare_g(p, self.anode[k], self.anode_int[k]);
            }
        }
    }
    fn bind(&mut self, p: &Pattern) {
        self.grounded = (0..self.name.len())
            .map(|k| self.anode_int[k] == 0 || self.cathode[k] == 0)
            .collect();
        self.slots_j = (0..self.name.len())
            .map(|k| bind_g(p, self.anode_int[k], self.cathode[k]))
            .collect();
        self.slots_s = (0..self.name.len())
            .map(|k| {
                if self.p[k].gs > 0.0 {
                    bind_g(p, self.anode[k], self.anode_int[k])
                } else {
                    [p.nnz; 4]
                }
            })
            .collect();
    }
    fn load_static(&self, a: &mut [f64]) {
        for k in 0..self.name.len() {
            if self.p[k].gs > 0.0 {
                stamp_g(a, &self.slots_s[k], self.p[k].gs);
            }
        }
    }
    fn load(
        &mut self,
        ctx: &LoadCtx,
        x: &[f64],
        st: &mut States,
        a: &mut [f64],
        b: &mut [f64],
    ) -> bool {
        let mut limited = false;
        let tran = ctx.mode == Mode::Tran;
        for k in 0..self.name.len() {
            let p = &self.p[k];
            let (na, nk) = (self.anode_int[k], self.cathode[k]);
            let vd = if ctx.init_junctions {
                limited = true;
                p.vcrit
            } else if !ctx.limit {
                x[na] - x[nk]
            } else {
                let vnew = x[na] - x[nk];
                let vold = self.vd[k];
                let (v, lim) = match p.bv {
                    Some(bv) if vnew < (-bv + 10.0 * p.vte).min(0.0) => {
                        let (vt, lim) = pnjlim(-(vnew + bv), -(vold + bv), p.vte, p.vcrit);
                        (-(vt + bv), lim)
                    }
                    _ => pnjlim(vnew, vold, p.vte, p.vcrit),
                };
                limited |= lim;
                v
            };
            let (idj, gdj) = p.current(vd);
            let mut cd = idj + ctx.gmin * vd;
            let mut gd = gdj + ctx.gmin;
            self.vd[k] = vd;
            self.id[k] = cd;
            self.gd[k] = gd;
            if tran && p.has_charge() {
                let (q, c) = p.charge(vd, idj, gdj);
                let s = self.state[k];
                st.s[0][s] = q;
                self.cap[k] = c;
                let ic = ctx.integ.integrate(st, s);
                gd += ctx.integ.ag0() * c;
                cd += ic;
            }
            let ceq = cd - gd * vd;
            if self.grounded[k] {
                // only the live terminal's entries: the ground row's (b[0] and the discard
                // slot) are never read, and adding to them chained every grounded junction's
                // load on the one before (mesh30: 300 junctions to ground)
                let [pp, _, _, nn] = self.slots_j[k];
                if na != 0 {
                    a[pp] += gd;
                    b[na] -= ceq;
                } else {
                    a[nn] += gd;
                    b[nk] += ceq;
                }
            } else {
                stamp_g(a, &self.slots_j[k], gd);
                b[na] -= ceq;
                b[nk] += ceq;
            }
        }
        limited
    }
    /// The charges were set by the last load, at the junction voltages `vd`. Newton may
    /// accept the point one update past that load (the update that passed its tests): each
    /// charge is carried there along its slope, `q + C·Δv`, and its current integrated again,
    /// so that the states kept for integration and truncation error are those of the
    /// solution to first order (the error, `½·C'·Δv²`, is far below the charge tolerance for
    /// an update within the Newton tolerance). At the loaded point itself `Δv` is zero and
    /// nothing changes.
    fn settle(&self, ctx: &LoadCtx, x: &[f64], st: &mut States) {
        if ctx.mode != Mode::Tran {
            return;
        }
        for k in 0..self.name.len() {
            let dv = self.moved(x, k);
            if dv != 0.0 && self.p[k].has_charge() {
                let s = self.state[k];
                st.s[0][s] += self.cap[k] * dv;
                ctx.integ.integrate(st, s);
            }
        }
    }
    fn converged(&self, ctx: &LoadCtx, x: &[f64]) -> bool {
        (0..self.name.len()).all(|k| current_passes(ctx, self.id[k], self.gd[k], self.moved(x, k)))
    }
    /// Each junction's current and charge at `x` to second order from the last load,
    /// `½·(g′ + ag0·C′)·Δv²` beyond the linearisation (see [`Diodes::g_slope`]).
    fn linearization_remainder(&self, ctx: &LoadCtx, x: &[f64], r: &mut [f64]) -> bool {
        let tran = ctx.mode == Mode::Tran;
        let ag0 = if tran { ctx.integ.ag0() } else { 0.0 };
        for k in 0..self.name.len() {
            let (na, nk) = (self.anode_int[k], self.cathode[k]);
            let dv = self.moved(x, k);
            if dv == 0.0 {
                continue;
            }
            let Some(g2) = self.g_slope(ctx, k, dv) else {
                return false;
            };
            let p = &self.p[k];
            let c2 = if !tran || !p.has_charge() {
                0.0
            } else {
                // the capacitance of the last load is TT·g plus the depletion part
                let vd = self.vd[k];
                let cdep2 = if p.cjo == 0.0 {
                    0.0
                } else if vd < p.depcap {
                    // C = CJO·(1 − vd/VJ)^−M: C′ = C·M / (VJ − vd)
                    let room = p.vj - vd;
                    if !(dv.abs() <= TAYLOR_STEP * room) {
                        return false;
                    }
                    let cdep = self.cap[k] - p.tt * (self.gd[k] - ctx.gmin);
                    cdep * p.m / room
                } else {
                    p.cjo / p.f2 * p.m * p.inv_vj
                };
                p.tt * g2 + cdep2
            };
            let rem = 0.5 * (g2 + ag0 * c2) * dv * dv;
            r[na] -= rem;
            r[nk] += rem;
        }
        true
    }
    /// SPICE's current test ([`Diodes::convergence_margin`]) on the update `step` from `x`,
    /// with the junction's current and conductance at `x` extrapolated from the last load:
    /// `gd + g′·Δv` and `id + (gd + ½·g′·Δv)·Δv`.
    fn converged_past(&self, ctx: &LoadCtx, x: &[f64], step: &NextUpdate) -> bool {
        (0..self.name.len()).all(|k| {
            let (na, nk) = (self.anode_int[k], self.cathode[k]);
            let dv = self.moved(x, k);
            let Some(g2) = self.g_slope(ctx, k, dv) else {
                return false;
            };
            let gd = self.gd[k] + g2 * dv;
            let id = self.id[k] + (self.gd[k] + 0.5 * g2 * dv) * dv;
            current_passes(ctx, id, gd, step.at(na) - step.at(nk))
        })
    }
    fn worst_convergence(&self, ctx: &LoadCtx, x: &[f64]) -> Option<(usize, f64)> {
        (0..self.name.len())
            .map(|k| (k, self.convergence_margin(ctx, x, k)))
            .filter(|&(_, m)| !(m <= 1.0))
            .max_by(|a, b| a.1.total_cmp(&b.1))
    }
    fn nonfinite(&self) -> Option<usize> {
        (0..self.name.len()).find(|&k| !(self.id[k].is_finite() && self.gd[k].is_finite()))
    }
    fn instance_name(&self, k: usize) -> Option<&str> {
        self.name.get(k).map(String::as_str)
    }
    fn accept(&mut self) {
        self.vd_accepted.copy_from_slice(&self.vd);
    }
    fn restore(&mut self) {
        self.vd.copy_from_slice(&self.vd_accepted);
    }
    fn init_states(&mut self, _ctx: &LoadCtx, x: &[f64], st: &mut States) {
        for k in 0..self.name.len() {
            let p = &self.p[k];
            let vd = x[self.anode_int[k]] - x[self.cathode[k]];
            self.vd[k] = vd;
            self.vd_accepted[k] = vd;
            let (idj, gdj) = p.current(vd);
            let s = self.state[k];
            st.s[0][s] = if p.has_charge() {
                p.charge(vd, idj, gdj).0
            } else {
                0.0
            };
            st.s[0][s + 1] = 0.0;
        }
    }
    fn truncate(&self, ctx: &LoadCtx, st: &States) -> f64 {
        let charged = (0..self.name.len()).filter(|&k| self.p[k].has_charge());
        super::truncate_slots(ctx, st, charged.map(|k| self.state[k]))
    }
    fn is_linear(&self) -> bool {
        self.name.is_empty()
    }
    fn len(&self) -> usize {
        self.name.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The comparison the convergence tests use gives the verdict of SPICE's ratio, `≤ 1`,
    /// wherever the ratio is not within rounding of 1, over currents, conductances and moves
    /// of many sizes and both signs; a non-finite value fails both ways.
    #[test]
    fn current_passes_is_the_ratio_at_most_one() {
        let ctx = loaded_junction(None).1;
        let mut seen = [0usize; 2];
        let sizes = [0.0, 1e-15, 1e-12, 1e-9, 1e-6, 1e-3, 1.0];
        for &id in &sizes {
            for &gd in &[1e-12, 1e-6, 1e-3, 0.03, 1.0] {
                for &dv in &[0.0, 1e-9, 3e-7, 1e-6, 1e-5, 1e-3, 0.1] {
                    for (si, sd) in [(1.0, 1.0), (-1.0, 1.0), (1.0, -1.0), (-1.0, -1.0)] {
                        let (id, dv) = (si * id, sd * dv);
                        let m = current_test(&ctx, id, gd, dv);
                        if (m - 1.0).abs() > 1e-12 {
                            assert_eq!(
                                current_passes(&ctx, id, gd, dv),
                                m <= 1.0,
                                "{id} {gd} {dv}"
                            );
                            seen[usize::from(m <= 1.0)] += 1;
                        }
                    }
                }
            }
        }
        assert!(seen[0] > 100 && seen[1] > 100, "{seen:?}");
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(!current_passes(&ctx, bad, 1e-3, 1e-6));
            assert!(!current_passes(&ctx, 1e-3, bad, 1e-6));
            assert!(!current_passes(&ctx, 1e-3, 1e-3, bad));
        }
    }

    /// `settle` carries the charge a load left at the junction voltage `v` to the solution
    /// at `v + δ` along its slope: against a fresh load at `v + δ` the charge and its
    /// integrated current differ by a second-order remainder, a thousandth of what they
    /// moved (without the carry, all of it). At the loaded point itself it changes nothing.
    #[test]
    fn settle_carries_the_charge_to_the_solution() {
        let (d, ctx, history) = loaded_junction(None);
        let (mut a, mut b) = (vec![0.0; 1], vec![0.0; 2]);
        for (v, delta) in [(-2.0, 1e-3), (0.3, 1e-4), (0.62, 2e-5)] {
            let (x0, x1) = ([0.0, v], [0.0, v + delta]);
            let mut carried = history.clone();
            let mut dc = d.clone();
            dc.load(&ctx, &x0, &mut carried, &mut a, &mut b);
            let loaded = carried.s[0][..2].to_vec();
            dc.settle(&ctx, &x0, &mut carried);
            assert_eq!(carried.s[0][..2], loaded[..], "at the loaded point");
            dc.settle(&ctx, &x1, &mut carried);
            let mut fresh = history.clone();
            d.clone().load(&ctx, &x1, &mut fresh, &mut a, &mut b);
            for (i, &before) in loaded.iter().enumerate() {
                let moved = (fresh.s[0][i] - before).abs();
                let left = (fresh.s[0][i] - carried.s[0][i]).abs();
                assert!(moved > 0.0, "v = {v}: state {i} moved");
                assert!(
                    left <= 1e-3 * moved,
                    "v = {v}: state {i}: {left:e} of {moved:e} left"
                );
            }
        }
    }

    /// One diode from node 1 to ground with charge, loaded in a transient step, and its
    /// integration history.
    fn loaded_junction(bv: Option<f64>) -> (Diodes, LoadCtx, States) {
        let model = DiodeModel {
            cjo: 2e-12,
            tt: 1e-9,
            bv,
            ..DiodeModel::default()
        };
        let mut d = Diodes::default();
        d.push("d1", 1, 0, DiodeParams::new(&model, 1.0, 1e-3));
        d.anode_int = vec![1];
        d.slots_j = vec![[0; 4]];
        d.grounded = vec![true];
        d.state = vec![0];
        let mut integ = crate::integrate::Integrator {
            method: circuit::Method::Trap,
            order: 2,
            h: [1e-7; 4],
            ag: [0.0; 3],
        };
        integ.update();
        let ctx = LoadCtx {
            mode: Mode::Tran,
            time: 1e-7,
            tran_op: false,
            src_scale: 1.0,
            ramp_from: None,
            gmin: 1e-12,
            init_junctions: false,
            limit: false,
            tstep: 1e-7,
            tstop: 1e-6,
            integ,
            reltol: 1e-3,
            abstol: 1e-12,
            vntol: 1e-6,
            chgtol: 1e-14,
            trtol: 7.0,
        };
        let mut history = States::new(2);
        history.s[1][0] = 1e-13;
        history.s[1][1] = 2e-6;
        (d, ctx, history)
    }

    /// The residual at `v + δ` taken from the load at `v` plus the remainder is the residual
    /// a load at `v + δ` gives, to within a hundredth of what the linearisation alone misses
    /// (without the remainder, all of it), in every region of the model: reverse (the cubic),
    /// forward below and above FC·VJ, breakdown. A move too far for the expansion is refused.
    #[test]
    fn remainder_gives_the_residual_of_a_load_one_update_further() {
        let residual = |d: &mut Diodes, ctx: &LoadCtx, st: &States, load_at: f64, at: f64| {
            let (mut a, mut b, mut st) = (vec![0.0; 1], vec![0.0; 2], st.clone());
            d.load(ctx, &[0.0, load_at], &mut st, &mut a, &mut b);
            b[1] - a[0] * at
        };
        for (bv, v, delta) in [
            (None, -2.0, 1e-3),
            (None, 0.3, 1e-4),
            (None, 0.62, 2e-5),
            (None, 0.62, -2e-5),
            (Some(5.0), -5.3, 1e-4),
        ] {
            let (mut d, ctx, st) = loaded_junction(bv);
            let (v1, x1) = (v + delta, [0.0, v + delta]);
            let truth = residual(&mut d.clone(), &ctx, &st, v1, v1);
            let lin = residual(&mut d, &ctx, &st, v, v1);
            let mut r = [0.0, lin];
            assert!(d.linearization_remainder(&ctx, &x1, &mut r), "v = {v}");
            let missed = (truth - lin).abs();
            let left = (truth - r[1]).abs();
            assert!(missed > 0.0, "v = {v}: the linearisation missed nothing");
            assert!(
                left <= 1e-2 * missed,
                "v = {v}: {left:e} of {missed:e} left"
            );
            let far = [0.0, v + 0.1];
            assert!(!d.linearization_remainder(&ctx, &far, &mut r), "v = {v}");
        }
    }

    /// The current test extrapolated one update past the load agrees with the test of a fresh
    /// load there: on updates 1% inside the fresh test's bound it passes, 1% outside it fails.
    /// The moves are near the expansion's limit, where the conductance changes by 4-5%: without
    /// its slope the extrapolated test would be off by that much.
    #[test]
    fn extrapolated_test_agrees_with_a_load_one_update_further() {
        for (v, delta) in [(0.55, 1.2e-3), (0.62, -1.2e-3), (0.3, 1.2e-3)] {
            let (mut d, ctx, st) = loaded_junction(None);
            let (mut a, mut b) = (vec![0.0; 1], vec![0.0; 2]);
            let mut fresh = d.clone();
            let x1 = [0.0, v + delta];
            fresh.load(&ctx, &x1, &mut st.clone(), &mut a, &mut b);
            d.load(&ctx, &[0.0, v], &mut st.clone(), &mut a, &mut b);
            // the largest passing update of the fresh test, by bisection
            let passes_fresh = |e: f64| fresh.convergence_margin(&ctx, &[0.0, x1[1] + e], 0) <= 1.0;
            let (mut lo, mut hi) = (0.0, 1.0);
            for _ in 0..200 {
                let mid = 0.5 * (lo + hi);
                if passes_fresh(mid) {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            let one = [1.0];
            let passes_past = |e: f64| {
                let r = [0.0, e];
                let step = NextUpdate::Jacobi {
                    r: &r,
                    a: &one,
                    diag: &[0],
                    margin: 1.0,
                };
                d.converged_past(&ctx, &x1, &step)
                    && d.converged_past(&ctx, &x1, &NextUpdate::Solved(&r))
            };
            assert!(passes_past(0.99 * lo), "v = {v}: bound {lo:e}");
            assert!(!passes_past(1.01 * lo), "v = {v}: bound {lo:e}");
            // while the update to x1 itself fails the test against the load it was made from
            assert!(d.convergence_margin(&ctx, &x1, 0) > 1.0, "v = {v}");
        }
    }

    /// The square-root path for M = 0.5 gives the depletion charge and capacitance of the
    /// general `exp(−M·ln(1 − V/VJ))` to within a few units of rounding, over the reverse
    /// range and up to FC·VJ.
    #[test]
    fn grading_one_half_by_square_root() {
        let m = DiodeModel {
            cjo: 2e-12,
            ..DiodeModel::default()
        };
        let p = DiodeParams::new(&m, 1.0, 1e-3);
        assert_eq!(p.m, 0.5);
        // the same parameters through the general branch: M a hair away from 0.5
        let mut general = p;
        general.m = 0.5 + 1e-15;
        for k in 0..=400 {
            let vd = -20.0 + k as f64 * (20.0 + p.depcap - 1e-9) / 400.0;
            let (q, c) = p.charge(vd, 0.0, 0.0);
            let (qg, cg) = general.charge(vd, 0.0, 0.0);
            assert!(
                (q - qg).abs() <= 1e-12 * qg.abs().max(1e-30),
                "q at {vd}: {q} vs {qg}"
            );
            assert!((c - cg).abs() <= 1e-12 * cg.abs(), "c at {vd}: {c} vs {cg}");
        }
    }
}

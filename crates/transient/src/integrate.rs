//! Numerical integration of charges and fluxes: backward Euler, trapezoidal and BDF2 (Gear),
//! on variable steps, with SPICE's divided-difference estimate of the local truncation error.

use circuit::Method;

/// Hands out state slots. Each integrated quantity takes two: the charge (or flux) and its
/// time derivative (the current, or the voltage for a flux).
#[derive(Debug, Default)]
pub struct StateAlloc {
    n: usize,
}

impl StateAlloc {
    /// Reserve a (quantity, derivative) pair; returns the quantity's slot (derivative at +1).
    pub fn pair(&mut self) -> usize {
        self.n += 2;
        self.n - 2
    }

    /// Number of slots.
    pub fn len(&self) -> usize {
        self.n
    }

    /// True when nothing was reserved.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }
}

/// History of state vectors: `s[0]` is the point being solved, `s[1]` the last accepted
/// point, `s[2]` and `s[3]` the ones before.
#[derive(Debug, Clone)]
pub struct States {
    /// The state vectors, newest first.
    pub s: [Vec<f64>; 4],
    /// Counts changes of the history (`s[1..]`): what is derived from it once per time point
    /// is recomputed when it moves.
    generation: u64,
}

impl States {
    /// `n` zeroed slots in each of the four vectors.
    pub fn new(n: usize) -> States {
        States {
            s: [vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]],
            generation: 0,
        }
    }

    /// Changes whenever the history vectors do ([`States::rotate`], [`States::fill_history`]).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// After accepting a point: the solved vector becomes the last accepted one.
    pub fn rotate(&mut self) {
        self.s.rotate_right(1);
        let (first, rest) = self.s.split_at_mut(1);
        first[0].copy_from_slice(&rest[0]);
        self.generation += 1;
    }

    /// Copy the current vector into every history vector (start of a transient).
    pub fn fill_history(&mut self) {
        let (first, rest) = self.s.split_at_mut(1);
        for v in rest {
            v.copy_from_slice(&first[0]);
        }
        self.generation += 1;
    }
}

/// The integration formula a step takes (see [`Integrator::formula`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Formula {
    Euler,
    Trap,
    Gear,
}

/// Integration formula of the current step: `i = ag0·q + (history)`.
#[derive(Debug, Clone, Copy)]
pub struct Integrator {
    /// Method.
    pub method: Method,
    /// Order in use (1 or 2).
    pub order: usize,
    /// Step sizes, newest first: `h[0]` is the step being taken.
    pub h: [f64; 4],
    /// Coefficients.
    pub ag: [f64; 3],
}

impl Default for Integrator {
    fn default() -> Self {
        Integrator {
            method: Method::Trap,
            order: 1,
            h: [0.0; 4],
            ag: [0.0; 3],
        }
    }
}

impl Integrator {
    /// Recompute the coefficients for the current method, order and steps.
    pub fn update(&mut self) {
        let h = self.h[0];
        self.ag = match self.formula() {
            Formula::Euler => [1.0 / h, -1.0 / h, 0.0],
            Formula::Trap => [2.0 / h, -2.0 / h, 0.0],
            Formula::Gear => {
                let h1 = self.h[1];
                let a0 = (2.0 * h + h1) / (h * (h + h1));
                let a1 = -(h + h1) / (h * h1);
                let a2 = h / (h1 * (h + h1));
                [a0, a1, a2]
            }
        };
    }

    /// The derivative's coefficient on the newest quantity.
    #[inline(always)]
    pub fn ag0(&self) -> f64 {
        self.ag[0]
    }

    /// The companion model of quantities linear in the unknowns (a linear capacitor's charge,
    /// an inductor's flux) for this step, prepared once for all of them: see [`Companion`].
    #[inline]
    pub fn companion(&self) -> Companion {
        let w = match self.formula() {
            Formula::Euler => [self.ag[1], 0.0, 0.0],
            Formula::Trap => [-self.ag[0], -1.0, 0.0],
            Formula::Gear => [self.ag[1], 0.0, self.ag[2]],
        };
        Companion { ag0: self.ag[0], w }
    }

    /// The formula of this step: backward Euler at first order (or with that method), else
    /// the method's second-order formula.
    #[inline(always)]
    fn formula(&self) -> Formula {
        match (self.order, self.method) {
            (1, _) | (_, Method::Euler) => Formula::Euler,
            (_, Method::Trap) => Formula::Trap,
            (_, Method::Gear) => Formula::Gear,
        }
    }

    /// The derivative of the quantity at `slot` by formula `f`, its newest value `q0`, the
    /// accepted history in `s1` (last point) and `s2` (the one before).
    #[inline(always)]
    fn derivative(&self, f: Formula, q0: f64, s1: &[f64], s2: &[f64], slot: usize) -> f64 {
        let ag = &self.ag;
        match f {
            Formula::Euler => ag[0] * q0 + ag[1] * s1[slot],
            Formula::Trap => ag[0] * (q0 - s1[slot]) - s1[slot + 1],
            Formula::Gear => ag[0] * q0 + ag[1] * s1[slot] + ag[2] * s2[slot],
        }
    }

    /// Set the quantities at `slots` (quantity `k` at `slots[k]`) to their values `q(k)` at
    /// the solution and integrate them, their derivatives to `slot + 1`: the states of
    /// quantities stamped by their [`Companion`]. The arithmetic of [`Integrator::integrate`],
    /// with the formula chosen once for the loop rather than once per quantity.
    #[inline]
    pub fn settle_each(&self, st: &mut States, slots: &[usize], q: impl Fn(usize) -> f64) {
        let [s0, s1, s2, _] = &mut st.s;
        let mut each = |f: Formula| {
            for (k, &slot) in slots.iter().enumerate() {
                let q0 = q(k);
                s0[slot] = q0;
                s0[slot + 1] = self.derivative(f, q0, s1, s2, slot);
            }
        };
        // one loop per formula, each with its formula a constant
        match self.formula() {
            Formula::Euler => each(Formula::Euler),
            Formula::Trap => each(Formula::Trap),
            Formula::Gear => each(Formula::Gear),
        }
    }

    /// Integrate the quantity at `slot` (already written to `states.s[0][slot]`): writes the
    /// derivative to `slot + 1` and returns it.
    #[inline(always)]
    pub fn integrate(&self, st: &mut States, slot: usize) -> f64 {
        let [s0, s1, s2, _] = &mut st.s;
        let d = self.derivative(self.formula(), s0[slot], s1, s2, slot);
        s0[slot + 1] = d;
        d
    }

    /// SPICE's truncation error test (CKTterr): the largest next step that keeps the local
    /// error within tolerance, from [`Truncation::min_ratio`] (its root of the method's
    /// order). The root is monotone, so the smallest step of many quantities is the root of
    /// their smallest ratio: taken once per device group, not once per quantity.
    #[inline]
    pub fn step_from_ratio(&self, del: f64) -> f64 {
        match self.effective_order() {
            1 => del,
            2 => del.sqrt(),
            k => del.powf(1.0 / k as f64),
        }
    }

    fn effective_order(&self) -> usize {
        if self.method == Method::Euler {
            1
        } else {
            self.order
        }
    }

    /// SPICE's truncation error test (CKTterr) for this step, prepared once for many
    /// quantities: see [`Truncation::min_ratio`].
    pub fn truncation(&self, reltol: f64, abstol: f64, chgtol: f64, trtol: f64) -> Truncation {
        let order = self.effective_order();
        // The error estimate, factor times the (order+1)-th divided difference of the
        // quantity over its last order+2 values, is linear in those values: its weights are
        // the divided differences of the unit vectors, which depend on the steps only.
        let factor = match (self.method, order) {
            (Method::Gear, 2) => 2.0 / 9.0,
            (Method::Trap, 2) => 1.0 / 12.0,
            _ => 0.5,
        };
        let mut weights = [0.0f64; 4];
        for (k, w) in weights.iter_mut().enumerate().take(order + 2) {
            let mut diff = [0.0f64; 4];
            diff[k] = 1.0;
            let mut deltmp = [0.0f64; 4];
            deltmp[..=order].copy_from_slice(&self.h[..=order]);
            let mut j = order as isize;
            loop {
                for i in 0..=(j as usize) {
                    diff[i] = (diff[i] - diff[i + 1]) / deltmp[i];
                }
                j -= 1;
                if j < 0 {
                    break;
                }
                for i in 0..=(j as usize) {
                    deltmp[i] = deltmp[i + 1] + self.h[i];
                }
            }
            *w = factor * diff[0];
        }
        Truncation {
            weights,
            points: order + 2,
            reltol,
            abstol,
            charge_scale: reltol / self.h[0],
            chgtol,
            trtol,
        }
    }
}

/// The companion model of one step for a quantity `q` linear in the unknowns: its derivative
/// is `ag0·q + history`, the history a fixed combination of the accepted points (`s[1..]`),
/// so that the whole stamp (a conductance `ag0·C`, a current source `history`) is fixed for
/// the time point.
#[derive(Debug, Clone, Copy)]
pub struct Companion {
    /// The derivative's coefficient on the newest quantity.
    pub ag0: f64,
    /// Weights of the last accepted quantity, its derivative, and the quantity before it.
    w: [f64; 3],
}

impl Companion {
    /// The history part of the derivative of the quantity at `slot`.
    #[inline]
    pub fn history(&self, st: &States, slot: usize) -> f64 {
        self.w[0] * st.s[1][slot] + self.w[1] * st.s[1][slot + 1] + self.w[2] * st.s[2][slot]
    }
}

/// SPICE's truncation error test for one step (from [`Integrator::truncation`]).
#[derive(Debug, Clone, Copy)]
pub struct Truncation {
    weights: [f64; 4],
    points: usize,
    reltol: f64,
    abstol: f64,
    /// reltol / h.
    charge_scale: f64,
    chgtol: f64,
    trtol: f64,
}

impl Truncation {
    /// The smallest ratio `trtol · tolerance / error estimate` over the quantities at `slots`
    /// (infinity for none; a NaN ratio is passed over, as `f64::min` would). Its order-th root
    /// ([`Integrator::step_from_ratio`]) is the largest next step that keeps every one's local
    /// error within tolerance. The tolerance is the larger of the derivative's
    /// (`abstol + reltol·|dq/dt|`) and the charge's (`reltol·max(|q|, chgtol)/h`). It runs
    /// over every charge of a circuit at every step: the number of points is a constant of
    /// each loop, and the minimum is kept by a comparison, not by a NaN-aware `min` chained
    /// from one quantity to the next.
    pub fn min_ratio(&self, st: &States, slots: impl IntoIterator<Item = usize>) -> f64 {
        match self.points {
            3 => self.min_ratio_of::<3>(st, slots),
            _ => self.min_ratio_of::<4>(st, slots),
        }
    }

    fn min_ratio_of<const P: usize>(
        &self,
        st: &States,
        slots: impl IntoIterator<Item = usize>,
    ) -> f64 {
        let s = &st.s;
        let mut best = f64::INFINITY;
        for slot in slots {
            let r = self.ratio_of::<P>(s, slot);
            if r < best {
                best = r;
            }
        }
        best
    }

    /// The ratio of the quantity at `slot`, over `P` points (order + 2: 3 or 4).
    #[inline(always)]
    fn ratio_of<const P: usize>(&self, s: &[Vec<f64>; 4], slot: usize) -> f64 {
        debug_assert_eq!(P, self.points);
        // the larger of two values, neither of them NaN for finite states (`f64::max` would
        // also sort out a NaN, at a few instructions more each time)
        let larger = |a: f64, b: f64| if a > b { a } else { b };
        let (q0, d0) = (s[0][slot].abs(), s[0][slot + 1].abs());
        let (q1, d1) = (s[1][slot].abs(), s[1][slot + 1].abs());
        let volttol = self.abstol + self.reltol * larger(d0, d1);
        let chargetol = self.charge_scale * larger(larger(q0, q1), self.chgtol);
        let tol = larger(volttol, chargetol);
        let mut err = 0.0;
        for (w, si) in self.weights[..P].iter().zip(&s[..P]) {
            err += w * si[slot];
        }
        self.trtol * tol / larger(self.abstol, err.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The companion model's split, `ag0·q + history`, is the derivative `integrate` gives,
    /// for every method and order on unequal steps.
    #[test]
    fn companion_completes_the_derivative() {
        let mut st = States::new(2);
        let (q0, q1, d1, q2) = (3.7e-12, 3.1e-12, 2.9e-7, 2.2e-12);
        st.s[0][0] = q0;
        st.s[1][0] = q1;
        st.s[1][1] = d1;
        st.s[2][0] = q2;
        for method in [Method::Euler, Method::Trap, Method::Gear] {
            for order in [1, 2] {
                let mut integ = Integrator {
                    method,
                    order,
                    h: [1.3e-6, 0.7e-6, 2.1e-6, 0.9e-6],
                    ag: [0.0; 3],
                };
                integ.update();
                let d = integ.integrate(&mut st, 0);
                let comp = integ.companion();
                let split = comp.ag0 * q0 + comp.history(&st, 0);
                // the split sums terms about q/h in size, the derivative q'‑sized: rounding
                // of the larger terms bounds the difference
                let scale = integ.ag0().abs() * q0;
                assert!(
                    (split - d).abs() <= 1e-14 * scale,
                    "{method:?} order {order}: {split} against {d}"
                );
                assert!(d.abs() > 1e-3 * scale, "a derivative that tests something");
            }
        }
    }

    /// The weighted error estimate is SPICE's divided difference: exact for a polynomial of
    /// the order it measures, at unequal steps.
    #[test]
    fn truncation_estimate_is_the_divided_difference() {
        let h = [1.3e-6, 0.7e-6, 2.1e-6, 0.9e-6];
        let times = [0.0, -h[0], -h[0] - h[1], -h[0] - h[1] - h[2]];
        for (method, order, factor, coef) in [
            (Method::Trap, 1, 0.5, 3.0e6),
            (Method::Trap, 2, 1.0 / 12.0, 5.0e12),
            (Method::Gear, 2, 2.0 / 9.0, 5.0e12),
            (Method::Euler, 2, 0.5, 3.0e6),
        ] {
            let effective = if method == Method::Euler { 1 } else { order };
            // q(t) = coef·t^(order+1) + lower terms: its (order+1)-th divided difference is coef
            let q = |t: f64| coef * t.powi(effective as i32 + 1) + 7e-3 * t + 1e-9;
            let mut st = States::new(2);
            for (i, &t) in times.iter().enumerate() {
                st.s[i][0] = q(t);
                st.s[i][1] = 0.0;
            }
            let integ = Integrator {
                method,
                order,
                h,
                ag: [0.0; 3],
            };
            let (reltol, abstol, chgtol, trtol) = (1e-3, 1e-12, 1e-14, 7.0);
            let r = integ
                .truncation(reltol, abstol, chgtol, trtol)
                .min_ratio(&st, [0]);
            let tol = abstol.max(reltol * st.s[0][0].abs().max(st.s[1][0].abs()) / h[0]);
            let expected = trtol * tol / (factor * coef);
            assert!(
                (r - expected).abs() <= 1e-9 * expected,
                "{method:?} order {order}: {r} against {expected}"
            );
        }
    }

    /// `min_ratio` over many quantities gives exactly the smallest of their own, at both
    /// orders, for charges and derivatives of mixed signs and sizes (some at zero, where the
    /// tolerance floors decide). A slot never looked at does not count.
    #[test]
    fn min_ratio_is_the_smallest_ratio() {
        let slots = 40;
        let mut st = States::new(2 * slots);
        let mut v = 0.37f64;
        for k in 0..4 {
            for (j, x) in st.s[k].iter_mut().enumerate() {
                // a deterministic spread over twelve decades, both signs, some exact zeros
                v = (v * 3.7 + 0.13).fract();
                *x = if j % 11 == 3 {
                    0.0
                } else {
                    (v - 0.5) * 10f64.powi((j % 12) as i32 - 15)
                };
            }
        }
        for order in [1, 2] {
            let integ = Integrator {
                method: Method::Trap,
                order,
                h: [1.3e-6, 0.7e-6, 2.1e-6, 0.9e-6],
                ag: [0.0; 3],
            };
            let test = integ.truncation(1e-3, 1e-12, 1e-14, 7.0);
            let used: Vec<usize> = (0..slots).filter(|k| k % 3 != 1).map(|k| 2 * k).collect();
            let want = used
                .iter()
                .map(|&s| test.min_ratio(&st, [s]))
                .fold(f64::INFINITY, f64::min);
            assert!(want.is_finite());
            assert_eq!(
                test.min_ratio(&st, used.iter().copied()).to_bits(),
                want.to_bits()
            );
            // the slot holding the smallest ratio, left out, leaves the next smallest
            let worst = *used
                .iter()
                .min_by(|&&a, &&b| {
                    let r = |s: usize| test.min_ratio(&st, [s]);
                    r(a).total_cmp(&r(b))
                })
                .unwrap();
            let rest = used.iter().copied().filter(|&s| s != worst);
            assert!(test.min_ratio(&st, rest) > want);
            assert_eq!(test.min_ratio(&st, []), f64::INFINITY);
        }
    }
}

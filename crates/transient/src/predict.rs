//! The starting point of each time step's Newton iteration: a polynomial through the last
//! accepted solutions, extrapolated to the new time.
//!
//! The first Newton update of a step is about as large as the predictor's error, and SPICE's
//! convergence test cannot accept a step on it; every iteration after it contracts that error
//! by the chord rate, so a better start saves whole iterations. The error of an extrapolation
//! through `p + 1` points is of order `h^(p+1)`: the quadratic that matches the trapezoidal
//! rule's own order leaves an error of the size of the truncation error, which the step
//! control keeps at about `trtol` (7) times the tolerance. A higher degree also amplifies the
//! past solutions' own errors more, most where the steps grow fast (after a breakpoint), so
//! it is used only while that amplification stays small ([`MAX_AMPLIFICATION`]).

/// Most past solutions the predictor extrapolates through: degree [`MAX_ORDER`].
pub const MAX_POINTS: usize = MAX_ORDER + 1;

/// Highest degree of the extrapolating polynomial.
pub const MAX_ORDER: usize = 4;

/// A degree above 2 is used only while the extrapolation amplifies errors of the past
/// solutions (each within the Newton tolerance) at most this much: the sum of the absolute
/// Lagrange weights. Equal steps give 7, 15 and 31 at degrees 2, 3 and 4; steps that double
/// from one to the next, as after a breakpoint, 29 at degree 2 but 269 and 4,589 at 3 and 4,
/// where the quadratic is kept.
pub const MAX_AMPLIFICATION: f64 = 32.0;

/// The last accepted solutions (newest first) and their times.
#[derive(Debug, Clone)]
pub struct Predictor {
    x: Vec<Vec<f64>>,
    t: [f64; MAX_POINTS],
}

impl Predictor {
    /// History holding `x0` at time `t0` only (older points are copies of it).
    pub fn new(t0: f64, x0: &[f64]) -> Predictor {
        Predictor {
            x: vec![x0.to_vec(); MAX_POINTS],
            t: [t0; MAX_POINTS],
        }
    }

    /// Record an accepted solution; the oldest one is dropped (its buffer reused).
    pub fn push(&mut self, t: f64, x: &[f64]) {
        self.x.rotate_right(1);
        self.t.rotate_right(1);
        self.x[0].copy_from_slice(x);
        self.t[0] = t;
    }

    /// The last accepted solution.
    pub fn last(&self) -> &[f64] {
        &self.x[0]
    }

    /// Lagrange weights of the newest `p + 1` points at `tn`:
    /// `w_k = Π_{j≠k} (tn − t_j) / (t_k − t_j)`.
    fn weights(&self, p: usize, tn: f64) -> [f64; MAX_POINTS] {
        let mut w = [1.0f64; MAX_POINTS];
        for (k, wk) in w.iter_mut().enumerate().take(p + 1) {
            for j in (0..=p).filter(|&j| j != k) {
                *wk *= (tn - self.t[j]) / (self.t[k] - self.t[j]);
            }
        }
        w
    }

    /// The polynomial through the newest solutions at time `tn`, into `out`: of degree
    /// `order` at most (and at most [`MAX_ORDER`]), above 2 only while its error
    /// amplification stays within [`MAX_AMPLIFICATION`] (order 0: the last solution). The
    /// points must be at distinct times. Returns the degree used.
    pub fn predict(&self, order: usize, tn: f64, out: &mut [f64]) -> usize {
        let mut p = order.min(MAX_ORDER);
        let mut w = self.weights(p, tn);
        while p > 2 && w[..=p].iter().map(|v| v.abs()).sum::<f64>() > MAX_AMPLIFICATION {
            p -= 1;
            w = self.weights(p, tn);
        }
        for (o, &x0) in out.iter_mut().zip(&self.x[0]) {
            *o = w[0] * x0;
        }
        for (xk, &wk) in self.x[1..=p].iter().zip(&w[1..=p]) {
            for (o, &v) in out.iter_mut().zip(xk) {
                *o += wk * v;
            }
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A polynomial of degree p is reproduced exactly by the extrapolation of order ≥ p, on
    /// unequal steps; of a lower order it is not.
    #[test]
    fn polynomials_up_to_the_order_are_extrapolated_exactly() {
        let f = |t: f64| [1.0, 2.0 - 3.0 * t + 0.5 * t * t * t * t, 1e-3 * t * t * t];
        let times = [0.0, 0.7, 1.1, 2.0, 2.3];
        let mut pr = Predictor::new(times[0], &f(times[0]));
        for &t in &times[1..] {
            pr.push(t, &f(t));
        }
        assert_eq!(pr.last(), &f(2.3));
        let tn = 2.9;
        let want = f(tn);
        let mut got = [0.0; 3];
        pr.predict(4, tn, &mut got);
        for (g, w) in got.iter().zip(&want) {
            assert!(
                (g - w).abs() <= 1e-12 * w.abs().max(1.0),
                "{got:?} vs {want:?}"
            );
        }
        // the cubic component alone is exact from order 3; the quartic one is not
        pr.predict(3, tn, &mut got);
        assert!((got[2] - want[2]).abs() <= 1e-15);
        assert!((got[1] - want[1]).abs() > 1e-3);
        // order 0 is the last point, order 1 the line through the last two
        pr.predict(0, tn, &mut got);
        assert_eq!(got, f(2.3));
        pr.predict(1, tn, &mut got);
        let line = f(2.3)[1] + (f(2.3)[1] - f(2.0)[1]) * (tn - 2.3) / 0.3;
        assert!((got[1] - line).abs() <= 1e-12);
    }

    /// On equal steps the quartic is used; on steps that double from one to the next it would
    /// amplify the past points' errors thousands of times, and the quadratic is used.
    #[test]
    fn the_degree_drops_where_extrapolation_would_amplify_errors() {
        let x = [0.0];
        let mut out = [0.0];
        let mut equal = Predictor::new(-4.0, &x);
        for t in [-3.0, -2.0, -1.0, 0.0] {
            equal.push(t, &x);
        }
        assert_eq!(equal.predict(4, 1.0, &mut out), 4);
        let mut doubling = Predictor::new(-1.875, &x);
        for t in [-1.75, -1.5, -1.0, 0.0] {
            doubling.push(t, &x);
        }
        assert_eq!(doubling.predict(4, 2.0, &mut out), 2);
        // and a lower degree asked for is taken as it is
        assert_eq!(doubling.predict(1, 2.0, &mut out), 1);
    }
}

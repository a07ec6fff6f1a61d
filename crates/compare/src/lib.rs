//! # compare
//!
//! Node-by-node comparison of two transient traces (a *reference*, e.g. from ngspice, and a
//! *candidate*, e.g. from freqprop) that need not share a time grid.
//!
//! ## Method
//!
//! - Signals are matched by [`circuit::canonical_name`]: `v(x)` == `x` == `V(X)`,
//!   `i(v1)` == `v1#branch`. Signals present in only one trace are listed in the report
//!   ([`Report::only_in_reference`], [`Report::only_in_candidate`]), never silently dropped.
//! - The compared window is `[max(from, start_ref, start_cand), min(end_ref, end_cand)]`.
//! - Both traces are taken as piecewise linear. The candidate is interpolated at every
//!   reference time point and the reference at every candidate time point (plus both window
//!   ends); the worst absolute difference over this union grid is reported. Because the
//!   difference of two piecewise-linear functions is piecewise linear with breakpoints on
//!   the union grid, this is the exact maximum of `|ref(t) - cand(t)|` over the window.
//! - The scale of a signal is the reference's peak-to-peak swing over the window, but at
//!   least a floor: [`CompareOptions::voltage_floor`] (default 1 mV) for voltages and
//!   [`CompareOptions::current_floor`] (default 1 µA) for currents. The floor keeps
//!   flat signals (a supply node, a DC bias) from turning rounding noise into huge relative
//!   errors: with the default tolerance 1e-3 a flat voltage passes when it is within 1 µV
//!   (SPICE's default `VNTOL`) and a flat current within 1 nA.
//! - `rel = max_abs / max(swing, floor)`; a signal passes when `rel <= tol` (a NaN anywhere
//!   in the window fails). Rows are sorted worst first. The report passes when every
//!   compared signal passes and, when a node list was given, every listed node was found in
//!   both traces.
//!
//! ```
//! use circuit::{Signal, Waveforms};
//!
//! let mut reference = Waveforms::new("", "", vec![Signal::voltage("out")]);
//! reference.time = vec![0.0, 1.0, 2.0];
//! reference.data = vec![vec![0.0, 1.0, 0.0]];
//! // The candidate peaks later and is sampled elsewhere; it names the node `OUT`.
//! let mut candidate = Waveforms::new("", "", vec![Signal { name: "OUT".into(), ..Signal::voltage("") }]);
//! candidate.time = vec![0.0, 1.5, 2.0];
//! candidate.data = vec![vec![0.0, 1.0, 0.0]];
//!
//! let report = compare::compare(&reference, &candidate, &compare::CompareOptions::default())?;
//! let row = &report.signals[0];
//! assert_eq!((row.max_abs, row.at_time, row.swing), (0.5, 1.5, 1.0));
//! assert!(!report.pass);
//! # Ok::<(), compare::CompareError>(())
//! ```

use std::collections::HashMap;

use circuit::{canonical_name, Quantity, Waveforms};

/// Default relative tolerance.
pub const DEFAULT_TOL: f64 = 1e-3;
/// Default swing floor for voltages, volts.
pub const DEFAULT_VOLTAGE_FLOOR: f64 = 1e-3;
/// Default swing floor for currents, amperes.
pub const DEFAULT_CURRENT_FLOOR: f64 = 1e-6;

/// Options of [`compare`].
#[derive(Debug, Clone, PartialEq)]
pub struct CompareOptions {
    /// Relative tolerance on `max_abs / max(swing, floor)` (default 1e-3).
    pub tol: f64,
    /// Compare only these signals (any spelling [`canonical_name`] understands); `None`
    /// compares every signal of the reference.
    pub nodes: Option<Vec<String>>,
    /// Start of the compared window (default: where both traces have started).
    pub from: Option<f64>,
    /// End of the compared window (default: where the first trace ends).
    pub to: Option<f64>,
    /// Swing floor for voltages (and any non-current quantity), volts.
    pub voltage_floor: f64,
    /// Swing floor for currents, amperes.
    pub current_floor: f64,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            tol: DEFAULT_TOL,
            nodes: None,
            from: None,
            to: None,
            voltage_floor: DEFAULT_VOLTAGE_FLOOR,
            current_floor: DEFAULT_CURRENT_FLOOR,
        }
    }
}

impl CompareOptions {
    /// The swing floor for a quantity.
    pub fn floor(&self, q: Quantity) -> f64 {
        match q {
            Quantity::Current => self.current_floor,
            _ => self.voltage_floor,
        }
    }
}

/// The comparison of one signal.
#[derive(Debug, Clone, PartialEq)]
pub struct SignalReport {
    /// The reference's name of the signal.
    pub name: String,
    /// The candidate's name of the signal.
    pub candidate_name: String,
    /// Quantity (from the reference).
    pub quantity: Quantity,
    /// Worst absolute difference over the window (NaN when a value is NaN).
    pub max_abs: f64,
    /// Time of the worst difference (the earliest one on ties).
    pub at_time: f64,
    /// Reference value at `at_time`.
    pub reference_value: f64,
    /// Candidate value at `at_time`.
    pub candidate_value: f64,
    /// Peak-to-peak swing of the reference over the window.
    pub swing: f64,
    /// `max(swing, floor)`, the denominator of `rel`.
    pub scale: f64,
    /// `max_abs / scale`.
    pub rel: f64,
    /// `rel <= tol`.
    pub pass: bool,
}

/// The result of [`compare`].
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Tolerance used.
    pub tol: f64,
    /// Start of the compared window.
    pub from: f64,
    /// End of the compared window.
    pub to: f64,
    /// One row per compared signal, worst (largest `rel`, NaN first) first.
    pub signals: Vec<SignalReport>,
    /// Signals (reference names) not found in the candidate.
    pub only_in_reference: Vec<String>,
    /// Signals (candidate names) not found in the reference.
    pub only_in_candidate: Vec<String>,
    /// Every compared signal passes (and every requested node exists in both traces).
    pub pass: bool,
}

impl Report {
    /// The worst row, if any.
    pub fn worst(&self) -> Option<&SignalReport> {
        self.signals.first()
    }

    /// Number of failing rows.
    pub fn failures(&self) -> usize {
        self.signals.iter().filter(|s| !s.pass).count()
    }
}

/// Why two traces could not be compared.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CompareError {
    /// A trace has no time points.
    #[error("the {which} trace has no time points")]
    EmptyTrace {
        /// `reference` or `candidate`.
        which: &'static str,
    },
    /// A time axis is not finite and non-decreasing, or a column has the wrong length.
    #[error("the {which} trace: {msg}")]
    BadTrace {
        /// `reference` or `candidate`.
        which: &'static str,
        /// What is wrong, with the index concerned.
        msg: String,
    },
    /// The time windows do not overlap.
    #[error("no common time window: reference covers [{ref_start}, {ref_end}], candidate [{cand_start}, {cand_end}]{}", from_note(*.from, *.to))]
    NoOverlap {
        /// Reference start.
        ref_start: f64,
        /// Reference end.
        ref_end: f64,
        /// Candidate start.
        cand_start: f64,
        /// Candidate end.
        cand_end: f64,
        /// Requested start.
        from: Option<f64>,
        /// Requested end.
        to: Option<f64>,
    },
    /// A requested node is in neither trace.
    #[error("signal `{name}` is in neither trace (reference has: {reference}; candidate has: {candidate})")]
    UnknownSignal {
        /// The requested name.
        name: String,
        /// Reference signal names, comma separated.
        reference: String,
        /// Candidate signal names, comma separated.
        candidate: String,
    },
    /// No signal is in both traces.
    #[error(
        "no signal is in both traces (reference has: {reference}; candidate has: {candidate})"
    )]
    NoCommonSignals {
        /// Reference signal names, comma separated.
        reference: String,
        /// Candidate signal names, comma separated.
        candidate: String,
    },
    /// An option is out of range.
    #[error("invalid option: {0}")]
    BadOption(String),
}

fn from_note(from: Option<f64>, to: Option<f64>) -> String {
    match (from, to) {
        (None, None) => String::new(),
        (f, t) => format!(
            ", requested [{}, {}]",
            f.map_or("start".to_string(), |x| x.to_string()),
            t.map_or("end".to_string(), |x| x.to_string())
        ),
    }
}

fn names(w: &Waveforms) -> String {
    if w.signals.is_empty() {
        return "nothing".into();
    }
    w.signals
        .iter()
        .map(|s| s.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn check_trace(w: &Waveforms, which: &'static str) -> Result<(), CompareError> {
    if w.time.is_empty() {
        return Err(CompareError::EmptyTrace { which });
    }
    if w.data.len() != w.signals.len() {
        return Err(CompareError::BadTrace {
            which,
            msg: format!(
                "{} signals but {} data columns",
                w.signals.len(),
                w.data.len()
            ),
        });
    }
    for (k, col) in w.data.iter().enumerate() {
        if col.len() != w.time.len() {
            return Err(CompareError::BadTrace {
                which,
                msg: format!(
                    "signal `{}` has {} points, the time axis {}",
                    w.signals[k].name,
                    col.len(),
                    w.time.len()
                ),
            });
        }
    }
    for (i, &t) in w.time.iter().enumerate() {
        if !t.is_finite() {
            return Err(CompareError::BadTrace {
                which,
                msg: format!("time point {i} is {t}"),
            });
        }
        if i > 0 && t < w.time[i - 1] {
            return Err(CompareError::BadTrace {
                which,
                msg: format!("time decreases at point {i}: {t} after {}", w.time[i - 1]),
            });
        }
    }
    Ok(())
}

/// Where a time falls on an axis: `value = y[k] + w * (y[k+1] - y[k])`, with `w == 0`
/// (no access to `k+1`) when `t` is a sample time.
#[derive(Debug, Clone, Copy)]
struct Loc {
    k: usize,
    w: f64,
}

impl Loc {
    fn at(axis: &[f64], t: f64) -> Loc {
        // Last index with axis[k] <= t (t lies inside the axis range).
        let k = axis.partition_point(|&x| x <= t).saturating_sub(1);
        Self::finish(axis, k, t)
    }

    fn finish(axis: &[f64], k: usize, t: f64) -> Loc {
        if axis[k] == t || k + 1 >= axis.len() {
            Loc { k, w: 0.0 }
        } else {
            Loc {
                k,
                w: (t - axis[k]) / (axis[k + 1] - axis[k]),
            }
        }
    }

    fn eval(self, y: &[f64]) -> f64 {
        if self.w == 0.0 {
            y[self.k]
        } else {
            y[self.k] + self.w * (y[self.k + 1] - y[self.k])
        }
    }
}

/// For every point of `own` inside `[lo, hi]`: (its index, its location on `other`).
fn locate_all(own: &[f64], other: &[f64], lo: f64, hi: f64) -> Vec<(usize, Loc)> {
    let start = own.partition_point(|&x| x < lo);
    let end = own.partition_point(|&x| x <= hi);
    let mut out = Vec::with_capacity(end.saturating_sub(start));
    let mut k = 0usize;
    for (i, &t) in own.iter().enumerate().take(end).skip(start) {
        while k + 1 < other.len() && other[k + 1] <= t {
            k += 1;
        }
        let right = Loc::finish(other, k, t);
        // A repeated time in `other` is a jump: its left limit is the first sample at `t`.
        let mut kf = k;
        while other[kf] == t && kf > 0 && other[kf - 1] == t {
            kf -= 1;
        }
        if kf == k {
            out.push((i, right));
            continue;
        }
        let left = Loc { k: kf, w: 0.0 };
        // Pair left limits with left limits and right with right when `own` jumps here too;
        // otherwise both limits of `other` are compared with the single value of `own`.
        let own_left = i + 1 < own.len() && own[i + 1] == t;
        let own_right = i > 0 && own[i - 1] == t;
        match (own_left, own_right) {
            (true, false) => out.push((i, left)),
            (false, true) => out.push((i, right)),
            _ => {
                out.push((i, left));
                out.push((i, right));
            }
        }
    }
    out
}

/// Linear interpolation of `(time, y)` at `t` (clamped to the ends).
pub fn interpolate(time: &[f64], y: &[f64], t: f64) -> f64 {
    if time.is_empty() {
        return f64::NAN;
    }
    if t <= time[0] {
        return y[0];
    }
    if t >= time[time.len() - 1] {
        return y[time.len() - 1];
    }
    Loc::at(time, t).eval(y)
}

struct Window {
    lo: f64,
    hi: f64,
}

fn window(
    reference: &Waveforms,
    candidate: &Waveforms,
    opts: &CompareOptions,
) -> Result<Window, CompareError> {
    let (ra, rb) = (reference.time[0], *reference.time.last().unwrap());
    let (ca, cb) = (candidate.time[0], *candidate.time.last().unwrap());
    let lo = ra.max(ca).max(opts.from.unwrap_or(f64::NEG_INFINITY));
    let hi = rb.min(cb).min(opts.to.unwrap_or(f64::INFINITY));
    if lo > hi {
        return Err(CompareError::NoOverlap {
            ref_start: ra,
            ref_end: rb,
            cand_start: ca,
            cand_end: cb,
            from: opts.from,
            to: opts.to,
        });
    }
    Ok(Window { lo, hi })
}

fn validate(
    reference: &Waveforms,
    candidate: &Waveforms,
    opts: &CompareOptions,
) -> Result<Window, CompareError> {
    if !(opts.tol.is_finite() && opts.tol >= 0.0) {
        return Err(CompareError::BadOption(format!(
            "tolerance must be a finite number >= 0, got {}",
            opts.tol
        )));
    }
    for (what, v) in [
        ("voltage floor", opts.voltage_floor),
        ("current floor", opts.current_floor),
    ] {
        if !(v.is_finite() && v > 0.0) {
            return Err(CompareError::BadOption(format!(
                "{what} must be a finite number > 0, got {v}"
            )));
        }
    }
    for (what, v) in [("from", opts.from), ("to", opts.to)] {
        if let Some(v) = v {
            if !v.is_finite() {
                return Err(CompareError::BadOption(format!(
                    "`{what}` must be finite, got {v}"
                )));
            }
        }
    }
    check_trace(reference, "reference")?;
    check_trace(candidate, "candidate")?;
    window(reference, candidate, opts)
}

/// Compare `candidate` against `reference` (see the [crate docs](crate) for the method).
pub fn compare(
    reference: &Waveforms,
    candidate: &Waveforms,
    opts: &CompareOptions,
) -> Result<Report, CompareError> {
    let win = validate(reference, candidate, opts)?;

    // Candidate lookup by canonical name (first occurrence wins).
    let mut cand_index: HashMap<String, usize> = HashMap::new();
    for (k, s) in candidate.signals.iter().enumerate() {
        cand_index.entry(canonical_name(&s.name)).or_insert(k);
    }
    let mut ref_index: HashMap<String, usize> = HashMap::new();
    for (k, s) in reference.signals.iter().enumerate() {
        ref_index.entry(canonical_name(&s.name)).or_insert(k);
    }

    let mut pairs: Vec<(usize, usize)> = Vec::new();
    let mut only_in_reference = Vec::new();
    let mut only_in_candidate = Vec::new();
    let mut missing_requested = false;
    match &opts.nodes {
        Some(nodes) => {
            let mut seen = std::collections::HashSet::new();
            for n in nodes {
                let c = canonical_name(n);
                if !seen.insert(c.clone()) {
                    continue;
                }
                match (ref_index.get(&c), cand_index.get(&c)) {
                    (Some(&r), Some(&k)) => pairs.push((r, k)),
                    (Some(&r), None) => {
                        only_in_reference.push(reference.signals[r].name.clone());
                        missing_requested = true;
                    }
                    (None, Some(&k)) => {
                        only_in_candidate.push(candidate.signals[k].name.clone());
                        missing_requested = true;
                    }
                    (None, None) => {
                        return Err(CompareError::UnknownSignal {
                            name: n.clone(),
                            reference: names(reference),
                            candidate: names(candidate),
                        })
                    }
                }
            }
        }
        None => {
            let mut used = vec![false; candidate.signals.len()];
            let mut seen = std::collections::HashSet::new();
            for (r, s) in reference.signals.iter().enumerate() {
                let c = canonical_name(&s.name);
                if !seen.insert(c.clone()) {
                    continue;
                }
                match cand_index.get(&c) {
                    Some(&k) => {
                        used[k] = true;
                        pairs.push((r, k));
                    }
                    None => only_in_reference.push(s.name.clone()),
                }
            }
            for (k, s) in candidate.signals.iter().enumerate() {
                if !used[k] && !ref_index.contains_key(&canonical_name(&s.name)) {
                    only_in_candidate.push(s.name.clone());
                }
            }
        }
    }
    if pairs.is_empty() {
        return Err(CompareError::NoCommonSignals {
            reference: names(reference),
            candidate: names(candidate),
        });
    }

    let (ta, tb) = (&reference.time, &candidate.time);
    let at_ref = locate_all(ta, tb, win.lo, win.hi);
    let at_cand = locate_all(tb, ta, win.lo, win.hi);
    let ends = [win.lo, win.hi].map(|t| (t, Loc::at(ta, t), Loc::at(tb, t)));

    let mut rows: Vec<SignalReport> = pairs
        .iter()
        .map(|&(r, k)| {
            let (a, b) = (&reference.data[r], &candidate.data[k]);
            let mut best = Worst::default();
            for &(t, la, lb) in &ends {
                best.offer(t, la.eval(a), lb.eval(b));
            }
            for &(i, lb) in &at_ref {
                best.offer(ta[i], a[i], lb.eval(b));
            }
            for &(j, la) in &at_cand {
                best.offer(tb[j], la.eval(a), b[j]);
            }
            // Swing of the reference over the window: its samples inside plus both ends.
            let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
            let mut nan = false;
            let inside = at_ref.iter().map(|&(i, _)| a[i]);
            for v in ends.iter().map(|&(_, la, _)| la.eval(a)).chain(inside) {
                nan |= v.is_nan();
                lo = lo.min(v);
                hi = hi.max(v);
            }
            let swing = if nan { f64::NAN } else { hi - lo };
            let quantity = reference.signals[r].quantity;
            let scale = if swing.is_nan() {
                opts.floor(quantity)
            } else {
                swing.max(opts.floor(quantity))
            };
            let rel = best.diff / scale;
            SignalReport {
                name: reference.signals[r].name.clone(),
                candidate_name: candidate.signals[k].name.clone(),
                quantity,
                max_abs: best.diff,
                at_time: best.t,
                reference_value: best.a,
                candidate_value: best.b,
                swing,
                scale,
                rel,
                pass: rel <= opts.tol && !swing.is_nan(),
            }
        })
        .collect();
    rows.sort_by(|x, y| {
        let key = |r: &SignalReport| if r.rel.is_nan() { f64::INFINITY } else { r.rel };
        key(y)
            .total_cmp(&key(x))
            .then_with(|| y.rel.is_nan().cmp(&x.rel.is_nan()))
            .then_with(|| x.name.cmp(&y.name))
    });
    let pass = !missing_requested && rows.iter().all(|r| r.pass);
    Ok(Report {
        tol: opts.tol,
        from: win.lo,
        to: win.hi,
        signals: rows,
        only_in_reference,
        only_in_candidate,
        pass,
    })
}

#[derive(Debug)]
struct Worst {
    diff: f64,
    t: f64,
    a: f64,
    b: f64,
}

impl Default for Worst {
    fn default() -> Self {
        Worst {
            diff: -1.0,
            t: f64::INFINITY,
            a: f64::NAN,
            b: f64::NAN,
        }
    }
}

impl Worst {
    fn offer(&mut self, t: f64, a: f64, b: f64) {
        let d = (a - b).abs();
        let better = if d.is_nan() {
            !self.diff.is_nan() || t < self.t
        } else if self.diff.is_nan() {
            false
        } else {
            d > self.diff || (d == self.diff && t < self.t)
        };
        if better {
            *self = Worst { diff: d, t, a, b };
        }
    }
}

/// One signal of both traces on the union time grid of the compared window, for plots.
#[derive(Debug, Clone, PartialEq)]
pub struct Aligned {
    /// Union of both time axes inside the window (sorted; duplicates kept).
    pub time: Vec<f64>,
    /// Reference values (exact at reference points, interpolated elsewhere).
    pub reference: Vec<f64>,
    /// Candidate values (exact at candidate points, interpolated elsewhere).
    pub candidate: Vec<f64>,
}

/// Put one signal (any spelling of its name) of both traces on the union grid of the window
/// that [`compare`] uses with the same options.
pub fn align(
    reference: &Waveforms,
    candidate: &Waveforms,
    name: &str,
    opts: &CompareOptions,
) -> Result<Aligned, CompareError> {
    let win = validate(reference, candidate, opts)?;
    let (Some(r), Some(k)) = (reference.index_of(name), candidate.index_of(name)) else {
        return Err(CompareError::UnknownSignal {
            name: name.to_string(),
            reference: names(reference),
            candidate: names(candidate),
        });
    };
    let (ta, tb) = (&reference.time, &candidate.time);
    let (a, b) = (&reference.data[r], &candidate.data[k]);
    // Reference points first (with the candidate's value there), then candidate points at
    // times the reference does not have, then the window ends if they are neither; a stable
    // sort by time keeps the left/right order of jumps.
    let mut pts: Vec<(f64, f64, f64)> = locate_all(ta, tb, win.lo, win.hi)
        .into_iter()
        .map(|(i, lb)| (ta[i], a[i], lb.eval(b)))
        .collect();
    let has = |axis: &[f64], t: f64| axis.binary_search_by(|x| x.total_cmp(&t)).is_ok();
    pts.extend(
        locate_all(tb, ta, win.lo, win.hi)
            .into_iter()
            .filter(|&(j, _)| !has(ta, tb[j]))
            .map(|(j, la)| (tb[j], la.eval(a), b[j])),
    );
    for t in [win.lo, win.hi] {
        if !has(ta, t) && !has(tb, t) {
            pts.push((t, Loc::at(ta, t).eval(a), Loc::at(tb, t).eval(b)));
        }
    }
    pts.sort_by(|x, y| x.0.total_cmp(&y.0));
    pts.dedup_by(|x, y| {
        x.0 == y.0 && x.1.to_bits() == y.1.to_bits() && x.2.to_bits() == y.2.to_bits()
    });
    Ok(Aligned {
        time: pts.iter().map(|p| p.0).collect(),
        reference: pts.iter().map(|p| p.1).collect(),
        candidate: pts.iter().map(|p| p.2).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use circuit::Signal;
    use std::f64::consts::PI;

    fn trace(names: &[&str], time: Vec<f64>, f: impl Fn(usize, f64) -> f64) -> Waveforms {
        let signals = names
            .iter()
            .map(|n| {
                let q = if n.starts_with("i(") || n.ends_with("#branch") {
                    Quantity::Current
                } else {
                    Quantity::Voltage
                };
                Signal {
                    name: n.to_string(),
                    quantity: q,
                }
            })
            .collect();
        let data = (0..names.len())
            .map(|k| time.iter().map(|&t| f(k, t)).collect())
            .collect();
        Waveforms {
            title: String::new(),
            plotname: String::new(),
            signals,
            time,
            data,
        }
    }

    fn pl(points: &[(f64, f64)]) -> Waveforms {
        trace(&["v(out)"], points.iter().map(|p| p.0).collect(), |_, t| {
            points.iter().find(|p| p.0 == t).unwrap().1
        })
    }

    #[test]
    fn sine_on_nested_grids_gives_exact_chord_error() {
        // Candidate: sin(2 pi t) on the grid (j + 1/2)/32, so one chord is centred on the peak
        // at t = 1/4. Reference: the same sine on the grid k/256, which holds every candidate
        // point and the peak. The worst difference is the chord's sag at the peak:
        // 1 - cos(w h / 2), just under the interpolation bound (w h)^2 / 8.
        let w = 2.0 * PI;
        let h = 1.0 / 32.0;
        let reference = trace(
            &["v(a)"],
            (0..=256).map(|k| k as f64 / 256.0).collect(),
            |_, t| (w * t).sin(),
        );
        let candidate = trace(
            &["a"],
            (0..32).map(|j| (j as f64 + 0.5) * h).collect(),
            |_, t| (w * t).sin(),
        );
        let rep = compare(&reference, &candidate, &CompareOptions::default()).unwrap();
        let row = &rep.signals[0];
        let exact = 1.0 - (w * h / 2.0).cos();
        let bound = (w * h).powi(2) / 8.0;
        assert!(
            (row.max_abs - exact).abs() < 1e-15,
            "{} vs {exact}",
            row.max_abs
        );
        assert!(row.max_abs <= bound);
        assert!(
            row.at_time == 0.25 || row.at_time == 0.75,
            "{}",
            row.at_time
        );
        assert_eq!((rep.from, rep.to), (h / 2.0, 1.0 - h / 2.0));
        assert!((row.swing - 2.0).abs() < 1e-15);
        assert!((row.rel - exact / 2.0).abs() < 1e-15);
        assert!(!row.pass, "rel {} exceeds 1e-3", row.rel);
        assert_eq!(row.candidate_name, "a");
        let loose = CompareOptions {
            tol: 3e-3,
            ..Default::default()
        };
        assert!(compare(&reference, &candidate, &loose).unwrap().pass);
    }

    #[test]
    fn sine_on_unrelated_grids_within_interpolation_bound() {
        // Both grids coarse and incommensurate: at a reference point the difference is the
        // candidate's interpolation error (<= h2^2 w^2 / 8), at a candidate point the
        // reference's (<= h1^2 w^2 / 8).
        let w = 2.0 * PI * 3.0;
        let (h1, h2) = (1.0 / 97.0, 1.0 / 61.0);
        let reference = trace(
            &["v(a)"],
            (0..=97).map(|k| k as f64 * h1).collect(),
            |_, t| 0.7 * (w * t + 0.3).sin(),
        );
        let candidate = trace(
            &["v(a)"],
            (0..=61)
                .map(|k| (k as f64 * h2 + 0.0037).min(1.0))
                .collect(),
            |_, t| 0.7 * (w * t + 0.3).sin(),
        );
        let row = compare(&reference, &candidate, &CompareOptions::default())
            .unwrap()
            .signals[0]
            .clone();
        let bound = 0.7 * w * w * h1.max(h2).powi(2) / 8.0;
        assert!(row.max_abs <= bound, "{} > {bound}", row.max_abs);
        assert!(
            row.max_abs >= 0.5 * bound,
            "{} much below {bound}",
            row.max_abs
        );
        // The reported point is consistent with both interpolants.
        let d = (interpolate(&reference.time, &reference.data[0], row.at_time)
            - interpolate(&candidate.time, &candidate.data[0], row.at_time))
        .abs();
        assert!((d - row.max_abs).abs() < 1e-15);
    }

    #[test]
    fn moved_peak_exact_worst() {
        let reference = pl(&[(0.0, 0.0), (1.0, 1.0), (2.0, 0.0)]);
        let candidate = pl(&[(0.0, 0.0), (1.5, 1.0), (2.0, 0.0)]);
        let rep = compare(&reference, &candidate, &CompareOptions::default()).unwrap();
        let r = &rep.signals[0];
        assert_eq!((r.max_abs, r.at_time, r.swing, r.rel), (0.5, 1.5, 1.0, 0.5));
        assert_eq!((r.reference_value, r.candidate_value), (0.5, 1.0));
        assert!(!rep.pass);
        // Swapping roles: worst is now at the reference's own point t = 1.5.
        let back = compare(&candidate, &reference, &CompareOptions::default()).unwrap();
        assert_eq!(
            (back.signals[0].max_abs, back.signals[0].at_time),
            (0.5, 1.5)
        );
    }

    #[test]
    fn time_shifted_trace_earliest_tie() {
        // A triangle and the same samples delayed by 0.25: |diff| is 0.25 on the rising and
        // falling edges; the first grid point reaching it is the candidate's t = 1.25.
        let pts = [(0.0, 0.0), (1.0, 0.0), (2.0, 1.0), (3.0, 0.0), (4.0, 0.0)];
        let reference = pl(&pts);
        let shifted: Vec<_> = pts.iter().map(|&(t, v)| (t + 0.25, v)).collect();
        let candidate = pl(&shifted);
        let rep = compare(&reference, &candidate, &CompareOptions::default()).unwrap();
        let r = &rep.signals[0];
        assert_eq!((r.max_abs, r.at_time), (0.25, 1.25));
        assert_eq!((rep.from, rep.to), (0.25, 4.0));
        // From t = 3.5 on both are flat zero.
        let late = CompareOptions {
            from: Some(3.5),
            ..Default::default()
        };
        let rep = compare(&reference, &candidate, &late).unwrap();
        assert_eq!((rep.signals[0].max_abs, rep.signals[0].swing), (0.0, 0.0));
        assert!(rep.pass);
    }

    #[test]
    fn swing_is_over_the_window_only() {
        let reference = pl(&[(0.0, 5.0), (1.0, 0.0), (2.0, 0.1), (3.0, 0.0)]);
        let candidate = pl(&[(0.0, 5.0), (1.0, 0.0), (2.0, 0.1001), (3.0, 0.0)]);
        let opts = CompareOptions {
            from: Some(1.5),
            ..Default::default()
        };
        let r = compare(&reference, &candidate, &opts).unwrap().signals[0].clone();
        // Window [1.5, 3]: reference goes 0.05 -> 0.1 -> 0.
        assert!((r.swing - 0.1).abs() < 1e-15);
        assert!((r.max_abs - 1e-4).abs() < 1e-15);
        assert!((r.rel - 1e-3).abs() < 1e-12);
    }

    #[test]
    fn matching_missing_and_floors() {
        let t: Vec<f64> = (0..11).map(|k| k as f64 * 0.1).collect();
        let reference = trace(
            &["v(in)", "v(out)", "i(v1)", "v(only_ref)"],
            t.clone(),
            |k, t| match k {
                0 => 2.5,       // flat supply
                1 => t,         // ramp
                2 => -1e-3 * t, // current
                _ => 0.0,
            },
        );
        let candidate = trace(
            &["IN", "out", "v1#branch", "extra"],
            t.clone(),
            |k, t| match k {
                0 => 2.5 + 5e-7,       // 0.5 uV off a flat node: rel 5e-4 against the 1 mV floor
                1 => t + 2e-4,         // rel 2e-4 against swing 1
                2 => -1e-3 * t + 2e-9, // rel 2e-9 / 1e-3
                _ => 0.0,
            },
        );
        let rep = compare(&reference, &candidate, &CompareOptions::default()).unwrap();
        assert_eq!(rep.only_in_reference, vec!["v(only_ref)".to_string()]);
        assert_eq!(rep.only_in_candidate, vec!["extra".to_string()]);
        let names: Vec<_> = rep.signals.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["v(in)", "v(out)", "i(v1)"], "sorted worst first");
        let flat = &rep.signals[0];
        assert_eq!((flat.swing, flat.scale), (0.0, 1e-3));
        assert!((flat.rel - 5e-4).abs() < 1e-9);
        let cur = &rep.signals[2];
        assert_eq!(cur.quantity, Quantity::Current);
        assert!((cur.rel - 2e-6).abs() < 1e-12, "{}", cur.rel);
        assert!(rep.pass);

        // Restricting to nodes; a requested node missing from one trace fails the report.
        let opts = CompareOptions {
            nodes: Some(vec!["OUT".into(), "only_ref".into()]),
            ..Default::default()
        };
        let rep = compare(&reference, &candidate, &opts).unwrap();
        assert_eq!(rep.signals.len(), 1);
        assert_eq!(rep.only_in_reference, vec!["v(only_ref)".to_string()]);
        assert!(rep.only_in_candidate.is_empty());
        assert!(!rep.pass);
        let opts = CompareOptions {
            nodes: Some(vec!["nope".into()]),
            ..Default::default()
        };
        let e = compare(&reference, &candidate, &opts)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("signal `nope` is in neither trace"), "{e}");
    }

    #[test]
    fn nan_fails_and_sorts_first() {
        let t = vec![0.0, 1.0, 2.0];
        let reference = trace(
            &["a", "b"],
            t.clone(),
            |k, t| if k == 0 { t } else { 1.0 - t },
        );
        let candidate = trace(&["a", "b"], t, |k, t| {
            if k == 0 {
                t + 0.5
            } else if t == 1.0 {
                f64::NAN
            } else {
                1.0 - t
            }
        });
        let rep = compare(&reference, &candidate, &CompareOptions::default()).unwrap();
        assert_eq!(rep.signals[0].name, "b");
        assert!(rep.signals[0].max_abs.is_nan() && !rep.signals[0].pass);
        assert_eq!(rep.signals[0].at_time, 1.0);
        assert_eq!(rep.signals[1].max_abs, 0.5);
        assert!(!rep.pass);
    }

    #[test]
    fn errors() {
        let a = pl(&[(0.0, 0.0), (1.0, 1.0)]);
        let b = pl(&[(2.0, 0.0), (3.0, 1.0)]);
        let e = compare(&a, &b, &CompareOptions::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "no common time window: reference covers [0, 1], candidate [2, 3]"
        );
        let e = compare(
            &a,
            &a,
            &CompareOptions {
                from: Some(1.5),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "no common time window: reference covers [0, 1], candidate [0, 1], requested [1.5, end]");
        let mut bad = a.clone();
        bad.time = vec![1.0, 0.5];
        let e = compare(&a, &bad, &CompareOptions::default())
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "the candidate trace: time decreases at point 1: 0.5 after 1"
        );
        let e = compare(
            &a,
            &Waveforms::new("", "", vec![]),
            &CompareOptions::default(),
        )
        .unwrap_err();
        assert_eq!(e, CompareError::EmptyTrace { which: "candidate" });
        let other = trace(&["x"], vec![0.0, 1.0], |_, _| 0.0);
        let e = compare(&a, &other, &CompareOptions::default())
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "no signal is in both traces (reference has: v(out); candidate has: x)"
        );
        let e = compare(
            &a,
            &a,
            &CompareOptions {
                tol: -1.0,
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(matches!(e, CompareError::BadOption(_)));
    }

    #[test]
    fn duplicate_time_points_step() {
        // A step stored with a repeated time (value jumps at t = 1) against a ramp-free copy.
        let mut reference = pl(&[(0.0, 0.0), (2.0, 1.0)]);
        reference.time = vec![0.0, 1.0, 1.0, 2.0];
        reference.data = vec![vec![0.0, 0.0, 1.0, 1.0]];
        let candidate = reference.clone();
        let rep = compare(&reference, &candidate, &CompareOptions::default()).unwrap();
        assert_eq!(rep.signals[0].max_abs, 0.0);
        // A steep ramp without a repeated time against the step: worst is at the jump.
        let ramp = pl(&[(0.0, 0.0), (0.9, 0.0), (1.1, 1.0), (2.0, 1.0)]);
        let rep = compare(&reference, &ramp, &CompareOptions::default()).unwrap();
        assert!((rep.signals[0].max_abs - 0.5).abs() < 1e-15);
        assert_eq!(rep.signals[0].at_time, 1.0);
        let al = align(&reference, &candidate, "out", &CompareOptions::default()).unwrap();
        assert_eq!(al.time, vec![0.0, 1.0, 1.0, 2.0]);
        assert_eq!(al.reference, al.candidate);
    }

    #[test]
    fn align_union_grid() {
        let reference = pl(&[(0.0, 0.0), (1.0, 1.0), (2.0, 0.0)]);
        let candidate = pl(&[(0.0, 0.0), (1.5, 1.0), (2.0, 0.0)]);
        let al = align(&reference, &candidate, "v(out)", &CompareOptions::default()).unwrap();
        assert_eq!(al.time, vec![0.0, 1.0, 1.5, 2.0]);
        assert_eq!(al.reference, vec![0.0, 1.0, 0.5, 0.0]);
        assert_eq!(al.candidate[2], 1.0);
        assert!((al.candidate[1] - 2.0 / 3.0).abs() < 1e-15);
    }
}

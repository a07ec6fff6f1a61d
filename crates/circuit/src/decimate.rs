//! A [`WaveSink`] adapter that keeps output files bounded: every Nth point, only points from
//! a start time on, at most a given number of points, and only chosen signals.
//!
//! The kept points are the analysis's own points, copied bit for bit (nothing is
//! interpolated); the first point at or after the start time and the last point are always
//! kept, so a decimated trace spans the same time window as the full one.
//!
//! ```
//! use circuit::{Decimate, Decimation, Signal, WaveSink, Waveforms};
//! let mut d = Decimate::new(Waveforms::default(), Decimation { every: 3, ..Default::default() }, None);
//! d.begin("t", "Transient Analysis", &[Signal::voltage("a"), Signal::voltage("b")]).unwrap();
//! for k in 0..8 {
//!     d.push(k as f64, &[k as f64, -(k as f64)]).unwrap();
//! }
//! d.finish().unwrap();
//! let w = d.into_inner();
//! assert_eq!(w.time, vec![0.0, 3.0, 6.0, 7.0]); // every 3rd, and the last
//! assert_eq!(w.data[1], vec![0.0, -3.0, -6.0, -7.0]);
//! ```

use crate::wave::{Signal, WaveSink};

/// What a [`Decimate`] sink keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct Decimation {
    /// Keep every `every`-th point (counted from the first point at or after `from`); 1 keeps
    /// them all, 0 is taken as 1.
    pub every: usize,
    /// Drop the points before this time.
    pub from: Option<f64>,
    /// Write at most this many points (at least 2): the points kept are then spaced by at
    /// least `(end − start) / (max_points − 2)` in time, and never more than `max_points − 1`
    /// before the last one.
    pub max_points: Option<usize>,
    /// Time window of the run, `(start, end)` (for the `max_points` spacing).
    pub span: (f64, f64),
}

impl Default for Decimation {
    fn default() -> Self {
        Decimation {
            every: 1,
            from: None,
            max_points: None,
            span: (0.0, 0.0),
        }
    }
}

impl Decimation {
    /// True when this keeps every point (nothing to record).
    pub fn is_identity(&self) -> bool {
        self.every <= 1 && self.from.is_none() && self.max_points.is_none()
    }

    /// Smallest time between kept points under `max_points` (0 when unbounded).
    pub fn min_spacing(&self) -> f64 {
        match self.max_points {
            Some(m) if m > 2 => {
                let start = self.from.map_or(self.span.0, |f| f.max(self.span.0));
                ((self.span.1 - start) / (m - 2) as f64).max(0.0)
            }
            Some(_) => f64::INFINITY,
            None => 0.0,
        }
    }
}

/// Indices of the signals named in `names` (matched with [`crate::canonical_name`]: `out`,
/// `v(out)`, `i(v1)`, `v1#branch`), in the order of `signals`; an unknown name is an error
/// that lists the available signals.
pub fn select_signals(signals: &[Signal], names: &[String]) -> Result<Vec<usize>, String> {
    let canon: Vec<String> = signals
        .iter()
        .map(|s| crate::canonical_name(&s.name))
        .collect();
    let mut keep = vec![false; signals.len()];
    for n in names {
        let want = crate::canonical_name(n);
        match canon.iter().position(|c| *c == want) {
            Some(k) => keep[k] = true,
            None => {
                let known: Vec<&str> = signals.iter().map(|s| s.name.as_str()).collect();
                return Err(format!(
                    "unknown signal '{n}' (the circuit has: {})",
                    known.join(", ")
                ));
            }
        }
    }
    Ok((0..signals.len()).filter(|&k| keep[k]).collect())
}

/// A sink that passes a subset of the points and signals on to `inner`.
#[derive(Debug)]
pub struct Decimate<S> {
    inner: S,
    cfg: Decimation,
    spacing: f64,
    /// Columns passed on (all when `None`).
    columns: Option<Vec<usize>>,
    /// Points at or after `from` seen so far.
    offered: usize,
    /// Points passed on so far.
    kept: usize,
    last_kept: f64,
    /// The newest point not passed on (written on `finish`, so the last point is kept).
    pending: Option<f64>,
    pending_values: Vec<f64>,
    row: Vec<f64>,
}

impl<S: WaveSink> Decimate<S> {
    /// Wrap `inner`; `columns` are the indices of the signals to keep (see
    /// [`select_signals`]), all when `None`.
    pub fn new(inner: S, cfg: Decimation, columns: Option<Vec<usize>>) -> Self {
        let spacing = cfg.min_spacing();
        Decimate {
            inner,
            cfg,
            spacing,
            columns,
            offered: 0,
            kept: 0,
            last_kept: f64::NEG_INFINITY,
            pending: None,
            pending_values: Vec::new(),
            row: Vec::new(),
        }
    }

    /// The wrapped sink.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The wrapped sink, mutably (e.g. to record a summary before `finish`).
    pub fn inner_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwrap.
    pub fn into_inner(self) -> S {
        self.inner
    }

    /// Points offered by the analysis at or after `from`.
    pub fn points_offered(&self) -> usize {
        self.offered
    }

    /// Points the inner sink will have received once `finish` is called.
    pub fn points_kept(&self) -> usize {
        self.kept + usize::from(self.pending.is_some())
    }

    fn select(&mut self, values: &[f64]) {
        self.row.clear();
        match &self.columns {
            None => self.row.extend_from_slice(values),
            Some(cols) => self
                .row
                .extend(cols.iter().filter_map(|&k| values.get(k).copied())),
        }
    }

    fn wanted(&self, time: f64) -> bool {
        if self.kept == 0 {
            return true;
        }
        if (self.offered - 1) % self.cfg.every.max(1) != 0 {
            return false;
        }
        match self.cfg.max_points {
            None => true,
            Some(m) => {
                self.kept + 1 < m.max(2) && time >= self.last_kept + self.spacing * (1.0 - 1e-9)
            }
        }
    }
}

impl<S: WaveSink> WaveSink for Decimate<S> {
    type Error = S::Error;

    fn begin(&mut self, title: &str, plotname: &str, signals: &[Signal]) -> Result<(), S::Error> {
        let chosen: Vec<Signal> = match &self.columns {
            None => signals.to_vec(),
            Some(cols) => cols
                .iter()
                .filter_map(|&k| signals.get(k).cloned())
                .collect(),
        };
        self.offered = 0;
        self.kept = 0;
        self.pending = None;
        self.inner.begin(title, plotname, &chosen)
    }

    fn push(&mut self, time: f64, values: &[f64]) -> Result<(), S::Error> {
        if self.cfg.from.is_some_and(|f| time < f) {
            return Ok(());
        }
        self.offered += 1;
        self.select(values);
        if self.wanted(time) {
            self.kept += 1;
            self.last_kept = time;
            self.pending = None;
            self.inner.push(time, &self.row)
        } else {
            self.pending = Some(time);
            std::mem::swap(&mut self.pending_values, &mut self.row);
            Ok(())
        }
    }

    fn finish(&mut self) -> Result<(), S::Error> {
        if let Some(t) = self.pending.take() {
            self.kept += 1;
            self.last_kept = t;
            self.inner.push(t, &self.pending_values)?;
        }
        self.inner.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Waveforms;

    fn run(cfg: Decimation, n: usize) -> Waveforms {
        let mut d = Decimate::new(Waveforms::default(), cfg, None);
        d.begin("t", "p", &[Signal::voltage("a")]).unwrap();
        for k in 0..n {
            d.push(k as f64, &[10.0 * k as f64]).unwrap();
        }
        let expect = d.points_kept();
        d.finish().unwrap();
        let w = d.into_inner();
        assert_eq!(w.len(), expect, "points_kept before finish");
        w
    }

    #[test]
    fn every_nth_keeps_first_and_last() {
        assert_eq!(
            run(
                Decimation {
                    every: 4,
                    ..Default::default()
                },
                10
            )
            .time,
            vec![0.0, 4.0, 8.0, 9.0]
        );
        // the last point is not repeated when it falls on the stride
        assert_eq!(
            run(
                Decimation {
                    every: 3,
                    ..Default::default()
                },
                10
            )
            .time,
            vec![0.0, 3.0, 6.0, 9.0]
        );
        assert_eq!(
            run(
                Decimation {
                    every: 1,
                    ..Default::default()
                },
                3
            )
            .time,
            vec![0.0, 1.0, 2.0]
        );
        assert_eq!(
            run(
                Decimation {
                    every: 5,
                    ..Default::default()
                },
                1
            )
            .time,
            vec![0.0]
        );
    }

    #[test]
    fn from_drops_earlier_points_and_counts_from_the_first_kept() {
        let w = run(
            Decimation {
                every: 2,
                from: Some(2.5),
                ..Default::default()
            },
            10,
        );
        assert_eq!(w.time, vec![3.0, 5.0, 7.0, 9.0]);
        assert_eq!(w.data[0], vec![30.0, 50.0, 70.0, 90.0]);
    }

    #[test]
    fn max_points_bounds_the_count() {
        for m in [2usize, 3, 5, 17, 100, 1000] {
            let cfg = Decimation {
                max_points: Some(m),
                span: (0.0, 999.0),
                ..Default::default()
            };
            let w = run(cfg, 1000);
            assert!(w.len() <= m, "{m}: {} points", w.len());
            assert_eq!(w.time[0], 0.0);
            assert_eq!(*w.time.last().unwrap(), 999.0);
            if m >= 3 {
                // thinned by time: each gap (the one before the forced last point aside) is at
                // least the spacing, and less than the spacing plus one input step
                let spacing = 999.0 / (m - 2) as f64;
                let t = &w.time[..w.len() - 1];
                for g in t.windows(2).map(|p| p[1] - p[0]) {
                    assert!(
                        g >= spacing * (1.0 - 1e-9) && g < spacing + 1.0,
                        "{m}: gap {g}"
                    );
                }
            }
        }
        // a bound above the count changes nothing
        let cfg = Decimation {
            max_points: Some(50),
            span: (0.0, 9.0),
            ..Default::default()
        };
        assert_eq!(run(cfg, 10).len(), 10);
    }

    #[test]
    fn selected_signals_only() {
        let sigs = [
            Signal::voltage("a"),
            Signal::voltage("b"),
            Signal::current("v1"),
        ];
        let cols = select_signals(&sigs, &["V(B)".into(), "v1#branch".into()]).unwrap();
        assert_eq!(cols, vec![1, 2]);
        let err = select_signals(&sigs, &["zz".into()]).unwrap_err();
        assert!(
            err.contains("'zz'") && err.contains("v(a), v(b), i(v1)"),
            "{err}"
        );
        let mut d = Decimate::new(Waveforms::default(), Decimation::default(), Some(cols));
        d.begin("t", "p", &sigs).unwrap();
        d.push(0.0, &[1.0, 2.0, 3.0]).unwrap();
        d.finish().unwrap();
        let w = d.into_inner();
        assert_eq!(w.signals, sigs[1..].to_vec());
        assert_eq!(w.data, vec![vec![2.0], vec![3.0]]);
    }
}

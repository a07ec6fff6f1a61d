//! Waveform containers shared by the simulator, the stores and the analyzers.
//!
//! Signals are named as ngspice names them in rawfiles: `v(node)` for node voltages and
//! `i(vname)` for branch currents. The time axis is kept apart from the signals.

/// Physical quantity of a signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quantity {
    /// Seconds.
    Time,
    /// Volts.
    Voltage,
    /// Amperes.
    Current,
    /// Hertz (frequency axis of an AC analysis).
    Frequency,
}

impl Quantity {
    /// SPICE rawfile type word (`time`, `voltage`, `current`, `frequency`).
    pub fn spice_type(self) -> &'static str {
        match self {
            Quantity::Time => "time",
            Quantity::Voltage => "voltage",
            Quantity::Current => "current",
            Quantity::Frequency => "frequency",
        }
    }

    /// SI unit symbol.
    pub fn unit(self) -> &'static str {
        match self {
            Quantity::Time => "s",
            Quantity::Voltage => "V",
            Quantity::Current => "A",
            Quantity::Frequency => "Hz",
        }
    }

    /// Parse a rawfile type word.
    pub fn from_spice_type(s: &str) -> Option<Quantity> {
        match s.to_ascii_lowercase().as_str() {
            "time" => Some(Quantity::Time),
            "voltage" => Some(Quantity::Voltage),
            "current" => Some(Quantity::Current),
            "frequency" => Some(Quantity::Frequency),
            _ => None,
        }
    }
}

/// A named signal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Signal {
    /// Rawfile-style name, e.g. `v(out)` or `i(v1)`.
    pub name: String,
    /// What it measures.
    pub quantity: Quantity,
}

impl Signal {
    /// A node voltage signal `v(node)`.
    pub fn voltage(node: &str) -> Signal {
        Signal {
            name: format!("v({})", node),
            quantity: Quantity::Voltage,
        }
    }

    /// A branch current signal `i(element)`.
    pub fn current(element: &str) -> Signal {
        Signal {
            name: format!("i({})", element),
            quantity: Quantity::Current,
        }
    }
}

/// Canonical form of a signal name for matching across writers: lower case, `v(x)` and
/// plain `x` both become `v(x)`, `x#branch` and `i(x)` both become `i(x)`.
pub fn canonical_name(name: &str) -> String {
    let n = name.trim().to_ascii_lowercase();
    if let Some(stripped) = n.strip_suffix("#branch") {
        return format!("i({})", stripped);
    }
    if (n.starts_with("v(") || n.starts_with("i(")) && n.ends_with(')') {
        return n;
    }
    format!("v({})", n)
}

/// A set of real waveforms sharing one time axis, held in memory (column-major).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Waveforms {
    /// Circuit title.
    pub title: String,
    /// Plot name, e.g. `Transient Analysis`.
    pub plotname: String,
    /// Signals (time excluded).
    pub signals: Vec<Signal>,
    /// Time points.
    pub time: Vec<f64>,
    /// `data[k][i]` is signal `k` at `time[i]`.
    pub data: Vec<Vec<f64>>,
}

impl Waveforms {
    /// Empty waveforms for the given signals.
    pub fn new(title: &str, plotname: &str, signals: Vec<Signal>) -> Self {
        let n = signals.len();
        Waveforms {
            title: title.to_string(),
            plotname: plotname.to_string(),
            signals,
            time: Vec::new(),
            data: vec![Vec::new(); n],
        }
    }

    /// Index of a signal by name; matches `out`, `v(out)`, `V(OUT)`, `v1#branch`, `i(v1)`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        let want = canonical_name(name);
        self.signals
            .iter()
            .position(|s| canonical_name(&s.name) == want)
    }

    /// The samples of a signal by name.
    pub fn signal(&self, name: &str) -> Option<&[f64]> {
        self.index_of(name).map(|k| self.data[k].as_slice())
    }

    /// Number of time points.
    pub fn len(&self) -> usize {
        self.time.len()
    }

    /// True when there are no time points.
    pub fn is_empty(&self) -> bool {
        self.time.is_empty()
    }
}

/// Where a running analysis sends its points, one time point at a time, so that long runs
/// need not be held in memory. The analysis calls `begin` and `push`; whoever owns the sink
/// calls `finish` (after recording a summary, or marking a failed run as such).
pub trait WaveSink {
    /// Error type of the sink.
    type Error;
    /// Called once before the first point with the signal list (time excluded).
    fn begin(&mut self, title: &str, plotname: &str, signals: &[Signal])
        -> Result<(), Self::Error>;
    /// One point: time and one value per signal.
    fn push(&mut self, time: f64, values: &[f64]) -> Result<(), Self::Error>;
    /// Called once after the last point (or after a failure, with what was computed).
    fn finish(&mut self) -> Result<(), Self::Error>;
}

impl WaveSink for Waveforms {
    type Error = std::convert::Infallible;
    fn begin(
        &mut self,
        title: &str,
        plotname: &str,
        signals: &[Signal],
    ) -> Result<(), Self::Error> {
        *self = Waveforms::new(title, plotname, signals.to_vec());
        Ok(())
    }
    fn push(&mut self, time: f64, values: &[f64]) -> Result<(), Self::Error> {
        self.time.push(time);
        for (col, &v) in self.data.iter_mut().zip(values) {
            col.push(v);
        }
        Ok(())
    }
    fn finish(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// A sink that ends the analysis when a flag is raised (for example by a signal handler):
/// each point is passed on to the inner sink, and the first `push` that finds the flag set
/// returns [`Stoppable::Stopped`] after writing its point, which the analysis reports as an
/// output error. [`StopSink::stopped`] then tells a stop from a real failure; the inner
/// sink holds every point up to and including that one.
///
/// ```
/// use circuit::{wave::{StopSink, Stoppable}, Signal, WaveSink, Waveforms};
/// use std::sync::atomic::{AtomicBool, Ordering};
/// let flag = AtomicBool::new(false);
/// let mut s = StopSink::new(Waveforms::default(), &flag);
/// s.begin("t", "Transient Analysis", &[Signal::voltage("a")]).unwrap();
/// s.push(0.0, &[1.0]).unwrap();
/// flag.store(true, Ordering::SeqCst);
/// assert!(matches!(s.push(1.0, &[2.0]), Err(Stoppable::Stopped)));
/// assert!(s.stopped());
/// assert_eq!(s.inner.time, vec![0.0, 1.0]);
/// ```
pub struct StopSink<'a, S> {
    /// The sink the points go to.
    pub inner: S,
    flag: &'a std::sync::atomic::AtomicBool,
    stopped: bool,
}

/// The error of a [`StopSink`].
#[derive(Debug)]
pub enum Stoppable<E> {
    /// The flag was raised.
    Stopped,
    /// The inner sink failed.
    Inner(E),
}

impl<E: std::fmt::Display> std::fmt::Display for Stoppable<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stoppable::Stopped => write!(f, "interrupted"),
            Stoppable::Inner(e) => e.fmt(f),
        }
    }
}

impl<'a, S> StopSink<'a, S> {
    /// Wrap `inner`; the analysis stops at the first point pushed after `flag` is set.
    pub fn new(inner: S, flag: &'a std::sync::atomic::AtomicBool) -> Self {
        StopSink {
            inner,
            flag,
            stopped: false,
        }
    }

    /// True when a `push` found the flag raised.
    pub fn stopped(&self) -> bool {
        self.stopped
    }
}

impl<S: WaveSink> WaveSink for StopSink<'_, S> {
    type Error = Stoppable<S::Error>;
    fn begin(
        &mut self,
        title: &str,
        plotname: &str,
        signals: &[Signal],
    ) -> Result<(), Self::Error> {
        self.inner
            .begin(title, plotname, signals)
            .map_err(Stoppable::Inner)
    }
    fn push(&mut self, time: f64, values: &[f64]) -> Result<(), Self::Error> {
        self.inner.push(time, values).map_err(Stoppable::Inner)?;
        if self.flag.load(std::sync::atomic::Ordering::SeqCst) {
            self.stopped = true;
            return Err(Stoppable::Stopped);
        }
        Ok(())
    }
    fn finish(&mut self) -> Result<(), Self::Error> {
        self.inner.finish().map_err(Stoppable::Inner)
    }
}

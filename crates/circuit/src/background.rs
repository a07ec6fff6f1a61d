//! A waveform sink that runs another sink on its own thread, so that writing files overlaps
//! the analysis instead of following each point.

use crate::wave::{Signal, WaveSink};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

/// Points are handed to the writer thread in batches of about this many bytes. Each batch
/// that is not a recycled one costs the analysis a page fault per 4 KiB at its first write;
/// smaller batches cost more hand-overs. Measured in turn against 1 MiB (`freqprop simulate`
/// of the corpus decks, medians of 10–12 runs): 256 KiB took layered_network 86 → 79 ms,
/// random_network 194 → 188 ms, mesh30 339 → 330 ms; 128 KiB and 64 KiB were slower again.
const BATCH_BYTES: usize = 1 << 18;
/// Batches queued for the writer besides the one being filled and the one being written.
const QUEUED_BATCHES: usize = 2;
/// The most bytes of point batches that exist at once (the one being filled, those queued,
/// the one being written, and the written ones kept for reuse), for memory estimates.
pub const MAX_QUEUED_BYTES: usize = (QUEUED_BATCHES + 3) * BATCH_BYTES;

/// Runs `S` on a thread of its own: [`WaveSink::begin`] is called here (so that its errors are
/// immediate), then points are copied into batches of about 1 MiB and written by the thread
/// while the analysis goes on. An error of the inner sink is reported by the next `push` (or
/// by [`Background::join`] and `finish`), with the inner sink's message.
///
/// [`Background::join`] waits for every point to be written and gives the inner sink back (to
/// record a summary before `finish`, for example); points pushed after it are written
/// directly.
///
/// ```
/// use circuit::{background::Background, Signal, WaveSink, Waveforms};
/// let mut s = Background::new(Waveforms::default());
/// s.begin("t", "Transient Analysis", &[Signal::voltage("a")]).unwrap();
/// for k in 0..10_000 {
///     s.push(k as f64, &[2.0 * k as f64]).unwrap();
/// }
/// let w = s.join().unwrap();
/// assert_eq!(w.time.len(), 10_000);
/// assert_eq!(w.signal("a").unwrap()[9_999], 19_998.0);
/// ```
pub struct Background<S: WaveSink> {
    state: State<S>,
    /// Points being gathered: (time, values...) rows.
    batch: Vec<f64>,
    /// Values per row (time included).
    row: usize,
    /// Rows per batch.
    rows: usize,
}

enum State<S: WaveSink> {
    /// No thread: the sink is here (before `begin`, after `join`, or without points).
    Here(S),
    Running {
        to_writer: SyncSender<Vec<f64>>,
        /// Written batches come back to be filled again (no allocation per batch).
        spent: Receiver<Vec<f64>>,
        writer: JoinHandle<Result<S, (S, String)>>,
    },
    /// The inner sink failed (its message), or its thread panicked.
    Failed(String),
    /// Transient while switching.
    Empty,
}

impl<S: WaveSink + Send + 'static> Background<S>
where
    S::Error: std::fmt::Display,
{
    /// Wrap `inner`; its thread starts at `begin`.
    pub fn new(inner: S) -> Self {
        Background {
            state: State::Here(inner),
            batch: Vec::new(),
            row: 1,
            rows: 1,
        }
    }

    /// Wait until every point pushed so far is written, end the thread, and return the inner
    /// sink (or the first error it gave).
    pub fn join(&mut self) -> Result<&mut S, String> {
        if matches!(self.state, State::Running { .. }) {
            self.send_batch();
            let State::Running {
                to_writer, writer, ..
            } = std::mem::replace(&mut self.state, State::Empty)
            else {
                unreachable!()
            };
            drop(to_writer);
            self.state = match writer.join() {
                Ok(Ok(s)) => State::Here(s),
                Ok(Err((_, e))) => State::Failed(e),
                Err(_) => State::Failed("the waveform writer thread panicked".into()),
            };
        }
        match &mut self.state {
            State::Here(s) => Ok(s),
            State::Failed(e) => Err(e.clone()),
            _ => unreachable!(),
        }
    }

    /// [`Background::join`], then unwrap.
    pub fn into_inner(mut self) -> Result<S, String> {
        self.join()?;
        match std::mem::replace(&mut self.state, State::Empty) {
            State::Here(s) => Ok(s),
            _ => unreachable!(),
        }
    }

    /// Hand the gathered rows to the writer (a no-op when none are gathered).
    fn send_batch(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        if let State::Running {
            to_writer, spent, ..
        } = &self.state
        {
            let next = spent
                .try_recv()
                .unwrap_or_else(|_| Vec::with_capacity(self.rows * self.row));
            let full = std::mem::replace(&mut self.batch, next);
            // a closed channel means the writer stopped on an error: `join` reports it
            let _ = to_writer.send(full);
        }
    }

    fn writer_failed(&self) -> bool {
        match &self.state {
            State::Running { writer, .. } => writer.is_finished(),
            State::Failed(_) => true,
            _ => false,
        }
    }
}

impl<S: WaveSink + Send + 'static> WaveSink for Background<S>
where
    S::Error: std::fmt::Display,
{
    type Error = String;
    fn begin(&mut self, title: &str, plotname: &str, signals: &[Signal]) -> Result<(), String> {
        let mut inner = match std::mem::replace(&mut self.state, State::Empty) {
            State::Here(s) => s,
            other => {
                self.state = other;
                return Err("the waveform writer was already started".into());
            }
        };
        if let Err(e) = inner.begin(title, plotname, signals) {
            self.state = State::Here(inner);
            return Err(e.to_string());
        }
        self.row = signals.len() + 1;
        self.rows = (BATCH_BYTES / (8 * self.row)).max(1);
        self.batch = Vec::with_capacity(self.rows * self.row);
        let (to_writer, from_analysis) = sync_channel::<Vec<f64>>(QUEUED_BATCHES);
        let (give_back, spent) = sync_channel::<Vec<f64>>(QUEUED_BATCHES + 1);
        let row = self.row;
        let writer = std::thread::Builder::new()
            .name("waveform-writer".into())
            .spawn(move || {
                for mut rows in from_analysis {
                    for r in rows.chunks_exact(row) {
                        if let Err(e) = inner.push(r[0], &r[1..]) {
                            let e = e.to_string();
                            return Err((inner, e));
                        }
                    }
                    rows.clear();
                    let _ = give_back.try_send(rows);
                }
                Ok(inner)
            })
            .map_err(|e| format!("starting the waveform writer thread: {e}"))?;
        self.state = State::Running {
            to_writer,
            spent,
            writer,
        };
        Ok(())
    }

    fn push(&mut self, time: f64, values: &[f64]) -> Result<(), String> {
        match &mut self.state {
            State::Here(s) => return s.push(time, values).map_err(|e| e.to_string()),
            State::Failed(e) => return Err(e.clone()),
            _ => {}
        }
        if self.writer_failed() {
            return Err(self.join().err().unwrap_or_default());
        }
        self.batch.push(time);
        self.batch.extend_from_slice(values);
        if self.batch.len() >= self.rows * self.row {
            self.send_batch();
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), String> {
        self.join()?.finish().map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Waveforms;

    /// A sink that fails at its `n`-th point.
    struct FailAt(usize, usize);
    impl WaveSink for FailAt {
        type Error = String;
        fn begin(&mut self, _: &str, _: &str, _: &[Signal]) -> Result<(), String> {
            Ok(())
        }
        fn push(&mut self, _: f64, _: &[f64]) -> Result<(), String> {
            self.1 += 1;
            if self.1 == self.0 {
                Err(format!("disk full at point {}", self.0))
            } else {
                Ok(())
            }
        }
        fn finish(&mut self) -> Result<(), String> {
            Ok(())
        }
    }

    /// Every point arrives, in order, across many batches; after `join` the sink is usable
    /// directly (a last point, then `finish`).
    #[test]
    fn points_arrive_in_order_across_batches() {
        let sigs: Vec<Signal> = (0..300)
            .map(|k| Signal::voltage(&format!("n{k}")))
            .collect();
        let mut s = Background::new(Waveforms::default());
        s.begin("t", "Transient Analysis", &sigs).unwrap();
        let row: Vec<f64> = (0..300).map(|k| k as f64).collect();
        let n = 5 * (BATCH_BYTES / (8 * 301)) + 17;
        for i in 0..n {
            let v: Vec<f64> = row.iter().map(|r| r + i as f64).collect();
            s.push(i as f64, &v).unwrap();
        }
        s.join().unwrap();
        s.push(n as f64, &row).unwrap();
        s.finish().unwrap();
        let w = s.into_inner().unwrap();
        assert_eq!(w.time.len(), n + 1);
        assert!(w.time.iter().enumerate().all(|(i, &t)| t == i as f64));
        assert_eq!(w.signal("n7").unwrap()[n - 1], 7.0 + (n - 1) as f64);
        assert_eq!(w.signal("n299").unwrap()[n], 299.0);
    }

    /// The inner sink's error reaches the caller: by a later push or by `join`.
    #[test]
    fn an_inner_error_is_reported() {
        let mut s = Background::new(FailAt(10, 0));
        s.begin("t", "Transient Analysis", &[Signal::voltage("a")])
            .unwrap();
        let mut seen = None;
        for i in 0..10_000_000 {
            if let Err(e) = s.push(i as f64, &[0.0]) {
                seen = Some(e);
                break;
            }
        }
        let e = seen.unwrap_or_else(|| s.join().err().unwrap());
        assert_eq!(e, "disk full at point 10");
        assert_eq!(s.join().err().unwrap(), "disk full at point 10");
        assert!(s.finish().is_err());
    }
}

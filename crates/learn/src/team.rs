//! The threads of one epoch sharing its work: the epoch's thread publishes each minibatch (and
//! then each evaluation set), it and the helper threads claim its samples one at a time, and
//! the helpers wait for the next one by spinning instead of going back to rayon's pool, where
//! a worker falls asleep within some tens of microseconds and waking it costs as much again.
//!
//! Why not a `par_iter` per minibatch: Iris's samples take about 36 µs with the adjoint
//! engine, so a minibatch of 8 is 0.3 ms of work, and the update between two minibatches is
//! long enough for the second worker to fall asleep. Measured on this project's 2-core
//! machines (a model of the loop: 15 minibatches of 8 tasks of 34 µs, a serial gap between
//! them): with a fork-join per minibatch the 2-thread speedup was 1.6 at a 5 µs gap and 1.2
//! at 50 µs; with this team 1.90 and 1.70.
//!
//! No thread ever waits for another to *arrive*: the epoch's thread waits only for samples
//! already claimed (by threads that are running them), and a helper that starts late, or
//! never, only leaves more samples to the others. A helper waits a bounded time for the next
//! minibatch ([`IDLE_LIMIT`]) and then returns to the pool, so a team never holds a thread
//! that other work needs for long, and nesting an epoch inside other parallel work cannot
//! deadlock.
//!
//! The jobs can be claimed in an order of the caller's ([`Team::run_in_order`]): the trainer
//! puts a minibatch's longest samples first (by their time in the last epoch), so that the
//! threads run out of work closer together; the results come back in the minibatch's order
//! whatever the claim order, so sums over them do not change. Each job and its result sit on
//! cache lines of their own (a `Claim`): claiming one touches nothing the other thread is
//! writing but the claim counter. Measured on Iris with the adjoint engine (`examples/
//! throughput`, 2 threads against 1, interleaved runs on a 2-core machine): the longest-first
//! order and the padded claims together took the speedup from 1.73 to 1.79 (medians of six
//! pairs each); the threads' finishing times within a minibatch, 4-5 µs apart before, were
//! about 2 µs apart after (a temporary instrumentation of the loop).
//!
//! ```
//! use learn::team::Team;
//! let team = Team::new(4);
//! let square = |i: usize| i * i;
//! let results = rayon::in_place_scope(|s| {
//!     for _ in 1..rayon::current_num_threads() {
//!         s.spawn(|_| team.help(&square));
//!     }
//!     let r: Vec<Vec<usize>> = [[3, 1, 2, 5], [4, 0, 6, 7]].iter().map(|b| team.run(b, &square)).collect();
//!     team.end();
//!     r
//! });
//! assert_eq!(results, [[9, 1, 4, 25], [16, 0, 36, 49]]);
//! ```

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a helper waits for the next minibatch before it leaves the team.
pub const IDLE_LIMIT: Duration = Duration::from_millis(20);
/// Spins between looks at the clock (and, past [`SPIN_BEFORE_YIELD`], yields).
const SPINS_PER_CHECK: u32 = 64;
/// Waits up to this long spin on the CPU; longer ones yield it between looks.
const SPIN_BEFORE_YIELD: Duration = Duration::from_micros(200);

/// One minibatch at a time, shared by the epoch's threads: jobs `J` (a sample to run), each
/// with a result `R`.
pub struct Team<J, R> {
    /// `(generation << 32) | next unclaimed claim`: a claim is a compare-and-swap on both,
    /// so that a thread still holding the previous generation can never claim a job of
    /// the next minibatch.
    claim: AtomicU64,
    /// Length of the current minibatch.
    len: AtomicUsize,
    /// Samples of the current minibatch finished (results stored).
    done: AtomicUsize,
    /// Set by the epoch's thread after the last minibatch: helpers return.
    ended: AtomicBool,
    /// The current minibatch's jobs in the order they are claimed.
    claims: Vec<Claim<J, R>>,
}

/// A job of the current minibatch, its position in the minibatch and then its result, on
/// cache lines of its own: the epoch's thread writes it before the minibatch and reads it
/// after, and the one thread that claims it in between, so no two threads write a line at
/// once.
#[repr(align(128))]
struct Claim<J, R>(Mutex<ClaimState<J, R>>);

struct ClaimState<J, R> {
    pos: usize,
    job: Option<J>,
    result: Option<R>,
}

impl<J: Copy, R> Team<J, R> {
    /// A team for minibatches of at most `capacity` jobs.
    pub fn new(capacity: usize) -> Self {
        Team {
            claim: AtomicU64::new(0),
            len: AtomicUsize::new(0),
            done: AtomicUsize::new(0),
            ended: AtomicBool::new(false),
            claims: (0..capacity)
                .map(|_| {
                    Claim(Mutex::new(ClaimState {
                        pos: 0,
                        job: None,
                        result: None,
                    }))
                })
                .collect(),
        }
    }

    /// Run one minibatch on this thread and whichever helpers are waiting: `f(job)` for
    /// every job of `items`, results in the order of `items`. Called by the epoch's thread
    /// only, one minibatch at a time, with the `f` the helpers were given.
    pub fn run(&self, items: &[J], f: &impl Fn(J) -> R) -> Vec<R> {
        self.run_in_order(items, 0..items.len(), f)
    }

    /// [`Team::run`], the jobs claimed in the order of `order` (every position of `items`
    /// once): longest first, the threads finish a minibatch closer together. The results are
    /// still in the order of `items`.
    pub fn run_in_order(
        &self,
        items: &[J],
        order: impl IntoIterator<Item = usize>,
        f: &impl Fn(J) -> R,
    ) -> Vec<R> {
        let n = items.len();
        assert!(n <= self.claims.len(), "minibatch larger than the team");
        let mut placed = vec![false; n];
        let mut count = 0;
        for (c, pos) in self.claims.iter().zip(order) {
            assert!(
                !std::mem::replace(&mut placed[pos], true),
                "position {pos} twice in a claim order"
            );
            let mut st = c.0.lock().unwrap();
            st.pos = pos;
            st.job = Some(items[pos]);
            count += 1;
        }
        assert_eq!(count, n, "a claim order of every job");
        self.len.store(n, Ordering::Relaxed);
        self.done.store(0, Ordering::Relaxed);
        let generation = (self.claim.load(Ordering::Relaxed) >> 32) + 1;
        // publish: everything above happens before any claim of this generation
        self.claim.store(generation << 32, Ordering::Release);
        self.work(generation, f);
        // the samples others claimed: each is being run by a thread that is running
        wait_until(|| self.done.load(Ordering::Acquire) == n, None);
        let mut results: Vec<Option<R>> = (0..n).map(|_| None).collect();
        for c in &self.claims[..n] {
            let mut st = c.0.lock().unwrap();
            results[st.pos] = st.result.take();
        }
        results
            .into_iter()
            .map(|r| r.expect("every claimed sample stores its result"))
            .collect()
    }

    /// The last minibatch is done: helpers return.
    pub fn end(&self) {
        self.ended.store(true, Ordering::Release);
    }

    /// A helper: claim samples of each minibatch as it is published, until [`Team::end`] or
    /// until no minibatch comes for [`IDLE_LIMIT`].
    pub fn help(&self, f: &impl Fn(J) -> R) {
        let mut seen = 0u64;
        loop {
            let mut generation = 0;
            let fresh = wait_until(
                || {
                    generation = self.claim.load(Ordering::Acquire) >> 32;
                    generation != seen || self.ended.load(Ordering::Acquire)
                },
                Some(IDLE_LIMIT),
            );
            if !fresh || self.ended.load(Ordering::Acquire) {
                return;
            }
            seen = generation;
            self.work(generation, f);
        }
    }

    /// Claim and run jobs of minibatch `generation` while any are left.
    fn work(&self, generation: u64, f: &impl Fn(J) -> R) {
        loop {
            let c = self.claim.load(Ordering::Acquire);
            let k = (c & 0xFFFF_FFFF) as usize;
            if c >> 32 != generation || k >= self.len.load(Ordering::Relaxed) {
                return;
            }
            if self
                .claim
                .compare_exchange_weak(c, c + 1, Ordering::AcqRel, Ordering::Relaxed)
                .is_err()
            {
                continue;
            }
            let claim = &self.claims[k].0;
            let job = claim.lock().unwrap().job.take().expect("a published job");
            let r = f(job);
            claim.lock().unwrap().result = Some(r);
            self.done.fetch_add(1, Ordering::Release);
        }
    }
}

/// Spin until `ready()`, yielding the CPU between looks after [`SPIN_BEFORE_YIELD`]; false
/// if `limit` passed first.
fn wait_until(mut ready: impl FnMut() -> bool, limit: Option<Duration>) -> bool {
    let start = Instant::now();
    loop {
        for _ in 0..SPINS_PER_CHECK {
            if ready() {
                return true;
            }
            std::hint::spin_loop();
        }
        let waited = start.elapsed();
        if limit.is_some_and(|l| waited > l) {
            return false;
        }
        if waited > SPIN_BEFORE_YIELD {
            std::thread::yield_now();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every sample of every minibatch runs exactly once and comes back in order, with and
    /// without helpers, including a helper that joins late and minibatches of every length.
    #[test]
    fn every_sample_once_in_order() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        let calls: Vec<AtomicUsize> = (0..1000).map(|_| AtomicUsize::new(0)).collect();
        let f = |i: usize| {
            calls[i].fetch_add(1, Ordering::Relaxed);
            // uneven work, so that claims interleave
            let mut x = i as f64;
            for _ in 0..(i % 7) * 200 {
                x = (x * 1.000_001).sqrt() + 1.0;
            }
            (i, x > 0.0)
        };
        let team = Team::new(16);
        let order: Vec<usize> = (0..1000).rev().collect();
        let mut got = Vec::new();
        pool.scope(|s| {
            s.spawn(|_| team.help(&f));
            s.spawn(|_| {
                std::thread::sleep(Duration::from_millis(2));
                team.help(&f)
            });
            for (k, batch) in order.chunks(1 + order.len() / 97).enumerate() {
                let b = &batch[..batch.len().min(1 + k % 16)];
                // every other minibatch claimed in another order: odd positions from the
                // last, then even ones
                let r = if k % 2 == 0 {
                    team.run(b, &f)
                } else {
                    let odd = (0..b.len()).rev().filter(|p| p % 2 == 1);
                    team.run_in_order(b, odd.chain((0..b.len()).step_by(2)), &f)
                };
                assert_eq!(r.iter().map(|p| p.0).collect::<Vec<_>>(), b);
                got.extend_from_slice(b);
            }
            team.end();
        });
        for (i, c) in calls.iter().enumerate() {
            let want = got.iter().filter(|&&g| g == i).count();
            assert_eq!(c.load(Ordering::Relaxed), want, "sample {i}");
        }
        // with no helper at all the epoch's thread runs everything
        let alone = Team::new(4);
        assert_eq!(
            alone
                .run(&[3, 1, 2], &f)
                .iter()
                .map(|p| p.0)
                .collect::<Vec<_>>(),
            [3, 1, 2]
        );
    }

    /// A claim order must name every position once.
    #[test]
    #[should_panic(expected = "position 1 twice in a claim order")]
    fn a_claim_order_with_a_position_twice_is_refused() {
        let team = Team::new(4);
        team.run_in_order(&[5, 6, 7], [0, 1, 1], &|i: usize| i);
    }

    /// A claim order must name every position.
    #[test]
    #[should_panic(expected = "a claim order of every job")]
    fn a_claim_order_missing_a_position_is_refused() {
        let team = Team::new(4);
        team.run_in_order(&[5, 6, 7], [2, 0], &|i: usize| i);
    }

    /// A helper with no minibatch coming gives its thread back after the idle limit.
    #[test]
    fn an_idle_helper_returns() {
        let team: Team<usize, ()> = Team::new(1);
        let t0 = Instant::now();
        team.help(&|_| ());
        let waited = t0.elapsed();
        assert!(
            waited >= IDLE_LIMIT && waited < IDLE_LIMIT * 50,
            "{waited:?}"
        );
    }
}

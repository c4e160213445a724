//! `Handle::metrics()`: counters and gauges of a running runtime, stable
//! and always on.
//!
//! # Where the counters live
//!
//! 1. **One block per worker.** Each worker (the current-thread flavor has
//!    one, the core) owns a [`WorkerCounters`]: its hot-path counters and
//!    its two histograms, padded to cache lines of their own, so a worker's
//!    writes never touch a line another worker writes. (A multi-thread
//!    worker's poll count is its LIFO slot's progress counter, on that
//!    worker's own padded line too: `multi_thread::lifo`, rule 2.)
//! 2. **One writer.** Only the thread that runs the worker's loop (for the
//!    current-thread flavor: the thread holding the core) writes its block.
//!    A counter is bumped with a `Relaxed` load and a `Relaxed` store, not a
//!    read-modify-write: with one writer no update can be lost, and a plain
//!    store costs no locked instruction. (The core's hand-off between
//!    `block_on` threads is an `AcqRel` swap, which orders one holder's
//!    writes before the next holder's loads.)
//! 3. **Readers sum.** [`Handle::metrics`](crate::runtime::Handle::metrics)
//!    loads every counter with `Relaxed`: each is a statistic on its own,
//!    nothing is published through it, and a reader accepts a value a few
//!    operations old. A value is one atomic word, so it is never torn.
//!    Counters only grow (they wrap after 2^64 events).
//! 4. **Gauges are read, not kept.** Queue depths, registered sources,
//!    pending timers and the blocking pool's threads are read from the
//!    structures themselves when a snapshot is taken; the hot path pays
//!    nothing for them.
//! 5. **Histograms are sampled, always on.** About one poll and one wake in
//!    [`HISTOGRAM_SAMPLE_INTERVAL`] are timed, in debug mode or not, for
//!    every task, named or not; how they are picked, without bias, and why
//!    not every one is in `runtime::sampling`. Poll duration is the time
//!    inside one poll; schedule latency runs from the wake (or spawn, or
//!    yield) that queued the task to the start of its poll. A latency
//!    sample carries a weight (the wakes skipped while it was in flight,
//!    plus one), added to its bucket.
//!
//! Counters are `std` atomics even under loom: they are statistics, not a
//! synchronisation protocol, and nothing reads them to decide anything.

use crate::loom::std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::fmt;
use std::time::Duration;

use crossbeam_utils::CachePadded;

/// Buckets of each histogram (see [`Histogram`]).
pub const HISTOGRAM_BUCKETS: usize = 20;

/// The histograms time about one poll, and one wake, in this many (see
/// [`Histogram`]): multiply their counts by it to estimate totals.
///
/// Why 1,024: a sampled poll and a sampled wake cost three exact clock
/// reads (~20 ns each), a slot CAS and a claim; at one in 128 that was
/// 2-3% of the cheapest poll, a yield of ~24 ns (docs/PERFORMANCE.md,
/// "Debug mode and metrics cost"), most of the always-on budget of 3%. At
/// one in 1,024 it is under 0.5%, and a runtime doing a million polls a
/// second still takes about a thousand samples a second.
///
/// ```
/// let rt = windlass::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     for _ in 0..10_000 {
///         windlass::task::yield_now().await;
///     }
///     for i in 0..1_000 {
///         windlass::spawn(async move { i }).await.unwrap();
///     }
/// });
/// let m = rt.handle().metrics();
/// let n = u64::from(windlass::runtime::HISTOGRAM_SAMPLE_INTERVAL);
/// // About 1,000 polls of spawned tasks, sampled one in about 1,024
/// // (and the first poll of the `block_on`).
/// let estimate = m.poll_duration.total() * n;
/// assert!(estimate > 100 && estimate < 10_000, "{estimate}");
/// ```
pub const HISTOGRAM_SAMPLE_INTERVAL: u32 = 1024;

/// One worker's counters (rule 1), written by that worker only (rule 2).
#[derive(Default)]
pub(crate) struct WorkerCounters(CachePadded<Counters>);

#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) polls: AtomicU64,
    pub(crate) steal_operations: AtomicU64,
    pub(crate) stolen_tasks: AtomicU64,
    pub(crate) parks: AtomicU64,
    pub(crate) unparks: AtomicU64,
    pub(crate) lifo_hits: AtomicU64,
    pub(crate) forced_yields: AtomicU64,
    poll_duration: Buckets,
    schedule_latency: Buckets,
}

#[derive(Default)]
struct Buckets([AtomicU64; HISTOGRAM_BUCKETS]);

/// Adds `n` to a counter of the calling worker (rule 2: one writer, so a
/// load and a store, both `Relaxed`, cannot lose an update).
#[inline(always)]
pub(crate) fn add(counter: &AtomicU64, n: u64) {
    counter.store(counter.load(Relaxed).wrapping_add(n), Relaxed);
}

impl std::ops::Deref for WorkerCounters {
    type Target = Counters;
    fn deref(&self) -> &Counters {
        &self.0
    }
}

impl WorkerCounters {
    /// A sampled poll (rule 5) took `ns`.
    pub(crate) fn record_duration(&self, ns: u64) {
        self.0.poll_duration.record(ns, 1);
    }

    /// A sampled wake (rule 5) waited `ns` in a queue; it stands for
    /// `weight` wakes.
    pub(crate) fn record_latency(&self, ns: u64, weight: u64) {
        self.0.schedule_latency.record(ns, weight);
    }

    /// This block as a value; `local_queue_depth` comes from the queue.
    pub(crate) fn snapshot(&self, local_queue_depth: usize) -> WorkerMetrics {
        // Relaxed: rule 3.
        let c = &*self.0;
        WorkerMetrics {
            polls: c.polls.load(Relaxed),
            steal_operations: c.steal_operations.load(Relaxed),
            stolen_tasks: c.stolen_tasks.load(Relaxed),
            parks: c.parks.load(Relaxed),
            unparks: c.unparks.load(Relaxed),
            lifo_hits: c.lifo_hits.load(Relaxed),
            forced_yields: c.forced_yields.load(Relaxed),
            local_queue_depth,
        }
    }

    /// Adds this block's histograms to `poll` and `latency`.
    pub(crate) fn sum_histograms(&self, poll: &mut Histogram, latency: &mut Histogram) {
        self.0.poll_duration.sum_into(poll);
        self.0.schedule_latency.sum_into(latency);
    }
}

impl Buckets {
    fn record(&self, ns: u64, weight: u64) {
        add(&self.0[bucket_of(ns)], weight);
    }

    fn sum_into(&self, h: &mut Histogram) {
        for (sum, b) in h.counts.iter_mut().zip(&self.0) {
            // Relaxed: rule 3.
            *sum = sum.wrapping_add(b.load(Relaxed));
        }
    }
}

/// The bucket of a duration in nanoseconds: 0 below 1 µs, then one per
/// power of two of microseconds, the last one open-ended.
fn bucket_of(ns: u64) -> usize {
    let micros = ns / 1_000;
    let bits = (u64::BITS - micros.leading_zeros()) as usize;
    bits.min(HISTOGRAM_BUCKETS - 1)
}

/// A snapshot of a runtime's metrics, from
/// [`Handle::metrics`](crate::runtime::Handle::metrics).
///
/// Counters (`polls`, `parks`, ...) count since the runtime started;
/// depths and thread counts are gauges, read when the snapshot was taken.
/// Each number is read on its own, so numbers taken while the runtime runs
/// need not add up exactly.
///
/// ```
/// let rt = windlass::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     for i in 0..10 {
///         windlass::spawn(async move { i }).await.unwrap();
///     }
/// });
/// let m = rt.handle().metrics();
/// assert_eq!(m.workers.len(), 1); // current-thread: one worker entry
/// assert!(m.workers[0].polls >= 10);
/// assert_eq!(m.injector_depth, 0);
/// println!("{m}");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RuntimeMetrics {
    /// One entry per worker thread, in worker order (current-thread: one).
    pub workers: Vec<WorkerMetrics>,
    /// Tasks waiting in the injector, the multi-thread flavor's shared
    /// queue fed from outside the workers (current-thread: always 0, its
    /// one run queue is the worker's `local_queue_depth`).
    pub injector_depth: usize,
    /// The I/O and timer reactor.
    pub reactor: ReactorMetrics,
    /// The blocking pool behind `spawn_blocking`.
    pub blocking: BlockingMetrics,
    /// How long polls took: about one poll in
    /// [`HISTOGRAM_SAMPLE_INTERVAL`], picked at random (see [`Histogram`]).
    pub poll_duration: Histogram,
    /// How long tasks waited in a queue, from the wake (or spawn, or yield)
    /// that queued the task to the start of its poll: about one wake in
    /// [`HISTOGRAM_SAMPLE_INTERVAL`], picked at random (see [`Histogram`]).
    pub schedule_latency: Histogram,
}

/// One worker's counters; see [`RuntimeMetrics`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkerMetrics {
    /// Task polls started by this worker.
    pub polls: u64,
    /// Successful steals from other workers' queues (each moves a batch).
    pub steal_operations: u64,
    /// Tasks moved into this worker by those steals.
    pub stolen_tasks: u64,
    /// Times this worker went to sleep for lack of work.
    pub parks: u64,
    /// Times it woke up again.
    pub unparks: u64,
    /// Tasks queued in its local queue when the snapshot was taken.
    pub local_queue_depth: usize,
    /// Tasks it ran from its LIFO slot (woken by its previous task and run
    /// next, while their data is hot).
    pub lifo_hits: u64,
    /// Times a task on this worker spent its cooperative budget and was
    /// made to yield (see [`consume_budget`](crate::task::consume_budget)).
    pub forced_yields: u64,
}

/// The reactor's part of [`RuntimeMetrics`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReactorMetrics {
    /// False until the first I/O source or timer starts the reactor; the
    /// other fields are 0 until then.
    pub started: bool,
    /// Waits on the OS poller (blocking or not).
    pub turns: u64,
    /// Readiness events those waits returned.
    pub events: u64,
    /// I/O sources registered now.
    pub registered_sources: usize,
    /// Timers waiting to fire now (sleeps, timeouts, intervals).
    pub pending_timers: usize,
}

/// The blocking pool's part of [`RuntimeMetrics`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BlockingMetrics {
    /// Threads running a closure now.
    pub threads_busy: usize,
    /// Threads alive and waiting for a closure.
    pub threads_idle: usize,
    /// Closures waiting for a thread.
    pub queued: usize,
}

/// A histogram of durations in [`HISTOGRAM_BUCKETS`] buckets: bucket 0
/// holds durations under 1 µs, bucket `i` those in `[2^(i-1), 2^i)` µs,
/// and the last one everything from `2^(HISTOGRAM_BUCKETS - 2)` µs
/// (262 ms) up.
///
/// Always on, and sampled: about one event in
/// [`HISTOGRAM_SAMPLE_INTERVAL`] is timed, picked with random gaps so that
/// no task or period is favoured, for every task, in debug mode or not.
/// Timing every poll would cost more than windlass allows its always-on
/// metrics (docs/PERFORMANCE.md). Each worker's first poll and each
/// thread's first wake are sampled, so even a short run shows some.
/// Multiply counts by [`HISTOGRAM_SAMPLE_INTERVAL`] to estimate totals.
///
/// ```
/// let rt = windlass::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async { windlass::spawn(async {}).await.unwrap() });
/// let m = rt.handle().metrics();
/// // The worker's first poll and the thread's first wake are sampled.
/// assert_eq!(m.poll_duration.total(), 1);
/// assert_eq!(m.schedule_latency.total(), 1);
/// let h = m.poll_duration;
/// assert_eq!(h.bucket_range(0), (std::time::Duration::ZERO, Some(std::time::Duration::from_micros(1))));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Histogram {
    /// Samples per bucket.
    pub counts: [u64; HISTOGRAM_BUCKETS],
}

impl Histogram {
    /// Samples in all buckets.
    pub fn total(&self) -> u64 {
        self.counts.iter().fold(0u64, |a, &b| a.wrapping_add(b))
    }

    /// The range of bucket `i`: its lower bound and its upper bound
    /// (exclusive; `None` for the last, open-ended bucket).
    ///
    /// # Panics
    /// If `i >= HISTOGRAM_BUCKETS`.
    pub fn bucket_range(&self, i: usize) -> (Duration, Option<Duration>) {
        assert!(
            i < HISTOGRAM_BUCKETS,
            "bucket index {i} out of range: a Histogram has HISTOGRAM_BUCKETS ({HISTOGRAM_BUCKETS}) buckets"
        );
        let lower = if i == 0 {
            Duration::ZERO
        } else {
            Duration::from_micros(1 << (i - 1))
        };
        let upper = (i + 1 < HISTOGRAM_BUCKETS).then(|| Duration::from_micros(1 << i));
        (lower, upper)
    }
}

impl fmt::Display for Histogram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (i, &n) in self.counts.iter().enumerate() {
            if n == 0 {
                continue;
            }
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            match self.bucket_range(i) {
                (lo, Some(hi)) => write!(f, "[{lo:?}, {hi:?}): {n}")?,
                (lo, None) => write!(f, ">= {lo:?}: {n}")?,
            }
        }
        if first {
            f.write_str("(empty)")?;
        }
        Ok(())
    }
}

impl fmt::Display for RuntimeMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, w) in self.workers.iter().enumerate() {
            writeln!(
                f,
                "worker {i}: polls {}, steals {} ({} tasks), parks {}, unparks {}, queue {}, lifo hits {}, forced yields {}",
                w.polls,
                w.steal_operations,
                w.stolen_tasks,
                w.parks,
                w.unparks,
                w.local_queue_depth,
                w.lifo_hits,
                w.forced_yields
            )?;
        }
        writeln!(f, "injector: {}", self.injector_depth)?;
        let r = &self.reactor;
        writeln!(
            f,
            "reactor: started {}, turns {}, events {}, sources {}, timers {}",
            r.started, r.turns, r.events, r.registered_sources, r.pending_timers
        )?;
        let b = &self.blocking;
        writeln!(
            f,
            "blocking: busy {}, idle {}, queued {}",
            b.threads_busy, b.threads_idle, b.queued
        )?;
        writeln!(f, "poll duration: {}", self.poll_duration)?;
        write!(f, "schedule latency: {}", self.schedule_latency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_powers_of_two_of_micros() {
        let of = |d: Duration| bucket_of(d.as_nanos() as u64);
        assert_eq!(of(Duration::from_nanos(999)), 0);
        assert_eq!(of(Duration::from_micros(1)), 1);
        assert_eq!(of(Duration::from_micros(3)), 2);
        assert_eq!(of(Duration::from_micros(4)), 3);
        assert_eq!(of(Duration::from_secs(100)), HISTOGRAM_BUCKETS - 1);
        let h = Histogram::default();
        for i in 0..HISTOGRAM_BUCKETS {
            let (lo, hi) = h.bucket_range(i);
            assert_eq!(of(lo), i);
            if let Some(hi) = hi {
                assert_eq!(of(hi), i + 1);
            }
        }
    }

    #[test]
    fn one_writer_counts_and_histograms_sum() {
        let c = WorkerCounters::default();
        add(&c.polls, 1);
        add(&c.polls, 2);
        c.record_duration(5_000);
        c.record_latency(0, 1);
        let m = c.snapshot(7);
        assert_eq!((m.polls, m.local_queue_depth), (3, 7));
        let (mut p, mut l) = (Histogram::default(), Histogram::default());
        c.sum_histograms(&mut p, &mut l);
        assert_eq!((p.counts[3], l.counts[0], p.total()), (1, 1, 1));
    }
}

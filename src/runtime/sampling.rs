//! Always-on histograms by sampling: which polls and which wakes feed the
//! poll-duration and schedule-latency histograms of `Handle::metrics()`.
//!
//! An exact clock read costs about 20 ns on a typical Linux machine, half
//! of a whole poll of a task that yields; timing every poll and every wake
//! would cost the hot path far more than the 3% its always-on metrics may.
//! So about one poll and one wake in [`HISTOGRAM_SAMPLE_INTERVAL`] (`N`)
//! are timed, chosen so that the sample is unbiased.
//!
//! # Protocol
//!
//! 1. **Sampled polls.** Each worker keeps a countdown in its core (the
//!    current-thread flavor: in the frame of the `block_on` holding the
//!    core), a plain integer only that thread touches. Each poll counts it
//!    down;
//!    at zero the poll is timed with two exact clock reads, its duration
//!    goes to the worker's poll-duration histogram, and the countdown
//!    restarts at a pseudo-random gap in `1..=2N-1` (mean `N`). A random
//!    gap, not every `N`th poll, so that a worker alternating between a few
//!    tasks cannot sample the same one forever.
//! 2. **Sampled wakes.** Each thread that queues a task (a wake, a yield, a
//!    spawn) keeps a countdown, restarted the same way: a worker in its
//!    core, any other thread in a thread-local. At
//!    zero it *arms* the runtime's one [`WakeSlot`]: if the slot is empty
//!    it takes it (a CAS from null to `ARMING`), stamps the time, stores
//!    the task's pointer (`Release`), and marks the task's own header
//!    (`task::site` rule 6), all before the task is pushed to a run queue,
//!    so no run of the task can come first. If the slot is busy, the hit
//!    is counted as missed and the task is not marked.
//! 3. **Claim.** A run of a task (poll, cancel or skip) reads the mark in
//!    the header word it loads anyway, so the poll path never reads the
//!    slot, a line shared by every worker. A marked run clears the mark
//!    and calls its scheduler's `wake_sampled`, which loads the slot with
//!    `Acquire` (pairing with rule 2's `Release`, so the stamp is
//!    visible), checks that it holds this task, reads the stamp and
//!    empties the slot with a CAS. The latency, from the stamp to the
//!    start of the run, is recorded in the running worker's histogram
//!    with a weight of 1 plus the misses (swapped to 0): a sample stands
//!    for the hits skipped while it was in flight, so busy periods, whose
//!    samples are in flight longer, are not under-weighted. A run on a
//!    thread that is not a worker (a cancel at shutdown) empties the slot
//!    and records nothing.
//! 4. **The pointer names the wake.** An armed task is queued, so it holds
//!    a reference and stays allocated until its next run, and that run
//!    claims the slot first: no other task can have the address
//!    meanwhile. A task dropped from a queue unrun (shutdown only) leaves
//!    the slot armed while the runtime ends.
//! 5. **Totals.** Each histogram holds about one sample per `N` events:
//!    its counts times `N` estimate the polls (wakes) per bucket. The
//!    per-worker `polls` counter counts every poll exactly.
//!
//! The slot is never dereferenced: a pointer is only compared. A lost race
//! can only make one sample wrong, never the runtime unsound, so these are
//! `std` atomics even under loom, like the metrics counters
//! (`runtime::metrics`), and stay out of the runtime's loom models. The
//! mark is part of the task's site word, whose protocol has its own loom
//! model (`loom-tests/tests/task_dump.rs`).

use crate::loom::std::sync::atomic::{AtomicPtr, AtomicU64, Ordering::*};
use std::cell::Cell;
use std::ptr::{NonNull, null_mut};

use crossbeam_utils::CachePadded;

use super::metrics::{HISTOGRAM_SAMPLE_INTERVAL, WorkerCounters};
use crate::task::core::Header;
use crate::task::site::now_ns;
use crate::task::{Notified, WorkerTag};

/// Rule 3: no task's address (tasks are 8-byte aligned).
const ARMING: *mut Header = std::ptr::without_provenance_mut(1);

/// The next countdown after `rng`'s state: a gap in `1..=2N-1` (rules 1
/// and 2), and the new state (xorshift32).
fn next_gap(rng: u32) -> (u32, u32) {
    let mut x = rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    (1 + x % (2 * HISTOGRAM_SAMPLE_INTERVAL - 1), x)
}

/// Rules 1 and 2's countdown, owned by one thread: a worker's core, the
/// frame of a current-thread `block_on`, or a thread-local.
#[derive(Clone, Copy)]
pub(crate) struct Countdown {
    left: u32,
    rng: u32,
}

impl Countdown {
    /// A countdown whose first event is sampled; `seed` picks the gaps.
    pub(crate) const fn new(seed: u32) -> Countdown {
        Countdown {
            left: 1,
            rng: seed | 1,
        }
    }

    /// Counts one event down; true if this one is sampled.
    ///
    /// On the hot path of every poll and every local wake: a decrement and
    /// a test for zero (`left` is never 0 between calls), with the restart
    /// out of line.
    #[inline(always)]
    pub(crate) fn tick(&mut self) -> bool {
        self.left -= 1;
        if self.left != 0 {
            return false;
        }
        self.restart();
        true
    }

    /// A hit: the next gap (rules 1 and 2).
    #[cold]
    #[inline(never)]
    fn restart(&mut self) {
        (self.left, self.rng) = next_gap(self.rng);
    }
}

thread_local! {
    /// Rule 2's countdown of a thread that is not a worker.
    static WAKES: Cell<Countdown> = const { Cell::new(Countdown::new(0x9E37_79B9)) };
}

/// Rules 2 and 3: the one wake being timed, per runtime, on a cache line
/// of its own.
#[derive(Default)]
pub(crate) struct WakeSlot(CachePadded<Slot>);

#[derive(Default)]
struct Slot {
    /// The armed task, `ARMING`, or null.
    task: AtomicPtr<Header>,
    /// When it was queued (ns since the process epoch).
    stamp: AtomicU64,
    /// Rule 3's misses.
    missed: AtomicU64,
}

impl WakeSlot {
    /// Rule 2: `task` is about to be queued by a thread that is not a
    /// worker (its countdown is thread-local).
    #[inline(always)]
    pub(crate) fn on_schedule(&self, task: &Notified) {
        let hit = WAKES.with(|w| {
            let mut countdown = w.get();
            let hit = countdown.tick();
            w.set(countdown);
            hit
        });
        if hit {
            self.arm(task);
        }
    }

    /// Rule 2 at a countdown's hit: `task` is about to be queued.
    ///
    /// Under loom nothing is armed: a non-worker's countdown is a `std`
    /// thread-local that outlives a model's iteration, so marking (a loom
    /// operation on the site word) would make iterations differ. The mark's
    /// protocol has its own model (`loom-tests/tests/task_dump.rs`).
    #[cold]
    pub(crate) fn arm(&self, task: &Notified) {
        if cfg!(loom) {
            return;
        }
        if self.take(task.header_ptr()) {
            task.mark_wake_sampled();
        }
    }

    /// Rule 2's slot half: takes the empty slot for `task`, or counts a
    /// miss. True if taken.
    fn take(&self, task: NonNull<Header>) -> bool {
        let slot = &*self.0;
        // Acquire: the slot's previous sample was claimed before we reuse
        // its stamp (pairs with the claim's release CAS).
        if slot
            .task
            .compare_exchange(null_mut(), ARMING, Acquire, Relaxed)
            .is_err()
        {
            slot.missed.fetch_add(1, Relaxed);
            return false;
        }
        slot.stamp.store(now_ns(), Relaxed);
        // Release: the stamp before the pointer (rule 3's Acquire).
        slot.task.store(task.as_ptr(), Release);
        true
    }

    /// Rule 3, from a scheduler's `wake_sampled`: claims `task`'s wake and
    /// records its latency, up to now, in `counters` (`None`: the run is
    /// not on a worker; the slot is emptied, nothing recorded).
    pub(crate) fn claim_into(&self, task: NonNull<Header>, counters: Option<&WorkerCounters>) {
        let start = now_ns();
        if let (Some((stamp, weight)), Some(counters)) = (self.claim(task), counters) {
            counters.record_latency(start.saturating_sub(stamp), weight);
        }
    }

    /// Rule 3: the stamp and weight of `task`'s wake, if it is armed.
    fn claim(&self, task: NonNull<Header>) -> Option<(u64, u64)> {
        let slot = &*self.0;
        // Acquire: pairs with `arm`'s Release, so the stamp is this wake's.
        if slot.task.load(Acquire) != task.as_ptr() {
            return None;
        }
        let stamp = slot.stamp.load(Relaxed);
        // Release: the next `arm` (Acquire) comes after our stamp read.
        slot.task
            .compare_exchange(task.as_ptr(), null_mut(), Release, Relaxed)
            .ok()?;
        Some((stamp, 1 + slot.missed.swap(0, Relaxed)))
    }
}

/// Runs `task` on the calling worker, timing the poll if rule 1 picked it
/// (`timed`, from the worker's own countdown), and recording `tag` as its
/// last worker (task rule 10). `counters` are the worker's, looked up only
/// when needed. (A sampled wake is timed by the run itself, rule 3.)
#[inline(always)]
pub(crate) fn run<'a>(
    task: Notified,
    timed: bool,
    tag: WorkerTag,
    counters: impl FnOnce() -> &'a WorkerCounters,
) {
    if timed {
        run_timed(task, tag, counters());
    } else {
        task.run_tagged(tag);
    }
}

#[cold]
#[inline(never)]
fn run_timed(task: Notified, tag: WorkerTag, counters: &WorkerCounters) {
    let start = now_ns();
    task.run_tagged(tag);
    counters.record_duration(now_ns().saturating_sub(start));
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    #[cfg_attr(
        miri,
        ignore = "arithmetic only (no unsafe); its 10^5-10^6 steps take minutes under Miri"
    )]
    fn gaps_average_the_interval_and_stay_in_range() {
        let n = u64::from(HISTOGRAM_SAMPLE_INTERVAL);
        let (mut rng, mut sum) = (0x2545_F491, 0u64);
        for _ in 0..100_000 {
            let (gap, next) = next_gap(rng);
            rng = next;
            assert!(gap >= 1 && u64::from(gap) < 2 * n);
            sum += u64::from(gap);
        }
        let mean = sum / 100_000;
        assert!(mean.abs_diff(n) <= n / 20, "mean gap {mean}, want ~{n}");
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "arithmetic only (no unsafe); its 10^5-10^6 steps take minutes under Miri"
    )]
    fn the_countdown_samples_the_first_event_then_one_in_about_n() {
        let mut c = Countdown::new(7);
        assert!(c.tick());
        let sampled = (0..1_000_000).filter(|_| c.tick()).count() as u64;
        let want = 1_000_000 / u64::from(HISTOGRAM_SAMPLE_INTERVAL);
        assert!(sampled.abs_diff(want) <= want / 10, "{sampled} vs ~{want}");
    }

    #[test]
    fn an_armed_wake_is_claimed_once_with_its_misses() {
        let slot = WakeSlot::default();
        let a = NonNull::<Header>::dangling();
        // Only addresses: the slot never dereferences them (module docs).
        let b = NonNull::new(a.as_ptr().wrapping_byte_add(64)).unwrap();
        assert!(slot.take(a));
        assert!(!slot.take(b)); // busy: a miss
        assert_eq!(slot.claim(b), None);
        let (stamp, weight) = slot.claim(a).expect("armed");
        assert!(stamp <= now_ns());
        assert_eq!(weight, 2);
        assert_eq!(slot.claim(a), None);
        assert!(slot.take(b));
        assert_eq!(slot.claim(b).map(|(_, w)| w), Some(1));
    }
}

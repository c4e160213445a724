//! The blocked-worker watchdog (rule 3 of [`debug`](super)), and the coarse
//! clock it keeps for debug mode's poll timing.
//!
//! # Protocol
//!
//! Each worker owns one [`PollSlot`], on its own cache line; only that
//! worker writes it, and only in debug mode. The slot holds no time: a
//! worker reads no clock to publish a poll.
//!
//! 1. **Begin.** Before polling a task the worker bumps the slot's `seq`
//!    (a `Relaxed` load and store: it is the only writer), then stores
//!    `task`, the task's id, with `Release`.
//! 2. **End.** After the poll it stores `task = 0` (`Relaxed`: nothing is
//!    published with it).
//! 3. **Look.** Every [`STEP`] the watchdog reads the clock (`now`) and,
//!    for each worker, loads `task` (`Acquire`, pairing with rule 1's
//!    `Release`), then `seq`; then it reads the clock again (`after`).
//!    Having seen the id stored by the begin of poll `j`, it sees a `seq`
//!    of at least `j`: a pair never puts a task beside the number of an
//!    older poll. A zero `task` means no poll is in progress.
//! 4. **First seen.** Per worker the watchdog remembers the `seq` of the
//!    poll in progress and the `after` of the look that first saw it. That
//!    poll began before that look's loads, so at a later look whose loads
//!    still see it, it has lasted at least `now - first_seen`: a report is
//!    never early, and at most about one [`STEP`] late.
//! 5. **Report.** When a look still sees the same `seq` in progress, the
//!    poll has lasted past the threshold by rule 4, and it has not been
//!    reported yet, the watchdog looks the task up by id in the owned list
//!    (under its shard lock, so the header is alive) and reports it. A task
//!    that has completed meanwhile is not found and not reported. So each
//!    poll is reported at most once, while it is (or was a moment ago) in
//!    progress.
//! 6. **Coarse clock.** At each look the watchdog stores `now` (ns since
//!    the process epoch) in the runtime's [`CoarseClock`] (`Relaxed`: a
//!    statistic; nothing else is published with it). In debug mode a
//!    worker times polls by loading it (`Schedule::poll_clock_ns`): one
//!    load, where an exact read costs ~20 ns, as much as a whole poll of a
//!    yielding task. A coarse time is never ahead of the real time and
//!    lags it by at most one [`STEP`] plus the watchdog's scheduling delay.
//!    The coarse duration of a poll counts the steps it spans, so over many
//!    polls the sum is the busy time without bias (`Handle::dump`'s
//!    counters). A poll whose coarse duration comes within half the
//!    threshold of it is timed again with an exact end
//!    (`debug::report_poll`): a slow-poll report never understates a poll,
//!    and overstates it by at most the lag of its coarse start.
//!    While the watchdog sleeps (rule 8) the clock holds 0, and a reader
//!    that finds 0 reads the exact clock instead: a stale coarse time is
//!    never used.
//! 7. **Stop.** The runtime's shutdown sets `stop` and wakes the watchdog,
//!    which stores 0 in the coarse clock (as rule 8 does) and exits: a
//!    poll still in progress, the one shutdown waits for, ends on the
//!    exact clock, not on a time frozen at the last look. It holds no
//!    reference to the scheduler of its own; its rule-8 view of the
//!    activity (`Idle`) holds the runtime's clock, whose queued-work hook
//!    holds the scheduler until shutdown clears it.
//! 8. **Idle.** When [`IDLE_LOOKS`] looks in a row found (by a plain read)
//!    no unit of the
//!    runtime's activity held (no worker awake, no `block_on` thread
//!    polling, no blocking job: `reactor::activity`, rule 2), nothing can
//!    poll, so the watchdog stores 0 in the coarse clock (rule 6) and
//!    registers as the activity's watcher (`reactor::activity` rule 6).
//!    If the count is still zero it sleeps until the first enter kicks it
//!    or the runtime stops; awake again, it publishes the time and looks
//!    every [`STEP`] as before. (A kick that arrives after the watchdog
//!    woke for another reason only cuts its next idle sleep short.) An
//!    idle runtime in debug mode thus costs no
//!    wake-ups, and a worker that wakes needs no watchdog to time its
//!    polls (rule 6's 0). A poll cannot start unseen: a worker polls only
//!    while holding a unit, and its enter kicks the watchdog first.

use crate::loom::std::sync::Arc;
use std::time::Duration;

use crossbeam_utils::CachePadded;

use super::{DebugEvent, Settings, TaskInfo};
use crate::loom::sync::atomic::{AtomicU64, Ordering::*};
use crate::loom::sync::{Condvar, Mutex};
use crate::task::Id;
use crate::task::site::now_ns;

/// How often the watchdog looks and moves the coarse clock (rules 3 and
/// 6). Why 1 ms: asyncio's slow-callback report is in milliseconds, so the
/// coarse clock needs millisecond steps; a thread waking 1,000 times a
/// second in debug mode costs a few microseconds of CPU per wake-up, well
/// under 1% of one core (docs/PERFORMANCE.md).
pub(crate) const STEP: Duration = Duration::from_millis(1);

/// Rule 8: looks in a row with no unit held before the watchdog sleeps
/// (10 ms at one look per [`STEP`]), so that a runtime that goes briefly
/// quiet between bursts does not pay a kick (a futex wake) per burst.
pub(crate) const IDLE_LOOKS: u32 = 10;

/// What one worker is polling now (protocol above).
#[derive(Default)]
pub(crate) struct PollSlot {
    /// The id of the task being polled; 0 between polls.
    task: AtomicU64,
    /// The number of the worker's latest poll (rule 1).
    seq: AtomicU64,
}

impl PollSlot {
    /// Rule 1.
    pub(crate) fn begin(&self, task: Id) {
        self.begin_raw(task.as_u64());
    }

    /// Rule 1 for a raw (non-zero) task id.
    pub(crate) fn begin_raw(&self, task: u64) {
        // Relaxed: one writer (rule 1); the Release below publishes it.
        let seq = self.seq.load(Relaxed).wrapping_add(1);
        self.seq.store(seq, Relaxed);
        self.task.store(task, Release);
    }

    /// Rule 2.
    pub(crate) fn end(&self) {
        self.task.store(0, Relaxed);
    }

    /// Rule 3: the task in a poll now and that poll's number, if any.
    pub(crate) fn current(&self) -> Option<(u64, u64)> {
        let task = self.task.load(Acquire);
        (task != 0).then(|| (task, self.seq.load(Relaxed)))
    }
}

/// One slot per worker.
pub(crate) type Slots = Arc<[CachePadded<PollSlot>]>;

/// Creates the slots of `n` workers.
pub(crate) fn slots(n: usize) -> Slots {
    (0..n)
        .map(|_| CachePadded::new(PollSlot::default()))
        .collect()
}

/// Rule 6: the time of the watchdog's latest look, in ns since the process
/// epoch, on a cache line of its own (written once per [`STEP`], read by
/// every timed poll).
pub(crate) struct CoarseClock(CachePadded<AtomicU64>);

impl Default for CoarseClock {
    fn default() -> CoarseClock {
        CoarseClock(CachePadded::new(AtomicU64::new(now_ns())))
    }
}

impl CoarseClock {
    /// The coarse time (rule 6), or the exact one while the watchdog
    /// sleeps (rule 8).
    #[inline(always)]
    pub(crate) fn now_ns(&self) -> u64 {
        // Relaxed: rule 6. A 0 stored before the watchdog's rule-8 RMW is
        // seen by a worker whose enter read from that RMW (their order).
        match self.0.load(Relaxed) {
            0 => now_ns().max(1),
            t => t,
        }
    }

    fn publish(&self, now: u64) {
        // Relaxed: rule 6.
        self.0.store(now.max(1), Relaxed);
    }

    /// Rule 8: no coarse time while the watchdog sleeps.
    fn pause(&self) {
        // Relaxed: ordered before the watcher's SeqCst store and RMW
        // (`reactor::activity` rule 6), which a waking worker's enter
        // reads from.
        self.0.store(0, Relaxed);
    }
}

/// Rule 7's flag, and rule 8's kick.
#[derive(Default)]
pub(crate) struct Stop {
    state: Mutex<StopState>,
    cvar: Condvar,
}

#[derive(Default)]
struct StopState {
    stopped: bool,
    /// Rule 8: an enter woke the sleeping watchdog.
    kicked: bool,
}

impl Stop {
    /// Rule 7: makes the watchdog exit. Idempotent.
    pub(crate) fn stop(&self) {
        self.state.lock().stopped = true;
        self.cvar.notify_all();
    }

    /// Rule 8: wakes the watchdog from its idle sleep (the activity's
    /// watcher hook).
    pub(crate) fn kick(&self) {
        self.state.lock().kicked = true;
        self.cvar.notify_all();
    }

    /// Waits `d`; true if stopped.
    fn wait(&self, d: Duration) -> bool {
        let mut state = self.state.lock();
        if !state.stopped {
            self.cvar.wait_timeout(&mut state, d);
        }
        state.stopped
    }

    /// Rule 8: sleeps until kicked or stopped (a kick that came first
    /// counts); true if stopped.
    fn sleep(&self) -> bool {
        let mut state = self.state.lock();
        while !state.stopped && !state.kicked {
            self.cvar.wait(&mut state);
        }
        state.kicked = false;
        state.stopped
    }
}

/// Rule 8's view of the runtime's activity (`reactor::activity` rule 6);
/// a trait the scheduler implements, so that this module does not import
/// the reactor.
pub(crate) trait Idle: Send + 'static {
    /// True if no unit is held now (a plain read; registers nothing).
    fn quiet(&self) -> bool;
    /// True if the watchdog may sleep now (and is then the watcher).
    fn watch(&self) -> bool;
    /// The watchdog is awake again.
    fn unwatch(&self);
}

/// Finds a live task by id (rule 5); a hook, so that this module does not
/// import the scheduler.
pub(crate) type Lookup = Box<dyn Fn(u64) -> Option<TaskInfo> + Send + 'static>;

/// What the watchdog remembers about one worker (rules 4 and 5).
#[derive(Clone, Copy, Default)]
struct Seen {
    /// The poll in progress at the last look; meaningful if `first_seen`
    /// is not 0.
    seq: u64,
    /// `after` of the look that first saw it; 0: no poll in progress.
    first_seen: u64,
    reported: bool,
}

/// Starts the watchdog thread.
pub(crate) fn start(
    slots: Slots,
    clock: Arc<CoarseClock>,
    settings: Settings,
    lookup: Lookup,
    stop: Arc<Stop>,
    idle: impl Idle,
) -> std::io::Result<()> {
    crate::loom::std::thread::Builder::new()
        .name("windlass-watchdog".into())
        .spawn(move || {
            look_until_stopped(&slots, &clock, &settings, &lookup, &stop, &idle);
            // Rule 7: no coarse time once the watchdog is gone (rule 6's
            // 0): a poll still in progress at shutdown, the one that makes
            // the runtime wait, is timed with the exact clock instead of
            // one frozen at the last look.
            clock.pause();
        })
        .map(drop)
}

/// Rules 3-6 and 8, until rule 7's stop.
fn look_until_stopped(
    slots: &Slots,
    clock: &CoarseClock,
    settings: &Settings,
    lookup: &Lookup,
    stop: &Stop,
    idle: &impl Idle,
) {
    let mut seen = vec![Seen::default(); slots.len()];
    let mut current = vec![None; slots.len()];
    let mut idle_looks = 0;
    while !stop.wait(STEP) {
        idle_looks = if idle.quiet() { idle_looks + 1 } else { 0 };
        if idle_looks >= IDLE_LOOKS {
            if sleep_while_idle(clock, stop, idle) {
                return;
            }
            idle_looks = 0;
            continue;
        }
        // Rule 3: `now`, the loads, `after`.
        let now = now_ns();
        clock.publish(now);
        for (cur, slot) in current.iter_mut().zip(slots.iter()) {
            *cur = slot.current();
        }
        let after = now_ns();
        for (worker, (seen, cur)) in seen.iter_mut().zip(&current).enumerate() {
            let blocked = look(seen, *cur, now, after, settings.threshold);
            if let Some((task, blocked_for)) = blocked {
                report(worker, task, blocked_for, seen, settings, lookup);
            }
        }
    }
}

/// Rule 8: the idle sleep, entered as the activity's watcher (`watch`
/// returned true). True if the runtime stopped meanwhile.
fn sleep_while_idle(clock: &CoarseClock, stop: &Stop, idle: &impl Idle) -> bool {
    clock.pause();
    // Register again after the pause, so that a worker whose enter sees
    // the watcher also sees the 0 (rule 6, `reactor::activity` rule 6).
    let stopped = idle.watch() && stop.sleep();
    idle.unwatch();
    clock.publish(now_ns());
    stopped
}

/// Rules 4 and 5 for one worker: the task and how long it has blocked the
/// worker, if that is past `threshold` and not yet reported.
fn look(
    seen: &mut Seen,
    current: Option<(u64, u64)>,
    now: u64,
    after: u64,
    threshold: Duration,
) -> Option<(u64, Duration)> {
    let Some((task, seq)) = current else {
        seen.first_seen = 0;
        return None;
    };
    if seen.first_seen == 0 || seen.seq != seq {
        *seen = Seen {
            seq,
            first_seen: after.max(1),
            reported: false,
        };
        return None;
    }
    let blocked_for = Duration::from_nanos(now.saturating_sub(seen.first_seen));
    (!seen.reported && blocked_for >= threshold).then_some((task, blocked_for))
}

/// Rule 5's report, if the task is still alive.
fn report(
    worker: usize,
    task: u64,
    blocked_for: Duration,
    seen: &mut Seen,
    settings: &Settings,
    lookup: &Lookup,
) {
    if let Some(task) = lookup(task) {
        seen.reported = true;
        settings.emit(DebugEvent::BlockedWorker {
            worker,
            task,
            blocked_for,
        });
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    #[test]
    fn a_poll_is_reported_once_after_the_threshold_counted_from_first_seen() {
        let t = Duration::from_millis(100);
        let mut seen = Seen::default();
        // First look at poll 7 of task 3: remembered, not reported.
        assert_eq!(look(&mut seen, Some((3, 7)), 10 * MS, 11 * MS, t), None);
        // 99 ms after first seen: not yet.
        assert_eq!(look(&mut seen, Some((3, 7)), 110 * MS, 110 * MS, t), None);
        // 100 ms after: reported, with the lower bound.
        let got = look(&mut seen, Some((3, 7)), 111 * MS, 111 * MS, t);
        assert_eq!(got, Some((3, Duration::from_millis(100))));
        seen.reported = true;
        assert_eq!(look(&mut seen, Some((3, 7)), 200 * MS, 200 * MS, t), None);
        // Another poll of the same task starts the count again.
        assert_eq!(look(&mut seen, Some((3, 8)), 201 * MS, 201 * MS, t), None);
        assert_eq!(look(&mut seen, Some((3, 8)), 250 * MS, 250 * MS, t), None);
        // Between polls: forgotten.
        assert_eq!(look(&mut seen, None, 400 * MS, 400 * MS, t), None);
        assert_eq!(look(&mut seen, Some((3, 8)), 401 * MS, 401 * MS, t), None);
    }

    /// Waits (with a deadline) until `cond` holds.
    fn wait_until(what: &str, cond: impl Fn() -> bool) {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !cond() {
            assert!(std::time::Instant::now() < deadline, "never: {what}");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Rule 8 with the real activity word: with no unit held the watchdog
    /// stops looking and pauses the coarse clock (readers get the exact
    /// time); the first enter kicks it back to looking every step with a
    /// fresh clock; shutdown still stops it while it sleeps.
    #[test]
    fn an_idle_watchdog_sleeps_until_the_first_enter() {
        use crate::reactor::activity::Activity;
        use std::sync::atomic::AtomicUsize;
        let activity = Arc::new(Activity::new());
        let (stop, clock) = (Arc::new(Stop::default()), Arc::new(CoarseClock::default()));
        let kick = stop.clone();
        activity.set_watcher_hook(Box::new(move || kick.kick()));
        /// The real activity word, counting the watchdog's looks.
        struct Counted(Arc<Activity>, Arc<AtomicUsize>);
        impl Idle for Counted {
            fn quiet(&self) -> bool {
                self.1.fetch_add(1, SeqCst);
                self.0.units() == 0
            }
            fn watch(&self) -> bool {
                self.0.watch_idle()
            }
            fn unwatch(&self) {
                self.0.stop_watching()
            }
        }
        let looks = Arc::new(AtomicUsize::new(0));
        let idle = Counted(activity.clone(), looks.clone());
        let (paused, clock2) = (clock.clone(), clock.clone());
        start(
            slots(1),
            clock2,
            Settings::default(),
            Box::new(|_| None),
            stop.clone(),
            idle,
        )
        .unwrap();

        wait_until("the watchdog sleeps", || paused.0.load(SeqCst) == 0);
        assert!(looks.load(SeqCst) >= IDLE_LOOKS as usize);
        let before = now_ns();
        assert!(clock.now_ns() >= before, "a paused clock reads exact time");
        // Asleep, it looks no more: a waking watchdog would look about 30
        // times here.
        let asleep_at = looks.load(SeqCst);
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(looks.load(SeqCst), asleep_at, "it kept looking");

        activity.enter();
        wait_until("the kick wakes it", || looks.load(SeqCst) > asleep_at + 2);
        assert_ne!(clock.0.load(SeqCst), 0, "the clock moves again");
        // Busy (a unit held): it keeps looking and does not sleep again.
        let busy_at = looks.load(SeqCst);
        wait_until("it keeps looking", || looks.load(SeqCst) > busy_at + 20);
        assert_ne!(clock.0.load(SeqCst), 0);

        activity.leave();
        wait_until("it sleeps again", || clock.0.load(SeqCst) == 0);
        stop.stop();
        // Stopped while asleep: the hooks (and this Arc's clones) go.
        wait_until("the thread exits", || Arc::strong_count(&activity) == 1);
    }

    #[test]
    fn the_coarse_clock_starts_at_now_and_follows_the_published_time() {
        let before = now_ns();
        let clock = CoarseClock::default();
        assert!(clock.now_ns() >= before && clock.now_ns() <= now_ns());
        clock.publish(before + 5);
        assert_eq!(clock.now_ns(), before + 5);
    }
}

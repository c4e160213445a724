//! The blocked-worker watchdog (rule 3 of [`debug`](super)).
//!
//! # Protocol
//!
//! Each worker owns one [`PollSlot`], on its own cache line; only that
//! worker writes it, and only in debug mode.
//!
//! 1. **Begin.** Before polling a task the worker stores `since` (the
//!    poll's start, in ns since the process epoch; `Relaxed`), then `task`
//!    (the task's id; `Release`).
//! 2. **End.** After the poll it stores `task = 0` (`Relaxed`: nothing is
//!    published with it; a watchdog that still sees the old id finds, at
//!    worst, a poll that has just ended, and rule 4 filters it).
//! 3. **Look.** The watchdog loads `task` (`Acquire`, pairing with rule
//!    1's `Release`), then `since`. Having seen the id stored in rule 1, it
//!    sees that poll's `since` or a later one (starts only grow), so the
//!    time it computes is never longer than the poll it saw has lasted:
//!    a report is never early, only (by one look) late.
//! 4. **Report.** If that time is past the threshold and `since` differs
//!    from the one last reported for this worker, it looks the task up by
//!    id in the owned list (under its shard lock, so the header is alive)
//!    and reports it, remembering `since`. A task that has completed
//!    meanwhile is not found and not reported. So each poll is reported at
//!    most once, while it is (or was a moment ago) in progress.
//! 5. **Stop.** The runtime's shutdown sets `stop` and wakes the watchdog,
//!    which exits; it holds no strong reference to the runtime.
//!
//! The watchdog looks four times per threshold (at least every 1 ms, at
//! most every 250 ms), so a blocked poll is reported within 1.25 thresholds.

use crate::loom::std::sync::Arc;
use std::time::Duration;

use crossbeam_utils::CachePadded;

use super::{DebugEvent, Settings, TaskInfo};
use crate::loom::sync::atomic::{AtomicU64, Ordering::*};
use crate::loom::sync::{Condvar, Mutex};
use crate::task::Id;
use crate::task::site::now_ns;

/// What one worker is polling now (protocol above).
#[derive(Default)]
pub(crate) struct PollSlot {
    /// The id of the task being polled; 0 between polls.
    task: AtomicU64,
    /// When that poll began, in ns since the process epoch.
    since: AtomicU64,
}

impl PollSlot {
    /// Rule 1; returns the `since` it published.
    pub(crate) fn begin(&self, task: Id) -> u64 {
        self.begin_raw(task.as_u64())
    }

    /// Rule 1 for a raw (non-zero) task id.
    pub(crate) fn begin_raw(&self, task: u64) -> u64 {
        let since = now_ns();
        self.since.store(since, Relaxed);
        self.task.store(task, Release);
        since
    }

    /// Rule 2.
    pub(crate) fn end(&self) {
        self.task.store(0, Relaxed);
    }

    /// The `since` this slot's own worker published last (rule 1); only
    /// its owner calls it, inside the poll, to time the poll without a
    /// second clock read (`Relaxed`: its own store).
    pub(crate) fn own_since(&self) -> u64 {
        self.since.load(Relaxed)
    }

    /// Rule 3: the task in a poll now and when that poll began, if any.
    pub(crate) fn current(&self) -> Option<(u64, u64)> {
        let task = self.task.load(Acquire);
        (task != 0).then(|| (task, self.since.load(Relaxed)))
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

/// Rule 5's flag.
#[derive(Default)]
pub(crate) struct Stop {
    stopped: Mutex<bool>,
    cvar: Condvar,
}

impl Stop {
    /// Rule 5: makes the watchdog exit. Idempotent.
    pub(crate) fn stop(&self) {
        *self.stopped.lock() = true;
        self.cvar.notify_all();
    }

    /// Waits `d`; true if stopped.
    fn wait(&self, d: Duration) -> bool {
        let mut stopped = self.stopped.lock();
        if !*stopped {
            self.cvar.wait_timeout(&mut stopped, d);
        }
        *stopped
    }
}

/// Finds a live task by id (rule 4); a hook, so that this module does not
/// import the scheduler.
pub(crate) type Lookup = Box<dyn Fn(u64) -> Option<TaskInfo> + Send + 'static>;

/// Starts the watchdog thread.
pub(crate) fn start(
    slots: Slots,
    settings: Settings,
    lookup: Lookup,
    stop: Arc<Stop>,
) -> std::io::Result<()> {
    let tick = (settings.threshold / 4).clamp(Duration::from_millis(1), Duration::from_millis(250));
    crate::loom::std::thread::Builder::new()
        .name("windlass-watchdog".into())
        .spawn(move || {
            let mut reported = vec![0u64; slots.len()];
            while !stop.wait(tick) {
                for (worker, slot) in slots.iter().enumerate() {
                    look(worker, slot, &mut reported[worker], &settings, &lookup);
                }
            }
        })
        .map(drop)
}

/// Rules 3 and 4 for one worker.
fn look(worker: usize, slot: &PollSlot, reported: &mut u64, settings: &Settings, lookup: &Lookup) {
    let Some((task, since)) = slot.current() else {
        return;
    };
    let blocked_for = Duration::from_nanos(now_ns().saturating_sub(since));
    if blocked_for < settings.threshold || since == *reported {
        return;
    }
    if let Some(task) = lookup(task) {
        *reported = since;
        settings.emit(DebugEvent::BlockedWorker {
            worker,
            task,
            blocked_for,
        });
    }
}

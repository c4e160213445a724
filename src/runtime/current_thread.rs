//! The current-thread scheduler: asyncio's classic event loop. Tasks run
//! only on the thread inside `Runtime::block_on`, one at a time, in the
//! order they were woken.
//!
//! The run queue is a mutex-guarded `VecDeque` (any thread may wake or spawn
//! a task; the lock is uncontended when it is the driving thread). The
//! thread that drives the queue holds the *core*, a flag; a second thread
//! calling `block_on` at the same time polls only its own future and takes
//! the core over when the first one leaves.

use crate::loom::std::sync::Arc as StdArc;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, Wake, Waker};

use crate::blocking::BlockingHandle;
use crate::loom::sync::atomic::{AtomicBool, Ordering::*};
use crate::loom::sync::{Arc, Mutex};
use crate::reactor::Driver;
use crate::reactor::activity::Presence;
use crate::reactor::clock::Clock;
use crate::runtime::builder::Config;
use crate::runtime::debug::{self, report_pending};
use crate::runtime::metrics::{self, WorkerCounters};
use crate::runtime::park::Parker;
use crate::runtime::sampling::{self, Countdown, WakeSlot};
use crate::runtime::scheduler::Spawner;
use crate::runtime::unhandled_panic::{UnhandledPanic, panic_shutdown};
use crate::task::core::{Header, Schedule};
use crate::task::list::OwnedTasks;
use crate::task::{Notified, Task, WorkerTag};

/// Tasks run between two polls of the `block_on` future at most.
///
/// Why 61: the same fairness bound as the multi-thread worker's
/// `GLOBAL_POLL_INTERVAL` (the `block_on` future plays the injector's part
/// here): it waits behind ~60 tasks at most, and the prime keeps the tick
/// out of step with batches of a round size.
const MAX_TASKS_PER_TICK: usize = 61;

pub(crate) struct Handle {
    /// Woken tasks, in order. `None` once shut down: later wakes are dropped.
    queue: Mutex<Option<VecDeque<Notified>>>,
    owned: OwnedTasks,
    /// The driving thread sleeps here; every schedule unparks it.
    parker: Parker,
    /// True while some `block_on` drives the queue.
    core_taken: AtomicBool,
    /// Wakers of `block_on` calls waiting for the core.
    core_waiters: Mutex<Vec<Waker>>,
    /// Set when a task panicked under `UnhandledPanic::ShutdownRuntime`.
    panicked: AtomicBool,
    /// The runtime's clock, whose activity counts the `block_on` threads
    /// (`reactor/activity.rs`, rule 2).
    clock: StdArc<Clock>,
    /// The one worker entry of `Handle::metrics`, written by the thread
    /// holding the core (`runtime::metrics`, rule 2).
    pub(crate) counters: WorkerCounters,
    /// The wake being timed for the schedule-latency histogram
    /// (`runtime::sampling`).
    wakes: WakeSlot,
    pub(crate) config: Config,
    /// The runtime's reactor (a reactor thread, for this flavor).
    pub(crate) driver: StdArc<Driver>,
    /// The runtime's blocking pool.
    pub(crate) blocking: BlockingHandle,
}

impl Handle {
    pub(crate) fn new(
        config: Config,
        blocking: BlockingHandle,
        driver: StdArc<Driver>,
    ) -> Arc<Handle> {
        let handle = Arc::new(Handle {
            queue: Mutex::new(Some(VecDeque::new())),
            owned: OwnedTasks::new(1),
            parker: Parker::new(),
            core_taken: AtomicBool::new(false),
            core_waiters: Mutex::new(Vec::new()),
            panicked: AtomicBool::new(false),
            clock: driver.clock().clone(),
            counters: WorkerCounters::default(),
            wakes: WakeSlot::default(),
            config,
            driver,
            blocking,
        });
        // Rule 4 of the auto-advance: the run queue is the visible queue.
        // Cleared in `shutdown` (the hook holds the handle).
        let h = handle.clone();
        handle
            .clock
            .activity
            .set_queued_hook(Some(StdArc::new(move || h.has_queued())));
        handle
    }

    fn has_queued(&self) -> bool {
        self.queue.lock().as_ref().is_some_and(|q| !q.is_empty())
    }

    fn push(&self, task: Notified) {
        // Before the push: sampling rule 2.
        self.wakes.on_schedule(&task);
        let mut queue = self.queue.lock();
        match queue.as_mut() {
            Some(q) => q.push_back(task),
            None => {
                drop(queue);
                drop(task);
                return;
            }
        }
        drop(queue);
        self.parker.unpark();
    }

    fn pop(&self) -> Option<Notified> {
        self.queue.lock().as_mut()?.pop_front()
    }

    /// Runs `future` to completion on this thread, running the runtime's
    /// tasks while it waits (or, if another thread drives them, waiting for
    /// it to finish).
    pub(crate) fn block_on<F: Future>(me: &Arc<Self>, future: F) -> F::Output {
        let own = StdArc::new(MainWaker {
            woken: AtomicBool::new(true),
            own: Parker::new(),
            presence: Presence::entered(&me.clock.activity),
            handle: me.clone(),
        });
        let _exit = PresenceExit(&own);
        let waker = Waker::from(own.clone());
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(future);
        let mut core = None;
        // Sampling rule 1: which poll of a task is timed next.
        let mut sample = Countdown::new(0x2545_F491);
        loop {
            if core.is_none() {
                core = Handle::try_take_core(me, &waker);
            }
            if me.panicked.load(Acquire) {
                // `UnhandledPanic::ShutdownRuntime`: shut down (cancel every
                // task), as the multi-thread flavor does, before another
                // `block_on` can take the core.
                me.shutdown();
                drop(core.take());
                panic_shutdown();
            }
            if own.woken.swap(false, AcqRel) {
                // With a task's budget: the future shares this thread with
                // the runtime's tasks, and one always ready (a loop on a
                // free lock) would starve them otherwise. Spent, it wakes
                // itself and returns `Pending`; the tasks run before its
                // next poll.
                let polled = crate::task::context::with_budget(|| future.as_mut().poll(&mut cx));
                if let Poll::Ready(out) = polled {
                    return out;
                }
            }
            if core.is_some() {
                if me.run_tasks(&mut sample) == MAX_TASKS_PER_TICK || own.woken.load(Acquire) {
                    continue;
                }
                if own.park_on(&me.parker) {
                    metrics::add(&me.counters.parks, 1);
                    metrics::add(&me.counters.unparks, 1);
                }
            } else {
                own.park_on(&own.own);
            }
        }
    }

    /// Runs up to `MAX_TASKS_PER_TICK` tasks; returns how many ran.
    fn run_tasks(&self, sample: &mut Countdown) -> usize {
        for ran in 0..MAX_TASKS_PER_TICK {
            match self.pop() {
                Some(task) => {
                    metrics::add(&self.counters.polls, 1);
                    sampling::run(task, sample.tick(), WorkerTag::NONE, || &self.counters);
                }
                None => return ran,
            }
        }
        MAX_TASKS_PER_TICK
    }

    fn try_take_core<'a>(me: &'a Arc<Self>, waker: &Waker) -> Option<CoreGuard<'a>> {
        if !me.core_taken.swap(true, AcqRel) {
            return Some(CoreGuard(me));
        }
        // Register, then try again: a release between the two sees us.
        // Once per waiting `block_on`: it comes back here on every wake-up
        // of its future while another thread keeps the core, and a clone
        // per wake-up grew the list without bound until the core was freed.
        let mut waiters = me.core_waiters.lock();
        if !waiters.iter().any(|w| w.will_wake(waker)) {
            waiters.push(waker.clone());
        }
        drop(waiters);
        if !me.core_taken.swap(true, AcqRel) {
            return Some(CoreGuard(me));
        }
        None
    }

    /// Shuts down: no more tasks run; every live task is cancelled here.
    pub(crate) fn shutdown(&self) {
        self.clock.activity.set_queued_hook(None);
        let queued = self.queue.lock().take();
        let settings = &self.config.debug;
        self.owned
            .close_and_shutdown(&|task| report_pending(settings, task));
        drop(queued);
    }

    /// `Handle::metrics`'s part for this scheduler: the one worker entry
    /// (with the run queue's depth) and an injector depth of 0.
    pub(crate) fn metrics(
        &self,
        poll: &mut metrics::Histogram,
        latency: &mut metrics::Histogram,
    ) -> (Vec<metrics::WorkerMetrics>, usize) {
        let depth = self.queue.lock().as_ref().map_or(0, VecDeque::len);
        self.counters.sum_histograms(poll, latency);
        // The run queue is both the worker's queue and the shared one; it
        // is reported once, as the worker's (there is no injector).
        (vec![self.counters.snapshot(depth)], 0)
    }

    pub(crate) fn num_alive_tasks(&self) -> usize {
        self.owned.len()
    }

    /// `Handle::dump`'s part for this scheduler (see `runtime::dump`).
    pub(crate) fn dump_tasks(&self, out: &mut Vec<crate::runtime::dump::TaskSnapshot>) {
        crate::runtime::dump::snapshot_list(&self.owned, out);
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.owned.is_closed()
    }

    pub(crate) fn debug(&self) -> bool {
        self.config.debug.enabled
    }
}

impl Spawner for Handle {
    fn owned(&self) -> &OwnedTasks {
        &self.owned
    }

    fn debug(&self) -> bool {
        self.config.debug.enabled
    }

    fn schedule_spawned(me: &Arc<Self>, task: Notified) {
        me.push(task);
    }
}

/// Holding the core; releasing it lets a waiting `block_on` take over.
struct CoreGuard<'a>(&'a Arc<Handle>);

impl Drop for CoreGuard<'_> {
    fn drop(&mut self) {
        self.0.core_taken.store(false, Release);
        let waiters = std::mem::take(&mut *self.0.core_waiters.lock());
        for w in waiters {
            w.wake();
        }
    }
}

/// The waker of a `block_on` future.
struct MainWaker {
    woken: AtomicBool,
    /// Where this `block_on` sleeps while another thread holds the core.
    own: Parker,
    /// This thread's unit of the clock's activity (held while polling or
    /// woken; `reactor/activity.rs`, rules 2 and 3).
    presence: Presence,
    handle: Arc<Handle>,
}

impl MainWaker {
    /// Sleeps on `parker`, giving up the thread's unit meanwhile; false if
    /// it did not sleep (a wake came first).
    fn park_on(&self, parker: &Parker) -> bool {
        let activity = &self.handle.clock.activity;
        // SeqCst load: `Presence::before_park`'s re-check.
        if self
            .presence
            .before_park(activity, || self.woken.load(SeqCst))
        {
            parker.park();
            self.presence.after_park(activity);
            return true;
        }
        false
    }
}

/// Gives up the `block_on` thread's unit when it returns or unwinds.
struct PresenceExit<'a>(&'a MainWaker);

impl Drop for PresenceExit<'_> {
    fn drop(&mut self) {
        self.0.presence.exit(&self.0.handle.clock.activity);
    }
}

impl Wake for MainWaker {
    fn wake(self: StdArc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &StdArc<Self>) {
        // Before the presence's RMW, which releases it to `park_on`'s
        // re-check (rule 3's hand-off). SeqCst, as before this protocol,
        // for the `swap` that consumes it.
        self.woken.store(true, SeqCst);
        self.presence.wake(&self.handle.clock.activity);
        self.own.unpark();
        self.handle.parker.unpark();
    }
}

impl Schedule for Arc<Handle> {
    fn schedule(&self, task: Notified) {
        self.push(task);
    }

    fn release(&self, task: NonNull<Header>) -> Option<Task> {
        self.owned.remove(task)
    }

    fn polled(&self, task: &Header, start_ns: u64, end_ns: u64) {
        // Exact clock: no watchdog thread here to keep a coarse one.
        debug::report_poll(&self.config.debug, task, start_ns, end_ns, false);
    }

    fn panic_lost(&self, task: &Header, message: Option<String>) {
        debug::report_lost_panic(&self.config.debug, task, message);
    }

    fn wake_sampled(&self, task: NonNull<Header>) {
        // Tasks run only in `run_tasks`, on the thread holding the core:
        // the counters' one writer (`metrics` rule 2).
        self.wakes.claim_into(task, Some(&self.counters));
    }

    fn unhandled_panic(&self) {
        if self.config.unhandled_panic == UnhandledPanic::ShutdownRuntime {
            self.panicked.store(true, Release);
            self.parker.unpark();
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// A `block_on` waiting for the core registers its waker once, however
    /// often its future is woken meanwhile (each wake-up brings it back to
    /// `try_take_core`).
    #[test]
    // Miri may give each use of a waker's `const` vtable an address of its
    // own, so `Waker::will_wake` of two clones can be false there.
    #[cfg_attr(
        miri,
        ignore = "will_wake compares vtable addresses, which Miri does not keep unique"
    )]
    fn a_block_on_waiting_for_the_core_registers_once() {
        let rt = crate::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let crate::runtime::scheduler::Handle::CurrentThread(h) = &rt.handle().inner else {
            unreachable!("a current-thread runtime")
        };
        let held = Handle::try_take_core(h, Waker::noop()).expect("the core is free");
        struct Nothing;
        impl Wake for Nothing {
            fn wake(self: StdArc<Self>) {}
        }
        // Two `block_on` calls' wakers: different tasks to wake.
        let a = Waker::from(StdArc::new(Nothing));
        let b = Waker::from(StdArc::new(Nothing));
        for _ in 0..100 {
            assert!(Handle::try_take_core(h, &a).is_none());
            assert!(Handle::try_take_core(h, &b).is_none());
        }
        assert_eq!(
            h.core_waiters.lock().len(),
            2,
            "one entry per waiting block_on"
        );
        drop(held);
        assert!(
            h.core_waiters.lock().is_empty(),
            "woken and cleared on release"
        );
    }
}

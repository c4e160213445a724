//! One worker thread: its loop, its queues, and how it looks for work.
//!
//! Where a worker takes its next task from, in order:
//!
//! 1. every [`GLOBAL_POLL_INTERVAL`]th time, a batch from the injector first,
//!    so tasks from outside are not starved by a worker whose local queue
//!    never empties;
//! 2. the LIFO slot: the task most recently woken by this worker's own task
//!    (a message passed from task to task runs next, while its data is hot),
//!    at most [`MAX_LIFO_POLLS`] times in a row, so two tasks waking each
//!    other cannot starve the queue;
//! 3. the local FIFO queue;
//! 4. a batch from the injector;
//! 5. as a *searcher* ([`idle`](super::idle)), half of a random victim's
//!    queue, then the injector again;
//! 6. none: park (with the re-check of the idle protocol). It does not
//!    spin first ("No spin before a park" below).
//!
//! Where a task this worker schedules goes: a spawn or a yield goes to the
//! back of the local queue; a wake goes to the LIFO slot (the slot's previous
//! task moves to the local queue), unless the woken task last ran on
//! another worker (the tag the task's state word records, task rule 10)
//! and the local queue holds tasks: then it too goes to the back of the
//! local queue. The LIFO slot would run it next, ahead of that queue, here,
//! away from the data it left hot on its own worker; a server woken by
//! one client on the far worker flipped to that worker and back. At the
//! back of the queue it waits its turn: its own worker may steal it back
//! meanwhile, and if it runs here, the wakes that came from its own worker
//! in the meantime come along in one poll, so a group of tasks that talk
//! to each other moves together instead of one task flipping
//! (docs/PERFORMANCE.md, "request_response: the oneshot's block, and where
//! a wake goes"). With the queue empty the task runs next either way, and
//! the LIFO slot keeps it there: sent to the queue as well, a lone task is
//! visible to an idle worker's park re-check, and sync_mpsc_unbounded
//! (a consumer woken by producers on the other worker) and
//! sync_mutex_contended ran 1.04-1.06x as long (same section, section 7).
//! The slot is stealable only by a sleeping
//! worker rescuing a task from a worker stuck in one poll (see
//! [`lifo`](super::lifo)). Pushing to the local queue notifies an
//! idle worker only when the queue already held a task: a lone task will be
//! run by this worker as soon as the current poll ends, while a second one
//! is work another worker could do in parallel. That keeps chains of spawns
//! and wakes free of cross-thread wake-ups. (Only tasks pushed to the
//! injector from outside need a notify to be found at all; tasks in a local
//! queue always have an awake owner.)
//!
//! # Sleeping in the reactor
//!
//! A worker with nothing to run sleeps in the reactor if nobody else does:
//! it takes the reactor's turn ([`Reactor::try_turn`]) and waits on the
//! poller instead of its parker ([`Parker::park_driving`]); an `unpark`
//! interrupts that wait through [`Reactor::notify`]. When the wait returns
//! with tasks to wake (ready I/O, expired timers), the worker first takes
//! itself off the sleepers (awake with work but not searching, unless a
//! notifier took it off first: idle protocol, "Woken by the poller"), then
//! wakes them: they land in its own LIFO slot and queue, with no
//! cross-thread wake-up, and a second task in its queue notifies a peer as
//! usual. A lone woken task wakes nobody. Events that arrive while every worker is busy wait in the
//! kernel and are collected together, in one wait, by the next worker that
//! runs out of work, or by the periodic check: every
//! [`REACTOR_POLL_INTERVAL`]th task a worker looks (without blocking) if the
//! reactor has anything registered and nobody is waiting on it, so a worker
//! whose queue never empties cannot starve I/O and timers.
//!
//! No wake-up is lost to this: a worker that cannot take the turn sleeps in
//! its parker, as before; the holder of the turn is either another sleeper
//! (which wakes for every event) or an awake worker, which goes on to run
//! tasks and will take the turn again when it sleeps or checks.
//!
//! # No spin before a park
//!
//! A searcher that finds nothing parks at once. From session 8 to session
//! 11 it first spun for up to 1 µs, re-reading the queues' lengths, to
//! save the park and unpark calls when work came back within that time.
//! It cost more than it saved: a spinner that saw two tasks in another
//! worker's queue stole them, and split a small pipeline (a few producers
//! and one consumer over a bounded channel) across two cores, where every
//! message then moved the channel's lines between them: sync_mpsc_bounded
//! took 1.85x as long with the spin, fan_in_bounded 1.13x. On the latency
//! bench, the spin's reason, p99 at 50% load is as far below tokio's
//! without it (docs/PERFORMANCE.md, "Bounded channels: a lock on one line,
//! and no spin before a park").
//!
//! [`Reactor::try_turn`]: crate::reactor::Reactor::try_turn
//! [`Reactor::notify`]: crate::reactor::Reactor::notify
//! [`Parker::park_driving`]: crate::runtime::park::Parker::park_driving

use std::cell::RefCell;
use std::time::Duration;

use super::Handle;
use super::lifo::RESCUE_INTERVAL;
use super::queue::Local;
use crate::loom::sync::Arc;
use crate::runtime::sampling::{self, Countdown};
use crate::runtime::{context, metrics};
use crate::task::{Notified, WorkerTag};

/// Check the injector first every this many tasks.
///
/// Why 61: small enough that a task spawned from outside waits behind at
/// most ~60 local ones (fairness), large enough that the shared injector's
/// lock is taken rarely (throughput). A prime, so the tick does not fall
/// into step with a program that spawns in batches of a round number (2^k,
/// 10^k) and starve one of them. tokio and Go's scheduler use the same
/// number for the same reason.
const GLOBAL_POLL_INTERVAL: u32 = 61;
/// Run at most this many LIFO-slot tasks in a row.
///
/// Why 3: the LIFO slot makes a ping-pong pair (A wakes B wakes A) run
/// back to back while their data is in cache; after three hand-offs the
/// worker goes back to its FIFO queue so that such a pair cannot starve the
/// tasks queued behind it. One or two lose most of the cache win on
/// request/response pairs; more lets a chatty pair hold the worker longer.
const MAX_LIFO_POLLS: u32 = 3;
/// Look at the reactor (without blocking) every this many tasks.
///
/// Why 61: as for [`GLOBAL_POLL_INTERVAL`], one non-blocking reactor turn
/// per ~60 tasks bounds how long ready I/O waits behind a busy queue
/// without paying a syscall per task; prime for the same reason.
const REACTOR_POLL_INTERVAL: u32 = 61;

/// A worker's private state.
pub(super) struct Core {
    /// Position in `Shared::stealers` and `Shared::parkers`.
    pub(super) index: usize,
    /// This worker's queue; its stealer is in `Shared::stealers[index]`.
    pub(super) local: Local,
    /// LIFO-slot tasks run in a row (the slot itself is
    /// `Shared::lifo[index]`).
    lifo_polls: u32,
    /// Tasks taken so far, for the injector check.
    tick: u32,
    /// Counted as searching in `Idle` (see the idle protocol).
    is_searching: bool,
    /// xorshift state for picking a steal victim.
    rng: u32,
    /// Every worker's poll counter when this one last went to sleep with a
    /// timeout (lifo rule 3).
    seen_polls: Vec<u64>,
    /// Woken by the poller and not searching: the next task this worker
    /// queues locally (after the ones it collected) notifies a sleeper
    /// (lifo rule 4).
    announce_next: bool,
    /// Debug mode: publish each poll in `Shared::poll_slots[index]`.
    debug: bool,
    /// Which poll and which local wake are timed next for the histograms
    /// (`runtime::sampling`, rules 1 and 2).
    poll_sample: Countdown,
    wake_sample: Countdown,
}

impl Core {
    pub(super) fn new(index: usize, local: Local, debug: bool) -> Core {
        Core {
            index,
            local,
            lifo_polls: 0,
            tick: 0,
            is_searching: false,
            rng: 0x9E37_79B9 ^ (index as u32).wrapping_mul(0x85EB_CA6B) | 1,
            seen_polls: Vec::new(),
            announce_next: false,
            debug,
            poll_sample: Countdown::new(0x2545_F491 ^ index as u32),
            wake_sample: Countdown::new(0x9E37_79B9 ^ index as u32),
        }
    }

    fn next_rand(&mut self) -> u32 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.rng = x;
        x
    }

    /// Pushes to the back of the local queue; true if an idle worker should
    /// be notified (the queue already held a task; see module docs).
    fn push_local(&mut self, task: Notified) -> bool {
        let had_work = !self.local.is_empty();
        self.local.push(task);
        had_work
    }
}

/// A worker as seen from its own thread (see `context::with_worker`).
pub(crate) struct Context {
    pub(super) handle: Arc<Handle>,
    /// `core.index`, readable while the core is borrowed (for the metrics
    /// counters, `Shared::counters[index]`).
    pub(super) index: usize,
    /// Borrowed only briefly, never across a task poll.
    core: RefCell<Core>,
}

/// The body of a worker thread.
pub(super) fn run(rt: crate::runtime::Handle, handle: Arc<Handle>, core: Core) {
    let _enter = context::enter_runtime(&rt);
    let cx = Context {
        handle,
        index: core.index,
        core: RefCell::new(core),
    };
    let worker = context::set_worker(&cx);
    // An awake worker holds a unit of the clock's activity; `Exit` gives
    // it back.
    cx.handle.shared.driver.clock().activity.enter();
    // Runs the exit steps even if the loop unwinds (a windlass bug: task
    // panics are caught), so shutdown still completes.
    let _exit = Exit {
        cx: &cx,
        worker: Some(worker),
    };
    cx.run_loop();
}

struct Exit<'a> {
    cx: &'a Context,
    worker: Option<context::WorkerGuard>,
}

impl Drop for Exit<'_> {
    fn drop(&mut self) {
        // From here on, wakes on this thread go to the injector.
        drop(self.worker.take());
        self.cx.drain_local();
        self.cx.handle.shared.driver.clock().activity.leave();
        self.cx.handle.worker_exited();
    }
}

impl Context {
    fn run_loop(&self) {
        let shared = &self.handle.shared;
        while !shared.is_shutdown() {
            if let Some(task) = self.next_task() {
                self.run_task(task);
                self.maybe_poll_reactor();
            } else if let Some(task) = self.search() {
                self.run_task(task);
            } else {
                self.park();
            }
        }
    }

    /// Steps 1-4 of the module docs.
    fn next_task(&self) -> Option<Notified> {
        let shared = &self.handle.shared;
        let mut core = self.core.borrow_mut();
        core.tick = core.tick.wrapping_add(1);
        if core.tick % GLOBAL_POLL_INTERVAL == 0 {
            // A batch, not one task: while the local queue never empties
            // (tasks that keep yielding), this check is the injector's only
            // outlet, and one task per interval would starve it.
            if let Some(task) = shared.injector.pop_batch_into(&core.local) {
                return Some(task);
            }
        }
        if let Some(task) = shared.lifo[core.index].take() {
            if core.lifo_polls < MAX_LIFO_POLLS {
                core.lifo_polls += 1;
                metrics::add(&shared.counters[core.index].lifo_hits, 1);
                return Some(task);
            }
            // Cap reached: the slot's task waits its turn in the queue.
            if core.push_local(task) {
                drop(core);
                self.handle.notify_parked();
                core = self.core.borrow_mut();
            }
        }
        core.lifo_polls = 0;
        core.local
            .pop()
            .or_else(|| shared.injector.pop_batch_into(&core.local))
    }

    /// Step 5: steal as a searcher.
    fn search(&self) -> Option<Notified> {
        let shared = &self.handle.shared;
        let mut core = self.core.borrow_mut();
        if !core.is_searching {
            if !shared.idle.transition_worker_to_searching() {
                return None;
            }
            core.is_searching = true;
        }
        let n = shared.stealers.len();
        let start = core.next_rand() as usize % n;
        for i in 0..n {
            let victim = (start + i) % n;
            if victim == core.index {
                continue;
            }
            let before = core.local.len();
            if let Some(task) = shared.stealers[victim].steal_half_into(&core.local) {
                count_steal(&shared.counters[core.index], before, core.local.len());
                return Some(task);
            }
        }
        shared.injector.pop_batch_into(&core.local)
    }

    fn run_task(&self, task: Notified) {
        let mut core = self.core.borrow_mut();
        // Lifo rule 2: progress, for peers looking for a stuck worker.
        // It is also the worker's `polls` metric (`Handle::metrics`), so
        // counting polls costs nothing more.
        self.handle.shared.lifo[core.index].begin_poll();
        let watched = core.debug.then_some(core.index);
        let timed = core.poll_sample.tick();
        if core.is_searching {
            core.is_searching = false;
            drop(core);
            // Found-work step of the idle protocol.
            if self.handle.shared.idle.transition_worker_from_searching() {
                self.handle.notify_parked();
            }
        } else {
            drop(core);
        }
        match watched {
            None => self.run_sampled(task, timed),
            Some(index) => self.run_watched(task, timed, index),
        }
    }

    /// Runs `task`, timing it for the histograms when it is sampled
    /// (`runtime::sampling`).
    #[inline(always)]
    fn run_sampled(&self, task: Notified, timed: bool) {
        let shared = &self.handle.shared;
        sampling::run(task, timed, WorkerTag::of_worker(self.index), || {
            &shared.counters[self.index]
        });
    }

    /// Debug mode: runs `task` with the poll published for the watchdog.
    #[cold]
    fn run_watched(&self, task: Notified, timed: bool, index: usize) {
        let slot = &self.handle.shared.poll_slots[index];
        slot.begin(task.id());
        self.run_sampled(task, timed);
        slot.end();
    }

    /// Step 6: the park step of the idle protocol.
    fn park(&self) {
        let shared = &self.handle.shared;
        let (index, was_searching) = {
            let mut core = self.core.borrow_mut();
            debug_assert!(
                !shared.lifo[core.index].is_occupied(),
                "parking with a task in the LIFO slot"
            );
            (core.index, std::mem::take(&mut core.is_searching))
        };
        shared
            .idle
            .transition_worker_to_parked(index, was_searching);
        // The re-check (idle, "Park"): a searcher, if there is one, takes
        // over the duty, so the queues are scanned only when nobody
        // searches. Whether we take ourselves off the sleepers list or a
        // notifier already did, we are now counted as searching.
        let must_look = !shared.idle.another_is_searching() && shared.has_visible_work();
        if must_look || shared.is_shutdown() {
            shared.idle.unpark_worker_by_id(index);
            self.core.borrow_mut().is_searching = true;
            return;
        }
        let counters = &shared.counters[index];
        loop {
            let timeout = self.snapshot_for_rescue();
            metrics::add(&counters.parks, 1);
            let woke_tasks = self.sleep(index, timeout);
            metrics::add(&counters.unparks, 1);
            if shared.is_shutdown() {
                return;
            }
            if woke_tasks {
                // `sleep` set `is_searching` (idle, "Woken by the poller").
                return;
            }
            if !shared.idle.is_parked(index) {
                break;
            }
            if timeout.is_some() && self.rescue() {
                // Awake and searching, as after an unpark; `false` means a
                // notifier already counted us so (its token comes later).
                shared.idle.unpark_worker_by_id(index);
                break;
            }
            // A stale notification, or nobody stuck: sleep again.
        }
        self.core.borrow_mut().is_searching = true;
    }

    /// Lifo rule 3, before a sleep: if another worker is awake, remembers
    /// every worker's poll counter and returns the sleep's time limit.
    fn snapshot_for_rescue(&self) -> Option<Duration> {
        let shared = &self.handle.shared;
        // Under loom a timed sleep would only add interleavings; the slot
        // protocol itself is plain atomics.
        if cfg!(loom) || shared.idle.counts().0 == 0 {
            return None;
        }
        let mut core = self.core.borrow_mut();
        core.seen_polls.clear();
        core.seen_polls
            .extend(shared.lifo.iter().map(|slot| slot.polls()));
        Some(RESCUE_INTERVAL)
    }

    /// Lifo rule 3, after a timed sleep: takes the tasks of a worker that
    /// stayed in one poll the whole time (its LIFO task, else half of its
    /// queue: a lone task there is not announced to sleepers either) into
    /// our own queue. True if it found any.
    fn rescue(&self) -> bool {
        let shared = &self.handle.shared;
        let core = self.core.borrow();
        for (peer, slot) in shared.lifo.iter().enumerate() {
            if peer == core.index || slot.polls() != core.seen_polls[peer] {
                continue;
            }
            let before = core.local.len();
            let task = slot
                .take()
                .or_else(|| shared.stealers[peer].steal_half_into(&core.local));
            if let Some(task) = task {
                count_steal(&shared.counters[core.index], before, core.local.len());
                core.local.push(task);
                return true;
            }
        }
        false
    }

    /// Sleeps until unparked: in the reactor if nobody else waits on it
    /// (module docs, "Sleeping in the reactor"), else in the parker. True
    /// if it came back with tasks from the reactor, now woken.
    fn sleep(&self, index: usize, timeout: Option<Duration>) -> bool {
        let shared = &self.handle.shared;
        let parker = &shared.parkers[index];
        // Asleep, this worker holds no unit of the clock's activity (rule 2
        // of `reactor/activity.rs`); awake again, it takes one before it
        // wakes anything it collected.
        let activity = &shared.driver.clock().activity;
        // Lifo rule 4's announcement belongs to one wake by the poller.
        self.core.borrow_mut().announce_next = false;
        let Some(mut turn) = shared.driver.started().and_then(|r| r.try_turn()) else {
            activity.leave();
            match timeout {
                Some(t) => parker.park_timeout(t),
                None => parker.park(),
            }
            activity.enter();
            return false;
        };
        activity.leave();
        parker.park_driving(|| turn.wait(timeout));
        activity.enter();
        if !turn.has_wakers() {
            return false;
        }
        // Awake before the tasks are queued here, but not searching (idle
        // protocol, "Woken by the poller"): a lone woken task wakes no peer.
        let searching = shared.idle.transition_worker_from_poller(index);
        self.core.borrow_mut().is_searching = searching;
        turn.wake();
        // Lifo rule 4: the peers may all sleep without a rescue timeout.
        self.core.borrow_mut().announce_next = !searching;
        true
    }

    /// The periodic look at the reactor (module docs).
    fn maybe_poll_reactor(&self) {
        if self.core.borrow().tick % REACTOR_POLL_INTERVAL != 0 {
            return;
        }
        let Some(reactor) = self.handle.shared.driver.started() else {
            return;
        };
        if !reactor.has_interest() {
            return;
        }
        if let Some(mut turn) = reactor.try_turn() {
            turn.wait(Some(Duration::ZERO));
            turn.wake();
        }
    }

    /// A task of this runtime was woken (or yielded, or spawned) on this
    /// worker's thread.
    ///
    /// Inlined into `Handle::schedule_with`, its one caller: every wake and
    /// yield on a worker goes through here, and a call in between costs
    /// more than the sampling countdown it holds (docs/PERFORMANCE.md,
    /// "Debug mode and metrics cost").
    #[inline]
    pub(super) fn schedule_local(&self, task: Notified, kind: LocalKind) {
        let Ok(mut core) = self.core.try_borrow_mut() else {
            // Only reachable from a destructor run while the core is
            // borrowed; the injector is always safe.
            return self.handle.schedule_remote(task);
        };
        // Before the push: sampling rule 2.
        if core.wake_sample.tick() {
            self.handle.shared.wakes.arm(&task);
        }
        let announce = std::mem::take(&mut core.announce_next);
        let notify = announce
            | match kind {
                // Placement: a task that last ran on another worker waits its
                // turn behind this worker's queue instead of running next
                // (module docs, "Where a task this worker schedules goes").
                LocalKind::Wake if !core.local.is_empty() && !self.is_home_of(&task) => {
                    core.push_local(task)
                }
                LocalKind::Wake => match self.handle.shared.lifo[core.index].put(task) {
                    Some(prev) => core.push_local(prev),
                    None => false,
                },
                LocalKind::Yield | LocalKind::Spawn => core.push_local(task),
            };
        drop(core);
        if notify {
            self.handle.notify_parked();
        }
    }

    /// True if `task` last ran on this worker, or has no record (task rule
    /// 10: never run yet, or run only outside the workers).
    #[inline]
    fn is_home_of(&self, task: &Notified) -> bool {
        let tag = task.worker_tag();
        tag == 0 || tag == WorkerTag::of_worker(self.index).get()
    }

    /// Drops every task left in this worker's queues (shutdown: the owned
    /// list cancels the tasks themselves).
    fn drain_local(&self) {
        let core = self.core.borrow_mut();
        let lifo = self.handle.shared.lifo[core.index].take();
        let mut tasks: Vec<Notified> = lifo.into_iter().collect();
        while let Some(task) = core.local.pop() {
            tasks.push(task);
        }
        drop(core);
        drop(tasks);
    }
}

/// Counts a steal that took one task and moved the rest of its batch into
/// our queue, which grew from `before` to `after` tasks (only its owner
/// pushes to a queue, so the growth is exactly the batch).
fn count_steal(counters: &metrics::WorkerCounters, before: usize, after: usize) {
    metrics::add(&counters.steal_operations, 1);
    let moved = after.saturating_sub(before) + 1;
    metrics::add(&counters.stolen_tasks, moved as u64);
}

/// Why a task is being queued on its own worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum LocalKind {
    Wake,
    Yield,
    Spawn,
}

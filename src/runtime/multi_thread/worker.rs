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
//! 6. none: if it is a searcher, keep looking for a moment
//!    ([`SEARCH_SPIN`], "Spinning before a park" below), then park (with
//!    the re-check of the idle protocol).
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
//! # Spinning before a park
//!
//! A searcher that found nothing does not park at once: for up to
//! [`SEARCH_SPIN`] it re-reads the queues' lengths, a few pauses apart, and
//! goes back to step 1 as soon as the injector is not empty or a local
//! queue holds two tasks or more. A lone task in another worker's queue is
//! not work for the spinner, for the reason a push of it notifies nobody
//! (above): taking it only moved chains of spawns from core to core, each
//! idle worker spinning to take the next link back (chained_spawn ran 1.4x
//! as long as without the spin on a 2-vCPU Intel host; docs/PERFORMANCE.md,
//! "Task cells", section 5). The park step's re-check still counts it, so
//! a lone task behind a long poll is taken as before. It stays counted as
//! searching the whole time, which is what makes the spin pay twice: a
//! pusher in that window sees a searcher and makes no unpark call (idle
//! protocol, "Notify"), and this worker makes no park call and suffers no
//! wake-up. For the idle protocol the spin is only a longer search; it
//! ends in the park step with its re-check, as before.
//!
//! Two limits keep its cost bounded. Only searchers spin, and at most half
//! of the workers search, so at most half of the idle workers burn a
//! spin's CPU, once per idle transition. And nobody spins while the
//! reactor has interest (a registered source or a pending timer): ready
//! I/O and expired timers reach the workers only through the poller's
//! wait, which the spinner would delay (if it is the one to wait) or not
//! see (if another worker waits). An HTTP server, which always has its
//! listener registered, therefore never spins. Measured under `wrk` on 2
//! cores, a spin while another worker waited on the poller cost it 3-7% of
//! its requests per second, for CPU the load generator needed
//! (docs/PERFORMANCE.md, "Latency under load: a searcher spins before it
//! parks").
//!
//! [`Reactor::try_turn`]: crate::reactor::Reactor::try_turn
//! [`Reactor::notify`]: crate::reactor::Reactor::notify
//! [`Parker::park_driving`]: crate::runtime::park::Parker::park_driving

use std::cell::RefCell;
use std::time::{Duration, Instant};

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
/// How long a searcher keeps looking before it parks ("Spinning before a
/// park").
///
/// Why 1 µs: a park and the unpark that ends it cost two system calls and
/// a cross-CPU wake-up, about 23 µs on the project's 2-vCPU VM (`perf
/// bench sched pipe`: 47 µs per round trip of two such wake-ups) and
/// several µs on bare metal. Work that arrives within a microsecond of the
/// worker running dry (a producer a step behind, the other half of a
/// request/response pair) then costs neither; a spin that finds nothing
/// adds at most 1 µs of CPU to an idle transition. On the latency bench (1
/// worker, requests from an outside thread every 0.3 µs at 50% load) it
/// cut the worker's park calls from 6,000-11,000 to 73-135 per process,
/// and its median p99 at 50% load from 14.8-21.4 to 3.6-13.1 µs
/// (docs/PERFORMANCE.md, "Latency under load: a searcher spins before it
/// parks"). Longer spins (2 and 5 µs) measured no better there, and 5 µs
/// or more took CPU from the blocking pool's and clients' threads on 2
/// cores.
const SEARCH_SPIN: Duration = Duration::from_micros(1);
/// Pauses between two looks at the queues while spinning: a look reads a
/// line of every queue, which a pusher must then take back, so it is not
/// repeated back to back; eight pauses are 0.2-0.4 µs on the VM's CPU.
const SPIN_PAUSES: u32 = 8;

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
            } else if !self.spin_for_work() {
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

    /// Step 6, first part ("Spinning before a park"): a searcher looks at
    /// the queues for up to [`SEARCH_SPIN`] more. True if work became
    /// visible (or shutdown began): the caller goes back to step 1, still
    /// searching. False if the caller should park.
    fn spin_for_work(&self) -> bool {
        let shared = &self.handle.shared;
        // Under loom there is no time to spin for, and the spin is only a
        // longer search: the models cover the park that follows it.
        if cfg!(loom) || !self.core.borrow().is_searching {
            return false;
        }
        // Ready I/O and expired timers reach the workers only through the
        // poller's wait, which a spinner would not be in or would delay.
        if shared.driver.started().is_some_and(|r| r.has_interest()) {
            return false;
        }
        let deadline = Instant::now() + SEARCH_SPIN;
        loop {
            // Pauses first: `search` has just looked.
            for _ in 0..SPIN_PAUSES {
                std::hint::spin_loop();
            }
            if shared.has_parallel_work() || shared.is_shutdown() {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
        }
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
        let notify = match kind {
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

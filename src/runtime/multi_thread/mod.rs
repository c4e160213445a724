//! The multi-thread, work-stealing scheduler.
//!
//! `Shared` is what every worker, waker and handle reaches: the injector,
//! the stealers of all local queues, the idle/sleep state, one parker per
//! worker, and the owned-task list. Each worker thread owns the rest (its
//! local queue and LIFO slot) in a [`worker::Core`].
//!
//! # Shutdown
//!
//! 1. `signal_shutdown` (from `Runtime` drop/shutdown, or a task panic under
//!    `UnhandledPanic::ShutdownRuntime`) sets `shutdown`, closes the owned
//!    list to new tasks, and unparks every worker and every `block_on`.
//! 2. Each worker finishes the poll it is in, leaves its loop, clears its
//!    worker context (so later wakes on its thread go to the injector), and
//!    drops what is left in its local queue.
//! 3. The last worker out cancels every task still in the owned list (each
//!    future dropped once, on that thread, with no poll in flight anywhere)
//!    and empties the injector.
//! 4. `Runtime` waits for step 3 (up to the timeout, if one was given) and
//!    joins the threads.
//!
//! A task scheduled after step 1 is pushed and then dropped again
//! (`schedule_remote` empties the injector itself once it sees `shutdown`),
//! so no `Notified` outlives the runtime in a queue.

pub(crate) mod idle;
pub(crate) mod lifo;
pub(crate) mod queue;
pub(crate) mod worker;

use std::future::Future;
use std::io;
use std::ptr::NonNull;
use std::task::Waker;

use crossbeam_utils::CachePadded;

use self::idle::Idle;
use self::queue::{Injector, Local, Stealer};
use self::worker::LocalKind;
use crate::blocking::BlockingHandle;
use crate::deadline::Deadline;
use crate::loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::*};
use crate::loom::sync::{Arc, Condvar, Mutex};
use crate::runtime::block_on_waker::{BlockOnSignal, ExitGuard};
use crate::runtime::builder::{Config, HookResult};
use crate::runtime::debug::{self, TaskInfo, watchdog};
use crate::runtime::metrics::{self, WorkerCounters};
use crate::runtime::park::Parker;
use crate::runtime::sampling::WakeSlot;
use crate::runtime::scheduler::Spawner;
use crate::runtime::unhandled_panic::{UnhandledPanic, panic_shutdown};
use crate::runtime::{context, dump};
use crate::task::core::{Header, Schedule};
use crate::task::list::OwnedTasks;
use crate::task::{Notified, Task};

/// The scheduler handle that tasks, wakers and `windlass::Handle` hold.
pub(crate) struct Handle {
    pub(super) shared: Shared,
}

pub(crate) struct Shared {
    /// Tasks scheduled from outside the workers.
    injector: Injector,
    /// One per worker, indexed like the workers.
    stealers: Box<[Stealer]>,
    /// Each worker's LIFO slot and poll counter, indexed like the workers
    /// (see `lifo`: stealable by a worker rescuing a stuck peer's task).
    lifo: Box<[lifo::LifoSlot]>,
    /// Each worker's metrics counters, indexed like the workers (see
    /// `runtime::metrics`: written by their worker only).
    pub(super) counters: Box<[WorkerCounters]>,
    /// The wake being timed for the schedule-latency histogram
    /// (`runtime::sampling`).
    pub(super) wakes: WakeSlot,
    /// Sleeping and searching workers. Padded to a cache line (and its
    /// prefetch partner) of its own: its word and the sleepers' lock are
    /// written at every idle transition (a worker starting or stopping a
    /// search, parking, being unparked), while `stealers`, `lifo` and
    /// `counters`, next to it unpadded, are read by every worker on every
    /// task (docs/PERFORMANCE.md, "Contention model").
    idle: CachePadded<Idle>,
    /// One per worker; see the park step in `idle`. (A std `Arc`: the
    /// reactor's start hook keeps a clone.)
    parkers: crate::loom::std::sync::Arc<[Parker]>,
    /// The runtime's reactor, which a sleeping worker may wait on (see
    /// `worker`'s "Sleeping in the reactor").
    driver: crate::loom::std::sync::Arc<crate::reactor::Driver>,
    /// Every live task. (A std `Arc`: the debug-mode watchdog keeps a
    /// clone to look tasks up by id.)
    owned: crate::loom::std::sync::Arc<OwnedTasks>,
    /// What each worker is polling, published in debug mode only (see
    /// `debug::watchdog`).
    pub(super) poll_slots: watchdog::Slots,
    /// Debug mode's poll clock, moved by the watchdog (`debug::watchdog`,
    /// rule 6).
    coarse_clock: crate::loom::std::sync::Arc<watchdog::CoarseClock>,
    /// Stops the debug-mode watchdog at shutdown.
    watchdog_stop: crate::loom::std::sync::Arc<watchdog::Stop>,
    /// Set once by `signal_shutdown`.
    shutdown: AtomicBool,
    /// Set when a task panicked under `UnhandledPanic::ShutdownRuntime`.
    panicked: AtomicBool,
    /// Worker threads still running, for "last one out cleans up".
    workers_alive: AtomicUsize,
    /// True once the last worker has cleaned up; `Runtime` waits on it.
    done: Mutex<bool>,
    done_cvar: Condvar,
    /// Wakers of the `block_on` calls in progress, woken at shutdown.
    block_on_wakers: Mutex<Vec<(u64, Waker)>>,
    next_block_on: AtomicUsize,
    pub(crate) config: Config,
    /// The runtime's blocking pool (reached through `runtime::Handle`).
    blocking: BlockingHandle,
}

impl Handle {
    /// Creates the scheduler for `num_workers` workers, and their local
    /// queues (for [`start`]); no thread is started yet.
    pub(crate) fn new(
        num_workers: usize,
        config: Config,
        blocking: BlockingHandle,
        driver: crate::loom::std::sync::Arc<crate::reactor::Driver>,
    ) -> (Arc<Handle>, Vec<Local>) {
        let locals: Vec<Local> = (0..num_workers).map(|_| Local::new()).collect();
        let stealers = locals.iter().map(Local::stealer).collect();
        let shared = Shared {
            injector: Injector::new(),
            stealers,
            lifo: (0..num_workers).map(|_| lifo::LifoSlot::new()).collect(),
            counters: (0..num_workers).map(|_| Default::default()).collect(),
            wakes: WakeSlot::default(),
            idle: CachePadded::new(Idle::new(num_workers)),
            parkers: (0..num_workers).map(|_| Parker::new()).collect(),
            driver,
            owned: crate::loom::std::sync::Arc::new(OwnedTasks::new(num_workers)),
            poll_slots: watchdog::slots(num_workers),
            coarse_clock: Default::default(),
            watchdog_stop: Default::default(),
            shutdown: AtomicBool::new(false),
            panicked: AtomicBool::new(false),
            workers_alive: AtomicUsize::new(num_workers),
            done: Mutex::new(false),
            done_cvar: Condvar::new(),
            block_on_wakers: Mutex::new(Vec::new()),
            next_block_on: AtomicUsize::new(0),
            config,
            blocking,
        };
        (Arc::new(Handle { shared }), locals)
    }
}

/// Starts the workers of `handle` (one per local queue), each with a clone
/// of the runtime's handle `rt`, after hooking the scheduler to its
/// reactor; waits for every worker's `on_thread_start` report.
pub(crate) fn start(
    handle: &Arc<Handle>,
    rt: &crate::runtime::Handle,
    locals: Vec<Local>,
) -> io::Result<Vec<crate::loom::thread::JoinHandle<()>>> {
    let driver = &handle.shared.driver;
    // When the reactor starts, workers already asleep must look again so
    // that one of them waits on it (a token to every parker; a stale one
    // only costs its worker one extra turn of its park loop).
    let parkers = handle.shared.parkers.clone();
    driver.on_start(Box::new(move |reactor| {
        for p in parkers.iter() {
            if p.unpark() {
                reactor.notify();
            }
        }
    }));
    // Rule 4 of the auto-advance (`reactor/activity.rs`): the visible
    // queues. Cleared in `cleanup` (the hook holds the handle).
    let h = handle.clone();
    driver
        .clock()
        .activity
        .set_queued_hook(Some(crate::loom::std::sync::Arc::new(move || {
            h.shared.has_visible_work()
        })));
    if handle.shared.config.debug.enabled {
        start_watchdog(handle)?;
    }
    let num_workers = locals.len();
    let mut threads = Vec::with_capacity(num_workers);
    // Each worker reports whether its `on_thread_start` hook returned; see
    // `HookReports`.
    let reports = Arc::new(HookReports::new());
    for (index, local) in locals.into_iter().enumerate() {
        let core = worker::Core::new(index, local, handle.shared.config.debug.enabled);
        let (rt, me, reports) = (rt.clone(), handle.clone(), reports.clone());
        let body = move |hook: HookResult| {
            let ok = hook.is_ok();
            reports.report(hook);
            if ok {
                worker::run(rt, me, core);
            } else {
                // Never entered the loop whose exit guard counts it out.
                me.worker_exited();
            }
        };
        match handle.shared.config.spawn_thread("windlass-worker", body) {
            Ok(t) => threads.push(t),
            Err(e) => {
                // The workers never started count as exited already.
                let missing = num_workers - index;
                handle.abandon_start(threads, missing);
                return Err(e);
            }
        }
    }
    if let Err(e) = reports.wait(num_workers) {
        handle.abandon_start(threads, 0);
        return Err(e);
    }
    Ok(threads)
}

/// The workers' reports of their `on_thread_start` hooks. `build()` waits
/// for all of them: it must fail if one panicked (the decision documented
/// at `Builder::on_thread_start`), and a runtime handed to the user has
/// every worker counted in. (Loom-aware locks: under loom the workers are
/// model threads, which a plain channel would block.)
struct HookReports {
    /// Reports so far, and the first hook's panic message.
    state: Mutex<(usize, Option<String>)>,
    cvar: Condvar,
}

impl HookReports {
    fn new() -> HookReports {
        HookReports {
            state: Mutex::new((0, None)),
            cvar: Condvar::new(),
        }
    }

    fn report(&self, hook: HookResult) {
        let mut state = self.state.lock();
        state.0 += 1;
        if let Err(msg) = hook {
            state.1.get_or_insert(msg);
        }
        drop(state);
        self.cvar.notify_all();
    }

    fn wait(&self, n: usize) -> io::Result<()> {
        let mut state = self.state.lock();
        while state.0 < n {
            self.cvar.wait(&mut state);
        }
        match &state.1 {
            None => Ok(()),
            Some(msg) => Err(crate::runtime::builder::hook_error(msg)),
        }
    }
}

/// Starts the debug-mode watchdog (`debug::watchdog`).
fn start_watchdog(handle: &Arc<Handle>) -> io::Result<()> {
    let shared = &handle.shared;
    let owned = shared.owned.clone();
    let lookup = Box::new(move |id| owned.find(id, TaskInfo::of));
    // Rule 8: the first enter after an idle sleep kicks the watchdog.
    let clock = shared.driver.clock();
    let stop = shared.watchdog_stop.clone();
    clock
        .activity
        .set_watcher_hook(Box::new(move || stop.kick()));
    watchdog::start(
        shared.poll_slots.clone(),
        shared.coarse_clock.clone(),
        shared.config.debug.clone(),
        lookup,
        shared.watchdog_stop.clone(),
        ClockActivity(clock.clone()),
    )
}

/// The watchdog's view of the runtime's activity (`debug::watchdog` rule
/// 8, `reactor::activity` rule 6).
struct ClockActivity(crate::loom::std::sync::Arc<crate::reactor::clock::Clock>);

impl watchdog::Idle for ClockActivity {
    fn quiet(&self) -> bool {
        self.0.activity.units() == 0
    }

    fn watch(&self) -> bool {
        self.0.activity.watch_idle()
    }

    fn unwatch(&self) {
        self.0.activity.stop_watching()
    }
}

impl Shared {
    pub(super) fn is_shutdown(&self) -> bool {
        // Acquire: pairs with the SeqCst swap in `signal_shutdown`.
        self.shutdown.load(Acquire)
    }

    /// Unparks worker `index`, wherever it sleeps.
    pub(super) fn unpark_worker(&self, index: usize) {
        if self.parkers[index].unpark() {
            // It waits on the reactor, which therefore exists.
            if let Some(reactor) = self.driver.started() {
                reactor.notify();
            }
        }
    }

    /// The park step's re-check: any task another worker could take?
    pub(super) fn has_visible_work(&self) -> bool {
        !self.injector.is_empty() || self.stealers.iter().any(|s| !s.is_empty())
    }
}

impl Spawner for Handle {
    fn owned(&self) -> &OwnedTasks {
        &self.shared.owned
    }

    fn debug(&self) -> bool {
        self.shared.config.debug.enabled
    }

    fn schedule_spawned(me: &Arc<Self>, task: Notified) {
        Handle::schedule_with(me, task, LocalKind::Spawn);
    }
}

impl Handle {
    fn schedule_with(me: &Arc<Self>, task: Notified, kind: LocalKind) {
        context::with_worker(|worker| match worker {
            Some(cx) if Arc::ptr_eq(&cx.handle, me) => cx.schedule_local(task, kind),
            _ => me.schedule_remote(task),
        });
    }

    /// Queues a task from a thread that is not one of our workers.
    pub(super) fn schedule_remote(&self, task: Notified) {
        // Before the push: sampling rule 2.
        self.shared.wakes.on_schedule(&task);
        self.shared.injector.push(task);
        // SeqCst: either `signal_shutdown`'s swap comes after this load and
        // the cleanup (step 3) finds the task, or this load sees it and we
        // empty the injector ourselves.
        if self.shared.shutdown.load(SeqCst) {
            while let Some(task) = self.shared.injector.pop() {
                drop(task);
            }
            return;
        }
        self.notify_parked();
    }

    /// Wakes an idle worker if the idle protocol says one is needed.
    /// (Inlined: on the path of every local wake, where it is mostly the
    /// idle state's fast check.)
    #[inline]
    pub(super) fn notify_parked(&self) {
        if let Some(index) = self.shared.idle.worker_to_notify() {
            self.shared.unpark_worker(index);
        }
    }

    /// Shutdown step 1. Idempotent.
    pub(crate) fn signal_shutdown(&self) {
        if self.shared.shutdown.swap(true, SeqCst) {
            return;
        }
        self.shared.owned.close();
        self.shared.watchdog_stop.stop();
        for index in 0..self.shared.parkers.len() {
            self.shared.unpark_worker(index);
        }
        let wakers = std::mem::take(&mut *self.shared.block_on_wakers.lock());
        for (_, waker) in wakers {
            waker.wake();
        }
    }

    /// A failed `start`: shuts down, counts `missing` never-started workers
    /// out, and joins the threads that did start.
    fn abandon_start(&self, threads: Vec<crate::loom::thread::JoinHandle<()>>, missing: usize) {
        self.signal_shutdown();
        if missing > 0 && self.shared.workers_alive.fetch_sub(missing, AcqRel) == missing {
            self.cleanup();
        }
        for t in threads {
            let _ = t.join();
        }
    }

    /// Shutdown steps 2-3, called by each worker thread on its way out.
    pub(super) fn worker_exited(&self) {
        // AcqRel: the last worker must see every other worker's exit.
        if self.shared.workers_alive.fetch_sub(1, AcqRel) == 1 {
            self.cleanup();
        }
    }

    /// Shutdown step 3.
    fn cleanup(&self) {
        self.shared.driver.clock().activity.set_queued_hook(None);
        let settings = &self.shared.config.debug;
        self.shared
            .owned
            .close_and_shutdown(&|task| debug::report_pending(settings, task));
        while let Some(task) = self.shared.injector.pop() {
            drop(task);
        }
        *self.shared.done.lock() = true;
        self.shared.done_cvar.notify_all();
    }

    /// Shutdown step 4: waits for the cleanup until `deadline`. True if it
    /// finished.
    pub(crate) fn wait_done(&self, deadline: Deadline) -> bool {
        let mut done = self.shared.done.lock();
        deadline.wait(&self.shared.done_cvar, &mut done, |done| *done)
    }

    /// `Runtime::block_on` on a thread that is not a worker: poll `future`
    /// here and park between polls; the workers run the tasks.
    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        let (signal, waker) = BlockOnSignal::new(self.shared.driver.clock().clone());
        let _exit = ExitGuard(&signal);
        let key = self.shared.next_block_on.fetch_add(1, Relaxed) as u64;
        self.shared
            .block_on_wakers
            .lock()
            .push((key, waker.clone()));
        let _unregister = Unregister(self, key);
        let mut future = std::pin::pin!(future);
        let mut cx = std::task::Context::from_waker(&waker);
        loop {
            signal.before_poll();
            if let std::task::Poll::Ready(out) = future.as_mut().poll(&mut cx) {
                return out;
            }
            if self.shared.panicked.load(Acquire) {
                // The worker sets `panicked` before it signals shutdown;
                // signal here too so the runtime is visibly shut down by the
                // time this panic reaches the caller.
                self.signal_shutdown();
                panic_shutdown();
            }
            signal.park();
        }
    }

    pub(crate) fn num_alive_tasks(&self) -> usize {
        self.shared.owned.len()
    }

    /// `Handle::dump`'s part for this scheduler (see `runtime::dump`).
    /// A task on this thread's worker spent its budget (metrics rule 2:
    /// the worker's own thread writes its counters).
    pub(crate) fn count_forced_yield(&self) {
        context::with_worker(|w| {
            if let Some(w) = w {
                metrics::add(&self.shared.counters[w.index].forced_yields, 1);
            }
        });
    }

    /// `Handle::metrics`'s part for this scheduler: the workers, the
    /// injector's depth, and the histograms summed over the workers.
    pub(crate) fn metrics(
        &self,
        poll: &mut metrics::Histogram,
        latency: &mut metrics::Histogram,
    ) -> (Vec<metrics::WorkerMetrics>, usize) {
        let shared = &self.shared;
        let workers = shared
            .counters
            .iter()
            .zip(shared.stealers.iter())
            .zip(shared.lifo.iter())
            .map(|((c, stealer), lifo)| {
                c.sum_histograms(poll, latency);
                let mut w = c.snapshot(stealer.len());
                // The poll count is the LIFO slot's progress counter (lifo
                // rule 2), kept anyway, so polls cost the metrics nothing.
                w.polls = lifo.polls();
                w
            })
            .collect();
        (workers, shared.injector.len())
    }

    pub(crate) fn dump_tasks(&self, out: &mut Vec<dump::TaskSnapshot>) {
        dump::snapshot_list(&self.shared.owned, out);
        if self.shared.config.debug.enabled {
            let running: Vec<_> = self
                .shared
                .poll_slots
                .iter()
                .map(|s| s.current().map(|(task, _)| task))
                .collect();
            dump::match_workers(out, &running);
        }
    }

    pub(crate) fn num_workers(&self) -> usize {
        self.shared.parkers.len()
    }

    pub(crate) fn debug(&self) -> bool {
        self.shared.config.debug.enabled
    }

    /// The runtime's reactor.
    pub(crate) fn driver(&self) -> &crate::loom::std::sync::Arc<crate::reactor::Driver> {
        &self.shared.driver
    }

    /// The runtime's blocking pool.
    pub(crate) fn blocking(&self) -> &BlockingHandle {
        &self.shared.blocking
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.shared.is_shutdown()
    }

    /// `(unparked, searching)` workers, for the loom models.
    #[cfg(loom)]
    pub(crate) fn idle_counts(&self) -> (usize, usize) {
        self.shared.idle.counts()
    }
}

struct Unregister<'a>(&'a Handle, u64);

impl Drop for Unregister<'_> {
    fn drop(&mut self) {
        self.0
            .shared
            .block_on_wakers
            .lock()
            .retain(|(k, _)| *k != self.1);
    }
}

impl Schedule for Arc<Handle> {
    fn schedule(&self, task: Notified) {
        Handle::schedule_with(self, task, LocalKind::Wake);
    }

    fn yield_now(&self, task: Notified) {
        Handle::schedule_with(self, task, LocalKind::Yield);
    }

    fn release(&self, task: NonNull<Header>) -> Option<Task> {
        self.shared.owned.remove(task)
    }

    fn poll_clock_ns(&self) -> u64 {
        if self.shared.config.debug.enabled {
            // The watchdog runs in debug mode (`start`): its clock moves.
            self.shared.coarse_clock.now_ns()
        } else {
            crate::task::site::now_ns()
        }
    }

    fn polled(&self, task: &Header, start_ns: u64, end_ns: u64) {
        let settings = &self.shared.config.debug;
        debug::report_poll(settings, task, start_ns, end_ns, settings.enabled);
    }

    fn panic_lost(&self, task: &Header, message: Option<String>) {
        debug::report_lost_panic(&self.shared.config.debug, task, message);
    }

    fn wake_sampled(&self, task: NonNull<Header>) {
        // The running worker's counters (their one writer, `metrics` rule
        // 2); none off our workers, where nothing is recorded.
        context::with_worker(|worker| {
            let index = worker
                .filter(|cx| Arc::ptr_eq(&cx.handle, self))
                .map(|cx| cx.index);
            let counters = index.map(|i| &self.shared.counters[i]);
            self.shared.wakes.claim_into(task, counters);
        });
    }

    fn unhandled_panic(&self) {
        if self.shared.config.unhandled_panic == UnhandledPanic::ShutdownRuntime {
            // Release: `block_on` reads it with Acquire after its wake-up.
            self.shared.panicked.store(true, Release);
            self.signal_shutdown();
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::mem::{align_of, offset_of, size_of};
    use std::ops::Range;

    use crossbeam_utils::CachePadded;

    use super::{Config, Idle, Shared, Stealer, lifo};

    /// The blocks of `CachePadded`'s size (a cache line, or two where the
    /// prefetcher fetches lines in pairs) that `len` bytes at `offset` of
    /// `Shared` touch. `Shared` starts on such a block (asserted below).
    fn blocks(offset: usize, len: usize) -> Range<usize> {
        let block = align_of::<CachePadded<u8>>();
        offset / block..(offset + len.max(1) - 1) / block + 1
    }

    /// Contention model (docs/PERFORMANCE.md): the idle word and the
    /// sleepers' lock, written at every idle transition, share no cache
    /// line with the fields every worker reads on every task or loop turn;
    /// unpadded, `idle.state` sat on one line with the `stealers`, `lifo`
    /// and `counters` pointers, so each transition cost every worker a
    /// miss on its next task.
    #[test]
    fn the_idle_state_has_cache_lines_of_its_own() {
        assert_eq!(align_of::<Shared>() % align_of::<CachePadded<u8>>(), 0);
        let idle = blocks(offset_of!(Shared, idle), size_of::<CachePadded<Idle>>());
        let read_on_every_task = [
            (
                "stealers",
                offset_of!(Shared, stealers),
                size_of::<Box<[Stealer]>>(),
            ),
            (
                "lifo",
                offset_of!(Shared, lifo),
                size_of::<Box<[lifo::LifoSlot]>>(),
            ),
            (
                "counters",
                offset_of!(Shared, counters),
                size_of::<Box<[u8]>>(),
            ),
            (
                "parkers",
                offset_of!(Shared, parkers),
                size_of::<Box<[u8]>>(),
            ),
            ("driver", offset_of!(Shared, driver), size_of::<usize>()),
            ("owned", offset_of!(Shared, owned), size_of::<usize>()),
            ("shutdown", offset_of!(Shared, shutdown), 1),
            ("config", offset_of!(Shared, config), size_of::<Config>()),
        ];
        for (name, offset, len) in read_on_every_task {
            let field = blocks(offset, len);
            assert!(
                field.end <= idle.start || field.start >= idle.end,
                "`Shared::{name}` (bytes {offset}..{}) shares a cache line with the idle state \
                 (blocks {idle:?})",
                offset + len,
            );
        }
    }
}

//! Hooks for the loom models in `loom-tests/` (built only with
//! `RUSTFLAGS="--cfg loom"`; not part of the public API).
//!
//! Everything here is a thin wrapper over the real internals: the models
//! drive the real task cell, state word, owned list, idle protocol and
//! parker, never a copy of them. The only logic of its own is bookkeeping
//! the models assert on (queue contents, live task cells).
//!
//! - [`TestScheduler`]: a scheduler for raw tasks that the model runs by
//!   hand, one `Notified` at a time ([`TestScheduler::run_one`]).
//! - [`Idle`] and [`Parker`]: the multi-thread scheduler's sleep/wake
//!   protocol and the per-worker parker.
//! - [`LifoSlot`]: a worker's stealable LIFO slot.
//! - [`idle_counts`]: the idle counters of a running multi-thread runtime.
//! - [`reset_task_ids`]: deterministic task ids for each model iteration.
//! - [`Source`]: one reactor source (tick, ready bits, waker slots,
//!   waiters, closing), driven without a poller: the model plays the reactor
//!   thread ([`Source::deliver`], [`Source::close`]) and the tasks.
//! - [`mpsc_list`]: the unbounded `mpsc` channel's list of recycled blocks.

mod mpsc_list;
pub use self::mpsc_list::{ListPopper, ListPusher, Popped, mpsc_list};

use crate::loom::std::sync::Arc as StdArc;
use crate::loom::std::sync::atomic::{AtomicUsize as StdAtomicUsize, Ordering as StdOrdering};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, Waker};

use crate::loom::sync::{Arc, Mutex};
use crate::reactor::{self, Direction};
use crate::runtime::multi_thread::{idle, lifo};
use crate::runtime::park;
use crate::task::core::{Header, Schedule};
use crate::task::list::OwnedTasks;
use crate::task::{Id, JoinHandle, Notified, Task};

/// One worker's LIFO slot (`runtime::multi_thread::lifo`): the owner puts
/// through [`TestScheduler::put_into`], anyone takes.
pub struct LifoSlot(lifo::LifoSlot);

impl LifoSlot {
    /// An empty slot.
    #[allow(clippy::new_without_default)]
    pub fn new() -> LifoSlot {
        LifoSlot(lifo::LifoSlot::new())
    }

    /// Takes the slot's task, if any, and runs it (as a rescuing worker
    /// would). True if there was one.
    pub fn take_and_run(&self) -> bool {
        match self.0.take() {
            Some(task) => {
                task.run();
                true
            }
            None => false,
        }
    }
}

impl fmt::Debug for LifoSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LifoSlot").finish_non_exhaustive()
    }
}

/// A scheduler for raw tasks whose queue the model drains by hand.
///
/// Tasks are bound into a real owned-task list and queued as real
/// `Notified` references; wakes, aborts and yields come back through the
/// crate's `Schedule` trait into a loom mutex-guarded queue. Cloning gives
/// another handle to the same scheduler (for other loom threads).
#[derive(Clone)]
pub struct TestScheduler {
    inner: Arc<Inner>,
}

struct Inner {
    queue: Mutex<VecDeque<Notified>>,
    owned: OwnedTasks,
    /// Task cells not yet freed. Counted outside the model (a plain atomic):
    /// loom threads share one OS thread, so a read after the threads are
    /// joined sees every update, without adding interleavings.
    live: StdArc<StdAtomicUsize>,
    /// Mark the first this-many queued `Notified`s as sampled wakes
    /// (`task::site` rule 6), as a runtime does for one wake in many.
    mark_wakes: usize,
    /// Pushes marked, and runs that handed a mark to `wake_sampled`
    /// (counted like `live`).
    marked: StdAtomicUsize,
    claimed: StdAtomicUsize,
}

/// The scheduler handle stored in each task cell. Freeing the cell drops it,
/// which is how [`TestScheduler::live_tasks`] counts cells.
struct CellScheduler {
    inner: Arc<Inner>,
    live: StdArc<StdAtomicUsize>,
}

impl Drop for CellScheduler {
    fn drop(&mut self) {
        self.live.fetch_sub(1, StdOrdering::SeqCst);
    }
}

impl Inner {
    /// Queues a `Notified`, checking rule 5's "never in a queue twice".
    fn push(&self, task: Notified) {
        let mut queue = self.queue.lock();
        let id = task.id();
        assert!(
            queue.iter().all(|t| t.id() != id),
            "task {id} queued twice (rule 5): {:?} + {task:?}",
            *queue
        );
        if self.marked.load(StdOrdering::SeqCst) < self.mark_wakes {
            task.mark_wake_sampled();
            self.marked.fetch_add(1, StdOrdering::SeqCst);
        }
        queue.push_back(task);
    }
}

impl Schedule for CellScheduler {
    fn schedule(&self, task: Notified) {
        self.inner.push(task);
    }

    fn release(&self, task: NonNull<Header>) -> Option<Task> {
        self.inner.owned.remove(task)
    }

    fn wake_sampled(&self, _task: NonNull<Header>) {
        self.inner.claimed.fetch_add(1, StdOrdering::SeqCst);
    }
}

impl TestScheduler {
    /// A scheduler with an empty queue and an empty owned list.
    #[allow(clippy::new_without_default)]
    pub fn new() -> TestScheduler {
        TestScheduler::marking_wakes(0)
    }

    /// A scheduler that marks the first `n` wakes it queues (spawns
    /// included) as sampled (`task::site` rule 6, `runtime::sampling` rule
    /// 2): each mark must come back once, with the run that follows it
    /// ([`marks`](Self::marks)).
    pub fn marking_wakes(n: usize) -> TestScheduler {
        TestScheduler::with_marks(n)
    }

    fn with_marks(mark_wakes: usize) -> TestScheduler {
        TestScheduler {
            inner: Arc::new(Inner {
                queue: Mutex::new(VecDeque::new()),
                owned: OwnedTasks::new(1),
                live: StdArc::new(StdAtomicUsize::new(0)),
                mark_wakes,
                marked: StdAtomicUsize::new(0),
                claimed: StdAtomicUsize::new(0),
            }),
        }
    }

    /// Wakes marked as sampled, and marks handed back by runs of the task
    /// (`Schedule::wake_sampled`), so far.
    pub fn marks(&self) -> (usize, usize) {
        (
            self.inner.marked.load(StdOrdering::SeqCst),
            self.inner.claimed.load(StdOrdering::SeqCst),
        )
    }

    /// Creates a task for `future` (rule 1: join handle, owned list, first
    /// `Notified`) and queues its first `Notified`.
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_with(future, false)
    }

    /// [`spawn`](Self::spawn) as in debug mode: the task has extras (name,
    /// poll counters), so its polls are timed and recorded.
    pub fn spawn_debug<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_with(future, true)
    }

    fn spawn_with<F>(&self, future: F, debug: bool) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.inner.live.fetch_add(1, StdOrdering::SeqCst);
        let cell_scheduler = CellScheduler {
            inner: self.inner.clone(),
            live: self.inner.live.clone(),
        };
        let (join, notified) = self.inner.owned.bind(
            future,
            cell_scheduler,
            Id::next(),
            crate::task::site::SpawnMeta::here().into_site(debug),
        );
        if let Some(task) = notified {
            self.inner.push(task);
        }
        join
    }

    /// Pops the oldest queued `Notified` and runs it (poll, cancel or skip,
    /// as the state word decides). False if the queue was empty.
    pub fn run_one(&self) -> bool {
        let task = self.inner.queue.lock().pop_front();
        match task {
            Some(task) => {
                task.run();
                true
            }
            None => false,
        }
    }

    /// Runs queued tasks until the queue is empty; returns how many ran.
    pub fn run_all(&self) -> usize {
        let mut n = 0;
        while self.run_one() {
            n += 1;
        }
        n
    }

    /// `Notified` references in the queue now.
    pub fn queued(&self) -> usize {
        self.inner.queue.lock().len()
    }

    /// Rule 7: the owned list's shutdown pass (`close_and_shutdown`).
    pub fn shutdown(&self) {
        self.inner.owned.close_and_shutdown(&|_| {});
    }

    /// Drops every queued `Notified` without running it (what a runtime
    /// does with its queues at shutdown).
    pub fn drop_queued(&self) {
        let queued = std::mem::take(&mut *self.inner.queue.lock());
        drop(queued);
    }

    /// Moves the oldest queued `Notified` into `slot` as its owner would
    /// (lifo rule 1); a task it replaces goes back to the queue. False if
    /// the queue was empty.
    pub fn put_into(&self, slot: &LifoSlot) -> bool {
        let task = self.inner.queue.lock().pop_front();
        let Some(task) = task else { return false };
        if let Some(replaced) = slot.0.put(task) {
            self.inner.queue.lock().push_back(replaced);
        }
        true
    }

    /// `Handle::dump`'s read of the owned list (`runtime::dump`, rule 1):
    /// a snapshot of every task in it.
    pub fn snapshot(&self) -> Vec<crate::runtime::TaskSnapshot> {
        let mut out = Vec::new();
        crate::runtime::dump::snapshot_list(&self.inner.owned, &mut out);
        out
    }

    /// Tasks still in the owned list.
    pub fn owned_len(&self) -> usize {
        self.inner.owned.len()
    }

    /// Task cells spawned here and not yet freed.
    pub fn live_tasks(&self) -> usize {
        self.inner.live.load(StdOrdering::SeqCst)
    }
}

impl fmt::Debug for TestScheduler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestScheduler").finish_non_exhaustive()
    }
}

/// The multi-thread scheduler's idle protocol (`multi_thread::idle`).
pub struct Idle(idle::Idle);

impl Idle {
    /// All `num_workers` workers unparked, none searching.
    pub fn new(num_workers: usize) -> Idle {
        Idle(idle::Idle::new(num_workers))
    }

    /// Notify step: the worker to unpark, if one must be woken.
    pub fn worker_to_notify(&self) -> Option<usize> {
        self.0.worker_to_notify()
    }

    /// Search step: true if the worker may start searching.
    pub fn transition_worker_to_searching(&self) -> bool {
        self.0.transition_worker_to_searching()
    }

    /// Found-work step: true if the caller was the last searcher.
    pub fn transition_worker_from_searching(&self) -> bool {
        self.0.transition_worker_from_searching()
    }

    /// Park step, first half: registers the worker as asleep.
    pub fn transition_worker_to_parked(&self, index: usize, is_searching: bool) {
        self.0.transition_worker_to_parked(index, is_searching)
    }

    /// Park step, the re-check's first read: another worker is searching,
    /// so the caller may sleep without looking at the queues.
    pub fn another_is_searching(&self) -> bool {
        self.0.another_is_searching()
    }

    /// Park step, the re-check found work: take the worker off the sleepers.
    pub fn unpark_worker_by_id(&self, index: usize) -> bool {
        self.0.unpark_worker_by_id(index)
    }

    /// Woken-by-the-poller step: off the sleepers, awake, not searching;
    /// true if a notifier got there first (the worker is searching).
    pub fn transition_worker_from_poller(&self, index: usize) -> bool {
        self.0.transition_worker_from_poller(index)
    }

    /// True if the worker is still on the sleepers list.
    pub fn is_parked(&self, index: usize) -> bool {
        self.0.is_parked(index)
    }

    /// `(unparked, searching)` workers.
    pub fn counts(&self) -> (usize, usize) {
        self.0.counts()
    }
}

impl fmt::Debug for Idle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Idle").field(&self.0.counts()).finish()
    }
}

/// The one-token parker workers and `block_on` sleep on (`runtime::park`).
#[derive(Debug, Default)]
pub struct Parker(park::Parker);

impl Parker {
    /// A parker with no token.
    pub fn new() -> Parker {
        Parker(park::Parker::new())
    }

    /// Blocks until `unpark` (or returns at once, consuming its token).
    pub fn park(&self) {
        self.0.park()
    }

    /// Wakes the parked thread, or leaves a token for its next `park`.
    pub fn unpark(&self) {
        self.0.unpark();
    }

    /// Sleeps by running `drive` (a wait on the reactor), unless a token is
    /// there: `Parker::park_driving`.
    pub fn park_driving(&self, drive: impl FnOnce()) {
        self.0.park_driving(drive)
    }

    /// `unpark`, returning true if the thread sleeps in `park_driving` and
    /// the caller must interrupt its wait.
    pub fn unpark_for_driving(&self) -> bool {
        self.0.unpark()
    }
}

/// Restarts task ids at 1. Call at the start of every model iteration: the
/// owned list picks a task's shard (and so the loom mutex it locks) by id,
/// and loom needs each execution to replay the same choices.
pub fn reset_task_ids() {
    crate::loom::task_id::reset();
}

/// `(unparked, searching)` workers of a multi-thread runtime; `None` for
/// the current-thread flavor.
pub fn idle_counts(rt: &crate::runtime::Handle) -> Option<(usize, usize)> {
    rt.inner.idle_counts()
}

/// A direction of a [`Source`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// Readable.
    Read,
    /// Writable.
    Write,
}

impl Dir {
    fn real(self) -> Direction {
        match self {
            Dir::Read => Direction::Read,
            Dir::Write => Direction::Write,
        }
    }
}

/// One reactor source (`reactor::source::Source`), the real one, registered
/// with no poller: nothing reaches it but what the model does. The model
/// plays the reactor thread with [`deliver`](Source::deliver) (an event came
/// for this source's key) and [`close`](Source::close) (shutdown), and the
/// tasks with the `poll_*` methods and [`ready`](Source::ready).
///
/// The source sits in a loom `Arc`, so a model that leaks one fails. Clones
/// share the source, as the slab, the `Async` and the reactor's batch of
/// ready sources do.
#[derive(Clone)]
pub struct Source(Arc<reactor::Source>);

impl Source {
    /// A fresh registration under `key` (fd -1: no I/O is ever made on it).
    pub fn new(key: usize) -> Source {
        Source(Arc::new(reactor::Source::new(key, -1)))
    }

    /// The key it was registered under.
    pub fn key(&self) -> usize {
        self.0.key()
    }

    /// The tick to read before an I/O attempt.
    pub fn tick(&self) -> u64 {
        self.0.tick()
    }

    /// An attempt made at `tick` would block: wait for the next event, or
    /// `Ready(Ok)` to retry if one came since `tick`.
    pub fn poll_would_block(
        &self,
        cx: &mut Context<'_>,
        dir: Dir,
        tick: u64,
    ) -> Poll<io::Result<()>> {
        self.0.poll_would_block(cx, dir.real(), tick)
    }

    /// `Async::poll_readable` / `poll_writable`.
    pub fn poll_ready_main(&self, cx: &mut Context<'_>, dir: Dir) -> Poll<io::Result<()>> {
        self.0.poll_ready_main(cx, dir.real())
    }

    /// The retry loop of every `Async` I/O method (`io::async_fd::poll_io`,
    /// which this mirrors step for step: that module is private to `io`):
    /// read the tick, try `op`, and on `WouldBlock` wait unless the tick
    /// moved during the attempt. Outside a windlass task the cooperative
    /// budget is unlimited, so the budget check is left out.
    pub fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Dir,
        mut op: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            let tick = self.0.tick();
            match op() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    std::task::ready!(self.0.poll_would_block(cx, dir.real(), tick))?;
                }
                res => return Poll::Ready(res),
            }
        }
    }

    /// `Async::readable()` / `writable()`: a waiter future, which leaves
    /// the waiter list when dropped (as `Async`'s does).
    pub fn ready(&self, dir: Dir) -> Ready {
        Ready {
            source: self.clone(),
            dir,
            id: None,
        }
    }

    /// The reactor thread's turn for an event on this source: `on_event`
    /// under the source's lock, then the collected wakers woken outside it.
    /// Returns how many wakers it woke.
    pub fn deliver(&self, readable: bool, writable: bool) -> usize {
        self.deliver_event(readable, writable, false)
    }

    /// Like [`deliver`](Self::deliver), for an event that also reports the
    /// peer's half-close (`EPOLLRDHUP`): reads never block again.
    pub fn deliver_read_closed(&self) -> usize {
        self.deliver_event(true, false, true)
    }

    fn deliver_event(&self, readable: bool, writable: bool, read_closed: bool) -> usize {
        let ev = reactor::epoll::Event {
            key: self.key(),
            readable,
            writable,
            read_closed,
            write_closed: false,
        };
        let mut wakers = Vec::new();
        self.0.on_event(&ev, &mut wakers);
        wake(wakers)
    }

    /// The byte-stream retry loop with rule 7 (the real
    /// `io::async_fd::poll_stream_io`): `op` moves up to `want` bytes; a
    /// short transfer marks the direction used up and the next attempt at
    /// the same tick skips `op` and waits.
    pub fn poll_stream_io(
        &self,
        cx: &mut Context<'_>,
        dir: Dir,
        want: usize,
        op: impl FnMut() -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        crate::io::async_fd::poll_stream_io(&self.0, cx, dir.real(), want, op)
    }

    /// Reactor shutdown for this source (`wake_all`, then the wakes).
    /// Returns how many wakers it woke.
    pub fn close(&self) -> usize {
        let mut wakers = Vec::new();
        self.0.wake_all(&mut wakers);
        wake(wakers)
    }

    /// Waiters registered in `dir`, woken or not (dropped ones are gone).
    pub fn waiters(&self, dir: Dir) -> usize {
        self.0.waiters(dir.real())
    }
}

fn wake(wakers: Vec<Waker>) -> usize {
    let n = wakers.len();
    for w in wakers {
        w.wake();
    }
    n
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Source").field("key", &self.key()).finish()
    }
}

/// True if `e` is the error I/O gets after its reactor shut down.
pub fn is_gone(e: &io::Error) -> bool {
    e.to_string() == reactor::gone().to_string()
}

/// Future of [`Source::ready`]; mirrors `io::async_fd`'s `Ready`.
#[derive(Debug)]
pub struct Ready {
    source: Source,
    dir: Dir,
    /// The waiter id, allocated by the first pending poll.
    id: Option<u64>,
}

impl Future for Ready {
    type Output = io::Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        this.source.0.poll_ready(cx, this.dir.real(), &mut this.id)
    }
}

impl Drop for Ready {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            self.source.0.remove_waiter(self.dir.real(), id);
        }
    }
}

/// The auto-advance's activity word (`reactor::activity`): units, epoch,
/// the decider's idle test and its `waiting` flag.
pub struct Activity(reactor::activity::Activity);

impl Activity {
    /// No units, no hooks.
    pub fn new() -> Activity {
        Activity(reactor::activity::Activity::new())
    }

    /// Rule 4's hook: true if a visible queue holds a task.
    pub fn set_queued_hook(&self, hook: impl Fn() -> bool + Send + Sync + 'static) {
        self.0.set_queued_hook(Some(StdArc::new(hook)));
    }

    /// Rule 5's wake of the decider.
    pub fn set_wake_hook(&self, hook: impl Fn() + Send + Sync + 'static) {
        self.0.set_wake_hook(Box::new(hook));
    }

    /// Takes a unit.
    pub fn enter(&self) {
        self.0.enter()
    }

    /// Gives a unit back.
    pub fn leave(&self) {
        self.0.leave()
    }

    /// The decider's idle test (leaves `waiting` set when false).
    pub fn is_idle(&self) -> bool {
        self.0.is_idle()
    }

    /// The decider stopped waiting.
    pub fn stop_waiting(&self) {
        self.0.stop_waiting()
    }

    /// The idle test, returning the word it read when idle (rule 7).
    pub fn idle_word(&self) -> Option<u64> {
        self.0.idle_word()
    }

    /// Rule 7's re-check before a jump.
    pub fn still_idle(&self, word: u64) -> bool {
        self.0.still_idle(word)
    }

    /// Units held now.
    pub fn units(&self) -> u64 {
        self.0.units()
    }

    /// Rule 6's wake of the sleeping watcher.
    pub fn set_watcher_hook(&self, hook: impl Fn() + Send + Sync + 'static) {
        self.0.set_watcher_hook(Box::new(hook));
    }

    /// Rule 6, the watcher's side: true if it may sleep (and is the
    /// watcher until [`stop_watching`](Self::stop_watching)).
    pub fn watch_idle(&self) -> bool {
        self.0.watch_idle()
    }

    /// Rule 6: the watcher is awake again.
    pub fn stop_watching(&self) {
        self.0.stop_watching()
    }
}

impl Default for Activity {
    fn default() -> Self {
        Activity::new()
    }
}

impl fmt::Debug for Activity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Activity").field(&self.0.units()).finish()
    }
}

/// The unit of a `block_on` thread (`reactor::activity::Presence`).
#[derive(Debug)]
pub struct Presence(reactor::activity::Presence);

impl Presence {
    /// Holding a unit.
    pub fn entered(activity: &Activity) -> Presence {
        Presence(reactor::activity::Presence::entered(&activity.0))
    }

    /// The waker's side (after setting the `woken` flag, before unparking).
    pub fn wake(&self, activity: &Activity) {
        self.0.wake(&activity.0)
    }

    /// Before parking; true if the caller may park.
    pub fn before_park(&self, activity: &Activity, woken: impl Fn() -> bool) -> bool {
        self.0.before_park(&activity.0, woken)
    }

    /// After parking.
    pub fn after_park(&self, activity: &Activity) {
        self.0.after_park(&activity.0)
    }

    /// The thread is done.
    pub fn exit(&self, activity: &Activity) {
        self.0.exit(&activity.0)
    }
}

/// One worker's poll slot of the debug-mode watchdog
/// (`runtime::debug::watchdog`, rules 1-3), driven by the model: a loom
/// thread plays the worker, another the watchdog.
#[derive(Default)]
pub struct PollSlot(crate::runtime::debug::watchdog::PollSlot);

impl fmt::Debug for PollSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PollSlot").field(&self.0.current()).finish()
    }
}

impl PollSlot {
    /// Rule 1: a poll of `task` (non-zero) begins.
    pub fn begin(&self, task: u64) {
        self.0.begin_raw(task)
    }

    /// Rule 2: the poll ends.
    pub fn end(&self) {
        self.0.end();
    }

    /// Rule 3: what the watchdog reads: `(task, seq)` of a poll in
    /// progress, if any.
    pub fn current(&self) -> Option<(u64, u64)> {
        self.0.current()
    }
}

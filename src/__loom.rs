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
//! - [`idle_counts`]: the idle counters of a running multi-thread runtime.
//! - [`reset_task_ids`]: deterministic task ids for each model iteration.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::ptr::NonNull;
use std::sync::Arc as StdArc;
use std::sync::atomic::{AtomicUsize as StdAtomicUsize, Ordering as StdOrdering};

use crate::loom::sync::{Arc, Mutex};
use crate::runtime::multi_thread::idle;
use crate::runtime::{park, scheduler};
use crate::task::core::{Header, Schedule};
use crate::task::list::OwnedTasks;
use crate::task::{Id, JoinHandle, Notified, Task};

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
}

impl TestScheduler {
    /// A scheduler with an empty queue and an empty owned list.
    #[allow(clippy::new_without_default)]
    pub fn new() -> TestScheduler {
        TestScheduler {
            inner: Arc::new(Inner {
                queue: Mutex::new(VecDeque::new()),
                owned: OwnedTasks::new(1),
                live: StdArc::new(StdAtomicUsize::new(0)),
            }),
        }
    }

    /// Creates a task for `future` (rule 1: join handle, owned list, first
    /// `Notified`) and queues its first `Notified`.
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.inner.live.fetch_add(1, StdOrdering::SeqCst);
        let cell_scheduler = CellScheduler {
            inner: self.inner.clone(),
            live: self.inner.live.clone(),
        };
        let (join, notified) = self.inner.owned.bind(future, cell_scheduler, Id::next());
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
        self.inner.owned.close_and_shutdown();
    }

    /// Drops every queued `Notified` without running it (what a runtime
    /// does with its queues at shutdown).
    pub fn drop_queued(&self) {
        let queued = std::mem::take(&mut *self.inner.queue.lock());
        drop(queued);
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

    /// Park step, the re-check found work: take the worker off the sleepers.
    pub fn unpark_worker_by_id(&self, index: usize) -> bool {
        self.0.unpark_worker_by_id(index)
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
    match &rt.inner {
        scheduler::Handle::MultiThread(h) => Some(h.idle_counts()),
        scheduler::Handle::CurrentThread(_) => None,
    }
}

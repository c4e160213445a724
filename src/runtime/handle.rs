//! `Handle`: a cheap, cloneable reference to a runtime, usable from any
//! thread.

use std::error::Error;
use std::fmt;
use std::future::Future;

use super::runtime::EnterGuard;
use super::{context, scheduler};
use crate::loom::std::sync::Arc;

use crate::blocking::BlockingHandle;
use crate::reactor::Driver;
use crate::task::JoinHandle;
use crate::task::site::SpawnMeta;

/// A reference to a runtime: spawn onto it from any thread, worker or not
/// (asyncio's `run_coroutine_threadsafe` and `call_soon_threadsafe`).
///
/// `Clone + Send + Sync`. It does not keep the runtime alive: after the
/// runtime shuts down, [`spawn`](Self::spawn) returns a handle that resolves
/// to a cancelled [`JoinError`](crate::task::JoinError) at once.
///
/// ```
/// let rt = windlass::Runtime::new().unwrap();
/// let handle = rt.handle().clone();
/// let from_thread = std::thread::spawn(move || {
///     let task = handle.spawn(async { "hello from a plain thread" });
///     futures_lite::future::block_on(task).unwrap()
/// });
/// assert_eq!(from_thread.join().unwrap(), "hello from a plain thread");
/// ```
#[derive(Clone)]
pub struct Handle {
    /// The scheduler, which holds everything else (reactor, blocking pool,
    /// settings): one `Arc`, created by `Builder::build`
    /// (`scheduler::start`) and only cloned after that.
    pub(crate) inner: scheduler::Handle,
}

impl From<scheduler::Handle> for Handle {
    fn from(inner: scheduler::Handle) -> Handle {
        Handle { inner }
    }
}

/// The runtime flavor behind a [`Handle`]; see [`Handle::runtime_flavor`].
///
/// ```
/// use windlass::runtime::{Builder, RuntimeFlavor};
///
/// let rt = Builder::new_current_thread().build().unwrap();
/// assert_eq!(rt.handle().runtime_flavor(), RuntimeFlavor::CurrentThread);
/// let rt = Builder::new_multi_thread().build().unwrap();
/// assert_eq!(rt.handle().runtime_flavor(), RuntimeFlavor::MultiThread);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RuntimeFlavor {
    /// Worker threads with work stealing.
    MultiThread,
    /// Tasks run on the thread in `block_on`.
    CurrentThread,
}

/// Returned by [`Handle::try_current`] outside a runtime. Its message
/// names the ways into one.
///
/// ```
/// let err = windlass::runtime::Handle::try_current().unwrap_err();
/// assert!(err.to_string().contains("Runtime::enter()"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TryCurrentError(());

impl fmt::Display for TryCurrentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "no windlass runtime is current on this thread; call this from a task or inside Runtime::block_on, \
             or enter one with Runtime::enter() / Handle::enter()",
        )
    }
}

impl Error for TryCurrentError {}

impl Handle {
    /// The runtime this thread is in (a task, a worker, `block_on`, a
    /// blocking-pool thread, or under [`enter`](Self::enter)). Panics
    /// outside one, with a message naming the fix.
    ///
    /// ```
    /// use windlass::runtime::Handle;
    ///
    /// let rt = windlass::Runtime::new().unwrap();
    /// // Library code can find the runtime it was called from.
    /// let from_pool = rt.block_on(rt.spawn_blocking(|| {
    ///     Handle::current().spawn(async { "spawned from a pool thread" })
    /// }));
    /// assert_eq!(rt.block_on(from_pool.unwrap()).unwrap(), "spawned from a pool thread");
    /// ```
    #[track_caller]
    pub fn current() -> Handle {
        match Handle::try_current() {
            Ok(h) => h,
            Err(e) => panic!("windlass::runtime::Handle::current(): {e}"),
        }
    }

    /// The current runtime, or an error outside one. For code that may run
    /// with or without a runtime.
    ///
    /// ```
    /// use windlass::runtime::Handle;
    ///
    /// assert!(Handle::try_current().is_err()); // a plain thread
    /// let rt = windlass::Runtime::new().unwrap();
    /// let workers = rt.block_on(async { Handle::try_current().map(|h| h.num_workers()) });
    /// assert_eq!(workers, Ok(rt.handle().num_workers()));
    /// ```
    pub fn try_current() -> Result<Handle, TryCurrentError> {
        context::with_current(Handle::clone).ok_or(TryCurrentError(()))
    }

    /// Spawns a task onto this runtime: asyncio's `create_task`. The task
    /// starts running right away, on some worker; the returned handle can be
    /// awaited for its output, or dropped to let it run detached.
    ///
    /// After the runtime shut down, the task is dropped unrun and the
    /// handle resolves to a cancelled [`JoinError`](crate::task::JoinError).
    ///
    /// ```
    /// use futures_lite::future::block_on;
    ///
    /// let rt = windlass::Runtime::new().unwrap();
    /// let handle = rt.handle().clone();
    /// assert_eq!(block_on(handle.spawn(async { 1 + 2 })).unwrap(), 3);
    /// drop(rt);
    /// assert!(block_on(handle.spawn(async { 1 + 2 })).unwrap_err().is_cancelled());
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.inner.spawn(future, SpawnMeta::here())
    }

    /// [`spawn`](Self::spawn) with a site and name already taken.
    pub(crate) fn spawn_with<F>(&self, future: F, meta: SpawnMeta) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.inner.spawn(future, meta)
    }

    /// Runs the blocking closure `f` on this runtime's blocking pool:
    /// asyncio's `loop.run_in_executor(None, f)`.
    ///
    /// ```
    /// let rt = windlass::Runtime::new().unwrap();
    /// let h = rt.handle().spawn_blocking(|| std::thread::current().name().map(String::from));
    /// assert_eq!(rt.block_on(h).unwrap().as_deref(), Some("windlass-blocking"));
    /// ```
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.inner.blocking().spawn_with(f, SpawnMeta::here())
    }

    /// Makes this runtime current on this thread until the guard drops, so
    /// [`windlass::spawn`](crate::spawn), timers and sockets find it.
    ///
    /// ```
    /// let rt = windlass::Runtime::new().unwrap();
    /// let handle = rt.handle().clone();
    /// std::thread::spawn(move || {
    ///     let _guard = handle.enter();
    ///     let task = windlass::spawn(async { "spawned under enter" });
    ///     assert_eq!(futures_lite::future::block_on(task).unwrap(), "spawned under enter");
    /// })
    /// .join()
    /// .unwrap();
    /// ```
    pub fn enter(&self) -> EnterGuard<'_> {
        // Same as Runtime::enter; the guard borrows the handle instead.
        let guard = context::set_current(self);
        super::runtime::enter_guard(guard)
    }

    /// Tasks spawned and not yet finished (blocking closures and the
    /// `block_on` future are not counted).
    ///
    /// ```
    /// let rt = windlass::Runtime::new().unwrap();
    /// let (tx, rx) = windlass::sync::oneshot::channel::<()>();
    /// let waiting = rt.spawn(async move { rx.await.unwrap() });
    /// assert_eq!(rt.handle().num_alive_tasks(), 1);
    /// tx.send(()).unwrap();
    /// rt.block_on(waiting).unwrap();
    /// assert_eq!(rt.handle().num_alive_tasks(), 0);
    /// ```
    pub fn num_alive_tasks(&self) -> usize {
        self.inner.num_alive_tasks()
    }

    /// A snapshot of every live task (id, name, spawn site, state, poll
    /// counters) and of the blocking pool's work: asyncio's `all_tasks()`
    /// and `python -m asyncio pstree`. `Display` prints a tree in which, in
    /// debug mode, the members of a `TaskGroup` or `JoinSet` sit under the
    /// task that created it.
    ///
    /// Taking a dump never polls a task and holds each shard lock of the
    /// task list only while it copies that shard's tasks; it is safe from
    /// any thread, including inside a task.
    ///
    /// ```
    /// use windlass::runtime::{Builder, TaskState};
    ///
    /// let rt = Builder::new_multi_thread().debug(true).build().unwrap();
    /// rt.block_on(async {
    ///     let waiting = windlass::task::Builder::new()
    ///         .name("waits")
    ///         .spawn(std::future::pending::<()>());
    ///     // Scheduled, then Running on a worker, then Idle: waiting for a
    ///     // wake-up that never comes.
    ///     let idle = |dump: &windlass::runtime::TaskDump| {
    ///         dump.get(waiting.id()).unwrap().state() == TaskState::Idle
    ///     };
    ///     let mut dump = windlass::runtime::Handle::current().dump();
    ///     while !idle(&dump) {
    ///         windlass::task::yield_now().await;
    ///         dump = windlass::runtime::Handle::current().dump();
    ///     }
    ///     let task = dump.get(waiting.id()).unwrap();
    ///     assert_eq!((task.name(), task.counters().unwrap().polls), (Some("waits"), 1));
    ///     assert!(dump.to_string().contains("task 'waits' (id "));
    /// });
    /// ```
    pub fn dump(&self) -> super::TaskDump {
        let mut tasks = Vec::new();
        self.inner.dump_tasks(&mut tasks);
        let mut blocking = Vec::new();
        let pool = self.inner.blocking();
        super::dump::snapshot_list(pool.owned_tasks(), &mut blocking);
        let counts = pool.counts();
        let threads = (counts.threads, counts.idle);
        super::TaskDump::new(tasks, blocking, threads, self.inner.is_debug())
    }

    /// A snapshot of the runtime's metrics: per-worker counters, queue
    /// depths, the reactor, the blocking pool and two histograms. Always
    /// on and stable; see [`RuntimeMetrics`](super::RuntimeMetrics) for
    /// each number, and docs/ARCHITECTURE.md for where they are kept.
    ///
    /// Cheap enough to call often: it reads a few words per worker and
    /// takes the reactor's and the blocking pool's locks briefly. Safe
    /// from any thread, inside a task or not.
    ///
    /// ```
    /// use windlass::runtime::Builder;
    ///
    /// let rt = Builder::new_multi_thread().worker_threads(2).build().unwrap();
    /// rt.block_on(async {
    ///     let tasks: Vec<_> = (0..100).map(|i| windlass::spawn(async move { i })).collect();
    ///     for t in tasks {
    ///         t.await.unwrap();
    ///     }
    /// });
    /// let m = rt.handle().metrics();
    /// assert_eq!(m.workers.len(), 2);
    /// let polls: u64 = m.workers.iter().map(|w| w.polls).sum();
    /// assert!(polls >= 100);
    /// ```
    pub fn metrics(&self) -> super::RuntimeMetrics {
        let mut poll_duration = super::Histogram::default();
        let mut schedule_latency = super::Histogram::default();
        let (workers, injector_depth) = self
            .inner
            .metrics(&mut poll_duration, &mut schedule_latency);
        let mut reactor = super::ReactorMetrics::default();
        if let Some(r) = self.driver().started() {
            reactor.started = true;
            (reactor.turns, reactor.events) = r.turn_counts();
            reactor.registered_sources = r.num_sources();
            reactor.pending_timers = r.num_timers();
        }
        super::RuntimeMetrics {
            workers,
            injector_depth,
            reactor,
            blocking: self.blocking_metrics(),
            poll_duration,
            schedule_latency,
        }
    }

    /// Worker threads (1 for the current-thread flavor).
    ///
    /// ```
    /// use windlass::runtime::Builder;
    ///
    /// let rt = Builder::new_multi_thread().worker_threads(3).build().unwrap();
    /// assert_eq!(rt.handle().num_workers(), 3);
    /// let rt = Builder::new_current_thread().build().unwrap();
    /// assert_eq!(rt.handle().num_workers(), 1);
    /// ```
    pub fn num_workers(&self) -> usize {
        self.inner.num_workers()
    }

    /// The runtime's flavor. See the example on [`RuntimeFlavor`].
    pub fn runtime_flavor(&self) -> RuntimeFlavor {
        self.inner.flavor()
    }

    /// True once the runtime has begun shutting down.
    ///
    /// ```
    /// let rt = windlass::Runtime::new().unwrap();
    /// let handle = rt.handle().clone();
    /// assert!(!handle.is_shutdown());
    /// drop(rt);
    /// assert!(handle.is_shutdown());
    /// ```
    pub fn is_shutdown(&self) -> bool {
        self.inner.is_shutdown()
    }

    /// I/O sources registered with the reactor now (0 if it never started).
    /// A socket registers when created and deregisters when dropped.
    ///
    /// ```
    /// let rt = windlass::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let handle = windlass::runtime::Handle::current();
    ///     let socket = windlass::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     assert_eq!(handle.num_io_sources(), 1);
    ///     drop(socket);
    ///     assert_eq!(handle.num_io_sources(), 0);
    /// });
    /// ```
    pub fn num_io_sources(&self) -> usize {
        self.driver().started().map_or(0, |r| r.num_sources())
    }

    /// Timers registered with the reactor now (0 if it never started). A
    /// timer registers on its first poll and deregisters when it fires or
    /// is dropped.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = windlass::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let handle = windlass::runtime::Handle::current();
    ///     let mut nap = windlass::time::sleep(Duration::from_secs(3600));
    ///     assert_eq!(handle.num_timers(), 0); // not polled yet
    ///     assert!(futures_lite::future::poll_once(&mut nap).await.is_none());
    ///     assert_eq!(handle.num_timers(), 1);
    ///     drop(nap);
    ///     assert_eq!(handle.num_timers(), 0);
    /// });
    /// ```
    pub fn num_timers(&self) -> usize {
        self.driver().started().map_or(0, |r| r.num_timers())
    }

    /// The runtime's blocking pool (for its counters, or to spawn on it).
    ///
    /// ```
    /// let rt = windlass::runtime::Builder::new_multi_thread()
    ///     .max_blocking_threads(4)
    ///     .build()
    ///     .unwrap();
    /// let pool = rt.handle().blocking_pool();
    /// assert_eq!(pool.max_threads(), 4);
    /// rt.block_on(rt.spawn_blocking(|| ())).unwrap();
    /// assert_eq!(pool.high_water(), 1);
    /// ```
    pub fn blocking_pool(&self) -> &BlockingHandle {
        self.inner.blocking()
    }

    /// The I/O and timer reactor (its poller waited on from first use).
    pub(crate) fn driver(&self) -> &Arc<Driver> {
        self.inner.driver()
    }

    /// `metrics()`'s blocking-pool part. A thread started or notified and
    /// not yet at the queue counts as neither busy nor idle.
    fn blocking_metrics(&self) -> super::BlockingMetrics {
        let c = self.inner.blocking().counts();
        super::BlockingMetrics {
            threads_busy: c.threads.saturating_sub(c.idle).saturating_sub(c.starting),
            threads_idle: c.idle,
            queued: c.queued,
        }
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("flavor", &self.runtime_flavor())
            .field("workers", &self.num_workers())
            .field("alive_tasks", &self.num_alive_tasks())
            .finish()
    }
}

//! `Runtime`: owns the worker threads and the blocking pool.

use std::fmt;
use std::future::Future;
use std::io;
use std::time::{Duration, Instant};

use super::{Builder, Handle, context, current_thread, scheduler};
use crate::blocking::BlockingPool;
use crate::task::JoinHandle;

/// A windlass runtime: worker threads (or the calling thread, for the
/// current-thread flavor), and a blocking pool.
///
/// `Runtime::new()?.block_on(main())` is asyncio's `asyncio.run(main())`.
///
/// Dropping the runtime shuts it down: every task still alive is cancelled
/// (its future dropped exactly once), the worker threads are joined, queued
/// blocking closures are cancelled, and the drop waits for blocking closures
/// that are already running. [`shutdown_timeout`](Self::shutdown_timeout)
/// bounds that wait; [`shutdown_background`](Self::shutdown_background) does
/// not wait at all.
///
/// ```
/// let rt = windlass::Runtime::new().unwrap();
/// let answer = rt.block_on(async {
///     let task = windlass::spawn(async { 21 });
///     task.await.unwrap() * 2
/// });
/// assert_eq!(answer, 42);
/// ```
pub struct Runtime {
    handle: Handle,
    /// Worker threads (multi-thread flavor); joined at shutdown.
    threads: Vec<crate::loom::thread::JoinHandle<()>>,
    /// Taken at shutdown.
    blocking: Option<BlockingPool>,
}

/// Makes a runtime current on this thread until dropped; see
/// [`Runtime::enter`].
#[must_use = "the runtime is current only while the guard lives"]
pub struct EnterGuard<'a> {
    _guard: context::SetCurrentGuard,
    _runtime: std::marker::PhantomData<&'a Handle>,
}

impl fmt::Debug for EnterGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EnterGuard")
    }
}

pub(super) fn enter_guard<'a>(guard: context::SetCurrentGuard) -> EnterGuard<'a> {
    EnterGuard {
        _guard: guard,
        _runtime: std::marker::PhantomData,
    }
}

impl Runtime {
    /// A multi-thread runtime with one worker per CPU.
    pub fn new() -> io::Result<Runtime> {
        Builder::new_multi_thread().build()
    }

    pub(crate) fn from_parts(
        inner: scheduler::Handle,
        threads: Vec<crate::loom::thread::JoinHandle<()>>,
        blocking: BlockingPool,
        driver: std::sync::Arc<crate::reactor::Driver>,
    ) -> Runtime {
        let handle = Handle {
            inner,
            blocking: blocking.handle().clone(),
            driver,
        };
        Runtime {
            handle,
            threads,
            blocking: Some(blocking),
        }
    }

    /// Runs `future` to completion on this thread and returns its output.
    ///
    /// On the multi-thread flavor, spawned tasks run on the workers while
    /// this thread waits; on the current-thread flavor they run here, inside
    /// this call. A panic in `future` propagates to the caller.
    ///
    /// Panics if called on a thread that already drives a runtime (a worker
    /// thread, or inside another `block_on`): that would stall the runtime.
    /// Use `.await` there instead.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _enter = context::enter_runtime(&self.handle);
        match &self.handle.inner {
            scheduler::Handle::MultiThread(h) => h.block_on(future),
            scheduler::Handle::CurrentThread(h) => current_thread::Handle::block_on(h, future),
        }
    }

    /// Spawns a task; see [`Handle::spawn`].
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// Runs `f` on the blocking pool; see [`Handle::spawn_blocking`].
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.handle.spawn_blocking(f)
    }

    /// The runtime's handle.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Makes this runtime current on this thread (so `windlass::spawn` and
    /// `Handle::current` work) until the guard drops.
    ///
    /// ```
    /// let rt = windlass::Runtime::new().unwrap();
    /// let _guard = rt.enter();
    /// let task = windlass::spawn(async { 1 });
    /// assert_eq!(futures_lite::future::block_on(task).unwrap(), 1);
    /// ```
    pub fn enter(&self) -> EnterGuard<'_> {
        enter_guard(context::set_current(&self.handle))
    }

    /// Shuts down, waiting at most `timeout` for the workers to stop and for
    /// running blocking closures to finish; whatever is still running after
    /// that is left to finish in the background.
    pub fn shutdown_timeout(mut self, timeout: Duration) {
        self.shutdown(Some(timeout));
    }

    /// Shuts down without waiting: tasks are cancelled by the worker threads
    /// as they stop, in the background. Safe to call from inside a task.
    pub fn shutdown_background(mut self) {
        self.shutdown(Some(Duration::ZERO));
    }

    fn shutdown(&mut self, timeout: Option<Duration>) {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let left = || deadline.map(|d| d.saturating_duration_since(Instant::now()));
        match &self.handle.inner {
            scheduler::Handle::MultiThread(h) => {
                h.signal_shutdown();
                let threads = std::mem::take(&mut self.threads);
                if h.wait_done(left().or(timeout)) {
                    for t in threads {
                        let _ = t.join();
                    }
                }
            }
            scheduler::Handle::CurrentThread(h) => {
                let _current = context::set_current(&self.handle);
                h.shutdown();
            }
        }
        // Every task is gone, so every I/O object and timer they owned has
        // deregistered; stop the reactor thread.
        self.handle.driver.shutdown();
        if let Some(pool) = self.blocking.take() {
            // Dropping the pool after its shutdown does not wait again.
            pool.shutdown(left().or(timeout));
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        if self.blocking.is_none() {
            return; // already shut down
        }
        if context::is_entered() {
            // On a worker or inside block_on: joining would wait on ourselves.
            self.shutdown(Some(Duration::ZERO));
            if !std::thread::panicking() {
                panic!(
                    "windlass: a Runtime was dropped inside an asynchronous context (a task, a worker thread or \
                     block_on), where waiting for its threads would block. It was shut down in the background. \
                     Drop it from a plain thread, or call Runtime::shutdown_background() explicitly."
                );
            }
            return;
        }
        self.shutdown(None);
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("handle", &self.handle)
            .finish()
    }
}

//! `Runtime`: owns the worker threads and the blocking pool.

use std::fmt;
use std::future::Future;
use std::io;
use std::time::Duration;

use super::{Builder, Handle, context};
use crate::blocking::BlockingPool;
use crate::deadline::Deadline;
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
/// [`Runtime::enter`] and [`Handle::enter`].
///
/// ```
/// use windlass::runtime::Handle;
///
/// let rt = windlass::Runtime::new().unwrap();
/// {
///     let _guard = rt.enter();
///     assert!(Handle::try_current().is_ok());
/// }
/// // The guard is gone: this plain thread is outside the runtime again.
/// assert!(Handle::try_current().is_err());
/// ```
///
/// The guard borrows the runtime, so it cannot outlive it:
///
/// ```compile_fail
/// let guard = {
///     let rt = windlass::Runtime::new().unwrap();
///     rt.enter() // error: `rt` does not live long enough
/// };
/// ```
///
/// It restores the state of the thread that made it, so it stays on that
/// thread: it cannot be held across an `.await` in a spawned task (which
/// may resume on another worker) or sent away.
///
/// ```compile_fail
/// let rt = windlass::Runtime::new().unwrap();
/// let other = windlass::runtime::Builder::new_current_thread().build().unwrap();
/// let other: &'static windlass::runtime::Handle = Box::leak(Box::new(other.handle().clone()));
/// rt.spawn(async move {
///     let _guard = other.enter();
///     windlass::task::yield_now().await; // error: `EnterGuard` is not `Send`
/// });
/// ```
///
/// Guards must be dropped in the reverse order of their creation; one
/// dropped out of order panics.
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
    /// A multi-thread runtime with one worker per CPU, and default
    /// settings otherwise; use [`Builder`] to change them.
    ///
    /// ```
    /// let rt = windlass::Runtime::new().unwrap();
    /// let cpus = std::thread::available_parallelism().unwrap().get();
    /// assert_eq!(rt.handle().num_workers(), cpus);
    /// ```
    pub fn new() -> io::Result<Runtime> {
        Builder::new_multi_thread().build()
    }

    /// The runtime that `Builder::build` made: its one handle, the worker
    /// threads it started, and the pool the handle reaches.
    pub(crate) fn from_parts(
        handle: Handle,
        threads: Vec<crate::loom::thread::JoinHandle<()>>,
        blocking: BlockingPool,
    ) -> Runtime {
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
    ///
    /// ```
    /// let rt = windlass::Runtime::new().unwrap();
    /// let answer = rt.block_on(async {
    ///     let half = windlass::spawn(async { 21 }).await.unwrap();
    ///     half * 2
    /// });
    /// assert_eq!(answer, 42);
    /// ```
    ///
    /// Nesting panics, with a message that says to `.await` instead:
    ///
    /// ```should_panic
    /// let rt = windlass::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     rt.block_on(async { 1 }); // panics
    /// });
    /// ```
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _enter = context::enter_runtime(&self.handle);
        self.handle.inner.block_on(future)
    }

    /// Spawns a task from outside the runtime, no [`enter`](Self::enter)
    /// needed; see [`Handle::spawn`].
    ///
    /// ```
    /// let rt = windlass::Runtime::new().unwrap();
    /// let task = rt.spawn(async { "spawned from main" });
    /// // Await it in block_on, or in any executor.
    /// assert_eq!(futures_lite::future::block_on(task).unwrap(), "spawned from main");
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// Runs `f` on the blocking pool from outside the runtime; see
    /// [`Handle::spawn_blocking`].
    ///
    /// ```
    /// let rt = windlass::Runtime::new().unwrap();
    /// let checksum = rt.spawn_blocking(|| b"abc".iter().map(|&b| u32::from(b)).sum::<u32>());
    /// assert_eq!(rt.block_on(checksum).unwrap(), 97 + 98 + 99);
    /// ```
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.handle.spawn_blocking(f)
    }

    /// The runtime's handle: clone it to reach the runtime from other
    /// threads. See the example on [`Handle`].
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
    ///
    /// Unlike dropping the runtime, this cannot hang on a blocking closure
    /// that never returns. Nor on a [`fs::File`](crate::fs::File)'s data
    /// still queued to be written: a thread started for it writes it out
    /// in the background (dropping the runtime writes it before it returns).
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// let rt = windlass::Runtime::new().unwrap();
    /// let (release, wait) = std::sync::mpsc::channel::<()>();
    /// let (started_tx, started) = std::sync::mpsc::channel();
    /// rt.spawn_blocking(move || {
    ///     started_tx.send(()).unwrap();
    ///     wait.recv().unwrap();
    /// });
    /// let sleeper = rt.spawn(async { windlass::time::sleep(Duration::from_secs(3600)).await });
    /// started.recv().unwrap();
    ///
    /// let start = Instant::now();
    /// rt.shutdown_timeout(Duration::from_millis(20));
    /// assert!(start.elapsed() < Duration::from_secs(5)); // did not wait for the closure
    /// assert!(futures_lite::future::block_on(sleeper).unwrap_err().is_cancelled());
    /// release.send(()).unwrap(); // the closure ends in the background
    /// ```
    pub fn shutdown_timeout(mut self, timeout: Duration) {
        self.shutdown(Some(timeout));
    }

    /// Shuts down without waiting: tasks are cancelled by the worker threads
    /// as they stop, in the background. Safe to call from inside a task. A
    /// [`fs::File`](crate::fs::File)'s data still queued to be written is
    /// written out by a thread started for it (the process's exit does not
    /// wait for it; flush a file to know its data is written).
    ///
    /// Dropping a runtime inside a task or `block_on` panics (it would wait
    /// for threads from a thread they may need); this is the way out:
    ///
    /// ```
    /// let outer = windlass::Runtime::new().unwrap();
    /// outer.block_on(async {
    ///     let inner = windlass::Runtime::new().unwrap();
    ///     let handle = inner.handle().clone();
    ///     inner.shutdown_background();
    ///     assert!(handle.is_shutdown());
    /// });
    /// ```
    pub fn shutdown_background(mut self) {
        self.shutdown(Some(Duration::ZERO));
    }

    /// Shuts down within `timeout` (`None`: no limit): one deadline, taken
    /// now, for the scheduler's wait and the blocking pool's together.
    fn shutdown(&mut self, timeout: Option<Duration>) {
        let deadline = Deadline::after(timeout);
        let threads = std::mem::take(&mut self.threads);
        self.handle.inner.shutdown(&self.handle, threads, deadline);
        // Every task is gone, so every I/O object and timer they owned has
        // deregistered; stop the reactor thread.
        self.handle.driver().shutdown();
        if let Some(pool) = self.blocking.take() {
            // Dropping the pool after its shutdown does not wait again.
            pool.shutdown(deadline);
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

//! `Handle`: a cheap, cloneable reference to a runtime, usable from any
//! thread.

use std::error::Error;
use std::fmt;
use std::future::Future;

use super::runtime::EnterGuard;
use super::{context, scheduler};
use std::sync::Arc;

use crate::blocking::BlockingHandle;
use crate::reactor::Driver;
use crate::task::JoinHandle;

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
    pub(crate) inner: scheduler::Handle,
    pub(crate) blocking: BlockingHandle,
    /// The I/O and timer reactor, started on first use.
    pub(crate) driver: Arc<Driver>,
}

/// The runtime flavor behind a [`Handle`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RuntimeFlavor {
    /// Worker threads with work stealing.
    MultiThread,
    /// Tasks run on the thread in `block_on`.
    CurrentThread,
}

/// Returned by [`Handle::try_current`] outside a runtime.
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
    #[track_caller]
    pub fn current() -> Handle {
        match Handle::try_current() {
            Ok(h) => h,
            Err(e) => panic!("windlass::runtime::Handle::current(): {e}"),
        }
    }

    /// The current runtime, or an error outside one.
    pub fn try_current() -> Result<Handle, TryCurrentError> {
        context::with_current(Handle::clone).ok_or(TryCurrentError(()))
    }

    /// Spawns a task onto this runtime: asyncio's `create_task`. The task
    /// starts running right away, on some worker; the returned handle can be
    /// awaited for its output, or dropped to let it run detached.
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.inner.spawn(future)
    }

    /// Runs the blocking closure `f` on this runtime's blocking pool:
    /// asyncio's `loop.run_in_executor(None, f)`.
    ///
    /// ```
    /// let rt = windlass::Runtime::new().unwrap();
    /// let h = rt.handle().spawn_blocking(|| std::thread::current().name().map(String::from));
    /// assert_eq!(rt.block_on(h).unwrap().as_deref(), Some("windlass-blocking"));
    /// ```
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.blocking.spawn(f)
    }

    /// Makes this runtime current on this thread until the guard drops.
    pub fn enter(&self) -> EnterGuard<'_> {
        // Same as Runtime::enter; the guard borrows the handle instead.
        let guard = context::set_current(self);
        super::runtime::enter_guard(guard)
    }

    /// Tasks spawned and not yet finished.
    pub fn num_alive_tasks(&self) -> usize {
        self.inner.num_alive_tasks()
    }

    /// Worker threads (1 for the current-thread flavor).
    pub fn num_workers(&self) -> usize {
        match &self.inner {
            scheduler::Handle::MultiThread(h) => h.num_workers(),
            scheduler::Handle::CurrentThread(_) => 1,
        }
    }

    /// The runtime's flavor.
    pub fn runtime_flavor(&self) -> RuntimeFlavor {
        match &self.inner {
            scheduler::Handle::MultiThread(_) => RuntimeFlavor::MultiThread,
            scheduler::Handle::CurrentThread(_) => RuntimeFlavor::CurrentThread,
        }
    }

    /// True once the runtime has begun shutting down.
    pub fn is_shutdown(&self) -> bool {
        self.inner.is_shutdown()
    }

    /// I/O sources registered with the reactor now (0 if it never started).
    pub fn num_io_sources(&self) -> usize {
        self.driver.started().map_or(0, |r| r.num_sources())
    }

    /// Timers registered with the reactor now (0 if it never started).
    pub fn num_timers(&self) -> usize {
        self.driver.started().map_or(0, |r| r.num_timers())
    }

    /// The runtime's blocking pool (for its counters, or to spawn on it).
    pub fn blocking_pool(&self) -> &BlockingHandle {
        &self.blocking
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

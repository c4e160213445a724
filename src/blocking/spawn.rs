//! `spawn_blocking` and `to_thread`: the free functions that find the
//! current runtime and hand a closure to its pool.
//!
//! They sit above the runtime in the layers (docs/ARCHITECTURE.md): the
//! pool itself (`pool`) knows nothing of runtimes, and these two are the
//! only part of `blocking` that looks one up.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::runtime::Handle;
use crate::task::{JoinError, JoinHandle};

/// Runs `f` on the current runtime's blocking pool and returns a handle to
/// its result: asyncio's `loop.run_in_executor(None, f)`.
///
/// The closure is queued at once, on the runtime current *now*: works from
/// tasks and from any thread inside [`Runtime::enter`] or `block_on`; from
/// other threads use [`Handle::spawn_blocking`], or [`to_thread`], which
/// binds at its first poll instead. Panics outside a runtime, with a
/// message that says so.
///
/// [`Runtime::enter`]: crate::Runtime::enter
/// [`Handle::spawn_blocking`]: crate::runtime::Handle::spawn_blocking
///
/// ```
/// let rt = windlass::Runtime::new().unwrap();
/// let sum = rt.block_on(async {
///     windlass::spawn_blocking(|| (1..=100u64).sum::<u64>()).await.unwrap()
/// });
/// assert_eq!(sum, 5050);
/// ```
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    Handle::try_current()
        .unwrap_or_else(|_| {
            panic!(
                "windlass::spawn_blocking called outside a windlass runtime; call it from a task or inside \
                 Runtime::block_on / Runtime::enter, use Handle::spawn_blocking / BlockingPool::spawn, or \
                 windlass::blocking::to_thread, which binds to the runtime when first polled"
            )
        })
        .spawn_blocking(f)
}

/// Runs `f` on the blocking pool of the runtime that first polls the
/// returned future: asyncio's `await asyncio.to_thread(f)`.
///
/// Nothing happens until the first poll, which finds the current runtime
/// and queues `f` there, so the future can be built outside any runtime.
/// The output is `f`'s result, or a [`JoinError`] if `f` panicked. The
/// future **owns** the work, as the [`join`](crate::join) helpers own
/// their inputs: dropping it before `f` starts means `f` never runs;
/// dropping it while `f` runs lets `f` finish (a thread cannot be
/// interrupted) and drops the result.
///
/// # Panics
///
/// When first polled outside a windlass runtime (no task, `block_on` or
/// `Runtime::enter` on this thread), with a message saying so.
///
/// ```
/// // Built on a plain thread, with no runtime anywhere yet...
/// let work = windlass::blocking::to_thread(|| (1..=10u32).product::<u32>());
/// // ...and run where it is awaited.
/// let rt = windlass::Runtime::new().unwrap();
/// assert_eq!(rt.block_on(work).unwrap(), 3_628_800);
/// ```
pub fn to_thread<F, R>(f: F) -> ToThread<F, R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    ToThread {
        state: ToThreadState::Unbound(Some(f)),
    }
}

/// Future of [`to_thread`]: `Result<R, JoinError>`. Dropping it cancels
/// the work if it has not started.
///
/// ```
/// use windlass::blocking::{ToThread, to_thread};
///
/// let work: ToThread<_, &str> = to_thread(|| "done");
/// assert_eq!(windlass::Runtime::new().unwrap().block_on(work).unwrap(), "done");
/// ```
#[must_use = "futures do nothing unless awaited; to_thread submits the closure at the first poll"]
pub struct ToThread<F, R> {
    state: ToThreadState<F, R>,
}

/// Where a [`ToThread`] is.
enum ToThreadState<F, R> {
    /// Not polled yet; `None` only while binding.
    Unbound(Option<F>),
    /// Submitted to the pool of the runtime that first polled it. Owned:
    /// `ToThread`'s drop aborts it (as an `AbortOnDrop` would; a bare
    /// handle keeps the `Unbound`/`Bound` states one enum).
    Bound(JoinHandle<R>),
}

// `F` is moved out on the first poll and never pinned; the handle is Unpin.
impl<F, R> Unpin for ToThread<F, R> {}

impl<F, R> Future for ToThread<F, R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    type Output = Result<R, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if let ToThreadState::Unbound(f) = &mut this.state {
            let handle = Handle::try_current().unwrap_or_else(|_| {
                panic!(
                    "windlass::blocking::to_thread polled outside a windlass runtime; await it in a \
                     task or inside Runtime::block_on / Runtime::enter"
                )
            });
            let f = f.take().expect("bound once");
            this.state = ToThreadState::Bound(handle.spawn_blocking(f));
        }
        let ToThreadState::Bound(task) = &mut this.state else {
            unreachable!("bound above")
        };
        Pin::new(task).poll(cx)
    }
}

impl<F, R> Drop for ToThread<F, R> {
    fn drop(&mut self) {
        if let ToThreadState::Bound(task) = &self.state {
            // A no-op if the task has finished.
            task.abort();
        }
    }
}

impl<F, R> fmt::Debug for ToThread<F, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.state {
            ToThreadState::Unbound(_) => f.write_str("ToThread(unbound)"),
            ToThreadState::Bound(task) => f.debug_tuple("ToThread").field(task).finish(),
        }
    }
}

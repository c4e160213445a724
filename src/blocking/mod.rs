//! Running blocking code off the workers: asyncio's `run_in_executor`.
//!
//! A blocking closure becomes an ordinary windlass task (same cell, same
//! `JoinHandle`, same state protocol) whose future runs the closure once,
//! scheduled onto a [`BlockingPool`] instead of a worker. So `abort()`, panics
//! and shutdown behave exactly as for async tasks:
//!
//! - `abort()` before a pool thread picks the task up cancels it: the
//!   closure is dropped unrun and the handle gives a cancelled `JoinError`.
//! - `abort()` while the closure runs cannot stop it; it finishes, and
//!   the handle gives its result (task rule 6: an output that was produced
//!   is never reported as cancelled).
//! - A panic in the closure comes back as a `JoinError` (`is_panic()`).
//! - No closure runs twice: the task is polled once, and completes.
//!
//! The runtime has its own pool ([`spawn_blocking`], sized with
//! [`Builder::max_blocking_threads`](crate::runtime::Builder::max_blocking_threads));
//! build a [`BlockingPool`] to give one kind of work its own cap, as asyncio
//! code passes its own `ThreadPoolExecutor` to `run_in_executor`.
//!
//! Here the runtime has a single thread, yet a closure that blocks until a
//! task feeds it does not stall that task:
//!
//! ```
//! let rt = windlass::runtime::Builder::new_current_thread().build().unwrap();
//! rt.block_on(async {
//!     let (tx, rx) = std::sync::mpsc::channel();
//!     // On the runtime's thread, this `recv` would wait forever.
//!     let doubler = windlass::spawn_blocking(move || rx.recv().unwrap() * 2);
//!     windlass::spawn(async move { tx.send(21).unwrap() }).await.unwrap();
//!     assert_eq!(doubler.await.unwrap(), 42);
//!
//!     // A panic in the closure is an error value, as for any task.
//!     let err = windlass::spawn_blocking(|| panic!("disk on fire")).await.unwrap_err();
//!     assert!(err.is_panic());
//! });
//! ```

pub(crate) mod pool;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

pub use pool::{BlockingHandle, BlockingPool, BlockingPoolBuilder};

use crate::task::JoinHandle;

/// Runs `f` on the current runtime's blocking pool and returns a handle to
/// its result: asyncio's `loop.run_in_executor(None, f)`.
///
/// Works from tasks and from any thread inside [`Runtime::enter`] or
/// `block_on`; from other threads use [`Handle::spawn_blocking`]. Panics
/// outside a runtime, with a message that says so.
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
    crate::runtime::Handle::try_current()
        .unwrap_or_else(|_| {
            panic!(
                "windlass::spawn_blocking called outside a windlass runtime; call it from a task or inside \
                 Runtime::block_on / Runtime::enter, or use Handle::spawn_blocking / BlockingPool::spawn"
            )
        })
        .spawn_blocking(f)
}

/// The future of a blocking task: runs the closure on its first poll.
pub(crate) struct BlockingTask<F>(Option<F>);

impl<F> BlockingTask<F> {
    pub(crate) fn new(f: F) -> BlockingTask<F> {
        BlockingTask(Some(f))
    }
}

impl<F> Unpin for BlockingTask<F> {}

impl<F, R> Future for BlockingTask<F>
where
    F: FnOnce() -> R,
{
    type Output = R;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<R> {
        let f = self
            .0
            .take()
            .expect("windlass: a blocking task was polled twice");
        // The closure may run for long; the cooperative budget is for
        // async tasks sharing a worker and means nothing here.
        crate::runtime::context::budget_set(None);
        Poll::Ready(f())
    }
}

//! The runtime: [`Builder`], [`Runtime`], [`Handle`], and the schedulers.
//!
//! - `multi_thread`: worker threads with local queues, a global injector and
//!   work stealing (see its module docs for the queues and the sleep/wake
//!   protocol).
//! - `current_thread`: tasks run on the thread inside `block_on`.
//! - `context`: the per-thread state (current handle, current task, budget).
//! - `park`: how a thread sleeps until woken.

pub(crate) mod builder;
pub(crate) mod context;
pub(crate) mod current_thread;
mod handle;
pub(crate) mod multi_thread;
pub(crate) mod park;
#[allow(clippy::module_inception)]
mod runtime;
pub(crate) mod scheduler;
#[cfg(all(test, not(loom)))]
mod tests;

use std::future::Future;

pub use builder::{Builder, UnhandledPanic};
pub use handle::{Handle, RuntimeFlavor, TryCurrentError};
pub use runtime::{EnterGuard, Runtime};

use crate::task::JoinHandle;

/// Spawns a task onto the current runtime: asyncio's `create_task`.
///
/// Panics outside a runtime, with a message naming the fix (use
/// [`Handle::spawn`], or call it from a task or inside `block_on`).
///
/// ```
/// windlass::Runtime::new().unwrap().block_on(async {
///     let task = windlass::spawn(async { 1 + 1 });
///     assert_eq!(task.await.unwrap(), 2);
/// });
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match context::with_current(|h| h.spawn(future)) {
        Some(handle) => handle,
        None => panic!(
            "windlass::spawn called outside a windlass runtime; call it from a task or inside Runtime::block_on, \
             enter a runtime with Runtime::enter(), or spawn through a Handle (Handle::spawn)"
        ),
    }
}

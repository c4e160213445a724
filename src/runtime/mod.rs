//! The runtime: [`Builder`], [`Runtime`], [`Handle`], and the schedulers.
//!
//! A [`Runtime`] owns everything that runs your tasks: worker threads, a
//! reactor for I/O and timers (created on first use; idle workers wait on
//! it, or a reactor thread for a current-thread runtime) and a blocking
//! pool. [`Runtime::block_on`] runs the top-level future, asyncio's
//! `asyncio.run(main())`; [`spawn`] (or [`Handle::spawn`] from outside)
//! adds tasks; dropping the runtime cancels whatever is still running.
//!
//! - [`Runtime::new`] gives one worker per CPU; [`Builder`] sets the number
//!   of workers, thread names, the blocking pool's cap and the panic policy
//!   ([`UnhandledPanic`]).
//! - [`Builder::new_current_thread`] runs every task on the thread inside
//!   `block_on`, like asyncio's single-threaded loop.
//! - A [`Handle`] reaches the runtime from any thread, or finds the current
//!   one ([`Handle::current`]).
//!
//! ```
//! use windlass::runtime::{Builder, Handle};
//!
//! let rt = Builder::new_multi_thread().worker_threads(2).build().unwrap();
//! let handle = rt.handle().clone();
//! // A plain thread hands work to the runtime and waits for the result.
//! let producer = std::thread::spawn(move || {
//!     let task = handle.spawn(async { (1..=4).map(|n| n * n).sum::<u32>() });
//!     futures_lite::future::block_on(task).unwrap()
//! });
//! let doubled = rt.block_on(async {
//!     // Inside, the runtime is current: spawn without a handle.
//!     assert_eq!(Handle::current().num_workers(), 2);
//!     windlass::spawn(async { 15 * 2 }).await.unwrap()
//! });
//! assert_eq!((producer.join().unwrap(), doubled), (30, 30));
//! ```
//!
//! # Inside
//!
//! - `multi_thread`: worker threads with local queues, a global injector and
//!   work stealing (see its module docs for the queues and the sleep/wake
//!   protocol).
//! - `current_thread`: tasks run on the thread inside `block_on`.
//! - `context`: the per-thread state (current handle, current task, budget).
//! - `park`: how a thread sleeps until woken.

pub(crate) mod block_on_waker;
pub(crate) mod builder;
pub(crate) mod context;
pub(crate) mod current_thread;
pub(crate) mod debug;
pub(crate) mod dump;
mod handle;
pub(crate) mod metrics;
pub(crate) mod multi_thread;
pub(crate) mod park;
#[allow(clippy::module_inception)]
mod runtime;
pub(crate) mod sampling;
pub(crate) mod scheduler;
#[cfg(all(test, not(loom)))]
mod tests;
pub(crate) mod unhandled_panic;

use std::future::Future;

pub use builder::Builder;
pub use debug::{DebugEvent, TaskInfo};
pub use dump::{PollCounters, TaskDump, TaskSnapshot, TaskState};
pub use handle::{Handle, RuntimeFlavor, TryCurrentError};
pub use metrics::{
    BlockingMetrics, HISTOGRAM_BUCKETS, HISTOGRAM_SAMPLE_INTERVAL, Histogram, ReactorMetrics,
    RuntimeMetrics, WorkerMetrics,
};
pub use runtime::{EnterGuard, Runtime};
pub use unhandled_panic::UnhandledPanic;

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
///
/// The task may move between worker threads at each `.await`, so the
/// future must be `Send`: holding an `Rc` (or a `std::sync::MutexGuard`)
/// across an `.await` does not compile. Use `Arc` (and
/// [`sync::Mutex`](crate::sync::Mutex)) instead.
///
/// ```compile_fail
/// use std::rc::Rc;
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     windlass::spawn(async {
///         let shared = Rc::new(5);
///         windlass::task::yield_now().await;
///         *shared // error: `Rc<i32>` cannot be sent between threads safely
///     });
/// });
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    // Taken here: `track_caller` does not reach into the closure below.
    spawn_meta(future, crate::task::site::SpawnMeta::here())
}

/// [`spawn`] with the site (and name, parent) already taken.
pub(crate) fn spawn_meta<F>(future: F, meta: crate::task::site::SpawnMeta) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match context::with_current(|h| h.spawn_with(future, meta)) {
        Some(handle) => handle,
        None => panic!(
            "windlass::spawn called outside a windlass runtime; call it from a task or inside Runtime::block_on, \
             enter a runtime with Runtime::enter(), or spawn through a Handle (Handle::spawn)"
        ),
    }
}

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
//! **When work binds to a runtime.** [`spawn_blocking`] starts the closure
//! at once, on the runtime current at the call (a
//! [`JoinHandle`](crate::task::JoinHandle) names a task that already
//! exists), so it panics outside a runtime. [`to_thread`]
//! is the lazy form, asyncio's `asyncio.to_thread`: a future that finds the
//! runtime and submits the closure at its *first poll*, so it can be built
//! anywhere (in a constructor, on a plain thread) and awaited in a task.
//! Polled with no windlass runtime at all, it panics saying so. The
//! windlass functions built on the pool (`fs::*`, name resolution in
//! `net`) are `async fn`s, and bind at first poll the same way.
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
mod spawn;

pub use pool::{BlockingHandle, BlockingPool, BlockingPoolBuilder};
pub use spawn::{ToThread, spawn_blocking, to_thread};

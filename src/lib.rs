//! windlass: a multi-thread, work-stealing async runtime.
//!
//! - **Tasks** ([`spawn`], [`task::JoinHandle`]) run on worker threads that
//!   each own a local queue and steal from each other when they run dry.
//! - **Blocking work** ([`spawn_blocking`], [`blocking::BlockingPool`]) runs on
//!   a pool of threads that grows on demand, so workers keep serving tasks.
//! - **One handle** ([`Runtime`], [`runtime::Handle`]) owns and reaches it all,
//!   from async code and from plain threads alike.
//!
//! Coming from Python's asyncio: `asyncio.run(main())` is
//! `Runtime::new()?.block_on(main())`, `create_task` is [`spawn`],
//! `task.cancel()` is [`JoinHandle::abort`](task::JoinHandle::abort),
//! `await asyncio.sleep(0)` is [`task::yield_now`], and
//! `loop.run_in_executor(None, f)` is [`spawn_blocking`]. See
//! `docs/asyncio.md` for the full map.
//!
//! ```
//! use windlass::Runtime;
//!
//! async fn fetch(n: u64) -> u64 {
//!     // Blocking work goes to the pool; the worker keeps running tasks.
//!     windlass::spawn_blocking(move || n * n).await.unwrap()
//! }
//!
//! let rt = Runtime::new().unwrap();
//! let total = rt.block_on(async {
//!     let tasks: Vec<_> = (1..=10).map(|n| windlass::spawn(fetch(n))).collect();
//!     let mut total = 0;
//!     for t in tasks {
//!         total += t.await.unwrap();
//!     }
//!     total
//! });
//! assert_eq!(total, 385);
//! ```
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(
    clippy::undocumented_unsafe_blocks,
    missing_docs,
    missing_debug_implementations
)]

pub mod blocking;
pub mod fs;
pub mod io;
pub mod join;
mod loom;
pub mod net;
mod reactor;
pub mod runtime;
pub mod signal;
pub mod sync;
pub mod task;
pub mod time;

#[cfg(loom)]
#[doc(hidden)]
pub mod __loom;

pub use blocking::spawn_blocking;
pub use join::{JoinSet, ReturnWhen, TaskGroup, as_completed, join_all, try_join_all, wait};
pub use runtime::{Handle, Runtime, spawn};
pub use task::{JoinError, JoinHandle, yield_now};

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
//! `docs/asyncio.md` for the full map. With the `macros` feature,
//! `asyncio.run(main())` is also written `#[windlass::main] async fn main()`,
//! and an async test `#[windlass::test] async fn ...()`.
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
//!
//! # A tour
//!
//! | Module | What it holds | In asyncio |
//! |---|---|---|
//! | [`runtime`] | [`Runtime`], [`runtime::Builder`], [`Handle`], [`spawn`] | `asyncio.run`, the event loop, `run_coroutine_threadsafe` |
//! | [`task`] | [`JoinHandle`] (await, abort), [`JoinError`], [`yield_now`], task ids | `Task`, `create_task`, `task.cancel()`, `sleep(0)` |
//! | [`join`] | [`join_all`], [`try_join_all`], [`wait`], [`as_completed`], [`JoinSet`], [`TaskGroup`], races | `gather`, `wait`, `as_completed`, `TaskGroup` |
//! | [`time`] | [`sleep`](time::sleep), [`timeout`](time::timeout), [`interval`](time::interval) | `asyncio.sleep`, `wait_for`, `call_later` |
//! | [`sync`] | [`Mutex`](sync::Mutex), [`Semaphore`](sync::Semaphore), [`Event`](sync::Event), [`Queue`](sync::Queue), channels | `Lock`, `Semaphore`, `Event`, `Condition`, `Queue`, `Future` |
//! | [`net`] | [`TcpListener`](net::TcpListener), [`TcpStream`](net::TcpStream), [`UdpSocket`](net::UdpSocket), Unix sockets | `start_server`, `open_connection`, datagram endpoints |
//! | [`io`] | [`Async`](io::Async) for any file descriptor, the `futures-io` traits | `loop.add_reader`, `add_writer` |
//! | [`fs`] | files and directories, on the blocking pool | `aiofiles` |
//! | [`blocking`] | [`spawn_blocking`], [`BlockingPool`](blocking::BlockingPool) | `run_in_executor`, `ThreadPoolExecutor` |
//! | [`signal`] | [`ctrl_c`](signal::ctrl_c), Unix signals | `KeyboardInterrupt`, `add_signal_handler` |
//! | [`process`] | [`Command`](process::Command), [`Child`](process::Child) with pipes on the reactor | `create_subprocess_exec`, `communicate` |
//!
//! Each module's page opens with a worked example. Here `time` and `join`
//! work together: three "downloads" run concurrently under one deadline,
//! asyncio's `wait_for(gather(...), timeout)`:
//!
//! ```
//! use std::time::{Duration, Instant};
//! use windlass::time::{sleep, timeout};
//!
//! async fn download(n: u64) -> u64 {
//!     sleep(Duration::from_millis(40)).await; // the network, simulated
//!     n * 100
//! }
//!
//! windlass::Runtime::new().unwrap().block_on(async {
//!     let start = Instant::now();
//!     let all = windlass::join_all((1..=3).map(download));
//!     let sizes = timeout(Duration::from_secs(5), all).await.expect("took too long");
//!     assert_eq!(sizes, [100, 200, 300]);
//!     assert!(start.elapsed() < Duration::from_millis(100)); // not 3 x 40 ms
//! });
//! ```
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(
    clippy::undocumented_unsafe_blocks,
    missing_docs,
    missing_debug_implementations
)]

pub mod blocking;
mod deadline;
pub mod fs;
#[cfg(feature = "hyper")]
pub mod hyper;
pub mod io;
pub mod join;
mod loom;
pub mod net;
pub mod process;
mod reactor;
pub mod runtime;
pub mod signal;
pub mod sync;
pub mod task;
pub mod time;

#[cfg(loom)]
#[doc(hidden)]
pub mod loom_test_hooks;

/// The `#[windlass::main]` and `#[windlass::test]` attributes (feature
/// `macros`).
#[cfg(feature = "macros")]
pub use windlass_macros::{main, test};

pub use blocking::spawn_blocking;
pub use join::{JoinSet, ReturnWhen, TaskGroup, as_completed, join_all, try_join_all, wait};
pub use runtime::{Handle, Runtime, spawn};
pub use task::{JoinError, JoinHandle, yield_now};

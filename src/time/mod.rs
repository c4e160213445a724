//! Time: [`sleep`] (asyncio's `asyncio.sleep`), [`timeout`] (asyncio's
//! `wait_for` over a future), [`wait_for`] (asyncio's `wait_for` over a
//! task: aborts it at the deadline) and [`interval`] (periodic work,
//! `loop.call_later` in a loop).
//!
//! Timers are kept by the runtime's reactor in deadline order and fire with
//! sub-millisecond precision (the reactor's wait is bounded by a timerfd). A
//! timer registers on its first poll and deregisters when it fires or is
//! dropped, so an abandoned sleep leaves nothing behind. Deadlines too far
//! in the future to represent (`Duration::MAX`) never fire.
//!
//! Timers belong to the runtime that is current when they are *created*:
//! create them inside a task, `block_on` or `Runtime::enter` (outside, they
//! panic with a message saying so).
//!
//! ```
//! use std::time::{Duration, Instant};
//! use windlass::time::{interval, sleep, timeout};
//!
//! windlass::Runtime::new().unwrap().block_on(async {
//!     let start = Instant::now();
//!     // asyncio.sleep: the task waits, the worker runs others meanwhile.
//!     sleep(Duration::from_millis(5)).await;
//!     assert!(start.elapsed() >= Duration::from_millis(5));
//!
//!     // asyncio.wait_for: a deadline around any future.
//!     let slow = timeout(Duration::from_millis(5), sleep(Duration::from_secs(60))).await;
//!     assert!(slow.is_err());
//!
//!     // Periodic work on a fixed schedule.
//!     let mut ticks = interval(Duration::from_millis(2));
//!     let first = ticks.tick().await;
//!     let third = { ticks.tick().await; ticks.tick().await };
//!     assert_eq!(third - first, Duration::from_millis(4));
//! });
//! ```

mod interval;
mod sleep;
mod timeout;
mod wait_for;

pub use interval::{Interval, MissedTickBehavior, interval, interval_at};
pub use sleep::{Sleep, sleep, sleep_until};
pub use std::time::{Duration, Instant};
pub use timeout::{Elapsed, Timeout, timeout, timeout_at};
pub use wait_for::{WaitFor, wait_for};

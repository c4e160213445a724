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
//! A timer binds to the runtime that is current when it is created, or,
//! if none is, when it is first polled (so a `Sleep` may be built outside a
//! runtime and awaited inside one). Polling it with no runtime at all
//! panics with a message saying so.
//!
//! # Virtual time
//!
//! [`pause`] (or [`Builder::start_paused`](crate::runtime::Builder::start_paused))
//! stops the runtime's clock; while it is paused and every task is idle,
//! the clock jumps to the next timer, on both runtime flavors.
//! [`Instant::now`] follows the paused clock, [`advance`] moves it on
//! explicitly and [`resume`] lets it run again. Tests with timers then take
//! no real time and see exact virtual durations:
//!
//! ```
//! use std::time::Duration;
//! use windlass::time::{Instant, sleep, timeout};
//!
//! let rt = windlass::runtime::Builder::new_multi_thread().start_paused(true).build().unwrap();
//! rt.block_on(async {
//!     let start = Instant::now();
//!     let res = timeout(Duration::from_secs(10), std::future::pending::<()>()).await;
//!     assert!(res.is_err());
//!     assert_eq!(start.elapsed(), Duration::from_secs(10));
//!     sleep(Duration::from_secs(3600)).await; // an hour, instantly
//!     assert_eq!(start.elapsed(), Duration::from_secs(3610));
//! });
//! ```
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

mod instant;
mod interval;
mod pause;
mod sleep;
mod timeout;
mod wait_for;

pub use instant::Instant;
pub use interval::{Interval, MissedTickBehavior, interval, interval_at};
pub use pause::{advance, pause, resume};
pub use sleep::{Sleep, sleep, sleep_until};
pub use std::time::Duration;
pub use timeout::{Elapsed, Timeout, timeout, timeout_at};
pub use wait_for::{WaitFor, wait_for};

/// Now on the current runtime's clock (the real clock outside a runtime),
/// as a point on the runtime's timeline.
pub(crate) fn clock_now() -> std::time::Instant {
    crate::runtime::context::with_current(|h| h.driver().clock().now())
        .unwrap_or_else(std::time::Instant::now)
}

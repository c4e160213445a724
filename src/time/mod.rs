//! Time: [`sleep`] (asyncio's `asyncio.sleep`), [`timeout`] (asyncio's
//! `wait_for`) and [`interval`] (periodic work, `loop.call_later` in a loop).
//!
//! Timers are kept by the runtime's reactor thread in deadline order and
//! fire with sub-millisecond precision (the reactor waits on a timerfd). A
//! timer registers on its first poll and deregisters when it fires or is
//! dropped, so an abandoned sleep leaves nothing behind. Deadlines too far
//! in the future to represent (`Duration::MAX`) never fire.

mod interval;
mod sleep;
mod timeout;

pub use interval::{Interval, MissedTickBehavior, interval, interval_at};
pub use sleep::{Sleep, sleep, sleep_until};
pub use std::time::{Duration, Instant};
pub use timeout::{Elapsed, Timeout, timeout, timeout_at};

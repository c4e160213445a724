//! `interval`: periodic ticks.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant as StdInstant};

use super::Instant;

use super::sleep::Sleep;

/// What an [`Interval`] does when ticks were missed (the task was busy for
/// longer than one period). Set it with
/// [`Interval::set_missed_tick_behavior`].
///
/// [`Interval::tick`] returns each tick's *scheduled* instant, so the
/// schedules can be compared exactly. Here the task is busy for three and
/// a half periods after the first tick:
///
/// ```
/// use std::time::Duration;
/// use windlass::time::{MissedTickBehavior, interval};
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     let period = Duration::from_millis(10);
///     for behavior in [MissedTickBehavior::Burst, MissedTickBehavior::Skip] {
///         let mut ticks = interval(period);
///         ticks.set_missed_tick_behavior(behavior);
///         let start = ticks.tick().await;
///         std::thread::sleep(period * 7 / 2); // busy: misses 3 ticks
///         let late = [ticks.tick().await, ticks.tick().await];
///         if behavior == MissedTickBehavior::Burst {
///             // Every missed tick is delivered, on the original schedule.
///             assert_eq!(late, [start + period, start + period * 2]);
///         } else {
///             // One late tick, then on to the next multiple after now.
///             assert_eq!(late[0], start + period);
///             assert!(late[1] >= start + period * 4);
///             assert_eq!((late[1] - start).as_nanos() % period.as_nanos(), 0);
///         }
///     }
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissedTickBehavior {
    /// Fire the missed ticks back to back until caught up (the default).
    #[default]
    Burst,
    /// Fire once now, and continue one period after *now*.
    Delay,
    /// Fire once now, and continue on the original schedule, skipping the
    /// missed ticks.
    Skip,
}

/// Ticks every `period`, the first tick at once. Panics if `period` is zero.
///
/// ```
/// use std::time::Duration;
/// use futures_lite::StreamExt;
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     let mut ticks = windlass::time::interval(Duration::from_millis(2));
///     let first = ticks.tick().await;
///     let second = ticks.tick().await;
///     assert!(second - first >= Duration::from_millis(2));
///     // Also a Stream:
///     let three: Vec<_> = ticks.take(3).collect().await;
///     assert_eq!(three.len(), 3);
/// });
/// ```
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// Ticks every `period`, the first tick at `start`. Panics if `period` is
/// zero.
///
/// ```
/// use std::time::{Duration, Instant};
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     let start = Instant::now() + Duration::from_millis(10);
///     let mut ticks = windlass::time::interval_at(start, Duration::from_millis(5));
///     assert_eq!(ticks.tick().await, start); // not at once: at `start`
///     assert!(Instant::now() >= start);
///     assert_eq!(ticks.tick().await, start + Duration::from_millis(5));
/// });
/// ```
#[track_caller]
pub fn interval_at(start: impl Into<Instant>, period: Duration) -> Interval {
    let start = start.into().into_std();
    assert!(
        !period.is_zero(),
        "windlass::time::interval: the period must be greater than zero"
    );
    Interval {
        sleep: Sleep::new(Some(start)),
        next: start,
        period,
        missed: MissedTickBehavior::Burst,
    }
}

/// The ticks of [`interval`] and [`interval_at`]: call
/// [`tick`](Self::tick), or use it as a `Stream<Item = Instant>`.
///
/// Unlike a `sleep(period)` after each step, the schedule does not drift by
/// the time each step takes:
///
/// ```
/// use std::time::Duration;
///
/// windlass::Runtime::new().unwrap().block_on(async {
///     let period = Duration::from_millis(10);
///     let mut ticks = windlass::time::interval(period);
///     let first = ticks.tick().await;
///     for k in 1..=3 {
///         std::thread::sleep(Duration::from_millis(3)); // the step's own work
///         // Ticks at 10, 20, 30 ms: the 3 ms steps did not push them back.
///         assert_eq!(ticks.tick().await - first, period * k);
///     }
///     assert!(first.elapsed() >= period * 3);
/// });
/// ```
pub struct Interval {
    sleep: Sleep,
    /// The scheduled time of the next tick.
    next: StdInstant,
    period: Duration,
    missed: MissedTickBehavior,
}

impl Interval {
    /// Waits for the next tick; returns its scheduled instant (which may
    /// be earlier than now, if the tick is late).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let period = Duration::from_millis(2);
    ///     let mut ticks = windlass::time::interval(period);
    ///     let first = ticks.tick().await; // at once
    ///     let mut last = first;
    ///     for _ in 0..3 {
    ///         last = ticks.tick().await;
    ///     }
    ///     assert_eq!(last - first, period * 3);
    /// });
    /// ```
    pub async fn tick(&mut self) -> Instant {
        std::future::poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick: the building block for futures and streams
    /// written by hand. Keeps the last caller's waker only.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let mut ticks = windlass::time::interval(Duration::from_millis(2));
    ///     let first = std::future::poll_fn(|cx| ticks.poll_tick(cx)).await;
    ///     let second = std::future::poll_fn(|cx| ticks.poll_tick(cx)).await;
    ///     assert_eq!(second - first, Duration::from_millis(2));
    /// });
    /// ```
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        std::task::ready!(Pin::new(&mut self.sleep).poll(cx));
        let scheduled = self.next;
        let now = self.sleep.now();
        let next = scheduled.checked_add(self.period);
        self.next = match (self.missed, next) {
            (_, None) => far_future(now),
            (MissedTickBehavior::Burst, Some(n)) => n,
            (_, Some(n)) if n > now => n,
            (MissedTickBehavior::Delay, Some(_)) => now
                .checked_add(self.period)
                .unwrap_or_else(|| far_future(now)),
            (MissedTickBehavior::Skip, Some(n)) => {
                // The first multiple of the period after now.
                let behind = now.duration_since(n).as_nanos() / self.period.as_nanos() + 1;
                let skip = self
                    .period
                    .checked_mul(behind.try_into().unwrap_or(u32::MAX));
                skip.and_then(|s| n.checked_add(s))
                    .unwrap_or_else(|| far_future(now))
            }
        };
        self.sleep.reset(self.next);
        Poll::Ready(Instant::from(scheduled))
    }

    /// Sets how missed ticks are handled (default
    /// [`Burst`](MissedTickBehavior::Burst)); see [`MissedTickBehavior`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use windlass::time::MissedTickBehavior;
    ///
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let period = Duration::from_millis(10);
    ///     let mut ticks = windlass::time::interval(period);
    ///     ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    ///     let start = ticks.tick().await;
    ///     std::thread::sleep(period * 5 / 2); // busy: misses 2 ticks
    ///     assert_eq!(ticks.tick().await, start + period); // late, at once
    ///     // The schedule restarts one period after that late tick.
    ///     assert!(ticks.tick().await >= start + period * 5 / 2 + period);
    /// });
    /// ```
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed = behavior;
    }

    /// The period, as given to [`interval`] or [`interval_at`].
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let ticks = windlass::time::interval(Duration::from_millis(250));
    ///     assert_eq!(ticks.period(), Duration::from_millis(250));
    /// });
    /// ```
    pub fn period(&self) -> Duration {
        self.period
    }

    /// Restarts the schedule: the next tick is one period from now.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// windlass::Runtime::new().unwrap().block_on(async {
    ///     let period = Duration::from_millis(10);
    ///     let mut ticks = windlass::time::interval(period);
    ///     ticks.tick().await;
    ///     let reset_at = Instant::now();
    ///     ticks.reset();
    ///     assert!(ticks.tick().await >= reset_at + period);
    /// });
    /// ```
    pub fn reset(&mut self) {
        let now = self.sleep.now();
        self.next = now
            .checked_add(self.period)
            .unwrap_or_else(|| far_future(now));
        self.sleep.reset(self.next);
    }
}

fn far_future(now: StdInstant) -> StdInstant {
    // About 30 years: beyond any realistic wait, and representable.
    now + Duration::from_secs(86_400 * 365 * 30)
}

use std::future::Future;

impl futures_core::Stream for Interval {
    type Item = Instant;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Instant>> {
        self.get_mut().poll_tick(cx).map(Some)
    }
}

impl fmt::Debug for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Interval")
            .field("period", &self.period)
            .field("missed", &self.missed)
            .finish()
    }
}

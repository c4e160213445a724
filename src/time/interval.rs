//! `interval`: periodic ticks.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::sleep::Sleep;

/// What an [`Interval`] does when ticks were missed (the task was busy for
/// longer than one period).
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

/// Ticks every `period`, the first tick at `start`.
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
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

/// Future stream of [`interval`]: call [`tick`](Self::tick), or use it as a
/// `Stream<Item = Instant>`.
pub struct Interval {
    sleep: Sleep,
    /// The scheduled time of the next tick.
    next: Instant,
    period: Duration,
    missed: MissedTickBehavior,
}

impl Interval {
    /// Waits for the next tick; returns its scheduled instant.
    pub async fn tick(&mut self) -> Instant {
        std::future::poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick.
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        std::task::ready!(Pin::new(&mut self.sleep).poll(cx));
        let scheduled = self.next;
        let now = Instant::now();
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
        Poll::Ready(scheduled)
    }

    /// Sets how missed ticks are handled.
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed = behavior;
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// Restarts the schedule: the next tick is one period from now.
    pub fn reset(&mut self) {
        self.next = Instant::now()
            .checked_add(self.period)
            .unwrap_or_else(|| far_future(Instant::now()));
        self.sleep.reset(self.next);
    }
}

fn far_future(now: Instant) -> Instant {
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
